/* decode.c — L2..L4 decoder: one captured frame in, one cg_packet view out.
 *
 * Specs followed, one dissector per layer below:
 *   Ethernet II / IEEE 802.3 (ethertype >= 0x0600), IEEE 802.1Q and 802.1ad tags
 *     (TPIDs 0x8100, 0x88a8 and the pre-standard 0x9100);
 *   Linux cooked capture v1 and v2 (tcpdump.org LINKTYPE_LINUX_SLL / _SLL2);
 *   BSD loopback (LINKTYPE_NULL: address family in the writer's byte order,
 *     LINKTYPE_LOOP: network order — both orders are accepted for both);
 *   raw IP (LINKTYPE_RAW, _IPV4, _IPV6);
 *   IPv4 (RFC 791), IPv6 and its extension headers (RFC 8200 §4, AH RFC 4302),
 *   TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792), ICMPv6 (RFC 4443), and the
 *   SCTP common header (RFC 9260) for its ports.
 *
 * Invariants:
 *  1. Every wire read goes through a region returned by cg_span_at (extract.h);
 *     nothing outside [frame, frame+caplen) is ever read.
 *  2. Two limits bound what follows an IP header: what was captured, and what the
 *     IP length field claims. A header that runs past the claim is INVALID (the
 *     packet contradicts itself); one that only runs past the capture is
 *     TRUNCATED. Bytes after the claimed length (Ethernet padding) are ignored.
 *  3. Each offered frame adds 1 to packets and to exactly one of: nothing (OK),
 *     truncated, invalid, unsupported. Protocol counters count headers that were
 *     decoded whole.
 *  4. No allocation, no global state; the stats belong to the calling worker.
 */
#include "sensor/decode.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#include "sensor/extract.h"

/* Link types by their LINKTYPE_ numbers where libpcap's DLT_ name may differ
 * by platform (see pcap/dlt.h). */
#define LT_RAW_101 101
#define LT_RAW_12 12
#define LT_RAW_14 14
#define LT_IPV4 228
#define LT_IPV6 229

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_8021Q 0x8100
#define ETH_8021AD 0x88a8
#define ETH_QINQ_OLD 0x9100

#define IPP_HOPOPTS 0
#define IPP_ICMP 1
#define IPP_TCP 6
#define IPP_UDP 17
#define IPP_ROUTING 43
#define IPP_FRAGMENT 44
#define IPP_ESP 50
#define IPP_AH 51
#define IPP_ICMPV6 58
#define IPP_NONE 59
#define IPP_DSTOPTS 60
#define IPP_MOBILITY 135
#define IPP_SCTP 132
#define IPP_HIP 139
#define IPP_SHIM6 140

/* The payload of an IP packet: what was captured of it (cap, never longer than
 * the claim) and how long the IP header says it is (claimed). */
typedef struct ip_body {
    cg_span cap;
    uint32_t claimed;
} ip_body;

/* n bytes at off inside an IP body, per invariant 2. */
static int body_need(const ip_body *b, uint32_t off, uint32_t n, const uint8_t **out)
{
    if (off > b->claimed || n > b->claimed - off)
        return CG_EMALFORMED;
    *out = cg_span_at(&b->cap, off, n);
    return *out ? CG_OK : CG_ETRUNCATED;
}

static ip_body body_make(cg_span after_header, uint32_t claimed)
{
    ip_body b = { cg_span_clip(after_header, claimed), claimed };
    return b;
}

static void set_v4mapped(uint8_t dst[16], const uint8_t *v4)
{
    memset(dst, 0, 10);
    dst[10] = 0xff;
    dst[11] = 0xff;
    memcpy(dst + 12, v4, 4);
}

/* ---- L4 ---------------------------------------------------------------- */

/*  TCP, RFC 9293 §3.1:
 *   0      2      4          8          12   13    14     16     18     20
 *   +------+------+----------+----------+----+-----+------+------+------+
 *   |sport |dport | sequence |   ack    |off |flags|window| csum | urg  | options..
 *   +------+------+----------+----------+----+-----+------+------+------+
 */
static int decode_tcp(cg_packet *p, cg_decode_stats *st, const ip_body *b)
{
    const uint8_t *h;
    int rc = body_need(b, 0, 20, &h);
    if (rc)
        return rc;
    uint32_t hl = (uint32_t)(h[12] >> 4) * 4;
    if (hl < 20)
        return CG_EMALFORMED;
    p->sport = cg_be16(h);
    p->dport = cg_be16(h + 2);
    p->flags |= CG_PKT_HAS_PORTS;
    p->tcp_seq = cg_be32(h + 4);
    p->tcp_ack = cg_be32(h + 8);
    p->tcp_flags = h[13];
    p->tcp_win = cg_be16(h + 14);
    if ((rc = body_need(b, 0, hl, &h)))
        return rc;
    cg_span pl = cg_span_from(&b->cap, hl);
    p->payload = pl.p;
    p->payload_len = pl.len;
    st->tcp++;
    return CG_OK;
}

/*  UDP, RFC 768: sport(2) dport(2) length(2) checksum(2). The length covers the
 *  header; outside a fragment it must fit in the IP payload. */
static int decode_udp(cg_packet *p, cg_decode_stats *st, const ip_body *b)
{
    const uint8_t *h;
    int rc = body_need(b, 0, 8, &h);
    if (rc)
        return rc;
    p->sport = cg_be16(h);
    p->dport = cg_be16(h + 2);
    p->flags |= CG_PKT_HAS_PORTS;
    uint32_t ulen = cg_be16(h + 4);
    cg_span pl = cg_span_from(&b->cap, 8);
    if (!(p->flags & (CG_PKT_IPV4_FRAG | CG_PKT_IPV6_FRAG))) {
        /* A fragment's UDP length covers the reassembled datagram, not this. */
        if (ulen < 8 || ulen > b->claimed)
            return CG_EMALFORMED;
        pl = cg_span_clip(pl, ulen - 8);
    }
    p->payload = pl.p;
    p->payload_len = pl.len;
    st->udp++;
    return CG_OK;
}

/*  ICMP (RFC 792) and ICMPv6 (RFC 4443): type(1) code(1) checksum(2) and four
 *  bytes whose meaning depends on the type; the message body follows. */
static int decode_icmp(cg_packet *p, const ip_body *b)
{
    const uint8_t *h;
    int rc = body_need(b, 0, 8, &h);
    if (rc)
        return rc;
    p->icmp_type = h[0];
    p->icmp_code = h[1];
    cg_span pl = cg_span_from(&b->cap, 8);
    p->payload = pl.p;
    p->payload_len = pl.len;
    return CG_OK;
}

/*  SCTP common header, RFC 9260 §3.1: sport(2) dport(2) vtag(4) checksum(4). */
static int decode_sctp(cg_packet *p, const ip_body *b)
{
    const uint8_t *h;
    int rc = body_need(b, 0, 12, &h);
    if (rc)
        return rc;
    p->sport = cg_be16(h);
    p->dport = cg_be16(h + 2);
    p->flags |= CG_PKT_HAS_PORTS;
    cg_span pl = cg_span_from(&b->cap, 12);
    p->payload = pl.p;
    p->payload_len = pl.len;
    return CG_OK;
}

/* Decodes the L4 header p->proto at the start of b. A later fragment has no L4
 * header: its data is the payload. */
static int decode_l4(cg_packet *p, cg_decode_stats *st, const ip_body *b)
{
    if (p->flags & CG_PKT_FRAG_LATER) {
        p->payload = b->cap.p;
        p->payload_len = b->cap.len;
        return CG_OK;
    }
    p->l4 = b->cap.p;
    p->l4_len = b->cap.len;
    int rc;
    switch (p->proto) {
    case IPP_TCP: return decode_tcp(p, st, b);
    case IPP_UDP: return decode_udp(p, st, b);
    case IPP_ICMP:
        if ((rc = decode_icmp(p, b)) == CG_OK)
            st->icmp++;
        return rc;
    case IPP_ICMPV6:
        if ((rc = decode_icmp(p, b)) == CG_OK)
            st->icmpv6++;
        return rc;
    case IPP_SCTP:
        if ((rc = decode_sctp(p, b)) == CG_OK)
            st->other_l4++;
        return rc;
    default:
        p->payload = b->cap.p;
        p->payload_len = b->cap.len;
        st->other_l4++;
        return CG_OK;
    }
}

/* ---- L3 ---------------------------------------------------------------- */

/*  IPv4, RFC 791 §3.1:
 *   0       1      2        4       6              8     9      10     12    16    20
 *   +-------+------+--------+-------+--------------+-----+------+------+-----+-----+
 *   |ver|ihl| tos  | totlen |  id   |flags|fragoff | ttl |proto | csum | src | dst | options..
 *   +-------+------+--------+-------+--------------+-----+------+------+-----+-----+
 */
static int decode_ipv4(cg_packet *p, cg_decode_stats *st, cg_span s)
{
    const uint8_t *h = cg_span_at(&s, 0, 20);
    if (!h)
        return CG_ETRUNCATED;
    if ((h[0] >> 4) != 4)
        return CG_EMALFORMED;
    uint32_t hl = (uint32_t)(h[0] & 0x0f) * 4;
    uint32_t tot = cg_be16(h + 2);
    if (hl < 20 || tot < hl)
        return CG_EMALFORMED;
    p->ipver = 4;
    p->ttl = h[8];
    p->proto = h[9];
    set_v4mapped(p->src, h + 12);
    set_v4mapped(p->dst, h + 16);
    if (!cg_span_at(&s, 0, hl))
        return CG_ETRUNCATED; /* options cut off */
    st->ipv4++;

    p->l3 = s.p;
    p->l3_len = s.len < tot ? s.len : tot;
    if (s.len < tot)
        p->flags |= CG_PKT_L4_TRUNCATED;

    uint16_t frag = cg_be16(h + 6);
    if (frag & 0x3fff) { /* MF, or a fragment offset */
        p->flags |= CG_PKT_IPV4_FRAG;
        st->fragments++;
        if (frag & 0x1fff)
            p->flags |= CG_PKT_FRAG_LATER;
    }
    ip_body b = body_make(cg_span_from(&s, hl), tot - hl);
    return decode_l4(p, st, &b);
}

/*  IPv6, RFC 8200 §3:
 *   0             4         6      7       8      24     40
 *   +-------------+---------+------+-------+------+------+
 *   |ver|tc|flow  | paylen  | next | hlim  | src  | dst  | extension headers..
 *   +-------------+---------+------+-------+------+------+
 *  Extension headers (§4) are walked until an upper-layer header. Hop-by-hop,
 *  routing, destination options, mobility, HIP and shim6 share the format
 *  next(1) len(1) with length (len+1)*8; the fragment header is 8 bytes; AH
 *  (RFC 4302) is (len+2)*4. ESP and "no next header" end the walk.
 */
static int decode_ipv6(cg_packet *p, cg_decode_stats *st, cg_span s)
{
    const uint8_t *h = cg_span_at(&s, 0, 40);
    if (!h)
        return CG_ETRUNCATED;
    if ((h[0] >> 4) != 6)
        return CG_EMALFORMED;
    uint32_t plen = cg_be16(h + 4);
    uint8_t nh = h[6];
    p->ipver = 6;
    p->ttl = h[7];
    memcpy(p->src, h + 8, 16);
    memcpy(p->dst, h + 24, 16);
    st->ipv6++;

    p->l3 = s.p;
    p->l3_len = s.len < 40 + plen ? s.len : 40 + plen;
    if (s.len < 40 + plen)
        p->flags |= CG_PKT_L4_TRUNCATED;

    ip_body b = body_make(cg_span_from(&s, 40), plen);
    uint32_t off = 0;
    int rc;
    for (;;) {
        const uint8_t *e;
        uint32_t len;
        switch (nh) {
        case IPP_HOPOPTS:
        case IPP_ROUTING:
        case IPP_DSTOPTS:
        case IPP_MOBILITY:
        case IPP_HIP:
        case IPP_SHIM6:
            if ((rc = body_need(&b, off, 2, &e)))
                goto fail;
            len = ((uint32_t)e[1] + 1) * 8;
            break;
        case IPP_AH:
            if ((rc = body_need(&b, off, 2, &e)))
                goto fail;
            len = ((uint32_t)e[1] + 2) * 4;
            break;
        case IPP_FRAGMENT:
            /* next(1) reserved(1) offset<<3|res|M (2) identification(4) */
            if ((rc = body_need(&b, off, 8, &e)))
                goto fail;
            if (!(p->flags & CG_PKT_IPV6_FRAG))
                st->fragments++;
            p->flags |= CG_PKT_IPV6_FRAG;
            if (cg_be16(e + 2) & 0xfff8)
                p->flags |= CG_PKT_FRAG_LATER;
            len = 8;
            break;
        default: /* an upper-layer header, ESP or no next header */ goto upper;
        }
        if ((rc = body_need(&b, off, len, &e)))
            goto fail;
        nh = e[0];
        off += len;
        if (p->flags & CG_PKT_FRAG_LATER)
            goto upper; /* the rest belongs to the reassembled packet */
    }
upper:
    p->proto = nh;
    {
        ip_body ub = { cg_span_from(&b.cap, off), b.claimed - off };
        return decode_l4(p, st, &ub);
    }
fail:
    return rc;
}

/* The IP packet at s; version is the one the link layer announced (4 or 6), or
 * 0 when it is to be read from the packet (raw IP). */
static int decode_ip(cg_packet *p, cg_decode_stats *st, cg_span s, int version)
{
    const uint8_t *v = cg_span_at(&s, 0, 1);
    if (!v)
        return CG_ETRUNCATED;
    int actual = v[0] >> 4;
    if (version != 0 && actual != version)
        return CG_EMALFORMED;
    if (actual == 4)
        return decode_ipv4(p, st, s);
    if (actual == 6)
        return decode_ipv6(p, st, s);
    return CG_EMALFORMED;
}

/* ---- L2 ---------------------------------------------------------------- */

static int is_vlan_tpid(uint16_t t)
{
    return t == ETH_8021Q || t == ETH_8021AD || t == ETH_QINQ_OLD;
}

/* The frame from off on carries ethertype type: walk VLAN tags, then IP.
 *  802.1Q tag, IEEE 802.1Q §9.6: TCI(2) = PCP(3) DEI(1) VID(12), then the next
 *  ethertype(2). Tags past CG_MAX_VLAN are walked but not recorded. */
static int decode_ethertype(cg_packet *p, cg_decode_stats *st, cg_span s, uint32_t off,
                            uint16_t type)
{
    if (is_vlan_tpid(type))
        st->vlan++;
    while (is_vlan_tpid(type)) {
        const uint8_t *t = cg_span_at(&s, off, 4);
        if (!t)
            return CG_ETRUNCATED;
        if (p->vlan_count < CG_MAX_VLAN)
            p->vlan[p->vlan_count++] = cg_be16(t) & 0x0fff;
        type = cg_be16(t + 2);
        off += 4;
    }
    switch (type) {
    case ETH_IPV4: return decode_ip(p, st, cg_span_from(&s, off), 4);
    case ETH_IPV6: return decode_ip(p, st, cg_span_from(&s, off), 6);
    default: /* ARP, LLC (an 802.3 length), ... */ return CG_EUNSUPPORTED;
    }
}

/*  Ethernet II: dst(6) src(6) ethertype(2). */
static int decode_ethernet(cg_packet *p, cg_decode_stats *st, cg_span s)
{
    const uint8_t *h = cg_span_at(&s, 0, 14);
    if (!h)
        return CG_ETRUNCATED;
    return decode_ethertype(p, st, s, 14, cg_be16(h + 12));
}

/*  Linux cooked v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2). */
static int decode_sll(cg_packet *p, cg_decode_stats *st, cg_span s)
{
    const uint8_t *h = cg_span_at(&s, 0, 16);
    if (!h)
        return CG_ETRUNCATED;
    return decode_ethertype(p, st, s, 16, cg_be16(h + 14));
}

/*  Linux cooked v2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1)
 *  halen(1) addr(8). */
static int decode_sll2(cg_packet *p, cg_decode_stats *st, cg_span s)
{
    const uint8_t *h = cg_span_at(&s, 0, 20);
    if (!h)
        return CG_ETRUNCATED;
    return decode_ethertype(p, st, s, 20, cg_be16(h));
}

/*  BSD loopback: a 4-byte address family. The family values are small, so the
 *  byte order that gives a value below 65536 is the one it was written in.
 *  AF_INET6 differs by system: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS),
 *  10 (Linux), 23 (Windows). */
static int decode_null(cg_packet *p, cg_decode_stats *st, cg_span s)
{
    const uint8_t *h = cg_span_at(&s, 0, 4);
    if (!h)
        return CG_ETRUNCATED;
    uint32_t af = cg_le32(h);
    if (af > 0xffff)
        af = cg_be32(h);
    switch (af) {
    case 2: return decode_ip(p, st, cg_span_from(&s, 4), 4);
    case 10:
    case 23:
    case 24:
    case 28:
    case 30: return decode_ip(p, st, cg_span_from(&s, 4), 6);
    default: return CG_EUNSUPPORTED;
    }
}

static int count_result(cg_decode_stats *st, int rc)
{
    switch (rc) {
    case CG_ETRUNCATED: st->truncated++; break;
    case CG_EMALFORMED: st->invalid++; break;
    case CG_EUNSUPPORTED: st->unsupported++; break;
    default: break;
    }
    return rc;
}

int cg_decode(cg_packet *p, int dlt, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
              uint64_t ts_us, cg_decode_stats *st)
{
    memset(p, 0, sizeof *p);
    p->ts_us = ts_us;
    p->frame = frame;
    p->caplen = frame ? caplen : 0;
    p->wirelen = wirelen;
    p->dlt = dlt;
    st->packets++;
    st->bytes += wirelen;

    cg_span s = cg_span_make(frame, caplen);
    int rc;
    /* DLT_LOOP first: on OpenBSD it is 12, which is raw IP elsewhere. */
    if (dlt == DLT_NULL || dlt == DLT_LOOP) {
        st->null_loop++;
        rc = decode_null(p, st, s);
    } else if (dlt == DLT_EN10MB) {
        st->ethernet++;
        rc = decode_ethernet(p, st, s);
    } else if (dlt == DLT_LINUX_SLL) {
        st->sll++;
        rc = decode_sll(p, st, s);
    } else if (dlt == DLT_LINUX_SLL2) {
        st->sll++;
        rc = decode_sll2(p, st, s);
    } else if (dlt == DLT_RAW || dlt == LT_RAW_12 || dlt == LT_RAW_14 || dlt == LT_RAW_101) {
        st->raw++;
        rc = decode_ip(p, st, s, 0);
    } else if (dlt == LT_IPV4 || dlt == LT_IPV6) {
        st->raw++;
        rc = decode_ip(p, st, s, dlt == LT_IPV4 ? 4 : 6);
    } else {
        rc = CG_EUNSUPPORTED;
    }
    return count_result(st, rc);
}

/* ---- addresses --------------------------------------------------------- */

int cg_addr_is_v4(const uint8_t addr[16])
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(addr, prefix, sizeof prefix) == 0;
}

char *cg_addr_format(const uint8_t addr[16], char *out, size_t outlen)
{
    if (outlen == 0)
        return out;
    out[0] = '\0';
    socklen_t n = outlen > INET6_ADDRSTRLEN ? INET6_ADDRSTRLEN : (socklen_t)outlen;
    const char *r = cg_addr_is_v4(addr) ? inet_ntop(AF_INET, addr + 12, out, n)
                                        : inet_ntop(AF_INET6, addr, out, n);
    if (!r)
        out[0] = '\0';
    return out;
}

int cg_addr_parse(const char *s, uint8_t out[16])
{
    uint8_t a[16];
    if (!s)
        return -1;
    if (inet_pton(AF_INET, s, a + 12) == 1) {
        set_v4mapped(out, a + 12);
        return 0;
    }
    if (inet_pton(AF_INET6, s, a) == 1) {
        memcpy(out, a, 16);
        return 0;
    }
    return -1;
}
