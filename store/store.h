/* store.h — the LMDB incident store: its API is its manual.
 *
 * An LMDB environment in a directory. One writer (the sensor, through
 * cg_store_begin/put/commit: batched transactions), triage changes from the
 * analysts' tools in short transactions of their own, and any number of
 * readers (query, report) reading snapshots at the same time without
 * blocking either. The byte layouts of records and keys are in
 * store_rec.c's header, how the pieces hold in store.c's, the planner in
 * store_query.c's; the schema version is in the "meta" database.
 *
 * The incident model
 * ------------------
 *  - An alert is one rule firing on one packet. An incident folds the alerts
 *    that share a key — (gid, sid, source address, destination address,
 *    destination port) — and fall within a window after the incident's first
 *    alert (analyzer/output/incident.h does the folding; the store keeps what it is
 *    given). It keeps first and last seen, the exact count, the ports, flow
 *    id and Community ID of its first alert, the rule's severity, layers,
 *    message and classtype, the first evidence packets, and every alert
 *    (time, flow id, Community ID, ports, severity, evidence number), up to
 *    an optional cap per incident (cg_store_set_alert_cap): `count` stays
 *    exact when alerts beyond the cap are not stored.
 *  - Severity: 1 high .. 4 info (rules may use up to 255). An incident's
 *    severity is that of its first alert, which is also its highest: a later
 *    alert of the same key with a higher severity (a lower number) opens a
 *    new incident whose escalated_from names the one it escalates. Triage may
 *    override the severity (CG_INC_SEV_SET); rule_severity keeps what
 *    detection said (the rule's), and removing the override goes back to it.
 *  - Enrichment: per side (source, destination) the country (ISO 3166-1
 *    alpha-2), city, AS number and organisation, the owning agency and the
 *    network zone, and which GeoIP database (type, build date) said so.
 *  - Context: what the analyst reads to see the request behind the first
 *    alert: its application protocol, the HTTP request (method, host, URL,
 *    user agent) and response status, the DNS query, the TLS server name and
 *    JA3 hash, and an excerpt of at most 1024 payload bytes around the match
 *    with the match's offset in it. Given once, when the incident is created;
 *    re-puts without it keep it (cg_store_put).
 *  - Attacks: "one attack, one story". The incidents of one source against
 *    one destination (the address pair: any rule, any port) that follow each
 *    other within the attack window (an hour by default,
 *    cg_store_set_attack_window) share an attack id: a new incident joins
 *    its pair's attack when its first alert is within the window of the
 *    attack's last seen; else the attack of the pair the other way (the
 *    other side of the conversation); else the attack whose destination,
 *    within the window, was this incident's source (the victim's next step:
 *    a callback, a move to a third host; store_attack.c); else it starts an
 *    attack named by its own id. So an
 *    attack id is the id of the attack's first incident, and never above the
 *    id of an incident in it. cg_store_put assigns it; by_attack finds an
 *    attack's incidents, cg_store_attacks groups a query's matches by attack.
 *  - Layers: the four layers of the model (CG_LAYER bits, analyzer/lang/
 *    rule.h) an incident has reached: its rule's metadata ("layer 4"), and
 *    what the layer policy escalates (cg_store_escalate, with a history
 *    entry naming the clause). They only climb.
 *  - Triage: a status (new, acknowledged, investigating, resolved,
 *    false-positive), an assignee, a severity override and notes, changed
 *    only through cg_store_triage_set and cg_store_note_add. Every change
 *    appends to the incident's history (who, when, field, old and new
 *    value); nothing in the API rewrites or removes history.
 *  - The sensor re-puts an incident as it grows: cg_store_put replaces the
 *    fold's fields and keeps the triage fields (status, assignee, severity
 *    override, notes) of the stored record, read inside the writer's
 *    transaction, so a triage change committed between two batches is never
 *    overwritten.
 *
 * Named databases (byte layouts in store_rec.c):
 *   meta        "schema" -> be32 version; "next_id" -> be64
 *   incidents   be64 id -> incident record (version 3; version 2 read too)
 *   alerts      be64 id | be32 seq -> alert record
 *   evidence    be64 id | be32 seq -> evidence record (packet bytes)
 *   history     be64 id | be64 seq -> history record (triage changes, notes,
 *               escalations, shares)
 *   parts       be32 partition -> the span of first_us of its incidents
 *   pairs       be32 hour | src16 | dst16 -> be64 attack id | be64 last seen:
 *               the attacks of each address pair by the hour of their last
 *               seen (schema 3)
 *   log, log_nodes (schema 4): the tamper-evident log (store_log.c)
 *   cases, case_history, by_case (schema 5): cases (store_case.c)
 *   (schema 6 is schema 5 whose history may hold escalations: kind 5)
 *   outbox (schema 7): be64 target | be64 incident | be64 seq -> the
 *               notification of that history entry still owed to that
 *               target (store_outbox.c); and from schema 7 the history may
 *               hold shares (kind 6: what share sent in which bundle)
 *   users, tokens, audit (schema 8): the console's accounts, API tokens
 *               and audit trail (store_user.h, layouts in store_user.c)
 *   by_time, by_src, by_dst, by_sid, by_sev, by_status, by_src_cc,
 *   by_dst_cc, by_src_asn, by_dst_asn, by_dport, by_community, by_assignee,
 *   by_attack (schema 3):
 *               one index per field: field key -> the ids that have it, in
 *               key then id order (a CIDR is one range of by_src/by_dst).
 *               The scattered ones are kept per partition of 32768 ids (the
 *               newest partition takes a batch's writes; a page of newest
 *               results reads the newest partitions and stops; a time filter
 *               skips the partitions outside it).
 *
 * Contract:
 *  - Functions return 0 or a negative error.h code; a message for the
 *    last error of the handle is in cg_store_error(). Output parameters are
 *    written only on success.
 *  - A full map (CG_EFULL) aborts the open batch (or the triage
 *    change) only; everything committed before stays, and the store opens
 *    again.
 *  - Views returned by readers (strings of a cg_incident, cg_alert,
 *    cg_history; evidence bytes) live until the callback returns.
 *  - Ids are handed out in creation order, so "newest first" is descending
 *    id; a query's results come in that order.
 *  - Opening, by flags:
 *      0 (the writer): creates DIR (one level, mode 0750; data.mdb and lock.mdb 0640, less the umask) and the store in it
 *        when missing, and holds DIR/writer.lock (flock) while open: a second
 *        writer gets CG_EBUSY.
 *      CG_STORE_RDONLY (query side): never writes, never takes writer.lock.
 *      CG_STORE_TRIAGE (analysts' tools): reads, and writes triage changes
 *        only; never takes writer.lock, so it opens while a sensor runs.
 *    A reader or triage handle on a missing store is CG_ENOTFOUND ("DIR:
 *    no canhgac store here"). A newer schema is CG_ENEWER, schema 1
 *    CG_EOLDER (the message says to re-create the store), something
 *    that is not a canhgac store CG_ECORRUPT, and a refused store is
 *    left as it was.
 *  - Older schemas: a writer or a triage handle migrates a store of schema
 *    2 to 7 in place to schema 8 as it opens it (from 4: the cases'
 *    databases are created; from 5 the version changes: schema 6's
 *    history may hold escalations, which schema 5's readers would call
 *    damaged; from 6 and before: the outbox is created, empty; from 7 and
 *    before: users, tokens and audit are created, empty), in one write
 *    transaction (store_migrate.c), so a crash leaves the old schema or
 *    schema 8 whole.
 *    From schema 2 (the version before the context and attacks) every
 *    incident is rewritten, attacks assigned in id order with the default
 *    window, pairs and by_attack created. From schema 2 or 3 (the version
 *    before the seals) every record is sealed: a checksum after its bytes,
 *    checked by every decoder, so that a record whose bytes a damaged disk
 *    changed is CG_ECORRUPT ("damaged (incident 42: bad record (checksum
 *    mismatch))") and never read as other values. Alerts, evidence,
 *    history, triage and enrichment stay as they were. A read-only handle
 *    reads an older store as it is, without writing: its records are not
 *    checked (they have no seal); a schema 2 store's incidents have no
 *    context and attack id 0, "attack = N" matches nothing, and
 *    cg_store_attacks says CG_EOLDER (a writer must open it first).
 *  - Batches (writer handle): put, put_alert and put_evidence need an open
 *    batch (cg_store_begin). When LMDB fails inside a batch (a full map, a
 *    disk error) the batch is dropped at once: later puts return the same
 *    error and do nothing, and cg_store_commit returns it too and closes the
 *    batch (or cg_store_abort). A commit that returned 0 is on disk
 *    (synchronous LMDB commits): it survives a kill -9 or a power cut.
 *  - Triage (writer handle with no batch open, or triage handle): each call
 *    is one short write transaction of its own, committed synchronously
 *    before it returns. LMDB lets one write transaction run at a time across
 *    all processes: a triage call waits while a sensor's batch is open (the
 *    sensor commits at least every second) and the sensor's next batch waits
 *    for the triage commit, milliseconds.
 *  - Readers read the last committed state in one read-only transaction per
 *    call; on the writer's handle the open batch is invisible to them.
 *  - Queries walk incidents newest first (descending id: ids are given in
 *    creation order) and page by keyset: the cursor says where the last page
 *    stopped, never how many to skip, so incidents stored between two pages
 *    neither repeat nor shift what follows.
 *  - Threads: the reader functions may be called from many threads at once
 *    on one handle; the writer and triage functions from one thread at a
 *    time; close when nothing else runs on the handle.
 *
 * Caveats:
 *  - Open a store once per process (LMDB's rule: its locks are per process).
 *    A process that writes reads and triages through its writer handle.
 *  - A reader takes a slot in DIR/lock.mdb (LMDB's reader table), so it
 *    needs write access to it: the writer makes lock.mdb group-writable
 *    when data.mdb is group-readable (0660 and 0640 by default), so the
 *    store's group reads while the sensor writes. A CG_STORE_RDONLY handle
 *    that may read data.mdb but not write lock.mdb opens without LMDB's
 *    lock (MDB_NOLOCK) and says so on stderr: exact while no writer runs;
 *    with one running, pages it frees may be reused under the reader, whose
 *    reads may then fail as damaged.
 *  - A damaged data.mdb (pages overwritten on disk): LMDB's page errors and
 *    records that do not decode are CG_ECORRUPT, "DIR: damaged (...):
 *    restore from a backup"; a meta page naming pages past the file's end
 *    is refused at open. A read that faults inside the map, or an LMDB
 *    assertion, ends the process with that line when it asked for it
 *    (cg_store_fault_exit); cg_store_check walks a store for all of it.
 *  - writer.lock is an flock: do not put a store on a network filesystem.
 *  - by_community is a 64-bit hash of the Community ID and is only ever
 *    added to (an incident stays findable by every Community ID its alerts
 *    had); a query trusts it, where every other filter is checked again on
 *    the record.
 *  - Counts trust the indexes (cg_store_count with one indexed filter reads
 *    only index entries), as queries trust by_community.
 *  - "pairs" keeps an entry of about 60 bytes per attack (and per victim
 *    noted for it) for ever: nothing prunes the hours no window reaches
 *    any more. An attack window changed between runs only changes which
 *    later incidents join: ids already given stay.
 */
#ifndef CG_STORE_H
#define CG_STORE_H

#include "sensor/error.h"
#include <stddef.h>
#include <stdint.h>

#define CG_STORE_SCHEMA 8

/* Codes: error.h's. CG_EIO: cannot open or create, permission, disk;
 * CG_ENEWER / CG_EOLDER: written by a newer / an older schema version;
 * CG_ECORRUPT: not a canhgac store, a damaged page or a bad record; CG_EFULL:
 * the map is full, or the disk ("No space left on device": a write, a
 * commit, or creating the store; the batch is then not stored, what was
 * committed before is kept); CG_ENOTFOUND; CG_EBUSY: another writer holds the store;
 * CG_EINVAL; CG_ENOMEM. */

typedef struct cg_store cg_store;

/* flags for cg_store_open (at most one) */
#define CG_STORE_RDONLY 0x1 /* query side: never writes, store must exist */
#define CG_STORE_TRIAGE 0x2 /* triage changes only, no writer.lock; store must exist */

/* mapsize 0 = default: the store's map size, at least 16 GiB for a writer
 * (sparse: the file grows with the data); a reader's or triage handle's
 * default is the writer's size. */
int cg_store_open(cg_store **out, const char *dir, unsigned flags, uint64_t mapsize);
void cg_store_close(cg_store *st);
/* The message of the calling thread's last failed call on st, one line that
 * starts with the directory; "" when there is none. cg_store_error(NULL) is
 * the message of the thread's last failed cg_store_open. */
const char *cg_store_error(const cg_store *st);

/* ---- values ------------------------------------------------------------- */

enum {
    CG_ST_NEW = 0,
    CG_ST_ACKNOWLEDGED,
    CG_ST_INVESTIGATING,
    CG_ST_RESOLVED,
    CG_ST_FALSE_POSITIVE,
    CG_ST_COUNT
};

/* "new", "acknowledged", "investigating", "resolved", "false-positive";
 * NULL for another value. */
const char *cg_store_status_name(unsigned status);

#define CG_INC_SEV_SET 0x01 /* flags: severity was set by triage */

#define CG_STORE_TEXT_MAX 255 /* assignee and who: bytes at most */

/* One side of an incident as enrichment sees it. Strings may be NULL on put
 * (stored as ""); each is at most 65534 bytes. */
typedef struct cg_incident_geo {
    char country[3]; /* ISO 3166-1 alpha-2 ("VN"), "" when unknown */
    uint32_t asn;    /* 0 when unknown */
    const char *city;
    const char *as_org;
    const char *agency; /* the agency that owns the address (asset inventory) */
    const char *zone;   /* the network zone of the address ("dmz", ...) */
} cg_incident_geo;

#define CG_STORE_PAYLOAD_MAX 1024 /* bytes of payload excerpt an incident keeps */

typedef struct cg_incident {
    uint64_t id;        /* assigned by cg_store_new_id */
    uint64_t attack_id; /* the attack it belongs to (see The incident model);
                         * 0 on put: assigned (insert) or kept (re-put) */
    uint32_t gid, sid, rev;
    uint8_t src[16], dst[16]; /* IPv4 mapped (::ffff:a.b.c.d) */
    uint16_t sport, dport;    /* of the first alert */
    uint8_t proto;            /* IP protocol */
    uint8_t severity;         /* current: triage's when CG_INC_SEV_SET, else the fold's */
    uint8_t rule_severity;    /* what detection said: the rule's */
    uint8_t layers;           /* CG_LAYER bits */
    uint8_t status;           /* CG_ST_* */
    uint8_t flags;            /* CG_INC_* */
    uint64_t first_us, last_us;
    uint64_t count;           /* alerts folded in: exact */
    uint64_t flow_id;         /* of the first alert */
    uint64_t escalated_from;  /* the incident this one escalates, or 0 */
    uint32_t nevidence;       /* evidence packets stored */
    uint32_t nalerts;         /* alerts stored (count, or the cap) */
    uint32_t nnotes;          /* notes in the history */
    const char *community_id; /* of the first alert */
    const char *msg;
    const char *classtype; /* "" when none */
    const char *assignee;  /* "" when none */
    cg_incident_geo src_geo, dst_geo;
    const char *geo_db_type; /* the GeoIP database ("GeoLite2-City"), "" when none */
    const char *geo_db_date; /* its build date ("2025-11-18") */
    /* The context of the first alert: what the analyst reads to see the
     * request behind it. "" / 0 when unknown; strings as the others (NULL
     * on put is ""). See cg_store_put for when a re-put keeps them. */
    const char *app_proto;   /* "http" "tls" "dns" "ssh" "smtp" "ftp" "smb", "" unknown */
    const char *http_method; /* "GET" */
    const char *http_host;   /* the Host header ("portal.example") */
    const char *http_url;    /* the request target as sent ("/index.php?id=1") */
    const char *http_user_agent;
    uint16_t http_status;  /* of the response, 0 = none */
    const char *dns_query; /* the first question's name */
    const char *tls_sni;
    const char *tls_ja3; /* the client hello's JA3 hash (32 hex digits), Suricata's tls.ja3.hash */
    /* A bounded excerpt of the payload around the match (binary, at most
     * CG_STORE_PAYLOAD_MAX bytes), and where the match starts in it
     * (payload_match <= payload_len). payload may be NULL when payload_len
     * is 0. */
    const uint8_t *payload;
    uint32_t payload_len;
    uint32_t payload_match;
} cg_incident;

typedef struct cg_alert {
    uint64_t ts_us;
    uint64_t flow_id;
    const char *community_id; /* NULL on put is "" */
    uint16_t sport, dport;
    uint8_t severity;
    int32_t evidence_seq; /* the evidence packet it took, or -1 */
} cg_alert;

typedef struct cg_evidence {
    uint64_t ts_us;
    int32_t dlt;
    uint32_t caplen, wirelen;
    const uint8_t *data;
} cg_evidence;

/* What a history entry records. */
enum {
    CG_HIST_STATUS = 1,
    CG_HIST_ASSIGNEE,
    CG_HIST_SEVERITY,
    CG_HIST_NOTE,
    CG_HIST_ESCALATE,
    CG_HIST_SHARE
};

typedef struct cg_history {
    uint64_t seq; /* 0, 1, ... per incident, in the order of the changes */
    uint64_t when_us;
    const char *who;
    uint8_t kind; /* CG_HIST_* */
    /* STATUS: old_num/new_num are CG_ST_*. SEVERITY: the severity before and
     * after, and old_text/new_text "set" when that side was a triage
     * override, "" when it was the fold's. ASSIGNEE: old_text/new_text.
     * NOTE: the text is new_text. ESCALATE (schema 6): old_num/new_num are
     * the CG_LAYER bits before and after, new_text what decided it (the
     * policy's clause, "layers.conf:12"), old_text "". SHARE: the incident
     * was sent out (`canhgac share`): new_text says where ("shared in
     * bundle--UUID (TLP:AMBER) to FILE"), old_text "", the nums 0. */
    uint32_t old_num, new_num;
    const char *old_text, *new_text;
} cg_history;

/* ---- writer ------------------------------------------------------------ */

/* Reserves the next incident id (persisted at the next commit). Ids start at
 * 1 and are never handed out twice, also when a batch fails; 0 on a
 * read-only or triage handle, or past the last id (2^47 - 1). */
uint64_t cg_store_new_id(cg_store *st);
int cg_store_begin(cg_store *st);
/* Inserts incident inc->id (1 .. 2^47 - 1) as given, or replaces the stored
 * one keeping its triage fields: status, assignee, nnotes, flags, and
 * severity when CG_INC_SEV_SET; the rest is inc's (the fold's: a sensor's
 * re-put never undoes triage). Indexes are kept consistent. NULL
 * strings are stored as ""; each string is at most 65534 bytes, assignee
 * CG_STORE_TEXT_MAX; a country is "" or two letters A-Z. nalerts is stored
 * at most the alert cap.
 * The context (app_proto .. payload_match): on insert it is stored as given;
 * on a re-put each field inc leaves empty ("" or NULL, http_status 0,
 * payload_len 0: then the payload and payload_match) keeps its stored value,
 * the others replace theirs. The sensor gives it once, when it creates the
 * incident, re-puts without it as the incident grows, and with the
 * response's status alone when that comes after the alert. payload_len is at
 * most CG_STORE_PAYLOAD_MAX and payload_match at most payload_len.
 * The attack: inc->attack_id 0 on insert assigns one (as "Attacks" above
 * says, else a new attack whose id is inc->id); on a
 * re-put 0 keeps the stored one. A given attack id is stored as it is and
 * must be 1..inc->id (CG_EINVAL otherwise). Every put keeps the
 * pair's last seen up to date.
 * Layers only climb: a re-put stores inc's layers together with the stored
 * ones (the rule's metadata and every escalation stay). */
int cg_store_put(cg_store *st, const cg_incident *inc);
/* Alert seq (0-based, in the order of the fold) of incident id. With a cap
 * set and seq >= cap nothing is stored, and 0 is returned: the incident's
 * count stays what the fold says. Its Community ID is added to
 * by_community for the incident either way. */
int cg_store_put_alert(cg_store *st, uint64_t id, uint32_t seq, const cg_alert *a);
int cg_store_put_evidence(cg_store *st, uint64_t id, uint32_t seq, const cg_evidence *ev);
/* Commits the batch; on failure (EFULL, EIO) the batch is dropped. */
int cg_store_commit(cg_store *st);
void cg_store_abort(cg_store *st);
/* Alerts stored per incident on this handle: the first cap (seq < cap);
 * 0 (the default) keeps every alert. A flood of one key then costs at most
 * cap alert records, whatever its count. */
void cg_store_set_alert_cap(cg_store *st, uint32_t cap);
/* The attack window of this handle's puts, in seconds (default 3600): an
 * incident joins its address pair's attack when its first_us is within
 * that many seconds (before or after) of the attack's last seen. 0 puts
 * every new incident in an attack of its own. */
void cg_store_set_attack_window(cg_store *st, uint64_t seconds);

/* ---- triage ------------------------------------------------------------ */

#define CG_TRIAGE_STATUS 0x1
#define CG_TRIAGE_ASSIGNEE 0x2
#define CG_TRIAGE_SEVERITY 0x4

/* Sets the fields of incident id named in mask: status (CG_ST_*), assignee
 * ("" or NULL = nobody), severity (1..255; 0 removes the override, back to
 * the fold's severity). who (1..CG_STORE_TEXT_MAX bytes) made the change at
 * when_us. Each field whose value changes appends one history entry; the
 * record and its indexes change in the same transaction. A change to
 * nothing appends nothing and returns 0. CG_ENOTFOUND for no such
 * incident; CG_EINVAL on a read-only handle or while the handle has a
 * batch open. */
int cg_store_triage_set(cg_store *st, uint64_t id, unsigned mask, uint8_t status,
                        const char *assignee, uint8_t severity, const char *who, uint64_t when_us);
/* Appends a note (1..65534 bytes) to incident id's history. */
int cg_store_note_add(cg_store *st, uint64_t id, const char *who, uint64_t when_us,
                      const char *text);

/* ---- escalation ------------------------------------------------------- */

/* Adds the CG_LAYER bits layers to incident id and appends one
 * CG_HIST_ESCALATE entry to its history (old_num the layers before, new_num
 * after, new_text why: 1..1024 bytes, the clause that decided it), when
 * that adds a layer it did not have; nothing (and *added 0) otherwise.
 * flags: CG_ESC_IF_NEW: only while the incident's status is new (the time
 * pass: a triage that acknowledged it meanwhile stops its clock);
 * CG_ESC_ONCE: a reminder: the entry is appended (layers may be 0) unless
 * the history already holds an escalation with this why.
 * *added (NULL allowed) is 1 when an entry was appended. On the writer
 * handle with a batch open it goes into the batch (the sensor escalates the
 * incidents it creates with them; an LMDB failure drops the batch as a
 * put's does); otherwise, as triage, one short write transaction of its
 * own. Layers are never removed (cg_store_put keeps them too). CG_ENOTFOUND
 * for no such incident; CG_EINVAL for layers outside CG_LAYER(1..4), or 0
 * without CG_ESC_ONCE. */
#define CG_ESC_IF_NEW 0x1
#define CG_ESC_ONCE 0x2
int cg_store_escalate(cg_store *st, uint64_t id, uint8_t layers, unsigned flags, const char *why,
                      const char *who, uint64_t when_us, int *added);

/* ---- the outbox (store_outbox.c) ---------------------------------------- */

/* Notification of escalations, at least once, never lost across a crash.
 * A handle on which notify targets were registered writes, for every
 * history entry cg_store_escalate appends (an escalation or a reminder),
 * one outbox record per target, in the same transaction as the entry: a
 * crash leaves both or neither. A deliverer (tools/notify.c) reads the
 * records, hands each to its target, and only after the target accepted
 * it deletes the record (cg_store_outbox_done); a failure is written back
 * (cg_store_outbox_failed: attempts, the next try, the error). A kill
 * between the two leaves the record: it is delivered again, with the same
 * notification id (its target, incident and seq), so receivers de-duplicate.
 * A target is named by its spec ("file:/var/log/pages.jsonl"); its key is
 * FNV-1a 64 of the spec. Records of a target no handle registers any more
 * stay until a deliverer for that spec drains them (canhgac outbox). */
#define CG_OUTBOX_TARGETS_MAX 8
#define CG_OUTBOX_SPEC_MAX 1024 /* bytes of a spec */
#define CG_OUTBOX_ERROR_MAX 512 /* bytes of the last error kept */

typedef struct cg_outbox_entry {
    uint64_t target;     /* the target's key (cg_store_outbox_key of spec) */
    uint64_t incident;   /* the incident */
    uint64_t seq;        /* its history entry: the escalation or reminder */
    const char *spec;    /* the target's spec */
    uint64_t created_us; /* when the escalation was written */
    uint32_t attempts;   /* deliveries that failed so far */
    uint64_t next_us;    /* not to be tried before (0: at once) */
    uint64_t last_us;    /* the last failed attempt (0: none) */
    const char *error;   /* its error, "" when none */
} cg_outbox_entry;

/* The key of a target spec. */
uint64_t cg_store_outbox_key(const char *spec);
/* Registers the targets specs[0..n) (each 1..CG_OUTBOX_SPEC_MAX bytes, n at
 * most CG_OUTBOX_TARGETS_MAX; n 0 removes them) on a writer or triage
 * handle: its escalations from now on write their outbox records. Call it
 * before the handle writes, from the thread that writes. CG_EINVAL for a
 * read-only handle or a bad spec; CG_EOLDER when the store is not schema 7
 * (cannot happen on a writer or triage handle: they migrate). */
int cg_store_outbox_targets(cg_store *st, const char *const *specs, size_t n);
/* Calls cb for each outbox record in key order (target, incident, seq) as
 * last committed, those of target only when target != 0, until cb returns
 * non-zero. Views live until cb returns. A store before schema 7 (a
 * read-only handle) has none: 0. A record that does not decode is
 * CG_ECORRUPT. Any thread (a reader). */
int cg_store_outbox_list(cg_store *st, uint64_t target,
                         int (*cb)(const cg_outbox_entry *e, void *arg), void *arg);
/* The key of one record. */
typedef struct cg_outbox_ref {
    uint64_t target, incident, seq;
} cg_outbox_ref;
/* Deletes the records refs[0..n) (delivered) in one write transaction of
 * its own; a record already gone is no error (another deliverer sent it).
 * *deleted (NULL allowed) counts those deleted. It never touches the
 * handle's batch: the deliverer's thread calls it while the writer's
 * thread has a batch open (LMDB runs one write transaction at a time: it
 * waits for the batch's commit). */
int cg_store_outbox_done(cg_store *st, const cg_outbox_ref *refs, size_t n, size_t *deleted);
/* Records a failed delivery of ref: attempts + 1, the next try at next_us,
 * the error (truncated to CG_OUTBOX_ERROR_MAX bytes) at now_us; in its own
 * write transaction as cg_store_outbox_done. A record already gone: 0. */
int cg_store_outbox_failed(cg_store *st, const cg_outbox_ref *ref, uint64_t now_us,
                           uint64_t next_us, const char *error);
/* ---- sharing ---------------------------------------------------------- */

/* Appends one CG_HIST_SHARE entry (new_text text: 1..1024 bytes, what was
 * shared where) to incident id's history; the record itself is not
 * rewritten (no field changes; the entry is a leaf of the log as every
 * history entry is). As cg_store_escalate: in the writer's open batch when
 * there is one, else one short write transaction of its own. CG_ENOTFOUND
 * for no such incident. Whether an incident was shared: a SHARE entry in
 * its history (cg_store_history). */
int cg_store_shared(cg_store *st, uint64_t id, const char *text, const char *who, uint64_t when_us);

/* ---- readers ----------------------------------------------------------- */

/* Calls cb once with incident id (its return value is ignored), or returns
 * CG_ENOTFOUND; a record that does not decode is CG_ECORRUPT. */
int cg_store_get(cg_store *st, uint64_t id, int (*cb)(const cg_incident *inc, void *arg),
                 void *arg);
/* Calls cb for each evidence packet / alert / history entry of incident id
 * in seq order, until cb returns non-zero; CG_ENOTFOUND when there is
 * no such incident (whose record need not decode: the packets, alerts and
 * history of a damaged record are still there). */
int cg_store_evidence(cg_store *st, uint64_t id,
                      int (*cb)(uint32_t seq, const cg_evidence *ev, void *arg), void *arg);
int cg_store_alerts(cg_store *st, uint64_t id,
                    int (*cb)(uint32_t seq, const cg_alert *a, void *arg), void *arg);
int cg_store_history(cg_store *st, uint64_t id, int (*cb)(const cg_history *h, void *arg),
                     void *arg);

/* Query filters: every one set in `has` must hold. */
#define CG_Q_SINCE 0x00001
#define CG_Q_UNTIL 0x00002
#define CG_Q_SRC 0x00004
#define CG_Q_DST 0x00008
#define CG_Q_SID 0x00010
#define CG_Q_SEV 0x00020
#define CG_Q_PORT 0x00040  /* src or dst port (checked on records) */
#define CG_Q_SPORT 0x00080 /* (checked on records) */
#define CG_Q_DPORT 0x00100
#define CG_Q_GID 0x00200 /* with CG_Q_SID: one key of by_sid; alone: checked on records */
#define CG_Q_STATUS 0x00400
#define CG_Q_SRC_CC 0x00800
#define CG_Q_DST_CC 0x01000
#define CG_Q_SRC_ASN 0x02000
#define CG_Q_DST_ASN 0x04000
#define CG_Q_COMMUNITY 0x08000
#define CG_Q_ASSIGNEE 0x10000
#define CG_Q_ATTACK 0x20000 /* attack_id == attack (by_attack) */
#define CG_Q_CASE 0x40000   /* in case case_id (by_case; schema 5) */

typedef struct cg_query {
    unsigned has;                   /* CG_Q_* */
    uint64_t since_us, until_us;    /* on first_us: since <= first_us < until */
    uint8_t src_lo[16], src_hi[16]; /* inclusive range (an address or a CIDR) */
    uint8_t dst_lo[16], dst_hi[16];
    uint32_t sid, gid;
    uint8_t sev_max; /* severity <= sev_max (1 = high only) */
    uint16_t port, sport, dport;
    unsigned status_mask;      /* bit (1u << CG_ST_*) for each status wanted */
    char src_cc[3], dst_cc[3]; /* "" = unknown country */
    uint32_t src_asn, dst_asn; /* 0 = unknown AS */
    const char *community_id;  /* any alert's; "" = incidents without one */
    const char *assignee;      /* "" = unassigned */
    uint64_t attack;           /* CG_Q_ATTACK */
    uint64_t case_id;          /* CG_Q_CASE: trusted from by_case, as by_community is */
    /* A predicate on each record, or NULL: after the filters of `has` hold,
     * a record is a match only when match(inc, match_arg) returns non-zero
     * (a query language evaluated on records: the filters above are the
     * part the indexes can use). A rejected record counts toward nothing: not
     * a page's limit, a count, a group or a bucket; keyset paging is
     * unchanged (the cursor is the last match given out). With a predicate,
     * aggregations read and decode every record the filters leave (no
     * index-only count, top-N or histogram). It runs on the calling thread
     * inside the call's read transaction: it must not call the store. */
    int (*match)(const cg_incident *inc, void *arg);
    void *match_arg;
} cg_query;

/* Walks the incidents matching q, newest first (descending id), those
 * after *cursor when *cursor != 0, stopping after limit results (0 = no
 * limit) or when cb returns non-zero. Reads one snapshot. On return *cursor
 * holds where the next page starts (0 when the walk reached the end); it is
 * opaque to callers (today the id of the last incident given to cb). When
 * the walk stops early (limit, or cb returned non-zero) a next page may turn
 * out empty.
 * The planner estimates the entries of each index a filter can use, reads
 * the smallest newest first (partition by partition, or merging a few keys
 * in id order, or from a bitmap of its ids), skips ids not in a second index
 * when that saves record reads, and checks every filter on each record
 * (by_community by an index lookup). Its choices are in store_query.c.
 * q NULL matches everything; cursor may be NULL. Returns 0 also when cb
 * stopped the walk; a record that does not decode stops it with
 * CG_ECORRUPT. An address range with lo above hi is CG_EINVAL. */
int cg_store_query(cg_store *st, const cg_query *q, uint64_t limit, uint64_t *cursor,
                   int (*cb)(const cg_incident *inc, void *arg), void *arg);

/* How cg_store_query would read q, one line: "parts by_src 205" (how, the
 * driving index, its estimated entries; ">0" when not estimated), then
 * " & by_time 40" with a second index to skip ids with; "stream by_sev
 * 1000", "collect by_time 36", "scan incidents (5 partitions in time)",
 * "empty"; " + predicate" when q has one. For tests, and for an analyst's
 * "explain". Writes at most len bytes with a NUL. */
int cg_store_explain(cg_store *st, const cg_query *q, char *buf, size_t len);

/* The number of incidents matching q. With no filter: the size of
 * incidents; with filters on one index only: a sum of index counts, no
 * record read. Aggregations (count, top, histogram) that must read records
 * read their fixed part only, unless q filters on the assignee or on having
 * no Community ID, or has a predicate (q->match). */
int cg_store_count(cg_store *st, const cg_query *q, uint64_t *out);

/* Fields to group by. */
enum {
    CG_F_SRC = 1,
    CG_F_DST,
    CG_F_SID,
    CG_F_SRC_CC,
    CG_F_DST_CC,
    CG_F_SRC_ASN,
    CG_F_DST_ASN,
    CG_F_DPORT,
    CG_F_SEV,
    CG_F_STATUS
};

typedef struct cg_store_group {
    uint64_t count;
    uint8_t addr[16]; /* CG_F_SRC, CG_F_DST */
    uint32_t gid;     /* CG_F_SID (with num = sid) */
    uint32_t num;     /* sid, asn, port, severity, status */
    char cc[3];       /* CG_F_SRC_CC, CG_F_DST_CC ("" = unknown) */
} cg_store_group;

/* The n most frequent values of field among the incidents matching q, most
 * frequent first (ties: the smaller value first), into out[0..*nout). With
 * no filter, an indexed field is counted from its index (an unknown country
 * or AS, which the index leaves out, is then absent). */
int cg_store_top(cg_store *st, const cg_query *q, int field, cg_store_group *out, size_t n,
                 size_t *nout);

/* Counts the incidents matching q by first_us in buckets of bucket_us
 * (3600000000 = an hour), aligned on multiples of bucket_us since the epoch
 * (UTC days for 86400000000), and calls cb for each non-empty bucket in
 * time order until cb returns non-zero. */
int cg_store_histogram(cg_store *st, const cg_query *q, uint64_t bucket_us,
                       int (*cb)(uint64_t start_us, uint64_t count, void *arg), void *arg);

/* One attack as cg_store_attacks sees it: an aggregate of the incidents
 * of one attack that match a query. */
#define CG_ATTACK_SIGS 8

typedef struct cg_store_attack {
    uint64_t attack_id;
    uint64_t first_us, last_us; /* the earliest first_us, the latest last_us */
    uint8_t src[16], dst[16];   /* the pair */
    uint8_t severity;           /* the highest (the lowest number) */
    uint64_t incidents;         /* matching incidents of the attack */
    uint64_t alerts;            /* their counts added up */
    uint32_t nsigs;             /* signatures in sigs[] */
    int more_sigs;              /* the incidents have other signatures than those */
    struct {
        uint32_t gid, sid;
    } sigs[CG_ATTACK_SIGS]; /* distinct, oldest incident first */
} cg_store_attack;

/* Groups the incidents matching q by attack and calls cb once per attack,
 * newest attack first (descending attack id: an attack's id is that of its
 * first incident), until limit attacks were given (0 = all) or cb returns
 * non-zero. Memory holds only the attacks still open in the walk: an
 * attack is complete, and given out, as soon as the walk (newest first)
 * passes below its id, because an incident's attack id is never above its
 * own id. Records are read for their fixed part only unless q needs their
 * strings. CG_EOLDER on a read-only handle of a schema 2 store (its
 * attacks are assigned when a writer or a triage handle opens it). */
int cg_store_attacks(cg_store *st, const cg_query *q, uint64_t limit,
                     int (*cb)(const cg_store_attack *a, void *arg), void *arg);

/* As last committed: entry counts of incidents, alerts, evidence and
 * history, meta next_id, the map size and the bytes in use (last page *
 * page size). */
typedef struct cg_store_info {
    uint32_t schema;
    uint64_t incidents, alerts, evidence, history, next_id;
    uint64_t map_size, map_used;
} cg_store_info;
int cg_store_info_get(cg_store *st, cg_store_info *out);

/* ---- the log (store_log.c) ------------------------------------------------ */

/* Every record the store accepts (an incident created or changed, an alert,
 * an evidence packet, a history entry) is also a leaf of an append-only
 * Merkle tree hashed as RFC 9162 does (leaf SHA-256(0x00 | data), node
 * SHA-256(0x01 | left | right); store_log.c has the leaf's bytes), written
 * in the same transaction. A store of schema 2 or 3 gets its log when it is
 * migrated (every record, in key order, incidents first); before that these
 * are CG_EOLDER. */

/* The tree as last committed: its name (meta "origin"), size and root. */
typedef struct cg_store_head {
    char origin[64];
    uint64_t size;
    uint8_t root[32];
} cg_store_head;
int cg_store_log_head(cg_store *st, cg_store_head *out);
/* The schema this handle migrated the store from as it opened it (2 or 3),
 * or 0 when it did not (the store was current, or another process had
 * migrated it): for the one-line notice the commands print. */
uint32_t cg_store_migrated(const cg_store *st);
/* The RFC 9162 consistency proof from the tree of old leaves to the tree of
 * size leaves (1 <= old <= size <= the tree's size): *n hashes in path. */
int cg_store_log_consistency(cg_store *st, uint64_t old, uint64_t size, uint8_t path[64][32],
                             unsigned *n);

typedef struct cg_store_verify_stats {
    uint64_t leaves;   /* in the log */
    uint64_t records;  /* checked against their latest leaf */
    uint64_t problems; /* lines given to the callback */
} cg_store_verify_stats;
typedef void (*cg_store_problem_fn)(const char *line, void *arg);
/* In one read transaction: the leaves are numbered without a gap, the
 * stored nodes make the root the leaves make (that root in head->root, with
 * the origin and size, when head is not NULL), and every record of the four
 * kinds equals its latest leaf. fn gets one line per problem, naming the
 * record: "incident 42: record does not match leaf 1234", "alert 42/3:
 * record missing (leaf 77)", "history 42/5: no leaf in the log (written
 * outside canhgac)", "log_nodes: the tree's nodes do not match its N
 * leaves". 0 when all holds; CG_ECORRUPT when fn was called; another code
 * for another failure. Memory: 32 bytes per leaf. */
int cg_store_verify(cg_store *st, cg_store_problem_fn fn, void *arg, cg_store_verify_stats *out,
                    cg_store_head *head);

/* ---- cases (store_case.c) ------------------------------------------------ */

/* A case gathers incidents for the response team: an id (1, 2, ... in
 * creation order), a title, a status (open, closed), an owner, its
 * incidents, its notes and an append-only history (who, when, what), kept
 * in the store (schema 5) and each change a leaf of the log. Every call
 * that changes a case is one short write transaction (a triage handle, or
 * a writer handle with no batch open), as triage is. Strings: title 1..1024
 * bytes, owner and who 1..CG_STORE_TEXT_MAX, a note 1..65534. */
enum { CG_CASE_OPEN = 0, CG_CASE_CLOSED, CG_CASE_NSTATUS };
/* "open", "closed"; NULL for another value. */
const char *cg_store_case_status_name(unsigned status);

typedef struct cg_case {
    uint64_t id;
    uint64_t created_us, updated_us; /* updated: its last history entry */
    uint8_t status;                  /* CG_CASE_* */
    const char *title;
    const char *owner;
    uint64_t nincidents;
    uint32_t nnotes;
    uint64_t nhistory;
} cg_case;

/* What a case's history entry records. */
enum {
    CG_CASE_EV_CREATE = 1, /* text: the title; owner in new_text */
    CG_CASE_EV_ADD,        /* incident: the incident added */
    CG_CASE_EV_NOTE,       /* text: the note */
    CG_CASE_EV_STATUS,     /* old_num, new_num: CG_CASE_* */
    CG_CASE_EV_OWNER,      /* old_text, text: the owners */
    CG_CASE_EV_EXPORT      /* text: what was exported (where, its manifest's SHA-256) */
};
typedef struct cg_case_event {
    uint64_t seq; /* 0, 1, ... per case */
    uint64_t when_us;
    const char *who;
    uint8_t kind;      /* CG_CASE_EV_* */
    uint64_t incident; /* ADD */
    uint32_t old_num, new_num;
    const char *old_text, *text;
} cg_case_event;

/* Creates a case (status open, owner who) holding incidents ids[0..n)
 * (n may be 0), its id in *id. CG_ENOTFOUND (nothing created) when an
 * incident does not exist; duplicates in ids are added once. */
int cg_store_case_new(cg_store *st, const char *title, const char *who, uint64_t when_us,
                      const uint64_t *ids, size_t n, uint64_t *id);
/* Adds incidents ids[0..n) to case id: one history entry per incident not
 * in it yet (*added counts them; NULL allowed). CG_ENOTFOUND for no such
 * case or incident (nothing added). */
int cg_store_case_add(cg_store *st, uint64_t id, const uint64_t *ids, size_t n, const char *who,
                      uint64_t when_us, uint64_t *added);
int cg_store_case_note(cg_store *st, uint64_t id, const char *who, uint64_t when_us,
                       const char *text);
#define CG_CASE_SET_STATUS 0x1
#define CG_CASE_SET_OWNER 0x2
/* Sets status and/or owner (mask); a change to nothing appends nothing. */
int cg_store_case_set(cg_store *st, uint64_t id, unsigned mask, uint8_t status, const char *owner,
                      const char *who, uint64_t when_us);
/* Appends an export entry (text: 1..65534 bytes) to case id's history. */
int cg_store_case_exported(cg_store *st, uint64_t id, const char *who, uint64_t when_us,
                           const char *text);

/* Readers: cb's views live until it returns; CG_ENOTFOUND for no such case.
 * list: every case, newest first, until cb returns non-zero. incidents: the
 * case's incident ids ascending. history: in seq order. */
int cg_store_case_get(cg_store *st, uint64_t id, int (*cb)(const cg_case *c, void *arg), void *arg);
int cg_store_case_list(cg_store *st, int (*cb)(const cg_case *c, void *arg), void *arg);
int cg_store_case_incidents(cg_store *st, uint64_t id, int (*cb)(uint64_t incident, void *arg),
                            void *arg);
int cg_store_case_history(cg_store *st, uint64_t id, int (*cb)(const cg_case_event *e, void *arg),
                          void *arg);

/* Inclusion proofs for a case file: in one read transaction, the tree as
 * committed (*head, as cg_store_log_head), and for each incident of
 * ids[0..n) its latest leaf in that tree, the leaf's hash and bytes (the
 * leaf is SHA-256(0x00 | leaf_data): leaf_data = kind 1 | be64 id | the
 * incident's record as stored), and the RFC 9162 inclusion proof of that
 * leaf in the tree of head->size leaves. cb is called in ids order; its
 * views live until it returns. CG_ENOTFOUND names an incident with no leaf. */
typedef struct cg_store_inclusion {
    uint64_t id;
    uint64_t leaf; /* its index */
    uint8_t leaf_hash[32];
    const uint8_t *leaf_data; /* kind | key | record */
    size_t leaf_len;
    unsigned npath;
    const uint8_t (*path)[32];
} cg_store_inclusion;
int cg_store_log_prove(cg_store *st, cg_store_head *head, const uint64_t *ids, size_t n,
                       int (*cb)(const cg_store_inclusion *p, void *arg), void *arg);

/* ---- a damaged store (store_guard.c, store_check.c) ---------------------- */

/* Installs SIGSEGV and SIGBUS handlers for the process: a fault inside the
 * map of an open store (or while one is opened), and an LMDB assertion,
 * write "PREFIX: DIR: damaged (page N): restore from a backup" to fd and
 * _exit(code). A SIGBUS of such a fault while DIR's file system is full
 * (a page of a map that could not be allocated) writes "PREFIX: DIR: No
 * space left on device (...)" instead and _exit(full_code). Any other fault
 * is the default crash. */
void cg_store_fault_exit(const char *prefix, int fd, int code, int full_code);
/* What the process is reading, added to that line ("incidents key 12");
 * NULL clears it. */
void cg_store_fault_where(const char *where);
/* Whether this process has met a damaged store (an error that said
 * "damaged"). */
int cg_store_damaged(void);

/* The databases cg_store_check walks: their number and names. */
int cg_store_check_ndb(void);
const char *cg_store_db_name(int db);
/* Walks database db of st in one read transaction: every key, and every
 * value decoded by its layout (records by the decoders, index entries and
 * meta by their lengths); cb is called with one line per problem ("key 12:
 * bad record (truncated)"). *entries counts what was read. 0 when clean,
 * CG_ECORRUPT when cb was called, another code for another failure
 * (with its message). A fault in a damaged page is store_guard.c's; call it
 * in a child process to go on with the next database. */
int cg_store_check(cg_store *st, int db, void (*cb)(const char *problem, void *arg), void *arg,
                   uint64_t *entries);
/* A consistent, compacted copy of st as last committed into outdir (made
 * 0750 when missing; refused when it holds a data.mdb), while a writer
 * writes (mdb_env_copy2, MDB_CP_COMPACT). data.mdb 0640. */
int cg_store_backup(cg_store *st, const char *outdir);
/* Puts the store of backup (a directory cg_store_backup wrote) in dir:
 * refused while a writer holds dir (its writer.lock, held here meanwhile);
 * the data.mdb it replaces is kept as data.mdb.damaged-SECONDS, lock.mdb is
 * removed (readers still open keep reading the old file). 0, or a code with
 * its message in cg_store_error(NULL). */
int cg_store_restore(const char *backup, const char *dir);

/* ---- records ----------------------------------------------------------- */

/* Decode one stored record (the formats are in store.c) from untrusted bytes:
 * 0, or CG_ECORRUPT. The strings / data of out are views into rec
 * (absent strings are a static ""). For tools that read LMDB values
 * themselves, and for fuzzing the decoders. */
int cg_store_decode(const void *rec, size_t len, cg_incident *out);
int cg_store_decode_alert(const void *rec, size_t len, cg_alert *out);
int cg_store_decode_evidence(const void *rec, size_t len, cg_evidence *out);
int cg_store_decode_history(const void *rec, size_t len, cg_history *out);

#endif
