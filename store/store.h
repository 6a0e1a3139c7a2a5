/* store.h — the LMDB incident store: its API is its manual.
 *
 * An LMDB environment in a directory. One writer (the sensor, through
 * cg_store_begin/put/commit: batched transactions), any number of readers
 * (query, report) reading snapshots at the same time without blocking it.
 * The record format and key layouts are documented in store.c's header table;
 * the schema version is in the "meta" database, and a store written by a newer
 * schema is refused at open.
 *
 * Named databases:
 *   meta        "schema" -> be32 version; "next_id" -> be64
 *   incidents   be64 id -> incident record (versioned, see store.c)
 *   by_time     be64 first_us | be64 id -> ""
 *   by_src      addr16 | be64 id -> ""      (IPv4 mapped: a CIDR is one range scan)
 *   by_dst      addr16 | be64 id -> ""
 *   by_sid      be32 gid | be32 sid | be64 id -> ""
 *   evidence    be64 id | be32 seq -> evidence record (ts, link type, lengths, bytes)
 *
 * Contract:
 *  - Functions return 0 or a negative CG_STORE_E* code; a message for the
 *    last error of the handle is in cg_store_error(). Output parameters are
 *    written only on success.
 *  - A full map (CG_STORE_EFULL) aborts the open batch only; everything
 *    committed before stays, and the store opens again.
 *  - Views returned by readers (strings of a cg_incident) live until the
 *    callback returns.
 *  - Opening: a writer creates DIR (one level, mode 0700) and the store in
 *    it when missing, and holds DIR/writer.lock (flock) while open: a second
 *    writer gets CG_STORE_EBUSY. A reader (CG_STORE_RDONLY) never writes and
 *    never takes writer.lock; a missing store is CG_STORE_ENOTFOUND ("DIR: no
 *    canhgac store here"). A newer schema is CG_STORE_ENEWER, something that
 *    is not a canhgac store CG_STORE_ECORRUPT, and a refused store is left as
 *    it was.
 *  - Batches: put and put_evidence need an open batch (cg_store_begin).
 *    When LMDB fails inside a batch (a full map, a disk error) the batch is
 *    dropped at once: later puts return the same error and do nothing, and
 *    cg_store_commit returns it too and closes the batch (or cg_store_abort).
 *    A commit that returned 0 is on disk (synchronous LMDB commits).
 *  - Readers read the last committed state in one read-only transaction per
 *    call; on the writer's handle the open batch is invisible to them.
 *  - Threads: the reader functions may be called from many threads at once
 *    on one handle; the writer functions from one thread at a time; close
 *    when nothing else runs on the handle.
 *
 * Caveats:
 *  - Open a store once per process (LMDB's rule: its locks are per process).
 *    A process that writes reads through its writer handle.
 *  - A reader needs write access to DIR/lock.mdb (LMDB's reader table).
 *  - writer.lock is an flock: do not put a store on a network filesystem.
 */
#ifndef CG_STORE_H
#define CG_STORE_H

#include <stddef.h>
#include <stdint.h>

#define CG_STORE_SCHEMA 1

enum {
    CG_STORE_OK = 0,
    CG_STORE_EIO = -1,       /* cannot open/create, permission, disk */
    CG_STORE_ENEWER = -2,    /* written by a newer schema version */
    CG_STORE_ECORRUPT = -3,  /* not a canhgac store, or a bad record */
    CG_STORE_EFULL = -4,     /* the map is full */
    CG_STORE_ENOTFOUND = -5,
    CG_STORE_EBUSY = -6,     /* another writer holds the store */
    CG_STORE_EINVAL = -7,
};

typedef struct cg_store cg_store;

/* flags for cg_store_open */
#define CG_STORE_RDONLY 0x1   /* query side: never writes, store must exist */

/* mapsize 0 = default: the store's map size, at least 16 GiB (sparse: the
 * file grows with the data); a reader's default is the writer's size. */
int cg_store_open(cg_store **out, const char *dir, unsigned flags, uint64_t mapsize);
void cg_store_close(cg_store *st);
/* The message of the calling thread's last failed call on st, one line that
 * starts with the directory; "" when there is none. cg_store_error(NULL) is
 * the message of the thread's last failed cg_store_open. */
const char *cg_store_error(const cg_store *st);
const char *cg_store_strerror(int code);

enum { CG_ST_NEW = 0, CG_ST_ACKNOWLEDGED, CG_ST_INVESTIGATING, CG_ST_RESOLVED, CG_ST_FALSE_POSITIVE };

typedef struct cg_incident {
    uint64_t id;               /* assigned by cg_store_new_id */
    uint32_t gid, sid, rev;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;     /* of the first alert */
    uint8_t proto;             /* IP protocol */
    uint8_t severity;          /* 1 high .. 4 info */
    uint8_t layers;            /* CG_LAYER bits */
    uint8_t status;            /* CG_ST_* */
    uint64_t first_us, last_us;
    uint64_t count;            /* alerts folded in */
    uint64_t flow_id;          /* of the first alert */
    const char *community_id;  /* of the first alert */
    const char *msg;
    const char *classtype;     /* "" when none */
    uint32_t nevidence;        /* evidence packets stored */
} cg_incident;

typedef struct cg_evidence {
    uint64_t ts_us;
    int32_t dlt;
    uint32_t caplen, wirelen;
    const uint8_t *data;
} cg_evidence;

/* ---- writer ------------------------------------------------------------ */

/* Reserves the next incident id (persisted at the next commit). Ids start at
 * 1 and are never handed out twice, also when a batch fails; 0 on a
 * read-only handle. */
uint64_t cg_store_new_id(cg_store *st);
int cg_store_begin(cg_store *st);
/* Inserts or replaces incident inc->id (indexes kept consistent). NULL
 * strings are stored as ""; each string is at most 65534 bytes. */
int cg_store_put(cg_store *st, const cg_incident *inc);
int cg_store_put_evidence(cg_store *st, uint64_t id, uint32_t seq, const cg_evidence *ev);
/* Commits the batch; on failure (EFULL, EIO) the batch is dropped. */
int cg_store_commit(cg_store *st);
void cg_store_abort(cg_store *st);

/* ---- readers ----------------------------------------------------------- */

/* Calls cb once with incident id (its return value is ignored), or returns
 * CG_STORE_ENOTFOUND; a record that does not decode is CG_STORE_ECORRUPT. */
int cg_store_get(cg_store *st, uint64_t id,
                 int (*cb)(const cg_incident *inc, void *arg), void *arg);
/* Calls cb for each evidence packet of incident id in seq order, until cb
 * returns non-zero; CG_STORE_ENOTFOUND when there is no such incident. The
 * bytes (ev->data) are a view that lives until cb returns. */
int cg_store_evidence(cg_store *st, uint64_t id,
                      int (*cb)(uint32_t seq, const cg_evidence *ev, void *arg), void *arg);

#define CG_Q_SINCE   0x0001
#define CG_Q_UNTIL   0x0002
#define CG_Q_SRC     0x0004
#define CG_Q_DST     0x0008
#define CG_Q_SID     0x0010
#define CG_Q_SEV     0x0020
#define CG_Q_PORT    0x0040   /* src or dst port */
#define CG_Q_SPORT   0x0080
#define CG_Q_DPORT   0x0100
#define CG_Q_GID     0x0200   /* gid == q->gid (with CG_Q_SID: one index range) */

typedef struct cg_query {
    unsigned has;              /* CG_Q_* */
    uint64_t since_us, until_us;       /* on first_us: since <= first_us < until */
    uint8_t src_lo[16], src_hi[16];    /* inclusive range (an address or a CIDR) */
    uint8_t dst_lo[16], dst_hi[16];
    uint32_t sid;
    uint8_t sev_max;           /* severity <= sev_max (1 = high only) */
    uint16_t port, sport, dport;
    uint32_t gid;
} cg_query;

/* Walks the incidents matching q, newest first (descending id: ids are given
 * in creation order), those with id < *cursor when *cursor != 0, stopping after
 * limit results (0 = no limit) or when cb returns non-zero. Reads one snapshot.
 * On return *cursor holds the id to resume below (0 when the walk reached the
 * end). An index (address range, sid, time) drives the scan when the query has
 * a filter on it; the other filters are checked on each record.
 * q NULL matches everything; cursor may be NULL. When the walk stops early
 * (limit, or cb returned non-zero) *cursor is the id of the last incident
 * given to cb, so a next page may turn out empty. Returns 0 also when cb
 * stopped the walk; a record that does not decode stops it with
 * CG_STORE_ECORRUPT. An address range with lo above hi is CG_STORE_EINVAL. */
int cg_store_query(cg_store *st, const cg_query *q, uint64_t limit, uint64_t *cursor,
                   int (*cb)(const cg_incident *inc, void *arg), void *arg);

/* As last committed: entry counts of incidents and evidence, meta next_id,
 * the map size and the bytes in use (last page * page size). */
typedef struct cg_store_info {
    uint32_t schema;
    uint64_t incidents, evidence, next_id;
    uint64_t map_size, map_used;
} cg_store_info;
int cg_store_info_get(cg_store *st, cg_store_info *out);

/* ---- records ----------------------------------------------------------- */

/* Decode one stored record (the formats are in store.c) from untrusted bytes:
 * 0, or CG_STORE_ECORRUPT. The strings / data of out are views into rec. For
 * tools that read LMDB values themselves, and for fuzzing the decoders. */
int cg_store_decode(const void *rec, size_t len, cg_incident *out);
int cg_store_decode_evidence(const void *rec, size_t len, cg_evidence *out);

#endif
