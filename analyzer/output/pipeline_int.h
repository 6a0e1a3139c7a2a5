/* pipeline_int.h — what the pipeline's files share (pipeline.c: threads,
 * reader, workers, reload; pipeline_writer.c: fold, store, EVE; 
 * pipeline_stats.c: counters, stats lines, ctl, the summary). Not a public
 * header.
 *
 * Messages from a worker to the writer (cg_ring_msg.type): an alert with
 * everything the store and the EVE line need, copied; an EVE line; the HTTP
 * status that follows an incident's request; the worker leaving an engine.
 * Every message's seq is the place of the packet being inspected (a file),
 * SEQ_FINISH for what the end of the input flushes, or 0 (live).
 */
#ifndef CG_PIPELINE_INT_H
#define CG_PIPELINE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "analyzer/engine/appctx.h"
#include "analyzer/engine/detect.h"
#include "analyzer/output/eve_file.h"
#include "analyzer/output/incident.h"
#include "analyzer/output/pipeline.h"
#include "analyzer/engine/threshold.h"
#include "analyzer/engine/xbits.h"
#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/pcapdir.h"
#include "sensor/ring.h"

#define SEQ_NONE UINT64_MAX         /* a worker between packets */
#define SEQ_FINISH (UINT64_MAX - 1) /* the end of the input */
#define EVE_LINE (256u << 10)
#define EVE_KINDS 7                  /* http dns tls flow anomaly alert stats */
#define PENDING_STATUS 1024          /* a power of two */
#define INCIDENT_SENTINEL UINT64_MAX /* the worker's placeholder for the id */

enum { MSG_PKT = 1, MSG_END, MSG_TICK, MSG_ALERT, MSG_LINE, MSG_STATUS, MSG_SWITCHED };

/* cg_ring_msg.flags of a worker's message: raised while flows end at a
 * clock tick or at the end of the input, where every worker works at the
 * same seq; such messages are ordered by (seq, sub: the ending flow's last
 * time and id, key, worker) */
#define MSG_TIE 1

/* reader -> worker */
typedef struct pkt_msg {
    cg_ring_msg h;
    uint64_t ts_us;
    uint32_t caplen, wirelen;
    /* the frame follows */
} pkt_msg;

/* worker -> writer: every message's body starts with its flow id and its
 * sub-order (MSG_TIE) */
typedef struct line_msg {
    cg_ring_msg h;
    uint64_t key;
    uint64_t sub;
    uint32_t kind; /* index in the EVE counters */
    uint32_t len;
    /* the line follows */
} line_msg;

typedef struct status_msg {
    cg_ring_msg h;
    uint64_t key; /* the flow id */
    uint64_t sub;
    uint32_t status;
} status_msg;

typedef struct switched_msg {
    cg_ring_msg h;
    uint64_t key;
    uint64_t sub;
    void *engine; /* the engine the worker left */
} switched_msg;

/* The context of an alert's first packet, for put_context. */
#define CTX_FIELDS 8
enum { CX_METHOD, CX_HOST, CX_URL, CX_UA, CX_RRNAME, CX_SNI, CX_JA3, CX_APP };

typedef struct alert_msg {
    cg_ring_msg h;
    uint64_t key; /* flow id */
    uint64_t sub;
    const cg_rule *rule;
    uint64_t ts_us;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint8_t proto, ipver, to_server, has_request, has_response, has_ctx;
    uint16_t http_status;
    int32_t dlt;
    uint32_t caplen, wirelen; /* the frame (0: none) */
    uint32_t payload_len, payload_match;
    uint32_t line_len, line_id_at; /* the EVE line; where its incident id goes
                                    * (line_len 0: none) */
    uint16_t ctx_len[CTX_FIELDS];
    char cid[40];
    /* then: frame, payload excerpt, EVE line, context strings */
} alert_msg;

typedef struct engine {
    cg_ruleset *rs;
    cg_detect *det;
    uint32_t gen;
    int left; /* workers that have left it (writer) */
} engine;

typedef struct wstats { /* one worker's counters, published */
    cg_decode_stats ds;
    cg_inspect_stats is;
    cg_capture_stats cs;
    uint64_t out_full; /* its ring to the writer found full */
    uint64_t in_full;  /* the reader found its ring full */
} wstats;

typedef struct worker {
    struct cg_pipeline *pl;
    int idx;
    pthread_t th;
    int started;
    cg_ring in, out;
    cg_capture *caps[CG_PIPELINE_MAX_IFACES];
    int ncaps;
    cg_inspect *ins;
    cg_decode_stats ds;
    engine *eng;
    uint32_t gen;
    char *line;
    uint64_t seq;             /* of the packet being inspected */
    _Atomic uint64_t cur;     /* the same, for the others; SEQ_NONE between */
    int tie;                  /* flows end at a tick or the end (MSG_TIE) */
    uint64_t sub;             /* the flow ending now: (last_us << 12 | id & 0xfff) */
    _Atomic uint64_t pub_sub; /* the same, for the others */
    uint64_t next_expire;     /* live: when flows are aged next (wall clock, us) */
    _Atomic int done;
    /* published counters */
    pthread_mutex_t mu;
    wstats snap;
    uint32_t since_pub;
    _Atomic uint64_t out_full; /* its ring to the writer found full */
    _Atomic uint64_t in_full;  /* the reader found its input ring full */
    _Atomic int want_flows;    /* ctl flows: a snapshot is asked for */
    char *flows;               /* its answer (JSON array items), under mu */
    size_t flows_len;
} worker;

typedef struct geo_side {
    char country[3];
    uint32_t asn;
    char city[64];
    char as_org[96];
    const cg_asset *asset;
} geo_side;

typedef struct inc_geo {
    geo_side src, dst;
} inc_geo;

/* the writer's state */
typedef struct writer {
    cg_incidents *ag;
    cg_eve_file *eve;
    int eve_broken;     /* a write failed: no more lines */
    uint64_t eve_lost;  /* lines not in the file: cut or offered after (wr_mu) */
    double eve_flush_t; /* when the EVE buffer was last written out */
    char *line;
    char geo_db_type[160], geo_db_date[40];
    uint64_t enriched, geo_errors;
    int in_batch;
    uint64_t next_local_id, stored_new, batch_alerts, committed_incidents, pending_new, last_id;
    double batch_t0;
    uint64_t eve_lines[EVE_KINDS];
    uint64_t alerts;
    struct pending_status {
        uint64_t flow_id, id;
        const cg_open_incident *oi;
    } pending[PENDING_STATUS];
    /* what the end of the input flushes, sorted before it is taken */
    struct stash {
        uint64_t seq, sub, key, order;
        cg_ring_msg *m;
    } * stash;
    size_t nstash, capstash;
    uint64_t stashed; /* messages ever stashed: a worker's keep their order */
    double next_stats;
    double next_pass; /* the policy's next time pass (pl_mono) */
    uint64_t escalations, reminders, passes, pass_errors; /* history entries the policy wrote */
} writer;

struct cg_pipeline {
    cg_pipeline_config cfg;
    uint32_t nw;
    worker *w;
    cg_capture *file; /* -r */
    int dlt;
    cg_pcapdir *pd;          /* the packet ring, or NULL */
    _Atomic int pd_finished; /* its last file is written (the writer waits for it) */
    uint64_t next_seq;
    /* engines */
    pthread_mutex_t eng_mu;
    engine *cur; /* the newest: workers switch to it */
    _Atomic uint32_t gen;
    engine *old[4]; /* left by some workers still */
    int nold;
    pthread_t reload_th;
    _Atomic int reload_state; /* 0 idle, 1 building, 2 built (switching) */
    char reload_msg[640];
    int reload_ok;
    uint64_t reloads, reload_failures;
    double reload_s;
    /* what spans flows */
    cg_threshold_table *th;
    cg_xbits *xb;
    cg_detectors *dets;
    cg_gate gate;
    cg_detect_shared shared;
    pthread_mutex_t gate_mu;
    _Atomic uint64_t gate_entries; /* shared state taken (rules, detectors) */
    _Atomic uint64_t gate_waits;   /* of those, a file's order made it wait */
    int ordered;                   /* a file: the gate and the writer keep its order */
    /* the writer */
    pthread_t wr_th;
    int wr_started;
    writer wr;
    pthread_mutex_t wr_mu; /* the writer's counters, the EVE file (reopen) */
    _Atomic uint32_t bell; /* rung by workers when the writer sleeps */
    _Atomic int wr_sleeps;
    /* control */
    _Atomic int stop;
    _Atomic int req;
    _Atomic int failed;      /* the store or EVE file failed: exit 1 */
    _Atomic int input_error; /* a capture file broken mid-way: exit 2 */
    _Atomic int eve_fail;    /* the EVE file could not be written: exit 1 */
    char fail_msg[512];
    _Atomic int fail_set;
    double t0, t_end;
    uint64_t reopens;     /* done by the writer (wr_mu) */
    char reopen_msg[640]; /* the last one's error, "" when it worked */
    char name[256];
};

/* pipeline_writer.c */
/* 0, or the code of the failure (the EVE file's, or CG_ENOMEM) with a
 * one-line message in err */
int pl_writer_init(cg_pipeline *pl, char *err, size_t errlen);
void pl_writer_free(cg_pipeline *pl);
void *pl_writer_main(void *arg);
int pl_writer_reopen(cg_pipeline *pl, char *err, size_t errlen);
/* a worker's side: messages into its ring to the writer */
void pl_on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server, const cg_rule *r,
                 int stream);
void pl_on_event(void *ctx, const cg_inspect_event *ev);
void pl_send_line(worker *w, uint64_t key, unsigned kind, const char *line, size_t len);
void *pl_out_reserve(worker *w, uint32_t len);
/* Sets a reserved message's header and its order fields (key, sub). */
void pl_msg_head(worker *w, cg_ring_msg *h, uint32_t len, uint16_t type, uint64_t key);
/* Commits the message and rings the writer's bell when it sleeps. */
void pl_out_commit(worker *w, uint32_t len);
unsigned pl_eve_kind(int type);

/* pipeline.c: starts a reload on the caller's thread. 0, or -1 (one is
 * under way) */
int pl_start_reload(cg_pipeline *pl);

/* pipeline_stats.c */
void pl_publish(worker *w);
/* The EVE stats line, '\n' included, in a buffer of the calling thread's. */
const char *pl_stats_line(cg_pipeline *pl, size_t *len);
void pl_eve_failed(cg_pipeline *pl);
void pl_fail(cg_pipeline *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double pl_mono(void);
void pl_sum(cg_pipeline *pl, wstats *sum);
void pl_flows_snapshot(worker *w);

#endif
