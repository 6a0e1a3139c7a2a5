/* test_appctx.c — unit tests of analyzer/appctx: the pool (take, touch,
 * release, the least recently used flow's slot taken when none is free and
 * its handle cleared, counters); HTTP fields copied and paired (a request
 * and its response, a pipelined request replacing an unanswered one, a
 * response to an earlier request not kept, Content-Type cut at ';', length
 * from Content-Length or the body); a URL longer than its room cut and
 * flagged; TLS hello, server hello and certificate fields and version names;
 * a DNS message's header and first question; the excerpt around a match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/engine/appctx.h"
#include "tests/check.h"

static void add(cg_bufset *bs, int id, const char *s)
{
    cg_bufset_add(bs, id, (const uint8_t *)s, (uint32_t)strlen(s));
}

static int text_eq(const char *s, uint16_t len, const char *want)
{
    return len == strlen(want) && memcmp(s, want, len) == 0;
}
#define TEXT_IS(f, want) CHECK(text_eq((f).s, (f).len, want))

static void test_pool(void)
{
    cg_appctx_pool *p;
    CHECK(cg_appctx_pool_create(&p, 3) == 0);
    uint32_t h[5] = { 0 };
    cg_appctx *a = cg_appctx_take(p, &h[0]);
    CHECK(a != NULL && h[0] != 0);
    a->http.status = 200;
    CHECK(cg_appctx_take(p, &h[0]) == a); /* the same slot again */
    CHECK(cg_appctx_of(p, h[0]) == a);
    CHECK(cg_appctx_of(p, 0) == NULL);
    cg_appctx_take(p, &h[1]);
    cg_appctx_take(p, &h[2]);
    cg_appctx_take(p, &h[0]); /* touched: 1 is now the oldest */
    cg_appctx_stats st;
    cg_appctx_pool_stats(p, &st);
    CHECK_EQ_U(st.used, 3);
    CHECK_EQ_U(st.steals, 0);
    cg_appctx *d = cg_appctx_take(p, &h[3]); /* none free: 1's slot */
    CHECK_EQ_U(h[1], 0);
    CHECK(h[0] != 0 && h[2] != 0 && h[3] != 0);
    CHECK_EQ_U(d->http.status, 0); /* zeroed for its new flow */
    CHECK(cg_appctx_of(p, h[0]) == a && a->http.status == 200);
    cg_appctx_pool_stats(p, &st);
    CHECK_EQ_U(st.steals, 1);
    CHECK_EQ_U(st.taken, 4);
    CHECK_EQ_U(st.peak, 3);
    cg_appctx_release(p, &h[2]);
    CHECK_EQ_U(h[2], 0);
    cg_appctx_release(p, &h[2]); /* twice: nothing */
    cg_appctx_take(p, &h[4]);    /* the freed slot, no steal */
    cg_appctx_pool_stats(p, &st);
    CHECK_EQ_U(st.steals, 1);
    CHECK_EQ_U(st.used, 3);
    /* many flows round robin over a small pool: every handle stays coherent */
    uint32_t hs[50] = { 0 };
    unsigned bad = 0;
    for (int r = 0; r < 2000; r++) {
        int k = (r * 7) % 50;
        cg_appctx *c = cg_appctx_take(p, &hs[k]);
        c->dns.id = (uint16_t)k;
        for (int j = 0; j < 50; j++)
            if (hs[j] && cg_appctx_of(p, hs[j])->dns.id != j)
                bad++;
        if (r % 5 == 0)
            cg_appctx_release(p, &hs[(r * 3) % 50]);
    }
    CHECK_EQ_U(bad, 0);
    for (int j = 0; j < 50; j++)
        cg_appctx_release(p, &hs[j]);
    cg_appctx_release(p, &h[0]);
    cg_appctx_release(p, &h[3]);
    cg_appctx_release(p, &h[4]);
    cg_appctx_pool_stats(p, &st);
    CHECK_EQ_U(st.used, 0);
    cg_appctx_pool_destroy(p);
    cg_appctx_pool_destroy(NULL);
}

static void test_http(void)
{
    cg_appctx c;
    memset(&c, 0, sizeof c);
    cg_bufset rq, rs;
    cg_bufset_clear(&rq);
    add(&rq, CG_BUF_HTTP_METHOD, "GET");
    add(&rq, CG_BUF_HTTP_URI_RAW, "/dvwa/?id=1%27+union+select+1");
    add(&rq, CG_BUF_HTTP_URI, "/dvwa/?id=1'+union+select+1");
    add(&rq, CG_BUF_HTTP_HOST, "dichvucong.tuyenquang.gov.vn");
    add(&rq, CG_BUF_HTTP_USER_AGENT, "sqlmap/1.7");
    add(&rq, CG_BUF_HTTP_PROTOCOL, "HTTP/1.1");
    add(&rq, CG_BUF_HTTP_REFERER, "http://a/");
    cg_appctx_http_request(&c, &rq);
    CHECK_EQ_U(c.http.has_request, 1);
    CHECK_EQ_U(c.http.has_response, 0);
    TEXT_IS(c.http.method, "GET");
    TEXT_IS(c.http.url, "/dvwa/?id=1%27+union+select+1"); /* the raw target */
    TEXT_IS(c.http.host, "dichvucong.tuyenquang.gov.vn");
    TEXT_IS(c.http.ua, "sqlmap/1.7");
    TEXT_IS(c.http.protocol, "HTTP/1.1");
    TEXT_IS(c.http.referer, "http://a/");
    CHECK(cg_appctx_http_unlogged(&c));

    cg_bufset_clear(&rs);
    add(&rs, CG_BUF_HTTP_PROTOCOL, "HTTP/1.1");
    add(&rs, CG_BUF_HTTP_STAT_CODE, "200");
    add(&rs, CG_BUF_HTTP_CONTENT_TYPE, "text/html; charset=utf-8");
    add(&rs, CG_BUF_HTTP_CONTENT_LEN, "1234");
    add(&rs, CG_BUF_HTTP_RESPONSE_BODY, "short");
    CHECK_EQ_U(cg_appctx_http_response(&c, &rs), 1);
    CHECK_EQ_U(c.http.status, 200);
    TEXT_IS(c.http.ctype, "text/html");
    CHECK_EQ_U(c.http.length, 1234);
    TEXT_IS(c.http.protocol, "HTTP/1.1");
    c.http.logged = 1;
    CHECK(!cg_appctx_http_unlogged(&c));
    /* a second response to the same request: not kept */
    CHECK_EQ_U(cg_appctx_http_response(&c, &rs), 0);

    /* the next request clears the response; without Content-Length the
     * length is the body's */
    cg_bufset_clear(&rq);
    add(&rq, CG_BUF_HTTP_METHOD, "POST");
    add(&rq, CG_BUF_HTTP_URI_RAW, "/login");
    cg_appctx_http_request(&c, &rq);
    CHECK_EQ_U(c.http.status, 0);
    CHECK_EQ_U(c.http.ctype.len, 0);
    CHECK_EQ_U(c.http.host.len, 0); /* absent in this request */
    cg_bufset_clear(&rs);
    add(&rs, CG_BUF_HTTP_STAT_CODE, "302");
    add(&rs, CG_BUF_HTTP_RESPONSE_BODY, "moved");
    CHECK_EQ_U(cg_appctx_http_response(&c, &rs), 1);
    CHECK_EQ_U(c.http.status, 302);
    CHECK_EQ_U(c.http.length, 5);

    /* pipelined: two requests, then their responses: the second request is
     * held, the first response is an earlier request's */
    memset(&c, 0, sizeof c);
    cg_bufset_clear(&rq);
    add(&rq, CG_BUF_HTTP_URI_RAW, "/one");
    cg_appctx_http_request(&c, &rq);
    cg_bufset_clear(&rq);
    add(&rq, CG_BUF_HTTP_URI_RAW, "/two");
    cg_appctx_http_request(&c, &rq);
    TEXT_IS(c.http.url, "/two");
    cg_bufset_clear(&rs);
    add(&rs, CG_BUF_HTTP_STAT_CODE, "404");
    CHECK_EQ_U(cg_appctx_http_response(&c, &rs), 0);
    CHECK_EQ_U(c.http.has_response, 0);
    cg_bufset_clear(&rs);
    add(&rs, CG_BUF_HTTP_STAT_CODE, "201");
    CHECK_EQ_U(cg_appctx_http_response(&c, &rs), 1);
    CHECK_EQ_U(c.http.status, 201);
    /* a response with no request seen (a flow picked up midstream) */
    memset(&c, 0, sizeof c);
    CHECK_EQ_U(cg_appctx_http_response(&c, &rs), 0);

    /* a URL past its room: cut, flagged; the next request clears the flag */
    static char url[3000];
    memset(url, 'a', sizeof url - 1);
    url[0] = '/';
    cg_bufset_clear(&rq);
    add(&rq, CG_BUF_HTTP_URI_RAW, url);
    cg_appctx_http_request(&c, &rq);
    CHECK_EQ_U(c.http.url.len, CG_APPCTX_URL);
    CHECK(c.truncated & CG_APPCTX_T_URL);
    cg_bufset_clear(&rq);
    add(&rq, CG_BUF_HTTP_URI_RAW, "/");
    cg_appctx_http_request(&c, &rq);
    CHECK(!(c.truncated & CG_APPCTX_T_URL));
}

static void test_tls(void)
{
    cg_appctx c;
    memset(&c, 0, sizeof c);
    cg_bufset b;
    cg_bufset_clear(&b);
    add(&b, CG_BUF_TLS_SNI, "portal.tuyenquang.gov.vn");
    add(&b, CG_BUF_JA3_HASH, "e7d705a3286e19ea42f587b344ee6865");
    add(&b, CG_BUF_JA3_STRING, "771,49195-49199,0-10-11,29-23,0");
    b.tls_version = 0x0304;
    cg_appctx_tls_message(&c, &b, 1);
    CHECK_EQ_U(c.tls.client_hello, 1);
    TEXT_IS(c.tls.sni, "portal.tuyenquang.gov.vn");
    TEXT_IS(c.tls.ja3_hash, "e7d705a3286e19ea42f587b344ee6865");
    TEXT_IS(c.tls.ja3, "771,49195-49199,0-10-11,29-23,0");
    CHECK_EQ_U(cg_appctx_tls_version(&c), 0x0304);
    cg_bufset_clear(&b);
    add(&b, CG_BUF_JA3S_HASH, "15af977ce25de452b96affa2addb1036");
    add(&b, CG_BUF_JA3S_STRING, "771,49199,65281-0");
    b.tls_version = 0x0303;
    cg_appctx_tls_message(&c, &b, 0);
    CHECK_EQ_U(c.tls.server_hello, 1);
    TEXT_IS(c.tls.ja3s, "771,49199,65281-0");
    CHECK_EQ_U(cg_appctx_tls_version(&c), 0x0303); /* the server's choice */
    cg_bufset_clear(&b);
    add(&b, CG_BUF_TLS_CERTS, "\x30\x82");
    add(&b, CG_BUF_TLS_CERT_SUBJECT, "C=VN, CN=portal.tuyenquang.gov.vn");
    add(&b, CG_BUF_TLS_CERT_ISSUER, "C=VN, O=Test CA");
    add(&b, CG_BUF_TLS_CERT_SERIAL, "07");
    cg_appctx_tls_message(&c, &b, 0);
    CHECK_EQ_U(c.tls.certificate, 1);
    TEXT_IS(c.tls.subject, "C=VN, CN=portal.tuyenquang.gov.vn");
    TEXT_IS(c.tls.issuerdn, "C=VN, O=Test CA");
    TEXT_IS(c.tls.serial, "07");
    TEXT_IS(c.tls.sni, "portal.tuyenquang.gov.vn"); /* kept */
    char v[24];
    CHECK_STR(cg_appctx_tls_version_name(0x0303, v, sizeof v), "TLS 1.2");
    CHECK_STR(cg_appctx_tls_version_name(0x0301, v, sizeof v), "TLSv1");
    CHECK_STR(cg_appctx_tls_version_name(0x0300, v, sizeof v), "SSLv3");
    CHECK_STR(cg_appctx_tls_version_name(0x7f1c, v, sizeof v), "TLS 1.3 draft-28");
    CHECK_STR(cg_appctx_tls_version_name(0x0a0a, v, sizeof v), "0x0a0a");
    CHECK_STR(cg_appctx_tls_version_name(0, v, sizeof v), "UNDETERMINED");
}

static void test_dns(void)
{
    cg_appctx c;
    memset(&c, 0, sizeof c);
    cg_dns_msg m;
    memset(&m, 0, sizeof m);
    m.id = 0x4242;
    m.flags = 0x8183;
    m.qr = 1;
    m.rcode = 3;
    static cg_dns_detail det;
    det.nq = 1;
    det.q[0] = (cg_dns_question){ "aGVsbG8.t.evil.example", 22, 16 };
    cg_appctx_dns_message(&c, &m, &det);
    CHECK_EQ_U(c.dns.present, 1);
    CHECK_EQ_U(c.dns.qr, 1);
    CHECK_EQ_U(c.dns.id, 0x4242);
    CHECK_EQ_U(c.dns.rcode, 3);
    CHECK_EQ_U(c.dns.has_query, 1);
    CHECK_EQ_U(c.dns.rrtype, 16);
    TEXT_IS(c.dns.rrname, "aGVsbG8.t.evil.example");
    det.nq = 0;
    cg_appctx_dns_message(&c, &m, &det);
    CHECK_EQ_U(c.dns.has_query, 0);
    CHECK_EQ_U(c.dns.rrname.len, 0);
}

static void test_excerpt(void)
{
    static uint8_t data[3000];
    for (uint32_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    cg_alert_info ai = { .data = data, .len = sizeof data, .match_end = 1500 };
    const uint8_t *p;
    uint32_t at;
    uint32_t n = cg_alert_excerpt(&ai, 0, &p, &at);
    CHECK_EQ_U(n, CG_ALERT_EXCERPT_DEFAULT);
    CHECK(p == data + 1500 - 128);
    CHECK_EQ_U(at, 128);
    CHECK(p + at == data + 1500);
    /* near the start and the end: moved to stay within the data */
    ai.match_end = 10;
    n = cg_alert_excerpt(&ai, 100, &p, &at);
    CHECK(n == 100 && p == data && at == 10);
    ai.match_end = 2990;
    n = cg_alert_excerpt(&ai, 100, &p, &at);
    CHECK(n == 100 && p == data + 2900 && at == 90);
    /* at most 1024 */
    n = cg_alert_excerpt(&ai, 5000, &p, &at);
    CHECK_EQ_U(n, CG_ALERT_EXCERPT_MAX);
    CHECK(p + at == data + 2990);
    /* no match known: the first bytes */
    ai.match_end = CG_ALERT_NO_MATCH;
    n = cg_alert_excerpt(&ai, 64, &p, &at);
    CHECK(n == 64 && p == data && at == CG_ALERT_NO_MATCH);
    /* shorter than max: all of it */
    ai.len = 20;
    ai.match_end = 15;
    n = cg_alert_excerpt(&ai, 256, &p, &at);
    CHECK(n == 20 && p == data && at == 15);
    /* nothing */
    ai.data = NULL;
    ai.len = 0;
    CHECK_EQ_U(cg_alert_excerpt(&ai, 256, &p, &at), 0);
}

int main(void)
{
    test_pool();
    test_http();
    test_tls();
    test_dns();
    test_excerpt();
    return check_done("appctx");
}
