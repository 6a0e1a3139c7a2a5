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
 * its flow and direction, and whether it was found on the stream.
 *
 * The worker owns its flows (the caller shards packets by cg_flow_hash so a
 * flow always reaches the same worker): nothing here takes a lock, and all
 * memory (flow slab, reassembly pools, detection scratch) is allocated at
 * create; the packet path allocates nothing.
 *
 * Thread: one cg_inspect per worker thread. Callbacks run inside
 * cg_inspect_packet and cg_inspect_finish.
 */
#ifndef CG_INSPECT_H
#define CG_INSPECT_H

#include <stdint.h>

#include "analyzer/detect.h"
#include "analyzer/detectors.h"
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
typedef void (*cg_inspect_alert_fn)(void *ctx, const cg_packet *p, const cg_flow *f,
                                    int to_server, const cg_rule *r, int stream);

typedef struct cg_inspect_config {
    cg_flow_config flow;           /* user_size, on_evict are set by cg_inspect */
    cg_reasm_config reasm;         /* callbacks are set by cg_inspect */
    cg_http_config http;
    cg_tls_config tls;
    int no_stream;                 /* 1: no reassembly, packets only */
    int no_app;                    /* 1: no HTTP, TLS, DNS parsing (also when no rule
                                    * needs it: cg_detect_needs_app) */
    cg_inspect_alert_fn on_alert;
    void *ctx;
    cg_detectors *det;             /* scan and DNS tunnel detectors (NULL: none), this
                                    * worker's alone; their alerts reach on_alert with
                                    * the detector's rule (flow NULL for scans) */
} cg_inspect_config;

typedef struct cg_inspect_stats {
    cg_flow_stats flow;
    cg_reasm_stats reasm;
    cg_detect_stats detect;
    cg_http_stats http;
    cg_tls_stats tls;
    cg_dns_stats dns;
    uint64_t refused;              /* packets whose flow the table refused */
} cg_inspect_stats;

/* Builds the worker over detection engine d (which must outlive it). 0, or -1
 * with a one-line message in err. */
int cg_inspect_create(cg_inspect **out, const cg_detect *d, const cg_inspect_config *cfg,
                      char *err, size_t errlen);
/* Ends every flow (their streams deliver what they hold, which may alert)
 * and frees everything. NULL is a no-op. */
void cg_inspect_destroy(cg_inspect *in);

/* One decoded IP packet. */
void cg_inspect_packet(cg_inspect *in, const cg_packet *p);

/* Ends every flow now (end of a capture file): what their streams still hold
 * is inspected. */
void cg_inspect_finish(cg_inspect *in);

void cg_inspect_get_stats(const cg_inspect *in, cg_inspect_stats *out);

#endif
