/* store_query.c — queries over the indexes: the planner, the ways to produce
 * the matching ids newest first, and a page of results. What the
 * aggregations (a count, top-N, a histogram) do with them is in
 * store_aggregate.c, through store_query.h; their shortcuts are described
 * at the end of this comment.
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
#include "store/store_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C_LOAD 6 /* a record read costs about this many index entries walked */
#define SAMPLE 4 /* partitions counted to estimate a partitioned index */

static const char *const mode_name[] = { "empty", "scan", "stream", "collect", "parts" };

int cg_sq_parted(int ix)
{
    return (cgs_ix[ix].flags & IXF_PART) != 0;
}

/* the stored key's and value's lengths */
unsigned cg_sq_klen(int ix)
{
    return cgs_ix[ix].keylen + (cg_sq_parted(ix) ? 4 : 0);
}

static unsigned vlen(int ix)
{
    return cg_sq_parted(ix) ? 2 : 8;
}

/* Whether cg_sq_match() needs a record's strings (assignee, no Community ID), or
 * the caller's predicate the decoded record. */
static int needs_strings(const cg_query *q)
{
    return q->match || (q->has & CG_Q_ASSIGNEE) ||
        ((q->has & CG_Q_COMMUNITY) && !(q->community_id && q->community_id[0]));
}

/* cg_sq_match() on the fixed part of a record that cgs_inc_peek accepted, for
 * the walks of aggregations, when !needs_strings(q). */
static int match_raw(const cg_query *q, const uint8_t *r)
{
    unsigned has = q->has;
    uint64_t t = get64(r + OFF_FIRST);

    if ((has & CG_Q_SINCE) && t < q->since_us)
        return 0;
    if ((has & CG_Q_UNTIL) && t >= q->until_us)
        return 0;
    if ((has & CG_Q_SRC) &&
        (memcmp(r + OFF_SRC, q->src_lo, 16) < 0 || memcmp(r + OFF_SRC, q->src_hi, 16) > 0))
        return 0;
    if ((has & CG_Q_DST) &&
        (memcmp(r + OFF_DST, q->dst_lo, 16) < 0 || memcmp(r + OFF_DST, q->dst_hi, 16) > 0))
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
    if ((has & CG_Q_SRC_CC) &&
        (r[OFF_SRC_CC] != (uint8_t)q->src_cc[0] ||
         r[OFF_SRC_CC + 1] != (uint8_t)(q->src_cc[0] ? q->src_cc[1] : 0)))
        return 0;
    if ((has & CG_Q_DST_CC) &&
        (r[OFF_DST_CC] != (uint8_t)q->dst_cc[0] ||
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

int cg_sq_badkey(const cg_store *st, int ix, size_t n)
{
    return cgs_fail(st, CG_ECORRUPT, "%s: a key of %zu bytes", cgs_ix[ix].name, n);
}

static int badval(const cg_store *st, int ix, size_t n)
{
    return cgs_fail(st, CG_ECORRUPT, "%s: an id of %zu bytes", cgs_ix[ix].name, n);
}

/* ---- candidates ------------------------------------------------------------- */

static struct cand *add(struct plan *p, int ix)
{
    struct cand *c = &p->c[p->nc++];

    memset(c, 0, sizeof *c);
    c->ix = ix;
    return c;
}

void cg_sq_range(struct cand *c, const uint8_t *lo, const uint8_t *hi)
{
    unsigned kl = cgs_ix[c->ix].keylen;

    memcpy(c->lo[c->nr], lo, kl);
    memcpy(c->hi[c->nr], hi, kl);
    c->nr++;
}

static void key1(struct plan *p, int ix, const uint8_t *k)
{
    cg_sq_range(add(p, ix), k, k);
}

static int cc_ok(const char *cc)
{
    return cc[0] == 0 ||
        (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && cc[2] == 0);
}

/* The candidates of q (step 1). 0, or CG_EINVAL with a message. */
int cg_sq_build(const cg_store *st, const cg_query *q, struct plan *p)
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
        return cgs_fail(st, CG_EINVAL, "query: address range with low above high");
    if (((has & CG_Q_SRC_CC) && !cc_ok(q->src_cc)) || ((has & CG_Q_DST_CC) && !cc_ok(q->dst_cc)))
        return cgs_fail(st, CG_EINVAL, "query: a country is two letters A-Z");
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
        cg_sq_range(add(p, IX_TIME), lo, hi);
        p->timed = 1;
        p->t_lo = from;
        p->t_hi = to;
    }
    if (has & CG_Q_SRC)
        cg_sq_range(add(p, IX_SRC), q->src_lo, q->src_hi);
    if (has & CG_Q_DST)
        cg_sq_range(add(p, IX_DST), q->dst_lo, q->dst_hi);
    if (has & CG_Q_SID) {
        int g = (has & CG_Q_GID) != 0;
        put32(lo, q->sid);
        put32(lo + 4, g ? q->gid : 0);
        put32(hi, q->sid);
        put32(hi + 4, g ? q->gid : UINT32_MAX);
        cg_sq_range(add(p, IX_SID), lo, hi);
    } else if (has & CG_Q_GID) {
        p->record_only = 1;
    }
    if (has & CG_Q_SEV) {
        lo[0] = 0;
        hi[0] = q->sev_max;
        cg_sq_range(add(p, IX_SEV), lo, hi);
    }
    if (has & CG_Q_STATUS) {
        struct cand *c = add(p, IX_STATUS);
        for (uint8_t s = 0; s < CG_ST_COUNT; s++)
            if (q->status_mask & (1u << s))
                cg_sq_range(c, &s, &s);
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
    if (has & CG_Q_CASE) {
        /* a store before schema 5 has no cases: nothing is in one */
        if (st->schema < 5) {
            p->mode = P_EMPTY;
            return 0;
        }
        put64(lo, q->case_id);
        key1(p, IX_CASE, lo);
    }
    if ((has & (CG_Q_PORT | CG_Q_SPORT)) || q->match)
        p->record_only = 1;
    return 0;
}

/* Every filter of q on a decoded record but a Community ID (which the
 * caller looks up in by_community). */
int cg_sq_match(const cg_query *q, const cg_incident *x)
{
    unsigned has = q->has;

    if ((has & CG_Q_SINCE) && x->first_us < q->since_us)
        return 0;
    if ((has & CG_Q_UNTIL) && x->first_us >= q->until_us)
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
        if (v.mv_size != 16 ||
            !(get64((const uint8_t *)v.mv_data + 8) < p->t_lo || get64(v.mv_data) > p->t_hi))
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
    if (k.mv_size != cg_sq_klen(ix))
        return cg_sq_badkey(st, ix, k.mv_size);
    *out = get32(k.mv_data);
    return 1;
}

/* Partitions from the newest down. Ids are handed out in order, so the
 * partitions of a store are usually all of 0 .. that of its highest id
 * (dense): the next is then the one below, with no seek to find it; a store
 * with gaps (ids put by hand) seeks the next partition that has a key. */
void cg_sq_piter_init(struct piter *it, const struct plan *p, MDB_cursor *cur, int ix,
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
int cg_sq_piter_next(const cg_store *st, struct piter *it, uint32_t *out)
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
int cg_sq_plan_store(const cg_store *st, MDB_txn *txn, struct plan *p)
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
    unsigned fl = cgs_ix[c->ix].keylen, kl = cg_sq_klen(c->ix), pre = kl - fl;
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
                return cg_sq_badkey(st, c->ix, k.mv_size);
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
    unsigned fl = cgs_ix[c->ix].keylen, kl = cg_sq_klen(c->ix), pre = kl - fl, vl = vlen(c->ix);
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
                return cg_sq_badkey(st, c->ix, k.mv_size);
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
int cg_sq_estimate(const cg_store *st, MDB_txn *txn, const struct plan *p, struct cand *c,
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
    if (!cg_sq_parted(c->ix)) {
        code = each_key(st, cur, c, 0, count_key, &kc, &stopped);
        c->known = !stopped;
        goto out;
    }
    kc.cap = UINT64_MAX;
    kc.key_cap = UINT32_MAX;
    cg_sq_piter_init(&it, p, cur, c->ix, 0);
    while ((code = cg_sq_piter_next(st, &it, &part)) == 1) {
        if (!in_scope(st, txn, p, part))
            continue;
        if ((code = each_key(st, cur, c, part, count_key, &kc, &stopped)) != 0)
            break;
        if (++sampled == SAMPLE && !all)
            break;
    }
    if (code == 1 && !all && sampled == SAMPLE && p->nscope > sampled)
        c->est = c->est * p->nscope / sampled; /* scaled: more partitions than read */
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
    if (cg_sq_parted(c->ix))
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
int cg_sq_plan(const cg_store *st, MDB_txn *txn, const cg_query *q, uint64_t limit, struct plan *p)
{
    struct cand *d;
    uint64_t best = UINT64_MAX, loads, scope_ids; /* scope_ids: incidents in scope */
    int code;

    if ((code = cg_sq_build(st, q, p)) != 0 || p->mode == P_EMPTY)
        return code;
    if ((code = cg_sq_plan_store(st, txn, p)) != 0)
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
            code = cg_sq_estimate(st, txn, p, d, scope_ids / 2, UINT32_MAX, 0);
        else if (!cg_sq_parted(d->ix))
            code = cg_sq_estimate(st, txn, p, d, UINT64_MAX, MAXK + 1, 0);
        else
            d->known = 0; /* read by partitions whatever its size */
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
                if ((code = cg_sq_estimate(st, txn, p, c, cap, UINT32_MAX, 0)) != 0)
                    return code;
                if (c->known && c->est < best) {
                    best = c->est;
                    p->drv = (int)i;
                }
            }
        if (p->drv < 0)
            p->drv = 0; /* every estimate cut off: the first (cheapest to read) */
        d = &p->c[p->drv];
    }
    if (d->known && d->est == 0 && !cg_sq_parted(d->ix)) {
        p->mode = P_EMPTY;
        return 0;
    }
    if (cg_sq_parted(d->ix))
        p->mode = P_PARTS;
    else if (d->known && d->nkeys <= MAXK)
        p->mode = P_STREAM;
    else if (d->ix == IX_TIME && p->timed && (!d->known || scope_ids < 2 * d->est))
        p->mode = P_SCAN; /* its partitions hold few others */
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
    uint64_t *w;    /* the bitmap, once there is one */
    uint64_t nbits; /* ids 0 .. nbits - 1 */
    uint64_t *v;    /* the list, before */
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
    if (!cg_sq_parted(c->ix)) {
        code = each_id(st, cur, c, 0, 0, bits_set, b);
    } else {
        cg_sq_piter_init(&it, p, cur, c->ix, 0);
        while ((code = cg_sq_piter_next(st, &it, &part)) == 1) {
            if (in_scope(st, txn, p, part) &&
                (code = each_id(st, cur, c, part, 0, bits_set, b)) != 0)
                break;
        }
        if (code == 1)
            code = 0;
    }
    mdb_cursor_close(cur);
    if (!code && bits_done(b))
        code = cgs_fail(st, CG_ENOMEM, "out of memory");
    return code;
}

/* ---- the ids of a plan, newest first ----------------------------------------------- */

struct src {
    int mode;
    uint64_t below; /* ids given out are < below; 0 = no bound */
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
    uint64_t pbase; /* the first id of the partition read */
    uint64_t local[PART_IDS / 64];
    int have_part;
    /* P_SCAN */
    MDB_cursor *scan;
    int started;
    uint32_t scan_part;
    int scan_in; /* scan_part is in scope */
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
        cg_sq_piter_init(&s->it, p, s->pc, d->ix, below);
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
            return cgs_fail(st, CG_ECORRUPT, "incidents: a key of %zu bytes", k.mv_size);
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
            rc = cg_sq_piter_next(st, &s->it, &part);
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
            continue; /* a damaged index out of order: never give an id twice */
        s->below = *id;
        return 1;
    }
}

/* ---- the walk ----------------------------------------------------------------------- */

/* Whether id is under the query's Community ID in by_community. */
static int in_community(const cg_store *st, MDB_cursor *cc, const cg_query *q, uint64_t id,
                        int *yes)
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

/* Whether id is in the query's case (by_case). */
static int in_case(const cg_store *st, MDB_cursor *cc, const cg_query *q, uint64_t id, int *yes)
{
    uint8_t f[8], val[8];
    MDB_val k = { 8, f }, v = { 8, val };
    int rc;

    put64(f, q->case_id);
    put64(val, id);
    rc = mdb_cursor_get(cc, &k, &v, MDB_GET_BOTH);
    *yes = rc == 0;
    if (rc && rc != MDB_NOTFOUND)
        return cgs_fail_mdb(st, rc, "by_case");
    return 0;
}

/* Walks the incidents of plan p below `below`, newest first, handing each
 * match to each() until it returns non-zero. decode: each() wants the
 * decoded record; records are decoded and checked anyway unless the plan's
 * driver alone is the query (exact). */
int cg_sq_walk(const cg_store *st, MDB_txn *txn, const cg_query *q, const struct plan *p,
               uint64_t below, int decode, each_fn each, void *ctx)
{
    struct src s;
    struct bits second;
    MDB_cursor *ic = NULL, *cc = NULL, *kc = NULL;
    MDB_val k, v;
    uint8_t key[8];
    uint64_t id = 0;
    cg_incident inc;
    const char *why;
    int exact, community, incase, strings = needs_strings(q), rc, code;

    memset(&s, 0, sizeof s);
    bits_init(&second, p->maxid);
    if (p->mode == P_EMPTY)
        return 0;
    exact = p->mode != P_SCAN && p->nc == 1 && !p->record_only;
    community = (q->has & CG_Q_COMMUNITY) && q->community_id && q->community_id[0] &&
        (p->mode == P_SCAN || p->c[p->drv].ix != IX_COMMUNITY);
    incase = (q->has & CG_Q_CASE) && (p->mode == P_SCAN || p->c[p->drv].ix != IX_CASE) &&
        (p->second < 0 || p->c[p->second].ix != IX_CASE);
    if (p->second >= 0 && (code = collect(st, txn, p, &p->c[p->second], &second)) != 0)
        goto out;
    if ((code = src_open(st, txn, p, below, &s)) != 0)
        goto out;
    rc = mdb_cursor_open(txn, st->dbi[DB_INC], &ic);
    if (!rc && community)
        rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + IX_COMMUNITY], &cc);
    if (!rc && incase)
        rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + IX_CASE], &kc);
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
                continue; /* an index entry left by damage elsewhere */
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
            if (!cg_sq_match(q, &inc))
                continue;
        }
        if (community) {
            int yes;
            if ((code = in_community(st, cc, q, id, &yes)) != 0)
                goto out;
            if (!yes)
                continue;
        }
        if (incase) {
            int yes;
            if ((code = in_case(st, kc, q, id, &yes)) != 0)
                goto out;
            if (!yes)
                continue;
        }
        if (q->match && !q->match(&inc, q->match_arg))
            continue; /* decoded: needs_strings() */
        if (each(ctx, id, v.mv_data, v.mv_size, decode ? &inc : NULL))
            break;
    }
    if (rc < 0)
        code = rc;
out:
    if (cc)
        mdb_cursor_close(cc);
    if (kc)
        mdb_cursor_close(kc);
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

const cg_query cg_sq_all_q;

int cg_store_query(cg_store *st, const cg_query *q, uint64_t limit, uint64_t *cursor,
                   int (*cb)(const cg_incident *inc, void *arg), void *arg)
{
    struct page w = { .limit = limit, .cb = cb, .arg = arg };
    struct plan p;
    MDB_txn *txn;
    int code;

    if (!st || !cb)
        return CG_EINVAL;
    if (!q)
        q = &cg_sq_all_q;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    code = cg_sq_plan(st, txn, q, limit, &p);
    if (!code)
        code = cg_sq_walk(st, txn, q, &p, cursor ? *cursor : 0, 1, each_page, &w);
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
        return CG_EINVAL;
    if (!q)
        q = &cg_sq_all_q;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    code = cg_sq_plan(st, txn, q, 100, &p);
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
            n += snprintf(buf + n, len - (size_t)n, " & %s %llu", cgs_ix[p.c[p.second].ix].name,
                          (unsigned long long)p.c[p.second].est);
    }
    if (q->match && p.mode != P_EMPTY && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " + predicate");
    (void)n;
    return 0;
}
