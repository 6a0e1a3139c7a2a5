/* bench_reasm.c — throughput and memory of TCP stream reassembly, in one
 * process, on synthetic segments (no capture file needed).
 *
 *   bench_reasm [--bytes N] [--flows N]
 *
 *   1. Throughput: 1,024 concurrent flows, round robin, 1,460-byte segments,
 *      N bytes of payload in all (default 2 GiB), in order and then with 10%
 *      of the segments out of order (pairs swapped); for each, the consumer
 *      takes (a) every in-order piece (no copy) and (b) 64 KiB chunks (one
 *      copy). Depth unlimited, so every byte is reassembled. Gbit/s of payload.
 *   2. Memory per flow: the reassembly state of both directions, and the flow
 *      table slot that holds it.
 *   3. Scale: N concurrent flows (default 1,000,000) through the flow table at
 *      its default cap (256 MiB) with the reassembly state in each flow's user
 *      area and the default pools: a SYN, a SYN+ACK, a request in order and,
 *      for one flow in ten, a segment out of order; then every flow evicted
 *      and its streams ended. Peak RSS of the process.
 *
 * The consumer only reads a byte of each piece, so the figures are those of
 * reassembly itself.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sensor/decode.h"
#include "sensor/flow.h"
#include "sensor/reasm.h"

#define SEG 1460u
#define NFLOWS 1024u
#define PATTERN 4096u /* segments in the reordering pattern */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

typedef struct sink {
    uint64_t events, bytes, sum;
} sink;

static void consume(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    sink *s = ctx;
    (void)owner;
    s->events++;
    s->bytes += c->len;
    if (c->len)
        s->sum += c->data[c->len - 1];
}

/* order[i]: which segment of a run of PATTERN goes i-th. Reordered: in each
 * group of ten segments, one pair at a random place is swapped, so exactly
 * one segment in ten arrives ahead of its turn (and is held). */
static void make_pattern(uint32_t *order, int reorder, uint32_t *ooo)
{
    *ooo = 0;
    rng = 0x9E3779B97F4A7C15ull; /* the same pattern every run */
    for (uint32_t i = 0; i < PATTERN; i++)
        order[i] = i;
    if (!reorder)
        return;
    for (uint32_t g = 0; g + 10 <= PATTERN; g += 10) {
        uint32_t j = g + 2 * (rnd() % 5);
        order[j] = j + 1;
        order[j + 1] = j;
        (*ooo)++;
    }
}

/* Gbit/s of payload through cg_reasm_segment for one configuration; the first
 * WARMUP rounds (which fault in the chunk buffers) are not timed. */
#define WARMUP 100u /* a multiple of 10 */
static double run_throughput(uint64_t total, int reorder, int chunks, uint64_t *ooo_out,
                             uint64_t *delivered, double *mseg)
{
    sink s;
    memset(&s, 0, sizeof s);
    cg_reasm_config cfg = { .depth = CG_REASM_UNLIMITED, .ctx = &s };
    if (chunks)
        cfg.on_chunk = consume;
    else
        cfg.on_data = consume;
    cg_reasm *r = NULL;
    if (cg_reasm_create(&r, &cfg))
        return -1;
    static uint8_t payload[SEG * 64];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)rnd();
    cg_reasm_flow *f = calloc(NFLOWS, sizeof *f);
    uint32_t *isn = calloc(NFLOWS, sizeof *isn);
    static uint32_t order[PATTERN];
    uint32_t ooo;
    make_pattern(order, reorder, &ooo);
    for (uint32_t k = 0; k < NFLOWS; k++) {
        isn[k] = rnd();
        cg_reasm_segment(r, &f[k], &f[k], 1, isn[k], CG_TH_SYN, NULL, 0);
    }
    uint64_t segs = total / SEG;
    uint64_t rounds = WARMUP + segs / NFLOWS;
    rounds -= rounds % 10; /* no swapped pair cut in half */
    double t0 = now_s();
    uint64_t warm = 0;
    for (uint64_t i = 0; i < rounds; i++) {
        if (i == WARMUP) {
            cg_reasm_stats w;
            cg_reasm_get_stats(r, &w);
            warm = w.delivered;
            t0 = now_s();
        }
        uint64_t run = i / PATTERN, pos = i % PATTERN;
        uint64_t n = run * PATTERN + order[pos]; /* segment number in each flow */
        const uint8_t *p = payload + (n % 64) * SEG;
        for (uint32_t k = 0; k < NFLOWS; k++)
            cg_reasm_segment(r, &f[k], &f[k], 1, isn[k] + 1 + (uint32_t)(n * SEG), CG_TH_ACK, p,
                             SEG);
    }
    for (uint32_t k = 0; k < NFLOWS; k++)
        cg_reasm_end(r, &f[k], &f[k]);
    double dt = now_s() - t0;
    cg_reasm_stats st;
    cg_reasm_get_stats(r, &st);
    *ooo_out = st.ooo_segments;
    *delivered = st.delivered;
    double gbit = (double)(st.delivered - warm) * 8 / 1e9 / dt;
    *mseg = (double)(st.delivered - warm) / SEG / dt / 1e6;
    if (st.delivered != rounds * NFLOWS * SEG || s.bytes != st.delivered || st.gaps) {
        fprintf(stderr, "bench_reasm: delivered %llu of %llu bytes, %llu gaps\n",
                (unsigned long long)st.delivered, (unsigned long long)(rounds * NFLOWS * SEG),
                (unsigned long long)st.gaps);
        gbit = -1;
    }
    free(f);
    free(isn);
    cg_reasm_destroy(r);
    return gbit;
}

typedef struct scale_ctx {
    cg_reasm *r;
    uint64_t ended;
} scale_ctx;

static void on_evict(void *ctx, cg_flow *f, int reason)
{
    scale_ctx *sc = ctx;
    (void)reason;
    cg_reasm_end(sc->r, cg_flow_user(f), f); /* the streams close where the flow goes */
    sc->ended++;
}

static void mkpkt(cg_packet *p, uint32_t i, int from_client, uint8_t flags, uint32_t seq,
                  const uint8_t *data, uint32_t len, uint64_t ts)
{
    memset(p, 0, sizeof *p);
    p->ipver = 4;
    p->proto = 6;
    p->flags = CG_PKT_HAS_PORTS;
    uint8_t cli[16] = { 0 }, srv[16] = { 0 };
    cli[10] = cli[11] = srv[10] = srv[11] = 0xff;
    cli[12] = 10;
    cli[13] = (uint8_t)(i >> 16);
    cli[14] = (uint8_t)(i >> 8);
    cli[15] = (uint8_t)i;
    srv[12] = 192;
    srv[13] = 0;
    srv[14] = 2;
    srv[15] = (uint8_t)(1 + i % 200);
    uint16_t cport = (uint16_t)(1024 + (i >> 24) * 7 + i % 50000), sport = 443;
    memcpy(from_client ? p->src : p->dst, cli, 16);
    memcpy(from_client ? p->dst : p->src, srv, 16);
    p->sport = from_client ? cport : sport;
    p->dport = from_client ? sport : cport;
    p->tcp_flags = flags;
    p->tcp_seq = seq;
    p->payload = data;
    p->payload_len = len;
    p->wirelen = 54 + len;
    p->caplen = p->wirelen;
    p->ts_us = ts;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int run_scale(uint32_t nflows)
{
    long rss0 = peak_rss_kib();
    scale_ctx sc = { 0 };
    cg_reasm_config rcfg = { 0 };
    static sink s;
    rcfg.on_chunk = consume;
    rcfg.ctx = &s;
    if (cg_reasm_create(&sc.r, &rcfg))
        return -1;
    cg_flow_config fcfg = { .user_size = sizeof(cg_reasm_flow),
                            .on_evict = on_evict,
                            .evict_ctx = &sc };
    cg_flowtable *ft = NULL;
    if (cg_flowtable_create(&ft, &fcfg)) {
        cg_reasm_destroy(sc.r);
        return -1;
    }
    cg_flow_stats fs;
    cg_flowtable_stats(ft, &fs);
    static const uint8_t req[] = "GET /index.html HTTP/1.1\r\nHost: portal.example.vn\r\n"
                                 "User-Agent: bench\r\nAccept: */*\r\n\r\n";
    static const uint8_t late[] = "a segment that arrives ahead of its turn";
    double t0 = now_s();
    uint64_t pkts = 0;
    for (uint32_t i = 0; i < nflows; i++) {
        uint64_t ts = 1000000000ull + i; /* 1 us apart: no flow times out */
        uint32_t cisn = rnd(), sisn = rnd();
        cg_packet p;
        int ts_dir;
        mkpkt(&p, i, 1, CG_TH_SYN, cisn, NULL, 0, ts);
        cg_flow *f = cg_flowtable_update(ft, &p, &ts_dir);
        if (!f)
            continue;
        cg_reasm_packet(sc.r, cg_flow_user(f), f, ts_dir, &p);
        mkpkt(&p, i, 0, CG_TH_SYN | CG_TH_ACK, sisn, NULL, 0, ts);
        f = cg_flowtable_update(ft, &p, &ts_dir);
        cg_reasm_packet(sc.r, cg_flow_user(f), f, ts_dir, &p);
        mkpkt(&p, i, 1, CG_TH_ACK | CG_TH_PSH, cisn + 1, req, sizeof req - 1, ts);
        f = cg_flowtable_update(ft, &p, &ts_dir);
        cg_reasm_packet(sc.r, cg_flow_user(f), f, ts_dir, &p);
        pkts += 3;
        if (i % 10 == 0) {
            mkpkt(&p, i, 0, CG_TH_ACK, sisn + 1 + 1000, late, sizeof late - 1, ts);
            f = cg_flowtable_update(ft, &p, &ts_dir);
            cg_reasm_packet(sc.r, cg_flow_user(f), f, ts_dir, &p);
            pkts++;
        }
    }
    double t_fill = now_s() - t0;
    cg_flowtable_stats(ft, &fs);
    cg_reasm_stats rs;
    cg_reasm_get_stats(sc.r, &rs);
    long rss_full = peak_rss_kib();
    t0 = now_s();
    uint32_t evicted = cg_flowtable_evict_all(ft);
    double t_evict = now_s() - t0;
    cg_reasm_stats re;
    cg_reasm_get_stats(sc.r, &re);

    printf("scale: %u flows wanted, %llu active (capacity %u, refused %llu)\n", nflows,
           (unsigned long long)fs.active, fs.capacity, (unsigned long long)fs.refused_cap);
    printf("  flow table    %.1f MiB (cap %.0f MiB), %u bytes per flow slot\n",
           fs.mem_bytes / 1048576.0, CG_FLOW_DEFAULT_MEMCAP / 1048576.0, fs.slot_bytes);
    printf("  reassembly    %.1f MiB of pools (blocks %u, %u used at most; chunk buffers %u, "
           "%llu taken back)\n",
           rs.mem_bytes / 1048576.0, rs.blocks_total, rs.blocks_peak, rs.chunk_buffers,
           (unsigned long long)rs.chunk_steals);
    printf("  fill          %llu packets in %.2f s (%.2f M packets/s through flow + reassembly)\n",
           (unsigned long long)pkts, t_fill, pkts / t_fill / 1e6);
    printf("  out of order  %llu segments held, %llu dropped with the pool full (%.0f MiB)\n",
           (unsigned long long)rs.ooo_segments, (unsigned long long)rs.pool_exhausted,
           rs.blocks_total * 2048.0 / 1048576.0);
    printf("  evict all     %u flows in %.2f s; streams ended %llu of %llu; blocks in use %u\n",
           evicted, t_evict, (unsigned long long)re.streams_ended,
           (unsigned long long)re.streams_started, re.blocks_used);
    printf("  peak RSS      %.1f MiB (%.1f MiB before the table and pools; %.0f MiB reserved, "
           "resident as touched)\n",
           rss_full / 1024.0, rss0 / 1024.0, (fs.mem_bytes + rs.mem_bytes) / 1048576.0);
    int ok = fs.active == nflows && re.blocks_used == 0 && re.streams_ended == re.streams_started &&
        sc.ended == evicted;
    cg_flowtable_destroy(ft);
    cg_reasm_destroy(sc.r);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    uint64_t total = 2ull << 30;
    uint32_t nflows = 1000000;
    static const struct option opts[] = { { "bytes", required_argument, 0, 'b' },
                                          { "flows", required_argument, 0, 'f' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, "b:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': total = strtoull(optarg, NULL, 10); break;
        case 'f': nflows = (uint32_t)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench_reasm [--bytes N] [--flows N]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (total < (uint64_t)SEG * NFLOWS || nflows == 0) {
        fprintf(stderr, "bench_reasm: --bytes at least %u, --flows at least 1\n", SEG * NFLOWS);
        return 2;
    }
    double t_start = now_s();
    int rc = 0;
    printf("memory per flow: %zu bytes of reassembly state (%zu per direction, nothing "
           "buffered); held data and chunks come from the shared pools\n",
           sizeof(cg_reasm_flow), sizeof(cg_reasm_dir));
    if (run_scale(nflows))
        rc = 1;
    printf("throughput: %u flows, %u-byte segments, %.2f GiB of payload per run; the consumer "
           "reads one byte per event\n",
           NFLOWS, SEG, total / 1073741824.0);
    for (int reorder = 0; reorder < 2; reorder++)
        for (int chunks = 0; chunks < 2; chunks++) {
            uint64_t ooo, delivered;
            double mseg = 0;
            double g = run_throughput(total, reorder, chunks, &ooo, &delivered, &mseg);
            if (g < 0)
                rc = 1;
            printf("  %-13s %-26s %7.1f Gbit/s  %6.1f M segments/s  (%.1f%% held out of order)\n",
                   reorder ? "10% reordered" : "in order",
                   chunks ? "(b) 64 KiB chunks, copied" : "(a) in-order pieces, views", g, mseg,
                   100.0 * ooo / (delivered / SEG));
        }
    printf("total %.1f s\n", now_s() - t_start);
    return rc;
}
