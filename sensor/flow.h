/* flow.h — flow identity and a bounded per-worker flow table.
 *
 *  - cg_flow_hash: a direction-independent 64-bit hash of the 5-tuple (both
 *    directions of a connection give the same value); used for worker sharding
 *    and as the EVE flow_id (masked to 51 bits so JSON readers keep it exact).
 *  - cg_community_id: the Community ID v1 string ("1:" + base64(SHA1(...))) of
 *    the published spec that Suricata, Zeek and Arkime share, for TCP, UDP, SCTP,
 *    ICMP and ICMPv6 (with the spec's type/code port mapping) and other IP protos.
 *  - cg_flowtable: a fixed-capacity table built at start-up (no allocation per
 *    packet). A flow's client is its initiator: the sender of a SYN without ACK,
 *    else the sender of the first packet seen. TCP state follows the handshake;
 *    a flow is "established" after SYN, SYN-ACK and ACK (TCP) or once packets have
 *    gone both ways (UDP/ICMP/other), as Suricata's flow keyword means it.
 *    When the table is full, the least recently seen flow is evicted; flows idle
 *    longer than their timeout are evicted first. Counters for all of it.
 *  - Thread: one table per worker; no locks.
 */
#ifndef CG_FLOW_H
#define CG_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/decode.h"

uint64_t cg_flow_hash(const cg_packet *p);
/* The EVE flow_id: cg_flow_hash masked to 51 bits, never 0. */
uint64_t cg_flow_id(const cg_packet *p);

/* Writes the Community ID v1 of p into out (at least 32 bytes). Returns 0, or -1
 * when p is not an IP packet. */
int cg_community_id(const cg_packet *p, uint16_t seed, char *out, size_t outlen);

enum cg_tcp_state {
    CG_TCP_NONE = 0,   /* not TCP, or nothing seen yet */
    CG_TCP_SYN_SENT,
    CG_TCP_SYN_RECV,
    CG_TCP_ESTABLISHED,
    CG_TCP_CLOSING,    /* FIN seen */
    CG_TCP_CLOSED,     /* RST, or FIN both ways */
};

typedef struct cg_flow {
    uint64_t id;                   /* cg_flow_id of its packets */
    uint8_t cli[16], srv[16];      /* client = initiator */
    uint16_t cport, sport;
    uint8_t proto;
    uint8_t tcp_state;             /* enum cg_tcp_state */
    uint8_t seen_both;             /* packets in both directions */
    uint8_t midstream;             /* TCP picked up without a SYN */
    uint64_t first_us, last_us;
    uint64_t pkts_toserver, pkts_toclient;
    uint64_t bytes_toserver, bytes_toclient;
    /* private to flow.c */
    uint32_t next, lru_prev, lru_next, bucket;
} cg_flow;

typedef struct cg_flowtable cg_flowtable;

typedef struct cg_flow_stats {
    uint64_t active, created, evicted_timeout, evicted_pressure;
} cg_flow_stats;

/* capacity: the most flows held at once. Timeouts in seconds (0 = defaults:
 * TCP established 3600, TCP other 60, UDP 120, ICMP/other 60). */
int cg_flowtable_create(cg_flowtable **out, uint32_t capacity);
void cg_flowtable_destroy(cg_flowtable *ft);

/* Finds or creates p's flow and updates its state with p. *to_server is set to
 * 1 when p goes client->server. Returns NULL only for packets without IP. */
cg_flow *cg_flowtable_update(cg_flowtable *ft, const cg_packet *p, int *to_server);

/* 1 when flow:established holds for the flow right now. */
int cg_flow_established(const cg_flow *f);

void cg_flowtable_stats(const cg_flowtable *ft, cg_flow_stats *out);

#endif
