/* cmd_incident.c — `canhgac incident`: one incident in full, and its triage.
 *
 *   incident show ID        everything: fields, enrichment, evidence packets
 *                           (sizes), alerts, history in order; text or --json
 *   incident set ID K=V...  status=, assignee=, severity= (a triage change)
 *   incident note ID TEXT   a note in the incident's history
 *   incident pcap ID... -o FILE   the incidents' evidence packets as one
 *                           pcapng file (store/pcapng_export.h)
 *
 * show reads a snapshot (CG_STORE_RDONLY); set and note open the store for
 * triage (CG_STORE_TRIAGE), which works while `canhgac run` writes: each
 * change is one short transaction of its own, and the store keeps every
 * change in the incident's append-only history with who made it and when.
 * Who is --as NAME, else the login name of the effective user. pcap reads a
 * snapshot too, and writes FILE whole or not at all.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "analyzer/output/enrich.h"
#include "analyzer/lang/rule.h"
#include "analyzer/output/utf8.h"
#include "store/pcapng_export.h"
#include "store/qlang.h"
#include "store/store.h"
#include "tools/cli.h"

static const char incident_usage[] =
    "usage: canhgac incident show [options] ID\n"
    "       canhgac incident set [options] ID FIELD=VALUE...\n"
    "       canhgac incident note [options] ID TEXT...\n"
    "       canhgac incident pcap [options] ID... -o FILE\n"
    "\n"
    "show   the incident in full: its fields, the enrichment of its source and\n"
    "       destination, the request behind its first alert (HTTP request, DNS\n"
    "       query, TLS server name and JA3) and the payload around the match (hex\n"
    "       and text, the match marked), its evidence packets (sizes), its alerts,\n"
    "       its history, and the other incidents of its attack (same source and\n"
    "       destination, close in time)\n"
    "set    triage: status=new|acknowledged|investigating|resolved|false-positive\n"
    "       (ack and fp for short), assignee=NAME (assignee= for nobody),\n"
    "       severity=high|medium|low|info|1..4 (severity=rule: back to the rule's)\n"
    "note   adds TEXT (the words joined with spaces; - reads it from stdin) to the\n"
    "       incident's history; its options go before the ID, all after is the text\n"
    "pcap   writes the evidence packets of the incidents into one pcapng file, in\n"
    "       time order, one interface per link type, each packet with a comment\n"
    "       naming its incident, signature and evidence number; tcpdump -r and\n"
    "       Wireshark read it (tcpdump only a file of one link type). Every ID must\n"
    "       have evidence packets; FILE is written whole or not at all\n"
    "\n"
    "Every change is kept in the incident's history, in order, with who made it\n"
    "and when; nothing rewrites it. set and note work while `canhgac run` writes.\n"
    "\n"
    "options:\n"
    "  -d, --store DIR   the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --as NAME     who makes the change (default: the login name)\n"
    "      --json        show: one JSON object {incident, evidence, alerts, history,\n"
    "                    related}\n"
    "      --alerts N    show: the first N alerts (default 20)\n"
    "      --alerts-all  show: every stored alert\n"
    "  -o, --output FILE pcap: the pcapng file to write (replaced if it exists)\n"
    "  -h, --help        this help\n"
    "\n"
    "examples:\n"
    "  canhgac incident show 42\n"
    "  canhgac incident set 42 status=investigating assignee=lan --as lan\n"
    "  canhgac incident set 42 severity=high\n"
    "  canhgac incident note 42 \"blocked 89.160.20.112 at the firewall\"\n"
    "  canhgac incident show 42 --json | jq '.history[] | .who'\n"
    "  canhgac incident pcap 42 -o 42.pcapng && tcpdump -r 42.pcapng -n\n"
    "  canhgac incident pcap 42 43 57 -o case-7.pcapng\n"
    "\n"
    "exit: 0 done; 1 the store failed (disk, full), or pcap: an incident has no\n"
    "evidence packets, or FILE cannot be written; 2 bad input (usage, a bad\n"
    "status or severity, no such incident, store cannot be opened)\n";

typedef struct opts {
    const char *store_dir;
    const char *who;
    int json;
    uint32_t alerts_max; /* 0: every one */
    const char *output;  /* pcap: -o FILE */
    FILE *out;           /* show: where it prints (stdout; the console: a buffer) */
} opts;

static int parse_id(const char *s, uint64_t *out)
{
    char *end;
    if (!s || s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v == 0)
        return -1;
    *out = v;
    return 0;
}

/* The store's error for incident id: "not found" is bad input (2). */
static int store_fail(cg_store *st, int rc, uint64_t id)
{
    if (rc == CG_ENOTFOUND) {
        fprintf(stderr, "canhgac incident: incident %llu: not found\n", (unsigned long long)id);
        return CG_EXIT_INPUT;
    }
    fprintf(stderr, "canhgac incident: %s\n", cg_store_error(st));
    return rc == CG_EINVAL ? CG_EXIT_INPUT : CG_EXIT_FAIL;
}

/* ---- show ------------------------------------------------------------------ */

/* A list being printed (evidence, alerts, history). */
typedef struct shown {
    const opts *o;
    int n; /* items printed so far */
} shown;

static const char *hist_field(unsigned kind)
{
    switch (kind) {
    case CG_HIST_STATUS: return "status";
    case CG_HIST_ASSIGNEE: return "assignee";
    case CG_HIST_SEVERITY: return "severity";
    case CG_HIST_NOTE: return "note";
    case CG_HIST_ESCALATE: return "layers";
    case CG_HIST_SHARE: return "shared";
    default: return "unknown";
    }
}

static void geo_text(const char *label, const uint8_t addr[16], uint16_t port,
                     const cg_incident_geo *g)
{
    char a[64];
    cg_cli_addr(addr, a, sizeof a);
    printf("  %-14s %s%s%u", label, a, strchr(a, ':') ? " port " : ":", port);
    const char *sep = "   ";
    if (g->country[0]) {
        printf("%s%s", sep, g->country);
        if (g->city[0])
            printf(" %s", g->city);
        sep = ", ";
    }
    if (g->asn) {
        printf("%sAS%u", sep, g->asn);
        if (g->as_org[0])
            printf(" %s", g->as_org);
        sep = ", ";
    }
    if (g->agency[0] || g->zone[0])
        printf("%sagency %s, zone %s", sep, g->agency[0] ? g->agency : "-",
               g->zone[0] ? g->zone : "-");
    putchar('\n');
}

/* Text from the wire, printed for a terminal: control bytes and bytes that
 * are not UTF-8 as \xNN, at most max bytes of it ("..." after). */
static void print_wire(const char *s, size_t max)
{
    const unsigned char *c = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    while (i < len && i < max) {
        size_t n = c[i] >= 0x20 && c[i] != 0x7f ? cg_utf8_seq(c + i, len - i) : 0;
        if (n == 0) {
            printf("\\x%02x", c[i]);
            i++;
        } else {
            fwrite(c + i, 1, n, stdout);
            i += n;
        }
    }
    if (i < len)
        fputs("...", stdout);
}

static void wire_line(const char *label, const char *s)
{
    if (!s || !s[0])
        return;
    printf("  %-14s ", label);
    print_wire(s, 2048);
    putchar('\n');
}

/* The payload excerpt as hex and ASCII, 16 bytes a row; a line of ^ under
 * the row where the match starts marks its byte in both columns. */
static void payload_dump(const uint8_t *p, uint32_t len, uint32_t match)
{
    printf("\npayload excerpt (%u bytes; the match starts at byte %u, marked ^):\n", len, match);
    for (uint32_t row = 0; row < len; row += 16) {
        printf("  %04x  ", row);
        for (uint32_t i = row; i < row + 16; i++) {
            if (i < len)
                printf("%02x ", p[i]);
            else
                fputs("   ", stdout);
            if (i == row + 7)
                putchar(' ');
        }
        putchar(' ');
        for (uint32_t i = row; i < row + 16 && i < len; i++)
            putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
        putchar('\n');
        if (match >= row && match < row + 16 && match < len) {
            uint32_t col = match - row;
            printf("        %*s^^%*s^\n", (int)(col * 3 + (col > 7)), "",
                   (int)((16 - col) * 3 - 2 + (col <= 7) + 1 + col), "");
        }
    }
}

/* The context of the first alert (incident show, text). */
static void show_context(const cg_incident *inc)
{
    char req[64];
    if (inc->attack_id)
        printf("  %-14s %llu\n", "attack", (unsigned long long)inc->attack_id);
    else /* a store of schema 2, read as it is */
        printf("  %-14s - (a store of schema 2: canhgac run, incident set or note\n"
               "  %-14s migrates it and gives its incidents their attacks)\n",
               "attack", "");
    wire_line("app proto", inc->app_proto);
    if (inc->http_method[0] || inc->http_host[0] || inc->http_url[0]) {
        snprintf(req, sizeof req, "%s", inc->http_method[0] ? inc->http_method : "-");
        printf("  %-14s ", "request");
        print_wire(req, sizeof req);
        putchar(' ');
        print_wire(inc->http_host, 1024);
        print_wire(inc->http_url, 4096);
        putchar('\n');
    }
    wire_line("user agent", inc->http_user_agent);
    if (inc->http_status)
        printf("  %-14s %u\n", "http status", inc->http_status);
    wire_line("dns query", inc->dns_query);
    wire_line("tls sni", inc->tls_sni);
    wire_line("tls ja3", inc->tls_ja3);
    if (inc->payload_len)
        payload_dump(inc->payload, inc->payload_len, inc->payload_match);
}

/* ---- related incidents (those of the same attack) ------------------------------- */

#define RELATED_MAX 50

typedef struct related {
    const opts *o;
    uint64_t self;
    int n;
} related;

static int take_attack(const cg_incident *inc, void *arg)
{
    *(uint64_t *)arg = inc->attack_id;
    return 0;
}

static int show_related(const cg_incident *inc, void *arg)
{
    related *r = arg;
    FILE *of = r->o->out;
    char t[40];
    if (inc->id == r->self)
        return 0;
    cg_cli_time_str(inc->first_us, t, sizeof t);
    if (r->o->json) {
        fprintf(of, "%s{\"incident_id\":%llu,\"signature_id\":%u,\"signature\":", r->n ? "," : "",
                (unsigned long long)inc->id, inc->sid);
        cg_cli_json_str(of, inc->msg);
        fprintf(of, ",\"first_seen\":\"%s\",\"count\":%llu}", t, (unsigned long long)inc->count);
    } else {
        fprintf(of, "  %-8llu %-9u %s  %6llu  %s\n", (unsigned long long)inc->id, inc->sid, t,
                (unsigned long long)inc->count, inc->msg);
    }
    return ++r->n >= RELATED_MAX;
}

/* The other incidents of incident id's attack, newest first (at most
 * RELATED_MAX); in JSON the "related" member. */
static int show_attack(cg_store *st, const opts *o, uint64_t id)
{
    FILE *of = o->out;
    related r = { o, id, 0 };
    uint64_t attack = 0, total = 0;
    cg_query q;
    int rc;
    if ((rc = cg_store_get(st, id, take_attack, &attack)) != 0)
        return rc;
    memset(&q, 0, sizeof q);
    q.has = CG_Q_ATTACK;
    q.attack = attack;
    if (o->json)
        fprintf(of, ",\"related\":[");
    else if (attack)
        fprintf(of, "\nrelated incidents (attack %llu):\n", (unsigned long long)attack);
    else
        fprintf(of, "\nrelated incidents: not known before the store is migrated\n");
    if (attack && (rc = cg_store_query(st, &q, RELATED_MAX + 1, NULL, show_related, &r)) != 0)
        return rc;
    if (attack && (rc = cg_store_count(st, &q, &total)) != 0)
        return rc;
    if (o->json)
        putc(']', of);
    else if (r.n == 0 && attack)
        fprintf(of, "  (none)\n");
    else if (total > (uint64_t)r.n + 1)
        fprintf(of, "  ... and %llu more: canhgac query attack = %llu\n",
                (unsigned long long)(total - 1 - (uint64_t)r.n), (unsigned long long)attack);
    return 0;
}

static int show_incident(const cg_incident *inc, void *arg)
{
    const opts *o = arg;
    FILE *of = o->out; /* the text form also prints to stdout (geo_text, show_context) */
    char t[40], pb[8];
    if (o->json) {
        fputs("{\"incident\":", of);
        cg_cli_incident_json(of, inc);
        return 0;
    }
    fprintf(of, "incident %llu: %s\n", (unsigned long long)inc->id, inc->msg);
    fprintf(of, "  %-14s %s\n", "status", cg_cli_status(inc->status));
    fprintf(of, "  %-14s %s", "severity", cg_severity_name(inc->severity));
    if (inc->flags & CG_INC_SEV_SET)
        fprintf(of, " (set by triage; the rule says %s)", cg_severity_name(inc->rule_severity));
    putc('\n', of);
    fprintf(of, "  %-14s %s\n", "assignee", inc->assignee[0] ? inc->assignee : "-");
    fprintf(of, "  %-14s %u:%u rev %u\n", "signature", inc->gid, inc->sid, inc->rev);
    fprintf(of, "  %-14s %s\n", "classtype", inc->classtype[0] ? inc->classtype : "-");
    cg_cli_time_str(inc->first_us, t, sizeof t);
    fprintf(of, "  %-14s %s\n", "first seen", t);
    cg_cli_time_str(inc->last_us, t, sizeof t);
    fprintf(of, "  %-14s %s\n", "last seen", t);
    fprintf(of, "  %-14s %llu alerts (%u stored)\n", "count", (unsigned long long)inc->count,
            inc->nalerts);
    geo_text("source", inc->src, inc->sport, &inc->src_geo);
    geo_text("destination", inc->dst, inc->dport, &inc->dst_geo);
    fprintf(of, "  %-14s %s, flow %llu, community_id %s\n", "flow",
            cg_cli_proto(inc->proto, pb, sizeof pb), (unsigned long long)inc->flow_id,
            inc->community_id[0] ? inc->community_id : "-");
    fprintf(of, "  %-14s", "layers");
    int any = 0;
    for (int l = 1; l <= 4; l++)
        if (inc->layers & CG_LAYER(l)) {
            fprintf(of, "%s%d", any ? ", " : " ", l);
            any = 1;
        }
    fprintf(of, "%s\n", any ? "" : " -");
    if (inc->escalated_from)
        fprintf(of, "  %-14s incident %llu\n", "escalates",
                (unsigned long long)inc->escalated_from);
    if (inc->geo_db_type[0]) {
        /* "City,ASN" and their dates, in the same order */
        char types[256], dates[128], *ts, *ds, *tp, *dp;
        snprintf(types, sizeof types, "%s", inc->geo_db_type);
        snprintf(dates, sizeof dates, "%s", inc->geo_db_date);
        fprintf(of, "  %-14s", "geoip");
        tp = strtok_r(types, ",", &ts);
        dp = strtok_r(dates, ",", &ds);
        for (int i = 0; tp; i++) {
            fprintf(of, "%s%s built %s", i ? ", " : " ", tp, dp ? dp : "?");
            tp = strtok_r(NULL, ",", &ts);
            dp = strtok_r(NULL, ",", &ds);
        }
        putc('\n', of);
        const char *notice = cg_enrich_attribution(inc->geo_db_type); /* the license's */
        if (notice)
            fprintf(of, "  %-14s %s\n", "", notice);
    }
    show_context(inc);
    return 0;
}

static int show_evidence(uint32_t seq, const cg_evidence *ev, void *arg)
{
    shown *s = arg;
    FILE *of = s->o->out;
    char t[40];
    cg_cli_time_str(ev->ts_us, t, sizeof t);
    if (s->o->json)
        fprintf(of,
                "%s{\"seq\":%u,\"timestamp\":\"%s\",\"caplen\":%u,\"wirelen\":%u,\"linktype\":%d}",
                s->n ? "," : "", seq, t, ev->caplen, ev->wirelen, ev->dlt);
    else
        fprintf(of, "  #%-3u %s  %u bytes (%u on the wire), linktype %d\n", seq, t, ev->caplen,
                ev->wirelen, ev->dlt);
    s->n++;
    return 0;
}

static int show_alert(uint32_t seq, const cg_alert *a, void *arg)
{
    shown *s = arg;
    FILE *of = s->o->out;
    char t[40];
    if (s->o->alerts_max && (uint32_t)s->n >= s->o->alerts_max)
        return 1;
    cg_cli_time_str(a->ts_us, t, sizeof t);
    if (s->o->json) {
        fprintf(of, "%s{\"seq\":%u,\"timestamp\":\"%s\",\"flow_id\":%llu,\"community_id\":",
                s->n ? "," : "", seq, t, (unsigned long long)a->flow_id);
        cg_cli_json_str(of, a->community_id);
        fprintf(of, ",\"src_port\":%u,\"dest_port\":%u,\"severity\":%u,\"evidence\":%d}", a->sport,
                a->dport, a->severity, a->evidence_seq);
    } else {
        fprintf(of, "  #%-3u %s  port %u -> %u, severity %s, flow %llu", seq, t, a->sport, a->dport,
                cg_severity_name(a->severity), (unsigned long long)a->flow_id);
        if (a->evidence_seq >= 0)
            fprintf(of, ", evidence #%d", a->evidence_seq);
        putc('\n', of);
    }
    s->n++;
    return 0;
}

static void hist_value(const cg_history *h, int new_side, char *out, size_t len)
{
    uint32_t num = new_side ? h->new_num : h->old_num;
    const char *text = new_side ? h->new_text : h->old_text;
    switch (h->kind) {
    case CG_HIST_STATUS: snprintf(out, len, "%s", cg_cli_status(num)); break;
    case CG_HIST_SEVERITY:
        snprintf(out, len, "%s%s", cg_severity_name(num), text[0] ? "" : " (the rule's)");
        break;
    case CG_HIST_ESCALATE: cg_cli_layers(num, out, len); break;
    default: snprintf(out, len, "%s", text[0] ? text : "-"); break;
    }
}

static int show_history(const cg_history *h, void *arg)
{
    shown *s = arg;
    FILE *of = s->o->out;
    char t[40], a[300], b[300];
    cg_cli_time_str(h->when_us, t, sizeof t);
    if (s->o->json) {
        fprintf(of, "%s{\"seq\":%llu,\"when\":\"%s\",\"who\":", s->n ? "," : "",
                (unsigned long long)h->seq, t);
        cg_cli_json_str(of, h->who);
        fprintf(of, ",\"field\":\"%s\"", hist_field(h->kind));
        if (h->kind == CG_HIST_NOTE || h->kind == CG_HIST_SHARE) {
            fputs(",\"text\":", of);
            cg_cli_json_str(of, h->new_text);
        } else {
            /* the values as the fields have them ("" = nobody) */
            if (h->kind == CG_HIST_STATUS) {
                snprintf(a, sizeof a, "%s", cg_cli_status(h->old_num));
                snprintf(b, sizeof b, "%s", cg_cli_status(h->new_num));
            } else if (h->kind == CG_HIST_SEVERITY) {
                snprintf(a, sizeof a, "%s", cg_severity_name(h->old_num));
                snprintf(b, sizeof b, "%s", cg_severity_name(h->new_num));
            } else if (h->kind == CG_HIST_ESCALATE) {
                cg_cli_layers(h->old_num, a, sizeof a);
                cg_cli_layers(h->new_num, b, sizeof b);
            } else {
                snprintf(a, sizeof a, "%s", h->old_text);
                snprintf(b, sizeof b, "%s", h->new_text);
            }
            fputs(",\"old\":", of);
            cg_cli_json_str(of, a);
            fputs(",\"new\":", of);
            cg_cli_json_str(of, b);
            if (h->kind == CG_HIST_SEVERITY)
                fprintf(of, ",\"old_set\":%s,\"new_set\":%s", h->old_text[0] ? "true" : "false",
                        h->new_text[0] ? "true" : "false");
            if (h->kind == CG_HIST_ESCALATE) {
                fputs(",\"why\":", of);
                cg_cli_json_str(of, h->new_text);
            }
        }
        putc('}', of);
    } else if (h->kind == CG_HIST_NOTE) {
        fprintf(of, "  %s  %-12s note: %s\n", t, h->who, h->new_text);
    } else if (h->kind == CG_HIST_SHARE) {
        fprintf(of, "  %s  %-12s %s\n", t, h->who, h->new_text); /* "shared in bundle--..." */
    } else {
        hist_value(h, 0, a, sizeof a);
        hist_value(h, 1, b, sizeof b);
        fprintf(of, "  %s  %-12s %s: %s -> %s", t, h->who, hist_field(h->kind), a, b);
        if (h->kind == CG_HIST_ESCALATE)
            fprintf(of, " (%s)", h->new_text);
        putc('\n', of);
    }
    s->n++;
    return 0;
}

/* Incident id in full on o->out: the store's codes (CG_ENOTFOUND ...); in
 * JSON a partial object may be written before a failure. */
static int show_body(cg_store *st, const opts *o, uint64_t id)
{
    FILE *of = o->out;
    int rc;
    if ((rc = cg_store_get(st, id, show_incident, (void *)o)) != 0)
        return rc;
    shown s = { o, 0 };
    if (o->json)
        fputs(",\"evidence\":[", of);
    else
        fprintf(of, "\nevidence packets:\n");
    if ((rc = cg_store_evidence(st, id, show_evidence, &s)) != 0)
        return rc;
    if (!o->json && s.n == 0)
        fprintf(of, "  (none)\n");
    s.n = 0;
    if (o->json)
        fputs("],\"alerts\":[", of);
    else if (o->alerts_max)
        fprintf(of, "\nalerts (the first %u; --alerts-all for every one):\n", o->alerts_max);
    else
        fprintf(of, "\nalerts:\n");
    if ((rc = cg_store_alerts(st, id, show_alert, &s)) != 0)
        return rc;
    if (!o->json && s.n == 0)
        fprintf(of, "  (none stored)\n");
    s.n = 0;
    if (o->json)
        fputs("],\"history\":[", of);
    else
        fprintf(of, "\nhistory:\n");
    if ((rc = cg_store_history(st, id, show_history, &s)) != 0)
        return rc;
    if (o->json)
        putc(']', of);
    else if (s.n == 0)
        fprintf(of, "  (no triage yet)\n");
    if ((rc = show_attack(st, o, id)) != 0)
        return rc;
    if (o->json)
        fputs("}\n", of);
    return 0;
}

int cg_cli_incident_show_json(cg_store *st, uint64_t id, FILE *f)
{
    opts o = { NULL, NULL, 1, 20, NULL, f };
    return show_body(st, &o, id);
}

static int cmd_show(const opts *o, uint64_t id)
{
    cg_store *st = NULL;
    int rc, ret = CG_EXIT_OK;
    if (cg_store_open(&st, o->store_dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac incident: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    if ((rc = show_body(st, o, id)) != 0) {
        fflush(stdout);
        ret = store_fail(st, rc, id);
    }
    cg_store_close(st);
    if (fflush(stdout) != 0 && ret == CG_EXIT_OK) {
        fprintf(stderr, "canhgac incident: writing the output: %m\n");
        ret = CG_EXIT_FAIL;
    }
    return ret;
}

/* ---- set and note ------------------------------------------------------------ */

static int take_incident(const cg_incident *inc, void *arg)
{
    cg_incident *out = arg;
    *out = *inc;
    out->assignee = NULL; /* a view: gone when the callback returns */
    return 0;
}

static int take_assignee(const cg_incident *inc, void *arg)
{
    snprintf(arg, CG_STORE_TEXT_MAX + 1, "%s", inc->assignee);
    return 0;
}

static int cmd_set(const opts *o, uint64_t id, int nargs, char **args)
{
    unsigned mask = 0;
    uint8_t status = 0, severity = 0;
    const char *assignee = NULL;
    cg_store *st = NULL;
    cg_incident before, after;
    char old_as[CG_STORE_TEXT_MAX + 1] = "", new_as[CG_STORE_TEXT_MAX + 1] = "";
    int rc;

    if (nargs == 0) {
        fprintf(stderr,
                "canhgac incident: set %llu: nothing to set (status=, assignee=, "
                "severity=)\n",
                (unsigned long long)id);
        return CG_EXIT_INPUT;
    }
    for (int i = 0; i < nargs; i++) {
        const char *a = args[i], *eq = strchr(a, '=');
        size_t kl = eq ? (size_t)(eq - a) : 0;
        const char *v = eq ? eq + 1 : "";
#define KEY(k) (kl == strlen(k) && !strncasecmp(a, k, kl))
        if (!eq) {
            fprintf(stderr, "canhgac incident: set: '%s' is not FIELD=VALUE\n", a);
            return CG_EXIT_INPUT;
        } else if (KEY("status")) {
            if (cg_qlang_status(v, &status)) {
                fprintf(stderr,
                        "canhgac incident: set: bad status '%s' (new, acknowledged, "
                        "investigating, resolved, false-positive)\n",
                        v);
                return CG_EXIT_INPUT;
            }
            mask |= CG_TRIAGE_STATUS;
        } else if (KEY("assignee")) {
            if (strlen(v) > CG_STORE_TEXT_MAX) {
                fprintf(stderr, "canhgac incident: set: assignee longer than %d bytes\n",
                        CG_STORE_TEXT_MAX);
                return CG_EXIT_INPUT;
            }
            assignee = v;
            mask |= CG_TRIAGE_ASSIGNEE;
        } else if (KEY("severity") || KEY("sev")) {
            if (!strcasecmp(v, "rule") || !strcmp(v, "0")) {
                severity = 0;
            } else if (cg_qlang_severity(v, &severity)) {
                fprintf(stderr,
                        "canhgac incident: set: bad severity '%s' (high, medium, low, "
                        "info, 1..4, or rule for the rule's)\n",
                        v);
                return CG_EXIT_INPUT;
            }
            mask |= CG_TRIAGE_SEVERITY;
        } else {
            fprintf(stderr,
                    "canhgac incident: set: unknown field '%.*s' (status, assignee, "
                    "severity)\n",
                    (int)kl, a);
            return CG_EXIT_INPUT;
        }
#undef KEY
    }
    if (cg_store_open(&st, o->store_dir, CG_STORE_TRIAGE, 0)) {
        fprintf(stderr, "canhgac incident: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    cg_cli_migrated_notice("canhgac incident", o->store_dir, st);
    if ((rc = cg_store_get(st, id, take_incident, &before)) != 0 ||
        (rc = cg_store_get(st, id, take_assignee, old_as)) != 0)
        goto fail;
    rc = cg_store_triage_set(st, id, mask, status, assignee, severity, o->who, cg_cli_now_us());
    if (rc)
        goto fail;
    if ((rc = cg_store_get(st, id, take_incident, &after)) != 0 ||
        (rc = cg_store_get(st, id, take_assignee, new_as)) != 0)
        goto fail;
    printf("incident %llu:", (unsigned long long)id);
    if (mask & CG_TRIAGE_STATUS)
        printf(" status %s -> %s;", cg_cli_status(before.status), cg_cli_status(after.status));
    if (mask & CG_TRIAGE_ASSIGNEE)
        printf(" assignee %s -> %s;", old_as[0] ? old_as : "-", new_as[0] ? new_as : "-");
    if (mask & CG_TRIAGE_SEVERITY)
        printf(" severity %s -> %s%s;", cg_severity_name(before.severity),
               cg_severity_name(after.severity),
               (after.flags & CG_INC_SEV_SET) ? "" : " (the rule's)");
    printf(" by %s\n", o->who);
    cg_store_close(st);
    return CG_EXIT_OK;
fail : {
    int ret = store_fail(st, rc, id);
    cg_store_close(st);
    return ret;
}
}

static int cmd_note(const opts *o, uint64_t id, int nargs, char **args)
{
    char *text = NULL;
    size_t len = 0;
    cg_store *st = NULL;
    int rc, ret;

    if (nargs == 1 && !strcmp(args[0], "-")) {
        size_t cap = 65535;
        if (!(text = malloc(cap + 1)))
            goto nomem;
        len = fread(text, 1, cap, stdin);
        if (len == cap && fgetc(stdin) != EOF) {
            fprintf(stderr, "canhgac incident: note: longer than 65534 bytes\n");
            free(text);
            return CG_EXIT_INPUT;
        }
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
        text[len] = '\0';
    } else {
        for (int i = 0; i < nargs; i++)
            len += strlen(args[i]) + 1;
        if (!(text = calloc(1, len + 1)))
            goto nomem;
        for (int i = 0; i < nargs; i++) {
            if (i)
                strcat(text, " ");
            strcat(text, args[i]);
        }
        len = strlen(text);
    }
    if (len == 0 || len > 65534 || memchr(text, '\0', len)) {
        fprintf(stderr, "canhgac incident: note: the text must be 1 to 65534 bytes%s\n",
                memchr(text, '\0', len) ? " without NUL" : "");
        free(text);
        return CG_EXIT_INPUT;
    }
    if (cg_store_open(&st, o->store_dir, CG_STORE_TRIAGE, 0)) {
        fprintf(stderr, "canhgac incident: %s\n", cg_store_error(NULL));
        free(text);
        return CG_EXIT_INPUT;
    }
    cg_cli_migrated_notice("canhgac incident", o->store_dir, st);
    rc = cg_store_note_add(st, id, o->who, cg_cli_now_us(), text);
    if (rc) {
        ret = store_fail(st, rc, id);
    } else {
        printf("incident %llu: note added by %s\n", (unsigned long long)id, o->who);
        ret = CG_EXIT_OK;
    }
    cg_store_close(st);
    free(text);
    return ret;
nomem:
    fprintf(stderr, "canhgac incident: out of memory\n");
    return CG_EXIT_FAIL;
}

/* ---- pcap ---------------------------------------------------------------------- */

/* The evidence of ids[0..n) into o->output: every incident must exist and
 * have evidence, or nothing is written. A repeated id counts once. */
static int cmd_pcap(const opts *o, const uint64_t *ids, int n)
{
    cg_store *st = NULL;
    cg_pcapng_export *x = NULL;
    cg_pcapng_export_stats s;
    int ret = CG_EXIT_FAIL, rc;

    if (cg_store_open(&st, o->store_dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac incident pcap: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    if (cg_pcapng_export_create(&x)) {
        fprintf(stderr, "canhgac incident pcap: out of memory\n");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        uint32_t added = 0;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = ids[j] == ids[i];
        if (seen)
            continue;
        if ((rc = cg_pcapng_export_add(x, st, ids[i], &added)) != 0) {
            fprintf(stderr, "canhgac incident pcap: %s\n", cg_pcapng_export_error(x));
            ret = rc == CG_ENOTFOUND ? CG_EXIT_INPUT : CG_EXIT_FAIL;
            goto out;
        }
        if (added == 0) {
            fprintf(stderr, "canhgac incident pcap: incident %llu has no evidence packets\n",
                    (unsigned long long)ids[i]);
            goto out;
        }
    }
    if (cg_pcapng_export_write(x, o->output, &s)) {
        fprintf(stderr, "canhgac incident pcap: %s\n", cg_pcapng_export_error(x));
        goto out;
    }
    char line[512];
    cg_pcapng_export_summary(&s, o->output, line, sizeof line);
    fprintf(stderr, "canhgac incident pcap: %s\n", line);
    ret = CG_EXIT_OK;
out:
    cg_pcapng_export_destroy(x);
    cg_store_close(st);
    return ret;
}

/* ---- the command ---------------------------------------------------------------- */

/* pcap's arguments (every one an ID) and -o; -o with another subcommand is
 * a usage error. */
static int pcap_args(const opts *o, const char *sub, int npos, char **pos)
{
    uint64_t *ids;
    int ret;
    if (strcmp(sub, "pcap")) {
        fprintf(stderr, "canhgac incident: %s: -o is pcap's option\n", sub);
        return CG_EXIT_INPUT;
    }
    if (!o->output || !o->output[0]) {
        fprintf(stderr, "canhgac incident pcap: -o FILE is needed (the pcapng file to write)\n");
        return CG_EXIT_INPUT;
    }
    if (!(ids = calloc((size_t)npos, sizeof *ids))) {
        fprintf(stderr, "canhgac incident: out of memory\n");
        return CG_EXIT_FAIL;
    }
    for (int i = 0; i < npos; i++)
        if (parse_id(pos[i], &ids[i])) {
            fprintf(stderr, "canhgac incident pcap: not an incident ID: %s\n", pos[i]);
            free(ids);
            return CG_EXIT_INPUT;
        }
    ret = cmd_pcap(o, ids, npos);
    free(ids);
    return ret;
}

/* One option at argv[*i] (advancing *i past its value): 1 taken, 0 not an
 * option, 2 the help (printed), -1 bad (message printed). */
static int take_option(int argc, char **argv, int *i, opts *o)
{
    const char *a = argv[*i], *v = NULL;
    size_t n = strcspn(a, "=");
    char *end;
    if (a[0] != '-' || !a[1] || !strcmp(a, "-"))
        return 0;
#define OPT(name) (strlen(name) == n && !strncmp(a, name, n))
#define VALUE()                                                                 \
    do {                                                                        \
        if (a[n] == '=')                                                        \
            v = a + n + 1;                                                      \
        else if (*i + 1 < argc)                                                 \
            v = argv[++*i];                                                     \
        else {                                                                  \
            fprintf(stderr, "canhgac incident: option needs a value: %s\n", a); \
            return -1;                                                          \
        }                                                                       \
    } while (0)
    if (OPT("-h") || OPT("--help")) {
        fputs(incident_usage, stdout);
        return 2;
    } else if (OPT("-d") || OPT("--store")) {
        VALUE();
        o->store_dir = v;
    } else if (!strncmp(a, "-d", 2) && a[2]) {
        o->store_dir = a + 2;
    } else if (OPT("--as")) {
        VALUE();
        o->who = v;
    } else if (OPT("-o") || OPT("--output")) {
        VALUE();
        o->output = v;
    } else if (OPT("--json")) {
        o->json = 1;
    } else if (OPT("--alerts-all")) {
        o->alerts_max = 0;
    } else if (OPT("--alerts")) {
        VALUE();
        unsigned long x = strtoul(v, &end, 10);
        if (end == v || *end || v[0] == '-' || x > UINT32_MAX) {
            fprintf(stderr, "canhgac incident: --alerts: not a number: %s\n", v);
            return -1;
        }
        o->alerts_max = (uint32_t)x;
    } else {
        fprintf(stderr, "canhgac incident: unknown option: %s (see canhgac incident --help)\n", a);
        return -1;
    }
#undef OPT
#undef VALUE
    (*i)++;
    return 1;
}

int cg_cmd_incident(int argc, char **argv)
{
    opts o = { cg_cli_default_store(), NULL, 0, 20, NULL, stdout };
    char whobuf[64];
    char **pos;
    int npos = 0;
    uint64_t id;

    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(incident_usage, stdout);
        return CG_EXIT_OK;
    }
    if (argc < 2) {
        fprintf(stderr,
                "canhgac incident: show, set, note or pcap (see canhgac incident "
                "--help)\n");
        return CG_EXIT_INPUT;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "show") && strcmp(sub, "set") && strcmp(sub, "note") && strcmp(sub, "pcap")) {
        fprintf(stderr, "canhgac incident: unknown subcommand '%s' (show, set, note, pcap)\n", sub);
        return CG_EXIT_INPUT;
    }
    if (!(pos = calloc((size_t)argc, sizeof *pos))) {
        fprintf(stderr, "canhgac incident: out of memory\n");
        return CG_EXIT_FAIL;
    }
    /* Options anywhere, but a note's text is taken as it is once it starts
     * (after the id): "note 42 -- rm -rf" is a note. "--" ends options. */
    for (int i = 2; i < argc;) {
        int r = 0;
        if (!strcmp(argv[i], "--")) {
            for (i++; i < argc; i++)
                pos[npos++] = argv[i];
            break;
        }
        if (!(npos >= 1 && !strcmp(sub, "note")))
            r = take_option(argc, argv, &i, &o);
        if (r < 0 || r == 2) {
            free(pos);
            return r < 0 ? CG_EXIT_INPUT : CG_EXIT_OK;
        }
        if (r == 0)
            pos[npos++] = argv[i++];
    }
    int ret = CG_EXIT_INPUT;
    if (npos == 0 || parse_id(pos[0], &id)) {
        fprintf(stderr, "canhgac incident: %s: %s\n", sub,
                npos == 0 ? "an incident ID is needed" : "not an incident ID");
        goto out;
    }
    if (!o.who) {
        struct passwd *pw = getpwuid(geteuid());
        if (pw && pw->pw_name && pw->pw_name[0]) {
            o.who = pw->pw_name;
        } else {
            snprintf(whobuf, sizeof whobuf, "uid %u", (unsigned)geteuid());
            o.who = whobuf;
        }
    }
    if (!o.who[0] || strlen(o.who) > CG_STORE_TEXT_MAX) {
        fprintf(stderr, "canhgac incident: --as: a name of 1 to %d bytes\n", CG_STORE_TEXT_MAX);
        goto out;
    }
    if (!strcmp(sub, "pcap") || o.output) {
        ret = pcap_args(&o, sub, npos, pos);
        goto out;
    }
    if (!strcmp(sub, "show")) {
        if (npos > 1)
            fprintf(stderr, "canhgac incident: show: unexpected argument: %s\n", pos[1]);
        else
            ret = cmd_show(&o, id);
    } else if (!strcmp(sub, "set")) {
        ret = cmd_set(&o, id, npos - 1, pos + 1);
    } else if (npos < 2) {
        fprintf(stderr, "canhgac incident: note: the note's TEXT is missing\n");
    } else {
        ret = cmd_note(&o, id, npos - 1, pos + 1);
    }
out:
    free(pos);
    return ret;
}
