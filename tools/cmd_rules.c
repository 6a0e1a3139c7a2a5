/* cmd_rules.c — `canhgac rules check`: load rule files the way `run` does and
 * report what loads, what is skipped (by keyword) and the syntax errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/engine/detect.h"
#include "analyzer/lang/rule.h"
#include "tools/cli.h"

static const char rules_usage[] =
    "usage: canhgac rules check [options] PATH...\n"
    "\n"
    "Loads .rules files (or directories of them) and reports, per file, the rules\n"
    "loaded, skipped (a keyword this engine does not evaluate) and in error; a\n"
    "table of skipped rules by keyword; and each syntax error as file:line:column.\n"
    "\n"
    "  --vars FILE            variables file; its values win over a directory's vars.conf\n"
    "  --set NAME=VALUE       one variable, winning over every file (repeatable)\n"
    "  --classification FILE  classification.config, loaded first\n"
    "  --compile              also build the detection engine and report it\n"
    "  --cache DIR            with --compile: take the engine from the compiled-rules\n"
    "                         cache, or compile it and put it there (as run does)\n"
    "  -v, --verbose          list every skipped rule (file:line sid keyword)\n"
    "  -h, --help             this help\n"
    "\n"
    "exit: 0 every rule loaded or was skipped for an unsupported keyword;\n"
    "      1 some rules have syntax errors or duplicate sids; 2 a path cannot be\n"
    "      read, or no rule loaded at all\n";

typedef struct kwcount {
    const char *kw;
    uint32_t n;
} kwcount;

static int by_count(const void *a, const void *b)
{
    const kwcount *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->kw, y->kw);
}

int cg_cmd_rules(int argc, char **argv)
{
    static const struct option opts[] = {
        { "vars", required_argument, 0, 'V' }, { "classification", required_argument, 0, 'C' },
        { "set", required_argument, 0, 's' },  { "compile", no_argument, 0, 'c' },
        { "verbose", no_argument, 0, 'v' },    { "cache", required_argument, 0, 'K' },
        { "help", no_argument, 0, 'h' },       { 0, 0, 0, 0 }
    };
    const char *vars = NULL, *classif = NULL, *sets[64], *cache = NULL;
    int nsets = 0;
    int verbose = 0, compile = 0, c, ret = CG_EXIT_INPUT;
    char err[1024];

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(rules_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CG_EXIT_INPUT : CG_EXIT_OK;
    }
    if (strcmp(argv[1], "check")) {
        fprintf(stderr, "canhgac rules: unknown action '%s'\n%s", argv[1], rules_usage);
        return CG_EXIT_INPUT;
    }
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'V': vars = optarg; break;
        case 's':
            if (nsets == 64) {
                fprintf(stderr, "canhgac rules check: too many --set (64 at most)\n");
                return CG_EXIT_INPUT;
            }
            sets[nsets++] = optarg;
            break;
        case 'C': classif = optarg; break;
        case 'c': compile = 1; break;
        case 'K': cache = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': fputs(rules_usage, stdout); return CG_EXIT_OK;
        default: fputs(rules_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "canhgac rules check: give at least one rules file or directory\n");
        return CG_EXIT_INPUT;
    }

    cg_ruleset *rs = NULL;
    kwcount *kws = NULL;
    cg_detect *det = NULL;
    if (cg_ruleset_create(&rs)) {
        fprintf(stderr, "canhgac rules check: out of memory\n");
        ret = CG_EXIT_FAIL;
        goto out;
    }
    int lrc = cg_cli_load_rules(rs, vars, sets, nsets, classif, (const char *const *)argv + optind,
                                argc - optind, err, sizeof err);
    if (lrc) {
        fprintf(stderr, "canhgac rules check: %s\n", err);
        if (lrc == CG_ENOMEM)
            ret = CG_EXIT_FAIL;
        goto out;
    }

    uint32_t nf, ni, nr;
    const cg_rulefile *files = cg_ruleset_files(rs, &nf);
    const cg_rule_issue *iss = cg_ruleset_issues(rs, &ni);
    cg_ruleset_rules(rs, &nr);

    uint64_t tl = 0, ts = 0, te = 0, td = 0;
    printf("%-60s %8s %8s %8s %8s\n", "FILE", "LOADED", "SKIPPED", "ERRORS", "DISABLED");
    for (uint32_t i = 0; i < nf; i++) {
        printf("%-60s %8u %8u %8u %8u\n", files[i].path, files[i].loaded, files[i].skipped,
               files[i].errors, files[i].disabled);
        tl += files[i].loaded;
        ts += files[i].skipped;
        te += files[i].errors;
        td += files[i].disabled;
    }
    uint64_t total = tl + ts + te;
    printf("%-60s %8llu %8llu %8llu %8llu\n", "TOTAL", (unsigned long long)tl,
           (unsigned long long)ts, (unsigned long long)te, (unsigned long long)td);
    printf("\n%llu of %llu enabled rules load (%.1f%%); %llu skipped, %llu in error\n",
           (unsigned long long)tl, (unsigned long long)total, total ? 100.0 * tl / total : 0.0,
           (unsigned long long)ts, (unsigned long long)te);
    if (cg_ruleset_flowbits(rs) > 0)
        printf("%u flowbit names (at most %d)\n", cg_ruleset_flowbits(rs), CG_FLOWBITS_MAX);

    /* skipped rules by keyword */
    uint32_t nk = 0;
    kws = calloc(ni ? ni : 1, sizeof *kws);
    if (!kws)
        goto out;
    for (uint32_t i = 0; i < ni; i++) {
        if (iss[i].kind != CG_ISSUE_UNSUPPORTED)
            continue;
        const char *kw = iss[i].keyword ? iss[i].keyword : "?";
        uint32_t k;
        for (k = 0; k < nk; k++)
            if (!strcmp(kws[k].kw, kw))
                break;
        if (k == nk)
            kws[nk++] = (kwcount){ kw, 0 };
        kws[k].n++;
    }
    if (nk > 0) {
        qsort(kws, nk, sizeof *kws, by_count);
        printf("\nskipped rules by keyword (the first keyword this engine does not evaluate):\n");
        printf("  %-32s %8s\n", "KEYWORD", "RULES");
        for (uint32_t k = 0; k < nk; k++)
            printf("  %-32s %8u\n", kws[k].kw, kws[k].n);
    }
    cg_undef_var uv[32];
    uint32_t nuv = cg_ruleset_undefined_vars(rs, uv, 32);
    if (nuv > 0) {
        printf("\nrules dropped for an undefined variable (define it in vars.conf, --vars or "
               "--set):\n");
        printf("  %-32s %8s\n", "VARIABLE", "RULES");
        for (uint32_t k = 0; k < nuv && k < 32; k++)
            printf("  $%-31s %8u\n", uv[k].name, uv[k].rules);
    }
    if (te > 0) {
        printf("\nerrors:\n");
        for (uint32_t i = 0; i < ni; i++)
            if (iss[i].kind != CG_ISSUE_UNSUPPORTED)
                printf("%s:%u:%u: %s\n", iss[i].file, iss[i].line, iss[i].col,
                       iss[i].why ? iss[i].why : "error");
    }
    if (verbose && ts > 0) {
        printf("\nskipped:\n");
        for (uint32_t i = 0; i < ni; i++)
            if (iss[i].kind == CG_ISSUE_UNSUPPORTED)
                printf("%s:%u: sid %u: %s\n", iss[i].file, iss[i].line, iss[i].sid,
                       iss[i].why ? iss[i].why : iss[i].keyword);
    }
    if (compile && nr > 0) {
        cg_detect_info di;
        if (cg_detect_build(&det, rs, cache, err, sizeof err)) {
            fprintf(stderr, "canhgac rules check: %s\n", err);
            ret = CG_EXIT_FAIL;
            goto out;
        }
        cg_detect_get_info(det, &di);
        printf("\nengine: %u rules, %u prefiltered, %u by address, %u always checked, %u databases "
               "(%.1f MiB), %u port groups, compiled in %.2f s\n",
               di.rules, di.prefiltered, di.addr_indexed, di.always, di.databases,
               di.db_bytes / 1048576.0, di.port_groups, di.build_seconds);
        printf("patterns %u; a packet is scanned for those of its address class (inside: "
               "the address set most rules name): inside->inside %u, outside->inside %u, "
               "inside->outside %u, outside->outside %u\n",
               di.patterns, di.class_patterns[0], di.class_patterns[1], di.class_patterns[2],
               di.class_patterns[3]);
    }
    if (nr == 0) {
        fprintf(stderr, "canhgac rules check: no rule loaded\n");
        ret = CG_EXIT_INPUT;
    } else {
        ret = te > 0 ? CG_EXIT_FAIL : CG_EXIT_OK;
    }
out:
    free(kws);
    cg_detect_destroy(det);
    cg_ruleset_destroy(rs);
    return ret;
}
