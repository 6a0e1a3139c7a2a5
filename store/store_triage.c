/* store_triage.c — the analysts' changes: status, assignee, severity
 * override and notes, and the record of a share (cg_store_shared: a history
 * entry only, the incident's record is not rewritten), each call one short write transaction of its own that
 * rewrites the record, moves its index entries and appends to its history
 * (store.c, invariants 6 and 7). Escalations (cg_store_escalate) are made
 * the same way, or inside the writer's open batch: the sensor escalates the
 * incidents it creates in the batch that creates them. An escalation's
 * history entry and its outbox records (store_outbox.c) are written in one
 * transaction.
 *
 * Such a transaction may run while a sensor writes: LMDB hands out its one
 * write transaction to a process at a time, so the call waits for the batch
 * in progress to commit, and the sensor's next batch reads what it wrote.
 * Everything a call writes is encoded from the record as read in its own
 * transaction, into memory of its own, before the first put: the strings of
 * a decoded record are views into a page that a put may move.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#define NOTE_MAX (STR_MAX - 1)

struct req {
    unsigned mask; /* CG_TRIAGE_* */
    uint8_t status, severity;
    const char *assignee;
    const char *note;   /* a note instead of a mask */
    int escalate;       /* an escalation instead of a mask */
    uint8_t layers;     /* its CG_LAYER bits to add */
    unsigned esc;       /* its CG_ESC_* */
    const char *why;    /* its cause */
    const char *shared; /* a share's text instead of a mask (the record is not rewritten) */
    const char *who;
    uint64_t when_us;
};

static int check_handle(cg_store *st)
{
    if (st->flags & CG_STORE_RDONLY)
        return cgs_fail(st, CG_EINVAL, "opened read-only");
    if (st->wstate != W_IDLE)
        return cgs_fail(st, CG_EINVAL, "a batch is open on this handle; commit it first");
    return 0;
}

static int check_who(cg_store *st, const char *who)
{
    size_t n = who ? strlen(who) : 0;

    if (n == 0 || n > CG_STORE_TEXT_MAX)
        return cgs_fail(st, CG_EINVAL, "who made the change: 1 to %u bytes", CG_STORE_TEXT_MAX);
    return 0;
}

/* The history entries r makes of old, and the new record in *x. Returns the
 * number of entries (0: nothing changes). */
static int diff(const struct req *r, const cg_incident *old, cg_incident *x, cg_history h[3])
{
    int n = 0;

    *x = *old;
    if (r->escalate) {
        if ((r->esc & CG_ESC_IF_NEW) && old->status != CG_ST_NEW)
            return 0;
        if ((old->layers | r->layers) == old->layers && !(r->esc & CG_ESC_ONCE))
            return 0;
        x->layers = (uint8_t)(old->layers | r->layers);
        h[n++] = (cg_history){ .kind = CG_HIST_ESCALATE,
                               .old_num = old->layers,
                               .new_num = x->layers,
                               .old_text = "",
                               .new_text = r->why };
        return n;
    }
    if (r->shared) {
        h[n++] = (cg_history){ .kind = CG_HIST_SHARE, .old_text = "", .new_text = r->shared };
        return n;
    }
    if (r->note) {
        h[n++] = (cg_history){ .kind = CG_HIST_NOTE, .old_text = "", .new_text = r->note };
        if (x->nnotes < UINT32_MAX)
            x->nnotes++;
        return n;
    }
    if ((r->mask & CG_TRIAGE_STATUS) && r->status != old->status) {
        h[n++] = (cg_history){ .kind = CG_HIST_STATUS,
                               .old_num = old->status,
                               .new_num = r->status,
                               .old_text = "",
                               .new_text = "" };
        x->status = r->status;
    }
    if ((r->mask & CG_TRIAGE_ASSIGNEE) && strcmp(r->assignee, old->assignee) != 0) {
        h[n++] = (cg_history){ .kind = CG_HIST_ASSIGNEE,
                               .old_text = old->assignee,
                               .new_text = r->assignee };
        x->assignee = r->assignee;
    }
    if (r->mask & CG_TRIAGE_SEVERITY) {
        int was_set = (old->flags & CG_INC_SEV_SET) != 0;
        const char *before = was_set ? "set" : "";
        if (r->severity == 0 && was_set) {
            x->severity = old->rule_severity;
            x->flags &= (uint8_t)~CG_INC_SEV_SET;
            h[n++] = (cg_history){ .kind = CG_HIST_SEVERITY,
                                   .old_num = old->severity,
                                   .new_num = x->severity,
                                   .old_text = before,
                                   .new_text = "" };
        } else if (r->severity != 0 && (!was_set || r->severity != old->severity)) {
            x->severity = r->severity;
            x->flags |= CG_INC_SEV_SET;
            h[n++] = (cg_history){ .kind = CG_HIST_SEVERITY,
                                   .old_num = old->severity,
                                   .new_num = r->severity,
                                   .old_text = before,
                                   .new_text = "set" };
        }
    }
    return n;
}

/* The seq the next history entry of incident id takes. */
static int next_seq(const cg_store *st, MDB_txn *txn, uint64_t id, uint64_t *out)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t key[16];
    int rc;

    rc = mdb_cursor_open(txn, st->dbi[DB_HIST], &cur);
    if (rc)
        return rc;
    put64(key, id + 1);
    memset(key + 8, 0, 8);
    k = (MDB_val){ 16, key };
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    *out = 0;
    if (rc == 0 && k.mv_size == 16 && get64(k.mv_data) == id)
        *out = get64((const uint8_t *)k.mv_data + 8) + 1;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Whether incident id's history holds an escalation whose cause is why. */
static int has_why(const cg_store *st, MDB_txn *txn, uint64_t id, const char *why, int *found)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t key[16];
    cg_history h;
    const char *bad;
    int rc;

    *found = 0;
    rc = mdb_cursor_open(txn, st->dbi[DB_HIST], &cur);
    if (rc)
        return rc;
    put64(key, id);
    memset(key + 8, 0, 8);
    k = (MDB_val){ 16, key };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !*found;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 16 || get64(k.mv_data) != id)
            break;
        if (cgs_hist_decode(v.mv_data, v.mv_size, &h, &bad) == 0 && h.kind == CG_HIST_ESCALATE &&
            strcmp(h.new_text, why) == 0)
            *found = 1;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* One change r to incident id: in a transaction of its own, or (in_batch)
 * in the writer's open batch, where an LMDB failure drops the batch. *nh_out
 * (NULL allowed) gets the number of history entries appended. */
static int change(cg_store *st, uint64_t id, const struct req *r, int in_batch, int *nh_out)
{
    MDB_txn *txn = NULL;
    MDB_val k, v;
    uint8_t key[16];
    cg_incident old, x;
    cg_history h[3];
    struct cgs_ixkeys okeys = { 0 }, nkeys = { 0 };
    uint8_t *rec = NULL, *hrec[3] = { NULL, NULL, NULL };
    size_t rlen = 0, hlen[3];
    uint64_t seq = 0;
    const char *why, *what = "history";
    int rc, code = 0, nh;

    if (id == 0 || id == UINT64_MAX)
        return cgs_fail(st, CG_EINVAL, "invalid incident id");
    if (in_batch) {
        txn = st->wtxn; /* the log is loaded: cg_store_begin did it */
    } else {
        rc = mdb_txn_begin(st->env, NULL, 0, &txn);
        if (rc)
            return cgs_fail_mdb(st, rc, "triage");
        if ((rc = cgs_log_load(st, txn)) != 0) {
            code = cgs_fail_mdb(st, rc, "log");
            goto out;
        }
    }
    put64(key, id);
    k = (MDB_val){ 8, key };
    rc = mdb_get(txn, st->dbi[DB_INC], &k, &v);
    if (rc == MDB_NOTFOUND) {
        code = cgs_fail(st, CG_ENOTFOUND, "no incident %llu", (unsigned long long)id);
        goto out;
    }
    if (rc) {
        code = in_batch ? cgs_batch_fail(st, rc, "incidents") : cgs_fail_mdb(st, rc, "incidents");
        txn = in_batch ? NULL : txn;
        goto out;
    }
    if (cgs_inc_decode(v.mv_data, v.mv_size, &old, &why)) {
        code = cgs_bad_record(st, "incident", id, why);
        goto out;
    }
    if (old.id != id) {
        code = cgs_bad_record(st, "incident", id, "id differs from its key");
        goto out;
    }
    nh = diff(r, &old, &x, h);
    if (nh && r->escalate && (r->esc & CG_ESC_ONCE) && x.layers == old.layers) {
        /* a reminder: once */
        int found;
        if ((rc = has_why(st, txn, id, r->why, &found)) != 0) {
            code = in_batch ? cgs_batch_fail(st, rc, "history") : cgs_fail_mdb(st, rc, "history");
            txn = in_batch ? NULL : txn;
            goto out;
        }
        if (found)
            nh = 0;
    }
    if (nh == 0)
        goto out; /* nothing changes: nothing to write */

    /* everything encoded before the first put (see the top of the file) */
    if (!r->shared) {
        cgs_ix_keys(&old, &okeys);
        cgs_ix_keys(&x, &nkeys);
        rlen = cgs_inc_size(&x, &why);
        if (rlen == 0) {
            code = cgs_fail(st, CG_EINVAL, "incident %llu: %s", (unsigned long long)id, why);
            goto out;
        }
        rec = malloc(rlen);
        if (!rec)
            goto nomem;
        cgs_inc_encode(rec, &x);
    }
    for (int i = 0; i < nh; i++) {
        h[i].who = r->who;
        h[i].when_us = r->when_us;
        hlen[i] = cgs_hist_size(&h[i]);
        hrec[i] = malloc(hlen[i]);
        if (!hrec[i])
            goto nomem;
        cgs_hist_encode(hrec[i], &h[i]);
    }

    rc = next_seq(st, txn, id, &seq);
    for (int i = 0; i < nh && !rc; i++) {
        put64(key + 8, seq + (uint64_t)i);
        k = (MDB_val){ 16, key };
        v = (MDB_val){ hlen[i], hrec[i] };
        /* an entry already at that key is a damaged history: never overwrite it */
        rc = mdb_put(txn, st->dbi[DB_HIST], &k, &v, MDB_NOOVERWRITE);
        if (!rc)
            rc = cgs_log_add(st, txn, CGS_LOG_HIST, key, hrec[i], hlen[i]);
        /* its notifications in the same transaction (store_outbox.c, 1) */
        if (!rc && r->escalate)
            rc = cgs_outbox_add(st, txn, id, seq + (uint64_t)i, r->when_us);
    }
    if (rc == MDB_KEYEXIST) {
        code = cgs_fail(st, CG_ECORRUPT, "history of incident %llu: seq %llu taken",
                        (unsigned long long)id, (unsigned long long)seq);
        if (in_batch) { /* nothing of it was written, but the batch's history is damaged */
            cgs_batch_fail(st, rc, "history");
            txn = NULL;
        }
        goto out;
    }
    if (!rc && !r->shared) { /* a share changes no field: the record stays as it is */
        what = "incidents";
        k = (MDB_val){ 8, key };
        v = (MDB_val){ rlen, rec };
        rc = mdb_put(txn, st->dbi[DB_INC], &k, &v, 0);
        if (!rc)
            rc = cgs_log_add(st, txn, CGS_LOG_INC, key, rec, rlen);
    }
    if (!rc && !r->shared)
        rc = cgs_ix_apply(st, txn, id, &okeys, &nkeys, &what);
    if (in_batch) {
        /* the batch's commit flushes the log */
        txn = NULL;
        if (rc)
            code = cgs_batch_fail(st, rc, what);
        else if (nh_out)
            *nh_out = nh;
        goto out;
    }
    if (!rc && (rc = cgs_log_flush(st, txn)) != 0)
        what = "log";
    if (rc) {
        code = cgs_fail_mdb(st, rc, what);
        goto out;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        code = cgs_fail_mdb(st, rc, "commit");
    else if (nh_out)
        *nh_out = nh;
    goto out;
nomem:
    code = cgs_fail(st, CG_ENOMEM, "out of memory");
out:
    if (txn && !in_batch)
        mdb_txn_abort(txn);
    free(rec);
    for (int i = 0; i < 3; i++)
        free(hrec[i]);
    return code;
}

int cg_store_triage_set(cg_store *st, uint64_t id, unsigned mask, uint8_t status,
                        const char *assignee, uint8_t severity, const char *who, uint64_t when_us)
{
    struct req r = { .mask = mask,
                     .status = status,
                     .severity = severity,
                     .assignee = assignee ? assignee : "",
                     .who = who,
                     .when_us = when_us };
    int code;

    if (!st)
        return CG_EINVAL;
    if ((code = check_handle(st)) != 0 || (code = check_who(st, who)) != 0)
        return code;
    if (mask == 0 ||
        (mask & ~(unsigned)(CG_TRIAGE_STATUS | CG_TRIAGE_ASSIGNEE | CG_TRIAGE_SEVERITY)))
        return cgs_fail(st, CG_EINVAL, "triage: no field, or an unknown one, to set");
    if ((mask & CG_TRIAGE_STATUS) && status >= CG_ST_COUNT)
        return cgs_fail(st, CG_EINVAL, "triage: unknown status %u", status);
    if ((mask & CG_TRIAGE_ASSIGNEE) && strlen(r.assignee) > CG_STORE_TEXT_MAX)
        return cgs_fail(st, CG_EINVAL, "triage: assignee longer than %u bytes", CG_STORE_TEXT_MAX);
    return change(st, id, &r, 0, NULL);
}

int cg_store_note_add(cg_store *st, uint64_t id, const char *who, uint64_t when_us,
                      const char *text)
{
    struct req r = { .note = text, .who = who, .when_us = when_us };
    int code;

    if (!st)
        return CG_EINVAL;
    if ((code = check_handle(st)) != 0 || (code = check_who(st, who)) != 0)
        return code;
    if (!text || !text[0] || strlen(text) > NOTE_MAX)
        return cgs_fail(st, CG_EINVAL, "note: 1 to %u bytes", NOTE_MAX);
    return change(st, id, &r, 0, NULL);
}

int cg_store_escalate(cg_store *st, uint64_t id, uint8_t layers, unsigned flags, const char *why,
                      const char *who, uint64_t when_us, int *added)
{
    struct req r = { .escalate = 1,
                     .layers = layers,
                     .esc = flags,
                     .why = why,
                     .who = who,
                     .when_us = when_us };
    int code, in_batch, nh = 0;

    if (!st)
        return CG_EINVAL;
    if (st->flags & CG_STORE_RDONLY)
        return cgs_fail(st, CG_EINVAL, "opened read-only");
    in_batch = st->wstate != W_IDLE;
    if (in_batch && (code = cgs_batch_ready(st)) != 0)
        return code;
    if ((code = check_who(st, who)) != 0)
        return code;
    if ((layers == 0 && !(flags & CG_ESC_ONCE)) || (layers & ~0x0fu) ||
        (flags & ~(unsigned)(CG_ESC_IF_NEW | CG_ESC_ONCE)))
        return cgs_fail(st, CG_EINVAL, "escalate: layers are 1 to 4");
    if (!why || !why[0] || strlen(why) > 1024)
        return cgs_fail(st, CG_EINVAL, "escalate: why, 1 to 1024 bytes");
    code = change(st, id, &r, in_batch, &nh);
    if (code == 0 && added)
        *added = nh > 0;
    return code;
}

int cg_store_shared(cg_store *st, uint64_t id, const char *text, const char *who, uint64_t when_us)
{
    struct req r = { .shared = text, .who = who, .when_us = when_us };
    int code, in_batch;

    if (!st)
        return CG_EINVAL;
    if (st->flags & CG_STORE_RDONLY)
        return cgs_fail(st, CG_EINVAL, "opened read-only");
    in_batch = st->wstate != W_IDLE;
    if (in_batch && (code = cgs_batch_ready(st)) != 0)
        return code;
    if ((code = check_who(st, who)) != 0)
        return code;
    if (!text || !text[0] || strlen(text) > 1024)
        return cgs_fail(st, CG_EINVAL, "shared: text, 1 to 1024 bytes");
    return change(st, id, &r, in_batch, NULL);
}
