/* test_decode.c — unit tests of sensor/decode: hand-built frames of every link
 * type and protocol the decoder knows, each then cut at every length, and the
 * invalid and unsupported cases; plus the address helpers.
 *
 * Each cut frame is copied into a heap block of exactly its length, so that
 * AddressSanitizer reports any read past caplen.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/decode.h"
#include "tests/check.h"

/* ---- frame builder ----------------------------------------------------- */

typedef struct fb {
    uint8_t b[1600];
    uint32_t n;
} fb;

static void u8(fb *f, unsigned v)
{
    f->b[f->n++] = (uint8_t)v;
}
static void u16(fb *f, unsigned v)
{
    u8(f, v >> 8);
    u8(f, v & 0xff);
}
static void u32(fb *f, uint32_t v)
{
    u16(f, v >> 16);
    u16(f, v & 0xffff);
}
static void put(fb *f, const void *p, uint32_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += n;
}
static void zeros(fb *f, uint32_t n)
{
    memset(f->b + f->n, 0, n);
    f->n += n;
}
static void patch16(fb *f, uint32_t off, unsigned v)
{
    f->b[off] = (uint8_t)(v >> 8);
    f->b[off + 1] = (uint8_t)v;
}

static const uint8_t V4A[4] = { 192, 0, 2, 1 }, V4B[4] = { 198, 51, 100, 7 };
static const uint8_t V6A[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t V6B[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static void eth_macs(fb *f)
{
    static const uint8_t m[12] = { 0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10 };
    put(f, m, 12);
}

static void eth(fb *f, unsigned type)
{
    eth_macs(f);
    u16(f, type);
}

/* IPv4 header with ihl_words (>= 5) words; the options are NOPs ending in EOL.
 * Returns the header's offset, for ip4_end. */
static uint32_t ip4_begin(fb *f, unsigned proto, unsigned ihl_words, unsigned frag)
{
    uint32_t off = f->n;
    u8(f, 0x40 | ihl_words);
    u8(f, 0);
    u16(f, 0); /* total length, patched */
    u16(f, 0x1234);
    u16(f, frag);
    u8(f, 64);
    u8(f, proto);
    u16(f, 0);
    put(f, V4A, 4);
    put(f, V4B, 4);
    for (unsigned i = 20; i < ihl_words * 4; i++)
        u8(f, i + 1 < ihl_words * 4 ? 1 : 0);
    return off;
}

static void ip4_end(fb *f, uint32_t off)
{
    patch16(f, off + 2, f->n - off);
}

static uint32_t ip6_begin(fb *f, unsigned next)
{
    uint32_t off = f->n;
    u32(f, 0x60000000);
    u16(f, 0); /* payload length, patched */
    u8(f, next);
    u8(f, 55);
    put(f, V6A, 16);
    put(f, V6B, 16);
    return off;
}

static void ip6_end(fb *f, uint32_t off)
{
    patch16(f, off + 4, f->n - off - 40);
}

/* TCP with MSS, SACK-permitted, window scale and NOP padding (doff 8). */
static void tcp(fb *f, unsigned sport, unsigned dport, unsigned flags, const char *data)
{
    u16(f, sport);
    u16(f, dport);
    u32(f, 1000);
    u32(f, 2000);
    u8(f, 8 << 4);
    u8(f, flags);
    u16(f, 65535);
    u16(f, 0);
    u16(f, 0);
    static const uint8_t opt[12] = { 2, 4, 5, 0xb4, 4, 2, 3, 3, 7, 1, 1, 0 };
    put(f, opt, 12);
    put(f, data, (uint32_t)strlen(data));
}

static void udp(fb *f, unsigned sport, unsigned dport, const char *data)
{
    u16(f, sport);
    u16(f, dport);
    u16(f, 8 + (unsigned)strlen(data));
    u16(f, 0);
    put(f, data, (uint32_t)strlen(data));
}

static void icmp(fb *f, unsigned type, unsigned code, const char *data)
{
    u8(f, type);
    u8(f, code);
    u16(f, 0);
    u16(f, 0x4242);
    u16(f, 1);
    put(f, data, (uint32_t)strlen(data));
}

/* ---- helpers ----------------------------------------------------------- */

typedef struct frame {
    const char *name;
    int dlt;
    fb f;
} frame;

static int decode_copy(cg_packet *p, int dlt, const uint8_t *data, uint32_t len,
                       cg_decode_stats *st)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    int rc = cg_decode(p, dlt, copy, len, len, 7, st);
    free(copy);
    return rc;
}

static int payload_is(const cg_packet *p, const char *s)
{
    size_t n = strlen(s);
    return p->payload_len == n && (n == 0 || memcmp(p->payload, s, n) == 0);
}

static const char *fmt(const uint8_t a[16], char *buf)
{
    return cg_addr_format(a, buf, 46);
}

/* Every cut of f: TRUNCATED while a header is incomplete, OK once all headers
 * are there (with CG_PKT_L4_TRUNCATED while the IP packet is incomplete, and
 * without it in Ethernet padding). */
static void check_cuts(const frame *fr, cg_decode_stats *st, uint64_t *ok)
{
    cg_packet full;
    cg_decode_stats tmp;
    memset(&tmp, 0, sizeof tmp);
    if (cg_decode(&full, fr->dlt, fr->f.b, fr->f.n, fr->f.n, 0, &tmp) != CG_OK) {
        fprintf(stderr, "%s: does not decode whole\n", fr->name);
        CHECK(0);
        return;
    }
    uint32_t hdr_end = (uint32_t)(full.payload - fr->f.b);
    uint32_t ip_end = (uint32_t)(full.l3 - fr->f.b) + full.l3_len;
    for (uint32_t k = 0; k < fr->f.n; k++) {
        cg_packet p;
        int rc = decode_copy(&p, fr->dlt, fr->f.b, k, st);
        int want = k < hdr_end ? CG_ETRUNCATED : CG_OK;
        if (rc != want) {
            fprintf(stderr, "%s cut at %u: %s, expected %s\n", fr->name, k, cg_strerror(rc),
                    cg_strerror(want));
            CHECK(rc == want);
            continue;
        }
        if (rc == CG_OK) {
            (*ok)++;
            int flagged = (p.flags & CG_PKT_L4_TRUNCATED) != 0;
            if (flagged != (k < ip_end)) {
                fprintf(stderr, "%s cut at %u: L4_TRUNCATED %d\n", fr->name, k, flagged);
                CHECK(flagged == (k < ip_end));
            }
            CHECK(p.payload_len <= k);
            CHECK(p.payload + p.payload_len <= p.frame + k);
        }
    }
}

/* ---- the frames -------------------------------------------------------- */

enum { MAX_FRAMES = 40 };

static frame *add(frame *tab, int *n, const char *name, int dlt)
{
    frame *fr = &tab[(*n)++];
    memset(fr, 0, sizeof *fr);
    fr->name = name;
    fr->dlt = dlt;
    return fr;
}

static int build_frames(frame *t)
{
    int n = 0;
    frame *fr;
    uint32_t ip, ip2;

    fr = add(t, &n, "eth ipv4 tcp", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 6, 5, 0x4000);
    tcp(&fr->f, 40000, 80, 0x18, "GET / HTTP/1.0\r\n\r\n");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth 802.1q ipv4 udp", 1);
    eth_macs(&fr->f);
    u16(&fr->f, 0x8100);
    u16(&fr->f, 0x2064); /* PCP 1, VID 100 */
    u16(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 17, 5, 0);
    udp(&fr->f, 5353, 53, "query");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth qinq 88a8/8100 ipv6 tcp", 1);
    eth_macs(&fr->f);
    u16(&fr->f, 0x88a8);
    u16(&fr->f, 10);
    u16(&fr->f, 0x8100);
    u16(&fr->f, 20);
    u16(&fr->f, 0x86dd);
    ip = ip6_begin(&fr->f, 6);
    tcp(&fr->f, 443, 50000, 0x10, "x");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "eth qinq 9100/8100/8100 ipv4 icmp", 1);
    eth_macs(&fr->f);
    u16(&fr->f, 0x9100);
    u16(&fr->f, 30);
    u16(&fr->f, 0x8100);
    u16(&fr->f, 40);
    u16(&fr->f, 0x8100);
    u16(&fr->f, 50); /* a third tag: walked, not kept */
    u16(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 1, 5, 0);
    icmp(&fr->f, 8, 0, "ping");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv4 options udp", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 17, 7, 0);
    udp(&fr->f, 1000, 2000, "opts");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv4 first fragment udp", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 17, 5, 0x2000);
    u16(&fr->f, 3000);
    u16(&fr->f, 4000);
    u16(&fr->f, 1400);
    u16(&fr->f, 0);
    put(&fr->f, "firstfrag", 9);
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv4 later fragment", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 17, 5, 185);
    put(&fr->f, "laterfragdata", 13);
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv6 hbh routing fragment udp", 1);
    eth(&fr->f, 0x86dd);
    ip = ip6_begin(&fr->f, 0);
    u8(&fr->f, 43);
    u8(&fr->f, 0);
    u8(&fr->f, 5);
    u8(&fr->f, 2);
    zeros(&fr->f, 4); /* HBH, router alert */
    u8(&fr->f, 44);
    u8(&fr->f, 2);
    u8(&fr->f, 0);
    u8(&fr->f, 0);
    zeros(&fr->f, 4); /* routing type 0 */
    put(&fr->f, V6B, 16);
    u8(&fr->f, 17);
    u8(&fr->f, 0);
    u16(&fr->f, 0x0001);
    u32(&fr->f, 0xabcd); /* fragment, M */
    u16(&fr->f, 7000);
    u16(&fr->f, 8000);
    u16(&fr->f, 3000);
    u16(&fr->f, 0);
    put(&fr->f, "v6frag", 6);
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv6 later fragment", 1);
    eth(&fr->f, 0x86dd);
    ip = ip6_begin(&fr->f, 44);
    u8(&fr->f, 17);
    u8(&fr->f, 0);
    u16(&fr->f, 0x00b8);
    u32(&fr->f, 0xabcd); /* offset 23 */
    put(&fr->f, "v6later", 7);
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv6 dstopts ah tcp", 1);
    eth(&fr->f, 0x86dd);
    ip = ip6_begin(&fr->f, 60);
    u8(&fr->f, 51);
    u8(&fr->f, 0);
    u8(&fr->f, 1);
    u8(&fr->f, 4);
    zeros(&fr->f, 4); /* PadN */
    u8(&fr->f, 6);
    u8(&fr->f, 4);
    u16(&fr->f, 0);
    u32(&fr->f, 0x100);
    u32(&fr->f, 1);
    zeros(&fr->f, 12); /* AH, 24 bytes */
    tcp(&fr->f, 1234, 22, 0x02, "");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv6 esp", 1);
    eth(&fr->f, 0x86dd);
    ip = ip6_begin(&fr->f, 50);
    u32(&fr->f, 0x1000);
    u32(&fr->f, 1);
    put(&fr->f, "secret", 6);
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv6 icmpv6 echo", 1);
    eth(&fr->f, 0x86dd);
    ip = ip6_begin(&fr->f, 58);
    icmp(&fr->f, 128, 0, "ping6");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv4 tcp ack with padding", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 6, 5, 0x4000);
    tcp(&fr->f, 40000, 80, 0x10, "");
    ip4_end(&fr->f, ip);
    put(&fr->f, "PADPADPADPADPADP", 16); /* trailer bytes past the IP length */

    fr = add(t, &n, "eth ipv4 udp short, padded to 60", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 17, 5, 0);
    udp(&fr->f, 1, 2, "ab");
    ip4_end(&fr->f, ip);
    while (fr->f.n < 60)
        u8(&fr->f, 0xee);

    fr = add(t, &n, "eth ipv4 sctp", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 132, 5, 0);
    u16(&fr->f, 2905);
    u16(&fr->f, 2906);
    u32(&fr->f, 1);
    u32(&fr->f, 0);
    put(&fr->f, "chunk", 5);
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv4 gre", 1);
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 47, 5, 0);
    u16(&fr->f, 0);
    u16(&fr->f, 0x6558);
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "sll ipv4 tcp", 113);
    u16(&fr->f, 0);
    u16(&fr->f, 1);
    u16(&fr->f, 6); /* to us, ARPHRD_ETHER, halen 6 */
    put(&fr->f, "\0\1\2\3\4\5", 6);
    zeros(&fr->f, 2); /* the 8-byte address field */
    u16(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 6, 5, 0);
    tcp(&fr->f, 1111, 2222, 0x02, "");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "sll2 ipv6 udp", 276);
    u16(&fr->f, 0x86dd);
    u16(&fr->f, 0);
    u32(&fr->f, 3);
    u16(&fr->f, 1);
    u8(&fr->f, 0);
    u8(&fr->f, 6);
    zeros(&fr->f, 8);
    ip = ip6_begin(&fr->f, 17);
    udp(&fr->f, 5000, 6000, "sll2");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "raw(12) ipv4 icmp", 12);
    ip = ip4_begin(&fr->f, 1, 5, 0);
    icmp(&fr->f, 0, 0, "pong");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "raw(14) ipv6 udp", 14);
    ip = ip6_begin(&fr->f, 17);
    udp(&fr->f, 53, 5353, "r14");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "raw(101) ipv4 udp", 101);
    ip = ip4_begin(&fr->f, 17, 5, 0);
    udp(&fr->f, 53, 5353, "r101");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "ipv4(228) tcp", 228);
    ip = ip4_begin(&fr->f, 6, 5, 0);
    tcp(&fr->f, 1, 2, 0x11, "bye");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "ipv6(229) icmpv6", 229);
    ip = ip6_begin(&fr->f, 58);
    icmp(&fr->f, 1, 4, "unreach");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "null host-order (LE) ipv4 udp", 0);
    u8(&fr->f, 2);
    zeros(&fr->f, 3);
    ip = ip4_begin(&fr->f, 17, 5, 0);
    udp(&fr->f, 10, 20, "lo");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "null network-order ipv6(30) tcp", 0);
    u32(&fr->f, 30);
    ip = ip6_begin(&fr->f, 6);
    tcp(&fr->f, 10, 20, 0x04, "");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "null host-order (LE) ipv6(24) udp", 0);
    u8(&fr->f, 24);
    zeros(&fr->f, 3);
    ip = ip6_begin(&fr->f, 17);
    udp(&fr->f, 10, 20, "bsd");
    ip6_end(&fr->f, ip);

    fr = add(t, &n, "loop ipv4 tcp", 108);
    u32(&fr->f, 2);
    ip = ip4_begin(&fr->f, 6, 5, 0);
    tcp(&fr->f, 10, 20, 0x12, "");
    ip4_end(&fr->f, ip);

    fr = add(t, &n, "eth ipv4 in ipv4", 1); /* IP-in-IP: the outer header only */
    eth(&fr->f, 0x0800);
    ip = ip4_begin(&fr->f, 4, 5, 0);
    ip2 = ip4_begin(&fr->f, 17, 5, 0);
    udp(&fr->f, 1, 2, "in");
    ip4_end(&fr->f, ip2);
    ip4_end(&fr->f, ip);

    return n;
}

/* ---- field checks per frame -------------------------------------------- */

static void check_fields(const frame *t, int n)
{
    char a[46], b[46];
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < n; i++) {
        cg_packet p;
        const frame *fr = &t[i];
        int rc = cg_decode(&p, fr->dlt, fr->f.b, fr->f.n, fr->f.n, 7, &st);
        if (rc != CG_OK)
            fprintf(stderr, "%s: %s\n", fr->name, cg_strerror(rc));
        CHECK_EQ_U(rc, CG_OK);
        CHECK(!(p.flags & CG_PKT_L4_TRUNCATED));
        CHECK(p.frame != NULL && p.caplen == fr->f.n && p.ts_us == 7 && p.dlt == fr->dlt);
        const char *nm = fr->name;
        if (!strcmp(nm, "eth ipv4 tcp")) {
            CHECK_EQ_U(p.ipver, 4);
            CHECK_EQ_U(p.proto, 6);
            CHECK_EQ_U(p.ttl, 64);
            CHECK_STR(fmt(p.src, a), "192.0.2.1");
            CHECK_STR(fmt(p.dst, b), "198.51.100.7");
            CHECK_EQ_U(p.sport, 40000);
            CHECK_EQ_U(p.dport, 80);
            CHECK_EQ_U(p.tcp_flags, CG_TH_PSH | CG_TH_ACK);
            CHECK_EQ_U(p.tcp_seq, 1000);
            CHECK_EQ_U(p.tcp_ack, 2000);
            CHECK_EQ_U(p.tcp_win, 65535);
            CHECK(p.flags & CG_PKT_HAS_PORTS);
            CHECK(!(p.flags & (CG_PKT_IPV4_FRAG | CG_PKT_FRAG_LATER)));
            CHECK(payload_is(&p, "GET / HTTP/1.0\r\n\r\n"));
            CHECK(p.l3 == fr->f.b + 14);
            CHECK_EQ_U(p.l3_len, fr->f.n - 14);
            CHECK(p.l4 == fr->f.b + 34);
            CHECK_EQ_U(p.vlan_count, 0);
        } else if (!strcmp(nm, "eth 802.1q ipv4 udp")) {
            CHECK_EQ_U(p.vlan_count, 1);
            CHECK_EQ_U(p.vlan[0], 100);
            CHECK_EQ_U(p.proto, 17);
            CHECK_EQ_U(p.sport, 5353);
            CHECK_EQ_U(p.dport, 53);
            CHECK(payload_is(&p, "query"));
        } else if (!strcmp(nm, "eth qinq 88a8/8100 ipv6 tcp")) {
            CHECK_EQ_U(p.vlan_count, 2);
            CHECK_EQ_U(p.vlan[0], 10);
            CHECK_EQ_U(p.vlan[1], 20);
            CHECK_EQ_U(p.ipver, 6);
            CHECK_EQ_U(p.ttl, 55);
            CHECK_STR(fmt(p.src, a), "2001:db8::1");
            CHECK_STR(fmt(p.dst, b), "2001:db8::2");
            CHECK_EQ_U(p.sport, 443);
            CHECK(payload_is(&p, "x"));
        } else if (!strcmp(nm, "eth qinq 9100/8100/8100 ipv4 icmp")) {
            CHECK_EQ_U(p.vlan_count, CG_MAX_VLAN);
            CHECK_EQ_U(p.vlan[0], 30);
            CHECK_EQ_U(p.vlan[1], 40);
            CHECK_EQ_U(p.proto, 1);
            CHECK_EQ_U(p.icmp_type, 8);
            CHECK_EQ_U(p.icmp_code, 0);
            CHECK_EQ_U(p.sport, 0);
            CHECK(!(p.flags & CG_PKT_HAS_PORTS));
            CHECK(payload_is(&p, "ping"));
        } else if (!strcmp(nm, "eth ipv4 options udp")) {
            CHECK(p.l4 == p.l3 + 28);
            CHECK_EQ_U(p.sport, 1000);
            CHECK(payload_is(&p, "opts"));
        } else if (!strcmp(nm, "eth ipv4 first fragment udp")) {
            CHECK(p.flags & CG_PKT_IPV4_FRAG);
            CHECK(!(p.flags & CG_PKT_FRAG_LATER));
            CHECK(p.flags & CG_PKT_HAS_PORTS);
            CHECK_EQ_U(p.sport, 3000);
            CHECK_EQ_U(p.dport, 4000);
            CHECK(payload_is(&p, "firstfrag"));
        } else if (!strcmp(nm, "eth ipv4 later fragment")) {
            CHECK(p.flags & CG_PKT_IPV4_FRAG);
            CHECK(p.flags & CG_PKT_FRAG_LATER);
            CHECK(!(p.flags & CG_PKT_HAS_PORTS));
            CHECK_EQ_U(p.proto, 17);
            CHECK(p.l4 == NULL && p.l4_len == 0);
            CHECK_EQ_U(p.sport, 0);
            CHECK(payload_is(&p, "laterfragdata"));
        } else if (!strcmp(nm, "eth ipv6 hbh routing fragment udp")) {
            CHECK(p.flags & CG_PKT_IPV6_FRAG);
            CHECK(!(p.flags & CG_PKT_FRAG_LATER));
            CHECK_EQ_U(p.proto, 17);
            CHECK_EQ_U(p.sport, 7000);
            CHECK_EQ_U(p.dport, 8000);
            CHECK(p.l4 == p.l3 + 40 + 8 + 24 + 8);
            CHECK(payload_is(&p, "v6frag"));
        } else if (!strcmp(nm, "eth ipv6 later fragment")) {
            CHECK(p.flags & CG_PKT_IPV6_FRAG);
            CHECK(p.flags & CG_PKT_FRAG_LATER);
            CHECK_EQ_U(p.proto, 17);
            CHECK(p.l4 == NULL);
            CHECK(payload_is(&p, "v6later"));
        } else if (!strcmp(nm, "eth ipv6 dstopts ah tcp")) {
            CHECK_EQ_U(p.proto, 6);
            CHECK_EQ_U(p.dport, 22);
            CHECK_EQ_U(p.tcp_flags, CG_TH_SYN);
            CHECK(p.l4 == p.l3 + 40 + 8 + 24);
            CHECK(payload_is(&p, ""));
        } else if (!strcmp(nm, "eth ipv6 esp")) {
            CHECK_EQ_U(p.proto, 50);
            CHECK(!(p.flags & CG_PKT_HAS_PORTS));
            CHECK_EQ_U(p.payload_len, 14);
        } else if (!strcmp(nm, "eth ipv6 icmpv6 echo")) {
            CHECK_EQ_U(p.proto, 58);
            CHECK_EQ_U(p.icmp_type, 128);
            CHECK(payload_is(&p, "ping6"));
        } else if (!strcmp(nm, "eth ipv4 tcp ack with padding")) {
            CHECK(payload_is(&p, ""));
            CHECK_EQ_U(p.l3_len, 20 + 32);
            CHECK_EQ_U(p.l4_len, 32);
        } else if (!strcmp(nm, "eth ipv4 udp short, padded to 60")) {
            CHECK_EQ_U(fr->f.n, 60);
            CHECK(payload_is(&p, "ab"));
            CHECK_EQ_U(p.l3_len, 30);
        } else if (!strcmp(nm, "eth ipv4 sctp")) {
            CHECK_EQ_U(p.proto, 132);
            CHECK(p.flags & CG_PKT_HAS_PORTS);
            CHECK_EQ_U(p.sport, 2905);
            CHECK_EQ_U(p.dport, 2906);
            CHECK(payload_is(&p, "chunk"));
        } else if (!strcmp(nm, "eth ipv4 gre")) {
            CHECK_EQ_U(p.proto, 47);
            CHECK_EQ_U(p.payload_len, 4);
            CHECK(p.l4 == p.payload);
        } else if (!strcmp(nm, "sll ipv4 tcp")) {
            CHECK(p.l3 == fr->f.b + 16);
            CHECK_EQ_U(p.sport, 1111);
            CHECK_EQ_U(p.tcp_flags, CG_TH_SYN);
        } else if (!strcmp(nm, "sll2 ipv6 udp")) {
            CHECK(p.l3 == fr->f.b + 20);
            CHECK(payload_is(&p, "sll2"));
        } else if (!strcmp(nm, "raw(12) ipv4 icmp")) {
            CHECK(p.l3 == fr->f.b);
            CHECK_EQ_U(p.icmp_type, 0);
            CHECK(payload_is(&p, "pong"));
        } else if (!strcmp(nm, "raw(14) ipv6 udp")) {
            CHECK_EQ_U(p.ipver, 6);
            CHECK(payload_is(&p, "r14"));
        } else if (!strcmp(nm, "raw(101) ipv4 udp")) {
            CHECK(payload_is(&p, "r101"));
        } else if (!strcmp(nm, "ipv4(228) tcp")) {
            CHECK_EQ_U(p.tcp_flags, CG_TH_FIN | CG_TH_ACK);
            CHECK(payload_is(&p, "bye"));
        } else if (!strcmp(nm, "ipv6(229) icmpv6")) {
            CHECK_EQ_U(p.icmp_type, 1);
            CHECK_EQ_U(p.icmp_code, 4);
            CHECK(payload_is(&p, "unreach"));
        } else if (!strcmp(nm, "null host-order (LE) ipv4 udp")) {
            CHECK(p.l3 == fr->f.b + 4);
            CHECK(payload_is(&p, "lo"));
        } else if (!strcmp(nm, "null network-order ipv6(30) tcp")) {
            CHECK_EQ_U(p.ipver, 6);
            CHECK_EQ_U(p.tcp_flags, CG_TH_RST);
        } else if (!strcmp(nm, "null host-order (LE) ipv6(24) udp")) {
            CHECK(payload_is(&p, "bsd"));
        } else if (!strcmp(nm, "loop ipv4 tcp")) {
            CHECK_EQ_U(p.tcp_flags, CG_TH_SYN | CG_TH_ACK);
        } else if (!strcmp(nm, "eth ipv4 in ipv4")) {
            CHECK_EQ_U(p.proto, 4);
            CHECK_EQ_U(p.payload_len, 30);
        }
    }
    CHECK_EQ_U(st.packets, (uint64_t)n);
    CHECK_EQ_U(st.truncated + st.invalid + st.unsupported, 0);
    CHECK_EQ_U(st.ethernet, 17);
    CHECK_EQ_U(st.sll, 2);
    CHECK_EQ_U(st.raw, 5);
    CHECK_EQ_U(st.null_loop, 4);
    CHECK_EQ_U(st.vlan, 3);
    CHECK_EQ_U(st.ipv4, 17);
    CHECK_EQ_U(st.ipv6, 11);
    CHECK_EQ_U(st.tcp, 8);
    CHECK_EQ_U(st.udp, 10);
    CHECK_EQ_U(st.icmp, 2);
    CHECK_EQ_U(st.icmpv6, 2);
    CHECK_EQ_U(st.other_l4, 4); /* esp, sctp, gre, ip-in-ip */
    CHECK_EQ_U(st.fragments, 4);
}

/* ---- invalid and unsupported ------------------------------------------- */

static void expect(const char *what, int dlt, const fb *f, int want, cg_decode_stats *st)
{
    cg_packet p;
    int rc = decode_copy(&p, dlt, f->b, f->n, st);
    if (rc != want)
        fprintf(stderr, "%s: %s, expected %s\n", what, cg_strerror(rc), cg_strerror(want));
    CHECK(rc == want);
}

static void check_invalid(void)
{
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    fb f;
    uint32_t ip;

    memset(&f, 0, sizeof f); /* IHL 4 */
    eth(&f, 0x0800);
    ip = ip4_begin(&f, 17, 5, 0);
    udp(&f, 1, 2, "x");
    ip4_end(&f, ip);
    f.b[14] = 0x44;
    expect("ipv4 ihl 4", 1, &f, CG_EMALFORMED, &st);
    f.b[14] = 0x45;
    expect("ipv4 ihl 5 again", 1, &f, CG_OK, &st);
    patch16(&f, 16, 12); /* total length under the header length */
    expect("ipv4 total length 12", 1, &f, CG_EMALFORMED, &st);
    patch16(&f, 16, 21); /* UDP header past the IP length */
    expect("ipv4 total length 21", 1, &f, CG_EMALFORMED, &st);
    patch16(&f, 16, 29);
    patch16(&f, 34 + 4, 7); /* UDP length under 8 */
    expect("udp length 7", 1, &f, CG_EMALFORMED, &st);
    patch16(&f, 34 + 4, 10); /* UDP length past the IP payload */
    expect("udp length 10", 1, &f, CG_EMALFORMED, &st);
    patch16(&f, 34 + 4, 9);
    expect("udp length 9", 1, &f, CG_OK, &st);

    memset(&f, 0, sizeof f); /* ethertype IPv4, version 6 */
    eth(&f, 0x0800);
    ip = ip6_begin(&f, 17);
    udp(&f, 1, 2, "x");
    ip6_end(&f, ip);
    expect("ethertype ipv4 carrying ipv6", 1, &f, CG_EMALFORMED, &st);
    patch16(&f, 12, 0x86dd);
    expect("ethertype ipv6 carrying ipv6", 1, &f, CG_OK, &st);

    fb r;
    memset(&r, 0, sizeof r);
    put(&r, f.b + 14, f.n - 14);
    expect("linktype ipv4(228) carrying ipv6", 228, &r, CG_EMALFORMED, &st);
    expect("linktype ipv6(229) carrying ipv6", 229, &r, CG_OK, &st);
    r.b[0] = 0x50;
    expect("raw version 5", 12, &r, CG_EMALFORMED, &st);

    memset(&f, 0, sizeof f); /* ethertype IPv6, version 4 */
    eth(&f, 0x86dd);
    ip = ip4_begin(&f, 17, 5, 0);
    udp(&f, 1, 2, "x");
    ip4_end(&f, ip);
    expect("ethertype ipv6 carrying ipv4", 1, &f, CG_EMALFORMED, &st);

    memset(&f, 0, sizeof f); /* TCP data offset 4 */
    eth(&f, 0x0800);
    ip = ip4_begin(&f, 6, 5, 0);
    tcp(&f, 1, 2, 0x02, "");
    ip4_end(&f, ip);
    f.b[34 + 12] = 0x40;
    expect("tcp data offset 4", 1, &f, CG_EMALFORMED, &st);
    f.b[34 + 12] = 0xf0; /* 60 bytes: past the IP length (32) */
    expect("tcp data offset 15", 1, &f, CG_EMALFORMED, &st);

    memset(&f, 0, sizeof f); /* IPv6 extension header past the payload length */
    eth(&f, 0x86dd);
    ip = ip6_begin(&f, 0);
    u8(&f, 17);
    u8(&f, 3);
    zeros(&f, 6); /* says 32 bytes, 8 follow */
    udp(&f, 1, 2, "x");
    ip6_end(&f, ip);
    expect("ipv6 hbh length past payload", 1, &f, CG_EMALFORMED, &st);

    memset(&f, 0, sizeof f); /* ARP */
    eth(&f, 0x0806);
    zeros(&f, 28);
    expect("arp", 1, &f, CG_EUNSUPPORTED, &st);
    memset(&f, 0, sizeof f); /* 802.3 length field + LLC */
    eth(&f, 46);
    zeros(&f, 46);
    expect("802.3 llc", 1, &f, CG_EUNSUPPORTED, &st);
    expect("802.11 link type", 105, &f, CG_EUNSUPPORTED, &st);
    expect("unknown link type, empty", 9999, &(fb){ .n = 0 }, CG_EUNSUPPORTED, &st);
    memset(&f, 0, sizeof f);
    u32(&f, 7); /* AF 7 on loopback */
    zeros(&f, 20);
    expect("null af 7", 0, &f, CG_EUNSUPPORTED, &st);

    cg_packet p;
    CHECK_EQ_U(cg_decode(&p, 1, NULL, 0, 0, 0, &st), CG_ETRUNCATED);
    CHECK_EQ_U(cg_decode(&p, 0, NULL, 0, 0, 0, &st), CG_ETRUNCATED);

    CHECK_EQ_U(st.packets, 23);
    CHECK_EQ_U(st.invalid, 12);
    CHECK_EQ_U(st.unsupported, 5);
    CHECK_EQ_U(st.truncated, 2);
}

static void check_strings_and_addrs(void)
{
    CHECK_STR(cg_strerror(CG_OK), "ok");
    CHECK_STR(cg_strerror(CG_ETRUNCATED), "truncated");
    CHECK_STR(cg_strerror(CG_EMALFORMED), "invalid");
    CHECK_CONTAINS(cg_strerror(CG_EUNSUPPORTED), "unsupported");

    uint8_t a[16], b[16];
    char s[46];
    CHECK(cg_addr_parse("10.1.2.3", a) == 0);
    CHECK(cg_addr_is_v4(a));
    CHECK_STR(cg_addr_format(a, s, sizeof s), "10.1.2.3");
    CHECK(cg_addr_parse("::ffff:10.1.2.3", b) == 0);
    CHECK(memcmp(a, b, 16) == 0);
    CHECK(cg_addr_parse("2001:DB8:0:0:0:0:0:1", a) == 0);
    CHECK(!cg_addr_is_v4(a));
    CHECK_STR(cg_addr_format(a, s, sizeof s), "2001:db8::1");
    CHECK(cg_addr_parse("::", a) == 0);
    CHECK_STR(cg_addr_format(a, s, sizeof s), "::");
    memset(b, 0x5a, 16);
    CHECK(cg_addr_parse("10.1.2", b) == -1);
    CHECK(cg_addr_parse("1.2.3.4.5", b) == -1);
    CHECK(cg_addr_parse("", b) == -1);
    CHECK(cg_addr_parse(NULL, b) == -1);
    CHECK(b[0] == 0x5a && b[15] == 0x5a); /* untouched on failure */
    CHECK(cg_addr_parse("255.255.255.255", a) == 0);
    CHECK_STR(cg_addr_format(a, s, sizeof s), "255.255.255.255");
    char small[4] = "zzz";
    cg_addr_format(a, small, sizeof small);
    CHECK_EQ_U(small[0], 0);
}

int main(void)
{
    static frame t[MAX_FRAMES];
    int n = build_frames(t);
    CHECK(n <= MAX_FRAMES);

    check_fields(t, n);

    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    uint64_t ok = 0, cuts = 0;
    for (int i = 0; i < n; i++) {
        check_cuts(&t[i], &st, &ok);
        cuts += t[i].f.n;
    }
    CHECK_EQ_U(st.packets, cuts);
    CHECK_EQ_U(st.packets, ok + st.truncated + st.invalid + st.unsupported);
    CHECK_EQ_U(st.invalid, 0);
    CHECK_EQ_U(st.unsupported, 0);
    CHECK(st.truncated > 0 && ok > 0);

    check_invalid();
    check_strings_and_addrs();
    return check_done("test_decode");
}
