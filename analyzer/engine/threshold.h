/* threshold.h — per-worker state of the threshold and detection_filter keywords.
 *
 * Semantics (Suricata's), per tracked key (the rule and the packet's source,
 * destination, both, or nothing for by_rule), in windows of `seconds` that
 * start at the first match of the window:
 *   limit            alert on the first `count` matches of each window
 *   threshold        alert on every count-th match of a window
 *   both             alert once per window, at the count-th match
 *   detection_filter alert on every match after the count-th of a window
 *
 * A fixed-size open-addressing table built at creation: no allocation per
 * packet. When a probe run is full of live entries, the oldest one is
 * reclaimed and the event counted (cg_threshold_table.full).
 */
#ifndef CG_THRESHOLD_H
#define CG_THRESHOLD_H

#include <stdint.h>

#include "analyzer/lang/rule.h"

typedef struct cg_threshold_table cg_threshold_table;

int cg_threshold_create(cg_threshold_table **out, uint32_t capacity);
void cg_threshold_destroy(cg_threshold_table *t);
/* Forgets every entry: the table is as cg_threshold_create left it. */
void cg_threshold_clear(cg_threshold_table *t);

/* 1 when a match of rule (index ri) on a packet src->dst at ts_us should alert
 * under th; updates the state. th->type CG_TH_NONE always alerts. */
int cg_threshold_check(cg_threshold_table *t, const cg_threshold *th, uint32_t ri,
                       const uint8_t src[16], const uint8_t dst[16], uint64_t ts_us);

uint64_t cg_threshold_reclaimed(const cg_threshold_table *t);

#endif
