/* threshold.c — threshold / detection_filter state (see threshold.h). */
#include "analyzer/engine/threshold.h"

#include <stdlib.h>
#include <string.h>

#define PROBE 16

typedef struct entry {
    uint32_t rule; /* rule index + 1; 0 = empty */
    uint8_t kind;  /* 0 threshold, 1 detection_filter */
    uint8_t a[16], b[16];
    uint64_t start_us; /* window start */
    uint64_t end_us;   /* window end: reclaimable after it */
    uint32_t count;
} entry;

struct cg_threshold_table {
    entry *e;
    uint32_t mask;
    uint64_t reclaimed;
};

int cg_threshold_create(cg_threshold_table **out, uint32_t capacity)
{
    uint32_t n = 1024;
    while (n < capacity && n < (1u << 30))
        n <<= 1;
    cg_threshold_table *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->e = calloc(n, sizeof *t->e);
    if (!t->e) {
        free(t);
        return -1;
    }
    t->mask = n - 1;
    *out = t;
    return 0;
}

void cg_threshold_clear(cg_threshold_table *t)
{
    memset(t->e, 0, ((size_t)t->mask + 1) * sizeof *t->e);
    t->reclaimed = 0;
}

void cg_threshold_destroy(cg_threshold_table *t)
{
    if (!t)
        return;
    free(t->e);
    free(t);
}

uint64_t cg_threshold_reclaimed(const cg_threshold_table *t)
{
    return t->reclaimed;
}

static uint64_t mix(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

int cg_threshold_check(cg_threshold_table *t, const cg_threshold *th, uint32_t ri,
                       const uint8_t src[16], const uint8_t dst[16], uint64_t ts_us)
{
    static const uint8_t zero[16];
    if (th->type == CG_TH_NONE)
        return 1;
    const uint8_t *a = zero, *b = zero;
    switch (th->track) {
    case CG_TRACK_SRC: a = src; break;
    case CG_TRACK_DST: a = dst; break;
    case CG_TRACK_BOTH:
        a = src;
        b = dst;
        break;
    default: break;
    }
    uint8_t kind = th->type == CG_TH_DETECTION_FILTER;
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)ri << 1 | kind);
    h = mix(mix(h, a, 16), b, 16);
    uint64_t win = (uint64_t)th->seconds * 1000000u;

    entry *hit = NULL, *free_slot = NULL, *oldest = NULL;
    for (uint32_t i = 0; i < PROBE; i++) {
        entry *e = &t->e[(h + i) & t->mask];
        if (e->rule == ri + 1 && e->kind == kind && !memcmp(e->a, a, 16) && !memcmp(e->b, b, 16)) {
            hit = e;
            break;
        }
        if (!free_slot && (e->rule == 0 || e->end_us < ts_us))
            free_slot = e;
        if (!oldest || e->end_us < oldest->end_us)
            oldest = e;
    }

    /* a match a little older than the window's start (live, workers hand
     * their packets over out of time order by microseconds) counts in it */
    if (hit &&
        (ts_us >= hit->start_us ? ts_us - hit->start_us < win : hit->start_us - ts_us < win)) {
        hit->count++;
        switch (th->type) {
        case CG_TH_LIMIT: return hit->count <= th->count;
        case CG_TH_THRESHOLD:
            if (hit->count >= th->count) {
                hit->count = 0;
                return 1;
            }
            return 0;
        case CG_TH_BOTH: return hit->count == th->count;
        default: return hit->count > th->count; /* detection_filter */
        }
    }
    /* a new window */
    entry *e = hit ? hit : free_slot;
    if (!e) {
        e = oldest;
        t->reclaimed++;
    }
    e->rule = ri + 1;
    e->kind = kind;
    memcpy(e->a, a, 16);
    memcpy(e->b, b, 16);
    e->start_us = ts_us;
    e->end_us = ts_us + win;
    e->count = 1;
    switch (th->type) {
    case CG_TH_LIMIT: return th->count >= 1;
    case CG_TH_THRESHOLD:
        if (th->count <= 1) {
            e->count = 0;
            return 1;
        }
        return 0;
    case CG_TH_BOTH: return th->count <= 1;
    default: return th->count == 0;
    }
}
