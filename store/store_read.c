/* store_read.c — the store's simple readers: one incident, its evidence,
 * alerts and history in seq order, and the store's sizes. Each call is one
 * read-only transaction (store.h: Readers); every value goes through the
 * decoders of store_rec.c.
 */
#include "store/store_int.h"

#include <string.h>

int cgs_rtxn_begin(const cg_store *st, MDB_txn **txn)
{
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);

    if (rc == MDB_READERS_FULL) {
        /* slots of readers that died without closing */
        int dead = 0;
        mdb_reader_check(st->env, &dead);
        if (dead)
            rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
    }
    if (rc)
        return cgs_fail_mdb(st, rc, "read transaction");
    return 0;
}

int cgs_load(const cg_store *st, MDB_txn *txn, uint64_t id, cg_incident *inc)
{
    MDB_val k, v;
    uint8_t key[8];
    const char *why;
    int rc;

    put64(key, id);
    k = (MDB_val){ 8, key };
    rc = mdb_get(txn, st->dbi[DB_INC], &k, &v);
    if (rc == MDB_NOTFOUND)
        return CG_ENOTFOUND; /* callers decide whether that is an error */
    if (rc)
        return cgs_fail_mdb(st, rc, "incidents");
    if (cgs_inc_decode(v.mv_data, v.mv_size, inc, &why))
        return cgs_bad_record(st, "incident", id, why);
    if (inc->id != id)
        return cgs_bad_record(st, "incident", id, "id differs from its key");
    return 0;
}

int cg_store_get(cg_store *st, uint64_t id, int (*cb)(const cg_incident *inc, void *arg), void *arg)
{
    MDB_txn *txn;
    cg_incident inc;
    int code;

    if (!st || !cb)
        return CG_EINVAL;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    code = cgs_load(st, txn, id, &inc);
    if (code == CG_ENOTFOUND)
        cgs_fail(st, code, "no incident %llu", (unsigned long long)id);
    if (code == 0)
        cb(&inc, arg);
    mdb_txn_abort(txn);
    return code;
}

/* What a per-incident walk decodes and hands to its callback. */
enum { SUB_EV, SUB_ALERT, SUB_HIST };

struct sub {
    int kind;
    int (*ev_cb)(uint32_t seq, const cg_evidence *ev, void *arg);
    int (*alert_cb)(uint32_t seq, const cg_alert *a, void *arg);
    int (*hist_cb)(const cg_history *h, void *arg);
    void *arg;
};

static const struct {
    int db;
    size_t seqlen;    /* be32 or be64 after the be64 id */
    const char *what; /* for messages: "<what> <id>: bad record" */
} sub_def[] = {
    [SUB_EV] = { DB_EV, 4, "evidence of incident" },
    [SUB_ALERT] = { DB_ALERT, 4, "alert of incident" },
    [SUB_HIST] = { DB_HIST, 8, "history of incident" },
};

/* Calls the callback of s for each record of incident id in one of the
 * per-incident databases, in key (seq) order, until it returns non-zero.
 * The incident must exist, but need not decode: the packets, alerts and
 * history of a damaged record are still there. */
static int walk_sub(cg_store *st, uint64_t id, const struct sub *s)
{
    int db = sub_def[s->kind].db;
    size_t klen = 8 + sub_def[s->kind].seqlen;
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t key[16];
    const char *why;
    int rc, code = 0, stop = 0;

    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    put64(key, id);
    k = (MDB_val){ 8, key };
    rc = mdb_get(txn, st->dbi[DB_INC], &k, &v);
    if (rc) {
        code = rc == MDB_NOTFOUND
            ? cgs_fail(st, CG_ENOTFOUND, "no incident %llu", (unsigned long long)id)
            : cgs_fail_mdb(st, rc, "incidents");
        goto out;
    }
    rc = mdb_cursor_open(txn, st->dbi[db], &cur);
    if (rc) {
        code = cgs_fail_mdb(st, rc, cgs_db_names[db]);
        goto out;
    }
    memset(key + 8, 0, 8);
    k = (MDB_val){ klen, key };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data;
        if (k.mv_size != klen) {
            code = cgs_fail(st, CG_ECORRUPT, "%s: a key of %zu bytes", cgs_db_names[db], k.mv_size);
            goto out;
        }
        if (get64(kp) != id)
            break;
        if (s->kind == SUB_EV) {
            cg_evidence ev;
            if (cgs_ev_decode(v.mv_data, v.mv_size, &ev, &why))
                goto bad;
            stop = s->ev_cb(get32(kp + 8), &ev, s->arg);
        } else if (s->kind == SUB_ALERT) {
            cg_alert a;
            if (cgs_alert_decode(v.mv_data, v.mv_size, &a, &why))
                goto bad;
            stop = s->alert_cb(get32(kp + 8), &a, s->arg);
        } else {
            cg_history h;
            if (cgs_hist_decode(v.mv_data, v.mv_size, &h, &why))
                goto bad;
            h.seq = get64(kp + 8);
            stop = s->hist_cb(&h, s->arg);
        }
    }
    if (rc && rc != MDB_NOTFOUND)
        code = cgs_fail_mdb(st, rc, cgs_db_names[db]);
    goto out;
bad:
    code = cgs_bad_record(st, sub_def[s->kind].what, id, why);
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_evidence(cg_store *st, uint64_t id,
                      int (*cb)(uint32_t seq, const cg_evidence *ev, void *arg), void *arg)
{
    struct sub s = { .kind = SUB_EV, .ev_cb = cb, .arg = arg };

    if (!st || !cb)
        return CG_EINVAL;
    return walk_sub(st, id, &s);
}

int cg_store_alerts(cg_store *st, uint64_t id,
                    int (*cb)(uint32_t seq, const cg_alert *a, void *arg), void *arg)
{
    struct sub s = { .kind = SUB_ALERT, .alert_cb = cb, .arg = arg };

    if (!st || !cb)
        return CG_EINVAL;
    return walk_sub(st, id, &s);
}

int cg_store_history(cg_store *st, uint64_t id, int (*cb)(const cg_history *h, void *arg),
                     void *arg)
{
    struct sub s = { .kind = SUB_HIST, .hist_cb = cb, .arg = arg };

    if (!st || !cb)
        return CG_EINVAL;
    return walk_sub(st, id, &s);
}

static int read_meta(const cg_store *st, MDB_txn *txn, cg_store_info *info)
{
    MDB_val k = { 6, (void *)"schema" }, v;
    int rc;

    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == 0 && v.mv_size == 4)
        info->schema = get32(v.mv_data);
    else if (rc == 0 || rc == MDB_NOTFOUND)
        return cgs_fail(st, CG_ECORRUPT, "bad schema version record in meta");
    else
        return cgs_fail_mdb(st, rc, "meta");
    k = (MDB_val){ 7, (void *)"next_id" };
    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND)
        info->next_id = 1;
    else if (rc == 0 && v.mv_size == 8)
        info->next_id = get64(v.mv_data);
    else if (rc == 0)
        return cgs_fail(st, CG_ECORRUPT, "bad next_id record in meta");
    else
        return cgs_fail_mdb(st, rc, "meta");
    return 0;
}

int cg_store_info_get(cg_store *st, cg_store_info *out)
{
    static const int dbs[4] = { DB_INC, DB_ALERT, DB_EV, DB_HIST };
    MDB_txn *txn;
    MDB_stat ms[4], es;
    MDB_envinfo ei;
    cg_store_info info;
    int rc = 0, code;

    if (!st || !out)
        return CG_EINVAL;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    memset(&info, 0, sizeof info);
    if ((code = read_meta(st, txn, &info)) != 0)
        goto out;
    for (int i = 0; i < 4 && !rc; i++)
        rc = mdb_stat(txn, st->dbi[dbs[i]], &ms[i]);
    if (!rc)
        rc = mdb_env_info(st->env, &ei);
    if (!rc)
        rc = mdb_env_stat(st->env, &es);
    if (rc) {
        code = cgs_fail_mdb(st, rc, "stat");
        goto out;
    }
    info.incidents = ms[0].ms_entries;
    info.alerts = ms[1].ms_entries;
    info.evidence = ms[2].ms_entries;
    info.history = ms[3].ms_entries;
    info.map_size = ei.me_mapsize;
    info.map_used = ((uint64_t)ei.me_last_pgno + 1) * es.ms_psize;
    *out = info;
out:
    mdb_txn_abort(txn);
    return code;
}
