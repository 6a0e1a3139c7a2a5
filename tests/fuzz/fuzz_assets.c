/* fuzz_assets.c — libFuzzer harness: the asset file parser (analyzer/output/assets.h).
 *
 * Input: the file's bytes, handed to cg_assets_parse as a buffer of exactly
 * their size (it must never read past len; no NUL is added). When it parses,
 * every entry is read and checked to be in (network, prefix length) order
 * with a prefix of at most 128 bits, and a few addresses (from the input's
 * first bytes, and fixed ones) are looked up; a lookup's answer must hold
 * the address. The set is then destroyed.
 */
#include "tests/fuzz/fuzz_common.h"

#include "analyzer/output/assets.h"

static int holds(const cg_asset *a, const uint8_t addr[16])
{
    for (unsigned bit = 0; bit < a->plen; bit++) {
        unsigned byte = bit / 8, m = 0x80u >> (bit % 8);
        if ((a->net[byte] & m) != (addr[byte] & m))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    char err[512];
    cg_assets *a = NULL;
    if (cg_assets_parse(&a, "fuzz.conf", buf, size, err, sizeof err) == 0) {
        size_t n = cg_assets_count(a);
        const cg_asset *prev = NULL;
        for (size_t i = 0; i < n; i++) {
            const cg_asset *e = cg_assets_at(a, i);
            if (!e || e->plen > 128)
                abort();
            fz_touch(e->agency, strnlen(e->agency, sizeof e->agency));
            fz_touch(e->zone, strnlen(e->zone, sizeof e->zone));
            fz_touch(e->owner, strnlen(e->owner, sizeof e->owner));
            if (prev) {
                int c = memcmp(prev->net, e->net, 16);
                if (c > 0 || (c == 0 && prev->plen > e->plen)) {
                    fprintf(stderr, "fuzz_assets: entries out of order at %zu\n", i);
                    abort();
                }
            }
            prev = e;
        }
        uint8_t addrs[4][16] = {
            { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 1, 10 },
            { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 1 },
            { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
            { 0 },
        };
        memcpy(addrs[3], data, size < 16 ? size : 16);
        for (int i = 0; i < 4; i++) {
            const cg_asset *e = cg_assets_lookup(a, addrs[i]);
            if (e && !holds(e, addrs[i])) {
                fprintf(stderr, "fuzz_assets: lookup gave an entry that does not hold it\n");
                abort();
            }
        }
        for (size_t i = 0; i < n && i < 64; i++) {
            const cg_asset *e = cg_assets_at(a, i);
            const cg_asset *l = cg_assets_lookup(a, e->net);
            if (!l || !holds(l, e->net) || l->plen < e->plen) {
                fprintf(stderr,
                        "fuzz_assets: entry %zu's own network finds a less "
                        "specific entry\n",
                        i);
                abort();
            }
        }
    }
    cg_assets_destroy(a);
    free(buf);
    return 0;
}
