/* flow.h — flow identity and a bounded per-worker flow table.
 *
 *  - cg_flow_hash: a direction-independent 64-bit hash of the 5-tuple (both
 *    directions of a connection give the same value); used for worker sharding
 *    and as the EVE flow_id (masked to 51 bits so JSON readers keep it exact).
 *  - cg_community_id: the Community ID v1 string ("1:" + base64(SHA1(...))) of
 *    the published spec that Suricata, Zeek and Arkime share, for TCP, UDP, SCTP,
 *    ICMP and ICMPv6 (with the spec's type/code port mapping) and other IP protos.
 *  - cg_flowtable: a table bounded by a memory cap, all of it allocated at
 *    create (no allocation per packet). Each slot holds a cg_flow and a caller
 *    area of a fixed size (the stream reassembly state, detection state), so the
 *    cap bounds flows and their per-flow state together. Flows leave the table
 *    through one door, an eviction callback, so the caller closes what it keeps
 *    per flow (reassembly, Hyperscan streams) where the flow is evicted.
 *
 * Direction. A flow's client is its initiator: the sender of a SYN without
 * ACK; when the first packet seen is a SYN+ACK, its receiver (the SYN's sender,
 * as Suricata reverses a flow picked up on a SYN+ACK); else the sender of the
 * first packet. to_server is 1 for client->server packets.
 *
 * Established, as Suricata's flow keyword means it: TCP after the three-way
 * handshake (SYN, SYN+ACK, ACK), and from then on, through FIN and RST (its
 * stream engine sets the flag while the session state is ESTABLISHED or any
 * later one); UDP, ICMP and other protocols once packets have gone both ways.
 * Where canhgac differs from Suricata 7's code (its docs say only "after a
 * three way handshake"):
 *  - Suricata flags a packet with the state found before the packet is
 *    processed, so the ACK that completes the handshake, and the first packet
 *    of a flow picked up midstream, are not "established" there; here the state
 *    includes the packet, so they are.
 *  - A TCP flow reset before its handshake completed is never established
 *    here; Suricata's CLOSED state sorts after ESTABLISHED, so there it is.
 *
 * Thread: the sensor shards packets over workers by cg_flow_hash, which is the
 * same for both directions, so a flow is seen by one worker only; each worker
 * owns one table, and everything here (callbacks included) runs on that
 * worker's thread. No locks.
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
    CG_TCP_NONE = 0, /* not TCP, or nothing seen yet */
    CG_TCP_SYN_SENT,
    CG_TCP_SYN_RECV,
    CG_TCP_ESTABLISHED,
    CG_TCP_CLOSING, /* FIN seen */
    CG_TCP_CLOSED,  /* RST, or FIN both ways */
};

typedef struct cg_flow {
    uint64_t id;              /* cg_flow_id of its packets */
    uint8_t cli[16], srv[16]; /* client = initiator */
    uint16_t cport, sport;
    uint8_t proto;
    uint8_t tcp_state; /* enum cg_tcp_state */
    uint8_t seen_both; /* packets in both directions */
    uint8_t midstream; /* TCP picked up without a SYN */
    uint64_t first_us, last_us;
    uint64_t pkts_toserver, pkts_toclient;
    uint64_t bytes_toserver, bytes_toclient; /* wire lengths of the frames */
    /* private to flow.c */
    uint32_t next, lru_prev, lru_next, bucket;
    uint8_t tcp_bits, lru;
} cg_flow;

/* The caller's area of a flow: cg_flow_config.user_size bytes, 16-byte
 * aligned, zeroed when the flow is created, kept until it is evicted. */
#define CG_FLOW_USER_OFFSET ((sizeof(cg_flow) + 15) & ~(size_t)15)
static inline void *cg_flow_user(cg_flow *f)
{
    return (unsigned char *)f + CG_FLOW_USER_OFFSET;
}

/* Why a flow left the table (the reason given to the eviction callback). */
enum cg_flow_end {
    CG_FLOW_END_TIMEOUT = 1, /* idle longer than its timeout */
    CG_FLOW_END_PRESSURE,    /* the table was full: room made for a new flow */
    CG_FLOW_END_REUSE,       /* a closed TCP flow whose tuple a new SYN opens again */
    CG_FLOW_END_FLUSH,       /* cg_flowtable_evict_all (end of input, shutdown) */
};

typedef struct cg_flowtable cg_flowtable;

/* Called once for every flow that leaves the table, before its slot is reused:
 * f and its user area are intact and are reused as soon as the callback
 * returns. It runs inside cg_flowtable_update / _expire / _evict_all, on the
 * owning worker, and must not call back into the same table. */
typedef void (*cg_flow_evict_fn)(void *ctx, cg_flow *f, int reason);

/* Counters. Always:
 *   active == created - evicted_timeout - evicted_pressure - evicted_reuse
 *             - evicted_flush,   and   active <= capacity.
 * A refused flow (refused_cap) is never created. capacity, slot_bytes and
 * mem_bytes describe the table as built. */
typedef struct cg_flow_stats {
    uint64_t active, created;
    uint64_t evicted_timeout, evicted_pressure, evicted_reuse, evicted_flush;
    uint64_t refused_cap; /* new flows not created: the table full of recent flows */
    uint32_t capacity;    /* most flows held at once */
    uint32_t slot_bytes;  /* bytes per flow: cg_flow, user area, its share of buckets */
    uint64_t mem_bytes;   /* all memory of the table, <= memcap */
} cg_flow_stats;

/* Idle timeouts in seconds; a 0 field keeps its default. */
typedef struct cg_flow_timeouts {
    uint32_t tcp_established; /* default 3600 (ESTABLISHED, or CLOSING after it) */
    uint32_t tcp_other;       /* default 60 (handshake, CLOSING without establishment) */
    uint32_t tcp_closed;      /* default 60 (CLOSED: RST, or FIN both ways) */
    uint32_t udp;             /* default 120 */
    uint32_t other;           /* default 60 (ICMP, ICMPv6, other protocols) */
} cg_flow_timeouts;

#define CG_FLOW_DEFAULT_MEMCAP (256ULL << 20)
#define CG_FLOW_NO_MIN_IDLE UINT32_MAX

/* A 0 field takes its default. */
typedef struct cg_flow_config {
    uint64_t memcap;    /* bytes for the whole table; default 256 MiB */
    uint32_t max_flows; /* at most this many flows too (0: as many as memcap holds) */
    uint32_t user_size; /* bytes of caller state per flow (see cg_flow_user) */
    /* Under pressure, never evict a flow seen within the last ... ms; refuse the
     * new flow instead (see cg_flowtable_update). CG_FLOW_NO_MIN_IDLE: no minimum. */
    uint32_t min_idle_ms;     /* flows not established (handshakes, one-way); default 1000 */
    uint32_t min_idle_est_ms; /* established, open flows; default 30000 */
    cg_flow_timeouts timeouts;
    cg_flow_evict_fn on_evict; /* may be NULL */
    int no_reap;               /* 1: expired flows leave only through cg_flowtable_expire
                                * (or when the table is full), not as a new flow comes:
                                * several tables then age their flows at the same moments */
    void *evict_ctx;
} cg_flow_config;

/* Builds a table with cfg (NULL: all defaults). Its capacity is the most flows
 * whose slots (cg_flow + user area) and hash buckets fit in memcap, bounded by
 * max_flows; all of it is allocated here (but a slot's pages are written, and
 * so faulted in, only when a flow first takes it). Returns 0, or -1 (a cap too small for
 * one flow, user_size over 1 MiB) or CG_ENOMEM, with *out untouched. */
int cg_flowtable_create(cg_flowtable **out, const cg_flow_config *cfg);
/* Frees the table without calling the eviction callback (call
 * cg_flowtable_evict_all first to close what the flows hold). NULL is a no-op. */
void cg_flowtable_destroy(cg_flowtable *ft);

/* Replaces the idle timeouts (fields at 0 take the defaults). */
void cg_flowtable_set_timeouts(cg_flowtable *ft, const cg_flow_timeouts *t);

/* Finds or creates p's flow and updates its state with p. *to_server is set to
 * 1 when p goes client->server, 0 the other way. Returns NULL (and leaves
 * *to_server alone) for a packet without IP, and for a packet whose new flow
 * was refused at the cap.
 *
 * Time is the packets' own (ts_us), so a capture file ages flows as it was
 * recorded. A flow found idle past its timeout is evicted and p starts a new
 * one. A TCP SYN without ACK on a CLOSED flow's tuple ends that flow and starts
 * a new one (CG_FLOW_END_REUSE).
 *
 * Making room. Before a flow is created, up to two expired flows are
 * reclaimed (the least recently seen first). When no slot is free, a victim is
 * chosen:
 *  1. the least recently seen flow that is not established-and-open (a
 *     handshake, a one-way flow, a closed one), when it has been idle at least
 *     min_idle_ms;
 *  2. else the least recently seen established, open flow, when it has been
 *     idle at least min_idle_est_ms;
 *  3. else none: the new flow is refused (refused_cap) and the packet goes on
 *     without a flow. The next packet of that tuple tries again.
 * A victim past its timeout counts as evicted_timeout, else evicted_pressure.
 * So a flood of one-packet flows from random sources churns among itself, at
 * most capacity flows per min_idle_ms, and does not push out connections that
 * completed a handshake or had an answer (unless idle min_idle_est_ms).
 *
 * TCP, per flow (RST from any state leads to CLOSED):
 *
 *   (none) --SYN-->           SYN_SENT --SYN+ACK back--> SYN_RECV
 *   SYN_RECV --ACK from the client--> ESTABLISHED
 *   any open state --FIN--> CLOSING --FIN the other way--> CLOSED
 *
 * A TCP flow whose first packet is not a SYN without ACK is midstream: it
 * starts in SYN_RECV when that packet is a SYN+ACK (whose receiver is the
 * client), in CLOSING on a FIN, in CLOSED on a RST, and otherwise directly in
 * ESTABLISHED (the capture began after the handshake, as with Suricata's
 * stream.midstream). Packets without a TCP header (later fragments) do not move
 * the state.
 *
 * The returned flow (and its user area) stays valid until the next call of
 * cg_flowtable_update, _expire or _evict_all on the table. */
cg_flow *cg_flowtable_update(cg_flowtable *ft, const cg_packet *p, int *to_server);

/* Evicts up to max flows that are idle past their timeout at now_us, from the
 * least recently seen ends (for a live capture between packets). Returns the
 * number evicted. */
uint32_t cg_flowtable_expire(cg_flowtable *ft, uint64_t now_us, uint32_t max);

/* Calls fn for every flow in the table (in no given order); fn may change
 * the flow's user area, not the table. Returns the number of flows. */
uint32_t cg_flowtable_foreach(cg_flowtable *ft, void (*fn)(void *ctx, cg_flow *f), void *ctx);

/* Evicts every flow (CG_FLOW_END_FLUSH), least recently seen first. Returns
 * the number evicted. */
uint32_t cg_flowtable_evict_all(cg_flowtable *ft);

/* 1 when flow:established holds for the flow right now. */
int cg_flow_established(const cg_flow *f);

void cg_flowtable_stats(const cg_flowtable *ft, cg_flow_stats *out);

/* Checks the table's invariants (flow.c's 2 to 4): every slot in use is in
 * one hash chain and in the LRU list its state calls for (their order by
 * last seen is not checked: a capture's clock may step back), the free list
 * and the fresh slots account for the rest, the counts agree. 0 when they
 * hold, -1 when not. Walks every bucket and slot: for tests (CG_INVARIANTS
 * runs it every CG_INVARIANT_EVERY updates). */
int cg_flowtable_check(const cg_flowtable *ft);

#endif
