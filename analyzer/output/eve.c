/* eve.c — EVE JSON alert lines, the records' common start, JSON strings
 * (see eve.h). */
#include "analyzer/output/eve.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analyzer/engine/appctx.h"
#include "analyzer/output/eve_proto.h"
#include "analyzer/output/utf8.h"

/* Writes v in base 10 (16 with hex) at *p within end; 0 when it does not fit. */
static int put_uint(char **p, char *end, unsigned long long v, int hex)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[hex ? v & 15 : v % 10];
        v = hex ? v >> 4 : v / 10;
    } while (v);
    if (end - *p < n)
        return 0;
    while (n)
        *(*p)++ = tmp[--n];
    return 1;
}

/* The formats of every record's fields (%s %c %d %u %x %lu %llu %%) are
 * written here without printf's machinery; any other goes to vsnprintf. */
void cg_json_raw(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
{
    if (*pos >= buflen)
        return;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    char *p = buf + *pos, *end = buf + buflen - 1; /* room for the NUL */
    const char *f = fmt;
    int ok = 1;
    for (; *f && ok; f++) {
        if (*f != '%') {
            /* the literal up to the next conversion, at once */
            const char *q = strchr(f, '%');
            size_t n = q ? (size_t)(q - f) : strlen(f);
            if ((size_t)(end - p) < n) {
                ok = 0;
                break;
            }
            memcpy(p, f, n);
            p += n;
            f += n - 1;
            continue;
        }
        f++;
        int longs = 0;
        while (*f == 'l')
            longs++, f++;
        switch (*f) {
        case '%':
            if ((ok = p < end))
                *p++ = '%';
            break;
        case 's': {
            const char *a = va_arg(ap, const char *);
            size_t n = strlen(a);
            if ((size_t)(end - p) < n)
                ok = 0;
            else
                memcpy(p, a, n), p += n;
            break;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            if ((ok = p < end))
                *p++ = ch;
            break;
        }
        case 'd': {
            long long v = longs == 2 ? va_arg(ap, long long)
                : longs              ? va_arg(ap, long)
                                     : va_arg(ap, int);
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            if (v < 0 && (ok = p < end))
                *p++ = '-';
            ok = ok && put_uint(&p, end, u, 0);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = longs == 2 ? va_arg(ap, unsigned long long)
                : longs                       ? va_arg(ap, unsigned long)
                                              : va_arg(ap, unsigned);
            ok = put_uint(&p, end, v, *f == 'x');
            break;
        }
        default: /* widths, precisions, ...: printf's */
            va_end(ap);
            {
                int n = vsnprintf(buf + *pos, buflen - *pos, fmt, again);
                va_end(again);
                if (n < 0 || (size_t)n >= buflen - *pos)
                    *pos = buflen;
                else
                    *pos += (size_t)n;
            }
            return;
        }
    }
    va_end(ap);
    va_end(again);
    *p = 0;
    if (!ok || *f)
        *pos = buflen;
    else
        *pos = (size_t)(p - buf);
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
        /* a run of bytes written as they are: copied at once */
        const unsigned char *r = c;
        while (r < end && *r >= 0x20 && *r < 0x7f && *r != '"' && *r != '\\')
            r++;
        if (r > c) {
            if (p + (size_t)(r - c) >= buflen) {
                *pos = buflen;
                return;
            }
            memcpy(buf + p, c, (size_t)(r - c));
            p += (size_t)(r - c);
            c = r;
            if (c == end)
                break;
        }
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
            if (p + 2 >= buflen) {
                *pos = buflen;
                return;
            }
            buf[p++] = '\\';
            buf[p++] = esc;
        } else if (*c < 0x20 || *c == 0x7f) {
            if (p + 6 >= buflen) {
                *pos = buflen;
                return;
            }
            buf[p++] = '\\';
            buf[p++] = 'u';
            buf[p++] = '0';
            buf[p++] = '0';
            buf[p++] = hex[*c >> 4];
            buf[p++] = hex[*c & 15];
        } else if (*c >= 0x80) { /* valid UTF-8 as it is; else U+FFFD */
            size_t n = cg_utf8_seq(c, (size_t)(end - c));
            if (n == 0) {
                if (p + 6 >= buflen) {
                    *pos = buflen;
                    return;
                }
                memcpy(buf + p, "\\ufffd", 6);
                p += 6;
            } else {
                if (p + n >= buflen) {
                    *pos = buflen;
                    return;
                }
                memcpy(buf + p, c, n);
                p += n;
                c += n - 1;
            }
        } else {
            if (p + 1 >= buflen) {
                *pos = buflen;
                return;
            }
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
        EVP_EncodeBlock((unsigned char *)buf + *pos, p, (int)n); /* writes a NUL too */
    *pos += need;
    buf[(*pos)++] = '"';
    buf[*pos] = 0;
}

/* n as width digits at p */
static void digits(char *p, uint64_t n, int width)
{
    while (width-- > 0) {
        p[width] = (char)('0' + n % 10);
        n /= 10;
    }
}

void cg_eve_time(uint64_t ts_us, char *out, size_t outlen)
{
    /* the civil date of a day count (proleptic Gregorian, days from
     * 1970-01-01), without gmtime's locks: every record writes a time or
     * three */
    uint64_t secs = ts_us / 1000000u, us = ts_us % 1000000u;
    int64_t z = (int64_t)(secs / 86400u) + 719468;
    uint64_t sod = secs % 86400u;
    int64_t era = z / 146097;
    uint64_t doe = (uint64_t)(z - era * 146097);
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint64_t mp = (5 * doy + 2) / 153;
    uint64_t d = doy - (153 * mp + 2) / 5 + 1;
    uint64_t m = mp < 10 ? mp + 3 : mp - 9;
    uint64_t y = yoe + (uint64_t)era * 400 + (m <= 2);
    char t[32] = "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000";
    digits(t, y % 10000, 4);
    digits(t + 5, m, 2);
    digits(t + 8, d, 2);
    digits(t + 11, sod / 3600, 2);
    digits(t + 14, sod / 60 % 60, 2);
    digits(t + 17, sod % 60, 2);
    digits(t + 20, us, 6);
    if (outlen) {
        size_t n = outlen > sizeof t ? sizeof t : outlen;
        memcpy(out, t, n - 1);
        out[n - 1] = 0;
    }
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

/* An address as text: IPv4 (mapped) written here, digit by digit (two on
 * every record); IPv6 by cg_addr_format. */
static const char *addr_text(const uint8_t a[16], char *out, size_t outlen)
{
    if (!cg_addr_is_v4(a))
        return cg_addr_format(a, out, outlen);
    char *o = out;
    for (int i = 12; i < 16; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *o++ = (char)('0' + v / 100);
        if (v >= 10)
            *o++ = (char)('0' + v / 10 % 10);
        *o++ = (char)('0' + v % 10);
        *o++ = i < 15 ? '.' : 0;
    }
    return out;
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
    addr_text(p->src, sa, sizeof sa);
    addr_text(p->dst, da, sizeof da);
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
        cg_json_raw(buf, buflen, pos, "\"icmp_type\":%u,\"icmp_code\":%u,", p->icmp_type,
                    p->icmp_code);
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
            start =
                ai->match_end > CG_EVE_PAYLOAD_MAX / 2 ? ai->match_end - CG_EVE_PAYLOAD_MAX / 2 : 0;
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
    cg_json_raw(buf, buflen, &pos,
                "\"incident_id\":%llu,\"alert\":{\"action\":\"allowed\","
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
                continue; /* key already written */
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
                pos = mark; /* nothing to say, or no room */
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
