/* report_json.c — a period report as one JSON object (RFC 8259): every
 * figure of the report, for other tools. Keys are English and stable
 * whatever --lang; times are RFC 3339 (UTC) and epoch seconds; durations
 * are seconds. README "Reports" lists the keys.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analyzer/lang/rule.h"
#include "tools/cli.h"
#include "tools/report.h"

static const char *const sev_key[RPT_NSEV] = { "high", "medium", "low", "info" };

void cg_report_day(uint64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

static void utc(uint64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void str_or_null(FILE *f, const char *s)
{
    if (s)
        cg_cli_json_str(f, s);
    else
        fputs("null", f);
}

static void named(FILE *f, const char *key, const char *field, const rpt_named *v, size_t n)
{
    fprintf(f, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s{\"%s\":", i ? "," : "", field);
        cg_cli_json_str(f, v[i].name);
        fprintf(f, ",\"count\":%llu}", (unsigned long long)v[i].n);
    }
    fputc(']', f);
}

static void tjson(FILE *f, const rpt_time *t)
{
    fprintf(f, "{\"done\":%llu,\"open\":%llu,\"median_s\":", (unsigned long long)t->n,
            (unsigned long long)t->open);
    if (t->n)
        fprintf(f, "%llu,\"p90_s\":%llu", (unsigned long long)t->median_s,
                (unsigned long long)t->p90_s);
    else
        fputs("null,\"p90_s\":null", f);
    fputs(",\"target_s\":", f);
    if (t->target_s)
        fprintf(f, "%u", t->target_s);
    else
        fputs("null", f);
    fprintf(f, ",\"breaches\":%llu}", (unsigned long long)t->breaches);
}

int cg_report_json(const cg_report *r, FILE *f)
{
    char a[64], b[64];
    fputs("{\"report\":\"canhgac period report\",\"version\":1", f);
    utc(r->since_us, a, sizeof a);
    utc(r->until_us, b, sizeof b);
    fputs(",\"period\":{\"from\":", f);
    cg_cli_json_str(f, r->from);
    fputs(",\"to\":", f);
    cg_cli_json_str(f, r->to);
    fprintf(f, ",\"since\":\"%s\",\"until\":\"%s\",\"since_epoch\":%llu,\"until_epoch\":%llu", a, b,
            (unsigned long long)(r->since_us / 1000000u),
            (unsigned long long)(r->until_us / 1000000u));
    fputs(",\"timezone\":", f);
    cg_cli_json_str(f, r->tz);
    fputs("},\"filter\":{\"agency\":", f);
    str_or_null(f, r->agency);
    fputs(",\"zone\":", f);
    str_or_null(f, r->zone);
    fputs("},\"query\":", f);
    cg_cli_json_str(f, r->query);
    utc(r->now_us, a, sizeof a);
    fprintf(f, ",\"generated\":\"%s\",\"store\":", a);
    cg_cli_json_str(f, r->store);
    fprintf(f, ",\"total\":%llu,\"by_severity\":{", (unsigned long long)r->total);
    for (int s = 0; s < RPT_NSEV; s++)
        fprintf(f, "%s\"%s\":%llu", s ? "," : "", sev_key[s], (unsigned long long)r->by_sev[s]);
    fputs("},\"by_status\":{", f);
    for (int s = 0; s < CG_ST_COUNT; s++)
        fprintf(f, "%s\"%s\":%llu", s ? "," : "", cg_store_status_name((unsigned)s),
                (unsigned long long)r->by_status[s]);
    fputs("},\"by_day\":[", f);
    for (size_t d = 0; d < r->ndays; d++) {
        uint64_t tot = 0;
        cg_report_day(r->day_start_us[d], a, sizeof a);
        fprintf(f, "%s{\"day\":\"%s\",\"start_epoch\":%llu,\"end_epoch\":%llu", d ? "," : "", a,
                (unsigned long long)(r->day_start_us[d] / 1000000u),
                (unsigned long long)(r->day_start_us[d + 1] / 1000000u));
        for (int s = 0; s < RPT_NSEV; s++) {
            fprintf(f, ",\"%s\":%llu", sev_key[s], (unsigned long long)r->by_day[d][s]);
            tot += r->by_day[d][s];
        }
        fprintf(f, ",\"total\":%llu}", (unsigned long long)tot);
    }
    fputs("],\"by_classtype\":[", f);
    for (size_t i = 0; i < r->nclasses; i++) {
        fprintf(f, "%s{\"classtype\":", i ? "," : "");
        cg_cli_json_str(f, r->classes[i].classtype);
        fputs(",\"rsit_class\":", f);
        cg_cli_json_str(f, r->classes[i].rsit_class);
        fputs(",\"rsit_type\":", f);
        cg_cli_json_str(f, r->classes[i].rsit_type);
        fprintf(f, ",\"count\":%llu}", (unsigned long long)r->classes[i].n);
    }
    fputc(']', f);
    named(f, "by_rsit", "rsit_class", r->rsit, r->nrsit);
    fputs(",\"top_signatures\":[", f);
    for (size_t i = 0; i < r->nsigs && i < RPT_TOP; i++) {
        fprintf(f, "%s{\"gid\":%u,\"signature_id\":%u,\"signature\":", i ? "," : "", r->sigs[i].gid,
                r->sigs[i].sid);
        cg_cli_json_str(f, r->sigs[i].msg);
        fprintf(f, ",\"count\":%llu}", (unsigned long long)r->sigs[i].n);
    }
    fprintf(f, "],\"distinct_signatures\":%zu,\"top_sources\":[", r->nsigs);
    for (size_t i = 0; i < r->nsrcs; i++) {
        cg_cli_addr(r->srcs[i].addr, a, sizeof a);
        fprintf(f, "%s{\"src_ip\":\"%s\",\"country\":", i ? "," : "", a);
        cg_cli_json_str(f, r->srcs[i].cc);
        fprintf(f, ",\"asn\":%u,\"count\":%llu}", r->srcs[i].asn, (unsigned long long)r->srcs[i].n);
    }
    fprintf(f, "],\"distinct_sources\":%llu", (unsigned long long)r->distinct_srcs);
    named(f, "agencies", "agency", r->agencies, r->nagencies);
    named(f, "zones", "zone", r->zones, r->nzones);
    fputs(",\"layers\":[", f);
    for (int l = 0; l < 4; l++)
        fprintf(f, "%s{\"layer\":%d,\"incidents\":%llu,\"escalations\":%llu}", l ? "," : "", l + 1,
                (unsigned long long)r->layer_reached[l], (unsigned long long)r->escalations[l]);
    fprintf(f, "],\"escalated_incidents\":%llu,\"policy\":", (unsigned long long)r->escalated);
    str_or_null(f, r->policy[0] ? r->policy : NULL);
    fputs(",\"times\":[", f);
    for (int s = 0; s < RPT_NSEV; s++) {
        fprintf(f, "%s{\"severity\":\"%s\",\"target_line\":", s ? "," : "", sev_key[s]);
        if (r->target_line[s])
            fprintf(f, "%u", r->target_line[s]);
        else
            fputs("null", f);
        fputs(",\"acknowledge\":", f);
        tjson(f, &r->ack[s]);
        fputs(",\"resolve\":", f);
        tjson(f, &r->res[s]);
        fputc('}', f);
    }
    fprintf(f, "],\"breaches_total\":%llu,\"breaches\":[", (unsigned long long)r->breaches_total);
    for (size_t i = 0; i < r->nbreaches; i++) {
        const rpt_breach *x = &r->breaches[i];
        fprintf(f,
                "%s{\"incident_id\":%llu,\"severity\":\"%s\",\"step\":\"%s\",\"taken_s\":%llu,"
                "\"target_s\":%u,\"open\":%s}",
                i ? "," : "", (unsigned long long)x->id,
                sev_key[x->sev == 0      ? 3
                            : x->sev > 4 ? 3
                                         : x->sev - 1],
                x->resolve ? "resolve" : "acknowledge", (unsigned long long)x->taken_s, x->target_s,
                x->open ? "true" : "false");
    }
    fprintf(f, "],\"backlog\":{\"open_at_end\":%llu,\"by_severity\":{",
            (unsigned long long)r->backlog);
    for (int s = 0; s < RPT_NSEV; s++)
        fprintf(f, "%s\"%s\":%llu", s ? "," : "", sev_key[s],
                (unsigned long long)r->backlog_by_sev[s]);
    fprintf(f, "},\"open_now\":%llu}", (unsigned long long)r->backlog_now_open);
    fprintf(f, ",\"tuning\":{\"min_incidents\":%d,\"false_positive_share_above\":0.5,\"rules\":[",
            RPT_TUNE_MIN);
    for (size_t i = 0; i < r->ntune; i++) {
        const rpt_sig *g = &r->sigs[r->tune[i]];
        fprintf(f, "%s{\"gid\":%u,\"signature_id\":%u,\"signature\":", i ? "," : "", g->gid,
                g->sid);
        cg_cli_json_str(f, g->msg);
        fprintf(f, ",\"incidents\":%llu,\"false_positives\":%llu}", (unsigned long long)g->n,
                (unsigned long long)g->fp);
    }
    fprintf(f, "]},\"integrity\":{\"log\":%s", r->has_log ? "true" : "false");
    if (r->has_log) {
        char root[45];
        EVP_EncodeBlock((unsigned char *)root, r->head.root, 32);
        fputs(",\"origin\":", f);
        cg_cli_json_str(f, r->head.origin);
        fprintf(f, ",\"tree_size\":%llu,\"root\":\"%s\"", (unsigned long long)r->head.size, root);
    }
    fprintf(f, ",\"signing_key\":%s,\"checkpoint\":", r->has_key ? "true" : "false");
    if (r->checkpoint[0]) {
        fputs("{\"file\":", f);
        cg_cli_json_str(f, r->checkpoint);
        fprintf(f, ",\"verified\":%s,\"size\":%llu,\"detail\":", r->cp_ok > 0 ? "true" : "false",
                (unsigned long long)r->cp_size);
        cg_cli_json_str(f, r->cp_msg);
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fputs(",\"records_verified\":", f);
    if (r->verified)
        fprintf(f, "%s,\"records\":%llu", r->verified > 0 ? "true" : "false",
                (unsigned long long)r->verified_records);
    else
        fputs("null", f);
    fputs("}}\n", f);
    return ferror(f) ? -1 : 0;
}
