/* store_report.h — the reads a period report needs (tools/cmd_report.c):
 * incidents together with their histories, in one read transaction.
 *
 * cg_store_history calls one transaction per incident; a report over a
 * quarter of millions of incidents reads them and their histories in one
 * snapshot instead, so every figure of a report is of the same moment.
 *
 * Contract: each call is one read-only transaction; the incident and the
 * history entries given to a callback are views valid until it returns.
 * A callback that returns non-zero stops the walk (0 is returned). A record
 * that does not decode is CG_ECORRUPT, as cg_store_query says.
 */
#ifndef CG_STORE_REPORT_H
#define CG_STORE_REPORT_H

#include <stddef.h>

#include "store/store.h"

/* An incident and its whole history in seq order (h may be NULL when n is
 * 0). */
typedef int (*cg_store_report_fn)(const cg_incident *inc, const cg_history *h, size_t n, void *arg);

/* Every incident matching q (as cg_store_query: newest first, the same
 * filters and predicate) with its history. The history cursor moves with
 * the walk (ids descend; it seeks only past the histories of incidents
 * the query skips), so incidents without history cost no read. */
int cg_store_report_walk(cg_store *st, const cg_query *q, cg_store_report_fn cb, void *arg);

/* Every incident that has a history entry at or after since_us, in id
 * order, with its whole history: one pass over the history database. An
 * entry without its incident (it was never stored) is CG_ECORRUPT. */
int cg_store_report_changed(cg_store *st, uint64_t since_us, cg_store_report_fn cb, void *arg);

#endif
