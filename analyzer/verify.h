/* verify.h — the full check of one rule against one packet (after the prefilter).
 *
 * Header part: transport, addresses, ports (both ways for `<>`), flow
 * direction and state, dsize. Payload part: the rule's match list in order,
 * with Suricata's content-inspection semantics:
 *   - absolute content: window [offset, offset+depth) (depth counts from offset);
 *   - relative content (distance/within): window starts at the previous match's
 *     end + distance, and ends at previous end + distance + within;
 *   - startswith = depth of the content's length; endswith = the match ends the
 *     buffer; a negated content matches when absent from its window;
 *   - when a later relative item fails, earlier occurrences are retried
 *     (backtracking), bounded by CG_VERIFY_BUDGET steps per rule;
 *   - pcre: PCRE2 from the start (or from the previous match end with R).
 * Internal to the analyzer; no allocation: the caller owns the PCRE2 match data.
 */
#ifndef CG_VERIFY_H
#define CG_VERIFY_H

#include <stdint.h>

#include "analyzer/rule.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

#define CG_VERIFY_BUDGET 3000

typedef struct cg_verify_ctx {
    void *match_data;          /* pcre2_match_data *, one ovector pair */
    uint32_t budget;           /* steps left for the current rule */
    uint64_t pcre_errors;      /* PCRE2 returned an error (limits) */
} cg_verify_ctx;

/* 1 when the rule's header, flow and dsize conditions hold for p. */
int cg_verify_header(const cg_rule *r, const cg_packet *p, const cg_flow *f, int to_server);

/* 1 when the rule's match list holds on buf (the items of buffer `buf_id`). */
int cg_verify_buffer(cg_verify_ctx *vc, const cg_rule *r, uint8_t buf_id,
                     const uint8_t *buf, uint32_t len);

#endif
