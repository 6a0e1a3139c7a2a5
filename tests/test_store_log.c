/* test_store_log.c — the store's tamper-evident log (store/store_log.c): its
 * size against the records and changes a test makes, its origin, its root
 * against a brute-force recomputation from the records read by raw LMDB
 * (leaf SHA-256(0x00 | kind | key | record), RFC 9162 MTH, every stored
 * node), what cg_store_verify says of records, leaves and nodes damaged by
 * raw LMDB (each line exactly), consistency proofs over 10,000 leaves
 * against heads taken on the way and against a brute-force PROOF(m, D[n]),
 * a careful rewrite that verify cannot see and old heads do, the log begun
 * by migrating tests/data/store-v3, and batches that fail.
 *
 * The hashing here is OpenSSL's SHA-256 through EVP, not store/merkle.c.
 * Raw LMDB opens a store only while no handle of this process has it open
 * (LMDB's locks are per process). Run from the top of the tree (the fixture
 * is read in place and copied before anything opens it).
 */
#include "sensor/error.h"
#include "store/merkle.h"
#include "store/store.h"
#include "tests/check.h"
#include "tests/seal.h"

#include <ftw.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define FIXTURE3 "tests/data/store-v3/data.mdb"

/* The kind byte of a leaf (store_log.c's CGS_LOG_*). */
enum { K_INC = 1, K_ALERT = 2, K_EV = 3, K_HIST = 4 };

static const char *const kind_db[5] = { NULL, "incidents", "alerts", "evidence", "history" };
static const unsigned kind_klen[5] = { 0, 8, 12, 12, 16 };

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

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- hashing, independent of store/merkle.c -------------------------------------------------- */

/* SHA-256 of the n parts p[i][0..len[i]). */
static void sha256v(uint8_t out[32], int n, const void *const *p, const size_t *len)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned olen = 0;
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);

    for (int i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(c, p[i], len[i]);
    ok = ok && EVP_DigestFinal_ex(c, out, &olen) && olen == 32;
    EVP_MD_CTX_free(c);
    if (!ok) {
        fprintf(stderr, "test_store_log: SHA-256 failed\n");
        exit(2);
    }
}

static void leaf_hash(uint8_t out[32], unsigned kind, const uint8_t *key, size_t klen,
                      const void *rec, size_t n)
{
    uint8_t z = 0, k = (uint8_t)kind;
    const void *p[4] = { &z, &k, key, rec };
    size_t l[4] = { 1, 1, klen, n };
    sha256v(out, 4, p, l);
}

static void node_hash(uint8_t out[32], const uint8_t l[32], const uint8_t r[32])
{
    uint8_t one = 1;
    const void *p[3] = { &one, l, r };
    size_t n[3] = { 1, 32, 32 };
    sha256v(out, 3, p, n);
}

static uint64_t split(uint64_t n) /* the largest power of two below n (n >= 2) */
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* RFC 9162 2.1.1: MTH of the n leaf hashes at h. */
static void mth(const uint8_t (*h)[32], uint64_t n, uint8_t out[32])
{
    uint8_t l[32], r[32];
    uint64_t k;

    if (n == 0) {
        sha256v(out, 0, NULL, NULL);
        return;
    }
    if (n == 1) {
        memcpy(out, h[0], 32);
        return;
    }
    k = split(n);
    mth(h, k, l);
    mth(h + k, n - k, r);
    node_hash(out, l, r);
}

/* RFC 9162 2.1.4.1: SUBPROOF(m, D[n], b), appended to path[*np]. */
static void subproof(const uint8_t (*h)[32], uint64_t m, uint64_t n, int b, uint8_t (*path)[32],
                     unsigned *np)
{
    uint64_t k;

    if (m == n) {
        if (!b)
            mth(h, n, path[(*np)++]);
        return;
    }
    k = split(n);
    if (m <= k) {
        subproof(h, m, k, b, path, np);
        mth(h + k, n - k, path[(*np)++]);
    } else {
        subproof(h + k, m - k, n - k, 0, path, np);
        mth(h, k, path[(*np)++]);
    }
}

/* ---- raw LMDB: what an attacker or a damaged disk does --------------------------------------- */

struct raw {
    MDB_env *env;
    MDB_txn *txn;
};

static int raw_begin(struct raw *r, const char *dir, int write)
{
    int rc;

    memset(r, 0, sizeof *r);
    if ((rc = mdb_env_create(&r->env)) != 0)
        return rc;
    mdb_env_set_maxdbs(r->env, 64);
    if (write)
        mdb_env_set_mapsize(r->env, (size_t)1 << 30);
    /* writes need no fsync: the store opens the same file's pages next */
    rc = mdb_env_open(r->env, dir, write ? MDB_NOSYNC : MDB_RDONLY, 0600);
    if (!rc)
        rc = mdb_txn_begin(r->env, NULL, write ? 0 : MDB_RDONLY, &r->txn);
    if (rc) {
        mdb_env_close(r->env);
        r->env = NULL;
    }
    return rc;
}

static int raw_end(struct raw *r, int commit)
{
    int rc = 0;

    if (commit)
        rc = mdb_txn_commit(r->txn);
    else
        mdb_txn_abort(r->txn);
    mdb_env_close(r->env);
    return rc;
}

static int raw_get(const char *dir, const char *db, const void *k, size_t kl, uint8_t *out,
                   size_t cap, size_t *len)
{
    struct raw r;
    MDB_dbi dbi;
    MDB_val key = { kl, (void *)k }, v;
    int rc = raw_begin(&r, dir, 0);

    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(r.txn, db, 0, &dbi)) == 0 && (rc = mdb_get(r.txn, dbi, &key, &v)) == 0) {
        if (v.mv_size > cap)
            rc = -1;
        else
            memcpy(out, v.mv_data, *len = v.mv_size);
    }
    raw_end(&r, 0);
    return rc;
}

static int raw_put(const char *dir, const char *db, const void *k, size_t kl, const void *v,
                   size_t vl)
{
    struct raw r;
    MDB_dbi dbi;
    MDB_val key = { kl, (void *)k }, val = { vl, (void *)v };
    int rc = raw_begin(&r, dir, 1);

    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(r.txn, db, 0, &dbi)) == 0)
        rc = mdb_put(r.txn, dbi, &key, &val, 0);
    return rc ? (raw_end(&r, 0), rc) : raw_end(&r, 1);
}

static int raw_del(const char *dir, const char *db, const void *k, size_t kl)
{
    struct raw r;
    MDB_dbi dbi;
    MDB_val key = { kl, (void *)k };
    int rc = raw_begin(&r, dir, 1);

    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(r.txn, db, 0, &dbi)) == 0)
        rc = mdb_del(r.txn, dbi, &key, NULL);
    return rc ? (raw_end(&r, 0), rc) : raw_end(&r, 1);
}

/* Entries of db in dir, or -1. */
static long raw_count(const char *dir, const char *db)
{
    struct raw r;
    MDB_dbi dbi;
    MDB_stat ms;
    long n = -1;

    if (raw_begin(&r, dir, 0))
        return -1;
    if (!mdb_dbi_open(r.txn, db, 0, &dbi) && !mdb_stat(r.txn, dbi, &ms))
        n = (long)ms.ms_entries;
    raw_end(&r, 0);
    return n;
}

/* The records of the four kinds in dir. */
static uint64_t raw_records(const char *dir)
{
    uint64_t n = 0;
    for (int k = K_INC; k <= K_HIST; k++)
        n += (uint64_t)raw_count(dir, kind_db[k]);
    return n;
}

/* ---- the log as raw LMDB has it ------------------------------------------------------------- */

struct leaf {
    uint8_t hash[32];
    uint8_t kind;
    uint8_t key[16]; /* zero after the kind's key length */
};

/* The entries of DB "log" of dir in order, malloc'ed; NULL (and a failed
 * check) when an entry is not a leaf entry or the numbering has a gap. */
static struct leaf *read_log(const char *dir, size_t *n)
{
    struct raw r;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    struct leaf *e = NULL;
    size_t cap = 0, i = 0, bad = 0;
    int rc;

    *n = 0;
    if ((rc = raw_begin(&r, dir, 0)) != 0) {
        CHECK_EQ_U(rc, 0);
        return NULL;
    }
    rc = mdb_dbi_open(r.txn, "log", 0, &dbi);
    if (!rc)
        rc = mdb_cursor_open(r.txn, dbi, &cur);
    CHECK_EQ_U(rc, 0);
    if (rc) {
        raw_end(&r, 0);
        return NULL;
    }
    /* blocks of 1 to 16 slots of 49 bytes (32 hash | kind | key, zeros to
     * 16), numbered without a gap, every one but the last full */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !bad;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t slots = v.mv_size / 49;
        if (k.mv_size != 8 || rd64(k.mv_data) * 16 != i || i % 16 || v.mv_size % 49 || slots == 0 ||
            slots > 16) {
            bad++;
            break;
        }
        for (size_t j = 0; j < slots; j++, i++) {
            const uint8_t *p = (const uint8_t *)v.mv_data + j * 49;
            unsigned kind = p[32];
            if (kind < K_INC || kind > K_HIST) {
                bad++;
                break;
            }
            for (unsigned z = 33 + kind_klen[kind]; z < 49; z++)
                if (p[z])
                    bad++;
            if (i == cap) {
                cap = cap ? cap * 2 : 1024;
                e = realloc(e, cap * sizeof *e);
                if (!e)
                    exit(2);
            }
            memset(&e[i], 0, sizeof e[i]);
            memcpy(e[i].hash, p, 32);
            e[i].kind = (uint8_t)kind;
            memcpy(e[i].key, p + 33, kind_klen[kind]);
        }
    }
    mdb_cursor_close(cur);
    raw_end(&r, 0);
    CHECK_EQ_U(bad, 0);
    if (bad) {
        free(e);
        return NULL;
    }
    *n = i;
    return e;
}

static const struct leaf *sort_base;

static int by_key_then_index(const void *a, const void *b)
{
    const struct leaf *x = sort_base + *(const size_t *)a, *y = sort_base + *(const size_t *)b;
    int c = (int)x->kind - (int)y->kind;

    if (!c)
        c = memcmp(x->key, y->key, 16);
    if (!c)
        c = *(const size_t *)a < *(const size_t *)b ? -1 : 1;
    return c;
}

/* The index of the latest leaf of (kind, key) in e[0..n), or -1. */
static long latest_leaf(const struct leaf *e, size_t n, unsigned kind, const uint8_t *key)
{
    long at = -1;
    for (size_t i = 0; i < n; i++)
        if (e[i].kind == kind && !memcmp(e[i].key, key, kind_klen[kind]))
            at = (long)i;
    return at;
}

/* Recomputes what the log of dir must be from its records, by raw LMDB and
 * the hashing above, and checks it: want_size entries numbered without a
 * gap; the latest leaf of each key is SHA-256(0x00 | kind | key | record)
 * of the record under that key, and every record has a leaf; the root of
 * all the leaves (MTH) is want_root; every node of log_nodes is the hash of
 * its perfect subtree, and every perfect subtree has its node. Returns the
 * number of records. */
static uint64_t brute(const char *dir, const uint8_t want_root[32], uint64_t want_size)
{
    size_t n = 0, *ix, keys = 0, missing = 0, differ = 0, badnode = 0, partial = 0;
    uint64_t per_level[64] = { 0 };
    struct leaf *e = read_log(dir, &n);
    uint8_t(*h)[32], (*lv[64])[32], r[32];
    uint64_t records = raw_records(dir);
    struct raw rw;
    MDB_dbi dbi[5], ndbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    CHECK_EQ_U(n, want_size);
    if (!e && n)
        return 0;
    ix = malloc((n ? n : 1) * sizeof *ix);
    h = malloc((n ? n : 1) * 32);
    if (!ix || !h)
        exit(2);
    for (size_t i = 0; i < n; i++)
        ix[i] = i, memcpy(h[i], e[i].hash, 32);
    sort_base = e;
    qsort(ix, n, sizeof *ix, by_key_then_index);

    CHECK_EQ_U(raw_begin(&rw, dir, 0), 0);
    for (int kd = K_INC; kd <= K_HIST; kd++)
        CHECK_EQ_U(mdb_dbi_open(rw.txn, kind_db[kd], 0, &dbi[kd]), 0);
    for (size_t j = 0; j < n; j++) {
        const struct leaf *x = &e[ix[j]];
        MDB_val key = { kind_klen[x->kind], (void *)x->key };
        uint8_t want[32];
        if (j + 1 < n && e[ix[j + 1]].kind == x->kind && !memcmp(e[ix[j + 1]].key, x->key, 16))
            continue; /* not the latest leaf of its key */
        keys++;
        if (mdb_get(rw.txn, dbi[x->kind], &key, &v) != 0) {
            missing++;
            continue;
        }
        leaf_hash(want, x->kind, x->key, kind_klen[x->kind], v.mv_data, v.mv_size);
        if (memcmp(want, x->hash, 32))
            differ++;
    }
    CHECK_EQ_U(missing, 0);
    CHECK_EQ_U(differ, 0);
    CHECK_EQ_U(keys, records); /* so every record has a leaf */

    mth((const uint8_t(*)[32])h, n, r);
    CHECK(memcmp(r, want_root, 32) == 0);

    /* the levels of perfect subtrees, bottom up */
    memset(lv, 0, sizeof lv);
    lv[0] = h;
    for (unsigned l = 1; l < 64 && (n >> l); l++) {
        uint64_t m = n >> l;
        lv[l] = malloc(m * 32);
        if (!lv[l])
            exit(2);
        for (uint64_t i = 0; i < m; i++)
            node_hash(lv[l][i], lv[l - 1][2 * i], lv[l - 1][2 * i + 1]);
    }
    CHECK_EQ_U(mdb_dbi_open(rw.txn, "log_nodes", 0, &ndbi), 0);
    CHECK_EQ_U(mdb_cursor_open(rw.txn, ndbi, &cur), 0);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data;
        unsigned l = k.mv_size == 9 ? kp[0] : 0;
        uint64_t i = k.mv_size == 9 ? rd64(kp + 1) : 0;
        if (l == 0 || l > 63 || !lv[l] || i >= (n >> l) || v.mv_size != 32 ||
            memcmp(v.mv_data, lv[l][i], 32))
            badnode++;
        else
            per_level[l]++;
    }
    CHECK_EQ_U(rc, MDB_NOTFOUND);
    mdb_cursor_close(cur);
    raw_end(&rw, 0);
    CHECK_EQ_U(badnode, 0);
    /* The levels kept: every level (1, 2, 3, ...) or every s-th (s the
     * lowest kept), each whole: all n >> l nodes of a kept level. */
    {
        unsigned lo = 0;
        for (unsigned l = 1; l < 64 && !lo; l++)
            lo = per_level[l] ? l : 0;
        for (unsigned l = 1; lo && l < 64; l++)
            partial += per_level[l] != (l % lo == 0 ? n >> l : 0);
        CHECK_EQ_U(partial, 0);
    }
    for (unsigned l = 1; l < 64; l++)
        free(lv[l]);
    free(h);
    free(ix);
    free(e);
    return records;
}

/* ---- records ---------------------------------------------------------------------------------- */

static const char MSG[] = "CANHGAC WEB SQL injection UNION SELECT";

static void a4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned w)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x, a[13] = (uint8_t)y, a[14] = (uint8_t)z, a[15] = (uint8_t)w;
}

static cg_incident mk(uint64_t id)
{
    cg_incident x;
    memset(&x, 0, sizeof x);
    x.id = id;
    x.gid = 1;
    x.sid = 9100101;
    x.rev = 1;
    a4(x.src, 89, 160, 20, (unsigned)(id % 200));
    a4(x.dst, 10, 20, 1, 10);
    x.sport = 51234;
    x.dport = 80;
    x.proto = 6;
    x.severity = x.rule_severity = 1;
    x.first_us = 1763856000000000ull + id * 1000000ull;
    x.last_us = x.first_us + 500;
    x.count = 1;
    x.msg = MSG;
    x.community_id = "1:abc=";
    return x;
}

static cg_alert mka(uint64_t id, uint32_t s)
{
    cg_alert a;
    memset(&a, 0, sizeof a);
    a.ts_us = 1763856000000000ull + id * 1000000ull + s;
    a.flow_id = id * 100 + s;
    a.community_id = "1:abc=";
    a.sport = (uint16_t)(40000 + s);
    a.dport = 80;
    a.severity = 1;
    a.evidence_seq = -1;
    return a;
}

static uint8_t pkt[2048];

static cg_evidence mke(uint64_t id, uint32_t s)
{
    cg_evidence ev = { 1763856000000000ull + id * 1000000ull + s, 1, 60 + s, 60 + s, pkt };
    for (size_t i = 0; i < ev.caplen; i++)
        pkt[i] = (uint8_t)(id * 31 + s * 7 + i);
    return ev;
}

/* Changes one byte of the signature text (msg) of the incident record
 * rec[0..n) and seals it again, as an attacker who knows the format would:
 * the record still decodes. 0, or -1 when the text is not there. */
static int forge_msg(uint8_t *rec, size_t n)
{
    uint8_t *p = memmem(rec, n, MSG, sizeof MSG - 1);
    if (!p)
        return -1;
    p[12] = 'X'; /* "SQL" -> "XQL" */
    reseal(rec, n);
    return 0;
}

/* ---- verify ----------------------------------------------------------------------------------- */

struct lines {
    int n;
    char l[16][256];
};

static void collect(const char *line, void *arg)
{
    struct lines *s = arg;
    if (s->n < 16)
        snprintf(s->l[s->n], sizeof s->l[0], "%s", line);
    s->n++;
}

/* cg_store_verify on a read-only handle of dir. */
static int verify_dir(const char *dir, struct lines *ls, cg_store_verify_stats *vs,
                      cg_store_head *h)
{
    cg_store *st;
    int rc;

    memset(ls, 0, sizeof *ls);
    memset(vs, 0xee, sizeof *vs);
    if ((rc = cg_store_open(&st, dir, CG_STORE_RDONLY, 0)) != 0)
        return 1000 + rc;
    rc = cg_store_verify(st, collect, ls, vs, h);
    if (rc == CG_ECORRUPT)
        CHECK_CONTAINS(cg_store_error(st), "the log does not match the records");
    cg_store_close(st);
    return rc;
}

static void check_origin(const char *o)
{
    int hex = 0;
    CHECK_EQ_U(strlen(o), 14 + 32);
    CHECK(strncmp(o, "canhgac.store/", 14) == 0);
    for (int i = 14; i < 46 && o[i]; i++)
        hex += (o[i] >= '0' && o[i] <= '9') || (o[i] >= 'a' && o[i] <= 'f');
    CHECK_EQ_U(hex, 32);
}

static int same_head(const cg_store_head *a, const cg_store_head *b)
{
    return !strcmp(a->origin, b->origin) && a->size == b->size && !memcmp(a->root, b->root, 32);
}

static int db_index(const char *name)
{
    for (int d = 0; d < cg_store_check_ndb(); d++)
        if (!strcmp(cg_store_db_name(d), name))
            return d;
    return -1;
}

static void no_problem(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "unexpected problem: %s\n", line);
}

static char first_origin[64];

/* ---- 1 and 2: a new store ------------------------------------------------------------------- */

static void test_new(void)
{
    const char *dir = path("new");
    cg_store *st;
    cg_store_head h0, h, h2, vh;
    cg_store_verify_stats vs;
    cg_store_info info;
    struct lines ls;
    uint8_t empty[32], p[64][32];
    unsigned np = 99;
    uint64_t leaves = 0, records = 0, t = 1763900000000000ull, ent = 0, nodes = 0;

    sha256v(empty, 0, NULL, NULL);
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    /* the empty log */
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    CHECK_EQ_U(h0.size, 0);
    CHECK(memcmp(h0.root, empty, 32) == 0);
    check_origin(h0.origin);
    snprintf(first_origin, sizeof first_origin, "%s", h0.origin);
    memset(&ls, 0, sizeof ls);
    CHECK_EQ_U(cg_store_verify(st, collect, &ls, &vs, &vh), 0);
    CHECK_EQ_U(vs.leaves, 0);
    CHECK_EQ_U(vs.records, 0);
    CHECK_EQ_U(vs.problems, 0);
    CHECK_EQ_U(ls.n, 0);
    CHECK(same_head(&vh, &h0));
    CHECK((int)cg_store_log_consistency(st, 1, 1, p, &np) == CG_EINVAL);
    CHECK((int)cg_store_log_consistency(st, 0, 0, p, &np) == CG_EINVAL);
    CHECK_EQ_U(np, 99);

    /* batch 1: five new incidents, id alerts and id % 3 packets each */
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 5; i++) {
        cg_incident x = mk(cg_store_new_id(st));
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        leaves++, records++;
        for (uint32_t s = 0; s < x.id; s++) {
            cg_alert a = mka(x.id, s);
            CHECK_EQ_U(cg_store_put_alert(st, x.id, s, &a), 0);
            leaves++, records++;
        }
        for (uint32_t s = 0; s < x.id % 3; s++) {
            cg_evidence ev = mke(x.id, s);
            CHECK_EQ_U(cg_store_put_evidence(st, x.id, s, &ev), 0);
            leaves++, records++;
        }
    }
    /* the open batch is not in the head */
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK(same_head(&h, &h0));
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK_EQ_U(h.size, leaves);
    CHECK_EQ_U(leaves, 5 + 15 + 6);

    /* batch 2: updates (each put a leaf), an alert and a packet put again,
     * a new incident, an alert over the cap (not stored: no leaf) */
    CHECK_EQ_U(cg_store_begin(st), 0);
    {
        cg_incident x = mk(2), y;
        cg_alert a;
        cg_evidence ev;
        x.count = 5, x.last_us += 1000;
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        x.count = 7, x.last_us += 1000;
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        leaves += 2;
        for (uint32_t s = 2; s < 5; s++) {
            a = mka(2, s);
            CHECK_EQ_U(cg_store_put_alert(st, 2, s, &a), 0);
            leaves++, records++;
        }
        a = mka(1, 0);
        a.severity = 2;
        CHECK_EQ_U(cg_store_put_alert(st, 1, 0, &a), 0);
        ev = mke(2, 0);
        CHECK_EQ_U(cg_store_put_evidence(st, 2, 0, &ev), 0);
        leaves += 2;
        y = mk(cg_store_new_id(st));
        CHECK_EQ_U(y.id, 6);
        CHECK_EQ_U(cg_store_put(st, &y), 0);
        ev = mke(6, 0);
        CHECK_EQ_U(cg_store_put_evidence(st, 6, 0, &ev), 0);
        leaves += 2, records += 2;
        cg_store_set_alert_cap(st, 10);
        a = mka(6, 10);
        CHECK_EQ_U(cg_store_put_alert(st, 6, 10, &a), 0);
        a = mka(6, 0);
        CHECK_EQ_U(cg_store_put_alert(st, 6, 0, &a), 0);
        leaves++, records++;
        cg_store_set_alert_cap(st, 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK_EQ_U(h.size, leaves);

    /* triage: one incident leaf per change, one leaf per history entry */
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_STATUS | CG_TRIAGE_ASSIGNEE,
                                   CG_ST_INVESTIGATING, "lan", 0, "chi", t++),
               0);
    leaves += 3, records += 2;
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK_EQ_U(h.size, leaves);
    CHECK_EQ_U(cg_store_note_add(st, 1, "chi", t++, "blocked at the firewall, ticket 1234"), 0);
    leaves += 2, records += 1;
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK_EQ_U(h.size, leaves);
    CHECK_EQ_U(cg_store_triage_set(st, 3, CG_TRIAGE_SEVERITY, 0, NULL, 2, "lan", t++), 0);
    leaves += 2, records += 1;
    /* a change to nothing appends nothing */
    CHECK_EQ_U(cg_store_triage_set(st, 3, CG_TRIAGE_SEVERITY, 0, NULL, 2, "lan", t++), 0);
    CHECK_EQ_U(cg_store_triage_set(st, 1, CG_TRIAGE_STATUS, CG_ST_INVESTIGATING, NULL, 0, "lan",
                                   t++),
               0);
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK_EQ_U(h.size, leaves);
    CHECK_EQ_U(cg_store_triage_set(st, 3, CG_TRIAGE_SEVERITY | CG_TRIAGE_STATUS,
                                   CG_ST_FALSE_POSITIVE, NULL, 0, "lan", t++),
               0);
    leaves += 3, records += 2;
    /* refused: no leaf */
    CHECK((int)cg_store_triage_set(st, 99, CG_TRIAGE_STATUS, CG_ST_RESOLVED, NULL, 0, "lan", t) ==
          CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK_EQ_U(h.size, leaves);
    CHECK_EQ_U(leaves, 26 + 10 + 3 + 2 + 2 + 3);
    CHECK_EQ_U(records, 26 + 6 + 2 + 1 + 1 + 2);

    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.incidents + info.alerts + info.evidence + info.history, records);
    CHECK_EQ_U(info.incidents, 6);
    CHECK_EQ_U(info.history, 6);
    CHECK_STR(h.origin, h0.origin);

    memset(&ls, 0, sizeof ls);
    CHECK_EQ_U(cg_store_verify(st, collect, &ls, &vs, &vh), 0);
    CHECK_EQ_U(vs.records, records);
    CHECK_EQ_U(vs.leaves, h.size);
    CHECK_EQ_U(vs.problems, 0);
    CHECK_EQ_U(ls.n, 0);
    CHECK(same_head(&vh, &h));
    /* the log's own databases pass store check */
    {
        int dl = db_index("log"), dn = db_index("log_nodes");
        CHECK(dl >= 0 && dn >= 0);
        CHECK_EQ_U(cg_store_check(st, dl, no_problem, NULL, &ent), 0);
        CHECK_EQ_U(ent, (h.size + 15) / 16); /* blocks of 16 leaves */
        CHECK_EQ_U(cg_store_check(st, dn, no_problem, NULL, &nodes), 0);
        CHECK(nodes > 0 && nodes <= h.size - (uint64_t)__builtin_popcountll(h.size));
    }
    cg_store_close(st);
    CHECK_EQ_U(raw_count(dir, "log_nodes"), nodes);

    /* the same after reopening, read-only and as the writer */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK(same_head(&h2, &h));
    cg_store_close(st);
    CHECK_EQ_U(records, brute(dir, h.root, h.size));

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK(same_head(&h2, &h));
    CHECK_EQ_U(cg_store_begin(st), 0);
    {
        cg_incident x = mk(cg_store_new_id(st));
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        leaves++, records++;
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK_EQ_U(h2.size, leaves);
    CHECK_STR(h2.origin, h.origin);
    /* the new head extends the old */
    CHECK_EQ_U(cg_store_log_consistency(st, h.size, h2.size, p, &np), 0);
    CHECK_EQ_U(cg_mt_verify_consistency(h.size, h2.size, h.root, h2.root, (const uint8_t(*)[32])p,
                                        np),
               0);
    CHECK_EQ_U(cg_store_verify(st, no_problem, NULL, &vs, NULL), 0);
    CHECK_EQ_U(vs.records, records);
    cg_store_close(st);
    CHECK_EQ_U(records, brute(dir, h2.root, h2.size));
}

/* ---- 3: damage that verify finds ------------------------------------------------------------ */

/* A store of 20 leaves, in this order:
 *   0 incident 1, 1 alert 1/0, 2 alert 1/1, 3 evidence 1/0, 4 incident 2,
 *   5 alert 2/0, 6 incident 3, 7-9 alerts 3/0-3/2, 10 evidence 3/0,
 *   11-12 history 2/0-2/1, 13 incident 2 (status and assignee),
 *   14 history 2/2, 15 incident 2 (a note),
 *   16 incident 4, 17 alert 4/0, 18 incident 3 (put again), 19 alert 3/3.
 * 17 records: 4 incidents, 8 alerts, 2 packets, 3 history entries. */
#define SMALL_LEAVES 20
#define SMALL_RECORDS 17

static void build_small(const char *dir, cg_store_head *out)
{
    static const struct {
        uint64_t id;
        int alerts, packets;
    } batch1[] = { { 1, 2, 1 }, { 2, 1, 0 }, { 3, 3, 1 } };
    cg_store *st;
    cg_incident x;
    cg_alert a;
    cg_evidence ev;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (size_t i = 0; i < 3; i++) {
        x = mk(cg_store_new_id(st));
        CHECK_EQ_U(x.id, batch1[i].id);
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        for (int s = 0; s < batch1[i].alerts; s++) {
            a = mka(x.id, (uint32_t)s);
            CHECK_EQ_U(cg_store_put_alert(st, x.id, (uint32_t)s, &a), 0);
        }
        for (int s = 0; s < batch1[i].packets; s++) {
            ev = mke(x.id, (uint32_t)s);
            CHECK_EQ_U(cg_store_put_evidence(st, x.id, (uint32_t)s, &ev), 0);
        }
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_triage_set(st, 2, CG_TRIAGE_STATUS | CG_TRIAGE_ASSIGNEE,
                                   CG_ST_INVESTIGATING, "lan", 0, "chi", 1763900000000000ull),
               0);
    CHECK_EQ_U(cg_store_note_add(st, 2, "chi", 1763900000000001ull, "blocked at the firewall"), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    x = mk(cg_store_new_id(st));
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    a = mka(4, 0);
    CHECK_EQ_U(cg_store_put_alert(st, 4, 0, &a), 0);
    x = mk(3);
    x.count = 4;
    CHECK_EQ_U(cg_store_put(st, &x), 0);
    a = mka(3, 3);
    CHECK_EQ_U(cg_store_put_alert(st, 3, 3, &a), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, out), 0);
    CHECK_EQ_U(out->size, SMALL_LEAVES);
    cg_store_close(st);
}

static int get_msg(const cg_incident *inc, void *arg)
{
    snprintf(arg, 64, "%s", inc->msg);
    return 0;
}

static int count_hist(const cg_history *h, void *arg)
{
    (void)h;
    ++*(int *)arg;
    return 0;
}

/* The keys of the nodes of log_nodes in dir, 9 bytes each, into keys[]. */
static size_t node_keys(const char *dir, uint8_t keys[][9], size_t cap)
{
    struct raw r;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;

    if (raw_begin(&r, dir, 0))
        return 0;
    if (!mdb_dbi_open(r.txn, "log_nodes", 0, &dbi) && !mdb_cursor_open(r.txn, dbi, &cur)) {
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < cap;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            if (k.mv_size == 9)
                memcpy(keys[n++], k.mv_data, 9);
        mdb_cursor_close(cur);
    }
    raw_end(&r, 0);
    return n;
}

static void test_tamper(void)
{
    cg_store_head h, vh;
    cg_store_verify_stats vs;
    struct lines ls;
    uint8_t key[16], rec[4096];
    size_t len = 0, n;
    char msg[64];
    cg_store *st;

    /* (0) the store as built is clean, and its layout is the one above */
    {
        const char *dir = path("tamper0");
        struct leaf *e;
        build_small(dir, &h);
        CHECK(strcmp(h.origin, first_origin) != 0); /* each log its own name */
        CHECK_EQ_U(verify_dir(dir, &ls, &vs, &vh), 0);
        CHECK_EQ_U(vs.records, SMALL_RECORDS);
        CHECK_EQ_U(vs.leaves, SMALL_LEAVES);
        CHECK(same_head(&vh, &h));
        CHECK_EQ_U(brute(dir, h.root, SMALL_LEAVES), SMALL_RECORDS);
        e = read_log(dir, &n);
        if (e && n == SMALL_LEAVES) {
            static const uint8_t kinds[SMALL_LEAVES] = { 1, 2, 2, 3, 1, 2, 1, 2, 2, 2,
                                                         3, 4, 4, 1, 4, 1, 1, 2, 1, 2 };
            int differ = 0;
            for (size_t i = 0; i < n; i++)
                differ += e[i].kind != kinds[i];
            CHECK_EQ_U(differ, 0);
            be64(key, 2);
            CHECK_EQ_U(latest_leaf(e, n, K_INC, key), 15);
            be32(key + 8, 0);
            CHECK_EQ_U(latest_leaf(e, n, K_ALERT, key), 5);
            be64(key, 3), be32(key + 8, 1);
            CHECK_EQ_U(latest_leaf(e, n, K_ALERT, key), 8);
            CHECK_EQ_U(latest_leaf(e, n, K_INC, key), 18);
        }
        free(e);
    }

    /* (a) an incident's signature text changed and sealed again */
    {
        const char *dir = path("tamper_a");
        build_small(dir, &h);
        be64(key, 2);
        CHECK_EQ_U(raw_get(dir, "incidents", key, 8, rec, sizeof rec, &len), 0);
        CHECK_EQ_U(forge_msg(rec, len), 0);
        CHECK_EQ_U(raw_put(dir, "incidents", key, 8, rec, len), 0);
        CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
        CHECK_EQ_U(cg_store_get(st, 2, get_msg, msg), 0); /* it decodes: the seal holds */
        CHECK_STR(msg, "CANHGAC WEB XQL injection UNION SELECT");
        cg_store_close(st);
        CHECK((int)verify_dir(dir, &ls, &vs, &vh) == CG_ECORRUPT);
        CHECK_EQ_U(ls.n, 1);
        CHECK_STR(ls.l[0], "incident 2: record does not match leaf 15");
        CHECK_EQ_U(vs.problems, 1);
        CHECK_EQ_U(vs.records, SMALL_RECORDS);
        CHECK_EQ_U(vs.leaves, SMALL_LEAVES);
        CHECK(same_head(&vh, &h)); /* the log itself is untouched */
    }

    /* (b) an alert deleted */
    {
        const char *dir = path("tamper_b");
        build_small(dir, &h);
        be64(key, 3), be32(key + 8, 1);
        CHECK_EQ_U(raw_del(dir, "alerts", key, 12), 0);
        CHECK((int)verify_dir(dir, &ls, &vs, &vh) == CG_ECORRUPT);
        CHECK_EQ_U(ls.n, 1);
        CHECK_STR(ls.l[0], "alert 3/1: record missing (leaf 8)");
        CHECK_EQ_U(vs.problems, 1);
        CHECK_EQ_U(vs.records, SMALL_RECORDS - 1);
        CHECK(same_head(&vh, &h));
    }

    /* (c) a history entry added: a valid sealed record under a new key */
    {
        const char *dir = path("tamper_c");
        int nh = 0;
        build_small(dir, &h);
        be64(key, 2), be64(key + 8, 2);
        CHECK_EQ_U(raw_get(dir, "history", key, 16, rec, sizeof rec, &len), 0);
        be64(key + 8, 3);
        CHECK_EQ_U(raw_put(dir, "history", key, 16, rec, len), 0);
        CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
        CHECK_EQ_U(cg_store_history(st, 2, count_hist, &nh), 0);
        CHECK_EQ_U(nh, 4); /* readers take it */
        cg_store_close(st);
        CHECK((int)verify_dir(dir, &ls, &vs, &vh) == CG_ECORRUPT);
        CHECK_EQ_U(ls.n, 1);
        CHECK_STR(ls.l[0], "history 2/3: no leaf in the log (written outside canhgac)");
        CHECK_EQ_U(vs.problems, 1);
        CHECK_EQ_U(vs.records, SMALL_RECORDS + 1);
        CHECK(same_head(&vh, &h));
    }

    /* (d) a leaf entry's hash changed (leaf 5, alert 2/0: block 0, slot 5) */
    {
        const char *dir = path("tamper_d");
        uint8_t v[16 * 49];
        build_small(dir, &h);
        be64(key, 0);
        CHECK_EQ_U(raw_get(dir, "log", key, 8, v, sizeof v, &len), 0);
        CHECK_EQ_U(len, 16 * 49);
        CHECK_EQ_U(v[5 * 49 + 32], K_ALERT);
        v[5 * 49 + 7] ^= 0x40;
        CHECK_EQ_U(raw_put(dir, "log", key, 8, v, len), 0);
        CHECK((int)verify_dir(dir, &ls, &vs, &vh) == CG_ECORRUPT);
        CHECK_EQ_U(ls.n, 2);
        CHECK_STR(ls.l[0], "log_nodes: the tree's nodes do not match its 20 leaves");
        CHECK_STR(ls.l[1], "alert 2/0: record does not match leaf 5");
        CHECK_EQ_U(vs.problems, 2);
        CHECK_EQ_U(vs.records, SMALL_RECORDS);
        CHECK_EQ_U(vh.size, SMALL_LEAVES);
        CHECK(memcmp(vh.root, h.root, 32) != 0); /* the root the leaves now make */
    }

    /* (e) a node of log_nodes changed, or deleted, one at a time: each
     * node the store keeps of a tree of 272 leaves (the small store and 252
     * more incidents), whose root is made of nodes (8,0) and (4,16). */
    {
        static const uint64_t olds[] = { 1,  2,   3,   5,   8,   13,  16,  17,  31,  33,  47,
                                         64, 100, 127, 128, 129, 200, 240, 255, 256, 257, 271 };
        const char *dir = path("tamper_e");
        static uint8_t keys[600][9];
        uint8_t orig[64], v[64];
        uint8_t(*hs)[32] = NULL, oldroot[sizeof olds / sizeof olds[0]][32];
        size_t nn;
        struct leaf *e;
        int exact = 0, missed_change = 0, missed_del = 0, unsound = 0, root_path_ok = 0;
        int root_path = 0;

        build_small(dir, &h);
        CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
        CHECK_EQ_U(cg_store_begin(st), 0);
        for (int i = 0; i < 252; i++) {
            cg_incident x = mk(cg_store_new_id(st));
            if (cg_store_put(st, &x) != 0)
                CHECK(0);
        }
        CHECK_EQ_U(cg_store_commit(st), 0);
        CHECK_EQ_U(cg_store_log_head(st, &h), 0);
        CHECK_EQ_U(h.size, 272);
        cg_store_close(st);
        e = read_log(dir, &n);
        if (e && n == 272) {
            hs = malloc(n * 32);
            for (size_t i = 0; i < n; i++)
                memcpy(hs[i], e[i].hash, 32);
            for (size_t m = 0; m < sizeof olds / sizeof olds[0]; m++)
                mth((const uint8_t(*)[32])hs, olds[m], oldroot[m]);
        }
        free(e);
        nn = node_keys(dir, keys, 600);
        CHECK(nn >= 18); /* 270 with every level kept, 17 + 1 with every fourth */
        for (size_t j = 0; hs && j < nn; j++) {
            int on_root_path = (keys[j][0] == 8 && rd64(keys[j] + 1) == 0) ||
                (keys[j][0] == 4 && rd64(keys[j] + 1) == 16);
            root_path += on_root_path;
            CHECK_EQ_U(raw_get(dir, "log_nodes", keys[j], 9, orig, sizeof orig, &len), 0);
            CHECK_EQ_U(len, 32);
            for (int del = 0; del < 2; del++) {
                int rc;
                memcpy(v, orig, 32);
                v[3] ^= 1;
                CHECK_EQ_U(del ? raw_del(dir, "log_nodes", keys[j], 9)
                               : raw_put(dir, "log_nodes", keys[j], 9, v, 32),
                           0);
                rc = verify_dir(dir, &ls, &vs, &vh);
                if (rc == CG_ECORRUPT && ls.n == 1 && vs.problems == 1 &&
                    !strcmp(ls.l[0], "log_nodes: the tree's nodes do not match its 272 leaves") &&
                    vs.records == SMALL_RECORDS + 252 && same_head(&vh, &h))
                    exact++, root_path_ok += on_root_path;
                else if (rc == 0)
                    *(del ? &missed_del : &missed_change) += 1;
                else
                    fprintf(stderr, "node %u/%llu%s: verify %d, %d lines\n", keys[j][0],
                            (unsigned long long)rd64(keys[j] + 1), del ? " deleted" : "", rc, ls.n);
                /* A log that verify passes must prove what it claims: the
                 * consistency proofs from earlier sizes hold against their
                 * true roots. */
                if (rc == 0) {
                    uint8_t p[64][32];
                    unsigned np;
                    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
                    for (size_t m = 0; m < sizeof olds / sizeof olds[0]; m++)
                        if (cg_store_log_consistency(st, olds[m], 272, p, &np) != 0 ||
                            cg_mt_verify_consistency(olds[m], 272, oldroot[m], h.root,
                                                     (const uint8_t(*)[32])p, np) != 0) {
                            unsound++;
                            break;
                        }
                    cg_store_close(st);
                }
                CHECK_EQ_U(raw_put(dir, "log_nodes", keys[j], 9, orig, 32), 0);
            }
        }
        /* the nodes the root is made of: found, changed or deleted */
        CHECK_EQ_U(root_path, 2);
        CHECK_EQ_U(root_path_ok, 4);
        /* BUG (store_log.c, walk_leaves): cg_store_verify compares the root
         * the leaves make with the root cg_mt_root makes from the nodes it
         * reads for the tree's size (here (8,0) and (4,16)), and no other
         * node: every other node, changed or deleted, passes, although
         * store_log.c's top says verify checks invariant 2 ("every node of
         * log_nodes is the hash of its two children"); and
         * cg_store_log_consistency then serves, from a store that verify
         * calls clean, proofs that fail against the true old roots. */
        CHECK_EQ_U(exact, 2 * nn);
        CHECK_EQ_U(missed_change, 0);
        CHECK_EQ_U(missed_del, 0);
        CHECK_EQ_U(unsound, 0);
        if (missed_change || missed_del)
            fprintf(stderr,
                    "(e): %zu nodes kept; verify missed %d changed and %d deleted, %d of those "
                    "served a proof that fails\n",
                    nn, missed_change, missed_del, unsound);
        free(hs);
        /* restored: clean again */
        CHECK_EQ_U(verify_dir(dir, &ls, &vs, &vh), 0);
        CHECK_EQ_U(brute(dir, h.root, 272), SMALL_RECORDS + 252);
    }

    /* (f) the first block of leaves deleted (leaves 0 to 15) */
    {
        const char *dir = path("tamper_f");
        int rc;
        build_small(dir, &h);
        be64(key, 0);
        CHECK_EQ_U(raw_del(dir, "log", key, 8), 0);
        rc = verify_dir(dir, &ls, &vs, &vh);
        CHECK((int)rc == CG_ECORRUPT);
        CHECK(ls.n >= 1);
        CHECK_STR(ls.l[0], "log: leaves 0 to 15 missing");
        /* (The walk stops at the gap: the leaves after it are not read, so
         * the records they log are then reported as "no leaf in the log
         * (written outside canhgac)".) */
    }
    /* (g) a block cut short in the middle of the log */
    {
        const char *dir = path("tamper_g");
        uint8_t v[16 * 49];
        int rc;
        build_small(dir, &h);
        be64(key, 0);
        CHECK_EQ_U(raw_get(dir, "log", key, 8, v, sizeof v, &len), 0);
        CHECK_EQ_U(raw_put(dir, "log", key, 8, v, 15 * 49), 0);
        rc = verify_dir(dir, &ls, &vs, &vh);
        CHECK((int)rc == CG_ECORRUPT);
        CHECK(ls.n >= 1);
        CHECK_STR(ls.l[0], "log: block 0 holds 15 leaves, not 16, and others follow");
    }
}

/* ---- 4: consistency over 10,000 leaves, and a rewrite ---------------------------------------- */

struct nodeput {
    MDB_txn *txn;
    MDB_dbi dbi;
    uint64_t levels; /* bit l: the store keeps level l */
    int rc;
};

static int put_raw_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[CG_MT_HASH])
{
    struct nodeput *np = ctx;
    uint8_t k[9];
    MDB_val key = { 9, k }, val = { 32, (void *)h };

    if (level == 0 || !(np->levels >> level & 1))
        return 0; /* the leaves are the log's entries; a level not kept stays so */
    k[0] = (uint8_t)level;
    be64(k + 1, index);
    if (!np->rc)
        np->rc = mdb_put(np->txn, np->dbi, &key, &val, 0);
    return np->rc ? -1 : 0;
}

#define BIG 10000
#define NMARK 6

static void test_consistency(void)
{
    static const uint64_t mark[NMARK] = { 1, 2, 50, 1000, 5000, BIG };
    const char *dir = path("big");
    cg_store *st;
    cg_store_head hm[NMARK], hn, vh;
    cg_store_verify_stats vs;
    uint8_t p[64][32], bp[64][32];
    unsigned np, bn;
    uint64_t id = 0;
    size_t mi = 0, n = 0;
    struct leaf *e;
    uint8_t(*hs)[32];

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    while (id < BIG) {
        CHECK_EQ_U(cg_store_begin(st), 0);
        for (int b = 0; b < 1000 && id < mark[mi]; b++, id++) {
            cg_incident x = mk(cg_store_new_id(st));
            if (cg_store_put(st, &x) != 0)
                CHECK(0);
        }
        CHECK_EQ_U(cg_store_commit(st), 0);
        if (id == mark[mi]) {
            CHECK_EQ_U(cg_store_log_head(st, &hm[mi]), 0);
            CHECK_EQ_U(hm[mi].size, mark[mi]);
            mi++;
        }
    }
    CHECK_EQ_U(mi, NMARK);
    for (size_t i = 0; i + 1 < NMARK; i++) {
        np = 99;
        CHECK_EQ_U(cg_store_log_consistency(st, mark[i], BIG, p, &np), 0);
        CHECK(np > 0 && np <= 64);
        CHECK_EQ_U(cg_mt_verify_consistency(mark[i], BIG, hm[i].root, hm[NMARK - 1].root,
                                            (const uint8_t(*)[32])p, np),
                   0);
        /* not against another old root */
        CHECK((int)cg_mt_verify_consistency(mark[i], BIG, hm[(i + 1) % NMARK].root,
                                            hm[NMARK - 1].root, (const uint8_t(*)[32])p,
                                            np) == CG_ECORRUPT);
    }
    CHECK_EQ_U(cg_store_log_consistency(st, BIG, BIG, p, &np), 0);
    CHECK_EQ_U(np, 0);
    CHECK((int)cg_store_log_consistency(st, 5000, BIG + 1, p, &np) == CG_EINVAL);
    CHECK((int)cg_store_log_consistency(st, 5001, 5000, p, &np) == CG_EINVAL);
    cg_store_close(st);

    /* the heads and the proofs against the brute force */
    CHECK_EQ_U(brute(dir, hm[NMARK - 1].root, BIG), BIG);
    e = read_log(dir, &n);
    CHECK_EQ_U(n, BIG);
    if (!e || n != BIG) {
        free(e);
        return;
    }
    hs = malloc(n * 32);
    for (size_t i = 0; i < n; i++)
        memcpy(hs[i], e[i].hash, 32);
    CHECK_EQ_U(e[99].kind, K_INC);
    CHECK_EQ_U(rd64(e[99].key), 100);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    for (size_t i = 0; i + 1 < NMARK; i++) {
        uint8_t r[32];
        int same;
        mth((const uint8_t(*)[32])hs, mark[i], r);
        CHECK(memcmp(r, hm[i].root, 32) == 0);
        bn = 0;
        subproof((const uint8_t(*)[32])hs, mark[i], BIG, 1, bp, &bn);
        CHECK_EQ_U(cg_store_log_consistency(st, mark[i], BIG, p, &np), 0);
        CHECK_EQ_U(np, bn);
        same = np == bn && memcmp(p, bp, 32 * (size_t)bn) == 0;
        CHECK(same);
    }
    cg_store_close(st);

    /* A rewrite as a careful attacker does it, in one raw transaction:
     * incident 100's record changed and sealed again, its leaf (99) hashed
     * again, and every node of log_nodes rebuilt from the leaves (at the
     * levels the store keeps). */
    {
        struct raw r;
        MDB_dbi inc, log, nodes;
        MDB_val k, v;
        uint8_t key[8], rec[4096], ent[16 * 49];
        cg_mt_frontier f;
        struct nodeput put;
        size_t len;
        int rc;

        memset(&f, 0, sizeof f);
        be64(key, 100);
        CHECK_EQ_U(raw_begin(&r, dir, 1), 0);
        CHECK_EQ_U(mdb_dbi_open(r.txn, "incidents", 0, &inc), 0);
        CHECK_EQ_U(mdb_dbi_open(r.txn, "log", 0, &log), 0);
        CHECK_EQ_U(mdb_dbi_open(r.txn, "log_nodes", 0, &nodes), 0);
        k = (MDB_val){ 8, key };
        CHECK_EQ_U(mdb_get(r.txn, inc, &k, &v), 0);
        CHECK(v.mv_size <= sizeof rec);
        len = v.mv_size;
        memcpy(rec, v.mv_data, len);
        CHECK_EQ_U(forge_msg(rec, len), 0);
        v = (MDB_val){ len, rec };
        CHECK_EQ_U(mdb_put(r.txn, inc, &k, &v, 0), 0);
        leaf_hash(hs[99], K_INC, key, 8, rec, len);
        /* leaf 99: block 6, slot 3 */
        be64(key, 6);
        CHECK_EQ_U(mdb_get(r.txn, log, &k, &v), 0);
        CHECK_EQ_U(v.mv_size, sizeof ent);
        memcpy(ent, v.mv_data, sizeof ent);
        CHECK_EQ_U(ent[3 * 49 + 32], K_INC);
        memcpy(ent + 3 * 49, hs[99], 32);
        v = (MDB_val){ sizeof ent, ent };
        CHECK_EQ_U(mdb_put(r.txn, log, &k, &v, 0), 0);
        put = (struct nodeput){ r.txn, nodes, 0, 0 };
        {
            MDB_cursor *cur;
            CHECK_EQ_U(mdb_cursor_open(r.txn, nodes, &cur), 0);
            for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                 rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
                if (k.mv_size == 9 && ((const uint8_t *)k.mv_data)[0] < 64)
                    put.levels |= (uint64_t)1 << ((const uint8_t *)k.mv_data)[0];
            mdb_cursor_close(cur);
        }
        CHECK(put.levels != 0);
        CHECK_EQ_U(mdb_drop(r.txn, nodes, 0), 0);
        rc = 0;
        for (size_t i = 0; i < BIG && !rc; i++)
            rc = cg_mt_frontier_append(&f, hs[i], put_raw_node, &put);
        CHECK_EQ_U(rc, 0);
        CHECK_EQ_U(put.rc, 0);
        CHECK_EQ_U(raw_end(&r, !rc && !put.rc), 0);
    }
    {
        struct lines ls;
        uint8_t r[32];
        mth((const uint8_t(*)[32])hs, BIG, r);
        /* the store is consistent with itself: verify cannot tell */
        CHECK_EQ_U(verify_dir(dir, &ls, &vs, &vh), 0);
        CHECK_EQ_U(ls.n, 0);
        CHECK_EQ_U(vs.leaves, BIG);
        CHECK_EQ_U(vs.records, BIG);
        CHECK_EQ_U(vh.size, BIG);
        CHECK(memcmp(vh.root, r, 32) == 0);
        CHECK(memcmp(vh.root, hm[NMARK - 1].root, 32) != 0);
        CHECK_EQ_U(brute(dir, r, BIG), BIG);
    }
    /* but the heads taken before it can: leaf 99 is in the trees of 1000
     * and 5000 leaves, not in those of 1, 2 and 50 */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_log_head(st, &hn), 0);
    CHECK(same_head(&hn, &vh));
    for (size_t i = 0; i + 1 < NMARK; i++) {
        int want = mark[i] > 99 ? CG_ECORRUPT : 0;
        CHECK_EQ_U(cg_store_log_consistency(st, mark[i], BIG, p, &np), 0);
        CHECK((int)cg_mt_verify_consistency(mark[i], BIG, hm[i].root, hn.root,
                                            (const uint8_t(*)[32])p, np) == want);
    }
    cg_store_close(st);
    free(hs);
    free(e);
}

/* ---- 5: migration of a schema 3 store ------------------------------------------------------- */

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

/* A copy of the schema 3 fixture in dir. */
static int fixture_copy(const char *dir)
{
    char p[300];
    size_t n = 0;
    unsigned char *b = slurp(FIXTURE3, &n);
    FILE *f;
    int ok;

    if (!b || mkdir(dir, 0700) != 0) {
        free(b);
        return -1;
    }
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    f = fopen(p, "wb");
    ok = f && fwrite(b, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    free(b);
    return ok ? 0 : -1;
}

/* The (kind, key) of every record of dir, incidents then alerts, evidence
 * and history, each in key order, into out[] (malloc'ed); their number. */
static size_t record_keys(const char *dir, struct leaf **out)
{
    struct raw r;
    struct leaf *e = NULL;
    size_t n = 0, cap = 0;

    *out = NULL;
    if (raw_begin(&r, dir, 0))
        return 0;
    for (int kd = K_INC; kd <= K_HIST; kd++) {
        MDB_dbi dbi;
        MDB_cursor *cur;
        MDB_val k, v;
        if (mdb_dbi_open(r.txn, kind_db[kd], 0, &dbi) || mdb_cursor_open(r.txn, dbi, &cur))
            continue;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != kind_klen[kd])
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                e = realloc(e, cap * sizeof *e);
                if (!e)
                    exit(2);
            }
            memset(&e[n], 0, sizeof e[n]);
            e[n].kind = (uint8_t)kd;
            memcpy(e[n].key, k.mv_data, k.mv_size);
            n++;
        }
        mdb_cursor_close(cur);
    }
    raw_end(&r, 0);
    *out = e;
    return n;
}

static void test_migrate(void)
{
    const char *dir = path("v3"), *tdir = path("v3triage");
    cg_store *st;
    cg_store_head h, h2, vh;
    cg_store_verify_stats vs;
    struct lines ls;
    struct leaf *want = NULL, *e;
    size_t nwant, n;
    uint8_t p[64][32];
    unsigned np = 99;

    CHECK_EQ_U(fixture_copy(dir), 0);
    CHECK_EQ_U(fixture_copy(tdir), 0);
    nwant = record_keys(dir, &want);
    CHECK_EQ_U(raw_count(dir, "incidents"), 6);
    CHECK(nwant > 6);
    CHECK_EQ_U(raw_count(dir, "log"), -1); /* no log yet */

    /* a reader of the unmigrated store: no log */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK((int)cg_store_log_head(st, &h) == CG_EOLDER);
    CHECK_CONTAINS(cg_store_error(st), "has no log yet");
    CHECK((int)cg_store_verify(st, collect, &ls, &vs, &vh) == CG_EOLDER);
    CHECK((int)cg_store_log_consistency(st, 1, 1, p, &np) == CG_EOLDER);
    CHECK_EQ_U(np, 99);
    cg_store_close(st);
    CHECK_EQ_U(raw_count(dir, "log"), -1); /* and it wrote nothing */

    /* the writer migrates it: one leaf per record, in key order by kind */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h), 0);
    CHECK_EQ_U(h.size, nwant);
    check_origin(h.origin);
    memset(&ls, 0, sizeof ls);
    CHECK_EQ_U(cg_store_verify(st, collect, &ls, &vs, &vh), 0);
    CHECK_EQ_U(ls.n, 0);
    CHECK_EQ_U(vs.records, nwant);
    CHECK_EQ_U(vs.leaves, nwant);
    CHECK(same_head(&vh, &h));
    cg_store_close(st);
    e = read_log(dir, &n);
    CHECK_EQ_U(n, nwant);
    if (e && n == nwant) {
        int differ = 0, kinds[5] = { 0 };
        for (size_t i = 0; i < n; i++) {
            differ += e[i].kind != want[i].kind || memcmp(e[i].key, want[i].key, 16);
            differ += i > 0 && e[i].kind < e[i - 1].kind;
            kinds[e[i].kind]++;
        }
        CHECK_EQ_U(differ, 0);
        CHECK_EQ_U(kinds[K_INC], 6);
        CHECK_EQ_U(kinds[K_INC] + kinds[K_ALERT] + kinds[K_EV] + kinds[K_HIST], nwant);
        CHECK(kinds[K_ALERT] > 0 && kinds[K_EV] > 0 && kinds[K_HIST] > 0);
    }
    free(e);
    CHECK_EQ_U(brute(dir, h.root, nwant), nwant);
    /* opened again: the same log, which goes on */
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK(same_head(&h2, &h));
    CHECK_EQ_U(cg_store_note_add(st, 4, "chi", 1763900000000000ull, "seen again"), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK_EQ_U(h2.size, nwant + 2);
    CHECK_STR(h2.origin, h.origin);
    CHECK_EQ_U(cg_store_verify(st, no_problem, NULL, &vs, NULL), 0);
    CHECK_EQ_U(vs.records, nwant + 1);
    cg_store_close(st);
    CHECK_EQ_U(brute(dir, h2.root, nwant + 2), nwant + 1);

    /* a triage handle migrates it too */
    CHECK_EQ_U(cg_store_open(&st, tdir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK_EQ_U(h2.size, nwant);
    CHECK(strcmp(h2.origin, h.origin) != 0);
    CHECK_EQ_U(cg_store_note_add(st, 2, "lan", 1763900000000000ull, "closed"), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK_EQ_U(h2.size, nwant + 2);
    CHECK_EQ_U(cg_store_verify(st, no_problem, NULL, &vs, NULL), 0);
    cg_store_close(st);
    CHECK_EQ_U(brute(tdir, h2.root, nwant + 2), nwant + 1);
    free(want);
}

/* A store of schema 4 is never without its log (schema 4 came with it):
 * one whose log databases are gone is damaged, for every handle, and is
 * left as it was. */
static void test_schema4_without_log(void)
{
    const char *dir = path("nolog");
    cg_store *st;
    cg_store_head h;
    struct raw r;
    MDB_dbi dbi;

    build_small(dir, &h);
    CHECK_EQ_U(raw_begin(&r, dir, 1), 0);
    CHECK_EQ_U(mdb_dbi_open(r.txn, "log_nodes", 0, &dbi), 0);
    CHECK_EQ_U(mdb_drop(r.txn, dbi, 1), 0);
    CHECK_EQ_U(raw_end(&r, 1), 0);
    CHECK_EQ_U(raw_records(dir), SMALL_RECORDS);
    for (int f = 0; f < 3; f++) {
        unsigned fl = f == 0 ? CG_STORE_RDONLY : f == 1 ? CG_STORE_TRIAGE : 0;
        CHECK((int)cg_store_open(&st, dir, fl, 0) == CG_ECORRUPT);
        CHECK_CONTAINS(cg_store_error(NULL), "database log_nodes missing");
    }
    CHECK_EQ_U(raw_records(dir), SMALL_RECORDS);
}

/* ---- 6: batches that fail ------------------------------------------------------------------- */

static void test_failed(void)
{
    cg_store *st;
    cg_store_head h0, h, hb, vh;
    cg_store_verify_stats vs;
    struct lines ls;
    uint8_t p[64][32];
    unsigned np;

    /* an aborted batch */
    {
        const char *dir = path("abort");
        uint64_t nid;
        struct leaf *e;
        size_t n;
        CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
        CHECK_EQ_U(cg_store_begin(st), 0);
        for (int i = 0; i < 3; i++) {
            cg_incident x = mk(cg_store_new_id(st));
            cg_alert a = mka(x.id, 0);
            CHECK_EQ_U(cg_store_put(st, &x), 0);
            CHECK_EQ_U(cg_store_put_alert(st, x.id, 0, &a), 0);
        }
        CHECK_EQ_U(cg_store_commit(st), 0);
        CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
        CHECK_EQ_U(h0.size, 6);

        CHECK_EQ_U(cg_store_begin(st), 0);
        for (int i = 0; i < 2; i++) {
            cg_incident x = mk(cg_store_new_id(st));
            cg_alert a = mka(x.id, 0);
            cg_evidence ev = mke(x.id, 0);
            CHECK_EQ_U(cg_store_put(st, &x), 0);
            CHECK_EQ_U(cg_store_put_alert(st, x.id, 0, &a), 0);
            CHECK_EQ_U(cg_store_put_evidence(st, x.id, 0, &ev), 0);
        }
        {
            cg_incident x = mk(1);
            x.count = 9;
            CHECK_EQ_U(cg_store_put(st, &x), 0);
        }
        /* triage waits for the batch: refused, nothing logged */
        CHECK((int)cg_store_note_add(st, 1, "chi", 1, "during a batch") == CG_EINVAL);
        cg_store_abort(st);
        CHECK_EQ_U(cg_store_log_head(st, &h), 0);
        CHECK(same_head(&h, &h0));

        CHECK_EQ_U(cg_store_begin(st), 0);
        {
            cg_incident x = mk(nid = cg_store_new_id(st));
            cg_alert a = mka(x.id, 0);
            CHECK_EQ_U(cg_store_put(st, &x), 0);
            CHECK_EQ_U(cg_store_put_alert(st, x.id, 0, &a), 0);
        }
        CHECK_EQ_U(cg_store_commit(st), 0);
        CHECK_EQ_U(cg_store_log_head(st, &h), 0);
        CHECK_EQ_U(h.size, h0.size + 2);
        CHECK_EQ_U(cg_store_log_consistency(st, h0.size, h.size, p, &np), 0);
        CHECK_EQ_U(cg_mt_verify_consistency(h0.size, h.size, h0.root, h.root,
                                            (const uint8_t(*)[32])p, np),
                   0);
        cg_store_close(st);
        CHECK_EQ_U(verify_dir(dir, &ls, &vs, &vh), 0);
        CHECK_EQ_U(vs.records, 8);
        CHECK_EQ_U(brute(dir, h.root, 8), 8);
        e = read_log(dir, &n);
        if (e && n == 8) {
            CHECK_EQ_U(e[6].kind, K_INC);
            CHECK_EQ_U(rd64(e[6].key), nid);
            CHECK_EQ_U(e[7].kind, K_ALERT);
            CHECK_EQ_U(rd64(e[7].key), nid);
        }
        free(e);
    }

    /* a batch, and a triage change, that do not fit in the map */
    {
        const char *dir = path("full");
        static uint8_t big[1400];
        static char note[30000];
        int rc = 0, batches = 0, notes = 0;

        memset(big, 0xab, sizeof big);
        memset(note, 'n', sizeof note - 1);
        CHECK_EQ_U(cg_store_open(&st, dir, 0, (uint64_t)1 << 20), 0);
        while (!rc && batches++ < 1000) {
            CHECK_EQ_U(cg_store_log_head(st, &hb), 0);
            CHECK_EQ_U(cg_store_begin(st), 0);
            for (int i = 0; i < 10 && !rc; i++) {
                cg_incident x = mk(cg_store_new_id(st));
                cg_evidence ev = { 1, 1, sizeof big, sizeof big, big };
                rc = cg_store_put(st, &x);
                for (uint32_t s = 0; s < 4 && !rc; s++)
                    rc = cg_store_put_evidence(st, x.id, s, &ev);
            }
            if (rc)
                CHECK((int)cg_store_commit(st) == CG_EFULL);
            else
                rc = cg_store_commit(st);
        }
        CHECK((int)rc == CG_EFULL);
        CHECK(batches > 1);
        CHECK_EQ_U(cg_store_log_head(st, &h), 0);
        CHECK(same_head(&h, &hb)); /* the failed batch left no leaf */
        while ((rc = cg_store_note_add(st, 1, "an", 1, note)) == 0 && notes < 100) {
            notes++;
            CHECK_EQ_U(cg_store_log_head(st, &hb), 0);
        }
        CHECK((int)rc == CG_EFULL);
        CHECK_EQ_U(cg_store_log_head(st, &h), 0);
        CHECK(same_head(&h, &hb));
        CHECK_EQ_U(h.size, hb.size);
        cg_store_close(st);

        /* with room again, the next batch goes on from there */
        CHECK_EQ_U(cg_store_open(&st, dir, 0, (uint64_t)64 << 20), 0);
        CHECK_EQ_U(cg_store_begin(st), 0);
        {
            cg_incident x = mk(cg_store_new_id(st));
            CHECK_EQ_U(cg_store_put(st, &x), 0);
        }
        CHECK_EQ_U(cg_store_commit(st), 0);
        CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
        CHECK_EQ_U(h0.size, h.size + 1);
        CHECK_EQ_U(cg_store_log_consistency(st, h.size, h0.size, p, &np), 0);
        CHECK_EQ_U(cg_mt_verify_consistency(h.size, h0.size, h.root, h0.root,
                                            (const uint8_t(*)[32])p, np),
                   0);
        CHECK_EQ_U(cg_store_verify(st, no_problem, NULL, &vs, &vh), 0);
        CHECK(same_head(&vh, &h0));
        cg_store_close(st);
        CHECK_EQ_U(brute(dir, h0.root, h0.size), vs.records);
    }
}

/* ---- a triage change from another process between two batches ------------------------------ */

/* `test_store_log note DIR`: a triage handle adds a note to incident 1. */
static int child_note(const char *dir)
{
    cg_store *st;
    int rc = cg_store_open(&st, dir, CG_STORE_TRIAGE, 0);

    if (rc) {
        fprintf(stderr, "test_store_log note: %s\n", cg_store_error(NULL));
        return 1;
    }
    rc = cg_store_note_add(st, 1, "lan", 1763900000000000ull, "from another process");
    if (rc)
        fprintf(stderr, "test_store_log note: %s\n", cg_store_error(st));
    cg_store_close(st);
    return rc ? 1 : 0;
}

static void test_two_processes(void)
{
    const char *dir = path("twoproc");
    char *argv[] = { "test_store_log", "note", (char *)dir, NULL };
    cg_store *st;
    cg_store_head h1, h2, h3;
    cg_store_verify_stats vs;
    uint8_t p[64][32];
    unsigned np;
    pid_t pid;
    int status = -1;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    {
        cg_incident x = mk(cg_store_new_id(st));
        cg_alert a = mka(x.id, 0);
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        CHECK_EQ_U(cg_store_put_alert(st, x.id, 0, &a), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK_EQ_U(h1.size, 2);
    /* the writer stays open, with its frontier of 2 leaves */
    CHECK_EQ_U(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ), 0);
    CHECK_EQ_U(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_U(cg_store_log_head(st, &h2), 0);
    CHECK_EQ_U(h2.size, 4);
    CHECK_STR(h2.origin, h1.origin);
    CHECK_EQ_U(cg_store_begin(st), 0);
    {
        cg_incident x = mk(cg_store_new_id(st));
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h3), 0);
    CHECK_EQ_U(h3.size, 5);
    CHECK_EQ_U(cg_store_log_consistency(st, 2, 5, p, &np), 0);
    CHECK_EQ_U(cg_mt_verify_consistency(2, 5, h1.root, h3.root, (const uint8_t(*)[32])p, np), 0);
    CHECK_EQ_U(cg_store_log_consistency(st, 4, 5, p, &np), 0);
    CHECK_EQ_U(cg_mt_verify_consistency(4, 5, h2.root, h3.root, (const uint8_t(*)[32])p, np), 0);
    CHECK_EQ_U(cg_store_verify(st, no_problem, NULL, &vs, NULL), 0);
    CHECK_EQ_U(vs.records, 4);
    cg_store_close(st);
    CHECK_EQ_U(brute(dir, h3.root, 5), 4);
}

/* ---- cases (schema 5): the API, their leaves, verify, proofs ------------------------------- */

struct cinfo {
    uint64_t id, nincidents, nhistory;
    uint32_t nnotes;
    uint8_t status;
    char title[64], owner[32];
};

static int get_case(const cg_case *c, void *arg)
{
    struct cinfo *o = arg;
    o->id = c->id;
    o->nincidents = c->nincidents;
    o->nhistory = c->nhistory;
    o->nnotes = c->nnotes;
    o->status = c->status;
    snprintf(o->title, sizeof o->title, "%s", c->title);
    snprintf(o->owner, sizeof o->owner, "%s", c->owner);
    return 0;
}

struct idv {
    uint64_t v[16];
    int n;
};

static int take_inc(uint64_t id, void *arg)
{
    struct idv *l = arg;
    if (l->n < 16)
        l->v[l->n] = id;
    l->n++;
    return 0;
}

static int take_case(const cg_case *c, void *arg)
{
    return take_inc(c->id, arg);
}

struct evs {
    int n;
    char s[16][96];
};

static int take_ev(const cg_case_event *e, void *arg)
{
    struct evs *l = arg;
    if (l->n < 16)
        snprintf(l->s[l->n], sizeof l->s[0], "%llu %u %s %llu %u>%u %s>%s",
                 (unsigned long long)e->seq, e->kind, e->who, (unsigned long long)e->incident,
                 e->old_num, e->new_num, e->old_text, e->text);
    l->n++;
    return 0;
}

static int count_q(cg_store *st, unsigned has, uint64_t case_id, uint8_t sev)
{
    cg_query q;
    uint64_t n = 0;
    memset(&q, 0, sizeof q);
    q.has = has;
    q.case_id = case_id;
    q.sev_max = sev;
    q.dport = 22;
    return cg_store_count(st, &q, &n) ? -1 : (int)n;
}

struct proofs {
    cg_store_head h;
    int n, bad;
    uint64_t ids[8];
};

static int check_proof(const cg_store_inclusion *p, void *arg)
{
    struct proofs *pr = arg;
    uint8_t want[32], z = 0;
    const void *parts[2] = { &z, p->leaf_data };
    size_t lens[2] = { 1, p->leaf_len };
    sha256v(want, 2, parts, lens);
    pr->bad += memcmp(want, p->leaf_hash, 32) != 0;
    pr->bad += p->leaf_data[0] != K_INC || rd64(p->leaf_data + 1) != p->id;
    pr->bad += cg_mt_verify_inclusion(p->leaf_hash, p->leaf, pr->h.size, p->path, p->npath,
                                      pr->h.root) != 0;
    if (pr->n < 8)
        pr->ids[pr->n] = p->id;
    pr->n++;
    return 0;
}

/* The proofs of ids against the head they come with; the head's root is
 * also the brute-force one: with proofs that verify, the records are in it. */
static int prove(cg_store *st, const uint64_t *ids, size_t n, struct proofs *pr)
{
    memset(pr, 0, sizeof *pr);
    return cg_store_log_prove(st, &pr->h, ids, n, check_proof, pr);
}

static void test_cases(void)
{
    const char *dir = path("cases");
    cg_store *st;
    struct cinfo ci;
    struct idv iv;
    struct evs ev;
    struct lines ls;
    struct proofs pr;
    cg_store_verify_stats vs;
    cg_store_head h0, h1;
    uint64_t id = 0, added = 0;
    uint8_t key[16], rec[512];
    size_t len = 0;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (uint64_t i = 1; i <= 6; i++) {
        cg_incident x = mk(cg_store_new_id(st));
        if (i == 5)
            x.dport = 22, x.severity = x.rule_severity = 3;
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);

    /* no case yet; an unknown incident creates nothing */
    CHECK_EQ_U(cg_store_case_get(st, 1, get_case, &ci), CG_ENOTFOUND);
    CHECK_CONTAINS(cg_store_error(st), "no case 1");
    CHECK_EQ_U(cg_store_case_new(st, "x", "lan", 10, (uint64_t[]){ 1, 99 }, 2, &id), CG_ENOTFOUND);
    CHECK_CONTAINS(cg_store_error(st), "no incident 99");
    memset(&iv, 0, sizeof iv);
    CHECK_EQ_U(cg_store_case_list(st, take_case, &iv), 0);
    CHECK_EQ_U(iv.n, 0);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(same_head(&h0, &h1)); /* a change refused adds no leaf */
    /* bad arguments */
    CHECK_EQ_U(cg_store_case_new(st, "", "lan", 10, NULL, 0, &id), CG_EINVAL);
    CHECK_EQ_U(cg_store_case_new(st, "t", "", 10, NULL, 0, &id), CG_EINVAL);
    CHECK_EQ_U(cg_store_case_note(st, 1, "lan", 10, ""), CG_EINVAL);
    CHECK_EQ_U(cg_store_case_set(st, 1, CG_CASE_SET_STATUS, 7, NULL, "lan", 10), CG_EINVAL);

    /* new, with a duplicate id: 2 incidents, events create + 2 adds */
    CHECK_EQ_U(cg_store_case_new(st, "Web portal SQLi, tháng 11", "lan", 100,
                                 (uint64_t[]){ 3, 1, 3 }, 3, &id),
               0);
    CHECK_EQ_U(id, 1);
    CHECK_EQ_U(cg_store_case_new(st, "empty", "chi", 101, NULL, 0, &id), 0);
    CHECK_EQ_U(id, 2);
    CHECK_EQ_U(cg_store_case_add(st, 1, (uint64_t[]){ 1, 5, 6 }, 3, "chi", 200, &added), 0);
    CHECK_EQ_U(added, 2);
    CHECK_EQ_U(cg_store_case_add(st, 1, (uint64_t[]){ 1 }, 1, "chi", 201, &added), 0);
    CHECK_EQ_U(added, 0);
    CHECK_EQ_U(cg_store_case_add(st, 7, (uint64_t[]){ 1 }, 1, "chi", 201, &added), CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_case_note(st, 1, "lan", 300, "handed to PA05"), 0);
    CHECK_EQ_U(cg_store_case_set(st, 1, CG_CASE_SET_STATUS | CG_CASE_SET_OWNER, CG_CASE_CLOSED,
                                 "an", "lan", 400),
               0);

    /* the same again: nothing changes, nothing is appended */
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    CHECK_EQ_U(cg_store_case_set(st, 1, CG_CASE_SET_STATUS, CG_CASE_CLOSED, NULL, "lan", 401), 0);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(same_head(&h0, &h1));
    CHECK_EQ_U(cg_store_case_exported(st, 1, "an", 500, "case-1.tar.gz sha256 ab12"), 0);

    memset(&ci, 0, sizeof ci);
    CHECK_EQ_U(cg_store_case_get(st, 1, get_case, &ci), 0);
    CHECK_EQ_U(ci.nincidents, 4);
    CHECK_EQ_U(ci.nhistory, 9);
    CHECK_EQ_U(ci.nnotes, 1);
    CHECK_EQ_U(ci.status, CG_CASE_CLOSED);
    CHECK_STR(ci.owner, "an");
    CHECK_STR(ci.title, "Web portal SQLi, tháng 11");
    memset(&iv, 0, sizeof iv);
    CHECK_EQ_U(cg_store_case_incidents(st, 1, take_inc, &iv), 0);
    CHECK_EQ_U(iv.n, 4);
    CHECK(iv.v[0] == 1 && iv.v[1] == 3 && iv.v[2] == 5 && iv.v[3] == 6);
    memset(&iv, 0, sizeof iv);
    CHECK_EQ_U(cg_store_case_list(st, take_case, &iv), 0);
    CHECK(iv.n == 2 && iv.v[0] == 2 && iv.v[1] == 1); /* newest first */
    memset(&ev, 0, sizeof ev);
    CHECK_EQ_U(cg_store_case_history(st, 1, take_ev, &ev), 0);
    CHECK_EQ_U(ev.n, 9);
    CHECK_STR(ev.s[0], "0 1 lan 0 0>0 >Web portal SQLi, tháng 11");
    CHECK_STR(ev.s[1], "1 2 lan 1 0>0 >");
    CHECK_STR(ev.s[2], "2 2 lan 3 0>0 >");
    CHECK_STR(ev.s[3], "3 2 chi 5 0>0 >");
    CHECK_STR(ev.s[5], "5 3 lan 0 0>0 >handed to PA05");
    CHECK_STR(ev.s[6], "6 4 lan 0 0>1 >");
    CHECK_STR(ev.s[7], "7 5 lan 0 0>0 lan>an");
    CHECK_STR(ev.s[8], "8 6 an 0 0>0 >case-1.tar.gz sha256 ab12");
    memset(&iv, 0, sizeof iv);
    CHECK_EQ_U(cg_store_case_incidents(st, 2, take_inc, &iv), 0);
    CHECK_EQ_U(iv.n, 0);

    /* case = N: alone (by_case), with another filter (checked by a lookup) */
    CHECK_EQ_U(count_q(st, CG_Q_CASE, 1, 0), 4);
    CHECK_EQ_U(count_q(st, CG_Q_CASE, 2, 0), 0);
    CHECK_EQ_U(count_q(st, CG_Q_CASE, 9, 0), 0);
    CHECK_EQ_U(count_q(st, CG_Q_CASE | CG_Q_SEV, 1, 1), 3);
    CHECK_EQ_U(count_q(st, CG_Q_CASE | CG_Q_DPORT, 1, 0), 1);
    CHECK_EQ_U(count_q(st, CG_Q_SEV, 0, 1), 5);

    /* proofs of incidents 6, 1, 1 against the tree as it is */
    CHECK_EQ_U(prove(st, (uint64_t[]){ 6, 1, 1 }, 3, &pr), 0);
    CHECK_EQ_U(pr.n, 3);
    CHECK_EQ_U(pr.bad, 0);
    CHECK(pr.ids[0] == 6 && pr.ids[1] == 1 && pr.ids[2] == 1);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(same_head(&pr.h, &h1));
    CHECK_EQ_U(prove(st, (uint64_t[]){ 42 }, 1, &pr), CG_ENOTFOUND);
    CHECK_CONTAINS(cg_store_error(st), "incident 42: no leaf in the log");
    cg_store_close(st);

    CHECK_EQ_U(verify_dir(dir, &ls, &vs, &h1), 0);
    CHECK_EQ_U(ls.n, 0);
    CHECK_EQ_U(vs.records, 6 + 2 + 10 + 4); /* incidents, cases, events, members */

    /* raw LMDB: a case record changed, an incident taken out of a case,
     * an event written beside the log, an incident record changed */
    be64(key, 1);
    CHECK_EQ_U(raw_get(dir, "cases", key, 8, rec, sizeof rec, &len), 0);
    rec[60] ^= 0x20; /* in the title */
    reseal(rec, len);
    CHECK_EQ_U(raw_put(dir, "cases", key, 8, rec, len), 0);
    {
        struct raw r;
        MDB_dbi dbi;
        uint8_t k8[8], v8[8];
        MDB_val k = { 8, k8 }, v = { 8, v8 };
        be64(k8, 1);
        be64(v8, 5);
        CHECK_EQ_U(raw_begin(&r, dir, 1), 0);
        CHECK_EQ_U(mdb_dbi_open(r.txn, "by_case", 0, &dbi), 0);
        CHECK_EQ_U(mdb_del(r.txn, dbi, &k, &v), 0);
        CHECK_EQ_U(raw_end(&r, 1), 0);
    }
    be64(key, 2);
    be64(key + 8, 1);
    CHECK_EQ_U(raw_get(dir, "case_history", (uint8_t[16]){ 0, 0, 0, 0, 0, 0, 0, 1 }, 16, rec,
                       sizeof rec, &len),
               0);
    CHECK_EQ_U(raw_put(dir, "case_history", key, 16, rec, len), 0);
    CHECK_EQ_U(verify_dir(dir, &ls, &vs, &h1), CG_ECORRUPT);
    CHECK_EQ_U(ls.n, 3);
    CHECK_CONTAINS(ls.l[0], "case 1: record does not match leaf ");
    CHECK_STR(ls.l[1], "case history 2/1: no leaf in the log (written outside canhgac)");
    CHECK_CONTAINS(ls.l[2], "case 1 incident 5: record missing (leaf ");

    /* a proof of an incident whose record was rewritten is refused */
    be64(key, 3);
    CHECK_EQ_U(raw_get(dir, "incidents", key, 8, rec, sizeof rec, &len), 0);
    CHECK_EQ_U(forge_msg(rec, len), 0);
    CHECK_EQ_U(raw_put(dir, "incidents", key, 8, rec, len), 0);
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(prove(st, (uint64_t[]){ 1, 3 }, 2, &pr), CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "incident 3: record does not match leaf ");
    cg_store_close(st);
}

/* tests/data/store-v4: read as it is (no case), then migrated by a triage
 * handle: the same log, the cases' databases, cases work. */
static void test_migrate4(void)
{
    const char *dir = path("v4");
    char dst[300];
    size_t n;
    unsigned char *b = slurp("tests/data/store-v4/data.mdb", &n);
    FILE *f;
    cg_store *st;
    cg_store_head h0, h1;
    cg_store_info info;
    struct lines ls;
    cg_store_verify_stats vs;
    struct idv iv;
    uint64_t id = 0;

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
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    CHECK_EQ_U(h0.size, 41);
    memset(&iv, 0, sizeof iv);
    CHECK_EQ_U(cg_store_case_list(st, take_case, &iv), 0);
    CHECK_EQ_U(iv.n, 0);
    CHECK_EQ_U(cg_store_case_get(st, 1, NULL, NULL), CG_ENOTFOUND);
    CHECK_EQ_U(count_q(st, CG_Q_CASE, 1, 0), 0);
    cg_store_close(st);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_store_migrated(st), 4);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, CG_STORE_SCHEMA);
    CHECK_EQ_U(info.incidents, 6);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(same_head(&h0, &h1)); /* nothing of the log changes */
    CHECK_EQ_U(cg_store_case_new(st, "after the migration", "chi", 1, (uint64_t[]){ 2, 4 }, 2, &id),
               0);
    CHECK_EQ_U(id, 1);
    CHECK_EQ_U(count_q(st, CG_Q_CASE, 1, 0), 2);
    cg_store_close(st);
    CHECK_EQ_U(verify_dir(dir, &ls, &vs, &h1), 0);
    CHECK_EQ_U(h1.size, 41 + 1 + 3 + 2);
}

int main(int argc, char **argv)
{
    struct timespec t0, t1;

    if (argc == 3 && !strcmp(argv[1], "note"))
        return child_note(argv[2]);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    snprintf(root, sizeof root, "/tmp/cg_store_log_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_new();
    test_tamper();
    test_consistency();
    test_migrate();
    test_schema4_without_log();
    test_failed();
    test_two_processes();
    test_cases();
    test_migrate4();
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("store_log: %.2f s\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return check_done("store_log");
}
