/* test_store.c — unit tests of the LMDB incident store (store/store.h).
 *
 * Every test works in its own directory under one mkdtemp() root, removed at
 * the end. Raw LMDB calls stand in for damage done outside the store (a newer
 * or older schema, garbage records, foreign environments). Queries, counts,
 * top-N and histograms are checked against a brute-force pass over the
 * incidents the test wrote, and the planner's choice of index with
 * cg_store_explain. The second-writer, snapshot and concurrent-triage tests
 * fork: the store is opened once per process.
 */
#include "store/store.h"
#include "tests/check.h"
#include "tests/seal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/* ---- helpers ---------------------------------------------------------------- */

static void a4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned w)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x, a[13] = (uint8_t)y, a[14] = (uint8_t)z, a[15] = (uint8_t)w;
}

static void a6(uint8_t a[16], const char *s)
{
    if (inet_pton(AF_INET6, s, a) != 1)
        abort();
}

/* lo/hi of the CIDR addr/bits, bits counted over the 16 bytes (v4: 96 + n) */
static void cidr(uint8_t lo[16], uint8_t hi[16], const uint8_t addr[16], unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
        uint8_t mask = (uint8_t)(keep ? 0xff << (8 - keep) : 0);
        lo[i] = addr[i] & mask;
        hi[i] = (uint8_t)(addr[i] | (uint8_t)~mask);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return rng_state = x;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int geo_equal(const cg_incident_geo *a, const cg_incident_geo *b)
{
    return !strcmp(a->country, b->country) && a->asn == b->asn &&
        !strcmp(nz(a->city), nz(b->city)) && !strcmp(nz(a->as_org), nz(b->as_org)) &&
        !strcmp(nz(a->agency), nz(b->agency)) && !strcmp(nz(a->zone), nz(b->zone));
}

static int inc_equal(const cg_incident *a, const cg_incident *b)
{
    return a->id == b->id && a->gid == b->gid && a->sid == b->sid && a->rev == b->rev &&
        !memcmp(a->src, b->src, 16) && !memcmp(a->dst, b->dst, 16) && a->sport == b->sport &&
        a->dport == b->dport && a->proto == b->proto && a->severity == b->severity &&
        a->rule_severity == b->rule_severity && a->layers == b->layers && a->status == b->status &&
        a->flags == b->flags && a->first_us == b->first_us && a->last_us == b->last_us &&
        a->count == b->count && a->flow_id == b->flow_id &&
        a->escalated_from == b->escalated_from && a->nevidence == b->nevidence &&
        a->nalerts == b->nalerts && a->nnotes == b->nnotes && !strcmp(nz(a->msg), nz(b->msg)) &&
        !strcmp(nz(a->classtype), nz(b->classtype)) &&
        !strcmp(nz(a->community_id), nz(b->community_id)) &&
        !strcmp(nz(a->assignee), nz(b->assignee)) && geo_equal(&a->src_geo, &b->src_geo) &&
        geo_equal(&a->dst_geo, &b->dst_geo) && !strcmp(nz(a->geo_db_type), nz(b->geo_db_type)) &&
        !strcmp(nz(a->geo_db_date), nz(b->geo_db_date));
}

struct expect {
    const cg_incident *want;
    int calls, equal;
};

static int cb_expect(const cg_incident *inc, void *arg)
{
    struct expect *e = arg;
    e->calls++;
    e->equal = inc_equal(inc, e->want);
    return 0;
}

static int get_equal(cg_store *st, const cg_incident *want)
{
    struct expect e = { want, 0, 0 };
    int rc = cg_store_get(st, want->id, cb_expect, &e);
    return rc == 0 && e.calls == 1 && e.equal;
}

#define MAXGOT 4096
struct got {
    uint64_t ids[MAXGOT];
    size_t n;
    int stop_after;
};

static int cb_collect(const cg_incident *inc, void *arg)
{
    struct got *g = arg;
    if (g->n < MAXGOT)
        g->ids[g->n++] = inc->id;
    return g->stop_after && g->n >= (size_t)g->stop_after;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_rf(const char *p)
{
    nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static unsigned char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    unsigned char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

static int same_file(const unsigned char *before, size_t blen, const char *p)
{
    size_t alen = 0;
    unsigned char *after = slurp(p, &alen);
    int same = after && alen == blen && memcmp(after, before, blen) == 0;
    free(after);
    return same;
}

static int is_empty_dir(const char *p)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test -d '%s' && test -z \"$(ls -A '%s')\"", p, p);
    return system(cmd) == 0;
}

/* Raw LMDB, for what the store itself never writes. db NULL = main db. */
static int raw_put(const char *dir, const char *db, const void *k, size_t klen, const void *v,
                   size_t vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val kk = { klen, (void *)k }, vv = { vlen, (void *)v };
    int rc;

    if (mdb_env_create(&env))
        return -1;
    mdb_env_set_maxdbs(env, 16);
    rc = mdb_env_open(env, dir, 0, 0600);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc) {
        rc = mdb_dbi_open(txn, db, db ? MDB_CREATE : 0, &dbi);
        if (!rc)
            rc = mdb_put(txn, dbi, &kk, &vv, 0);
        if (!rc)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

/* Copies the value of key k in db into buf (up to cap), its size in *vlen. */
static int raw_get(const char *dir, const char *db, const void *k, size_t klen, void *buf,
                   size_t cap, size_t *vlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val kk = { klen, (void *)k }, vv;
    int rc;

    if (mdb_env_create(&env))
        return -1;
    mdb_env_set_maxdbs(env, 16);
    rc = mdb_env_open(env, dir, MDB_RDONLY, 0600);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (!rc) {
        rc = mdb_dbi_open(txn, db, 0, &dbi);
        if (!rc)
            rc = mdb_get(txn, dbi, &kk, &vv);
        if (!rc) {
            *vlen = vv.mv_size;
            memcpy(buf, vv.mv_data, vv.mv_size < cap ? vv.mv_size : cap);
        }
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

static long raw_count(const char *dir, const char *db)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat ms;
    long n = -1;

    if (mdb_env_create(&env))
        return -1;
    mdb_env_set_maxdbs(env, 16);
    if (!mdb_env_open(env, dir, MDB_RDONLY, 0600) && !mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) {
        if (!mdb_dbi_open(txn, db, 0, &dbi) && !mdb_stat(txn, dbi, &ms))
            n = (long)ms.ms_entries;
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return n;
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static cg_incident mk(uint64_t id)
{
    cg_incident inc;
    memset(&inc, 0, sizeof inc);
    inc.id = id;
    inc.gid = 1;
    inc.sid = 2000000 + (uint32_t)(id % 5);
    inc.rev = 3;
    a4(inc.src, 10, 0, 0, (unsigned)(id % 250));
    a4(inc.dst, 192, 168, 1, 10);
    inc.sport = 40000;
    inc.dport = 80;
    inc.proto = 6;
    inc.severity = 2;
    inc.rule_severity = 2;
    inc.first_us = 1700000000000000ull + id * 1000;
    inc.last_us = inc.first_us + 500;
    inc.count = 1;
    inc.flow_id = id * 77;
    inc.msg = "ET WEB_SERVER test";
    inc.classtype = "web-application-attack";
    inc.community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
    return inc;
}

static const cg_incident *mkp(uint64_t id)
{
    static cg_incident buf;
    buf = mk(id);
    return &buf;
}

/* mk with every schema 2 field filled in */
static cg_incident mkfull(uint64_t id)
{
    cg_incident inc = mk(id);
    inc.rule_severity = 3, inc.severity = 1, inc.flags = CG_INC_SEV_SET;
    inc.status = CG_ST_ACKNOWLEDGED, inc.layers = 0x9;
    inc.escalated_from = id > 1 ? id - 1 : 0, inc.nalerts = 3, inc.nnotes = 2, inc.nevidence = 1;
    inc.assignee = "lan";
    strcpy(inc.src_geo.country, "CN");
    inc.src_geo.asn = 4134;
    inc.src_geo.city = "Beijing";
    inc.src_geo.as_org = "Chinanet";
    inc.src_geo.agency = "-";
    inc.src_geo.zone = "internet";
    strcpy(inc.dst_geo.country, "VN");
    inc.dst_geo.asn = 131429;
    inc.dst_geo.city = "Da Nang";
    inc.dst_geo.as_org = "MOBIFONE";
    inc.dst_geo.agency = "So Y te";
    inc.dst_geo.zone = "dmz";
    inc.geo_db_type = "GeoIP2-City";
    inc.geo_db_date = "2025-11-18";
    return inc;
}

static const cg_incident *mkfullp(uint64_t id)
{
    static cg_incident buf;
    buf = mkfull(id);
    return &buf;
}

/* ---- round trip --------------------------------------------------------------- */

struct evgot {
    uint32_t seq[8];
    uint8_t data[8][9100];
    cg_evidence ev[8];
    int n;
};

static int cb_ev(uint32_t seq, const cg_evidence *ev, void *arg)
{
    struct evgot *g = arg;
    if (g->n < 8 && ev->caplen <= sizeof g->data[0]) {
        g->seq[g->n] = seq;
        g->ev[g->n] = *ev;
        memcpy(g->data[g->n], ev->data, ev->caplen);
        g->n++;
    }
    return 0;
}

static int cb_count(const cg_incident *inc, void *arg)
{
    (void)inc;
    ++*(int *)arg;
    return 0;
}

static int cb_ev_count(uint32_t seq, const cg_evidence *ev, void *arg)
{
    (void)seq, (void)ev;
    ++*(int *)arg;
    return 0;
}

struct algot {
    uint32_t seq[8];
    cg_alert a[8];
    char cid[8][64];
    int n;
};

static int cb_alert(uint32_t seq, const cg_alert *a, void *arg)
{
    struct algot *g = arg;
    if (g->n < 8) {
        g->seq[g->n] = seq;
        g->a[g->n] = *a;
        snprintf(g->cid[g->n], sizeof g->cid[0], "%s", a->community_id);
        g->n++;
    }
    return 0;
}

static int cb_alert_count(uint32_t seq, const cg_alert *a, void *arg)
{
    (void)seq, (void)a;
    ++*(int *)arg;
    return 0;
}

static int cb_hist_count(const cg_history *h, void *arg)
{
    (void)h;
    ++*(int *)arg;
    return 0;
}

static size_t q_ids(cg_store *st, const cg_query *q, struct got *g)
{
    g->n = 0;
    g->stop_after = 0;
    if (cg_store_query(st, q, 0, NULL, cb_collect, g) != 0)
        return (size_t)-1;
    return g->n;
}

static void test_roundtrip(void)
{
    const char *dir = path("rt");
    cg_store *st = NULL;
    cg_incident a, b, c;
    static uint8_t big[9000], small[60];
    cg_evidence ev[3];
    cg_alert al[3];
    static struct evgot g;
    struct algot ag;
    cg_store_info info;
    struct stat sb;
    int n;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
          (sb.st_mode & 0777) == 0750); /* the group may read */
    CHECK_EQ_U(cg_store_new_id(st), 1);
    CHECK_EQ_U(cg_store_new_id(st), 2);
    CHECK_EQ_U(cg_store_new_id(st), 3);

    a = mk(1);
    a.layers = 0x5, a.status = CG_ST_INVESTIGATING, a.count = UINT64_MAX, a.flow_id = UINT64_MAX;
    a.sport = 65535, a.rev = UINT32_MAX, a.gid = UINT32_MAX, a.nevidence = 3;
    a.msg = "ET SCAN \"quoted\" \xc4\x91\xe1\xbb\x8b\x61 ch\xe1\xbb\x89 / UTF-8";
    /* every field of schema 2, at its edges */
    a.rule_severity = 255, a.severity = 1, a.flags = CG_INC_SEV_SET, a.proto = 255;
    a.escalated_from = UINT64_MAX - 1, a.nalerts = UINT32_MAX, a.nnotes = 4, a.dport = 0;
    a.first_us = 0, a.last_us = UINT64_MAX;
    a.assignee = "lan.nguyen";
    strcpy(a.src_geo.country, "VN");
    a.src_geo.asn = 45899;
    a.src_geo.city = "H\xc3\xa0 N\xe1\xbb\x99i";
    a.src_geo.as_org = "VNPT Corp";
    a.src_geo.agency = "S\xe1\xbb\x9f TT&TT";
    a.src_geo.zone = "dmz";
    strcpy(a.dst_geo.country, "US");
    a.dst_geo.asn = UINT32_MAX;
    a.dst_geo.city = "Mountain View";
    a.dst_geo.as_org = "GOOGLE";
    a.dst_geo.zone = "internet"; /* agency left NULL */
    a.geo_db_type = "GeoLite2-City";
    a.geo_db_date = "2025-11-18";
    b = mk(2);
    a6(b.src, "2001:db8:1:2::abcd");
    a6(b.dst, "fe80::1");
    b.proto = 17, b.severity = 1, b.classtype = "", b.community_id = "";
    c = mk(3);
    c.msg = NULL, c.classtype = NULL;

    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 131 + 7);
    memset(small, 0, sizeof small);
    small[59] = 0xff;
    ev[0] = (cg_evidence){ 1700000000000001ull, 1, sizeof small, 60, small };
    ev[1] = (cg_evidence){ 1700000000000002ull, -1, sizeof big, 65535, big };
    ev[2] = (cg_evidence){ 1700000000000003ull, 228, 0, 1500, NULL };
    al[0] = (cg_alert){ 5, UINT64_MAX, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", 65535, 0, 1, 0 };
    al[1] = (cg_alert){ UINT64_MAX, 0, "1:another+flow=", 1, 443, 255, -1 };
    al[2] = (cg_alert){ 7, 9, NULL, 0, 0, 0, INT32_MAX };

    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, &a), 0);
    CHECK_EQ_U(cg_store_put(st, &b), 0);
    CHECK_EQ_U(cg_store_put(st, &c), 0);
    /* out of order on purpose: they come back in seq order */
    CHECK_EQ_U(cg_store_put_evidence(st, 1, 2, &ev[2]), 0);
    CHECK_EQ_U(cg_store_put_evidence(st, 1, 0, &ev[0]), 0);
    CHECK_EQ_U(cg_store_put_evidence(st, 1, 1, &ev[1]), 0);
    for (int i = 2; i >= 0; i--)
        CHECK_EQ_U(cg_store_put_alert(st, 1, (uint32_t)i, &al[i]), 0);
    /* the open batch is invisible to readers until it commits */
    n = 0;
    CHECK_EQ_U(cg_store_query(st, NULL, 0, NULL, cb_count, &n), 0);
    CHECK_EQ_U(n, 0);
    CHECK_EQ_U(cg_store_commit(st), 0);

    CHECK(get_equal(st, &a));
    CHECK(get_equal(st, &b));
    c.msg = c.classtype = "";
    CHECK(get_equal(st, &c));
    cg_store_close(st);

    st = NULL;
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK(get_equal(st, &a));
    CHECK(get_equal(st, &b));
    CHECK(get_equal(st, &c));
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_evidence(st, 1, cb_ev, &g), 0);
    CHECK_EQ_U(g.n, 3);
    for (int i = 0; i < 3 && i < g.n; i++) {
        CHECK_EQ_U(g.seq[i], i);
        CHECK_EQ_U(g.ev[i].ts_us, ev[i].ts_us);
        CHECK(g.ev[i].dlt == ev[i].dlt);
        CHECK_EQ_U(g.ev[i].caplen, ev[i].caplen);
        CHECK_EQ_U(g.ev[i].wirelen, ev[i].wirelen);
        CHECK(ev[i].caplen == 0 || memcmp(g.data[i], ev[i].data, ev[i].caplen) == 0);
    }
    memset(&ag, 0, sizeof ag);
    CHECK_EQ_U(cg_store_alerts(st, 1, cb_alert, &ag), 0);
    CHECK_EQ_U(ag.n, 3);
    for (int i = 0; i < 3 && i < ag.n; i++) {
        CHECK_EQ_U(ag.seq[i], i);
        CHECK_EQ_U(ag.a[i].ts_us, al[i].ts_us);
        CHECK_EQ_U(ag.a[i].flow_id, al[i].flow_id);
        CHECK_STR(ag.cid[i], nz(al[i].community_id));
        CHECK(ag.a[i].sport == al[i].sport && ag.a[i].dport == al[i].dport);
        CHECK(ag.a[i].severity == al[i].severity && ag.a[i].evidence_seq == al[i].evidence_seq);
    }
    /* every Community ID of its alerts finds the incident */
    {
        static struct got gg;
        cg_query q;
        memset(&q, 0, sizeof q);
        q.has = CG_Q_COMMUNITY;
        q.community_id = "1:another+flow=";
        CHECK(q_ids(st, &q, &gg) == 1 && gg.ids[0] == 1);
        q.community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg="; /* a's and c's own */
        CHECK(q_ids(st, &q, &gg) == 2 && gg.ids[0] == 3 && gg.ids[1] == 1);
        q.community_id = ""; /* b has none */
        CHECK(q_ids(st, &q, &gg) == 1 && gg.ids[0] == 2);
        q.community_id = "1:nothing=";
        CHECK_EQ_U(q_ids(st, &q, &gg), 0);
    }
    n = 0;
    CHECK_EQ_U(cg_store_alerts(st, 2, cb_alert_count, &n), 0);
    CHECK_EQ_U(n, 0);
    CHECK_EQ_U(cg_store_alerts(st, 99, cb_alert_count, &n), CG_ENOTFOUND);
    n = 0;
    CHECK_EQ_U(cg_store_evidence(st, 2, cb_ev_count, &n), 0);
    CHECK_EQ_U(n, 0);
    CHECK_EQ_U(cg_store_evidence(st, 99, cb_ev_count, &n), CG_ENOTFOUND);
    CHECK((int)cg_store_get(st, 99, cb_count, &n) == CG_ENOTFOUND);
    CHECK_CONTAINS(cg_store_error(st), "no incident 99");
    CHECK_CONTAINS(cg_store_error(st), dir);

    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, CG_STORE_SCHEMA);
    CHECK_EQ_U(info.incidents, 3);
    CHECK_EQ_U(info.evidence, 3);
    CHECK_EQ_U(info.alerts, 3);
    CHECK_EQ_U(info.history, 0);
    CHECK_EQ_U(info.next_id, 4);
    CHECK_EQ_U(info.map_size, (uint64_t)16 << 30);
    CHECK(info.map_used > 0 && info.map_used < ((uint64_t)1 << 20));
    CHECK_EQ_U(cg_store_new_id(st), 0); /* read-only */
    CHECK((int)cg_store_begin(st) == CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "read-only");
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_new_id(st), 4);
    cg_store_close(st);
}

/* ---- replace keeps the indexes consistent ------------------------------------- */

static void test_replace(void)
{
    const char *dir = path("replace");
    static struct got g;
    cg_store *st;
    cg_incident x = mk(1), y;
    cg_query q;
    uint8_t a[16];

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    x.sid = 100;
    a4(x.src, 10, 1, 1, 1);
    a4(x.dst, 10, 2, 2, 2);
    x.first_us = 1000;
    strcpy(x.src_geo.country, "VN");
    strcpy(x.dst_geo.country, "US");
    x.src_geo.asn = 45899, x.dst_geo.asn = 15169;
    x.assignee = "an";
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_put(st, mkp(2)), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);

    memset(&q, 0, sizeof q);
    q.has = CG_Q_SID, q.sid = 100;
    CHECK_EQ_U(q_ids(st, &q, &g), 1);

    /* every indexed field changes */
    y = x;
    y.sid = 200, y.gid = 3, y.count = 5, y.last_us = 9999, y.msg = "updated";
    a4(y.src, 10, 9, 9, 9);
    a4(y.dst, 10, 8, 8, 8);
    y.first_us = 5000;
    y.severity = 4, y.dport = 443;
    strcpy(y.src_geo.country, "CN");
    y.dst_geo.country[0] = 0; /* known, then not: out of by_dst_cc */
    y.src_geo.asn = 4134, y.dst_geo.asn = 0;
    /* the triage fields of the stored record win over the put's */
    y.status = CG_ST_RESOLVED, y.assignee = "someone else", y.nnotes = 7;
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, &y), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    y.status = CG_ST_NEW, y.assignee = "an", y.nnotes = 0;
    CHECK(get_equal(st, &y));
    {
        static const struct {
            unsigned has;
            int want;
        } qs[] = {
            { CG_Q_SEV, 0 },    { CG_Q_DPORT, 0 },   { CG_Q_SRC_CC, 0 },
            { CG_Q_DST_CC, 0 }, { CG_Q_SRC_ASN, 0 }, { CG_Q_DST_ASN, 0 },
        };
        cg_query o;
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            memset(&o, 0, sizeof o);
            o.has = qs[i].has, o.sev_max = 2, o.dport = 80, o.src_asn = 45899, o.dst_asn = 15169;
            strcpy(o.src_cc, "VN"), strcpy(o.dst_cc, "US");
            /* the old values find nothing (mk(2) is severity 2, port 80) */
            o.sev_max = 1, o.dport = 81;
            CHECK_EQ_U(q_ids(st, &o, &g), qs[i].want);
        }
        memset(&o, 0, sizeof o);
        o.has = CG_Q_SRC_CC | CG_Q_SRC_ASN | CG_Q_DPORT | CG_Q_SEV | CG_Q_ASSIGNEE;
        strcpy(o.src_cc, "CN"), o.src_asn = 4134, o.dport = 443, o.sev_max = 4, o.assignee = "an";
        CHECK(q_ids(st, &o, &g) == 1 && g.ids[0] == 1);
        o.has = CG_Q_DST_CC; /* unknown */
        CHECK(q_ids(st, &o, &g) == 2);
    }

    CHECK_EQ_U(q_ids(st, &q, &g), 0);
    q.sid = 200;
    CHECK_EQ_U(q_ids(st, &q, &g), 1);
    q.has = CG_Q_SID | CG_Q_GID, q.gid = 3;
    CHECK_EQ_U(q_ids(st, &q, &g), 1);
    q.gid = 1;
    CHECK_EQ_U(q_ids(st, &q, &g), 0);
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SRC;
    a4(a, 10, 1, 1, 1);
    memcpy(q.src_lo, a, 16), memcpy(q.src_hi, a, 16);
    CHECK_EQ_U(q_ids(st, &q, &g), 0);
    a4(a, 10, 9, 9, 9);
    memcpy(q.src_lo, a, 16), memcpy(q.src_hi, a, 16);
    CHECK_EQ_U(q_ids(st, &q, &g), 1);
    memset(&q, 0, sizeof q);
    q.has = CG_Q_DST;
    a4(a, 10, 2, 2, 2);
    memcpy(q.dst_lo, a, 16), memcpy(q.dst_hi, a, 16);
    CHECK_EQ_U(q_ids(st, &q, &g), 0);
    a4(a, 10, 8, 8, 8);
    memcpy(q.dst_lo, a, 16), memcpy(q.dst_hi, a, 16);
    CHECK_EQ_U(q_ids(st, &q, &g), 1);
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 0, q.until_us = 2000;
    CHECK_EQ_U(q_ids(st, &q, &g), 0);
    q.since_us = 5000, q.until_us = 5001;
    CHECK_EQ_U(q_ids(st, &q, &g), 1);

    /* a replace with the same keys, then an unchanged one */
    y.count = 6;
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, &y), 0);
    CHECK_EQ_U(cg_store_put(st, &y), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK(get_equal(st, &y));
    cg_store_close(st);

    /* exactly one key per incident in each index */
    CHECK_EQ_U(raw_count(dir, "incidents"), 2);
    CHECK_EQ_U(raw_count(dir, "by_time"), 2);
    CHECK_EQ_U(raw_count(dir, "by_src"), 2);
    CHECK_EQ_U(raw_count(dir, "by_dst"), 2);
    CHECK_EQ_U(raw_count(dir, "by_sid"), 2);
    CHECK_EQ_U(raw_count(dir, "by_sev"), 2);
    CHECK_EQ_U(raw_count(dir, "by_status"), 2);
    CHECK_EQ_U(raw_count(dir, "by_dport"), 2);
    /* only known countries, AS numbers and assignees are indexed */
    CHECK_EQ_U(raw_count(dir, "by_src_cc"), 1);
    CHECK_EQ_U(raw_count(dir, "by_dst_cc"), 0);
    CHECK_EQ_U(raw_count(dir, "by_src_asn"), 1);
    CHECK_EQ_U(raw_count(dir, "by_dst_asn"), 0);
    CHECK_EQ_U(raw_count(dir, "by_assignee"), 1);
    CHECK_EQ_U(raw_count(dir, "by_community"), 2);
}

/* ---- queries against a brute-force oracle --------------------------------------- */

#define NQ 3000
/* incident i of the oracle is id QID(i): ids spread over several partitions */
#define QSTEP 73
#define QID(i) ((uint64_t)(i)*QSTEP)
static cg_incident qinc[NQ + 1];
/* the Community ID of a later alert of incident id ("" = none): by_community
 * finds an incident by any of its alerts' */
static const char *qalert_cid[NQ + 1];

static const char *const q_cids[] = { "", "1:aaaa=", "1:bbbb=", "1:cccc=", "1:dddd=", "1:eeee=" };
static const char *const q_cc[] = { "", "VN", "CN", "US", "RU", "KP" };
static const uint32_t q_asn[] = { 0, 45899, 4134, 15169, 12389 };
static const char *const q_who[] = { "", "an", "binh", "chi" };

static int ref_match(const cg_query *q, const cg_incident *x)
{
    unsigned has = q->has;
    if ((has & CG_Q_SINCE) && !(x->first_us >= q->since_us))
        return 0;
    if ((has & CG_Q_UNTIL) && !(x->first_us < q->until_us))
        return 0;
    if ((has & CG_Q_SRC) &&
        (memcmp(x->src, q->src_lo, 16) < 0 || memcmp(x->src, q->src_hi, 16) > 0))
        return 0;
    if ((has & CG_Q_DST) &&
        (memcmp(x->dst, q->dst_lo, 16) < 0 || memcmp(x->dst, q->dst_hi, 16) > 0))
        return 0;
    if ((has & CG_Q_SID) && x->sid != q->sid)
        return 0;
    if ((has & CG_Q_GID) && x->gid != q->gid)
        return 0;
    if ((has & CG_Q_SEV) && x->severity > q->sev_max)
        return 0;
    if ((has & CG_Q_PORT) && x->sport != q->port && x->dport != q->port)
        return 0;
    if ((has & CG_Q_SPORT) && x->sport != q->sport)
        return 0;
    if ((has & CG_Q_DPORT) && x->dport != q->dport)
        return 0;
    if ((has & CG_Q_STATUS) && !(q->status_mask >> x->status & 1))
        return 0;
    if ((has & CG_Q_SRC_CC) && strcmp(x->src_geo.country, q->src_cc))
        return 0;
    if ((has & CG_Q_DST_CC) && strcmp(x->dst_geo.country, q->dst_cc))
        return 0;
    if ((has & CG_Q_SRC_ASN) && x->src_geo.asn != q->src_asn)
        return 0;
    if ((has & CG_Q_DST_ASN) && x->dst_geo.asn != q->dst_asn)
        return 0;
    if ((has & CG_Q_ASSIGNEE) && strcmp(nz(x->assignee), nz(q->assignee)))
        return 0;
    if (has & CG_Q_COMMUNITY) {
        const char *c = nz(q->community_id), *own = nz(x->community_id);
        if (!c[0] ? own[0] != 0 : strcmp(own, c) && strcmp(qalert_cid[x->id / QSTEP], c))
            return 0;
    }
    if (q->match && !q->match(x, q->match_arg))
        return 0;
    return 1;
}

/* Runs q whole and in pages (of 7 for small results); both must equal the
 * oracle. Returns the number of matches (so a test can make sure it is not
 * vacuous). */
static size_t check_query(cg_store *st, const cg_query *q, int line)
{
    static struct got g, p;
    static uint64_t want[NQ];
    size_t nw = 0, pages = 0, per;
    uint64_t cursor = 0;
    int ok;

    for (uint64_t id = NQ; id >= 1; id--)
        if (ref_match(q, &qinc[id]))
            want[nw++] = QID(id);
    per = nw <= 140 ? 7 : nw / 20 + 1;
    ok = q_ids(st, q, &g) == nw && memcmp(g.ids, want, nw * sizeof *want) == 0;
    p.n = 0;
    p.stop_after = 0;
    do {
        size_t before = p.n;
        if (cg_store_query(st, q, per, &cursor, cb_collect, &p) != 0) {
            ok = 0;
            break;
        }
        if (p.n - before > per || (cursor && p.n - before != per))
            ok = 0;
    } while (cursor && ++pages < 1000);
    ok = ok && p.n == nw && memcmp(p.ids, want, nw * sizeof *want) == 0;
    if (!ok) {
        char plan[128] = "";
        cg_store_explain(st, q, plan, sizeof plan);
        fprintf(stderr, "query at line %d (has %#x, %s): want %zu, got %zu / paged %zu\n", line,
                q->has, plan, nw, g.n, p.n);
    }
    CHECK(ok);
    return nw;
}
#define CHECK_QUERY(st, q) check_query(st, q, __LINE__)

/* The group key of a field, as the store's index has it (ties sort by it). */
static unsigned ref_key(int f, const cg_incident *x, uint8_t k[16])
{
    switch (f) {
    case CG_F_SRC: memcpy(k, x->src, 16); return 16;
    case CG_F_DST: memcpy(k, x->dst, 16); return 16;
    case CG_F_SID: be64(k, (uint64_t)x->sid << 32 | x->gid); return 8;
    case CG_F_SRC_CC: memcpy(k, x->src_geo.country, 2); return k[0] ? 2 : 0;
    case CG_F_DST_CC: memcpy(k, x->dst_geo.country, 2); return k[0] ? 2 : 0;
    case CG_F_SRC_ASN:
        be64(k, x->src_geo.asn);
        memmove(k, k + 4, 4);
        return x->src_geo.asn ? 4 : 0;
    case CG_F_DST_ASN:
        be64(k, x->dst_geo.asn);
        memmove(k, k + 4, 4);
        return x->dst_geo.asn ? 4 : 0;
    case CG_F_DPORT: k[0] = (uint8_t)(x->dport >> 8), k[1] = (uint8_t)x->dport; return 2;
    case CG_F_SEV: k[0] = x->severity; return 1;
    default: k[0] = x->status; return 1;
    }
}

static unsigned group_key(int f, const cg_store_group *g, uint8_t k[16])
{
    switch (f) {
    case CG_F_SRC:
    case CG_F_DST: memcpy(k, g->addr, 16); return 16;
    case CG_F_SID: be64(k, (uint64_t)g->num << 32 | g->gid); return 8;
    case CG_F_SRC_CC:
    case CG_F_DST_CC: memcpy(k, g->cc, 2); return 2;
    case CG_F_SRC_ASN:
    case CG_F_DST_ASN:
        be64(k, g->num);
        memmove(k, k + 4, 4);
        return 4;
    case CG_F_DPORT: k[0] = (uint8_t)(g->num >> 8), k[1] = (uint8_t)g->num; return 2;
    default: k[0] = (uint8_t)g->num; return 1;
    }
}

struct refgroup {
    uint8_t k[16];
    unsigned kl;
    uint64_t n;
};

static int ref_group_cmp(const void *a, const void *b)
{
    const struct refgroup *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return memcmp(x->k, y->k, x->kl);
}

struct hgot {
    uint64_t start[4096], n[4096];
    size_t len;
};

static int cb_hist(uint64_t start, uint64_t n, void *arg)
{
    struct hgot *h = arg;
    if (h->len < 4096) {
        h->start[h->len] = start;
        h->n[h->len++] = n;
    }
    return 0;
}

/* count, top-N by a field and a histogram of q against the oracle */
static void check_aggregates(cg_store *st, const cg_query *q, int field, int line)
{
    static struct refgroup ref[NQ];
    static struct hgot h;
    static uint64_t hist[4096];
    cg_store_group top[6];
    uint64_t n = 0, cnt = UINT64_MAX, bucket = 7000;
    size_t nref = 0, ntop = 99;
    int ok = 1;

    memset(hist, 0, sizeof hist);
    for (uint64_t id = 1; id <= NQ; id++) {
        uint8_t k[16];
        unsigned kl;
        size_t i;
        if (!ref_match(q, &qinc[id]))
            continue;
        n++;
        hist[qinc[id].first_us / bucket]++;
        if ((kl = ref_key(field, &qinc[id], k)) == 0)
            continue;
        for (i = 0; i < nref && memcmp(ref[i].k, k, kl); i++)
            ;
        if (i == nref) {
            memcpy(ref[nref].k, k, kl);
            ref[nref].kl = kl;
            ref[nref++].n = 0;
        }
        ref[i].n++;
    }
    qsort(ref, nref, sizeof *ref, ref_group_cmp);
    if (cg_store_count(st, q, &cnt) != 0 || cnt != n)
        ok = 0;
    if (cg_store_top(st, q, field, top, 6, &ntop) != 0 || ntop != (nref < 6 ? nref : 6))
        ok = 0;
    for (size_t i = 0; ok && i < ntop; i++) {
        uint8_t k[16];
        group_key(field, &top[i], k);
        if (top[i].count != ref[i].n || memcmp(k, ref[i].k, ref[i].kl))
            ok = 0;
    }
    h.len = 0;
    if (cg_store_histogram(st, q, bucket, cb_hist, &h) != 0)
        ok = 0;
    for (size_t i = 0, b = 0; ok && b < 4096; b++) {
        if (!hist[b])
            continue;
        if (i >= h.len || h.start[i] != b * bucket || h.n[i] != hist[b])
            ok = 0;
        i++;
        if (b == 4095 && i != h.len)
            ok = 0;
    }
    if (!ok)
        fprintf(stderr, "aggregates at line %d (has %#x, field %d): count %llu/%llu, top %zu/%zu\n",
                line, q->has, field, (unsigned long long)cnt, (unsigned long long)n, ntop, nref);
    CHECK(ok);
}
#define CHECK_AGG(st, q, f) check_aggregates(st, q, f, __LINE__)

static void check_plan(cg_store *st, const cg_query *q, const char *want, int line)
{
    char plan[128] = "";
    int ok = cg_store_explain(st, q, plan, sizeof plan) == 0 && strstr(plan, want);
    if (!ok)
        fprintf(stderr, "plan at line %d: \"%s\" has no \"%s\"\n", line, plan, want);
    CHECK(ok);
}
#define CHECK_PLAN(st, q, want) check_plan(st, q, want, __LINE__)

/* A random query: one to four filters, values from the pools the incidents
 * were drawn from (so that most find something). */
static void random_query(cg_query *q)
{
    static const uint16_t ports[] = { 53, 80, 443, 12345, 22 };
    static const uint32_t sids[] = { 1000, 1001, 2000, 3000 };
    uint8_t a[16];
    int nf = 1 + (int)(rnd() % 4);

    memset(q, 0, sizeof *q);
    for (int i = 0; i < nf; i++) {
        switch (rnd() % 16) {
        case 0:
            q->has |= CG_Q_SINCE | CG_Q_UNTIL;
            q->since_us = 1000000 + rnd() % 100000;
            q->until_us = q->since_us + rnd() % 60000;
            break;
        case 1:
            q->has |= CG_Q_SRC;
            a4(a, 10, 0, (unsigned)(rnd() % 2), 0);
            cidr(q->src_lo, q->src_hi, a, 96 + 8 + (unsigned)(rnd() % 17));
            break;
        case 2:
            q->has |= CG_Q_DST;
            a6(a, "2001:db8::");
            cidr(q->dst_lo, q->dst_hi, a, 32);
            if (rnd() & 1) {
                a4(a, 192, 168, 1, 0);
                cidr(q->dst_lo, q->dst_hi, a, 96 + 24 + (unsigned)(rnd() % 9));
            }
            break;
        case 3:
            q->has |= CG_Q_SID;
            q->sid = sids[rnd() % 4];
            break;
        case 4:
            q->has |= CG_Q_SEV;
            q->sev_max = (uint8_t)(1 + rnd() % 4);
            break;
        case 5:
            q->has |= CG_Q_STATUS;
            q->status_mask = (unsigned)(1 + rnd() % 31);
            break;
        case 6:
            q->has |= CG_Q_SRC_CC;
            strcpy(q->src_cc, q_cc[rnd() % 6]);
            break;
        case 7:
            q->has |= CG_Q_DST_CC;
            strcpy(q->dst_cc, q_cc[rnd() % 6]);
            break;
        case 8:
            q->has |= CG_Q_SRC_ASN;
            q->src_asn = q_asn[rnd() % 5];
            break;
        case 9:
            q->has |= CG_Q_DST_ASN;
            q->dst_asn = q_asn[rnd() % 5];
            break;
        case 10:
            q->has |= CG_Q_DPORT;
            q->dport = ports[rnd() % 5];
            break;
        case 11:
            q->has |= CG_Q_COMMUNITY;
            q->community_id = q_cids[rnd() % 6];
            break;
        case 12:
            q->has |= CG_Q_ASSIGNEE;
            q->assignee = q_who[rnd() % 4];
            break;
        case 13:
            q->has |= CG_Q_PORT;
            q->port = ports[rnd() % 5];
            break;
        case 14:
            q->has |= CG_Q_SPORT;
            q->sport = ports[rnd() % 5];
            break;
        default:
            q->has |= CG_Q_GID;
            q->gid = 1 + (uint32_t)(rnd() % 3);
            break;
        }
    }
}

static void test_queries(void)
{
    const char *dir = path("query");
    static const uint32_t sids[] = { 1000, 1001, 2000, 3000 };
    static const uint32_t gids[] = { 1, 1, 1, 3 };
    static const uint16_t ports[] = { 53, 80, 443, 12345, 22 };
    cg_store *st;
    cg_query q;
    uint8_t a[16];

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (uint64_t id = 1; id <= NQ; id++) {
        cg_incident *x = &qinc[id];
        uint64_t r = rnd();
        *x = mk(QID(id));
        switch (r % 6) {
        case 0: a4(x->src, 10, 0, 0, (unsigned)(r >> 8) % 256); break;
        case 1: a4(x->src, 10, 0, 1, (unsigned)(r >> 8) % 256); break;
        case 2: a4(x->src, 10, 200, (unsigned)(r >> 16) % 256, (unsigned)(r >> 8) % 256); break;
        case 3: a4(x->src, 192, 168, 1, (unsigned)(r >> 8) % 256); break;
        case 4: a6(x->src, (r >> 8) & 1 ? "2001:db8::5" : "2001:db8:ffff::1"); break;
        default: a6(x->src, "2001:db9::1"); break;
        }
        switch ((r >> 24) % 4) {
        case 0: a4(x->dst, 192, 168, 1, (unsigned)(r >> 30) % 256); break;
        case 1: a4(x->dst, 172, 16, 0, 1); break;
        case 2: a6(x->dst, "2001:db8:0:1::80"); break;
        default: a4(x->dst, 8, 8, 8, 8); break;
        }
        x->sid = sids[(r >> 40) % 4];
        x->gid = gids[(r >> 40) % 4] == 3 && ((r >> 44) & 1) ? 3 : 1;
        x->severity = (uint8_t)(1 + (r >> 46) % 4);
        x->sport = ports[(r >> 48) % 5];
        x->dport = ports[(r >> 52) % 5];
        /* first_us follows ids give or take 3000 (the time index has to
         * sort, and partitions of a time range are read in part) */
        x->first_us = 1000000 - 3000 + id * 100000 / NQ + rnd() % 6000;
        r = rnd();
        x->status = (uint8_t)(r % CG_ST_COUNT);
        strcpy(x->src_geo.country, q_cc[(r >> 4) % 6]);
        strcpy(x->dst_geo.country, q_cc[(r >> 8) % 3]);
        x->src_geo.asn = q_asn[(r >> 12) % 5];
        x->dst_geo.asn = q_asn[(r >> 16) % 3];
        x->assignee = q_who[(r >> 20) % 4];
        x->community_id = q_cids[(r >> 24) % 6];
        /* a later alert on another flow, for a third of them */
        qalert_cid[id] = (r >> 28) % 3 == 0 ? q_cids[(r >> 32) % 6] : "";
        CHECK_EQ_U(cg_store_put(st, x), 0);
        if (qalert_cid[id][0]) {
            cg_alert al = { x->first_us + 1, 0, qalert_cid[id], 0, 0, x->severity, -1 };
            CHECK_EQ_U(cg_store_put_alert(st, QID(id), 1, &al), 0);
        }
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    cg_store_close(st);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);

    /* each index drives the query of its field; the rest are read */
    memset(&q, 0, sizeof q);
    CHECK_PLAN(st, &q, "scan incidents");
    q.has = CG_Q_SINCE, q.since_us = 1090000;
    CHECK_PLAN(st, &q, "by_time");
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SRC;
    a4(a, 10, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 24);
    CHECK_PLAN(st, &q, "by_src");
    q.has = CG_Q_DST;
    a4(a, 192, 168, 1, 0);
    cidr(q.dst_lo, q.dst_hi, a, 96 + 24);
    CHECK_PLAN(st, &q, "by_dst");
    q.has = CG_Q_SID, q.sid = 1000;
    CHECK_PLAN(st, &q, "parts by_sid");
    q.has = CG_Q_SEV, q.sev_max = 2;
    CHECK_PLAN(st, &q, "stream by_sev");
    q.has = CG_Q_STATUS, q.status_mask = 1u << CG_ST_NEW | 1u << CG_ST_RESOLVED;
    CHECK_PLAN(st, &q, "stream by_status");
    q.has = CG_Q_SRC_CC, strcpy(q.src_cc, "VN");
    CHECK_PLAN(st, &q, "by_src_cc");
    q.has = CG_Q_DST_CC, strcpy(q.dst_cc, "CN");
    CHECK_PLAN(st, &q, "by_dst_cc");
    q.has = CG_Q_SRC_ASN, q.src_asn = 4134;
    CHECK_PLAN(st, &q, "by_src_asn");
    q.has = CG_Q_DST_ASN, q.dst_asn = 45899;
    CHECK_PLAN(st, &q, "by_dst_asn");
    q.has = CG_Q_DPORT, q.dport = 443;
    CHECK_PLAN(st, &q, "by_dport");
    q.has = CG_Q_COMMUNITY, q.community_id = "1:cccc=";
    CHECK_PLAN(st, &q, "by_community");
    q.has = CG_Q_ASSIGNEE, q.assignee = "chi";
    CHECK_PLAN(st, &q, "by_assignee");
    q.has = CG_Q_PORT, q.port = 80;
    CHECK_PLAN(st, &q, "scan incidents");
    for (unsigned has = CG_Q_SINCE; has <= CG_Q_ASSIGNEE; has <<= 1) {
        if (has == CG_Q_UNTIL || has == CG_Q_GID || has == CG_Q_PORT || has == CG_Q_SPORT)
            continue;
        q.has = has;
        CHECK(CHECK_QUERY(st, &q) > 0);
        CHECK_AGG(st, &q, CG_F_SRC);
    }
    /* a time range over most of a few partitions: those partitions are read
     * whole, the others not at all */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 1000000, q.until_us = 1060000;
    CHECK_PLAN(st, &q, "scan incidents (5 partitions in time)");
    CHECK(CHECK_QUERY(st, &q) > 1500);
    CHECK_AGG(st, &q, CG_F_DPORT);
    q.since_us = 1050000, q.until_us = 1051000;
    CHECK_PLAN(st, &q, "collect by_time 36");
    CHECK(CHECK_QUERY(st, &q) > 20);
    /* the smallest drives: a port of a /24 rather than the whole /24 */
    q.has = CG_Q_SRC | CG_Q_SEV, q.sev_max = 1;
    a4(a, 10, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 24);
    CHECK_PLAN(st, &q, "parts by_src");
    CHECK(CHECK_QUERY(st, &q) > 5);
    q.has = CG_Q_SEV | CG_Q_DST_ASN | CG_Q_COMMUNITY, q.sev_max = 2, q.dst_asn = 45899;
    q.community_id = "1:aaaa=";
    CHECK_PLAN(st, &q, "by_community");
    CHECK(CHECK_QUERY(st, &q) > 0);
    /* two large ones of a size: the second is intersected as a bitmap */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SRC | CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 1000000, q.until_us = 1040000;
    a4(a, 10, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 16);
    CHECK_PLAN(st, &q, "parts by_src");
    CHECK_PLAN(st, &q, " & by_time");
    CHECK(CHECK_QUERY(st, &q) > 300);
    CHECK_AGG(st, &q, CG_F_DST);

    /* random combinations, against the oracle */
    {
        int found = 0;
        for (int i = 0; i < 300; i++) {
            random_query(&q);
            found += CHECK_QUERY(st, &q) > 0;
            if (i % 3 == 0)
                CHECK_AGG(st, &q, CG_F_SRC + (int)(rnd() % 10));
        }
        CHECK(found > 150); /* not vacuous */
    }
    /* aggregates with no filter (from the indexes) and with one */
    memset(&q, 0, sizeof q);
    for (int f = CG_F_SRC; f <= CG_F_STATUS; f++)
        CHECK_AGG(st, &q, f);
    q.has = CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 1010000, q.until_us = 1040000;
    for (int f = CG_F_SRC; f <= CG_F_STATUS; f++)
        CHECK_AGG(st, &q, f);
    /* a wide range: partitions inside it counted from the indexes, the two on
     * its edges from their records */
    q.since_us = 1005000, q.until_us = 1095000;
    for (int f = CG_F_SRC; f <= CG_F_DPORT; f++)
        CHECK_AGG(st, &q, f);
    q.has = CG_Q_SEV, q.sev_max = 2;
    CHECK_AGG(st, &q, CG_F_SEV);
    CHECK_AGG(st, &q, CG_F_SID);

    memset(&q, 0, sizeof q);
    CHECK_EQ_U(CHECK_QUERY(st, &q), NQ);

    q.has = CG_Q_SRC;
    a4(a, 10, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 24);
    CHECK(CHECK_QUERY(st, &q) > 10);
    cidr(q.src_lo, q.src_hi, a, 96 + 8);
    CHECK(CHECK_QUERY(st, &q) > 200);
    a6(a, "2001:db8::");
    cidr(q.src_lo, q.src_hi, a, 32);
    CHECK(CHECK_QUERY(st, &q) > 20);
    a6(a, "2001:db8::5");
    cidr(q.src_lo, q.src_hi, a, 128);
    CHECK(CHECK_QUERY(st, &q) > 5);
    a4(a, 11, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 8);
    CHECK_EQ_U(CHECK_QUERY(st, &q), 0);

    memset(&q, 0, sizeof q);
    q.has = CG_Q_DST;
    a4(a, 192, 168, 1, 0);
    cidr(q.dst_lo, q.dst_hi, a, 96 + 24);
    CHECK(CHECK_QUERY(st, &q) > 50);
    a6(a, "2001:db8::");
    cidr(q.dst_lo, q.dst_hi, a, 32);
    CHECK(CHECK_QUERY(st, &q) > 50);

    memset(&q, 0, sizeof q);
    q.has = CG_Q_SID, q.sid = 1000;
    CHECK(CHECK_QUERY(st, &q) > 50);
    q.sid = 3000; /* in gid 1 and gid 3 */
    CHECK(CHECK_QUERY(st, &q) > 50);
    q.has |= CG_Q_GID, q.gid = 3;
    CHECK(CHECK_QUERY(st, &q) > 20);
    q.has = CG_Q_GID; /* gid alone: a full scan */
    CHECK(CHECK_QUERY(st, &q) > 20);
    q.has = CG_Q_SID, q.sid = 4242;
    CHECK_EQ_U(CHECK_QUERY(st, &q), 0);

    memset(&q, 0, sizeof q);
    q.has = CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 1020000, q.until_us = 1050000;
    CHECK(CHECK_QUERY(st, &q) > 100);
    q.has = CG_Q_SINCE;
    CHECK(CHECK_QUERY(st, &q) > 300);
    q.has = CG_Q_UNTIL;
    CHECK(CHECK_QUERY(st, &q) > 50);
    q.has = CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 1050000, q.until_us = 1050000;
    CHECK_EQ_U(CHECK_QUERY(st, &q), 0);
    q.has = CG_Q_UNTIL, q.until_us = 0;
    CHECK_EQ_U(CHECK_QUERY(st, &q), 0);

    memset(&q, 0, sizeof q);
    q.has = CG_Q_SEV, q.sev_max = 1;
    CHECK(CHECK_QUERY(st, &q) > 50);
    q.sev_max = 2;
    CHECK(CHECK_QUERY(st, &q) > 200);
    q.has = CG_Q_PORT, q.port = 53;
    CHECK(CHECK_QUERY(st, &q) > 100);
    q.has = CG_Q_SPORT, q.sport = 12345;
    CHECK(CHECK_QUERY(st, &q) > 50);
    q.has = CG_Q_DPORT, q.dport = 443;
    CHECK(CHECK_QUERY(st, &q) > 50);
    q.has = CG_Q_SPORT | CG_Q_DPORT, q.sport = 53, q.dport = 53;
    CHECK(CHECK_QUERY(st, &q) > 5);

    /* combinations: one index drives, the rest is checked per record */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SRC | CG_Q_SID | CG_Q_SEV, q.sid = 2000, q.sev_max = 2;
    a4(a, 10, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 8);
    CHECK(CHECK_QUERY(st, &q) > 5);
    q.has = CG_Q_SRC | CG_Q_DST | CG_Q_PORT, q.port = 80;
    a4(a, 192, 168, 1, 0);
    cidr(q.dst_lo, q.dst_hi, a, 96 + 16);
    CHECK(CHECK_QUERY(st, &q) > 5);
    q.has = CG_Q_DST | CG_Q_SINCE | CG_Q_UNTIL | CG_Q_DPORT;
    q.since_us = 1000000, q.until_us = 1060000, q.dport = 22;
    CHECK(CHECK_QUERY(st, &q) > 5);
    q.has = CG_Q_SID | CG_Q_SINCE | CG_Q_SEV, q.sid = 1001, q.since_us = 1030000, q.sev_max = 3;
    CHECK(CHECK_QUERY(st, &q) > 5);
    q.has = CG_Q_SINCE | CG_Q_UNTIL | CG_Q_SEV | CG_Q_PORT;
    q.since_us = 1010000, q.until_us = 1090000, q.sev_max = 2, q.port = 443;
    CHECK(CHECK_QUERY(st, &q) > 5);
    q.has = CG_Q_SEV | CG_Q_SPORT, q.sev_max = 1, q.sport = 22;
    CHECK(CHECK_QUERY(st, &q) > 3);

    /* a range upside down is the caller's mistake */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SRC;
    a4(q.src_lo, 10, 0, 0, 9);
    a4(q.src_hi, 10, 0, 0, 1);
    CHECK((int)q_ids(st, &q, (struct got[1]){ 0 }) == -1);
    CHECK_CONTAINS(cg_store_error(st), "low above high");
    cg_store_close(st);
}

/* ---- a predicate on records (cg_query.match) ----------------------------------------- */

/* The predicates a query language would give: on numbers, on strings, on
 * nothing at all. Each counts its calls, so a test can tell that records
 * were read. */
struct pred {
    int kind;
    unsigned k, r;
    long calls;
};

static int pred_fn(const cg_incident *x, void *arg)
{
    struct pred *p = arg;
    p->calls++;
    switch (p->kind) {
    case 0: return (x->id / QSTEP) % p->k == p->r;    /* every k-th incident */
    case 1: return (x->sport + x->dport) % 2 == p->r; /* ports: record only */
    case 2: return strcmp(nz(x->assignee), "an") == 0 || x->src_geo.asn == 4134;
    case 3: return 0; /* nothing */
    case 4: return 1; /* everything */
    default: return strstr(nz(x->community_id), "bbbb") != NULL && x->severity <= 3;
    }
}

static void set_pred(cg_query *q, struct pred *p, int kind)
{
    p->kind = kind;
    p->k = 2 + (unsigned)(rnd() % 5);
    p->r = (unsigned)(rnd() % (kind == 1 ? 2 : p->k));
    p->calls = 0;
    q->match = pred_fn;
    q->match_arg = p;
}

static void test_predicate(void)
{
    const char *dir = path("query"); /* test_queries' store and oracle */
    cg_store *st;
    cg_query q;
    struct pred pr;
    uint8_t a[16];
    uint64_t n;

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    /* no filter: every record is read (no count from the size of incidents,
     * no top-N from an index) */
    memset(&q, 0, sizeof q);
    set_pred(&q, &pr, 0);
    CHECK(CHECK_QUERY(st, &q) > 100);
    CHECK(pr.calls >= NQ);
    pr.calls = 0;
    CHECK_EQ_U(cg_store_count(st, &q, &n), 0);
    CHECK_EQ_U(pr.calls, NQ);
    for (int f = CG_F_SRC; f <= CG_F_STATUS; f++)
        CHECK_AGG(st, &q, f);
    CHECK_PLAN(st, &q, "scan incidents + predicate");
    /* one indexed filter: no sum of index counts either */
    q.has = CG_Q_SEV, q.sev_max = 2;
    CHECK(CHECK_QUERY(st, &q) > 50);
    CHECK_AGG(st, &q, CG_F_SEV);
    CHECK_PLAN(st, &q, "stream by_sev");
    CHECK_PLAN(st, &q, "+ predicate");
    /* a time range alone: no top-N from the partitions' keys, no histogram
     * from by_time's */
    q.has = CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 1005000, q.until_us = 1095000;
    for (int f = CG_F_SRC; f <= CG_F_DPORT; f++)
        CHECK_AGG(st, &q, f);
    set_pred(&q, &pr, 1);
    CHECK(CHECK_QUERY(st, &q) > 100);
    CHECK_AGG(st, &q, CG_F_SRC);
    /* strings of the record (assignee) and the geo fields */
    memset(&q, 0, sizeof q);
    set_pred(&q, &pr, 2);
    q.has = CG_Q_SRC;
    a4(a, 10, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 16);
    CHECK(CHECK_QUERY(st, &q) > 50);
    CHECK_AGG(st, &q, CG_F_DST);
    /* nothing matches: empty pages, zero counts, no groups */
    set_pred(&q, &pr, 3);
    CHECK_EQ_U(CHECK_QUERY(st, &q), 0);
    CHECK_AGG(st, &q, CG_F_SRC_CC);
    /* everything: the same as no predicate */
    set_pred(&q, &pr, 4);
    {
        cg_query plain = q;
        uint64_t a1 = 0, a2 = 1;
        plain.match = NULL;
        CHECK(CHECK_QUERY(st, &q) > 200);
        CHECK(cg_store_count(st, &q, &a1) == 0 && cg_store_count(st, &plain, &a2) == 0 && a1 == a2);
    }
    /* the Community ID filter by index and a predicate on the record */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_COMMUNITY, q.community_id = "1:bbbb=";
    set_pred(&q, &pr, 5);
    CHECK(CHECK_QUERY(st, &q) > 10);
    CHECK_AGG(st, &q, CG_F_SID);
    /* random filters and predicates, against the oracle */
    {
        int found = 0;
        for (int i = 0; i < 200; i++) {
            random_query(&q);
            set_pred(&q, &pr, (int)(rnd() % 6));
            found += CHECK_QUERY(st, &q) > 0;
            if (i % 2 == 0)
                CHECK_AGG(st, &q, CG_F_SRC + (int)(rnd() % 10));
        }
        CHECK(found > 60);
    }
    cg_store_close(st);
}

/* Pages with a predicate while the writer stores new incidents and re-puts
 * old ones: each page holds `limit` matches (rejected records do not count),
 * the walk gives every match that existed when it began, once, newest first. */
static void test_predicate_paging(void)
{
    const char *dir = path("predpage");
    static struct got g;
    static unsigned char seen[MAXGOT];
    cg_store *st;
    cg_query q;
    struct pred pr = { 0, 3, 0, 0 };
    uint64_t cursor = 0, want = 0, top;
    int pages = 0, ok = 1;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 3000; i++) {
        cg_incident x = mk(cg_store_new_id(st));
        x.severity = (uint8_t)(1 + x.id % 4);
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    top = 3000;
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SEV, q.sev_max = 3;
    q.match = pred_fn, q.match_arg = &pr; /* (id / QSTEP) % 3 == 0 */
    for (uint64_t id = 1; id <= top; id++)
        want += (1 + id % 4) <= 3 && (id / QSTEP) % 3 == 0;
    {
        uint64_t n = 0;
        CHECK(cg_store_count(st, &q, &n) == 0 && n == want);
    }
    memset(seen, 0, sizeof seen);
    g.n = 0, g.stop_after = 0;
    do {
        size_t before = g.n;
        if (cg_store_query(st, &q, 50, &cursor, cb_collect, &g) != 0)
            ok = 0;
        if (g.n - before > 50 || (cursor && g.n - before != 50))
            ok = 0; /* a full page is `limit` matches */
        for (size_t i = before; i < g.n; i++) {
            uint64_t id = g.ids[i];
            if (id > top || seen[id]++ || (id / QSTEP) % 3 != 0 || 1 + id % 4 > 3 ||
                (i && id >= g.ids[i - 1]))
                ok = 0;
        }
        if (g.n > before) {
            /* new incidents above the walk, and an old one grown */
            cg_incident x = mk(g.ids[g.n - 1]);
            x.severity = (uint8_t)(1 + x.id % 4);
            x.count = 7;
            ok &= cg_store_begin(st) == 0 && cg_store_put(st, &x) == 0;
            for (int i = 0; i < 20; i++) {
                x = mk(cg_store_new_id(st));
                x.severity = 1;
                ok &= cg_store_put(st, &x) == 0;
            }
            ok &= cg_store_commit(st) == 0;
        }
    } while (cursor && ++pages < 500 && ok);
    CHECK(ok);
    CHECK_EQ_U(g.n, want);
    CHECK(pages >= (int)(want / 50) - 1);
    cg_store_close(st);
}

/* ---- paging over 1000 ----------------------------------------------------------- */

/* Pages through q 100 at a time; with `grow`, the writer stores 20 new
 * matching incidents and updates one already seen between two pages. Either
 * way the walk gives what matched when it began, each once, newest first. */
static void page_all(cg_store *st, const cg_query *q, const char *what, int grow)
{
    static struct got g;
    static unsigned char seen[MAXGOT];
    uint64_t cursor = 0, want = 0, top = 0;
    int calls = 0, ok = 1;

    CHECK(cg_store_count(st, q, &want) == 0 && want >= 1000 && want < MAXGOT);
    memset(seen, 0, sizeof seen);
    g.n = 0;
    g.stop_after = 0;
    do {
        size_t before = g.n;
        if (cg_store_query(st, q, 100, &cursor, cb_collect, &g) != 0)
            ok = 0;
        if (g.n - before > 100)
            ok = 0;
        if (g.n && !top)
            top = g.ids[0];
        if (grow && g.n) {
            cg_incident x = mk(g.ids[g.n - 1]);
            x.first_us = 5000000 - x.id;
            x.count = 2;
            ok &= cg_store_begin(st) == 0 && cg_store_put(st, &x) == 0;
            for (int i = 0; i < 20; i++) {
                x = mk(cg_store_new_id(st));
                ok &= cg_store_put(st, &x) == 0;
            }
            ok &= cg_store_commit(st) == 0;
        }
    } while (cursor && ++calls < 100 && ok);
    CHECK_EQ_U(g.n, want);
    for (size_t i = 0; i < g.n; i++) {
        if (g.ids[i] < 1 || g.ids[i] > top || g.ids[i] >= MAXGOT || seen[g.ids[i]]++)
            ok = 0;
        if (i && g.ids[i] >= g.ids[i - 1])
            ok = 0;
    }
    if (!ok)
        fprintf(stderr, "paging by %s failed\n", what);
    CHECK(ok);
    CHECK(calls >= (int)want / 100 && calls <= (int)want / 100 + 1);
}

static void test_paging(void)
{
    const char *dir = path("paging");
    static struct got g;
    cg_store *st;
    cg_query q;
    uint64_t cursor;
    uint8_t a[16];

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    for (int b = 0; b < 10; b++) {
        CHECK_EQ_U(cg_store_begin(st), 0);
        for (int i = 0; i < 100; i++) {
            cg_incident x = mk(cg_store_new_id(st));
            x.first_us = 5000000 - x.id; /* time runs against ids */
            CHECK_EQ_U(cg_store_put(st, &x), 0);
        }
        CHECK_EQ_U(cg_store_commit(st), 0);
    }
    memset(&q, 0, sizeof q);
    page_all(st, &q, "incidents", 0);
    q.has = CG_Q_SRC;
    a4(a, 10, 0, 0, 0);
    cidr(q.src_lo, q.src_hi, a, 96 + 8);
    page_all(st, &q, "by_src", 0);
    q.has = CG_Q_SINCE;
    q.since_us = 0;
    page_all(st, &q, "by_time", 0);
    q.has = CG_Q_SEV;
    q.sev_max = 3;
    page_all(st, &q, "by_sev", 0);

    memset(&q, 0, sizeof q);
    /* the callback stops the walk: the cursor is the last id it saw */
    memset(&q, 0, sizeof q);
    g.n = 0;
    g.stop_after = 5;
    cursor = 0;
    CHECK_EQ_U(cg_store_query(st, &q, 0, &cursor, cb_collect, &g), 0);
    CHECK_EQ_U(g.n, 5);
    CHECK_EQ_U(cursor, 996);
    g.n = 0;
    CHECK_EQ_U(cg_store_query(st, &q, 0, &cursor, cb_collect, &g), 0);
    CHECK_EQ_U(g.ids[0], 995);
    /* a cursor above every id, and one at the bottom */
    g.n = 0, g.stop_after = 0, cursor = 5000;
    CHECK_EQ_U(cg_store_query(st, &q, 3, &cursor, cb_collect, &g), 0);
    CHECK(g.n == 3 && g.ids[0] == 1000 && cursor == 998);
    g.n = 0, cursor = 1;
    CHECK_EQ_U(cg_store_query(st, &q, 3, &cursor, cb_collect, &g), 0);
    CHECK(g.n == 0 && cursor == 0);

    /* the same while the writer stores between pages: keyset, not offset */
    memset(&q, 0, sizeof q);
    page_all(st, &q, "incidents, growing", 1);
    q.has = CG_Q_SRC;
    cidr(q.src_lo, q.src_hi, a, 96 + 8);
    page_all(st, &q, "by_src, growing", 1);
    q.has = CG_Q_SINCE;
    page_all(st, &q, "by_time, growing", 1);
    q.has = CG_Q_SEV, q.sev_max = 3;
    page_all(st, &q, "by_sev, growing", 1);
    {
        /* a stream of one sid and port: ids 1 + 5k, sid 2000001 */
        uint64_t cur = 0, last = UINT64_MAX, want = 0;
        int n = 0, ok = 1, pages = 0;
        q.has = CG_Q_SEV | CG_Q_DPORT | CG_Q_SID, q.dport = 80, q.sid = 2000001;
        CHECK(cg_store_count(st, &q, &want) == 0 && want > 200);
        g.n = 0, g.stop_after = 0;
        do {
            size_t before = g.n;
            ok &= cg_store_query(st, &q, 30, &cur, cb_collect, &g) == 0;
            for (size_t i = before; i < g.n; i++, n++) {
                ok &= g.ids[i] < last && g.ids[i] % 5 == 1;
                last = g.ids[i];
            }
            if (g.n) {
                cg_incident x = mk(cg_store_new_id(st));
                x.sid = 2000001;
                ok &= cg_store_begin(st) == 0 && cg_store_put(st, &x) == 0 &&
                    cg_store_commit(st) == 0;
            }
        } while (cur && ++pages < 100);
        CHECK(ok);
        CHECK_EQ_U(n, want);
    }
    cg_store_close(st);
}

/* ---- a full map ------------------------------------------------------------------- */

static void test_full(void)
{
    const char *dir = path("full");
    static uint8_t pkt[1400];
    static uint64_t committed[4096];
    size_t ncommitted = 0;
    uint64_t failed_first = 0, failed_last = 0;
    cg_store *st;
    cg_store_info info;
    int rc = 0, batches = 0, n, notes = 0;

    memset(pkt, 0xab, sizeof pkt);
    CHECK_EQ_U(cg_store_open(&st, dir, 0, (uint64_t)1 << 20), 0);
    while (batches++ < 1000) {
        uint64_t ids[10];
        int nids = 0;
        CHECK_EQ_U(cg_store_begin(st), 0);
        for (int i = 0; i < 10; i++) {
            cg_incident x = mk(ids[nids++] = cg_store_new_id(st));
            cg_evidence ev = { 1, 1, sizeof pkt, sizeof pkt, pkt };
            rc = cg_store_put(st, &x);
            for (uint32_t s = 0; s < 4 && rc == 0; s++)
                rc = cg_store_put_evidence(st, x.id, s, &ev);
            if (rc)
                break;
        }
        if (rc) {
            /* the batch is gone: later puts say so, commit closes it */
            cg_incident x = mk(ids[0]);
            CHECK((int)rc == CG_EFULL);
            CHECK((int)cg_store_put(st, &x) == CG_EFULL);
            rc = cg_store_commit(st);
            CHECK((int)rc == CG_EFULL);
        } else {
            rc = cg_store_commit(st);
        }
        if (rc) {
            failed_first = ids[0], failed_last = ids[nids - 1];
            break;
        }
        memcpy(committed + ncommitted, ids, sizeof ids);
        ncommitted += 10;
    }
    CHECK((int)rc == CG_EFULL);
    CHECK(ncommitted > 0);
    CHECK_CONTAINS(cg_store_error(st), dir);
    CHECK_CONTAINS(cg_store_error(st),
                   "store is full (map size 1 MiB); nothing of this batch was stored");
    /* the handle goes on: a new batch opens, and an abort drops it */
    CHECK_EQ_U(cg_store_begin(st), 0);
    cg_store_abort(st);
    /* triage on a full map: the change that does not fit is refused whole */
    {
        static char note[30000];
        int added = 0, hn = 0;
        notes = 0;
        memset(note, 'n', sizeof note - 1);
        for (int i = 0; i < 100 && (rc = cg_store_note_add(st, committed[0], "an", 1, note)) == 0;
             i++)
            added++;
        CHECK((int)rc == CG_EFULL);
        CHECK_CONTAINS(cg_store_error(st), "nothing of this change was stored");
        CHECK_EQ_U(cg_store_history(st, committed[0], cb_hist_count, &hn), 0);
        CHECK_EQ_U(hn, added);
        notes = added;
    }
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, 0, (uint64_t)1 << 20), 0);
    n = 0;
    for (size_t i = 0; i < ncommitted; i++) {
        cg_incident want = mk(committed[i]);
        int ne = 0;
        want.nnotes = i == 0 ? (uint32_t)notes : 0;
        if (get_equal(st, &want) && cg_store_evidence(st, committed[i], cb_ev_count, &ne) == 0 &&
            ne == 4)
            n++;
    }
    CHECK_EQ_U(n, ncommitted);
    CHECK((int)cg_store_get(st, failed_first, cb_count, &n) == CG_ENOTFOUND);
    CHECK((int)cg_store_get(st, failed_last, cb_count, &n) == CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.incidents, ncommitted);
    CHECK_EQ_U(info.evidence, ncommitted * 4);
    CHECK_EQ_U(info.map_size, (uint64_t)1 << 20);
    CHECK(info.map_used <= info.map_size);
    /* ids of the lost batch were never on disk; what is, is not reused */
    CHECK(cg_store_new_id(st) == committed[ncommitted - 1] + 1);
    cg_store_close(st);

    /* a reader with the default size maps what the store has */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    n = 0;
    CHECK_EQ_U(cg_store_query(st, NULL, 0, NULL, cb_count, &n), 0);
    CHECK_EQ_U(n, ncommitted);
    cg_store_close(st);

    /* and a writer with a bigger map goes on where it stopped */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, (uint64_t)64 << 20), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 20; i++) {
        cg_incident x = mk(cg_store_new_id(st));
        cg_evidence ev = { 1, 1, sizeof pkt, sizeof pkt, pkt };
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        CHECK_EQ_U(cg_store_put_evidence(st, x.id, 0, &ev), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.incidents, ncommitted + 20);
    cg_store_close(st);

    /* the default size: at least 16 GiB, and a larger map is kept */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK(cg_store_info_get(st, &info) == 0 && info.map_size == (uint64_t)16 << 30);
    cg_store_close(st);
    CHECK_EQ_U(cg_store_open(&st, path("bigmap"), 0, (uint64_t)32 << 30), 0);
    cg_store_close(st);
    CHECK_EQ_U(cg_store_open(&st, path("bigmap"), 0, 0), 0);
    CHECK(cg_store_info_get(st, &info) == 0 && info.map_size == (uint64_t)32 << 30);
    cg_store_close(st);
    CHECK_EQ_U(cg_store_open(&st, path("bigmap"), CG_STORE_RDONLY, 0), 0);
    CHECK(cg_store_info_get(st, &info) == 0 && info.map_size == (uint64_t)32 << 30);
    cg_store_close(st);
}

/* ---- a newer schema ----------------------------------------------------------------- */

static void test_newer(void)
{
    const char *dir = path("newer");
    const char *data = path("newer/data.mdb");
    static const uint8_t v99[4] = { 0, 0, 0, 99 };
    cg_store *st, *const sentinel = (cg_store *)&st;
    unsigned char *before;
    size_t blen = 0;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, mkp(cg_store_new_id(st))), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    cg_store_close(st);
    CHECK_EQ_U(raw_put(dir, "meta", "schema", 6, v99, 4), 0);
    before = slurp(data, &blen);
    CHECK(before != NULL);

    st = sentinel;
    CHECK((int)cg_store_open(&st, dir, 0, 0) == CG_ENEWER);
    CHECK(st == sentinel);
    CHECK_CONTAINS(cg_store_error(NULL), dir);
    CHECK_CONTAINS(cg_store_error(NULL),
                   "written by schema version 99; this canhgac reads up to 8");
    CHECK((int)cg_store_open(&st, dir, CG_STORE_RDONLY, 0) == CG_ENEWER);
    CHECK(st == sentinel);
    CHECK_CONTAINS(cg_store_error(NULL), "schema version 99");
    CHECK(before && same_file(before, blen, data));
    free(before);
}

/* ---- bad records --------------------------------------------------------------------- */

/* The four record decoders behind one call: decodes b as record kind k and
 * lists the views the result holds (strings, packet bytes and their end). */
enum { R_INC, R_ALERT, R_EV, R_HIST, R_N };

static int decode_views(int k, const uint8_t *b, size_t n, const uint8_t *v[16][2], int *nv)
{
    cg_incident x;
    cg_alert a;
    cg_evidence ev;
    cg_history h;
    const char *s[16];
    int rc, ns = 0;

    switch (k) {
    case R_INC:
        if ((rc = cg_store_decode(b, n, &x)) == 0) {
            const char *xs[14] = {
                x.msg,          x.classtype,      x.community_id,   x.assignee,
                x.src_geo.city, x.src_geo.as_org, x.src_geo.agency, x.src_geo.zone,
                x.dst_geo.city, x.dst_geo.as_org, x.dst_geo.agency, x.dst_geo.zone,
                x.geo_db_type,  x.geo_db_date
            };
            memcpy(s, xs, sizeof xs);
            ns = 14;
        }
        break;
    case R_ALERT:
        if ((rc = cg_store_decode_alert(b, n, &a)) == 0)
            s[ns++] = a.community_id;
        break;
    case R_EV:
        if ((rc = cg_store_decode_evidence(b, n, &ev)) == 0) {
            v[0][0] = ev.data;
            v[0][1] = ev.data + ev.caplen;
            *nv = 1;
            return ev.data == b + 24 && ev.caplen == n - 24 - (b[0] == 2 ? 4 : 0) ? 0 : -100;
        }
        break;
    default:
        if ((rc = cg_store_decode_history(b, n, &h)) == 0) {
            s[ns++] = h.who;
            s[ns++] = h.old_text;
            s[ns++] = h.new_text;
        }
        break;
    }
    *nv = 0;
    for (int i = 0; i < ns; i++) {
        if (!s[i][0])
            continue; /* "" may be the decoder's own */
        v[*nv][0] = (const uint8_t *)s[i];
        v[*nv][1] = (const uint8_t *)s[i] + strlen(s[i]) + 1;
        ++*nv;
    }
    return rc;
}

/* Every truncation of each good record is refused, and mutations are refused
 * or accepted with every view inside the record. Copies sit in buffers of
 * exactly their size so that an over-read trips the sanitizer. */
static void fuzz_decoders(const uint8_t *const rec[R_N], const size_t len[R_N])
{
    static const int rounds[R_N] = { 20000, 5000, 5000, 5000 };
    const uint8_t *v[16][2];
    int bad = 0, accepted[R_N] = { 0 }, nv;

    for (int k = 0; k < R_N; k++) {
        for (size_t n = 0; n < len[k]; n++) {
            uint8_t *b = malloc(n ? n : 1);
            memcpy(b, rec[k], n);
            if (decode_views(k, b, n, v, &nv) != CG_ECORRUPT)
                bad++;
            free(b);
        }
        for (int round = 0; round < rounds[k]; round++) {
            size_t n = len[k] + (rnd() % 3) - 1;
            uint8_t *b = malloc(n);
            int rc;
            memcpy(b, rec[k], n < len[k] ? n : len[k]);
            if (n > len[k])
                b[len[k]] = 0;
            for (int f = 0, nf = 1 + (int)(rnd() % 4); f < nf; f++)
                b[rnd() % n] = (uint8_t)rnd();
            /* half of them sealed again, so that the layout's checks meet
             * them past the seal (which refuses every other one) */
            if (rnd() % 2 && n >= 4)
                reseal(b, n);
            rc = decode_views(k, b, n, v, &nv);
            if (rc == 0) {
                accepted[k]++;
                for (int i = 0; i < nv; i++)
                    if (v[i][0] < b || v[i][1] > b + n)
                        bad++;
            } else if (rc != CG_ECORRUPT) {
                bad++;
            }
            free(b);
        }
        CHECK(accepted[k] > 0); /* flips in fixed fields still decode */
    }
    CHECK_EQ_U(bad, 0);
}

struct problems {
    unsigned n;
    char text[2048];
};

static void on_problem(const char *problem, void *arg)
{
    struct problems *pr = arg;
    size_t l = strlen(pr->text);
    pr->n++;
    snprintf(pr->text + l, sizeof pr->text - l, "%s\n", problem);
}

static void test_corrupt(void)
{
    const char *dir = path("corrupt");
    static uint8_t rec[1024], evrec[256], alrec[256], hrec[256];
    uint8_t key[8], evkey[12], hkey[16], pkt[100];
    size_t len = 0, evlen = 0, allen = 0, hlen = 0;
    cg_store *st;
    cg_incident x;
    cg_evidence ev = { 7, 1, sizeof pkt, sizeof pkt, pkt };
    cg_alert al = { 7, 8, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", 1, 2, 3, 0 };
    int n = 0;

    memset(pkt, 0x5a, sizeof pkt);
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, mkfullp(1)), 0);
    CHECK_EQ_U(cg_store_put_evidence(st, 1, 0, &ev), 0);
    CHECK_EQ_U(cg_store_put_alert(st, 1, 0, &al), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_ASSIGNEE, 0, "binh", 0, "an", 5), 0);
    cg_store_close(st);

    be64(key, 1);
    CHECK_EQ_U(raw_get(dir, "incidents", key, 8, rec, sizeof rec, &len), 0);
    memcpy(evkey, key, 8);
    memset(evkey + 8, 0, 4);
    CHECK_EQ_U(raw_get(dir, "evidence", evkey, 12, evrec, sizeof evrec, &evlen), 0);
    CHECK_EQ_U(raw_get(dir, "alerts", evkey, 12, alrec, sizeof alrec, &allen), 0);
    memcpy(hkey, key, 8);
    memset(hkey + 8, 0, 8);
    CHECK_EQ_U(raw_get(dir, "history", hkey, 16, hrec, sizeof hrec, &hlen), 0);
    CHECK_EQ_U(evlen, 24 + sizeof pkt + 4);
    CHECK(len > 200 && len < sizeof rec);
    {
        const uint8_t *recs[R_N] = { rec, alrec, evrec, hrec };
        const size_t lens[R_N] = { len, allen, evlen, hlen };
        fuzz_decoders(recs, lens);
    }

    /* garbage, a truncated record, one with another id, and a bad key */
    be64(key, 2);
    CHECK_EQ_U(raw_put(dir, "incidents", key, 8, "hello", 5), 0);
    be64(key, 3);
    CHECK_EQ_U(raw_put(dir, "incidents", key, 8, rec, len - 1), 0);
    be64(key, 4);
    CHECK_EQ_U(raw_put(dir, "incidents", key, 8, rec, len), 0);
    {
        /* a byte of the source address changed in place (a damaged disk's
         * doing): the seal finds it; and a record cut short then sealed
         * again: the layout's own checks find it */
        uint8_t bad[sizeof rec];
        memcpy(bad, rec, len);
        bad[5 * 8 + 4] ^= 0x01; /* a byte of the source address */
        bad[8 + 7] = 5;         /* its id, to match its key */
        be64(key, 5);
        CHECK_EQ_U(raw_put(dir, "incidents", key, 8, bad, len), 0);
        memcpy(bad, rec, len);
        bad[8 + 7] = 6;
        reseal(bad, len - 1);
        be64(key, 6);
        CHECK_EQ_U(raw_put(dir, "incidents", key, 8, bad, len - 1), 0);
    }
    be64(key, 1);
    memcpy(evkey, key, 8);
    evkey[11] = 1;
    CHECK_EQ_U(raw_put(dir, "evidence", evkey, 12, evrec, evlen - 3), 0);
    {
        uint8_t longer[sizeof alrec + 1];
        memcpy(longer, alrec, allen - 4);
        longer[allen - 4] = 0;
        reseal(longer, allen + 1);
        CHECK_EQ_U(raw_put(dir, "alerts", evkey, 12, longer, allen + 1), 0);
    }
    hkey[15] = 1;
    CHECK_EQ_U(raw_put(dir, "history", hkey, 16, "\x01\x09", 2), 0);
    be64(evkey, 2);
    evkey[11] = 0;
    CHECK_EQ_U(raw_put(dir, "evidence", evkey, 12, evrec, evlen), 0);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    {
        /* store check: one problem per bad entry, named by database and key */
        struct problems pr = { 0, "" };
        uint64_t entries, total = 0;
        int bad = 0;
        for (int db = 0; db < cg_store_check_ndb(); db++) {
            int rc = cg_store_check(st, db, on_problem, &pr, &entries);
            CHECK(rc == 0 || rc == CG_ECORRUPT);
            bad += rc != 0;
            total += entries;
        }
        CHECK_EQ_U(pr.n, 8); /* incidents 2 to 6; alert, evidence, history of 1 */
        CHECK_EQ_U(bad, 4);
        CHECK_CONTAINS(pr.text, "incidents key 2: ");
        CHECK_CONTAINS(pr.text, "incidents key 3: checksum mismatch");
        CHECK_CONTAINS(pr.text, "incidents key 5: checksum mismatch");
        CHECK_CONTAINS(pr.text, "incidents key 6: truncated");
        CHECK_CONTAINS(pr.text, "incidents key 4: the record's id is not its key");
        CHECK_CONTAINS(pr.text, "alerts key 1/1: trailing bytes");
        CHECK_CONTAINS(pr.text, "evidence key 1/1: ");
        CHECK_CONTAINS(pr.text, "history key 1/1: truncated");
        CHECK(total > 6);
        CHECK(cg_store_damaged());
        CHECK_CONTAINS(cg_store_error(st), "damaged (history: 1 problems): restore from a backup");
    }
    x = mkfull(1);
    x.assignee = "binh";
    CHECK(get_equal(st, &x));
    CHECK((int)cg_store_get(st, 2, cb_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "incident 2: bad record");
    CHECK_CONTAINS(cg_store_error(st), dir);
    CHECK((int)cg_store_get(st, 3, cb_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "damaged (incident 3: bad record (checksum mismatch))");
    CHECK((int)cg_store_get(st, 5, cb_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "damaged (incident 5: bad record (checksum mismatch))");
    CHECK((int)cg_store_get(st, 6, cb_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "truncated");
    CHECK((int)cg_store_get(st, 4, cb_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "id differs");
    CHECK_EQ_U(n, 0);
    CHECK((int)cg_store_query(st, NULL, 0, NULL, cb_count, &n) == CG_ECORRUPT);
    {
        cg_store_group grp[4];
        size_t ng;
        uint64_t cnt;
        cg_query q;
        memset(&q, 0, sizeof q);
        q.has = CG_Q_PORT, q.port = 1; /* a scan: meets the bad records */
        CHECK((int)cg_store_count(st, &q, &cnt) == CG_ECORRUPT);
        CHECK((int)cg_store_top(st, &q, CG_F_SRC, grp, 4, &ng) == CG_ECORRUPT);
    }
    CHECK((int)cg_store_evidence(st, 1, cb_ev_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "evidence of incident 1: bad record");
    CHECK((int)cg_store_alerts(st, 1, cb_alert_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "alert of incident 1: bad record (trailing bytes)");
    CHECK((int)cg_store_history(st, 1, cb_hist_count, &n) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "history of incident 1: bad record (truncated)");
    n = 0; /* the packets of a damaged record are still there */
    CHECK_EQ_U(cg_store_evidence(st, 2, cb_ev_count, &n), 0);
    CHECK_EQ_U(n, 1);
    cg_store_close(st);

    /* triage refuses a bad record and leaves it be */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK((int)cg_store_triage_set(st, 3, CG_TRIAGE_STATUS, CG_ST_RESOLVED, NULL, 0, "an", 1) ==
          CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "incident 3: bad record");
    CHECK((int)cg_store_note_add(st, 4, "an", 1, "x") == CG_ECORRUPT);
    cg_store_close(st);

    /* a writer replaces a bad record, and the store reads again */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_new_id(st), 7); /* the bad records' keys count too */
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (uint64_t id = 2; id <= 6; id++)
        CHECK_EQ_U(cg_store_put(st, mkp(id)), 0);
    CHECK_EQ_U(cg_store_put_evidence(st, 1, 1, &ev), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    n = 0;
    CHECK_EQ_U(cg_store_query(st, NULL, 0, NULL, cb_count, &n), 0);
    CHECK_EQ_U(n, 6);
    cg_store_close(st);

    /* a key of the wrong size in an index, or an id of the wrong size, is a
     * damaged store, not a crash */
    {
        uint8_t bk[9] = { 0, 0, 0, 0, 0, 0, 0, 0, 'x' }, sev[1] = { 3 };
        cg_query q;
        be64(key, 2000001);
        memcpy(bk + 4, key + 4, 4); /* partition 0, among the keys of sid 2000001 */
        CHECK_EQ_U(raw_put(dir, "by_sid", bk, 9, "", 0), 0);
        CHECK_EQ_U(raw_put(dir, "by_sev", sev, 1, "abc", 3), 0);
        CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
        memset(&q, 0, sizeof q);
        q.has = CG_Q_SID, q.sid = 2000001;
        CHECK((int)cg_store_query(st, &q, 0, NULL, cb_count, &n) == CG_ECORRUPT);
        CHECK_CONTAINS(cg_store_error(st), "by_sid: a key of 9 bytes");
        q.has = CG_Q_SEV, q.sev_max = 3;
        CHECK((int)cg_store_query(st, &q, 0, NULL, cb_count, &n) == CG_ECORRUPT);
        CHECK_CONTAINS(cg_store_error(st), "by_sev: an id of");
        cg_store_close(st);
    }
}

/* ---- triage ------------------------------------------------------------------------------------ */

#define MAXH 16
struct hgot2 {
    cg_history h[MAXH];
    char who[MAXH][32], old[MAXH][64], nw[MAXH][64];
    int n;
};

static int cb_history(const cg_history *h, void *arg)
{
    struct hgot2 *g = arg;
    if (g->n < MAXH) {
        g->h[g->n] = *h;
        snprintf(g->who[g->n], sizeof g->who[0], "%s", h->who);
        snprintf(g->old[g->n], sizeof g->old[0], "%s", h->old_text);
        snprintf(g->nw[g->n], sizeof g->nw[0], "%s", h->new_text);
        g->n++;
    }
    return 0;
}

static int hist_is(const struct hgot2 *g, int i, uint64_t when, const char *who, int kind,
                   uint32_t o, uint32_t n, const char *ot, const char *nt)
{
    return i < g->n && g->h[i].seq == (uint64_t)i && g->h[i].when_us == when &&
        !strcmp(g->who[i], who) && g->h[i].kind == kind && g->h[i].old_num == o &&
        g->h[i].new_num == n && !strcmp(g->old[i], ot) && !strcmp(g->nw[i], nt);
}

static size_t count_q(cg_store *st, unsigned has, unsigned status_mask, const char *who,
                      uint8_t sev)
{
    static struct got g;
    cg_query q;
    memset(&q, 0, sizeof q);
    q.has = has, q.status_mask = status_mask, q.assignee = who, q.sev_max = sev;
    return q_ids(st, &q, &g);
}

static void test_triage(void)
{
    const char *dir = path("triage");
    static struct hgot2 g;
    static uint8_t first[512], again[512];
    uint8_t hkey[16];
    size_t flen = 0, alen = 0;
    cg_store *st;
    cg_incident x;
    int n;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_U(cg_store_put(st, mkp(cg_store_new_id(st))), 0);
    /* triage waits for no batch of its own handle: it would wait forever */
    CHECK((int)cg_store_triage_set(st, 1, CG_TRIAGE_STATUS, CG_ST_ACKNOWLEDGED, NULL, 0, "an", 1) ==
          CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "a batch is open on this handle");
    CHECK_EQ_U(cg_store_commit(st), 0);
    /* the writer's handle triages between batches */
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_STATUS, CG_ST_ACKNOWLEDGED, NULL, 0, "an", 100),
               0);
    cg_store_close(st);

    /* a triage handle: no batches, no ids */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_new_id(st), 0);
    CHECK((int)cg_store_begin(st) == CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "opened for triage");
    CHECK((int)cg_store_put(st, mkp(9)) == CG_EINVAL);
    /* three fields at once: three entries, in field order */
    CHECK_EQ_U(cg_store_triage_set(st, 1,
                                   CG_TRIAGE_STATUS | CG_TRIAGE_ASSIGNEE | CG_TRIAGE_SEVERITY,
                                   CG_ST_INVESTIGATING, "binh", 1, "chi", 200),
               0);
    /* the same values again change nothing and append nothing */
    CHECK_EQ_U(cg_store_triage_set(st, 1,
                                   CG_TRIAGE_STATUS | CG_TRIAGE_ASSIGNEE | CG_TRIAGE_SEVERITY,
                                   CG_ST_INVESTIGATING, "binh", 1, "chi", 250),
               0);
    CHECK_EQ_U(cg_store_note_add(st, 1, "binh", 300, "checked the web server logs: \"200 OK\""), 0);
    be64(hkey, 1);
    be64(hkey + 8, 0);
    CHECK_EQ_U(raw_get(dir, "history", hkey, 16, first, sizeof first, &flen), 0);
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_SEVERITY, 0, NULL, 4, "binh", 400), 0);
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_SEVERITY | CG_TRIAGE_ASSIGNEE, 0, "", 0, "an",
                                   500),
               0);
    CHECK_EQ_U(cg_store_note_add(st, 2, "an", 600, "another incident's note"), 0);
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 1, cb_history, &g), 0);
    CHECK_EQ_U(g.n, 8);
    CHECK(hist_is(&g, 0, 100, "an", CG_HIST_STATUS, CG_ST_NEW, CG_ST_ACKNOWLEDGED, "", ""));
    CHECK(hist_is(&g, 1, 200, "chi", CG_HIST_STATUS, CG_ST_ACKNOWLEDGED, CG_ST_INVESTIGATING, "",
                  ""));
    CHECK(hist_is(&g, 2, 200, "chi", CG_HIST_ASSIGNEE, 0, 0, "", "binh"));
    CHECK(hist_is(&g, 3, 200, "chi", CG_HIST_SEVERITY, 2, 1, "", "set"));
    CHECK(hist_is(&g, 4, 300, "binh", CG_HIST_NOTE, 0, 0, "",
                  "checked the web server logs: \"200 OK\""));
    CHECK(hist_is(&g, 5, 400, "binh", CG_HIST_SEVERITY, 1, 4, "set", "set"));
    CHECK(hist_is(&g, 6, 500, "an", CG_HIST_ASSIGNEE, 0, 0, "binh", ""));
    CHECK(hist_is(&g, 7, 500, "an", CG_HIST_SEVERITY, 4, 2, "set", ""));
    /* append-only: the first entry is the same bytes after later changes */
    CHECK_EQ_U(raw_get(dir, "history", hkey, 16, again, sizeof again, &alen), 0);
    CHECK(alen == flen && memcmp(first, again, flen) == 0);
    n = 0;
    CHECK_EQ_U(cg_store_history(st, 2, cb_hist_count, &n), 0);
    CHECK_EQ_U(n, 1);
    n = 0;
    CHECK_EQ_U(cg_store_history(st, 3, cb_hist_count, &n), 0);
    CHECK_EQ_U(n, 0);
    CHECK((int)cg_store_history(st, 99, cb_hist_count, &n) == CG_ENOTFOUND);

    /* the record and its indexes moved with it */
    x = mk(1);
    x.status = CG_ST_INVESTIGATING, x.nnotes = 1;
    CHECK(get_equal(st, &x));
    CHECK_EQ_U(count_q(st, CG_Q_STATUS, 1u << CG_ST_INVESTIGATING, NULL, 0), 1);
    CHECK_EQ_U(count_q(st, CG_Q_STATUS, 1u << CG_ST_NEW, NULL, 0), 2);
    CHECK_EQ_U(count_q(st, CG_Q_STATUS, 1u << CG_ST_ACKNOWLEDGED, NULL, 0), 0);
    CHECK_EQ_U(count_q(st, CG_Q_ASSIGNEE, 0, "binh", 0), 0);
    CHECK_EQ_U(count_q(st, CG_Q_ASSIGNEE, 0, "", 0), 3);
    CHECK_EQ_U(cg_store_triage_set(st, 3, CG_TRIAGE_ASSIGNEE | CG_TRIAGE_SEVERITY, 0, "binh", 1,
                                   "an", 700),
               0);
    CHECK_EQ_U(count_q(st, CG_Q_ASSIGNEE, 0, "binh", 0), 1);
    CHECK_EQ_U(count_q(st, CG_Q_SEV, 0, NULL, 1), 1);
    CHECK_EQ_U(raw_count(dir, "by_status"), 3);
    CHECK_EQ_U(raw_count(dir, "by_sev"), 3);
    CHECK_EQ_U(raw_count(dir, "by_assignee"), 1);

    /* what is refused, with the store left as it was */
    CHECK((int)cg_store_triage_set(st, 99, CG_TRIAGE_STATUS, 1, NULL, 0, "an", 1) == CG_ENOTFOUND);
    CHECK_CONTAINS(cg_store_error(st), "no incident 99");
    CHECK((int)cg_store_triage_set(st, 1, CG_TRIAGE_STATUS, CG_ST_COUNT, NULL, 0, "an", 1) ==
          CG_EINVAL);
    CHECK((int)cg_store_triage_set(st, 1, 0, 0, NULL, 0, "an", 1) == CG_EINVAL);
    CHECK((int)cg_store_triage_set(st, 1, 0x8, 0, NULL, 0, "an", 1) == CG_EINVAL);
    CHECK((int)cg_store_triage_set(st, 1, CG_TRIAGE_STATUS, 1, NULL, 0, "", 1) == CG_EINVAL);
    CHECK((int)cg_store_triage_set(st, 1, CG_TRIAGE_STATUS, 1, NULL, 0, NULL, 1) == CG_EINVAL);
    {
        char longname[CG_STORE_TEXT_MAX + 2];
        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        CHECK((int)cg_store_triage_set(st, 1, CG_TRIAGE_ASSIGNEE, 0, longname, 0, "an", 1) ==
              CG_EINVAL);
        CHECK((int)cg_store_note_add(st, 1, longname, 1, "x") == CG_EINVAL);
    }
    CHECK((int)cg_store_note_add(st, 1, "an", 1, "") == CG_EINVAL);
    CHECK((int)cg_store_note_add(st, 0, "an", 1, "x") == CG_EINVAL);
    CHECK(raw_count(dir, "history") == 11); /* 8 + 1 + 2: nothing of the refused ones */
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK((int)cg_store_note_add(st, 1, "an", 1, "x") == CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "read-only");
    cg_store_close(st);
    CHECK((int)cg_store_open(&st, path("nostore"), CG_STORE_TRIAGE, 0) == CG_ENOTFOUND);
    CHECK((int)cg_store_open(&st, dir, CG_STORE_TRIAGE | CG_STORE_RDONLY, 0) == CG_EINVAL);

    /* the sensor's next put of incident 1 keeps what triage set */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(1);
    x.count = 10, x.last_us += 1000, x.nalerts = 10;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(3);
    x.count = 4, x.severity = 3, x.rule_severity = 3; /* overridden: stays 1 */
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    x = mk(1);
    x.count = 10, x.last_us += 1000, x.nalerts = 10, x.status = CG_ST_INVESTIGATING, x.nnotes = 1;
    CHECK(get_equal(st, &x));
    x = mk(3);
    x.count = 4, x.severity = 1, x.rule_severity = 3, x.flags = CG_INC_SEV_SET, x.assignee = "binh";
    CHECK(get_equal(st, &x));
    /* removing the override goes back to the fold's severity */
    CHECK_EQ_U(cg_store_triage_set(st, 3, CG_TRIAGE_SEVERITY, 0, NULL, 0, "an", 800), 0);
    x.severity = 3, x.flags = 0;
    CHECK(get_equal(st, &x));
    CHECK_EQ_U(count_q(st, CG_Q_SEV, 0, NULL, 1), 0);
    cg_store_close(st);
}

/* A triage process changes an incident while the sensor's process holds a
 * batch open: LMDB makes the triage wait for the commit, both changes are
 * kept, and the sensor's next put of the incident keeps the triage fields. */
static void test_triage_concurrent(void)
{
    const char *dir = path("triage2");
    int up[2], down[2], status = -1;
    struct timespec t0, t1;
    cg_store *st;
    cg_incident x;
    pid_t pid;
    char c;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_U(cg_store_put(st, mkp(cg_store_new_id(st))), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    cg_store_close(st);
    CHECK(pipe(up) == 0 && pipe(down) == 0);

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        /* the sensor */
        cg_store *w = NULL;
        cg_incident y;
        int fails = 0;
        if (cg_store_open(&w, dir, 0, 0) != 0 || cg_store_begin(w) != 0)
            _exit(100);
        y = mk(1);
        y.count = 2;
        fails += cg_store_put(w, &y) != 0;
        fails += cg_store_put(w, mkp(cg_store_new_id(w))) != 0;
        if (write(up[1], "b", 1) != 1) /* the batch is open */
            fails++;
        usleep(300000);
        fails += cg_store_commit(w) != 0;
        if (read(down[0], &c, 1) != 1) /* the triage is done */
            fails++;
        /* the next batch: the fold's fields again, with status NEW */
        y.count = 3;
        fails += cg_store_begin(w) != 0 || cg_store_put(w, &y) != 0 || cg_store_commit(w) != 0;
        cg_store_close(w);
        _exit(fails);
    }
    CHECK(pid > 0);
    CHECK(read(up[0], &c, 1) == 1);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_STATUS | CG_TRIAGE_ASSIGNEE, CG_ST_RESOLVED,
                                   "chi", 0, "chi", 1000),
               0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* it waited for the batch (the child sleeps 300 ms with it open) */
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 150);
    x = mk(1);
    x.count = 2, x.status = CG_ST_RESOLVED, x.assignee = "chi";
    CHECK(get_equal(st, &x)); /* the batch's count and the triage's fields */
    CHECK_EQ_U(cg_store_note_add(st, 6, "chi", 1001, "the batch's new incident"), 0);
    CHECK(write(down[1], "d", 1) == 1);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    x.count = 3;
    CHECK(get_equal(st, &x));
    cg_store_close(st);
    close(up[0]), close(up[1]), close(down[0]), close(down[1]);
}

/* ---- alerts ------------------------------------------------------------------------------------- */

static void test_alerts(void)
{
    const char *dir = path("alerts");
    static struct got gg;
    cg_store *st;
    cg_store_info info;
    cg_incident x;
    cg_query q;
    char cid[32];
    int n = 0;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    cg_store_set_alert_cap(st, 3);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(cg_store_new_id(st));
    x.count = 10, x.nalerts = 10;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    for (uint32_t i = 0; i < 10; i++) {
        cg_alert a = { 100 + i, i, cid, 1000, 80, 2, -1 };
        snprintf(cid, sizeof cid, "1:flow%u=", i);
        CHECK_EQ_U(cg_store_put_alert(st, x.id, i, &a), 0);
    }
    CHECK((int)cg_store_put_alert(st, 0, 0, &(cg_alert){ 0 }) == CG_EINVAL);
    CHECK((int)cg_store_put_alert(st, 1, 0, NULL) == CG_EINVAL);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK((int)cg_store_put_alert(st, 1, 11, &(cg_alert){ 0 }) == CG_EINVAL); /* no batch */
    /* the first three are kept, the count stays exact */
    CHECK_EQ_U(cg_store_alerts(st, 1, cb_alert_count, &n), 0);
    CHECK_EQ_U(n, 3);
    x.nalerts = 3;
    CHECK(get_equal(st, &x));
    CHECK(cg_store_info_get(st, &info) == 0 && info.alerts == 3);
    /* a later alert's Community ID finds its incident, stored or not */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_COMMUNITY, q.community_id = "1:flow2=";
    CHECK(q_ids(st, &q, &gg) == 1 && gg.ids[0] == 1);
    q.community_id = "1:flow9=";
    CHECK(q_ids(st, &q, &gg) == 1 && gg.ids[0] == 1);
    CHECK_EQ_U(raw_count(dir, "by_community"), 11);
    cg_store_close(st);
}

/* ---- an older schema ----------------------------------------------------------------------------- */

static void test_older(void)
{
    const char *dir = path("older");
    const char *data = path("older/data.mdb");
    static const uint8_t v1[4] = { 0, 0, 0, 1 };
    cg_store *st;
    unsigned char *before;
    size_t blen = 0;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    cg_store_close(st);
    CHECK_EQ_U(raw_put(dir, "meta", "schema", 6, v1, 4), 0);
    before = slurp(data, &blen);
    st = NULL;
    CHECK((int)cg_store_open(&st, dir, 0, 0) == CG_EOLDER);
    CHECK(st == NULL);
    CHECK_CONTAINS(cg_store_error(NULL), dir);
    CHECK_CONTAINS(cg_store_error(NULL), "written by schema version 1");
    CHECK_CONTAINS(cg_store_error(NULL), "create a new store");
    CHECK((int)cg_store_open(&st, dir, CG_STORE_RDONLY, 0) == CG_EOLDER);
    CHECK((int)cg_store_open(&st, dir, CG_STORE_TRIAGE, 0) == CG_EOLDER);
    CHECK(before && same_file(before, blen, data));
    CHECK(strstr(cg_strerror(CG_EOLDER), "older") != NULL);
    free(before);
}

/* ---- ids far apart ---------------------------------------------------------------------------------- */

/* Ids put by hand with gaps of many partitions: the partitioned indexes are
 * walked by seeking the next partition that has keys, not one by one. */
static void test_sparse_ids(void)
{
    const char *dir = path("sparse");
    static const uint64_t ids[] = { 3, 70000, 1ull << 30, 1ull << 40, (1ull << 47) - 1 };
    static struct got g;
    static uint8_t span[16];
    uint8_t pk[4];
    cg_store *st;
    cg_query q;
    uint64_t cnt, cursor = 0;
    int ok = 1;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 5; i++) {
        cg_incident x = mk(ids[i]);
        x.first_us = 1000 * (uint64_t)(i + 1);
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    CHECK((int)cg_store_put(st, mkp(1ull << 47)) == CG_EINVAL);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_new_id(st), 0); /* past the last id */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_DPORT, q.dport = 80;
    CHECK(q_ids(st, &q, &g) == 5);
    for (int i = 0; i < 5 && g.n == 5; i++)
        ok &= g.ids[i] == ids[4 - i];
    CHECK(ok);
    g.n = 0;
    do { /* one at a time */
        ok &= cg_store_query(st, &q, 1, &cursor, cb_collect, &g) == 0;
    } while (cursor && g.n < 10);
    CHECK(ok && g.n == 5 && g.ids[4] == 3);
    CHECK(cg_store_count(st, &q, &cnt) == 0 && cnt == 5);
    q.has |= CG_Q_SINCE | CG_Q_UNTIL, q.since_us = 2000, q.until_us = 4001;
    CHECK(q_ids(st, &q, &g) == 3 && g.ids[0] == (1ull << 40) && g.ids[2] == 70000);
    cg_store_close(st);

    /* a span that does not decode: that partition is read, and kept read */
    be64(span, (uint64_t)2 << 32); /* be32 2 in the first four bytes */
    memcpy(pk, span, 4);
    CHECK_EQ_U(raw_put(dir, "parts", pk, 4, "bad", 3), 0); /* partition 2: id 70000 */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    q.since_us = 0, q.until_us = 1500;
    CHECK(q_ids(st, &q, &g) == 1 && g.ids[0] == 3);
    CHECK_EQ_U(cg_store_begin(st), 0);
    {
        cg_incident x = mk(70001);
        x.first_us = 9000;
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    q.since_us = 2000, q.until_us = 2001; /* 70000's time, outside 70001's */
    CHECK(q_ids(st, &q, &g) == 1 && g.ids[0] == 70000);
    cg_store_close(st);
}

/* ---- kill -9 ------------------------------------------------------------------------------------ */

/* A writer killed at a moment of its own: every batch it saw committed is
 * there, whole (incident, alerts, indexes), and the store opens and goes on. */
static void test_kill9(void)
{
    const char *dir = path("kill9");
    static struct got g;
    uint64_t last = 0, id;
    int fd[2], status = -1, n;
    cg_store *st;
    pid_t pid;

    CHECK(pipe(fd) == 0);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        cg_store *w = NULL;
        close(fd[0]);
        if (cg_store_open(&w, dir, 0, 0) != 0)
            _exit(100);
        for (;;) {
            uint64_t top = 0;
            if (cg_store_begin(w) != 0)
                _exit(101);
            for (int i = 0; i < 50; i++) {
                cg_incident x = mk(cg_store_new_id(w));
                cg_alert a = { x.first_us, x.flow_id, x.community_id, 1, 2, 2, -1 };
                x.count = x.nalerts = 2;
                if (cg_store_put(w, &x) || cg_store_put_alert(w, x.id, 0, &a) ||
                    cg_store_put_alert(w, x.id, 1, &a))
                    _exit(102);
                top = x.id;
            }
            if (cg_store_commit(w) != 0)
                _exit(103);
            /* reported only once committed */
            if (write(fd[1], &top, sizeof top) != sizeof top)
                _exit(104);
        }
    }
    close(fd[1]);
    CHECK(pid > 0);
    for (int i = 0; i < 20 && read(fd[0], &id, sizeof id) == sizeof id; i++)
        last = id;
    usleep((useconds_t)(rnd() % 20000));
    kill(pid, SIGKILL);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    while (read(fd[0], &id, sizeof id) == sizeof id)
        last = id;
    close(fd[0]);
    CHECK(last >= 1000);

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    n = 0;
    for (uint64_t i = 1; i <= last; i++) {
        cg_incident want = mk(i);
        int na = 0;
        want.count = want.nalerts = 2;
        n += get_equal(st, &want) && cg_store_alerts(st, i, cb_alert_count, &na) == 0 && na == 2;
    }
    CHECK_EQ_U(n, last);
    /* the indexes agree with the records: a query through one finds them all */
    {
        cg_query q;
        uint64_t cnt = 0;
        memset(&q, 0, sizeof q);
        q.has = CG_Q_DPORT, q.dport = 80;
        CHECK(cg_store_count(st, &q, &cnt) == 0 && cnt >= last);
        CHECK(q_ids(st, &q, &g) == cnt);
    }
    CHECK(cg_store_new_id(st) > last);
    cg_store_close(st);
}

/* ---- not a store ------------------------------------------------------------------------ */

static void test_not_a_store(void)
{
    cg_store *st = NULL;
    static unsigned char junk[3 * 4096];
    unsigned char *before;
    size_t blen = 0;
    FILE *f;
    const char *d;

    /* missing, and an empty directory: nothing is created by a reader */
    d = path("missing");
    CHECK((int)cg_store_open(&st, d, CG_STORE_RDONLY, 0) == CG_ENOTFOUND);
    CHECK_CONTAINS(cg_store_error(NULL), d);
    CHECK_CONTAINS(cg_store_error(NULL), "no canhgac store here");
    CHECK(access(d, F_OK) != 0);
    d = path("empty");
    CHECK(mkdir(d, 0700) == 0);
    CHECK((int)cg_store_open(&st, d, CG_STORE_RDONLY, 0) == CG_ENOTFOUND);
    CHECK_CONTAINS(cg_store_error(NULL), "no canhgac store here");
    CHECK(is_empty_dir(d));
    CHECK(st == NULL);

    /* a data.mdb that is not LMDB, long and short */
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rnd();
    d = path("junk");
    CHECK(mkdir(d, 0700) == 0);
    f = fopen(path("junk/data.mdb"), "wb");
    CHECK(f && fwrite(junk, 1, sizeof junk, f) == sizeof junk);
    if (f)
        fclose(f);
    CHECK((int)cg_store_open(&st, d, 0, 0) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(NULL), d);
    CHECK_CONTAINS(cg_store_error(NULL), "not a canhgac store");
    CHECK((int)cg_store_open(&st, d, CG_STORE_RDONLY, 0) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(NULL), "not an LMDB file");
    CHECK(same_file(junk, sizeof junk, path("junk/data.mdb")));
    d = path("junk2");
    CHECK(mkdir(d, 0700) == 0);
    f = fopen(path("junk2/data.mdb"), "wb");
    CHECK(f && fwrite("not lmdb\n", 1, 9, f) == 9);
    if (f)
        fclose(f);
    CHECK((int)cg_store_open(&st, d, 0, 0) == CG_ECORRUPT);
    CHECK(same_file((const unsigned char *)"not lmdb\n", 9, path("junk2/data.mdb")));

    /* someone else's LMDB environment */
    d = path("foreign");
    CHECK(mkdir(d, 0700) == 0);
    CHECK_EQ_U(raw_put(d, NULL, "key", 3, "value", 5), 0);
    before = slurp(path("foreign/data.mdb"), &blen);
    CHECK((int)cg_store_open(&st, d, 0, 0) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(NULL), "not a canhgac store (no meta database)");
    CHECK((int)cg_store_open(&st, d, CG_STORE_RDONLY, 0) == CG_ECORRUPT);
    CHECK(before && same_file(before, blen, path("foreign/data.mdb")));
    free(before);

    /* a meta database without a schema version */
    d = path("noschema");
    CHECK(mkdir(d, 0700) == 0);
    CHECK_EQ_U(raw_put(d, "meta", "owner", 5, "x", 1), 0);
    CHECK((int)cg_store_open(&st, d, 0, 0) == CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(NULL), "no schema version");
    CHECK(st == NULL);

    /* an unwritable place */
    f = fopen(path("plainfile"), "w");
    if (f)
        fclose(f);
    d = path("plainfile/store");
    CHECK((int)cg_store_open(&st, d, 0, 0) == CG_EIO);
    CHECK_CONTAINS(cg_store_error(NULL), d);
    CHECK_CONTAINS(cg_store_error(NULL), "Not a directory");
    CHECK((int)cg_store_open(&st, path("plainfile"), 0, 0) == CG_EIO);
    CHECK_CONTAINS(cg_store_error(NULL), "Not a directory");
    CHECK((int)cg_store_open(&st, "/proc/canhgac-store", 0, 0) == CG_EIO);
    CHECK_CONTAINS(cg_store_error(NULL), "/proc/canhgac-store: ");
    if (geteuid() != 0) {
        d = path("noperm");
        CHECK(mkdir(d, 0500) == 0);
        CHECK((int)cg_store_open(&st, d, 0, 0) == CG_EIO);
        CHECK_CONTAINS(cg_store_error(NULL), "Permission denied");
        chmod(d, 0700);
    } else {
        printf("store: running as root, the permission-bits case is covered by ENOTDIR and /proc "
               "only\n");
    }
    CHECK(st == NULL);

    /* an empty LMDB environment is where a writer starts a store */
    d = path("emptyenv");
    CHECK(mkdir(d, 0700) == 0);
    {
        MDB_env *env;
        CHECK(mdb_env_create(&env) == 0 && mdb_env_open(env, d, 0, 0600) == 0);
        mdb_env_close(env);
    }
    CHECK((int)cg_store_open(&st, d, CG_STORE_RDONLY, 0) == CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_open(&st, d, 0, 0), 0);
    cg_store_close(st);

    /* arguments */
    CHECK((int)cg_store_open(&st, NULL, 0, 0) == CG_EINVAL);
    CHECK((int)cg_store_open(&st, "", 0, 0) == CG_EINVAL);
    CHECK((int)cg_store_open(&st, d, 0x80, 0) == CG_EINVAL);
    CHECK(cg_strerror(CG_EFULL) != NULL && *cg_strerror(-99) != 0);
}

/* ---- the batch state machine -------------------------------------------------------------- */

static void test_batches(void)
{
    const char *dir = path("batch");
    static char longmsg[70000];
    cg_store *st;
    cg_incident x;
    int n = 0;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    x = mk(cg_store_new_id(st));
    CHECK((int)cg_store_put(st, &x) == CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "no batch open");
    CHECK((int)cg_store_commit(st) == CG_EINVAL);
    cg_store_abort(st); /* nothing open: nothing happens */
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK((int)cg_store_begin(st) == CG_EINVAL);
    x.id = 0;
    CHECK((int)cg_store_put(st, &x) == CG_EINVAL); /* the batch stays open */
    memset(longmsg, 'a', sizeof longmsg - 1);
    x = mk(1);
    x.msg = longmsg;
    CHECK((int)cg_store_put(st, &x) == CG_EINVAL);
    CHECK((int)cg_store_put_evidence(st, 1, 0, NULL) == CG_EINVAL);
    x = mk(1);
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    cg_store_abort(st);
    CHECK((int)cg_store_get(st, 1, cb_count, &n) == CG_ENOTFOUND);

    /* ids are not handed out twice after an abort, and follow explicit ones */
    CHECK_EQ_U(cg_store_new_id(st), 2);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(500);
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_new_id(st), 501);
    cg_store_close(st);
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_new_id(st), 501);
    cg_store_close(st);
    cg_store_close(NULL);
    CHECK_STR(cg_store_error(NULL), "");
}

/* ---- one writer --------------------------------------------------------------------------- */

static void test_writer_lock(void)
{
    const char *dir = path("lock");
    cg_store *st, *st2 = NULL;
    char want[64];
    pid_t pid;
    int status = -1;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, mkp(cg_store_new_id(st))), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);

    snprintf(want, sizeof want, "locked by another writer (pid %ld)", (long)getpid());
    CHECK((int)cg_store_open(&st2, dir, 0, 0) == CG_EBUSY);
    CHECK(st2 == NULL);
    CHECK_CONTAINS(cg_store_error(NULL), dir);
    CHECK_CONTAINS(cg_store_error(NULL), want);

    /* another process: no second writer, but a reader while the writer is open */
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        cg_store *w = NULL, *r = NULL;
        int fails = 0, n = 0;
        if (cg_store_open(&w, dir, 0, 0) != CG_EBUSY || !strstr(cg_store_error(NULL), want))
            fails++;
        if (cg_store_open(&r, dir, CG_STORE_RDONLY, 0) != 0 ||
            cg_store_get(r, 1, cb_count, &n) != 0 || n != 1)
            fails++;
        cg_store_close(r);
        _exit(fails);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    cg_store_close(st);

    /* the lock goes with the process, however it ends */
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        cg_store *w = NULL;
        if (cg_store_open(&w, dir, 0, 0) != 0)
            _exit(1);
        _exit(0); /* no close */
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    cg_store_close(st);
}

/* ---- snapshots ------------------------------------------------------------------------------- */

struct snap {
    int fd_go, fd_done, n, bad;
    uint64_t count;
};

static int cb_snap(const cg_incident *inc, void *arg)
{
    struct snap *s = arg;
    char c = 'g';
    if (s->n++ == 0) {
        /* the writer commits now, in the middle of this walk */
        if (write(s->fd_go, &c, 1) != 1 || read(s->fd_done, &c, 1) != 1)
            s->bad++;
    }
    if (inc->count != s->count)
        s->bad++;
    return 0;
}

static int cb_snap2(const cg_incident *inc, void *arg)
{
    struct snap *s = arg;
    s->n++;
    if (inc->count != s->count)
        s->bad++;
    return 0;
}

static void test_snapshot(void)
{
    const char *dir = path("snap");
    int go[2], done[2], status = -1;
    cg_store *st;
    pid_t pid;
    char c;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 50; i++)
        CHECK_EQ_U(cg_store_put(st, mkp(cg_store_new_id(st))), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK(pipe(go) == 0 && pipe(done) == 0);

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        struct snap s = { go[1], done[0], 0, 0, 1 };
        cg_store *r = NULL;
        int fails = 0;
        if (cg_store_open(&r, dir, CG_STORE_RDONLY, 0) != 0)
            _exit(100);
        /* the walk sees the state it started on: 50 incidents of count 1 */
        if (cg_store_query(r, NULL, 0, NULL, cb_snap, &s) != 0 || s.n != 50 || s.bad)
            fails++;
        /* the next one sees the commit: 80 incidents of count 2 */
        s = (struct snap){ -1, -1, 0, 0, 2 };
        if (cg_store_query(r, NULL, 0, NULL, cb_snap2, &s) != 0 || s.n != 80 || s.bad)
            fails++;
        cg_store_close(r);
        _exit(fails);
    }
    CHECK(pid > 0);
    CHECK(read(go[0], &c, 1) == 1);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (uint64_t id = 1; id <= 50; id++) {
        cg_incident x = mk(id);
        x.count = 2;
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    for (int i = 0; i < 30; i++) {
        cg_incident x = mk(cg_store_new_id(st));
        x.count = 2;
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK(write(done[1], "d", 1) == 1);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]), close(go[1]), close(done[0]), close(done[1]);
    cg_store_close(st);
}

/* ---- reader threads on the writer's handle ----------------------------------------------------- */

struct reader {
    cg_store *st;
    atomic_int *stop;
    int bad, queries;
};

struct tcheck {
    uint64_t n, max, batch;
    int bad;
};

static int cb_thread(const cg_incident *inc, void *arg)
{
    struct tcheck *t = arg;
    if (t->n == 0) {
        t->max = inc->id;
        t->batch = inc->count;
    }
    /* a snapshot holds whole batches: ids max..1 with no hole, batch count
     * (1 + (id - 1) / 10) */
    if (inc->id != t->max - t->n || inc->count != 1 + (inc->id - 1) / 10)
        t->bad++;
    t->n++;
    return 0;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    while (!atomic_load(r->stop) || r->queries < 5) {
        struct tcheck t = { 0, 0, 0, 0 };
        if (cg_store_query(r->st, NULL, 0, NULL, cb_thread, &t) != 0 || t.bad || t.n % 10)
            r->bad++;
        r->queries++;
    }
    return NULL;
}

static void test_threads(void)
{
    const char *dir = path("threads");
    struct reader rd[3];
    pthread_t th[3];
    atomic_int stop = 0;
    cg_store *st;
    int bad = 0, queries = 0;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    for (int i = 0; i < 3; i++) {
        rd[i] = (struct reader){ st, &stop, 0, 0 };
        CHECK(pthread_create(&th[i], NULL, reader_main, &rd[i]) == 0);
    }
    for (uint64_t b = 1; b <= 30; b++) {
        CHECK_EQ_U(cg_store_begin(st), 0);
        for (int i = 0; i < 10; i++) {
            cg_incident x = mk(cg_store_new_id(st));
            x.count = b;
            CHECK_EQ_U(cg_store_put(st, &x), 0);
        }
        CHECK_EQ_U(cg_store_commit(st), 0);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        bad += rd[i].bad;
        queries += rd[i].queries;
    }
    CHECK_EQ_U(bad, 0);
    CHECK(queries >= 15);
    cg_store_close(st);
}

/* Escalation: in the writer's batch (as the sensor does it when it creates
 * an incident) and in a transaction of its own (the time pass); layers only
 * climb, a re-put keeps them, each escalation is one history entry naming
 * its cause, and the log holds it. */
static void test_escalate(void)
{
    const char *dir = path("escalate");
    static struct hgot2 g;
    cg_store *st;
    cg_incident x;
    cg_store_verify_stats vs;
    int added = -1;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(cg_store_new_id(st));
    x.layers = 0x1; /* the rule's metadata: layer 1 */
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_put(st, mkp(cg_store_new_id(st))), 0);
    CHECK_EQ_U(cg_store_escalate(st, 1, 0x2 | 0x4, 0, "layers.conf:12", "policy", 100, &added), 0);
    CHECK_EQ_U(added, 1);
    /* nothing new: nothing appended */
    CHECK_EQ_U(cg_store_escalate(st, 1, 0x2, 0, "layers.conf:12", "policy", 101, &added), 0);
    CHECK_EQ_U(added, 0);
    /* refused, the batch kept */
    CHECK((int)cg_store_escalate(st, 99, 0x2, 0, "layers.conf:1", "policy", 1, NULL) ==
          CG_ENOTFOUND);
    CHECK((int)cg_store_escalate(st, 1, 0, 0, "layers.conf:1", "policy", 1, NULL) == CG_EINVAL);
    CHECK((int)cg_store_escalate(st, 1, 0x10, 0, "layers.conf:1", "policy", 1, NULL) == CG_EINVAL);
    CHECK((int)cg_store_escalate(st, 1, 0x8, 0, "", "policy", 1, NULL) == CG_EINVAL);
    CHECK((int)cg_store_escalate(st, 1, 0x8, 0, "layers.conf:1", "", 1, NULL) == CG_EINVAL);
    /* the fold's re-put in the same batch keeps the escalation */
    x.count = 5;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    x.layers = 0x7;
    CHECK(get_equal(st, &x));
    /* a later batch's re-put with the rule's layers only keeps them too */
    CHECK_EQ_U(cg_store_begin(st), 0);
    x.layers = 0x1, x.count = 6;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    x.layers = 0x7;
    CHECK(get_equal(st, &x));
    cg_store_close(st);

    /* a triage handle: the time pass's own transaction */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_escalate(st, 1, 0x8, 0, "layers.conf:20", "policy", 200, &added), 0);
    CHECK_EQ_U(added, 1);
    CHECK_EQ_U(cg_store_escalate(st, 2, 0x2, 0, "layers.conf:30", "policy", 300, NULL), 0);
    CHECK((int)cg_store_escalate(st, 77, 0x2, 0, "layers.conf:30", "policy", 300, NULL) ==
          CG_ENOTFOUND);
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 1, cb_history, &g), 0);
    CHECK_EQ_U(g.n, 2);
    CHECK(hist_is(&g, 0, 100, "policy", CG_HIST_ESCALATE, 0x1, 0x7, "", "layers.conf:12"));
    CHECK(hist_is(&g, 1, 200, "policy", CG_HIST_ESCALATE, 0x7, 0xf, "", "layers.conf:20"));
    x.layers = 0xf;
    CHECK(get_equal(st, &x));
    /* with triage in between: both kept, in order */
    CHECK_EQ_U(cg_store_triage_set(st, 2, CG_TRIAGE_STATUS, CG_ST_ACKNOWLEDGED, NULL, 0, "an", 400),
               0);
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 2, cb_history, &g), 0);
    CHECK_EQ_U(g.n, 2);
    CHECK(hist_is(&g, 0, 300, "policy", CG_HIST_ESCALATE, 0, 0x2, "", "layers.conf:30"));
    CHECK(hist_is(&g, 1, 400, "an", CG_HIST_STATUS, CG_ST_NEW, CG_ST_ACKNOWLEDGED, "", ""));
    /* acknowledged: the clock stopped */
    CHECK_EQ_U(cg_store_escalate(st, 2, 0x4, CG_ESC_IF_NEW, "layers.conf:30: after 15m", "policy",
                                 500, &added),
               0);
    CHECK_EQ_U(added, 0);
    /* a reminder: once per cause */
    CHECK_EQ_U(cg_store_escalate(st, 1, 0, CG_ESC_ONCE | CG_ESC_IF_NEW, "layers.conf:20: after 15m",
                                 "policy", 600, &added),
               0);
    CHECK_EQ_U(added, 1);
    CHECK_EQ_U(cg_store_escalate(st, 1, 0, CG_ESC_ONCE | CG_ESC_IF_NEW, "layers.conf:20: after 15m",
                                 "policy", 700, &added),
               0);
    CHECK_EQ_U(added, 0);
    CHECK((int)cg_store_escalate(st, 1, 0, 0, "layers.conf:20", "policy", 1, NULL) == CG_EINVAL);
    CHECK((int)cg_store_escalate(st, 1, 0x1, 0x80, "layers.conf:20", "policy", 1, NULL) ==
          CG_EINVAL);
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 1, cb_history, &g), 0);
    CHECK_EQ_U(g.n, 3);
    CHECK(
        hist_is(&g, 2, 600, "policy", CG_HIST_ESCALATE, 0xf, 0xf, "", "layers.conf:20: after 15m"));
    /* every record matches its leaf */
    CHECK_EQ_U(cg_store_verify(st, NULL, NULL, &vs, NULL), 0);
    CHECK_EQ_U(vs.problems, 0);
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK((int)cg_store_escalate(st, 1, 0x2, 0, "layers.conf:1", "policy", 1, NULL) == CG_EINVAL);
    cg_store_close(st);
}

/* A share's record (cg_store_shared): one history entry, in the writer's
 * batch or in a transaction of its own; the incident's record is not
 * rewritten (its leaf stays the one it had: the log grows by the entry
 * only), and verify holds. */
static void test_shared(void)
{
    const char *dir = path("shared");
    static struct hgot2 g;
    cg_store *st;
    cg_incident x;
    cg_store_head h0, h1;
    cg_store_verify_stats vs;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(cg_store_new_id(st));
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_shared(st, 1, "shared in bundle--a (TLP:AMBER) to b.json", "soc", 100), 0);
    CHECK((int)cg_store_shared(st, 2, "shared", "soc", 100) == CG_ENOTFOUND);
    CHECK((int)cg_store_shared(st, 1, "", "soc", 100) == CG_EINVAL);
    CHECK((int)cg_store_shared(st, 1, "shared", "", 100) == CG_EINVAL);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_shared(st, 1, "shared in bundle--c (TLP:RED) to d.json", "an", 200), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK_EQ_U(h1.size, h0.size + 1); /* the entry's leaf, no incident leaf */
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 1, cb_history, &g), 0);
    CHECK_EQ_U(g.n, 2);
    CHECK(hist_is(&g, 0, 100, "soc", CG_HIST_SHARE, 0, 0, "",
                  "shared in bundle--a (TLP:AMBER) to b.json"));
    CHECK(hist_is(&g, 1, 200, "an", CG_HIST_SHARE, 0, 0, "",
                  "shared in bundle--c (TLP:RED) to d.json"));
    CHECK(get_equal(st, &x));
    CHECK_EQ_U(cg_store_verify(st, NULL, NULL, &vs, NULL), 0);
    CHECK_EQ_U(vs.problems, 0);
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK((int)cg_store_shared(st, 1, "shared", "soc", 1) == CG_EINVAL);
    cg_store_close(st);
}

/* tests/data/store-v5 (schema 5, made by the code before escalations): read
 * as it is, then brought to schema 8 by a triage handle, which changes
 * nothing but the version: the log, the cases and the triage stay. */
static void test_migrate5(void)
{
    const char *dir = path("v5");
    char dst[300];
    size_t n;
    unsigned char *b = slurp("tests/data/store-v5/data.mdb", &n);
    FILE *f;
    cg_store *st;
    cg_store_info info;
    cg_store_head h0, h1;
    int added = 0, hn = 0;

    CHECK(b != NULL);
    if (!b)
        return;
    mkdir(dir, 0700);
    snprintf(dst, sizeof dst, "%s/data.mdb", dir);
    CHECK((f = fopen(dst, "wb")) != NULL);
    if (!f) {
        free(b);
        return;
    }
    CHECK_EQ_U(fwrite(b, 1, n, f), n);
    fclose(f);
    free(b);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, 5);
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    CHECK_EQ_U(h0.size, 47);
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_migrated(st), 5);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, 8);
    CHECK_EQ_U(info.incidents, 6);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(h1.size == h0.size && memcmp(h0.root, h1.root, 32) == 0);
    CHECK_EQ_U(cg_store_case_get(st, 1, NULL, NULL), 0);
    CHECK_EQ_U(cg_store_history(st, 2, cb_hist_count, &hn), 0);
    CHECK_EQ_U(hn, 3); /* status, assignee, note */
    CHECK_EQ_U(cg_store_escalate(st, 2, 0x4, 0, "layers.conf:7", "policy", 1, &added), 0);
    CHECK_EQ_U(added, 1);
    cg_store_close(st);
    /* once is enough */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_migrated(st), 0);
    cg_store_close(st);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/cg_store_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_roundtrip();
    test_replace();
    test_queries();
    test_predicate();
    test_predicate_paging();
    test_paging();
    test_full();
    test_newer();
    test_older();
    test_corrupt();
    test_triage();
    test_triage_concurrent();
    test_escalate();
    test_shared();
    test_migrate5();
    test_alerts();
    test_sparse_ids();
    test_kill9();
    test_not_a_store();
    test_batches();
    test_writer_lock();
    test_snapshot();
    test_threads();
    if (getenv("CG_KEEP")) /* CG_KEEP=1: leave the stores for a look */
        printf("store: kept %s\n", root);
    else
        rm_rf(root);
    return check_done("store");
}
