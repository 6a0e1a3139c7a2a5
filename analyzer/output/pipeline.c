/* pipeline.c — the sensor's threads: the file reader, the workers, the gate
 * over what spans flows, reload, start and stop (pipeline.h says what they
 * do; pipeline_writer.c is the writer, pipeline_stats.c the counters).
 *
 * Invariants:
 *  - A worker's packet path takes no lock and allocates nothing: its rings
 *    are allocated at create, the gate is taken only for the rules and
 *    detectors that use shared state, the engine generation is one relaxed
 *    load per packet, counters are published under the worker's own mutex
 *    every 4096 packets and when idle.
 *  - Reading a file, seq numbers the packets from 1 in the file's order; the
 *    reader pushes them in that order, so a worker at seq s knows that every
 *    packet before s is in some worker's input ring or done. The gate lets a
 *    worker in at s when no other worker holds a packet before s (its
 *    current one, the head of its input ring): then its shared-state steps
 *    happen in the file's order whatever the number of workers.
 *  - Engines: cur is the newest; a worker switches when gen moves; an engine
 *    a worker left is freed by the writer once all have left it.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/output/eve_proto.h"
#include "analyzer/output/pipeline_int.h"

#define PUBLISH_EVERY 4096
#define LIVE_BATCH 64
#define POLL_MS 100

double pl_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first failure is said, once. After the EVE file's (pl_eve_failed),
 * the store goes on taking what came; its own failure then is another fact
 * (that batch was not stored) and is said too, once. */
void pl_fail(cg_pipeline *pl, const char *fmt, ...)
{
    int expect = 0;
    va_list ap;
    if (atomic_compare_exchange_strong(&pl->fail_set, &expect, 1)) {
        va_start(ap, fmt);
        vsnprintf(pl->fail_msg, sizeof pl->fail_msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "canhgac run: %s\n", pl->fail_msg);
    } else if (atomic_load(&pl->eve_fail) && !atomic_load(&pl->failed)) {
        char msg[sizeof pl->fail_msg];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "canhgac run: %s\n", msg);
    }
    atomic_store(&pl->failed, 1);
    atomic_store(&pl->stop, 1);
}

/* ---- the gate ---------------------------------------------------------------- */

static _Thread_local worker *tl_worker;

/* 1 while worker v may still take the gate before me at (s, sub): it holds a
 * packet before s, or works at s (a tick, the end) on a flow that sorts
 * before mine. */
static int before_me(worker *v, uint64_t s, uint64_t sub)
{
    if (atomic_load(&v->done))
        return 0;
    uint64_t h = cg_ring_peek_seq(&v->in);
    if (h < s || (h == s && sub > 0))
        return 1;
    for (;;) {
        uint64_t c = atomic_load(&v->cur);
        uint64_t vs = atomic_load(&v->pub_sub);
        if (atomic_load(&v->cur) != c)
            continue;
        return c < s || (c == s && vs < sub);
    }
}

static void gate_enter(void *ctx)
{
    cg_pipeline *pl = ctx;
    worker *me = tl_worker;
    if (pl->ordered && me) {
        uint64_t s = me->seq, sub = me->tie ? me->sub : 0;
        for (uint32_t i = 0; i < pl->nw; i++) {
            worker *v = &pl->w[i];
            if (v == me)
                continue;
            for (int spin = 0; before_me(v, s, sub); spin++) {
                if (spin == 0)
                    atomic_fetch_add_explicit(&pl->gate_waits, 1, memory_order_relaxed);
                if (spin < 64)
                    sched_yield();
                else {
                    struct timespec ts = { 0, 20000 };
                    nanosleep(&ts, NULL);
                }
            }
        }
    }
    atomic_fetch_add_explicit(&pl->gate_entries, 1, memory_order_relaxed);
    pthread_mutex_lock(&pl->gate_mu);
}

static void gate_leave(void *ctx)
{
    cg_pipeline *pl = ctx;
    pthread_mutex_unlock(&pl->gate_mu);
}

/* ---- engines and reload ------------------------------------------------------ */

/* Loads the rules and builds their engine: 0, or -1 with the message in
 * err and *bad_input set when the rules did not load for a reason of theirs
 * (not memory, nor the engine's build). */
static int build_engine(cg_pipeline *pl, engine **out, int *bad_input, char *err, size_t errlen)
{
    *bad_input = 0;
    engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = pl->cfg.load(pl->cfg.load_ctx, &e->rs, err, errlen);
    if (rc) {
        *bad_input = rc != CG_ENOMEM;
        free(e);
        return -1;
    }
    if (cg_detect_build(&e->det, e->rs, pl->cfg.cache_dir, err, errlen)) {
        cg_ruleset_destroy(e->rs);
        free(e);
        return -1;
    }
    *out = e;
    return 0;
}

static void *reload_main(void *arg)
{
    cg_pipeline *pl = arg;
    engine *e = NULL;
    char err[480];
    int bad_input;
    double t0 = pl_mono();
    if (pl->cfg.prebuild)
        pl->cfg.prebuild(pl->cfg.load_ctx);
    int rc = build_engine(pl, &e, &bad_input, err, sizeof err);
    pthread_mutex_lock(&pl->eng_mu);
    if (rc == 0 && pl->nold == (int)(sizeof pl->old / sizeof pl->old[0])) {
        snprintf(err, sizeof err, "too many reloads in flight");
        rc = -1;
    }
    if (rc) {
        snprintf(pl->reload_msg, sizeof pl->reload_msg,
                 "the new rules were not loaded, the "
                 "old ones go on: %s",
                 err);
        pl->reload_failures++;
        pl->reload_ok = 0;
        atomic_store(&pl->reload_state, 0); /* with the counters: a next one may start */
        pthread_mutex_unlock(&pl->eng_mu);
        if (e) {
            cg_detect_destroy(e->det);
            cg_ruleset_destroy(e->rs);
            free(e);
        }
        malloc_trim(0); /* what the failed build took goes back */
        fprintf(stderr, "canhgac run: reload: %s\n", pl->reload_msg);
    } else {
        uint32_t n = 0;
        cg_ruleset_rules(e->rs, &n);
        e->gen = atomic_load(&pl->gen) + 1;
        pl->old[pl->nold++] = pl->cur;
        pl->cur = e;
        pl->reloads++;
        pl->reload_ok = 1;
        pl->reload_s = pl_mono() - t0;
        snprintf(pl->reload_msg, sizeof pl->reload_msg, "%u rules loaded in %.2f s", n,
                 pl->reload_s);
        atomic_store(&pl->gen, e->gen);
        atomic_store(&pl->reload_state, 0);
        pthread_mutex_unlock(&pl->eng_mu);
        fprintf(stderr, "canhgac run: reload: %s\n", pl->reload_msg);
    }
    return NULL;
}

/* Starts a reload unless one is building. 0, or -1 (one is). */
int pl_start_reload(cg_pipeline *pl)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&pl->reload_state, &expect, 1))
        return -1;
    if (pl->reload_th)
        pthread_join(pl->reload_th, NULL);
    pl->reload_th = 0;
    if (pthread_create(&pl->reload_th, NULL, reload_main, pl)) {
        pl->reload_th = 0;
        atomic_store(&pl->reload_state, 0);
        return -1;
    }
    return 0;
}

/* The worker moves to the newest engine (between two packets). */
static void switch_engine(worker *w)
{
    cg_pipeline *pl = w->pl;
    pthread_mutex_lock(&pl->eng_mu);
    engine *to = pl->cur;
    pthread_mutex_unlock(&pl->eng_mu);
    char err[300];
    engine *from = w->eng;
    w->gen = to->gen;
    if (cg_inspect_switch(w->ins, to->det, from->rs, to->rs, err, sizeof err)) {
        fprintf(stderr, "canhgac run: worker %d: reload: %s (it keeps the old rules)\n", w->idx,
                err);
        return;
    }
    w->eng = to;
    /* the writer frees the old engine once every worker has said this */
    switched_msg *m = pl_out_reserve(w, sizeof *m);
    if (m) {
        pl_msg_head(w, &m->h, sizeof *m, MSG_SWITCHED, 0);
        m->engine = from;
        pl_out_commit(w, sizeof *m);
    }
}

/* ---- workers ------------------------------------------------------------------ */

static void inspect_frame(worker *w, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
                          uint32_t wirelen, int dlt)
{
    cg_pipeline *pl = w->pl;
    cg_packet p;
    int drc = cg_decode(&p, dlt, data, caplen, wirelen, ts_us, &w->ds);
    if (drc != CG_OK && pl->cfg.eve_path && (pl->cfg.eve_types & CG_INSPECT_EV_ANOMALY)) {
        size_t len = cg_eve_decode_anomaly(w->line, EVE_LINE, &p, drc);
        if (len)
            pl_send_line(w, 0, pl_eve_kind(CG_INSPECT_EV_ANOMALY), w->line, len);
    }
    if (drc != CG_OK || p.ipver == 0)
        return;
    cg_inspect_packet(w->ins, &p);
}

/* inspect.h's on_flow_end: at a tick or the end, the flow ending now gives
 * the order of what its end raises */
static void on_flow_end(void *ctx, const cg_flow *f)
{
    worker *w = ctx;
    if (!w->tie)
        return;
    w->sub = f->last_us << 12 | (f->id & 0xfff);
    atomic_store(&w->pub_sub, w->sub);
}

static void tie_begin(worker *w)
{
    w->tie = 1;
    w->sub = 0;
    atomic_store(&w->pub_sub, 0);
}

static void tie_end(worker *w)
{
    w->tie = 0;
    atomic_store(&w->pub_sub, UINT64_MAX);
}

static void between_packets(worker *w)
{
    if (atomic_load_explicit(&w->pl->gen, memory_order_relaxed) != w->gen)
        switch_engine(w);
    if (++w->since_pub >= PUBLISH_EVERY ||
        atomic_load_explicit(&w->want_flows, memory_order_relaxed))
        pl_publish(w);
}

static void finish(worker *w)
{
    w->seq = SEQ_FINISH;
    atomic_store(&w->cur, SEQ_FINISH);
    tie_begin(w);
    cg_inspect_finish(w->ins);
    tie_end(w);
    pl_publish(w);
    atomic_store(&w->done, 1);
}

static void *file_worker(void *arg)
{
    worker *w = arg;
    cg_pipeline *pl = w->pl;
    tl_worker = w;
    for (;;) {
        const cg_ring_msg *m = cg_ring_peek(&w->in);
        if (!m) {
            atomic_store(&w->cur, SEQ_NONE);
            pl_publish(w);
            while (!cg_ring_wait_data(&w->in, POLL_MS))
                if (atomic_load(&pl->failed))
                    break;
            if (atomic_load(&pl->failed) && !cg_ring_peek(&w->in))
                break;
            continue;
        }
        w->seq = m->seq;
        atomic_store(&w->cur, m->seq);
        if (m->type == MSG_END) {
            cg_ring_release(&w->in, m);
            break;
        }
        const pkt_msg *pm = (const pkt_msg *)m;
        if (m->type == MSG_TICK) {
            /* the file's clock moved on a second: flows idle past their
             * timeout end, in every worker at the same place */
            tie_begin(w);
            if (!atomic_load_explicit(&pl->failed, memory_order_relaxed) && !pl->cfg.null_workers)
                cg_inspect_expire(w->ins, pm->ts_us);
            tie_end(w);
            cg_ring_release(&w->in, m);
            atomic_store(&w->cur, SEQ_NONE);
            continue;
        }
        if (!atomic_load_explicit(&pl->failed, memory_order_relaxed) && !pl->cfg.null_workers)
            inspect_frame(w, pm->ts_us, (const uint8_t *)(pm + 1), pm->caplen, pm->wirelen,
                          pl->dlt);
        cg_ring_release(&w->in, m);
        atomic_store(&w->cur, SEQ_NONE);
        between_packets(w);
    }
    finish(w);
    return NULL;
}

static void *live_worker(void *arg)
{
    worker *w = arg;
    cg_pipeline *pl = w->pl;
    struct pollfd fds[CG_PIPELINE_MAX_IFACES];
    tl_worker = w;
    w->seq = 0;
    atomic_store(&w->cur, 0);
    for (int i = 0; i < w->ncaps; i++)
        fds[i] = (struct pollfd){ .fd = cg_capture_fd(w->caps[i]), .events = POLLIN };
    char err[512];
    while (!atomic_load(&pl->stop)) {
        int got = 0;
        for (int i = 0; i < w->ncaps; i++) {
            for (int k = 0; k < LIVE_BATCH; k++) {
                cg_frame fr;
                int n = cg_capture_next(w->caps[i], &fr, err, sizeof err);
                if (n < 0) {
                    /* the interface went away: the sensor stops, what the
                     * streams hold is inspected and stored (exit 1) */
                    int expect = 0;
                    if (atomic_compare_exchange_strong(&pl->fail_set, &expect, 1)) {
                        snprintf(pl->fail_msg, sizeof pl->fail_msg, "%s", err);
                        fprintf(stderr, "canhgac run: %s\n", err);
                    }
                    atomic_store(&pl->input_error, 1);
                    atomic_store(&pl->stop, 1);
                    goto out;
                }
                if (n == 0)
                    break;
                got++;
                if (pl->pd) /* full: dropped from the ring (counted), not from detection */
                    cg_pcapdir_push(pl->pd, (uint32_t)w->idx, fr.ts_us, cg_capture_dlt(w->caps[i]),
                                    fr.data, fr.caplen, fr.wirelen, 0);
                inspect_frame(w, fr.ts_us, fr.data, fr.caplen, fr.wirelen,
                              cg_capture_dlt(w->caps[i]));
                between_packets(w);
            }
        }
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        uint64_t now_us = (uint64_t)rt.tv_sec * 1000000u + (uint64_t)rt.tv_nsec / 1000u;
        if (now_us >= w->next_expire) {
            cg_inspect_expire(w->ins, now_us); /* an idle link's flows end too */
            w->next_expire = now_us + 1000000u;
        }
        if (!got) {
            pl_publish(w);
            if (atomic_load_explicit(&pl->gen, memory_order_relaxed) != w->gen)
                switch_engine(w);
            int rc = poll(fds, (nfds_t)w->ncaps, POLL_MS);
            if (rc < 0 && errno != EINTR) {
                pl_fail(pl, "poll: %s", strerror(errno));
                break;
            }
            for (int i = 0; rc > 0 && i < w->ncaps; i++)
                if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                    /* cg_capture_next says what happened on the next round */
                    fds[i].events = POLLIN;
                }
        }
    }
out:
    finish(w);
    return NULL;
}

/* ---- the reader (a file) ----------------------------------------------------- */

static uint32_t pick(const cg_pipeline *pl, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                     uint64_t ts, uint64_t seq)
{
    if (pl->nw == 1)
        return 0;
    cg_packet p;
    cg_decode_stats ds;
    if (cg_decode(&p, pl->dlt, data, caplen, wirelen, ts, &ds) != CG_OK || !p.ipver)
        return (uint32_t)(seq % pl->nw);
    /* the high half of the flow hash: the flow table buckets on the low one */
    uint64_t h = cg_flow_hash(&p) >> 32;
    return (uint32_t)((h * pl->nw) >> 32);
}

static int push(cg_pipeline *pl, worker *w, uint16_t type, uint64_t seq, const cg_frame *fr)
{
    uint32_t need = (uint32_t)sizeof(pkt_msg) + (fr ? fr->caplen : 0);
    pkt_msg *m;
    while (!(m = cg_ring_reserve(&w->in, need))) {
        atomic_fetch_add_explicit(&w->in_full, 1, memory_order_relaxed);
        if (atomic_load(&pl->failed))
            return -1;
        cg_ring_wait_space(&w->in, need, POLL_MS);
    }
    cg_ring_msg_set(&m->h, need, type, seq);
    if (fr) { /* (a tick: its time, no bytes) */
        m->ts_us = fr->ts_us;
        m->caplen = fr->caplen;
        m->wirelen = fr->wirelen;
        if (fr->caplen)
            memcpy(m + 1, fr->data, fr->caplen);
    }
    cg_ring_commit(&w->in, need);
    return 0;
}

static void serve(cg_pipeline *pl, int ctl_fd, void (*ctl)(void *), void *ctl_ctx, int ms)
{
    int req = atomic_load(&pl->req);
    if (req & CG_PL_REQ_RELOAD) {
        atomic_fetch_and(&pl->req, ~CG_PL_REQ_RELOAD);
        if (pl_start_reload(pl))
            fprintf(stderr, "canhgac run: reload: one is under way already\n");
    }
    if (ctl_fd >= 0 && ctl) {
        struct pollfd p = { .fd = ctl_fd, .events = POLLIN };
        if (poll(&p, 1, ms) > 0)
            ctl(ctl_ctx);
    } else if (ms > 0) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
}

static int read_file(cg_pipeline *pl, int ctl_fd, void (*ctl)(void *), void *ctl_ctx)
{
    char err[1024];
    int rc = 0;
    uint64_t seq = 0, last_sec = 0, nread = 0;
    for (;;) {
        if (atomic_load(&pl->stop))
            break;
        cg_frame fr;
        int n;
        if (pl->cfg.frames) {
            n = nread < pl->cfg.nframes;
            if (n)
                fr = pl->cfg.frames[nread++];
        } else {
            n = cg_capture_next(pl->file, &fr, err, sizeof err);
        }
        if (n < 0 && atomic_load(&pl->stop))
            break; /* a read cut short by SIGINT/SIGTERM (a capture from a pipe) */
        if (n < 0) {
            fprintf(stderr, "canhgac run: %s\n", err);
            atomic_store(&pl->input_error, 1);
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        uint64_t sec = fr.ts_us / 1000000u;
        if (sec > last_sec) {
            /* a tick: every worker ages its flows at this place */
            if (last_sec) {
                seq++;
                cg_frame tick = { .ts_us = fr.ts_us };
                for (uint32_t i = 0; i < pl->nw; i++)
                    if (push(pl, &pl->w[i], MSG_TICK, seq, &tick))
                        goto end;
            }
            last_sec = sec;
        }
        seq++;
        worker *w = &pl->w[pick(pl, fr.data, fr.caplen, fr.wirelen, fr.ts_us, seq)];
        if (push(pl, w, MSG_PKT, seq, &fr))
            break;
        if (pl->pd) /* waits when full: a file's ring loses nothing */
            cg_pcapdir_push(pl->pd, 0, fr.ts_us, pl->dlt, fr.data, fr.caplen, fr.wirelen, 1);
        if ((seq & 1023) == 0)
            serve(pl, ctl_fd, ctl, ctl_ctx, 0);
    }
end:
    for (uint32_t i = 0; i < pl->nw; i++)
        push(pl, &pl->w[i], MSG_END, SEQ_FINISH, NULL);
    pl->next_seq = seq + 1;
    return rc;
}

/* ---- create, run, destroy ------------------------------------------------------ */

static void pl_free_engine(engine *e)
{
    if (!e)
        return;
    cg_detect_destroy(e->det);
    cg_ruleset_destroy(e->rs);
    free(e);
}

int cg_pipeline_create(cg_pipeline **out, const cg_pipeline_config *cfg, int *exit_code, char *err,
                       size_t errlen)
{
    *exit_code = 2;
    if (cfg->workers < 1 || cfg->workers > CG_PIPELINE_MAX_WORKERS) {
        snprintf(err, errlen, "--workers: between 1 and %d, not %u", CG_PIPELINE_MAX_WORKERS,
                 cfg->workers);
        return -1;
    }
    if ((cfg->rfile || cfg->frames) == !!cfg->nifaces || cfg->nifaces > CG_PIPELINE_MAX_IFACES) {
        snprintf(err, errlen, "give one of a capture file or 1 to %d interfaces",
                 CG_PIPELINE_MAX_IFACES);
        return -1;
    }
    cg_pipeline *pl = calloc(1, sizeof *pl);
    if (!pl) {
        snprintf(err, errlen, "out of memory");
        *exit_code = 1;
        return -1;
    }
    pl->cfg = *cfg;
    pl->nw = cfg->workers;
    pl->ordered = cfg->rfile != NULL || cfg->frames != NULL;
    pthread_mutex_init(&pl->eng_mu, NULL);
    pthread_mutex_init(&pl->gate_mu, NULL);
    pthread_mutex_init(&pl->wr_mu, NULL);
    if (cfg->sensor_name)
        snprintf(pl->name, sizeof pl->name, "%s", cfg->sensor_name);
    else if (gethostname(pl->name, sizeof pl->name - 1))
        snprintf(pl->name, sizeof pl->name, "canhgac");
    pl->w = calloc(pl->nw, sizeof *pl->w);
    if (!pl->w)
        goto oom;
    for (uint32_t i = 0; i < pl->nw; i++)
        pthread_mutex_init(&pl->w[i].mu, NULL);
    /* the rules */
    engine *e = NULL;
    int bad_input, rc;
    if (build_engine(pl, &e, &bad_input, err, errlen)) {
        /* a rule set that does not load is bad input; no memory, or the
         * engine build failing (Hyperscan), is not */
        *exit_code = bad_input ? 2 : 1;
        cg_pipeline_destroy(pl);
        return -1;
    }
    e->gen = 1;
    pl->cur = e;
    atomic_store(&pl->gen, 1);
    /* what spans flows */
    if (cg_threshold_create(&pl->th, CG_DETECT_THRESHOLD_SLOTS) ||
        cg_xbits_create(&pl->xb, CG_DETECT_XBITS_SLOTS))
        goto oom;
    pl->gate = (cg_gate){ gate_enter, gate_leave, pl };
    pl->shared = (cg_detect_shared){ pl->th, pl->xb, &pl->gate };
    if (cfg->detectors && cg_detectors_create(&pl->dets, cfg->detectors, e->rs, err, errlen)) {
        *exit_code = 1;
        cg_pipeline_destroy(pl);
        return -1;
    }
    /* the input */
    if (cfg->frames) {
        pl->dlt = cfg->frames_dlt;
    } else if (cfg->rfile) {
        if ((rc = cg_capture_open_file(&pl->file, cfg->rfile, err, errlen)) != 0) {
            *exit_code = rc == CG_ENOMEM ? 1 : 2;
            cg_pipeline_destroy(pl);
            return -1;
        }
        pl->dlt = cg_capture_dlt(pl->file);
    }
    if (cfg->pcap_dir) {
        cg_pcapdir_config pc = { .dir = cfg->pcap_dir,
                                 .max_bytes = cfg->pcap_max,
                                 .producers = pl->ordered ? 1 : pl->nw,
                                 .log = stderr };
        if ((rc = cg_pcapdir_open(&pl->pd, &pc, err, errlen)) != 0) {
            *exit_code = rc == CG_ENOMEM ? 1 : 2;
            cg_pipeline_destroy(pl);
            return -1;
        }
    }
    uint64_t qcap = (uint64_t)(cfg->queue_kib ? cfg->queue_kib : 8192) << 10;
    uint32_t words = cg_detect_flowbit_words(e->det);
    uint32_t room = words * 2 + 4;
    for (uint32_t i = 0; i < pl->nw; i++) {
        worker *w = &pl->w[i];
        w->pl = pl;
        w->idx = (int)i;
        w->eng = e;
        w->gen = 1;
        atomic_store(&w->cur, SEQ_NONE);
        atomic_store(&w->pub_sub, UINT64_MAX);
        if ((pl->ordered && cg_ring_init(&w->in, qcap)) || cg_ring_init(&w->out, qcap) ||
            !(w->line = malloc(EVE_LINE)))
            goto oom;
        for (int k = 0; k < cfg->nifaces; k++) {
            cg_live_config lc = { .snaplen = cfg->snaplen,
                                  .bpf = cfg->bpf,
                                  .buffer_mib = cfg->ring_mib,
                                  .promisc = 1,
                                  .fanout_group =
                                      pl->nw > 1 ? (int)((getpid() * 8 + k) & 0xffff) : -1 };
            if (cg_capture_open_live_cfg(&w->caps[k], cfg->ifaces[k], &lc, err, errlen)) {
                cg_pipeline_destroy(pl);
                return -1;
            }
            w->ncaps = k + 1;
        }
        cg_inspect_config ic = cfg->inspect;
        ic.flow.max_flows = ic.flow.max_flows ? (ic.flow.max_flows + pl->nw - 1) / pl->nw : 0;
        if (ic.flow.memcap)
            ic.flow.memcap /= pl->nw;
        ic.on_alert = pl_on_alert;
        ic.on_flow_end = on_flow_end;
        ic.flow.no_reap = pl->ordered; /* flows age at the ticks only */
        ic.on_event = pl_on_event;
        ic.ctx = w;
        ic.det = pl->dets;
        ic.shared = &pl->shared;
        ic.bits_words = room;
        ic.events = cfg->eve_path ? cfg->eve_types & ~CG_EVE_T_ALERT : 0;
        if (cfg->store && ic.want_app)
            ic.events |= CG_INSPECT_EV_HTTP; /* a response's status follows its alert */
        *exit_code = 1;
        if (cg_inspect_create(&w->ins, e->det, &ic, err, errlen)) {
            cg_pipeline_destroy(pl);
            return -1;
        }
        *exit_code = 2;
    }
    if ((rc = pl_writer_init(pl, err, errlen)) != 0) {
        *exit_code = rc == CG_ENOMEM ? 1 : 2;
        cg_pipeline_destroy(pl);
        return -1;
    }
    *out = pl;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    *exit_code = 1;
    cg_pipeline_destroy(pl);
    return -1;
}

int cg_pipeline_run(cg_pipeline *pl, int ctl_fd, void (*ctl)(void *), void *ctl_ctx)
{
    pl->t0 = pl_mono();
    pl->wr.next_stats = pl->t0 + pl->cfg.stats_s;
    pl->wr.next_pass = pl->t0 + (pl->cfg.escalate_s ? pl->cfg.escalate_s : 60);
    for (uint32_t i = 0; i < pl->nw; i++) {
        worker *w = &pl->w[i];
        if (pthread_create(&w->th, NULL, pl->ordered ? file_worker : live_worker, w)) {
            pl_fail(pl, "cannot start a worker thread");
            if (pl->ordered)
                for (uint32_t k = 0; k < i; k++)
                    push(pl, &pl->w[k], MSG_END, SEQ_FINISH, NULL);
            for (uint32_t k = 0; k < i; k++)
                pthread_join(pl->w[k].th, NULL);
            return 1;
        }
        w->started = 1;
    }
    if (pthread_create(&pl->wr_th, NULL, pl_writer_main, pl))
        pl_fail(pl, "cannot start the writer thread");
    else
        pl->wr_started = 1;
    if (pl->ordered) {
        read_file(pl, ctl_fd, ctl, ctl_ctx);
    } else {
        while (!atomic_load(&pl->stop))
            serve(pl, ctl_fd, ctl, ctl_ctx, POLL_MS);
    }
    /* the workers end (live: they see stop), then the writer drains */
    atomic_store(&pl->stop, 1);
    for (uint32_t i = 0; i < pl->nw; i++)
        if (pl->w[i].started) {
            pthread_join(pl->w[i].th, NULL);
            pl->w[i].started = 0;
        }
    /* the ring's producers have stopped: what it holds is written and its
     * last file indexed before the writer's last stats line counts it */
    cg_pcapdir_finish(pl->pd);
    atomic_store(&pl->pd_finished, 1);
    if (pl->wr_started) {
        pthread_join(pl->wr_th, NULL);
        pl->wr_started = 0;
    } else {
        for (uint32_t i = 0; i < pl->nw; i++)
            atomic_store(&pl->w[i].done, 1);
    }
    if (pl->reload_th) {
        pthread_join(pl->reload_th, NULL);
        pl->reload_th = 0;
    }
    pl->t_end = pl_mono();
    if (atomic_load(&pl->failed) || atomic_load(&pl->eve_fail))
        return 1;
    if (atomic_load(&pl->input_error))
        return pl->ordered ? 2 : 1; /* a broken file is bad input; a lost link a failure */
    return 0;
}

void cg_pipeline_stop(cg_pipeline *pl)
{
    atomic_store(&pl->stop, 1);
}

void cg_pipeline_request(cg_pipeline *pl, int what)
{
    atomic_fetch_or(&pl->req, what);
}

void cg_pipeline_destroy(cg_pipeline *pl)
{
    if (!pl)
        return;
    /* the workers' flows end while the fold is alive: what they raise is
     * dropped (the run is over) */
    atomic_store(&pl->failed, 1);
    for (uint32_t i = 0; pl->w && i < pl->nw; i++) {
        worker *w = &pl->w[i];
        cg_inspect_destroy(w->ins);
        for (int k = 0; k < w->ncaps; k++)
            cg_capture_close(w->caps[k]);
        cg_ring_free(&w->in);
        cg_ring_free(&w->out);
        free(w->line);
        free(w->flows);
        pthread_mutex_destroy(&w->mu);
    }
    free(pl->w);
    pl_writer_free(pl);
    cg_detectors_destroy(pl->dets);
    cg_threshold_destroy(pl->th);
    cg_xbits_destroy(pl->xb);
    for (int i = 0; i < pl->nold; i++)
        pl_free_engine(pl->old[i]);
    pl_free_engine(pl->cur);
    cg_capture_close(pl->file);
    cg_pcapdir_close(pl->pd);
    pthread_mutex_destroy(&pl->eng_mu);
    pthread_mutex_destroy(&pl->gate_mu);
    pthread_mutex_destroy(&pl->wr_mu);
    free(pl);
}
