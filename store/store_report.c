/* store_report.c — incidents with their histories in one read transaction,
 * for period reports (store_report.h).
 *
 * cg_store_report_walk runs the query planner's walk (store_query.c) and,
 * beside it, a cursor on "history" that moves down with the walk's
 * descending ids: for incident id it stands on the last entry whose key is
 * below (id + 1, 0). When the entry under it belongs to a higher id (the
 * history of an incident the query skipped) it seeks; when it belongs to a
 * lower id the incident has no history and nothing is read. Each incident's
 * entries are gathered walking down and handed over in seq order.
 *
 * Invariants: the history entries handed to a callback are views into the
 * transaction's map (valid until the callback returns); the buffer of
 * entries grows as the longest history needs and is freed on return.
 */
#include "store/store_report.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_query.h"

struct hbuf {
    cg_history *v;
    size_t n, cap;
};

static int hbuf_push(struct hbuf *b, const cg_history *h)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 16;
        cg_history *nv = realloc(b->v, nc * sizeof *nv);
        if (!nv)
            return CG_ENOMEM;
        b->v = nv;
        b->cap = nc;
    }
    b->v[b->n++] = *h;
    return 0;
}

static void hbuf_reverse(struct hbuf *b)
{
    for (size_t i = 0, j = b->n; i + 1 < j; i++, j--) {
        cg_history t = b->v[i];
        b->v[i] = b->v[j - 1];
        b->v[j - 1] = t;
    }
}

struct rwalk {
    const cg_store *st;
    MDB_cursor *hc;
    int at;       /* the cursor stands on an entry */
    uint64_t hid; /* its incident id (when at) */
    struct hbuf b;
    cg_store_report_fn cb;
    void *arg;
    int code;
};

/* Reads the key under the cursor into w->hid; MDB_NOTFOUND leaves !at. */
static int hist_take(struct rwalk *w, int rc, MDB_val *k)
{
    if (rc == MDB_NOTFOUND) {
        w->at = 0;
        return 0;
    }
    if (rc)
        return cgs_fail_mdb(w->st, rc, "history");
    if (k->mv_size != 16)
        return cgs_fail(w->st, CG_ECORRUPT, "history: a key of %zu bytes", k->mv_size);
    w->at = 1;
    w->hid = get64(k->mv_data);
    return 0;
}

static int each_inc(void *ctx, uint64_t id, const uint8_t *rec, size_t len, const cg_incident *inc)
{
    struct rwalk *w = ctx;
    MDB_val k, v;
    uint8_t key[16];
    const char *why;
    int rc;

    (void)rec, (void)len;
    w->b.n = 0;
    if (w->at && w->hid > id) {
        /* past the histories of skipped incidents: to the last entry below
         * (id + 1, 0) */
        put64(key, id + 1);
        memset(key + 8, 0, 8);
        k = (MDB_val){ 16, key };
        rc = mdb_cursor_get(w->hc, &k, &v, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get(w->hc, &k, &v, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(w->hc, &k, &v, MDB_LAST);
        if ((w->code = hist_take(w, rc, &k)) != 0)
            return 1;
    }
    while (w->at && w->hid == id) {
        cg_history h;
        rc = mdb_cursor_get(w->hc, &k, &v, MDB_GET_CURRENT);
        if (rc) {
            w->code = cgs_fail_mdb(w->st, rc, "history");
            return 1;
        }
        if (cgs_hist_decode(v.mv_data, v.mv_size, &h, &why)) {
            w->code = cgs_bad_record(w->st, "history of incident", id, why);
            return 1;
        }
        h.seq = get64((const uint8_t *)k.mv_data + 8);
        if ((w->code = hbuf_push(&w->b, &h)) != 0)
            return 1;
        rc = mdb_cursor_get(w->hc, &k, &v, MDB_PREV);
        if ((w->code = hist_take(w, rc, &k)) != 0)
            return 1;
    }
    hbuf_reverse(&w->b);
    return w->cb(inc, w->b.n ? w->b.v : NULL, w->b.n, w->arg) != 0;
}

int cg_store_report_walk(cg_store *st, const cg_query *q, cg_store_report_fn cb, void *arg)
{
    struct rwalk w = { .st = st, .cb = cb, .arg = arg };
    struct plan p;
    MDB_txn *txn;
    MDB_val k, v;
    int code, rc;

    if (!st || !cb)
        return CG_EINVAL;
    if (!q)
        q = &cg_sq_all_q;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_HIST], &w.hc);
    if (rc) {
        code = cgs_fail_mdb(st, rc, "history");
        goto out;
    }
    if ((code = hist_take(&w, mdb_cursor_get(w.hc, &k, &v, MDB_LAST), &k)) != 0)
        goto out;
    if ((code = cg_sq_plan(st, txn, q, 0, &p)) != 0)
        goto out;
    code = cg_sq_walk(st, txn, q, &p, 0, 1, each_inc, &w);
    if (!code)
        code = w.code;
out:
    if (w.hc)
        mdb_cursor_close(w.hc);
    mdb_txn_abort(txn);
    free(w.b.v);
    return code;
}

/* Hands over incident id with the entries gathered in b (when one of them
 * is at or after since). 1: stop. */
static int changed_flush(const cg_store *st, MDB_txn *txn, uint64_t id, struct hbuf *b,
                         uint64_t since, cg_store_report_fn cb, void *arg, int *code)
{
    cg_incident inc;
    int late = 0;

    for (size_t i = 0; i < b->n && !late; i++)
        late = b->v[i].when_us >= since;
    if (!late)
        return 0;
    *code = cgs_load(st, txn, id, &inc);
    if (*code == CG_ENOTFOUND)
        *code = cgs_bad_record(st, "history of incident", id, "no such incident");
    if (*code)
        return 1;
    return cb(&inc, b->v, b->n, arg) != 0;
}

int cg_store_report_changed(cg_store *st, uint64_t since_us, cg_store_report_fn cb, void *arg)
{
    struct hbuf b = { 0 };
    MDB_txn *txn;
    MDB_cursor *hc = NULL;
    MDB_val k, v;
    uint64_t cur = 0;
    const char *why;
    int code, rc, stop = 0;

    if (!st || !cb)
        return CG_EINVAL;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_HIST], &hc);
    if (rc) {
        code = cgs_fail_mdb(st, rc, "history");
        goto out;
    }
    for (rc = mdb_cursor_get(hc, &k, &v, MDB_FIRST); rc == 0 && !stop;
         rc = mdb_cursor_get(hc, &k, &v, MDB_NEXT)) {
        cg_history h;
        uint64_t id;
        if (k.mv_size != 16) {
            code = cgs_fail(st, CG_ECORRUPT, "history: a key of %zu bytes", k.mv_size);
            goto out;
        }
        id = get64(k.mv_data);
        if (id != cur) {
            if (b.n && changed_flush(st, txn, cur, &b, since_us, cb, arg, &code))
                goto out;
            b.n = 0;
            cur = id;
        }
        if (cgs_hist_decode(v.mv_data, v.mv_size, &h, &why)) {
            code = cgs_bad_record(st, "history of incident", id, why);
            goto out;
        }
        h.seq = get64((const uint8_t *)k.mv_data + 8);
        if ((code = hbuf_push(&b, &h)) != 0)
            goto out;
    }
    if (rc && rc != MDB_NOTFOUND) {
        code = cgs_fail_mdb(st, rc, "history");
        goto out;
    }
    if (b.n)
        changed_flush(st, txn, cur, &b, since_us, cb, arg, &code);
out:
    if (hc)
        mdb_cursor_close(hc);
    mdb_txn_abort(txn);
    free(b.v);
    return code;
}
