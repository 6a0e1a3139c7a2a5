/* cmd_outbox.c — `canhgac outbox`: what the store's outbox (store.h "the
 * outbox") still owes each notify target, and, with --drain, a delivery of
 * it to the targets given (tools/notify.h), for targets a run no longer
 * names or that were down when it ended.
 *
 * Listing reads a snapshot (a read-only handle: a store of schema 6 or
 * before has no outbox and lists nothing). --drain opens the store as
 * triage does (it works beside a running sensor) and makes one forced pass:
 * each target's records in order until its first failure. Exit 0 done, 1 a
 * store failure, 2 bad input.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tools/cli.h"
#include "tools/notify.h"

static const char outbox_usage[] =
    "usage: canhgac outbox [-d DIR] [--json]\n"
    "       canhgac outbox [-d DIR] --drain --notify SPEC... [--notify-timeout SECONDS]\n"
    "\n"
    "The notifications of escalations and reminders that the store's outbox still\n"
    "owes its notify targets (run --notify, escalate --notify write them with each\n"
    "escalation, and delete each once its target accepted it). A line per target,\n"
    "\"TARGET: N pending\", then one per notification: its id, incident/seq, when\n"
    "the escalation was written, the failed attempts, the next try and the last\n"
    "error.\n"
    "\n"
    "options:\n"
    "  -d, --store DIR    the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --json         one JSON object per notification: target, notification_id,\n"
    "                     incident_id, history_seq, created, attempts, next_try,\n"
    "                     last_error\n"
    "      --drain        deliver what is pending to the --notify targets (each\n"
    "                     target in order until its first failure), then print\n"
    "                     \"notify: N sent, M pending, K failed attempts\"\n"
    "      --notify SPEC  a target (repeatable): file:PATH, exec:CMD, syslog\n"
    "      --notify-timeout SECONDS  an exec target's time to exit (default 10)\n"
    "  -h, --help         this help\n"
    "\n"
    "example:\n"
    "  canhgac outbox -d /var/lib/canhgac\n"
    "  canhgac outbox -d /var/lib/canhgac --drain --notify 'exec:/usr/local/bin/page-oncall'\n"
    "\n"
    "exit codes: 0 done (also with failed attempts: they stay pending); 1 failed\n"
    "while running (store full, disk error); 2 bad input (usage, a bad --notify,\n"
    "a store that cannot be opened)\n";

struct lister {
    cg_store *st;
    int json;
    char origin[64];
    uint64_t target; /* of the lines printed last */
    uint64_t n;
};

struct counter {
    uint64_t target;
    const char *spec;
    uint64_t n;
};

static int count_cb(const cg_outbox_entry *e, void *arg)
{
    struct counter *c = arg;
    if (e->target != c->target || strcmp(e->spec, c->spec))
        return 1;
    c->n++;
    return 0;
}

static void time_or_dash(uint64_t us, char *out, size_t len)
{
    if (us)
        cg_cli_time_str(us, out, len);
    else
        snprintf(out, len, "-");
}

static int list_cb(const cg_outbox_entry *e, void *arg)
{
    struct lister *l = arg;
    char created[40], next[40], last[40];

    l->n++;
    time_or_dash(e->created_us, created, sizeof created);
    time_or_dash(e->next_us, next, sizeof next);
    time_or_dash(e->last_us, last, sizeof last);
    if (l->json) {
        fputs("{\"target\":", stdout);
        cg_cli_json_str(stdout, e->spec);
        printf(",\"notification_id\":\"%s-%llu-%llu\",\"incident_id\":%llu,\"history_seq\":%llu,"
               "\"created\":\"%s\",\"attempts\":%u,\"next_try\":\"%s\",\"last_try\":\"%s\","
               "\"last_error\":",
               l->origin, (unsigned long long)e->incident, (unsigned long long)e->seq,
               (unsigned long long)e->incident, (unsigned long long)e->seq, created, e->attempts,
               next, last);
        cg_cli_json_str(stdout, e->error);
        fputs("}\n", stdout);
        return 0;
    }
    if (l->n == 1 || e->target != l->target) {
        struct counter c = { e->target, e->spec, 0 };
        (void)cg_store_outbox_list(l->st, e->target, count_cb, &c);
        printf("%s: %llu pending\n", e->spec, (unsigned long long)c.n);
        l->target = e->target;
    }
    printf("  %s-%llu-%llu  %llu/%llu  %s  attempts %u  next %s%s%s\n", l->origin,
           (unsigned long long)e->incident, (unsigned long long)e->seq,
           (unsigned long long)e->incident, (unsigned long long)e->seq, created, e->attempts, next,
           e->error[0] ? "  " : "", e->error);
    return 0;
}

int cg_cmd_outbox(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "store", required_argument, 0, 'd' },
        { "json", no_argument, 0, 'j' },
        { "drain", no_argument, 0, 'D' },
        { "notify", required_argument, 0, 'N' },
        { "notify-timeout", required_argument, 0, 'T' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *dir = cg_cli_default_store();
    const char *specs[CG_OUTBOX_TARGETS_MAX];
    size_t nspecs = 0;
    uint32_t timeout_s = 10;
    int json = 0, drain = 0, c, rc, ret = CG_EXIT_OK;
    char err[1200];
    cg_store *st = NULL;
    cg_store_head h;
    struct lister l;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'j': json = 1; break;
        case 'D': drain = 1; break;
        case 'N':
            if (cg_notify_spec_check(optarg, err, sizeof err)) {
                fprintf(stderr, "canhgac outbox: %s\n", err);
                return CG_EXIT_INPUT;
            }
            if (nspecs == CG_OUTBOX_TARGETS_MAX) {
                fprintf(stderr, "canhgac outbox: --notify: at most %d targets\n",
                        CG_OUTBOX_TARGETS_MAX);
                return CG_EXIT_INPUT;
            }
            specs[nspecs++] = optarg;
            break;
        case 'T':
            if (cg_notify_timeout_parse(optarg, &timeout_s)) {
                fprintf(stderr,
                        "canhgac outbox: --notify-timeout: seconds from 1 to 3600, not %s\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'h': fputs(outbox_usage, stdout); return CG_EXIT_OK;
        default: fputs(outbox_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "canhgac outbox: unexpected argument: %s\n", argv[optind]);
        return CG_EXIT_INPUT;
    }
    if (drain != (nspecs > 0)) {
        fprintf(stderr, "canhgac outbox: %s\n",
                drain ? "--drain: which targets? (--notify SPEC)"
                      : "--notify: only with --drain (run and escalate take it too)");
        return CG_EXIT_INPUT;
    }
    if (cg_store_open(&st, dir, drain ? CG_STORE_TRIAGE : CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac outbox: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    if (drain) {
        cg_notify *nf = NULL;
        cg_notify_stats ns;
        cg_cli_migrated_notice("canhgac outbox", dir, st);
        if (cg_notify_create(&nf, st, specs, nspecs, timeout_s, err, sizeof err)) {
            fprintf(stderr, "canhgac outbox: %s\n", err);
            cg_store_close(st);
            return CG_EXIT_INPUT;
        }
        if ((rc = cg_notify_drain(nf, 1, 0)) != 0) {
            fprintf(stderr, "canhgac outbox: %s\n", cg_store_error(st));
            ret = rc == CG_ECORRUPT ? CG_EXIT_INPUT : CG_EXIT_FAIL;
        }
        cg_notify_stats_get(nf, &ns);
        printf("notify: %llu sent, %llu pending, %llu failed attempts\n",
               (unsigned long long)ns.sent, (unsigned long long)ns.pending,
               (unsigned long long)ns.failed);
        cg_notify_destroy(nf);
        cg_store_close(st);
        return ret;
    }
    memset(&l, 0, sizeof l);
    l.json = json;
    if (cg_store_log_head(st, &h) == 0) {
        const char *slash = strrchr(h.origin, '/');
        snprintf(l.origin, sizeof l.origin, "%s", slash ? slash + 1 : h.origin);
    }
    l.st = st;
    rc = cg_store_outbox_list(st, 0, list_cb, &l);
    if (rc) {
        fprintf(stderr, "canhgac outbox: %s\n", cg_store_error(st));
        ret = rc == CG_ECORRUPT ? CG_EXIT_INPUT : CG_EXIT_FAIL;
    } else if (!json && l.n == 0) {
        printf("nothing pending\n");
    }
    cg_store_close(st);
    return ret;
}
