/* store_query.h — what the query planner (store_query.c) shares with the
 * aggregations (store_aggregate.c): a plan and its candidates, the iterator
 * over a partitioned index, and the planner's steps. Internal to store/;
 * see store_query.c for the planner's design.
 */
#ifndef CG_STORE_QUERY_H
#define CG_STORE_QUERY_H

#include "store/store_int.h"

#define MAXR 8  /* key ranges of one candidate (statuses: 5) */
#define MAXK 16 /* keys a stream merges */

struct cand {
    int ix;
    unsigned nr;
    uint8_t lo[MAXR][IX_KEYMAX], hi[MAXR][IX_KEYMAX]; /* of the field */
    uint64_t est;   /* entries counted (or scaled from a sample) */
    int known;      /* est is all of them (not cut off) */
    unsigned nkeys; /* distinct keys seen (whole indexes) */
    uint8_t keys[MAXK][IX_KEYMAX];
};

enum { P_EMPTY, P_SCAN, P_STREAM, P_COLLECT, P_PARTS };

struct plan {
    int mode;
    struct cand c[IX_N];
    unsigned nc;
    int drv, second; /* indexes into c, or -1 */
    int record_only; /* some filter is answered by records only */
    uint64_t total;  /* incidents */
    uint64_t maxid;  /* the highest id stored */
    int timed;       /* a time filter: t_lo <= first_us <= t_hi */
    uint64_t t_lo, t_hi;
    uint64_t nscope; /* partitions that may hold a match */
    uint64_t nparts; /* partitions in "parts" */
    int dense;       /* partitions 0 .. that of maxid all exist: step down one by one */
};

struct piter {
    MDB_cursor *cur;
    int ix;
    int dense;
    uint64_t before; /* the next partition is below this one */
};

/* What the walk hands on: the raw record (always), and the decoded one when
 * it was decoded. */
typedef int (*each_fn)(void *ctx, uint64_t id, const uint8_t *rec, size_t len,
                       const cg_incident *inc);

/* The planner's steps (store_query.c). */
int cg_sq_parted(int ix);
unsigned cg_sq_klen(int ix);
int cg_sq_badkey(const cg_store *st, int ix, size_t n);
void cg_sq_range(struct cand *c, const uint8_t *lo, const uint8_t *hi);
int cg_sq_build(const cg_store *st, const cg_query *q, struct plan *p);
int cg_sq_match(const cg_query *q, const cg_incident *x);
void cg_sq_piter_init(struct piter *it, const struct plan *p, MDB_cursor *cur, int ix,
                      uint64_t below);
int cg_sq_piter_next(const cg_store *st, struct piter *it, uint32_t *out);
int cg_sq_plan_store(const cg_store *st, MDB_txn *txn, struct plan *p);
int cg_sq_estimate(const cg_store *st, MDB_txn *txn, const struct plan *p, struct cand *c,
                   uint64_t cap, unsigned key_cap, int all);
int cg_sq_plan(const cg_store *st, MDB_txn *txn, const cg_query *q, uint64_t limit, struct plan *p);
int cg_sq_walk(const cg_store *st, MDB_txn *txn, const cg_query *q, const struct plan *p,
               uint64_t below, int decode, each_fn each, void *ctx);

/* The query that matches every incident. */
extern const cg_query cg_sq_all_q;

#endif
