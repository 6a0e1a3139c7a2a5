/* cmd_query.c — `canhgac query`: incidents from the store that match an
 * expression of the query language (store/qlang.h), as a table, JSON lines
 * or CSV, newest first and paged by keyset; or their count, the top values
 * of a field, a histogram by hour or day, or the store's plan.
 *
 * The words after the options are joined with spaces into one expression.
 * What the store's indexes can use of it (cg_qlang_hints: the constraints of
 * its top-level "and") becomes the cg_query filters; the whole expression is
 * evaluated on each record the filters leave (cg_query.match), so the
 * indexes choose what is read and the language decides what matches. When
 * the filters are the whole expression (cg_qhints.exact) there is no
 * predicate, and the store counts and groups from its indexes alone.
 * --since/--until are more "and" terms, applied as filters. --pcap FILE
 * writes the matches' evidence packets into one pcapng file instead of
 * listing them (store/pcapng_export.h): their ids are collected first, then
 * their packets read, one incident at a time.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/lang/rule.h"
#include "store/pcapng_export.h"
#include "store/qlang.h"
#include "store/store.h"
#include "tools/cli.h"

static const char query_usage[] =
    "usage: canhgac query [options] [EXPRESSION...]\n"
    "\n"
    "Lists the incidents of the store that match EXPRESSION, newest first. The\n"
    "words of EXPRESSION are joined with spaces; no expression matches everything.\n"
    "\n"
    "expression:\n"
    "  terms       FIELD OP VALUE     OP: = != < <= > >= ~ (contains) !~\n"
    "              FIELD in CIDR      an address field in a network\n"
    "              FIELD [not] in [V1, V2, ...]\n"
    "              since TIME, until TIME   first seen at or after / before TIME\n"
    "  combine     and, or, not, ( ); two terms side by side mean \"and\"\n"
    "  TIME        24h, 30m, 90s, 7d, 2w (back from now), 2025-11-23,\n"
    "              2025-11-23T08:00:00 (UTC), @EPOCH\n"
    "  text        a word, or \"double quoted\"\n"
    "  the shell   quote what it would take: > < ( ) \" ! - or the whole expression\n"
    "fields (src.X / dst.X: the source's / destination's; X alone: either side):\n"
    "  time first_seen last_seen          src dst ip (address, CIDR with in)\n"
    "  sport dport port                   sid gid count id\n"
    "  sev severity (high medium low info; sev >= medium: medium or high)\n"
    "  status (new acknowledged investigating resolved false-positive)\n"
    "  proto (tcp udp icmp icmpv6, or a number)   layer (1..4)\n"
    "  msg classtype assignee community_id (text; ~ contains, any case)\n"
    "  country src.country dst.country (VN)   asn src.asn dst.asn (13335, AS13335)\n"
    "  agency src.agency dst.agency, zone src.zone dst.zone (from the asset file)\n"
    "  attack (the incidents of one source against one destination close in time)\n"
    "  case (the incidents of a case: case = 3, joined with and)\n"
    "the first alert's context (text, \"\" when unknown; = != ~ !~):\n"
    "  url (http.url)  http.host  http.user_agent  http.method  http.status (number)\n"
    "  dns.query  tls.sni  tls.ja3  app_proto (http tls dns ssh smtp ftp smb)\n"
    "\n"
    "options:\n"
    "  -d, --store DIR     the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --since T       and first seen at or after T\n"
    "      --until T       and first seen before T\n"
    "      --json          one JSON object per line\n"
    "      --csv           CSV with a header line\n"
    "  -n, --limit N       at most N incidents (default 100; 0 = all), or N groups\n"
    "                      with --top (default 10; 0 = all, up to 100000)\n"
    "      --cursor TOKEN  the next page, as printed on stderr after a full page\n"
    "      --count         the number of matching incidents\n"
    "      --top FIELD     the most frequent values among the matches, with their\n"
    "                      counts: src dst sid country (= src.country) dst.country\n"
    "                      asn (= src.asn) dst.asn dport sev status\n"
    "      --histogram hour|day   matches per hour or per day (UTC)\n"
    "      --group attack  one row per attack among the matches, newest first: its\n"
    "                      first and last seen, source, destination, signatures,\n"
    "                      highest severity, incidents and alerts (--limit attacks)\n"
    "      --explain       how the store would read the query, and nothing else\n"
    "      --pcap FILE     the evidence packets of the matches (--limit of them;\n"
    "                      0 = all) into one pcapng file, in time order, instead\n"
    "                      of the list; what was written is said on stderr\n"
    "  -h, --help          this help\n"
    "\n"
    "examples:\n"
    "  canhgac query 'since 24h and src in 10.20.0.0/16 and sev >= high\n"
    "      and dst.country != VN and status = new'\n"
    "  canhgac query 'msg ~ \"sql injection\" and not status in [resolved, false-positive]'\n"
    "  canhgac query --since 7d 'country in [CN, RU, KP] or asn = 4134' --json | jq .src_ip\n"
    "  canhgac query 'dst.agency = \"Sở Y tế\" and zone = DMZ' --csv --limit 0 > yte.csv\n"
    "  canhgac query --top src since 24h            top sources of the last day\n"
    "  canhgac query --top sid --limit 5 'sev >= medium'\n"
    "  canhgac query --histogram hour since 24h and sid = 9100101\n"
    "  canhgac query --count status = new\n"
    "  canhgac query 'url ~ \"union select\" and http.status = 200'\n"
    "  canhgac query --group attack since 24h      the attacks of the last day\n"
    "  canhgac query attack = 1234                 the incidents of one attack\n"
    "  canhgac query case = 3 and status = new     the new incidents of case 3\n"
    "  canhgac query 'sid = 9100101' --limit 0 --pcap all.pcapng\n"
    "  canhgac query --since 24h src=10.0.0.0/8 sid=2100498   (filter words still work)\n"
    "\n"
    "exit: 0 done (also when nothing matched); 1 the store failed while reading,\n"
    "or --pcap: no evidence packet to write, or FILE cannot be written; 2 bad\n"
    "expression (the column is shown), bad option, store cannot be opened\n";

enum { FMT_TABLE, FMT_JSON, FMT_CSV };

#define TOP_MAX 100000 /* groups --top gives at most (--limit 0) */
enum { MODE_LIST, MODE_COUNT, MODE_TOP, MODE_HIST, MODE_EXPLAIN, MODE_PCAP, MODE_GROUP };

/* ---- the expression on records -------------------------------------------- */

static void fill_qrec(const cg_incident *inc, cg_qrec *r)
{
    memset(r, 0, sizeof *r);
    r->id = inc->id;
    r->first_us = inc->first_us;
    r->last_us = inc->last_us;
    r->count = inc->count;
    r->gid = inc->gid;
    r->sid = inc->sid;
    r->severity = inc->severity;
    r->status = inc->status;
    r->proto = inc->proto;
    r->layers = inc->layers;
    memcpy(r->src, inc->src, 16);
    memcpy(r->dst, inc->dst, 16);
    r->sport = inc->sport;
    r->dport = inc->dport;
    r->msg = inc->msg ? inc->msg : "";
    r->classtype = inc->classtype ? inc->classtype : "";
    r->assignee = inc->assignee ? inc->assignee : "";
    r->community_id = inc->community_id ? inc->community_id : "";
    r->src_country = inc->src_geo.country;
    r->dst_country = inc->dst_geo.country;
    r->src_asn = inc->src_geo.asn;
    r->dst_asn = inc->dst_geo.asn;
    r->src_agency = inc->src_geo.agency ? inc->src_geo.agency : "";
    r->dst_agency = inc->dst_geo.agency ? inc->dst_geo.agency : "";
    r->src_zone = inc->src_geo.zone ? inc->src_geo.zone : "";
    r->dst_zone = inc->dst_geo.zone ? inc->dst_geo.zone : "";
    r->attack_id = inc->attack_id;
    r->http_status = inc->http_status;
    r->app_proto = inc->app_proto;
    r->http_method = inc->http_method;
    r->http_host = inc->http_host;
    r->http_url = inc->http_url;
    r->http_user_agent = inc->http_user_agent;
    r->dns_query = inc->dns_query;
    r->tls_sni = inc->tls_sni;
    r->tls_ja3 = inc->tls_ja3;
}

static int expr_match(const cg_incident *inc, void *arg)
{
    cg_qrec r;
    fill_qrec(inc, &r);
    return cg_qlang_eval(arg, &r);
}

static void and_since(cg_query *q, uint64_t t)
{
    if (!(q->has & CG_Q_SINCE) || t > q->since_us)
        q->since_us = t;
    q->has |= CG_Q_SINCE;
}

static void and_until(cg_query *q, uint64_t t) /* first_us < t */
{
    if (!(q->has & CG_Q_UNTIL) || t < q->until_us)
        q->until_us = t;
    q->has |= CG_Q_UNTIL;
}

/* The store filters the hints give. Returns 1 when they alone say that
 * nothing matches (two CIDRs that do not meet), else 0. h must outlive q
 * (the Community ID is a view). */
static int apply_hints(const cg_qhints *h, cg_query *q)
{
    if (h->has & CG_QH_TIME) {
        if (h->time_lo > h->time_hi)
            return 1;
        if (h->time_lo)
            and_since(q, h->time_lo);
        if (h->time_hi != UINT64_MAX)
            and_until(q, h->time_hi + 1);
    }
    if (h->has & CG_QH_SRC) {
        if (memcmp(h->src_lo, h->src_hi, 16) > 0)
            return 1;
        memcpy(q->src_lo, h->src_lo, 16);
        memcpy(q->src_hi, h->src_hi, 16);
        q->has |= CG_Q_SRC;
    }
    if (h->has & CG_QH_DST) {
        if (memcmp(h->dst_lo, h->dst_hi, 16) > 0)
            return 1;
        memcpy(q->dst_lo, h->dst_lo, 16);
        memcpy(q->dst_hi, h->dst_hi, 16);
        q->has |= CG_Q_DST;
    }
    if (h->has & CG_QH_SID) {
        q->sid = h->sid;
        q->has |= CG_Q_SID;
    }
    if (h->has & CG_QH_SEV) {
        q->sev_max = h->sev_max;
        q->has |= CG_Q_SEV;
    }
    if (h->has & CG_QH_STATUS) {
        q->status_mask = 1u << h->status;
        q->has |= CG_Q_STATUS;
    }
    if (h->has & CG_QH_DPORT) {
        q->dport = h->dport;
        q->has |= CG_Q_DPORT;
    }
    if (h->has & CG_QH_SRC_CC) {
        memcpy(q->src_cc, h->src_cc, 3);
        q->has |= CG_Q_SRC_CC;
    }
    if (h->has & CG_QH_DST_CC) {
        memcpy(q->dst_cc, h->dst_cc, 3);
        q->has |= CG_Q_DST_CC;
    }
    if (h->has & CG_QH_SRC_ASN) {
        q->src_asn = h->src_asn;
        q->has |= CG_Q_SRC_ASN;
    }
    if (h->has & CG_QH_DST_ASN) {
        q->dst_asn = h->dst_asn;
        q->has |= CG_Q_DST_ASN;
    }
    if (h->has & CG_QH_CID) {
        q->community_id = h->cid;
        q->has |= CG_Q_COMMUNITY;
    }
    if (h->has & CG_QH_ATTACK) {
        q->attack = h->attack;
        q->has |= CG_Q_ATTACK;
    }
    if (h->has & CG_QH_CASE) {
        q->case_id = h->case_id;
        q->has |= CG_Q_CASE;
    }
    return 0;
}

/* A parse error: the expression, a caret under the column, the reason. The
 * parser counts bytes; the user counts characters (UTF-8: "Sở Y tế"). */
static void parse_error_as(const char *prog, const char *text, int col, const char *err)
{
    int chars = 1;
    fprintf(stderr, "  %s\n  ", text);
    for (int i = 0; i < col - 1 && text[i]; i++)
        if (((unsigned char)text[i] & 0xc0) != 0x80) { /* one per character */
            putc(text[i] == '\t' ? '\t' : ' ', stderr);
            chars++;
        }
    const char *why =
        strncmp(err, "column ", 7) == 0 && strstr(err, ": ") ? strstr(err, ": ") + 2 : err;
    fprintf(stderr, "^\n%s: column %d: %s\n", prog, chars, why);
}

static void parse_error(const char *text, int col, const char *err)
{
    parse_error_as("canhgac query", text, col, err);
}

/* ---- the ids of a query (for case new --query) ------------------------------ */

struct qids {
    uint64_t *v;
    size_t n, cap;
    int oom;
};

static int collect_id(const cg_incident *inc, void *arg)
{
    struct qids *l = arg;

    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        uint64_t *b = realloc(l->v, nc * sizeof *b);
        if (!b) {
            l->oom = 1;
            return -1;
        }
        l->v = b;
        l->cap = nc;
    }
    l->v[l->n++] = inc->id;
    return 0;
}

static int apply_hints(const cg_qhints *h, cg_query *q);

int cg_cli_query_ids(cg_store *st, const char *prog, const char *text, uint64_t **ids, size_t *n)
{
    char err[512];
    int col = 0, rc;
    cg_qexpr *expr = NULL;
    cg_qhints hints;
    cg_query q;
    struct qids l = { NULL, 0, 0, 0 };

    memset(&q, 0, sizeof q);
    if (cg_qlang_parse(text, cg_cli_now_us(), &expr, err, sizeof err, &col)) {
        parse_error_as(prog, text, col, err);
        return CG_EXIT_INPUT;
    }
    cg_qlang_hints(expr, &hints);
    if (!hints.exact) {
        q.match = expr_match;
        q.match_arg = expr;
    }
    if (apply_hints(&hints, &q)) {
        q.has |= CG_Q_SINCE | CG_Q_UNTIL;
        q.since_us = q.until_us = 1;
    }
    rc = cg_store_query(st, &q, 0, NULL, collect_id, &l);
    cg_qlang_free(expr);
    if (rc || l.oom) {
        fprintf(stderr, "%s: %s\n", prog, rc ? cg_store_error(st) : "out of memory");
        free(l.v);
        return CG_EXIT_FAIL;
    }
    *ids = l.v;
    *n = l.n;
    return CG_EXIT_OK;
}

int cg_cli_q_parse(cg_cli_q *cq, const char *text, uint64_t now_us, char *err, size_t errlen,
                   int *col)
{
    memset(cq, 0, sizeof *cq);
    if (text[0]) {
        int bcol = 0;
        if (cg_qlang_parse(text, now_us, &cq->expr, err, errlen, &bcol)) {
            int chars = 1;
            for (int i = 0; i < bcol - 1 && text[i]; i++)
                if (((unsigned char)text[i] & 0xc0) != 0x80)
                    chars++;
            *col = chars;
            return -1;
        }
        cg_qlang_hints(cq->expr, &cq->hints);
        if (!cq->hints.exact) {
            cq->q.match = expr_match;
            cq->q.match_arg = cq->expr;
        }
    }
    if (apply_hints(&cq->hints, &cq->q)) {
        cq->q.has |= CG_Q_SINCE | CG_Q_UNTIL;
        cq->q.since_us = cq->q.until_us = 1;
    }
    return 0;
}

void cg_cli_q_free(cg_cli_q *cq)
{
    if (cq) {
        cg_qlang_free(cq->expr);
        cq->expr = NULL;
    }
}

/* ---- listing ------------------------------------------------------------- */

typedef struct lister {
    int fmt;
    uint64_t shown;
    int silent; /* count only */
} lister;

static int print_row(const cg_incident *inc, void *arg)
{
    lister *l = arg;
    l->shown++;
    if (l->silent)
        return 0;
    if (l->fmt == FMT_JSON) {
        cg_cli_incident_json(stdout, inc);
        putchar('\n');
    } else if (l->fmt == FMT_CSV) {
        cg_cli_incident_csv(stdout, inc);
    } else {
        char first[40], sa[72], da[72], pb[8];
        cg_cli_time_str(inc->first_us, first, sizeof first);
        first[10] = ' ';
        first[19] = '\0';
        cg_cli_addr(inc->src, sa, sizeof sa - 4);
        cg_cli_addr(inc->dst, da, sizeof da - 4);
        if (inc->src_geo.country[0])
            strcat(strcat(sa, " "), inc->src_geo.country);
        if (inc->dst_geo.country[0])
            strcat(strcat(da, " "), inc->dst_geo.country);
        printf("%-8llu %-19s %6llu %-6s %-14s %-9u %-28s %-28s %5u %-5s %s\n",
               (unsigned long long)inc->id, first, (unsigned long long)inc->count,
               cg_severity_name(inc->severity), cg_cli_status(inc->status), inc->sid, sa, da,
               inc->dport, cg_cli_proto(inc->proto, pb, sizeof pb), inc->msg);
    }
    return 0;
}

/* ---- top ------------------------------------------------------------------- */

static const struct top_field {
    const char *name;
    int field;
    const char *key; /* its JSON name and column */
} top_fields[] = {
    { "src", CG_F_SRC, "src_ip" },
    { "src_ip", CG_F_SRC, "src_ip" },
    { "dst", CG_F_DST, "dest_ip" },
    { "dest_ip", CG_F_DST, "dest_ip" },
    { "sid", CG_F_SID, "signature_id" },
    { "signature_id", CG_F_SID, "signature_id" },
    { "country", CG_F_SRC_CC, "src_country" },
    { "src.country", CG_F_SRC_CC, "src_country" },
    { "dst.country", CG_F_DST_CC, "dest_country" },
    { "asn", CG_F_SRC_ASN, "src_asn" },
    { "src.asn", CG_F_SRC_ASN, "src_asn" },
    { "dst.asn", CG_F_DST_ASN, "dest_asn" },
    { "dport", CG_F_DPORT, "dest_port" },
    { "dest_port", CG_F_DPORT, "dest_port" },
    { "sev", CG_F_SEV, "severity" },
    { "severity", CG_F_SEV, "severity" },
    { "status", CG_F_STATUS, "status" },
};

static const struct top_field *top_find(const char *s)
{
    for (size_t i = 0; i < sizeof top_fields / sizeof top_fields[0]; i++)
        if (!strcasecmp(top_fields[i].name, s))
            return &top_fields[i];
    return NULL;
}

typedef struct sigmsg {
    char msg[512];
} sigmsg;

static int take_msg(const cg_incident *inc, void *arg)
{
    snprintf(((sigmsg *)arg)->msg, sizeof((sigmsg *)arg)->msg, "%s", inc->msg);
    return 1;
}

/* The value of a group as text (numbers as digits). */
static void group_text(int field, const cg_store_group *g, char *out, size_t len)
{
    switch (field) {
    case CG_F_SRC:
    case CG_F_DST: cg_cli_addr(g->addr, out, len); break;
    case CG_F_SRC_CC:
    case CG_F_DST_CC: snprintf(out, len, "%s", g->cc); break;
    case CG_F_SEV: snprintf(out, len, "%s", cg_severity_name(g->num)); break;
    case CG_F_STATUS: snprintf(out, len, "%s", cg_cli_status(g->num)); break;
    default: snprintf(out, len, "%u", g->num); break;
    }
}

static int print_top(cg_store *st, const cg_query *q, const struct top_field *tf, size_t n, int fmt)
{
    cg_store_group *g = calloc(n ? n : 1, sizeof *g);
    size_t ng = 0;
    int rc;
    if (!g) {
        fprintf(stderr, "canhgac query: out of memory\n");
        return CG_EXIT_FAIL;
    }
    if ((rc = cg_store_top(st, q, tf->field, g, n, &ng)) != 0) {
        fprintf(stderr, "canhgac query: %s\n", cg_store_error(st));
        free(g);
        return CG_EXIT_FAIL;
    }
    int numeric = tf->field == CG_F_SID || tf->field == CG_F_SRC_ASN || tf->field == CG_F_DST_ASN ||
        tf->field == CG_F_DPORT;
    if (fmt == FMT_CSV)
        printf("%s,count%s\n", tf->key, tf->field == CG_F_SID ? ",gid,signature" : "");
    else if (fmt == FMT_TABLE)
        printf("%10s  %s%s\n", "COUNT", tf->key, tf->field == CG_F_SID ? "       SIGNATURE" : "");
    for (size_t i = 0; i < ng; i++) {
        char v[64];
        sigmsg sm = { "" };
        group_text(tf->field, &g[i], v, sizeof v);
        if (tf->field == CG_F_SID) {
            /* the rule's message, from one incident of that signature */
            cg_query sq;
            memset(&sq, 0, sizeof sq);
            sq.has = CG_Q_SID | CG_Q_GID;
            sq.sid = g[i].num;
            sq.gid = g[i].gid;
            cg_store_query(st, &sq, 1, NULL, take_msg, &sm);
        }
        if (fmt == FMT_JSON) {
            printf("{\"%s\":", tf->key);
            if (numeric)
                fputs(v, stdout);
            else
                cg_cli_json_str(stdout, v);
            if (tf->field == CG_F_SID) {
                printf(",\"gid\":%u,\"signature\":", g[i].gid);
                cg_cli_json_str(stdout, sm.msg);
            }
            printf(",\"count\":%llu}\n", (unsigned long long)g[i].count);
        } else if (fmt == FMT_CSV) {
            printf("%s,%llu", v, (unsigned long long)g[i].count);
            if (tf->field == CG_F_SID) {
                printf(",%u,", g[i].gid);
                cg_cli_csv_field(stdout, sm.msg, 1);
            } else {
                putchar('\n');
            }
        } else {
            if (tf->field == CG_F_SID)
                printf("%10llu  %-17s %s\n", (unsigned long long)g[i].count, v, sm.msg);
            else
                printf("%10llu  %s\n", (unsigned long long)g[i].count, v);
        }
    }
    free(g);
    return CG_EXIT_OK;
}

/* ---- histogram ---------------------------------------------------------------- */

typedef struct buckets {
    uint64_t (*b)[2];
    size_t n, cap;
    int nomem;
} buckets;

static int take_bucket(uint64_t start, uint64_t count, void *arg)
{
    buckets *h = arg;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        void *nb = realloc(h->b, cap * sizeof *h->b);
        if (!nb) {
            h->nomem = 1;
            return 1;
        }
        h->b = nb;
        h->cap = cap;
    }
    h->b[h->n][0] = start;
    h->b[h->n][1] = count;
    h->n++;
    return 0;
}

static int print_histogram(cg_store *st, const cg_query *q, int day, int fmt)
{
    buckets h = { 0 };
    uint64_t width = day ? 86400000000ull : 3600000000ull, max = 0;
    if (cg_store_histogram(st, q, width, take_bucket, &h) != 0 || h.nomem) {
        fprintf(stderr, "canhgac query: %s\n", h.nomem ? "out of memory" : cg_store_error(st));
        free(h.b);
        return CG_EXIT_FAIL;
    }
    for (size_t i = 0; i < h.n; i++)
        if (h.b[i][1] > max)
            max = h.b[i][1];
    if (fmt == FMT_CSV)
        printf("start,count\n");
    else if (fmt == FMT_TABLE)
        printf("%-20s %10s\n", day ? "DAY (UTC)" : "HOUR (UTC)", "COUNT");
    for (size_t i = 0; i < h.n; i++) {
        char t[40];
        cg_cli_time_str(h.b[i][0], t, sizeof t);
        strcpy(t + 19, "Z"); /* bucket starts are whole hours: no fraction */
        if (fmt == FMT_JSON) {
            printf("{\"start\":\"%s\",\"count\":%llu}\n", t, (unsigned long long)h.b[i][1]);
        } else if (fmt == FMT_CSV) {
            printf("%s,%llu\n", t, (unsigned long long)h.b[i][1]);
        } else {
            int bar = (int)((h.b[i][1] * 50 + max - 1) / max);
            printf("%-20s %10llu %.*s\n", t, (unsigned long long)h.b[i][1], bar,
                   "##################################################");
        }
    }
    free(h.b);
    return CG_EXIT_OK;
}

/* ---- pcap ------------------------------------------------------------------------ */

typedef struct idlist {
    uint64_t *ids;
    size_t n, cap;
    int nomem;
} idlist;

static int take_id(const cg_incident *inc, void *arg)
{
    idlist *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        uint64_t *ni = realloc(l->ids, cap * sizeof *ni);
        if (!ni) {
            l->nomem = 1;
            return 1;
        }
        l->ids = ni;
        l->cap = cap;
    }
    l->ids[l->n++] = inc->id;
    return 0;
}

/* The evidence of the matches (a page of limit, from *cursor) into path. */
static int write_pcap(cg_store *st, const cg_query *q, uint64_t limit, uint64_t *cursor,
                      const char *path)
{
    idlist l = { 0 };
    cg_pcapng_export *x = NULL;
    cg_pcapng_export_stats s;
    int ret = CG_EXIT_FAIL;
    char line[512];

    if (cg_store_query(st, q, limit, cursor, take_id, &l) || l.nomem) {
        fprintf(stderr, "canhgac query: %s\n", l.nomem ? "out of memory" : cg_store_error(st));
        goto out;
    }
    if (cg_pcapng_export_create(&x)) {
        fprintf(stderr, "canhgac query: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        if (cg_pcapng_export_add(x, st, l.ids[i], NULL)) {
            fprintf(stderr, "canhgac query: %s\n", cg_pcapng_export_error(x));
            goto out;
        }
    int rc = cg_pcapng_export_write(x, path, &s);
    if (rc == CG_EEMPTY) {
        if (l.n == 0)
            fprintf(stderr, "canhgac query: no incident matches; %s not written\n", path);
        else
            fprintf(stderr,
                    "canhgac query: the %zu matching incident%s ha%s no evidence "
                    "packets; %s not written\n",
                    l.n, l.n == 1 ? "" : "s", l.n == 1 ? "s" : "ve", path);
        goto out;
    }
    if (rc) {
        fprintf(stderr, "canhgac query: %s\n", cg_pcapng_export_error(x));
        goto out;
    }
    cg_pcapng_export_summary(&s, path, line, sizeof line);
    fprintf(stderr, "canhgac query: %s\n", line);
    if (s.incidents < l.n)
        fprintf(stderr,
                "canhgac query: %llu of the %zu matching incidents have no evidence "
                "packets\n",
                (unsigned long long)(l.n - s.incidents), l.n);
    if (*cursor && limit && l.n == limit)
        fprintf(stderr,
                "canhgac query: the first %zu matches (--limit 0 for all); next page: "
                "--cursor %llu\n",
                l.n, (unsigned long long)*cursor);
    ret = CG_EXIT_OK;
out:
    cg_pcapng_export_destroy(x);
    free(l.ids);
    return ret;
}

/* ---- attacks ------------------------------------------------------------------ */

/* Signature messages met so far, by gid:sid (a message is one incident's). */
typedef struct sigcache {
    struct {
        uint32_t gid, sid;
        char *msg;
    } * e;
    size_t n, cap;
} sigcache;

static const char *sig_msg(cg_store *st, sigcache *c, uint32_t gid, uint32_t sid)
{
    sigmsg sm = { "" };
    cg_query sq;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].gid == gid && c->e[i].sid == sid)
            return c->e[i].msg;
    memset(&sq, 0, sizeof sq);
    sq.has = CG_Q_SID | CG_Q_GID;
    sq.sid = sid;
    sq.gid = gid;
    cg_store_query(st, &sq, 1, NULL, take_msg, &sm);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        void *ne = realloc(c->e, cap * sizeof *c->e);
        if (!ne)
            return "";
        c->e = ne;
        c->cap = cap;
    }
    if (!(c->e[c->n].msg = strdup(sm.msg)))
        return "";
    c->e[c->n].gid = gid;
    c->e[c->n].sid = sid;
    return c->e[c->n++].msg;
}

typedef struct attack_out {
    cg_store *st;
    int fmt;
    uint64_t n;
    sigcache sigs;
} attack_out;

static int print_attack(const cg_store_attack *a, void *arg)
{
    attack_out *o = arg;
    char first[40], last[40], sa[64], da[64], sids[200];
    size_t len = 0;
    cg_cli_time_str(a->first_us, first, sizeof first);
    cg_cli_time_str(a->last_us, last, sizeof last);
    cg_cli_addr(a->src, sa, sizeof sa);
    cg_cli_addr(a->dst, da, sizeof da);
    sids[0] = 0;
    for (uint32_t i = 0; i < a->nsigs && len < sizeof sids; i++)
        len +=
            (size_t)snprintf(sids + len, sizeof sids - len, "%s%u", i ? " " : "", a->sigs[i].sid);
    if (a->more_sigs && len < sizeof sids)
        snprintf(sids + len, sizeof sids - len, " +");
    o->n++;
    if (o->fmt == FMT_JSON) {
        printf("{\"attack_id\":%llu,\"first_seen\":\"%s\",\"last_seen\":\"%s\","
               "\"src_ip\":\"%s\",\"dest_ip\":\"%s\",\"severity\":%u,\"severity_name\":\"%s\","
               "\"incidents\":%llu,\"alerts\":%llu,\"signatures\":[",
               (unsigned long long)a->attack_id, first, last, sa, da, a->severity,
               cg_severity_name(a->severity), (unsigned long long)a->incidents,
               (unsigned long long)a->alerts);
        for (uint32_t i = 0; i < a->nsigs; i++) {
            printf("%s{\"gid\":%u,\"signature_id\":%u,\"signature\":", i ? "," : "", a->sigs[i].gid,
                   a->sigs[i].sid);
            cg_cli_json_str(stdout, sig_msg(o->st, &o->sigs, a->sigs[i].gid, a->sigs[i].sid));
            putchar('}');
        }
        printf("],\"more_signatures\":%s}\n", a->more_sigs ? "true" : "false");
    } else if (o->fmt == FMT_CSV) {
        printf("%llu,%s,%s,%s,%s,%s,%llu,%llu,", (unsigned long long)a->attack_id, first, last, sa,
               da, cg_severity_name(a->severity), (unsigned long long)a->incidents,
               (unsigned long long)a->alerts);
        cg_cli_csv_field(stdout, sids, 0);
        cg_cli_csv_field(stdout,
                         a->nsigs ? sig_msg(o->st, &o->sigs, a->sigs[0].gid, a->sigs[0].sid) : "",
                         1);
    } else {
        first[10] = last[10] = ' ';
        first[19] = last[19] = '\0';
        printf("%-8llu %-19s %-19s %-28s %-28s %-6s %9llu %9llu  %s: %s\n",
               (unsigned long long)a->attack_id, first, last, sa, da, cg_severity_name(a->severity),
               (unsigned long long)a->incidents, (unsigned long long)a->alerts, sids,
               a->nsigs ? sig_msg(o->st, &o->sigs, a->sigs[0].gid, a->sigs[0].sid) : "");
    }
    return 0;
}

/* --group attack: the attacks among the matches, newest first. */
static int print_attacks(cg_store *st, const cg_query *q, uint64_t limit, int fmt)
{
    attack_out o = { st, fmt, 0, { NULL, 0, 0 } };
    int rc;
    if (fmt == FMT_CSV)
        printf("attack_id,first_seen,last_seen,src_ip,dest_ip,severity,incidents,alerts,"
               "signature_ids,signature\n");
    else if (fmt == FMT_TABLE)
        printf("%-8s %-19s %-19s %-28s %-28s %-6s %9s %9s  %s\n", "ATTACK", "FIRST SEEN (UTC)",
               "LAST SEEN (UTC)", "SOURCE", "DESTINATION", "SEV", "INCIDENTS", "ALERTS",
               "SIDS: THE FIRST ONE'S SIGNATURE");
    rc = cg_store_attacks(st, q, limit, print_attack, &o);
    for (size_t i = 0; i < o.sigs.n; i++)
        free(o.sigs.e[i].msg);
    free(o.sigs.e);
    if (rc) {
        fprintf(stderr, "canhgac query: %s\n", cg_store_error(st));
        return rc == CG_EOLDER ? CG_EXIT_INPUT : CG_EXIT_FAIL;
    }
    if (limit && o.n == limit)
        fprintf(stderr, "canhgac query: %llu attacks shown; --limit N for more (0 = all)\n",
                (unsigned long long)o.n);
    return CG_EXIT_OK;
}

/* ---- the command ---------------------------------------------------------------- */

int cg_cmd_query(int argc, char **argv)
{
    static const struct option opts[] = { { "store", required_argument, 0, 'd' },
                                          { "since", required_argument, 0, 's' },
                                          { "until", required_argument, 0, 'u' },
                                          { "json", no_argument, 0, 'j' },
                                          { "csv", no_argument, 0, 'c' },
                                          { "limit", required_argument, 0, 'n' },
                                          { "cursor", required_argument, 0, 'C' },
                                          { "count", no_argument, 0, 'k' },
                                          { "top", required_argument, 0, 't' },
                                          { "histogram", required_argument, 0, 'H' },
                                          { "explain", no_argument, 0, 'x' },
                                          { "help", no_argument, 0, 'h' },
                                          { "pcap", required_argument, 0, 'P' },
                                          { "group", required_argument, 0, 'G' },
                                          { 0, 0, 0, 0 } };
    const char *store_dir = cg_cli_default_store(), *pcap_path = NULL;
    const struct top_field *tf = NULL;
    cg_query q;
    cg_qhints hints;
    cg_qexpr *expr = NULL;
    cg_store *st = NULL;
    lister ls = { FMT_TABLE, 0, 0 };
    uint64_t limit = 100, cursor = 0, now = cg_cli_now_us(), t;
    int mode = MODE_LIST, modes = 0, day = 0, limit_set = 0, ret = CG_EXIT_INPUT, c;
    char *text = NULL, *end;

    memset(&q, 0, sizeof q);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': store_dir = optarg; break;
        case 's':
        case 'u':
            if (cg_qlang_time(optarg, now, &t)) {
                fprintf(stderr,
                        "canhgac query: --%s: not a time: %s (use 24h, 7d, "
                        "2025-11-23T08:00:00 or @EPOCH)\n",
                        c == 's' ? "since" : "until", optarg);
                return CG_EXIT_INPUT;
            }
            if (c == 's')
                and_since(&q, t);
            else
                and_until(&q, t);
            break;
        case 'j': ls.fmt = FMT_JSON; break;
        case 'c': ls.fmt = FMT_CSV; break;
        case 'k': mode = MODE_COUNT, modes++; break;
        case 'G':
            if (strcasecmp(optarg, "attack")) {
                fprintf(stderr, "canhgac query: --group: attack, not '%s'\n", optarg);
                return CG_EXIT_INPUT;
            }
            mode = MODE_GROUP, modes++;
            break;
        case 'x': mode = MODE_EXPLAIN, modes++; break;
        case 'P':
            if (!optarg[0] || !strcmp(optarg, "-")) {
                fprintf(stderr, "canhgac query: --pcap: a file to write, not '%s'\n", optarg);
                return CG_EXIT_INPUT;
            }
            pcap_path = optarg;
            mode = MODE_PCAP, modes++;
            break;
        case 't':
            if (!(tf = top_find(optarg))) {
                fprintf(stderr,
                        "canhgac query: --top: no field '%s' (src, dst, sid, country, "
                        "dst.country, asn, dst.asn, dport, sev, status)\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            mode = MODE_TOP, modes++;
            break;
        case 'H':
            if (strcmp(optarg, "hour") && strcmp(optarg, "day")) {
                fprintf(stderr, "canhgac query: --histogram: hour or day, not '%s'\n", optarg);
                return CG_EXIT_INPUT;
            }
            day = !strcmp(optarg, "day");
            mode = MODE_HIST, modes++;
            break;
        case 'n':
            limit = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "canhgac query: --limit: not a number: %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            limit_set = 1;
            break;
        case 'C':
            cursor = strtoull(optarg, &end, 10);
            if (end == optarg || *end || cursor == 0 || optarg[0] == '-') {
                fprintf(stderr,
                        "canhgac query: --cursor: not a cursor this command printed: "
                        "%s\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'h': fputs(query_usage, stdout); return CG_EXIT_OK;
        default:
            fprintf(stderr, "canhgac query: %s %s (see canhgac query --help)\n",
                    c == ':' || (optopt && strchr("dn", optopt)) ||
                            !strcmp(argv[optind - 1], "--pcap")
                        ? "option needs a value:"
                        : "unknown option:",
                    argv[optind - 1]);
            return CG_EXIT_INPUT;
        }
    }
    /* The expression's words (getopt has moved the options before them). */
    {
        size_t len = 1;
        for (int i = optind; i < argc; i++)
            len += strlen(argv[i]) + 1;
        if (!(text = calloc(1, len))) {
            fprintf(stderr, "canhgac query: out of memory\n");
            return CG_EXIT_FAIL;
        }
        for (int i = optind; i < argc; i++) {
            if (text[0])
                strcat(text, " ");
            strcat(text, argv[i]);
        }
    }
    if (modes > 1) {
        fprintf(stderr,
                "canhgac query: one of --count, --top, --histogram, --explain, "
                "--pcap, --group\n");
        goto out;
    }
    if (cursor &&
        (mode == MODE_TOP || mode == MODE_HIST || mode == MODE_EXPLAIN || mode == MODE_GROUP)) {
        fprintf(stderr,
                "canhgac query: --cursor pages the incidents (and --count), not "
                "--top, --histogram, --group or --explain\n");
        goto out;
    }
    if (mode == MODE_TOP && !limit_set)
        limit = 10;

    if (text[0]) {
        char err[512];
        int col = 0;
        if (cg_qlang_parse(text, now, &expr, err, sizeof err, &col)) {
            parse_error(text, col, err);
            goto out;
        }
        cg_qlang_hints(expr, &hints);
        if (!hints.exact) { /* else the filters are the expression */
            q.match = expr_match;
            q.match_arg = expr;
        }
    } else {
        memset(&hints, 0, sizeof hints);
    }
    int empty = apply_hints(&hints, &q);

    if (cg_store_open(&st, store_dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac query: %s\n", cg_store_error(NULL));
        goto out;
    }
    if (empty) {
        /* the expression cannot match (disjoint CIDRs, an empty time range):
         * the store is still asked for nothing */
        q.has |= CG_Q_SINCE | CG_Q_UNTIL;
        q.since_us = 1;
        q.until_us = 1;
    }
    ret = CG_EXIT_OK;
    switch (mode) {
    case MODE_EXPLAIN: {
        char plan[256];
        if (cg_store_explain(st, &q, plan, sizeof plan)) {
            fprintf(stderr, "canhgac query: %s\n", cg_store_error(st));
            ret = CG_EXIT_FAIL;
            break;
        }
        if (ls.fmt == FMT_JSON) {
            fputs("{\"expression\":", stdout);
            cg_cli_json_str(stdout, text);
            fputs(",\"plan\":", stdout);
            cg_cli_json_str(stdout, plan);
            fputs("}\n", stdout);
        } else {
            printf("expression: %s\nplan: %s\n", text[0] ? text : "(none: every incident)", plan);
        }
        break;
    }
    case MODE_COUNT: {
        uint64_t n = 0;
        int rc;
        if (cursor == 0) {
            rc = cg_store_count(st, &q, &n);
        } else {
            ls.silent = 1;
            rc = cg_store_query(st, &q, 0, &cursor, print_row, &ls);
            n = ls.shown;
        }
        if (rc) {
            fprintf(stderr, "canhgac query: %s\n", cg_store_error(st));
            ret = CG_EXIT_FAIL;
        } else if (ls.fmt == FMT_JSON) {
            printf("{\"count\":%llu}\n", (unsigned long long)n);
        } else {
            printf("%llu\n", (unsigned long long)n);
        }
        break;
    }
    case MODE_TOP:
        ret =
            print_top(st, &q, tf, limit == 0 || limit > TOP_MAX ? TOP_MAX : (size_t)limit, ls.fmt);
        break;
    case MODE_HIST: ret = print_histogram(st, &q, day, ls.fmt); break;
    case MODE_GROUP: ret = print_attacks(st, &q, limit, ls.fmt); break;
    case MODE_PCAP: ret = write_pcap(st, &q, limit, &cursor, pcap_path); break;
    default:
        if (ls.fmt == FMT_CSV)
            cg_cli_csv_header(stdout);
        else if (ls.fmt == FMT_TABLE)
            printf("%-8s %-19s %6s %-6s %-14s %-9s %-28s %-28s %5s %-5s %s\n", "ID",
                   "FIRST SEEN (UTC)", "COUNT", "SEV", "STATUS", "SID", "SOURCE", "DESTINATION",
                   "DPORT", "PROTO", "SIGNATURE");
        if (cg_store_query(st, &q, limit, &cursor, print_row, &ls)) {
            fprintf(stderr, "canhgac query: %s\n", cg_store_error(st));
            ret = CG_EXIT_FAIL;
            break;
        }
        if (cursor && limit && ls.shown == limit)
            fprintf(stderr, "canhgac query: %llu shown; next page: --cursor %llu\n",
                    (unsigned long long)ls.shown, (unsigned long long)cursor);
        break;
    }
    if (fflush(stdout) != 0 && ret == CG_EXIT_OK) {
        fprintf(stderr, "canhgac query: writing the output: %m\n");
        ret = CG_EXIT_FAIL;
    }
out:
    cg_store_close(st);
    cg_qlang_free(expr);
    free(text);
    return ret;
}
