/* rule_kw_byte.c — the keywords that read the buffer at a position rather
 * than search it: isdataat, byte_test, byte_jump, byte_extract, and the
 * byte_extract variables that later keywords use (rule.h invariant 8).
 *
 * Syntax follows Suricata 7 (user guide, "Payload Keywords"):
 *   isdataat:[!]<pos|var>[,relative][,rawbytes]
 *   byte_test:<n|var>,[!]<op>,<value|var>,<offset|var>[,relative][,big|little]
 *             [,string,<hex|dec|oct>][,bitmask <m>]            op: < > = <= >= & ^ !=
 *   byte_jump:<n|var>,<offset|var>[,relative][,multiplier <m>][,big|little]
 *             [,string,<hex|dec|oct>][,align][,from_beginning|from_end]
 *             [,post_offset <k>][,bitmask <m>]
 *   byte_extract:<n>,<offset>,<name>[,relative][,multiplier <m>][,big|little]
 *             [,string[,<hex|dec|oct>]][,align <2|4>]
 * n is at most 8 bytes, or 23 characters with string (0 with string: the
 * whole number there). A string without a radix is decimal. `dce` (DCERPC's
 * byte order) is not evaluated here: the rule is skipped. The matching
 * itself is in verify.c.
 */
#include "analyzer/lang/rule_kw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { K_BYTE_TEST, K_BYTE_JUMP, K_BYTE_EXTRACT };

/* A variable set in an earlier group is read as that group's match left it:
 * groups are verified in order (verify.c), so the group must come first. */
int cg_kw_var(const cg_rule_ps *ps, const char *name, size_t n, int32_t grp)
{
    for (uint32_t i = 0; i < ps->r->nvars; i++)
        if (strlen(ps->var_name[i]) == n && memcmp(ps->var_name[i], name, n) == 0)
            return grp >= 0 && ps->var_grp[i] <= grp ? (int)i : -1;
    return -1;
}

/* A signed or unsigned number as Suricata reads that field: radix 0 is
 * strtoull's (decimal, 0x hex, leading-0 octal: byte_test's value, offset and
 * bitmask), radix 10 decimal only (the others). The whole field. */
static int cnum_r(cg_rule_ps *ps, const char *s, size_t n, size_t pos, const char *what, int sign,
                  int radix, int64_t min, uint64_t max, uint64_t *out)
{
    char buf[32], *end;
    if (n == 0 || n >= sizeof buf)
        return cg_rule_fail(ps, pos, "bad %s '%.*s'", what, (int)(n > 30 ? 30 : n), s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    if (sign) {
        long long v = strtoll(buf, &end, radix);
        if (errno || *end || end == buf || v < min || (v > 0 && (uint64_t)v > max))
            return cg_rule_fail(ps, pos, "bad %s '%s' (%lld to %llu)", what, buf, (long long)min,
                                (unsigned long long)max);
        *out = (uint64_t)v;
    } else {
        if (buf[0] == '-')
            return cg_rule_fail(ps, pos, "bad %s '%s'", what, buf);
        unsigned long long v = strtoull(buf, &end, radix);
        if (errno || *end || end == buf || v > max)
            return cg_rule_fail(ps, pos, "bad %s '%s' (0 to %llu)", what, buf,
                                (unsigned long long)max);
        *out = v;
    }
    return 0;
}

static int cnum(cg_rule_ps *ps, const char *s, size_t n, size_t pos, const char *what, int sign,
                int64_t min, uint64_t max, uint64_t *out)
{
    return cnum_r(ps, s, n, pos, what, sign, 10, min, max, out);
}

/* A field that is a number or, when it looks like a name, a variable of
 * group g: *isvar tells which. */
static int num_or_var(cg_rule_ps *ps, const cg_kw_fields *f, size_t k, int g, const char *what,
                      int sign, int radix, int64_t min, uint64_t max, uint64_t *out, int *isvar)
{
    *isvar = 0;
    if (cg_kw_is_name(f->s[k], f->n[k])) {
        int v = cg_kw_var(ps, f->s[k], f->n[k], g);
        if (v < 0)
            return cg_rule_fail(ps, f->pos[k],
                                "'%.*s' is not a byte_extract variable of this "
                                "buffer or an earlier one",
                                (int)(f->n[k] > 40 ? 40 : f->n[k]), f->s[k]);
        *isvar = 1;
        *out = (uint64_t)v;
        return 0;
    }
    return cnum_r(ps, f->s[k], f->n[k], f->pos[k], what, sign, radix, min, max, out);
}

/* "word value" of an option (multiplier 2): the value part, or NULL. */
static int word_arg(const cg_kw_fields *f, size_t k, const char *w, const char **v, size_t *vn,
                    size_t *vp)
{
    size_t l = strlen(w);
    if (f->n[k] <= l || strncasecmp(f->s[k], w, l) != 0 ||
        (f->s[k][l] != ' ' && f->s[k][l] != '\t'))
        return 0;
    *v = f->s[k] + l;
    *vn = f->n[k] - l;
    *vp = f->pos[k] + l;
    cg_rule_trim(v, vn, vp);
    return 1;
}

/* The options after the positional fields, for the three byte keywords. */
static int byte_options(cg_rule_ps *ps, const cg_rule_opt *o, const cg_kw_fields *f, size_t first,
                        int kind, cg_byteop *b)
{
    int endian = 0, string = 0;
    for (size_t k = first; k < f->count; k++) {
        const char *s = f->s[k], *v;
        size_t n = f->n[k], vn, vp;
        uint64_t num;
        if (cg_kw_is_word(s, n, "relative")) {
            b->flags |= CG_B_RELATIVE;
        } else if (cg_kw_is_word(s, n, "big") || cg_kw_is_word(s, n, "little")) {
            if (endian++)
                return cg_rule_fail(ps, f->pos[k], "%.*s: byte order given twice", CG_ONAME(o));
            if (s[0] == 'l')
                b->flags |= CG_B_LITTLE;
        } else if (cg_kw_is_word(s, n, "string")) {
            string = 1;
            b->flags |= CG_B_STRING;
        } else if (cg_kw_is_word(s, n, "hex") || cg_kw_is_word(s, n, "dec") ||
                   cg_kw_is_word(s, n, "oct")) {
            if (b->base)
                return cg_rule_fail(ps, f->pos[k], "%.*s: radix given twice", CG_ONAME(o));
            b->base = s[0] == 'h' ? 16 : s[0] == 'd' ? 10 : 8;
        } else if (cg_kw_is_word(s, n, "dce")) {
            char kw[32];
            snprintf(kw, sizeof kw, "%.*s:dce", CG_ONAME(o));
            return cg_rule_unsupported(ps, f->pos[k], kw, strlen(kw), "keyword");
        } else if (kind == K_BYTE_JUMP && cg_kw_is_word(s, n, "align")) {
            b->flags |= CG_B_ALIGN;
            b->align = 4;
        } else if (kind == K_BYTE_JUMP && cg_kw_is_word(s, n, "from_beginning")) {
            b->flags |= CG_B_BEGIN;
        } else if (kind == K_BYTE_JUMP && cg_kw_is_word(s, n, "from_end")) {
            b->flags |= CG_B_END;
        } else if (kind != K_BYTE_TEST && word_arg(f, k, "multiplier", &v, &vn, &vp)) {
            if (cnum(ps, v, vn, vp, "multiplier", 0, 0, 65535, &num))
                return -1;
            if (num == 0)
                return cg_rule_fail(ps, vp, "multiplier must be 1 to 65535");
            b->multiplier = (uint32_t)num;
        } else if (kind == K_BYTE_JUMP && word_arg(f, k, "post_offset", &v, &vn, &vp)) {
            if (cnum(ps, v, vn, vp, "post_offset", 1, -65535, 65535, &num))
                return -1;
            b->post_offset = (int32_t)(int64_t)num;
        } else if (kind == K_BYTE_EXTRACT && word_arg(f, k, "align", &v, &vn, &vp)) {
            if (cnum(ps, v, vn, vp, "align", 0, 0, 4, &num))
                return -1;
            if (num != 2 && num != 4)
                return cg_rule_fail(ps, vp, "byte_extract align must be 2 or 4");
            b->flags |= CG_B_ALIGN;
            b->align = (uint8_t)num;
        } else if (kind != K_BYTE_EXTRACT && word_arg(f, k, "bitmask", &v, &vn, &vp)) {
            if (cnum_r(ps, v, vn, vp, "bitmask", 0, 0, 0, UINT64_MAX, &num))
                return -1;
            if (num == 0)
                return cg_rule_fail(ps, vp, "a bitmask of 0 can never match");
            b->flags |= CG_B_BITMASK;
            b->bitmask = num;
        } else {
            return cg_rule_fail(ps, f->pos[k], "unknown %.*s option '%.*s'", CG_ONAME(o),
                                (int)(n > 30 ? 30 : n), s);
        }
    }
    if (b->base && !string)
        return cg_rule_fail(ps, o->vpos, "%.*s: a radix needs 'string'", CG_ONAME(o));
    if (string && !b->base)
        b->base = 10;
    if (string && endian)
        return cg_rule_fail(ps, o->vpos, "%.*s: big/little do not apply to a string", CG_ONAME(o));
    if ((b->flags & CG_B_BEGIN) && (b->flags & CG_B_END))
        return cg_rule_fail(ps, o->vpos,
                            "byte_jump: from_beginning and from_end exclude each "
                            "other");
    if (!(b->flags & CG_B_NBYTES_VAR) && b->nbytes > (string ? 23 : 8))
        return cg_rule_fail(ps, f->pos[0], "%.*s reads at most %d bytes%s", CG_ONAME(o),
                            string ? 23 : 8, string ? " with string" : " without string");
    return 0;
}

static int byte_common(cg_rule_ps *ps, const cg_rule_opt *o, int kind)
{
    cg_kw_fields f;
    cg_byteop b;
    uint64_t v;
    int isvar, rc;
    size_t npos = kind == K_BYTE_TEST ? 4 : kind == K_BYTE_JUMP ? 2 : 3;
    const char *name = kind == K_BYTE_TEST ? "byte_test"
        : kind == K_BYTE_JUMP              ? "byte_jump"
                                           : "byte_extract";

    memset(&b, 0, sizeof b);
    b.multiplier = 1;
    if (cg_kw_split(ps, o, &f))
        return -1;
    if (f.count < npos)
        return cg_rule_fail(ps, o->vpos, "%s needs at least %zu fields", name, npos);
    int g = cg_kw_current_group(ps, o);
    if (g < 0)
        return g;

    /* number of bytes */
    isvar = 0;
    if (kind == K_BYTE_EXTRACT)
        rc = cnum(ps, f.s[0], f.n[0], f.pos[0], "number of bytes", 0, 0, 255, &v);
    else
        rc = num_or_var(ps, &f, 0, g, "number of bytes", 0, 10, 0, 255, &v, &isvar);
    if (rc)
        return -1;
    b.nbytes = (uint8_t)v;
    if (isvar)
        b.flags |= CG_B_NBYTES_VAR;

    size_t ko = 1; /* the offset field */
    if (kind == K_BYTE_TEST) {
        const char *s = f.s[1];
        size_t n = f.n[1], i = 0;
        if (n && s[0] == '!') {
            b.flags |= CG_B_NEGOP;
            i = 1;
            while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
        }
        static const struct {
            const char *op;
            uint8_t code;
        } ops[] = {
            { "<=", CG_BT_LE }, { ">=", CG_BT_GE }, { "!=", CG_BT_EQ }, { "<", CG_BT_LT },
            { ">", CG_BT_GT },  { "=", CG_BT_EQ },  { "&", CG_BT_AND }, { "^", CG_BT_XOR },
        };
        size_t k = 0;
        if (i == n && (b.flags & CG_B_NEGOP)) {
            b.op = CG_BT_EQ; /* a bare '!' is != */
        } else {
            while (k < sizeof ops / sizeof ops[0] && !cg_kw_is_word(s + i, n - i, ops[k].op))
                k++;
            if (k == sizeof ops / sizeof ops[0] || ((b.flags & CG_B_NEGOP) && k == 2))
                return cg_rule_fail(ps, f.pos[1], "bad byte_test operator '%.*s'",
                                    (int)(n > 10 ? 10 : n), s);
            b.op = ops[k].code;
            if (k == 2)
                b.flags |= CG_B_NEGOP; /* != is ! = */
        }
        if (num_or_var(ps, &f, 2, g, "byte_test value", 0, 0, 0, UINT64_MAX, &v, &isvar))
            return -1;
        b.value = v;
        if (isvar)
            b.flags |= CG_B_VALUE_VAR;
        ko = 3;
    }
    if (num_or_var(ps, &f, ko, g, "offset", 1, kind == K_BYTE_TEST ? 0 : 10, -65535, 65535, &v,
                   &isvar))
        return -1;
    b.offset = isvar ? (int32_t)v : (int32_t)(int64_t)v;
    if (isvar)
        b.flags |= CG_B_OFFSET_VAR;

    if (kind == K_BYTE_EXTRACT) {
        const char *s = f.s[2];
        size_t n = f.n[2];
        if (!cg_kw_is_name(s, n) || n >= sizeof ps->var_name[0])
            return cg_rule_fail(ps, f.pos[2], "bad byte_extract variable name '%.*s'",
                                (int)(n > 40 ? 40 : n), s);
        for (size_t i = 0; i < n; i++)
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                  (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
                return cg_rule_fail(ps, f.pos[2], "bad byte_extract variable name '%.*s'",
                                    (int)(n > 40 ? 40 : n), s);
        for (uint32_t i = 0; i < ps->r->nvars; i++)
            if (strlen(ps->var_name[i]) == n && memcmp(ps->var_name[i], s, n) == 0)
                return cg_rule_fail(ps, f.pos[2], "byte_extract variable '%.*s' defined twice",
                                    (int)n, s);
        if (ps->r->nvars == CG_BYTE_VARS)
            return cg_rule_fail(ps, f.pos[2], "more than %d byte_extract variables", CG_BYTE_VARS);
    }
    if ((rc = byte_options(ps, o, &f, npos, kind, &b)) != 0)
        return rc;

    cg_match *m = cg_kw_new_item_in(ps, g);
    if (!m)
        return CG_ENOMEM;
    m->type = kind == K_BYTE_TEST ? CG_M_BYTE_TEST
        : kind == K_BYTE_JUMP     ? CG_M_BYTE_JUMP
                                  : CG_M_BYTE_EXTRACT;
    if (kind == K_BYTE_EXTRACT) {
        uint32_t i = ps->r->nvars++;
        memcpy(ps->var_name[i], f.s[2], f.n[2]);
        ps->var_name[i][f.n[2]] = '\0';
        ps->var_grp[i] = (uint8_t)g;
        b.var = (uint8_t)i;
    }
    m->u.b = b;
    ps->r->nmatch++;
    return 0;
}

int cg_kw_byte_test(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return byte_common(ps, o, K_BYTE_TEST);
}

int cg_kw_byte_jump(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return byte_common(ps, o, K_BYTE_JUMP);
}

int cg_kw_byte_extract(cg_rule_ps *ps, const cg_rule_opt *o)
{
    return byte_common(ps, o, K_BYTE_EXTRACT);
}

int cg_kw_isdataat(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_kw_fields f;
    cg_isdataat d = { 0, 0 };
    uint64_t v;
    int isvar, rc;

    if (cg_kw_split(ps, o, &f))
        return -1;
    int g = cg_kw_current_group(ps, o);
    if (g < 0)
        return g;
    if (f.s[0][0] == '!') {
        d.flags |= CG_D_NEGATED;
        f.s[0]++;
        f.n[0]--;
        f.pos[0]++;
        cg_rule_trim(&f.s[0], &f.n[0], &f.pos[0]);
    }
    if (num_or_var(ps, &f, 0, g, "isdataat position", 0, 10, 0, 65535, &v, &isvar))
        return -1;
    d.pos = (uint32_t)v;
    if (isvar)
        d.flags |= CG_D_VAR;
    for (size_t k = 1; k < f.count; k++) {
        if (cg_kw_is_word(f.s[k], f.n[k], "relative"))
            d.flags |= CG_D_RELATIVE;
        else if (!cg_kw_is_word(f.s[k], f.n[k], "rawbytes"))
            return cg_rule_fail(ps, f.pos[k], "unknown isdataat option '%.*s'",
                                (int)(f.n[k] > 30 ? 30 : f.n[k]), f.s[k]);
    }
    cg_match *m = cg_kw_new_item(ps, o, &rc);
    if (!m)
        return rc;
    m->type = CG_M_ISDATAAT;
    m->u.d = d;
    ps->r->nmatch++;
    return 0;
}
