/* fuzz_inspect.c — libFuzzer harness: the whole worker (cg_inspect).
 *
 * The input is a capture file (written to a scratch file, as fuzz_capture.c
 * does); every frame is decoded and handed to one cg_inspect, which runs the
 * flow table, reassembly, the HTTP, DNS and TLS parsers (want_app) and the
 * detection engine; at the end cg_inspect_finish ends every flow. The rules
 * are the shipped ones, rules/ with its vars.conf and classification.config,
 * loaded and compiled once (Hyperscan) at the first input: the harness runs
 * from the top of the tree (make fuzz, make test-san do), or with
 * CG_FUZZ_RULES naming the directory; it aborts when they cannot be loaded,
 * rather than fuzz with no rules. The worker is built once, with small
 * pools, and kept: at the end of each input cg_inspect_finish ends every
 * flow (their reassembly and parser state goes back to the pools), and the
 * state that spans flows, thresholds and xbits, lives in tables of the
 * harness (cfg.shared) that it clears after each input; so an input sees
 * nothing of the one before but the worker's counters. (A worker built per
 * input ran 95 inputs/s under ASan, its pools' pages mapped and zeroed each
 * time; kept, 4,500.) The rule set, the engine, the worker and the tables
 * are freed at exit. Every alert's rule and every event's strings are read.
 */
#include "tests/fuzz/fuzz_common.h"

#include "analyzer/engine/detect.h"
#include "analyzer/engine/inspect.h"
#include "analyzer/engine/threshold.h"
#include "analyzer/engine/xbits.h"
#include "analyzer/lang/rule.h"
#include "sensor/capture.h"
#include "sensor/decode.h"

static cg_ruleset *g_rs;
static cg_detect *g_d;
static cg_detect_shared g_sh;
static cg_inspect *g_in;

static void fz_fini(void)
{
    cg_inspect_destroy(g_in);
    cg_threshold_destroy(g_sh.th);
    cg_xbits_destroy(g_sh.xb);
    cg_detect_destroy(g_d);
    cg_ruleset_destroy(g_rs);
}

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream);
static void on_event(void *ctx, const cg_inspect_event *ev);

static void worker_init(void)
{
    char err[512];
    cg_inspect_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flow.memcap = 1u << 20;
    cfg.reasm.pool_bytes = 256u << 10;
    cfg.reasm.chunk_size = 4096;
    cfg.reasm.chunk_pool_bytes = 64u << 10;
    cfg.reasm.max_ooo_bytes = 16u << 10;
    cfg.http.max_flows = 16;
    cfg.http.req_buffers = 4;
    cfg.http.resp_buffers = 4;
    cfg.http.header_limit = 2048;
    cfg.http.req_body_limit = 4096;
    cfg.http.resp_body_limit = 8192;
    cfg.tls.max_flows = 4;
    cfg.tls.buf_size = 4096;
    cfg.want_app = 1;
    cfg.app_slots = 16;
    cfg.on_alert = on_alert;
    cfg.events = CG_INSPECT_EV_HTTP | CG_INSPECT_EV_DNS | CG_INSPECT_EV_TLS | CG_INSPECT_EV_FLOW |
        CG_INSPECT_EV_ANOMALY;
    cfg.on_event = on_event;
    if (cg_threshold_create(&g_sh.th, 1024) || cg_xbits_create(&g_sh.xb, 256)) {
        fprintf(stderr, "fuzz_inspect: out of memory\n");
        abort();
    }
    cfg.shared = &g_sh; /* no gate: one worker */
    if (cg_inspect_create(&g_in, g_d, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_inspect: %s\n", err);
        abort();
    }
}

static void fz_init(void)
{
    char err[512];
    const char *dir = getenv("CG_FUZZ_RULES");
    if (!dir)
        dir = "rules";
    if (cg_ruleset_create(&g_rs) || cg_ruleset_load_path(g_rs, dir, err, sizeof err) ||
        cg_detect_build(&g_d, g_rs, NULL, err, sizeof err)) {
        fprintf(stderr, "fuzz_inspect: rules %s: %s\n", dir, err);
        abort();
    }
    uint32_t n;
    cg_ruleset_rules(g_rs, &n);
    if (n == 0) {
        fprintf(stderr, "fuzz_inspect: no rules in %s\n", dir);
        abort();
    }
    worker_init();
    atexit(fz_fini);
}

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    (void)ctx;
    (void)f;
    (void)to_server;
    (void)stream;
    fz_sink += r->sid;
    if (p->payload)
        fz_touch(p->payload, p->payload_len);
}

static void on_event(void *ctx, const cg_inspect_event *ev)
{
    (void)ctx;
    if (ev->community_id)
        fz_touch(ev->community_id, strlen(ev->community_id));
    if (ev->anomaly)
        fz_touch(ev->anomaly, strlen(ev->anomaly));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_d)
        fz_init();
    const char *path = fz_file(data, size);
    if (!path)
        return 0;
    char err[512];
    cg_capture *c = NULL;
    if (cg_capture_open_file(&c, path, err, sizeof err) != 0)
        return 0;
    cg_inspect *in = g_in;
    int dlt = cg_capture_dlt(c);
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    cg_frame f;
    while (cg_capture_next(c, &f, err, sizeof err) == 1) {
        cg_packet p;
        if (cg_decode(&p, dlt, f.data, f.caplen, f.wirelen, f.ts_us, &st) == 0 && p.ipver)
            cg_inspect_packet(in, &p); /* as the pipeline does */
    }
    cg_inspect_finish(in);
    cg_inspect_stats s;
    cg_inspect_get_stats(in, &s);
    cg_threshold_clear(g_sh.th);
    cg_xbits_clear(g_sh.xb);
    cg_capture_close(c);
    return 0;
}
