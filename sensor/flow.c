/* flow.c — flow identity (hash, EVE flow_id, Community ID) and the bounded
 * per-worker flow table (see flow.h for the contract and the TCP states).
 *
 * Community ID follows the published specification, version 1
 * (github.com/corelight/community-id-spec): SHA-1 over
 *
 *   seed(2, network order) src(4|16) dst(4|16) proto(1) pad(1, zero)
 *   [sport(2) dport(2)]          -- TCP, UDP, SCTP, ICMP and ICMPv6 only
 *
 * with the endpoints ordered so that (src, sport) < (dst, dport), addresses
 * compared as bytes and ports as numbers; then base64 with the "1:" prefix.
 * ICMP and ICMPv6 put type and code in the port fields; a type that has a
 * counterpart (echo request/reply, ...) uses (type, counterpart type) and is
 * ordered like any flow, any other type uses (type, code) and is never
 * reordered (one-way).
 *
 * Table layout and invariants:
 *  1. All memory is allocated at create: the table, a slab of capacity slots
 *     of slot bytes (a cg_flow, then the caller's area at CG_FLOW_USER_OFFSET),
 *     and the hash buckets; their sum is at most the memory cap. The slab is
 *     allocated, not written: a slot's pages are touched when a flow first
 *     takes it, so a table is cheap to make and costs memory as flows fill it.
 *  2. A slot is either fresh (index >= fresh: never used, not written), on
 *     the free list (linked by next; slots that were in use), or in use: then
 *     it is in exactly one hash chain (linked by next, bucket = its chain) and
 *     in exactly one of the LRU lists (lru_prev/lru_next; lru = which one). A
 *     new flow takes a slot from the free list first, else the next fresh one;
 *     no slot is free when the free list is empty and fresh == capacity.
 *  3. The LRU lists sort flows by kind, so that within a list all flows have
 *     the same timeout and the same standing under pressure: TCP established
 *     and open, TCP handshake, TCP closed, UDP seen both ways, UDP one-way,
 *     other seen both ways, other one-way. Each runs from the most recently
 *     seen flow (head) to the least (tail); an update moves its flow to the
 *     head of the list its state now calls for. So each list's tail is the
 *     first of its list to expire, and the expired flows are exactly those
 *     found by walking the tails.
 *  4. active == number of slots in use == created - evicted_* <= capacity.
 *  5. A slot leaves use only through evict(), which calls the eviction
 *     callback with the flow intact before the slot can be reused.
 *  6. cg_flowtable_update allocates nothing.
 */
#include "sensor/flow.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/error.h"
#include "sensor/extract.h"
#include "sensor/invariant.h"

#define NIL UINT32_MAX
#define US_PER_S 1000000ULL
#define REAP_PER_CREATE 2
#define MAX_USER_SIZE (1u << 20)
#define MAX_CAPACITY (1u << 30)

#define IPP_ICMP 1
#define IPP_TCP 6
#define IPP_UDP 17
#define IPP_ICMPV6 58
#define IPP_SCTP 132

/* cg_flow.tcp_bits */
#define FIN_FROM_CLIENT 0x01
#define FIN_FROM_SERVER 0x02
#define WAS_ESTABLISHED 0x04

/* The LRU lists (invariant 3); the first NOPEN are the "open, established"
 * ones that pressure evicts last. */
enum {
    L_TCP_EST,
    L_UDP_BOTH,
    L_OTHER_BOTH,
    NOPEN,
    L_TCP_NEW = NOPEN,
    L_TCP_CLOSED,
    L_UDP_ONE,
    L_OTHER_ONE,
    NLISTS
};

struct cg_flowtable {
    unsigned char *slab;
    uint32_t capacity;
    uint32_t slot; /* bytes per slot */
    uint32_t *buckets;
    uint32_t bucket_mask;
    uint32_t free_head; /* the free list (invariant 2) */
    uint32_t fresh;     /* slots [fresh, capacity) never used yet */
    uint32_t lru_head[NLISTS], lru_tail[NLISTS];
    int no_reap;                                                        /* cfg.no_reap */
    uint64_t to_tcp_est, to_tcp_other, to_tcp_closed, to_udp, to_other; /* microseconds */
    uint64_t min_idle, min_idle_est;                                    /* microseconds */
    cg_flow_evict_fn on_evict;
    void *evict_ctx;
    cg_flow_stats st;
    uint32_t ops; /* updates, for CG_INVARIANT_SOMETIMES */
};

/* ---- identity ---------------------------------------------------------- */

/* splitmix64's finaliser: every input bit moves every output bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 m = (unsigned __int128)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

uint64_t cg_flow_hash(const cg_packet *p)
{
    uint64_t a0 = ld64(p->src), a1 = ld64(p->src + 8), b0 = ld64(p->dst), b1 = ld64(p->dst + 8);
    uint64_t pa = p->sport, pb = p->dport;
    /* one end first, the same for both directions (any total order does) */
    if (a1 > b1 || (a1 == b1 && (a0 > b0 || (a0 == b0 && pa > pb)))) {
        uint64_t t;
        t = a0;
        a0 = b0;
        b0 = t;
        t = a1;
        a1 = b1;
        b1 = t;
        t = pa;
        pa = pb;
        pb = t;
    }
    /* each end's two words multiplied into 128 bits, the halves folded
     * (every input bit reaches every output bit; the three products are
     * independent, so they run in parallel), then mixed */
    uint64_t h = fold_mul(a0 ^ 0x9e3779b97f4a7c15ULL, a1 ^ 0xc2b2ae3d27d4eb4fULL) ^
        fold_mul(b0 ^ 0x165667b19e3779f9ULL, b1 ^ 0xd6e8feb86659fd93ULL) ^
        fold_mul((pa << 32 | pb << 16 | p->proto) ^ 0x27d4eb2f165667c5ULL, 0x85ebca77c2b2ae63ULL);
    return mix64(h);
}

uint64_t cg_flow_id(const cg_packet *p)
{
    uint64_t id = cg_flow_hash(p) & ((1ULL << 51) - 1);
    return id ? id : 1;
}

/* The spec's ICMP/ICMPv6 counterpart types; -1 when the type is one-way. */
static int icmp_counterpart(uint8_t proto, uint8_t type)
{
    if (proto == IPP_ICMP) {
        switch (type) {
        case 8: return 0; /* echo -> echo reply */
        case 0: return 8;
        case 13: return 14; /* timestamp */
        case 14: return 13;
        case 15: return 16; /* information */
        case 16: return 15;
        case 10: return 9; /* router solicitation -> advertisement */
        case 9: return 10;
        case 17: return 18; /* address mask */
        case 18: return 17;
        default: return -1;
        }
    }
    switch (type) {
    case 128: return 129; /* echo request -> reply */
    case 129: return 128;
    case 133: return 134; /* router solicitation -> advertisement */
    case 134: return 133;
    case 135: return 136; /* neighbor solicitation -> advertisement */
    case 136: return 135;
    case 130: return 131; /* multicast listener query -> report */
    case 131: return 130;
    case 139: return 140; /* node information query -> response */
    case 140: return 139;
    case 144: return 145; /* home agent address discovery */
    case 145: return 144;
    default: return -1;
    }
}

int cg_community_id(const cg_packet *p, uint16_t seed, char *out, size_t outlen)
{
    /* "1:" + 28 base64 characters + NUL */
    if (!p || (p->ipver != 4 && p->ipver != 6) || !out || outlen < 31)
        return -1;
    uint32_t alen = p->ipver == 4 ? 4 : 16;
    const uint8_t *sa = p->ipver == 4 ? p->src + 12 : p->src;
    const uint8_t *da = p->ipver == 4 ? p->dst + 12 : p->dst;
    uint16_t sp = 0, dp = 0;
    int ports = 0, one_way = 0;
    int has_l4 = p->l4 != NULL && !(p->flags & CG_PKT_FRAG_LATER);

    switch (p->proto) {
    case IPP_TCP:
    case IPP_UDP:
    case IPP_SCTP:
        ports = (p->flags & CG_PKT_HAS_PORTS) != 0;
        sp = p->sport;
        dp = p->dport;
        break;
    case IPP_ICMP:
    case IPP_ICMPV6:
        if (has_l4) {
            int peer = icmp_counterpart(p->proto, p->icmp_type);
            ports = 1;
            sp = p->icmp_type;
            if (peer < 0) {
                dp = p->icmp_code;
                one_way = 1;
            } else {
                dp = (uint16_t)peer;
            }
        }
        break;
    default: break;
    }

    if (!one_way) {
        int c = memcmp(sa, da, alen);
        if (c > 0 || (c == 0 && sp > dp)) {
            const uint8_t *t = sa;
            sa = da;
            da = t;
            uint16_t u = sp;
            sp = dp;
            dp = u;
        }
    }

    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    cg_put_be16(buf, seed);
    n = 2;
    memcpy(buf + n, sa, alen);
    n += alen;
    memcpy(buf + n, da, alen);
    n += alen;
    buf[n++] = p->proto;
    buf[n++] = 0;
    if (ports) {
        cg_put_be16(buf + n, sp);
        cg_put_be16(buf + n + 2, dp);
        n += 4;
    }
    unsigned char md[SHA_DIGEST_LENGTH];
    unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    SHA1(buf, n, md);
    EVP_EncodeBlock(b64, md, SHA_DIGEST_LENGTH);
    out[0] = '1';
    out[1] = ':';
    memcpy(out + 2, b64, sizeof b64); /* 28 characters and the NUL */
    return 0;
}

/* ---- table ------------------------------------------------------------- */

static void set_timeouts(cg_flowtable *ft, const cg_flow_timeouts *t)
{
    ft->to_tcp_est = (t && t->tcp_established ? t->tcp_established : 3600) * US_PER_S;
    ft->to_tcp_other = (t && t->tcp_other ? t->tcp_other : 60) * US_PER_S;
    ft->to_tcp_closed = (t && t->tcp_closed ? t->tcp_closed : 60) * US_PER_S;
    ft->to_udp = (t && t->udp ? t->udp : 120) * US_PER_S;
    ft->to_other = (t && t->other ? t->other : 60) * US_PER_S;
}

static uint64_t min_idle_us(uint32_t ms, uint32_t dflt)
{
    if (ms == CG_FLOW_NO_MIN_IDLE)
        return 0;
    return (uint64_t)(ms ? ms : dflt) * 1000;
}

static cg_flow *slot_at(const cg_flowtable *ft, uint32_t i)
{
    return (cg_flow *)(ft->slab + (size_t)i * ft->slot);
}

static uint32_t idx(const cg_flowtable *ft, const cg_flow *f)
{
    return (uint32_t)(((const unsigned char *)f - ft->slab) / ft->slot);
}

/* The sizes of a table for cfg: capacity and bucket count such that the table,
 * the slots and the buckets fit in memcap. 0 when not even one flow fits. */
static uint32_t plan(uint64_t memcap, uint32_t max_flows, uint32_t slot, uint32_t *nbuckets)
{
    uint64_t fixed = sizeof(cg_flowtable);
    if (memcap <= fixed + 16 * sizeof(uint32_t))
        return 0;
    uint64_t room = memcap - fixed;
    /* as many slots as fit with one bucket each; then the largest power of two
     * of buckets not above that, and the slots that fit beside them */
    uint64_t c = room / (slot + sizeof(uint32_t));
    uint64_t nb = 16;
    while (nb * 2 <= c && nb < MAX_CAPACITY)
        nb *= 2;
    if (nb * sizeof(uint32_t) >= room)
        return 0;
    c = (room - nb * sizeof(uint32_t)) / slot;
    if (max_flows && c > max_flows) {
        c = max_flows;
        while (nb / 2 >= 16 && nb / 2 >= c)
            nb /= 2;
    }
    if (c > MAX_CAPACITY)
        c = MAX_CAPACITY;
    *nbuckets = (uint32_t)nb;
    return (uint32_t)c;
}

int cg_flowtable_create(cg_flowtable **out, const cg_flow_config *cfg)
{
    static const cg_flow_config none;
    if (!cfg)
        cfg = &none;
    if (!out || cfg->user_size > MAX_USER_SIZE)
        return -1;
    uint32_t slot = (uint32_t)(CG_FLOW_USER_OFFSET + ((cfg->user_size + 15u) & ~15u));
    uint32_t nb = 0;
    uint32_t capacity =
        plan(cfg->memcap ? cfg->memcap : CG_FLOW_DEFAULT_MEMCAP, cfg->max_flows, slot, &nb);
    if (capacity == 0)
        return -1;
    cg_flowtable *ft = calloc(1, sizeof *ft);
    if (!ft)
        goto fail;
    /* calloc: a large slab is fresh mmap'd memory, zero and not yet faulted
     * in; nothing here writes it (invariant 1) */
    ft->slab = calloc(capacity, slot);
    ft->buckets = malloc((size_t)nb * sizeof *ft->buckets);
    if (!ft->slab || !ft->buckets)
        goto fail;
    ft->capacity = capacity;
    ft->slot = slot;
    ft->bucket_mask = nb - 1;
    for (uint32_t i = 0; i < nb; i++)
        ft->buckets[i] = NIL;
    ft->free_head = NIL;
    ft->fresh = 0;
    for (int l = 0; l < NLISTS; l++)
        ft->lru_head[l] = ft->lru_tail[l] = NIL;
    set_timeouts(ft, &cfg->timeouts);
    ft->no_reap = cfg->no_reap;
    ft->min_idle = min_idle_us(cfg->min_idle_ms, 1000);
    ft->min_idle_est = min_idle_us(cfg->min_idle_est_ms, 30000);
    ft->on_evict = cfg->on_evict;
    ft->evict_ctx = cfg->evict_ctx;
    ft->st.capacity = capacity;
    ft->st.mem_bytes = sizeof *ft + (uint64_t)capacity * slot + (uint64_t)nb * sizeof(uint32_t);
    ft->st.slot_bytes = (uint32_t)((ft->st.mem_bytes - sizeof *ft + capacity - 1) / capacity);
    *out = ft;
    return 0;
fail:
    cg_flowtable_destroy(ft);
    return CG_ENOMEM;
}

void cg_flowtable_destroy(cg_flowtable *ft)
{
    if (!ft)
        return;
    free(ft->buckets);
    free(ft->slab);
    free(ft);
}

void cg_flowtable_set_timeouts(cg_flowtable *ft, const cg_flow_timeouts *t)
{
    if (ft)
        set_timeouts(ft, t);
}

void cg_flowtable_stats(const cg_flowtable *ft, cg_flow_stats *out)
{
    if (ft && out)
        *out = ft->st;
}

int cg_flow_established(const cg_flow *f)
{
    if (!f)
        return 0;
    if (f->proto == IPP_TCP)
        return f->tcp_state == CG_TCP_ESTABLISHED || (f->tcp_bits & WAS_ESTABLISHED);
    return f->seen_both;
}

/* Which LRU list f belongs in now (invariant 3). */
static uint8_t lru_of(const cg_flow *f)
{
    switch (f->proto) {
    case IPP_TCP:
        if (f->tcp_state == CG_TCP_CLOSED)
            return L_TCP_CLOSED;
        return (f->tcp_bits & WAS_ESTABLISHED) ? L_TCP_EST : L_TCP_NEW;
    case IPP_UDP: return f->seen_both ? L_UDP_BOTH : L_UDP_ONE;
    default: return f->seen_both ? L_OTHER_BOTH : L_OTHER_ONE;
    }
}

static uint64_t timeout_of(const cg_flowtable *ft, const cg_flow *f)
{
    switch (f->lru) {
    case L_TCP_EST: return ft->to_tcp_est;
    case L_TCP_NEW: return ft->to_tcp_other;
    case L_TCP_CLOSED: return ft->to_tcp_closed;
    case L_UDP_BOTH:
    case L_UDP_ONE: return ft->to_udp;
    default: return ft->to_other;
    }
}

static int expired(const cg_flowtable *ft, const cg_flow *f, uint64_t now)
{
    return now > f->last_us && now - f->last_us > timeout_of(ft, f);
}

static void lru_unlink(cg_flowtable *ft, cg_flow *f)
{
    uint8_t l = f->lru;
    if (f->lru_prev != NIL)
        slot_at(ft, f->lru_prev)->lru_next = f->lru_next;
    else
        ft->lru_head[l] = f->lru_next;
    if (f->lru_next != NIL)
        slot_at(ft, f->lru_next)->lru_prev = f->lru_prev;
    else
        ft->lru_tail[l] = f->lru_prev;
}

static void lru_push_head(cg_flowtable *ft, cg_flow *f, uint8_t l)
{
    uint32_t i = idx(ft, f);
    f->lru = l;
    f->lru_prev = NIL;
    f->lru_next = ft->lru_head[l];
    if (ft->lru_head[l] != NIL)
        slot_at(ft, ft->lru_head[l])->lru_prev = i;
    else
        ft->lru_tail[l] = i;
    ft->lru_head[l] = i;
}

/* Takes f out of its chain and LRU list, counts it, tells the caller, and puts
 * its slot on the free list (invariant 5). */
static void evict(cg_flowtable *ft, cg_flow *f, int reason)
{
    uint32_t i = idx(ft, f);
    uint32_t *link = &ft->buckets[f->bucket];
    while (*link != i)
        link = &slot_at(ft, *link)->next;
    *link = f->next;
    lru_unlink(ft, f);
    ft->st.active--;
    switch (reason) {
    case CG_FLOW_END_TIMEOUT: ft->st.evicted_timeout++; break;
    case CG_FLOW_END_PRESSURE: ft->st.evicted_pressure++; break;
    case CG_FLOW_END_REUSE: ft->st.evicted_reuse++; break;
    default: ft->st.evicted_flush++; break;
    }
    if (ft->on_evict)
        ft->on_evict(ft->evict_ctx, f, reason);
    f->next = ft->free_head;
    ft->free_head = i;
}

/* The least recently seen expired flow (at the tail of some list), or NULL. */
static cg_flow *expired_tail(const cg_flowtable *ft, uint64_t now)
{
    cg_flow *best = NULL;
    for (int l = 0; l < NLISTS; l++) {
        if (ft->lru_tail[l] == NIL)
            continue;
        cg_flow *f = slot_at(ft, ft->lru_tail[l]);
        if (expired(ft, f, now) && (!best || f->last_us < best->last_us))
            best = f;
    }
    return best;
}

/* The least recently seen flow of lists [from, to), or NULL. */
static cg_flow *oldest_tail(const cg_flowtable *ft, int from, int to)
{
    cg_flow *best = NULL;
    for (int l = from; l < to; l++) {
        if (ft->lru_tail[l] == NIL)
            continue;
        cg_flow *f = slot_at(ft, ft->lru_tail[l]);
        if (!best || f->last_us < best->last_us)
            best = f;
    }
    return best;
}

static int idle_at_least(const cg_flow *f, uint64_t now, uint64_t min)
{
    return min == 0 || (now >= f->last_us && now - f->last_us >= min);
}

/* The flow to evict for a new one at now when no slot is free, or NULL when
 * the new one must be refused (see cg_flowtable_update). */
static cg_flow *victim(const cg_flowtable *ft, uint64_t now)
{
    cg_flow *f = expired_tail(ft, now);
    if (f)
        return f;
    f = oldest_tail(ft, NOPEN, NLISTS);
    if (f && idle_at_least(f, now, ft->min_idle))
        return f;
    f = oldest_tail(ft, 0, NOPEN);
    if (f && idle_at_least(f, now, ft->min_idle_est))
        return f;
    return NULL;
}

/* 1: p goes client->server of f; 0: server->client; -1: p is not f's. */
static int direction(const cg_flow *f, const cg_packet *p)
{
    if (f->proto != p->proto)
        return -1;
    if (f->cport == p->sport && f->sport == p->dport && memcmp(f->cli, p->src, 16) == 0 &&
        memcmp(f->srv, p->dst, 16) == 0)
        return 1;
    if (f->cport == p->dport && f->sport == p->sport && memcmp(f->cli, p->dst, 16) == 0 &&
        memcmp(f->srv, p->src, 16) == 0)
        return 0;
    return -1;
}

/* A SYN+ACK as the first packet: its receiver is the client. */
static int first_is_synack(const cg_packet *p)
{
    return p->proto == IPP_TCP && (p->flags & CG_PKT_HAS_PORTS) &&
        (p->tcp_flags & (CG_TH_SYN | CG_TH_ACK | CG_TH_RST)) == (CG_TH_SYN | CG_TH_ACK);
}

static cg_flow *create(cg_flowtable *ft, const cg_packet *p, uint32_t bucket, uint64_t id)
{
    uint64_t now = p->ts_us;
    for (int n = 0; n < (ft->no_reap ? 0 : REAP_PER_CREATE); n++) {
        cg_flow *old = expired_tail(ft, now);
        if (!old)
            break;
        evict(ft, old, CG_FLOW_END_TIMEOUT);
    }
    if (ft->free_head == NIL && ft->fresh == ft->capacity) {
        cg_flow *old = victim(ft, now);
        if (!old) {
            ft->st.refused_cap++;
            return NULL;
        }
        evict(ft, old, expired(ft, old, now) ? CG_FLOW_END_TIMEOUT : CG_FLOW_END_PRESSURE);
    }
    uint32_t i;
    cg_flow *f;
    if (ft->free_head != NIL) {
        i = ft->free_head;
        f = slot_at(ft, i);
        ft->free_head = f->next;
    } else {
        i = ft->fresh++;
        f = slot_at(ft, i);
    }
    memset(f, 0, ft->slot);
    f->id = id;
    f->proto = p->proto;
    if (first_is_synack(p)) {
        memcpy(f->cli, p->dst, 16);
        memcpy(f->srv, p->src, 16);
        f->cport = p->dport;
        f->sport = p->sport;
    } else {
        memcpy(f->cli, p->src, 16);
        memcpy(f->srv, p->dst, 16);
        f->cport = p->sport;
        f->sport = p->dport;
    }
    f->first_us = f->last_us = now;
    f->bucket = bucket;
    f->next = ft->buckets[bucket];
    ft->buckets[bucket] = i;
    f->lru = lru_of(f);
    lru_push_head(ft, f, f->lru);
    ft->st.created++;
    ft->st.active++;
    return f;
}

static void tcp_update(cg_flow *f, const cg_packet *p, int to_server)
{
    if (!(p->flags & CG_PKT_HAS_PORTS))
        return; /* no TCP header in this packet */
    uint8_t fl = p->tcp_flags;
    int syn = (fl & CG_TH_SYN) != 0, ack = (fl & CG_TH_ACK) != 0;

    if (fl & CG_TH_RST) {
        f->tcp_state = CG_TCP_CLOSED;
        return;
    }
    switch (f->tcp_state) {
    case CG_TCP_NONE:
        if (syn && !ack) {
            f->tcp_state = CG_TCP_SYN_SENT;
            break;
        }
        f->midstream = 1;
        if (syn) {
            f->tcp_state = CG_TCP_SYN_RECV; /* a SYN+ACK: create() made its receiver the client */
        } else if (!(fl & CG_TH_FIN)) {
            f->tcp_state = CG_TCP_ESTABLISHED;
            f->tcp_bits |= WAS_ESTABLISHED;
        }
        break;
    case CG_TCP_SYN_SENT:
        if (!to_server && syn && ack)
            f->tcp_state = CG_TCP_SYN_RECV;
        break;
    case CG_TCP_SYN_RECV:
        if (ack && !syn && to_server) {
            f->tcp_state = CG_TCP_ESTABLISHED;
            f->tcp_bits |= WAS_ESTABLISHED;
        }
        break;
    default: break;
    }
    if ((fl & CG_TH_FIN) && f->tcp_state != CG_TCP_CLOSED) {
        f->tcp_bits |= to_server ? FIN_FROM_CLIENT : FIN_FROM_SERVER;
        f->tcp_state = (f->tcp_bits & FIN_FROM_CLIENT) && (f->tcp_bits & FIN_FROM_SERVER)
            ? CG_TCP_CLOSED
            : CG_TCP_CLOSING;
    }
}

cg_flow *cg_flowtable_update(cg_flowtable *ft, const cg_packet *p, int *to_server)
{
    if (!ft || !p || (p->ipver != 4 && p->ipver != 6))
        return NULL;
    uint64_t h = cg_flow_hash(p);
    uint64_t id = h & ((1ULL << 51) - 1);
    if (id == 0)
        id = 1;
    uint32_t bucket = (uint32_t)(h & ft->bucket_mask);

    cg_flow *f = NULL;
    int dir = 1;
    for (uint32_t i = ft->buckets[bucket]; i != NIL; i = slot_at(ft, i)->next) {
        int d = direction(slot_at(ft, i), p);
        if (d >= 0) {
            f = slot_at(ft, i);
            dir = d;
            break;
        }
    }
    if (f && expired(ft, f, p->ts_us)) {
        evict(ft, f, CG_FLOW_END_TIMEOUT);
        f = NULL;
    } else if (f && f->proto == IPP_TCP && f->tcp_state == CG_TCP_CLOSED &&
               (p->flags & CG_PKT_HAS_PORTS) &&
               (p->tcp_flags & (CG_TH_SYN | CG_TH_ACK | CG_TH_RST)) == CG_TH_SYN) {
        evict(ft, f, CG_FLOW_END_REUSE);
        f = NULL;
    }
    if (!f) {
        f = create(ft, p, bucket, id);
        if (!f)
            return NULL;
        dir = direction(f, p);
    } else if (p->ts_us > f->last_us) {
        f->last_us = p->ts_us;
    }

    if (dir) {
        f->pkts_toserver++;
        f->bytes_toserver += p->wirelen;
    } else {
        f->pkts_toclient++;
        f->bytes_toclient += p->wirelen;
    }
    if (f->pkts_toserver && f->pkts_toclient)
        f->seen_both = 1;
    if (f->proto == IPP_TCP)
        tcp_update(f, p, dir);
    lru_unlink(ft, f);
    lru_push_head(ft, f, lru_of(f));
    if (to_server)
        *to_server = dir;
    CG_INVARIANT_SOMETIMES(ft->ops, cg_flowtable_check(ft) == 0);
    return f;
}

uint32_t cg_flowtable_expire(cg_flowtable *ft, uint64_t now_us, uint32_t max)
{
    uint32_t n = 0;
    if (!ft)
        return 0;
    while (n < max) {
        cg_flow *f = expired_tail(ft, now_us);
        if (!f)
            break;
        evict(ft, f, CG_FLOW_END_TIMEOUT);
        n++;
    }
    return n;
}

uint32_t cg_flowtable_foreach(cg_flowtable *ft, void (*fn)(void *ctx, cg_flow *f), void *ctx)
{
    uint32_t n = 0;
    if (!ft)
        return 0;
    for (int l = 0; l < NLISTS; l++)
        for (uint32_t i = ft->lru_head[l]; i != NIL;) {
            cg_flow *f = slot_at(ft, i);
            i = f->lru_next;
            fn(ctx, f);
            n++;
        }
    return n;
}

uint32_t cg_flowtable_evict_all(cg_flowtable *ft)
{
    uint32_t n = 0;
    if (!ft)
        return 0;
    for (;;) {
        cg_flow *f = oldest_tail(ft, 0, NLISTS);
        if (!f)
            break;
        evict(ft, f, CG_FLOW_END_FLUSH);
        n++;
    }
    return n;
}

int cg_flowtable_check(const cg_flowtable *ft)
{
    if (!ft || ft->fresh > ft->capacity)
        return -1;
    uint64_t in_lists = 0, in_chains = 0, in_free = 0;
    for (int l = 0; l < NLISTS; l++) {
        uint32_t prev = NIL, n = 0;
        for (uint32_t i = ft->lru_head[l]; i != NIL; i = slot_at(ft, i)->lru_next) {
            if (i >= ft->fresh || ++n > ft->fresh)
                return -1; /* outside the used slots, or a cycle */
            const cg_flow *f = slot_at(ft, i);
            if (f->lru != l || lru_of(f) != l || f->lru_prev != prev)
                return -1;
            prev = i;
        }
        if (ft->lru_tail[l] != prev)
            return -1;
        in_lists += n;
    }
    for (uint32_t b = 0; b <= ft->bucket_mask; b++) {
        uint32_t n = 0;
        for (uint32_t i = ft->buckets[b]; i != NIL; i = slot_at(ft, i)->next) {
            if (i >= ft->fresh || ++n > ft->fresh || slot_at(ft, i)->bucket != b)
                return -1;
        }
        in_chains += n;
    }
    for (uint32_t i = ft->free_head; i != NIL; i = slot_at(ft, i)->next)
        if (i >= ft->fresh || ++in_free > ft->fresh)
            return -1;
    const cg_flow_stats *s = &ft->st;
    uint64_t ended = s->evicted_timeout + s->evicted_pressure + s->evicted_reuse + s->evicted_flush;
    if (in_lists != s->active || in_chains != s->active || in_free + s->active != ft->fresh ||
        s->created - ended != s->active || s->active > ft->capacity)
        return -1;
    return 0;
}
