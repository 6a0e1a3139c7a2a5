/* canhgac.c — the `canhgac` command: dispatches to its subcommands.
 *
 * The commands that read the store (run, query, incident, store) end on a
 * damaged store with one line and exit 2, never a signal: a fault in the
 * store's map is store_guard.c's line, and a command that failed after the
 * store said "damaged" exits 2 whatever status it chose. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/output/pipeline.h"
#include "tools/cli.h"

static const char main_usage[] =
    "usage: canhgac COMMAND [options]\n"
    "\n"
    "canhgac keeps watch over a data center's traffic: it captures packets,\n"
    "detects attacks with Suricata-syntax rules (Hyperscan), and keeps incidents\n"
    "in an embedded LMDB store for the SOC to query.\n"
    "\n"
    "commands:\n"
    "  run          capture (-r FILE or -i IFACE), detect, store incidents, write EVE JSON\n"
    "  query        incidents matching an expression: table, --json, --csv, --count,\n"
    "               --top FIELD, --histogram hour|day, --pcap FILE (their evidence)\n"
    "  incident     show ID, set ID status=... assignee=... severity=..., note ID TEXT,\n"
    "               pcap ID... -o FILE (evidence packets as pcapng)\n"
    "  rules check  load rule files and report loaded, skipped and broken rules\n"
    "  ctl          a command to a running sensor: stats, reload, reopen, flows, version\n"
    "  store        check (every record), backup -o DIR (while run writes), restore -i DIR\n"
    "  keys         init (the SOC's Ed25519 signing key pair), show (its fingerprint)\n"
    "  case         new, add, note, set, list, show: cases of incidents; export a\n"
    "               signed case file, verify one\n"
    "  policy check  the layer policy (rules/layers.conf): one line per problem\n"
    "  escalate     the layer policy's time pass over a store (run --policy makes it\n"
    "               every minute)\n"
    "  outbox       the notifications of escalations still owed to notify targets;\n"
    "               --drain delivers them\n"
    "  share        the incidents sent to layer 4 (or a query's) as a STIX 2.1 bundle\n"
    "               for the national monitoring center, redacted by the policy\n"
    "  report       a period report for assessors (--from DATE --to DATE): PDF,\n"
    "               HTML or JSON, in Vietnamese or English (--lang vi|en)\n"
    "  serve        the web console: its pages and JSON API over the store (HTTPS,\n"
    "               sessions, roles, API tokens)\n"
    "  user         the web console's accounts: add, passwd, disable, enable, role,\n"
    "               list; API tokens (token, tokens, revoke); the audit trail\n"
    "  version      print the version\n"
    "\n"
    "`canhgac COMMAND --help` describes each command.\n"
    "\n"
    "environment: CANHGAC_STORE (the store), CANHGAC_CACHE (compiled rules),\n"
    "CANHGAC_GEOIP_CITY, CANHGAC_GEOIP_ASN, CANHGAC_ASSETS (enrichment),\n"
    "CANHGAC_POLICY (the layer policy of escalate, report and share)\n"
    "\n"
    "exit codes: 0 success; 1 failed while running (store full, disk error, rules\n"
    "with syntax errors); 2 bad input (usage, unreadable or malformed file, bad\n"
    "query, unknown incident, store that cannot be opened or is damaged, no rule\n"
    "loaded)\n";

/* A command that met a damaged store exits 2 (bad input: restore it). */
static int store_exit(int ret)
{
    return ret == CG_EXIT_FAIL && cg_store_damaged() ? CG_EXIT_INPUT : ret;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_usage, stderr);
        return CG_EXIT_INPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(main_usage, stdout);
        return CG_EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("canhgac %s\n", CG_VERSION);
        return CG_EXIT_OK;
    }
    static char prefix[32];
    if (!strcmp(cmd, "run") || !strcmp(cmd, "query") || !strcmp(cmd, "incident") ||
        !strcmp(cmd, "store") || !strcmp(cmd, "escalate") || !strcmp(cmd, "outbox") ||
        !strcmp(cmd, "share") || !strcmp(cmd, "report") || !strcmp(cmd, "user")) {
        snprintf(prefix, sizeof prefix, "canhgac %s", cmd);
        cg_store_fault_exit(prefix, STDERR_FILENO, CG_EXIT_INPUT, CG_EXIT_FAIL);
    }
    if (!strcmp(cmd, "run"))
        return store_exit(cg_cmd_run(argc - 1, argv + 1));
    if (!strcmp(cmd, "query"))
        return store_exit(cg_cmd_query(argc - 1, argv + 1));
    if (!strcmp(cmd, "incident"))
        return store_exit(cg_cmd_incident(argc - 1, argv + 1));
    if (!strcmp(cmd, "store"))
        return cg_cmd_store(argc - 1, argv + 1);
    if (!strcmp(cmd, "keys"))
        return cg_cmd_keys(argc - 1, argv + 1);
    if (!strcmp(cmd, "case"))
        return store_exit(cg_cmd_case(argc - 1, argv + 1));
    if (!strcmp(cmd, "rules"))
        return cg_cmd_rules(argc - 1, argv + 1);
    if (!strcmp(cmd, "ctl"))
        return cg_cmd_ctl(argc - 1, argv + 1);
    if (!strcmp(cmd, "policy"))
        return cg_cmd_policy(argc - 1, argv + 1);
    if (!strcmp(cmd, "escalate"))
        return store_exit(cg_cmd_escalate(argc - 1, argv + 1));
    if (!strcmp(cmd, "outbox"))
        return store_exit(cg_cmd_outbox(argc - 1, argv + 1));
    if (!strcmp(cmd, "share"))
        return store_exit(cg_cmd_share(argc - 1, argv + 1));
    if (!strcmp(cmd, "report"))
        return store_exit(cg_cmd_report(argc - 1, argv + 1));
    if (!strcmp(cmd, "serve"))
        return cg_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "user"))
        return store_exit(cg_cmd_user(argc - 1, argv + 1));
    fprintf(stderr, "canhgac: unknown command '%s'\n%s", cmd, main_usage);
    return CG_EXIT_INPUT;
}
