/* web_session.h — the console's sessions and login rate limits, in the
 * server's memory (a restart logs everyone out).
 *
 * Sessions: an id of 256 random bits (OpenSSL RAND_bytes), shown as 64 hex
 * digits in the cg_session cookie, and a CSRF token of 256 other random bits;
 * a session ends idle_us after its last use or max_us after its login,
 * whichever comes first. The table holds at most max sessions: a new one
 * when full replaces the one used least recently. Ids are compared in
 * constant time.
 *
 * Limiter: per key (an account name, an address), a failure count over a
 * sliding window; max_fail failures within window_us lock the key for
 * lock_us. At most slots keys are tracked (the least recently failed is
 * forgotten when full).
 *
 * Both are safe to call from many threads (one mutex each). Times are the
 * caller's (microseconds, any monotonic clock), so tests use a fake one.
 */
#ifndef CG_WEB_SESSION_H
#define CG_WEB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define CG_WEB_ID_HEX 64 /* hex digits of a session id or CSRF token */

/* 1 when a and b are equal strings (time independent of where they
 * differ; NULL is equal to nothing). */
int cg_web_ct_equal(const char *a, const char *b);

typedef struct cg_web_sessions cg_web_sessions;
typedef struct cg_web_session {
    char user[65];
    unsigned role;
    char csrf[CG_WEB_ID_HEX + 1];
    uint64_t created_us, used_us;
} cg_web_session;

cg_web_sessions *cg_web_sessions_create(size_t max, uint64_t idle_us, uint64_t max_us);
void cg_web_sessions_destroy(cg_web_sessions *t);
/* A new session for user: 0 and its id in id (NUL-terminated), its CSRF
 * token in *out; -1 when no random bytes could be had or user is too long. */
int cg_web_session_new(cg_web_sessions *t, const char *user, unsigned role, uint64_t now_us,
                       char id[CG_WEB_ID_HEX + 1], cg_web_session *out);
/* The live session of that id: 0 and a copy in *out (its use time set to
 * now); -1 none or expired (an expired one is removed). */
int cg_web_session_find(cg_web_sessions *t, const char *id, uint64_t now_us, cg_web_session *out);
/* Ends the session of that id (logout); 0, or -1 when there was none. */
int cg_web_session_drop(cg_web_sessions *t, const char *id);
/* Live sessions (after removing the expired). */
size_t cg_web_session_count(cg_web_sessions *t, uint64_t now_us);

typedef struct cg_web_limiter cg_web_limiter;
cg_web_limiter *cg_web_limiter_create(unsigned max_fail, uint64_t window_us, uint64_t lock_us,
                                      size_t slots);
void cg_web_limiter_destroy(cg_web_limiter *l);
/* 0 when key may try now, else the seconds until it may (at least 1). */
uint64_t cg_web_limiter_wait(cg_web_limiter *l, const char *key, uint64_t now_us);
/* Counts a failure of key: 1 when this one locked it, else 0. */
int cg_web_limiter_fail(cg_web_limiter *l, const char *key, uint64_t now_us);
/* Forgets key's failures (a login that succeeded). */
void cg_web_limiter_reset(cg_web_limiter *l, const char *key);

#endif
