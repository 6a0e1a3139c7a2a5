/* merkle.c — the Merkle tree of merkle.h: RFC 9162 §2.1 hashing, proofs read
 * from the perfect subtree nodes, verification, appends through the frontier.
 *
 * How the RFC's recursions map onto stored nodes. Every recursion of §2.1
 * (MTH, PATH, SUBPROOF) splits a range of n leaves at k, the largest power of
 * two below n. Walking down from the whole tree, the range in hand [lo, lo + w)
 * always has lo a multiple of a power of two >= w, so:
 *   - its left part [lo, lo + k) is perfect: node (log2 k, lo >> log2 k);
 *   - its right part [lo + k, lo + w) is a run of perfect subtrees, one for each
 *     bit set in w - k, biggest first (range_root): the RFC's MTH of it is
 *     their hashes folded from the right.
 * Once a walk goes into a left part it stays in perfect subtrees, so a proof
 * needs a run (more than one get) for one of its hashes at most.
 *
 * The proofs are built from the root down, which is the reverse of the RFC's
 * order (the deepest hash first), in a buffer on the stack, and copied out
 * reversed on success.
 *
 * Invariants: no allocation here but a cg_mt_hasher's (OpenSSL allocates
 * inside EVP_Digest); no
 * state but one process-wide constant, OpenSSL's SHA-256 fetched once (an
 * implicit fetch by EVP_sha256() at every hash takes a lock and a lookup:
 * a third of the cost of hashing a node); sizes <= CG_MT_MAXSIZE, so no shift reaches 64 and every proof fits
 * in CG_MT_MAXPROOF hashes; output parameters written only on success.
 */
#include "store/merkle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sensor/error.h"

typedef uint8_t hash_t[CG_MT_HASH];

static EVP_MD *sha_fetched;
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;

static void sha_fetch(void)
{
    sha_fetched = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

/* SHA-256, fetched once (EVP_sha256()'s implicit fetch when that failed) */
static const EVP_MD *sha256(void)
{
    pthread_once(&sha_once, sha_fetch);
    return sha_fetched ? sha_fetched : EVP_sha256();
}

int cg_mt_leaf_hash(const void *data, size_t n, uint8_t out[CG_MT_HASH])
{
    static const uint8_t prefix = 0x00;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = 0;
    if (!out || (!data && n))
        return CG_EINVAL;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && EVP_DigestInit_ex(c, sha256(), NULL) && EVP_DigestUpdate(c, &prefix, 1) &&
        (n == 0 || EVP_DigestUpdate(c, data, n)) && EVP_DigestFinal_ex(c, md, &len) &&
        len == CG_MT_HASH)
        ok = 1;
    EVP_MD_CTX_free(c);
    if (!ok)
        return CG_ENOMEM;
    memcpy(out, md, CG_MT_HASH);
    return 0;
}

struct cg_mt_hasher {
    EVP_MD_CTX *c;
};

int cg_mt_hasher_new(cg_mt_hasher **out)
{
    cg_mt_hasher *h;

    if (!out)
        return CG_EINVAL;
    if (!(h = malloc(sizeof *h)))
        return CG_ENOMEM;
    if (!(h->c = EVP_MD_CTX_new())) {
        free(h);
        return CG_ENOMEM;
    }
    *out = h;
    return 0;
}

void cg_mt_hasher_free(cg_mt_hasher *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->c);
    free(h);
}

int cg_mt_leaf_hash2(cg_mt_hasher *h, const void *a, size_t na, const void *b, size_t nb,
                     uint8_t out[CG_MT_HASH])
{
    static const uint8_t prefix = 0x00;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!h || !out || (!a && na) || (!b && nb))
        return CG_EINVAL;
    if (!EVP_DigestInit_ex(h->c, sha256(), NULL) || !EVP_DigestUpdate(h->c, &prefix, 1) ||
        (na && !EVP_DigestUpdate(h->c, a, na)) || (nb && !EVP_DigestUpdate(h->c, b, nb)) ||
        !EVP_DigestFinal_ex(h->c, md, &len) || len != CG_MT_HASH)
        return CG_ENOMEM;
    memcpy(out, md, CG_MT_HASH);
    return 0;
}

int cg_mt_node_hash(const uint8_t l[CG_MT_HASH], const uint8_t r[CG_MT_HASH],
                    uint8_t out[CG_MT_HASH])
{
    uint8_t buf[1 + 2 * CG_MT_HASH], md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!l || !r || !out)
        return CG_EINVAL;
    buf[0] = 0x01;
    memcpy(buf + 1, l, CG_MT_HASH);
    memcpy(buf + 1 + CG_MT_HASH, r, CG_MT_HASH);
    if (!EVP_Digest(buf, sizeof buf, md, &len, sha256(), NULL) || len != CG_MT_HASH)
        return CG_ENOMEM;
    memcpy(out, md, CG_MT_HASH);
    return 0;
}

static int empty_root(uint8_t out[CG_MT_HASH])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest("", 0, md, &len, sha256(), NULL) || len != CG_MT_HASH)
        return CG_ENOMEM;
    memcpy(out, md, CG_MT_HASH);
    return 0;
}

/* log2 of a power of two */
static unsigned lg(uint64_t pow2)
{
    return (unsigned)__builtin_ctzll(pow2);
}

/* The largest power of two below w (w >= 2). */
static uint64_t split_of(uint64_t w)
{
    return (uint64_t)1 << (63 - __builtin_clzll(w - 1));
}

/* MTH of the count >= 1 leaves from start, start a multiple of a power of two
 * >= count: the perfect subtree of each bit l set in count, the lowest (the
 * rightmost) first, folded leftwards. The subtree of bit l comes after those
 * of the higher bits: index (start >> l) + (count >> l) - 1 at level l. */
static int range_root(cg_mt_get get, void *ctx, uint64_t start, uint64_t count,
                      uint8_t out[CG_MT_HASH])
{
    hash_t r, h;
    int have = 0, rc;
    for (unsigned l = 0; l < 64; l++) {
        if (!(count >> l & 1))
            continue;
        if ((rc = get(ctx, l, (start >> l) + (count >> l) - 1, have ? h : r)))
            return rc;
        if (have && (rc = cg_mt_node_hash(h, r, r)))
            return rc;
        have = 1;
    }
    memcpy(out, r, CG_MT_HASH);
    return 0;
}

int cg_mt_root(cg_mt_get get, void *ctx, uint64_t size, uint8_t out[CG_MT_HASH])
{
    if (!get || !out || size > CG_MT_MAXSIZE)
        return CG_EINVAL;
    return size ? range_root(get, ctx, 0, size, out) : empty_root(out);
}

/* buf[0..k) top down into path, the other way round (the RFC's order). */
static void copy_reversed(uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH], hash_t *buf, unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        memcpy(path[i], buf[k - 1 - i], CG_MT_HASH);
}

/* PATH(m, D[n]) of §2.1.3.1, top down: at each split, the hash of the half
 * that does not hold leaf m. */
int cg_mt_inclusion(cg_mt_get get, void *ctx, uint64_t index, uint64_t size,
                    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH], unsigned *n)
{
    hash_t buf[CG_MT_MAXPROOF];
    unsigned k = 0;
    int rc;
    if (!get || !path || !n || size > CG_MT_MAXSIZE || index >= size)
        return CG_EINVAL;
    uint64_t lo = 0, w = size, m = index;
    while (w > 1) {
        uint64_t split = split_of(w);
        if (k == CG_MT_MAXPROOF)
            return CG_EINVAL; /* unreachable for size <= CG_MT_MAXSIZE */
        if (m < split) {
            rc = range_root(get, ctx, lo + split, w - split, buf[k]);
            w = split;
        } else {
            rc = get(ctx, lg(split), lo >> lg(split), buf[k]);
            lo += split, m -= split, w -= split;
        }
        if (rc)
            return rc;
        k++;
    }
    copy_reversed(path, buf, k);
    *n = k;
    return 0;
}

/* SUBPROOF(m, D[n], b) of §2.1.4.1, top down. The walk ends when m == w; if it
 * went right at least once (b false) the range then in hand is whole in the
 * old tree and its hash ends the list: it is perfect, because the walk reaches
 * m == w only after going left, into a perfect subtree. */
int cg_mt_consistency(cg_mt_get get, void *ctx, uint64_t old, uint64_t size,
                      uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH], unsigned *n)
{
    hash_t buf[CG_MT_MAXPROOF];
    unsigned k = 0;
    int rc, b = 1;
    if (!get || !path || !n || size > CG_MT_MAXSIZE || old == 0 || old > size)
        return CG_EINVAL;
    uint64_t lo = 0, w = size, m = old;
    while (m != w) {
        uint64_t split = split_of(w);
        if (k == CG_MT_MAXPROOF)
            return CG_EINVAL; /* unreachable for size <= CG_MT_MAXSIZE */
        if (m <= split) {
            rc = range_root(get, ctx, lo + split, w - split, buf[k]);
            w = split;
        } else {
            rc = get(ctx, lg(split), lo >> lg(split), buf[k]);
            lo += split, m -= split, w -= split, b = 0;
        }
        if (rc)
            return rc;
        k++;
    }
    if (!b) {
        if (k == CG_MT_MAXPROOF || (w & (w - 1)))
            return CG_EINVAL; /* unreachable, as above */
        if ((rc = get(ctx, lg(w), lo >> lg(w), buf[k])))
            return rc;
        k++;
    }
    copy_reversed(path, buf, k);
    *n = k;
    return 0;
}

/* fn and sn shifted right together until fn's lowest bit is set or fn is 0
 * (both procedures of §2.1.3.2 and §2.1.4.2 do this). */
static void shift_to_set(uint64_t *fn, uint64_t *sn)
{
    while (*fn && !(*fn & 1))
        *fn >>= 1, *sn >>= 1;
}

int cg_mt_verify_inclusion(const uint8_t leaf[CG_MT_HASH], uint64_t index, uint64_t size,
                           const uint8_t (*path)[CG_MT_HASH], unsigned n,
                           const uint8_t root[CG_MT_HASH])
{
    hash_t r;
    int rc;
    if (!leaf || !root || (!path && n) || n > CG_MT_MAXPROOF || index >= size)
        return CG_EINVAL;
    uint64_t fn = index, sn = size - 1;
    memcpy(r, leaf, CG_MT_HASH);
    for (unsigned i = 0; i < n; i++) {
        if (sn == 0)
            return CG_ECORRUPT;
        if ((fn & 1) || fn == sn) {
            if ((rc = cg_mt_node_hash(path[i], r, r)))
                return rc;
            shift_to_set(&fn, &sn);
        } else if ((rc = cg_mt_node_hash(r, path[i], r)))
            return rc;
        fn >>= 1, sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, CG_MT_HASH) == 0 ? 0 : CG_ECORRUPT;
}

int cg_mt_verify_consistency(uint64_t old, uint64_t size, const uint8_t old_root[CG_MT_HASH],
                             const uint8_t root[CG_MT_HASH], const uint8_t (*path)[CG_MT_HASH],
                             unsigned n)
{
    hash_t fr, sr;
    int rc;
    if (!old_root || !root || (!path && n) || n > CG_MT_MAXPROOF || old == 0 || old > size)
        return CG_EINVAL;
    if (old == size)
        return n == 0 && memcmp(old_root, root, CG_MT_HASH) == 0 ? 0 : CG_ECORRUPT;
    if (n == 0)
        return CG_ECORRUPT;
    /* step 2: a power-of-two old tree is a node of the new one, and its root
     * stands first in the path (the proof itself leaves it out) */
    int pow2 = (old & (old - 1)) == 0;
    const uint8_t *first = pow2 ? old_root : path[0];
    unsigned i = pow2 ? 0 : 1;
    uint64_t fn = old - 1, sn = size - 1;
    while (fn & 1)
        fn >>= 1, sn >>= 1;
    memcpy(fr, first, CG_MT_HASH);
    memcpy(sr, first, CG_MT_HASH);
    for (; i < n; i++) {
        if (sn == 0)
            return CG_ECORRUPT;
        if ((fn & 1) || fn == sn) {
            if ((rc = cg_mt_node_hash(path[i], fr, fr)) || (rc = cg_mt_node_hash(path[i], sr, sr)))
                return rc;
            shift_to_set(&fn, &sn);
        } else if ((rc = cg_mt_node_hash(sr, path[i], sr)))
            return rc;
        fn >>= 1, sn >>= 1;
    }
    return sn == 0 && memcmp(fr, old_root, CG_MT_HASH) == 0 && memcmp(sr, root, CG_MT_HASH) == 0
        ? 0
        : CG_ECORRUPT;
}

int cg_mt_frontier_load(cg_mt_frontier *f, uint64_t size, cg_mt_get get, void *ctx)
{
    cg_mt_frontier t;
    int rc;
    if (!f || !get || size > CG_MT_MAXSIZE)
        return CG_EINVAL;
    memset(&t, 0, sizeof t);
    t.size = size;
    for (unsigned l = 0; l < 64; l++)
        if ((size >> l & 1) && (rc = get(ctx, l, (size >> l) - 1, t.h[l])))
            return rc;
    *f = t;
    return 0;
}

/* The new leaf merges with h[0], h[1], ... while bit l of size is set (the
 * binary carry of size + 1); each merge completes node (l + 1, size >> (l + 1)). */
int cg_mt_frontier_append(cg_mt_frontier *f, const uint8_t leaf[CG_MT_HASH], cg_mt_put put,
                          void *ctx)
{
    hash_t c;
    unsigned l = 0;
    int rc;
    if (!f || !leaf || !put)
        return CG_EINVAL;
    if (f->size >= CG_MT_MAXSIZE)
        return CG_EFULL;
    memcpy(c, leaf, CG_MT_HASH);
    if ((rc = put(ctx, 0, f->size, c)))
        return rc;
    while (f->size >> l & 1) {
        if ((rc = cg_mt_node_hash(f->h[l], c, c)))
            return rc;
        l++;
        if ((rc = put(ctx, l, f->size >> l, c)))
            return rc;
    }
    memset(f->h, 0, (size_t)l * CG_MT_HASH);
    memcpy(f->h[l], c, CG_MT_HASH);
    f->size++;
    return 0;
}

int cg_mt_frontier_root(const cg_mt_frontier *f, uint8_t out[CG_MT_HASH])
{
    hash_t r;
    int have = 0, rc;
    if (!f || !out || f->size > CG_MT_MAXSIZE)
        return CG_EINVAL;
    if (f->size == 0)
        return empty_root(out);
    for (unsigned l = 0; l < 64; l++) {
        if (!(f->size >> l & 1))
            continue;
        if (!have)
            memcpy(r, f->h[l], CG_MT_HASH), have = 1;
        else if ((rc = cg_mt_node_hash(f->h[l], r, r)))
            return rc;
    }
    memcpy(out, r, CG_MT_HASH);
    return 0;
}
