/* inspect.c — a worker's packet path: flow, reassembly, detection (see
 * inspect.h).
 *
 * Per flow, the flow table's user area holds the flow's reassembly state
 * (iflow). Reassembly accumulates each direction's in-order bytes in chunk
 * buffers of its pool; after a TCP packet moved a direction on, the bytes of
 * that chunk are the stream window: the new bytes at its end and up to a chunk
 * of what came before. A window begins afresh after a hole (no match spans a
 * gap) and when a chunk is full (a split exactly there is not seen: at most
 * one in 64 KiB of stream). Bytes that only come out when a flow ends (held
 * past a hole that never filled) are not inspected on the stream; their
 * packets were, one by one.
 */
#include "analyzer/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct iflow {
    cg_reasm_flow rf;
} iflow;

struct cg_inspect {
    const cg_detect *d;
    cg_detect_worker *w;
    cg_flowtable *ft;
    cg_reasm *r;
    cg_inspect_config cfg;
    uint64_t refused;
};

static void on_evict(void *ctx, cg_flow *f, int reason)
{
    cg_inspect *in = ctx;
    (void)reason;
    if (in->r)
        cg_reasm_end(in->r, cg_flow_user(f), f);
}

/* Full chunks: their bytes were inspected as they came (see above). */
static void on_chunk(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    (void)ctx; (void)owner; (void)c;
}

int cg_inspect_create(cg_inspect **out, const cg_detect *d, const cg_inspect_config *cfg,
                      char *err, size_t errlen)
{
    cg_inspect *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    in->d = d;
    if (cfg)
        in->cfg = *cfg;
    if (cg_detect_worker_create(&in->w, d, err, errlen))
        goto fail;
    if (!in->cfg.no_stream) {
        cg_reasm_config rc = in->cfg.reasm;
        rc.on_chunk = on_chunk;
        rc.on_data = NULL;
        rc.low_latency = 0;
        rc.ctx = in;
        if (cg_reasm_create(&in->r, &rc)) {
            snprintf(err, errlen, "cannot set up stream reassembly (sizes out of range, or "
                     "out of memory)");
            goto fail;
        }
    }
    cg_flow_config fc = in->cfg.flow;
    fc.user_size = sizeof(iflow);
    fc.on_evict = on_evict;
    fc.evict_ctx = in;
    if (cg_flowtable_create(&in->ft, &fc)) {
        snprintf(err, errlen, "cannot set up the flow table (memory cap too small, or out "
                 "of memory)");
        goto fail;
    }
    *out = in;
    return 0;
fail:
    cg_inspect_destroy(in);
    return -1;
}

void cg_inspect_destroy(cg_inspect *in)
{
    if (!in)
        return;
    if (in->ft) {
        cg_flowtable_evict_all(in->ft);
        cg_flowtable_destroy(in->ft);
    }
    cg_reasm_destroy(in->r);
    cg_detect_worker_destroy(in->w);
    free(in);
}

static void emit_alerts(cg_inspect *in, const cg_packet *p, const cg_flow *f, int to_server,
                  const cg_rule *const *al, uint32_t n, int stream)
{
    if (!in->cfg.on_alert)
        return;
    for (uint32_t i = 0; i < n; i++)
        in->cfg.on_alert(in->cfg.ctx, p, f, to_server, al[i], stream);
}

void cg_inspect_packet(cg_inspect *in, const cg_packet *p)
{
    int to_server = 1;
    cg_flow *f = cg_flowtable_update(in->ft, p, &to_server);
    const cg_rule *const *al;
    if (!f && p->ipver != 0)
        in->refused++;
    uint32_t n = cg_detect_packet(in->w, p, f, to_server, &al);
    emit_alerts(in, p, f, to_server, al, n, 0);

    if (!f || !in->r || p->proto != 6 || !(p->flags & CG_PKT_HAS_PORTS))
        return;
    iflow *uf = cg_flow_user(f);
    uint64_t before = cg_reasm_next_offset(&uf->rf, to_server);
    cg_reasm_packet(in->r, &uf->rf, f, to_server, p);
    uint64_t after = cg_reasm_next_offset(&uf->rf, to_server);
    const uint8_t *wd;
    uint32_t wl;
    uint64_t woff;
    if (after <= before || cg_reasm_window(in->r, &uf->rf, to_server, &wd, &wl, &woff))
        return;
    uint64_t end = woff + wl;
    if (end != after || after - before > wl)
        return;                      /* the window does not hold all the new bytes */
    uint32_t new_from = (uint32_t)(wl - (after - before));
    /* Only this packet's own bytes and nothing before them: the packet path
     * saw all of it. */
    if (new_from == 0 && after - before == p->payload_len)
        return;
    n = cg_detect_stream(in->w, wd, wl, new_from, p, f, to_server, &al);
    emit_alerts(in, p, f, to_server, al, n, 1);
}

void cg_inspect_finish(cg_inspect *in)
{
    cg_flowtable_evict_all(in->ft);
}

void cg_inspect_get_stats(const cg_inspect *in, cg_inspect_stats *out)
{
    memset(out, 0, sizeof *out);
    cg_flowtable_stats(in->ft, &out->flow);
    if (in->r)
        cg_reasm_get_stats(in->r, &out->reasm);
    cg_detect_worker_stats(in->w, &out->detect);
    out->refused = in->refused;
}
