/* store_int.h — what the store's own files share, and nothing outside
 * store/ includes: the handle, the database and index tables, error
 * helpers, byte order, the record codecs (store_rec.c) and the index keys.
 *
 * Files of the module:
 *   store.c         environment, open and schema check, the batched writer
 *   store_rec.c     record encodings and index keys (the byte tables)
 *   store_attack.c  attacks: the address pairs' attacks, assigned on put
 *   store_migrate.c schema 2 to 3, in place, in one transaction
 *   store_triage.c  triage changes and notes, each in its own transaction
 *   store_read.c    get, evidence, alerts, history, info
 *   store_query.c   the planner, queries, counts, top-N, histograms, attacks
 *   store_guard.c   a damaged store: faults and LMDB's assertions as one line
 *   store_outbox.c  the outbox of notifications (schema 7)
 *   store_user.c    accounts, API tokens and the audit trail (schema 8)
 *   store_check.c   store check (every record of every database), backup, restore
 *   store_inv.c     the writer's invariants below, checked (cgs_check_writer)
 * Names shared between them start with cgs_.
 *
 * The writer's state (struct cg_store's writer fields). cgs_check_writer
 * checks W1 to W6 from the handle, and W7 to W9 in LMDB when asked to go
 * deep; store.c runs it through CG_INVARIANT after cg_store_begin, before
 * and after each commit, after an abort and a batch's failure, and every
 * CG_INVARIANT_EVERY puts, in the builds that define CG_INVARIANTS.
 *  W1. wstate is W_IDLE, W_OPEN or W_FAILED; a handle that is not the
 *      writer (read-only, triage) stays W_IDLE.
 *  W2. wtxn is set exactly in W_OPEN; in W_FAILED, batch_err is the
 *      negative code that put and commit return.
 *  W3. 1 <= next_id <= ID_LIMIT and next_id_disk <= next_id: ids handed out
 *      only grow, and the handle is never behind what it committed (after a
 *      failed commit it is ahead: those ids are not used again).
 *  W4. Outside W_OPEN the handle holds nothing of a batch: no partition
 *      span (ntouched 0), no last put; in W_FAILED no by_community memo
 *      (the memo may outlive a commit that succeeded: its entry is on disk).
 *  W5. The batch's spans: at most TOUCHED_MAX, of distinct partitions, each
 *      min_us <= max_us, each a partition of an id below next_id.
 *  W6. In W_OPEN, inc_last is UINT64_MAX (unknown: no append) or below
 *      next_id, and last_put (0: none yet) is below next_id.
 *  W7. In W_OPEN, in the batch's transaction: the last incident key is below
 *      next_id, and is inc_last when that is known (puts above it appended);
 *      meta next_id is at most next_id.
 *  W8. In W_OPEN, the incident put last (last_put) is in the transaction,
 *      decodes as that id, has its entry (key, id) in every index it has a
 *      key in (store.c's invariant 1, for a sample), and its first_us lies in
 *      its partition's span: the batch's, or the one in "parts" once the
 *      batch's spans were written there (invariant 8).
 *  W9. In W_IDLE, a writer's committed state: the last incident key is below
 *      next_id_disk, and meta next_id is at most it (store.c's invariant 2).
 * A damaged store's bytes are not the writer's state: reads that fail, and
 * records other than last_put that do not decode, are no finding.
 */
#ifndef CG_STORE_INT_H
#define CG_STORE_INT_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/merkle.h"
#include "store/store.h"
#include "store/store_user.h"

#define MIB (1024u * 1024u)
#define DEFAULT_MAPSIZE ((uint64_t)16 << 30)
#define STR_MAX 65535u /* be16 length, NUL included */

/* The named databases. The index databases follow DB_IX0 in cgs_ix order.
 * DB_PAIRS and by_attack are new in schema 3 (cgs_db_v3), DB_LOG and
 * DB_LOGN in schema 4 (cgs_db_v4), DB_CASE, DB_CASEH and by_case in schema
 * 5 (cgs_db_v5), DB_OUTBOX in schema 7 (cgs_db_v7), DB_USERS, DB_TOKENS and
 * DB_AUDIT in schema 8 (cgs_db_v8). */
enum {
    DB_META,
    DB_INC,
    DB_ALERT,
    DB_EV,
    DB_HIST,
    DB_PARTS,
    DB_PAIRS,
    DB_LOG,
    DB_LOGN,
    DB_CASE,
    DB_CASEH,
    DB_OUTBOX,
    DB_USERS,
    DB_TOKENS,
    DB_AUDIT,
    DB_IX0,
    DB_N = DB_IX0 + 15
};

/* Partitions: ids in runs of PART_IDS (store_rec.c). Part of the on-disk
 * format of schemas 2 and 3. Ids stay below ID_LIMIT so that a partition number
 * fits in a be32. */
#define PART_SHIFT 15
#define PART_IDS ((uint64_t)1 << PART_SHIFT)
#define ID_LIMIT ((uint64_t)1 << (32 + PART_SHIFT))

static inline uint32_t part_of(uint64_t id)
{
    return (uint32_t)(id >> PART_SHIFT);
}

enum {
    IX_TIME,
    IX_SRC,
    IX_DST,
    IX_SID,
    IX_SEV,
    IX_STATUS,
    IX_SRC_CC,
    IX_DST_CC,
    IX_SRC_ASN,
    IX_DST_ASN,
    IX_DPORT,
    IX_COMMUNITY,
    IX_ASSIGNEE,
    IX_ATTACK,
    IX_CASE,
    IX_N
};

/* Whether database i is one that schema 2 did not have. */
static inline int cgs_db_v3(int i)
{
    return i == DB_PAIRS || i == DB_IX0 + IX_ATTACK;
}

/* Whether database i is one that schema 3 did not have. */
static inline int cgs_db_v4(int i)
{
    return i == DB_LOG || i == DB_LOGN;
}

/* Whether database i is one that schema 4 did not have. */
static inline int cgs_db_v5(int i)
{
    return i == DB_CASE || i == DB_CASEH || i == DB_IX0 + IX_CASE;
}

/* Whether database i is one that schema 6 did not have. */
static inline int cgs_db_v7(int i)
{
    return i == DB_OUTBOX;
}

/* Whether database i is one that schema 7 did not have. */
static inline int cgs_db_v8(int i)
{
    return i == DB_USERS || i == DB_TOKENS || i == DB_AUDIT;
}

/* Whether database i is in a store of the given schema. */
static inline int cgs_db_in(int i, uint32_t schema)
{
    return !(schema < 3 && cgs_db_v3(i)) && !(schema < 4 && cgs_db_v4(i)) &&
        !(schema < 5 && cgs_db_v5(i)) && !(schema < 7 && cgs_db_v7(i)) &&
        !(schema < 8 && cgs_db_v8(i));
}

#define IX_KEYMAX 16    /* a field's key */
#define IX_STOREDMAX 20 /* with a partition in front */

#define IXF_ADD_ONLY 0x1 /* keys are added, never removed (by_community) */
#define IXF_PART 0x2     /* partitioned: be32 partition | field -> be16 offset */

struct cgs_ixdef {
    const char *name;
    unsigned keylen; /* of the field */
    unsigned flags;  /* IXF_* */
    /* Writes the field's key of x into k and returns keylen, or 0 when x
     * has no key in this index (an unknown country, no assignee). */
    unsigned (*key)(const cg_incident *x, uint8_t *k);
};

extern const struct cgs_ixdef cgs_ix[IX_N];
extern const char *const cgs_db_names[DB_N];

enum { W_IDLE, W_OPEN, W_FAILED };

/* A partition's span of first_us as the batch widened it (DB_PARTS). */
struct cgs_touched {
    uint32_t part;
    uint64_t min_us, max_us;
};
#define TOUCHED_MAX 16

/* The log's last block as a writer holds it (store_log.c). */
#define LOG_SLOT 49  /* a leaf: 32 hash | kind | key, zeros to 16 */
#define LOG_BLOCK 16 /* slots in a block */
struct cgs_logblk {
    uint64_t no; /* its number: leaves no * LOG_BLOCK onwards */
    unsigned n;  /* slots filled */
    int on_disk; /* a value of it is in the log (else the put appends) */
    int dirty;   /* slots not yet written */
    uint8_t s[LOG_BLOCK][LOG_SLOT];
};

struct cg_store {
    MDB_env *env;
    MDB_dbi dbi[DB_N];
    MDB_txn *wtxn;         /* the batch, in W_OPEN */
    int wstate;            /* W_* */
    int batch_err;         /* in W_FAILED: what put and commit return */
    unsigned flags;        /* CG_STORE_RDONLY, CG_STORE_TRIAGE */
    int lockfd;            /* writer.lock, -1 for readers and triage */
    int opened;            /* cg_store_open has returned it */
    uint64_t next_id;      /* what cg_store_new_id hands out next */
    uint64_t next_id_disk; /* meta next_id as committed */
    uint32_t alert_cap;    /* 0 = every alert */
    uint32_t schema;       /* of the store as opened: 2 (read-only handles only) or 3 */
    uint64_t attack_window_us;
    uint8_t *enc; /* a record encoded before its put (cg_store_put) */
    size_t enc_cap;
    uint64_t inc_last; /* in a batch: the highest id stored (UINT64_MAX: unknown) */
    uint64_t last_put; /* in a batch: the incident put last (0: none), for W8 */
    unsigned inv_puts; /* puts, for CG_INVARIANT_SOMETIMES */
    /* the last by_community key put_alert added in this batch: most alerts
     * of an incident share its Community ID, so most index puts are skipped */
    uint64_t memo_id, memo_hash;
    struct cgs_touched touched[TOUCHED_MAX]; /* this batch's partitions */
    unsigned ntouched;
    cg_mt_frontier mt;      /* the log's right edge, in the write transaction (store_log.c) */
    struct cgs_logblk blk;  /* the log's last block, in the write transaction */
    cg_mt_hasher *hasher;   /* the leaves' SHA-256 context (store_log.c) */
    uint32_t migrated_from; /* the schema cgs_migrate brought it from, or 0 */
    /* The notify targets registered on this handle (cg_store_outbox_targets):
     * each escalation it writes puts one outbox record per target in the
     * same transaction. Set before any write, read-only after. */
    char **ob_spec;
    uint64_t *ob_key;
    size_t ob_n;
    int pw_min; /* cg_store_user_cost: crypto_pwhash at its minimum cost (tests) */
    char dir[];
};

/* ---- the log (store_log.c) ------------------------------------------------ */

/* Writes st->blk when it holds leaves not yet written: before a write
 * transaction that added leaves commits. An LMDB code. */
int cgs_log_flush(cg_store *st, MDB_txn *txn);

/* The kinds of record a leaf names (the byte after its hash). */
enum {
    CGS_LOG_INC = 1,
    CGS_LOG_ALERT = 2,
    CGS_LOG_EV = 3,
    CGS_LOG_HIST = 4,
    CGS_LOG_CASE = 5,  /* a case record: key be64 case */
    CGS_LOG_CHIST = 6, /* a case's history entry: key be64 case | be64 seq */
    CGS_LOG_CMEM = 7 /* an incident in a case (by_case): key be64 case | be64 incident, no record */
};
/* The bytes of a kind's key (8, 12 or 16), 0 for no known kind. */
unsigned cgs_log_klen(unsigned kind);
/* Loads st->mt from the log in txn (a write transaction). An LMDB code. */
int cgs_log_load(cg_store *st, MDB_txn *txn);
/* Appends the leaf of the record rec[0..n) of that kind under key (8, 12
 * or 16 bytes as the kind says), in txn, after st->mt was loaded in it. An
 * LMDB code (ENOMEM for out of memory). rec may be in LMDB's map: it is
 * read before any put. */
int cgs_log_add(cg_store *st, MDB_txn *txn, unsigned kind, const uint8_t *key, const uint8_t *rec,
                size_t n);
/* store.c's batch: an LMDB error rc inside it drops the batch (W_FAILED)
 * and returns its code; batch_ready is 0 when a write may go into the
 * batch, else the code to return. */
int cgs_batch_fail(cg_store *st, int rc, const char *what);
int cgs_batch_ready(cg_store *st);
/* Writes meta "origin": a new log's name. An LMDB code. */
int cgs_log_begin_origin(cg_store *st, MDB_txn *txn);

/* ---- errors (store.c) -------------------------------------------------- */

__attribute__((format(printf, 3, 4))) int cgs_fail(const cg_store *st, int code, const char *fmt,
                                                   ...);
int cgs_fail_mdb(const cg_store *st, int rc, const char *what);
int cgs_bad_record(const cg_store *st, const char *what, uint64_t id, const char *why);
int cgs_rtxn_begin(const cg_store *st, MDB_txn **txn);
/* Whether the file system holding dir has less than DISK_FULL_SLACK bytes
 * free for this process: LMDB writes at most 64 pages (MDB_COMMIT_PAGES)
 * in one call, so a write cut short by a full disk (LMDB's EIO) leaves
 * less than that. Only statfs(2): the fault handler calls it too. */
#define DISK_FULL_SLACK ((uint64_t)256 << 10)
int cgs_disk_full(const char *dir);

/* ---- the writer's invariants (store_inv.c) -------------------------------- */

/* 0 when W1 to W6 hold (and W7 to W9 with deep set), else the number of
 * the first that does not. Reads only. */
int cgs_check_writer(const cg_store *st, int deep);

/* ---- a damaged store (store_guard.c) ------------------------------------- */

/* Marks the process as having met a damaged store (cg_store_damaged). */
void cgs_note_damaged(void);
/* While st's environment is opened (st NULL: done): faults are st's damage,
 * and env's failed assertions too when cg_store_fault_exit was called. */
void cgs_guard_opening(const cg_store *st, MDB_env *env);
/* st's map as a range whose faults are damage; removed before it goes. */
void cgs_guard_add(const cg_store *st);
void cgs_guard_remove(const cg_store *st);

/* ---- byte order ---------------------------------------------------------- */

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

/* ---- index entries ---------------------------------------------------------- */

/* The stored key of an index entry: the field's key, after the id's
 * partition for a partitioned index. Returns its length. */
static inline unsigned ix_stored_key(unsigned flags, uint64_t id, const uint8_t *field, unsigned fl,
                                     uint8_t *out)
{
    if (!(flags & IXF_PART)) {
        memcpy(out, field, fl);
        return fl;
    }
    put32(out, part_of(id));
    memcpy(out + 4, field, fl);
    return fl + 4;
}

/* The stored value of an index entry (the be16 offset in the partition, or
 * the be64 id); returns its length. */
static inline unsigned ix_value(unsigned flags, uint64_t id, uint8_t *out)
{
    if (flags & IXF_PART) {
        put16(out, (uint16_t)(id & (PART_IDS - 1)));
        return 2;
    }
    put64(out, id);
    return 8;
}

/* ---- records (store_rec.c) ------------------------------------------------ */

#define INC_FIXED_V2 130
#define INC_FIXED 152 /* version 3 */
#define ALERT_FIXED 28
#define EV_FIXED 24
#define HIST_FIXED 24
#define REC_SEAL 4 /* the seal: be32, the low 32 bits of XXH3-64 of the bytes before it */

/* Fixed-offset fields of an incident record, for readers that need one
 * field of many records (top-N, histograms) after cgs_inc_peek. */
#define OFF_SEV 2
#define OFF_STATUS 5
#define OFF_SPORT 28
#define OFF_SID 20
#define OFF_GID 16
#define OFF_DPORT 30
#define OFF_SRC 32
#define OFF_DST 48
#define OFF_FIRST 64
#define OFF_LAST 72
#define OFF_COUNT 80
#define OFF_SRC_ASN 116
#define OFF_DST_ASN 120
#define OFF_SRC_CC 124
#define OFF_DST_CC 126
#define OFF_ATTACK 132 /* versions 3 and 4 */

/* The attack id of a record that cgs_inc_peek accepted (0 in version 2). */
static inline uint64_t cgs_rec_attack(const uint8_t *p)
{
    return p[0] >= 3 ? get64(p + OFF_ATTACK) : 0;
}

/* Writes the seal of the n-byte record p (its last REC_SEAL bytes): the
 * encoders do, and so must whoever patches an encoded record after. */
void cgs_seal(uint8_t *p, size_t n);
/* A record of db (DB_INC, DB_ALERT, DB_EV, DB_HIST) of the version before
 * the sealed one, that decodes: written to out (n + REC_SEAL bytes) in the
 * sealed version, 1. Anything else (sealed already, older, damaged): 0. */
int cgs_rec_reseal(int db, const uint8_t *p, size_t n, uint8_t *out);

/* Encoded size of x, or 0 when a string is too long or a field invalid
 * (*why says which). */
size_t cgs_inc_size(const cg_incident *x, const char **why);
/* Writes exactly cgs_inc_size(x) bytes. */
void cgs_inc_encode(uint8_t *p, const cg_incident *x);
/* 0, or CG_ECORRUPT with *why set (out is then partly written).
 * Strings are views into p; absent ones the static "". */
int cgs_inc_decode(const uint8_t *p, size_t n, cg_incident *out, const char **why);
/* The cheap check for readers of fixed fields only: version (2 or 3),
 * length, id. The OFF_ fields are at the same place in both versions. */
int cgs_inc_peek(const uint8_t *p, size_t n, uint64_t id, const char **why);

size_t cgs_alert_size(const cg_alert *a);
void cgs_alert_encode(uint8_t *p, const cg_alert *a);
int cgs_alert_decode(const uint8_t *p, size_t n, cg_alert *out, const char **why);

/* Encoded size of evidence of caplen bytes (the caller bounds caplen). */
size_t cgs_ev_size(uint32_t caplen);
void cgs_ev_encode(uint8_t *p, const cg_evidence *ev);
int cgs_ev_decode(const uint8_t *p, size_t n, cg_evidence *out, const char **why);

size_t cgs_hist_size(const cg_history *h);
void cgs_hist_encode(uint8_t *p, const cg_history *h);
int cgs_hist_decode(const uint8_t *p, size_t n, cg_history *out, const char **why);

/* The cases' records (store_case.c): as the others. */
size_t cgs_case_size(const cg_case *c);
void cgs_case_encode(uint8_t *p, const cg_case *c);
int cgs_case_decode(const uint8_t *p, size_t n, cg_case *out, const char **why);
size_t cgs_cev_size(const cg_case_event *e);
void cgs_cev_encode(uint8_t *p, const cg_case_event *e);
int cgs_cev_decode(const uint8_t *p, size_t n, cg_case_event *out, const char **why);

/* The outbox's records (store_outbox.c): key be64 target | be64 incident |
 * be64 seq (OUTBOX_KEY bytes). cgs_outbox_decode as the others. */
#define OUTBOX_KEY 24
/* The encoded size of a record of spec and error (each at most 65534
 * bytes), and its encoding (attempts, created_us, next_us, last_us, spec,
 * error of e), sealed. */
size_t cgs_outbox_size(const char *spec, const char *error);
void cgs_outbox_encode(uint8_t *p, const cg_outbox_entry *e);
int cgs_outbox_decode(const uint8_t *p, size_t n, cg_outbox_entry *out, const char **why);
/* One record per registered target for history entry seq of incident id
 * (written at when_us), in txn: the escalation's own transaction. An LMDB
 * code (ENOMEM for out of memory). Nothing when no target is registered. */
int cgs_outbox_add(const cg_store *st, MDB_txn *txn, uint64_t id, uint64_t seq, uint64_t when_us);
/* Frees the handle's targets (cg_store_close). */
void cgs_outbox_close(cg_store *st);

/* The records of the console's accounts (store_user.c, layouts there):
 * users (key: the name), tokens (key: the token's 32-byte SHA-256), audit
 * (key: be64 seq). Decoders as the others; strings are views into p. */
#define TOKEN_KEY 32
#define AUDIT_KEY 8
int cgs_user_decode(const uint8_t *p, size_t n, cg_user *out, const char **hash, const char **why);
/* The encoded record, sealed, malloc'd, its size in *n; NULL: no memory.
 * The strings are written as given (the callers check them). */
uint8_t *cgs_user_encode(const cg_user *u, const char *hash, size_t *n);
uint8_t *cgs_token_encode(const cg_token_info *t, size_t *n);
uint8_t *cgs_audit_encode(const cg_audit *a, size_t *n);
int cgs_token_decode(const uint8_t *p, size_t n, cg_token_info *out, const char **why);
int cgs_audit_decode(const uint8_t *p, size_t n, cg_audit *out, const char **why);

/* FNV-1a 64 of a string (the by_community and by_assignee keys). */
uint64_t cgs_hash64(const char *s);

/* ---- index upkeep (store.c) ------------------------------------------------ */

/* The keys of one incident in every index (len 0: none in that index). Built
 * before a record is overwritten: the strings of a decoded record are views
 * into the page the put replaces. */
struct cgs_ixkeys {
    uint8_t k[IX_N][IX_STOREDMAX]; /* stored keys */
    unsigned len[IX_N];
};

void cgs_ix_keys(const cg_incident *x, struct cgs_ixkeys *out);
/* Adds first_us of incident id to its partition's span (DB_PARTS), in the
 * batch's memory; cgs_parts_flush writes the spans into txn. LMDB codes. */
int cgs_parts_note(cg_store *st, uint64_t id, uint64_t first_us);
int cgs_parts_flush(cg_store *st, MDB_txn *txn);

/* Moves incident id's index entries from old's keys (NULL: none) to nw's,
 * in txn: removes what changed (but IXF_ADD_ONLY keys), adds what is new.
 * An LMDB code, with *what naming the index on failure. */
int cgs_ix_apply(const cg_store *st, MDB_txn *txn, uint64_t id, const struct cgs_ixkeys *old,
                 const struct cgs_ixkeys *nw, const char **what);

/* Reads and decodes incident id in txn: 0, CG_ENOTFOUND (no message),
 * or another code with its message. */
int cgs_load(const cg_store *st, MDB_txn *txn, uint64_t id, cg_incident *inc);

/* ---- attacks (store_attack.c) ------------------------------------------------ */

/* Gives x an attack when x->attack_id is 0 (its pair's, when x->first_us is
 * within window_us of that attack's last seen, else x->id), and brings the
 * pair's entry up to date with x, in txn (a write transaction). An LMDB
 * code. */
int cgs_attack_put(const cg_store *st, MDB_txn *txn, cg_incident *x, uint64_t window_us);

/* ---- migration (store_migrate.c) --------------------------------------------- */

/* Rewrites a schema 2 store as schema 3 in one write transaction (st's
 * environment open). 0, or a code with its message; on failure the store
 * is left as it was. */
int cgs_migrate(cg_store *st);

#endif
