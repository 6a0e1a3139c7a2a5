/* eve.h — EVE-compatible JSON lines for alerts (Suricata's field names), and
 * the JSON string escaping the tools share.
 *
 * One alert line:
 *   {"timestamp":"2025-11-23T00:00:05.123456+0000","flow_id":N,"event_type":"alert",
 *    "src_ip":"..","src_port":N,"dest_ip":"..","dest_port":N,"proto":"TCP",
 *    "community_id":"1:...","incident_id":N,
 *    "alert":{"action":"allowed","gid":1,"signature_id":N,"rev":N,"signature":"..",
 *             "category":"..","severity":N,"metadata":{"key":["value",..],..}},
 *    "layers":[1,2]}
 * Ports are left out for protocols without them (ICMP gives icmp_type/icmp_code).
 * Formatting writes into a caller buffer and allocates nothing.
 */
#ifndef CG_EVE_H
#define CG_EVE_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/rule.h"
#include "sensor/decode.h"

/* Appends s as a JSON string (with quotes) at buf[*pos]; never overruns
 * buflen (output is cut, *pos stops at buflen). */
void cg_json_str(char *buf, size_t buflen, size_t *pos, const char *s);
void cg_json_raw(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "2025-11-23T00:00:05.123456+0000" (UTC); out holds 40 bytes. */
void cg_eve_time(uint64_t ts_us, char *out, size_t outlen);

const char *cg_proto_name(uint8_t proto);

/* Formats one alert as a JSON line ending in '\n'. Returns its length, or 0
 * when buflen is too small. */
size_t cg_eve_alert(char *buf, size_t buflen, const cg_packet *p, const cg_rule *r,
                    uint64_t flow_id, const char *community_id, uint64_t incident_id);

#endif
