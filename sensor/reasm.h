/* reasm.h — TCP stream reassembly: per flow and per direction, the byte
 * stream in order, handed to the consumer as pieces and/or as chunks.
 *
 * Follows RFC 9293 (TCP) for the sequence space: a SYN and a FIN each take one
 * sequence number, the first data byte is ISN+1. Sequence numbers are compared
 * as RFC 1982 serial numbers (the signed 32-bit difference), so streams cross
 * 2^32 without notice; each direction's position is kept as a 64-bit stream
 * offset (0 = the first byte after the SYN).
 *
 * Policies (one each, the same for every flow):
 *  - Overlaps and retransmissions: FIRST DATA WINS. A byte, once received
 *    (delivered, or held out of order), is kept; a later copy of it is ignored
 *    and counted (overlap_bytes), and when it differs from the kept byte while
 *    that byte is still in memory (held out of order, or in the chunk being
 *    accumulated) it is counted in conflict_bytes too.
 *  - Out of order: held, per direction, up to max_ooo_bytes and max_ooo_segs,
 *    in blocks of a pool allocated at create. When holding a new piece would
 *    pass a direction's bound, the first hole is given up: the stream skips
 *    it (a gap), what is then in order is delivered, and so on until the piece
 *    fits or is itself in order. When the pool has no block left, the piece is
 *    dropped and counted (pool_exhausted, pool_drop_bytes): the hole it leaves
 *    becomes a gap later.
 *  - Gaps: a hole is skipped when a bound is hit, at RST, and at the end of the
 *    flow (cg_reasm_end). The first data after a hole carries CG_REASM_GAP so
 *    the consumer does not match across it; no chunk ever spans a hole.
 *  - FIN: the stream ends once every byte before the FIN is in; data past the
 *    FIN is ignored (after_end_bytes). RST: both directions end at once (holes
 *    skipped, held data delivered), when its sequence number is within
 *    max_ooo_bytes of the sender's next expected one (else rst_ignored).
 *  - Depth: bytes at stream offsets >= depth (default 1 MiB, as Suricata's
 *    stream.reassembly.depth) are not delivered (depth_bytes); reaching the
 *    depth ends the direction with CG_REASM_DEPTH.
 *  - Start: a direction starts at its SYN (SYN+ACK for the server side). One
 *    seen without its SYN (a flow picked up midstream) starts at the first data
 *    seen with CG_REASM_MIDSTREAM_ACCEPT (the default), or is ignored
 *    (midstream_bytes) with CG_REASM_MIDSTREAM_IGNORE.
 *  - Window: data more than 2^30 bytes (the largest TCP window, RFC 7323) from
 *    the next expected byte cannot be placed and is dropped (window_drop_bytes).
 *
 * Delivery. Two ways, either or both (each a callback in the config):
 *  (a) on_data: every newly in-order contiguous piece, as soon as it is in
 *      order, with its stream offset: for Hyperscan's streaming mode and for
 *      protocol parsers that need every byte as it arrives. A piece is a view
 *      into the packet or into a pool block.
 *  (b) on_chunk: the in-order bytes accumulated per direction into chunks of
 *      chunk_size bytes (default 64 KiB, for block-mode scanning of large
 *      buffers), delivered when full, and early at a gap, at the end of the
 *      stream (FIN, RST, depth, cg_reasm_end) and on cg_reasm_flush. With
 *      low_latency set, the chunk is delivered at every in-order advance (each
 *      segment call that moved the stream on), bytes merged across the pieces
 *      of that advance. A chunk is never longer than chunk_size. Chunk buffers
 *      come from a pool of chunk_pool_bytes; a chunk that follows a full one
 *      starts with the last chunk_keep bytes of it (delivered twice, the
 *      chunk's offset saying so); when none is free, the buffer of
 *      the direction that appended least recently is delivered early and taken
 *      (chunk_steals) — the stolen chunk goes to that direction's owner.
 * A piece goes into its chunk (which may deliver a full one) before on_data
 * sees it, so cg_reasm_window includes it from on_data.
 * The last event of a direction that started carries CG_REASM_END or
 * CG_REASM_DEPTH (its len may be 0); nothing follows it. Events of one
 * direction come in stream order; offsets only grow, and they jump exactly
 * where CG_REASM_GAP is set.
 *
 * Lifetime of a view: cg_reasm_chunk.data is valid only until the callback
 * returns; copy what must outlive it.
 *
 * Memory: all of it is allocated at create (the block pool, the chunk pool);
 * nothing per segment. The per-flow state, cg_reasm_flow, is 64 bytes that the
 * caller embeds where it keeps the flow (the flow table's user area): all zero
 * is its initial state. It must stay at the same address from its first use to
 * cg_reasm_end, which must be called before its memory is reused (the flow
 * table's eviction callback is the place): until then it may hold blocks and a
 * chunk buffer.
 *
 * Thread: one cg_reasm per worker, used by that worker only, with the flows it
 * owns. Callbacks run inside the calls below; they must not call back into the
 * same cg_reasm.
 */
#ifndef CG_REASM_H
#define CG_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/decode.h"

/* cg_reasm_chunk.flags */
#define CG_REASM_GAP 0x01   /* bytes are missing right before this event's data */
#define CG_REASM_END 0x02   /* the stream ended (FIN reached, RST, cg_reasm_end); last event */
#define CG_REASM_DEPTH 0x04 /* the inspection depth was reached; last event */

typedef struct cg_reasm_chunk {
    const uint8_t *data; /* a view, valid until the callback returns; never NULL */
    uint32_t len;        /* 0 only on a last event */
    uint32_t flags;      /* CG_REASM_* */
    uint64_t offset;     /* stream offset of data[0] */
    int to_server;       /* 1: client->server direction, 0: server->client */
} cg_reasm_chunk;

/* owner: the pointer the caller passed with the flow (e.g. its cg_flow). */
typedef void (*cg_reasm_fn)(void *ctx, void *owner, const cg_reasm_chunk *c);

enum { CG_REASM_MIDSTREAM_ACCEPT = 0, CG_REASM_MIDSTREAM_IGNORE = 1 };

#define CG_REASM_UNLIMITED UINT64_MAX

/* A 0 field takes its default. */
typedef struct cg_reasm_config {
    uint64_t pool_bytes;       /* out-of-order block pool; default 64 MiB */
    uint32_t block_size;       /* bytes per block, 16 of them a header; default 2048, min 64 */
    uint32_t max_ooo_bytes;    /* held out of order per direction; default 256 KiB */
    uint32_t max_ooo_segs;     /* held pieces per direction; default 256, max 65535 */
    uint64_t depth;            /* per direction; default 1 MiB; CG_REASM_UNLIMITED: none */
    int midstream;             /* CG_REASM_MIDSTREAM_ACCEPT (default) or _IGNORE */
    uint32_t chunk_size;       /* default 64 KiB */
    uint32_t chunk_keep;       /* the last bytes of a full chunk that start the next
                                * one again (so that what spans the two is in one
                                * buffer); default 0, at most chunk_size / 4 */
    uint64_t chunk_pool_bytes; /* chunk buffers (unused with low_latency); default 64 MiB */
    int low_latency;           /* 1: a chunk at every in-order advance */
    cg_reasm_fn on_data;       /* (a) pieces; may be NULL */
    cg_reasm_fn on_chunk;      /* (b) chunks; may be NULL (then no chunk memory) */
    void *ctx;                 /* first argument of both callbacks */
} cg_reasm_config;

/* Per direction. Private to reasm.c; here so that callers can embed it. */
typedef struct cg_reasm_dir {
    uint64_t next_off;   /* stream offset of the next byte wanted */
    uint32_t next_seq;   /* its sequence number */
    uint32_t fin_seq;    /* the FIN's sequence number, once seen */
    uint32_t ooo;        /* first held piece: block number + 1; 0: none */
    uint32_t ooo_bytes;  /* bytes held */
    uint32_t chunk;      /* chunk buffer: number + 1; 0: none */
    uint16_t ooo_pieces; /* pieces held */
    uint8_t flags;
    uint8_t spare;
} cg_reasm_dir;

/* Both directions of a flow: [1] client->server, [0] server->client. */
typedef struct cg_reasm_flow {
    cg_reasm_dir dir[2];
} cg_reasm_flow;

/* Every byte offered is counted once: bytes == delivered + held_bytes +
 * overlap_bytes + depth_bytes + pool_drop_bytes + midstream_bytes +
 * window_drop_bytes + after_end_bytes. */
typedef struct cg_reasm_stats {
    uint64_t segments;          /* calls of cg_reasm_segment / _packet */
    uint64_t bytes;             /* payload bytes offered */
    uint64_t delivered;         /* bytes delivered in order */
    uint64_t held_bytes;        /* bytes held out of order now */
    uint64_t overlap_bytes;     /* copies of bytes already received: ignored */
    uint64_t conflict_bytes;    /* of those, bytes that differed from the kept copy */
    uint64_t depth_bytes;       /* past the depth */
    uint64_t pool_drop_bytes;   /* out of order, no block left */
    uint64_t midstream_bytes;   /* in a direction not started (MIDSTREAM_IGNORE) */
    uint64_t window_drop_bytes; /* too far from the next expected byte */
    uint64_t after_end_bytes;   /* past the FIN, or after the direction ended */
    uint64_t ooo_segments;      /* segments (or their parts) held out of order */
    uint64_t gaps, gap_bytes;   /* holes skipped, and the bytes they lacked */
    uint64_t pool_exhausted;    /* times a piece found no block */
    uint64_t rst_ignored;       /* RSTs too far from the sender's next sequence number */
    uint64_t streams_started, streams_ended; /* directions */
    uint64_t chunks, chunk_steals;
    uint32_t blocks_total, blocks_used, blocks_peak;
    uint32_t chunk_buffers, chunk_buffers_used;
    uint64_t mem_bytes; /* all memory of the cg_reasm, allocated at create */
} cg_reasm_stats;

typedef struct cg_reasm cg_reasm;

/* Builds a reassembler with cfg (NULL: all defaults, no callbacks). Returns 0,
 * or -1 (a size out of range, a pool smaller than one block, on_chunk without
 * room for one chunk buffer) or CG_ENOMEM, with *out untouched. */
int cg_reasm_create(cg_reasm **out, const cg_reasm_config *cfg);
/* Frees it all; the flows' states become meaningless. NULL is a no-op. */
void cg_reasm_destroy(cg_reasm *r);

/* One TCP segment of the flow whose state is rf, in the direction to_server:
 * its sequence number, TCP flags (CG_TH_*) and payload. Delivers what it puts
 * in order. owner is handed back to the callbacks; give the same one for the
 * whole life of the flow. */
void cg_reasm_segment(cg_reasm *r, cg_reasm_flow *rf, void *owner, int to_server, uint32_t seq,
                      uint8_t tcp_flags, const uint8_t *data, uint32_t len);

/* The same for a decoded TCP packet (one without a TCP header is ignored). A
 * payload cut by the capture length leaves a hole for its missing bytes. */
void cg_reasm_packet(cg_reasm *r, cg_reasm_flow *rf, void *owner, int to_server,
                     const cg_packet *p);

/* The bytes of the chunk being accumulated for rf in a direction (without
 * low_latency): *data (a view, valid until the next call on r), *len and the
 * stream offset of data[0]; they end at the stream's next expected byte.
 * Detection reads the bytes right before a segment from here, to match what
 * spans segments. Returns 0, or -1 when nothing is accumulated (no chunk, a
 * chunk just delivered, a hole just skipped). */
int cg_reasm_window(const cg_reasm *r, const cg_reasm_flow *rf, int to_server, const uint8_t **data,
                    uint32_t *len, uint64_t *offset);

/* 1 when a direction's stream started at its SYN, so that its offset 0 is
 * the first byte the side sent (0: picked up midstream, or not started). */
int cg_reasm_from_start(const cg_reasm_flow *rf, int to_server);

/* The stream offset of the next byte wanted in a direction (0 before any). */
uint64_t cg_reasm_next_offset(const cg_reasm_flow *rf, int to_server);

/* Delivers the chunks being accumulated for rf now (no flag), and gives their
 * buffers back. Holes stay. */
void cg_reasm_flush(cg_reasm *r, cg_reasm_flow *rf, void *owner);

/* The flow is over: in each started direction, holes are skipped, held data is
 * delivered, and the last event (CG_REASM_END) is delivered; every block and
 * buffer of rf goes back to the pools. rf must be zeroed again before it
 * serves another flow (the flow table zeroes a new flow's user area). */
void cg_reasm_end(cg_reasm *r, cg_reasm_flow *rf, void *owner);

void cg_reasm_get_stats(const cg_reasm *r, cg_reasm_stats *out);

/* A running total of the bytes offered that the stream did not take as they
 * came: past the depth, dropped (pool, window, midstream, after the end), or
 * copies that differed from the kept bytes. A segment call that leaves it
 * unchanged put all of its bytes in the stream (in order, held, or as exact
 * copies of bytes already there). */
uint64_t cg_reasm_untaken(const cg_reasm *r);

/* Checks the pools' invariants (reasm.c): every block handed out or on the
 * free list, every chunk slot free or held by the direction that names it,
 * the counts. 0 when they hold, -1 when not. Walks the pools: for tests
 * (CG_INVARIANTS runs it every CG_INVARIANT_EVERY segments). */
int cg_reasm_check(const cg_reasm *r);
/* Checks one direction's invariants 1 to 3 (reasm.c): its held pieces sorted,
 * apart and not deliverable, their counts, its chunk's bytes ending at
 * next_off. 0 or -1 (CG_INVARIANTS runs it at each of its segments). */
int cg_reasm_check_dir(const cg_reasm *r, const cg_reasm_dir *d);

#endif
