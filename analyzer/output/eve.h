/* eve.h — EVE-compatible JSON lines for alerts (Suricata's field names), the
 * start every EVE record shares, and the JSON string escaping the tools
 * share. The other event types' records are eve_proto.h's.
 *
 * One alert line:
 *   {"timestamp":"2025-11-23T00:00:05.123456+0000","flow_id":N,"event_type":"alert",
 *    "src_ip":"..","src_port":N,"dest_ip":"..","dest_port":N,"proto":"TCP",
 *    "community_id":"1:...","incident_id":N,
 *    "alert":{"action":"allowed","gid":1,"signature_id":N,"rev":N,"signature":"..",
 *             "category":"..","severity":N,"metadata":{"key":["value",..],..}},
 *    "direction":"to_server","app_proto":"http",
 *    "flow":{"pkts_toserver":N,"pkts_toclient":N,"bytes_toserver":N,"bytes_toclient":N,
 *            "start":".."},
 *    "http":{"hostname":"..","url":"..",...} or "dns":{...} or "tls":{...},
 *    "payload":"base64","payload_printable":"..","stream":0|1,
 *    "packet":"base64","packet_info":{"linktype":N},
 *    "layers":[1,2]}
 * Ports are left out for protocols without them (ICMP gives icmp_type/icmp_code).
 * direction, app_proto, flow and the protocol object come with
 * cg_eve_alert_ex's extra (the protocol object from the flow's application
 * context, as eve_proto.h writes it); payload and packet when asked for.
 * incident_id and layers are canhgac's own. Formatting writes into a caller
 * buffer and allocates nothing; what cannot fit of the payload, the packet
 * or the protocol object is left out rather than the alert lost.
 */
#ifndef CG_EVE_H
#define CG_EVE_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/lang/rule.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

/* Appends s as a JSON string (with quotes) at buf[*pos]; never overruns
 * buflen (output is cut, *pos stops at buflen). Bytes that are not UTF-8
 * are written as U+FFFD, control bytes escaped. */
void cg_json_str(char *buf, size_t buflen, size_t *pos, const char *s);
/* The same for the n bytes at s (a NUL among them is written \u0000). */
void cg_json_strn(char *buf, size_t buflen, size_t *pos, const char *s, size_t n);
/* The base64 (RFC 4648, with padding) of p[0..n) as a JSON string. */
void cg_json_b64(char *buf, size_t buflen, size_t *pos, const uint8_t *p, size_t n);
void cg_json_raw(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "2025-11-23T00:00:05.123456+0000" (UTC); out holds 40 bytes. */
void cg_eve_time(uint64_t ts_us, char *out, size_t outlen);

const char *cg_proto_name(uint8_t proto);

/* The start of every EVE record: "{", timestamp (ts_us), flow_id (left out
 * when 0), event_type, then when p has an IP header src_ip, src_port,
 * dest_ip, dest_port (ports when it has them), proto (icmp_type, icmp_code
 * for ICMP) and community_id (when not empty), each followed by ','. */
void cg_eve_head(char *buf, size_t buflen, size_t *pos, const cg_packet *p, uint64_t ts_us,
                 const char *event_type, uint64_t flow_id, const char *community_id);

/* Formats one alert as a JSON line ending in '\n'. Returns its length, or 0
 * when buflen is too small. */
size_t cg_eve_alert(char *buf, size_t buflen, const cg_packet *p, const cg_rule *r,
                    uint64_t flow_id, const char *community_id, uint64_t incident_id);

/* cg_eve_alert_extra.fields */
#define CG_EVE_F_PAYLOAD 0x01           /* "payload": the inspected bytes, base64 */
#define CG_EVE_F_PAYLOAD_PRINTABLE 0x02 /* "payload_printable": '.' for what is not */
#define CG_EVE_F_PACKET 0x04            /* "packet" (the frame, base64), "packet_info" */
/* At most this many of the inspected bytes go into payload and
 * payload_printable: those around the match (Suricata's payload-buffer-size
 * default). */
#define CG_EVE_PAYLOAD_MAX 4096

struct cg_alert_info;
/* What an alert line may carry besides the rule and the packet. */
typedef struct cg_eve_alert_extra {
    const cg_flow *f;               /* the alert's flow: "flow" (NULL: none) */
    int to_server;                  /* "direction" */
    const struct cg_alert_info *ai; /* app_proto, the protocol object of its context,
                                     * the bytes of payload (NULL: none of those) */
    uint32_t fields;                /* CG_EVE_F_* */
} cg_eve_alert_extra;

/* cg_eve_alert with the extra fields of x (NULL: none, as cg_eve_alert). */
size_t cg_eve_alert_ex(char *buf, size_t buflen, const cg_packet *p, const cg_rule *r,
                       uint64_t flow_id, const char *community_id, uint64_t incident_id,
                       const cg_eve_alert_extra *x);

#endif
