/* inspect.h — one worker's packet path after decoding: flow table, TCP stream
 * reassembly, detection on packets and on the stream, and the alerts.
 *
 *   packet ──> flow (cg_flowtable)
 *                 ├─ TCP: reassembly (cg_reasm) ─┬─> HTTP/TLS/DNS parsers ──> detect on
 *                 │                              │   each transaction (cg_detect_tx)
 *                 │                              └─> chunk buffers ──> detect on the
 *                 │                                  stream, in pieces (cg_detect_stream)
 *                 ├─ UDP 53: DNS parser ─────────┴─> (transactions)
 *                 └─ detect on the packet (cg_detect_packet; for a TCP packet the
 *                    stream took, cg_detect_packet_streamed: the packet-only rules)
 *
 * in that order for each packet: the parsers first, so that a packet's rules
 * know the flow's application protocol. A direction's stream bytes are
 * inspected when the sender pushes (PSH), when the other side sends data,
 * when 64 KiB gather, at a hole or the end, or after a second (inspect.c).
 * Each flow keeps its flowbits, which the rules that match set and test,
 * whatever the path. HTTP and TLS are recognised by their first bytes on any
 * port; DNS by port 53.
 *
 * Every alert reaches the caller's callback with the packet that raised it,
 * its flow and direction, and whether it was found on the stream; inside
 * the callback, cg_inspect_alert_info tells the flow's application context
 * and the bytes the alert was raised on. Protocol events (HTTP transactions,
 * DNS messages, TLS handshakes, flow ends, stream anomalies) reach another
 * callback, on_event, for the EVE records of those types.
 *
 * The worker owns its flows (the caller shards packets by cg_flow_hash so a
 * flow always reaches the same worker): nothing here takes a lock, and all
 * memory (flow slab, reassembly pools, detection scratch) is allocated at
 * create; the packet path allocates nothing.
 *
 * Thread: one cg_inspect per worker thread. Callbacks run inside
 * cg_inspect_packet and cg_inspect_finish. What spans flows (thresholds,
 * xbits, the detectors) may be shared by the workers (cfg.shared): it is
 * then touched only under the shared gate, and only when a rule that uses it
 * matched or a detector may count the packet; the detectors' alerts reach
 * on_alert under the gate.
 */
#ifndef CG_INSPECT_H
#define CG_INSPECT_H

#include <stdint.h>

#include "analyzer/engine/appctx.h"
#include "analyzer/engine/detect.h"
#include "analyzer/engine/detectors.h"
#include "sensor/decode.h"
#include "sensor/flow.h"
#include "sensor/dns.h"
#include "sensor/http.h"
#include "sensor/reasm.h"
#include "sensor/tls.h"

typedef struct cg_inspect cg_inspect;

/* One alert: rule r on packet p of flow f (NULL when the flow table refused
 * the flow), in direction to_server; stream is 1 when it was found on the
 * reassembled TCP stream. p is then the packet whose arrival led to the
 * inspection when it goes the alert's way, else one made from the flow
 * (addresses, ports, time; no frame, so no evidence bytes). */
typedef void (*cg_inspect_alert_fn)(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                                    const cg_rule *r, int stream);

/* Protocol events, what the EVE http, dns, tls, flow and stream anomaly
 * records are written from (cg_inspect_config.events chooses them):
 *  - HTTP: a request and the response paired with it (appctx.h), when the
 *    response comes; a request without one when the next request comes
 *    first, or when the flow ends. app holds them.
 *  - DNS: each DNS message, query or response: dns and dns_detail.
 *  - TLS: a handshake, once: at the server's Certificate, at a ServerHello
 *    that chose TLS 1.3 (no certificate in clear follows), or when the flow
 *    ends after a hello. app holds it.
 *  - FLOW: a flow ends (flow_reason: cg_flow_end; alerted: it raised an
 *    alert).
 *  - ANOMALY: the stream of flow f skipped a hole (a gap) or received bytes
 *    that differ from the copy it kept: anomaly names it as Suricata does.
 * p stands for the event's direction (its addresses, ports, time): requests,
 * TLS and flows the client's, DNS the sender's; the packet being inspected
 * when it is of that flow and direction, else one made from the flow. The
 * event and all it points to are valid during the callback only. */
enum {
    CG_INSPECT_EV_HTTP = 0x01,
    CG_INSPECT_EV_DNS = 0x02,
    CG_INSPECT_EV_TLS = 0x04,
    CG_INSPECT_EV_FLOW = 0x08,
    CG_INSPECT_EV_ANOMALY = 0x10,
};

typedef struct cg_inspect_event {
    int type; /* one CG_INSPECT_EV_* */
    const cg_packet *p;
    const cg_flow *f;
    int to_server;            /* p's direction */
    const char *community_id; /* the flow's Community ID ("" when none) */
    uint8_t app_proto;        /* CG_APP_* of the flow */
    const cg_appctx *app;     /* HTTP, TLS (and the flow's, for the others; may be NULL) */
    const cg_dns_msg *dns;    /* DNS */
    const cg_dns_detail *dns_detail;
    int flow_reason; /* FLOW */
    int alerted;
    const char *anomaly; /* ANOMALY: "stream.reassembly_seq_gap", ... */
} cg_inspect_event;

typedef void (*cg_inspect_event_fn)(void *ctx, const cg_inspect_event *ev);

typedef struct cg_inspect_config {
    cg_flow_config flow;   /* user_size, on_evict are set by cg_inspect */
    cg_reasm_config reasm; /* callbacks are set by cg_inspect */
    cg_http_config http;
    cg_tls_config tls;
    int no_stream;      /* 1: no reassembly, packets only */
    int no_app;         /* 1: no HTTP, TLS, DNS parsing (also when no rule
                         * needs it: cg_detect_needs_app) */
    int want_app;       /* 1: parse HTTP, TLS and DNS whatever the rules need,
                         * and keep each flow's application context for the
                         * alerts (cg_inspect_alert_info) and the events */
    uint32_t app_slots; /* contexts held at once (appctx.h); 0: 4096 */
    cg_inspect_alert_fn on_alert;
    void *ctx;
    uint32_t events;                /* CG_INSPECT_EV_* handed to on_event (HTTP, DNS and
                                     * TLS need want_app) */
    cg_inspect_event_fn on_event;   /* called with ctx */
    cg_detectors *det;              /* scan and DNS tunnel detectors (NULL: none), this
                                     * worker's alone, destroyed after the worker (flows
                                     * that end alert); their alerts reach on_alert with
                                     * the detector's rule (flow NULL for scans) */
    const cg_detect_shared *shared; /* thresholds, xbits and the gate several workers
                                     * share (NULL: this worker's own tables); det is
                                     * then shared too, used under the same gate */
    void (*on_flow_end)(void *ctx, const cg_flow *f); /* a flow is about to end (before
                                                       * what its end raises), with ctx; may be NULL */
    uint32_t bits_words; /* flowbit and flowint words each flow holds, when
                          * more than the engine needs: room for the rules
                          * of a later cg_inspect_switch */
} cg_inspect_config;

typedef struct cg_inspect_stats {
    cg_flow_stats flow;
    cg_reasm_stats reasm;
    cg_detect_stats detect;
    cg_http_stats http;
    cg_tls_stats tls;
    cg_dns_stats dns;
    cg_appctx_stats app; /* application contexts (want_app) */
    uint64_t refused;    /* packets whose flow the table refused */
    uint64_t switches;   /* detection engines switched to (reloads) */
} cg_inspect_stats;

/* Builds the worker over detection engine d (which must outlive it). 0, or -1
 * with a one-line message in err. */
int cg_inspect_create(cg_inspect **out, const cg_detect *d, const cg_inspect_config *cfg, char *err,
                      size_t errlen);
/* Ends every flow (their streams deliver what they hold, which may alert)
 * and frees everything. NULL is a no-op. */
void cg_inspect_destroy(cg_inspect *in);

/* One decoded IP packet. */
void cg_inspect_packet(cg_inspect *in, const cg_packet *p);

/* Ends every flow now (end of a capture file): what their streams still hold
 * is inspected. */
void cg_inspect_finish(cg_inspect *in);

void cg_inspect_get_stats(const cg_inspect *in, cg_inspect_stats *out);

/* The protocol a direction's first bytes d[0..n) name, as Suricata's probes
 * tell those of the smtp, ftp, ssh and smb rules (the worker asks once per
 * direction, with 8 bytes or a line): an SSH banner ("SSH-") either way; an
 * SMB message after its NetBIOS session header either way, or a client's
 * NetBIOS session request; SMTP from a client's EHLO or HELO, or a "220"
 * greeting naming SMTP (ESMTP); FTP from a "220" greeting naming FTP, or a
 * client's first FTP command after one (greeting: the server began with
 * "220"). CG_APP_SSH, _SMB, _SMTP, _FTP or CG_APP_NONE. Reads only d[0..n). */
uint8_t cg_inspect_probe_bytes(const uint8_t *d, uint32_t n, int to_server, int greeting);

/* Ends the flows idle past their timeout at now_us (the worker's clock: a
 * capture's time, or the wall clock live), least recently seen first: what
 * their streams hold is inspected. Returns how many ended. */
uint32_t cg_inspect_expire(cg_inspect *in, uint64_t now_us);

/* Calls fn for each flow the worker holds (a look, on the worker's thread;
 * fn must not change the flow). Returns their number. */
uint32_t cg_inspect_flows(cg_inspect *in, void (*fn)(void *ctx, cg_flow *f), void *ctx);

/* Switches the worker to detection engine d, built from new_rs (a reload);
 * the old engine (built from old_rs) is no longer used when it returns.
 * Between two packets, on the worker's thread. Flows keep their state: the
 * flowbits and flowints whose names new_rs also has carry over (by name),
 * the others are dropped; reassembly, parsers and application contexts go on
 * as they were. Refused (-1, message in err, the old engine kept) when d needs
 * more flowbit and flowint words than each flow holds (cfg.bits_words), or
 * application buffers the worker does not parse. Allocates (the new engine's
 * scratch and candidate arrays): a reload, not the packet path. */
struct cg_ruleset;
int cg_inspect_switch(cg_inspect *in, const cg_detect *d, const struct cg_ruleset *old_rs,
                      const struct cg_ruleset *new_rs, char *err, size_t errlen);

/* Inside on_alert, for an alert of a rule (not of a detector): what it knows
 * of its flow and the bytes it was raised on (appctx.h): the flow's
 * application context (NULL without want_app, without a flow, or before its
 * first transaction), its application protocol, the inspected bytes (the
 * packet's payload, the stream window, or the transaction buffer matched)
 * and where the rule's fast pattern matched in them. NULL elsewhere. The
 * info and its views are valid until on_alert returns:
 *
 *     const cg_alert_info *ai = cg_inspect_alert_info(worker);
 *     if (ai && ai->app && ai->app->http.has_request) ... ai->app->http.url ...
 *     const uint8_t *ex; uint32_t at;
 *     uint32_t n = ai ? cg_alert_excerpt(ai, 256, &ex, &at) : 0;
 */
const cg_alert_info *cg_inspect_alert_info(const cg_inspect *in);

#endif
