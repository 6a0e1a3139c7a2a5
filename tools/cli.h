/* cli.h — what the canhgac subcommands share: exit codes, defaults, and the
 * way an incident is printed (JSON object, CSV row), so that `query` and
 * `incident show` say the same thing with the same names.
 *
 * Exit codes (documented in README and `canhgac --help`):
 *   0  success
 *   1  the work failed while running (store full, disk error, rules check
 *      found syntax errors)
 *   2  bad input: usage, a missing or malformed file, a store that cannot be
 *      opened, a rule set with no loadable rule, a query that does not parse,
 *      an incident that does not exist
 *
 * Times, durations and CIDRs on the command line are parsed by the query
 * language's helpers (store/qlang.h), so a value means the same in an option
 * and in an expression.
 */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "store/qlang.h"
#include "store/store.h"

enum { CG_EXIT_OK = 0, CG_EXIT_FAIL = 1, CG_EXIT_INPUT = 2 };

int cg_cmd_run(int argc, char **argv);
int cg_cmd_query(int argc, char **argv);
int cg_cmd_rules(int argc, char **argv);
int cg_cmd_incident(int argc, char **argv);
int cg_cmd_ctl(int argc, char **argv);
int cg_cmd_store(int argc, char **argv);
/* cmd_log.c: store checkpoint and store verify (exit codes) */
int cg_store_cmd_checkpoint(const char *dir, const char *out, const char *keyfile, int force);
int cg_store_cmd_verify(const char *dir, const char *checkpoint, const char *keyfile);
int cg_cmd_keys(int argc, char **argv);
int cg_cmd_case(int argc, char **argv);
int cg_cmd_policy(int argc, char **argv);
int cg_cmd_escalate(int argc, char **argv);
int cg_cmd_outbox(int argc, char **argv);
int cg_cmd_share(int argc, char **argv);
int cg_cmd_report(int argc, char **argv);
int cg_cmd_serve(int argc, char **argv);
int cg_cmd_user(int argc, char **argv);

/* Loads the layer policy at path (cmd_policy.c), each problem one line on f:
 * "PROGPATH:LINE: why" or "PROGPATH:LINE: warning: why" (prog NULL: none).
 * CG_EXIT_OK and *out; CG_EXIT_INPUT for an error in the file or one that
 * cannot be read; CG_EXIT_FAIL out of memory. *nerr, *nwarn: the counts
 * (NULL allowed). */
typedef struct cg_policy cg_policy;
int cg_cli_policy_load(const char *prog, const char *path, FILE *f, cg_policy **out, unsigned *nerr,
                       unsigned *nwarn);
/* case export and case verify (tools/cmd_case_export.c, cmd_case_verify.c),
 * called by cg_cmd_case with argv[0] "export" / "verify": exit codes. */
int cg_case_cmd_export(int argc, char **argv);
int cg_case_cmd_verify(int argc, char **argv);

/* The ids of the incidents the query expression text matches, newest
 * first, into *ids (free it) and *n: CG_EXIT_OK; CG_EXIT_INPUT for an
 * expression that does not parse (the caret and reason printed, prog
 * first); CG_EXIT_FAIL for a store failure or no memory (printed). */
int cg_cli_query_ids(cg_store *st, const char *prog, const char *text, uint64_t **ids, size_t *n);
/* A query expression made ready for cg_store_query: the store's filters in
 * q, and the expression itself as q's predicate when the filters are not all
 * of it. q.community_id may point into hints, so a cg_cli_q is not copied
 * while q is in use. cg_cli_q_parse: 0; -1 for an expression that does not
 * parse, err its one line ("column N: why", N in bytes) and *col the
 * 1-based column in characters (UTF-8). An empty text matches everything.
 * cg_cli_q_free releases the expression (NULL allowed). */
typedef struct cg_cli_q {
    cg_query q;
    cg_qhints hints;
    cg_qexpr *expr;
} cg_cli_q;
int cg_cli_q_parse(cg_cli_q *cq, const char *text, uint64_t now_us, char *err, size_t errlen,
                   int *col);
void cg_cli_q_free(cg_cli_q *cq);
/* `incident show ID --json` for id on f, newline included: 0, or the
 * store's code (CG_ENOTFOUND for no such incident); f may then hold part. */
int cg_cli_incident_show_json(cg_store *st, uint64_t id, FILE *f);
/* Who makes a change: as when given, else the login name of the effective
 * user, else "uid N" (written into buf). */
const char *cg_cli_who(const char *as, char *buf, size_t len);
/* The default store directory: $CANHGAC_STORE, else "./canhgac-store". */
const char *cg_cli_default_store(void);
/* When opening st migrated the store in dir, one line on stderr saying so:
 * "PROG: notice: DIR: migrated from schema 3 to 4 (...)". */
void cg_cli_migrated_notice(const char *prog, const char *dir, cg_store *st);
/* The default cache directory: $CANHGAC_CACHE, else $XDG_CACHE_HOME/canhgac,
 * else $HOME/.cache/canhgac, else NULL. Written into buf. */
const char *cg_cli_default_cache(char *buf, unsigned len);
uint64_t cg_cli_now_us(void);

/* Loads rules as `run` and `rules check` do (cli_rules.c): --vars FILE and
 * each --set pinned first, then the classification file and the rule paths.
 * 0, or -1 with a one-line message in err (CG_ENOMEM when out of memory). */
struct cg_ruleset;
int cg_cli_load_rules(struct cg_ruleset *rs, const char *vars, const char *const *sets, int nsets,
                      const char *classif, const char *const *paths, int npaths, char *err,
                      size_t errlen);
/* "; undefined variables: $X (3 rules), $Y (1 rule)" for the rules dropped
 * for an undefined variable, "" when none. */
void cg_cli_undefined_vars(const struct cg_ruleset *rs, char *out, size_t len);

/* s as a JSON string, quotes included: control characters escaped, bytes
 * that are not valid UTF-8 written as U+FFFD, so the line always parses. */
void cg_cli_json_str(FILE *f, const char *s);
/* s as one CSV field (RFC 4180: quoted when it holds , " CR or LF), then
 * ',' or, for the last field, '\n'. */
void cg_cli_csv_field(FILE *f, const char *s, int last);

/* An incident as one JSON object, no newline: the EVE-style names of README
 * "Incidents" (incident_id, first_seen, ..., src_geo, dest_geo, ...). */
void cg_cli_incident_json(FILE *f, const cg_incident *inc);
/* p[0..n) as base64 (RFC 4648, padded), no newline. */
void cg_cli_base64(FILE *f, const uint8_t *p, size_t n);
/* The CSV header line, and an incident as one CSV row in its order. */
void cg_cli_csv_header(FILE *f);
void cg_cli_incident_csv(FILE *f, const cg_incident *inc);

/* Formatting pieces: an address ("89.160.20.112", "2001:db8::1"), a time
 * ("2025-11-24T08:00:05.123456+0000"), a protocol ("TCP", or its number),
 * a status name ("new" .. "false-positive", "unknown"). */
void cg_cli_addr(const uint8_t a[16], char *out, size_t len);
void cg_cli_time_str(uint64_t us, char *out, size_t len);
const char *cg_cli_proto(uint8_t proto, char *buf, size_t len);
const char *cg_cli_status(unsigned status);
/* The CG_LAYER bits as "1 2 4", or "-" for none, in buf (16 bytes do). */
const char *cg_cli_layers(unsigned layers, char *buf, size_t len);

#endif
