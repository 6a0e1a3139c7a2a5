/* test_report.c — the pure parts of `canhgac report` (tools/report.h) and
 * its store reads (store/store_report.h): nearest-rank percentiles, the
 * RSIT mapping of classtypes, the labels of both languages, durations, the
 * period's dates in two time zones and RFC 3339 times (and the bad ones);
 * cg_store_report_walk over a store whose query skips incidents with
 * histories (the history cursor's seeks), each incident's history equal to
 * cg_store_history's, and cg_store_report_changed's incidents. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store_report.h"
#include "tests/check.h"
#include "tools/report.h"

static void pct(void)
{
    uint64_t v[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    CHECK_EQ_U(cg_report_pct(v, 10, 50), 5);
    CHECK_EQ_U(cg_report_pct(v, 10, 90), 9);
    CHECK_EQ_U(cg_report_pct(v, 10, 100), 10);
    CHECK_EQ_U(cg_report_pct(v, 1, 50), 1);
    CHECK_EQ_U(cg_report_pct(v, 1, 90), 1);
    CHECK_EQ_U(cg_report_pct(v, 3, 50), 2); /* ceil(1.5) = 2 */
    CHECK_EQ_U(cg_report_pct(v, 3, 90), 3);
    CHECK_EQ_U(cg_report_pct(v, 0, 50), 0);
}

static void rsit(void)
{
    const char *c, *t;
    cg_report_rsit("web-application-attack", &c, &t);
    CHECK_STR(c, "Intrusion Attempts");
    CHECK_STR(t, "Exploitation of known vulnerabilities");
    cg_report_rsit("trojan-activity", &c, &t);
    CHECK_STR(c, "Malicious Code");
    CHECK_STR(t, "Infected System");
    cg_report_rsit("attempted-dos", &c, &t);
    CHECK_STR(c, "Availability");
    cg_report_rsit("sdf", &c, &t);
    CHECK_STR(t, "Leak of confidential information");
    cg_report_rsit("no-such-classtype", &c, &t);
    CHECK_STR(c, "Other");
    CHECK_STR(t, "Undetermined");
    cg_report_rsit("", &c, &t);
    CHECK_STR(t, "Undetermined");
    cg_report_rsit(NULL, &c, &t);
    CHECK_STR(c, "Other");
}

static void labels(void)
{
    static const char *const keys[] = { "title",  "by_day",    "tta",          "ttr",    "backlog",
                                        "tuning", "integrity", "sev1",         "sev4",   "st4",
                                        "layer4", "page",      "no_incidents", "median", "p90",
                                        "day",    "incidents" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *en = cg_report_label("en", keys[i]), *vi = cg_report_label("vi", keys[i]);
        CHECK(strcmp(en, keys[i]) != 0); /* known */
        CHECK(strcmp(en, vi) != 0);      /* translated */
    }
    CHECK_STR(cg_report_label("vi", "title"), "Báo cáo định kỳ");
    CHECK_STR(cg_report_label("vi", "by_day"), "Sự cố theo ngày và mức độ");
    CHECK_STR(cg_report_label("vi", "tta"), "Thời gian xác nhận");
    CHECK_STR(cg_report_label("vi", "backlog"), "Tồn đọng cuối kỳ");
    CHECK_STR(cg_report_label("en", "no-such-key"), "no-such-key");
    CHECK(cg_report_lang_ok("vi") && cg_report_lang_ok("en") && !cg_report_lang_ok("fr"));
    char d[64];
    cg_report_duration("en", 4 * 3600 + 12 * 60 + 5, d, sizeof d);
    CHECK_STR(d, "4h 12m");
    cg_report_duration("vi", 3 * 86400 + 2 * 3600, d, sizeof d);
    CHECK_STR(d, "3 ngày 2 giờ");
    cg_report_duration("en", 0, d, sizeof d);
    CHECK_STR(d, "0s");
    cg_report_duration("en", 900, d, sizeof d);
    CHECK_STR(d, "15m");
}

static void dates(void)
{
    uint64_t us = 0;
    char err[256];

    setenv("TZ", "UTC", 1);
    tzset();
    CHECK_EQ_U(cg_report_parse_time("2026-10-01", 0, &us, err, sizeof err), 0);
    CHECK_EQ_U(us, 1790812800ull * 1000000u);
    CHECK_EQ_U(cg_report_parse_time("2026-12-31", 1, &us, err, sizeof err), 0);
    CHECK_EQ_U(us, 1798761600ull * 1000000u); /* the next midnight */
    setenv("TZ", "Asia/Ho_Chi_Minh", 1);      /* UTC+7, no summer time */
    tzset();
    CHECK_EQ_U(cg_report_parse_time("2026-10-01", 0, &us, err, sizeof err), 0);
    CHECK_EQ_U(us, (1790812800ull - 7 * 3600) * 1000000u);
    CHECK_EQ_U(cg_report_parse_time("2026-10-01T00:00:00+07:00", 0, &us, err, sizeof err), 0);
    CHECK_EQ_U(us, (1790812800ull - 7 * 3600) * 1000000u);
    CHECK_EQ_U(cg_report_parse_time("2026-10-01T08:30:00Z", 1, &us, err, sizeof err), 0);
    CHECK_EQ_U(us, (1790812800ull + 8 * 3600 + 1800) * 1000000u); /* a time is itself */
    CHECK_EQ_U(cg_report_parse_time("2026-10-01T00:00:00-01:30", 0, &us, err, sizeof err), 0);
    CHECK_EQ_U(us, (1790812800ull + 5400) * 1000000u);
    static const char *const bad[] = { "",
                                       "x",
                                       "2026-13-01",
                                       "2026-02-30",
                                       "2026-00-10",
                                       "2026-1-01",
                                       "1969-12-31",
                                       "2026-10-01T25:00:00Z",
                                       "2026-10-01T00:00:00",
                                       "2026-10-01T00:00:00+7",
                                       "2026-10-01T00:00:00.5Z",
                                       "2026-10-01 extra",
                                       "2026-10-01T08:30:60Z" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        us = 42;
        err[0] = 0;
        CHECK(cg_report_parse_time(bad[i], 0, &us, err, sizeof err) == -1);
        CHECK(us == 42); /* untouched */
        CHECK_CONTAINS(err, "is not a date");
    }
    setenv("TZ", "UTC", 1);
    tzset();
}

/* ---- the store's reads ----------------------------------------------------- */

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

struct seen {
    cg_store *st;
    uint64_t ids[128];
    size_t n;
    int mismatch;
};

struct hcmp {
    const cg_history *h;
    size_t n, i;
    int bad;
};

static int cmp_one(const cg_history *h, void *arg)
{
    struct hcmp *c = arg;
    if (c->i >= c->n || c->h[c->i].seq != h->seq || c->h[c->i].when_us != h->when_us ||
        c->h[c->i].kind != h->kind || c->h[c->i].new_num != h->new_num)
        c->bad = 1;
    c->i++;
    return 0;
}

static int on_inc(const cg_incident *inc, const cg_history *h, size_t n, void *arg)
{
    struct seen *s = arg;
    struct hcmp c = { h, n, 0, 0 };
    s->ids[s->n++] = inc->id;
    /* the walk's read transaction is open: cg_store_history opens a
     * second one (the store's environment is MDB_NOTLS) */
    if (cg_store_history(s->st, inc->id, cmp_one, &c) || c.bad || c.i != n)
        s->mismatch = 1;
    return 0;
}

static int odd_only(const cg_incident *inc, void *arg)
{
    (void)arg;
    return inc->id % 2 == 1;
}

static void store_reads(void)
{
    char dir[] = "/tmp/canhgac-test-report.XXXXXX";
    cg_store *st;
    const uint64_t t0 = 1790812800000000ull;

    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (uint64_t i = 1; i <= 40; i++) {
        cg_incident inc;
        memset(&inc, 0, sizeof inc);
        inc.id = cg_store_new_id(st);
        inc.gid = 1;
        inc.sid = 100 + (uint32_t)(i % 3);
        inc.src[15] = (uint8_t)i;
        inc.src[10] = inc.src[11] = 0xff;
        inc.dst[15] = 1;
        inc.dst[10] = inc.dst[11] = 0xff;
        inc.proto = 6;
        inc.severity = inc.rule_severity = (uint8_t)(1 + i % 4);
        inc.first_us = inc.last_us = t0 + i * 1000000u;
        inc.count = 1;
        inc.msg = "test";
        CHECK_EQ_U(cg_store_put(st, &inc), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    /* histories on every third incident, some of them even (skipped by the
     * walk below: the cursor must seek past them) */
    for (uint64_t id = 3; id <= 40; id += 3) {
        CHECK_EQ_U(cg_store_triage_set(st, id, CG_TRIAGE_STATUS, CG_ST_ACKNOWLEDGED, NULL, 0, "lan",
                                       t0 + 3600000000ull),
                   0);
        if (id % 2)
            CHECK_EQ_U(cg_store_triage_set(st, id, CG_TRIAGE_STATUS, CG_ST_RESOLVED, NULL, 0, "lan",
                                           t0 + 7200000000ull),
                       0);
    }
    CHECK_EQ_U(cg_store_note_add(st, 40, "lan", t0 + 9000000000ull, "the last one"), 0);

    struct seen s = { .st = st };
    cg_query q;
    memset(&q, 0, sizeof q);
    q.match = odd_only;
    CHECK_EQ_U(cg_store_report_walk(st, &q, on_inc, &s), 0);
    CHECK_EQ_U(s.n, 20);
    CHECK_EQ_U(s.ids[0], 39); /* newest first */
    CHECK_EQ_U(s.ids[19], 1);
    CHECK(!s.mismatch);
    memset(&s, 0, sizeof s);
    s.st = st;
    CHECK_EQ_U(cg_store_report_walk(st, NULL, on_inc, &s), 0);
    CHECK_EQ_U(s.n, 40);
    CHECK(!s.mismatch);
    /* changed at or after t0 + 2h: the odd multiples of 3 (resolved then)
     * and 40 (its note), in id order */
    memset(&s, 0, sizeof s);
    s.st = st;
    CHECK_EQ_U(cg_store_report_changed(st, t0 + 7200000000ull, on_inc, &s), 0);
    CHECK_EQ_U(s.n, 8); /* 3 9 15 21 27 33 39, 40 */
    CHECK_EQ_U(s.ids[0], 3);
    CHECK_EQ_U(s.ids[6], 39);
    CHECK_EQ_U(s.ids[7], 40);
    CHECK(!s.mismatch);
    memset(&s, 0, sizeof s);
    s.st = st;
    CHECK_EQ_U(cg_store_report_changed(st, t0 + 99999000000ull, on_inc, &s), 0);
    CHECK_EQ_U(s.n, 0);
    cg_store_close(st);
    nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    pct();
    rsit();
    labels();
    dates();
    store_reads();
    return check_done("test_report");
}
