/* http.h — HTTP/1.x over a reassembled TCP flow: both directions parsed as
 * they arrive, each request and each response handed to detection as a
 * cg_bufset (buffers.h) once it is complete.
 *
 * Follows RFC 9112 (HTTP/1.1 message syntax and framing) and RFC 9110
 * (semantics), with Suricata's libhtp ("IDS" personality, default settings)
 * as the model wherever a buffer's content is a choice; differences are listed
 * under "Caveats" below.
 *
 * Feeding. The caller hands over every in-order piece of each direction of
 * the stream (reasm.h's on_data), with its CG_REASM_GAP / _END / _DEPTH flags.
 * Nothing here sees ports: a flow is HTTP when the first bytes its client
 * sends look like a request line (detection by content, on any port):
 *   1. Probe, on the first few bytes: a method token (1 to 20 of A-Z a-z - _),
 *      one SP, and a target byte (a visible character). Anything else — a TLS
 *      record (0x16), an SSH banner ("SSH-2.0" fails at its digit), binary —
 *      makes the flow not HTTP at once, without taking any state. Data from
 *      the server before any client byte makes the flow not HTTP too (HTTP
 *      clients speak first). Empty lines and whitespace before the request
 *      line are skipped (RFC 9112 section 2.2); a flow that ends without
 *      data is dropped without being counted.
 *   2. Confirm, at the end of the first line: "METHOD target HTTP/1.x"
 *      (version case-insensitive). A first line that fails, or that grows past
 *      header_limit without ending, makes the flow not HTTP and gives the
 *      state back.
 * Once a flow is not HTTP (or ignored, or done), every later call returns at
 * once after one byte compare.
 *
 * Transactions. One callback per request and one per response, in stream
 * order per direction, each with the buffers of that message only (a
 * response's set holds no request buffers). A message is delivered when its
 * body is complete; early when its body reaches the body limit (the rest of
 * the body is then framed and skipped); at the end of the direction (END,
 * DEPTH, cg_http_end) with what it has; at a GAP inside its body with the body
 * so far. Requests may be pipelined: any number per piece. Responses are
 * paired with requests in order through a ring of the last 16 requests'
 * methods, which is what framing needs (a response to HEAD has no body; a 2xx
 * to CONNECT opens a tunnel).
 *
 * Framing (RFC 9112 section 6): Transfer-Encoding whose last coding is
 * "chunked" (chunk extensions skipped, trailers skipped, not added to the
 * headers), else Content-Length, else: no body for a request, a body up to the
 * end of the stream for a response. No body for responses to HEAD, for 1xx,
 * 204 and 304. 1xx responses other than 101 (100 Continue) are parsed and
 * skipped: they are not delivered and pair with nothing. A 101, and a 2xx to
 * CONNECT, are delivered and then the flow is a tunnel: nothing more of it is
 * parsed.
 *
 * Bad input (every case counted in cg_http_stats):
 *  - Content-Length: digits with optional surrounding whitespace, up to
 *    INT64_MAX (2^63-1, as libhtp); several values (repeated headers, or a
 *    list) must all be equal. Anything else (2^63, a sign, garbage, values that
 *    disagree) is bad_length: a request's body is then read as "up to the body
 *    limit", delivered there (or at END or a GAP), and parsing resyncs (below);
 *    a response's body runs to the end of the stream. Both Transfer-Encoding
 *    and Content-Length: chunked wins, bad_length counted. A request whose
 *    Transfer-Encoding does not end in "chunked" is read as one with a bad
 *    length (a parse error).
 *  - Chunk size lines: hex digits (value up to INT64_MAX), optional
 *    whitespace, optional ";extension" (up to 4 KiB), CRLF or LF; the CRLF
 *    after chunk data is required. Anything else is bad_chunk: the message is
 *    delivered with the body so far and parsing resyncs.
 *  - A start line that is not one (in a flow already HTTP) is a parse error,
 *    and parsing resyncs. Header lines without a colon are kept as a header
 *    with that name and an empty value (parse error counted).
 *  - Headers longer than header_limit: hdr_too_long; the message is delivered
 *    with the header lines that fit (no body) and parsing resyncs.
 *  - A GAP: the message in progress is dropped if its headers were not
 *    complete, else delivered with its body so far; the pairing ring is
 *    cleared; parsing resyncs (a body running to the end of the stream just
 *    goes on being skipped).
 *  - Resync: bytes are skipped line by line until a line that starts like a
 *    start line (request: the probe above; response: "HTTP/") and whose first
 *    line is confirmed; nothing is counted for the lines skipped.
 * Every call consumes its whole piece; no state waits on bytes it cannot get.
 *
 * Buffers of a request (views, see "Lifetime"):
 *   http.method, http.uri.raw (the target as sent), http.protocol, and
 *   http.request_line (the first line without its CRLF): raw bytes.
 *   http.uri: normalized as libhtp+Suricata do: the path percent-decoded
 *     (%XX, and %uXXXX: U+00XX to that byte, fullwidth U+FF01..FF5E to ASCII,
 *     else '?'), '\' made '/', runs of '/' made one, then dot segments removed
 *     (RFC 3986 5.2.4) — so "%2e%2e/" climbs; then "?" and the query
 *     percent-decoded (%XX only) and "#" and the fragment decoded like the
 *     path. Invalid % sequences stay as they are ('%' kept); %00 becomes a NUL
 *     byte; '+' stays '+' (Suricata's query-plusspace-decode default). Case is
 *     kept. For an absolute target ("http://host/p") only the path and what
 *     follows it; an authority target (CONNECT host:port) and "*" as sent.
 *   http.host.raw: the Host header's value (with its port), or when the target
 *     is absolute the host of the target (without port), which wins.
 *     http.host: the same lowercased, port and trailing dots removed. Several
 *     Host headers: each value so treated, joined with ", ".
 *   http.user_agent, http.cookie, http.content_type, http.content_len,
 *   http.referer, http.accept, http.accept_enc, http.accept_lang,
 *   http.connection: the header's value, normalized as in http.header.
 *   http.request_body and file.data: the body, dechunked and decompressed, up
 *     to req_body_limit bytes; absent when the body is empty.
 * Buffers of a response:
 *   http.protocol, http.stat_code (the token after the protocol), http.stat_msg
 *   (the rest, trimmed; absent when empty), http.response_line: raw bytes.
 *   http.cookie (Set-Cookie), http.content_type, http.content_len,
 *   http.connection, http.location, http.server: values as in http.header.
 *   http.response_body and file.data: as for requests, up to resp_body_limit.
 * Both directions:
 *   http.header: one "Name: value\r\n" per distinct header name (case-
 *     insensitive), in the order of first appearance, the name as first
 *     written; value with leading and trailing whitespace removed, folded
 *     lines joined with one SP, repeated headers' values joined with ", ";
 *     no extra CRLF at the end. Without Cookie (requests) / Set-Cookie
 *     (responses), which are in http.cookie.
 *   http.header_names: "\r\n" then each distinct name and "\r\n", then
 *     "\r\n" ("\r\nHost\r\nUser-Agent\r\n\r\n"); absent without headers.
 *   http.header.raw: the header lines as sent, through the blank line.
 *   http.start: the start line and header lines as sent, through the blank
 *     line (Suricata rebuilds it from normalized headers; here it is raw).
 *   A header present with an empty value gives an empty buffer (present, len 0).
 *
 * Bodies: Content-Encoding gzip, x-gzip or deflate (zlib-wrapped or raw,
 * told by the first two bytes) is inflated with zlib straight into the body
 * buffer, so the body limit bounds its output; the trailing CRC-32/Adler-32
 * is not verified (inspection needs the bytes, not their integrity). Bomb
 * guard: once a body's output passes 32 KiB, inflating stops as soon as the
 * output exceeds decomp_ratio times the compressed bytes read (checked every
 * 16 KiB of output); the message is delivered with what it has and counted
 * (decomp_bomb), the rest of its body framed and skipped. A stream zlib rejects (decomp_errors)
 * has the rest of its body appended as sent, starting with the piece where the
 * error was found. Other codings, and lists of several codings, are kept as
 * sent. Requests and responses alike.
 *
 * Memory, all allocated by cg_http_create (nothing in feed):
 *  - the handle, cg_http_flow, 16 bytes the caller keeps per flow (all zero:
 *    nothing seen yet);
 *  - a pool of max_flows per-flow states (both directions' framing state, the
 *    pairing ring; 120 bytes each), taken when a flow's probe passes
 *    (step 1 above) and given back when the first line fails (step 2), when
 *    both directions have ended, at a tunnel, or at cg_http_end;
 *  - two pools of message buffers, one for requests, one for responses, each
 *    buffer: the header block (header_limit), the normalized fields (3 x
 *    header_limit), the body (req_body_limit or resp_body_limit), a 44 KiB
 *    arena that zlib's inflate state and 32 KiB window are carved from (a
 *    custom zalloc; zlib itself never calls malloc), and the cg_bufset. A
 *    buffer is held only while a message's headers and inspected body come in:
 *    from its first byte to its delivery. Idle keep-alive flows hold none.
 *    With the defaults a request buffer is 177 KiB, a response buffer 369
 *    KiB, and the whole parser 70 MiB (16,384 states, 128 + 128 buffers).
 * When the buffer pool of a direction is empty, the buffer of the message fed
 * least recently is taken back: that message is dropped (not delivered: the
 * callback's ctx is the current flow's) and counted (msg_steals); its flow
 * resyncs, or frames the rest of that body without a buffer. So clients that
 * trickle headers cannot pin the buffers. When the state pool is empty, the
 * state of a flow idle between transactions (among the 8 fed least recently)
 * is taken back (state_steals): that flow's next request is probed afresh.
 * When none is idle, the new flow is counted (pool_exhausted) and ignored.
 * Pages are touched only when a state or buffer is first used.
 *
 * Lifetime: the views of a delivered cg_bufset point into the message buffer
 * and are valid only during the callback.
 *
 * Thread: one cg_http per worker, used by that worker only, with the flows it
 * owns. Callbacks run inside cg_http_feed / cg_http_end and must not call back
 * into the same cg_http.
 *
 * Caveats (where this differs from libhtp/Suricata):
 *  - No HTTP/0.9 simple requests ("GET /" without version), no HTTP/2.
 *  - Raw UTF-8 in the path is not best-fit mapped (%u is); the path's case is
 *    kept (Suricata's rules expect it so).
 *  - One content coding per body; layered codings are kept as sent.
 *  - http.start is raw, not rebuilt.
 *  - The request line is split at its first and last whitespace runs, so a
 *    target with spaces in it stays whole.
 *  - Trailers of chunked bodies are skipped, not added to the headers.
 *  - Past 16 requests awaiting their responses, the kinds of the next ones are
 *    not kept: a response to such a HEAD would be read as having a body.
 */
#ifndef CG_HTTP_H
#define CG_HTTP_H

#include <stdint.h>

#include "sensor/buffers.h"

/* Per flow, kept by the caller (e.g. in the flow table's user area), zeroed
 * before the flow's first byte. Private to http.c; here to be embedded. It
 * must stay at the same address from its first feed to cg_http_end (the state
 * points back to it, to reset it when the state is taken back). */
typedef struct cg_http_flow {
    uint32_t slot; /* per-flow state: number + 1; 0: none */
    uint8_t st;    /* what the flow is to the parser */
    uint8_t npre;  /* client bytes kept in pre while too few to decide */
    uint8_t pre[10];
} cg_http_flow;

/* A 0 field takes its default. */
typedef struct cg_http_config {
    uint32_t max_flows;       /* per-flow states; default 16384 */
    uint32_t req_buffers;     /* requests in progress at once; default 128 */
    uint32_t resp_buffers;    /* responses in progress at once; default 128 */
    uint32_t header_limit;    /* start line + headers of one message; default 16 KiB, min 256 */
    uint32_t req_body_limit;  /* request body inspected; default 64 KiB */
    uint32_t resp_body_limit; /* response body inspected; default 256 KiB */
    uint32_t decomp_ratio;    /* bomb guard: output / input; default 100 */
} cg_http_config;

typedef struct cg_http_stats {
    uint64_t flows;           /* flows confirmed HTTP */
    uint64_t not_http;        /* flows that failed the probe or the first line */
    uint64_t requests;        /* requests delivered */
    uint64_t responses;       /* responses delivered (1xx other than 101 are not) */
    uint64_t parse_errors;    /* bad start lines, header lines without colon, bad status */
    uint64_t hdr_too_long;    /* header blocks past header_limit */
    uint64_t hdr_fields_over; /* messages with more header lines than kept (128) */
    uint64_t bad_length;      /* invalid or disagreeing Content-Length; TE with CL */
    uint64_t bad_chunk;       /* bogus chunk size lines or chunk ends */
    uint64_t body_truncated;  /* bodies longer than their limit */
    uint64_t decomp_errors;   /* gzip/deflate streams zlib rejected */
    uint64_t decomp_bomb;     /* bodies whose inflating the ratio guard stopped */
    uint64_t pool_exhausted;  /* flows ignored: no state left (none idle to take back) */
    uint64_t state_steals;    /* states taken back from idle flows */
    uint64_t msg_steals;      /* messages dropped to free their buffer for another */
    uint64_t gaps;            /* gaps met in HTTP flows */
    uint64_t tunnels;         /* CONNECT 2xx or 101: parsing stopped */
    uint32_t flows_active;    /* per-flow states in use */
    uint32_t flows_peak;
    uint32_t req_buffers_used, resp_buffers_used;
    uint32_t buffers_peak;                        /* of both pools together */
    uint32_t zarena_peak;                         /* most bytes zlib took from one arena */
    uint64_t mem_bytes;                           /* all memory of the cg_http */
    uint32_t state_bytes;                         /* per-flow state */
    uint32_t req_buffer_bytes, resp_buffer_bytes; /* one message buffer */
} cg_http_stats;

typedef struct cg_http cg_http;

/* One transaction: the buffers of a request (to_server 1) or a response. */
typedef void (*cg_http_tx_fn)(void *ctx, const cg_bufset *b, int to_server);

/* Builds a parser with cfg (NULL: defaults). Returns 0, or -1 (a limit out of
 * range, out of memory) with *out untouched. */
int cg_http_create(cg_http **out, const cg_http_config *cfg);
/* Frees it all; flows' handles become meaningless. NULL is a no-op. */
void cg_http_destroy(cg_http *h);

/* One in-order piece of the direction to_server of the flow hf: data[0..len)
 * (len may be 0 with a flag), flags CG_REASM_GAP (bytes are missing before
 * data), CG_REASM_END or CG_REASM_DEPTH (the direction ends after data). Calls
 * cb for every message this completes. */
void cg_http_feed(cg_http *h, cg_http_flow *hf, int to_server, const uint8_t *data, uint32_t len,
                  uint32_t flags, cg_http_tx_fn cb, void *ctx);

/* The flow is over (evicted): delivers the messages in progress, as at the
 * end of both directions, and gives its state back. hf is then inert (later
 * feeds return at once) until it is zeroed for a new flow. Must be called
 * before hf's memory is reused when the flow was fed. */
void cg_http_end(cg_http *h, cg_http_flow *hf, cg_http_tx_fn cb, void *ctx);

void cg_http_get_stats(const cg_http *h, cg_http_stats *out);

/* Checks the pools' invariants (every state in use and every held buffer on
 * its list, each pointing back at its holder; counts; fills within bounds):
 * 0 when they hold, -1 when not. Walks the pools: for tests. */
int cg_http_check(const cg_http *h);

#endif
