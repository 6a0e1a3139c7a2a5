/* incident.h — folds alerts into incidents.
 *
 * Model: an incident is the alerts of one key (gid, sid, source address,
 * destination address) whose times fall within `window` seconds of the
 * incident's first alert. An alert past the window opens a new incident with
 * a new id. Each incident keeps first and last seen, the count, the rule's
 * severity and layers, the ports, flow id and Community ID of its first alert,
 * and numbers the first `max_evidence` alerting packets as its evidence.
 *
 * The aggregator is a fixed-size table built at creation. Incidents changed
 * since the last flush are "dirty"; cg_incidents_flush hands each dirty one to
 * the sink (the store writer) once. When the table is full, the least recently
 * seen incident is handed to the sink (if dirty) and forgotten: a later alert of
 * its key opens a new incident. Single-threaded: the writer owns it.
 */
#ifndef CG_INCIDENT_H
#define CG_INCIDENT_H

#include <stdint.h>

#include "analyzer/rule.h"
#include "sensor/decode.h"

typedef struct cg_open_incident {
    uint64_t id;
    const cg_rule *rule;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint8_t proto;
    uint64_t first_us, last_us, count;
    uint64_t flow_id;
    char community_id[32];
    uint32_t nevidence;
    /* private */
    uint8_t used, dirty;
    uint64_t hash;
} cg_open_incident;

typedef struct cg_incidents_cfg {
    uint32_t window_s;       /* default 3600 */
    uint32_t max_evidence;   /* default 5 */
    uint32_t capacity;       /* default 65536 open incidents */
} cg_incidents_cfg;

typedef struct cg_incidents cg_incidents;

/* new_id hands out incident ids; sink receives dirty incidents (returns 0 or -1). */
int cg_incidents_create(cg_incidents **out, const cg_incidents_cfg *cfg,
                        uint64_t (*new_id)(void *arg),
                        int (*sink)(const cg_open_incident *inc, void *arg), void *arg);
void cg_incidents_destroy(cg_incidents *ag);

/* Folds one alert of rule r on packet p. Returns its incident; *evidence_seq is
 * set to the evidence number this packet takes (0-based), or -1 when the
 * incident already holds max_evidence packets. *created is 1 for a new incident.
 * Returns NULL only when the sink failed while making room. */
cg_open_incident *cg_incidents_fold(cg_incidents *ag, const cg_rule *r, const cg_packet *p,
                                    uint64_t flow_id, const char *community_id,
                                    int *evidence_seq, int *created);

/* Hands every dirty incident to the sink. 0, or the sink's first failure. */
int cg_incidents_flush(cg_incidents *ag);

typedef struct cg_incidents_stats {
    uint64_t created, folded, evicted;
} cg_incidents_stats;
void cg_incidents_get_stats(const cg_incidents *ag, cg_incidents_stats *out);

#endif
