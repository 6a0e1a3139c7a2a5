/* detect.h — the detection engine: Hyperscan prefilter, then full rule checks.
 *
 * Build (once, at start-up): every loaded rule contributes its fast pattern
 * (rule->fp) to one Hyperscan literal database per group. A group is
 * (transport class: TCP, UDP, ICMP, other) x (direction: to server, to client)
 * x (destination-port group): rules whose destination ports are a narrow set
 * go to the databases of the port groups they cover, the rest to the group's
 * "any port" database. A packet is scanned against its class/direction's any-port
 * database and the database of its destination port's group, and no other.
 * Rules without a fast pattern sit in small always-checked lists beside the
 * databases, grouped the same way; those whose source or destination address
 * set is narrow (IP reputation lists) are found instead by looking the
 * packet's address up in an index of address segments per group.
 *
 * Each group is cut once more by address class: the address set that the
 * most rules name (ET Open's $HOME_NET) is the pivot, and a packet's class is
 * whether its source and its destination are in it (four classes). A group
 * has one database per class, holding the patterns of the rules whose
 * addresses can match that class (classes with the same rules share one),
 * and its always-checked rules of another class are skipped: a rule written
 * for traffic from outside is not looked for in traffic between inside
 * hosts. A fast pattern is looked for by its last 32 bytes at most (the
 * rule's verification checks the whole content), so that what is scanned
 * again before a stream piece's new bytes is 31 bytes at most.
 *
 * TCP is grouped three ways: every TCP rule (for packets that are not
 * reassembled), the stream rules (payload matches only, for the reassembled
 * stream, grouped by ports the same way) and the rest (for the packets whose
 * bytes the stream holds). Application transactions (HTTP, DNS, TLS) have
 * groups of their own, by the buffer of the fast pattern.
 *
 * A Hyperscan match is a candidate; the whole rule is then verified: transport,
 * addresses, ports, flow direction and state, dsize, every content with its
 * positions (Suricata's semantics, with backtracking over earlier occurrences for
 * relative contents, bounded), pcre via PCRE2, then threshold/detection_filter.
 * Pass rules are checked first; a pass rule that matches silences the packet.
 *
 * The compiled databases are serialised to a cache file named by a hash of the
 * rule set, the Hyperscan version and this engine's layout version, so a second
 * start with the same rules does not compile.
 *
 * Threads: a cg_detect is read-only once built and shared; each worker owns a
 * cg_detect_worker (Hyperscan scratch, candidate and alert buffers, PCRE2 match
 * data, threshold table), all allocated at creation. cg_detect_packet takes no
 * lock and allocates nothing.
 */
#ifndef CG_DETECT_H
#define CG_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/lang/rule.h"
#include "analyzer/engine/verify.h"
#include "sensor/buffers.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

typedef struct cg_detect cg_detect;
typedef struct cg_detect_worker cg_detect_worker;

typedef struct cg_detect_info {
    uint32_t rules;             /* rules in the engine */
    uint32_t prefiltered;       /* rules with a fast pattern in a database */
    uint32_t always;            /* rules checked on every packet of their group */
    uint32_t addr_indexed;      /* rules without a fast pattern found by an address lookup */
    uint32_t stream_rules;      /* rules inspected on the reassembled TCP stream */
    uint32_t tx_prefiltered;    /* rules of application buffers with a fast pattern */
    uint32_t tx_always;         /* ... and without: checked when their buffer is there */
    uint32_t databases;         /* Hyperscan databases */
    uint32_t port_groups;       /* destination-port groups over all classes/directions */
    uint64_t db_bytes;          /* size of the compiled databases */
    uint32_t patterns;          /* patterns over all groups */
    uint32_t class_patterns[4]; /* patterns over all groups that a packet of each address
                                 * class (detect.c: inside->inside, outside->inside,
                                 * inside->outside, outside->outside) can be scanned for */
    int from_cache;             /* 1 when the databases came from the cache file */
    double build_seconds;       /* wall time of cg_detect_build */
    char cache_path[512];       /* "" when no cache is used */
} cg_detect_info;

/* Builds the engine over rs's rules (rs must outlive it). cache_dir may be NULL
 * (no cache). A cache file that is unreadable or stale is ignored and rewritten.
 * Returns 0, or -1 with a one-line message in err. */
int cg_detect_build(cg_detect **out, const cg_ruleset *rs, const char *cache_dir, char *err,
                    size_t errlen);
void cg_detect_destroy(cg_detect *d);
void cg_detect_get_info(const cg_detect *d, cg_detect_info *out);

typedef struct cg_detect_stats {
    uint64_t packets;              /* packets inspected */
    uint64_t scanned_bytes;        /* payload bytes given to Hyperscan */
    uint64_t candidates;           /* rules verified */
    uint64_t matches;              /* rules that matched (before thresholds) */
    uint64_t alerts;               /* alerts raised */
    uint64_t suppressed;           /* matches silenced by threshold or a pass rule */
    uint64_t alerts_dropped;       /* alert buffer full */
    uint64_t threshold_full;       /* threshold table full: tracked as new */
    uint64_t xbits_full;           /* xbits table full: the bit expiring first dropped */
    uint64_t pcre_errors;          /* PCRE2 match limits hit */
    uint64_t scan_errors;          /* Hyperscan scans that failed (their matches are lost) */
    uint64_t stream_inspections;   /* cg_detect_stream calls with new bytes */
    uint64_t stream_scanned_bytes; /* stream window bytes given to Hyperscan */
    uint64_t stream_new_bytes;     /* stream bytes inspected (each once): scanned / new is
                                    * what the windows' overlap costs */
    uint64_t stream_alerts;        /* alerts raised on the stream */
    uint64_t transactions;         /* application transactions inspected */
    uint64_t tx_scanned_bytes;     /* application buffer bytes given to Hyperscan */
    uint64_t tx_alerts;            /* alerts raised on transactions */
} cg_detect_stats;

int cg_detect_worker_create(cg_detect_worker **out, const cg_detect *d, char *err, size_t errlen);

/* State that spans flows, when several workers share it (the pipeline's
 * workers): the threshold and detection_filter table and the xbits, which a
 * worker touches only between gate->enter and gate->leave, and only for a
 * rule that uses them (a candidate that matched, never per packet). The
 * gate serialises the workers (and, reading a file, orders them by the
 * packets' place in the file: pipeline.h). NULL members: the worker's own
 * table, no gate. */
typedef struct cg_gate {
    void (*enter)(void *ctx);
    void (*leave)(void *ctx);
    void *ctx;
} cg_gate;
struct cg_threshold_table;
struct cg_xbits;
typedef struct cg_detect_shared {
    struct cg_threshold_table *th;
    struct cg_xbits *xb;
    const cg_gate *gate;
} cg_detect_shared;
/* As cg_detect_worker_create, with the shared state sh (which must outlive
 * the worker; NULL: as cg_detect_worker_create). */
int cg_detect_worker_create_shared(cg_detect_worker **out, const cg_detect *d,
                                   const cg_detect_shared *sh, char *err, size_t errlen);
/* The shared tables' sizes, for cg_threshold_create and cg_xbits_create. */
#define CG_DETECT_THRESHOLD_SLOTS 65536
#define CG_DETECT_XBITS_SLOTS 65536
void cg_detect_worker_destroy(cg_detect_worker *w);

/* Inspects one decoded packet of flow f (f may be NULL: then flow keywords do
 * not match). Returns the number of alerts; *alerts points to the worker's
 * buffer of rules that alerted, valid until the next call. */
uint32_t cg_detect_packet(cg_detect_worker *w, const cg_packet *p, const cg_flow *f, int to_server,
                          const cg_rule *const **alerts);

/* The same for a TCP packet of flow f whose payload bytes the reassembled
 * stream holds (they were taken in, or are held out of order): only the
 * rules that need the packet itself are checked (no payload, or dsize,
 * flags, ttl, tcp-pkt); the stream rules see its bytes in cg_detect_stream. */
uint32_t cg_detect_packet_streamed(cg_detect_worker *w, const cg_packet *p, const cg_flow *f,
                                   int to_server, const cg_rule *const **alerts);

/* How far back before the new bytes a stream window reaches: a match may
 * start this far before them. */
#define CG_DETECT_LOOKBACK 1024

/* Inspects the reassembled stream of a TCP flow in one direction: data[0..len)
 * are in-order stream bytes, data[new_from..len) those not inspected before
 * (the "new" bytes, since the previous inspection of this direction). The
 * window is the new bytes and up to 1 KiB before them. The stream rules are
 * those with payload matches only and nothing tied to one packet (see
 * detect.c). One alerts when it matches the new bytes, or matches the window
 * and not its old bytes alone (what spans the two); one tied to where its
 * buffer starts (offset, depth, ^, startswith, absolute byte_test ...) is
 * matched on the new bytes alone, so it anchors where the inspection starts.
 * p stands for the direction (addresses, ports, time): the packet that
 * brought the bytes, or one made from the flow. *tail is the direction's
 * state between inspections (0 at its start, or when data[0] starts a new
 * window): whether a fast pattern was seen in the previous inspection; when
 * not, the old bytes are not scanned again. Alerts as cg_detect_packet. */
uint32_t cg_detect_stream(cg_detect_worker *w, const uint8_t *data, uint32_t len, uint32_t new_from,
                          uint8_t *tail, const cg_packet *p, const cg_flow *f, int to_server,
                          const cg_rule *const **alerts);

/* One application transaction (an HTTP request or response, a DNS message, a
 * TLS handshake message) of flow f in direction to_server, as its parser
 * produced it: the rules whose fast pattern is in one of bs's buffers are
 * candidates (those without one whenever their buffer is present), verified
 * on bs; a body named twice (file.data and http.response_body) is scanned
 * once. A rule that matches payload bytes besides
 * application buffers sees stream[0..stream_len) (the direction's stream
 * up to here; may be NULL) as the stream and p's payload as the packet's.
 * p is the packet that completed it. Alerts as cg_detect_packet. */
uint32_t cg_detect_tx(cg_detect_worker *w, const cg_bufset *bs, const uint8_t *stream,
                      uint32_t stream_len, const cg_packet *p, const cg_flow *f, int to_server,
                      const cg_rule *const **alerts);

/* Where an alert was raised: the bytes inspected (a packet's payload, the
 * stream window, or the transaction buffer whose scan found the rule; for a
 * rule without a fast-pattern match there, the first instance of the first
 * of its buffers the transaction has) and the end, in them, of the first
 * match of the rule's fast pattern (CG_DETECT_NO_MATCH when the rule was a
 * candidate without one: no fast pattern, or found in another buffer), and
 * the length of that pattern (the match is data[match_end - match_len ..
 * match_end); 0 when not known). */
#define CG_DETECT_NO_MATCH UINT32_MAX
typedef struct cg_detect_hit {
    uint8_t buf;         /* CG_BUF_* of data */
    const uint8_t *data; /* a view, valid as long as the inspected bytes (the
                          * caller's packet, chunk or transaction) */
    uint32_t len;
    uint32_t match_end;
    uint32_t match_len;
} cg_detect_hit;

/* Alert i (below the count returned) of the last cg_detect_packet, _stream
 * or _tx call: where it was raised. Valid until the next call. */
const cg_detect_hit *cg_detect_alert_hit(const cg_detect_worker *w, uint32_t i);

/* The flow state the next calls see: its flowbits and flowints
 * (cg_detect_flowbit_words words: the flowbits' words, then one word per
 * flowint name; changed by the rules that match) and what is known of its
 * application protocol and sizes. NULL: none (flowbits checks see all bits
 * clear, flowints none set; rules of an application protocol do not match). */
void cg_detect_set_flow(cg_detect_worker *w, uint64_t *bits, const cg_flowinfo *fi);
uint32_t cg_detect_flowbit_words(const cg_detect *d);
/* 1 when a rule inspects an application buffer or names an application
 * protocol: only then are flows parsed as HTTP, TLS and DNS. */
int cg_detect_needs_app(const cg_detect *d);

void cg_detect_worker_stats(const cg_detect_worker *w, cg_detect_stats *out);
/* Adds s to the worker's counters (those of the worker it replaces). */
void cg_detect_worker_add_stats(cg_detect_worker *w, const cg_detect_stats *s);

#endif
