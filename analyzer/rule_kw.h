/* rule_kw.h — the option keywords of a rule: the parse state a keyword
 * handler works on, and the keyword table. Internal to the rule parser:
 * rule.c reads the text and dispatches each option, rule_kw.c holds the
 * handlers (their contract is at the top of rule_kw.c).
 */
#ifndef CG_RULE_KW_H
#define CG_RULE_KW_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/rule_parse.h"

/* A buffer this engine does not inspect: what follows a sticky buffer or any
 * unknown keyword goes there (such a rule is skipped anyway). */
#define CG_BUF_OTHER 0xff

enum { CG_ARG_NONE, CG_ARG_REQ, CG_ARG_OPT };

/* One option of the rule text; offsets are into that text. */
typedef struct cg_rule_opt {
    const char *name;
    size_t nlen, npos;
    const char *val;           /* trimmed; NULL when the option has no value */
    size_t vlen, vpos;
} cg_rule_opt;

#define CG_ONAME(o) (int)(o)->nlen, (o)->name   /* for "%.*s" */

/* The state of one rule being read. */
typedef struct cg_rule_ps {
    const char *t;             /* the rule text */
    size_t len;
    const cg_rule_env *env;
    cg_rule *r;                /* the rule under construction */
    cg_rule_diag *d;
    uint32_t cap_match, cap_meta, cap_refs;
    int32_t last_content;      /* index in r->matches of the latest content, or -1 */
    uint8_t buf;               /* the buffer that contents and pcre go to */
    uint8_t class_prio;        /* the classtype's priority, 0 without one */
    uint32_t seen;             /* options that may appear once (rule_kw.c) */
    int failed, unsupported;
    size_t unsup_pos;
    char unsup_kw[64];
    char unsup_why[160];
} cg_rule_ps;

typedef struct cg_rule_kw {
    const char *name;
    uint8_t arg;               /* CG_ARG_*: checked before the handler runs */
    int (*fn)(cg_rule_ps *ps, const cg_rule_opt *o);
} cg_rule_kw;

/* The row of an option name, or NULL: the keyword is not supported. */
const cg_rule_kw *cg_rule_kw_find(const char *name, size_t len);

/* rule.c: records the first syntax error (later ones are ignored); -1. */
int cg_rule_fail(cg_rule_ps *ps, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rule.c: records the first unsupported keyword; 0, reading goes on. */
int cg_rule_unsupported(cg_rule_ps *ps, size_t pos, const char *kw, size_t kwlen,
                        const char *what);

/* rule.c: narrows s[0..n) (at offset *pos) to its non-blank middle. */
void cg_rule_trim(const char **s, size_t *n, size_t *pos);

#endif
