/* fuzz_http.c — libFuzzer harness: the HTTP/1.x parser (sensor/http.h).
 *
 * Input: fz_cut's (fuzz_common.h): how to cut the bytes into pieces of
 * either direction, then the bytes.
 * One flow of one parser (small pools), ended with cg_http_end, then the
 * parser's invariants are checked (cg_http_check; a failure aborts) and it is
 * destroyed: nothing is kept between inputs. Every buffer of every message
 * delivered is read.
 */
#include "tests/fuzz/fuzz_common.h"

#include "sensor/http.h"
#include "sensor/reasm.h"

static void on_tx(void *ctx, const cg_bufset *b, int to_server)
{
    (void)ctx;
    (void)to_server;
    fz_touch_bufset(b);
}

typedef struct fz_http_ctx {
    cg_http *h;
    cg_http_flow *hf;
} fz_http_ctx;

static void piece(void *ctx, int to_server, const uint8_t *p, uint32_t len, uint32_t flags)
{
    fz_http_ctx *c = ctx;
    cg_http_feed(c->h, c->hf, to_server, p, len, flags, on_tx, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_flows = 2;
    cfg.req_buffers = 2;
    cfg.resp_buffers = 2;
    cfg.header_limit = 1024;
    cfg.req_body_limit = 4096;
    cfg.resp_body_limit = 8192;
    cg_http *h = NULL;
    if (cg_http_create(&h, &cfg) != 0)
        abort();
    cg_http_flow hf;
    memset(&hf, 0, sizeof hf);

    fz_http_ctx c = { h, &hf };
    fz_cut(data, size, piece, &c, CG_REASM_GAP, CG_REASM_END);
    cg_http_end(h, &hf, on_tx, NULL);
    if (cg_http_check(h) != 0) {
        fprintf(stderr, "fuzz_http: cg_http_check failed\n");
        abort();
    }
    cg_http_stats st;
    cg_http_get_stats(h, &st);
    if (st.flows_active != 0) {
        fprintf(stderr, "fuzz_http: %u flow states still in use after cg_http_end\n",
                st.flows_active);
        abort();
    }
    cg_http_destroy(h);
    return 0;
}
