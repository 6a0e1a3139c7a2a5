/* rule_kw.c — the handlers of a rule's meta, content, pcre, flow, dsize and
 * threshold keywords, and the end-of-rule step that picks the fast pattern.
 * The helpers they share are in rule_kw_util.c, the table that names every
 * keyword in rule_kw_table.c (rule_kw.h lists the other handler files).
 *
 * Semantics follow Suricata 7 (user guide: "Meta keywords", "Payload
 * keywords", "Flow keywords", "Thresholding", "Integer keywords");
 * rules/README.md lists what is accepted. A keyword is a row {name, argument
 * kind, handler} of keywords[] (sorted: binary search); adding a keyword is
 * adding a row and its handler.
 *
 * Contract of a handler: it reads one option (name and trimmed value, with
 * their offsets in the rule text) and updates the rule under construction.
 * It returns 0, -1 after cg_rule_fail() recorded a syntax error, or CG_ENOMEM (-2) when
 * out of memory. Something this engine does not evaluate is recorded with
 * cg_rule_unsupported() and the handler returns 0 (the rule is read on, then
 * skipped). Content modifiers apply to the most recent content; checks that
 * need several modifiers together run as each is applied, so the error points
 * at the modifier that made the conflict. Everything a handler allocates
 * hangs off the cg_rule, so cg_rule_free() releases a half-built rule.
 */
#include "analyzer/lang/rule_kw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* options that may appear once (cg_rule_ps.seen) */
enum {
    S_MSG = 1u << 0,
    S_SID = 1u << 1,
    S_REV = 1u << 2,
    S_GID = 1u << 3,
    S_CLASSTYPE = 1u << 4,
    S_PRIORITY = 1u << 5,
    S_FLOW = 1u << 6,
    S_DSIZE = 1u << 7,
    S_THRESHOLD = 1u << 8,
    S_FILTER = 1u << 9,
};

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- meta keywords -------------------------------------------------------- */

int cg_kw_msg(cg_rule_ps *ps, const cg_rule_opt *o)
{
    const char *s;
    size_t n, p;
    if (cg_kw_once(ps, o, S_MSG) || cg_kw_quoted(ps, o, 0, &s, &n, &p))
        return -1;
    free(ps->r->msg);
    ps->r->msg = cg_kw_unescape(s, n);
    return ps->r->msg ? 0 : CG_ENOMEM;
}

int cg_kw_sid(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (cg_kw_once(ps, o, S_SID) ||
        cg_kw_number(ps, o->val, o->vlen, o->vpos, "sid", 1, UINT32_MAX, &v))
        return -1;
    ps->r->sid = (uint32_t)v;
    ps->d->sid = (uint32_t)v;
    ps->d->sid_pos = o->npos;
    return 0;
}

int cg_kw_rev(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (cg_kw_once(ps, o, S_REV) ||
        cg_kw_number(ps, o->val, o->vlen, o->vpos, "rev", 0, UINT32_MAX, &v))
        return -1;
    ps->r->rev = (uint32_t)v;
    return 0;
}

int cg_kw_gid(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (cg_kw_once(ps, o, S_GID) ||
        cg_kw_number(ps, o->val, o->vlen, o->vpos, "gid", 0, UINT32_MAX, &v))
        return -1;
    ps->r->gid = (uint32_t)v;
    return 0;
}

int cg_kw_priority(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int64_t v;
    if (cg_kw_once(ps, o, S_PRIORITY) ||
        cg_kw_number(ps, o->val, o->vlen, o->vpos, "priority", 1, 255, &v))
        return -1;
    ps->r->priority = (uint8_t)v;
    return 0;
}

int cg_kw_classtype(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (cg_kw_once(ps, o, S_CLASSTYPE))
        return -1;
    const cg_class *c = cg_classes_find(ps->env->classes, o->val, o->vlen);
    if (!c)
        return cg_rule_fail(ps, o->vpos, "unknown classtype '%.*s'",
                            (int)(o->vlen > 60 ? 60 : o->vlen), o->val);
    ps->r->classtype = cg_kw_dupn(o->val, o->vlen);
    ps->r->class_desc = strdup(c->desc);
    ps->class_prio = c->prio;
    return ps->r->classtype && ps->r->class_desc ? 0 : CG_ENOMEM;
}

int cg_kw_reference(cg_rule_ps *ps, const cg_rule_opt *o)
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
    return cg_kw_push_kv(&ps->r->refs, &ps->r->nrefs, &ps->cap_refs, k, kl, v, vl);
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
    return cg_kw_push_kv(&ps->r->meta, &ps->r->nmeta, &ps->cap_meta, s, kl, v, vl);
}

int cg_kw_metadata(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return cg_kw_each_item(ps, o, meta_item, NULL);
}

int cg_kw_target(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (!cg_kw_is_word(o->val, o->vlen, "src_ip") && !cg_kw_is_word(o->val, o->vlen, "dest_ip"))
        return cg_rule_fail(ps, o->vpos, "target must be src_ip or dest_ip");
    if (ps->r->target) { /* ET repeats it; only a contradiction is an error */
        if (cg_kw_is_word(o->val, o->vlen, ps->r->target))
            return 0;
        return cg_rule_fail(ps, o->npos, "target given twice with different values");
    }
    ps->r->target = cg_kw_dupn(o->val, o->vlen);
    return ps->r->target ? 0 : CG_ENOMEM;
}

/* ---- content and its modifiers -------------------------------------------- */

int cg_kw_content(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return cg_kw_content_in(ps, o, -1);
}

#define C_ABS (CG_C_OFFSET | CG_C_DEPTH)
#define C_REL (CG_C_DISTANCE | CG_C_WITHIN)

/* Suricata's rules for modifiers that cannot go together on one content. */
static int check_content(cg_rule_ps *ps, const cg_rule_opt *o, const cg_content *c)
{
    uint16_t f = c->flags;
    if ((f & C_ABS) && (f & C_REL))
        return cg_rule_fail(ps, o->npos,
                            "'%.*s': depth/offset can't be mixed with distance/within "
                            "on one content",
                            CG_ONAME(o));
    if ((f & CG_C_STARTSWITH) && (f & (C_ABS | C_REL)))
        return cg_rule_fail(ps, o->npos,
                            "'%.*s': startswith can't be mixed with depth, offset, "
                            "distance or within",
                            CG_ONAME(o));
    if ((f & CG_C_FAST_ONLY) && (f & (CG_C_NEGATED | C_ABS | C_REL)))
        return cg_rule_fail(ps, o->npos,
                            "'%.*s': fast_pattern:only can't be used on a negated or "
                            "positioned content",
                            CG_ONAME(o));
    if ((f & CG_C_FAST) && (f & CG_C_NEGATED) && (f & (C_ABS | C_REL)))
        return cg_rule_fail(ps, o->npos,
                            "'%.*s': fast_pattern can't be used on a negated content "
                            "with depth, offset, distance or within",
                            CG_ONAME(o));
    return 0;
}

int cg_kw_nocase(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = cg_kw_target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_NOCASE)
        return cg_rule_fail(ps, o->npos, "nocase given twice for one content");
    c->flags |= CG_C_NOCASE;
    return 0;
}

int cg_kw_rawbytes(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return cg_kw_target_content(ps, o) ? 0 : -1; /* the payload is raw already */
}

/* depth, offset, distance, within: the number, or a byte_extract variable
 * name (then flag | varflag is set and *v is the variable's index). Returns
 * 0, 1 (a variable: no length checks apply) or -1. */
static int position(cg_rule_ps *ps, const cg_rule_opt *o, cg_content **cp, uint16_t flag,
                    uint16_t varflag, int64_t min, int64_t max, int64_t *v)
{
    cg_content *c = cg_kw_target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & flag)
        return cg_rule_fail(ps, o->npos, "'%.*s' given twice for one content", CG_ONAME(o));
    *cp = c;
    if (cg_kw_is_name(o->val, o->vlen)) {
        int var = cg_kw_var(ps, o->val, o->vlen,
                            ps->last_content >= 0 ? ps->r->matches[ps->last_content].grp : -1);
        if (var < 0)
            return cg_rule_fail(ps, o->vpos,
                                "'%.*s' is not a byte_extract variable of this "
                                "buffer or an earlier one",
                                (int)(o->vlen > 40 ? 40 : o->vlen), o->val);
        c->flags |= flag | varflag;
        *v = var;
        return 1;
    }
    char what[24];
    snprintf(what, sizeof what, "%.*s", CG_ONAME(o));
    if (cg_kw_number(ps, o->val, o->vlen, o->vpos, what, min, max, v))
        return -1;
    c->flags |= flag;
    return 0;
}

int cg_kw_depth(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_DEPTH, CG_C_DEPTH_VAR, 0, CG_KW_CONTENT_MAX, &v);
    if (rc < 0)
        return -1;
    if (rc == 0 && v < c->len)
        return cg_rule_fail(ps, o->vpos, "depth %lld is shorter than the content (%u bytes)",
                            (long long)v, c->len);
    c->depth = (int32_t)v;
    return check_content(ps, o, c);
}

int cg_kw_offset(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    if (position(ps, o, &c, CG_C_OFFSET, CG_C_OFFSET_VAR, 0, CG_KW_CONTENT_MAX, &v) < 0)
        return -1;
    c->offset = (int32_t)v;
    return check_content(ps, o, c);
}

int cg_kw_distance(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    if (position(ps, o, &c, CG_C_DISTANCE, CG_C_DISTANCE_VAR, -CG_KW_CONTENT_MAX, CG_KW_CONTENT_MAX,
                 &v) < 0)
        return -1;
    c->distance = (int32_t)v;
    return check_content(ps, o, c);
}

int cg_kw_within(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c;
    int64_t v;
    int rc = position(ps, o, &c, CG_C_WITHIN, CG_C_WITHIN_VAR, -CG_KW_CONTENT_MAX,
                      CG_KW_CONTENT_MAX, &v);
    if (rc < 0)
        return -1;
    if (rc == 0 && v < c->len)
        return cg_rule_fail(ps, o->vpos, "within %lld is shorter than the content (%u bytes)",
                            (long long)v, c->len);
    c->within = (int32_t)v;
    return check_content(ps, o, c);
}

int cg_kw_startswith(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = cg_kw_target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_STARTSWITH)
        return cg_rule_fail(ps, o->npos, "startswith given twice for one content");
    c->flags |= CG_C_STARTSWITH;
    return check_content(ps, o, c);
}

int cg_kw_endswith(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = cg_kw_target_content(ps, o);
    if (!c)
        return -1;
    if (c->flags & CG_C_ENDSWITH)
        return cg_rule_fail(ps, o->npos, "endswith given twice for one content");
    c->flags |= CG_C_ENDSWITH;
    return check_content(ps, o, c);
}

int cg_kw_fast_pattern(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_content *c = cg_kw_target_content(ps, o);
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
    } else if (cg_kw_is_word(o->val, o->vlen, "only")) {
        c->flags |= CG_C_FAST | CG_C_FAST_ONLY;
    } else {
        const char *comma = memchr(o->val, ',', o->vlen);
        int64_t off, len;
        if (!comma)
            return cg_rule_fail(ps, o->vpos,
                                "fast_pattern takes nothing, 'only' or 'offset,length'");
        size_t ol = (size_t)(comma - o->val);
        if (cg_kw_number(ps, o->val, ol, o->vpos, "fast_pattern offset", 0, CG_KW_CONTENT_MAX,
                         &off) ||
            cg_kw_number(ps, comma + 1, o->vlen - ol - 1, o->vpos + ol + 1, "fast_pattern length",
                         1, CG_KW_CONTENT_MAX, &len))
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

/* ---- pcre ----------------------------------------------------------------- */

int cg_kw_pcre(cg_rule_ps *ps, const cg_rule_opt *o)
{
    size_t off = 0, n, p;
    const char *s;
    uint32_t flags = 0, opts = 0;
    char letter = 0;
    int g;

    if (o->val[0] == '!') {
        flags |= CG_P_NEGATED;
        off = 1;
    }
    while (off < o->vlen && is_space((unsigned char)o->val[off]))
        off++;
    if (off < o->vlen && o->val[off] == '/') {
        /* unquoted, as Suricata also takes it: pcre:/x/i; */
        s = o->val + off;
        n = o->vlen - off;
        p = o->vpos + off;
        while (n > 0 && is_space((unsigned char)s[n - 1]))
            n--;
    } else if (cg_kw_quoted(ps, o, off, &s, &n, &p)) {
        return -1;
    }
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
        case 'U':
        case 'I':
        case 'P':
        case 'Q':
        case 'H':
        case 'D':
        case 'M':
        case 'C':
        case 'S':
        case 'Y':
        case 'V':
        case 'W':
        case 'Z':
            if (letter && letter != *f)
                return cg_rule_fail(ps, p + (size_t)(f - s),
                                    "pcre names two buffers ('%c' and "
                                    "'%c')",
                                    letter, *f);
            letter = *f;
            break;
        default:
            return cg_rule_fail(ps, p + (size_t)(f - s), "unknown pcre flag '%c'",
                                *f >= 0x20 && *f < 0x7f ? *f : '?');
        }
    }
    /* Named groups pkt_*, flow_*, alert_* capture into variables in Suricata. */
    static const char *const captures[] = { "(?P<pkt_", "(?P<flow_", "(?P<alert_",
                                            "(?<pkt_",  "(?<flow_",  "(?<alert_" };
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
        if (memmem(pat, patlen, captures[i], strlen(captures[i])))
            cg_rule_unsupported(ps, p, "pcre-capture", 12, "keyword");
    /* A buffer letter sends the pcre to that buffer; the sticky buffer stays. */
    g = letter ? cg_kw_plain_group(ps, o, (uint8_t)cg_kw_pcre_letter_buf(letter))
               : cg_kw_current_group(ps, o);
    if (g < 0)
        return g;
    if (flags & CG_P_RELATIVE) {
        int prev = 0;
        for (uint32_t i = 0; i < ps->r->nmatch; i++)
            if (ps->r->matches[i].grp == g && ps->r->matches[i].type != CG_M_ISDATAAT &&
                ps->r->matches[i].type != CG_M_BYTE_TEST && ps->r->matches[i].type != CG_M_BSIZE)
                prev = 1;
        if (!prev && ps->r->groups[g].buf == CG_BUF_PAYLOAD)
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
                            "pcre: %s (at offset %zu of the pattern)", (const char *)msg,
                            (size_t)eo);
    }
    cg_match *m = cg_kw_new_item_in(ps, g);
    char *src = cg_kw_dupn(s, n);
    if (!m || !src) {
        pcre2_code_free(code);
        free(src);
        return CG_ENOMEM;
    }
    m->type = CG_M_PCRE;
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
    static const struct {
        const char *name;
        uint8_t bit;
    } words[] = {
        { "to_server", CG_F_TO_SERVER },     { "from_client", CG_F_TO_SERVER },
        { "to_client", CG_F_TO_CLIENT },     { "from_server", CG_F_TO_CLIENT },
        { "established", CG_F_ESTABLISHED }, { "not_established", CG_F_NOT_ESTABLISHED },
        { "stateless", CG_F_STATELESS },
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (cg_kw_is_word(s, n, words[i].name)) {
            ps->r->flow |= words[i].bit;
            return 0;
        }
    /* Where payload items match (rule.h invariant 7). No IP reassembly here:
     * every packet is "not reassembled from fragments", none is "only_frag". */
    if (cg_kw_is_word(s, n, "only_stream")) {
        ps->stream_only = 1;
        ps->mode_pos = pos;
        return 0;
    }
    if (cg_kw_is_word(s, n, "no_stream")) {
        ps->pkt_only = 1;
        ps->mode_pos = pos;
        return 0;
    }
    if (cg_kw_is_word(s, n, "no_frag"))
        return 0;
    if (cg_kw_is_word(s, n, "only_frag"))
        return cg_rule_unsupported(ps, pos, "flow:only_frag", 14, "keyword");
    return cg_rule_fail(ps, pos, "unknown flow option '%.*s'", (int)(n > 40 ? 40 : n), s);
}

int cg_kw_flow(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (cg_kw_once(ps, o, S_FLOW) || cg_kw_each_item(ps, o, flow_item, NULL))
        return -1;
    if (ps->pkt_only && ps->stream_only)
        return cg_rule_fail(ps, o->vpos,
                            "flow: only_stream and no_stream exclude each other "
                            "(or the protocol already says which)");
    uint8_t f = ps->r->flow;
    if ((f & CG_F_TO_SERVER) && (f & CG_F_TO_CLIENT))
        return cg_rule_fail(ps, o->vpos, "flow can't be both to_server and to_client");
    if (((f & CG_F_ESTABLISHED) != 0) + ((f & CG_F_NOT_ESTABLISHED) != 0) +
            ((f & CG_F_STATELESS) != 0) >
        1)
        return cg_rule_fail(ps, o->vpos,
                            "flow: established, not_established and stateless exclude "
                            "each other");
    return 0;
}

int cg_kw_dsize(cg_rule_ps *ps, const cg_rule_opt *o)
{
    const char *s = o->val, *e = o->val + o->vlen;
    cg_dsize *ds = &ps->r->dsize;
    int64_t a, b;

    if (cg_kw_once(ps, o, S_DSIZE))
        return -1;
    static const struct {
        const char *op;
        uint8_t code;
    } prefix[] = {
        { "<=", CG_DS_LE }, { ">=", CG_DS_GE }, { "<", CG_DS_LT },
        { ">", CG_DS_GT },  { "!", CG_DS_NE },  { "=", CG_DS_EQ },
    };
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        size_t l = strlen(prefix[i].op);
        if ((size_t)(e - s) >= l && memcmp(s, prefix[i].op, l) == 0) {
            if (cg_kw_number(ps, s + l, (size_t)(e - s) - l, o->vpos + l, "dsize", 0, 65535, &a))
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
        if (cg_kw_number(ps, s, (size_t)(q - s), o->vpos, "dsize", 0, 65535, &a))
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
    if (cg_kw_number(ps, s, (size_t)(q - s), o->vpos, "dsize", 0, 65535, &a) ||
        cg_kw_number(ps, r + sep, o->vlen - bpos, o->vpos + bpos, "dsize", 0, 65535, &b))
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
    int filter;    /* detection_filter: no type */
    unsigned have; /* 1 type, 2 track, 4 count, 8 seconds */
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

    if (cg_kw_is_word(s, kl, "type") && !c->filter)
        bit = 1;
    else if (cg_kw_is_word(s, kl, "track"))
        bit = 2;
    else if (cg_kw_is_word(s, kl, "count"))
        bit = 4;
    else if (cg_kw_is_word(s, kl, "seconds"))
        bit = 8;
    else
        return cg_rule_fail(ps, pos, "unknown %.*s option '%.*s'", CG_ONAME(o),
                            (int)(kl > 30 ? 30 : kl), s);
    if (c->have & bit)
        return cg_rule_fail(ps, pos, "'%.*s' given twice in %.*s", (int)kl, s, CG_ONAME(o));
    c->have |= bit;
    if (bit == 1) {
        if (cg_kw_is_word(v, vl, "limit"))
            c->t->type = CG_TH_LIMIT;
        else if (cg_kw_is_word(v, vl, "threshold"))
            c->t->type = CG_TH_THRESHOLD;
        else if (cg_kw_is_word(v, vl, "both"))
            c->t->type = CG_TH_BOTH;
        else
            return cg_rule_fail(ps, vp, "threshold type must be limit, threshold or both");
    } else if (bit == 2) {
        if (cg_kw_is_word(v, vl, "by_src"))
            c->t->track = CG_TRACK_SRC;
        else if (cg_kw_is_word(v, vl, "by_dst"))
            c->t->track = CG_TRACK_DST;
        else if (cg_kw_is_word(v, vl, "by_rule"))
            c->t->track = CG_TRACK_RULE;
        else if (cg_kw_is_word(v, vl, "by_both"))
            c->t->track = CG_TRACK_BOTH;
        else
            return cg_rule_fail(ps, vp, "track must be by_src, by_dst, by_rule or by_both");
    } else {
        if (cg_kw_number(ps, v, vl, vp, bit == 4 ? "count" : "seconds", 1, UINT32_MAX, &num))
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
    if (cg_kw_once(ps, o, filter ? S_FILTER : S_THRESHOLD) || cg_kw_each_item(ps, o, thr_item, &c))
        return -1;
    unsigned need = filter ? 14u : 15u;
    if ((c.have & need) != need)
        return cg_rule_fail(ps, o->vpos,
                            filter ? "detection_filter needs track, count and seconds"
                                   : "threshold needs type, track, count and seconds");
    if (filter)
        t->type = CG_TH_DETECTION_FILTER;
    return 0;
}

int cg_kw_threshold(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return threshold_common(ps, o, &ps->r->threshold, 0);
}

int cg_kw_detection_filter(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return threshold_common(ps, o, &ps->r->filter, 1);
}
/* ---- the end of the rule -------------------------------------------------- */

/* The literal of content m to look for in its untransformed buffer (rule.h
 * invariant 4); 0 when there is none. */
static int fp_literal(const cg_rule *r, const cg_match *m, const uint8_t **b, uint32_t *len,
                      uint8_t *nocase)
{
    const cg_content *c = &m->u.c;
    const cg_bufgroup *g = &r->groups[m->grp];
    uint32_t off = 0, l = c->len, dots = 0;
    *nocase = (c->flags & CG_C_NOCASE) != 0;
    if ((c->flags & CG_C_FAST_CHOP) && (uint32_t)c->fp_off + c->fp_len <= c->len) {
        off = c->fp_off;
        l = c->fp_len;
    }
    for (uint32_t i = 0; i < g->ntf; i++) {
        switch (g->tf[i]) {
        case CG_TF_DOTPREFIX: dots++; break;
        case CG_TF_TO_LOWERCASE:
        case CG_TF_TO_UPPERCASE: *nocase = 1; break;
        default: return 0; /* no literal survives it */
        }
    }
    /* Each dotprefix puts a '.' before the buffer: a match starting there
     * has the raw buffer after its leading dots. */
    while (dots-- && off == 0 && l > 0 && c->bytes[0] == '.') {
        off = 1;
        l--;
    }
    if (l == 0)
        return 0;
    *b = c->bytes + off;
    *len = l;
    return 1;
}

/* fp: the content marked fast_pattern, else the longest non-negated content
 * (the first of equals), among those with a literal (rule.h invariant 4). */
static void choose_fp(cg_rule *r)
{
    int32_t best = -1, marked = -1;
    const uint8_t *b;
    uint32_t len;
    uint8_t nc;
    for (uint32_t i = 0; i < r->nmatch; i++) {
        const cg_match *m = &r->matches[i];
        if (m->type != CG_M_CONTENT || (m->u.c.flags & CG_C_NEGATED) || m->buf == CG_BUF_BASE64 ||
            !fp_literal(r, m, &b, &len, &nc))
            continue; /* decoded bytes are not scanned */
        if (m->u.c.flags & CG_C_FAST)
            marked = (int32_t)i;
        if (best < 0 || m->u.c.len > r->matches[best].u.c.len)
            best = (int32_t)i;
    }
    r->fp = marked >= 0 ? marked : best;
    if (r->fp >= 0 && fp_literal(r, &r->matches[r->fp], &b, &len, &nc)) {
        r->fp_buf = r->matches[r->fp].buf;
        r->fp_bytes = b;
        r->fp_len = len;
        r->fp_nocase = nc;
    }
}

int cg_rule_kw_finish(cg_rule_ps *ps)
{
    int rc = cg_kw_finish_groups(ps);
    if (rc)
        return rc;
    choose_fp(ps->r);
    return 0;
}
