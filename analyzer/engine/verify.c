/* verify.c — full rule verification for a candidate (see verify.h for the
 * semantics, which follow Suricata's content inspection: user guide "Payload
 * Keywords", "Transformations", "Flow Keywords").
 *
 * A group is matched by match_from(): a recursion over the group's items in
 * rule order carrying the cursor (the end of the last match). An item that
 * finds its pattern calls match_from() for the rest; when the rest fails and
 * an item relative to this match follows, the next occurrence is tried. Every
 * search step costs one unit of vc->budget. */
#include "analyzer/engine/verify.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <openssl/evp.h>
#include <stdlib.h>
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

int cg_verify_ctx_init(cg_verify_ctx *vc)
{
    memset(vc, 0, sizeof *vc);
    vc->match_data = pcre2_match_data_create(1, NULL);
    vc->scratch = malloc(CG_VERIFY_SCRATCH + 8);
    vc->b64 = malloc(CG_VERIFY_B64_IN / 4 * 3 + 3);
    if (!vc->match_data || !vc->scratch || !vc->b64) {
        cg_verify_ctx_free(vc);
        return -1;
    }
    return 0;
}

void cg_verify_ctx_free(cg_verify_ctx *vc)
{
    if (!vc)
        return;
    pcre2_match_data_free(vc->match_data);
    free(vc->scratch);
    free(vc->b64);
    vc->match_data = NULL;
    vc->scratch = NULL;
    vc->b64 = NULL;
}

int cg_uint_match(const cg_uint *u, uint64_t v)
{
    switch (u->op) {
    case CG_U_EQ: return v == u->a;
    case CG_U_NE: return v != u->a;
    case CG_U_LT: return v < u->a;
    case CG_U_GT: return v > u->a;
    case CG_U_LE: return v <= u->a;
    case CG_U_GE: return v >= u->a;
    case CG_U_RANGE: return v > u->a && v < u->b;
    case CG_U_NRANGE: return v <= u->a || v >= u->b;
    case CG_U_MASK_EQ: return (v & u->a) == u->b;
    case CG_U_MASK_NE: return (v & u->a) != u->b;
    default: return 1;
    }
}

/* ---- one group on one buffer ---------------------------------------------- */

typedef struct chain {
    cg_verify_ctx *vc;
    const cg_rule *r;
    uint8_t grp;
    const uint8_t *buf;
    uint32_t len;
} chain;

/* First occurrence of n[0..nl) in h[0..hl), or NULL. */
static const uint8_t *find(const uint8_t *h, uint32_t hl, const uint8_t *n, uint32_t nl, int nocase)
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
    switch (m->type) {
    case CG_M_CONTENT: return (m->u.c.flags & (CG_C_DISTANCE | CG_C_WITHIN)) != 0;
    case CG_M_PCRE: return (m->u.p.flags & CG_P_RELATIVE) != 0;
    case CG_M_ISDATAAT: return (m->u.d.flags & CG_D_RELATIVE) != 0;
    case CG_M_BYTE_TEST:
    case CG_M_BYTE_JUMP:
    case CG_M_BYTE_EXTRACT: return (m->u.b.flags & CG_B_RELATIVE) != 0;
    case CG_M_BASE64: return m->u.b64.relative;
    default: return 0;
    }
}

/* Index of the next item of group g after i, or nmatch. */
static uint32_t next_item(const cg_rule *r, uint32_t i, uint8_t g)
{
    for (i++; i < r->nmatch; i++)
        if (r->matches[i].grp == g)
            break;
    return i;
}

/* Does an item relative to the match of item i (content or pcre) follow: a
 * relative item before the next content or pcre, or that one if relative? A
 * later occurrence of i can only help then (Suricata's RELATIVE_NEXT). */
static int relative_follows(const cg_rule *r, uint32_t i, uint8_t g)
{
    for (uint32_t j = next_item(r, i, g); j < r->nmatch; j = next_item(r, j, g)) {
        const cg_match *m = &r->matches[j];
        if (is_relative(m))
            return 1;
        if (m->type == CG_M_CONTENT || m->type == CG_M_PCRE)
            return 0;
    }
    return 0;
}

/* A variable's value as a signed 32-bit position (Suricata casts the same way;
 * larger values stay large). */
static int64_t var32(const cg_verify_ctx *vc, int32_t idx)
{
    uint64_t v = vc->vars[idx & (CG_BYTE_VARS - 1)];
    return v > INT32_MAX ? INT32_MAX : (int64_t)v;
}

static int match_from(chain *c, uint32_t idx, uint32_t prev_end);

static int match_content(chain *ch, uint32_t idx, uint32_t prev_end)
{
    const cg_rule *r = ch->r;
    const cg_content *c = &r->matches[idx].u.c;
    const uint8_t *buf = ch->buf;
    uint32_t len = ch->len, nxt = next_item(r, idx, ch->grp);
    int retry = relative_follows(r, idx, ch->grp);
    int neg = (c->flags & CG_C_NEGATED) != 0;
    int64_t start, end;

    if (c->flags & (CG_C_DISTANCE | CG_C_WITHIN)) {
        int64_t dist = 0;
        if (c->flags & CG_C_DISTANCE)
            dist = (c->flags & CG_C_DISTANCE_VAR) ? var32(ch->vc, c->distance) : c->distance;
        start = (int64_t)prev_end + dist;
        if (start < 0)
            start = 0;
        end = len;
        if (c->flags & CG_C_WITHIN) {
            int64_t w = (c->flags & CG_C_WITHIN_VAR) ? var32(ch->vc, c->within) : c->within;
            if (end > (int64_t)prev_end + w + dist)
                end = (int64_t)prev_end + w + dist;
        }
    } else {
        start = 0;
        if (c->flags & CG_C_OFFSET)
            start = (c->flags & CG_C_OFFSET_VAR) ? var32(ch->vc, c->offset) : c->offset;
        end = len;
        if (c->flags & CG_C_DEPTH)
            end = start + ((c->flags & CG_C_DEPTH_VAR) ? var32(ch->vc, c->depth) : c->depth);
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
        if (ch->vc->budget == 0)
            return 0;
        ch->vc->budget--;
        const uint8_t *found = NULL;
        if (start <= end && end > 0 && !((c->flags & CG_C_ENDSWITH) && end < len))
            found = find(buf + start, (uint32_t)(end - start), c->bytes, c->len,
                         c->flags & CG_C_NOCASE);
        if (!found)
            return neg ? match_from(ch, nxt, prev_end) : 0;
        uint32_t mend = (uint32_t)(found - buf) + c->len;
        if (neg) {
            if ((c->flags & CG_C_ENDSWITH) && mend != end)
                return match_from(ch, nxt, prev_end);
            return 0;
        }
        if (!(c->flags & CG_C_ENDSWITH) || mend == len) {
            if (match_from(ch, nxt, mend))
                return 1;
            if (!retry)
                return 0;
        }
        start = (found - buf) + 1; /* retry with a later occurrence */
    }
}

static int match_pcre(chain *ch, uint32_t idx, uint32_t prev_end)
{
    const cg_rule *r = ch->r;
    const cg_pcre *pc = &r->matches[idx].u.p;
    uint32_t len = ch->len, nxt = next_item(r, idx, ch->grp);
    int retry = relative_follows(r, idx, ch->grp);
    int neg = (pc->flags & CG_P_NEGATED) != 0;
    /* A relative pcre sees the buffer from the previous match's end, as its
     * subject (so ^ anchors there, as in Suricata); offsets are rebased. */
    uint32_t base = (pc->flags & CG_P_RELATIVE) ? prev_end : 0;
    PCRE2_SIZE start = 0;
    pcre2_match_data *md = ch->vc->match_data;

    if (base > len)
        return neg ? match_from(ch, nxt, prev_end) : 0;

    for (;;) {
        if (ch->vc->budget == 0)
            return 0;
        ch->vc->budget--;
        if (start > len - base)
            return neg ? match_from(ch, nxt, prev_end) : 0;
        int rc = pcre2_match((const pcre2_code *)pc->code, ch->buf + base, len - base, start, 0, md,
                             NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            return neg ? match_from(ch, nxt, prev_end) : 0;
        if (rc < 0) {
            ch->vc->pcre_errors++;
            return 0;
        }
        if (neg)
            return 0;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        PCRE2_SIZE mstart = ov[0], mend = ov[1];
        if (match_from(ch, nxt, base + (uint32_t)mend))
            return 1;
        if (!retry)
            return 0;
        start = mstart + 1;
    }
}

static int match_isdataat(chain *ch, uint32_t idx, uint32_t prev_end)
{
    const cg_isdataat *d = &ch->r->matches[idx].u.d;
    uint32_t nxt = next_item(ch->r, idx, ch->grp);
    int neg = (d->flags & CG_D_NEGATED) != 0, have;
    uint64_t pos = (d->flags & CG_D_VAR) ? ch->vc->vars[d->pos & (CG_BYTE_VARS - 1)] : d->pos;

    if (pos >= 100000000) /* Suricata's bound on a variable position */
        have = 0;
    else if (d->flags & CG_D_RELATIVE)
        have = (uint64_t)prev_end + pos <= ch->len;
    else
        have = pos < ch->len;
    return have != neg ? match_from(ch, nxt, prev_end) : 0;
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int digit(uint8_t c, int base)
{
    int v = c >= '0' && c <= '9' ? c - '0'
        : c >= 'a' && c <= 'z'   ? c - 'a' + 10
        : c >= 'A' && c <= 'Z'   ? c - 'A' + 10
                                 : 99;
    return v < base ? v : -1;
}

/* s[0..n) read as strtoull(3) reads it in radix base: the characters used, 0
 * when there is no number or it overflows. */
static uint32_t read_string(const uint8_t *s, uint32_t n, int base, uint64_t *out)
{
    uint32_t i = 0;
    int neg = 0;
    uint64_t v = 0;
    while (i < n && is_space(s[i]))
        i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (base == 16 && i + 2 < n && s[i] == '0' && (s[i + 1] | 0x20) == 'x' &&
        digit(s[i + 2], 16) >= 0)
        i += 2;
    uint32_t d0 = i;
    for (; i < n && digit(s[i], base) >= 0; i++) {
        uint64_t dv = (uint64_t)digit(s[i], base);
        if (v > (UINT64_MAX - dv) / (uint64_t)base)
            return 0;
        v = v * (uint64_t)base + dv;
    }
    if (i == d0)
        return 0;
    *out = neg ? (uint64_t)0 - v : v;
    return i;
}

/* Reads a byte_* operand: the value, where it starts and how many bytes it
 * took. 0 when Suricata's checks refuse (see verify.h). */
static int byte_read(const chain *ch, const cg_byteop *b, uint32_t cursor, uint64_t *val,
                     int64_t *at, uint32_t *used)
{
    const cg_verify_ctx *vc = ch->vc;
    uint64_t nb =
        (b->flags & CG_B_NBYTES_VAR) ? vc->vars[b->nbytes & (CG_BYTE_VARS - 1)] : b->nbytes;
    int64_t off = (b->flags & CG_B_OFFSET_VAR) ? var32(vc, b->offset) : b->offset;
    int str = (b->flags & CG_B_STRING) != 0;

    if (ch->len == 0 || nb > (str ? 23u : 8u))
        return 0;
    int64_t p = off + ((b->flags & CG_B_RELATIVE) ? (int64_t)cursor : 0);
    int64_t left = (int64_t)ch->len - p;
    if ((b->flags & CG_B_RELATIVE) && left <= 0)
        return 0;
    if (p < 0 || (int64_t)nb > left)
        return 0;
    const uint8_t *s = ch->buf + p;
    if (str) {
        /* 0 characters: the whole number there, as far as the buffer goes */
        uint32_t k = read_string(s, nb ? (uint32_t)nb : (uint32_t)left, b->base, val);
        if (k == 0)
            return 0;
        *used = k;
    } else {
        uint64_t v = 0;
        for (uint32_t i = 0; i < nb; i++) {
            uint32_t k = (b->flags & CG_B_LITTLE) ? (uint32_t)nb - 1 - i : i;
            v = v << 8 | s[k];
        }
        *val = v;
        *used = (uint32_t)nb;
    }
    if (b->flags & CG_B_BITMASK) {
        *val &= b->bitmask;
        *val >>= __builtin_ctzll(b->bitmask);
    }
    *at = p;
    return 1;
}

static int match_byte(chain *ch, uint32_t idx, uint32_t prev_end)
{
    const cg_match *m = &ch->r->matches[idx];
    const cg_byteop *b = &m->u.b;
    uint32_t nxt = next_item(ch->r, idx, ch->grp), used;
    uint64_t v;
    int64_t at;

    if (ch->vc->budget == 0)
        return 0;
    ch->vc->budget--;
    if (!byte_read(ch, b, prev_end, &v, &at, &used))
        return 0;
    if (m->type == CG_M_BYTE_TEST) {
        uint64_t t =
            (b->flags & CG_B_VALUE_VAR) ? ch->vc->vars[b->value & (CG_BYTE_VARS - 1)] : b->value;
        int ok;
        switch (b->op) {
        case CG_BT_LT: ok = v < t; break;
        case CG_BT_GT: ok = v > t; break;
        case CG_BT_LE: ok = v <= t; break;
        case CG_BT_GE: ok = v >= t; break;
        case CG_BT_AND: ok = (v & t) != 0; break;
        case CG_BT_XOR: ok = (v ^ t) != 0; break;
        default: ok = v == t; break;
        }
        if (b->flags & CG_B_NEGOP)
            ok = !ok;
        return ok ? match_from(ch, nxt, prev_end) : 0;
    }
    v *= b->multiplier;
    if (m->type == CG_M_BYTE_EXTRACT) {
        if ((b->flags & CG_B_ALIGN) && b->align && v % b->align)
            v += b->align - v % b->align;
        ch->vc->vars[b->var & (CG_BYTE_VARS - 1)] = v;
        return match_from(ch, nxt, (uint32_t)(at + used));
    }
    /* byte_jump */
    if ((b->flags & CG_B_ALIGN) && v % 4)
        v += 4 - v % 4;
    v += (uint64_t)(int64_t)b->post_offset;
    int64_t sv = (int64_t)v;
    int64_t from = (b->flags & CG_B_BEGIN) ? 0
        : (b->flags & CG_B_END)            ? (int64_t)ch->len
                                           : at + used;
    if (sv >= (int64_t)ch->len + 1)
        return 0; /* past the end whatever the start */
    int64_t jump = sv < -((int64_t)1 << 40) ? -1 : from + sv;
    if (jump < 0)
        jump = 0; /* before the buffer: its start */
    if (jump >= (int64_t)ch->len)
        return 0;
    return match_from(ch, nxt, (uint32_t)jump);
}

/* ---- base64_decode ---------------------------------------------------------- */

static int b64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
        c == '/';
}

/* Decodes in[0..n) into out up to the first byte that is not a base64 digit
 * ('=' included): whole quads, then what a last 2 or 3 digits give. */
static uint32_t b64_decode(const uint8_t *in, uint32_t n, uint8_t *out)
{
    uint32_t k = 0;
    while (k < n && b64_char(in[k]))
        k++;
    uint32_t full = k & ~3u, rem = k & 3u, o = 0;
    if (full) {
        int r = EVP_DecodeBlock(out, in, (int)full);
        if (r < 0)
            return 0;
        o = (uint32_t)r;
    }
    if (rem >= 2) { /* 'A' (zero bits) completes the quad */
        const unsigned char t[4] = { in[full], in[full + 1], rem == 3 ? in[full + 2] : 'A', 'A' };
        unsigned char d[4];
        if (EVP_DecodeBlock(d, t, 4) == 3) {
            memcpy(out + o, d, rem - 1);
            o += rem - 1;
        }
    }
    return o;
}

/* base64_decode, then its base64_data group on what it decoded, then the
 * rest of this group's chain. */
static int match_b64(chain *ch, uint32_t idx, uint32_t prev_end)
{
    const cg_rule *r = ch->r;
    const cg_b64 *b = &r->matches[idx].u.b64;
    uint64_t start = (uint64_t)(b->relative ? prev_end : 0) + b->offset;
    uint32_t dlen = 0;
    if (start < ch->len) {
        uint32_t n = ch->len - (uint32_t)start;
        uint32_t cap = b->bytes ? b->bytes : CG_VERIFY_B64_IN;
        if (n > cap)
            n = cap;
        uint32_t cost = n / 1024 + 1; /* a decode counts as steps of 1 KiB */
        if (ch->vc->budget < cost) {
            ch->vc->budget = 0;
            return 0;
        }
        ch->vc->budget -= cost;
        dlen = b64_decode(ch->buf + start, n, ch->vc->b64);
    }
    if (dlen == 0)
        return 0;
    if (r->b64_grp) {
        uint8_t g = (uint8_t)(r->b64_grp - 1);
        chain d = { ch->vc, r, g, ch->vc->b64, dlen };
        uint32_t first = 0;
        while (first < r->nmatch && r->matches[first].grp != g)
            first++;
        if (!match_from(&d, first, 0))
            return 0;
    }
    return match_from(ch, next_item(r, idx, ch->grp), prev_end);
}

static int match_from(chain *ch, uint32_t idx, uint32_t prev_end)
{
    if (idx >= ch->r->nmatch)
        return 1;
    switch (ch->r->matches[idx].type) {
    case CG_M_BASE64: return match_b64(ch, idx, prev_end);
    case CG_M_CONTENT: return match_content(ch, idx, prev_end);
    case CG_M_PCRE: return match_pcre(ch, idx, prev_end);
    case CG_M_ISDATAAT: return match_isdataat(ch, idx, prev_end);
    case CG_M_BSIZE:
        return cg_uint_match(&ch->r->matches[idx].u.sz, ch->len)
            ? match_from(ch, next_item(ch->r, idx, ch->grp), prev_end)
            : 0;
    default: return match_byte(ch, idx, prev_end);
    }
}

/* ---- transforms ----------------------------------------------------------- */

/* Applies g's transforms to in[0..len) in vc's scratch. 0 when it does not fit. */
static int transform(cg_verify_ctx *vc, const cg_bufgroup *g, const uint8_t *in, uint32_t len,
                     const uint8_t **out, uint32_t *olen)
{
    uint32_t grow = 0;
    for (uint32_t k = 0; k < g->ntf; k++)
        grow += g->tf[k] == CG_TF_DOTPREFIX;
    if (!vc->scratch || len > CG_VERIFY_SCRATCH - grow) {
        vc->transform_overflow++;
        return 0;
    }
    uint8_t *s = vc->scratch;
    uint32_t n = len, w, i;
    if (len)
        memcpy(s, in, len);
    for (uint32_t k = 0; k < g->ntf; k++) {
        switch (g->tf[k]) {
        case CG_TF_DOTPREFIX:
            memmove(s + 1, s, n);
            s[0] = '.';
            n++;
            break;
        case CG_TF_TO_LOWERCASE:
            for (i = 0; i < n; i++)
                s[i] = lower_tab[s[i]];
            break;
        case CG_TF_TO_UPPERCASE:
            for (i = 0; i < n; i++)
                if (s[i] >= 'a' && s[i] <= 'z')
                    s[i] = (uint8_t)(s[i] - 32);
            break;
        case CG_TF_STRIP_WHITESPACE:
            for (i = w = 0; i < n; i++)
                if (!is_space(s[i]))
                    s[w++] = s[i];
            n = w;
            break;
        case CG_TF_COMPRESS_WHITESPACE:
            /* a run of blanks becomes its first character */
            for (i = w = 0; i < n; i++)
                if (!is_space(s[i]) || w == 0 || !is_space(s[w - 1]))
                    s[w++] = s[i];
            n = w;
            break;
        case CG_TF_URL_DECODE: {
            /* %XX decoded, '+' a blank; a '%' not followed by two hex digits
             * stays, with what followed it as it was (Suricata's decoder) */
            uint8_t st = 0, h = 0;
            for (i = w = 0; i < n; i++) {
                uint8_t c = s[i];
                if (st == 0) {
                    if (c == '%')
                        st = 1;
                    else
                        s[w++] = c == '+' ? ' ' : c;
                } else if (digit(c, 16) >= 0) {
                    if (st == 1) {
                        h = c;
                        st = 2;
                    } else {
                        s[w++] = (uint8_t)(digit(h, 16) << 4 | digit(c, 16));
                        st = 0;
                    }
                } else {
                    s[w++] = '%';
                    if (st == 2)
                        s[w++] = h;
                    s[w++] = c;
                    st = 0;
                }
            }
            if (st) {
                s[w++] = '%';
                if (st == 2)
                    s[w++] = h;
            }
            n = w;
            break;
        }
        }
    }
    *out = s;
    *olen = n;
    return 1;
}

/* ---- entry points ---------------------------------------------------------- */

/* Group g on one buffer view (transformed first when it has transforms). */
static int group_on(cg_verify_ctx *vc, const cg_rule *r, uint32_t g, const uint8_t *buf,
                    uint32_t len)
{
    static const uint8_t empty[1];
    chain ch = { vc, r, (uint8_t)g, buf ? buf : empty, buf ? len : 0 };
    if (r->groups[g].ntf && !transform(vc, &r->groups[g], ch.buf, ch.len, &ch.buf, &ch.len))
        return 0;
    uint32_t first = 0;
    while (first < r->nmatch && r->matches[first].grp != g)
        first++;
    vc->budget = CG_VERIFY_BUDGET;
    return match_from(&ch, first, 0);
}

static int group_any(cg_verify_ctx *vc, const cg_rule *r, uint32_t g, const cg_bufset *bs,
                     uint8_t buf)
{
    for (uint32_t k = 0; k < bs->n[buf] && k < CG_BUF_MAX_INST; k++)
        if (group_on(vc, r, g, bs->v[buf][k].p, bs->v[buf][k].len))
            return 1;
    return 0;
}

int cg_verify_rule(cg_verify_ctx *vc, const cg_rule *r, const cg_bufset *bs)
{
    if ((bs->events & r->app_events) != r->app_events)
        return 0;
    if (r->tls_version &&
        (bs->tls_version == 0 || (bs->tls_version == r->tls_version) == r->tls_version_neg))
        return 0;
    if (r->dns_opcode.op != CG_U_NONE &&
        (!(bs->present & (1ull << CG_BUF_DNS_QUERY)) ||
         !cg_uint_match(&r->dns_opcode, bs->dns_opcode)))
        return 0;
    for (uint32_t g = 0; g < r->ngroups; g++) {
        uint8_t b = r->groups[g].buf;
        if (b == CG_BUF_BASE64)
            continue; /* matched within its base64_decode's chain */
        if (b >= CG_BUF_COUNT)
            return 0;
        if (b == CG_BUF_PAYLOAD) {
            if (!(r->packet_ok && group_any(vc, r, g, bs, CG_BUF_PAYLOAD)) &&
                !(r->stream_ok && group_any(vc, r, g, bs, CG_BUF_STREAM)))
                return 0;
        } else if (!group_any(vc, r, g, bs, b)) {
            return 0;
        }
    }
    return 1;
}

int cg_verify_buffer(cg_verify_ctx *vc, const cg_rule *r, uint8_t buf_id, const uint8_t *buf,
                     uint32_t len)
{
    if ((buf_id == CG_BUF_PAYLOAD && !r->packet_ok) || (buf_id == CG_BUF_STREAM && !r->stream_ok) ||
        (buf_id != CG_BUF_PAYLOAD && buf_id != CG_BUF_STREAM))
        return 0;
    if (r->noalert || r->app_match || r->nstream_size || r->tls_version ||
        r->dns_opcode.op != CG_U_NONE)
        return 0;
    for (uint32_t i = 0; i < r->nflowbits; i++)
        if (r->flowbits[i].cmd == CG_FB_ISSET || r->flowbits[i].cmd == CG_FB_ISNOTSET)
            return 0;
    for (uint32_t g = 0; g < r->ngroups; g++)
        if (r->groups[g].buf != CG_BUF_PAYLOAD || !group_on(vc, r, g, buf, len))
            return 0;
    return 1;
}

/* ---- flowbits ------------------------------------------------------------- */

/* ---- flowint ---------------------------------------------------------------- */

#define FI_SET (1ull << 32)

int cg_flowints_check(const cg_rule *r, const uint64_t *ints)
{
    for (uint32_t i = 0; i < r->nflowints; i++) {
        const cg_flowint *f = &r->flowints[i];
        if (f->op <= CG_FI_SET)
            continue;
        uint64_t v = ints ? ints[f->id] : 0;
        if (f->op == CG_FI_ISSET || f->op == CG_FI_NOTSET) {
            if (((v & FI_SET) != 0) != (f->op == CG_FI_ISSET))
                return 0;
            continue;
        }
        uint64_t w = f->by_var ? (ints ? ints[f->var] : 0) : (FI_SET | f->value);
        if (!(v & FI_SET) || !(w & FI_SET))
            return 0;
        uint32_t a = (uint32_t)v, b = (uint32_t)w;
        int ok = f->op == CG_FI_EQ ? a == b
            : f->op == CG_FI_NE    ? a != b
            : f->op == CG_FI_LT    ? a < b
            : f->op == CG_FI_LE    ? a <= b
            : f->op == CG_FI_GT    ? a > b
                                   : a >= b;
        if (!ok)
            return 0;
    }
    return 1;
}

void cg_flowints_apply(const cg_rule *r, uint64_t *ints)
{
    if (!ints)
        return;
    for (uint32_t i = 0; i < r->nflowints; i++) {
        const cg_flowint *f = &r->flowints[i];
        if (f->op > CG_FI_SET)
            continue;
        uint64_t w = f->by_var ? ints[f->var] : (FI_SET | f->value);
        if (!(w & FI_SET))
            continue; /* an operand not set: nothing to do */
        uint32_t cur = (ints[f->id] & FI_SET) ? (uint32_t)ints[f->id] : 0, b = (uint32_t)w;
        uint32_t nv = f->op == CG_FI_SET ? b : f->op == CG_FI_ADD ? cur + b : cur - b;
        ints[f->id] = FI_SET | nv;
    }
}

static int bit(const uint64_t *bits, uint16_t id)
{
    return bits && (bits[id / 64] >> (id % 64) & 1);
}

int cg_flowbits_check(const cg_rule *r, const uint64_t *bits)
{
    for (uint32_t i = 0; i < r->nflowbits; i++) {
        const cg_flowbit *f = &r->flowbits[i];
        if (f->cmd != CG_FB_ISSET && f->cmd != CG_FB_ISNOTSET)
            continue;
        int want = f->cmd == CG_FB_ISSET, hits = 0;
        for (uint32_t k = 0; k < f->n; k++)
            hits += bit(bits, f->ids[k]) == want;
        if (f->any ? hits == 0 : hits != (int)f->n)
            return 0;
    }
    return 1;
}

void cg_flowbits_apply(const cg_rule *r, uint64_t *bits)
{
    for (uint32_t i = 0; i < r->nflowbits; i++) {
        const cg_flowbit *f = &r->flowbits[i];
        for (uint32_t k = 0; k < f->n; k++) {
            uint64_t m = 1ull << (f->ids[k] % 64);
            uint64_t *w = &bits[f->ids[k] / 64];
            if (f->cmd == CG_FB_SET)
                *w |= m;
            else if (f->cmd == CG_FB_UNSET)
                *w &= ~m;
            else if (f->cmd == CG_FB_TOGGLE)
                *w ^= m;
        }
    }
}

/* ---- header, flow --------------------------------------------------------- */

static int proto_ok(const cg_rule *r, const cg_packet *p)
{
    switch (r->proto) {
    case CG_RP_TCP:
    case CG_RP_HTTP:
    case CG_RP_TLS: return p->proto == 6;
    case CG_RP_UDP: return p->proto == 17;
    case CG_RP_DNS: return p->proto == 6 || p->proto == 17;
    case CG_RP_ICMP: return p->proto == 1 || p->proto == 58;
    default: return 1;
    }
}

static int ends_ok(const cg_rule *r, const uint8_t *s, const uint8_t *d, uint16_t sp, uint16_t dp,
                   int ports)
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

/* flags (Suricata's tcp.flags): the bits after the comma are ignored; 0 means
 * no flag at all. */
static int tcpflags_ok(const cg_tcpflags *t, const cg_packet *p)
{
    if (p->proto != 6 || !p->l4)
        return 0;
    uint8_t pf = p->tcp_flags;
    if (t->bits == 0 && pf)
        return t->mod == CG_FM_NOT;
    uint8_t f = pf & (uint8_t)~t->ignore;
    switch (t->mod) {
    case CG_FM_ANY: return (f & t->bits) != 0;
    case CG_FM_PLUS: return (f & t->bits) == t->bits;
    case CG_FM_NOT: return (f & t->bits) != t->bits;
    default: return f == t->bits;
    }
}

int cg_verify_header(const cg_rule *r, const cg_packet *p, const cg_flow *f, int to_server)
{
    if (!proto_ok(r, p))
        return 0;
    if (r->tcpflags.set && !tcpflags_ok(&r->tcpflags, p))
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
    int icmp = (p->proto == 1 || p->proto == 58) && p->l4;
    if ((r->itype.op && (!icmp || !cg_uint_match(&r->itype, p->icmp_type))) ||
        (r->icode.op && (!icmp || !cg_uint_match(&r->icode, p->icmp_code))))
        return 0;
    if (!cg_uint_match(&r->ttl, p->ttl) || !cg_uint_match(&r->ipproto, p->proto))
        return 0;
    return dsize_ok(&r->dsize, p->payload_len);
}

int cg_verify_flowinfo(const cg_rule *r, const cg_packet *p, const cg_flowinfo *fi)
{
    if (r->app_proto != CG_APP_NONE && (!fi || fi->app_proto != r->app_proto))
        return 0;
    if (r->app_match) {
        if (!fi || fi->app_proto == CG_APP_NONE)
            return 0;
        if ((fi->app_proto == r->app_match) == r->app_match_neg)
            return 0;
    }
    for (uint32_t i = 0; i < r->nstream_size; i++) {
        const cg_streamsize *ss = &r->stream_size[i];
        if (!fi || !p || p->proto != 6)
            return 0;
        int s = cg_uint_match(&ss->cmp, fi->server_seq),
            c = cg_uint_match(&ss->cmp, fi->client_seq);
        int ok = ss->which == CG_SS_SERVER ? s
            : ss->which == CG_SS_CLIENT    ? c
            : ss->which == CG_SS_BOTH      ? (s && c)
                                           : (s || c);
        if (!ok)
            return 0;
    }
    return 1;
}
