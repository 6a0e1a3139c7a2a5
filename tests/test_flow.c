/* test_flow.c — unit tests of sensor/flow: Community ID v1 vectors, the flow
 * hash and flow_id, and the flow table (direction, TCP states, midstream,
 * UDP/ICMP establishment, LRU eviction, timeouts, counters, the memory cap,
 * refusal at the cap under a SYN flood, the eviction callback and user area).
 *
 * Packets are built as Ethernet frames and run through cg_decode, so the
 * values tested are the ones the pipeline produces. The Community ID values
 * other than the specification's own example were computed by Wireshark 4.0's
 * communityid dissector on the same packets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "sensor/decode.h"
#include "sensor/flow.h"
#include "tests/check.h"

/* A decoded packet with the frame it points into. */
typedef struct pkt {
    uint8_t frame[256];
    cg_packet p;
} pkt;

static void be16(uint8_t *b, unsigned v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

/* Builds Ethernet + IPv4/IPv6 + an L4 header for proto (TCP: flags, UDP,
 * ICMP/ICMPv6: sp = type, dp = code, SCTP, or 4 opaque bytes for any other
 * protocol), with nbytes of payload, and decodes it at time ts (seconds). */
static void mk(pkt *k, const char *src, const char *dst, unsigned proto, unsigned sp, unsigned dp,
               unsigned tcpflags, unsigned nbytes, uint64_t ts)
{
    uint8_t *f = k->frame, s[16], d[16];
    memset(f, 0, sizeof k->frame);
    int v6 = strchr(src, ':') != NULL;
    uint32_t ip = 14, hl = v6 ? 40 : 20, l4 = ip + hl, l4len;
    be16(f + 12, v6 ? 0x86dd : 0x0800);
    switch (proto) {
    case 6:
        be16(f + l4, sp);
        be16(f + l4 + 2, dp);
        f[l4 + 12] = 0x50;
        f[l4 + 13] = (uint8_t)tcpflags;
        l4len = 20;
        break;
    case 17:
        be16(f + l4, sp);
        be16(f + l4 + 2, dp);
        be16(f + l4 + 4, 8 + nbytes);
        l4len = 8;
        break;
    case 1:
    case 58:
        f[l4] = (uint8_t)sp;
        f[l4 + 1] = (uint8_t)dp;
        l4len = 8;
        break;
    case 132:
        be16(f + l4, sp);
        be16(f + l4 + 2, dp);
        l4len = 12;
        break;
    default: l4len = 4; break;
    }
    uint32_t iplen = hl + l4len + nbytes;
    if (v6) {
        inet_pton(AF_INET6, src, s);
        inet_pton(AF_INET6, dst, d);
        f[ip] = 0x60;
        be16(f + ip + 4, iplen - 40);
        f[ip + 6] = (uint8_t)proto;
        f[ip + 7] = 64;
        memcpy(f + ip + 8, s, 16);
        memcpy(f + ip + 24, d, 16);
    } else {
        inet_pton(AF_INET, src, s);
        inet_pton(AF_INET, dst, d);
        f[ip] = 0x45;
        be16(f + ip + 2, iplen);
        f[ip + 8] = 64;
        f[ip + 9] = (uint8_t)proto;
        memcpy(f + ip + 12, s, 4);
        memcpy(f + ip + 16, d, 4);
    }
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    int rc = cg_decode(&k->p, 1, f, 14 + iplen, 14 + iplen, ts * 1000000u, &st);
    if (rc != CG_OK)
        fprintf(stderr, "mk %s -> %s proto %u: %s\n", src, dst, proto, cg_strerror(rc));
    CHECK_EQ_U(rc, CG_OK);
}

static const char *cid(const pkt *k, uint16_t seed, char *buf)
{
    if (cg_community_id(&k->p, seed, buf, 64) != 0)
        strcpy(buf, "(error)");
    return buf;
}

/* ---- Community ID ------------------------------------------------------ */

typedef struct vec {
    const char *src, *dst;
    unsigned proto, sp, dp;
    const char *seed0, *seed1;
} vec;

static void check_community_id(void)
{
    static const vec v[] = {
        /* the specification's example, both directions */
        { "128.232.110.120", "66.35.250.204", 6, 34855, 80,
          "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
        { "66.35.250.204", "128.232.110.120", 6, 80, 34855,
          "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
        { "192.168.1.52", "8.8.8.8", 17, 54585, 53,
          "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
        { "8.8.8.8", "192.168.1.52", 17, 53, 54585,
          "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
        /* ICMP echo request and its reply map to one flow */
        { "192.168.0.89", "192.168.0.1", 1, 8, 0,
          "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
        { "192.168.0.1", "192.168.0.89", 1, 0, 0,
          "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
        /* destination unreachable is one-way: the endpoints keep their order */
        { "10.0.0.9", "10.0.0.1", 1, 3, 1,
          "1:FutSOBs/xBc7wkuFbYH/sZyfZw8=", "1:VQFRSG9y92quNon2XRakEyf3abc=" },
        { "10.0.0.1", "10.0.0.9", 1, 3, 1,
          "1:RccclMw84o6RNTZIu2Ch2WkkE+0=", "1:9eGTjXcuFNoGWLNZ4l9ihBeHqfg=" },
        /* ICMPv6 echo request/reply, and a one-way destination unreachable */
        { "fe80::1", "fe80::2", 58, 128, 0,
          "1:3H+V/JVcqh/phPel5utt4dOKqOU=", "1:HHzHBM+PXiE1xxTuksszVZfBoNw=" },
        { "fe80::2", "fe80::1", 58, 129, 0,
          "1:3H+V/JVcqh/phPel5utt4dOKqOU=", "1:HHzHBM+PXiE1xxTuksszVZfBoNw=" },
        { "2001:db8::9", "2001:db8::1", 58, 1, 3,
          "1:+Lxq4QH3bjy1CHcalXatYLvfbRY=", "1:EtYHIDunWrF9l6rCcJyMnrRLWLI=" },
        /* IPv6 TCP, both directions */
        { "2001:db8::5", "2001:db8::1", 6, 51000, 443,
          "1:UKbskybSUv95TfIBf7alPg9sXkI=", "1:Lt13Jd7ORmr0UKgZLMj+WIoLXRo=" },
        { "2001:db8::1", "2001:db8::5", 6, 443, 51000,
          "1:UKbskybSUv95TfIBf7alPg9sXkI=", "1:Lt13Jd7ORmr0UKgZLMj+WIoLXRo=" },
        /* SCTP has ports; GRE has none */
        { "10.1.1.1", "10.1.1.2", 132, 2905, 2906,
          "1:oVj+9U8QpTX2dxf2KQr7oIE0BcM=", "1:2r+Ci25fNKW3KVoZkcYdE7P+4So=" },
        { "10.1.1.2", "10.1.1.1", 47, 0, 0,
          "1:6bVMFPWneS3bg49/6T1HieDmRMQ=", "1:ffLFaPcJZgycbrNGNnYOAIT6Ghk=" },
        /* one address: the ports decide the order */
        { "10.0.0.1", "10.0.0.1", 17, 2000, 1000,
          "1:Gv0o4uh/r12CgtHWMgO2ie1BPKU=", "1:dtpk3as98jVpQ6/rTGF51OCJaQ0=" },
        { "10.0.0.1", "10.0.0.1", 17, 1000, 2000,
          "1:Gv0o4uh/r12CgtHWMgO2ie1BPKU=", "1:dtpk3as98jVpQ6/rTGF51OCJaQ0=" },
    };
    char buf[64];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        pkt k;
        mk(&k, v[i].src, v[i].dst, v[i].proto, v[i].sp, v[i].dp, 0x02, 1, 0);
        CHECK_STR(cid(&k, 0, buf), v[i].seed0);
        CHECK_STR(cid(&k, 1, buf), v[i].seed1);
    }

    pkt k;
    mk(&k, "128.232.110.120", "66.35.250.204", 6, 34855, 80, 0x02, 0, 0);
    char small[31], exact[31];
    memset(small, 'z', sizeof small);
    CHECK(cg_community_id(&k.p, 0, small, 30) == -1);
    CHECK(small[0] == 'z'); /* untouched on failure */
    CHECK(cg_community_id(&k.p, 0, exact, sizeof exact) == 0);
    CHECK_STR(exact, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    CHECK(cg_community_id(NULL, 0, exact, sizeof exact) == -1);
    cg_packet none;
    memset(&none, 0, sizeof none);
    CHECK(cg_community_id(&none, 0, exact, sizeof exact) == -1);
}

/* ---- flow hash and flow_id --------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void check_hash(void)
{
    pkt a, b, c, d, e;
    mk(&a, "10.0.0.1", "10.0.0.2", 6, 1234, 80, 0x02, 0, 0);
    mk(&b, "10.0.0.2", "10.0.0.1", 6, 80, 1234, 0x12, 0, 0);
    mk(&c, "10.0.0.1", "10.0.0.2", 6, 1235, 80, 0x02, 0, 0);
    mk(&d, "10.0.0.1", "10.0.0.2", 17, 1234, 80, 0, 0, 0);
    mk(&e, "10.0.0.1", "10.0.0.2", 6, 80, 1234, 0x02, 0, 0); /* ports swapped only */
    CHECK(cg_flow_hash(&a.p) == cg_flow_hash(&b.p));
    CHECK(cg_flow_id(&a.p) == cg_flow_id(&b.p));
    CHECK(cg_flow_hash(&a.p) != cg_flow_hash(&c.p));
    CHECK(cg_flow_hash(&a.p) != cg_flow_hash(&d.p));
    CHECK(cg_flow_hash(&a.p) != cg_flow_hash(&e.p));

    pkt x, y;
    mk(&x, "2001:db8::1", "2001:db8::2", 17, 5000, 53, 0, 0, 0);
    mk(&y, "2001:db8::2", "2001:db8::1", 17, 53, 5000, 0, 0, 0);
    CHECK(cg_flow_hash(&x.p) == cg_flow_hash(&y.p));

    /* flow_id: 51 bits, never 0, over many tuples */
    int ok = 1;
    for (unsigned i = 0; i < 2000; i++) {
        char s[32];
        snprintf(s, sizeof s, "10.%u.%u.1", i >> 8, i & 255);
        pkt q, r;
        mk(&q, s, "192.0.2.1", 17, 1024 + i, 53, 0, 0, 0);
        mk(&r, "192.0.2.1", s, 17, 53, 1024 + i, 0, 0, 0);
        uint64_t id = cg_flow_id(&q.p);
        if (id == 0 || id >> 51 || id != cg_flow_id(&r.p) ||
            id != (cg_flow_hash(&q.p) & ((1ULL << 51) - 1)))
            ok = 0;
    }
    CHECK(ok);

    /* spread: 300,000 IPv4 clients (random addresses in 10/8, random ports)
     * to one server give no two equal hashes, nor flow_ids */
    enum { NF = 300000 };
    uint64_t *hs = malloc(NF * sizeof *hs), *ids = malloc(NF * sizeof *ids);
    uint64_t seed = 0x2545f4914f6cdd1dULL;
    unsigned made = 0;
    for (unsigned i = 0; hs && ids && i < NF; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        char s[32];
        snprintf(s, sizeof s, "10.%u.%u.%u", (unsigned)(seed >> 8) & 255,
                 (unsigned)(seed >> 16) & 255, (unsigned)(seed >> 24) % 250);
        pkt q;
        mk(&q, s, "203.0.113.250", 6, (uint16_t)(1024 + (seed >> 40) % 64000), 443, 0x02, 0, 0);
        hs[made] = cg_flow_hash(&q.p);
        ids[made++] = cg_flow_id(&q.p);
    }
    CHECK_EQ_U(made, NF);
    qsort(hs, made, sizeof *hs, cmp_u64);
    qsort(ids, made, sizeof *ids, cmp_u64);
    unsigned same_h = 0, same_id = 0;
    for (unsigned i = 1; i < made; i++) {
        same_h += hs[i] == hs[i - 1];
        same_id += ids[i] == ids[i - 1];
    }
    CHECK_EQ_U(same_h, 0);
    CHECK_EQ_U(same_id, 0);
    free(hs);
    free(ids);
}

/* ---- flow table -------------------------------------------------------- */

static void check_invariant(const cg_flowtable *ft)
{
    cg_flow_stats s;
    cg_flowtable_stats(ft, &s);
    CHECK_EQ_U(s.active,
               s.created - s.evicted_timeout - s.evicted_pressure - s.evicted_reuse -
                   s.evicted_flush);
    CHECK(s.active <= s.capacity);
    CHECK(cg_flowtable_check(ft) == 0);
}

/* A table of exactly n flows, other settings at their defaults. */
static int table(cg_flowtable **ft, uint32_t n)
{
    cg_flow_config cfg = { .max_flows = n };
    return cg_flowtable_create(ft, &cfg);
}

static cg_flow *up(cg_flowtable *ft, pkt *k, int *dir)
{
    *dir = -1;
    return cg_flowtable_update(ft, &k->p, dir);
}

static void check_handshake(void)
{
    cg_flowtable *ft = NULL;
    CHECK(table(&ft, 64) == 0);
    const char *c = "10.0.0.1", *s = "10.0.0.2";
    pkt k;
    int dir;

    mk(&k, c, s, 6, 40000, 80, CG_TH_SYN, 0, 100);
    cg_flow *f = up(ft, &k, &dir);
    CHECK(f != NULL);
    CHECK_EQ_U(dir, 1);
    CHECK_EQ_U(f->tcp_state, CG_TCP_SYN_SENT);
    CHECK(!f->midstream);
    CHECK(!cg_flow_established(f));
    CHECK(memcmp(f->cli, k.p.src, 16) == 0 && memcmp(f->srv, k.p.dst, 16) == 0);
    CHECK_EQ_U(f->cport, 40000);
    CHECK_EQ_U(f->sport, 80);
    CHECK_EQ_U(f->proto, 6);
    CHECK_EQ_U(f->id, cg_flow_id(&k.p));
    CHECK_EQ_U(f->first_us, 100000000);

    mk(&k, s, c, 6, 80, 40000, CG_TH_SYN | CG_TH_ACK, 0, 101);
    cg_flow *g = up(ft, &k, &dir);
    CHECK(g == f);
    CHECK_EQ_U(dir, 0);
    CHECK_EQ_U(f->tcp_state, CG_TCP_SYN_RECV);
    CHECK(!cg_flow_established(f));
    CHECK(f->seen_both);

    mk(&k, c, s, 6, 40000, 80, CG_TH_ACK, 0, 102);
    up(ft, &k, &dir);
    CHECK_EQ_U(dir, 1);
    CHECK_EQ_U(f->tcp_state, CG_TCP_ESTABLISHED);
    CHECK(cg_flow_established(f));

    mk(&k, c, s, 6, 40000, 80, CG_TH_ACK | CG_TH_PSH, 100, 103);
    up(ft, &k, &dir);
    mk(&k, s, c, 6, 80, 40000, CG_TH_ACK | CG_TH_PSH, 300, 104);
    up(ft, &k, &dir);
    CHECK_EQ_U(dir, 0);
    CHECK_EQ_U(f->pkts_toserver, 3);
    CHECK_EQ_U(f->pkts_toclient, 2);
    CHECK_EQ_U(f->bytes_toserver, 3 * 54 + 100);
    CHECK_EQ_U(f->bytes_toclient, 2 * 54 + 300);
    CHECK_EQ_U(f->last_us, 104000000);

    mk(&k, c, s, 6, 40000, 80, CG_TH_FIN | CG_TH_ACK, 0, 105);
    up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_CLOSING);
    CHECK(cg_flow_established(f)); /* still, until both sides are done */
    mk(&k, s, c, 6, 80, 40000, CG_TH_FIN | CG_TH_ACK, 0, 106);
    up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_CLOSED);
    CHECK(cg_flow_established(f)); /* as Suricata: state >= ESTABLISHED */

    /* a new SYN on the closed tuple starts a new connection */
    mk(&k, c, s, 6, 40000, 80, CG_TH_SYN, 0, 107);
    f = up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_SYN_SENT);
    CHECK_EQ_U(f->pkts_toserver, 1);
    CHECK_EQ_U(f->first_us, 107000000);
    cg_flow_stats st;
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.created, 2);
    CHECK_EQ_U(st.evicted_reuse, 1);
    CHECK_EQ_U(st.active, 1);

    /* RST closes from any state; a flow reset before its handshake completed
     * was never established */
    mk(&k, s, c, 6, 80, 40000, CG_TH_RST | CG_TH_ACK, 0, 108);
    up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_CLOSED);
    CHECK(!cg_flow_established(f));

    /* a retransmitted SYN does not move SYN_SENT; an ACK from the client
     * before the SYN-ACK does not establish */
    mk(&k, "10.0.0.3", s, 6, 1000, 22, CG_TH_SYN, 0, 110);
    f = up(ft, &k, &dir);
    up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_SYN_SENT);
    mk(&k, "10.0.0.3", s, 6, 1000, 22, CG_TH_ACK, 0, 111);
    up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_SYN_SENT);
    CHECK(!cg_flow_established(f));

    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

static void check_midstream(void)
{
    cg_flowtable *ft = NULL;
    CHECK(table(&ft, 16) == 0);
    pkt k;
    int dir;

    /* picked up on the server's data: the first sender is the client */
    mk(&k, "10.0.0.2", "10.0.0.1", 6, 80, 40000, CG_TH_ACK | CG_TH_PSH, 10, 1);
    cg_flow *f = up(ft, &k, &dir);
    CHECK_EQ_U(dir, 1);
    CHECK(f->midstream);
    CHECK_EQ_U(f->cport, 80);
    CHECK_EQ_U(f->tcp_state, CG_TCP_ESTABLISHED);
    CHECK(cg_flow_established(f));
    mk(&k, "10.0.0.1", "10.0.0.2", 6, 40000, 80, CG_TH_ACK, 0, 2);
    up(ft, &k, &dir);
    CHECK_EQ_U(dir, 0);
    CHECK_EQ_U(f->tcp_state, CG_TCP_ESTABLISHED);

    /* picked up on the SYN-ACK: its receiver is the client (Suricata reverses
     * such a flow too); established by the client's ACK */
    mk(&k, "10.0.0.2", "10.0.0.1", 6, 443, 40001, CG_TH_SYN | CG_TH_ACK, 0, 3);
    f = up(ft, &k, &dir);
    CHECK_EQ_U(dir, 0);
    CHECK(f->midstream);
    CHECK_EQ_U(f->cport, 40001);
    CHECK_EQ_U(f->sport, 443);
    CHECK(memcmp(f->cli, k.p.dst, 16) == 0 && memcmp(f->srv, k.p.src, 16) == 0);
    CHECK_EQ_U(f->pkts_toclient, 1);
    CHECK_EQ_U(f->tcp_state, CG_TCP_SYN_RECV);
    CHECK(!cg_flow_established(f));
    mk(&k, "10.0.0.2", "10.0.0.1", 6, 443, 40001, CG_TH_ACK, 0, 4); /* not the client's */
    up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_SYN_RECV);
    mk(&k, "10.0.0.1", "10.0.0.2", 6, 40001, 443, CG_TH_ACK, 0, 4);
    up(ft, &k, &dir);
    CHECK_EQ_U(dir, 1);
    CHECK_EQ_U(f->tcp_state, CG_TCP_ESTABLISHED);
    CHECK(cg_flow_established(f));

    /* a SYN first is not midstream */
    mk(&k, "10.0.0.1", "10.0.0.2", 6, 40002, 443, CG_TH_SYN, 0, 5);
    f = up(ft, &k, &dir);
    CHECK(!f->midstream);

    /* UDP: established once both ways */
    mk(&k, "10.0.0.1", "10.0.0.53", 17, 5353, 53, 0, 20, 6);
    f = up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_NONE);
    CHECK(!cg_flow_established(f));
    up(ft, &k, &dir);
    CHECK(!cg_flow_established(f));
    mk(&k, "10.0.0.53", "10.0.0.1", 17, 53, 5353, 0, 60, 7);
    CHECK(up(ft, &k, &dir) == f);
    CHECK_EQ_U(dir, 0);
    CHECK(f->seen_both);
    CHECK(cg_flow_established(f));

    /* ICMP echo and reply share a flow */
    mk(&k, "10.0.0.1", "10.0.0.9", 1, 8, 0, 0, 8, 8);
    f = up(ft, &k, &dir);
    CHECK(!cg_flow_established(f));
    mk(&k, "10.0.0.9", "10.0.0.1", 1, 0, 0, 0, 8, 9);
    CHECK(up(ft, &k, &dir) == f);
    CHECK(cg_flow_established(f));

    /* not IP: no flow */
    cg_packet none;
    memset(&none, 0, sizeof none);
    dir = 7;
    CHECK(cg_flowtable_update(ft, &none, &dir) == NULL);
    CHECK_EQ_U(dir, 7);

    cg_flow_stats st;
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.created, 5);
    CHECK_EQ_U(st.active, 5);
    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

static void udp_flow(pkt *k, unsigned i, uint64_t ts)
{
    char s[32];
    snprintf(s, sizeof s, "10.9.0.%u", i);
    mk(k, s, "192.0.2.53", 17, 30000 + i, 53, 0, 0, ts);
}

static void check_eviction(void)
{
    cg_flowtable *ft = NULL;
    CHECK(table(&ft, 4) == 0);
    pkt k;
    int dir;
    cg_flow_stats st;

    for (unsigned i = 1; i <= 10; i++) {
        udp_flow(&k, i, i);
        CHECK(up(ft, &k, &dir) != NULL);
        check_invariant(ft);
    }
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.active, 4);
    CHECK_EQ_U(st.created, 10);
    CHECK_EQ_U(st.evicted_pressure, 6);
    CHECK_EQ_U(st.evicted_timeout, 0);

    /* the four most recent are held: seeing them again creates nothing */
    for (unsigned i = 7; i <= 10; i++) {
        udp_flow(&k, i, 11);
        cg_flow *f = up(ft, &k, &dir);
        CHECK_EQ_U(f->pkts_toserver, 2);
    }
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.created, 10);

    /* LRU: touch 7, then a new flow evicts 8, the least recently seen */
    udp_flow(&k, 7, 12);
    up(ft, &k, &dir);
    udp_flow(&k, 11, 13);
    up(ft, &k, &dir);
    udp_flow(&k, 7, 14);
    CHECK_EQ_U(up(ft, &k, &dir)->pkts_toserver, 4);
    udp_flow(&k, 8, 15);
    CHECK_EQ_U(up(ft, &k, &dir)->pkts_toserver, 1); /* 8 was evicted */
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.created, 12);
    CHECK_EQ_U(st.evicted_pressure, 8);
    check_invariant(ft);
    cg_flowtable_destroy(ft);

    cg_flow_config tiny = { .memcap = 64 };
    CHECK(cg_flowtable_create(&ft, &tiny) == -1);
    cg_flow_config huge = { .user_size = (1u << 20) + 1 };
    CHECK(cg_flowtable_create(&ft, &huge) == -1);
    CHECK(cg_flowtable_create(NULL, NULL) == -1);
    cg_flowtable_destroy(NULL);
}

static void check_timeouts(void)
{
    cg_flowtable *ft = NULL;
    CHECK(table(&ft, 8) == 0);
    cg_flow_timeouts to = { .udp = 10 };
    cg_flowtable_set_timeouts(ft, &to);
    pkt k;
    int dir;
    cg_flow_stats st;

    /* found idle on lookup: a new flow replaces it */
    mk(&k, "10.0.0.1", "10.0.0.2", 17, 1000, 2000, 0, 0, 100);
    cg_flow *f = up(ft, &k, &dir);
    mk(&k, "10.0.0.2", "10.0.0.1", 17, 2000, 1000, 0, 0, 110); /* 10 s: not over */
    CHECK(up(ft, &k, &dir) == f && dir == 0 && f->seen_both);
    mk(&k, "10.0.0.2", "10.0.0.1", 17, 2000, 1000, 0, 0, 121); /* 11 s idle */
    f = up(ft, &k, &dir);
    CHECK_EQ_U(dir, 1); /* a new initiator */
    CHECK_EQ_U(f->cport, 2000);
    CHECK_EQ_U(f->first_us, 121000000);
    CHECK(!f->seen_both);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.evicted_timeout, 1);
    CHECK_EQ_U(st.active, 1);

    /* reclaimed when another flow is created */
    mk(&k, "10.0.0.3", "10.0.0.4", 17, 1, 2, 0, 0, 200);
    up(ft, &k, &dir);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.evicted_timeout, 2);
    CHECK_EQ_U(st.active, 1);

    /* defaults for the rest: TCP before establishment 60 s, ICMP 60 s,
     * established TCP 3600 s */
    mk(&k, "10.0.1.1", "10.0.1.2", 6, 5000, 80, CG_TH_SYN, 0, 300);
    f = up(ft, &k, &dir);
    mk(&k, "10.0.1.1", "10.0.1.2", 6, 5000, 80, CG_TH_SYN, 0, 361);
    f = up(ft, &k, &dir);
    CHECK_EQ_U(f->first_us, 361000000);
    CHECK_EQ_U(f->pkts_toserver, 1);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.evicted_timeout, 4); /* the SYN_SENT flow, and the UDP one reclaimed */

    mk(&k, "10.0.1.2", "10.0.1.1", 6, 80, 5000, CG_TH_SYN | CG_TH_ACK, 0, 362);
    f = up(ft, &k, &dir);
    mk(&k, "10.0.1.1", "10.0.1.2", 6, 5000, 80, CG_TH_ACK, 0, 363);
    up(ft, &k, &dir);
    CHECK(cg_flow_established(f));
    mk(&k, "10.0.1.1", "10.0.1.2", 6, 5000, 80, CG_TH_ACK, 0, 363 + 3600);
    CHECK(up(ft, &k, &dir) == f);
    CHECK_EQ_U(f->pkts_toserver, 3);
    mk(&k, "10.0.1.1", "10.0.1.2", 6, 5000, 80, CG_TH_ACK, 0, 363 + 7201);
    f = up(ft, &k, &dir);
    CHECK_EQ_U(f->pkts_toserver, 1);
    CHECK(f->midstream); /* the new flow was picked up midstream */

    mk(&k, "10.0.2.1", "10.0.2.2", 1, 8, 0, 0, 0, 10000);
    f = up(ft, &k, &dir);
    mk(&k, "10.0.2.2", "10.0.2.1", 1, 0, 0, 0, 0, 10060);
    CHECK(up(ft, &k, &dir) == f && f->seen_both);
    mk(&k, "10.0.2.2", "10.0.2.1", 1, 0, 0, 0, 0, 10121);
    f = up(ft, &k, &dir);
    CHECK(!f->seen_both);
    CHECK_EQ_U(f->first_us, 10121000000ULL);

    /* time going backwards does not expire anything */
    mk(&k, "10.0.2.2", "10.0.2.1", 1, 0, 0, 0, 0, 5);
    CHECK(up(ft, &k, &dir) == f);
    CHECK_EQ_U(f->last_us, 10121000000ULL);

    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

/* ---- memory cap, refusal, eviction callback ----------------------------- */

static void check_memcap(void)
{
    cg_flowtable *ft = NULL;
    cg_flow_stats st;
    uint32_t caps[2];
    for (int u = 0; u < 2; u++) {
        cg_flow_config cfg = { .memcap = 1u << 20, .user_size = u ? 1000 : 0 };
        CHECK(cg_flowtable_create(&ft, &cfg) == 0);
        cg_flowtable_stats(ft, &st);
        caps[u] = st.capacity;
        uint32_t slot = (uint32_t)(CG_FLOW_USER_OFFSET + (u ? 1008 : 0));
        CHECK(st.mem_bytes <= cfg.memcap);
        CHECK(st.mem_bytes + slot > cfg.memcap); /* no room left for one more */
        CHECK(st.slot_bytes >= slot && st.slot_bytes <= slot + 8);
        CHECK_EQ_U(st.active, 0);
        cg_flowtable_destroy(ft);
    }
    CHECK(caps[0] > 3 * caps[1]);
    CHECK(caps[0] > 5000);

    /* the default cap holds a million flows with a 64-byte user area (the
     * reassembly state of both directions) */
    cg_flow_config big = { .user_size = 64 };
    CHECK(cg_flowtable_create(&ft, &big) == 0);
    cg_flowtable_stats(ft, &st);
    CHECK(st.mem_bytes <= CG_FLOW_DEFAULT_MEMCAP);
    CHECK(st.capacity >= 1000000);
    cg_flowtable_destroy(ft);

    /* a small cap filled far past its capacity: never more than capacity flows */
    cg_flow_config small = { .memcap = 32768, .min_idle_ms = CG_FLOW_NO_MIN_IDLE };
    CHECK(cg_flowtable_create(&ft, &small) == 0);
    cg_flowtable_stats(ft, &st);
    uint32_t cap = st.capacity;
    CHECK(cap > 50 && cap < 300);
    pkt k;
    int dir, ok = 1;
    for (unsigned i = 0; i < 5000; i++) {
        char a[32];
        snprintf(a, sizeof a, "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
        mk(&k, a, "192.0.2.1", 17, 1000, 53, 0, 0, 1);
        k.p.ts_us += i;
        if (!up(ft, &k, &dir))
            ok = 0;
        cg_flowtable_stats(ft, &st);
        if (st.active > cap)
            ok = 0;
    }
    CHECK(ok);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.active, cap);
    CHECK_EQ_U(st.created, 5000);
    CHECK_EQ_U(st.evicted_pressure, 5000 - cap);
    CHECK_EQ_U(st.refused_cap, 0);
    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

static void check_refusal(void)
{
    cg_flowtable *ft = NULL;
    CHECK(table(&ft, 4) == 0);
    pkt k;
    int dir;
    cg_flow_stats st;

    for (unsigned i = 1; i <= 4; i++) {
        udp_flow(&k, i, 100);
        CHECK(up(ft, &k, &dir) != NULL);
    }
    /* all four seen within the last second: the fifth is refused */
    udp_flow(&k, 5, 100);
    k.p.ts_us += 999999;
    dir = 7;
    CHECK(cg_flowtable_update(ft, &k.p, &dir) == NULL);
    CHECK_EQ_U(dir, 7);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.refused_cap, 1);
    CHECK_EQ_U(st.created, 4);
    CHECK_EQ_U(st.evicted_pressure, 0);
    /* the held flows are still served */
    udp_flow(&k, 1, 100);
    k.p.ts_us += 500000;
    CHECK(up(ft, &k, &dir) != NULL);
    /* a second after flow 2 was seen, it is evicted for the new one */
    udp_flow(&k, 5, 101);
    cg_flow *f = up(ft, &k, &dir);
    CHECK(f != NULL);
    CHECK_EQ_U(f->pkts_toserver, 1);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.refused_cap, 1);
    CHECK_EQ_U(st.evicted_pressure, 1);
    udp_flow(&k, 2, 101); /* 2 was the one evicted; 3 goes now */
    CHECK_EQ_U(up(ft, &k, &dir)->pkts_toserver, 1);
    udp_flow(&k, 3, 101); /* 4, seen at 100 s, goes for 3 */
    k.p.ts_us += 1;
    CHECK_EQ_U(up(ft, &k, &dir)->pkts_toserver, 1);
    udp_flow(&k, 4, 101); /* 1, seen at 100.5 s, is too recent */
    k.p.ts_us += 2;
    CHECK(up(ft, &k, &dir) == NULL);
    udp_flow(&k, 1, 101);
    CHECK_EQ_U(up(ft, &k, &dir)->pkts_toserver, 3);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.refused_cap, 2);
    CHECK_EQ_U(st.evicted_pressure, 3);
    check_invariant(ft);
    cg_flowtable_destroy(ft);

    /* without a minimum, the least recently seen is always evicted */
    cg_flow_config cfg = { .max_flows = 4, .min_idle_ms = CG_FLOW_NO_MIN_IDLE };
    CHECK(cg_flowtable_create(&ft, &cfg) == 0);
    for (unsigned i = 1; i <= 8; i++) {
        udp_flow(&k, i, 100);
        CHECK(up(ft, &k, &dir) != NULL);
    }
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.refused_cap, 0);
    CHECK_EQ_U(st.evicted_pressure, 4);
    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

typedef struct evlog {
    unsigned n[5];
    unsigned established; /* evicted flows that were established and open */
    unsigned bad_user;    /* user areas that did not hold their flow's id */
} evlog;

static void on_evict(void *ctx, cg_flow *f, int reason)
{
    evlog *e = ctx;
    if (reason >= 1 && reason <= 4)
        e->n[reason]++;
    if (reason == CG_FLOW_END_PRESSURE && cg_flow_established(f) && f->tcp_state != CG_TCP_CLOSED)
        e->established++;
    uint64_t mark;
    memcpy(&mark, cg_flow_user(f), sizeof mark);
    if (mark != f->id)
        e->bad_user++;
    memset(cg_flow_user(f), 0xa5, 64); /* dirty it: a new flow must see zeros */
}

/* Marks a flow's user area with its id, after checking it was zeroed. */
static int mark(cg_flow *f)
{
    uint64_t m;
    memcpy(&m, cg_flow_user(f), sizeof m);
    if (m == 0) {
        memcpy(cg_flow_user(f), &f->id, sizeof f->id);
        return 1;
    }
    return m == f->id;
}

static int in_list(cg_flow *const *list, unsigned n, const cg_flow *f)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i] == f)
            return 1;
    return 0;
}

/* Slots are handed out lazily (never-used ones after freed ones): up to
 * capacity distinct slots, each with a zeroed user area; then a refusal or an
 * eviction as before; a freed slot is taken again before a fresh one. */
static void check_slots(void)
{
    enum { CAP = 16 };
    cg_flowtable *ft = NULL;
    cg_flow_config cfg = { .max_flows = CAP, .user_size = 200 };
    CHECK(cg_flowtable_create(&ft, &cfg) == 0);
    cg_flow_stats st;
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.capacity, CAP);
    uint64_t mem = st.mem_bytes;
    pkt k;
    int dir;
    cg_flow *got[CAP + 1];
    unsigned ok = 0;

    /* four flows, then all flushed: their slots are free */
    for (unsigned i = 0; i < 4; i++) {
        udp_flow(&k, 1 + i, 100);
        got[i] = up(ft, &k, &dir);
        CHECK(got[i] != NULL);
    }
    CHECK_EQ_U(cg_flowtable_evict_all(ft), 4);
    /* four new ones take those four slots again (not fresh ones) */
    for (unsigned i = 0; i < 4; i++) {
        udp_flow(&k, 101 + i, 100);
        cg_flow *f = up(ft, &k, &dir);
        ok += f && in_list(got, 4, f) && mark(f);
    }
    CHECK_EQ_U(ok, 4);
    CHECK_EQ_U(cg_flowtable_evict_all(ft), 4);

    /* capacity flows at one moment: distinct slots, zeroed user areas */
    ok = 0;
    for (unsigned i = 0; i < CAP; i++) {
        udp_flow(&k, 1 + i, 200);
        cg_flow *f = up(ft, &k, &dir);
        ok += f && !in_list(got, i, f) && mark(f);
        got[i] = f;
    }
    CHECK_EQ_U(ok, CAP);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.active, CAP);
    CHECK_EQ_U(st.created, 4 + 4 + CAP);
    /* one more: refused, all are too recent */
    udp_flow(&k, 200, 200);
    CHECK(up(ft, &k, &dir) == NULL);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.refused_cap, 1);
    /* two seconds on: the least recently seen (the first) is evicted, and
     * the new flow takes its slot */
    udp_flow(&k, 200, 202);
    cg_flow *f = up(ft, &k, &dir);
    CHECK(f == got[0]);
    CHECK(f && mark(f));
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.active, CAP);
    CHECK_EQ_U(st.evicted_pressure, 1);
    CHECK_EQ_U(st.capacity, CAP);
    CHECK_EQ_U(st.mem_bytes, mem);
    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

static void tcp_open(cg_flowtable *ft, const char *c, const char *s, unsigned cp, uint64_t ts)
{
    pkt k;
    int dir;
    mk(&k, c, s, 6, cp, 443, CG_TH_SYN, 0, ts);
    CHECK(mark(up(ft, &k, &dir)));
    mk(&k, s, c, 6, 443, cp, CG_TH_SYN | CG_TH_ACK, 0, ts);
    up(ft, &k, &dir);
    mk(&k, c, s, 6, cp, 443, CG_TH_ACK, 0, ts);
    CHECK(cg_flow_established(up(ft, &k, &dir)));
}

/* A SYN flood from random sources against a full table: the established
 * connections stay, the flood churns among itself, what cannot be held is
 * refused; the callback sees every eviction with its user area intact. */
static void check_syn_flood(void)
{
    evlog e;
    memset(&e, 0, sizeof e);
    cg_flow_config cfg = { .max_flows = 64,
                           .user_size = 64,
                           .on_evict = on_evict,
                           .evict_ctx = &e };
    cg_flowtable *ft = NULL;
    CHECK(cg_flowtable_create(&ft, &cfg) == 0);
    pkt k;
    int dir;
    cg_flow_stats st;

    for (unsigned i = 0; i < 16; i++)
        tcp_open(ft, "10.0.0.1", "10.0.0.2", 40000 + i, 10);
    uint32_t rng = 12345;
    int marks = 1;
    for (unsigned i = 0; i < 30000; i++) { /* 10,000 SYNs a second for 3 s */
        char a[32];
        rng = rng * 1103515245u + 12345u;
        snprintf(a, sizeof a, "%u.%u.%u.%u", 1 + (rng >> 24) % 223, (rng >> 16) & 255,
                 (rng >> 8) & 255, rng & 255);
        mk(&k, a, "10.0.0.2", 6, 1024 + (rng & 0x7fff), 443, CG_TH_SYN, 0, 11);
        k.p.ts_us += (uint64_t)i * 100;
        cg_flow *f = up(ft, &k, &dir);
        if (f && !mark(f))
            marks = 0;
    }
    CHECK(marks);
    cg_flowtable_stats(ft, &st);
    CHECK(st.refused_cap > 20000);
    CHECK(st.evicted_pressure > 48);
    CHECK_EQ_U(e.established, 0);
    CHECK_EQ_U(e.n[CG_FLOW_END_PRESSURE], st.evicted_pressure);
    CHECK_EQ_U(e.bad_user, 0);
    /* every connection is still the same flow */
    for (unsigned i = 0; i < 16; i++) {
        mk(&k, "10.0.0.1", "10.0.0.2", 6, 40000 + i, 443, CG_TH_ACK, 10, 14);
        cg_flow *f = up(ft, &k, &dir);
        CHECK(f != NULL && f->pkts_toserver == 3 && f->first_us == 10000000);
    }
    check_invariant(ft);

    /* a table of established flows only: a new flow waits for one of them to
     * be idle min_idle_est_ms (30 s) */
    CHECK_EQ_U(cg_flowtable_evict_all(ft), 64);
    CHECK_EQ_U(e.n[CG_FLOW_END_FLUSH], 64);
    for (unsigned i = 0; i < 64; i++)
        tcp_open(ft, "10.0.1.1", "10.0.1.2", 50000 + i, 100);
    mk(&k, "10.0.2.1", "10.0.1.2", 6, 1, 443, CG_TH_SYN, 0, 129);
    CHECK(up(ft, &k, &dir) == NULL);
    mk(&k, "10.0.2.1", "10.0.1.2", 6, 1, 443, CG_TH_SYN, 0, 130);
    cg_flow *f = up(ft, &k, &dir);
    CHECK(f != NULL && mark(f));
    CHECK_EQ_U(e.established, 1);
    CHECK_EQ_U(e.bad_user, 0);
    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

static void check_expire(void)
{
    evlog e;
    memset(&e, 0, sizeof e);
    cg_flow_config cfg = { .max_flows = 16,
                           .user_size = 64,
                           .on_evict = on_evict,
                           .evict_ctx = &e,
                           .timeouts = { .udp = 10, .tcp_closed = 5 } };
    cg_flowtable *ft = NULL;
    CHECK(cg_flowtable_create(&ft, &cfg) == 0);
    pkt k;
    int dir;
    cg_flow_stats st;
    for (unsigned i = 1; i <= 6; i++) {
        udp_flow(&k, i, i);
        CHECK(mark(up(ft, &k, &dir)));
    }
    tcp_open(ft, "10.0.0.1", "10.0.0.2", 40000, 7);
    mk(&k, "10.0.0.1", "10.0.0.2", 6, 40000, 443, CG_TH_FIN | CG_TH_ACK, 0, 8);
    up(ft, &k, &dir);
    mk(&k, "10.0.0.2", "10.0.0.1", 6, 443, 40000, CG_TH_FIN | CG_TH_ACK, 0, 8);
    cg_flow *f = up(ft, &k, &dir);
    CHECK_EQ_U(f->tcp_state, CG_TCP_CLOSED);

    /* at 14 s: udp 1..3 idle > 10 s, and the closed TCP flow idle 6 s > 5 s */
    CHECK_EQ_U(cg_flowtable_expire(ft, 14000000, 100), 4);
    CHECK_EQ_U(cg_flowtable_expire(ft, 14000000, 100), 0);
    CHECK_EQ_U(cg_flowtable_expire(ft, 100000000, 2), 2);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.evicted_timeout, 6);
    CHECK_EQ_U(st.active, 1);
    CHECK_EQ_U(e.n[CG_FLOW_END_TIMEOUT], 6);
    CHECK_EQ_U(cg_flowtable_evict_all(ft), 1);
    CHECK_EQ_U(cg_flowtable_evict_all(ft), 0);
    cg_flowtable_stats(ft, &st);
    CHECK_EQ_U(st.active, 0);
    CHECK_EQ_U(st.evicted_flush, 1);
    CHECK_EQ_U(e.bad_user, 0);
    check_invariant(ft);

    /* the slots come back zeroed */
    for (unsigned i = 1; i <= 16; i++) {
        udp_flow(&k, i, 200);
        CHECK(mark(up(ft, &k, &dir)));
    }
    /* reuse of a closed tuple goes through the callback too */
    tcp_open(ft, "10.0.3.1", "10.0.3.2", 1, 300);
    mk(&k, "10.0.3.2", "10.0.3.1", 6, 443, 1, CG_TH_RST, 0, 300);
    up(ft, &k, &dir);
    tcp_open(ft, "10.0.3.1", "10.0.3.2", 1, 301);
    CHECK_EQ_U(e.n[CG_FLOW_END_REUSE], 1);
    CHECK_EQ_U(e.bad_user, 0);
    check_invariant(ft);
    cg_flowtable_destroy(ft);
}

/* Later fragments carry no ports: they do not move TCP state and get a flow
 * of their own (ports 0); the community id hashes them without ports. */
static void check_fragments(void)
{
    uint8_t fr[80];
    memset(fr, 0, sizeof fr);
    be16(fr + 12, 0x0800);
    fr[14] = 0x45;
    be16(fr + 16, 40);
    be16(fr + 20, 100); /* offset 800 bytes */
    fr[22] = 64;
    fr[23] = 6;
    fr[26] = 10;
    fr[29] = 1;
    fr[30] = 10;
    fr[33] = 2;
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    cg_packet p;
    CHECK_EQ_U(cg_decode(&p, 1, fr, 54, 54, 0, &st), CG_OK);
    CHECK(p.flags & CG_PKT_FRAG_LATER);
    char a[64], b[64];
    CHECK(cg_community_id(&p, 0, a, sizeof a) == 0);
    pkt g;
    mk(&g, "10.0.0.1", "10.0.0.2", 47, 0, 0, 0, 16, 0); /* same hash input shape */
    g.p.proto = 6;
    CHECK(cg_community_id(&g.p, 0, b, sizeof b) == 0);
    CHECK_STR(a, b);

    cg_flowtable *ft = NULL;
    CHECK(table(&ft, 4) == 0);
    int dir;
    cg_flow *f = cg_flowtable_update(ft, &p, &dir);
    CHECK(f != NULL);
    CHECK_EQ_U(f->tcp_state, CG_TCP_NONE);
    CHECK(!f->midstream);
    cg_flowtable_destroy(ft);
}

/* cg_flowtable_check holds after each of 30,000 updates that create, expire
 * and evict flows, and finds a flow put in the wrong list or chain, a cycle
 * in the free list, and a count that is off. */
static void check_structure(void)
{
    cg_flowtable *ft = NULL;
    CHECK(table(&ft, 64) == 0);
    pkt k;
    int dir, bad = 0;
    uint32_t rng = 99;
    cg_flow *some = NULL;
    for (unsigned i = 0; i < 30000; i++) {
        char a[32];
        rng = rng * 1103515245u + 12345u;
        snprintf(a, sizeof a, "10.1.%u.%u", (rng >> 20) & 7, (rng >> 12) & 15);
        uint8_t fl = (rng >> 8) % 3 == 0 ? CG_TH_SYN
            : (rng >> 8) % 3 == 1        ? CG_TH_ACK
                                         : CG_TH_FIN | CG_TH_ACK;
        mk(&k, a, "10.0.0.2", (rng >> 4) & 1 ? 6 : 17, 1024 + (rng & 15), 443, fl, 0, 1);
        k.p.ts_us += (uint64_t)i * 20000;
        cg_flow *f = up(ft, &k, &dir);
        if (f)
            some = f;
        if (cg_flowtable_check(ft) != 0)
            bad++;
    }
    CHECK_EQ_U(bad, 0);
    check_invariant(ft);
    CHECK(some != NULL);
    if (some) {
        uint8_t lru = some->lru;
        some->lru = (uint8_t)(lru ^ 1);
        CHECK(cg_flowtable_check(ft) == -1);
        some->lru = lru;
        uint32_t b = some->bucket;
        some->bucket = b + 1;
        CHECK(cg_flowtable_check(ft) == -1);
        some->bucket = b;
        uint32_t next = some->lru_next;
        some->lru_next = 0x7fffffffu;
        CHECK(cg_flowtable_check(ft) == -1);
        some->lru_next = next;
        CHECK(cg_flowtable_check(ft) == 0);
    }
    cg_flowtable_destroy(ft);
}

int main(void)
{
    check_structure();
    check_community_id();
    check_hash();
    check_handshake();
    check_midstream();
    check_eviction();
    check_timeouts();
    check_fragments();
    check_memcap();
    check_refusal();
    check_slots();
    check_syn_flood();
    check_expire();
    return check_done("test_flow");
}
