/* store_user.h — the web console's accounts, API tokens and audit trail, kept
 * in the store (schema 8).
 *
 * Accounts: a name (1..64 bytes of [A-Za-z0-9._-], case kept, compared as
 * bytes), a role, a password hash (libsodium's crypto_pwhash_str, Argon2id,
 * OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE unless the store's handle was
 * told cheaper ones for tests), disabled or not, when created and when the
 * password last changed. API tokens: per user, 32 random bytes shown once as
 * "cgt_" + 64 hex digits; the store keeps only their SHA-256, a label, when
 * made and when last used. A disabled user's tokens and sessions stop
 * working. The audit: an append-only list of what the console's users did
 * (login, logout, failure, lockout, user and token changes), kept apart
 * from incident history (which names the user in its `who` for triage).
 *
 * Every change is one short LMDB write transaction on a triage handle
 * (CG_STORE_TRIAGE) or the writer's handle outside a batch (from another
 * thread than the one holding a batch: LMDB serialises them); a read-only
 * handle refuses them (CG_EINVAL). Reads take a snapshot; a read-only
 * handle on a store before schema 8 says CG_EOLDER. Hashing runs outside
 * any transaction. Nothing here is on the sensor's hot path.
 *
 * Named databases (schema 8; byte layouts in store_user.c):
 *   users   name -> user record
 *   tokens  sha256(token) -> user name | label | created | last used
 *   audit   be64 seq -> audit record (when, who, address, event, detail)
 * A store of schema 2..7 is migrated to 8 when opened for writing or triage
 * (the three databases are created empty; nothing else changes).
 *
 * Errors are the store's (CG_EINVAL, CG_ENOTFOUND, CG_EEXIST when a name is
 * taken, CG_EIO ...) with cg_store_error(st) set.
 */
#ifndef CG_STORE_USER_H
#define CG_STORE_USER_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum { CG_ROLE_VIEWER = 0, CG_ROLE_ANALYST, CG_ROLE_RESPONDER, CG_ROLE_ADMIN, CG_ROLE_COUNT };

/* "viewer", "analyst", "responder", "admin"; NULL for another value. */
const char *cg_role_name(unsigned role);
/* The role of that name, or -1. */
int cg_role_parse(const char *name);

#define CG_USER_NAME_MAX 64
/* 1 when name is a valid user name. */
int cg_user_name_ok(const char *name);

typedef struct cg_user {
    const char *name;
    uint8_t role;                    /* CG_ROLE_* */
    uint8_t disabled;                /* 1: cannot log in, tokens refused */
    uint64_t created_us, changed_us; /* account made; password last set */
} cg_user;

/* Sets the cost of crypto_pwhash for this handle: 0 = interactive (the
 * default), 1 = the minimum (tests only, never for a real store). */
void cg_store_user_cost(cg_store *st, int minimum);

/* Adds a user with that password (1..4096 bytes). CG_EEXIST if taken. */
int cg_store_user_add(cg_store *st, const char *name, unsigned role, const char *password,
                      uint64_t now_us);
int cg_store_user_passwd(cg_store *st, const char *name, const char *password, uint64_t now_us);
int cg_store_user_set_role(cg_store *st, const char *name, unsigned role);
int cg_store_user_set_disabled(cg_store *st, const char *name, int disabled);
/* cb for the user of that name (CG_ENOTFOUND) / for each user by name. */
int cg_store_user_get(cg_store *st, const char *name, int (*cb)(const cg_user *u, void *arg),
                      void *arg);
int cg_store_user_list(cg_store *st, int (*cb)(const cg_user *u, void *arg), void *arg);
/* Checks a password: 0 and *role set when the user exists, is enabled and
 * the password matches; CG_ENOTFOUND for no such user; CG_EPERM for a wrong
 * password or a disabled user. Costs one Argon2id verification also when
 * the user does not exist (no timing oracle for names). */
int cg_store_user_verify(cg_store *st, const char *name, const char *password, unsigned *role);

/* Makes an API token for user name: out receives "cgt_" + 64 hex + NUL. */
#define CG_TOKEN_LEN 68
int cg_store_token_new(cg_store *st, const char *name, const char *label, uint64_t now_us,
                       char out[CG_TOKEN_LEN + 1]);
/* The user a token belongs to, if enabled: copies the name (at most
 * CG_USER_NAME_MAX + 1 bytes with the NUL) and sets *role. CG_ENOTFOUND for
 * an unknown token, CG_EPERM for a disabled user. Does not write (the
 * last-used time is updated by cg_store_token_used, at most once a minute
 * per token by the caller). */
int cg_store_token_check(cg_store *st, const char *token, char *name, unsigned *role);
int cg_store_token_used(cg_store *st, const char *token, uint64_t now_us);
typedef struct cg_token_info {
    const char *user, *label;
    char id[17]; /* the first 16 hex digits of the token's SHA-256: names it */
    uint64_t created_us, used_us;
} cg_token_info;
/* Each token (of user, or all), in id order. */
int cg_store_token_list(cg_store *st, const char *user /* NULL: all */,
                        int (*cb)(const cg_token_info *t, void *arg), void *arg);
/* Revokes the token whose id (as listed) is that; CG_ENOTFOUND. */
int cg_store_token_revoke(cg_store *st, const char *id);

/* The audit trail. */
enum {
    CG_AUDIT_LOGIN = 1,
    CG_AUDIT_LOGOUT,
    CG_AUDIT_LOGIN_FAILED,
    CG_AUDIT_LOCKOUT,
    CG_AUDIT_USER,   /* a user added, password changed, role, disabled/enabled */
    CG_AUDIT_TOKEN,  /* a token made or revoked */
    CG_AUDIT_DENIED, /* an authenticated request refused by role (403) or CSRF */
    CG_AUDIT_CHANGE, /* a change made through the console (triage, note, case) */
};
/* "login", "logout", "login-failed", "lockout", "user", "token", "denied",
 * "change"; NULL for another. */
const char *cg_audit_event_name(unsigned ev);
typedef struct cg_audit {
    uint64_t seq, when_us;
    const char *who;     /* the user (or the name tried), "" if none */
    const char *address; /* the client's address, "" from the command line */
    uint8_t event;       /* CG_AUDIT_* */
    const char *detail;  /* one line, at most 1024 bytes */
} cg_audit;
/* Appends an entry: texts are made one line (control bytes become spaces)
 * and cut (who at 256 bytes, address at 64, detail at 1024); NULL is "".
 * CG_EINVAL for an unknown event. Not a leaf of the store's log. */
int cg_store_audit_add(cg_store *st, uint64_t when_us, const char *who, const char *address,
                       unsigned event, const char *detail);
/* The newest first, at most limit (0: all), only since_us and later. */
int cg_store_audit_list(cg_store *st, uint64_t since_us, uint64_t limit,
                        int (*cb)(const cg_audit *a, void *arg), void *arg);

#endif
