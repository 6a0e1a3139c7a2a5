/* rule_kw.h — the option keywords of a rule: the parse state a keyword
 * handler works on, the helpers handlers share, and the keyword table.
 * Internal to the rule parser. Its files depend one way: rule.c reads the
 * text and looks each option up in the table (rule_kw_table.c), the table
 * names the handlers, and the handlers use the helpers (rule_kw_util.c),
 * which use nothing else of the parser. The handlers live in
 *   rule_kw.c       meta, content and its modifiers, pcre, flow, dsize,
 *                   thresholds; the end-of-rule checks
 *   rule_kw_buf.c   sticky buffers, legacy content modifiers, transforms,
 *                   bsize, urilen: the rule's groups (rule.h invariant 6)
 *   rule_kw_byte.c  isdataat, byte_test, byte_jump, byte_extract
 *   rule_kw_hdr.c   flowbits, noalert, tag, flags, itype, icode, ttl,
 *                   ip_proto, stream_size, app-layer-protocol, tls.version,
 *                   dns.opcode
 * (their contract is at the top of rule_kw.c).
 */
#ifndef CG_RULE_KW_H
#define CG_RULE_KW_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/lang/rule_parse.h"

/* A buffer this engine does not inspect: what follows an unknown keyword goes
 * there (such a rule is skipped anyway). */
#define CG_BUF_OTHER 0xff

enum { CG_ARG_NONE, CG_ARG_REQ, CG_ARG_OPT };

/* One option of the rule text; offsets are into that text. */
typedef struct cg_rule_opt {
    const char *name;
    size_t nlen, npos;
    const char *val; /* trimmed; NULL when the option has no value */
    size_t vlen, vpos;
} cg_rule_opt;

#define CG_ONAME(o) (int)(o)->nlen, (o)->name /* for "%.*s" */

/* The state of one rule being read. */
typedef struct cg_rule_ps {
    const char *t; /* the rule text */
    size_t len;
    const cg_rule_env *env;
    cg_rule *r; /* the rule under construction */
    cg_rule_diag *d;
    uint32_t cap_match, cap_meta, cap_refs, cap_groups, cap_flowbits;
    int32_t last_content; /* index in r->matches of the latest content, or -1 */
    int32_t grp;          /* the group contents and pcre go to; -1: none yet
                           * (the payload group is made on first use) */
    uint8_t unknown_buf;  /* after an unknown keyword: items go to a CG_BUF_OTHER group */
    uint8_t grp_open;     /* grp was just named by a sticky buffer and has no
                           * item yet: transforms may follow */
    uint8_t grp_sticky[CG_MAX_GROUPS]; /* named by a sticky buffer keyword */
    size_t grp_pos[CG_MAX_GROUPS];     /* where the group was named (messages) */
    size_t cur_pos;                    /* where the option being handled starts */
    size_t *item_pos;                  /* per match item: where its keyword is (messages) */
    uint32_t cap_item_pos;
    char var_name[CG_BYTE_VARS][32]; /* byte_extract variables */
    uint8_t var_grp[CG_BYTE_VARS];
    uint8_t class_prio;            /* the classtype's priority, 0 without one */
    uint8_t pkt_only, stream_only; /* tcp-pkt / flow:no_stream; tcp-stream / only_stream */
    uint8_t b64;                   /* 1 after base64_decode, 2 after base64_data */
    size_t b64_pos;                /* where base64_decode was written */
    size_t event_pos;              /* where app-layer-event was written */
    size_t mode_pos;               /* where one of those was written */
    uint32_t seen;                 /* options that may appear once (rule_kw.c) */
    int failed, unsupported;
    size_t unsup_pos;
    char unsup_kw[64];
    char unsup_why[160];
} cg_rule_ps;

typedef struct cg_rule_kw {
    const char *name;
    uint8_t arg; /* CG_ARG_*: checked before the handler runs */
    int (*fn)(cg_rule_ps *ps, const cg_rule_opt *o);
} cg_rule_kw;

/* The row of an option name, or NULL: the keyword is not supported. */
const cg_rule_kw *cg_rule_kw_find(const char *name, size_t len);
/* 1 when the keyword table is in strict name order (cg_rule_kw_find's binary
 * search needs it); for the tests. */
int cg_rule_kw_table_sorted(void);

/* After the last option: groups cleaned up and checked, payload placement,
 * buffers, the fast pattern. 0, -1 (syntax error recorded) or CG_ENOMEM. */
int cg_rule_kw_finish(cg_rule_ps *ps);

/* ---- helpers shared by the handlers (rule_kw_util.c) ----------------------- */

/* The longest content, in bytes. */
#define CG_KW_CONTENT_MAX 65535

/* Records the first syntax error (later ones are ignored); -1. */
int cg_rule_fail(cg_rule_ps *ps, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first unsupported keyword; 0, reading goes on. */
int cg_rule_unsupported(cg_rule_ps *ps, size_t pos, const char *kw, size_t kwlen, const char *what);

/* The comma-separated fields of an option's value, each trimmed. */
#define CG_KW_MAX_FIELDS 16
typedef struct cg_kw_fields {
    const char *s[CG_KW_MAX_FIELDS];
    size_t n[CG_KW_MAX_FIELDS], pos[CG_KW_MAX_FIELDS];
    size_t count;
} cg_kw_fields;

/* Splits o's value into f; an empty field, or more than CG_KW_MAX_FIELDS,
 * is a syntax error (-1). 0 on success. */
int cg_kw_split(cg_rule_ps *ps, const cg_rule_opt *o, cg_kw_fields *f);

/* Narrows s[0..n) (at offset *pos) to its non-blank middle. */
void cg_rule_trim(const char **s, size_t *n, size_t *pos);

int cg_kw_is_word(const char *s, size_t n, const char *w);
/* An option that may appear once (bit: its flag in ps->seen): 0, or -1 when
 * it was given before. */
int cg_kw_once(cg_rule_ps *ps, const cg_rule_opt *o, uint32_t bit);
/* A copy of s[0..n), NUL-terminated; NULL when out of memory. */
char *cg_kw_dupn(const char *s, size_t n);
/* msg text: every "\x" becomes x; a new string, NULL when out of memory. */
char *cg_kw_unescape(const char *s, size_t n);
/* content text: |hex| blocks and the escapes \" \; \\ \:, into a new buffer
 * *out of *outlen bytes. 0, -1 (syntax error recorded) or CG_ENOMEM. */
int cg_kw_decode_content(cg_rule_ps *ps, const char *s, size_t n, size_t pos, uint8_t **out,
                         uint32_t *outlen);
/* Appends the pair (k, v) to *arr: 0, or CG_ENOMEM (-2) when out of memory. */
int cg_kw_push_kv(cg_kv **arr, uint32_t *n, uint32_t *cap, const char *k, size_t kl, const char *v,
                  size_t vl);
/* A decimal integer in [min, max]; `what` names it in messages. 0 or -1. */
int cg_kw_number(cg_rule_ps *ps, const char *s, size_t n, size_t pos, const char *what, int64_t min,
                 int64_t max, int64_t *out);
/* An integer keyword's value (rule.h cg_uint): N, =N, !N, !=N, <N, <=N, >N,
 * >=N, A-B, A<>B, !A-B, &M=V, &M!=V; decimal or 0x hex; values up to max. */
int cg_kw_uint(cg_rule_ps *ps, const char *s, size_t n, size_t pos, const char *what, uint64_t max,
               cg_uint *out);
/* The quoted string of o's value from byte off; inner text undecoded. */
int cg_kw_quoted(cg_rule_ps *ps, const cg_rule_opt *o, size_t off, const char **in, size_t *inlen,
                 size_t *inpos);
/* Calls fn for each trimmed, non-empty comma-separated item of o's value. */
typedef int (*cg_kw_item_fn)(cg_rule_ps *, const cg_rule_opt *, const char *, size_t, size_t,
                             void *);
int cg_kw_each_item(cg_rule_ps *ps, const cg_rule_opt *o, cg_kw_item_fn fn, void *ctx);
/* Room for one more match item: a zeroed r->matches[r->nmatch] (the caller
 * fills it and increments nmatch), in the current group (made or resolved
 * here). NULL when out of memory, or (*err = -1) after a syntax error. */
cg_match *cg_kw_new_item(cg_rule_ps *ps, const cg_rule_opt *o, int *err);
/* The same in group g (already resolved); NULL when out of memory. */
cg_match *cg_kw_new_item_in(cg_rule_ps *ps, int g);
/* content: into group g, or the current group when g < 0. */
int cg_kw_content_in(cg_rule_ps *ps, const cg_rule_opt *o, int g);
/* The content a modifier applies to: the most recent one (NULL: error recorded). */
cg_content *cg_kw_target_content(cg_rule_ps *ps, const cg_rule_opt *o);

/* rule_kw_buf.c: the index of a group of buf without transforms that is not a
 * multi-instance block (made when missing); -1 (error recorded) or CG_ENOMEM. */
int cg_kw_plain_group(cg_rule_ps *ps, const cg_rule_opt *o, uint8_t buf);
/* rule_kw_buf.c: resolves the current group before an item goes in; the index,
 * -1 (error recorded) or CG_ENOMEM. */
int cg_kw_current_group(cg_rule_ps *ps, const cg_rule_opt *o);
/* rule_kw_buf.c: the buffer a pcre letter (U I P Q H D M C S Y V W Z) names,
 * or -1. */
int cg_kw_pcre_letter_buf(char c);
/* rule_kw_byte.c: the index of byte_extract variable name[0..n) usable in
 * group grp (set in grp or an earlier group), or -1. */
int cg_kw_var(const cg_rule_ps *ps, const char *name, size_t n, int32_t grp);
/* Does s[0..n) look like a variable name (a letter or '_' first)? */
int cg_kw_is_name(const char *s, size_t n);

/* handlers of rule_kw.c */
int cg_kw_classtype(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_content(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_depth(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_detection_filter(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_distance(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_dsize(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_endswith(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_fast_pattern(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_flow(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_gid(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_metadata(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_msg(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_nocase(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_offset(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_pcre(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_priority(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_rawbytes(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_reference(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_rev(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_sid(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_startswith(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_target(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_threshold(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_within(cg_rule_ps *ps, const cg_rule_opt *o);

/* The rule's groups (rule.h invariant 6), rule_kw_util.c: adds a group of
 * buf at the end (is_sticky: named by a sticky buffer keyword; pos: where,
 * for messages) and returns its index, or -1/-2; whether group g has an
 * item; closes the open sticky group (it takes its first item, or is left:
 * it continues an earlier group of the same buffer and transforms when it
 * can). */
int cg_kw_add_group(cg_rule_ps *ps, uint8_t buf, int is_sticky, size_t pos);
int cg_kw_group_has_items(const cg_rule *r, uint32_t g);
void cg_kw_close_open(cg_rule_ps *ps);

/* ---- handlers outside rule_kw.c ------------------------------------------- */

int cg_kw_sticky(cg_rule_ps *ps, const cg_rule_opt *o);     /* http.uri, ... */
int cg_kw_legacy_mod(cg_rule_ps *ps, const cg_rule_opt *o); /* http_uri, ... */
int cg_kw_uricontent(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_pkt_data(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_transform(cg_rule_ps *ps, const cg_rule_opt *o); /* dotprefix, ... */
int cg_kw_bsize(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_urilen(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_isdataat(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_byte_test(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_byte_jump(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_byte_extract(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_flowbits(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_base64_decode(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_base64_data(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_xbits(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_flowint(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_app_layer_event(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_noalert(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_tag(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_flags(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_itype(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_icode(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_ttl(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_ip_proto(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_stream_size(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_app_layer_protocol(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_tls_version(cg_rule_ps *ps, const cg_rule_opt *o);
int cg_kw_dns_opcode(cg_rule_ps *ps, const cg_rule_opt *o);

/* rule_kw_buf.c: groups after the last option (part of cg_rule_kw_finish). */
int cg_kw_finish_groups(cg_rule_ps *ps);

#endif
