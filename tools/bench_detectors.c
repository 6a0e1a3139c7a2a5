/* bench_detectors.c — what the scan and DNS tunnel detectors (analyzer/
 * detectors.h) cost, measured in one process.
 *
 *   bench_detectors -r FILE [-S RULES]... [--runs N] [--flood N] [--table N]
 *
 * Times are the thread's CPU time.
 *
 *  1. Per packet: FILE's frames are loaded into memory, then N runs (default
 *     5) of the whole worker (decode, flow, reassembly, parsers, detection
 *     with RULES, default rules/) without the detectors and N runs with them
 *     are timed in alternation, each with a fresh worker; the medians in ns
 *     per packet, and their difference; then the detectors alone: the flow
 *     table (and the DNS parser on UDP port 53) over the same frames with
 *     the detectors' calls and without, alternating, medians.
 *  2. Memory under a flood (run first): one detectors table (--table entries, default
 *     65536) is fed --flood random sources (default 1,000,000), each with one
 *     refused connection attempt, and as many DNS queries of random clients
 *     for random names under random domains, while one scanner probes a new
 *     port of one host every 8 flood sources and one client tunnels TXT
 *     queries under one domain every 8: the entries in use stay at the
 *     table's size, what was reclaimed live is counted, the memory is what
 *     create allocated, and the scanner and the tunnel are still caught.
 *
 * Nothing is written to a store or an EVE file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/engine/detect.h"
#include "analyzer/engine/detectors.h"
#include "analyzer/engine/inspect.h"
#include "analyzer/lang/rule.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/dns.h"
#include "sensor/flow.h"

typedef struct frames {
    uint8_t *buf;
    size_t len, cap;
    uint64_t *off;
    uint32_t *caplen, *wirelen;
    uint64_t *ts;
    size_t n, ncap;
    int dlt;
} frames;

/* This thread's CPU time: the box running the benchmark may be busy with
 * other work, which wall time would charge to whichever run it hit. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident memory now, KiB (Linux), or -1. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size, res;
    if (!f)
        return -1;
    int n = fscanf(f, "%ld %ld", &size, &res);
    fclose(f);
    return n == 2 ? res * 4 : -1;
}

static int load_frames(const char *path, frames *fr)
{
    char err[512];
    cg_capture *c;
    if (cg_capture_open_file(&c, path, err, sizeof err)) {
        fprintf(stderr, "bench_detectors: %s\n", err);
        return -1;
    }
    fr->dlt = cg_capture_dlt(c);
    cg_frame f;
    int rc;
    while ((rc = cg_capture_next(c, &f, err, sizeof err)) == 1) {
        if (fr->len + f.caplen > fr->cap) {
            fr->cap = fr->cap ? fr->cap * 2 : 64 << 20;
            fr->buf = realloc(fr->buf, fr->cap);
        }
        if (fr->n == fr->ncap) {
            fr->ncap = fr->ncap ? fr->ncap * 2 : 1 << 16;
            fr->off = realloc(fr->off, fr->ncap * sizeof *fr->off);
            fr->caplen = realloc(fr->caplen, fr->ncap * sizeof *fr->caplen);
            fr->wirelen = realloc(fr->wirelen, fr->ncap * sizeof *fr->wirelen);
            fr->ts = realloc(fr->ts, fr->ncap * sizeof *fr->ts);
        }
        if (!fr->buf || !fr->off || !fr->caplen || !fr->wirelen || !fr->ts) {
            fprintf(stderr, "bench_detectors: out of memory\n");
            cg_capture_close(c);
            return -1;
        }
        memcpy(fr->buf + fr->len, f.data, f.caplen);
        fr->off[fr->n] = fr->len;
        fr->caplen[fr->n] = f.caplen;
        fr->wirelen[fr->n] = f.wirelen;
        fr->ts[fr->n] = f.ts_us;
        fr->len += f.caplen;
        fr->n++;
    }
    cg_capture_close(c);
    if (rc < 0) {
        fprintf(stderr, "bench_detectors: %s\n", err);
        return -1;
    }
    return 0;
}

typedef struct counts {
    uint64_t rule, det;
} counts;

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    counts *c = ctx;
    (void)p, (void)f, (void)to_server, (void)stream;
    if (r->gid == 122 || r->gid == 9100)
        c->det++;
    else
        c->rule++;
}

/* The whole worker over every frame, with the detectors or not; seconds. */
static double run(const frames *fr, const cg_detect *d, const cg_ruleset *rs, int with, counts *c,
                  cg_detectors_stats *ds)
{
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    cg_inspect_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flow.max_flows = 262144;
    cfg.on_alert = on_alert;
    cfg.ctx = c;
    char err[256];
    cg_detectors *det = NULL;
    cg_inspect *in = NULL;
    if ((with && cg_detectors_create(&det, NULL, rs, err, sizeof err)) ||
        (cfg.det = det, cg_inspect_create(&in, d, &cfg, err, sizeof err))) {
        fprintf(stderr, "bench_detectors: %s\n", err);
        exit(1);
    }
    cg_packet p;
    double t0 = now_s();
    for (size_t i = 0; i < fr->n; i++) {
        if (cg_decode(&p, fr->dlt, fr->buf + fr->off[i], fr->caplen[i], fr->wirelen[i], fr->ts[i],
                      &st) != CG_OK ||
            p.ipver == 0)
            continue;
        cg_inspect_packet(in, &p);
    }
    cg_inspect_finish(in);
    double t = now_s() - t0;
    if (det)
        cg_detectors_get_stats(det, ds);
    cg_inspect_destroy(in);
    cg_detectors_destroy(det);
    return t;
}

/* The detectors alone: the flow table over every frame (and the DNS parser
 * over UDP port 53), with the detectors' calls or without; seconds. What
 * the two differ by is what the detectors add to a worker. */
typedef struct iso {
    cg_detectors *det;
    uint64_t alerts;
} iso;

static void iso_evict(void *ctx, cg_flow *f, int reason)
{
    iso *x = ctx;
    const cg_det_alert *a;
    (void)reason;
    if (x->det)
        x->alerts += cg_detectors_flow_end(x->det, f, &a);
}

static double run_alone(const frames *fr, int with, uint64_t *alerts)
{
    static uint8_t scratch[CG_DNS_SCRATCH_SIZE];
    static cg_bufset bs;
    cg_decode_stats st;
    cg_dns_stats dst;
    memset(&st, 0, sizeof st);
    memset(&dst, 0, sizeof dst);
    iso x = { NULL, 0 };
    char err[256];
    if (with && cg_detectors_create(&x.det, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "bench_detectors: %s\n", err);
        exit(1);
    }
    cg_flow_config fc;
    memset(&fc, 0, sizeof fc);
    fc.max_flows = 262144;
    fc.on_evict = iso_evict;
    fc.evict_ctx = &x;
    cg_flowtable *ft;
    if (cg_flowtable_create(&ft, &fc)) {
        fprintf(stderr, "bench_detectors: cannot make a flow table\n");
        exit(1);
    }
    cg_packet p;
    const cg_det_alert *a;
    double t0 = now_s();
    for (size_t i = 0; i < fr->n; i++) {
        if (cg_decode(&p, fr->dlt, fr->buf + fr->off[i], fr->caplen[i], fr->wirelen[i], fr->ts[i],
                      &st) != CG_OK ||
            p.ipver == 0)
            continue;
        int ts = 1;
        cg_flow *f = cg_flowtable_update(ft, &p, &ts);
        if (!f)
            continue;
        if (p.proto == 6 && x.det)
            x.alerts += cg_detectors_packet(x.det, &p, f, ts, &a);
        if (p.proto == 17 && (p.sport == 53 || p.dport == 53) && p.payload_len > 0) {
            cg_dns_parse(p.payload, p.payload_len, p.payload_len, scratch, sizeof scratch, &bs,
                         NULL, &dst);
            if (x.det)
                x.alerts += cg_detectors_dns(x.det, &p, p.payload, p.payload_len, &bs, &a);
        }
    }
    cg_flowtable_evict_all(ft);
    double t = now_s() - t0;
    cg_flowtable_destroy(ft);
    cg_detectors_destroy(x.det);
    *alerts = x.alerts;
    return t;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the flood ----------------------------------------------------------- */

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void v4(uint8_t a[16], uint32_t x)
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)(x >> 24), a[13] = (uint8_t)(x >> 16), a[14] = (uint8_t)(x >> 8);
    a[15] = (uint8_t)x;
}

/* A refused attempt of src to dst:port at ts: the server's RST on a flow
 * whose SYN was seen. Returns the alerts raised. */
static uint32_t refused(cg_detectors *d, const uint8_t src[16], const uint8_t dst[16],
                        uint16_t port, uint64_t ts, const cg_det_alert **a)
{
    cg_flow f;
    memset(&f, 0, sizeof f);
    f.proto = 6;
    memcpy(f.cli, src, 16);
    memcpy(f.srv, dst, 16);
    f.cport = 40000;
    f.sport = port;
    f.tcp_state = CG_TCP_CLOSED;
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = ts;
    p.ipver = 4;
    p.proto = 6;
    p.flags = CG_PKT_HAS_PORTS;
    memcpy(p.src, dst, 16);
    memcpy(p.dst, src, 16);
    p.sport = port;
    p.dport = 40000;
    p.tcp_flags = CG_TH_RST | CG_TH_ACK;
    return cg_detectors_packet(d, &p, &f, 0, a);
}

/* A DNS query of name (type qtype) from cli at ts. */
static uint32_t query(cg_detectors *d, uint8_t *scratch, cg_bufset *bs, const uint8_t cli[16],
                      const char *name, uint16_t qtype, uint64_t ts, const cg_det_alert **a)
{
    uint8_t m[300];
    size_t n = 12;
    memset(m, 0, 12);
    m[2] = 0x01;
    m[5] = 1;
    for (const char *p = name; *p;) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        m[n++] = (uint8_t)l;
        memcpy(m + n, p, l);
        n += l;
        p += l + (dot != NULL);
    }
    m[n++] = 0;
    m[n++] = (uint8_t)(qtype >> 8);
    m[n++] = (uint8_t)qtype;
    m[n++] = 0;
    m[n++] = 1;
    cg_dns_stats st;
    memset(&st, 0, sizeof st);
    cg_dns_parse(m, (uint32_t)n, (uint32_t)n, scratch, CG_DNS_SCRATCH_SIZE, bs, NULL, &st);
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = ts;
    p.ipver = 4;
    p.proto = 17;
    memcpy(p.src, cli, 16);
    return cg_detectors_dns(d, &p, m, (uint32_t)n, bs, a);
}

static int flood(uint64_t nsrc, uint32_t table)
{
    cg_detectors_config c;
    cg_detectors_defaults(&c);
    c.table_size = table;
    cg_detectors *d;
    char err[256];
    long rss0 = rss_kib();
    if (cg_detectors_create(&d, &c, NULL, err, sizeof err)) {
        fprintf(stderr, "bench_detectors: %s\n", err);
        return 1;
    }
    static uint8_t scratch[CG_DNS_SCRATCH_SIZE];
    static cg_bufset bs;
    uint8_t src[16], dst[16], scanner[16], target[16], tunnel[16];
    v4(scanner, 0xc6336407); /* 198.51.100.7 */
    v4(target, 0x0a14010a);  /* 10.20.1.10 */
    v4(tunnel, 0x0a150442);  /* 10.21.4.66 */
    uint64_t s = 0x9e3779b97f4a7c15ull, ts = 1763971200ull * 1000000ull;
    uint64_t scanner_caught = 0, tunnel_caught = 0, alerts = 0;
    char name[200];
    const cg_det_alert *a;
    double t0 = now_s();
    for (uint64_t i = 0; i < nsrc; i++, ts += 50) { /* 20,000 sources a second */
        v4(src, (uint32_t)xs(&s));
        v4(dst, 0x0a140000u | (uint32_t)(xs(&s) & 0xffff));
        alerts += refused(d, src, dst, (uint16_t)(1 + xs(&s) % 1024), ts, &a);
        v4(src, (uint32_t)xs(&s));
        snprintf(name, sizeof name, "%08llx%04llx.d%llx.example", (unsigned long long)xs(&s),
                 (unsigned long long)(xs(&s) & 0xffff), (unsigned long long)(xs(&s) % 100000));
        alerts += query(d, scratch, &bs, src, name, 1, ts, &a);
        if (i % 8 == 0) {
            uint32_t n = refused(d, scanner, target, (uint16_t)(1 + (i / 8) % 60000), ts + 1, &a);
            for (uint32_t k = 0; k < n; k++)
                scanner_caught += !memcmp(a[k].pkt->src, scanner, 16);
            snprintf(name, sizeof name, "cmd%llu.update-cdn.xyz", (unsigned long long)(i % 7));
            n = query(d, scratch, &bs, tunnel, name, 16, ts + 2, &a);
            for (uint32_t k = 0; k < n; k++)
                tunnel_caught += !memcmp(a[k].pkt->src, tunnel, 16);
        }
    }
    double t = now_s() - t0;
    cg_detectors_stats st;
    cg_detectors_get_stats(d, &st);
    uint64_t events = nsrc * 2 + nsrc / 4;
    printf("flood %llu random sources (a refused attempt each) and %llu random DNS clients "
           "and domains, over %.0f s of traffic:\n",
           (unsigned long long)nsrc, (unsigned long long)nsrc, (double)nsrc * 50 / 1e6);
    printf("  table %u entries of %d bytes: %llu bytes (%.1f MiB) allocated at create; resident "
           "memory grew %.1f MiB over the flood\n",
           st.capacity, CG_DETECTORS_ENTRY_BYTES, (unsigned long long)st.mem_bytes,
           st.mem_bytes / 1048576.0, (rss_kib() - rss0) / 1024.0);
    printf("  entries in use %u (the cap), reclaimed while live (table full) %llu\n", st.tracked,
           (unsigned long long)st.table_full);
    printf("  the scanner among them (a new port every 8 sources): %s; the tunnel (TXT every 8): "
           "%s; %llu alerts from the flood itself\n",
           scanner_caught ? "caught" : "missed", tunnel_caught ? "caught" : "missed",
           (unsigned long long)(alerts));
    printf("  %.0f ns per event, building and parsing the queries included (%llu events)\n",
           t * 1e9 / (double)events, (unsigned long long)events);
    int ok = st.tracked == st.capacity && st.table_full > 0 && scanner_caught && tunnel_caught;
    cg_detectors_destroy(d);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = { { "runs", required_argument, 0, 'n' },
                                          { "flood", required_argument, 0, 'f' },
                                          { "table", required_argument, 0, 't' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    const char *rfile = NULL, *paths[32];
    int np = 0, runs = 5, c;
    uint64_t nflood = 1000000;
    uint32_t table = 65536;
    while ((c = getopt_long(argc, argv, "r:S:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rfile = optarg; break;
        case 'S':
            if (np < 32)
                paths[np++] = optarg;
            break;
        case 'n': runs = atoi(optarg); break;
        case 'f': nflood = strtoull(optarg, NULL, 10); break;
        case 't': table = (uint32_t)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr,
                    "usage: bench_detectors [-r FILE [-S RULES]... [--runs N]] "
                    "[--flood N] [--table N]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (runs < 1 || runs > 99)
        runs = 5;
    if (np == 0)
        paths[np++] = "rules";
    /* the flood first, so that its memory is the process's first use of it */
    int rc = nflood ? flood(nflood, table) : 0;
    if (rfile) {
        frames fr;
        memset(&fr, 0, sizeof fr);
        if (load_frames(rfile, &fr))
            return 1;
        char err[1024];
        cg_ruleset *rs;
        cg_detect *d;
        if (cg_ruleset_create(&rs))
            return 1;
        for (int i = 0; i < np; i++)
            if (cg_ruleset_load_path(rs, paths[i], err, sizeof err)) {
                fprintf(stderr, "bench_detectors: %s\n", err);
                return 1;
            }
        if (cg_detect_build(&d, rs, NULL, err, sizeof err)) {
            fprintf(stderr, "bench_detectors: %s\n", err);
            return 1;
        }
        double t0[100], t1[100];
        counts c0 = { 0, 0 }, c1 = { 0, 0 };
        cg_detectors_stats ds;
        memset(&ds, 0, sizeof ds);
        for (int i = 0; i < runs; i++) {
            c0 = (counts){ 0, 0 };
            c1 = (counts){ 0, 0 };
            t0[i] = run(&fr, d, rs, 0, &c0, &ds);
            t1[i] = run(&fr, d, rs, 1, &c1, &ds);
        }
        double m0 = median(t0, runs), m1 = median(t1, runs);
        double n = (double)fr.n;
        printf("capture %s: %zu packets; the whole worker with %s, median of %d runs each, "
               "alternating\n",
               rfile, fr.n, paths[0], runs);
        printf("  without detectors %8.1f ns/packet  (%llu rule alerts)\n", m0 * 1e9 / n,
               (unsigned long long)c0.rule);
        printf("  with detectors    %8.1f ns/packet  (%llu rule alerts, %llu detector alerts: "
               "%llu port scans, %llu sweeps, %llu slow, %llu dns)\n",
               m1 * 1e9 / n, (unsigned long long)c1.rule, (unsigned long long)c1.det,
               (unsigned long long)ds.alerts[CG_DET_VERTICAL],
               (unsigned long long)ds.alerts[CG_DET_HORIZONTAL],
               (unsigned long long)ds.alerts[CG_DET_SLOW],
               (unsigned long long)(ds.alerts[CG_DET_DNS_LONG] + ds.alerts[CG_DET_DNS_NAMES] +
                                    ds.alerts[CG_DET_DNS_TYPES]));
        printf("  difference        %+8.1f ns/packet  (%+.1f%%); %llu DNS queries looked at, "
               "%llu scan evidence, %u entries in use\n",
               (m1 - m0) * 1e9 / n, 100.0 * (m1 - m0) / m0, (unsigned long long)ds.dns_queries,
               (unsigned long long)(ds.refused + ds.half_open + ds.unanswered + ds.stealth),
               ds.tracked);
        /* the same, the detectors alone: flow table and DNS parser with their
         * calls and without */
        double a0[100], a1[100];
        uint64_t al = 0, al0 = 0;
        for (int i = 0; i < runs; i++) {
            a0[i] = run_alone(&fr, 0, &al0);
            a1[i] = run_alone(&fr, 1, &al);
        }
        double ma0 = median(a0, runs), ma1 = median(a1, runs);
        printf("  alone: flow table and DNS parser %.1f ns/packet, with the detectors' calls "
               "%.1f: the detectors %+.1f ns/packet (%llu alerts)\n",
               ma0 * 1e9 / n, ma1 * 1e9 / n, (ma1 - ma0) * 1e9 / n, (unsigned long long)al);
        cg_detect_destroy(d);
        cg_ruleset_destroy(rs);
        free(fr.buf), free(fr.off), free(fr.caplen), free(fr.wirelen), free(fr.ts);
    }
    return rc;
}
