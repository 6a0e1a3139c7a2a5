/* qlang.h — the incident query language of `canhgac query`.
 *
 * Grammar (keywords and field names are case-insensitive):
 *
 *   expr    := or
 *   or      := and ( "or" and )*
 *   and     := unary ( ["and"] unary )*        two terms side by side mean "and"
 *   unary   := "not" unary | "(" expr ")" | term
 *   term    := "since" ["="] TIME | "until" ["="] TIME
 *            | FIELD OP VALUE                    OP: = != < <= > >= ~ !~
 *            | FIELD "in" VALUE                  an address field in a CIDR
 *            | FIELD ["not"] "in" "[" VALUE ("," VALUE)* "]"   any of a list
 *
 *   since T   first seen at or after T;  until T  first seen before T
 *   TIME      24h, 30m, 90s, 7d, 2w (back from now), 2025-11-23, 2025-11-23T08:00:00,
 *             @EPOCH (seconds)
 *   ~         the text contains the value, case-insensitively (msg ~ "sql injection")
 *   strings   a bare word, or "double quoted" with \" and \\ inside
 *
 * Fields (src.X / dst.X are the source's / destination's; X alone is either side):
 *   time first_seen last_seen              TIME
 *   src dst ip                             address; = an address, in a CIDR
 *   sport dport port                       0..65535
 *   sid gid count id                       numbers
 *   sev severity                           high medium low info (or 1..4, 1 = high);
 *                                          ordered by gravity: sev >= medium is medium or high
 *   status                                 new acknowledged investigating resolved
 *                                          false-positive
 *   proto                                  tcp udp icmp icmpv6 or a number
 *   msg classtype assignee community_id    text
 *   src.country dst.country country        ISO code (VN), case-insensitive; "" unknown
 *   src.asn dst.asn asn                    number (AS13335 also accepted)
 *   src.agency dst.agency agency, src.zone dst.zone zone   text from the asset file
 *   layer                                  1..4: the incident reached that layer (=),
 *                                          or one above / below it (layer >= 2)
 *   attack (attack_id)                     number: the incident's attack (store.h)
 *   case                                   number: the incident is in that case; only
 *                                          "case = N", once, joined with "and" (the
 *                                          store's index answers it, not the record)
 * The context of the first alert (text, "" when unknown; = != ~ !~ as for msg):
 *   url (http.url)                         the request target ("/index.php?id=1")
 *   http.host (http.hostname)              the Host header
 *   http.user_agent, http.method           ("GET")
 *   http.status                            number: the response's status, 0 = none
 *   dns.query (dns.rrname)                 the first question's name
 *   tls.sni, tls.ja3 (tls.ja3.hash)        the client hello's server name, JA3 hash
 *   app_proto                              http tls dns ssh smtp ftp smb, "" unknown
 *
 * Example: since 24h and src in 10.20.0.0/16 and sev >= high and dst.country != VN
 *          and status = new
 *
 * Contract:
 *  - cg_qlang_parse never reads past text's terminating NUL; on error it returns
 *    -1, writes one line into err ("column N: why") and the 1-based column into
 *    *col; *out is written only on success. Times are resolved against now_us.
 *  - The compiled expression is plain memory (cg_qlang_free); evaluation is
 *    read-only, so one expression may be evaluated from many threads.
 *  - "either side" fields (ip, port, country, asn, agency, zone) hold when one
 *    side matches: for != and "not in" both sides must differ (ip != X means
 *    neither end is X), as an analyst reads it.
 *  - cg_qlang_hints extracts what the store's indexes can use: constraints of
 *    the top-level "and" terms (never from under "or"/"not"). Every record the
 *    expression accepts satisfies the hints; the expression is still evaluated
 *    on each candidate.
 */
#ifndef CG_QLANG_H
#define CG_QLANG_H

#include <stddef.h>
#include <stdint.h>

/* An incident as the language sees it; the caller fills it from a record.
 * Strings are never NULL ("" when absent). */
typedef struct cg_qrec {
    uint64_t id, first_us, last_us, count;
    uint32_t gid, sid;
    uint8_t severity; /* 1 high .. 4 info */
    uint8_t status;   /* 0 new, 1 acknowledged, 2 investigating, 3 resolved, 4 fp */
    uint8_t proto;
    uint8_t layers; /* bit n-1 = layer n */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    const char *msg, *classtype, *assignee, *community_id;
    const char *src_country, *dst_country; /* ISO codes */
    uint32_t src_asn, dst_asn;
    const char *src_agency, *dst_agency, *src_zone, *dst_zone;
    uint64_t attack_id;
    uint16_t http_status;
    const char *app_proto, *http_method, *http_host, *http_url, *http_user_agent;
    const char *dns_query, *tls_sni, *tls_ja3; /* NULL reads as "" here */
} cg_qrec;

typedef struct cg_qexpr cg_qexpr;

int cg_qlang_parse(const char *text, uint64_t now_us, cg_qexpr **out, char *err, size_t errlen,
                   int *col);
void cg_qlang_free(cg_qexpr *e);

/* 1 when r matches e. */
int cg_qlang_eval(const cg_qexpr *e, const cg_qrec *r);

/* Index hints (has: CG_QH_* bits). Ranges are inclusive. */
#define CG_QH_TIME 0x0001 /* time_lo <= first_us <= time_hi */
#define CG_QH_SRC 0x0002  /* src in [src_lo, src_hi] */
#define CG_QH_DST 0x0004
#define CG_QH_SID 0x0008    /* sid == sid */
#define CG_QH_SEV 0x0010    /* severity <= sev_max (1 = high only) */
#define CG_QH_STATUS 0x0020 /* status == status */
#define CG_QH_DPORT 0x0040  /* dport == dport */
#define CG_QH_SRC_CC 0x0080 /* src country == src_cc */
#define CG_QH_DST_CC 0x0100
#define CG_QH_SRC_ASN 0x0200
#define CG_QH_DST_ASN 0x0400
#define CG_QH_CID 0x0800    /* community_id == cid */
#define CG_QH_ATTACK 0x1000 /* attack_id == attack */
#define CG_QH_CASE 0x2000   /* in case case_id (always a hint when named) */

typedef struct cg_qhints {
    unsigned has;
    /* 1 when the hints are all the expression says: it is an "and" of terms
     * that each became a hint whole (a time bound, src/dst = or in one CIDR,
     * sid =, sev >= or >, status =, dport =, src/dst.country =, src/dst.asn =,
     * attack =, case =)
     * with no field twice but time and addresses; then a record matches the
     * expression exactly when it satisfies the hints (status_mask, country ""
     * = unknown and AS 0 = unknown as the store's cg_query has them), and a
     * caller need not evaluate it on records. 0 for no expression. */
    int exact;
    uint64_t time_lo, time_hi;
    uint8_t src_lo[16], src_hi[16], dst_lo[16], dst_hi[16];
    uint32_t sid;
    uint8_t sev_max, status;
    uint16_t dport;
    char src_cc[3], dst_cc[3];
    uint32_t src_asn, dst_asn;
    char cid[64];
    uint64_t attack;
    uint64_t case_id;
} cg_qhints;

void cg_qlang_hints(const cg_qexpr *e, cg_qhints *out);

/* Helpers shared with the command line (0 or -1; outputs only on success). */
/* "90s", "30m", "24h", "7d", "2w" -> microseconds. */
int cg_qlang_duration(const char *s, uint64_t *out_us);
/* A duration back from now, an ISO 8601 UTC date or time, or @EPOCH. */
int cg_qlang_time(const char *s, uint64_t now_us, uint64_t *out_us);
/* An address or CIDR (IPv4 or IPv6) -> inclusive 16-byte range (IPv4 mapped). */
int cg_qlang_cidr(const char *s, uint8_t lo[16], uint8_t hi[16]);
/* "high".."info" or "1".."4" -> 1..4. */
int cg_qlang_severity(const char *s, uint8_t *out);
/* "new", "acknowledged" (ack), "investigating", "resolved", "false-positive" (fp). */
int cg_qlang_status(const char *s, uint8_t *out);
const char *cg_qlang_status_name(unsigned status);

#endif
