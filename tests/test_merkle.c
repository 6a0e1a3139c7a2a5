/* test_merkle.c — the Merkle tree (store/merkle.h) against RFC 9162 §2.1.
 *
 *  1. Known answers: the eight leaf inputs of the Certificate Transparency
 *     reference tests, their node hashes, the roots of the trees of 0..8 leaves,
 *     and the published inclusion and consistency proofs (hex copied from
 *     google/certificate-transparency cpp/merkletree/merkle_tree_test.cc and
 *     transparency-dev/merkle testonly/constants.go, proof/verify_test.go);
 *     the node lists of transparency-dev/merkle proof/proof_test.go for the
 *     shapes of bigger proofs (15, 31, 95 leaves).
 *  2. A brute-force MTH (the RFC's recursion over every leaf) against
 *     cg_mt_root and the frontier for every size 0..300 of an in-memory node
 *     store filled by cg_mt_frontier_append; cg_mt_frontier_load against the
 *     frontier of the appends; the gets each call makes.
 *  3. Every inclusion and consistency proof of every tree up to 130 leaves,
 *     equal to the RFC's PATH and SUBPROOF computed by brute force, verifying;
 *     each with a byte flipped, a hash dropped or added, a wrong index, size or
 *     root failing.
 *  4. 10,000 appends: consistency proofs from earlier sizes hold; one leaf
 *     rewritten (its node and those above it recomputed) breaks the proof
 *     from every old root that covers it, and only those.
 *  5. Errors: a get's or put's error passed through with nothing written,
 *     bad arguments, and the edge of 2^63 leaves (a tree of identical leaves,
 *     whose nodes are known at every level without storing them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/error.h"
#include "store/merkle.h"
#include "tests/check.h"

typedef uint8_t hash_t[CG_MT_HASH];

static int hex2bin(const char *hex, uint8_t *out)
{
    int n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void h_of(const char *hex, hash_t out)
{
    if (hex2bin(hex, out) != CG_MT_HASH)
        abort();
}

/* ---- an in-memory node store ------------------------------------------ */

typedef struct mem {
    uint8_t *lv[64];   /* level l: room for cap >> l nodes */
    uint64_t have[64]; /* nodes put at each level */
    uint64_t cap;
    uint64_t bound; /* the tree size the call under test was given */
    unsigned long gets, puts;
    unsigned long outside;     /* gets of nodes the tree of bound leaves has not */
    unsigned long fail_get_at; /* the get (counted from 1) that fails; 0: none */
    unsigned long fail_put_at; /* the same for puts */
    int err;
} mem;

static void mem_init(mem *m, uint64_t cap)
{
    memset(m, 0, sizeof *m);
    m->cap = cap;
    for (unsigned l = 0; l < 64 && (cap >> l); l++)
        if (!(m->lv[l] = calloc(cap >> l, CG_MT_HASH)))
            abort();
}

static void mem_free(mem *m)
{
    for (unsigned l = 0; l < 64; l++)
        free(m->lv[l]);
}

static int mem_get(void *ctx, unsigned level, uint64_t index, uint8_t out[CG_MT_HASH])
{
    mem *m = ctx;
    m->gets++;
    if (m->fail_get_at && m->gets == m->fail_get_at)
        return m->err;
    if (level >= 64 || index + 1 > (m->bound >> level))
        m->outside++;
    if (level >= 64 || index >= m->have[level])
        return CG_ENOTFOUND;
    memcpy(out, m->lv[level] + index * CG_MT_HASH, CG_MT_HASH);
    return 0;
}

/* Appends put each level in order; a rewrite (the tampering below) puts a
 * node that is there. */
static int mem_put(void *ctx, unsigned level, uint64_t index, const uint8_t h[CG_MT_HASH])
{
    mem *m = ctx;
    m->puts++;
    if (m->fail_put_at && m->puts == m->fail_put_at)
        return m->err;
    if (level >= 64 || index >= (m->cap >> level) || index > m->have[level])
        abort();
    memcpy(m->lv[level] + index * CG_MT_HASH, h, CG_MT_HASH);
    if (index == m->have[level])
        m->have[level]++;
    return 0;
}

static uint8_t *node(mem *m, unsigned level, uint64_t index)
{
    return m->lv[level] + index * CG_MT_HASH;
}

/* ---- the RFC's recursions, by brute force over the leaf hashes -------- */

static uint64_t split_below(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static void ref_mth(const hash_t *d, uint64_t n, hash_t out)
{
    if (n == 0) {
        h_of("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", out);
        return;
    }
    if (n == 1) {
        memcpy(out, d[0], CG_MT_HASH);
        return;
    }
    uint64_t k = split_below(n);
    hash_t l, r;
    ref_mth(d, k, l);
    ref_mth(d + k, n - k, r);
    if (cg_mt_node_hash(l, r, out))
        abort();
}

/* PATH(m, D[n]) appended to out[*k]. */
static void ref_path(const hash_t *d, uint64_t m, uint64_t n, hash_t *out, unsigned *k)
{
    if (n <= 1)
        return;
    uint64_t s = split_below(n);
    if (m < s) {
        ref_path(d, m, s, out, k);
        ref_mth(d + s, n - s, out[(*k)++]);
    } else {
        ref_path(d + s, m - s, n - s, out, k);
        ref_mth(d, s, out[(*k)++]);
    }
}

/* SUBPROOF(m, D[n], b) appended to out[*k]. */
static void ref_subproof(const hash_t *d, uint64_t m, uint64_t n, int b, hash_t *out, unsigned *k)
{
    if (m == n) {
        if (!b)
            ref_mth(d, m, out[(*k)++]);
        return;
    }
    uint64_t s = split_below(n);
    if (m <= s) {
        ref_subproof(d, m, s, b, out, k);
        ref_mth(d + s, n - s, out[(*k)++]);
    } else {
        ref_subproof(d + s, m - s, n - s, 0, out, k);
        ref_mth(d, s, out[(*k)++]);
    }
}

static unsigned ceil_log2(uint64_t n)
{
    unsigned l = 0;
    while (l < 64 && ((uint64_t)1 << l) < n)
        l++;
    return l;
}

/* ---- 1. known answers --------------------------------------------------- */

/* google/certificate-transparency cpp/merkletree/merkle_tree_test.cc (kInputs,
 * kSHA256Roots, kSHA256Paths, kSHA256Proofs); transparency-dev/merkle
 * testonly/constants.go (NodeHashes, RootHashes) and proof/verify_test.go
 * (consistencyProofs, which adds 6 -> 7). */
static const char *const kat_inputs[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

static const char *const kat_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static const struct {
    unsigned level, index;
    const char *hex;
} kat_nodes[] = {
    { 0, 0, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" },
    { 0, 1, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7" },
    { 0, 2, "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7" },
    { 0, 3, "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7" },
    { 0, 4, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" },
    { 0, 5, "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658" },
    { 0, 6, "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f" },
    { 0, 7, "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1" },
    { 1, 0, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" },
    { 1, 1, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e" },
    { 1, 2, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a" },
    { 1, 3, "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0" },
    { 2, 0, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
    { 2, 1, "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" },
    { 3, 0, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328" },
};

/* kSHA256Paths: the sources number leaves from 1; index here is from 0. */
static const struct {
    uint64_t index, size;
    unsigned n;
    const char *path[3];
} kat_incl[] = {
    { 0, 1, 0, { 0 } },
    { 0,
      8,
      3,
      { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
    { 5,
      8,
      3,
      { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
    { 2, 3, 1, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
    { 1,
      5,
      3,
      { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static const struct {
    uint64_t old, size;
    unsigned n;
    const char *path[3];
} kat_cons[] = {
    { 1, 1, 0, { 0 } },
    { 1,
      8,
      3,
      { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
    { 6,
      8,
      3,
      { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
    { 2,
      5,
      2,
      { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
    { 6,
      7,
      3,
      { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
};

/* transparency-dev/merkle proof/proof_test.go (TestInclusion, TestConsistency):
 * the nodes of a proof, (level, index), in the RFC's order; nodes [rb, re) are
 * one hash of the proof, the MTH of a range that crosses the tree's right edge,
 * folded as h = node(next, h) from rb on (the package's Nodes.Rehash). */
typedef struct {
    unsigned l;
    uint64_t i;
} nid;

typedef struct shape {
    int cons; /* 0: inclusion of leaf a; 1: consistency from size a */
    uint64_t a, size;
    unsigned rb, re, n;
    nid ids[9];
} shape;

static const shape kat_shapes[] = {
    { 0, 1, 2, 0, 0, 1, { { 0, 0 } } },
    { 0, 1, 3, 0, 0, 2, { { 0, 0 }, { 0, 2 } } },
    { 0, 0, 7, 2, 4, 4, { { 0, 1 }, { 1, 1 }, { 0, 6 }, { 1, 2 } } },
    { 0, 2, 7, 2, 4, 4, { { 0, 3 }, { 1, 0 }, { 0, 6 }, { 1, 2 } } },
    { 0, 4, 7, 0, 0, 3, { { 0, 5 }, { 0, 6 }, { 2, 0 } } },
    { 0, 6, 7, 0, 0, 2, { { 1, 2 }, { 2, 0 } } },
    { 0, 3, 5, 0, 0, 3, { { 0, 2 }, { 1, 0 }, { 0, 4 } } },
    { 0, 4, 6, 0, 0, 2, { { 0, 5 }, { 2, 0 } } },
    { 0, 10, 15, 2, 4, 5, { { 0, 11 }, { 1, 4 }, { 0, 14 }, { 1, 6 }, { 3, 0 } } },
    { 0, 24, 31, 2, 4, 6, { { 0, 25 }, { 1, 13 }, { 0, 30 }, { 1, 14 }, { 3, 2 }, { 4, 0 } } },
    { 0,
      81,
      95,
      3,
      6,
      8,
      { { 0, 80 }, { 1, 41 }, { 2, 21 }, { 0, 94 }, { 1, 46 }, { 2, 22 }, { 4, 4 }, { 6, 0 } } },
    { 1, 1, 2, 0, 0, 1, { { 0, 1 } } },
    { 1, 1, 4, 0, 0, 2, { { 0, 1 }, { 1, 1 } } },
    { 1, 1, 6, 0, 0, 3, { { 0, 1 }, { 1, 1 }, { 1, 2 } } },
    { 1, 2, 3, 0, 0, 1, { { 0, 2 } } },
    { 1, 2, 8, 0, 0, 2, { { 1, 1 }, { 2, 1 } } },
    { 1, 3, 7, 3, 5, 5, { { 0, 2 }, { 0, 3 }, { 1, 0 }, { 0, 6 }, { 1, 2 } } },
    { 1, 4, 7, 0, 2, 2, { { 0, 6 }, { 1, 2 } } },
    { 1, 5, 7, 0, 0, 4, { { 0, 4 }, { 0, 5 }, { 0, 6 }, { 2, 0 } } },
    { 1, 6, 7, 0, 0, 3, { { 1, 2 }, { 0, 6 }, { 2, 0 } } },
    { 1, 7, 8, 0, 0, 4, { { 0, 6 }, { 0, 7 }, { 1, 2 }, { 2, 0 } } },
    { 1, 2, 4, 0, 0, 1, { { 1, 1 } } },
    { 1, 3, 5, 0, 0, 4, { { 0, 2 }, { 0, 3 }, { 1, 0 }, { 0, 4 } } },
    { 1, 3, 6, 0, 0, 4, { { 0, 2 }, { 0, 3 }, { 1, 0 }, { 1, 2 } } },
    { 1, 4, 6, 0, 0, 1, { { 1, 2 } } },
    { 1, 1, 7, 2, 4, 4, { { 0, 1 }, { 1, 1 }, { 0, 6 }, { 1, 2 } } },
    { 1, 10, 15, 2, 4, 5, { { 1, 4 }, { 1, 5 }, { 0, 14 }, { 1, 6 }, { 3, 0 } } },
    { 1, 24, 31, 1, 4, 5, { { 3, 2 }, { 0, 30 }, { 1, 14 }, { 2, 6 }, { 4, 0 } } },
    { 1,
      81,
      95,
      4,
      7,
      9,
      { { 0, 80 },
        { 0, 81 },
        { 1, 41 },
        { 2, 21 },
        { 0, 94 },
        { 1, 46 },
        { 2, 22 },
        { 4, 4 },
        { 6, 0 } } },
};

static void test_known_answers(void)
{
    mem m;
    mem_init(&m, 128);
    cg_mt_frontier f;
    memset(&f, 0, sizeof f);
    hash_t want, got, lh[8];
    uint8_t data[16];

    /* the empty tree, from the frontier and from the nodes */
    h_of(kat_roots[0], want);
    CHECK(cg_mt_frontier_root(&f, got) == 0 && memcmp(got, want, CG_MT_HASH) == 0);
    CHECK(cg_mt_root(mem_get, &m, 0, got) == 0 && memcmp(got, want, CG_MT_HASH) == 0);

    for (unsigned i = 0; i < 8; i++) {
        int n = hex2bin(kat_inputs[i], data);
        CHECK(cg_mt_leaf_hash(n ? data : NULL, (size_t)n, lh[i]) == 0);
        CHECK(cg_mt_frontier_append(&f, lh[i], mem_put, &m) == 0);
        h_of(kat_roots[i + 1], want);
        CHECK(cg_mt_frontier_root(&f, got) == 0 && memcmp(got, want, CG_MT_HASH) == 0);
    }
    m.bound = 8;
    for (unsigned s = 0; s <= 8; s++) {
        h_of(kat_roots[s], want);
        CHECK(cg_mt_root(mem_get, &m, s, got) == 0 && memcmp(got, want, CG_MT_HASH) == 0);
    }
    /* every node the appends put, and none other */
    for (size_t i = 0; i < sizeof kat_nodes / sizeof kat_nodes[0]; i++) {
        h_of(kat_nodes[i].hex, want);
        CHECK(memcmp(node(&m, kat_nodes[i].level, kat_nodes[i].index), want, CG_MT_HASH) == 0);
    }
    CHECK_EQ_U(m.have[0], 8);
    CHECK_EQ_U(m.have[1], 4);
    CHECK_EQ_U(m.have[2], 2);
    CHECK_EQ_U(m.have[3], 1);
    CHECK_EQ_U(m.have[4], 0);
    CHECK_EQ_U(m.puts, 15);

    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH];
    unsigned n;
    for (size_t c = 0; c < sizeof kat_incl / sizeof kat_incl[0]; c++) {
        uint64_t idx = kat_incl[c].index, size = kat_incl[c].size;
        m.bound = size;
        n = 99;
        CHECK(cg_mt_inclusion(mem_get, &m, idx, size, path, &n) == 0);
        CHECK_EQ_U(n, kat_incl[c].n);
        for (unsigned j = 0; j < kat_incl[c].n && j < n; j++) {
            h_of(kat_incl[c].path[j], want);
            CHECK(memcmp(path[j], want, CG_MT_HASH) == 0);
        }
        h_of(kat_roots[size], want);
        CHECK(cg_mt_verify_inclusion(lh[idx], idx, size, (const uint8_t(*)[CG_MT_HASH])path, n,
                                     want) == 0);
    }
    for (size_t c = 0; c < sizeof kat_cons / sizeof kat_cons[0]; c++) {
        uint64_t old = kat_cons[c].old, size = kat_cons[c].size;
        m.bound = size;
        n = 99;
        CHECK(cg_mt_consistency(mem_get, &m, old, size, path, &n) == 0);
        CHECK_EQ_U(n, kat_cons[c].n);
        for (unsigned j = 0; j < kat_cons[c].n && j < n; j++) {
            h_of(kat_cons[c].path[j], want);
            CHECK(memcmp(path[j], want, CG_MT_HASH) == 0);
        }
        hash_t r1;
        h_of(kat_roots[old], r1);
        h_of(kat_roots[size], want);
        CHECK(cg_mt_verify_consistency(old, size, r1, want, (const uint8_t(*)[CG_MT_HASH])path,
                                       n) == 0);
    }
    CHECK_EQ_U(m.outside, 0);
    mem_free(&m);

    /* the shapes of bigger proofs: a tree of 95 leaves */
    mem_init(&m, 128);
    memset(&f, 0, sizeof f);
    for (unsigned i = 0; i < 95; i++) {
        uint8_t b = (uint8_t)i;
        hash_t h;
        CHECK(cg_mt_leaf_hash(&b, 1, h) == 0);
        CHECK(cg_mt_frontier_append(&f, h, mem_put, &m) == 0);
    }
    for (size_t c = 0; c < sizeof kat_shapes / sizeof kat_shapes[0]; c++) {
        const shape *k = &kat_shapes[c];
        hash_t exp[9];
        unsigned ne = 0;
        for (unsigned j = 0; j < k->n; j++) {
            const uint8_t *h = node(&m, k->ids[j].l, k->ids[j].i);
            if (k->re > k->rb && j > k->rb && j < k->re)
                CHECK(cg_mt_node_hash(h, exp[ne - 1], exp[ne - 1]) == 0);
            else
                memcpy(exp[ne++], h, CG_MT_HASH);
        }
        m.bound = k->size;
        n = 99;
        int rc = k->cons ? cg_mt_consistency(mem_get, &m, k->a, k->size, path, &n)
                         : cg_mt_inclusion(mem_get, &m, k->a, k->size, path, &n);
        CHECK(rc == 0);
        CHECK_EQ_U(n, ne);
        for (unsigned j = 0; j < ne && j < n; j++)
            CHECK(memcmp(path[j], exp[j], CG_MT_HASH) == 0);
    }
    CHECK_EQ_U(m.outside, 0);
    mem_free(&m);
}

/* ---- 2. roots and frontiers of every size 0..300 ------------------------ */

static void leaf_of(uint64_t i, hash_t out)
{
    char s[40];
    int n = snprintf(s, sizeof s, "canhgac leaf %llu", (unsigned long long)i);
    if (cg_mt_leaf_hash(s, (size_t)n, out))
        abort();
}

static void test_roots(void)
{
    enum { N = 300 };
    static hash_t d[N];
    mem m;
    mem_init(&m, N);
    cg_mt_frontier f, g;
    memset(&f, 0, sizeof f);
    hash_t want, got;
    unsigned bad_front = 0, bad_load = 0, bad_root = 0, bad_gets = 0;
    for (uint64_t s = 0; s <= N; s++) {
        /* the store holds s leaves here */
        ref_mth(d, s, want);
        if (cg_mt_frontier_root(&f, got) || memcmp(got, want, CG_MT_HASH))
            bad_front++;
        m.bound = s;
        if (cg_mt_frontier_load(&g, s, mem_get, &m) || memcmp(&g, &f, sizeof f))
            bad_load++;
        m.gets = 0;
        if (cg_mt_root(mem_get, &m, s, got) || memcmp(got, want, CG_MT_HASH))
            bad_root++;
        if (m.gets != (unsigned long)__builtin_popcountll(s))
            bad_gets++;
        if (s == N)
            break;
        leaf_of(s, d[s]);
        if (cg_mt_frontier_append(&f, d[s], mem_put, &m))
            bad_front++;
    }
    CHECK_EQ_U(bad_front, 0);
    CHECK_EQ_U(bad_load, 0);
    CHECK_EQ_U(bad_root, 0);
    CHECK_EQ_U(bad_gets, 0);
    CHECK_EQ_U(f.size, N);
    /* a node for every perfect subtree of the 300 leaves, nothing else */
    for (unsigned l = 0; l < 64; l++)
        CHECK_EQ_U(m.have[l], (uint64_t)N >> l);
    /* the earlier sizes from the full store, and their frontiers */
    bad_root = bad_load = 0;
    m.bound = N;
    for (uint64_t s = 0; s <= N; s++) {
        ref_mth(d, s, want);
        if (cg_mt_root(mem_get, &m, s, got) || memcmp(got, want, CG_MT_HASH))
            bad_root++;
        if (cg_mt_frontier_load(&g, s, mem_get, &m) || cg_mt_frontier_root(&g, got) ||
            memcmp(got, want, CG_MT_HASH))
            bad_load++;
    }
    CHECK_EQ_U(bad_root, 0);
    CHECK_EQ_U(bad_load, 0);
    CHECK_EQ_U(m.outside, 0);
    mem_free(&m);
}

/* ---- 3. every proof of every tree up to 130 leaves ----------------------- */

typedef const uint8_t (*cpath)[CG_MT_HASH];

static unsigned long nincl, ncons, nprobe;

/* The proof must hold, and each wrong variant must not. */
static void probe_inclusion(const hash_t leaf, uint64_t idx, uint64_t size, hash_t *p, unsigned n,
                            const hash_t root)
{
    static hash_t q[CG_MT_MAXPROOF + 1];
    hash_t x, empty;
    unsigned bad = 0;
    h_of(kat_roots[0], empty);
    if (cg_mt_verify_inclusion(leaf, idx, size, (cpath)p, n, root) != 0)
        bad++;
    for (unsigned j = 0; j < n; j++) { /* a byte flipped, in each hash */
        memcpy(q, p, n * sizeof *p);
        q[j][j % CG_MT_HASH] ^= 0x10;
        bad += cg_mt_verify_inclusion(leaf, idx, size, (cpath)q, n, root) != CG_ECORRUPT;
    }
    if (n) { /* the last hash dropped, the first dropped */
        bad += cg_mt_verify_inclusion(leaf, idx, size, (cpath)p, n - 1, root) != CG_ECORRUPT;
        bad += cg_mt_verify_inclusion(leaf, idx, size, (cpath)p + 1, n - 1, root) != CG_ECORRUPT;
    }
    memcpy(q, p, n * sizeof *p); /* a hash more at the end, then at the start */
    memcpy(q[n], root, CG_MT_HASH);
    bad += cg_mt_verify_inclusion(leaf, idx, size, (cpath)q, n + 1, root) != CG_ECORRUPT;
    memcpy(q[0], root, CG_MT_HASH);
    memcpy(q + 1, p, n * sizeof *p);
    bad += cg_mt_verify_inclusion(leaf, idx, size, (cpath)q, n + 1, root) != CG_ECORRUPT;
    /* another index: one of the tree fails, one outside is refused */
    uint64_t other[3] = { idx - 1, idx + 1, idx ^ 2 };
    for (unsigned j = 0; j < 3; j++) {
        if (other[j] == UINT64_MAX)
            continue;
        int want = other[j] < size ? CG_ECORRUPT : CG_EINVAL;
        bad += cg_mt_verify_inclusion(leaf, other[j], size, (cpath)p, n, root) != want;
    }
    /* another size: twice, half (the probes of the CT reference tests) */
    bad += cg_mt_verify_inclusion(leaf, idx, size * 2, (cpath)p, n, root) == 0;
    bad += cg_mt_verify_inclusion(leaf, idx, size / 2, (cpath)p, n, root) == 0;
    /* another root, another leaf */
    memcpy(x, root, CG_MT_HASH);
    x[31] ^= 1;
    bad += cg_mt_verify_inclusion(leaf, idx, size, (cpath)p, n, x) != CG_ECORRUPT;
    bad += cg_mt_verify_inclusion(leaf, idx, size, (cpath)p, n, empty) != CG_ECORRUPT;
    memcpy(x, leaf, CG_MT_HASH);
    x[0] ^= 0x80;
    bad += cg_mt_verify_inclusion(x, idx, size, (cpath)p, n, root) != CG_ECORRUPT;
    nprobe++;
    if (bad)
        fprintf(stderr, "inclusion %llu of %llu: %u probes wrong\n", (unsigned long long)idx,
                (unsigned long long)size, bad);
    CHECK(bad == 0);
}

static void probe_consistency(uint64_t old, uint64_t size, hash_t *p, unsigned n, const hash_t r1,
                              const hash_t r2)
{
    static hash_t q[CG_MT_MAXPROOF + 1];
    hash_t x;
    unsigned bad = 0;
    if (cg_mt_verify_consistency(old, size, r1, r2, (cpath)p, n) != 0)
        bad++;
    if (n == 0) { /* old == size: holds for equal roots and no hash only */
        memcpy(q[0], r1, CG_MT_HASH);
        bad += cg_mt_verify_consistency(old, size, r1, r2, (cpath)q, 1) != CG_ECORRUPT;
        memcpy(x, r2, CG_MT_HASH);
        x[5] ^= 4;
        bad += cg_mt_verify_consistency(old, size, r1, x, (cpath)p, 0) != CG_ECORRUPT;
        goto done;
    }
    for (unsigned j = 0; j < n; j++) {
        memcpy(q, p, n * sizeof *p);
        q[j][(j * 7) % CG_MT_HASH] ^= 0x10;
        bad += cg_mt_verify_consistency(old, size, r1, r2, (cpath)q, n) != CG_ECORRUPT;
    }
    bad += cg_mt_verify_consistency(old, size, r1, r2, (cpath)p, 0) != CG_ECORRUPT;
    bad += cg_mt_verify_consistency(old, size, r1, r2, (cpath)p, n - 1) != CG_ECORRUPT;
    bad += cg_mt_verify_consistency(old, size, r1, r2, (cpath)p + 1, n - 1) != CG_ECORRUPT;
    const uint8_t *extra[3] = { r1, r2, p[0] };
    for (unsigned e = 0; e < 3; e++) {
        memcpy(q, p, n * sizeof *p);
        memcpy(q[n], extra[e], CG_MT_HASH);
        bad += cg_mt_verify_consistency(old, size, r1, r2, (cpath)q, n + 1) != CG_ECORRUPT;
        memcpy(q[0], extra[e], CG_MT_HASH);
        memcpy(q + 1, p, n * sizeof *p);
        bad += cg_mt_verify_consistency(old, size, r1, r2, (cpath)q, n + 1) != CG_ECORRUPT;
    }
    uint64_t other[3] = { old - 1, old + 1, old ^ 2 };
    for (unsigned j = 0; j < 3; j++) {
        int want = other[j] == 0 || other[j] > size ? CG_EINVAL : CG_ECORRUPT;
        bad += cg_mt_verify_consistency(other[j], size, r1, r2, (cpath)p, n) != want;
    }
    bad += cg_mt_verify_consistency(old, size * 2, r1, r2, (cpath)p, n) == 0;
    bad += cg_mt_verify_consistency(old, size / 2, r1, r2, (cpath)p, n) == 0;
    memcpy(x, r1, CG_MT_HASH);
    x[9] ^= 2;
    bad += cg_mt_verify_consistency(old, size, x, r2, (cpath)p, n) != CG_ECORRUPT;
    memcpy(x, r2, CG_MT_HASH);
    x[9] ^= 2;
    bad += cg_mt_verify_consistency(old, size, r1, x, (cpath)p, n) != CG_ECORRUPT;
    bad += cg_mt_verify_consistency(old, size, r2, r1, (cpath)p, n) != CG_ECORRUPT;
done:
    nprobe++;
    if (bad)
        fprintf(stderr, "consistency %llu -> %llu: %u probes wrong\n", (unsigned long long)old,
                (unsigned long long)size, bad);
    CHECK(bad == 0);
}

static void test_all_proofs(void)
{
    enum { N = 130 };
    static hash_t d[N], roots[N + 1], want[CG_MT_MAXPROOF];
    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH];
    mem m;
    mem_init(&m, N);
    cg_mt_frontier f;
    memset(&f, 0, sizeof f);
    for (uint64_t i = 0; i < N; i++) {
        leaf_of(i, d[i]);
        CHECK(cg_mt_frontier_append(&f, d[i], mem_put, &m) == 0);
    }
    for (uint64_t s = 0; s <= N; s++)
        ref_mth(d, s, roots[s]);
    unsigned diff = 0, fail = 0, many = 0;
    for (uint64_t size = 1; size <= N; size++) {
        unsigned bound = 2 * ceil_log2(size);
        m.bound = size;
        for (uint64_t i = 0; i < size; i++) {
            unsigned n = 0, k = 0;
            m.gets = 0;
            if (cg_mt_inclusion(mem_get, &m, i, size, path, &n)) {
                fail++;
                continue;
            }
            many += m.gets > bound;
            ref_path(d, i, size, want, &k);
            diff += n != k || memcmp(path, want, n * sizeof want[0]);
            probe_inclusion(d[i], i, size, (hash_t *)path, n, roots[size]);
            nincl++;
        }
        for (uint64_t old = 1; old <= size; old++) {
            unsigned n = 0, k = 0;
            m.gets = 0;
            if (cg_mt_consistency(mem_get, &m, old, size, path, &n)) {
                fail++;
                continue;
            }
            many += m.gets > bound + 1;
            ref_subproof(d, old, size, 1, want, &k);
            diff += n != k || memcmp(path, want, n * sizeof want[0]);
            probe_consistency(old, size, (hash_t *)path, n, roots[old], roots[size]);
            ncons++;
        }
    }
    CHECK_EQ_U(fail, 0);
    CHECK_EQ_U(diff, 0);
    CHECK_EQ_U(many, 0);
    CHECK_EQ_U(m.outside, 0);
    CHECK_EQ_U(nincl, N * (N + 1) / 2);
    CHECK_EQ_U(ncons, N * (N + 1) / 2);
    mem_free(&m);
}

/* ---- 4. a long log, and a rewritten leaf ---------------------------------- */

/* Leaf i rewritten as an attacker with write access to the nodes would: its
 * level-0 node and every node above it that the tree of size leaves has. */
static void rewrite_leaf(mem *m, uint64_t i, uint64_t size, const hash_t h)
{
    CHECK(mem_put(m, 0, i, h) == 0);
    for (unsigned l = 1; l < 64 && ((i >> l) + 1) <= (size >> l); l++) {
        uint64_t j = i >> l;
        hash_t p;
        CHECK(cg_mt_node_hash(node(m, l - 1, 2 * j), node(m, l - 1, 2 * j + 1), p) == 0);
        CHECK(mem_put(m, l, j, p) == 0);
    }
}

static int cons_holds(mem *m, uint64_t old, uint64_t size, const hash_t r1, const hash_t r2)
{
    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH];
    unsigned n;
    int rc = cg_mt_consistency(mem_get, m, old, size, path, &n);
    return rc ? rc : cg_mt_verify_consistency(old, size, r1, r2, (cpath)path, n);
}

static void test_long_log(void)
{
    enum { N = 10000 };
    static const uint64_t marks[] = { 1, 2, 3, 7, 8, 1234, 4096, 5000, 6000, 9999, N };
    hash_t mroot[sizeof marks / sizeof marks[0]], root, h;
    mem m;
    mem_init(&m, N);
    cg_mt_frontier f;
    memset(&f, 0, sizeof f);
    size_t k = 0;
    for (uint64_t i = 0; i < N; i++) {
        leaf_of(i, h);
        CHECK(cg_mt_frontier_append(&f, h, mem_put, &m) == 0);
        if (k < sizeof marks / sizeof marks[0] && f.size == marks[k])
            CHECK(cg_mt_frontier_root(&f, mroot[k++]) == 0);
    }
    CHECK_EQ_U(k, sizeof marks / sizeof marks[0]);
    m.bound = N;
    CHECK(cg_mt_root(mem_get, &m, N, root) == 0 && memcmp(root, mroot[k - 1], CG_MT_HASH) == 0);
    for (size_t j = 0; j < k; j++)
        CHECK(cons_holds(&m, marks[j], N, mroot[j], root) == 0);
    /* from every 37th size, against its root read back from the nodes */
    unsigned bad = 0;
    for (uint64_t old = 1; old <= N; old += 37) {
        hash_t r1;
        bad += cg_mt_root(mem_get, &m, old, r1) || cons_holds(&m, old, N, r1, root);
    }
    CHECK_EQ_U(bad, 0);
    /* the same between two earlier sizes */
    CHECK(cons_holds(&m, 1234, 6000, mroot[5], mroot[8]) == 0);
    CHECK(cons_holds(&m, 6000, 9999, mroot[8], mroot[9]) == 0);

    /* leaf 5000 rewritten: the tree of 1234 leaves does not cover it (its
     * proof into the new tree holds, as it should); that of 6000 does */
    hash_t forged, root2;
    CHECK(cg_mt_leaf_hash("forged", 6, forged) == 0);
    rewrite_leaf(&m, 5000, N, forged);
    CHECK(cg_mt_root(mem_get, &m, N, root2) == 0 && memcmp(root2, root, CG_MT_HASH) != 0);
    CHECK(cons_holds(&m, 1234, N, mroot[5], root2) == 0);
    CHECK(cons_holds(&m, 6000, N, mroot[8], root2) == CG_ECORRUPT);
    CHECK(cons_holds(&m, 6000, N, mroot[8], root) == CG_ECORRUPT);
    CHECK(cons_holds(&m, 5000, 6000, mroot[7], mroot[8]) == CG_ECORRUPT);

    /* an early leaf rewritten: every old root from 101 leaves on sees it */
    rewrite_leaf(&m, 100, N, forged);
    CHECK(cg_mt_root(mem_get, &m, N, root2) == 0);
    for (size_t j = 5; j < k - 1; j++)
        CHECK(cons_holds(&m, marks[j], N, mroot[j], root2) == CG_ECORRUPT);
    CHECK(cons_holds(&m, 1234, N, mroot[5], root) == CG_ECORRUPT);
    CHECK(cons_holds(&m, 7, N, mroot[3], root2) == 0); /* before leaf 100 */
    /* nor does an inclusion proof of either leaf 100 hold across the two */
    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH];
    unsigned n;
    leaf_of(100, h);
    CHECK(cg_mt_inclusion(mem_get, &m, 100, N, path, &n) == 0);
    CHECK(cg_mt_verify_inclusion(h, 100, N, (cpath)path, n, root2) == CG_ECORRUPT);
    CHECK(cg_mt_verify_inclusion(forged, 100, N, (cpath)path, n, root2) == 0);
    CHECK(cg_mt_verify_inclusion(forged, 100, N, (cpath)path, n, root) == CG_ECORRUPT);
    CHECK(cg_mt_inclusion(mem_get, &m, 100, 1234, path, &n) == 0);
    CHECK(cg_mt_verify_inclusion(forged, 100, 1234, (cpath)path, n, mroot[5]) == CG_ECORRUPT);
    CHECK_EQ_U(m.outside, 0);
    mem_free(&m);
}

/* ---- 5. errors and edges ------------------------------------------------- */

static void test_errors(void)
{
    enum { N = 300 };
    mem m;
    mem_init(&m, N);
    cg_mt_frontier f, g, keep;
    memset(&f, 0, sizeof f);
    hash_t h, out, sentinel;
    for (uint64_t i = 0; i < N; i++) {
        leaf_of(i, h);
        CHECK(cg_mt_frontier_append(&f, h, mem_put, &m) == 0);
    }
    m.bound = N;
    memset(sentinel, 0xa5, sizeof sentinel);
    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH], path0[CG_MT_MAXPROOF][CG_MT_HASH];
    memset(path0, 0x5a, sizeof path0);
    unsigned n;

    /* a get's error on each of a call's gets: returned, nothing written */
    m.err = CG_EIO;
    unsigned bad = 0, calls = 0;
    for (unsigned which = 0; which < 4; which++) {
        for (unsigned long at = 1;; at++) {
            m.gets = 0;
            m.fail_get_at = at;
            memcpy(out, sentinel, sizeof out);
            memcpy(path, path0, sizeof path);
            memcpy(&g, &f, sizeof g);
            n = 777;
            int rc;
            switch (which) {
            case 0: rc = cg_mt_root(mem_get, &m, 299, out); break;
            case 1: rc = cg_mt_inclusion(mem_get, &m, 77, 299, path, &n); break;
            case 2: rc = cg_mt_consistency(mem_get, &m, 77, 299, path, &n); break;
            default: rc = cg_mt_frontier_load(&g, 255, mem_get, &m); break;
            }
            if (m.gets < at) { /* the call made fewer gets: it ran through */
                bad += rc != 0;
                break;
            }
            calls++;
            bad += rc != CG_EIO || memcmp(out, sentinel, sizeof out) ||
                memcmp(path, path0, sizeof path) || n != 777 || memcmp(&g, &f, sizeof g);
        }
    }
    m.fail_get_at = 0;
    CHECK_EQ_U(bad, 0);
    CHECK(calls >= 4 + 8 + 8 + 8);
    /* a node the store has not: the store's answer */
    m.bound = N + 1;
    CHECK(cg_mt_root(mem_get, &m, N + 1, out) == CG_ENOTFOUND);
    m.bound = N;

    /* a put's error on each of an append's puts: returned, f unchanged */
    CHECK(cg_mt_frontier_load(&g, 255, mem_get, &m) == 0); /* 8 trailing ones: 9 puts */
    mem m2;
    mem_init(&m2, 512);
    for (unsigned l = 0; l < 64; l++)
        m2.have[l] = (uint64_t)255 >> l;
    m2.err = CG_EFULL;
    for (unsigned long at = 1; at <= 9; at++) {
        m2.puts = 0;
        m2.fail_put_at = at;
        keep = g;
        CHECK(cg_mt_frontier_append(&g, h, mem_put, &m2) == CG_EFULL);
        CHECK(memcmp(&keep, &g, sizeof g) == 0);
    }
    m2.puts = 0;
    m2.fail_put_at = 0;
    CHECK(cg_mt_frontier_append(&g, h, mem_put, &m2) == 0);
    CHECK_EQ_U(m2.puts, 9);
    CHECK_EQ_U(g.size, 256);
    for (unsigned l = 0; l < 8; l++)
        CHECK(memcmp(g.h[l], (uint8_t[CG_MT_HASH]){ 0 }, CG_MT_HASH) == 0);
    mem_free(&m2);

    /* bad arguments */
    hash_t zero = { 0 };
    CHECK(cg_mt_leaf_hash(NULL, 1, out) == CG_EINVAL);
    CHECK(cg_mt_leaf_hash("x", 1, NULL) == CG_EINVAL);
    CHECK(cg_mt_node_hash(NULL, zero, out) == CG_EINVAL);
    CHECK(cg_mt_root(NULL, &m, 1, out) == CG_EINVAL);
    CHECK(cg_mt_root(mem_get, &m, 1, NULL) == CG_EINVAL);
    CHECK(cg_mt_inclusion(mem_get, &m, 5, 5, path, &n) == CG_EINVAL);
    CHECK(cg_mt_inclusion(mem_get, &m, 0, 0, path, &n) == CG_EINVAL);
    CHECK(cg_mt_inclusion(mem_get, &m, 0, 5, NULL, &n) == CG_EINVAL);
    CHECK(cg_mt_inclusion(mem_get, &m, 0, 5, path, NULL) == CG_EINVAL);
    CHECK(cg_mt_consistency(mem_get, &m, 0, 5, path, &n) == CG_EINVAL);
    CHECK(cg_mt_consistency(mem_get, &m, 6, 5, path, &n) == CG_EINVAL);
    CHECK(cg_mt_consistency(mem_get, &m, 0, 0, path, &n) == CG_EINVAL);
    CHECK(cg_mt_verify_inclusion(zero, 3, 3, NULL, 0, zero) == CG_EINVAL);
    CHECK(cg_mt_verify_inclusion(zero, 0, 0, NULL, 0, zero) == CG_EINVAL);
    CHECK(cg_mt_verify_inclusion(zero, 0, 2, NULL, 1, zero) == CG_EINVAL);
    CHECK(cg_mt_verify_inclusion(NULL, 0, 2, (cpath)path, 1, zero) == CG_EINVAL);
    CHECK(cg_mt_verify_inclusion(zero, 0, 2, (cpath)path, 1, NULL) == CG_EINVAL);
    CHECK(cg_mt_verify_inclusion(zero, 0, 2, (cpath)path, CG_MT_MAXPROOF + 1, zero) == CG_EINVAL);
    CHECK(cg_mt_verify_inclusion(zero, 0, 1, NULL, 0, zero) == 0); /* one leaf: its own root */
    CHECK(cg_mt_verify_inclusion(zero, 0, 2, NULL, 0, zero) == CG_ECORRUPT);
    CHECK(cg_mt_verify_consistency(0, 0, zero, zero, NULL, 0) == CG_EINVAL);
    CHECK(cg_mt_verify_consistency(0, 3, zero, zero, NULL, 0) == CG_EINVAL);
    CHECK(cg_mt_verify_consistency(4, 3, zero, zero, NULL, 0) == CG_EINVAL);
    CHECK(cg_mt_verify_consistency(1, 3, zero, zero, NULL, 1) == CG_EINVAL);
    CHECK(cg_mt_verify_consistency(1, 3, NULL, zero, (cpath)path, 1) == CG_EINVAL);
    CHECK(cg_mt_verify_consistency(1, 3, zero, zero, (cpath)path, CG_MT_MAXPROOF + 1) == CG_EINVAL);
    CHECK(cg_mt_verify_consistency(3, 3, zero, zero, NULL, 0) == 0);
    CHECK(cg_mt_verify_consistency(1, 3, zero, zero, NULL, 0) == CG_ECORRUPT);
    CHECK(cg_mt_frontier_load(NULL, 1, mem_get, &m) == CG_EINVAL);
    CHECK(cg_mt_frontier_append(&f, NULL, mem_put, &m) == CG_EINVAL);
    CHECK(cg_mt_frontier_root(NULL, out) == CG_EINVAL);
    mem_free(&m);
}

/* A tree of identical leaves has, at level l, one hash p[l] (p[l + 1] =
 * node(p[l], p[l])): its nodes are known up to 2^63 leaves without a store. */
typedef struct same {
    hash_t p[64];
    uint64_t bound;
    unsigned long gets, outside, bad_puts;
} same;

static int same_get(void *ctx, unsigned level, uint64_t index, uint8_t out[CG_MT_HASH])
{
    same *s = ctx;
    s->gets++;
    if (level >= 64 || index + 1 > (s->bound >> level)) {
        s->outside++;
        return CG_ENOTFOUND;
    }
    memcpy(out, s->p[level], CG_MT_HASH);
    return 0;
}

static int same_put(void *ctx, unsigned level, uint64_t index, const uint8_t h[CG_MT_HASH])
{
    same *s = ctx;
    (void)index;
    if (level >= 64 || memcmp(h, s->p[level], CG_MT_HASH))
        s->bad_puts++;
    return 0;
}

static void test_edge(void)
{
    static same s;
    const uint64_t max = CG_MT_MAXSIZE;
    memset(&s, 0, sizeof s);
    CHECK(cg_mt_leaf_hash("x", 1, s.p[0]) == 0);
    for (unsigned l = 1; l < 64; l++)
        CHECK(cg_mt_node_hash(s.p[l - 1], s.p[l - 1], s.p[l]) == 0);
    hash_t r, rm1, out;
    memcpy(rm1, s.p[0], CG_MT_HASH); /* MTH of 2^63 - 1 leaves, folded by hand */
    for (unsigned l = 1; l < 63; l++)
        CHECK(cg_mt_node_hash(s.p[l], rm1, rm1) == 0);
    s.bound = max;
    CHECK(cg_mt_root(same_get, &s, max, r) == 0 && memcmp(r, s.p[63], CG_MT_HASH) == 0);
    CHECK(cg_mt_root(same_get, &s, max - 1, out) == 0 && memcmp(out, rm1, CG_MT_HASH) == 0);
    CHECK(cg_mt_root(same_get, &s, max + 1, out) == CG_EINVAL);

    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH];
    unsigned n;
    CHECK(cg_mt_inclusion(same_get, &s, max - 1, max, path, &n) == 0);
    CHECK_EQ_U(n, 63);
    CHECK(cg_mt_verify_inclusion(s.p[0], max - 1, max, (cpath)path, n, r) == 0);
    s.bound = max - 1;
    CHECK(cg_mt_inclusion(same_get, &s, max - 2, max - 1, path, &n) == 0);
    CHECK(cg_mt_verify_inclusion(s.p[0], max - 2, max - 1, (cpath)path, n, rm1) == 0);
    CHECK(cg_mt_inclusion(same_get, &s, ((uint64_t)1 << 62) + 5, max - 1, path, &n) == 0);
    CHECK(cg_mt_verify_inclusion(s.p[0], ((uint64_t)1 << 62) + 5, max - 1, (cpath)path, n, rm1) ==
          0);
    CHECK(cg_mt_inclusion(same_get, &s, 0, max + 1, path, &n) == CG_EINVAL);
    /* the longest consistency proof there is: 64 hashes */
    s.bound = max;
    CHECK(cg_mt_consistency(same_get, &s, max - 1, max, path, &n) == 0);
    CHECK_EQ_U(n, CG_MT_MAXPROOF);
    CHECK(cg_mt_verify_consistency(max - 1, max, rm1, r, (cpath)path, n) == 0);
    CHECK(cg_mt_consistency(same_get, &s, 1, max, path, &n) == 0);
    CHECK_EQ_U(n, 63);
    CHECK(cg_mt_verify_consistency(1, max, s.p[0], r, (cpath)path, n) == 0);
    CHECK(cg_mt_consistency(same_get, &s, 3, max + 1, path, &n) == CG_EINVAL);
    /* the frontier up to the last leaf there is room for, then full */
    cg_mt_frontier f, keep;
    s.bound = max - 1;
    CHECK(cg_mt_frontier_load(&f, max - 1, same_get, &s) == 0);
    CHECK(cg_mt_frontier_root(&f, out) == 0 && memcmp(out, rm1, CG_MT_HASH) == 0);
    CHECK(cg_mt_frontier_load(&f, max + 1, same_get, &s) == CG_EINVAL);
    CHECK(cg_mt_frontier_append(&f, s.p[0], same_put, &s) == 0);
    CHECK(f.size == max);
    CHECK(cg_mt_frontier_root(&f, out) == 0 && memcmp(out, r, CG_MT_HASH) == 0);
    keep = f;
    CHECK(cg_mt_frontier_append(&f, s.p[0], same_put, &s) == CG_EFULL);
    CHECK(memcmp(&keep, &f, sizeof f) == 0);
    CHECK_EQ_U(s.bad_puts, 0);
    CHECK_EQ_U(s.outside, 0);
}

/* The kept context: every split of some bytes hashes as the whole, over and
 * over with one hasher. */
static void test_hasher(void)
{
    uint8_t data[300], want[CG_MT_HASH], got[CG_MT_HASH];
    cg_mt_hasher *h = NULL;

    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 37 + 11);
    CHECK_EQ_U(cg_mt_hasher_new(&h), 0);
    for (size_t n = 0; n <= sizeof data; n += 13) {
        CHECK_EQ_U(cg_mt_leaf_hash(data, n, want), 0);
        for (size_t a = 0; a <= n; a++) {
            CHECK_EQ_U(cg_mt_leaf_hash2(h, a ? data : NULL, a, n - a ? data + a : NULL, n - a, got),
                       0);
            CHECK(!memcmp(got, want, CG_MT_HASH));
        }
    }
    CHECK((int)cg_mt_leaf_hash2(h, NULL, 1, NULL, 0, got) == CG_EINVAL);
    CHECK((int)cg_mt_leaf_hash2(NULL, data, 1, NULL, 0, got) == CG_EINVAL);
    cg_mt_hasher_free(h);
    cg_mt_hasher_free(NULL);
}

int main(void)
{
    test_hasher();
    test_known_answers();
    test_roots();
    test_all_proofs();
    test_long_log();
    test_errors();
    test_edge();
    printf("merkle: %lu inclusion and %lu consistency proofs checked, each with its wrong "
           "variants (%lu)\n",
           nincl, ncons, nprobe);
    return check_done("merkle");
}
