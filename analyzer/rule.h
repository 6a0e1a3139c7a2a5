/* rule.h — a parsed Suricata-syntax rule, and the rule set that owns rules.
 *
 * Syntax: rules/README.md (Suricata's: action proto src sport dir dst dport
 * (options)). This header is the contract between the parser (rule.c, ruleset.c,
 * addr.c) and detection (detect.c): plain value structs, owned by the ruleset.
 *
 * Invariants of a loaded rule (the parser guarantees them; detection relies on them):
 *  1. Every keyword of the rule text was understood; a rule with a keyword this
 *     engine does not evaluate is never loaded (it is listed as skipped).
 *  2. matches[] keeps the rule's order; a content's relative modifiers (distance,
 *     within) refer to the previous match item in the same buffer.
 *  3. Address and port sets are normalised: sorted, disjoint, merged ranges;
 *     negation is already applied (the set is what matches).
 *  4. fp is the index in matches[] of the fast pattern (a non-negated content),
 *     or -1 when the rule has none (such rules go to the always-checked group).
 *  5. severity is the priority (1 = high .. 4 = info): priority keyword, else the
 *     classtype's priority, else 3.
 */
#ifndef CG_RULE_H
#define CG_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/buffers.h"

/* action */
enum { CG_ACT_ALERT, CG_ACT_PASS, CG_ACT_DROP, CG_ACT_REJECT };

/* rule protocol as written; app protocols imply their transport */
enum { CG_RP_IP, CG_RP_TCP, CG_RP_UDP, CG_RP_ICMP, CG_RP_HTTP, CG_RP_DNS, CG_RP_TLS };

/* inspection buffers (CG_BUF_*): sensor/buffers.h */

typedef struct cg_iprange { uint8_t lo[16], hi[16]; } cg_iprange;  /* inclusive */
typedef struct cg_addrset { cg_iprange *r; uint32_t n; } cg_addrset; /* n==0 matches nothing */
typedef struct cg_portrange { uint16_t lo, hi; } cg_portrange;      /* inclusive */
typedef struct cg_portset { cg_portrange *r; uint32_t n; } cg_portset;

/* content flags */
#define CG_C_NOCASE     0x0001
#define CG_C_NEGATED    0x0002
#define CG_C_FAST       0x0004  /* fast_pattern */
#define CG_C_FAST_ONLY  0x0008  /* fast_pattern:only (or the legacy form) */
#define CG_C_STARTSWITH 0x0010
#define CG_C_ENDSWITH   0x0020
#define CG_C_OFFSET     0x0040
#define CG_C_DEPTH      0x0080
#define CG_C_DISTANCE   0x0100
#define CG_C_WITHIN     0x0200
#define CG_C_FAST_CHOP  0x0400  /* fast_pattern:off,len — fp_off/fp_len used */

/* pcre flags (Suricata's letters after the closing slash) */
#define CG_P_RELATIVE   0x0001  /* R */
#define CG_P_NEGATED    0x0002  /* pcre:!"/.../" */
#define CG_P_RAWBYTES   0x0004  /* B (no-op here: the payload is raw) */
#define CG_P_NOLIMIT    0x0008  /* O: the configured PCRE2 match limits do not apply */

enum { CG_M_CONTENT, CG_M_PCRE };

typedef struct cg_content {
    uint8_t *bytes;            /* decoded pattern (hex and escapes resolved) */
    uint32_t len;
    uint16_t flags;            /* CG_C_* */
    int32_t offset, depth, distance, within;   /* as written; depth counts from offset,
                                                * distance/within from the previous
                                                * match item's end (Suricata's rules) */
    uint16_t fp_off, fp_len;   /* with CG_C_FAST_CHOP */
} cg_content;

typedef struct cg_pcre {
    void *code;                /* pcre2_code *, compiled with the rule's flags */
    char *source;              /* the pattern as written, for messages */
    uint32_t flags;            /* CG_P_* */
} cg_pcre;

typedef struct cg_match {
    uint8_t type;              /* CG_M_* */
    uint8_t buf;               /* CG_BUF_* */
    union { cg_content c; cg_pcre p; } u;
} cg_match;

/* flow keyword */
#define CG_F_TO_SERVER       0x01
#define CG_F_TO_CLIENT       0x02
#define CG_F_ESTABLISHED     0x04
#define CG_F_NOT_ESTABLISHED 0x08
#define CG_F_STATELESS       0x10

/* dsize */
enum { CG_DS_NONE, CG_DS_EQ, CG_DS_NE, CG_DS_LT, CG_DS_GT, CG_DS_LE, CG_DS_GE, CG_DS_RANGE };
typedef struct cg_dsize { uint8_t op; uint32_t a, b; } cg_dsize; /* RANGE: a < dsize < b */

/* threshold / detection_filter */
enum { CG_TH_NONE, CG_TH_LIMIT, CG_TH_THRESHOLD, CG_TH_BOTH, CG_TH_DETECTION_FILTER };
enum { CG_TRACK_SRC, CG_TRACK_DST, CG_TRACK_RULE, CG_TRACK_BOTH };
typedef struct cg_threshold { uint8_t type, track; uint32_t count, seconds; } cg_threshold;

typedef struct cg_kv { char *key, *value; } cg_kv;

/* layer bits (the four-layer model; DESIGN.md) */
#define CG_LAYER(n) (1u << ((n) - 1))

typedef struct cg_rule {
    const char *file;          /* owned by the ruleset (interned) */
    uint32_t line;             /* first line of the rule */
    uint8_t action, proto, bidir;
    uint8_t ip_proto;          /* transport implied by proto: 6, 17, 1 (+58), 0 = any */
    cg_addrset src, dst;
    cg_portset sport, dport;
    uint32_t gid, sid, rev;
    char *msg;                 /* never NULL: "" when the rule has no msg */
    char *classtype;           /* NULL when absent */
    char *class_desc;          /* from classification.config; NULL when absent */
    uint8_t priority;          /* as written (0 = absent) */
    uint8_t severity;          /* invariant 5 */
    uint8_t layers;            /* CG_LAYER bits from metadata "layer N" (0 = none) */
    uint8_t flow;              /* CG_F_* */
    cg_dsize dsize;
    cg_threshold threshold;    /* threshold: keyword */
    cg_threshold filter;       /* detection_filter: keyword (type DETECTION_FILTER) */
    cg_match *matches; uint32_t nmatch;
    int32_t fp;                /* invariant 4 */
    cg_kv *meta; uint32_t nmeta;       /* metadata, split into key value pairs */
    cg_kv *refs; uint32_t nrefs;       /* reference:type,value */
    char *target;              /* "src_ip" / "dest_ip" / NULL */
} cg_rule;

/* ---- rule set ---------------------------------------------------------- */

typedef struct cg_ruleset cg_ruleset;

enum { CG_ISSUE_SYNTAX, CG_ISSUE_UNSUPPORTED, CG_ISSUE_DUPLICATE };

/* A rule that did not load. */
typedef struct cg_rule_issue {
    const char *file;
    uint32_t line, col;        /* col: 1-based column of the problem in the line */
    uint8_t kind;              /* CG_ISSUE_* */
    uint32_t sid;              /* 0 when it could not be read */
    char *keyword;             /* the unsupported keyword (CG_ISSUE_UNSUPPORTED) */
    char *why;                 /* one line */
    uint32_t rule_line;        /* first line of the rule; `line` is the physical line
                                * holding the problem, later for a continued rule */
} cg_rule_issue;

typedef struct cg_rulefile {
    const char *path;
    uint32_t loaded, skipped, errors;  /* skipped = unsupported; errors = syntax/duplicate */
    uint32_t disabled;                 /* commented-out rules (not counted elsewhere) */
} cg_rulefile;

int cg_ruleset_create(cg_ruleset **out);
void cg_ruleset_destroy(cg_ruleset *rs);

/* Variables: NAME value lines (see rules/README.md). Suricata's defaults are
 * preset; a file overrides them. 0, or -1 with "file:line: why" in err. */
int cg_ruleset_load_vars(cg_ruleset *rs, const char *path, char *err, size_t errlen);
/* classification.config. 0 or -1 with "file:line: why". */
int cg_ruleset_load_classification(cg_ruleset *rs, const char *path, char *err, size_t errlen);

/* Loads a .rules file, or every *.rules file of a directory and of its
 * subdirectories (up to 4 levels; in name order, a subdirectory where its name
 * sorts; a classification.config and vars.conf in the top directory are loaded
 * first). Bad rules are recorded as issues and skipped; the call fails (-1, err
 * set) only when the path cannot be read at all, or when the directory's
 * classification.config or vars.conf is broken (rules would run with wrong
 * networks). */
int cg_ruleset_load_path(cg_ruleset *rs, const char *path, char *err, size_t errlen);

/* Parses one rule text (no continuation handling). Used by tests and tools.
 * Returns 0 and appends the rule, or -1 and records an issue (file "<string>"). */
int cg_ruleset_add_rule(cg_ruleset *rs, const char *text, char *err, size_t errlen);

/* The arrays below stay valid until the next load or add on the set. */
const cg_rule *cg_ruleset_rules(const cg_ruleset *rs, uint32_t *n);
const cg_rule_issue *cg_ruleset_issues(const cg_ruleset *rs, uint32_t *n);
const cg_rulefile *cg_ruleset_files(const cg_ruleset *rs, uint32_t *n);

/* SHA-256 over the loaded rules' text (in load order), the variables and the
 * classification; the key of the compiled-database cache. */
void cg_ruleset_hash(const cg_ruleset *rs, uint8_t out[32]);

/* Set matching. */
int cg_addrset_match(const cg_addrset *s, const uint8_t addr[16]);
int cg_portset_match(const cg_portset *s, uint16_t port);

/* "high", "medium", "low", "info" for severity 1..4. */
const char *cg_severity_name(unsigned sev);

#endif
