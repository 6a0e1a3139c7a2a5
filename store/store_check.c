/* store_check.c — `canhgac store check|backup|restore` underneath: a walk
 * of every key and value of every database, a consistent copy, and putting
 * a copy back.
 *
 * Invariants:
 *  1. The walk only reads (one read transaction per database) and goes on
 *     after a bad entry: each is one problem for the callback. A fault in a
 *     damaged page cannot be gone on from; store_guard.c turns it into a
 *     line naming what the walk was at (cg_store_fault_where), and the
 *     caller runs each database's walk in a child of its own.
 *  2. Every value is judged by the layout of its database (store_rec.c):
 *     records by the decoders, whose key must match the record's id; the
 *     others by their key and value lengths. The walk counts entries and
 *     compares with LMDB's count of the database.
 *  3. A backup is one read transaction's snapshot (mdb_env_copy2): a writer
 *     goes on meanwhile. A restore holds DIR/writer.lock from before it
 *     touches DIR to the end, so no writer starts on a half-restored store,
 *     and renames (never overwrites) the data.mdb it replaces.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cg_store_check_ndb(void)
{
    return DB_N;
}

const char *cg_store_db_name(int db)
{
    return db >= 0 && db < DB_N ? cgs_db_names[db] : NULL;
}

/* A key as the messages write it: ids for the record databases, hex else. */
static void key_str(int db, const MDB_val *k, char *out, size_t len)
{
    const uint8_t *p = k->mv_data;
    size_t n = 0;

    if ((db == DB_INC && k->mv_size == 8) ||
        ((db == DB_ALERT || db == DB_EV) && k->mv_size == 12) ||
        ((db == DB_HIST || db == DB_CASEH) && k->mv_size == 16) ||
        (db == DB_CASE && k->mv_size == 8)) {
        n = (size_t)snprintf(out, len, "%llu", (unsigned long long)get64(p));
        if (k->mv_size == 12)
            snprintf(out + n, len - n, "/%u", get32(p + 8));
        else if (k->mv_size == 16)
            snprintf(out + n, len - n, "/%llu", (unsigned long long)get64(p + 8));
        return;
    }
    if (db == DB_OUTBOX && k->mv_size == OUTBOX_KEY) {
        snprintf(out, len, "%016llx/%llu/%llu", (unsigned long long)get64(p),
                 (unsigned long long)get64(p + 8), (unsigned long long)get64(p + 16));
        return;
    }
    if ((db == DB_LOG || db == DB_AUDIT) && k->mv_size == 8) {
        snprintf(out, len, "%llu", (unsigned long long)get64(p));
        return;
    }
    if (db == DB_USERS && k->mv_size <= 32) {
        snprintf(out, len, "%.*s", (int)k->mv_size, (const char *)p);
        return;
    }
    if (db == DB_META) {
        snprintf(out, len, "%.*s", (int)(k->mv_size > 32 ? 32 : k->mv_size), (const char *)p);
        return;
    }
    out[0] = 0;
    for (size_t i = 0; i < k->mv_size && i < 24 && n + 3 < len; i++)
        n += (size_t)snprintf(out + n, len - n, "%02x", p[i]);
}

/* The problem with one entry, or NULL. */
static const char *judge(const cg_store *st, int db, const MDB_val *k, const MDB_val *v)
{
    const uint8_t *kp = k->mv_data, *vp = v->mv_data;
    const char *why = NULL;
    union {
        cg_incident inc;
        cg_alert a;
        cg_evidence ev;
        cg_history h;
    } u;

    switch (db) {
    case DB_META:
        if (k->mv_size == 6 && !memcmp(kp, "schema", 6))
            return v->mv_size == 4 ? NULL : "schema: not 4 bytes";
        if (k->mv_size == 7 && !memcmp(kp, "next_id", 7))
            return v->mv_size == 8 ? NULL : "next_id: not 8 bytes";
        return NULL;
    case DB_INC:
        if (k->mv_size != 8)
            return "key not 8 bytes";
        if (cgs_inc_decode(vp, v->mv_size, &u.inc, &why))
            return why;
        return u.inc.id == get64(kp) ? NULL : "the record's id is not its key";
    case DB_ALERT:
    case DB_EV:
        if (k->mv_size != 12)
            return "key not 12 bytes";
        if (db == DB_ALERT ? cgs_alert_decode(vp, v->mv_size, &u.a, &why)
                           : cgs_ev_decode(vp, v->mv_size, &u.ev, &why))
            return why;
        return NULL;
    case DB_HIST:
        if (k->mv_size != 16)
            return "key not 16 bytes";
        return cgs_hist_decode(vp, v->mv_size, &u.h, &why) ? why : NULL;
    case DB_PARTS: return k->mv_size == 4 && v->mv_size == 16 ? NULL : "not a partition span";
    case DB_PAIRS: return k->mv_size == 36 && v->mv_size == 16 ? NULL : "not an attack pair";
    case DB_LOG:
        if (k->mv_size != 8)
            return "key not 8 bytes";
        if (v->mv_size == 0 || v->mv_size % LOG_SLOT || v->mv_size > LOG_SLOT * LOG_BLOCK)
            return "not a block of leaves";
        for (size_t o = 0; o < v->mv_size; o += LOG_SLOT) {
            unsigned kl = cgs_log_klen(vp[o + 32]);
            if (!kl)
                return "a leaf of no known kind";
            for (unsigned b = 33 + kl; b < LOG_SLOT; b++)
                if (vp[o + b])
                    return "a leaf's key not padded with zeros";
        }
        return NULL;
    case DB_CASE: {
        cg_case c;
        if (k->mv_size != 8)
            return "key not 8 bytes";
        if (cgs_case_decode(vp, v->mv_size, &c, &why))
            return why;
        return c.id == get64(kp) ? NULL : "the record's id is not its key";
    }
    case DB_CASEH: {
        cg_case_event e;
        if (k->mv_size != 16)
            return "key not 16 bytes";
        return cgs_cev_decode(vp, v->mv_size, &e, &why) ? why : NULL;
    }
    case DB_OUTBOX: {
        cg_outbox_entry e;
        if (k->mv_size != OUTBOX_KEY)
            return "key not 24 bytes";
        return cgs_outbox_decode(vp, v->mv_size, &e, &why) ? why : NULL;
    }
    case DB_USERS: {
        cg_user us;
        const char *hash;
        if (cgs_user_decode(vp, v->mv_size, &us, &hash, &why))
            return why;
        return k->mv_size == strlen(us.name) && !memcmp(kp, us.name, k->mv_size)
            ? NULL
            : "the record's name is not its key";
    }
    case DB_TOKENS: {
        cg_token_info t;
        if (k->mv_size != TOKEN_KEY)
            return "key not 32 bytes";
        return cgs_token_decode(vp, v->mv_size, &t, &why) ? why : NULL;
    }
    case DB_AUDIT: {
        cg_audit a;
        if (k->mv_size != AUDIT_KEY)
            return "key not 8 bytes";
        return cgs_audit_decode(vp, v->mv_size, &a, &why) ? why : NULL;
    }
    case DB_LOGN:
        if (k->mv_size != 9 || kp[0] == 0 || kp[0] > 63 || kp[0] % 4)
            return "not a node key";
        return v->mv_size == 32 ? NULL : "node not 32 bytes";
    default: {
        const struct cgs_ixdef *ix = &cgs_ix[db - DB_IX0];
        unsigned kl = ix->keylen + (ix->flags & IXF_PART ? 4 : 0);
        unsigned vl = ix->flags & IXF_PART ? 2 : 8;
        (void)st;
        if (k->mv_size != kl)
            return "index key of the wrong length";
        return v->mv_size == vl ? NULL : "index value of the wrong length";
    }
    }
}

int cg_store_check(cg_store *st, int db, void (*cb)(const char *problem, void *arg), void *arg,
                   uint64_t *entries)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    MDB_stat ms;
    char key[64], where[128], line[256];
    const char *name = cg_store_db_name(db), *why;
    uint64_t n = 0, bad = 0;
    int rc, code;

    if (!name)
        return cgs_fail(st, CG_EINVAL, "no database %d", db);
    if (!cgs_db_in(db, st->schema)) {
        *entries = 0;
        return 0;
    }
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    snprintf(where, sizeof where, "%s, its first key", name);
    cg_store_fault_where(where);
    rc = mdb_cursor_open(txn, st->dbi[db], &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        n++;
        key_str(db, &k, key, sizeof key);
        snprintf(where, sizeof where, "%s key %s", name, key);
        cg_store_fault_where(where);
        if ((why = judge(st, db, &k, &v)) != NULL) {
            snprintf(line, sizeof line, "%s key %s: %s", name, key, why);
            cb(line, arg);
            bad++;
        }
        snprintf(where, sizeof where, "%s after key %s", name, key);
        cg_store_fault_where(where);
    }
    cg_store_fault_where(NULL);
    if (rc != MDB_NOTFOUND) {
        snprintf(line, sizeof line, "%s: %s%s", name, n ? "after key " : "", n ? key : "");
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", n ? ": " : "",
                 mdb_strerror(rc));
        cb(line, arg);
        bad++;
    } else if (mdb_stat(txn, st->dbi[db], &ms) == 0 && ms.ms_entries != n) {
        snprintf(line, sizeof line, "%s: %llu entries walked, LMDB counts %llu", name,
                 (unsigned long long)n, (unsigned long long)ms.ms_entries);
        cb(line, arg);
        bad++;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    *entries = n;
    if (bad) {
        cgs_note_damaged();
        return cgs_fail(st, CG_ECORRUPT, "damaged (%s: %llu problems): restore from a backup", name,
                        (unsigned long long)bad);
    }
    return 0;
}

int cg_store_backup(cg_store *st, const char *outdir)
{
    char path[PATH_MAX];
    struct stat sb;
    int rc;

    if (mkdir(outdir, 0750) != 0 && errno != EEXIST)
        return cgs_fail(st, CG_EIO, "backup %s: %s", outdir, strerror(errno));
    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", outdir) >= sizeof path)
        return cgs_fail(st, CG_EINVAL, "backup %s: path too long", outdir);
    if (stat(path, &sb) == 0)
        return cgs_fail(st, CG_EINVAL, "backup %s: holds a data.mdb already", outdir);
    cg_store_fault_where("copying for the backup");
    rc = mdb_env_copy2(st->env, outdir, MDB_CP_COMPACT);
    cg_store_fault_where(NULL);
    if (rc) {
        unlink(path);
        return cgs_fail_mdb(st, rc, "backup");
    }
    if (chmod(path, 0640) != 0)
        return cgs_fail(st, CG_EIO, "backup %s: %s", outdir, strerror(errno));
    return 0;
}

/* Copies src to dst (created 0640, must not exist) and syncs it. */
static int copy_file(const char *src, const char *dst)
{
    char buf[1 << 16];
    ssize_t n;
    int in, out, err = 0;

    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
        return errno;
    if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
        err = errno;
        close(in);
        return err;
    }
    while ((n = read(in, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                err = errno;
                goto done;
            }
            off += w;
        }
    }
    if (n < 0)
        err = errno;
    else if (fsync(out) != 0)
        err = errno;
done:
    if (close(out) != 0 && !err)
        err = errno;
    close(in);
    if (err)
        unlink(dst);
    return err;
}

int cg_store_restore(const char *backup, const char *dir)
{
    cg_store *b = NULL, *st;
    char src[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX], old[PATH_MAX], lock[PATH_MAX], buf[32];
    size_t dlen = strlen(dir);
    struct stat sb;
    int fd = -1, code = 0, e, dfd;
    ssize_t n;

    /* the backup must be a store this canhgac reads */
    if ((code = cg_store_open(&b, backup, CG_STORE_RDONLY, 0)) != 0)
        return code;
    cg_store_close(b);
    st = calloc(1, sizeof *st + dlen + 1);
    if (!st)
        return CG_EIO;
    memcpy(st->dir, dir, dlen + 1);
    if ((size_t)snprintf(src, sizeof src, "%s/data.mdb", backup) >= sizeof src ||
        (size_t)snprintf(dst, sizeof dst, "%s/data.mdb", dir) >= sizeof dst ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/data.mdb.restoring", dir) >= sizeof tmp ||
        (size_t)snprintf(old, sizeof old, "%s/data.mdb.damaged-%lld", dir, (long long)time(NULL)) >=
            sizeof old ||
        (size_t)snprintf(lock, sizeof lock, "%s/writer.lock", dir) >= sizeof lock) {
        code = cgs_fail(st, CG_EINVAL, "path too long");
        goto out;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        code = cgs_fail(st, CG_EIO, "cannot create the directory: %s", strerror(errno));
        goto out;
    }
    if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        code = cgs_fail(st, CG_EIO, "writer.lock: %s", strerror(errno));
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        long pid = 0;
        if ((n = pread(fd, buf, sizeof buf - 1, 0)) > 0) {
            buf[n] = 0;
            pid = strtol(buf, NULL, 10);
        }
        code = cgs_fail(st, CG_EBUSY,
                        "a sensor writes this store (pid %ld): stop it "
                        "before restoring",
                        pid);
        goto out;
    }
    unlink(tmp);
    if ((e = copy_file(src, tmp)) != 0) {
        code = cgs_fail(st, CG_EIO, "copying %s: %s", src, strerror(e));
        goto out;
    }
    if (stat(dst, &sb) == 0 && rename(dst, old) != 0) {
        code = cgs_fail(st, CG_EIO, "moving data.mdb aside: %s", strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, dst) != 0) {
        code = cgs_fail(st, CG_EIO, "data.mdb: %s", strerror(errno));
        goto out;
    }
    /* the reader table of the old file: readers still open keep it */
    snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
    unlink(lock);
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    if (fd >= 0)
        close(fd);
    free(st);
    return code;
}
