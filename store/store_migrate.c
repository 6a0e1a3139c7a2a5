/* store_migrate.c — a store of schema 2 brought to schema 3 in place, when a
 * writer or a triage handle opens it (store.h: Opening). Read-only handles
 * read schema 2 as it is: the record decoder knows both versions.
 *
 * One write transaction does it all, so a crash or a kill leaves schema 2
 * whole or schema 3 whole:
 *  1. the schema is read again inside the transaction (another process may
 *     have migrated the store meanwhile: then nothing is done);
 *  2. the databases new in schema 3 are created: pairs and by_attack;
 *  3. every incident record, in id order, is decoded (version 2), given its
 *     attack as cg_store_put would give it (store_attack.c, with the default
 *     window of an hour) and written again as version 3, with an empty
 *     context; its by_attack entry is added. The other indexes, alerts,
 *     evidence, history and partitions do not change (their keys and
 *     records are the same in both schemas). A record that does not decode
 *     is left as it is: readers report it as they did;
 *  4. meta "schema" becomes 3, and the transaction commits.
 * LMDB lets one write transaction run at a time across processes, so a
 * sensor or another triage call waits for it (2 s for bench_store's 100,000
 * incidents of schema 2 on the development machine, so about 20 s a million).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_FLAGS (MDB_DUPSORT | MDB_DUPFIXED)
#define MIGRATE_WINDOW_US 3600000000ull

int cgs_migrate(cg_store *st)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t *buf = NULL, ab[8], ib[8];
    size_t cap = 0;
    const char *why, *what = "incidents";
    int rc, code = 0;

    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return cgs_fail_mdb(st, rc, "migrating to schema 3");
    k = (MDB_val){ 6, (void *)"schema" };
    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc || v.mv_size != 4) {
        code = rc ? cgs_fail_mdb(st, rc, "meta")
                  : cgs_fail(st, CG_ECORRUPT, "not a canhgac store (bad schema version record)");
        goto out;
    }
    if (get32(v.mv_data) != 2)
        goto out; /* done by another process meanwhile (or refused by check_store next) */
    for (int i = 0; i < DB_N && !rc; i++)
        if (cgs_db_v3(i)) {
            what = cgs_db_names[i];
            rc = mdb_dbi_open(txn, cgs_db_names[i], MDB_CREATE | (i >= DB_IX0 ? INDEX_FLAGS : 0),
                              &st->dbi[i]);
        }
    if (!rc) {
        what = "incidents";
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
        if (size > cap) {
            uint8_t *b = realloc(buf, size);
            if (!b) {
                code = cgs_fail(st, CG_ENOMEM, "migrating to schema 3: out of memory");
                goto out;
            }
            buf = b;
            cap = size;
        }
        /* encoded before any write: x's strings are views into the page */
        cgs_inc_encode(buf, &x);
        x.attack_id = 0;
        what = "pairs";
        if ((rc = cgs_attack_put(st, txn, &x, MIGRATE_WINDOW_US)) != 0)
            break;
        put64(buf + OFF_ATTACK, x.attack_id);
        nv = (MDB_val){ size, buf };
        what = "incidents";
        /* the key copied: LMDB rewrites the node k points into */
        put64(ib, x.id);
        k = (MDB_val){ 8, ib };
        if ((rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT)) != 0)
            break;
        put64(ab, x.attack_id);
        put64(ib, x.id);
        ak = (MDB_val){ 8, ab };
        iv = (MDB_val){ 8, ib };
        what = "by_attack";
        if ((rc = mdb_put(txn, st->dbi[DB_IX0 + IX_ATTACK], &ak, &iv, 0)) != 0)
            break;
    }
    if (rc == MDB_NOTFOUND) {
        uint8_t b[4];
        put32(b, 3);
        k = (MDB_val){ 6, (void *)"schema" };
        v = (MDB_val){ 4, b };
        what = "meta";
        rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
    }
    if (rc) {
        code = cgs_fail_mdb(st, rc, what);
        goto out;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        code = cgs_fail_mdb(st, rc, "migrating to schema 3: commit");
out:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    free(buf);
    return code;
}
