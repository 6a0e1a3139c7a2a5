/* cmd_policy.c — `canhgac policy check FILE`: the layer policy's checks
 * (analyzer/output/policy.h), one line per problem, as a compiler says them:
 *
 *   rules/layers.conf:12: unknown field 'sevrity' (fields: ...)
 *   rules/layers.conf:20: warning: this clause never matches: ...
 *
 * Exit 0 when the file loads (warnings allowed), 2 when it has an error or
 * cannot be read, 1 out of memory. cg_cli_policy_load is how run and escalate load
 * it, with the same lines.
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/output/policy.h"
#include "tools/cli.h"

static const char policy_usage[] =
    "usage: canhgac policy check FILE...\n"
    "\n"
    "Checks layer policy files (rules/layers.conf): prints one line per problem,\n"
    "\"FILE:LINE: why\": every error, or when there is none the warnings\n"
    "(\"FILE:LINE: warning: why\"): a clause that can never match (its conditions contradict\n"
    "each other, or an earlier clause takes every incident it would: the first\n"
    "clause that matches decides), a step to a layer the clause gives sooner.\n"
    "Errors: an unknown field, a bad value or duration, a layer that does not\n"
    "exist (the layers are 1 to 4), a line that is not a clause. A file with\n"
    "no error ends with the line \"FILE: N clauses, W warnings\", then one line per\n"
    "target, the identity, and what sharing allows.\n"
    "\n"
    "The format (README.md, \"Layers\"), one clause per line:\n"
    "  when CONDITION and ... : layers N N; after DURATION layer N; after DURATION remind\n"
    "  when severity = high and dst.zone = DMZ: layers 1 2 3; after 15m remind\n"
    "\n"
    "options:\n"
    "  -h, --help   this help\n"
    "\n"
    "exit codes: 0 every file loads (warnings allowed); 1 out of memory; 2 an\n"
    "error in a file, a file that cannot be read, usage\n";

typedef struct diag_ctx {
    FILE *f;
    const char *prog; /* "canhgac run: " or "" */
    const char *path;
    unsigned nerr, nwarn;
} diag_ctx;

static void on_diag(int warning, unsigned line, const char *msg, void *arg)
{
    diag_ctx *d = arg;
    if (warning)
        d->nwarn++;
    else
        d->nerr++;
    if (line)
        fprintf(d->f, "%s%s:%u: %s%s\n", d->prog, d->path, line, warning ? "warning: " : "", msg);
    else
        fprintf(d->f, "%s%s: %s%s\n", d->prog, d->path, warning ? "warning: " : "", msg);
}

int cg_cli_policy_load(const char *prog, const char *path, FILE *f, cg_policy **out, unsigned *nerr,
                       unsigned *nwarn)
{
    diag_ctx d = { .f = f, .prog = prog ? prog : "", .path = path };
    int rc = cg_policy_load(out, path, on_diag, &d);

    if (nerr)
        *nerr = d.nerr;
    if (nwarn)
        *nwarn = d.nwarn;
    if (rc == CG_ENOMEM) {
        fprintf(f, "%s%s: out of memory\n", d.prog, path);
        return CG_EXIT_FAIL;
    }
    return rc ? CG_EXIT_INPUT : CG_EXIT_OK;
}

/* A duration as the file would say it: 1h30m, 15m, 3d. */
static void fmt_dur(uint32_t s, char *buf, size_t len)
{
    static const struct {
        uint32_t n;
        char u;
    } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
    size_t off = 0;

    buf[0] = 0;
    for (size_t i = 0; i < 4 && s && off < len; i++)
        if (s >= units[i].n) {
            off += (size_t)snprintf(buf + off, len - off, "%u%c", s / units[i].n, units[i].u);
            s %= units[i].n;
        }
}

/* The directives, one indented line each: what reports and share will use. */
static void print_directives(const cg_policy *p)
{
    static const char *const sev[] = { "high", "medium", "low", "info" };
    unsigned allow = cg_policy_share_allow(p);

    for (uint8_t i = 1; i <= 4; i++) {
        uint32_t ack = 0, res = 0;
        char a[32], r[32];
        if (!cg_policy_target(p, i, &ack, &res))
            continue;
        fmt_dur(ack, a, sizeof a);
        fmt_dur(res, r, sizeof r);
        printf("  target %s: acknowledge %s, resolve %s (line %u)\n", sev[i - 1], ack ? a : "-",
               res ? r : "-", cg_policy_target_line(p, i));
    }
    if (cg_policy_identity(p))
        printf("  identity: %s\n", cg_policy_identity(p));
    char what[80] = "";
    static const char *const names[] = { "internal-addresses", "agency-names", "payloads" };
    for (unsigned b = 0; b < 3; b++)
        if (allow & (1u << b)) {
            size_t n = strlen(what);
            snprintf(what + n, sizeof what - n, "%s%s", n ? ", " : "", names[b]);
        }
    printf("  share: tlp %s; allows %s\n", cg_policy_tlp(p) ? cg_policy_tlp(p) : "(none)",
           allow ? what : "nothing internal");
}

int cg_cmd_policy(int argc, char **argv)
{
    int ret = CG_EXIT_OK, nfiles = 0;

    if (argc < 2) {
        fputs(policy_usage, stderr);
        return CG_EXIT_INPUT;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(policy_usage, stdout);
        return CG_EXIT_OK;
    }
    if (strcmp(argv[1], "check")) {
        fprintf(stderr, "canhgac policy: unknown subcommand '%s' (check)\n", argv[1]);
        return CG_EXIT_INPUT;
    }
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(policy_usage, stdout);
            return CG_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "canhgac policy check: unknown option %s\n", argv[i]);
            return CG_EXIT_INPUT;
        }
    }
    for (int i = 2; i < argc; i++) {
        cg_policy *p = NULL;
        unsigned nerr = 0, nwarn = 0;
        int rc = cg_cli_policy_load(NULL, argv[i], stdout, &p, &nerr, &nwarn);
        nfiles++;
        if (rc == CG_EXIT_OK) {
            printf("%s: %zu clause%s, %u warning%s\n", argv[i], cg_policy_nclauses(p),
                   cg_policy_nclauses(p) == 1 ? "" : "s", nwarn, nwarn == 1 ? "" : "s");
            print_directives(p);
        } else if (nerr > 1)
            fprintf(stderr, "canhgac policy check: %s: %u errors\n", argv[i], nerr);
        cg_policy_destroy(p);
        if (rc > ret)
            ret = rc;
    }
    if (!nfiles) {
        fprintf(stderr, "canhgac policy check: a FILE is needed (canhgac policy --help)\n");
        return CG_EXIT_INPUT;
    }
    return ret;
}
