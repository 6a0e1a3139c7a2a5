/* escalate.c — the layer policy applied to the store: the escalations an
 * incident is owed when it is created or changes (cg_policy_apply, on the
 * sensor's writer thread, in its batch), and the time pass over the open
 * incidents (cg_policy_pass: `canhgac escalate`, and `run` every minute).
 *
 * The pass reads one snapshot (a query for status new), gathers what each
 * incident is owed, and only then writes: a query's callback must not call
 * the store. Each write is cg_store_escalate with CG_ESC_IF_NEW, which reads
 * the record again in the writing transaction, so an incident acknowledged
 * between the snapshot and the write is left alone (its clock stopped), and
 * a layer another pass gave meanwhile is not given twice.
 */
#include "analyzer/output/policy.h"

#include <stdlib.h>
#include <string.h>

#define ACTIONS_MAX (1 + CG_POLICY_STEPS_MAX)

static int apply(const cg_policy *p, cg_store *st, uint64_t id, const cg_policy_action *a, size_t n,
                 unsigned flags, uint64_t when_us, unsigned *esc, unsigned *rem)
{
    char why[128];

    for (size_t i = 0; i < n; i++) {
        int added = 0, rc;
        unsigned f =
            flags | (a[i].step >= 0 ? CG_ESC_IF_NEW : 0u) | (a[i].remind ? CG_ESC_ONCE : 0u);
        cg_policy_why(p, &a[i], why, sizeof why);
        rc = cg_store_escalate(st, id, a[i].layers, f, why, CG_POLICY_WHO, when_us, &added);
        if (rc)
            return rc;
        if (added && a[i].remind)
            ++*rem;
        else if (added)
            ++*esc;
    }
    return 0;
}

int cg_policy_apply(const cg_policy *p, cg_store *st, const cg_incident *inc, uint64_t now_us,
                    uint64_t when_us, unsigned *applied)
{
    cg_policy_action a[ACTIONS_MAX];
    unsigned esc = 0, rem = 0;
    size_t n;
    int rc;

    if (!p || !st || !inc)
        return CG_EINVAL;
    n = cg_policy_decide(p, inc, now_us, a, ACTIONS_MAX);
    rc = apply(p, st, inc->id, a, n, 0, when_us, &esc, &rem);
    if (applied)
        *applied = esc + rem;
    return rc;
}

/* What the pass owes: an incident and one action. */
struct owed {
    uint64_t id;
    cg_policy_action a;
};

typedef struct pass {
    const cg_policy *p;
    uint64_t now_us;
    struct owed *v;
    size_t n, cap;
    uint64_t open;
    int nomem;
} pass;

static int gather(const cg_incident *inc, void *arg)
{
    pass *ps = arg;
    cg_policy_action a[ACTIONS_MAX];
    size_t n;

    ps->open++;
    n = cg_policy_decide(ps->p, inc, ps->now_us, a, ACTIONS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (ps->n == ps->cap) {
            size_t nc = ps->cap ? ps->cap * 2 : 1024;
            struct owed *v = realloc(ps->v, nc * sizeof *v);
            if (!v) {
                ps->nomem = 1;
                return 1;
            }
            ps->v = v;
            ps->cap = nc;
        }
        ps->v[ps->n++] = (struct owed){ inc->id, a[i] };
    }
    return 0;
}

int cg_policy_pass(const cg_policy *p, cg_store *st, uint64_t now_us, uint32_t chunk,
                   cg_policy_pass_stats *out)
{
    uint64_t since = 0;
    pass ps = { .p = p, .now_us = now_us };
    cg_query q;
    cg_policy_pass_stats s;
    int rc;

    if (!p || !st || !now_us)
        return CG_EINVAL;
    memset(&q, 0, sizeof q);
    memset(&s, 0, sizeof s);
    q.has = CG_Q_STATUS;
    q.status_mask = 1u << CG_ST_NEW;
    rc = cg_store_query(st, &q, 0, NULL, gather, &ps);
    if (!rc && ps.nomem)
        rc = CG_ENOMEM;
    s.open = ps.open;
    /* The incidents oldest first (the query gave them newest first), each
     * one's actions in their order: at once, then the steps as they fell
     * due, so that its history reads in that order. */
    for (size_t end = ps.n; end > 0 && !rc;) {
        size_t start = end - 1;
        unsigned esc = 0, rem = 0;
        while (start > 0 && ps.v[start - 1].id == ps.v[end - 1].id)
            start--;
        for (size_t i = start; i < end && !rc; i++) {
            unsigned e = 0, r = 0;
            rc = apply(p, st, ps.v[i].id, &ps.v[i].a, 1, CG_ESC_IF_NEW, now_us, &e, &r);
            if (rc == CG_ENOTFOUND)
                rc = 0; /* gone since the snapshot: nothing removes incidents, but be safe */
            esc += e, rem += r;
        }
        s.reminders += rem;
        s.entries += esc + rem;
        s.escalated += esc > 0;
        since += esc + rem;
        if (!rc && chunk && since >= chunk) {
            since = 0;
            if ((rc = cg_store_commit(st)) == 0)
                rc = cg_store_begin(st);
        }
        end = start;
    }
    free(ps.v);
    if (out)
        *out = s;
    return rc;
}
