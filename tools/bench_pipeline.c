/* bench_pipeline.c — throughput of the hot path, measured in one process.
 *
 *   bench_pipeline -r FILE [-S RULES]... [--classification F] [--runs N]
 *       loads FILE's frames into memory, then times, in alternation, N runs of
 *       decode only (the baseline) and N runs of decode + flow + detection with
 *       the rules; prints the median of each and their ratio.
 *       --compare: the same runs are timed packets-only and with streams too
 *       (alternating), and the ratio of the two medians printed.
 *       --payload-only: only the rules that inspect no application buffer
 *       and name no application protocol (the rules both modes evaluate), to
 *       compare per-packet and per-stream-piece inspection like for like.
 *       --eve: instead, the cost of the EVE output: the same runs with alert
 *       lines only, as before application contexts (no context), with alert
 *       lines carrying the flows' context (canhgac run --eve-types alert), and
 *       with every event type (--eve-types all): lines formatted and written
 *       to /dev/null; the medians (wall clock and the process's CPU time,
 *       which a busy machine disturbs less) and their ratios.
 *   bench_pipeline -r FILE -S RULES... --workers 1,2,4 [--cache DIR] [--runs N]
 *       the whole pipeline as `canhgac run` drives it (analyzer/output/pipeline.h: the
 *       reader, N workers, the writer; no store, no EVE file) over the frames
 *       in memory, for each number of workers in turn, alternating; the
 *       median of each, and each one's speed-up over the first. Then the
 *       reader's own ceiling: packets/s handed to workers that do nothing.
 *   bench_pipeline --load [-S RULES]... [--classification F] --cache DIR
 *       times loading the rules and building the engine (compiled, or from the
 *       cache when DIR has it), and the peak RSS with the engine built.
 *
 * Nothing is written to a store or an EVE file: this is the packet path only
 * (decode, flow, reassembly, detection on packets and streams; --no-stream:
 * packets only).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/engine/detect.h"
#include "analyzer/output/eve.h"
#include "analyzer/output/eve_proto.h"
#include "analyzer/engine/inspect.h"
#include "analyzer/output/pipeline.h"
#include "analyzer/lang/rule.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

typedef struct frames {
    uint8_t *buf;
    size_t len, cap;
    uint64_t *off;
    uint32_t *caplen, *wirelen;
    uint64_t *ts;
    size_t n, ncap;
    uint64_t wire_bytes;
    int dlt;
} frames;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int load_frames(const char *path, frames *fr)
{
    char err[512];
    cg_capture *c;
    if (cg_capture_open_file(&c, path, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    fr->dlt = cg_capture_dlt(c);
    cg_frame f;
    int rc;
    while ((rc = cg_capture_next(c, &f, err, sizeof err)) == 1) {
        if (fr->len + f.caplen > fr->cap) {
            fr->cap = fr->cap ? fr->cap * 2 : 64 << 20;
            fr->buf = realloc(fr->buf, fr->cap);
        }
        if (fr->n == fr->ncap) {
            fr->ncap = fr->ncap ? fr->ncap * 2 : 1 << 16;
            fr->off = realloc(fr->off, fr->ncap * sizeof *fr->off);
            fr->caplen = realloc(fr->caplen, fr->ncap * sizeof *fr->caplen);
            fr->wirelen = realloc(fr->wirelen, fr->ncap * sizeof *fr->wirelen);
            fr->ts = realloc(fr->ts, fr->ncap * sizeof *fr->ts);
        }
        if (!fr->buf || !fr->off || !fr->caplen || !fr->wirelen || !fr->ts) {
            fprintf(stderr, "bench: out of memory\n");
            return -1;
        }
        memcpy(fr->buf + fr->len, f.data, f.caplen);
        fr->off[fr->n] = fr->len;
        fr->caplen[fr->n] = f.caplen;
        fr->wirelen[fr->n] = f.wirelen;
        fr->ts[fr->n] = f.ts_us;
        fr->len += f.caplen;
        fr->wire_bytes += f.wirelen;
        fr->n++;
    }
    cg_capture_close(c);
    if (rc < 0) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    return 0;
}

static double run_decode(const frames *fr, uint64_t *sink)
{
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    cg_packet p;
    double t0 = now_s();
    for (size_t i = 0; i < fr->n; i++) {
        cg_decode(&p, fr->dlt, fr->buf + fr->off[i], fr->caplen[i], fr->wirelen[i], fr->ts[i], &st);
        *sink += p.payload_len;
    }
    return now_s() - t0;
}

static void count_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                        const cg_rule *r, int stream)
{
    (void)p;
    (void)f;
    (void)to_server;
    (void)r;
    (void)stream;
    ++*(uint64_t *)ctx;
}

/* decode + flow + reassembly + detection (packets and stream) over every frame,
 * with a fresh worker (fresh flows) each run. */
static double run_detect(const frames *fr, const cg_detect *d, int no_stream, uint64_t *alerts,
                         uint64_t *stream_alerts)
{
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    cg_inspect_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flow.max_flows = 262144;
    cfg.no_stream = no_stream;
    cfg.on_alert = count_alert;
    cfg.ctx = alerts;
    cg_inspect *in;
    char err[256];
    if (cg_inspect_create(&in, d, &cfg, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    cg_packet p;
    double t0 = now_s();
    for (size_t i = 0; i < fr->n; i++) {
        if (cg_decode(&p, fr->dlt, fr->buf + fr->off[i], fr->caplen[i], fr->wirelen[i], fr->ts[i],
                      &st) != CG_OK ||
            p.ipver == 0)
            continue;
        cg_inspect_packet(in, &p);
    }
    cg_inspect_finish(in);
    double t = now_s() - t0;
    cg_inspect_stats is;
    cg_inspect_get_stats(in, &is);
    *stream_alerts = is.detect.stream_alerts;
    cg_inspect_destroy(in);
    return t;
}

/* ---- the EVE output (--eve) ---- */

typedef struct eve_sink {
    cg_inspect *in;
    FILE *out; /* /dev/null */
    char *line;
    uint64_t lines, bytes;
    double cpu; /* the last run's CPU time (the process's) */
} eve_sink;

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define EVE_LINE (256u << 10)

static void eve_write(eve_sink *s, size_t len)
{
    if (len) {
        fwrite(s->line, 1, len, s->out);
        s->lines++;
        s->bytes += len;
    }
}

static void eve_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                      const cg_rule *r, int stream)
{
    eve_sink *s = ctx;
    char cid[64] = "";
    (void)stream;
    cg_community_id(p, 0, cid, sizeof cid);
    cg_eve_alert_extra x = { .f = f, .to_server = to_server, .ai = cg_inspect_alert_info(s->in) };
    eve_write(s, cg_eve_alert_ex(s->line, EVE_LINE, p, r, f ? f->id : cg_flow_id(p), cid, 0, &x));
}

static void eve_event(void *ctx, const cg_inspect_event *ev)
{
    eve_sink *s = ctx;
    eve_write(s, cg_eve_event(s->line, EVE_LINE, ev));
}

/* The worker's path with EVE lines as canhgac run writes them: want_app
 * (application contexts, parsers on), events (CG_INSPECT_EV_*, decoder
 * anomalies with ANOMALY). */
static double run_eve(const frames *fr, const cg_detect *d, int want_app, uint32_t events,
                      eve_sink *s)
{
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    cg_inspect_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flow.max_flows = 262144;
    cfg.want_app = want_app;
    cfg.events = events;
    cfg.on_alert = eve_alert;
    cfg.on_event = eve_event;
    cfg.ctx = s;
    char err[256];
    if (cg_inspect_create(&s->in, d, &cfg, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    s->lines = s->bytes = 0;
    cg_packet p;
    double t0 = now_s(), c0 = cpu_s();
    for (size_t i = 0; i < fr->n; i++) {
        int rc = cg_decode(&p, fr->dlt, fr->buf + fr->off[i], fr->caplen[i], fr->wirelen[i],
                           fr->ts[i], &st);
        if (rc != CG_OK && (events & CG_INSPECT_EV_ANOMALY))
            eve_write(s, cg_eve_decode_anomaly(s->line, EVE_LINE, &p, rc));
        if (rc != CG_OK || p.ipver == 0)
            continue;
        cg_inspect_packet(s->in, &p);
    }
    cg_inspect_finish(s->in);
    fflush(s->out);
    double t = now_s() - t0;
    s->cpu = cpu_s() - c0;
    cg_inspect_destroy(s->in);
    s->in = NULL;
    return t;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int load_rules(cg_ruleset **rs, const char *classif, const char **paths, int np)
{
    char err[1024];
    if (cg_ruleset_create(rs))
        return -1;
    if (classif && cg_ruleset_load_classification(*rs, classif, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    for (int i = 0; i < np; i++)
        if (cg_ruleset_load_path(*rs, paths[i], err, sizeof err)) {
            fprintf(stderr, "bench: %s\n", err);
            return -1;
        }
    return 0;
}

/* A rule both modes evaluate: payload and header matches only. */
static int payload_rule(const cg_rule *r)
{
    uint64_t pl = (1ull << CG_BUF_PAYLOAD) | (1ull << CG_BUF_STREAM);
    return (r->bufs & ~pl) == 0 && r->app_proto == CG_APP_NONE && !r->app_match;
}

/* Replaces *rs by a rule set of its payload rules: their lines are written to
 * a file in a fresh directory (with the first rule directory's
 * classification.config and vars.conf) and loaded from there. */
static int keep_payload_rules(cg_ruleset **rs, const char *classif, const char *first)
{
    char dir[] = "/tmp/cg-bench-XXXXXX", path[600], line[65536];
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/payload.rules", dir);
    FILE *out = fopen(path, "w");
    if (!out)
        return -1;
    uint32_t n;
    const cg_rule *r = cg_ruleset_rules(*rs, &n);
    const char *open_name = NULL;
    FILE *in = NULL;
    uint32_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!payload_rule(&r[i]))
            continue;
        if (!open_name || strcmp(open_name, r[i].file) != 0 || at >= r[i].line) {
            if (in)
                fclose(in);
            in = fopen(r[i].file, "r");
            open_name = r[i].file;
            at = 0;
            if (!in)
                continue;
        }
        int cont = 0;
        while (fgets(line, sizeof line, in)) {
            at++;
            if (at < r[i].line)
                continue;
            fputs(line, out);
            size_t l = strlen(line);
            while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
                l--;
            cont = l && line[l - 1] == '\\';
            if (!cont)
                break;
        }
    }
    if (in)
        fclose(in);
    fclose(out);
    const char *side[] = { "classification.config", "vars.conf" };
    for (int k = 0; k < 2 && first; k++) {
        char src[600], dst[600];
        snprintf(src, sizeof src, "%s/%s", first, side[k]);
        snprintf(dst, sizeof dst, "%s/%s", dir, side[k]);
        if (access(src, R_OK) == 0 && symlink(src, dst) != 0)
            return -1;
    }
    cg_ruleset_destroy(*rs);
    const char *paths[1] = { dir };
    int rc = load_rules(rs, classif, paths, 1);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, side[k]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/payload.rules", dir);
    unlink(path);
    rmdir(dir);
    return rc;
}

static long rss_mib(void);

typedef struct pl_rules {
    const char *classif;
    const char **paths;
    int np;
} pl_rules;

static int pl_load(void *ctx, cg_ruleset **out, char *err, size_t errlen)
{
    pl_rules *r = ctx;
    if (load_rules(out, r->classif, r->paths, r->np)) {
        snprintf(err, errlen, "the rules did not load");
        return -1;
    }
    return 0;
}

/* One run of the pipeline over fr with nw workers: its wall time, or -1. */
static double run_pipeline(const frames *fr, const cg_frame *fv, pl_rules *rules, const char *cache,
                           uint32_t nw, int null_workers, uint64_t *alerts)
{
    cg_pipeline_config pc;
    memset(&pc, 0, sizeof pc);
    pc.rfile = "(memory)";
    pc.frames = fv;
    pc.nframes = fr->n;
    pc.frames_dlt = fr->dlt;
    pc.workers = nw;
    pc.load = pl_load;
    pc.load_ctx = rules;
    pc.cache_dir = cache;
    pc.inspect.flow.max_flows = 262144;
    pc.inspect.want_app = 1;
    pc.window_s = 3600;
    pc.evidence = 5;
    pc.batch = 1000;
    pc.null_workers = null_workers;
    cg_pipeline *pl;
    char err[512];
    int code;
    if (cg_pipeline_create(&pl, &pc, &code, err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    double t0 = now_s();
    int rc = cg_pipeline_run(pl, -1, NULL, NULL);
    double t = now_s() - t0;
    cg_pipeline_totals tot;
    cg_pipeline_get_totals(pl, &tot);
    *alerts = tot.alerts;
    cg_pipeline_destroy(pl);
    return rc ? -1 : t;
}

static int bench_workers(const frames *fr, const char *list, pl_rules *rules, const char *cache,
                         int runs, const char *rfile)
{
    uint32_t nws[8];
    int n = 0;
    for (const char *p = list; *p && n < 8;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v < 1 || v > CG_PIPELINE_MAX_WORKERS) {
            fprintf(stderr, "bench: --workers takes numbers from 1 to %d: %s\n",
                    CG_PIPELINE_MAX_WORKERS, list);
            return 2;
        }
        nws[n++] = (uint32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    cg_frame *fv = malloc(fr->n * sizeof *fv);
    if (!fv)
        return 1;
    for (size_t i = 0; i < fr->n; i++)
        fv[i] = (cg_frame){ .ts_us = fr->ts[i],
                            .caplen = fr->caplen[i],
                            .wirelen = fr->wirelen[i],
                            .data = fr->buf + fr->off[i] };
    static double t[8][100], tn[100];
    uint64_t alerts[8] = { 0 }, na = 0;
    /* a first run fills the rules cache and the page cache */
    if (run_pipeline(fr, fv, rules, cache, nws[0], 0, &alerts[0]) < 0)
        return 1;
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < n; k++)
            if ((t[k][r] = run_pipeline(fr, fv, rules, cache, nws[k], 0, &alerts[k])) < 0)
                return 1;
        if ((tn[r] = run_pipeline(fr, fv, rules, cache, nws[n - 1], 1, &na)) < 0)
            return 1;
    }
    double gbit = fr->wire_bytes * 8.0 / 1e9;
    printf("capture %s: %zu packets, %.1f MB; the pipeline (reader, workers, writer; no "
           "store, no EVE), median of %d runs\n",
           rfile, fr->n, fr->wire_bytes / 1e6, runs);
    double m0 = median(t[0], runs);
    for (int k = 0; k < n; k++) {
        double m = median(t[k], runs);
        printf("%2u worker%s %10.0f packets/s  %6.2f Gbit/s  %.3f s  %.2fx %u worker%s "
               "(%llu alerts)\n",
               nws[k], nws[k] == 1 ? " " : "s", fr->n / m, gbit / m, m, m0 / m, nws[0],
               nws[0] == 1 ? "" : "s", (unsigned long long)alerts[k]);
    }
    double mn = median(tn, runs);
    printf("reader alone (%u workers doing nothing) %10.0f packets/s  %6.2f Gbit/s\n", nws[n - 1],
           fr->n / mn, gbit / mn);
    printf("peak RSS %ld MiB\n", rss_mib());
    free(fv);
    return 0;
}

static long rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = { { "classification", required_argument, 0, 'C' },
                                          { "runs", required_argument, 0, 'n' },
                                          { "load", no_argument, 0, 'L' },
                                          { "cache", required_argument, 0, 'c' },
                                          { "no-stream", no_argument, 0, 'T' },
                                          { "compare", no_argument, 0, 'P' },
                                          { "payload-only", no_argument, 0, 'O' },
                                          { "eve", no_argument, 0, 'E' },
                                          { "workers", required_argument, 0, 'W' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    int no_stream = 0, compare = 0, payload_only = 0, eve = 0;
    const char *rfile = NULL, *classif = NULL, *cache = NULL, *paths[32];
    int np = 0, runs = 5, load = 0, c;
    const char *workers = NULL;
    while ((c = getopt_long(argc, argv, "r:S:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rfile = optarg; break;
        case 'S':
            if (np < 32)
                paths[np++] = optarg;
            break;
        case 'C': classif = optarg; break;
        case 'n': runs = atoi(optarg); break;
        case 'L': load = 1; break;
        case 'c': cache = optarg; break;
        case 'T': no_stream = 1; break;
        case 'P': compare = 1; break;
        case 'O': payload_only = 1; break;
        case 'E': eve = 1; break;
        case 'W': workers = optarg; break;
        default:
            fprintf(stderr,
                    "usage: bench_pipeline -r FILE [-S RULES]... [--classification F] "
                    "[--runs N] [--no-stream | --compare | --eve] [--payload-only]\n"
                    "       bench_pipeline -r FILE -S RULES... --workers 1,2,4 "
                    "[--cache DIR] [--runs N]\n"
                    "       bench_pipeline --load -S RULES... --cache DIR\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (runs < 1 || runs > 99)
        runs = 5;
    char err[1024];

    if (load) {
        /* one load per process, so that the peak RSS is this load's own */
        for (int pass = 0; pass < 1; pass++) {
            cg_ruleset *rs;
            cg_detect *d;
            double t0 = now_s();
            if (load_rules(&rs, classif, paths, np))
                return 1;
            double t1 = now_s();
            if (cg_detect_build(&d, rs, cache, err, sizeof err)) {
                fprintf(stderr, "bench: %s\n", err);
                return 1;
            }
            double t2 = now_s();
            cg_detect_worker *w;
            if (cg_detect_worker_create(&w, d, err, sizeof err)) {
                fprintf(stderr, "bench: %s\n", err);
                return 1;
            }
            cg_detect_info di;
            cg_detect_get_info(d, &di);
            uint32_t nr;
            cg_ruleset_rules(rs, &nr);
            printf("load rules %u: parse %.2f s, engine %.2f s (%s), total %.2f s; "
                   "%u databases %.1f MiB; peak RSS %ld MiB\n",
                   nr, t1 - t0, t2 - t1, di.from_cache ? "from cache" : "compiled", t2 - t0,
                   di.databases, di.db_bytes / 1048576.0, rss_mib());
            cg_detect_worker_destroy(w);
            cg_detect_destroy(d);
            cg_ruleset_destroy(rs);
        }
        return 0;
    }

    if (!rfile) {
        fprintf(stderr, "bench: -r FILE is needed\n");
        return 2;
    }
    frames fr;
    memset(&fr, 0, sizeof fr);
    if (load_frames(rfile, &fr))
        return 1;
    if (workers) {
        pl_rules pr = { .classif = classif, .paths = paths, .np = np };
        int rc = bench_workers(&fr, workers, &pr, cache, runs, rfile);
        free(fr.buf);
        free(fr.off);
        free(fr.caplen);
        free(fr.wirelen);
        free(fr.ts);
        return rc;
    }
    cg_ruleset *rs = NULL;
    cg_detect *d = NULL;
    if (np > 0) {
        if (load_rules(&rs, classif, paths, np))
            return 1;
        if (payload_only && keep_payload_rules(&rs, classif, paths[0])) {
            fprintf(stderr, "bench: cannot write the payload rules\n");
            return 1;
        }
        if (cg_detect_build(&d, rs, cache, err, sizeof err)) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
    }
    if (eve && d) {
        /* alert lines without context (as before), alerts with it, every type */
        eve_sink s = { .out = fopen("/dev/null", "w"), .line = malloc(EVE_LINE) };
        double t0[100], t1[100], t2[100], c0[100], c1[100], c2[100];
        uint64_t l0 = 0, l1 = 0, l2 = 0, b2 = 0;
        if (!s.out || !s.line)
            return 1;
        setvbuf(s.out, NULL, _IOFBF, 1u << 20); /* as canhgac run's EVE file */
        for (int i = 0; i < runs; i++) {
            t0[i] = run_eve(&fr, d, 0, 0, &s);
            c0[i] = s.cpu;
            l0 = s.lines;
            t1[i] = run_eve(&fr, d, 1, 0, &s);
            c1[i] = s.cpu;
            l1 = s.lines;
            t2[i] = run_eve(&fr, d, 1, CG_EVE_T_ALL & ~CG_EVE_T_ALERT, &s);
            c2[i] = s.cpu;
            l2 = s.lines;
            b2 = s.bytes;
        }
        double m0 = median(t0, runs), m1 = median(t1, runs), m2 = median(t2, runs);
        double k0 = median(c0, runs), k1 = median(c1, runs), k2 = median(c2, runs);
        double gbit = fr.wire_bytes * 8.0 / 1e9;
        printf("capture %s: %zu packets, %.1f MB; median of %d runs\n", rfile, fr.n,
               fr.wire_bytes / 1e6, runs);
        printf("alerts only, no context   %9.0f packets/s  %6.2f Gbit/s  %.3f s CPU  "
               "(%llu lines)\n",
               fr.n / m0, gbit / m0, k0, (unsigned long long)l0);
        printf("alerts with their context %9.0f packets/s  %6.2f Gbit/s  %.3f s CPU  "
               "(%llu lines)\n",
               fr.n / m1, gbit / m1, k1, (unsigned long long)l1);
        printf("every event type          %9.0f packets/s  %6.2f Gbit/s  %.3f s CPU  "
               "(%llu lines, %.1f MB)\n",
               fr.n / m2, gbit / m2, k2, (unsigned long long)l2, b2 / 1e6);
        printf("every type / alerts with context: %.2fx the throughput (%.2fx by CPU time); "
               "/ alerts without context: %.2fx (%.2fx)\n",
               m1 / m2, k1 / k2, m0 / m2, k0 / k2);
        printf("peak RSS %ld MiB\n", rss_mib());
        fclose(s.out);
        free(s.line);
        cg_detect_destroy(d);
        cg_ruleset_destroy(rs);
        free(fr.buf);
        free(fr.off);
        free(fr.caplen);
        free(fr.wirelen);
        free(fr.ts);
        return 0;
    }
    double td[100], tx[100], tp[100];
    uint64_t palerts = 0, psalerts = 0;
    uint64_t sink = 0, alerts = 0, salerts = 0;
    for (int i = 0; i < runs; i++) {
        td[i] = run_decode(&fr, &sink);
        if (d) {
            alerts = 0;
            tx[i] = run_detect(&fr, d, no_stream, &alerts, &salerts);
            if (compare) {
                palerts = 0;
                tp[i] = run_detect(&fr, d, 1, &palerts, &psalerts);
            }
        }
    }
    double md = median(td, runs);
    double gbit = fr.wire_bytes * 8.0 / 1e9;
    uint32_t nr = 0;
    if (rs)
        cg_ruleset_rules(rs, &nr);
    printf("capture %s: %zu packets, %.1f MB; median of %d runs\n", rfile, fr.n,
           fr.wire_bytes / 1e6, runs);
    printf("decode only      %10.0f packets/s  %6.2f Gbit/s\n", fr.n / md, gbit / md);
    if (d) {
        double mx = median(tx, runs);
        printf("detect %5u rules %9.0f packets/s  %6.2f Gbit/s  (%.1f%% of decode only; "
               "%llu alerts per run, %llu on the stream; %s)\n",
               nr, fr.n / mx, gbit / mx, 100.0 * md / mx, (unsigned long long)alerts,
               (unsigned long long)salerts, no_stream ? "packets only" : "packets and streams");
        if (compare) {
            double mp = median(tp, runs);
            printf("detect %5u rules %9.0f packets/s  %6.2f Gbit/s  (%.1f%% of decode only; "
                   "%llu alerts per run; packets only)\n",
                   nr, fr.n / mp, gbit / mp, 100.0 * md / mp, (unsigned long long)palerts);
            printf("streams / packets only: %.2fx the throughput\n", mp / mx);
        }
    }
    printf("peak RSS %ld MiB\n", rss_mib());
    cg_detect_destroy(d);
    cg_ruleset_destroy(rs);
    free(fr.buf);
    free(fr.off);
    free(fr.caplen);
    free(fr.wirelen);
    free(fr.ts);
    return sink == 0xdeadbeef;
}
