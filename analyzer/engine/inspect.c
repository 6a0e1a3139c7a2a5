/* inspect.c — a worker's packet path: flow, reassembly, application parsing,
 * detection (see inspect.h).
 *
 * Per flow, the flow table's user area holds the flow's reassembly and parser
 * state and its flowbits (iflow). A TCP packet goes to reassembly first: the
 * in-order bytes feed the HTTP, TLS and DNS parsers (whose transactions are
 * inspected as they complete) and accumulate in the direction's chunk buffer
 * (64 KiB). The stream rules are matched on those bytes in large pieces, not
 * packet by packet: a direction's bytes not yet inspected are inspected
 *  - when a packet of that direction with PSH (its sender's push: the end of
 *    an application write) or FIN moved the stream on, or released bytes
 *    held out of order;
 *  - when the other side sends data (a turn of the conversation);
 *  - when a chunk is full, at a hole, at the end of the stream (FIN, RST,
 *    depth, the flow's end);
 *  - when they have waited a second (capture time) at the flow's next packet.
 * An inspection sees up to 1 KiB of the bytes before the new ones, so what a
 * sender split over segments, pushes or turns is found (cg_detect_stream).
 * The packet itself is then checked only against the rules that need a
 * packet (cg_detect_packet_streamed); a packet whose bytes the stream did not
 * take as they came (past the depth, dropped, a copy that differs, a
 * direction not reassembled) is checked against every rule, as without
 * reassembly. No match spans a hole; a chunk that follows a full one starts
 * with its last 1 KiB (reasm's chunk_keep), so what spans the two is found.
 */
#include "analyzer/engine/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sensor/dns.h"
#include "sensor/http.h"
#include "sensor/tls.h"

#define DNS_TCP_SLOTS 256 /* DNS-over-TCP flows framed at once */
#define DNS_PORT 53

/* A flow's state here, in the flow table's user area; flowbits follow it. */
typedef struct iflow {
    cg_reasm_flow rf;
    cg_http_flow hf;
    cg_tls_flow tf;
    cg_flowinfo fi;
    uint64_t inspected[2];  /* per direction [to_server]: stream offset inspected up to */
    uint64_t waiting_us[2]; /* time the first byte not inspected came; 0: none */
    uint16_t dns_slot;      /* DNS-over-TCP framing: slot + 1, or 0 */
    uint8_t tls_done;       /* the TLS parser stopped taking this flow's bytes */
    uint8_t tail[2];        /* per direction: cg_detect_stream's state */
    uint8_t probe;          /* PROBE_*: what probe_app has seen of the first bytes */
    uint8_t alerted;        /* a rule alerted on the flow (its EVE flow record) */
    uint32_t appctx;        /* its application context (appctx.h): handle, 0: none */
    uint64_t bits[];        /* cg_detect_flowbit_words() words */
} iflow;

struct cg_inspect {
    const cg_detect *d;
    cg_detect_worker *w;
    uint32_t bits_words; /* flowbit and flowint words each flow holds */
    uint64_t switches;   /* engines switched to (cg_inspect_switch) */
    cg_flowtable *ft;
    cg_reasm *r;
    cg_http *http;
    cg_tls *tls;
    cg_inspect_config cfg;
    uint64_t refused;
    /* the packet being inspected, for what its bytes complete */
    const cg_packet *cur;
    cg_flow *cur_flow;
    int cur_to_server;
    cg_packet synth; /* a packet standing for a flow that ends */
    /* DNS */
    uint8_t dns_scratch[CG_DNS_SCRATCH_SIZE];
    cg_bufset dns_bs;
    cg_dns_stats dns_st;
    cg_dns_tcp (*dns_tcp)[2];
    uint16_t dns_free[DNS_TCP_SLOTS];
    uint32_t ndns_free;
    /* application contexts (want_app), what on_alert may ask, events */
    cg_appctx_pool *app;
    cg_dns_detail dns_det;
    cg_alert_info ainfo;
    int in_alert;                       /* inside on_alert for a rule's alert: ainfo holds */
    uint64_t seen_gaps, seen_conflicts; /* reassembly counters already reported */
    /* Community IDs of the flows events came from, by flow id: a flow's
     * records compute its SHA-1 once */
    struct cid_entry {
        uint8_t cli[16], srv[16];
        uint16_t cport, sport;
        uint8_t proto, used;
        char cid[40];
    } cids[256];
};

static void detect_tx(cg_inspect *in, const cg_bufset *bs, int to_server);

/* The packet an alert of flow f in a direction is attributed to: the one being
 * inspected when it is of f and that direction, else one made from the flow
 * itself (no frame, so no evidence bytes). */
static const cg_packet *packet_for(cg_inspect *in, cg_flow *f, int to_server)
{
    if (in->cur && in->cur_flow == f && in->cur_to_server == to_server)
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

/* Alerts of the detectors (detectors.h), of flow f (NULL: a scan's, whose
 * packet stands for the scanner and a host). */
static void gate_enter(cg_inspect *in)
{
    if (in->cfg.shared && in->cfg.shared->gate)
        in->cfg.shared->gate->enter(in->cfg.shared->gate->ctx);
}

static void gate_leave(cg_inspect *in)
{
    if (in->cfg.shared && in->cfg.shared->gate)
        in->cfg.shared->gate->leave(in->cfg.shared->gate->ctx);
}

/* (called under the gate: da is the shared detectors' buffer) */
static void det_emit(cg_inspect *in, const cg_flow *f, uint32_t n, const cg_det_alert *da)
{
    for (uint32_t i = 0; i < n && in->cfg.on_alert; i++)
        in->cfg.on_alert(in->cfg.ctx, da[i].pkt, f, 1, da[i].rule, 0);
}

/* ---- application contexts and protocol events ---------------------------- */

static int want_event(const cg_inspect *in, int type)
{
    return in->cfg.on_event && (in->cfg.events & (uint32_t)type);
}

/* The Community ID of f (whose packet p is), from the cache when its tuple
 * is there. */
static const char *flow_cid(cg_inspect *in, const cg_flow *f, const cg_packet *p)
{
    struct cid_entry *e = &in->cids[f->id & 255];
    if (e->used && e->proto == f->proto && e->cport == f->cport && e->sport == f->sport &&
        !memcmp(e->cli, f->cli, 16) && !memcmp(e->srv, f->srv, 16))
        return e->cid;
    e->used = 0;
    if (cg_community_id(p, 0, e->cid, sizeof e->cid))
        return "";
    memcpy(e->cli, f->cli, 16);
    memcpy(e->srv, f->srv, 16);
    e->cport = f->cport;
    e->sport = f->sport;
    e->proto = f->proto;
    e->used = 1;
    return e->cid;
}

/* Hands event ev of flow f (its type-specific fields set) to on_event. */
static void emit_event(cg_inspect *in, cg_flow *f, int type, int to_server, cg_inspect_event *ev)
{
    iflow *uf = cg_flow_user(f);
    ev->type = type;
    ev->f = f;
    ev->to_server = to_server;
    ev->p = packet_for(in, f, to_server);
    ev->community_id = flow_cid(in, f, ev->p);
    ev->app_proto = uf->fi.app_proto;
    if (!ev->app && in->app)
        ev->app = cg_appctx_of(in->app, uf->appctx);
    in->cfg.on_event(in->cfg.ctx, ev);
}

/* The HTTP request of c, with its response if paired, goes out (once). */
static void http_event(cg_inspect *in, cg_flow *f, cg_appctx *c)
{
    c->http.logged = 1;
    if (want_event(in, CG_INSPECT_EV_HTTP)) {
        cg_inspect_event ev = { .app = c };
        emit_event(in, f, CG_INSPECT_EV_HTTP, 1, &ev);
    }
}

static void tls_event(cg_inspect *in, cg_flow *f, cg_appctx *c)
{
    c->tls.logged = 1;
    if (want_event(in, CG_INSPECT_EV_TLS)) {
        cg_inspect_event ev = { .app = c };
        emit_event(in, f, CG_INSPECT_EV_TLS, 1, &ev);
    }
}

/* An HTTP or TLS transaction of f into its context, before detection sees
 * it (so that its alerts carry it). Returns the event it completes (0:
 * none), to go out after detection, after its alerts. */
static int app_tx(cg_inspect *in, cg_flow *f, uint8_t app, const cg_bufset *bs, int to_server)
{
    iflow *uf = cg_flow_user(f);
    cg_appctx *c = cg_appctx_take(in->app, &uf->appctx);
    if (app == CG_APP_HTTP) {
        if (!to_server)
            return cg_appctx_http_response(c, bs) ? CG_INSPECT_EV_HTTP : 0;
        if (cg_appctx_http_unlogged(c))
            http_event(in, f, c); /* the next request came first */
        cg_appctx_http_request(c, bs);
        return 0;
    }
    cg_appctx_tls_message(c, bs, to_server);
    uint16_t v = c->tls.server_version;
    int tls13 = c->tls.server_hello && (v == 0x0304 || (v & 0xff00) == 0x7f00);
    return !c->tls.logged && !to_server && (c->tls.certificate || tls13) ? CG_INSPECT_EV_TLS : 0;
}

static void app_done(cg_inspect *in, cg_flow *f, int ev)
{
    cg_appctx *c = cg_appctx_of(in->app, ((iflow *)cg_flow_user(f))->appctx);
    if (c && ev == CG_INSPECT_EV_HTTP)
        http_event(in, f, c);
    else if (c && ev == CG_INSPECT_EV_TLS)
        tls_event(in, f, c);
}

/* What the reassembly counted since the last call (gaps, bytes that differed
 * from the copy kept) as stream anomalies of f in a direction. */
static void stream_anomalies(cg_inspect *in, cg_flow *f, int to_server)
{
    cg_reasm_stats rs;
    cg_reasm_get_stats(in->r, &rs);
    for (; in->seen_gaps < rs.gaps; in->seen_gaps++) {
        cg_inspect_event ev = { .anomaly = "stream.reassembly_seq_gap" };
        emit_event(in, f, CG_INSPECT_EV_ANOMALY, to_server, &ev);
    }
    if (in->seen_conflicts != rs.conflict_bytes) {
        in->seen_conflicts = rs.conflict_bytes;
        cg_inspect_event ev = { .anomaly = "stream.reassembly_overlap_different_data" };
        emit_event(in, f, CG_INSPECT_EV_ANOMALY, to_server, &ev);
    }
}

/* The flow ends: what of its context was not logged goes out, then the flow
 * record; its context goes back. */
static void app_flow_end(cg_inspect *in, cg_flow *f, int reason)
{
    iflow *uf = cg_flow_user(f);
    cg_appctx *c = in->app ? cg_appctx_of(in->app, uf->appctx) : NULL;
    if (c && cg_appctx_http_unlogged(c))
        http_event(in, f, c);
    if (c && !c->tls.logged && (c->tls.client_hello || c->tls.server_hello))
        tls_event(in, f, c);
    if (in->r && want_event(in, CG_INSPECT_EV_ANOMALY))
        stream_anomalies(in, f, 1);
    if (want_event(in, CG_INSPECT_EV_FLOW)) {
        cg_inspect_event ev = { .flow_reason = reason, .alerted = uf->alerted };
        emit_event(in, f, CG_INSPECT_EV_FLOW, 1, &ev);
    }
    if (in->app)
        cg_appctx_release(in->app, &uf->appctx);
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
    int ev = in->app ? app_tx(in, t->f, t->app, bs, to_server) : 0;
    detect_tx(in, bs, to_server);
    if (ev)
        app_done(in, t->f, ev);
    in->cur_flow = saved;
}

static void dns_tcp_release(cg_inspect *in, iflow *uf)
{
    if (uf->dns_slot) {
        in->dns_free[in->ndns_free++] = (uint16_t)(uf->dns_slot - 1);
        uf->dns_slot = 0;
    }
}

static void dns_message(cg_inspect *in, cg_flow *f, int to_server, const uint8_t *msg, uint32_t len,
                        uint32_t wire_len)
{
    iflow *uf = cg_flow_user(f);
    cg_dns_msg m;
    int rc = cg_dns_parse_detail(msg, len, wire_len, in->dns_scratch, sizeof in->dns_scratch,
                                 &in->dns_bs, &m, &in->dns_st, in->app ? &in->dns_det : NULL);
    /* what parsed before an error is still inspected */
    if (uf->fi.app_proto == CG_APP_NONE)
        uf->fi.app_proto = CG_APP_DNS;
    int parsed = rc == CG_OK || rc == CG_ETRUNCATED;
    if (in->app && parsed)
        cg_appctx_dns_message(cg_appctx_take(in->app, &uf->appctx), &m, &in->dns_det);
    if (in->dns_bs.present && !in->cfg.no_app) {
        cg_flow *saved = in->cur_flow;
        in->cur_flow = f;
        detect_tx(in, &in->dns_bs, to_server);
        in->cur_flow = saved;
    }
    if (in->app && parsed && want_event(in, CG_INSPECT_EV_DNS)) {
        cg_inspect_event ev = { .dns = &m, .dns_detail = &in->dns_det };
        emit_event(in, f, CG_INSPECT_EV_DNS, to_server, &ev);
    } else if (in->app && !parsed && want_event(in, CG_INSPECT_EV_ANOMALY)) {
        cg_inspect_event ev = { .anomaly = "malformed_data" }; /* Suricata's DNS parser event */
        emit_event(in, f, CG_INSPECT_EV_ANOMALY, to_server, &ev);
    }
    if (in->cfg.det && cg_detectors_dns_counts(in->cfg.det, msg, len)) {
        const cg_det_alert *da = NULL;
        gate_enter(in);
        uint32_t nd =
            cg_detectors_dns(in->cfg.det, packet_for(in, f, to_server), msg, len, &in->dns_bs, &da);
        det_emit(in, f, nd, da);
        gate_leave(in);
    }
}

/* ---- protocols told by their first bytes --------------------------------- */

#define PROBE_DONE_CLIENT 0x01 /* the client's first bytes were looked at */
#define PROBE_DONE_SERVER 0x02
#define PROBE_GREETING 0x04 /* the server began with a "220" greeting */
#define PROBE_WANT 8        /* bytes wanted before a direction is judged */

static int starts_ci(const uint8_t *d, uint32_t n, const char *w)
{
    size_t k = strlen(w);
    return n >= k && strncasecmp((const char *)d, w, k) == 0;
}

/* Whether the line d[0..n) (its first line) holds w, whatever the case. */
static int line_has_ci(const uint8_t *d, uint32_t n, const char *w)
{
    size_t k = strlen(w);
    for (uint32_t i = 0; i + k <= n && d[i] != '\n'; i++)
        if (strncasecmp((const char *)d + i, w, k) == 0)
            return 1;
    return 0;
}

/* inspect.h: what a direction's first bytes say. */
uint8_t cg_inspect_probe_bytes(const uint8_t *d, uint32_t n, int to_server, int greeting)
{
    if (n >= 4 && memcmp(d, "SSH-", 4) == 0)
        return CG_APP_SSH;
    if (n >= 8 && d[0] == 0 && (d[4] == 0xff || d[4] == 0xfe || d[4] == 0xfd) &&
        memcmp(d + 5, "SMB", 3) == 0)
        return CG_APP_SMB;
    /* NetBIOS session request (port 139 before SMB): two encoded names */
    if (to_server && n >= 4 && d[0] == 0x81 && d[1] == 0 && d[2] == 0 && d[3] == 68)
        return CG_APP_SMB;
    if (to_server) {
        if (starts_ci(d, n, "EHLO ") || starts_ci(d, n, "HELO "))
            return CG_APP_SMTP;
        static const char *const ftp[] = { "USER ", "AUTH TLS", "AUTH SSL", "FEAT",
                                           "SYST",  "OPTS ",    "PASV",     "PORT " };
        for (size_t i = 0; greeting && i < sizeof ftp / sizeof ftp[0]; i++)
            if (starts_ci(d, n, ftp[i]))
                return CG_APP_FTP;
        return CG_APP_NONE;
    }
    if (n >= 4 && memcmp(d, "220", 3) == 0 && (d[3] == ' ' || d[3] == '-')) {
        if (line_has_ci(d, n, "SMTP"))
            return CG_APP_SMTP;
        if (line_has_ci(d, n, "FTP"))
            return CG_APP_FTP;
    }
    return CG_APP_NONE;
}

/* Looks at the first bytes of direction ts once enough are there (the
 * stream started at its SYN and its chunk still starts at byte 0), and names
 * the flow's protocol when they tell it. */
static void probe_app(cg_inspect *in, iflow *uf, int ts)
{
    uint8_t done = ts ? PROBE_DONE_CLIENT : PROBE_DONE_SERVER;
    if (uf->probe & done)
        return;
    const uint8_t *d;
    uint32_t n;
    uint64_t off;
    if (!cg_reasm_from_start(&uf->rf, ts) ||
        cg_reasm_window(in->r, &uf->rf, ts, &d, &n, &off) != 0 || off != 0) {
        uf->probe |= done; /* the start is not known (midstream), or gone */
        return;
    }
    if (n < PROBE_WANT && !memchr(d, '\n', n))
        return; /* a line or 8 bytes first */
    uf->probe |= done;
    if (!ts && n >= 4 && memcmp(d, "220", 3) == 0)
        uf->probe |= PROBE_GREETING;
    uint8_t app = cg_inspect_probe_bytes(d, n, ts, (uf->probe & PROBE_GREETING) != 0);
    if (app != CG_APP_NONE)
        uf->fi.app_proto = app;
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
    if (app == CG_APP_NONE &&
        (uf->probe & (PROBE_DONE_CLIENT | PROBE_DONE_SERVER)) !=
            (PROBE_DONE_CLIENT | PROBE_DONE_SERVER)) {
        probe_app(in, uf, ts);
        app = uf->fi.app_proto;
    }
    if ((app == CG_APP_NONE || app == CG_APP_HTTP) && in->http) {
        txctx t = { in, f, CG_APP_HTTP };
        cg_http_feed(in->http, &uf->hf, ts, c->data, c->len, c->flags, on_tx, &t);
    }
    if ((app == CG_APP_NONE || app == CG_APP_TLS) && in->tls && !uf->tls_done) {
        txctx t = { in, f, CG_APP_TLS };
        if (!cg_tls_feed(in->tls, &uf->tf, ts, c->data, c->len, c->flags, on_tx, &t))
            uf->tls_done = 1;
    }
}

static void on_evict(void *ctx, cg_flow *f, int reason)
{
    cg_inspect *in = ctx;
    iflow *uf = cg_flow_user(f);
    (void)reason;
    if (in->cfg.on_flow_end)
        in->cfg.on_flow_end(in->cfg.ctx, f);
    if (in->cfg.det && cg_detectors_flow_end_counts(in->cfg.det, f)) {
        const cg_det_alert *da = NULL;
        gate_enter(in);
        uint32_t nd = cg_detectors_flow_end(in->cfg.det, f, &da);
        det_emit(in, NULL, nd, da);
        gate_leave(in);
    }
    if (in->r)
        cg_reasm_end(in->r, &uf->rf, f);
    if (in->http) {
        txctx t = { in, f, CG_APP_HTTP };
        cg_http_end(in->http, &uf->hf, on_tx, &t);
    }
    if (in->tls)
        cg_tls_end(in->tls, &uf->tf);
    dns_tcp_release(in, uf);
    app_flow_end(in, f, reason);
}

static void emit_alerts(cg_inspect *in, const cg_packet *p, const cg_flow *f, int to_server,
                        const cg_rule *const *al, uint32_t n, int stream);

/* Stream bytes data[0..len), at stream offset off, in a direction of f:
 * those past what was inspected are inspected now. */
static void stream_inspect(cg_inspect *in, cg_flow *f, int to_server, const uint8_t *data,
                           uint32_t len, uint64_t off)
{
    iflow *uf = cg_flow_user(f);
    uint64_t end = off + len, done = uf->inspected[to_server];
    if (end <= done)
        return;
    uint32_t new_from = done > off ? (uint32_t)(done - off) : 0;
    uf->inspected[to_server] = end;
    uf->waiting_us[to_server] = 0;
    const cg_packet *p = packet_for(in, f, to_server);
    const cg_rule *const *al;
    cg_detect_set_flow(in->w, uf->bits, &uf->fi);
    uint32_t n =
        cg_detect_stream(in->w, data, len, new_from, &uf->tail[to_server], p, f, to_server, &al);
    emit_alerts(in, p, f, to_server, al, n, 1);
}

/* What a direction's chunk holds and was not inspected: now. */
static void stream_inspect_now(cg_inspect *in, cg_flow *f, int to_server)
{
    iflow *uf = cg_flow_user(f);
    const uint8_t *d;
    uint32_t len;
    uint64_t off;
    if (cg_reasm_window(in->r, &uf->rf, to_server, &d, &len, &off) == 0)
        stream_inspect(in, f, to_server, d, len, off);
}

/* A chunk leaves reassembly (full, at a hole, at the end, taken for another
 * flow): what of it was not inspected is, now. */
static void on_chunk(void *ctx, void *owner, const cg_reasm_chunk *c)
{
    if (c->len > 0)
        stream_inspect(ctx, owner, c->to_server, c->data, c->len, c->offset);
}

int cg_inspect_create(cg_inspect **out, const cg_detect *d, const cg_inspect_config *cfg, char *err,
                      size_t errlen)
{
    cg_inspect *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    in->d = d;
    if (cfg)
        in->cfg = *cfg;
    if (!cg_detect_needs_app(d) && !in->cfg.want_app)
        in->cfg.no_app = 1; /* no rule would look at what parsers produce */
    if (cg_detect_worker_create_shared(&in->w, d, in->cfg.shared, err, errlen))
        goto fail;
    if (in->cfg.want_app && !in->cfg.no_app && cg_appctx_pool_create(&in->app, in->cfg.app_slots)) {
        snprintf(err, errlen, "out of memory (application contexts)");
        goto fail;
    }
    if (!in->cfg.no_stream) {
        cg_reasm_config rc = in->cfg.reasm;
        rc.on_chunk = on_chunk;
        rc.chunk_keep = CG_DETECT_LOOKBACK; /* what spans two chunks is seen */
        rc.on_data = in->cfg.no_app ? NULL : on_data;
        rc.low_latency = 0;
        rc.ctx = in;
        int r = cg_reasm_create(&in->r, &rc);
        if (r) {
            snprintf(err, errlen, "cannot set up stream reassembly (%s)",
                     r == CG_ENOMEM ? "out of memory" : "sizes out of range");
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
    in->bits_words = cg_detect_flowbit_words(d);
    if (in->cfg.bits_words > in->bits_words)
        in->bits_words = in->cfg.bits_words;
    fc.user_size = (uint32_t)(sizeof(iflow) + in->bits_words * sizeof(uint64_t));
    fc.on_evict = on_evict;
    fc.evict_ctx = in;
    int r = cg_flowtable_create(&in->ft, &fc);
    if (r) {
        snprintf(err, errlen, "cannot set up the flow table (%s)",
                 r == CG_ENOMEM ? "out of memory" : "memory cap too small");
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
    cg_appctx_pool_destroy(in->app);
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
    iflow *uf = f ? cg_flow_user((cg_flow *)f) : NULL;
    if (uf && n)
        uf->alerted = 1;
    if (!in->cfg.on_alert)
        return;
    cg_alert_info *ai = &in->ainfo;
    for (uint32_t i = 0; i < n; i++) {
        const cg_detect_hit *h = cg_detect_alert_hit(in->w, i);
        ai->app = uf && in->app ? cg_appctx_of(in->app, uf->appctx) : NULL;
        ai->app_proto = uf ? uf->fi.app_proto : CG_APP_NONE;
        ai->stream = stream;
        ai->buf = h->buf;
        ai->data = h->data;
        ai->len = h->len;
        ai->match_end = h->match_end == CG_DETECT_NO_MATCH || h->match_end > h->len
            ? CG_ALERT_NO_MATCH
            : h->match_end;
        ai->match_len = ai->match_end == CG_ALERT_NO_MATCH ? 0 : h->match_len;
        in->in_alert = 1;
        in->cfg.on_alert(in->cfg.ctx, p, f, to_server, al[i], stream);
        in->in_alert = 0;
    }
}

const cg_alert_info *cg_inspect_alert_info(const cg_inspect *in)
{
    return in && in->in_alert ? &in->ainfo : NULL;
}

static void detect_tx(cg_inspect *in, const cg_bufset *bs, int to_server)
{
    cg_flow *f = in->cur_flow;
    iflow *uf = cg_flow_user(f);
    const cg_packet *p = packet_for(in, f, to_server);
    const cg_rule *const *al;
    cg_detect_set_flow(in->w, uf->bits, &uf->fi);
    const uint8_t *sd = NULL;
    uint32_t sl = 0;
    uint64_t soff;
    if (in->r && cg_reasm_window(in->r, &uf->rf, to_server, &sd, &sl, &soff) != 0)
        sd = NULL, sl = 0;
    uint32_t n = cg_detect_tx(in->w, bs, sd, sl, p, f, to_server, &al);
    emit_alerts(in, p, f, to_server, al, n, 0);
}

/* stream_size counts as Suricata does: the next sequence number minus the
 * ISN, so the SYN counts one. */
static void sizes(iflow *uf)
{
    uf->fi.client_seq = (uint32_t)(cg_reasm_next_offset(&uf->rf, 1) + 1);
    uf->fi.server_seq = (uint32_t)(cg_reasm_next_offset(&uf->rf, 0) + 1);
}

/* Bytes not inspected wait at most this long (capture time). */
#define STREAM_WAIT_US 1000000

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
    int tcp = in->r && p->proto == 6 && (p->flags & CG_PKT_HAS_PORTS);
    int taken = 0;
    int ts = to_server;
    if (in->cfg.det && cg_detectors_packet_counts(in->cfg.det, p, f)) {
        const cg_det_alert *da = NULL;
        gate_enter(in);
        uint32_t nd = cg_detectors_packet(in->cfg.det, p, f, ts, &da);
        det_emit(in, NULL, nd, da);
        gate_leave(in);
    }

    /* 1. the stream and the application parsers (their transactions alert) */
    if (tcp) {
        /* the other side's turn is over when this one sends data */
        if (p->payload_len > 0 && uf->waiting_us[!ts])
            stream_inspect_now(in, f, !ts);
        in->cur = p;
        in->cur_flow = f;
        in->cur_to_server = ts;
        uint64_t before = cg_reasm_next_offset(&uf->rf, ts);
        uint64_t untaken = cg_reasm_untaken(in->r);
        cg_reasm_packet(in->r, &uf->rf, f, ts, p);
        taken = cg_reasm_untaken(in->r) == untaken;
        if (want_event(in, CG_INSPECT_EV_ANOMALY))
            stream_anomalies(in, f, ts);
        uint64_t after = cg_reasm_next_offset(&uf->rf, ts);
        sizes(uf);
        if (after > uf->inspected[ts] && !uf->waiting_us[ts])
            uf->waiting_us[ts] = p->ts_us ? p->ts_us : 1;
        /* 2. the new bytes, at a push, FIN, or held bytes released */
        if (uf->waiting_us[ts] &&
            ((p->tcp_flags & (CG_TH_PSH | CG_TH_FIN)) || after - before > p->payload_len ||
             p->ts_us - uf->waiting_us[ts] >= STREAM_WAIT_US))
            stream_inspect_now(in, f, ts);
        if (uf->waiting_us[!ts] && p->ts_us - uf->waiting_us[!ts] >= STREAM_WAIT_US)
            stream_inspect_now(in, f, !ts);
    } else {
        in->cur = p;
        in->cur_flow = f;
        in->cur_to_server = ts;
        if (p->proto == 17 && (p->sport == DNS_PORT || p->dport == DNS_PORT) &&
            (!in->cfg.no_app || cg_detectors_want_dns(in->cfg.det)) && p->payload_len > 0 &&
            !(p->flags & CG_PKT_FRAG_LATER))
            dns_message(in, f, ts, p->payload, p->payload_len, p->payload_len);
    }

    /* 3. the packet: what needs the packet itself, or everything when the
     * stream did not take its bytes */
    cg_detect_set_flow(in->w, uf->bits, &uf->fi);
    if (taken)
        n = cg_detect_packet_streamed(in->w, p, f, ts, &al);
    else
        n = cg_detect_packet(in->w, p, f, ts, &al);
    emit_alerts(in, p, f, ts, al, n, 0);
    in->cur = NULL;
    in->cur_flow = NULL;
}

void cg_inspect_finish(cg_inspect *in)
{
    cg_flowtable_evict_all(in->ft);
}

/* ---- switching engines (a reload) ---------------------------------------- */

typedef struct remap {
    uint32_t old_fb, new_fb, old_words_fb, new_words_fb; /* flowbit counts and words */
    uint32_t old_fi, new_fi;
    int16_t fb[CG_FLOWBITS_MAX]; /* old flowbit id -> new id, or -1 */
    int16_t fi[CG_FLOWINTS_MAX];
} remap;

static void remap_flow(void *ctx, cg_flow *f)
{
    const remap *m = ctx;
    iflow *uf = cg_flow_user(f);
    uint64_t old[CG_FLOWBITS_MAX / 64 + CG_FLOWINTS_MAX];
    uint32_t nold = m->old_words_fb + m->old_fi;
    memcpy(old, uf->bits, nold * sizeof *old);
    memset(uf->bits, 0, (m->new_words_fb + m->new_fi) * sizeof *old);
    for (uint32_t i = 0; i < m->old_fb; i++)
        if (m->fb[i] >= 0 && (old[i / 64] >> (i % 64) & 1))
            uf->bits[m->fb[i] / 64] |= 1ull << (m->fb[i] % 64);
    for (uint32_t i = 0; i < m->old_fi; i++)
        if (m->fi[i] >= 0)
            uf->bits[m->new_words_fb + (uint32_t)m->fi[i]] = old[m->old_words_fb + i];
}

int cg_inspect_switch(cg_inspect *in, const cg_detect *d, const cg_ruleset *old_rs,
                      const cg_ruleset *new_rs, char *err, size_t errlen)
{
    uint32_t need = cg_detect_flowbit_words(d);
    if (need > in->bits_words) {
        snprintf(err, errlen,
                 "the new rules keep %u words of flowbits and flowints per flow, "
                 "more than the %u each flow holds (restart to load them)",
                 need, in->bits_words);
        return -1;
    }
    if (cg_detect_needs_app(d) && !in->http && !in->cfg.no_stream) {
        snprintf(err, errlen,
                 "the new rules inspect application buffers, which this sensor "
                 "does not parse (started with rules that need none and --no-app-context)");
        return -1;
    }
    cg_detect_worker *w;
    if (cg_detect_worker_create_shared(&w, d, in->cfg.shared, err, errlen))
        return -1;
    static _Thread_local remap m;
    memset(&m, 0, sizeof m);
    m.old_fb = cg_ruleset_flowbits(old_rs);
    m.new_fb = cg_ruleset_flowbits(new_rs);
    m.old_fi = cg_ruleset_flowints(old_rs);
    m.new_fi = cg_ruleset_flowints(new_rs);
    m.old_words_fb = cg_detect_flowbit_words(in->d) - m.old_fi;
    m.new_words_fb = need - m.new_fi;
    for (uint32_t i = 0; i < m.old_fb; i++) {
        m.fb[i] = -1;
        const char *nm = cg_ruleset_flowbit_name(old_rs, i);
        for (uint32_t j = 0; nm && j < m.new_fb; j++)
            if (!strcmp(nm, cg_ruleset_flowbit_name(new_rs, j)))
                m.fb[i] = (int16_t)j;
    }
    for (uint32_t i = 0; i < m.old_fi; i++) {
        m.fi[i] = -1;
        const char *nm = cg_ruleset_flowint_name(old_rs, i);
        for (uint32_t j = 0; nm && j < m.new_fi; j++)
            if (!strcmp(nm, cg_ruleset_flowint_name(new_rs, j)))
                m.fi[i] = (int16_t)j;
    }
    cg_flowtable_foreach(in->ft, remap_flow, &m);
    cg_detect_stats old;
    cg_detect_worker_stats(in->w, &old);
    cg_detect_worker_destroy(in->w);
    in->w = w;
    in->d = d;
    in->switches++;
    /* the counters go on from where the old worker left them */
    cg_detect_worker_add_stats(w, &old);
    return 0;
}

uint32_t cg_inspect_expire(cg_inspect *in, uint64_t now_us)
{
    return cg_flowtable_expire(in->ft, now_us, UINT32_MAX);
}

uint32_t cg_inspect_flows(cg_inspect *in, void (*fn)(void *ctx, cg_flow *f), void *ctx)
{
    return cg_flowtable_foreach(in->ft, fn, ctx);
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
    if (in->app)
        cg_appctx_pool_stats(in->app, &out->app);
    out->refused = in->refused;
    out->switches = in->switches;
}
