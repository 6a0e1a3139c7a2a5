/* buffers.h — the inspection buffers: what the sensor hands detection.
 *
 * A buffer is a view of bytes the sensor produced from traffic: a packet's
 * payload, a chunk of a reassembled TCP stream, or a field an application
 * parser (HTTP, DNS, TLS) took out of a stream or datagram. Rules name them
 * with Suricata's sticky buffers (http.uri, dns.query, ...); the rule parser
 * maps those names onto these ids, detection scans each buffer kind against
 * the rules whose fast pattern lives there.
 *
 * A cg_bufset is one unit of inspection: the buffers of one packet, or of one
 * application transaction (an HTTP request, or response, a DNS message, a TLS
 * handshake message) in one direction. Some buffers have several instances
 * (every question of a DNS message, every certificate of a chain): each is
 * inspected on its own, as Suricata's multi-buffers are.
 *
 * Lifetime: every view points into memory owned by the producer (the packet,
 * the reassembly chunk, the parser's per-flow state) and lives until the
 * producer is called again for that flow. Nothing here allocates.
 */
#ifndef CG_BUFFERS_H
#define CG_BUFFERS_H

#include <stdint.h>

enum cg_buf {
    CG_BUF_PAYLOAD = 0, /* the packet's L4 payload */
    CG_BUF_STREAM,      /* reassembled TCP data (chunk) */
    /* HTTP/1.x request */
    CG_BUF_HTTP_URI, /* normalized: percent-decoded, path normalized */
    CG_BUF_HTTP_URI_RAW,
    CG_BUF_HTTP_METHOD,
    CG_BUF_HTTP_PROTOCOL, /* "HTTP/1.1", of the request or the response */
    CG_BUF_HTTP_REQUEST_LINE,
    CG_BUF_HTTP_HOST, /* lowercased, port stripped */
    CG_BUF_HTTP_HOST_RAW,
    CG_BUF_HTTP_USER_AGENT,
    CG_BUF_HTTP_COOKIE,
    CG_BUF_HTTP_CONTENT_TYPE,
    CG_BUF_HTTP_CONTENT_LEN,
    CG_BUF_HTTP_REFERER,
    CG_BUF_HTTP_ACCEPT,
    CG_BUF_HTTP_ACCEPT_ENC,
    CG_BUF_HTTP_ACCEPT_LANG,
    CG_BUF_HTTP_CONNECTION,   /* of the request or the response */
    CG_BUF_HTTP_REQUEST_BODY, /* dechunked, decompressed */
    /* HTTP/1.x request or response (the direction of the transaction) */
    CG_BUF_HTTP_HEADER, /* every header "Name: value\r\n", normalized, no cookie */
    CG_BUF_HTTP_HEADER_RAW,
    CG_BUF_HTTP_HEADER_NAMES, /* "\r\nName1\r\nName2\r\n\r\n" as Suricata builds it */
    CG_BUF_HTTP_START,        /* start line + headers, raw, up to the blank line */
    /* HTTP/1.x response */
    CG_BUF_HTTP_STAT_CODE,
    CG_BUF_HTTP_STAT_MSG,
    CG_BUF_HTTP_RESPONSE_LINE,
    CG_BUF_HTTP_LOCATION,
    CG_BUF_HTTP_SERVER,
    CG_BUF_HTTP_RESPONSE_BODY, /* dechunked, decompressed */
    CG_BUF_FILE_DATA,          /* the body of the transaction's direction */
    /* DNS */
    CG_BUF_DNS_QUERY, /* each question name, dotted; multi */
    /* TLS */
    CG_BUF_TLS_SNI,
    CG_BUF_TLS_CERT_SUBJECT, /* of the server's first certificate, RFC 2253-ish text */
    CG_BUF_TLS_CERT_ISSUER,
    CG_BUF_TLS_CERT_SERIAL, /* "0A:1B:..." */
    CG_BUF_TLS_CERTS,       /* each certificate, DER; multi */
    CG_BUF_JA3_HASH,        /* 32 hex digits */
    CG_BUF_JA3_STRING,
    CG_BUF_JA3S_HASH,
    CG_BUF_JA3S_STRING,
    CG_BUF_COUNT
};

#define CG_BUF_MAX_INST 8 /* instances kept of a multi-buffer */

typedef struct cg_bufview {
    const uint8_t *p;
    uint32_t len;
} cg_bufview;

typedef struct cg_bufset {
    uint64_t present;        /* bit b: buffer b has at least one instance */
    uint8_t n[CG_BUF_COUNT]; /* instances (0 when absent) */
    cg_bufview v[CG_BUF_COUNT][CG_BUF_MAX_INST];
    /* values that rules test as numbers or flags rather than bytes */
    uint8_t dns_opcode;   /* with CG_BUF_DNS_QUERY present */
    uint16_t tls_version; /* 0x0303 ...; 0 when not known */
    uint32_t events;      /* CG_EV_*: the parser's anomaly events */
} cg_bufset;

/* Application-layer events of a transaction (app-layer-event), Suricata's
 * names: */
#define CG_EV_HTTP_INVALID_TE_REQ 0x01u    /* http.invalid_transfer_encoding_value_in_request */
#define CG_EV_HTTP_AUTH_UNRECOGNIZED 0x02u /* http.request_auth_unrecognized */

static inline void cg_bufset_clear(cg_bufset *b)
{
    b->present = 0;
    for (int i = 0; i < CG_BUF_COUNT; i++)
        b->n[i] = 0;
    b->dns_opcode = 0;
    b->tls_version = 0;
    b->events = 0;
}

/* Adds one instance of buffer id (ignored past CG_BUF_MAX_INST). */
static inline void cg_bufset_add(cg_bufset *b, int id, const uint8_t *p, uint32_t len)
{
    if (b->n[id] >= CG_BUF_MAX_INST)
        return;
    b->v[id][b->n[id]].p = p;
    b->v[id][b->n[id]].len = len;
    b->n[id]++;
    b->present |= 1ull << id;
}

#endif
