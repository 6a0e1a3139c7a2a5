/* vars.h — rule variables ($HOME_NET, $HTTP_PORTS, ...): name -> expression text.
 *
 * Syntax: rules/README.md, "The variables file". Values are kept as text and
 * resolved where they are used (addr.c), so one variable may hold an address
 * set or a port set, and may refer to other variables.
 *
 * Contract:
 *  - cg_vars_create presets Suricata's suricata.yaml defaults (HOME_NET,
 *    EXTERNAL_NET, HTTP_PORTS, ...); a file overrides them.
 *  - cg_vars_load is all or nothing: on error the table is unchanged and err
 *    holds "file:line: why". Given a check (the rule set gives one that
 *    parses a value as an address set or a port set: this table knows
 *    nothing of them), every variable of the resulting table must pass it,
 *    so a bad value is reported here, once, and not on every rule that uses
 *    it.
 *  - Entries keep insertion order (defaults first); an override keeps its slot.
 *    The ruleset hashes the table in that order.
 *  - Internal to the rule parser; not thread-safe for writes.
 */
#ifndef CG_VARS_H
#define CG_VARS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cg_vars cg_vars;

int cg_vars_create(cg_vars **out);
void cg_vars_destroy(cg_vars *v);

/* The value of NAME (given without '$'), or NULL when it is not defined. */
const char *cg_vars_get(const cg_vars *v, const char *name, size_t len);

/* Defines or replaces NAME. 0, or -1 when out of memory. */
int cg_vars_set(cg_vars *v, const char *name, const char *value);

/* Whether value (of a variable of table v) is acceptable: 0, -1 with a
 * reason in why, CG_ENOMEM when out of memory. */
typedef int (*cg_vars_check_fn)(const cg_vars *v, const char *value, char *why, size_t whylen);

/* Loads a file over the table, values unchecked: 0, or -1 with "file:line:
 * why" in err (CG_ENOMEM when out of memory). */
int cg_vars_load(cg_vars *v, const char *path, char *err, size_t errlen);
/* The same, and when defs is not NULL each definition the file makes is also
 * set in defs (on success only; defs may then hold some of them on error);
 * when check is not NULL, every value of the resulting table must pass it. */
int cg_vars_load_defs(cg_vars *v, const char *path, cg_vars *defs, cg_vars_check_fn check,
                      char *err, size_t errlen);
/* A table with no entry (no defaults), e.g. for overrides kept aside. */
int cg_vars_create_empty(cg_vars **out);

/* Splits "NAME=VALUE" (NAME may carry its '$', VALUE may be quoted) in place
 * into name and value, as one line of a variables file is read: 0, or -1
 * with a reason in *why (no '=', a bad name, an empty value). */
int cg_vars_parse_assignment(char *text, char **name, char **value, const char **why);

uint32_t cg_vars_count(const cg_vars *v);
void cg_vars_at(const cg_vars *v, uint32_t i, const char **name, const char **value);

#endif
