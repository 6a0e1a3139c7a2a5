/* store_log.c — the store's tamper-evident log (schema 4): every record the
 * store accepts (an incident created or changed, an alert, an evidence
 * packet, a history entry) is also a leaf of an append-only Merkle tree
 * hashed as RFC 9162 does (store/merkle.h), written in the same LMDB
 * transaction as the record.
 *
 * On disk (store_rec.c has the other formats):
 *   log        be64 block (0, 1, ... without a gap)
 *              -> 1 to 16 slots of LOG_SLOT (49) bytes, leaves 16 * block
 *                 onwards: 32 leaf hash | u8 kind | the record's key (8,
 *                 12 or 16 bytes) and zeros to 16. Every block but the last
 *                 holds 16. A writer keeps the last block in memory
 *                 (st->blk) and writes it when it fills and before its
 *                 transaction commits (cgs_log_flush): one put per 16
 *                 leaves.
 *   log_nodes  u8 level (4, 8, ... 60) | be64 index
 *              -> 32 the hash of the perfect subtree of leaves
 *                 [index << level, (index + 1) << level)
 *              Only every fourth level is kept: a node between them is
 *              hashed from the 2, 4 or 8 kept nodes (or leaves) below it
 *              when a proof needs it, so that an append writes about one
 *              node per 16 leaves instead of one per leaf.
 *   meta       "origin" -> the log's name, "canhgac.store/" and 32 hex
 *              digits drawn when the log began: a checkpoint names it.
 * The leaf of a record is SHA-256(0x00 | kind | key | the record's bytes,
 * seal included) (kind: CGS_LOG_*); the tree's size is the number of leaves.
 * A record changed later (an incident's triage) gets a new leaf: the latest
 * leaf of a key is the one its record must match.
 *
 * Invariants:
 *  1. Leaves are only appended, in the transaction that writes their
 *     record, after the record; a transaction that fails leaves neither.
 *  2. Every node of log_nodes is the hash of its two children, and is
 *     written by the append that completes its subtree (cg_mt_frontier);
 *     its level is a multiple of NODE_STRIDE.
 *  3. The frontier in st->mt and the last block in st->blk are loaded in the
 *     write transaction that uses them (cgs_log_load), since another
 *     process (a triage call) may have appended since; st->blk is written
 *     (cgs_log_flush) before that transaction commits.
 * cg_store_verify (below) checks 1 and 2 against what is on disk, and each
 * record against its latest leaf.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdarg.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define NODE_STRIDE 4 /* the levels log_nodes keeps: its multiples */

struct io {
    cg_store *st;
    MDB_txn *txn;
    unsigned kind, klen;
    const uint8_t *key;
};

/* An error of merkle.c (error.h's codes) as an LMDB code, for cgs_fail_mdb;
 * LMDB's own and errno values pass. */
static int as_mdb(int rc)
{
    if (rc >= 0 || rc < -1000)
        return rc;
    return rc == CG_ENOMEM ? ENOMEM : MDB_CORRUPTED;
}

unsigned cgs_log_klen(unsigned kind)
{
    switch (kind) {
    case CGS_LOG_INC:
    case CGS_LOG_CASE: return 8;
    case CGS_LOG_ALERT:
    case CGS_LOG_EV: return 12;
    case CGS_LOG_HIST:
    case CGS_LOG_CHIST:
    case CGS_LOG_CMEM: return 16;
    default: return 0;
    }
}

/* A slot is well formed: a kind, and zeros after its key. */
static int slot_ok(const uint8_t *p)
{
    unsigned kl = cgs_log_klen(p[CG_MT_HASH]);

    if (!kl)
        return 0;
    for (unsigned i = CG_MT_HASH + 1 + kl; i < LOG_SLOT; i++)
        if (p[i])
            return 0;
    return 1;
}

/* A block's value: its number of slots (1 to 16), or 0 when malformed. */
static unsigned block_slots(const MDB_val *v)
{
    if (v->mv_size == 0 || v->mv_size % LOG_SLOT || v->mv_size > LOG_SLOT * LOG_BLOCK)
        return 0;
    for (size_t o = 0; o < v->mv_size; o += LOG_SLOT)
        if (!slot_ok((const uint8_t *)v->mv_data + o))
            return 0;
    return (unsigned)(v->mv_size / LOG_SLOT);
}

static int get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CG_MT_HASH])
{
    const struct io *io = ctx;
    uint8_t kb[9];
    MDB_val k, v;
    int rc;

    if (level == 0) {
        /* (read from what is committed in txn: a writer never reads a
         * leaf back while it appends) */
        put64(kb, index / LOG_BLOCK);
        k = (MDB_val){ 8, kb };
        rc = mdb_get(io->txn, io->st->dbi[DB_LOG], &k, &v);
        if (rc == 0 && block_slots(&v) <= index % LOG_BLOCK)
            rc = MDB_CORRUPTED;
        if (rc == 0)
            v.mv_data = (uint8_t *)v.mv_data + (index % LOG_BLOCK) * LOG_SLOT;
    } else if (level % NODE_STRIDE) {
        /* not kept: hashed from its children */
        uint8_t l[CG_MT_HASH], r[CG_MT_HASH];
        if (index >= (UINT64_MAX >> 1))
            return MDB_CORRUPTED;
        if ((rc = get_node(ctx, level - 1, 2 * index, l)) != 0 ||
            (rc = get_node(ctx, level - 1, 2 * index + 1, r)) != 0)
            return rc;
        return as_mdb(cg_mt_node_hash(l, r, out));
    } else {
        kb[0] = (uint8_t)level;
        put64(kb + 1, index);
        k = (MDB_val){ 9, kb };
        rc = mdb_get(io->txn, io->st->dbi[DB_LOGN], &k, &v);
        if (rc == 0 && v.mv_size != CG_MT_HASH)
            rc = MDB_CORRUPTED;
    }
    if (rc == MDB_NOTFOUND)
        rc = MDB_CORRUPTED; /* a node the tree's size says is there */
    if (rc == 0)
        memcpy(out, v.mv_data, CG_MT_HASH);
    return rc;
}

int cgs_log_flush(cg_store *st, MDB_txn *txn)
{
    struct cgs_logblk *b = &st->blk;
    uint8_t kb[8];
    MDB_val k, v;
    int rc;

    if (!b->dirty || b->n == 0)
        return 0;
    put64(kb, b->no);
    k = (MDB_val){ 8, kb };
    v = (MDB_val){ (size_t)b->n * LOG_SLOT, b->s };
    if ((rc = mdb_put(txn, st->dbi[DB_LOG], &k, &v, b->on_disk ? 0 : MDB_APPEND)) != 0)
        return rc;
    b->on_disk = 1;
    b->dirty = 0;
    return 0;
}

static int put_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[CG_MT_HASH])
{
    const struct io *io = ctx;
    uint8_t kb[9];
    MDB_val k, v;
    int rc;

    if (level == 0) {
        struct cgs_logblk *b = &io->st->blk;
        uint8_t *s = b->s[b->n];
        if (index != b->no * LOG_BLOCK + b->n)
            return MDB_CORRUPTED; /* not loaded in this transaction (invariant 3) */
        memcpy(s, h, CG_MT_HASH);
        s[CG_MT_HASH] = (uint8_t)io->kind;
        memcpy(s + CG_MT_HASH + 1, io->key, io->klen);
        memset(s + CG_MT_HASH + 1 + io->klen, 0, LOG_SLOT - CG_MT_HASH - 1 - io->klen);
        b->n++;
        b->dirty = 1;
        if (b->n < LOG_BLOCK)
            return 0;
        if ((rc = cgs_log_flush(io->st, io->txn)) != 0)
            return rc;
        b->no++, b->n = 0, b->on_disk = 0;
        return 0;
    }
    if (level % NODE_STRIDE)
        return 0; /* not kept (get_node hashes it again) */
    kb[0] = (uint8_t)level;
    put64(kb + 1, index);
    k = (MDB_val){ 9, kb };
    v = (MDB_val){ CG_MT_HASH, (void *)h };
    return mdb_put(io->txn, io->st->dbi[DB_LOGN], &k, &v, 0);
}

/* The tree's size in txn, from the last block (copied into *last when
 * not NULL: st->blk as a writer loads it). */
static int log_size(const cg_store *st, MDB_txn *txn, uint64_t *size, struct cgs_logblk *last)
{
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned n = 0;
    int rc;

    *size = 0;
    if (last)
        memset(last, 0, sizeof *last);
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_LOG], &cur)) != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 &&
        (k.mv_size != 8 || get64(k.mv_data) >= (CG_MT_MAXSIZE >> 4) - 1 || !(n = block_slots(&v))))
        rc = MDB_CORRUPTED;
    if (rc == 0) {
        *size = get64(k.mv_data) * LOG_BLOCK + n;
        if (last) {
            last->no = get64(k.mv_data);
            last->n = n;
            last->on_disk = 1;
            memcpy(last->s, v.mv_data, v.mv_size);
            if (n == LOG_BLOCK)
                last->no++, last->n = 0, last->on_disk = 0;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cgs_log_load(cg_store *st, MDB_txn *txn)
{
    struct io io = { st, txn, 0, 0, NULL };
    uint64_t size;
    int rc;

    if ((rc = log_size(st, txn, &size, &st->blk)) != 0)
        return rc;
    return as_mdb(cg_mt_frontier_load(&st->mt, size, get_node, &io));
}

/* The leaf hash of a record: SHA-256(0x00 | kind | key | rec), through the
 * handle's hasher (made at the first leaf, freed with the handle). */
static int leaf_of(cg_store *st, unsigned kind, const uint8_t *key, unsigned klen,
                   const uint8_t *rec, size_t n, uint8_t out[CG_MT_HASH])
{
    uint8_t head[1 + 16];

    if (!st->hasher && cg_mt_hasher_new(&st->hasher) != 0)
        return ENOMEM;
    head[0] = (uint8_t)kind;
    memcpy(head + 1, key, klen);
    return as_mdb(cg_mt_leaf_hash2(st->hasher, head, 1 + (size_t)klen, rec, n, out));
}

int cgs_log_add(cg_store *st, MDB_txn *txn, unsigned kind, const uint8_t *key, const uint8_t *rec,
                size_t n)
{
    struct io io = { st, txn, kind, cgs_log_klen(kind), key };
    uint8_t leaf[CG_MT_HASH];
    int rc;

    if ((rc = leaf_of(st, kind, key, io.klen, rec, n, leaf)) != 0)
        return rc;
    return as_mdb(cg_mt_frontier_append(&st->mt, leaf, put_node, &io));
}

int cgs_log_begin_origin(cg_store *st, MDB_txn *txn)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t r[16];
    char o[14 + 32];
    MDB_val k = { 6, (void *)"origin" }, v;

    if (RAND_bytes(r, sizeof r) != 1)
        return EIO;
    memcpy(o, "canhgac.store/", 14);
    for (int i = 0; i < 16; i++) {
        o[14 + 2 * i] = hex[r[i] >> 4];
        o[15 + 2 * i] = hex[r[i] & 15];
    }
    v = (MDB_val){ sizeof o, o };
    return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

/* ---- reading the log ------------------------------------------------------ */

/* The origin in txn, as a string in out[cap]. */
static int read_origin(cg_store *st, MDB_txn *txn, char *out, size_t cap)
{
    MDB_val k = { 6, (void *)"origin" }, v;
    int rc = mdb_get(txn, st->dbi[DB_META], &k, &v);

    if (rc)
        return cgs_fail_mdb(st, rc, "meta origin");
    if (v.mv_size == 0 || v.mv_size >= cap || memchr(v.mv_data, 0, v.mv_size) ||
        memchr(v.mv_data, '\n', v.mv_size))
        return cgs_fail(st, CG_ECORRUPT,
                        "damaged (meta origin: not a name): restore from a backup");
    memcpy(out, v.mv_data, v.mv_size);
    out[v.mv_size] = 0;
    return 0;
}

static int no_log(cg_store *st)
{
    return cgs_fail(st, CG_EOLDER,
                    "a store of schema %u has no log yet: it is begun when a writer or a triage "
                    "change opens the store",
                    st->schema);
}

int cg_store_log_head(cg_store *st, cg_store_head *out)
{
    MDB_txn *txn;
    struct io io;
    cg_store_head h;
    int rc, code;

    if (!st || !out)
        return CG_EINVAL;
    if (st->schema < 4)
        return no_log(st);
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    memset(&h, 0, sizeof h);
    io = (struct io){ st, txn, 0, 0, NULL };
    code = read_origin(st, txn, h.origin, sizeof h.origin);
    if (!code && (rc = log_size(st, txn, &h.size, NULL)) != 0)
        code = cgs_fail_mdb(st, rc, "log");
    if (!code && (rc = as_mdb(cg_mt_root(get_node, &io, h.size, h.root))) != 0)
        code = cgs_fail_mdb(st, rc, "log_nodes");
    mdb_txn_abort(txn);
    if (!code)
        *out = h;
    return code;
}

uint32_t cg_store_migrated(const cg_store *st)
{
    return st ? st->migrated_from : 0;
}

int cg_store_log_consistency(cg_store *st, uint64_t old, uint64_t size,
                             uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH], unsigned *n)
{
    MDB_txn *txn;
    struct io io;
    uint64_t have;
    int rc, code;

    if (!st || !path || !n || old == 0 || old > size)
        return CG_EINVAL;
    if (st->schema < 4)
        return no_log(st);
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    io = (struct io){ st, txn, 0, 0, NULL };
    if ((rc = log_size(st, txn, &have, NULL)) != 0)
        code = cgs_fail_mdb(st, rc, "log");
    else if (size > have)
        code = cgs_fail(st, CG_EINVAL, "the log holds %llu leaves, not %llu",
                        (unsigned long long)have, (unsigned long long)size);
    else if ((rc = as_mdb(cg_mt_consistency(get_node, &io, old, size, path, n))) != 0)
        code = cgs_fail_mdb(st, rc, "log_nodes");
    mdb_txn_abort(txn);
    return code;
}

/* ---- verify -------------------------------------------------------------- */

struct ent {
    uint8_t kind;
    uint8_t key[16];
    uint64_t index;
};

static int ent_cmp(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    int c = (int)x->kind - (int)y->kind;

    if (!c)
        c = memcmp(x->key, y->key, 16);
    if (!c)
        c = x->index < y->index ? -1 : x->index > y->index;
    return c;
}

static const char *kind_name(unsigned kind)
{
    switch (kind) {
    case CGS_LOG_INC: return "incident";
    case CGS_LOG_ALERT: return "alert";
    case CGS_LOG_EV: return "evidence";
    case CGS_LOG_CASE: return "case";
    case CGS_LOG_CHIST: return "case history";
    case CGS_LOG_CMEM: return "case";
    default: return "history";
    }
}

/* "incident 42", "alert 42/3", "history 42/5", "case 3", "case history
 * 3/5", "case 3 incident 42" */
static void rec_name(unsigned kind, const uint8_t *key, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s %llu", kind_name(kind), (unsigned long long)get64(key));

    if (n < 0 || (size_t)n >= cap)
        return;
    if (kind == CGS_LOG_ALERT || kind == CGS_LOG_EV)
        snprintf(out + n, cap - (size_t)n, "/%u", get32(key + 8));
    else if (kind == CGS_LOG_HIST || kind == CGS_LOG_CHIST)
        snprintf(out + n, cap - (size_t)n, "/%llu", (unsigned long long)get64(key + 8));
    else if (kind == CGS_LOG_CMEM)
        snprintf(out + n, cap - (size_t)n, " incident %llu", (unsigned long long)get64(key + 8));
}

struct vstate {
    cg_store *st;
    MDB_txn *txn;
    cg_store_problem_fn fn;
    void *arg;
    cg_store_verify_stats s;
};

__attribute__((format(printf, 2, 3))) static void problem(struct vstate *vs, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    vs->s.problems++;
    if (vs->fn)
        vs->fn(line, vs->arg);
}

/* The recomputed tree's nodes, each against the stored one (walk_leaves). */
struct cmp {
    struct io io;
    int bad; /* a kept node missing or different */
};

static int put_cmp(void *ctx, unsigned level, uint64_t index, const uint8_t h[CG_MT_HASH])
{
    struct cmp *c = ctx;
    uint8_t kb[9];
    MDB_val k, v;
    int rc;

    if (level == 0 || level % NODE_STRIDE)
        return 0;
    kb[0] = (uint8_t)level;
    put64(kb + 1, index);
    k = (MDB_val){ 9, kb };
    rc = mdb_get(c->io.txn, c->io.st->dbi[DB_LOGN], &k, &v);
    if (rc == MDB_NOTFOUND ||
        (rc == 0 && (v.mv_size != CG_MT_HASH || memcmp(v.mv_data, h, CG_MT_HASH))))
        c->bad = 1, rc = 0;
    return rc;
}

/* Step 1: the leaves in order, without a gap, each well formed; the tree
 * they make, every kept node and the root, against the stored nodes. Fills
 * *ents (sorted later). */
static int walk_leaves(struct vstate *vs, struct ent **ents, size_t *nent, uint8_t root[CG_MT_HASH])
{
    struct io io = { vs->st, vs->txn, 0, 0, NULL };
    struct cmp cmp = { { vs->st, vs->txn, 0, 0, NULL }, 0 };
    cg_mt_frontier f;
    MDB_cursor *cur;
    MDB_val k, v;
    struct ent *e = NULL;
    size_t cap = 0, n = 0;
    uint8_t stored[CG_MT_HASH];
    int rc;

    memset(&f, 0, sizeof f);
    if ((rc = mdb_cursor_open(vs->txn, vs->st->dbi[DB_LOG], &cur)) != 0)
        return cgs_fail_mdb(vs->st, rc, "log");
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned slots = block_slots(&v);
        if (k.mv_size != 8) {
            problem(vs, "log: leaf %llu missing (a key of %zu bytes follows)",
                    (unsigned long long)f.size, k.mv_size);
            break;
        }
        if (f.size % LOG_BLOCK) {
            problem(vs, "log: block %llu holds %llu leaves, not %u, and others follow",
                    (unsigned long long)(f.size / LOG_BLOCK),
                    (unsigned long long)(f.size % LOG_BLOCK), LOG_BLOCK);
            break;
        }
        if (get64(k.mv_data) != f.size / LOG_BLOCK) {
            problem(vs, "log: leaves %llu to %llu missing", (unsigned long long)f.size,
                    (unsigned long long)(get64(k.mv_data) * LOG_BLOCK - 1));
            break;
        }
        if (!slots) {
            problem(vs, "log: block %llu (leaves %llu on) is not a block of leaves",
                    (unsigned long long)(f.size / LOG_BLOCK), (unsigned long long)f.size);
            break;
        }
        if (n + slots > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            struct ent *b = realloc(e, nc * sizeof *e);
            if (!b) {
                rc = ENOMEM;
                break;
            }
            e = b;
            cap = nc;
        }
        for (unsigned j = 0; j < slots && !rc; j++) {
            const uint8_t *p = (const uint8_t *)v.mv_data + (size_t)j * LOG_SLOT;
            e[n].kind = p[CG_MT_HASH];
            memcpy(e[n].key, p + CG_MT_HASH + 1, 16);
            e[n].index = f.size;
            n++;
            rc = as_mdb(cg_mt_frontier_append(&f, p, put_cmp, &cmp));
        }
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) {
        free(e);
        return cgs_fail_mdb(vs->st, rc, "log");
    }
    vs->s.leaves = f.size;
    if ((rc = as_mdb(cg_mt_frontier_root(&f, root))) != 0) {
        free(e);
        return cgs_fail_mdb(vs->st, rc, "log");
    }
    rc = as_mdb(cg_mt_root(get_node, &io, f.size, stored));
    if (rc == MDB_CORRUPTED || cmp.bad || (rc == 0 && memcmp(stored, root, CG_MT_HASH)))
        problem(vs, "log_nodes: the tree's nodes do not match its %llu leaves",
                (unsigned long long)f.size);
    else if (rc) {
        free(e);
        return cgs_fail_mdb(vs->st, rc, "log_nodes");
    }
    *ents = e;
    *nent = n;
    return 0;
}

/* Step 2: the records of one kind against their latest leaves, merged in
 * key order with e[0..n) (sorted, this kind only). */
static int walk_records(struct vstate *vs, unsigned kind, int db, const struct ent *e, size_t n)
{
    MDB_cursor *cur;
    MDB_val k, v;
    size_t i = 0;
    unsigned klen = cgs_log_klen(kind);
    uint8_t mk[16];
    char name[64];
    int rc;

    if ((rc = mdb_cursor_open(vs->txn, vs->st->dbi[db], &cur)) != 0)
        return cgs_fail_mdb(vs->st, rc, cgs_db_names[db]);
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (;;) {
        int c;
        if (rc && rc != MDB_NOTFOUND)
            break;
        if (rc == MDB_NOTFOUND && i == n) {
            rc = 0;
            break;
        }
        if (rc == 0 && kind == CGS_LOG_CMEM && k.mv_data != mk) {
            /* by_case: the entry (case, incident) is the key, with no record */
            if (k.mv_size != 8 || v.mv_size != 8) {
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
                continue;
            }
            memcpy(mk, k.mv_data, 8);
            memcpy(mk + 8, v.mv_data, 8);
            k = (MDB_val){ 16, mk };
            v = (MDB_val){ 0, mk };
        }
        if (rc == 0 && k.mv_size != klen) { /* store check's to name */
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        /* the latest leaf of a key is the last of its run in e */
        while (i + 1 < n && !memcmp(e[i].key, e[i + 1].key, 16))
            i++;
        c = rc == MDB_NOTFOUND ? 1 : i == n ? -1 : memcmp(k.mv_data, e[i].key, klen);
        if (c < 0) {
            rec_name(kind, k.mv_data, name, sizeof name);
            problem(vs, "%s: no leaf in the log (written outside canhgac)", name);
            vs->s.records++;
        } else if (c > 0) {
            rec_name(kind, e[i].key, name, sizeof name);
            problem(vs, "%s: record missing (leaf %llu)", name, (unsigned long long)e[i].index);
            i++;
            continue;
        } else {
            uint8_t want[CG_MT_HASH], got[CG_MT_HASH];
            int g;
            vs->s.records++;
            g = get_node(&(struct io){ vs->st, vs->txn, 0, 0, NULL }, 0, e[i].index, want);
            if (g == 0)
                g = leaf_of(vs->st, kind, k.mv_data, klen, v.mv_data, v.mv_size, got);
            if (g) {
                rc = g;
                break;
            }
            if (memcmp(want, got, CG_MT_HASH)) {
                rec_name(kind, k.mv_data, name, sizeof name);
                problem(vs, "%s: record does not match leaf %llu", name,
                        (unsigned long long)e[i].index);
            }
            i++;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc ? cgs_fail_mdb(vs->st, rc, cgs_db_names[db]) : 0;
}

int cg_store_verify(cg_store *st, cg_store_problem_fn fn, void *arg, cg_store_verify_stats *out,
                    cg_store_head *head)
{
    static const struct {
        unsigned kind;
        int db;
    } kinds[] = {
        { CGS_LOG_INC, DB_INC },
        { CGS_LOG_ALERT, DB_ALERT },
        { CGS_LOG_EV, DB_EV },
        { CGS_LOG_HIST, DB_HIST },
        { CGS_LOG_CASE, DB_CASE },
        { CGS_LOG_CHIST, DB_CASEH },
        { CGS_LOG_CMEM, DB_IX0 + IX_CASE },
    };
    struct vstate vs;
    struct ent *e = NULL;
    size_t n = 0, at = 0;
    int code;

    if (!st)
        return CG_EINVAL;
    if (st->schema < 4)
        return no_log(st);
    memset(&vs, 0, sizeof vs);
    vs.st = st, vs.fn = fn, vs.arg = arg;
    if ((code = cgs_rtxn_begin(st, &vs.txn)) != 0)
        return code;
    if (head) {
        memset(head, 0, sizeof *head);
        code = read_origin(st, vs.txn, head->origin, sizeof head->origin);
    }
    if (!code)
        code = walk_leaves(&vs, &e, &n, head ? head->root : (uint8_t[CG_MT_HASH]){ 0 });
    if (!code && head)
        head->size = vs.s.leaves;
    if (!code && n)
        qsort(e, n, sizeof *e, ent_cmp);
    for (size_t j = 0; !code && j < sizeof kinds / sizeof kinds[0]; j++) {
        size_t from = at;
        if (!cgs_db_in(kinds[j].db, st->schema))
            continue;
        while (at < n && e[at].kind == kinds[j].kind)
            at++;
        code = walk_records(&vs, kinds[j].kind, kinds[j].db, e + from, at - from);
    }
    mdb_txn_abort(vs.txn);
    free(e);
    if (out)
        *out = vs.s;
    if (!code && vs.s.problems)
        code = cgs_fail(st, CG_ECORRUPT, "the log does not match the records: %llu problems",
                        (unsigned long long)vs.s.problems);
    return code;
}

/* ---- inclusion proofs ---------------------------------------------------- */

struct want {
    uint64_t id;
    uint64_t leaf; /* UINT64_MAX: none seen yet */
    size_t at;     /* its place in the caller's ids */
};

static int want_cmp(const void *a, const void *b)
{
    const struct want *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

static int at_cmp(const void *a, const void *b)
{
    const struct want *x = a, *y = b;

    return x->at < y->at ? -1 : x->at > y->at;
}

int cg_store_log_prove(cg_store *st, cg_store_head *head, const uint64_t *ids, size_t n,
                       int (*cb)(const cg_store_inclusion *p, void *arg), void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    struct io io;
    struct want *w = NULL;
    uint8_t(*path)[CG_MT_HASH] = NULL, *data = NULL;
    size_t cap = 0;
    uint64_t index = 0;
    cg_store_head h;
    int rc, code;

    if (!st || !head || (n && (!ids || !cb)))
        return CG_EINVAL;
    if (st->schema < 4)
        return no_log(st);
    if (n && (!(w = calloc(n, sizeof *w)) || !(path = malloc(CG_MT_MAXPROOF * CG_MT_HASH)))) {
        free(w);
        return cgs_fail(st, CG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        w[i] = (struct want){ ids[i], UINT64_MAX, i };
    if (n)
        qsort(w, n, sizeof *w, want_cmp);
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        goto done;
    io = (struct io){ st, txn, 0, 0, NULL };
    memset(&h, 0, sizeof h);
    if ((code = read_origin(st, txn, h.origin, sizeof h.origin)) != 0)
        goto out;
    /* the latest leaf of each incident wanted: one pass over the leaves */
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_LOG], &cur)) != 0) {
        code = cgs_fail_mdb(st, rc, "log");
        goto out;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned slots = block_slots(&v);
        if (k.mv_size != 8 || get64(k.mv_data) != index / LOG_BLOCK || index % LOG_BLOCK ||
            !slots) {
            code = cgs_fail(st, CG_ECORRUPT,
                            "damaged (log: block %llu is not the next block of leaves): run "
                            "store verify",
                            (unsigned long long)(index / LOG_BLOCK));
            goto out;
        }
        for (unsigned j = 0; j < slots; j++, index++) {
            const uint8_t *p = (const uint8_t *)v.mv_data + (size_t)j * LOG_SLOT;
            struct want key, *hit;
            if (p[CG_MT_HASH] != CGS_LOG_INC || !n)
                continue;
            key.id = get64(p + CG_MT_HASH + 1);
            if ((hit = bsearch(&key, w, n, sizeof *w, want_cmp)) != NULL) {
                /* duplicates in ids: every copy */
                struct want *a = hit, *b = hit;
                while (a > w && a[-1].id == key.id)
                    a--;
                while (b + 1 < w + n && b[1].id == key.id)
                    b++;
                for (; a <= b; a++)
                    a->leaf = index;
            }
        }
    }
    mdb_cursor_close(cur);
    cur = NULL;
    if (rc != MDB_NOTFOUND) {
        code = cgs_fail_mdb(st, rc, "log");
        goto out;
    }
    h.size = index;
    if ((rc = as_mdb(cg_mt_root(get_node, &io, h.size, h.root))) != 0) {
        code = cgs_fail_mdb(st, rc, "log_nodes");
        goto out;
    }
    *head = h; /* before the proofs: cb checks them against it */
    if (n)
        qsort(w, n, sizeof *w, at_cmp);
    for (size_t i = 0; i < n; i++) {
        cg_store_inclusion p;
        uint8_t key[8], got[CG_MT_HASH];
        unsigned np = 0;
        size_t len;
        if (w[i].leaf == UINT64_MAX) {
            code = cgs_fail(st, CG_ENOTFOUND, "incident %llu: no leaf in the log",
                            (unsigned long long)w[i].id);
            goto out;
        }
        put64(key, w[i].id);
        k = (MDB_val){ 8, key };
        if ((rc = mdb_get(txn, st->dbi[DB_INC], &k, &v)) != 0) {
            code = rc == MDB_NOTFOUND
                ? cgs_fail(st, CG_ECORRUPT, "incident %llu: record missing (leaf %llu)",
                           (unsigned long long)w[i].id, (unsigned long long)w[i].leaf)
                : cgs_fail_mdb(st, rc, "incidents");
            goto out;
        }
        len = 9 + v.mv_size;
        if (len > cap) {
            uint8_t *b = realloc(data, len);
            if (!b) {
                code = cgs_fail(st, CG_ENOMEM, "out of memory");
                goto out;
            }
            data = b;
            cap = len;
        }
        data[0] = CGS_LOG_INC;
        memcpy(data + 1, key, 8);
        memcpy(data + 9, v.mv_data, v.mv_size);
        memset(&p, 0, sizeof p);
        rc = get_node(&io, 0, w[i].leaf, p.leaf_hash);
        if (!rc)
            rc = as_mdb(cg_mt_leaf_hash(data, len, got));
        if (!rc)
            rc = as_mdb(cg_mt_inclusion(get_node, &io, w[i].leaf, h.size, path, &np));
        if (rc) {
            code = cgs_fail_mdb(st, rc, "log");
            goto out;
        }
        if (memcmp(got, p.leaf_hash, CG_MT_HASH)) {
            code = cgs_fail(st, CG_ECORRUPT, "incident %llu: record does not match leaf %llu",
                            (unsigned long long)w[i].id, (unsigned long long)w[i].leaf);
            goto out;
        }
        p.id = w[i].id;
        p.leaf = w[i].leaf;
        p.leaf_data = data;
        p.leaf_len = len;
        p.npath = np;
        p.path = (const uint8_t(*)[CG_MT_HASH])path;
        if (cb(&p, arg))
            break;
    }
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
done:
    free(w);
    free(path);
    free(data);
    return code;
}
