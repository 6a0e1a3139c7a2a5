/* test_inspect.c — the worker's packet path end to end on crafted TCP flows:
 * contents split over 2, 3 and 10 segments, out-of-order delivery,
 * retransmissions carrying other bytes (the first data wins), a content whole
 * in one packet alerting once, a split across a hole never matching, and the
 * same traffic with reassembly off; when the stream is inspected (at a push,
 * a turn, a full chunk, the end, after a second) and in how many pieces;
 * anchored rules anchoring where an inspection starts; a repeated attack in
 * one flow; a content split where one 64 KiB chunk ends and the next
 * begins; bytes past the depth going back to the packet path; what is
 * scanned again before new stream bytes, and what of a packet the stream
 * holds is scanned (flowbits set or unset earlier in the same packet
 * honoured); xbits across flows, by host and by address pair, with expiry. Packets are views built here; the rules go through the real
 * parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/engine/inspect.h"
#include "analyzer/lang/rule.h"
#include "tests/check.h"
#include "tests/util_conn.h"

typedef struct got {
    char sids[512]; /* "sid[s]," per alert, s when found on the stream */
    unsigned n;
    uint64_t ts_us; /* of the last alert's packet */
    int made;       /* the last alert's packet was made from the flow */
    int dir_ok;     /* every alert's packet goes the alert's way */
} got;

static void on_alert(void *ctx, const cg_packet *p, const cg_flow *f, int to_server,
                     const cg_rule *r, int stream)
{
    got *g = ctx;
    (void)f;
    size_t l = strlen(g->sids);
    snprintf(g->sids + l, sizeof g->sids - l, "%u%s,", r->sid, stream ? "s" : "");
    g->n++;
    g->ts_us = p->ts_us;
    g->made = p->payload == NULL;
    /* the client is 203.0.113.5 */
    if ((p->src[12] == 203) != (to_server != 0))
        g->dir_ok = 0;
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
    "alert tcp any any -> any 80 (msg:\"anchored admin page\"; flow:to_server; "
    "content:\"GET \"; depth:4; content:\"/admin\"; within:10; sid:4;)",
    "alert tcp any any -> any 80 (msg:\"short packet\"; flow:to_server; dsize:<8; "
    "content:\"PING\"; sid:5;)",
    "alert tcp any any -> any 81 (msg:\"two parts\"; flow:established,to_server; "
    "content:\"ALPHA-PART\"; fast_pattern; content:\"omega\"; distance:0; sid:6;)",
    "alert tcp any any -> any 81 (msg:\"anchored\"; flow:established,to_server; "
    "content:\"ZZ\"; depth:2; sid:12;)",
    "alert tcp any 82 -> any any (msg:\"program in a reply\"; flow:established,to_client; "
    "dsize:>100; content:\"MZ\"; depth:2; sid:7;)",
    "alert tcp any 82 -> any any (msg:\"after hello\"; flow:established,to_client; "
    "flowbits:isset,hello; dsize:>100; content:\"secret\"; sid:8;)",
    "alert tcp any any -> any 82 (msg:\"hello\"; flow:established,to_server; "
    "content:\"HELLO\"; flowbits:set,hello; flowbits:noalert; sid:9;)",
    "alert tcp any 83 -> any any (msg:\"key\"; flow:established,to_client; dsize:>100; "
    "content:\"KEY\"; depth:3; flowbits:set,key; flowbits:noalert; sid:10;)",
    "alert tcp any 83 -> any any (msg:\"door after key\"; flow:established,to_client; "
    "dsize:>100; flowbits:isset,key; content:\"door\"; sid:11;)",
    "alert tcp any any -> any 84 (msg:\"a and b\"; flow:established,to_server; "
    "content:\"SETAB\"; flowbits:set,a; flowbits:set,b; flowbits:noalert; sid:13;)",
    "alert tcp any 84 -> any any (msg:\"unset b\"; flow:established,to_client; dsize:>100; "
    "content:\"UN\"; depth:2; flowbits:unset,b; flowbits:noalert; sid:14;)",
    "alert tcp any 84 -> any any (msg:\"a without b\"; flow:established,to_client; "
    "dsize:>100; flowbits:isset,a; flowbits:isnotset,b; content:\"door\"; sid:15;)",
    "alert tcp any any -> any 85 (msg:\"attempt\"; flow:established,to_server; "
    "content:\"ATTEMPT\"; xbits:set,tried,track ip_dst,expire 10; "
    "xbits:set,pairbit,track ip_pair,expire 10; noalert; sid:16;)",
    "alert tcp any any -> any 86 (msg:\"after an attempt\"; flow:established,to_server; "
    "content:\"NEXT\"; xbits:isset,tried,track ip_dst; sid:17;)",
    "alert tcp any 86 -> any any (msg:\"reply, same pair\"; flow:established,to_client; "
    "content:\"DONE\"; xbits:isset,pairbit,track ip_pair; sid:18;)",
    "alert tcp any any -> any 86 (msg:\"clear\"; flow:established,to_server; "
    "content:\"CLEAR\"; xbits:unset,tried, track ip_dst; noalert; sid:19;)",
    "alert tcp any any -> any 87 (msg:\"decoded greeting\"; flow:established,to_server; "
    "content:\"k=\"; base64_decode:relative; base64_data; content:\"hello\"; startswith; "
    "sid:20;)",
    "alert tcp any any -> any 88 (msg:\"a long content\"; flow:established,to_server; "
    "content:\"The-quick-brown-fox-jumps-over-the-lazy-dog-0123456789-ABCDEFGHIJ\"; sid:21;)",
    NULL
};

/* A worker over the rules above; depth 0: the default stream depth. */
static int world_make_depth(world *w, int no_stream, uint64_t depth)
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
    cfg.reasm.depth = depth;
    cfg.no_stream = no_stream;
    cfg.on_alert = on_alert;
    cfg.ctx = &w->g;
    if (cg_detect_build(&w->d, w->rs, NULL, err, sizeof err) ||
        cg_inspect_create(&w->in, w->d, &cfg, err, sizeof err)) {
        fprintf(stderr, "world: %s\n", err);
        return -1;
    }
    tconn_init(&w->c, w->in);
    w->g.dir_ok = 1;
    return 0;
}

static int world_make(world *w, int no_stream)
{
    return world_make_depth(w, no_stream, 0);
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

    /* whole in one packet: once (on the stream when it is inspected) */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /q?id=1 union select pass from users HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), no_stream ? "1," : "1s,");

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
    static const char *const ten[] = { "GE", "T ", "/?", "${", "jn", "di", ":l", "da", "p:", "//" };
    for (int i = 0; i < 10; i++)
        seg(&w, 1, ten[i]);
    CHECK_STR(take(&w), no_stream ? "" : "2s,");

    /* out of order: the last piece first, then the others; "GET /?id=1 UNION SELECT 9" */
    tconn_connect(&w.c, 80);
    uint32_t s0 = w.c.cseq;
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 16, " SELECT 9", 9);
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 8, "=1 UNION S", 10); /* overlaps the next by 2 */
    CHECK_STR(take(&w), "");
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0, "GET /?i", 7);
    CHECK_STR(take(&w), "");                           /* a hole at s0+7 still */
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 7, "d", 1); /* fills it: all in order */
    CHECK_STR(take(&w), no_stream ? "" : "1s,");

    /* a retransmission carrying other bytes: the first data wins */
    tconn_connect(&w.c, 80);
    s0 = w.c.cseq;
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0, "GET /?id=1 UNION xyz", 20);
    tconn_send_at(&w.c, 1, CG_TH_ACK, s0 + 11, "SELECT", 6); /* rewrites "UNION " as SELECT */
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

    /* an anchored rule anchors where an inspection starts: two pushes split
     * "GET /admin", so it does not match; one message does */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /ad");
    seg(&w, 1, "min HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), "");
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /admin HTTP/1.1\r\n\r\n");
    CHECK_STR(take(&w), no_stream ? "4," : "4s,");

    /* dsize belongs to one packet: checked on packets, with the stream too */
    tconn_connect(&w.c, 80);
    seg(&w, 1, "PING\r\n");
    CHECK_STR(take(&w), "5,");

    cg_inspect_stats st;
    cg_inspect_get_stats(w.in, &st);
    if (!no_stream) {
        CHECK(st.reasm.conflict_bytes > 0);
        CHECK(st.reasm.overlap_bytes > 0);
        CHECK_EQ_U(st.detect.stream_alerts, 7);
    }
    CHECK(w.g.dir_ok);
    world_free(&w);
}

/* When the stream is inspected, and in how many pieces. */
static void test_when(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    cg_inspect_stats st0, st;
    char big[1400];
    memset(big, 'a', sizeof big);

    /* a message of 20 segments with PSH on the last: one inspection, when
     * the push comes; the anchored rule sees the message's start */
    tconn_connect(&w.c, 80);
    cg_inspect_get_stats(w.in, &st0);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "GET ", 4);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "/admin/?q=", 10);
    for (int i = 0; i < 17; i++)
        tconn_send_flags(&w.c, 1, CG_TH_ACK, big, sizeof big);
    CHECK_STR(take(&w), "");
    tconn_send_flags(&w.c, 1, CG_TH_ACK | CG_TH_PSH, " UNION SELECT 1\r\n\r\n", 20);
    CHECK_STR(take(&w), "1s,4s,");
    cg_inspect_get_stats(w.in, &st);
    CHECK_EQ_U(st.detect.stream_inspections - st0.detect.stream_inspections, 1);
    CHECK_EQ_U(st.detect.stream_scanned_bytes - st0.detect.stream_scanned_bytes,
               4 + 10 + 17 * sizeof big + 20);
    /* the packets: only the dsize rule's database, for the short one */
    CHECK_EQ_U(st.detect.scanned_bytes - st0.detect.scanned_bytes, 4);

    /* the same attack again in the same flow, 20 bytes later: alerts again */
    seg(&w, 1, "id=2 UNION SELECT 2");
    CHECK_STR(take(&w), "1s,");
    /* a split repeat is found too when the old bytes do not match alone */
    seg(&w, 1, "GET /?a=${jndi:");
    seg(&w, 1, "ldap://x}");
    CHECK_STR(take(&w), "2s,");

    /* no push: the client's bytes are inspected when the server answers,
     * and the alert stands for the client's side (a packet made from the flow) */
    tconn_connect(&w.c, 80);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "x=1 UNION SELECT 3", 18);
    CHECK_STR(take(&w), "");
    seg(&w, 0, "HTTP/1.1 200 OK\r\n\r\n");
    CHECK_STR(take(&w), "1s,");
    CHECK(w.g.made);

    /* no push and no answer: inspected at the flow's next packet a second on */
    tconn_connect(&w.c, 80);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "x=1 UNION SELECT 4", 18);
    uint64_t sent = w.c.ts;
    tconn_send_at(&w.c, 0, CG_TH_ACK, w.c.sseq, "", 0); /* a bare ACK: not a turn */
    CHECK_STR(take(&w), "");
    w.c.ts += 1000000;
    tconn_send_at(&w.c, 0, CG_TH_ACK, w.c.sseq, "", 0);
    CHECK_STR(take(&w), "1s,");
    CHECK(w.g.ts_us >= sent + 1000000);

    /* no push at all: at the end of the stream (FIN), on the FIN's packet */
    tconn_connect(&w.c, 80);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "x=1 UNION SELECT 5", 18);
    CHECK_STR(take(&w), "");
    tconn_send_at(&w.c, 1, CG_TH_FIN | CG_TH_ACK, w.c.cseq++, "", 0);
    CHECK_STR(take(&w), "1s,");
    CHECK(!w.g.made);

    /* ... and when the flow ends without one */
    tconn_connect(&w.c, 80);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "x=1 UNION SELECT 6", 18);
    CHECK_STR(take(&w), "");
    cg_inspect_finish(w.in);
    CHECK_STR(take(&w), "1s,");
    CHECK(w.g.dir_ok);
    world_free(&w);
}

/* Past the stream's depth, packets are inspected one by one again. */
static void test_depth(void)
{
    world w;
    CHECK(world_make_depth(&w, 0, 64) == 0);
    if (!w.in)
        return;
    tconn_connect(&w.c, 80);
    seg(&w, 1, "GET /?id=1 UNION SELECT 1 HTTP/1.1\r\nHost: a\r\n");
    CHECK_STR(take(&w), "1s,");
    seg(&w, 1, "X: 0123456789012345678901234567890123456789\r\n"); /* crosses 64 */
    seg(&w, 1, "Cookie: id=1 UNION SELECT 2\r\n\r\n");             /* all past it */
    CHECK_STR(take(&w), "1,");
    cg_inspect_stats st;
    cg_inspect_get_stats(w.in, &st);
    CHECK(st.reasm.depth_bytes > 0);
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

/* The bytes of the stream scanned again before new ones: only when a
 * pattern was seen in the previous inspection (else the longest pattern's
 * length less one, for what straddles the two). */
static void test_lookback(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    cg_inspect_stats st0, st;
    tconn_connect(&w.c, 81);
    const char *parts[] = {
        "ZZ top of the stream bytes", "hello world 0123456789", "more benign bytes",
        "xx ALPHA-PART yy",           "and then omega",         "zzzz"
    };
    const char *want[] = { "12s,", "", "", "", "6s,", "" };
    /* port 81's database: "ALPHA-PART" is its longest pattern (10 bytes); an
     * anchored rule's pattern ("ZZ") never makes the old bytes scanned again */
    const uint64_t scanned[] = {
        26, 22 + 9, 17 + 9, 16 + 9, 14 + 26 + 22 + 17 + 16, 4 + 14 + 26 + 22 + 17 + 16
    };
    for (int i = 0; i < 6; i++) {
        cg_inspect_get_stats(w.in, &st0);
        seg(&w, 1, parts[i]);
        CHECK_STR(take(&w), want[i]);
        cg_inspect_get_stats(w.in, &st);
        CHECK_EQ_U(st.detect.stream_inspections - st0.detect.stream_inspections, 1);
        CHECK_EQ_U(st.detect.stream_scanned_bytes - st0.detect.stream_scanned_bytes, scanned[i]);
    }
    world_free(&w);
}

/* A content longer than the part of it that is looked for (its last 32
 * bytes), split over two pushes at every place: found once, whichever side
 * of the split its looked-for part falls. */
static void test_long_pattern(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    static const char pat[] = "The-quick-brown-fox-jumps-over-the-lazy-dog-0123456789-ABCDEFGHIJ";
    char msg[200];
    int ok = 0, n = (int)strlen(pat);
    for (int cut = 1; cut < n; cut++) {
        tconn_connect(&w.c, 88);
        snprintf(msg, sizeof msg, "POST /x HTTP/1.1\r\n\r\n%s tail", pat);
        size_t at = strlen("POST /x HTTP/1.1\r\n\r\n") + (size_t)cut;
        tconn_send(&w.c, 1, msg, (uint32_t)at);
        const char *first = take(&w);
        tconn_send(&w.c, 1, msg + at, (uint32_t)(strlen(msg) - at));
        ok += strcmp(first, "") == 0 && strcmp(take(&w), "21s,") == 0;
    }
    CHECK_EQ_U(ok, n - 1);
    world_free(&w);
}

/* A content split where one 64 KiB chunk ends and the next begins, in a
 * stream without a push: the next chunk starts with the end of the full
 * one, so it is found, once. */
static void test_chunk_boundary(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    char buf[1400];
    memset(buf, 'a', sizeof buf);
    tconn_connect(&w.c, 80);
    for (int i = 0; i < 46; i++) /* 64,400 bytes */
        tconn_send_flags(&w.c, 1, CG_TH_ACK, buf, sizeof buf);
    memcpy(buf + 1130, "UNION SELECT", 12); /* stream bytes 65,530 .. 65,541 */
    tconn_send_flags(&w.c, 1, CG_TH_ACK, buf, sizeof buf);
    memset(buf, 'a', sizeof buf);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, buf, sizeof buf);
    CHECK_STR(take(&w), "");
    tconn_send_at(&w.c, 1, CG_TH_FIN | CG_TH_ACK, w.c.cseq++, "", 0);
    CHECK_STR(take(&w), "1s,");
    cg_inspect_stats st;
    cg_inspect_get_stats(w.in, &st);
    CHECK_EQ_U(st.reasm.chunks, 2);

    /* the first content whole in the full chunk, the second in the next:
     * the next inspection scans the kept bytes again, as the full chunk's
     * inspection saw the first */
    tconn_connect(&w.c, 80);
    for (int i = 0; i < 46; i++)
        tconn_send_flags(&w.c, 1, CG_TH_ACK, buf, sizeof buf);
    memcpy(buf + 1120, "${jndi:", 7); /* bytes 65,520 .. 65,526 */
    tconn_send_flags(&w.c, 1, CG_TH_ACK, buf, 1136);
    memset(buf, 'a', sizeof buf);
    tconn_send_flags(&w.c, 1, CG_TH_ACK, "ldap://x}", 9);
    CHECK_STR(take(&w), "");
    tconn_send_at(&w.c, 1, CG_TH_FIN | CG_TH_ACK, w.c.cseq++, "", 0);
    CHECK_STR(take(&w), "2s,");
    world_free(&w);
}

/* Packets the stream holds, against the rules that need the packet: only
 * what a rule can match is scanned (a content within the first bytes; a
 * rule testing a flowbit the flow has not set needs nothing), and a flowbit
 * set by a rule on the same packet still counts. */
static void test_packet_reach(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    cg_inspect_stats st0, st;
    char reply[300];
    memset(reply, '.', sizeof reply);
    memcpy(reply, "MZ", 2);
    memcpy(reply + 200, "secret", 6);

    tconn_connect(&w.c, 82);
    cg_inspect_get_stats(w.in, &st0);
    tconn_send(&w.c, 0, reply, sizeof reply);
    CHECK_STR(take(&w), "7,");
    cg_inspect_get_stats(w.in, &st);
    CHECK_EQ_U(st.detect.scanned_bytes - st0.detect.scanned_bytes, 2);

    seg(&w, 1, "HELLO"); /* sets "hello" on the stream */
    CHECK_STR(take(&w), "");
    cg_inspect_get_stats(w.in, &st0);
    tconn_send(&w.c, 0, reply, sizeof reply);
    CHECK_STR(take(&w), "7,8,");
    cg_inspect_get_stats(w.in, &st);
    CHECK_EQ_U(st.detect.scanned_bytes - st0.detect.scanned_bytes, sizeof reply);

    /* KEY sets "key" and door tests it, in one packet */
    tconn_connect(&w.c, 83);
    memset(reply, '.', sizeof reply);
    memcpy(reply, "KEY", 3);
    memcpy(reply + 250, "door", 4);
    cg_inspect_get_stats(w.in, &st0);
    tconn_send(&w.c, 0, reply, sizeof reply);
    CHECK_STR(take(&w), "11,");
    cg_inspect_get_stats(w.in, &st);
    CHECK_EQ_U(st.detect.scanned_bytes - st0.detect.scanned_bytes, 3 + sizeof reply);
    /* without the key, door is not looked for */
    tconn_connect(&w.c, 83);
    memcpy(reply, "KEX", 3);
    cg_inspect_get_stats(w.in, &st0);
    tconn_send(&w.c, 0, reply, sizeof reply);
    CHECK_STR(take(&w), "");
    cg_inspect_get_stats(w.in, &st);
    CHECK_EQ_U(st.detect.scanned_bytes - st0.detect.scanned_bytes, 3);

    /* a flowbit unset in the packet makes an isnotset true for the next rule */
    tconn_connect(&w.c, 84);
    seg(&w, 1, "SETAB");
    CHECK_STR(take(&w), "");
    memcpy(reply, "UN ", 3);
    tconn_send(&w.c, 0, reply, sizeof reply);
    CHECK_STR(take(&w), "15,");
    world_free(&w);
}

/* A base64 value split over two pushes: positions in the decoded bytes do
 * not tie the rule to where an inspection starts. */
static void test_b64_stream(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    tconn_connect(&w.c, 87);
    seg(&w, 1, "xxxxk=");
    CHECK_STR(take(&w), "");
    seg(&w, 1, "aGVsbG8gd29ybGQ=\n");
    CHECK_STR(take(&w), "20s,");
    world_free(&w);
}

/* xbits: a bit set on one flow holds on another flow of the same host (or
 * address pair) until it expires or is unset. */
static void test_xbits(void)
{
    world w;
    CHECK(world_make(&w, 0) == 0);
    if (!w.in)
        return;
    tconn_connect(&w.c, 86);
    seg(&w, 1, "NEXT");
    CHECK_STR(take(&w), ""); /* not set yet */
    tconn_connect(&w.c, 85);
    seg(&w, 1, "ATTEMPT");
    CHECK_STR(take(&w), ""); /* noalert: sets the bits */
    tconn_connect(&w.c, 86);
    seg(&w, 1, "NEXT");
    CHECK_STR(take(&w), "17s,"); /* the server's bit, another flow */
    seg(&w, 0, "DONE");
    CHECK_STR(take(&w), "18s,"); /* the pair's, the other way */
    seg(&w, 1, "CLEAR");
    seg(&w, 1, " NEXT");
    CHECK_STR(take(&w), ""); /* unset */
    tconn_connect(&w.c, 85);
    seg(&w, 1, "ATTEMPT");
    w.c.ts += 11000000; /* past the 10 s */
    tconn_connect(&w.c, 86);
    seg(&w, 1, "NEXT");
    seg(&w, 0, "DONE");
    CHECK_STR(take(&w), ""); /* expired */
    world_free(&w);
}

int main(void)
{
    test_xbits();
    test_b64_stream();
    test_lookback();
    test_chunk_boundary();
    test_packet_reach();
    test_splits(0);
    test_splits(1);
    test_long_pattern();
    test_gap();
    test_when();
    test_depth();
    return check_done("inspect");
}
