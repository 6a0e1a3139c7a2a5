/* xbits.c — xbits state per host and address pair (see xbits.h). */
#include "analyzer/engine/xbits.h"

#include <stdlib.h>
#include <string.h>

#define PROBE 8

typedef struct slot {
    uint64_t name;        /* cg_xbit.key */
    uint64_t until_us;    /* holds while ts < until_us; 0: empty */
    uint8_t pair;         /* a pair's bit (else a host's: ip_src and ip_dst alike) */
    uint8_t a[16], b[16]; /* the address, or the pair's lower and higher */
} slot;

struct cg_xbits {
    slot *s;
    uint32_t mask;
    uint64_t reclaimed;
};

int cg_xbits_create(cg_xbits **out, uint32_t capacity)
{
    uint32_t n = 256;
    while (n < capacity && n < (1u << 28))
        n <<= 1;
    cg_xbits *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->s = calloc(n, sizeof *t->s);
    if (!t->s) {
        free(t);
        return -1;
    }
    t->mask = n - 1;
    *out = t;
    return 0;
}

void cg_xbits_clear(cg_xbits *t)
{
    memset(t->s, 0, ((size_t)t->mask + 1) * sizeof *t->s);
    t->reclaimed = 0;
}

void cg_xbits_destroy(cg_xbits *t)
{
    if (!t)
        return;
    free(t->s);
    free(t);
}

uint64_t cg_xbits_reclaimed(const cg_xbits *t)
{
    return t->reclaimed;
}

/* The key of bit x for a packet src->dst: its name, and the host (the
 * source or the destination, as x tracks: one bit of the host either way)
 * or the pair in a fixed order. */
static void key_of(const cg_xbit *x, const uint8_t src[16], const uint8_t dst[16], slot *k)
{
    memset(k, 0, sizeof *k);
    k->name = x->key;
    k->pair = x->track == CG_XT_PAIR;
    if (x->track == CG_XT_SRC) {
        memcpy(k->a, src, 16);
    } else if (x->track == CG_XT_DST) {
        memcpy(k->a, dst, 16);
    } else {
        int lower = memcmp(src, dst, 16) <= 0;
        memcpy(k->a, lower ? src : dst, 16);
        memcpy(k->b, lower ? dst : src, 16);
    }
}

static uint32_t home(const cg_xbits *t, const slot *k)
{
    uint64_t h = k->name ^ ((uint64_t)k->pair << 56);
    for (int i = 0; i < 16; i++)
        h = (h ^ k->a[i]) * 0x100000001b3ULL;
    for (int i = 0; i < 16; i++)
        h = (h ^ k->b[i]) * 0x100000001b3ULL;
    h ^= h >> 29;
    return (uint32_t)h & t->mask;
}

static int same(const slot *s, const slot *k)
{
    return s->until_us && s->name == k->name && s->pair == k->pair && memcmp(s->a, k->a, 16) == 0 &&
        memcmp(s->b, k->b, 16) == 0;
}

/* The slot holding k (live or expired), or NULL. */
static slot *find(const cg_xbits *t, const slot *k)
{
    uint32_t h = home(t, k);
    for (uint32_t i = 0; i < PROBE; i++) {
        slot *s = &t->s[(h + i) & t->mask];
        if (same(s, k))
            return s;
    }
    return NULL;
}

static int is_set(const cg_xbits *t, const slot *k, uint64_t ts_us)
{
    const slot *s = find(t, k);
    return s && ts_us < s->until_us;
}

/* Sets k until until_us: in its slot, else an empty or expired one of its
 * probe run, else the one that expires first. */
static void set(cg_xbits *t, const slot *k, uint64_t now_us, uint64_t until_us)
{
    slot *s = find(t, k);
    if (!s) {
        uint32_t h = home(t, k);
        slot *soonest = NULL;
        for (uint32_t i = 0; i < PROBE && !s; i++) {
            slot *c = &t->s[(h + i) & t->mask];
            if (c->until_us == 0 || c->until_us <= now_us)
                s = c;
            else if (!soonest || c->until_us < soonest->until_us)
                soonest = c;
        }
        if (!s) {
            s = soonest;
            t->reclaimed++;
        }
    }
    *s = *k;
    s->until_us = until_us ? until_us : 1;
}

int cg_xbits_check(const cg_xbits *t, const cg_rule *r, const uint8_t src[16],
                   const uint8_t dst[16], uint64_t ts_us)
{
    for (uint32_t i = 0; i < r->nxbits; i++) {
        const cg_xbit *x = &r->xbits[i];
        if (x->cmd != CG_FB_ISSET && x->cmd != CG_FB_ISNOTSET)
            continue;
        slot k;
        key_of(x, src, dst, &k);
        if (is_set(t, &k, ts_us) != (x->cmd == CG_FB_ISSET))
            return 0;
    }
    return 1;
}

void cg_xbits_apply(cg_xbits *t, const cg_rule *r, const uint8_t src[16], const uint8_t dst[16],
                    uint64_t ts_us)
{
    for (uint32_t i = 0; i < r->nxbits; i++) {
        const cg_xbit *x = &r->xbits[i];
        if (x->cmd == CG_FB_ISSET || x->cmd == CG_FB_ISNOTSET)
            continue;
        slot k;
        key_of(x, src, dst, &k);
        int on = is_set(t, &k, ts_us);
        if (x->cmd == CG_FB_UNSET || (x->cmd == CG_FB_TOGGLE && on)) {
            slot *s = find(t, &k);
            if (s)
                s->until_us = 0;
            continue;
        }
        set(t, &k, ts_us, ts_us + (uint64_t)x->expire * 1000000u);
    }
}
