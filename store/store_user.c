/* store_user.c — the console's accounts, API tokens and audit trail
 * (schema 8; the contract is store_user.h).
 *
 * User record, version 1 (key: the name's bytes, no NUL):
 *   off  size  field
 *     0     1  record version = 1
 *     1     1  role (CG_ROLE_*)
 *     2     1  disabled: 0 or 1
 *     3     1  reserved: written 0, ignored on read
 *     4     8  created_us
 *    12     8  changed_us: the password last set
 *    20        name, hash, each as be16 n (the length with a NUL, 1..65535),
 *              the text, no NUL inside, then one NUL; the name is the key's,
 *              the hash crypto_pwhash_str's ("$argon2id$...")
 *     n     4  the seal (store_rec.c)
 *
 * Token record, version 1 (key: the SHA-256 of the token's 68 characters):
 *   off  size  field
 *     0     1  record version = 1
 *     1     3  reserved: written 0, ignored on read
 *     4     8  created_us
 *    12     8  used_us (0: never)
 *    20        user, label, as the strings above
 *     n     4  the seal
 *
 * Audit record, version 1 (key: be64 seq, from 1, in the order added):
 *   off  size  field
 *     0     1  record version = 1
 *     1     1  event (CG_AUDIT_*)
 *     2     2  reserved: written 0, ignored on read
 *     4     8  when_us
 *    12        who, address, detail, as the strings above
 *     n     4  the seal
 *
 * Invariants:
 *  1. No password and no token is stored: only crypto_pwhash_str's hash
 *     (salted, its cost inside it) and the token's SHA-256. A token's text
 *     exists only in cg_store_token_new's out.
 *  2. Hashing and verifying (tens of milliseconds at the interactive cost)
 *     run outside any LMDB transaction: a change holds LMDB's writer lock
 *     for microseconds, never for an Argon2id.
 *  3. The audit db is append-only: cg_store_audit_add puts after its last
 *     key (MDB_APPEND) and nothing here deletes or rewrites an entry. Its
 *     records, like the users' and the tokens', are operational state, not
 *     leaves of the tamper-evident log; store check decodes them.
 *  4. The changes are short write transactions of their own that never
 *     touch the handle's batch state (like the outbox's): another thread
 *     may call them on the writer's handle while its thread has a batch
 *     open (LMDB serialises them); the thread holding the batch must not.
 *  5. Texts written to the audit are one line: control bytes become
 *     spaces, and a text too long is cut at a UTF-8 character's start.
 */
#include "store/store_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define USER_VERSION 1
#define USER_FIXED 20
#define TOKEN_VERSION 1
#define TOKEN_FIXED 20
#define AUDIT_VERSION 1
#define AUDIT_FIXED 12
#define PASSWORD_MAX 4096
#define LABEL_MAX 128
#define WHO_MAX 256
#define ADDRESS_MAX 64
#define DETAIL_MAX 1024
#define TOKEN_PREFIX "cgt_"

static const char *const role_names[CG_ROLE_COUNT] = { "viewer", "analyst", "responder", "admin" };
static const char *const event_names[] = { NULL,   "login", "logout", "login-failed", "lockout",
                                           "user", "token", "denied", "change" };
#define EVENT_N (sizeof event_names / sizeof event_names[0])

const char *cg_role_name(unsigned role)
{
    return role < CG_ROLE_COUNT ? role_names[role] : NULL;
}

int cg_role_parse(const char *name)
{
    for (unsigned i = 0; name && i < CG_ROLE_COUNT; i++)
        if (!strcmp(name, role_names[i]))
            return (int)i;
    return -1;
}

const char *cg_audit_event_name(unsigned ev)
{
    return ev < EVENT_N ? event_names[ev] : NULL;
}

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > CG_USER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int cg_user_name_ok(const char *name)
{
    return name && name_ok(name, strlen(name));
}

void cg_store_user_cost(cg_store *st, int minimum)
{
    if (st)
        st->pw_min = minimum ? 1 : 0;
}

/* ---- records --------------------------------------------------------------- */

/* Writes the strings s[0..k) from off as the layouts say; returns the end. */
static size_t put_strs(uint8_t *p, size_t off, const char *const *s, int k)
{
    for (int i = 0; i < k; i++) {
        size_t len = strlen(s[i]) + 1;
        put16(p + off, (uint16_t)len);
        memcpy(p + off + 2, s[i], len);
        off += 2 + len;
    }
    return off;
}

static size_t strs_size(const char *const *s, int k)
{
    size_t n = 0;
    for (int i = 0; i < k; i++)
        n += 2 + strlen(s[i]) + 1;
    return n;
}

/* Checks version, length and seal of a record of fixed part fixed, then
 * reads k strings from there to its end. 0 or CG_ECORRUPT with *why. */
static int get_strs(const uint8_t *p, size_t n, unsigned version, size_t fixed, const char **out[],
                    int k, const char **why)
{
    size_t off = fixed;

    if (n < 1 || p[0] != version) {
        *why = n ? "unknown record version" : "empty";
        return CG_ECORRUPT;
    }
    if (n < fixed + REC_SEAL) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    if (get32(p + n - REC_SEAL) != (uint32_t)XXH3_64bits(p, n - REC_SEAL)) {
        *why = "checksum mismatch";
        return CG_ECORRUPT;
    }
    n -= REC_SEAL;
    for (int i = 0; i < k; i++) {
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
        *out[i] = (const char *)(p + off);
        off += len;
    }
    if (off != n) {
        *why = "trailing bytes";
        return CG_ECORRUPT;
    }
    return 0;
}

uint8_t *cgs_user_encode(const cg_user *u, const char *hash, size_t *n)
{
    const char *s[2] = { u->name, hash };
    uint8_t *p;

    *n = USER_FIXED + strs_size(s, 2) + REC_SEAL;
    if (!(p = malloc(*n)))
        return NULL;
    p[0] = USER_VERSION;
    p[1] = u->role;
    p[2] = u->disabled ? 1 : 0;
    p[3] = 0;
    put64(p + 4, u->created_us);
    put64(p + 12, u->changed_us);
    put_strs(p, USER_FIXED, s, 2);
    cgs_seal(p, *n);
    return p;
}

int cgs_user_decode(const uint8_t *p, size_t n, cg_user *out, const char **hash, const char **why)
{
    const char **s[2] = { &out->name, hash };
    int rc;

    if ((rc = get_strs(p, n, USER_VERSION, USER_FIXED, s, 2, why)) != 0)
        return rc;
    out->role = p[1];
    out->disabled = p[2];
    out->created_us = get64(p + 4);
    out->changed_us = get64(p + 12);
    if (out->role >= CG_ROLE_COUNT) {
        *why = "unknown role";
        return CG_ECORRUPT;
    }
    if (out->disabled > 1) {
        *why = "bad disabled flag";
        return CG_ECORRUPT;
    }
    if (!cg_user_name_ok(out->name)) {
        *why = "bad user name";
        return CG_ECORRUPT;
    }
    if (strncmp(*hash, "$argon2", 7) != 0) {
        *why = "not a password hash";
        return CG_ECORRUPT;
    }
    return 0;
}

uint8_t *cgs_token_encode(const cg_token_info *t, size_t *n)
{
    const char *s[2] = { t->user, t->label };
    uint8_t *p;

    *n = TOKEN_FIXED + strs_size(s, 2) + REC_SEAL;
    if (!(p = malloc(*n)))
        return NULL;
    p[0] = TOKEN_VERSION;
    p[1] = p[2] = p[3] = 0;
    put64(p + 4, t->created_us);
    put64(p + 12, t->used_us);
    put_strs(p, TOKEN_FIXED, s, 2);
    cgs_seal(p, *n);
    return p;
}

int cgs_token_decode(const uint8_t *p, size_t n, cg_token_info *out, const char **why)
{
    const char **s[2] = { &out->user, &out->label };
    int rc;

    if ((rc = get_strs(p, n, TOKEN_VERSION, TOKEN_FIXED, s, 2, why)) != 0)
        return rc;
    out->created_us = get64(p + 4);
    out->used_us = get64(p + 12);
    if (!cg_user_name_ok(out->user)) {
        *why = "bad user name";
        return CG_ECORRUPT;
    }
    return 0;
}

uint8_t *cgs_audit_encode(const cg_audit *a, size_t *n)
{
    const char *s[3] = { a->who, a->address, a->detail };
    uint8_t *p;

    *n = AUDIT_FIXED + strs_size(s, 3) + REC_SEAL;
    if (!(p = malloc(*n)))
        return NULL;
    p[0] = AUDIT_VERSION;
    p[1] = a->event;
    p[2] = p[3] = 0;
    put64(p + 4, a->when_us);
    put_strs(p, AUDIT_FIXED, s, 3);
    cgs_seal(p, *n);
    return p;
}

int cgs_audit_decode(const uint8_t *p, size_t n, cg_audit *out, const char **why)
{
    const char **s[3] = { &out->who, &out->address, &out->detail };
    int rc;

    if ((rc = get_strs(p, n, AUDIT_VERSION, AUDIT_FIXED, s, 3, why)) != 0)
        return rc;
    out->event = p[1];
    out->when_us = get64(p + 4);
    if (!cg_audit_event_name(out->event)) {
        *why = "unknown event";
        return CG_ECORRUPT;
    }
    return 0;
}

/* ---- transactions ------------------------------------------------------------ */

static int ready(cg_store *st, int write)
{
    if (write && (st->flags & CG_STORE_RDONLY))
        return cgs_fail(st, CG_EINVAL, "opened read-only");
    if (!cgs_db_in(DB_USERS, st->schema))
        return cgs_fail(st, CG_EOLDER,
                        "the store is schema %u (8 has the accounts): open it for triage first",
                        st->schema);
    if (sodium_init() < 0)
        return cgs_fail(st, CG_EIO, "libsodium cannot start");
    return 0;
}

static int wbegin(cg_store *st, MDB_txn **txn, const char *what)
{
    int rc, code;

    if ((code = ready(st, 1)) != 0)
        return code;
    rc = mdb_txn_begin(st->env, NULL, 0, txn);
    return rc ? cgs_fail_mdb(st, rc, what) : 0;
}

static int commit(cg_store *st, MDB_txn *txn, const char *what)
{
    int rc = mdb_txn_commit(txn);
    return rc ? cgs_fail_mdb(st, rc, what) : 0;
}

/* The password's hash at the handle's cost into out; 0 or a code. */
static int hash_password(cg_store *st, const char *pw, char out[crypto_pwhash_STRBYTES])
{
    size_t n = pw ? strlen(pw) : 0;

    if (n == 0 || n > PASSWORD_MAX)
        return cgs_fail(st, CG_EINVAL, "a password is 1 to %d bytes", PASSWORD_MAX);
    if (crypto_pwhash_str(out, pw, n,
                          st->pw_min ? crypto_pwhash_OPSLIMIT_MIN
                                     : crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          st->pw_min ? crypto_pwhash_MEMLIMIT_MIN
                                     : crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return cgs_fail(st, CG_ENOMEM, "hashing the password: out of memory");
    return 0;
}

static int check_name(cg_store *st, const char *name)
{
    if (!cg_user_name_ok(name))
        return cgs_fail(st, CG_EINVAL, "a user name is 1 to %d characters of A-Z a-z 0-9 . _ -",
                        CG_USER_NAME_MAX);
    return 0;
}

/* Reads user name in txn: 0 with u (views into txn) and *hash, CG_ENOTFOUND
 * with its message, or another code. */
static int load_user(cg_store *st, MDB_txn *txn, const char *name, cg_user *u, const char **hash)
{
    MDB_val k = { strlen(name), (void *)name }, v;
    const char *why;
    int rc = mdb_get(txn, st->dbi[DB_USERS], &k, &v);

    if (rc == MDB_NOTFOUND)
        return cgs_fail(st, CG_ENOTFOUND, "no user %s", name);
    if (rc)
        return cgs_fail_mdb(st, rc, "users");
    if (cgs_user_decode(v.mv_data, v.mv_size, u, hash, &why))
        return cgs_fail(st, CG_ECORRUPT, "damaged (user %s: bad record (%s))", name, why);
    if (strcmp(u->name, name) != 0)
        return cgs_fail(st, CG_ECORRUPT, "damaged (user %s: its record names another)", name);
    return 0;
}

static int put_user(cg_store *st, MDB_txn *txn, const cg_user *u, const char *hash, unsigned flags)
{
    size_t n;
    uint8_t *rec = cgs_user_encode(u, hash, &n);
    MDB_val k = { strlen(u->name), (void *)u->name }, v = { n, rec };
    int rc;

    if (!rec)
        return cgs_fail(st, CG_ENOMEM, "out of memory");
    rc = mdb_put(txn, st->dbi[DB_USERS], &k, &v, flags);
    free(rec);
    if (rc == MDB_KEYEXIST)
        return cgs_fail(st, CG_EEXIST, "user %s exists already", u->name);
    return rc ? cgs_fail_mdb(st, rc, "users") : 0;
}

/* ---- users -------------------------------------------------------------------- */

int cg_store_user_add(cg_store *st, const char *name, unsigned role, const char *password,
                      uint64_t now_us)
{
    char hash[crypto_pwhash_STRBYTES];
    cg_user u = { .name = name, .role = (uint8_t)role, .created_us = now_us, .changed_us = now_us };
    MDB_txn *txn;
    int code;

    if (!st)
        return CG_EINVAL;
    if ((code = ready(st, 1)) != 0 || (code = check_name(st, name)) != 0)
        return code;
    if (role >= CG_ROLE_COUNT)
        return cgs_fail(st, CG_EINVAL, "no role %u", role);
    if ((code = hash_password(st, password, hash)) != 0)
        return code;
    if ((code = wbegin(st, &txn, "users")) != 0)
        goto out;
    if ((code = put_user(st, txn, &u, hash, MDB_NOOVERWRITE)) != 0)
        mdb_txn_abort(txn);
    else
        code = commit(st, txn, "users: commit");
out:
    sodium_memzero(hash, sizeof hash);
    return code;
}

/* What a change does to a user's record. */
struct change {
    const char *hash; /* a new password's hash, or NULL */
    uint64_t now_us;
    int role;     /* -1: unchanged */
    int disabled; /* -1: unchanged */
};

static int change_user(cg_store *st, const char *name, const struct change *c)
{
    char hash[crypto_pwhash_STRBYTES], uname[CG_USER_NAME_MAX + 1];
    const char *old;
    cg_user u;
    MDB_txn *txn;
    int code;

    if ((code = check_name(st, name)) != 0 || (code = wbegin(st, &txn, "users")) != 0)
        return code;
    if ((code = load_user(st, txn, name, &u, &old)) != 0)
        goto fail;
    /* copied before the put: the views are into the page it replaces */
    snprintf(uname, sizeof uname, "%s", u.name);
    snprintf(hash, sizeof hash, "%s", c->hash ? c->hash : old);
    u.name = uname;
    if (c->hash)
        u.changed_us = c->now_us;
    if (c->role >= 0)
        u.role = (uint8_t)c->role;
    if (c->disabled >= 0)
        u.disabled = (uint8_t)c->disabled;
    if ((code = put_user(st, txn, &u, hash, 0)) != 0)
        goto fail;
    return commit(st, txn, "users: commit");
fail:
    mdb_txn_abort(txn);
    return code;
}

int cg_store_user_passwd(cg_store *st, const char *name, const char *password, uint64_t now_us)
{
    char hash[crypto_pwhash_STRBYTES];
    struct change c = { .hash = hash, .now_us = now_us, .role = -1, .disabled = -1 };
    int code;

    if (!st)
        return CG_EINVAL;
    if ((code = ready(st, 1)) != 0 || (code = check_name(st, name)) != 0)
        return code;
    if ((code = hash_password(st, password, hash)) != 0)
        return code;
    code = change_user(st, name, &c);
    sodium_memzero(hash, sizeof hash);
    return code;
}

int cg_store_user_set_role(cg_store *st, const char *name, unsigned role)
{
    struct change c = { .role = (int)role, .disabled = -1 };

    if (!st)
        return CG_EINVAL;
    if (role >= CG_ROLE_COUNT)
        return cgs_fail(st, CG_EINVAL, "no role %u", role);
    return change_user(st, name, &c);
}

int cg_store_user_set_disabled(cg_store *st, const char *name, int disabled)
{
    struct change c = { .role = -1, .disabled = disabled ? 1 : 0 };

    return st ? change_user(st, name, &c) : CG_EINVAL;
}

int cg_store_user_get(cg_store *st, const char *name, int (*cb)(const cg_user *u, void *arg),
                      void *arg)
{
    MDB_txn *txn;
    const char *hash;
    cg_user u;
    int code;

    if (!st || !cb)
        return CG_EINVAL;
    if ((code = ready(st, 0)) != 0 || (code = check_name(st, name)) != 0)
        return code;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    if ((code = load_user(st, txn, name, &u, &hash)) == 0)
        cb(&u, arg);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_user_list(cg_store *st, int (*cb)(const cg_user *u, void *arg), void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc, code;

    if (!st || !cb)
        return CG_EINVAL;
    if ((code = ready(st, 0)) != 0)
        return code;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_USERS], &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cg_user u;
        const char *hash, *why = "the record names another user than its key";
        if (cgs_user_decode(v.mv_data, v.mv_size, &u, &hash, &why) || k.mv_size != strlen(u.name) ||
            memcmp(k.mv_data, u.name, k.mv_size)) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged (users: bad record (%s))", why);
            break;
        }
        if (cb(&u, arg))
            break;
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = cgs_fail_mdb(st, rc, "users");
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_user_verify(cg_store *st, const char *name, const char *password, unsigned *role)
{
    char hash[crypto_pwhash_STRBYTES];
    const char *h;
    cg_user u;
    MDB_txn *txn;
    size_t pwlen = password ? strlen(password) : 0;
    int code, found = 0, disabled = 0, ok;
    unsigned r = 0;

    if (!st)
        return CG_EINVAL;
    if ((code = ready(st, 0)) != 0)
        return code;
    if (cg_user_name_ok(name)) {
        if ((code = cgs_rtxn_begin(st, &txn)) != 0)
            return code;
        code = load_user(st, txn, name, &u, &h);
        if (code == 0) {
            found = 1;
            disabled = u.disabled;
            r = u.role;
            snprintf(hash, sizeof hash, "%s", h);
        }
        mdb_txn_abort(txn);
        if (code && code != CG_ENOTFOUND)
            return code;
    }
    if (!found) {
        /* the same work as a verification: a hash at the handle's cost */
        code = hash_password(st, "not a user", hash);
        if (code)
            return code;
    }
    ok = pwlen > 0 && pwlen <= PASSWORD_MAX && crypto_pwhash_str_verify(hash, password, pwlen) == 0;
    sodium_memzero(hash, sizeof hash);
    if (!found)
        return cgs_fail(st, CG_ENOTFOUND, "no user %s", cg_user_name_ok(name) ? name : "so named");
    if (disabled)
        return cgs_fail(st, CG_EPERM, "user %s is disabled", name);
    if (!ok)
        return cgs_fail(st, CG_EPERM, "wrong password for %s", name);
    if (role)
        *role = r;
    return 0;
}

/* ---- tokens ------------------------------------------------------------------- */

/* The key of a token's text: 0, or CG_ENOTFOUND when it is not one. */
static int token_key(const char *token, uint8_t key[TOKEN_KEY])
{
    size_t n = token ? strlen(token) : 0;

    if (n != CG_TOKEN_LEN || memcmp(token, TOKEN_PREFIX, 4) != 0)
        return CG_ENOTFOUND;
    for (size_t i = 4; i < n; i++)
        if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
            return CG_ENOTFOUND;
    crypto_hash_sha256(key, (const unsigned char *)token, n);
    return 0;
}

static int check_text(cg_store *st, const char *what, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n > max)
        return cgs_fail(st, CG_EINVAL, "%s: at most %zu bytes", what, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return cgs_fail(st, CG_EINVAL, "%s: one line of text", what);
    return 0;
}

int cg_store_token_new(cg_store *st, const char *name, const char *label, uint64_t now_us,
                       char out[CG_TOKEN_LEN + 1])
{
    uint8_t raw[32], key[TOKEN_KEY], *rec = NULL;
    char text[CG_TOKEN_LEN + 1];
    const char *hash;
    cg_user u;
    cg_token_info t = { .user = name, .label = label ? label : "", .created_us = now_us };
    MDB_txn *txn;
    MDB_val k, v;
    size_t n;
    int rc, code;

    if (!st || !out)
        return CG_EINVAL;
    if ((code = ready(st, 1)) != 0 || (code = check_name(st, name)) != 0 ||
        (code = check_text(st, "a token's label", t.label, LABEL_MAX)) != 0)
        return code;
    randombytes_buf(raw, sizeof raw);
    memcpy(text, TOKEN_PREFIX, 4);
    sodium_bin2hex(text + 4, sizeof text - 4, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    token_key(text, key);
    if (!(rec = cgs_token_encode(&t, &n))) {
        code = cgs_fail(st, CG_ENOMEM, "out of memory");
        goto out;
    }
    if ((code = wbegin(st, &txn, "tokens")) != 0)
        goto out;
    if ((code = load_user(st, txn, name, &u, &hash)) != 0) {
        mdb_txn_abort(txn);
        goto out;
    }
    k = (MDB_val){ TOKEN_KEY, key };
    v = (MDB_val){ n, rec };
    if ((rc = mdb_put(txn, st->dbi[DB_TOKENS], &k, &v, MDB_NOOVERWRITE)) != 0) {
        mdb_txn_abort(txn);
        code = cgs_fail_mdb(st, rc, "tokens");
        goto out;
    }
    if ((code = commit(st, txn, "tokens: commit")) == 0)
        memcpy(out, text, sizeof text);
out:
    sodium_memzero(text, sizeof text);
    free(rec);
    return code;
}

int cg_store_token_check(cg_store *st, const char *token, char *name, unsigned *role)
{
    uint8_t key[TOKEN_KEY];
    MDB_txn *txn;
    MDB_val k = { TOKEN_KEY, key }, v;
    cg_token_info t;
    cg_user u;
    const char *why, *hash;
    int rc, code;

    if (!st)
        return CG_EINVAL;
    if ((code = ready(st, 0)) != 0)
        return code;
    if (token_key(token, key))
        return cgs_fail(st, CG_ENOTFOUND, "no such token");
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    rc = mdb_get(txn, st->dbi[DB_TOKENS], &k, &v);
    if (rc == MDB_NOTFOUND)
        code = cgs_fail(st, CG_ENOTFOUND, "no such token");
    else if (rc)
        code = cgs_fail_mdb(st, rc, "tokens");
    else if (cgs_token_decode(v.mv_data, v.mv_size, &t, &why))
        code = cgs_fail(st, CG_ECORRUPT, "damaged (tokens: bad record (%s))", why);
    else if ((code = load_user(st, txn, t.user, &u, &hash)) != 0)
        ; /* a token of no user (CG_ENOTFOUND) or a damaged user */
    else if (u.disabled)
        code = cgs_fail(st, CG_EPERM, "user %s is disabled", u.name);
    else {
        if (name)
            memcpy(name, u.name, strlen(u.name) + 1);
        if (role)
            *role = u.role;
    }
    mdb_txn_abort(txn);
    return code;
}

int cg_store_token_used(cg_store *st, const char *token, uint64_t now_us)
{
    uint8_t key[TOKEN_KEY], *rec;
    char user[CG_USER_NAME_MAX + 1], label[LABEL_MAX + 1];
    MDB_txn *txn;
    MDB_val k = { TOKEN_KEY, key }, v;
    cg_token_info t;
    const char *why;
    size_t n;
    int rc, code;

    if (!st)
        return CG_EINVAL;
    if ((code = ready(st, 1)) != 0)
        return code;
    if (token_key(token, key))
        return cgs_fail(st, CG_ENOTFOUND, "no such token");
    if ((code = wbegin(st, &txn, "tokens")) != 0)
        return code;
    rc = mdb_get(txn, st->dbi[DB_TOKENS], &k, &v);
    if (rc) {
        mdb_txn_abort(txn);
        return rc == MDB_NOTFOUND ? cgs_fail(st, CG_ENOTFOUND, "no such token")
                                  : cgs_fail_mdb(st, rc, "tokens");
    }
    if (cgs_token_decode(v.mv_data, v.mv_size, &t, &why)) {
        mdb_txn_abort(txn);
        return cgs_fail(st, CG_ECORRUPT, "damaged (tokens: bad record (%s))", why);
    }
    /* copied before the put: the views are into the page it replaces */
    snprintf(user, sizeof user, "%s", t.user);
    snprintf(label, sizeof label, "%s", t.label);
    t.user = user;
    t.label = label;
    t.used_us = now_us;
    if (!(rec = cgs_token_encode(&t, &n))) {
        mdb_txn_abort(txn);
        return cgs_fail(st, CG_ENOMEM, "out of memory");
    }
    v = (MDB_val){ n, rec };
    rc = mdb_put(txn, st->dbi[DB_TOKENS], &k, &v, 0);
    free(rec);
    if (rc) {
        mdb_txn_abort(txn);
        return cgs_fail_mdb(st, rc, "tokens");
    }
    return commit(st, txn, "tokens: commit");
}

int cg_store_token_list(cg_store *st, const char *user,
                        int (*cb)(const cg_token_info *t, void *arg), void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc, code;

    if (!st || !cb)
        return CG_EINVAL;
    if ((code = ready(st, 0)) != 0)
        return code;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_TOKENS], &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cg_token_info t;
        const char *why = "key not 32 bytes";
        if (k.mv_size != TOKEN_KEY || cgs_token_decode(v.mv_data, v.mv_size, &t, &why)) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged (tokens: bad record (%s))", why);
            break;
        }
        if (user && strcmp(user, t.user) != 0)
            continue;
        sodium_bin2hex(t.id, sizeof t.id, k.mv_data, 8);
        if (cb(&t, arg))
            break;
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = cgs_fail_mdb(st, rc, "tokens");
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}

int cg_store_token_revoke(cg_store *st, const char *id)
{
    uint8_t want[8];
    size_t bin = 0;
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k = { 8, want }, v;
    int rc, code;

    if (!st)
        return CG_EINVAL;
    if ((code = ready(st, 1)) != 0)
        return code;
    if (!id || strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16 ||
        sodium_hex2bin(want, sizeof want, id, 16, NULL, &bin, NULL) != 0 || bin != 8)
        return cgs_fail(st, CG_EINVAL, "a token's id is 16 hex digits (as tokens lists them)");
    if ((code = wbegin(st, &txn, "tokens")) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_TOKENS], &cur);
    if (!rc)
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && (k.mv_size < 8 || memcmp(k.mv_data, want, 8) != 0))
        rc = MDB_NOTFOUND;
    if (rc == 0)
        rc = mdb_cursor_del(cur, 0);
    if (cur)
        mdb_cursor_close(cur);
    if (rc) {
        mdb_txn_abort(txn);
        return rc == MDB_NOTFOUND ? cgs_fail(st, CG_ENOTFOUND, "no token %s", id)
                                  : cgs_fail_mdb(st, rc, "tokens");
    }
    return commit(st, txn, "tokens: commit");
}

/* ---- the audit trail -------------------------------------------------------------- */

/* s as one line of at most max bytes in out (max + 1 bytes). */
static const char *one_line(const char *s, char *out, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--; /* not inside a UTF-8 character */
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    out[n] = 0;
    return out;
}

int cg_store_audit_add(cg_store *st, uint64_t when_us, const char *who, const char *address,
                       unsigned event, const char *detail)
{
    char w[WHO_MAX + 1], a[ADDRESS_MAX + 1], d[DETAIL_MAX + 1];
    cg_audit rec = { .when_us = when_us, .event = (uint8_t)event };
    uint8_t key[AUDIT_KEY], *p;
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint64_t seq = 1;
    size_t n;
    int rc, code;

    if (!st)
        return CG_EINVAL;
    if ((code = ready(st, 1)) != 0)
        return code;
    if (!cg_audit_event_name(event))
        return cgs_fail(st, CG_EINVAL, "no audit event %u", event);
    rec.who = one_line(who, w, WHO_MAX);
    rec.address = one_line(address, a, ADDRESS_MAX);
    rec.detail = one_line(detail, d, DETAIL_MAX);
    if (!(p = cgs_audit_encode(&rec, &n)))
        return cgs_fail(st, CG_ENOMEM, "out of memory");
    if ((code = wbegin(st, &txn, "audit")) != 0)
        goto out;
    rc = mdb_cursor_open(txn, st->dbi[DB_AUDIT], &cur);
    if (!rc)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == AUDIT_KEY)
        seq = get64(k.mv_data) + 1;
    else if (rc == 0)
        rc = MDB_CORRUPTED;
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (cur)
        mdb_cursor_close(cur);
    put64(key, seq);
    k = (MDB_val){ AUDIT_KEY, key };
    v = (MDB_val){ n, p };
    if (!rc)
        rc = mdb_put(txn, st->dbi[DB_AUDIT], &k, &v, MDB_APPEND);
    if (rc) {
        mdb_txn_abort(txn);
        code = cgs_fail_mdb(st, rc, "audit");
        goto out;
    }
    code = commit(st, txn, "audit: commit");
out:
    free(p);
    return code;
}

int cg_store_audit_list(cg_store *st, uint64_t since_us, uint64_t limit,
                        int (*cb)(const cg_audit *a, void *arg), void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    uint64_t given = 0;
    int rc, code;

    if (!st || !cb)
        return CG_EINVAL;
    if ((code = ready(st, 0)) != 0)
        return code;
    if ((code = cgs_rtxn_begin(st, &txn)) != 0)
        return code;
    rc = mdb_cursor_open(txn, st->dbi[DB_AUDIT], &cur);
    /* newest first; times come from the callers' clocks, so a since is a
     * filter on each entry rather than a place to stop */
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0 && (!limit || given < limit);
         rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
        cg_audit a;
        const char *why = "key not 8 bytes";
        if (k.mv_size != AUDIT_KEY || cgs_audit_decode(v.mv_data, v.mv_size, &a, &why)) {
            code = cgs_fail(st, CG_ECORRUPT, "damaged (audit: bad record (%s))", why);
            break;
        }
        if (a.when_us < since_us)
            continue;
        a.seq = get64(k.mv_data);
        given++;
        if (cb(&a, arg))
            break;
    }
    if (!code && rc && rc != MDB_NOTFOUND)
        code = cgs_fail_mdb(st, rc, "audit");
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return code;
}
