/* store.c — the LMDB incident store: environment and schema check, the
 * writer lock, the record encodings, index maintenance, the batched writer
 * and the snapshot readers. The contract is store.h; this page is the format.
 *
 * Files in DIR:
 *   data.mdb, lock.mdb   LMDB's (one environment, seven named databases)
 *   writer.lock          flock(LOCK_EX) by the writer handle for its whole
 *                        life; holds the writer's pid as text. Readers never
 *                        open it.
 *
 * Keys. Integers are big-endian so that LMDB's memcmp order is numeric order:
 *   meta       "schema"  (6 bytes, no NUL) -> be32 schema version
 *              "next_id" (7 bytes, no NUL) -> be64 the next id to hand out
 *   incidents  be64 id                          (8)  -> incident record
 *   by_time    be64 first_us | be64 id          (16) -> ""
 *   by_src     addr16 | be64 id                 (24) -> ""
 *   by_dst     addr16 | be64 id                 (24) -> ""
 *   by_sid     be32 gid | be32 sid | be64 id    (16) -> ""
 *   evidence   be64 id | be32 seq               (12) -> evidence record
 * Addresses are 16 bytes, IPv4 mapped (::ffff:a.b.c.d), as the decoder
 * gives them: a CIDR of either family is one range of by_src/by_dst.
 *
 * Incident record, version 1:
 *   off  size  field
 *     0     1  record version = 1
 *     1     1  proto
 *     2     1  severity
 *     3     1  layers
 *     4     1  status
 *     5     3  reserved: written 0, ignored on read
 *     8     8  id (must equal the key)
 *    16     4  gid
 *    20     4  sid
 *    24     4  rev
 *    28     2  sport
 *    30     2  dport
 *    32    16  src
 *    48    16  dst
 *    64     8  first_us
 *    72     8  last_us
 *    80     8  count
 *    88     8  flow_id
 *    96     4  nevidence
 *   100        msg, classtype, community_id, in this order, each as
 *                be16 n   the length including a terminating NUL, 1..65535
 *                n bytes  the text, no NUL inside, then one NUL
 *              The record ends exactly after community_id.
 * The NUL is stored so that readers hand out the strings as views into
 * LMDB's map, without a copy.
 *
 * Evidence record, version 1:
 *   off  size  field
 *     0     1  record version = 1
 *     1     3  reserved: written 0, ignored on read
 *     4     4  dlt (two's complement)
 *     8     8  ts_us
 *    16     4  caplen
 *    20     4  wirelen (not checked against caplen: it is what the wire said)
 *    24  caplen  the captured bytes; the record ends exactly there.
 *
 * A record version is bumped together with CG_STORE_SCHEMA; a record whose
 * version this code does not know is a bad record (CG_STORE_ECORRUPT).
 *
 * Invariants:
 *  1. Every incident record has exactly one key in each of by_time, by_src,
 *     by_dst and by_sid, derived from its current fields; cg_store_put keeps
 *     that in the transaction that writes the record. Readers still check
 *     every filter on the decoded record, so an index key that disagrees
 *     with its record (a store damaged elsewhere) never yields a false match.
 *  2. After a commit, meta next_id is greater than every incident id.
 *  3. At most one writer handle per store: it holds writer.lock LOCK_EX
 *     from before LMDB is opened until after LMDB is closed.
 *  4. Nothing is written to a store before its schema has been accepted: a
 *     refused store's data.mdb is left as it was (LMDB may rewrite its own
 *     lock.mdb; a writer leaves writer.lock behind).
 *  5. Bytes read from LMDB go through the bounds-checked decoders only.
 *
 * The writer side of a handle:
 *
 *            cg_store_begin               put ok
 *    IDLE ───────────────────> OPEN <────────────┐
 *     ^ ^                       │ └───────────────┘
 *     │ │  commit / abort       │
 *     │ └───────────────────────┤ put, put_evidence or commit fails in LMDB
 *     │                         v  (the transaction is aborted at once)
 *     └────── commit / abort ─ FAILED   put, put_evidence: the batch's error
 *          (commit returns the          again, nothing done
 *           batch's error)
 *
 * Threads: the reader functions only read the LMDB environment and the dbi
 * handles, fixed at open, and each runs in its own read-only transaction
 * (MDB_NOTLS: not tied to the thread); error messages are per thread. So
 * readers may share a handle across threads, and with the one writer thread.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB               (1024u * 1024u)
#define DEFAULT_MAPSIZE   ((uint64_t)16 << 30)
#define INC_VERSION       1
#define INC_FIXED         100
#define EV_VERSION        1
#define EV_FIXED          24
#define STR_MAX           65535u  /* be16 length, NUL included */

enum { DB_META, DB_INC, DB_TIME, DB_SRC, DB_DST, DB_SID, DB_EV, DB_N };

static const char *const db_names[DB_N] = {
    "meta", "incidents", "by_time", "by_src", "by_dst", "by_sid", "evidence",
};

enum { W_IDLE, W_OPEN, W_FAILED };

struct cg_store {
    MDB_env *env;
    MDB_dbi dbi[DB_N];
    MDB_txn *wtxn;         /* the batch, in W_OPEN */
    int wstate;            /* W_* */
    int batch_err;         /* in W_FAILED: what put and commit return */
    unsigned flags;        /* CG_STORE_RDONLY */
    int lockfd;            /* writer.lock, -1 for readers */
    int opened;            /* cg_store_open has returned it */
    uint64_t next_id;      /* what cg_store_new_id hands out next */
    uint64_t next_id_disk; /* meta next_id as committed */
    char dir[];
};

/* The last error message of this thread. Thread-local rather than in the
 * handle because reader threads share one handle (LMDB wants an environment
 * opened once per process), and because a failed cg_store_open has no handle
 * to keep it in: it is read with cg_store_error(NULL). */
static _Thread_local struct {
    const cg_store *st;
    char msg[PATH_MAX + 256];
} last_err;

__attribute__((format(printf, 3, 4)))
static int fail(const cg_store *st, int code, const char *fmt, ...)
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
    return code;
}

static int map_mdb(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return CG_STORE_OK;
    case MDB_NOTFOUND:
        return CG_STORE_ENOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
        return CG_STORE_EFULL;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INCOMPATIBLE:
        return CG_STORE_ECORRUPT;
    case MDB_BAD_VALSIZE:
    case EINVAL:
        return CG_STORE_EINVAL;
    default:
        return CG_STORE_EIO;
    }
}

/* An LMDB failure as a code and a message; `what` names the step, or NULL
 * when LMDB's text says it all ("DIR: Permission denied"). */
static int fail_mdb(const cg_store *st, int rc, const char *what)
{
    MDB_envinfo ei;

    if (rc == MDB_MAP_FULL) {
        ei.me_mapsize = 0;
        if (st->env)
            mdb_env_info(st->env, &ei);
        return fail(st, CG_STORE_EFULL,
                    "store is full (map size %llu MiB); nothing of this batch was stored",
                    (unsigned long long)(ei.me_mapsize / MIB));
    }
    if (rc == MDB_TXN_FULL)
        return fail(st, CG_STORE_EFULL,
                    "batch too large for one transaction; nothing of this batch was stored");
    if (rc == MDB_MAP_RESIZED)
        return fail(st, CG_STORE_EIO,
                    "the writer grew the map beyond this handle's; open the store again");
    if (what)
        return fail(st, map_mdb(rc), "%s: %s", what, mdb_strerror(rc));
    return fail(st, map_mdb(rc), "%s", mdb_strerror(rc));
}

/* ---- byte order --------------------------------------------------------- */

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- records ------------------------------------------------------------ */

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* Encoded size of inc, or 0 when a string is too long for its be16 length. */
static size_t inc_size(const cg_incident *inc)
{
    const char *s[3] = { str_or_empty(inc->msg), str_or_empty(inc->classtype),
                         str_or_empty(inc->community_id) };
    size_t n = INC_FIXED;

    for (int i = 0; i < 3; i++) {
        size_t len = strlen(s[i]) + 1;
        if (len > STR_MAX)
            return 0;
        n += 2 + len;
    }
    return n;
}

/* Writes exactly inc_size(inc) bytes. */
static void inc_encode(uint8_t *p, const cg_incident *inc)
{
    const char *s[3] = { str_or_empty(inc->msg), str_or_empty(inc->classtype),
                         str_or_empty(inc->community_id) };
    size_t off = INC_FIXED;

    p[0] = INC_VERSION;
    p[1] = inc->proto;
    p[2] = inc->severity;
    p[3] = inc->layers;
    p[4] = inc->status;
    p[5] = p[6] = p[7] = 0;
    put64(p + 8, inc->id);
    put32(p + 16, inc->gid);
    put32(p + 20, inc->sid);
    put32(p + 24, inc->rev);
    put16(p + 28, inc->sport);
    put16(p + 30, inc->dport);
    memcpy(p + 32, inc->src, 16);
    memcpy(p + 48, inc->dst, 16);
    put64(p + 64, inc->first_us);
    put64(p + 72, inc->last_us);
    put64(p + 80, inc->count);
    put64(p + 88, inc->flow_id);
    put32(p + 96, inc->nevidence);
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(s[i]) + 1;
        put16(p + off, (uint16_t)len);
        memcpy(p + off + 2, s[i], len);
        off += 2 + len;
    }
}

/* Decodes a record into out (strings are views into p). Returns 0, or
 * CG_STORE_ECORRUPT with *why set; out is then partly written. */
static int inc_decode(const uint8_t *p, size_t n, cg_incident *out, const char **why)
{
    const char **s[3] = { &out->msg, &out->classtype, &out->community_id };
    size_t off = INC_FIXED;

    if (n < 1) {
        *why = "empty";
        return CG_STORE_ECORRUPT;
    }
    if (p[0] != INC_VERSION) {
        *why = "unknown record version";
        return CG_STORE_ECORRUPT;
    }
    if (n < INC_FIXED) {
        *why = "truncated";
        return CG_STORE_ECORRUPT;
    }
    out->proto = p[1];
    out->severity = p[2];
    out->layers = p[3];
    out->status = p[4];
    out->id = get64(p + 8);
    out->gid = get32(p + 16);
    out->sid = get32(p + 20);
    out->rev = get32(p + 24);
    out->sport = get16(p + 28);
    out->dport = get16(p + 30);
    memcpy(out->src, p + 32, 16);
    memcpy(out->dst, p + 48, 16);
    out->first_us = get64(p + 64);
    out->last_us = get64(p + 72);
    out->count = get64(p + 80);
    out->flow_id = get64(p + 88);
    out->nevidence = get32(p + 96);
    for (int i = 0; i < 3; i++) {
        size_t len;
        if (n - off < 2) {
            *why = "truncated";
            return CG_STORE_ECORRUPT;
        }
        len = get16(p + off);
        off += 2;
        if (len == 0 || len > n - off) {
            *why = len ? "truncated" : "bad string length";
            return CG_STORE_ECORRUPT;
        }
        if (p[off + len - 1] != 0 || memchr(p + off, 0, len - 1)) {
            *why = "bad string";
            return CG_STORE_ECORRUPT;
        }
        *s[i] = (const char *)(p + off);
        off += len;
    }
    if (off != n) {
        *why = "trailing bytes";
        return CG_STORE_ECORRUPT;
    }
    return 0;
}

static void ev_encode(uint8_t *p, const cg_evidence *ev)
{
    p[0] = EV_VERSION;
    p[1] = p[2] = p[3] = 0;
    put32(p + 4, (uint32_t)ev->dlt);
    put64(p + 8, ev->ts_us);
    put32(p + 16, ev->caplen);
    put32(p + 20, ev->wirelen);
    if (ev->caplen)
        memcpy(p + EV_FIXED, ev->data, ev->caplen);
}

static int ev_decode(const uint8_t *p, size_t n, cg_evidence *out, const char **why)
{
    uint32_t caplen, dlt;

    if (n < 1 || p[0] != EV_VERSION) {
        *why = n ? "unknown record version" : "empty";
        return CG_STORE_ECORRUPT;
    }
    if (n < EV_FIXED) {
        *why = "truncated";
        return CG_STORE_ECORRUPT;
    }
    caplen = get32(p + 16);
    if (n - EV_FIXED != caplen) {
        *why = n - EV_FIXED < caplen ? "truncated" : "trailing bytes";
        return CG_STORE_ECORRUPT;
    }
    dlt = get32(p + 4);
    /* two's complement back to int32 without implementation-defined casts */
    out->dlt = dlt <= INT32_MAX ? (int32_t)dlt : -(int32_t)(UINT32_MAX - dlt) - 1;
    out->ts_us = get64(p + 8);
    out->caplen = caplen;
    out->wirelen = get32(p + 20);
    out->data = p + EV_FIXED;
    return 0;
}

int cg_store_decode(const void *rec, size_t len, cg_incident *out)
{
    cg_incident inc;
    const char *why;

    if (!rec || !out)
        return CG_STORE_EINVAL;
    if (inc_decode(rec, len, &inc, &why))
        return CG_STORE_ECORRUPT;
    *out = inc;
    return 0;
}

int cg_store_decode_evidence(const void *rec, size_t len, cg_evidence *out)
{
    cg_evidence ev;
    const char *why;

    if (!rec || !out)
        return CG_STORE_EINVAL;
    if (ev_decode(rec, len, &ev, &why))
        return CG_STORE_ECORRUPT;
    *out = ev;
    return 0;
}

/* ---- index keys ----------------------------------------------------------- */

enum { IX_TIME, IX_SRC, IX_DST, IX_SID, IX_N };

static const int ix_db[IX_N] = { DB_TIME, DB_SRC, DB_DST, DB_SID };

struct ixkeys {
    uint8_t k[IX_N][24];
    size_t len[IX_N];
};

static void ix_build(struct ixkeys *x, const cg_incident *inc)
{
    put64(x->k[IX_TIME], inc->first_us);
    put64(x->k[IX_TIME] + 8, inc->id);
    x->len[IX_TIME] = 16;
    memcpy(x->k[IX_SRC], inc->src, 16);
    put64(x->k[IX_SRC] + 16, inc->id);
    x->len[IX_SRC] = 24;
    memcpy(x->k[IX_DST], inc->dst, 16);
    put64(x->k[IX_DST] + 16, inc->id);
    x->len[IX_DST] = 24;
    put32(x->k[IX_SID], inc->gid);
    put32(x->k[IX_SID] + 4, inc->sid);
    put64(x->k[IX_SID] + 8, inc->id);
    x->len[IX_SID] = 16;
}

/* ---- open ------------------------------------------------------------------ */

/* A reader needs an existing store; say so plainly before LMDB says ENOENT. */
static int probe_reader(const cg_store *st)
{
    char path[PATH_MAX];
    struct stat sb;

    if (stat(st->dir, &sb) != 0) {
        if (errno == ENOENT)
            return fail(st, CG_STORE_ENOTFOUND, "no canhgac store here");
        return fail(st, CG_STORE_EIO, "%s", strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return fail(st, CG_STORE_EIO, "%s", strerror(ENOTDIR));
    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", st->dir) >= sizeof path)
        return fail(st, CG_STORE_EINVAL, "path too long");
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return fail(st, CG_STORE_ENOTFOUND, "no canhgac store here");
        return fail(st, CG_STORE_EIO, "data.mdb: %s", strerror(errno));
    }
    if (sb.st_size == 0)
        return fail(st, CG_STORE_ENOTFOUND, "no canhgac store here (empty data.mdb)");
    return 0;
}

/* The writer creates DIR (one level, mode 0700) when it is missing. */
static int prepare_dir(const cg_store *st)
{
    struct stat sb;

    if (mkdir(st->dir, 0700) == 0)
        return 0;
    if (errno == ENOTDIR)
        return fail(st, CG_STORE_EIO, "%s", strerror(errno));
    if (errno != EEXIST)
        return fail(st, CG_STORE_EIO, "cannot create the directory: %s", strerror(errno));
    if (stat(st->dir, &sb) != 0)
        return fail(st, CG_STORE_EIO, "%s", strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return fail(st, CG_STORE_EIO, "%s", strerror(ENOTDIR));
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
        return fail(st, CG_STORE_EINVAL, "path too long");
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(st, CG_STORE_EIO, "writer.lock: %s", strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            code = fail(st, CG_STORE_EIO, "writer.lock: %s", strerror(errno));
            goto fail;
        }
        n = pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = 0;
            pid = strtol(buf, NULL, 10);
        }
        if (pid > 0)
            code = fail(st, CG_STORE_EBUSY, "locked by another writer (pid %ld)", pid);
        else
            code = fail(st, CG_STORE_EBUSY, "locked by another writer");
        goto fail;
    }
    len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        code = fail(st, CG_STORE_EIO, "writer.lock: %s", strerror(errno));
        goto fail;
    }
    st->lockfd = fd;
    return 0;
fail:
    close(fd);
    return code;
}

static int open_env(cg_store *st, uint64_t mapsize)
{
    unsigned mflags = MDB_NOTLS;
    int rc;

    if (mapsize > SIZE_MAX)
        return fail(st, CG_STORE_EINVAL, "map size too large for this machine");
    rc = mdb_env_create(&st->env);
    if (rc) {
        st->env = NULL;
        return fail_mdb(st, rc, NULL);
    }
    rc = mdb_env_set_maxdbs(st->env, DB_N);
    /* Without a size, LMDB maps the size kept in the file: a reader so sees
     * everything the writer can write, and a writer keeps a map that was
     * made larger than the default (raised to the default below). A given
     * size is taken as it is (LMDB raises it to the data's size). */
    if (!rc && mapsize)
        rc = mdb_env_set_mapsize(st->env, (size_t)mapsize);
    if (rc)
        return fail_mdb(st, rc, NULL);
    if (st->flags & CG_STORE_RDONLY)
        mflags |= MDB_RDONLY;
    rc = mdb_env_open(st->env, st->dir, mflags, 0600);
    if (rc == MDB_INVALID)
        return fail(st, CG_STORE_ECORRUPT, "data.mdb is not an LMDB file: not a canhgac store");
    if (rc == ENOENT && (st->flags & CG_STORE_RDONLY))
        return fail(st, CG_STORE_ENOTFOUND, "no canhgac store here");
    if (rc)
        return fail_mdb(st, rc, NULL);
    if (!(st->flags & CG_STORE_RDONLY)) {
        /* Slots of readers that were killed pin old pages, and the map
         * would grow around them; clear them while the writer starts. */
        int dead = 0;
        mdb_reader_check(st->env, &dead);
    }
    if (!mapsize && !(st->flags & CG_STORE_RDONLY)) {
        MDB_envinfo ei;
        rc = mdb_env_info(st->env, &ei);
        if (!rc && ei.me_mapsize < DEFAULT_MAPSIZE)
            rc = mdb_env_set_mapsize(st->env, (size_t)DEFAULT_MAPSIZE);
        if (rc)
            return fail_mdb(st, rc, "map size");
    }
    return 0;
}

static int meta_schema(const cg_store *st, MDB_txn *txn, uint32_t *out)
{
    MDB_val k = { 6, (void *)"schema" }, v;
    uint32_t schema;
    int rc;

    rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND)
        return fail(st, CG_STORE_ECORRUPT, "not a canhgac store (no schema version in meta)");
    if (rc)
        return fail_mdb(st, rc, "meta");
    if (v.mv_size != 4)
        return fail(st, CG_STORE_ECORRUPT, "not a canhgac store (bad schema version record)");
    schema = get32(v.mv_data);
    if (schema == 0)
        return fail(st, CG_STORE_ECORRUPT, "not a canhgac store (schema version 0)");
    if (schema > CG_STORE_SCHEMA)
        return fail(st, CG_STORE_ENEWER, "written by schema version %u; this canhgac reads up to %u",
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
        return fail_mdb(st, rc, "meta");
    if (v.mv_size != 8)
        return fail(st, CG_STORE_ECORRUPT, "bad next_id record in meta");
    *out = get64(v.mv_data);
    return 0;
}

/* Checks what is in the environment, without writing: a canhgac store of a
 * schema this code reads (opens all databases and reads next_id; *fresh = 0),
 * or an empty environment (*fresh = 1), or a refusal. */
static int check_store(cg_store *st, int *fresh)
{
    MDB_txn *txn = NULL;
    MDB_dbi main_dbi;
    MDB_stat ms;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint32_t schema;
    uint64_t next = 1;
    int rc, code;

    rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return fail_mdb(st, rc, NULL);
    rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
    if (!rc)
        rc = mdb_stat(txn, main_dbi, &ms);
    if (rc) {
        code = fail_mdb(st, rc, NULL);
        goto fail;
    }
    rc = mdb_dbi_open(txn, db_names[DB_META], 0, &st->dbi[DB_META]);
    if (rc == MDB_NOTFOUND && ms.ms_entries == 0) {
        mdb_txn_abort(txn);
        *fresh = 1;
        return 0;
    }
    if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
        code = fail(st, CG_STORE_ECORRUPT, "an LMDB environment, but not a canhgac store (no meta database)");
        goto fail;
    }
    if (rc) {
        code = fail_mdb(st, rc, NULL);
        goto fail;
    }
    if ((code = meta_schema(st, txn, &schema)) != 0)
        goto fail;
    for (int i = DB_META + 1; i < DB_N; i++) {
        rc = mdb_dbi_open(txn, db_names[i], 0, &st->dbi[i]);
        if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
            code = fail(st, CG_STORE_ECORRUPT, "damaged store: database %s missing", db_names[i]);
            goto fail;
        }
        if (rc) {
            code = fail_mdb(st, rc, db_names[i]);
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
        code = fail_mdb(st, rc, "incidents");
        goto fail;
    }
    if (cur)
        mdb_cursor_close(cur);
    cur = NULL;
    /* Committing a read-only transaction keeps its dbi handles open. */
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        return fail_mdb(st, rc, NULL);
    st->next_id = next ? next : 1;
    st->next_id_disk = next;
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
        return fail_mdb(st, rc, NULL);
    for (int i = 0; i < DB_N && !rc; i++)
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]);
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
    if (rc) {
        mdb_txn_abort(txn);
        return fail_mdb(st, rc, "creating the store");
    }
    rc = mdb_txn_commit(txn);
    if (rc)
        return fail_mdb(st, rc, "creating the store");
    st->next_id = st->next_id_disk = 1;
    return 0;
}

int cg_store_open(cg_store **out, const char *dir, unsigned flags, uint64_t mapsize)
{
    cg_store *st;
    size_t dlen;
    int fresh = 0, code;

    if (!out || !dir || !*dir || (flags & ~(unsigned)CG_STORE_RDONLY)) {
        last_err.st = NULL;
        snprintf(last_err.msg, sizeof last_err.msg, "%s: invalid arguments to cg_store_open",
                 dir ? dir : "(null)");
        return CG_STORE_EINVAL;
    }
    dlen = strlen(dir);
    st = calloc(1, sizeof *st + dlen + 1);
    if (!st) {
        last_err.st = NULL;
        snprintf(last_err.msg, sizeof last_err.msg, "%s: %s", dir, strerror(ENOMEM));
        return CG_STORE_EIO;
    }
    memcpy(st->dir, dir, dlen + 1);
    st->flags = flags;
    st->lockfd = -1;

    if (flags & CG_STORE_RDONLY) {
        code = probe_reader(st);
    } else {
        code = prepare_dir(st);
        /* Before LMDB: a second writer in this process must not open the
         * environment a second time (LMDB's locks are per process). */
        if (!code)
            code = take_writer_lock(st);
    }
    if (!code)
        code = open_env(st, mapsize);
    if (!code)
        code = check_store(st, &fresh);
    if (!code && fresh) {
        if (flags & CG_STORE_RDONLY)
            code = fail(st, CG_STORE_ENOTFOUND, "no canhgac store here (empty LMDB environment)");
        else
            code = create_store(st);
    }
    if (code)
        goto fail;
    st->opened = 1;
    *out = st;
    return 0;
fail:
    if (st->env)
        mdb_env_close(st->env);
    if (st->lockfd >= 0)
        close(st->lockfd);
    free(st);
    return code;
}

void cg_store_close(cg_store *st)
{
    if (!st)
        return;
    if (st->wtxn)
        mdb_txn_abort(st->wtxn);
    mdb_env_close(st->env);
    /* Only now may another writer start (invariant 3). */
    if (st->lockfd >= 0)
        close(st->lockfd);
    if (last_err.st == st)
        last_err.st = NULL, last_err.msg[0] = 0;
    free(st);
}

const char *cg_store_error(const cg_store *st)
{
    return last_err.st == st ? last_err.msg : "";
}

const char *cg_store_strerror(int code)
{
    switch (code) {
    case CG_STORE_OK:       return "success";
    case CG_STORE_EIO:      return "cannot open, create or write the store";
    case CG_STORE_ENEWER:   return "store written by a newer schema version";
    case CG_STORE_ECORRUPT: return "not a canhgac store, or a bad record";
    case CG_STORE_EFULL:    return "the store is full";
    case CG_STORE_ENOTFOUND: return "not found";
    case CG_STORE_EBUSY:    return "another writer holds the store";
    case CG_STORE_EINVAL:   return "invalid argument";
    default:                return "unknown store error";
    }
}

/* ---- writer ------------------------------------------------------------------ */

uint64_t cg_store_new_id(cg_store *st)
{
    if (!st || (st->flags & CG_STORE_RDONLY) || st->next_id == UINT64_MAX)
        return 0;
    return st->next_id++;
}

int cg_store_begin(cg_store *st)
{
    int rc;

    if (!st)
        return CG_STORE_EINVAL;
    if (st->flags & CG_STORE_RDONLY)
        return fail(st, CG_STORE_EINVAL, "opened read-only");
    if (st->wstate != W_IDLE)
        return fail(st, CG_STORE_EINVAL, "a batch is already open");
    rc = mdb_txn_begin(st->env, NULL, 0, &st->wtxn);
    if (rc) {
        st->wtxn = NULL;
        return fail_mdb(st, rc, "begin");
    }
    st->wstate = W_OPEN;
    return 0;
}

/* An LMDB error inside the batch: LMDB wants the transaction aborted, so the
 * whole batch is dropped now, and the handle remembers why (W_FAILED). */
static int batch_fail(cg_store *st, int rc, const char *what)
{
    int code = fail_mdb(st, rc, what);

    mdb_txn_abort(st->wtxn);
    st->wtxn = NULL;
    st->wstate = W_FAILED;
    st->batch_err = code;
    return code;
}

/* 0 when a put may go into the batch; the code to return otherwise. */
static int batch_ready(cg_store *st)
{
    if (st->flags & CG_STORE_RDONLY)
        return fail(st, CG_STORE_EINVAL, "opened read-only");
    if (st->wstate == W_FAILED)
        return st->batch_err;   /* its message was set when it failed */
    if (st->wstate != W_OPEN)
        return fail(st, CG_STORE_EINVAL, "no batch open (cg_store_begin)");
    return 0;
}

int cg_store_put(cg_store *st, const cg_incident *inc)
{
    MDB_val k, v, ov;
    struct ixkeys nk, okeys;
    uint8_t key[8];
    cg_incident old;
    const char *why;
    size_t size;
    int rc, have_old = 0, code;

    if (!st)
        return CG_STORE_EINVAL;
    if ((code = batch_ready(st)) != 0)
        return code;
    if (!inc || inc->id == 0 || inc->id == UINT64_MAX)
        return fail(st, CG_STORE_EINVAL, "invalid incident id");
    size = inc_size(inc);
    if (size == 0)
        return fail(st, CG_STORE_EINVAL, "incident %llu: a string is longer than %u bytes",
                    (unsigned long long)inc->id, STR_MAX - 1);

    put64(key, inc->id);
    k = (MDB_val){ 8, key };
    rc = mdb_get(st->wtxn, st->dbi[DB_INC], &k, &ov);
    if (rc == 0) {
        /* The old keys must be known before the old value is overwritten. A
         * record that does not decode is replaced all the same, and its keys,
         * unknown, stay behind; readers recheck filters (invariant 1). */
        if (inc_decode(ov.mv_data, ov.mv_size, &old, &why) == 0) {
            old.id = inc->id;
            ix_build(&okeys, &old);
            have_old = 1;
        }
    } else if (rc != MDB_NOTFOUND) {
        return batch_fail(st, rc, "incidents");
    }

    v = (MDB_val){ size, NULL };
    rc = mdb_put(st->wtxn, st->dbi[DB_INC], &k, &v, MDB_RESERVE);
    if (rc)
        return batch_fail(st, rc, "incidents");
    inc_encode(v.mv_data, inc);

    ix_build(&nk, inc);
    for (int i = 0; i < IX_N; i++) {
        MDB_val ik = { nk.len[i], nk.k[i] }, empty = { 0, (void *)"" };
        MDB_dbi dbi = st->dbi[ix_db[i]];
        if (have_old) {
            MDB_val ok = { okeys.len[i], okeys.k[i] };
            if (memcmp(okeys.k[i], nk.k[i], nk.len[i]) == 0)
                continue;
            rc = mdb_del(st->wtxn, dbi, &ok, NULL);
            if (rc && rc != MDB_NOTFOUND)
                return batch_fail(st, rc, db_names[ix_db[i]]);
        }
        rc = mdb_put(st->wtxn, dbi, &ik, &empty, 0);
        if (rc)
            return batch_fail(st, rc, db_names[ix_db[i]]);
    }
    if (inc->id >= st->next_id)
        st->next_id = inc->id + 1;
    return 0;
}

int cg_store_put_evidence(cg_store *st, uint64_t id, uint32_t seq, const cg_evidence *ev)
{
    MDB_val k, v;
    uint8_t key[12];
    int rc, code;

    if (!st)
        return CG_STORE_EINVAL;
    if ((code = batch_ready(st)) != 0)
        return code;
    if (!ev || id == 0 || (ev->caplen && !ev->data) || (uint64_t)ev->caplen + EV_FIXED > SIZE_MAX)
        return fail(st, CG_STORE_EINVAL, "invalid evidence for incident %llu", (unsigned long long)id);
    put64(key, id);
    put32(key + 8, seq);
    k = (MDB_val){ 12, key };
    v = (MDB_val){ EV_FIXED + (size_t)ev->caplen, NULL };
    rc = mdb_put(st->wtxn, st->dbi[DB_EV], &k, &v, MDB_RESERVE);
    if (rc)
        return batch_fail(st, rc, "evidence");
    ev_encode(v.mv_data, ev);
    return 0;
}

int cg_store_commit(cg_store *st)
{
    MDB_val k, v;
    uint8_t b[8];
    int rc, code;

    if (!st)
        return CG_STORE_EINVAL;
    if (st->wstate == W_FAILED) {
        st->wstate = W_IDLE;
        return st->batch_err;
    }
    if (st->wstate != W_OPEN)
        return fail(st, CG_STORE_EINVAL, "no batch open (cg_store_begin)");
    if (st->next_id != st->next_id_disk) {
        put64(b, st->next_id);
        k = (MDB_val){ 7, (void *)"next_id" };
        v = (MDB_val){ 8, b };
        rc = mdb_put(st->wtxn, st->dbi[DB_META], &k, &v, 0);
        if (rc) {
            code = batch_fail(st, rc, "meta");
            st->wstate = W_IDLE;
            return code;
        }
    }
    /* mdb_txn_commit frees the transaction whatever it returns. */
    rc = mdb_txn_commit(st->wtxn);
    st->wtxn = NULL;
    st->wstate = W_IDLE;
    if (rc)
        return fail_mdb(st, rc, "commit");
    st->next_id_disk = st->next_id;
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
}

/* ---- readers ----------------------------------------------------------------- */

static int rtxn_begin(const cg_store *st, MDB_txn **txn)
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
        return fail_mdb(st, rc, "read transaction");
    return 0;
}

static int bad_record(const cg_store *st, const char *what, uint64_t id, const char *why)
{
    return fail(st, CG_STORE_ECORRUPT, "%s %llu: bad record (%s)", what, (unsigned long long)id, why);
}

/* Reads and decodes incident id in txn. */
static int load(const cg_store *st, MDB_txn *txn, uint64_t id, cg_incident *inc)
{
    MDB_val k, v;
    uint8_t key[8];
    const char *why;
    int rc;

    put64(key, id);
    k = (MDB_val){ 8, key };
    rc = mdb_get(txn, st->dbi[DB_INC], &k, &v);
    if (rc == MDB_NOTFOUND)
        return CG_STORE_ENOTFOUND;   /* callers decide whether that is an error */
    if (rc)
        return fail_mdb(st, rc, "incidents");
    if (inc_decode(v.mv_data, v.mv_size, inc, &why))
        return bad_record(st, "incident", id, why);
    if (inc->id != id)
        return bad_record(st, "incident", id, "id differs from its key");
    return 0;
}

int cg_store_get(cg_store *st, uint64_t id, int (*cb)(const cg_incident *inc, void *arg), void *arg)
{
    MDB_txn *txn;
    cg_incident inc;
    int code;

    if (!st || !cb)
        return CG_STORE_EINVAL;
    if ((code = rtxn_begin(st, &txn)) != 0)
        return code;
    code = load(st, txn, id, &inc);
    if (code == CG_STORE_ENOTFOUND)
        fail(st, code, "no incident %llu", (unsigned long long)id);
    if (code == 0)
        cb(&inc, arg);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_evidence(cg_store *st, uint64_t id,
                      int (*cb)(uint32_t seq, const cg_evidence *ev, void *arg), void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint8_t key[12];
    cg_evidence ev;
    const char *why;
    int rc, code = 0;

    if (!st || !cb)
        return CG_STORE_EINVAL;
    if ((code = rtxn_begin(st, &txn)) != 0)
        return code;
    /* The incident must exist, but need not decode: the packets of a damaged
     * record are still evidence. */
    put64(key, id);
    k = (MDB_val){ 8, key };
    rc = mdb_get(txn, st->dbi[DB_INC], &k, &v);
    if (rc) {
        code = rc == MDB_NOTFOUND ? fail(st, CG_STORE_ENOTFOUND, "no incident %llu", (unsigned long long)id)
                                  : fail_mdb(st, rc, "incidents");
        goto out;
    }
    rc = mdb_cursor_open(txn, st->dbi[DB_EV], &cur);
    if (rc) {
        code = fail_mdb(st, rc, "evidence");
        goto out;
    }
    put64(key, id);
    put32(key + 8, 0);
    k = (MDB_val){ 12, key };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 12) {
            code = fail(st, CG_STORE_ECORRUPT, "evidence: a key of %zu bytes", k.mv_size);
            goto out;
        }
        if (get64(k.mv_data) != id)
            break;
        if (ev_decode(v.mv_data, v.mv_size, &ev, &why)) {
            code = bad_record(st, "evidence of incident", id, why);
            goto out;
        }
        if (cb(get32((const uint8_t *)k.mv_data + 8), &ev, arg))
            break;
    }
    if (rc && rc != MDB_NOTFOUND)
        code = fail_mdb(st, rc, "evidence");
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

static int in_range(const uint8_t a[16], const uint8_t lo[16], const uint8_t hi[16])
{
    return memcmp(a, lo, 16) >= 0 && memcmp(a, hi, 16) <= 0;
}

/* Every filter of q, on a decoded record: the index that drove the scan is
 * checked again (invariant 1). */
static int match(const cg_query *q, const cg_incident *inc)
{
    unsigned has = q->has;

    if ((has & CG_Q_SINCE) && inc->first_us < q->since_us)
        return 0;
    if ((has & CG_Q_UNTIL) && inc->first_us >= q->until_us)
        return 0;
    if ((has & CG_Q_SRC) && !in_range(inc->src, q->src_lo, q->src_hi))
        return 0;
    if ((has & CG_Q_DST) && !in_range(inc->dst, q->dst_lo, q->dst_hi))
        return 0;
    if ((has & CG_Q_SID) && inc->sid != q->sid)
        return 0;
    if ((has & CG_Q_GID) && inc->gid != q->gid)
        return 0;
    if ((has & CG_Q_SEV) && inc->severity > q->sev_max)
        return 0;
    if ((has & CG_Q_PORT) && inc->sport != q->port && inc->dport != q->port)
        return 0;
    if ((has & CG_Q_SPORT) && inc->sport != q->sport)
        return 0;
    if ((has & CG_Q_DPORT) && inc->dport != q->dport)
        return 0;
    return 1;
}

struct ids {
    uint64_t *v;
    size_t n, cap;
};

static int ids_push(struct ids *a, uint64_t id)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 1024;
        uint64_t *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = id;
    return 0;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Collects the ids of the keys of dbi from lo|0 up to hi|max (prefixes of
 * plen bytes, keys of plen + 8), those below `below` when it is not 0. */
static int scan_range(const cg_store *st, MDB_txn *txn, int db, const uint8_t *lo,
                      const uint8_t *hi, size_t plen, uint64_t below, struct ids *out)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t start[24];
    int rc, code = 0;

    rc = mdb_cursor_open(txn, st->dbi[db], &cur);
    if (rc)
        return fail_mdb(st, rc, db_names[db]);
    memcpy(start, lo, plen);
    memset(start + plen, 0, 8);
    k = (MDB_val){ plen + 8, start };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t id;
        if (k.mv_size != plen + 8) {
            code = fail(st, CG_STORE_ECORRUPT, "%s: a key of %zu bytes", db_names[db], k.mv_size);
            break;
        }
        if (memcmp(k.mv_data, hi, plen) > 0)
            break;
        id = get64((const uint8_t *)k.mv_data + plen);
        if ((!below || id < below) && ids_push(out, id)) {
            code = fail(st, CG_STORE_EIO, "%s", strerror(ENOMEM));
            break;
        }
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = fail_mdb(st, rc, db_names[db]);
    mdb_cursor_close(cur);
    return code;
}

/* by_sid is gid | sid | id and a query may name only the sid: one range per
 * gid present in the index, found by seeking, so the cost grows with the
 * number of gids (a handful), not with the number of keys. */
static int scan_sid(const cg_store *st, MDB_txn *txn, uint32_t sid, uint64_t below, struct ids *out)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t seek[16];
    uint32_t gid = 0;
    int rc, code = 0;

    rc = mdb_cursor_open(txn, st->dbi[DB_SID], &cur);
    if (rc)
        return fail_mdb(st, rc, "by_sid");
    for (;;) {
        put32(seek, gid);
        put32(seek + 4, sid);
        put64(seek + 8, 0);
        k = (MDB_val){ 16, seek };
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size != 16)
            goto badkey;
        if (rc == 0 && get32(k.mv_data) != gid) {
            gid = get32(k.mv_data);   /* no sid in this gid; try the next one */
            continue;
        }
        while (rc == 0) {
            const uint8_t *p = k.mv_data;
            uint64_t id;
            if (k.mv_size != 16)
                goto badkey;
            if (get32(p) != gid || get32(p + 4) != sid)
                break;
            id = get64(p + 8);
            if ((!below || id < below) && ids_push(out, id)) {
                code = fail(st, CG_STORE_EIO, "%s", strerror(ENOMEM));
                goto out;
            }
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        if (rc || gid == UINT32_MAX)
            break;
        gid++;
    }
    if (rc && rc != MDB_NOTFOUND)
        code = fail_mdb(st, rc, "by_sid");
    goto out;
badkey:
    code = fail(st, CG_STORE_ECORRUPT, "by_sid: a key of %zu bytes", k.mv_size);
out:
    mdb_cursor_close(cur);
    return code;
}

struct walk {
    uint64_t limit, n, last;
    int stopped;
    int (*cb)(const cg_incident *inc, void *arg);
    void *arg;
};

static void deliver(struct walk *w, const cg_incident *inc)
{
    w->n++;
    w->last = inc->id;
    if (w->cb(inc, w->arg) || (w->limit && w->n >= w->limit))
        w->stopped = 1;
}

static int query_index(const cg_store *st, MDB_txn *txn, const cg_query *q, uint64_t below,
                       struct walk *w)
{
    struct ids ids = { 0 };
    uint8_t lo[16], hi[16];
    cg_incident inc;
    int code;

    if (q->has & CG_Q_SRC) {
        code = scan_range(st, txn, DB_SRC, q->src_lo, q->src_hi, 16, below, &ids);
    } else if (q->has & CG_Q_DST) {
        code = scan_range(st, txn, DB_DST, q->dst_lo, q->dst_hi, 16, below, &ids);
    } else if ((q->has & CG_Q_SID) && (q->has & CG_Q_GID)) {
        put32(lo, q->gid);
        put32(lo + 4, q->sid);
        code = scan_range(st, txn, DB_SID, lo, lo, 8, below, &ids);
    } else if (q->has & CG_Q_SID) {
        code = scan_sid(st, txn, q->sid, below, &ids);
    } else {
        uint64_t from = (q->has & CG_Q_SINCE) ? q->since_us : 0;
        uint64_t to = UINT64_MAX;   /* inclusive */
        if (q->has & CG_Q_UNTIL) {
            if (q->until_us == 0 || q->until_us <= from)
                return 0;
            to = q->until_us - 1;
        }
        put64(lo, from);
        put64(hi, to);
        code = scan_range(st, txn, DB_TIME, lo, hi, 8, below, &ids);
    }
    if (code)
        goto out;
    if (ids.n)
        qsort(ids.v, ids.n, sizeof *ids.v, cmp_desc);
    for (size_t i = 0; i < ids.n && !w->stopped; i++) {
        if (i && ids.v[i] == ids.v[i - 1])
            continue;
        code = load(st, txn, ids.v[i], &inc);
        if (code == CG_STORE_ENOTFOUND) {   /* a key left by damage elsewhere */
            code = 0;
            continue;
        }
        if (code)
            break;
        if (match(q, &inc))
            deliver(w, &inc);
    }
out:
    free(ids.v);
    return code;
}

/* No index applies: walk incidents backwards from below, decoding in place. */
static int query_scan(const cg_store *st, MDB_txn *txn, const cg_query *q, uint64_t below,
                      struct walk *w)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t key[8];
    cg_incident inc;
    const char *why;
    int rc, code = 0;

    rc = mdb_cursor_open(txn, st->dbi[DB_INC], &cur);
    if (rc)
        return fail_mdb(st, rc, "incidents");
    if (below) {
        put64(key, below);
        k = (MDB_val){ 8, key };
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        else if (rc == MDB_NOTFOUND)
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    } else {
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }
    for (; rc == 0 && !w->stopped; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
        uint64_t id;
        if (k.mv_size != 8) {
            code = fail(st, CG_STORE_ECORRUPT, "incidents: a key of %zu bytes", k.mv_size);
            break;
        }
        id = get64(k.mv_data);
        if (inc_decode(v.mv_data, v.mv_size, &inc, &why)) {
            code = bad_record(st, "incident", id, why);
            break;
        }
        if (inc.id != id) {
            code = bad_record(st, "incident", id, "id differs from its key");
            break;
        }
        if (match(q, &inc))
            deliver(w, &inc);
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = fail_mdb(st, rc, "incidents");
    mdb_cursor_close(cur);
    return code;
}

int cg_store_query(cg_store *st, const cg_query *q, uint64_t limit, uint64_t *cursor,
                   int (*cb)(const cg_incident *inc, void *arg), void *arg)
{
    static const cg_query all;
    struct walk w = { .limit = limit, .cb = cb, .arg = arg };
    MDB_txn *txn;
    uint64_t below = cursor ? *cursor : 0;
    int code;

    if (!st || !cb)
        return CG_STORE_EINVAL;
    if (!q)
        q = &all;
    if (((q->has & CG_Q_SRC) && memcmp(q->src_lo, q->src_hi, 16) > 0) ||
        ((q->has & CG_Q_DST) && memcmp(q->dst_lo, q->dst_hi, 16) > 0))
        return fail(st, CG_STORE_EINVAL, "query: address range with low above high");
    if ((code = rtxn_begin(st, &txn)) != 0)
        return code;
    if (q->has & (CG_Q_SRC | CG_Q_DST | CG_Q_SID | CG_Q_SINCE | CG_Q_UNTIL))
        code = query_index(st, txn, q, below, &w);
    else
        code = query_scan(st, txn, q, below, &w);
    mdb_txn_abort(txn);
    if (code == 0 && cursor)
        *cursor = w.stopped ? w.last : 0;
    return code;
}

int cg_store_info_get(cg_store *st, cg_store_info *out)
{
    MDB_txn *txn;
    MDB_stat si, se, es;
    MDB_envinfo ei;
    cg_store_info info;
    int rc, code;

    if (!st || !out)
        return CG_STORE_EINVAL;
    if ((code = rtxn_begin(st, &txn)) != 0)
        return code;
    memset(&info, 0, sizeof info);
    if ((code = meta_schema(st, txn, &info.schema)) != 0 ||
        (code = meta_next_id(st, txn, &info.next_id)) != 0)
        goto out;
    rc = mdb_stat(txn, st->dbi[DB_INC], &si);
    if (!rc)
        rc = mdb_stat(txn, st->dbi[DB_EV], &se);
    if (!rc)
        rc = mdb_env_info(st->env, &ei);
    if (!rc)
        rc = mdb_env_stat(st->env, &es);
    if (rc) {
        code = fail_mdb(st, rc, "stat");
        goto out;
    }
    info.incidents = si.ms_entries;
    info.evidence = se.ms_entries;
    info.map_size = ei.me_mapsize;
    info.map_used = ((uint64_t)ei.me_last_pgno + 1) * es.ms_psize;
    *out = info;
out:
    mdb_txn_abort(txn);
    return code;
}
