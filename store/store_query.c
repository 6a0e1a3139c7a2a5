/* store_query.c — queries and aggregations over the indexes: the planner,
 * the ways to produce the matching ids newest first, and what is done with
 * them (a page of results, a count, top-N, a histogram).
 *
 * The planner:
 *  1. Each filter that an index answers becomes a candidate: a list of key
 *     ranges of that index's field (a CIDR is one range of by_src; "severity
 *     <= 2" the range 0..2 of by_sev; statuses one key each). The other
 *     filters (port, sport, gid alone, an unknown country or AS, no
 *     assignee) are only checked on records. A time filter also narrows the
 *     partitions read (store_rec.c: Partitions) to those whose span of
 *     first_us meets it.
 *  2. Estimate: with two candidates or more, each one's entries are counted
 *     from its index. A whole index is walked key by key, each key giving
 *     LMDB's count of its ids, the cheap ones first and each walk cut off
 *     once it passes C_LOAD times the smallest so far (past that it could not
 *     serve in step 3 either). A partitioned index is counted in its SAMPLE
 *     newest partitions of the time range and scaled to all of them. The
 *     smallest candidate drives.
 *  3. How the driver yields ids, newest first:
 *       parts    a partitioned index: partition by partition from the
 *                newest, each one's ids set in a small bitmap and read
 *                downward; a page stops as soon as it is full;
 *       stream   a whole index and at most MAXK keys: a cursor per key,
 *                each walking its ids downward, merged;
 *       collect  a whole index's ranges (by_time): its ids in a set (a
 *                bitmap over the id space, or a sorted list while that is
 *                smaller), read downward;
 *       scan     no candidate, or the driver holds more than half of all
 *                incidents, or by_time drives and its partitions are fewer
 *                records than twice its entries: the incidents themselves,
 *                newest first, skipping the partitions outside the time
 *                range.
 *     A second candidate is collected into such a set too, and ids not in it
 *     are skipped before their record is read, when walking it costs less
 *     than the record reads it saves (a record read counts as C_LOAD index
 *     entries; a page of `limit` is expected to read limit * total / size of
 *     the second one).
 *  4. Each record is read and every filter checked on it (the Community ID
 *     by a lookup in by_community), then the caller's predicate (q->match)
 *     on the decoded record, except when the count or group-by asked for is
 *     exactly one index's: then no record is decoded in full. A predicate
 *     makes every plan read records, as a filter on records alone does.
 * Keyset paging: the cursor is the last id given out; the next page starts
 * below it in every one of the four ways (a seek, not a skip).
 *
 * Aggregations without a predicate take shortcuts where the indexes answer
 * alone: a count with one indexed filter sums index counts; top-N with no
 * filter counts the field's index keys; top-N over a time range alone
 * counts the keys of the partitions inside the range and reads records only
 * in the partitions on its edges; a histogram over a time range alone reads
 * by_time's keys.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXR   8     /* key ranges of one candidate (statuses: 5) */
#define MAXK   16    /* keys a stream merges */
#define C_LOAD 6     /* a record read costs about this many index entries walked */
#define SAMPLE 4     /* partitions counted to estimate a partitioned index */

struct cand {
    int ix;
    unsigned nr;
    uint8_t lo[MAXR][IX_KEYMAX], hi[MAXR][IX_KEYMAX];   /* of the field */
    uint64_t est;          /* entries counted (or scaled from a sample) */
    int known;             /* est is all of them (not cut off) */
    unsigned nkeys;        /* distinct keys seen (whole indexes) */
    uint8_t keys[MAXK][IX_KEYMAX];
};

enum { P_EMPTY, P_SCAN, P_STREAM, P_COLLECT, P_PARTS };

static const char *const mode_name[] = { "empty", "scan", "stream", "collect", "parts" };

struct plan {
    int mode;
    struct cand c[IX_N];
    unsigned nc;
    int drv, second;       /* indexes into c, or -1 */
    int record_only;       /* some filter is answered by records only */
    uint64_t total;        /* incidents */
    uint64_t maxid;        /* the highest id stored */
    int timed;             /* a time filter: t_lo <= first_us <= t_hi */
    uint64_t t_lo, t_hi;
    uint64_t nscope;       /* partitions that may hold a match */
    uint64_t nparts;       /* partitions in "parts" */
    int dense;             /* partitions 0 .. that of maxid all exist: step down one by one */
};

static int parted(int ix)
{
    return (cgs_ix[ix].flags & IXF_PART) != 0;
}

/* the stored key's and value's lengths */
static unsigned klen(int ix)
{
    return cgs_ix[ix].keylen + (parted(ix) ? 4 : 0);
}

static unsigned vlen(int ix)
{
    return parted(ix) ? 2 : 8;
}

/* Whether match() needs a record's strings (assignee, no Community ID), or
 * the caller's predicate the decoded record. */
static int needs_strings(const cg_query *q)
{
    return q->match || (q->has & CG_Q_ASSIGNEE) ||
           ((q->has & CG_Q_COMMUNITY) && !(q->community_id && q->community_id[0]));
}

/* match() on the fixed part of a record that cgs_inc_peek accepted, for
 * the walks of aggregations, when !needs_strings(q). */
static int match_raw(const cg_query *q, const uint8_t *r)
{
    unsigned has = q->has;
    uint64_t t = get64(r + OFF_FIRST);

    if ((has & CG_Q_SINCE) && t < q->since_us)
        return 0;
    if ((has & CG_Q_UNTIL) && t >= q->until_us)
        return 0;
    if ((has & CG_Q_SRC) && (memcmp(r + OFF_SRC, q->src_lo, 16) < 0 ||
                             memcmp(r + OFF_SRC, q->src_hi, 16) > 0))
        return 0;
    if ((has & CG_Q_DST) && (memcmp(r + OFF_DST, q->dst_lo, 16) < 0 ||
                             memcmp(r + OFF_DST, q->dst_hi, 16) > 0))
        return 0;
    if ((has & CG_Q_SID) && get32(r + OFF_SID) != q->sid)
        return 0;
    if ((has & CG_Q_GID) && get32(r + OFF_GID) != q->gid)
        return 0;
    if ((has & CG_Q_SEV) && r[OFF_SEV] > q->sev_max)
        return 0;
    if ((has & CG_Q_PORT) && get16(r + OFF_SPORT) != q->port && get16(r + OFF_DPORT) != q->port)
        return 0;
    if ((has & CG_Q_SPORT) && get16(r + OFF_SPORT) != q->sport)
        return 0;
    if ((has & CG_Q_DPORT) && get16(r + OFF_DPORT) != q->dport)
        return 0;
    if ((has & CG_Q_STATUS) && (r[OFF_STATUS] >= 32 || !(q->status_mask >> r[OFF_STATUS] & 1)))
        return 0;
    if ((has & CG_Q_SRC_CC) && (r[OFF_SRC_CC] != (uint8_t)q->src_cc[0] ||
                                r[OFF_SRC_CC + 1] != (uint8_t)(q->src_cc[0] ? q->src_cc[1] : 0)))
        return 0;
    if ((has & CG_Q_DST_CC) && (r[OFF_DST_CC] != (uint8_t)q->dst_cc[0] ||
                                r[OFF_DST_CC + 1] != (uint8_t)(q->dst_cc[0] ? q->dst_cc[1] : 0)))
        return 0;
    if ((has & CG_Q_SRC_ASN) && get32(r + OFF_SRC_ASN) != q->src_asn)
        return 0;
    if ((has & CG_Q_DST_ASN) && get32(r + OFF_DST_ASN) != q->dst_asn)
        return 0;
    if ((has & CG_Q_ATTACK) && cgs_rec_attack(r) != q->attack)
        return 0;
    return 1;
}

static int badkey(const cg_store *st, int ix, size_t n)
{
    return cgs_fail(st, CG_STORE_ECORRUPT, "%s: a key of %zu bytes", cgs_ix[ix].name, n);
}

static int badval(const cg_store *st, int ix, size_t n)
{
    return cgs_fail(st, CG_STORE_ECORRUPT, "%s: an id of %zu bytes", cgs_ix[ix].name, n);
}

/* ---- candidates ------------------------------------------------------------- */

static struct cand *add(struct plan *p, int ix)
{
    struct cand *c = &p->c[p->nc++];

    memset(c, 0, sizeof *c);
    c->ix = ix;
    return c;
}

static void range(struct cand *c, const uint8_t *lo, const uint8_t *hi)
{
    unsigned kl = cgs_ix[c->ix].keylen;

    memcpy(c->lo[c->nr], lo, kl);
    memcpy(c->hi[c->nr], hi, kl);
    c->nr++;
}

static void key1(struct plan *p, int ix, const uint8_t *k)
{
    range(add(p, ix), k, k);
}

static int cc_ok(const char *cc)
{
    return cc[0] == 0 || (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && cc[2] == 0);
}

/* The candidates of q (step 1). 0, or CG_STORE_EINVAL with a message. */
static int build(const cg_store *st, const cg_query *q, struct plan *p)
{
    unsigned has = q->has;
    uint8_t lo[IX_KEYMAX], hi[IX_KEYMAX];

    p->nc = 0;
    p->record_only = 0;
    p->mode = P_SCAN;
    p->drv = p->second = -1;
    p->timed = 0;
    p->nscope = 0;
    p->maxid = 0;
    if (((has & CG_Q_SRC) && memcmp(q->src_lo, q->src_hi, 16) > 0) ||
        ((has & CG_Q_DST) && memcmp(q->dst_lo, q->dst_hi, 16) > 0))
        return cgs_fail(st, CG_STORE_EINVAL, "query: address range with low above high");
    if (((has & CG_Q_SRC_CC) && !cc_ok(q->src_cc)) || ((has & CG_Q_DST_CC) && !cc_ok(q->dst_cc)))
        return cgs_fail(st, CG_STORE_EINVAL, "query: a country is two letters A-Z");
    if (has & (CG_Q_SINCE | CG_Q_UNTIL)) {
        uint64_t from = (has & CG_Q_SINCE) ? q->since_us : 0, to = UINT64_MAX;
        if (has & CG_Q_UNTIL) {
            if (q->until_us == 0 || q->until_us <= from) {
                p->mode = P_EMPTY;
                return 0;
            }
            to = q->until_us - 1;
        }
        put64(lo, from);
        put64(hi, to);
        range(add(p, IX_TIME), lo, hi);
        p->timed = 1;
        p->t_lo = from;
        p->t_hi = to;
    }
    if (has & CG_Q_SRC)
        range(add(p, IX_SRC), q->src_lo, q->src_hi);
    if (has & CG_Q_DST)
        range(add(p, IX_DST), q->dst_lo, q->dst_hi);
    if (has & CG_Q_SID) {
        int g = (has & CG_Q_GID) != 0;
        put32(lo, q->sid);
        put32(lo + 4, g ? q->gid : 0);
        put32(hi, q->sid);
        put32(hi + 4, g ? q->gid : UINT32_MAX);
        range(add(p, IX_SID), lo, hi);
    } else if (has & CG_Q_GID) {
        p->record_only = 1;
    }
    if (has & CG_Q_SEV) {
        lo[0] = 0;
        hi[0] = q->sev_max;
        range(add(p, IX_SEV), lo, hi);
    }
    if (has & CG_Q_STATUS) {
        struct cand *c = add(p, IX_STATUS);
        for (uint8_t s = 0; s < CG_ST_COUNT; s++)
            if (q->status_mask & (1u << s))
                range(c, &s, &s);
        if (c->nr == 0) {
            p->mode = P_EMPTY;
            return 0;
        }
    }
    if (has & CG_Q_SRC_CC) {
        if (q->src_cc[0])
            key1(p, IX_SRC_CC, (const uint8_t *)q->src_cc);
        else
            p->record_only = 1;
    }
    if (has & CG_Q_DST_CC) {
        if (q->dst_cc[0])
            key1(p, IX_DST_CC, (const uint8_t *)q->dst_cc);
        else
            p->record_only = 1;
    }
    if (has & CG_Q_SRC_ASN) {
        put32(lo, q->src_asn);
        if (q->src_asn)
            key1(p, IX_SRC_ASN, lo);
        else
            p->record_only = 1;
    }
    if (has & CG_Q_DST_ASN) {
        put32(lo, q->dst_asn);
        if (q->dst_asn)
            key1(p, IX_DST_ASN, lo);
        else
            p->record_only = 1;
    }
    if (has & CG_Q_DPORT) {
        put16(lo, q->dport);
        key1(p, IX_DPORT, lo);
    }
    if (has & CG_Q_COMMUNITY) {
        if (q->community_id && q->community_id[0]) {
            put64(lo, cgs_hash64(q->community_id));
            key1(p, IX_COMMUNITY, lo);
        } else {
            p->record_only = 1;
        }
    }
    if (has & CG_Q_ASSIGNEE) {
        if (q->assignee && q->assignee[0]) {
            put64(lo, cgs_hash64(q->assignee));
            key1(p, IX_ASSIGNEE, lo);
        } else {
            p->record_only = 1;
        }
    }
    if (has & CG_Q_ATTACK) {
        /* a store of schema 2 read as it is has no by_attack (no attacks either) */
        if (st->schema >= 3) {
            put64(lo, q->attack);
            key1(p, IX_ATTACK, lo);
        } else {
            p->record_only = 1;
        }
    }
    if ((has & (CG_Q_PORT | CG_Q_SPORT)) || q->match)
        p->record_only = 1;
    return 0;
}

/* Every filter of q on a decoded record but a Community ID (which the
 * caller looks up in by_community). */
static int match(const cg_query *q, const cg_incident *x)
{
    unsigned has = q->has;

    if ((has & CG_Q_SINCE) && x->first_us < q->since_us)
        return 0;
    if ((has & CG_Q_UNTIL) && x->first_us >= q->until_us)
        return 0;
    if ((has & CG_Q_SRC) && (memcmp(x->src, q->src_lo, 16) < 0 || memcmp(x->src, q->src_hi, 16) > 0))
        return 0;
    if ((has & CG_Q_DST) && (memcmp(x->dst, q->dst_lo, 16) < 0 || memcmp(x->dst, q->dst_hi, 16) > 0))
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
    if ((has & CG_Q_STATUS) && !(q->status_mask & (1u << x->status)))
        return 0;
    if ((has & CG_Q_SRC_CC) && strcmp(x->src_geo.country, q->src_cc) != 0)
        return 0;
    if ((has & CG_Q_DST_CC) && strcmp(x->dst_geo.country, q->dst_cc) != 0)
        return 0;
    if ((has & CG_Q_SRC_ASN) && x->src_geo.asn != q->src_asn)
        return 0;
    if ((has & CG_Q_DST_ASN) && x->dst_geo.asn != q->dst_asn)
        return 0;
    if ((has & CG_Q_ASSIGNEE) && strcmp(x->assignee, q->assignee ? q->assignee : "") != 0)
        return 0;
    if ((has & CG_Q_COMMUNITY) && !(q->community_id && q->community_id[0]) && x->community_id[0])
        return 0;
    if ((has & CG_Q_ATTACK) && x->attack_id != q->attack)
        return 0;
    return 1;
}

/* ---- partitions ------------------------------------------------------------------------------ */

static int maxid_of(const cg_store *st, MDB_txn *txn, uint64_t *out);

/* Whether partition `part` may hold incidents of the plan's time range: its
 * span in "parts" meets it, or there is no span that decodes (invariant 8). */
static int in_scope(const cg_store *st, MDB_txn *txn, const struct plan *p, uint32_t part)
{
    uint8_t key[4];
    MDB_val k = { 4, key }, v;

    if (!p->timed)
        return 1;
    put32(key, part);
    if (mdb_get(txn, st->dbi[DB_PARTS], &k, &v) != 0 || v.mv_size != 16)
        return 1;
    return !(get64((const uint8_t *)v.mv_data + 8) < p->t_lo || get64(v.mv_data) > p->t_hi);
}

/* The partitions in scope, from "parts" (for estimates only). */
static int count_scope(const cg_store *st, MDB_txn *txn, struct plan *p)
{
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_stat ms;
    int rc;

    p->nscope = 0;
    if (!p->timed) {
        rc = mdb_stat(txn, st->dbi[DB_PARTS], &ms);
        if (rc)
            return cgs_fail_mdb(st, rc, "parts");
        p->nscope = ms.ms_entries;
        return 0;
    }
    rc = mdb_cursor_open(txn, st->dbi[DB_PARTS], &cur);
    if (rc)
        return cgs_fail_mdb(st, rc, "parts");
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (v.mv_size != 16 || !(get64((const uint8_t *)v.mv_data + 8) < p->t_lo ||
                                 get64(v.mv_data) > p->t_hi))
            p->nscope++;
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return cgs_fail_mdb(st, rc, "parts");
    return 0;
}

/* The highest partition below `before` (exclusive; above UINT32_MAX: any)
 * that has a key in the partitioned index under cur: 1 with *out, 0 none,
 * or an error. */
static int part_below(const cg_store *st, MDB_cursor *cur, int ix, uint64_t before, uint32_t *out)
{
    uint8_t b[4];
    MDB_val k, v;
    int rc;

    if (before == 0)
        return 0;
    if (before > UINT32_MAX) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    } else {
        put32(b, (uint32_t)before);
        k = (MDB_val){ 4, b };
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return cgs_fail_mdb(st, rc, cgs_ix[ix].name);
    if (k.mv_size != klen(ix))
        return badkey(st, ix, k.mv_size);
    *out = get32(k.mv_data);
    return 1;
}

/* Partitions from the newest down. Ids are handed out in order, so the
 * partitions of a store are usually all of 0 .. that of its highest id
 * (dense): the next is then the one below, with no seek to find it; a store
 * with gaps (ids put by hand) seeks the next partition that has a key. */
struct piter {
    MDB_cursor *cur;
    int ix;
    int dense;
    uint64_t before;       /* the next partition is below this one */
};

static void piter_init(struct piter *it, const struct plan *p, MDB_cursor *cur, int ix,
                       uint64_t below)
{
    uint64_t top = (uint64_t)part_of(p->maxid) + 1;

    it->cur = cur;
    it->ix = ix;
    it->dense = p->dense;
    it->before = below ? (uint64_t)part_of(below - 1) + 1 : UINT64_MAX;
    if (it->before > top)
        it->before = top;
}

/* 1 and the next partition in *out, 0 at the end, or an error. */
static int piter_next(const cg_store *st, struct piter *it, uint32_t *out)
{
    int rc;

    if (it->before == 0)
        return 0;
    if (it->dense) {
        *out = (uint32_t)(it->before - 1);
        it->before--;
        return 1;
    }
    rc = part_below(st, it->cur, it->ix, it->before, out);
    if (rc == 1)
        it->before = *out;
    return rc;
}

/* What every plan needs to know of the store: its size, highest id and
 * partitions, and those a time filter leaves. */
static int plan_store(const cg_store *st, MDB_txn *txn, struct plan *p)
{
    MDB_stat ms;
    int rc, code;

    rc = mdb_stat(txn, st->dbi[DB_INC], &ms);
    if (rc)
        return cgs_fail_mdb(st, rc, "incidents");
    p->total = ms.ms_entries;
    rc = mdb_stat(txn, st->dbi[DB_PARTS], &ms);
    if (rc)
        return cgs_fail_mdb(st, rc, "parts");
    p->nparts = ms.ms_entries;
    if ((code = maxid_of(st, txn, &p->maxid)) != 0 || (code = count_scope(st, txn, p)) != 0)
        return code;
    p->dense = p->nparts * 2 > (uint64_t)part_of(p->maxid) + 1;
    return 0;
}

/* ---- walking one index ------------------------------------------------------------------------- */

/* Calls fn for each key of c's ranges, in partition `part` of a partitioned
 * index (ignored for a whole one), with LMDB's count of its ids, until fn
 * returns non-zero (then *stopped = 1). */
typedef int (*key_fn)(void *arg, const uint8_t *field, size_t n);

static int each_key(const cg_store *st, MDB_cursor *cur, const struct cand *c, uint32_t part,
                    key_fn fn, void *arg, int *stopped)
{
    unsigned fl = cgs_ix[c->ix].keylen, kl = klen(c->ix), pre = kl - fl;
    uint8_t lo[IX_STOREDMAX], hi[IX_STOREDMAX];
    MDB_val k, v;
    int rc;

    *stopped = 0;
    if (pre)
        put32(lo, part), put32(hi, part);
    for (unsigned r = 0; r < c->nr; r++) {
        memcpy(lo + pre, c->lo[r], fl);
        memcpy(hi + pre, c->hi[r], fl);
        k = (MDB_val){ kl, lo };
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
            size_t n;
            if (k.mv_size != kl)
                return badkey(st, c->ix, k.mv_size);
            if (memcmp(k.mv_data, hi, kl) > 0)
                break;
            if ((rc = mdb_cursor_count(cur, &n)) != 0)
                break;
            if (fn(arg, (const uint8_t *)k.mv_data + pre, n)) {
                *stopped = 1;
                return 0;
            }
        }
        if (rc && rc != MDB_NOTFOUND)
            return cgs_fail_mdb(st, rc, cgs_ix[c->ix].name);
    }
    return 0;
}

/* Calls fn for each id of c's ranges in partition `part` (whole index: all),
 * those below `below` when it is not 0, a page of ids at a time. */
typedef void (*id_fn)(void *arg, uint64_t id);

static int each_id(const cg_store *st, MDB_cursor *cur, const struct cand *c, uint32_t part,
                   uint64_t below, id_fn fn, void *arg)
{
    unsigned fl = cgs_ix[c->ix].keylen, kl = klen(c->ix), pre = kl - fl, vl = vlen(c->ix);
    uint8_t lo[IX_STOREDMAX], hi[IX_STOREDMAX];
    MDB_val k, v;
    int rc;

    if (pre)
        put32(lo, part), put32(hi, part);
    for (unsigned r = 0; r < c->nr; r++) {
        memcpy(lo + pre, c->lo[r], fl);
        memcpy(hi + pre, c->hi[r], fl);
        k = (MDB_val){ kl, lo };
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
            uint64_t base;
            if (k.mv_size != kl)
                return badkey(st, c->ix, k.mv_size);
            if (memcmp(k.mv_data, hi, kl) > 0)
                break;
            base = pre ? (uint64_t)get32(k.mv_data) << PART_SHIFT : 0;
            /* GET_MULTIPLE gives the first page of this key's ids (DUPFIXED),
             * or leaves v alone when the key has a single id */
            rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
            while (rc == 0) {
                const uint8_t *p = v.mv_data;
                if (v.mv_size % vl)
                    return badval(st, c->ix, v.mv_size);
                for (size_t i = 0; i < v.mv_size; i += vl) {
                    uint64_t id = base | (vl == 2 ? get16(p + i) : get64(p + i));
                    if (!below || id < below)
                        fn(arg, id);
                }
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
            }
            if (rc != MDB_NOTFOUND)
                break;
        }
        if (rc && rc != MDB_NOTFOUND)
            return cgs_fail_mdb(st, rc, cgs_ix[c->ix].name);
    }
    return 0;
}

/* ---- estimates ----------------------------------------------------------------------------------- */

struct kcount {
    struct cand *c;
    uint64_t cap;
    unsigned key_cap;
};

static int count_key(void *arg, const uint8_t *field, size_t n)
{
    struct kcount *kc = arg;
    struct cand *c = kc->c;

    c->est += n;
    if (c->nkeys < MAXK)
        memcpy(c->keys[c->nkeys], field, cgs_ix[c->ix].keylen);
    c->nkeys++;
    return c->est > kc->cap || c->nkeys >= kc->key_cap;
}

/* Counts c's entries (step 2). A whole index: all of them, stopping once
 * over cap or at key_cap distinct keys (c->known = 0 then), keeping the
 * first MAXK keys. A partitioned one: the SAMPLE newest partitions in scope,
 * scaled (all of them with `all`). */
static int estimate(const cg_store *st, MDB_txn *txn, const struct plan *p, struct cand *c,
                    uint64_t cap, unsigned key_cap, int all)
{
    struct kcount kc = { c, cap, key_cap };
    struct piter it;
    MDB_cursor *cur;
    uint64_t sampled = 0;
    uint32_t part;
    int rc, code, stopped = 0;

    c->est = 0;
    c->nkeys = 0;
    c->known = 1;
    rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + c->ix], &cur);
    if (rc)
        return cgs_fail_mdb(st, rc, cgs_ix[c->ix].name);
    if (!parted(c->ix)) {
        code = each_key(st, cur, c, 0, count_key, &kc, &stopped);
        c->known = !stopped;
        goto out;
    }
    kc.cap = UINT64_MAX;
    kc.key_cap = UINT32_MAX;
    piter_init(&it, p, cur, c->ix, 0);
    while ((code = piter_next(st, &it, &part)) == 1) {
        if (!in_scope(st, txn, p, part))
            continue;
        if ((code = each_key(st, cur, c, part, count_key, &kc, &stopped)) != 0)
            break;
        if (++sampled == SAMPLE && !all)
            break;
    }
    if (code == 1 && !all && sampled == SAMPLE && p->nscope > sampled)
        c->est = c->est * p->nscope / sampled;   /* scaled: more partitions than read */
    if (code == 1)
        code = 0;
out:
    mdb_cursor_close(cur);
    return code;
}

/* A candidate that is a few keys given in full (no range to walk). */
static int is_point(const struct cand *c)
{
    for (unsigned r = 0; r < c->nr; r++)
        if (memcmp(c->lo[r], c->hi[r], cgs_ix[c->ix].keylen) != 0)
            return 0;
    return 1;
}

/* The order candidates are estimated in: whole points (a seek per key),
 * partitioned ones (a sample), whole ranges, by_time last (its keys are
 * nearly one per incident: the dearest to walk). */
static int est_rank(const struct cand *c)
{
    if (c->ix == IX_TIME)
        return 3;
    if (parted(c->ix))
        return 1;
    return is_point(c) ? 0 : 2;
}

static int maxid_of(const cg_store *st, MDB_txn *txn, uint64_t *out)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    *out = 0;
    rc = mdb_cursor_open(txn, st->dbi[DB_INC], &cur);
    if (rc)
        return cgs_fail_mdb(st, rc, "incidents");
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8)
        *out = get64(k.mv_data);
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return cgs_fail_mdb(st, rc, "incidents");
    return 0;
}

/* Steps 1 to 3. limit: the page size (0: every match, as aggregations). */
static int plan(const cg_store *st, MDB_txn *txn, const cg_query *q, uint64_t limit, struct plan *p)
{
    struct cand *d;
    uint64_t best = UINT64_MAX, loads, scope_ids;   /* scope_ids: incidents in scope */
    int code;

    if ((code = build(st, q, p)) != 0 || p->mode == P_EMPTY)
        return code;
    if ((code = plan_store(st, txn, p)) != 0)
        return code;
    /* the incidents in the partitions in scope, at the average per partition */
    scope_ids = p->nparts ? p->nscope * (p->total / p->nparts + 1) : p->total;
    if (p->nc == 0) {
        p->mode = P_SCAN;
        return 0;
    }
    if (p->nc == 1) {
        /* nothing to choose from: only how it is read */
        d = &p->c[0];
        p->drv = 0;
        if (d->ix == IX_TIME)
            code = estimate(st, txn, p, d, scope_ids / 2, UINT32_MAX, 0);
        else if (!parted(d->ix))
            code = estimate(st, txn, p, d, UINT64_MAX, MAXK + 1, 0);
        else
            d->known = 0;   /* read by partitions whatever its size */
        if (code)
            return code;
    } else {
        for (int rank = 0; rank < 4; rank++)
            for (unsigned i = 0; i < p->nc; i++) {
                struct cand *c = &p->c[i];
                /* cut off where it could not even be the second (step 3) */
                uint64_t cap = best > UINT64_MAX / C_LOAD ? UINT64_MAX : best * C_LOAD;
                if (est_rank(c) != rank)
                    continue;
                if ((code = estimate(st, txn, p, c, cap, UINT32_MAX, 0)) != 0)
                    return code;
                if (c->known && c->est < best) {
                    best = c->est;
                    p->drv = (int)i;
                }
            }
        if (p->drv < 0)
            p->drv = 0;   /* every estimate cut off: the first (cheapest to read) */
        d = &p->c[p->drv];
    }
    if (d->known && d->est == 0 && !parted(d->ix)) {
        p->mode = P_EMPTY;
        return 0;
    }
    if (parted(d->ix))
        p->mode = P_PARTS;
    else if (d->known && d->nkeys <= MAXK)
        p->mode = P_STREAM;
    else if (d->ix == IX_TIME && p->timed && (!d->known || scope_ids < 2 * d->est))
        p->mode = P_SCAN;   /* its partitions hold few others */
    else if (d->known && d->est > p->total / 2)
        p->mode = P_SCAN;
    else
        p->mode = P_COLLECT;
    /* a second index to skip ids with, when that is cheaper (step 3) */
    if (p->mode == P_SCAN || !d->known)
        return 0;
    for (unsigned i = 0; i < p->nc; i++) {
        struct cand *c = &p->c[i];
        if ((int)i == p->drv || !c->known)
            continue;
        if (p->second < 0 || c->est < p->c[p->second].est)
            p->second = (int)i;
    }
    if (p->second < 0)
        return 0;
    loads = d->est;
    if (limit) {
        uint64_t s = p->c[p->second].est ? p->c[p->second].est : 1;
        uint64_t expect = limit > UINT64_MAX / (p->total + 1) ? UINT64_MAX : limit * p->total / s;
        if (expect < loads)
            loads = expect;
    }
    if (p->c[p->second].est / C_LOAD >= loads)
        p->second = -1;
    return 0;
}

/* ---- id sets ------------------------------------------------------------------- */

/* A set of ids: a sorted list while it takes less room than a bitmap of the
 * id space would (ids far apart, or few of them), a bitmap from then on (no
 * sort, no duplicates). Filled with bits_set, then bits_done. */
struct bits {
    uint64_t *w;           /* the bitmap, once there is one */
    uint64_t nbits;        /* ids 0 .. nbits - 1 */
    uint64_t *v;           /* the list, before */
    size_t n, cap;
    int nomem;
};

static void bits_init(struct bits *b, uint64_t maxid)
{
    memset(b, 0, sizeof *b);
    b->nbits = maxid + 1;
}

static void bits_free(struct bits *b)
{
    free(b->w);
    free(b->v);
    b->w = b->v = NULL;
}

static void bits_set(void *arg, uint64_t id)
{
    struct bits *b = arg;

    if (id >= b->nbits || b->nomem)
        return;
    if (b->w) {
        b->w[id >> 6] |= (uint64_t)1 << (id & 63);
        return;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        uint64_t *v;
        if ((uint64_t)cap * 64 >= b->nbits) {
            /* a bitmap is smaller now */
            b->w = calloc((size_t)((b->nbits + 63) / 64), sizeof *b->w);
            if (!b->w) {
                b->nomem = 1;
                return;
            }
            for (size_t i = 0; i < b->n; i++)
                b->w[b->v[i] >> 6] |= (uint64_t)1 << (b->v[i] & 63);
            free(b->v);
            b->v = NULL;
            b->n = b->cap = 0;
            b->w[id >> 6] |= (uint64_t)1 << (id & 63);
            return;
        }
        v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            b->nomem = 1;
            return;
        }
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Ends the filling: 0, or -1 when memory ran out. */
static int bits_done(struct bits *b)
{
    size_t m = 0;

    if (b->nomem)
        return -1;
    if (b->w || b->n == 0)
        return 0;
    qsort(b->v, b->n, sizeof *b->v, cmp_u64);
    for (size_t i = 0; i < b->n; i++)
        if (i == 0 || b->v[i] != b->v[m - 1])
            b->v[m++] = b->v[i];
    b->n = m;
    return 0;
}

/* The number of ids in the list <= id. */
static size_t list_upto(const struct bits *b, uint64_t id)
{
    size_t lo = 0, hi = b->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->v[mid] <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int bits_test(const struct bits *b, uint64_t id)
{
    size_t i;

    if (id >= b->nbits)
        return 0;
    if (b->w)
        return b->w[id >> 6] >> (id & 63) & 1;
    i = list_upto(b, id);
    return i > 0 && b->v[i - 1] == id;
}

/* The highest id in the set that is <= from, or 0 (no incident has id 0). */
static uint64_t bits_prev(const struct bits *b, uint64_t from)
{
    uint64_t i, w;

    if (from >= b->nbits)
        from = b->nbits - 1;
    if (!b->w) {
        size_t k = list_upto(b, from);
        return k ? b->v[k - 1] : 0;
    }
    i = from >> 6;
    w = b->w[i] & (~(uint64_t)0 >> (63 - (from & 63)));
    for (;;) {
        if (w)
            return i * 64 + 63 - (uint64_t)__builtin_clzll(w);
        if (i == 0)
            return 0;
        w = b->w[--i];
    }
}

/* Sets the ids of c's entries (in the partitions in scope). */
static int collect(const cg_store *st, MDB_txn *txn, const struct plan *p, const struct cand *c,
                   struct bits *b)
{
    struct piter it;
    MDB_cursor *cur;
    uint32_t part;
    int rc, code;

    rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + c->ix], &cur);
    if (rc)
        return cgs_fail_mdb(st, rc, cgs_ix[c->ix].name);
    if (!parted(c->ix)) {
        code = each_id(st, cur, c, 0, 0, bits_set, b);
    } else {
        piter_init(&it, p, cur, c->ix, 0);
        while ((code = piter_next(st, &it, &part)) == 1) {
            if (in_scope(st, txn, p, part) &&
                (code = each_id(st, cur, c, part, 0, bits_set, b)) != 0)
                break;
        }
        if (code == 1)
            code = 0;
    }
    mdb_cursor_close(cur);
    if (!code && bits_done(b))
        code = cgs_fail(st, CG_STORE_EIO, "%s", strerror(ENOMEM));
    return code;
}

/* ---- the ids of a plan, newest first ----------------------------------------------- */

struct src {
    int mode;
    uint64_t below;        /* ids given out are < below; 0 = no bound */
    const struct plan *p;
    MDB_txn *txn;
    /* P_STREAM: a cursor per key and the id it is at (0 = done) */
    MDB_cursor *cur[MAXK];
    uint64_t head[MAXK];
    unsigned k;
    int ix;
    /* P_COLLECT */
    struct bits b;
    /* P_PARTS: the partition being read, as a bitmap of its ids */
    MDB_cursor *pc;
    struct piter it;
    uint64_t pbase;        /* the first id of the partition read */
    uint64_t local[PART_IDS / 64];
    int have_part;
    /* P_SCAN */
    MDB_cursor *scan;
    int started;
    uint32_t scan_part;
    int scan_in;           /* scan_part is in scope */
};

static void src_close(struct src *s)
{
    for (unsigned i = 0; i < s->k; i++)
        mdb_cursor_close(s->cur[i]);
    s->k = 0;
    if (s->scan)
        mdb_cursor_close(s->scan);
    s->scan = NULL;
    if (s->pc)
        mdb_cursor_close(s->pc);
    s->pc = NULL;
    bits_free(&s->b);
}

/* The id under a stream cursor, after a move that returned rc. */
static int head_of(const cg_store *st, struct src *s, unsigned i, int rc, const MDB_val *v)
{
    if (rc == MDB_NOTFOUND) {
        s->head[i] = 0;
        return 0;
    }
    if (rc)
        return cgs_fail_mdb(st, rc, cgs_ix[s->ix].name);
    if (v->mv_size != 8)
        return badval(st, s->ix, v->mv_size);
    s->head[i] = get64(v->mv_data);
    return 0;
}

static void local_set(void *arg, uint64_t id)
{
    struct src *s = arg;
    uint64_t off = id - s->pbase;

    if (off < PART_IDS)
        s->local[off >> 6] |= (uint64_t)1 << (off & 63);
}

static int src_open(const cg_store *st, MDB_txn *txn, const struct plan *p, uint64_t below,
                    struct src *s)
{
    const struct cand *d = p->drv >= 0 ? &p->c[p->drv] : NULL;
    MDB_val k, v;
    uint8_t bb[8];
    int rc;

    memset(s, 0, sizeof *s);
    s->mode = p->mode;
    s->below = below;
    s->p = p;
    s->txn = txn;
    if (s->mode == P_SCAN) {
        rc = mdb_cursor_open(txn, st->dbi[DB_INC], &s->scan);
        if (rc) {
            s->scan = NULL;
            return cgs_fail_mdb(st, rc, "incidents");
        }
        return 0;
    }
    if (s->mode == P_COLLECT) {
        bits_init(&s->b, p->maxid);
        return collect(st, txn, p, d, &s->b);
    }
    s->ix = d->ix;
    if (s->mode == P_PARTS) {
        rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + d->ix], &s->pc);
        if (rc) {
            s->pc = NULL;
            return cgs_fail_mdb(st, rc, cgs_ix[d->ix].name);
        }
        piter_init(&s->it, p, s->pc, d->ix, below);
        return 0;
    }
    /* P_STREAM */
    put64(bb, below);
    for (unsigned i = 0; i < d->nkeys; i++) {
        rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + d->ix], &s->cur[i]);
        if (rc)
            return cgs_fail_mdb(st, rc, cgs_ix[d->ix].name);
        s->k = i + 1;
        k = (MDB_val){ cgs_ix[d->ix].keylen, (void *)d->keys[i] };
        if (below) {
            /* the first id >= below, then one down; none >= below: the last */
            v = (MDB_val){ 8, bb };
            rc = mdb_cursor_get(s->cur[i], &k, &v, MDB_GET_BOTH_RANGE);
            if (rc == 0) {
                rc = mdb_cursor_get(s->cur[i], &k, &v, MDB_PREV_DUP);
            } else if (rc == MDB_NOTFOUND) {
                k = (MDB_val){ cgs_ix[d->ix].keylen, (void *)d->keys[i] };
                rc = mdb_cursor_get(s->cur[i], &k, &v, MDB_SET_KEY);
                if (rc == 0)
                    rc = mdb_cursor_get(s->cur[i], &k, &v, MDB_LAST_DUP);
            }
        } else {
            rc = mdb_cursor_get(s->cur[i], &k, &v, MDB_SET_KEY);
            if (rc == 0)
                rc = mdb_cursor_get(s->cur[i], &k, &v, MDB_LAST_DUP);
        }
        if ((rc = head_of(st, s, i, rc, &v)) != 0)
            return rc;
    }
    return 0;
}

/* P_SCAN: the next record below the cursor's, over partitions out of scope. */
static int scan_step(const cg_store *st, struct src *s, MDB_val *k, MDB_val *v)
{
    uint8_t key[8];
    int rc;

    if (!s->started) {
        s->started = 1;
        if (s->below) {
            put64(key, s->below);
            *k = (MDB_val){ 8, key };
            rc = mdb_cursor_get(s->scan, k, v, MDB_SET_RANGE);
            if (rc == 0)
                rc = mdb_cursor_get(s->scan, k, v, MDB_PREV);
            else if (rc == MDB_NOTFOUND)
                rc = mdb_cursor_get(s->scan, k, v, MDB_LAST);
        } else {
            rc = mdb_cursor_get(s->scan, k, v, MDB_LAST);
        }
    } else {
        rc = mdb_cursor_get(s->scan, k, v, MDB_PREV);
    }
    while (rc == 0 && s->p->timed) {
        uint32_t part;
        if (k->mv_size != 8)
            break;
        part = part_of(get64(k->mv_data));
        if (!s->scan_in || part != s->scan_part) {
            s->scan_part = part;
            s->scan_in = in_scope(st, s->txn, s->p, part) ? 1 : 0;
        }
        if (s->scan_in)
            break;
        /* out of scope: on to the last record of an earlier partition */
        s->scan_in = 0;
        if (part == 0)
            return MDB_NOTFOUND;
        put64(key, (uint64_t)part << PART_SHIFT);
        *k = (MDB_val){ 8, key };
        rc = mdb_cursor_get(s->scan, k, v, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get(s->scan, k, v, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(s->scan, k, v, MDB_LAST);
    }
    return rc;
}

/* The next id (1), the end (0), or an error (< 0). In P_SCAN *rec is the
 * record too. */
static int src_next(const cg_store *st, struct src *s, uint64_t *id, MDB_val *rec)
{
    MDB_val k, v;
    int rc;

    if (s->mode == P_SCAN) {
        rc = scan_step(st, s, &k, &v);
        if (rc == MDB_NOTFOUND)
            return 0;
        if (rc)
            return cgs_fail_mdb(st, rc, "incidents");
        if (k.mv_size != 8)
            return cgs_fail(st, CG_STORE_ECORRUPT, "incidents: a key of %zu bytes", k.mv_size);
        *id = get64(k.mv_data);
        *rec = v;
        return 1;
    }
    if (s->mode == P_COLLECT) {
        uint64_t from = s->below ? s->below - 1 : UINT64_MAX, got;
        if (from == 0)
            return 0;
        got = bits_prev(&s->b, from);
        if (!got)
            return 0;
        s->below = got;
        *id = got;
        return 1;
    }
    if (s->mode == P_PARTS) {
        const struct cand *d = &s->p->c[s->p->drv];
        for (;;) {
            uint32_t part;
            if (s->have_part) {
                for (int i = (int)(PART_IDS / 64) - 1; i >= 0; i--) {
                    uint64_t w = s->local[i];
                    if (w) {
                        unsigned bit = 63 - (unsigned)__builtin_clzll(w);
                        s->local[i] &= ~((uint64_t)1 << bit);
                        *id = s->pbase + (uint64_t)i * 64 + bit;
                        return 1;
                    }
                }
                s->have_part = 0;
            }
            rc = piter_next(st, &s->it, &part);
            if (rc <= 0)
                return rc;
            if (!in_scope(st, s->txn, s->p, part))
                continue;
            memset(s->local, 0, sizeof s->local);
            s->pbase = (uint64_t)part << PART_SHIFT;
            if ((rc = each_id(st, s->pc, d, part, s->below, local_set, s)) != 0)
                return rc;
            s->have_part = 1;
        }
    }
    /* P_STREAM: the largest head; ids below the cursor only */
    for (;;) {
        unsigned m = 0;
        for (unsigned i = 1; i < s->k; i++)
            if (s->head[i] > s->head[m])
                m = i;
        if (s->k == 0 || s->head[m] == 0)
            return 0;
        *id = s->head[m];
        rc = mdb_cursor_get(s->cur[m], &k, &v, MDB_PREV_DUP);
        if ((rc = head_of(st, s, m, rc, &v)) != 0)
            return rc;
        if (s->below && *id >= s->below)
            continue;   /* a damaged index out of order: never give an id twice */
        s->below = *id;
        return 1;
    }
}

/* ---- the walk ----------------------------------------------------------------------- */

/* What the walk hands on: the raw record (always), and the decoded one when
 * it was decoded. */
typedef int (*each_fn)(void *ctx, uint64_t id, const uint8_t *rec, size_t len,
                       const cg_incident *inc);

/* Whether id is under the query's Community ID in by_community. */
static int in_community(const cg_store *st, MDB_cursor *cc, const cg_query *q, uint64_t id, int *yes)
{
    unsigned fl = cgs_ix[IX_COMMUNITY].flags;
    uint8_t f[8], hk[IX_STOREDMAX], val[8];
    MDB_val k, v;
    int rc;

    put64(f, cgs_hash64(q->community_id));
    k = (MDB_val){ ix_stored_key(fl, id, f, 8, hk), hk };
    v = (MDB_val){ ix_value(fl, id, val), val };
    rc = mdb_cursor_get(cc, &k, &v, MDB_GET_BOTH);
    *yes = rc == 0;
    if (rc && rc != MDB_NOTFOUND)
        return cgs_fail_mdb(st, rc, "by_community");
    return 0;
}

/* Walks the incidents of plan p below `below`, newest first, handing each
 * match to each() until it returns non-zero. decode: each() wants the
 * decoded record; records are decoded and checked anyway unless the plan's
 * driver alone is the query (exact). */
static int walk(const cg_store *st, MDB_txn *txn, const cg_query *q, const struct plan *p,
                uint64_t below, int decode, each_fn each, void *ctx)
{
    struct src s;
    struct bits second;
    MDB_cursor *ic = NULL, *cc = NULL;
    MDB_val k, v;
    uint8_t key[8];
    uint64_t id = 0;
    cg_incident inc;
    const char *why;
    int exact, community, strings = needs_strings(q), rc, code;

    memset(&s, 0, sizeof s);
    bits_init(&second, p->maxid);
    if (p->mode == P_EMPTY)
        return 0;
    exact = p->mode != P_SCAN && p->nc == 1 && !p->record_only;
    community = (q->has & CG_Q_COMMUNITY) && q->community_id && q->community_id[0] &&
                (p->mode == P_SCAN || p->c[p->drv].ix != IX_COMMUNITY);
    if (p->second >= 0 && (code = collect(st, txn, p, &p->c[p->second], &second)) != 0)
        goto out;
    if ((code = src_open(st, txn, p, below, &s)) != 0)
        goto out;
    rc = mdb_cursor_open(txn, st->dbi[DB_INC], &ic);
    if (!rc && community)
        rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + IX_COMMUNITY], &cc);
    if (rc) {
        code = cgs_fail_mdb(st, rc, "incidents");
        goto out;
    }
    while ((rc = src_next(st, &s, &id, &v)) == 1) {
        if (p->second >= 0 && !bits_test(&second, id))
            continue;
        if (s.mode != P_SCAN) {
            put64(key, id);
            k = (MDB_val){ 8, key };
            rc = mdb_cursor_get(ic, &k, &v, MDB_SET);
            if (rc == MDB_NOTFOUND)
                continue;   /* an index entry left by damage elsewhere */
            if (rc) {
                code = cgs_fail_mdb(st, rc, "incidents");
                goto out;
            }
        }
        if (!decode && (exact || !strings)) {
            /* an aggregation that needs only the fixed part */
            if (cgs_inc_peek(v.mv_data, v.mv_size, id, &why)) {
                code = cgs_bad_record(st, "incident", id, why);
                goto out;
            }
            if (!exact && !match_raw(q, v.mv_data))
                continue;
        } else {
            if (cgs_inc_decode(v.mv_data, v.mv_size, &inc, &why)) {
                code = cgs_bad_record(st, "incident", id, why);
                goto out;
            }
            if (inc.id != id) {
                code = cgs_bad_record(st, "incident", id, "id differs from its key");
                goto out;
            }
            if (!match(q, &inc))
                continue;
        }
        if (community) {
            int yes;
            if ((code = in_community(st, cc, q, id, &yes)) != 0)
                goto out;
            if (!yes)
                continue;
        }
        if (q->match && !q->match(&inc, q->match_arg))
            continue;   /* decoded: needs_strings() */
        if (each(ctx, id, v.mv_data, v.mv_size, decode ? &inc : NULL))
            break;
    }
    if (rc < 0)
        code = rc;
out:
    if (cc)
        mdb_cursor_close(cc);
    if (ic)
        mdb_cursor_close(ic);
    src_close(&s);
    bits_free(&second);
    return code;
}

/* ---- pages ------------------------------------------------------------------------------ */

struct page {
    uint64_t limit, n, last;
    int stopped;
    int (*cb)(const cg_incident *inc, void *arg);
    void *arg;
};

static int each_page(void *ctx, uint64_t id, const uint8_t *rec, size_t len, const cg_incident *inc)
{
    struct page *w = ctx;

    (void)rec, (void)len;
    w->n++;
    w->last = id;
    if (w->cb(inc, w->arg) || (w->limit && w->n >= w->limit))
        w->stopped = 1;
    return w->stopped;
}

static const cg_query all_q;

int cg_store_query(cg_store *st, const cg_query *q, uint64_t limit, uint64_t *cursor,
                   int (*cb)(const cg_incident *inc, void *arg), void *arg)
{
    struct page w = { .limit = limit, .cb = cb, .arg = arg };
    struct plan p;
    MDB_txn *txn;
    int code;

    if (!st || !cb)
        return CG_STORE_EINVAL;
    if (!q)
        q = &all_q;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    code = plan(st, txn, q, limit, &p);
    if (!code)
        code = walk(st, txn, q, &p, cursor ? *cursor : 0, 1, each_page, &w);
    mdb_txn_abort(txn);
    if (code == 0 && cursor)
        *cursor = w.stopped ? w.last : 0;
    return code;
}

int cg_store_explain(cg_store *st, const cg_query *q, char *buf, size_t len)
{
    struct plan p;
    MDB_txn *txn;
    int code, n = 0;

    if (!st || !buf || len == 0)
        return CG_STORE_EINVAL;
    if (!q)
        q = &all_q;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    code = plan(st, txn, q, 100, &p);
    mdb_txn_abort(txn);
    if (code)
        return code;
    if (p.mode == P_EMPTY) {
        n = snprintf(buf, len, "empty");
    } else if (p.mode == P_SCAN) {
        n = snprintf(buf, len, "scan incidents");
        if (p.timed && n > 0 && (size_t)n < len)
            n += snprintf(buf + n, len - (size_t)n, " (%llu partitions in time)",
                          (unsigned long long)p.nscope);
    } else {
        const struct cand *d = &p.c[p.drv];
        n = snprintf(buf, len, "%s %s %s%llu", mode_name[p.mode], cgs_ix[d->ix].name,
                     d->known ? "" : ">", (unsigned long long)d->est);
        if (p.second >= 0 && n > 0 && (size_t)n < len)
            n += snprintf(buf + n, len - (size_t)n, " & %s %llu",
                          cgs_ix[p.c[p.second].ix].name,
                          (unsigned long long)p.c[p.second].est);
    }
    if (q->match && p.mode != P_EMPTY && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " + predicate");
    (void)n;
    return 0;
}

/* ---- counts ------------------------------------------------------------------------------- */

static int each_count(void *ctx, uint64_t id, const uint8_t *rec, size_t len, const cg_incident *inc)
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
        return CG_STORE_EINVAL;
    if (!q)
        q = &all_q;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    code = build(st, q, &p);
    if (code || p.mode == P_EMPTY)
        goto out;
    if (p.nc == 1 && !p.record_only) {
        /* one index answers it: the sum of its counts */
        if ((code = plan_store(st, txn, &p)) == 0)
            code = estimate(st, txn, &p, &p.c[0], UINT64_MAX, UINT32_MAX, 1);
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
    code = plan(st, txn, q, 0, &p);
    if (!code)
        code = walk(st, txn, q, &p, 0, 0, each_count, &n);
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
    unsigned off;           /* of the field in an incident record */
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
    case CG_F_DST:
        memcpy(g->addr, k, 16);
        break;
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
    case CG_F_DST_ASN:
        g->num = get32(k);
        break;
    case CG_F_DPORT:
        g->num = get16(k);
        break;
    default:
        g->num = k[0];
        break;
    }
}

struct grouping {
    int field;
    struct counts c;
};

static int each_group(void *ctx, uint64_t id, const uint8_t *rec, size_t len, const cg_incident *inc)
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
    unsigned kl = klen(ix), pre = kl - cgs_ix[ix].keylen;
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
            code = badkey(st, ix, k.mv_size);
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
    unsigned kl = klen(ix);
    struct plan p;
    struct piter it;
    MDB_cursor *cur = NULL, *ic = NULL;
    MDB_val k, v;
    uint8_t key[8], lo[IX_STOREDMAX];
    uint32_t part;
    int rc, code;

    if ((code = build(st, q, &p)) != 0 || p.mode == P_EMPTY)
        return code;
    if ((code = plan_store(st, txn, &p)) != 0)
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
    piter_init(&it, &p, cur, ix, 0);
    while (!g->c.nomem && (code = piter_next(st, &it, &part)) == 1) {
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
                    code = badkey(st, ix, k.mv_size);
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
                    code = cgs_fail(st, CG_STORE_ECORRUPT, "incidents: a key of %zu bytes", k.mv_size);
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
        return CG_STORE_EINVAL;
    if (!q)
        q = &all_q;
    memset(&g, 0, sizeof g);
    g.field = field;
    g.c.kl = cgs_ix[fields[field].ix].keylen;
    if (n && !(top = calloc(n, sizeof *top)))
        return cgs_fail(st, CG_STORE_EIO, "%s", strerror(ENOMEM));
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        goto out;
    if (q->has == 0 && !q->match)
        code = group_index(st, txn, fields[field].ix, &g.c);
    else if (!q->match && !(q->has & ~(unsigned)(CG_Q_SINCE | CG_Q_UNTIL)) &&
             parted(fields[field].ix))
        code = group_by_time(st, txn, q, field, &g);
    else if ((code = plan(st, txn, q, 0, &p)) == 0)
        code = walk(st, txn, q, &p, 0, 0, each_group, &g);
    mdb_txn_abort(txn);
    if (!code && g.c.nomem)
        code = cgs_fail(st, CG_STORE_EIO, "%s", strerror(ENOMEM));
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
            code = badkey(st, IX_TIME, k.mv_size);
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
        return CG_STORE_EINVAL;
    if (!q)
        q = &all_q;
    memset(&h, 0, sizeof h);
    h.bucket_us = bucket_us;
    h.c.kl = 8;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    if ((code = build(st, q, &p)) != 0 || p.mode == P_EMPTY)
        goto out;
    if (!p.record_only && (p.nc == 0 || (p.nc == 1 && p.c[0].ix == IX_TIME))) {
        code = hist_index(st, txn, p.nc ? &p.c[0] : NULL, bucket_us, cb, arg);
        goto out;
    }
    if ((code = plan(st, txn, q, 0, &p)) == 0)
        code = walk(st, txn, q, &p, 0, 0, each_hist, &h);
    if (!code && h.c.nomem)
        code = cgs_fail(st, CG_STORE_EIO, "%s", strerror(ENOMEM));
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
    uint32_t *freel;           /* free slots */
    size_t ng, nfree, cap;
    uint32_t *map;
    size_t mapcap;             /* a power of two, at least twice cap */
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

static int each_attack(void *ctx, uint64_t id, const uint8_t *rec, size_t len, const cg_incident *inc)
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
        return CG_STORE_EINVAL;
    if (st->schema < 3)
        return cgs_fail(st, CG_STORE_EOLDER,
                        "a store of schema %u has no attacks yet: they are assigned when "
                        "canhgac run or a triage command (incident set, incident note) opens it",
                        st->schema);
    if (!q)
        q = &all_q;
    memset(&t, 0, sizeof t);
    t.limit = limit;
    t.cb = cb;
    t.arg = arg;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    if ((code = plan(st, txn, q, 0, &p)) == 0)
        code = walk(st, txn, q, &p, 0, 0, each_attack, &t);
    if (!code && t.nomem)
        code = cgs_fail(st, CG_STORE_EIO, "%s", strerror(ENOMEM));
    if (!code)
        attacks_emit(&t, 0);   /* the walk's end: every open attack is complete */
    mdb_txn_abort(txn);
    free(t.g);
    free(t.freel);
    free(t.map);
    free(t.heap);
    return code;
}
