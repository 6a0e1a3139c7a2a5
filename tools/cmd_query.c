/* cmd_query.c — `canhgac query`: incidents from the store, as a table, JSON
 * lines or CSV, newest first, paged by an id cursor. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/eve.h"
#include "analyzer/rule.h"
#include "sensor/decode.h"
#include "store/store.h"
#include "tools/cli.h"

static const char query_usage[] =
    "usage: canhgac query [options] [FILTER...]\n"
    "\n"
    "Lists incidents from the store, newest first.\n"
    "\n"
    "filters (all must hold):\n"
    "  src=ADDR[/BITS]   source address or CIDR (IPv4 or IPv6)\n"
    "  dst=ADDR[/BITS]   destination address or CIDR\n"
    "  sid=N             signature id\n"
    "  port=N            source or destination port;  sport=N, dport=N\n"
    "  sev=high|medium|low|info|1..4   this severity or higher\n"
    "  since=T, until=T  as --since/--until\n"
    "options:\n"
    "  -d, --store DIR   the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --since T     first seen at or after T: a duration back from now (90s,\n"
    "                    30m, 24h, 7d), an ISO time (2025-11-23T08:00:00), or @EPOCH\n"
    "      --until T     first seen before T\n"
    "      --json        one JSON object per line (EVE field names)\n"
    "      --csv         CSV with a header line\n"
    "  -n, --limit N     at most N incidents (default 100; 0 = all)\n"
    "      --cursor ID   the next page: incidents older than ID (printed on stderr)\n"
    "      --count       print only the number of matching incidents\n"
    "  -h, --help        this help\n"
    "\n"
    "examples:\n"
    "  canhgac query --since 24h src=10.0.0.0/8 sid=2100498\n"
    "  canhgac query dst=10.20.1.10 sev=high --json | jq .signature\n"
    "\n"
    "exit: 0 done (also when nothing matched); 2 bad filter or store cannot be opened\n";

enum { FMT_TABLE, FMT_JSON, FMT_CSV };

static const char *status_name(unsigned s)
{
    const char *n = cg_store_status_name(s);
    return n ? n : "unknown";
}

typedef struct qctx {
    int fmt;
    uint64_t shown;
    int count_only;
} qctx;

static void csv_field(const char *s, int last)
{
    int quote = strpbrk(s, ",\"\n\r") != NULL;
    if (quote) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

static int print_one(const cg_incident *inc, void *arg)
{
    qctx *q = arg;
    char first[40], last[40], sa[64], da[64];
    q->shown++;
    if (q->count_only)
        return 0;
    cg_eve_time(inc->first_us, first, sizeof first);
    cg_eve_time(inc->last_us, last, sizeof last);
    cg_addr_format(inc->src, sa, sizeof sa);
    cg_addr_format(inc->dst, da, sizeof da);
    const char *pn = cg_proto_name(inc->proto);
    char pbuf[8];
    if (!pn) {
        snprintf(pbuf, sizeof pbuf, "%u", inc->proto);
        pn = pbuf;
    }
    if (q->fmt == FMT_JSON) {
        char buf[8192];
        size_t pos = 0;
        cg_json_raw(buf, sizeof buf, &pos,
                    "{\"incident_id\":%llu,\"first_seen\":\"%s\",\"last_seen\":\"%s\","
                    "\"count\":%llu,\"severity\":%u,\"severity_name\":\"%s\",\"status\":\"%s\","
                    "\"gid\":%u,\"signature_id\":%u,\"rev\":%u,\"signature\":",
                    (unsigned long long)inc->id, first, last, (unsigned long long)inc->count,
                    inc->severity, cg_severity_name(inc->severity), status_name(inc->status),
                    inc->gid, inc->sid, inc->rev);
        cg_json_str(buf, sizeof buf, &pos, inc->msg);
        cg_json_raw(buf, sizeof buf, &pos, ",\"classtype\":");
        cg_json_str(buf, sizeof buf, &pos, inc->classtype);
        cg_json_raw(buf, sizeof buf, &pos,
                    ",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":%u,"
                    "\"proto\":\"%s\",\"flow_id\":%llu,\"community_id\":",
                    sa, inc->sport, da, inc->dport, pn, (unsigned long long)inc->flow_id);
        cg_json_str(buf, sizeof buf, &pos, inc->community_id);
        cg_json_raw(buf, sizeof buf, &pos, ",\"assignee\":");
        cg_json_str(buf, sizeof buf, &pos, inc->assignee);
        cg_json_raw(buf, sizeof buf, &pos,
                    ",\"rule_severity\":%u,\"escalated_from\":%llu,\"alerts_stored\":%u,"
                    "\"notes\":%u,\"evidence_packets\":%u,\"layers\":[",
                    inc->rule_severity, (unsigned long long)inc->escalated_from, inc->nalerts,
                    inc->nnotes, inc->nevidence);
        int firstl = 1;
        for (int l = 1; l <= 4; l++)
            if (inc->layers & CG_LAYER(l)) {
                cg_json_raw(buf, sizeof buf, &pos, firstl ? "%d" : ",%d", l);
                firstl = 0;
            }
        cg_json_raw(buf, sizeof buf, &pos, "]}\n");
        if (pos < sizeof buf)
            fputs(buf, stdout);
    } else if (q->fmt == FMT_CSV) {
        printf("%llu,%s,%s,%llu,%s,%s,%u,%u,", (unsigned long long)inc->id, first, last,
               (unsigned long long)inc->count, cg_severity_name(inc->severity),
               status_name(inc->status), inc->gid, inc->sid);
        printf("%s,%u,%s,%u,%s,", sa, inc->sport, da, inc->dport, pn);
        csv_field(inc->classtype, 0);
        csv_field(inc->msg, 1);
    } else {
        char t[20];
        snprintf(t, sizeof t, "%.19s", first);
        t[10] = ' ';
        printf("%-8llu %-19s %6llu %-6s %-9u %-39s %-39s %5u %-5s %s\n",
               (unsigned long long)inc->id, t, (unsigned long long)inc->count,
               cg_severity_name(inc->severity), inc->sid, sa, da, inc->dport, pn, inc->msg);
    }
    return 0;
}

static int parse_filter(const char *arg, cg_query *q, uint64_t now)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return -1;
    size_t kl = (size_t)(eq - arg);
    const char *v = eq + 1;
    char *end;
#define KEY(k) (kl == strlen(k) && !strncmp(arg, k, kl))
    if (KEY("src")) {
        if (cg_cli_cidr(v, q->src_lo, q->src_hi)) return -1;
        q->has |= CG_Q_SRC;
    } else if (KEY("dst")) {
        if (cg_cli_cidr(v, q->dst_lo, q->dst_hi)) return -1;
        q->has |= CG_Q_DST;
    } else if (KEY("sid")) {
        unsigned long n = strtoul(v, &end, 10);
        if (end == v || *end || n > UINT32_MAX) return -1;
        q->sid = (uint32_t)n;
        q->has |= CG_Q_SID;
    } else if (KEY("port") || KEY("sport") || KEY("dport")) {
        unsigned long n = strtoul(v, &end, 10);
        if (end == v || *end || n > 65535) return -1;
        if (KEY("port")) { q->port = (uint16_t)n; q->has |= CG_Q_PORT; }
        else if (KEY("sport")) { q->sport = (uint16_t)n; q->has |= CG_Q_SPORT; }
        else { q->dport = (uint16_t)n; q->has |= CG_Q_DPORT; }
    } else if (KEY("sev") || KEY("severity")) {
        static const char *const names[] = {"high", "medium", "low", "info"};
        int s = 0;
        for (int i = 0; i < 4; i++)
            if (!strcmp(v, names[i]))
                s = i + 1;
        if (!s && v[0] >= '1' && v[0] <= '4' && !v[1])
            s = v[0] - '0';
        if (!s) return -1;
        q->sev_max = (uint8_t)s;
        q->has |= CG_Q_SEV;
    } else if (KEY("since")) {
        if (cg_cli_time(v, now, &q->since_us)) return -1;
        q->has |= CG_Q_SINCE;
    } else if (KEY("until")) {
        if (cg_cli_time(v, now, &q->until_us)) return -1;
        q->has |= CG_Q_UNTIL;
    } else {
        return -2;
    }
#undef KEY
    return 0;
}

int cg_cmd_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"store", required_argument, 0, 'd'}, {"since", required_argument, 0, 's'},
        {"until", required_argument, 0, 'u'}, {"json", no_argument, 0, 'j'},
        {"csv", no_argument, 0, 'c'},         {"limit", required_argument, 0, 'n'},
        {"cursor", required_argument, 0, 'C'}, {"count", no_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *store_dir = cg_cli_default_store();
    cg_query q;
    memset(&q, 0, sizeof q);
    qctx qc = {.fmt = FMT_TABLE};
    uint64_t limit = 100, cursor = 0, now = cg_cli_now_us();
    char *end;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': store_dir = optarg; break;
        case 's':
            if (cg_cli_time(optarg, now, &q.since_us)) goto badtime;
            q.has |= CG_Q_SINCE;
            break;
        case 'u':
            if (cg_cli_time(optarg, now, &q.until_us)) goto badtime;
            q.has |= CG_Q_UNTIL;
            break;
        case 'j': qc.fmt = FMT_JSON; break;
        case 'c': qc.fmt = FMT_CSV; break;
        case 'k': qc.count_only = 1; break;
        case 'n':
            limit = strtoull(optarg, &end, 10);
            if (end == optarg || *end) {
                fprintf(stderr, "canhgac query: --limit: not a number: %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'C':
            cursor = strtoull(optarg, &end, 10);
            if (end == optarg || *end || cursor == 0) {
                fprintf(stderr, "canhgac query: --cursor: not an incident id: %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'h': fputs(query_usage, stdout); return CG_EXIT_OK;
        default: fputs(query_usage, stderr); return CG_EXIT_INPUT;
        }
        continue;
    badtime:
        fprintf(stderr, "canhgac query: not a time: %s (use 24h, 7d, 2025-11-23T08:00:00 "
                "or @EPOCH)\n", optarg);
        return CG_EXIT_INPUT;
    }
    for (int i = optind; i < argc; i++) {
        int r = parse_filter(argv[i], &q, now);
        if (r == -2) {
            fprintf(stderr, "canhgac query: unknown filter field in '%s' (fields: src, dst, "
                    "sid, port, sport, dport, sev, since, until)\n", argv[i]);
            return CG_EXIT_INPUT;
        }
        if (r) {
            fprintf(stderr, "canhgac query: bad filter '%s'\n", argv[i]);
            return CG_EXIT_INPUT;
        }
    }
    if (qc.count_only)
        limit = 0;

    cg_store *st = NULL;
    int rc = cg_store_open(&st, store_dir, CG_STORE_RDONLY, 0);
    if (rc) {
        fprintf(stderr, "canhgac query: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    if (qc.fmt == FMT_CSV && !qc.count_only)
        printf("incident_id,first_seen,last_seen,count,severity,status,gid,signature_id,"
               "src_ip,src_port,dest_ip,dest_port,proto,classtype,signature\n");
    else if (qc.fmt == FMT_TABLE && !qc.count_only)
        printf("%-8s %-19s %6s %-6s %-9s %-39s %-39s %5s %-5s %s\n", "ID", "FIRST SEEN (UTC)",
               "COUNT", "SEV", "SID", "SOURCE", "DESTINATION", "DPORT", "PROTO", "SIGNATURE");
    if (qc.count_only && cursor == 0)
        rc = cg_store_count(st, &q, &qc.shown);   /* from the indexes when it can */
    else
        rc = cg_store_query(st, &q, limit, &cursor, print_one, &qc);
    if (rc) {
        fprintf(stderr, "canhgac query: %s\n", cg_store_error(st));
        cg_store_close(st);
        return CG_EXIT_FAIL;
    }
    if (qc.count_only)
        printf("%llu\n", (unsigned long long)qc.shown);
    else if (cursor && qc.shown == limit && limit)
        fprintf(stderr, "canhgac query: %llu shown; next page: --cursor %llu\n",
                (unsigned long long)qc.shown, (unsigned long long)cursor);
    cg_store_close(st);
    return CG_EXIT_OK;
}
