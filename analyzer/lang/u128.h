/* u128.h — 128-bit unsigned values for address arithmetic: a 16-byte
 * address (IPv4 mapped, network order) as a number, so that ranges, CIDR
 * masks and "the next address" are plain integer operations. Shared by the
 * rule parser's address sets (addr.c) and the asset table (assets.c).
 * Header-only: small static inline functions, no state.
 */
#ifndef CG_U128_H
#define CG_U128_H

#include <stdint.h>

typedef struct u128 {
    uint64_t hi, lo;
} u128;

static inline int cg_u128_cmp(u128 a, u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static inline int cg_u128_eq(u128 a, u128 b)
{
    return a.hi == b.hi && a.lo == b.lo;
}

static inline int cg_u128_is_max(u128 a)
{
    return a.hi == UINT64_MAX && a.lo == UINT64_MAX;
}

/* a + 1 and a - 1, wrapping */
static inline u128 cg_u128_inc(u128 a)
{
    if (++a.lo == 0)
        a.hi++;
    return a;
}

static inline u128 cg_u128_dec(u128 a)
{
    if (a.lo-- == 0)
        a.hi--;
    return a;
}

/* The top n bits set, n in 0..128 (a /n network mask). */
static inline u128 cg_u128_prefix_mask(unsigned n)
{
    u128 m = { 0, 0 };
    if (n == 0)
        return m;
    if (n <= 64) {
        m.hi = UINT64_MAX << (64 - n);
    } else {
        m.hi = UINT64_MAX;
        m.lo = UINT64_MAX << (128 - n);
    }
    return m;
}

/* The low 128-n bits set: the host part of a /n network. */
static inline u128 cg_u128_host_mask(unsigned n)
{
    u128 m = cg_u128_prefix_mask(n);
    m.hi = ~m.hi;
    m.lo = ~m.lo;
    return m;
}

/* 16 bytes, most significant first. */
static inline u128 cg_u128_from_bytes(const uint8_t b[16])
{
    u128 v = { 0, 0 };
    for (int i = 0; i < 8; i++)
        v.hi = (v.hi << 8) | b[i];
    for (int i = 8; i < 16; i++)
        v.lo = (v.lo << 8) | b[i];
    return v;
}

static inline void cg_u128_to_bytes(u128 v, uint8_t b[16])
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)v.hi;
        v.hi >>= 8;
    }
    for (int i = 15; i >= 8; i--) {
        b[i] = (uint8_t)v.lo;
        v.lo >>= 8;
    }
}

#endif
