/* store_outbox.c — the outbox of notifications (schema 7, store.h "the
 * outbox"): what each notify target is still owed of the escalations.
 *
 * Outbox record, version 1 (key: be64 target | be64 incident | be64 seq,
 * the target being FNV-1a 64 of its spec, seq the history entry's):
 *   off  size  field
 *     0     1  record version = 1
 *     1     3  reserved: written 0, ignored on read
 *     4     4  attempts: deliveries that failed
 *     8     8  created_us: the escalation's time (its history entry's)
 *    16     8  next_us: not to be tried before (0: at once)
 *    24     8  last_us: the last failed attempt (0: none)
 *    32        spec, error, each as be16 n (the length with a NUL,
 *              1..65535), the text, no NUL inside, then one NUL
 *     n     4  the seal (store_rec.c)
 *
 * Invariants:
 *  1. A record is put only by cgs_outbox_add, inside the transaction that
 *     appends its history entry (store_triage.c's change): an escalation
 *     committed has its records, one not committed has none.
 *  2. A record goes only when its target accepted it (cg_store_outbox_done,
 *     called by the deliverer after the target's success): so at least
 *     once; never exactly once (a kill between the two sends it again).
 *  3. The outbox is operational state, not evidence: its records are not
 *     leaves of the log (they are deleted), and store verify does not read
 *     them; store check decodes them.
 *  4. done and failed are short write transactions of their own that never
 *     touch the handle's batch state, so a deliverer's thread may call
 *     them on the writer's handle while the writer's thread has a batch
 *     open (LMDB serialises the two write transactions).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define OUTBOX_VERSION 1
#define OUTBOX_FIXED 32

uint64_t cg_store_outbox_key(const char *spec)
{
    return cgs_hash64(spec ? spec : "");
}

size_t cgs_outbox_size(const char *spec, const char *error)
{
    return OUTBOX_FIXED + 2 + strlen(spec) + 1 + 2 + strlen(error) + 1 + REC_SEAL;
}

void cgs_outbox_encode(uint8_t *p, const cg_outbox_entry *e)
{
    const char *s[2] = { e->spec, e->error };
    size_t off = OUTBOX_FIXED;

    p[0] = OUTBOX_VERSION;
    p[1] = p[2] = p[3] = 0;
    put32(p + 4, e->attempts);
    put64(p + 8, e->created_us);
    put64(p + 16, e->next_us);
    put64(p + 24, e->last_us);
    for (int i = 0; i < 2; i++) {
        size_t len = strlen(s[i]) + 1;
        put16(p + off, (uint16_t)len);
        memcpy(p + off + 2, s[i], len);
        off += 2 + len;
    }
    cgs_seal(p, off + REC_SEAL);
}

int cgs_outbox_decode(const uint8_t *p, size_t n, cg_outbox_entry *out, const char **why)
{
    const char **s[2] = { &out->spec, &out->error };
    size_t off = OUTBOX_FIXED;

    if (n < 1 || p[0] != OUTBOX_VERSION) {
        *why = n ? "unknown record version" : "empty";
        return CG_ECORRUPT;
    }
    if (n < OUTBOX_FIXED + REC_SEAL) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    if (get32(p + n - REC_SEAL) != (uint32_t)XXH3_64bits(p, n - REC_SEAL)) {
        *why = "checksum mismatch";
        return CG_ECORRUPT;
    }
    n -= REC_SEAL;
    out->attempts = get32(p + 4);
    out->created_us = get64(p + 8);
    out->next_us = get64(p + 16);
    out->last_us = get64(p + 24);
    for (int i = 0; i < 2; i++) {
        size_t len;
        if (n - off < 2) {
            *why = "truncated";
            return CG_ECORRUPT;
        }
        len = get16(p + off);
        off += 2;
        if (len == 0 || len > n - off) {
            *why = len ? "truncated" : "bad string length";
            return CG_ECORRUPT;
        }
        if (p[off + len - 1] != 0 || memchr(p + off, 0, len - 1)) {
            *why = "bad string";
            return CG_ECORRUPT;
        }
        *s[i] = (const char *)(p + off);
        off += len;
    }
    if (off != n) {
        *why = "trailing bytes";
        return CG_ECORRUPT;
    }
    if (!out->spec[0]) {
        *why = "no target";
        return CG_ECORRUPT;
    }
    return 0;
}

static void ob_key(uint8_t k[OUTBOX_KEY], uint64_t target, uint64_t incident, uint64_t seq)
{
    put64(k, target);
    put64(k + 8, incident);
    put64(k + 16, seq);
}

int cgs_outbox_add(const cg_store *st, MDB_txn *txn, uint64_t id, uint64_t seq, uint64_t when_us)
{
    uint8_t key[OUTBOX_KEY], *rec;
    int rc = 0;

    for (size_t i = 0; i < st->ob_n && !rc; i++) {
        cg_outbox_entry e = { .spec = st->ob_spec[i], .error = "", .created_us = when_us };
        size_t n = cgs_outbox_size(e.spec, e.error);
        MDB_val k = { OUTBOX_KEY, key }, v;
        if (!(rec = malloc(n)))
            return ENOMEM;
        cgs_outbox_encode(rec, &e);
        ob_key(key, st->ob_key[i], id, seq);
        v = (MDB_val){ n, rec };
        rc = mdb_put(txn, st->dbi[DB_OUTBOX], &k, &v, 0);
        free(rec);
    }
    return rc;
}

static void free_targets(cg_store *st)
{
    for (size_t i = 0; i < st->ob_n; i++)
        free(st->ob_spec[i]);
    free(st->ob_spec);
    free(st->ob_key);
    st->ob_spec = NULL;
    st->ob_key = NULL;
    st->ob_n = 0;
}

void cgs_outbox_close(cg_store *st)
{
    free_targets(st);
}

int cg_store_outbox_targets(cg_store *st, const char *const *specs, size_t n)
{
    char **sp = NULL;
    uint64_t *ky = NULL;

    if (!st)
        return CG_EINVAL;
    if (st->flags & CG_STORE_RDONLY)
        return cgs_fail(st, CG_EINVAL, "opened read-only");
    if (n > CG_OUTBOX_TARGETS_MAX)
        return cgs_fail(st, CG_EINVAL, "outbox: at most %d targets", CG_OUTBOX_TARGETS_MAX);
    if (st->schema < 7)
        return cgs_fail(st, CG_EOLDER, "outbox: the store is schema %u (7 has the outbox)",
                        st->schema);
    for (size_t i = 0; i < n; i++) {
        size_t len = specs[i] ? strlen(specs[i]) : 0;
        if (len == 0 || len > CG_OUTBOX_SPEC_MAX)
            return cgs_fail(st, CG_EINVAL, "outbox: a target's spec is 1 to %d bytes",
                            CG_OUTBOX_SPEC_MAX);
    }
    if (n) {
        sp = calloc(n, sizeof *sp);
        ky = calloc(n, sizeof *ky);
        if (!sp || !ky)
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            if (!(sp[i] = strdup(specs[i]))) {
                for (size_t j = 0; j < i; j++)
                    free(sp[j]);
                goto nomem;
            }
            ky[i] = cg_store_outbox_key(specs[i]);
        }
    }
    free_targets(st);
    st->ob_spec = sp;
    st->ob_key = ky;
    st->ob_n = n;
    return 0;
nomem:
    free(sp);
    free(ky);
    return cgs_fail(st, CG_ENOMEM, "out of memory");
}

int cg_store_outbox_list(cg_store *st, uint64_t target,
                         int (*cb)(const cg_outbox_entry *e, void *arg), void *arg)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t key[OUTBOX_KEY];
    int rc, code = 0;

    if (!st || !cb)
        return CG_EINVAL;
    if (!cgs_db_in(DB_OUTBOX, st->schema))
        return 0;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_OUTBOX], &cur);
    ob_key(key, target, 0, 0);
    k = (MDB_val){ OUTBOX_KEY, key };
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, target ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cg_outbox_entry e;
        const char *why;
        if (k.mv_size != OUTBOX_KEY) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged (outbox: a key of %zu bytes)", k.mv_size);
            break;
        }
        e.target = get64(k.mv_data);
        if (target && e.target != target)
            break;
        e.incident = get64((const uint8_t *)k.mv_data + 8);
        e.seq = get64((const uint8_t *)k.mv_data + 16);
        if (cgs_outbox_decode(v.mv_data, v.mv_size, &e, &why)) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged (outbox %llu/%llu: bad record (%s))",
                            (unsigned long long)e.incident, (unsigned long long)e.seq, why);
            break;
        }
        if (cb(&e, arg))
            break;
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = cgs_fail_mdb(st, rc, "outbox");
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

static int wtxn(cg_store *st, MDB_txn **txn)
{
    int rc;

    if (st->flags & CG_STORE_RDONLY)
        return cgs_fail(st, CG_EINVAL, "opened read-only");
    if (!cgs_db_in(DB_OUTBOX, st->schema))
        return cgs_fail(st, CG_EOLDER, "outbox: the store is schema %u", st->schema);
    rc = mdb_txn_begin(st->env, NULL, 0, txn);
    return rc ? cgs_fail_mdb(st, rc, "outbox") : 0;
}

int cg_store_outbox_done(cg_store *st, const cg_outbox_ref *refs, size_t n, size_t *deleted)
{
    MDB_txn *txn;
    size_t del = 0;
    int rc = 0, code;

    if (!st || (n && !refs))
        return CG_EINVAL;
    if ((code = wtxn(st, &txn)) != 0)
        return code;
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t key[OUTBOX_KEY];
        MDB_val k = { OUTBOX_KEY, key };
        ob_key(key, refs[i].target, refs[i].incident, refs[i].seq);
        rc = mdb_del(txn, st->dbi[DB_OUTBOX], &k, NULL);
        if (rc == 0)
            del++;
        else if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    if (rc) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "outbox");
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return cgs_fail_mdb(st, rc, "outbox: commit");
    if (deleted)
        *deleted = del;
    return 0;
}

int cg_store_outbox_failed(cg_store *st, const cg_outbox_ref *ref, uint64_t now_us,
                           uint64_t next_us, const char *error)
{
    MDB_txn *txn;
    MDB_val k, v;
    uint8_t key[OUTBOX_KEY], *rec = NULL;
    char err[CG_OUTBOX_ERROR_MAX + 1], spec[CG_OUTBOX_SPEC_MAX + 1];
    cg_outbox_entry e;
    const char *why;
    size_t n;
    int rc, code;

    if (!st || !ref)
        return CG_EINVAL;
    if ((code = wtxn(st, &txn)) != 0)
        return code;
    ob_key(key, ref->target, ref->incident, ref->seq);
    k = (MDB_val){ OUTBOX_KEY, key };
    rc = mdb_get(txn, st->dbi[DB_OUTBOX], &k, &v);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return 0;
    }
    if (rc) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "outbox");
    }
    if (cgs_outbox_decode(v.mv_data, v.mv_size, &e, &why)) {
        mdb_txn_abort(txn);
        return cgs_fail(st, CG_ECORRUPT, "damaged (outbox %llu/%llu: bad record (%s))",
                        (unsigned long long)ref->incident, (unsigned long long)ref->seq, why);
    }
    /* copied before the put: the views are into the page it replaces */
    snprintf(spec, sizeof spec, "%s", e.spec);
    snprintf(err, sizeof err, "%s", error ? error : "");
    for (char *c = err; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    e.spec = spec;
    e.error = err;
    if (e.attempts < UINT32_MAX)
        e.attempts++;
    e.next_us = next_us;
    e.last_us = now_us;
    n = cgs_outbox_size(e.spec, e.error);
    if (!(rec = malloc(n))) {
        mdb_txn_abort(txn);
        return cgs_fail(st, CG_ENOMEM, "out of memory");
    }
    cgs_outbox_encode(rec, &e);
    v = (MDB_val){ n, rec };
    rc = mdb_put(txn, st->dbi[DB_OUTBOX], &k, &v, 0);
    free(rec);
    if (rc) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "outbox");
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return cgs_fail_mdb(st, rc, "outbox: commit");
    return 0;
}
