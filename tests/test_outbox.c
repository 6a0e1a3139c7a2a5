/* test_outbox.c — the store's outbox (store.h "the outbox", store_outbox.c):
 *  - targets: registered on a writer or triage handle, refused on a
 *    read-only one, bad specs and too many refused;
 *  - the same transaction: an escalation's outbox records (one per target)
 *    appear with its history entry and never without it: an aborted batch
 *    leaves neither, a committed one both, a child killed (kill -9) with
 *    the batch open neither, after a commit both; an escalation that adds
 *    nothing, or a reminder already given, writes no record;
 *  - done deletes (a record gone already is no error), failed counts the
 *    attempt, the next try and the error (one line, cut to its maximum);
 *    neither adds a leaf to the log, and the log still verifies;
 *  - store check decodes outbox records and names a damaged one;
 *  - tests/data/store-v6 (schema 6, commit f8cb931): read as it is (no
 *    outbox: nothing listed), migrated by a triage handle to schema 8 (7: the outbox) with
 *    its incidents, history, case and log head kept, and the outbox added.
 */
#include "store/store.h"
#include "tests/check.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];

static const char *path(const char *name)
{
    static char buf[8][256];
    static unsigned i;
    char *p = buf[i++ % 8];
    snprintf(p, 256, "%s/%s", root, name);
    return p;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void mkinc(cg_incident *x, uint64_t id)
{
    memset(x, 0, sizeof *x);
    x->id = id;
    x->gid = 1;
    x->sid = 9100100 + (uint32_t)id;
    x->rev = 1;
    x->src[10] = x->src[11] = 0xff, x->src[12] = 203, x->src[15] = (uint8_t)id;
    x->dst[10] = x->dst[11] = 0xff, x->dst[12] = 10, x->dst[15] = 1;
    x->sport = 40000, x->dport = 443, x->proto = 6;
    x->severity = x->rule_severity = 1;
    x->layers = 0x1;
    x->first_us = x->last_us = 1000000ull * id;
    x->count = 1;
    x->msg = "test";
}

/* ---- what the outbox holds ---------------------------------------------------- */

#define MAXE 64
struct ents {
    size_t n;
    uint64_t target[MAXE], incident[MAXE], seq[MAXE], created[MAXE], next[MAXE];
    uint32_t attempts[MAXE];
    char spec[MAXE][64], error[MAXE][600];
};

static int ent_cb(const cg_outbox_entry *e, void *arg)
{
    struct ents *s = arg;
    if (s->n == MAXE)
        return 1;
    s->target[s->n] = e->target;
    s->incident[s->n] = e->incident;
    s->seq[s->n] = e->seq;
    s->created[s->n] = e->created_us;
    s->next[s->n] = e->next_us;
    s->attempts[s->n] = e->attempts;
    snprintf(s->spec[s->n], sizeof s->spec[0], "%s", e->spec);
    snprintf(s->error[s->n], sizeof s->error[0], "%s", e->error);
    s->n++;
    return 0;
}

static struct ents *list(cg_store *st, uint64_t target)
{
    static struct ents s;
    memset(&s, 0, sizeof s);
    CHECK_EQ_U(cg_store_outbox_list(st, target, ent_cb, &s), 0);
    return &s;
}

struct hcount {
    unsigned esc;
    uint64_t seqs[16];
};

static int hist_cb(const cg_history *h, void *arg)
{
    struct hcount *c = arg;
    if (h->kind == CG_HIST_ESCALATE && c->esc < 16)
        c->seqs[c->esc++] = h->seq;
    return 0;
}

static unsigned escalations(cg_store *st, uint64_t id)
{
    struct hcount c = { 0, { 0 } };
    int rc = cg_store_history(st, id, hist_cb, &c);
    return rc == 0 ? c.esc : 999;
}

static const char *const two[] = { "file:/tmp/pages.jsonl", "exec:/usr/local/bin/page-oncall" };

static void test_targets(void)
{
    cg_store *st;
    const char *const big[9] = { "syslog", "a", "b", "c", "d", "e", "f", "g", "h" };
    const char *const empty[] = { "" };

    CHECK_EQ_U(cg_store_open(&st, path("t"), 0, 0), 0);
    CHECK_EQ_U(cg_store_outbox_targets(st, two, 2), 0);
    CHECK((int)cg_store_outbox_targets(st, big, 9) == CG_EINVAL);
    CHECK((int)cg_store_outbox_targets(st, empty, 1) == CG_EINVAL);
    CHECK(strstr(cg_store_error(st), "1 to 1024 bytes") != NULL);
    CHECK(cg_store_outbox_key("syslog") != cg_store_outbox_key("file:/x"));
    cg_store_close(st);
    CHECK_EQ_U(cg_store_open(&st, path("t"), CG_STORE_RDONLY, 0), 0);
    CHECK((int)cg_store_outbox_targets(st, two, 2) == CG_EINVAL);
    CHECK(list(st, 0)->n == 0);
    CHECK((int)cg_store_outbox_done(st, NULL, 0, NULL) == CG_EINVAL);
    cg_store_close(st);
}

static void test_same_txn(void)
{
    cg_store *st;
    cg_incident x;
    struct ents *e;
    cg_store_head h0, h1;
    cg_store_verify_stats vs;
    int added = -1;

    CHECK_EQ_U(cg_store_open(&st, path("s"), 0, 0), 0);
    CHECK_EQ_U(cg_store_outbox_targets(st, two, 2), 0);
    /* in the sensor's batch: nothing visible before the commit */
    CHECK_EQ_U(cg_store_begin(st), 0);
    mkinc(&x, cg_store_new_id(st));
    CHECK_EQ_U(x.id, 1);
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_escalate(st, 1, 0x6, 0, "layers.conf:3", "policy", 5000000, &added), 0);
    CHECK_EQ_U(added, 1);
    CHECK_EQ_U(list(st, 0)->n, 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    e = list(st, 0);
    CHECK_EQ_U(e->n, 2);
    CHECK_EQ_U(escalations(st, 1), 1);
    for (size_t i = 0; i < e->n && i < 2; i++) {
        CHECK_EQ_U(e->incident[i], 1);
        CHECK_EQ_U(e->seq[i], 0);
        CHECK_EQ_U(e->created[i], 5000000);
        CHECK_EQ_U(e->attempts[i], 0);
        CHECK_EQ_U(e->next[i], 0);
        CHECK(e->error[i][0] == 0);
        CHECK(e->target[i] == cg_store_outbox_key(e->spec[i]));
    }
    /* one per target, in key order */
    CHECK((!strcmp(e->spec[0], two[0]) && !strcmp(e->spec[1], two[1])) ||
          (!strcmp(e->spec[0], two[1]) && !strcmp(e->spec[1], two[0])));
    CHECK(e->target[0] < e->target[1]);
    CHECK_EQ_U(list(st, cg_store_outbox_key(two[1]))->n, 1);

    /* an aborted batch: neither the entry nor its records */
    CHECK_EQ_U(cg_store_begin(st), 0);
    mkinc(&x, cg_store_new_id(st));
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_escalate(st, 1, 0x8, 0, "layers.conf:4", "policy", 6000000, &added), 0);
    cg_store_abort(st);
    CHECK_EQ_U(list(st, 0)->n, 2);
    CHECK_EQ_U(escalations(st, 1), 1);

    /* as triage (a transaction of its own): both */
    CHECK_EQ_U(cg_store_escalate(st, 1, 0x8, 0, "layers.conf:4", "policy", 7000000, &added), 0);
    CHECK_EQ_U(added, 1);
    CHECK_EQ_U(list(st, 0)->n, 4);
    CHECK_EQ_U(escalations(st, 1), 2);
    /* nothing added: no entry, no record; a reminder once */
    CHECK_EQ_U(cg_store_escalate(st, 1, 0x8, 0, "layers.conf:4", "policy", 8000000, &added), 0);
    CHECK_EQ_U(added, 0);
    CHECK_EQ_U(cg_store_escalate(st, 1, 0, CG_ESC_ONCE, "layers.conf:5: after 15m", "policy",
                                 9000000, &added),
               0);
    CHECK_EQ_U(added, 1);
    CHECK_EQ_U(cg_store_escalate(st, 1, 0, CG_ESC_ONCE, "layers.conf:5: after 15m", "policy",
                                 9500000, &added),
               0);
    CHECK_EQ_U(added, 0);
    e = list(st, cg_store_outbox_key(two[0]));
    CHECK_EQ_U(e->n, 3);
    CHECK_EQ_U(e->seq[2], 2);
    CHECK_EQ_U(e->created[2], 9000000);

    /* done and failed: no leaf in the log, which still verifies */
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    cg_outbox_ref r = { cg_store_outbox_key(two[0]), 1, 0 };
    size_t del = 9;
    CHECK_EQ_U(cg_store_outbox_done(st, &r, 1, &del), 0);
    CHECK_EQ_U(del, 1);
    CHECK_EQ_U(cg_store_outbox_done(st, &r, 1, &del), 0); /* gone already */
    CHECK_EQ_U(del, 0);
    r.seq = 1;
    char longerr[700];
    memset(longerr, 'x', sizeof longerr - 1);
    longerr[sizeof longerr - 1] = 0;
    longerr[3] = '\n';
    CHECK_EQ_U(cg_store_outbox_failed(st, &r, 11000000, 12000000, "exec: exit status 1"), 0);
    CHECK_EQ_U(cg_store_outbox_failed(st, &r, 13000000, 15000000, longerr), 0);
    e = list(st, cg_store_outbox_key(two[0]));
    CHECK_EQ_U(e->n, 2);
    CHECK_EQ_U(e->seq[0], 1);
    CHECK_EQ_U(e->attempts[0], 2);
    CHECK_EQ_U(e->next[0], 15000000);
    CHECK_EQ_U(strlen(e->error[0]), CG_OUTBOX_ERROR_MAX);
    CHECK(e->error[0][3] == ' '); /* one line */
    CHECK_EQ_U(e->created[0], 7000000);
    cg_outbox_ref gone = { 1, 2, 3 };
    CHECK_EQ_U(cg_store_outbox_failed(st, &gone, 1, 2, "x"), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK_EQ_U(h1.size, h0.size);
    CHECK_EQ_U(cg_store_verify(st, NULL, NULL, &vs, NULL), 0);
    CHECK_EQ_U(vs.problems, 0);
    cg_store_close(st);
}

/* A child writes and dies by SIGKILL; commit says whether it committed
 * first. The parent finds both or neither. */
static void crash_child(const char *dir, int commit)
{
    pid_t pid = fork();
    if (pid == 0) {
        cg_store *st;
        cg_incident x;
        if (cg_store_open(&st, dir, 0, 0) || cg_store_outbox_targets(st, two, 2))
            _exit(3);
        if (cg_store_begin(st))
            _exit(3);
        mkinc(&x, cg_store_new_id(st));
        if (cg_store_put(st, &x) ||
            cg_store_escalate(st, x.id, 0x2, 0, "layers.conf:9", "policy", 1000, NULL))
            _exit(3);
        if (commit && cg_store_commit(st))
            _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_kill9(void)
{
    const char *dir = path("k");
    cg_store *st;
    cg_store_info info;

    crash_child(dir, 0);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.incidents, 0);
    CHECK_EQ_U(info.history, 0);
    CHECK_EQ_U(list(st, 0)->n, 0);
    cg_store_close(st);
    crash_child(dir, 1);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.incidents, 1);
    CHECK_EQ_U(info.history, 1);
    CHECK_EQ_U(list(st, 0)->n, 2);
    cg_store_close(st);
}

static void problem_cb(const char *line, void *arg)
{
    snprintf(arg, 256, "%s", line);
}

static int outbox_db(void)
{
    for (int i = 0; i < cg_store_check_ndb(); i++)
        if (!strcmp(cg_store_db_name(i), "outbox"))
            return i;
    return -1;
}

static void test_check(void)
{
    cg_store *st;
    char line[256] = "";
    uint64_t n = 0;
    int db = outbox_db();

    CHECK(db >= 0);
    CHECK_EQ_U(cg_store_open(&st, path("s"), CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_check(st, db, problem_cb, line, &n), 0);
    CHECK_EQ_U(n, 5); /* two targets, three entries, one done */
    CHECK(line[0] == 0);
    cg_store_close(st);
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int ok = a && b;

    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0)
        ok = fwrite(buf, 1, n, b) == n;
    if (a)
        fclose(a);
    if (b && fclose(b))
        ok = 0;
    return ok ? 0 : -1;
}

static void test_migrate6(void)
{
    const char *dir = path("v6");
    char dst[300];
    cg_store *st;
    cg_store_info info;
    cg_store_head h0, h1;
    cg_store_verify_stats vs;
    int added = 0;

    mkdir(dir, 0700);
    snprintf(dst, sizeof dst, "%s/data.mdb", dir);
    CHECK_EQ_U(copy_file("tests/data/store-v6/data.mdb", dst), 0);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, 6);
    CHECK_EQ_U(info.history, 9); /* store-v5's 4, and 5 escalations */
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    CHECK_EQ_U(h0.size, 57);
    CHECK_EQ_U(list(st, 0)->n, 0); /* no outbox yet: nothing */
    CHECK_EQ_U(escalations(st, 1), 2);
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_migrated(st), 6);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, 8);
    CHECK_EQ_U(info.incidents, 6);
    CHECK_EQ_U(info.history, 9);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(h1.size == h0.size && memcmp(h0.root, h1.root, 32) == 0);
    CHECK_EQ_U(escalations(st, 1), 2);
    CHECK_EQ_U(cg_store_case_get(st, 1, NULL, NULL), 0);
    CHECK_EQ_U(list(st, 0)->n, 0);
    /* the outbox works on it */
    CHECK_EQ_U(cg_store_outbox_targets(st, two, 1), 0);
    CHECK_EQ_U(cg_store_escalate(st, 4, 0x8, 0, "layers.conf:9", "policy", 1, &added), 0);
    CHECK_EQ_U(added, 1);
    CHECK_EQ_U(list(st, 0)->n, 1);
    CHECK_EQ_U(cg_store_verify(st, NULL, NULL, &vs, NULL), 0);
    cg_store_close(st);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_migrated(st), 0);
    cg_store_close(st);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/cg_outbox_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_targets();
    test_same_txn();
    test_kill9();
    test_check();
    test_migrate6();
    if (getenv("CG_KEEP"))
        printf("outbox: kept %s\n", root);
    else
        nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("outbox");
}
