/* report.h — a period report's figures (tools/cmd_report.c): gathered by
 * report_data.c in one pass over the period's incidents and their
 * histories, then written as JSON (report_json.c), one HTML page
 * (report_html.c) or a PDF (report_pdf.c) with the labels of one language
 * (report_i18n.c).
 *
 * Invariants: a cg_report owns every string and array it points to
 * (cg_report_free); figures are counts of incidents first seen in
 * [since_us, until_us) that match the filter (the agency or zone), exactly
 * what `canhgac query --count EXPR` gives for the expression in `query`,
 * except where a field's comment says otherwise.
 */
#ifndef CG_REPORT_H
#define CG_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define RPT_NSEV 4       /* high, medium, low, info (info: severity 4 and above) */
#define RPT_TOP 10       /* top signatures, sources */
#define RPT_BREACHES 200 /* breaches listed (the longest); all are counted */
#define RPT_TUNE_MIN 3   /* a tuning hint: at least this many incidents... */
/* ...of which more than half were marked false-positive */

typedef struct rpt_named {
    char *name; /* "" for none */
    uint64_t n;
} rpt_named;

typedef struct rpt_class {
    char *classtype; /* "" for none */
    const char *rsit_class, *rsit_type;
    uint64_t n;
} rpt_class;

typedef struct rpt_sig {
    uint32_t gid, sid;
    char *msg;
    uint64_t n;
    uint64_t fp; /* of them now false-positive */
} rpt_sig;

typedef struct rpt_src {
    uint8_t addr[16];
    char cc[3];
    uint32_t asn;
    char *as_org;
    uint64_t n;
} rpt_src;

/* Time to acknowledge or to resolve, for one severity. */
typedef struct rpt_time {
    uint64_t n;        /* incidents that were (acknowledged / resolved) */
    uint64_t open;     /* that were not (yet) */
    uint64_t median_s; /* nearest rank, of n; 0 when n is 0 */
    uint64_t p90_s;
    uint32_t target_s; /* 0: no target */
    uint64_t breaches; /* taken > target, and open ones past it at the report's time */
} rpt_time;

typedef struct rpt_breach {
    uint64_t id;
    uint8_t sev;
    uint8_t resolve; /* 0 acknowledge, 1 resolve */
    uint8_t open;    /* not done yet: taken is up to the report's time */
    uint64_t taken_s;
    uint32_t target_s;
} rpt_breach;

typedef struct cg_report {
    /* the period */
    char from[40], to[40]; /* as given */
    uint64_t since_us, until_us;
    char tz[64];         /* the time zone days are cut in */
    char *agency, *zone; /* the filter, or NULL */
    char *query;         /* the query expression of the same incidents */
    uint64_t now_us;     /* when the report was made */
    char store[4096];
    /* the figures */
    uint64_t total;
    uint64_t by_sev[RPT_NSEV];
    uint64_t by_status[CG_ST_COUNT];
    size_t ndays;
    uint64_t *day_start_us; /* ndays + 1 boundaries, local midnights */
    uint64_t (*by_day)[RPT_NSEV];
    rpt_class *classes;
    size_t nclasses;
    rpt_named *rsit; /* incidents by RSIT class */
    size_t nrsit;
    rpt_sig *sigs; /* all signatures, most incidents first */
    size_t nsigs;
    rpt_src *srcs; /* the top RPT_TOP sources */
    size_t nsrcs;
    uint64_t distinct_srcs;
    rpt_named *agencies, *zones; /* of the destinations */
    size_t nagencies, nzones;
    uint64_t layer_reached[4]; /* incidents that reached layer n+1 */
    uint64_t escalations[4];   /* escalation entries that added layer n+1 */
    uint64_t escalated;        /* incidents with an escalation entry */
    rpt_time ack[RPT_NSEV], res[RPT_NSEV];
    char policy[256]; /* the policy file's name, "" for none */
    unsigned target_line[RPT_NSEV];
    rpt_breach *breaches; /* the longest first, at most RPT_BREACHES */
    size_t nbreaches;
    uint64_t breaches_total;
    uint64_t backlog; /* first seen before until, open as of until */
    uint64_t backlog_by_sev[RPT_NSEV];
    uint64_t backlog_now_open; /* of them, still open now */
    size_t ntune;              /* sigs[] indexes of the tuning hints */
    size_t *tune;
    /* integrity */
    int has_log;
    cg_store_head head;
    int has_key;           /* DIR/soc-public.pem (or --key) exists */
    char checkpoint[4096]; /* the file given, "" for none */
    int cp_ok;             /* 1 verified, 0 not given, -1 failed */
    uint64_t cp_size;
    char cp_msg[512];
    int verified; /* --verify: 1 every record matches, -1 not, 0 not run */
    uint64_t verified_records;
} cg_report;

struct cg_policy;
/* Gathers every figure of r (its period, filter, store, now_us, checkpoint
 * and verified (1: verify every record) set; the checkpoint's key is
 * keyfile, NULL for STORE/soc-public.pem).
 * 0, or an exit code with one line printed. */
int cg_report_gather(cg_report *r, cg_store *st, const struct cg_policy *pol, const char *keyfile);
void cg_report_free(cg_report *r);

/* Nearest-rank percentile pct (1..100) of v[0..n) sorted ascending: 0 when n
 * is 0. */
uint64_t cg_report_pct(const uint64_t *v, size_t n, unsigned pct);

/* The RSIT (ENISA Reference Security Incident Taxonomy) class and type of a
 * Suricata/Snort classtype; "Other" / "Undetermined" when unknown. */
void cg_report_rsit(const char *classtype, const char **cls, const char **type);

/* Labels: the text of key in lang ("en", "vi"); key itself when unknown. */
const char *cg_report_label(const char *lang, const char *key);
int cg_report_lang_ok(const char *lang);
/* A duration in words of lang: "4h 12m", "3 ngày 2 giờ". */
void cg_report_duration(const char *lang, uint64_t s, char *out, size_t len);

/* Period parsing: "YYYY-MM-DD" (local midnight, in TZ) or an RFC 3339 time
 * with an offset or Z. end: a date is its next midnight (inclusive day), a
 * time is itself. 0, or -1 with why in err. */
int cg_report_parse_time(const char *s, int end, uint64_t *us, char *err, size_t errlen);

/* The local date (TZ) of us: "2026-10-01". */
void cg_report_day(uint64_t us, char *out, size_t len);

int cg_report_json(const cg_report *r, FILE *f);
int cg_report_html(const cg_report *r, const char *lang, FILE *f);
int cg_report_pdf(const cg_report *r, const char *lang, const char *path, char *err, size_t errlen,
                  int *pages);

#endif
