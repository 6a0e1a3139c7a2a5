/* test_detectors.c — the scan and DNS tunnel detectors (analyzer/engine/detectors.h)
 * with crafted packets through a real flow table: a vertical scan of 100
 * ports by SYNs answered by RST alerts once; 100 ordinary connections to one
 * web server from 100 clients, and one client's 100 completed connections to
 * 100 ports, raise nothing; a sweep of 50 hosts on port 22 left unanswered
 * alerts once when the flows end; a half-open SYN scan; stealth probes; a
 * slow scan, and no slow alert for a fast scanner; once per window; a table
 * full of random sources stays at its cap, counts what it reclaims, and still
 * catches the scanner that keeps going; DNS: long labels, high entropy, many
 * names under one registered domain (three labels under gov.vn), TXT/NULL/
 * CNAME volume, responses ignored, and ordinary lookups of popular names
 * raising nothing; the settings file and its errors; the hooks of the worker
 * (cg_inspect), DNS included when no rule needs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/engine/detectors.h"
#include "analyzer/engine/inspect.h"
#include "sensor/dns.h"
#include "tests/check.h"
#include "tests/util_conn.h"

#define S 1000000ull
#define T0 (1763971200ull * S)

/* ---- a world: a flow table whose flows' ends reach the detectors ---------- */

typedef struct seen {
    int kind;
    uint8_t src[16], dst[16];
    uint16_t dport;
    int has_ports;
    uint64_t ts;
} seen;

typedef struct world {
    cg_detectors *d;
    cg_flowtable *ft;
    seen log[256];
    uint32_t n;
} world;

static void record(world *w, uint32_t n, const cg_det_alert *a)
{
    for (uint32_t i = 0; i < n && w->n < 256; i++) {
        seen *s = &w->log[w->n++];
        s->kind = -1;
        for (int k = 0; k < CG_DET_KINDS; k++)
            if (a[i].rule == cg_detectors_rule(w->d, k))
                s->kind = k;
        memcpy(s->src, a[i].pkt->src, 16);
        memcpy(s->dst, a[i].pkt->dst, 16);
        s->dport = a[i].pkt->dport;
        s->has_ports = (a[i].pkt->flags & CG_PKT_HAS_PORTS) != 0;
        s->ts = a[i].pkt->ts_us;
    }
}

static void on_evict(void *ctx, cg_flow *f, int reason)
{
    world *w = ctx;
    const cg_det_alert *a = NULL;
    (void)reason;
    uint32_t n = cg_detectors_flow_end(w->d, f, &a);
    record(w, n, a);
}

static int world_make(world *w, const cg_detectors_config *c)
{
    memset(w, 0, sizeof *w);
    char err[256];
    if (cg_detectors_create(&w->d, c, NULL, err, sizeof err)) {
        fprintf(stderr, "detectors: %s\n", err);
        return -1;
    }
    cg_flow_config fc;
    memset(&fc, 0, sizeof fc);
    fc.memcap = 64ull << 20;
    fc.max_flows = 100000;
    fc.on_evict = on_evict;
    fc.evict_ctx = w;
    return cg_flowtable_create(&w->ft, &fc);
}

static void world_free(world *w)
{
    if (w->ft)
        cg_flowtable_evict_all(w->ft);
    cg_flowtable_destroy(w->ft);
    cg_detectors_destroy(w->d);
}

static uint32_t count(const world *w, int kind)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->n; i++)
        n += w->log[i].kind == kind;
    return n;
}

static uint32_t total(const world *w)
{
    return w->n;
}

static void tcp(world *w, const uint8_t src[16], uint16_t sport, const uint8_t dst[16],
                uint16_t dport, uint8_t flags, uint32_t payload, uint64_t ts)
{
    static const uint8_t bytes[64];
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = ts;
    p.ipver = 4;
    p.proto = 6;
    p.flags = CG_PKT_HAS_PORTS;
    memcpy(p.src, src, 16);
    memcpy(p.dst, dst, 16);
    p.sport = sport;
    p.dport = dport;
    p.tcp_flags = flags;
    p.payload = bytes;
    p.payload_len = payload;
    int ts_ = 1;
    cg_flow *f = cg_flowtable_update(w->ft, &p, &ts_);
    const cg_det_alert *a = NULL;
    uint32_t n = cg_detectors_packet(w->d, &p, f, ts_, &a);
    record(w, n, a);
}

/* A connection that completes and carries a request and an answer. */
static void ordinary(world *w, const uint8_t cli[16], uint16_t cport, const uint8_t srv[16],
                     uint16_t sport, uint64_t ts)
{
    tcp(w, cli, cport, srv, sport, CG_TH_SYN, 0, ts);
    tcp(w, srv, sport, cli, cport, CG_TH_SYN | CG_TH_ACK, 0, ts + 100);
    tcp(w, cli, cport, srv, sport, CG_TH_ACK, 0, ts + 200);
    tcp(w, cli, cport, srv, sport, CG_TH_ACK | CG_TH_PSH, 40, ts + 300);
    tcp(w, srv, sport, cli, cport, CG_TH_ACK | CG_TH_PSH, 60, ts + 400);
    tcp(w, cli, cport, srv, sport, CG_TH_FIN | CG_TH_ACK, 0, ts + 500);
    tcp(w, srv, sport, cli, cport, CG_TH_FIN | CG_TH_ACK, 0, ts + 600);
    tcp(w, cli, cport, srv, sport, CG_TH_ACK, 0, ts + 700);
}

/* A SYN the server refuses with a RST. */
static void refused(world *w, const uint8_t cli[16], uint16_t cport, const uint8_t srv[16],
                    uint16_t sport, uint64_t ts)
{
    tcp(w, cli, cport, srv, sport, CG_TH_SYN, 0, ts);
    tcp(w, srv, sport, cli, cport, CG_TH_RST | CG_TH_ACK, 0, ts + 50);
}

static void test_scans(void)
{
    uint8_t scanner[16], target[16], cli[16], srv[16];
    tconn_v4(scanner, 198, 51, 100, 7);
    tconn_v4(target, 10, 20, 1, 10);
    world w;

    /* vertical: 100 ports, SYN answered by RST, in 10 s: one alert */
    CHECK(world_make(&w, NULL) == 0);
    for (uint16_t port = 1; port <= 100; port++)
        refused(&w, scanner, 40000, target, port, T0 + port * 100000ull);
    CHECK_EQ_U(count(&w, CG_DET_VERTICAL), 1);
    CHECK_EQ_U(total(&w), 1);
    if (w.n == 1) {
        CHECK(!memcmp(w.log[0].src, scanner, 16));
        CHECK(!memcmp(w.log[0].dst, target, 16));
        CHECK(!w.log[0].has_ports);                /* a port scan is about no one port */
        CHECK(w.log[0].ts >= T0 + 25 * 100000ull); /* not before the 25th port */
    }
    const cg_rule *r = cg_detectors_rule(w.d, CG_DET_VERTICAL);
    CHECK_EQ_U(r->gid, 122);
    CHECK_EQ_U(r->sid, 1);
    CHECK_STR(r->msg, "CANHGAC SCAN TCP port scan (vertical)");
    CHECK_STR(r->classtype, "attempted-recon");
    CHECK_EQ_U(r->layers, CG_LAYER(1) | CG_LAYER(2));
    cg_detectors_stats st;
    cg_detectors_get_stats(w.d, &st);
    CHECK_EQ_U(st.refused, 100);
    CHECK_EQ_U(st.alerts[CG_DET_VERTICAL], 1);
    /* the flows' ends add nothing: they were refused, counted already */
    cg_flowtable_evict_all(w.ft);
    CHECK_EQ_U(total(&w), 1);
    world_free(&w);

    /* 100 ordinary connections to one web server from 100 clients, and one
     * client's 100 completed connections to 100 ports of one server (FTP
     * passive data): nothing */
    CHECK(world_make(&w, NULL) == 0);
    for (unsigned i = 0; i < 100; i++) {
        tconn_v4(cli, 14, 160, (uint8_t)i, 20);
        ordinary(&w, cli, (uint16_t)(50000 + i), target, 80, T0 + i * 20000ull);
    }
    tconn_v4(cli, 10, 21, 4, 30);
    tconn_v4(srv, 10, 20, 4, 10);
    for (unsigned i = 0; i < 100; i++)
        ordinary(&w, cli, (uint16_t)(40000 + i), srv, (uint16_t)(30000 + i), T0 + i * 20000ull);
    cg_flowtable_evict_all(w.ft);
    CHECK_EQ_U(total(&w), 0);
    cg_detectors_get_stats(w.d, &st);
    CHECK_EQ_U(st.refused + st.half_open + st.unanswered + st.stealth, 0);
    world_free(&w);

    /* a sweep of port 22 over 50 hosts, unanswered (filtered): one alert when
     * the flows end, to the first host, destination port 22 */
    CHECK(world_make(&w, NULL) == 0);
    for (unsigned i = 0; i < 50; i++) {
        uint8_t h[16];
        tconn_v4(h, 10, 20, 5, (uint8_t)(1 + i));
        tcp(&w, scanner, 41000, h, 22, CG_TH_SYN, 0, T0 + i * 200000ull);
    }
    CHECK_EQ_U(total(&w), 0); /* no answer yet: no evidence yet */
    cg_flowtable_evict_all(w.ft);
    CHECK_EQ_U(count(&w, CG_DET_HORIZONTAL), 1);
    CHECK_EQ_U(total(&w), 1);
    if (w.n == 1) {
        uint8_t first[16];
        tconn_v4(first, 10, 20, 5, 1);
        CHECK(!memcmp(w.log[0].dst, first, 16));
        CHECK(w.log[0].has_ports && w.log[0].dport == 22);
        CHECK_EQ_U(cg_detectors_rule(w.d, CG_DET_HORIZONTAL)->sid, 3);
    }
    cg_detectors_get_stats(w.d, &st);
    CHECK_EQ_U(st.unanswered, 50);
    world_free(&w);

    /* half-open SYN scan: SYN, SYN+ACK, the scanner's RST, on 30 ports */
    CHECK(world_make(&w, NULL) == 0);
    for (uint16_t port = 1000; port < 1030; port++) {
        uint64_t t = T0 + port * 1000ull;
        tcp(&w, scanner, 42000, target, port, CG_TH_SYN, 0, t);
        tcp(&w, target, port, scanner, 42000, CG_TH_SYN | CG_TH_ACK, 0, t + 10);
        tcp(&w, scanner, 42000, target, port, CG_TH_RST, 0, t + 20);
    }
    CHECK_EQ_U(count(&w, CG_DET_VERTICAL), 1);
    cg_detectors_get_stats(w.d, &st);
    CHECK_EQ_U(st.half_open, 30);
    world_free(&w);

    /* NULL, FIN and Xmas probes of 30 ports */
    CHECK(world_make(&w, NULL) == 0);
    for (uint16_t port = 1; port <= 30; port++) {
        static const uint8_t fl[3] = { 0, CG_TH_FIN, CG_TH_FIN | CG_TH_PSH | CG_TH_URG };
        tcp(&w, scanner, 43000, target, port, fl[port % 3], 0, T0 + port * 1000ull);
    }
    CHECK_EQ_U(count(&w, CG_DET_VERTICAL), 1);
    cg_detectors_get_stats(w.d, &st);
    CHECK_EQ_U(st.stealth, 30);
    world_free(&w);

    /* once per window: 100 more ports 20 s later alert nothing; a scan in
     * the next window alerts again */
    CHECK(world_make(&w, NULL) == 0);
    for (uint16_t port = 1; port <= 100; port++)
        refused(&w, scanner, 40000, target, port, T0 + port * 10000ull);
    for (uint16_t port = 101; port <= 200; port++)
        refused(&w, scanner, 40001, target, port, T0 + 20 * S + port * 10000ull);
    CHECK_EQ_U(count(&w, CG_DET_VERTICAL), 1);
    for (uint16_t port = 201; port <= 300; port++)
        refused(&w, scanner, 40002, target, port, T0 + 200 * S + port * 10000ull);
    CHECK_EQ_U(count(&w, CG_DET_VERTICAL), 2);
    CHECK_EQ_U(count(&w, CG_DET_SLOW), 0); /* a fast scanner is not a slow one too */
    world_free(&w);

    /* slow: 60 probes, one every 25 s over 25 minutes, on 12 hosts and 5
     * ports: never 25 in a minute, 40 distinct within the slow window */
    CHECK(world_make(&w, NULL) == 0);
    for (unsigned i = 0; i < 60; i++) {
        uint8_t h[16];
        tconn_v4(h, 10, 20, 1, (uint8_t)(10 + i % 12));
        refused(&w, scanner, (uint16_t)(44000 + i), h, (uint16_t)(20 + i % 5 * 1000),
                T0 + i * 25 * S);
    }
    CHECK_EQ_U(count(&w, CG_DET_SLOW), 1);
    CHECK_EQ_U(total(&w), 1);
    CHECK_EQ_U(cg_detectors_rule(w.d, CG_DET_SLOW)->sid, 100);
    if (w.n == 1) {
        uint8_t first[16];
        tconn_v4(first, 10, 20, 1, 10);
        CHECK(!memcmp(w.log[0].dst, first, 16));
        CHECK(w.log[0].ts >= T0 + 39 * 25 * S);
    }
    world_free(&w);

    /* the same scanner with the slow detector off, and the sweep's detector
     * off: a sweep of 50 hosts raises nothing */
    cg_detectors_config c;
    cg_detectors_defaults(&c);
    c.enabled[CG_DET_HORIZONTAL] = 0;
    c.enabled[CG_DET_SLOW] = 0;
    CHECK(world_make(&w, &c) == 0);
    for (unsigned i = 0; i < 50; i++) {
        uint8_t h[16];
        tconn_v4(h, 10, 20, 5, (uint8_t)(1 + i));
        refused(&w, scanner, 41000, h, 22, T0 + i * 200000ull);
    }
    CHECK_EQ_U(total(&w), 0);
    world_free(&w);
}

/* A table of 16 entries under a flood of random sources, each refused once,
 * while one scanner keeps going: the table stays at its cap, reclaiming live
 * entries is counted, and the scanner (touched at every probe) is caught. */
static void test_table_full(void)
{
    cg_detectors_config c;
    cg_detectors_defaults(&c);
    c.table_size = 16;
    world w;
    CHECK(world_make(&w, &c) == 0);
    uint8_t scanner[16], target[16];
    tconn_v4(scanner, 198, 51, 100, 9);
    tconn_v4(target, 10, 20, 1, 11);
    uint64_t x = 88172645463325252ull;
    for (unsigned i = 0; i < 1000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint8_t src[16];
        tconn_v4(src, 100 + (unsigned)(x & 63), (unsigned)(x >> 8 & 255), (unsigned)(x >> 16 & 255),
                 (unsigned)(x >> 24 & 255));
        refused(&w, src, 50000, target, (uint16_t)(1 + (x >> 32) % 1000), T0 + i * 10000ull);
        if (i % 2 == 0) /* 3 keys of the scanner, 6 others in between */
            refused(&w, scanner, 51000, target, (uint16_t)(2000 + i / 2), T0 + i * 10000ull + 1);
    }
    cg_detectors_stats st;
    cg_detectors_get_stats(w.d, &st);
    CHECK_EQ_U(st.capacity, 16);
    CHECK_EQ_U(st.tracked, 16);
    CHECK(st.table_full >= 1000 - 16); /* each flood source takes an entry, live */
    CHECK(st.mem_bytes <= 16 * CG_DETECTORS_ENTRY_BYTES + 16 * sizeof(uint32_t));
    CHECK_EQ_U(count(&w, CG_DET_VERTICAL), 1);
    int caught = 0;
    for (uint32_t i = 0; i < w.n; i++)
        caught |= w.log[i].kind == CG_DET_VERTICAL && !memcmp(w.log[i].src, scanner, 16);
    CHECK(caught);
    world_free(&w);
}

/* ---- DNS ----------------------------------------------------------------- */

typedef struct dnsw {
    cg_detectors *d;
    uint8_t scratch[CG_DNS_SCRATCH_SIZE];
    cg_bufset bs;
    cg_dns_stats dst;
    uint32_t alerts[CG_DET_KINDS];
    uint16_t id;
} dnsw;

/* A query (qr 0) or a response (qr 1) of name and type from cli, at ts. */
static void dnsq(dnsw *w, const uint8_t cli[16], const char *name, uint16_t qtype, int qr,
                 uint64_t ts)
{
    uint8_t m[512];
    size_t n = 12;
    memset(m, 0, 12);
    m[0] = (uint8_t)(w->id >> 8);
    m[1] = (uint8_t)w->id++;
    m[2] = qr ? 0x81 : 0x01;
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
    cg_dns_msg dm;
    cg_dns_parse(m, (uint32_t)n, (uint32_t)n, w->scratch, sizeof w->scratch, &w->bs, &dm, &w->dst);
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = ts;
    p.ipver = 4;
    p.proto = 17;
    p.flags = CG_PKT_HAS_PORTS;
    memcpy(p.src, cli, 16);
    tconn_v4(p.dst, 10, 20, 2, 53);
    p.sport = 53000;
    p.dport = 53;
    const cg_det_alert *a = NULL;
    uint32_t k = cg_detectors_dns(w->d, &p, m, (uint32_t)n, &w->bs, &a);
    for (uint32_t i = 0; i < k; i++) {
        for (int j = 0; j < CG_DET_KINDS; j++)
            if (a[i].rule == cg_detectors_rule(w->d, j))
                w->alerts[j]++;
        CHECK(a[i].pkt == &p); /* the query is the alert's packet */
    }
}

static uint32_t dns_total(const dnsw *w)
{
    uint32_t n = 0;
    for (int k = 0; k < CG_DET_KINDS; k++)
        n += w->alerts[k];
    return n;
}

static void rnd_label(uint64_t *x, char *out, size_t n, const char *al)
{
    size_t k = strlen(al);
    for (size_t i = 0; i < n; i++) {
        *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
        out[i] = al[*x % k];
    }
    out[n] = 0;
}

static int dnsw_make(dnsw *w, const cg_detectors_config *c)
{
    memset(w, 0, sizeof *w);
    char err[256];
    return cg_detectors_create(&w->d, c, NULL, err, sizeof err);
}

static void test_dns(void)
{
    uint8_t cli[16], cli2[16];
    tconn_v4(cli, 10, 21, 4, 77);
    tconn_v4(cli2, 10, 21, 3, 45);
    char name[300], l1[64], l2[64];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    dnsw *w = calloc(1, sizeof *w);
    if (!w) {
        CHECK(0);
        return;
    }

    /* long labels: 45 characters, A queries (not TXT), one at a time: one
     * alert at the 10th, none after in the window */
    CHECK(dnsw_make(w, NULL) == 0);
    for (unsigned i = 0; i < 30; i++) {
        rnd_label(&x, l1, 45, "abcdefghijklmnopqrstuvwxyz234567");
        snprintf(name, sizeof name, "%s.t.tqvpn-sync.net", l1);
        dnsq(w, cli, name, 1, 0, T0 + i * S);
        if (i == 8)
            CHECK_EQ_U(w->alerts[CG_DET_DNS_LONG], 0);
    }
    CHECK_EQ_U(w->alerts[CG_DET_DNS_LONG], 1);
    CHECK_EQ_U(dns_total(w), 1);
    const cg_rule *r = cg_detectors_rule(w->d, CG_DET_DNS_LONG);
    CHECK_EQ_U(r->gid, 9100);
    CHECK_EQ_U(r->sid, 201);
    CHECK_STR(r->msg, "CANHGAC DNS tunnelling: long or high-entropy labels");
    /* a second window, another alert; another client, its own */
    for (unsigned i = 0; i < 10; i++) {
        rnd_label(&x, l1, 45, "0123456789abcdef");
        snprintf(name, sizeof name, "%s.t.tqvpn-sync.net", l1);
        dnsq(w, cli, name, 1, 0, T0 + 400 * S + i * S);
        dnsq(w, cli2, name, 1, 0, T0 + 400 * S + i * S);
    }
    CHECK_EQ_U(w->alerts[CG_DET_DNS_LONG], 3);
    cg_detectors_destroy(w->d);

    /* high entropy without a long label: two labels of 18 characters from 36
     * symbols (entropy above 4) count; as many of 30 'a's and 'b's do not */
    CHECK(dnsw_make(w, NULL) == 0);
    for (unsigned i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "abababababababab%02u.ababababababababab.cdn.example.net", i);
        dnsq(w, cli, name, 1, 0, T0 + i * S);
    }
    CHECK_EQ_U(dns_total(w), 0);
    for (unsigned i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "0123456789abcdefgh.ijklmnopqrstuvwxy%c.cdn.example.net",
                 'a' + i);
        dnsq(w, cli, name, 1, 0, T0 + i * S);
    }
    CHECK_EQ_U(w->alerts[CG_DET_DNS_LONG], 1);
    cg_detectors_stats st;
    cg_detectors_get_stats(w->d, &st);
    CHECK_EQ_U(st.dns_long, 12);
    CHECK_EQ_U(st.dns_queries, 24);
    cg_detectors_destroy(w->d);

    /* many names: 300 random 10-character names under tuyenquang.gov.vn (the
     * registered domain has three labels), A queries: one alert */
    CHECK(dnsw_make(w, NULL) == 0);
    for (unsigned i = 0; i < 300; i++) {
        rnd_label(&x, l1, 10, "abcdefghijklmnopqrstuvwxyz");
        snprintf(name, sizeof name, "%s.tuyenquang.gov.vn", l1);
        dnsq(w, cli2, name, 1, 0, T0 + i * 100000ull);
        if (i == 98)
            CHECK_EQ_U(dns_total(w), 0); /* never before the 100th name */
    }
    CHECK_EQ_U(w->alerts[CG_DET_DNS_NAMES], 1);
    CHECK_EQ_U(dns_total(w), 1);
    CHECK_EQ_U(cg_detectors_rule(w->d, CG_DET_DNS_NAMES)->sid, 202);
    /* 80 names each under two domains of gov.vn: no domain reaches 100 */
    for (unsigned i = 0; i < 160; i++) {
        rnd_label(&x, l1, 10, "abcdefghijklmnopqrstuvwxyz");
        snprintf(name, sizeof name, "%s.%s.gov.vn", l1, i % 2 ? "hagiang" : "yenbai");
        dnsq(w, cli, name, 1, 0, T0 + i * 100000ull);
    }
    CHECK_EQ_U(dns_total(w), 1);
    /* the same 99 names again and again: still 99 */
    for (unsigned i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "hostname%02u.example.co.uk", i % 99);
        dnsq(w, cli, name, 1, 0, T0 + i * 100000ull);
    }
    CHECK_EQ_U(dns_total(w), 1);
    cg_detectors_destroy(w->d);

    /* TXT/NULL/CNAME volume: 60 queries of one short name, in turn TXT, NULL,
     * CNAME, and A queries between them that do not count: one alert, at the
     * 50th */
    CHECK(dnsw_make(w, NULL) == 0);
    static const uint16_t qt[3] = { 16, 10, 5 };
    for (unsigned i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "cmd.update-cdn.xyz");
        dnsq(w, cli, name, 1, 0, T0 + i * S);
        dnsq(w, cli, name, qt[i % 3], 0, T0 + i * S + 1);
        if (i == 48)
            CHECK_EQ_U(dns_total(w), 0);
    }
    CHECK_EQ_U(w->alerts[CG_DET_DNS_TYPES], 1);
    CHECK_EQ_U(dns_total(w), 1);
    CHECK_EQ_U(cg_detectors_rule(w->d, CG_DET_DNS_TYPES)->sid, 203);
    CHECK_STR(cg_detectors_rule(w->d, CG_DET_DNS_TYPES)->classtype, "trojan-activity");
    cg_detectors_get_stats(w->d, &st);
    CHECK_EQ_U(st.dns_types, 60);
    /* responses are not queries */
    for (unsigned i = 0; i < 200; i++) {
        rnd_label(&x, l1, 50, "abcdefghijklmnopqrstuvwxyz");
        snprintf(name, sizeof name, "%s.resp.example.org", l1);
        dnsq(w, cli2, name, 16, 1, T0 + i * S);
    }
    CHECK_EQ_U(dns_total(w), 1);
    cg_detectors_destroy(w->d);

    /* a dnscat2-like tunnel: TXT and CNAME queries with 2 hex labels of 30
     * characters under one domain: volume and names alert, once each */
    CHECK(dnsw_make(w, NULL) == 0);
    for (unsigned i = 0; i < 150; i++) {
        rnd_label(&x, l1, 30, "0123456789abcdef");
        rnd_label(&x, l2, 30, "0123456789abcdef");
        snprintf(name, sizeof name, "%s.%s.c2.tq-telemetry.com", l1, l2);
        dnsq(w, cli, name, i % 2 ? 16 : 5, 0, T0 + i * 500000ull);
    }
    CHECK_EQ_U(w->alerts[CG_DET_DNS_TYPES], 1);
    CHECK_EQ_U(w->alerts[CG_DET_DNS_NAMES], 1);
    cg_detectors_destroy(w->d);

    /* ordinary lookups of popular names, by 50 clients over 20 minutes:
     * nothing */
    static const char *const popular[] = {
        "www.google.com",
        "fonts.googleapis.com",
        "www.youtube.com",
        "i.ytimg.com",
        "rr3---sn-8pxuuxa-nbo6l.googlevideo.com",
        "rr1---sn-8pxuuxa-nbols.googlevideo.com",
        "www.facebook.com",
        "static.xx.fbcdn.net",
        "scontent.fhan14-1.fna.fbcdn.net",
        "zalo.me",
        "chat.zalo.me",
        "vnexpress.net",
        "s1.vnecdn.net",
        "dichvucong.gov.vn",
        "login.microsoftonline.com",
        "update.microsoft.com",
        "ctldl.windowsupdate.com",
        "ocsp.digicert.com",
        "safebrowsing.googleapis.com",
        "clients4.google.com",
        "e6858.dsce9.akamaiedge.net",
        "d1a2b3c4d5e6f7.cloudfront.net",
        "ec2-54-123-45-67.ap-southeast-1.compute.amazonaws.com",
        "baochinhphu.vn",
        "mail.tuyenquang.gov.vn",
        "www.tuyenquang.gov.vn",
        "_dmarc.tuyenquang.gov.vn",
        "selector1._domainkey.tuyenquang.gov.vn",
        "thuvienphapluat.vn",
        "vneid.gov.vn",
    };
    CHECK(dnsw_make(w, NULL) == 0);
    for (unsigned i = 0; i < 20000; i++) {
        uint8_t c[16];
        tconn_v4(c, 10, 21, 1 + i % 5, 20 + i % 10);
        const char *nm = popular[(i * 7 + i / 13) % (sizeof popular / sizeof popular[0])];
        uint16_t t = i % 11 == 0 ? 28 : i % 17 == 0 ? 16 : 1;
        dnsq(w, c, nm, t, 0, T0 + i * 60000ull);
    }
    CHECK_EQ_U(dns_total(w), 0);
    cg_detectors_destroy(w->d);

    /* off: nothing */
    cg_detectors_config c;
    cg_detectors_defaults(&c);
    c.enabled[CG_DET_DNS_LONG] = c.enabled[CG_DET_DNS_NAMES] = c.enabled[CG_DET_DNS_TYPES] = 0;
    CHECK(dnsw_make(w, &c) == 0);
    CHECK(!cg_detectors_want_dns(w->d));
    for (unsigned i = 0; i < 100; i++) {
        rnd_label(&x, l1, 50, "abcdefghijklmnopqrstuvwxyz");
        snprintf(name, sizeof name, "%s.x.example.org", l1);
        dnsq(w, cli, name, 16, 0, T0 + i * S);
    }
    CHECK_EQ_U(dns_total(w), 0);
    cg_detectors_destroy(w->d);
    free(w);
}

/* ---- the settings file ------------------------------------------------------- */

static int load_text(cg_detectors_config *c, const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/test_detectors.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -2;
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    int rc = cg_detectors_config_load(c, path, err, errlen);
    unlink(path);
    return rc;
}

static void test_config(void)
{
    cg_detectors_config c, def;
    char err[512];
    cg_detectors_defaults(&def);
    CHECK_EQ_U(def.window_s[CG_DET_VERTICAL], 60);
    CHECK_EQ_U(def.threshold[CG_DET_VERTICAL], 25);
    CHECK_EQ_U(def.table_size, 65536);

    /* the shipped file writes out the defaults */
    c = def;
    CHECK(cg_detectors_config_load(&c, "rules/detectors.conf", err, sizeof err) == 0);
    CHECK(!memcmp(&c, &def, sizeof c));

    c = def;
    CHECK(load_text(&c,
                    "# a comment\n\nport_scan.window 30   # seconds\nhost_sweep.enabled no\n"
                    "dns_long.entropy 3.5\ntable_size 1024\nslow_scan.probes 60\n",
                    err, sizeof err) == 0);
    CHECK_EQ_U(c.window_s[CG_DET_VERTICAL], 30);
    CHECK_EQ_U(c.enabled[CG_DET_HORIZONTAL], 0);
    CHECK(c.dns_entropy == 3.5);
    CHECK_EQ_U(c.table_size, 1024);
    CHECK_EQ_U(c.threshold[CG_DET_SLOW], 60);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        { "port_scan.window 60\nport_scan.colour red\n", ":2: unknown setting 'port_scan.colour'" },
        { "portscan.window 60\n", ":1: unknown setting 'portscan.window'" },
        { "\nport_scan.window abc\n", ":2: port_scan.window: 'abc' is not a number" },
        { "port_scan.window 0\n", ":1: port_scan.window: 0 is out of range (1 to 86400 seconds)" },
        { "dns_names.window -5\n",
          ":1: dns_names.window: -5 is out of range (1 to 86400 seconds)" },
        { "port_scan.ports 1\n", ":1: port_scan.ports: 1 is out of range (2 to 500 ports)" },
        { "dns_names.names 5000\n", ":1: dns_names.names: 5000 is out of range (2 to 500 names)" },
        { "dns_long.label 64\n", ":1: dns_long.label: 64 is out of range (10 to 63 characters)" },
        { "dns_long.entropy 9\n", ":1: dns_long.entropy: 9 is out of range (1.0 to 8.0" },
        { "dns_long.entropy high\n", ":1: dns_long.entropy: 'high' is not a number" },
        { "slow_scan.enabled maybe\n", ":1: slow_scan.enabled: 'maybe' is not yes or no" },
        { "table_size 8\n", ":1: table_size: 8 is out of range (16 to 16777216 entries)" },
        { "port_scan.window\n", ":1: port_scan.window: no value" },
        { "port_scan.window 60 120\n", ":1: port_scan.window: one value expected, not '60 120'" },
        { "port_scan.window 12x\n", ":1: port_scan.window: '12x' is not a number" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = def;
        err[0] = 0;
        CHECK(load_text(&c, bad[i].text, err, sizeof err) == -1);
        CHECK_CONTAINS(err, bad[i].msg);
        CHECK(!strchr(err, '\n'));
        CHECK(!memcmp(&c, &def, sizeof c)); /* all or nothing */
    }
    c = def;
    CHECK(cg_detectors_config_load(&c, "/nonexistent/detectors.conf", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "/nonexistent/detectors.conf: No such file");
}

/* ---- the worker's hooks -------------------------------------------------------- */

typedef struct got {
    uint32_t n, gid122, gid9100, flowless;
    uint32_t sid;
} got;

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    got *g = ctx;
    (void)p, (void)to_server, (void)stream;
    g->n++;
    g->gid122 += r->gid == 122;
    g->gid9100 += r->gid == 9100;
    g->flowless += f == NULL;
    g->sid = r->sid;
}

static void test_inspect(void)
{
    static const char *const rules[] = {
        "alert tcp any any -> any any (msg:\"nothing here\"; content:\"zzzqqqzzz\"; sid:1;)", NULL
    };
    cg_ruleset *rs = NULL;
    cg_detect *d = NULL;
    cg_detectors *det = NULL;
    cg_inspect *in = NULL;
    char err[256];
    got g = { 0 };
    CHECK(tconn_rules(&rs, rules) == 0);
    CHECK(rs && cg_detect_build(&d, rs, NULL, err, sizeof err) == 0);
    CHECK(cg_detectors_create(&det, NULL, rs, err, sizeof err) == 0);
    if (!d || !det)
        goto out;
    cg_inspect_config ic;
    memset(&ic, 0, sizeof ic);
    ic.flow.memcap = 32ull << 20;
    ic.on_alert = on_alert;
    ic.ctx = &g;
    ic.det = det;
    CHECK(cg_inspect_create(&in, d, &ic, err, sizeof err) == 0);
    if (!in)
        goto out;
    /* the classification preset gives the severity */
    CHECK_EQ_U(cg_detectors_rule(det, CG_DET_VERTICAL)->severity, 2);
    CHECK(cg_detectors_rule(det, CG_DET_VERTICAL)->class_desc != NULL);

    /* a refused scan of 40 ports: one alert, gid 122, no flow */
    uint8_t sc[16], tg[16];
    tconn_v4(sc, 198, 51, 100, 20);
    tconn_v4(tg, 10, 20, 1, 12);
    for (uint16_t port = 1; port <= 40; port++) {
        cg_packet p;
        memset(&p, 0, sizeof p);
        p.ipver = 4, p.proto = 6, p.flags = CG_PKT_HAS_PORTS, p.ts_us = T0 + port * 1000ull;
        memcpy(p.src, sc, 16), memcpy(p.dst, tg, 16), p.sport = 45000, p.dport = port;
        p.tcp_flags = CG_TH_SYN;
        cg_inspect_packet(in, &p);
        memcpy(p.src, tg, 16), memcpy(p.dst, sc, 16), p.sport = port, p.dport = 45000;
        p.tcp_flags = CG_TH_RST | CG_TH_ACK, p.ts_us += 10;
        cg_inspect_packet(in, &p);
    }
    CHECK_EQ_U(g.n, 1);
    CHECK_EQ_U(g.gid122, 1);
    CHECK_EQ_U(g.flowless, 1);
    CHECK_EQ_U(g.sid, 1);

    /* 60 TXT queries over UDP 53: one alert, gid 9100 sid 203, with its flow;
     * no rule needs DNS, the detectors still get it parsed */
    uint8_t m[64] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0,   0,    0,    0,    0,
                      0,    3,    'c',  'm',  'd',  7,    'e', 'x',  'a',  'm',  'p',
                      'l',  'e',  3,    'c',  'o',  'm',  0,   0x00, 0x10, 0x00, 0x01 };
    for (unsigned i = 0; i < 60; i++) {
        cg_packet p;
        memset(&p, 0, sizeof p);
        p.ipver = 4, p.proto = 17, p.flags = CG_PKT_HAS_PORTS, p.ts_us = T0 + S + i * 1000ull;
        tconn_v4(p.src, 10, 21, 3, 45);
        tconn_v4(p.dst, 10, 20, 2, 53);
        p.sport = 53001, p.dport = 53;
        p.payload = m, p.payload_len = 33;
        cg_inspect_packet(in, &p);
    }
    CHECK_EQ_U(g.n, 2);
    CHECK_EQ_U(g.gid9100, 1);
    CHECK_EQ_U(g.sid, 203);
    CHECK_EQ_U(g.flowless, 1);
out:
    cg_inspect_destroy(in);
    cg_detectors_destroy(det);
    cg_detect_destroy(d);
    cg_ruleset_destroy(rs);
}

int main(void)
{
    test_scans();
    test_table_full();
    test_dns();
    test_config();
    test_inspect();
    return check_done("detectors");
}
