/* appctx.h — a flow's application context: what an analyst reads beside an
 * alert, and what the EVE http, dns and tls records show.
 *
 * Per flow: the fields of its last HTTP request and of the response paired
 * with it, its last DNS message (header and first question), its TLS
 * handshake (SNI, JA3, JA3S, version, the server certificate's subject,
 * issuer and serial). Each is copied out of the transaction's buffers
 * (buffers.h, whose views die with the transaction) into fixed-size text
 * fields; a field longer than its room is cut at the room (a UTF-8 sequence
 * may be cut: the EVE writer shows it as U+FFFD) and its bit set in
 * `truncated`.
 *
 * Storage: a pool of slots allocated at cg_appctx_pool_create, nothing
 * after. A flow takes a slot at its first transaction (cg_appctx_take, its
 * handle kept in the flow's own area) and gives it back when it ends
 * (cg_appctx_release). When no slot is free, the slot of the flow that took
 * or touched its slot least recently is taken from it (its handle is set to
 * 0: it has no context any more) and counted in steals. One slot is
 * sizeof(cg_appctx) + 16 bytes, about 6 KiB; pages are touched when a slot
 * is first used.
 *
 * HTTP pairing. Responses come in the order of their requests. The context
 * holds the last request; a response pairs with it when it answers it (the
 * flow's response count reaches its request count), and is then kept with
 * it. A request that comes before the previous one was answered (pipelining)
 * replaces it: the caller logs the previous one first, without its response
 * (cg_appctx_http_unlogged), and the responses of such requests are not
 * kept.
 *
 * cg_alert_info is what an alert knows of its flow and of the bytes it was
 * raised on (analyzer/engine/inspect.h hands it out during the alert callback);
 * cg_alert_excerpt cuts the bytes around the match.
 *
 * Thread: a pool belongs to one worker (cg_inspect), like its flows.
 */
#ifndef CG_APPCTX_H
#define CG_APPCTX_H

#include <stdint.h>

#include "sensor/buffers.h"
#include "sensor/dns.h"

/* Rooms, in bytes, for each field (text, without a NUL) */
#define CG_APPCTX_METHOD 32
#define CG_APPCTX_HOST 255
#define CG_APPCTX_URL 2048
#define CG_APPCTX_UA 512
#define CG_APPCTX_PROTOCOL 16
#define CG_APPCTX_CTYPE 128
#define CG_APPCTX_REFERER 512
#define CG_APPCTX_RRNAME 253
#define CG_APPCTX_SNI 255
#define CG_APPCTX_DN 512 /* a certificate's subject or issuer */
#define CG_APPCTX_SERIAL 128
#define CG_APPCTX_JA3 512 /* a JA3 or JA3S string */
#define CG_APPCTX_HASH 32 /* an MD5 in hex */

#define CG_APPCTX_DEFAULT_SLOTS 4096

/* A text field: len bytes at s (not NUL-terminated; may hold any byte). */
#define CG_APPCTX_TEXT(n) \
    struct {              \
        uint16_t len;     \
        char s[n];        \
    }

/* cg_appctx.truncated bits: the fields cut at their room */
enum {
    CG_APPCTX_T_URL = 1u << 0,
    CG_APPCTX_T_UA = 1u << 1,
    CG_APPCTX_T_HOST = 1u << 2,
    CG_APPCTX_T_REFERER = 1u << 3,
    CG_APPCTX_T_CTYPE = 1u << 4,
    CG_APPCTX_T_METHOD = 1u << 5,
    CG_APPCTX_T_RRNAME = 1u << 6,
    CG_APPCTX_T_SNI = 1u << 7,
    CG_APPCTX_T_SUBJECT = 1u << 8,
    CG_APPCTX_T_ISSUER = 1u << 9,
    CG_APPCTX_T_SERIAL = 1u << 10,
    CG_APPCTX_T_JA3 = 1u << 11,
    CG_APPCTX_T_JA3S = 1u << 12,
    CG_APPCTX_T_PROTOCOL = 1u << 13,
};

typedef struct cg_appctx_http {
    uint8_t has_request;          /* the fields of a request are here */
    uint8_t has_response;         /* ... and of the response paired with it */
    uint8_t logged;               /* the pair went out as an EVE http record */
    uint16_t status;              /* 0: none, or not a number */
    uint64_t length;              /* response body: its Content-Length, else the bytes seen */
    uint32_t requests, responses; /* of the flow so far (pairing) */
    CG_APPCTX_TEXT(CG_APPCTX_METHOD) method;
    CG_APPCTX_TEXT(CG_APPCTX_HOST) host; /* http.host: lowercased, no port */
    CG_APPCTX_TEXT(CG_APPCTX_URL) url;   /* http.uri.raw: the target as sent */
    CG_APPCTX_TEXT(CG_APPCTX_UA) ua;
    CG_APPCTX_TEXT(CG_APPCTX_PROTOCOL) protocol; /* the request's "HTTP/1.1" */
    CG_APPCTX_TEXT(CG_APPCTX_REFERER) referer;
    CG_APPCTX_TEXT(CG_APPCTX_CTYPE) ctype; /* the response's, up to any ';' */
} cg_appctx_http;

typedef struct cg_appctx_dns {
    uint8_t present;
    uint8_t qr; /* 1: the last message was a response */
    uint8_t opcode, rcode;
    uint16_t id, flags; /* the header's ID and second word */
    uint8_t has_query;  /* a first question was read whole */
    uint16_t rrtype;    /* its QTYPE */
    CG_APPCTX_TEXT(CG_APPCTX_RRNAME) rrname;
} cg_appctx_dns;

typedef struct cg_appctx_tls {
    uint8_t client_hello, server_hello, certificate; /* what of the handshake was seen */
    uint8_t logged;                                  /* it went out as an EVE tls record */
    uint16_t client_version;                         /* tls.h's tls_version of the ClientHello */
    uint16_t server_version;                         /* ... of the ServerHello: the one chosen */
    CG_APPCTX_TEXT(CG_APPCTX_SNI) sni;
    CG_APPCTX_TEXT(CG_APPCTX_DN) subject;
    CG_APPCTX_TEXT(CG_APPCTX_DN) issuerdn;
    CG_APPCTX_TEXT(CG_APPCTX_SERIAL) serial;
    CG_APPCTX_TEXT(CG_APPCTX_HASH) ja3_hash;
    CG_APPCTX_TEXT(CG_APPCTX_JA3) ja3;
    CG_APPCTX_TEXT(CG_APPCTX_HASH) ja3s_hash;
    CG_APPCTX_TEXT(CG_APPCTX_JA3) ja3s;
} cg_appctx_tls;

typedef struct cg_appctx {
    uint32_t truncated; /* CG_APPCTX_T_* */
    cg_appctx_http http;
    cg_appctx_dns dns;
    cg_appctx_tls tls;
} cg_appctx;

/* ---- the pool ---- */

typedef struct cg_appctx_pool cg_appctx_pool;

typedef struct cg_appctx_stats {
    uint32_t slots, used, peak;
    uint64_t taken;  /* slots given to flows */
    uint64_t steals; /* of those, taken from the least recently used flow */
    uint64_t mem_bytes;
} cg_appctx_stats;

/* A pool of slots (0: CG_APPCTX_DEFAULT_SLOTS). 0, or -1 (out of memory)
 * with *out untouched. */
int cg_appctx_pool_create(cg_appctx_pool **out, uint32_t slots);
/* NULL is a no-op. */
void cg_appctx_pool_destroy(cg_appctx_pool *p);

/* The context of the flow whose handle is *h (0: none yet): its slot, or a
 * cleared one (every field empty; a text's bytes past its length are not
 * defined) taken for it (the least recently used flow's when none is
 * free). The slot becomes the most recently used. *h must stay at the same
 * address until cg_appctx_release (the pool clears it when it takes the slot
 * back). Never NULL. */
cg_appctx *cg_appctx_take(cg_appctx_pool *p, uint32_t *h);
/* The context of handle h, or NULL when h is 0. */
cg_appctx *cg_appctx_of(const cg_appctx_pool *p, uint32_t h);
/* The flow ends: its slot goes back; *h becomes 0. */
void cg_appctx_release(cg_appctx_pool *p, uint32_t *h);

void cg_appctx_pool_stats(const cg_appctx_pool *p, cg_appctx_stats *out);

/* ---- copying a transaction in ---- */

/* An HTTP request's buffers (http.h): they replace the request held, and the
 * response fields are cleared. */
void cg_appctx_http_request(cg_appctx *c, const cg_bufset *bs);
/* An HTTP response's buffers: 1 when it pairs with the request held (its
 * fields are then kept), 0 when it answers an earlier request, or none. */
int cg_appctx_http_response(cg_appctx *c, const cg_bufset *bs);
/* 1 when a request is held that has not gone out as an EVE record. */
int cg_appctx_http_unlogged(const cg_appctx *c);

/* A TLS handshake message's buffers (tls.h): a ClientHello's SNI and JA3, a
 * ServerHello's JA3S, a Certificate's subject, issuer and serial, each
 * message's version. */
void cg_appctx_tls_message(cg_appctx *c, const cg_bufset *bs, int to_server);
/* Suricata's name of a TLS version ("TLS 1.2", "TLSv1", "SSLv3", "TLS 1.3
 * draft-28", "0x0a0a" ...), into out (at least 24 bytes). Returns out. */
const char *cg_appctx_tls_version_name(uint16_t v, char *out, unsigned outlen);
/* The version an EVE tls record shows: the server's when a ServerHello was
 * seen, else the client's (0: none). */
uint16_t cg_appctx_tls_version(const cg_appctx *c);

/* A DNS message: its header, and its first question (det may be NULL). */
void cg_appctx_dns_message(cg_appctx *c, const cg_dns_msg *m, const cg_dns_detail *det);

/* ---- what an alert knows ---- */

#define CG_ALERT_NO_MATCH UINT32_MAX
#define CG_ALERT_EXCERPT_DEFAULT 256
#define CG_ALERT_EXCERPT_MAX 1024

typedef struct cg_alert_info {
    const cg_appctx *app; /* the flow's context; NULL when it has none */
    uint8_t app_proto;    /* CG_APP_* (rule.h) of the flow; NONE when unknown */
    uint8_t buf;          /* CG_BUF_* of data: PAYLOAD (the packet's), STREAM (a
                           * stream window) or the transaction buffer matched */
    int stream;           /* found on the reassembled stream */
    const uint8_t *data;  /* the bytes the alert was raised on (a view) */
    uint32_t len;
    uint32_t match_end; /* offset in data where the rule's fast pattern's first
                         * match ends; CG_ALERT_NO_MATCH when not known */
    uint32_t match_len; /* that pattern's length: the match starts at
                         * match_end - match_len (0: not known) */
} cg_alert_info;

/* Up to max bytes of ai's data around its match (max 0: the default 256;
 * more than 1024: 1024): centred on where the match ends, moved to stay
 * within the data; without a match, the first max bytes.
 * *out is a view into ai->data; *match_at is where the match ends in the
 * excerpt (CG_ALERT_NO_MATCH without one). Returns the excerpt's length. */
uint32_t cg_alert_excerpt(const cg_alert_info *ai, uint32_t max, const uint8_t **out,
                          uint32_t *match_at);

#endif
