/* eve.c — EVE JSON alert lines (see eve.h). */
#include "analyzer/eve.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
    static const char hex[] = "0123456789abcdef";
    size_t p = *pos;
    if (p + 2 > buflen) {
        *pos = buflen;
        return;
    }
    buf[p++] = '"';
    const unsigned char *c = (const unsigned char *)(s ? s : "");
    const unsigned char *end = c + strlen((const char *)c);
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

size_t cg_eve_alert(char *buf, size_t buflen, const cg_packet *p, const cg_rule *r,
                    uint64_t flow_id, const char *community_id, uint64_t incident_id)
{
    char ts[40], sa[64], da[64];
    size_t pos = 0;
    cg_eve_time(p->ts_us, ts, sizeof ts);
    cg_addr_format(p->src, sa, sizeof sa);
    cg_addr_format(p->dst, da, sizeof da);
    cg_json_raw(buf, buflen, &pos, "{\"timestamp\":\"%s\",\"flow_id\":%llu,"
                "\"event_type\":\"alert\",\"src_ip\":\"%s\",", ts,
                (unsigned long long)flow_id, sa);
    if (p->flags & CG_PKT_HAS_PORTS)
        cg_json_raw(buf, buflen, &pos, "\"src_port\":%u,", p->sport);
    cg_json_raw(buf, buflen, &pos, "\"dest_ip\":\"%s\",", da);
    if (p->flags & CG_PKT_HAS_PORTS)
        cg_json_raw(buf, buflen, &pos, "\"dest_port\":%u,", p->dport);
    const char *pn = cg_proto_name(p->proto);
    if (pn)
        cg_json_raw(buf, buflen, &pos, "\"proto\":\"%s\",", pn);
    else
        cg_json_raw(buf, buflen, &pos, "\"proto\":\"%u\",", p->proto);
    if (p->proto == 1 || p->proto == 58)
        cg_json_raw(buf, buflen, &pos, "\"icmp_type\":%u,\"icmp_code\":%u,",
                    p->icmp_type, p->icmp_code);
    if (community_id && *community_id) {
        cg_json_raw(buf, buflen, &pos, "\"community_id\":");
        cg_json_str(buf, buflen, &pos, community_id);
        cg_json_raw(buf, buflen, &pos, ",");
    }
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
    cg_json_raw(buf, buflen, &pos, "},\"layers\":[");
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
