/* test_pipeline.c — the pipeline module (analyzer/output/pipeline.h) as run drives
 * it: real captures from ../shared/data in memory, rules given as text, the
 * EVE file and the counters with 1, 2 and 4 workers (the same bytes), a
 * reload that takes and one that fails, control commands, and the
 * configurations it refuses. Store-free: the store's side is e2e's.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/output/eve_proto.h"
#include "analyzer/output/pipeline.h"
#include "sensor/capture.h"
#include "tests/check.h"

#define DATA "../shared/data/pcaps/"

typedef struct frames {
    cg_frame *v;
    uint8_t **bufs;
    uint64_t n;
    int dlt;
} frames;

static int load(const char *path, frames *fr)
{
    char err[512];
    cg_capture *c;
    if (cg_capture_open_file(&c, path, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    fr->dlt = cg_capture_dlt(c);
    cg_frame f;
    size_t cap = 0;
    while (cg_capture_next(c, &f, err, sizeof err) == 1) {
        if (fr->n == cap) {
            cap = cap ? cap * 2 : 1024;
            fr->v = realloc(fr->v, cap * sizeof *fr->v);
            fr->bufs = realloc(fr->bufs, cap * sizeof *fr->bufs);
        }
        uint8_t *b = malloc(f.caplen ? f.caplen : 1);
        memcpy(b, f.data, f.caplen);
        fr->bufs[fr->n] = b;
        fr->v[fr->n] = f;
        fr->v[fr->n].data = b;
        fr->n++;
    }
    cg_capture_close(c);
    return 0;
}

static void unload(frames *fr)
{
    for (uint64_t i = 0; i < fr->n; i++)
        free(fr->bufs[i]);
    free(fr->bufs);
    free(fr->v);
}

/* The rules: a list of texts; a load fails when fail is set. */
typedef struct rules {
    const char *const *text;
    int fail, loads;
} rules;

static int load_rules(void *ctx, cg_ruleset **out, char *err, size_t errlen)
{
    rules *r = ctx;
    r->loads++;
    if (r->fail) {
        snprintf(err, errlen, "test.rules:1: broken on purpose");
        return -1;
    }
    cg_ruleset *rs;
    if (cg_ruleset_create(&rs))
        return -1;
    for (int i = 0; r->text[i]; i++)
        if (cg_ruleset_add_rule(rs, r->text[i], err, errlen)) {
            cg_ruleset_destroy(rs);
            return -1;
        }
    *out = rs;
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void config(cg_pipeline_config *pc, const frames *fr, rules *r, uint32_t nw, const char *eve,
                   const cg_detectors_config *dc)
{
    memset(pc, 0, sizeof *pc);
    pc->rfile = "(memory)";
    pc->frames = fr->v;
    pc->nframes = fr->n;
    pc->frames_dlt = fr->dlt;
    pc->workers = nw;
    pc->queue_kib = 256; /* small rings: the writer and the reader wait */
    pc->load = load_rules;
    pc->load_ctx = r;
    pc->inspect.flow.max_flows = 4096;
    pc->inspect.want_app = 1;
    pc->detectors = dc;
    pc->eve_path = eve;
    pc->eve_types = CG_EVE_T_ALL;
    pc->window_s = 3600;
    pc->evidence = 5;
    pc->batch = 100;
}

static const char *const web_rules[] = {
    "alert http any any -> any any (msg:\"sqli union\"; http.uri; content:\"UNION\"; nocase; "
    "sid:101; rev:1;)",
    "alert tcp any any -> any any (msg:\"sqli select by_src\"; content:\"select\"; nocase; "
    "threshold: type limit, track by_src, count 2, seconds 60; sid:102; rev:1;)",
    "alert http any any -> any any (msg:\"dvwa\"; http.uri; content:\"/dvwa/\"; "
    "flowbits:set,seen.dvwa; sid:103; rev:1;)",
    "alert http any any -> any any (msg:\"dvwa again\"; flowbits:isset,seen.dvwa; "
    "http.uri; content:\"vulnerabilities\"; xbits:set,dvwa.client,track ip_src; "
    "sid:104; rev:1;)",
    NULL,
};

static const char *const reload_rules[] = {
    "alert http any any -> any any (msg:\"after the reload\"; http.uri; content:\"/dvwa/\"; "
    "sid:201; rev:1;)",
    NULL,
};

/* The same capture with 1, 2 and 4 workers: the same counters and the same
 * EVE bytes, in the same order. */
static void same_with_any_workers(const char *path, const cg_detectors_config *dc)
{
    frames fr = { 0 };
    CHECK(load(path, &fr) == 0);
    char *first = NULL;
    size_t first_len = 0;
    cg_pipeline_totals t1 = { 0 };
    static const uint32_t nws[] = { 1, 2, 4 };
    for (int k = 0; k < 3; k++) {
        char eve[] = "/tmp/cg-test-pipeline-XXXXXX";
        int fd = mkstemp(eve);
        CHECK(fd >= 0);
        close(fd);
        rules r = { .text = web_rules };
        cg_pipeline_config pc;
        config(&pc, &fr, &r, nws[k], eve, dc);
        cg_pipeline *pl;
        char err[512];
        int code;
        CHECK(cg_pipeline_create(&pl, &pc, &code, err, sizeof err) == 0);
        CHECK_EQ_U(cg_pipeline_run(pl, -1, NULL, NULL), 0);
        cg_pipeline_totals t;
        cg_pipeline_get_totals(pl, &t);
        cg_pipeline_destroy(pl);
        size_t len;
        char *got = slurp(eve, &len);
        unlink(eve);
        CHECK(got != NULL);
        CHECK_EQ_U(t.packets, fr.n);
        if (k == 0) {
            first = got;
            first_len = len;
            t1 = t;
            CHECK(t.eve_lines > 0);
        } else {
            CHECK_EQ_U(t.alerts, t1.alerts);
            CHECK_EQ_U(t.incidents_new, t1.incidents_new);
            CHECK_EQ_U(t.eve_lines, t1.eve_lines);
            CHECK_EQ_U(len, first_len);
            CHECK(got && first && len == first_len && memcmp(got, first, len) == 0);
            free(got);
        }
    }
    free(first);
    unload(&fr);
}

static void reload(void)
{
    frames fr = { 0 };
    CHECK(load(DATA "chrissanders/http_dvwa_sqlinjection.pcapng", &fr) == 0);
    char eve[] = "/tmp/cg-test-pipeline-XXXXXX";
    int fd = mkstemp(eve);
    close(fd);
    rules r = { .text = web_rules };
    cg_pipeline_config pc;
    config(&pc, &fr, &r, 2, eve, NULL);
    cg_pipeline *pl;
    char err[512], out[1 << 16];
    int code;
    CHECK(cg_pipeline_create(&pl, &pc, &code, err, sizeof err) == 0);
    CHECK_EQ_U(r.loads, 1);
    /* a rule set that does not load: the old one stays */
    r.fail = 1;
    cg_pipeline_ctl(pl, "reload", out, sizeof out);
    CHECK_CONTAINS(out, "\"error\"");
    CHECK_CONTAINS(out, "broken on purpose");
    CHECK_EQ_U(r.loads, 2);
    /* one that loads: the workers take it at their first packets */
    r.fail = 0;
    r.text = reload_rules;
    cg_pipeline_ctl(pl, "reload", out, sizeof out);
    CHECK_CONTAINS(out, "\"reloaded\":true");
    CHECK_EQ_U(r.loads, 3);
    CHECK_EQ_U(cg_pipeline_run(pl, -1, NULL, NULL), 0);
    cg_pipeline_totals t;
    cg_pipeline_get_totals(pl, &t);
    CHECK_EQ_U(t.reloads, 1);
    CHECK_EQ_U(t.reload_failures, 1);
    cg_pipeline_ctl(pl, "stats", out, sizeof out);
    CHECK_CONTAINS(out, "\"reloads\":1,\"reload_failures\":1");
    cg_pipeline_destroy(pl);
    size_t len;
    char *got = slurp(eve, &len);
    unlink(eve);
    CHECK(got && strstr(got, "\"signature_id\":201"));
    CHECK(got && !strstr(got, "\"signature_id\":103"));
    free(got);
    unload(&fr);
}

static void control(void)
{
    frames fr = { 0 };
    CHECK(load(DATA "chrissanders/synscan.pcapng", &fr) == 0);
    rules r = { .text = web_rules };
    cg_pipeline_config pc;
    config(&pc, &fr, &r, 2, NULL, NULL);
    cg_pipeline *pl;
    char err[512], out[1 << 16];
    int code;
    CHECK(cg_pipeline_create(&pl, &pc, &code, err, sizeof err) == 0);
    cg_pipeline_ctl(pl, "version", out, sizeof out);
    CHECK_CONTAINS(out, "\"version\":\"" CG_VERSION "\"");
    cg_pipeline_ctl(pl, "launch missiles", out, sizeof out);
    CHECK_CONTAINS(out, "{\"error\":\"unknown command \\\"launch missiles\\\"");
    cg_pipeline_ctl(pl, "reopen", out, sizeof out);
    CHECK_CONTAINS(out, "no EVE file to reopen");
    CHECK_EQ_U(cg_pipeline_run(pl, -1, NULL, NULL), 0);
    cg_pipeline_ctl(pl, "stats", out, sizeof out);
    char want[64];
    snprintf(want, sizeof want, "\"decoder\":{\"pkts\":%llu,", (unsigned long long)fr.n);
    CHECK_CONTAINS(out, want);
    CHECK_CONTAINS(out, "\"per_worker\":[{\"worker\":0,");
    cg_pipeline_destroy(pl);

    /* refused configurations */
    config(&pc, &fr, &r, 0, NULL, NULL);
    CHECK(cg_pipeline_create(&pl, &pc, &code, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "--workers: between 1 and 64, not 0");
    CHECK_EQ_U(code, 2);
    config(&pc, &fr, &r, 65, NULL, NULL);
    CHECK(cg_pipeline_create(&pl, &pc, &code, err, sizeof err) == -1);
    r.fail = 1;
    config(&pc, &fr, &r, 2, NULL, NULL);
    CHECK(cg_pipeline_create(&pl, &pc, &code, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "broken on purpose");
    CHECK_EQ_U(code, 2);
    r.fail = 0;
    config(&pc, &fr, &r, 2, "/nonexistent-dir/eve.json", NULL);
    CHECK(cg_pipeline_create(&pl, &pc, &code, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "/nonexistent-dir/eve.json: No such file or directory");
    unload(&fr);
}

int main(void)
{
    cg_detectors_config dc;
    cg_detectors_defaults(&dc);
    same_with_any_workers(DATA "chrissanders/http_dvwa_sqlinjection.pcapng", NULL);
    same_with_any_workers(DATA "chrissanders/synscan.pcapng", &dc);
    reload();
    control();
    return check_done("pipeline");
}
