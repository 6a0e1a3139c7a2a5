/* pipeline_writer.c — from a worker's alerts to stored, enriched incidents
 * and EVE lines: the messages workers send (built on the worker's thread)
 * and the one writer that takes them (its own thread).
 *
 * Invariants:
 *  - A message carries copies (addresses, frame, context, the EVE line), so
 *    nothing it holds changes after the worker has sent it; the rule pointer
 *    stays valid because an engine is freed only after every worker's
 *    MSG_SWITCHED for it has been taken, and the fold's open incidents are
 *    bound to the new engine's rules first.
 *  - Reading a file, the writer takes messages in the order of their seq
 *    (their packets' places): a message is taken only when no worker can
 *    still send one with a smaller seq (its current packet and the head of
 *    its input ring are both later). What the end of the input flushes
 *    (SEQ_FINISH) is stashed, sorted by flow id, and taken last.
 *  - The store is written in batches: every `batch` alerts, at most a second
 *    after a batch began, and at the end. What is reported as stored is
 *    stored: a commit flushes every incident the fold created so far.
 *  - The layer policy, when there is one, is applied to an incident in the
 *    batch that creates or changes it (cg_policy_apply after its put), and
 *    its time pass runs here every escalate_s seconds, into a batch: no
 *    worker pays for either.
 */
#include <linux/futex.h>
#include <malloc.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/output/eve.h"
#include "analyzer/output/eve_proto.h"
#include "analyzer/output/pipeline_int.h"

unsigned pl_eve_kind(int type)
{
    unsigned k = 0;
    while (k < 5 && !(type & (1 << k)))
        k++;
    return k;
}

/* ---- a worker's side ------------------------------------------------------ */

/* Room in w's ring to the writer: waits while it is full (back-pressure,
 * counted), NULL only when the pipeline is stopping for a failure. */
void *pl_out_reserve(worker *w, uint32_t len)
{
    void *m = cg_ring_reserve(&w->out, len);
    if (m)
        return m;
    atomic_fetch_add_explicit(&w->out_full, 1, memory_order_relaxed);
    while (!(m = cg_ring_reserve(&w->out, len))) {
        if (atomic_load(&w->pl->failed))
            return NULL;
        cg_ring_wait_space(&w->out, len, 50);
    }
    return m;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val, long ns)
{
    struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

/* The EVE file cannot be written (a full disk): said once; the sensor stops
 * (exit 1) but the store goes on taking and commits what came. The file
 * keeps whole lines only (eve_file.h); the lines counted as written that
 * did not reach it move to eve_lost. */
void pl_eve_failed(cg_pipeline *pl)
{
    writer *wr = &pl->wr;
    if (wr->eve_broken)
        return;
    wr->eve_broken = 1;
    uint64_t lost[CG_EVE_FILE_KINDS] = { 0 };
    cg_eve_file_take_lost(wr->eve, lost);
    pthread_mutex_lock(&pl->wr_mu);
    for (unsigned k = 0; k < EVE_KINDS; k++) {
        uint64_t n = lost[k] < wr->eve_lines[k] ? lost[k] : wr->eve_lines[k];
        wr->eve_lines[k] -= n;
        wr->eve_lost += n;
    }
    pthread_mutex_unlock(&pl->wr_mu);
    int expect = 0;
    if (atomic_compare_exchange_strong(&pl->fail_set, &expect, 1)) {
        snprintf(pl->fail_msg, sizeof pl->fail_msg, "%s", cg_eve_file_error(wr->eve));
        fprintf(stderr, "canhgac run: %s\n", pl->fail_msg);
    }
    atomic_store(&pl->eve_fail, 1);
    atomic_store(&pl->stop, 1);
}

void pl_msg_head(worker *w, cg_ring_msg *h, uint32_t len, uint16_t type, uint64_t key)
{
    cg_ring_msg_set(h, len, type, w->seq);
    h->flags = w->tie ? MSG_TIE : 0;
    line_msg *m = (line_msg *)h; /* every body starts with key, sub */
    m->key = key;
    m->sub = w->tie ? w->sub : 0;
}

void pl_out_commit(worker *w, uint32_t len)
{
    cg_pipeline *pl = w->pl;
    cg_ring_commit(&w->out, len);
    if (atomic_load(&pl->wr_sleeps)) {
        atomic_fetch_add(&pl->bell, 1);
        syscall(SYS_futex, (uint32_t *)&pl->bell, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

void pl_send_line(worker *w, uint64_t key, unsigned kind, const char *line, size_t len)
{
    uint32_t need = (uint32_t)(sizeof(line_msg) + len);
    if (need > cg_ring_max_msg(&w->out))
        return;
    line_msg *m = pl_out_reserve(w, need);
    if (!m)
        return;
    pl_msg_head(w, &m->h, need, MSG_LINE, key);
    m->kind = kind;
    m->len = (uint32_t)len;
    memcpy(m + 1, line, len);
    pl_out_commit(w, need);
}

/* A context text field for the store: NUL bytes (the fields hold what was
 * sent) become '.', at most cap bytes. */
#define CTX_PUT(dst, t, cap) ctx_put((dst), (t).s, (t).len, (cap))
static uint16_t ctx_put(char *dst, const char *src, uint16_t len, size_t cap)
{
    size_t n = len < cap ? len : cap;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] ? src[i] : '.';
    return (uint16_t)n;
}

void pl_on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server, const cg_rule *r,
                 int stream)
{
    worker *w = ctx;
    cg_pipeline *pl = w->pl;
    (void)stream;
    if (atomic_load_explicit(&pl->failed, memory_order_relaxed))
        return;
    const cg_alert_info *ai = cg_inspect_alert_info(w->ins);
    char cid[40] = "";
    cg_community_id(p, 0, cid, sizeof cid);
    uint64_t fid = f ? f->id : cg_flow_id(p);
    /* the EVE line, its incident id written by the writer */
    uint32_t line_len = 0, id_at = 0;
    if (pl->cfg.eve_path && (pl->cfg.eve_types & CG_EVE_T_ALERT)) {
        cg_eve_alert_extra x = { .f = f,
                                 .to_server = to_server,
                                 .ai = ai,
                                 .fields = pl->cfg.alert_fields };
        size_t len = cg_eve_alert_ex(w->line, EVE_LINE, p, r, fid, cid, INCIDENT_SENTINEL, &x);
        static const char tag[] = "\"incident_id\":18446744073709551615";
        const char *at = len ? memmem(w->line, len, tag, sizeof tag - 1) : NULL;
        if (at) {
            id_at = (uint32_t)(at - w->line) + 14; /* after "incident_id": */
            /* the sentinel's digits are cut out: the writer puts the id there */
            memmove(w->line + id_at, w->line + id_at + 20, len - id_at - 20);
            line_len = (uint32_t)(len - 20);
        }
    }
    uint32_t caplen = p->frame && pl->cfg.store ? p->caplen : 0;
    const uint8_t *ex = NULL;
    uint32_t exat = 0, nex = 0;
    if (ai && pl->cfg.store)
        nex = cg_alert_excerpt(ai, 256, &ex, &exat);
    uint32_t need = (uint32_t)sizeof(alert_msg) + caplen + nex + line_len + CG_APPCTX_METHOD +
        CG_APPCTX_HOST + CG_APPCTX_URL + CG_APPCTX_UA + CG_APPCTX_RRNAME + CG_APPCTX_SNI +
        CG_APPCTX_HASH + 32;
    if (need > cg_ring_max_msg(&w->out))
        return;
    alert_msg *m = pl_out_reserve(w, need);
    if (!m)
        return;
    memset(m, 0, sizeof *m);
    m->rule = r;
    m->ts_us = p->ts_us;
    memcpy(m->src, p->src, 16);
    memcpy(m->dst, p->dst, 16);
    m->sport = p->sport;
    m->dport = p->dport;
    m->proto = p->proto;
    m->ipver = p->ipver;
    m->to_server = (uint8_t)to_server;
    m->dlt = p->dlt;
    m->caplen = caplen;
    m->wirelen = p->wirelen;
    memcpy(m->cid, cid, sizeof m->cid);
    uint8_t *d = (uint8_t *)(m + 1);
    if (caplen)
        memcpy(d, p->frame, caplen);
    d += caplen;
    if (nex) {
        memcpy(d, ex, nex);
        m->payload_len = nex;
        uint32_t ml = ai->match_len;
        m->payload_match = exat == CG_ALERT_NO_MATCH || exat > nex ? 0 : exat >= ml ? exat - ml : 0;
    }
    d += nex;
    memcpy(d, w->line, line_len);
    m->line_len = line_len;
    m->line_id_at = id_at;
    d += line_len;
    if (ai && pl->cfg.store) {
        m->has_ctx = 1;
        const char *an = cg_eve_app_proto_name(ai->app_proto);
        char *s = (char *)d;
        const cg_appctx *c = ai->app;
        if (c && c->http.has_request) {
            m->has_request = 1;
            s += m->ctx_len[CX_METHOD] = CTX_PUT(s, c->http.method, CG_APPCTX_METHOD);
            s += m->ctx_len[CX_HOST] = CTX_PUT(s, c->http.host, CG_APPCTX_HOST);
            s += m->ctx_len[CX_URL] = CTX_PUT(s, c->http.url, CG_APPCTX_URL);
            s += m->ctx_len[CX_UA] = CTX_PUT(s, c->http.ua, CG_APPCTX_UA);
            if (c->http.has_response) {
                m->has_response = 1;
                m->http_status = c->http.status;
            }
        }
        if (c && c->dns.present && c->dns.has_query)
            s += m->ctx_len[CX_RRNAME] = CTX_PUT(s, c->dns.rrname, CG_APPCTX_RRNAME);
        if (c && c->tls.client_hello) {
            s += m->ctx_len[CX_SNI] = CTX_PUT(s, c->tls.sni, CG_APPCTX_SNI);
            s += m->ctx_len[CX_JA3] = CTX_PUT(s, c->tls.ja3_hash, CG_APPCTX_HASH);
        }
        if (an) {
            size_t n = strlen(an) < 31 ? strlen(an) : 31;
            memcpy(s, an, n);
            s += m->ctx_len[CX_APP] = (uint16_t)n;
        }
        d = (uint8_t *)s;
    }
    uint32_t len = (uint32_t)(d - (uint8_t *)m);
    pl_msg_head(w, &m->h, len, MSG_ALERT, fid);
    pl_out_commit(w, len);
}

void pl_on_event(void *ctx, const cg_inspect_event *ev)
{
    worker *w = ctx;
    cg_pipeline *pl = w->pl;
    if (atomic_load_explicit(&pl->failed, memory_order_relaxed))
        return;
    uint64_t key = ev->f ? ev->f->id : 0;
    /* the response to the request behind an incident's first alert: its
     * status goes to the writer, which knows the incident */
    if (ev->type == CG_INSPECT_EV_HTTP && pl->cfg.store && ev->f && ev->app &&
        ev->app->http.has_response && ev->app->http.status) {
        status_msg *m = pl_out_reserve(w, sizeof *m);
        if (m) {
            pl_msg_head(w, &m->h, sizeof *m, MSG_STATUS, key);
            m->status = ev->app->http.status;
            pl_out_commit(w, sizeof *m);
        }
    }
    if (!pl->cfg.eve_path || !(pl->cfg.eve_types & (uint32_t)ev->type))
        return;
    size_t len = cg_eve_event(w->line, EVE_LINE, ev);
    if (len)
        pl_send_line(w, key, pl_eve_kind(ev->type), w->line, len);
}

/* ---- the writer ------------------------------------------------------------ */

static uint64_t new_id(void *arg)
{
    cg_pipeline *pl = arg;
    writer *wr = &pl->wr;
    wr->pending_new++;
    if (pl->cfg.store)
        return wr->last_id = cg_store_new_id(pl->cfg.store);
    return wr->last_id = ++wr->next_local_id;
}

static void geo_fill(cg_pipeline *pl, const uint8_t addr[16], geo_side *out)
{
    cg_geo g;
    if (cg_enrich_lookup(pl->cfg.enrich, addr, &g))
        pl->wr.geo_errors++;
    memcpy(out->country, g.country, sizeof out->country);
    out->asn = g.asn;
    memcpy(out->city, g.city, sizeof out->city);
    out->city[sizeof out->city - 1] = '\0';
    snprintf(out->as_org, sizeof out->as_org, "%s", g.as_org);
    out->asset = cg_assets_lookup(cg_enrich_assets(pl->cfg.enrich), addr);
}

static void geo_put(const geo_side *g, cg_incident_geo *out)
{
    memcpy(out->country, g->country, sizeof out->country);
    out->asn = g->asn;
    out->city = g->city;
    out->as_org = g->as_org;
    out->agency = g->asset ? g->asset->agency : "";
    out->zone = g->asset ? g->asset->zone : "";
}

static int ensure_batch(cg_pipeline *pl)
{
    writer *wr = &pl->wr;
    if (!pl->cfg.store || wr->in_batch)
        return 0;
    if (cg_store_begin(pl->cfg.store))
        return -1;
    wr->in_batch = 1;
    wr->batch_t0 = pl_mono();
    return 0;
}

/* The fold's view of incident oi as the store keeps it (no context). */
static void fill_incident(cg_pipeline *pl, const cg_open_incident *oi, cg_incident *out)
{
    const cg_rule *r = oi->rule;
    memset(out, 0, sizeof *out);
    out->id = oi->id;
    out->gid = r->gid;
    out->sid = r->sid;
    out->rev = r->rev;
    memcpy(out->src, oi->src, 16);
    memcpy(out->dst, oi->dst, 16);
    out->sport = oi->sport;
    out->dport = oi->dport;
    out->proto = oi->proto;
    /* the store keeps a severity, status and assignee set by triage */
    out->severity = oi->severity;
    out->rule_severity = oi->severity;
    out->layers = r->layers;
    out->status = CG_ST_NEW;
    out->first_us = oi->first_us;
    out->last_us = oi->last_us;
    out->count = oi->count;
    out->flow_id = oi->flow_id;
    out->escalated_from = oi->escalated_from;
    out->community_id = oi->community_id;
    out->msg = r->msg ? r->msg : "";
    out->classtype = r->classtype ? r->classtype : "";
    out->nevidence = oi->nevidence;
    out->nalerts = oi->nalerts;
    const inc_geo *ig = pl->cfg.enrich ? cg_incidents_user(pl->wr.ag, oi) : NULL;
    if (ig) {
        geo_put(&ig->src, &out->src_geo);
        geo_put(&ig->dst, &out->dst_geo);
        out->geo_db_type = pl->wr.geo_db_type;
        out->geo_db_date = pl->wr.geo_db_date;
    }
}

/* The policy's escalations of inc, just put: in the same batch. History
 * entries are dated by the incident's last alert (the packet's time). */
static int escalate(cg_pipeline *pl, const cg_incident *inc)
{
    unsigned n = 0;
    if (!pl->cfg.policy)
        return 0;
    if (cg_policy_apply(pl->cfg.policy, pl->cfg.store, inc, 0, inc->last_us, &n))
        return -1;
    pl->wr.escalations += n;
    return 0;
}

static int sink(const cg_open_incident *oi, void *arg)
{
    cg_pipeline *pl = arg;
    if (!pl->cfg.store)
        return 0;
    if (ensure_batch(pl))
        return -1;
    cg_incident inc;
    fill_incident(pl, oi, &inc);
    if (cg_store_put(pl->cfg.store, &inc))
        return -1;
    return escalate(pl, &inc);
}

static int alert_sink(const cg_open_incident *oi, const cg_fold_alert *fa, void *arg)
{
    cg_pipeline *pl = arg;
    if (!pl->cfg.store)
        return 0;
    if (ensure_batch(pl))
        return -1;
    cg_alert a = { .ts_us = fa->ts_us,
                   .flow_id = fa->flow_id,
                   .community_id = fa->community_id,
                   .sport = fa->sport,
                   .dport = fa->dport,
                   .severity = fa->severity,
                   .evidence_seq = fa->evidence_seq };
    return cg_store_put_alert(pl->cfg.store, oi->id, fa->seq, &a) ? -1 : 0;
}

/* What the EVE file's buffer holds goes to the file. */
static void eve_flush(cg_pipeline *pl)
{
    writer *wr = &pl->wr;
    if (wr->eve && !wr->eve_broken && cg_eve_file_flush(wr->eve))
        pl_eve_failed(pl);
}

static void store_failed(cg_pipeline *pl)
{
    pl_fail(pl, "%s", cg_store_error(pl->cfg.store));
}

/* Flushes dirty incidents and commits the batch. 0 or -1 (failed). */
static int commit(cg_pipeline *pl)
{
    writer *wr = &pl->wr;
    if (cg_incidents_flush(wr->ag)) {
        store_failed(pl);
        return -1;
    }
    int committed = 0;
    if (pl->cfg.store && wr->in_batch) {
        wr->in_batch = 0;
        if (cg_store_commit(pl->cfg.store)) {
            store_failed(pl);
            return -1;
        }
        committed = 1;
    }
    pthread_mutex_lock(&pl->wr_mu);
    wr->committed_incidents += wr->pending_new;
    pthread_mutex_unlock(&pl->wr_mu);
    if (committed && pl->cfg.progress && wr->committed_incidents)
        fprintf(stderr, "canhgac run: stored: %llu incidents, last id %llu\n",
                (unsigned long long)wr->committed_incidents, (unsigned long long)wr->last_id);
    wr->pending_new = 0;
    wr->batch_alerts = 0;
    eve_flush(pl);
    return 0;
}

/* One EVE line of kind, in up to three pieces. A line the file does not
 * take (it failed, now or before) is counted as not written. */
static void eve_write(cg_pipeline *pl, unsigned kind, const char *a, size_t na, const char *b,
                      size_t nb, const char *c, size_t nc)
{
    writer *wr = &pl->wr;
    if (!wr->eve)
        return;
    struct iovec v[3] = { { (void *)a, na }, { (void *)b, nb }, { (void *)c, nc } };
    if (wr->eve_broken || cg_eve_file_put(wr->eve, kind, v, 3)) {
        pl_eve_failed(pl);
        pthread_mutex_lock(&pl->wr_mu);
        wr->eve_lost++;
        pthread_mutex_unlock(&pl->wr_mu);
        return;
    }
    pthread_mutex_lock(&pl->wr_mu);
    wr->eve_lines[kind]++;
    pthread_mutex_unlock(&pl->wr_mu);
}

static void eve_stats(cg_pipeline *pl)
{
    size_t len;
    const char *line = pl_stats_line(pl, &len);
    eve_write(pl, 6, line, len, NULL, 0, NULL, 0);
}

/* put_context: an incident the fold has just created goes into the store at
 * once with the context of its first alert; the store keeps that context
 * when the incident is put again as it grows (sink, with no context). */
static int put_context(cg_pipeline *pl, const cg_open_incident *oi, const alert_msg *m,
                       const uint8_t *payload, const char *ctx)
{
    writer *wr = &pl->wr;
    char s[CTX_FIELDS][CG_APPCTX_URL + 1];
    cg_incident inc;
    fill_incident(pl, oi, &inc);
    if (m->has_ctx) {
        const char *p = ctx;
        for (int i = 0; i < CTX_FIELDS; i++) {
            memcpy(s[i], p, m->ctx_len[i]);
            s[i][m->ctx_len[i]] = '\0';
            p += m->ctx_len[i];
        }
        inc.app_proto = s[CX_APP];
        if (m->has_request) {
            inc.http_method = s[CX_METHOD];
            inc.http_host = s[CX_HOST];
            inc.http_url = s[CX_URL];
            inc.http_user_agent = s[CX_UA];
            if (m->has_response) {
                inc.http_status = m->http_status;
            } else {
                struct pending_status *ps = &wr->pending[oi->flow_id & (PENDING_STATUS - 1)];
                ps->flow_id = oi->flow_id;
                ps->id = oi->id;
                ps->oi = oi;
            }
        }
        if (m->ctx_len[CX_RRNAME])
            inc.dns_query = s[CX_RRNAME];
        if (m->ctx_len[CX_SNI] || m->ctx_len[CX_JA3]) {
            inc.tls_sni = s[CX_SNI];
            inc.tls_ja3 = s[CX_JA3];
        }
        if (m->payload_len) {
            inc.payload = payload;
            inc.payload_len = m->payload_len;
            inc.payload_match = m->payload_match;
        }
    }
    int rc = cg_store_put(pl->cfg.store, &inc);
    return rc ? rc : escalate(pl, &inc);
}

static void take_alert(cg_pipeline *pl, const alert_msg *m)
{
    writer *wr = &pl->wr;
    cg_store *st = pl->cfg.store;
    const uint8_t *frame = (const uint8_t *)(m + 1);
    const uint8_t *payload = frame + m->caplen;
    const char *line = (const char *)(payload + m->payload_len);
    const char *ctx = line + m->line_len;
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = m->ts_us;
    memcpy(p.src, m->src, 16);
    memcpy(p.dst, m->dst, 16);
    p.sport = m->sport;
    p.dport = m->dport;
    p.proto = m->proto;
    p.ipver = m->ipver;
    p.flags = CG_PKT_HAS_PORTS;
    if (ensure_batch(pl)) {
        store_failed(pl);
        return;
    }
    int evseq, created;
    cg_open_incident *oi =
        cg_incidents_fold(wr->ag, m->rule, &p, m->key, m->cid, 0, m->to_server, &evseq, &created);
    if (!oi) {
        store_failed(pl);
        return;
    }
    if (created) {
        inc_geo *ig;
        if (pl->cfg.enrich && (ig = cg_incidents_user(wr->ag, oi))) {
            geo_fill(pl, oi->src, &ig->src);
            geo_fill(pl, oi->dst, &ig->dst);
            wr->enriched++;
        }
        if (st && put_context(pl, oi, m, payload, ctx)) {
            store_failed(pl);
            return;
        }
    }
    if (evseq >= 0 && st && m->caplen > 0) {
        cg_evidence ev = { .ts_us = m->ts_us,
                           .dlt = m->dlt,
                           .caplen = m->caplen,
                           .wirelen = m->wirelen,
                           .data = frame };
        if (cg_store_put_evidence(st, oi->id, (uint32_t)evseq, &ev)) {
            store_failed(pl);
            return;
        }
    }
    if (m->line_len) {
        char id[24];
        int n = snprintf(id, sizeof id, "%llu", (unsigned long long)oi->id);
        eve_write(pl, 5, line, m->line_id_at, id, (size_t)n, line + m->line_id_at,
                  m->line_len - m->line_id_at);
    }
    pthread_mutex_lock(&pl->wr_mu);
    wr->alerts++;
    pthread_mutex_unlock(&pl->wr_mu);
    wr->batch_alerts++;
}

/* The response to the request behind an incident's first alert has come:
 * its status goes into the store (the other context fields stay). */
static void take_status(cg_pipeline *pl, const status_msg *m)
{
    writer *wr = &pl->wr;
    struct pending_status *ps = &wr->pending[m->key & (PENDING_STATUS - 1)];
    if (!ps->id || ps->flow_id != m->key)
        return;
    const cg_open_incident *oi = ps->oi;
    uint64_t id = ps->id;
    ps->id = 0;
    if (oi->id != id)
        return; /* its slot went to another incident: the status is not known */
    cg_incident inc;
    fill_incident(pl, oi, &inc);
    inc.http_status = (uint16_t)m->status;
    if (ensure_batch(pl) || cg_store_put(pl->cfg.store, &inc))
        store_failed(pl);
}

static const cg_rule *rules_of(const engine *e, uint32_t *n)
{
    return cg_ruleset_rules(e->rs, n);
}

static void take_switched(cg_pipeline *pl, const switched_msg *m)
{
    engine *e = m->engine;
    uint32_t n = 0;
    if (++e->left < (int)pl->nw)
        return;
    /* every worker left it: the fold's open incidents move to the newest
     * rules (by gid:sid; the pending statuses point into the fold's slots,
     * which stay), and it goes */
    pthread_mutex_lock(&pl->eng_mu);
    engine *newest = pl->cur;
    for (int i = 0; i < pl->nold; i++)
        if (pl->old[i] == e) {
            pl->old[i] = pl->old[--pl->nold];
            break;
        }
    const cg_rule *rules = rules_of(newest, &n);
    if (commit(pl) == 0 && cg_incidents_rebind(pl->wr.ag, rules, n) == 0) {
        pthread_mutex_unlock(&pl->eng_mu);
        cg_detect_destroy(e->det);
        cg_ruleset_destroy(e->rs);
        free(e);
        malloc_trim(0); /* the old engine's memory goes back to the system */
        return;
    }
    /* the fold may still point at its rules: it goes with the pipeline */
    if (pl->nold < (int)(sizeof pl->old / sizeof pl->old[0]))
        pl->old[pl->nold++] = e;
    pthread_mutex_unlock(&pl->eng_mu);
}

static void take(cg_pipeline *pl, const cg_ring_msg *m)
{
    if (atomic_load_explicit(&pl->failed, memory_order_relaxed) && m->type != MSG_SWITCHED)
        return; /* the store failed: what is left is dropped */
    switch (m->type) {
    case MSG_ALERT: take_alert(pl, (const alert_msg *)m); break;
    case MSG_LINE: {
        const line_msg *l = (const line_msg *)m;
        eve_write(pl, l->kind, (const char *)(l + 1), l->len, NULL, 0, NULL, 0);
        break;
    }
    case MSG_STATUS: take_status(pl, (const status_msg *)m); break;
    case MSG_SWITCHED: take_switched(pl, (const switched_msg *)m); break;
    default: break;
    }
}

/* 1 when worker v may still send a message with a seq below s. */
static int may_send_below(worker *v, uint64_t s)
{
    if (atomic_load(&v->done))
        return 0;
    if (cg_ring_peek_seq(&v->in) < s)
        return 1;
    return atomic_load(&v->cur) < s;
}

/* 1 when worker v may still send a message with a seq of s or below. */
static int may_send_upto(worker *v, uint64_t s)
{
    if (atomic_load(&v->done))
        return 0;
    if (cg_ring_peek_seq(&v->in) <= s)
        return 1;
    return atomic_load(&v->cur) <= s;
}

static void stash(cg_pipeline *pl, worker *w, const cg_ring_msg *m)
{
    writer *wr = &pl->wr;
    if (wr->nstash == wr->capstash) {
        size_t nc = wr->capstash ? wr->capstash * 2 : 1024;
        struct stash *ns = realloc(wr->stash, nc * sizeof *ns);
        if (!ns) {
            pl_fail(pl, "out of memory (flows that end together)");
            return;
        }
        wr->stash = ns;
        wr->capstash = nc;
    }
    cg_ring_msg *copy = malloc(m->len);
    if (!copy) {
        pl_fail(pl, "out of memory (flows that end together)");
        return;
    }
    memcpy(copy, m, m->len);
    const line_msg *l = (const line_msg *)m;
    wr->stash[wr->nstash] =
        (struct stash){ m->seq, l->sub, l->key, (uint64_t)w->idx << 48 | wr->stashed++, copy };
    wr->nstash++;
}

static int stash_cmp(const void *a, const void *b)
{
    const struct stash *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->sub != y->sub)
        return x->sub < y->sub ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Moves the tied messages at the heads of the rings to the stash. */
static void stash_ties(cg_pipeline *pl)
{
    for (uint32_t i = 0; i < pl->nw; i++) {
        worker *v = &pl->w[i];
        const cg_ring_msg *m;
        while ((m = cg_ring_peek(&v->out)) && (m->flags & MSG_TIE)) {
            stash(pl, v, m);
            cg_ring_release(&v->out, m);
        }
    }
}

/* Takes the stashed messages of seq s: flows that ended at one tick (or at
 * the end) in every worker, by when each was last seen, then by flow id; a
 * flow's own messages keep their order. */
static int take_ties(cg_pipeline *pl, uint64_t s)
{
    writer *wr = &pl->wr;
    qsort(wr->stash, wr->nstash, sizeof *wr->stash, stash_cmp);
    size_t k = 0;
    while (k < wr->nstash && wr->stash[k].seq == s) {
        take(pl, wr->stash[k].m);
        free(wr->stash[k].m);
        k++;
    }
    memmove(wr->stash, wr->stash + k, (wr->nstash - k) * sizeof *wr->stash);
    wr->nstash -= k;
    return (int)k;
}

/* Takes what can be taken now: up to max messages. Returns how many. */
static int drain(cg_pipeline *pl, int max)
{
    writer *wr = &pl->wr;
    int n = 0;
    while (n < max) {
        if (!pl->ordered) {
            int got = 0;
            for (uint32_t i = 0; i < pl->nw; i++) {
                worker *v = &pl->w[i];
                const cg_ring_msg *m = cg_ring_peek(&v->out);
                if (m) {
                    take(pl, m);
                    cg_ring_release(&v->out, m);
                    got++;
                }
            }
            n += got;
            if (!got)
                return n;
            continue;
        }
        stash_ties(pl);
        worker *best = NULL;
        const cg_ring_msg *bm = NULL;
        for (uint32_t i = 0; i < pl->nw; i++) {
            const cg_ring_msg *m = cg_ring_peek(&pl->w[i].out);
            if (m && (!bm || m->seq < bm->seq)) {
                best = &pl->w[i];
                bm = m;
            }
        }
        uint64_t ts = UINT64_MAX;
        for (size_t i = 0; i < wr->nstash; i++)
            if (wr->stash[i].seq < ts)
                ts = wr->stash[i].seq;
        if (wr->nstash && (!bm || ts <= bm->seq)) {
            /* the ties of ts go once every worker is past ts */
            for (uint32_t i = 0; i < pl->nw; i++)
                if (may_send_upto(&pl->w[i], ts))
                    return n;
            stash_ties(pl); /* what they sent before they moved on */
            n += take_ties(pl, ts);
            continue;
        }
        if (!bm)
            return n;
        /* nobody may still send an earlier one */
        int later = 0;
        for (uint32_t i = 0; i < pl->nw && !later; i++) {
            worker *v = &pl->w[i];
            if (v == best)
                continue;
            if (may_send_below(v, bm->seq))
                return n;
            /* it may have sent one just before it moved on */
            const cg_ring_msg *m = cg_ring_peek(&v->out);
            later = m && m->seq < bm->seq;
        }
        if (later)
            continue; /* that one first */
        take(pl, bm);
        cg_ring_release(&best->out, bm);
        n++;
    }
    return n;
}

static int all_done(cg_pipeline *pl)
{
    for (uint32_t i = 0; i < pl->nw; i++)
        if (!atomic_load(&pl->w[i].done))
            return 0;
    return 1;
}

/* The policy's time pass, into a batch (committed as any other): the
 * store's new incidents as last committed, at the wall clock's time. A
 * failure of the pass is said and counted; a failure of the batch stops the
 * sensor as a put's does. */
static void time_pass(cg_pipeline *pl, double now)
{
    writer *wr = &pl->wr;
    struct timespec ts;
    cg_policy_pass_stats ps;
    wr->next_pass = now + (pl->cfg.escalate_s ? pl->cfg.escalate_s : 60);
    if (ensure_batch(pl)) {
        store_failed(pl);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    int rc = cg_policy_pass(pl->cfg.policy, pl->cfg.store, now_us, pl->cfg.batch, &ps);
    pthread_mutex_lock(&pl->wr_mu);
    wr->passes++;
    wr->escalations += ps.entries - ps.reminders;
    wr->reminders += ps.reminders;
    pthread_mutex_unlock(&pl->wr_mu);
    if (rc == CG_ENOMEM) {
        wr->pass_errors++;
        fprintf(stderr, "canhgac run: escalation pass: out of memory; next in %u s\n",
                pl->cfg.escalate_s ? pl->cfg.escalate_s : 60);
    } else if (rc) {
        store_failed(pl);
    }
}

void *pl_writer_main(void *arg)
{
    cg_pipeline *pl = arg;
    writer *wr = &pl->wr;
    int idle = 0;
    for (;;) {
        int done = all_done(pl); /* read before the rings: then they hold everything */
        int n = drain(pl, 256);
        double now = pl_mono();
        if (wr->in_batch && !atomic_load(&pl->failed) &&
            (wr->batch_alerts >= pl->cfg.batch || now - wr->batch_t0 >= 1.0))
            commit(pl);
        if (now - wr->eve_flush_t >= 1.0) {
            /* a line waits at most a second for the file (a log shipper
             * follows it), however busy the writer is */
            wr->eve_flush_t = now;
            eve_flush(pl);
        }
        int req = atomic_load(&pl->req);
        if (req & CG_PL_REQ_REOPEN) {
            atomic_fetch_and(&pl->req, ~CG_PL_REQ_REOPEN);
            char e[600] = "";
            int rc = pl_writer_reopen(pl, e, sizeof e);
            pthread_mutex_lock(&pl->wr_mu);
            snprintf(pl->reopen_msg, sizeof pl->reopen_msg, "%s", rc ? e : "");
            pl->reopens++;
            pthread_mutex_unlock(&pl->wr_mu);
            if (rc)
                fprintf(stderr, "canhgac run: reopen: %s\n", e);
        }
        if (req & CG_PL_REQ_STATS) {
            atomic_fetch_and(&pl->req, ~CG_PL_REQ_STATS);
            if (wr->eve && !wr->eve_broken)
                eve_stats(pl);
        }
        if (pl->cfg.policy && pl->cfg.store && now >= wr->next_pass && !atomic_load(&pl->failed))
            time_pass(pl, now);
        if (pl->cfg.stats_s && wr->eve && !wr->eve_broken && now >= wr->next_stats) {
            wr->next_stats = now + pl->cfg.stats_s;
            eve_stats(pl);
            eve_flush(pl);
        }
        if (n == 0) {
            if (done) {
                /* every worker ended and its ring was empty before this
                 * round: one more round takes what came in between */
                if (drain(pl, 1 << 30) == 0)
                    break;
                continue;
            }
            if (idle == 20)
                eve_flush(pl);
            /* messages held back by the order (a worker behind) are looked
             * at again soon; empty rings wait for the bell (a worker sends)
             * or the clock (the batch, stats) */
            int waiting = 0;
            for (uint32_t i = 0; i < pl->nw && !waiting; i++)
                waiting = cg_ring_peek(&pl->w[i].out) != NULL;
            if (waiting) {
                struct timespec ts = { 0, 100000 };
                nanosleep(&ts, NULL);
            } else {
                uint32_t seen = atomic_load(&pl->bell);
                atomic_store(&pl->wr_sleeps, 1);
                int empty = 1;
                for (uint32_t i = 0; i < pl->nw && empty; i++)
                    empty = cg_ring_peek(&pl->w[i].out) == NULL;
                if (empty && !all_done(pl))
                    futex_wait(&pl->bell, seen, 20000000L);
                atomic_store(&pl->wr_sleeps, 0);
            }
            idle++;
        } else {
            idle = 0;
        }
    }
    stash_ties(pl);
    while (pl->ordered && pl->wr.nstash) {
        qsort(pl->wr.stash, pl->wr.nstash, sizeof *pl->wr.stash, stash_cmp);
        take_ties(pl, pl->wr.stash[0].seq); /* the smallest seq first */
    }
    if (!atomic_load(&pl->failed))
        commit(pl);
    while (pl->pd && !atomic_load(&pl->pd_finished)) { /* the packet ring's last figures too */
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    if (pl->cfg.stats_s && wr->eve && !wr->eve_broken && !atomic_load(&pl->failed))
        eve_stats(pl); /* the run's last figures */
    if (wr->in_batch) {
        cg_store_abort(pl->cfg.store);
        wr->in_batch = 0;
    }
    eve_flush(pl);
    return NULL;
}

int pl_writer_reopen(cg_pipeline *pl, char *err, size_t errlen)
{
    writer *wr = &pl->wr;
    if (!wr->eve) {
        snprintf(err, errlen, "no EVE file to reopen");
        return -1;
    }
    if (wr->eve_broken) {
        snprintf(err, errlen, "%s", cg_eve_file_error(wr->eve));
        return -1;
    }
    if (cg_eve_file_reopen(wr->eve, err, errlen)) {
        if (cg_eve_file_failed(wr->eve))
            pl_eve_failed(pl); /* the old file's last lines */
        return -1;
    }
    return 0;
}

int pl_writer_init(cg_pipeline *pl, char *err, size_t errlen)
{
    writer *wr = &pl->wr;
    int rc;
    if (pl->cfg.eve_path && (rc = cg_eve_file_open(&wr->eve, pl->cfg.eve_path, err, errlen)))
        return rc;
    const cg_enrich *enr = pl->cfg.enrich;
    if (enr) {
        cg_enrich_dbinfo dbi;
        for (int k = CG_ENRICH_CITY_DB; k <= CG_ENRICH_ASN_DB; k++)
            if (cg_enrich_db_info(enr, k, &dbi) == 0) {
                size_t tl = strlen(wr->geo_db_type), dl = strlen(wr->geo_db_date);
                for (char *c = dbi.type; *c; c++)
                    if (*c == ',')
                        *c = '_'; /* ',' separates the databases */
                snprintf(wr->geo_db_type + tl, sizeof wr->geo_db_type - tl, "%s%s", tl ? "," : "",
                         dbi.type);
                snprintf(wr->geo_db_date + dl, sizeof wr->geo_db_date - dl, "%s%s", tl ? "," : "",
                         dbi.built);
            }
    }
    cg_incidents_cfg icfg = { .window_s = pl->cfg.window_s,
                              .max_evidence = pl->cfg.evidence,
                              .capacity = 65536,
                              .user_size = enr ? (uint32_t)sizeof(inc_geo) : 0 };
    if (cg_incidents_create(&wr->ag, &icfg, new_id, sink, pl)) {
        snprintf(err, errlen, "out of memory");
        return CG_ENOMEM;
    }
    cg_incidents_set_alert_sink(wr->ag, alert_sink);
    return 0;
}

void pl_writer_free(cg_pipeline *pl)
{
    writer *wr = &pl->wr;
    for (size_t i = 0; i < wr->nstash; i++)
        free(wr->stash[i].m);
    free(wr->stash);
    cg_incidents_destroy(wr->ag);
    cg_eve_file_close(wr->eve); /* the writer flushed it, or it failed */
    wr->eve = NULL;
}
