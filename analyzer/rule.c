/* rule.c — one Suricata-syntax rule's text to a cg_rule (rule_parse.h).
 *
 * Follows Suricata 7's rule language (user guide, "Rules"): header
 * `action proto src sport dir dst dport`, then `(name[:value]; ...)`. What this
 * engine accepts is written down in rules/README.md; everything else makes the
 * rule skipped with the keyword named (rule.h invariant 1).
 *
 * How it reads a rule:
 *  1. The header, token by token (address and port tokens may hold spaces
 *     inside brackets, and "! x").
 *  2. The options: a value runs to the first ';' not escaped by '\'; quotes do
 *     not protect ';' (as in Suricata). Each option name is looked up in
 *     keywords[], a static table {name, argument kind, handler}; a name that
 *     is not there is an unsupported keyword. New keywords are new rows.
 *  3. Content modifiers (nocase, depth, offset, distance, within, startswith,
 *     endswith, fast_pattern, rawbytes) apply to the most recent content; the
 *     checks that need several of them together run when each is applied, so
 *     the error points at the modifier that made the conflict.
 *  4. After the last option: sid present, the fast pattern chosen, severity
 *     derived, PCRE2 JIT compiled.
 *
 * Invariants: a handler returns 0, -1 (syntax error recorded in the parse
 * state) or -2 (out of memory); every allocation hangs off the cg_rule, so
 * cg_rule_free releases a half-built rule as well as a finished one.
 */
#include "analyzer/rule_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "analyzer/addr.h"

#define CONTENT_MAX 65535
#define BUF_OTHER 0xff         /* a buffer this engine does not inspect (rule skipped) */

enum { ARG_NONE, ARG_REQ, ARG_OPT };

/* options that may appear once */
enum {
    S_MSG = 1u << 0, S_SID = 1u << 1, S_REV = 1u << 2, S_GID = 1u << 3,
    S_CLASSTYPE = 1u << 4, S_PRIORITY = 1u << 5, S_FLOW = 1u << 7,
    S_DSIZE = 1u << 8, S_THRESHOLD = 1u << 9, S_FILTER = 1u << 10,
};

struct opt {
    const char *name;
    size_t nlen, npos;         /* npos, vpos: offsets in the rule text */
    const char *val;           /* NULL when the option has no value */
    size_t vlen, vpos;
};

struct ps {
    const char *t;
    size_t len;
    const cg_rule_env *env;
    cg_rule *r;
    cg_rule_diag *d;
    uint32_t cap_match, cap_meta, cap_refs;
    int32_t last_content;      /* index in r->matches of the latest content, or -1 */
    uint8_t buf;               /* the buffer that contents and pcre go to */
    uint8_t class_prio;
    uint32_t seen;             /* S_* */
    int failed, unsupported;
    size_t unsup_pos;
    char unsup_kw[64];
    char unsup_why[160];
};

typedef int (*kw_fn)(struct ps *, const struct opt *);

/* ---- diagnostics ---------------------------------------------------------- */

static int fail(struct ps *ps, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ps *ps, size_t pos, const char *fmt, ...)
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

/* Records the first unsupported keyword; parsing goes on (syntax errors win). */
static int unsupported(struct ps *ps, size_t pos, const char *kw, size_t kwlen, const char *what)
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

static int opt_is(const struct opt *o, const char *name)
{
    return strlen(name) == o->nlen && memcmp(o->name, name, o->nlen) == 0;
}

#define ONAME(o) (int)(o)->nlen, (o)->name

static int once(struct ps *ps, const struct opt *o, uint32_t bit)
{
    if (ps->seen & bit)
        return fail(ps, o->npos, "'%.*s' given twice", ONAME(o));
    ps->seen |= bit;
    return 0;
}

/* ---- small readers -------------------------------------------------------- */

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void trim(const char **s, size_t *n, size_t *pos)
{
    while (*n && is_space((unsigned char)**s)) {
        (*s)++;
        (*n)--;
        (*pos)++;
    }
    while (*n && is_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static int is_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* A decimal integer in [min, max]; `what` names it in messages. */
static int number(struct ps *ps, const char *s, size_t n, size_t pos, const char *what,
                  int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    int64_t v = 0;

    trim(&s, &n, &pos);
    if (n && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n)
        return fail(ps, pos, "%s needs a number", what);
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fail(ps, pos, "bad number '%.*s' for %s", (int)(n > 40 ? 40 : n), s, what);
        if (v > INT64_C(100000000000))
            return fail(ps, pos, "%s %.*s is out of range", what, (int)(n > 40 ? 40 : n), s);
        v = v * 10 + (s[i] - '0');
    }
    if (neg)
        v = -v;
    if (v < min || v > max)
        return fail(ps, pos, "%s %lld is out of range (%lld to %lld)", what, (long long)v,
                    (long long)min, (long long)max);
    *out = v;
    return 0;
}

/* The quoted string of o's value from byte `off` on (after a '!'). The
 * closing quote must end the value; inner text is returned undecoded. */
static int quoted(struct ps *ps, const struct opt *o, size_t off, const char **in, size_t *inlen,
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
        return fail(ps, p, "%.*s needs a quoted string", ONAME(o));
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
            return fail(ps, p + first + 1, "text after the closing quote of %.*s (missing ';'?)",
                        ONAME(o));
        return fail(ps, p, "unterminated string");
    }
    *in = v + 1;
    *inlen = n - 2;
    *inpos = p + 1;
    return 0;
}

static char *dupn(const char *s, size_t n) { return strndup(s, n); }

/* msg text: every "\x" becomes x (Suricata's msg only logs odd escapes). */
static char *unescape(const char *s, size_t n)
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
static int decode_content(struct ps *ps, const char *s, size_t n, size_t pos, uint8_t **out,
                          uint32_t *outlen)
{
    uint8_t *b = malloc(n ? n : 1);
    size_t w = 0, hexstart = 0;
    int hex = 0, nib = -1, rc = -1;

    if (!b)
        return -2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (hex) {
            if (c == '|') {
                if (nib >= 0) {
                    fail(ps, pos + i, "odd number of hex digits in content");
                    goto out;
                }
                hex = 0;
            } else if (c == ' ' || c == '\t') {
                continue;
            } else if (hexval(c) < 0) {
                fail(ps, pos + i, "bad hex digit '%c' in content", c >= 0x20 && c < 0x7f ? c : '?');
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
                fail(ps, pos + i, "bad escape in content (only \\\" \\; \\\\ \\: are allowed)");
                goto out;
            }
            b[w++] = e;
            i++;
        } else if (c == '"') {
            fail(ps, pos + i, "unescaped '\"' in content");
            goto out;
        } else {
            b[w++] = c;
        }
    }
    if (hex) {
        fail(ps, pos + hexstart, "unterminated hex block in content");
        goto out;
    }
    if (w == 0) {
        fail(ps, pos, "empty content");
        goto out;
    }
    if (w > CONTENT_MAX) {
        fail(ps, pos, "content longer than %d bytes", CONTENT_MAX);
        goto out;
    }
    *out = b;
    *outlen = (uint32_t)w;
    return 0;
out:
    free(b);
    return rc;
}

/* Splits v at commas: calls fn for each trimmed, non-empty item. */
typedef int (*item_fn)(struct ps *, const struct opt *, const char *, size_t, size_t, void *);

static int each_item(struct ps *ps, const struct opt *o, item_fn fn, void *ctx)
{
    size_t i = 0;
    while (i <= o->vlen) {
        size_t start = i;
        while (i < o->vlen && o->val[i] != ',')
            i++;
        const char *s = o->val + start;
        size_t n = i - start, pos = o->vpos + start;
        trim(&s, &n, &pos);
        if (n) {
            int rc = fn(ps, o, s, n, pos, ctx);
            if (rc)
                return rc;
        }
        i++;
    }
    return 0;
}

/* ---- growing arrays ------------------------------------------------------- */

static cg_match *new_match(struct ps *ps)
{
    cg_rule *r = ps->r;
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
    return m;
}

static int push_kv(cg_kv **arr, uint32_t *n, uint32_t *cap, const char *k, size_t kl,
                   const char *v, size_t vl)
{
    if (*n == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        cg_kv *a = realloc(*arr, nc * sizeof *a);
        if (!a)
            return -2;
        *arr = a;
        *cap = nc;
    }
    char *ks = dupn(k, kl), *vs = dupn(v, vl);
    if (!ks || !vs) {
        free(ks);
        free(vs);
        return -2;
    }
    (*arr)[*n].key = ks;
    (*arr)[*n].value = vs;
    (*n)++;
    return 0;
}

/* ---- meta keywords -------------------------------------------------------- */

static int kw_msg(struct ps *ps, const struct opt *o)
{
    const char *s;
    size_t n, p;
    if (once(ps, o, S_MSG) || quoted(ps, o, 0, &s, &n, &p))
        return -1;
    free(ps->r->msg);
    ps->r->msg = unescape(s, n);
    return ps->r->msg ? 0 : -2;
}

static int kw_sid(struct ps *ps, const struct opt *o)
{
    int64_t v;
    if (once(ps, o, S_SID) || number(ps, o->val, o->vlen, o->vpos, "sid", 1, UINT32_MAX, &v))
        return -1;
    ps->r->sid = (uint32_t)v;
    ps->d->sid = (uint32_t)v;
    ps->d->sid_pos = o->npos;
    return 0;
}

static int kw_rev(struct ps *ps, const struct opt *o)
{
    int64_t v;
    if (once(ps, o, S_REV) || number(ps, o->val, o->vlen, o->vpos, "rev", 0, UINT32_MAX, &v))
        return -1;
    ps->r->rev = (uint32_t)v;
    return 0;
}

static int kw_gid(struct ps *ps, const struct opt *o)
{
    int64_t v;
    if (once(ps, o, S_GID) || number(ps, o->val, o->vlen, o->vpos, "gid", 0, UINT32_MAX, &v))
        return -1;
    ps->r->gid = (uint32_t)v;
    return 0;
}

static int kw_priority(struct ps *ps, const struct opt *o)
{
    int64_t v;
    if (once(ps, o, S_PRIORITY) ||
        number(ps, o->val, o->vlen, o->vpos, "priority", 1, 255, &v))
        return -1;
    ps->r->priority = (uint8_t)v;
    return 0;
}

static int kw_classtype(struct ps *ps, const struct opt *o)
{
    if (once(ps, o, S_CLASSTYPE))
        return -1;
    const cg_class *c = cg_classes_find(ps->env->classes, o->val, o->vlen);
    if (!c)
        return fail(ps, o->vpos, "unknown classtype '%.*s'", (int)(o->vlen > 60 ? 60 : o->vlen),
                    o->val);
    ps->r->classtype = dupn(o->val, o->vlen);
    ps->r->class_desc = strdup(c->desc);
    ps->class_prio = c->prio;
    return ps->r->classtype && ps->r->class_desc ? 0 : -2;
}

static int kw_reference(struct ps *ps, const struct opt *o)
{
    const char *comma = memchr(o->val, ',', o->vlen);
    if (!comma)
        return fail(ps, o->vpos, "reference needs 'type,value'");
    const char *k = o->val, *v = comma + 1;
    size_t kl = (size_t)(comma - o->val), vl = o->vlen - kl - 1, kp = o->vpos, vp = kp + kl + 1;
    trim(&k, &kl, &kp);
    trim(&v, &vl, &vp);
    if (kl == 0 || vl == 0)
        return fail(ps, o->vpos, "reference needs 'type,value'");
    return push_kv(&ps->r->refs, &ps->r->nrefs, &ps->cap_refs, k, kl, v, vl);
}

static int meta_item(struct ps *ps, const struct opt *o, const char *s, size_t n, size_t pos,
                     void *ctx)
{
    (void)o;
    (void)ctx;
    size_t kl = 0;
    while (kl < n && !is_space((unsigned char)s[kl]))
        kl++;
    const char *v = s + kl;
    size_t vl = n - kl, vp = pos + kl;
    trim(&v, &vl, &vp);
    if (kl == 5 && strncasecmp(s, "layer", 5) == 0) {
        if (vl != 1 || v[0] < '1' || v[0] > '4')
            return fail(ps, pos, "metadata 'layer' must be 1, 2, 3 or 4");
        ps->r->layers |= (uint8_t)CG_LAYER(v[0] - '0');
    }
    return push_kv(&ps->r->meta, &ps->r->nmeta, &ps->cap_meta, s, kl, v, vl);
}

static int kw_metadata(struct ps *ps, const struct opt *o)
{
    return each_item(ps, o, meta_item, NULL);
}

static int kw_target(struct ps *ps, const struct opt *o)
{
    if (!is_word(o->val, o->vlen, "src_ip") && !is_word(o->val, o->vlen, "dest_ip"))
        return fail(ps, o->vpos, "target must be src_ip or dest_ip");
    if (ps->r->target) {       /* ET repeats it; only a contradiction is an error */
        if (is_word(o->val, o->vlen, ps->r->target))
            return 0;
        return fail(ps, o->npos, "target given twice with different values");
    }
    ps->r->target = dupn(o->val, o->vlen);
    return ps->r->target ? 0 : -2;
}

/* ---- content and its modifiers -------------------------------------------- */

static int kw_content(struct ps *ps, const struct opt *o)
{
    size_t off = 0;
    const char *s;
    size_t n, p;
    uint16_t flags = 0;
    int rc;

    if (o->val[0] == '!') {
        flags |= CG_C_NEGATED;
        off = 1;
    }
    if (quoted(ps, o, off, &s, &n, &p))
        return -1;
    cg_match *m = new_match(ps);
    if (!m)
        return -2;
    m->type = CG_M_CONTENT;
    m->buf = ps->buf;
    m->u.c.flags = flags;
    if ((rc = decode_content(ps, s, n, p, &m->u.c.bytes, &m->u.c.len)) != 0)
        return rc;
    ps->last_content = (int32_t)ps->r->nmatch;
    ps->r->nmatch++;
    return 0;
}

/* The content a modifier applies to: the most recent one. */
static cg_content *target_content(struct ps *ps, const struct opt *o)
{
    if (ps->last_content < 0) {
        fail(ps, o->npos, "'%.*s' needs a preceding content", ONAME(o));
        return NULL;
    }
    return &ps->r->matches[ps->last_content].u.c;
}

#define C_ABS (CG_C_OFFSET | CG_C_DEPTH)
#define C_REL (CG_C_DISTANCE | CG_C_WITHIN)

/* Suricata's rules for modifiers that cannot go together on one content. */
static int check_content(struct ps *ps, const struct opt *o, const cg_content *c)
{
    uint16_t f = c->flags;
    if ((f & C_ABS) && (f & C_REL))
        return fail(ps, o->npos, "'%.*s': depth/offset can't be mixed with distance/within "
                    "on one content", ONAME(o));
    if ((f & CG_C_STARTSWITH) && (f & (C_ABS | C_REL)))
        return fail(ps, o->npos, "'%.*s': startswith can't be mixed with depth, offset, "
                    "distance or within", ONAME(o));
    if ((f & CG_C_FAST_ONLY) && (f & (CG_C_NEGATED | C_ABS | C_REL)))
        return fail(ps, o->npos, "'%.*s': fast_pattern:only can't be used on a negated or "
                    "positioned content", ONAME(o));
    if ((f & CG_C_FAST) && (f & CG_C_NEGATED) && (f & (C_ABS | C_REL)))
        return fail(ps, o->npos, "'%.*s': fast_pattern can't be used on a negated content "
                    "with depth, offset, distance or within", ONAME(o));
    return 0;
}

static int kw_nocase(struct ps *ps, const struct opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_NOCASE)
        return fail(ps, o->npos, "nocase given twice for one content");
    c->flags |= CG_C_NOCASE;
    return 0;
}

static int kw_rawbytes(struct ps *ps, const struct opt *o)
{
    return target_content(ps, o) ? 0 : -1;   /* the payload is raw already */
}

/* depth, offset, distance, within: the number, or a byte_extract variable name. */
static int position(struct ps *ps, const struct opt *o, cg_content **cp, uint16_t flag,
                    int64_t min, int64_t max, int64_t *v)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    char ch = o->val[0];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
        unsupported(ps, o->vpos, "byte_extract", 12, "keyword");
        return 1;
    }
    if (c->flags & flag)
        return fail(ps, o->npos, "'%.*s' given twice for one content", ONAME(o));
    char what[24];
    snprintf(what, sizeof what, "%.*s", ONAME(o));
    if (number(ps, o->val, o->vlen, o->vpos, what, min, max, v))
        return -1;
    c->flags |= flag;
    *cp = c;
    return 0;
}

static int kw_depth(struct ps *ps, const struct opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_DEPTH, 0, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    if (v < c->len)
        return fail(ps, o->vpos, "depth %lld is shorter than the content (%u bytes)",
                    (long long)v, c->len);
    c->depth = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_offset(struct ps *ps, const struct opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_OFFSET, 0, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    c->offset = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_distance(struct ps *ps, const struct opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_DISTANCE, -CONTENT_MAX, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    c->distance = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_within(struct ps *ps, const struct opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_WITHIN, -CONTENT_MAX, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    if (v < c->len)
        return fail(ps, o->vpos, "within %lld is shorter than the content (%u bytes)",
                    (long long)v, c->len);
    c->within = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_startswith(struct ps *ps, const struct opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_STARTSWITH)
        return fail(ps, o->npos, "startswith given twice for one content");
    c->flags |= CG_C_STARTSWITH;
    return check_content(ps, o, c);
}

static int kw_endswith(struct ps *ps, const struct opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_ENDSWITH)
        return fail(ps, o->npos, "endswith given twice for one content");
    c->flags |= CG_C_ENDSWITH;
    return check_content(ps, o, c);
}

static int kw_fast_pattern(struct ps *ps, const struct opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_FAST)
        return fail(ps, o->npos, "fast_pattern given twice for one content");
    for (uint32_t i = 0; i < ps->r->nmatch; i++)
        if (ps->r->matches[i].type == CG_M_CONTENT && (ps->r->matches[i].u.c.flags & CG_C_FAST))
            return fail(ps, o->npos, "fast_pattern can be used on only one content in a rule");
    if (o->val == NULL) {
        c->flags |= CG_C_FAST;
    } else if (is_word(o->val, o->vlen, "only")) {
        c->flags |= CG_C_FAST | CG_C_FAST_ONLY;
    } else {
        const char *comma = memchr(o->val, ',', o->vlen);
        int64_t off, len;
        if (!comma)
            return fail(ps, o->vpos, "fast_pattern takes nothing, 'only' or 'offset,length'");
        size_t ol = (size_t)(comma - o->val);
        if (number(ps, o->val, ol, o->vpos, "fast_pattern offset", 0, CONTENT_MAX, &off) ||
            number(ps, comma + 1, o->vlen - ol - 1, o->vpos + ol + 1, "fast_pattern length", 1,
                   CONTENT_MAX, &len))
            return -1;
        if (off + len > c->len)
            return fail(ps, o->vpos, "fast_pattern %lld,%lld runs past the content (%u bytes)",
                        (long long)off, (long long)len, c->len);
        c->flags |= CG_C_FAST | CG_C_FAST_CHOP;
        c->fp_off = (uint16_t)off;
        c->fp_len = (uint16_t)len;
    }
    return check_content(ps, o, c);
}

static int kw_pkt_data(struct ps *ps, const struct opt *o)
{
    (void)o;
    ps->buf = CG_BUF_PAYLOAD;
    return 0;
}

/* ---- pcre ----------------------------------------------------------------- */

static int kw_pcre(struct ps *ps, const struct opt *o)
{
    size_t off = 0, n, p;
    const char *s;
    uint32_t flags = 0, opts = 0;

    if (o->val[0] == '!') {
        flags |= CG_P_NEGATED;
        off = 1;
    }
    if (quoted(ps, o, off, &s, &n, &p))
        return -1;
    const char *last = n ? s + n - 1 : s;
    while (last > s && *last != '/')
        last--;
    if (n < 2 || s[0] != '/' || last == s)
        return fail(ps, p, "pcre must be written \"/pattern/flags\"");
    const char *pat = s + 1;
    size_t patlen = (size_t)(last - pat);
    for (const char *f = last + 1; f < s + n; f++) {
        switch (*f) {
        case 'i': opts |= PCRE2_CASELESS; break;
        case 's': opts |= PCRE2_DOTALL; break;
        case 'm': opts |= PCRE2_MULTILINE; break;
        case 'x': opts |= PCRE2_EXTENDED; break;
        case 'A': opts |= PCRE2_ANCHORED; break;
        case 'E': opts |= PCRE2_DOLLAR_ENDONLY; break;
        case 'G': opts |= PCRE2_UNGREEDY; break;
        case 'R': flags |= CG_P_RELATIVE; break;
        case 'B': flags |= CG_P_RAWBYTES; break;
        case 'O': flags |= CG_P_NOLIMIT; break;
        case 'U': case 'I': case 'P': case 'Q': case 'H': case 'D': case 'M':
        case 'C': case 'S': case 'Y': case 'V': case 'W': case 'Z': {
            char kw[16];
            snprintf(kw, sizeof kw, "pcre-buffer-%c", *f);
            unsupported(ps, p + (size_t)(f - s), kw, strlen(kw), "pcre buffer flag");
            break;
        }
        default:
            return fail(ps, p + (size_t)(f - s), "unknown pcre flag '%c'",
                        *f >= 0x20 && *f < 0x7f ? *f : '?');
        }
    }
    /* Named groups pkt_*, flow_*, alert_* capture into variables in Suricata. */
    static const char *const captures[] = { "(?P<pkt_", "(?P<flow_", "(?P<alert_",
                                            "(?<pkt_", "(?<flow_", "(?<alert_" };
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
        if (memmem(pat, patlen, captures[i], strlen(captures[i])))
            unsupported(ps, p, "pcre-capture", 12, "keyword");
    if (flags & CG_P_RELATIVE) {
        int prev = 0;
        for (uint32_t i = 0; i < ps->r->nmatch; i++)
            if (ps->r->matches[i].buf == ps->buf)
                prev = 1;
        if (!prev && ps->buf == CG_BUF_PAYLOAD)
            return fail(ps, o->npos, "pcre with R (relative) needs a preceding content or pcre");
    }

    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, patlen, opts, &ec, &eo, NULL);
    if (!code) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return fail(ps, (size_t)(pat - ps->t) + (eo < patlen ? eo : patlen),
                    "pcre: %s (at offset %zu of the pattern)", (const char *)msg, (size_t)eo);
    }
    cg_match *m = new_match(ps);
    char *src = dupn(s, n);
    if (!m || !src) {
        pcre2_code_free(code);
        free(src);
        return -2;
    }
    m->type = CG_M_PCRE;
    m->buf = ps->buf;
    m->u.p.code = code;
    m->u.p.source = src;
    m->u.p.flags = flags;
    ps->r->nmatch++;
    return 0;
}

/* ---- flow, dsize, threshold ----------------------------------------------- */

static int flow_item(struct ps *ps, const struct opt *o, const char *s, size_t n, size_t pos,
                     void *ctx)
{
    (void)o;
    (void)ctx;
    static const struct { const char *name; uint8_t bit; } words[] = {
        { "to_server", CG_F_TO_SERVER }, { "from_client", CG_F_TO_SERVER },
        { "to_client", CG_F_TO_CLIENT }, { "from_server", CG_F_TO_CLIENT },
        { "established", CG_F_ESTABLISHED }, { "not_established", CG_F_NOT_ESTABLISHED },
        { "stateless", CG_F_STATELESS },
    };
    static const char *const unsupp[] = { "only_stream", "no_stream", "only_frag", "no_frag" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (is_word(s, n, words[i].name)) {
            ps->r->flow |= words[i].bit;
            return 0;
        }
    for (size_t i = 0; i < sizeof unsupp / sizeof unsupp[0]; i++)
        if (is_word(s, n, unsupp[i])) {
            char kw[32];
            snprintf(kw, sizeof kw, "flow:%s", unsupp[i]);
            return unsupported(ps, pos, kw, strlen(kw), "keyword");
        }
    return fail(ps, pos, "unknown flow option '%.*s'", (int)(n > 40 ? 40 : n), s);
}

static int kw_flow(struct ps *ps, const struct opt *o)
{
    if (once(ps, o, S_FLOW) || each_item(ps, o, flow_item, NULL))
        return -1;
    uint8_t f = ps->r->flow;
    if ((f & CG_F_TO_SERVER) && (f & CG_F_TO_CLIENT))
        return fail(ps, o->vpos, "flow can't be both to_server and to_client");
    if (((f & CG_F_ESTABLISHED) != 0) + ((f & CG_F_NOT_ESTABLISHED) != 0) +
        ((f & CG_F_STATELESS) != 0) > 1)
        return fail(ps, o->vpos, "flow: established, not_established and stateless exclude "
                    "each other");
    return 0;
}

static int kw_dsize(struct ps *ps, const struct opt *o)
{
    const char *s = o->val, *e = o->val + o->vlen;
    cg_dsize *ds = &ps->r->dsize;
    int64_t a, b;

    if (once(ps, o, S_DSIZE))
        return -1;
    static const struct { const char *op; uint8_t code; } prefix[] = {
        { "<=", CG_DS_LE }, { ">=", CG_DS_GE }, { "<", CG_DS_LT }, { ">", CG_DS_GT },
        { "!", CG_DS_NE }, { "=", CG_DS_EQ },
    };
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        size_t l = strlen(prefix[i].op);
        if ((size_t)(e - s) >= l && memcmp(s, prefix[i].op, l) == 0) {
            if (number(ps, s + l, (size_t)(e - s) - l, o->vpos + l, "dsize", 0, 65535, &a))
                return -1;
            ds->op = prefix[i].code;
            ds->a = (uint32_t)a;
            return 0;
        }
    }
    const char *q = s;
    while (q < e && *q >= '0' && *q <= '9')
        q++;
    const char *r = q;
    while (r < e && is_space((unsigned char)*r))
        r++;
    if (r == e) {
        if (number(ps, s, (size_t)(q - s), o->vpos, "dsize", 0, 65535, &a))
            return -1;
        ds->op = CG_DS_EQ;
        ds->a = (uint32_t)a;
        return 0;
    }
    size_t sep = (e - r >= 2 && r[0] == '<' && r[1] == '>') ? 2 : (*r == '-') ? 1 : 0;
    if (sep == 0)
        return fail(ps, o->vpos, "bad dsize '%.*s'", (int)(o->vlen > 40 ? 40 : o->vlen), o->val);
    size_t bpos = (size_t)(r + sep - o->val);
    if (number(ps, s, (size_t)(q - s), o->vpos, "dsize", 0, 65535, &a) ||
        number(ps, r + sep, o->vlen - bpos, o->vpos + bpos, "dsize", 0, 65535, &b))
        return -1;
    if (a >= b)
        return fail(ps, o->vpos, "dsize range %lld<>%lld needs the first number smaller",
                    (long long)a, (long long)b);
    ds->op = CG_DS_RANGE;
    ds->a = (uint32_t)a;
    ds->b = (uint32_t)b;
    return 0;
}

struct thr_ctx {
    cg_threshold *t;
    int filter;                /* detection_filter: no type */
    unsigned have;             /* 1 type, 2 track, 4 count, 8 seconds */
};

static int thr_item(struct ps *ps, const struct opt *o, const char *s, size_t n, size_t pos,
                    void *vctx)
{
    struct thr_ctx *c = vctx;
    size_t kl = 0;
    while (kl < n && !is_space((unsigned char)s[kl]))
        kl++;
    const char *v = s + kl;
    size_t vl = n - kl, vp = pos + kl;
    unsigned bit;
    int64_t num;
    trim(&v, &vl, &vp);

    if (is_word(s, kl, "type") && !c->filter)
        bit = 1;
    else if (is_word(s, kl, "track"))
        bit = 2;
    else if (is_word(s, kl, "count"))
        bit = 4;
    else if (is_word(s, kl, "seconds"))
        bit = 8;
    else
        return fail(ps, pos, "unknown %.*s option '%.*s'", ONAME(o), (int)(kl > 30 ? 30 : kl), s);
    if (c->have & bit)
        return fail(ps, pos, "'%.*s' given twice in %.*s", (int)kl, s, ONAME(o));
    c->have |= bit;
    if (bit == 1) {
        if (is_word(v, vl, "limit"))
            c->t->type = CG_TH_LIMIT;
        else if (is_word(v, vl, "threshold"))
            c->t->type = CG_TH_THRESHOLD;
        else if (is_word(v, vl, "both"))
            c->t->type = CG_TH_BOTH;
        else
            return fail(ps, vp, "threshold type must be limit, threshold or both");
    } else if (bit == 2) {
        if (is_word(v, vl, "by_src"))
            c->t->track = CG_TRACK_SRC;
        else if (is_word(v, vl, "by_dst"))
            c->t->track = CG_TRACK_DST;
        else if (is_word(v, vl, "by_rule"))
            c->t->track = CG_TRACK_RULE;
        else if (is_word(v, vl, "by_both"))
            c->t->track = CG_TRACK_BOTH;
        else
            return fail(ps, vp, "track must be by_src, by_dst, by_rule or by_both");
    } else {
        if (number(ps, v, vl, vp, bit == 4 ? "count" : "seconds", 1, UINT32_MAX, &num))
            return -1;
        if (bit == 4)
            c->t->count = (uint32_t)num;
        else
            c->t->seconds = (uint32_t)num;
    }
    return 0;
}

static int threshold_common(struct ps *ps, const struct opt *o, cg_threshold *t, int filter)
{
    struct thr_ctx c = { t, filter, 0 };
    if ((ps->seen & (S_THRESHOLD | S_FILTER)) && !(ps->seen & (filter ? S_FILTER : S_THRESHOLD)))
        return fail(ps, o->npos, "threshold and detection_filter can't be used in one rule");
    if (once(ps, o, filter ? S_FILTER : S_THRESHOLD) || each_item(ps, o, thr_item, &c))
        return -1;
    unsigned need = filter ? 14u : 15u;
    if ((c.have & need) != need)
        return fail(ps, o->vpos, filter ? "detection_filter needs track, count and seconds"
                                        : "threshold needs type, track, count and seconds");
    if (filter)
        t->type = CG_TH_DETECTION_FILTER;
    return 0;
}

static int kw_threshold(struct ps *ps, const struct opt *o)
{
    return threshold_common(ps, o, &ps->r->threshold, 0);
}

static int kw_detection_filter(struct ps *ps, const struct opt *o)
{
    return threshold_common(ps, o, &ps->r->filter, 1);
}

/* ---- the keyword table ---------------------------------------------------- */

static const struct keyword {
    const char *name;
    uint8_t arg;
    kw_fn fn;
} keywords[] = {
    { "classtype", ARG_REQ, kw_classtype },
    { "content", ARG_REQ, kw_content },
    { "depth", ARG_REQ, kw_depth },
    { "detection_filter", ARG_REQ, kw_detection_filter },
    { "distance", ARG_REQ, kw_distance },
    { "dsize", ARG_REQ, kw_dsize },
    { "endswith", ARG_NONE, kw_endswith },
    { "fast_pattern", ARG_OPT, kw_fast_pattern },
    { "flow", ARG_REQ, kw_flow },
    { "gid", ARG_REQ, kw_gid },
    { "metadata", ARG_REQ, kw_metadata },
    { "msg", ARG_REQ, kw_msg },
    { "nocase", ARG_NONE, kw_nocase },
    { "offset", ARG_REQ, kw_offset },
    { "pcre", ARG_REQ, kw_pcre },
    { "pkt_data", ARG_NONE, kw_pkt_data },
    { "priority", ARG_REQ, kw_priority },
    { "rawbytes", ARG_NONE, kw_rawbytes },
    { "reference", ARG_REQ, kw_reference },
    { "rev", ARG_REQ, kw_rev },
    { "sid", ARG_REQ, kw_sid },
    { "startswith", ARG_NONE, kw_startswith },
    { "target", ARG_REQ, kw_target },
    { "threshold", ARG_REQ, kw_threshold },
    { "within", ARG_REQ, kw_within },
};

static const struct keyword *find_keyword(const struct opt *o)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (keywords[i].name[0] == o->name[0] && opt_is(o, keywords[i].name))
            return &keywords[i];
    return NULL;
}

static int dispatch(struct ps *ps, const struct opt *o)
{
    const struct keyword *k = find_keyword(o);
    if (!k) {
        /* Sticky buffers and every keyword this engine does not evaluate:
         * what follows a sticky buffer goes to a buffer nobody inspects. */
        ps->buf = BUF_OTHER;
        return unsupported(ps, o->npos, o->name, o->nlen, "keyword");
    }
    if (k->arg == ARG_REQ && (!o->val || o->vlen == 0))
        return fail(ps, o->npos, "'%s' needs a value", k->name);
    if (k->arg == ARG_NONE && o->val)
        return fail(ps, o->npos, "'%s' takes no value", k->name);
    return k->fn(ps, o);
}

/* ---- header --------------------------------------------------------------- */

/* One header token from *pos: up to white space outside brackets; "! x" is
 * one token. Stops at '(' outside brackets. */
static int token(struct ps *ps, size_t *pos, size_t *start, size_t *n)
{
    size_t i = *pos;
    int depth = 0;
    while (i < ps->len && is_space((unsigned char)ps->t[i]))
        i++;
    *start = i;
    for (; i < ps->len; i++) {
        char c = ps->t[i];
        if (c == '[')
            depth++;
        else if (c == ']')
            depth--;
        else if (c == '(' && depth <= 0)
            break;
        else if (is_space((unsigned char)c) && depth <= 0) {
            size_t j = i;
            while (j > *start && ps->t[j - 1] == '!')
                j--;
            if (j != *start || i == *start)   /* not only "!"s so far */
                break;
        }
    }
    *n = i - *start;
    *pos = i;
    if (*n == 0)
        return fail(ps, i, "incomplete rule header");
    return 0;
}

static int header(struct ps *ps, size_t *pos)
{
    static const struct { const char *name; uint8_t act; } actions[] = {
        { "alert", CG_ACT_ALERT }, { "pass", CG_ACT_PASS }, { "drop", CG_ACT_DROP },
        { "reject", CG_ACT_REJECT }, { "rejectsrc", CG_ACT_REJECT },
        { "rejectdst", CG_ACT_REJECT }, { "rejectboth", CG_ACT_REJECT },
    };
    static const struct { const char *name; uint8_t proto, ip_proto; } protos[] = {
        { "ip", CG_RP_IP, 0 }, { "tcp", CG_RP_TCP, 6 }, { "udp", CG_RP_UDP, 17 },
        { "icmp", CG_RP_ICMP, 1 }, { "http", CG_RP_HTTP, 6 }, { "dns", CG_RP_DNS, 0 },
        { "tls", CG_RP_TLS, 6 },
    };
    cg_rule *r = ps->r;
    size_t s, n, i;
    cg_expr_err ee;
    int rc;

    if (token(ps, pos, &s, &n))
        return -1;
    for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (is_word(ps->t + s, n, actions[i].name))
            break;
    if (i == sizeof actions / sizeof actions[0])
        return fail(ps, s, "unknown action '%.*s'", (int)(n > 30 ? 30 : n), ps->t + s);
    r->action = actions[i].act;

    if (token(ps, pos, &s, &n))
        return -1;
    for (i = 0; i < n; i++) {
        char c = ps->t[s + i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return fail(ps, s + i, "bad protocol '%.*s'", (int)(n > 30 ? 30 : n), ps->t + s);
    }
    for (i = 0; i < sizeof protos / sizeof protos[0]; i++)
        if (strlen(protos[i].name) == n && strncasecmp(ps->t + s, protos[i].name, n) == 0)
            break;
    if (i == sizeof protos / sizeof protos[0]) {
        unsupported(ps, s, ps->t + s, n, "protocol");
    } else {
        r->proto = protos[i].proto;
        r->ip_proto = protos[i].ip_proto;
    }

    for (int k = 0; k < 5; k++) {
        if (token(ps, pos, &s, &n))
            return -1;
        const char *t = ps->t + s;
        if (k == 2) {
            if (is_word(t, n, "->"))
                r->bidir = 0;
            else if (is_word(t, n, "<>"))
                r->bidir = 1;
            else
                return fail(ps, s, "bad direction '%.*s' (expected -> or <>)",
                            (int)(n > 30 ? 30 : n), t);
            continue;
        }
        if (k == 0 || k == 3)
            rc = cg_addrset_parse(t, n, ps->env->vars, k == 0 ? &r->src : &r->dst, &ee);
        else
            rc = cg_portset_parse(t, n, ps->env->vars, k == 1 ? &r->sport : &r->dport, &ee);
        if (rc == -2)
            return -2;
        if (rc)
            return fail(ps, s + ee.pos, "%s", ee.why);
    }
    return 0;
}

/* ---- options -------------------------------------------------------------- */

static int is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

static int options(struct ps *ps, size_t i, size_t end)
{
    const char *t = ps->t;
    for (;;) {
        struct opt o = { 0 };
        while (i < end && is_space((unsigned char)t[i]))
            i++;
        if (i >= end)
            return 0;
        o.npos = i;
        o.name = t + i;
        while (i < end && !is_space((unsigned char)t[i]) && t[i] != ':' && t[i] != ';')
            i++;
        o.nlen = i - o.npos;
        if (o.nlen == 0)
            return fail(ps, i, "expected an option name");
        for (size_t k = 0; k < o.nlen; k++)
            if (!is_name_char((unsigned char)o.name[k]))
                return fail(ps, o.npos + k, "bad option name '%.*s'",
                            (int)(o.nlen > 40 ? 40 : o.nlen), o.name);
        while (i < end && is_space((unsigned char)t[i]))
            i++;
        if (i >= end)
            return fail(ps, o.npos, "missing ';' after option '%.*s'", ONAME(&o));
        if (t[i] == ':') {
            size_t vs = ++i;
            while (i < end && t[i] != ';')
                i += (t[i] == '\\' && i + 1 < end) ? 2 : 1;
            if (i >= end)
                return fail(ps, o.npos, "missing ';' after option '%.*s'", ONAME(&o));
            o.val = t + vs;
            o.vlen = i - vs;
            o.vpos = vs;
            trim(&o.val, &o.vlen, &o.vpos);
        } else if (t[i] != ';') {
            return fail(ps, i, "expected ':' or ';' after '%.*s'", ONAME(&o));
        }
        i++;                   /* past ';' */
        int rc = dispatch(ps, &o);
        if (rc)
            return rc;
    }
}

/* The sid of a rule that failed before its sid option was read. */
static uint32_t scan_sid(const char *t, size_t len)
{
    for (size_t i = 0; i + 4 < len; i++) {
        if (memcmp(t + i, "sid", 3) != 0 ||
            (i > 0 && t[i - 1] != ';' && t[i - 1] != '(' && !is_space((unsigned char)t[i - 1])))
            continue;
        size_t j = i + 3;
        while (j < len && is_space((unsigned char)t[j]))
            j++;
        if (j >= len || t[j] != ':')
            continue;
        j++;
        while (j < len && is_space((unsigned char)t[j]))
            j++;
        uint64_t v = 0;
        size_t d = 0;
        while (j < len && t[j] >= '0' && t[j] <= '9' && d < 11) {
            v = v * 10 + (uint64_t)(t[j++] - '0');
            d++;
        }
        if (d && v <= UINT32_MAX && (j == len || t[j] == ';' || is_space((unsigned char)t[j])))
            return (uint32_t)v;
    }
    return 0;
}

/* fp: the content marked fast_pattern, else the longest non-negated content
 * (the first of equals), else -1 (rule.h invariant 4). */
static int32_t choose_fp(const cg_rule *r)
{
    int32_t best = -1;
    for (uint32_t i = 0; i < r->nmatch; i++) {
        const cg_match *m = &r->matches[i];
        if (m->type != CG_M_CONTENT || (m->u.c.flags & CG_C_NEGATED))
            continue;
        if (m->u.c.flags & CG_C_FAST)
            return (int32_t)i;
        if (best < 0 || m->u.c.len > r->matches[best].u.c.len)
            best = (int32_t)i;
    }
    return best;
}

void cg_rule_free(cg_rule *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nmatch; i++) {
        cg_match *m = &r->matches[i];
        if (m->type == CG_M_CONTENT) {
            free(m->u.c.bytes);
        } else {
            pcre2_code_free(m->u.p.code);
            free(m->u.p.source);
        }
    }
    free(r->matches);
    for (uint32_t i = 0; i < r->nmeta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    free(r->meta);
    for (uint32_t i = 0; i < r->nrefs; i++) {
        free(r->refs[i].key);
        free(r->refs[i].value);
    }
    free(r->refs);
    free(r->msg);
    free(r->classtype);
    free(r->class_desc);
    free(r->target);
    cg_addrset_clear(&r->src);
    cg_addrset_clear(&r->dst);
    cg_portset_clear(&r->sport);
    cg_portset_clear(&r->dport);
    memset(r, 0, sizeof *r);
}

int cg_rule_parse(const char *text, size_t len, const cg_rule_env *env, cg_rule *r,
                  cg_rule_diag *d)
{
    struct ps ps;
    size_t pos = 0, close;
    int rc;

    memset(r, 0, sizeof *r);
    memset(d, 0, sizeof *d);
    memset(&ps, 0, sizeof ps);
    ps.t = text;
    ps.len = len;
    ps.env = env;
    ps.r = r;
    ps.d = d;
    ps.last_content = -1;
    ps.buf = CG_BUF_PAYLOAD;
    r->gid = 1;
    r->fp = -1;

    if ((rc = header(&ps, &pos)) != 0)
        goto done;
    while (pos < len && is_space((unsigned char)text[pos]))
        pos++;
    if (pos >= len || text[pos] != '(') {
        rc = fail(&ps, pos, "missing '(' before the options");
        goto done;
    }
    close = len;
    while (close > pos && is_space((unsigned char)text[close - 1]))
        close--;
    if (close <= pos + 1 || text[close - 1] != ')') {
        rc = fail(&ps, close, "missing ')' at the end of the rule");
        goto done;
    }
    if ((rc = options(&ps, pos + 1, close - 1)) != 0)
        goto done;
    if (!(ps.seen & S_SID)) {
        rc = fail(&ps, pos, "missing sid");
        goto done;
    }
done:
    if (rc == -2 || ps.failed) {
        if (rc != -2 && d->sid == 0)
            d->sid = scan_sid(text, len);
        cg_rule_free(r);
        return rc == -2 ? -2 : -1;
    }
    if (ps.unsupported) {
        d->kind = CG_ISSUE_UNSUPPORTED;
        d->pos = ps.unsup_pos;
        memcpy(d->keyword, ps.unsup_kw, sizeof d->keyword);
        snprintf(d->why, sizeof d->why, "%s", ps.unsup_why);
        cg_rule_free(r);
        return -1;
    }
    if (!r->msg && !(r->msg = strdup(""))) {
        cg_rule_free(r);
        return -2;
    }
    r->fp = choose_fp(r);
    unsigned prio = r->priority ? r->priority : ps.class_prio ? ps.class_prio : 3;
    r->severity = (uint8_t)(prio > 4 ? 4 : prio);
    for (uint32_t i = 0; i < r->nmatch; i++)
        if (r->matches[i].type == CG_M_PCRE)   /* failure leaves the interpreter: fine */
            (void)pcre2_jit_compile(r->matches[i].u.p.code, PCRE2_JIT_COMPLETE);
    return 0;
}

const char *cg_severity_name(unsigned sev)
{
    static const char *const names[] = { "high", "medium", "low", "info" };
    return sev >= 1 && sev <= 4 ? names[sev - 1] : "unknown";
}
