/* detect.c — groups, Hyperscan databases and their cache, and the per-packet
 * path (see detect.h for the design).
 *
 * Cache file layout (all integers little-endian, host-written and host-read):
 *   offset  size  field
 *   0       8     magic "CGHSDB2\0"
 *   8       32    key: SHA-256(rule set hash, hs_version(), platform, layout)
 *   40      4     number of group slots N
 *   44      32    SHA-256 of everything after this header (offset 76 on)
 *   76      ...   N times: u32 slot, then per address class (NACLS): u8 the class
 *                 whose database it shares (its own index: none shared), u64
 *                 length (0 when shared or none), length bytes
 *                 (hs_serialize_database)
 * Slots are numbered in build order, which depends only on the rules; a file
 * whose key or slot list does not fit is ignored and rewritten.
 */
#include "analyzer/engine/detect.h"

#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "analyzer/engine/threshold.h"
#include "analyzer/engine/verify.h"
#include "analyzer/engine/xbits.h"

#define LAYOUT_VERSION 9
#define FP_SCAN_MAX \
    32                       /* a fast pattern is looked for by its last bytes, at most
                              * this many: a stream piece is scanned again 31 bytes back */
#define NCLASS 4             /* TCP, UDP, ICMP (v4 and v6), other */
#define NGCLASS (NCLASS + 2) /* ... the TCP stream, TCP packets the stream holds */
#define NARROW_PORTS 4096    /* a port set larger than this counts as "any" */
#define MAX_ALERTS 64
#define THRESHOLD_SLOTS CG_DETECT_THRESHOLD_SLOTS
#define XBITS_SLOTS CG_DETECT_XBITS_SLOTS

/* CL_STREAM: the stream rules (rule_stream), on the reassembled TCP stream.
 * CL_TCPS: the TCP rules that are not, for a packet whose bytes the stream
 * holds (cg_detect_packet_streamed). CL_TCP has every TCP rule, for packets
 * that are not reassembled. */
enum { CL_TCP, CL_UDP, CL_ICMP, CL_OTHER, CL_STREAM, CL_TCPS };

#define RF_ANCHORED 0x01 /* rule_anchored() */
#define RF_MIXED 0x02    /* payload matches beside application buffers */
#define RF_SETBITS 0x04  /* changes a flowbit: set, unset or toggle */

/* Rules without a fast pattern whose source (or destination) address set is
 * narrow — IP reputation lists — are not checked on every packet: the address
 * space is cut at every boundary of those sets into segments, each with the
 * rules whose set covers it, and a packet looks its address up. Segment i is
 * [lo[i], lo[i+1]) (the last runs to the top); its rules are
 * ids[off[i] .. off[i+1]). */
typedef struct addr_index {
    uint64_t *key; /* segment i's lowest address as two host integers
                    * (high half, low half), at 2i and 2i+1 */
    uint32_t nseg;
    uint32_t *off, *ids;
} addr_index;

/* A packet group's payloads by length. Those of length from up to the next
 * span's from need only their first reach bytes scanned (0: none) for the
 * rules whose dsize accepts the length and whose fast pattern is a content
 * bound to the payload's start (depth, startswith); the rules ids[off ..
 * off + n) of the group's uids accept it too with no bound, each gated
 * (rule_gated): when one passes its flowbit, flow and header checks for the
 * packet, the whole payload is scanned. A span with an unbounded rule that
 * is not gated, or too many gated ones, has reach UINT32_MAX. */
typedef struct lenspan {
    uint32_t from, reach, off, n;
} lenspan;
#define SPAN_CHECKS 8 /* unbounded rules checked per span at most */

/* Address classes: a packet's source and destination are each in the pivot
 * address set (the one the most rules name: $HOME_NET as ET Open writes it)
 * or not; class = (source outside) | (destination outside) << 1. A group has
 * one database per class holding the patterns of the rules whose addresses
 * can match that class; classes with the same rules share one (any-address
 * rule sets have one database, as before). */
#define NACLS 4

typedef struct group {
    hs_database_t *db[NACLS]; /* per address class; NULL: no pattern for it */
    uint8_t vsame[NACLS];     /* db[v] is db[vsame[v]]'s (== v: its own) */
    uint32_t *always;
    uint32_t nalways;
    uint32_t npat;
    int8_t fpbuf;   /* >= 0: a rule whose fast pattern is in another buffer is
                     * always-checked here (a transaction buffer's group) */
    uint32_t maxfp; /* the longest pattern in db */
    lenspan *span;
    uint32_t nspan;            /* what of a payload db needs to see (NULL: all) */
    uint32_t *uids;            /* the spans' unbounded rules */
    addr_index by_src, by_dst; /* rules moved out of always (by their narrow side) */
} group;

typedef struct dgroup { /* one transport class and direction */
    uint16_t *port_map; /* key port -> port group + 1; NULL when none */
    uint8_t key_sport;  /* the key port is the source port (else the destination) */
    group any;
    group *pg;
    uint32_t npg;
} dgroup;

struct cg_detect {
    const cg_rule *rules;
    uint32_t nrules;
    const cg_addrset *pivot; /* the address classes' set (NULL: one class) */
    uint8_t *amask;          /* per rule: the address classes it can match (bit v) */
    uint32_t *order;         /* per rule: sort key, pass rules first */
    uint8_t *rflags;         /* per rule: RF_* */
    dgroup g[NGCLASS][2];
    group tx[CG_BUF_COUNT][2]; /* transactions: per buffer and direction, the rules with
                                * their fast pattern there, and those without one there
                                * (checked when the buffer is present) */
    group bodies[2];           /* the rules with their fast pattern in a body buffer */
    uint32_t flowbit_words;    /* per flow: the flowbits' words ... */
    uint32_t flowints;         /* ... then one word per flowint name */
    int needs_app;             /* some rule needs application parsing */
    cg_detect_info info;
};

struct cg_detect_worker {
    const cg_detect *d;
    hs_scratch_t *scratch;
    uint32_t *cand;
    uint32_t ncand; /* sort keys of candidates */
    uint64_t hits;  /* pattern matches of unanchored rules reported
                     * by Hyperscan */
    const cg_flow *f;
    int to_server;    /* the packet's flow and direction, for scan_len */
    uint8_t full;     /* scan whole payloads */
    uint8_t fb_short; /* scan_len left a rule out for a flowbit test */
    uint32_t *stamp;
    uint32_t gen; /* per rule: gen when it became a candidate */
    /* where alerts were raised (cg_detect_alert_hit): per rule, the first
     * fast-pattern match of the inspection (valid when hstamp == gen); the
     * bytes being scanned and their default (view); per alert, the result */
    cg_detect_hit *hit;
    uint32_t *hstamp;
    cg_detect_hit view; /* data, len, buf of the inspection; match_end unused */
    uint32_t scan_off;  /* offset in view.data where the scan began */
    uint8_t acls;       /* the address class of the inspection */
    cg_detect_hit ahits[MAX_ALERTS];
    uint64_t *bits;        /* the flow's flowbits (cg_detect_set_flow) */
    const cg_flowinfo *fi; /* the flow's application protocol, sizes */
    cg_bufset pbs;         /* a packet's, or a stream inspection's new bytes */
    cg_bufset wbs, obs;    /* a stream inspection's window and old bytes */
    cg_bufset xbs;         /* a transaction's buffers, its stream and packet */
    const cg_rule *alerts[MAX_ALERTS];
    cg_verify_ctx vc;
    cg_threshold_table *th;
    cg_xbits *xb;        /* xbits per host and address pair */
    int own_tables;      /* th and xb are this worker's (else shared) */
    const cg_gate *gate; /* around th and xb when shared */
    cg_detect_stats st;
};

/* ---- grouping ------------------------------------------------------------ */

#define PAYLOAD_BITS ((1ull << CG_BUF_PAYLOAD) | (1ull << CG_BUF_STREAM))

/* A rule of packets (and streams): it inspects no application buffer. The
 * others are matched on application transactions (cg_detect_tx), those that
 * also match payload bytes with the transaction's stream and packet. */
static int rule_is_packet(const cg_rule *r)
{
    return (r->bufs & ~PAYLOAD_BITS) == 0;
}

/* A stream rule: inspected on the reassembled TCP stream instead of on the
 * packets whose bytes the stream holds. It matches payload bytes only, may
 * match the stream (not tcp-pkt), and tests nothing that belongs to one
 * packet (dsize, flags, ttl). */
static int rule_stream(const cg_rule *r)
{
    if (!r->stream_ok || !(r->bufs & PAYLOAD_BITS) || (r->bufs & ~PAYLOAD_BITS) ||
        r->dsize.op != CG_DS_NONE || r->tcpflags.set || r->ttl.op)
        return 0;
    if (r->fp >= 0 && r->fp_buf != CG_BUF_PAYLOAD)
        return 0;
    return r->proto == CG_RP_TCP || r->proto == CG_RP_IP || r->proto == CG_RP_HTTP ||
        r->proto == CG_RP_TLS || r->proto == CG_RP_DNS;
}

/* A stream rule tied to where its buffer starts (offset, depth, startswith,
 * a pcre starting with ^, an absolute isdataat, byte_test, byte_jump,
 * byte_extract, bsize): on the stream it is matched on the bytes of one
 * inspection only, which start where the previous one ended (see
 * cg_detect_stream). */
static int rule_anchored(const cg_rule *r)
{
    for (uint32_t i = 0; i < r->nmatch; i++) {
        const cg_match *m = &r->matches[i];
        if (m->buf == CG_BUF_BASE64)
            continue; /* positions in decoded bytes */
        switch (m->type) {
        case CG_M_CONTENT: {
            uint16_t f = m->u.c.flags;
            int rel = (f & (CG_C_DISTANCE | CG_C_WITHIN)) != 0;
            if ((f & CG_C_STARTSWITH) || (!rel && (f & (CG_C_OFFSET | CG_C_DEPTH))))
                return 1;
            break;
        }
        case CG_M_PCRE: {
            const char *src = m->u.p.source;
            if (!(m->u.p.flags & CG_P_RELATIVE) && src && src[0] == '/' && src[1] == '^')
                return 1;
            break;
        }
        case CG_M_ISDATAAT:
            if (!(m->u.d.flags & CG_D_RELATIVE))
                return 1;
            break;
        case CG_M_BYTE_TEST:
        case CG_M_BYTE_JUMP:
        case CG_M_BYTE_EXTRACT:
            if (!(m->u.b.flags & CG_B_RELATIVE))
                return 1;
            break;
        case CG_M_BASE64:
            if (!m->u.b64.relative)
                return 1;
            break;
        default: return 1;
        }
    }
    return 0;
}

/* A rule's fast pattern: its own, or for a transaction rule whose own is in
 * the payload, the longest plain content of an application buffer (none: -1,
 * the rule is always-checked). Returns the buffer, or -1. */
static int rule_fp(const cg_rule *r, const uint8_t **bytes, uint32_t *len, int *nocase)
{
    if (r->fp < 0)
        return -1;
    if (r->fp_buf != CG_BUF_PAYLOAD || (r->bufs & ~PAYLOAD_BITS) == 0) {
        *bytes = r->fp_bytes;
        *len = r->fp_len;
        *nocase = r->fp_nocase;
        return r->fp_buf;
    }
    const cg_match *best = NULL;
    for (uint32_t i = 0; i < r->nmatch; i++) {
        const cg_match *m = &r->matches[i];
        if (m->type != CG_M_CONTENT || m->buf == CG_BUF_PAYLOAD || m->buf == CG_BUF_STREAM ||
            m->buf >= CG_BUF_COUNT || /* base64_data: decoded bytes are not scanned */
            (m->u.c.flags & CG_C_NEGATED) || m->u.c.len == 0 || r->groups[m->grp].ntf > 0)
            continue;
        if (!best || m->u.c.len > best->u.c.len)
            best = m;
    }
    if (!best)
        return -1;
    *bytes = best->u.c.bytes;
    *len = best->u.c.len;
    *nocase = (best->u.c.flags & CG_C_NOCASE) != 0;
    return best->buf;
}

static int rule_in_class(const cg_rule *r, int cl)
{
    if (cl == CL_STREAM)
        return rule_stream(r);
    if (cl == CL_TCPS)
        return rule_in_class(r, CL_TCP) && !rule_stream(r);
    if (!rule_is_packet(r) || ((r->bufs & PAYLOAD_BITS) && !r->packet_ok))
        return 0;
    switch (r->proto) {
    case CG_RP_TCP:
    case CG_RP_HTTP:
    case CG_RP_TLS: return cl == CL_TCP;
    case CG_RP_UDP: return cl == CL_UDP;
    case CG_RP_DNS: return cl == CL_TCP || cl == CL_UDP;
    case CG_RP_ICMP: return cl == CL_ICMP;
    default: return 1;
    }
}

static int rule_in_dir(const cg_rule *r, int dir)
{
    if (r->flow & CG_F_TO_SERVER)
        return dir == 0;
    if (r->flow & CG_F_TO_CLIENT)
        return dir == 1;
    return 1;
}

static uint64_t portset_size(const cg_portset *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        n += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
    return n;
}

/* A group's key port is a packet's destination port, except for the packets
 * the stream holds going to the client (CL_TCPS, direction 1): their source
 * port, the server's, so that rules for a service's replies are grouped by
 * it. A rule's key ports: that side of its header, and the other side too
 * when it is bidirectional (other = 1). */
static int keys_sport(int cl, int dir)
{
    return cl == CL_TCPS && dir == 1;
}

static const cg_portset *key_ports(const cg_rule *r, int cl, int dir, int other)
{
    return keys_sport(cl, dir) != (other != 0) ? &r->sport : &r->dport;
}

/* Whether r's key ports are a narrow set (else it goes to the any-port group). */
static int rule_narrow(const cg_rule *r, int cl, int dir)
{
    if (cl == CL_ICMP || cl == CL_OTHER)
        return 0;
    uint64_t n = portset_size(key_ports(r, cl, dir, 0));
    if (r->bidir)
        n += portset_size(key_ports(r, cl, dir, 1));
    return n <= NARROW_PORTS;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Appends v to a growable array (build time only). */
static int push_u32(uint32_t **a, uint32_t *n, uint32_t *cap, uint32_t v)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 8;
        uint32_t *na = realloc(*a, nc * sizeof **a);
        if (!na)
            return -1;
        *a = na;
        *cap = nc;
    }
    (*a)[(*n)++] = v;
    return 0;
}

typedef struct seglist {
    uint32_t *r;
    uint32_t n, cap;
} seglist;

static void mark_ports(const cg_portset *s, const uint32_t *bounds, uint32_t nb, seglist *segs,
                       uint32_t ri, int *err)
{
    for (uint32_t k = 0; k < s->n; k++) {
        /* segments are [bounds[i], bounds[i+1]) ; find the first with start >= lo */
        uint32_t lo = s->r[k].lo, hi = (uint32_t)s->r[k].hi + 1;
        uint32_t a = 0, b = nb;
        while (a < b) {
            uint32_t m = (a + b) / 2;
            if (bounds[m] < lo)
                a = m + 1;
            else
                b = m;
        }
        for (uint32_t i = a; i + 1 < nb && bounds[i] < hi; i++)
            if (segs[i].n == 0 || segs[i].r[segs[i].n - 1] != ri)
                if (push_u32(&segs[i].r, &segs[i].n, &segs[i].cap, ri))
                    *err = 1;
    }
}

/* Builds the port groups of one class/direction: rule lists only (no Hyperscan). */
static int build_dgroup(cg_detect *d, int cl, int dir)
{
    dgroup *g = &d->g[cl][dir];
    g->key_sport = (uint8_t)keys_sport(cl, dir);
    uint32_t *bounds = NULL, nb = 0, cb = 0;
    uint32_t anycap = 0, anyn = 0;
    uint32_t *anyr = NULL;
    seglist *segs = NULL;
    int err = 0;

    for (uint32_t i = 0; i < d->nrules && !err; i++) {
        const cg_rule *r = &d->rules[i];
        if (!rule_in_class(r, cl) || !rule_in_dir(r, dir))
            continue;
        if (!rule_narrow(r, cl, dir)) {
            err |= push_u32(&anyr, &anyn, &anycap, i);
            continue;
        }
        for (int s = 0; s < 1 + r->bidir; s++) {
            const cg_portset *ps = key_ports(r, cl, dir, s);
            for (uint32_t k = 0; k < ps->n; k++) {
                err |= push_u32(&bounds, &nb, &cb, ps->r[k].lo);
                err |= push_u32(&bounds, &nb, &cb, (uint32_t)ps->r[k].hi + 1);
            }
        }
    }
    if (err)
        goto fail;

    /* the "any" group: rules (as indexes) to split into patterns and always */
    g->any.always = anyr; /* temporarily: all any-port rules */
    g->any.nalways = anyn;
    anyr = NULL;

    if (nb == 0)
        goto done;
    qsort(bounds, nb, sizeof *bounds, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < nb; i++)
        if (u == 0 || bounds[u - 1] != bounds[i])
            bounds[u++] = bounds[i];
    nb = u;
    segs = calloc(nb, sizeof *segs);
    if (!segs)
        goto fail;
    for (uint32_t i = 0; i < d->nrules; i++) {
        const cg_rule *r = &d->rules[i];
        if (!rule_in_class(r, cl) || !rule_in_dir(r, dir) || !rule_narrow(r, cl, dir))
            continue;
        mark_ports(key_ports(r, cl, dir, 0), bounds, nb, segs, i, &err);
        if (r->bidir)
            mark_ports(key_ports(r, cl, dir, 1), bounds, nb, segs, i, &err);
    }
    if (err)
        goto fail;

    /* Deduplicate segments with identical rule lists into port groups. */
    g->port_map = calloc(65536, sizeof *g->port_map);
    g->pg = calloc(nb, sizeof *g->pg);
    if (!g->port_map || !g->pg)
        goto fail;
    uint32_t *seg_group = calloc(nb, sizeof *seg_group);
    if (!seg_group)
        goto fail;
    for (uint32_t i = 0; i + 1 < nb; i++) {
        if (segs[i].n == 0)
            continue;
        uint32_t gi = UINT32_MAX;
        for (uint32_t j = 0; j < i; j++)
            if (seg_group[j] && g->pg[seg_group[j] - 1].nalways == segs[i].n &&
                !memcmp(g->pg[seg_group[j] - 1].always, segs[i].r, segs[i].n * sizeof(uint32_t))) {
                gi = seg_group[j] - 1; /* segs[j].r moved into that group */
                break;
            }
        if (gi == UINT32_MAX) {
            gi = g->npg++;
            g->pg[gi].always = segs[i].r; /* all its rules, split later */
            g->pg[gi].nalways = segs[i].n;
            segs[i].r = NULL;
        }
        seg_group[i] = gi + 1;
        for (uint32_t p = bounds[i]; p < bounds[i + 1] && p < 65536; p++)
            g->port_map[p] = (uint16_t)(gi + 1);
    }
    free(seg_group);
done:
    if (segs)
        for (uint32_t i = 0; i < nb; i++)
            free(segs[i].r);
    free(segs);
    free(bounds);
    return 0;
fail:
    if (segs)
        for (uint32_t i = 0; i < nb; i++)
            free(segs[i].r);
    free(segs);
    free(bounds);
    free(anyr);
    return -1;
}

/* ---- Hyperscan ------------------------------------------------------------ */

/* Whether r has a flowbit command cmd. */
static int rule_flowbit(const cg_rule *r, int cmd)
{
    for (uint32_t i = 0; i < r->nflowbits; i++)
        if (r->flowbits[i].cmd == cmd)
            return 1;
    return 0;
}

/* How far into a packet's payload r's fast pattern can end: its content's
 * depth (from its offset) or, with startswith, its length, when the content
 * is not relative to another; else no bound (UINT32_MAX). */
static uint32_t rule_reach(const cg_rule *r)
{
    if (r->fp < 0)
        return UINT32_MAX;
    const cg_match *m = &r->matches[r->fp];
    const cg_content *c = &m->u.c;
    if (m->type != CG_M_CONTENT || r->groups[m->grp].ntf > 0 ||
        (c->flags &
         (CG_C_DISTANCE | CG_C_WITHIN | CG_C_OFFSET_VAR | CG_C_DEPTH_VAR | CG_C_DISTANCE_VAR |
          CG_C_WITHIN_VAR)))
        return UINT32_MAX;
    if (c->flags & CG_C_STARTSWITH)
        return c->len;
    if (!(c->flags & CG_C_DEPTH) || c->depth < 0 || ((c->flags & CG_C_OFFSET) && c->offset < 0))
        return UINT32_MAX;
    uint64_t end = (uint64_t)c->depth + ((c->flags & CG_C_OFFSET) ? (uint64_t)c->offset : 0);
    return end >= UINT32_MAX ? UINT32_MAX : (uint32_t)end;
}

/* Whether r rarely applies to a packet, for a reason cheap to check before
 * a scan: a flowbit it tests, TCP flags, a TTL, stream sizes, the
 * application protocol. */
static int rule_gated(const cg_rule *r)
{
    return rule_flowbit(r, CG_FB_ISSET) || r->tcpflags.set || r->ttl.op || r->nstream_size ||
        r->app_match;
}

/* The payload lengths dsize accepts, as [*lo, *hi]; 0 when none. */
static int dsize_span(const cg_dsize *ds, uint32_t *lo, uint32_t *hi)
{
    uint32_t a = ds->a, b = ds->b;
    *lo = 0;
    *hi = UINT32_MAX;
    switch (ds->op) {
    case CG_DS_EQ: *lo = *hi = a; break;
    case CG_DS_LT:
        if (a == 0)
            return 0;
        *hi = a - 1;
        break;
    case CG_DS_GT:
        if (a == UINT32_MAX)
            return 0;
        *lo = a + 1;
        break;
    case CG_DS_LE: *hi = a; break;
    case CG_DS_GE: *lo = a; break;
    case CG_DS_RANGE:
        if (b <= a + 1ull)
            return 0;
        *lo = a + 1;
        *hi = b - 1;
        break;
    default: break;
    }
    return 1;
}

/* Splits a group's rule list into prefiltered rules (compiled into a literal
 * database, or loaded from *blob) and the always-checked rest. */
static int cmp_lenspan(const void *a, const void *b)
{
    uint32_t x = ((const lenspan *)a)->from, y = ((const lenspan *)b)->from;
    return x < y ? -1 : x > y;
}

/* gr->span (packet groups) from its pattern rules ids[0..n). */
static int build_spans(cg_detect *d, group *gr, const unsigned *ids, uint32_t n)
{
    lenspan *sp = calloc(2 * (size_t)n + 1, sizeof *sp);
    uint32_t *u_ids = malloc(((2 * (size_t)n + 1) * SPAN_CHECKS + 1) * sizeof *u_ids);
    if (!sp || !u_ids) {
        free(sp);
        free(u_ids);
        return -1;
    }
    uint32_t ns = 0, nu = 0;
    sp[ns++].from = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t lo, hi;
        if (!dsize_span(&d->rules[ids[k]].dsize, &lo, &hi))
            continue;
        sp[ns++].from = lo;
        if (hi < UINT32_MAX)
            sp[ns++].from = hi + 1;
    }
    qsort(sp, ns, sizeof *sp, cmp_lenspan);
    uint32_t u = 0;
    for (uint32_t i = 0; i < ns; i++)
        if (u == 0 || sp[u - 1].from != sp[i].from)
            sp[u++] = sp[i];
    ns = u;
    u = 0;
    for (uint32_t i = 0; i < ns; i++) {
        lenspan x = { sp[i].from, 0, nu, 0 };
        for (uint32_t k = 0; k < n; k++) {
            const cg_rule *r = &d->rules[ids[k]];
            uint32_t lo, hi;
            if (!dsize_span(&r->dsize, &lo, &hi) || x.from < lo || x.from > hi)
                continue;
            uint32_t reach = rule_reach(r);
            if (reach < UINT32_MAX) {
                if (reach > x.reach)
                    x.reach = reach;
            } else if (x.reach < UINT32_MAX && x.n < SPAN_CHECKS && rule_gated(r)) {
                u_ids[x.off + x.n++] = ids[k];
            } else {
                x.reach = UINT32_MAX; /* too many to check: scan it all */
                x.n = 0;
            }
        }
        /* the same as the span before: one span */
        if (u > 0 && sp[u - 1].reach == x.reach && sp[u - 1].n == x.n &&
            !memcmp(&u_ids[sp[u - 1].off], &u_ids[x.off], x.n * sizeof *u_ids))
            continue;
        nu += x.n;
        sp[u++] = x;
    }
    if (u == 1 && sp[0].reach == UINT32_MAX) { /* every payload whole: no spans */
        free(sp);
        free(u_ids);
        return 0;
    }
    gr->span = sp;
    gr->nspan = u;
    gr->uids = u_ids;
    return 0;
}

/* The bytes of a len-byte payload of packet p that group gr scans. Sets
 * w->fb_short when a rule was left out for a flowbit test (isset, isnotset)
 * that fails. */
static uint32_t scan_len(cg_detect_worker *w, const group *gr, const cg_packet *p, uint32_t len)
{
    if (!gr->span)
        return len;
    uint32_t lo = 0, hi = gr->nspan;
    while (hi - lo > 1) { /* the last span starting at or before len */
        uint32_t mid = (lo + hi) / 2;
        if (gr->span[mid].from <= len)
            lo = mid;
        else
            hi = mid;
    }
    const lenspan *x = &gr->span[lo];
    if (x->reach >= len)
        return len;
    for (uint32_t i = 0; i < x->n; i++) {
        const cg_rule *r = &w->d->rules[gr->uids[x->off + i]];
        if (!cg_flowbits_check(r, w->bits)) {
            w->fb_short = 1;
            continue;
        }
        if (cg_verify_flowinfo(r, p, w->fi) && cg_verify_header(r, p, w->f, w->to_server))
            return len;
    }
    return x->reach;
}

/* Whether variant v's patterns (those of ids[0..n) whose rule can match
 * address class v) are those of variant u. */
static int same_variant(const cg_detect *d, const unsigned *ids, uint32_t n, int u, int v)
{
    for (uint32_t i = 0; i < n; i++)
        if (((d->amask[ids[i]] >> u) ^ (d->amask[ids[i]] >> v)) & 1)
            return 0;
    return 1;
}

/* One database per address class of the patterns exprs[0..n) (ids their
 * rules), classes with the same patterns sharing one. The arrays are
 * reordered in place. */
static int compile_variants(cg_detect *d, group *gr, const char **exprs, unsigned *flags,
                            unsigned *ids, size_t *lens, uint32_t n, char *err, size_t errlen)
{
    for (int v = 0; v < NACLS; v++) {
        gr->vsame[v] = (uint8_t)v;
        int u = 0;
        while (u < v && !same_variant(d, ids, n, u, v))
            u++;
        if (u < v) {
            gr->vsame[v] = (uint8_t)u;
            gr->db[v] = gr->db[u];
            continue;
        }
        uint32_t m = 0; /* this class's patterns first */
        for (uint32_t i = 0; i < n; i++)
            if (d->amask[ids[i]] >> v & 1) {
                const char *e = exprs[i];
                exprs[i] = exprs[m];
                exprs[m] = e;
                unsigned f = flags[i];
                flags[i] = flags[m];
                flags[m] = f;
                unsigned x = ids[i];
                ids[i] = ids[m];
                ids[m] = x;
                size_t l = lens[i];
                lens[i] = lens[m];
                lens[m] = l;
                m++;
            }
        if (m == 0)
            continue;
        hs_compile_error_t *ce = NULL;
        if (hs_compile_lit_multi(exprs, flags, ids, lens, m, HS_MODE_BLOCK, NULL, &gr->db[v],
                                 &ce) != HS_SUCCESS) {
            snprintf(err, errlen, "hyperscan: cannot compile a database: %s (pattern %d)",
                     ce ? ce->message : "?", ce ? ce->expression : -1);
            hs_free_compile_error(ce);
            return -1;
        }
    }
    return 0;
}

static void group_free_dbs(group *gr)
{
    for (int v = 0; v < NACLS; v++) {
        if (gr->vsame[v] == v)
            hs_free_database(gr->db[v]);
        gr->db[v] = NULL;
        gr->vsame[v] = (uint8_t)v;
    }
}

static int compile_group(cg_detect *d, group *gr, int bound, char *err, size_t errlen)
{
    uint32_t n = gr->nalways, na = 0, np = 0;
    uint32_t *all = gr->always;
    const char **exprs = calloc(n ? n : 1, sizeof *exprs);
    unsigned *flags = calloc(n ? n : 1, sizeof *flags);
    unsigned *ids = calloc(n ? n : 1, sizeof *ids);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    uint32_t *always = calloc(n ? n : 1, sizeof *always);
    int rc = -1;
    if (!exprs || !flags || !ids || !lens || !always) {
        snprintf(err, errlen, "out of memory building the detection engine");
        goto out;
    }
    for (uint32_t k = 0; k < n; k++) {
        const cg_rule *r = &d->rules[all[k]];
        const uint8_t *b = NULL;
        uint32_t len = 0;
        int nocase = 0;
        int fb = rule_fp(r, &b, &len, &nocase);
        if (fb < 0 || (gr->fpbuf >= 0 && fb != gr->fpbuf)) {
            always[na++] = all[k];
            continue;
        }
        if (len > FP_SCAN_MAX) { /* its last bytes: the match ends where it does */
            b += len - FP_SCAN_MAX;
            len = FP_SCAN_MAX;
        }
        exprs[np] = (const char *)b;
        lens[np] = len;
        if (len > gr->maxfp)
            gr->maxfp = len;
        ids[np] = all[k];
        flags[np] = HS_FLAG_SINGLEMATCH | (nocase ? HS_FLAG_CASELESS : 0);
        np++;
    }
    gr->npat = np;
    d->info.patterns += np;
    for (uint32_t i = 0; i < np; i++)
        for (int v = 0; v < NACLS; v++)
            d->info.class_patterns[v] += d->amask[ids[i]] >> v & 1;
    if (np > 0 && bound && build_spans(d, gr, ids, np)) {
        snprintf(err, errlen, "out of memory building the detection engine");
        goto out;
    }
    if (np > 0 && !d->info.from_cache &&
        compile_variants(d, gr, exprs, flags, ids, lens, np, err, errlen))
        goto out;
    free(all);
    gr->always = always;
    gr->nalways = na;
    always = NULL;
    rc = 0;
out:
    free(exprs);
    free(flags);
    free(ids);
    free(lens);
    free(always);
    return rc;
}

/* ---- address index of always-checked rules ---------------------------------- */

#define NARROW_ADDRS (1u << 24) /* an address set of at most this many (a /8) is narrow */

/* Addresses in s, saturated at NARROW_ADDRS + 1. */
static uint64_t addrset_size(const cg_addrset *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const uint8_t *lo = s->r[i].lo, *hi = s->r[i].hi;
        if (memcmp(lo, hi, 12) != 0)
            return NARROW_ADDRS + 1ull; /* spans more than 2^32 */
        uint64_t a = ((uint64_t)lo[12] << 24) | ((uint64_t)lo[13] << 16) | (lo[14] << 8) | lo[15];
        uint64_t b = ((uint64_t)hi[12] << 24) | ((uint64_t)hi[13] << 16) | (hi[14] << 8) | hi[15];
        n += b - a + 1;
        if (n > NARROW_ADDRS)
            return NARROW_ADDRS + 1ull;
    }
    return n;
}

/* 0 = stays always-checked, 1 = indexed by source, 2 = by destination. */
static int index_side(const cg_rule *r)
{
    if (r->bidir)
        return 0;
    uint64_t ns = addrset_size(&r->src), nd = addrset_size(&r->dst);
    if (ns > NARROW_ADDRS && nd > NARROW_ADDRS)
        return 0;
    return ns <= nd ? 1 : 2;
}

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* a + 1; 0 when a is the top address (no successor). */
static int addr_next(const uint8_t a[16], uint8_t out[16])
{
    memcpy(out, a, 16);
    for (int i = 15; i >= 0; i--)
        if (++out[i] != 0)
            return 1;
    return 0;
}

static uint64_t be64(const uint8_t *a)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | a[i];
    return v;
}

/* The segment holding the address whose two halves are hi, lo: the last i
 * with lo[i] <= it; lo[0] is the bottom. */
static uint32_t seg_of_key(const addr_index *x, uint64_t hi, uint64_t lo)
{
    uint32_t l = 0, h = x->nseg;
    while (h - l > 1) {
        uint32_t m = (l + h) / 2;
        uint64_t mh = x->key[2 * m], ml = x->key[2 * m + 1];
        if (mh < hi || (mh == hi && ml <= lo))
            l = m;
        else
            h = m;
    }
    return l;
}

static int build_index(const cg_detect *d, addr_index *x, const uint32_t *rules, uint32_t n,
                       int side)
{
    uint32_t nb = 1, cap = 1;
    for (uint32_t k = 0; k < n; k++) {
        const cg_addrset *s = side == 1 ? &d->rules[rules[k]].src : &d->rules[rules[k]].dst;
        cap += 2 * s->n;
    }
    uint8_t(*lo)[16] = calloc(cap, 16);
    if (!lo)
        return -1;
    /* lo[0] stays all-zero: the bottom of the address space */
    for (uint32_t k = 0; k < n; k++) {
        const cg_addrset *s = side == 1 ? &d->rules[rules[k]].src : &d->rules[rules[k]].dst;
        for (uint32_t i = 0; i < s->n; i++) {
            memcpy(lo[nb++], s->r[i].lo, 16);
            if (addr_next(s->r[i].hi, lo[nb]))
                nb++;
        }
    }
    qsort(lo, nb, 16, cmp_addr);
    uint32_t u = 0;
    for (uint32_t i = 0; i < nb; i++)
        if (u == 0 || memcmp(lo[u - 1], lo[i], 16) != 0)
            memcpy(lo[u++], lo[i], 16);
    x->nseg = u;
    x->off = calloc((size_t)u + 1, sizeof *x->off);
    x->key = malloc((size_t)u * 2 * sizeof *x->key);
    if (x->key)
        for (uint32_t i = 0; i < u; i++) {
            x->key[2 * i] = be64(lo[i]);
            x->key[2 * i + 1] = be64(lo[i] + 8);
        }
    free(lo);
    if (!x->off || !x->key)
        return -1;
    /* two passes: count each segment's rules, then place them */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t *fill = NULL;
        if (pass == 1) {
            for (uint32_t i = 0; i < u; i++)
                x->off[i + 1] += x->off[i];
            x->ids = malloc(((size_t)x->off[u] + 1) * sizeof *x->ids);
            fill = calloc((size_t)u, sizeof *fill);
            if (!x->ids || !fill) {
                free(fill);
                return -1;
            }
        }
        for (uint32_t k = 0; k < n; k++) {
            const cg_addrset *s = side == 1 ? &d->rules[rules[k]].src : &d->rules[rules[k]].dst;
            for (uint32_t i = 0; i < s->n; i++) {
                uint32_t a = seg_of_key(x, be64(s->r[i].lo), be64(s->r[i].lo + 8));
                uint32_t b = seg_of_key(x, be64(s->r[i].hi), be64(s->r[i].hi + 8));
                for (uint32_t g = a; g <= b; g++) {
                    if (pass == 0)
                        x->off[g + 1]++;
                    else
                        x->ids[x->off[g] + fill[g]++] = rules[k];
                }
            }
        }
        free(fill);
    }
    return 0;
}

/* Moves the group's narrow always-checked rules into its address indexes. */
static int index_group(const cg_detect *d, group *gr)
{
    uint32_t *bysrc = calloc(gr->nalways + 1, sizeof *bysrc);
    uint32_t *bydst = calloc(gr->nalways + 1, sizeof *bydst);
    uint32_t ns = 0, nd = 0, na = 0;
    int rc = -1;
    if (!bysrc || !bydst)
        goto out;
    for (uint32_t k = 0; k < gr->nalways; k++) {
        uint32_t ri = gr->always[k];
        switch (index_side(&d->rules[ri])) {
        case 1: bysrc[ns++] = ri; break;
        case 2: bydst[nd++] = ri; break;
        default: gr->always[na++] = ri; break;
        }
    }
    gr->nalways = na;
    if ((ns && build_index(d, &gr->by_src, bysrc, ns, 1)) ||
        (nd && build_index(d, &gr->by_dst, bydst, nd, 2)))
        goto out;
    rc = 0;
out:
    free(bysrc);
    free(bydst);
    return rc;
}

static void index_free(addr_index *x)
{
    free(x->key);
    free(x->off);
    free(x->ids);
}

/* Calls fn on every group in a fixed order (the cache's slot order). */
#define CL_TX NGCLASS /* FOR_EACH_GROUP's class of the transaction groups */
#define FOR_EACH_GROUP(d, gr, body)                                                   \
    for (int cl_ = 0; cl_ <= CL_TX; cl_++)                                            \
        for (int dir_ = 0; dir_ < 2; dir_++) {                                        \
            uint32_t n_ = cl_ < CL_TX ? (d)->g[cl_][dir_].npg + 1 : CG_BUF_COUNT + 1; \
            for (uint32_t k_ = 0; k_ < n_; k_++) {                                    \
                group *gr = cl_ == CL_TX                                              \
                    ? (k_ < CG_BUF_COUNT ? &(d)->tx[k_][dir_] : &(d)->bodies[dir_])   \
                    : k_ == 0 ? &(d)->g[cl_][dir_].any                                \
                              : &(d)->g[cl_][dir_].pg[k_ - 1];                        \
                body                                                                  \
            }                                                                         \
        }

/* The body buffers: the request or response body and file.data are the same
 * bytes, scanned once against one database. */
static int is_body(int b)
{
    return b == CG_BUF_HTTP_REQUEST_BODY || b == CG_BUF_HTTP_RESPONSE_BODY || b == CG_BUF_FILE_DATA;
}

/* 1 when no group of r is of an application buffer: its application
 * buffers in bufs are those of the messages its header tests (dns.opcode,
 * tls.version) are matched on (rule.h invariant 7). */
static int rule_header_only(const cg_rule *r)
{
    for (uint32_t g = 0; g < r->ngroups; g++) {
        uint8_t b = r->groups[g].buf;
        if (b != CG_BUF_PAYLOAD && b != CG_BUF_STREAM && b < CG_BUF_COUNT)
            return 0;
    }
    return 1;
}

/* The transaction groups. A rule with its fast pattern in an application
 * buffer goes to that buffer's group (a body buffer: the body group); one
 * without (or with it in the payload, beside application buffers) to the
 * group of the first application buffer it inspects, as always-checked
 * whenever that buffer is present; a rule whose application conditions are
 * header tests only, to the group of each buffer of the messages they are
 * matched on; per direction. */
static int build_tx(cg_detect *d)
{
    uint32_t cap[CG_BUF_COUNT][2], bcap[2] = { 0, 0 };
    memset(cap, 0, sizeof cap);
    for (int b = 0; b < CG_BUF_COUNT; b++)
        d->tx[b][0].fpbuf = d->tx[b][1].fpbuf = (int8_t)b;
    d->bodies[0].fpbuf = d->bodies[1].fpbuf = -1;
    for (uint32_t i = 0; i < d->nrules; i++) {
        const cg_rule *r = &d->rules[i];
        if (rule_is_packet(r))
            continue;
        const uint8_t *fpb;
        uint32_t fpl;
        int fpn;
        int fb = rule_fp(r, &fpb, &fpl, &fpn), b = fb;
        if (b < 0)
            for (int k = 0; k < CG_BUF_COUNT && b < 0; k++)
                if (k != CG_BUF_PAYLOAD && k != CG_BUF_STREAM && (r->bufs >> k & 1))
                    b = k;
        if (b < 0)
            continue;
        int header_only = fb < 0 && rule_header_only(r);
        for (int dir = 0; dir < 2; dir++) {
            if (!rule_in_dir(r, dir))
                continue;
            int err = fb >= 0 && is_body(b)
                ? push_u32(&d->bodies[dir].always, &d->bodies[dir].nalways, &bcap[dir], i)
                : push_u32(&d->tx[b][dir].always, &d->tx[b][dir].nalways, &cap[b][dir], i);
            for (int k = b + 1; header_only && k < CG_BUF_COUNT && !err; k++)
                if (r->bufs >> k & 1)
                    err = push_u32(&d->tx[k][dir].always, &d->tx[k][dir].nalways, &cap[k][dir], i);
            if (err)
                return -1;
        }
    }
    return 0;
}

static void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int l = 32;
    if (!EVP_Digest(p, n, out, &l, EVP_sha256(), NULL))
        memset(out, 0, 32);
}

static void cache_key(const cg_ruleset *rs, uint8_t key[32])
{
    uint8_t rh[32];
    hs_platform_info_t plat;
    memset(&plat, 0, sizeof plat);
    hs_populate_platform(&plat);
    cg_ruleset_hash(rs, rh);
    const char *ver = hs_version();
    unsigned lv = LAYOUT_VERSION;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int klen = 32;
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) && EVP_DigestUpdate(c, rh, sizeof rh) &&
        EVP_DigestUpdate(c, ver, strlen(ver)) && EVP_DigestUpdate(c, &plat, sizeof plat) &&
        EVP_DigestUpdate(c, &lv, sizeof lv) && EVP_DigestFinal_ex(c, key, &klen)) {
        EVP_MD_CTX_free(c);
        return;
    }
    EVP_MD_CTX_free(c);
    memset(key, 0, 32);
}

/* The cache file mapped read-only (its pages are the page cache's: no copy). */
static int map_file(const char *path, uint8_t **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    void *m = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && sb.st_size > 0)
        m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -1;
    *out = m;
    *len = (size_t)sb.st_size;
    return 0;
}

/* Loads the databases from the cache file; 1 when every slot was filled. */
static int cache_load(cg_detect *d, const char *path, const uint8_t key[32])
{
    uint8_t *buf = NULL, dig[32];
    size_t len = 0, off = 76;
    uint32_t slots = 0, want = 0;
    if (map_file(path, &buf, &len))
        return 0;
    if (len < 76 || memcmp(buf, "CGHSDB2", 8) || memcmp(buf + 8, key, 32))
        goto bad;
    sha256(buf + 76, len - 76, dig);
    if (memcmp(buf + 44, dig, 32))
        goto bad;
    memcpy(&slots, buf + 40, 4);
    FOR_EACH_GROUP(d, gr, {
        (void)gr;
        want++;
    });
    if (slots != want)
        goto bad;
    uint32_t slot = 0;
    FOR_EACH_GROUP(d, gr, {
        uint32_t s;
        if (off + 4 > len)
            goto bad;
        memcpy(&s, buf + off, 4);
        off += 4;
        if (s != slot)
            goto bad;
        for (int v = 0; v < NACLS; v++) {
            uint64_t l;
            if (off + 9 > len)
                goto bad;
            uint8_t same = buf[off];
            memcpy(&l, buf + off + 1, 8);
            off += 9;
            if (same > v || (same < v && l != 0) || l > len - off)
                goto bad;
            gr->vsame[v] = same;
            if (same < v)
                gr->db[v] = gr->db[same];
            else if (l > 0 &&
                     hs_deserialize_database((const char *)buf + off, l, &gr->db[v]) != HS_SUCCESS)
                goto bad;
            off += l;
        }
        slot++;
    });
    munmap(buf, len);
    return 1;
bad:
    FOR_EACH_GROUP(d, gr, { group_free_dbs(gr); });
    munmap(buf, len);
    return 0;
}

static int buf_put(uint8_t **b, size_t *n, size_t *cap, const void *p, size_t l)
{
    if (*n + l > *cap) {
        size_t nc = *cap ? *cap : 1 << 20;
        while (nc < *n + l)
            nc *= 2;
        uint8_t *nb = realloc(*b, nc);
        if (!nb)
            return -1;
        *b = nb;
        *cap = nc;
    }
    memcpy(*b + *n, p, l);
    *n += l;
    return 0;
}

static void cache_store(cg_detect *d, const char *path, const uint8_t key[32])
{
    uint8_t *b = NULL, dig[32];
    size_t n = 0, cap = 0;
    uint32_t slots = 0, slot = 0;
    int ok = 1;
    FOR_EACH_GROUP(d, gr, {
        (void)gr;
        slots++;
    });
    ok = !buf_put(&b, &n, &cap, "CGHSDB2", 8) && !buf_put(&b, &n, &cap, key, 32) &&
        !buf_put(&b, &n, &cap, &slots, 4) && !buf_put(&b, &n, &cap, dig, 32);
    FOR_EACH_GROUP(d, gr, {
        ok = ok && !buf_put(&b, &n, &cap, &slot, 4);
        for (int v = 0; v < NACLS; v++) {
            char *bytes = NULL;
            size_t l = 0;
            if (gr->vsame[v] == v && gr->db[v] &&
                hs_serialize_database(gr->db[v], &bytes, &l) != HS_SUCCESS)
                ok = 0;
            uint64_t l64 = l;
            ok = ok && !buf_put(&b, &n, &cap, &gr->vsame[v], 1) &&
                !buf_put(&b, &n, &cap, &l64, 8) && (l == 0 || !buf_put(&b, &n, &cap, bytes, l));
            free(bytes);
        }
        slot++;
    });
    if (ok) {
        sha256(b + 76, n - 76, dig);
        memcpy(b + 44, dig, 32);
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (f) {
            ok = fwrite(b, 1, n, f) == n;
            if (fclose(f) != 0)
                ok = 0;
            if (!ok || rename(tmp, path) != 0)
                unlink(tmp);
        }
    }
    free(b);
}

/* mkdir -p; 0 when the directory exists afterwards. */
static int mkdir_p(const char *dir)
{
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- address classes ------------------------------------------------------- */

static int addrset_eq(const cg_addrset *a, const cg_addrset *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->r, b->r, a->n * sizeof *a->r) == 0);
}

static int addrset_is_any(const cg_addrset *a)
{
    static const uint8_t zero[16], ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    return a->n == 1 && memcmp(a->r[0].lo, zero, 16) == 0 && memcmp(a->r[0].hi, ones, 16) == 0;
}

static uint64_t addrset_hash(const cg_addrset *a)
{
    uint64_t h = 1469598103934665603ull ^ a->n;
    const uint8_t *p = (const uint8_t *)a->r;
    for (size_t i = 0; i < a->n * sizeof *a->r; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* The address set that the most rules name as their source or destination,
 * "any" and single ranges of one address aside, into *out (NULL: none is
 * named twice). 0, or -1 when out of memory (not "no pivot": the engine
 * would differ with the memory at hand). */
static int pick_pivot(const cg_detect *d, const cg_addrset **out)
{
    uint32_t cap = 1;
    while (cap < 4 * d->nrules + 4)
        cap <<= 1;
    const cg_addrset **set = calloc(cap, sizeof *set);
    uint32_t *count = calloc(cap, sizeof *count);
    const cg_addrset *best = NULL;
    uint32_t nbest = 1;
    int rc = -1;
    if (!set || !count)
        goto out;
    for (uint32_t i = 0; i < d->nrules; i++)
        for (int side = 0; side < 2; side++) {
            const cg_addrset *a = side ? &d->rules[i].dst : &d->rules[i].src;
            if (a->n == 0 || addrset_is_any(a))
                continue;
            uint32_t k = (uint32_t)addrset_hash(a) & (cap - 1);
            while (set[k] && !addrset_eq(set[k], a))
                k = (k + 1) & (cap - 1);
            set[k] = a;
            if (++count[k] > nbest) {
                nbest = count[k];
                best = a;
            }
        }
    *out = best;
    rc = 0;
out:
    free(set);
    free(count);
    return rc;
}

/* Whether s holds an address of p (in: 1) or outside p (in: 0). */
static int side_can(const cg_addrset *s, const cg_addrset *p, int in)
{
    if (in) { /* do they intersect? */
        uint32_t i = 0, j = 0;
        while (i < s->n && j < p->n) {
            if (memcmp(s->r[i].hi, p->r[j].lo, 16) < 0)
                i++;
            else if (memcmp(p->r[j].hi, s->r[i].lo, 16) < 0)
                j++;
            else
                return 1;
        }
        return 0;
    }
    for (uint32_t i = 0; i < s->n; i++) { /* is s not inside p? */
        uint32_t j = 0;
        while (j < p->n && memcmp(p->r[j].hi, s->r[i].lo, 16) < 0)
            j++;
        if (j == p->n || memcmp(p->r[j].lo, s->r[i].lo, 16) > 0 ||
            memcmp(p->r[j].hi, s->r[i].hi, 16) < 0)
            return 1; /* s->r[i] is not within one range of p */
    }
    return 0;
}

/* The address classes rule r can match (bit v: class v). */
static uint8_t rule_amask(const cg_rule *r, const cg_addrset *p)
{
    uint8_t m = 0;
    for (int v = 0; v < NACLS; v++) {
        int sin = !(v & 1), din = !(v & 2);
        if ((side_can(&r->src, p, sin) && side_can(&r->dst, p, din)) ||
            (r->bidir && side_can(&r->src, p, din) && side_can(&r->dst, p, sin)))
            m |= (uint8_t)(1u << v);
    }
    return m;
}

static int build_amask(cg_detect *d)
{
    d->amask = malloc(d->nrules ? d->nrules : 1);
    if (!d->amask)
        return -1;
    if (pick_pivot(d, &d->pivot))
        return -1;
    for (uint32_t i = 0; i < d->nrules; i++)
        d->amask[i] = d->pivot ? rule_amask(&d->rules[i], d->pivot) : (1u << NACLS) - 1;
    return 0;
}

/* The address class of p's ends. */
static uint8_t addr_class(const cg_detect *d, const cg_packet *p)
{
    if (!d->pivot)
        return 0;
    return (uint8_t)((cg_addrset_match(d->pivot, p->src) ? 0 : 1) |
                     (cg_addrset_match(d->pivot, p->dst) ? 0 : 2));
}

int cg_detect_build(cg_detect **out, const cg_ruleset *rs, const char *cache_dir, char *err,
                    size_t errlen)
{
    double t0 = now_s();
    cg_detect *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->rules = cg_ruleset_rules(rs, &d->nrules);
    d->order = calloc(d->nrules ? d->nrules : 1, sizeof *d->order);
    if (!d->order)
        goto oom;
    d->rflags = calloc(d->nrules ? d->nrules : 1, 1);
    if (!d->rflags)
        goto oom;
    for (uint32_t i = 0; i < d->nrules; i++) {
        const cg_rule *r = &d->rules[i];
        d->order[i] = (r->action == CG_ACT_PASS ? 0 : 0x80000000u) | i;
        d->rflags[i] = (uint8_t)((rule_anchored(r) ? RF_ANCHORED : 0) |
                                 ((r->bufs & PAYLOAD_BITS) && !rule_is_packet(r) ? RF_MIXED : 0) |
                                 (rule_flowbit(r, CG_FB_SET) || rule_flowbit(r, CG_FB_UNSET) ||
                                          rule_flowbit(r, CG_FB_TOGGLE)
                                      ? RF_SETBITS
                                      : 0));
    }
    if (build_amask(d))
        goto oom;
    for (int cl = 0; cl < NGCLASS; cl++)
        for (int dir = 0; dir < 2; dir++)
            if (build_dgroup(d, cl, dir))
                goto oom;
    if (build_tx(d))
        goto oom;
    d->flowbit_words = CG_FLOWBITS_WORDS(cg_ruleset_flowbits(rs));
    d->flowints = cg_ruleset_flowints(rs);
    for (uint32_t i = 0; i < d->nrules; i++) {
        const cg_rule *r = &d->rules[i];
        if ((r->bufs & ~PAYLOAD_BITS) || r->app_proto != CG_APP_NONE || r->app_match)
            d->needs_app = 1;
    }

    uint8_t key[32];
    char path[512] = "";
    if (cache_dir && *cache_dir) {
        static const char hexd[] = "0123456789abcdef";
        char hex[65];
        cache_key(rs, key);
        for (int i = 0; i < 32; i++) {
            hex[2 * i] = hexd[key[i] >> 4];
            hex[2 * i + 1] = hexd[key[i] & 15];
        }
        hex[64] = 0;
        if (mkdir_p(cache_dir) != 0) {
            /* no cache: still works */
        } else {
            snprintf(path, sizeof path, "%s/%.16s.hsdb", cache_dir, hex);
            d->info.from_cache = cache_load(d, path, key);
        }
    }
    FOR_EACH_GROUP(d, gr, {
        if (compile_group(d, gr, cl_ != CL_STREAM && cl_ != CL_TX, err, errlen))
            goto fail;
        uint32_t before = gr->nalways;
        if (cl_ != CL_TX && index_group(d, gr))
            goto oom;
        if (cl_ != CL_TCPS && cl_ != CL_STREAM)
            d->info.addr_indexed += before - gr->nalways;
        for (int v = 0; v < NACLS; v++)
            if (gr->db[v] && gr->vsame[v] == v) {
                size_t sz = 0;
                hs_database_size(gr->db[v], &sz);
                d->info.db_bytes += sz;
                d->info.databases++;
            }
        if (cl_ == CL_STREAM) {
            d->info.stream_rules += gr->npat + before;
        } else if (cl_ == CL_TCPS) {
            /* the same rules as CL_TCP's, fewer */
        } else if (cl_ == CL_TX) {
            d->info.tx_prefiltered += gr->npat;
            d->info.tx_always += gr->nalways;
        } else {
            d->info.prefiltered += gr->npat;
            d->info.always += gr->nalways;
        }
        if (k_ > 0 && cl_ < NCLASS)
            d->info.port_groups++;
    });
    if (*path && !d->info.from_cache)
        cache_store(d, path, key);
    snprintf(d->info.cache_path, sizeof d->info.cache_path, "%s", path);
    d->info.rules = d->nrules;
    d->info.build_seconds = now_s() - t0;
    *out = d;
    return 0;
oom:
    snprintf(err, errlen, "out of memory building the detection engine");
fail:
    cg_detect_destroy(d);
    return -1;
}

void cg_detect_destroy(cg_detect *d)
{
    if (!d)
        return;
    FOR_EACH_GROUP(d, gr, {
        group_free_dbs(gr);
        free(gr->span);
        free(gr->uids);
        free(gr->always);
        index_free(&gr->by_src);
        index_free(&gr->by_dst);
    });
    for (int cl = 0; cl < NGCLASS; cl++)
        for (int dir = 0; dir < 2; dir++) {
            free(d->g[cl][dir].pg);
            free(d->g[cl][dir].port_map);
        }
    free(d->order);
    free(d->rflags);
    free(d->amask);
    free(d);
}

void cg_detect_get_info(const cg_detect *d, cg_detect_info *out)
{
    *out = d->info;
}

/* ---- worker ---------------------------------------------------------------- */

int cg_detect_worker_create(cg_detect_worker **out, const cg_detect *d, char *err, size_t errlen)
{
    return cg_detect_worker_create_shared(out, d, NULL, err, errlen);
}

int cg_detect_worker_create_shared(cg_detect_worker **out, const cg_detect *d,
                                   const cg_detect_shared *sh, char *err, size_t errlen)
{
    cg_detect_worker *w = calloc(1, sizeof *w);
    if (!w)
        goto oom;
    w->d = d;
    uint32_t n = d->nrules ? d->nrules : 1;
    w->cand = calloc(n, sizeof *w->cand);
    w->stamp = calloc(n, sizeof *w->stamp);
    w->hit = calloc(n, sizeof *w->hit);
    w->hstamp = calloc(n, sizeof *w->hstamp);
    if (!w->cand || !w->stamp || !w->hit || !w->hstamp || cg_verify_ctx_init(&w->vc))
        goto oom;
    if (sh && sh->th && sh->xb) {
        w->th = sh->th;
        w->xb = sh->xb;
        w->gate = sh->gate;
    } else {
        w->own_tables = 1;
        if (cg_threshold_create(&w->th, THRESHOLD_SLOTS) || cg_xbits_create(&w->xb, XBITS_SLOTS))
            goto oom;
    }
    FOR_EACH_GROUP((cg_detect *)d, gr, {
        for (int v = 0; v < NACLS; v++) {
            hs_error_t he = gr->db[v] ? hs_alloc_scratch(gr->db[v], &w->scratch) : HS_SUCCESS;
            if (he != HS_SUCCESS) {
                snprintf(err, errlen, "hyperscan: cannot allocate scratch space%s",
                         he == HS_NOMEM ? ": out of memory" : "");
                cg_detect_worker_destroy(w);
                return -1;
            }
        }
    });
    *out = w;
    return 0;
oom:
    snprintf(err, errlen, "out of memory creating a detection worker");
    cg_detect_worker_destroy(w);
    return -1;
}

void cg_detect_worker_destroy(cg_detect_worker *w)
{
    if (!w)
        return;
    hs_free_scratch(w->scratch);
    cg_verify_ctx_free(&w->vc);
    if (w->own_tables) {
        cg_threshold_destroy(w->th);
        cg_xbits_destroy(w->xb);
    }
    free(w->cand);
    free(w->stamp);
    free(w->hit);
    free(w->hstamp);
    free(w);
}

void cg_detect_worker_add_stats(cg_detect_worker *w, const cg_detect_stats *s)
{
    cg_detect_stats *t = &w->st;
    t->packets += s->packets;
    t->scanned_bytes += s->scanned_bytes;
    t->candidates += s->candidates;
    t->matches += s->matches;
    t->alerts += s->alerts;
    t->suppressed += s->suppressed;
    t->alerts_dropped += s->alerts_dropped;
    t->scan_errors += s->scan_errors;
    t->stream_inspections += s->stream_inspections;
    t->stream_scanned_bytes += s->stream_scanned_bytes;
    t->stream_new_bytes += s->stream_new_bytes;
    t->stream_alerts += s->stream_alerts;
    t->transactions += s->transactions;
    t->tx_scanned_bytes += s->tx_scanned_bytes;
    t->tx_alerts += s->tx_alerts;
    w->vc.pcre_errors += s->pcre_errors;
}

const cg_detect_hit *cg_detect_alert_hit(const cg_detect_worker *w, uint32_t i)
{
    return i < MAX_ALERTS ? &w->ahits[i] : NULL;
}

void cg_detect_worker_stats(const cg_detect_worker *w, cg_detect_stats *out)
{
    *out = w->st;
    out->pcre_errors = w->vc.pcre_errors;
    /* shared tables: their counters are the pipeline's to read */
    out->threshold_full = w->own_tables ? cg_threshold_reclaimed(w->th) : 0;
    out->xbits_full = w->own_tables ? cg_xbits_reclaimed(w->xb) : 0;
}

static inline void add_cand(cg_detect_worker *w, uint32_t ri)
{
    if (w->stamp[ri] == w->gen)
        return;
    w->stamp[ri] = w->gen;
    w->cand[w->ncand++] = w->d->order[ri];
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    cg_detect_worker *w = ctx;
    if (!(w->d->rflags[id] & RF_ANCHORED))
        w->hits++;                 /* an anchored rule never needs old bytes */
    if (w->hstamp[id] != w->gen) { /* the first match of the inspection */
        w->hstamp[id] = w->gen;
        w->hit[id] = w->view;
        w->hit[id].match_end = w->scan_off + (uint32_t)to;
    }
    add_cand(w, id);
    return 0;
}

static void index_cands(cg_detect_worker *w, const addr_index *x, const uint8_t a[16])
{
    if (x->nseg == 0)
        return;
    uint32_t g = seg_of_key(x, be64(a), be64(a + 8));
    for (uint32_t i = x->off[g]; i < x->off[g + 1]; i++)
        add_cand(w, x->ids[i]);
}

/* The candidates of a group for packet p's addresses and the bytes data:
 * of those, what its spans say (scan_len; all with w->full); with from > 0,
 * only the patterns that
 * end at or after data[from] (the bytes before it are known to hold none of
 * the group's patterns). */
static void scan_group(cg_detect_worker *w, const group *gr, const cg_packet *p,
                       const uint8_t *data, uint32_t len, uint32_t from, uint64_t *scanned)
{
    for (uint32_t i = 0; i < gr->nalways; i++)
        if (w->d->amask[gr->always[i]] >> w->acls & 1)
            add_cand(w, gr->always[i]);
    index_cands(w, &gr->by_src, p->src);
    index_cands(w, &gr->by_dst, p->dst);
    const hs_database_t *db = gr->db[w->acls];
    if (!db || len == 0)
        return;
    uint32_t n = w->full ? len : scan_len(w, gr, p, len);
    w->scan_off = 0;
    if (from > 0 && gr->maxfp > 0) {
        uint32_t back = from >= gr->maxfp - 1 ? from - (gr->maxfp - 1) : 0;
        data += back;
        n = n > back ? n - back : 0;
        w->scan_off = back;
    }
    if (n == 0)
        return;
    if (hs_scan(db, (const char *)data, n, 0, w->scratch, on_match, w) != HS_SUCCESS) {
        w->st.scan_errors++;
        w->hits++; /* what it missed may lie in the next window */
    }
    *scanned += n;
}

/* A class/direction's any-port group and the group of p's key port. */
static void scan_dgroup(cg_detect_worker *w, const dgroup *g, const cg_packet *p,
                        const uint8_t *data, uint32_t len, uint32_t from, uint64_t *scanned)
{
    scan_group(w, &g->any, p, data, len, from, scanned);
    if (g->port_map && (p->flags & CG_PKT_HAS_PORTS)) {
        uint16_t pg = g->port_map[g->key_sport ? p->sport : p->dport];
        if (pg)
            scan_group(w, &g->pg[pg - 1], p, data, len, from, scanned);
    }
}

/* In-place heap sort: no allocation on the packet path. */
static void sift(uint32_t *a, uint32_t i, uint32_t n)
{
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < n && a[l] > a[m])
            m = l;
        if (l + 1 < n && a[l + 1] > a[m])
            m = l + 1;
        if (m == i)
            return;
        uint32_t t = a[i];
        a[i] = a[m];
        a[m] = t;
        i = m;
    }
}

static void sort_u32(uint32_t *a, uint32_t n)
{
    if (n < 2)
        return;
    for (uint32_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (uint32_t e = n - 1; e > 0; e--) {
        uint32_t t = a[0];
        a[0] = a[e];
        a[e] = t;
        sift(a, 0, e);
    }
}

static int class_of(uint8_t proto)
{
    switch (proto) {
    case 6: return CL_TCP;
    case 17: return CL_UDP;
    case 1:
    case 58: return CL_ICMP;
    default: return CL_OTHER;
    }
}

/* A new inspection: fresh candidate stamps. */
static void begin(cg_detect_worker *w)
{
    if (++w->gen == 0) { /* wrapped: clear stamps once per 2^32 inspections */
        memset(w->stamp, 0, w->d->nrules * sizeof *w->stamp);
        memset(w->hstamp, 0, w->d->nrules * sizeof *w->hstamp);
        w->gen = 1;
    }
    w->ncand = 0;
}

/* The views of a stream inspection (cg_detect_stream): the window, and the
 * bytes of it inspected before (old, maybe empty). */
typedef struct stream_views {
    const cg_bufset *win, *old;
    uint32_t old_len;
} stream_views;

/* Whether rule r matches; on the stream (sv), what it matches must need the
 * new bytes (bs): it matches them alone, or it matches the window but not
 * the old bytes alone. An anchored rule is matched on the new bytes only. */
static int rule_matches(cg_detect_worker *w, uint32_t ri, const cg_bufset *bs,
                        const stream_views *sv)
{
    const cg_rule *r = &w->d->rules[ri];
    if (cg_verify_rule(&w->vc, r, bs))
        return 1;
    if (!sv || sv->old_len == 0 || (w->d->rflags[ri] & RF_ANCHORED))
        return 0;
    return cg_verify_rule(&w->vc, r, sv->win) && !cg_verify_rule(&w->vc, r, sv->old);
}

/* Where rule ri's alert was raised: its first fast-pattern match in this
 * inspection; else the inspection's bytes (a packet's payload, a stream
 * window) or, on a transaction, the first instance of the first buffer of
 * the rule the transaction has. */
static void hit_of(const cg_detect_worker *w, uint32_t ri, const cg_bufset *bs, cg_detect_hit *out)
{
    if (w->hstamp[ri] == w->gen) {
        const uint8_t *fp;
        uint32_t fplen;
        int nocase;
        *out = w->hit[ri];
        out->match_len = rule_fp(&w->d->rules[ri], &fp, &fplen, &nocase) >= 0 ? fplen : 0;
        if (out->match_len > out->match_end)
            out->match_len = 0;
        return;
    }
    *out = w->view;
    out->match_end = CG_DETECT_NO_MATCH;
    out->match_len = 0;
    if (out->data)
        return;
    uint64_t have = w->d->rules[ri].bufs & bs->present & ~PAYLOAD_BITS;
    for (int b = 0; b < CG_BUF_COUNT; b++)
        if (have >> b & 1) {
            out->buf = (uint8_t)b;
            out->data = bs->v[b][0].p;
            out->len = bs->v[b][0].len;
            return;
        }
    out->buf = CG_BUF_PAYLOAD;
    out->data = bs->n[CG_BUF_PAYLOAD] ? bs->v[CG_BUF_PAYLOAD][0].p : NULL;
    out->len = bs->n[CG_BUF_PAYLOAD] ? bs->v[CG_BUF_PAYLOAD][0].len : 0;
}

/* Verifies the candidates on the buffer set bs and raises the alerts (flow,
 * flowbits, thresholds, pass rules, noalert, the alert buffer's bound): in
 * the order verify.h gives. */
static uint32_t verify_cands(cg_detect_worker *w, const cg_packet *p, const cg_flow *f,
                             int to_server, const cg_bufset *bs, const stream_views *sv)
{
    const cg_detect *d = w->d;
    uint32_t nalerts = 0;
    sort_u32(w->cand, w->ncand);
    w->st.candidates += w->ncand;
    for (uint32_t i = 0; i < w->ncand; i++) {
        uint32_t ri = w->cand[i] & 0x7fffffffu;
        const cg_rule *r = &d->rules[ri];
        if (!cg_verify_header(r, p, f, to_server) || !cg_verify_flowinfo(r, p, w->fi) ||
            !cg_flowbits_check(r, w->bits) ||
            (r->nflowints && !cg_flowints_check(r, w->bits ? w->bits + d->flowbit_words : NULL)) ||
            !rule_matches(w, ri, bs, sv))
            continue;
        /* what spans flows (xbits, thresholds) is looked at under the gate,
         * for the rules that use it */
        int shared = w->gate &&
            (r->nxbits || r->threshold.type != CG_TH_NONE || r->filter.type != CG_TH_NONE);
        if (shared)
            w->gate->enter(w->gate->ctx);
        if (r->nxbits && !cg_xbits_check(w->xb, r, p->src, p->dst, p->ts_us)) {
            if (shared)
                w->gate->leave(w->gate->ctx);
            continue;
        }
        if (w->bits)
            cg_flowbits_apply(r, w->bits);
        if (w->bits && r->nflowints)
            cg_flowints_apply(r, w->bits + d->flowbit_words);
        if (r->nxbits)
            cg_xbits_apply(w->xb, r, p->src, p->dst, p->ts_us);
        w->st.matches++;
        if (r->action == CG_ACT_PASS) {
            if (shared)
                w->gate->leave(w->gate->ctx);
            w->st.suppressed += nalerts;
            nalerts = 0;
            w->st.suppressed += 1;
            break; /* a pass rule silences the inspection */
        }
        if (r->noalert) {
            if (shared)
                w->gate->leave(w->gate->ctx);
            continue;
        }
        int ok = cg_threshold_check(w->th, &r->threshold, ri, p->src, p->dst, p->ts_us);
        if (ok && r->filter.type != CG_TH_NONE)
            ok = cg_threshold_check(w->th, &r->filter, ri, p->src, p->dst, p->ts_us);
        if (shared)
            w->gate->leave(w->gate->ctx);
        if (!ok) {
            w->st.suppressed++;
            continue;
        }
        if (nalerts == MAX_ALERTS) {
            w->st.alerts_dropped++;
            continue;
        }
        hit_of(w, ri, bs, &w->ahits[nalerts]);
        w->alerts[nalerts++] = r;
    }
    w->st.alerts += nalerts;
    return nalerts;
}

void cg_detect_set_flow(cg_detect_worker *w, uint64_t *bits, const cg_flowinfo *fi)
{
    w->bits = bits;
    w->fi = fi;
}

uint32_t cg_detect_flowbit_words(const cg_detect *d)
{
    return d->flowbit_words + d->flowints;
}

int cg_detect_needs_app(const cg_detect *d)
{
    return d->needs_app;
}

static uint32_t detect_packet(cg_detect_worker *w, int cl, const cg_packet *p, const cg_flow *f,
                              int to_server, const cg_rule *const **alerts)
{
    *alerts = w->alerts;
    if (p->ipver == 0)
        return 0;
    w->st.packets++;
    begin(w);
    const dgroup *g = &w->d->g[cl][to_server ? 0 : 1];
    w->f = f;
    w->to_server = to_server;
    w->full = 0;
    w->fb_short = 0;
    w->view = (cg_detect_hit){ CG_BUF_PAYLOAD, p->payload, p->payload_len, 0, 0 };
    w->acls = addr_class(w->d, p);
    scan_dgroup(w, g, p, p->payload, p->payload_len, 0, &w->st.scanned_bytes);
    if (w->fb_short && w->bits) {
        /* a rule was not looked for because of a flowbit it tests; a
         * candidate may change that flowbit in this packet */
        for (uint32_t i = 0; i < w->ncand; i++)
            if (w->d->rflags[w->cand[i] & 0x7fffffffu] & RF_SETBITS) {
                w->full = 1;
                scan_dgroup(w, g, p, p->payload, p->payload_len, 0, &w->st.scanned_bytes);
                break;
            }
    }
    if (w->ncand == 0)
        return 0;
    cg_bufset_clear(&w->pbs);
    cg_bufset_add(&w->pbs, CG_BUF_PAYLOAD, p->payload ? p->payload : (const uint8_t *)"",
                  p->payload_len);
    return verify_cands(w, p, f, to_server, &w->pbs, NULL);
}

uint32_t cg_detect_packet(cg_detect_worker *w, const cg_packet *p, const cg_flow *f, int to_server,
                          const cg_rule *const **alerts)
{
    return detect_packet(w, class_of(p->proto), p, f, to_server, alerts);
}

uint32_t cg_detect_packet_streamed(cg_detect_worker *w, const cg_packet *p, const cg_flow *f,
                                   int to_server, const cg_rule *const **alerts)
{
    return detect_packet(w, p->proto == 6 ? CL_TCPS : class_of(p->proto), p, f, to_server, alerts);
}

uint32_t cg_detect_stream(cg_detect_worker *w, const uint8_t *data, uint32_t len, uint32_t new_from,
                          uint8_t *tail, const cg_packet *p, const cg_flow *f, int to_server,
                          const cg_rule *const **alerts)
{
    *alerts = w->alerts;
    if (new_from >= len)
        return 0;
    uint32_t from = new_from > CG_DETECT_LOOKBACK ? new_from - CG_DETECT_LOOKBACK : 0;
    data += from;
    len -= from;
    new_from -= from;
    w->st.stream_inspections++;
    w->st.stream_new_bytes += len - new_from;
    begin(w);
    /* The window's old bytes are scanned again only when a pattern of a
     * rule that is not anchored was seen in the previous inspection: else
     * none lies in them (the previous window reached 1 KiB before its own
     * new bytes, and so on back; an anchored rule is matched on new bytes
     * only), and only the patterns that end in the new bytes can be
     * candidates. */
    uint64_t hits = w->hits;
    w->view = (cg_detect_hit){ CG_BUF_STREAM, data, len, 0, 0 };
    w->acls = addr_class(w->d, p);
    scan_dgroup(w, &w->d->g[CL_STREAM][to_server ? 0 : 1], p, data, len, *tail ? 0 : new_from,
                &w->st.stream_scanned_bytes);
    *tail = w->hits != hits;
    if (w->ncand == 0)
        return 0;
    cg_bufset_clear(&w->pbs);
    cg_bufset_add(&w->pbs, CG_BUF_STREAM, data + new_from, len - new_from);
    cg_bufset_clear(&w->wbs);
    cg_bufset_add(&w->wbs, CG_BUF_STREAM, data, len);
    cg_bufset_clear(&w->obs);
    cg_bufset_add(&w->obs, CG_BUF_STREAM, data, new_from);
    stream_views sv = { &w->wbs, &w->obs, new_from };
    uint32_t n = verify_cands(w, p, f, to_server, &w->pbs, &sv);
    w->st.stream_alerts += n;
    return n;
}

uint32_t cg_detect_tx(cg_detect_worker *w, const cg_bufset *bs, const uint8_t *stream,
                      uint32_t stream_len, const cg_packet *p, const cg_flow *f, int to_server,
                      const cg_rule *const **alerts)
{
    const cg_detect *d = w->d;
    int dir = to_server ? 0 : 1;
    const cg_bufview *scanned_body = NULL;
    *alerts = w->alerts;
    w->st.transactions++;
    begin(w);
    w->scan_off = 0;
    w->acls = addr_class(d, p);
    for (int b = 0; b < CG_BUF_COUNT; b++) {
        if (!(bs->present >> b & 1))
            continue;
        const group *gr = &d->tx[b][dir];
        for (uint32_t i = 0; i < gr->nalways; i++)
            if (d->amask[gr->always[i]] >> w->acls & 1)
                add_cand(w, gr->always[i]);
        if (is_body(b))
            gr = &d->bodies[dir];
        const hs_database_t *db = gr->db[w->acls];
        if (!db)
            continue;
        for (uint32_t k = 0; k < bs->n[b]; k++) {
            const cg_bufview *v = &bs->v[b][k];
            if (v->len == 0)
                continue;
            if (is_body(b)) {
                if (scanned_body && scanned_body->p == v->p && scanned_body->len == v->len)
                    continue; /* the same bytes under another name */
                scanned_body = v;
            }
            w->view = (cg_detect_hit){ (uint8_t)b, v->p, v->len, 0, 0 };
            if (hs_scan(db, (const char *)v->p, v->len, 0, w->scratch, on_match, w) != HS_SUCCESS)
                w->st.scan_errors++;
            w->st.tx_scanned_bytes += v->len;
        }
    }
    w->view = (cg_detect_hit){ 0, NULL, 0, 0, 0 }; /* hit_of: the rule's buffer */
    if (w->ncand == 0)
        return 0;
    /* rules that match payload bytes too see the direction's stream and the
     * packet */
    for (uint32_t i = 0; i < w->ncand; i++)
        if (d->rflags[w->cand[i] & 0x7fffffffu] & RF_MIXED) {
            memcpy(&w->xbs, bs, sizeof w->xbs);
            if (stream && stream_len)
                cg_bufset_add(&w->xbs, CG_BUF_STREAM, stream, stream_len);
            if (p->payload && p->payload_len)
                cg_bufset_add(&w->xbs, CG_BUF_PAYLOAD, p->payload, p->payload_len);
            bs = &w->xbs;
            break;
        }
    uint32_t n = verify_cands(w, p, f, to_server, bs, NULL);
    w->st.tx_alerts += n;
    return n;
}
