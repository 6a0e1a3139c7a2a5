/* rule_kw.c — the option keywords of a rule: one handler each, and the table
 * that names them (rule_kw.h).
 *
 * Semantics follow Suricata 7 (user guide: "Meta keywords", "Payload
 * keywords", "Flow keywords", "Thresholding"); rules/README.md lists what is
 * accepted. A keyword is a row {name, argument kind, handler} of keywords[];
 * adding a keyword is adding a row and its handler.
 *
 * Contract of a handler: it reads one option (name and trimmed value, with
 * their offsets in the rule text) and updates the rule under construction.
 * It returns 0, -1 after cg_rule_fail() recorded a syntax error, or -2 when
 * out of memory. Something this engine does not evaluate is recorded with
 * cg_rule_unsupported() and the handler returns 0 (the rule is read on, then
 * skipped). Content modifiers apply to the most recent content; checks that
 * need several modifiers together run as each is applied, so the error points
 * at the modifier that made the conflict. Everything a handler allocates
 * hangs off the cg_rule, so cg_rule_free() releases a half-built rule.
 */
#include "analyzer/rule_kw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define CONTENT_MAX 65535

/* options that may appear once (cg_rule_ps.seen) */
enum {
    S_MSG = 1u << 0, S_SID = 1u << 1, S_REV = 1u << 2, S_GID = 1u << 3,
    S_CLASSTYPE = 1u << 4, S_PRIORITY = 1u << 5, S_FLOW = 1u << 6,
    S_DSIZE = 1u << 7, S_THRESHOLD = 1u << 8, S_FILTER = 1u << 9,
};

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int is_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* ---- helpers -------------------------------------------------------------- */

static int once(cg_rule_ps *ps, const cg_rule_opt *o, uint32_t bit)
{
    if (ps->seen & bit)
        return cg_rule_fail(ps, o->npos, "'%.*s' given twice", CG_ONAME(o));
    ps->seen |= bit;
    return 0;
}
/* A decimal integer in [min, max]; `what` names it in messages. */
static int number(cg_rule_ps *ps, const char *s, size_t n, size_t pos, const char *what,
                  int64_t min, int64_t max, int64_t *out)
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
            return cg_rule_fail(ps, pos, "%s %.*s is out of range", what,
                                (int)(n > 40 ? 40 : n), s);
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
static int quoted(cg_rule_ps *ps, const cg_rule_opt *o, size_t off, const char **in, size_t *inlen,
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
                                "text after the closing quote of %.*s (missing ';'?)",
                                CG_ONAME(o));
        return cg_rule_fail(ps, p, "unterminated string");
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
static int decode_content(cg_rule_ps *ps, const char *s, size_t n, size_t pos, uint8_t **out,
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
    if (w > CONTENT_MAX) {
        cg_rule_fail(ps, pos, "content longer than %d bytes", CONTENT_MAX);
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
typedef int (*item_fn)(cg_rule_ps *, const cg_rule_opt *, const char *, size_t, size_t, void *);

static int each_item(cg_rule_ps *ps, const cg_rule_opt *o, item_fn fn, void *ctx)
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
/* ---- growing arrays ------------------------------------------------------- */

static cg_match *new_match(cg_rule_ps *ps)
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

static int kw_msg(cg_rule_ps *ps, const cg_rule_opt *o)
{
    const char *s;
    size_t n, p;
    if (once(ps, o, S_MSG) || quoted(ps, o, 0, &s, &n, &p))
        return -1;
    free(ps->r->msg);
    ps->r->msg = unescape(s, n);
    return ps->r->msg ? 0 : -2;
}

static int kw_sid(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (once(ps, o, S_SID) || number(ps, o->val, o->vlen, o->vpos, "sid", 1, UINT32_MAX, &v))
        return -1;
    ps->r->sid = (uint32_t)v;
    ps->d->sid = (uint32_t)v;
    ps->d->sid_pos = o->npos;
    return 0;
}

static int kw_rev(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (once(ps, o, S_REV) || number(ps, o->val, o->vlen, o->vpos, "rev", 0, UINT32_MAX, &v))
        return -1;
    ps->r->rev = (uint32_t)v;
    return 0;
}

static int kw_gid(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (once(ps, o, S_GID) || number(ps, o->val, o->vlen, o->vpos, "gid", 0, UINT32_MAX, &v))
        return -1;
    ps->r->gid = (uint32_t)v;
    return 0;
}

static int kw_priority(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (once(ps, o, S_PRIORITY) ||
        number(ps, o->val, o->vlen, o->vpos, "priority", 1, 255, &v))
        return -1;
    ps->r->priority = (uint8_t)v;
    return 0;
}

static int kw_classtype(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (once(ps, o, S_CLASSTYPE))
        return -1;
    const cg_class *c = cg_classes_find(ps->env->classes, o->val, o->vlen);
    if (!c)
        return cg_rule_fail(ps, o->vpos, "unknown classtype '%.*s'",
                            (int)(o->vlen > 60 ? 60 : o->vlen), o->val);
    ps->r->classtype = dupn(o->val, o->vlen);
    ps->r->class_desc = strdup(c->desc);
    ps->class_prio = c->prio;
    return ps->r->classtype && ps->r->class_desc ? 0 : -2;
}

static int kw_reference(cg_rule_ps *ps, const cg_rule_opt *o)
{
    const char *comma = memchr(o->val, ',', o->vlen);
    if (!comma)
        return cg_rule_fail(ps, o->vpos, "reference needs 'type,value'");
    const char *k = o->val, *v = comma + 1;
    size_t kl = (size_t)(comma - o->val), vl = o->vlen - kl - 1, kp = o->vpos, vp = kp + kl + 1;
    cg_rule_trim(&k, &kl, &kp);
    cg_rule_trim(&v, &vl, &vp);
    if (kl == 0 || vl == 0)
        return cg_rule_fail(ps, o->vpos, "reference needs 'type,value'");
    return push_kv(&ps->r->refs, &ps->r->nrefs, &ps->cap_refs, k, kl, v, vl);
}

static int meta_item(cg_rule_ps *ps, const cg_rule_opt *o, const char *s, size_t n, size_t pos,
                     void *ctx)
{
    (void)o;
    (void)ctx;
    size_t kl = 0;
    while (kl < n && !is_space((unsigned char)s[kl]))
        kl++;
    const char *v = s + kl;
    size_t vl = n - kl, vp = pos + kl;
    cg_rule_trim(&v, &vl, &vp);
    if (kl == 5 && strncasecmp(s, "layer", 5) == 0) {
        if (vl != 1 || v[0] < '1' || v[0] > '4')
            return cg_rule_fail(ps, pos, "metadata 'layer' must be 1, 2, 3 or 4");
        ps->r->layers |= (uint8_t)CG_LAYER(v[0] - '0');
    }
    return push_kv(&ps->r->meta, &ps->r->nmeta, &ps->cap_meta, s, kl, v, vl);
}

static int kw_metadata(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return each_item(ps, o, meta_item, NULL);
}

static int kw_target(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (!is_word(o->val, o->vlen, "src_ip") && !is_word(o->val, o->vlen, "dest_ip"))
        return cg_rule_fail(ps, o->vpos, "target must be src_ip or dest_ip");
    if (ps->r->target) {       /* ET repeats it; only a contradiction is an error */
        if (is_word(o->val, o->vlen, ps->r->target))
            return 0;
        return cg_rule_fail(ps, o->npos, "target given twice with different values");
    }
    ps->r->target = dupn(o->val, o->vlen);
    return ps->r->target ? 0 : -2;
}

/* ---- content and its modifiers -------------------------------------------- */

static int kw_content(cg_rule_ps *ps, const cg_rule_opt *o)
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
static cg_content *target_content(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (ps->last_content < 0) {
        cg_rule_fail(ps, o->npos, "'%.*s' needs a preceding content", CG_ONAME(o));
        return NULL;
    }
    return &ps->r->matches[ps->last_content].u.c;
}

#define C_ABS (CG_C_OFFSET | CG_C_DEPTH)
#define C_REL (CG_C_DISTANCE | CG_C_WITHIN)

/* Suricata's rules for modifiers that cannot go together on one content. */
static int check_content(cg_rule_ps *ps, const cg_rule_opt *o, const cg_content *c)
{
    uint16_t f = c->flags;
    if ((f & C_ABS) && (f & C_REL))
        return cg_rule_fail(ps, o->npos, "'%.*s': depth/offset can't be mixed with distance/within "
                            "on one content", CG_ONAME(o));
    if ((f & CG_C_STARTSWITH) && (f & (C_ABS | C_REL)))
        return cg_rule_fail(ps, o->npos, "'%.*s': startswith can't be mixed with depth, offset, "
                            "distance or within", CG_ONAME(o));
    if ((f & CG_C_FAST_ONLY) && (f & (CG_C_NEGATED | C_ABS | C_REL)))
        return cg_rule_fail(ps, o->npos, "'%.*s': fast_pattern:only can't be used on a negated or "
                            "positioned content", CG_ONAME(o));
    if ((f & CG_C_FAST) && (f & CG_C_NEGATED) && (f & (C_ABS | C_REL)))
        return cg_rule_fail(ps, o->npos, "'%.*s': fast_pattern can't be used on a negated content "
                            "with depth, offset, distance or within", CG_ONAME(o));
    return 0;
}

static int kw_nocase(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_NOCASE)
        return cg_rule_fail(ps, o->npos, "nocase given twice for one content");
    c->flags |= CG_C_NOCASE;
    return 0;
}

static int kw_rawbytes(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return target_content(ps, o) ? 0 : -1;   /* the payload is raw already */
}

/* depth, offset, distance, within: the number, or a byte_extract variable name. */
static int position(cg_rule_ps *ps, const cg_rule_opt *o, cg_content **cp, uint16_t flag,
                    int64_t min, int64_t max, int64_t *v)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    char ch = o->val[0];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
        cg_rule_unsupported(ps, o->vpos, "byte_extract", 12, "keyword");
        return 1;
    }
    if (c->flags & flag)
        return cg_rule_fail(ps, o->npos, "'%.*s' given twice for one content", CG_ONAME(o));
    char what[24];
    snprintf(what, sizeof what, "%.*s", CG_ONAME(o));
    if (number(ps, o->val, o->vlen, o->vpos, what, min, max, v))
        return -1;
    c->flags |= flag;
    *cp = c;
    return 0;
}

static int kw_depth(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_DEPTH, 0, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    if (v < c->len)
        return cg_rule_fail(ps, o->vpos, "depth %lld is shorter than the content (%u bytes)",
                            (long long)v, c->len);
    c->depth = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_offset(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_OFFSET, 0, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    c->offset = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_distance(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_DISTANCE, -CONTENT_MAX, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    c->distance = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_within(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_WITHIN, -CONTENT_MAX, CONTENT_MAX, &v);
    if (rc)
        return rc < 0 ? -1 : 0;
    if (v < c->len)
        return cg_rule_fail(ps, o->vpos, "within %lld is shorter than the content (%u bytes)",
                            (long long)v, c->len);
    c->within = (int32_t)v;
    return check_content(ps, o, c);
}

static int kw_startswith(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_STARTSWITH)
        return cg_rule_fail(ps, o->npos, "startswith given twice for one content");
    c->flags |= CG_C_STARTSWITH;
    return check_content(ps, o, c);
}

static int kw_endswith(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_ENDSWITH)
        return cg_rule_fail(ps, o->npos, "endswith given twice for one content");
    c->flags |= CG_C_ENDSWITH;
    return check_content(ps, o, c);
}

static int kw_fast_pattern(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_FAST)
        return cg_rule_fail(ps, o->npos, "fast_pattern given twice for one content");
    for (uint32_t i = 0; i < ps->r->nmatch; i++)
        if (ps->r->matches[i].type == CG_M_CONTENT && (ps->r->matches[i].u.c.flags & CG_C_FAST))
            return cg_rule_fail(ps, o->npos,
                                "fast_pattern can be used on only one content in a rule");
    if (o->val == NULL) {
        c->flags |= CG_C_FAST;
    } else if (is_word(o->val, o->vlen, "only")) {
        c->flags |= CG_C_FAST | CG_C_FAST_ONLY;
    } else {
        const char *comma = memchr(o->val, ',', o->vlen);
        int64_t off, len;
        if (!comma)
            return cg_rule_fail(ps, o->vpos,
                                "fast_pattern takes nothing, 'only' or 'offset,length'");
        size_t ol = (size_t)(comma - o->val);
        if (number(ps, o->val, ol, o->vpos, "fast_pattern offset", 0, CONTENT_MAX, &off) ||
            number(ps, comma + 1, o->vlen - ol - 1, o->vpos + ol + 1, "fast_pattern length", 1,
                   CONTENT_MAX, &len))
            return -1;
        if (off + len > c->len)
            return cg_rule_fail(ps, o->vpos,
                                "fast_pattern %lld,%lld runs past the content (%u bytes)",
                                (long long)off, (long long)len, c->len);
        c->flags |= CG_C_FAST | CG_C_FAST_CHOP;
        c->fp_off = (uint16_t)off;
        c->fp_len = (uint16_t)len;
    }
    return check_content(ps, o, c);
}

static int kw_pkt_data(cg_rule_ps *ps, const cg_rule_opt *o)
{
    (void)o;
    ps->buf = CG_BUF_PAYLOAD;
    return 0;
}

/* ---- pcre ----------------------------------------------------------------- */

static int kw_pcre(cg_rule_ps *ps, const cg_rule_opt *o)
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
        return cg_rule_fail(ps, p, "pcre must be written \"/pattern/flags\"");
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
            cg_rule_unsupported(ps, p + (size_t)(f - s), kw, strlen(kw), "pcre buffer flag");
            break;
        }
        default:
            return cg_rule_fail(ps, p + (size_t)(f - s), "unknown pcre flag '%c'",
                                *f >= 0x20 && *f < 0x7f ? *f : '?');
        }
    }
    /* Named groups pkt_*, flow_*, alert_* capture into variables in Suricata. */
    static const char *const captures[] = { "(?P<pkt_", "(?P<flow_", "(?P<alert_",
                                            "(?<pkt_", "(?<flow_", "(?<alert_" };
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
        if (memmem(pat, patlen, captures[i], strlen(captures[i])))
            cg_rule_unsupported(ps, p, "pcre-capture", 12, "keyword");
    if (flags & CG_P_RELATIVE) {
        int prev = 0;
        for (uint32_t i = 0; i < ps->r->nmatch; i++)
            if (ps->r->matches[i].buf == ps->buf)
                prev = 1;
        if (!prev && ps->buf == CG_BUF_PAYLOAD)
            return cg_rule_fail(ps, o->npos,
                                "pcre with R (relative) needs a preceding content or pcre");
    }

    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, patlen, opts, &ec, &eo, NULL);
    if (!code) {
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return cg_rule_fail(ps, (size_t)(pat - ps->t) + (eo < patlen ? eo : patlen),
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

static int flow_item(cg_rule_ps *ps, const cg_rule_opt *o, const char *s, size_t n, size_t pos,
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
            return cg_rule_unsupported(ps, pos, kw, strlen(kw), "keyword");
        }
    return cg_rule_fail(ps, pos, "unknown flow option '%.*s'", (int)(n > 40 ? 40 : n), s);
}

static int kw_flow(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (once(ps, o, S_FLOW) || each_item(ps, o, flow_item, NULL))
        return -1;
    uint8_t f = ps->r->flow;
    if ((f & CG_F_TO_SERVER) && (f & CG_F_TO_CLIENT))
        return cg_rule_fail(ps, o->vpos, "flow can't be both to_server and to_client");
    if (((f & CG_F_ESTABLISHED) != 0) + ((f & CG_F_NOT_ESTABLISHED) != 0) +
        ((f & CG_F_STATELESS) != 0) > 1)
        return cg_rule_fail(ps, o->vpos, "flow: established, not_established and stateless exclude "
                            "each other");
    return 0;
}

static int kw_dsize(cg_rule_ps *ps, const cg_rule_opt *o)
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
        return cg_rule_fail(ps, o->vpos, "bad dsize '%.*s'", (int)(o->vlen > 40 ? 40 : o->vlen),
                            o->val);
    size_t bpos = (size_t)(r + sep - o->val);
    if (number(ps, s, (size_t)(q - s), o->vpos, "dsize", 0, 65535, &a) ||
        number(ps, r + sep, o->vlen - bpos, o->vpos + bpos, "dsize", 0, 65535, &b))
        return -1;
    if (a >= b)
        return cg_rule_fail(ps, o->vpos, "dsize range %lld<>%lld needs the first number smaller",
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

static int thr_item(cg_rule_ps *ps, const cg_rule_opt *o, const char *s, size_t n, size_t pos,
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
    cg_rule_trim(&v, &vl, &vp);

    if (is_word(s, kl, "type") && !c->filter)
        bit = 1;
    else if (is_word(s, kl, "track"))
        bit = 2;
    else if (is_word(s, kl, "count"))
        bit = 4;
    else if (is_word(s, kl, "seconds"))
        bit = 8;
    else
        return cg_rule_fail(ps, pos, "unknown %.*s option '%.*s'", CG_ONAME(o),
                            (int)(kl > 30 ? 30 : kl), s);
    if (c->have & bit)
        return cg_rule_fail(ps, pos, "'%.*s' given twice in %.*s", (int)kl, s, CG_ONAME(o));
    c->have |= bit;
    if (bit == 1) {
        if (is_word(v, vl, "limit"))
            c->t->type = CG_TH_LIMIT;
        else if (is_word(v, vl, "threshold"))
            c->t->type = CG_TH_THRESHOLD;
        else if (is_word(v, vl, "both"))
            c->t->type = CG_TH_BOTH;
        else
            return cg_rule_fail(ps, vp, "threshold type must be limit, threshold or both");
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
            return cg_rule_fail(ps, vp, "track must be by_src, by_dst, by_rule or by_both");
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

static int threshold_common(cg_rule_ps *ps, const cg_rule_opt *o, cg_threshold *t, int filter)
{
    struct thr_ctx c = { t, filter, 0 };
    if ((ps->seen & (S_THRESHOLD | S_FILTER)) && !(ps->seen & (filter ? S_FILTER : S_THRESHOLD)))
        return cg_rule_fail(ps, o->npos,
                            "threshold and detection_filter can't be used in one rule");
    if (once(ps, o, filter ? S_FILTER : S_THRESHOLD) || each_item(ps, o, thr_item, &c))
        return -1;
    unsigned need = filter ? 14u : 15u;
    if ((c.have & need) != need)
        return cg_rule_fail(ps, o->vpos, filter ? "detection_filter needs track, count and seconds"
                                        : "threshold needs type, track, count and seconds");
    if (filter)
        t->type = CG_TH_DETECTION_FILTER;
    return 0;
}

static int kw_threshold(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return threshold_common(ps, o, &ps->r->threshold, 0);
}

static int kw_detection_filter(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return threshold_common(ps, o, &ps->r->filter, 1);
}
/* ---- the keyword table ---------------------------------------------------- */

static const cg_rule_kw keywords[] = {
    { "classtype", CG_ARG_REQ, kw_classtype },
    { "content", CG_ARG_REQ, kw_content },
    { "depth", CG_ARG_REQ, kw_depth },
    { "detection_filter", CG_ARG_REQ, kw_detection_filter },
    { "distance", CG_ARG_REQ, kw_distance },
    { "dsize", CG_ARG_REQ, kw_dsize },
    { "endswith", CG_ARG_NONE, kw_endswith },
    { "fast_pattern", CG_ARG_OPT, kw_fast_pattern },
    { "flow", CG_ARG_REQ, kw_flow },
    { "gid", CG_ARG_REQ, kw_gid },
    { "metadata", CG_ARG_REQ, kw_metadata },
    { "msg", CG_ARG_REQ, kw_msg },
    { "nocase", CG_ARG_NONE, kw_nocase },
    { "offset", CG_ARG_REQ, kw_offset },
    { "pcre", CG_ARG_REQ, kw_pcre },
    { "pkt_data", CG_ARG_NONE, kw_pkt_data },
    { "priority", CG_ARG_REQ, kw_priority },
    { "rawbytes", CG_ARG_NONE, kw_rawbytes },
    { "reference", CG_ARG_REQ, kw_reference },
    { "rev", CG_ARG_REQ, kw_rev },
    { "sid", CG_ARG_REQ, kw_sid },
    { "startswith", CG_ARG_NONE, kw_startswith },
    { "target", CG_ARG_REQ, kw_target },
    { "threshold", CG_ARG_REQ, kw_threshold },
    { "within", CG_ARG_REQ, kw_within },
};

const cg_rule_kw *cg_rule_kw_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (keywords[i].name[0] == name[0] && is_word(name, len, keywords[i].name))
            return &keywords[i];
    return NULL;
}
