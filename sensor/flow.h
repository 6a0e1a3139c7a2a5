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

/* Over (proto, src, dst, sport, dport) with the two endpoints in a fixed order;
 * deterministic across runs and hosts. */
uint64_t cg_flow_hash(const cg_packet *p);
/* The EVE flow_id: cg_flow_hash masked to 51 bits, never 0. */
uint64_t cg_flow_id(const cg_packet *p);

/* Writes the Community ID v1 of p into out (at least 32 bytes). Returns 0, or -1
 * when p is not an IP packet or out is too small (out is then untouched).
 * Ports (or ICMP type/code) enter the hash when p has its L4 header: a later
 * fragment hashes as a protocol without ports. */
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
    uint64_t bytes_toserver, bytes_toclient;  /* wire lengths of the frames */
    /* private to flow.c */
    uint32_t next, lru_prev, lru_next, bucket;
    uint8_t tcp_bits;
} cg_flow;

typedef struct cg_flowtable cg_flowtable;

/* Always: active == created - evicted_timeout - evicted_pressure - evicted_reuse. */
typedef struct cg_flow_stats {
    uint64_t active, created, evicted_timeout, evicted_pressure;
    uint64_t evicted_reuse;   /* a closed TCP flow ended by a new SYN on its tuple */
} cg_flow_stats;

/* Idle timeouts in seconds; a 0 field keeps its default. */
typedef struct cg_flow_timeouts {
    uint32_t tcp_established;  /* default 3600 (ESTABLISHED, or CLOSING after it) */
    uint32_t tcp_other;        /* default 60 (handshake, closing, closed) */
    uint32_t udp;              /* default 120 */
    uint32_t other;            /* default 60 (ICMP, ICMPv6, other protocols) */
} cg_flow_timeouts;

/* capacity: the most flows held at once (at least 1); all memory is allocated
 * here. Timeouts start at the defaults. Returns 0, or -1 (bad capacity, out of
 * memory) with *out untouched. */
int cg_flowtable_create(cg_flowtable **out, uint32_t capacity);
void cg_flowtable_destroy(cg_flowtable *ft);

/* Replaces the idle timeouts (fields at 0 take the defaults). */
void cg_flowtable_set_timeouts(cg_flowtable *ft, const cg_flow_timeouts *t);

/* Finds or creates p's flow and updates its state with p. *to_server is set to
 * 1 when p goes client->server. Returns NULL only for packets without IP.
 *
 * Time is the packets' own (ts_us), so a capture file ages flows as it was
 * recorded. A flow found idle past its timeout is evicted and p starts a new
 * one; before a flow is created, up to two expired flows are reclaimed from the
 * least recently seen end, and when no slot is free the least recently seen
 * flow is evicted (counted as a timeout when it had expired, else as pressure).
 * A TCP SYN without ACK on a CLOSED flow's tuple ends that flow and starts a new
 * one (evicted_reuse).
 *
 * TCP, per flow (RST from any state leads to CLOSED):
 *
 *   (none) --SYN-->           SYN_SENT --SYN+ACK back--> SYN_RECV
 *   SYN_RECV --ACK from the side that did not send the SYN+ACK--> ESTABLISHED
 *   any open state --FIN--> CLOSING --FIN the other way--> CLOSED
 *
 * A TCP flow whose first packet is not a SYN without ACK is midstream: it
 * starts in SYN_RECV when that packet is a SYN+ACK, in CLOSING on a FIN, in
 * CLOSED on a RST, and otherwise directly in ESTABLISHED (the capture began
 * after the handshake, as with Suricata's stream.midstream). Packets without a
 * TCP header (later fragments) do not move the state.
 *
 * The returned flow stays valid until the next update call on the table. */
cg_flow *cg_flowtable_update(cg_flowtable *ft, const cg_packet *p, int *to_server);

/* 1 when flow:established holds for the flow right now. */
int cg_flow_established(const cg_flow *f);

void cg_flowtable_stats(const cg_flowtable *ft, cg_flow_stats *out);

#endif
