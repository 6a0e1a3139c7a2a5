/* merkle.h — an append-only Merkle tree hashed as RFC 9162 §2.1 (Certificate
 * Transparency v2): roots, inclusion and consistency proofs, their
 * verification, and appends in O(log n). Meant as the store's tamper-evident
 * log: what the tree keeps is a callback's business (LMDB in the store, an
 * array in the tests), the module holds no state and allocates nothing.
 *
 * Hashing (RFC 9162 §2.1.1), SHA-256 through OpenSSL:
 *   leaf hash   SHA-256(0x00 || data)
 *   node hash   SHA-256(0x01 || left || right)
 *   MTH({})     SHA-256("")  (the empty tree)
 *   MTH(D[n])   node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
 *
 * Nodes. Node (level, index) is the hash of the PERFECT subtree of the 2^level
 * leaves [index * 2^level, (index + 1) * 2^level); level 0 holds the leaf
 * hashes. The tree of n leaves has node (l, i) exactly when (i + 1) * 2^l <= n,
 * and an append only adds nodes: a node of the tree of n leaves is the same
 * node in every larger tree, so the nodes of today's tree answer for every
 * earlier size too. A tree that is not perfect has no node for its root (nor
 * for any subtree that crosses its right edge): those hashes are computed,
 * from at most 64 nodes, when asked for.
 *
 *   level 2   (2,0)
 *   level 1   (1,0)          (1,1)          (1,2)
 *   level 0   (0,0) (0,1)    (0,2) (0,3)    (0,4) (0,5)    (0,6)      a tree of 7 leaves
 *
 * Callbacks. get(ctx, level, index, out) writes node (level, index) and returns
 * 0, or returns a negative code (the store's CG_EIO, CG_ENOTFOUND, ...), which
 * the function that called it returns as it is. The functions ask only for
 * nodes the tree of the size they were given has. put(ctx, level, index, h)
 * stores a node the same way.
 *
 * Sizes go up to CG_MT_MAXSIZE (2^63) leaves: every proof of such a tree fits
 * in CG_MT_MAXPROOF hashes (an inclusion proof has at most 63, a consistency
 * proof at most 64).
 *
 * Errors (sensor/error.h): CG_EINVAL for bad arguments (a NULL pointer, a size
 * over CG_MT_MAXSIZE, an index not below the size, a proof longer than
 * CG_MT_MAXPROOF, ...), CG_ECORRUPT for a proof that does not hold, CG_ENOMEM
 * when OpenSSL could not hash (out of memory), CG_EFULL for an append to a tree
 * of CG_MT_MAXSIZE leaves, or what get or put returned. Output parameters are
 * written only on success.
 *
 * Threads: no state of its own; any thread may call any function, with
 * callbacks that are safe where they are called.
 *
 * Caveat: a proof is checked against the sizes and roots the caller gives. A
 * verifier that takes a size from the same source as the proof proves little:
 * the size and root come from a signed or otherwise trusted tree head.
 */
#ifndef CG_MERKLE_H
#define CG_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define CG_MT_HASH 32
#define CG_MT_MAXPROOF 64
#define CG_MT_MAXSIZE ((uint64_t)1 << 63)

typedef int (*cg_mt_get)(void *ctx, unsigned level, uint64_t index, uint8_t out[CG_MT_HASH]);
typedef int (*cg_mt_put)(void *ctx, unsigned level, uint64_t index, const uint8_t h[CG_MT_HASH]);

/* The leaf hash of n bytes of data (data may be NULL when n is 0): 0, or
 * CG_EINVAL or CG_ENOMEM with out untouched. */
int cg_mt_leaf_hash(const void *data, size_t n, uint8_t out[CG_MT_HASH]);

/* A SHA-256 context kept for many leaf hashes (no allocation per hash), for
 * a writer that hashes a leaf per record. One thread at a time. */
typedef struct cg_mt_hasher cg_mt_hasher;
int cg_mt_hasher_new(cg_mt_hasher **out); /* 0 or CG_ENOMEM */
void cg_mt_hasher_free(cg_mt_hasher *h);  /* NULL is fine */
/* The leaf hash of the bytes a[0..na) then b[0..nb) (either NULL when its
 * length is 0), as cg_mt_leaf_hash of their concatenation: 0, or CG_EINVAL
 * or CG_ENOMEM with out untouched. */
int cg_mt_leaf_hash2(cg_mt_hasher *h, const void *a, size_t na, const void *b, size_t nb,
                     uint8_t out[CG_MT_HASH]);

/* The node hash of two children; out may be l or r: 0, or CG_EINVAL or
 * CG_ENOMEM with out untouched. */
int cg_mt_node_hash(const uint8_t l[CG_MT_HASH], const uint8_t r[CG_MT_HASH],
                    uint8_t out[CG_MT_HASH]);

/* MTH of the first size leaves (0 to CG_MT_MAXSIZE): one get for each bit set
 * in size, nothing for size 0 (the empty tree's hash). */
int cg_mt_root(cg_mt_get get, void *ctx, uint64_t size, uint8_t out[CG_MT_HASH]);

/* The inclusion proof of leaf index in the tree of size leaves (RFC 9162
 * §2.1.3.1): *n hashes (0 for a tree of one leaf), in the RFC's order, from the
 * leaf's sibling up to the root's child. CG_EINVAL when index >= size. At most
 * 2 * ceil(log2(size)) gets. */
int cg_mt_inclusion(cg_mt_get get, void *ctx, uint64_t index, uint64_t size,
                    uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH], unsigned *n);

/* The consistency proof between the trees of old and size leaves (RFC 9162
 * §2.1.4.1), 1 <= old <= size: *n hashes in the RFC's order, none when old ==
 * size. CG_EINVAL for old 0 or over size. At most 2 * ceil(log2(size)) + 1
 * gets. */
int cg_mt_consistency(cg_mt_get get, void *ctx, uint64_t old, uint64_t size,
                      uint8_t path[CG_MT_MAXPROOF][CG_MT_HASH], unsigned *n);

/* RFC 9162 §2.1.3.2: 0 when the n hashes of path prove that leaf (a leaf hash)
 * is leaf index of the tree of size leaves whose root is root; CG_ECORRUPT
 * when they do not; CG_EINVAL when index >= size, n > CG_MT_MAXPROOF or a
 * pointer is NULL (path may be NULL when n is 0). */
int cg_mt_verify_inclusion(const uint8_t leaf[CG_MT_HASH], uint64_t index, uint64_t size,
                           const uint8_t (*path)[CG_MT_HASH], unsigned n,
                           const uint8_t root[CG_MT_HASH]);

/* RFC 9162 §2.1.4.2: 0 when the n hashes of path prove that the tree of old
 * leaves whose root is old_root is the first old leaves of the tree of size
 * leaves whose root is root; CG_ECORRUPT when they do not; CG_EINVAL for old 0,
 * old > size, n > CG_MT_MAXPROOF or a NULL pointer. old == size holds with no
 * hash and equal roots (SUBPROOF(m, D[m], true) is empty; the RFC's procedure
 * itself starts from a proof of at least one hash). */
int cg_mt_verify_consistency(uint64_t old, uint64_t size, const uint8_t old_root[CG_MT_HASH],
                             const uint8_t root[CG_MT_HASH], const uint8_t (*path)[CG_MT_HASH],
                             unsigned n);

/* The right edge of the tree: what an append needs, so that it reads nothing.
 * h[l] is node (l, (size >> l) - 1), the perfect subtree of 2^l leaves, when
 * bit l of size is set, and all zero when it is not (so two frontiers of the
 * same tree compare equal with memcmp). A zeroed struct is the empty tree. */
typedef struct cg_mt_frontier {
    uint64_t size;
    uint8_t h[64][CG_MT_HASH];
} cg_mt_frontier;

/* The frontier of the tree of size leaves, from its nodes: one get for each bit
 * set in size. */
int cg_mt_frontier_load(cg_mt_frontier *f, uint64_t size, cg_mt_get get, void *ctx);

/* Appends a leaf hash as leaf f->size: puts node (0, f->size), then every node
 * the append completes, lowest first (as many as the trailing one bits of
 * f->size); then updates f. On an error (put's, CG_ENOMEM, CG_EFULL when the
 * tree has CG_MT_MAXSIZE leaves) f is unchanged, and the puts already made are
 * the caller's to discard (the store aborts its transaction). */
int cg_mt_frontier_append(cg_mt_frontier *f, const uint8_t leaf[CG_MT_HASH], cg_mt_put put,
                          void *ctx);

/* MTH of the tree f holds, from f alone. */
int cg_mt_frontier_root(const cg_mt_frontier *f, uint8_t out[CG_MT_HASH]);

#endif
