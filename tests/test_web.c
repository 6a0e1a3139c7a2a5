/* test_web.c — the console's pure parts: percent-decoding, the query string,
 * cookies, the path rule, the access log's redaction (web_http.c); sessions
 * and the login limiter on a fake clock, the constant-time compare
 * (web_session.c); the JSON body's limits (web_json.c). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "tools/web_http.h"
#include "tools/web_json.h"
#include "tools/web_session.h"

#define S 1000000ull /* a second, in the clock's microseconds */

static void test_pct(void)
{
    char out[32];
    CHECK_EQ_U(cg_web_pct_decode("a%20b+c", 7, out, sizeof out, 1), 5);
    CHECK_STR(out, "a b c");
    CHECK_EQ_U(cg_web_pct_decode("a%20b+c", 7, out, sizeof out, 0), 5);
    CHECK_STR(out, "a b+c");
    CHECK(cg_web_pct_decode("%4", 2, out, sizeof out, 0) < 0);
    CHECK(cg_web_pct_decode("%", 1, out, sizeof out, 0) < 0);
    CHECK(cg_web_pct_decode("%zz", 3, out, sizeof out, 0) < 0);
    CHECK(cg_web_pct_decode("a%00b", 5, out, sizeof out, 0) < 0);
    CHECK(cg_web_pct_decode("abcd", 4, out, 4, 0) < 0); /* no room for the NUL */
    CHECK_EQ_U(cg_web_pct_decode("abc", 3, out, 4, 0), 3);
    CHECK_EQ_U(cg_web_pct_decode("%C3%A1", 6, out, sizeof out, 0), 2);
    CHECK_STR(out, "\xc3\xa1");
    /* the length bounds the read: "%4" then a byte not given */
    CHECK(cg_web_pct_decode("%41", 2, out, sizeof out, 0) < 0);
}

static void test_query(void)
{
    char v[64];
    const char *qs = "q=sev+%3E%3D+high&limit=50&flag&cursor=";
    CHECK_EQ_U(cg_web_query_get(qs, "q", v, sizeof v), 1);
    CHECK_STR(v, "sev >= high");
    CHECK_EQ_U(cg_web_query_get(qs, "limit", v, sizeof v), 1);
    CHECK_STR(v, "50");
    CHECK_EQ_U(cg_web_query_get(qs, "flag", v, sizeof v), 1);
    CHECK_STR(v, "");
    CHECK_EQ_U(cg_web_query_get(qs, "cursor", v, sizeof v), 1);
    CHECK_STR(v, "");
    CHECK_EQ_U(cg_web_query_get(qs, "lim", v, sizeof v), 0);
    CHECK_EQ_U(cg_web_query_get(qs, "order", v, sizeof v), 0);
    CHECK_EQ_U(cg_web_query_get(NULL, "q", v, sizeof v), 0);
    CHECK(cg_web_query_get("q=%zz", "q", v, sizeof v) < 0);
    CHECK(cg_web_query_get("q=%00", "q", v, sizeof v) < 0);
    CHECK(cg_web_query_get("q=abcdef", "q", v, 4) < 0);
    CHECK_EQ_U(cg_web_query_get("a=1&a=2", "a", v, sizeof v), 1);
    CHECK_STR(v, "1"); /* the first */
    CHECK_EQ_U(cg_web_query_get("&&a=1", "a", v, sizeof v), 1);
}

static void test_cookie(void)
{
    char v[80];
    CHECK_EQ_U(cg_web_cookie_get("a=b; cg_session=abc123; c=d", "cg_session", v, sizeof v), 1);
    CHECK_STR(v, "abc123");
    CHECK_EQ_U(cg_web_cookie_get("cg_session=\"q\"", "cg_session", v, sizeof v), 1);
    CHECK_STR(v, "q");
    CHECK_EQ_U(cg_web_cookie_get("xcg_session=1; cg_sessionx=2", "cg_session", v, sizeof v), 0);
    CHECK_EQ_U(cg_web_cookie_get("", "cg_session", v, sizeof v), 0);
    CHECK_EQ_U(cg_web_cookie_get(NULL, "cg_session", v, sizeof v), 0);
    CHECK_EQ_U(cg_web_cookie_get(";;; ;cg_session=z ", "cg_session", v, sizeof v), 1);
    CHECK_STR(v, "z");
    CHECK(cg_web_cookie_get("cg_session=0123456789", "cg_session", v, 5) < 0);
    CHECK_EQ_U(cg_web_cookie_get("cg_session", "cg_session", v, sizeof v), 0);
}

static void test_path(void)
{
    char p[256];
    const char *qs;
    CHECK_EQ_U(cg_web_path_split("/", p, sizeof p, &qs), 0);
    CHECK_STR(p, "/");
    CHECK(qs == NULL);
    CHECK_EQ_U(cg_web_path_split("/api/incidents?q=a%20b&limit=2", p, sizeof p, &qs), 0);
    CHECK_STR(p, "/api/incidents");
    CHECK_STR(qs, "q=a%20b&limit=2");
    CHECK_EQ_U(cg_web_path_split("/app%2ejs", p, sizeof p, &qs), 0);
    CHECK_STR(p, "/app.js");
    CHECK_EQ_U(cg_web_path_split("/../etc/passwd", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/%2e%2e/etc/passwd", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/api/%2E%2E/x", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/./app.js", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("//etc/passwd", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/api//me", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/api/me/", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/..%2fetc", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/a%5cb", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/a%01b", p, sizeof p, &qs), 404);
    CHECK_EQ_U(cg_web_path_split("/a%00b", p, sizeof p, &qs), 400);
    CHECK_EQ_U(cg_web_path_split("/a%zz", p, sizeof p, &qs), 400);
    CHECK_EQ_U(cg_web_path_split("app.js", p, sizeof p, &qs), 400);
    CHECK_EQ_U(cg_web_path_split("", p, sizeof p, &qs), 400);
    CHECK_EQ_U(cg_web_path_split("http://x/", p, sizeof p, &qs), 400);
    CHECK_EQ_U(cg_web_path_split("/a b", p, sizeof p, &qs), 400);
    CHECK_EQ_U(cg_web_path_split("/abcdefgh", p, 4, &qs), 400); /* too long for path */

    uint64_t id;
    const char *rest;
    CHECK_EQ_U(cg_web_path_id("/api/incidents/42", "/api/incidents/", &id, &rest), 0);
    CHECK_EQ_U(id, 42);
    CHECK_STR(rest, "");
    CHECK_EQ_U(cg_web_path_id("/api/incidents/7/pcap", "/api/incidents/", &id, &rest), 0);
    CHECK_EQ_U(id, 7);
    CHECK_STR(rest, "/pcap");
    CHECK(cg_web_path_id("/api/incidents/0", "/api/incidents/", &id, &rest) < 0);
    CHECK(cg_web_path_id("/api/incidents/042", "/api/incidents/", &id, &rest) < 0);
    CHECK(cg_web_path_id("/api/incidents/x", "/api/incidents/", &id, &rest) < 0);
    CHECK(cg_web_path_id("/api/incidents/12x", "/api/incidents/", &id, &rest) < 0);
    CHECK(cg_web_path_id("/api/incidents/99999999999999999999999", "/api/incidents/", &id, &rest) <
          0);
    CHECK(cg_web_path_id("/api/cases/1", "/api/incidents/", &id, &rest) < 0);
}

static void test_log_target(void)
{
    char out[128];
    cg_web_log_target("/api/x?user=a&password=secret&b=1", out, sizeof out);
    CHECK_STR(out, "/api/x?user=a&password=***&b=1");
    cg_web_log_target("/api/x?token=cgt_abc", out, sizeof out);
    CHECK_STR(out, "/api/x?token=***");
    cg_web_log_target("/a\nb", out, sizeof out);
    CHECK_STR(out, "/a?b");
    cg_web_log_target("/abcdefghij", out, 5);
    CHECK_STR(out, "/abc");
}

static void test_ct_equal(void)
{
    CHECK(cg_web_ct_equal("abc", "abc"));
    CHECK(!cg_web_ct_equal("abc", "abd"));
    CHECK(!cg_web_ct_equal("abc", "abcd"));
    CHECK(!cg_web_ct_equal("", ""));
    CHECK(!cg_web_ct_equal(NULL, "a"));
    CHECK(!cg_web_ct_equal("a", NULL));
}

static void test_sessions(void)
{
    /* idle 30 min, at most 12 h, 3 slots */
    cg_web_sessions *t = cg_web_sessions_create(3, 1800 * S, 12 * 3600 * S);
    char id[CG_WEB_ID_HEX + 1], id2[CG_WEB_ID_HEX + 1];
    cg_web_session s, f;
    CHECK(t != NULL);
    uint64_t now = 1000 * S;
    CHECK_EQ_U(cg_web_session_new(t, "an", 1, now, id, &s), 0);
    CHECK_EQ_U(strlen(id), 64);
    CHECK_EQ_U(strlen(s.csrf), 64);
    CHECK(strcmp(id, s.csrf) != 0);
    CHECK_EQ_U(cg_web_session_new(t, "an", 1, now, id2, &f), 0);
    CHECK(strcmp(id, id2) != 0); /* random each time */
    CHECK(strcmp(s.csrf, f.csrf) != 0);
    CHECK_EQ_U(cg_web_session_drop(t, id2), 0);
    CHECK_EQ_U(cg_web_session_find(t, id, now + 60 * S, &f), 0);
    CHECK_STR(f.user, "an");
    CHECK_EQ_U(f.role, 1);
    CHECK_STR(f.csrf, s.csrf);
    /* idle: used at +60 s, so alive at +60 s + 29 min, gone at + 30 min */
    CHECK_EQ_U(cg_web_session_find(t, id, now + 60 * S + 1799 * S, &f), 0);
    CHECK(cg_web_session_find(t, id, now + 60 * S + 1799 * S + 1800 * S, &f) < 0);
    CHECK(cg_web_session_find(t, id, now, &f) < 0); /* removed */
    /* absolute: used every 20 minutes, still gone after 12 h */
    CHECK_EQ_U(cg_web_session_new(t, "bo", 3, now, id, &s), 0);
    uint64_t t1 = now;
    while (t1 + 1200 * S < now + 12 * 3600 * S) {
        t1 += 1200 * S;
        CHECK_EQ_U(cg_web_session_find(t, id, t1, &f), 0);
    }
    CHECK(cg_web_session_find(t, id, now + 12 * 3600 * S, &f) < 0);
    /* a wrong id, a truncated one, a case change */
    CHECK_EQ_U(cg_web_session_new(t, "cy", 0, now, id, &s), 0);
    char bad[CG_WEB_ID_HEX + 1];
    memcpy(bad, id, sizeof bad);
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    CHECK(cg_web_session_find(t, bad, now, &f) < 0);
    bad[10] = id[10];
    bad[63] = '\0';
    CHECK(cg_web_session_find(t, bad, now, &f) < 0);
    CHECK(cg_web_session_find(t, "", now, &f) < 0);
    CHECK(cg_web_session_find(t, NULL, now, &f) < 0);
    CHECK_EQ_U(cg_web_session_find(t, id, now, &f), 0);
    /* logout */
    CHECK_EQ_U(cg_web_session_drop(t, id), 0);
    CHECK(cg_web_session_find(t, id, now, &f) < 0);
    CHECK(cg_web_session_drop(t, id) < 0);
    /* full: the least recently used one goes */
    char a[3][CG_WEB_ID_HEX + 1];
    for (int i = 0; i < 3; i++)
        CHECK_EQ_U(cg_web_session_new(t, "u", 0, now + (uint64_t)i * S, a[i], &s), 0);
    CHECK_EQ_U(cg_web_session_count(t, now + 3 * S), 3);
    CHECK_EQ_U(cg_web_session_find(t, a[0], now + 4 * S, &f), 0); /* a[1] is now the oldest */
    CHECK_EQ_U(cg_web_session_new(t, "v", 0, now + 5 * S, id, &s), 0);
    CHECK(cg_web_session_find(t, a[1], now + 5 * S, &f) < 0);
    CHECK_EQ_U(cg_web_session_find(t, a[0], now + 5 * S, &f), 0);
    CHECK_EQ_U(cg_web_session_find(t, a[2], now + 5 * S, &f), 0);
    CHECK_EQ_U(cg_web_session_count(t, now + 5 * S + 1800 * S), 0);
    /* a user name too long */
    char longname[100];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(cg_web_session_new(t, longname, 0, now, id, &s) < 0);
    cg_web_sessions_destroy(t);
    cg_web_sessions_destroy(NULL);
}

static void test_limiter(void)
{
    /* per account: 5 failures in 15 min lock 15 min */
    cg_web_limiter *l = cg_web_limiter_create(5, 900 * S, 900 * S, 4);
    uint64_t now = 5000 * S;
    CHECK(l != NULL);
    CHECK_EQ_U(cg_web_limiter_wait(l, "an", now), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_U(cg_web_limiter_fail(l, "an", now + (uint64_t)i * 60 * S), 0);
    CHECK_EQ_U(cg_web_limiter_wait(l, "an", now + 240 * S), 0);
    CHECK_EQ_U(cg_web_limiter_fail(l, "an", now + 240 * S), 1); /* the fifth */
    CHECK_EQ_U(cg_web_limiter_wait(l, "an", now + 240 * S), 900);
    CHECK_EQ_U(cg_web_limiter_wait(l, "an", now + 1139 * S), 1);
    CHECK_EQ_U(cg_web_limiter_wait(l, "an", now + 1140 * S), 0);
    CHECK_EQ_U(cg_web_limiter_wait(l, "bo", now), 0); /* others untouched */
    /* failures spread wider than the window never lock */
    for (int i = 0; i < 20; i++)
        CHECK_EQ_U(cg_web_limiter_fail(l, "cy", now + (uint64_t)i * 300 * S), 0);
    CHECK_EQ_U(cg_web_limiter_wait(l, "cy", now + 20 * 300 * S), 0);
    /* a success forgets the count */
    for (int i = 0; i < 4; i++)
        cg_web_limiter_fail(l, "dm", now);
    cg_web_limiter_reset(l, "dm");
    CHECK_EQ_U(cg_web_limiter_fail(l, "dm", now), 0);
    /* bounded: more keys than slots still counts the newest */
    for (int k = 0; k < 10; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        cg_web_limiter_fail(l, key, now + (uint64_t)k);
    }
    int locked = 0;
    for (int i = 0; i < 5; i++)
        locked |= cg_web_limiter_fail(l, "k9", now + 100);
    CHECK(locked);
    CHECK(cg_web_limiter_wait(l, "k9", now + 100) > 0);
    cg_web_limiter_destroy(l);
    CHECK(cg_web_limiter_create(0, S, S, 1) == NULL);
    CHECK(cg_web_limiter_create(65, S, S, 1) == NULL);
}

static void test_json(void)
{
    json_object *o = NULL;
    char err[200];
    const char *s;
    const char *b1 = "{\"user\":\"an\",\"password\":\"pw\"}";
    CHECK_EQ_U(cg_web_json_parse(b1, strlen(b1), CG_WEB_JSON_MAX, &o, err, sizeof err), 0);
    CHECK_EQ_U(cg_web_json_str(o, "user", 64, &s), 1);
    CHECK_STR(s, "an");
    CHECK_EQ_U(cg_web_json_str(o, "nope", 64, &s), 0);
    CHECK(cg_web_json_str(o, "password", 1, &s) < 0); /* longer than allowed */
    json_object_put(o);
    CHECK_EQ_U(cg_web_json_parse(b1, strlen(b1), 10, &o, err, sizeof err), 413);
    CHECK_EQ_U(cg_web_json_parse("", 0, 100, &o, err, sizeof err), 400);
    CHECK_EQ_U(cg_web_json_parse("[1]", 3, 100, &o, err, sizeof err), 400);
    CHECK_CONTAINS(err, "object");
    CHECK_EQ_U(cg_web_json_parse("{\"a\":1", 6, 100, &o, err, sizeof err), 400);
    CHECK_EQ_U(cg_web_json_parse("{} x", 4, 100, &o, err, sizeof err), 400);
    CHECK_EQ_U(cg_web_json_parse("{}\n", 3, 100, &o, err, sizeof err), 0);
    json_object_put(o);
    /* too deep */
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"a\":");
    n += (size_t)snprintf(deep + n, sizeof deep - n, "1");
    for (int i = 0; i < 20; i++)
        deep[n++] = '}';
    CHECK_EQ_U(cg_web_json_parse(deep, n, 1000, &o, err, sizeof err), 400);
    /* a NUL inside a string, a non-string */
    const char *b2 = "{\"text\":\"a\\u0000b\",\"n\":3,\"ids\":[1,2,3],\"bad\":[1,\"x\"],"
                     "\"neg\":[0]}";
    CHECK_EQ_U(cg_web_json_parse(b2, strlen(b2), 1000, &o, err, sizeof err), 0);
    CHECK(cg_web_json_str(o, "text", 100, &s) < 0);
    CHECK(cg_web_json_str(o, "n", 100, &s) < 0);
    uint64_t *ids = NULL;
    size_t nids = 0;
    CHECK_EQ_U(cg_web_json_ids(o, "ids", 10, &ids, &nids), 1);
    CHECK_EQ_U(nids, 3);
    CHECK(ids && ids[2] == 3);
    free(ids);
    CHECK(cg_web_json_ids(o, "ids", 2, &ids, &nids) < 0);
    CHECK(cg_web_json_ids(o, "bad", 10, &ids, &nids) < 0);
    CHECK(cg_web_json_ids(o, "neg", 10, &ids, &nids) < 0);
    CHECK(cg_web_json_ids(o, "n", 10, &ids, &nids) < 0);
    CHECK_EQ_U(cg_web_json_ids(o, "none", 10, &ids, &nids), 0);
    json_object_put(o);
    /* invalid UTF-8 in a string is refused by the strict parser or kept as bytes,
     * never a crash */
    const char *b3 = "{\"t\":\"\xff\xfe\"}";
    int rc = cg_web_json_parse(b3, strlen(b3), 1000, &o, err, sizeof err);
    CHECK(rc == 0 || rc == 400);
    if (rc == 0)
        json_object_put(o);
}

/* Many threads on one table and one limiter, as MHD's pool does (make
 * test-tsan runs this binary). */
typedef struct hammer {
    cg_web_sessions *t;
    cg_web_limiter *l;
    int k, found;
} hammer;

static void *hammer_main(void *arg)
{
    hammer *h = arg;
    char id[CG_WEB_ID_HEX + 1];
    cg_web_session s, f;
    for (int i = 0; i < 500; i++) {
        uint64_t now = (uint64_t)i * S;
        if (cg_web_session_new(h->t, "u", 0, now, id, &s) == 0 &&
            cg_web_session_find(h->t, id, now, &f) == 0 && !strcmp(f.csrf, s.csrf))
            h->found++;
        if (i % 3 == 0)
            cg_web_session_drop(h->t, id);
        char key[16];
        snprintf(key, sizeof key, "k%d", (h->k * 7 + i) % 50);
        cg_web_limiter_fail(h->l, key, now);
        cg_web_limiter_wait(h->l, key, now);
        if (i % 5 == 0)
            cg_web_limiter_reset(h->l, key);
    }
    return NULL;
}

static void test_threads(void)
{
    cg_web_sessions *t = cg_web_sessions_create(64, 1800 * S, 12 * 3600 * S);
    cg_web_limiter *l = cg_web_limiter_create(5, 900 * S, 900 * S, 32);
    pthread_t th[4];
    hammer h[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer){ t, l, i, 0 };
        pthread_create(&th[i], NULL, hammer_main, &h[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        /* a session made is found at once unless 64 others pushed it out */
        CHECK(h[i].found > 400);
    }
    CHECK(cg_web_session_count(t, 499 * S) <= 64);
    cg_web_sessions_destroy(t);
    cg_web_limiter_destroy(l);
}

int main(void)
{
    test_pct();
    test_query();
    test_cookie();
    test_path();
    test_log_target();
    test_ct_equal();
    test_sessions();
    test_limiter();
    test_json();
    test_threads();
    return check_done("test_web");
}
