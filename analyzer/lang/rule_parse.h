/* rule_parse.h — one rule's text to a cg_rule: the contract between the rule
 * parser (rule.c) and the rule set that reads files (ruleset.c).
 *
 * Syntax: rules/README.md. The text is one logical rule (continuation lines
 * already joined, comments already removed).
 *
 * Contract:
 *  - cg_rule_parse returns 0 with *r filled (it owns its strings, sets and
 *    compiled PCRE2 code; r->file and r->line are left for the caller), or -1
 *    with *d describing why the rule does not load (and *r zeroed), or CG_ENOMEM
 *    when out of memory (*r zeroed).
 *  - A syntax error wins over an unsupported keyword: the whole rule is read
 *    even after an unsupported keyword, so `rules check` reports real errors
 *    in rules that would be skipped anyway.
 *  - d->pos is a byte offset into text; the caller maps it to line:column.
 *    On success d->sid and d->sid_pos are still set (for duplicate reports).
 */
#ifndef CG_RULE_PARSE_H
#define CG_RULE_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/lang/classify.h"
#include "analyzer/lang/rule.h"
#include "analyzer/lang/vars.h"

typedef struct cg_rule_env {
    const cg_vars *vars;
    const cg_classes *classes;
} cg_rule_env;

typedef struct cg_rule_diag {
    uint8_t kind;     /* CG_ISSUE_SYNTAX or CG_ISSUE_UNSUPPORTED */
    size_t pos;       /* byte offset of the problem in the text */
    uint32_t sid;     /* 0 when it could not be read */
    size_t sid_pos;   /* byte offset of the sid option (when sid != 0) */
    char keyword[64]; /* CG_ISSUE_UNSUPPORTED: the keyword or protocol */
    char why[256];
} cg_rule_diag;

/* text[len] must be '\0'. */
int cg_rule_parse(const char *text, size_t len, const cg_rule_env *env, cg_rule *r,
                  cg_rule_diag *d);

/* Frees what *r owns and zeroes it (not r itself, not r->file). NULL is fine. */
void cg_rule_free(cg_rule *r);

#endif
