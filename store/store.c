/* store.c — the LMDB incident store: environment and schema check, the
 * writer lock, the batched writer and index upkeep. The contract is store.h;
 * the byte layouts are in store_rec.c; this page is how the pieces hold.
 *
 * Files in DIR:
 *   data.mdb, lock.mdb   LMDB's (one environment, thirty named databases);
 *                        the writer gives lock.mdb the group's write bit when
 *                        data.mdb is group-readable (the group's readers lock)
 *   writer.lock          flock(LOCK_EX) by the writer handle for its whole
 *                        life; holds the writer's pid as text. Readers and
 *                        triage handles never open it.
 *
 * Invariants:
 *  1. Every incident record has exactly one entry (its key, its id) in each
 *     index whose key it has, derived from its current fields, and no other
 *     entry but by_community's: that one keeps every Community ID the
 *     incident ever had, its own and its stored alerts' (add-only).
 *     cg_store_put and the triage calls keep that in the transaction that
 *     writes the record. Readers still check every filter but the Community
 *     ID on the decoded record, so an index that disagrees with its record
 *     (a store damaged elsewhere) never yields a false match there.
 *  2. After a commit, meta next_id is greater than every incident id.
 *  3. At most one writer handle per store: it holds writer.lock LOCK_EX
 *     from before LMDB is opened until after LMDB is closed.
 *  4. Nothing is written to a store before its schema has been accepted: a
 *     refused store's data.mdb is left as it was (LMDB may rewrite its own
 *     lock.mdb; a writer leaves writer.lock behind).
 *  5. Bytes read from LMDB go through the bounds-checked decoders only.
 *  6. The triage fields of a stored record (status, assignee, flags and the
 *     severity they mark as set, nnotes) change only in a triage
 *     transaction; cg_store_put reads them back from the stored record in
 *     its own transaction and keeps them. Its layers only climb: put keeps
 *     the stored ones, cg_store_escalate adds (store_triage.c).
 *  7. History entries are only appended (the next seq after the last one of
 *     the incident); nothing writes an existing history key.
 *  8. The span in "parts" of a partition holds the first_us of every
 *     incident of the partition (it may be wider): the batch that puts an
 *     incident widens it before it commits. A reader skips a partition only
 *     on a span that decodes and lies outside the query's time range.
 *  9. An incident's attack id is in 1 .. its id, and "pairs" holds each
 *     attack's latest last_us put for its incidents (store_attack.c). cg_store_put decides the attack and writes the pair
 *     in the transaction that writes the record.
 * 10. An error met after open that says the store's bytes are wrong
 *     (CG_ECORRUPT) says "damaged (...): restore from a backup" and
 *     marks the process (cg_store_damaged); faults in a damaged page are
 *     store_guard.c's.
 * 11. A full disk is said as one ("No space left on device", CG_EFULL),
 *     never as damage: a writer allocates lock.mdb's pages before LMDB
 *     writes them through its map (reserve_lock), LMDB's EIO for a write
 *     cut short on a full file system is ENOSPC (cgs_disk_full), and a
 *     data.mdb that a writer began and could not create is removed. LMDB
 *     writes data.mdb with pwrite (no MDB_WRITEMAP), so a failed write is
 *     an error of its commit, which then stores nothing of the batch.
 *
 * Writers across processes. LMDB runs one write transaction at a time in an
 * environment, across processes (its writer mutex in lock.mdb). The sensor's
 * batch and a triage process's short transaction therefore take turns; the
 * triage's never sees a half batch, and the batch that starts after it reads
 * its result (invariant 6). writer.lock is something else: it keeps a second
 * sensor from writing incidents with ids of its own.
 *
 * The writer side of a handle (its state's invariants, W1 to W9, are
 * store_int.h's; builds with CG_INVARIANTS check them at each begin, commit
 * and abort, and every CG_INVARIANT_EVERY puts):
 *
 *            cg_store_begin               put ok
 *    IDLE ───────────────────> OPEN <────────────┐
 *     ^ ^                       │ └───────────────┘
 *     │ │  commit / abort       │
 *     │ └───────────────────────┤ put, put_alert, put_evidence or commit
 *     │                         v fails in LMDB (the transaction is aborted)
 *     └────── commit / abort ─ FAILED   put*: the batch's error again,
 *          (commit returns the          nothing done
 *           batch's error)
 *
 * Threads: the reader functions only read the LMDB environment and the dbi
 * handles, fixed at open, and each runs in its own read-only transaction
 * (MDB_NOTLS: not tied to the thread); error messages are per thread. So
 * readers may share a handle across threads, and with the one writer thread.
 */
#include "store/store_int.h"
#include "sensor/invariant.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define INDEX_FLAGS (MDB_DUPSORT | MDB_DUPFIXED)

/* The last error message of this thread. Thread-local rather than in the
 * handle because reader threads share one handle (LMDB wants an environment
 * opened once per process), and because a failed cg_store_open has no handle
 * to keep it in: it is read with cg_store_error(NULL). */
static _Thread_local struct {
    const cg_store *st;
    char msg[PATH_MAX + 256];
} last_err;

int cgs_fail(const cg_store *st, int code, const char *fmt, ...)
{
    va_list ap;
    int n;

    last_err.st = st->opened ? st : NULL;
    n = snprintf(last_err.msg, sizeof last_err.msg, "%s: ", st->dir);
    if (n >= 0 && (size_t)n < sizeof last_err.msg) {
        va_start(ap, fmt);
        vsnprintf(last_err.msg + n, sizeof last_err.msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (code == CG_ECORRUPT && st->opened && n >= 0 &&
        strncmp(last_err.msg + n, "damaged", 7) != 0) {
        /* a store that opened and then read wrong: data.mdb was damaged */
        char inner[sizeof last_err.msg];
        snprintf(inner, sizeof inner, "%s", last_err.msg + n);
        snprintf(last_err.msg + n, sizeof last_err.msg - (size_t)n,
                 "damaged (%s): restore from a backup", inner);
        cgs_note_damaged();
    }
    return code;
}

static int map_mdb(int rc)
{
    switch (rc) {
    case MDB_SUCCESS: return CG_OK;
    case MDB_NOTFOUND: return CG_ENOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL: return CG_EFULL;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE: return CG_ECORRUPT;
    case MDB_BAD_VALSIZE:
    case EINVAL: return CG_EINVAL;
    case ENOSPC:
    case EDQUOT: return CG_EFULL;
    case ENOMEM: return CG_ENOMEM;
    default: return CG_EIO;
    }
}

int cgs_disk_full(const char *dir)
{
    struct statfs sf;

    if (statfs(dir, &sf) != 0 || sf.f_bsize <= 0)
        return 0;
    /* root may write into the blocks kept for it */
    uint64_t avail = geteuid() == 0 ? (uint64_t)sf.f_bfree : (uint64_t)sf.f_bavail;
    return avail < DISK_FULL_SLACK / (uint64_t)sf.f_bsize;
}

/* An LMDB failure as a code and a message; `what` names the step, or NULL
 * when LMDB's text says it all ("DIR: Permission denied"). */
int cgs_fail_mdb(const cg_store *st, int rc, const char *what)
{
    MDB_envinfo ei;

    if (rc == MDB_MAP_FULL) {
        ei.me_mapsize = 0;
        if (st->env)
            mdb_env_info(st->env, &ei);
        return cgs_fail(st, CG_EFULL,
                        "store is full (map size %llu MiB); nothing of this %s was stored",
                        (unsigned long long)(ei.me_mapsize / MIB),
                        st->wstate == W_OPEN ? "batch" : "change");
    }
    if (rc == MDB_TXN_FULL)
        return cgs_fail(st, CG_EFULL,
                        "batch too large for one transaction; nothing of this batch was stored");
    if (rc == MDB_MAP_RESIZED)
        return cgs_fail(st, CG_EIO,
                        "the writer grew the map beyond this handle's; open the store again");
    /* A short write is LMDB's EIO ("short write, filesystem full?"): with
     * the file system out of room, it is the disk that is full. */
    if (rc == EDQUOT || (rc == EIO && cgs_disk_full(st->dir)))
        rc = ENOSPC;
    if (rc == ENOSPC) {
        if (!st->opened)
            return cgs_fail(st, CG_EFULL, "%s%s%s", what ? what : "", what ? ": " : "",
                            strerror(ENOSPC));
        return cgs_fail(st, CG_EFULL, "%s%s%s; nothing of this %s was stored", what ? what : "",
                        what ? ": " : "", strerror(ENOSPC),
                        st->wstate == W_OPEN ? "batch" : "change");
    }
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_PAGE_FULL || rc == EFAULT) {
        /* LMDB met a page that is not what its parent says, a page fuller
         * than a page, or handed the kernel a pointer out of its map:
         * data.mdb was damaged under it (store_guard.c has the faults) */
        cgs_note_damaged();
        return cgs_fail(st, CG_ECORRUPT, "damaged (%s%s%s): restore from a backup",
                        what ? what : "", what ? ": " : "", mdb_strerror(rc));
    }
    if (what)
        return cgs_fail(st, map_mdb(rc), "%s: %s", what, mdb_strerror(rc));
    return cgs_fail(st, map_mdb(rc), "%s", mdb_strerror(rc));
}

int cgs_bad_record(const cg_store *st, const char *what, uint64_t id, const char *why)
{
    cgs_note_damaged();
    return cgs_fail(st, CG_ECORRUPT, "damaged (%s %llu: bad record (%s)): restore from a backup",
                    what, (unsigned long long)id, why);
}

/* ---- index upkeep ---------------------------------------------------------- */

void cgs_ix_keys(const cg_incident *x, struct cgs_ixkeys *out)
{
    uint8_t f[IX_KEYMAX];

    for (int i = 0; i < IX_N; i++) {
        unsigned fl = cgs_ix[i].key(x, f);
        out->len[i] = fl ? ix_stored_key(cgs_ix[i].flags, x->id, f, fl, out->k[i]) : 0;
    }
}

int cgs_ix_apply(const cg_store *st, MDB_txn *txn, uint64_t id, const struct cgs_ixkeys *old,
                 const struct cgs_ixkeys *nw, const char **what)
{
    uint8_t val[8];
    int rc;

    for (int i = 0; i < IX_N; i++) {
        MDB_dbi dbi = st->dbi[DB_IX0 + i];
        MDB_val v = { ix_value(cgs_ix[i].flags, id, val), val };
        unsigned ol = old ? old->len[i] : 0, nl = nw->len[i];
        if (ol == nl && (nl == 0 || memcmp(old->k[i], nw->k[i], nl) == 0))
            continue;
        if (ol && !(cgs_ix[i].flags & IXF_ADD_ONLY)) {
            MDB_val k = { ol, (void *)old->k[i] };
            rc = mdb_del(txn, dbi, &k, &v);
            if (rc && rc != MDB_NOTFOUND) {
                *what = cgs_ix[i].name;
                return rc;
            }
        }
        if (nl) {
            MDB_val k = { nl, (void *)nw->k[i] };
            /* an entry already there (add-only keys) is left as it is */
            rc = mdb_put(txn, dbi, &k, &v, 0);
            if (rc) {
                *what = cgs_ix[i].name;
                return rc;
            }
        }
    }
    return 0;
}

/* ---- partition spans --------------------------------------------------------- */

int cgs_parts_flush(cg_store *st, MDB_txn *txn)
{
    for (unsigned i = 0; i < st->ntouched; i++) {
        struct cgs_touched *t = &st->touched[i];
        uint8_t key[4], val[16];
        MDB_val k = { 4, key }, v;
        int rc;
        put32(key, t->part);
        rc = mdb_get(txn, st->dbi[DB_PARTS], &k, &v);
        if (rc == 0 && v.mv_size == 16) {
            uint64_t lo = get64(v.mv_data), hi = get64((const uint8_t *)v.mv_data + 8);
            if (lo <= t->min_us && hi >= t->max_us)
                continue; /* nothing new */
            if (lo < t->min_us)
                t->min_us = lo;
            if (hi > t->max_us)
                t->max_us = hi;
        } else if (rc == 0) {
            /* a span that does not decode: what the partition held before
             * this batch is unknown, so it is never skipped from now on */
            t->min_us = 0;
            t->max_us = UINT64_MAX;
        } else if (rc != MDB_NOTFOUND) {
            return rc;
        }
        put64(val, t->min_us);
        put64(val + 8, t->max_us);
        v = (MDB_val){ 16, val };
        if ((rc = mdb_put(txn, st->dbi[DB_PARTS], &k, &v, 0)) != 0)
            return rc;
    }
    st->ntouched = 0;
    return 0;
}

int cgs_parts_note(cg_store *st, uint64_t id, uint64_t first_us)
{
    uint32_t p = part_of(id);
    struct cgs_touched *t;
    int rc;

    for (unsigned i = 0; i < st->ntouched; i++) {
        t = &st->touched[i];
        if (t->part == p) {
            if (first_us < t->min_us)
                t->min_us = first_us;
            if (first_us > t->max_us)
                t->max_us = first_us;
            return 0;
        }
    }
    if (st->ntouched == TOUCHED_MAX && (rc = cgs_parts_flush(st, st->wtxn)) != 0)
        return rc;
    st->touched[st->ntouched++] = (struct cgs_touched){ p, first_us, first_us };
    return 0;
}

/* ---- open ------------------------------------------------------------------ */

/* A reader needs an existing store; say so plainly before LMDB says ENOENT. */
static int probe_existing(const cg_store *st)
{
    char path[PATH_MAX];
    struct stat sb;

    if (stat(st->dir, &sb) != 0) {
        if (errno == ENOENT)
            return cgs_fail(st, CG_ENOTFOUND, "no canhgac store here");
        return cgs_fail(st, CG_EIO, "%s", strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return cgs_fail(st, CG_EIO, "%s", strerror(ENOTDIR));
    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", st->dir) >= sizeof path)
        return cgs_fail(st, CG_EINVAL, "path too long");
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return cgs_fail(st, CG_ENOTFOUND, "no canhgac store here");
        return cgs_fail(st, CG_EIO, "data.mdb: %s", strerror(errno));
    }
    if (sb.st_size == 0)
        return cgs_fail(st, CG_ENOTFOUND, "no canhgac store here (empty data.mdb)");
    return 0;
}

/* The writer creates DIR (one level, mode 0750: the group may read) when it is
 * missing. */
static int prepare_dir(const cg_store *st)
{
    struct stat sb;

    if (mkdir(st->dir, 0750) == 0)
        return 0;
    if (errno == ENOTDIR)
        return cgs_fail(st, CG_EIO, "%s", strerror(errno));
    if (errno != EEXIST)
        return cgs_fail(st, CG_EIO, "cannot create the directory: %s", strerror(errno));
    if (stat(st->dir, &sb) != 0)
        return cgs_fail(st, CG_EIO, "%s", strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return cgs_fail(st, CG_EIO, "%s", strerror(ENOTDIR));
    return 0;
}

/* Takes writer.lock, or says who holds it. The pid in the file only informs
 * the message: the lock itself is the flock, released by the kernel when the
 * holder exits however it exits. */
static int take_writer_lock(cg_store *st)
{
    char path[PATH_MAX], buf[32];
    ssize_t n;
    long pid = 0;
    int fd, len, code;

    if ((size_t)snprintf(path, sizeof path, "%s/writer.lock", st->dir) >= sizeof path)
        return cgs_fail(st, CG_EINVAL, "path too long");
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return cgs_fail(st, CG_EIO, "writer.lock: %s", strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            code = cgs_fail(st, CG_EIO, "writer.lock: %s", strerror(errno));
            goto fail;
        }
        n = pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            pid = strtol(buf, NULL, 10);
        }
        if (pid > 0)
            code = cgs_fail(st, CG_EBUSY, "locked by another writer (pid %ld)", pid);
        else
            code = cgs_fail(st, CG_EBUSY, "locked by another writer");
        goto fail;
    }
    len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        int e = errno == EDQUOT ? ENOSPC : errno;
        code = cgs_fail(st, e == ENOSPC ? CG_EFULL : CG_EIO, "writer.lock: %s", strerror(e));
        goto fail;
    }
    st->lockfd = fd;
    return 0;
fail:
    close(fd);
    return code;
}

static int is_writer(const cg_store *st)
{
    return !(st->flags & (CG_STORE_RDONLY | CG_STORE_TRIAGE));
}

/* Whether this process may not write DIR/lock.mdb (or create it). */
static int lock_unwritable(const cg_store *st)
{
    char path[PATH_MAX];

    if ((size_t)snprintf(path, sizeof path, "%s/lock.mdb", st->dir) >= sizeof path)
        return 0;
    if (access(path, F_OK) != 0)
        return access(st->dir, W_OK) != 0;
    return access(path, W_OK) != 0;
}

/* The writer gives lock.mdb the group's write bit when the group may read
 * data.mdb: readers of the store's group take their reader slots there
 * while the sensor writes (lock.mdb 0660, data.mdb 0640 by default). */
static void group_lock(const cg_store *st)
{
    char path[PATH_MAX];
    struct stat sb;

    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", st->dir) >= sizeof path ||
        stat(path, &sb) != 0 || !(sb.st_mode & S_IRGRP))
        return;
    snprintf(path, sizeof path, "%s/lock.mdb", st->dir);
    if (stat(path, &sb) == 0 && !(sb.st_mode & S_IWGRP))
        chmod(path, (sb.st_mode & 07777) | S_IRGRP | S_IWGRP);
}

/* LMDB makes lock.mdb with ftruncate, a file of holes, and writes its
 * header and reader table through a shared map: where the file system has
 * no block left for a page of it, that write is a SIGBUS, which would read
 * as a damaged store. Its pages are allocated here first, so that a full
 * disk is ENOSPC, said as such. LOCK_RESERVE is LMDB 0.9's lock file for
 * its default 126 readers; a larger file is allocated to its size. A file
 * this process may not write, or a file system without fallocate, is left
 * to LMDB as before.
 *
 * A reader needs only the first page: LMDB's header is there, and the
 * first free slot of the table, which a reader takes, with fewer than 62
 * readers at once. When even that page cannot be had, no process has
 * opened the store since lock.mdb was made (the first writes the header),
 * so no sensor writes it: the reader reads without LMDB's lock (*nolock),
 * as one without write access does; a full disk must not keep analysts
 * from reading. Returns 0, or a writer's CG_EFULL with its message. */
#define LOCK_RESERVE 8192
static int reserve_lock(const cg_store *st, int *nolock)
{
    char path[PATH_MAX];
    struct stat sb;
    int fd, e = 0, made;
    int reader = (st->flags & CG_STORE_RDONLY) != 0;

    *nolock = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/lock.mdb", st->dir) >= sizeof path)
        return 0;
    made = access(path, F_OK) != 0;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640); /* LMDB's mode (mdb_env_open) */
    if (fd < 0)
        return 0;
    if (fstat(fd, &sb) == 0) {
        off_t len = reader ? 4096 : sb.st_size > LOCK_RESERVE ? sb.st_size : LOCK_RESERVE;
        if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, len) != 0)
            e = errno == EDQUOT ? ENOSPC : errno;
    }
    close(fd);
    if (e != ENOSPC)
        return 0;
    if (!reader)
        return cgs_fail(st, CG_EFULL, "lock.mdb: %s", strerror(ENOSPC));
    if (made)
        unlink(path); /* as it was: LMDB makes it with the next opener */
    *nolock = 1;
    return 0;
}

/* Whether DIR/data.mdb holds anything (a store, or something else). */
static int has_data(const cg_store *st)
{
    char path[PATH_MAX];
    struct stat sb;

    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", st->dir) >= sizeof path)
        return 1;
    return stat(path, &sb) != 0 ? errno != ENOENT : sb.st_size > 0;
}

/* The meta page LMDB chose must describe a file at least as long as its last
 * page: else a damaged meta page sends reads past the file's end. */
static int check_meta(const cg_store *st)
{
    char path[PATH_MAX];
    MDB_envinfo ei;
    MDB_stat ms;
    struct stat sb;

    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", st->dir) >= sizeof path)
        return 0;
    if (mdb_env_info(st->env, &ei) || mdb_env_stat(st->env, &ms) || stat(path, &sb) != 0)
        return 0;
    if (ms.ms_psize == 0 || (uint64_t)(ei.me_last_pgno + 1) * ms.ms_psize > (uint64_t)sb.st_size) {
        cgs_note_damaged();
        return cgs_fail(st, CG_ECORRUPT,
                        "damaged (meta page: last page %llu is past the "
                        "end of data.mdb, %llu bytes): restore from a backup",
                        (unsigned long long)ei.me_last_pgno, (unsigned long long)sb.st_size);
    }
    return 0;
}

static int open_env(cg_store *st, uint64_t mapsize)
{
    unsigned mflags = MDB_NOTLS;
    int rc, code, nolock = 0;

    if (mapsize > SIZE_MAX)
        return cgs_fail(st, CG_EINVAL, "map size too large for this machine");
    rc = mdb_env_create(&st->env);
    if (rc) {
        st->env = NULL;
        return cgs_fail_mdb(st, rc, NULL);
    }
    rc = mdb_env_set_maxdbs(st->env, DB_N);
    /* Without a size, LMDB maps the size kept in the file: a reader so sees
     * everything the writer can write, and a writer keeps a map that was
     * made larger than the default (raised to the default below). A given
     * size is taken as it is (LMDB raises it to the data's size). A triage
     * handle never raises it: its commits would make the size in the file
     * larger than the sensor's map. */
    if (!rc && mapsize)
        rc = mdb_env_set_mapsize(st->env, (size_t)mapsize);
    if (rc)
        return cgs_fail_mdb(st, rc, NULL);
    if (st->flags & CG_STORE_RDONLY)
        mflags |= MDB_RDONLY;
    if ((code = reserve_lock(st, &nolock)) != 0)
        return code;
    cgs_guard_opening(st, st->env);
    if (nolock) {
        rc = mdb_env_open(st->env, st->dir, mflags | MDB_NOLOCK, 0640);
        if (!rc)
            fprintf(stderr,
                    "canhgac: %s: notice: no space left on device for lock.mdb: "
                    "reading without LMDB's reader lock\n",
                    st->dir);
    } else {
        rc = mdb_env_open(st->env, st->dir, mflags, 0640);
    }
    if (rc == EACCES && (st->flags & CG_STORE_RDONLY) && lock_unwritable(st)) {
        /* a reader without write access to lock.mdb (see store.h) */
        mdb_env_close(st->env);
        st->env = NULL;
        if ((rc = mdb_env_create(&st->env)) != 0) {
            st->env = NULL;
            cgs_guard_opening(NULL, NULL);
            return cgs_fail_mdb(st, rc, NULL);
        }
        mdb_env_set_maxdbs(st->env, DB_N);
        if (mapsize)
            mdb_env_set_mapsize(st->env, (size_t)mapsize);
        cgs_guard_opening(st, st->env);
        rc = mdb_env_open(st->env, st->dir, mflags | MDB_NOLOCK, 0640);
        if (!rc)
            fprintf(stderr,
                    "canhgac: %s: notice: lock.mdb is not writable: reading without "
                    "LMDB's reader lock (exact while no sensor writes this store)\n",
                    st->dir);
    }
    cgs_guard_opening(NULL, NULL);
    if (rc == MDB_INVALID) {
        cgs_note_damaged();
        return cgs_fail(st, CG_ECORRUPT,
                        "data.mdb is not an LMDB file: not a canhgac "
                        "store, or its meta pages are damaged (restore from a backup)");
    }
    if (rc == ENOENT && !is_writer(st))
        return cgs_fail(st, CG_ENOTFOUND, "no canhgac store here");
    if (rc)
        return cgs_fail_mdb(st, rc, NULL);
    if ((code = check_meta(st)) != 0)
        return code;
    if (is_writer(st)) {
        group_lock(st);
        /* Slots of readers that were killed pin old pages, and the map
         * would grow around them; clear them while the writer starts. */
        int dead = 0;
        mdb_reader_check(st->env, &dead);
    }
    if (!mapsize && is_writer(st)) {
        MDB_envinfo ei;
        rc = mdb_env_info(st->env, &ei);
        if (!rc && ei.me_mapsize < DEFAULT_MAPSIZE)
            rc = mdb_env_set_mapsize(st->env, (size_t)DEFAULT_MAPSIZE);
        if (rc)
            return cgs_fail_mdb(st, rc, "map size");
    }
    return 0;
}

static int meta_schema(const cg_store *st, MDB_txn *txn, uint32_t *out)
{
    MDB_val k = { 6, (void *)"schema" }, v;
    uint32_t schema = 0;
    int rc;

    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND)
        return cgs_fail(st, CG_ECORRUPT, "not a canhgac store (no schema version in meta)");
    if (rc)
        return cgs_fail_mdb(st, rc, "meta");
    if (v.mv_size != 4)
        return cgs_fail(st, CG_ECORRUPT, "not a canhgac store (bad schema version record)");
    schema = get32(v.mv_data);
    if (schema == 0)
        return cgs_fail(st, CG_ECORRUPT, "not a canhgac store (schema version 0)");
    if (schema > CG_STORE_SCHEMA)
        return cgs_fail(st, CG_ENEWER, "written by schema version %u; this canhgac reads up to %u",
                        schema, CG_STORE_SCHEMA);
    if (schema < 2)
        return cgs_fail(st, CG_EOLDER,
                        "written by schema version %u, which this canhgac (schema %u) does "
                        "not read: move the directory away and let canhgac run create a "
                        "new store",
                        schema, CG_STORE_SCHEMA);
    *out = schema;
    return 0;
}

static int meta_next_id(const cg_store *st, MDB_txn *txn, uint64_t *out)
{
    MDB_val k = { 7, (void *)"next_id" }, v;
    int rc;

    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 1;
        return 0;
    }
    if (rc)
        return cgs_fail_mdb(st, rc, "meta");
    if (v.mv_size != 8)
        return cgs_fail(st, CG_ECORRUPT, "bad next_id record in meta");
    *out = get64(v.mv_data);
    return 0;
}

/* Checks what is in the environment, without writing: a canhgac store of a
 * schema this code reads (opens its databases, reads next_id, sets
 * st->schema; *fresh = 0), or an empty environment (*fresh = 1), or a
 * refusal. A store of schema 2 lacks the databases of schema 3. */
static int check_store(cg_store *st, int *fresh)
{
    MDB_txn *txn = NULL;
    MDB_dbi main_dbi;
    MDB_stat ms;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint32_t schema = 0;
    uint64_t next = 1;
    int rc, code;

    rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return cgs_fail_mdb(st, rc, NULL);
    rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
    if (!rc)
        rc = mdb_stat(txn, main_dbi, &ms);
    if (rc) {
        code = cgs_fail_mdb(st, rc, NULL);
        goto fail;
    }
    rc = mdb_dbi_open(txn, cgs_db_names[DB_META], 0, &st->dbi[DB_META]);
    if (rc == MDB_NOTFOUND && ms.ms_entries == 0) {
        mdb_txn_abort(txn);
        *fresh = 1;
        return 0;
    }
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
        code = cgs_fail(st, CG_ECORRUPT,
                        "an LMDB environment, but not a canhgac store (no meta database)");
        goto fail;
    }
    if (rc) {
        code = cgs_fail_mdb(st, rc, NULL);
        goto fail;
    }
    if ((code = meta_schema(st, txn, &schema)) != 0)
        goto fail;
    for (int i = DB_META + 1; i < DB_N; i++) {
        unsigned fl = 0, want = i >= DB_IX0 ? INDEX_FLAGS : 0;
        if (!cgs_db_in(i, schema))
            continue;
        rc = mdb_dbi_open(txn, cgs_db_names[i], 0, &st->dbi[i]);
        if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged store: database %s missing", cgs_db_names[i]);
            goto fail;
        }
        if (!rc)
            rc = mdb_dbi_flags(txn, st->dbi[i], &fl);
        if (rc) {
            code = cgs_fail_mdb(st, rc, cgs_db_names[i]);
            goto fail;
        }
        if ((fl & INDEX_FLAGS) != want) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged store: database %s is of the wrong kind",
                            cgs_db_names[i]);
            goto fail;
        }
    }
    if ((code = meta_next_id(st, txn, &next)) != 0)
        goto fail;
    /* next_id is written by every commit; the last key is a second opinion
     * that costs one seek and keeps ids unique whatever happened. */
    rc = mdb_cursor_open(txn, st->dbi[DB_INC], &cur);
    if (!rc)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8 && get64(k.mv_data) >= next)
        next = get64(k.mv_data) + 1;
    if (rc && rc != MDB_NOTFOUND) {
        code = cgs_fail_mdb(st, rc, "incidents");
        goto fail;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    /* Committing a read-only transaction keeps its dbi handles open. */
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        return cgs_fail_mdb(st, rc, NULL);
    st->next_id = next ? next : 1;
    st->next_id_disk = next;
    st->schema = schema;
    *fresh = 0;
    return 0;
fail:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

static int create_store(cg_store *st)
{
    MDB_txn *txn = NULL;
    MDB_val k, v;
    uint8_t b[8];
    int rc;

    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return cgs_fail_mdb(st, rc, NULL);
    for (int i = 0; i < DB_N && !rc; i++)
        rc = mdb_dbi_open(txn, cgs_db_names[i], MDB_CREATE | (i >= DB_IX0 ? INDEX_FLAGS : 0),
                          &st->dbi[i]);
    if (!rc) {
        put32(b, CG_STORE_SCHEMA);
        k = (MDB_val){ 6, (void *)"schema" };
        v = (MDB_val){ 4, b };
        rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
    }
    if (!rc) {
        put64(b, 1);
        k = (MDB_val){ 7, (void *)"next_id" };
        v = (MDB_val){ 8, b };
        rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
    }
    if (!rc)
        rc = cgs_log_begin_origin(st, txn);
    if (rc) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "creating the store");
    }
    rc = mdb_txn_commit(txn);
    if (rc)
        return cgs_fail_mdb(st, rc, "creating the store");
    st->next_id = st->next_id_disk = 1;
    st->schema = CG_STORE_SCHEMA;
    return 0;
}

int cg_store_open(cg_store **out, const char *dir, unsigned flags, uint64_t mapsize)
{
    cg_store *st;
    size_t dlen;
    int fresh = 0, code, had_data = 1;

    if (!out || !dir || !*dir || (flags & ~(unsigned)(CG_STORE_RDONLY | CG_STORE_TRIAGE)) ||
        flags == (CG_STORE_RDONLY | CG_STORE_TRIAGE)) {
        last_err.st = NULL;
        snprintf(last_err.msg, sizeof last_err.msg, "%s: invalid arguments to cg_store_open",
                 dir ? dir : "(null)");
        return CG_EINVAL;
    }
    dlen = strlen(dir);
    st = calloc(1, sizeof *st + dlen + 1);
    if (!st) {
        last_err.st = NULL;
        snprintf(last_err.msg, sizeof last_err.msg, "%s: out of memory", dir);
        return CG_ENOMEM;
    }
    memcpy(st->dir, dir, dlen + 1);
    st->flags = flags;
    st->lockfd = -1;
    st->attack_window_us = 3600000000ull;

    if (!is_writer(st)) {
        code = probe_existing(st);
    } else {
        code = prepare_dir(st);
        /* Before LMDB: a second writer in this process must not open the
         * environment a second time (LMDB's locks are per process). */
        if (!code)
            code = take_writer_lock(st);
        if (!code)
            had_data = has_data(st);
    }
    if (!code)
        code = open_env(st, mapsize);
    if (!code)
        cgs_guard_add(st); /* the map as it stays (a writer's is set last) */
    if (!code)
        code = check_store(st, &fresh);
    if (!code && !fresh && st->schema < CG_STORE_SCHEMA && !(flags & CG_STORE_RDONLY)) {
        /* a writer or a triage handle brings the store to this schema; a
         * reader reads it as it is */
        code = cgs_migrate(st);
        if (!code)
            code = check_store(st, &fresh);
    }
    if (!code && fresh) {
        if (!is_writer(st))
            code = cgs_fail(st, CG_ENOTFOUND, "no canhgac store here (empty LMDB environment)");
        else
            code = create_store(st);
    }
    if (code)
        goto fail;
    st->opened = 1;
    *out = st;
    return 0;
fail:
    cgs_guard_opening(NULL, NULL);
    cgs_guard_remove(st);
    if (st->env)
        mdb_env_close(st->env);
    if (!had_data && st->lockfd >= 0) {
        /* A store this writer began to create and could not (a full
         * disk): the data.mdb it made goes, rather than stay as half an
         * environment that a later open would take for a damaged one. No
         * one else writes DIR's data.mdb while writer.lock is held. */
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", st->dir) < sizeof path)
            unlink(path);
    }
    if (st->lockfd >= 0)
        close(st->lockfd);
    free(st->enc);
    cg_mt_hasher_free(st->hasher);
    free(st);
    return code;
}

void cg_store_close(cg_store *st)
{
    if (!st)
        return;
    if (st->wtxn)
        mdb_txn_abort(st->wtxn);
    cgs_guard_remove(st);
    mdb_env_close(st->env);
    /* Only now may another writer start (invariant 3). */
    if (st->lockfd >= 0)
        close(st->lockfd);
    if (last_err.st == st)
        last_err.st = NULL, last_err.msg[0] = 0;
    free(st->enc);
    cgs_outbox_close(st);
    cg_mt_hasher_free(st->hasher);
    free(st);
}

const char *cg_store_error(const cg_store *st)
{
    return last_err.st == st ? last_err.msg : "";
}

const char *cg_store_status_name(unsigned status)
{
    static const char *const names[CG_ST_COUNT] = {
        "new", "acknowledged", "investigating", "resolved", "false-positive",
    };
    return status < CG_ST_COUNT ? names[status] : NULL;
}

/* ---- writer ------------------------------------------------------------------ */

uint64_t cg_store_new_id(cg_store *st)
{
    if (!st || !is_writer(st) || st->next_id >= ID_LIMIT)
        return 0;
    return st->next_id++;
}

void cg_store_set_alert_cap(cg_store *st, uint32_t cap)
{
    if (st)
        st->alert_cap = cap;
}

void cg_store_set_attack_window(cg_store *st, uint64_t seconds)
{
    if (st)
        st->attack_window_us = seconds > UINT64_MAX / 1000000u ? UINT64_MAX : seconds * 1000000u;
}

static const char *not_writer(const cg_store *st)
{
    return (st->flags & CG_STORE_RDONLY) ? "opened read-only" : "opened for triage";
}

int cg_store_begin(cg_store *st)
{
    int rc;

    if (!st)
        return CG_EINVAL;
    if (!is_writer(st))
        return cgs_fail(st, CG_EINVAL, "%s", not_writer(st));
    if (st->wstate != W_IDLE)
        return cgs_fail(st, CG_EINVAL, "a batch is already open");
    rc = mdb_txn_begin(st->env, NULL, 0, &st->wtxn);
    if (rc) {
        st->wtxn = NULL;
        return cgs_fail_mdb(st, rc, "begin");
    }
    rc = cgs_log_load(st, st->wtxn);
    if (rc) {
        mdb_txn_abort(st->wtxn);
        st->wtxn = NULL;
        return cgs_fail_mdb(st, rc, "log");
    }
    st->wstate = W_OPEN;
    st->last_put = 0;
    /* the highest id stored: a put above it appends (see cg_store_put) */
    {
        MDB_cursor *cur;
        MDB_val k, v;
        st->inc_last = UINT64_MAX; /* unknown: never append */
        if (mdb_cursor_open(st->wtxn, st->dbi[DB_INC], &cur) == 0) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
            if (rc == MDB_NOTFOUND)
                st->inc_last = 0;
            else if (rc == 0 && k.mv_size == 8)
                st->inc_last = get64(k.mv_data);
            mdb_cursor_close(cur);
        }
    }
    CG_INVARIANT(cgs_check_writer(st, 1) == 0);
    return 0;
}

/* An LMDB error inside the batch: LMDB wants the transaction aborted, so the
 * whole batch is dropped now, and the handle remembers why (W_FAILED).
 * (store_int.h: store_triage.c's escalations write into the batch too.) */
int cgs_batch_fail(cg_store *st, int rc, const char *what)
{
    int code = cgs_fail_mdb(st, rc, what);

    mdb_txn_abort(st->wtxn);
    st->wtxn = NULL;
    st->wstate = W_FAILED;
    st->batch_err = code;
    st->memo_id = 0;
    st->ntouched = 0;
    st->last_put = 0;
    CG_INVARIANT(cgs_check_writer(st, 0) == 0);
    return code;
}

/* 0 when a put may go into the batch; the code to return otherwise. */
int cgs_batch_ready(cg_store *st)
{
    if (!is_writer(st))
        return cgs_fail(st, CG_EINVAL, "%s", not_writer(st));
    if (st->wstate == W_FAILED)
        return st->batch_err; /* its message was set when it failed */
    if (st->wstate != W_OPEN)
        return cgs_fail(st, CG_EINVAL, "no batch open (cg_store_begin)");
    return 0;
}

/* The context fields x leaves empty take the stored ones (cg_store_put's
 * contract: a re-put adds to the context of the first alert, never clears
 * it; the sensor puts it once, then the response's status when it comes). */
static void ctx_merge(cg_incident *x, const cg_incident *from)
{
    const char **s[] = { &x->app_proto,       &x->http_method, &x->http_host, &x->http_url,
                         &x->http_user_agent, &x->dns_query,   &x->tls_sni,   &x->tls_ja3 };
    const char *const f[] = { from->app_proto, from->http_method,     from->http_host,
                              from->http_url,  from->http_user_agent, from->dns_query,
                              from->tls_sni,   from->tls_ja3 };

    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (!*s[i] || !*s[i][0])
            *s[i] = f[i];
    if (x->http_status == 0)
        x->http_status = from->http_status;
    if (x->payload_len == 0) {
        x->payload = from->payload;
        x->payload_len = from->payload_len;
        x->payload_match = from->payload_match;
    }
}

int cg_store_put(cg_store *st, const cg_incident *inc)
{
    MDB_val k, v, ov;
    struct cgs_ixkeys nk, okeys;
    uint8_t key[8];
    char abuf[CG_STORE_TEXT_MAX + 1];
    cg_incident old, x;
    const char *why, *what = NULL;
    size_t size;
    int rc, have_old = 0, append, code;

    if (!st)
        return CG_EINVAL;
    if ((code = cgs_batch_ready(st)) != 0)
        return code;
    if (!inc || inc->id == 0 || inc->id >= ID_LIMIT)
        return cgs_fail(st, CG_EINVAL, "invalid incident id");
    if (inc->attack_id > inc->id)
        return cgs_fail(st, CG_EINVAL, "incident %llu: attack id %llu above its id",
                        (unsigned long long)inc->id, (unsigned long long)inc->attack_id);

    put64(key, inc->id);
    k = (MDB_val){ 8, key };
    x = *inc;
    rc = mdb_get(st->wtxn, st->dbi[DB_INC], &k, &ov);
    if (rc == 0) {
        /* The stored triage fields win (invariant 6), and the old keys must
         * be known before the old value is overwritten. A record that does
         * not decode is replaced all the same, and its keys, unknown, stay
         * behind; readers recheck filters (invariant 1). The old record's
         * strings are views into LMDB's page: they are used only until the
         * record is encoded below, before the first write. */
        if (cgs_inc_decode(ov.mv_data, ov.mv_size, &old, &why) == 0 && old.id == inc->id) {
            cgs_ix_keys(&old, &okeys);
            have_old = 1;
            x.status = old.status;
            x.flags = old.flags;
            x.nnotes = old.nnotes;
            x.layers |= old.layers; /* layers only climb (escalations stay) */
            if (old.flags & CG_INC_SEV_SET)
                x.severity = old.severity;
            memcpy(abuf, old.assignee, strlen(old.assignee) + 1); /* <= TEXT_MAX (decoder) */
            x.assignee = abuf;
            if (x.attack_id == 0)
                x.attack_id = old.attack_id; /* 0 for a record of version 2: assigned below */
            ctx_merge(&x, &old);
        }
    } else if (rc != MDB_NOTFOUND) {
        return cgs_batch_fail(st, rc, "incidents");
    }
    if (st->alert_cap && x.nalerts > st->alert_cap)
        x.nalerts = st->alert_cap;

    /* Encoded first, with the attack id still to be decided (0: x.id stands
     * in; the size does not depend on it), then patched. */
    {
        uint64_t given = x.attack_id;
        if (!given)
            x.attack_id = x.id;
        size = cgs_inc_size(&x, &why);
        if (size == 0)
            return cgs_fail(st, CG_EINVAL, "incident %llu: %s", (unsigned long long)inc->id, why);
        if (size > st->enc_cap) {
            uint8_t *b = realloc(st->enc, size);
            if (!b)
                return cgs_fail(st, CG_ENOMEM, "out of memory");
            st->enc = b;
            st->enc_cap = size;
        }
        cgs_inc_encode(st->enc, &x);
        x.attack_id = given;
    }
    /* From here on the old record's views are not read. */
    if ((rc = cgs_attack_put(st, st->wtxn, &x, st->attack_window_us)) != 0)
        return cgs_batch_fail(st, rc, "pairs");
    put64(st->enc + OFF_ATTACK, x.attack_id);
    cgs_seal(st->enc, size);

    /* A new id above every stored one (the sensor's case) is appended:
     * LMDB then fills pages instead of splitting them in halves. */
    v = (MDB_val){ size, st->enc };
    append = inc->id > st->inc_last && st->inc_last != UINT64_MAX;
    rc = mdb_put(st->wtxn, st->dbi[DB_INC], &k, &v, append ? MDB_APPEND : 0);
    if (rc)
        return cgs_batch_fail(st, rc, "incidents");
    if ((rc = cgs_log_add(st, st->wtxn, CGS_LOG_INC, k.mv_data, st->enc, size)) != 0)
        return cgs_batch_fail(st, rc, "log");
    if (append)
        st->inc_last = inc->id;
    cgs_ix_keys(&x, &nk);
    rc = cgs_ix_apply(st, st->wtxn, inc->id, have_old ? &okeys : NULL, &nk, &what);
    if (rc)
        return cgs_batch_fail(st, rc, what);
    if ((rc = cgs_parts_note(st, inc->id, x.first_us)) != 0)
        return cgs_batch_fail(st, rc, "parts");
    if (inc->id >= st->next_id)
        st->next_id = inc->id + 1;
    st->last_put = inc->id;
    CG_INVARIANT_SOMETIMES(st->inv_puts, cgs_check_writer(st, 1) == 0);
    return 0;
}

int cg_store_put_alert(cg_store *st, uint64_t id, uint32_t seq, const cg_alert *a)
{
    MDB_val k, v;
    uint8_t key[12];
    size_t size;
    int rc, code;

    if (!st)
        return CG_EINVAL;
    if ((code = cgs_batch_ready(st)) != 0)
        return code;
    if (!a || id == 0 || id >= ID_LIMIT || (size = cgs_alert_size(a)) == 0)
        return cgs_fail(st, CG_EINVAL, "invalid alert for incident %llu", (unsigned long long)id);
    if (!st->alert_cap || seq < st->alert_cap) {
        put64(key, id);
        put32(key + 8, seq);
        k = (MDB_val){ 12, key };
        v = (MDB_val){ size, NULL };
        rc = mdb_put(st->wtxn, st->dbi[DB_ALERT], &k, &v, MDB_RESERVE);
        if (!rc && (!v.mv_data || v.mv_size != size))
            rc = MDB_CORRUPTED; /* what LMDB gives on a damaged page */
        if (rc)
            return cgs_batch_fail(st, rc, "alerts");
        cgs_alert_encode(v.mv_data, a);
        if ((rc = cgs_log_add(st, st->wtxn, CGS_LOG_ALERT, key, v.mv_data, size)) != 0)
            return cgs_batch_fail(st, rc, "log");
    }
    if (a->community_id && a->community_id[0]) {
        uint64_t h = cgs_hash64(a->community_id);
        if (st->memo_id != id || st->memo_hash != h) {
            unsigned fl = cgs_ix[IX_COMMUNITY].flags;
            uint8_t f[8], hk[IX_STOREDMAX], val[8];
            put64(f, h);
            k = (MDB_val){ ix_stored_key(fl, id, f, 8, hk), hk };
            v = (MDB_val){ ix_value(fl, id, val), val };
            rc = mdb_put(st->wtxn, st->dbi[DB_IX0 + IX_COMMUNITY], &k, &v, 0);
            if (rc)
                return cgs_batch_fail(st, rc, "by_community");
            st->memo_id = id;
            st->memo_hash = h;
        }
    }
    return 0;
}

int cg_store_put_evidence(cg_store *st, uint64_t id, uint32_t seq, const cg_evidence *ev)
{
    MDB_val k, v;
    uint8_t key[12];
    int rc, code;

    if (!st)
        return CG_EINVAL;
    if ((code = cgs_batch_ready(st)) != 0)
        return code;
    if (!ev || id == 0 || (ev->caplen && !ev->data) ||
        (uint64_t)ev->caplen + EV_FIXED + REC_SEAL > SIZE_MAX)
        return cgs_fail(st, CG_EINVAL, "invalid evidence for incident %llu",
                        (unsigned long long)id);
    put64(key, id);
    put32(key + 8, seq);
    k = (MDB_val){ 12, key };
    v = (MDB_val){ cgs_ev_size(ev->caplen), NULL };
    rc = mdb_put(st->wtxn, st->dbi[DB_EV], &k, &v, MDB_RESERVE);
    if (!rc && (!v.mv_data || v.mv_size != cgs_ev_size(ev->caplen)))
        rc = MDB_CORRUPTED; /* what LMDB gives on a damaged page */
    if (rc)
        return cgs_batch_fail(st, rc, "evidence");
    cgs_ev_encode(v.mv_data, ev);
    if ((rc = cgs_log_add(st, st->wtxn, CGS_LOG_EV, key, v.mv_data, v.mv_size)) != 0)
        return cgs_batch_fail(st, rc, "log");
    return 0;
}

int cg_store_commit(cg_store *st)
{
    MDB_val k, v;
    uint8_t b[8];
    int rc, code;

    if (!st)
        return CG_EINVAL;
    if (st->wstate == W_FAILED) {
        st->wstate = W_IDLE;
        CG_INVARIANT(cgs_check_writer(st, 0) == 0);
        return st->batch_err;
    }
    if (st->wstate != W_OPEN)
        return cgs_fail(st, CG_EINVAL, "no batch open (cg_store_begin)");
    if ((rc = cgs_parts_flush(st, st->wtxn)) != 0) {
        code = cgs_batch_fail(st, rc, "parts");
        st->wstate = W_IDLE;
        return code;
    }
    if ((rc = cgs_log_flush(st, st->wtxn)) != 0) {
        code = cgs_batch_fail(st, rc, "log");
        st->wstate = W_IDLE;
        return code;
    }
    if (st->next_id != st->next_id_disk) {
        put64(b, st->next_id);
        k = (MDB_val){ 7, (void *)"next_id" };
        v = (MDB_val){ 8, b };
        rc = mdb_put(st->wtxn, st->dbi[DB_META], &k, &v, 0);
        if (rc) {
            code = cgs_batch_fail(st, rc, "meta");
            st->wstate = W_IDLE;
            return code;
        }
    }
    CG_INVARIANT(cgs_check_writer(st, 1) == 0); /* the batch as it is committed */
    /* mdb_txn_commit frees the transaction whatever it returns. */
    rc = mdb_txn_commit(st->wtxn);
    code = rc ? cgs_fail_mdb(st, rc, "commit") : 0;
    st->wtxn = NULL;
    st->wstate = W_IDLE;
    st->last_put = 0;
    if (code) {
        st->memo_id = 0;
        CG_INVARIANT(cgs_check_writer(st, 1) == 0);
        return code;
    }
    st->next_id_disk = st->next_id;
    CG_INVARIANT(cgs_check_writer(st, 1) == 0);
    return 0;
}

void cg_store_abort(cg_store *st)
{
    if (!st)
        return;
    if (st->wtxn)
        mdb_txn_abort(st->wtxn);
    st->wtxn = NULL;
    st->wstate = W_IDLE;
    st->memo_id = 0;
    st->ntouched = 0;
    st->last_put = 0;
    CG_INVARIANT(cgs_check_writer(st, 0) == 0);
}
