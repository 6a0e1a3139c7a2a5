/* rule_kw_hdr.c — keywords on the packet, the flow and the transaction rather
 * than on buffer bytes: flowbits, noalert, tag, flags, itype, icode, ttl,
 * ip_proto, stream_size, app-layer-protocol, tls.version, dns.opcode.
 *
 * Syntax follows Suricata 7 (user guide: "Flow Keywords", "IP/TCP/ICMP
 * Keywords", "Integer Keywords", "TLS Keywords", "DNS Keywords", "Meta
 * keywords" for tag); rules/README.md lists the forms accepted. Each fills a
 * field of cg_rule that verify.c tests; each may appear once, except
 * flowbits (kept in rule order).
 */
#include "analyzer/lang/rule_kw.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sensor/buffers.h"
#include "sensor/decode.h"

static int twice(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return cg_rule_fail(ps, o->npos, "'%.*s' given twice", CG_ONAME(o));
}

/* ---- flowbits, flowint, xbits, noalert, tag ------------------------------- */

static int push_flowbit(cg_rule_ps *ps, cg_flowbit *fb)
{
    cg_rule *r = ps->r;
    if (r->nflowbits == ps->cap_flowbits) {
        uint32_t cap = ps->cap_flowbits ? ps->cap_flowbits * 2 : 2;
        cg_flowbit *a = realloc(r->flowbits, cap * sizeof *a);
        if (!a)
            return CG_ENOMEM;
        r->flowbits = a;
        ps->cap_flowbits = cap;
    }
    r->flowbits[r->nflowbits++] = *fb;
    return 0;
}

static void free_flowbit(cg_flowbit *fb)
{
    for (uint32_t k = 0; k < fb->n; k++)
        free(fb->names[k]);
    free(fb->names);
    free(fb->ids);
}

/* flowbits:<set|unset|toggle|isset|isnotset>,<name>[(|name)...|(&name)...]
 * or flowbits:noalert. '|' (any of) is for isset/isnotset only. */
int cg_kw_flowbits(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const struct {
        const char *w;
        uint8_t cmd;
    } cmds[] = {
        { "set", CG_FB_SET },     { "unset", CG_FB_UNSET },       { "toggle", CG_FB_TOGGLE },
        { "isset", CG_FB_ISSET }, { "isnotset", CG_FB_ISNOTSET },
    };
    const char *comma = memchr(o->val, ',', o->vlen);
    const char *c = o->val;
    size_t cl = comma ? (size_t)(comma - o->val) : o->vlen, cp = o->vpos;
    cg_flowbit fb;
    size_t k;

    cg_rule_trim(&c, &cl, &cp);
    if (cg_kw_is_word(c, cl, "noalert")) {
        if (comma)
            return cg_rule_fail(ps, o->vpos, "flowbits:noalert takes no name");
        ps->r->noalert = 1;
        return 0;
    }
    for (k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (cg_kw_is_word(c, cl, cmds[k].w))
            break;
    if (k == sizeof cmds / sizeof cmds[0])
        return cg_rule_fail(ps, cp, "unknown flowbits command '%.*s'", (int)(cl > 20 ? 20 : cl), c);
    if (!comma)
        return cg_rule_fail(ps, o->npos, "flowbits:%s needs a name", cmds[k].w);
    memset(&fb, 0, sizeof fb);
    fb.cmd = cmds[k].cmd;

    const char *s = comma + 1, *e = o->val + o->vlen;
    size_t base = o->vpos + (size_t)(s - o->val);
    int seen_or = 0, seen_and = 0;
    for (const char *q = s; q < e; q++) {
        seen_or |= *q == '|';
        seen_and |= *q == '&';
    }
    if (seen_or && seen_and)
        return cg_rule_fail(ps, base, "flowbits: '|' and '&' can't be mixed");
    if (seen_or && fb.cmd != CG_FB_ISSET && fb.cmd != CG_FB_ISNOTSET)
        return cg_rule_fail(ps, base,
                            "flowbits: '|' is for isset and isnotset; use '&' to "
                            "%s several bits",
                            cmds[k].w);
    fb.any = (uint8_t)seen_or;
    char sep = seen_or ? '|' : '&';
    for (const char *p = s; p <= e;) {
        const char *q = p;
        while (q < e && *q != sep)
            q++;
        const char *nm = p;
        size_t nl = (size_t)(q - p), np = base + (size_t)(p - s);
        cg_rule_trim(&nm, &nl, &np);
        if (nl == 0) {
            free_flowbit(&fb);
            return cg_rule_fail(ps, np, "flowbits: empty name");
        }
        for (size_t i = 0; i < nl; i++)
            if (nm[i] == ' ' || nm[i] == '\t' || nm[i] == ',') {
                free_flowbit(&fb);
                return cg_rule_fail(ps, np, "flowbits: spaces are not allowed in a name");
            }
        if (fb.n == 64) {
            free_flowbit(&fb);
            return cg_rule_fail(ps, np, "flowbits: more than 64 names in one option");
        }
        char **nn = realloc(fb.names, (fb.n + 1) * sizeof *nn);
        if (!nn) {
            free_flowbit(&fb);
            return CG_ENOMEM;
        }
        fb.names = nn;
        if (!(fb.names[fb.n] = strndup(nm, nl))) {
            free_flowbit(&fb);
            return CG_ENOMEM;
        }
        fb.n++;
        p = q + 1;
    }
    /* isset and isnotset of one bit can never both hold (Suricata refuses it) */
    for (uint32_t i = 0; i < ps->r->nflowbits; i++) {
        const cg_flowbit *f = &ps->r->flowbits[i];
        if (f->any || fb.any || f->cmd == fb.cmd ||
            (f->cmd != CG_FB_ISSET && f->cmd != CG_FB_ISNOTSET) ||
            (fb.cmd != CG_FB_ISSET && fb.cmd != CG_FB_ISNOTSET))
            continue;
        for (uint32_t a = 0; a < f->n; a++)
            for (uint32_t b = 0; b < fb.n; b++)
                if (strcmp(f->names[a], fb.names[b]) == 0) {
                    free_flowbit(&fb);
                    return cg_rule_fail(ps, o->npos,
                                        "flowbits isset and isnotset of '%s' can "
                                        "never both hold",
                                        f->names[a]);
                }
    }
    if (!(fb.ids = calloc(fb.n, sizeof *fb.ids)) || push_flowbit(ps, &fb)) {
        free_flowbit(&fb);
        return CG_ENOMEM;
    }
    return 0;
}

/* flowint:<name>,<op>[,<value or name>]: op + - = (changes, after a match),
 * == != < <= > >= (compares), isset, notset/isnotset. */
int cg_kw_flowint(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const struct {
        const char *w;
        uint8_t op;
    } ops[] = {
        { "+", CG_FI_ADD },       { "-", CG_FI_SUB },         { "=", CG_FI_SET },
        { "==", CG_FI_EQ },       { "!=", CG_FI_NE },         { "<", CG_FI_LT },
        { "<=", CG_FI_LE },       { ">", CG_FI_GT },          { ">=", CG_FI_GE },
        { "isset", CG_FI_ISSET }, { "notset", CG_FI_NOTSET }, { "isnotset", CG_FI_NOTSET },
    };
    cg_flowint fi;
    memset(&fi, 0, sizeof fi);
    cg_kw_fields F;
    if (cg_kw_split(ps, o, &F))
        return -1;
    if (F.count > 3)
        return cg_rule_fail(ps, F.pos[3], "flowint takes a name, an operator and a value");
    if (F.count < 2)
        return cg_rule_fail(ps, o->vpos, "flowint needs a name and an operator");
    const char *const *f = F.s;
    const size_t *fl = F.n, *fp = F.pos;
    size_t nf = F.count;
    for (size_t i = 0; i < fl[0]; i++)
        if (f[0][i] == ' ' || f[0][i] == '\t')
            return cg_rule_fail(ps, fp[0], "flowint: spaces are not allowed in a name");
    size_t k;
    for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
        if (strlen(ops[k].w) == fl[1] && strncmp(f[1], ops[k].w, fl[1]) == 0)
            break;
    if (k == sizeof ops / sizeof ops[0])
        return cg_rule_fail(ps, fp[1], "unknown flowint operator '%.*s'",
                            (int)(fl[1] > 20 ? 20 : fl[1]), f[1]);
    fi.op = ops[k].op;
    int unary = fi.op == CG_FI_ISSET || fi.op == CG_FI_NOTSET;
    if (unary != (nf == 2))
        return cg_rule_fail(ps, unary ? fp[2] : o->npos, "flowint %s %s", ops[k].w,
                            unary ? "takes no value" : "needs a value");
    if (!unary) {
        if (f[2][0] >= '0' && f[2][0] <= '9') {
            char *end;
            errno = 0;
            unsigned long long x = strtoull(f[2], &end, 10);
            if (end != f[2] + fl[2] || errno || x > UINT32_MAX)
                return cg_rule_fail(ps, fp[2],
                                    "flowint: the value must be 0 to 4294967295 "
                                    "or a flowint name");
            fi.value = (uint32_t)x;
        } else {
            for (size_t i = 0; i < fl[2]; i++)
                if (f[2][i] == ' ' || f[2][i] == '\t')
                    return cg_rule_fail(ps, fp[2], "flowint: spaces are not allowed in a name");
            fi.by_var = 1;
            if (!(fi.var_name = strndup(f[2], fl[2])))
                return CG_ENOMEM;
        }
    }
    if (!(fi.name = strndup(f[0], fl[0]))) {
        free(fi.var_name);
        return CG_ENOMEM;
    }
    cg_rule *r = ps->r;
    cg_flowint *a = realloc(r->flowints, (r->nflowints + 1) * sizeof *a);
    if (!a) {
        free(fi.name);
        free(fi.var_name);
        return CG_ENOMEM;
    }
    r->flowints = a;
    r->flowints[r->nflowints++] = fi;
    return 0;
}

/* xbits:<set|unset|toggle|isset|isnotset>,<name>,track <ip_src|ip_dst|ip_pair>
 * [,expire <seconds>]: a bit kept per host or address pair, as Suricata's;
 * or xbits:noalert. */
int cg_kw_xbits(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const struct {
        const char *w;
        uint8_t cmd;
    } cmds[] = {
        { "set", CG_FB_SET },     { "unset", CG_FB_UNSET },       { "toggle", CG_FB_TOGGLE },
        { "isset", CG_FB_ISSET }, { "isnotset", CG_FB_ISNOTSET },
    };
    static const struct {
        const char *w;
        uint8_t t;
    } tracks[] = {
        { "ip_src", CG_XT_SRC },
        { "ip_dst", CG_XT_DST },
        { "ip_pair", CG_XT_PAIR },
    };
    cg_xbit xb;
    memset(&xb, 0, sizeof xb);
    xb.expire = CG_XBITS_EXPIRE;
    if (cg_kw_is_word(o->val, o->vlen, "noalert")) {
        ps->r->noalert = 1;
        return 0;
    }
    int have_track = 0;
    cg_kw_fields F;
    if (cg_kw_split(ps, o, &F))
        return -1;
    for (size_t field = 0; field < F.count; field++) {
        const char *w = F.s[field];
        size_t wl = F.n[field], wp = F.pos[field];
        if (field == 0) {
            size_t k;
            for (k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
                if (cg_kw_is_word(w, wl, cmds[k].w))
                    break;
            if (k == sizeof cmds / sizeof cmds[0])
                return cg_rule_fail(ps, wp, "unknown xbits command '%.*s'",
                                    (int)(wl > 20 ? 20 : wl), w);
            xb.cmd = cmds[k].cmd;
        } else if (field == 1) {
            for (size_t i = 0; i < wl; i++)
                if (w[i] == ' ' || w[i] == '\t')
                    return cg_rule_fail(ps, wp, "xbits: spaces are not allowed in a name");
            uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 of the name */
            for (size_t i = 0; i < wl; i++) {
                h ^= (uint8_t)w[i];
                h *= 0x100000001b3ULL;
            }
            xb.key = h;
            if (!(xb.name = strndup(w, wl)))
                return CG_ENOMEM;
        } else if (wl > 6 && strncmp(w, "track", 5) == 0 && (w[5] == ' ' || w[5] == '\t')) {
            const char *t = w + 6;
            size_t tl = wl - 6, tp = wp + 6;
            cg_rule_trim(&t, &tl, &tp);
            size_t k;
            for (k = 0; k < sizeof tracks / sizeof tracks[0]; k++)
                if (cg_kw_is_word(t, tl, tracks[k].w))
                    break;
            if (k == sizeof tracks / sizeof tracks[0]) {
                free(xb.name);
                if (cg_kw_is_word(t, tl, "tx")) /* bits per transaction: not kept here */
                    return cg_rule_unsupported(ps, tp, "xbits:track tx", 14, "keyword");
                return cg_rule_fail(ps, tp, "xbits: track must be ip_src, ip_dst or ip_pair");
            }
            xb.track = tracks[k].t;
            have_track = 1;
        } else if (wl > 7 && strncmp(w, "expire", 6) == 0 && (w[6] == ' ' || w[6] == '\t')) {
            char *end;
            errno = 0;
            unsigned long n = strtoul(w + 7, &end, 10);
            while (end < w + wl && (*end == ' ' || *end == '\t'))
                end++;
            if (end != w + wl || errno || n == 0 || n > 31536000 || w[7] == '-') {
                free(xb.name);
                return cg_rule_fail(ps, wp + 7, "xbits: expire must be 1 to 31536000 seconds");
            }
            xb.expire = (uint32_t)n;
        } else {
            free(xb.name);
            return cg_rule_fail(ps, wp,
                                "xbits: expected 'track ...' or 'expire ...', not "
                                "'%.*s'",
                                (int)(wl > 20 ? 20 : wl), w);
        }
    }
    if (!xb.name)
        return cg_rule_fail(ps, o->npos, "xbits needs a command, a name and a track");
    if (!have_track) {
        free(xb.name);
        return cg_rule_fail(ps, o->npos, "xbits needs 'track ip_src', 'ip_dst' or 'ip_pair'");
    }
    cg_rule *r = ps->r;
    cg_xbit *a = realloc(r->xbits, (r->nxbits + 1) * sizeof *a);
    if (!a) {
        free(xb.name);
        return CG_ENOMEM;
    }
    r->xbits = a;
    r->xbits[r->nxbits++] = xb;
    return 0;
}

int cg_kw_noalert(cg_rule_ps *ps, const cg_rule_opt *o)
{
    (void)o;
    ps->r->noalert = 1;
    return 0;
}

/* tag:<session|host>[,<count>,<packets|seconds|bytes>[,<src|dst>]]: checked,
 * then without effect (this sensor records no tagged packets). */
static int tag_item(cg_rule_ps *ps, const cg_rule_opt *o, const char *s, size_t n, size_t pos,
                    void *ctx)
{
    (void)o;
    int *k = ctx;
    int64_t v;
    switch ((*k)++) {
    case 0:
        if (cg_kw_is_word(s, n, "session") || cg_kw_is_word(s, n, "host"))
            return 0;
        return cg_rule_fail(ps, pos, "tag type must be session or host");
    case 1: return cg_kw_number(ps, s, n, pos, "tag count", 0, UINT32_MAX, &v);
    case 2:
        if (cg_kw_is_word(s, n, "packets") || cg_kw_is_word(s, n, "seconds") ||
            cg_kw_is_word(s, n, "bytes"))
            return 0;
        return cg_rule_fail(ps, pos, "tag metric must be packets, seconds or bytes");
    case 3:
        if (cg_kw_is_word(s, n, "src") || cg_kw_is_word(s, n, "dst"))
            return 0;
        return cg_rule_fail(ps, pos, "tag direction must be src or dst");
    default: return cg_rule_fail(ps, pos, "too many tag fields");
    }
}

int cg_kw_tag(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int k = 0;
    if (cg_kw_each_item(ps, o, tag_item, &k))
        return -1;
    if (k == 2)
        return cg_rule_fail(ps, o->vpos, "tag count needs its metric");
    return 0;
}

/* ---- packet header -------------------------------------------------------- */

static int flag_bit(char c)
{
    switch (c) {
    case 'F':
    case 'f': return CG_TH_FIN;
    case 'S':
    case 's': return CG_TH_SYN;
    case 'R':
    case 'r': return CG_TH_RST;
    case 'P':
    case 'p': return CG_TH_PSH;
    case 'A':
    case 'a': return CG_TH_ACK;
    case 'U':
    case 'u': return CG_TH_URG;
    case 'E':
    case 'e':
    case '2': return CG_TH_ECE;
    case 'C':
    case 'c':
    case '1': return CG_TH_CWR;
    default: return -1;
    }
}

/* flags:[!+*]<FSRPAUCE12 or 0>[,<mask>]: the modifier may also follow the
 * letters; the bits after the comma are not compared. */
int cg_kw_flags(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_tcpflags *t = &ps->r->tcpflags;
    const char *s = o->val;
    size_t n = o->vlen, i, letters = 0;
    int zero = 0;

    if (t->set)
        return twice(ps, o);
    t->set = 1;
    const char *comma = memchr(s, ',', n);
    size_t end = comma ? (size_t)(comma - s) : n;
    for (i = 0; i < end; i++) {
        char c = s[i];
        int b = flag_bit(c);
        if (c == ' ' || c == '\t')
            continue;
        if (c == '!' || c == '+' || c == '*') {
            if (t->mod != CG_FM_EXACT)
                return cg_rule_fail(ps, o->vpos + i, "flags takes one modifier");
            t->mod = c == '!' ? CG_FM_NOT : c == '+' ? CG_FM_PLUS : CG_FM_ANY;
        } else if (c == '0') {
            zero = 1;
            letters++;
        } else if (b >= 0) {
            t->bits |= (uint8_t)b;
            letters++;
        } else {
            return cg_rule_fail(ps, o->vpos + i, "bad TCP flag '%c'",
                                c >= 0x20 && c < 0x7f ? c : '?');
        }
    }
    if (letters == 0)
        return cg_rule_fail(ps, o->vpos, "flags needs at least one flag");
    if (zero && t->bits)
        return cg_rule_fail(ps, o->vpos, "flags: 0 (no flag) with other flags");
    if (comma) {
        size_t m = 0;
        for (i = end + 1; i < n; i++) {
            int b = flag_bit(s[i]);
            if (s[i] == ' ' || s[i] == '\t')
                continue;
            if (b < 0)
                return cg_rule_fail(ps, o->vpos + i, "bad TCP flag '%c' in the mask",
                                    s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
            t->ignore |= (uint8_t)b;
            m++;
        }
        if (m == 0)
            return cg_rule_fail(ps, o->vpos + end, "flags: empty mask after the comma");
    }
    return 0;
}

static int u8_keyword(cg_rule_ps *ps, const cg_rule_opt *o, cg_uint *u, const char *what)
{
    if (u->op != CG_U_NONE)
        return twice(ps, o);
    return cg_kw_uint(ps, o->val, o->vlen, o->vpos, what, 255, u);
}

int cg_kw_itype(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return u8_keyword(ps, o, &ps->r->itype, "itype");
}

int cg_kw_icode(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return u8_keyword(ps, o, &ps->r->icode, "icode");
}

int cg_kw_ttl(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return u8_keyword(ps, o, &ps->r->ttl, "ttl");
}

/* ip_proto:[!<>=]<number|name> */
int cg_kw_ip_proto(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const struct {
        const char *name;
        uint8_t n;
    } names[] = {
        { "icmp", 1 },        { "igmp", 2 },       { "ipip", 4 },       { "tcp", 6 },
        { "egp", 8 },         { "igp", 9 },        { "udp", 17 },       { "ipv6", 41 },
        { "ipv6-route", 43 }, { "ipv6-frag", 44 }, { "rsvp", 46 },      { "gre", 47 },
        { "esp", 50 },        { "ah", 51 },        { "ipv6-icmp", 58 }, { "icmpv6", 58 },
        { "ipv6-nonxt", 59 }, { "ipv6-opts", 60 }, { "eigrp", 88 },     { "ospf", 89 },
        { "pim", 103 },       { "vrrp", 112 },     { "l2tp", 115 },     { "sctp", 132 },
    };
    cg_uint *u = &ps->r->ipproto;
    const char *s = o->val;
    size_t n = o->vlen, p = o->vpos;
    uint8_t op = CG_U_EQ;

    if (u->op != CG_U_NONE)
        return twice(ps, o);
    if (n && (s[0] == '!' || s[0] == '<' || s[0] == '>' || s[0] == '=')) {
        op = s[0] == '!' ? CG_U_NE : s[0] == '<' ? CG_U_LT : s[0] == '>' ? CG_U_GT : CG_U_EQ;
        s++, n--, p++;
        cg_rule_trim(&s, &n, &p);
    }
    if (cg_kw_is_name(s, n)) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && strncasecmp(s, names[i].name, n) == 0) {
                u->op = op;
                u->a = names[i].n;
                return 0;
            }
        return cg_rule_fail(ps, p, "unknown IP protocol '%.*s'", (int)(n > 20 ? 20 : n), s);
    }
    int64_t v;
    if (cg_kw_number(ps, s, n, p, "ip_proto", 0, 255, &v))
        return -1;
    u->op = op;
    u->a = (uint64_t)v;
    return 0;
}

/* ---- flow and transaction ------------------------------------------------- */

/* stream_size:<server|client|both|either>,<op>,<number> */
int cg_kw_stream_size(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const char *const whichs[] = { "server", "client", "both", "either" };
    static const struct {
        const char *op;
        uint8_t code;
    } ops[] = {
        { "<=", CG_U_LE }, { ">=", CG_U_GE }, { "!=", CG_U_NE },
        { "<", CG_U_LT },  { ">", CG_U_GT },  { "=", CG_U_EQ },
    };
    const char *f[3];
    size_t fl[3], fp[3], k = 0, i = 0;

    if (ps->r->nstream_size == CG_MAX_STREAM_SIZE)
        return cg_rule_fail(ps, o->npos, "more than %d stream_size in one rule",
                            CG_MAX_STREAM_SIZE);
    cg_streamsize *ss = &ps->r->stream_size[ps->r->nstream_size];
    while (k < 3) {
        size_t st = i;
        while (i < o->vlen && (o->val[i] != ',' || k == 2))
            i++;
        f[k] = o->val + st;
        fl[k] = i - st;
        fp[k] = o->vpos + st;
        cg_rule_trim(&f[k], &fl[k], &fp[k]);
        k++;
        if (i >= o->vlen)
            break;
        i++;
    }
    if (k < 3)
        return cg_rule_fail(ps, o->vpos,
                            "stream_size needs <server|client|both|either>,<op>,"
                            "<number>");
    for (i = 0; i < 4; i++)
        if (cg_kw_is_word(f[0], fl[0], whichs[i]))
            break;
    if (i == 4)
        return cg_rule_fail(ps, fp[0], "stream_size side must be server, client, both or either");
    ss->which = (uint8_t)(CG_SS_SERVER + i);
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (cg_kw_is_word(f[1], fl[1], ops[i].op))
            break;
    if (i == sizeof ops / sizeof ops[0])
        return cg_rule_fail(ps, fp[1], "bad stream_size operator '%.*s'",
                            (int)(fl[1] > 10 ? 10 : fl[1]), f[1]);
    int64_t v;
    if (cg_kw_number(ps, f[2], fl[2], fp[2], "stream_size", 0, UINT32_MAX, &v))
        return -1;
    ss->cmp.op = ops[i].code;
    ss->cmp.a = (uint64_t)v;
    ps->r->nstream_size++;
    return 0;
}

/* app-layer-protocol:[!]<http|http1|tls|dns|failed>. Protocols this sensor
 * does not identify skip the rule: "not ftp" could not be told apart from a
 * flow that is FTP. */
/* app-layer-event:<proto>.<event>: the events the HTTP parser raises
 * (buffers.h CG_EV_*); any other event skips the rule, named. */
int cg_kw_app_layer_event(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const struct {
        const char *name;
        uint32_t ev;
    } events[] = {
        { "http.invalid_transfer_encoding_value_in_request", CG_EV_HTTP_INVALID_TE_REQ },
        { "http.request_auth_unrecognized", CG_EV_HTTP_AUTH_UNRECOGNIZED },
    };
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        if (cg_kw_is_word(o->val, o->vlen, events[i].name)) {
            ps->r->app_events |= events[i].ev;
            ps->event_pos = o->npos;
            return 0;
        }
    char kw[96];
    int n =
        snprintf(kw, sizeof kw, "app-layer-event:%.*s", (int)(o->vlen > 60 ? 60 : o->vlen), o->val);
    return cg_rule_unsupported(ps, o->vpos, kw, (size_t)n, "keyword");
}

int cg_kw_app_layer_protocol(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const struct {
        const char *name;
        uint8_t app;
    } names[] = {
        { "http", CG_APP_HTTP }, { "http1", CG_APP_HTTP }, { "tls", CG_APP_TLS },
        { "dns", CG_APP_DNS },   { "smtp", CG_APP_SMTP },  { "ftp", CG_APP_FTP },
        { "ssh", CG_APP_SSH },   { "smb", CG_APP_SMB },    { "failed", CG_APP_FAILED },
    };
    const char *s = o->val;
    size_t n = o->vlen, p = o->vpos;
    int neg = 0;

    if (ps->r->app_match)
        return twice(ps, o);
    if (n && s[0] == '!') {
        neg = 1;
        s++, n--, p++;
        cg_rule_trim(&s, &n, &p);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (cg_kw_is_word(s, n, names[i].name)) {
            ps->r->app_match = names[i].app;
            ps->r->app_match_neg = (uint8_t)neg;
            return 0;
        }
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '_'))
            return cg_rule_fail(ps, p, "bad app-layer-protocol '%.*s'", (int)(n > 30 ? 30 : n), s);
    char kw[64];
    snprintf(kw, sizeof kw, "app-layer-protocol:%.*s", (int)(n > 40 ? 40 : n), s);
    return cg_rule_unsupported(ps, o->npos, kw, strlen(kw), "keyword");
}

/* tls.version:[!]<1.0|1.1|1.2|1.3|0xNNNN> */
int cg_kw_tls_version(cg_rule_ps *ps, const cg_rule_opt *o)
{
    static const struct {
        const char *name;
        uint16_t v;
    } names[] = {
        { "1.0", 0x0301 },
        { "1.1", 0x0302 },
        { "1.2", 0x0303 },
        { "1.3", 0x0304 },
    };
    const char *s = o->val;
    size_t n = o->vlen, p = o->vpos;
    cg_uint u;

    if (ps->r->tls_version)
        return twice(ps, o);
    if (n && s[0] == '!') {
        ps->r->tls_version_neg = 1;
        s++, n--, p++;
        cg_rule_trim(&s, &n, &p);
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (cg_kw_is_word(s, n, names[i].name)) {
            ps->r->tls_version = names[i].v;
            return 0;
        }
    if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
        cg_kw_uint(ps, s, n, p, "tls.version", 0xffff, &u) || u.op != CG_U_EQ || u.a == 0)
        return ps->failed ? -1
                          : cg_rule_fail(ps, p,
                                         "tls.version must be 1.0, 1.1, 1.2, 1.3 "
                                         "or a hex number");
    ps->r->tls_version = (uint16_t)u.a;
    return 0;
}

int cg_kw_dns_opcode(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return u8_keyword(ps, o, &ps->r->dns_opcode, "dns.opcode");
}
