/* qlang.c — the incident query language: tokenizer, recursive-descent parser
 * into a small tree, evaluation over a cg_qrec, and index hints (qlang.h has
 * the grammar and the contract).
 *
 * The tree is one allocation per node, made at parse time only. Values are
 * resolved while parsing (times against now, CIDRs to ranges, names to codes),
 * so evaluation compares plain numbers and bytes.
 */
#include "store/qlang.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- shared value parsers ------------------------------------------------ */

int cg_qlang_duration(const char *s, uint64_t *out_us)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mul;
    if (!*end || !strcmp(end, "s"))
        mul = 1;
    else if (!strcmp(end, "m"))
        mul = 60;
    else if (!strcmp(end, "h"))
        mul = 3600;
    else if (!strcmp(end, "d"))
        mul = 86400;
    else if (!strcmp(end, "w"))
        mul = 7 * 86400;
    else
        return -1;
    if (v > UINT64_MAX / 1000000u / mul)
        return -1;
    *out_us = (uint64_t)v * mul * 1000000u;
    return 0;
}

int cg_qlang_time(const char *s, uint64_t now_us, uint64_t *out_us)
{
    uint64_t d;
    if (!s || !*s)
        return -1;
    if (s[0] == '@') {
        char *end;
        if (!isdigit((unsigned char)s[1]))
            return -1;
        unsigned long long v = strtoull(s + 1, &end, 10);
        if (*end || v > UINT64_MAX / 1000000u)
            return -1;
        *out_us = (uint64_t)v * 1000000u;
        return 0;
    }
    if (strchr(s, '-') == NULL) {
        if (cg_qlang_duration(s, &d) || d > now_us)
            return -1;
        *out_us = now_us - d;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (!rest)
        return -1;
    if (*rest == 'T' || *rest == ' ') {
        rest = strptime(rest + 1, "%H:%M", &tm);
        if (!rest)
            return -1;
        if (*rest == ':') {
            rest = strptime(rest + 1, "%S", &tm);
            if (!rest)
                return -1;
        }
    }
    if (*rest == 'Z')
        rest++;
    if (*rest)
        return -1;
    time_t t = timegm(&tm);
    if (t < 0)
        return -1;
    *out_us = (uint64_t)t * 1000000u;
    return 0;
}

int cg_qlang_cidr(const char *s, uint8_t lo[16], uint8_t hi[16])
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    uint8_t a[16];
    int v4;

    if (alen == 0 || alen >= sizeof buf)
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = 0;
    memset(a, 0, sizeof a);
    if (inet_pton(AF_INET, buf, a + 12) == 1) {
        a[10] = a[11] = 0xff;
        v4 = 1;
    } else if (inet_pton(AF_INET6, buf, a) == 1) {
        v4 = 0;
    } else {
        return -1;
    }
    long bits = v4 ? 32 : 128;
    if (slash) {
        char *end;
        if (!isdigit((unsigned char)slash[1]))
            return -1;
        bits = strtol(slash + 1, &end, 10);
        if (*end || bits > (v4 ? 32 : 128))
            return -1;
    }
    int keep = (int)bits + (v4 ? 96 : 0);
    for (int i = 0; i < 16; i++) {
        int b = keep - i * 8;
        uint8_t mask = b >= 8 ? 0xff : b <= 0 ? 0 : (uint8_t)(0xff << (8 - b));
        lo[i] = a[i] & mask;
        hi[i] = (uint8_t)(a[i] | (uint8_t)~mask);
    }
    return 0;
}

int cg_qlang_severity(const char *s, uint8_t *out)
{
    static const char *const names[] = { "high", "medium", "low", "info" };
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, names[i])) {
            *out = (uint8_t)(i + 1);
            return 0;
        }
    if (s[0] >= '1' && s[0] <= '4' && !s[1]) {
        *out = (uint8_t)(s[0] - '0');
        return 0;
    }
    return -1;
}

static const char *const status_names[] = { "new", "acknowledged", "investigating", "resolved",
                                            "false-positive" };

int cg_qlang_status(const char *s, uint8_t *out)
{
    for (int i = 0; i < 5; i++)
        if (!strcasecmp(s, status_names[i])) {
            *out = (uint8_t)i;
            return 0;
        }
    if (!strcasecmp(s, "ack")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(s, "fp") || !strcasecmp(s, "false_positive")) {
        *out = 4;
        return 0;
    }
    return -1;
}

const char *cg_qlang_status_name(unsigned status)
{
    return status < 5 ? status_names[status] : "unknown";
}

/* ---- fields ---------------------------------------------------------------- */

enum vkind { V_NUM, V_TIME, V_ADDR, V_TEXT, V_SEV, V_STATUS, V_PROTO, V_CC, V_ASN, V_LAYER };
enum side { S_ONE, S_SRC, S_DST, S_EITHER };

enum fid {
    F_FIRST,
    F_LAST,
    F_SRC,
    F_DST,
    F_IP,
    F_SPORT,
    F_DPORT,
    F_PORT,
    F_SID,
    F_GID,
    F_COUNT,
    F_ID,
    F_SEV,
    F_STATUS,
    F_PROTO,
    F_MSG,
    F_CLASSTYPE,
    F_ASSIGNEE,
    F_CID,
    F_SRC_CC,
    F_DST_CC,
    F_CC,
    F_SRC_ASN,
    F_DST_ASN,
    F_ASN,
    F_SRC_AGENCY,
    F_DST_AGENCY,
    F_AGENCY,
    F_SRC_ZONE,
    F_DST_ZONE,
    F_ZONE,
    F_LAYER,
    F_ATTACK,
    F_CASE,
    F_URL,
    F_HTTP_HOST,
    F_HTTP_UA,
    F_HTTP_METHOD,
    F_HTTP_STATUS,
    F_DNS_QUERY,
    F_TLS_SNI,
    F_TLS_JA3,
    F_APP_PROTO,
};

typedef struct field_def {
    const char *name;
    uint8_t id, kind;
} field_def;

static const field_def fields[] = {
    { "time", F_FIRST, V_TIME },
    { "first_seen", F_FIRST, V_TIME },
    { "last_seen", F_LAST, V_TIME },
    { "src", F_SRC, V_ADDR },
    { "src_ip", F_SRC, V_ADDR },
    { "dst", F_DST, V_ADDR },
    { "dest_ip", F_DST, V_ADDR },
    { "ip", F_IP, V_ADDR },
    { "sport", F_SPORT, V_NUM },
    { "src_port", F_SPORT, V_NUM },
    { "dport", F_DPORT, V_NUM },
    { "dest_port", F_DPORT, V_NUM },
    { "port", F_PORT, V_NUM },
    { "sid", F_SID, V_NUM },
    { "signature_id", F_SID, V_NUM },
    { "gid", F_GID, V_NUM },
    { "count", F_COUNT, V_NUM },
    { "id", F_ID, V_NUM },
    { "incident_id", F_ID, V_NUM },
    { "sev", F_SEV, V_SEV },
    { "severity", F_SEV, V_SEV },
    { "status", F_STATUS, V_STATUS },
    { "proto", F_PROTO, V_PROTO },
    { "msg", F_MSG, V_TEXT },
    { "signature", F_MSG, V_TEXT },
    { "classtype", F_CLASSTYPE, V_TEXT },
    { "assignee", F_ASSIGNEE, V_TEXT },
    { "community_id", F_CID, V_TEXT },
    { "src.country", F_SRC_CC, V_CC },
    { "dst.country", F_DST_CC, V_CC },
    { "country", F_CC, V_CC },
    { "src.asn", F_SRC_ASN, V_ASN },
    { "dst.asn", F_DST_ASN, V_ASN },
    { "asn", F_ASN, V_ASN },
    { "src.agency", F_SRC_AGENCY, V_TEXT },
    { "dst.agency", F_DST_AGENCY, V_TEXT },
    { "agency", F_AGENCY, V_TEXT },
    { "src.zone", F_SRC_ZONE, V_TEXT },
    { "dst.zone", F_DST_ZONE, V_TEXT },
    { "zone", F_ZONE, V_TEXT },
    { "layer", F_LAYER, V_LAYER },
    { "attack", F_ATTACK, V_NUM },
    { "attack_id", F_ATTACK, V_NUM },
    { "case", F_CASE, V_NUM },
    { "url", F_URL, V_TEXT },
    { "http.url", F_URL, V_TEXT },
    { "http.host", F_HTTP_HOST, V_TEXT },
    { "http.hostname", F_HTTP_HOST, V_TEXT },
    { "http.user_agent", F_HTTP_UA, V_TEXT },
    { "http.http_user_agent", F_HTTP_UA, V_TEXT },
    { "http.method", F_HTTP_METHOD, V_TEXT },
    { "http.http_method", F_HTTP_METHOD, V_TEXT },
    { "http.status", F_HTTP_STATUS, V_NUM },
    { "dns.query", F_DNS_QUERY, V_TEXT },
    { "dns.rrname", F_DNS_QUERY, V_TEXT },
    { "tls.sni", F_TLS_SNI, V_TEXT },
    { "tls.ja3", F_TLS_JA3, V_TEXT },
    { "tls.ja3.hash", F_TLS_JA3, V_TEXT },
    { "app_proto", F_APP_PROTO, V_TEXT },
};

static const field_def *field_find(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == n && !strncasecmp(fields[i].name, s, n))
            return &fields[i];
    return NULL;
}

/* ---- the tree ------------------------------------------------------------- */

enum ntype { N_AND, N_OR, N_NOT, N_CMP };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_HAS, OP_NHAS, OP_IN, OP_NIN };

typedef struct qval {
    uint64_t num;           /* numbers, times, codes */
    uint8_t lo[16], hi[16]; /* addresses: a range */
    char *text;             /* text and country codes (upper case) */
} qval;

struct cg_qexpr {
    uint8_t type;
    uint8_t fid, kind, op;
    uint32_t at;            /* CMP: where its field starts in the text */
    struct cg_qexpr *a, *b; /* AND/OR: both; NOT: a */
    qval *v;                /* CMP: values (one, or a list for IN/NIN) */
    uint32_t nv;
};

void cg_qlang_free(cg_qexpr *e)
{
    if (!e)
        return;
    cg_qlang_free(e->a);
    cg_qlang_free(e->b);
    for (uint32_t i = 0; i < e->nv; i++)
        free(e->v[i].text);
    free(e->v);
    free(e);
}

/* ---- tokenizer ------------------------------------------------------------ */

enum tok { T_END, T_WORD, T_STR, T_LP, T_RP, T_LB, T_RB, T_COMMA, T_OP, T_BAD };

typedef struct parser {
    const char *s;
    size_t pos;
    /* current token */
    int t;
    size_t tpos, tlen; /* where it is in s */
    int op;            /* T_OP: OP_* */
    char buf[512];     /* T_WORD / T_STR text, unescaped */
    uint64_t now;
    char *err;
    size_t errlen;
    int errcol;
    int depth;
} parser;

#define MAX_DEPTH 64

static int fail(parser *p, size_t at, const char *fmt, ...)
{
    if (p->errcol)
        return -1; /* keep the first error */
    p->errcol = (int)at + 1;
    int n = snprintf(p->err, p->errlen, "column %d: ", p->errcol);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int word_char(int c)
{
    return c && !isspace(c) && !strchr("()[],=!<>~\"", c);
}

static int next(parser *p)
{
    const char *s = p->s;
    while (isspace((unsigned char)s[p->pos]))
        p->pos++;
    p->tpos = p->pos;
    char c = s[p->pos];
    if (!c) {
        p->t = T_END;
        p->tlen = 0;
        return 0;
    }
    p->pos++;
    switch (c) {
    case '(': p->t = T_LP; break;
    case ')': p->t = T_RP; break;
    case '[': p->t = T_LB; break;
    case ']': p->t = T_RB; break;
    case ',': p->t = T_COMMA; break;
    case '=':
        p->t = T_OP;
        p->op = OP_EQ;
        if (s[p->pos] == '=')
            p->pos++;
        break;
    case '~':
        p->t = T_OP;
        p->op = OP_HAS;
        break;
    case '<':
        p->t = T_OP;
        p->op = OP_LT;
        if (s[p->pos] == '=') {
            p->pos++;
            p->op = OP_LE;
        }
        break;
    case '>':
        p->t = T_OP;
        p->op = OP_GT;
        if (s[p->pos] == '=') {
            p->pos++;
            p->op = OP_GE;
        }
        break;
    case '!':
        p->t = T_OP;
        if (s[p->pos] == '=') {
            p->pos++;
            p->op = OP_NE;
        } else if (s[p->pos] == '~') {
            p->pos++;
            p->op = OP_NHAS;
        } else
            return fail(p, p->tpos, "'!' must be followed by '=' or '~'");
        break;
    case '"': {
        size_t n = 0;
        for (;;) {
            char d = s[p->pos];
            if (!d)
                return fail(p, p->tpos, "unterminated string");
            p->pos++;
            if (d == '"')
                break;
            if (d == '\\' && (s[p->pos] == '"' || s[p->pos] == '\\'))
                d = s[p->pos++];
            if (n + 1 >= sizeof p->buf)
                return fail(p, p->tpos, "string longer than %zu bytes", sizeof p->buf - 1);
            p->buf[n++] = d;
        }
        p->buf[n] = 0;
        p->t = T_STR;
        break;
    }
    default: {
        size_t n = 0;
        p->pos--;
        while (word_char((unsigned char)s[p->pos])) {
            if (n + 1 >= sizeof p->buf)
                return fail(p, p->tpos, "word longer than %zu bytes", sizeof p->buf - 1);
            p->buf[n++] = s[p->pos++];
        }
        p->buf[n] = 0;
        p->t = T_WORD;
        break;
    }
    }
    p->tlen = p->pos - p->tpos;
    return 0;
}

static int is_kw(const parser *p, const char *kw)
{
    return p->t == T_WORD && !strcasecmp(p->buf, kw);
}

/* ---- values --------------------------------------------------------------- */

static const char *kind_name(int k)
{
    static const char *const n[] = { "a number",
                                     "a time (24h, 2025-11-23T08:00:00, @EPOCH)",
                                     "an address or CIDR",
                                     "a text",
                                     "a severity (high, medium, low, info)",
                                     "a status (new, acknowledged, investigating, resolved, "
                                     "false-positive)",
                                     "a protocol (tcp, udp, icmp or a number)",
                                     "a two-letter country code",
                                     "an AS number",
                                     "a layer (1..4)" };
    return n[k];
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The current token as a value of kind k (for field f). */
static int value(parser *p, const field_def *f, qval *v)
{
    const char *s = p->buf;
    int ok = 0;
    memset(v, 0, sizeof *v);
    if (p->t != T_WORD && p->t != T_STR)
        return fail(p, p->tpos, "expected %s after %s", kind_name(f->kind), f->name);
    switch (f->kind) {
    case V_NUM: {
        uint64_t max =
            (f->id == F_SPORT || f->id == F_DPORT || f->id == F_PORT || f->id == F_HTTP_STATUS)
            ? 65535
            : (f->id == F_SID || f->id == F_GID) ? UINT32_MAX
                                                 : UINT64_MAX;
        ok = !parse_u64(s, max, &v->num);
        break;
    }
    case V_TIME: ok = !cg_qlang_time(s, p->now, &v->num); break;
    case V_ADDR: ok = !cg_qlang_cidr(s, v->lo, v->hi); break;
    case V_SEV: {
        uint8_t x;
        ok = !cg_qlang_severity(s, &x);
        v->num = x;
        break;
    }
    case V_STATUS: {
        uint8_t x;
        ok = !cg_qlang_status(s, &x);
        v->num = x;
        break;
    }
    case V_PROTO:
        if (!strcasecmp(s, "tcp"))
            v->num = 6, ok = 1;
        else if (!strcasecmp(s, "udp"))
            v->num = 17, ok = 1;
        else if (!strcasecmp(s, "icmp"))
            v->num = 1, ok = 1;
        else if (!strcasecmp(s, "icmpv6") || !strcasecmp(s, "ipv6-icmp"))
            v->num = 58, ok = 1;
        else
            ok = !parse_u64(s, 255, &v->num);
        break;
    case V_CC:
        /* "" (quoted) is an unknown country */
        ok = (strlen(s) == 2 && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1])) ||
            (p->t == T_STR && s[0] == '\0');
        if (ok) {
            /* always 3 bytes: the hints copy a country whole */
            if (!(v->text = calloc(1, 3)))
                return fail(p, p->tpos, "out of memory");
            if (s[0]) {
                v->text[0] = (char)toupper((unsigned char)s[0]);
                v->text[1] = (char)toupper((unsigned char)s[1]);
            }
        }
        break;
    case V_ASN: ok = !parse_u64(!strncasecmp(s, "as", 2) ? s + 2 : s, UINT32_MAX, &v->num); break;
    case V_LAYER: ok = !parse_u64(s, 4, &v->num) && v->num >= 1; break;
    case V_TEXT:
        if (!(v->text = strdup(s)))
            return fail(p, p->tpos, "out of memory");
        ok = 1;
        break;
    }
    if (!ok)
        return fail(p, p->tpos, "'%s' is not %s", s, kind_name(f->kind));
    return 0;
}

/* Which operators make sense for a kind. */
static int op_ok(int kind, int op)
{
    switch (op) {
    case OP_EQ:
    case OP_NE:
    case OP_IN:
    case OP_NIN: return 1;
    case OP_HAS:
    case OP_NHAS: return kind == V_TEXT;
    default: /* ordering */
        return kind == V_NUM || kind == V_TIME || kind == V_SEV || kind == V_ASN ||
            kind == V_ADDR || kind == V_LAYER;
    }
}

static const char *op_name(int op)
{
    static const char *const n[] = { "=", "!=", "<", "<=", ">", ">=", "~", "!~", "in", "not in" };
    return n[op];
}

/* ---- parser --------------------------------------------------------------- */

static cg_qexpr *node(parser *p, int type)
{
    cg_qexpr *e = calloc(1, sizeof *e);
    if (!e)
        fail(p, p->tpos, "out of memory");
    else
        e->type = (uint8_t)type;
    return e;
}

static cg_qexpr *parse_or(parser *p);

static cg_qexpr *parse_term(parser *p)
{
    size_t at = p->tpos;
    if (p->t != T_WORD) {
        if (p->t == T_END)
            fail(p, at, "expected a condition, found the end of the query");
        else
            fail(p, at, "expected a field name");
        return NULL;
    }
    cg_qexpr *e = node(p, N_CMP);
    if (!e)
        return NULL;
    const field_def *f;
    if (is_kw(p, "since") || is_kw(p, "until")) {
        e->op = is_kw(p, "since") ? OP_GE : OP_LT;
        f = &fields[0];
        if (next(p))
            goto bad;
        if (p->t == T_OP && p->op == OP_EQ && next(p)) /* since=24h, as filters were written */
            goto bad;
    } else {
        f = field_find(p->buf, strlen(p->buf));
        if (!f) {
            fail(p, at,
                 "unknown field '%s' (fields: time, src, dst, ip, sport, dport, port, "
                 "sid, gid, sev, status, proto, msg, classtype, assignee, community_id, "
                 "src.country, dst.country, country, src.asn, dst.asn, asn, agency, zone, "
                 "layer, count, id, attack, case, url, http.host, http.user_agent, http.method, "
                 "http.status, dns.query, tls.sni, tls.ja3, app_proto)",
                 p->buf);
            goto bad;
        }
        if (next(p))
            goto bad;
        if (is_kw(p, "not")) {
            if (next(p))
                goto bad;
            if (!is_kw(p, "in")) {
                fail(p, p->tpos, "expected 'in' after 'not'");
                goto bad;
            }
            e->op = OP_NIN;
        } else if (is_kw(p, "in")) {
            e->op = OP_IN;
        } else if (p->t == T_OP) {
            e->op = (uint8_t)p->op;
        } else {
            fail(p, p->tpos, "expected an operator (= != < <= > >= ~ in) after %s", f->name);
            goto bad;
        }
        if (!op_ok(f->kind, e->op)) {
            fail(p, p->tpos, "operator %s does not apply to %s", op_name(e->op), f->name);
            goto bad;
        }
        if (next(p))
            goto bad;
    }
    e->fid = f->id;
    e->kind = f->kind;
    e->at = (uint32_t)at;
    if ((e->op == OP_IN || e->op == OP_NIN) && p->t == T_LB) {
        uint32_t cap = 0;
        for (;;) {
            if (next(p))
                goto bad;
            if (e->nv == cap) {
                cap = cap ? cap * 2 : 4;
                qval *nvv = realloc(e->v, cap * sizeof *nvv);
                if (!nvv) {
                    fail(p, p->tpos, "out of memory");
                    goto bad;
                }
                e->v = nvv;
            }
            if (value(p, f, &e->v[e->nv]))
                goto bad;
            e->nv++;
            if (next(p))
                goto bad;
            if (p->t == T_RB)
                break;
            if (p->t != T_COMMA) {
                fail(p, p->tpos, "expected ',' or ']' in the list");
                goto bad;
            }
        }
    } else {
        if ((e->op == OP_IN || e->op == OP_NIN) && f->kind != V_ADDR) {
            fail(p, p->tpos, "'in' takes a list [a, b, ...] for %s", f->name);
            goto bad;
        }
        if (!(e->v = calloc(1, sizeof *e->v))) {
            fail(p, p->tpos, "out of memory");
            goto bad;
        }
        if (value(p, f, &e->v[0]))
            goto bad;
        e->nv = 1;
    }
    if (next(p))
        goto bad;
    return e;
bad:
    cg_qlang_free(e);
    return NULL;
}

static cg_qexpr *parse_unary(parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        fail(p, p->tpos, "nested deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    cg_qexpr *e = NULL;
    if (is_kw(p, "not")) {
        if (next(p))
            goto out;
        cg_qexpr *a = parse_unary(p);
        if (!a)
            goto out;
        if (!(e = node(p, N_NOT))) {
            cg_qlang_free(a);
            goto out;
        }
        e->a = a;
    } else if (p->t == T_LP) {
        size_t at = p->tpos;
        if (next(p))
            goto out;
        e = parse_or(p);
        if (e && p->t != T_RP) {
            fail(p, p->t == T_END ? at : p->tpos,
                 p->t == T_END ? "'(' is never closed" : "expected ')'");
            cg_qlang_free(e);
            e = NULL;
        } else if (e && next(p)) {
            cg_qlang_free(e);
            e = NULL;
        }
    } else {
        e = parse_term(p);
    }
out:
    p->depth--;
    return e;
}

static cg_qexpr *join(parser *p, int type, cg_qexpr *a, cg_qexpr *b)
{
    cg_qexpr *e = node(p, type);
    if (!e) {
        cg_qlang_free(a);
        cg_qlang_free(b);
        return NULL;
    }
    e->a = a;
    e->b = b;
    return e;
}

static cg_qexpr *parse_and(parser *p)
{
    cg_qexpr *e = parse_unary(p);
    while (e && p->t != T_END && p->t != T_RP && !is_kw(p, "or")) {
        if (is_kw(p, "and") && next(p)) {
            cg_qlang_free(e);
            return NULL;
        }
        cg_qexpr *b = parse_unary(p);
        if (!b) {
            cg_qlang_free(e);
            return NULL;
        }
        e = join(p, N_AND, e, b);
    }
    return e;
}

static cg_qexpr *parse_or(parser *p)
{
    cg_qexpr *e = parse_and(p);
    while (e && is_kw(p, "or")) {
        if (next(p)) {
            cg_qlang_free(e);
            return NULL;
        }
        cg_qexpr *b = parse_and(p);
        if (!b) {
            cg_qlang_free(e);
            return NULL;
        }
        e = join(p, N_OR, e, b);
    }
    return e;
}

/* "case = N" is answered by the store's index of cases, not by a record:
 * it may stand only as a term of the top-level "and", with "=", once (then
 * the hint is exact and the evaluation takes it as true). */
static int cases_ok(parser *p, const cg_qexpr *e, int top, int *seen)
{
    if (e->type == N_AND)
        return cases_ok(p, e->a, top, seen) && cases_ok(p, e->b, top, seen);
    if (e->type == N_OR || e->type == N_NOT)
        return cases_ok(p, e->a, 0, seen) && (!e->b || cases_ok(p, e->b, 0, seen));
    if (e->fid != F_CASE)
        return 1;
    if (!top) {
        fail(p, e->at, "case can only be joined with 'and' (not under 'or' or 'not')");
        return 0;
    }
    if (e->op != OP_EQ) {
        fail(p, e->at, "case takes '=' only (case = 3)");
        return 0;
    }
    if ((*seen)++) {
        fail(p, e->at, "case named twice (an incident is looked up in one case at a time)");
        return 0;
    }
    return 1;
}

int cg_qlang_parse(const char *text, uint64_t now_us, cg_qexpr **out, char *err, size_t errlen,
                   int *col)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.s = text;
    p.now = now_us;
    p.err = err;
    p.errlen = errlen;
    cg_qexpr *e = NULL;
    if (next(&p) == 0)
        e = parse_or(&p);
    if (e && p.t != T_END) {
        fail(&p, p.tpos, p.t == T_RP ? "unbalanced ')'" : "unexpected '%.*s'", (int)p.tlen,
             text + p.tpos);
        cg_qlang_free(e);
        e = NULL;
    }
    if (e && !cases_ok(&p, e, 1, &(int){ 0 })) {
        cg_qlang_free(e);
        e = NULL;
    }
    if (!e) {
        if (!p.errcol)
            fail(&p, p.tpos, "bad query");
        if (col)
            *col = p.errcol;
        return -1;
    }
    *out = e;
    return 0;
}

/* ---- evaluation ----------------------------------------------------------- */

static int cmp_u64(uint64_t a, int op, uint64_t b)
{
    switch (op) {
    case OP_EQ:
    case OP_IN: return a == b;
    case OP_NE:
    case OP_NIN: return a != b;
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    default: return 0;
    }
}

/* Case-insensitive substring. */
static int contains(const char *h, const char *n)
{
    size_t nl = strlen(n);
    if (nl == 0)
        return 1;
    for (; *h; h++)
        if (!strncasecmp(h, n, nl))
            return 1;
    return 0;
}

/* One value against one scalar of the record (a positive test: = / < / ~ ...;
 * the negated operators are handled by the caller). */
static int test_one(const cg_qexpr *e, const qval *v, int op, uint64_t num, const uint8_t *addr,
                    const char *text)
{
    switch (e->kind) {
    case V_ADDR:
        if (op == OP_EQ || op == OP_IN)
            return memcmp(addr, v->lo, 16) >= 0 && memcmp(addr, v->hi, 16) <= 0;
        if (op == OP_LT)
            return memcmp(addr, v->lo, 16) < 0;
        if (op == OP_LE)
            return memcmp(addr, v->hi, 16) <= 0;
        if (op == OP_GT)
            return memcmp(addr, v->hi, 16) > 0;
        if (op == OP_GE)
            return memcmp(addr, v->lo, 16) >= 0;
        return 0;
    case V_TEXT:
        if (op == OP_HAS)
            return contains(text, v->text);
        return !strcasecmp(text, v->text);
    case V_CC: return !strcasecmp(text, v->text);
    case V_SEV:
        /* gravity order: high (1) is the greatest */
        return cmp_u64(5 - num, op, 5 - v->num);
    case V_LAYER:
        /* the layers reached: = holds for one of them, < <= > >= for one
         * reached below / above (layer >= 2: escalated beyond the on-site
         * force, also to layer 4 alone) */
        for (unsigned l = 1; l <= 4; l++)
            if (((num >> (l - 1)) & 1) &&
                (op == OP_EQ || op == OP_IN ? l == v->num : cmp_u64(l, op, v->num)))
                return 1;
        return 0;
    default: return cmp_u64(num, op, v->num);
    }
}

/* Does side s (0 = the only/source side, 1 = destination) match positively? */
static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
        : c >= 'a' && c <= 'f'  ? c - 'a' + 10
        : c >= 'A' && c <= 'F'  ? c - 'A' + 10
                                : -1;
}

/* s with %XX decoded and '+' made ' ' (a NUL byte stays "%00"), cut to
 * len - 1 bytes; 1 when that changed anything. */
static int url_decoded(const char *s, char *out, size_t len)
{
    size_t o = 0;
    int changed = 0;
    for (size_t i = 0; s[i] && o + 1 < len; i++) {
        int h, l;
        if (s[i] == '%' && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
            (l = hexval((unsigned char)s[i + 2])) >= 0 && (h | l)) {
            out[o++] = (char)(h * 16 + l);
            i += 2;
            changed = 1;
        } else if (s[i] == '+') {
            out[o++] = ' ';
            changed = 1;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return changed;
}

static int test_side(const cg_qexpr *e, const cg_qrec *r, int side, int op)
{
    uint64_t num = 0;
    const uint8_t *addr = NULL;
    const char *text = "";
    switch (e->fid) {
    case F_FIRST: num = r->first_us; break;
    case F_LAST: num = r->last_us; break;
    case F_SRC: addr = r->src; break;
    case F_DST: addr = r->dst; break;
    case F_IP: addr = side ? r->dst : r->src; break;
    case F_SPORT: num = r->sport; break;
    case F_DPORT: num = r->dport; break;
    case F_PORT: num = side ? r->dport : r->sport; break;
    case F_SID: num = r->sid; break;
    case F_GID: num = r->gid; break;
    case F_COUNT: num = r->count; break;
    case F_ID: num = r->id; break;
    case F_SEV: num = r->severity; break;
    case F_STATUS: num = r->status; break;
    case F_PROTO: num = r->proto; break;
    case F_MSG: text = r->msg; break;
    case F_CLASSTYPE: text = r->classtype; break;
    case F_ASSIGNEE: text = r->assignee; break;
    case F_CID: text = r->community_id; break;
    case F_SRC_CC: text = r->src_country; break;
    case F_DST_CC: text = r->dst_country; break;
    case F_CC: text = side ? r->dst_country : r->src_country; break;
    case F_SRC_ASN: num = r->src_asn; break;
    case F_DST_ASN: num = r->dst_asn; break;
    case F_ASN: num = side ? r->dst_asn : r->src_asn; break;
    case F_SRC_AGENCY: text = r->src_agency; break;
    case F_DST_AGENCY: text = r->dst_agency; break;
    case F_AGENCY: text = side ? r->dst_agency : r->src_agency; break;
    case F_SRC_ZONE: text = r->src_zone; break;
    case F_DST_ZONE: text = r->dst_zone; break;
    case F_ZONE: text = side ? r->dst_zone : r->src_zone; break;
    case F_LAYER: num = r->layers; break;
    case F_ATTACK: num = r->attack_id; break;
    case F_CASE: return 1; /* a hint the store holds to (cases_ok) */
    case F_URL: text = r->http_url; break;
    case F_HTTP_HOST: text = r->http_host; break;
    case F_HTTP_UA: text = r->http_user_agent; break;
    case F_HTTP_METHOD: text = r->http_method; break;
    case F_HTTP_STATUS: num = r->http_status; break;
    case F_DNS_QUERY: text = r->dns_query; break;
    case F_TLS_SNI: text = r->tls_sni; break;
    case F_TLS_JA3: text = r->tls_ja3; break;
    case F_APP_PROTO: text = r->app_proto; break;
    }
    if (!text)
        text = "";
    for (uint32_t i = 0; i < e->nv; i++)
        if (test_one(e, &e->v[i], op, num, addr, text))
            return 1;
    if (e->fid == F_URL && op == OP_HAS) {
        /* the URL is kept as sent: `url ~ "union select"` also looks in it
         * decoded (%XX, and '+' as a space) */
        char dec[2048];
        if (url_decoded(text, dec, sizeof dec))
            for (uint32_t i = 0; i < e->nv; i++)
                if (test_one(e, &e->v[i], op, num, addr, dec))
                    return 1;
    }
    return 0;
}

static int two_sided(int fid)
{
    return fid == F_IP || fid == F_PORT || fid == F_CC || fid == F_ASN || fid == F_AGENCY ||
        fid == F_ZONE;
}

static int eval_cmp(const cg_qexpr *e, const cg_qrec *r)
{
    int neg = e->op == OP_NE || e->op == OP_NIN || e->op == OP_NHAS;
    int op = e->op == OP_NE ? OP_EQ : e->op == OP_NIN ? OP_IN : e->op == OP_NHAS ? OP_HAS : e->op;
    int hit = test_side(e, r, 0, op) || (two_sided(e->fid) && test_side(e, r, 1, op));
    return neg ? !hit : hit;
}

int cg_qlang_eval(const cg_qexpr *e, const cg_qrec *r)
{
    switch (e->type) {
    case N_AND: return cg_qlang_eval(e->a, r) && cg_qlang_eval(e->b, r);
    case N_OR: return cg_qlang_eval(e->a, r) || cg_qlang_eval(e->b, r);
    case N_NOT: return !cg_qlang_eval(e->a, r);
    default: return eval_cmp(e, r);
    }
}

/* ---- index hints ---------------------------------------------------------- */

static void range_and(uint8_t lo[16], uint8_t hi[16], const uint8_t l2[16], const uint8_t h2[16])
{
    if (memcmp(l2, lo, 16) > 0)
        memcpy(lo, l2, 16);
    if (memcmp(h2, hi, 16) < 0)
        memcpy(hi, h2, 16);
}

/* Whether term e becomes a hint whole (see cg_qhints.exact); seen: the
 * CG_QH_* bits of the fields met before, which must not come twice. */
static int hint_whole(const cg_qexpr *e, unsigned seen)
{
    const qval *v = &e->v[0];
    int eq = e->op == OP_EQ || ((e->op == OP_IN) && e->nv == 1);
    unsigned bit = 0;
    switch (e->fid) {
    case F_FIRST:
        return e->op == OP_GE || e->op == OP_GT || e->op == OP_LE || e->op == OP_EQ ||
            (e->op == OP_LT && v->num > 0);
    case F_SRC:
    case F_DST: return eq;
    case F_SID: bit = CG_QH_SID; break;
    case F_DPORT: bit = CG_QH_DPORT; break;
    case F_STATUS: bit = CG_QH_STATUS; break;
    case F_SRC_CC: bit = CG_QH_SRC_CC; break;
    case F_DST_CC: bit = CG_QH_DST_CC; break;
    case F_SRC_ASN: bit = CG_QH_SRC_ASN; break;
    case F_DST_ASN: bit = CG_QH_DST_ASN; break;
    case F_ATTACK: bit = CG_QH_ATTACK; break;
    case F_CASE: bit = CG_QH_CASE; break;
    case F_SEV:
        /* sev >= x is severity <= x; sev > x is severity <= x - 1 */
        return !(seen & CG_QH_SEV) && (e->op == OP_GE || (e->op == OP_GT && v->num > 1));
    default: return 0;
    }
    return eq && !(seen & bit);
}

static void hint_cmp(const cg_qexpr *e, cg_qhints *h)
{
    const qval *v = &e->v[0];
    int eq = e->op == OP_EQ || ((e->op == OP_IN) && e->nv == 1);
    if (!hint_whole(e, h->has))
        h->exact = 0;
    switch (e->fid) {
    case F_FIRST:
        if (e->op == OP_GE || e->op == OP_GT) {
            uint64_t lo = v->num + (e->op == OP_GT);
            if (!(h->has & CG_QH_TIME)) {
                h->time_lo = 0;
                h->time_hi = UINT64_MAX;
            }
            if (lo > h->time_lo)
                h->time_lo = lo;
            h->has |= CG_QH_TIME;
        } else if (e->op == OP_LT || e->op == OP_LE) {
            if (e->op == OP_LT && v->num == 0)
                return; /* nothing can match; the evaluation says so */
            uint64_t hi = v->num - (e->op == OP_LT);
            if (!(h->has & CG_QH_TIME)) {
                h->time_lo = 0;
                h->time_hi = UINT64_MAX;
            }
            if (hi < h->time_hi)
                h->time_hi = hi;
            h->has |= CG_QH_TIME;
        } else if (e->op == OP_EQ) {
            if (!(h->has & CG_QH_TIME)) {
                h->time_lo = 0;
                h->time_hi = UINT64_MAX;
            }
            if (v->num > h->time_lo)
                h->time_lo = v->num;
            if (v->num < h->time_hi)
                h->time_hi = v->num;
            h->has |= CG_QH_TIME;
        }
        break;
    case F_SRC:
    case F_DST: {
        if (!eq)
            return;
        unsigned bit = e->fid == F_SRC ? CG_QH_SRC : CG_QH_DST;
        uint8_t *lo = e->fid == F_SRC ? h->src_lo : h->dst_lo;
        uint8_t *hi = e->fid == F_SRC ? h->src_hi : h->dst_hi;
        if (h->has & bit) {
            range_and(lo, hi, v->lo, v->hi);
        } else {
            memcpy(lo, v->lo, 16);
            memcpy(hi, v->hi, 16);
            h->has |= bit;
        }
        break;
    }
    case F_SID:
        if (eq) {
            h->sid = (uint32_t)v->num;
            h->has |= CG_QH_SID;
        }
        break;
    case F_DPORT:
        if (eq) {
            h->dport = (uint16_t)v->num;
            h->has |= CG_QH_DPORT;
        }
        break;
    case F_STATUS:
        if (eq) {
            h->status = (uint8_t)v->num;
            h->has |= CG_QH_STATUS;
        }
        break;
    case F_SEV: {
        /* severity numbers at most m: = x gives x (also >= x), >= x gives x, > x gives x-1 */
        uint8_t m = 0;
        if (e->op == OP_EQ || e->op == OP_GE)
            m = (uint8_t)v->num;
        else if (e->op == OP_GT && v->num > 1)
            m = (uint8_t)(v->num - 1);
        if (m && (!(h->has & CG_QH_SEV) || m < h->sev_max)) {
            h->sev_max = m;
            h->has |= CG_QH_SEV;
        }
        break;
    }
    case F_SRC_CC:
        if (eq) {
            memcpy(h->src_cc, v->text, 3);
            h->has |= CG_QH_SRC_CC;
        }
        break;
    case F_DST_CC:
        if (eq) {
            memcpy(h->dst_cc, v->text, 3);
            h->has |= CG_QH_DST_CC;
        }
        break;
    case F_SRC_ASN:
        if (eq) {
            h->src_asn = (uint32_t)v->num;
            h->has |= CG_QH_SRC_ASN;
        }
        break;
    case F_DST_ASN:
        if (eq) {
            h->dst_asn = (uint32_t)v->num;
            h->has |= CG_QH_DST_ASN;
        }
        break;
    case F_ATTACK:
        if (eq) {
            h->attack = v->num;
            h->has |= CG_QH_ATTACK;
        }
        break;
    case F_CASE:
        if (eq) {
            h->case_id = v->num;
            h->has |= CG_QH_CASE;
        }
        break;
    case F_CID:
        if (e->op == OP_EQ && strlen(v->text) < sizeof h->cid) {
            strcpy(h->cid, v->text);
            h->has |= CG_QH_CID;
        }
        break;
    default: break;
    }
}

static void hints_walk(const cg_qexpr *e, cg_qhints *h)
{
    if (e->type == N_AND) {
        hints_walk(e->a, h);
        hints_walk(e->b, h);
    } else if (e->type == N_CMP) {
        hint_cmp(e, h);
    } else {
        h->exact = 0; /* or, not: nothing from under them */
    }
}

void cg_qlang_hints(const cg_qexpr *e, cg_qhints *out)
{
    memset(out, 0, sizeof *out);
    if (e) {
        out->exact = 1;
        hints_walk(e, out);
    }
}
