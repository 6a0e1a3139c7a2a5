/* policy.c — the layer policy: its parser, its checks and its evaluation.
 * The format and the semantics are policy.h's; the time pass is
 * escalate.c's.
 *
 * Parsing is line by line over the caller's bytes, never past len: the lexer
 * copies a word or a quoted value into a bounded buffer (TEXT_MAX bytes; a
 * longer one is an error), a line longer than LINE_MAX_ is an error, and
 * the counts of clauses, conditions, values and steps are bounded, so a
 * hostile file costs at most a bounded multiple of its size in memory.
 *
 * The checks that warn of a clause that never matches are syntactic and
 * sound, not complete: a contradiction within one field of a clause (sev =
 * high and sev = low; count > 10 and count < 5), or an earlier clause whose
 * every condition is also one of this clause's (it takes every incident
 * this one would).
 */
#include "analyzer/output/policy.h"
#include "analyzer/lang/rule.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_ 4096
#define CONDS_MAX 32
#define VALUES_MAX 64
#define TEXT_MAX 255
#define AFTER_MAX (366u * 86400u)

enum field {
    F_SEV,
    F_CLASSTYPE,
    F_SID,
    F_GID,
    F_COUNT,
    F_LAYER,
    F_SRC_CC,
    F_DST_CC,
    F_CC,
    F_SRC_AGENCY,
    F_DST_AGENCY,
    F_AGENCY,
    F_SRC_ZONE,
    F_DST_ZONE,
    F_ZONE
};
enum kind { K_NUM, K_SEV, K_LAYER, K_TEXT, K_CC };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN };

static const struct {
    const char *name;
    enum field f;
    enum kind k;
    int either; /* either side: = holds when one side matches */
} fields[] = {
    { "severity", F_SEV, K_SEV, 0 },
    { "sev", F_SEV, K_SEV, 0 },
    { "classtype", F_CLASSTYPE, K_TEXT, 0 },
    { "sid", F_SID, K_NUM, 0 },
    { "gid", F_GID, K_NUM, 0 },
    { "count", F_COUNT, K_NUM, 0 },
    { "layer", F_LAYER, K_LAYER, 0 },
    { "src.country", F_SRC_CC, K_CC, 0 },
    { "dst.country", F_DST_CC, K_CC, 0 },
    { "country", F_CC, K_CC, 1 },
    { "src.agency", F_SRC_AGENCY, K_TEXT, 0 },
    { "dst.agency", F_DST_AGENCY, K_TEXT, 0 },
    { "agency", F_AGENCY, K_TEXT, 1 },
    { "src.zone", F_SRC_ZONE, K_TEXT, 0 },
    { "dst.zone", F_DST_ZONE, K_TEXT, 0 },
    { "zone", F_ZONE, K_TEXT, 1 },
};
#define NFIELDS (sizeof fields / sizeof fields[0])
#define FIELD_LIST                                                                     \
    "severity, classtype, sid, gid, count, layer, src.country, dst.country, country, " \
    "src.agency, dst.agency, agency, src.zone, dst.zone, zone"

static const char *const sev_names[] = { "high", "medium", "low", "info" };

struct cond {
    uint8_t fi; /* index into fields[] */
    uint8_t op;
    uint16_t nv;
    uint64_t *num; /* K_NUM, K_SEV (the severity), K_LAYER (1..4) */
    char **txt;    /* K_TEXT, K_CC */
};

struct step {
    uint32_t after_s;
    uint8_t layer; /* 1..4; 0 = a reminder */
    char text[16]; /* the duration as written */
};

struct clause {
    unsigned line;
    uint16_t ncond;
    uint8_t now; /* CG_LAYER bits at once */
    uint8_t nsteps;
    struct cond *cond;
    struct step steps[CG_POLICY_STEPS_MAX];
};

/* A severity's time targets (target lines): index 0 high, 1 medium, 2 low,
 * 3 info (severity 4 and below in gravity). */
struct target {
    uint32_t ack_s, resolve_s; /* 0: not set */
    unsigned line;             /* 0: no target line */
};

struct cg_policy {
    char name[64];
    size_t n;
    struct clause *c;
    struct target tgt[4];
    char identity[TEXT_MAX + 1]; /* "": none */
    unsigned identity_line;
    unsigned share_allow; /* CG_SHARE_* */
    char tlp[16];         /* "": none */
    unsigned tlp_line;
};

static const char *const tlp_names[] = { "clear", "green", "amber", "amber+strict", "red" };

/* ---- diagnostics ---------------------------------------------------------- */

typedef struct ctx {
    cg_policy_diag_fn fn;
    void *arg;
    unsigned line;
    int errors;
    int nomem;
} ctx;

static void diag(ctx *x, int warning, unsigned line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!warning)
        x->errors++;
    if (!x->fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    x->fn(warning, line, msg, x->arg);
}

/* ---- tokens ------------------------------------------------------------- */

enum tok { T_END, T_WORD, T_STR, T_COLON, T_SEMI, T_COMMA, T_LB, T_RB, T_OP, T_BAD };

typedef struct lexer {
    const char *p, *end;
    enum tok t;
    char text[TEXT_MAX + 1]; /* a word or a string's value */
    int toolong;
    int op; /* T_OP */
} lexer;

static int is_punct(int c)
{
    return c == ':' || c == ';' || c == ',' || c == '[' || c == ']' || c == '=' || c == '!' ||
        c == '<' || c == '>' || c == '"' || c == '#';
}

static void next(lexer *l)
{
    size_t n = 0;

    l->toolong = 0;
    while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\r'))
        l->p++;
    if (l->p >= l->end || *l->p == '#') {
        l->t = T_END;
        l->p = l->end;
        return;
    }
    switch (*l->p) {
    case ':': l->t = T_COLON, l->p++; return;
    case ';': l->t = T_SEMI, l->p++; return;
    case ',': l->t = T_COMMA, l->p++; return;
    case '[': l->t = T_LB, l->p++; return;
    case ']': l->t = T_RB, l->p++; return;
    case '=': l->t = T_OP, l->op = OP_EQ, l->p++; return;
    case '!':
        if (l->p + 1 < l->end && l->p[1] == '=') {
            l->t = T_OP, l->op = OP_NE, l->p += 2;
            return;
        }
        l->t = T_BAD, l->p++;
        return;
    case '<':
    case '>': {
        int lt = *l->p == '<';
        l->p++;
        if (l->p < l->end && *l->p == '=') {
            l->p++;
            l->op = lt ? OP_LE : OP_GE;
        } else {
            l->op = lt ? OP_LT : OP_GT;
        }
        l->t = T_OP;
        return;
    }
    case '"':
        l->p++;
        while (l->p < l->end && *l->p != '"') {
            char c = *l->p++;
            if (c == '\\' && l->p < l->end && (*l->p == '"' || *l->p == '\\'))
                c = *l->p++;
            if (n < TEXT_MAX)
                l->text[n++] = c;
            else
                l->toolong = 1;
        }
        l->text[n] = 0;
        if (l->p >= l->end) {
            l->t = T_BAD; /* no closing quote */
            return;
        }
        l->p++;
        l->t = T_STR;
        return;
    default: break;
    }
    while (l->p < l->end && *l->p != ' ' && *l->p != '\t' && *l->p != '\r' && !is_punct(*l->p)) {
        if (n < TEXT_MAX)
            l->text[n++] = *l->p;
        else
            l->toolong = 1;
        l->p++;
    }
    l->text[n] = 0;
    l->t = T_WORD;
}

static const char *tok_name(const lexer *l)
{
    switch (l->t) {
    case T_END: return "the end of the line";
    case T_COLON: return "':'";
    case T_SEMI: return "';'";
    case T_COMMA: return "','";
    case T_LB: return "'['";
    case T_RB: return "']'";
    case T_OP: return "an operator";
    case T_BAD: return "a stray character or an unclosed quote";
    default: return l->text;
    }
}

/* ---- values ------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* A duration: one or more NUMBER UNIT (s m h d w). 0 or -1. */
static int parse_duration(const char *s, uint32_t *out)
{
    uint64_t total = 0;

    if (!*s)
        return -1;
    while (*s) {
        uint64_t v = 0, unit;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (uint64_t)(*s++ - '0');
            if (v > AFTER_MAX)
                return -1;
            digits++;
        }
        if (!digits)
            return -1;
        switch (*s++) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default: return -1;
        }
        total += v * unit;
        if (total > AFTER_MAX)
            return -1;
    }
    if (total == 0)
        return -1;
    *out = (uint32_t)total;
    return 0;
}

/* One value of field fi into c's slot i; 0, or -1 with an error said. */
static int take_value(ctx *x, struct cond *c, const lexer *l)
{
    enum kind k = fields[c->fi].k;
    const char *s = l->text;
    uint64_t v;

    if (l->t != T_WORD && l->t != T_STR) {
        diag(x, 0, x->line, "%s: a value expected, found %s", fields[c->fi].name, tok_name(l));
        return -1;
    }
    if (l->toolong) {
        diag(x, 0, x->line, "%s: a value longer than %d bytes", fields[c->fi].name, TEXT_MAX);
        return -1;
    }
    switch (k) {
    case K_SEV:
        for (v = 0; v < 4; v++)
            if (!strcasecmp(s, sev_names[v]))
                break;
        if (v < 4)
            v++;
        else if (parse_u64(s, 255, &v) || v == 0) {
            diag(x, 0, x->line, "severity: '%s' is not high, medium, low, info or a number 1..255",
                 s);
            return -1;
        }
        c->num[c->nv++] = v;
        return 0;
    case K_NUM:
        if (parse_u64(s, fields[c->fi].f == F_COUNT ? UINT64_MAX : UINT32_MAX, &v)) {
            diag(x, 0, x->line, "%s: '%s' is not a number", fields[c->fi].name, s);
            return -1;
        }
        c->num[c->nv++] = v;
        return 0;
    case K_LAYER:
        if (parse_u64(s, 1000, &v) || v < 1 || v > 4) {
            diag(x, 0, x->line, "layer: no layer '%s': the layers are 1 to 4", s);
            return -1;
        }
        c->num[c->nv++] = v;
        return 0;
    case K_CC:
        if (!(s[0] == 0 ||
              (strlen(s) == 2 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') &&
               ((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z')))) {
            diag(x, 0, x->line, "%s: '%s' is not a country: two letters (VN), or \"\" for unknown",
                 fields[c->fi].name, s);
            return -1;
        }
        /* fall through */
    case K_TEXT:
        if (!(c->txt[c->nv] = strdup(s))) {
            x->nomem = 1;
            return -1;
        }
        c->nv++;
        return 0;
    }
    return -1;
}

static void cond_free(struct cond *c)
{
    if (c->txt)
        for (unsigned i = 0; i < c->nv; i++)
            free(c->txt[i]);
    free(c->txt);
    free(c->num);
}

static void clause_free(struct clause *c)
{
    for (unsigned i = 0; i < c->ncond; i++)
        cond_free(&c->cond[i]);
    free(c->cond);
}

void cg_policy_destroy(cg_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        clause_free(&p->c[i]);
    free(p->c);
    free(p);
}

/* ---- a clause ------------------------------------------------------------ */

/* COND at l (its field word current). 0, or -1 with an error said. */
static int parse_cond(ctx *x, lexer *l, struct cond *c)
{
    size_t fi;
    int neg = 0;

    memset(c, 0, sizeof *c);
    for (fi = 0; fi < NFIELDS; fi++)
        if (!strcasecmp(l->text, fields[fi].name))
            break;
    if (l->t != T_WORD || fi == NFIELDS) {
        diag(x, 0, x->line, "unknown field '%s' (fields: %s)", tok_name(l), FIELD_LIST);
        return -1;
    }
    c->fi = (uint8_t)fi;
    c->num = calloc(VALUES_MAX, sizeof *c->num);
    c->txt = calloc(VALUES_MAX, sizeof *c->txt);
    if (!c->num || !c->txt) {
        x->nomem = 1;
        return -1;
    }
    next(l);
    if (l->t == T_WORD && !strcasecmp(l->text, "not")) {
        neg = 1;
        next(l);
        if (l->t != T_WORD || strcasecmp(l->text, "in")) {
            diag(x, 0, x->line, "%s: 'not' goes before 'in'", fields[fi].name);
            return -1;
        }
    }
    if (l->t == T_WORD && !strcasecmp(l->text, "in")) {
        c->op = neg ? OP_NOTIN : OP_IN;
        next(l);
        if (l->t != T_LB) {
            diag(x, 0, x->line, "%s in: a list in [ ] expected, found %s", fields[fi].name,
                 tok_name(l));
            return -1;
        }
        do {
            next(l);
            if (c->nv == VALUES_MAX) {
                diag(x, 0, x->line, "%s in: more than %d values", fields[fi].name, VALUES_MAX);
                return -1;
            }
            if (take_value(x, c, l))
                return -1;
            next(l);
        } while (l->t == T_COMMA);
        if (l->t != T_RB) {
            diag(x, 0, x->line, "%s in: ',' or ']' expected, found %s", fields[fi].name,
                 tok_name(l));
            return -1;
        }
        next(l);
        return 0;
    }
    if (l->t != T_OP) {
        diag(x, 0, x->line, "%s: an operator (= != < <= > >= in) expected, found %s",
             fields[fi].name, tok_name(l));
        return -1;
    }
    c->op = (uint8_t)l->op;
    if (c->op != OP_EQ && c->op != OP_NE &&
        (fields[fi].k == K_TEXT || fields[fi].k == K_CC || fields[fi].k == K_LAYER)) {
        diag(x, 0, x->line, "%s: only = != and in compare it", fields[fi].name);
        return -1;
    }
    next(l);
    if (take_value(x, c, l))
        return -1;
    next(l);
    return 0;
}

/* ACTION at l (its first word current) into cl. 0, or -1 with an error said. */
static int parse_action(ctx *x, lexer *l, struct clause *cl)
{
    uint64_t v;

    if (l->t == T_WORD && !strcasecmp(l->text, "layers")) {
        int n = 0;
        next(l);
        while (l->t == T_WORD || l->t == T_COMMA) {
            if (l->t == T_WORD) {
                if (parse_u64(l->text, 1000, &v) || v < 1 || v > 4) {
                    diag(x, 0, x->line, "layers: no layer '%s': the layers are 1 to 4", l->text);
                    return -1;
                }
                cl->now |= (uint8_t)CG_LAYER(v);
                n++;
            }
            next(l);
        }
        if (!n) {
            diag(x, 0, x->line, "layers: at least one layer (1 to 4) expected");
            return -1;
        }
        return 0;
    }
    if (l->t == T_WORD && !strcasecmp(l->text, "after")) {
        struct step st;
        memset(&st, 0, sizeof st);
        next(l);
        if (l->t != T_WORD || parse_duration(l->text, &st.after_s)) {
            diag(x, 0, x->line,
                 "after: '%s' is not a duration: a number and a unit, s m h d w (15m, 24h, "
                 "1h30m), above 0 and at most 366d",
                 tok_name(l));
            return -1;
        }
        if (strlen(l->text) < sizeof st.text)
            snprintf(st.text, sizeof st.text, "%.15s", l->text);
        else /* an odd spelling (1s1s1s...): said as seconds */
            snprintf(st.text, sizeof st.text, "%us", (unsigned)st.after_s);
        next(l);
        if (l->t == T_WORD && !strcasecmp(l->text, "remind")) {
            st.layer = 0;
        } else if (l->t == T_WORD && !strcasecmp(l->text, "layer")) {
            next(l);
            if (l->t != T_WORD || parse_u64(l->text, 1000, &v) || v < 1 || v > 4) {
                diag(x, 0, x->line, "after %s layer: no layer '%s': the layers are 1 to 4", st.text,
                     tok_name(l));
                return -1;
            }
            st.layer = (uint8_t)v;
        } else {
            diag(x, 0, x->line, "after %s: 'layer N' or 'remind' expected, found %s", st.text,
                 tok_name(l));
            return -1;
        }
        next(l);
        if (cl->nsteps == CG_POLICY_STEPS_MAX) {
            diag(x, 0, x->line, "more than %d steps in a clause", CG_POLICY_STEPS_MAX);
            return -1;
        }
        cl->steps[cl->nsteps++] = st;
        return 0;
    }
    diag(x, 0, x->line,
         "an action expected ('layers N', 'after DURATION layer N', "
         "'after DURATION remind'), found %s",
         tok_name(l));
    return -1;
}

/* The end of a directive's line; 0, or -1 with an error said. */
static int line_end(ctx *x, const lexer *l, const char *what)
{
    if (l->t == T_END)
        return 0;
    diag(x, 0, x->line, "the end of the line expected after %s, found %s", what, tok_name(l));
    return -1;
}

/* target SEVERITY acknowledge DURATION [resolve DURATION] (either order,
 * at least one). l is past "target". 0, or -1 with an error said. */
static int parse_target(ctx *x, lexer *l, cg_policy *p)
{
    struct target t = { .line = x->line };
    unsigned si;

    if (l->t != T_WORD) {
        diag(x, 0, x->line,
             "a severity expected after 'target' (high, medium, low, info), found %s", tok_name(l));
        return -1;
    }
    for (si = 0; si < 4 && strcasecmp(l->text, sev_names[si]); si++)
        ;
    if (si == 4) {
        diag(x, 0, x->line, "target: unknown severity '%s' (high, medium, low, info)", l->text);
        return -1;
    }
    if (p->tgt[si].line) {
        diag(x, 0, x->line, "target %s: already set at line %u", sev_names[si], p->tgt[si].line);
        return -1;
    }
    next(l);
    while (l->t == T_WORD) {
        int ack = !strcasecmp(l->text, "acknowledge") || !strcasecmp(l->text, "ack");
        int res = !strcasecmp(l->text, "resolve");
        uint32_t *slot = ack ? &t.ack_s : &t.resolve_s;
        if (!ack && !res)
            break;
        if (*slot) {
            diag(x, 0, x->line, "target %s: '%s' twice", sev_names[si], l->text);
            return -1;
        }
        next(l);
        if (l->t != T_WORD || parse_duration(l->text, slot)) {
            diag(x, 0, x->line,
                 "target %s: a duration expected (90s, 15m, 4h, 3d, 2w, 1h30m; at most 366d), "
                 "found %s",
                 sev_names[si], tok_name(l));
            return -1;
        }
        next(l);
    }
    if (!t.ack_s && !t.resolve_s) {
        diag(x, 0, x->line,
             "target %s: 'acknowledge DURATION' or 'resolve DURATION' expected, found %s",
             sev_names[si], tok_name(l));
        return -1;
    }
    if (line_end(x, l, "the target"))
        return -1;
    if (t.ack_s && t.resolve_s && t.resolve_s < t.ack_s)
        diag(x, 1, x->line,
             "target %s: the time to resolve is shorter than the time to acknowledge",
             sev_names[si]);
    p->tgt[si] = t;
    return 0;
}

/* identity "NAME" | share tlp NAME | share allow WHAT, WHAT... l is at the
 * directive's first word. 0, or -1 with an error said. */
static int parse_share(ctx *x, lexer *l, cg_policy *p)
{
    static const struct {
        const char *name;
        unsigned bit;
    } allow[] = { { "internal-addresses", CG_SHARE_INTERNAL },
                  { "agency-names", CG_SHARE_AGENCY },
                  { "payloads", CG_SHARE_PAYLOAD } };

    if (!strcasecmp(l->text, "identity")) {
        next(l);
        if ((l->t != T_WORD && l->t != T_STR) || !l->text[0] || l->toolong) {
            diag(x, 0, x->line,
                 "identity: a name expected (\"Công an tỉnh Tuyên Quang\"), found %s",
                 l->toolong ? "a value longer than 255 bytes" : tok_name(l));
            return -1;
        }
        if (p->identity_line) {
            diag(x, 0, x->line, "identity: already set at line %u", p->identity_line);
            return -1;
        }
        snprintf(p->identity, sizeof p->identity, "%s", l->text);
        p->identity_line = x->line;
        next(l);
        return line_end(x, l, "the identity");
    }
    next(l); /* share */
    if (l->t == T_WORD && !strcasecmp(l->text, "tlp")) {
        unsigned i;
        next(l);
        for (i = 0; l->t == T_WORD && i < 5 && strcasecmp(l->text, tlp_names[i]); i++)
            ;
        if (l->t != T_WORD || i == 5) {
            diag(x, 0, x->line,
                 "share tlp: unknown TLP '%s' (clear, green, amber, amber+strict, red)",
                 tok_name(l));
            return -1;
        }
        if (p->tlp_line) {
            diag(x, 0, x->line, "share tlp: already set at line %u", p->tlp_line);
            return -1;
        }
        snprintf(p->tlp, sizeof p->tlp, "%s", tlp_names[i]);
        p->tlp_line = x->line;
        next(l);
        return line_end(x, l, "the TLP");
    }
    if (l->t == T_WORD && !strcasecmp(l->text, "allow")) {
        next(l);
        for (;;) {
            unsigned i;
            for (i = 0; l->t == T_WORD && i < 3 && strcasecmp(l->text, allow[i].name); i++)
                ;
            if (l->t != T_WORD || i == 3) {
                diag(x, 0, x->line,
                     "share allow: internal-addresses, agency-names or payloads expected, "
                     "found %s",
                     tok_name(l));
                return -1;
            }
            p->share_allow |= allow[i].bit;
            next(l);
            if (l->t != T_COMMA)
                break;
            next(l);
        }
        return line_end(x, l, "what sharing allows");
    }
    diag(x, 0, x->line, "'share tlp NAME' or 'share allow WHAT' expected, found %s", tok_name(l));
    return -1;
}

/* One line: 1 and *cl for a clause, 0 for none (blank, comment, a
 * directive taken into p), -1 for an error said. */
static int parse_line(ctx *x, cg_policy *p, const char *s, size_t n, struct clause *cl)
{
    lexer l = { .p = s, .end = s + n };

    memset(cl, 0, sizeof *cl);
    cl->line = x->line;
    next(&l);
    if (l.t == T_END)
        return 0;
    if (l.t == T_WORD && !strcasecmp(l.text, "target")) {
        next(&l);
        return parse_target(x, &l, p);
    }
    if (l.t == T_WORD && (!strcasecmp(l.text, "identity") || !strcasecmp(l.text, "share")))
        return parse_share(x, &l, p);
    if (l.t != T_WORD || strcasecmp(l.text, "when")) {
        diag(x, 0, x->line, "a line begins with 'when', 'target', 'identity' or 'share', found %s",
             tok_name(&l));
        return -1;
    }
    next(&l);
    if (l.t == T_WORD && !strcasecmp(l.text, "any")) {
        next(&l);
    } else {
        if (!(cl->cond = calloc(CONDS_MAX, sizeof *cl->cond))) {
            x->nomem = 1;
            return -1;
        }
        for (;;) {
            if (cl->ncond == CONDS_MAX) {
                diag(x, 0, x->line, "more than %d conditions in a clause", CONDS_MAX);
                goto fail;
            }
            int rc = parse_cond(x, &l, &cl->cond[cl->ncond]);
            cl->ncond++;
            if (rc)
                goto fail;
            if (l.t == T_WORD && !strcasecmp(l.text, "and")) {
                next(&l);
                continue;
            }
            break;
        }
    }
    if (l.t != T_COLON) {
        diag(x, 0, x->line, "':' expected after the conditions, found %s", tok_name(&l));
        goto fail;
    }
    next(&l);
    for (;;) {
        if (parse_action(x, &l, cl))
            goto fail;
        if (l.t == T_SEMI) {
            next(&l);
            continue;
        }
        if (l.t != T_END) {
            diag(x, 0, x->line, "';' or the end of the line expected, found %s", tok_name(&l));
            goto fail;
        }
        break;
    }
    return 1;
fail:
    clause_free(cl);
    memset(cl, 0, sizeof *cl);
    return -1;
}

/* ---- the checks --------------------------------------------------------- */

static int text_in(const struct cond *c, const char *s)
{
    for (unsigned i = 0; i < c->nv; i++)
        if (!strcasecmp(c->txt[i], s))
            return 1;
    return 0;
}

static int num_in(const struct cond *c, uint64_t v)
{
    for (unsigned i = 0; i < c->nv; i++)
        if (c->num[i] == v)
            return 1;
    return 0;
}

/* Severity compares by gravity: 1 (high) is the greatest. */
static uint64_t ordinal(enum kind k, uint64_t v)
{
    return k == K_SEV ? 256 - v : v;
}

static int cmp_ok(uint64_t a, int op, uint64_t b)
{
    switch (op) {
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    default: return 0;
    }
}

/* Whether value v of field (single side) passes every condition of cl on
 * it. Numbers only. */
static int num_passes(const struct clause *cl, uint8_t fi, uint64_t v)
{
    enum kind k = fields[fi].k;
    for (unsigned i = 0; i < cl->ncond; i++) {
        const struct cond *c = &cl->cond[i];
        if (c->fi != fi)
            continue;
        if (c->op == OP_IN && !num_in(c, v))
            return 0;
        if (c->op == OP_NOTIN && num_in(c, v))
            return 0;
        if (c->op != OP_IN && c->op != OP_NOTIN &&
            !cmp_ok(ordinal(k, v), c->op, ordinal(k, c->num[0])))
            return 0;
    }
    return 1;
}

static int text_passes(const struct clause *cl, uint8_t fi, const char *s)
{
    for (unsigned i = 0; i < cl->ncond; i++) {
        const struct cond *c = &cl->cond[i];
        if (c->fi != fi)
            continue;
        if ((c->op == OP_IN || c->op == OP_EQ) && !text_in(c, s))
            return 0;
        if ((c->op == OP_NOTIN || c->op == OP_NE) && text_in(c, s))
            return 0;
    }
    return 1;
}

/* Whether the conditions of cl on one single-side field contradict each
 * other: no value passes them all. Candidates: the values the conditions
 * name and their neighbours (a bound's edge), and the field's extremes. */
static int field_empty(const struct clause *cl, uint8_t fi)
{
    enum kind k = fields[fi].k;
    int any = 0;

    if (fields[fi].either)
        return 0; /* two sides: either may match */
    if (k == K_TEXT || k == K_CC) {
        int has_eq = 0;
        for (unsigned i = 0; i < cl->ncond; i++) {
            const struct cond *c = &cl->cond[i];
            if (c->fi != fi || (c->op != OP_EQ && c->op != OP_IN))
                continue;
            has_eq = 1;
            for (unsigned j = 0; j < c->nv; j++)
                if (text_passes(cl, fi, c->txt[j]))
                    return 0;
        }
        return has_eq; /* only != and not in: some other text passes */
    }
    if (k == K_LAYER) {
        unsigned must = 0, mustnot = 0;
        for (unsigned i = 0; i < cl->ncond; i++) {
            const struct cond *c = &cl->cond[i];
            if (c->fi != fi)
                continue;
            if (c->op == OP_EQ)
                must |= CG_LAYER(c->num[0]);
            else if (c->op == OP_NE)
                mustnot |= CG_LAYER(c->num[0]);
        }
        return (must & mustnot) != 0;
    }
    {
        uint64_t lo = k == K_SEV || fields[fi].f == F_COUNT ? 1 : 0;
        uint64_t hi = k == K_SEV ? 255 : fields[fi].f == F_COUNT ? UINT64_MAX : UINT32_MAX;
        uint64_t cand[3 * CONDS_MAX * 2 + 2];
        size_t nc = 0;
        cand[nc++] = lo;
        cand[nc++] = hi;
        for (unsigned i = 0; i < cl->ncond; i++) {
            const struct cond *c = &cl->cond[i];
            if (c->fi != fi)
                continue;
            any = 1;
            if (c->op == OP_IN || c->op == OP_NOTIN) {
                for (unsigned j = 0; j < c->nv; j++)
                    if (c->op == OP_IN && num_passes(cl, fi, c->num[j]))
                        return 0;
                if (c->op == OP_IN)
                    return 1; /* none of the list passes */
                continue;
            }
            uint64_t v = c->num[0];
            if (nc + 3 <= sizeof cand / sizeof cand[0]) {
                cand[nc++] = v;
                if (v > lo)
                    cand[nc++] = v - 1;
                if (v < hi)
                    cand[nc++] = v + 1;
            }
        }
        if (!any)
            return 0;
        for (size_t i = 0; i < nc; i++)
            if (num_passes(cl, fi, cand[i]))
                return 0;
        /* not in lists: their values and neighbours */
        for (unsigned i = 0; i < cl->ncond; i++) {
            const struct cond *c = &cl->cond[i];
            if (c->fi != fi || c->op != OP_NOTIN)
                continue;
            for (unsigned j = 0; j < c->nv; j++) {
                uint64_t v = c->num[j];
                if ((v > lo && num_passes(cl, fi, v - 1)) || (v < hi && num_passes(cl, fi, v + 1)))
                    return 0;
            }
        }
        return 1;
    }
}

static int cond_same(const struct cond *a, const struct cond *b)
{
    if (a->fi != b->fi || a->op != b->op || a->nv != b->nv)
        return 0;
    for (unsigned i = 0; i < a->nv; i++) {
        if (a->txt[i] || b->txt[i]) {
            if (!a->txt[i] || !b->txt[i] || !text_in(b, a->txt[i]))
                return 0;
        } else if (!num_in(b, a->num[i])) {
            return 0;
        }
    }
    return 1;
}

/* Whether every condition of e is one of c's: e then takes every incident
 * c would. */
static int covers(const struct clause *e, const struct clause *c)
{
    for (unsigned i = 0; i < e->ncond; i++) {
        int found = 0;
        for (unsigned j = 0; j < c->ncond && !found; j++)
            found = cond_same(&e->cond[i], &c->cond[j]);
        if (!found)
            return 0;
    }
    return 1;
}

static void check(ctx *x, const cg_policy *p)
{
    char *never = calloc(p->n ? p->n : 1, 1);

    if (!never) {
        x->nomem = 1;
        return;
    }

    for (size_t i = 0; i < p->n; i++) {
        const struct clause *cl = &p->c[i];
        for (unsigned j = 0; j < cl->ncond && !never[i]; j++) {
            int seen = 0;
            for (unsigned m = 0; m < j; m++)
                seen |= cl->cond[m].fi == cl->cond[j].fi;
            if (!seen && field_empty(cl, cl->cond[j].fi)) {
                diag(x, 1, cl->line,
                     "this clause never matches: its conditions on %s contradict each other",
                     fields[cl->cond[j].fi].name);
                never[i] = 1;
            }
        }
        for (size_t e = 0; e < i && !never[i]; e++) {
            if (!never[e] && covers(&p->c[e], cl)) {
                diag(x, 1, cl->line,
                     "this clause never matches: the clause at line %u takes every incident it "
                     "would (the first clause that matches decides)",
                     p->c[e].line);
                never[i] = 1;
            }
        }
        uint8_t reached = cl->now;
        for (unsigned s = 0; s < cl->nsteps; s++) {
            const struct step *st = &cl->steps[s];
            if (st->layer && (reached & CG_LAYER(st->layer)))
                diag(x, 1, cl->line,
                     "after %s layer %u: the clause gives layer %u sooner: this step does nothing",
                     st->text, st->layer, st->layer);
            for (unsigned t = 0; t < s; t++)
                if (cl->steps[t].after_s == st->after_s &&
                    (cl->steps[t].layer == 0) == (st->layer == 0) && st->layer == 0)
                    diag(x, 1, cl->line, "after %s remind: twice the same reminder", st->text);
            if (st->layer)
                reached |= (uint8_t)CG_LAYER(st->layer);
        }
    }
    free(never);
}

/* ---- parse and load ------------------------------------------------------- */

int cg_policy_parse(cg_policy **out, const char *name, const char *text, size_t len,
                    cg_policy_diag_fn fn, void *arg)
{
    ctx x = { .fn = fn, .arg = arg };
    cg_policy *p = calloc(1, sizeof *p);
    size_t cap = 0, off = 0;
    const char *base;

    if (!p)
        return CG_ENOMEM;
    base = name ? strrchr(name, '/') : NULL;
    base = base ? base + 1 : name ? name : "policy";
    snprintf(p->name, sizeof p->name, "%s", base);
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        off = 3; /* a UTF-8 byte-order mark */
    while (off < len && !x.nomem) {
        const char *s = text + off, *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        struct clause cl;
        int rc;
        off += n + (nl ? 1 : 0);
        x.line++;
        if (n > LINE_MAX_) {
            diag(&x, 0, x.line, "a line longer than %d bytes", LINE_MAX_);
            continue;
        }
        if (memchr(s, 0, n)) {
            diag(&x, 0, x.line, "a NUL byte in the line");
            continue;
        }
        rc = parse_line(&x, p, s, n, &cl);
        if (rc <= 0)
            continue;
        if (p->n == CG_POLICY_CLAUSES_MAX) {
            diag(&x, 0, x.line, "more than %d clauses", CG_POLICY_CLAUSES_MAX);
            clause_free(&cl);
            break;
        }
        if (p->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct clause *c = realloc(p->c, nc * sizeof *c);
            if (!c) {
                clause_free(&cl);
                x.nomem = 1;
                break;
            }
            p->c = c;
            cap = nc;
        }
        p->c[p->n++] = cl;
    }
    if (x.nomem) {
        cg_policy_destroy(p);
        return CG_ENOMEM;
    }
    if (!x.errors)
        check(&x, p);
    if (x.nomem) {
        cg_policy_destroy(p);
        return CG_ENOMEM;
    }
    if (x.errors) {
        cg_policy_destroy(p);
        return CG_EFAIL;
    }
    *out = p;
    return 0;
}

int cg_policy_load(cg_policy **out, const char *path, cg_policy_diag_fn fn, void *arg)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (!f) {
        if (fn) {
            char msg[300];
            snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
            fn(0, 0, msg, arg);
        }
        return CG_EIO;
    }
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *b = nc > (64u << 20) ? NULL : realloc(buf, nc);
            if (!b) {
                fclose(f);
                free(buf);
                if (fn)
                    fn(0, 0, nc > (64u << 20) ? "larger than 64 MiB" : "out of memory", arg);
                return nc > (64u << 20) ? CG_EFAIL : CG_ENOMEM;
            }
            buf = b;
            cap = nc;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        if (fn)
            fn(0, 0, "cannot read", arg);
        return CG_EIO;
    }
    fclose(f);
    rc = cg_policy_parse(out, path, buf, len, fn, arg);
    free(buf);
    return rc;
}

/* ---- evaluation ----------------------------------------------------------- */

static const char *side_text(const cg_incident *inc, enum field f, int side)
{
    const cg_incident_geo *g = side ? &inc->dst_geo : &inc->src_geo;
    const char *s;
    switch (f) {
    case F_SRC_CC:
    case F_DST_CC:
    case F_CC: return g->country;
    case F_SRC_AGENCY:
    case F_DST_AGENCY:
    case F_AGENCY: s = g->agency; break;
    case F_SRC_ZONE:
    case F_DST_ZONE:
    case F_ZONE: s = g->zone; break;
    case F_CLASSTYPE: s = inc->classtype; break;
    default: s = "";
    }
    return s ? s : "";
}

static int text_holds(const struct cond *c, const char *s)
{
    switch (c->op) {
    case OP_EQ:
    case OP_IN: return text_in(c, s);
    default: return !text_in(c, s);
    }
}

static int cond_holds(const struct cond *c, const cg_incident *inc)
{
    enum field f = fields[c->fi].f;
    enum kind k = fields[c->fi].k;
    uint64_t v = 0;

    if (k == K_TEXT || k == K_CC) {
        int side = f == F_DST_CC || f == F_DST_AGENCY || f == F_DST_ZONE;
        if (!fields[c->fi].either)
            return text_holds(c, side_text(inc, f, side));
        int a = text_holds(c, side_text(inc, f, 0)), b = text_holds(c, side_text(inc, f, 1));
        /* = and in: one side; != and not in: both sides */
        return c->op == OP_EQ || c->op == OP_IN ? a || b : a && b;
    }
    if (k == K_LAYER) {
        int any = 0;
        for (unsigned i = 0; i < c->nv; i++)
            any |= (inc->layers & CG_LAYER(c->num[i])) != 0;
        return c->op == OP_EQ || c->op == OP_IN ? any : !any;
    }
    switch (f) {
    case F_SEV: v = inc->severity; break;
    case F_SID: v = inc->sid; break;
    case F_GID: v = inc->gid; break;
    case F_COUNT: v = inc->count; break;
    default: break;
    }
    if (c->op == OP_IN)
        return num_in(c, v);
    if (c->op == OP_NOTIN)
        return !num_in(c, v);
    return cmp_ok(ordinal(k, v), c->op, ordinal(k, c->num[0]));
}

/* Severity 1 high, 2 medium, 3 low, 4.. info: its target slot. */
static unsigned sev_slot(uint8_t sev)
{
    return sev == 0 ? 0 : sev >= 4 ? 3 : (unsigned)sev - 1;
}

int cg_policy_target(const cg_policy *p, uint8_t sev, uint32_t *ack_s, uint32_t *resolve_s)
{
    const struct target *t;

    if (!p)
        return 0;
    t = &p->tgt[sev_slot(sev)];
    if (!t->line)
        return 0;
    if (ack_s)
        *ack_s = t->ack_s;
    if (resolve_s)
        *resolve_s = t->resolve_s;
    return 1;
}

unsigned cg_policy_target_line(const cg_policy *p, uint8_t sev)
{
    return p ? p->tgt[sev_slot(sev)].line : 0;
}

const char *cg_policy_identity(const cg_policy *p)
{
    return p && p->identity[0] ? p->identity : NULL;
}

unsigned cg_policy_share_allow(const cg_policy *p)
{
    return p ? p->share_allow : 0;
}

const char *cg_policy_tlp(const cg_policy *p)
{
    return p && p->tlp[0] ? p->tlp : NULL;
}

const char *cg_policy_name(const cg_policy *p)
{
    return p ? p->name : NULL;
}

size_t cg_policy_nclauses(const cg_policy *p)
{
    return p ? p->n : 0;
}

int cg_policy_match(const cg_policy *p, const cg_incident *inc)
{
    if (!p)
        return -1;
    for (size_t i = 0; i < p->n; i++) {
        const struct clause *cl = &p->c[i];
        unsigned j = 0;
        while (j < cl->ncond && cond_holds(&cl->cond[j], inc))
            j++;
        if (j == cl->ncond)
            return (int)i;
    }
    return -1;
}

size_t cg_policy_decide(const cg_policy *p, const cg_incident *inc, uint64_t now_us,
                        cg_policy_action *out, size_t max)
{
    int ci = cg_policy_match(p, inc);
    size_t n = 0;
    uint8_t have;

    if (ci < 0)
        return 0;
    const struct clause *cl = &p->c[ci];
    have = inc->layers;
    if ((cl->now & ~have) && n < max) {
        out[n++] = (cg_policy_action){ .layers = (uint8_t)(cl->now & ~have),
                                       .clause = (uint16_t)ci,
                                       .step = -1 };
    }
    have |= cl->now;
    if (!now_us || inc->status != CG_ST_NEW)
        return n;
    for (unsigned s = 0; s < cl->nsteps && n < max; s++) {
        const struct step *st = &cl->steps[s];
        if (inc->first_us > now_us || now_us - inc->first_us < (uint64_t)st->after_s * 1000000u)
            continue;
        if (st->layer == 0) {
            out[n++] = (cg_policy_action){ .remind = 1,
                                           .clause = (uint16_t)ci,
                                           .step = (int16_t)s,
                                           .after_s = st->after_s };
        } else if (!(have & CG_LAYER(st->layer))) {
            out[n++] = (cg_policy_action){ .layers = (uint8_t)CG_LAYER(st->layer),
                                           .clause = (uint16_t)ci,
                                           .step = (int16_t)s,
                                           .after_s = st->after_s };
            have |= (uint8_t)CG_LAYER(st->layer);
        }
    }
    return n;
}

void cg_policy_why(const cg_policy *p, const cg_policy_action *a, char *buf, size_t len)
{
    const struct clause *cl;

    if (!p || a->clause >= p->n) {
        snprintf(buf, len, "policy");
        return;
    }
    cl = &p->c[a->clause];
    if (a->step < 0 || a->step >= cl->nsteps)
        snprintf(buf, len, "%s:%u", p->name, cl->line);
    else if (a->remind)
        snprintf(buf, len, "%s:%u: after %s, remind", p->name, cl->line, cl->steps[a->step].text);
    else
        snprintf(buf, len, "%s:%u: after %s", p->name, cl->line, cl->steps[a->step].text);
}
