/* store_rec.c — the store's on-disk formats: record encodings, the keys of
 * every database, and their decoders for untrusted bytes. Schema 4.
 *
 * Keys. Integers are big-endian so that LMDB's memcmp order is numeric order.
 *   meta       "schema"  (6 bytes, no NUL) -> be32 schema version
 *              "next_id" (7 bytes, no NUL) -> be64 the next id to hand out
 *   incidents  be64 id                      (8)  -> incident record
 *   alerts     be64 id | be32 seq           (12) -> alert record
 *   evidence   be64 id | be32 seq           (12) -> evidence record
 *   history    be64 id | be64 seq           (16) -> history record
 *   parts      be32 partition               (4)  -> be64 min first_us | be64 max
 *                                                   first_us of its incidents
 *   pairs      be32 hour | addr16 src | addr16 dst (36) -> be64 attack id | be64 last_us:
 *                                                   an attack of the pair and the
 *                                                   latest last_us of its incidents,
 *                                                   in the hour (last_us / 3600 s)
 *                                                   of that last_us (store_attack.c)
 * Addresses are 16 bytes, IPv4 mapped (::ffff:a.b.c.d), as the decoder gives
 * them: a CIDR of either family is one key range.
 *
 * Partitions. Ids come in partitions of 32768: partition = id >> 15 (ids stay
 * below 2^47). The sensor's new incidents all fall in the newest partition,
 * and "parts" keeps the span of first_us of each, so a query with a time
 * filter skips the partitions outside it.
 *
 * Indexes. LMDB MDB_DUPSORT | MDB_DUPFIXED databases: under each key, the
 * incidents that have it, kept sorted by LMDB, in one of two layouts:
 *   whole        key: field                   value: be64 id
 *   partitioned  key: be32 partition | field  value: be16 id & 32767
 * Either way the order is that of a composite key "field | id" (within a
 * partition), each entry costs its value (8 or 2 bytes) rather than a node of
 * key and header (20 to 30), and the number of incidents under a key is a
 * counter LMDB keeps (mdb_cursor_count): counting by severity reads one
 * number per severity. Partitioned indexes are those whose keys are many and
 * scattered (addresses, Community IDs, sids, ports, countries, AS numbers):
 * a batch of new incidents then rewrites the pages of one partition, not
 * pages all over the index, and a page of newest results reads the newest
 * partitions first and stops. The few-valued ones (severity, status,
 * assignee) and by_time (written in order anyway) are whole.
 *   index         field                      layout       skipped when
 *   by_time       be64 first_us          (8)  whole        -
 *   by_src        addr16 src            (16)  partitioned  -
 *   by_dst        addr16 dst            (16)  partitioned  -
 *   by_sid        be32 sid | be32 gid    (8)  partitioned  -  (a sid alone: a prefix)
 *   by_sev        u8 severity            (1)  whole        -  (the current one)
 *   by_status     u8 status              (1)  whole        -
 *   by_src_cc     2 letters              (2)  partitioned  the country is unknown
 *   by_dst_cc     2 letters              (2)  partitioned  the country is unknown
 *   by_src_asn    be32 asn               (4)  partitioned  asn 0
 *   by_dst_asn    be32 asn               (4)  partitioned  asn 0
 *   by_dport      be16 dport             (2)  partitioned  -
 *   by_community  be64 FNV-1a(cid)       (8)  partitioned  no Community ID; add-only:
 *                 the incident's own and each stored alert's
 *   by_assignee   be64 FNV-1a(assignee)  (8)  whole        nobody assigned
 *   by_attack     be64 attack id         (8)  whole        -  (schema 3; an attack's
 *                 incidents are near each other in id, its key gets them at once)
 *   by_case       be64 case id           (8)  whole        not from the record: an
 *                 incident's cases are written by store_case.c (schema 5); add-only
 *
 * The seal. Every record of schema 4 ends with 4 bytes: the low 32 bits of
 * XXH3-64 (libxxhash, seed 0) of every byte before them, version byte
 * included, big-endian. A decoder checks it before any field, so that bytes
 * a damaged disk overwrote in place are "checksum mismatch" (CG_ECORRUPT),
 * never other values; a writer that patches an encoded record seals it
 * again (cgs_seal). XXH3 rather than a CRC: it costs about 47 ns for a
 * 700-byte record against zlib's CRC-32's 240, on every record a query
 * decodes. The layouts below are given without the seal: a sealed version
 * is its unsealed one with the seal after it.
 *
 * Incident record, version 4 (schema 4) = version 3 + the seal.
 * Incident record, version 3 (schema 3; still decoded, unchecked):
 *   off  size  field
 *     0     1  record version = 3 (4)
 *     1     1  proto
 *     2     1  severity (current)
 *     3     1  rule_severity
 *     4     1  layers
 *     5     1  status (0..4)
 *     6     1  flags (CG_INC_*; other bits 0)
 *     7     1  reserved: written 0, ignored on read
 *     8     8  id (must equal the key)
 *    16     4  gid
 *    20     4  sid
 *    24     4  rev
 *    28     2  sport
 *    30     2  dport
 *    32    16  src
 *    48    16  dst
 *    64     8  first_us
 *    72     8  last_us
 *    80     8  count
 *    88     8  flow_id
 *    96     8  escalated_from (0 = none)
 *   104     4  nevidence
 *   108     4  nalerts
 *   112     4  nnotes
 *   116     4  src asn
 *   120     4  dst asn
 *   124     2  src country: two bytes A-Z, or two 0 bytes (unknown)
 *   126     2  dst country
 *   128     4  string mask (be32): bit i set = string i follows; bits 22..31 are 0
 *   132     8  attack id: 1 .. id (store_attack.c)
 *   140     2  http_status (0 = none)
 *   142     2  reserved: written 0, ignored on read
 *   144     4  payload_match: 0 .. payload_len
 *   148     4  payload_len: 0 .. 1024
 *   152        the strings whose bit is set, in bit order, each as
 *                be16 n   the length including a terminating NUL, 2..65535
 *                n bytes  the text, no NUL inside, then one NUL
 *              then payload_len bytes of payload (any bytes); the record
 *              ends exactly there.
 *   strings: 0 msg, 1 classtype, 2 community_id, 3 assignee,
 *            4 src city, 5 src as_org, 6 src agency, 7 src zone,
 *            8 dst city, 9 dst as_org, 10 dst agency, 11 dst zone,
 *            12 geo_db_type, 13 geo_db_date,
 *            14 app_proto, 15 http_method, 16 http_host, 17 http_url,
 *            18 http_user_agent, 19 dns_query, 20 tls_sni, 21 tls_ja3
 *   An empty string is absent (its bit clear), so a record without
 *   enrichment or context pays 4 bytes of mask for its empty strings. The
 *   NUL is stored so that readers hand out strings as views into LMDB's
 *   map, without a copy. Offsets 0..127 are those of version 2, so the
 *   readers of fixed fields (OFF_* in store_int.h) read both versions.
 *
 * Incident record, version 2 (schema 2; still decoded, for read-only handles
 * on a store not yet migrated; never written):
 *   off  size  field
 *     0     1  record version = 2
 *   1..127     as version 3
 *   128     2  string mask (be16): bit i set = string i follows; bits 14, 15 are 0
 *   130        strings 0..13 as in version 3; the record ends exactly after
 *              the last one. No attack id (read as 0), no context.
 *
 * Alert record, version 2 = version 1 + the seal; version 1 (schema 2 and 3):
 *   off  size  field
 *     0     1  record version = 1 (2)
 *     1     1  severity
 *     2     2  sport
 *     4     2  dport
 *     6     2  n: community_id length including its NUL, 1..65535
 *     8     8  ts_us
 *    16     8  flow_id
 *    24     4  evidence seq (two's complement; -1 = none)
 *    28     n  community_id, no NUL inside, then NUL; the record ends there
 *
 * Evidence record, version 2 = version 1 + the seal; version 1 (schema 2, 3):
 *   off  size  field
 *     0     1  record version = 1 (2)
 *     1     3  reserved: written 0, ignored on read
 *     4     4  dlt (two's complement)
 *     8     8  ts_us
 *    16     4  caplen
 *    20     4  wirelen (not checked against caplen: it is what the wire said)
 *    24  caplen  the captured bytes; the record ends exactly there.
 *
 * History record, version 2 = version 1 + the seal; version 1 (schema 2, 3):
 *   off  size  field
 *     0     1  record version = 1 (2)
 *     1     1  kind (CG_HIST_*: 1 status, 2 assignee, 3 severity, 4 note,
 *              5 escalate: from schema 6, 6 share: from schema 7)
 *     2     2  reserved: written 0, ignored on read
 *     4     4  old_num
 *     8     4  new_num
 *    12     4  reserved: written 0, ignored on read
 *    16     8  when_us
 *    24        who, old_text, new_text, in this order, each as
 *                be16 n   the length including a terminating NUL, 1..65535
 *                n bytes  the text, no NUL inside, then one NUL
 *              The record ends exactly after new_text.
 *
 * Each kind of record has its own version. A record whose version this code
 * does not know is a bad record (CG_ECORRUPT); schema 4 is incidents
 * v4, alerts v2, evidence v2, history v2 (all sealed); schema 3 was
 * incidents v3, alerts v1, evidence v1, history v1; schema 2 incidents v2
 * and the same others, without pairs and by_attack (store_migrate.c turns
 * either into schema 4; readers decode every version).
 */
#include "store/store_int.h"

#include <limits.h>
#include <string.h>
#include <xxhash.h>

#define INC_VERSION 4   /* 3 and 2 still decoded */
#define ALERT_VERSION 2 /* 1 still decoded */
#define EV_VERSION 2    /* 1 still decoded */
#define HIST_VERSION 2  /* 1 still decoded */
#define NSTR_V2 14
#define NSTR 22

static const char empty[] = "";

static const char *nz(const char *s)
{
    return s ? s : empty;
}

uint64_t cgs_hash64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* ---- the seal ------------------------------------------------------------- */

void cgs_seal(uint8_t *p, size_t n)
{
    put32(p + n - REC_SEAL, (uint32_t)XXH3_64bits(p, n - REC_SEAL));
}

/* A record of a sealed version (at least min bytes before its seal): 0 and
 * *n without the seal, or CG_ECORRUPT. The seal is checked first, so that
 * bytes overwritten in place are "checksum mismatch" and never read as
 * other values. */
static int unseal(const uint8_t *p, size_t *n, size_t min, const char **why)
{
    if (*n < min + REC_SEAL) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    if (get32(p + *n - REC_SEAL) != (uint32_t)XXH3_64bits(p, *n - REC_SEAL)) {
        *why = "checksum mismatch";
        return CG_ECORRUPT;
    }
    *n -= REC_SEAL;
    return 0;
}

/* ---- incidents ------------------------------------------------------------ */

static void inc_strings(const cg_incident *x, const char *s[NSTR])
{
    s[0] = nz(x->msg);
    s[1] = nz(x->classtype);
    s[2] = nz(x->community_id);
    s[3] = nz(x->assignee);
    s[4] = nz(x->src_geo.city);
    s[5] = nz(x->src_geo.as_org);
    s[6] = nz(x->src_geo.agency);
    s[7] = nz(x->src_geo.zone);
    s[8] = nz(x->dst_geo.city);
    s[9] = nz(x->dst_geo.as_org);
    s[10] = nz(x->dst_geo.agency);
    s[11] = nz(x->dst_geo.zone);
    s[12] = nz(x->geo_db_type);
    s[13] = nz(x->geo_db_date);
    s[14] = nz(x->app_proto);
    s[15] = nz(x->http_method);
    s[16] = nz(x->http_host);
    s[17] = nz(x->http_url);
    s[18] = nz(x->http_user_agent);
    s[19] = nz(x->dns_query);
    s[20] = nz(x->tls_sni);
    s[21] = nz(x->tls_ja3);
}

static void inc_string_slots(cg_incident *x, const char **s[NSTR])
{
    s[0] = &x->msg;
    s[1] = &x->classtype;
    s[2] = &x->community_id;
    s[3] = &x->assignee;
    s[4] = &x->src_geo.city;
    s[5] = &x->src_geo.as_org;
    s[6] = &x->src_geo.agency;
    s[7] = &x->src_geo.zone;
    s[8] = &x->dst_geo.city;
    s[9] = &x->dst_geo.as_org;
    s[10] = &x->dst_geo.agency;
    s[11] = &x->dst_geo.zone;
    s[12] = &x->geo_db_type;
    s[13] = &x->geo_db_date;
    s[14] = &x->app_proto;
    s[15] = &x->http_method;
    s[16] = &x->http_host;
    s[17] = &x->http_url;
    s[18] = &x->http_user_agent;
    s[19] = &x->dns_query;
    s[20] = &x->tls_sni;
    s[21] = &x->tls_ja3;
}

static int cc_valid(const char *cc)
{
    return cc[0] == 0 ||
        (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && cc[2] == 0);
}

static int cc_bytes_valid(const uint8_t *p)
{
    return (p[0] == 0 && p[1] == 0) || (p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z');
}

size_t cgs_inc_size(const cg_incident *x, const char **why)
{
    const char *s[NSTR];
    size_t n = INC_FIXED;

    if (!cc_valid(x->src_geo.country) || !cc_valid(x->dst_geo.country)) {
        *why = "a country is not two letters A-Z";
        return 0;
    }
    if (x->status >= CG_ST_COUNT) {
        *why = "unknown status";
        return 0;
    }
    if (x->flags & ~CG_INC_SEV_SET) {
        *why = "unknown flags";
        return 0;
    }
    if (x->attack_id == 0 || x->attack_id > x->id) {
        *why = "attack id not in 1..id";
        return 0;
    }
    if (x->payload_len > CG_STORE_PAYLOAD_MAX || x->payload_match > x->payload_len ||
        (x->payload_len && !x->payload)) {
        *why = "payload excerpt longer than 1024 bytes, or its match outside it";
        return 0;
    }
    inc_strings(x, s);
    if (strlen(s[3]) > CG_STORE_TEXT_MAX) {
        *why = "assignee too long";
        return 0;
    }
    for (int i = 0; i < NSTR; i++) {
        size_t len = strlen(s[i]);
        if (len == 0)
            continue;
        if (len + 1 > STR_MAX) {
            *why = "a string is longer than 65534 bytes";
            return 0;
        }
        n += 2 + len + 1;
    }
    return n + x->payload_len + REC_SEAL;
}

void cgs_inc_encode(uint8_t *p, const cg_incident *x)
{
    const char *s[NSTR];
    size_t off = INC_FIXED;
    uint32_t mask = 0;

    inc_strings(x, s);
    p[0] = INC_VERSION;
    p[1] = x->proto;
    p[2] = x->severity;
    p[3] = x->rule_severity;
    p[4] = x->layers;
    p[5] = x->status;
    p[6] = x->flags;
    p[7] = 0;
    put64(p + 8, x->id);
    put32(p + 16, x->gid);
    put32(p + 20, x->sid);
    put32(p + 24, x->rev);
    put16(p + 28, x->sport);
    put16(p + 30, x->dport);
    memcpy(p + 32, x->src, 16);
    memcpy(p + 48, x->dst, 16);
    put64(p + 64, x->first_us);
    put64(p + 72, x->last_us);
    put64(p + 80, x->count);
    put64(p + 88, x->flow_id);
    put64(p + 96, x->escalated_from);
    put32(p + 104, x->nevidence);
    put32(p + 108, x->nalerts);
    put32(p + 112, x->nnotes);
    put32(p + 116, x->src_geo.asn);
    put32(p + 120, x->dst_geo.asn);
    memcpy(p + 124, x->src_geo.country[0] ? x->src_geo.country : "\0", 2);
    memcpy(p + 126, x->dst_geo.country[0] ? x->dst_geo.country : "\0", 2);
    put64(p + 132, x->attack_id);
    put16(p + 140, x->http_status);
    put16(p + 142, 0);
    put32(p + 144, x->payload_match);
    put32(p + 148, x->payload_len);
    for (int i = 0; i < NSTR; i++) {
        size_t len = strlen(s[i]);
        if (len == 0)
            continue;
        mask |= 1u << i;
        put16(p + off, (uint16_t)(len + 1));
        memcpy(p + off + 2, s[i], len + 1);
        off += 2 + len + 1;
    }
    put32(p + 128, mask);
    if (x->payload_len)
        memcpy(p + off, x->payload, x->payload_len);
    cgs_seal(p, off + x->payload_len + REC_SEAL);
}

int cgs_inc_peek(const uint8_t *p, size_t n, uint64_t id, const char **why)
{
    if (n < 1) {
        *why = "empty";
        return CG_ECORRUPT;
    }
    if (p[0] < 2 || p[0] > INC_VERSION) {
        *why = "unknown record version";
        return CG_ECORRUPT;
    }
    if (n < (p[0] == 2 ? INC_FIXED_V2 : p[0] == 3 ? INC_FIXED : INC_FIXED + REC_SEAL)) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    if (get64(p + 8) != id) {
        *why = "id differs from its key";
        return CG_ECORRUPT;
    }
    return 0;
}

int cgs_inc_decode(const uint8_t *p, size_t n, cg_incident *out, const char **why)
{
    const char **s[NSTR];
    size_t off;
    uint32_t mask, plen = 0;
    int v3, nstr;

    if (cgs_inc_peek(p, n, n >= INC_FIXED_V2 ? get64(p + 8) : 0, why))
        return CG_ECORRUPT;
    if (p[0] == INC_VERSION && unseal(p, &n, INC_FIXED, why))
        return CG_ECORRUPT;
    v3 = p[0] >= 3;
    nstr = v3 ? NSTR : NSTR_V2;
    off = v3 ? INC_FIXED : INC_FIXED_V2;
    if (p[5] >= CG_ST_COUNT) {
        *why = "bad status";
        return CG_ECORRUPT;
    }
    if (p[6] & ~CG_INC_SEV_SET) {
        *why = "bad flags";
        return CG_ECORRUPT;
    }
    if (!cc_bytes_valid(p + 124) || !cc_bytes_valid(p + 126)) {
        *why = "bad country";
        return CG_ECORRUPT;
    }
    mask = v3 ? get32(p + 128) : get16(p + 128);
    if (mask >> nstr) {
        *why = "bad string mask";
        return CG_ECORRUPT;
    }
    memset(out, 0, sizeof *out);
    if (v3) {
        out->attack_id = get64(p + 132);
        out->http_status = get16(p + 140);
        out->payload_match = get32(p + 144);
        plen = get32(p + 148);
        if (out->attack_id == 0 || out->attack_id > get64(p + 8)) {
            *why = "attack id not in 1..id";
            return CG_ECORRUPT;
        }
        if (plen > CG_STORE_PAYLOAD_MAX || out->payload_match > plen) {
            *why = "bad payload length";
            return CG_ECORRUPT;
        }
    }
    out->proto = p[1];
    out->severity = p[2];
    out->rule_severity = p[3];
    out->layers = p[4];
    out->status = p[5];
    out->flags = p[6];
    out->id = get64(p + 8);
    out->gid = get32(p + 16);
    out->sid = get32(p + 20);
    out->rev = get32(p + 24);
    out->sport = get16(p + 28);
    out->dport = get16(p + 30);
    memcpy(out->src, p + 32, 16);
    memcpy(out->dst, p + 48, 16);
    out->first_us = get64(p + 64);
    out->last_us = get64(p + 72);
    out->count = get64(p + 80);
    out->flow_id = get64(p + 88);
    out->escalated_from = get64(p + 96);
    out->nevidence = get32(p + 104);
    out->nalerts = get32(p + 108);
    out->nnotes = get32(p + 112);
    out->src_geo.asn = get32(p + 116);
    out->dst_geo.asn = get32(p + 120);
    memcpy(out->src_geo.country, p + 124, 2);
    out->src_geo.country[2] = 0;
    memcpy(out->dst_geo.country, p + 126, 2);
    out->dst_geo.country[2] = 0;
    inc_string_slots(out, s);
    for (int i = 0; i < NSTR; i++) {
        size_t len;
        if (!(mask & (1u << i))) {
            *s[i] = empty;
            continue;
        }
        if (n - off < 2) {
            *why = "truncated";
            return CG_ECORRUPT;
        }
        len = get16(p + off);
        off += 2;
        if (len < 2) {
            *why = "bad string length";
            return CG_ECORRUPT;
        }
        if (len > n - off) {
            *why = "truncated";
            return CG_ECORRUPT;
        }
        if (p[off + len - 1] != 0 || memchr(p + off, 0, len - 1)) {
            *why = "bad string";
            return CG_ECORRUPT;
        }
        *s[i] = (const char *)(p + off);
        off += len;
    }
    if (n - off != plen) {
        *why = n - off < plen ? "truncated" : "trailing bytes";
        return CG_ECORRUPT;
    }
    out->payload = plen ? p + off : NULL;
    out->payload_len = plen;
    if (strlen(out->assignee) > CG_STORE_TEXT_MAX) {
        *why = "assignee too long";
        return CG_ECORRUPT;
    }
    return 0;
}

/* ---- alerts ----------------------------------------------------------------- */

static int32_t s32(uint32_t v)
{
    /* two's complement back to int32 without implementation-defined casts */
    return v <= INT32_MAX ? (int32_t)v : -(int32_t)(UINT32_MAX - v) - 1;
}

size_t cgs_alert_size(const cg_alert *a)
{
    size_t len = strlen(nz(a->community_id)) + 1;

    return len > STR_MAX ? 0 : ALERT_FIXED + len + REC_SEAL;
}

void cgs_alert_encode(uint8_t *p, const cg_alert *a)
{
    const char *cid = nz(a->community_id);
    size_t len = strlen(cid) + 1;

    p[0] = ALERT_VERSION;
    p[1] = a->severity;
    put16(p + 2, a->sport);
    put16(p + 4, a->dport);
    put16(p + 6, (uint16_t)len);
    put64(p + 8, a->ts_us);
    put64(p + 16, a->flow_id);
    put32(p + 24, (uint32_t)a->evidence_seq);
    memcpy(p + ALERT_FIXED, cid, len);
    cgs_seal(p, ALERT_FIXED + len + REC_SEAL);
}

int cgs_alert_decode(const uint8_t *p, size_t n, cg_alert *out, const char **why)
{
    size_t len;

    if (n < 1 || p[0] < 1 || p[0] > ALERT_VERSION) {
        *why = n ? "unknown record version" : "empty";
        return CG_ECORRUPT;
    }
    if (p[0] == ALERT_VERSION && unseal(p, &n, ALERT_FIXED, why))
        return CG_ECORRUPT;
    if (n < ALERT_FIXED) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    len = get16(p + 6);
    if (len == 0 || len != n - ALERT_FIXED) {
        *why = len == 0             ? "bad string length"
            : len > n - ALERT_FIXED ? "truncated"
                                    : "trailing bytes";
        return CG_ECORRUPT;
    }
    if (p[n - 1] != 0 || memchr(p + ALERT_FIXED, 0, len - 1)) {
        *why = "bad string";
        return CG_ECORRUPT;
    }
    out->severity = p[1];
    out->sport = get16(p + 2);
    out->dport = get16(p + 4);
    out->ts_us = get64(p + 8);
    out->flow_id = get64(p + 16);
    out->evidence_seq = s32(get32(p + 24));
    out->community_id = (const char *)(p + ALERT_FIXED);
    return 0;
}

/* ---- evidence ----------------------------------------------------------------- */

size_t cgs_ev_size(uint32_t caplen)
{
    return EV_FIXED + (size_t)caplen + REC_SEAL;
}

void cgs_ev_encode(uint8_t *p, const cg_evidence *ev)
{
    p[0] = EV_VERSION;
    p[1] = p[2] = p[3] = 0;
    put32(p + 4, (uint32_t)ev->dlt);
    put64(p + 8, ev->ts_us);
    put32(p + 16, ev->caplen);
    put32(p + 20, ev->wirelen);
    if (ev->caplen)
        memcpy(p + EV_FIXED, ev->data, ev->caplen);
    cgs_seal(p, cgs_ev_size(ev->caplen));
}

int cgs_ev_decode(const uint8_t *p, size_t n, cg_evidence *out, const char **why)
{
    uint32_t caplen;

    if (n < 1 || p[0] < 1 || p[0] > EV_VERSION) {
        *why = n ? "unknown record version" : "empty";
        return CG_ECORRUPT;
    }
    if (p[0] == EV_VERSION && unseal(p, &n, EV_FIXED, why))
        return CG_ECORRUPT;
    if (n < EV_FIXED) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    caplen = get32(p + 16);
    if (n - EV_FIXED != caplen) {
        *why = n - EV_FIXED < caplen ? "truncated" : "trailing bytes";
        return CG_ECORRUPT;
    }
    out->dlt = s32(get32(p + 4));
    out->ts_us = get64(p + 8);
    out->caplen = caplen;
    out->wirelen = get32(p + 20);
    out->data = p + EV_FIXED;
    return 0;
}

/* ---- history ----------------------------------------------------------------- */

size_t cgs_hist_size(const cg_history *h)
{
    const char *s[3] = { nz(h->who), nz(h->old_text), nz(h->new_text) };
    size_t n = HIST_FIXED;

    for (int i = 0; i < 3; i++) {
        size_t len = strlen(s[i]) + 1;
        if (len > STR_MAX)
            return 0;
        n += 2 + len;
    }
    return n + REC_SEAL;
}

void cgs_hist_encode(uint8_t *p, const cg_history *h)
{
    const char *s[3] = { nz(h->who), nz(h->old_text), nz(h->new_text) };
    size_t off = HIST_FIXED;

    p[0] = HIST_VERSION;
    p[1] = h->kind;
    p[2] = p[3] = 0;
    put32(p + 4, h->old_num);
    put32(p + 8, h->new_num);
    put32(p + 12, 0);
    put64(p + 16, h->when_us);
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(s[i]) + 1;
        put16(p + off, (uint16_t)len);
        memcpy(p + off + 2, s[i], len);
        off += 2 + len;
    }
    cgs_seal(p, off + REC_SEAL);
}

int cgs_hist_decode(const uint8_t *p, size_t n, cg_history *out, const char **why)
{
    const char **s[3] = { &out->who, &out->old_text, &out->new_text };
    size_t off = HIST_FIXED;

    if (n < 1 || p[0] < 1 || p[0] > HIST_VERSION) {
        *why = n ? "unknown record version" : "empty";
        return CG_ECORRUPT;
    }
    if (p[0] == HIST_VERSION && unseal(p, &n, HIST_FIXED, why))
        return CG_ECORRUPT;
    if (n < HIST_FIXED) {
        *why = "truncated";
        return CG_ECORRUPT;
    }
    if (p[1] < CG_HIST_STATUS || p[1] > CG_HIST_SHARE) {
        *why = "bad kind";
        return CG_ECORRUPT;
    }
    out->kind = p[1];
    out->old_num = get32(p + 4);
    out->new_num = get32(p + 8);
    out->when_us = get64(p + 16);
    for (int i = 0; i < 3; i++) {
        size_t len;
        if (n - off < 2) {
            *why = "truncated";
            return CG_ECORRUPT;
        }
        len = get16(p + off);
        off += 2;
        if (len == 0 || len > n - off) {
            *why = len ? "truncated" : "bad string length";
            return CG_ECORRUPT;
        }
        if (p[off + len - 1] != 0 || memchr(p + off, 0, len - 1)) {
            *why = "bad string";
            return CG_ECORRUPT;
        }
        *s[i] = (const char *)(p + off);
        off += len;
    }
    if (off != n) {
        *why = "trailing bytes";
        return CG_ECORRUPT;
    }
    return 0;
}

/* ---- sealing records of older versions (store_migrate.c) ----------------------------- */

int cgs_rec_reseal(int db, const uint8_t *p, size_t n, uint8_t *out)
{
    union {
        cg_incident x;
        cg_alert a;
        cg_evidence e;
        cg_history h;
    } u;
    const char *why;
    uint8_t now;
    int bad;

    if (n < 1)
        return 0;
    switch (db) {
    case DB_INC:
        now = INC_VERSION;
        bad = p[0] != 3 || cgs_inc_decode(p, n, &u.x, &why);
        break;
    case DB_ALERT:
        now = ALERT_VERSION;
        bad = p[0] != 1 || cgs_alert_decode(p, n, &u.a, &why);
        break;
    case DB_EV:
        now = EV_VERSION;
        bad = p[0] != 1 || cgs_ev_decode(p, n, &u.e, &why);
        break;
    case DB_HIST:
        now = HIST_VERSION;
        bad = p[0] != 1 || cgs_hist_decode(p, n, &u.h, &why);
        break;
    default: return 0;
    }
    if (bad)
        return 0;
    memcpy(out, p, n);
    out[0] = now;
    cgs_seal(out, n + REC_SEAL);
    return 1;
}

/* ---- public decoders ------------------------------------------------------------ */

int cg_store_decode(const void *rec, size_t len, cg_incident *out)
{
    cg_incident x;
    const char *why;

    if (!rec || !out)
        return CG_EINVAL;
    if (cgs_inc_decode(rec, len, &x, &why))
        return CG_ECORRUPT;
    *out = x;
    return 0;
}

int cg_store_decode_alert(const void *rec, size_t len, cg_alert *out)
{
    cg_alert a;
    const char *why;

    if (!rec || !out)
        return CG_EINVAL;
    if (cgs_alert_decode(rec, len, &a, &why))
        return CG_ECORRUPT;
    *out = a;
    return 0;
}

int cg_store_decode_evidence(const void *rec, size_t len, cg_evidence *out)
{
    cg_evidence ev;
    const char *why;

    if (!rec || !out)
        return CG_EINVAL;
    if (cgs_ev_decode(rec, len, &ev, &why))
        return CG_ECORRUPT;
    *out = ev;
    return 0;
}

int cg_store_decode_history(const void *rec, size_t len, cg_history *out)
{
    cg_history h;
    const char *why;

    if (!rec || !out)
        return CG_EINVAL;
    if (cgs_hist_decode(rec, len, &h, &why))
        return CG_ECORRUPT;
    h.seq = 0; /* the seq is in the key */
    *out = h;
    return 0;
}

/* ---- index keys ------------------------------------------------------------------ */

static unsigned k_time(const cg_incident *x, uint8_t *k)
{
    put64(k, x->first_us);
    return 8;
}

static unsigned k_src(const cg_incident *x, uint8_t *k)
{
    memcpy(k, x->src, 16);
    return 16;
}

static unsigned k_dst(const cg_incident *x, uint8_t *k)
{
    memcpy(k, x->dst, 16);
    return 16;
}

static unsigned k_sid(const cg_incident *x, uint8_t *k)
{
    put32(k, x->sid);
    put32(k + 4, x->gid);
    return 8;
}

static unsigned k_sev(const cg_incident *x, uint8_t *k)
{
    k[0] = x->severity;
    return 1;
}

static unsigned k_status(const cg_incident *x, uint8_t *k)
{
    k[0] = x->status;
    return 1;
}

static unsigned k_cc(const char *cc, uint8_t *k)
{
    if (!cc[0])
        return 0;
    k[0] = (uint8_t)cc[0];
    k[1] = (uint8_t)cc[1];
    return 2;
}

static unsigned k_src_cc(const cg_incident *x, uint8_t *k)
{
    return k_cc(x->src_geo.country, k);
}

static unsigned k_dst_cc(const cg_incident *x, uint8_t *k)
{
    return k_cc(x->dst_geo.country, k);
}

static unsigned k_src_asn(const cg_incident *x, uint8_t *k)
{
    if (!x->src_geo.asn)
        return 0;
    put32(k, x->src_geo.asn);
    return 4;
}

static unsigned k_dst_asn(const cg_incident *x, uint8_t *k)
{
    if (!x->dst_geo.asn)
        return 0;
    put32(k, x->dst_geo.asn);
    return 4;
}

static unsigned k_dport(const cg_incident *x, uint8_t *k)
{
    put16(k, x->dport);
    return 2;
}

static unsigned k_community(const cg_incident *x, uint8_t *k)
{
    if (!x->community_id || !x->community_id[0])
        return 0;
    put64(k, cgs_hash64(x->community_id));
    return 8;
}

static unsigned k_assignee(const cg_incident *x, uint8_t *k)
{
    if (!x->assignee || !x->assignee[0])
        return 0;
    put64(k, cgs_hash64(x->assignee));
    return 8;
}

/* A case is not a field of the record: store_case.c writes by_case. */
static unsigned k_case(const cg_incident *x, uint8_t *k)
{
    (void)x, (void)k;
    return 0;
}

static unsigned k_attack(const cg_incident *x, uint8_t *k)
{
    if (!x->attack_id)
        return 0;
    put64(k, x->attack_id);
    return 8;
}

const struct cgs_ixdef cgs_ix[IX_N] = {
    [IX_TIME] = { "by_time", 8, 0, k_time },
    [IX_SRC] = { "by_src", 16, IXF_PART, k_src },
    [IX_DST] = { "by_dst", 16, IXF_PART, k_dst },
    [IX_SID] = { "by_sid", 8, IXF_PART, k_sid },
    [IX_SEV] = { "by_sev", 1, 0, k_sev },
    [IX_STATUS] = { "by_status", 1, 0, k_status },
    [IX_SRC_CC] = { "by_src_cc", 2, IXF_PART, k_src_cc },
    [IX_DST_CC] = { "by_dst_cc", 2, IXF_PART, k_dst_cc },
    [IX_SRC_ASN] = { "by_src_asn", 4, IXF_PART, k_src_asn },
    [IX_DST_ASN] = { "by_dst_asn", 4, IXF_PART, k_dst_asn },
    [IX_DPORT] = { "by_dport", 2, IXF_PART, k_dport },
    [IX_COMMUNITY] = { "by_community", 8, IXF_ADD_ONLY | IXF_PART, k_community },
    [IX_ASSIGNEE] = { "by_assignee", 8, 0, k_assignee },
    [IX_ATTACK] = { "by_attack", 8, 0, k_attack },
    [IX_CASE] = { "by_case", 8, IXF_ADD_ONLY, k_case },
};

const char *const cgs_db_names[DB_N] = {
    "meta",       "incidents", "alerts",       "evidence",    "history",      "parts",
    "pairs",      "log",       "log_nodes",    "cases",       "case_history", "outbox",
    "users",      "tokens",    "audit",        "by_time",     "by_src",       "by_dst",
    "by_sid",     "by_sev",    "by_status",    "by_src_cc",   "by_dst_cc",    "by_src_asn",
    "by_dst_asn", "by_dport",  "by_community", "by_assignee", "by_attack",    "by_case",
};
