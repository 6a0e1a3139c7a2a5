/* bench_merkle.c — the Merkle tree (store/merkle.h) over an in-memory node
 * array, so that the figures are the module's and OpenSSL's, not a store's.
 *
 * usage: bench_merkle [-n N] [-p P] [-v V]
 *   -n N  leaves appended (default 1000000), each the leaf hash of a 40-byte
 *         record, then
 *   -p P  inclusion proofs of random leaves of the whole tree (default 1000000)
 *         and P consistency proofs from random earlier sizes,
 *   -v V  of which V of each kind are verified (default 100000).
 * Deterministic (xorshift). The node array holds every perfect subtree
 * (2N hashes, 64 MiB for a million leaves).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensor/error.h"
#include "store/merkle.h"

typedef struct nodes {
    uint8_t *lv[64];
    uint64_t cap;
} nodes;

static int get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CG_MT_HASH])
{
    nodes *t = ctx;
    if (level >= 64 || index >= (t->cap >> level))
        return CG_ENOTFOUND;
    memcpy(out, t->lv[level] + index * CG_MT_HASH, CG_MT_HASH);
    return 0;
}

static int put_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[CG_MT_HASH])
{
    nodes *t = ctx;
    if (level >= 64 || index >= (t->cap >> level))
        return CG_ENOTFOUND;
    memcpy(t->lv[level] + index * CG_MT_HASH, h, CG_MT_HASH);
    return 0;
}

static uint64_t rs = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return rs;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_merkle: %s failed (%d)\n", what, rc);
    exit(1);
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000, np = 1000000, nv = 100000;
    int c;
    while ((c = getopt(argc, argv, "n:p:v:")) != -1) {
        switch (c) {
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 'p': np = strtoull(optarg, NULL, 10); break;
        case 'v': nv = strtoull(optarg, NULL, 10); break;
        default: fprintf(stderr, "usage: bench_merkle [-n N] [-p P] [-v V]\n"); return 2;
        }
    }
    if (n < 2 || n > ((uint64_t)1 << 32) || nv > np) {
        fprintf(stderr, "bench_merkle: -n from 2 to 2^32, -v at most -p\n");
        return 2;
    }
    nodes t = { .cap = n };
    for (unsigned l = 0; l < 64 && (n >> l); l++)
        if (!(t.lv[l] = malloc((n >> l) * CG_MT_HASH))) {
            fprintf(stderr, "bench_merkle: out of memory\n");
            return 1;
        }

    /* appends: leaf hash, node hashes, puts */
    cg_mt_frontier f;
    memset(&f, 0, sizeof f);
    uint8_t rec[40], leaf[CG_MT_HASH], root[CG_MT_HASH];
    memset(rec, 0x42, sizeof rec);
    int rc;
    double t0 = now_s();
    for (uint64_t i = 0; i < n; i++) {
        memcpy(rec, &i, sizeof i);
        if ((rc = cg_mt_leaf_hash(rec, sizeof rec, leaf)))
            die("cg_mt_leaf_hash", rc);
        if ((rc = cg_mt_frontier_append(&f, leaf, put_node, &t)))
            die("cg_mt_frontier_append", rc);
    }
    double ta = now_s() - t0;
    printf("append: %llu leaves in %.2f s: %.0f leaves/s (%.2f us each: the leaf hash, "
           "1 node hash and 2 puts on average)\n",
           (unsigned long long)n, ta, n / ta, ta / n * 1e6);

    /* roots: from the frontier, from the nodes */
    enum { ROOTS = 100000 };
    uint8_t r2[CG_MT_HASH];
    t0 = now_s();
    for (unsigned i = 0; i < ROOTS; i++)
        if ((rc = cg_mt_frontier_root(&f, root)))
            die("cg_mt_frontier_root", rc);
    double tf = now_s() - t0;
    t0 = now_s();
    for (unsigned i = 0; i < ROOTS; i++)
        if ((rc = cg_mt_root(get_node, &t, n - (rnd() % n), r2)))
            die("cg_mt_root", rc);
    double tr = now_s() - t0;
    if ((rc = cg_mt_root(get_node, &t, n, r2)) || memcmp(root, r2, CG_MT_HASH))
        die("the root from the nodes equal to the frontier's", rc);
    printf("root: %.2f us from the frontier (%d bits set), %.2f us from the nodes (random "
           "sizes)\n",
           tf / ROOTS * 1e6, __builtin_popcountll(n), tr / ROOTS * 1e6);

    /* inclusion proofs, some verified */
    static uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH];
    unsigned len;
    uint64_t hashes = 0;
    t0 = now_s();
    for (uint64_t i = 0; i < np; i++) {
        if ((rc = cg_mt_inclusion(get_node, &t, rnd() % n, n, path, &len)))
            die("cg_mt_inclusion", rc);
        hashes += len;
    }
    double tp = now_s() - t0;
    printf("inclusion: %llu proofs in %.2f s: %.0f proofs/s (%.2f us each, %.1f hashes)\n",
           (unsigned long long)np, tp, np / tp, tp / np * 1e6, (double)hashes / np);
    double tv = 0;
    for (uint64_t i = 0; i < nv; i++) {
        uint64_t idx = rnd() % n;
        if ((rc = cg_mt_inclusion(get_node, &t, idx, n, path, &len)))
            die("cg_mt_inclusion", rc);
        memcpy(leaf, t.lv[0] + idx * CG_MT_HASH, CG_MT_HASH);
        t0 = now_s();
        rc = cg_mt_verify_inclusion(leaf, idx, n, (const uint8_t(*)[CG_MT_HASH])path, len, root);
        tv += now_s() - t0;
        if (rc)
            die("cg_mt_verify_inclusion", rc);
    }
    if (nv)
        printf("  verified %llu of them: %.2f us each\n", (unsigned long long)nv, tv / nv * 1e6);

    /* consistency proofs from random earlier sizes, some verified */
    hashes = 0;
    t0 = now_s();
    for (uint64_t i = 0; i < np; i++) {
        if ((rc = cg_mt_consistency(get_node, &t, 1 + rnd() % n, n, path, &len)))
            die("cg_mt_consistency", rc);
        hashes += len;
    }
    tp = now_s() - t0;
    printf("consistency: %llu proofs in %.2f s: %.0f proofs/s (%.2f us each, %.1f hashes)\n",
           (unsigned long long)np, tp, np / tp, tp / np * 1e6, (double)hashes / np);
    tv = 0;
    for (uint64_t i = 0; i < nv; i++) {
        uint64_t old = 1 + rnd() % n;
        if ((rc = cg_mt_root(get_node, &t, old, r2)) ||
            (rc = cg_mt_consistency(get_node, &t, old, n, path, &len)))
            die("cg_mt_consistency", rc);
        t0 = now_s();
        rc = cg_mt_verify_consistency(old, n, r2, root, (const uint8_t(*)[CG_MT_HASH])path, len);
        tv += now_s() - t0;
        if (rc)
            die("cg_mt_verify_consistency", rc);
    }
    if (nv)
        printf("  verified %llu of them: %.2f us each\n", (unsigned long long)nv, tv / nv * 1e6);
    for (unsigned l = 0; l < 64; l++)
        free(t.lv[l]);
    return 0;
}
