/* eve_proto.c — EVE records of protocol events and the protocol objects of
 * alerts (see eve_proto.h). Field names and forms are Suricata 8's
 * (etc/schema.json; its DNS log version 3); every record validates against
 * that schema (tests/e2e_eve.sh checks it on the real captures).
 */
#include "analyzer/output/eve_proto.h"

#include <stdio.h>
#include <string.h>

#include "analyzer/output/eve.h"
#include "analyzer/lang/rule.h"

int cg_eve_types_parse(const char *list, uint32_t *mask, char *bad, size_t badlen)
{
    static const struct {
        const char *name;
        uint32_t bits;
    } types[] = {
        { "alert", CG_EVE_T_ALERT },    { "http", CG_INSPECT_EV_HTTP },
        { "dns", CG_INSPECT_EV_DNS },   { "tls", CG_INSPECT_EV_TLS },
        { "flow", CG_INSPECT_EV_FLOW }, { "anomaly", CG_INSPECT_EV_ANOMALY },
        { "all", CG_EVE_T_ALL },
    };
    uint32_t m = 0;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        const char *w = s;
        while (n && (*w == ' ' || *w == '\t'))
            w++, n--;
        while (n && (w[n - 1] == ' ' || w[n - 1] == '\t'))
            n--;
        size_t i;
        for (i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strlen(types[i].name) == n && !strncmp(types[i].name, w, n))
                break;
        if (i == sizeof types / sizeof types[0]) {
            snprintf(bad, badlen, "%.*s", (int)n, w);
            return -1;
        }
        m |= types[i].bits;
        if (!e)
            break;
        s = e + 1;
    }
    *mask = m;
    return 0;
}

const char *cg_eve_app_proto_name(uint8_t app)
{
    switch (app) {
    case CG_APP_HTTP: return "http";
    case CG_APP_TLS: return "tls";
    case CG_APP_DNS: return "dns";
    case CG_APP_SMTP: return "smtp";
    case CG_APP_FTP: return "ftp";
    case CG_APP_SSH: return "ssh";
    case CG_APP_SMB: return "smb";
    case CG_APP_FAILED: return "failed";
    default: return NULL;
    }
}

/* ,"key":"text" for a text field that is not empty */
#define TEXT(buf, lim, pos, first, key, f) text_field(buf, lim, pos, first, key, (f).s, (f).len)

static void text_field(char *buf, size_t lim, size_t *pos, int *first, const char *key,
                       const char *s, uint16_t len)
{
    if (!len)
        return;
    cg_json_raw(buf, lim, pos, "%s\"%s\":", *first ? "" : ",", key);
    cg_json_strn(buf, lim, pos, s, len);
    *first = 0;
}

/* ---- flow ---- */

static const char *flow_state(const cg_flow *f)
{
    if (f->proto == 6) {
        switch (f->tcp_state) {
        case CG_TCP_ESTABLISHED:
        case CG_TCP_CLOSING: return "established";
        case CG_TCP_CLOSED: return "closed";
        default: return "new";
        }
    }
    return f->seen_both ? "established" : "new";
}

static const char *flow_reason(int reason)
{
    switch (reason) {
    case CG_FLOW_END_TIMEOUT: return "timeout";
    case CG_FLOW_END_FLUSH: return "shutdown";
    default: return "forced"; /* made room for another flow */
    }
}

void cg_eve_flow_obj(char *buf, size_t buflen, size_t *pos, const cg_flow *f,
                     const cg_inspect_event *end)
{
    char ts[40];
    cg_eve_time(f->first_us, ts, sizeof ts);
    cg_json_raw(buf, buflen, pos,
                "\"flow\":{\"pkts_toserver\":%llu,\"pkts_toclient\":%llu,"
                "\"bytes_toserver\":%llu,\"bytes_toclient\":%llu,\"start\":\"%s\"",
                (unsigned long long)f->pkts_toserver, (unsigned long long)f->pkts_toclient,
                (unsigned long long)f->bytes_toserver, (unsigned long long)f->bytes_toclient, ts);
    if (end) {
        cg_eve_time(f->last_us, ts, sizeof ts);
        uint64_t age = f->last_us > f->first_us ? (f->last_us - f->first_us) / 1000000u : 0;
        cg_json_raw(buf, buflen, pos,
                    ",\"end\":\"%s\",\"age\":%llu,\"state\":\"%s\","
                    "\"reason\":\"%s\",\"alerted\":%s",
                    ts, (unsigned long long)age, flow_state(f), flow_reason(end->flow_reason),
                    end->alerted ? "true" : "false");
    }
    cg_json_raw(buf, buflen, pos, "}");
}

/* ---- http ---- */

static int http_obj(char *buf, size_t lim, size_t *pos, const cg_appctx *c)
{
    const cg_appctx_http *h = &c->http;
    if (!h->has_request)
        return 0;
    int first = 1;
    cg_json_raw(buf, lim, pos, "\"http\":{");
    TEXT(buf, lim, pos, &first, "hostname", h->host);
    TEXT(buf, lim, pos, &first, "url", h->url);
    TEXT(buf, lim, pos, &first, "http_user_agent", h->ua);
    TEXT(buf, lim, pos, &first, "http_content_type", h->ctype);
    TEXT(buf, lim, pos, &first, "http_refer", h->referer);
    TEXT(buf, lim, pos, &first, "http_method", h->method);
    TEXT(buf, lim, pos, &first, "protocol", h->protocol);
    if (h->has_response && h->status)
        cg_json_raw(buf, lim, pos, "%s\"status\":%u", first ? "" : ",", h->status), first = 0;
    cg_json_raw(buf, lim, pos, "%s\"length\":%llu}", first ? "" : ",",
                (unsigned long long)h->length);
    return 1;
}

/* ---- tls ---- */

static int tls_obj(char *buf, size_t lim, size_t *pos, const cg_appctx *c)
{
    const cg_appctx_tls *t = &c->tls;
    if (!t->client_hello && !t->server_hello && !t->certificate)
        return 0;
    int first = 1;
    cg_json_raw(buf, lim, pos, "\"tls\":{");
    TEXT(buf, lim, pos, &first, "subject", t->subject);
    TEXT(buf, lim, pos, &first, "issuerdn", t->issuerdn);
    TEXT(buf, lim, pos, &first, "serial", t->serial);
    TEXT(buf, lim, pos, &first, "sni", t->sni);
    uint16_t v = cg_appctx_tls_version(c);
    if (v) {
        char name[24];
        cg_json_raw(buf, lim, pos, "%s\"version\":\"%s\"", first ? "" : ",",
                    cg_appctx_tls_version_name(v, name, sizeof name));
        first = 0;
    }
    if (t->ja3_hash.len) {
        cg_json_raw(buf, lim, pos, "%s\"ja3\":{", first ? "" : ",");
        int f2 = 1;
        TEXT(buf, lim, pos, &f2, "hash", t->ja3_hash);
        TEXT(buf, lim, pos, &f2, "string", t->ja3);
        cg_json_raw(buf, lim, pos, "}");
        first = 0;
    }
    if (t->ja3s_hash.len) {
        cg_json_raw(buf, lim, pos, "%s\"ja3s\":{", first ? "" : ",");
        int f2 = 1;
        TEXT(buf, lim, pos, &f2, "hash", t->ja3s_hash);
        TEXT(buf, lim, pos, &f2, "string", t->ja3s);
        cg_json_raw(buf, lim, pos, "}");
    }
    cg_json_raw(buf, lim, pos, "}");
    return 1;
}

/* ---- dns ---- */

/* A type or rcode: its name, else the number as text (as Suricata). */
static void name_or_number(char *buf, size_t lim, size_t *pos, const char *name, unsigned v)
{
    if (name)
        cg_json_raw(buf, lim, pos, "\"%s\"", name);
    else
        cg_json_raw(buf, lim, pos, "\"%u\"", v);
}

/* "dns":{ and the header's fields (the caller adds the sections and '}') */
static void dns_head(char *buf, size_t lim, size_t *pos, int qr, uint16_t id, uint16_t flags,
                     uint8_t opcode, uint8_t rcode)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } bits[] = {
        { 0x8000, "qr" }, { 0x0400, "aa" }, { 0x0200, "tc" },
        { 0x0100, "rd" }, { 0x0080, "ra" }, { 0x0040, "z" },
    };
    cg_json_raw(buf, lim, pos,
                "\"dns\":{\"version\":3,\"type\":\"%s\",\"id\":%u,"
                "\"flags\":\"%x\"",
                qr ? "response" : "request", id, flags);
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (flags & bits[i].bit)
            cg_json_raw(buf, lim, pos, ",\"%s\":true", bits[i].name);
    cg_json_raw(buf, lim, pos, ",\"opcode\":%u,\"rcode\":", opcode);
    name_or_number(buf, lim, pos, cg_dns_rcode_name(rcode), rcode);
}

static void dns_query(char *buf, size_t lim, size_t *pos, int first, const char *name, uint16_t len,
                      uint16_t type)
{
    cg_json_raw(buf, lim, pos, "%s{\"rrname\":", first ? "" : ",");
    cg_json_strn(buf, lim, pos, name, len);
    cg_json_raw(buf, lim, pos, ",\"rrtype\":");
    name_or_number(buf, lim, pos, cg_dns_type_name(type), type);
    cg_json_raw(buf, lim, pos, "}");
}

static int dns_obj(char *buf, size_t lim, size_t *pos, const cg_appctx *c)
{
    const cg_appctx_dns *d = &c->dns;
    if (!d->present)
        return 0;
    dns_head(buf, lim, pos, d->qr, d->id, d->flags, d->opcode, d->rcode);
    if (d->has_query) {
        cg_json_raw(buf, lim, pos, ",\"queries\":[");
        dns_query(buf, lim, pos, 1, d->rrname.s, d->rrname.len, d->rrtype);
        cg_json_raw(buf, lim, pos, "]");
    }
    cg_json_raw(buf, lim, pos, "}");
    return 1;
}

/* A message with what the parser kept of it: queries and answers. */
static void dns_event_obj(char *buf, size_t lim, size_t *pos, const cg_dns_msg *m,
                          const cg_dns_detail *det)
{
    dns_head(buf, lim, pos, m->qr, m->id, m->flags, m->opcode, m->rcode);
    if (det && det->nq) {
        cg_json_raw(buf, lim, pos, ",\"queries\":[");
        for (uint32_t i = 0; i < det->nq; i++)
            dns_query(buf, lim, pos, i == 0, det->q[i].name, det->q[i].name_len, det->q[i].type);
        cg_json_raw(buf, lim, pos, "]");
    }
    if (det && det->nan) {
        cg_json_raw(buf, lim, pos, ",\"answers\":[");
        for (uint32_t i = 0; i < det->nan; i++) {
            const cg_dns_answer *a = &det->an[i];
            cg_json_raw(buf, lim, pos, "%s{\"rrname\":", i ? "," : "");
            cg_json_strn(buf, lim, pos, a->name, a->name_len);
            cg_json_raw(buf, lim, pos, ",\"rrtype\":");
            name_or_number(buf, lim, pos, cg_dns_type_name(a->type), a->type);
            cg_json_raw(buf, lim, pos, ",\"ttl\":%u", a->ttl);
            if (a->rdata) {
                cg_json_raw(buf, lim, pos, ",\"rdata\":");
                cg_json_strn(buf, lim, pos, a->rdata, a->rdata_len);
            }
            cg_json_raw(buf, lim, pos, "}");
        }
        cg_json_raw(buf, lim, pos, "]");
    }
    cg_json_raw(buf, lim, pos, "}");
}

int cg_eve_app_obj(char *buf, size_t buflen, size_t *pos, const cg_appctx *c, uint8_t app_proto)
{
    switch (app_proto) {
    case CG_APP_HTTP: return http_obj(buf, buflen, pos, c);
    case CG_APP_TLS: return tls_obj(buf, buflen, pos, c);
    case CG_APP_DNS: return dns_obj(buf, buflen, pos, c);
    default:
        return http_obj(buf, buflen, pos, c) || tls_obj(buf, buflen, pos, c) ||
            dns_obj(buf, buflen, pos, c);
    }
}

/* ---- records ---- */

static size_t finish(char *buf, size_t buflen, size_t pos)
{
    cg_json_raw(buf, buflen, &pos, "}\n");
    return pos >= buflen ? 0 : pos;
}

size_t cg_eve_event(char *buf, size_t buflen, const cg_inspect_event *ev)
{
    static const char *const names[] = { "http", "dns", "tls", "flow", "anomaly" };
    int k = ev->type == CG_INSPECT_EV_HTTP ? 0
        : ev->type == CG_INSPECT_EV_DNS    ? 1
        : ev->type == CG_INSPECT_EV_TLS    ? 2
        : ev->type == CG_INSPECT_EV_FLOW   ? 3
                                           : 4;
    char cid[64] = "";
    size_t pos = 0;
    if (ev->community_id)
        snprintf(cid, sizeof cid, "%s", ev->community_id);
    else
        cg_community_id(ev->p, 0, cid, sizeof cid);
    cg_eve_head(buf, buflen, &pos, ev->p, ev->p->ts_us, names[k], ev->f->id, cid);
    const char *an = cg_eve_app_proto_name(ev->app_proto);
    switch (ev->type) {
    case CG_INSPECT_EV_HTTP:
        if (!ev->app || !http_obj(buf, buflen, &pos, ev->app))
            return 0;
        break;
    case CG_INSPECT_EV_TLS:
        if (!ev->app || !tls_obj(buf, buflen, &pos, ev->app))
            return 0;
        break;
    case CG_INSPECT_EV_DNS: dns_event_obj(buf, buflen, &pos, ev->dns, ev->dns_detail); break;
    case CG_INSPECT_EV_FLOW:
        if (an)
            cg_json_raw(buf, buflen, &pos, "\"app_proto\":\"%s\",", an);
        cg_eve_flow_obj(buf, buflen, &pos, ev->f, ev);
        break;
    default:
        if (!strncmp(ev->anomaly, "stream.", 7)) {
            cg_json_raw(buf, buflen, &pos, "\"anomaly\":{\"type\":\"stream\",\"event\":");
            cg_json_str(buf, buflen, &pos, ev->anomaly);
        } else {
            cg_json_raw(buf, buflen, &pos,
                        "\"anomaly\":{\"app_proto\":\"%s\","
                        "\"type\":\"applayer\",\"event\":",
                        an ? an : "unknown");
            cg_json_str(buf, buflen, &pos, ev->anomaly);
            cg_json_raw(buf, buflen, &pos, ",\"layer\":\"proto_parser\"");
        }
        cg_json_raw(buf, buflen, &pos, "}");
        break;
    }
    return finish(buf, buflen, pos);
}

/* ---- decoder anomalies ---- */

#define LT_NULL 0
#define LT_EN10MB 1
#define LT_LOOP 108
#define LT_SLL 113
#define LT_SLL2 276
#define LT_IPV4 228
#define LT_IPV6 229

/* Where the IP header starts in p's frame and the IP version the link layer
 * announced (0: none). NULL when the link header itself is cut, with the
 * name of that anomaly in *link. */
static int l3_of(const cg_packet *p, uint32_t *off, int *fam, const char **link)
{
    const uint8_t *f = p->frame;
    uint32_t n = p->caplen, o = 0, type = 0;
    *fam = 0;
    switch (p->dlt) {
    case LT_EN10MB:
        *link = "decoder.ethernet.pkt_too_small";
        if (n < 14)
            return 0;
        type = (uint32_t)f[12] << 8 | f[13];
        o = 14;
        while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
            *link = "decoder.vlan.pkt_too_small";
            if (n < o + 4)
                return 0;
            type = (uint32_t)f[o + 2] << 8 | f[o + 3];
            o += 4;
        }
        break;
    case LT_SLL:
        *link = "decoder.sll.pkt_too_small";
        if (n < 16)
            return 0;
        type = (uint32_t)f[14] << 8 | f[15];
        o = 16;
        break;
    case LT_SLL2:
        *link = "decoder.sll.pkt_too_small";
        if (n < 20)
            return 0;
        type = (uint32_t)f[0] << 8 | f[1];
        o = 20;
        break;
    case LT_NULL:
    case LT_LOOP: {
        *link = "decoder.null.pkt_too_small";
        if (n < 4)
            return 0;
        uint32_t af =
            (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
        if (af > 0xffff)
            af = (uint32_t)f[3] | (uint32_t)f[2] << 8 | (uint32_t)f[1] << 16 | (uint32_t)f[0] << 24;
        *fam = af == 2 ? 4 : af ? 6 : 0;
        o = 4;
        break;
    }
    case LT_IPV4: *fam = 4; break;
    case LT_IPV6: *fam = 6; break;
    default: break; /* raw IP */
    }
    if (type)
        *fam = type == 0x0800 ? 4 : type == 0x86dd ? 6 : 0;
    *off = o;
    return 1;
}

const char *cg_eve_decode_event_name(const cg_packet *p, int rc)
{
    if (rc != CG_ETRUNCATED && rc != CG_EMALFORMED)
        return NULL;
    int trunc = rc == CG_ETRUNCATED;
    if (p->l4) { /* the transport header failed */
        switch (p->proto) {
        case 6:
            if (!trunc && p->l4_len >= 13 && (p->l4[12] >> 4) < 5)
                return "decoder.tcp.hlen_too_small";
            return "decoder.tcp.pkt_too_small";
        case 17:
            return p->flags & CG_PKT_HAS_PORTS ? "decoder.udp.hlen_invalid"
                                               : "decoder.udp.pkt_too_small";
        case 1: return "decoder.icmpv4.pkt_too_small";
        case 58: return "decoder.icmpv6.pkt_too_small";
        case 132: return "decoder.sctp.pkt_too_small";
        default: return "decoder.ipv4.trunc_pkt";
        }
    }
    if (p->ipver == 6)
        return "decoder.ipv6.trunc_exthdr"; /* an extension header */
    if (p->ipver == 4)
        return "decoder.ipv4.pkt_too_small"; /* options cut */
    uint32_t off = 0;
    int fam;
    const char *link = "decoder.ipv4.pkt_too_small";
    if (!p->frame || !l3_of(p, &off, &fam, &link) || p->caplen <= off)
        return link;
    uint8_t b = p->frame[off];
    int v = b >> 4;
    if (trunc)
        return (fam ? fam : v) == 6 ? "decoder.ipv6.pkt_too_small" : "decoder.ipv4.pkt_too_small";
    if ((v != 4 && v != 6) || (fam && v != fam))
        return fam == 6 ? "decoder.ipv6.wrong_ip_version" : "decoder.ipv4.wrong_ip_version";
    if (v == 4 && (b & 15) < 5)
        return "decoder.ipv4.hlen_too_small";
    return v == 4 ? "decoder.ipv4.iplen_smaller_than_hlen" : "decoder.ipv6.pkt_too_small";
}

size_t cg_eve_decode_anomaly(char *buf, size_t buflen, const cg_packet *p, int rc)
{
    const char *name = cg_eve_decode_event_name(p, rc);
    if (!name)
        return 0;
    char cid[64] = "";
    size_t pos = 0;
    uint64_t fid = 0;
    if (p->ipver) {
        cg_community_id(p, 0, cid, sizeof cid);
        fid = cg_flow_id(p);
    }
    cg_eve_head(buf, buflen, &pos, p, p->ts_us, "anomaly", fid, cid);
    cg_json_raw(buf, buflen, &pos, "\"anomaly\":{\"type\":\"decode\",\"event\":\"%s\"}", name);
    return finish(buf, buflen, pos);
}
