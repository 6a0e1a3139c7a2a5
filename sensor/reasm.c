/* reasm.c — TCP stream reassembly (see reasm.h for the contract, the
 * policies and the sequence-number rules, RFC 9293 and RFC 1982).
 *
 * Layout:
 *  - The block pool: nblocks blocks of block_size bytes, each a piece header
 *    (stream offset, length, next block) followed by up to cap data bytes.
 *    Blocks are handed out from a free list, then from never-used ones (so
 *    pages are touched only when first needed).
 *  - The chunk pool: nslots buffers of chunk_size bytes and their slots; a
 *    slot in use records its holder (direction, owner), the stream offset of
 *    its first byte and its fill; holders are on an LRU list, the least
 *    recently appended first, which is the one a steal takes.
 *  - Low latency: one scratch buffer; the emitter merges the pieces of one
 *    advance and delivers them when the call ends (or at a gap or the end).
 *
 * Invariants, per direction d (cg_reasm_check_dir checks 1 to 3, and
 * cg_reasm_check the pools; test builds run them as segments come):
 *  1. Held pieces are sorted by offset, do not overlap, and all lie in
 *     (next_off, depth) and before the FIN; between calls none starts at
 *     next_off (it would have been delivered).
 *  2. ooo_bytes and ooo_pieces are the sums over the held pieces; the pool's
 *     blocks_used is the sum of ooo_pieces over all directions.
 *  3. d->chunk != 0 iff a chunk slot's holder is d; its bytes are the stream
 *     bytes [off, off + fill), and off + fill == next_off (everything delivered
 *     is appended), so retransmitted bytes can be compared against them.
 *  4. Every byte offered is counted once (see cg_reasm_stats).
 *  5. Once D_ENDED, d holds nothing, and nothing more is delivered for it.
 *  6. Nothing here allocates after cg_reasm_create.
 */
#include "sensor/reasm.h"

#include <stdlib.h>
#include <string.h>

#include "sensor/error.h"
#include "sensor/invariant.h"

#define HDR 16u
#define WINDOW (1 << 30)
#define NONE 0u

/* cg_reasm_dir.flags */
#define D_STARTED 0x01
#define D_FIN 0x02 /* fin_seq is known */
#define D_ENDED 0x04
#define D_GAP 0x08   /* a hole precedes the next byte delivered */
#define D_DEPTH 0x10 /* ended at the depth */
#define D_SYN 0x20   /* started at its SYN: offset 0 is the first byte sent */

typedef struct piece {
    uint64_t off;
    uint32_t len;
    uint32_t next; /* block number + 1 */
} piece;

typedef struct cslot {
    cg_reasm_dir *d; /* holder; NULL when free */
    void *owner;
    uint64_t off;
    uint32_t fill;
    uint32_t prev, next; /* holders' LRU, or the free list (next); number + 1 */
    uint8_t flags;       /* CG_REASM_GAP when a hole precedes byte 0 */
    uint8_t to_server;
} cslot;

typedef struct emitter {
    int active, to_server;
    void *owner;
    const uint8_t *view; /* one piece of the caller's packet, not yet copied */
    uint32_t vlen;
    uint32_t slen;  /* bytes in scratch */
    uint64_t off;   /* stream offset of the first byte not yet emitted */
    uint32_t flags; /* for the next chunk emitted */
} emitter;

struct cg_reasm {
    cg_reasm_config cfg; /* defaults filled in */
    unsigned char *blocks;
    uint32_t nblocks, cap; /* cap: data bytes per block */
    uint32_t free_block;   /* free list, number + 1 */
    uint32_t fresh;        /* blocks never used: numbers fresh+1 .. nblocks */
    unsigned char *cmem;
    cslot *slots;
    uint32_t nslots, free_slot, lru_head, lru_tail;
    unsigned char *scratch;
    emitter em;
    cg_reasm_stats st;
    uint32_t ops; /* segments, for CG_INVARIANT_SOMETIMES */
};

static const uint8_t empty[1];

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* ---- pools --------------------------------------------------------------- */

static piece *pc(const cg_reasm *r, uint32_t b)
{
    return (piece *)(r->blocks + (size_t)(b - 1) * r->cfg.block_size);
}

static uint8_t *pdata(piece *p)
{
    return (uint8_t *)p + HDR;
}

static uint32_t blocks_free(const cg_reasm *r)
{
    return r->nblocks - r->st.blocks_used;
}

static uint32_t block_alloc(cg_reasm *r)
{
    uint32_t b;
    if (r->free_block != NONE) {
        b = r->free_block;
        r->free_block = pc(r, b)->next;
    } else {
        b = ++r->fresh;
    }
    if (++r->st.blocks_used > r->st.blocks_peak)
        r->st.blocks_peak = r->st.blocks_used;
    return b;
}

static void block_free(cg_reasm *r, uint32_t b)
{
    pc(r, b)->next = r->free_block;
    r->free_block = b;
    r->st.blocks_used--;
}

static cslot *slot(const cg_reasm *r, uint32_t n)
{
    return &r->slots[n - 1];
}

static unsigned char *sbuf(const cg_reasm *r, uint32_t n)
{
    return r->cmem + (size_t)(n - 1) * r->cfg.chunk_size;
}

static void lru_unlink(cg_reasm *r, uint32_t n)
{
    cslot *c = slot(r, n);
    if (c->prev)
        slot(r, c->prev)->next = c->next;
    else
        r->lru_head = c->next;
    if (c->next)
        slot(r, c->next)->prev = c->prev;
    else
        r->lru_tail = c->prev;
}

static void lru_push_tail(cg_reasm *r, uint32_t n)
{
    cslot *c = slot(r, n);
    c->next = NONE;
    c->prev = r->lru_tail;
    if (r->lru_tail)
        slot(r, r->lru_tail)->next = n;
    else
        r->lru_head = n;
    r->lru_tail = n;
}

/* ---- emitting ------------------------------------------------------------ */

static void emit(cg_reasm *r, void *owner, int to_server, const uint8_t *p, uint32_t n,
                 uint64_t off, uint32_t flags)
{
    cg_reasm_chunk c = { .data = p ? p : empty,
                         .len = n,
                         .flags = flags,
                         .offset = off,
                         .to_server = to_server };
    r->st.chunks++;
    r->cfg.on_chunk(r->cfg.ctx, owner, &c);
}

/* Delivers slot n's bytes (with extra flags) and frees the slot. */
static void slot_release(cg_reasm *r, uint32_t n, uint32_t extra)
{
    cslot *c = slot(r, n);
    if (c->fill || extra)
        emit(r, c->owner, c->to_server, sbuf(r, n), c->fill, c->off, c->flags | extra);
    c->d->chunk = NONE;
    c->d = NULL;
    lru_unlink(r, n);
    c->next = r->free_slot;
    r->free_slot = n;
    r->st.chunk_buffers_used--;
}

/* A chunk slot for d, whose next byte is at off: a free one, else the least
 * recently appended one, delivered first. */
static cslot *slot_take(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, uint64_t off,
                        uint32_t flags)
{
    if (r->free_slot == NONE) {
        r->st.chunk_steals++;
        slot_release(r, r->lru_head, 0);
    }
    uint32_t n = r->free_slot;
    cslot *c = slot(r, n);
    r->free_slot = c->next;
    c->d = d;
    c->owner = owner;
    c->off = off;
    c->fill = 0;
    c->flags = (uint8_t)flags;
    c->to_server = (uint8_t)to_server;
    lru_push_tail(r, n);
    d->chunk = n;
    r->st.chunk_buffers_used++;
    return c;
}

static void chunk_append(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, const uint8_t *p,
                         uint32_t n, uint64_t off, uint32_t flags)
{
    uint32_t cs = r->cfg.chunk_size;
    cslot *c;
    if (d->chunk == NONE) {
        c = slot_take(r, d, owner, to_server, off, flags);
    } else {
        c = slot(r, d->chunk);
        lru_unlink(r, d->chunk);
        lru_push_tail(r, d->chunk);
    }
    unsigned char *buf = sbuf(r, d->chunk);
    while (n) {
        if (c->fill == cs) { /* full chunks go out when more bytes come */
            uint32_t keep = r->cfg.chunk_keep;
            emit(r, c->owner, c->to_server, buf, cs, c->off, c->flags);
            memmove(buf, buf + cs - keep, keep);
            c->off += cs - keep;
            c->fill = keep; /* more bytes follow in this call */
            c->flags = 0;
        }
        uint32_t k = n < cs - c->fill ? n : cs - c->fill;
        memcpy(buf + c->fill, p, k);
        c->fill += k;
        p += k;
        n -= k;
    }
}

/* Low latency: scratch bytes, emitted in chunk_size pieces. */
static void em_copy(cg_reasm *r, const uint8_t *p, uint32_t n)
{
    emitter *em = &r->em;
    uint32_t cs = r->cfg.chunk_size;
    while (n) {
        if (em->slen == cs) {
            emit(r, em->owner, em->to_server, r->scratch, cs, em->off, em->flags);
            em->off += cs;
            em->flags = 0;
            em->slen = 0;
        }
        uint32_t k = n < cs - em->slen ? n : cs - em->slen;
        memcpy(r->scratch + em->slen, p, k);
        em->slen += k;
        p += k;
        n -= k;
    }
}

/* Ends the current advance: its bytes go out, the last event with extra. */
static void em_flush(cg_reasm *r, uint32_t extra)
{
    emitter *em = &r->em;
    if (!em->active)
        return;
    if (em->view) {
        const uint8_t *p = em->view;
        uint32_t n = em->vlen, cs = r->cfg.chunk_size;
        while (n > cs) {
            emit(r, em->owner, em->to_server, p, cs, em->off, em->flags);
            em->off += cs;
            em->flags = 0;
            p += cs;
            n -= cs;
        }
        emit(r, em->owner, em->to_server, p, n, em->off, em->flags | extra);
    } else {
        emit(r, em->owner, em->to_server, r->scratch, em->slen, em->off, em->flags | extra);
    }
    em->active = 0;
    em->view = NULL;
}

/* stable: p is the caller's packet, valid for the whole call (a pool block
 * may be reused within it, so its bytes are copied at once). */
static void em_add(cg_reasm *r, void *owner, int to_server, const uint8_t *p, uint32_t n,
                   uint64_t off, uint32_t flags, int stable)
{
    emitter *em = &r->em;
    if (em->active && em->to_server != to_server)
        em_flush(r, 0);
    if (!em->active) {
        em->active = 1;
        em->to_server = to_server;
        em->owner = owner;
        em->off = off;
        em->flags = flags;
        em->slen = 0;
        em->view = NULL;
        if (stable) {
            em->view = p;
            em->vlen = n;
            return;
        }
    } else if (em->view) {
        const uint8_t *v = em->view;
        em->view = NULL;
        em_copy(r, v, em->vlen);
    }
    em_copy(r, p, n);
}

/* Delivers what d has accumulated so far, before a hole. */
static void chunk_break(cg_reasm *r, cg_reasm_dir *d)
{
    if (!r->cfg.on_chunk)
        return;
    if (r->cfg.low_latency)
        em_flush(r, 0);
    else if (d->chunk != NONE)
        slot_release(r, d->chunk, 0);
}

/* ---- the stream ---------------------------------------------------------- */

static void free_held(cg_reasm *r, cg_reasm_dir *d)
{
    while (d->ooo != NONE) {
        uint32_t b = d->ooo;
        piece *P = pc(r, b);
        d->ooo = P->next;
        r->st.after_end_bytes += P->len;
        r->st.held_bytes -= P->len;
        block_free(r, b);
    }
    d->ooo_bytes = 0;
    d->ooo_pieces = 0;
}

/* The last event of d: how is CG_REASM_END or CG_REASM_DEPTH (invariant 5). */
static void finish(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, uint32_t how)
{
    uint32_t fl = how | ((d->flags & D_GAP) ? CG_REASM_GAP : 0);
    d->flags = (uint8_t)((d->flags & ~D_GAP) | D_ENDED | (how == CG_REASM_DEPTH ? D_DEPTH : 0));
    if (r->cfg.on_data) {
        cg_reasm_chunk c = { .data = empty,
                             .len = 0,
                             .flags = fl,
                             .offset = d->next_off,
                             .to_server = to_server };
        r->cfg.on_data(r->cfg.ctx, owner, &c);
    }
    if (r->cfg.on_chunk) {
        if (r->cfg.low_latency) {
            if (r->em.active && r->em.to_server == to_server) {
                em_flush(r, fl);
            } else {
                em_flush(r, 0);
                emit(r, owner, to_server, NULL, 0, d->next_off, fl);
            }
        } else if (d->chunk != NONE) {
            slot_release(r, d->chunk, fl);
        } else {
            emit(r, owner, to_server, NULL, 0, d->next_off, fl);
        }
    }
    free_held(r, d);
    r->st.streams_ended++;
}

/* Ends d when it reached its depth or its FIN. 1 when it did. */
static int check_end(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server)
{
    if (r->cfg.depth != CG_REASM_UNLIMITED && d->next_off >= r->cfg.depth) {
        finish(r, d, owner, to_server, CG_REASM_DEPTH);
        return 1;
    }
    if ((d->flags & D_FIN) && d->next_seq == d->fin_seq) {
        finish(r, d, owner, to_server, CG_REASM_END);
        return 1;
    }
    return 0;
}

/* Hands n in-order bytes at next_off to the consumer. 1 when d ended. */
static int deliver(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, const uint8_t *p,
                   uint32_t n, int stable)
{
    uint32_t flags = (d->flags & D_GAP) ? CG_REASM_GAP : 0;
    d->flags &= (uint8_t)~D_GAP;
    /* the chunk first, so that the piece is in the window when on_data runs */
    if (r->cfg.on_chunk) {
        if (r->cfg.low_latency)
            em_add(r, owner, to_server, p, n, d->next_off, flags, stable);
        else
            chunk_append(r, d, owner, to_server, p, n, d->next_off, flags);
    }
    if (r->cfg.on_data) {
        cg_reasm_chunk c = { .data = p,
                             .len = n,
                             .flags = flags,
                             .offset = d->next_off,
                             .to_server = to_server };
        r->cfg.on_data(r->cfg.ctx, owner, &c);
    }
    d->next_off += n;
    d->next_seq += n;
    r->st.delivered += n;
    return check_end(r, d, owner, to_server);
}

/* Gives up the bytes before target: a gap. */
static void gap_skip(cg_reasm *r, cg_reasm_dir *d, uint64_t target)
{
    if (target <= d->next_off)
        return;
    r->st.gaps++;
    r->st.gap_bytes += target - d->next_off;
    chunk_break(r, d);
    d->next_seq += (uint32_t)(target - d->next_off);
    d->next_off = target;
    d->flags |= D_GAP;
}

/* Delivers the held pieces that are now in order and end at or before limit.
 * Returns how many, or -1 when d ended. */
static int pop_ready(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, uint64_t limit)
{
    int n = 0;
    while (d->ooo != NONE) {
        uint32_t b = d->ooo;
        piece *P = pc(r, b);
        if (P->off != d->next_off || P->off + P->len > limit)
            break;
        d->ooo = P->next;
        d->ooo_bytes -= P->len;
        d->ooo_pieces--;
        r->st.held_bytes -= P->len;
        int ended = deliver(r, d, owner, to_server, pdata(P), P->len, 0);
        block_free(r, b);
        if (ended)
            return -1;
        n++;
    }
    return n;
}

/* Counts n bytes at stream offset s that were already received, comparing
 * those still in d's chunk with it (first data wins either way). */
static void old_bytes(cg_reasm *r, cg_reasm_dir *d, int64_t s, const uint8_t *p, uint32_t n)
{
    r->st.overlap_bytes += n;
    if (d->chunk == NONE || r->cfg.low_latency)
        return;
    const cslot *c = slot(r, d->chunk);
    const unsigned char *buf = sbuf(r, d->chunk);
    int64_t a = s > (int64_t)c->off ? s : (int64_t)c->off;
    int64_t e = s + n, ce = (int64_t)(c->off + c->fill);
    for (int64_t i = a; i < (e < ce ? e : ce); i++)
        if (p[i - s] != buf[i - (int64_t)c->off])
            r->st.conflict_bytes++;
}

static void compare_held(cg_reasm *r, const uint8_t *a, const uint8_t *b, uint64_t n)
{
    r->st.overlap_bytes += n;
    for (uint64_t i = 0; i < n; i++)
        if (a[i] != b[i])
            r->st.conflict_bytes++;
}

/* Holds the n bytes at stream offset cur (in a hole of d, after next_off),
 * linked in at *linkp. When d's bounds do not leave room, the first hole is
 * given up, until the bytes fit or are in order. Returns 0 (held, or dropped
 * for want of blocks), 1 (in order now: the caller delivers them) or -1 (d
 * ended). */
static int store(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, uint32_t **linkp,
                 uint64_t cur, const uint8_t *p, uint32_t n)
{
    uint32_t need = (n + r->cap - 1) / r->cap;
    while (d->ooo_bytes + (uint64_t)n > r->cfg.max_ooo_bytes ||
           d->ooo_pieces + (uint64_t)need > r->cfg.max_ooo_segs) {
        uint64_t target = cur; /* > next_off: every turn moves the stream on */
        if (d->ooo != NONE && pc(r, d->ooo)->off < cur && pc(r, d->ooo)->off > d->next_off)
            target = pc(r, d->ooo)->off;
        gap_skip(r, d, target);
        if (pop_ready(r, d, owner, to_server, cur) < 0)
            return -1;
        *linkp = &d->ooo;
        if (d->next_off == cur)
            return 1;
    }
    if (blocks_free(r) < need) {
        r->st.pool_exhausted++;
        r->st.pool_drop_bytes += n;
        return 0;
    }
    uint32_t *link = *linkp;
    while (*link != NONE && pc(r, *link)->off < cur)
        link = &pc(r, *link)->next;
    d->ooo_bytes += n;
    d->ooo_pieces = (uint16_t)(d->ooo_pieces + need);
    r->st.held_bytes += n;
    r->st.ooo_segments++;
    while (n) {
        uint32_t k = n < r->cap ? n : r->cap;
        uint32_t b = block_alloc(r);
        piece *P = pc(r, b);
        P->off = cur;
        P->len = k;
        memcpy(pdata(P), p, k);
        P->next = *link;
        *link = b;
        link = &P->next;
        cur += k;
        p += k;
        n -= k;
    }
    *linkp = link;
    return 0;
}

/* The new bytes [s, e) of d (s >= next_off; p holds byte s): the parts that
 * fill holes are delivered (when in order) or held, the parts over held bytes
 * are compared and ignored (first data wins). */
static void insert(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, uint64_t s,
                   const uint8_t *p, uint64_t e)
{
    uint64_t cur = s;
    uint32_t *link = &d->ooo;
    for (;;) {
        if (d->ooo != NONE) {
            int n = pop_ready(r, d, owner, to_server, cur < e ? cur : UINT64_MAX);
            if (n < 0)
                return;
            if (n > 0)
                link = &d->ooo;
        }
        if (cur >= e)
            return;
        while (*link != NONE && pc(r, *link)->off + pc(r, *link)->len <= cur)
            link = &pc(r, *link)->next;
        piece *P = *link != NONE ? pc(r, *link) : NULL;
        if (P && P->off <= cur) {
            uint64_t oe = min64(e, P->off + P->len);
            compare_held(r, p + (cur - s), pdata(P) + (cur - P->off), oe - cur);
            cur = oe;
            continue;
        }
        uint64_t he = P ? min64(e, P->off) : e;
        if (cur != d->next_off) {
            int rc = store(r, d, owner, to_server, &link, cur, p + (cur - s), (uint32_t)(he - cur));
            if (rc < 0)
                return;
            if (rc == 0) {
                cur = he;
                continue;
            }
        }
        if (deliver(r, d, owner, to_server, p + (cur - s), (uint32_t)(he - cur), 1))
            return;
        cur = he;
    }
}

/* Payload of a started, open direction. */
static void data_in(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, uint32_t seq,
                    const uint8_t *p, uint32_t len)
{
    int32_t delta = (int32_t)(seq - d->next_seq);
    if (delta >= WINDOW || delta <= -WINDOW) {
        r->st.window_drop_bytes += len;
        return;
    }
    int64_t s = (int64_t)d->next_off + delta, e = s + len;
    if (e <= (int64_t)d->next_off) {
        old_bytes(r, d, s, p, len);
        return;
    }
    if (s < (int64_t)d->next_off) {
        uint32_t k = (uint32_t)((int64_t)d->next_off - s);
        old_bytes(r, d, s, p, k);
        p += k;
        s = (int64_t)d->next_off;
    }
    uint64_t us = (uint64_t)s, ue = (uint64_t)e;
    if (r->cfg.depth != CG_REASM_UNLIMITED && ue > r->cfg.depth) {
        uint64_t from = us > r->cfg.depth ? us : r->cfg.depth;
        r->st.depth_bytes += ue - from;
        ue = from;
    }
    if (d->flags & D_FIN) {
        uint64_t fin = d->next_off + (uint32_t)(d->fin_seq - d->next_seq);
        if (ue > fin) {
            uint64_t from = us > fin ? us : fin;
            r->st.after_end_bytes += ue - from;
            ue = from;
        }
    }
    if (us < ue)
        insert(r, d, owner, to_server, us, p, ue);
}

/* Drops what d holds at or past stream offset limit. */
static void trim_held(cg_reasm *r, cg_reasm_dir *d, uint64_t limit)
{
    uint32_t *link = &d->ooo;
    while (*link != NONE) {
        uint32_t b = *link;
        piece *P = pc(r, b);
        if (P->off >= limit) {
            *link = P->next;
            d->ooo_bytes -= P->len;
            d->ooo_pieces--;
            r->st.held_bytes -= P->len;
            r->st.after_end_bytes += P->len;
            block_free(r, b);
            continue;
        }
        if (P->off + P->len > limit) {
            uint32_t cut = (uint32_t)(P->off + P->len - limit);
            P->len -= cut;
            d->ooo_bytes -= cut;
            r->st.held_bytes -= cut;
            r->st.after_end_bytes += cut;
        }
        link = &P->next;
    }
}

/* The FIN of d takes sequence number fin_seq (the first FIN seen counts). */
static void fin_in(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server, uint32_t fin_seq)
{
    if (d->flags & D_FIN)
        return;
    int32_t delta = (int32_t)(fin_seq - d->next_seq);
    if (delta >= WINDOW || delta <= -WINDOW)
        return;
    if (delta < 0) { /* before bytes already delivered: the end is here */
        delta = 0;
        fin_seq = d->next_seq;
    }
    trim_held(r, d, d->next_off + (uint64_t)delta);
    d->fin_seq = fin_seq;
    d->flags |= D_FIN;
    check_end(r, d, owner, to_server);
}

/* Ends d: holes skipped, held data delivered, then the last event. */
static void end_dir(cg_reasm *r, cg_reasm_dir *d, void *owner, int to_server)
{
    if (!(d->flags & D_STARTED) || (d->flags & D_ENDED))
        return;
    while (d->ooo != NONE) {
        gap_skip(r, d, pc(r, d->ooo)->off);
        if (pop_ready(r, d, owner, to_server, UINT64_MAX) < 0)
            return;
    }
    if ((d->flags & D_FIN) && d->next_seq != d->fin_seq) {
        uint64_t target = d->next_off + (uint32_t)(d->fin_seq - d->next_seq);
        if (r->cfg.depth != CG_REASM_UNLIMITED && target > r->cfg.depth)
            target = r->cfg.depth;
        gap_skip(r, d, target);
    }
    if (!check_end(r, d, owner, to_server))
        finish(r, d, owner, to_server, CG_REASM_END);
}

static void start(cg_reasm *r, cg_reasm_dir *d, uint32_t seq)
{
    d->next_seq = seq;
    d->next_off = 0;
    d->flags |= D_STARTED;
    r->st.streams_started++;
}

void cg_reasm_segment(cg_reasm *r, cg_reasm_flow *rf, void *owner, int to_server, uint32_t seq,
                      uint8_t tcp_flags, const uint8_t *data, uint32_t len)
{
    if (!r || !rf)
        return;
    if (!data)
        len = 0;
    int ts = to_server ? 1 : 0;
    cg_reasm_dir *d = &rf->dir[ts];
    CG_INVARIANT(cg_reasm_check_dir(r, d) == 0);
    CG_INVARIANT_SOMETIMES(r->ops, cg_reasm_check(r) == 0);
    r->st.segments++;
    r->st.bytes += len;

    if (!(d->flags & D_STARTED)) {
        if (tcp_flags & CG_TH_SYN) {
            start(r, d, seq + 1);
            d->flags |= D_SYN;
        } else if (len && r->cfg.midstream == CG_REASM_MIDSTREAM_ACCEPT && !(tcp_flags & CG_TH_RST))
            start(r, d, seq);
    }
    if (!(d->flags & D_STARTED)) {
        r->st.midstream_bytes += len;
    } else if (d->flags & D_ENDED) {
        if (d->flags & D_DEPTH)
            r->st.depth_bytes += len;
        else
            r->st.after_end_bytes += len;
    } else {
        if (tcp_flags & CG_TH_SYN)
            seq += 1; /* data on a SYN follows the SYN's own number */
        if (len)
            data_in(r, d, owner, ts, seq, data, len);
        if ((tcp_flags & CG_TH_FIN) && !(d->flags & D_ENDED))
            fin_in(r, d, owner, ts, seq + len);
    }
    if (tcp_flags & CG_TH_RST) {
        int ok = 1;
        if ((d->flags & D_STARTED) && !(d->flags & D_ENDED)) {
            int32_t delta = (int32_t)(seq - d->next_seq);
            int32_t w = (int32_t)(r->cfg.max_ooo_bytes < WINDOW ? r->cfg.max_ooo_bytes : WINDOW);
            ok = delta <= w && delta >= -w;
        }
        if (ok) {
            end_dir(r, d, owner, ts);
            end_dir(r, &rf->dir[!ts], owner, !ts);
        } else {
            r->st.rst_ignored++;
        }
    }
    if (r->cfg.low_latency)
        em_flush(r, 0);
}

void cg_reasm_packet(cg_reasm *r, cg_reasm_flow *rf, void *owner, int to_server, const cg_packet *p)
{
    if (!p || p->proto != 6 || !(p->flags & CG_PKT_HAS_PORTS))
        return;
    cg_reasm_segment(r, rf, owner, to_server, p->tcp_seq, p->tcp_flags, p->payload, p->payload_len);
}

int cg_reasm_window(const cg_reasm *r, const cg_reasm_flow *rf, int to_server, const uint8_t **data,
                    uint32_t *len, uint64_t *offset)
{
    const cg_reasm_dir *d = &rf->dir[to_server ? 1 : 0];
    if (!r || !r->cfg.on_chunk || r->cfg.low_latency || d->chunk == NONE)
        return -1;
    const cslot *c = slot(r, d->chunk);
    if (c->fill == 0)
        return -1;
    *data = sbuf(r, d->chunk);
    *len = c->fill;
    *offset = c->off;
    return 0;
}

int cg_reasm_from_start(const cg_reasm_flow *rf, int to_server)
{
    return (rf->dir[to_server ? 1 : 0].flags & D_SYN) != 0;
}

uint64_t cg_reasm_next_offset(const cg_reasm_flow *rf, int to_server)
{
    return rf->dir[to_server ? 1 : 0].next_off;
}

void cg_reasm_flush(cg_reasm *r, cg_reasm_flow *rf, void *owner)
{
    (void)owner; /* a chunk goes to the owner recorded with it */
    if (!r || !rf || !r->cfg.on_chunk || r->cfg.low_latency)
        return;
    for (int i = 1; i >= 0; i--)
        if (rf->dir[i].chunk != NONE)
            slot_release(r, rf->dir[i].chunk, 0);
}

void cg_reasm_end(cg_reasm *r, cg_reasm_flow *rf, void *owner)
{
    if (!r || !rf)
        return;
    end_dir(r, &rf->dir[1], owner, 1);
    end_dir(r, &rf->dir[0], owner, 0);
}

uint64_t cg_reasm_untaken(const cg_reasm *r)
{
    const cg_reasm_stats *s = &r->st;
    return s->depth_bytes + s->pool_drop_bytes + s->midstream_bytes + s->window_drop_bytes +
        s->after_end_bytes + s->conflict_bytes;
}

void cg_reasm_get_stats(const cg_reasm *r, cg_reasm_stats *out)
{
    if (r && out)
        *out = r->st;
}

/* ---- life cycle ---------------------------------------------------------- */

int cg_reasm_create(cg_reasm **out, const cg_reasm_config *cfg)
{
    static const cg_reasm_config none;
    if (!cfg)
        cfg = &none;
    if (!out)
        return -1;
    cg_reasm_config c = *cfg;
    if (!c.pool_bytes)
        c.pool_bytes = 64ULL << 20;
    if (!c.block_size)
        c.block_size = 2048;
    if (!c.max_ooo_bytes)
        c.max_ooo_bytes = 256u << 10;
    if (!c.max_ooo_segs)
        c.max_ooo_segs = 256;
    if (!c.depth)
        c.depth = 1u << 20;
    if (!c.chunk_size)
        c.chunk_size = 64u << 10;
    if (!c.chunk_pool_bytes)
        c.chunk_pool_bytes = 64ULL << 20;
    if (c.block_size < 64 || c.block_size > (1u << 20) || c.block_size % 8 ||
        c.pool_bytes < c.block_size || c.max_ooo_segs > 65535 || c.chunk_size > (1u << 30) ||
        (c.midstream != CG_REASM_MIDSTREAM_ACCEPT && c.midstream != CG_REASM_MIDSTREAM_IGNORE))
        return -1;
    if (c.chunk_keep > c.chunk_size / 4)
        c.chunk_keep = c.chunk_size / 4;
    uint64_t nblocks = c.pool_bytes / c.block_size;
    if (nblocks > (1u << 31))
        nblocks = 1u << 31;
    uint64_t nslots = 0;
    if (c.on_chunk && !c.low_latency) {
        nslots = c.chunk_pool_bytes / c.chunk_size;
        if (nslots == 0)
            return -1;
        if (nslots > (1u << 24))
            nslots = 1u << 24;
    }
    cg_reasm *r = calloc(1, sizeof *r);
    if (!r)
        goto fail;
    r->cfg = c;
    r->nblocks = (uint32_t)nblocks;
    r->cap = c.block_size - HDR;
    r->blocks = malloc((size_t)nblocks * c.block_size);
    if (!r->blocks)
        goto fail;
    if (nslots) {
        r->nslots = (uint32_t)nslots;
        r->cmem = malloc((size_t)nslots * c.chunk_size);
        r->slots = calloc((size_t)nslots, sizeof *r->slots);
        if (!r->cmem || !r->slots)
            goto fail;
        for (uint32_t i = 1; i <= r->nslots; i++)
            slot(r, i)->next = i < r->nslots ? i + 1 : NONE;
        r->free_slot = 1;
    }
    if (c.on_chunk && c.low_latency) {
        r->scratch = malloc(c.chunk_size);
        if (!r->scratch)
            goto fail;
    }
    r->st.blocks_total = r->nblocks;
    r->st.chunk_buffers = r->nslots;
    r->st.mem_bytes = sizeof *r + nblocks * c.block_size + nslots * (c.chunk_size + sizeof(cslot)) +
        (r->scratch ? c.chunk_size : 0);
    *out = r;
    return 0;
fail:
    cg_reasm_destroy(r);
    return CG_ENOMEM;
}

void cg_reasm_destroy(cg_reasm *r)
{
    if (!r)
        return;
    free(r->scratch);
    free(r->slots);
    free(r->cmem);
    free(r->blocks);
    free(r);
}

int cg_reasm_check(const cg_reasm *r)
{
    if (!r || r->fresh > r->nblocks)
        return -1;
    uint32_t nfree = 0;
    for (uint32_t b = r->free_block; b != NONE; b = pc(r, b)->next)
        if (b > r->fresh || ++nfree > r->fresh)
            return -1; /* never handed out, or a cycle */
    if (r->st.blocks_used != r->fresh - nfree)
        return -1;
    uint32_t sfree = 0, held = 0, prev = NONE;
    for (uint32_t n = r->free_slot; n != NONE; n = slot(r, n)->next)
        if (n > r->nslots || slot(r, n)->d != NULL || ++sfree > r->nslots)
            return -1;
    for (uint32_t n = r->lru_head; n != NONE; n = slot(r, n)->next) {
        const cslot *c = slot(r, n);
        if (n > r->nslots || ++held > r->nslots || !c->d || c->d->chunk != n || c->prev != prev ||
            c->fill > r->cfg.chunk_size)
            return -1;
        prev = n;
    }
    if (r->lru_tail != prev || sfree + held != r->nslots || r->st.chunk_buffers_used != held)
        return -1;
    return 0;
}

int cg_reasm_check_dir(const cg_reasm *r, const cg_reasm_dir *d)
{
    if (!r || !d)
        return -1;
    uint64_t bytes = 0, end = d->next_off;
    uint32_t pieces = 0;
    for (uint32_t b = d->ooo; b != NONE; b = pc(r, b)->next) {
        const piece *p = pc(r, b);
        if (b > r->fresh || ++pieces > d->ooo_pieces || p->len == 0 || p->len > r->cap ||
            p->off < end || (pieces == 1 && p->off == d->next_off))
            return -1; /* out of order, overlapping, or deliverable */
        end = p->off + p->len;
        bytes += p->len;
    }
    if (pieces != d->ooo_pieces || bytes != d->ooo_bytes)
        return -1;
    if (d->chunk != NONE) {
        if (d->chunk > r->nslots)
            return -1;
        const cslot *c = slot(r, d->chunk);
        if (c->d != d || c->off + c->fill != d->next_off)
            return -1;
    }
    if ((d->flags & D_ENDED) && (d->ooo != NONE || d->chunk != NONE))
        return -1;
    return 0;
}
