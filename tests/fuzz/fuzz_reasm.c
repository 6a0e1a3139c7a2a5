/* fuzz_reasm.c — libFuzzer harness: the flow table and TCP reassembly
 * (sensor/flow.h, sensor/reasm.h) over sequences of segments.
 *
 * Input: a 5-byte header, then commands.
 *   header: 4 bytes, the base of the initial sequence numbers (big-endian; so
 *           that streams cross 2^32), and a config byte: bit 0 low_latency,
 *           bit 1 CG_REASM_MIDSTREAM_IGNORE, bit 2 chunk_keep 0 (else 64),
 *           bit 3 depth unlimited (else 4 KiB).
 *   command: 5 bytes, then its payload:
 *     byte 0: bit 0 the direction (1: client to server), bits 1-2 the flow
 *             (4 tuples), bits 3-4 what: 0 and 1 a segment, 2 cg_reasm_flush
 *             of the flow, 3 time jumps 200 s (flows time out) and
 *             cg_flowtable_expire;
 *     byte 1: the TCP flags (CG_TH_*);
 *     bytes 2-3: the sequence number as a signed 16-bit offset from the
 *             direction's ISN + 1 (big-endian);
 *     byte 4: the payload length, taken from the bytes that follow (cut to
 *             what is left).
 * Each segment is a decoded packet made by hand (IPv4, ports) that goes
 * through cg_flowtable_update (state, eviction under a 4-flow cap) and then
 * cg_reasm_packet on the flow's user area; eviction calls cg_reasm_end. The
 * pools are small so that bounds, steals and pool exhaustion are reached.
 * Checked on every delivery: a piece starts at the direction's next offset
 * (later only with CG_REASM_GAP), nothing follows a last event, a chunk is at
 * most chunk_size; at the end (every flow evicted) the byte accounting of
 * reasm.h holds and no block or chunk buffer is still taken. A failure
 * aborts. Everything is freed per input.
 */
#include "tests/fuzz/fuzz_common.h"

#include "sensor/decode.h"
#include "sensor/flow.h"
#include "sensor/reasm.h"

#define CHUNK 512

typedef struct fz_uflow {
    cg_reasm_flow rf;
    uint64_t next[2];  /* on_data: the next offset expected per direction */
    uint8_t ended[2];  /* a last event was delivered (on_data) */
    uint8_t cended[2]; /* ... on_chunk */
} fz_uflow;

typedef struct fz_world {
    cg_reasm *r;
    cg_flowtable *ft;
} fz_world;

static void bad(const char *why)
{
    fprintf(stderr, "fuzz_reasm: %s\n", why);
    abort();
}

static void on_data(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    (void)ctx;
    fz_uflow *u = cg_flow_user(owner);
    int d = c->to_server != 0;
    if (u->ended[d])
        bad("a piece after the last event of its direction");
    if (c->offset < u->next[d] || (c->offset > u->next[d] && !(c->flags & CG_REASM_GAP)))
        bad("a piece not at the next offset, without a gap");
    if (c->len == 0 && !(c->flags & (CG_REASM_END | CG_REASM_DEPTH)))
        bad("an empty piece that is not a last event");
    fz_touch(c->data, c->len);
    u->next[d] = c->offset + c->len;
    if (c->flags & (CG_REASM_END | CG_REASM_DEPTH))
        u->ended[d] = 1;
}

static void on_chunk(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    (void)ctx;
    fz_uflow *u = cg_flow_user(owner);
    int d = c->to_server != 0;
    if (u->cended[d])
        bad("a chunk after the last event of its direction");
    if (c->len > CHUNK)
        bad("a chunk longer than chunk_size");
    fz_touch(c->data, c->len);
    if (c->flags & (CG_REASM_END | CG_REASM_DEPTH))
        u->cended[d] = 1;
}

static void on_evict(void *ctx, cg_flow *f, int reason)
{
    (void)reason;
    fz_world *w = ctx;
    fz_uflow *u = cg_flow_user(f);
    cg_reasm_end(w->r, &u->rf, f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    uint32_t isn =
        (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    uint8_t conf = data[4];
    fz_world w = { 0 };
    cg_reasm_config rc;
    memset(&rc, 0, sizeof rc);
    rc.pool_bytes = 16u << 10;
    rc.block_size = 256;
    rc.max_ooo_bytes = 4096;
    rc.max_ooo_segs = 16;
    rc.depth = conf & 8 ? CG_REASM_UNLIMITED : 4096;
    rc.midstream = conf & 2 ? CG_REASM_MIDSTREAM_IGNORE : CG_REASM_MIDSTREAM_ACCEPT;
    rc.chunk_size = CHUNK;
    rc.chunk_keep = conf & 4 ? 0 : 64;
    rc.chunk_pool_bytes = 4 * CHUNK;
    rc.low_latency = conf & 1;
    rc.on_data = on_data;
    rc.on_chunk = on_chunk;
    rc.ctx = &w;
    if (cg_reasm_create(&w.r, &rc) != 0)
        bad("cg_reasm_create");
    cg_flow_config fc;
    memset(&fc, 0, sizeof fc);
    fc.memcap = 64u << 10;
    fc.max_flows = 3; /* fewer than the 4 tuples: pressure */
    fc.user_size = sizeof(fz_uflow);
    fc.min_idle_ms = CG_FLOW_NO_MIN_IDLE;
    fc.min_idle_est_ms = CG_FLOW_NO_MIN_IDLE;
    fc.on_evict = on_evict;
    fc.evict_ctx = &w;
    if (cg_flowtable_create(&w.ft, &fc) != 0)
        bad("cg_flowtable_create");

    uint64_t ts = 1763971200000000ull;
    size_t i = 5;
    while (i + 5 <= size) {
        const uint8_t *c = data + i;
        size_t len = c[4];
        i += 5;
        if (len > size - i)
            len = size - i;
        const uint8_t *pay = data + i;
        i += len;
        ts += 1000;
        int dir = c[0] & 1, flow = (c[0] >> 1) & 3, what = (c[0] >> 3) & 3;
        if (what == 3) {
            ts += 200000000ull;
            cg_flowtable_expire(w.ft, ts, 8);
            continue;
        }
        cg_packet p;
        memset(&p, 0, sizeof p);
        p.ts_us = ts;
        p.ipver = 4;
        p.proto = 6;
        p.ttl = 64;
        p.flags = CG_PKT_HAS_PORTS;
        uint8_t cli[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 5 };
        uint8_t srv[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 1, 10 };
        uint16_t cport = (uint16_t)(40000 + flow), sport = 80;
        memcpy(dir ? p.src : p.dst, cli, 16);
        memcpy(dir ? p.dst : p.src, srv, 16);
        p.sport = dir ? cport : sport;
        p.dport = dir ? sport : cport;
        p.tcp_flags = c[1];
        uint32_t disn = isn + (uint32_t)flow * 0x10000000u + (dir ? 0 : 0x80000000u);
        p.tcp_seq = disn + 1 + (uint32_t)(int32_t)(int16_t)((uint16_t)c[2] << 8 | c[3]);
        if (p.tcp_flags & CG_TH_SYN)
            p.tcp_seq = disn;
        p.tcp_ack = 0;
        p.tcp_win = 65535;
        p.payload = len ? pay : NULL;
        p.payload_len = (uint32_t)len;
        p.caplen = p.wirelen = 54 + (uint32_t)len;
        int to_server = 0;
        cg_flow *f = cg_flowtable_update(w.ft, &p, &to_server);
        if (!f)
            continue;
        fz_uflow *u = cg_flow_user(f);
        if (what == 2)
            cg_reasm_flush(w.r, &u->rf, f);
        else
            cg_reasm_packet(w.r, &u->rf, f, to_server, &p);
        const uint8_t *wd;
        uint32_t wl;
        uint64_t wo;
        if (cg_reasm_window(w.r, &u->rf, to_server, &wd, &wl, &wo) == 0)
            fz_touch(wd, wl);
    }
    cg_flowtable_evict_all(w.ft);
    cg_reasm_stats s;
    cg_reasm_get_stats(w.r, &s);
    if (s.bytes !=
        s.delivered + s.held_bytes + s.overlap_bytes + s.depth_bytes + s.pool_drop_bytes +
            s.midstream_bytes + s.window_drop_bytes + s.after_end_bytes)
        bad("byte accounting: bytes offered != the sum of where they went");
    if (s.blocks_used != 0 || s.chunk_buffers_used != 0 || s.held_bytes != 0)
        bad("blocks or chunk buffers still taken after every flow ended");
    cg_flowtable_destroy(w.ft);
    cg_reasm_destroy(w.r);
    return 0;
}
