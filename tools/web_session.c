/* web_session.c — sessions and login limits of the console (web_session.h).
 * Both are small fixed tables scanned under a mutex: a console has tens of
 * users, and the bounds (max sessions, limiter slots) keep a flood from
 * growing them. A slot's id is all-zero bytes when free. */
#include "tools/web_session.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cg_web_ct_equal(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb || la == 0)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- sessions ---------------------------------------------------------------- */

typedef struct slot {
    char id[CG_WEB_ID_HEX + 1];
    cg_web_session s;
} slot;

struct cg_web_sessions {
    pthread_mutex_t mu;
    uint64_t idle_us, max_us;
    size_t n;
    slot *v;
};

cg_web_sessions *cg_web_sessions_create(size_t max, uint64_t idle_us, uint64_t max_us)
{
    cg_web_sessions *t = calloc(1, sizeof *t);
    if (!t || max == 0 || !(t->v = calloc(max, sizeof *t->v))) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->n = max;
    t->idle_us = idle_us;
    t->max_us = max_us;
    return t;
}

void cg_web_sessions_destroy(cg_web_sessions *t)
{
    if (!t)
        return;
    OPENSSL_cleanse(t->v, t->n * sizeof *t->v);
    pthread_mutex_destroy(&t->mu);
    free(t->v);
    free(t);
}

static int expired(const cg_web_sessions *t, const slot *s, uint64_t now)
{
    return now >= s->s.used_us + t->idle_us || now >= s->s.created_us + t->max_us;
}

int cg_web_session_new(cg_web_sessions *t, const char *user, unsigned role, uint64_t now_us,
                       char id[CG_WEB_ID_HEX + 1], cg_web_session *out)
{
    unsigned char r[64];
    if (strlen(user) >= sizeof out->user || RAND_bytes(r, sizeof r) != 1)
        return -1;
    pthread_mutex_lock(&t->mu);
    slot *pick = NULL;
    for (size_t i = 0; i < t->n; i++) {
        slot *s = &t->v[i];
        if (!s->id[0] || expired(t, s, now_us)) {
            pick = s;
            break;
        }
        if (!pick || s->s.used_us < pick->s.used_us)
            pick = s;
    }
    memset(pick, 0, sizeof *pick);
    hex(r, 32, pick->id);
    hex(r + 32, 32, pick->s.csrf);
    snprintf(pick->s.user, sizeof pick->s.user, "%s", user);
    pick->s.role = role;
    pick->s.created_us = pick->s.used_us = now_us;
    memcpy(id, pick->id, sizeof pick->id);
    *out = pick->s;
    pthread_mutex_unlock(&t->mu);
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

int cg_web_session_find(cg_web_sessions *t, const char *id, uint64_t now_us, cg_web_session *out)
{
    int rc = -1;
    if (!id || strlen(id) != CG_WEB_ID_HEX)
        return -1;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++) {
        slot *s = &t->v[i];
        if (!s->id[0] || !cg_web_ct_equal(s->id, id))
            continue;
        if (expired(t, s, now_us)) {
            memset(s, 0, sizeof *s);
        } else {
            s->s.used_us = now_us;
            *out = s->s;
            rc = 0;
        }
        break;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int cg_web_session_drop(cg_web_sessions *t, const char *id)
{
    int rc = -1;
    if (!id || strlen(id) != CG_WEB_ID_HEX)
        return -1;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].id[0] && cg_web_ct_equal(t->v[i].id, id)) {
            memset(&t->v[i], 0, sizeof t->v[i]);
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

size_t cg_web_session_count(cg_web_sessions *t, uint64_t now_us)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n; i++) {
        if (!t->v[i].id[0])
            continue;
        if (expired(t, &t->v[i], now_us))
            memset(&t->v[i], 0, sizeof t->v[i]);
        else
            n++;
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* ---- the limiter --------------------------------------------------------------- */

#define FAIL_MAX 64 /* failures remembered per key: max_fail is at most this */

typedef struct lslot {
    char key[80];
    unsigned n; /* failures in fail[] (a ring, newest at head - 1) */
    unsigned head;
    uint64_t fail[FAIL_MAX];
    uint64_t locked_until, last;
} lslot;

struct cg_web_limiter {
    pthread_mutex_t mu;
    unsigned max_fail;
    uint64_t window_us, lock_us;
    size_t n;
    lslot *v;
};

cg_web_limiter *cg_web_limiter_create(unsigned max_fail, uint64_t window_us, uint64_t lock_us,
                                      size_t slots)
{
    cg_web_limiter *l = calloc(1, sizeof *l);
    if (!l || max_fail == 0 || max_fail > FAIL_MAX || slots == 0 ||
        !(l->v = calloc(slots, sizeof *l->v))) {
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    l->max_fail = max_fail;
    l->window_us = window_us;
    l->lock_us = lock_us;
    l->n = slots;
    return l;
}

void cg_web_limiter_destroy(cg_web_limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->v);
    free(l);
}

static lslot *lfind(cg_web_limiter *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].key[0] && !strncmp(l->v[i].key, key, sizeof l->v[i].key - 1))
            return &l->v[i];
    return NULL;
}

uint64_t cg_web_limiter_wait(cg_web_limiter *l, const char *key, uint64_t now_us)
{
    uint64_t w = 0;
    pthread_mutex_lock(&l->mu);
    lslot *s = lfind(l, key);
    if (s && s->locked_until > now_us)
        w = (s->locked_until - now_us + 999999) / 1000000;
    pthread_mutex_unlock(&l->mu);
    return w;
}

int cg_web_limiter_fail(cg_web_limiter *l, const char *key, uint64_t now_us)
{
    int locked = 0;
    pthread_mutex_lock(&l->mu);
    lslot *s = lfind(l, key);
    if (!s) {
        for (size_t i = 0; i < l->n; i++) {
            lslot *c = &l->v[i];
            if (!c->key[0]) {
                s = c;
                break;
            }
            if (c->locked_until <= now_us && (!s || c->last < s->last))
                s = c;
        }
        if (!s) { /* every slot locked: forget the oldest anyway */
            s = &l->v[0];
            for (size_t i = 1; i < l->n; i++)
                if (l->v[i].last < s->last)
                    s = &l->v[i];
        }
        memset(s, 0, sizeof *s);
        snprintf(s->key, sizeof s->key, "%s", key);
    }
    s->last = now_us;
    s->fail[s->head] = now_us;
    s->head = (s->head + 1) % FAIL_MAX;
    if (s->n < FAIL_MAX)
        s->n++;
    /* failures within the window, newest first */
    unsigned in = 0;
    for (unsigned k = 0; k < s->n; k++) {
        uint64_t t = s->fail[(s->head + FAIL_MAX - 1 - k) % FAIL_MAX];
        if (t + l->window_us <= now_us)
            break;
        in++;
    }
    if (in >= l->max_fail && s->locked_until <= now_us) {
        s->locked_until = now_us + l->lock_us;
        s->n = 0; /* a fresh count after the lock */
        locked = 1;
    }
    pthread_mutex_unlock(&l->mu);
    return locked;
}

void cg_web_limiter_reset(cg_web_limiter *l, const char *key)
{
    pthread_mutex_lock(&l->mu);
    lslot *s = lfind(l, key);
    if (s && s->locked_until == 0)
        memset(s, 0, sizeof *s);
    else if (s)
        s->n = 0;
    pthread_mutex_unlock(&l->mu);
}
