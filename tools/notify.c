/* notify.c — the outbox's deliverer (notify.h): targets, the notification's
 * JSON, the passes, and the thread `run` drains with.
 *
 * Invariants:
 *  1. A record is marked sent (cg_store_outbox_done) only after its target
 *     accepted it: a file's lines written and fsync'ed, an exec target's
 *     exit 0, syslog(3) returned. So at least once; a kill between the two
 *     sends it again with the same notification_id.
 *  2. Per target, records go in key order and a target stops at its first
 *     failure or at a record whose next try has not come (unless forced):
 *     a down target is not hammered, and its pages keep their order.
 *  3. An exec target runs at most timeout_s: then its process group is
 *     killed. Nothing here runs on the sensor's threads: a target that
 *     hangs holds only this deliverer.
 *  4. The JSON is built from the history entry (immutable) and the incident
 *     as it is at delivery (its count may have grown since).
 */
#include "tools/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/lang/rule.h"
#include "tools/cli.h"

extern char **environ;

#define BATCH 256            /* records read per round of a target */
#define BACKOFF_MAX_S 300    /* the longest wait between two tries */
#define EXEC_POLL_NS 5000000 /* how often a running exec target is looked at */

enum { T_FILE = 1, T_EXEC, T_SYSLOG };

struct target {
    int kind;
    const char *spec; /* as given */
    const char *arg;  /* the path or the command (in spec) */
    uint64_t key;
};

struct cg_notify {
    cg_store *st;
    struct target t[CG_OUTBOX_TARGETS_MAX];
    size_t n;
    uint32_t timeout_s;
    char origin[64];
    pthread_mutex_t mu; /* stop, and the counters */
    pthread_cond_t cv;
    int stop, running;
    unsigned period_ms;
    pthread_t th;
    uint64_t sent, failed;
    uint64_t pending; /* as counted after the thread's last pass */
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cg_notify_spec_check(const char *spec, char *err, size_t len)
{
    if (spec && !strncmp(spec, "file:", 5) && spec[5])
        return 0;
    if (spec && !strncmp(spec, "exec:", 5) && spec[5])
        return 0;
    if (spec && !strcmp(spec, "syslog"))
        return 0;
    if (spec && (!strcmp(spec, "file:") || !strcmp(spec, "exec:")))
        snprintf(err, len, "--notify: '%s': the %s is missing", spec,
                 spec[0] == 'f' ? "file's path" : "command");
    else if (spec && strlen(spec) > CG_OUTBOX_SPEC_MAX)
        snprintf(err, len, "--notify: a target of more than %d bytes", CG_OUTBOX_SPEC_MAX);
    else
        snprintf(err, len, "--notify: '%s': not a target (file:PATH, exec:CMD, syslog)",
                 spec ? spec : "");
    return -1;
}

int cg_notify_timeout_parse(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v < 1 || v > 3600)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int cg_notify_create(cg_notify **out, cg_store *st, const char *const *specs, size_t n,
                     uint32_t timeout_s, char *err, size_t len)
{
    cg_notify *nf;
    cg_store_head h;

    if (n == 0 || n > CG_OUTBOX_TARGETS_MAX) {
        snprintf(err, len, "--notify: 1 to %d targets", CG_OUTBOX_TARGETS_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (cg_notify_spec_check(specs[i], err, len))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(specs[i], specs[j])) {
                snprintf(err, len, "--notify: '%s' given twice", specs[i]);
                return -1;
            }
    }
    if (cg_store_log_head(st, &h)) {
        snprintf(err, len, "%s", cg_store_error(st));
        return -1;
    }
    if (!(nf = calloc(1, sizeof *nf))) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    nf->st = st;
    nf->n = n;
    nf->timeout_s = timeout_s ? timeout_s : 10;
    /* "canhgac.store/" and 32 hex digits: the digits name the store */
    const char *slash = strrchr(h.origin, '/');
    snprintf(nf->origin, sizeof nf->origin, "%s", slash ? slash + 1 : h.origin);
    for (size_t i = 0; i < n; i++) {
        struct target *t = &nf->t[i];
        t->spec = specs[i];
        t->key = cg_store_outbox_key(specs[i]);
        if (!strncmp(specs[i], "file:", 5))
            t->kind = T_FILE, t->arg = specs[i] + 5;
        else if (!strncmp(specs[i], "exec:", 5))
            t->kind = T_EXEC, t->arg = specs[i] + 5;
        else
            t->kind = T_SYSLOG, t->arg = "";
    }
    pthread_mutex_init(&nf->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&nf->cv, &ca);
    pthread_condattr_destroy(&ca);
    signal(SIGPIPE, SIG_IGN);
    *out = nf;
    return 0;
}

void cg_notify_destroy(cg_notify *nf)
{
    if (!nf)
        return;
    if (nf->running)
        cg_notify_stop(nf, 0);
    pthread_cond_destroy(&nf->cv);
    pthread_mutex_destroy(&nf->mu);
    free(nf);
}

/* ---- the JSON ------------------------------------------------------------ */

struct hist_find {
    uint64_t seq;
    int found;
    cg_history h;
    char who[CG_STORE_TEXT_MAX + 1];
    char why[1100];
};

static int find_hist(const cg_history *h, void *arg)
{
    struct hist_find *f = arg;
    if (h->seq != f->seq)
        return 0;
    f->found = 1;
    f->h = *h;
    snprintf(f->who, sizeof f->who, "%s", h->who);
    snprintf(f->why, sizeof f->why, "%s", h->new_text);
    return 1;
}

struct build {
    const char *origin;
    const struct hist_find *hf;
    FILE *f;
    char *summary;
};

static void layers_json(FILE *f, unsigned layers)
{
    int first = 1;
    fputc('[', f);
    for (int l = 1; l <= 4; l++)
        if (layers & CG_LAYER(l)) {
            fprintf(f, first ? "%d" : ",%d", l);
            first = 0;
        }
    fputc(']', f);
}

static int build_cb(const cg_incident *inc, void *arg)
{
    struct build *b = arg;
    const cg_history *h = &b->hf->h;
    char when[40], sa[64], da[64], lb[16], la[16];
    const char *kind = h->old_num == h->new_num ? "reminder" : "escalation";
    FILE *f = b->f;

    cg_cli_time_str(h->when_us, when, sizeof when);
    cg_cli_addr(inc->src, sa, sizeof sa);
    cg_cli_addr(inc->dst, da, sizeof da);
    fprintf(f,
            "{\"notification_id\":\"%s-%llu-%llu\",\"kind\":\"%s\",\"timestamp\":\"%s\","
            "\"incident_id\":%llu,\"history_seq\":%llu,\"layers_before\":",
            b->origin, (unsigned long long)inc->id, (unsigned long long)h->seq, kind, when,
            (unsigned long long)inc->id, (unsigned long long)h->seq);
    layers_json(f, h->old_num);
    fputs(",\"layers_after\":", f);
    layers_json(f, h->new_num);
    fputs(",\"cause\":", f);
    cg_cli_json_str(f, b->hf->why);
    fputs(",\"by\":", f);
    cg_cli_json_str(f, b->hf->who);
    fprintf(f, ",\"severity\":%u,\"severity_name\":\"%s\",\"signature_id\":%u,\"signature\":",
            inc->severity, cg_severity_name(inc->severity), inc->sid);
    cg_cli_json_str(f, inc->msg);
    fprintf(f, ",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":%u", sa,
            inc->sport, da, inc->dport);
    fputs(",\"src_country\":", f);
    cg_cli_json_str(f, inc->src_geo.country);
    fputs(",\"dest_country\":", f);
    cg_cli_json_str(f, inc->dst_geo.country);
    fputs(",\"dest_agency\":", f);
    cg_cli_json_str(f, inc->dst_geo.agency);
    fputs(",\"dest_zone\":", f);
    cg_cli_json_str(f, inc->dst_geo.zone);
    fputs(",\"incident\":", f);
    cg_cli_incident_json(f, inc);
    fputc('}', f);

    cg_cli_layers(h->old_num, lb, sizeof lb);
    cg_cli_layers(h->new_num, la, sizeof la);
    if (asprintf(&b->summary,
                 "%s-%llu-%llu: incident %llu (sid %u, %s): %s%s%s -> %s (%s) %s:%u -> %s:%u %s",
                 b->origin, (unsigned long long)inc->id, (unsigned long long)h->seq,
                 (unsigned long long)inc->id, inc->sid, cg_severity_name(inc->severity),
                 h->old_num == h->new_num ? "reminder, " : "", "layers ", lb, la, b->hf->why, sa,
                 inc->sport, da, inc->dport, inc->msg) < 0)
        b->summary = NULL;
    return 0;
}

int cg_notify_json(cg_store *st, const char *origin_hex, uint64_t incident, uint64_t seq,
                   char **out, char **summary)
{
    struct hist_find hf;
    struct build b;
    char *buf = NULL;
    size_t blen = 0;
    int rc;

    memset(&hf, 0, sizeof hf);
    hf.seq = seq;
    rc = cg_store_history(st, incident, find_hist, &hf);
    if (rc)
        return rc;
    if (!hf.found || hf.h.kind != CG_HIST_ESCALATE)
        return CG_ENOTFOUND;
    b = (struct build){ .origin = origin_hex, .hf = &hf };
    if (!(b.f = open_memstream(&buf, &blen)))
        return CG_ENOMEM;
    rc = cg_store_get(st, incident, build_cb, &b);
    if (fclose(b.f) != 0 && !rc)
        rc = CG_ENOMEM;
    if (!rc && !b.summary)
        rc = CG_ENOMEM;
    if (rc) {
        free(buf);
        free(b.summary);
        return rc;
    }
    *out = buf;
    if (summary)
        *summary = b.summary;
    else
        free(b.summary);
    return 0;
}

/* ---- targets ------------------------------------------------------------- */

/* Writes all n bytes of p to fd before deadline; 0 or -1 (errno). */
static int write_all(int fd, const char *p, size_t n, double deadline)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w, n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            double left = deadline - mono();
            struct pollfd pf = { fd, POLLOUT, 0 };
            if (left <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            poll(&pf, 1, (int)(left * 1000) + 1);
            continue;
        }
        return -1;
    }
    return 0;
}

static int run_file(const struct target *t, const char *data, size_t n, char *err, size_t len)
{
    int fd = open(t->arg, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0) {
        snprintf(err, len, "file: %s: %s", t->arg, strerror(errno));
        return -1;
    }
    if (write_all(fd, data, n, mono() + 3600) || fsync(fd)) {
        snprintf(err, len, "file: %s: %s", t->arg, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd)) {
        snprintf(err, len, "file: %s: %s", t->arg, strerror(errno));
        return -1;
    }
    return 0;
}

static int run_exec(const struct target *t, uint32_t timeout_s, const char *json, char *err,
                    size_t len)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, def;
    int fds[2], status = 0, rc;
    pid_t pid;
    double deadline = mono() + timeout_s;
    char *argv[] = { "sh", "-c", (char *)t->arg, NULL };
    char *line = NULL;

    if (pipe2(fds, O_CLOEXEC)) {
        snprintf(err, len, "exec: pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at,
                             POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                 POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[0]);
    if (rc) {
        close(fds[1]);
        snprintf(err, len, "exec: /bin/sh: %s", strerror(rc));
        return -1;
    }
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    if (asprintf(&line, "%s\n", json) >= 0) {
        /* a target that does not read its stdin is its business: what
         * decides is its exit status */
        (void)write_all(fds[1], line, strlen(line), deadline);
        free(line);
    }
    close(fds[1]);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            snprintf(err, len, "exec: waitpid: %s", strerror(errno));
            return -1;
        }
        if (mono() >= deadline) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            snprintf(err, len, "exec: no exit after %u s: killed", timeout_s);
            return -1;
        }
        struct timespec ts = { 0, EXEC_POLL_NS };
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(err, len, "exec: exit status %d", WEXITSTATUS(status));
    else
        snprintf(err, len, "exec: killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return -1;
}

/* ---- passes -------------------------------------------------------------- */

struct collect {
    const struct target *t;
    uint64_t now_us;
    int force;
    cg_outbox_ref v[BATCH];
    uint32_t att[BATCH]; /* their attempts so far */
    size_t n;
    int more; /* stopped at BATCH with records left */
};

static int collect_cb(const cg_outbox_entry *e, void *arg)
{
    struct collect *c = arg;
    if (strcmp(e->spec, c->t->spec))
        return 0; /* another spec of the same key: not ours */
    if (!c->force && e->next_us > c->now_us)
        return 1; /* the head waits: so do the rest (invariant 2) */
    if (c->n == BATCH) {
        c->more = 1;
        return 1;
    }
    c->att[c->n] = e->attempts;
    c->v[c->n++] = (cg_outbox_ref){ e->target, e->incident, e->seq };
    return 0;
}

static uint64_t backoff_us(uint32_t attempts)
{
    uint64_t s = (uint64_t)1 << (attempts > 9 ? 9 : attempts);
    return (s > BACKOFF_MAX_S ? BACKOFF_MAX_S : s) * 1000000ull;
}

/* A failed delivery of r (attempts failed before): counted, and written
 * back with its next try. */
static int fail_one(cg_notify *nf, const cg_outbox_ref *r, uint32_t attempts, const char *why)
{
    uint64_t now = cg_cli_now_us();

    pthread_mutex_lock(&nf->mu);
    nf->failed++;
    pthread_mutex_unlock(&nf->mu);
    return cg_store_outbox_failed(nf->st, r, now, now + backoff_us(attempts), why);
}

static void count_sent(cg_notify *nf, size_t n)
{
    pthread_mutex_lock(&nf->mu);
    nf->sent += n;
    pthread_mutex_unlock(&nf->mu);
}

/* One target's pass. 0, or a store code. */
static int drain_target(cg_notify *nf, const struct target *t, int force, double deadline)
{
    struct collect *c = malloc(sizeof *c);
    char err[CG_OUTBOX_ERROR_MAX];
    int rc = 0, stop = 0;
    size_t sent;

    if (!c)
        return CG_ENOMEM;
    do {
        c->t = t;
        c->now_us = cg_cli_now_us();
        c->force = force;
        c->n = 0;
        c->more = 0;
        sent = 0;
        if ((rc = cg_store_outbox_list(nf->st, t->key, collect_cb, c)) != 0)
            break;
        if (t->kind == T_FILE || t->kind == T_SYSLOG) {
            /* file: the batch's lines in one write and one fsync */
            char *buf = NULL;
            size_t blen = 0, ok = 0;
            FILE *m = open_memstream(&buf, &blen);
            if (!m) {
                rc = CG_ENOMEM;
                break;
            }
            for (size_t i = 0; i < c->n && !rc; i++) {
                char *js = NULL, *sum = NULL;
                int jr =
                    cg_notify_json(nf->st, nf->origin, c->v[i].incident, c->v[i].seq, &js, &sum);
                if (jr == CG_ENOTFOUND) {
                    rc = fail_one(nf, &c->v[i], c->att[i],
                                  "its incident or history entry is missing");
                    continue;
                }
                if (jr) {
                    rc = jr;
                    break;
                }
                if (t->kind == T_SYSLOG)
                    syslog(LOG_AUTHPRIV | LOG_ALERT, "canhgac: %s", sum);
                else
                    fprintf(m, "%s\n", js);
                c->att[ok] = c->att[i];
                c->v[ok++] = c->v[i];
                free(js);
                free(sum);
            }
            if (fclose(m) && !rc)
                rc = CG_ENOMEM;
            if (!rc && ok && t->kind == T_FILE && run_file(t, buf, blen, err, sizeof err)) {
                rc = fail_one(nf, &c->v[0], c->att[0], err);
                stop = 1;
                ok = 0;
            }
            free(buf);
            if (!rc && ok) {
                rc = cg_store_outbox_done(nf->st, c->v, ok, NULL);
                if (!rc)
                    count_sent(nf, ok), sent += ok;
            }
        } else {
            for (size_t i = 0; i < c->n && !rc && !stop; i++) {
                char *js = NULL;
                int jr;
                if (deadline > 0 && mono() >= deadline) {
                    stop = 1;
                    break;
                }
                jr = cg_notify_json(nf->st, nf->origin, c->v[i].incident, c->v[i].seq, &js, NULL);
                if (jr == CG_ENOTFOUND) {
                    rc = fail_one(nf, &c->v[i], c->att[i],
                                  "its incident or history entry is missing");
                    continue;
                }
                if (jr) {
                    rc = jr;
                    break;
                }
                if (run_exec(t, nf->timeout_s, js, err, sizeof err)) {
                    rc = fail_one(nf, &c->v[i], c->att[i], err);
                    stop = 1;
                } else if ((rc = cg_store_outbox_done(nf->st, &c->v[i], 1, NULL)) == 0) {
                    count_sent(nf, 1);
                    sent++;
                }
                free(js);
            }
        }
        if (deadline > 0 && mono() >= deadline)
            stop = 1;
        /* a forced pass tries the head once: after a failure, stop; and a
         * round that sent nothing (records that cannot be built) would read
         * the same records again */
    } while (!rc && !stop && c->more && sent > 0);
    free(c);
    return rc;
}

int cg_notify_drain(cg_notify *nf, int force, double deadline)
{
    int rc = 0;

    for (size_t i = 0; i < nf->n; i++) {
        int r;
        if (deadline > 0 && mono() >= deadline)
            break;
        r = drain_target(nf, &nf->t[i], force, deadline);
        if (r && !rc)
            rc = r;
    }
    return rc;
}

/* ---- the thread ---------------------------------------------------------- */

/* A pass every period, the first after one period (what a run commits in
 * its first second is sent by the next, or by stop's last pass). */
static void *drainer(void *arg)
{
    cg_notify *nf = arg;

    pthread_mutex_lock(&nf->mu);
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += nf->period_ms / 1000;
        ts.tv_nsec += (long)(nf->period_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        while (!nf->stop && pthread_cond_timedwait(&nf->cv, &nf->mu, &ts) == 0)
            ;
        if (nf->stop)
            break;
        pthread_mutex_unlock(&nf->mu);
        cg_notify_stats st;
        if (cg_notify_drain(nf, 0, 0))
            fprintf(stderr, "canhgac: notify: %s\n", cg_store_error(nf->st));
        cg_notify_stats_get(nf, &st); /* counts pending */
        pthread_mutex_lock(&nf->mu);
    }
    pthread_mutex_unlock(&nf->mu);
    return NULL;
}

int cg_notify_start(cg_notify *nf, unsigned period_ms)
{
    nf->period_ms = period_ms ? period_ms : 1000;
    nf->stop = 0;
    if (pthread_create(&nf->th, NULL, drainer, nf))
        return -1;
    nf->running = 1;
    return 0;
}

void cg_notify_stop(cg_notify *nf, double final_s)
{
    if (!nf->running)
        return;
    pthread_mutex_lock(&nf->mu);
    nf->stop = 1;
    pthread_cond_signal(&nf->cv);
    pthread_mutex_unlock(&nf->mu);
    pthread_join(nf->th, NULL);
    nf->running = 0;
    if (final_s > 0 && cg_notify_drain(nf, 1, mono() + final_s))
        fprintf(stderr, "canhgac: notify: %s\n", cg_store_error(nf->st));
}

struct pend {
    const char *spec;
    uint64_t n;
};

static int pend_cb(const cg_outbox_entry *e, void *arg)
{
    struct pend *p = arg;
    p->n += !strcmp(e->spec, p->spec);
    return 0;
}

void cg_notify_stats_get(cg_notify *nf, cg_notify_stats *out)
{
    uint64_t pending = 0;

    for (size_t i = 0; i < nf->n; i++) {
        struct pend p = { nf->t[i].spec, 0 };
        if (cg_store_outbox_list(nf->st, nf->t[i].key, pend_cb, &p) == 0)
            pending += p.n;
    }
    pthread_mutex_lock(&nf->mu);
    nf->pending = pending;
    out->sent = nf->sent;
    out->failed = nf->failed;
    pthread_mutex_unlock(&nf->mu);
    out->pending = pending;
}

void cg_notify_counters(cg_notify *nf, cg_notify_stats *out)
{
    pthread_mutex_lock(&nf->mu);
    out->sent = nf->sent;
    out->failed = nf->failed;
    out->pending = nf->pending;
    pthread_mutex_unlock(&nf->mu);
}
