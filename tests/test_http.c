/* test_http.c — unit tests of sensor/http: every buffer of a request and a
 * response byte for byte; the same buffers whatever the split of the stream
 * (every offset, byte by byte) for single, pipelined, chunked and gzip
 * messages; URI, host and header normalization cases; chunked bodies with
 * extensions and trailers; gzip, zlib and raw deflate bodies built with zlib
 * here, a gzip bomb, a body that is not gzip; Content-Length 2^63 and other
 * bad lengths; bogus chunk sizes; detection by content (no ports) and quick
 * rejection of TLS, SSH, SMTP; the anomaly events of a request (a
 * Transfer-Encoding that is not "chunked", an unknown Authorization scheme);
 * HEAD, 1xx, 204, CONNECT, 101; gaps, END,
 * header limit, pool exhaustion; a fuzz loop of mutated messages, random bytes
 * and random splits with the pools checked after every flow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "sensor/http.h"
#include "sensor/reasm.h"
#include "tests/check.h"

#define MAXTX 64

static const char *const bufname[CG_BUF_COUNT] = {
    [CG_BUF_HTTP_URI] = "uri",
    [CG_BUF_HTTP_URI_RAW] = "uri.raw",
    [CG_BUF_HTTP_METHOD] = "method",
    [CG_BUF_HTTP_PROTOCOL] = "protocol",
    [CG_BUF_HTTP_REQUEST_LINE] = "request_line",
    [CG_BUF_HTTP_HOST] = "host",
    [CG_BUF_HTTP_HOST_RAW] = "host.raw",
    [CG_BUF_HTTP_USER_AGENT] = "user_agent",
    [CG_BUF_HTTP_COOKIE] = "cookie",
    [CG_BUF_HTTP_CONTENT_TYPE] = "content_type",
    [CG_BUF_HTTP_CONTENT_LEN] = "content_len",
    [CG_BUF_HTTP_REFERER] = "referer",
    [CG_BUF_HTTP_ACCEPT] = "accept",
    [CG_BUF_HTTP_ACCEPT_ENC] = "accept_enc",
    [CG_BUF_HTTP_ACCEPT_LANG] = "accept_lang",
    [CG_BUF_HTTP_CONNECTION] = "connection",
    [CG_BUF_HTTP_REQUEST_BODY] = "request_body",
    [CG_BUF_HTTP_HEADER] = "header",
    [CG_BUF_HTTP_HEADER_RAW] = "header.raw",
    [CG_BUF_HTTP_HEADER_NAMES] = "header_names",
    [CG_BUF_HTTP_START] = "start",
    [CG_BUF_HTTP_STAT_CODE] = "stat_code",
    [CG_BUF_HTTP_STAT_MSG] = "stat_msg",
    [CG_BUF_HTTP_RESPONSE_LINE] = "response_line",
    [CG_BUF_HTTP_LOCATION] = "location",
    [CG_BUF_HTTP_SERVER] = "server",
    [CG_BUF_HTTP_RESPONSE_BODY] = "response_body",
    [CG_BUF_FILE_DATA] = "file.data",
};

/* A copy of what one callback saw. */
typedef struct tx {
    int ts;
    uint32_t events;          /* CG_EV_* */
    uint8_t *v[CG_BUF_COUNT]; /* NUL-terminated copies; NULL: absent */
    uint32_t len[CG_BUF_COUNT];
} tx;

typedef struct rec {
    tx t[MAXTX];
    int ntx;
    unsigned bad; /* contract violations seen in callbacks */
    char *dump;   /* every transaction serialized */
    size_t dlen, dcap;
    uint32_t max_view; /* a view longer than this is a violation (0: none) */
} rec;

static void dput(rec *r, const void *s, size_t n)
{
    if (r->dlen + n + 1 > r->dcap) {
        r->dcap = (r->dlen + n + 1) * 2;
        r->dump = realloc(r->dump, r->dcap);
    }
    memcpy(r->dump + r->dlen, s, n);
    r->dlen += n;
    r->dump[r->dlen] = 0;
}

static void on_tx(void *ctx, const cg_bufset *b, int ts)
{
    rec *r = ctx;
    char line[64];
    snprintf(line, sizeof line, "== %s\n", ts ? "request" : "response");
    dput(r, line, strlen(line));
    for (int id = 0; id < CG_BUF_COUNT; id++) {
        if (!(b->present & (1ull << id))) {
            if (b->n[id])
                r->bad++;
            continue;
        }
        if (b->n[id] != 1)
            r->bad++;
        const cg_bufview *v = &b->v[id][0];
        if (!v->p || (r->max_view && v->len > r->max_view))
            r->bad++;
        snprintf(line, sizeof line, "%s[%u]=", bufname[id] ? bufname[id] : "?", v->len);
        dput(r, line, strlen(line));
        dput(r, v->p, v->len);
        dput(r, "\n", 1);
    }
    if (r->ntx >= MAXTX)
        return;
    tx *t = &r->t[r->ntx++];
    t->ts = ts;
    t->events = b->events;
    for (int id = 0; id < CG_BUF_COUNT; id++) {
        if (!(b->present & (1ull << id)))
            continue;
        t->len[id] = b->v[id][0].len;
        t->v[id] = malloc(t->len[id] + 1);
        memcpy(t->v[id], b->v[id][0].p, t->len[id]);
        t->v[id][t->len[id]] = 0;
    }
}

static void rec_reset(rec *r)
{
    for (int i = 0; i < r->ntx; i++)
        for (int id = 0; id < CG_BUF_COUNT; id++)
            free(r->t[i].v[id]);
    free(r->dump);
    memset(r, 0, sizeof *r);
}

/* Buffer id of transaction i as a string (NULL when absent). */
static const char *B(const rec *r, int i, int id)
{
    if (i >= r->ntx)
        return NULL;
    return (const char *)r->t[i].v[id];
}

static uint32_t BL(const rec *r, int i, int id)
{
    return i < r->ntx ? r->t[i].len[id] : 0;
}

static void feed(cg_http *h, cg_http_flow *hf, int ts, const void *p, size_t n, uint32_t fl, rec *r)
{
    cg_http_feed(h, hf, ts, p, (uint32_t)n, fl, on_tx, r);
}

static void feeds(cg_http *h, cg_http_flow *hf, int ts, const char *s, rec *r)
{
    feed(h, hf, ts, s, strlen(s), 0, r);
}

static void gap(cg_http *h, cg_http_flow *hf, int ts, const char *s, rec *r)
{
    feed(h, hf, ts, s, strlen(s), CG_REASM_GAP, r);
}

static cg_http *mk(const cg_http_config *c)
{
    cg_http *h = NULL;
    if (cg_http_create(&h, c) != 0) {
        fprintf(stderr, "cg_http_create failed\n");
        exit(1);
    }
    return h;
}

/* Every state and buffer back in its pool (a macro: failures name the caller). */
#define check_drained(h)                      \
    do {                                      \
        cg_http_stats st_;                    \
        cg_http_get_stats((h), &st_);         \
        CHECK(cg_http_check(h) == 0);         \
        CHECK_EQ_U(st_.flows_active, 0);      \
        CHECK_EQ_U(st_.req_buffers_used, 0);  \
        CHECK_EQ_U(st_.resp_buffers_used, 0); \
    } while (0)

static cg_http_stats stats(cg_http *h)
{
    cg_http_stats st;
    cg_http_get_stats(h, &st);
    return st;
}

/* ---- a request and a response, every buffer ---- */

static const char REQ1[] = "GET /shop/../cart/./view.php?id=%41%42&q=a+b HTTP/1.1\r\n"
                           "Host: WWW.Example.COM:8080\r\n"
                           "User-Agent: Mozilla/5.0 (X11)  \r\n"
                           "Accept: text/html\r\n"
                           "Accept-Encoding: gzip, deflate\r\n"
                           "Accept-Language: vi-VN,vi;q=0.9\r\n"
                           "Referer: http://portal.example.com/\r\n"
                           "Cookie: session=abc\r\n"
                           "Connection: keep-alive\r\n"
                           "X-Custom:\t spaced value\t \r\n"
                           "\r\n";

static const char RESP1[] = "HTTP/1.1 302 Found\r\n"
                            "Server: nginx/1.24\r\n"
                            "Location: /login\r\n"
                            "Set-Cookie: id=1\r\n"
                            "Content-Type: text/html; charset=utf-8\r\n"
                            "Content-Length: 11\r\n"
                            "\r\n"
                            "hello world";

static void test_buffers(void)
{
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    feeds(h, &hf, 1, REQ1, &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_EQ_U(r.t[0].ts, 1);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_METHOD), "GET");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_URI_RAW), "/shop/../cart/./view.php?id=%41%42&q=a+b");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_URI), "/cart/view.php?id=AB&q=a+b");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_PROTOCOL), "HTTP/1.1");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_REQUEST_LINE),
              "GET /shop/../cart/./view.php?id=%41%42&q=a+b HTTP/1.1");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HOST), "www.example.com");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HOST_RAW), "WWW.Example.COM:8080");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_USER_AGENT), "Mozilla/5.0 (X11)");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_ACCEPT), "text/html");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_ACCEPT_ENC), "gzip, deflate");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_ACCEPT_LANG), "vi-VN,vi;q=0.9");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_REFERER), "http://portal.example.com/");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_COOKIE), "session=abc");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_CONNECTION), "keep-alive");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HEADER),
              "Host: WWW.Example.COM:8080\r\n"
              "User-Agent: Mozilla/5.0 (X11)\r\n"
              "Accept: text/html\r\n"
              "Accept-Encoding: gzip, deflate\r\n"
              "Accept-Language: vi-VN,vi;q=0.9\r\n"
              "Referer: http://portal.example.com/\r\n"
              "Connection: keep-alive\r\n"
              "X-Custom: spaced value\r\n");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HEADER_NAMES),
              "\r\nHost\r\nUser-Agent\r\nAccept\r\nAccept-Encoding\r\nAccept-Language\r\n"
              "Referer\r\nCookie\r\nConnection\r\nX-Custom\r\n\r\n");
    const char *raw = strchr(REQ1, '\n') + 1;
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HEADER_RAW), raw);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_START), REQ1);
    CHECK(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY) == NULL);
    CHECK(B(&r, 0, CG_BUF_FILE_DATA) == NULL);
    CHECK(B(&r, 0, CG_BUF_HTTP_CONTENT_LEN) == NULL);
    CHECK(B(&r, 0, CG_BUF_HTTP_STAT_CODE) == NULL);

    feeds(h, &hf, 0, RESP1, &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_EQ_U(r.t[1].ts, 0);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_PROTOCOL), "HTTP/1.1");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_STAT_CODE), "302");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_STAT_MSG), "Found");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_RESPONSE_LINE), "HTTP/1.1 302 Found");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_SERVER), "nginx/1.24");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_LOCATION), "/login");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_COOKIE), "id=1");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_CONTENT_TYPE), "text/html; charset=utf-8");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_CONTENT_LEN), "11");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_HEADER),
              "Server: nginx/1.24\r\nLocation: /login\r\n"
              "Content-Type: text/html; charset=utf-8\r\nContent-Length: 11\r\n");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_HEADER_NAMES),
              "\r\nServer\r\nLocation\r\nSet-Cookie\r\nContent-Type\r\nContent-Length\r\n\r\n");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), "hello world");
    CHECK_STR(B(&r, 1, CG_BUF_FILE_DATA), "hello world");
    CHECK(B(&r, 1, CG_BUF_HTTP_METHOD) == NULL);
    CHECK(B(&r, 1, CG_BUF_HTTP_HOST) == NULL);
    CHECK(B(&r, 1, CG_BUF_HTTP_USER_AGENT) == NULL);
    CHECK_EQ_U(r.bad, 0);

    cg_http_stats st = stats(h);
    CHECK_EQ_U(st.flows, 1);
    CHECK_EQ_U(st.requests, 1);
    CHECK_EQ_U(st.responses, 1);
    CHECK_EQ_U(st.parse_errors, 0);
    CHECK_EQ_U(st.flows_active, 1);
    CHECK_EQ_U(st.req_buffers_used + st.resp_buffers_used, 0); /* idle keep-alive: none held */
    cg_http_end(h, &hf, on_tx, &r);
    CHECK_EQ_U(r.ntx, 2);
    check_drained(h);
    /* the handle is inert after the end */
    feeds(h, &hf, 1, REQ1, &r);
    CHECK_EQ_U(r.ntx, 2);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- split invariance ---- */

/* The dump of feeding conversation c (ts per part) in one piece per part. */
typedef struct part {
    int ts;
    const uint8_t *p;
    size_t n;
} part;

static char *dump_of(const cg_http_config *cfg, const part *c, int nparts, int mode, size_t k,
                     unsigned *bad)
{
    cg_http_config small = { .max_flows = 4, .req_buffers = 2, .resp_buffers = 2 };
    cg_http *h = mk(cfg ? cfg : &small);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    for (int i = 0; i < nparts; i++) {
        const uint8_t *p = c[i].p;
        size_t n = c[i].n;
        if (mode == 0) { /* one piece */
            feed(h, &hf, c[i].ts, p, n, 0, &r);
        } else if (mode == 1) { /* split at k (when k < n) */
            size_t a = k < n ? k : n;
            feed(h, &hf, c[i].ts, p, a, 0, &r);
            if (a < n)
                feed(h, &hf, c[i].ts, p + a, n - a, 0, &r);
        } else { /* k-byte pieces */
            for (size_t o = 0; o < n; o += k)
                feed(h, &hf, c[i].ts, p + o, n - o < k ? n - o : k, 0, &r);
        }
    }
    feed(h, &hf, 1, NULL, 0, CG_REASM_END, &r);
    feed(h, &hf, 0, NULL, 0, CG_REASM_END, &r);
    cg_http_end(h, &hf, on_tx, &r);
    cg_http_stats st = stats(h);
    if (st.flows_active || st.req_buffers_used || st.resp_buffers_used)
        r.bad++;
    *bad += r.bad;
    char *d = r.dump ? strdup(r.dump) : strdup("");
    rec_reset(&r);
    cg_http_destroy(h);
    return d;
}

static void check_splits(const char *what, const cg_http_config *cfg, const part *c, int nparts)
{
    unsigned bad = 0, diff = 0;
    char *ref = dump_of(cfg, c, nparts, 0, 0, &bad);
    size_t maxn = 0;
    for (int i = 0; i < nparts; i++)
        if (c[i].n > maxn)
            maxn = c[i].n;
    for (size_t k = 0; k <= maxn; k++) {
        char *d = dump_of(cfg, c, nparts, 1, k, &bad);
        if (strcmp(d, ref) != 0) {
            if (!diff)
                fprintf(stderr, "%s: split at %zu differs:\n--- one piece\n%s--- split\n%s", what,
                        k, ref, d);
            diff++;
        }
        free(d);
    }
    for (size_t k = 1; k <= 7; k++) {
        char *d = dump_of(cfg, c, nparts, 2, k, &bad);
        if (strcmp(d, ref) != 0) {
            if (!diff)
                fprintf(stderr, "%s: %zu-byte pieces differ\n", what, k);
            diff++;
        }
        free(d);
    }
    CHECK_EQ_U(diff, 0);
    CHECK_EQ_U(bad, 0);
    CHECK(strlen(ref) > 0);
    free(ref);
}

#define P(ts, s)                                \
    {                                           \
        ts, (const uint8_t *)(s), sizeof(s) - 1 \
    }

static void test_splits(void)
{
    part c1[] = { P(1, REQ1), P(0, RESP1) };
    check_splits("request/response", NULL, c1, 2);

    /* three pipelined requests in one segment: plain, Content-Length, chunked */
    part c2[] = {
        P(1,
          "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
          "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
          "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          "4;name=v\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n"),
        P(0,
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 201 Created\r\n"
          "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
          "HTTP/1.0 200 OK\r\n\r\nto the end"),
    };
    check_splits("pipelined", NULL, c2, 2);

    /* folded headers, LF-only line ends, blank lines before a request */
    part c3[] = {
        P(1, "\r\n\r\nGET /f HTTP/1.0\nX-Long: part one\n\t part two\nHost: h\n\n"),
        P(0, "HTTP/1.1 204 No Content\n\n"),
    };
    check_splits("folded", NULL, c3, 2);
}

static void test_pipelined(void)
{
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    feeds(h, &hf, 1,
          "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
          "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
          "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          "4;name=v\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n",
          &r);
    CHECK_EQ_U(r.ntx, 3);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_URI), "/a");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_METHOD), "POST");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_REQUEST_BODY), "hello");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_CONTENT_LEN), "5");
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_URI), "/c");
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_REQUEST_BODY), "Wikipedia");
    CHECK_STR(B(&r, 2, CG_BUF_FILE_DATA), "Wikipedia");
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_HEADER), "Host: x\r\nTransfer-Encoding: chunked\r\n");
    feeds(h, &hf, 0,
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
          "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
          "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n",
          &r);
    CHECK_EQ_U(r.ntx, 6);
    CHECK_STR(B(&r, 3, CG_BUF_HTTP_RESPONSE_BODY), "ok");
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_STAT_MSG), "Created");
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_RESPONSE_BODY), "abc");
    CHECK_STR(B(&r, 5, CG_BUF_HTTP_STAT_CODE), "500");
    CHECK(B(&r, 5, CG_BUF_HTTP_RESPONSE_BODY) == NULL);
    cg_http_stats st = stats(h);
    CHECK_EQ_U(st.requests, 3);
    CHECK_EQ_U(st.responses, 3);
    CHECK_EQ_U(st.parse_errors + st.bad_chunk + st.bad_length, 0);
    cg_http_end(h, &hf, on_tx, &r);
    CHECK_EQ_U(r.ntx, 6);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- headers split across segments ---- */

static void test_header_segments(void)
{
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    feeds(h, &hf, 1, "GET /x HTTP/1.1\r\nHo", &r);
    feeds(h, &hf, 1, "st: a.b\r\nUser-Ag", &r);
    feeds(h, &hf, 1, "ent: t\r", &r);
    CHECK_EQ_U(r.ntx, 0);
    feeds(h, &hf, 1, "\n\r", &r);
    CHECK_EQ_U(r.ntx, 0);
    feeds(h, &hf, 1, "\n", &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HOST), "a.b");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_USER_AGENT), "t");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HEADER), "Host: a.b\r\nUser-Agent: t\r\n");
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- header normalization ---- */

static void test_headers(void)
{
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    feeds(h, &hf, 1,
          "GET / HTTP/1.1\r\n"
          "Accept: a\r\n"
          "Cookie: monster\r\n"
          "X-One:1\r\n"
          "accept: b\r\n"
          "Cookie: elmo\r\n"
          "X-Fold: first\r\n"
          "   second\r\n"
          "\tthird\r\n"
          "NoColonHere\r\n"
          "User-Agent: \r\n"
          "Host : h.example\r\n"
          "\r\n",
          &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HEADER),
              "Accept: a, b\r\nX-One: 1\r\nX-Fold: first second third\r\nNoColonHere: \r\n"
              "User-Agent: \r\nHost: h.example\r\n");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HEADER_NAMES),
              "\r\nAccept\r\nCookie\r\nX-One\r\nX-Fold\r\nNoColonHere\r\nUser-"
              "Agent\r\nHost\r\n\r\n");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_COOKIE), "monster, elmo");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_ACCEPT), "a, b");
    CHECK(B(&r, 0, CG_BUF_HTTP_USER_AGENT) != NULL);
    CHECK_EQ_U(BL(&r, 0, CG_BUF_HTTP_USER_AGENT), 0);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HOST), "h.example");
    CHECK_EQ_U(stats(h).parse_errors, 1); /* the line without a colon */

    /* several Host headers, an IPv6 literal, a trailing dot */
    feeds(h, &hf, 1, "GET / HTTP/1.1\r\nHost: ABC.com\r\nAccept: */*\r\nHost: efg.net\r\n\r\n", &r);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_HOST), "abc.com, efg.net");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_HOST_RAW), "ABC.com, efg.net");
    feeds(h, &hf, 1, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", &r);
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_HOST), "[::1]");
    feeds(h, &hf, 1, "GET / HTTP/1.1\r\nHost: Example.COM.\r\n\r\n", &r);
    CHECK_STR(B(&r, 3, CG_BUF_HTTP_HOST), "example.com");
    /* an absolute target's host wins over the Host header */
    feeds(h, &hf, 1,
          "GET http://user:pw@Proxy.Example:3128/a/../b?x=%41 HTTP/1.1\r\nHost: other\r\n\r\n", &r);
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_HOST), "proxy.example");
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_HOST_RAW), "Proxy.Example");
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_URI), "/b?x=A");
    /* no Host at all */
    feeds(h, &hf, 1, "GET / HTTP/1.0\r\n\r\n", &r);
    CHECK(B(&r, 5, CG_BUF_HTTP_HOST) == NULL);
    CHECK(B(&r, 5, CG_BUF_HTTP_HEADER) == NULL);
    CHECK(B(&r, 5, CG_BUF_HTTP_HEADER_NAMES) == NULL);
    CHECK_STR(B(&r, 5, CG_BUF_HTTP_HEADER_RAW), "\r\n");
    /* whitespace and empty lines before a request line on a kept-alive flow */
    feeds(h, &hf, 1, "\r\n \t GET /ws HTTP/1.1\r\n\r\n", &r);
    CHECK_STR(B(&r, 6, CG_BUF_HTTP_REQUEST_LINE), "GET /ws HTTP/1.1");
    CHECK_EQ_U(r.bad, 0);
    CHECK_EQ_U(stats(h).parse_errors, 1);
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);

    /* more header lines than kept: the first 128 names, distinct, same length */
    static char many[16384];
    int k = snprintf(many, sizeof many, "GET /many HTTP/1.1\r\n");
    for (int i = 0; i < 130; i++)
        k += snprintf(many + k, sizeof many - (size_t)k, "X-Hdr-%03d: v%d\r\n", i, i);
    k += snprintf(many + k, sizeof many - (size_t)k, "x-hdr-005: again\r\n\r\n");
    memset(&hf, 0, sizeof hf);
    feed(h, &hf, 1, many, (size_t)k, 0, &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_EQ_U(stats(h).hdr_fields_over, 1);
    const char *hd = B(&r, 0, CG_BUF_HTTP_HEADER);
    CHECK_CONTAINS(hd, "X-Hdr-000: v0\r\nX-Hdr-001: v1\r\n");
    CHECK_CONTAINS(hd, "X-Hdr-127: v127\r\n");
    CHECK(hd && strstr(hd, "X-Hdr-128") == NULL);
    CHECK(hd && strstr(hd, "again") == NULL); /* past the table: in header.raw only */
    CHECK_CONTAINS(B(&r, 0, CG_BUF_HTTP_HEADER_RAW), "x-hdr-005: again");
    CHECK_EQ_U(BL(&r, 0, CG_BUF_HTTP_HEADER_NAMES), 2 + 128 * 11 + 2);
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);
    /* repeated names among many: merged where they first appeared */
    k = snprintf(many, sizeof many, "GET /dup HTTP/1.1\r\n");
    for (int i = 0; i < 100; i++)
        k += snprintf(many + k, sizeof many - (size_t)k, "X-%c: %d\r\n", 'a' + i % 3, i);
    k += snprintf(many + k, sizeof many - (size_t)k, "\r\n");
    memset(&hf, 0, sizeof hf);
    feed(h, &hf, 1, many, (size_t)k, 0, &r);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HEADER_NAMES), "\r\nX-a\r\nX-b\r\nX-c\r\n\r\n");
    CHECK_CONTAINS(B(&r, 0, CG_BUF_HTTP_HEADER), "X-a: 0, 3, 6, 9, 12,");
    CHECK_CONTAINS(B(&r, 0, CG_BUF_HTTP_HEADER), ", 99\r\nX-b: 1, 4,");
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- URI normalization ---- */

static void test_uri(void)
{
    static const struct {
        const char *raw, *norm;
        uint32_t len; /* of norm, when it holds a NUL */
    } t[] = {
        { "/a/b/../c", "/a/c", 0 },
        { "/a/%2e%2e/b", "/b", 0 },
        { "/%2e%2e/%2E%2E/etc/passwd", "/etc/passwd", 0 },
        { "/../../x", "/x", 0 },
        { "/a/./b/.", "/a/b/", 0 },
        { "/a/b/..", "/a/", 0 },
        { "//a///b", "/a/b", 0 },
        { "/%2f%2fetc", "/etc", 0 },
        { "/a\\b\\..\\c", "/a/c", 0 },
        { "/a%00b", "/a\0b", 4 },
        { "/a+b?c+d", "/a+b?c+d", 0 },
        { "/a%zzb%4", "/a%zzb%4", 0 },
        { "/x%", "/x%", 0 },
        { "/a%41%42?x=%41%2&y=%zz", "/aAB?x=A%2&y=%zz", 0 },
        { "/%u0041%uff0e%u1234%uzz", "/A.?%uzz", 0 },
        { "/p?a=../b#fr%41g", "/p?a=../b#frAg", 0 },
        { "/Case/Kept", "/Case/Kept", 0 },
        { "http://h/x/./y", "/x/y", 0 },
        { "http://h", "", 0 },
        { "*", "*", 0 },
        { "/.%2e/.%2E/a", "/a", 0 },
        { "/a/%2e", "/a/", 0 },
    };
    cg_http *h = mk(NULL);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        cg_http_flow hf = { 0 };
        rec r = { 0 };
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", t[i].raw);
        feeds(h, &hf, 1, req, &r);
        CHECK_EQ_U(r.ntx, 1);
        uint32_t want = t[i].len ? t[i].len : (uint32_t)strlen(t[i].norm);
        int ok = r.ntx == 1 && BL(&r, 0, CG_BUF_HTTP_URI) == want &&
            memcmp(B(&r, 0, CG_BUF_HTTP_URI), t[i].norm, want) == 0;
        if (!ok)
            fprintf(stderr, "uri %s -> \"%s\", want \"%s\"\n", t[i].raw,
                    r.ntx ? B(&r, 0, CG_BUF_HTTP_URI) : "(none)", t[i].norm);
        CHECK(ok);
        CHECK_STR(B(&r, 0, CG_BUF_HTTP_URI_RAW), t[i].raw);
        cg_http_end(h, &hf, on_tx, &r);
        rec_reset(&r);
    }
    /* CONNECT: the target is the host */
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    feeds(h, &hf, 1, "CONNECT Mail.Example:443 HTTP/1.1\r\nHost: mail.example:443\r\n\r\n", &r);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_URI), "Mail.Example:443");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HOST), "mail.example");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HOST_RAW), "Mail.Example");
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);
    check_drained(h);
    cg_http_destroy(h);
}

/* ---- compressed bodies ---- */

static size_t zpack(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t got = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? got : 0;
}

/* A response whose body is pl packed with wbits (0: as is) and coding ce. */
static size_t mk_resp(uint8_t *out, size_t cap, const char *ce, const uint8_t *pl, size_t n,
                      int wbits, int chunked)
{
    static uint8_t z[1 << 20];
    size_t zn = wbits ? zpack(pl, n, z, sizeof z, wbits) : n;
    if (!wbits)
        memcpy(z, pl, n);
    int k;
    if (chunked)
        k = snprintf((char *)out, cap,
                     "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n",
                     ce);
    else
        k = snprintf((char *)out, cap,
                     "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     ce, zn);
    size_t o = (size_t)k;
    if (!chunked) {
        memcpy(out + o, z, zn);
        return o + zn;
    }
    for (size_t i = 0; i < zn; i += 100) { /* 100-byte chunks */
        size_t c = zn - i < 100 ? zn - i : 100;
        o += (size_t)snprintf((char *)out + o, cap - o, "%zx\r\n", c);
        memcpy(out + o, z + i, c);
        o += c;
        memcpy(out + o, "\r\n", 2);
        o += 2;
    }
    memcpy(out + o, "0\r\n\r\n", 5);
    return o + 5;
}

static void test_gzip(void)
{
    static uint8_t resp[1 << 21];
    uint8_t text[4000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)("The quick brown fox jumps over the lazy dog. "[i % 45] ^ (i / 45 % 2));
    static const struct {
        const char *ce;
        int wbits, chunked;
    } v[] = {
        { "gzip", 15 + 16, 0 }, { "x-gzip", 15 + 16, 1 },
        { "deflate", 15, 0 },   { "deflate", -15, 0 },
        { "Deflate", -15, 1 },  { "gzip", 15, 0 }, /* zlib labelled gzip */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cg_http *h = mk(NULL);
        cg_http_flow hf = { 0 };
        rec r = { 0 };
        size_t n = mk_resp(resp, sizeof resp, v[i].ce, text, sizeof text, v[i].wbits, v[i].chunked);
        feeds(h, &hf, 1, "GET /z HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n", &r);
        feed(h, &hf, 0, resp, n, 0, &r);
        CHECK_EQ_U(r.ntx, 2);
        CHECK_EQ_U(BL(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), sizeof text);
        CHECK(r.ntx == 2 && memcmp(B(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), text, sizeof text) == 0);
        CHECK(r.ntx == 2 && memcmp(B(&r, 1, CG_BUF_FILE_DATA), text, sizeof text) == 0);
        CHECK_EQ_U(stats(h).decomp_errors, 0);
        cg_http_end(h, &hf, on_tx, &r);
        check_drained(h);
        rec_reset(&r);
        cg_http_destroy(h);
        /* and whatever the split */
        part c[] = { P(1, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n"), { 0, resp, n } };
        if (i < 2 || i == 3)
            check_splits(v[i].ce, NULL, c, 2);
    }

    /* a gzip request body, and a body that says gzip but is not */
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    static uint8_t req[8192];
    uint8_t z[8192];
    size_t zn = zpack(text, 1000, z, sizeof z, 15 + 16);
    int k = snprintf((char *)req, sizeof req,
                     "POST /up HTTP/1.1\r\nContent-Encoding: gzip\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     zn);
    memcpy(req + k, z, zn);
    feed(h, &hf, 1, req, (size_t)k + zn, 0, &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_EQ_U(BL(&r, 0, CG_BUF_HTTP_REQUEST_BODY), 1000);
    CHECK(r.ntx == 1 && memcmp(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY), text, 1000) == 0);
    feeds(h, &hf, 0,
          "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n"
          "plain <html>",
          &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), "plain <html>");
    CHECK_EQ_U(stats(h).decomp_errors, 1);
    feeds(h, &hf, 0, "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: 1\r\n\r\nx",
          &r);
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_RESPONSE_BODY), "x");
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    CHECK(stats(h).zarena_peak > 0 && stats(h).zarena_peak <= (44u << 10));
    rec_reset(&r);
    cg_http_destroy(h);
}

static void test_bomb(void)
{
    size_t big = 10u << 20;
    uint8_t *zeros = calloc(1, big);
    static uint8_t resp[1 << 20];
    uint8_t *zb = malloc(1 << 20);
    size_t zn = zpack(zeros, big, zb, 1 << 20, 15 + 16);
    CHECK(zn > 0 && zn < 20000);
    int k = snprintf((char *)resp, sizeof resp,
                     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     zn);
    memcpy(resp + k, zb, zn);
    size_t n = (size_t)k + zn;

    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    feeds(h, &hf, 1, "GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    for (size_t o = 0; o < n; o += 1460) /* as segments */
        feed(h, &hf, 0, resp + o, n - o < 1460 ? n - o : 1460, 0, &r);
    CHECK_EQ_U(r.ntx, 2);
    cg_http_stats st = stats(h);
    CHECK_EQ_U(st.decomp_bomb, 1);
    CHECK_EQ_U(st.responses, 1);
    uint32_t bl = BL(&r, 1, CG_BUF_HTTP_RESPONSE_BODY);
    CHECK(bl > (32u << 10) && bl < (256u << 10)); /* stopped before the body limit */
    int allzero = 1;
    for (uint32_t i = 0; i < bl && r.ntx == 2; i++)
        if (r.t[1].v[CG_BUF_HTTP_RESPONSE_BODY][i])
            allzero = 0;
    CHECK(allzero);
    /* the stream stays in step: a next response is parsed */
    feeds(h, &hf, 1, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", &r);
    CHECK_EQ_U(r.ntx, 4);
    CHECK_STR(B(&r, 3, CG_BUF_HTTP_RESPONSE_BODY), "ok");
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);

    /* with the guard off (ratio huge) the body limit bounds it, counted as truncation */
    cg_http_config c = { .decomp_ratio = 1u << 30, .resp_body_limit = 100000 };
    h = mk(&c);
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    feed(h, &hf, 0, resp, n, 0, &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_EQ_U(BL(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), 100000);
    st = stats(h);
    CHECK_EQ_U(st.decomp_bomb, 0);
    CHECK_EQ_U(st.body_truncated, 1);
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
    free(zeros);
    free(zb);
}

/* ---- bad lengths ---- */

static void test_bad_length(void)
{
    cg_http_config c = { .req_body_limit = 16 };
    static const char *const bad[] = {
        "9223372036854775808",
        "18446744073709551616",
        "99999999999999999999999",
        "-1",
        "12abc",
        "",
        "0x10",
        "+5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cg_http *h = mk(&c);
        cg_http_flow hf = { 0 };
        rec r = { 0 };
        char req[256];
        snprintf(req, sizeof req, "POST /p HTTP/1.1\r\nContent-Length: %s\r\n\r\n", bad[i]);
        feeds(h, &hf, 1, req, &r);
        feeds(h, &hf, 1, "0123456789abcdefXYZ\r\nGET /after HTTP/1.1\r\n\r\n", &r);
        CHECK_EQ_U(r.ntx, 2);
        CHECK_STR(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY), "0123456789abcdef");
        CHECK_STR(B(&r, 0, CG_BUF_HTTP_CONTENT_LEN), bad[i]);
        CHECK_STR(B(&r, 1, CG_BUF_HTTP_URI), "/after");
        cg_http_stats st = stats(h);
        CHECK_EQ_U(st.bad_length, 1);
        CHECK_EQ_U(st.body_truncated, 1);
        cg_http_end(h, &hf, on_tx, &r);
        check_drained(h);
        rec_reset(&r);
        cg_http_destroy(h);
    }

    cg_http *h = mk(&c);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    /* a body shorter than the limit: delivered at END */
    feeds(h, &hf, 1, "POST /p HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\nabc", &r);
    CHECK_EQ_U(r.ntx, 0);
    feed(h, &hf, 1, NULL, 0, CG_REASM_END, &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY), "abc");
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* values that disagree; equal values are fine */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1,
          "POST /d HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
          "POST /e HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\ndef",
          &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_CONTENT_LEN), "3, 3");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_REQUEST_BODY), "def");
    CHECK_EQ_U(stats(h).bad_length, 1);
    feeds(h, &hf, 1, "POST /f HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", &r);
    CHECK_EQ_U(stats(h).bad_length, 2);
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* 2^63-1 is valid: a huge body, delivered at the limit, the rest skipped */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "PUT /big HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", &r);
    feeds(h, &hf, 1, "0123456789abcdefGET /not-a-request HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY), "0123456789abcdef");
    CHECK_EQ_U(stats(h).bad_length, 2);
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* a response with a bad length runs to the end of the stream */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "GET / HTTP/1.1\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1e9\r\n\r\nbody", &r);
    feeds(h, &hf, 0, " more", &r);
    feed(h, &hf, 0, NULL, 0, CG_REASM_END, &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), "body more");
    CHECK_EQ_U(stats(h).bad_length, 3);
    cg_http_end(h, &hf, on_tx, &r);

    /* Transfer-Encoding with Content-Length: chunked wins, counted */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1,
          "POST /te HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\n0\r\n\r\nGET /after HTTP/1.1\r\n\r\n",
          &r);
    CHECK_EQ_U(r.ntx, 4);
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_REQUEST_BODY), "abc");
    CHECK_STR(B(&r, 3, CG_BUF_HTTP_URI), "/after");
    CHECK_EQ_U(stats(h).bad_length, 4);
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- chunked ---- */

static void test_chunked(void)
{
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    feeds(h, &hf, 1,
          "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
          "00004 ; a=b ; c=\"d\"\r\nWiki\r\n5   \r\npedia\r\nb\r\n in\r\nchunks\r\n"
          "0\r\nExpires: never\r\nX-T: 1\r\n\r\n",
          &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY), "Wikipedia in\r\nchunks");
    CHECK_EQ_U(stats(h).bad_chunk, 0);
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    static const char *const bogus[] = {
        "zz\r\n",                /* not hex */
        "fffffffffffffffff\r\n", /* 2^68 */
        "8000000000000000\r\n",  /* 2^63 */
        "-5\r\n",
        "5 x\r\n",         /* junk after the size */
        "\r\n",            /* no size */
        "4\r\nWikiXX\r\n", /* no CRLF after the data */
        "4\rWiki\r\n",     /* CR without LF */
    };
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        memset(&hf, 0, sizeof hf);
        feeds(h, &hf, 1, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r);
        feeds(h, &hf, 1, bogus[i], &r);
        feeds(h, &hf, 1, "\r\nGET /after HTTP/1.1\r\n\r\n", &r);
        CHECK_EQ_U(r.ntx, 2);
        CHECK_STR(B(&r, 0, CG_BUF_HTTP_URI), "/c");
        CHECK_STR(B(&r, 1, CG_BUF_HTTP_URI), "/after");
        CHECK_EQ_U(stats(h).bad_chunk, i + 1);
        cg_http_end(h, &hf, on_tx, &r);
        rec_reset(&r);
    }
    /* a chunk size that is valid but huge: the body runs at the limit, no hang */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n",
          &r);
    static char junk[300000];
    memset(junk, 'j', sizeof junk);
    feed(h, &hf, 1, junk, sizeof junk, 0, &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_EQ_U(BL(&r, 0, CG_BUF_HTTP_REQUEST_BODY), 64u << 10);
    cg_http_end(h, &hf, on_tx, &r);
    /* an endless chunk extension */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;", &r);
    feed(h, &hf, 1, junk, 5000, 0, &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_EQ_U(stats(h).bad_chunk, 9);
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- detection by content ---- */

static void test_detect(void)
{
    cg_http *h = mk(NULL);
    rec r = { 0 };
    /* any method token, any port: the parser never sees ports */
    static const char *const reqs[] = {
        "PROPFIND /dav HTTP/1.1\r\n\r\n",
        "get /lower HTTP/1.0\r\n\r\n",
        "BASELINE-CONTROL /x HTTP/1.1\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        cg_http_flow hf = { 0 };
        const char *s = reqs[i];
        for (size_t o = 0; s[o]; o++) /* byte by byte: the handle keeps the probe */
            feed(h, &hf, 1, s + o, 1, 0, &r);
        CHECK_EQ_U(r.ntx, i + 1);
        cg_http_end(h, &hf, on_tx, &r);
    }
    CHECK_EQ_U(stats(h).flows, 4);
    CHECK_EQ_U(stats(h).not_http, 0);

    /* not HTTP: rejected at once, no state taken */
    static const uint8_t tls[] = {
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03
    };
    static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
    static const char smtp[] = "EHLO mail.example.com\r\n";
    static const uint8_t h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    cg_http_stats before = stats(h);
    cg_http_flow f1 = { 0 }, f2 = { 0 }, f3 = { 0 }, f4 = { 0 }, f5 = { 0 }, f6 = { 0 };
    feed(h, &f1, 1, tls, sizeof tls, 0, &r);
    CHECK_EQ_U(stats(h).not_http, before.not_http + 1);
    CHECK_EQ_U(stats(h).flows_active, 0);
    feed(h, &f2, 1, ssh, 4, 0, &r); /* "SSH-": rejected at the digit later */
    feed(h, &f2, 1, ssh + 4, sizeof ssh - 5, 0, &r);
    CHECK_EQ_U(stats(h).not_http, before.not_http + 2);
    CHECK_EQ_U(stats(h).flows_active, 0);
    feed(h, &f3, 1, smtp, sizeof smtp - 1, 0, &r); /* passes the probe, fails the first line */
    CHECK_EQ_U(stats(h).not_http, before.not_http + 3);
    CHECK_EQ_U(stats(h).flows_active, 0);
    feed(h, &f4, 0, "220 smtp ready\r\n", 16, 0, &r); /* the server speaks first */
    CHECK_EQ_U(stats(h).not_http, before.not_http + 4);
    feed(h, &f5, 1, h2, sizeof h2 - 1, 0, &r);
    CHECK_EQ_U(stats(h).not_http, before.not_http + 5);
    feed(h, &f6, 1, "GET /never-ends-", 16, 0, &r); /* a first line cut by the end */
    CHECK_EQ_U(stats(h).flows_active, 1);
    feed(h, &f6, 1, NULL, 0, CG_REASM_END, &r);
    CHECK_EQ_U(stats(h).not_http, before.not_http + 6);
    /* later calls return at once, whatever they carry */
    feeds(h, &f1, 1, "GET / HTTP/1.1\r\n\r\n", &r);
    feeds(h, &f3, 0, "HTTP/1.1 200 OK\r\n\r\n", &r);
    CHECK_EQ_U(stats(h).flows, before.flows);
    CHECK_EQ_U(r.ntx, 4);
    cg_http_end(h, &f1, on_tx, &r);
    cg_http_end(h, &f2, on_tx, &r);
    cg_http_end(h, &f3, on_tx, &r);
    cg_http_end(h, &f4, on_tx, &r);
    cg_http_end(h, &f5, on_tx, &r);
    cg_http_end(h, &f6, on_tx, &r);
    check_drained(h);

    /* a flow that carries no data (a scan, a refused connection) is not counted */
    cg_http_flow f8 = { 0 }, f9 = { 0 };
    cg_http_stats mid = stats(h);
    feed(h, &f8, 1, NULL, 0, CG_REASM_END, &r);
    feed(h, &f8, 0, NULL, 0, CG_REASM_END, &r);
    feed(h, &f9, 0, NULL, 0, CG_REASM_END, &r);
    feed(h, &f9, 1, "\r\n", 2, CG_REASM_END, &r);
    CHECK_EQ_U(stats(h).not_http, mid.not_http);
    CHECK_EQ_U(stats(h).flows, mid.flows);
    cg_http_end(h, &f8, on_tx, &r);
    cg_http_end(h, &f9, on_tx, &r);
    /* leading whitespace before the first request line */
    cg_http_flow f10 = { 0 };
    feeds(h, &f10, 1, "\r\n  GET /lead HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(stats(h).flows, mid.flows + 1);
    CHECK_EQ_U(r.ntx, 5);
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_URI), "/lead");
    cg_http_end(h, &f10, on_tx, &r);

    /* a first line longer than the header limit never confirms */
    cg_http_flow f7 = { 0 };
    static char longline[20000];
    memset(longline, 'a', sizeof longline);
    memcpy(longline, "GET /", 5);
    feed(h, &f7, 1, longline, sizeof longline, 0, &r);
    CHECK_EQ_U(stats(h).not_http, before.not_http + 7);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- responses: END, HEAD, 1xx, 204, 304, CONNECT, 101 ---- */

static void test_responses(void)
{
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    /* no Content-Length: the body ends with the stream */
    feeds(h, &hf, 1, "GET /old HTTP/1.0\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nline 1\n", &r);
    feeds(h, &hf, 0, "line 2\n", &r);
    CHECK_EQ_U(r.ntx, 1);
    feed(h, &hf, 0, "end", 3, CG_REASM_END, &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), "line 1\nline 2\nend");
    CHECK_EQ_U(stats(h).flows_active, 1);
    feed(h, &hf, 1, NULL, 0, CG_REASM_END, &r); /* both ended: the state is given back */
    CHECK_EQ_U(stats(h).flows_active, 0);
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* Connection is a header of responses too (http.connection) */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "GET /bye HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.1 200 OK\r\nConnection:  Close \r\nContent-Length: 2\r\n\r\nok", &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_CONNECTION), "keep-alive");
    CHECK_EQ_U(r.t[1].ts, 0);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_CONNECTION), "Close");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_HEADER), "Connection: Close\r\nContent-Length: 2\r\n");
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* HEAD: its response has no body even with a Content-Length */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "HEAD /f HTTP/1.1\r\nHost: h\r\n\r\nGET /g HTTP/1.1\r\nHost: h\r\n\r\n", &r);
    feeds(h, &hf, 0,
          "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
          "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope",
          &r);
    CHECK_EQ_U(r.ntx, 4);
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_STAT_CODE), "200");
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_CONTENT_LEN), "1000");
    CHECK(B(&r, 2, CG_BUF_HTTP_RESPONSE_BODY) == NULL);
    CHECK_STR(B(&r, 3, CG_BUF_HTTP_STAT_CODE), "404");
    CHECK_STR(B(&r, 3, CG_BUF_HTTP_RESPONSE_BODY), "nope");
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* 100-continue: the interim response is skipped, the body follows */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.1 100 Continue\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 0);
    feeds(h, &hf, 1, "data", &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY), "data");
    feeds(h, &hf, 0, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_STAT_CODE), "201");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_RESPONSE_BODY), "ok");
    /* 204 and 304 have no body */
    feeds(h, &hf, 1, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n", &r);
    feeds(h, &hf, 0,
          "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n"
          "Content-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
          &r);
    CHECK_EQ_U(r.ntx, 8);
    CHECK_STR(B(&r, 7, CG_BUF_HTTP_RESPONSE_BODY), "x");
    CHECK_EQ_U(stats(h).parse_errors, 0);
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* CONNECT 200: a tunnel, nothing more is parsed */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.1 200 Connection established\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_EQ_U(stats(h).tunnels, 1);
    CHECK_EQ_U(stats(h).flows_active, 0);
    feeds(h, &hf, 1, "\x16\x03\x01 tls bytes GET / HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 2);
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* CONNECT refused: the client goes on with HTTP */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "CONNECT a.example:443 HTTP/1.1\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n", &r);
    feeds(h, &hf, 1, "GET /x HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 3);
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_URI), "/x");
    cg_http_end(h, &hf, on_tx, &r);
    rec_reset(&r);

    /* 101 Switching Protocols */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", &r);
    feeds(h, &hf, 0, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
          &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_STAT_CODE), "101");
    CHECK_EQ_U(stats(h).tunnels, 2);
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- gaps, END, limits, pools ---- */

static void test_gaps(void)
{
    cg_http *h = mk(NULL);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    /* a gap in a body: delivered with the body so far, then resync */
    feeds(h, &hf, 1, "POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\nfirst part", &r);
    gap(h, &hf, 1, "tail of the body\r\nGET /b HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_REQUEST_BODY), "first part");
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_URI), "/b");
    /* a gap in headers: the message is dropped */
    feeds(h, &hf, 1, "GET /c HTTP/1.1\r\nHost: a", &r);
    feeds(h, &hf, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", &r);
    gap(h, &hf, 1, "GET /d HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 3);
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_URI), "/d");
    /* a gap in a response body: delivered, and the next line that starts a
     * response is found; a line with junk before "HTTP/" is not one */
    gap(h, &hf, 0,
        "zzHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes",
        &r);
    CHECK_EQ_U(r.ntx, 5);
    CHECK_STR(B(&r, 3, CG_BUF_HTTP_RESPONSE_BODY), "ab");
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_RESPONSE_BODY), "yes");
    CHECK_EQ_U(stats(h).gaps, 3);
    CHECK_EQ_U(stats(h).parse_errors, 0); /* skipping while resyncing is silent */
    /* END in the middle of headers: the complete lines are delivered */
    feeds(h, &hf, 1, "GET /e HTTP/1.1\r\nHost: e\r\nUser-Agent: cut", &r);
    feed(h, &hf, 1, NULL, 0, CG_REASM_END, &r);
    CHECK_EQ_U(r.ntx, 6);
    CHECK_STR(B(&r, 5, CG_BUF_HTTP_HOST), "e");
    CHECK(B(&r, 5, CG_BUF_HTTP_USER_AGENT) == NULL);
    CHECK_STR(B(&r, 5, CG_BUF_HTTP_START), "GET /e HTTP/1.1\r\nHost: e\r\n");
    /* data after the end is ignored */
    feeds(h, &hf, 1, "GET /f HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 6);
    feeds(h, &hf, 0, "HTTP/1.1 200 OK\r\n\r\nto the end", &r);
    cg_http_end(h, &hf, on_tx, &r); /* delivers the response in progress */
    CHECK_EQ_U(r.ntx, 7);
    CHECK_STR(B(&r, 6, CG_BUF_HTTP_RESPONSE_BODY), "to the end");
    check_drained(h);
    rec_reset(&r);

    /* a bad start line in a flow already HTTP: parse error, resync */
    memset(&hf, 0, sizeof hf);
    feeds(h, &hf, 1, "GET /1 HTTP/1.1\r\n\r\ngarbage line\r\n\x01\x02\r\nGET /2 HTTP/1.1\r\n\r\n",
          &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_URI), "/2");
    feeds(h, &hf, 0, "junk\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 3);
    cg_http_stats st = stats(h);
    CHECK_EQ_U(st.parse_errors, 2);
    cg_http_end(h, &hf, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

static void test_limits(void)
{
    cg_http_config c = { .header_limit = 256, .max_flows = 2, .req_buffers = 1, .resp_buffers = 1 };
    cg_http *h = mk(&c);
    cg_http_flow hf = { 0 };
    rec r = { 0 };
    /* headers past the limit: delivered as far as they go, then resync */
    char big[1024];
    int k = snprintf(big, sizeof big, "GET /big HTTP/1.1\r\nHost: h\r\n");
    while (k < 600)
        k += snprintf(big + k, sizeof big - (size_t)k, "X-Pad: %0100d\r\n", 7);
    k += snprintf(big + k, sizeof big - (size_t)k, "\r\nGET /next HTTP/1.1\r\n\r\n");
    feed(h, &hf, 1, big, (size_t)k, 0, &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_URI), "/big");
    CHECK_STR(B(&r, 0, CG_BUF_HTTP_HOST), "h");
    CHECK(BL(&r, 0, CG_BUF_HTTP_START) <= 256);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_URI), "/next");
    CHECK_EQ_U(stats(h).hdr_too_long, 1);
    /* pairing stays in step: /big's answer, then /next's (a HEAD) */
    cg_http_flow hp = { 0 };
    char hb[1024];
    k = snprintf(hb, sizeof hb, "GET /big HTTP/1.1\r\n");
    while (k < 600)
        k += snprintf(hb + k, sizeof hb - (size_t)k, "X-Pad: %0100d\r\n", 7);
    k += snprintf(hb + k, sizeof hb - (size_t)k, "\r\nHEAD /next HTTP/1.1\r\n\r\n");
    feed(h, &hp, 1, hb, (size_t)k, 0, &r);
    feeds(h, &hp, 0,
          "HTTP/1.1 431 Too Large\r\nContent-Length: 0\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
          &r);
    CHECK_EQ_U(r.ntx, 7);
    CHECK_STR(B(&r, 4, CG_BUF_HTTP_STAT_CODE), "431");
    CHECK_STR(B(&r, 5, CG_BUF_HTTP_CONTENT_LEN), "99");
    CHECK(B(&r, 5, CG_BUF_HTTP_RESPONSE_BODY) == NULL);
    CHECK_STR(B(&r, 6, CG_BUF_HTTP_STAT_CODE), "200");
    cg_http_end(h, &hp, on_tx, &r);
    rec_reset(&r);

    /* states: two flows, both with a request awaiting its response (not idle):
     * the third is ignored */
    cg_http_flow f2 = { 0 }, f3 = { 0 };
    feeds(h, &f2, 1, "GET / HTTP/1.1\r\n\r\n", &r);
    feeds(h, &f3, 1, "GET / HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 1);
    CHECK_EQ_U(stats(h).pool_exhausted, 1);
    CHECK_EQ_U(stats(h).state_steals, 0);
    CHECK_EQ_U(stats(h).flows_active, 2);
    feeds(h, &f3, 1, "GET / HTTP/1.1\r\n\r\n", &r); /* still ignored, not counted again */
    CHECK_EQ_U(stats(h).pool_exhausted, 1);
    /* one request buffer, held by hf's slow headers: f2's request takes it
     * back; hf's message is dropped and hf resyncs */
    feeds(h, &hf, 1, "GET /held HTTP/1.1\r\n", &r);
    feeds(h, &f2, 1, "GET /x HTTP/1.1\r\n", &r);
    CHECK_EQ_U(stats(h).msg_steals, 1);
    CHECK_EQ_U(stats(h).flows_active, 2);
    feeds(h, &hf, 1, "Host: h\r\n\r\n", &r);
    feeds(h, &f2, 1, "\r\n", &r);
    CHECK_EQ_U(r.ntx, 2);
    CHECK_STR(B(&r, 1, CG_BUF_HTTP_URI), "/x");
    feeds(h, &hf, 1, "GET /again HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(r.ntx, 3);
    CHECK_STR(B(&r, 2, CG_BUF_HTTP_URI), "/again");
    cg_http_end(h, &hf, on_tx, &r);
    cg_http_end(h, &f2, on_tx, &r);
    cg_http_end(h, &f3, on_tx, &r);
    check_drained(h);
    cg_http_stats st = stats(h);
    CHECK_EQ_U(st.flows_peak, 2);
    CHECK_EQ_U(st.buffers_peak, 1);
    rec_reset(&r);
    cg_http_destroy(h);

    /* bad configurations */
    cg_http *x = NULL;
    cg_http_config bad = { .header_limit = 100 };
    CHECK(cg_http_create(&x, &bad) == -1 && x == NULL);
    cg_http_destroy(NULL);
}

/* Clients that trickle headers cannot pin the buffers; idle flows give their
 * state to new ones and are probed again at their next request. */
static void test_steal(void)
{
    cg_http_config c = { .max_flows = 64, .req_buffers = 4, .resp_buffers = 4 };
    cg_http *h = mk(&c);
    rec r = { 0 };
    cg_http_flow slow[4], fast[20];
    memset(slow, 0, sizeof slow);
    memset(fast, 0, sizeof fast);
    for (int i = 0; i < 4; i++)
        feeds(h, &slow[i], 1, "GET /slow HTTP/1.1\r\nX-a: ", &r);
    CHECK_EQ_U(stats(h).req_buffers_used, 4);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++) /* the slow ones keep trickling */
            feeds(h, &slow[i], 1, "a", &r);
        for (int i = 0; i < 20; i++)
            feeds(h, &fast[i], 1, "GET /fast HTTP/1.1\r\nHost: f\r\n\r\n", &r);
    }
    CHECK_EQ_U(r.ntx, 60);
    cg_http_stats st = stats(h);
    CHECK_EQ_U(st.requests, 60);
    CHECK_EQ_U(st.msg_steals, 1); /* one taken back, then reused */
    CHECK_EQ_U(st.pool_exhausted, 0);
    CHECK(st.req_buffers_used <= 4);
    for (int i = 0; i < 4; i++)
        cg_http_end(h, &slow[i], on_tx, &r);
    for (int i = 0; i < 20; i++)
        cg_http_end(h, &fast[i], on_tx, &r);
    CHECK_EQ_U(r.ntx, 63); /* three slow ones kept theirs */
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);

    /* states */
    cg_http_config c2 = { .max_flows = 2, .req_buffers = 1 };
    h = mk(&c2);
    cg_http_flow a = { 0 }, b = { 0 }, x = { 0 }, y = { 0 };
    feeds(h, &a, 1, "GET /a1 HTTP/1.1\r\n\r\n", &r);
    feeds(h, &a, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &r);
    feeds(h, &b, 1, "GET /b1 HTTP/1.1\r\n\r\n", &r);
    feeds(h, &b, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &r);
    feeds(h, &x, 1, "GET /x1 HTTP/1.1\r\n\r\n", &r); /* takes a's (idle, fed least recently) */
    CHECK_EQ_U(stats(h).state_steals, 1);
    CHECK_EQ_U(stats(h).flows_active, 2);
    feeds(h, &a, 1, "GET /a2 HTTP/1.1\r\n\r\n", &r); /* a is probed again, takes b's */
    CHECK_EQ_U(stats(h).state_steals, 2);
    feeds(h, &a, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", &r);
    CHECK_EQ_U(r.ntx, 7);
    CHECK_STR(B(&r, 5, CG_BUF_HTTP_URI), "/a2");
    CHECK_STR(B(&r, 6, CG_BUF_HTTP_RESPONSE_BODY), "ok");
    /* x awaits its response, a is idle again: y takes a's */
    feeds(h, &y, 1, "GET /y1 HTTP/1.1\r\n", &r);
    CHECK_EQ_U(stats(h).state_steals, 3);
    CHECK_EQ_U(stats(h).pool_exhausted, 0);
    /* the buffer y holds while its first line is confirmed... and x's next
     * request needs one: y, fed least recently, loses it */
    cg_http_flow z = { 0 };
    feeds(h, &z, 1, "GET /z", &r); /* no state: x and y are busy */
    CHECK_EQ_U(stats(h).pool_exhausted, 1);
    feeds(h, &x, 1, "GET /x2 HTTP/1.1\r\n\r\n", &r);
    CHECK_EQ_U(stats(h).msg_steals, 1);
    CHECK_STR(B(&r, 7, CG_BUF_HTTP_URI), "/x2");
    cg_http_end(h, &a, on_tx, &r);
    cg_http_end(h, &b, on_tx, &r);
    cg_http_end(h, &x, on_tx, &r);
    cg_http_end(h, &y, on_tx, &r);
    cg_http_end(h, &z, on_tx, &r);
    check_drained(h);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* ---- fuzz ---- */

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static const char *const seeds_req[] = {
    REQ1,
    "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;e\r\nWiki\r\n0\r\nT: 1\r\n\r\n",
    "GET /%2e%2e/%u0041/./a//b?x=%zz HTTP/1.1\r\nHost: [::1]:80\r\nCookie: a\r\nCookie: b\r\n\r\n",
    "HEAD / HTTP/1.1\r\n\r\n",
    "CONNECT h:443 HTTP/1.1\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\nxyz",
    "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
};

static const char *const seeds_resp[] = {
    RESP1,
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.0 200 OK\r\n\r\nuntil the end",
    "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
    "20\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    "abcdefghij",
    "HTTP/1.1 101 Switching\r\n\r\n",
};

static size_t mutate(uint8_t *out, size_t cap, const char *seed, int allow)
{
    size_t n = strlen(seed);
    if (n > cap)
        n = cap;
    memcpy(out, seed, n);
    unsigned muts = allow ? rnd() % 6 : 0;
    for (unsigned i = 0; i < muts && n > 0; i++) {
        size_t at = rnd() % n;
        switch (rnd() % 6) {
        case 0: out[at] = (uint8_t)rnd(); break;
        case 1: out[at] = "\r\n :;%./0f\t"[rnd() % 11]; break;
        case 2: /* delete */
            memmove(out + at, out + at + 1, n - at - 1);
            n--;
            break;
        case 3: /* duplicate a run */
            if (n + 16 < cap) {
                size_t len = 1 + rnd() % 16;
                if (at + len > n)
                    len = n - at;
                memmove(out + at + len, out + at, n - at);
                n += len;
            }
            break;
        case 4: /* a big number */
            if (n + 20 < cap) {
                memmove(out + at + 20, out + at, n - at);
                memcpy(out + at, "99999999999999999999", 20);
                n += 20;
            }
            break;
        default:
            n = at; /* truncate */
            break;
        }
    }
    return n;
}

static void test_fuzz(void)
{
    cg_http_config c = { .max_flows = 8,
                         .req_buffers = 4,
                         .resp_buffers = 4,
                         .header_limit = 1024,
                         .req_body_limit = 512,
                         .resp_body_limit = 2048 };
    cg_http *h = mk(&c);
    cg_http_flow flows[12];
    uint8_t fresh[12];
    memset(flows, 0, sizeof flows);
    memset(fresh, 1, sizeof fresh);
    static uint8_t buf[1 << 16];
    rec r = { 0 };
    r.max_view = 3 * 1024 + 64 + 2048;
    unsigned iters = 200000, violations = 0;
    for (unsigned it = 0; it < iters; it++) {
        unsigned fi = rnd() % 12;
        cg_http_flow *hf = &flows[fi];
        int first = fresh[fi] && rnd() % 8 != 0; /* most flows start with a clean request */
        fresh[fi] = 0;
        int ts = first ? 1 : (int)(rnd() % 3 != 0);
        size_t n;
        unsigned kind = first ? 0 : rnd() % 10;
        if (kind < 7) {
            n = 0;
            unsigned reps = 1 + rnd() % 3;
            for (unsigned k = 0; k < reps; k++)
                n += mutate(buf + n, sizeof buf - n - 1,
                            ts ? seeds_req[rnd() % (sizeof seeds_req / sizeof seeds_req[0])]
                               : seeds_resp[rnd() % (sizeof seeds_resp / sizeof seeds_resp[0])],
                            !(first && k == 0));
        } else {
            n = rnd() % 3000;
            for (size_t i = 0; i < n; i++)
                buf[i] = kind == 9 ? "GET / HTTP/1.1\r\n:0a"[rnd() % 19] : (uint8_t)rnd();
        }
        size_t o = 0;
        while (o < n) { /* random splits */
            size_t span = rnd() % 4 ? 64 : 4000;
            size_t k = 1 + rnd() % span;
            if (k > n - o)
                k = n - o;
            uint32_t fl = rnd() % 50 == 0 ? CG_REASM_GAP : 0;
            feed(h, hf, ts, buf + o, k, fl, &r);
            o += k;
        }
        if (rnd() % 40 == 0)
            feed(h, hf, ts, NULL, 0, CG_REASM_END, &r);
        cg_http_stats st = stats(h);
        if (st.flows_active > c.max_flows || st.req_buffers_used > c.req_buffers ||
            st.resp_buffers_used > c.resp_buffers || cg_http_check(h) != 0)
            violations++;
        if (rnd() % 25 == 0) { /* the flow is evicted; its slot reused */
            cg_http_end(h, hf, on_tx, &r);
            memset(hf, 0, sizeof *hf);
            fresh[fi] = 1;
        }
        if (r.ntx > MAXTX / 2 || r.dlen > (1u << 20)) {
            unsigned bad = r.bad;
            rec_reset(&r);
            r.bad = bad;
            r.max_view = 3 * 1024 + 64 + 2048;
        }
    }
    for (int i = 0; i < 12; i++)
        cg_http_end(h, &flows[i], on_tx, &r);
    check_drained(h);
    CHECK_EQ_U(violations, 0);
    CHECK_EQ_U(r.bad, 0);
    cg_http_stats st = stats(h);
    CHECK(st.flows > 0 && st.requests > 0 && st.responses > 0);
    printf("fuzz: %u iterations, %llu flows, %llu requests, %llu responses, %llu not http, "
           "%llu parse errors, %llu gaps, %llu states and %llu buffers taken back\n",
           iters, (unsigned long long)st.flows, (unsigned long long)st.requests,
           (unsigned long long)st.responses, (unsigned long long)st.not_http,
           (unsigned long long)st.parse_errors, (unsigned long long)st.gaps,
           (unsigned long long)st.state_steals, (unsigned long long)st.msg_steals);
    rec_reset(&r);
    cg_http_destroy(h);
}

/* Every piece is placed right before a page that cannot be read, so a read
 * past the end of any piece faults (in every build, not only under ASan). */
static void test_guard_page(void)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED)
        return;
    CHECK(mprotect(map + pg, pg, PROT_NONE) == 0);
    uint8_t *end = map + pg;
    const char *const *sets[2] = { seeds_resp, seeds_req };
    size_t counts[2] = { sizeof seeds_resp / sizeof seeds_resp[0],
                         sizeof seeds_req / sizeof seeds_req[0] };
    cg_http *h = mk(NULL);
    rec r = { 0 };
    unsigned delivered = 0;
    for (size_t piece = 1; piece <= 3; piece++) {
        for (size_t i = 0; i < counts[1]; i++) {
            cg_http_flow hf = { 0 };
            for (int side = 1; side >= 0; side--) {
                const char *m = sets[side][i % counts[side]];
                size_t n = strlen(m);
                for (size_t o = 0; o < n; o += piece) {
                    size_t k = n - o < piece ? n - o : piece;
                    memcpy(end - k, m + o, k);
                    feed(h, &hf, side, end - k, k, 0, &r);
                }
                /* and the whole message at once, ending at the guard */
                memcpy(end - n, m, n);
                feed(h, &hf, side, end - n, n, 0, &r);
            }
            cg_http_end(h, &hf, on_tx, &r);
            delivered += (unsigned)r.ntx;
            rec_reset(&r);
        }
    }
    CHECK(delivered > 30);
    check_drained(h);
    cg_http_destroy(h);
    munmap(map, 2 * pg);
}

static void test_memory(void)
{
    cg_http *h = mk(NULL);
    cg_http_stats st = stats(h);
    CHECK(st.state_bytes <= 128);
    CHECK(sizeof(cg_http_flow) == 16);
    printf("memory: handle %zu B, state %u B, request buffer %u B, response buffer %u B, "
           "all %.1f MiB (defaults)\n",
           sizeof(cg_http_flow), st.state_bytes, st.req_buffer_bytes, st.resp_buffer_bytes,
           st.mem_bytes / 1048576.0);
    cg_http_destroy(h);
}

/* The anomaly events libhtp raises for Suricata's app-layer-event: a
 * Transfer-Encoding other than exactly "chunked", or chunked below HTTP/1.1;
 * an Authorization scheme other than Basic, Digest and Bearer. */
static void test_events(void)
{
    static const struct {
        const char *req;
        uint32_t ev;
    } cases[] = {
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0 },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", 0 },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          CG_EV_HTTP_INVALID_TE_REQ },
        { "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
          "0\r\n\r\n",
          CG_EV_HTTP_INVALID_TE_REQ },
        { "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          CG_EV_HTTP_INVALID_TE_REQ },
        { "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic YTpi\r\n\r\n", 0 },
        { "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: bearer x.y.z\r\n\r\n", 0 },
        { "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Digest username=\"a\"\r\n\r\n", 0 },
        { "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: NTLM TlRMTVNTUAAB\r\n\r\n",
          CG_EV_HTTP_AUTH_UNRECOGNIZED },
        { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cg_http *h = mk(NULL);
        cg_http_flow hf = { 0 };
        rec r = { 0 };
        feeds(h, &hf, 1, cases[i].req, &r);
        CHECK_EQ_U(r.ntx, 1);
        if (r.ntx == 1)
            CHECK_EQ_U(r.t[0].events, cases[i].ev);
        cg_http_end(h, &hf, on_tx, &r);
        rec_reset(&r);
        cg_http_destroy(h);
    }
}

int main(void)
{
    test_events();
    test_buffers();
    test_splits();
    test_pipelined();
    test_header_segments();
    test_headers();
    test_uri();
    test_gzip();
    test_bomb();
    test_bad_length();
    test_chunked();
    test_detect();
    test_responses();
    test_gaps();
    test_limits();
    test_steal();
    test_fuzz();
    test_guard_page();
    test_memory();
    return check_done("test_http");
}
