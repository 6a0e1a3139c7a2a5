/* cli.c — what the canhgac subcommands share (see cli.h): defaults, and an
 * incident printed as a JSON object or a CSV row. */
#include "tools/cli.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "analyzer/output/eve.h"
#include "analyzer/lang/rule.h"
#include "analyzer/output/utf8.h"
#include "sensor/decode.h"

uint64_t cg_cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void cg_cli_migrated_notice(const char *prog, const char *dir, cg_store *st)
{
    cg_store_head h;
    uint32_t from = cg_store_migrated(st);

    if (!from)
        return;
    if (cg_store_log_head(st, &h) != 0)
        h.size = 0;
    if (from >= 7) {
        fprintf(stderr, "%s: notice: %s: migrated from schema %u to %u (the accounts added)\n",
                prog, dir, from, CG_STORE_SCHEMA);
        return;
    }
    if (from >= 6) {
        fprintf(stderr,
                "%s: notice: %s: migrated from schema %u to %u (the outbox and the accounts "
                "added)\n",
                prog, dir, from, CG_STORE_SCHEMA);
        return;
    }
    if (from >= 5) {
        fprintf(stderr,
                "%s: notice: %s: migrated from schema %u to %u (escalations in history, the "
                "outbox and the accounts added)\n",
                prog, dir, from, CG_STORE_SCHEMA);
        return;
    }
    if (from >= 4) {
        fprintf(stderr,
                "%s: notice: %s: migrated from schema %u to %u (the cases' databases, the "
                "outbox and the accounts added)\n",
                prog, dir, from, CG_STORE_SCHEMA);
        return;
    }
    fprintf(stderr,
            "%s: notice: %s: migrated from schema %u to %u (every record sealed%s; the log "
            "begun with %llu leaves)\n",
            prog, dir, from, CG_STORE_SCHEMA, from < 3 ? ", attacks assigned" : "",
            (unsigned long long)h.size);
}

const char *cg_cli_layers(unsigned layers, char *buf, size_t len)
{
    size_t n = 0;

    if (len == 0)
        return buf;
    buf[0] = 0;
    for (int l = 1; l <= 4; l++)
        if ((layers & CG_LAYER(l)) && n + 3 <= len)
            n += (size_t)snprintf(buf + n, len - n, n ? " %d" : "%d", l);
    if (n == 0)
        snprintf(buf, len, "-");
    return buf;
}

const char *cg_cli_who(const char *as, char *buf, size_t len)
{
    struct passwd *pw;

    if (as)
        return as;
    pw = getpwuid(geteuid());
    if (pw && pw->pw_name && pw->pw_name[0])
        return pw->pw_name;
    snprintf(buf, len, "uid %u", (unsigned)geteuid());
    return buf;
}

const char *cg_cli_default_store(void)
{
    const char *e = getenv("CANHGAC_STORE");
    return e && *e ? e : "./canhgac-store";
}

const char *cg_cli_default_cache(char *buf, unsigned len)
{
    const char *e = getenv("CANHGAC_CACHE");
    if (e && *e) {
        snprintf(buf, len, "%s", e);
        return buf;
    }
    e = getenv("XDG_CACHE_HOME");
    if (e && *e) {
        snprintf(buf, len, "%s/canhgac", e);
        return buf;
    }
    e = getenv("HOME");
    if (e && *e) {
        snprintf(buf, len, "%s/.cache/canhgac", e);
        return buf;
    }
    return NULL;
}

/* ---- pieces ----------------------------------------------------------------- */

void cg_cli_addr(const uint8_t a[16], char *out, size_t len)
{
    cg_addr_format(a, out, len);
}

void cg_cli_time_str(uint64_t us, char *out, size_t len)
{
    cg_eve_time(us, out, len);
}

const char *cg_cli_proto(uint8_t proto, char *buf, size_t len)
{
    const char *n = cg_proto_name(proto);
    if (n)
        return n;
    snprintf(buf, len, "%u", proto);
    return buf;
}

const char *cg_cli_status(unsigned status)
{
    const char *n = cg_store_status_name(status);
    return n ? n : "unknown";
}

void cg_cli_json_str(FILE *f, const char *s)
{
    const unsigned char *c = (const unsigned char *)(s ? s : "");
    putc('"', f);
    while (*c) {
        size_t n;
        switch (*c) {
        case '"':
            fputs("\\\"", f);
            c++;
            continue;
        case '\\':
            fputs("\\\\", f);
            c++;
            continue;
        case '\n':
            fputs("\\n", f);
            c++;
            continue;
        case '\r':
            fputs("\\r", f);
            c++;
            continue;
        case '\t':
            fputs("\\t", f);
            c++;
            continue;
        default: break;
        }
        if (*c < 0x20 || *c == 0x7f) {
            fprintf(f, "\\u%04x", *c);
            c++;
        } else if ((n = cg_utf8_seq(c, strnlen((const char *)c, 4))) == 0) {
            fputs("\\ufffd", f);
            c++;
        } else {
            fwrite(c, 1, n, f);
            c += n;
        }
    }
    putc('"', f);
}

void cg_cli_csv_field(FILE *f, const char *s, int last)
{
    s = s ? s : "";
    if (strpbrk(s, ",\"\n\r")) {
        putc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                putc('"', f);
            putc(*s, f);
        }
        putc('"', f);
    } else {
        fputs(s, f);
    }
    putc(last ? '\n' : ',', f);
}

void cg_cli_base64(FILE *f, const uint8_t *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
            (i + 2 < n ? p[i + 2] : 0);
        putc(a[v >> 18 & 63], f);
        putc(a[v >> 12 & 63], f);
        putc(i + 1 < n ? a[v >> 6 & 63] : '=', f);
        putc(i + 2 < n ? a[v & 63] : '=', f);
    }
}

/* ---- an incident -------------------------------------------------------------- */

static const char *nz(const char *s)
{
    return s ? s : "";
}

static void json_geo(FILE *f, const cg_incident_geo *g)
{
    fputs("{\"country\":", f);
    cg_cli_json_str(f, g->country);
    fputs(",\"city\":", f);
    cg_cli_json_str(f, g->city);
    fprintf(f, ",\"asn\":%u,\"as_org\":", g->asn);
    cg_cli_json_str(f, g->as_org);
    fputs(",\"agency\":", f);
    cg_cli_json_str(f, g->agency);
    fputs(",\"zone\":", f);
    cg_cli_json_str(f, g->zone);
    putc('}', f);
}

void cg_cli_incident_json(FILE *f, const cg_incident *inc)
{
    char first[40], last[40], sa[64], da[64], pb[8];
    cg_cli_time_str(inc->first_us, first, sizeof first);
    cg_cli_time_str(inc->last_us, last, sizeof last);
    cg_cli_addr(inc->src, sa, sizeof sa);
    cg_cli_addr(inc->dst, da, sizeof da);
    fprintf(f,
            "{\"incident_id\":%llu,\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"count\":%llu,"
            "\"severity\":%u,\"severity_name\":\"%s\",\"status\":\"%s\",\"gid\":%u,"
            "\"signature_id\":%u,\"rev\":%u,\"signature\":",
            (unsigned long long)inc->id, first, last, (unsigned long long)inc->count, inc->severity,
            cg_severity_name(inc->severity), cg_cli_status(inc->status), inc->gid, inc->sid,
            inc->rev);
    cg_cli_json_str(f, inc->msg);
    fputs(",\"classtype\":", f);
    cg_cli_json_str(f, inc->classtype);
    fprintf(f,
            ",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":%u,"
            "\"proto\":\"%s\",\"flow_id\":%llu,\"community_id\":",
            sa, inc->sport, da, inc->dport, cg_cli_proto(inc->proto, pb, sizeof pb),
            (unsigned long long)inc->flow_id);
    cg_cli_json_str(f, inc->community_id);
    fputs(",\"assignee\":", f);
    cg_cli_json_str(f, inc->assignee);
    fprintf(f,
            ",\"rule_severity\":%u,\"severity_set\":%s,\"escalated_from\":%llu,"
            "\"alerts_stored\":%u,\"notes\":%u,\"evidence_packets\":%u,\"layers\":[",
            inc->rule_severity, (inc->flags & CG_INC_SEV_SET) ? "true" : "false",
            (unsigned long long)inc->escalated_from, inc->nalerts, inc->nnotes, inc->nevidence);
    int firstl = 1;
    for (int l = 1; l <= 4; l++)
        if (inc->layers & CG_LAYER(l)) {
            fprintf(f, firstl ? "%d" : ",%d", l);
            firstl = 0;
        }
    fputs("],\"src_geo\":", f);
    json_geo(f, &inc->src_geo);
    fputs(",\"dest_geo\":", f);
    json_geo(f, &inc->dst_geo);
    fputs(",\"geo_db_type\":", f);
    cg_cli_json_str(f, inc->geo_db_type);
    fputs(",\"geo_db_date\":", f);
    cg_cli_json_str(f, inc->geo_db_date);
    /* the first alert's context, in Suricata's objects, each when it has
     * something to say */
    fprintf(f, ",\"attack_id\":%llu,\"app_proto\":", (unsigned long long)inc->attack_id);
    cg_cli_json_str(f, inc->app_proto);
    if (!strcmp(nz(inc->app_proto), "http") || *nz(inc->http_url) || *nz(inc->http_host) ||
        *nz(inc->http_method) || *nz(inc->http_user_agent) || inc->http_status) {
        fputs(",\"http\":{\"hostname\":", f);
        cg_cli_json_str(f, inc->http_host);
        fputs(",\"url\":", f);
        cg_cli_json_str(f, inc->http_url);
        fputs(",\"http_user_agent\":", f);
        cg_cli_json_str(f, inc->http_user_agent);
        fputs(",\"http_method\":", f);
        cg_cli_json_str(f, inc->http_method);
        fprintf(f, ",\"status\":%u}", inc->http_status);
    }
    if (*nz(inc->dns_query)) {
        fputs(",\"dns\":{\"rrname\":", f);
        cg_cli_json_str(f, inc->dns_query);
        putc('}', f);
    }
    if (*nz(inc->tls_sni) || *nz(inc->tls_ja3)) {
        fputs(",\"tls\":{\"sni\":", f);
        cg_cli_json_str(f, inc->tls_sni);
        fputs(",\"ja3\":{\"hash\":", f);
        cg_cli_json_str(f, inc->tls_ja3);
        fputs("}}", f);
    }
    if (inc->payload_len) {
        fputs(",\"payload\":\"", f);
        cg_cli_base64(f, inc->payload, inc->payload_len);
        fprintf(f, "\",\"payload_match\":%u", inc->payload_match);
    }
    putc('}', f);
}

void cg_cli_csv_header(FILE *f)
{
    fputs("incident_id,first_seen,last_seen,count,severity,status,gid,signature_id,"
          "src_ip,src_port,dest_ip,dest_port,proto,classtype,signature,assignee,"
          "escalated_from,src_country,src_city,src_asn,src_as_org,src_agency,src_zone,"
          "dest_country,dest_city,dest_asn,dest_as_org,dest_agency,dest_zone,layers,"
          "geo_db_type,geo_db_date,attack_id,app_proto,http_method,http_hostname,http_url,"
          "http_user_agent,http_status,dns_rrname,tls_sni,tls_ja3,payload\n",
          f);
}

static void csv_geo(FILE *f, const cg_incident_geo *g)
{
    char asn[16];
    snprintf(asn, sizeof asn, "%u", g->asn);
    cg_cli_csv_field(f, g->country, 0);
    cg_cli_csv_field(f, g->city, 0);
    cg_cli_csv_field(f, g->asn ? asn : "", 0);
    cg_cli_csv_field(f, g->as_org, 0);
    cg_cli_csv_field(f, g->agency, 0);
    cg_cli_csv_field(f, g->zone, 0);
}

void cg_cli_incident_csv(FILE *f, const cg_incident *inc)
{
    char first[40], last[40], sa[64], da[64], pb[8], layers[16] = "";
    cg_cli_time_str(inc->first_us, first, sizeof first);
    cg_cli_time_str(inc->last_us, last, sizeof last);
    cg_cli_addr(inc->src, sa, sizeof sa);
    cg_cli_addr(inc->dst, da, sizeof da);
    fprintf(f, "%llu,%s,%s,%llu,%s,%s,%u,%u,%s,%u,%s,%u,%s,", (unsigned long long)inc->id, first,
            last, (unsigned long long)inc->count, cg_severity_name(inc->severity),
            cg_cli_status(inc->status), inc->gid, inc->sid, sa, inc->sport, da, inc->dport,
            cg_cli_proto(inc->proto, pb, sizeof pb));
    cg_cli_csv_field(f, inc->classtype, 0);
    cg_cli_csv_field(f, inc->msg, 0);
    cg_cli_csv_field(f, inc->assignee, 0);
    fprintf(f, "%llu,", (unsigned long long)inc->escalated_from);
    csv_geo(f, &inc->src_geo);
    csv_geo(f, &inc->dst_geo);
    if (inc->layers)
        cg_cli_layers(inc->layers, layers, sizeof layers);
    cg_cli_csv_field(f, layers, 0);
    cg_cli_csv_field(f, inc->geo_db_type, 0);
    cg_cli_csv_field(f, inc->geo_db_date, 0);
    /* new columns go at the end: the numbers of the others stay */
    fprintf(f, "%llu,", (unsigned long long)inc->attack_id);
    cg_cli_csv_field(f, inc->app_proto, 0);
    cg_cli_csv_field(f, inc->http_method, 0);
    cg_cli_csv_field(f, inc->http_host, 0);
    cg_cli_csv_field(f, inc->http_url, 0);
    cg_cli_csv_field(f, inc->http_user_agent, 0);
    if (inc->http_status)
        fprintf(f, "%u", inc->http_status);
    putc(',', f);
    cg_cli_csv_field(f, inc->dns_query, 0);
    cg_cli_csv_field(f, inc->tls_sni, 0);
    cg_cli_csv_field(f, inc->tls_ja3, 0);
    cg_cli_base64(f, inc->payload, inc->payload_len);
    putc('\n', f);
}
