/* rule_kw_util.c — the helpers every keyword handler shares: the first
 * syntax error and the first unsupported keyword of a rule (its diagnostics),
 * trimming, splitting and reading values (numbers, integer tests, quoted
 * strings, content text with its |hex| blocks and escapes), and growing the
 * rule's arrays. They depend on nothing else of the rule parser: the handlers
 * (rule_kw.c, rule_kw_buf.c, rule_kw_byte.c, rule_kw_hdr.c) call them, the
 * keyword table (rule_kw_table.c) names the handlers, and rule.c reads the
 * text and calls the table.
 */
#include "analyzer/lang/rule_kw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- diagnostics ---------------------------------------------------------- */

int cg_rule_fail(cg_rule_ps *ps, size_t pos, const char *fmt, ...)
{
    if (!ps->failed) {
        va_list ap;
        ps->failed = 1;
        ps->d->kind = CG_ISSUE_SYNTAX;
        ps->d->pos = pos;
        ps->d->keyword[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(ps->d->why, sizeof ps->d->why, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int cg_rule_unsupported(cg_rule_ps *ps, size_t pos, const char *kw, size_t kwlen, const char *what)
{
    if (!ps->unsupported) {
        ps->unsupported = 1;
        ps->unsup_pos = pos;
        if (kwlen >= sizeof ps->unsup_kw)
            kwlen = sizeof ps->unsup_kw - 1;
        memcpy(ps->unsup_kw, kw, kwlen);
        ps->unsup_kw[kwlen] = '\0';
        snprintf(ps->unsup_why, sizeof ps->unsup_why, "%s '%s' is not supported", what,
                 ps->unsup_kw);
    }
    return 0;
}

void cg_rule_trim(const char **s, size_t *n, size_t *pos)
{
    while (*n && is_space((unsigned char)**s)) {
        (*s)++;
        (*n)--;
        (*pos)++;
    }
    while (*n && is_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

int cg_kw_is_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* ---- helpers -------------------------------------------------------------- */

int cg_kw_once(cg_rule_ps *ps, const cg_rule_opt *o, uint32_t bit)
{
    if (ps->seen & bit)
        return cg_rule_fail(ps, o->npos, "'%.*s' given twice", CG_ONAME(o));
    ps->seen |= bit;
    return 0;
}
/* A decimal integer in [min, max]; `what` names it in messages. */
int cg_kw_number(cg_rule_ps *ps, const char *s, size_t n, size_t pos, const char *what, int64_t min,
                 int64_t max, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    int64_t v = 0;

    cg_rule_trim(&s, &n, &pos);
    if (n && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n)
        return cg_rule_fail(ps, pos, "%s needs a number", what);
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return cg_rule_fail(ps, pos, "bad number '%.*s' for %s", (int)(n > 40 ? 40 : n), s,
                                what);
        if (v > INT64_C(100000000000))
            return cg_rule_fail(ps, pos, "%s %.*s is out of range", what, (int)(n > 40 ? 40 : n),
                                s);
        v = v * 10 + (s[i] - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return cg_rule_fail(ps, pos, "%s %lld is out of range (%lld to %lld)", what, (long long)v,
                            (long long)min, (long long)max);
    *out = v;
    return 0;
}

/* The quoted string of o's value from byte `off` on (after a '!'). The
 * closing quote must end the value; inner text is returned undecoded. */
int cg_kw_quoted(cg_rule_ps *ps, const cg_rule_opt *o, size_t off, const char **in, size_t *inlen,
                 size_t *inpos)
{
    const char *v = o->val + off;
    size_t n = o->vlen - off, p = o->vpos + off, first = 0;
    int closed = 0;

    while (n && is_space((unsigned char)*v)) {
        v++;
        n--;
        p++;
    }
    if (n == 0 || v[0] != '"')
        return cg_rule_fail(ps, p, "%.*s needs a quoted string", CG_ONAME(o));
    for (size_t i = 1; i < n; i++) {
        if (v[i] == '\\') {
            i++;
            continue;
        }
        if (v[i] == '"') {
            if (!first)
                first = i;
            if (i == n - 1)
                closed = 1;
        }
    }
    if (!closed) {
        if (first)
            return cg_rule_fail(ps, p + first + 1,
                                "text after the closing quote of %.*s (missing ';'?)", CG_ONAME(o));
        return cg_rule_fail(ps, p, "unterminated string");
    }
    *in = v + 1;
    *inlen = n - 2;
    *inpos = p + 1;
    return 0;
}

char *cg_kw_dupn(const char *s, size_t n)
{
    return strndup(s, n);
}

/* msg text: every "\x" becomes x (Suricata's msg only logs odd escapes). */
char *cg_kw_unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t w = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        out[w++] = s[i];
    }
    out[w] = '\0';
    return out;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* content text: |hex| blocks (blanks allowed) and the escapes \" \; \\ \:. */
int cg_kw_decode_content(cg_rule_ps *ps, const char *s, size_t n, size_t pos, uint8_t **out,
                         uint32_t *outlen)
{
    uint8_t *b = malloc(n ? n : 1);
    size_t w = 0, hexstart = 0;
    int hex = 0, nib = -1, rc = -1;

    if (!b)
        return CG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (hex) {
            if (c == '|') {
                if (nib >= 0) {
                    cg_rule_fail(ps, pos + i, "odd number of hex digits in content");
                    goto out;
                }
                hex = 0;
            } else if (c == ' ' || c == '\t') {
                continue;
            } else if (hexval(c) < 0) {
                cg_rule_fail(ps, pos + i, "bad hex digit '%c' in content",
                             c >= 0x20 && c < 0x7f ? c : '?');
                goto out;
            } else if (nib < 0) {
                nib = hexval(c);
            } else {
                b[w++] = (uint8_t)(nib << 4 | hexval(c));
                nib = -1;
            }
        } else if (c == '|') {
            hex = 1;
            hexstart = i;
        } else if (c == '\\') {
            unsigned char e = i + 1 < n ? (unsigned char)s[i + 1] : 0;
            if (e != '"' && e != ';' && e != '\\' && e != ':') {
                cg_rule_fail(ps, pos + i,
                             "bad escape in content (only \\\" \\; \\\\ \\: are allowed)");
                goto out;
            }
            b[w++] = e;
            i++;
        } else if (c == '"') {
            cg_rule_fail(ps, pos + i, "unescaped '\"' in content");
            goto out;
        } else {
            b[w++] = c;
        }
    }
    if (hex) {
        cg_rule_fail(ps, pos + hexstart, "unterminated hex block in content");
        goto out;
    }
    if (w == 0) {
        cg_rule_fail(ps, pos, "empty content");
        goto out;
    }
    if (w > CG_KW_CONTENT_MAX) {
        cg_rule_fail(ps, pos, "content longer than %d bytes", CG_KW_CONTENT_MAX);
        goto out;
    }
    *out = b;
    *outlen = (uint32_t)w;
    return 0;
out:
    free(b);
    return rc;
}

int cg_kw_each_item(cg_rule_ps *ps, const cg_rule_opt *o, cg_kw_item_fn fn, void *ctx)
{
    size_t i = 0;
    while (i <= o->vlen) {
        size_t start = i;
        while (i < o->vlen && o->val[i] != ',')
            i++;
        const char *s = o->val + start;
        size_t n = i - start, pos = o->vpos + start;
        cg_rule_trim(&s, &n, &pos);
        if (n) {
            int rc = fn(ps, o, s, n, pos, ctx);
            if (rc)
                return rc;
        }
        i++;
    }
    return 0;
}
int cg_kw_split(cg_rule_ps *ps, const cg_rule_opt *o, cg_kw_fields *f)
{
    size_t i = 0;
    f->count = 0;
    while (i <= o->vlen) {
        size_t start = i;
        while (i < o->vlen && o->val[i] != ',')
            i++;
        if (f->count == CG_KW_MAX_FIELDS)
            return cg_rule_fail(ps, o->vpos + start, "too many fields in %.*s", CG_ONAME(o));
        f->s[f->count] = o->val + start;
        f->n[f->count] = i - start;
        f->pos[f->count] = o->vpos + start;
        cg_rule_trim(&f->s[f->count], &f->n[f->count], &f->pos[f->count]);
        if (f->n[f->count] == 0)
            return cg_rule_fail(ps, f->pos[f->count], "empty field in %.*s", CG_ONAME(o));
        f->count++;
        i++;
    }
    return 0;
}

/* ---- growing arrays ------------------------------------------------------- */

cg_match *cg_kw_new_item(cg_rule_ps *ps, const cg_rule_opt *o, int *err)
{
    int g = cg_kw_current_group(ps, o);
    *err = g == -1 ? CG_EFAIL : CG_ENOMEM;
    if (g < 0)
        return NULL;
    return cg_kw_new_item_in(ps, g);
}

cg_match *cg_kw_new_item_in(cg_rule_ps *ps, int g)
{
    cg_rule *r = ps->r;
    if (r->nmatch == ps->cap_item_pos) {
        uint32_t cap = ps->cap_item_pos ? ps->cap_item_pos * 2 : 4;
        size_t *ip = realloc(ps->item_pos, cap * sizeof *ip);
        if (!ip)
            return NULL;
        ps->item_pos = ip;
        ps->cap_item_pos = cap;
    }
    ps->item_pos[r->nmatch] = ps->cur_pos;
    if (r->nmatch == ps->cap_match) {
        uint32_t cap = ps->cap_match ? ps->cap_match * 2 : 4;
        cg_match *m = realloc(r->matches, cap * sizeof *m);
        if (!m)
            return NULL;
        r->matches = m;
        ps->cap_match = cap;
    }
    cg_match *m = &r->matches[r->nmatch];
    memset(m, 0, sizeof *m);
    m->grp = (uint8_t)g;
    m->buf = r->groups[g].buf;
    return m;
}

int cg_kw_push_kv(cg_kv **arr, uint32_t *n, uint32_t *cap, const char *k, size_t kl, const char *v,
                  size_t vl)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        cg_kv *a = realloc(*arr, nc * sizeof *a);
        if (!a)
            return CG_ENOMEM;
        *arr = a;
        *cap = nc;
    }
    char *ks = cg_kw_dupn(k, kl), *vs = cg_kw_dupn(v, vl);
    if (!ks || !vs) {
        free(ks);
        free(vs);
        return CG_ENOMEM;
    }
    (*arr)[*n].key = ks;
    (*arr)[*n].value = vs;
    (*n)++;
    return 0;
}

/* ---- integer keywords ---------------------------------------------------- */

int cg_kw_is_name(const char *s, size_t n)
{
    return n > 0 && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_');
}

/* An unsigned number at s (decimal or 0x hex, an optional kb/kib/mb/mib/gb/gib
 * unit); the bytes used, 0 when there is none or it overflows. */
static size_t scan_u64(const char *s, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    int hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex)
        i = 2;
    size_t d0 = i;
    for (; i < n; i++) {
        int dv = hex ? hexval((unsigned char)s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (dv < 0)
            break;
        if (v > (UINT64_MAX - (uint64_t)dv) / (hex ? 16 : 10))
            return 0;
        v = v * (hex ? 16 : 10) + (uint64_t)dv;
    }
    if (i == d0)
        return 0;
    static const struct {
        const char *u;
        uint64_t m;
    } units[] = {
        { "kib", 1024 }, { "mib", 1048576 }, { "gib", 1073741824 },
        { "kb", 1024 },  { "mb", 1048576 },  { "gb", 1073741824 },
    };
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        size_t l = strlen(units[k].u);
        if (n - i >= l && strncasecmp(s + i, units[k].u, l) == 0) {
            if (v > UINT64_MAX / units[k].m)
                return 0;
            v *= units[k].m;
            i += l;
            break;
        }
    }
    *out = v;
    return i;
}

int cg_kw_uint(cg_rule_ps *ps, const char *s, size_t n, size_t pos, const char *what, uint64_t max,
               cg_uint *out)
{
    const char *e;
    size_t i = 0, used;
    uint64_t a = 0, b = 0;
    cg_uint u = { 0, 0, 0 };

    cg_rule_trim(&s, &n, &pos);
    e = s + n;
#define SKIP()                                     \
    while (i < n && is_space((unsigned char)s[i])) \
    i++
#define NUM(dst)                                      \
    do {                                              \
        SKIP();                                       \
        if (!(used = scan_u64(s + i, n - i, &(dst)))) \
            goto bad;                                 \
        i += used;                                    \
        SKIP();                                       \
    } while (0)
    if (n == 0)
        return cg_rule_fail(ps, pos, "%s needs a value", what);
    if (s[0] == '&') { /* &mask=value, &mask!=value */
        i = 1;
        NUM(a);
        if (i < n && s[i] == '=') {
            u.op = CG_U_MASK_EQ;
            i++;
        } else if (i + 1 < n && s[i] == '!' && s[i + 1] == '=') {
            u.op = CG_U_MASK_NE;
            i += 2;
        } else {
            goto bad;
        }
        NUM(b);
    } else {
        static const struct {
            const char *op;
            uint8_t code;
        } pre[] = {
            { "<=", CG_U_LE }, { ">=", CG_U_GE }, { "!=", CG_U_NE }, { "<", CG_U_LT },
            { ">", CG_U_GT },  { "=", CG_U_EQ },  { "!", CG_U_NE },
        };
        for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
            size_t l = strlen(pre[k].op);
            if (n >= l && memcmp(s, pre[k].op, l) == 0) {
                u.op = pre[k].code;
                i = l;
                break;
            }
        }
        NUM(a);
        size_t sep = (i + 1 < n && s[i] == '<' && s[i + 1] == '>') ? 2 : (i < n && s[i] == '-');
        if (sep && (u.op == CG_U_NONE || (u.op == CG_U_NE && s[0] == '!' && s[1] != '='))) {
            i += sep;
            NUM(b);
            if (a >= b)
                return cg_rule_fail(ps, pos, "%s range %.*s needs the first number smaller", what,
                                    (int)(n > 40 ? 40 : n), s);
            u.op = u.op == CG_U_NONE ? CG_U_RANGE : CG_U_NRANGE;
        } else if (u.op == CG_U_NONE) {
            u.op = CG_U_EQ;
        }
    }
    if (s + i != e)
        goto bad;
    if (a > max || b > max)
        return cg_rule_fail(ps, pos, "%s %.*s is out of range (0 to %llu)", what,
                            (int)(n > 40 ? 40 : n), s, (unsigned long long)max);
    u.a = a;
    u.b = b;
    *out = u;
    return 0;
bad:
    return cg_rule_fail(ps, pos, "bad %s '%.*s'", what, (int)(n > 40 ? 40 : n), s);
#undef NUM
#undef SKIP
}

/* ---- groups and the items in them ------------------------------------------- */

static int is_multi(uint8_t buf)
{
    return buf == CG_BUF_DNS_QUERY || buf == CG_BUF_TLS_CERTS;
}

/* ---- groups --------------------------------------------------------------- */

int cg_kw_add_group(cg_rule_ps *ps, uint8_t buf, int is_sticky, size_t pos)
{
    cg_rule *r = ps->r;
    if (r->ngroups == CG_MAX_GROUPS)
        return cg_rule_fail(ps, pos, "more than %d buffer blocks in one rule", CG_MAX_GROUPS);
    if (r->ngroups == ps->cap_groups) {
        uint32_t cap = ps->cap_groups ? ps->cap_groups * 2 : 4;
        cg_bufgroup *g = realloc(r->groups, cap * sizeof *g);
        if (!g)
            return CG_ENOMEM;
        r->groups = g;
        ps->cap_groups = cap;
    }
    memset(&r->groups[r->ngroups], 0, sizeof r->groups[0]);
    r->groups[r->ngroups].buf = buf;
    ps->grp_sticky[r->ngroups] = (uint8_t)is_sticky;
    ps->grp_pos[r->ngroups] = pos;
    return (int)r->ngroups++;
}

int cg_kw_group_has_items(const cg_rule *r, uint32_t g)
{
    for (uint32_t i = 0; i < r->nmatch; i++)
        if (r->matches[i].grp == g)
            return 1;
    return 0;
}

static int same_chain(const cg_bufgroup *a, const cg_bufgroup *b)
{
    return a->buf == b->buf && a->ntf == b->ntf && memcmp(a->tf, b->tf, a->ntf) == 0;
}

/* The open sticky group takes its first item, or is left: it continues an
 * earlier group of the same buffer and transforms when it can. */
void cg_kw_close_open(cg_rule_ps *ps)
{
    cg_rule *r = ps->r;
    if (!ps->grp_open)
        return;
    ps->grp_open = 0;
    uint32_t g = (uint32_t)ps->grp;
    if (g + 1 != r->ngroups || is_multi(r->groups[g].buf) || cg_kw_group_has_items(r, g))
        return;
    for (uint32_t j = 0; j < g; j++)
        if (same_chain(&r->groups[j], &r->groups[g])) {
            r->ngroups--;
            ps->grp = (int32_t)j;
            ps->grp_sticky[j] = 1;
            return;
        }
}

int cg_kw_current_group(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_rule *r = ps->r;
    size_t pos = o ? o->npos : ps->cur_pos;
    if (ps->unknown_buf) {
        for (uint32_t j = 0; j < r->ngroups; j++)
            if (r->groups[j].buf == CG_BUF_OTHER)
                return (int)j;
        return cg_kw_add_group(ps, CG_BUF_OTHER, 0, pos);
    }
    if (ps->grp < 0) {
        for (uint32_t j = 0; j < r->ngroups; j++)
            if (r->groups[j].buf == CG_BUF_PAYLOAD)
                return ps->grp = (int32_t)j;
        int g = cg_kw_add_group(ps, CG_BUF_PAYLOAD, 0, pos);
        if (g >= 0)
            ps->grp = g;
        return g;
    }
    cg_kw_close_open(ps);
    return ps->grp;
}

int cg_kw_plain_group(cg_rule_ps *ps, const cg_rule_opt *o, uint8_t buf)
{
    cg_rule *r = ps->r;
    cg_kw_close_open(ps);
    for (uint32_t j = 0; j < r->ngroups; j++)
        if (r->groups[j].buf == buf && r->groups[j].ntf == 0 && !is_multi(buf))
            return (int)j;
    return cg_kw_add_group(ps, buf, 0, o->npos);
}

int cg_kw_content_in(cg_rule_ps *ps, const cg_rule_opt *o, int g)
{
    size_t off = 0;
    const char *s;
    size_t n, p;
    uint16_t flags = 0;
    int rc = CG_ENOMEM;

    if (o->val[0] == '!') {
        flags |= CG_C_NEGATED;
        off = 1;
    }
    if (cg_kw_quoted(ps, o, off, &s, &n, &p))
        return -1;
    cg_match *m = g < 0 ? cg_kw_new_item(ps, o, &rc) : cg_kw_new_item_in(ps, g);
    if (!m)
        return rc;
    m->type = CG_M_CONTENT;
    m->u.c.flags = flags;
    if ((rc = cg_kw_decode_content(ps, s, n, p, &m->u.c.bytes, &m->u.c.len)) != 0)
        return rc;
    ps->last_content = (int32_t)ps->r->nmatch;
    ps->r->nmatch++;
    return 0;
}

cg_content *cg_kw_target_content(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (ps->last_content < 0) {
        cg_rule_fail(ps, o->npos, "'%.*s' needs a preceding content", CG_ONAME(o));
        return NULL;
    }
    return &ps->r->matches[ps->last_content].u.c;
}
