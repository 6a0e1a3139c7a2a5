/* report_data.c — a period report's figures (report.h), gathered in one
 * pass over the period's incidents and their histories
 * (cg_store_report_walk), plus the backlog at the period's end and the
 * store's integrity statement.
 *
 * What each figure counts (README "Reports"):
 *  - the period's incidents: first seen (their first alert) in
 *    [since, until) and, with --agency / --zone, the query language's
 *    "agency = X" / "zone = X" (either side) on them; r->query is that
 *    expression, so `canhgac query --count` gives the same numbers;
 *  - acknowledge: the first history STATUS entry from new to another
 *    status; resolve: the first to resolved or false-positive; times from
 *    the first alert, percentiles by nearest rank;
 *  - backlog: incidents first seen before until (any earlier period too)
 *    whose status as of until (the last STATUS entry before it; else the
 *    first entry's old status; else today's) was open: counted from today's
 *    status by the store, then corrected by the incidents with history
 *    entries at or after until (cg_store_report_changed);
 *  - escalations: the history ESCALATE entries of the period's incidents,
 *    by each layer an entry added.
 * Invariants: every table is owned by the cg_report; the hash tables live
 * only during the walk.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analyzer/output/policy.h"
#include "store/keys.h"
#include "store/merkle.h"
#include "store/qlang.h"
#include "store/store_report.h"
#include "tools/cli.h"
#include "tools/report.h"

/* ---- a counting hash table ------------------------------------------------- */

typedef struct hent {
    uint8_t key[16]; /* address, be32 sid | be32 gid, or a text's hash */
    uint8_t used;
    char cc[3];
    uint32_t asn;
    uint64_t n, fp;
    char *text; /* classtype, agency, zone, a signature's message */
} hent;

typedef struct htab {
    hent *e;
    size_t cap, n;
} htab;

static uint64_t fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int ht_grow(htab *t)
{
    size_t nc = t->cap ? t->cap * 2 : 64;
    hent *ne = calloc(nc, sizeof *ne);
    if (!ne)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i].used)
            continue;
        size_t j = fnv(t->e[i].key, 16) & (nc - 1);
        while (ne[j].used)
            j = (j + 1) & (nc - 1);
        ne[j] = t->e[i];
    }
    free(t->e);
    t->e = ne;
    t->cap = nc;
    return 0;
}

/* The entry of key (text: compared too, strdup'd on insert), or NULL out
 * of memory. */
static hent *ht_get(htab *t, const uint8_t key[16], const char *text)
{
    if ((t->n + 1) * 2 > t->cap && ht_grow(t))
        return NULL;
    size_t j = fnv(key, 16) & (t->cap - 1);
    while (t->e[j].used) {
        if (!memcmp(t->e[j].key, key, 16) && (!text || !strcmp(t->e[j].text, text)))
            return &t->e[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (text && !(t->e[j].text = strdup(text)))
        return NULL;
    memcpy(t->e[j].key, key, 16);
    t->e[j].used = 1;
    t->n++;
    return &t->e[j];
}

static hent *ht_text(htab *t, const char *s)
{
    uint8_t key[16] = { 0 };
    uint64_t h = fnv(s, strlen(s));
    memcpy(key, &h, 8);
    return ht_get(t, key, s);
}

static void ht_free(htab *t, int keep_text)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].used && !keep_text)
            free(t->e[i].text);
    free(t->e);
    t->e = NULL;
    t->cap = t->n = 0;
}

/* The used entries, compacted to the front (the table is no longer a
 * table: only ht_free may follow), most first, ties by key bytes (as the store's top-N:
 * its index order) or by text (bytext). */
static int by_count(const void *a, const void *b, void *bytext)
{
    const hent *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    if (*(const int *)bytext)
        return strcmp(x->text, y->text);
    return memcmp(x->key, y->key, 16);
}

static hent *ht_sorted(htab *t, int bytext)
{
    size_t k = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].used)
            t->e[k++] = t->e[i];
    for (size_t i = k; i < t->cap; i++) /* the places they left */
        t->e[i].used = 0, t->e[i].text = NULL;
    if (k)
        qsort_r(t->e, k, sizeof *t->e, by_count, &bytext);
    return t->e;
}

/* ---- the sources: a compact table ------------------------------------------- */

/* One entry per distinct source address: 32 bytes, as there may be
 * millions (a quarter of a busy sensor's scanners). */
typedef struct sent {
    uint8_t addr[16];
    uint32_t n; /* 0: free */
    uint32_t asn;
    char cc[2];
} sent;

typedef struct stab {
    sent *e;
    size_t cap, n;
} stab;

static size_t s_hash(const uint8_t a[16], size_t mask)
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, a + 8, 8);
    x ^= y * 0x9e3779b97f4a7c15ull;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x & mask;
}

static int s_grow(stab *t)
{
    size_t nc = t->cap ? t->cap * 2 : 1024;
    sent *ne = calloc(nc, sizeof *ne);
    if (!ne)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->e[i].n)
            continue;
        size_t j = s_hash(t->e[i].addr, nc - 1);
        while (ne[j].n)
            j = (j + 1) & (nc - 1);
        ne[j] = t->e[i];
    }
    free(t->e);
    t->e = ne;
    t->cap = nc;
    return 0;
}

/* Counts one incident of source a; -1 out of memory. */
static int s_add(stab *t, const uint8_t a[16], const char *cc, uint32_t asn)
{
    if ((t->n + 1) * 4 > t->cap * 3 && s_grow(t)) /* at most 3/4 full */
        return -1;
    size_t j = s_hash(a, t->cap - 1);
    while (t->e[j].n && memcmp(t->e[j].addr, a, 16))
        j = (j + 1) & (t->cap - 1);
    sent *e = &t->e[j];
    if (!e->n++) {
        memcpy(e->addr, a, 16);
        memcpy(e->cc, cc, 2);
        e->asn = asn;
        t->n++;
    }
    return 0;
}

/* x before y in the top: more incidents, then the smaller address (the
 * index's order, as cg_store_top). */
static int s_before(const sent *x, const sent *y)
{
    return x->n != y->n ? x->n > y->n : memcmp(x->addr, y->addr, 16) < 0;
}

/* The top k into out (sorted), by one pass with insertion: k is small. */
static size_t s_top(const stab *t, sent *out, size_t k)
{
    size_t m = 0;
    for (size_t i = 0; i < t->cap; i++) {
        const sent *e = &t->e[i];
        if (!e->n || (m == k && !s_before(e, &out[m - 1])))
            continue;
        size_t j = m < k ? m++ : m - 1;
        while (j > 0 && s_before(e, &out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = *e;
    }
    return m;
}

/* ---- the pass --------------------------------------------------------------- */

typedef struct vec {
    uint64_t *v;
    size_t n, cap;
} vec;

static int vec_push(vec *a, uint64_t x)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        uint64_t *nv = realloc(a->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = x;
    return 0;
}

typedef struct pass {
    cg_report *r;
    stab src;
    htab sig, cls, agency, zone;
    vec ack[RPT_NSEV], res[RPT_NSEV];
    int oom;
} pass;

static unsigned sev_ix(uint8_t sev)
{
    return sev == 0 ? 3 : sev > RPT_NSEV ? RPT_NSEV - 1 : (unsigned)sev - 1;
}

static int is_closed(unsigned status)
{
    return status == CG_ST_RESOLVED || status == CG_ST_FALSE_POSITIVE;
}

/* Keeps the RPT_BREACHES longest breaches (a min-heap on taken_s). */
static void breach_add(cg_report *r, const rpt_breach *b)
{
    r->breaches_total++;
    rpt_breach *h = r->breaches;
    size_t n = r->nbreaches;
    if (n < RPT_BREACHES) {
        size_t i = n++;
        h[i] = *b;
        while (i && h[(i - 1) / 2].taken_s > h[i].taken_s) {
            rpt_breach t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
        r->nbreaches = n;
        return;
    }
    if (b->taken_s <= h[0].taken_s)
        return;
    h[0] = *b;
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && h[l].taken_s < h[m].taken_s)
            m = l;
        if (l + 1 < n && h[l + 1].taken_s < h[m].taken_s)
            m = l + 1;
        if (m == i)
            break;
        rpt_breach t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* The time of one step (acknowledge or resolve) of inc: recorded, or a
 * breach checked. */
static void step(pass *p, const cg_incident *inc, int resolve, int done, uint64_t when_us)
{
    cg_report *r = p->r;
    unsigned s = sev_ix(inc->severity);
    rpt_time *t = resolve ? &r->res[s] : &r->ack[s];
    uint64_t taken;
    if (done) {
        taken = when_us > inc->first_us ? (when_us - inc->first_us) / 1000000u : 0;
        t->n++;
        if (vec_push(resolve ? &p->res[s] : &p->ack[s], taken))
            p->oom = 1;
    } else {
        t->open++;
        taken = r->now_us > inc->first_us ? (r->now_us - inc->first_us) / 1000000u : 0;
    }
    if (t->target_s && taken > t->target_s) {
        rpt_breach b = { inc->id,        inc->severity, (uint8_t)resolve,
                         (uint8_t)!done, taken,         t->target_s };
        t->breaches++;
        breach_add(r, &b);
    }
}

static size_t day_of(const cg_report *r, uint64_t us)
{
    size_t lo = 0, hi = r->ndays; /* day_start[lo] <= us < day_start[hi] */
    while (hi - lo > 1) {
        size_t m = (lo + hi) / 2;
        if (r->day_start_us[m] <= us)
            lo = m;
        else
            hi = m;
    }
    return lo;
}

static int each(const cg_incident *inc, const cg_history *h, size_t nh, void *arg)
{
    pass *p = arg;
    cg_report *r = p->r;
    unsigned s = sev_ix(inc->severity);
    uint8_t key[16] = { 0 };
    hent *e;
    int acked = 0, resolved = 0, escalated = 0;
    uint64_t ack_us = 0, res_us = 0;

    r->total++;
    r->by_sev[s]++;
    if (inc->status < CG_ST_COUNT)
        r->by_status[inc->status]++;
    r->by_day[day_of(r, inc->first_us)][s]++;
    for (unsigned l = 0; l < 4; l++)
        if (inc->layers & (1u << l))
            r->layer_reached[l]++;
    if (s_add(&p->src, inc->src, inc->src_geo.country, inc->src_geo.asn))
        goto oom;
    /* by_sid's order: be32 sid | be32 gid */
    key[0] = (uint8_t)(inc->sid >> 24), key[1] = (uint8_t)(inc->sid >> 16);
    key[2] = (uint8_t)(inc->sid >> 8), key[3] = (uint8_t)inc->sid;
    key[4] = (uint8_t)(inc->gid >> 24), key[5] = (uint8_t)(inc->gid >> 16);
    key[6] = (uint8_t)(inc->gid >> 8), key[7] = (uint8_t)inc->gid;
    if (!(e = ht_get(&p->sig, key, NULL)))
        goto oom;
    if (!e->n++ && !(e->text = strdup(inc->msg ? inc->msg : "")))
        goto oom;
    if (inc->status == CG_ST_FALSE_POSITIVE)
        e->fp++;
    if (!(e = ht_text(&p->cls, inc->classtype ? inc->classtype : "")))
        goto oom;
    e->n++;
    if (!(e = ht_text(&p->agency, inc->dst_geo.agency ? inc->dst_geo.agency : "")))
        goto oom;
    e->n++;
    if (!(e = ht_text(&p->zone, inc->dst_geo.zone ? inc->dst_geo.zone : "")))
        goto oom;
    e->n++;
    for (size_t i = 0; i < nh; i++) {
        if (h[i].kind == CG_HIST_STATUS) {
            if (!acked && h[i].old_num == CG_ST_NEW && h[i].new_num != CG_ST_NEW)
                acked = 1, ack_us = h[i].when_us;
            if (!resolved && is_closed(h[i].new_num))
                resolved = 1, res_us = h[i].when_us;
        } else if (h[i].kind == CG_HIST_ESCALATE) {
            uint32_t added = h[i].new_num & ~h[i].old_num;
            for (unsigned l = 0; l < 4; l++)
                if (added & (1u << l))
                    r->escalations[l]++;
            escalated = 1;
        }
    }
    r->escalated += (uint64_t)escalated;
    /* an incident whose status left new without a history (a store written
     * outside triage) has no time: counted in neither */
    if (acked || inc->status == CG_ST_NEW)
        step(p, inc, 0, acked, ack_us);
    if (resolved || !is_closed(inc->status))
        step(p, inc, 1, resolved, res_us);
    return p->oom;
oom:
    p->oom = 1;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t cg_report_pct(const uint64_t *v, size_t n, unsigned pct)
{
    if (!n)
        return 0;
    size_t rank = (size_t)(((unsigned long long)n * pct + 99) / 100); /* ceil */
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static int cmp_breach(const void *a, const void *b)
{
    const rpt_breach *x = a, *y = b;
    if (x->taken_s != y->taken_s)
        return x->taken_s > y->taken_s ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Moves a text table into a sorted rpt_named array. */
static int named_of(htab *t, rpt_named **out, size_t *n)
{
    hent *e = ht_sorted(t, 1);
    *n = t->n;
    *out = calloc(t->n ? t->n : 1, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < t->n; i++) {
        (*out)[i].name = e[i].text;
        (*out)[i].n = e[i].n;
        e[i].text = NULL;
    }
    return 0;
}

/* ---- the query of the period --------------------------------------------------- */

static void fill_qrec(const cg_incident *inc, cg_qrec *q)
{
    memset(q, 0, sizeof *q);
    q->id = inc->id, q->first_us = inc->first_us, q->last_us = inc->last_us;
    q->count = inc->count, q->gid = inc->gid, q->sid = inc->sid;
    q->severity = inc->severity, q->status = inc->status, q->proto = inc->proto;
    q->layers = inc->layers;
    memcpy(q->src, inc->src, 16);
    memcpy(q->dst, inc->dst, 16);
    q->sport = inc->sport, q->dport = inc->dport;
    q->msg = inc->msg ? inc->msg : "";
    q->classtype = inc->classtype ? inc->classtype : "";
    q->assignee = inc->assignee ? inc->assignee : "";
    q->community_id = inc->community_id ? inc->community_id : "";
    q->src_country = inc->src_geo.country, q->dst_country = inc->dst_geo.country;
    q->src_asn = inc->src_geo.asn, q->dst_asn = inc->dst_geo.asn;
    q->src_agency = inc->src_geo.agency ? inc->src_geo.agency : "";
    q->dst_agency = inc->dst_geo.agency ? inc->dst_geo.agency : "";
    q->src_zone = inc->src_geo.zone ? inc->src_geo.zone : "";
    q->dst_zone = inc->dst_geo.zone ? inc->dst_geo.zone : "";
    q->attack_id = inc->attack_id;
    q->http_status = inc->http_status;
    q->app_proto = inc->app_proto ? inc->app_proto : "";
    q->http_method = inc->http_method ? inc->http_method : "";
    q->http_host = inc->http_host ? inc->http_host : "";
    q->http_url = inc->http_url ? inc->http_url : "";
    q->http_user_agent = inc->http_user_agent ? inc->http_user_agent : "";
    q->dns_query = inc->dns_query, q->tls_sni = inc->tls_sni, q->tls_ja3 = inc->tls_ja3;
}

static int filter_match(const cg_incident *inc, void *arg)
{
    cg_qrec q;
    fill_qrec(inc, &q);
    return cg_qlang_eval(arg, &q);
}

/* Appends ` and FIELD = "TEXT"` (quotes and backslashes escaped). */
static int append_term(char **q, const char *field, const char *text)
{
    size_t n = strlen(*q), t = strlen(text);
    char *nq = realloc(*q, n + strlen(field) + 2 * t + 16);
    if (!nq)
        return -1;
    char *w = nq + n;
    w += sprintf(w, " and %s = \"", field);
    for (const char *s = text; *s; s++) {
        if (*s == '"' || *s == '\\')
            *w++ = '\\';
        *w++ = *s;
    }
    strcpy(w, "\"");
    *q = nq;
    return 0;
}

/* ---- integrity ------------------------------------------------------------------ */

static void integrity(cg_report *r, cg_store *st, const char *keyfile)
{
    char path[4200], err[512], origin[256];
    struct stat sb;

    r->has_log = cg_store_log_head(st, &r->head) == 0;
    if (!keyfile) {
        snprintf(path, sizeof path, "%s/soc-public.pem", r->store);
        keyfile = path;
    }
    r->has_key = stat(keyfile, &sb) == 0;
    if (r->verified) {
        cg_store_verify_stats vs;
        int rc = cg_store_verify(st, NULL, NULL, &vs, NULL);
        r->verified = rc == 0 ? 1 : -1;
        r->verified_records = vs.records;
    }
    if (!r->checkpoint[0])
        return;
    r->cp_ok = -1;
    FILE *f = fopen(r->checkpoint, "rb");
    char *cp = malloc(65537);
    size_t len = 0, tlen = 0;
    cg_key *k = NULL;
    uint8_t root[32], proof[64][32];
    unsigned np = 0;
    if (!f || !cp) {
        snprintf(r->cp_msg, sizeof r->cp_msg, "%.400s: cannot read", r->checkpoint);
        goto out;
    }
    len = fread(cp, 1, 65536, f);
    cp[len] = 0;
    if (!r->has_log) {
        snprintf(r->cp_msg, sizeof r->cp_msg, "the store has no log");
        goto out;
    }
    if (cg_key_load_public(&k, keyfile, err, sizeof err)) {
        snprintf(r->cp_msg, sizeof r->cp_msg, "%s", err);
        goto out;
    }
    if (cg_note_verify(k, r->head.origin, cp, len, &tlen, err, sizeof err)) {
        snprintf(r->cp_msg, sizeof r->cp_msg, "bad signature or another store's checkpoint: %.400s",
                 err);
        goto out;
    }
    if (cg_checkpoint_parse(cp, tlen, origin, sizeof origin, &r->cp_size, root, err, sizeof err)) {
        snprintf(r->cp_msg, sizeof r->cp_msg, "not a checkpoint: %.400s", err);
        goto out;
    }
    if (strcmp(origin, r->head.origin) || r->cp_size > r->head.size) {
        snprintf(r->cp_msg, sizeof r->cp_msg, "the store does not extend it");
        goto out;
    }
    if (r->cp_size &&
        (cg_store_log_consistency(st, r->cp_size, r->head.size, proof, &np) ||
         cg_mt_verify_consistency(r->cp_size, r->head.size, root, r->head.root,
                                  (const uint8_t(*)[32])proof, np))) {
        snprintf(r->cp_msg, sizeof r->cp_msg,
                 "what the log held at %llu leaves was rewritten or removed",
                 (unsigned long long)r->cp_size);
        goto out;
    }
    r->cp_ok = 1;
    snprintf(r->cp_msg, sizeof r->cp_msg, "consistency proof of %u hashes", np);
out:
    cg_key_free(k);
    free(cp);
    if (f)
        fclose(f);
}

/* ---- gather ---------------------------------------------------------------------- */

typedef struct backlog_fix {
    cg_report *r;
    const cg_qexpr *expr;
} backlog_fix;

static int fix_backlog(const cg_incident *inc, const cg_history *h, size_t n, void *arg)
{
    backlog_fix *b = arg;
    cg_report *r = b->r;
    long last = -1, first = -1;
    unsigned then;

    if (inc->first_us >= r->until_us || (b->expr && !filter_match(inc, (void *)b->expr)))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (h[i].kind == CG_HIST_STATUS) {
            if (first < 0)
                first = (long)i;
            if (h[i].when_us < r->until_us)
                last = (long)i;
        }
    then = last >= 0 ? h[last].new_num : first >= 0 ? h[first].old_num : inc->status;
    if (is_closed(then) == is_closed(inc->status))
        return 0;
    if (!is_closed(then)) {
        r->backlog++;
        r->backlog_by_sev[sev_ix(inc->severity)]++;
    } else {
        r->backlog--;
        r->backlog_by_sev[sev_ix(inc->severity)]--;
    }
    return 0;
}

int cg_report_gather(cg_report *r, cg_store *st, const struct cg_policy *pol, const char *keyfile)
{
    pass p;
    cg_query q;
    cg_qexpr *expr = NULL;
    char err[256];
    int col, code = CG_EXIT_FAIL, rc;

    memset(&p, 0, sizeof p);
    p.r = r;
    if (!(r->query = malloc(80)))
        goto oom;
    snprintf(r->query, 80, "since @%llu and until @%llu",
             (unsigned long long)(r->since_us / 1000000u),
             (unsigned long long)(r->until_us / 1000000u));
    if ((r->agency && append_term(&r->query, "agency", r->agency)) ||
        (r->zone && append_term(&r->query, "zone", r->zone)))
        goto oom;
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SINCE | CG_Q_UNTIL;
    q.since_us = r->since_us;
    q.until_us = r->until_us;
    if (r->agency || r->zone) {
        /* the same words `query` reads: the filter means what it means there */
        if (cg_qlang_parse(r->query, r->now_us, &expr, err, sizeof err, &col)) {
            fprintf(stderr, "canhgac report: the filter: %s\n", err);
            code = CG_EXIT_INPUT;
            goto out;
        }
        q.match = filter_match;
        q.match_arg = expr;
    }
    for (unsigned s = 0; s < RPT_NSEV; s++) {
        uint32_t a = 0, res = 0;
        if (pol && cg_policy_target(pol, (uint8_t)(s + 1), &a, &res)) {
            r->ack[s].target_s = a;
            r->res[s].target_s = res;
            r->target_line[s] = cg_policy_target_line(pol, (uint8_t)(s + 1));
        }
    }
    if (pol)
        snprintf(r->policy, sizeof r->policy, "%s", cg_policy_name(pol));
    if (!(r->breaches = calloc(RPT_BREACHES, sizeof *r->breaches)))
        goto oom;
    if (!q.match) {
        /* the period's incidents, from the time index alone: the sources'
         * table sized for them at once (a table that doubles as it fills
         * rehashes every entry each time), at most 2^23 entries (256 MiB)
         * ahead of need */
        uint64_t n = 0;
        size_t cap = 1024;
        if (cg_store_count(st, &q, &n) == 0)
            while (cap < ((size_t)1 << 23) && (uint64_t)cap * 3 < n * 4)
                cap *= 2;
        if (!(p.src.e = calloc(cap, sizeof *p.src.e)))
            goto oom;
        p.src.cap = cap;
    }
    rc = cg_store_report_walk(st, &q, each, &p);
    if (p.oom)
        goto oom;
    if (rc) {
        fprintf(stderr, "canhgac report: %s\n", cg_store_error(st));
        goto out;
    }
    /* the tables */
    sent top[RPT_TOP];
    r->distinct_srcs = p.src.n;
    r->nsrcs = s_top(&p.src, top, RPT_TOP);
    if (!(r->srcs = calloc(RPT_TOP, sizeof *r->srcs)))
        goto oom;
    for (size_t i = 0; i < r->nsrcs; i++) {
        memcpy(r->srcs[i].addr, top[i].addr, 16);
        memcpy(r->srcs[i].cc, top[i].cc, 2);
        r->srcs[i].asn = top[i].asn;
        r->srcs[i].n = top[i].n;
    }
    hent *e;
    e = ht_sorted(&p.sig, 0);
    r->nsigs = p.sig.n;
    if (!(r->sigs = calloc(r->nsigs ? r->nsigs : 1, sizeof *r->sigs)) ||
        !(r->tune = calloc(r->nsigs ? r->nsigs : 1, sizeof *r->tune)))
        goto oom;
    for (size_t i = 0; i < r->nsigs; i++) {
        rpt_sig *g = &r->sigs[i];
        g->sid = (uint32_t)e[i].key[0] << 24 | (uint32_t)e[i].key[1] << 16 |
            (uint32_t)e[i].key[2] << 8 | e[i].key[3];
        g->gid = (uint32_t)e[i].key[4] << 24 | (uint32_t)e[i].key[5] << 16 |
            (uint32_t)e[i].key[6] << 8 | e[i].key[7];
        g->msg = e[i].text;
        e[i].text = NULL;
        g->n = e[i].n;
        g->fp = e[i].fp;
        if (g->n >= RPT_TUNE_MIN && g->fp * 2 > g->n)
            r->tune[r->ntune++] = i;
    }
    e = ht_sorted(&p.cls, 1);
    r->nclasses = p.cls.n;
    if (!(r->classes = calloc(r->nclasses ? r->nclasses : 1, sizeof *r->classes)))
        goto oom;
    {
        htab rs = { 0 };
        for (size_t i = 0; i < r->nclasses; i++) {
            rpt_class *c = &r->classes[i];
            c->classtype = e[i].text;
            e[i].text = NULL;
            c->n = e[i].n;
            cg_report_rsit(c->classtype, &c->rsit_class, &c->rsit_type);
            hent *x = ht_text(&rs, c->rsit_class);
            if (!x) {
                ht_free(&rs, 0);
                goto oom;
            }
            x->n += c->n;
        }
        rc = named_of(&rs, &r->rsit, &r->nrsit);
        ht_free(&rs, 0);
        if (rc)
            goto oom;
    }
    if (named_of(&p.agency, &r->agencies, &r->nagencies) ||
        named_of(&p.zone, &r->zones, &r->nzones))
        goto oom;
    for (unsigned s = 0; s < RPT_NSEV; s++) {
        if (p.ack[s].n)
            qsort(p.ack[s].v, p.ack[s].n, sizeof(uint64_t), cmp_u64);
        if (p.res[s].n)
            qsort(p.res[s].v, p.res[s].n, sizeof(uint64_t), cmp_u64);
        r->ack[s].median_s = cg_report_pct(p.ack[s].v, p.ack[s].n, 50);
        r->ack[s].p90_s = cg_report_pct(p.ack[s].v, p.ack[s].n, 90);
        r->res[s].median_s = cg_report_pct(p.res[s].v, p.res[s].n, 50);
        r->res[s].p90_s = cg_report_pct(p.res[s].v, p.res[s].n, 90);
    }
    if (r->nbreaches)
        qsort(r->breaches, r->nbreaches, sizeof *r->breaches, cmp_breach);
    /* the backlog: today's open ones first seen before until, corrected
     * by the changes made at or after until */
    {
        cg_query bq = q;
        cg_store_group g[256];
        size_t ng = 0;
        backlog_fix bf = { r, expr };
        bq.has = CG_Q_UNTIL | CG_Q_STATUS;
        bq.status_mask = 1u << CG_ST_NEW | 1u << CG_ST_ACKNOWLEDGED | 1u << CG_ST_INVESTIGATING;
        if ((rc = cg_store_top(st, &bq, CG_F_SEV, g, 256, &ng)) != 0) {
            fprintf(stderr, "canhgac report: %s\n", cg_store_error(st));
            goto out;
        }
        for (size_t i = 0; i < ng; i++) {
            r->backlog += g[i].count;
            r->backlog_by_sev[sev_ix((uint8_t)g[i].num)] += g[i].count;
        }
        r->backlog_now_open = r->backlog;
        if ((rc = cg_store_report_changed(st, r->until_us, fix_backlog, &bf)) != 0) {
            fprintf(stderr, "canhgac report: %s\n", cg_store_error(st));
            goto out;
        }
    }
    integrity(r, st, keyfile);
    code = CG_EXIT_OK;
    goto out;
oom:
    fprintf(stderr, "canhgac report: out of memory\n");
    code = CG_EXIT_FAIL;
out:
    free(p.src.e);
    ht_free(&p.sig, 0);
    ht_free(&p.cls, 0);
    ht_free(&p.agency, 0);
    ht_free(&p.zone, 0);
    for (unsigned s = 0; s < RPT_NSEV; s++) {
        free(p.ack[s].v);
        free(p.res[s].v);
    }
    cg_qlang_free(expr);
    return code;
}

void cg_report_free(cg_report *r)
{
    if (!r)
        return;
    free(r->query);
    free(r->day_start_us);
    free(r->by_day);
    for (size_t i = 0; i < r->nclasses; i++)
        free(r->classes[i].classtype);
    free(r->classes);
    for (size_t i = 0; i < r->nrsit; i++)
        free(r->rsit[i].name);
    free(r->rsit);
    for (size_t i = 0; i < r->nsigs; i++)
        free(r->sigs[i].msg);
    free(r->sigs);
    free(r->srcs);
    for (size_t i = 0; i < r->nagencies; i++)
        free(r->agencies[i].name);
    free(r->agencies);
    for (size_t i = 0; i < r->nzones; i++)
        free(r->zones[i].name);
    free(r->zones);
    free(r->breaches);
    free(r->tune);
}
