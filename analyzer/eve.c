/* eve.c — EVE JSON alert lines, the records' common start, JSON strings
 * (see eve.h). */
#include "analyzer/eve.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analyzer/appctx.h"
#include "analyzer/eve_proto.h"
#include "analyzer/utf8.h"

void cg_json_raw(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
{
    if (*pos >= buflen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, buflen - *pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= buflen - *pos)
        *pos = buflen;
    else
        *pos += (size_t)n;
}

void cg_json_str(char *buf, size_t buflen, size_t *pos, const char *s)
{
    cg_json_strn(buf, buflen, pos, s ? s : "", s ? strlen(s) : 0);
}

void cg_json_strn(char *buf, size_t buflen, size_t *pos, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = *pos;
    if (p + 2 > buflen) {
        *pos = buflen;
        return;
    }
    buf[p++] = '"';
    const unsigned char *c = (const unsigned char *)(s ? s : "");
    const unsigned char *end = c + (s ? n : 0);
    for (; c < end; c++) {
        char esc = 0;
        switch (*c) {
        case '"': esc = '"'; break;
        case '\\': esc = '\\'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\t': esc = 't'; break;
        default: break;
        }
        if (esc) {
            if (p + 2 >= buflen) { *pos = buflen; return; }
            buf[p++] = '\\';
            buf[p++] = esc;
        } else if (*c < 0x20 || *c == 0x7f) {
            if (p + 6 >= buflen) { *pos = buflen; return; }
            buf[p++] = '\\'; buf[p++] = 'u'; buf[p++] = '0'; buf[p++] = '0';
            buf[p++] = hex[*c >> 4];
            buf[p++] = hex[*c & 15];
        } else if (*c >= 0x80) {        /* valid UTF-8 as it is; else U+FFFD */
            size_t n = cg_utf8_seq(c, (size_t)(end - c));
            if (n == 0) {
                if (p + 6 >= buflen) { *pos = buflen; return; }
                memcpy(buf + p, "\\ufffd", 6);
                p += 6;
            } else {
                if (p + n >= buflen) { *pos = buflen; return; }
                memcpy(buf + p, c, n);
                p += n;
                c += n - 1;
            }
        } else {
            if (p + 1 >= buflen) { *pos = buflen; return; }
            buf[p++] = (char)*c;
        }
    }
    if (p + 1 >= buflen) {
        *pos = buflen;
        return;
    }
    buf[p++] = '"';
    buf[p] = 0;
    *pos = p;
}

void cg_json_b64(char *buf, size_t buflen, size_t *pos, const uint8_t *p, size_t n)
{
    size_t need = 4 * ((n + 2) / 3);
    if (*pos >= buflen || buflen - *pos < need + 3 || n > INT32_MAX) {
        *pos = buflen;
        return;
    }
    buf[(*pos)++] = '"';
    if (n)
        EVP_EncodeBlock((unsigned char *)buf + *pos, p, (int)n);   /* writes a NUL too */
    *pos += need;
    buf[(*pos)++] = '"';
    buf[*pos] = 0;
}

void cg_eve_time(uint64_t ts_us, char *out, size_t outlen)
{
    time_t t = (time_t)(ts_us / 1000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n > 0)
        snprintf(out + n, outlen - n, ".%06u+0000", (unsigned)(ts_us % 1000000u));
}

const char *cg_proto_name(uint8_t proto)
{
    switch (proto) {
    case 1: return "ICMP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 58: return "IPv6-ICMP";
    case 132: return "SCTP";
    default: return NULL;
    }
}

void cg_eve_head(char *buf, size_t buflen, size_t *pos, const cg_packet *p, uint64_t ts_us,
                 const char *event_type, uint64_t flow_id, const char *community_id)
{
    char ts[40], sa[64], da[64];
    cg_eve_time(ts_us, ts, sizeof ts);
    cg_json_raw(buf, buflen, pos, "{\"timestamp\":\"%s\",", ts);
    if (flow_id)
        cg_json_raw(buf, buflen, pos, "\"flow_id\":%llu,", (unsigned long long)flow_id);
    cg_json_raw(buf, buflen, pos, "\"event_type\":\"%s\",", event_type);
    if (!p || p->ipver == 0)
        return;
    cg_addr_format(p->src, sa, sizeof sa);
    cg_addr_format(p->dst, da, sizeof da);
    cg_json_raw(buf, buflen, pos, "\"src_ip\":\"%s\",", sa);
    if (p->flags & CG_PKT_HAS_PORTS)
        cg_json_raw(buf, buflen, pos, "\"src_port\":%u,", p->sport);
    cg_json_raw(buf, buflen, pos, "\"dest_ip\":\"%s\",", da);
    if (p->flags & CG_PKT_HAS_PORTS)
        cg_json_raw(buf, buflen, pos, "\"dest_port\":%u,", p->dport);
    const char *pn = cg_proto_name(p->proto);
    if (pn)
        cg_json_raw(buf, buflen, pos, "\"proto\":\"%s\",", pn);
    else
        cg_json_raw(buf, buflen, pos, "\"proto\":\"%u\",", p->proto);
    if (p->proto == 1 || p->proto == 58)
        cg_json_raw(buf, buflen, pos, "\"icmp_type\":%u,\"icmp_code\":%u,",
                    p->icmp_type, p->icmp_code);
    if (community_id && *community_id) {
        cg_json_raw(buf, buflen, pos, "\"community_id\":");
        cg_json_str(buf, buflen, pos, community_id);
        cg_json_raw(buf, buflen, pos, ",");
    }
}

size_t cg_eve_alert(char *buf, size_t buflen, const cg_packet *p, const cg_rule *r,
                    uint64_t flow_id, const char *community_id, uint64_t incident_id)
{
    return cg_eve_alert_ex(buf, buflen, p, r, flow_id, community_id, incident_id, NULL);
}

/* Room kept for the end of an alert line (layers, "}\n") while the optional
 * parts are written: one that does not fit in the rest is left out. */
#define TAIL_ROOM 64

/* payload, payload_printable and stream of an alert: at most
 * CG_EVE_PAYLOAD_MAX of the inspected bytes, around the match. */
static void alert_payload(char *buf, size_t lim, size_t *pos, const cg_alert_info *ai,
                          uint32_t fields)
{
    const uint8_t *d = ai->data;
    uint32_t n = ai->len, start = 0;
    if (!d)
        return;
    if (n > CG_EVE_PAYLOAD_MAX) {
        if (ai->match_end != CG_ALERT_NO_MATCH) {
            start = ai->match_end > CG_EVE_PAYLOAD_MAX / 2 ? ai->match_end - CG_EVE_PAYLOAD_MAX / 2
                                                          : 0;
            if (n - start < CG_EVE_PAYLOAD_MAX)
                start = n - CG_EVE_PAYLOAD_MAX;
        }
        n = CG_EVE_PAYLOAD_MAX;
    } else {
        n -= start;
    }
    d += start;
    size_t mark = *pos;
    if (fields & CG_EVE_F_PAYLOAD) {
        cg_json_raw(buf, lim, pos, ",\"payload\":");
        cg_json_b64(buf, lim, pos, d, n);
    }
    if (fields & CG_EVE_F_PAYLOAD_PRINTABLE) {
        /* Suricata's: printable bytes, CR and LF as they are, '.' for the rest */
        cg_json_raw(buf, lim, pos, ",\"payload_printable\":\"");
        for (uint32_t i = 0; i < n && *pos < lim; i++) {
            uint8_t c = d[i];
            char one = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' ? (char)c : '.';
            if (one == '"' || one == '\\')
                cg_json_raw(buf, lim, pos, "\\%c", one);
            else if (one == '\n' || one == '\r')
                cg_json_raw(buf, lim, pos, "\\%c", one == '\n' ? 'n' : 'r');
            else if (*pos + 1 < lim)
                buf[(*pos)++] = one, buf[*pos] = 0;
            else
                *pos = lim;
        }
        cg_json_raw(buf, lim, pos, "\"");
    }
    cg_json_raw(buf, lim, pos, ",\"stream\":%d", ai->stream ? 1 : 0);
    if (*pos >= lim) {
        *pos = mark;
        buf[mark] = 0;
    }
}

size_t cg_eve_alert_ex(char *buf, size_t buflen, const cg_packet *p, const cg_rule *r,
                       uint64_t flow_id, const char *community_id, uint64_t incident_id,
                       const cg_eve_alert_extra *x)
{
    size_t pos = 0;
    cg_eve_head(buf, buflen, &pos, p, p->ts_us, "alert", flow_id, community_id);
    cg_json_raw(buf, buflen, &pos, "\"incident_id\":%llu,\"alert\":{\"action\":\"allowed\","
                "\"gid\":%u,\"signature_id\":%u,\"rev\":%u,\"signature\":",
                (unsigned long long)incident_id, r->gid, r->sid, r->rev);
    cg_json_str(buf, buflen, &pos, r->msg ? r->msg : "");
    cg_json_raw(buf, buflen, &pos, ",\"category\":");
    cg_json_str(buf, buflen, &pos, r->class_desc ? r->class_desc : "");
    cg_json_raw(buf, buflen, &pos, ",\"severity\":%u", r->severity);
    if (r->nmeta > 0) {
        /* Suricata groups metadata values by key: {"key":["v1","v2"]} */
        cg_json_raw(buf, buflen, &pos, ",\"metadata\":{");
        int first_key = 1;
        for (uint32_t i = 0; i < r->nmeta; i++) {
            uint32_t j;
            for (j = 0; j < i; j++)
                if (!strcmp(r->meta[j].key, r->meta[i].key))
                    break;
            if (j < i)
                continue;          /* key already written */
            if (!first_key)
                cg_json_raw(buf, buflen, &pos, ",");
            first_key = 0;
            cg_json_str(buf, buflen, &pos, r->meta[i].key);
            cg_json_raw(buf, buflen, &pos, ":[");
            int first_val = 1;
            for (j = i; j < r->nmeta; j++) {
                if (strcmp(r->meta[j].key, r->meta[i].key))
                    continue;
                if (!first_val)
                    cg_json_raw(buf, buflen, &pos, ",");
                first_val = 0;
                cg_json_str(buf, buflen, &pos, r->meta[j].value ? r->meta[j].value : "");
            }
            cg_json_raw(buf, buflen, &pos, "]");
        }
        cg_json_raw(buf, buflen, &pos, "}");
    }
    cg_json_raw(buf, buflen, &pos, "}");
    if (x && pos < buflen && buflen - pos > TAIL_ROOM) {
        size_t lim = buflen - TAIL_ROOM, mark;
        const cg_alert_info *ai = x->ai;
        cg_json_raw(buf, lim, &pos, ",\"direction\":\"%s\"",
                    x->to_server ? "to_server" : "to_client");
        const char *an = ai ? cg_eve_app_proto_name(ai->app_proto) : NULL;
        if (an)
            cg_json_raw(buf, lim, &pos, ",\"app_proto\":\"%s\"", an);
        if (x->f) {
            cg_json_raw(buf, lim, &pos, ",");
            cg_eve_flow_obj(buf, lim, &pos, x->f, NULL);
        }
        if (ai && ai->app) {
            mark = pos;
            cg_json_raw(buf, lim, &pos, ",");
            if (!cg_eve_app_obj(buf, lim, &pos, ai->app, ai->app_proto) || pos >= lim) {
                pos = mark;                 /* nothing to say, or no room */
                buf[pos] = 0;
            }
        }
        if (ai && (x->fields & (CG_EVE_F_PAYLOAD | CG_EVE_F_PAYLOAD_PRINTABLE)))
            alert_payload(buf, lim, &pos, ai, x->fields);
        if ((x->fields & CG_EVE_F_PACKET) && p->frame && p->caplen) {
            mark = pos;
            cg_json_raw(buf, lim, &pos, ",\"packet\":");
            cg_json_b64(buf, lim, &pos, p->frame, p->caplen);
            cg_json_raw(buf, lim, &pos, ",\"packet_info\":{\"linktype\":%d}", p->dlt);
            if (pos >= lim) {
                pos = mark;
                buf[pos] = 0;
            }
        }
    }
    cg_json_raw(buf, buflen, &pos, ",\"layers\":[");
    int first = 1;
    for (int l = 1; l <= 4; l++)
        if (r->layers & CG_LAYER(l)) {
            cg_json_raw(buf, buflen, &pos, first ? "%d" : ",%d", l);
            first = 0;
        }
    cg_json_raw(buf, buflen, &pos, "]}\n");
    if (pos >= buflen)
        return 0;
    return pos;
}
