/* verify.h — the full check of one rule against what detection saw (after the
 * prefilter): the packet and flow, the flow's state, and the buffers of one
 * packet or transaction.
 *
 * Detection calls, for a candidate rule r:
 *
 *   cg_verify_header(r, p, f, to_server)    transport, addresses, ports (both
 *       ways for <>), flow direction and state, dsize, flags, itype, icode,
 *       ttl, ip_proto — all from the packet;
 *   cg_verify_flowinfo(r, p, fi)            the rule's application protocol
 *       (alert http/dns/tls), app-layer-protocol, stream_size;
 *   cg_flowbits_check(r, bits)              isset / isnotset on the flow's bits;
 *   cg_verify_rule(vc, r, bs)               every group of r on the buffer set,
 *       tls.version, dns.opcode;
 * and when all hold: cg_flowbits_apply(r, bits) (set / unset / toggle, whether
 * or not the rule alerts), then an alert unless r->noalert (and thresholds).
 *
 * Matching a group (rule.h invariants 2, 6, 7) follows Suricata's content
 * inspection. Items are walked in rule order with a cursor (0 at the start):
 *   - absolute content: window [offset, offset+depth) (depth counts from offset);
 *   - relative content (distance/within): window starts at cursor + distance
 *     (not before 0), ends at cursor + distance + within;
 *   - startswith = depth of the content's length; endswith = the match ends the
 *     buffer; a negated content matches when absent from its window; a match
 *     moves the cursor to its end;
 *   - pcre: PCRE2 from the start, or with R on the buffer from the cursor (^
 *     anchors there); a match moves the cursor to its end;
 *   - isdataat n: byte n exists (n < len); isdataat n,relative: n more bytes
 *     after the cursor (cursor + n <= len); ! inverts;
 *   - byte_test / byte_jump / byte_extract read nbytes at offset (from the
 *     cursor with relative; never with an empty buffer, nor at or past its end
 *     when relative); big endian unless little; with string the characters are
 *     read as strtoull reads them (leading blanks, a sign, 0x for hex) and the
 *     characters it used count as read; bitmask ANDs and shifts right by the
 *     mask's trailing zeros. byte_test compares (& and ^ match when the result
 *     is not 0; ! inverts) and leaves the cursor; byte_jump multiplies, aligns
 *     to 4, adds post_offset, then jumps from the bytes' end (from_beginning:
 *     from 0, from_end: from the end); a jump before 0 lands on 0, at or past
 *     the end fails; byte_extract multiplies, aligns, keeps the value in its
 *     variable and moves the cursor past the bytes;
 *   - bsize (and urilen) compare the buffer's length;
 *   - base64_decode decodes from the buffer's start or the cursor (relative)
 *     plus offset, at most bytes digits (else CG_VERIFY_B64_IN), up to the
 *     first non-digit ('=' included), into vc's b64 buffer; the base64_data
 *     group is matched there as the continuation of this chain (its failure
 *     is this item's), then the rest of the chain; nothing decoded fails;
 *   - when a later item relative to a content's or pcre's end fails, later
 *     occurrences of that content or pcre are tried (backtracking), bounded by
 *     CG_VERIFY_BUDGET steps per group and buffer instance.
 * Transforms are applied to a copy in vc's scratch first; a buffer larger than
 * the scratch is not matched (counted in transform_overflow). Groups are
 * checked in order; byte_extract values carry over to later groups (rule.h
 * invariant 8) as the earlier group's match left them.
 *
 * Thread: a cg_verify_ctx belongs to one worker. Nothing here allocates after
 * cg_verify_ctx_init.
 */
#ifndef CG_VERIFY_H
#define CG_VERIFY_H

#include <stdint.h>

#include "analyzer/lang/rule.h"
#include "sensor/buffers.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

#define CG_VERIFY_BUDGET 3000
#define CG_VERIFY_SCRATCH (256u * 1024) /* largest buffer a transform is applied to */
#define CG_VERIFY_B64_IN 65536u         /* base64 characters base64_decode takes at most */

typedef struct cg_verify_ctx {
    void *match_data;            /* pcre2_match_data *, one ovector pair */
    uint32_t budget;             /* steps left for the current group and buffer */
    uint64_t pcre_errors;        /* PCRE2 returned an error (limits) */
    uint64_t vars[CG_BYTE_VARS]; /* byte_extract values of the rule being checked */
    uint8_t *scratch;            /* CG_VERIFY_SCRATCH + 8 bytes for transformed buffers */
    uint8_t *b64;                /* what base64_decode decoded (CG_VERIFY_B64_IN * 3 / 4) */
    uint64_t transform_overflow; /* buffers too large to transform (not matched) */
} cg_verify_ctx;

/* Allocates the PCRE2 match data and the scratch. 0, or -1 (vc freed). */
int cg_verify_ctx_init(cg_verify_ctx *vc);
void cg_verify_ctx_free(cg_verify_ctx *vc);

/* What detection knows of the flow beyond cg_flow. */
typedef struct cg_flowinfo {
    uint8_t app_proto;   /* CG_APP_*: NONE while not yet identified, FAILED when
                          * identification gave up */
    uint32_t client_seq; /* stream_size: next sequence number minus the ISN, per */
    uint32_t server_seq; /* side (Suricata's count: the SYN and FIN count one each) */
} cg_flowinfo;

/* 1 when the rule's header, flow, dsize and packet-header keywords hold for p. */
int cg_verify_header(const cg_rule *r, const cg_packet *p, const cg_flow *f, int to_server);

/* 1 when the rule's application protocol, app-layer-protocol and stream_size
 * hold. fi NULL: no flow information (such conditions fail). An unidentified
 * protocol (NONE) matches neither app-layer-protocol:x nor !x. stream_size
 * needs a TCP packet. */
int cg_verify_flowinfo(const cg_rule *r, const cg_packet *p, const cg_flowinfo *fi);

/* 1 when every group of r matches: its buffer present in bs and its items
 * holding on one instance (any instance, each group on its own); payload
 * groups match the CG_BUF_PAYLOAD view when r->packet_ok and a CG_BUF_STREAM
 * view when r->stream_ok. tls.version needs bs->tls_version (0: unknown, no
 * match); dns.opcode needs a DNS message (CG_BUF_DNS_QUERY present). A rule
 * without groups matches. */
int cg_verify_rule(cg_verify_ctx *vc, const cg_rule *r, const cg_bufset *bs);

/* The payload part alone, for a caller that has only the packet: 1 when r's
 * only conditions beyond the header are match items on buffer buf_id
 * (CG_BUF_PAYLOAD or CG_BUF_STREAM, as r allows) and they hold on buf. Rules
 * that need anything else (other buffers, flowbits checks, noalert,
 * app-layer-protocol, stream_size, tls.version, dns.opcode) give 0. The
 * protocol of an `alert http/dns/tls` rule is not checked here (the caller
 * has no application-layer information; such rules are matched as their
 * transport, as before cg_verify_rule existed). */
int cg_verify_buffer(cg_verify_ctx *vc, const cg_rule *r, uint8_t buf_id, const uint8_t *buf,
                     uint32_t len);

/* flowint: ints is the flow's array of cg_ruleset_flowints(rs) words, each
 * the value (low 32 bits) and bit 32 when set; NULL: no flow (comparisons
 * and isset fail, notset holds, changes are dropped). cg_flowints_check: 1
 * when the rule's comparisons, isset and notset hold (a comparison with an
 * unset name fails); cg_flowints_apply: its + - = in rule order (+ and - on
 * an unset one start from 0; 32-bit arithmetic wraps, as Suricata's). */
int cg_flowints_check(const cg_rule *r, const uint64_t *ints);
void cg_flowints_apply(const cg_rule *r, uint64_t *ints);

/* flowbits: bits is the flow's array of CG_FLOWBITS_WORDS(cg_ruleset_flowbits)
 * words (bit id = word id/64, bit id%64). check: 1 when every isset/isnotset
 * of r holds ('|': one of the names, '&' or one name: all of them); NULL bits
 * count as all clear. apply: r's set, unset and toggle in rule order. */
int cg_flowbits_check(const cg_rule *r, const uint64_t *bits);
void cg_flowbits_apply(const cg_rule *r, uint64_t *bits);

/* 1 when v passes the integer test u (CG_U_NONE passes). */
int cg_uint_match(const cg_uint *u, uint64_t v);

#endif
