/* seal.h — for tests that write hostile records: the store's seal (the low
 * 32 bits of XXH3-64 of a record's bytes before its last 4, big-endian,
 * store_rec.c) written again over a record they changed, as a writer would
 * have, so that the layout's own checks meet the change past the seal. */
#ifndef CG_TESTS_SEAL_H
#define CG_TESTS_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

static inline void reseal(uint8_t *p, size_t n)
{
    uint32_t c = (uint32_t)XXH3_64bits(p, n - 4);
    p[n - 4] = (uint8_t)(c >> 24);
    p[n - 3] = (uint8_t)(c >> 16);
    p[n - 2] = (uint8_t)(c >> 8);
    p[n - 1] = (uint8_t)c;
}

#endif
