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
 *    holds "file:line: why". Every variable of the resulting table must parse
 *    as an address set or a port set, so a bad value is reported here, once,
 *    and not on every rule that uses it.
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

int cg_vars_load(cg_vars *v, const char *path, char *err, size_t errlen);

uint32_t cg_vars_count(const cg_vars *v);
void cg_vars_at(const cg_vars *v, uint32_t i, const char **name, const char **value);

#endif
