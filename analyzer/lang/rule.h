/* rule.h — a parsed Suricata-syntax rule, and the rule set that owns rules.
 *
 * Syntax: rules/README.md (Suricata's: action proto src sport dir dst dport
 * (options)). This header is the contract between the parser (rule.c,
 * rule_kw*.c, ruleset.c, addr.c) and detection (detect.c, verify.c): plain
 * value structs, owned by the ruleset.
 *
 * Invariants of a loaded rule (the parser guarantees them; detection relies on them):
 *  1. Every keyword of the rule text was understood and is evaluated (verify.h
 *     says where); a rule with a keyword this engine does not evaluate is never
 *     loaded (it is listed as skipped). `tag`, `metadata`, `reference`,
 *     `target`, `rev`, `gid`, `classtype`, `priority`, `msg` have no effect on
 *     matching by their definition; `rawbytes` and pcre B none on buffers that
 *     are what they are; `fast_pattern` only picks fp; `flow:no_frag` holds
 *     for every packet (no IP reassembly here).
 *  2. matches[] keeps the rule's order. Each item belongs to one group
 *     (groups[matches[i].grp]): a buffer, with the transforms applied to it
 *     before its items are checked. An item's relative position (distance,
 *     within, pcre R, the relative forms of isdataat and byte_*) counts from
 *     the end of the previous item of the same group that moves the cursor
 *     (content, pcre, byte_jump, byte_extract), or from 0 for the first.
 *  3. Address and port sets are normalised: sorted, disjoint, merged ranges;
 *     negation is already applied (the set is what matches).
 *  4. fp is the index in matches[] of the fast pattern (a non-negated content),
 *     or -1 when the rule has none (such rules go to the always-checked group).
 *     fp_bytes/fp_len/fp_nocase is the literal to look for in the *untransformed*
 *     buffer fp_buf: when the content's group has transforms, it is derived so
 *     that every buffer the rule can match contains it (dotprefix drops a
 *     leading '.', to_lowercase/to_uppercase make it caseless); a content whose
 *     group has a transform without such a derivation (strip_whitespace,
 *     compress_whitespace, url_decode) is never the fast pattern.
 *  5. severity is the priority (1 = high .. 4 = info): priority keyword, else the
 *     classtype's priority, else 3.
 *  6. Groups: a multi-instance buffer (dns.query, tls.certs) named twice makes
 *     two groups, each matched on any one instance (Suricata 7's multi-buffer
 *     matching); any other buffer named again with the same transforms
 *     continues its group. No group is empty.
 *  7. Payload items (group buffer CG_BUF_PAYLOAD) match the packet payload
 *     when packet_ok and a chunk of the reassembled TCP stream when stream_ok
 *     (see the two fields). bufs has the bit of every buffer a group uses
 *     (CG_BUF_PAYLOAD and/or CG_BUF_STREAM for payload groups, as allowed),
 *     and the buffers of the messages a header test is matched on:
 *     CG_BUF_DNS_QUERY for dns.opcode; CG_BUF_JA3_HASH, CG_BUF_JA3S_HASH and
 *     CG_BUF_TLS_CERTS for tls.version.
 *  8. byte_extract variables are used only after the byte_extract that sets
 *     them, in its group or a later one (groups are verified in order); var
 *     indexes are < CG_BYTE_VARS.
 *  9. flowbit ids are interned by the rule set (cg_ruleset_flowbits); every
 *     id is < cg_ruleset_flowbits(rs) <= CG_FLOWBITS_MAX.
 * 10. flowint ids (id, var) likewise: < cg_ruleset_flowints(rs) <= CG_FLOWINTS_MAX.
 */
#ifndef CG_RULE_H
#define CG_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/buffers.h"
#include "sensor/error.h"

/* action */
enum { CG_ACT_ALERT, CG_ACT_PASS, CG_ACT_DROP, CG_ACT_REJECT };

/* rule protocol as written; app protocols imply their transport. tcp-pkt and
 * tcp-stream are CG_RP_TCP with packet_ok / stream_ok narrowed; http1 is
 * CG_RP_HTTP. */
enum { CG_RP_IP, CG_RP_TCP, CG_RP_UDP, CG_RP_ICMP, CG_RP_HTTP, CG_RP_DNS, CG_RP_TLS };

/* application protocols: of a rule (proto http/dns/tls), of app-layer-protocol,
 * and of a flow as detection identifies it (cg_flowinfo, verify.h) */
enum {
    CG_APP_NONE = 0,
    CG_APP_HTTP,
    CG_APP_TLS,
    CG_APP_DNS,
    CG_APP_SMTP,
    CG_APP_FTP,
    CG_APP_SSH,
    CG_APP_SMB,
    CG_APP_FAILED
};

/* inspection buffers (CG_BUF_*): sensor/buffers.h */

typedef struct cg_iprange {
    uint8_t lo[16], hi[16];
} cg_iprange; /* inclusive */
typedef struct cg_addrset {
    cg_iprange *r;
    uint32_t n;
} cg_addrset; /* n==0 matches nothing */
typedef struct cg_portrange {
    uint16_t lo, hi;
} cg_portrange; /* inclusive */
typedef struct cg_portset {
    cg_portrange *r;
    uint32_t n;
} cg_portset;

/* An unsigned integer test (Suricata's integer keywords: bsize, urilen, itype,
 * icode, ttl, ip_proto, dns.opcode, stream_size). op CG_U_NONE: no test. */
enum {
    CG_U_NONE,
    CG_U_EQ,
    CG_U_NE,
    CG_U_LT,
    CG_U_GT,
    CG_U_LE,
    CG_U_GE,
    CG_U_RANGE,   /* a < v < b */
    CG_U_NRANGE,  /* v <= a || v >= b */
    CG_U_MASK_EQ, /* (v & a) == b */
    CG_U_MASK_NE
}; /* (v & a) != b */
typedef struct cg_uint {
    uint8_t op;
    uint64_t a, b;
} cg_uint;

/* content flags */
#define CG_C_NOCASE 0x0001
#define CG_C_NEGATED 0x0002
#define CG_C_FAST 0x0004      /* fast_pattern */
#define CG_C_FAST_ONLY 0x0008 /* fast_pattern:only (or the legacy form) */
#define CG_C_STARTSWITH 0x0010
#define CG_C_ENDSWITH 0x0020
#define CG_C_OFFSET 0x0040
#define CG_C_DEPTH 0x0080
#define CG_C_DISTANCE 0x0100
#define CG_C_WITHIN 0x0200
#define CG_C_FAST_CHOP 0x0400  /* fast_pattern:off,len — fp_off/fp_len used */
#define CG_C_OFFSET_VAR 0x0800 /* offset is a byte_extract variable index */
#define CG_C_DEPTH_VAR 0x1000  /* likewise depth, distance, within */
#define CG_C_DISTANCE_VAR 0x2000
#define CG_C_WITHIN_VAR 0x4000

/* pcre flags (Suricata's letters after the closing slash) */
#define CG_P_RELATIVE 0x0001 /* R */
#define CG_P_NEGATED 0x0002  /* pcre:!"/.../" */
#define CG_P_RAWBYTES 0x0004 /* B (no-op here: the payload is raw) */
#define CG_P_NOLIMIT 0x0008  /* O: the configured PCRE2 match limits do not apply */

/* match items, in rule order (invariant 2) */
enum {
    CG_M_CONTENT,
    CG_M_PCRE,
    CG_M_ISDATAAT,     /* cg_isdataat */
    CG_M_BYTE_TEST,    /* cg_byteop */
    CG_M_BYTE_JUMP,    /* cg_byteop: moves the cursor */
    CG_M_BYTE_EXTRACT, /* cg_byteop: sets a variable, moves the cursor past the bytes */
    CG_M_BSIZE,        /* cg_uint on the buffer's length (bsize; urilen on http.uri) */
    CG_M_BASE64
}; /* cg_b64: base64_decode; its base64_data group is matched on
    * what it decodes, there, as the rest of this group's chain */

/* base64_decode: at most `bytes` (0: all) base64 characters from `offset`
 * bytes after the previous match (relative) or the buffer's start */
typedef struct cg_b64 {
    uint32_t bytes, offset;
    uint8_t relative;
} cg_b64;

/* The group of base64_data: not a buffer of its own (never in bufs). */
#define CG_BUF_BASE64 0xfe

typedef struct cg_content {
    uint8_t *bytes; /* decoded pattern (hex and escapes resolved) */
    uint32_t len;
    uint16_t flags;                          /* CG_C_* */
    int32_t offset, depth, distance, within; /* as written; depth counts from offset,
                                              * distance/within from the previous
                                              * match item's end (Suricata's rules);
                                              * with a *_VAR flag: a variable index */
    uint16_t fp_off, fp_len;                 /* with CG_C_FAST_CHOP */
} cg_content;

typedef struct cg_pcre {
    void *code;     /* pcre2_code *, compiled with the rule's flags */
    char *source;   /* the pattern as written, for messages */
    uint32_t flags; /* CG_P_* */
} cg_pcre;

/* isdataat flags */
#define CG_D_NEGATED 0x01
#define CG_D_RELATIVE 0x02
#define CG_D_VAR 0x04 /* pos is a variable index */
typedef struct cg_isdataat {
    uint32_t pos;
    uint8_t flags;
} cg_isdataat;

/* byte_test / byte_jump / byte_extract flags */
#define CG_B_RELATIVE 0x0001
#define CG_B_LITTLE 0x0002
#define CG_B_STRING 0x0004 /* base gives the radix */
#define CG_B_NEGOP 0x0008  /* byte_test: ! before the operator */
#define CG_B_ALIGN 0x0010  /* byte_jump: round up to 4; byte_extract: to `align` */
#define CG_B_BEGIN 0x0020  /* byte_jump from_beginning */
#define CG_B_END 0x0040    /* byte_jump from_end */
#define CG_B_BITMASK 0x0080
#define CG_B_NBYTES_VAR 0x0100 /* nbytes, offset, value hold variable indexes */
#define CG_B_OFFSET_VAR 0x0200
#define CG_B_VALUE_VAR 0x0400
/* byte_test operators */
enum { CG_BT_LT, CG_BT_GT, CG_BT_EQ, CG_BT_LE, CG_BT_GE, CG_BT_AND, CG_BT_XOR };
typedef struct cg_byteop {
    uint8_t nbytes; /* bytes read: 0..8 binary, 0..23 string (0 with string: all digits) */
    uint8_t base;   /* string radix: 8, 10, 16 */
    uint8_t op;     /* byte_test: CG_BT_* */
    uint8_t align;  /* byte_extract align (2 or 4) */
    uint8_t var;    /* byte_extract: the variable it sets */
    uint16_t flags; /* CG_B_* */
    int32_t offset;
    int32_t post_offset; /* byte_jump */
    uint32_t multiplier; /* byte_jump, byte_extract; 1 when absent */
    uint64_t value;      /* byte_test */
    uint64_t bitmask;    /* with CG_B_BITMASK */
} cg_byteop;

typedef struct cg_match {
    uint8_t type; /* CG_M_* */
    uint8_t buf;  /* CG_BUF_*: groups[grp].buf, for convenience */
    uint8_t grp;  /* index in cg_rule.groups */
    union {
        cg_content c;
        cg_pcre p;
        cg_isdataat d;
        cg_byteop b;
        cg_uint sz;
        cg_b64 b64;
    } u;
} cg_match;

/* transforms, applied to a group's buffer in rule order */
enum {
    CG_TF_DOTPREFIX = 1,
    CG_TF_TO_LOWERCASE,
    CG_TF_TO_UPPERCASE,
    CG_TF_STRIP_WHITESPACE,
    CG_TF_COMPRESS_WHITESPACE,
    CG_TF_URL_DECODE
};
#define CG_MAX_TRANSFORMS 4
#define CG_MAX_GROUPS 32
#define CG_BYTE_VARS 8 /* byte_extract variables per rule */

typedef struct cg_bufgroup {
    uint8_t buf; /* CG_BUF_* */
    uint8_t ntf;
    uint8_t tf[CG_MAX_TRANSFORMS]; /* CG_TF_* */
} cg_bufgroup;

/* flow keyword */
#define CG_F_TO_SERVER 0x01
#define CG_F_TO_CLIENT 0x02
#define CG_F_ESTABLISHED 0x04
#define CG_F_NOT_ESTABLISHED 0x08
#define CG_F_STATELESS 0x10

/* dsize */
enum { CG_DS_NONE, CG_DS_EQ, CG_DS_NE, CG_DS_LT, CG_DS_GT, CG_DS_LE, CG_DS_GE, CG_DS_RANGE };
typedef struct cg_dsize {
    uint8_t op;
    uint32_t a, b;
} cg_dsize; /* RANGE: a < dsize < b */

/* threshold / detection_filter */
enum { CG_TH_NONE, CG_TH_LIMIT, CG_TH_THRESHOLD, CG_TH_BOTH, CG_TH_DETECTION_FILTER };
enum { CG_TRACK_SRC, CG_TRACK_DST, CG_TRACK_RULE, CG_TRACK_BOTH };
typedef struct cg_threshold {
    uint8_t type, track;
    uint32_t count, seconds;
} cg_threshold;

/* flags (TCP): modifier */
enum { CG_FM_EXACT, CG_FM_PLUS, CG_FM_ANY, CG_FM_NOT };
typedef struct cg_tcpflags {
    uint8_t set;    /* 1 when the rule has flags: */
    uint8_t mod;    /* CG_FM_EXACT (none), PLUS (+), ANY (*), NOT (!) */
    uint8_t bits;   /* CG_TH_* bits named (0: "no flag set") */
    uint8_t ignore; /* CG_TH_* bits after the comma: not compared */
} cg_tcpflags;

/* stream_size */
enum { CG_SS_SERVER = 1, CG_SS_CLIENT, CG_SS_BOTH, CG_SS_EITHER };
typedef struct cg_streamsize {
    uint8_t which;
    cg_uint cmp;
} cg_streamsize;
#define CG_MAX_STREAM_SIZE 4

/* flowbits */
enum { CG_FB_SET, CG_FB_UNSET, CG_FB_TOGGLE, CG_FB_ISSET, CG_FB_ISNOTSET };
#define CG_FLOWBITS_MAX 512 /* distinct flowbit names per rule set */
typedef struct cg_flowbit {
    uint8_t cmd; /* CG_FB_* */
    uint8_t any; /* names joined by '|': one of them; else all of them */
    uint16_t n;
    char **names;  /* as written (case matters) */
    uint16_t *ids; /* interned by the rule set (invariant 9) */
} cg_flowbit;

/* xbits: bits kept per host or address pair, across flows (Suricata's
 * xbits with track ip_src, ip_dst or ip_pair) */
enum { CG_XT_SRC, CG_XT_DST, CG_XT_PAIR };
#define CG_XBITS_EXPIRE 30 /* seconds, when the rule gives none (as Suricata) */
typedef struct cg_xbit {
    uint8_t cmd;     /* CG_FB_* */
    uint8_t track;   /* CG_XT_*: the packet's source, destination, or both */
    uint32_t expire; /* seconds a set lasts */
    uint64_t key;    /* of the name (64-bit hash; bits are told apart by it) */
    char *name;      /* as written */
} cg_xbit;

/* flowint: unsigned 32-bit integers kept per flow */
enum {
    CG_FI_ADD,
    CG_FI_SUB,
    CG_FI_SET, /* change it (after a match) */
    CG_FI_EQ,
    CG_FI_NE,
    CG_FI_LT,
    CG_FI_LE,
    CG_FI_GT,
    CG_FI_GE, /* compare it */
    CG_FI_ISSET,
    CG_FI_NOTSET
};
#define CG_FLOWINTS_MAX 32 /* distinct flowint names per rule set */
typedef struct cg_flowint {
    uint8_t op;            /* CG_FI_* */
    uint8_t by_var;        /* the operand is another flowint (var) */
    uint16_t id, var;      /* interned by the rule set (invariant 10) */
    uint32_t value;        /* the operand, when not by_var */
    char *name, *var_name; /* as written; var_name NULL when not by_var */
} cg_flowint;

typedef struct cg_kv {
    char *key, *value;
} cg_kv;

/* layer bits (the four-layer model; DESIGN.md) */
#define CG_LAYER(n) (1u << ((n)-1))

typedef struct cg_rule {
    const char *file; /* owned by the ruleset (interned) */
    uint32_t line;    /* first line of the rule */
    uint8_t action, proto, bidir;
    uint8_t ip_proto;  /* transport implied by proto: 6, 17, 1 (+58), 0 = any */
    uint8_t app_proto; /* CG_APP_* implied by proto (http, dns, tls, smtp, ftp, ssh,
                        * smb), else NONE */
    cg_addrset src, dst;
    cg_portset sport, dport;
    uint32_t gid, sid, rev;
    char *msg;        /* never NULL: "" when the rule has no msg */
    char *classtype;  /* NULL when absent */
    char *class_desc; /* from classification.config; NULL when absent */
    uint8_t priority; /* as written (0 = absent) */
    uint8_t severity; /* invariant 5 */
    uint8_t layers;   /* CG_LAYER bits from metadata "layer N" (0 = none) */
    uint8_t flow;     /* CG_F_* */
    cg_dsize dsize;
    cg_threshold threshold; /* threshold: keyword */
    cg_threshold filter;    /* detection_filter: keyword (type DETECTION_FILTER) */

    /* what is matched in buffers (invariants 2, 4, 6, 7, 8) */
    cg_match *matches;
    uint32_t nmatch;
    cg_bufgroup *groups;
    uint32_t ngroups;
    uint64_t bufs;     /* bit (1ull << CG_BUF_x) for every buffer a group uses */
    uint8_t packet_ok; /* payload items may match the packet payload */
    uint8_t stream_ok; /* ... and chunks of the reassembled TCP stream */
    uint8_t nvars;     /* byte_extract variables */
    uint8_t b64_grp;   /* the base64_data group + 1; 0: none */
    int32_t fp;        /* invariant 4 */
    uint8_t fp_buf, fp_nocase;
    uint32_t fp_len;
    const uint8_t *fp_bytes; /* into matches[fp].u.c.bytes */

    /* header-level conditions (verify.h: cg_verify_header, cg_verify_flowinfo,
     * cg_verify_rule); op/set 0 = absent */
    cg_tcpflags tcpflags; /* flags: */
    cg_uint itype, icode, ttl, ipproto;
    cg_streamsize stream_size[CG_MAX_STREAM_SIZE]; /* all must hold */
    uint8_t nstream_size;
    uint8_t app_match;     /* app-layer-protocol: CG_APP_*, 0 = absent */
    uint32_t app_events;   /* app-layer-event: CG_EV_* the transaction must have */
    uint8_t app_match_neg; /* app-layer-protocol:!x */
    uint16_t tls_version;  /* tls.version: 0x0301..; 0 = absent */
    uint8_t tls_version_neg;
    cg_uint dns_opcode;

    cg_flowbit *flowbits;
    uint32_t nflowbits; /* in rule order */
    cg_xbit *xbits;
    uint32_t nxbits; /* in rule order */
    cg_flowint *flowints;
    uint32_t nflowints; /* in rule order */
    uint8_t noalert;    /* flowbits:noalert or noalert: matches, never alerts */

    cg_kv *meta;
    uint32_t nmeta; /* metadata, split into key value pairs */
    cg_kv *refs;
    uint32_t nrefs; /* reference:type,value */
    char *target;   /* "src_ip" / "dest_ip" / NULL */
} cg_rule;

/* ---- rule set ---------------------------------------------------------- */

typedef struct cg_ruleset cg_ruleset;

enum { CG_ISSUE_SYNTAX, CG_ISSUE_UNSUPPORTED, CG_ISSUE_DUPLICATE };

/* A rule that did not load. */
typedef struct cg_rule_issue {
    const char *file;
    uint32_t line, col; /* col: 1-based column of the problem in the line */
    uint8_t kind;       /* CG_ISSUE_* */
    uint32_t sid;       /* 0 when it could not be read */
    char *keyword;      /* the unsupported keyword (CG_ISSUE_UNSUPPORTED) */
    char *why;          /* one line */
    uint32_t rule_line; /* first line of the rule; `line` is the physical line
                         * holding the problem, later for a continued rule */
} cg_rule_issue;

typedef struct cg_rulefile {
    const char *path;
    uint32_t loaded, skipped, errors; /* skipped = unsupported; errors = syntax/duplicate */
    uint32_t disabled;                /* commented-out rules (not counted elsewhere) */
} cg_rulefile;

/* An empty set with Suricata's default variables: 0, or CG_ENOMEM.
 * Every loader below that fails for want of memory returns CG_ENOMEM (its
 * message says "out of memory"), never -1, so a caller can tell bad rules
 * from no memory. */
int cg_ruleset_create(cg_ruleset **out);
void cg_ruleset_destroy(cg_ruleset *rs);

/* Variables: NAME value lines (see rules/README.md). Suricata's defaults are
 * preset; a file overrides them. 0, or -1 with "file:line: why" in err. */
int cg_ruleset_load_vars(cg_ruleset *rs, const char *path, char *err, size_t errlen);
/* Overrides. Variables come from, lowest first: Suricata's defaults, a
 * variables file loaded with cg_ruleset_load_vars or found as vars.conf in
 * a rules directory (cg_ruleset_load_path), files pinned with
 * cg_ruleset_pin_vars (`--vars FILE`), then assignments pinned with
 * cg_ruleset_pin_var (`--set NAME=VALUE`; a later one wins; it may define
 * a variable that no file defines, as Suricata's --set may). A pinned
 * variable keeps its value whatever variables file is loaded after it. Every
 * value is checked (an address set or a port set) each time the table
 * changes: 0, or -1 with a one-line message naming the file or the --set. */
int cg_ruleset_pin_vars(cg_ruleset *rs, const char *path, char *err, size_t errlen);
int cg_ruleset_pin_var(cg_ruleset *rs, const char *assignment, char *err, size_t errlen);
/* The variables that rules were dropped for, being undefined: up to max
 * of them in out (in the order first met), each with the number of rules.
 * Returns how many distinct names there are (maybe more than max). */
typedef struct cg_undef_var {
    char name[64];
    uint32_t rules;
} cg_undef_var;
uint32_t cg_ruleset_undefined_vars(const cg_ruleset *rs, cg_undef_var *out, uint32_t max);
/* classification.config. 0 or -1 with "file:line: why". */
int cg_ruleset_load_classification(cg_ruleset *rs, const char *path, char *err, size_t errlen);
/* The loaded classification's classtype NAME (any case): its description
 * and priority (the description is a view that lives as long as the set).
 * 0, or -1 when no such class is defined. */
int cg_ruleset_class(const cg_ruleset *rs, const char *name, const char **desc, uint8_t *prio);

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

/* Distinct flowbit names of the loaded rules (ids 0 .. n-1, invariant 9),
 * and the name of an id (NULL when out of range). Detection keeps per flow
 * CG_FLOWBITS_WORDS(n) words of bits. */
uint32_t cg_ruleset_flowbits(const cg_ruleset *rs);
/* Distinct flowint names of the loaded rules (ids 0 .. n-1, invariant 10). */
uint32_t cg_ruleset_flowints(const cg_ruleset *rs);
const char *cg_ruleset_flowbit_name(const cg_ruleset *rs, uint32_t id);
const char *cg_ruleset_flowint_name(const cg_ruleset *rs, uint32_t id);
#define CG_FLOWBITS_WORDS(n) (((n) + 63) / 64)

/* SHA-256 over the loaded rules' text (in load order), the variables and the
 * classification; the key of the compiled-database cache. */
void cg_ruleset_hash(const cg_ruleset *rs, uint8_t out[32]);

/* Set matching. */
int cg_addrset_match(const cg_addrset *s, const uint8_t addr[16]);
int cg_portset_match(const cg_portset *s, uint16_t port);

/* "high", "medium", "low", "info" for severity 1..4. */
const char *cg_severity_name(unsigned sev);

#endif
