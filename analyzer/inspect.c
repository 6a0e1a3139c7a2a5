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

#include "sensor/dns.h"
#include "sensor/http.h"
#include "sensor/tls.h"

#define DNS_TCP_SLOTS 256        /* DNS-over-TCP flows framed at once */
#define DNS_PORT 53

/* A flow's state here, in the flow table's user area; flowbits follow it. */
typedef struct iflow {
    cg_reasm_flow rf;
    cg_http_flow hf;
    cg_tls_flow tf;
    cg_flowinfo fi;
    uint16_t dns_slot;           /* DNS-over-TCP framing: slot + 1, or 0 */
    uint8_t tls_done;            /* the TLS parser stopped taking this flow's bytes */
    uint64_t bits[];             /* cg_detect_flowbit_words() words */
} iflow;

struct cg_inspect {
    const cg_detect *d;
    cg_detect_worker *w;
    cg_flowtable *ft;
    cg_reasm *r;
    cg_http *http;
    cg_tls *tls;
    cg_inspect_config cfg;
    uint64_t refused;
    /* the packet being inspected, for what its bytes complete */
    const cg_packet *cur;
    cg_flow *cur_flow;
    cg_packet synth;             /* a packet standing for a flow that ends */
    /* DNS */
    uint8_t dns_scratch[CG_DNS_SCRATCH_SIZE];
    cg_bufset dns_bs;
    cg_dns_stats dns_st;
    cg_dns_tcp (*dns_tcp)[2];
    uint16_t dns_free[DNS_TCP_SLOTS];
    uint32_t ndns_free;
};

static void detect_tx(cg_inspect *in, const cg_bufset *bs, int to_server);

/* The packet an alert of flow f is attributed to: the one being inspected when
 * it belongs to f, else (a flow ending) one made from the flow itself. */
static const cg_packet *packet_for(cg_inspect *in, cg_flow *f, int to_server)
{
    if (in->cur && in->cur_flow == f)
        return in->cur;
    cg_packet *p = &in->synth;
    memset(p, 0, sizeof *p);
    p->ts_us = f->last_us;
    p->ipver = cg_addr_is_v4(f->cli) ? 4 : 6;
    p->proto = f->proto;
    p->flags = CG_PKT_HAS_PORTS;
    memcpy(p->src, to_server ? f->cli : f->srv, 16);
    memcpy(p->dst, to_server ? f->srv : f->cli, 16);
    p->sport = to_server ? f->cport : f->sport;
    p->dport = to_server ? f->sport : f->cport;
    return p;
}

typedef struct txctx {
    cg_inspect *in;
    cg_flow *f;
    uint8_t app;
} txctx;

static void on_tx(void *ctx, const cg_bufset *bs, int to_server)
{
    txctx *t = ctx;
    iflow *uf = cg_flow_user(t->f);
    if (uf->fi.app_proto == CG_APP_NONE)
        uf->fi.app_proto = t->app;
    cg_inspect *in = t->in;
    cg_flow *saved = in->cur_flow;
    in->cur_flow = t->f;
    detect_tx(in, bs, to_server);
    in->cur_flow = saved;
}

static void dns_tcp_release(cg_inspect *in, iflow *uf)
{
    if (uf->dns_slot) {
        in->dns_free[in->ndns_free++] = (uint16_t)(uf->dns_slot - 1);
        uf->dns_slot = 0;
    }
}

static void dns_message(cg_inspect *in, cg_flow *f, int to_server, const uint8_t *msg,
                        uint32_t len, uint32_t wire_len)
{
    iflow *uf = cg_flow_user(f);
    cg_dns_msg m;
    int rc = cg_dns_parse(msg, len, wire_len, in->dns_scratch, sizeof in->dns_scratch,
                          &in->dns_bs, &m, &in->dns_st);
    (void)rc;                    /* what parsed before an error is still inspected */
    if (uf->fi.app_proto == CG_APP_NONE)
        uf->fi.app_proto = CG_APP_DNS;
    if (in->dns_bs.present) {
        cg_flow *saved = in->cur_flow;
        in->cur_flow = f;
        detect_tx(in, &in->dns_bs, to_server);
        in->cur_flow = saved;
    }
}

/* In-order stream pieces: to the application parsers. */
static void on_data(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    cg_inspect *in = ctx;
    cg_flow *f = owner;
    iflow *uf = cg_flow_user(f);
    int ts = c->to_server;
    uint8_t app = uf->fi.app_proto;

    if (f->sport == DNS_PORT || f->cport == DNS_PORT) {
        if (!uf->dns_slot) {
            if (in->ndns_free == 0)
                return;
            uint16_t k = in->dns_free[--in->ndns_free];
            memset(in->dns_tcp[k], 0, sizeof in->dns_tcp[k]);
            uf->dns_slot = (uint16_t)(k + 1);
        }
        cg_dns_tcp *t = &in->dns_tcp[uf->dns_slot - 1][ts ? 1 : 0];
        cg_dns_frame fr;
        if (c->flags & CG_REASM_GAP)
            cg_dns_tcp_gap(t, &in->dns_st);
        const uint8_t *d = c->data;
        uint32_t n = c->len;
        while (cg_dns_tcp_next(t, &d, &n, &fr, &in->dns_st) == 1)
            dns_message(in, f, ts, fr.msg, fr.len, fr.wire_len);
        if ((c->flags & (CG_REASM_END | CG_REASM_DEPTH)) &&
            cg_dns_tcp_end(t, &fr, &in->dns_st) == 1)
            dns_message(in, f, ts, fr.msg, fr.len, fr.wire_len);
        return;
    }
    if ((app == CG_APP_NONE || app == CG_APP_HTTP) && in->http) {
        txctx t = {in, f, CG_APP_HTTP};
        cg_http_feed(in->http, &uf->hf, ts, c->data, c->len, c->flags, on_tx, &t);
    }
    if ((app == CG_APP_NONE || app == CG_APP_TLS) && in->tls && !uf->tls_done) {
        txctx t = {in, f, CG_APP_TLS};
        if (!cg_tls_feed(in->tls, &uf->tf, ts, c->data, c->len, c->flags, on_tx, &t))
            uf->tls_done = 1;
    }
}

static void on_evict(void *ctx, cg_flow *f, int reason)
{
    cg_inspect *in = ctx;
    iflow *uf = cg_flow_user(f);
    (void)reason;
    if (in->r)
        cg_reasm_end(in->r, &uf->rf, f);
    if (in->http) {
        txctx t = {in, f, CG_APP_HTTP};
        cg_http_end(in->http, &uf->hf, on_tx, &t);
    }
    if (in->tls)
        cg_tls_end(in->tls, &uf->tf);
    dns_tcp_release(in, uf);
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
    if (!cg_detect_needs_app(d))
        in->cfg.no_app = 1;         /* no rule would look at what parsers produce */
    if (cg_detect_worker_create(&in->w, d, err, errlen))
        goto fail;
    if (!in->cfg.no_stream) {
        cg_reasm_config rc = in->cfg.reasm;
        rc.on_chunk = on_chunk;
        rc.on_data = in->cfg.no_app ? NULL : on_data;
        rc.low_latency = 0;
        rc.ctx = in;
        if (cg_reasm_create(&in->r, &rc)) {
            snprintf(err, errlen, "cannot set up stream reassembly (sizes out of range, or "
                     "out of memory)");
            goto fail;
        }
    }
    if (!in->cfg.no_stream && !in->cfg.no_app) {
        if (cg_http_create(&in->http, &in->cfg.http) || cg_tls_create(&in->tls, &in->cfg.tls)) {
            snprintf(err, errlen, "cannot set up the HTTP and TLS parsers (out of memory)");
            goto fail;
        }
        in->dns_tcp = calloc(DNS_TCP_SLOTS, sizeof *in->dns_tcp);
        if (!in->dns_tcp) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (uint32_t i = 0; i < DNS_TCP_SLOTS; i++)
            in->dns_free[in->ndns_free++] = (uint16_t)(DNS_TCP_SLOTS - 1 - i);
    }
    cg_flow_config fc = in->cfg.flow;
    fc.user_size = (uint32_t)(sizeof(iflow) + cg_detect_flowbit_words(d) * sizeof(uint64_t));
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
    cg_http_destroy(in->http);
    cg_tls_destroy(in->tls);
    free(in->dns_tcp);
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

static void detect_tx(cg_inspect *in, const cg_bufset *bs, int to_server)
{
    cg_flow *f = in->cur_flow;
    iflow *uf = cg_flow_user(f);
    const cg_packet *p = packet_for(in, f, to_server);
    const cg_rule *const *al;
    cg_detect_set_flow(in->w, uf->bits, &uf->fi);
    uint32_t n = cg_detect_tx(in->w, bs, p, f, to_server, &al);
    emit_alerts(in, p, f, to_server, al, n, 0);
}

/* stream_size counts as Suricata does: the next sequence number minus the
 * ISN, so the SYN counts one. */
static void sizes(iflow *uf)
{
    uf->fi.client_seq = (uint32_t)(cg_reasm_next_offset(&uf->rf, 1) + 1);
    uf->fi.server_seq = (uint32_t)(cg_reasm_next_offset(&uf->rf, 0) + 1);
}

void cg_inspect_packet(cg_inspect *in, const cg_packet *p)
{
    int to_server = 1;
    cg_flow *f = cg_flowtable_update(in->ft, p, &to_server);
    const cg_rule *const *al;
    uint32_t n;
    if (!f) {
        if (p->ipver != 0)
            in->refused++;
        cg_detect_set_flow(in->w, NULL, NULL);
        n = cg_detect_packet(in->w, p, NULL, to_server, &al);
        emit_alerts(in, p, NULL, to_server, al, n, 0);
        return;
    }
    iflow *uf = cg_flow_user(f);
    in->cur = p;
    in->cur_flow = f;
    int tcp = in->r && p->proto == 6 && (p->flags & CG_PKT_HAS_PORTS);
    uint64_t before = 0, after = 0;

    /* 1. the stream and the application parsers (their transactions alert) */
    if (tcp) {
        before = cg_reasm_next_offset(&uf->rf, to_server);
        cg_reasm_packet(in->r, &uf->rf, f, to_server, p);
        after = cg_reasm_next_offset(&uf->rf, to_server);
        sizes(uf);
    } else if (p->proto == 17 && (p->sport == DNS_PORT || p->dport == DNS_PORT) &&
               !in->cfg.no_app && p->payload_len > 0 && !(p->flags & CG_PKT_FRAG_LATER)) {
        dns_message(in, f, to_server, p->payload, p->payload_len, p->payload_len);
    }

    /* 2. the packet */
    cg_detect_set_flow(in->w, uf->bits, &uf->fi);
    n = cg_detect_packet(in->w, p, f, to_server, &al);
    emit_alerts(in, p, f, to_server, al, n, 0);

    /* 3. what spans segments */
    const uint8_t *wd;
    uint32_t wl;
    uint64_t woff;
    if (tcp && after > before && !cg_reasm_window(in->r, &uf->rf, to_server, &wd, &wl, &woff) &&
        woff + wl == after && after - before <= wl) {
        uint32_t new_from = (uint32_t)(wl - (after - before));
        /* only this packet's own bytes and nothing before them: the packet
         * path saw all of it */
        if (!(new_from == 0 && after - before == p->payload_len)) {
            n = cg_detect_stream(in->w, wd, wl, new_from, p, f, to_server, &al);
            emit_alerts(in, p, f, to_server, al, n, 1);
        }
    }
    in->cur = NULL;
    in->cur_flow = NULL;
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
    if (in->http)
        cg_http_get_stats(in->http, &out->http);
    if (in->tls)
        cg_tls_get_stats(in->tls, &out->tls);
    out->dns = in->dns_st;
    out->refused = in->refused;
}
