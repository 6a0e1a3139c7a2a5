/* cmd_escalate.c — `canhgac escalate`: the layer policy's time pass over a
 * store (analyzer/output/policy.h, cg_policy_pass), for a store that no
 * sensor writes (`run --policy` makes the same pass every minute), or from
 * cron beside one. With no sensor it takes the store's writer handle and
 * writes in transactions of PASS_CHUNK entries; while a sensor holds it, it
 * opens the store as triage does, each escalation a short transaction of
 * its own (a synchronous commit each: slower over a large backlog).
 *
 * --now TIME is the clock the pass reads (tests give a fixed one; the
 * history's entries are dated by it). Exit 0 done, 1 a store failure, 2 bad
 * input (usage, a policy with an error, a store that cannot be opened).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/output/policy.h"
#include "store/qlang.h"
#include "tools/cli.h"
#include "tools/notify.h"

#define PASS_CHUNK 10000 /* history entries per transaction on a writer handle */

static const char escalate_usage[] =
    "usage: canhgac escalate [-d DIR] [--policy FILE] [--now TIME] [--json]\n"
    "                        [--notify SPEC]... [--notify-timeout SECONDS]\n"
    "\n"
    "The layer policy's time pass: every incident of the store whose status is\n"
    "new gets what the policy owes it by now: the layers its clause gives at\n"
    "once, and each step whose time has come (counted from its first alert:\n"
    "\"after 15m layer 3\", \"after 15m remind\"). Each escalation is appended to\n"
    "the incident's history (by \"policy\") with its cause, the clause's file and\n"
    "line (\"layers.conf:12: after 15m\"); a reminder is written once. Triage\n"
    "that acknowledges an incident stops its clock. `canhgac run --policy`\n"
    "makes the same pass every minute; this is for a store no sensor writes, or\n"
    "for cron beside one (it works while a sensor writes, one transaction per\n"
    "escalation then, where alone it writes 10,000 at a time).\n"
    "\n"
    "options:\n"
    "  -d, --store DIR    the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "  -p, --policy FILE  the layer policy (default $CANHGAC_POLICY, else\n"
    "                     rules/layers.conf)\n"
    "      --now TIME     the pass's clock instead of the system's: 2026-12-07T08:00:00\n"
    "                     (UTC), 2026-12-07, @EPOCH, or a duration back from now (2h)\n"
    "      --json         one JSON object: {\"open\",\"escalated\",\"reminders\",\"entries\"}\n"
    "                     (with --notify also \"notify_sent\",\"notify_pending\",\n"
    "                     \"notify_failed\")\n"
    "      --notify SPEC  a notify target (repeatable, up to 8): file:PATH (a JSON\n"
    "                     line each, fsync'ed), exec:CMD (sh -c CMD, the JSON on its\n"
    "                     stdin, exit 0 = sent), syslog. Each escalation and\n"
    "                     reminder of the pass is put in the store's outbox with\n"
    "                     its history entry, then the outbox is drained to these\n"
    "                     targets (also what earlier runs left pending); README\n"
    "                     \"Notification\"\n"
    "      --notify-timeout SECONDS  an exec target's time to exit (default 10)\n"
    "  -h, --help         this help\n"
    "\n"
    "output: one line, \"N new incidents: E escalated, R reminders (H history\n"
    "entries)\"; with --notify a second, \"notify: N sent, M pending, K failed\n"
    "attempts\"\n"
    "\n"
    "exit codes: 0 done; 1 failed while running (store full, disk error); 2 bad\n"
    "input (usage, a policy with an error, a store that cannot be opened)\n";

int cg_cmd_escalate(int argc, char **argv)
{
    static const struct option lopts[] = { { "store", required_argument, 0, 'd' },
                                           { "policy", required_argument, 0, 'p' },
                                           { "now", required_argument, 0, 'n' },
                                           { "json", no_argument, 0, 'j' },
                                           { "help", no_argument, 0, 'h' },
                                           { "notify", required_argument, 0, 'N' },
                                           { "notify-timeout", required_argument, 0, 'T' },
                                           { 0, 0, 0, 0 } };
    const char *dir = cg_cli_default_store(), *path = getenv("CANHGAC_POLICY");
    const char *now_s = NULL;
    uint64_t now_us = cg_cli_now_us();
    int json = 0, c, ret;
    cg_policy *p = NULL;
    cg_store *st = NULL;
    cg_policy_pass_stats ps;
    const char *specs[CG_OUTBOX_TARGETS_MAX];
    size_t nspecs = 0;
    uint32_t timeout_s = 10;
    cg_notify *nf = NULL;
    cg_notify_stats ns = { 0, 0, 0 };
    char err[1200];

    if (!path || !*path)
        path = "rules/layers.conf";
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:p:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'p': path = optarg; break;
        case 'n': now_s = optarg; break;
        case 'j': json = 1; break;
        case 'N':
            if (cg_notify_spec_check(optarg, err, sizeof err)) {
                fprintf(stderr, "canhgac escalate: %s\n", err);
                return CG_EXIT_INPUT;
            }
            if (nspecs == CG_OUTBOX_TARGETS_MAX) {
                fprintf(stderr, "canhgac escalate: --notify: at most %d targets\n",
                        CG_OUTBOX_TARGETS_MAX);
                return CG_EXIT_INPUT;
            }
            specs[nspecs++] = optarg;
            break;
        case 'T':
            if (cg_notify_timeout_parse(optarg, &timeout_s)) {
                fprintf(stderr,
                        "canhgac escalate: --notify-timeout: seconds from 1 to 3600, not %s\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'h': fputs(escalate_usage, stdout); return CG_EXIT_OK;
        default: fputs(escalate_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "canhgac escalate: unexpected argument: %s\n", argv[optind]);
        return CG_EXIT_INPUT;
    }
    if (now_s && (cg_qlang_time(now_s, now_us, &now_us) || now_us == 0)) {
        fprintf(stderr,
                "canhgac escalate: --now: not a time: %s (2026-12-07T08:00:00, 2026-12-07, "
                "@EPOCH, 2h)\n",
                now_s);
        return CG_EXIT_INPUT;
    }
    ret = cg_cli_policy_load("canhgac escalate: ", path, stderr, &p, NULL, NULL);
    if (ret != CG_EXIT_OK)
        return ret;
    /* A store no sensor writes is escalated in batches (a writer handle);
     * beside a running sensor, as triage: a transaction per escalation. The
     * read-only open first: a writer handle would create a missing store. */
    if (cg_store_open(&st, dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac escalate: %s\n", cg_store_error(NULL));
        cg_policy_destroy(p);
        return CG_EXIT_INPUT;
    }
    cg_store_close(st);
    st = NULL;
    int writer = 1, rc = cg_store_open(&st, dir, 0, 0);
    if (rc == CG_EBUSY) {
        writer = 0;
        rc = cg_store_open(&st, dir, CG_STORE_TRIAGE, 0);
    }
    if (rc) {
        fprintf(stderr, "canhgac escalate: %s\n", cg_store_error(NULL));
        cg_policy_destroy(p);
        return rc == CG_EFULL || rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT;
    }
    cg_cli_migrated_notice("canhgac escalate", dir, st);
    if (nspecs && cg_store_outbox_targets(st, specs, nspecs)) {
        snprintf(err, sizeof err, "%s", cg_store_error(st));
        nspecs = 0, nf = NULL, ret = CG_EXIT_INPUT;
    } else if (nspecs && cg_notify_create(&nf, st, specs, nspecs, timeout_s, err, sizeof err)) {
        ret = CG_EXIT_INPUT;
    }
    if (ret != CG_EXIT_OK) {
        fprintf(stderr, "canhgac escalate: %s\n", err);
        cg_store_close(st);
        cg_policy_destroy(p);
        return ret;
    }
    rc = writer ? cg_store_begin(st) : 0;
    if (!rc)
        rc = cg_policy_pass(p, st, now_us, writer ? PASS_CHUNK : 0, &ps);
    if (writer && !rc)
        rc = cg_store_commit(st);
    else if (writer)
        cg_store_abort(st);
    /* what the pass committed (and what earlier runs left) to the targets */
    if (!rc && nf && (rc = cg_notify_drain(nf, 1, 0)) != 0)
        fprintf(stderr, "canhgac escalate: notify: %s\n", cg_store_error(st));
    if (nf)
        cg_notify_stats_get(nf, &ns);
    if (rc) {
        fprintf(stderr, "canhgac escalate: %s\n",
                rc == CG_ENOMEM ? "out of memory" : cg_store_error(st));
        ret = rc == CG_ECORRUPT || rc == CG_ENOTFOUND ? CG_EXIT_INPUT : CG_EXIT_FAIL;
    } else if (json) {
        printf("{\"open\":%llu,\"escalated\":%llu,\"reminders\":%llu,\"entries\":%llu",
               (unsigned long long)ps.open, (unsigned long long)ps.escalated,
               (unsigned long long)ps.reminders, (unsigned long long)ps.entries);
        if (nf)
            printf(",\"notify_sent\":%llu,\"notify_pending\":%llu,\"notify_failed\":%llu",
                   (unsigned long long)ns.sent, (unsigned long long)ns.pending,
                   (unsigned long long)ns.failed);
        printf("}\n");
    } else {
        printf("%llu new incidents: %llu escalated, %llu reminders (%llu history entries)\n",
               (unsigned long long)ps.open, (unsigned long long)ps.escalated,
               (unsigned long long)ps.reminders, (unsigned long long)ps.entries);
        if (nf)
            printf("notify: %llu sent, %llu pending, %llu failed attempts\n",
                   (unsigned long long)ns.sent, (unsigned long long)ns.pending,
                   (unsigned long long)ns.failed);
    }
    cg_notify_destroy(nf);
    cg_store_close(st);
    cg_policy_destroy(p);
    return ret;
}
