/* cmd_share.c — `canhgac share`: the incidents the layer policy sent to
 * layer 4 (the national monitoring center), or those of a query, as one
 * STIX 2.1 bundle (tools/stix_bundle.h builds its objects), internal
 * details redacted as the policy's `share allow` lines say, each share
 * appended to the incidents' history (store.h, cg_store_shared).
 *
 * Invariants:
 *  1. The file is written under a temporary name in its directory, synced,
 *     the share appended to each incident's history, then renamed into
 *     place: a bundle whose share the history does not hold is never left
 *     behind (a failed or killed share leaves no half file).
 *  2. Nothing to share writes no file (a STIX bundle with no objects is
 *     not one the validators accept) and exits 0.
 *  3. An incident whose history holds a share is left out unless --again.
 *  4. The store is opened read-only first (a writer handle would create a
 *     missing store); then as its writer (history in transactions of
 *     PASS_CHUNK entries), or, while a sensor holds it, as triage (one
 *     transaction per incident).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/output/policy.h"
#include "store/qlang.h"
#include "tools/cli.h"
#include "tools/stix.h"
#include "tools/stix_bundle.h"

#define PASS_CHUNK 10000 /* history entries per transaction on a writer handle */
static const char share_usage[] =
    "usage: canhgac share [-d DIR] [--since TIME] [--query EXPR] [--tlp NAME]\n"
    "                     [--identity NAME] [--policy FILE] [--again] [--dry-run]\n"
    "                     [--as NAME] -o FILE.json\n"
    "\n"
    "Writes the incidents the layer policy sent to layer 4 (the national\n"
    "monitoring center) as one STIX 2.1 bundle: the SOC's identity, the TLP 2.0\n"
    "marking, and per incident an incident (with the OASIS incident core\n"
    "extension and canhgac's own: severity, layers, gid/sid/rev, classtype,\n"
    "Community ID, status, count), observed-data over its addresses, domains,\n"
    "URL and network traffic (SCO ids per STIX 2.1 section 2.9), indicators for\n"
    "the external addresses, the domains (dns.query; http.host and tls.sni of\n"
    "an external server) and the URL, one sighting per indicator, and\n"
    "relationships. Each shared incident's history gets \"shared in\n"
    "bundle--UUID (TLP:AMBER) to FILE\"; an incident shared before is not shared\n"
    "again unless --again. Nothing to share: says so, writes no file, exit 0.\n"
    "\n"
    "Redaction (the policy's `share allow` lines): internal addresses (the asset\n"
    "file's, RFC 1918/4193, loopback, link-local), agency and zone names, and\n"
    "payloads (URLs, user agents, payload bytes) leave only when allowed; the\n"
    "canhgac extension of each incident lists what was withheld.\n"
    "\n"
    "options:\n"
    "  -d, --store DIR     the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "  -o, --output FILE   the bundle (written under a temporary name, then\n"
    "                      renamed); - for stdout\n"
    "      --since TIME    only incidents first seen since TIME (7d, 24h,\n"
    "                      2026-12-01, @EPOCH)\n"
    "  -q, --query EXPR    the incidents of a query (canhgac query's language)\n"
    "                      instead of those at layer 4 (\"layer = 4\")\n"
    "      --tlp NAME      clear, green, amber, amber+strict, red (default: the\n"
    "                      policy's `share tlp`, else amber)\n"
    "      --identity NAME the SOC's name (default: the policy's `identity`)\n"
    "  -p, --policy FILE   the layer policy (default $CANHGAC_POLICY, else\n"
    "                      rules/layers.conf)\n"
    "      --again         share incidents shared before too\n"
    "      --dry-run       say what would be shared; write and record nothing\n"
    "      --as NAME       who shares, in the history (default: the login name)\n"
    "  -h, --help          this help\n"
    "\n"
    "output: one line, \"shared N incidents in bundle--UUID (TLP:AMBER) to FILE:\n"
    "I indicators, S sightings, O observed-data, R relationships, C observables;\n"
    "withheld: ...\" (on stderr with -o -)\n"
    "\n"
    "exit codes: 0 done (also when nothing was to share); 1 failed while running\n"
    "(disk full, store error); 2 bad input (usage, an unknown TLP, a policy with\n"
    "an error, no identity, a query that does not parse, a store that cannot be\n"
    "opened)\n";

/* ---- the command ------------------------------------------------------------- */

static int has_share(const cg_history *h, void *arg)
{
    if (h->kind == CG_HIST_SHARE) {
        *(int *)arg = 1;
        return 1;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void withheld_text(unsigned allow, char *out, size_t len)
{
    snprintf(out, len, "%s%s%s%s", !(allow & CG_SHARE_INTERNAL) ? "internal addresses, " : "",
             !(allow & CG_SHARE_AGENCY) ? "agency names, " : "",
             !(allow & CG_SHARE_PAYLOAD) ? "payloads, " : "",
             allow == (CG_SHARE_INTERNAL | CG_SHARE_AGENCY | CG_SHARE_PAYLOAD) ? "nothing" : "");
    size_t n = strlen(out);
    if (n >= 2 && out[n - 2] == ',')
        out[n - 2] = 0;
}

static int fsync_dir(const char *path)
{
    char *d = strdup(path);
    int fd, rc = -1;
    if (!d)
        return -1;
    fd = open(dirname(d), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        rc = fsync(fd);
        close(fd);
    }
    free(d);
    return rc;
}

int cg_cmd_share(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "store", required_argument, 0, 'd' },  { "output", required_argument, 0, 'o' },
        { "since", required_argument, 0, 's' },  { "query", required_argument, 0, 'q' },
        { "tlp", required_argument, 0, 't' },    { "identity", required_argument, 0, 'i' },
        { "policy", required_argument, 0, 'p' }, { "again", no_argument, 0, 'a' },
        { "dry-run", no_argument, 0, 'n' },      { "as", required_argument, 0, 'A' },
        { "help", no_argument, 0, 'h' },         { 0, 0, 0, 0 }
    };
    const char *dir = cg_cli_default_store(), *path = getenv("CANHGAC_POLICY");
    const char *out = NULL, *since = NULL, *query = NULL, *tlp_s = NULL, *ident = NULL;
    const char *as = NULL, *who, *identity;
    char whobuf[64], *expr = NULL, *tmp = NULL, bundle[80], u[CG_STIX_UUID_LEN], text[1100];
    char withheld[80];
    int again = 0, dry = 0, c, ret = CG_EXIT_OK, tlp, writer = 0, rc, fd = -1;
    uint64_t *ids = NULL, since_us, nmatch = 0;
    size_t n = 0, nshare = 0;
    cg_policy *p = NULL;
    cg_store *st = NULL;
    cg_stix_bundle s;
    FILE *sum = stdout;

    memset(&s, 0, sizeof s);
    if (!path || !*path)
        path = "rules/layers.conf";
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:o:q:p:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'o': out = optarg; break;
        case 's': since = optarg; break;
        case 'q': query = optarg; break;
        case 't': tlp_s = optarg; break;
        case 'i': ident = optarg; break;
        case 'p': path = optarg; break;
        case 'a': again = 1; break;
        case 'n': dry = 1; break;
        case 'A': as = optarg; break;
        case 'h': fputs(share_usage, stdout); return CG_EXIT_OK;
        default: fputs(share_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "canhgac share: unexpected argument: %s\n", argv[optind]);
        return CG_EXIT_INPUT;
    }
    if (!out && !dry) {
        fprintf(stderr, "canhgac share: -o FILE is needed (- for stdout)\n");
        return CG_EXIT_INPUT;
    }
    if (tlp_s && cg_stix_tlp_find(tlp_s) < 0) {
        fprintf(stderr,
                "canhgac share: --tlp: unknown TLP '%s' (clear, green, amber, amber+strict, "
                "red)\n",
                tlp_s);
        return CG_EXIT_INPUT;
    }
    if (since &&
        (cg_qlang_time(since, cg_cli_now_us(), &since_us) ||
         strspn(since, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:@.+-") !=
             strlen(since))) {
        fprintf(stderr, "canhgac share: --since: not a time: %s (7d, 24h, 2026-12-01, @EPOCH)\n",
                since);
        return CG_EXIT_INPUT;
    }
    if (ident && (!ident[0] || strlen(ident) > 1024)) {
        fprintf(stderr, "canhgac share: --identity: a name of 1 to 1024 bytes\n");
        return CG_EXIT_INPUT;
    }
    if (as && (!as[0] || strlen(as) > CG_STORE_TEXT_MAX)) {
        fprintf(stderr, "canhgac share: --as: a name of 1 to %u bytes\n", CG_STORE_TEXT_MAX);
        return CG_EXIT_INPUT;
    }
    who = cg_cli_who(as, whobuf, sizeof whobuf);
    ret = cg_cli_policy_load("canhgac share: ", path, stderr, &p, NULL, NULL);
    if (ret != CG_EXIT_OK)
        return ret;
    identity = ident ? ident : cg_policy_identity(p);
    if (!identity || !identity[0]) {
        fprintf(stderr,
                "canhgac share: no identity: name the SOC with --identity or an identity line "
                "in %s\n",
                path);
        ret = CG_EXIT_INPUT;
        goto out;
    }
    tlp = cg_stix_tlp_find(tlp_s ? tlp_s : cg_policy_tlp(p) ? cg_policy_tlp(p) : "amber");
    if (tlp < 0)
        tlp = cg_stix_tlp_find("amber");
    if (cg_stix_bundle_init(&s, NULL, identity, tlp, cg_policy_share_allow(p), cg_cli_now_us())) {
        ret = CG_EXIT_FAIL;
        goto oom;
    }
    withheld_text(s.allow, withheld, sizeof withheld);

    /* the store: read-only first (a writer handle would create a missing one) */
    if (cg_store_open(&st, dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac share: %s\n", cg_store_error(NULL));
        ret = CG_EXIT_INPUT;
        goto out;
    }
    if (!dry) {
        cg_store_close(st);
        st = NULL;
        writer = 1;
        rc = cg_store_open(&st, dir, 0, 0);
        if (rc == CG_EBUSY) {
            writer = 0;
            rc = cg_store_open(&st, dir, CG_STORE_TRIAGE, 0);
        }
        if (rc) {
            fprintf(stderr, "canhgac share: %s\n", cg_store_error(NULL));
            ret = rc == CG_EFULL || rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT;
            goto out;
        }
        cg_cli_migrated_notice("canhgac share", dir, st);
    }

    /* the incidents */
    {
        const char *base = query ? query : "layer = 4";
        size_t l = strlen(base) + (since ? strlen(since) : 0) + 32;
        if (!(expr = malloc(l))) {
            ret = CG_EXIT_FAIL;
            goto oom;
        }
        if (since)
            snprintf(expr, l, "(%s) and since %s", base, since);
        else
            snprintf(expr, l, "%s", base);
    }
    if ((ret = cg_cli_query_ids(st, "canhgac share", expr, &ids, &n)) != CG_EXIT_OK)
        goto out;
    nmatch = n;
    if (n)
        qsort(ids, n, sizeof *ids, cmp_u64);
    for (size_t i = 0; i < n; i++) {
        int shared = 0;
        if (!again && (rc = cg_store_history(st, ids[i], has_share, &shared)) != 0) {
            fprintf(stderr, "canhgac share: %s\n", cg_store_error(st));
            ret = CG_EXIT_FAIL;
            goto out;
        }
        if (!shared)
            ids[nshare++] = ids[i];
    }
    if (nshare == 0) {
        fprintf(out && !strcmp(out, "-") ? stderr : stdout,
                "nothing to share: %llu incident%s matched%s; no bundle written\n",
                (unsigned long long)nmatch, nmatch == 1 ? "" : "s",
                nmatch ? ", every one shared before (--again shares them again)" : "");
        goto out;
    }

    /* the bundle */
    if (cg_stix_uuid4(u)) {
        fprintf(stderr, "canhgac share: no random bytes for the bundle's id\n");
        ret = CG_EXIT_FAIL;
        goto out;
    }
    snprintf(bundle, sizeof bundle, "bundle--%s", u);
    if (dry) {
        s.f = fopen("/dev/null", "w");
    } else if (!strcmp(out, "-")) {
        s.f = stdout;
        sum = stderr;
    } else {
        size_t l = strlen(out) + 16;
        char *slash, *d;
        if (!(tmp = malloc(l)) || !(d = strdup(out))) {
            ret = CG_EXIT_FAIL;
            goto oom;
        }
        slash = strrchr(d, '/');
        if (slash)
            snprintf(tmp, l, "%.*s/.%s.XXXXXX", (int)(slash - d), d, slash + 1);
        else
            snprintf(tmp, l, ".%s.XXXXXX", d);
        free(d);
        fd = mkstemp(tmp);
        if (fd < 0 || fchmod(fd, 0640) != 0 || !(s.f = fdopen(fd, "w"))) {
            fprintf(stderr, "canhgac share: %s: %s\n", out, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            free(tmp);
            tmp = NULL;
            ret = CG_EXIT_INPUT;
            goto out;
        }
    }
    if (!s.f) {
        fprintf(stderr, "canhgac share: /dev/null: %s\n", strerror(errno));
        ret = CG_EXIT_FAIL;
        goto out;
    }
    cg_stix_bundle_head(&s, bundle);
    for (size_t i = 0; i < nshare && !s.err; i++) {
        rc = cg_store_get(st, ids[i], cg_stix_bundle_incident, &s);
        if (rc && !s.err) {
            fprintf(stderr, "canhgac share: %s\n", cg_store_error(st));
            ret = CG_EXIT_FAIL;
            goto drop;
        }
    }
    cg_stix_bundle_tail(&s);
    if (s.err || fflush(s.f) != 0 || ferror(s.f) ||
        (s.f != stdout && !dry && fsync(fileno(s.f)) != 0)) {
        fprintf(stderr, "canhgac share: %s: %s\n", strcmp(out ? out : "-", "-") ? out : "stdout",
                strerror(s.err       ? s.err
                             : errno ? errno
                                     : EIO));
        ret = CG_EXIT_FAIL;
        goto drop;
    }
    if (s.f != stdout) {
        FILE *f = s.f;
        s.f = NULL;
        if (fclose(f) != 0) {
            fprintf(stderr, "canhgac share: %s: %s\n", out ? out : "-", strerror(errno));
            ret = CG_EXIT_FAIL;
            goto drop;
        }
    }

    /* the history, then the rename (invariant 3) */
    if (!dry) {
        snprintf(text, sizeof text, "shared in %s (%s) to %.900s", bundle, cg_stix_tlp_label(tlp),
                 strcmp(out, "-") ? out : "stdout");
        rc = writer ? cg_store_begin(st) : 0;
        for (size_t i = 0; i < nshare && !rc; i++) {
            rc = cg_store_shared(st, ids[i], text, who, s.now_us);
            if (!rc && writer && (i + 1) % PASS_CHUNK == 0 && i + 1 < nshare) {
                rc = cg_store_commit(st);
                if (!rc)
                    rc = cg_store_begin(st);
            }
        }
        if (writer && !rc)
            rc = cg_store_commit(st);
        else if (writer)
            cg_store_abort(st);
        if (rc) {
            fprintf(stderr, "canhgac share: %s (the history cannot take the share: %s)\n",
                    rc == CG_ENOMEM ? "out of memory" : cg_store_error(st),
                    tmp ? "no bundle written" : "the bundle on stdout is not recorded");
            ret = CG_EXIT_FAIL;
            goto drop;
        }
        if (tmp) {
            if (rename(tmp, out) != 0) {
                fprintf(stderr, "canhgac share: %s: %s (the history records the share)\n", out,
                        strerror(errno));
                ret = CG_EXIT_FAIL;
                goto drop;
            }
            free(tmp);
            tmp = NULL;
            fsync_dir(out);
        }
    }
    fprintf(sum,
            "%s %llu incident%s in %s (%s)%s%s: %llu indicators, %llu sightings, %llu "
            "observed-data, %llu relationships, %llu observables; withheld: %s\n",
            dry ? "would share" : "shared", (unsigned long long)s.incidents,
            s.incidents == 1 ? "" : "s", dry ? "a bundle" : bundle, cg_stix_tlp_label(tlp),
            dry ? "" : " to ",
            dry                    ? ""
                : strcmp(out, "-") ? out
                                   : "stdout",
            (unsigned long long)s.indicators, (unsigned long long)s.sightings,
            (unsigned long long)s.observed, (unsigned long long)s.relationships,
            (unsigned long long)s.scos, withheld);
    goto out;
oom:
    fprintf(stderr, "canhgac share: out of memory\n");
    goto out;
drop:
    if (s.f && s.f != stdout)
        fclose(s.f);
    s.f = NULL;
out:
    if (s.f && s.f != stdout)
        fclose(s.f);
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(expr);
    free(ids);
    cg_stix_bundle_free(&s);
    cg_store_close(st);
    cg_policy_destroy(p);
    return ret;
}
