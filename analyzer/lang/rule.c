/* rule.c — one Suricata-syntax rule's text to a cg_rule (rule_parse.h).
 *
 * Follows Suricata 7's rule language (user guide, "Rules format"): header
 * `action proto src sport dir dst dport`, then `(name[:value]; ...)`. What this
 * engine accepts is written down in rules/README.md; everything else makes the
 * rule skipped with the keyword named (rule.h invariant 1).
 *
 * How it reads a rule:
 *  1. The header, token by token (address and port tokens may hold spaces
 *     inside brackets, and "! x"); addresses and ports go to addr.c.
 *  2. The options: a value runs to the first ';' not escaped by '\'; quotes do
 *     not protect ';' (as in Suricata). Each option name is looked up in the
 *     keyword table of rule_kw.c; a name that is not there is an unsupported
 *     keyword.
 *  3. After the last option: sid present, the groups checked and the fast
 *     pattern chosen (cg_rule_kw_finish), severity derived, PCRE2 JIT compiled.
 *
 * Invariants: the first syntax error stops the reading and wins over an
 * unsupported keyword; the first unsupported keyword does not stop it (so a
 * skipped rule is still checked). Everything allocated hangs off the cg_rule,
 * so cg_rule_free releases a half-built rule as well as a finished one.
 */
#include "analyzer/lang/rule_kw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "analyzer/lang/addr.h"

/* ---- small readers -------------------------------------------------------- */

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* ---- dispatch ------------------------------------------------------------- */

/* One option to its handler (rule_kw.c), after checking its argument kind. */
static int dispatch(cg_rule_ps *ps, const cg_rule_opt *o)
{
    const cg_rule_kw *k = cg_rule_kw_find(o->name, o->nlen);
    if (!k) {
        /* A keyword this engine does not evaluate (perhaps a sticky buffer):
         * what follows it goes to a buffer nobody inspects. */
        ps->grp = -1;
        ps->grp_open = 0;
        ps->unknown_buf = 1;
        return cg_rule_unsupported(ps, o->npos, o->name, o->nlen, "keyword");
    }
    ps->cur_pos = o->npos;
    if (k->arg == CG_ARG_REQ && (!o->val || o->vlen == 0))
        return cg_rule_fail(ps, o->npos, "'%s' needs a value", k->name);
    if (k->arg == CG_ARG_NONE && o->val)
        return cg_rule_fail(ps, o->npos, "'%s' takes no value", k->name);
    return k->fn(ps, o);
}

/* ---- header --------------------------------------------------------------- */

/* One header token from *pos: up to white space outside brackets; "! x" is
 * one token. Stops at '(' outside brackets. */
static int token(cg_rule_ps *ps, size_t *pos, size_t *start, size_t *n)
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
            if (j != *start || i == *start) /* not only "!"s so far */
                break;
        }
    }
    *n = i - *start;
    *pos = i;
    if (*n == 0)
        return cg_rule_fail(ps, i, "incomplete rule header");
    return 0;
}

static int header(cg_rule_ps *ps, size_t *pos)
{
    static const struct {
        const char *name;
        uint8_t act;
    } actions[] = {
        { "alert", CG_ACT_ALERT },       { "pass", CG_ACT_PASS },
        { "drop", CG_ACT_DROP },         { "reject", CG_ACT_REJECT },
        { "rejectsrc", CG_ACT_REJECT },  { "rejectdst", CG_ACT_REJECT },
        { "rejectboth", CG_ACT_REJECT },
    };
    /* mode: 1 packets only (tcp-pkt), 2 stream only (tcp-stream) */
    static const struct {
        const char *name;
        uint8_t proto, ip_proto, app, mode;
    } protos[] = {
        { "ip", CG_RP_IP, 0, 0, 0 },
        { "tcp", CG_RP_TCP, 6, 0, 0 },
        { "udp", CG_RP_UDP, 17, 0, 0 },
        { "icmp", CG_RP_ICMP, 1, 0, 0 },
        { "http", CG_RP_HTTP, 6, CG_APP_HTTP, 0 },
        { "http1", CG_RP_HTTP, 6, CG_APP_HTTP, 0 },
        { "dns", CG_RP_DNS, 0, CG_APP_DNS, 0 },
        { "tls", CG_RP_TLS, 6, CG_APP_TLS, 0 },
        /* payload rules of flows whose first bytes say the protocol (inspect.c) */
        { "smtp", CG_RP_TCP, 6, CG_APP_SMTP, 0 },
        { "ftp", CG_RP_TCP, 6, CG_APP_FTP, 0 },
        { "ssh", CG_RP_TCP, 6, CG_APP_SSH, 0 },
        { "smb", CG_RP_TCP, 6, CG_APP_SMB, 0 },
        { "tcp-pkt", CG_RP_TCP, 6, 0, 1 },
        { "tcp-stream", CG_RP_TCP, 6, 0, 2 },
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
        return cg_rule_fail(ps, s, "unknown action '%.*s'", (int)(n > 30 ? 30 : n), ps->t + s);
    r->action = actions[i].act;

    if (token(ps, pos, &s, &n))
        return -1;
    for (i = 0; i < n; i++) {
        char c = ps->t[s + i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return cg_rule_fail(ps, s + i, "bad protocol '%.*s'", (int)(n > 30 ? 30 : n),
                                ps->t + s);
    }
    for (i = 0; i < sizeof protos / sizeof protos[0]; i++)
        if (strlen(protos[i].name) == n && strncasecmp(ps->t + s, protos[i].name, n) == 0)
            break;
    if (i == sizeof protos / sizeof protos[0]) {
        cg_rule_unsupported(ps, s, ps->t + s, n, "protocol");
    } else {
        r->proto = protos[i].proto;
        r->ip_proto = protos[i].ip_proto;
        r->app_proto = protos[i].app;
        ps->pkt_only = protos[i].mode == 1;
        ps->stream_only = protos[i].mode == 2;
        ps->mode_pos = s;
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
                return cg_rule_fail(ps, s, "bad direction '%.*s' (expected -> or <>)",
                                    (int)(n > 30 ? 30 : n), t);
            continue;
        }
        if (k == 0 || k == 3)
            rc = cg_addrset_parse(t, n, ps->env->vars, k == 0 ? &r->src : &r->dst, &ee);
        else
            rc = cg_portset_parse(t, n, ps->env->vars, k == 1 ? &r->sport : &r->dport, &ee);
        if (rc == CG_ENOMEM)
            return CG_ENOMEM;
        if (rc)
            return cg_rule_fail(ps, s + ee.pos, "%s", ee.why);
    }
    return 0;
}

/* ---- options -------------------------------------------------------------- */

static int is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '.' || c == '-';
}

static int options(cg_rule_ps *ps, size_t i, size_t end)
{
    const char *t = ps->t;
    for (;;) {
        cg_rule_opt o = { 0 };
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
            return cg_rule_fail(ps, i, "expected an option name");
        for (size_t k = 0; k < o.nlen; k++)
            if (!is_name_char((unsigned char)o.name[k]))
                return cg_rule_fail(ps, o.npos + k, "bad option name '%.*s'",
                                    (int)(o.nlen > 40 ? 40 : o.nlen), o.name);
        while (i < end && is_space((unsigned char)t[i]))
            i++;
        if (i >= end)
            return cg_rule_fail(ps, o.npos, "missing ';' after option '%.*s'", CG_ONAME(&o));
        if (t[i] == ':') {
            size_t vs = ++i;
            while (i < end && t[i] != ';')
                i += (t[i] == '\\' && i + 1 < end) ? 2 : 1;
            if (i >= end)
                return cg_rule_fail(ps, o.npos, "missing ';' after option '%.*s'", CG_ONAME(&o));
            o.val = t + vs;
            o.vlen = i - vs;
            o.vpos = vs;
            cg_rule_trim(&o.val, &o.vlen, &o.vpos);
        } else if (t[i] != ';') {
            return cg_rule_fail(ps, i, "expected ':' or ';' after '%.*s'", CG_ONAME(&o));
        }
        i++; /* past ';' */
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

void cg_rule_free(cg_rule *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nmatch; i++) {
        cg_match *m = &r->matches[i];
        if (m->type == CG_M_CONTENT) {
            free(m->u.c.bytes);
        } else if (m->type == CG_M_PCRE) {
            pcre2_code_free(m->u.p.code);
            free(m->u.p.source);
        }
    }
    free(r->matches);
    free(r->groups);
    for (uint32_t i = 0; i < r->nflowbits; i++) {
        for (uint32_t k = 0; k < r->flowbits[i].n; k++)
            free(r->flowbits[i].names[k]);
        free(r->flowbits[i].names);
        free(r->flowbits[i].ids);
    }
    free(r->flowbits);
    for (uint32_t i = 0; i < r->nxbits; i++)
        free(r->xbits[i].name);
    free(r->xbits);
    for (uint32_t i = 0; i < r->nflowints; i++) {
        free(r->flowints[i].name);
        free(r->flowints[i].var_name);
    }
    free(r->flowints);
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

int cg_rule_parse(const char *text, size_t len, const cg_rule_env *env, cg_rule *r, cg_rule_diag *d)
{
    cg_rule_ps ps;
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
    ps.grp = -1;
    r->gid = 1;
    r->fp = -1;

    if ((rc = header(&ps, &pos)) != 0)
        goto done;
    while (pos < len && is_space((unsigned char)text[pos]))
        pos++;
    if (pos >= len || text[pos] != '(') {
        rc = cg_rule_fail(&ps, pos, "missing '(' before the options");
        goto done;
    }
    close = len;
    while (close > pos && is_space((unsigned char)text[close - 1]))
        close--;
    if (close <= pos + 1 || text[close - 1] != ')') {
        rc = cg_rule_fail(&ps, close, "missing ')' at the end of the rule");
        goto done;
    }
    if ((rc = options(&ps, pos + 1, close - 1)) != 0)
        goto done;
    if (r->sid == 0) { /* a sid option sets it to 1 or more */
        rc = cg_rule_fail(&ps, pos, "missing sid");
        goto done;
    }
    rc = cg_rule_kw_finish(&ps);
done:
    free(ps.item_pos);
    if (rc == CG_ENOMEM || ps.failed) {
        if (rc != CG_ENOMEM && d->sid == 0)
            d->sid = scan_sid(text, len);
        cg_rule_free(r);
        return rc == CG_ENOMEM ? CG_ENOMEM : CG_EFAIL;
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
        return CG_ENOMEM;
    }
    unsigned prio = r->priority ? r->priority : ps.class_prio ? ps.class_prio : 3;
    r->severity = (uint8_t)(prio > 4 ? 4 : prio);
    for (uint32_t i = 0; i < r->nmatch; i++)
        if (r->matches[i].type == CG_M_PCRE) /* failure leaves the interpreter: fine */
            (void)pcre2_jit_compile(r->matches[i].u.p.code, PCRE2_JIT_COMPLETE);
    return 0;
}

const char *cg_severity_name(unsigned sev)
{
    static const char *const names[] = { "high", "medium", "low", "info" };
    return sev >= 1 && sev <= 4 ? names[sev - 1] : "unknown";
}
