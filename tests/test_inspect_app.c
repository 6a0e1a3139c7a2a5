/* test_inspect_app.c — detection on application transactions, end to end
 * through the worker (flow, reassembly, parsers, detection), with the sids and
 * counts a rule writer expects: HTTP headers split across segments, a
 * percent-encoded URI, pipelined requests, HTTP on a non-standard port, a
 * chunked gzip response body, flowbits and flowint across requests of one
 * flow, DNS over UDP and over TCP, TLS SNI and certificate subject; rules that match
 * raw payload bytes beside HTTP buffers; a body named twice scanned once;
 * smtp, ftp, ssh and smb rules on the flows their first bytes tell; a
 * base64 value of a request body decoded (base64_decode, base64_data). */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "analyzer/engine/inspect.h"
#include "analyzer/lang/rule.h"
#include "tests/check.h"
#include "tests/util_conn.h"

static const char *const rules[] = {
    "alert http any any -> any any (msg:\"uri union select\"; flow:established,to_server; "
    "http.uri; content:\"union select\"; nocase; sid:101;)",
    "alert http any any -> any any (msg:\"sqlmap\"; flow:established,to_server; "
    "http.user_agent; content:\"sqlmap/\"; sid:102;)",
    "alert http any any -> any any (msg:\"admin page\"; flow:established,to_server; "
    "http.method; content:\"GET\"; http.uri; content:\"/admin\"; startswith; sid:103;)",
    "alert http any any -> any any (msg:\"citizen id in a body\"; flow:established,to_client; "
    "file.data; content:\"can_cuoc=\"; pcre:\"/^[0-9]{12}/R\"; sid:104;)",
    "alert http any any -> any any (msg:\"login seen\"; flow:established,to_server; "
    "http.uri; content:\"/login\"; flowbits:set,cg.login; flowbits:noalert; sid:105;)",
    "alert http any any -> any any (msg:\"export after login\"; flow:established,to_server; "
    "http.uri; content:\"/export\"; flowbits:isset,cg.login; sid:106;)",
    "alert dns any any -> any any (msg:\"tunnel domain\"; dns.query; content:\"t.evil.example\"; "
    "endswith; sid:107;)",
    "alert tls any any -> any any (msg:\"portal sni\"; flow:established,to_server; tls.sni; "
    "content:\"dichvucong.tuyenquang.gov.vn\"; bsize:28; sid:108;)",
    "alert tls any any -> any any (msg:\"test CA issued\"; tls.cert_subject; "
    "content:\"CN=portal.tuyenquang.gov.vn\"; sid:109;)",
    /* raw payload beside an HTTP buffer: the fast pattern (the longest
     * content) is in the payload for 110, in http.uri for 111 */
    "alert http any any -> any any (msg:\"raw token with an upload\"; flow:established,to_server; "
    "content:\"X-Trace-Token-Backdoor-7f3a\"; http.uri; content:\"/upload\"; sid:110;)",
    "alert http any any -> any any (msg:\"raw marker with a long uri\"; "
    "flow:established,to_server; "
    "content:\"ZQ9\"; http.uri; content:\"/cgi-bin/portal/export.cgi\"; sid:111;)",
    "alert http any any -> any any (msg:\"body marker\"; flow:established,to_client; "
    "http.response_body; content:\"bi-mat-nha-nuoc\"; sid:112;)",
    /* protocols told by their first bytes: payload rules of those flows only */
    "alert smtp any any -> any any (msg:\"mail out\"; flow:established,to_server; "
    "content:\"X-Leak: cccd\"; sid:120;)",
    "alert ftp any any -> any any (msg:\"ftp root\"; flow:established,to_server; "
    "content:\"USER root\"; nocase; sid:121;)",
    "alert ssh any any -> any any (msg:\"libssh client\"; flow:established,to_server; "
    "content:\"SSH-\"; content:\"libssh\"; within:20; sid:122;)",
    "alert smb any any -> any any (msg:\"smb1 negotiate\"; flow:established,to_server; "
    "content:\"|ff|SMB|72|\"; offset:4; depth:5; sid:123;)",
    "alert tcp any any -> any any (msg:\"app smtp\"; flow:established,to_server; "
    "app-layer-protocol:smtp; content:\"RCPT TO\"; sid:124;)",
    "alert http any any -> any any (msg:\"saml entity\"; flow:established,to_server; "
    "http.request_body; content:\"SAMLRequest=\"; base64_decode:bytes 64,offset 0,relative; "
    "base64_data; content:\"<!ENTITY\"; sid:125;)",
    "alert http any any -> any any (msg:\"dll count\"; flow:established,to_server; "
    "http.uri; content:\".dll\"; flowint:dlls,+,1; noalert; sid:126;)",
    "alert http any any -> any any (msg:\"third dll\"; flow:established,to_server; "
    "http.uri; content:\".dll\"; flowint:dlls,>=,3; sid:127;)",
    "alert http any any -> any any (msg:\"smuggled\"; flow:established,to_server; "
    "app-layer-event:http.invalid_transfer_encoding_value_in_request; http.uri; "
    "content:\"/tmui/\"; sid:128;)",
    /* dns.opcode alone, and with a dns.query content */
    "alert dns any any -> any any (msg:\"dns update\"; dns.opcode:5; sid:129;)",
    "alert dns any any -> any any (msg:\"notify for a zone\"; dns.opcode:4; dns.query; "
    "content:\"tuyenquang\"; sid:130;)",
    "alert tls any any -> any any (msg:\"old tls\"; tls.version:1.0; sid:131;)", NULL
};

typedef struct world {
    cg_ruleset *rs;
    cg_detect *d;
    cg_inspect *in;
    char sids[1024];
    tconn c;
} world;

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    world *w = ctx;
    (void)p;
    (void)f;
    (void)to_server;
    (void)stream;
    size_t l = strlen(w->sids);
    snprintf(w->sids + l, sizeof w->sids - l, "%u,", r->sid);
}

static int world_make(world *w)
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
    cfg.on_alert = on_alert;
    cfg.ctx = w;
    if (cg_detect_build(&w->d, w->rs, NULL, err, sizeof err) ||
        cg_inspect_create(&w->in, w->d, &cfg, err, sizeof err)) {
        fprintf(stderr, "world: %s\n", err);
        return -1;
    }
    tconn_init(&w->c, w->in);
    return 0;
}

static void world_free(world *w)
{
    cg_inspect_destroy(w->in);
    cg_detect_destroy(w->d);
    cg_ruleset_destroy(w->rs);
}

static void sends(world *w, int to_server, const char *s)
{
    tconn_send(&w->c, to_server, s, (uint32_t)strlen(s));
}

static const char *take(world *w)
{
    static char out[1024];
    snprintf(out, sizeof out, "%s", w->sids);
    w->sids[0] = 0;
    return out;
}

static void test_http(void)
{
    world w;
    CHECK(world_make(&w) == 0);
    if (!w.in)
        return;

    /* headers split across segments, a percent-encoded URI */
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /tra-cuu?id=1%20UNION%20SEL");
    sends(&w, 1, "ECT%201 HTTP/1.1\r\nHost: dichvucong.tuyenquang.gov.vn\r\nUser-Agent: sql");
    CHECK_STR(take(&w), "");
    sends(&w, 1, "map/1.7.2#stable (https://sqlmap.org)\r\nAccept: */*\r\n\r\n");
    CHECK_STR(take(&w), "101,102,");
    tconn_close(&w.c);

    /* pipelined: two requests in one segment, one alert each */
    tconn_connect(&w.c, 80);
    sends(&w, 1,
          "GET /admin/users HTTP/1.1\r\nHost: a\r\n\r\nGET /admin/logs HTTP/1.1\r\n"
          "Host: a\r\n\r\nPOST /admin/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    CHECK_STR(take(&w), "103,103,");
    tconn_close(&w.c);

    /* a base64 value decoded in a body split over two segments */
    tconn_connect(&w.c, 80);
    sends(&w, 1,
          "POST /sso HTTP/1.1\r\nHost: a\r\nContent-Length: 84\r\n\r\nSAMLRequest="
          "PCFET0NUWVBFIHIgWzwhRU5USVRZ");
    CHECK_STR(take(&w), "");
    sends(&w, 1, "IHggU1lTVEVNICJmaWxlOi8vL2V0Yy9wYXNzd2QiPl0+");
    CHECK_STR(take(&w), "125,");
    tconn_close(&w.c);

    /* a parser event: Transfer-Encoding named twice */
    tconn_connect(&w.c, 80);
    sends(&w, 1,
          "POST /tmui/login.jsp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          "\r\n0\r\n\r\n");
    CHECK_STR(take(&w), "");
    sends(&w, 1,
          "POST /tmui/login.jsp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CHECK_STR(take(&w), "128,");
    tconn_close(&w.c);

    /* flowint across the requests of one flow; a new flow starts again */
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /a/sqlite3.dll HTTP/1.1\r\nHost: a\r\n\r\n");
    sends(&w, 1, "GET /a/mozglue.dll HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "");
    sends(&w, 1, "GET /a/freebl3.dll HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "127,");
    tconn_close(&w.c);
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /a/nss3.dll HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "");
    tconn_close(&w.c);

    /* a non-standard port: recognised by its bytes */
    tconn_connect(&w.c, 8081);
    sends(&w, 1, "GET /q?x=union+select HTTP/1.0\r\n\r\n");
    CHECK_STR(take(&w), ""); /* '+' is not decoded in a path query (libhtp) */
    sends(&w, 1, "GET /q?x=union%20select HTTP/1.0\r\n\r\n");
    CHECK_STR(take(&w), "101,");
    tconn_close(&w.c);

    /* a chunked, gzip-compressed response body */
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /ho-so HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n");
    const char *plain = "<html>ho_ten=Nguyen+Van+A&can_cuoc=079204001234&ok</html>";
    uint8_t gz[256];
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    z.next_in = (Bytef *)plain;
    z.avail_in = (uInt)strlen(plain);
    z.next_out = gz;
    z.avail_out = sizeof gz;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    uint32_t gzlen = (uint32_t)z.total_out;
    deflateEnd(&z);
    char head[256];
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
             "Transfer-Encoding: chunked\r\n\r\n%x\r\n",
             gzlen / 2);
    sends(&w, 0, head);
    tconn_send(&w.c, 0, gz, gzlen / 2);
    snprintf(head, sizeof head, "\r\n%x\r\n", gzlen - gzlen / 2);
    sends(&w, 0, head);
    tconn_send(&w.c, 0, gz + gzlen / 2, gzlen - gzlen / 2);
    CHECK_STR(take(&w), "");
    sends(&w, 0, "\r\n0\r\n\r\n");
    CHECK_STR(take(&w), "104,");
    tconn_close(&w.c);

    /* flowbits: the export alerts only after a login on the same flow */
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /export?all=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "");
    sends(&w, 1, "POST /login HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nu=a");
    CHECK_STR(take(&w), ""); /* noalert */
    sends(&w, 1, "GET /export?all=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "106,");
    tconn_close(&w.c);
    tconn_connect(&w.c, 80); /* a new flow starts with no bits */
    sends(&w, 1, "GET /export?all=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "");
    tconn_close(&w.c);

    /* raw payload bytes beside HTTP buffers: both must hold, in one request */
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /upload HTTP/1.1\r\nHost: a\r\nX-Trace-Token-Backdoor-7f3a: 1\r\n\r\n");
    CHECK_STR(take(&w), "110,");
    sends(&w, 1, "GET /download HTTP/1.1\r\nHost: a\r\nX-Trace-Token-Backdoor-7f3a: 1\r\n\r\n");
    sends(&w, 1, "GET /cgi-bin/portal/export.cgi HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "");
    sends(&w, 1, "GET /cgi-bin/portal/export.cgi?k=ZQ9 HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "111,");
    tconn_close(&w.c);

    /* a response body: file.data and http.response_body are scanned once */
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /tai-lieu HTTP/1.1\r\nHost: a\r\n\r\n");
    cg_inspect_stats st0;
    cg_inspect_get_stats(w.in, &st0);
    sends(&w, 0, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nx bi-mat-nha-nuoc y");
    sends(&w, 0, "\n");
    CHECK_STR(take(&w), "112,");
    cg_inspect_stats st;
    cg_inspect_get_stats(w.in, &st);
    /* no rule here has a fast pattern in a response header: the 20 body
     * bytes, once */
    CHECK_EQ_U(st.detect.tx_scanned_bytes - st0.detect.tx_scanned_bytes, 20);
    tconn_close(&w.c);

    cg_inspect_get_stats(w.in, &st);
    CHECK(st.http.requests >= 10);
    CHECK(st.detect.transactions >= 10);
    world_free(&w);
}

/* A DNS message with opcode op and one question for name (labels from dots),
 * id 0x1234. */
static uint32_t dns_query_op(uint8_t *b, const char *name, unsigned op)
{
    static const uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    memcpy(b, hdr, 12);
    b[2] = (uint8_t)(b[2] | (op << 3));
    uint32_t n = 12;
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        uint32_t l = dot ? (uint32_t)(dot - s) : (uint32_t)strlen(s);
        b[n++] = (uint8_t)l;
        memcpy(b + n, s, l);
        n += l;
        s += l + (dot ? 1 : 0);
    }
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = 16; /* TXT */
    b[n++] = 0;
    b[n++] = 1;
    return n;
}

/* A standard query (opcode 0). */
static uint32_t dns_query(uint8_t *b, const char *name)
{
    return dns_query_op(b, name, 0);
}

static void test_dns(void)
{
    world w;
    CHECK(world_make(&w) == 0);
    if (!w.in)
        return;
    uint8_t q[300];
    /* over UDP */
    w.c.udp = 1;
    w.c.cport = 53001;
    w.c.sport = 53;
    uint32_t n = dns_query(q, "aGVsbG8gd29ybGQ.t.evil.example");
    tconn_send_at(&w.c, 1, 0, 0, q, n);
    CHECK_STR(take(&w), "107,");
    n = dns_query(q, "t.evil.example.org");
    tconn_send_at(&w.c, 1, 0, 0, q, n);
    CHECK_STR(take(&w), ""); /* endswith */
    /* over TCP, the length prefix and the message split over two segments */
    tconn_connect(&w.c, 53);
    uint8_t framed[302];
    n = dns_query(framed + 2, "x1.t.evil.example");
    framed[0] = (uint8_t)(n >> 8);
    framed[1] = (uint8_t)n;
    tconn_send(&w.c, 1, framed, 7);
    CHECK_STR(take(&w), "");
    tconn_send(&w.c, 1, framed + 7, n + 2 - 7);
    CHECK_STR(take(&w), "107,");
    tconn_close(&w.c);

    /* dns.opcode on its own matches a DNS message of that opcode (an
     * UPDATE), with a dns.query content too (a NOTIFY) */
    w.c.udp = 1;
    w.c.cport = 53002;
    w.c.sport = 53;
    n = dns_query_op(q, "tuyenquang.gov.vn", 5);
    tconn_send_at(&w.c, 1, 0, 0, q, n);
    CHECK_STR(take(&w), "129,");
    n = dns_query_op(q, "tuyenquang.gov.vn", 4);
    tconn_send_at(&w.c, 1, 0, 0, q, n);
    CHECK_STR(take(&w), "130,");
    n = dns_query_op(q, "example.org", 4);
    tconn_send_at(&w.c, 1, 0, 0, q, n);
    CHECK_STR(take(&w), "");
    n = dns_query(q, "tuyenquang.gov.vn");
    tconn_send_at(&w.c, 1, 0, 0, q, n);
    CHECK_STR(take(&w), "");
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

/* A TLS record of one handshake message. */
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
    CHECK(world_make(&w) == 0);
    if (!w.in)
        return;
    static const char sni[] = "dichvucong.tuyenquang.gov.vn";
    wb ch = { .n = 0 }, rec = { .n = 0 };
    put16(&ch, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(&ch, i);
    put8(&ch, 0); /* session id */
    put16(&ch, 4);
    put16(&ch, 0xc02f);
    put16(&ch, 0x002f);
    put8(&ch, 1);
    put8(&ch, 0); /* compression */
    uint32_t sl = (uint32_t)strlen(sni);
    put16(&ch, sl + 9); /* extensions */
    put16(&ch, 0);
    put16(&ch, sl + 5);
    put16(&ch, sl + 3);
    put8(&ch, 0);
    put16(&ch, sl);
    putb(&ch, sni, sl);
    record(&rec, 1, &ch);

    tconn_connect(&w.c, 443);
    tconn_send(&w.c, 1, rec.b, 20); /* the hello split over two segments */
    CHECK_STR(take(&w), "");
    tconn_send(&w.c, 1, rec.b + 20, rec.n - 20);
    CHECK_STR(take(&w), "108,");

    /* ServerHello and a Certificate (TLS 1.2, in clear) */
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"VN", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
                               (const unsigned char *)"portal.tuyenquang.gov.vn", -1, -1, 0);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, nm);
    X509_set_pubkey(x, key);
    CHECK(X509_sign(x, key, EVP_sha256()) > 0);
    uint8_t *der = NULL;
    int dlen = i2d_X509(x, &der);
    CHECK(dlen > 0 && dlen < 2000);
    wb sh = { .n = 0 }, cert = { .n = 0 }, srv = { .n = 0 };
    put16(&sh, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(&sh, 0x40 + i);
    put8(&sh, 0);
    put16(&sh, 0xc02f);
    put8(&sh, 0);
    record(&srv, 2, &sh);
    put24(&cert, (unsigned)dlen + 3);
    put24(&cert, (unsigned)dlen);
    putb(&cert, der, (uint32_t)dlen);
    record(&srv, 11, &cert);
    tconn_send(&w.c, 0, srv.b, 100);
    tconn_send(&w.c, 0, srv.b + 100, srv.n - 100);
    CHECK_STR(take(&w), "109,");
    tconn_close(&w.c);

    /* tls.version on its own: a TLS 1.0 ClientHello, not the 1.2 one above */
    ch.b[0] = 3;
    ch.b[1] = 1;
    rec.n = 0;
    record(&rec, 1, &ch);
    tconn_connect(&w.c, 443);
    tconn_send(&w.c, 1, rec.b, rec.n);
    CHECK_STR(take(&w), "108,131,");
    tconn_close(&w.c);
    OPENSSL_free(der);
    X509_NAME_free(nm);
    X509_free(x);
    EVP_PKEY_free(key);
    world_free(&w);
}

/* smtp, ftp, ssh and smb rules match the payload of flows whose first bytes
 * say that protocol, and never the same bytes in another protocol. */
static void test_told_by_bytes(void)
{
    world w;
    CHECK(world_make(&w) == 0);
    if (!w.in)
        return;
    /* SMTP on its port and on another: told by the greeting or by EHLO */
    for (int i = 0; i < 2; i++) {
        tconn_connect(&w.c, i ? 2525 : 25);
        sends(&w, 0,
              i ? "220 mail.tuyenquang.gov.vn ready\r\n"
                : "220 mail.tuyenquang.gov.vn ESMTP Postfix\r\n");
        sends(&w, 1, "EHLO pc\r\n");
        sends(&w, 0, "250 ok\r\n");
        sends(&w, 1, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
        sends(&w, 1, "Subject: x\r\nX-Leak: cccd 001203000123\r\n\r\n.\r\n");
        CHECK_STR(take(&w), "124,120,");
        tconn_close(&w.c);
    }
    /* the same bytes on an HTTP flow: neither */
    tconn_connect(&w.c, 80);
    sends(&w, 1,
          "POST /mail HTTP/1.1\r\nHost: a\r\nContent-Length: 36\r\n\r\n"
          "RCPT TO:<c@d>\r\nX-Leak: cccd 0012\r\n");
    CHECK_STR(take(&w), "");
    tconn_close(&w.c);

    /* FTP: a greeting naming FTP, or a "220" greeting and an FTP command */
    tconn_connect(&w.c, 21);
    sends(&w, 0, "220 (vsFTPd 3.0.3)\r\n");
    sends(&w, 1, "USER root\r\n");
    CHECK_STR(take(&w), "121,");
    tconn_close(&w.c);
    tconn_connect(&w.c, 2121);
    sends(&w, 0, "220 Welcome\r\n");
    sends(&w, 1, "USER root\r\n");
    CHECK_STR(take(&w), "121,");
    tconn_close(&w.c);
    /* USER with no greeting (an IRC client, say) is not FTP */
    tconn_connect(&w.c, 6667);
    sends(&w, 1, "USER root 0 * :x\r\n");
    sends(&w, 0, ":irc NOTICE * :hi\r\n");
    CHECK_STR(take(&w), "");
    tconn_close(&w.c);

    /* SSH on any port */
    tconn_connect(&w.c, 2222);
    sends(&w, 0, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
    sends(&w, 1, "SSH-2.0-libssh_0.9.6\r\n");
    CHECK_STR(take(&w), "122,");
    tconn_close(&w.c);
    /* the banner text inside an HTTP request is not SSH */
    tconn_connect(&w.c, 80);
    sends(&w, 1, "GET /SSH-2.0-libssh HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK_STR(take(&w), "");
    tconn_close(&w.c);

    /* SMB: the NetBIOS session header, then the SMB1 negotiate */
    static const uint8_t neg[] = { 0,   0,   0,    0x2f, 0xff, 'S', 'M', 'B', 0x72, 0,    0,
                                   0,   0,   0x18, 0x53, 0xc8, 0,   0,   0,   0,    0,    0,
                                   0,   0,   0,    0,    0,    0,   0,   0,   0xff, 0xfe, 0,
                                   0,   0,   0,    0,    0x0c, 0,   2,   'N', 'T',  ' ',  'L',
                                   'M', ' ', '0',  '.',  '1',  '2', 0 };
    tconn_connect(&w.c, 445);
    tconn_send(&w.c, 1, neg, sizeof neg);
    CHECK_STR(take(&w), "123,");
    tconn_close(&w.c);
    world_free(&w);
}

int main(void)
{
    test_told_by_bytes();
    test_http();
    test_dns();
    test_tls();
    return check_done("inspect_app");
}
