/* store_migrate.c — a store of an older schema (2 to 7) brought to
 * schema 8 in place, when a writer or a triage handle opens it (store.h: Opening).
 * Read-only handles read the older schemas as they are: the record decoder
 * knows every version.
 *
 * One write transaction does it all, so a crash or a kill leaves the old
 * schema whole or schema 8 whole:
 *  1. the schema is read again inside the transaction (another process may
 *     have migrated the store meanwhile: then nothing is done);
 *  2. from schema 2 only: the databases new in schema 3 are created (pairs
 *     and by_attack), and every incident record, in id order, is decoded
 *     (version 2), given its attack as cg_store_put would give it
 *     (store_attack.c, with the default window of an hour) and written again
 *     in the current version, with an empty context; its by_attack entry is
 *     added. The other indexes and partitions do not change;
 *  3. every record of the four record databases (incidents, alerts,
 *     evidence, history) of an unsealed version is sealed: the same bytes
 *     with the new version and the seal after them (store_rec.c). Keys,
 *     indexes and values do not change;
 *  4. the log begins (store_log.c): log and log_nodes are created, meta
 *     "origin" drawn, and every record that decodes gets its leaf, in key
 *     order: the incidents, then the alerts, the evidence and the history;
 *     (steps 3 and 4 from schema 2 or 3 only);
 *  5. the databases of the cases (cases, case_history, by_case) are
 *     created, empty (from schema 4 and before);
 *  6. the outbox (store_outbox.c) is created, empty (from schema 6 and
 *     before);
 *  7. the console's databases (store_user.c: users, tokens, audit) are
 *     created, empty (from schema 7 and before);
 *  8. meta "schema" becomes 8 (schema 6 added nothing but a history kind,
 *     the escalations: the version keeps schema 5's readers from calling
 *     them damaged; schema 7 the outbox; schema 8 the accounts), and the
 *     transaction commits.
 * A record that does not decode is left as it is in both steps: readers
 * report it as they did. LMDB lets one write transaction run at a time
 * across processes, so a sensor or another triage call waits for it (from
 * schema 2, 2 s for bench_store's 100,000 incidents on the development
 * machine, so about 20 s a million).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_FLAGS (MDB_DUPSORT | MDB_DUPFIXED)
#define MIGRATE_WINDOW_US 3600000000ull

/* A buffer of at least n bytes in *buf (capacity *cap); 0 or CG_ENOMEM. */
static int reserve(uint8_t **buf, size_t *cap, size_t n)
{
    uint8_t *b;

    if (n <= *cap)
        return 0;
    if (!(b = realloc(*buf, n)))
        return CG_ENOMEM;
    *buf = b;
    *cap = n;
    return 0;
}

/* Step 2: schema 2's incidents given attacks. An LMDB code, or CG_ENOMEM. */
static int to_v3(cg_store *st, MDB_txn *txn, uint8_t **buf, size_t *cap, const char **what)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t ab[8], ib[8];
    const char *why;
    int rc = 0;

    for (int i = 0; i < DB_N && !rc; i++)
        if (cgs_db_v3(i)) {
            *what = cgs_db_names[i];
            rc = mdb_dbi_open(txn, cgs_db_names[i], MDB_CREATE | (i >= DB_IX0 ? INDEX_FLAGS : 0),
                              &st->dbi[i]);
        }
    if (!rc) {
        *what = "incidents";
        rc = mdb_cursor_open(txn, st->dbi[DB_INC], &cur);
    }
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cg_incident x;
        size_t size;
        MDB_val nv, ak, iv;
        if (k.mv_size != 8 || cgs_inc_decode(v.mv_data, v.mv_size, &x, &why) ||
            x.id != get64(k.mv_data) || x.attack_id != 0)
            continue;       /* a damaged record (or one of version 3): as it is */
        x.attack_id = x.id; /* stands in until cgs_attack_put decides */
        size = cgs_inc_size(&x, &why);
        if (size == 0)
            continue; /* a field the encoder refuses: the record stays as it is */
        if (reserve(buf, cap, size)) {
            rc = CG_ENOMEM;
            break;
        }
        /* encoded before any write: x's strings are views into the page */
        cgs_inc_encode(*buf, &x);
        x.attack_id = 0;
        *what = "pairs";
        if ((rc = cgs_attack_put(st, txn, &x, MIGRATE_WINDOW_US)) != 0)
            break;
        put64(*buf + OFF_ATTACK, x.attack_id);
        cgs_seal(*buf, size);
        nv = (MDB_val){ size, *buf };
        *what = "incidents";
        /* the key copied: LMDB rewrites the node k points into */
        put64(ib, x.id);
        k = (MDB_val){ 8, ib };
        if ((rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT)) != 0)
            break;
        put64(ab, x.attack_id);
        put64(ib, x.id);
        ak = (MDB_val){ 8, ab };
        iv = (MDB_val){ 8, ib };
        *what = "by_attack";
        if ((rc = mdb_put(txn, st->dbi[DB_IX0 + IX_ATTACK], &ak, &iv, 0)) != 0)
            break;
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Step 3: every unsealed record sealed. An LMDB code, or CG_ENOMEM. */
static int seal_all(cg_store *st, MDB_txn *txn, uint8_t **buf, size_t *cap, const char **what)
{
    static const int dbs[] = { DB_INC, DB_ALERT, DB_EV, DB_HIST };
    int rc = 0;

    for (size_t d = 0; d < sizeof dbs / sizeof dbs[0] && !rc; d++) {
        MDB_cursor *cur;
        MDB_val k, v;
        uint8_t key[16];
        *what = cgs_db_names[dbs[d]];
        if ((rc = mdb_cursor_open(txn, st->dbi[dbs[d]], &cur)) != 0)
            break;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            MDB_val nk, nv;
            if (k.mv_size > sizeof key || v.mv_size > SIZE_MAX - REC_SEAL)
                continue;
            if (reserve(buf, cap, v.mv_size + REC_SEAL)) {
                rc = CG_ENOMEM;
                break;
            }
            if (!cgs_rec_reseal(dbs[d], v.mv_data, v.mv_size, *buf))
                continue; /* sealed already, or damaged: as it is */
            /* the key copied: LMDB rewrites the node k points into */
            memcpy(key, k.mv_data, k.mv_size);
            nk = (MDB_val){ k.mv_size, key };
            nv = (MDB_val){ v.mv_size + REC_SEAL, *buf };
            if ((rc = mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT)) != 0)
                break;
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc;
}

/* Step 5: the cases' databases. An LMDB code. */
static int to_v5(cg_store *st, MDB_txn *txn, const char **what)
{
    int rc = 0;

    for (int i = 0; i < DB_N && !rc; i++)
        if (cgs_db_v5(i)) {
            *what = cgs_db_names[i];
            rc = mdb_dbi_open(txn, cgs_db_names[i], MDB_CREATE | (i >= DB_IX0 ? INDEX_FLAGS : 0),
                              &st->dbi[i]);
        }
    return rc;
}

/* Step 6: the outbox. An LMDB code. */
static int to_v7(cg_store *st, MDB_txn *txn, const char **what)
{
    *what = cgs_db_names[DB_OUTBOX];
    return mdb_dbi_open(txn, cgs_db_names[DB_OUTBOX], MDB_CREATE, &st->dbi[DB_OUTBOX]);
}

/* Step 7: the accounts, tokens and audit trail. An LMDB code. */
static int to_v8(cg_store *st, MDB_txn *txn, const char **what)
{
    int rc = 0;

    for (int i = 0; i < DB_N && !rc; i++)
        if (cgs_db_v8(i)) {
            *what = cgs_db_names[i];
            rc = mdb_dbi_open(txn, cgs_db_names[i], MDB_CREATE, &st->dbi[i]);
        }
    return rc;
}

/* Step 4: the log of what the store holds. An LMDB code. */
static int begin_log(cg_store *st, MDB_txn *txn, const char **what)
{
    static const struct {
        int db;
        unsigned kind;
        size_t klen;
    } kinds[] = {
        { DB_INC, CGS_LOG_INC, 8 },
        { DB_ALERT, CGS_LOG_ALERT, 12 },
        { DB_EV, CGS_LOG_EV, 12 },
        { DB_HIST, CGS_LOG_HIST, 16 },
    };
    int rc = 0;

    for (int i = 0; i < DB_N && !rc; i++)
        if (cgs_db_v4(i)) {
            *what = cgs_db_names[i];
            rc = mdb_dbi_open(txn, cgs_db_names[i], MDB_CREATE, &st->dbi[i]);
        }
    *what = "meta";
    if (!rc)
        rc = cgs_log_begin_origin(st, txn);
    *what = "log";
    if (!rc)
        rc = cgs_log_load(st, txn);
    for (size_t d = 0; d < sizeof kinds / sizeof kinds[0] && !rc; d++) {
        MDB_cursor *cur;
        MDB_val k, v;
        if ((rc = mdb_cursor_open(txn, st->dbi[kinds[d].db], &cur)) != 0)
            break;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            union {
                cg_incident x;
                cg_alert a;
                cg_evidence e;
                cg_history h;
            } u;
            const char *why;
            int bad;
            if (k.mv_size != kinds[d].klen)
                continue;
            switch (kinds[d].db) {
            case DB_INC: bad = cgs_inc_decode(v.mv_data, v.mv_size, &u.x, &why); break;
            case DB_ALERT: bad = cgs_alert_decode(v.mv_data, v.mv_size, &u.a, &why); break;
            case DB_EV: bad = cgs_ev_decode(v.mv_data, v.mv_size, &u.e, &why); break;
            default: bad = cgs_hist_decode(v.mv_data, v.mv_size, &u.h, &why); break;
            }
            if (bad)
                continue; /* damaged: no leaf blesses it */
            if ((rc = cgs_log_add(st, txn, kinds[d].kind, k.mv_data, v.mv_data, v.mv_size)) != 0)
                break;
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc ? rc : cgs_log_flush(st, txn);
}

int cgs_migrate(cg_store *st)
{
    MDB_txn *txn = NULL;
    MDB_val k, v;
    uint8_t *buf = NULL, b[4];
    size_t cap = 0;
    const char *what = "incidents";
    uint32_t schema;
    int rc, code = 0;

    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return cgs_fail_mdb(st, rc, "migrating to schema 8");
    k = (MDB_val){ 6, (void *)"schema" };
    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc || v.mv_size != 4) {
        code = rc ? cgs_fail_mdb(st, rc, "meta")
                  : cgs_fail(st, CG_ECORRUPT, "not a canhgac store (bad schema version record)");
        goto out;
    }
    schema = get32(v.mv_data);
    if (schema < 2 || schema >= CG_STORE_SCHEMA)
        goto out; /* done by another process meanwhile (or refused by check_store next) */
    rc = schema == 2 ? to_v3(st, txn, &buf, &cap, &what) : 0;
    if (!rc && schema < 4)
        rc = seal_all(st, txn, &buf, &cap, &what);
    if (!rc && schema < 4)
        rc = begin_log(st, txn, &what);
    if (!rc && schema < 5)
        rc = to_v5(st, txn, &what);
    if (!rc && schema < 7)
        rc = to_v7(st, txn, &what);
    if (!rc && schema < 8)
        rc = to_v8(st, txn, &what);
    if (!rc) {
        put32(b, CG_STORE_SCHEMA);
        k = (MDB_val){ 6, (void *)"schema" };
        v = (MDB_val){ 4, b };
        what = "meta";
        rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
    }
    if (rc == CG_ENOMEM) {
        code = cgs_fail(st, CG_ENOMEM, "migrating to schema %u: out of memory", CG_STORE_SCHEMA);
        goto out;
    }
    if (rc) {
        code = cgs_fail_mdb(st, rc, what);
        goto out;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        code = cgs_fail_mdb(st, rc, "migrating to schema 8: commit");
    else
        st->migrated_from = schema;
out:
    if (txn)
        mdb_txn_abort(txn);
    free(buf);
    return code;
}
