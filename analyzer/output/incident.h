/* incident.h — folds alerts into incidents.
 *
 * Model (store/store.h describes what the store keeps of it): an incident is
 * the alerts of one key (gid, sid, source address, destination address,
 * service port) whose times fall within `window` seconds of the
 * incident's first alert. An alert past the window opens a new incident with
 * a new id. An alert of the key within the window whose severity is higher
 * (a lower number) than the incident's escalates: it opens a new incident
 * whose escalated_from is the old one's id, and the key's later alerts fold
 * into the new one. So an incident's severity, that of its first alert, is
 * the highest of its alerts. Each incident keeps first and last seen, the
 * count, the ports, flow id and Community ID of its first alert, and numbers
 * the first `max_evidence` alerting packets as its evidence.
 *
 * The service port is the destination port of the flow: the packet's
 * destination port when it goes to the server, its source port when it comes
 * back. So the failed logins an FTP server answers to one client on many
 * connections (each from a new ephemeral port) are one incident, as are the
 * requests of one client to one web server port.
 *
 * Every alert folded is handed to the alert sink (when one is set) with its
 * number in the incident (0, 1, ...), at once; the incident itself reaches
 * the incident sink when it is flushed. The aggregator is a fixed-size table
 * built at creation. Incidents changed since the last flush are "dirty";
 * cg_incidents_flush hands each dirty one to the sink (the store writer)
 * once. When the table is full, the least recently seen incident is handed to
 * the sink (if dirty) and forgotten: a later alert of its key opens a new
 * incident. An escalated incident is handed to the sink (if dirty) before its
 * slot takes the new one. Single-threaded: the writer owns it.
 */
#ifndef CG_INCIDENT_H
#define CG_INCIDENT_H

#include <stdint.h>

#include "analyzer/lang/rule.h"
#include "sensor/decode.h"

typedef struct cg_open_incident {
    uint64_t id;
    const cg_rule *rule;
    uint8_t src[16], dst[16];
    uint16_t sport, dport; /* of its first alert */
    uint16_t service_port; /* the key's port (see above) */
    uint8_t proto;
    uint8_t severity; /* of its first alert: the highest of its alerts */
    uint64_t first_us, last_us, count;
    uint64_t flow_id;
    uint64_t escalated_from; /* the incident of the key it escalates, or 0 */
    char community_id[32];
    uint32_t nevidence;
    uint32_t nalerts; /* alerts handed to the alert sink */
    /* private */
    uint8_t used, dirty;
    uint64_t hash;
} cg_open_incident;

/* One alert as the alert sink sees it. */
typedef struct cg_fold_alert {
    uint32_t seq; /* its number in the incident, from 0 */
    uint64_t ts_us, flow_id;
    const char *community_id; /* never NULL */
    uint16_t sport, dport;
    uint8_t severity;
    int evidence_seq; /* the evidence number its packet took, or -1 */
} cg_fold_alert;

typedef struct cg_incidents_cfg {
    uint32_t window_s;     /* default 3600 */
    uint32_t max_evidence; /* default 5 */
    uint32_t capacity;     /* default 65536 open incidents */
    uint32_t user_size;    /* bytes of caller state per open incident
                            * (cg_incidents_user), at most 65536; default 0 */
} cg_incidents_cfg;

typedef struct cg_incidents cg_incidents;

/* new_id hands out incident ids; sink receives dirty incidents (returns 0 or -1). */
int cg_incidents_create(cg_incidents **out, const cg_incidents_cfg *cfg,
                        uint64_t (*new_id)(void *arg),
                        int (*sink)(const cg_open_incident *inc, void *arg), void *arg);
void cg_incidents_destroy(cg_incidents *ag);
/* The alert sink (NULL: none) receives each alert as it is folded, with the
 * incident it went into (returns 0 or -1); it gets the same arg. */
void cg_incidents_set_alert_sink(cg_incidents *ag,
                                 int (*alert)(const cg_open_incident *inc, const cg_fold_alert *a,
                                              void *arg));

/* Folds one alert of rule r on packet p, of the given severity (0: the
 * rule's). Returns its incident; *evidence_seq is set to the evidence number
 * this packet takes (0-based), or -1 when the incident already holds
 * max_evidence packets. *created is 1 for a new incident (also one that
 * escalates). Returns NULL only when a sink failed. An incident's alerts past
 * number UINT32_MAX - 1 are counted but not handed to the alert sink. */
cg_open_incident *cg_incidents_fold(cg_incidents *ag, const cg_rule *r, const cg_packet *p,
                                    uint64_t flow_id, const char *community_id, uint8_t severity,
                                    int to_server, int *evidence_seq, int *created);

/* The caller's area of open incident inc: cfg.user_size bytes, 16-byte
 * aligned, allocated with the table (NULL when user_size is 0). It is zeroed
 * when the incident is created (the fold that sets *created = 1), and is the
 * caller's from then on, for as long as the incident holds its slot: it is
 * intact while the sink receives the incident, also when the incident is
 * being evicted or escalated, and belongs to the slot's next incident after
 * that. For what the caller works out once per incident (its enrichment). */
void *cg_incidents_user(const cg_incidents *ag, const cg_open_incident *inc);

/* Hands every dirty incident to the sink. 0, or the sink's first failure. */
int cg_incidents_flush(cg_incidents *ag);

/* The open incidents move to the rules[0..n) with their gid:sid (a reload);
 * those whose rule is not there are handed to the sink (if dirty) and
 * forgotten. Incidents of the detectors' rules (gid 122 and 9100) stay as
 * they are. Sorts a copy of the rule pointers (allocates). 0, or -1 (out of
 * memory, or the sink's failure). */
int cg_incidents_rebind(cg_incidents *ag, const cg_rule *rules, uint32_t n);

typedef struct cg_incidents_stats {
    uint64_t created, folded, evicted, escalated;
} cg_incidents_stats;
void cg_incidents_get_stats(const cg_incidents *ag, cg_incidents_stats *out);

#endif
