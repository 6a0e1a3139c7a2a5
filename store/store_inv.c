/* store_inv.c — the writer's invariants, checked (cgs_check_writer).
 *
 * The invariants are written in store_int.h, beside the fields they are
 * about (W1 to W9). This check reads the handle, and with deep set also
 * LMDB (the batch's write transaction, or a read transaction of its own
 * when no batch is open); it writes nothing. store.c runs it through
 * CG_INVARIANT at begin, commit and abort and every CG_INVARIANT_EVERY
 * puts, so the sanitizer builds (-DCG_INVARIANTS) check every batch of
 * every test and release builds never call it. tests/test_store_inv.c shows
 * it finds each invariant broken.
 *
 * What a damaged store holds is not the writer's state: a read that fails,
 * or a record that does not decode other than the one this batch put
 * last, is no finding here (store_check.c walks the store for damage).
 */
#include "store/store_int.h"

#include <stdint.h>

static int known_state(int w)
{
    return w == W_IDLE || w == W_OPEN || w == W_FAILED;
}

/* W1 to W6: the handle's own fields. */
static int check_fields(const cg_store *st)
{
    int writer = !(st->flags & (CG_STORE_RDONLY | CG_STORE_TRIAGE));

    if (!known_state(st->wstate) || (!writer && st->wstate != W_IDLE))
        return 1;
    if ((st->wtxn != NULL) != (st->wstate == W_OPEN) ||
        (st->wstate == W_FAILED && st->batch_err >= 0))
        return 2;
    if (st->next_id == 0 || st->next_id > ID_LIMIT || st->next_id_disk > st->next_id)
        return 3;
    if (st->wstate != W_OPEN &&
        (st->ntouched != 0 || st->last_put != 0 || (st->wstate == W_FAILED && st->memo_id)))
        return 4;
    if (st->ntouched > TOUCHED_MAX)
        return 5;
    for (unsigned i = 0; i < st->ntouched; i++) {
        const struct cgs_touched *t = &st->touched[i];
        if (t->min_us > t->max_us || t->part > part_of(st->next_id - 1))
            return 5;
        for (unsigned j = 0; j < i; j++)
            if (st->touched[j].part == t->part)
                return 5;
    }
    if (st->wstate == W_OPEN &&
        ((st->inc_last != UINT64_MAX && st->inc_last >= st->next_id) ||
         st->last_put >= st->next_id))
        return 6;
    return 0;
}

/* The last incident key in txn: 0 when there is none; UINT64_MAX when it
 * cannot be read (a damaged store: no finding). */
static uint64_t last_key(const cg_store *st, MDB_txn *txn)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t id = UINT64_MAX;

    if (mdb_cursor_open(txn, st->dbi[DB_INC], &cur) != 0)
        return UINT64_MAX;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == MDB_NOTFOUND)
        id = 0;
    else if (rc == 0 && k.mv_size == 8)
        id = get64(k.mv_data);
    mdb_cursor_close(cur);
    return id;
}

/* meta next_id in txn: 0 when absent or unreadable. */
static uint64_t meta_next(const cg_store *st, MDB_txn *txn)
{
    MDB_val k = { 7, (void *)"next_id" }, v;

    if (mdb_get(txn, st->dbi[DB_META], &k, &v) != 0 || v.mv_size != 8)
        return 0;
    return get64(v.mv_data);
}

/* W7 and W8: the batch's transaction. */
static int check_batch(const cg_store *st)
{
    MDB_txn *txn = st->wtxn;
    uint64_t last = last_key(st, txn);

    if (last != UINT64_MAX) {
        if (last >= st->next_id)
            return 7;
        if (st->inc_last != UINT64_MAX && last != st->inc_last)
            return 7;
    }
    if (meta_next(st, txn) > st->next_id)
        return 7;
    if (!st->last_put)
        return 0;

    /* the record this batch put last, and its entries */
    uint8_t key[8], val[8];
    put64(key, st->last_put);
    MDB_val k = { 8, key }, v;
    int rc = mdb_get(txn, st->dbi[DB_INC], &k, &v);
    if (rc == MDB_NOTFOUND)
        return 8;
    if (rc)
        return 0;
    cg_incident x;
    const char *why;
    if (cgs_inc_decode(v.mv_data, v.mv_size, &x, &why) != 0 || x.id != st->last_put)
        return 8; /* this batch encoded it */
    struct cgs_ixkeys ik;
    cgs_ix_keys(&x, &ik);
    for (int i = 0; i < IX_N; i++) {
        if (!ik.len[i])
            continue;
        MDB_val ek = { ik.len[i], ik.k[i] };
        MDB_val ev = { ix_value(cgs_ix[i].flags, x.id, val), val };
        MDB_cursor *cur;
        if (mdb_cursor_open(txn, st->dbi[DB_IX0 + i], &cur) != 0)
            continue;
        rc = mdb_cursor_get(cur, &ek, &ev, MDB_GET_BOTH); /* that key with that id */
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            return 8;
    }
    /* its first_us inside its partition's span: the batch's, or the one in
     * "parts" once the batch's spans were written there */
    uint32_t p = part_of(x.id);
    for (unsigned i = 0; i < st->ntouched; i++)
        if (st->touched[i].part == p)
            return st->touched[i].min_us <= x.first_us && x.first_us <= st->touched[i].max_us ? 0
                                                                                              : 8;
    uint8_t pk[4];
    put32(pk, p);
    k = (MDB_val){ 4, pk };
    rc = mdb_get(txn, st->dbi[DB_PARTS], &k, &v);
    if (rc == MDB_NOTFOUND)
        return 8;
    if (rc == 0 && v.mv_size == 16 &&
        (get64(v.mv_data) > x.first_us || get64((const uint8_t *)v.mv_data + 8) < x.first_us))
        return 8;
    return 0;
}

/* W9: what is committed, as this writer knows it. */
static int check_committed(const cg_store *st)
{
    MDB_txn *txn;
    int bad = 0;

    if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    uint64_t last = last_key(st, txn);
    if ((last != UINT64_MAX && last >= st->next_id_disk) || meta_next(st, txn) > st->next_id_disk)
        bad = 9;
    mdb_txn_abort(txn);
    return bad;
}

int cgs_check_writer(const cg_store *st, int deep)
{
    int w = check_fields(st);

    if (w || !deep || !st->env)
        return w;
    if (st->wstate == W_OPEN)
        return check_batch(st);
    if (st->wstate == W_IDLE && !(st->flags & (CG_STORE_RDONLY | CG_STORE_TRIAGE)))
        return check_committed(st);
    return 0;
}
