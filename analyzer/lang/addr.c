/* addr.c — address and port expressions to normalised range sets (addr.h).
 *
 * Follows Suricata's header syntax (rules/README.md; Suricata 7 user guide,
 * "Rules format": source and destination, ports). One recursive-descent parser
 * serves both kinds; only the atoms differ. Values are 128-bit integers (ports
 * use the low 16 bits), sets are arrays of inclusive ranges.
 *
 * Invariants:
 *  1. parse_expr() returns a normalised set: sorted by lo, disjoint, and no
 *     two ranges adjacent (merged).
 *  2. Recursion (nested lists and variables together) is bounded by
 *     MAX_DEPTH, so hostile text ("[[[[..." or a variable cycle) cannot
 *     exhaust the stack; the number of sub-expressions one parse visits is
 *     bounded by MAX_NODES, so variables that refer to each other many times
 *     (A=[$B,$B,...], B=[$C,$C,...]) cannot make it take exponential time.
 *  3. Nothing is written to the caller's set unless the whole parse succeeds.
 */
#include "analyzer/lang/addr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/lang/u128.h"

#define MAX_DEPTH 64
#define MAX_NODES 1000000
#define MAX_ATOM 80

enum { K_ADDR, K_PORT };

typedef struct rng {
    u128 lo, hi;
} rng;
typedef struct rset {
    rng *r;
    size_t n, cap;
} rset;

static const u128 U_ZERO = { 0, 0 };
static const u128 U_MAX = { UINT64_MAX, UINT64_MAX };
static const u128 U_PORT_MAX = { 0, 65535 };

/* ---- range sets ----------------------------------------------------------- */

static void rs_free(rset *s)
{
    free(s->r);
    s->r = NULL;
    s->n = s->cap = 0;
}

static int rs_push(rset *s, u128 lo, u128 hi)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        rng *r = realloc(s->r, cap * sizeof *r);
        if (!r)
            return CG_ENOMEM;
        s->r = r;
        s->cap = cap;
    }
    s->r[s->n].lo = lo;
    s->r[s->n].hi = hi;
    s->n++;
    return 0;
}

static int rs_append(rset *dst, const rset *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (rs_push(dst, src->r[i].lo, src->r[i].hi))
            return CG_ENOMEM;
    return 0;
}

static int rng_cmp(const void *a, const void *b)
{
    return cg_u128_cmp(((const rng *)a)->lo, ((const rng *)b)->lo);
}

/* Sort and merge overlapping or adjacent ranges (invariant 1). */
static void rs_norm(rset *s)
{
    if (s->n < 2)
        return;
    qsort(s->r, s->n, sizeof *s->r, rng_cmp);
    size_t w = 0;
    for (size_t i = 1; i < s->n; i++) {
        rng *cur = &s->r[w];
        const rng *nx = &s->r[i];
        if (cg_u128_eq(cur->hi, U_MAX) || cg_u128_cmp(nx->lo, cg_u128_inc(cur->hi)) <= 0) {
            if (cg_u128_cmp(nx->hi, cur->hi) > 0)
                cur->hi = nx->hi;
        } else {
            s->r[++w] = *nx;
        }
    }
    s->n = w + 1;
}

/* out = a - b; both normalised, and so is the result. */
static int rs_sub(const rset *a, const rset *b, rset *out)
{
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        u128 lo = a->r[i].lo, hi = a->r[i].hi;
        int done = 0;
        while (j < b->n && cg_u128_cmp(b->r[j].hi, lo) < 0)
            j++;
        for (size_t k = j; k < b->n && cg_u128_cmp(b->r[k].lo, hi) <= 0; k++) {
            if (cg_u128_cmp(b->r[k].lo, lo) > 0 && rs_push(out, lo, cg_u128_dec(b->r[k].lo)))
                return CG_ENOMEM;
            if (cg_u128_cmp(b->r[k].hi, hi) >= 0) {
                done = 1;
                break;
            }
            lo = cg_u128_inc(b->r[k].hi);
        }
        if (!done && rs_push(out, lo, hi))
            return CG_ENOMEM;
    }
    return 0;
}

/* ---- the parser ----------------------------------------------------------- */

struct pctx {
    const cg_vars *vars;
    int kind;
    cg_expr_err *err;
    unsigned depth;
    unsigned long nodes;  /* sub-expressions visited so far */
    size_t var_pos;       /* SIZE_MAX while in the caller's own text */
    const char *var_name; /* the outermost variable being expanded */
    size_t var_len;
};

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int perr(struct pctx *c, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(struct pctx *c, size_t pos, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->var_pos != SIZE_MAX) {
        c->err->pos = c->var_pos;
        snprintf(c->err->why, sizeof c->err->why, "in $%.*s: %s",
                 (int)(c->var_len > 40 ? 40 : c->var_len), c->var_name, msg);
    } else {
        c->err->pos = pos;
        snprintf(c->err->why, sizeof c->err->why, "%s", msg);
    }
    return -1;
}

static const char *kind_name(const struct pctx *c)
{
    return c->kind == K_ADDR ? "address" : "port";
}

static int push_any(struct pctx *c, rset *out)
{
    return rs_push(out, U_ZERO, c->kind == K_ADDR ? U_MAX : U_PORT_MAX);
}

static void trim(const char **s, size_t *len, size_t *base)
{
    while (*len && is_space((unsigned char)**s)) {
        (*s)++;
        (*len)--;
        (*base)++;
    }
    while (*len && is_space((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/* A v4 or v6 address in buf into v; *v4 tells which. 0 or -1. */
static int ip_parse(const char *buf, u128 *v, int *v4)
{
    uint8_t b[16];
    if (strchr(buf, ':')) {
        if (inet_pton(AF_INET6, buf, b) != 1)
            return -1;
        *v4 = 0;
    } else {
        memset(b, 0, 10);
        b[10] = b[11] = 0xff;
        if (inet_pton(AF_INET, buf, b + 12) != 1)
            return -1;
        *v4 = 1;
    }
    *v = cg_u128_from_bytes(b);
    return 0;
}

static int parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static int addr_atom(struct pctx *c, const char *s, size_t len, size_t base, rset *out)
{
    char buf[MAX_ATOM];
    u128 lo, hi;
    int v4, v4b;

    if (len == 3 && strncasecmp(s, "any", 3) == 0)
        return push_any(c, out);
    if (len >= sizeof buf)
        return perr(c, base, "bad address '%.*s...'", 20, s);
    memcpy(buf, s, len);
    buf[len] = '\0';

    char *slash = strchr(buf, '/'), *dash = strchr(buf, '-');
    if (slash) {
        unsigned long bits;
        *slash = '\0';
        if (ip_parse(buf, &lo, &v4))
            return perr(c, base, "bad address '%s'", buf);
        const char *m = slash + 1;
        size_t ml = strlen(m);
        if (parse_uint(m, ml, v4 ? 32 : 128, &bits) == 0) {
            /* prefix length */
        } else if (v4 && strchr(m, '.')) {
            struct in_addr ma;
            if (inet_pton(AF_INET, m, &ma) != 1)
                return perr(c, base + (size_t)(m - buf), "bad netmask '%s'", m);
            uint32_t mask = ntohl(ma.s_addr);
            bits = 0;
            while (bits < 32 && (mask & (UINT32_C(1) << (31 - bits))))
                bits++;
            if (bits < 32 && (mask << bits) != 0)
                return perr(c, base + (size_t)(m - buf), "netmask '%s' is not contiguous", m);
        } else {
            return perr(c, base + (size_t)(m - buf), "bad prefix length '/%s'", m);
        }
        u128 mask = cg_u128_prefix_mask((unsigned)bits + (v4 ? 96u : 0u));
        lo.hi &= mask.hi;
        lo.lo &= mask.lo;
        hi.hi = lo.hi | ~mask.hi;
        hi.lo = lo.lo | ~mask.lo;
    } else if (dash) {
        *dash = '\0';
        if (ip_parse(buf, &lo, &v4))
            return perr(c, base, "bad address '%s'", buf);
        if (ip_parse(dash + 1, &hi, &v4b))
            return perr(c, base + (size_t)(dash + 1 - buf), "bad address '%s'", dash + 1);
        if (v4 != v4b)
            return perr(c, base, "address range mixes IPv4 and IPv6");
        if (cg_u128_cmp(lo, hi) > 0)
            return perr(c, base, "address range %s-%s is reversed", buf, dash + 1);
    } else {
        if (ip_parse(buf, &lo, &v4))
            return perr(c, base, "bad address '%s'", buf);
        hi = lo;
    }
    return rs_push(out, lo, hi);
}

static int port_atom(struct pctx *c, const char *s, size_t len, size_t base, rset *out)
{
    unsigned long lo, hi;

    if (len == 3 && strncasecmp(s, "any", 3) == 0)
        return push_any(c, out);
    const char *colon = memchr(s, ':', len);
    if (!colon) {
        if (parse_uint(s, len, 65535, &lo))
            return perr(c, base, "bad port '%.*s'", (int)(len > 40 ? 40 : len), s);
        hi = lo;
    } else {
        const char *a = s, *b = colon + 1;
        size_t al = (size_t)(colon - s), bl = len - al - 1, ab = base, bb = base + al + 1;
        trim(&a, &al, &ab);
        trim(&b, &bl, &bb);
        if (al == 0 && bl == 0)
            return perr(c, base, "bad port range ':'");
        lo = 0;
        hi = 65535;
        if (al && parse_uint(a, al, 65535, &lo))
            return perr(c, ab, "bad port '%.*s'", (int)(al > 40 ? 40 : al), a);
        if (bl && parse_uint(b, bl, 65535, &hi))
            return perr(c, bb, "bad port '%.*s'", (int)(bl > 40 ? 40 : bl), b);
        if (lo > hi)
            return perr(c, base, "port range %lu:%lu is reversed", lo, hi);
    }
    u128 l = { 0, lo }, h = { 0, hi };
    return rs_push(out, l, h);
}

static int parse_expr(struct pctx *c, const char *s, size_t len, size_t base, rset *out);

/* The elements of a list (the text between its brackets). */
static int parse_list(struct pctx *c, const char *s, size_t len, size_t base, rset *out)
{
    rset pos = { 0 }, neg = { 0 }, tmp = { 0 };
    int rc = 0, npos = 0;
    size_t i = 0;

    trim(&s, &len, &base);
    if (len == 0)
        return perr(c, base, "empty list");
    while (i <= len) {
        size_t start = i;
        int depth = 0;
        while (i < len && (depth > 0 || s[i] != ',')) {
            if (s[i] == '[')
                depth++;
            else if (s[i] == ']')
                depth--;
            i++;
        }
        const char *e = s + start;
        size_t el = i - start, eb = base + start;
        trim(&e, &el, &eb);
        if (el == 0) {
            rc = perr(c, eb, "empty element in %s list", kind_name(c));
            goto out;
        }
        if (e[0] == '!') {
            tmp.n = 0;
            if ((rc = parse_expr(c, e + 1, el - 1, eb + 1, &tmp)) != 0 ||
                (rc = rs_append(&neg, &tmp)) != 0)
                goto out;
        } else {
            npos++;
            tmp.n = 0;
            if ((rc = parse_expr(c, e, el, eb, &tmp)) != 0 || (rc = rs_append(&pos, &tmp)) != 0)
                goto out;
        }
        i++; /* past the comma (or the end) */
    }
    if (npos == 0 && (rc = push_any(c, &pos)) != 0)
        goto out;
    rs_norm(&pos);
    rs_norm(&neg);
    rc = rs_sub(&pos, &neg, out);
out:
    rs_free(&pos);
    rs_free(&neg);
    rs_free(&tmp);
    return rc;
}

static int parse_var(struct pctx *c, const char *s, size_t len, size_t base, rset *out)
{
    const char *name = s + 1;
    size_t nl = len - 1;
    int rc;

    if (nl == 0)
        return perr(c, base, "empty variable name");
    for (size_t i = 0; i < nl; i++) {
        char ch = name[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return perr(c, base, "bad variable name '%.*s'", (int)(len > 40 ? 40 : len), s);
    }
    const char *val = cg_vars_get(c->vars, name, nl);
    if (!val)
        return perr(c, base, "undefined variable $%.*s", (int)(nl > 60 ? 60 : nl), name);
    if (c->var_pos != SIZE_MAX)
        return parse_expr(c, val, strlen(val), 0, out);
    c->var_pos = base;
    c->var_name = name;
    c->var_len = nl;
    rc = parse_expr(c, val, strlen(val), 0, out);
    c->var_pos = SIZE_MAX;
    return rc;
}

static int parse_expr(struct pctx *c, const char *s, size_t len, size_t base, rset *out)
{
    int rc;

    trim(&s, &len, &base);
    if (len == 0)
        return perr(c, base, "empty %s", kind_name(c));
    if (c->depth >= MAX_DEPTH)
        return perr(c, base, "%s nests too deeply (a variable that refers to itself?)",
                    kind_name(c));
    if (++c->nodes > MAX_NODES)
        return perr(c, base,
                    "%s expression too large (over %d parts once variables are "
                    "expanded)",
                    kind_name(c), MAX_NODES);
    c->depth++;
    if (s[0] == '!') {
        rset tmp = { 0 }, any = { 0 };
        rc = parse_expr(c, s + 1, len - 1, base + 1, &tmp);
        if (rc == 0)
            rc = push_any(c, &any);
        if (rc == 0)
            rc = rs_sub(&any, &tmp, out);
        rs_free(&tmp);
        rs_free(&any);
    } else if (s[0] == '[') {
        size_t i = 0;
        int depth = 0;
        for (; i < len; i++) {
            if (s[i] == '[')
                depth++;
            else if (s[i] == ']' && --depth == 0)
                break;
        }
        if (i == len)
            rc = perr(c, base, "unbalanced '[' in %s", kind_name(c));
        else if (i != len - 1)
            rc = perr(c, base + i + 1, "unexpected text after ']' in %s", kind_name(c));
        else
            rc = parse_list(c, s + 1, len - 2, base + 1, out);
    } else if (s[0] == '$') {
        rc = parse_var(c, s, len, base, out);
    } else {
        rset tmp = { 0 };
        rc =
            c->kind == K_ADDR ? addr_atom(c, s, len, base, &tmp) : port_atom(c, s, len, base, &tmp);
        if (rc == 0)
            rc = rs_append(out, &tmp);
        rs_free(&tmp);
    }
    c->depth--;
    if (rc == 0)
        rs_norm(out);
    return rc;
}

static int parse_top(int kind, const char *s, size_t len, const cg_vars *vars, rset *set,
                     cg_expr_err *err)
{
    struct pctx c = { vars, kind, err, 0, 0, SIZE_MAX, NULL, 0 };
    int rc = parse_expr(&c, s, len, 0, set);
    if (rc == CG_ENOMEM) {
        err->pos = 0;
        snprintf(err->why, sizeof err->why, "out of memory");
    } else if (rc == 0 && set->n == 0) {
        err->pos = 0;
        snprintf(err->why, sizeof err->why, "%s set is empty after negation", kind_name(&c));
        rc = -1;
    }
    return rc;
}

int cg_addrset_parse(const char *s, size_t len, const cg_vars *vars, cg_addrset *out,
                     cg_expr_err *err)
{
    rset set = { 0 };
    int rc = parse_top(K_ADDR, s, len, vars, &set, err);
    if (rc == 0) {
        cg_iprange *r = malloc(set.n * sizeof *r);
        if (!r) {
            rc = CG_ENOMEM;
            snprintf(err->why, sizeof err->why, "out of memory");
        } else {
            for (size_t i = 0; i < set.n; i++) {
                cg_u128_to_bytes(set.r[i].lo, r[i].lo);
                cg_u128_to_bytes(set.r[i].hi, r[i].hi);
            }
            out->r = r;
            out->n = (uint32_t)set.n;
        }
    }
    rs_free(&set);
    return rc;
}

int cg_portset_parse(const char *s, size_t len, const cg_vars *vars, cg_portset *out,
                     cg_expr_err *err)
{
    rset set = { 0 };
    int rc = parse_top(K_PORT, s, len, vars, &set, err);
    if (rc == 0) {
        cg_portrange *r = malloc(set.n * sizeof *r);
        if (!r) {
            rc = CG_ENOMEM;
            snprintf(err->why, sizeof err->why, "out of memory");
        } else {
            for (size_t i = 0; i < set.n; i++) {
                r[i].lo = (uint16_t)set.r[i].lo.lo;
                r[i].hi = (uint16_t)set.r[i].hi.lo;
            }
            out->r = r;
            out->n = (uint32_t)set.n;
        }
    }
    rs_free(&set);
    return rc;
}

void cg_addrset_clear(cg_addrset *s)
{
    if (!s)
        return;
    free(s->r);
    s->r = NULL;
    s->n = 0;
}

void cg_portset_clear(cg_portset *s)
{
    if (!s)
        return;
    free(s->r);
    s->r = NULL;
    s->n = 0;
}

/* ---- matching (rule.h) ---------------------------------------------------- */

int cg_addrset_match(const cg_addrset *s, const uint8_t addr[16])
{
    uint32_t lo = 0, hi = s->n;
    /* the last range whose lo <= addr */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(s->r[mid].lo, addr, 16) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && memcmp(addr, s->r[lo - 1].hi, 16) <= 0;
}

int cg_portset_match(const cg_portset *s, uint16_t port)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->r[mid].lo <= port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && port <= s->r[lo - 1].hi;
}
