/* cmd_report.c — `canhgac report`: a period report for assessors (layer 3
 * of the four-layer model): the incidents first seen in a period, by day
 * and severity, category (classtype and ENISA RSIT class), signature,
 * source, agency and zone; escalations by layer; times to acknowledge and
 * to resolve against the layer policy's targets; the backlog at the
 * period's end; rules that were mostly false positives; the store's
 * integrity. As a PDF (report_pdf.c), one HTML page (report_html.c) or
 * JSON (report_json.c), labels in English or Vietnamese (report_i18n.c).
 *
 * The store is opened read-only (a sensor may write meanwhile): the
 * figures are one snapshot (cg_store_report_walk). Days are cut in the
 * local time zone (TZ). The output file is written to a temporary name
 * and renamed: a failed report leaves no half file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/output/policy.h"
#include "tools/cli.h"
#include "tools/report.h"

static const char report_usage[] =
    "usage: canhgac report [options] --from DATE --to DATE (-o FILE.pdf | -o FILE.html |\n"
    "                      --json [-o FILE.json])\n"
    "\n"
    "A period report for assessors: the incidents first seen from DATE to DATE\n"
    "(both days included, cut in the local time zone, TZ) by day and severity (a\n"
    "chart), by category (classtype and its ENISA RSIT class), the top signatures\n"
    "and sources (country, AS), the agencies and zones hit, the escalations by\n"
    "layer, the times to acknowledge and to resolve by severity (median, 90th\n"
    "percentile) against the policy's targets with every breach, the backlog open\n"
    "at the period's end, rules that were mostly false positives, and the\n"
    "integrity of the store (its log's tree size and root, a checkpoint verified).\n"
    "Every count equals what `canhgac query --count` gives for the expression the\n"
    "report names (since @EPOCH and until @EPOCH ...).\n"
    "\n"
    "options:\n"
    "  -d, --store DIR       the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --from DATE       the first day (YYYY-MM-DD), or an RFC 3339 time\n"
    "                        (2026-10-01T00:00:00+07:00)\n"
    "      --to DATE         the last day, included; a time: the period ends before it\n"
    "      --agency NAME     only incidents whose source or destination is NAME's\n"
    "                        (the asset file's agency; query's agency = NAME)\n"
    "      --zone NAME       only incidents with a side in network zone NAME\n"
    "      --lang en|vi      the labels' language (default en)\n"
    "      --policy FILE     the layer policy whose targets the times are held to\n"
    "                        (default $CANHGAC_POLICY; none: no targets)\n"
    "  -o, --output FILE     FILE.pdf (A4), FILE.html (one page, charts inline SVG)\n"
    "                        or FILE.json; replaced if it exists\n"
    "      --json            JSON (every figure) to stdout, or to -o FILE\n"
    "      --checkpoint FILE a signed checkpoint of the store (canhgac store\n"
    "                        checkpoint): the report says whether today's log extends it\n"
    "      --key FILE        its public key (default DIR/soc-public.pem)\n"
    "      --verify          also re-hash every record against the log (as\n"
    "                        canhgac store verify; reads the whole store)\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  canhgac report --from 2026-10-01 --to 2026-12-31 --lang vi -o q4.pdf\n"
    "  canhgac report --from 2026-10-01 --to 2026-12-31 -o q4.html --policy rules/layers.conf\n"
    "  canhgac report --from 2026-11-01 --to 2026-11-30 --agency \"Sở Y tế\" --json | jq .total\n"
    "  TZ=Asia/Ho_Chi_Minh canhgac report --from 2026-12-01 --to 2026-12-07 \\\n"
    "      --checkpoint nov.checkpoint -o week.pdf\n"
    "\n"
    "exit: 0 written (also for a period without incidents: the report says so);\n"
    "1 the store failed while reading, or FILE cannot be written; 2 bad input (a\n"
    "bad date, --to before --from, an unknown language or extension, a policy\n"
    "with an error, a store that cannot be opened)\n";

enum { OUT_JSON, OUT_HTML, OUT_PDF };

static int fail2(const char *fmt, const char *a, const char *b)
{
    fputs("canhgac report: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return CG_EXIT_INPUT;
}

/* The day boundaries of [since, until): local midnights in between. */
static int days_of(cg_report *r)
{
    size_t cap = 16, n = 0;
    uint64_t *v = malloc(cap * sizeof *v);
    time_t t0 = (time_t)(r->since_us / 1000000u);
    struct tm tm;

    if (!v)
        return -1;
    v[n++] = r->since_us;
    localtime_r(&t0, &tm);
    for (int i = 1;; i++) {
        struct tm d = tm;
        d.tm_mday += i;
        d.tm_hour = d.tm_min = d.tm_sec = 0;
        d.tm_isdst = -1;
        time_t t = mktime(&d);
        uint64_t us = (uint64_t)t * 1000000u;
        if (t == (time_t)-1 || us >= r->until_us)
            break;
        if (n + 2 > cap) {
            uint64_t *nv = realloc(v, (cap *= 2) * sizeof *nv);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        if (us > v[n - 1])
            v[n++] = us;
    }
    v[n] = r->until_us;
    r->day_start_us = v;
    r->ndays = n;
    r->by_day = calloc(n, sizeof *r->by_day);
    return r->by_day ? 0 : -1;
}

static void tz_name(char *out, size_t len)
{
    const char *tz = getenv("TZ");
    time_t t = time(NULL);
    struct tm tm;
    char z[16];
    char link[256];
    ssize_t n;

    localtime_r(&t, &tm);
    strftime(z, sizeof z, "%z", &tm);
    if (!tz || !*tz) {
        /* the system's zone: the name /etc/localtime links to
         * (.../zoneinfo/Asia/Ho_Chi_Minh), else its abbreviation */
        const char *zi;
        n = readlink("/etc/localtime", link, sizeof link - 1);
        link[n > 0 ? n : 0] = 0;
        zi = strstr(link, "zoneinfo/");
        tz = zi ? zi + 9 : tm.tm_zone;
    }
    snprintf(out, len, "%s (UTC%.3s:%s)", tz && *tz ? tz : "UTC", z, z + 3);
}

int cg_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "store", required_argument, NULL, 'd' },  { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' },     { "agency", required_argument, NULL, 'A' },
        { "zone", required_argument, NULL, 'Z' },   { "lang", required_argument, NULL, 'L' },
        { "policy", required_argument, NULL, 'P' }, { "output", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },         { "checkpoint", required_argument, NULL, 'c' },
        { "key", required_argument, NULL, 'k' },    { "verify", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    const char *dir = cg_cli_default_store(), *from = NULL, *to = NULL, *lang = "en";
    const char *policy = getenv("CANHGAC_POLICY"), *out = NULL, *key = NULL, *cp = NULL;
    char *agency = NULL, *zone = NULL;
    int json = 0, verify = 0, c, fmt, code;
    char err[256], tmp[4200];
    cg_report r;
    cg_store *st = NULL;
    cg_policy *pol = NULL;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'F': from = optarg; break;
        case 'T': to = optarg; break;
        case 'A': agency = optarg; break;
        case 'Z': zone = optarg; break;
        case 'L': lang = optarg; break;
        case 'P': policy = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        case 'c': cp = optarg; break;
        case 'k': key = optarg; break;
        case 'V': verify = 1; break;
        case 'h': fputs(report_usage, stdout); return CG_EXIT_OK;
        case ':': return fail2("%s needs a value%s", argv[optind - 1], "");
        default:
            return fail2("unknown option '%s'%s (canhgac report --help)", argv[optind - 1], "");
        }
    }
    if (optind < argc)
        return fail2("unexpected argument '%s'%s (canhgac report --help)", argv[optind], "");
    if (!from || !to)
        return fail2("--from DATE and --to DATE are needed%s%s", "", "");
    if (!cg_report_lang_ok(lang))
        return fail2("--lang: unknown language '%s' (en, vi)%s", lang, "");
    if (json) {
        const char *dot = out ? strrchr(out, '.') : NULL;
        if (out && !(dot && !strcasecmp(dot, ".json")))
            return fail2("--json writes JSON: -o %s is not a .json file%s", out, "");
        fmt = OUT_JSON;
    } else if (!out) {
        return fail2("-o FILE.pdf, -o FILE.html or --json is needed%s%s", "", "");
    } else {
        const char *dot = strrchr(out, '.');
        if (dot && !strcasecmp(dot, ".pdf"))
            fmt = OUT_PDF;
        else if (dot && (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm")))
            fmt = OUT_HTML;
        else if (dot && !strcasecmp(dot, ".json"))
            fmt = OUT_JSON;
        else
            return fail2("%s: unknown output type (.pdf, .html or .json)%s", out, "");
    }
    memset(&r, 0, sizeof r);
    snprintf(r.from, sizeof r.from, "%s", from);
    snprintf(r.to, sizeof r.to, "%s", to);
    if (cg_report_parse_time(from, 0, &r.since_us, err, sizeof err))
        return fail2("--from: %s%s", err, "");
    if (cg_report_parse_time(to, 1, &r.until_us, err, sizeof err))
        return fail2("--to: %s%s", err, "");
    if (r.until_us <= r.since_us)
        return fail2("the period ends before it starts (--to %s is before --from %s)", to, from);
    r.agency = agency;
    r.zone = zone;
    r.verified = verify;
    r.now_us = cg_cli_now_us();
    snprintf(r.store, sizeof r.store, "%s", dir);
    if (cp)
        snprintf(r.checkpoint, sizeof r.checkpoint, "%s", cp);
    tz_name(r.tz, sizeof r.tz);
    if (policy &&
        (code = cg_cli_policy_load("canhgac report: ", policy, stderr, &pol, NULL, NULL)) !=
            CG_EXIT_OK)
        return code;
    if (cg_store_open(&st, dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac report: %s\n", cg_store_error(NULL));
        cg_policy_destroy(pol);
        return CG_EXIT_INPUT;
    }
    if (days_of(&r)) {
        fprintf(stderr, "canhgac report: out of memory\n");
        code = CG_EXIT_FAIL;
        goto out;
    }
    if ((code = cg_report_gather(&r, st, pol, key)) != CG_EXIT_OK)
        goto out;
    if (fmt == OUT_JSON && !out) {
        code = cg_report_json(&r, stdout) || fflush(stdout) ? CG_EXIT_FAIL : CG_EXIT_OK;
        goto out;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
    int pages = 0;
    if (fmt == OUT_PDF) {
        if (cg_report_pdf(&r, lang, tmp, err, sizeof err, &pages)) {
            fprintf(stderr, "canhgac report: %s: %s\n", out, err);
            unlink(tmp);
            code = CG_EXIT_FAIL;
            goto out;
        }
    } else {
        FILE *f = fopen(tmp, "w");
        int bad = !f || (fmt == OUT_JSON ? cg_report_json(&r, f) : cg_report_html(&r, lang, f));
        if (f && fclose(f))
            bad = 1;
        if (bad) {
            fprintf(stderr, "canhgac report: %s: %s\n", out, strerror(errno ? errno : EIO));
            unlink(tmp);
            code = CG_EXIT_FAIL;
            goto out;
        }
    }
    if (rename(tmp, out)) {
        fprintf(stderr, "canhgac report: %s: %s\n", out, strerror(errno));
        unlink(tmp);
        code = CG_EXIT_FAIL;
        goto out;
    }
    if (fmt == OUT_PDF)
        fprintf(stderr, "canhgac report: %s: %llu incidents from %s to %s, %d pages\n", out,
                (unsigned long long)r.total, from, to, pages);
    else
        fprintf(stderr, "canhgac report: %s: %llu incidents from %s to %s\n", out,
                (unsigned long long)r.total, from, to);
out:
    cg_report_free(&r);
    cg_store_close(st);
    cg_policy_destroy(pol);
    return code;
}
