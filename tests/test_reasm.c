/* test_reasm.c — unit tests of sensor/reasm: in-order delivery of contents
 * split over 2, 3 and 10 segments; first-data-wins on retransmissions and on
 * overlaps of every shape; out-of-order delivery (reverse order, and thousands
 * of random permutations of overlapping segments against a brute-force model,
 * with a fixed seed); gaps at the bounds; depth; FIN, RST and the end of the
 * flow; midstream pickup; sequence numbers wrapping at 2^32; chunks (size,
 * flush, low latency, buffers taken back under pressure, the end of a full
 * chunk kept at the start of the next); the block pool
 * exhausted and a flood of segments to random flows that never gets past it.
 *
 * Every event is checked against the contract of reasm.h as it arrives
 * (offsets grow and jump only with CG_REASM_GAP, nothing after the last event,
 * no chunk over chunk_size), and every test ends with the byte accounting of
 * cg_reasm_stats and all blocks and buffers back in their pools.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/flow.h"
#include "sensor/reasm.h"
#include "tests/check.h"

#define CAP (1u << 21) /* bytes recorded per direction */

typedef struct side {
    uint8_t *buf, *have; /* by stream offset */
    uint64_t next, hi;
    int ended;
    uint32_t last_flags;
    unsigned events, gaps;
} side;

/* What the consumer saw: [0] pieces (on_data), [1] chunks (on_chunk). */
typedef struct rec {
    side s[2][2]; /* [mode][to_server] */
    uint32_t chunk_size;
    unsigned bad; /* contract violations */
    void *owner;  /* the owner every event must carry (NULL: any) */
    void *last_owner;
    int loose; /* several flows share the record: no contract checks */
} rec;

static rec R;

static void side_reset(side *s)
{
    if (!s->buf) {
        s->buf = calloc(CAP, 1);
        s->have = calloc(CAP, 1);
    } else {
        memset(s->have, 0, s->hi < CAP ? s->hi : CAP);
    }
    s->next = s->hi = 0;
    s->ended = 0;
    s->last_flags = 0;
    s->events = s->gaps = 0;
}

static void rec_reset(uint32_t chunk_size)
{
    for (int m = 0; m < 2; m++)
        for (int d = 0; d < 2; d++)
            side_reset(&R.s[m][d]);
    R.chunk_size = chunk_size;
    R.bad = 0;
    R.owner = NULL;
    R.loose = 0;
}

static void take(side *s, const cg_reasm_chunk *c, uint32_t maxlen)
{
    if (getenv("REASM_TRACE"))
        fprintf(stderr, "  %s dir %d off %llu len %u flags %x (next %llu)\n",
                maxlen == UINT32_MAX ? "data " : "chunk", c->to_server,
                (unsigned long long)c->offset, c->len, c->flags, (unsigned long long)s->next);
    unsigned bad = R.bad;
    if (s->ended)
        R.bad++;
    if (c->flags & CG_REASM_GAP) {
        if (c->offset <= s->next)
            R.bad++;
        s->gaps++;
    } else if (c->offset != s->next) {
        R.bad++;
    }
    if (!c->data || (c->len == 0 && !(c->flags & (CG_REASM_END | CG_REASM_DEPTH))))
        R.bad++;
    if (c->len > maxlen)
        R.bad++;
    if (c->offset + c->len <= CAP) {
        memcpy(s->buf + c->offset, c->data, c->len);
        memset(s->have + c->offset, 1, c->len);
    } else {
        R.bad++;
    }
    s->next = c->offset + c->len;
    if (s->next > s->hi)
        s->hi = s->next;
    if (c->flags & (CG_REASM_END | CG_REASM_DEPTH))
        s->ended = 1;
    s->last_flags = c->flags;
    s->events++;
    if (R.loose)
        R.bad = bad;
}

static void on_data(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    (void)ctx;
    if (R.owner && owner != R.owner)
        R.bad++;
    take(&R.s[0][c->to_server ? 1 : 0], c, UINT32_MAX);
}

static void on_chunk(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    (void)ctx;
    if (R.owner && owner != R.owner)
        R.bad++;
    R.last_owner = owner;
    take(&R.s[1][c->to_server ? 1 : 0], c, R.chunk_size);
}

/* The bytes mode m delivered for direction d equal want (n bytes from 0). */
static int got(int m, int d, const void *want, uint32_t n)
{
    const side *s = &R.s[m][d];
    if (s->hi != n)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (!s->have[i] || s->buf[i] != ((const uint8_t *)want)[i])
            return 0;
    return 1;
}

static int got_both(int d, const void *want, uint32_t n)
{
    return got(0, d, want, n) && got(1, d, want, n);
}

/* A reassembler with both callbacks; cfg fields given override. */
static cg_reasm *mkr(cg_reasm_config cfg)
{
    cfg.on_data = on_data;
    cfg.on_chunk = on_chunk;
    if (!cfg.chunk_size)
        cfg.chunk_size = 65536;
    if (!cfg.chunk_pool_bytes)
        cfg.chunk_pool_bytes = 4ull * cfg.chunk_size;
    /* a pool of 4 MiB, not the default 64 MiB: no test here holds more, and
     * under AddressSanitizer (whose quarantine hands out fresh pages for each
     * new pool) the default made this test take minutes instead of seconds */
    if (!cfg.pool_bytes)
        cfg.pool_bytes = 4ull << 20;
    rec_reset(cfg.chunk_size);
    cg_reasm *r = NULL;
    CHECK(cg_reasm_create(&r, &cfg) == 0);
    return r;
}

/* Every byte counted once; nothing left in the pools once all flows ended. */
static void check_books(const cg_reasm *r, int all_ended)
{
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.bytes,
               st.delivered + st.held_bytes + st.overlap_bytes + st.depth_bytes +
                   st.pool_drop_bytes + st.midstream_bytes + st.window_drop_bytes +
                   st.after_end_bytes);
    CHECK(st.blocks_used <= st.blocks_total);
    CHECK(st.blocks_peak <= st.blocks_total);
    CHECK(st.chunk_buffers_used <= st.chunk_buffers);
    if (all_ended) {
        CHECK_EQ_U(st.blocks_used, 0);
        CHECK_EQ_U(st.held_bytes, 0);
        CHECK_EQ_U(st.chunk_buffers_used, 0);
        CHECK_EQ_U(st.streams_started, st.streams_ended);
    }
    CHECK_EQ_U(R.bad, 0);
}

static void seg(cg_reasm *r, cg_reasm_flow *f, int ts, uint32_t seq, uint8_t fl, const void *p,
                uint32_t n)
{
    cg_reasm_segment(r, f, &R, ts, seq, fl, (const uint8_t *)p, n);
}

/* A content split at the given cut points, sent in order after a SYN. */
static void check_split(void)
{
    static const char msg[] = "GET /cgi-bin/test.cgi HTTP/1.1\r\nHost: portal.example.vn\r\n"
                              "User-Agent: () { :; }; /bin/bash -c 'id'\r\nAccept: */*\r\n\r\n";
    const uint32_t n = sizeof msg - 1;
    const unsigned parts[] = { 2, 3, 10 };
    for (unsigned t = 0; t < 3; t++) {
        cg_reasm *r = mkr((cg_reasm_config){ 0 });
        cg_reasm_flow f;
        memset(&f, 0, sizeof f);
        uint32_t isn = 1000u + t;
        seg(r, &f, 1, isn, CG_TH_SYN, NULL, 0);
        seg(r, &f, 0, 77777, CG_TH_SYN | CG_TH_ACK, NULL, 0);
        uint32_t at = 0;
        for (unsigned i = 0; i < parts[t]; i++) {
            uint32_t len = i + 1 < parts[t] ? n / parts[t] : n - at;
            seg(r, &f, 1, isn + 1 + at, CG_TH_ACK | CG_TH_PSH, msg + at, len);
            at += len;
        }
        CHECK(got(0, 1, msg, n));
        CHECK_EQ_U(R.s[0][1].events, parts[t]);
        CHECK_EQ_U(R.s[1][1].events, 0); /* the chunk is still filling */
        seg(r, &f, 1, isn + 1 + n, CG_TH_FIN | CG_TH_ACK, NULL, 0);
        CHECK(got_both(1, msg, n));
        CHECK_EQ_U(R.s[1][1].events, 1); /* one chunk, with the end */
        CHECK_EQ_U(R.s[1][1].last_flags, CG_REASM_END);
        CHECK_EQ_U(R.s[0][1].last_flags, CG_REASM_END);
        CHECK(!R.s[0][0].ended);
        cg_reasm_end(r, &f, &R);
        CHECK(R.s[0][0].ended && R.s[1][0].ended);
        CHECK_EQ_U(R.s[0][0].hi, 0);
        cg_reasm_stats st;
        cg_reasm_get_stats(r, &st);
        CHECK_EQ_U(st.delivered, n);
        CHECK_EQ_U(st.ooo_segments, 0);
        CHECK_EQ_U(st.streams_started, 2);
        check_books(r, 1);
        cg_reasm_destroy(r);
    }
}

/* Retransmissions with other bytes: the first copy stays, the conflict is
 * counted where the first copy is still in memory. */
static void check_retransmit(void)
{
    cg_reasm *r = mkr((cg_reasm_config){ 0 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    cg_reasm_stats st;
    seg(r, &f, 1, 99, CG_TH_SYN, NULL, 0);
    /* held out of order, then retransmitted different, then the hole fills */
    seg(r, &f, 1, 105, CG_TH_ACK, "WORLD", 5);
    seg(r, &f, 1, 105, CG_TH_ACK, "W0RLD", 5);
    seg(r, &f, 1, 105, CG_TH_ACK, "WORLD", 5);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, 10);
    CHECK_EQ_U(st.conflict_bytes, 1);
    CHECK_EQ_U(R.s[0][1].events, 0);
    seg(r, &f, 1, 100, CG_TH_ACK, "HELLO", 5);
    CHECK(got(0, 1, "HELLOWORLD", 10));
    /* delivered, still in the chunk: compared */
    seg(r, &f, 1, 100, CG_TH_ACK, "JELLYWORLD", 10);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, 20);
    CHECK_EQ_U(st.conflict_bytes, 3);
    /* a retransmission that also brings new bytes: only those are taken */
    seg(r, &f, 1, 108, CG_TH_ACK, "LD!!", 4);
    seg(r, &f, 1, 100, CG_TH_ACK | CG_TH_FIN, "HELLOWORLD!!?", 13);
    CHECK(got_both(1, "HELLOWORLD!!?", 13));
    CHECK_EQ_U(R.s[1][1].last_flags, CG_REASM_END);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, 20 + 2 + 12);
    CHECK_EQ_U(st.conflict_bytes, 3);
    CHECK_EQ_U(st.delivered, 13);
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);
    cg_reasm_destroy(r);

    /* without chunks, delivered bytes are gone: counted, not compared */
    cg_reasm_config c = { .on_data = on_data };
    rec_reset(65536);
    CHECK(cg_reasm_create(&r, &c) == 0);
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 99, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 100, CG_TH_ACK, "HELLO", 5);
    seg(r, &f, 1, 100, CG_TH_ACK, "JELLO", 5);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, 5);
    CHECK_EQ_U(st.conflict_bytes, 0);
    CHECK(got(0, 1, "HELLO", 5));
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

/* A held piece "abcdefghij" at offsets 10..19, and a second copy of part of it
 * in every shape, each in upper case (so every overlapping byte conflicts). */
static void check_overlap_shapes(void)
{
    static const struct {
        uint32_t off, len;
        const char *want; /* offsets 5..29 after the hole 0..4 is filled */
        uint32_t overlap;
    } t[] = {
        { 5, 10, "FGHIJabcdefghij", 5 },       /* partial front */
        { 15, 10, "abcdefghijUVWXY", 5 },      /* partial back */
        { 12, 6, "abcdefghij", 6 },            /* contained */
        { 5, 20, "FGHIJabcdefghijUVWXY", 10 }, /* containing */
        { 10, 10, "abcdefghij", 10 },          /* exact */
        { 20, 5, "abcdefghijUVWXY", 0 },       /* adjacent after */
        { 5, 5, "FGHIJabcdefghij", 0 },        /* adjacent before */
    };
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123";
    static const char fill[] = "0123456789ABCDEFGHIJKLMNOPQRST";
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        /* the fill of 0..29 comes last, whole or in pieces of 3; per byte, the
         * held piece came first, then the copy, then the fill */
        char want[31];
        memcpy(want, fill, 30);
        memcpy(want + t[i].off, upper + t[i].off, t[i].len);
        memcpy(want + 10, "abcdefghij", 10);
        for (int pieces = 0; pieces < 2; pieces++) {
            cg_reasm *r = mkr((cg_reasm_config){ 0 });
            cg_reasm_flow f;
            memset(&f, 0, sizeof f);
            seg(r, &f, 1, 0xffffffffu, CG_TH_SYN, NULL, 0); /* offset 0 = seq 0 */
            seg(r, &f, 1, 10, CG_TH_ACK, "abcdefghij", 10);
            seg(r, &f, 1, t[i].off, CG_TH_ACK, upper + t[i].off, t[i].len);
            cg_reasm_stats st;
            cg_reasm_get_stats(r, &st);
            CHECK_EQ_U(st.overlap_bytes, t[i].overlap);
            CHECK_EQ_U(st.conflict_bytes, t[i].overlap);
            CHECK_EQ_U(R.s[0][1].events, 0);
            if (pieces)
                for (uint32_t at = 0; at < 30; at += 3)
                    seg(r, &f, 1, at, CG_TH_ACK, fill + at, 3);
            else
                seg(r, &f, 1, 0, CG_TH_ACK, fill, 30);
            CHECK(got(0, 1, want, 30));
            cg_reasm_get_stats(r, &st);
            CHECK_EQ_U(st.overlap_bytes, t[i].overlap + 10 + t[i].len - t[i].overlap);
            CHECK_EQ_U(st.delivered, 30);
            cg_reasm_end(r, &f, &R);
            CHECK(got(1, 1, want, 30));
            check_books(r, 1);
            cg_reasm_destroy(r);
        }
    }

    /* an in-order segment over two held pieces: held bytes win, its own bytes
     * fill around them, and all of it is delivered at once */
    cg_reasm *r = mkr((cg_reasm_config){ 0 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 0xffffffffu, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 10, CG_TH_ACK, "abcde", 5);
    seg(r, &f, 1, 20, CG_TH_ACK, "vwxyz", 5);
    seg(r, &f, 1, 0, CG_TH_ACK, "0123456789ABCDEFGHIJKLMNOPQRST", 30);
    CHECK(got(0, 1, "0123456789abcdeFGHIJvwxyzPQRST", 30));
    CHECK_EQ_U(R.s[0][1].events, 5);
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, 10);
    CHECK_EQ_U(st.conflict_bytes, 10);
    cg_reasm_end(r, &f, &R);
    CHECK(got(1, 1, "0123456789abcdeFGHIJvwxyzPQRST", 30));
    check_books(r, 1);
    cg_reasm_destroy(r);
}

static void check_reverse(void)
{
    uint8_t data[20 * 100];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    cg_reasm *r = mkr((cg_reasm_config){ .block_size = 256 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 0, 5000, CG_TH_SYN | CG_TH_ACK, NULL, 0);
    for (int i = 19; i >= 0; i--)
        seg(r, &f, 0, 5001 + (uint32_t)i * 100, CG_TH_ACK, data + i * 100, 100);
    CHECK(got(0, 0, data, sizeof data));
    CHECK_EQ_U(R.s[0][0].events, 20);
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.ooo_segments, 19);
    CHECK_EQ_U(st.blocks_peak, 19);
    CHECK_EQ_U(st.blocks_used, 0);
    cg_reasm_end(r, &f, &R);
    CHECK(got(1, 0, data, sizeof data));
    CHECK_EQ_U(R.s[1][0].events, 1);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

/* ---- random permutations against a brute-force model ---------------- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

typedef struct rseg {
    uint32_t off, len;
    uint8_t *bytes;
    uint8_t fin;
} rseg;

/* Overlapping random segments covering [0, n), each with bytes of its own,
 * the last one carrying the FIN, sent in a random order after the SYN. The
 * model: every byte is the one of the first segment to arrive with it. */
static void random_case(unsigned n, unsigned mode, uint32_t chunk_size, int low_latency)
{
    rseg s[64];
    unsigned k = 0;
    uint32_t at = 0;
    uint8_t pool[8192];
    uint32_t used = 0;
    while (at < n && k < 60) {
        uint32_t len = 1 + rnd() % (mode == 0 ? 200 : 600);
        if (at + len > n)
            len = n - at;
        uint32_t back = (k && rnd() % 2) ? rnd() % (at + 1) : 0; /* overlap backwards */
        if (back > at)
            back = at;
        s[k].off = at - back;
        s[k].len = len + back;
        if (used + s[k].len > sizeof pool)
            break;
        s[k].bytes = pool + used;
        used += s[k].len;
        for (uint32_t i = 0; i < s[k].len; i++)
            s[k].bytes[i] = (uint8_t)rnd();
        s[k].fin = 0;
        at += len;
        k++;
    }
    n = at;
    if (k == 0)
        return;
    s[k - 1].fin = 1;
    /* a few extra retransmissions anywhere */
    for (unsigned x = 0; x < 4 && k < 64 && n; x++) {
        uint32_t off = rnd() % n, len = 1 + rnd() % 300;
        if (off + len > n)
            len = n - off;
        if (used + len > sizeof pool)
            break;
        s[k].off = off;
        s[k].len = len;
        s[k].bytes = pool + used;
        used += len;
        for (uint32_t i = 0; i < len; i++)
            s[k].bytes[i] = (uint8_t)rnd();
        s[k].fin = 0;
        k++;
    }
    for (unsigned i = k - 1; i > 0; i--) {
        unsigned j = rnd() % (i + 1);
        rseg t = s[i];
        s[i] = s[j];
        s[j] = t;
    }

    /* once every byte is in and the FIN seen, the stream has ended: what comes
     * after is counted as after_end_bytes, not compared */
    static uint8_t want[8192], have[8192];
    memset(have, 0, n);
    uint64_t overlap = 0, conflict = 0, after = 0;
    uint32_t covered = 0;
    int fin = 0;
    for (unsigned i = 0; i < k; i++) {
        if (fin && covered == n) {
            after += s[i].len;
            continue;
        }
        fin |= s[i].fin;
        for (uint32_t b = 0; b < s[i].len; b++) {
            uint32_t o = s[i].off + b;
            if (have[o]) {
                overlap++;
                conflict += want[o] != s[i].bytes[b];
            } else {
                have[o] = 1;
                want[o] = s[i].bytes[b];
                covered++;
            }
        }
    }

    cg_reasm_config cfg = { .chunk_size = chunk_size,
                            .low_latency = low_latency,
                            .block_size = (rnd() % 2) ? 64 : 2048 };
    cg_reasm *r = mkr(cfg);
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    uint32_t isn = rnd();
    if (rnd() % 4 == 0)
        isn = 0xffffffffu - rnd() % 4096; /* wraps inside the stream */
    seg(r, &f, 1, isn, CG_TH_SYN, NULL, 0);
    int broken = 0;
    for (unsigned i = 0; i < k; i++) {
        seg(r, &f, 1, isn + 1 + s[i].off, (uint8_t)(CG_TH_ACK | (s[i].fin ? CG_TH_FIN : 0)),
            s[i].bytes, s[i].len);
        broken += cg_reasm_check_dir(r, &f.dir[1]) != 0 || cg_reasm_check(r) != 0;
    }
    CHECK_EQ_U(broken, 0);
    CHECK(R.s[0][1].ended); /* the FIN's position reached */
    CHECK(got(0, 1, want, n));
    CHECK(got(1, 1, want, n));
    CHECK_EQ_U(R.s[0][1].gaps + R.s[1][1].gaps, 0);
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, overlap);
    CHECK_EQ_U(st.after_end_bytes, after);
    if (!low_latency && chunk_size >= n) /* every first copy still held */
        CHECK_EQ_U(st.conflict_bytes, conflict);
    else
        CHECK(st.conflict_bytes <= conflict);
    CHECK_EQ_U(st.delivered, n);
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

/* cg_reasm_check and cg_reasm_check_dir find held pieces out of order or
 * miscounted, a chunk that does not end where the stream is, and a block
 * list that loops. */
static void check_structure(void)
{
    cg_reasm_config cfg = { .chunk_size = 4096 };
    cg_reasm *r = mkr(cfg);
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 1000, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 1001, CG_TH_ACK, "abcd", 4);
    seg(r, &f, 1, 1021, CG_TH_ACK, "uvwx", 4); /* held: a hole at 4..20 */
    seg(r, &f, 1, 1011, CG_TH_ACK, "klmn", 4); /* held, before it */
    cg_reasm_dir *d = &f.dir[1];
    CHECK(cg_reasm_check_dir(r, d) == 0 && cg_reasm_check(r) == 0);
    CHECK_EQ_U(d->ooo_pieces, 2);
    d->ooo_bytes++;
    CHECK(cg_reasm_check_dir(r, d) == -1);
    d->ooo_bytes--;
    d->next_off += 8; /* the chunk no longer ends there */
    CHECK(cg_reasm_check_dir(r, d) == -1);
    d->next_off -= 8;
    uint32_t chunk = d->chunk;
    d->chunk = 0; /* a slot held by nobody */
    CHECK(cg_reasm_check(r) == -1);
    d->chunk = chunk;
    CHECK(cg_reasm_check_dir(r, d) == 0 && cg_reasm_check(r) == 0);
    seg(r, &f, 1, 1005, CG_TH_ACK, "efghij", 6); /* fills 4..10, then all in order */
    CHECK(cg_reasm_check_dir(r, d) == 0 && cg_reasm_check(r) == 0);
    CHECK_EQ_U(d->ooo_pieces, 1);
    cg_reasm_end(r, &f, &R);
    CHECK(cg_reasm_check(r) == 0);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

static void check_random(void)
{
    unsigned before = check_fail_;
    for (unsigned i = 0; i < 3000; i++) {
        unsigned n = 1 + rnd() % (i % 3 == 0 ? 300 : 4000);
        uint32_t cs = i % 4 == 0 ? 1 + rnd() % 700 : 65536;
        random_case(n, i % 2, cs, i % 5 == 0);
        if (check_fail_ != before) {
            fprintf(stderr, "random case %u failed\n", i);
            break;
        }
    }
}

/* ---- gaps, depth, FIN, RST, midstream, wrap ------------------------- */

static void check_gaps(void)
{
    uint8_t data[1000];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i ^ (i >> 3));
    /* segments of 100 bytes; the first is lost; 4 may be held */
    cg_reasm *r = mkr((cg_reasm_config){ .max_ooo_segs = 4 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 0, CG_TH_SYN, NULL, 0);
    for (unsigned i = 1; i <= 4; i++)
        seg(r, &f, 1, 1 + i * 100, CG_TH_ACK, data + i * 100, 100);
    CHECK_EQ_U(R.s[0][1].events, 0);
    seg(r, &f, 1, 1 + 5 * 100, CG_TH_ACK, data + 500, 100); /* no room: the hole goes */
    CHECK_EQ_U(R.s[0][1].events, 5);
    CHECK_EQ_U(R.s[0][1].gaps, 1);
    CHECK_EQ_U(R.s[1][1].events, 0); /* the chunk broke at the gap: nothing before it */
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.gaps, 1);
    CHECK_EQ_U(st.gap_bytes, 100);
    CHECK_EQ_U(st.held_bytes, 0);
    /* the lost segment comes late: too late */
    seg(r, &f, 1, 1, CG_TH_ACK, data, 100);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, 100);
    for (unsigned i = 6; i < 10; i++)
        seg(r, &f, 1, 1 + i * 100, CG_TH_ACK, data + i * 100, 100);
    seg(r, &f, 1, 1001, CG_TH_ACK | CG_TH_FIN, NULL, 0);
    CHECK(memcmp(R.s[0][1].buf + 100, data + 100, 900) == 0);
    CHECK(memcmp(R.s[1][1].buf + 100, data + 100, 900) == 0);
    CHECK(!R.s[0][1].have[0] && !R.s[0][1].have[99] && R.s[0][1].have[100]);
    CHECK_EQ_U(R.s[1][1].events, 1); /* one chunk: 100..999, after the gap */
    CHECK_EQ_U(R.s[1][1].last_flags, CG_REASM_END | CG_REASM_GAP);
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);
    cg_reasm_destroy(r);

    /* the byte bound, with two holes: the first goes, then the second */
    r = mkr((cg_reasm_config){ .max_ooo_bytes = 250, .chunk_size = 150 });
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 0, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 1, CG_TH_ACK, data, 100);         /* 0..99 in order */
    seg(r, &f, 1, 201, CG_TH_ACK, data + 200, 100); /* 100..199 lost */
    seg(r, &f, 1, 401, CG_TH_ACK, data + 400, 100); /* 300..399 lost */
    CHECK_EQ_U(R.s[0][1].events, 1);
    seg(r, &f, 1, 501, CG_TH_ACK, data + 500, 100); /* 300 held: room for 250 */
    CHECK_EQ_U(R.s[0][1].events, 2);                /* 200..299 after a gap */
    CHECK_EQ_U(R.s[1][1].events, 1);                /* 0..99 before the gap */
    seg(r, &f, 1, 601, CG_TH_ACK, data + 600, 100); /* 300 again: 300..399 goes */
    CHECK_EQ_U(R.s[0][1].events, 5);
    CHECK_EQ_U(R.s[0][1].gaps, 2);
    CHECK_EQ_U(R.s[1][1].events, 3); /* 200..299, 400..549 */
    cg_reasm_end(r, &f, &R);
    CHECK_EQ_U(R.s[0][1].gaps, 2);
    CHECK_EQ_U(R.s[1][1].gaps, 2);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.gaps, 2);
    CHECK_EQ_U(st.gap_bytes, 200);
    CHECK_EQ_U(st.delivered, 500);
    for (unsigned o = 0; o < 700; o++)
        CHECK_EQ_U(R.s[1][1].have[o], (o >= 100 && o < 200) || (o >= 300 && o < 400) ? 0 : 1);
    CHECK(memcmp(R.s[1][1].buf + 400, data + 400, 300) == 0);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

static void check_depth(void)
{
    uint8_t data[1500];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13);
    cg_reasm *r = mkr((cg_reasm_config){ .depth = 1050, .chunk_size = 400 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 7, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 8 + 1100, CG_TH_ACK, data + 1100, 100); /* past the depth: not held */
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.depth_bytes, 100);
    CHECK_EQ_U(st.held_bytes, 0);
    for (unsigned i = 0; i < 15; i++)
        seg(r, &f, 1, 8 + i * 100, CG_TH_ACK, data + i * 100, 100);
    CHECK(got_both(1, data, 1050));
    CHECK_EQ_U(R.s[0][1].last_flags, CG_REASM_DEPTH);
    CHECK_EQ_U(R.s[1][1].last_flags, CG_REASM_DEPTH);
    CHECK_EQ_U(R.s[1][1].events, 3); /* 400, 400, 250 */
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.delivered, 1050);
    CHECK_EQ_U(st.depth_bytes, 100 + 450);
    seg(r, &f, 1, 8 + 1500, CG_TH_ACK | CG_TH_FIN, "x", 1);
    cg_reasm_end(r, &f, &R); /* nothing after the last event */
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.depth_bytes, 551);
    CHECK_EQ_U(st.streams_ended, 1);
    check_books(r, 1);
    cg_reasm_destroy(r);

    /* unlimited */
    r = mkr((cg_reasm_config){ .depth = CG_REASM_UNLIMITED, .chunk_size = 1000 });
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 7, CG_TH_SYN, NULL, 0);
    static uint8_t big[1 << 19];
    for (uint32_t at = 0; at < 3u << 19; at += 1 << 19)
        seg(r, &f, 1, 8 + at, CG_TH_ACK, big, 1 << 19);
    cg_reasm_end(r, &f, &R);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.delivered, 3u << 19);
    CHECK_EQ_U(R.s[0][1].last_flags, CG_REASM_END);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

static void check_fin_rst(void)
{
    cg_reasm *r = mkr((cg_reasm_config){ 0 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    cg_reasm_stats st;
    /* FIN with a hole before it: the end waits for the hole */
    seg(r, &f, 1, 100, CG_TH_SYN, NULL, 0);
    seg(r, &f, 0, 900, CG_TH_SYN | CG_TH_ACK, NULL, 0);
    seg(r, &f, 1, 101, CG_TH_ACK, "aaaa", 4);
    seg(r, &f, 1, 109, CG_TH_ACK | CG_TH_FIN, "cccc", 4);
    CHECK(!R.s[0][1].ended);
    seg(r, &f, 1, 113, CG_TH_ACK, "zz", 2);     /* past the FIN */
    seg(r, &f, 1, 105, CG_TH_ACK, "bbbbbb", 6); /* 2 of them past it too */
    CHECK(R.s[0][1].ended && R.s[1][1].ended);
    CHECK(got_both(1, "aaaabbbbcccc", 12));
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.after_end_bytes, 2);
    CHECK_EQ_U(st.overlap_bytes, 2);
    seg(r, &f, 1, 113, CG_TH_ACK, "yy", 2); /* after the end */
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.after_end_bytes, 4);
    /* the other side goes on until its own FIN */
    seg(r, &f, 0, 901, CG_TH_ACK, "HTTP/1.1 200 OK\r\n", 17);
    CHECK(!R.s[0][0].ended);
    seg(r, &f, 0, 918, CG_TH_ACK | CG_TH_FIN, NULL, 0);
    CHECK(R.s[0][0].ended);
    CHECK(got_both(0, "HTTP/1.1 200 OK\r\n", 17));
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);

    /* a held piece beyond the FIN found later is dropped */
    rec_reset(65536);
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 100, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 111, CG_TH_ACK, "later", 5);
    seg(r, &f, 1, 103, CG_TH_ACK | CG_TH_FIN, "cd", 2); /* FIN at 105 (offset 4) */
    seg(r, &f, 1, 101, CG_TH_ACK, "ab", 2);
    CHECK(got_both(1, "abcd", 4));
    CHECK(R.s[0][1].ended);
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);

    /* RST: both directions end now, held data after a gap */
    rec_reset(65536);
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 100, CG_TH_SYN, NULL, 0);
    seg(r, &f, 0, 900, CG_TH_SYN | CG_TH_ACK, NULL, 0);
    seg(r, &f, 1, 101, CG_TH_ACK, "head", 4);
    seg(r, &f, 1, 111, CG_TH_ACK, "tail", 4);
    seg(r, &f, 0, 901, CG_TH_ACK, "resp", 4);
    cg_reasm_get_stats(r, &st);
    uint64_t ignored = st.rst_ignored;
    seg(r, &f, 1, 100 + 5000000, CG_TH_RST, NULL, 0); /* far off: ignored */
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.rst_ignored, ignored + 1);
    CHECK(!R.s[0][1].ended);
    seg(r, &f, 0, 905, CG_TH_RST | CG_TH_ACK, NULL, 0);
    CHECK(R.s[0][1].ended && R.s[0][0].ended && R.s[1][1].ended && R.s[1][0].ended);
    CHECK_EQ_U(R.s[0][1].gaps, 1);
    CHECK(memcmp(R.s[0][1].buf, "head", 4) == 0 && memcmp(R.s[0][1].buf + 10, "tail", 4) == 0);
    CHECK(got_both(0, "resp", 4));
    CHECK_EQ_U(R.s[1][1].last_flags, CG_REASM_END | CG_REASM_GAP); /* "tail", after the gap */
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.gap_bytes, 6);
    uint64_t after = st.after_end_bytes;
    seg(r, &f, 1, 115, CG_TH_ACK, "more", 4);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.after_end_bytes, after + 4);
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);

    /* the flow ends with the FIN known and bytes missing before it */
    rec_reset(65536);
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 100, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 101, CG_TH_ACK, "ab", 2);
    seg(r, &f, 1, 110, CG_TH_ACK | CG_TH_FIN, NULL, 0);
    cg_reasm_end(r, &f, &R);
    CHECK(R.s[0][1].ended);
    CHECK_EQ_U(R.s[0][1].last_flags, CG_REASM_END | CG_REASM_GAP);
    CHECK_EQ_U(R.s[1][1].last_flags, CG_REASM_END | CG_REASM_GAP);
    CHECK(got(1, 1, "ab", 2) == 0); /* hi is 9: the end's offset */
    CHECK_EQ_U(R.s[1][1].next, 9);
    check_books(r, 1);

    /* data on the SYN (TCP Fast Open) starts at offset 0 */
    rec_reset(65536);
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 41, CG_TH_SYN, "fast", 4);
    seg(r, &f, 1, 46, CG_TH_ACK | CG_TH_FIN, "open", 4);
    CHECK(got_both(1, "fastopen", 8));
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

static void check_midstream(void)
{
    cg_reasm *r = mkr((cg_reasm_config){ 0 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 0, 5555, CG_TH_ACK, "ponse", 5); /* the first data seen */
    seg(r, &f, 0, 5550, CG_TH_ACK, "res", 3);   /* before it: old */
    seg(r, &f, 0, 5560, CG_TH_ACK | CG_TH_FIN, "!", 1);
    CHECK(got_both(0, "ponse!", 6));
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.overlap_bytes, 3);
    CHECK_EQ_U(st.streams_started, 1);
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);
    cg_reasm_destroy(r);

    r = mkr((cg_reasm_config){ .midstream = CG_REASM_MIDSTREAM_IGNORE });
    memset(&f, 0, sizeof f);
    seg(r, &f, 0, 5555, CG_TH_ACK, "ponse", 5);
    seg(r, &f, 0, 5560, CG_TH_ACK | CG_TH_FIN, "!", 1);
    seg(r, &f, 1, 100, CG_TH_SYN, NULL, 0); /* this side has its SYN */
    seg(r, &f, 1, 101, CG_TH_ACK, "GET", 3);
    cg_reasm_end(r, &f, &R);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.midstream_bytes, 6);
    CHECK_EQ_U(R.s[0][0].events + R.s[1][0].events, 0);
    CHECK(got_both(1, "GET", 3));
    CHECK_EQ_U(st.streams_started, 1);
    check_books(r, 1);
    cg_reasm_destroy(r);

    cg_reasm_config bad = { .midstream = 7 };
    CHECK(cg_reasm_create(&r, &bad) == -1);
    bad = (cg_reasm_config){ .block_size = 32 };
    CHECK(cg_reasm_create(&r, &bad) == -1);
    bad = (cg_reasm_config){ .on_chunk = on_chunk, .chunk_size = 4096, .chunk_pool_bytes = 100 };
    CHECK(cg_reasm_create(&r, &bad) == -1);
    bad = (cg_reasm_config){ .max_ooo_segs = 70000 };
    CHECK(cg_reasm_create(&r, &bad) == -1);
    CHECK(cg_reasm_create(NULL, NULL) == -1);
    cg_reasm_destroy(NULL);
}

/* Sequence numbers across 2^32, out of order, the FIN after the wrap. */
static void check_wrap(void)
{
    uint8_t data[1000];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(255 - i);
    uint32_t isn = 0xfffffe00u; /* wraps at offset 511 */
    const int order[10] = { 3, 0, 9, 5, 1, 8, 2, 7, 4, 6 };
    cg_reasm *r = mkr((cg_reasm_config){ .chunk_size = 300 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, isn, CG_TH_SYN, NULL, 0);
    for (int i = 0; i < 10; i++) {
        int k = order[i];
        seg(r, &f, 1, isn + 1 + (uint32_t)k * 100, (uint8_t)(CG_TH_ACK | (k == 9 ? CG_TH_FIN : 0)),
            data + k * 100, 100);
    }
    CHECK(got_both(1, data, 1000));
    CHECK(R.s[0][1].ended);
    CHECK_EQ_U(R.s[1][1].events, 4); /* 300, 300, 300, 100+END */
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.delivered, 1000);
    CHECK_EQ_U(st.window_drop_bytes, 0);
    /* a segment half the sequence space away cannot be placed */
    memset(&f, 0, sizeof f);
    rec_reset(300);
    seg(r, &f, 1, 0x7fffff00u, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 0x7fffff01u + 0x80000000u, CG_TH_ACK, "far", 3);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.window_drop_bytes, 3);
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

/* ---- chunks ---------------------------------------------------------- */

/* chunk_keep: each chunk after a full one starts with the full one's last
 * bytes again, its offset saying where it starts. */
typedef struct kept {
    const uint8_t *want;
    uint64_t off[8];
    uint32_t len[8], flags[8];
    unsigned n, bad;
} kept;

static void on_kept(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    kept *k = ctx;
    (void)owner;
    if (k->n == 8 || memcmp(c->data, k->want + c->offset, c->len) != 0) {
        k->bad++;
        return;
    }
    k->off[k->n] = c->offset;
    k->len[k->n] = c->len;
    k->flags[k->n++] = c->flags;
}

static void check_chunk_keep(void)
{
    uint8_t data[40];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)('a' + i % 26);
    kept k = { .want = data };
    cg_reasm_config c = { .chunk_size = 16, .chunk_keep = 4, .on_chunk = on_kept, .ctx = &k };
    cg_reasm *r = NULL;
    CHECK(cg_reasm_create(&r, &c) == 0);
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    cg_reasm_segment(r, &f, NULL, 1, 0, CG_TH_SYN, NULL, 0);
    cg_reasm_segment(r, &f, NULL, 1, 1, CG_TH_ACK, data, 30);
    cg_reasm_segment(r, &f, NULL, 1, 31, CG_TH_ACK | CG_TH_FIN, data + 30, 10);
    CHECK_EQ_U(k.bad, 0);
    CHECK_EQ_U(k.n, 3);
    CHECK_EQ_U(k.off[0], 0);
    CHECK_EQ_U(k.len[0], 16);
    CHECK_EQ_U(k.off[1], 12); /* bytes 12..15 again */
    CHECK_EQ_U(k.len[1], 16);
    CHECK_EQ_U(k.off[2], 24);
    CHECK_EQ_U(k.len[2], 16);
    CHECK_EQ_U(k.flags[2], CG_REASM_END);
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.delivered, 40); /* each byte counted once */
    cg_reasm_end(r, &f, NULL);
    cg_reasm_destroy(r);

    /* at most a quarter of a chunk is kept */
    k = (kept){ .want = data };
    c.chunk_keep = 100;
    CHECK(cg_reasm_create(&r, &c) == 0);
    memset(&f, 0, sizeof f);
    cg_reasm_segment(r, &f, NULL, 1, 0, CG_TH_SYN, NULL, 0);
    cg_reasm_segment(r, &f, NULL, 1, 1, CG_TH_ACK | CG_TH_FIN, data, 20);
    CHECK_EQ_U(k.bad, 0);
    CHECK_EQ_U(k.n, 2);
    CHECK_EQ_U(k.off[1], 12);
    CHECK_EQ_U(k.len[1], 8);
    cg_reasm_end(r, &f, NULL);
    cg_reasm_destroy(r);
}

static void check_chunks(void)
{
    uint8_t data[100];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)('A' + i % 26);
    cg_reasm *r = mkr((cg_reasm_config){ .chunk_size = 16 });
    cg_reasm_flow f;
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 0, CG_TH_SYN, NULL, 0);
    for (unsigned i = 0; i < 10; i++)
        seg(r, &f, 1, 1 + i * 10, CG_TH_ACK, data + i * 10, 10);
    CHECK_EQ_U(R.s[1][1].events, 6); /* 96 bytes: 6 chunks out */
    seg(r, &f, 1, 101, CG_TH_ACK | CG_TH_FIN, NULL, 0);
    CHECK_EQ_U(R.s[1][1].events, 7); /* 4 bytes and the end */
    CHECK_EQ_U(R.s[1][1].last_flags, CG_REASM_END);
    CHECK(got_both(1, data, 100));
    cg_reasm_end(r, &f, &R);
    check_books(r, 1);

    /* flush delivers what is there now */
    rec_reset(16);
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 0, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 1, CG_TH_ACK, data, 10);
    CHECK_EQ_U(R.s[1][1].events, 0);
    cg_reasm_flush(r, &f, &R);
    CHECK_EQ_U(R.s[1][1].events, 1);
    CHECK(got(1, 1, data, 10));
    cg_reasm_flush(r, &f, &R);
    CHECK_EQ_U(R.s[1][1].events, 1);
    seg(r, &f, 1, 11, CG_TH_ACK, data + 10, 10);
    cg_reasm_end(r, &f, &R);
    CHECK(got_both(1, data, 20));
    CHECK_EQ_U(R.s[1][1].events, 2);
    check_books(r, 1);
    cg_reasm_destroy(r);

    /* low latency: one chunk per advance; an advance that fills a hole merges
     * what it puts in order; a single segment is not copied */
    cg_reasm_config ll = { .low_latency = 1, .chunk_size = 64, .block_size = 64 };
    r = mkr(ll);
    memset(&f, 0, sizeof f);
    seg(r, &f, 1, 0, CG_TH_SYN, NULL, 0);
    seg(r, &f, 1, 1, CG_TH_ACK, data, 10);
    CHECK_EQ_U(R.s[1][1].events, 1);
    seg(r, &f, 1, 21, CG_TH_ACK, data + 20, 10);
    seg(r, &f, 1, 31, CG_TH_ACK, data + 30, 60); /* held in two blocks */
    CHECK_EQ_U(R.s[1][1].events, 1);
    seg(r, &f, 1, 11, CG_TH_ACK, data + 10, 10); /* 10..89 in order now */
    CHECK_EQ_U(R.s[1][1].events, 3);             /* 64 + 16 */
    CHECK(got(1, 1, data, 90));
    seg(r, &f, 1, 91, CG_TH_ACK, data + 90, 10);
    CHECK_EQ_U(R.s[1][1].events, 4);
    cg_reasm_end(r, &f, &R);
    CHECK_EQ_U(R.s[1][1].events, 5); /* the end, empty */
    CHECK(got_both(1, data, 100));
    check_books(r, 1);
    cg_reasm_destroy(r);

    /* two chunk buffers, three flows: the least recently appended one is
     * delivered to its own owner and its buffer taken */
    cg_reasm_config two = { .chunk_size = 32, .chunk_pool_bytes = 64, .on_chunk = on_chunk };
    rec_reset(32);
    R.loose = 1;
    CHECK(cg_reasm_create(&r, &two) == 0);
    cg_reasm_flow fl[3];
    memset(fl, 0, sizeof fl);
    for (int i = 0; i < 3; i++)
        cg_reasm_segment(r, &fl[i], &fl[i], 1, 0, CG_TH_SYN, NULL, 0);
    cg_reasm_segment(r, &fl[0], &fl[0], 1, 1, CG_TH_ACK, data, 5);
    cg_reasm_segment(r, &fl[1], &fl[1], 1, 1, CG_TH_ACK, data, 5);
    cg_reasm_segment(r, &fl[0], &fl[0], 1, 6, CG_TH_ACK, data + 5, 5);
    CHECK_EQ_U(R.s[1][1].events, 0);
    cg_reasm_segment(r, &fl[2], &fl[2], 1, 1, CG_TH_ACK, data, 5); /* takes fl[1]'s buffer */
    CHECK_EQ_U(R.s[1][1].events, 1);
    CHECK(R.last_owner == &fl[1]);
    CHECK(got(1, 1, data, 5));
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.chunk_steals, 1);
    CHECK_EQ_U(st.chunk_buffers_used, 2);
    for (int i = 0; i < 3; i++)
        cg_reasm_end(r, &fl[i], &fl[i]);
    check_books(r, 1);
    cg_reasm_destroy(r);
}

/* ---- pools ----------------------------------------------------------- */

static void on_nothing(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    (void)ctx;
    (void)owner;
    (void)c;
}

static void check_pool(void)
{
    uint8_t data[4000];
    memset(data, 'p', sizeof data);
    /* 8 blocks of 256 bytes (240 of data); each flow holds up to 1000 bytes */
    cg_reasm_config c = { .pool_bytes = 8 * 256,
                          .block_size = 256,
                          .max_ooo_bytes = 1000,
                          .on_data = on_data };
    rec_reset(65536);
    R.loose = 1;
    cg_reasm *r = NULL;
    CHECK(cg_reasm_create(&r, &c) == 0);
    cg_reasm_flow f[4];
    memset(f, 0, sizeof f);
    for (int i = 0; i < 4; i++) {
        cg_reasm_segment(r, &f[i], NULL, 1, 0, CG_TH_SYN, NULL, 0);
        cg_reasm_segment(r, &f[i], NULL, 1, 101, CG_TH_ACK, data, 700); /* 3 blocks */
    }
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.blocks_total, 8);
    CHECK_EQ_U(st.blocks_used, 6); /* the third flow found 2 blocks */
    CHECK_EQ_U(st.pool_exhausted, 2);
    CHECK_EQ_U(st.pool_drop_bytes, 1400);
    CHECK_EQ_U(st.held_bytes, 1400);
    check_books(r, 0);
    /* the hole of flow 0 fills: its blocks come back, flow 2 may hold */
    cg_reasm_segment(r, &f[0], NULL, 1, 1, CG_TH_ACK, data, 100);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.blocks_used, 3);
    CHECK_EQ_U(st.delivered, 800);
    cg_reasm_segment(r, &f[2], NULL, 1, 101, CG_TH_ACK, data, 700);
    cg_reasm_get_stats(r, &st);
    CHECK_EQ_U(st.blocks_used, 6);
    check_books(r, 0);
    for (int i = 0; i < 4; i++)
        cg_reasm_end(r, &f[i], NULL);
    check_books(r, 1);
    CHECK_EQ_U(st.blocks_peak, 6);
    cg_reasm_destroy(r);
}

/* Random segments to random flows: never more blocks than the pool, the books
 * balance at every step, and everything comes back at the end. */
static void check_flood(void)
{
    enum { NF = 2000, NSEG = 200000 };
    cg_reasm_config c = { .pool_bytes = 512 * 2048,
                          .max_ooo_segs = 16,
                          .chunk_size = 4096,
                          .chunk_pool_bytes = 64 * 4096,
                          .on_data = on_nothing,
                          .on_chunk = on_nothing,
                          .depth = 100000 };
    cg_reasm *r = NULL;
    CHECK(cg_reasm_create(&r, &c) == 0);
    cg_reasm_flow *f = calloc(NF, sizeof *f);
    uint32_t *isn = calloc(NF, sizeof *isn);
    static uint8_t data[1460];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)rnd();
    for (unsigned i = 0; i < NF; i++)
        isn[i] = rnd();
    cg_reasm_stats st;
    int over = 0, books = 1;
    for (unsigned i = 0; i < NSEG; i++) {
        unsigned k = rnd() % NF;
        int ts = (int)(rnd() & 1);
        uint32_t base = isn[k] + (ts ? 0 : 0x40000000u);
        uint32_t seq = base + 1 + rnd() % 200000;
        if (rnd() % 50 == 0)
            seq = rnd(); /* anywhere at all */
        uint8_t fl = CG_TH_ACK;
        uint32_t x = rnd() % 1000;
        if (x < 3)
            fl = CG_TH_SYN, seq = base;
        else if (x < 5)
            fl |= CG_TH_FIN;
        else if (x < 6)
            fl |= CG_TH_RST;
        uint32_t len = rnd() % 1461;
        cg_reasm_segment(r, &f[k], &f[k], ts, seq, fl, data, len);
        if (x == 999) { /* the flow goes: its slot is reused */
            cg_reasm_end(r, &f[k], &f[k]);
            memset(&f[k], 0, sizeof f[k]);
        }
        cg_reasm_get_stats(r, &st);
        if (st.blocks_used > st.blocks_total || st.chunk_buffers_used > st.chunk_buffers)
            over = 1;
        if (i % 1000 == 0 &&
            st.bytes !=
                st.delivered + st.held_bytes + st.overlap_bytes + st.depth_bytes +
                    st.pool_drop_bytes + st.midstream_bytes + st.window_drop_bytes +
                    st.after_end_bytes)
            books = 0;
    }
    CHECK(!over);
    CHECK(books);
    cg_reasm_get_stats(r, &st);
    CHECK(st.pool_exhausted > 0);
    CHECK(st.gaps > 0);
    CHECK(st.chunk_steals > 0);
    CHECK(st.blocks_peak == st.blocks_total);
    CHECK(st.delivered > 0);
    for (unsigned i = 0; i < NF; i++)
        cg_reasm_end(r, &f[i], &f[i]);
    rec_reset(4096);
    check_books(r, 1);
    CHECK(st.mem_bytes < (2u << 20));
    if (getenv("REASM_VERBOSE"))
        fprintf(stderr,
                "flood: %llu segments, %llu bytes, %llu delivered, %llu held max blocks %u/%u, "
                "%llu gaps, %llu pool drops, %llu steals, %llu window drops, %llu overlap\n",
                (unsigned long long)st.segments, (unsigned long long)st.bytes,
                (unsigned long long)st.delivered, (unsigned long long)st.ooo_segments,
                st.blocks_peak, st.blocks_total, (unsigned long long)st.gaps,
                (unsigned long long)st.pool_exhausted, (unsigned long long)st.chunk_steals,
                (unsigned long long)st.window_drop_bytes, (unsigned long long)st.overlap_bytes);
    free(f);
    free(isn);
    cg_reasm_destroy(r);
}

/* ---- with the flow table ---------------------------------------------- */

typedef struct ended_log {
    cg_reasm *r;
    unsigned flows, ends;
} ended_log;

static void count_end(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    ended_log *e = ctx;
    (void)owner;
    if (c->flags & (CG_REASM_END | CG_REASM_DEPTH))
        e->ends++;
}

static void evict_flow(void *ctx, cg_flow *f, int reason)
{
    ended_log *e = ctx;
    (void)reason;
    cg_reasm_end(e->r, cg_flow_user(f), f);
    e->flows++;
}

static void tcp_pkt(cg_packet *p, uint32_t host, int from_client, uint8_t fl, uint32_t seq,
                    const uint8_t *data, uint32_t len, uint64_t ts)
{
    memset(p, 0, sizeof *p);
    p->ipver = 4;
    p->proto = 6;
    p->flags = CG_PKT_HAS_PORTS;
    uint8_t a[16] = { 0 }, b[16] = { 0 };
    a[10] = a[11] = b[10] = b[11] = 0xff;
    a[12] = 10;
    a[13] = (uint8_t)(host >> 16);
    a[14] = (uint8_t)(host >> 8);
    a[15] = (uint8_t)host;
    b[12] = 192;
    b[15] = 1;
    memcpy(from_client ? p->src : p->dst, a, 16);
    memcpy(from_client ? p->dst : p->src, b, 16);
    p->sport = from_client ? 40000 : 80;
    p->dport = from_client ? 80 : 40000;
    p->tcp_flags = fl;
    p->tcp_seq = seq;
    p->payload = data;
    p->payload_len = len;
    p->ts_us = ts;
}

/* Flows evicted under pressure close their streams in the eviction callback:
 * every started direction gets its last event, and the pools drain. */
static void check_with_flowtable(void)
{
    ended_log e;
    memset(&e, 0, sizeof e);
    cg_reasm_config rc = { .on_chunk = count_end,
                           .ctx = &e,
                           .chunk_size = 1024,
                           .chunk_pool_bytes = 8 * 1024,
                           .pool_bytes = 64 * 2048 };
    CHECK(cg_reasm_create(&e.r, &rc) == 0);
    cg_flow_config fc = { .max_flows = 32,
                          .user_size = sizeof(cg_reasm_flow),
                          .min_idle_ms = CG_FLOW_NO_MIN_IDLE,
                          .min_idle_est_ms = CG_FLOW_NO_MIN_IDLE,
                          .on_evict = evict_flow,
                          .evict_ctx = &e };
    cg_flowtable *ft = NULL;
    CHECK(cg_flowtable_create(&ft, &fc) == 0);
    static const uint8_t req[] = "GET / HTTP/1.1\r\n\r\n";
    int ok = 1;
    for (uint32_t i = 0; i < 1000; i++) {
        cg_packet p;
        int ts;
        uint64_t t = 1000000ull * 100 + i * 1000ull;
        tcp_pkt(&p, i, 1, CG_TH_SYN, 7, NULL, 0, t);
        cg_flow *f = cg_flowtable_update(ft, &p, &ts);
        if (!f || ts != 1) {
            ok = 0;
            continue;
        }
        cg_reasm_packet(e.r, cg_flow_user(f), f, ts, &p);
        tcp_pkt(&p, i, 0, CG_TH_SYN | CG_TH_ACK, 9000, NULL, 0, t);
        f = cg_flowtable_update(ft, &p, &ts);
        cg_reasm_packet(e.r, cg_flow_user(f), f, ts, &p);
        tcp_pkt(&p, i, 1, CG_TH_ACK, 8 + 100, req, sizeof req - 1, t); /* ahead: held */
        f = cg_flowtable_update(ft, &p, &ts);
        cg_reasm_packet(e.r, cg_flow_user(f), f, ts, &p);
        tcp_pkt(&p, i, 1, CG_TH_ACK, 8, req, sizeof req - 1, t);
        f = cg_flowtable_update(ft, &p, &ts);
        cg_reasm_packet(e.r, cg_flow_user(f), f, ts, &p);
    }
    CHECK(ok);
    cg_reasm_stats st;
    cg_reasm_get_stats(e.r, &st);
    if (getenv("REASM_VERBOSE"))
        fprintf(stderr,
                "flows %u ends %u started %llu ended %llu delivered %llu segs %llu mid %llu\n",
                e.flows, e.ends, (unsigned long long)st.streams_started,
                (unsigned long long)st.streams_ended, (unsigned long long)st.delivered,
                (unsigned long long)st.segments, (unsigned long long)st.midstream_bytes);
    CHECK(st.blocks_used <= 32); /* one held piece per live flow */
    CHECK_EQ_U(e.flows, 1000 - 32);
    CHECK_EQ_U(e.ends, 2 * e.flows);
    CHECK_EQ_U(cg_flowtable_evict_all(ft), 32);
    cg_reasm_get_stats(e.r, &st);
    CHECK_EQ_U(e.ends, 2000);
    CHECK_EQ_U(st.streams_started, 2000);
    CHECK_EQ_U(st.streams_ended, 2000);
    CHECK_EQ_U(st.blocks_used, 0);
    CHECK_EQ_U(st.chunk_buffers_used, 0);
    CHECK_EQ_U(st.delivered, 2 * 1000 * (sizeof req - 1)); /* the held copy too, after the gap */
    CHECK_EQ_U(st.gaps, 1000);                             /* 18..99 never seen */
    CHECK_EQ_U(st.gap_bytes, 1000 * (100 - (sizeof req - 1)));
    cg_flowtable_destroy(ft);
    cg_reasm_destroy(e.r);
}

int main(void)
{
    check_structure();
    _Static_assert(sizeof(cg_reasm_flow) == 64, "per-flow state is 64 bytes");
    check_split();
    check_retransmit();
    check_overlap_shapes();
    check_reverse();
    check_random();
    check_gaps();
    check_depth();
    check_fin_rst();
    check_midstream();
    check_wrap();
    check_chunks();
    check_chunk_keep();
    check_pool();
    check_flood();
    check_with_flowtable();
    for (int m = 0; m < 2; m++)
        for (int d = 0; d < 2; d++) {
            free(R.s[m][d].buf);
            free(R.s[m][d].have);
        }
    return check_done("test_reasm");
}
