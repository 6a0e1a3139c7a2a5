/* fuzz_tls.c — libFuzzer harness: the TLS handshake parser (sensor/tls.h).
 *
 * Input: fz_cut's (fuzz_common.h): how to cut the bytes into pieces of either
 * direction, then the bytes (a ClientHello record to the server first, or the
 * flow is not TLS). One flow of one engine (a small pool and buffer), fed
 * while cg_tls_feed says it may still be parsed, ended with cg_tls_end and
 * destroyed: nothing is kept between inputs. The first certificate goes
 * through OpenSSL (d2i_X509). Every buffer handed out is read.
 */
#include "tests/fuzz/fuzz_common.h"

#include "sensor/reasm.h"
#include "sensor/tls.h"

typedef struct fz_tls_ctx {
    cg_tls *e;
    cg_tls_flow *f;
    int live;
} fz_tls_ctx;

static void on_msg(void *ctx, const cg_bufset *b, int to_server)
{
    (void)ctx;
    (void)to_server;
    fz_touch_bufset(b);
}

static void piece(void *ctx, int to_server, const uint8_t *p, uint32_t len, uint32_t flags)
{
    fz_tls_ctx *c = ctx;
    if (c->live)
        c->live = cg_tls_feed(c->e, c->f, to_server, p, len, flags, on_msg, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_tls_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_flows = 1;
    cfg.buf_size = 4096;
    cg_tls *e = NULL;
    if (cg_tls_create(&e, &cfg) != 0)
        abort();
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    fz_tls_ctx c = { e, &f, 1 };
    fz_cut(data, size, piece, &c, CG_REASM_GAP, CG_REASM_END);
    cg_tls_end(e, &f);
    cg_tls_stats st;
    cg_tls_get_stats(e, &st);
    cg_tls_destroy(e);
    return 0;
}
