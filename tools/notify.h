/* notify.h — delivery of the store's outbox (store.h "the outbox") to
 * notify targets: the pages an on-call analyst gets for each escalation.
 *
 * Targets, by spec (`--notify SPEC`, repeatable):
 *   file:PATH  one JSON line per notification appended to PATH (made 0640),
 *              fsync'ed before the notifications are marked sent;
 *   exec:CMD   /bin/sh -c CMD in a process group of its own, the JSON (one
 *              line) on its stdin, one process per notification: exit 0 is
 *              accepted; another status, a signal, or still running after
 *              the timeout (the group is killed: SIGKILL) is a failure;
 *   syslog     syslog(3), facility LOG_AUTHPRIV, LOG_ALERT, one line:
 *              "canhgac: ID: incident N (sid S, high): layers 1 2 -> 1 2 3
 *              (CAUSE) SRC:PORT -> DST:PORT SIGNATURE".
 *
 * Delivery: each target's records in key order (incident, seq), the oldest
 * first; a target stops at its first failure (it is down: its later records
 * wait behind it, in order) and at a record whose next try has not come;
 * a failed record is tried again after 2^(attempts-1) s, at most 300 s. A
 * record is deleted only after its target accepted it (store_outbox.c's
 * invariant 2): a kill between the two delivers it again, same id.
 *
 * The JSON of a notification: README "Notification". Its notification_id,
 * "ORIGIN-INCIDENT-SEQ" (ORIGIN: the 32 hex digits of the store's log
 * name), is stable across re-sends, so receivers de-duplicate by it.
 *
 * Threads: a cg_notify is driven from one thread at a time: the caller's
 * (cg_notify_drain) or its own (cg_notify_start .. cg_notify_stop); it
 * reads the store through reader calls and writes through the outbox's own
 * short transactions, so it may share the sensor's writer handle while the
 * writer's thread has a batch open. The sensor never waits for a target.
 */
#ifndef CG_NOTIFY_H
#define CG_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct cg_notify cg_notify;

typedef struct cg_notify_stats {
    uint64_t sent;    /* notifications a target accepted (and marked sent) */
    uint64_t failed;  /* attempts that failed */
    uint64_t pending; /* records of these targets still in the outbox */
} cg_notify_stats;

/* 0 when spec is a target ("file:PATH", "exec:CMD", "syslog"), else -1
 * with the reason in err ("--notify: 'mail:x': not a target (file:PATH,
 * exec:CMD, syslog)"). */
int cg_notify_spec_check(const char *spec, char *err, size_t len);

/* --notify-timeout's SECONDS: 1 .. 3600. 0, or -1. */
int cg_notify_timeout_parse(const char *s, uint32_t *out);

/* A deliverer of specs[0..n) (each checked) from st's outbox; timeout_s (1
 * .. 3600) bounds an exec target's run. 0, or -1 with err. Ignores SIGPIPE
 * for the process (an exec target that closes its stdin early). */
int cg_notify_create(cg_notify **out, cg_store *st, const char *const *specs, size_t n,
                     uint32_t timeout_s, char *err, size_t len);
void cg_notify_destroy(cg_notify *nf);

/* One pass over the targets' records (force: also those whose next try has
 * not come; the head of each target is tried once). Stops starting
 * deliveries at deadline_mono (CLOCK_MONOTONIC seconds; 0: none). 0, or a
 * store error (its message in cg_store_error on this thread). */
int cg_notify_drain(cg_notify *nf, int force, double deadline_mono);

/* Its own thread: a pass every period_ms. stop: waits for the delivery in
 * progress, then one forced pass within final_s seconds; what is left stays
 * in the outbox. */
int cg_notify_start(cg_notify *nf, unsigned period_ms);
void cg_notify_stop(cg_notify *nf, double final_s);

/* The counters (pending counted in the store now). */
void cg_notify_stats_get(cg_notify *nf, cg_notify_stats *out);
/* The same without reading the store: pending as the thread counted it
 * after its last pass. Any thread (the EVE stats line, ctl stats). */
void cg_notify_counters(cg_notify *nf, cg_notify_stats *out);

/* The notification of outbox record e as one JSON line (no newline) in a
 * malloc'ed string in *out; 0, CG_ENOTFOUND (incident or entry missing),
 * or a store code. */
int cg_notify_json(cg_store *st, const char *origin_hex, uint64_t incident, uint64_t seq,
                   char **out, char **summary);

#endif
