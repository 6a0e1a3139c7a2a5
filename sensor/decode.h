/* decode.h — L2..L4 packet decoder: a captured frame in, a packet view out.
 *
 * Link types (libpcap DLT values): EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2,
 * RAW / IPV4 / IPV6, NULL and LOOP (BSD loopback). Under Ethernet: 802.1Q and
 * 802.1ad/QinQ tags (up to CG_MAX_VLAN), IPv4 (with options; fragments are
 * flagged and counted), IPv6 with its extension headers, TCP, UDP, ICMP, ICMPv6.
 *
 * Contract:
 *  - cg_decode() never reads outside [data, data+caplen) and never allocates.
 *  - The packet is a view: its pointers point into the caller's frame and
 *    live as long as that frame (for a capture: until the next cg_capture_next).
 *  - Addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that
 *    one ordering and one CIDR range scan covers both families.
 *  - Returns CG_OK, or CG_ETRUNCATED (a header runs past caplen) or
 *    CG_EMALFORMED (a field is impossible: bad version, header length too
 *    small, ...) or CG_EUNSUPPORTED (link type or ethertype not handled).
 *    On a non-OK result the fields decoded so far stay set; the stats count it.
 *    A header that runs past the IP length field is INVALID; one that only runs
 *    past caplen is TRUNCATED. A frame cut inside the L4 payload is OK, with
 *    CG_PKT_L4_TRUNCATED set. Bytes after the IP length (Ethernet padding) are
 *    not part of l3, l4 or the payload.
 *  - A later fragment (CG_PKT_FRAG_LATER) has l4 NULL, no ports, and its
 *    fragment data as the payload; proto is the protocol it belongs to.
 *  - Counters: every call adds 1 to packets and, unless OK, 1 to exactly one of
 *    truncated, invalid, unsupported; link counters count frames offered with
 *    that link type, protocol counters count headers decoded whole.
 *  - Thread: a cg_decode_stats belongs to one worker.
 */
#ifndef CG_DECODE_H
#define CG_DECODE_H

#include "sensor/error.h"
#include <stddef.h>
#include <stdint.h>

#define CG_MAX_VLAN 2

/* Results of cg_decode (error.h's codes): CG_OK, CG_ETRUNCATED,
 * CG_EMALFORMED, CG_EUNSUPPORTED. */

/* cg_packet.flags */
#define CG_PKT_IPV4_FRAG 0x01    /* an IPv4 fragment (MF set or offset != 0) */
#define CG_PKT_IPV6_FRAG 0x02    /* an IPv6 Fragment extension header was present */
#define CG_PKT_FRAG_LATER 0x04   /* not the first fragment: no L4 header here */
#define CG_PKT_HAS_PORTS 0x08    /* sport/dport are TCP, UDP or SCTP ports */
#define CG_PKT_L4_TRUNCATED 0x10 /* the L4 payload is shorter than the IP length says */

/* TCP flag bits, as on the wire */
#define CG_TH_FIN 0x01
#define CG_TH_SYN 0x02
#define CG_TH_RST 0x04
#define CG_TH_PSH 0x08
#define CG_TH_ACK 0x10
#define CG_TH_URG 0x20
#define CG_TH_ECE 0x40
#define CG_TH_CWR 0x80

typedef struct cg_packet {
    uint64_t ts_us;       /* capture time, microseconds since the epoch */
    const uint8_t *frame; /* the whole captured frame */
    uint32_t caplen, wirelen;
    int dlt; /* libpcap link type of the frame */

    uint8_t ipver;              /* 4, 6, or 0 when the frame carries no IP */
    uint8_t proto;              /* IP protocol of the L4 header (after v6 ext headers) */
    uint8_t ttl;                /* IPv4 TTL or IPv6 hop limit */
    uint8_t flags;              /* CG_PKT_* */
    uint8_t vlan_count;         /* tags recorded, outermost first; deeper ones are skipped */
    uint16_t vlan[CG_MAX_VLAN]; /* VLAN ids (12 bits) */

    uint8_t src[16], dst[16];
    uint16_t sport, dport; /* host order; 0 when the protocol has no ports */

    uint8_t tcp_flags; /* CG_TH_* */
    uint32_t tcp_seq, tcp_ack;
    uint16_t tcp_win;
    uint8_t icmp_type, icmp_code;

    const uint8_t *l3;
    uint32_t l3_len; /* IP header onwards (as captured, within the IP length) */
    const uint8_t *l4;
    uint32_t l4_len; /* L4 header onwards (as captured, within the IP length) */
    const uint8_t *payload;
    uint32_t payload_len; /* L4 payload, clipped to caplen and IP length */
} cg_packet;

typedef struct cg_decode_stats {
    uint64_t packets, bytes;                /* every frame offered, wire bytes */
    uint64_t ethernet, sll, raw, null_loop; /* sll counts SLL and SLL2 */
    uint64_t vlan;                          /* frames with at least one tag */
    uint64_t ipv4, ipv6, tcp, udp, icmp, icmpv6, other_l4;
    uint64_t fragments; /* IPv4 fragments, IPv6 Fragment headers */
    uint64_t truncated, invalid, unsupported;
} cg_decode_stats;

int cg_decode(cg_packet *p, int dlt, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
              uint64_t ts_us, cg_decode_stats *st);

/* Formats a 16-byte address: dotted quad for IPv4-mapped, RFC 5952 otherwise.
 * out must hold 46 bytes. Returns out. */
char *cg_addr_format(const uint8_t addr[16], char *out, size_t outlen);

/* Parses an IPv4 or IPv6 text address into 16 bytes (IPv4 mapped). 0 or -1. */
int cg_addr_parse(const char *s, uint8_t out[16]);

/* 1 when the address is IPv4-mapped. */
int cg_addr_is_v4(const uint8_t addr[16]);

#endif
