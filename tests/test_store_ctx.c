/* test_store_ctx.c — the store's schema 3: the context of an incident's first
 * alert (request, DNS, TLS, payload excerpt) and the put contract that keeps
 * it, attacks (assignment on put, the window, by_attack, cg_store_attacks
 * against a brute-force grouping), the migration of a real schema 2 store
 * (tests/data/store-v2, made by canhgac run of an earlier version: see
 * tests/data/README) and hostile version 3 records.
 *
 * Run from the top of the tree (the fixture is read in place, copied to a
 * temporary directory before anything opens it). `test_store_ctx mkstore
 * DIR` writes a small store with context for tests/e2e.sh instead.
 */
#include "store/store.h"
#include "tests/check.h"
#include "tests/seal.h"

#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE "tests/data/store-v2/data.mdb"
#define FIXTURE3 "tests/data/store-v3/data.mdb"

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

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void a4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned w)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x, a[13] = (uint8_t)y, a[14] = (uint8_t)z, a[15] = (uint8_t)w;
}

static unsigned char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    unsigned char *b = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n)) && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        *len = (size_t)n;
    fclose(f);
    return b;
}

static int copy_file(const char *from, const char *to)
{
    size_t n = 0;
    unsigned char *b = slurp(from, &n);
    FILE *f;
    int ok;
    if (!b)
        return -1;
    f = fopen(to, "wb");
    ok = f && fwrite(b, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    free(b);
    return ok ? 0 : -1;
}

/* A copy of a fixture (FIXTURE: schema 2, FIXTURE3: schema 3) in dir. */
static int fixture_copy_of(const char *fixture, const char *dir)
{
    char p[300];
    if (mkdir(dir, 0700) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    return copy_file(fixture, p);
}

static int fixture_copy(const char *dir)
{
    return fixture_copy_of(FIXTURE, dir);
}

/* The records of db in dir counted by their version byte (cnt[0..7]). */
static int versions(const char *dir, const char *db, unsigned cnt[8])
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_dbi dbi;
    MDB_val k, v;
    int rc;

    memset(cnt, 0, 8 * sizeof cnt[0]);
    if ((rc = mdb_env_create(&env)) != 0)
        return rc;
    mdb_env_set_maxdbs(env, 64);
    if ((rc = mdb_env_open(env, dir, MDB_RDONLY, 0600)) == 0 &&
        (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0) {
        if ((rc = mdb_dbi_open(txn, db, 0, &dbi)) == 0 &&
            (rc = mdb_cursor_open(txn, dbi, &cur)) == 0) {
            for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                 rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
                if (v.mv_size)
                    cnt[((const uint8_t *)v.mv_data)[0] & 7]++;
            mdb_cursor_close(cur);
        }
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Raw LMDB access: damage done outside the store. */
static int raw(const char *dir, const char *db, const void *k, size_t kl, const void *v, size_t vl,
               uint8_t *out, size_t cap, size_t *outlen)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
    int rc;
    if ((rc = mdb_env_create(&env)) != 0)
        return rc;
    mdb_env_set_maxdbs(env, 64);
    mdb_env_set_mapsize(env, (size_t)1 << 30);
    if ((rc = mdb_env_open(env, dir, 0, 0600)) == 0 &&
        (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0) {
        rc = mdb_dbi_open(txn, db, 0, &dbi);
        if (!rc && out) {
            rc = mdb_get(txn, dbi, &key, &val);
            if (!rc && val.mv_size <= cap) {
                memcpy(out, val.mv_data, val.mv_size);
                *outlen = val.mv_size;
            }
        } else if (!rc) {
            rc = mdb_put(txn, dbi, &key, &val, 0);
        }
        if (!rc && !out)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* ---- what an incident holds, copied out of a callback ------------------------------------- */

#define NS 22
struct held {
    int calls;
    cg_incident x;
    char s[NS][512];
    uint8_t payload[CG_STORE_PAYLOAD_MAX];
};

static void strs(const cg_incident *x, const char *s[NS])
{
    const char *v[NS] = { x->msg,          x->classtype,      x->community_id,    x->assignee,
                          x->src_geo.city, x->src_geo.as_org, x->src_geo.agency,  x->src_geo.zone,
                          x->dst_geo.city, x->dst_geo.as_org, x->dst_geo.agency,  x->dst_geo.zone,
                          x->geo_db_type,  x->geo_db_date,    x->app_proto,       x->http_method,
                          x->http_host,    x->http_url,       x->http_user_agent, x->dns_query,
                          x->tls_sni,      x->tls_ja3 };
    for (int i = 0; i < NS; i++)
        s[i] = v[i] ? v[i] : "";
}

static int cb_hold(const cg_incident *inc, void *arg)
{
    struct held *h = arg;
    const char *s[NS];
    h->calls++;
    h->x = *inc;
    strs(inc, s);
    for (int i = 0; i < NS; i++)
        snprintf(h->s[i], sizeof h->s[i], "%s", s[i]);
    if (inc->payload_len <= sizeof h->payload && inc->payload_len)
        memcpy(h->payload, inc->payload, inc->payload_len);
    return 0;
}

static int hold(cg_store *st, uint64_t id, struct held *h)
{
    memset(h, 0, sizeof *h);
    return cg_store_get(st, id, cb_hold, h) == 0 && h->calls == 1 ? 0 : -1;
}

/* The fields of a held incident equal those of x (strings and payload). */
static int held_is(const struct held *h, const cg_incident *x)
{
    const char *s[NS];
    const cg_incident *a = &h->x;
    strs(x, s);
    for (int i = 0; i < NS; i++)
        if (strcmp(h->s[i], s[i]) != 0)
            return 0;
    return a->id == x->id && a->gid == x->gid && a->sid == x->sid && a->rev == x->rev &&
        !memcmp(a->src, x->src, 16) && !memcmp(a->dst, x->dst, 16) && a->sport == x->sport &&
        a->dport == x->dport && a->proto == x->proto && a->severity == x->severity &&
        a->rule_severity == x->rule_severity && a->layers == x->layers && a->status == x->status &&
        a->flags == x->flags && a->first_us == x->first_us && a->last_us == x->last_us &&
        a->count == x->count && a->flow_id == x->flow_id &&
        a->escalated_from == x->escalated_from && a->nevidence == x->nevidence &&
        a->nalerts == x->nalerts && a->nnotes == x->nnotes &&
        !strcmp(a->src_geo.country, x->src_geo.country) && a->src_geo.asn == x->src_geo.asn &&
        !strcmp(a->dst_geo.country, x->dst_geo.country) && a->dst_geo.asn == x->dst_geo.asn &&
        a->http_status == x->http_status && a->payload_len == x->payload_len &&
        a->payload_match == x->payload_match &&
        (x->payload_len == 0 || !memcmp(h->payload, x->payload, x->payload_len));
}

static const uint8_t excerpt[] = "GET /index.php?id=1' union select user,password from users-- "
                                 "HTTP/1.1\r\nHost: portal.example\r\n\0\x01\xff binary";

static cg_incident mk(uint64_t id)
{
    cg_incident x;
    memset(&x, 0, sizeof x);
    x.id = id;
    x.gid = 1;
    x.sid = 9100101;
    x.rev = 1;
    a4(x.src, 89, 160, 20, 112);
    a4(x.dst, 10, 20, 1, 10);
    x.sport = 51234;
    x.dport = 80;
    x.proto = 6;
    x.severity = x.rule_severity = 1;
    x.first_us = 1763856000000000ull + id * 1000000ull;
    x.last_us = x.first_us + 500;
    x.count = 1;
    x.msg = "CANHGAC WEB SQL injection UNION SELECT";
    x.community_id = "1:abc=";
    return x;
}

static void with_context(cg_incident *x)
{
    x->app_proto = "http";
    x->http_method = "GET";
    x->http_host = "portal.example";
    x->http_url = "/index.php?id=1' union select user,password from users--";
    x->http_user_agent = "sqlmap/1.7.2#stable (https://sqlmap.org)";
    x->http_status = 200;
    x->payload = excerpt;
    x->payload_len = sizeof excerpt - 1;
    x->payload_match = 19;
}

/* ---- context ------------------------------------------------------------------------------ */

static void test_context(void)
{
    const char *dir = path("ctx");
    cg_store *st;
    cg_incident x = mk(1), y, dns, big;
    struct held h;
    char longs[70000];

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    with_context(&x);
    x.id = cg_store_new_id(st);
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    /* a DNS incident and a TLS one: the other fields */
    dns = mk(cg_store_new_id(st));
    dns.app_proto = "dns";
    dns.dns_query = "c2.bad.example";
    dns.dport = 53;
    dns.proto = 17;
    CHECK_EQ_U(cg_store_put(st, &dns), 0);
    y = mk(cg_store_new_id(st));
    y.app_proto = "tls";
    y.tls_sni = "login.microsoftonline.com.evil.example";
    y.tls_ja3 = "e7d705a3286e19ea42f587b344ee6865";
    CHECK_EQ_U(cg_store_put(st, &y), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);

    CHECK_EQ_U(hold(st, 1, &h), 0);
    x.attack_id = 1;
    CHECK(held_is(&h, &x));
    CHECK_EQ_U(h.x.attack_id, 1);
    CHECK_EQ_U(h.x.payload_len, sizeof excerpt - 1);
    CHECK(memchr(h.payload, 0, h.x.payload_len) != NULL); /* binary kept as it is */
    CHECK_EQ_U(hold(st, 2, &h), 0);
    CHECK_STR(h.s[14], "dns");
    CHECK_STR(h.s[19], "c2.bad.example");
    CHECK_EQ_U(h.x.payload_len, 0);
    CHECK(h.x.payload == NULL);
    CHECK_EQ_U(hold(st, 3, &h), 0);
    CHECK_STR(h.s[20], "login.microsoftonline.com.evil.example");
    CHECK_STR(h.s[21], "e7d705a3286e19ea42f587b344ee6865");

    /* the sensor re-puts without context as the incident grows: kept */
    CHECK_EQ_U(cg_store_begin(st), 0);
    y = mk(1);
    y.count = 5;
    y.last_us += 60000000;
    CHECK_EQ_U(cg_store_put(st, &y), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(hold(st, 1, &h), 0);
    CHECK_EQ_U(h.x.count, 5);
    CHECK_STR(h.s[17], x.http_url);
    CHECK_STR(h.s[18], x.http_user_agent);
    CHECK_EQ_U(h.x.http_status, 200);
    CHECK_EQ_U(h.x.payload_len, sizeof excerpt - 1);
    CHECK_EQ_U(h.x.payload_match, 19);
    CHECK(!memcmp(h.payload, excerpt, sizeof excerpt - 1));
    CHECK_EQ_U(h.x.attack_id, 1); /* attack 0 on a re-put keeps the stored one */

    /* ... and triage keeps it too */
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_STATUS, CG_ST_INVESTIGATING, NULL, 0, "lan", 7),
               0);
    CHECK_EQ_U(hold(st, 1, &h), 0);
    CHECK_STR(h.s[16], "portal.example");
    CHECK_EQ_U(h.x.payload_len, sizeof excerpt - 1);

    /* one field of context given on a re-put replaces that field only (the
     * response's status, known after the alert) */
    CHECK_EQ_U(cg_store_begin(st), 0);
    y = mk(1);
    y.http_status = 500;
    CHECK_EQ_U(cg_store_put(st, &y), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(hold(st, 1, &h), 0);
    CHECK_EQ_U(h.x.http_status, 500);
    CHECK_STR(h.s[16], "portal.example");
    CHECK_STR(h.s[17], "/index.php?id=1' union select user,password from users--");
    CHECK_EQ_U(h.x.payload_len, sizeof excerpt - 1);
    CHECK_EQ_U(h.x.status, CG_ST_INVESTIGATING);

    /* limits: an excerpt over 1024 bytes, a match outside it, a long string,
     * an attack id above the incident's: refused, the batch goes on */
    CHECK_EQ_U(cg_store_begin(st), 0);
    big = mk(4);
    big.payload = (const uint8_t *)longs;
    memset(longs, 'A', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    big.payload_len = CG_STORE_PAYLOAD_MAX + 1;
    CHECK((int)cg_store_put(st, &big) == CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "1024");
    big.payload_len = 10, big.payload_match = 11;
    CHECK((int)cg_store_put(st, &big) == CG_EINVAL);
    big.payload_len = 0, big.payload_match = 0;
    big.http_url = longs;
    CHECK((int)cg_store_put(st, &big) == CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "65534");
    big.http_url = NULL;
    big.attack_id = 5;
    CHECK((int)cg_store_put(st, &big) == CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "attack id 5 above its id");
    big.attack_id = 0;
    big.payload = (const uint8_t *)longs;
    big.payload_len = CG_STORE_PAYLOAD_MAX;
    big.payload_match = CG_STORE_PAYLOAD_MAX;
    longs[100] = 0; /* the longest excerpt, any bytes */
    CHECK_EQ_U(cg_store_put(st, &big), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(hold(st, 4, &h), 0);
    CHECK_EQ_U(h.x.payload_len, CG_STORE_PAYLOAD_MAX);
    CHECK(!memcmp(h.payload, longs, CG_STORE_PAYLOAD_MAX));
    cg_store_close(st);
}

/* ---- attacks ------------------------------------------------------------------------------ */

static int cb_ids(const cg_incident *inc, void *arg)
{
    uint64_t *v = arg;
    if (v[0] < 63)
        v[1 + v[0]++] = inc->id;
    return 0;
}

static uint64_t attack_of(cg_store *st, uint64_t id)
{
    struct held h;
    return hold(st, id, &h) == 0 ? h.x.attack_id : ~0ull;
}

#define MIN_US 60000000ull

static void test_attack_assign(void)
{
    const char *dir = path("attack");
    cg_store *st;
    cg_incident x;
    cg_query q;
    uint64_t got[64];
    const uint64_t t0 = 1763856000000000ull;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    /* 1: A->B; 2: A->B other rule and port 50 min later: joins; 3: A->C: its own */
    x = mk(1), x.first_us = t0, x.last_us = t0 + 10 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(2), x.sid = 9100200, x.dport = 443, x.first_us = x.last_us = t0 + 60 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(3), a4(x.dst, 10, 20, 1, 11), x.first_us = x.last_us = t0 + 61 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    /* 4: A->B 2 h after 2's last seen: a new attack */
    x = mk(4), x.first_us = x.last_us = t0 + 181 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(attack_of(st, 1), 1);
    CHECK_EQ_U(attack_of(st, 2), 1);
    CHECK_EQ_U(attack_of(st, 3), 3);
    CHECK_EQ_U(attack_of(st, 4), 4);

    /* the pair's last seen follows re-puts: 4 grows for 100 min, so 5, 150
     * min after 4's first alert, is still within an hour of its last */
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(4), x.first_us = t0 + 181 * MIN_US, x.last_us = t0 + 281 * MIN_US, x.count = 9;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(5), x.first_us = x.last_us = t0 + 331 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    /* a re-put of incident 2 (an older attack of the pair) leaves the pair's
     * attack as it is: 6 still joins 4's */
    x = mk(2), x.sid = 9100200, x.first_us = t0 + 60 * MIN_US, x.last_us = t0 + 62 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(6), x.first_us = x.last_us = t0 + 340 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    /* a capture read out of order: 7 starts 20 min before the attack's last seen */
    x = mk(7), x.first_us = x.last_us = t0 + 320 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    /* a given attack id is kept */
    x = mk(8), a4(x.src, 1, 2, 3, 4), x.attack_id = 3;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(attack_of(st, 4), 4);
    CHECK_EQ_U(attack_of(st, 5), 4);
    CHECK_EQ_U(attack_of(st, 6), 4);
    CHECK_EQ_U(attack_of(st, 7), 4);
    CHECK_EQ_U(attack_of(st, 8), 3);
    CHECK_EQ_U(attack_of(st, 2), 1);

    /* by_attack: the related incidents, newest first, from the index */
    memset(&q, 0, sizeof q);
    q.has = CG_Q_ATTACK, q.attack = 4;
    memset(got, 0, sizeof got);
    CHECK_EQ_U(cg_store_query(st, &q, 0, NULL, cb_ids, got), 0);
    CHECK_EQ_U(got[0], 4);
    CHECK(got[1] == 7 && got[2] == 6 && got[3] == 5 && got[4] == 4);
    {
        char plan[128];
        uint64_t n = 0;
        CHECK_EQ_U(cg_store_explain(st, &q, plan, sizeof plan), 0);
        CHECK_CONTAINS(plan, "by_attack");
        CHECK_EQ_U(cg_store_count(st, &q, &n), 0);
        CHECK_EQ_U(n, 4);
        q.attack = 3;
        CHECK_EQ_U(cg_store_count(st, &q, &n), 0);
        CHECK_EQ_U(n, 2);
        q.has |= CG_Q_SID, q.sid = 9100101;
        memset(got, 0, sizeof got);
        CHECK_EQ_U(cg_store_query(st, &q, 0, NULL, cb_ids, got), 0);
        CHECK(got[0] == 2 && got[1] == 8 && got[2] == 3);
    }

    /* a window of 0: every new incident its own attack; a day: one */
    cg_store_set_attack_window(st, 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(9), x.first_us = x.last_us = t0 + 340 * MIN_US + 1;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    cg_store_set_attack_window(st, 86400);
    x = mk(10), x.first_us = x.last_us = t0 + 1000 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(attack_of(st, 9), 9);
    CHECK_EQ_U(attack_of(st, 10), 9);
    /* a window of years, and times near 0 and near the end of time: the
     * lookups stay bounded, and an attack holds either way */
    cg_store_set_attack_window(st, 100000000);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(12), a4(x.src, 7, 7, 7, 7), x.first_us = 1000, x.last_us = 2000;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(13), a4(x.src, 7, 7, 7, 7), x.first_us = 5000, x.last_us = UINT64_MAX;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(14), a4(x.src, 7, 7, 7, 7), x.first_us = x.last_us = UINT64_MAX - 5;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    x = mk(13), a4(x.src, 7, 7, 7, 7), x.first_us = 5000, x.last_us = UINT64_MAX;
    x.count = 2;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(attack_of(st, 12), 12);
    CHECK_EQ_U(attack_of(st, 13), 12);
    CHECK_EQ_U(attack_of(st, 14), 12); /* within the window of 13's last seen */
    cg_store_set_attack_window(st, 3600);
    cg_store_close(st);

    /* the attacks survive a reopen, and the next writer goes on with them */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(11), x.first_us = x.last_us = t0 + 1010 * MIN_US;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(attack_of(st, 11), 9);
    cg_store_close(st);
}

/* ---- cg_store_attacks against a brute-force grouping ---------------------------------------- */

#define NA 3000

static cg_incident ainc[NA + 1];

struct agot {
    cg_store_attack a[NA];
    size_t n;
    size_t stop_after;
};

static int cb_attack(const cg_store_attack *a, void *arg)
{
    struct agot *g = arg;
    if (g->n < NA)
        g->a[g->n++] = *a;
    return g->stop_after && g->n >= g->stop_after;
}

static int ref_in(const cg_query *q, const cg_incident *x)
{
    if ((q->has & CG_Q_SINCE) && x->first_us < q->since_us)
        return 0;
    if ((q->has & CG_Q_SEV) && x->severity > q->sev_max)
        return 0;
    if ((q->has & CG_Q_DPORT) && x->dport != q->dport)
        return 0;
    return 1;
}

/* The attacks of the incidents matching q, brute force, checked against
 * what cg_store_attacks gave (newest first, every field). */
static int check_attacks(const cg_query *q, const struct agot *g, size_t limit)
{
    size_t want = 0;
    uint64_t prev = UINT64_MAX;
    int ok = 1;

    for (uint64_t a = NA; a >= 1 && ok; a--) {
        cg_store_attack r;
        memset(&r, 0, sizeof r);
        for (uint64_t id = a; id <= NA; id++) {
            const cg_incident *x = &ainc[id];
            if (x->attack_id != a || !ref_in(q, x))
                continue;
            if (!r.incidents) {
                r.first_us = x->first_us, r.last_us = x->last_us, r.severity = x->severity;
                memcpy(r.src, x->src, 16);
                memcpy(r.dst, x->dst, 16);
            }
            r.incidents++;
            r.alerts += x->count;
            if (x->first_us < r.first_us)
                r.first_us = x->first_us;
            if (x->last_us > r.last_us)
                r.last_us = x->last_us;
            if (x->severity < r.severity)
                r.severity = x->severity;
            uint32_t i;
            for (i = 0; i < r.nsigs; i++)
                if (r.sigs[i].sid == x->sid)
                    break;
            if (i == r.nsigs && r.nsigs < CG_ATTACK_SIGS)
                r.sigs[r.nsigs++].sid = x->sid;
        }
        if (!r.incidents)
            continue;
        if (limit && want >= limit)
            break;
        if (want >= g->n) {
            ok = 0;
            break;
        }
        const cg_store_attack *b = &g->a[want++];
        ok = b->attack_id == a && b->attack_id < prev && b->incidents == r.incidents &&
            b->alerts == r.alerts && b->first_us == r.first_us && b->last_us == r.last_us &&
            b->severity == r.severity && !memcmp(b->src, r.src, 16) && !memcmp(b->dst, r.dst, 16) &&
            b->nsigs == r.nsigs;
        for (uint32_t i = 0; ok && i < r.nsigs; i++) {
            uint32_t j;
            for (j = 0; j < b->nsigs; j++)
                if (b->sigs[j].sid == r.sigs[i].sid && b->sigs[j].gid == 1)
                    break;
            ok = j < b->nsigs;
        }
        prev = a;
    }
    return ok && want == g->n;
}

static void test_attacks(void)
{
    const char *dir = path("attacks");
    cg_store *st;
    cg_query q;
    static struct agot g;
    const uint64_t t0 = 1763856000000000ull;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (uint64_t id = 1; id <= NA; id++) {
        cg_incident *x = &ainc[id];
        uint64_t r = rnd();
        *x = mk(cg_store_new_id(st));
        /* 20 sources, 3 destinations, time going on with jitter: pairs come
         * back within the hour and after it */
        a4(x->src, 198, 51, 100, (unsigned)(r % 20));
        a4(x->dst, 10, 20, 1, (unsigned)((r >> 8) % 3));
        x->sid = 9100100 + (uint32_t)((r >> 16) % 12);
        x->dport = (uint16_t)(80 + (r >> 24) % 3);
        x->severity = (uint8_t)(1 + (r >> 32) % 4);
        x->first_us = t0 + id * 20 * MIN_US / 10 + (r >> 40) % (30 * MIN_US);
        x->last_us = x->first_us + (r >> 48) % (20 * MIN_US);
        x->count = 1 + (r >> 56) % 9;
        CHECK_EQ_U(cg_store_put(st, x), 0);
        if (id % 500 == 0) {
            CHECK_EQ_U(cg_store_commit(st), 0);
            CHECK_EQ_U(cg_store_begin(st), 0);
        }
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    for (uint64_t id = 1; id <= NA; id++) {
        ainc[id].attack_id = attack_of(st, id);
        CHECK(ainc[id].attack_id >= 1 && ainc[id].attack_id <= id);
    }
    {
        size_t joined = 0;
        for (uint64_t id = 1; id <= NA; id++)
            joined += ainc[id].attack_id != id;
        CHECK(joined > NA / 4 && joined < NA); /* some attacks of many incidents, not one */
    }

    for (int round = 0; round < 12; round++) {
        size_t limit = round % 3 == 0 ? 0 : round % 3 == 1 ? 7 : 100;
        memset(&q, 0, sizeof q);
        if (round & 1)
            q.has |= CG_Q_SINCE, q.since_us = t0 + (rnd() % NA) * 2 * MIN_US;
        if (round & 2)
            q.has |= CG_Q_SEV, q.sev_max = (uint8_t)(1 + rnd() % 3);
        if (round & 4)
            q.has |= CG_Q_DPORT, q.dport = 81;
        g.n = 0, g.stop_after = 0;
        CHECK_EQ_U(cg_store_attacks(st, &q, limit, cb_attack, &g), 0);
        CHECK(check_attacks(&q, &g, limit));
        if (limit)
            CHECK(g.n <= limit);
    }
    /* the callback stops it */
    g.n = 0, g.stop_after = 3;
    CHECK_EQ_U(cg_store_attacks(st, NULL, 0, cb_attack, &g), 0);
    CHECK_EQ_U(g.n, 3);
    cg_store_close(st);
}

/* ---- migration of a real schema 2 store ------------------------------------------------------ */

struct sub {
    int n;
    char text[64][160];
};

static int cb_ev(uint32_t seq, const cg_evidence *ev, void *arg)
{
    struct sub *s = arg;
    unsigned h = 2166136261u;
    for (uint32_t i = 0; i < ev->caplen; i++)
        h = (h ^ ev->data[i]) * 16777619u;
    if (s->n < 64)
        snprintf(s->text[s->n++], 160, "%u %llu %d %u %u %08x", seq, (unsigned long long)ev->ts_us,
                 ev->dlt, ev->caplen, ev->wirelen, h);
    return 0;
}

static int cb_alert(uint32_t seq, const cg_alert *a, void *arg)
{
    struct sub *s = arg;
    if (s->n < 64)
        snprintf(s->text[s->n++], 160, "%u %llu %llu %s %u %u %u %d", seq,
                 (unsigned long long)a->ts_us, (unsigned long long)a->flow_id, a->community_id,
                 a->sport, a->dport, a->severity, a->evidence_seq);
    return 0;
}

static int cb_hist(const cg_history *h, void *arg)
{
    struct sub *s = arg;
    if (s->n < 64)
        snprintf(s->text[s->n++], 160, "%llu %llu %s %u %u %u %s|%s", (unsigned long long)h->seq,
                 (unsigned long long)h->when_us, h->who, h->kind, h->old_num, h->new_num,
                 h->old_text, h->new_text);
    return 0;
}

#define NFIX 6

struct snapshot {
    struct held inc[NFIX + 1];
    struct sub ev[NFIX + 1], al[NFIX + 1], hi[NFIX + 1];
    cg_store_info info;
};

static void take(cg_store *st, struct snapshot *s)
{
    memset(s, 0, sizeof *s);
    CHECK_EQ_U(cg_store_info_get(st, &s->info), 0);
    for (uint64_t id = 1; id <= NFIX; id++) {
        CHECK_EQ_U(hold(st, id, &s->inc[id]), 0);
        CHECK_EQ_U(cg_store_evidence(st, id, cb_ev, &s->ev[id]), 0);
        CHECK_EQ_U(cg_store_alerts(st, id, cb_alert, &s->al[id]), 0);
        CHECK_EQ_U(cg_store_history(st, id, cb_hist, &s->hi[id]), 0);
    }
}

static int same_sub(const struct sub *a, const struct sub *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->text[i], b->text[i]) != 0)
            return 0;
    return 1;
}

/* Everything of the snapshots but the attack ids is the same. */
static void same_snapshots(const struct snapshot *a, const struct snapshot *b)
{
    CHECK_EQ_U(a->info.incidents, b->info.incidents);
    CHECK_EQ_U(a->info.alerts, b->info.alerts);
    CHECK_EQ_U(a->info.evidence, b->info.evidence);
    CHECK_EQ_U(a->info.history, b->info.history);
    CHECK_EQ_U(a->info.next_id, b->info.next_id);
    for (int id = 1; id <= NFIX; id++) {
        cg_incident x = a->inc[id].x;
        const char *s[NS];
        struct held h = b->inc[id];
        for (int i = 0; i < NS; i++)
            s[i] = a->inc[id].s[i];
        x.msg = s[0], x.classtype = s[1], x.community_id = s[2], x.assignee = s[3];
        x.src_geo.city = s[4], x.src_geo.as_org = s[5], x.src_geo.agency = s[6];
        x.src_geo.zone = s[7], x.dst_geo.city = s[8], x.dst_geo.as_org = s[9];
        x.dst_geo.agency = s[10], x.dst_geo.zone = s[11], x.geo_db_type = s[12];
        x.geo_db_date = s[13], x.app_proto = s[14], x.http_method = s[15];
        x.http_host = s[16], x.http_url = s[17], x.http_user_agent = s[18];
        x.dns_query = s[19], x.tls_sni = s[20], x.tls_ja3 = s[21];
        x.payload = x.payload_len ? a->inc[id].payload : NULL;
        CHECK(held_is(&h, &x));
        CHECK(same_sub(&a->ev[id], &b->ev[id]));
        CHECK(same_sub(&a->al[id], &b->al[id]));
        CHECK(same_sub(&a->hi[id], &b->hi[id]));
    }
}

static void test_migrate(void)
{
    const char *dir = path("v2"), *dir2 = path("v2-triage"), *data = path("v2/data.mdb");
    static struct snapshot before, after, again;
    static struct agot g;
    unsigned char *orig;
    size_t olen = 0, nlen = 0;
    cg_store *st;

    CHECK_EQ_U(fixture_copy(dir), 0);
    CHECK_EQ_U(fixture_copy(dir2), 0);
    orig = slurp(data, &olen);
    CHECK(orig != NULL);

    /* a reader reads schema 2 as it is, and writes nothing */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    take(st, &before);
    CHECK_EQ_U(before.info.schema, 2);
    CHECK_EQ_U(before.info.incidents, NFIX);
    CHECK_EQ_U(before.inc[1].x.attack_id, 0);
    CHECK((int)cg_store_attacks(st, NULL, 0, cb_attack, &g) == CG_EOLDER);
    CHECK_CONTAINS(cg_store_error(st), "schema 2");
    {
        cg_query q;
        uint64_t n = 9;
        memset(&q, 0, sizeof q);
        q.has = CG_Q_ATTACK, q.attack = 1;
        CHECK_EQ_U(cg_store_count(st, &q, &n), 0); /* no attacks yet, no error */
        CHECK_EQ_U(n, 0);
    }
    cg_store_close(st);
    {
        unsigned char *now = slurp(data, &nlen);
        CHECK(now && nlen == olen && !memcmp(now, orig, olen));
        free(now);
    }
    /* what the fixture holds, as the README says */
    CHECK_STR(before.inc[2].s[0], "CANHGAC WEB SQL injection UNION SELECT");
    CHECK_EQ_U(before.inc[2].x.status, CG_ST_INVESTIGATING);
    CHECK_STR(before.inc[2].s[3], "lan");
    CHECK_EQ_U(before.hi[2].n, 3);
    CHECK_CONTAINS(before.hi[2].text[2], "blocked at the firewall, ticket 1234");
    CHECK_EQ_U(before.inc[4].x.severity, 3);
    CHECK(before.inc[4].x.flags & CG_INC_SEV_SET);
    CHECK_EQ_U(before.inc[4].x.rule_severity, 1);
    CHECK_CONTAINS(before.inc[1].s[12], "GeoIP2-City");
    CHECK(before.ev[2].n == 2 && before.al[1].n == 3);

    /* the writer migrates it in place */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    take(st, &after);
    CHECK_EQ_U(after.info.schema, CG_STORE_SCHEMA);
    same_snapshots(&before, &after);
    for (int id = 1; id <= 4; id++)
        CHECK_EQ_U(after.inc[id].x.attack_id, 1); /* 10.2.2.101 -> .104 in one hour */
    CHECK_EQ_U(after.inc[5].x.attack_id, 5);
    CHECK_EQ_U(after.inc[6].x.attack_id, 6);
    g.n = 0, g.stop_after = 0;
    CHECK_EQ_U(cg_store_attacks(st, NULL, 0, cb_attack, &g), 0);
    CHECK_EQ_U(g.n, 3);
    CHECK(g.a[0].attack_id == 6 && g.a[1].attack_id == 5 && g.a[2].attack_id == 1);
    CHECK_EQ_U(g.a[2].incidents, 4);
    CHECK_EQ_U(g.a[2].alerts,
               before.inc[1].x.count + before.inc[2].x.count + before.inc[3].x.count +
                   before.inc[4].x.count);
    CHECK_EQ_U(g.a[2].nsigs, 4);
    CHECK_EQ_U(g.a[2].severity, 1);
    /* it goes on as a store of schema 3: a new incident of the pair joins */
    {
        cg_incident x = after.inc[4].x;
        x.id = cg_store_new_id(st);
        CHECK_EQ_U(x.id, 7);
        x.attack_id = 0;
        x.msg = "later", x.classtype = x.community_id = x.assignee = "";
        x.geo_db_type = x.geo_db_date = "";
        memset(&x.src_geo, 0, sizeof x.src_geo);
        memset(&x.dst_geo, 0, sizeof x.dst_geo);
        x.status = 0, x.flags = 0, x.nnotes = 0;
        x.first_us = x.last_us = after.inc[2].x.last_us + 1000000;
        CHECK_EQ_U(cg_store_begin(st), 0);
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        CHECK_EQ_U(cg_store_commit(st), 0);
        CHECK_EQ_U(attack_of(st, 7), 1);
    }
    cg_store_close(st);

    /* it opens again, as schema 3, with everything */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    take(st, &again);
    CHECK_EQ_U(again.info.schema, CG_STORE_SCHEMA);
    CHECK_EQ_U(again.info.incidents, NFIX + 1);
    again.info.incidents = NFIX, again.info.next_id = before.info.next_id;
    same_snapshots(&before, &again);
    cg_store_close(st);

    /* a triage handle migrates too, and its change lands after */
    CHECK_EQ_U(cg_store_open(&st, dir2, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_note_add(st, 5, "an", 1, "seen"), 0);
    take(st, &after);
    CHECK_EQ_U(after.info.schema, CG_STORE_SCHEMA);
    CHECK_EQ_U(after.inc[3].x.attack_id, 1);
    CHECK_EQ_U(after.hi[5].n, before.hi[5].n + 1);
    cg_store_close(st);
    free(orig);
}

/* ---- migration of a real schema 3 store ------------------------------------------------------ */

/* tests/data/store-v3 (see tests/data/README): a reader reads it as it is
 * (records of the unsealed versions) and writes nothing; a writer seals
 * every record in place, and everything reads the same, attacks included. */
static void test_migrate_v3(void)
{
    const char *dir = path("v3"), *data = path("v3/data.mdb");
    static struct snapshot before, after;
    static const char *dbs[4] = { "incidents", "alerts", "evidence", "history" };
    unsigned cnt[4][8];
    unsigned char *orig, *now;
    size_t olen = 0, nlen = 0;
    cg_store *st;

    CHECK_EQ_U(fixture_copy_of(FIXTURE3, dir), 0);
    orig = slurp(data, &olen);
    CHECK(orig != NULL);
    for (int d = 0; d < 4; d++)
        CHECK_EQ_U(versions(dir, dbs[d], cnt[d]), 0);
    CHECK_EQ_U(cnt[0][3], NFIX); /* what the fixture holds: version 3 incidents, */
    CHECK(cnt[1][1] >= NFIX && cnt[2][1] >= NFIX && cnt[3][1] == 4); /* version 1 others */

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    take(st, &before);
    CHECK_EQ_U(before.info.schema, 3);
    CHECK_EQ_U(before.info.incidents, NFIX);
    CHECK_STR(before.inc[2].s[0], "CANHGAC WEB SQL injection UNION SELECT");
    CHECK_EQ_U(before.inc[2].x.status, CG_ST_INVESTIGATING);
    CHECK_STR(before.inc[2].s[3], "lan");
    CHECK_STR(before.inc[2].s[14], "http");
    CHECK_EQ_U(before.hi[2].n, 3);
    CHECK_CONTAINS(before.hi[2].text[2], "blocked at the firewall, ticket 1234");
    CHECK_EQ_U(before.inc[4].x.severity, 3);
    CHECK_EQ_U(before.inc[2].x.attack_id, 1);
    CHECK_EQ_U(before.inc[6].x.attack_id, 6);
    cg_store_close(st);
    now = slurp(data, &nlen);
    CHECK(now && nlen == olen && !memcmp(now, orig, olen));
    free(now);

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    take(st, &after);
    CHECK_EQ_U(after.info.schema, CG_STORE_SCHEMA);
    same_snapshots(&before, &after);
    for (int id = 1; id <= NFIX; id++)
        CHECK_EQ_U(after.inc[id].x.attack_id, before.inc[id].x.attack_id);
    cg_store_close(st);
    {
        unsigned sealed[4][8];
        for (int d = 0; d < 4; d++) {
            unsigned total = 0;
            CHECK_EQ_U(versions(dir, dbs[d], sealed[d]), 0);
            for (int v = 0; v < 8; v++)
                total += cnt[d][v];
            /* every record in the sealed version: 4 for incidents, 2 for the others */
            CHECK_EQ_U(sealed[d][d ? 2 : 4], total);
        }
    }
    free(orig);
}

/* ---- hostile version 3 records ------------------------------------------------------------- */

static void test_corrupt_v3(void)
{
    const char *dir = path("corrupt3");
    static uint8_t rec[4096];
    uint8_t key[8], bad[4096];
    size_t len = 0;
    cg_store *st;
    cg_incident x = mk(1), d;
    int n = 0;

    with_context(&x);
    x.dns_query = "q.example";
    x.tls_sni = "sni.example";
    x.tls_ja3 = "e7d705a3286e19ea42f587b344ee6865";
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    cg_store_close(st);
    be64(key, 1);
    CHECK_EQ_U(raw(dir, "incidents", key, 8, NULL, 0, rec, sizeof rec, &len), 0);
    CHECK(len > 152 + x.payload_len);
    CHECK_EQ_U(rec[0], 4);
    CHECK_EQ_U(cg_store_decode(rec, len, &d), 0);
    CHECK_STR(d.http_url, x.http_url);
    CHECK(d.payload == rec + len - 4 - x.payload_len);

    /* every truncation and one byte more are refused */
    for (size_t m = 0; m <= len + 1; m++) {
        uint8_t *b = malloc(m ? m : 1);
        memcpy(b, rec, m < len ? m : len);
        if (m > len)
            b[len] = 0;
        if (m != len && cg_store_decode(b, m, &d) != CG_ECORRUPT)
            n++;
        free(b);
    }
    CHECK_EQ_U(n, 0);
    /* the fields of version 3, each made bad */
    {
        struct {
            size_t off;
            uint8_t v[4];
            unsigned w;
        } cases[] = {
            { 148, { 0, 0, 4, 1 }, 4 }, /* payload_len 1025 */
            { 148, { 0, 0, 0, 0 }, 4 }, /* payload_len 0: trailing bytes */
            { 148, { 0xff, 0xff, 0xff, 0xff }, 4 },
            { 144, { 0, 0, 0x7f, 0xff }, 4 }, /* the match past the excerpt */
            { 128, { 0, 0x40, 0, 0 }, 4 },    /* a string bit past the 22nd */
            { 136, { 0, 0, 0, 0 }, 4 },       /* attack id 0 */
            { 136, { 0, 0, 0, 2 }, 4 },       /* attack id 2 > id 1 */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            memcpy(bad, rec, len);
            memcpy(bad + cases[i].off, cases[i].v, cases[i].w);
            CHECK((int)cg_store_decode(bad, len, &d) == CG_ECORRUPT); /* the seal */
            reseal(bad, len);
            CHECK((int)cg_store_decode(bad, len, &d) == CG_ECORRUPT); /* the field */
        }
        /* a string length that runs into the payload, then past the end */
        memcpy(bad, rec, len);
        bad[152] = 0x7f;
        reseal(bad, len);
        CHECK((int)cg_store_decode(bad, len, &d) == CG_ECORRUPT);
    }
    /* random damage: refused, or accepted with every view inside the record */
    {
        int accepted = 0, outside = 0;
        for (int round = 0; round < 20000; round++) {
            size_t m = len;
            uint8_t *b = malloc(m);
            memcpy(b, rec, m);
            for (int f = 0, nf = 1 + (int)(rnd() % 4); f < nf; f++) {
                size_t at = rnd() % m;
                b[round & 1 ? at % 160 : at] = (uint8_t)rnd();
            }
            if (round & 2)
                reseal(b, m); /* else the seal refuses every one */
            if (cg_store_decode(b, m, &d) == 0) {
                const char *s[NS];
                accepted++;
                strs(&d, s);
                for (int i = 0; i < NS; i++)
                    if (s[i][0] &&
                        ((const uint8_t *)s[i] < b ||
                         (const uint8_t *)s[i] + strlen(s[i]) >= b + m))
                        outside++;
                if (d.payload_len && (d.payload < b || d.payload + d.payload_len > b + m))
                    outside++;
                if (d.payload_match > d.payload_len || d.payload_len > CG_STORE_PAYLOAD_MAX)
                    outside++;
            }
            free(b);
        }
        CHECK(accepted > 0);
        CHECK_EQ_U(outside, 0);
    }
    /* in the store: the reader says which record and why */
    memcpy(bad, rec, len);
    bad[151] ^= 1; /* payload_len off by one */
    reseal(bad, len);
    CHECK_EQ_U(raw(dir, "incidents", key, 8, bad, len, NULL, 0, NULL), 0);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    {
        struct held h;
        CHECK((int)cg_store_get(st, 1, cb_hold, &h) == CG_ECORRUPT);
        CHECK_CONTAINS(cg_store_error(st), "incident 1: bad record");
    }
    cg_store_close(st);
}

/* `test_store_ctx mkstore DIR`: a store with context, for tests/e2e.sh to
 * check what canhgac query and incident show print of it: 1 an HTTP
 * request with its payload excerpt, 2 a DNS query of the same pair (so of
 * attack 1), 3 a TLS client hello from elsewhere. */
static int mkstore(const char *dir)
{
    cg_store *st;
    cg_incident x = mk(1), y = mk(2), z = mk(3);
    int rc;

    with_context(&x);
    y.sid = 9100401, y.msg = "CANHGAC DNS query for a tunnelling domain";
    y.app_proto = "dns", y.dns_query = "c2.tunnel.example", y.dport = 53, y.proto = 17;
    z.sid = 9100501, z.msg = "CANHGAC TLS client hello to a phishing name";
    a4(z.src, 198, 51, 100, 7);
    z.app_proto = "tls", z.tls_sni = "login.portal.example.evil.example";
    z.tls_ja3 = "e7d705a3286e19ea42f587b344ee6865", z.dport = 443;
    if (cg_store_open(&st, dir, 0, 0) != 0) {
        fprintf(stderr, "%s\n", cg_store_error(NULL));
        return 1;
    }
    rc = cg_store_begin(st);
    for (int i = 0; i < 3 && !rc; i++) {
        cg_incident *w = i == 0 ? &x : i == 1 ? &y : &z;
        w->id = cg_store_new_id(st);
        rc = cg_store_put(st, w);
    }
    if (!rc)
        rc = cg_store_commit(st);
    if (rc)
        fprintf(stderr, "%s\n", cg_store_error(st));
    cg_store_close(st);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "mkstore"))
        return mkstore(argv[2]);
    snprintf(root, sizeof root, "/tmp/cg_store_ctx_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_context();
    test_attack_assign();
    test_attacks();
    test_migrate();
    test_migrate_v3();
    test_corrupt_v3();
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("store_ctx");
}
