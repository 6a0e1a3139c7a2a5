/* test_detect.c — the detection engine: prefilter grouping, content semantics
 * (positions, relative matches with backtracking, negation), pcre, flow,
 * dsize, thresholds, pass rules, and the compiled-database cache. Packets are
 * built as views directly; rules go through the real parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/engine/detect.h"
#include "analyzer/lang/rule.h"
#include "tests/check.h"

static void v4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned w)
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x;
    a[13] = (uint8_t)y;
    a[14] = (uint8_t)z;
    a[15] = (uint8_t)w;
}

/* A TCP packet view from 203.0.113.5:40000 to 10.20.1.10:dport. */
static cg_packet pkt(const char *payload, uint16_t dport, uint64_t ts)
{
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = ts;
    p.ipver = 4;
    p.proto = 6;
    p.flags = CG_PKT_HAS_PORTS;
    v4(p.src, 203, 0, 113, 5);
    v4(p.dst, 10, 20, 1, 10);
    p.sport = 40000;
    p.dport = dport;
    p.tcp_flags = CG_TH_ACK | CG_TH_PSH;
    p.payload = (const uint8_t *)payload;
    p.payload_len = (uint32_t)strlen(payload);
    return p;
}

static cg_flow established_flow(void)
{
    cg_flow f;
    memset(&f, 0, sizeof f);
    f.proto = 6;
    f.tcp_state = CG_TCP_ESTABLISHED;
    f.seen_both = 1;
    return f;
}

typedef struct engine {
    cg_ruleset *rs;
    cg_detect *d;
    cg_detect_worker *w;
} engine;

static int engine_make(engine *e, const char *const *rules, const char *cache)
{
    char err[512];
    memset(e, 0, sizeof *e);
    if (cg_ruleset_create(&e->rs))
        return -1;
    for (int i = 0; rules[i]; i++)
        if (cg_ruleset_add_rule(e->rs, rules[i], err, sizeof err)) {
            fprintf(stderr, "rule %d: %s\n", i, err);
            return -1;
        }
    if (cg_detect_build(&e->d, e->rs, cache, err, sizeof err) ||
        cg_detect_worker_create(&e->w, e->d, err, sizeof err)) {
        fprintf(stderr, "engine: %s\n", err);
        return -1;
    }
    return 0;
}

static void engine_free(engine *e)
{
    cg_detect_worker_destroy(e->w);
    cg_detect_destroy(e->d);
    cg_ruleset_destroy(e->rs);
}

/* Sids that alert on p, written into out as "sid,sid," (sorted by rule order). */
static const char *fire(engine *e, const cg_packet *p, const cg_flow *f, int to_server)
{
    static char out[256];
    const cg_rule *const *al;
    uint32_t n = cg_detect_packet(e->w, p, f, to_server, &al);
    out[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t l = strlen(out);
        snprintf(out + l, sizeof out - l, "%u,", al[i]->sid);
    }
    return out;
}

static void test_contents(void)
{
    static const char *const rules[] = {
        "alert tcp any any -> any any (msg:\"abs offset depth\"; content:\"admin\"; offset:4; "
        "depth:10; sid:1;)",
        "alert tcp any any -> any any (msg:\"relative\"; content:\"user=\"; content:\"root\"; "
        "distance:0; within:4; sid:2;)",
        "alert tcp any any -> any any (msg:\"backtrack\"; content:\"A=\"; content:\"B\"; within:1; "
        "sid:3;)",
        "alert tcp any any -> any any (msg:\"negated\"; content:\"GET \"; startswith; "
        "content:!\"Host\"; sid:4;)",
        "alert tcp any any -> any any (msg:\"nocase\"; content:\"UNION SELECT\"; nocase; sid:5;)",
        "alert tcp any any -> any any (msg:\"endswith\"; content:\".php\"; endswith; sid:6;)",
        "alert tcp any any -> any any (msg:\"pcre rel\"; content:\"id=\"; "
        "pcre:\"/^[0-9]{12}\\b/R\"; sid:7;)",
        "alert tcp any any -> any any (msg:\"hex\"; content:\"|de ad|be|ef|\"; sid:8;)",
        "alert tcp any any -> any any (msg:\"dsize\"; content:\"ping\"; dsize:<10; sid:9;)",
        "alert tcp any any -> any any (msg:\"no content\"; dsize:>1000; sid:10;)",
        NULL
    };
    engine e;
    CHECK(engine_make(&e, rules, NULL) == 0);
    if (!e.w)
        return;
    cg_flow f = established_flow();
    cg_packet p;

    p = pkt("xxxxadmin", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "1,");
    p = pkt("admin.....", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), ""); /* before offset */
    p = pkt("xxxx......admin", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), ""); /* past depth */
    p = pkt("q?user=root&x", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "2,");
    p = pkt("q?user=xroot", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), ""); /* outside within */
    p = pkt("A=x A=B", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "3,"); /* second A= */
    p = pkt("A=x A=y", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "");
    p = pkt("GET / HTTP/1.0\r\n\r\n", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "4,");
    p = pkt("GET / HTTP/1.1\r\nHost: a\r\n", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "");
    p = pkt("x GET / HTTP/1.0", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), ""); /* not at start */
    p = pkt("id=1 uNiOn SeLeCt 2", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "5,");
    p = pkt("POST /shell.php", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "6,");
    p = pkt("POST /shell.php?x", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "");
    p = pkt("GET /shell.php", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "4,6,"); /* no Host either */
    p = pkt("so id=079204001234 ok", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "7,");
    p = pkt("so id=0792040012345 ok", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), ""); /* 13 digits */
    p = pkt("id=x id=079204001234", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "7,"); /* pcre backtracks */
    p = pkt("\xde\xad"
            "be\xef",
            80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "8,");
    p = pkt("ping", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "9,");
    p = pkt("ping ping ping", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "");
    char big[1200];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    p = pkt(big, 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "10,");
    engine_free(&e);
}

static void test_header_and_groups(void)
{
    static const char *const rules[] = {
        "alert tcp any any -> 10.20.0.0/16 80 (msg:\"port 80\"; content:\"evil\"; sid:20;)",
        "alert tcp any any -> 10.20.0.0/16 [8000:8100,!8080] (msg:\"port range\"; "
        "content:\"evil\"; sid:21;)",
        "alert tcp any any -> 10.20.0.0/16 any (msg:\"to server\"; flow:established,to_server; "
        "content:\"evil\"; sid:22;)",
        "alert tcp any any -> any any (msg:\"to client\"; flow:to_client; content:\"evil\"; "
        "sid:23;)",
        "alert tcp 10.20.0.0/16 any <> 203.0.113.0/24 any (msg:\"bidir\"; content:\"evil\"; "
        "sid:24;)",
        "alert udp any any -> any any (msg:\"udp only\"; content:\"evil\"; sid:25;)",
        "alert tcp !203.0.113.0/24 any -> any any (msg:\"not from there\"; content:\"evil\"; "
        "sid:26;)",
        NULL
    };
    engine e;
    CHECK(engine_make(&e, rules, NULL) == 0);
    if (!e.w)
        return;
    cg_flow f = established_flow();
    cg_packet p = pkt("an evil thing", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "20,22,24,");
    p = pkt("an evil thing", 8050, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "21,22,24,");
    p = pkt("an evil thing", 8080, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "22,24,");
    p = pkt("an evil thing", 81, 1);
    CHECK_STR(fire(&e, &p, NULL, 1), "24,"); /* no flow: flow rules cannot match */
    /* the reply direction: server -> client */
    p = pkt("an evil thing", 40000, 1);
    v4(p.src, 10, 20, 1, 10);
    v4(p.dst, 203, 0, 113, 5);
    p.sport = 80;
    CHECK_STR(fire(&e, &p, &f, 0), "23,24,26,");
    p.proto = 17;
    CHECK_STR(fire(&e, &p, &f, 0), "25,");
    cg_detect_info di;
    cg_detect_get_info(e.d, &di);
    CHECK(di.port_groups >= 2);
    CHECK_EQ_U(di.rules, 7);
    engine_free(&e);
}

/* Rules without content whose address sets are narrow (IP reputation lists)
 * are found by address lookup; what alerts must be what a check of every rule
 * would give. */
static void test_address_index(void)
{
    static const char *const rules[] = {
        "alert ip [198.51.100.7,198.51.100.9,203.0.113.0/25] any -> $HOME_NET any (msg:\"bad "
        "sources\"; sid:50;)",
        "alert ip [198.51.100.8/29,255.255.255.255] any -> any any (msg:\"overlapping list\"; "
        "sid:51;)",
        "alert ip $HOME_NET any -> [192.0.2.1,2001:db8:bad::/48] any (msg:\"bad destinations\"; "
        "sid:52;)",
        "alert tcp any any -> any 80 (msg:\"broad both sides\"; dsize:>900; sid:53;)",
        "alert ip 203.0.113.64 any <> 10.0.0.0/8 any (msg:\"bidir\"; sid:54;)",
        "alert ip [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120] any -> any any (msg:\"the top of "
        "v6\"; sid:55;)",
        NULL
    };
    engine e;
    CHECK(engine_make(&e, rules, NULL) == 0);
    if (!e.w)
        return;
    cg_detect_info di;
    cg_detect_get_info(e.d, &di);
    CHECK(di.addr_indexed > 0);
    CHECK(di.always > 0); /* sid 53 and 54 stay always-checked */
    cg_flow f = established_flow();
    cg_packet p = pkt("hello", 80, 1); /* 203.0.113.5 -> 10.20.1.10 */
    CHECK_STR(fire(&e, &p, &f, 1), "50,");
    v4(p.src, 203, 0, 113, 127);
    CHECK_STR(fire(&e, &p, &f, 1), "50,");
    v4(p.src, 203, 0, 113, 128);
    CHECK_STR(fire(&e, &p, &f, 1), "");
    v4(p.src, 198, 51, 100, 7);
    CHECK_STR(fire(&e, &p, &f, 1), "50,");
    v4(p.src, 198, 51, 100, 8);
    CHECK_STR(fire(&e, &p, &f, 1), "51,");
    v4(p.src, 198, 51, 100, 9);
    CHECK_STR(fire(&e, &p, &f, 1), "50,51,");
    v4(p.src, 198, 51, 100, 15);
    CHECK_STR(fire(&e, &p, &f, 1), "51,");
    v4(p.src, 198, 51, 100, 16);
    CHECK_STR(fire(&e, &p, &f, 1), "");
    v4(p.src, 255, 255, 255, 255);
    CHECK_STR(fire(&e, &p, &f, 1), "51,");
    v4(p.src, 203, 0, 113, 64);
    CHECK_STR(fire(&e, &p, &f, 1), "50,54,");
    /* the reply of the bidirectional rule */
    v4(p.src, 10, 1, 2, 3);
    v4(p.dst, 203, 0, 113, 64);
    CHECK_STR(fire(&e, &p, &f, 0), "54,");
    v4(p.dst, 192, 0, 2, 1);
    CHECK_STR(fire(&e, &p, &f, 1), "52,");
    v4(p.dst, 192, 0, 2, 2);
    CHECK_STR(fire(&e, &p, &f, 1), "");
    /* IPv6 */
    static const uint8_t bad6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, 0, 0,
                                      0,    0,    0,    0,    0,    0,    0, 9 };
    memcpy(p.dst, bad6, 16);
    CHECK_STR(fire(&e, &p, &f, 1), "52,");
    memset(p.src, 0xff, 16);
    CHECK_STR(fire(&e, &p, &f, 1), "55,"); /* src not HOME_NET */
    p.src[15] = 0xfe;
    CHECK_STR(fire(&e, &p, &f, 1), "55,");
    p.src[14] = 0xfe;
    CHECK_STR(fire(&e, &p, &f, 1), "");
    /* a broad rule is still checked on every packet */
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    p = pkt(big, 80, 1);
    v4(p.src, 8, 8, 8, 8);
    CHECK_STR(fire(&e, &p, &f, 1), "53,");
    engine_free(&e);
}

static void test_thresholds(void)
{
    static const char *const rules[] = {
        "alert tcp any any -> any any (msg:\"limit\"; content:\"L\"; threshold:type limit, track "
        "by_src, count 2, seconds 60; sid:30;)",
        "alert tcp any any -> any any (msg:\"threshold\"; content:\"T\"; threshold:type threshold, "
        "track by_src, count 3, seconds 60; sid:31;)",
        "alert tcp any any -> any any (msg:\"both\"; content:\"B\"; threshold:type both, track "
        "by_dst, count 3, seconds 60; sid:32;)",
        "alert tcp any any -> any any (msg:\"filter\"; content:\"F\"; detection_filter:track "
        "by_src, count 2, seconds 60; sid:33;)",
        NULL
    };
    engine e;
    CHECK(engine_make(&e, rules, NULL) == 0);
    if (!e.w)
        return;
    cg_flow f = established_flow();
    int nl = 0, nt = 0, nb = 0, nf = 0;
    for (int i = 0; i < 7; i++) {
        uint64_t ts = 1000000ull * (uint64_t)i;
        cg_packet p = pkt("L", 80, ts);
        nl += strlen(fire(&e, &p, &f, 1)) > 0;
        p = pkt("T", 80, ts);
        nt += strlen(fire(&e, &p, &f, 1)) > 0;
        p = pkt("B", 80, ts);
        nb += strlen(fire(&e, &p, &f, 1)) > 0;
        p = pkt("F", 80, ts);
        nf += strlen(fire(&e, &p, &f, 1)) > 0;
    }
    CHECK_EQ_U(nl, 2); /* first two */
    CHECK_EQ_U(nt, 2); /* 3rd and 6th */
    CHECK_EQ_U(nb, 1); /* once, at the 3rd */
    CHECK_EQ_U(nf, 5); /* 3rd..7th */
    /* a new window after 60 s: limit alerts again */
    cg_packet p = pkt("L", 80, 61000000ull);
    CHECK_STR(fire(&e, &p, &f, 1), "30,");
    engine_free(&e);
}

static void test_pass_and_cache(void)
{
    static const char *const rules[] = {
        "alert tcp any any -> any any (msg:\"scanner\"; content:\"sqlmap\"; sid:40;)",
        "pass tcp 203.0.113.5 any -> any any (msg:\"our own scanner\"; content:\"sqlmap\"; "
        "sid:41;)",
        "alert tcp any any -> any any (msg:\"other\"; content:\"nikto\"; sid:42;)", NULL
    };
    char dir[] = "/tmp/cg-detect-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    engine e;
    CHECK(engine_make(&e, rules, dir) == 0);
    if (!e.w)
        return;
    cg_flow f = established_flow();
    cg_packet p = pkt("ua: sqlmap/1.7", 80, 1);
    CHECK_STR(fire(&e, &p, &f, 1), ""); /* silenced by the pass rule */
    v4(p.src, 198, 51, 100, 7);
    CHECK_STR(fire(&e, &p, &f, 1), "40,");
    cg_detect_info di;
    cg_detect_get_info(e.d, &di);
    CHECK_EQ_U(di.from_cache, 0);
    CHECK(di.cache_path[0] != 0);
    engine_free(&e);

    engine e2;
    CHECK(engine_make(&e2, rules, dir) == 0);
    if (e2.w) {
        cg_detect_get_info(e2.d, &di);
        CHECK_EQ_U(di.from_cache, 1);
        p = pkt("ua: Nikto", 80, 1);
        CHECK_STR(fire(&e2, &p, &f, 1), ""); /* case matters without nocase */
        p = pkt("ua: nikto", 80, 1);
        CHECK_STR(fire(&e2, &p, &f, 1), "42,");
        /* a corrupt cache file is ignored and rewritten */
        FILE *fp = fopen(di.cache_path, "r+b");
        CHECK(fp != NULL);
        if (fp) {
            fseek(fp, 60, SEEK_SET);
            fputs("garbage garbage garbage", fp);
            fclose(fp);
        }
    }
    engine_free(&e2);
    engine e3;
    CHECK(engine_make(&e3, rules, dir) == 0);
    if (e3.w) {
        cg_detect_get_info(e3.d, &di);
        CHECK_EQ_U(di.from_cache, 0);
        p = pkt("ua: nikto", 80, 1);
        CHECK_STR(fire(&e3, &p, &f, 1), "42,");
        unlink(di.cache_path);
    }
    engine_free(&e3);
    rmdir(dir);
}

/* The databases per address class: rules naming the most common address
 * set (here [10.0.0.0/8,192.168.0.0/16], $HOME_NET's way) are looked for only
 * on packets whose ends they can match, and are not even candidates on
 * others; bidirectional rules both ways; the same from the cache. */
static void test_address_classes(void)
{
    static const char *const rules[] = {
        "alert tcp [10.0.0.0/8,192.168.0.0/16] any -> ![10.0.0.0/8,192.168.0.0/16] any "
        "(msg:\"out\"; content:\"exfil-marker\"; sid:50;)",
        "alert tcp ![10.0.0.0/8,192.168.0.0/16] any -> [10.0.0.0/8,192.168.0.0/16] any "
        "(msg:\"in\"; content:\"attack-marker\"; sid:51;)",
        "alert tcp [10.0.0.0/8,192.168.0.0/16] any -> [10.0.0.0/8,192.168.0.0/16] any "
        "(msg:\"lateral\"; content:\"lateral-marker\"; sid:52;)",
        "alert tcp [10.0.0.0/8,192.168.0.0/16] any <> ![10.0.0.0/8,192.168.0.0/16] any "
        "(msg:\"either way\"; content:\"both-marker\"; sid:53;)",
        "alert tcp any any -> any any (msg:\"anywhere\"; content:\"any-marker\"; sid:54;)",
        "alert ip [10.0.0.0/8,192.168.0.0/16] any -> ![10.0.0.0/8,192.168.0.0/16] any "
        "(msg:\"6in4 out\"; ip_proto:41; sid:55;)",
        /* a fast pattern longer than what is looked for (its last 32 bytes) */
        "alert tcp any any -> any any (msg:\"long\"; content:\"0123456789abcdefghijklmnopqrstuvwxyz"
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ\"; sid:56;)",
        NULL
    };
    char dir[] = "/tmp/cg-detect-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    const char *all = "exfil-marker attack-marker lateral-marker both-marker any-marker";
    for (int round = 0; round < 2; round++) { /* compiled, then from the cache */
        engine e;
        CHECK(engine_make(&e, rules, dir) == 0);
        if (!e.w)
            break;
        cg_detect_info di;
        cg_detect_get_info(e.d, &di);
        CHECK_EQ_U(di.from_cache, (unsigned)round);
        cg_flow f = established_flow();
        cg_packet p = pkt(all, 80, 1); /* 203.0.113.5 -> 10.20.1.10 */
        CHECK_STR(fire(&e, &p, &f, 1), "51,53,54,");
        v4(p.src, 192, 168, 3, 4); /* inside -> inside */
        CHECK_STR(fire(&e, &p, &f, 1), "52,54,");
        v4(p.dst, 198, 51, 100, 7); /* inside -> outside */
        CHECK_STR(fire(&e, &p, &f, 1), "50,53,54,");
        /* the rules of other classes were not candidates */
        cg_detect_stats st0, st1;
        cg_detect_worker_stats(e.w, &st0);
        p = pkt("exfil-marker attack-marker", 80, 1);
        v4(p.src, 10, 1, 1, 1);
        CHECK_STR(fire(&e, &p, &f, 1), "");
        cg_detect_worker_stats(e.w, &st1);
        CHECK_EQ_U(st1.candidates - st0.candidates, 0);
        /* an always-checked rule (no content) of another class is not one either */
        v4(p.dst, 8, 8, 8, 8);
        p.proto = 41;
        p.flags = 0;
        cg_detect_worker_stats(e.w, &st0);
        CHECK_STR(fire(&e, &p, &f, 1), "55,");
        v4(p.dst, 10, 9, 9, 9);
        CHECK_STR(fire(&e, &p, &f, 1), "");
        cg_detect_worker_stats(e.w, &st1);
        CHECK_EQ_U(st1.candidates - st0.candidates, 1);
        /* the long pattern: found whole, and not on its last 32 bytes alone */
        p = pkt("xx0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZxx", 80, 1);
        CHECK_STR(fire(&e, &p, &f, 1), "56,");
        p = pkt("xx-123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZxx", 80, 1);
        CHECK_STR(fire(&e, &p, &f, 1), "");
        if (round == 1)
            unlink(di.cache_path);
        engine_free(&e);
    }
    rmdir(dir);
}

int main(void)
{
    test_address_classes();
    test_contents();
    test_header_and_groups();
    test_address_index();
    test_thresholds();
    test_pass_and_cache();
    return check_done("detect");
}
