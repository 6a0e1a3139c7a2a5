/* store_case.c — cases (schema 5): what a response team gathers to take
 * incidents to their end. A case has an id, a title, a status, an owner,
 * its incidents and an append-only history; each call that changes one is a
 * short write transaction of its own, as triage's are (store_triage.c), and
 * every record it writes is also a leaf of the log (store_log.c).
 *
 * On disk (store_rec.c has the other formats; both records end with the
 * seal, REC_SEAL bytes, as every record of schema 4 does):
 *   cases         be64 case id -> case record
 *   case_history  be64 case id | be64 seq -> case event record
 *   by_case       be64 case id -> be64 incident id (DUPSORT): the case's
 *                 incidents; add-only (an incident never leaves a case)
 *
 * Case record, version 1:
 *   off  size  field
 *     0     1  record version = 1
 *     1     1  status (CG_CASE_*)
 *     2     2  reserved: written 0, ignored on read
 *     4     4  nnotes
 *     8     8  id
 *    16     8  created_us
 *    24     8  updated_us
 *    32     8  nincidents
 *    40     8  nhistory (the seq its next event takes)
 *    48        title, owner: each be16 n (length with a NUL, 1..65535), the
 *              text, a NUL; then the seal.
 * Case event record, version 1:
 *     0     1  record version = 1
 *     1     1  kind (CG_CASE_EV_*)
 *     2     2  reserved
 *     4     4  old_num
 *     8     4  new_num
 *    12     4  reserved
 *    16     8  when_us
 *    24     8  incident (ADD), else 0
 *    32        who, old_text, text as above; then the seal.
 * Leaves: the case record under kind CGS_LOG_CASE and key be64 id, each
 * event under CGS_LOG_CHIST and key id | seq, and each incident added under
 * CGS_LOG_CMEM and key id | incident with no record bytes.
 *
 * Invariants:
 *  1. Case ids are 1, 2, ... without a gap: a new case takes the last key
 *     of "cases" plus one, in its own write transaction.
 *  2. A case's events are seq 0 .. nhistory-1, written with MDB_NOOVERWRITE
 *     (an entry already there is a damaged history, never overwritten);
 *     nincidents is the number of its by_case entries, nnotes of its NOTE
 *     events.
 *  3. Everything a call writes is encoded from its own memory: strings of a
 *     decoded record are copied before the first put (a put may move the
 *     page they are in).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define CASE_VERSION 1
#define CEV_VERSION 1
#define CASE_FIXED 48
#define CEV_FIXED 32
#define TITLE_MAX 1024
#define NOTE_MAX (STR_MAX - 1)

static const char *const case_status[CG_CASE_NSTATUS] = { "open", "closed" };

const char *cg_store_case_status_name(unsigned status)
{
    return status < CG_CASE_NSTATUS ? case_status[status] : NULL;
}

/* ---- records ------------------------------------------------------------ */

static size_t strs_size(const char *const *s, int n)
{
    size_t total = 0;

    for (int i = 0; i < n; i++) {
        size_t len = strlen(s[i] ? s[i] : "") + 1;
        if (len > STR_MAX)
            return 0;
        total += 2 + len;
    }
    return total;
}

static size_t strs_put(uint8_t *p, const char *const *s, int n)
{
    size_t off = 0;

    for (int i = 0; i < n; i++) {
        const char *t = s[i] ? s[i] : "";
        size_t len = strlen(t) + 1;
        put16(p + off, (uint16_t)len);
        memcpy(p + off + 2, t, len);
        off += 2 + len;
    }
    return off;
}

/* n strings from p[0..len): 0, or CG_ECORRUPT with *why. */
static int strs_get(const uint8_t *p, size_t len, const char **out[], int n, const char **why)
{
    size_t off = 0;

    for (int i = 0; i < n; i++) {
        size_t l;
        if (len - off < 2) {
            *why = "truncated";
            return CG_ECORRUPT;
        }
        l = get16(p + off);
        off += 2;
        if (l == 0 || l > len - off) {
            *why = l ? "truncated" : "bad string length";
            return CG_ECORRUPT;
        }
        if (p[off + l - 1] != 0 || memchr(p + off, 0, l - 1)) {
            *why = "bad string";
            return CG_ECORRUPT;
        }
        *out[i] = (const char *)(p + off);
        off += l;
    }
    if (off != len) {
        *why = "trailing bytes";
        return CG_ECORRUPT;
    }
    return 0;
}

/* The seal of a record of at least min bytes before it: 0 and *n without
 * it, or CG_ECORRUPT (store_rec.c's seal: the low 32 bits of XXH3-64). */
static int case_unseal(const uint8_t *p, size_t *n, size_t min, const char **why)
{
    if (*n < min + REC_SEAL) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    if (get32(p + *n - REC_SEAL) != (uint32_t)XXH3_64bits(p, *n - REC_SEAL)) {
        *why = "checksum mismatch";
        return CG_ECORRUPT;
    }
    *n -= REC_SEAL;
    return 0;
}

size_t cgs_case_size(const cg_case *c)
{
    const char *s[2] = { c->title, c->owner };
    size_t n = strs_size(s, 2);

    return n ? CASE_FIXED + n + REC_SEAL : 0;
}

void cgs_case_encode(uint8_t *p, const cg_case *c)
{
    const char *s[2] = { c->title, c->owner };
    size_t off;

    p[0] = CASE_VERSION;
    p[1] = c->status;
    p[2] = p[3] = 0;
    put32(p + 4, c->nnotes);
    put64(p + 8, c->id);
    put64(p + 16, c->created_us);
    put64(p + 24, c->updated_us);
    put64(p + 32, c->nincidents);
    put64(p + 40, c->nhistory);
    off = CASE_FIXED + strs_put(p + CASE_FIXED, s, 2);
    cgs_seal(p, off + REC_SEAL);
}

int cgs_case_decode(const uint8_t *p, size_t n, cg_case *out, const char **why)
{
    const char **s[2] = { &out->title, &out->owner };
    int rc;

    if (n < 1 || p[0] != CASE_VERSION) {
        *why = n ? "unknown record version" : "empty";
        return CG_ECORRUPT;
    }
    if ((rc = case_unseal(p, &n, CASE_FIXED, why)) != 0)
        return rc;
    if (p[1] >= CG_CASE_NSTATUS) {
        *why = "bad status";
        return CG_ECORRUPT;
    }
    out->status = p[1];
    out->nnotes = get32(p + 4);
    out->id = get64(p + 8);
    out->created_us = get64(p + 16);
    out->updated_us = get64(p + 24);
    out->nincidents = get64(p + 32);
    out->nhistory = get64(p + 40);
    return strs_get(p + CASE_FIXED, n - CASE_FIXED, s, 2, why);
}

size_t cgs_cev_size(const cg_case_event *e)
{
    const char *s[3] = { e->who, e->old_text, e->text };
    size_t n = strs_size(s, 3);

    return n ? CEV_FIXED + n + REC_SEAL : 0;
}

void cgs_cev_encode(uint8_t *p, const cg_case_event *e)
{
    const char *s[3] = { e->who, e->old_text, e->text };
    size_t off;

    p[0] = CEV_VERSION;
    p[1] = e->kind;
    p[2] = p[3] = 0;
    put32(p + 4, e->old_num);
    put32(p + 8, e->new_num);
    put32(p + 12, 0);
    put64(p + 16, e->when_us);
    put64(p + 24, e->incident);
    off = CEV_FIXED + strs_put(p + CEV_FIXED, s, 3);
    cgs_seal(p, off + REC_SEAL);
}

int cgs_cev_decode(const uint8_t *p, size_t n, cg_case_event *out, const char **why)
{
    const char **s[3] = { &out->who, &out->old_text, &out->text };
    int rc;

    if (n < 1 || p[0] != CEV_VERSION) {
        *why = n ? "unknown record version" : "empty";
        return CG_ECORRUPT;
    }
    if ((rc = case_unseal(p, &n, CEV_FIXED, why)) != 0)
        return rc;
    if (p[1] < CG_CASE_EV_CREATE || p[1] > CG_CASE_EV_EXPORT) {
        *why = "bad kind";
        return CG_ECORRUPT;
    }
    out->kind = p[1];
    out->old_num = get32(p + 4);
    out->new_num = get32(p + 8);
    out->when_us = get64(p + 16);
    out->incident = get64(p + 24);
    return strs_get(p + CEV_FIXED, n - CEV_FIXED, s, 3, why);
}

/* ---- changes ------------------------------------------------------------ */

enum { OP_NEW, OP_ADD, OP_NOTE, OP_SET, OP_EXPORT };

struct op {
    int op;
    const char *title;   /* NEW */
    const char *text;    /* NOTE, EXPORT */
    const uint64_t *ids; /* NEW, ADD */
    size_t n;
    unsigned mask; /* SET */
    uint8_t status;
    const char *owner;
    const char *who;
    uint64_t when_us;
    uint64_t id;    /* out: NEW's id */
    uint64_t added; /* out: incidents added */
};

static int check_handle(cg_store *st)
{
    if (st->flags & CG_STORE_RDONLY)
        return cgs_fail(st, CG_EINVAL, "opened read-only");
    if (st->wstate != W_IDLE)
        return cgs_fail(st, CG_EINVAL, "a batch is open on this handle; commit it first");
    return 0;
}

static int check_text(cg_store *st, const char *what, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > max)
        return cgs_fail(st, CG_EINVAL, "%s: 1 to %zu bytes", what, max);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The writes of one call, in txn: a buffer for the records it encodes. */
struct w {
    cg_store *st;
    MDB_txn *txn;
    uint8_t *buf;
    size_t cap;
    const char *what; /* names the database of a failed put */
};

static int w_reserve(struct w *w, size_t n)
{
    uint8_t *b;

    if (n <= w->cap)
        return 0;
    if (!(b = realloc(w->buf, n)))
        return ENOMEM;
    w->buf = b;
    w->cap = n;
    return 0;
}

/* Appends event e as seq of case id. An LMDB code (MDB_KEYEXIST: taken). */
static int put_event(struct w *w, uint64_t id, uint64_t seq, const cg_case_event *e)
{
    uint8_t key[16];
    size_t n = cgs_cev_size(e);
    MDB_val k = { 16, key }, v;
    int rc;

    if (n == 0)
        return EINVAL;
    if ((rc = w_reserve(w, n)) != 0)
        return rc;
    cgs_cev_encode(w->buf, e);
    put64(key, id);
    put64(key + 8, seq);
    v = (MDB_val){ n, w->buf };
    w->what = "case_history";
    if ((rc = mdb_put(w->txn, w->st->dbi[DB_CASEH], &k, &v, MDB_NOOVERWRITE)) != 0)
        return rc;
    w->what = "log";
    return cgs_log_add(w->st, w->txn, CGS_LOG_CHIST, key, w->buf, n);
}

static int put_case(struct w *w, const cg_case *c)
{
    uint8_t key[8];
    size_t n = cgs_case_size(c);
    MDB_val k = { 8, key }, v;
    int rc;

    if (n == 0)
        return EINVAL;
    if ((rc = w_reserve(w, n)) != 0)
        return rc;
    cgs_case_encode(w->buf, c);
    put64(key, c->id);
    v = (MDB_val){ n, w->buf };
    w->what = "cases";
    if ((rc = mdb_put(w->txn, w->st->dbi[DB_CASE], &k, &v, 0)) != 0)
        return rc;
    w->what = "log";
    return cgs_log_add(w->st, w->txn, CGS_LOG_CASE, key, w->buf, n);
}

/* Whether incident inc is in case id (by_case), in *yes. An LMDB code. */
static int member(MDB_cursor *cur, uint64_t id, uint64_t inc, int *yes)
{
    uint8_t kb[8], vb[8];
    MDB_val k = { 8, kb }, v = { 8, vb };
    int rc;

    put64(kb, id);
    put64(vb, inc);
    rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
    *yes = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Adds the incidents of o (sorted, unique) not yet in case c, each with an
 * ADD event, advancing c's counts. An LMDB code, or CG_ENOTFOUND (message
 * set) for an incident that does not exist. */
static int add_incidents(struct w *w, cg_case *c, const uint64_t *ids, size_t n, const struct op *o,
                         uint64_t *added)
{
    MDB_cursor *cur = NULL;
    int rc;

    w->what = "by_case";
    if ((rc = mdb_cursor_open(w->txn, w->st->dbi[DB_IX0 + IX_CASE], &cur)) != 0)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t kb[8], vb[8], mk[16];
        MDB_val k = { 8, kb }, v;
        int m = 0;
        if (i && ids[i] == ids[i - 1])
            continue;
        put64(kb, ids[i]);
        w->what = "incidents";
        rc = mdb_get(w->txn, w->st->dbi[DB_INC], &k, &v);
        if (rc == MDB_NOTFOUND) {
            mdb_cursor_close(cur);
            return cgs_fail(w->st, CG_ENOTFOUND, "no incident %llu", (unsigned long long)ids[i]);
        }
        if (rc)
            break;
        w->what = "by_case";
        if ((rc = member(cur, c->id, ids[i], &m)) != 0)
            break;
        if (m)
            continue;
        put64(kb, c->id);
        put64(vb, ids[i]);
        k = (MDB_val){ 8, kb };
        v = (MDB_val){ 8, vb };
        if ((rc = mdb_cursor_put(cur, &k, &v, 0)) != 0)
            break;
        memcpy(mk, kb, 8);
        memcpy(mk + 8, vb, 8);
        w->what = "log";
        if ((rc = cgs_log_add(w->st, w->txn, CGS_LOG_CMEM, mk, (const uint8_t *)"", 0)) != 0)
            break;
        rc = put_event(w, c->id, c->nhistory,
                       &(cg_case_event){ .kind = CG_CASE_EV_ADD,
                                         .who = o->who,
                                         .when_us = o->when_us,
                                         .incident = ids[i],
                                         .old_text = "",
                                         .text = "" });
        if (rc)
            break;
        c->nhistory++;
        c->nincidents++;
        (*added)++;
    }
    mdb_cursor_close(cur);
    return rc;
}

static int change(cg_store *st, uint64_t id, struct op *o)
{
    struct w w = { st, NULL, NULL, 0, "cases" };
    uint64_t *ids = NULL, nhist0 = 0;
    char *title = NULL, *owner = NULL;
    cg_case c;
    MDB_val k, v;
    uint8_t key[8];
    const char *why;
    int rc, code = 0;

    if (o->n) {
        if (!(ids = malloc(o->n * sizeof *ids)))
            return cgs_fail(st, CG_ENOMEM, "out of memory");
        memcpy(ids, o->ids, o->n * sizeof *ids);
        qsort(ids, o->n, sizeof *ids, cmp_u64);
    }
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &w.txn)) != 0) {
        free(ids);
        return cgs_fail_mdb(st, rc, "case");
    }
    if ((rc = cgs_log_load(st, w.txn)) != 0) {
        code = cgs_fail_mdb(st, rc, "log");
        goto out;
    }
    memset(&c, 0, sizeof c);
    if (o->op == OP_NEW) {
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(w.txn, st->dbi[DB_CASE], &cur)) != 0)
            goto lmdb;
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        mdb_cursor_close(cur);
        if (rc && rc != MDB_NOTFOUND)
            goto lmdb;
        if (rc == 0 && k.mv_size != 8) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged (cases: a key of %zu bytes)", k.mv_size);
            goto out;
        }
        c.id = rc == 0 ? get64(k.mv_data) + 1 : 1;
        c.created_us = o->when_us;
        c.status = CG_CASE_OPEN;
        c.title = o->title;
        c.owner = o->who;
        rc = put_event(&w, c.id, 0,
                       &(cg_case_event){ .kind = CG_CASE_EV_CREATE,
                                         .who = o->who,
                                         .when_us = o->when_us,
                                         .old_text = "",
                                         .text = o->title });
        if (rc)
            goto lmdb;
        c.nhistory = 1;
    } else {
        put64(key, id);
        k = (MDB_val){ 8, key };
        rc = mdb_get(w.txn, st->dbi[DB_CASE], &k, &v);
        if (rc == MDB_NOTFOUND) {
            code = cgs_fail(st, CG_ENOTFOUND, "no case %llu", (unsigned long long)id);
            goto out;
        }
        if (rc)
            goto lmdb;
        if ((rc = cgs_case_decode(v.mv_data, v.mv_size, &c, &why)) != 0 || c.id != id) {
            code = cgs_bad_record(st, "case", id, rc ? why : "id differs from its key");
            goto out;
        }
        /* invariant 3: the strings out of the page before any put */
        title = strdup(c.title);
        owner = strdup(c.owner);
        if (!title || !owner) {
            code = cgs_fail(st, CG_ENOMEM, "out of memory");
            goto out;
        }
        c.title = title;
        c.owner = owner;
        nhist0 = c.nhistory;
    }
    rc = 0;
    switch (o->op) {
    case OP_NEW:
    case OP_ADD: rc = add_incidents(&w, &c, ids, o->n, o, &o->added); break;
    case OP_NOTE:
    case OP_EXPORT:
        rc = put_event(&w, c.id, c.nhistory,
                       &(cg_case_event){ .kind =
                                             o->op == OP_NOTE ? CG_CASE_EV_NOTE : CG_CASE_EV_EXPORT,
                                         .who = o->who,
                                         .when_us = o->when_us,
                                         .old_text = "",
                                         .text = o->text });
        if (!rc) {
            c.nhistory++;
            if (o->op == OP_NOTE && c.nnotes < UINT32_MAX)
                c.nnotes++;
        }
        break;
    case OP_SET:
        if ((o->mask & CG_CASE_SET_STATUS) && o->status != c.status) {
            rc = put_event(&w, c.id, c.nhistory,
                           &(cg_case_event){ .kind = CG_CASE_EV_STATUS,
                                             .who = o->who,
                                             .when_us = o->when_us,
                                             .old_num = c.status,
                                             .new_num = o->status,
                                             .old_text = "",
                                             .text = "" });
            if (!rc)
                c.nhistory++, c.status = o->status;
        }
        if (!rc && (o->mask & CG_CASE_SET_OWNER) && strcmp(o->owner, c.owner) != 0) {
            rc = put_event(&w, c.id, c.nhistory,
                           &(cg_case_event){ .kind = CG_CASE_EV_OWNER,
                                             .who = o->who,
                                             .when_us = o->when_us,
                                             .old_text = c.owner,
                                             .text = o->owner });
            if (!rc)
                c.nhistory++, c.owner = o->owner;
        }
        break;
    }
    if (rc == CG_ENOTFOUND) {
        code = rc; /* add_incidents said which */
        goto out;
    }
    if (rc == MDB_KEYEXIST) {
        code = cgs_fail(st, CG_ECORRUPT, "damaged (case_history of case %llu: seq taken)",
                        (unsigned long long)c.id);
        goto out;
    }
    if (rc)
        goto lmdb;
    if (o->op != OP_NEW && c.nhistory == nhist0)
        goto out; /* nothing changed: nothing to write */
    c.updated_us = o->when_us;
    if ((rc = put_case(&w, &c)) != 0)
        goto lmdb;
    w.what = "log";
    if ((rc = cgs_log_flush(st, w.txn)) != 0)
        goto lmdb;
    rc = mdb_txn_commit(w.txn);
    w.txn = NULL;
    if (rc) {
        code = cgs_fail_mdb(st, rc, "commit");
        goto out;
    }
    o->id = c.id;
    goto out;
lmdb:
    code = rc == ENOMEM ? cgs_fail(st, CG_ENOMEM, "out of memory") : cgs_fail_mdb(st, rc, w.what);
out:
    if (w.txn)
        mdb_txn_abort(w.txn);
    free(w.buf);
    free(ids);
    free(title);
    free(owner);
    return code;
}

static int check_change(cg_store *st, const char *who)
{
    int code;

    if (!st)
        return CG_EINVAL;
    if ((code = check_handle(st)) != 0)
        return code;
    return check_text(st, "who made the change", who, CG_STORE_TEXT_MAX);
}

int cg_store_case_new(cg_store *st, const char *title, const char *who, uint64_t when_us,
                      const uint64_t *ids, size_t n, uint64_t *id)
{
    struct op o = { .op = OP_NEW,
                    .title = title,
                    .ids = ids,
                    .n = n,
                    .who = who,
                    .when_us = when_us };
    int code;

    if ((code = check_change(st, who)) != 0 || (code = check_text(st, "title", title, TITLE_MAX)))
        return code;
    if (n && !ids)
        return CG_EINVAL;
    if ((code = change(st, 0, &o)) == 0 && id)
        *id = o.id;
    return code;
}

int cg_store_case_add(cg_store *st, uint64_t id, const uint64_t *ids, size_t n, const char *who,
                      uint64_t when_us, uint64_t *added)
{
    struct op o = { .op = OP_ADD, .ids = ids, .n = n, .who = who, .when_us = when_us };
    int code;

    if ((code = check_change(st, who)) != 0)
        return code;
    if (n && !ids)
        return CG_EINVAL;
    if ((code = change(st, id, &o)) == 0 && added)
        *added = o.added;
    return code;
}

int cg_store_case_note(cg_store *st, uint64_t id, const char *who, uint64_t when_us,
                       const char *text)
{
    struct op o = { .op = OP_NOTE, .text = text, .who = who, .when_us = when_us };
    int code;

    if ((code = check_change(st, who)) != 0 || (code = check_text(st, "note", text, NOTE_MAX)))
        return code;
    return change(st, id, &o);
}

int cg_store_case_exported(cg_store *st, uint64_t id, const char *who, uint64_t when_us,
                           const char *text)
{
    struct op o = { .op = OP_EXPORT, .text = text, .who = who, .when_us = when_us };
    int code;

    if ((code = check_change(st, who)) != 0 || (code = check_text(st, "export", text, NOTE_MAX)))
        return code;
    return change(st, id, &o);
}

int cg_store_case_set(cg_store *st, uint64_t id, unsigned mask, uint8_t status, const char *owner,
                      const char *who, uint64_t when_us)
{
    struct op o = { .op = OP_SET,
                    .mask = mask,
                    .status = status,
                    .owner = owner,
                    .who = who,
                    .when_us = when_us };
    int code;

    if ((code = check_change(st, who)) != 0)
        return code;
    if (mask == 0 || (mask & ~(unsigned)(CG_CASE_SET_STATUS | CG_CASE_SET_OWNER)))
        return cgs_fail(st, CG_EINVAL, "case: no field, or an unknown one, to set");
    if ((mask & CG_CASE_SET_STATUS) && status >= CG_CASE_NSTATUS)
        return cgs_fail(st, CG_EINVAL, "case: unknown status %u", status);
    if ((mask & CG_CASE_SET_OWNER) &&
        (code = check_text(st, "owner", owner, CG_STORE_TEXT_MAX)) != 0)
        return code;
    return change(st, id, &o);
}

/* ---- readers ------------------------------------------------------------ */

/* A read transaction on a store that has cases; CG_ENOTFOUND (for a case
 * id) or 1 (for a list: nothing to read) on an older schema read as it is. */
static int begin_read(cg_store *st, MDB_txn **txn, uint64_t id)
{
    if (!st)
        return CG_EINVAL;
    if (st->schema < 5)
        return id ? cgs_fail(st, CG_ENOTFOUND, "no case %llu", (unsigned long long)id) : 1;
    return cgs_rtxn_begin(st, txn);
}

static int get_case(cg_store *st, MDB_txn *txn, uint64_t id, cg_case *c)
{
    uint8_t key[8];
    MDB_val k = { 8, key }, v;
    const char *why;
    int rc;

    put64(key, id);
    rc = mdb_get(txn, st->dbi[DB_CASE], &k, &v);
    if (rc == MDB_NOTFOUND)
        return cgs_fail(st, CG_ENOTFOUND, "no case %llu", (unsigned long long)id);
    if (rc)
        return cgs_fail_mdb(st, rc, "cases");
    if ((rc = cgs_case_decode(v.mv_data, v.mv_size, c, &why)) != 0 || c->id != id)
        return cgs_bad_record(st, "case", id, rc ? why : "id differs from its key");
    return 0;
}

int cg_store_case_get(cg_store *st, uint64_t id, int (*cb)(const cg_case *c, void *arg), void *arg)
{
    MDB_txn *txn;
    cg_case c;
    int code = begin_read(st, &txn, id ? id : UINT64_MAX);

    if (code)
        return code;
    if ((code = get_case(st, txn, id, &c)) == 0 && cb)
        cb(&c, arg);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_case_list(cg_store *st, int (*cb)(const cg_case *c, void *arg), void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, code = begin_read(st, &txn, 0);

    if (code)
        return code == 1 ? 0 : code;
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_CASE], &cur)) != 0) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "cases");
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
        cg_case c;
        const char *why;
        uint64_t id = k.mv_size == 8 ? get64(k.mv_data) : 0;
        if (cgs_case_decode(v.mv_data, v.mv_size, &c, &why) || c.id != id) {
            code = cgs_bad_record(st, "case", id, k.mv_size != 8 ? "bad key" : why);
            break;
        }
        if (cb(&c, arg))
            break;
    }
    if (rc && rc != MDB_NOTFOUND && !code)
        code = cgs_fail_mdb(st, rc, "cases");
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_case_incidents(cg_store *st, uint64_t id, int (*cb)(uint64_t incident, void *arg),
                            void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t key[8];
    cg_case c;
    int rc, code = begin_read(st, &txn, id ? id : UINT64_MAX);

    if (code)
        return code;
    if ((code = get_case(st, txn, id, &c)) != 0) {
        mdb_txn_abort(txn);
        return code;
    }
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_IX0 + IX_CASE], &cur)) != 0) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "by_case");
    }
    put64(key, id);
    k = (MDB_val){ 8, key };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
        if (v.mv_size != 8) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged (by_case: an id of %zu bytes)", v.mv_size);
            break;
        }
        if (cb(get64(v.mv_data), arg))
            break;
    }
    if (rc && rc != MDB_NOTFOUND && !code)
        code = cgs_fail_mdb(st, rc, "by_case");
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_case_history(cg_store *st, uint64_t id, int (*cb)(const cg_case_event *e, void *arg),
                          void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint8_t key[16];
    cg_case c;
    int rc, code = begin_read(st, &txn, id ? id : UINT64_MAX);

    if (code)
        return code;
    if ((code = get_case(st, txn, id, &c)) != 0) {
        mdb_txn_abort(txn);
        return code;
    }
    if ((rc = mdb_cursor_open(txn, st->dbi[DB_CASEH], &cur)) != 0) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "case_history");
    }
    put64(key, id);
    memset(key + 8, 0, 8);
    k = (MDB_val){ 16, key };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cg_case_event e;
        const char *why;
        if (k.mv_size != 16 || get64(k.mv_data) != id)
            break;
        if (cgs_cev_decode(v.mv_data, v.mv_size, &e, &why)) {
            code = cgs_fail(st, CG_ECORRUPT,
                            "damaged (case %llu: history entry %llu: bad record (%s)): restore "
                            "from a backup",
                            (unsigned long long)id,
                            (unsigned long long)get64((const uint8_t *)k.mv_data + 8), why);
            break;
        }
        e.seq = get64((const uint8_t *)k.mv_data + 8);
        if (cb(&e, arg))
            break;
    }
    if (rc && rc != MDB_NOTFOUND && !code)
        code = cgs_fail_mdb(st, rc, "case_history");
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}
