/* incident.c — the alert-to-incident fold (see incident.h for the model).
 *
 * The table is open addressing over the key's hash with PROBE slots per key;
 * one key has at most one live slot that a probe reaches first (a new
 * incident of a key takes the first free slot of the probe, which a later
 * probe of that key meets before the older one, or the old one's own slot).
 */
#include "analyzer/output/incident.h"
#include "analyzer/engine/detectors.h"

#include <stdlib.h>
#include <string.h>

#define PROBE 32

struct cg_incidents {
    cg_incidents_cfg cfg;
    cg_open_incident *t;
    uint32_t mask;
    uint64_t (*new_id)(void *);
    int (*sink)(const cg_open_incident *, void *);
    int (*alert)(const cg_open_incident *, const cg_fold_alert *, void *);
    void *arg;
    uint32_t *dirty;
    uint32_t ndirty;     /* slots to hand to the sink at flush */
    unsigned char *user; /* the caller's areas, ustride bytes per slot */
    size_t ustride;
    cg_incidents_stats st;
};

static void mark_dirty(cg_incidents *ag, cg_open_incident *e)
{
    if (e->dirty)
        return;
    e->dirty = 1;
    ag->dirty[ag->ndirty++] = (uint32_t)(e - ag->t);
}

int cg_incidents_create(cg_incidents **out, const cg_incidents_cfg *cfg,
                        uint64_t (*new_id)(void *arg),
                        int (*sink)(const cg_open_incident *inc, void *arg), void *arg)
{
    if (cfg->user_size > 65536)
        return -1;
    cg_incidents *ag = calloc(1, sizeof *ag);
    if (!ag)
        return -1;
    ag->cfg = *cfg;
    if (!ag->cfg.window_s)
        ag->cfg.window_s = 3600;
    if (!ag->cfg.capacity)
        ag->cfg.capacity = 65536;
    uint32_t n = 64;
    while (n < ag->cfg.capacity && n < (1u << 28))
        n <<= 1;
    ag->t = calloc(n, sizeof *ag->t);
    ag->dirty = calloc(n, sizeof *ag->dirty);
    ag->ustride = ((size_t)ag->cfg.user_size + 15) & ~(size_t)15;
    if (ag->ustride)
        ag->user = aligned_alloc(16, n * ag->ustride);
    if (!ag->t || !ag->dirty || (ag->ustride && !ag->user)) {
        free(ag->t);
        free(ag->dirty);
        free(ag->user);
        free(ag);
        return -1;
    }
    ag->mask = n - 1;
    ag->new_id = new_id;
    ag->sink = sink;
    ag->arg = arg;
    *out = ag;
    return 0;
}

void cg_incidents_set_alert_sink(cg_incidents *ag,
                                 int (*alert)(const cg_open_incident *inc, const cg_fold_alert *a,
                                              void *arg))
{
    ag->alert = alert;
}

void cg_incidents_destroy(cg_incidents *ag)
{
    if (!ag)
        return;
    free(ag->t);
    free(ag->dirty);
    free(ag->user);
    free(ag);
}

void *cg_incidents_user(const cg_incidents *ag, const cg_open_incident *inc)
{
    if (!ag->ustride)
        return NULL;
    return ag->user + (size_t)(inc - ag->t) * ag->ustride;
}

static uint64_t key_hash(const cg_rule *r, const uint8_t *s, const uint8_t *d, uint16_t dport)
{
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)r->gid << 32 | r->sid);
    for (int i = 0; i < 16; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ d[i]) * 0x100000001b3ull;
    h = (h ^ (dport >> 8)) * 0x100000001b3ull;
    h = (h ^ (dport & 0xff)) * 0x100000001b3ull;
    return h ? h : 1;
}

static int same_key(const cg_open_incident *e, uint64_t h, const cg_rule *r, const cg_packet *p,
                    uint16_t svc)
{
    return e->hash == h && e->rule->sid == r->sid && e->rule->gid == r->gid &&
        e->service_port == svc && !memcmp(e->src, p->src, 16) && !memcmp(e->dst, p->dst, 16);
}

/* Hands the alert to the alert sink: 0 or the sink's failure. */
static int hand_alert(cg_incidents *ag, cg_open_incident *e, const cg_packet *p, uint64_t flow_id,
                      const char *community_id, uint8_t sev, int evseq)
{
    cg_fold_alert a;

    if (e->count - 1 >= UINT32_MAX)
        return 0;
    e->nalerts = (uint32_t)e->count;
    if (!ag->alert)
        return 0;
    a = (cg_fold_alert){ .seq = (uint32_t)(e->count - 1),
                         .ts_us = p->ts_us,
                         .flow_id = flow_id,
                         .community_id = community_id ? community_id : "",
                         .sport = p->sport,
                         .dport = p->dport,
                         .severity = sev,
                         .evidence_seq = evseq };
    return ag->alert(e, &a, ag->arg);
}

cg_open_incident *cg_incidents_fold(cg_incidents *ag, const cg_rule *r, const cg_packet *p,
                                    uint64_t flow_id, const char *community_id, uint8_t severity,
                                    int to_server, int *evidence_seq, int *created)
{
    uint16_t svc = to_server ? p->dport : p->sport;
    uint64_t h = key_hash(r, p->src, p->dst, svc);
    uint64_t win = (uint64_t)ag->cfg.window_s * 1000000u;
    uint8_t sev = severity ? severity : r->severity;
    uint64_t escalates = 0;
    cg_open_incident *slot = NULL, *victim = NULL;

    for (uint32_t i = 0; i < PROBE; i++) {
        cg_open_incident *e = &ag->t[(h + i) & ag->mask];
        if (!e->used) {
            if (!slot)
                slot = e;
            continue;
        }
        if (same_key(e, h, r, p, svc)) {
            /* an alert a little older than the incident's first (live,
             * workers hand alerts over out of time order) belongs to it */
            if (p->ts_us >= e->first_us ? p->ts_us - e->first_us < win
                                        : e->first_us - p->ts_us < win) {
                if (sev < e->severity) {
                    /* a higher severity: a new incident, in this slot */
                    escalates = e->id;
                    slot = e;
                    if (e->dirty && ag->sink(e, ag->arg))
                        return NULL;
                    ag->st.escalated++;
                    break;
                }
                e->count++;
                if (p->ts_us > e->last_us)
                    e->last_us = p->ts_us;
                if (p->ts_us < e->first_us)
                    e->first_us = p->ts_us;
                mark_dirty(ag, e);
                *created = 0;
                *evidence_seq = -1;
                if (e->nevidence < ag->cfg.max_evidence)
                    *evidence_seq = (int)e->nevidence++;
                ag->st.folded++;
                if (hand_alert(ag, e, p, flow_id, community_id, sev, *evidence_seq))
                    return NULL;
                return e;
            }
            victim = e; /* past its window: this key starts anew here */
            break;
        }
        if (!victim || e->last_us < victim->last_us)
            victim = e;
    }
    if (!slot) {
        slot = victim;
        if (slot->dirty && ag->sink(slot, ag->arg))
            return NULL;
        if (slot->hash != h)
            ag->st.evicted++;
    }
    uint8_t listed = slot->dirty;
    memset(slot, 0, sizeof *slot);
    if (ag->ustride)
        memset(cg_incidents_user(ag, slot), 0, ag->ustride);
    slot->used = 1;
    slot->dirty = listed;
    mark_dirty(ag, slot);
    slot->hash = h;
    slot->id = ag->new_id(ag->arg);
    slot->rule = r;
    memcpy(slot->src, p->src, 16);
    memcpy(slot->dst, p->dst, 16);
    slot->sport = p->sport;
    slot->dport = p->dport;
    slot->service_port = svc;
    slot->proto = p->proto;
    slot->severity = sev;
    slot->escalated_from = escalates;
    slot->first_us = slot->last_us = p->ts_us;
    slot->count = 1;
    slot->flow_id = flow_id;
    if (community_id) {
        strncpy(slot->community_id, community_id, sizeof slot->community_id - 1);
    }
    *evidence_seq = -1;
    if (ag->cfg.max_evidence > 0)
        *evidence_seq = (int)slot->nevidence++;
    *created = 1;
    ag->st.created++;
    if (hand_alert(ag, slot, p, flow_id, community_id, sev, *evidence_seq))
        return NULL;
    return slot;
}

int cg_incidents_flush(cg_incidents *ag)
{
    while (ag->ndirty > 0) {
        cg_open_incident *e = &ag->t[ag->dirty[ag->ndirty - 1]];
        if (e->used && e->dirty) {
            int rc = ag->sink(e, ag->arg);
            if (rc)
                return rc;
        }
        e->dirty = 0;
        ag->ndirty--;
    }
    return 0;
}

static int rule_cmp(const void *a, const void *b)
{
    const cg_rule *x = *(const cg_rule *const *)a, *y = *(const cg_rule *const *)b;
    if (x->gid != y->gid)
        return x->gid < y->gid ? -1 : 1;
    return x->sid < y->sid ? -1 : x->sid > y->sid;
}

int cg_incidents_rebind(cg_incidents *ag, const cg_rule *rules, uint32_t n)
{
    const cg_rule **by = n ? malloc(n * sizeof *by) : NULL;
    if (n && !by)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        by[i] = &rules[i];
    if (n)
        qsort(by, n, sizeof *by, rule_cmp);
    for (uint32_t i = 0; i <= ag->mask; i++) {
        cg_open_incident *e = &ag->t[i];
        if (!e->used || e->rule->gid == CG_DETECTORS_GID_SCAN ||
            e->rule->gid == CG_DETECTORS_GID_OWN)
            continue; /* the detectors' rules are not the rule set's */
        const cg_rule *key = e->rule, **hit = n ? bsearch(&key, by, n, sizeof *by, rule_cmp) : NULL;
        if (hit) {
            e->rule = *hit;
            continue;
        }
        if (e->dirty && ag->sink(e, ag->arg)) {
            free(by);
            return -1;
        }
        e->used = 0; /* dirty stays: the slot is still listed, flush skips it */
    }
    free(by);
    return 0;
}

void cg_incidents_get_stats(const cg_incidents *ag, cg_incidents_stats *out)
{
    *out = ag->st;
}
