/* addr.h — address and port expressions of a rule header, to normalised sets.
 *
 * Syntax (Suricata's; rules/README.md): any, a.b.c.d, a.b.c.d/nn,
 * a.b.c.d/m.m.m.m, IPv6 and IPv6/nn, ranges a-b, lists [x, y] nested at will,
 * negation !x and ![...], variables $NAME (recursively). Ports: any, n, a:b,
 * a:, :b, with the same lists, negation and variables.
 *
 * Semantics: a list is the union of its positive elements (all addresses
 * when it has none) minus the union of its negated ones; !x is the complement
 * of x. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so "any" and every
 * complement cover the whole 128-bit space (!$HOME_NET includes all of IPv6).
 * The result is sorted, disjoint and merged (rule.h invariant 3); an empty
 * result is an error, as in Suricata.
 *
 * Errors carry the byte offset of the problem in the given text; for a
 * problem inside a variable's value, the offset of the $NAME that led there
 * (the message then starts with "in $NAME: ").
 */
#ifndef CG_ADDR_H
#define CG_ADDR_H

#include <stddef.h>

#include "analyzer/lang/rule.h"
#include "analyzer/lang/vars.h"

typedef struct cg_expr_err {
    size_t pos;
    char why[192];
} cg_expr_err;

/* Parse s[0..len). 0 with *out set (caller frees with the _clear function);
 * -1 (CG_EFAIL) on a syntax error; CG_ENOMEM when out of memory. *out is untouched on error. */
int cg_addrset_parse(const char *s, size_t len, const cg_vars *vars, cg_addrset *out,
                     cg_expr_err *err);
int cg_portset_parse(const char *s, size_t len, const cg_vars *vars, cg_portset *out,
                     cg_expr_err *err);

void cg_addrset_clear(cg_addrset *s);
void cg_portset_clear(cg_portset *s);

#endif
