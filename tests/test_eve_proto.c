/* test_eve_proto.c — alerts with their context and the protocol events,
 * through the worker (flow, reassembly, parsers, detection) to the EVE
 * lines, each parsed back with json-c: an HTTP alert's accessor (the flow's
 * request, the buffer matched and where, the excerpt around the match) and
 * its line (direction, app_proto, flow, http, payload); where stream and
 * datagram alerts were raised; http records of a
 * request and its response, of pipelined requests, of a request never
 * answered; dns records of a query and of its response (from the server,
 * with answers); a tls record of a handshake; flow records (state, reason,
 * alerted); stream anomalies (a gap, bytes that differ from the copy kept);
 * decoder anomalies named by the layer that failed; --eve-types names; an
 * alert line whose payload does not fit keeps the rest; no context without
 * want_app. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/output/eve.h"
#include "analyzer/output/eve_proto.h"
#include "analyzer/engine/inspect.h"
#include "tests/check.h"
#include "tests/util_conn.h"

static const char *const rules[] = {
    "alert http any any -> any any (msg:\"uri union select\"; flow:established,to_server; "
    "http.uri; content:\"union select\"; nocase; sid:201;)",
    "alert dns any any -> any any (msg:\"evil domain\"; dns.query; content:\"evil.example\"; "
    "sid:202;)",
    "alert tls any any -> any any (msg:\"portal sni\"; tls.sni; content:\"portal\"; sid:203;)",
    "alert tcp any any -> any 9999 (msg:\"token on a stream\"; content:\"secret-token\"; sid:204;)",
    "alert udp any any -> any 9998 (msg:\"token in a datagram\"; content:\"secret-token\"; "
    "sid:205;)",
    NULL
};

#define MAXL 64

typedef struct world {
    cg_ruleset *rs;
    cg_detect *d;
    cg_inspect *in;
    tconn c;
    char *lines[MAXL]; /* EVE lines, alerts and events in order */
    int n;
    /* what the last alert's accessor said */
    int had_info;
    char url[256];
    char excerpt[512];
    uint32_t match_at, xlen, match_len;
    uint8_t buf, app_proto;
    char line[1 << 16];
} world;

static void keep(world *w, size_t len)
{
    if (len && w->n < MAXL)
        w->lines[w->n++] = strndup(w->line, len);
}

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    world *w = ctx;
    (void)stream;
    const cg_alert_info *ai = cg_inspect_alert_info(w->in);
    w->had_info = ai != NULL;
    w->url[0] = w->excerpt[0] = 0;
    if (ai) {
        w->buf = ai->buf;
        w->app_proto = ai->app_proto;
        if (ai->app && ai->app->http.has_request)
            snprintf(w->url, sizeof w->url, "%.*s", ai->app->http.url.len, ai->app->http.url.s);
        const uint8_t *ex;
        w->xlen = cg_alert_excerpt(ai, 64, &ex, &w->match_at);
        w->match_len = ai->match_len;
        snprintf(w->excerpt, sizeof w->excerpt, "%.*s", (int)w->xlen, (const char *)ex);
    }
    cg_eve_alert_extra x = { .f = f,
                             .to_server = to_server,
                             .ai = ai,
                             .fields = CG_EVE_F_PAYLOAD | CG_EVE_F_PAYLOAD_PRINTABLE };
    keep(w, cg_eve_alert_ex(w->line, sizeof w->line, p, r, f ? f->id : 1, "", 1, &x));
}

static void on_event(void *ctx, const cg_inspect_event *ev)
{
    world *w = ctx;
    keep(w, cg_eve_event(w->line, sizeof w->line, ev));
}

static int world_make(world *w, int want_app)
{
    char err[512];
    memset(w, 0, sizeof *w);
    if (tconn_rules(&w->rs, rules))
        return -1;
    cg_inspect_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flow.memcap = 8u << 20;
    cfg.reasm.pool_bytes = 1u << 20;
    cfg.reasm.chunk_pool_bytes = 1u << 20;
    cfg.http.max_flows = 64;
    cfg.http.req_buffers = 8;
    cfg.http.resp_buffers = 8;
    cfg.tls.max_flows = 8;
    cfg.want_app = want_app;
    cfg.app_slots = 16;
    cfg.on_alert = on_alert;
    cfg.events = CG_EVE_T_ALL & ~CG_EVE_T_ALERT;
    cfg.on_event = on_event;
    cfg.ctx = w;
    if (cg_detect_build(&w->d, w->rs, NULL, err, sizeof err) ||
        cg_inspect_create(&w->in, w->d, &cfg, err, sizeof err)) {
        fprintf(stderr, "world: %s\n", err);
        return -1;
    }
    tconn_init(&w->c, w->in);
    return 0;
}

static void clear(world *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->lines[i]);
    w->n = 0;
}

static void world_free(world *w)
{
    cg_inspect_destroy(w->in); /* flows still open end: their records */
    clear(w);
    cg_detect_destroy(w->d);
    cg_ruleset_destroy(w->rs);
}

static void sends(world *w, int to_server, const char *s)
{
    tconn_send(&w->c, to_server, s, (uint32_t)strlen(s));
}

/* The value at a dotted path of a JSON line ("http.url", "dns.answers.0.rdata"),
 * as text; "" when absent. */
static const char *at(const char *line, const char *path)
{
    static char out[8192];
    json_object *o = json_tokener_parse(line), *v = o;
    out[0] = 0;
    if (!o)
        return "(not json)";
    char p[256];
    snprintf(p, sizeof p, "%s", path);
    for (char *tok = strtok(p, "."); tok && v; tok = strtok(NULL, ".")) {
        json_object *next = NULL;
        if (json_object_is_type(v, json_type_array))
            next = json_object_array_get_idx(v, (size_t)atoi(tok));
        else if (!json_object_object_get_ex(v, tok, &next))
            next = NULL;
        v = next;
    }
    if (v)
        snprintf(out, sizeof out, "%s", json_object_get_string(v));
    json_object_put(o);
    return out;
}

/* The index of the n-th (0-based) line of event type t, or -1. */
static int find(const world *w, const char *t, int n)
{
    for (int i = 0; i < w->n; i++)
        if (!strcmp(at(w->lines[i], "event_type"), t) && n-- == 0)
            return i;
    return -1;
}

static int count(const world *w, const char *t)
{
    int k = 0;
    while (find(w, t, k) >= 0)
        k++;
    return k;
}

static void test_http(void)
{
    world w;
    CHECK(world_make(&w, 1) == 0);
    if (!w.in)
        return;
    tconn_connect(&w.c, 80);
    sends(&w, 1,
          "GET /tra-cuu?id=1%20UNION%20SELECT%20pw HTTP/1.1\r\nHost: Dichvucong.gov.vn:8080"
          "\r\nUser-Agent: sqlmap/1.7\r\nReferer: http://a/\r\n\r\n");
    CHECK_EQ_U(count(&w, "alert"), 1);
    /* the accessor: the request, the normalized URI matched, where */
    CHECK(w.had_info);
    CHECK_STR(w.url, "/tra-cuu?id=1%20UNION%20SELECT%20pw");
    CHECK_EQ_U(w.buf, CG_BUF_HTTP_URI);
    CHECK_EQ_U(w.app_proto, CG_APP_HTTP);
    CHECK_STR(w.excerpt, "/tra-cuu?id=1 UNION SELECT pw");
    CHECK_EQ_U(w.match_at, strlen("/tra-cuu?id=1 UNION SELECT"));
    CHECK_EQ_U(w.match_len, strlen("union select")); /* the match: "UNION SELECT" */
    int a = find(&w, "alert", 0);
    CHECK(a >= 0);
    if (a >= 0) {
        const char *l = w.lines[a];
        CHECK_STR(at(l, "direction"), "to_server");
        CHECK_STR(at(l, "app_proto"), "http");
        CHECK_STR(at(l, "http.url"), "/tra-cuu?id=1%20UNION%20SELECT%20pw");
        CHECK_STR(at(l, "http.hostname"), "dichvucong.gov.vn");
        CHECK_STR(at(l, "http.http_user_agent"), "sqlmap/1.7");
        CHECK_STR(at(l, "http.http_method"), "GET");
        CHECK_STR(at(l, "http.protocol"), "HTTP/1.1");
        CHECK_STR(at(l, "http.http_refer"), "http://a/");
        CHECK_STR(at(l, "flow.pkts_toserver"), "3");
        CHECK_STR(at(l, "flow.pkts_toclient"), "1");
        CHECK_STR(at(l, "payload_printable"), "/tra-cuu?id=1 UNION SELECT pw");
        CHECK_STR(at(l, "payload"), "L3RyYS1jdXU/aWQ9MSBVTklPTiBTRUxFQ1QgcHc=");
        CHECK_STR(at(l, "alert.signature_id"), "201");
        CHECK_STR(at(l, "layers"), "[ ]");
    }
    CHECK_EQ_U(count(&w, "http"), 0); /* not before its response */
    sends(&w, 0,
          "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
          "Content-Length: 5\r\n\r\nhello");
    int h = find(&w, "http", 0);
    CHECK(h >= 0);
    if (h >= 0) {
        const char *l = w.lines[h];
        CHECK_STR(at(l, "src_ip"), "203.0.113.5"); /* the client */
        CHECK_STR(at(l, "dest_port"), "80");
        CHECK_STR(at(l, "http.url"), "/tra-cuu?id=1%20UNION%20SELECT%20pw");
        CHECK_STR(at(l, "http.status"), "200");
        CHECK_STR(at(l, "http.length"), "5");
        CHECK_STR(at(l, "http.http_content_type"), "text/html");
        CHECK(strlen(at(l, "community_id")) > 2);
        CHECK(strlen(at(l, "flow_id")) > 0);
    }
    /* pipelined: the first request goes out alone when the second comes */
    clear(&w);
    sends(&w, 1, "GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ_U(count(&w, "http"), 1);
    h = find(&w, "http", 0);
    if (h >= 0) {
        CHECK_STR(at(w.lines[h], "http.url"), "/one");
        CHECK_STR(at(w.lines[h], "http.status"), "");
    }
    sends(&w, 0,
          "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
          "HTTP/1.1 204 No Content\r\n\r\n");
    CHECK_EQ_U(count(&w, "http"), 2);
    h = find(&w, "http", 1);
    if (h >= 0) {
        CHECK_STR(at(w.lines[h], "http.url"), "/two");
        CHECK_STR(at(w.lines[h], "http.status"), "204");
    }
    /* a request never answered goes out when the flow ends, then the flow */
    clear(&w);
    sends(&w, 1, "GET /three HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ_U(count(&w, "http"), 0);
    tconn_close(&w.c);
    cg_inspect_finish(w.in);
    CHECK_EQ_U(count(&w, "http"), 1);
    int f = find(&w, "flow", 0);
    CHECK(f > find(&w, "http", 0));
    if (f >= 0) {
        const char *l = w.lines[f];
        CHECK_STR(at(l, "app_proto"), "http");
        CHECK_STR(at(l, "flow.state"), "closed");
        CHECK_STR(at(l, "flow.reason"), "shutdown");
        CHECK_STR(at(l, "flow.alerted"), "true");
        CHECK_STR(at(l, "src_ip"), "203.0.113.5");
        CHECK(strlen(at(l, "flow.end")) > 20);
        CHECK_STR(at(l, "flow.pkts_toserver"), "6"); /* SYN, ACK, 3 requests, FIN */
    }
    cg_inspect_stats st;
    cg_inspect_get_stats(w.in, &st);
    CHECK_EQ_U(st.app.used, 0); /* given back at the flow's end */
    CHECK(st.app.taken >= 1);
    world_free(&w);
}

/* Where an alert was raised: a stream window (a content split over two
 * segments), a datagram's payload */
static void test_hits(void)
{
    world w;
    CHECK(world_make(&w, 1) == 0);
    if (!w.in)
        return;
    tconn_connect(&w.c, 9999);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "hello secret-", 13);
    sends(&w, 1, "token world");
    CHECK_EQ_U(count(&w, "alert"), 1);
    CHECK_EQ_U(w.buf, CG_BUF_STREAM);
    CHECK_STR(w.excerpt, "hello secret-token world");
    CHECK_EQ_U(w.match_at, strlen("hello secret-token"));
    CHECK_EQ_U(w.match_len, strlen("secret-token"));
    int a = find(&w, "alert", 0);
    if (a >= 0) {
        CHECK_STR(at(w.lines[a], "stream"), "1");
        CHECK_STR(at(w.lines[a], "payload_printable"), "hello secret-token world");
        CHECK_STR(at(w.lines[a], "app_proto"), "");
    }
    tconn_close(&w.c);
    clear(&w);
    w.c.udp = 1;
    w.c.sport = 9998;
    tconn_send_at(&w.c, 1, 0, 0, "x=secret-token;y", 16);
    CHECK_EQ_U(count(&w, "alert"), 1);
    CHECK_EQ_U(w.buf, CG_BUF_PAYLOAD);
    CHECK_STR(w.excerpt, "x=secret-token;y");
    CHECK_EQ_U(w.match_at, strlen("x=secret-token"));
    a = find(&w, "alert", 0);
    if (a >= 0) {
        CHECK_STR(at(w.lines[a], "stream"), "0");
        CHECK_STR(at(w.lines[a], "direction"), "to_server");
        CHECK_STR(at(w.lines[a], "proto"), "UDP");
    }
    world_free(&w);
}

/* A DNS message: id, flags, one question, and the given answer records. */
static uint32_t dns_msg(uint8_t *b, unsigned flags, const char *name, unsigned type,
                        const uint8_t *answers, uint32_t alen, unsigned ancount)
{
    uint32_t n = 0;
    b[n++] = 0x12;
    b[n++] = 0x34;
    b[n++] = (uint8_t)(flags >> 8);
    b[n++] = (uint8_t)flags;
    b[n++] = 0;
    b[n++] = 1;
    b[n++] = 0;
    b[n++] = (uint8_t)ancount;
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = 0;
    for (const char *s = name; *s;) {
        const char *dot = strchr(s, '.');
        uint32_t l = dot ? (uint32_t)(dot - s) : (uint32_t)strlen(s);
        b[n++] = (uint8_t)l;
        memcpy(b + n, s, l);
        n += l;
        s += l + (dot ? 1 : 0);
    }
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = (uint8_t)type;
    b[n++] = 0;
    b[n++] = 1;
    if (alen)
        memcpy(b + n, answers, alen);
    return n + alen;
}

static void test_dns(void)
{
    world w;
    CHECK(world_make(&w, 1) == 0);
    if (!w.in)
        return;
    uint8_t q[512];
    w.c.udp = 1;
    w.c.cport = 53001;
    w.c.sport = 53;
    uint32_t n = dns_msg(q, 0x0100, "x.evil.example", 1, NULL, 0, 0);
    tconn_send_at(&w.c, 1, 0, 0, q, n);
    CHECK_EQ_U(count(&w, "alert"), 1);
    int a = find(&w, "alert", 0);
    if (a >= 0) {
        CHECK_STR(at(w.lines[a], "app_proto"), "dns");
        CHECK_STR(at(w.lines[a], "dns.version"), "3");
        CHECK_STR(at(w.lines[a], "dns.type"), "request");
        CHECK_STR(at(w.lines[a], "dns.queries.0.rrname"), "x.evil.example");
        CHECK_STR(at(w.lines[a], "dns.queries.0.rrtype"), "A");
    }
    int d = find(&w, "dns", 0);
    CHECK(d > a);
    if (d >= 0) {
        CHECK_STR(at(w.lines[d], "dns.type"), "request");
        CHECK_STR(at(w.lines[d], "dns.id"), "4660");
        CHECK_STR(at(w.lines[d], "dns.flags"), "100");
        CHECK_STR(at(w.lines[d], "dns.rd"), "true");
        CHECK_STR(at(w.lines[d], "dns.qr"), "");
        CHECK_STR(at(w.lines[d], "src_port"), "53001");
    }
    /* the response, from the server, with its answers */
    static const uint8_t ans[] = {
        0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3,   'w', 'e', 'b', 0xc0, 0x0e, /* CNAME */
        0xc0, 0x2c, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 51,  100, 7,               /* A */
    };
    n = dns_msg(q, 0x8183, "x.evil.example", 1, ans, sizeof ans, 2);
    tconn_send_at(&w.c, 0, 0, 0, q, n);
    d = find(&w, "dns", 1);
    CHECK(d >= 0);
    if (d >= 0) {
        const char *l = w.lines[d];
        CHECK_STR(at(l, "src_ip"), "10.20.1.10");
        CHECK_STR(at(l, "src_port"), "53");
        CHECK_STR(at(l, "dns.type"), "response");
        CHECK_STR(at(l, "dns.qr"), "true");
        CHECK_STR(at(l, "dns.rcode"), "NXDOMAIN");
        CHECK_STR(at(l, "dns.queries.0.rrname"), "x.evil.example");
        CHECK_STR(at(l, "dns.answers.0.rrtype"), "CNAME");
        CHECK_STR(at(l, "dns.answers.0.rdata"), "web.evil.example");
        CHECK_STR(at(l, "dns.answers.0.ttl"), "60");
        CHECK_STR(at(l, "dns.answers.1.rrname"), "web.evil.example");
        CHECK_STR(at(l, "dns.answers.1.rdata"), "198.51.100.7");
        CHECK_STR(at(l, "dns.answers.1.ttl"), "300");
    }
    /* bytes on port 53 that are not DNS: an applayer anomaly */
    clear(&w);
    tconn_send_at(&w.c, 1, 0, 0, "\x12\x34\x01\x00\x00\x05\x00\x00\x00\x00\x00\x00\x01", 13);
    int an = find(&w, "anomaly", 0);
    CHECK(an >= 0 && count(&w, "dns") == 0);
    if (an >= 0) {
        CHECK_STR(at(w.lines[an], "anomaly.type"), "applayer");
        CHECK_STR(at(w.lines[an], "anomaly.event"), "malformed_data");
        CHECK_STR(at(w.lines[an], "anomaly.app_proto"), "dns");
    }
    world_free(&w);
}

typedef struct wb {
    uint8_t b[4096];
    uint32_t n;
} wb;
static void put8(wb *w, unsigned v)
{
    w->b[w->n++] = (uint8_t)v;
}
static void put16(wb *w, unsigned v)
{
    put8(w, v >> 8);
    put8(w, v & 0xff);
}
static void put24(wb *w, unsigned v)
{
    put8(w, v >> 16);
    put16(w, v & 0xffff);
}
static void putb(wb *w, const void *p, uint32_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void record(wb *out, unsigned hs_type, const wb *body)
{
    put8(out, 22);
    put16(out, 0x0303);
    put16(out, body->n + 4);
    put8(out, hs_type);
    put24(out, body->n);
    putb(out, body->b, body->n);
}

static void test_tls(void)
{
    world w;
    CHECK(world_make(&w, 1) == 0);
    if (!w.in)
        return;
    static const char sni[] = "portal.tuyenquang.gov.vn";
    wb ch = { .n = 0 }, rec = { .n = 0 }, sh = { .n = 0 }, srv = { .n = 0 };
    put16(&ch, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(&ch, i);
    put8(&ch, 0);
    put16(&ch, 4);
    put16(&ch, 0xc02f);
    put16(&ch, 0x002f);
    put8(&ch, 1);
    put8(&ch, 0);
    uint32_t sl = (uint32_t)strlen(sni);
    put16(&ch, sl + 9);
    put16(&ch, 0);
    put16(&ch, sl + 5);
    put16(&ch, sl + 3);
    put8(&ch, 0);
    put16(&ch, sl);
    putb(&ch, sni, sl);
    record(&rec, 1, &ch);
    put16(&sh, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(&sh, 0x40 + i);
    put8(&sh, 0);
    put16(&sh, 0xc02f);
    put8(&sh, 0);
    record(&srv, 2, &sh);

    tconn_connect(&w.c, 443);
    tconn_send(&w.c, 1, rec.b, rec.n);
    CHECK_EQ_U(count(&w, "alert"), 1);
    int a = find(&w, "alert", 0);
    if (a >= 0) {
        CHECK_STR(at(w.lines[a], "tls.sni"), sni);
        CHECK_STR(at(w.lines[a], "tls.version"), "TLS 1.2");
        CHECK_EQ_U(strlen(at(w.lines[a], "tls.ja3.hash")), 32);
        CHECK_STR(at(w.lines[a], "tls.ja3.string"), "771,49199-47,0,,");
    }
    tconn_send(&w.c, 0, srv.b, srv.n);
    CHECK_EQ_U(count(&w, "tls"), 0); /* a certificate may follow */
    tconn_close(&w.c);
    cg_inspect_finish(w.in);
    CHECK_EQ_U(count(&w, "tls"), 1); /* at the flow's end */
    int t = find(&w, "tls", 0);
    if (t >= 0) {
        CHECK_STR(at(w.lines[t], "tls.sni"), sni);
        CHECK_STR(at(w.lines[t], "tls.ja3s.string"), "771,49199,");
        CHECK_STR(at(w.lines[t], "src_port"), "40001");
    }
    CHECK_STR(at(w.lines[find(&w, "flow", 0)], "app_proto"), "tls");
    world_free(&w);
}

static void test_anomalies(void)
{
    world w;
    CHECK(world_make(&w, 1) == 0);
    if (!w.in)
        return;
    /* bytes past a hole: the hole is skipped when the flow ends */
    tconn_connect(&w.c, 8080);
    tconn_send_at(&w.c, 1, CG_TH_ACK | CG_TH_PSH, w.c.cseq + 100, "after the hole", 14);
    CHECK_EQ_U(count(&w, "anomaly"), 0);
    cg_inspect_finish(w.in);
    int a = find(&w, "anomaly", 0);
    CHECK(a >= 0);
    if (a >= 0) {
        CHECK_STR(at(w.lines[a], "anomaly.type"), "stream");
        CHECK_STR(at(w.lines[a], "anomaly.event"), "stream.reassembly_seq_gap");
        CHECK_STR(at(w.lines[a], "proto"), "TCP");
    }
    /* a copy of bytes with other bytes in it */
    clear(&w);
    tconn_connect(&w.c, 8081);
    uint32_t seq = w.c.cseq;
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "abcdefgh", 8);
    tconn_send_at(&w.c, 1, CG_TH_ACK, seq, "abcdXfgh", 8);
    a = find(&w, "anomaly", 0);
    CHECK(a >= 0);
    if (a >= 0)
        CHECK_STR(at(w.lines[a], "anomaly.event"), "stream.reassembly_overlap_different_data");
    CHECK_EQ_U(count(&w, "anomaly"), 1);
    tconn_send_at(&w.c, 1, CG_TH_ACK, seq, "abcdefgh", 8); /* the same bytes: none */
    CHECK_EQ_U(count(&w, "anomaly"), 1);
    world_free(&w);

    /* decoder anomalies, named by the layer that failed */
    static const uint8_t eth_ip_tcp[] = { 0,  1,    2,    3,    4,    5,  6,  7,  8,   9, 10,
                                          11, 0x08, 0x00, 0x45, 0,    0,  40, 0,  1,   0, 0,
                                          64, 6,    0,    0,    10,   20, 1,  10, 203, 0, 113,
                                          5,  0,    80,   0x9c, 0x41, 0,  0,  0,  1,   0, 0,
                                          0,  0,    0x50, 0x10, 0x10, 0,  0,  0,  0,   0 };
    struct {
        uint32_t caplen;
        int patch_at;
        uint8_t patch;
        const char *want;
    } cases[] = {
        { 10, -1, 0, "decoder.ethernet.pkt_too_small" },
        { 20, -1, 0, "decoder.ipv4.pkt_too_small" },
        { sizeof eth_ip_tcp, 14, 0x44, "decoder.ipv4.hlen_too_small" },
        { sizeof eth_ip_tcp, 14, 0x65, "decoder.ipv4.wrong_ip_version" },
        { 40, -1, 0, "decoder.tcp.pkt_too_small" },
        { sizeof eth_ip_tcp, 46, 0x40, "decoder.tcp.hlen_too_small" },
        { sizeof eth_ip_tcp, -1, 0, NULL },
    };
    cg_decode_stats ds;
    memset(&ds, 0, sizeof ds);
    char line[2048];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t fr[sizeof eth_ip_tcp];
        memcpy(fr, eth_ip_tcp, sizeof fr);
        if (cases[i].patch_at >= 0)
            fr[cases[i].patch_at] = cases[i].patch;
        cg_packet p;
        int rc = cg_decode(&p, 1, fr, cases[i].caplen, sizeof fr, 1763856005000000ull, &ds);
        const char *name = cg_eve_decode_event_name(&p, rc);
        if (!cases[i].want) {
            CHECK(rc == CG_OK && name == NULL);
            CHECK_EQ_U(cg_eve_decode_anomaly(line, sizeof line, &p, rc), 0);
            continue;
        }
        CHECK_STR(name, cases[i].want);
        size_t n = cg_eve_decode_anomaly(line, sizeof line, &p, rc);
        CHECK(n > 0 && line[n - 1] == '\n');
        line[n] = 0;
        CHECK_STR(at(line, "event_type"), "anomaly");
        CHECK_STR(at(line, "anomaly.type"), "decode");
        CHECK_STR(at(line, "anomaly.event"), cases[i].want);
        CHECK_STR(at(line, "timestamp"), "2025-11-23T00:00:05.000000+0000");
        /* the addresses when the IP header was read */
        CHECK_STR(at(line, "src_ip"), p.ipver ? "10.20.1.10" : "");
    }
}

/* cg_eve_time against gmtime_r and strftime, around the leap days and
 * century years and at random times up to 2400 */
static void test_time(void)
{
    unsigned bad = 0;
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        uint64_t secs;
        if (i < 100000) {
            secs = (uint64_t)i * 86400u + (uint64_t)(i % 86400); /* every day 1970..2243 */
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            secs = x % 13569465600ull; /* up to 2400 */
        }
        uint64_t us = secs * 1000000u + (uint64_t)i % 1000000u;
        char got[40], want[40];
        cg_eve_time(us, got, sizeof got);
        time_t t = (time_t)secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + n, sizeof want - n, ".%06u+0000", (unsigned)(us % 1000000u));
        if (strcmp(got, want) && bad++ < 3)
            fprintf(stderr, "time %llu: %s, want %s\n", (unsigned long long)us, got, want);
    }
    CHECK_EQ_U(bad, 0);
    char small[11];
    cg_eve_time(1763856005123456ull, small, sizeof small);
    CHECK_STR(small, "2025-11-23");
}

/* cg_json_raw writes what snprintf would, its own way for the common
 * formats; cut output sets *pos to buflen */
static void test_raw(void)
{
    char got[256], want[256];
    size_t pos = 0;
    cg_json_raw(got, sizeof got, &pos, "{\"a\":%u,\"b\":%llu,\"c\":\"%s\",\"d\":%d,%c%%,%x,%lu",
                4294967295u, 18446744073709551615ull, "x y", -2147483647 - 1, 'z', 0xbeefu,
                123456789ul);
    snprintf(want, sizeof want, "{\"a\":%u,\"b\":%llu,\"c\":\"%s\",\"d\":%d,%c%%,%x,%lu",
             4294967295u, 18446744073709551615ull, "x y", -2147483647 - 1, 'z', 0xbeefu,
             123456789ul);
    CHECK_STR(got, want);
    CHECK_EQ_U(pos, strlen(want));
    cg_json_raw(got, sizeof got, &pos, "|%06u|%.3s|%5d|", 42u, "abcdef", 7); /* printf's */
    CHECK_STR(got + strlen(want), "|000042|abc|    7|");
    char small[8];
    pos = 0;
    cg_json_raw(small, sizeof small, &pos, "%s", "1234567");
    CHECK(pos == 7 && !strcmp(small, "1234567"));
    pos = 0;
    cg_json_raw(small, sizeof small, &pos, "%u", 12345678u);
    CHECK_EQ_U(pos, sizeof small);
    pos = 0;
    cg_json_raw(small, sizeof small, &pos, "abcdefgh");
    CHECK_EQ_U(pos, sizeof small);
    cg_json_raw(small, sizeof small, &pos, "x"); /* already full: nothing */
    CHECK_EQ_U(pos, sizeof small);
}

static void test_types(void)
{
    uint32_t m = 0;
    char bad[64];
    CHECK(cg_eve_types_parse("alert,dns", &m, bad, sizeof bad) == 0);
    CHECK_EQ_U(m, CG_EVE_T_ALERT | CG_INSPECT_EV_DNS);
    CHECK(cg_eve_types_parse(" all ", &m, bad, sizeof bad) == 0);
    CHECK_EQ_U(m, CG_EVE_T_ALL);
    CHECK(cg_eve_types_parse("http, tls ,flow,anomaly", &m, bad, sizeof bad) == 0);
    CHECK_EQ_U(m,
               CG_INSPECT_EV_HTTP | CG_INSPECT_EV_TLS | CG_INSPECT_EV_FLOW | CG_INSPECT_EV_ANOMALY);
    CHECK(cg_eve_types_parse("alert,foo", &m, bad, sizeof bad) == -1);
    CHECK_STR(bad, "foo");
    CHECK(cg_eve_types_parse("alert,,dns", &m, bad, sizeof bad) == -1);
    CHECK_STR(bad, "");
    CHECK_EQ_U(CG_EVE_T_DEFAULT, CG_EVE_T_ALL);
}

/* Without want_app the accessor has no context; a line too short for the
 * payload keeps the alert and leaves the payload out. */
static void test_no_context(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /?q=union%20select HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_EQ_U(count(&w, "alert"), 1);
    CHECK(w.had_info);
    CHECK_STR(w.url, "");
    int a = find(&w, "alert", 0);
    if (a >= 0) {
        CHECK_STR(at(w.lines[a], "http"), "");
        CHECK_STR(at(w.lines[a], "app_proto"), "http");
        CHECK_STR(at(w.lines[a], "payload_printable"), "/?q=union select");
    }
    cg_rule r;
    memset(&r, 0, sizeof r);
    r.sid = 1;
    r.msg = "m";
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ipver = 4;
    p.proto = 6;
    static uint8_t big[4000];
    memset(big, 'A', sizeof big);
    cg_alert_info ai = { .data = big, .len = sizeof big, .match_end = CG_ALERT_NO_MATCH };
    cg_eve_alert_extra x = { .to_server = 1, .ai = &ai, .fields = CG_EVE_F_PAYLOAD };
    char line[1200];
    size_t n = cg_eve_alert_ex(line, sizeof line, &p, &r, 1, "", 1, &x);
    CHECK(n > 0);
    line[n ? n : 0] = 0;
    CHECK_STR(at(line, "payload"), "");
    CHECK_STR(at(line, "direction"), "to_server");
    CHECK_STR(at(line, "layers"), "[ ]");
    char big_line[8000];
    n = cg_eve_alert_ex(big_line, sizeof big_line, &p, &r, 1, "", 1, &x);
    big_line[n] = 0;
    CHECK_EQ_U(strlen(at(big_line, "payload")), 4 * ((sizeof big + 2) / 3));
    world_free(&w);
}

int main(void)
{
    test_http();
    test_hits();
    test_dns();
    test_tls();
    test_anomalies();
    test_types();
    test_raw();
    test_time();
    test_no_context();
    return check_done("eve_proto");
}
