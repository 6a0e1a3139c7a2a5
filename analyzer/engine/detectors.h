/* detectors.h — detectors of what the rule language cannot say: port scans,
 * host sweeps and slow scans (TCP), and DNS tunnelling, by host, across flows.
 *
 * A rule looks at one packet, buffer or flow; these look at what one host does
 * to many: Snort 3's port_scan inspector is the model for the scans. Their
 * alerts are synthetic rules this module owns (cg_detectors_rule), one per
 * kind, so they take the path of rule alerts (EVE lines, incidents, layers):
 *
 *   kind         gid:sid    msg (classtype)
 *   port_scan    122:1      CANHGAC SCAN TCP port scan (vertical)  (attempted-recon)
 *   host_sweep   122:3      CANHGAC SCAN TCP host sweep (horizontal)  (attempted-recon)
 *   slow_scan    122:100    CANHGAC SCAN TCP slow port scan  (attempted-recon)
 *   dns_long     9100:201   CANHGAC DNS tunnelling: long or high-entropy labels
 *                                                              (policy-violation)
 *   dns_names    9100:202   CANHGAC DNS tunnelling: many distinct names under one domain
 *                                                              (policy-violation)
 *   dns_types    9100:203   CANHGAC DNS tunnelling: TXT/NULL/CNAME volume (trojan-activity)
 *
 * gid 122 and sids 1 and 3 are those of Snort's port_scan (TCP portscan, TCP
 * portsweep); 122:100 is canhgac's own (Snort uses 1..27). gid 9100 is
 * canhgac's (no Snort or Suricata generator uses it). Each rule's severity is
 * its classtype's priority in the loaded classification (2, 2, 2, 2, 2, 1 with
 * rules/classification.config; those numbers when the class is not defined);
 * metadata `detector <name>` and layers 1 and 2.
 *
 * Scan evidence. A TCP connection attempt counts when it did not complete its
 * handshake: the server answered the SYN with a RST (refused), the client
 * answered the SYN+ACK with a RST (a half-open SYN scan), or the flow left
 * the flow table without a handshake (unanswered: a filtered port; counted
 * when the flow times out or is evicted, cg_detectors_flow_end); and a TCP
 * packet with none of SYN, ACK and RST (NULL, FIN and Xmas probes). Apart
 * from those probes, only flows whose SYN was seen count (a flow picked up
 * midstream is not an attempt). A connection that completed its handshake is
 * never evidence, so a busy server's clients, a crawler's fetches and a
 * connect scan's open ports do not count (its closed ports do: they answer
 * RST). UDP and ICMP scans are not covered. The sensor must see both
 * directions. An unanswered attempt counts at its SYN's time, when its flow
 * ends; evidence older than a window's start counts in that window.
 *
 * Per scanner (the attempt's client), in windows that start at the first
 * evidence:
 *  - port_scan (vertical): >= port_scan.ports distinct ports of one host
 *    within port_scan.window seconds;
 *  - host_sweep (horizontal): >= host_sweep.hosts distinct hosts on one port
 *    within host_sweep.window;
 *  - slow_scan: >= slow_scan.probes distinct host:port pairs within
 *    slow_scan.window, spread over more than the fast windows, when neither
 *    fast kind alerted for that scanner since the slow window began (a fast
 *    scan is reported as such, not twice).
 * A scanner's ports of a host are tracked once it has tried a second port,
 * its hosts on a port once it has tried a second host (its first attempt is
 * carried over): a vertical scan takes no entry per port, a sweep none per
 * host. Each kind alerts once per scanner per window. The alert goes from the
 * scanner to the host (vertical), to the window's first host with the swept
 * port as destination port (horizontal), to the window's first host (slow);
 * vertical and slow alerts carry no ports.
 *
 * DNS evidence: queries (QR 0), their first question, by the query's sender
 * (the client) and the name's registered domain: the last two labels, or the
 * last three when the second-to-last is com, net, org, edu, gov, ac, co, int,
 * mil, info, biz, name, health or pro and the last is two letters (a country's
 * public suffix: tuyenquang.gov.vn, example.co.uk). The subdomain is what is
 * left of it. Per (client, domain), in windows from the first evidence:
 *  - dns_long: >= dns_long.queries queries whose subdomain has a label of at
 *    least dns_long.label characters, or whose subdomain (dots left out) has
 *    at least dns_long.entropy_length characters and a Shannon entropy of at
 *    least dns_long.entropy bits per character;
 *  - dns_names: >= dns_names.names distinct names whose subdomain has at
 *    least dns_names.min_length characters (short ones, www or mail, cannot
 *    carry a tunnel's data);
 *  - dns_types: >= dns_types.queries queries of type TXT, NULL or CNAME.
 * Each kind alerts once per (client, domain) per window, on the query that
 * crossed the threshold. Names compare without regard to ASCII case. DNS over
 * UDP is always looked at (the worker parses it for the detectors when no
 * rule needs it); DNS over TCP when the worker parses applications.
 *
 * Sketches. Distinct ports, hosts, host:port pairs and names are counted in
 * a 1024-bit bitmap per entry (a hash of the value picks the bit): the count
 * is the number of bits set, exact until two values share a bit and never
 * more than the true count, so a detector never fires early; with n values
 * about n^2/2048 are lost (0.3 at 25, 5 at 100), and a few more probes make
 * up for them. Thresholds of distinct values are at most 500.
 *
 * Memory: one table of table_size entries (CG_DETECTORS_ENTRY_BYTES each)
 * and its hash buckets, all allocated at create; nothing per packet. An
 * entry is a scanner (slow window, suppression), a scanner and a host, a
 * scanner and a port, or a client, a domain and a DNS kind. Entries live in
 * least-recently-used order; a new key takes the least recently used entry
 * when the table is full: reclaiming one whose window was still open is
 * counted (stats.table_full), and what it held is forgotten (an active
 * scanner or tunnel is touched often, so it stays).
 *
 * Thread: a cg_detectors belongs to one worker (single-threaded, no lock;
 * its state spans that worker's flows, keyed by host: hosts whose flows go
 * to other workers are counted there). Time is the packets' own. Alerts
 * returned by a call live until the next call.
 */
#ifndef CG_DETECTORS_H
#define CG_DETECTORS_H

#define CG_DETECTORS_GID_SCAN 122 /* the scans' generator (Snort's port_scan) */
#define CG_DETECTORS_GID_OWN 9100 /* the DNS tunnel detectors' */

#include <stddef.h>
#include <stdint.h>

#include "analyzer/lang/rule.h"
#include "sensor/buffers.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

enum cg_det_kind {
    CG_DET_VERTICAL,
    CG_DET_HORIZONTAL,
    CG_DET_SLOW,
    CG_DET_DNS_LONG,
    CG_DET_DNS_NAMES,
    CG_DET_DNS_TYPES,
    CG_DET_KINDS
};

#define CG_DETECTORS_BITS 1024        /* bits of a distinct-value sketch */
#define CG_DETECTORS_MAX_DISTINCT 500 /* highest threshold of distinct values */
#define CG_DETECTORS_ENTRY_BYTES 224

typedef struct cg_detectors_config {
    uint8_t enabled[CG_DET_KINDS];
    uint32_t window_s[CG_DET_KINDS];  /* 1 .. 86400 */
    uint32_t threshold[CG_DET_KINDS]; /* ports, hosts, probes, queries, names, queries */
    uint32_t table_size;              /* entries, 16 .. 16777216 */
    uint32_t dns_label;               /* dns_long.label: 10 .. 63 */
    uint32_t dns_entropy_length;      /* dns_long.entropy_length: 8 .. 253 */
    double dns_entropy;               /* dns_long.entropy: 1.0 .. 8.0 bits per character */
    uint32_t dns_names_min;           /* dns_names.min_length: 0 .. 253 */
} cg_detectors_config;

/* The defaults, as rules/detectors.conf writes them out. */
void cg_detectors_defaults(cg_detectors_config *c);

/* Reads a detectors file over c: `NAME value` per line, `#` comments (see
 * rules/detectors.conf for the names). All or nothing: 0, or -1 with c
 * unchanged and "FILE:LINE: why" (or "FILE: why" when it cannot be read) in
 * err: an unknown name, a value that is not a number (or yes/no), a window of
 * 0 or below, a value out of its range. */
int cg_detectors_config_load(cg_detectors_config *c, const char *path, char *err, size_t errlen);

typedef struct cg_detectors cg_detectors;

/* Builds the detectors of c (NULL: the defaults). rs (may be NULL) gives the
 * classtypes' descriptions and priorities. 0, or -1 with a message in err. */
int cg_detectors_create(cg_detectors **out, const cg_detectors_config *c, const cg_ruleset *rs,
                        char *err, size_t errlen);
void cg_detectors_destroy(cg_detectors *d);

/* The synthetic rule of a kind (owned by d, valid as long as d). */
const cg_rule *cg_detectors_rule(const cg_detectors *d, int kind);

/* One alert: the rule of its kind and the packet it is attributed to (its
 * source is the scanner or the client). pkt is the caller's packet or one
 * of d's (no frame: no evidence bytes); valid until the next call on d. */
typedef struct cg_det_alert {
    const cg_rule *rule;
    const cg_packet *pkt;
} cg_det_alert;

/* A packet of flow f (after cg_flowtable_update with it; to_server as it
 * said). Cheap for what is not evidence. Returns the alerts raised (*out
 * set), usually 0. */
/* 1 when cg_detectors_packet, _flow_end or _dns may count what they are given:
 * read-only checks of the configuration and of p, f or msg, no state. Several
 * workers share one cg_detectors behind a gate (detect.h's cg_gate), which
 * they take only when these say so. */
int cg_detectors_packet_counts(const cg_detectors *d, const cg_packet *p, const cg_flow *f);
int cg_detectors_flow_end_counts(const cg_detectors *d, const cg_flow *f);
int cg_detectors_dns_counts(const cg_detectors *d, const uint8_t *msg, uint32_t len);
uint32_t cg_detectors_packet(cg_detectors *d, const cg_packet *p, const cg_flow *f, int to_server,
                             const cg_det_alert **out);

/* Flow f leaves the flow table (the flow table's eviction callback). */
uint32_t cg_detectors_flow_end(cg_detectors *d, const cg_flow *f, const cg_det_alert **out);

/* A DNS message msg[0..len) that p carries (or stands for), parsed into bs
 * (cg_dns_parse). Only queries count: the first name of CG_BUF_DNS_QUERY
 * and the first question's type, by p->src. */
uint32_t cg_detectors_dns(cg_detectors *d, const cg_packet *p, const uint8_t *msg, uint32_t len,
                          const cg_bufset *bs, const cg_det_alert **out);

/* 1 when a DNS kind is on (the caller then parses DNS even when no rule
 * needs it). */
int cg_detectors_want_dns(const cg_detectors *d);

typedef struct cg_detectors_stats {
    uint64_t alerts[CG_DET_KINDS];
    /* scan evidence, attempts that did not complete a handshake */
    uint64_t refused;    /* the server's RST */
    uint64_t half_open;  /* the client's RST after the SYN+ACK */
    uint64_t unanswered; /* the flow ended without a handshake or a RST */
    uint64_t stealth;    /* NULL, FIN, Xmas probes */
    /* DNS */
    uint64_t dns_queries; /* queries looked at */
    uint64_t dns_long;    /* of those, long or high-entropy */
    uint64_t dns_types;   /* of those, TXT, NULL or CNAME */
    /* the table */
    uint32_t capacity, tracked; /* entries: at most, in use */
    uint64_t table_full;        /* entries reclaimed while their window was open */
    uint64_t mem_bytes;         /* the table and its buckets */
} cg_detectors_stats;

void cg_detectors_get_stats(const cg_detectors *d, cg_detectors_stats *out);

/* Names of the kinds ("port_scan", "host_sweep", "slow_scan", "dns_long",
 * "dns_names", "dns_types"), as the file names them. */
const char *cg_detectors_kind_name(int kind);

#endif
