/* cli.h — what the canhgac subcommands share: exit codes, argument parsing
 * helpers (times, durations, CIDRs), and the subcommand entry points.
 *
 * Exit codes (documented in README and `canhgac --help`):
 *   0  success
 *   1  the work failed while running (store full, disk error, rules check
 *      found syntax errors)
 *   2  bad input: usage, a missing or malformed file, a store that cannot be
 *      opened, a rule set with no loadable rule
 */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <stdint.h>

enum { CG_EXIT_OK = 0, CG_EXIT_FAIL = 1, CG_EXIT_INPUT = 2 };

int cg_cmd_run(int argc, char **argv);
int cg_cmd_query(int argc, char **argv);
int cg_cmd_rules(int argc, char **argv);

/* "90s", "30m", "24h", "7d", "2w" -> microseconds. 0 or -1. */
int cg_cli_duration(const char *s, uint64_t *out_us);
/* A point in time: a duration back from now ("24h"), an ISO 8601 UTC time
 * ("2025-11-23", "2025-11-23T08:00:00[Z]"), or "@EPOCH". 0 or -1. */
int cg_cli_time(const char *s, uint64_t now_us, uint64_t *out_us);
/* An address or CIDR (v4 or v6) -> inclusive 16-byte range. 0 or -1. */
int cg_cli_cidr(const char *s, uint8_t lo[16], uint8_t hi[16]);
/* The default store directory: $CANHGAC_STORE, else "./canhgac-store". */
const char *cg_cli_default_store(void);
/* The default cache directory: $CANHGAC_CACHE, else $XDG_CACHE_HOME/canhgac,
 * else $HOME/.cache/canhgac, else NULL. Written into buf. */
const char *cg_cli_default_cache(char *buf, unsigned len);
uint64_t cg_cli_now_us(void);

#endif
