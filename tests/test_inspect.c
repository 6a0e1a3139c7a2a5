/* test_inspect.c — the worker's packet path end to end on crafted TCP flows:
 * contents split over 2, 3 and 10 segments, out-of-order delivery,
 * retransmissions carrying other bytes (the first data wins), a content whole
 * in one packet alerting once, a split across a hole never matching, and the
 * same traffic with reassembly off. Packets are views built here; the rules go
 * through the real parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/inspect.h"
#include "analyzer/rule.h"
#include "tests/check.h"
#include "tests/util_conn.h"

typedef struct got {
    char sids[512];              /* "sid[s]," per alert, s when found on the stream */
    unsigned n;
} got;

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    got *g = ctx;
    (void)p; (void)f; (void)to_server;
    size_t l = strlen(g->sids);
    snprintf(g->sids + l, sizeof g->sids - l, "%u%s,", r->sid, stream ? "s" : "");
    g->n++;
}

typedef struct world {
    cg_ruleset *rs;
    cg_detect *d;
    cg_inspect *in;
    got g;
    tconn c;
} world;

static const char *const rules[] = {
    "alert tcp any any -> any 80 (msg:\"union select\"; flow:established,to_server; "
    "content:\"UNION SELECT\"; nocase; sid:1;)",
    "alert tcp any any -> any 80 (msg:\"jndi chain\"; flow:established,to_server; "
    "content:\"${jndi:\"; content:\"ldap://\"; distance:0; within:20; sid:2;)",
    "alert tcp any 80 -> any any (msg:\"citizen id in a reply\"; flow:established,to_client; "
    "content:\"cccd=\"; pcre:\"/^[0-9]{12}\\b/R\"; sid:3;)",
    "alert tcp any any -> any 80 (msg:\"anchored, packet only\"; flow:to_server; "
    "content:\"GET \"; depth:4; content:\"/admin\"; within:10; sid:4;)",
    NULL};

static int world_make(world *w, int no_stream)
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
    cfg.no_stream = no_stream;
    cfg.on_alert = on_alert;
    cfg.ctx = &w->g;
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

/* The next in-order segment of a direction. */
static void seg(world *w, int to_server, const char *data)
{
    tconn_send(&w->c, to_server, data, (uint32_t)strlen(data));
}

static const char *take(world *w)
{
    static char out[512];
    snprintf(out, sizeof out, "%s", w->g.sids);
    w->g.sids[0] = 0;
    w->g.n = 0;
    return out;
}

static void test_splits(int no_stream)
{
    world w;
    CHECK(world_make(&w, no_stream) == 0);
    if (!w.in)
        return;

    /* whole in one packet: the packet path, once */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /q?id=1 union select pass from users HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), "1,");

    /* two segments */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /q?id=1 UNION SEL");
    CHECK_STR(take(&w), "");
    seg(&w, 1, "ECT pass FROM users HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), no_stream ? "" : "1s,");

    /* three segments, the content in the middle one's both ends */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "POST /login HTTP/1.1\r\n\r\nuser=a' UNI");
    seg(&w, 1, "ON SE");
    CHECK_STR(take(&w), "");
    seg(&w, 1, "LECT 1,2--");
    CHECK_STR(take(&w), no_stream ? "" : "1s,");

    /* ten segments of two bytes and a relative chain over them */
    tconn_connect(&w.c, 80);
    static const char *const ten[] = {"GE", "T ", "/?", "${", "jn", "di", ":l", "da",
                                      "p:", "//"};
    for (int i = 0; i < 10; i++)
        seg(&w, 1, ten[i]);
    CHECK_STR(take(&w), no_stream ? "" : "2s,");

    /* out of order: the last piece first, then the others; "GET /?id=1 UNION SELECT 9" */
    tconn_connect(&w.c, 80);
    uint32_t s0 = w.c.cseq;
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 16, " SELECT 9", 9);
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 8, "=1 UNION S", 10);   /* overlaps the next by 2 */
    CHECK_STR(take(&w), "");
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0, "GET /?i", 7);
    CHECK_STR(take(&w), "");                             /* a hole at s0+7 still */
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 7, "d", 1);             /* fills it: all in order */
    CHECK_STR(take(&w), no_stream ? "" : "1s,");

    /* a retransmission carrying other bytes: the first data wins */
    tconn_connect(&w.c, 80);
    s0 = w.c.cseq;
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0, "GET /?id=1 UNION xyz", 20);
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 11, "SELECT", 6);        /* rewrites "UNION " as SELECT */
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 20, " more", 5);
    CHECK_STR(take(&w), "");
    /* a retransmission of old bytes with a payload of its own: the packet
     * path inspects what the packet carries; the stream has nothing new */
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 11, "UNION SELECT", 12);
    CHECK_STR(take(&w), "1,");

    /* the server's reply, split inside the pcre's digits */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /tra-cuu HTTP/1.1\r\n\r\n");
    seg(&w, 0, "HTTP/1.1 200 OK\r\n\r\nho_ten=Nguyen+Van+A&cccd=0792040");
    CHECK_STR(take(&w), "");
    seg(&w, 0, "01234&ok=1");
    CHECK_STR(take(&w), no_stream ? "" : "3s,");

    /* anchored rules stay on packets: a split "GET /admin" does not match */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /ad");
    seg(&w, 1, "min HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), "");
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /admin HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), "4,");

    cg_inspect_stats st;
    cg_inspect_get_stats(w.in, &st);
    if (!no_stream) {
        CHECK(st.reasm.conflict_bytes > 0);
        CHECK(st.reasm.overlap_bytes > 0);
        CHECK_EQ_U(st.detect.stream_alerts, 5);
    }
    world_free(&w);
}

/* A content split across a hole never matches: bytes are missing between. */
static void test_gap(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    tconn_connect(&w.c, 80);
    uint32_t s0 = w.c.cseq;
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0, "id=1 UNION", 10);
    /* "XXXX" at s0+10 is never seen; the stream goes on after the hole */
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 14, " SELECT", 7);
    tconn_send_at(&w.c, 1, CG_TH_FIN | CG_TH_ACK, s0 + 21, "", 0);
    cg_inspect_finish(w.in);
    CHECK_STR(take(&w), "");
    world_free(&w);
}

int main(void)
{
    test_splits(0);
    test_splits(1);
    test_gap();
    return check_done("inspect");
}
