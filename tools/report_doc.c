/* report_doc.c — a cg_report laid out as blocks in one language (see
 * report_doc.h): the sections of the report in order, each a heading and
 * a table or a sentence, the labels from report_i18n.c.
 */
#include "tools/report_doc.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cli.h"

#define L(k) cg_report_label(d->lang, (k))

static rd_block *add(rd_doc *d, int kind)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 32;
        rd_block *nb = realloc(d->b, nc * sizeof *nb);
        if (!nb)
            return NULL;
        d->b = nb;
        d->cap = nc;
    }
    rd_block *b = &d->b[d->n++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    return b;
}

static __attribute__((format(printf, 3, 4))) int text(rd_doc *d, int kind, const char *fmt, ...)
{
    va_list ap;
    rd_block *b = add(d, kind);
    if (!b)
        return -1;
    va_start(ap, fmt);
    int n = vasprintf(&b->text, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->text = NULL;
        return -1;
    }
    return 0;
}

/* A table of ncols columns; rows are added with row(). */
static rd_block *table(rd_doc *d, size_t ncols, unsigned right)
{
    rd_block *b = add(d, RD_TABLE);
    if (b) {
        b->ncols = ncols;
        b->right = right;
        b->head = 1;
    }
    return b;
}

/* Appends a row: ncols strings (copied). */
static int row(rd_block *b, ...)
{
    va_list ap;
    char **nc = realloc(b->cells, (b->nrows + 1) * b->ncols * sizeof *nc);
    if (!nc)
        return -1;
    b->cells = nc;
    va_start(ap, b);
    for (size_t i = 0; i < b->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        nc[b->nrows * b->ncols + i] = strdup(s ? s : "");
    }
    va_end(ap);
    b->nrows++;
    for (size_t i = 0; i < b->ncols; i++)
        if (!nc[(b->nrows - 1) * b->ncols + i])
            return -1;
    return 0;
}

/* A table of names and values (no header row). */
static rd_block *kv_table(rd_doc *d, unsigned right)
{
    rd_block *b = table(d, 2, right);
    if (b)
        b->head = 0;
    return b;
}

static const char *num(char *buf, uint64_t v)
{
    sprintf(buf, "%llu", (unsigned long long)v);
    return buf;
}

static const char *dur_or(const rd_doc *d, char *buf, size_t len, uint64_t s, int have)
{
    if (!have)
        return "—";
    cg_report_duration(d->lang, s, buf, len);
    return buf;
}

static const char *sev_label(const rd_doc *d, int s)
{
    static const char *const k[RPT_NSEV] = { "sev1", "sev2", "sev3", "sev4" };
    return cg_report_label(d->lang, k[s]);
}

static void local_time(uint64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S %z", &tm);
}

int cg_rd_build(rd_doc *d, const cg_report *r, const char *lang)
{
    char a[64], b2[64], c[64], e[64], f[64], g[64], h[160];
    rd_block *t;
    const cg_report *x = r;

    memset(d, 0, sizeof *d);
    d->r = r;
    d->lang = lang;
    if (text(d, RD_TITLE, "%s", L("title")) || text(d, RD_P, "%s", L("subtitle")))
        goto oom;
    /* the period */
    if (!(t = kv_table(d, 0)))
        goto oom;
    local_time(x->since_us, a, sizeof a);
    local_time(x->until_us - 1000000u, b2, sizeof b2);
    {
        char per[300];
        snprintf(per, sizeof per, "%s %s %s (%s — %s)", x->from, L("to"), x->to, a, b2);
        if (row(t, L("period"), per) || row(t, L("timezone"), x->tz))
            goto oom;
    }
    if ((x->agency && row(t, L("agency"), x->agency)) || (x->zone && row(t, L("zone"), x->zone)))
        goto oom;
    local_time(x->now_us, a, sizeof a);
    if (row(t, L("generated"), a) || row(t, L("store"), x->store) || row(t, L("query"), x->query))
        goto oom;

    /* summary */
    if (text(d, RD_H2, "%s", L("summary")))
        goto oom;
    if (!x->total) {
        if (text(d, RD_P, "%s", L("no_incidents")))
            goto oom;
    }
    if (!(t = kv_table(d, 2)) || row(t, L("incidents"), num(a, x->total)))
        goto oom;
    for (int s = 0; s < RPT_NSEV; s++)
        if (row(t, sev_label(d, s), num(a, x->by_sev[s])))
            goto oom;
    for (int s = 0; s < CG_ST_COUNT; s++) {
        char k[24];
        snprintf(k, sizeof k, "st%d", s);
        snprintf(b2, sizeof b2, "%s: %s", L("status"), L(k));
        if (row(t, b2, num(a, x->by_status[s])))
            goto oom;
    }

    /* by day */
    if (text(d, RD_H2, "%s", L("by_day")) || !add(d, RD_CHART) ||
        text(d, RD_P, "%s", L("days_quiet")))
        goto oom;
    if (!(t = table(d, 6, 0x3e)) ||
        row(t, L("day"), sev_label(d, 0), sev_label(d, 1), sev_label(d, 2), sev_label(d, 3),
            L("total")))
        goto oom;
    /* the table lists the days with incidents (a quarter is 92 rows else);
     * the chart and the JSON have every day */
    for (size_t i = 0; i < x->ndays; i++) {
        uint64_t tot = 0;
        for (int s = 0; s < RPT_NSEV; s++)
            tot += x->by_day[i][s];
        if (!tot)
            continue;
        cg_report_day(x->day_start_us[i], a, sizeof a);
        if (row(t, a, num(b2, x->by_day[i][0]), num(c, x->by_day[i][1]), num(e, x->by_day[i][2]),
                num(f, x->by_day[i][3]), num(g, tot)))
            goto oom;
    }

    /* by category */
    if (text(d, RD_H2, "%s", L("by_category")) || !(t = table(d, 4, 0x8)) ||
        row(t, L("classtype"), L("rsit_class"), L("rsit_type"), L("incidents")))
        goto oom;
    for (size_t i = 0; i < x->nclasses; i++)
        if (row(t, x->classes[i].classtype[0] ? x->classes[i].classtype : L("none"),
                x->classes[i].rsit_class, x->classes[i].rsit_type, num(a, x->classes[i].n)))
            goto oom;
    if (text(d, RD_H2, "%s", L("by_rsit")) || !(t = table(d, 2, 0x2)) ||
        row(t, L("rsit_class"), L("incidents")))
        goto oom;
    for (size_t i = 0; i < x->nrsit; i++)
        if (row(t, x->rsit[i].name, num(a, x->rsit[i].n)))
            goto oom;

    /* signatures, sources */
    if (text(d, RD_H2, "%s", L("top_sigs")) || !(t = table(d, 3, 0x4)) ||
        row(t, L("signature"), L("message"), L("incidents")))
        goto oom;
    for (size_t i = 0; i < x->nsigs && i < RPT_TOP; i++) {
        snprintf(b2, sizeof b2, "%u:%u", x->sigs[i].gid, x->sigs[i].sid);
        if (row(t, b2, x->sigs[i].msg, num(a, x->sigs[i].n)))
            goto oom;
    }
    if (text(d, RD_H2, "%s", L("top_srcs")) || !(t = table(d, 4, 0xc)) ||
        row(t, L("source"), L("country"), L("asn"), L("incidents")))
        goto oom;
    for (size_t i = 0; i < x->nsrcs; i++) {
        cg_cli_addr(x->srcs[i].addr, b2, sizeof b2);
        if (x->srcs[i].asn)
            snprintf(c, sizeof c, "AS%u", x->srcs[i].asn);
        else
            snprintf(c, sizeof c, "%s", L("unknown"));
        if (row(t, b2, x->srcs[i].cc[0] ? x->srcs[i].cc : L("unknown"), c, num(a, x->srcs[i].n)))
            goto oom;
    }
    if (text(d, RD_P, "%s: %llu", L("distinct_srcs"), (unsigned long long)x->distinct_srcs))
        goto oom;

    /* agencies and zones */
    if (text(d, RD_H2, "%s", L("hit")) || !(t = table(d, 2, 0x2)) ||
        row(t, L("agency"), L("incidents")))
        goto oom;
    for (size_t i = 0; i < x->nagencies; i++)
        if (row(t, x->agencies[i].name[0] ? x->agencies[i].name : L("unknown"),
                num(a, x->agencies[i].n)))
            goto oom;
    if (!(t = table(d, 2, 0x2)) || row(t, L("zone"), L("incidents")))
        goto oom;
    for (size_t i = 0; i < x->nzones; i++)
        if (row(t, x->zones[i].name[0] ? x->zones[i].name : L("unknown"), num(a, x->zones[i].n)))
            goto oom;

    /* escalations */
    if (text(d, RD_H2, "%s", L("escalations")) || !(t = table(d, 3, 0x6)) ||
        row(t, L("layer"), L("reached"), L("esc_entries")))
        goto oom;
    for (int l = 0; l < 4; l++) {
        char k[24];
        snprintf(k, sizeof k, "layer%d", l + 1);
        if (row(t, L(k), num(a, x->layer_reached[l]), num(b2, x->escalations[l])))
            goto oom;
    }
    if (text(d, RD_P, "%s: %llu", L("escalated"), (unsigned long long)x->escalated))
        goto oom;

    /* times */
    if (text(d, RD_H2, "%s", L("times")))
        goto oom;
    if (x->policy[0] ? text(d, RD_P, "%s: %s", L("policy"), x->policy)
                     : text(d, RD_P, "%s", L("no_policy")))
        goto oom;
    for (int step = 0; step < 2; step++) {
        const rpt_time *tt = step ? x->res : x->ack;
        if (!(t = table(d, 7, 0x7e)) ||
            row(t, L(step ? "ttr" : "tta"), L("done"), L("not_yet"), L("median"), L("p90"),
                L("target"), L("breaches")))
            goto oom;
        for (int s = 0; s < RPT_NSEV; s++) {
            char tg[96];
            if (tt[s].target_s) {
                cg_report_duration(d->lang, tt[s].target_s, tg, sizeof tg);
                if (x->target_line[s]) {
                    size_t n = strlen(tg);
                    snprintf(tg + n, sizeof tg - n, " (%.40s:%u)", x->policy, x->target_line[s]);
                }
            } else {
                snprintf(tg, sizeof tg, "—");
            }
            if (row(t, sev_label(d, s), num(a, tt[s].n), num(b2, tt[s].open),
                    dur_or(d, c, sizeof c, tt[s].median_s, tt[s].n > 0),
                    dur_or(d, e, sizeof e, tt[s].p90_s, tt[s].n > 0), tg,
                    tt[s].target_s ? num(f, tt[s].breaches) : "—"))
                goto oom;
        }
    }
    if (x->policy[0]) {
        if (text(d, RD_H2, "%s", L("breach_list")))
            goto oom;
        if (!x->breaches_total) {
            if (text(d, RD_P, "%s", L("no_breaches")))
                goto oom;
        } else {
            if (!(t = table(d, 5, 0x19)) ||
                row(t, L("incident"), L("severity"), L("step"), L("taken"), L("target")))
                goto oom;
            for (size_t i = 0; i < x->nbreaches; i++) {
                const rpt_breach *br = &x->breaches[i];
                int s = br->sev == 0 || br->sev > 4 ? 3 : br->sev - 1;
                cg_report_duration(d->lang, br->taken_s, c, sizeof c);
                if (br->open)
                    snprintf(h, sizeof h, "%s (%s)", c, L("still_open"));
                else
                    snprintf(h, sizeof h, "%s", c);
                cg_report_duration(d->lang, br->target_s, e, sizeof e);
                if (row(t, num(a, br->id), sev_label(d, s), L(br->resolve ? "resolve" : "ack"), h,
                        e))
                    goto oom;
            }
            if (x->breaches_total > x->nbreaches &&
                text(d, RD_P, "+ %llu %s", (unsigned long long)(x->breaches_total - x->nbreaches),
                     L("more")))
                goto oom;
        }
    }

    /* backlog */
    if (text(d, RD_H2, "%s", L("backlog")) || text(d, RD_P, "%s", L("backlog_text")) ||
        !(t = kv_table(d, 0x2)) || row(t, L("total"), num(a, x->backlog)))
        goto oom;
    for (int s = 0; s < RPT_NSEV; s++)
        if (row(t, sev_label(d, s), num(a, x->backlog_by_sev[s])))
            goto oom;
    if (row(t, L("backlog_now"), num(a, x->backlog_now_open)))
        goto oom;

    /* tuning */
    if (text(d, RD_H2, "%s", L("tuning")) || text(d, RD_P, "%s", L("tuning_text")))
        goto oom;
    if (!x->ntune) {
        if (text(d, RD_P, "%s", L("no_tuning")))
            goto oom;
    } else {
        if (!(t = table(d, 4, 0xc)) ||
            row(t, L("signature"), L("message"), L("incidents"), L("fp")))
            goto oom;
        for (size_t i = 0; i < x->ntune; i++) {
            const rpt_sig *sg = &x->sigs[x->tune[i]];
            snprintf(b2, sizeof b2, "%u:%u", sg->gid, sg->sid);
            if (row(t, b2, sg->msg, num(a, sg->n), num(c, sg->fp)))
                goto oom;
        }
    }

    /* integrity */
    if (text(d, RD_H2, "%s", L("integrity")))
        goto oom;
    if (!x->has_log) {
        if (text(d, RD_P, "%s", L("no_log")))
            goto oom;
    } else {
        char root[45];
        EVP_EncodeBlock((unsigned char *)root, x->head.root, 32);
        if (!(t = kv_table(d, 0)) || row(t, L("origin"), x->head.origin) ||
            row(t, L("tree_size"), num(a, x->head.size)) || row(t, L("root"), root))
            goto oom;
        if (x->checkpoint[0]) {
            char v[900];
            snprintf(v, sizeof v, "%.300s: %s (%.500s)", x->checkpoint,
                     L(x->cp_ok > 0 ? "cp_ok" : "cp_bad"), x->cp_msg);
            if (row(t, L("checkpoint"), v))
                goto oom;
        }
        if (x->verified) {
            snprintf(b2, sizeof b2, "%llu", (unsigned long long)x->verified_records);
            if (row(t, L(x->verified > 0 ? "records_ok" : "records_bad"), b2))
                goto oom;
        } else if (row(t, L("records_skip"), "")) {
            goto oom;
        }
        if (!x->checkpoint[0] && text(d, RD_P, "%s", L("cp_none")))
            goto oom;
    }
    if (!x->has_key && text(d, RD_P, "%s", L("no_key")))
        goto oom;
    return 0;
oom:
    cg_rd_free(d);
    return -1;
}

void cg_rd_free(rd_doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->b[i].text);
        for (size_t j = 0; j < d->b[i].nrows * d->b[i].ncols; j++)
            free(d->b[i].cells[j]);
        free(d->b[i].cells);
    }
    free(d->b);
    memset(d, 0, sizeof *d);
}
