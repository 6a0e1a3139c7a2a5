/* xbits.h — per-worker state of the xbits keyword: bits kept per host or per
 * address pair, across flows, each with an expiry time.
 *
 * Semantics (Suricata's xbits with track ip_src, ip_dst or ip_pair): a bit is
 * keyed by its name and a host (the packet's source address for ip_src, its
 * destination for ip_dst: the same host bit either way, so a bit set on a
 * request's source is seen on the reply's destination) or an address pair
 * (whichever way the packet goes). `set` makes it hold for
 * `expire` seconds of capture time from the packet (a set again restarts
 * that), `unset` clears it, `toggle` flips it; `isset` holds while it has
 * not expired, `isnotset` otherwise. A rule's checks all hold before its
 * commands run, in rule order, when it matches.
 *
 * A fixed-size open-addressing table built at creation: no allocation per
 * packet. A set that finds its probe run full of live bits takes the slot
 * of the one that expires first, and counts it (cg_xbits_reclaimed).
 */
#ifndef CG_XBITS_H
#define CG_XBITS_H

#include <stdint.h>

#include "analyzer/lang/rule.h"

typedef struct cg_xbits cg_xbits;

int cg_xbits_create(cg_xbits **out, uint32_t capacity);
void cg_xbits_destroy(cg_xbits *t);
/* Forgets every bit: the table is as cg_xbits_create left it. */
void cg_xbits_clear(cg_xbits *t);

/* 1 when every isset / isnotset of r holds for a packet src->dst at ts_us. */
int cg_xbits_check(const cg_xbits *t, const cg_rule *r, const uint8_t src[16],
                   const uint8_t dst[16], uint64_t ts_us);

/* Runs r's set, unset and toggle for that packet. */
void cg_xbits_apply(cg_xbits *t, const cg_rule *r, const uint8_t src[16], const uint8_t dst[16],
                    uint64_t ts_us);

uint64_t cg_xbits_reclaimed(const cg_xbits *t);

#endif
