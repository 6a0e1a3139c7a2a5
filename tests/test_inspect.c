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
    uint32_t cseq, sseq;         /* next sequence numbers of client and server */
    uint64_t ts;
    uint16_t cport;
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
    if (cg_ruleset_create(&w->rs))
        return -1;
    for (int i = 0; rules[i]; i++)
        if (cg_ruleset_add_rule(w->rs, rules[i], err, sizeof err)) {
            fprintf(stderr, "rule %d: %s\n", i, err);
            return -1;
        }
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
    w->ts = 1000000;
    w->cport = 40000;
    return 0;
}

static void world_free(world *w)
{
    cg_inspect_destroy(w->in);
    cg_detect_destroy(w->d);
    cg_ruleset_destroy(w->rs);
}

static void v4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned q)
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x; a[13] = (uint8_t)y; a[14] = (uint8_t)z; a[15] = (uint8_t)q;
}

/* One TCP segment of the current connection, at an explicit sequence number. */
static void seg_at(world *w, int to_server, uint8_t flags, uint32_t seq, const char *data,
                   uint32_t len)
{
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = w->ts += 1000;
    p.ipver = 4;
    p.proto = 6;
    p.flags = CG_PKT_HAS_PORTS;
    v4(to_server ? p.src : p.dst, 203, 0, 113, 5);
    v4(to_server ? p.dst : p.src, 10, 20, 1, 10);
    p.sport = to_server ? w->cport : 80;
    p.dport = to_server ? 80 : w->cport;
    p.tcp_flags = flags;
    p.tcp_seq = seq;
    p.tcp_ack = to_server ? w->sseq : w->cseq;
    p.payload = (const uint8_t *)data;
    p.payload_len = len;
    cg_inspect_packet(w->in, &p);
}

/* The next in-order segment of a direction. */
static void seg(world *w, int to_server, const char *data)
{
    uint32_t len = (uint32_t)strlen(data);
    uint32_t *seq = to_server ? &w->cseq : &w->sseq;
    seg_at(w, to_server, CG_TH_ACK | CG_TH_PSH, *seq, data, len);
    *seq += len;
}

/* A new connection from a new client port: the handshake. */
static void connect_(world *w)
{
    w->cport++;
    w->cseq = 1000;
    w->sseq = 5000;
    seg_at(w, 1, CG_TH_SYN, w->cseq++, "", 0);
    seg_at(w, 0, CG_TH_SYN | CG_TH_ACK, w->sseq++, "", 0);
    seg_at(w, 1, CG_TH_ACK, w->cseq, "", 0);
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
    connect_(&w);
    seg(&w, 1, "GET /q?id=1 union select pass from users HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), "1,");

    /* two segments */
    connect_(&w);
    seg(&w, 1, "GET /q?id=1 UNION SEL");
    CHECK_STR(take(&w), "");
    seg(&w, 1, "ECT pass FROM users HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), no_stream ? "" : "1s,");

    /* three segments, the content in the middle one's both ends */
    connect_(&w);
    seg(&w, 1, "POST /login HTTP/1.1\r\n\r\nuser=a' UNI");
    seg(&w, 1, "ON SE");
    CHECK_STR(take(&w), "");
    seg(&w, 1, "LECT 1,2--");
    CHECK_STR(take(&w), no_stream ? "" : "1s,");

    /* ten segments of two bytes and a relative chain over them */
    connect_(&w);
    static const char *const ten[] = {"GE", "T ", "/?", "${", "jn", "di", ":l", "da",
                                      "p:", "//"};
    for (int i = 0; i < 10; i++)
        seg(&w, 1, ten[i]);
    CHECK_STR(take(&w), no_stream ? "" : "2s,");

    /* out of order: the last piece first, then the others; "GET /?id=1 UNION SELECT 9" */
    connect_(&w);
    uint32_t s0 = w.cseq;
    seg_at(&w, 1, CG_TH_ACK, s0 + 16, " SELECT 9", 9);
    seg_at(&w, 1, CG_TH_ACK, s0 + 8, "=1 UNION S", 10);   /* overlaps the next by 2 */
    CHECK_STR(take(&w), "");
    seg_at(&w, 1, CG_TH_ACK, s0, "GET /?i", 7);
    CHECK_STR(take(&w), "");                             /* a hole at s0+7 still */
    seg_at(&w, 1, CG_TH_ACK, s0 + 7, "d", 1);             /* fills it: all in order */
    CHECK_STR(take(&w), no_stream ? "" : "1s,");

    /* a retransmission carrying other bytes: the first data wins */
    connect_(&w);
    s0 = w.cseq;
    seg_at(&w, 1, CG_TH_ACK, s0, "GET /?id=1 UNION xyz", 20);
    seg_at(&w, 1, CG_TH_ACK, s0 + 11, "SELECT", 6);        /* rewrites "UNION " as SELECT */
    seg_at(&w, 1, CG_TH_ACK, s0 + 20, " more", 5);
    CHECK_STR(take(&w), "");
    /* a retransmission of old bytes with a payload of its own: the packet
     * path inspects what the packet carries; the stream has nothing new */
    seg_at(&w, 1, CG_TH_ACK, s0 + 11, "UNION SELECT", 12);
    CHECK_STR(take(&w), "1,");

    /* the server's reply, split inside the pcre's digits */
    connect_(&w);
    seg(&w, 1, "GET /tra-cuu HTTP/1.1\r\n\r\n");
    seg(&w, 0, "HTTP/1.1 200 OK\r\n\r\nho_ten=Nguyen+Van+A&cccd=0792040");
    CHECK_STR(take(&w), "");
    seg(&w, 0, "01234&ok=1");
    CHECK_STR(take(&w), no_stream ? "" : "3s,");

    /* anchored rules stay on packets: a split "GET /admin" does not match */
    connect_(&w);
    seg(&w, 1, "GET /ad");
    seg(&w, 1, "min HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), "");
    connect_(&w);
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
    connect_(&w);
    uint32_t s0 = w.cseq;
    seg_at(&w, 1, CG_TH_ACK, s0, "id=1 UNION", 10);
    /* "XXXX" at s0+10 is never seen; the stream goes on after the hole */
    seg_at(&w, 1, CG_TH_ACK, s0 + 14, " SELECT", 7);
    seg_at(&w, 1, CG_TH_FIN | CG_TH_ACK, s0 + 21, "", 0);
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
