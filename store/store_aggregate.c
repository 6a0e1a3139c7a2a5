/* store_aggregate.c — the aggregations over the incidents a query matches:
 * a count, top-N by a field, a histogram over time (and the attacks' own),
 * each taking the shortcuts store_query.c describes where the indexes
 * answer alone, and otherwise walking the planner's ids (store_query.h).
 */
#include "store/store_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- counts ------------------------------------------------------------------------------- */

static int each_count(void *ctx, uint64_t id, const uint8_t *rec, size_t len,
                      const cg_incident *inc)
{
    (void)id, (void)rec, (void)len, (void)inc;
    ++*(uint64_t *)ctx;
    return 0;
}

int cg_store_count(cg_store *st, const cg_query *q, uint64_t *out)
{
    struct plan p;
    MDB_txn *txn;
    uint64_t n = 0;
    int code;

    if (!st || !out)
        return CG_EINVAL;
    if (!q)
        q = &cg_sq_all_q;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    code = cg_sq_build(st, q, &p);
    if (code || p.mode == P_EMPTY)
        goto out;
    if (p.nc == 1 && !p.record_only) {
        /* one index answers it: the sum of its counts */
        if ((code = cg_sq_plan_store(st, txn, &p)) == 0)
            code = cg_sq_estimate(st, txn, &p, &p.c[0], UINT64_MAX, UINT32_MAX, 1);
        n = p.c[0].est;
        goto out;
    }
    if (p.nc == 0 && !p.record_only) {
        MDB_stat ms;
        int rc = mdb_stat(txn, st->dbi[DB_INC], &ms);
        if (rc)
            code = cgs_fail_mdb(st, rc, "incidents");
        n = ms.ms_entries;
        goto out;
    }
    code = cg_sq_plan(st, txn, q, 0, &p);
    if (!code)
        code = cg_sq_walk(st, txn, q, &p, 0, 0, each_count, &n);
out:
    mdb_txn_abort(txn);
    if (!code)
        *out = n;
    return code;
}

/* ---- group by --------------------------------------------------------------------------------- */

/* A field: the index that holds it, and where it is in a record. The group
 * key is the field's index key (so ties sort as the index does). */
static const struct field {
    int ix;
    unsigned off; /* of the field in an incident record */
} fields[] = {
    [CG_F_SRC] = { IX_SRC, OFF_SRC },
    [CG_F_DST] = { IX_DST, OFF_DST },
    [CG_F_SID] = { IX_SID, 0 },
    [CG_F_SRC_CC] = { IX_SRC_CC, OFF_SRC_CC },
    [CG_F_DST_CC] = { IX_DST_CC, OFF_DST_CC },
    [CG_F_SRC_ASN] = { IX_SRC_ASN, OFF_SRC_ASN },
    [CG_F_DST_ASN] = { IX_DST_ASN, OFF_DST_ASN },
    [CG_F_DPORT] = { IX_DPORT, OFF_DPORT },
    [CG_F_SEV] = { IX_SEV, OFF_SEV },
    [CG_F_STATUS] = { IX_STATUS, OFF_STATUS },
};

/* The group key of field f of a record; 0 when the record has no value
 * there (unknown country or AS). */
static unsigned field_key(int f, const uint8_t *rec, uint8_t *k)
{
    unsigned kl = cgs_ix[fields[f].ix].keylen;

    if (f == CG_F_SID) {
        memcpy(k, rec + OFF_SID, 4);
        memcpy(k + 4, rec + OFF_GID, 4);
        return 8;
    }
    memcpy(k, rec + fields[f].off, kl);
    if ((f == CG_F_SRC_CC || f == CG_F_DST_CC) && k[0] == 0)
        return 0;
    if ((f == CG_F_SRC_ASN || f == CG_F_DST_ASN) && get32(k) == 0)
        return 0;
    return kl;
}

/* Counts by key: open addressing over 16-byte keys. */
struct ent {
    uint8_t k[16];
    uint64_t n;
};

struct counts {
    struct ent *e;
    size_t cap, used;
    unsigned kl;
    int nomem;
};

static size_t slot_of(const struct counts *c, const uint8_t *k)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (unsigned i = 0; i < c->kl; i++)
        h = (h ^ k[i]) * 0x100000001b3ull;
    return (size_t)(h ^ h >> 29) & (c->cap - 1);
}

static void counts_add(struct counts *c, const uint8_t *k, uint64_t n)
{
    size_t i;

    if (c->nomem)
        return;
    if (2 * (c->used + 1) > c->cap) {
        struct counts g = { NULL, c->cap ? c->cap * 2 : 1024, 0, c->kl, 0 };
        g.e = calloc(g.cap, sizeof *g.e);
        if (!g.e) {
            c->nomem = 1;
            return;
        }
        for (size_t j = 0; j < c->cap; j++)
            if (c->e[j].n)
                counts_add(&g, c->e[j].k, c->e[j].n);
        free(c->e);
        *c = g;
    }
    for (i = slot_of(c, k); c->e[i].n; i = (i + 1) & (c->cap - 1))
        if (memcmp(c->e[i].k, k, c->kl) == 0) {
            c->e[i].n += n;
            return;
        }
    memcpy(c->e[i].k, k, c->kl);
    memset(c->e[i].k + c->kl, 0, 16 - c->kl);
    c->e[i].n = n;
    c->used++;
}

/* The n best (count down, then key up) among c's, into top[0..*nt). */
static int better(const struct ent *a, const struct ent *b, unsigned kl)
{
    return a->n != b->n ? a->n > b->n : memcmp(a->k, b->k, kl) < 0;
}

static void top_offer(struct ent *top, size_t n, size_t *nt, const struct ent *e, unsigned kl)
{
    size_t i;

    if (n == 0 || (*nt == n && !better(e, &top[n - 1], kl)))
        return;
    i = *nt < n ? (*nt)++ : n - 1;
    while (i > 0 && better(e, &top[i - 1], kl)) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = *e;
}

static void group_value(int f, const uint8_t *k, cg_store_group *g)
{
    memset(g, 0, sizeof *g);
    switch (f) {
    case CG_F_SRC:
    case CG_F_DST: memcpy(g->addr, k, 16); break;
    case CG_F_SID:
        g->num = get32(k);
        g->gid = get32(k + 4);
        break;
    case CG_F_SRC_CC:
    case CG_F_DST_CC:
        g->cc[0] = (char)k[0];
        g->cc[1] = (char)k[1];
        break;
    case CG_F_SRC_ASN:
    case CG_F_DST_ASN: g->num = get32(k); break;
    case CG_F_DPORT: g->num = get16(k); break;
    default: g->num = k[0]; break;
    }
}

struct grouping {
    int field;
    struct counts c;
};

static int each_group(void *ctx, uint64_t id, const uint8_t *rec, size_t len,
                      const cg_incident *inc)
{
    struct grouping *g = ctx;
    uint8_t k[16];

    (void)id, (void)len, (void)inc;
    if (field_key(g->field, rec, k))
        counts_add(&g->c, k, 1);
    return g->c.nomem;
}

/* With no filter: the field's own index, a count per key. */
static int group_index(const cg_store *st, MDB_txn *txn, int ix, struct counts *c)
{
    unsigned kl = cg_sq_klen(ix), pre = kl - cgs_ix[ix].keylen;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, code = 0;

    rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + ix], &cur);
    if (rc)
        return cgs_fail_mdb(st, rc, cgs_ix[ix].name);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !c->nomem;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
        size_t n;
        if (k.mv_size != kl) {
            code = cg_sq_badkey(st, ix, k.mv_size);
            break;
        }
        if ((rc = mdb_cursor_count(cur, &n)) != 0)
            break;
        counts_add(c, (const uint8_t *)k.mv_data + pre, n);
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = cgs_fail_mdb(st, rc, cgs_ix[ix].name);
    mdb_cursor_close(cur);
    return code;
}

/* Only a time range, over a partitioned field: a partition whose span lies
 * inside the range is counted from the field's index (a count per key), one
 * on its edge from its records. Top sources over a day so reads a day's
 * index keys, not a day's records. */
static int group_by_time(const cg_store *st, MDB_txn *txn, const cg_query *q, int field,
                         struct grouping *g)
{
    int ix = fields[field].ix;
    unsigned kl = cg_sq_klen(ix);
    struct plan p;
    struct piter it;
    MDB_cursor *cur = NULL, *ic = NULL;
    MDB_val k, v;
    uint8_t key[8], lo[IX_STOREDMAX];
    uint32_t part;
    int rc, code;

    if ((code = cg_sq_build(st, q, &p)) != 0 || p.mode == P_EMPTY)
        return code;
    if ((code = cg_sq_plan_store(st, txn, &p)) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + ix], &cur);
    if (!rc)
        rc = mdb_cursor_open(txn, st->dbi[DB_INC], &ic);
    if (rc) {
        code = cgs_fail_mdb(st, rc, cgs_ix[ix].name);
        goto out;
    }
    /* the partitions of the field's index: one with no key there has no
     * incident with a value to count either */
    cg_sq_piter_init(&it, &p, cur, ix, 0);
    while (!g->c.nomem && (code = cg_sq_piter_next(st, &it, &part)) == 1) {
        MDB_val pk = { 4, key };
        uint64_t first = (uint64_t)part << PART_SHIFT;
        int inside = 0;
        put32(key, part);
        rc = mdb_get(txn, st->dbi[DB_PARTS], &pk, &v);
        if (rc == 0 && v.mv_size == 16) {
            uint64_t a = get64(v.mv_data), b = get64((const uint8_t *)v.mv_data + 8);
            if (b < p.t_lo || a > p.t_hi)
                continue;
            inside = a >= p.t_lo && b <= p.t_hi;
        } else if (rc && rc != MDB_NOTFOUND) {
            code = cgs_fail_mdb(st, rc, "parts");
            goto out;
        }
        if (inside) {
            /* the field's keys of this partition, with their counts */
            put32(lo, part);
            memset(lo + 4, 0, kl - 4);
            k = (MDB_val){ kl, lo };
            for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !g->c.nomem;
                 rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
                size_t cnt;
                if (k.mv_size != kl) {
                    code = cg_sq_badkey(st, ix, k.mv_size);
                    goto out;
                }
                if (get32(k.mv_data) != part)
                    break;
                if ((rc = mdb_cursor_count(cur, &cnt)) != 0)
                    break;
                counts_add(&g->c, (const uint8_t *)k.mv_data + 4, cnt);
            }
        } else {
            /* on the edge: its records, checked one by one */
            put64(key, first);
            k = (MDB_val){ 8, key };
            for (rc = mdb_cursor_get(ic, &k, &v, MDB_SET_RANGE); rc == 0 && !g->c.nomem;
                 rc = mdb_cursor_get(ic, &k, &v, MDB_NEXT)) {
                const char *why;
                uint64_t id, t;
                if (k.mv_size != 8) {
                    code = cgs_fail(st, CG_ECORRUPT, "incidents: a key of %zu bytes", k.mv_size);
                    goto out;
                }
                id = get64(k.mv_data);
                if (part_of(id) != part)
                    break;
                if (cgs_inc_peek(v.mv_data, v.mv_size, id, &why)) {
                    code = cgs_bad_record(st, "incident", id, why);
                    goto out;
                }
                t = get64((const uint8_t *)v.mv_data + OFF_FIRST);
                if (t >= p.t_lo && t <= p.t_hi)
                    each_group(g, id, v.mv_data, v.mv_size, NULL);
            }
        }
        if (rc && rc != MDB_NOTFOUND) {
            code = cgs_fail_mdb(st, rc, inside ? cgs_ix[ix].name : "incidents");
            goto out;
        }
    }
    if (code == 1)
        code = 0;
out:
    if (ic)
        mdb_cursor_close(ic);
    if (cur)
        mdb_cursor_close(cur);
    return code;
}

int cg_store_top(cg_store *st, const cg_query *q, int field, cg_store_group *out, size_t n,
                 size_t *nout)
{
    struct grouping g;
    struct plan p;
    struct ent *top = NULL;
    MDB_txn *txn;
    size_t nt = 0;
    int code;

    if (!st || (!out && n) || !nout || field < CG_F_SRC || field > CG_F_STATUS)
        return CG_EINVAL;
    if (!q)
        q = &cg_sq_all_q;
    memset(&g, 0, sizeof g);
    g.field = field;
    g.c.kl = cgs_ix[fields[field].ix].keylen;
    if (n && !(top = calloc(n, sizeof *top)))
        return cgs_fail(st, CG_ENOMEM, "out of memory");
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        goto out;
    if (q->has == 0 && !q->match)
        code = group_index(st, txn, fields[field].ix, &g.c);
    else if (!q->match && !(q->has & ~(unsigned)(CG_Q_SINCE | CG_Q_UNTIL)) &&
             cg_sq_parted(fields[field].ix))
        code = group_by_time(st, txn, q, field, &g);
    else if ((code = cg_sq_plan(st, txn, q, 0, &p)) == 0)
        code = cg_sq_walk(st, txn, q, &p, 0, 0, each_group, &g);
    mdb_txn_abort(txn);
    if (!code && g.c.nomem)
        code = cgs_fail(st, CG_ENOMEM, "out of memory");
    if (code)
        goto out;
    for (size_t i = 0; i < g.c.cap; i++)
        if (g.c.e[i].n)
            top_offer(top, n, &nt, &g.c.e[i], g.c.kl);
    for (size_t i = 0; i < nt; i++) {
        group_value(field, top[i].k, &out[i]);
        out[i].count = top[i].n;
    }
    *nout = nt;
out:
    free(g.c.e);
    free(top);
    return code;
}

/* ---- histograms ------------------------------------------------------------------------------------ */

struct hist {
    uint64_t bucket_us;
    struct counts c;
};

static int each_hist(void *ctx, uint64_t id, const uint8_t *rec, size_t len, const cg_incident *inc)
{
    struct hist *h = ctx;
    uint8_t k[8];

    (void)id, (void)len, (void)inc;
    put64(k, get64(rec + OFF_FIRST) / h->bucket_us);
    counts_add(&h->c, k, 1);
    return h->c.nomem;
}

static int cmp_ent(const void *a, const void *b)
{
    return memcmp(((const struct ent *)a)->k, ((const struct ent *)b)->k, 8);
}

/* Only a time range (or nothing): the keys of by_time are the times, in
 * order, each with its count; buckets come out in order as they fill. */
static int hist_index(const cg_store *st, MDB_txn *txn, const struct cand *c, uint64_t bucket_us,
                      int (*cb)(uint64_t, uint64_t, void *), void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t lo[8];
    uint64_t cur_b = 0, n = 0;
    int rc, code = 0, stop = 0;

    rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + IX_TIME], &cur);
    if (rc)
        return cgs_fail_mdb(st, rc, "by_time");
    put64(lo, 0);
    k = (MDB_val){ 8, c ? (void *)c->lo[0] : lo };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
        size_t cnt;
        uint64_t b;
        if (k.mv_size != 8) {
            code = cg_sq_badkey(st, IX_TIME, k.mv_size);
            break;
        }
        if (c && memcmp(k.mv_data, c->hi[0], 8) > 0)
            break;
        if ((rc = mdb_cursor_count(cur, &cnt)) != 0)
            break;
        b = get64(k.mv_data) / bucket_us;
        if (n && b != cur_b) {
            if ((stop = cb(cur_b * bucket_us, n, arg)) != 0)
                break;
            n = 0;
        }
        cur_b = b;
        n += cnt;
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = cgs_fail_mdb(st, rc, "by_time");
    if (!code && !stop && n)
        cb(cur_b * bucket_us, n, arg);
    mdb_cursor_close(cur);
    return code;
}

int cg_store_histogram(cg_store *st, const cg_query *q, uint64_t bucket_us,
                       int (*cb)(uint64_t start_us, uint64_t count, void *arg), void *arg)
{
    struct hist h;
    struct plan p;
    MDB_txn *txn;
    int code;

    if (!st || !cb || bucket_us == 0)
        return CG_EINVAL;
    if (!q)
        q = &cg_sq_all_q;
    memset(&h, 0, sizeof h);
    h.bucket_us = bucket_us;
    h.c.kl = 8;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    if ((code = cg_sq_build(st, q, &p)) != 0 || p.mode == P_EMPTY)
        goto out;
    if (!p.record_only && (p.nc == 0 || (p.nc == 1 && p.c[0].ix == IX_TIME))) {
        code = hist_index(st, txn, p.nc ? &p.c[0] : NULL, bucket_us, cb, arg);
        goto out;
    }
    if ((code = cg_sq_plan(st, txn, q, 0, &p)) == 0)
        code = cg_sq_walk(st, txn, q, &p, 0, 0, each_hist, &h);
    if (!code && h.c.nomem)
        code = cgs_fail(st, CG_ENOMEM, "out of memory");
    if (code)
        goto out;
    /* the table compacted to its front, in bucket order */
    {
        size_t m = 0;
        for (size_t i = 0; i < h.c.cap; i++)
            if (h.c.e[i].n)
                h.c.e[m++] = h.c.e[i];
        if (m)
            qsort(h.c.e, m, sizeof *h.c.e, cmp_ent);
        for (size_t i = 0; i < m; i++)
            if (cb(get64(h.c.e[i].k) * bucket_us, h.c.e[i].n, arg))
                break;
    }
out:
    mdb_txn_abort(txn);
    free(h.c.e);
    return code;
}

/* ---- attacks --------------------------------------------------------------------------------------- */

/* The attacks of a walk newest first. An incident's attack id is at most its
 * own id (store_attack.c, invariant 1), so once the walk has handed out
 * incident i, every attack with an id >= i has all its matching incidents
 * counted: those attacks are given out then, the highest first, and
 * forgotten. The open ones are slots of g, found by attack id in an open
 * addressing table (map: slot + 1, 0 empty) and ordered in a max-heap. */
struct attacks {
    cg_store_attack *g;
    uint32_t *freel; /* free slots */
    size_t ng, nfree, cap;
    uint32_t *map;
    size_t mapcap; /* a power of two, at least twice cap */
    uint32_t *heap;
    size_t nheap;
    uint64_t limit, given;
    int stopped, nomem;
    int (*cb)(const cg_store_attack *a, void *arg);
    void *arg;
};

static size_t amap_home(const struct attacks *t, uint64_t attack)
{
    uint64_t h = attack * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ h >> 32) & (t->mapcap - 1);
}

static void amap_insert(struct attacks *t, uint32_t slot)
{
    size_t i = amap_home(t, t->g[slot].attack_id);

    while (t->map[i])
        i = (i + 1) & (t->mapcap - 1);
    t->map[i] = slot + 1;
}

/* The slot of attack, or -1. */
static long amap_find(const struct attacks *t, uint64_t attack, size_t *at)
{
    if (!t->mapcap)
        return -1;
    for (size_t i = amap_home(t, attack); t->map[i]; i = (i + 1) & (t->mapcap - 1))
        if (t->g[t->map[i] - 1].attack_id == attack) {
            *at = i;
            return (long)t->map[i] - 1;
        }
    return -1;
}

/* Removes the entry at i, shifting back the entries of its run. */
static void amap_delete(struct attacks *t, size_t i)
{
    size_t j = i;

    t->map[i] = 0;
    for (;;) {
        size_t home;
        j = (j + 1) & (t->mapcap - 1);
        if (!t->map[j])
            return;
        home = amap_home(t, t->g[t->map[j] - 1].attack_id);
        /* the entry at j may move to i when i lies on its probe path */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            t->map[i] = t->map[j];
            t->map[j] = 0;
            i = j;
        }
    }
}

static int agrow(struct attacks *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    cg_store_attack *g = realloc(t->g, cap * sizeof *g);
    uint32_t *fl, *hp, *mp;

    if (!g)
        return -1;
    t->g = g;
    if (!(fl = realloc(t->freel, cap * sizeof *fl)))
        return -1;
    t->freel = fl;
    if (!(hp = realloc(t->heap, cap * sizeof *hp)))
        return -1;
    t->heap = hp;
    if (!(mp = calloc(cap * 2, sizeof *mp)))
        return -1;
    free(t->map);
    t->map = mp;
    t->mapcap = cap * 2;
    for (size_t i = t->cap; i < cap; i++)
        t->freel[t->nfree++] = (uint32_t)(cap - 1 - (i - t->cap));
    t->cap = cap;
    /* rehash the open slots (those in the heap) */
    for (size_t i = 0; i < t->nheap; i++)
        amap_insert(t, t->heap[i]);
    return 0;
}

static void heap_up(struct attacks *t, size_t i)
{
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (t->g[t->heap[up]].attack_id >= t->g[t->heap[i]].attack_id)
            break;
        uint32_t s = t->heap[up];
        t->heap[up] = t->heap[i];
        t->heap[i] = s;
        i = up;
    }
}

static void heap_down(struct attacks *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->nheap && t->g[t->heap[l]].attack_id > t->g[t->heap[m]].attack_id)
            m = l;
        if (r < t->nheap && t->g[t->heap[r]].attack_id > t->g[t->heap[m]].attack_id)
            m = r;
        if (m == i)
            return;
        uint32_t s = t->heap[m];
        t->heap[m] = t->heap[i];
        t->heap[i] = s;
        i = m;
    }
}

/* Gives out the open attacks with ids >= from, highest first. */
static void attacks_emit(struct attacks *t, uint64_t from)
{
    while (t->nheap && !t->stopped && t->g[t->heap[0]].attack_id >= from) {
        uint32_t slot = t->heap[0];
        cg_store_attack *a = &t->g[slot];
        size_t at = 0;
        t->heap[0] = t->heap[--t->nheap];
        heap_down(t, 0);
        if (t->cb(a, t->arg) || (t->limit && ++t->given >= t->limit))
            t->stopped = 1;
        if (amap_find(t, a->attack_id, &at) >= 0)
            amap_delete(t, at);
        t->freel[t->nfree++] = slot;
    }
}

static int each_attack(void *ctx, uint64_t id, const uint8_t *rec, size_t len,
                       const cg_incident *inc)
{
    struct attacks *t = ctx;
    uint64_t attack = cgs_rec_attack(rec), cnt = get64(rec + OFF_COUNT);
    uint64_t first = get64(rec + OFF_FIRST), last = get64(rec + OFF_LAST);
    uint32_t gid = get32(rec + OFF_GID), sid = get32(rec + OFF_SID);
    cg_store_attack *a;
    size_t at;
    long slot;
    uint32_t i;

    (void)len, (void)inc;
    slot = amap_find(t, attack, &at);
    if (slot < 0) {
        if (t->nfree == 0 && agrow(t)) {
            t->nomem = 1;
            return 1;
        }
        slot = t->freel[--t->nfree];
        a = &t->g[slot];
        memset(a, 0, sizeof *a);
        a->attack_id = attack;
        a->first_us = first;
        a->last_us = last;
        memcpy(a->src, rec + OFF_SRC, 16);
        memcpy(a->dst, rec + OFF_DST, 16);
        a->severity = rec[OFF_SEV];
        amap_insert(t, (uint32_t)slot);
        t->heap[t->nheap++] = (uint32_t)slot;
        heap_up(t, t->nheap - 1);
    }
    a = &t->g[slot];
    /* the walk goes newest first: the pair shown is that of the oldest
     * matching incident (the attack's first, when it matches) */
    memcpy(a->src, rec + OFF_SRC, 16);
    memcpy(a->dst, rec + OFF_DST, 16);
    if (first < a->first_us)
        a->first_us = first;
    if (last > a->last_us)
        a->last_us = last;
    if (rec[OFF_SEV] < a->severity)
        a->severity = rec[OFF_SEV];
    a->incidents++;
    a->alerts = cnt > UINT64_MAX - a->alerts ? UINT64_MAX : a->alerts + cnt;
    for (i = 0; i < a->nsigs; i++)
        if (a->sigs[i].sid == sid && a->sigs[i].gid == gid)
            break;
    if (i == a->nsigs) {
        /* an older incident's signature goes first; past CG_ATTACK_SIGS the
         * newest one listed makes room (the oldest ones are kept) */
        if (a->nsigs < CG_ATTACK_SIGS)
            a->nsigs++;
        else
            a->more_sigs = 1;
        memmove(a->sigs + 1, a->sigs, (a->nsigs - 1) * sizeof a->sigs[0]);
        a->sigs[0].gid = gid;
        a->sigs[0].sid = sid;
    } else if (i > 0) {
        /* seen again in an older incident: it moves up to its oldest place */
        uint32_t g0 = a->sigs[i].gid, s0 = a->sigs[i].sid;
        memmove(a->sigs + 1, a->sigs, i * sizeof a->sigs[0]);
        a->sigs[0].gid = g0;
        a->sigs[0].sid = s0;
    }
    attacks_emit(t, id);
    return t->stopped;
}

int cg_store_attacks(cg_store *st, const cg_query *q, uint64_t limit,
                     int (*cb)(const cg_store_attack *a, void *arg), void *arg)
{
    struct attacks t;
    struct plan p;
    MDB_txn *txn;
    int code;

    if (!st || !cb)
        return CG_EINVAL;
    if (st->schema < 3)
        return cgs_fail(st, CG_EOLDER,
                        "a store of schema %u has no attacks yet: they are assigned when "
                        "canhgac run or a triage command (incident set, incident note) opens it",
                        st->schema);
    if (!q)
        q = &cg_sq_all_q;
    memset(&t, 0, sizeof t);
    t.limit = limit;
    t.cb = cb;
    t.arg = arg;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    if ((code = cg_sq_plan(st, txn, q, 0, &p)) == 0)
        code = cg_sq_walk(st, txn, q, &p, 0, 0, each_attack, &t);
    if (!code && t.nomem)
        code = cgs_fail(st, CG_ENOMEM, "out of memory");
    if (!code)
        attacks_emit(&t, 0); /* the walk's end: every open attack is complete */
    mdb_txn_abort(txn);
    free(t.g);
    free(t.freel);
    free(t.map);
    free(t.heap);
    return code;
}
