/* verify.c — full rule verification for a candidate (see verify.h for the
 * semantics, which follow Suricata's content inspection). */
#include "analyzer/verify.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

static const uint8_t lower_tab[256] = {
#define L(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define R4(b) L(b), L(b + 1), L(b + 2), L(b + 3)
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
#define R64(b) R16(b), R16(b + 16), R16(b + 32), R16(b + 48)
    R64(0), R64(64), R64(128), R64(192)
#undef R64
#undef R16
#undef R4
#undef L
};

/* First occurrence of n[0..nl) in h[0..hl), or NULL. */
static const uint8_t *find(const uint8_t *h, uint32_t hl, const uint8_t *n, uint32_t nl,
                           int nocase)
{
    if (nl == 0 || nl > hl)
        return nl == 0 ? h : NULL;
    if (!nocase)
        return memmem(h, hl, n, nl);
    uint8_t f = lower_tab[n[0]];
    const uint8_t *end = h + hl - nl;
    for (const uint8_t *p = h; p <= end; p++) {
        if (lower_tab[*p] != f)
            continue;
        uint32_t i = 1;
        while (i < nl && lower_tab[p[i]] == lower_tab[n[i]])
            i++;
        if (i == nl)
            return p;
    }
    return NULL;
}

static int is_relative(const cg_match *m)
{
    if (m->type == CG_M_CONTENT)
        return (m->u.c.flags & (CG_C_DISTANCE | CG_C_WITHIN)) != 0;
    return (m->u.p.flags & CG_P_RELATIVE) != 0;
}

/* Index of the next match item of buffer b after i, or n. */
static uint32_t next_item(const cg_rule *r, uint32_t i, uint8_t b)
{
    for (i++; i < r->nmatch; i++)
        if (r->matches[i].buf == b)
            break;
    return i;
}

static int match_from(cg_verify_ctx *vc, const cg_rule *r, uint32_t idx, uint8_t b,
                      const uint8_t *buf, uint32_t len, uint32_t prev_end);

static int match_content(cg_verify_ctx *vc, const cg_rule *r, uint32_t idx, uint8_t b,
                         const uint8_t *buf, uint32_t len, uint32_t prev_end)
{
    const cg_content *c = &r->matches[idx].u.c;
    uint32_t nxt = next_item(r, idx, b);
    int next_rel = nxt < r->nmatch && is_relative(&r->matches[nxt]);
    int neg = (c->flags & CG_C_NEGATED) != 0;
    int64_t start, end;

    if (c->flags & (CG_C_DISTANCE | CG_C_WITHIN)) {
        int64_t dist = (c->flags & CG_C_DISTANCE) ? c->distance : 0;
        start = (int64_t)prev_end + dist;
        if (start < 0)
            start = 0;
        end = len;
        if ((c->flags & CG_C_WITHIN) && end > (int64_t)prev_end + c->within + dist)
            end = (int64_t)prev_end + c->within + dist;
        if ((c->flags & CG_C_DEPTH) && end > (int64_t)prev_end + c->depth)
            end = (int64_t)prev_end + c->depth;
        if ((c->flags & CG_C_OFFSET) && c->offset > start)
            start = c->offset;
    } else {
        start = (c->flags & CG_C_OFFSET) ? c->offset : 0;
        end = (c->flags & CG_C_DEPTH) ? start + c->depth : len;
    }
    if (c->flags & CG_C_STARTSWITH) {
        if (!(c->flags & (CG_C_DISTANCE | CG_C_WITHIN)))
            start = 0;
        if (end > start + c->len)
            end = start + c->len;
    }
    if (end > len)
        end = len;

    for (;;) {
        if (vc->budget == 0)
            return 0;
        vc->budget--;
        const uint8_t *found = NULL;
        if (start <= end && end > 0 && !((c->flags & CG_C_ENDSWITH) && end < len))
            found = find(buf + start, (uint32_t)(end - start), c->bytes, c->len,
                         c->flags & CG_C_NOCASE);
        if (!found)
            return neg ? match_from(vc, r, nxt, b, buf, len, prev_end) : 0;
        uint32_t mend = (uint32_t)(found - buf) + c->len;
        if (neg) {
            if ((c->flags & CG_C_ENDSWITH) && mend != end)
                return match_from(vc, r, nxt, b, buf, len, prev_end);
            return 0;
        }
        if (!(c->flags & CG_C_ENDSWITH) || mend == len) {
            if (match_from(vc, r, nxt, b, buf, len, mend))
                return 1;
            if (!next_rel)
                return 0;
        }
        start = (found - buf) + 1;   /* retry with a later occurrence */
    }
}

static int match_pcre(cg_verify_ctx *vc, const cg_rule *r, uint32_t idx, uint8_t b,
                      const uint8_t *buf, uint32_t len, uint32_t prev_end)
{
    const cg_pcre *pc = &r->matches[idx].u.p;
    uint32_t nxt = next_item(r, idx, b);
    int next_rel = nxt < r->nmatch && is_relative(&r->matches[nxt]);
    int neg = (pc->flags & CG_P_NEGATED) != 0;
    /* A relative pcre sees the buffer from the previous match's end, as its
     * subject (so ^ anchors there, as in Suricata); offsets are rebased. */
    uint32_t base = (pc->flags & CG_P_RELATIVE) ? prev_end : 0;
    PCRE2_SIZE start = 0;
    pcre2_match_data *md = vc->match_data;

    if (base > len)
        return neg ? match_from(vc, r, nxt, b, buf, len, prev_end) : 0;

    for (;;) {
        if (vc->budget == 0)
            return 0;
        vc->budget--;
        if (start > len - base)
            return neg ? match_from(vc, r, nxt, b, buf, len, prev_end) : 0;
        int rc = pcre2_match((const pcre2_code *)pc->code, buf + base, len - base, start, 0,
                             md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            return neg ? match_from(vc, r, nxt, b, buf, len, prev_end) : 0;
        if (rc < 0) {
            vc->pcre_errors++;
            return 0;
        }
        if (neg)
            return 0;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        PCRE2_SIZE mstart = ov[0], mend = ov[1];
        if (match_from(vc, r, nxt, b, buf, len, base + (uint32_t)mend))
            return 1;
        if (!next_rel)
            return 0;
        start = mstart + 1;
    }
}

static int match_from(cg_verify_ctx *vc, const cg_rule *r, uint32_t idx, uint8_t b,
                      const uint8_t *buf, uint32_t len, uint32_t prev_end)
{
    if (idx >= r->nmatch)
        return 1;
    if (r->matches[idx].type == CG_M_CONTENT)
        return match_content(vc, r, idx, b, buf, len, prev_end);
    return match_pcre(vc, r, idx, b, buf, len, prev_end);
}

int cg_verify_buffer(cg_verify_ctx *vc, const cg_rule *r, uint8_t buf_id,
                     const uint8_t *buf, uint32_t len)
{
    uint32_t first = 0;
    while (first < r->nmatch && r->matches[first].buf != buf_id)
        first++;
    vc->budget = CG_VERIFY_BUDGET;
    if (buf == NULL) {
        static const uint8_t empty[1];
        buf = empty;
        len = 0;
    }
    return match_from(vc, r, first, buf_id, buf, len, 0);
}

static int proto_ok(const cg_rule *r, const cg_packet *p)
{
    switch (r->proto) {
    case CG_RP_TCP: case CG_RP_HTTP: case CG_RP_TLS:
        return p->proto == 6;
    case CG_RP_UDP:
        return p->proto == 17;
    case CG_RP_DNS:
        return p->proto == 6 || p->proto == 17;
    case CG_RP_ICMP:
        return p->proto == 1 || p->proto == 58;
    default:
        return 1;
    }
}

static int ends_ok(const cg_rule *r, const uint8_t *s, const uint8_t *d, uint16_t sp,
                   uint16_t dp, int ports)
{
    if (!cg_addrset_match(&r->src, s) || !cg_addrset_match(&r->dst, d))
        return 0;
    if (ports && (!cg_portset_match(&r->sport, sp) || !cg_portset_match(&r->dport, dp)))
        return 0;
    return 1;
}

static int dsize_ok(const cg_dsize *ds, uint32_t n)
{
    switch (ds->op) {
    case CG_DS_EQ: return n == ds->a;
    case CG_DS_NE: return n != ds->a;
    case CG_DS_LT: return n < ds->a;
    case CG_DS_GT: return n > ds->a;
    case CG_DS_LE: return n <= ds->a;
    case CG_DS_GE: return n >= ds->a;
    case CG_DS_RANGE: return n > ds->a && n < ds->b;
    default: return 1;
    }
}

int cg_verify_header(const cg_rule *r, const cg_packet *p, const cg_flow *f, int to_server)
{
    if (!proto_ok(r, p))
        return 0;
    int ports = (p->flags & CG_PKT_HAS_PORTS) != 0;
    if (!ends_ok(r, p->src, p->dst, p->sport, p->dport, ports) &&
        !(r->bidir && ends_ok(r, p->dst, p->src, p->dport, p->sport, ports)))
        return 0;
    if (r->flow & (CG_F_TO_SERVER | CG_F_TO_CLIENT | CG_F_ESTABLISHED)) {
        if (f == NULL)
            return 0;
        if ((r->flow & CG_F_TO_SERVER) && !to_server)
            return 0;
        if ((r->flow & CG_F_TO_CLIENT) && to_server)
            return 0;
        if ((r->flow & CG_F_ESTABLISHED) && !cg_flow_established(f))
            return 0;
    }
    if ((r->flow & CG_F_NOT_ESTABLISHED) && f && cg_flow_established(f))
        return 0;
    return dsize_ok(&r->dsize, p->payload_len);
}
