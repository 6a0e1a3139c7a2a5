/* tls.h — the clear part of a TLS handshake (RFC 5246, RFC 8446) into
 * inspection buffers: SNI, JA3 and JA3S, the version, and the server's
 * certificates.
 *
 * Input: both directions of a TCP flow, each as its in-order stream pieces
 * (reassembly's on_data), with reassembly's CG_REASM_GAP / _END / _DEPTH
 * flags. A flow is TLS when its first client bytes look like a handshake
 * record carrying a ClientHello (content type 22, version 3.0 to 3.4, a length
 * of 1 to 2^14, handshake type 1), whatever the ports. Only then does it take
 * a per-flow state from a pool allocated at create.
 *
 * Each handshake message that yields buffers is handed to the callback, once,
 * as one cg_bufset in its direction (semantics follow Suricata's keywords):
 *  - ClientHello, to server:
 *      CG_BUF_TLS_SNI      the first host_name of server_name (RFC 6066 §3),
 *                          bytes as sent (tls.sni);
 *      CG_BUF_JA3_STRING   "SSLVersion,Ciphers,Extensions,EllipticCurves,
 *                          EllipticCurvePointFormats": decimal values joined
 *                          with '-', GREASE values (0x?a?a, RFC 8701) left
 *                          out of the ciphers, extensions and curves; the
 *                          version is the legacy client_version; an absent
 *                          list is an empty field ("771,4865,,,");
 *      CG_BUF_JA3_HASH     its MD5, 32 lowercase hex digits;
 *      tls_version         the first version in supported_versions that is a
 *                          real one (SSL 3.0 to TLS 1.3, TLS 1.3 drafts; GREASE
 *                          skipped) when the extension is there, else the
 *                          legacy client_version: what Suricata's tls.version
 *                          compares in the to-server direction.
 *  - ServerHello, to client:
 *      CG_BUF_JA3S_STRING  "SSLVersion,Cipher,Extensions" (GREASE left out);
 *      CG_BUF_JA3S_HASH    its MD5;
 *      tls_version         supported_versions' selected_version when the
 *                          extension is there, else the legacy server_version
 *                          (Suricata's to-client tls.version).
 *  - Certificate (TLS 1.2 and before, where it travels in clear), either way:
 *      CG_BUF_TLS_CERTS    each certificate, DER (tls.certs), up to
 *                          CG_BUF_MAX_INST;
 *      CG_BUF_TLS_CERT_SUBJECT, _ISSUER  of the first certificate: Suricata's
 *                          text (its X.509 parser's): RDNs in certificate order
 *                          joined by ", ", the attributes of one RDN by " + ",
 *                          each "NAME=value" with NAME one of C, ST, L, O, OU,
 *                          CN, DC, Email, else OpenSSL's short name, else the
 *                          dotted OID; values as their bytes, no escaping
 *                          (BMPString and UniversalString converted to UTF-8,
 *                          where Suricata fails; non-string values as
 *                          uppercase hex): "C=US, O=Let's Encrypt, CN=R3";
 *      CG_BUF_TLS_CERT_SERIAL  the serial's DER content octets (a leading 00
 *                          kept) as uppercase hex pairs joined by ':';
 *      tls_version         the sending direction's version as above.
 * The first certificate is parsed with OpenSSL (d2i_X509): the one allocation
 * of this module after create, once per Certificate message, freed before the
 * callback. One that does not parse counts in cert_parse_errors, and its
 * certificates are still handed out in CG_BUF_TLS_CERTS; so does one whose
 * subject or issuer text passes 8 KiB, or whose serial passes 128 octets
 * (those three fields are then not handed out).
 *
 * Messages. Handshake messages are reassembled across records and pieces: a
 * message whole inside one record of one piece is parsed in place; one that
 * spans is copied into the state's buffer (buf_size bytes, one buffer per
 * state, held by one direction at a time). A message longer than buf_size is
 * counted (oversize) and only its first buf_size bytes are kept: the
 * certificates wholly inside them are handed out; hellos that long are
 * dropped. A message another direction needs the buffer for meanwhile is
 * skipped (buf_busy).
 *
 * Hostile lengths. Every length is checked against its container; one that
 * does not fit is a length lie, counted, and what it described is dropped:
 *  - a record length over 2^14 + 2048 stops the direction (so does a record
 *    of an unknown type or version: invalid); a zero-length handshake record
 *    is skipped;
 *  - a handshake message cut by a record of another type is dropped;
 *  - inside a ClientHello, ServerHello or Certificate: lists (session id,
 *    ciphers, compression, extensions, each extension, the server_name list
 *    and its names, curves, point formats, versions, certificates) must fit
 *    exactly in what holds them; zero lengths the RFCs forbid (a host name, a
 *    certificate, an empty cipher list) are lies too. A hello in error still
 *    hands out the SNI found before the error, never a JA3.
 * A direction that ends (END, DEPTH, cg_tls_end) inside a record or message
 * counts truncated. After a gap a direction stops (gaps).
 *
 * End of parsing. A direction stops at ChangeCipherSpec (what follows is
 * encrypted), except after a ServerHello that chose TLS 1.3 (whose CCS is for
 * middleboxes; plaintext handshake records can still follow, e.g. a second
 * ClientHello), and at the first application_data record. When both
 * directions have stopped the state goes back to the pool; cg_tls_feed then
 * returns 0 at once for the flow.
 *
 * Pool. cfg.max_flows states, each with its buffer: handshakes in progress
 * at once, not flows. A flow that finds none free counts pool_exhausted, and
 * takes the least recently fed state from its flow (steals; that flow stops
 * being parsed), unless cfg.no_steal, in which case it is not parsed.
 *
 * Memory: all at create: max_flows * (buf_size + 80 bytes), plus per engine
 * one cg_bufset, 17 KiB of certificate text and 4 * max(buf_size, 18 KiB)
 * bytes for JA3 strings (at most 4 bytes per byte of the message, which is at
 * most a record, 2^14 + 2048, when parsed in place). With the defaults: 32.2
 * MiB (stats.mem_bytes). Per flow, outside the pool: a cg_tls_flow of 12
 * bytes in the caller's flow area.
 *
 * Lifetime of the views handed to the callback: until it returns (they point
 * into the piece, the state's buffer and the engine's scratch).
 *
 * Thread: one engine per worker, used by that worker only, with the flows it
 * owns. The callback must not call back into the engine.
 */
#ifndef CG_TLS_H
#define CG_TLS_H

#include <stdint.h>

#include "sensor/buffers.h"

#define CG_TLS_DEFAULT_FLOWS 1024
#define CG_TLS_DEFAULT_BUF (32u << 10)
#define CG_TLS_MIN_BUF 1024u
#define CG_TLS_MAX_BUF (1u << 20)

/* A 0 field takes its default. */
typedef struct cg_tls_config {
    uint32_t max_flows; /* states in the pool; default 1024 */
    uint32_t buf_size;  /* message buffer per state; default 32 KiB, 1 KiB .. 1 MiB */
    int no_steal;       /* 1: a flow finding the pool empty is not parsed */
} cg_tls_config;

/* Per flow, in the caller's flow area: all zero to start. It must stay at the
 * same address until cg_tls_end, which zeroes it. */
typedef struct cg_tls_flow {
    uint32_t state; /* private: pool slot + 1, or 0 */
    uint8_t status; /* private */
    uint8_t have;   /* private: first client bytes held */
    uint8_t hdr[6];
} cg_tls_flow;

typedef struct cg_tls_stats {
    uint64_t flows;      /* flows taken as TLS (a state was wanted) */
    uint64_t not_tls;    /* flows whose first client bytes were not a ClientHello record */
    uint64_t records;    /* record headers read */
    uint64_t handshakes; /* handshake messages read whole, of any type */
    uint64_t client_hellos, server_hellos, certificates; /* of those, parsed without error */
    uint64_t length_lies;                                /* see "Hostile lengths" */
    uint64_t invalid;           /* impossible fields: record type or version, session id over 32 */
    uint64_t truncated;         /* directions ended inside a record or message */
    uint64_t oversize;          /* messages longer than buf_size */
    uint64_t buf_busy;          /* messages skipped: the buffer was held by the other direction */
    uint64_t gaps;              /* directions stopped at a gap */
    uint64_t encrypted;         /* directions stopped at ChangeCipherSpec or application data */
    uint64_t pool_exhausted;    /* flows that found no free state */
    uint64_t steals;            /* ... and took one from another flow */
    uint64_t cert_parse_errors; /* first certificates OpenSSL refused, or fields that did not fit */
    uint32_t states_total, states_used, states_peak;
    uint64_t mem_bytes; /* all memory of the engine, allocated at create */
} cg_tls_stats;

/* Called once per ClientHello, ServerHello and Certificate message, with its
 * buffers; to_server is the direction it was sent in. */
typedef void (*cg_tls_fn)(void *ctx, const cg_bufset *b, int to_server);

typedef struct cg_tls cg_tls;

/* Builds an engine with cfg (NULL: defaults). Returns 0, or -1 (a size out of
 * range, out of memory) with *out untouched. */
int cg_tls_create(cg_tls **out, const cg_tls_config *cfg);
/* Frees it all; NULL is a no-op. */
void cg_tls_destroy(cg_tls *e);

/* The in-order bytes data[0..len) of the flow whose handle is f, in direction
 * to_server, with reassembly's flags (CG_REASM_GAP: bytes are missing before
 * data; CG_REASM_END / CG_REASM_DEPTH: the direction ends after it). Calls cb
 * (may be NULL) for each message that yields buffers. Returns 1 while the flow
 * is, or may yet turn out to be, parsed; 0 once it never will be again (not
 * TLS, both directions encrypted or stopped, state lost): the caller may stop
 * feeding it. */
int cg_tls_feed(cg_tls *e, cg_tls_flow *f, int to_server, const uint8_t *data, uint32_t len,
                uint32_t flags, cg_tls_fn cb, void *ctx);

/* The flow is over: its state (if any) goes back to the pool, a direction
 * inside a record or message counts truncated, and f is zeroed. */
void cg_tls_end(cg_tls *e, cg_tls_flow *f);

void cg_tls_get_stats(const cg_tls *e, cg_tls_stats *out);

#endif
