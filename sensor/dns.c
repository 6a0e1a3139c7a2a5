/* dns.c — DNS message parser (RFC 1035 §4, names §3.1 and §4.1.4), and the
 * 2-byte length framing of DNS over TCP (RFC 1035 §4.2.2, RFC 7766 §8).
 * The contract, the buffers made and the rules on names are in dns.h.
 *
 * Header (§4.1.1), 12 bytes:
 *                                     1  1  1  1  1  1
 *       0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *     |                      ID                       |
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *     |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *     |                    QDCOUNT                    |
 *     |                    ANCOUNT                    |
 *     |                    NSCOUNT                    |
 *     |                    ARCOUNT                    |
 *     +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 * Question (§4.1.2): QNAME, QTYPE (2), QCLASS (2).
 * Resource record (§4.1.3): NAME, TYPE (2), CLASS (2), TTL (4), RDLENGTH (2),
 * RDATA (RDLENGTH bytes).
 * Name (§3.1, §4.1.4): labels, each a length byte 0..63 and that many bytes,
 * ending with the root (a 0 byte) or with a pointer: two bytes 11xxxxxx
 * xxxxxxxx whose 14 low bits are the offset, from the message's first byte,
 * of the rest of the name.
 *
 * Invariants:
 *  1. Every read is at an offset checked against len first (the span of
 *     extract.h); nothing outside msg[0..len) is read. Offsets are uint32_t
 *     and never pass len + 65535, so no sum wraps.
 *  2. A name walk keeps `floor`, the offset where its current run of labels
 *     began; a pointer must go strictly below it, and becomes the new floor.
 *     The floor falls at every jump, so a walk makes at most min(offset,
 *     CG_DNS_MAX_HOPS) jumps, and reads at most 255 label bytes: bounded work
 *     for any input.
 *  3. A name is written to the scratch only as it is walked, and is handed
 *     out only when the walk ends well; the scratch is never written past
 *     scratch_len.
 *  4. No allocation, no global state.
 */
#include "sensor/dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sensor/extract.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_MX 15
#define T_TXT 16
#define T_AAAA 28
#define DOTTED_MAX 253 /* the longest dotted name a 255-byte wire name gives */

/* The message as read: captured bytes and the length it claims. */
typedef struct dmsg {
    cg_span s;     /* msg[0..len) */
    uint32_t wire; /* wire_len */
} dmsg;

/* n bytes at off: OK, or where they run out (see dns.h, truncated vs invalid). */
static int need(const dmsg *d, uint32_t off, uint32_t n, const uint8_t **out)
{
    if (off > d->wire || n > d->wire - off)
        return CG_EMALFORMED;
    *out = cg_span_at(&d->s, off, n);
    return *out ? CG_OK : CG_ETRUNCATED;
}

/* A name being written out: dotted text into [p, p+cap). */
typedef struct nout {
    uint8_t *p;
    uint32_t cap, len;
    int full; /* it did not fit: not handed out */
} nout;

static void nout_put(nout *o, const uint8_t *b, uint32_t n, int dot)
{
    if (!o || o->full)
        return;
    if ((uint32_t)dot + n > o->cap - o->len) {
        o->full = 1;
        return;
    }
    if (dot)
        o->p[o->len++] = '.';
    memcpy(o->p + o->len, b, n);
    o->len += n;
}

/* Which rule a pointer from the run starting at floor (the pointer itself at
 * at) to target breaks, target >= floor being known. runs[] holds the runs
 * walked before the current one, as [start, end) offsets. */
static int bad_jump(uint32_t target, uint32_t floor, uint32_t at, const uint32_t (*runs)[2],
                    unsigned nruns)
{
    if (target >= floor && target < at + 2)
        return CG_EDNS_LOOP;
    for (unsigned i = 0; i < nruns; i++)
        if (target >= runs[i][0] && target < runs[i][1])
            return CG_EDNS_LOOP;
    return CG_EDNS_PTR_FORWARD;
}

/* Walks the name at *off; moves *off past it (past its first pointer, or its
 * root byte). Writes it dotted to o when o is not NULL. */
static int name_walk(const dmsg *d, uint32_t *off, nout *o, uint32_t *err_off)
{
    uint32_t pos = *off, floor = *off, wire = 0, end = 0;
    uint32_t runs[CG_DNS_MAX_HOPS][2];
    unsigned hops = 0;
    int first = 1, rc;
    const uint8_t *b;

    for (;;) {
        *err_off = pos;
        if ((rc = need(d, pos, 1, &b)) != CG_OK)
            return rc;
        uint8_t l = b[0];
        if (l == 0) {
            if (!end)
                end = pos + 1;
            break;
        }
        if ((l & 0xc0) == 0xc0) {
            if ((rc = need(d, pos, 2, &b)) != CG_OK)
                return rc;
            uint32_t target = cg_be16(b) & 0x3fffu;
            if (!end)
                end = pos + 2;
            if (target < CG_DNS_HEADER || target >= d->wire)
                return CG_EDNS_PTR_RANGE;
            if (target >= floor)
                return bad_jump(target, floor, pos, (const uint32_t(*)[2])runs, hops);
            if (hops == CG_DNS_MAX_HOPS)
                return CG_EDNS_HOPS;
            runs[hops][0] = floor;
            runs[hops][1] = pos + 2;
            hops++;
            pos = floor = target;
            continue;
        }
        if (l > CG_DNS_MAX_LABEL)
            return CG_EDNS_LABEL;
        wire += 1u + l;
        if (wire + 1u > CG_DNS_MAX_NAME)
            return CG_EDNS_NAME_LEN;
        if ((rc = need(d, pos + 1, l, &b)) != CG_OK)
            return rc;
        nout_put(o, b, l, !first);
        first = 0;
        pos += 1u + l;
    }
    *off = end;
    return CG_OK;
}

/* The names inside the RDATA of the types that hold them, each within the
 * RDATA's bounds (their pointers may go anywhere before). */
static int rdata_names(const dmsg *d, uint16_t type, uint32_t off, uint32_t rdlen,
                       uint32_t *err_off)
{
    uint32_t end = off + rdlen;
    int names, rc;

    switch (type) {
    case T_NS:
    case T_CNAME:
    case T_PTR: names = 1; break;
    case T_MX:
        names = 1;
        off += 2;
        break;
    case T_SOA: names = 2; break;
    default: return CG_OK;
    }
    for (int i = 0; i < names; i++) {
        if (off >= end)
            return *err_off = off, CG_EMALFORMED;
        if ((rc = name_walk(d, &off, NULL, err_off)) != CG_OK)
            return rc;
        if (off > end)
            return *err_off = end, CG_EMALFORMED;
    }
    if (type == T_SOA && end - off != 20)
        return *err_off = off, CG_EMALFORMED;
    if (type != T_SOA && off != end)
        return *err_off = off, CG_EMALFORMED;
    return CG_OK;
}

static void count_error(cg_dns_stats *st, int rc)
{
    if (rc == CG_OK)
        return;
    if (rc == CG_ETRUNCATED) {
        st->truncated++;
        return;
    }
    st->invalid++;
    switch (rc) {
    case CG_EDNS_LABEL: st->long_labels++; break;
    case CG_EDNS_NAME_LEN: st->long_names++; break;
    case CG_EDNS_LOOP: st->loops++; break;
    case CG_EDNS_PTR_FORWARD: st->forward_pointers++; break;
    case CG_EDNS_PTR_RANGE: st->bad_pointers++; break;
    case CG_EDNS_HOPS: st->too_many_hops++; break;
    default: break;
    }
}

/* ---- detail (cg_dns_parse_detail) ---- */

/* A place for up to DOTTED_MAX bytes of a name in det's text, or a nout that
 * keeps nothing when there is no room. */
static nout det_room(cg_dns_detail *det, uint32_t cap)
{
    nout o = { NULL, 0, 0, 1 };
    if (det && CG_DNS_DETAIL_TEXT - det->used >= cap)
        o = (nout){ (uint8_t *)det->text + det->used, cap, 0, 0 };
    return o;
}

/* The RDATA of an answer as text, at the end of det's text: a view, or NULL
 * for a type without a text form, or when it does not fit. The RDATA (rdlen
 * bytes at off) was read and checked whole (rdata_names). */
static const char *rdata_text(const dmsg *d, cg_dns_detail *det, uint16_t type, uint32_t off,
                              uint32_t rdlen, uint16_t *tlen)
{
    char *t = det->text + det->used;
    uint32_t room = CG_DNS_DETAIL_TEXT - det->used;
    const uint8_t *b = cg_span_at(&d->s, off, rdlen);
    uint32_t err, n = 0;
    if (!b)
        return NULL;
    switch (type) {
    case T_A:
        if (rdlen != 4 || room < 16)
            return NULL;
        n = (uint32_t)snprintf(t, room, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        break;
    case T_AAAA:
        if (rdlen != 16 || room < INET6_ADDRSTRLEN || !inet_ntop(AF_INET6, b, t, room))
            return NULL;
        n = (uint32_t)strlen(t);
        break;
    case T_CNAME:
    case T_NS:
    case T_PTR:
    case T_MX: {
        nout o = det_room(det, DOTTED_MAX);
        uint32_t at = off + (type == T_MX ? 2 : 0);
        if (o.full || name_walk(d, &at, &o, &err) != CG_OK || o.full)
            return NULL;
        n = o.len;
        break;
    }
    case T_TXT:
        /* character-strings, each a length byte and its bytes: joined */
        for (uint32_t i = 0; i < rdlen; i += 1u + b[i])
            for (uint32_t k = 1; k <= b[i] && i + k < rdlen && n < room; k++)
                t[n++] = (char)b[i + k];
        break;
    default: return NULL;
    }
    det->used += n;
    *tlen = (uint16_t)n;
    return t;
}

static int parse(const dmsg *d, uint8_t *scratch, uint32_t scratch_len, cg_bufset *out,
                 cg_dns_msg *m, cg_dns_stats *st, cg_dns_detail *det)
{
    const uint8_t *h, *b;
    uint32_t off = CG_DNS_HEADER, used = 0;
    int rc;

    m->err_off = 0;
    if ((rc = need(d, 0, CG_DNS_HEADER, &h)) != CG_OK)
        return rc;
    m->id = cg_be16(h);
    m->flags = cg_be16(h + 2);
    m->qr = (uint8_t)(m->flags >> 15);
    m->opcode = (uint8_t)((m->flags >> 11) & 0x0f);
    m->rcode = (uint8_t)(m->flags & 0x0f);
    m->qdcount = cg_be16(h + 4);
    m->ancount = cg_be16(h + 6);
    m->nscount = cg_be16(h + 8);
    m->arcount = cg_be16(h + 10);
    out->dns_opcode = m->opcode;
    if (m->qr)
        st->responses++;
    else
        st->queries++;

    for (uint32_t i = 0; i < m->qdcount; i++) {
        uint32_t room = scratch_len > used ? scratch_len - used : 0;
        nout o = { scratch ? scratch + used : NULL, room > 253 ? 253 : room, 0, 0 };
        int keep = !m->qr;
        /* with a detail the name is written there, and copied to the scratch */
        nout dn = det_room(det && det->nq < CG_DNS_DETAIL_QUESTIONS ? det : NULL, DOTTED_MAX);
        nout *wo = !dn.full ? &dn : keep ? &o : NULL;
        if ((rc = name_walk(d, &off, wo, &m->err_off)) != CG_OK)
            return rc;
        m->err_off = off;
        if ((rc = need(d, off, 4, &b)) != CG_OK)
            return rc;
        off += 4;
        m->questions++;
        st->questions++;
        if (wo == &dn) {
            det->q[det->nq++] =
                (cg_dns_question){ (const char *)dn.p, (uint16_t)dn.len, cg_be16(b) };
            det->used += dn.len;
            if (keep && o.p && dn.len <= o.cap)
                memcpy(o.p, dn.p, o.len = dn.len);
            else
                o.full = 1;
        } else if (det) {
            det->q_dropped++;
        }
        if (!keep)
            continue;
        if (o.full || !scratch || out->n[CG_BUF_DNS_QUERY] >= CG_BUF_MAX_INST) {
            st->names_dropped++;
            continue;
        }
        cg_bufset_add(out, CG_BUF_DNS_QUERY, scratch + used, o.len);
        used += o.len;
    }

    uint32_t nrr = (uint32_t)m->ancount + m->nscount + m->arcount;
    for (uint32_t i = 0; i < nrr; i++) {
        int ans = det && i < m->ancount;
        nout dn = det_room(ans && det->nan < CG_DNS_DETAIL_ANSWERS ? det : NULL, DOTTED_MAX);
        if ((rc = name_walk(d, &off, dn.full ? NULL : &dn, &m->err_off)) != CG_OK)
            return rc;
        m->err_off = off;
        if ((rc = need(d, off, 10, &b)) != CG_OK)
            return rc;
        uint16_t type = cg_be16(b);
        uint32_t ttl = cg_be32(b + 4);
        uint32_t rdlen = cg_be16(b + 8);
        off += 10;
        m->err_off = off;
        if ((rc = need(d, off, rdlen, &b)) != CG_OK)
            return rc;
        if ((rc = rdata_names(d, type, off, rdlen, &m->err_off)) != CG_OK)
            return rc;
        if (!dn.full) {
            cg_dns_answer *a = &det->an[det->nan++];
            *a = (cg_dns_answer){ (const char *)dn.p, (uint16_t)dn.len, type, ttl, NULL, 0 };
            det->used += dn.len;
            a->rdata = rdata_text(d, det, type, off, rdlen, &a->rdata_len);
        } else if (ans) {
            det->an_dropped++;
        }
        off += rdlen;
        m->records++;
    }
    m->err_off = 0;
    return CG_OK;
}

int cg_dns_parse(const uint8_t *msg, uint32_t len, uint32_t wire_len, uint8_t *scratch,
                 uint32_t scratch_len, cg_bufset *out, cg_dns_msg *m, cg_dns_stats *st)
{
    return cg_dns_parse_detail(msg, len, wire_len, scratch, scratch_len, out, m, st, NULL);
}

int cg_dns_parse_detail(const uint8_t *msg, uint32_t len, uint32_t wire_len, uint8_t *scratch,
                        uint32_t scratch_len, cg_bufset *out, cg_dns_msg *m, cg_dns_stats *st,
                        cg_dns_detail *det)
{
    cg_dns_msg local;
    dmsg d;

    if (!wire_len || wire_len < len)
        wire_len = len;
    d.s = cg_span_make(msg, len);
    d.wire = wire_len;
    if (!m)
        m = &local;
    memset(m, 0, sizeof *m);
    cg_bufset_clear(out);
    if (det)
        det->nq = det->nan = det->q_dropped = det->an_dropped = 0, det->used = 0;
    st->messages++;
    int rc = parse(&d, scratch, scratch_len, out, m, st, det);
    count_error(st, rc);
    return rc;
}

const char *cg_dns_type_name(uint16_t type)
{
    /* RFC 1035 and later; the names Suricata writes */
    static const struct {
        uint16_t t;
        const char *n;
    } names[] = {
        { 1, "A" },       { 2, "NS" },        { 3, "MD" },       { 4, "MF" },
        { 5, "CNAME" },   { 6, "SOA" },       { 7, "MB" },       { 8, "MG" },
        { 9, "MR" },      { 10, "NULL" },     { 11, "WKS" },     { 12, "PTR" },
        { 13, "HINFO" },  { 14, "MINFO" },    { 15, "MX" },      { 16, "TXT" },
        { 17, "RP" },     { 18, "AFSDB" },    { 19, "X25" },     { 20, "ISDN" },
        { 21, "RT" },     { 22, "NSAP" },     { 23, "NSAPPTR" }, { 24, "SIG" },
        { 25, "KEY" },    { 26, "PX" },       { 27, "GPOS" },    { 28, "AAAA" },
        { 29, "LOC" },    { 30, "NXT" },      { 33, "SRV" },     { 34, "ATMA" },
        { 35, "NAPTR" },  { 36, "KX" },       { 37, "CERT" },    { 38, "A6" },
        { 39, "DNAME" },  { 41, "OPT" },      { 42, "APL" },     { 43, "DS" },
        { 44, "SSHFP" },  { 45, "IPSECKEY" }, { 46, "RRSIG" },   { 47, "NSEC" },
        { 48, "DNSKEY" }, { 49, "DHCID" },    { 50, "NSEC3" },   { 51, "NSEC3PARAM" },
        { 52, "TLSA" },   { 55, "HIP" },      { 59, "CDS" },     { 60, "CDNSKEY" },
        { 64, "SVCB" },   { 65, "HTTPS" },    { 99, "SPF" },     { 249, "TKEY" },
        { 250, "TSIG" },  { 253, "MAILA" },   { 255, "ANY" },    { 256, "URI" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].t == type)
            return names[i].n;
    return NULL;
}

const char *cg_dns_rcode_name(uint8_t rcode)
{
    static const char *const names[] = {
        "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
    };
    return rcode < sizeof names / sizeof names[0] ? names[rcode] : NULL;
}

/* ---- TCP framing ---------------------------------------------------------
 *
 * States of a direction:
 *   PREFIX --2 bytes--> BODY --need bytes--> (message out) --> PREFIX
 *   any --gap--> LOST;  any --end--> DONE
 * In BODY, got counts the message's bytes seen, have those kept in buf
 * (have == min(got, KEEP) while the message is buffered; 0 when it is handed
 * out as a view of the piece).
 */
enum { S_PREFIX = 0, S_BODY, S_LOST, S_DONE };

int cg_dns_tcp_next(cg_dns_tcp *t, const uint8_t **data, uint32_t *len, cg_dns_frame *f,
                    cg_dns_stats *st)
{
    const uint8_t *p = *data;
    uint32_t n = *len;
    int out = 0;

    if (t->state == S_LOST || t->state == S_DONE) {
        *data = p + n;
        *len = 0;
        return 0;
    }
    while (n > 0 && !out) {
        if (t->state == S_PREFIX) {
            if (t->pfx == 0) {
                t->pfx0 = p[0];
                t->pfx = 1;
                p++, n--;
                continue;
            }
            t->need = (uint16_t)((uint16_t)t->pfx0 << 8 | p[0]);
            t->pfx = 0;
            p++, n--;
            t->state = S_BODY;
            t->got = t->have = 0;
            if (t->need == 0) {
                f->msg = t->buf;
                f->len = f->wire_len = 0;
                t->state = S_PREFIX;
                out = 1;
            }
            continue;
        }
        /* S_BODY */
        uint32_t left = t->need - t->got;
        if (t->got == 0 && n >= left) {
            /* whole in this piece: a view */
            f->msg = p;
            f->len = left < CG_DNS_TCP_KEEP ? left : CG_DNS_TCP_KEEP;
            f->wire_len = t->need;
            p += left, n -= left;
            t->state = S_PREFIX;
            out = 1;
            continue;
        }
        uint32_t take = n < left ? n : left;
        if (t->have < CG_DNS_TCP_KEEP) {
            uint32_t room = CG_DNS_TCP_KEEP - t->have;
            uint32_t c = take < room ? take : room;
            memcpy(t->buf + t->have, p, c);
            t->have += c;
        }
        t->got += take;
        p += take, n -= take;
        if (t->got == t->need) {
            f->msg = t->buf;
            f->len = t->have;
            f->wire_len = t->need;
            t->state = S_PREFIX;
            out = 1;
        }
    }
    if (out) {
        st->tcp_messages++;
        if (f->len < f->wire_len)
            st->tcp_clipped++;
    }
    *data = p;
    *len = n;
    return out;
}

void cg_dns_tcp_gap(cg_dns_tcp *t, cg_dns_stats *st)
{
    if (t->state == S_LOST || t->state == S_DONE)
        return;
    if (t->state == S_BODY)
        st->tcp_partial++;
    st->tcp_lost++;
    t->state = S_LOST;
}

int cg_dns_tcp_end(cg_dns_tcp *t, cg_dns_frame *f, cg_dns_stats *st)
{
    int out = 0;
    if (t->state == S_BODY) {
        f->msg = t->buf;
        f->len = t->have;
        f->wire_len = t->need;
        st->tcp_partial++;
        out = 1;
    }
    t->state = S_DONE;
    return out;
}
