/* pipeline.h — the sensor as one object: capture, workers, the store writer.
 *
 *   file:  reader ──(by flow hash)──> worker 1..N ──┐
 *   live:  -i IF (PACKET_FANOUT) ───> worker 1..N ──┼─(bounded rings)─> writer
 *                                                   │    fold, enrich, store,
 *                                                   │    EVE lines, stats
 * `canhgac run`, bench_pipeline and the tests drive it alike.
 *
 * Workers. Each owns its flows (a flow's packets always reach the same
 * worker: cg_flow_hash, the same both ways, picks it; live, the kernel's
 * fanout hash, also symmetric), its Hyperscan scratch, reassembly, parsers
 * and application contexts; the packet path takes no lock and allocates
 * nothing. A worker decodes, inspects, and formats its EVE lines; alerts go
 * to the writer as messages that carry what the store needs (the packet's
 * frame for evidence, the request behind it), never pointers into the
 * worker's memory (rules aside: a reload keeps the old rules until the
 * writer has seen every worker's last message of them).
 *
 * What spans flows is shared and taken under one gate, only when a rule that
 * uses it matched or a detector may count the packet: thresholds and
 * detection_filter (by_src, by_dst, by_rule, by_both), xbits (by host and by
 * pair), the port scan and DNS tunnel detectors. The incident fold is the
 * writer's alone.
 *
 * Order. Reading a file, every packet takes its place in the file (seq) and
 * the result does not depend on the number of workers: the gate lets a worker
 * in only when no other worker still holds an earlier packet, and the writer
 * takes the workers' messages in the order of their packets' places. What
 * flows leave at the end of the file is sorted by flow id. So 1, 2 and 4
 * workers give the same alerts, incidents, EVE lines and counts. Live, there
 * is no place in a file: the gate is a plain lock and the writer takes the
 * messages as they come.
 *
 * Back-pressure. The rings are bounded (--queue). A worker whose ring to the
 * writer is full waits for room (counted: queue.full_waits), and so does the
 * reader when a worker's ring is full: nothing is dropped inside the sensor.
 * Live, a waiting worker leaves packets in the kernel's ring, and when that is
 * full the kernel drops them: counted in capture.kernel_drops.
 *
 * Reload. cg_pipeline_reload (SIGHUP, `canhgac ctl reload`) loads the rules
 * again and builds the engine (or takes it from the cache) on a thread of its
 * own while the workers go on with the old one; each worker then switches
 * between two packets (cg_inspect_switch: flows keep their reassembly and
 * parsers, and the flowbits and flowints whose names the new rules also have).
 * Thresholds and xbits start anew. A compile (the cache does not have the
 * new rules) happens in a process of its own (cfg.prebuild), whose memory is
 * given back when it ends; the sensor then reads the engine from the cache:
 * its own peak is the steady state plus one engine. Rules that fail to load keep the old ones
 * running; the reason is in the reply and on stderr. At most one reload at a
 * time; the old engine is freed when every worker has left it.
 *
 * Threads: cg_pipeline_run on the caller's thread (the reader for a file,
 * else the one that serves ctl, signals and the clock), N workers, one
 * writer, and one for a reload while it builds. The other calls are the
 * caller thread's, except cg_pipeline_stop, cg_pipeline_request (async-
 * signal-safe) and cg_pipeline_ctl (any thread).
 */
#ifndef CG_PIPELINE_H
#define CG_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "analyzer/engine/detectors.h"
#include "analyzer/output/enrich.h"
#include "analyzer/output/policy.h"
#include "analyzer/engine/inspect.h"
#include "analyzer/lang/rule.h"
#include "sensor/capture.h"
#include "store/store.h"

#define CG_VERSION "0.2.0"
#define CG_PIPELINE_MAX_IFACES 8
#define CG_PIPELINE_MAX_WORKERS 64

/* Loads the rule set (the first time and at every reload): 0 and *out, or -1
 * with a one-line message in err, CG_ENOMEM when out of memory (the rules
 * are then not to blame: cg_pipeline_create's exit code is 1, not 2). */
typedef int (*cg_pipeline_load_fn)(void *ctx, cg_ruleset **out, char *err, size_t errlen);

typedef struct cg_pipeline_config {
    /* input: a file, frames in memory (a benchmark's), or interfaces */
    const char *rfile;
    const cg_frame *frames; /* read as a file would be, nframes of link type
                             * frames_dlt; rfile then only names them */
    uint64_t nframes;
    int frames_dlt;
    const char *ifaces[CG_PIPELINE_MAX_IFACES];
    int nifaces;
    int snaplen;        /* live; 0: 262144 */
    const char *bpf;    /* live capture filter, or NULL */
    uint32_t ring_mib;  /* live: kernel ring per handle (0: 64) */
    uint32_t workers;   /* 1 .. CG_PIPELINE_MAX_WORKERS */
    uint32_t queue_kib; /* each ring, reader->worker and worker->writer (0: 8192) */
    /* rules */
    cg_pipeline_load_fn load;
    void *load_ctx;
    /* At a reload, before load: puts the new engine into the cache from
     * another process (run spawns `canhgac rules check --compile --cache`),
     * so that a compile's memory is not the sensor's; NULL: none. */
    void (*prebuild)(void *ctx);
    const char *cache_dir; /* compiled-rules cache, or NULL */
    /* each worker: flow.max_flows and flow.memcap are the totals, shared out;
     * reasm, http, tls, no_stream, want_app, app_slots, events as in inspect.h
     * (on_alert, on_event, ctx, det and shared are the pipeline's) */
    cg_inspect_config inspect;
    const cg_detectors_config *detectors; /* NULL: no detectors */
    /* the writer */
    cg_store *store;         /* NULL: no store (the caller opens and closes it) */
    const char *store_dir;   /* its directory, for the summary */
    const cg_enrich *enrich; /* NULL: no enrichment */
    /* The layer policy (policy.h), or NULL: the writer applies it to each
     * incident it creates or changes, in the batch that stores it, and runs
     * its time pass every escalate_s seconds (0: 60) with the wall clock. */
    const cg_policy *policy;
    uint32_t escalate_s;
    const char *eve_path;               /* NULL: no EVE file; "-": stdout */
    uint32_t eve_types;                 /* CG_EVE_T_ALERT | CG_INSPECT_EV_* */
    uint32_t alert_fields;              /* CG_EVE_F_* */
    uint32_t window_s, evidence, batch; /* incident window, evidence per incident,
                                         * alerts per store transaction */
    int progress;                       /* a line on stderr after each commit */
    uint32_t stats_s;                   /* an EVE stats line every ... seconds (0: none) */
    const char *sensor_name;            /* for stats and ctl (NULL: the host name) */
    /* Counters of the caller's own (run's notify thread) for the EVE stats
     * line and ctl stats, or NULL: writes one JSON member ("\"notify\":{...}")
     * into buf[cap] and returns its length (0: nothing). Called from the
     * thread that builds the line: it must only read what is safe to read
     * from there (atomics, its own lock). */
    size_t (*extra_stats)(void *arg, char *buf, size_t cap);
    void *extra_stats_arg;
    int null_workers; /* benchmarks: workers take packets and do nothing
                                         * (the reader's own ceiling) */
    /* the full-packet ring (sensor/pcapdir.h): every packet read, written to
     * rotating pcap files in pcap_dir within pcap_max bytes (NULL: none).
     * Its own thread writes; the file reader (or, live, each worker) copies
     * each frame into a ring to it. Reading a file, a full ring makes the
     * reader wait; live, the frame is dropped from the ring (counted), never
     * from detection. A failed write stops the ring and not the run. */
    const char *pcap_dir;
    uint64_t pcap_max;
} cg_pipeline_config;

typedef struct cg_pipeline cg_pipeline;

/* Loads the rules, builds the engine, opens the capture (every interface on
 * every worker: a second -i that fails is fatal with its name) and the EVE
 * file, and starts nothing yet. 0, or -1 with a one-line message in err;
 * *exit_code is 2 for bad input (rules, capture, EVE file), 1 otherwise. */
int cg_pipeline_create(cg_pipeline **out, const cg_pipeline_config *cfg, int *exit_code, char *err,
                       size_t errlen);

/* Runs until the end of the file, cg_pipeline_stop, or a failure: starts the
 * threads, serves requests (ctl_fd's clients through the handler, reload and
 * reopen flags, stats), then stops capture, inspects what streams hold,
 * commits, and joins. Returns the exit code: 0, 1 (the store or the EVE
 * file failed, an interface went away), 2 (a capture file broken mid-way).
 * ctl: called with POLLIN on ctl_fd (-1: none) on the caller's thread. */
int cg_pipeline_run(cg_pipeline *pl, int ctl_fd, void (*ctl)(void *ctx), void *ctl_ctx);

enum { CG_PL_REQ_RELOAD = 1, CG_PL_REQ_REOPEN = 2, CG_PL_REQ_STATS = 4 };
/* Async-signal-safe: asks for a stop, or a reload / reopen / stats line. */
void cg_pipeline_stop(cg_pipeline *pl);
void cg_pipeline_request(cg_pipeline *pl, int what);

/* The answer to a control command (stats, reload, reopen, flows, version) as
 * one JSON object; unknown commands get {"error":...}. Reload and reopen
 * answer when done (a reload that fails says why). Returns its length. */
size_t cg_pipeline_ctl(cg_pipeline *pl, const char *cmd, char *out, size_t cap);

/* The summary of the run (stderr in `run`), after cg_pipeline_run. */
void cg_pipeline_summary(cg_pipeline *pl, FILE *out);

/* What the summary and the tests read. */
typedef struct cg_pipeline_totals {
    uint64_t packets, bytes, alerts, incidents_new, incidents_stored, eve_lines;
    uint64_t kernel_packets, kernel_drops, if_drops, queue_full_waits, reloads, reload_failures;
    uint64_t pcap_packets, pcap_bytes; /* the packet ring's (0 without one) */
} cg_pipeline_totals;
void cg_pipeline_get_totals(cg_pipeline *pl, cg_pipeline_totals *out);

void cg_pipeline_destroy(cg_pipeline *pl);

#endif
