/* rule_kw_buf.c — which buffer a rule's items go to: sticky buffers, the
 * legacy content modifiers, pcre buffer letters (with rule_kw.c), transforms,
 * bsize and urilen; and the groups' checks after the last option.
 *
 * Follows Suricata 7 (user guide: "HTTP Keywords", "DNS Keywords", "TLS
 * Keywords", "Transformations", "Multiple Buffer Matching"). The names and the
 * buffers they select are the tables below; the buffers are sensor/buffers.h.
 *
 * Groups (rule.h invariant 6). A sticky buffer keyword opens a new group at
 * the end of r->groups; transforms may follow while it has no item (a
 * transform after items opens a new group of the same buffer, as Suricata
 * makes a new list of the buffer and its transforms). When the
 * first item goes in, an open group of a single-instance buffer whose buffer
 * and transforms equal an earlier group's is dropped and the earlier group
 * continues (Suricata keeps one list per buffer and transform chain); a
 * multi-instance buffer (dns.query, tls.certs) always keeps its new group, so
 * each block matches on its own instance. Items that name a buffer without
 * making it sticky (http_uri and the other legacy modifiers, pcre letters,
 * urilen) go to the buffer's group without transforms. The payload group is
 * made when the first item needs it. Empty groups are dropped at the end,
 * except that an empty sticky buffer is an error (it would make the rule need
 * a buffer and test nothing in it). The groups' own code (making, closing,
 * finding the current one) is in rule_kw_util.c, which every handler uses.
 */
#include "analyzer/lang/rule_kw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---------------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t buf;
} sticky[] = {
    { "dns.query", CG_BUF_DNS_QUERY },
    { "dns_query", CG_BUF_DNS_QUERY },
    { "file.data", CG_BUF_FILE_DATA },
    { "file_data", CG_BUF_FILE_DATA },
    { "http.accept", CG_BUF_HTTP_ACCEPT },
    { "http_accept", CG_BUF_HTTP_ACCEPT },
    { "http.accept_enc", CG_BUF_HTTP_ACCEPT_ENC },
    { "http_accept_enc", CG_BUF_HTTP_ACCEPT_ENC },
    { "http.accept_lang", CG_BUF_HTTP_ACCEPT_LANG },
    { "http_accept_lang", CG_BUF_HTTP_ACCEPT_LANG },
    { "http.connection", CG_BUF_HTTP_CONNECTION },
    { "http_connection", CG_BUF_HTTP_CONNECTION },
    { "http.content_len", CG_BUF_HTTP_CONTENT_LEN },
    { "http_content_len", CG_BUF_HTTP_CONTENT_LEN },
    { "http.content_type", CG_BUF_HTTP_CONTENT_TYPE },
    { "http_content_type", CG_BUF_HTTP_CONTENT_TYPE },
    { "http.cookie", CG_BUF_HTTP_COOKIE },
    { "http.header", CG_BUF_HTTP_HEADER },
    { "http.header.raw", CG_BUF_HTTP_HEADER_RAW },
    { "http.header_names", CG_BUF_HTTP_HEADER_NAMES },
    { "http_header_names", CG_BUF_HTTP_HEADER_NAMES },
    { "http.host", CG_BUF_HTTP_HOST },
    { "http.host.raw", CG_BUF_HTTP_HOST_RAW },
    { "http.location", CG_BUF_HTTP_LOCATION },
    { "http.method", CG_BUF_HTTP_METHOD },
    { "http.protocol", CG_BUF_HTTP_PROTOCOL },
    { "http_protocol", CG_BUF_HTTP_PROTOCOL },
    { "http.referer", CG_BUF_HTTP_REFERER },
    { "http_referer", CG_BUF_HTTP_REFERER },
    { "http.request_body", CG_BUF_HTTP_REQUEST_BODY },
    { "http.request_line", CG_BUF_HTTP_REQUEST_LINE },
    { "http_request_line", CG_BUF_HTTP_REQUEST_LINE },
    { "http.response_body", CG_BUF_HTTP_RESPONSE_BODY },
    { "http.response_line", CG_BUF_HTTP_RESPONSE_LINE },
    { "http_response_line", CG_BUF_HTTP_RESPONSE_LINE },
    { "http.server", CG_BUF_HTTP_SERVER },
    { "http.start", CG_BUF_HTTP_START },
    { "http_start", CG_BUF_HTTP_START },
    { "http.stat_code", CG_BUF_HTTP_STAT_CODE },
    { "http.stat_msg", CG_BUF_HTTP_STAT_MSG },
    { "http.uri", CG_BUF_HTTP_URI },
    { "http.uri.raw", CG_BUF_HTTP_URI_RAW },
    { "http.user_agent", CG_BUF_HTTP_USER_AGENT },
    { "ja3.hash", CG_BUF_JA3_HASH },
    { "ja3_hash", CG_BUF_JA3_HASH },
    { "ja3.string", CG_BUF_JA3_STRING },
    { "ja3_string", CG_BUF_JA3_STRING },
    { "ja3s.hash", CG_BUF_JA3S_HASH },
    { "ja3s_hash", CG_BUF_JA3S_HASH },
    { "ja3s.string", CG_BUF_JA3S_STRING },
    { "ja3s_string", CG_BUF_JA3S_STRING },
    { "tls.cert_issuer", CG_BUF_TLS_CERT_ISSUER },
    { "tls_cert_issuer", CG_BUF_TLS_CERT_ISSUER },
    { "tls.cert_serial", CG_BUF_TLS_CERT_SERIAL },
    { "tls_cert_serial", CG_BUF_TLS_CERT_SERIAL },
    { "tls.cert_subject", CG_BUF_TLS_CERT_SUBJECT },
    { "tls_cert_subject", CG_BUF_TLS_CERT_SUBJECT },
    { "tls.certs", CG_BUF_TLS_CERTS },
    { "tls.sni", CG_BUF_TLS_SNI },
    { "tls_sni", CG_BUF_TLS_SNI },
};

/* content modifiers: the preceding (payload) content moves to the buffer */
static const struct {
    const char *name;
    uint8_t buf;
} legacy[] = {
    { "http_client_body", CG_BUF_HTTP_REQUEST_BODY },
    { "http_cookie", CG_BUF_HTTP_COOKIE },
    { "http_header", CG_BUF_HTTP_HEADER },
    { "http_host", CG_BUF_HTTP_HOST },
    { "http_method", CG_BUF_HTTP_METHOD },
    { "http_raw_header", CG_BUF_HTTP_HEADER_RAW },
    { "http_raw_host", CG_BUF_HTTP_HOST_RAW },
    { "http_raw_uri", CG_BUF_HTTP_URI_RAW },
    { "http_server_body", CG_BUF_HTTP_RESPONSE_BODY },
    { "http_stat_code", CG_BUF_HTTP_STAT_CODE },
    { "http_stat_msg", CG_BUF_HTTP_STAT_MSG },
    { "http_uri", CG_BUF_HTTP_URI },
    { "http_user_agent", CG_BUF_HTTP_USER_AGENT },
};

/* pcre letters (Suricata's "pcre" section; Z is http_raw_host) */
int cg_kw_pcre_letter_buf(char c)
{
    switch (c) {
    case 'U': return CG_BUF_HTTP_URI;
    case 'I': return CG_BUF_HTTP_URI_RAW;
    case 'P': return CG_BUF_HTTP_REQUEST_BODY;
    case 'Q': return CG_BUF_HTTP_RESPONSE_BODY;
    case 'H': return CG_BUF_HTTP_HEADER;
    case 'D': return CG_BUF_HTTP_HEADER_RAW;
    case 'M': return CG_BUF_HTTP_METHOD;
    case 'C': return CG_BUF_HTTP_COOKIE;
    case 'S': return CG_BUF_HTTP_STAT_CODE;
    case 'Y': return CG_BUF_HTTP_STAT_MSG;
    case 'V': return CG_BUF_HTTP_USER_AGENT;
    case 'W': return CG_BUF_HTTP_HOST;
    case 'Z': return CG_BUF_HTTP_HOST_RAW;
    default: return -1;
    }
}

static const struct {
    const char *name;
    uint8_t tf;
} transforms[] = {
    { "compress_whitespace", CG_TF_COMPRESS_WHITESPACE },
    { "dotprefix", CG_TF_DOTPREFIX },
    { "strip_whitespace", CG_TF_STRIP_WHITESPACE },
    { "to_lowercase", CG_TF_TO_LOWERCASE },
    { "to_uppercase", CG_TF_TO_UPPERCASE },
    { "url_decode", CG_TF_URL_DECODE },
};

/* ---- keywords ------------------------------------------------------------- */

int cg_kw_sticky(cg_rule_ps *ps, const cg_rule_opt *o)
{
    for (size_t i = 0; i < sizeof sticky / sizeof sticky[0]; i++) {
        if (!cg_kw_is_word(o->name, o->nlen, sticky[i].name))
            continue;
        cg_kw_close_open(ps);
        ps->unknown_buf = 0;
        int g = cg_kw_add_group(ps, sticky[i].buf, 1, o->npos);
        if (g < 0)
            return g;
        ps->grp = g;
        ps->grp_open = 1;
        return 0;
    }
    return cg_rule_fail(ps, o->npos, "'%.*s' is not a buffer", CG_ONAME(o)); /* table mismatch */
}

/* base64_decode[:bytes N][,offset N][,relative]: an item of the current
 * group that decodes base64 there; base64_data opens the group matched on
 * what it decoded. One pair per rule. */
int cg_kw_base64_decode(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_b64 b = { 0, 0, 0 };
    if (ps->b64) /* a second decode, or one in decoded bytes */
        return cg_rule_unsupported(ps, o->npos, "base64_decode (a second)", 24, "keyword");
    cg_kw_fields f;
    f.count = 0;
    if (o->val && cg_kw_split(ps, o, &f))
        return -1;
    for (size_t k = 0; k < f.count; k++) {
        const char *w = f.s[k];
        size_t wl = f.n[k], wp = f.pos[k];
        int bytes = wl > 6 && strncmp(w, "bytes", 5) == 0 && (w[5] == ' ' || w[5] == '\t');
        int offset = wl > 7 && strncmp(w, "offset", 6) == 0 && (w[6] == ' ' || w[6] == '\t');
        if (bytes || offset) {
            const char *n = w + (bytes ? 6 : 7);
            char *end;
            errno = 0;
            unsigned long x = strtoul(n, &end, 10);
            while (end < w + wl && (*end == ' ' || *end == '\t'))
                end++;
            if (end != w + wl || errno || *n == '-' || x > 65535 || (bytes && x == 0))
                return cg_rule_fail(ps, wp, "base64_decode: %s must be %s to 65535",
                                    bytes ? "bytes" : "offset", bytes ? "1" : "0");
            if (bytes)
                b.bytes = (uint32_t)x;
            else
                b.offset = (uint32_t)x;
        } else if (cg_kw_is_word(w, wl, "relative")) {
            b.relative = 1;
        } else {
            return cg_rule_fail(ps, wp, "unknown base64_decode option '%.*s'",
                                (int)(wl > 30 ? 30 : wl), w);
        }
    }
    int g = cg_kw_current_group(ps, o);
    if (g < 0)
        return g;
    /* after a content a legacy modifier moved (content:"a="; http_uri;), it
     * decodes that content's buffer, as Suricata does */
    cg_rule *r = ps->r;
    if (ps->last_content >= 0 && r->groups[g].buf == CG_BUF_PAYLOAD &&
        r->matches[ps->last_content].grp != g)
        g = r->matches[ps->last_content].grp;
    cg_match *m = cg_kw_new_item_in(ps, g);
    if (!m)
        return CG_ENOMEM;
    m->type = CG_M_BASE64;
    m->u.b64 = b;
    r->nmatch++;
    ps->b64 = 1;
    ps->b64_pos = o->npos;
    return 0;
}

/* The byte_extract variables an item reads, as a bit set. */
static unsigned vars_read(const cg_match *m)
{
    unsigned v = 0;
    if (m->type == CG_M_CONTENT) {
        const cg_content *c = &m->u.c;
        if (c->flags & CG_C_OFFSET_VAR)
            v |= 1u << (c->offset & (CG_BYTE_VARS - 1));
        if (c->flags & CG_C_DEPTH_VAR)
            v |= 1u << (c->depth & (CG_BYTE_VARS - 1));
        if (c->flags & CG_C_DISTANCE_VAR)
            v |= 1u << (c->distance & (CG_BYTE_VARS - 1));
        if (c->flags & CG_C_WITHIN_VAR)
            v |= 1u << (c->within & (CG_BYTE_VARS - 1));
    } else if (m->type == CG_M_ISDATAAT) {
        if (m->u.d.flags & CG_D_VAR)
            v |= 1u << (m->u.d.pos & (CG_BYTE_VARS - 1));
    } else if (m->type == CG_M_BYTE_TEST || m->type == CG_M_BYTE_JUMP ||
               m->type == CG_M_BYTE_EXTRACT) {
        const cg_byteop *b = &m->u.b;
        if (b->flags & CG_B_NBYTES_VAR)
            v |= 1u << (b->nbytes & (CG_BYTE_VARS - 1));
        if (b->flags & CG_B_OFFSET_VAR)
            v |= 1u << (b->offset & (CG_BYTE_VARS - 1));
        if (b->flags & CG_B_VALUE_VAR)
            v |= 1u << (b->value & (CG_BYTE_VARS - 1));
    }
    return v;
}

/* base64_data's items run inside base64_decode: they may read only the
 * variables extracted before it, or earlier in base64_data itself. */
static int check_b64_vars(cg_rule_ps *ps)
{
    const cg_rule *r = ps->r;
    uint32_t dec = 0;
    while (dec < r->nmatch && r->matches[dec].type != CG_M_BASE64)
        dec++;
    unsigned set = 0;
    for (uint32_t i = 0; i < dec; i++)
        if (r->matches[i].type == CG_M_BYTE_EXTRACT)
            set |= 1u << r->matches[i].u.b.var;
    for (uint32_t i = 0; i < r->nmatch; i++) {
        const cg_match *m = &r->matches[i];
        if (m->buf != CG_BUF_BASE64)
            continue;
        if (vars_read(m) & ~set)
            return cg_rule_fail(ps, ps->item_pos[i],
                                "base64_data reads a variable that is "
                                "extracted only after base64_decode, outside base64_data");
        if (m->type == CG_M_BYTE_EXTRACT)
            set |= 1u << m->u.b.var;
    }
    return 0;
}

int cg_kw_base64_data(cg_rule_ps *ps, const cg_rule_opt *o)
{
    if (ps->b64 != 1)
        return ps->b64 ? cg_rule_unsupported(ps, o->npos, "base64_data (a second)", 22, "keyword")
                       : cg_rule_fail(ps, o->npos,
                                      "base64_data needs a base64_decode before "
                                      "it");
    cg_kw_close_open(ps);
    ps->unknown_buf = 0;
    int g = cg_kw_add_group(ps, CG_BUF_BASE64, 1, o->npos);
    if (g < 0)
        return g;
    ps->grp = g;
    ps->grp_open = 1;
    ps->b64 = 2;
    return 0;
}

int cg_kw_pkt_data(cg_rule_ps *ps, const cg_rule_opt *o)
{
    (void)o;
    cg_kw_close_open(ps);
    ps->unknown_buf = 0;
    ps->grp = -1;
    return 0;
}

int cg_kw_legacy_mod(cg_rule_ps *ps, const cg_rule_opt *o)
{
    size_t i = 0;
    while (i < sizeof legacy / sizeof legacy[0] && !cg_kw_is_word(o->name, o->nlen, legacy[i].name))
        i++;
    if (i == sizeof legacy / sizeof legacy[0])
        return cg_rule_fail(ps, o->npos, "'%.*s' is not a buffer", CG_ONAME(o));
    if (!cg_kw_target_content(ps, o))
        return -1;
    cg_match *m = &ps->r->matches[ps->last_content];
    uint8_t from = ps->r->groups[m->grp].buf;
    if (from == CG_BUF_OTHER)
        return 0; /* after an unknown keyword: the rule is skipped anyway */
    if (from != CG_BUF_PAYLOAD)
        return cg_rule_fail(ps, o->npos,
                            "'%.*s' needs a content of the payload; this one is in "
                            "a sticky buffer or already moved",
                            CG_ONAME(o));
    int g = cg_kw_plain_group(ps, o, legacy[i].buf);
    if (g < 0)
        return g;
    m = &ps->r->matches[ps->last_content];
    /* its byte_extract variables must still come from this buffer or an
     * earlier one (rule.h invariant 8) */
    const cg_content *c = &m->u.c;
    const int32_t vars[4] = {
        (c->flags & CG_C_OFFSET_VAR) ? c->offset : -1,
        (c->flags & CG_C_DEPTH_VAR) ? c->depth : -1,
        (c->flags & CG_C_DISTANCE_VAR) ? c->distance : -1,
        (c->flags & CG_C_WITHIN_VAR) ? c->within : -1,
    };
    for (int k = 0; k < 4; k++)
        if (vars[k] >= 0 && ps->var_grp[vars[k]] > g)
            return cg_rule_fail(ps, o->npos,
                                "'%.*s' moves a content whose byte_extract variable "
                                "'%s' comes from a buffer matched after it",
                                CG_ONAME(o), ps->var_name[vars[k]]);
    m->grp = (uint8_t)g;
    m->buf = legacy[i].buf;
    return 0;
}

int cg_kw_uricontent(cg_rule_ps *ps, const cg_rule_opt *o)
{
    int g = cg_kw_plain_group(ps, o, CG_BUF_HTTP_URI);
    return g < 0 ? g : cg_kw_content_in(ps, o, g);
}

int cg_kw_transform(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_rule *r = ps->r;
    size_t i = 0;
    while (i < sizeof transforms / sizeof transforms[0] &&
           !cg_kw_is_word(o->name, o->nlen, transforms[i].name))
        i++;
    if (i == sizeof transforms / sizeof transforms[0])
        return cg_rule_fail(ps, o->npos, "'%.*s' is not a transform", CG_ONAME(o));
    if (ps->unknown_buf)
        return 0;
    if (!ps->grp_open) {
        /* After items of a sticky buffer: a new block of that buffer with this
         * transform (Suricata makes a new list for the buffer and transforms). */
        if (ps->grp < 0 || !ps->grp_sticky[ps->grp])
            return cg_rule_fail(ps, o->npos, "'%.*s' needs a sticky buffer before it", CG_ONAME(o));
        int ng = cg_kw_add_group(ps, r->groups[ps->grp].buf, 1, o->npos);
        if (ng < 0)
            return ng;
        ps->grp = ng;
        ps->grp_open = 1;
    }
    cg_bufgroup *g = &r->groups[ps->grp];
    if (g->ntf == CG_MAX_TRANSFORMS)
        return cg_rule_fail(ps, o->npos, "more than %d transforms on one buffer",
                            CG_MAX_TRANSFORMS);
    g->tf[g->ntf++] = transforms[i].tf;
    return 0;
}

int cg_kw_bsize(cg_rule_ps *ps, const cg_rule_opt *o)
{
    cg_uint u;
    int rc;
    if (!ps->unknown_buf && (ps->grp < 0 || !ps->grp_sticky[ps->grp]))
        return cg_rule_fail(ps, o->npos, "bsize needs a sticky buffer before it");
    if (cg_kw_uint(ps, o->val, o->vlen, o->vpos, "bsize", UINT64_MAX, &u))
        return -1;
    cg_match *m = cg_kw_new_item(ps, o, &rc);
    if (!m)
        return rc;
    m->type = CG_M_BSIZE;
    m->u.sz = u;
    ps->r->nmatch++;
    return 0;
}

/* urilen:<int>[,norm|raw]: the length of http.uri (or http.uri.raw). */
int cg_kw_urilen(cg_rule_ps *ps, const cg_rule_opt *o)
{
    const char *comma = memchr(o->val, ',', o->vlen);
    size_t n = comma ? (size_t)(comma - o->val) : o->vlen;
    uint8_t buf = CG_BUF_HTTP_URI;
    cg_uint u;
    if (comma) {
        const char *w = comma + 1;
        size_t wl = o->vlen - n - 1, wp = o->vpos + n + 1;
        cg_rule_trim(&w, &wl, &wp);
        if (cg_kw_is_word(w, wl, "raw"))
            buf = CG_BUF_HTTP_URI_RAW;
        else if (!cg_kw_is_word(w, wl, "norm"))
            return cg_rule_fail(ps, wp, "urilen takes 'norm' or 'raw' after the comma");
    }
    if (cg_kw_uint(ps, o->val, n, o->vpos, "urilen", 65535, &u))
        return -1;
    int g = cg_kw_plain_group(ps, o, buf);
    if (g < 0)
        return g;
    cg_match *m = cg_kw_new_item_in(ps, g);
    if (!m)
        return CG_ENOMEM;
    m->type = CG_M_BSIZE;
    m->u.sz = u;
    ps->r->nmatch++;
    return 0;
}

/* ---- after the last option ------------------------------------------------ */

static int has_case(const cg_content *c, int upper)
{
    for (uint32_t i = 0; i < c->len; i++)
        if (upper ? (c->bytes[i] >= 'A' && c->bytes[i] <= 'Z')
                  : (c->bytes[i] >= 'a' && c->bytes[i] <= 'z'))
            return 1;
    return 0;
}

/* The largest buffer length a bsize test lets through (UINT64_MAX: no bound). */
static uint64_t bsize_max(const cg_uint *u)
{
    switch (u->op) {
    case CG_U_EQ:
    case CG_U_LE: return u->a;
    case CG_U_LT: return u->a ? u->a - 1 : 0;
    case CG_U_RANGE: return u->b - 1;
    default: return UINT64_MAX;
    }
}

/* Checks of one group's items that need the whole rule: contents that can
 * never match their buffer. */
static int blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int check_group(cg_rule_ps *ps, uint32_t g)
{
    const cg_rule *r = ps->r;
    const cg_bufgroup *G = &r->groups[g];
    int lower = 0, upper = 0;    /* the last case transform */
    int strip = 0, compress = 0; /* the last whitespace transform */
    for (uint32_t k = 0; k < G->ntf; k++) {
        if (G->tf[k] == CG_TF_TO_LOWERCASE)
            lower = 1, upper = 0;
        else if (G->tf[k] == CG_TF_TO_UPPERCASE)
            upper = 1, lower = 0;
        else if (G->tf[k] == CG_TF_STRIP_WHITESPACE)
            strip = 1, compress = 0;
        else if (G->tf[k] == CG_TF_COMPRESS_WHITESPACE)
            compress = 1, strip = 0;
        else if (G->tf[k] == CG_TF_URL_DECODE)
            strip = compress = 0; /* %20 and '+' bring blanks back */
    }
    uint64_t maxlen = UINT64_MAX;
    for (uint32_t i = 0; i < r->nmatch; i++)
        if (r->matches[i].grp == g && r->matches[i].type == CG_M_BSIZE) {
            uint64_t mx = bsize_max(&r->matches[i].u.sz);
            if (mx < maxlen)
                maxlen = mx;
        }
    for (uint32_t i = 0; i < r->nmatch; i++) {
        const cg_match *m = &r->matches[i];
        if (m->grp != g || m->type != CG_M_CONTENT || (m->u.c.flags & CG_C_NEGATED))
            continue;
        const cg_content *c = &m->u.c;
        /* Suricata's own checks: the host is lowercased; a case transform
         * leaves no letter of the other case. */
        if (!(c->flags & CG_C_NOCASE)) {
            if (G->buf == CG_BUF_HTTP_HOST && G->ntf == 0 && has_case(c, 1))
                return cg_rule_fail(ps, ps->item_pos[i],
                                    "content with upper case letters in "
                                    "http.host can never match (the host is lowercased): use "
                                    "lower case or nocase");
            if ((lower && has_case(c, 1)) || (upper && has_case(c, 0)))
                return cg_rule_fail(ps, ps->item_pos[i],
                                    "content with %s case letters after "
                                    "%s can never match",
                                    lower ? "upper" : "lower",
                                    lower ? "to_lowercase" : "to_uppercase");
        }
        for (uint32_t k = 0; k < c->len; k++)
            if ((strip && blank(c->bytes[k])) ||
                (compress && k > 0 && blank(c->bytes[k]) && blank(c->bytes[k - 1])))
                return cg_rule_fail(ps, ps->item_pos[i],
                                    "content with %s can never match "
                                    "after %s",
                                    strip ? "a blank" : "two blanks in a row",
                                    strip ? "strip_whitespace" : "compress_whitespace");
        if (c->len > maxlen)
            return cg_rule_fail(ps, ps->item_pos[i],
                                "content of %u bytes can never match a "
                                "buffer that bsize limits to %llu",
                                c->len, (unsigned long long)maxlen);
    }
    return 0;
}

/* The length of the keyword that named group g, for messages. */
static size_t group_name_len(const cg_rule_ps *ps, uint32_t g)
{
    size_t p = ps->grp_pos[g], e = p;
    while (e < ps->len && ps->t[e] != ';' && ps->t[e] != ':' && ps->t[e] != ' ')
        e++;
    return e - p;
}

/* The protocol a buffer belongs to (CG_APP_*), NONE for the payload. */
static uint8_t buf_app(uint8_t b)
{
    if (b >= CG_BUF_HTTP_URI && b <= CG_BUF_FILE_DATA)
        return CG_APP_HTTP;
    if (b == CG_BUF_DNS_QUERY)
        return CG_APP_DNS;
    if (b >= CG_BUF_TLS_SNI && b < CG_BUF_COUNT)
        return CG_APP_TLS;
    return CG_APP_NONE;
}

/* A rule whose buffers belong to another protocol than its own, or to two,
 * could never match: an error, as in Suricata. */
static int check_protocols(cg_rule_ps *ps)
{
    static const char *const names[] = { "", "http", "tls", "dns" };
    const cg_rule *r = ps->r;
    uint8_t seen = r->app_proto <= CG_APP_DNS ? r->app_proto : CG_APP_NONE;
    for (uint32_t g = 0; g < r->ngroups; g++) {
        uint8_t a = buf_app(r->groups[g].buf);
        if (a == CG_APP_NONE || a == seen)
            continue;
        if (seen == CG_APP_NONE) {
            seen = a;
            continue;
        }
        return cg_rule_fail(ps, ps->grp_pos[g],
                            "'%.*s' is a buffer of %s: it never matches "
                            "in a rule of %s",
                            (int)group_name_len(ps, g), ps->t + ps->grp_pos[g], names[a],
                            names[seen]);
    }
    return 0;
}

int cg_kw_finish_groups(cg_rule_ps *ps)
{
    cg_rule *r = ps->r;
    uint8_t map[CG_MAX_GROUPS];
    uint32_t n = 0;

    if (ps->b64 == 1) /* Suricata matches nothing without it */
        return cg_rule_fail(ps, ps->b64_pos, "base64_decode needs a base64_data after it");

    cg_kw_close_open(ps);
    for (uint32_t g = 0; g < r->ngroups; g++) {
        if (cg_kw_group_has_items(r, g)) {
            map[g] = (uint8_t)n;
            r->groups[n] = r->groups[g];
            ps->grp_sticky[n] = ps->grp_sticky[g];
            ps->grp_pos[n] = ps->grp_pos[g];
            n++;
            continue;
        }
        /* (after an unknown keyword the items may have gone to the unknown
         * buffer: the rule is skipped for that keyword instead) */
        if (ps->grp_sticky[g] && r->groups[g].buf != CG_BUF_OTHER && !ps->unsupported) {
            return cg_rule_fail(ps, ps->grp_pos[g],
                                "'%.*s' is not followed by anything to "
                                "match in it",
                                (int)group_name_len(ps, g), ps->t + ps->grp_pos[g]);
        }
        map[g] = 0xff;
    }
    r->ngroups = n;
    for (uint32_t i = 0; i < r->nmatch; i++)
        r->matches[i].grp = map[r->matches[i].grp];
    for (uint32_t g = 0; g < r->ngroups; g++) {
        int rc = check_group(ps, g);
        if (rc)
            return rc;
    }

    /* Payload items: packets unless tcp-stream / only_stream; the stream
     * unless tcp-pkt / no_stream / dsize (a packet's size), and only where
     * TCP can carry the rule (rule.h invariant 7). */
    int tcp = r->ip_proto == 6 || r->ip_proto == 0;
    r->packet_ok = !ps->stream_only;
    r->stream_ok = tcp && !ps->pkt_only && r->dsize.op == CG_DS_NONE;
    if (ps->stream_only && !tcp)
        return cg_rule_fail(ps, ps->mode_pos, "only_stream on a rule that does not match TCP");
    if (ps->stream_only && r->dsize.op != CG_DS_NONE)
        return cg_rule_fail(ps, ps->mode_pos, "dsize (a packet's size) on a stream-only rule");
    if (check_protocols(ps))
        return -1;
    int has_app_buf = 0;
    for (uint32_t g = 0; g < r->ngroups; g++)
        has_app_buf |= buf_app(r->groups[g].buf) == CG_APP_HTTP;
    if (r->app_events && !has_app_buf) /* events come with transactions */
        cg_rule_unsupported(ps, ps->event_pos, "app-layer-event (no http buffer)", 32, "keyword");
    r->bufs = 0;
    r->b64_grp = 0;
    for (uint32_t g = 0; g < r->ngroups; g++) {
        uint8_t b = r->groups[g].buf;
        if (b == CG_BUF_OTHER)
            continue;
        if (b == CG_BUF_BASE64) { /* matched inside its base64_decode's group */
            if (r->groups[g].ntf)
                return cg_rule_fail(ps, ps->grp_pos[g],
                                    "transforms do not apply to "
                                    "base64_data");
            r->b64_grp = (uint8_t)(g + 1);
            if (check_b64_vars(ps))
                return -1;
            continue;
        }
        if (b != CG_BUF_PAYLOAD && r->app_proto >= CG_APP_SMTP && r->app_proto <= CG_APP_SMB) {
            /* smtp, ftp, ssh and smb flows are matched on their bytes only:
             * no parser builds their buffers (an smtp file.data is a MIME
             * attachment) */
            static const char *const names[] = { "smtp", "ftp", "ssh", "smb" };
            size_t e = group_name_len(ps, g);
            char kw[64];
            int k = snprintf(kw, sizeof kw, "%s %.*s", names[r->app_proto - CG_APP_SMTP],
                             (int)(e < 40 ? e : 40), ps->t + ps->grp_pos[g]);
            cg_rule_unsupported(ps, ps->grp_pos[g], kw, (size_t)k, "buffer");
            continue;
        }
        if (b != CG_BUF_PAYLOAD)
            r->bufs |= 1ull << b;
        else
            r->bufs |= (r->packet_ok ? 1ull << CG_BUF_PAYLOAD : 0) |
                (r->stream_ok ? 1ull << CG_BUF_STREAM : 0);
    }
    /* dns.opcode and tls.version test a message's header, not a buffer: a
     * rule with one of them is matched on the messages of its protocol all
     * the same, found through the buffers those messages always have: a
     * query's dns.query; a ClientHello's JA3, a ServerHello's JA3S, a
     * Certificate's certificates (without this such a rule with no buffer
     * of its own was a packet rule, and a packet has neither) */
    if (r->dns_opcode.op != CG_U_NONE)
        r->bufs |= 1ull << CG_BUF_DNS_QUERY;
    if (r->tls_version)
        r->bufs |= 1ull << CG_BUF_JA3_HASH | 1ull << CG_BUF_JA3S_HASH | 1ull << CG_BUF_TLS_CERTS;
    return 0;
}
