/* policy.h — the layer policy (rules/layers.conf): which of the four layers
 * of the model (store.h, "Layers") an incident reaches at once, and which it
 * climbs to when it stays unacknowledged.
 *
 * File format (README.md, "Layers"): UTF-8 text, one clause per line; `#`
 * begins a comment (outside quotes), blank lines are skipped:
 *
 *     when CONDITIONS : ACTION ; ACTION ...
 *
 *     CONDITIONS := "any" | COND ( "and" COND )*
 *     COND       := FIELD OP VALUE | FIELD ["not"] "in" "[" VALUE ("," VALUE)* "]"
 *     OP         := = != < <= > >=          (< and > on ordered fields only)
 *     ACTION     := "layers" N ([","] N)*   the layers it reaches at once
 *                 | "after" DURATION "layer" N
 *                                          left new (unacknowledged) that
 *                                          long after its first alert, it
 *                                          climbs to layer N
 *                 | "after" DURATION "remind"
 *                                          left new that long: one reminder
 *                                          (a history entry; notified again)
 *     DURATION   := a number and a unit, s m h d w, or several (1h30m)
 *     VALUE      := a bare word, or "double quoted" (\" and \\ inside)
 *
 *   Fields:   severity (sev)   high medium low info, or 1..255; ordered by
 *                              gravity (severity >= medium: medium or high)
 *             classtype        text
 *             sid gid count    numbers
 *             layer            1..4: the incident has that layer; = != in.
 *                              The sensor decides on what it knows, the
 *                              rule's metadata ("layer 4"); the time pass on
 *                              every layer the store holds, escalations too
 *                              (so a clause on a layer the policy gives may
 *                              match there and not at creation)
 *             src.country dst.country country     two letters (VN), "" unknown
 *             src.agency dst.agency agency        text (the asset file's)
 *             src.zone dst.zone zone              text ("DMZ")
 *   X alone is either side: = and in hold when one side matches, != and
 *   not in when neither does. Text compares case-insensitively.
 *
 * Directives, beside the clauses (each at most once, except share allow):
 *
 *     target SEVERITY acknowledge DURATION [resolve DURATION]
 *                    the time an incident of that severity (high medium low
 *                    info) may take to be acknowledged (its status leaves
 *                    new) and to be resolved (resolved or false-positive);
 *                    reports list the breaches. Either may be alone.
 *     identity "NAME"                the SOC's identity in shared bundles
 *     share tlp NAME                 the default TLP 2.0 marking of a share:
 *                                    clear green amber amber+strict red
 *     share allow WHAT [, WHAT...]   what may leave in a shared bundle:
 *                                    internal-addresses agency-names payloads
 *                                    (none of them when no line allows it)
 *
 * Semantics:
 *  - Clauses are tried in file order; the first whose conditions all hold
 *    decides, as a firewall's rules do. No clause: the policy adds nothing
 *    (the rule's metadata layers still hold).
 *  - Layers only climb. "At once" is decided when the incident is created
 *    and when it changes (cg_policy_decide with now_us 0); the timed steps by
 *    a time pass (cg_policy_pass) at now_us, counted from the incident's first
 *    alert, and only while its status is new: triage that acknowledges it
 *    stops its clock.
 *  - Each escalation names its cause, the file's name and the clause's line:
 *    "layers.conf:12", "layers.conf:12: after 15m".
 *
 * Checks (cg_policy_parse): every error of the file is reported, one line
 * each, with its line (an unknown field, a bad value or duration, a layer
 * that does not exist, ...), and nothing is built when there is one.
 * Warnings do not stop it: a clause that can never match (its conditions
 * contradict each other, or an earlier clause takes every incident it
 * would), a step to a layer the clause gives sooner.
 *
 * Invariants: a cg_policy is immutable once built (evaluation from many
 * threads at once is safe and allocates nothing); every clause has at least
 * one action; layers are 1..4; steps' durations are > 0 and at most 366 days.
 */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct cg_policy cg_policy;

#define CG_POLICY_CLAUSES_MAX 1024
#define CG_POLICY_STEPS_MAX 8

/* A problem of the file: warning 0 is an error. line is 1-based (0: the file
 * as a whole). msg is one line without the file's name. */
typedef void (*cg_policy_diag_fn)(int warning, unsigned line, const char *msg, void *arg);

/* Parses text[0..len) (need not end in NUL); name is the file's name as the
 * causes say it ("layers.conf": the base name of a path is taken). Every
 * problem goes to fn (NULL: not reported). 0 and *out on success (warnings
 * allowed), CG_EFAIL when an error was reported, CG_ENOMEM. */
int cg_policy_parse(cg_policy **out, const char *name, const char *text, size_t len,
                    cg_policy_diag_fn fn, void *arg);
/* Reads and parses the file at path (CG_EIO: fn gets line 0 and why). */
int cg_policy_load(cg_policy **out, const char *path, cg_policy_diag_fn fn, void *arg);
void cg_policy_destroy(cg_policy *p);
/* The number of clauses, and the clause that first matches inc (-1: none). */
size_t cg_policy_nclauses(const cg_policy *p);
int cg_policy_match(const cg_policy *p, const cg_incident *inc);

/* What the policy owes an incident. */
typedef struct cg_policy_action {
    uint8_t layers;   /* CG_LAYER bits to add; 0 for a reminder */
    uint8_t remind;   /* a reminder: once per step (CG_ESC_ONCE) */
    uint16_t clause;  /* its index */
    int16_t step;     /* -1: at once; else the step's index in the clause */
    uint32_t after_s; /* the step's delay */
} cg_policy_action;

/* The escalations the first clause matching inc owes it that inc->layers
 * does not show: its layers at once (one action), and when now_us is not 0
 * and inc is new, each step due at now_us (first_us + delay <= now_us):
 * a layer not reached yet, or a reminder. Up to max into out; returns the
 * number (at most 1 + CG_POLICY_STEPS_MAX). */
size_t cg_policy_decide(const cg_policy *p, const cg_incident *inc, uint64_t now_us,
                        cg_policy_action *out, size_t max);
/* The cause of a: "layers.conf:12", "layers.conf:12: after 15m". */
void cg_policy_why(const cg_policy *p, const cg_policy_action *a, char *buf, size_t len);

/* The time targets of severity sev (1 high, 2 medium, 3 low, 4.. info): 1
 * with *ack_s and *resolve_s (0: that one is not set; NULL allowed) when a
 * target line covers it, 0 when none does. */
int cg_policy_target(const cg_policy *p, uint8_t sev, uint32_t *ack_s, uint32_t *resolve_s);
/* The line of sev's target, 0 when none. */
unsigned cg_policy_target_line(const cg_policy *p, uint8_t sev);
/* The SOC's identity name, NULL when the file names none. */
const char *cg_policy_identity(const cg_policy *p);
/* What may leave in a shared bundle (share allow): CG_SHARE_* bits, 0 by
 * default. Internal: the asset file's addresses, RFC 1918/4193, loopback,
 * link-local. Agency: the asset file's agency and zone names. Payload:
 * evidence bytes, URIs and URLs, user agents, matched text. */
#define CG_SHARE_INTERNAL 0x1
#define CG_SHARE_AGENCY 0x2
#define CG_SHARE_PAYLOAD 0x4
unsigned cg_policy_share_allow(const cg_policy *p);
/* The default TLP ("clear" "green" "amber" "amber+strict" "red"), NULL when
 * the file names none. */
const char *cg_policy_tlp(const cg_policy *p);
/* The file's base name ("layers.conf"), as the causes say it. */
const char *cg_policy_name(const cg_policy *p);

/* The history's "who" of every escalation the policy makes. */
#define CG_POLICY_WHO "policy"

/* Applies the actions owed to inc (as cg_policy_decide says) with
 * cg_store_escalate: in st's open batch when it has one. *applied (NULL
 * allowed) counts the history entries written. 0 or the store's code. */
int cg_policy_apply(const cg_policy *p, cg_store *st, const cg_incident *inc, uint64_t now_us,
                    uint64_t when_us, unsigned *applied);

typedef struct cg_policy_pass_stats {
    uint64_t open;      /* new incidents looked at */
    uint64_t escalated; /* incidents given a new layer */
    uint64_t reminders; /* reminders written */
    uint64_t entries;   /* history entries written */
} cg_policy_pass_stats;

/* The time pass: every new incident of st as last committed, its due steps
 * applied (history when_us = now_us). On a writer handle with a batch open
 * they go into it, and when chunk is not 0 that batch is committed and
 * another begun between two incidents once chunk history entries were
 * written into it (the caller commits the last; a pass over a large backlog stays within LMDB's dirty pages);
 * chunk must be 0 without a batch. Otherwise each incident is one short
 * transaction (a triage handle works while a sensor writes, at the cost of
 * a synchronous commit each). Memory: 24 bytes per action owed. 0 or the
 * store's code (its message in cg_store_error). */
int cg_policy_pass(const cg_policy *p, cg_store *st, uint64_t now_us, uint32_t chunk,
                   cg_policy_pass_stats *out);

#endif
