/* dns.h — DNS messages (RFC 1035) into inspection buffers: the question
 * names of a query as dns.query, the opcode as dns.opcode; and, for logs,
 * the questions and answers of any message (cg_dns_parse_detail).
 *
 * Input: one whole message, the payload of a UDP datagram, or one message of
 * a TCP stream framed by its 2-byte length prefix (RFC 1035 §4.2.2, RFC 7766);
 * cg_dns_tcp_next below cuts a stream into such messages.
 *
 * What goes into the cg_bufset (semantics follow Suricata's, noted where not):
 *  - CG_BUF_DNS_QUERY: one instance per question name of a QUERY message (QR
 *    bit 0), in question order, up to CG_BUF_MAX_INST: the labels joined with
 *    '.', no trailing dot, bytes as sent (case kept, no escaping: a '.' or any
 *    byte inside a label stays what it is). The root name is an instance of
 *    length 0. Suricata's dns.query inspects requests only (the names of a
 *    response are not dns.query there); canhgac goes by the QR bit, since
 *    cg_dns_parse does not know the direction: a response gives no dns.query,
 *    its names are still walked and checked, and it is counted.
 *  - dns_opcode: the header's opcode, for queries and responses alike (as
 *    Suricata's dns.opcode), set once the header is read.
 *
 * Names are checked harder than RFC 1035 asks and than Suricata does (which
 * accepts forward pointers and names up to 1025 bytes): a name is rejected,
 * and the message with it, when
 *  - a label length byte has its top bits 01 or 10 (no such label type, or a
 *    label over 63 bytes):                              CG_EDNS_LABEL
 *  - its wire length (length bytes, labels, the root byte) passes 255:
 *                                                       CG_EDNS_NAME_LEN
 *  - a compression pointer points at or after the start of the run of labels
 *    it ends (a legal pointer refers to a name written earlier), and inside
 *    what the name already went through (a loop):      CG_EDNS_LOOP
 *    or elsewhere after it (a forward pointer):         CG_EDNS_PTR_FORWARD
 *  - a pointer points into the 12-byte header or past the message's end:
 *                                                       CG_EDNS_PTR_RANGE
 *  - it follows more than CG_DNS_MAX_HOPS pointers:     CG_EDNS_HOPS
 * Since each pointer must go strictly below the run it ends, a walk ends after
 * at most CG_DNS_MAX_HOPS jumps whatever the bytes: no loop can hang it.
 *
 * Truncated versus invalid (as decode.h): len bytes of a message of wire_len
 * bytes were captured. A field that runs past wire_len is INVALID (the message
 * contradicts its own length: a count, an RDLENGTH, a name that lies); one
 * that runs past len but not wire_len is TRUNCATED (bytes were not captured,
 * or were not kept: see cg_dns_tcp). A message shorter than its 12-byte header
 * is invalid (or truncated when only len is short).
 *
 * The whole message is walked: questions, then the answer, authority and
 * additional records (owner names, RDLENGTH within the message, the names in
 * the RDATA of NS, CNAME, SOA, PTR and MX). Bytes after the last record are
 * ignored. On an error the buffers of the questions read whole before it stay
 * in the bufset (an invalid answer section does not hide the questions).
 *
 * Memory: names are written into the caller's scratch (per worker; views into
 * it); CG_DNS_SCRATCH_SIZE bytes hold every name a bufset can keep. A name
 * that does not fit, or past CG_BUF_MAX_INST, is walked and checked but not
 * handed out (names_dropped). Nothing here allocates; the stats belong to the
 * calling worker.
 *
 * Lifetime: the views point into the scratch (names); they live until the
 * scratch is written again (the next cg_dns_parse with it).
 */
#ifndef CG_DNS_H
#define CG_DNS_H

#include "sensor/error.h"
#include <stdint.h>

#include "sensor/buffers.h"

/* Results of cg_dns_parse (error.h's codes): CG_OK; CG_ETRUNCATED: runs past
 * the bytes captured (len); CG_EMALFORMED: runs past the message (wire_len),
 * or a bad count; a bad name is one of CG_EDNS_LABEL .. CG_EDNS_HOPS. Every
 * one but CG_OK and CG_ETRUNCATED is a kind of invalid message. */

#define CG_DNS_HEADER 12
#define CG_DNS_MAX_NAME 255 /* wire bytes (RFC 1035 §2.3.4) */
#define CG_DNS_MAX_LABEL 63
#define CG_DNS_MAX_HOPS 32 /* pointers followed in one name */
/* Scratch for the names of one message: each dotted name is at most 253
 * bytes; 256 per instance kept. */
#define CG_DNS_SCRATCH_SIZE (CG_BUF_MAX_INST * 256)

/* The header and where parsing stopped. */
typedef struct cg_dns_msg {
    uint16_t id;
    uint16_t flags; /* the second header word: QR, opcode, AA, TC, RD, RA, Z, RCODE */
    uint8_t qr;     /* 1: response */
    uint8_t opcode, rcode;
    uint16_t qdcount, ancount, nscount, arcount;
    uint16_t questions; /* questions read whole */
    uint16_t records;   /* records read whole (answer, authority, additional) */
    uint32_t err_off;   /* byte offset of the field in error (0 when OK) */
} cg_dns_msg;

/* Counters, per worker. Every cg_dns_parse adds 1 to messages and, unless OK,
 * 1 to truncated or 1 to invalid; an invalid name adds 1 more to exactly one
 * of long_labels .. too_many_hops. */
typedef struct cg_dns_stats {
    uint64_t messages, queries, responses; /* queries + responses: headers read */
    uint64_t questions;                    /* question entries read whole */
    uint64_t names_dropped;                /* question names not handed out (instances, scratch) */
    uint64_t truncated, invalid;
    uint64_t long_labels;      /* CG_EDNS_LABEL */
    uint64_t long_names;       /* CG_EDNS_NAME_LEN */
    uint64_t loops;            /* CG_EDNS_LOOP */
    uint64_t forward_pointers; /* CG_EDNS_PTR_FORWARD */
    uint64_t bad_pointers;     /* CG_EDNS_PTR_RANGE */
    uint64_t too_many_hops;    /* CG_EDNS_HOPS */
    /* cg_dns_tcp */
    uint64_t tcp_messages; /* messages framed */
    uint64_t tcp_clipped;  /* of those, longer than CG_DNS_TCP_KEEP: handed out clipped */
    uint64_t tcp_partial;  /* a message cut by a gap or the end of the stream */
    uint64_t tcp_lost;     /* directions that lost the framing at a gap */
} cg_dns_stats;

/* Parses the message msg[0..len) of wire_len bytes (wire_len >= len; the
 * length of the datagram or of the TCP frame; 0 means len). Clears out, then
 * fills it (see above). m may be NULL; when given it is filled as far as the
 * header was read. scratch holds the names (scratch_len bytes; at least
 * CG_DNS_SCRATCH_SIZE to keep every name). Returns CG_OK or a negative
 * CG_DNS_* result. Reads only msg[0..len). */
int cg_dns_parse(const uint8_t *msg, uint32_t len, uint32_t wire_len, uint8_t *scratch,
                 uint32_t scratch_len, cg_bufset *out, cg_dns_msg *m, cg_dns_stats *st);

/* ---- what a message says, for logs ---------------------------------------
 *
 * cg_dns_parse_detail parses as cg_dns_parse does (same buffers, result,
 * counters) and also keeps, for any message (query or response), what an EVE
 * dns record shows: each question's name and type, and each record of the
 * answer section: owner name, type, TTL and its RDATA as text when the type
 * has one (A: dotted quad; AAAA: RFC 5952; CNAME, NS, PTR: the dotted name;
 * MX: the exchange's name; TXT: its strings joined; others: none, rdata
 * NULL). Names are dotted and bytes as sent, as in dns.query. Only what
 * parsed whole before an error is kept. Bounded: CG_DNS_DETAIL_QUESTIONS
 * questions and CG_DNS_DETAIL_ANSWERS answers, their text in the detail's
 * own CG_DNS_DETAIL_TEXT bytes; what does not fit is counted in q_dropped /
 * an_dropped (a TXT longer than the room left is cut, not dropped). Views
 * into the detail; they live until it is written again. */
#define CG_DNS_DETAIL_QUESTIONS 4
#define CG_DNS_DETAIL_ANSWERS 16
#define CG_DNS_DETAIL_TEXT 4096

typedef struct cg_dns_question {
    const char *name; /* not NUL-terminated: name_len bytes */
    uint16_t name_len;
    uint16_t type; /* QTYPE */
} cg_dns_question;

typedef struct cg_dns_answer {
    const char *name;
    uint16_t name_len;
    uint16_t type;
    uint32_t ttl;
    const char *rdata; /* NULL: not rendered for this type */
    uint16_t rdata_len;
} cg_dns_answer;

typedef struct cg_dns_detail {
    uint16_t nq, nan; /* questions and answers kept */
    uint16_t q_dropped, an_dropped;
    cg_dns_question q[CG_DNS_DETAIL_QUESTIONS];
    cg_dns_answer an[CG_DNS_DETAIL_ANSWERS];
    uint32_t used; /* bytes of text used */
    char text[CG_DNS_DETAIL_TEXT];
} cg_dns_detail;

/* cg_dns_parse, filling det too (cleared first; NULL: cg_dns_parse). */
int cg_dns_parse_detail(const uint8_t *msg, uint32_t len, uint32_t wire_len, uint8_t *scratch,
                        uint32_t scratch_len, cg_bufset *out, cg_dns_msg *m, cg_dns_stats *st,
                        cg_dns_detail *det);

/* Suricata's names of a record type ("A", "AAAA", "CNAME", ...) and of a
 * response code ("NOERROR", "NXDOMAIN", ...); NULL for a value without one
 * (Suricata then writes the number). */
const char *cg_dns_type_name(uint16_t type);
const char *cg_dns_rcode_name(uint8_t rcode);

/* ---- DNS over TCP: framing ----------------------------------------------
 *
 * One cg_dns_tcp per direction of a flow (the caller's per-flow area), all zero
 * to start. It is fed the direction's in-order stream pieces (reassembly's
 * on_data) and hands out one message at a time:
 *
 *     cg_dns_frame f;
 *     while (cg_dns_tcp_next(t, &p, &n, &f, st) == 1)
 *         cg_dns_parse(f.msg, f.len, f.wire_len, scratch, sizeof scratch, &bs, NULL, st);
 *
 * A message whole inside the piece is a view into the piece; one that spans
 * pieces is copied into the state's buffer. Only its first CG_DNS_TCP_KEEP
 * bytes are kept (they hold the questions of any query); the rest is skipped,
 * and the frame says so (len < wire_len), whether or not the message was
 * split, so that the result never depends on how the stream was cut.
 *
 * A gap (CG_REASM_GAP) loses the framing for good: call cg_dns_tcp_gap, and
 * the direction yields nothing more (a length prefix cannot be found again).
 * At the end of the stream, cg_dns_tcp_end hands out a message cut short, if
 * one was started, as a frame with len < wire_len (it parses as TRUNCATED).
 */
#define CG_DNS_TCP_KEEP 1024

typedef struct cg_dns_tcp {
    uint32_t have; /* bytes of the current message kept in buf */
    uint32_t got;  /* bytes of the current message seen */
    uint16_t need; /* its length, once the prefix is in */
    uint8_t state; /* private */
    uint8_t pfx;   /* prefix bytes seen (0..2) */
    uint8_t pfx0;  /* the first prefix byte */
    uint8_t buf[CG_DNS_TCP_KEEP];
} cg_dns_tcp;

typedef struct cg_dns_frame {
    const uint8_t *msg; /* view: into the piece or the cg_dns_tcp */
    uint32_t len;       /* bytes at msg */
    uint32_t wire_len;  /* the message's length (its prefix) */
} cg_dns_frame;

/* Consumes bytes of *data / *len (moving both on) up to the end of the next
 * message, and returns 1 with *f set when one is complete; returns 0 when
 * every byte was consumed without completing one. f's view lives until the
 * next call with t, or until the piece is gone, whichever is first. */
int cg_dns_tcp_next(cg_dns_tcp *t, const uint8_t **data, uint32_t *len, cg_dns_frame *f,
                    cg_dns_stats *st);

/* Bytes are missing before the next piece: the direction stops here. */
void cg_dns_tcp_gap(cg_dns_tcp *t, cg_dns_stats *st);

/* The stream ended: returns 1 with *f set (len < wire_len) when a message was
 * started and not finished; 0 otherwise. t is done after this. */
int cg_dns_tcp_end(cg_dns_tcp *t, cg_dns_frame *f, cg_dns_stats *st);

#endif
