/* eve_proto.h — the EVE records of protocol events, as Suricata 8 writes
 * them (its etc/schema.json is the reference), and the protocol objects an
 * alert carries too.
 *
 * Event types (`canhgac run --eve-types`), each record starting as every
 * EVE record does (eve.h's cg_eve_head: timestamp, flow_id, event_type,
 * src_ip, src_port, dest_ip, dest_port, proto, community_id):
 *   http     "http":{"hostname","url","http_user_agent","http_content_type",
 *            "http_refer","http_method","protocol","status","length"}: a request
 *            and the response paired with it (appctx.h); from the client.
 *   dns      "dns":{"version":3,"type":"request"|"response","id","flags",
 *            "qr","aa","tc","rd","ra","z" (those set),"opcode","rcode",
 *            "queries":[{"rrname","rrtype"}],"answers":[{"rrname","rrtype",
 *            "ttl","rdata"}]}: each message, from its sender (Suricata 8's
 *            DNS log version 3; an alert's "dns" has the same form, with the
 *            flow's last message's first question).
 *   tls      "tls":{"subject","issuerdn","serial","sni","version","ja3":{"hash",
 *            "string"},"ja3s":{"hash","string"}}: a handshake; from the client.
 *   flow     "app_proto","flow":{"pkts_toserver","pkts_toclient","bytes_toserver",
 *            "bytes_toclient","start","end","age","state","reason","alerted"}:
 *            a flow that ended; from the client.
 *   anomaly  "anomaly":{"type":"decode"|"stream"|"applayer","event":NAME}
 *            (applayer adds "app_proto" and "layer"): a packet the decoder
 *            refused, truncated or invalid ("decoder.ipv4.pkt_too_small",
 *            ...: Suricata's name of the layer that failed); a gap in a
 *            stream ("stream.reassembly_seq_gap") or bytes that differ from
 *            the copy it kept ("stream.reassembly_overlap_different_data");
 *            a DNS message that does not parse ("malformed_data").
 *   alert    eve.h.
 * The default is all of them: Suricata's default eve-log types (alert,
 * anomaly, http, dns, tls, files, smtp, ftp, ...) that canhgac writes.
 *
 * Everything writes into the caller's buffer and allocates nothing.
 */
#ifndef CG_EVE_PROTO_H
#define CG_EVE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/engine/appctx.h"
#include "analyzer/engine/inspect.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

/* Event type bits: the worker's (CG_INSPECT_EV_*) and alerts. */
#define CG_EVE_T_ALERT 0x100u
#define CG_EVE_T_ALL                                                               \
    (CG_EVE_T_ALERT | CG_INSPECT_EV_HTTP | CG_INSPECT_EV_DNS | CG_INSPECT_EV_TLS | \
     CG_INSPECT_EV_FLOW | CG_INSPECT_EV_ANOMALY)
#define CG_EVE_T_DEFAULT CG_EVE_T_ALL
#define CG_EVE_TYPE_NAMES "alert, http, dns, tls, flow, anomaly, all"

/* A comma-separated list of event type names (CG_EVE_TYPE_NAMES; blanks
 * around a name are ignored) into *mask. 0, or -1 with the first unknown
 * name (cut to badlen) in bad. */
int cg_eve_types_parse(const char *list, uint32_t *mask, char *bad, size_t badlen);

/* "http", "tls", "dns", "smtp", "ftp", "ssh", "smb", "failed"; NULL for
 * CG_APP_NONE. */
const char *cg_eve_app_proto_name(uint8_t app);

/* "flow":{...} of f: the counters and start; with end (a CG_INSPECT_EV_FLOW
 * event) also end, age, state, reason and alerted. */
void cg_eve_flow_obj(char *buf, size_t buflen, size_t *pos, const cg_flow *f,
                     const cg_inspect_event *end);

/* The protocol object of an alert from the flow's context c: "http", "tls"
 * or "dns" as app_proto says (when it says none, the first c holds).
 * Returns 0 (nothing written) when c holds none of them. */
int cg_eve_app_obj(char *buf, size_t buflen, size_t *pos, const cg_appctx *c, uint8_t app_proto);

/* One record of a worker event, a line ending in '\n'. Returns its length,
 * or 0 when buflen is too small. */
size_t cg_eve_event(char *buf, size_t buflen, const cg_inspect_event *ev);

/* The name of the anomaly a packet cg_decode refused with rc is (Suricata's
 * decoder event of the layer that failed), or NULL when rc is not one
 * (OK, or UNSUPPORTED: a protocol not decoded is not an anomaly). */
const char *cg_eve_decode_event_name(const cg_packet *p, int rc);
/* Its anomaly record (0 when it is none, or buflen is too small). */
size_t cg_eve_decode_anomaly(char *buf, size_t buflen, const cg_packet *p, int rc);

#endif
