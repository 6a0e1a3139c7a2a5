/* pipeline_stats.c — the sensor's counters: what each worker publishes, their
 * sum, the EVE stats line, the control commands and the run's summary.
 *
 * Invariants: a worker's counters are read only from its published copy
 * (its mutex, taken every 4096 packets and when idle, never per packet);
 * the shared tables' and detectors' counters under the gate's mutex; the
 * writer's under wr_mu. Every figure is a sum over the workers, once.
 * Stats lines use Suricata's names (stats.capture.kernel_packets,
 * stats.decoder.pkts, stats.flow.active, stats.detect.alert, ...) and put
 * canhgac's own figures in a top-level "canhgac" object.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/output/eve.h"
#include "analyzer/output/pipeline_int.h"

/* ---- a worker's published counters ------------------------------------------- */

typedef struct flows_buf {
    char *p;
    size_t len, cap;
    uint32_t n;
    uint64_t now;
} flows_buf;

#define FLOWS_MAX 200 /* flows listed per worker */

static void flow_item(void *ctx, cg_flow *f)
{
    flows_buf *b = ctx;
    if (b->n >= FLOWS_MAX || b->cap - b->len < 600)
        return;
    char cli[46], srv[46];
    cg_addr_format(f->cli, cli, sizeof cli);
    cg_addr_format(f->srv, srv, sizeof srv);
    int n = snprintf(b->p + b->len, b->cap - b->len,
                     "%s{\"flow_id\":%llu,\"proto\":\"%s\",\"src_ip\":\"%s\",\"src_port\":%u,"
                     "\"dest_ip\":\"%s\",\"dest_port\":%u,\"pkts_toserver\":%llu,"
                     "\"pkts_toclient\":%llu,\"bytes_toserver\":%llu,\"bytes_toclient\":%llu,"
                     "\"age\":%llu}",
                     b->len ? "," : "", (unsigned long long)f->id, cg_proto_name(f->proto), cli,
                     f->cport, srv, f->sport, (unsigned long long)f->pkts_toserver,
                     (unsigned long long)f->pkts_toclient, (unsigned long long)f->bytes_toserver,
                     (unsigned long long)f->bytes_toclient,
                     (unsigned long long)((f->last_us - f->first_us) / 1000000u));
    if (n > 0 && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        b->n++;
    }
}

void pl_flows_snapshot(worker *w)
{
    flows_buf b = { .cap = 160u << 10 };
    b.p = malloc(b.cap); /* asked for by ctl: not the packet path */
    uint32_t total = 0;
    if (b.p) {
        b.p[0] = '\0';
        total = cg_inspect_flows(w->ins, flow_item, &b);
    }
    pthread_mutex_lock(&w->mu);
    free(w->flows);
    w->flows = b.p;
    w->flows_len = b.len;
    w->snap.is.flow.active = total;
    pthread_mutex_unlock(&w->mu);
}

void pl_publish(worker *w)
{
    cg_inspect_stats is;
    cg_capture_stats cs = { 0 };
    cg_inspect_get_stats(w->ins, &is);
    for (int i = 0; i < w->ncaps; i++) {
        cg_capture_stats c;
        cg_capture_get_stats(w->caps[i], &c);
        cs.packets += c.packets;
        cs.kernel_packets += c.kernel_packets;
        cs.kernel_drops += c.kernel_drops;
        cs.if_drops += c.if_drops;
    }
    if (atomic_load_explicit(&w->want_flows, memory_order_relaxed)) {
        pl_flows_snapshot(w);
        atomic_store(&w->want_flows, 0);
    }
    pthread_mutex_lock(&w->mu);
    w->snap.ds = w->ds;
    w->snap.is = is;
    w->snap.cs = cs;
    pthread_mutex_unlock(&w->mu);
    w->since_pub = 0;
}

#define ADD(f) sum->f += s.f
void pl_sum(cg_pipeline *pl, wstats *sum)
{
    memset(sum, 0, sizeof *sum);
    for (uint32_t i = 0; i < pl->nw; i++) {
        worker *w = &pl->w[i];
        wstats s;
        pthread_mutex_lock(&w->mu);
        s = w->snap;
        pthread_mutex_unlock(&w->mu);
        s.out_full = atomic_load_explicit(&w->out_full, memory_order_relaxed);
        s.in_full = atomic_load_explicit(&w->in_full, memory_order_relaxed);
        ADD(ds.packets);
        ADD(ds.bytes);
        ADD(ds.ethernet);
        ADD(ds.sll);
        ADD(ds.raw);
        ADD(ds.null_loop);
        ADD(ds.vlan);
        ADD(ds.ipv4);
        ADD(ds.ipv6);
        ADD(ds.tcp);
        ADD(ds.udp);
        ADD(ds.icmp);
        ADD(ds.icmpv6);
        ADD(ds.other_l4);
        ADD(ds.fragments);
        ADD(ds.truncated);
        ADD(ds.invalid);
        ADD(ds.unsupported);
        ADD(is.flow.active);
        ADD(is.flow.created);
        ADD(is.flow.evicted_timeout);
        ADD(is.flow.evicted_pressure);
        ADD(is.flow.evicted_reuse);
        ADD(is.flow.evicted_flush);
        ADD(is.flow.refused_cap);
        ADD(is.flow.capacity);
        ADD(is.flow.mem_bytes);
        ADD(is.reasm.delivered);
        ADD(is.reasm.ooo_segments);
        ADD(is.reasm.overlap_bytes);
        ADD(is.reasm.conflict_bytes);
        ADD(is.reasm.gaps);
        ADD(is.reasm.depth_bytes);
        ADD(is.reasm.segments);
        ADD(is.detect.packets);
        ADD(is.detect.scanned_bytes);
        ADD(is.detect.candidates);
        ADD(is.detect.matches);
        ADD(is.detect.alerts);
        ADD(is.detect.suppressed);
        ADD(is.detect.alerts_dropped);
        ADD(is.detect.pcre_errors);
        ADD(is.detect.scan_errors);
        ADD(is.detect.stream_inspections);
        ADD(is.detect.stream_scanned_bytes);
        ADD(is.detect.stream_new_bytes);
        ADD(is.detect.stream_alerts);
        ADD(is.detect.transactions);
        ADD(is.detect.tx_scanned_bytes);
        ADD(is.detect.tx_alerts);
        ADD(is.http.flows);
        ADD(is.http.requests);
        ADD(is.http.responses);
        ADD(is.http.parse_errors);
        ADD(is.http.body_truncated);
        ADD(is.http.decomp_bomb);
        ADD(is.tls.flows);
        ADD(is.tls.client_hellos);
        ADD(is.tls.certificates);
        ADD(is.tls.length_lies);
        ADD(is.dns.messages);
        ADD(is.dns.invalid);
        ADD(is.refused);
        ADD(is.switches);
        ADD(cs.packets);
        ADD(cs.kernel_packets);
        ADD(cs.kernel_drops);
        ADD(cs.if_drops);
        ADD(out_full);
        ADD(in_full);
    }
    pthread_mutex_lock(&pl->gate_mu);
    sum->is.detect.threshold_full = cg_threshold_reclaimed(pl->th);
    sum->is.detect.xbits_full = cg_xbits_reclaimed(pl->xb);
    pthread_mutex_unlock(&pl->gate_mu);
}
#undef ADD

/* ---- the EVE stats line ---------------------------------------------------------- */

static uint64_t writer_total(cg_pipeline *pl, uint64_t *alerts, uint64_t *stored)
{
    uint64_t lines = 0;
    pthread_mutex_lock(&pl->wr_mu);
    for (int k = 0; k < EVE_KINDS; k++)
        lines += pl->wr.eve_lines[k];
    *alerts = pl->wr.alerts;
    *stored = pl->wr.committed_incidents;
    pthread_mutex_unlock(&pl->wr_mu);
    return lines;
}

/* The counters as JSON members: the stats object and canhgac's own. */
static size_t stats_json(cg_pipeline *pl, char *b, size_t cap, int eve)
{
    wstats s;
    pl_sum(pl, &s);
    uint64_t alerts, stored;
    uint64_t lines = writer_total(pl, &alerts, &stored);
    double now = pl_mono();
    double up = (pl->t_end > 0 ? pl->t_end : now) - (pl->t0 > 0 ? pl->t0 : now);
    size_t pos = 0;
    cg_json_raw(b, cap, &pos,
                "\"stats\":{\"uptime\":%llu,"
                "\"capture\":{\"kernel_packets\":%llu,\"kernel_drops\":%llu,"
                "\"kernel_ifdrops\":%llu},"
                "\"decoder\":{\"pkts\":%llu,\"bytes\":%llu,\"invalid\":%llu,\"ipv4\":%llu,"
                "\"ipv6\":%llu,\"ethernet\":%llu,\"raw\":%llu,\"null\":%llu,\"sll\":%llu,"
                "\"tcp\":%llu,\"udp\":%llu,\"icmpv4\":%llu,\"icmpv6\":%llu,\"vlan\":%llu,"
                "\"avg_pkt_size\":%llu},"
                "\"flow\":{\"active\":%llu,\"total\":%llu,\"memuse\":%llu},"
                "\"tcp\":{\"reassembly_gap\":%llu,\"overlap\":%llu,\"overlap_diff_data\":%llu},"
                "\"detect\":{\"alert\":%llu,\"alerts_suppressed\":%llu,"
                "\"alert_queue_overflow\":%llu}},",
                (unsigned long long)up, (unsigned long long)s.cs.kernel_packets,
                (unsigned long long)s.cs.kernel_drops, (unsigned long long)s.cs.if_drops,
                (unsigned long long)s.ds.packets, (unsigned long long)s.ds.bytes,
                (unsigned long long)(s.ds.invalid + s.ds.truncated), (unsigned long long)s.ds.ipv4,
                (unsigned long long)s.ds.ipv6, (unsigned long long)s.ds.ethernet,
                (unsigned long long)s.ds.raw, (unsigned long long)s.ds.null_loop,
                (unsigned long long)s.ds.sll, (unsigned long long)s.ds.tcp,
                (unsigned long long)s.ds.udp, (unsigned long long)s.ds.icmp,
                (unsigned long long)s.ds.icmpv6, (unsigned long long)s.ds.vlan,
                (unsigned long long)(s.ds.packets ? s.ds.bytes / s.ds.packets : 0),
                (unsigned long long)s.is.flow.active, (unsigned long long)s.is.flow.created,
                (unsigned long long)s.is.flow.mem_bytes, (unsigned long long)s.is.reasm.gaps,
                (unsigned long long)s.is.reasm.overlap_bytes,
                (unsigned long long)s.is.reasm.conflict_bytes,
                (unsigned long long)s.is.detect.alerts, (unsigned long long)s.is.detect.suppressed,
                (unsigned long long)s.is.detect.alerts_dropped);
    pthread_mutex_lock(&pl->eng_mu);
    uint64_t reloads = pl->reloads, rfail = pl->reload_failures;
    pthread_mutex_unlock(&pl->eng_mu);
    cg_json_raw(b, cap, &pos, "\"canhgac\":{\"sensor\":");
    cg_json_str(b, cap, &pos, pl->name);
    cg_json_raw(b, cap, &pos,
                ",\"version\":\"%s\",\"workers\":%u,\"capture\":{\"packets\":%llu,"
                "\"if_drops\":%llu},\"decoder\":{\"truncated\":%llu,\"invalid\":%llu,"
                "\"unsupported\":%llu,\"fragments\":%llu},\"flow\":{\"created\":%llu,"
                "\"evicted_timeout\":%llu,\"evicted_pressure\":%llu,\"refused\":%llu},"
                "\"detect\":{\"rules_verified\":%llu,\"stream_bytes\":%llu},"
                "\"queue\":{\"full_waits\":%llu,\"reader_waits\":%llu},"
                "\"shared\":{\"entries\":%llu,\"order_waits\":%llu},"
                "\"incidents\":{\"alerts\":%llu,\"stored\":%llu},\"eve\":{\"lines\":%llu},"
                "\"reloads\":%llu,\"reload_failures\":%llu",
                CG_VERSION, pl->nw, (unsigned long long)s.cs.packets,
                (unsigned long long)s.cs.if_drops, (unsigned long long)s.ds.truncated,
                (unsigned long long)s.ds.invalid, (unsigned long long)s.ds.unsupported,
                (unsigned long long)s.ds.fragments, (unsigned long long)s.is.flow.created,
                (unsigned long long)s.is.flow.evicted_timeout,
                (unsigned long long)s.is.flow.evicted_pressure,
                (unsigned long long)s.is.flow.refused_cap,
                (unsigned long long)s.is.detect.candidates,
                (unsigned long long)s.is.reasm.delivered, (unsigned long long)s.out_full,
                (unsigned long long)s.in_full,
                (unsigned long long)atomic_load_explicit(&pl->gate_entries, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&pl->gate_waits, memory_order_relaxed),
                (unsigned long long)alerts, (unsigned long long)stored, (unsigned long long)lines,
                (unsigned long long)reloads, (unsigned long long)rfail);
    if (pl->pd) {
        cg_pcapdir_stats ps;
        cg_pcapdir_stats_get(pl->pd, &ps);
        cg_json_raw(b, cap, &pos,
                    ",\"pcap\":{\"packets\":%llu,\"bytes\":%llu,\"files_rotated\":%llu,"
                    "\"files_deleted\":%llu,\"write_errors\":%llu,\"dropped\":%llu,"
                    "\"stopped\":%s",
                    (unsigned long long)ps.packets, (unsigned long long)ps.bytes,
                    (unsigned long long)ps.files_rotated, (unsigned long long)ps.files_deleted,
                    (unsigned long long)ps.write_errors, (unsigned long long)ps.dropped,
                    ps.stopped ? "true" : "false");
        if (ps.stopped) {
            cg_json_raw(b, cap, &pos, ",\"error\":");
            cg_json_str(b, cap, &pos, ps.error);
        }
        cg_json_raw(b, cap, &pos, "}");
    }
    if (pl->cfg.extra_stats) {
        char ex[512];
        size_t n = pl->cfg.extra_stats(pl->cfg.extra_stats_arg, ex, sizeof ex);
        if (n > 0 && n < sizeof ex)
            cg_json_raw(b, cap, &pos, ",%s", ex);
    }
    if (!eve) {
        /* per worker, for ctl */
        cg_json_raw(b, cap, &pos, ",\"per_worker\":[");
        for (uint32_t i = 0; i < pl->nw; i++) {
            worker *w = &pl->w[i];
            wstats ws;
            pthread_mutex_lock(&w->mu);
            ws = w->snap;
            pthread_mutex_unlock(&w->mu);
            cg_json_raw(b, cap, &pos,
                        "%s{\"worker\":%u,\"packets\":%llu,\"kernel_packets\":%llu,"
                        "\"kernel_drops\":%llu,\"if_drops\":%llu,\"flows_active\":%llu,"
                        "\"alerts\":%llu}",
                        i ? "," : "", i, (unsigned long long)ws.ds.packets,
                        (unsigned long long)ws.cs.kernel_packets,
                        (unsigned long long)ws.cs.kernel_drops, (unsigned long long)ws.cs.if_drops,
                        (unsigned long long)ws.is.flow.active,
                        (unsigned long long)ws.is.detect.alerts);
        }
        cg_json_raw(b, cap, &pos, "]");
    }
    cg_json_raw(b, cap, &pos, "}");
    return pos;
}

const char *pl_stats_line(cg_pipeline *pl, size_t *len)
{
    static _Thread_local char b[16384];
    char ts[40];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    cg_eve_time((uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u, ts, sizeof ts);
    size_t pos = 0;
    cg_json_raw(b, sizeof b, &pos, "{\"timestamp\":\"%s\",\"event_type\":\"stats\",", ts);
    pos += stats_json(pl, b + pos, sizeof b - pos - 2, 1);
    b[pos++] = '}';
    b[pos++] = '\n';
    *len = pos;
    return b;
}

/* ---- control commands --------------------------------------------------------- */

static size_t reply(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static size_t reply(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static void wait_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

size_t cg_pipeline_ctl(cg_pipeline *pl, const char *cmd, char *out, size_t cap)
{
    if (!strcmp(cmd, "version"))
        return reply(out, cap, "{\"version\":\"%s\",\"workers\":%u}", CG_VERSION, pl->nw);
    if (!strcmp(cmd, "stats")) {
        size_t pos = 0;
        cg_json_raw(out, cap, &pos, "{");
        pos += stats_json(pl, out + pos, cap - pos - 1, 0);
        cg_json_raw(out, cap, &pos, "}");
        return pos;
    }
    if (!strcmp(cmd, "reopen")) {
        pthread_mutex_lock(&pl->wr_mu);
        uint64_t before = pl->reopens;
        pthread_mutex_unlock(&pl->wr_mu);
        if (!pl->cfg.eve_path || !strcmp(pl->cfg.eve_path, "-"))
            return reply(out, cap, "{\"error\":\"no EVE file to reopen\"}");
        cg_pipeline_request(pl, CG_PL_REQ_REOPEN);
        for (int i = 0; i < 500; i++) {
            pthread_mutex_lock(&pl->wr_mu);
            int done = pl->reopens != before;
            char msg[640];
            snprintf(msg, sizeof msg, "%s", pl->reopen_msg);
            pthread_mutex_unlock(&pl->wr_mu);
            if (done) {
                if (!msg[0])
                    return reply(out, cap, "{\"reopened\":true}");
                size_t pos = 0;
                cg_json_raw(out, cap, &pos, "{\"error\":");
                cg_json_str(out, cap, &pos, msg);
                cg_json_raw(out, cap, &pos, "}");
                return pos;
            }
            wait_ms(10);
        }
        return reply(out, cap, "{\"error\":\"the writer did not answer in 5 s\"}");
    }
    if (!strcmp(cmd, "reload")) {
        /* one under way (a SIGHUP's) ends first; then this one */
        uint64_t before = 0;
        for (int i = 0;; i++) {
            pthread_mutex_lock(&pl->eng_mu);
            before = pl->reloads + pl->reload_failures;
            pthread_mutex_unlock(&pl->eng_mu);
            if (pl_start_reload(pl) == 0)
                break;
            if (i == 60000 || atomic_load(&pl->stop))
                return reply(out, cap, "{\"error\":\"a reload is under way\"}");
            wait_ms(10);
        }
        /* a build of ET Open takes a while; the client waits as long */
        for (int i = 0; i < 60000; i++) {
            pthread_mutex_lock(&pl->eng_mu);
            int done = pl->reloads + pl->reload_failures != before;
            int ok = pl->reload_ok;
            char msg[640];
            snprintf(msg, sizeof msg, "%s", pl->reload_msg);
            pthread_mutex_unlock(&pl->eng_mu);
            if (done) {
                size_t pos = 0;
                cg_json_raw(out, cap, &pos, ok ? "{\"reloaded\":true,\"message\":" : "{\"error\":");
                cg_json_str(out, cap, &pos, msg);
                cg_json_raw(out, cap, &pos, "}");
                return pos;
            }
            if (atomic_load(&pl->stop))
                break;
            wait_ms(10);
        }
        return reply(out, cap, "{\"error\":\"the sensor is stopping\"}");
    }
    if (!strcmp(cmd, "flows")) {
        for (uint32_t i = 0; i < pl->nw; i++)
            atomic_store(&pl->w[i].want_flows, 1);
        for (int t = 0; t < 200; t++) {
            int pending = 0;
            for (uint32_t i = 0; i < pl->nw; i++)
                pending += atomic_load(&pl->w[i].want_flows) && !atomic_load(&pl->w[i].done);
            if (!pending)
                break;
            wait_ms(10);
        }
        size_t pos = 0;
        uint64_t active = 0;
        cg_json_raw(out, cap, &pos, "{\"flows\":[");
        int first = 1;
        for (uint32_t i = 0; i < pl->nw; i++) {
            worker *w = &pl->w[i];
            pthread_mutex_lock(&w->mu);
            active += w->snap.is.flow.active;
            if (w->flows && w->flows_len && pos + w->flows_len + 64 < cap) {
                cg_json_raw(out, cap, &pos, "%s%s", first ? "" : ",", w->flows);
                first = 0;
            }
            pthread_mutex_unlock(&w->mu);
        }
        cg_json_raw(out, cap, &pos, "],\"active\":%llu,\"listed_at_most\":%d}",
                    (unsigned long long)active, FLOWS_MAX * (int)pl->nw);
        return pos;
    }
    char msg[160];
    snprintf(msg, sizeof msg, "unknown command \"%.64s\" (stats, reload, reopen, flows, version)",
             cmd);
    size_t pos = 0;
    cg_json_raw(out, cap, &pos, "{\"error\":");
    cg_json_str(out, cap, &pos, msg);
    cg_json_raw(out, cap, &pos, "}");
    return pos;
}

/* ---- totals and the summary ------------------------------------------------------- */

void cg_pipeline_get_totals(cg_pipeline *pl, cg_pipeline_totals *out)
{
    wstats s;
    pl_sum(pl, &s);
    uint64_t alerts, stored;
    memset(out, 0, sizeof *out);
    out->eve_lines = writer_total(pl, &alerts, &stored);
    out->packets = s.ds.packets;
    out->bytes = s.ds.bytes;
    out->alerts = alerts;
    out->incidents_stored = stored;
    cg_incidents_stats is;
    cg_incidents_get_stats(pl->wr.ag, &is);
    out->incidents_new = is.created;
    out->kernel_packets = s.cs.kernel_packets;
    out->kernel_drops = s.cs.kernel_drops;
    out->if_drops = s.cs.if_drops;
    out->queue_full_waits = s.out_full + s.in_full;
    if (pl->pd) {
        cg_pcapdir_stats ps;
        cg_pcapdir_stats_get(pl->pd, &ps);
        out->pcap_packets = ps.packets;
        out->pcap_bytes = ps.bytes;
    }
    pthread_mutex_lock(&pl->eng_mu);
    out->reloads = pl->reloads;
    out->reload_failures = pl->reload_failures;
    pthread_mutex_unlock(&pl->eng_mu);
}

static const char *const kind_names[EVE_KINDS] = { "http",    "dns",   "tls",  "flow",
                                                   "anomaly", "alert", "stats" };

void cg_pipeline_summary(cg_pipeline *pl, FILE *o)
{
    wstats s;
    pl_sum(pl, &s);
    const cg_decode_stats *ds = &s.ds;
    const cg_flow_stats *fs = &s.is.flow;
    const cg_detect_stats *dt = &s.is.detect;
    const cg_reasm_stats *rs = &s.is.reasm;
    cg_detect_info di;
    uint32_t nloaded = 0, nissues = 0;
    pthread_mutex_lock(&pl->eng_mu);
    cg_detect_get_info(pl->cur->det, &di);
    cg_ruleset_rules(pl->cur->rs, &nloaded);
    cg_ruleset_issues(pl->cur->rs, &nissues);
    pthread_mutex_unlock(&pl->eng_mu);
    double secs = (pl->t_end > 0 ? pl->t_end : pl_mono()) - pl->t0;
    char src[600] = "";
    if (pl->cfg.rfile)
        snprintf(src, sizeof src, "%s", pl->cfg.rfile);
    for (int i = 0; i < pl->cfg.nifaces; i++) {
        size_t l = strlen(src);
        snprintf(src + l, sizeof src - l, "%s%s", i ? ", " : "", pl->cfg.ifaces[i]);
    }
    fprintf(o,
            "canhgac run: %s (%u worker%s)\n"
            "  packets    %llu (%llu bytes); ipv4 %llu, ipv6 %llu, tcp %llu, udp %llu, icmp %llu, "
            "icmpv6 %llu, other %llu, vlan %llu\n"
            "  malformed  truncated %llu, invalid %llu, unsupported %llu; fragments %llu\n",
            src, pl->nw, pl->nw == 1 ? "" : "s", (unsigned long long)ds->packets,
            (unsigned long long)ds->bytes, (unsigned long long)ds->ipv4,
            (unsigned long long)ds->ipv6, (unsigned long long)ds->tcp, (unsigned long long)ds->udp,
            (unsigned long long)ds->icmp, (unsigned long long)ds->icmpv6,
            (unsigned long long)ds->other_l4, (unsigned long long)ds->vlan,
            (unsigned long long)ds->truncated, (unsigned long long)ds->invalid,
            (unsigned long long)ds->unsupported, (unsigned long long)ds->fragments);
    if (pl->cfg.nifaces) {
        fprintf(o,
                "  capture    %llu packets received by the kernel, %llu dropped by the kernel, "
                "%llu by the interface; per worker (received/dropped):",
                (unsigned long long)s.cs.kernel_packets, (unsigned long long)s.cs.kernel_drops,
                (unsigned long long)s.cs.if_drops);
        for (uint32_t i = 0; i < pl->nw; i++) {
            worker *w = &pl->w[i];
            pthread_mutex_lock(&w->mu);
            cg_capture_stats c = w->snap.cs;
            pthread_mutex_unlock(&w->mu);
            fprintf(o, " %llu/%llu", (unsigned long long)c.kernel_packets,
                    (unsigned long long)(c.kernel_drops + c.if_drops));
        }
        fputc('\n', o);
    }
    fprintf(o,
            "  flows      created %llu, active %llu, evicted %llu by timeout, %llu by pressure; "
            "%llu refused at the cap\n"
            "  streams    %llu bytes in order, %llu out of order, %llu overlapping (%llu "
            "conflicting), %llu gaps, %llu past the depth\n"
            "  rules      %u loaded, %u not loaded; %u databases (%s, %.2f s), %u prefiltered, "
            "%u by address, %u always checked\n"
            "  inspected  %llu packets (%llu bytes scanned), %llu stream pieces (%llu bytes, "
            "%llu scanned), "
            "%llu transactions (%llu bytes); %llu rules verified\n"
            "  alerts     %llu (matches %llu, suppressed %llu, dropped %llu; %llu on the "
            "stream, %llu on transactions)\n",
            (unsigned long long)fs->created, (unsigned long long)fs->active,
            (unsigned long long)fs->evicted_timeout, (unsigned long long)fs->evicted_pressure,
            (unsigned long long)fs->refused_cap, (unsigned long long)rs->delivered,
            (unsigned long long)rs->ooo_segments, (unsigned long long)rs->overlap_bytes,
            (unsigned long long)rs->conflict_bytes, (unsigned long long)rs->gaps,
            (unsigned long long)rs->depth_bytes, nloaded, nissues, di.databases,
            di.from_cache ? "from cache" : "compiled", di.build_seconds, di.prefiltered,
            di.addr_indexed, di.always, (unsigned long long)dt->packets,
            (unsigned long long)dt->scanned_bytes, (unsigned long long)dt->stream_inspections,
            (unsigned long long)dt->stream_new_bytes, (unsigned long long)dt->stream_scanned_bytes,
            (unsigned long long)dt->transactions, (unsigned long long)dt->tx_scanned_bytes,
            (unsigned long long)dt->candidates, (unsigned long long)dt->alerts,
            (unsigned long long)dt->matches, (unsigned long long)dt->suppressed,
            (unsigned long long)dt->alerts_dropped, (unsigned long long)dt->stream_alerts,
            (unsigned long long)dt->tx_alerts);
    const cg_inspect_stats *ist = &s.is;
    if (dt->transactions || ist->http.flows || ist->tls.flows || ist->dns.messages)
        fprintf(o,
                "  app        http %llu requests, %llu responses (%llu parse errors, %llu "
                "bodies cut at the limit, %llu decompression bombs); tls %llu client hellos, "
                "%llu certificates (%llu length lies); dns %llu messages (%llu invalid)\n",
                (unsigned long long)ist->http.requests, (unsigned long long)ist->http.responses,
                (unsigned long long)ist->http.parse_errors,
                (unsigned long long)ist->http.body_truncated,
                (unsigned long long)ist->http.decomp_bomb,
                (unsigned long long)ist->tls.client_hellos,
                (unsigned long long)ist->tls.certificates, (unsigned long long)ist->tls.length_lies,
                (unsigned long long)ist->dns.messages, (unsigned long long)ist->dns.invalid);
    if (dt->scan_errors || dt->pcre_errors)
        fprintf(o,
                "  errors     %llu pattern scans failed, %llu pcre matches hit their "
                "limits\n",
                (unsigned long long)dt->scan_errors, (unsigned long long)dt->pcre_errors);
    if (dt->threshold_full || dt->xbits_full)
        fprintf(o,
                "  tables     threshold table full %llu times (tracked anew), xbits "
                "table full %llu times (the bit expiring first dropped)\n",
                (unsigned long long)dt->threshold_full, (unsigned long long)dt->xbits_full);
    if (pl->dets) {
        cg_detectors_stats ds2;
        pthread_mutex_lock(&pl->gate_mu);
        cg_detectors_get_stats(pl->dets, &ds2);
        pthread_mutex_unlock(&pl->gate_mu);
        const uint64_t *a = ds2.alerts;
        fprintf(o,
                "  detectors  port scans %llu, host sweeps %llu, slow scans %llu, dns "
                "tunnels %llu; sources tracked %u (table full %llu)\n",
                (unsigned long long)a[CG_DET_VERTICAL], (unsigned long long)a[CG_DET_HORIZONTAL],
                (unsigned long long)a[CG_DET_SLOW],
                (unsigned long long)(a[CG_DET_DNS_LONG] + a[CG_DET_DNS_NAMES] +
                                     a[CG_DET_DNS_TYPES]),
                ds2.tracked, (unsigned long long)ds2.table_full);
    } else {
        fprintf(o, "  detectors  off\n");
    }
    if (s.out_full || s.in_full || pl->reloads || pl->reload_failures)
        fprintf(o,
                "  threads    queues full %llu times (workers waited for the writer), %llu "
                "(the reader waited for a worker); %llu reloads, %llu failed\n",
                (unsigned long long)s.out_full, (unsigned long long)s.in_full,
                (unsigned long long)pl->reloads, (unsigned long long)pl->reload_failures);
    writer *wr = &pl->wr;
    uint64_t neve = 0;
    for (unsigned k = 0; k < EVE_KINDS; k++)
        neve += wr->eve_lines[k];
    if (neve || wr->eve_broken) {
        fprintf(o, "  eve        %llu lines:", (unsigned long long)neve);
        static const unsigned order[EVE_KINDS] = { 5, 4, 3, 2, 1, 0, 6 };
        int first = 1;
        for (unsigned i = 0; i < EVE_KINDS; i++) {
            unsigned k = order[i];
            if (k == 6 && !wr->eve_lines[6])
                continue;
            fprintf(o, "%s %s %llu", first ? "" : ",", kind_names[k],
                    (unsigned long long)wr->eve_lines[k]);
            first = 0;
        }
        if (wr->eve_broken) /* the file holds the lines above, each whole */
            fprintf(o, "; %llu not written (%s)", (unsigned long long)wr->eve_lost,
                    cg_eve_file_error(wr->eve));
        fputc('\n', o);
    }
    if (pl->pd) {
        cg_pcapdir_stats ps;
        cg_pcapdir_stats_get(pl->pd, &ps);
        fprintf(o,
                "  pcap ring  %s: %llu packets, %llu bytes written (%.1f MB/s), %llu files "
                "rotated, %llu deleted, %llu write errors",
                cg_pcapdir_dir(pl->pd), (unsigned long long)ps.packets,
                (unsigned long long)ps.bytes, secs > 0 ? ps.bytes / secs / 1e6 : 0.0,
                (unsigned long long)ps.files_rotated, (unsigned long long)ps.files_deleted,
                (unsigned long long)ps.write_errors);
        if (ps.dropped)
            fprintf(o, ", %llu dropped (its queue full)", (unsigned long long)ps.dropped);
        if (ps.stopped)
            fprintf(o, "; stopped: %s (detection went on)", ps.error);
        fputc('\n', o);
    }
    cg_incidents_stats is;
    cg_incidents_get_stats(wr->ag, &is);
    fprintf(o, "  incidents  %llu new, %llu alerts folded into existing ones",
            (unsigned long long)is.created, (unsigned long long)is.folded);
    if (pl->cfg.store)
        fprintf(o, "; %llu stored in %s\n", (unsigned long long)wr->committed_incidents,
                pl->cfg.store_dir ? pl->cfg.store_dir : "the store");
    else
        fprintf(o, " (no store)\n");
    if (pl->cfg.policy && pl->cfg.store)
        fprintf(o,
                "  layers     %llu escalations, %llu reminders by the policy (%llu time passes)\n",
                (unsigned long long)wr->escalations, (unsigned long long)wr->reminders,
                (unsigned long long)wr->passes);
    const cg_enrich *enr = pl->cfg.enrich;
    if (enr) {
        cg_enrich_dbinfo di2;
        const cg_assets *as = cg_enrich_assets(enr);
        fprintf(o, "  enrich     ");
        int any = 0;
        for (int k = CG_ENRICH_CITY_DB; k <= CG_ENRICH_ASN_DB; k++)
            if (cg_enrich_db_info(enr, k, &di2) == 0) {
                fprintf(o, "%s%s %s", any ? ", " : "", di2.type, di2.built);
                any = 1;
            }
        if (as) {
            fprintf(o, "%sassets %zu entries", any ? ", " : "", cg_assets_count(as));
            any = 1;
        }
        const char *notice = cg_enrich_attribution(wr->geo_db_type);
        fprintf(o, "%s%llu incidents enriched, %llu lookup errors%s%s\n", any ? "; " : "",
                (unsigned long long)wr->enriched, (unsigned long long)wr->geo_errors,
                notice ? "; " : "", notice ? notice : "");
    }
    double mbit = secs > 0 ? ds->bytes * 8.0 / secs / 1e6 : 0;
    fprintf(o, "  time       %.3f s, %.0f packets/s, %.1f Mbit/s\n", secs,
            secs > 0 ? ds->packets / secs : 0.0, mbit);
}
