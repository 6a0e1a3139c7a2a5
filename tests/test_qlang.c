/* test_qlang.c — the query language: what each field and operator selects,
 * precedence, either-side fields, errors with their columns, index hints that
 * never exclude a match, and hostile input (every prefix, random bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/qlang.h"
#include "tests/check.h"

#define NOW 1764000000000000ull /* 2025-11-24T16:00:00Z */
#define HOUR 3600000000ull

static void v4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned w)
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x;
    a[13] = (uint8_t)y;
    a[14] = (uint8_t)z;
    a[15] = (uint8_t)w;
}

/* A web attack from Sweden on the citizen-services portal, two hours ago. */
static cg_qrec rec(void)
{
    cg_qrec r;
    memset(&r, 0, sizeof r);
    r.id = 42;
    r.first_us = NOW - 2 * HOUR;
    r.last_us = NOW - HOUR;
    r.count = 7;
    r.gid = 1;
    r.sid = 9100101;
    r.severity = 1;
    r.status = 0;
    r.proto = 6;
    r.layers = 0x3;
    v4(r.src, 89, 160, 20, 112);
    v4(r.dst, 10, 20, 1, 10);
    r.sport = 51234;
    r.dport = 80;
    r.msg = "CANHGAC WEB SQL injection UNION SELECT";
    r.classtype = "web-application-attack";
    r.assignee = "";
    r.community_id = "1:abcdefghijklmnopqrstuvwxyz0=";
    r.src_country = "SE";
    r.dst_country = "";
    r.src_asn = 29518;
    r.dst_asn = 0;
    r.src_agency = "";
    r.dst_agency = "Sở Thông tin và Truyền thông";
    r.src_zone = "";
    r.dst_zone = "DMZ";
    return r;
}

/* Whether r satisfies the hints, as the store would check them. */
static int hints_match(const cg_qhints *h, const cg_qrec *r)
{
    if ((h->has & CG_QH_TIME) && (r->first_us < h->time_lo || r->first_us > h->time_hi))
        return 0;
    if ((h->has & CG_QH_SRC) &&
        (memcmp(r->src, h->src_lo, 16) < 0 || memcmp(r->src, h->src_hi, 16) > 0))
        return 0;
    if ((h->has & CG_QH_DST) &&
        (memcmp(r->dst, h->dst_lo, 16) < 0 || memcmp(r->dst, h->dst_hi, 16) > 0))
        return 0;
    if ((h->has & CG_QH_SID) && r->sid != h->sid)
        return 0;
    if ((h->has & CG_QH_SEV) && r->severity > h->sev_max)
        return 0;
    if ((h->has & CG_QH_STATUS) && r->status != h->status)
        return 0;
    if ((h->has & CG_QH_DPORT) && r->dport != h->dport)
        return 0;
    if ((h->has & CG_QH_SRC_CC) && strcmp(r->src_country, h->src_cc))
        return 0;
    if ((h->has & CG_QH_DST_CC) && strcmp(r->dst_country, h->dst_cc))
        return 0;
    if ((h->has & CG_QH_SRC_ASN) && r->src_asn != h->src_asn)
        return 0;
    if ((h->has & CG_QH_DST_ASN) && r->dst_asn != h->dst_asn)
        return 0;
    if ((h->has & CG_QH_CID) && strcmp(r->community_id, h->cid))
        return 0;
    if ((h->has & CG_QH_ATTACK) && r->attack_id != h->attack)
        return 0;
    return 1;
}

static unsigned exact_seen; /* expressions whose hints were exact */

/* 1 match, 0 no match, -1 parse error. */
static int q(const char *text, const cg_qrec *r)
{
    cg_qexpr *e = NULL;
    char err[256];
    int col = 0;
    if (cg_qlang_parse(text, NOW, &e, err, sizeof err, &col))
        return -1;
    int m = cg_qlang_eval(e, r);
    /* the hints never exclude a record the expression accepts */
    cg_qhints h;
    cg_qlang_hints(e, &h);
    if (m) {
        if (h.has & CG_QH_TIME)
            CHECK(r->first_us >= h.time_lo && r->first_us <= h.time_hi);
        if (h.has & CG_QH_SRC)
            CHECK(memcmp(r->src, h.src_lo, 16) >= 0 && memcmp(r->src, h.src_hi, 16) <= 0);
        if (h.has & CG_QH_DST)
            CHECK(memcmp(r->dst, h.dst_lo, 16) >= 0 && memcmp(r->dst, h.dst_hi, 16) <= 0);
        if (h.has & CG_QH_SID)
            CHECK_EQ_U(r->sid, h.sid);
        if (h.has & CG_QH_SEV)
            CHECK(r->severity <= h.sev_max);
        if (h.has & CG_QH_STATUS)
            CHECK_EQ_U(r->status, h.status);
        if (h.has & CG_QH_DPORT)
            CHECK_EQ_U(r->dport, h.dport);
        if (h.has & CG_QH_SRC_CC)
            CHECK_STR(r->src_country, h.src_cc);
        if (h.has & CG_QH_SRC_ASN)
            CHECK_EQ_U(r->src_asn, h.src_asn);
        if (h.has & CG_QH_ATTACK)
            CHECK_EQ_U(r->attack_id, h.attack);
    }
    /* exact hints: matching them is matching the expression */
    if (h.exact) {
        exact_seen++;
        if (hints_match(&h, r) != m)
            fprintf(stderr, "exact hints disagree on: %s\n", text);
        CHECK_EQ_U(hints_match(&h, r), m);
    }
    cg_qlang_free(e);
    return m;
}

/* The error message (with its column) of a bad query. */
static const char *qerr(const char *text, int *col)
{
    static char err[512];
    cg_qexpr *e = NULL;
    *col = 0;
    err[0] = 0;
    if (cg_qlang_parse(text, NOW, &e, err, sizeof err, col) == 0) {
        cg_qlang_free(e);
        return "(parsed)";
    }
    return err;
}

static void test_fields(void)
{
    cg_qrec r = rec();
    CHECK_EQ_U(q("since 24h", &r), 1);
    CHECK_EQ_U(q("since 1h", &r), 0);
    CHECK_EQ_U(q("until 1h", &r), 1);
    CHECK_EQ_U(q("until 3h", &r), 0);
    CHECK_EQ_U(q("since 2025-11-24T13:00:00 and until 2025-11-24T15:00", &r), 1);
    /* the filter words of earlier versions: since=T, until=T */
    CHECK_EQ_U(q("since=24h until=1h", &r), 1);
    CHECK_EQ_U(q("since=1h", &r), 0);
    CHECK_EQ_U(q("since = 3h sid=9100101", &r), 1);
    CHECK_EQ_U(q("time >= @1763992800", &r), 1); /* 14:00 exactly */
    CHECK_EQ_U(q("time > @1763992800", &r), 0);
    CHECK_EQ_U(q("last_seen >= 90m", &r), 1);
    CHECK_EQ_U(q("src = 89.160.20.112", &r), 1);
    CHECK_EQ_U(q("src in 89.160.0.0/16", &r), 1);
    CHECK_EQ_U(q("src in 89.161.0.0/16", &r), 0);
    CHECK_EQ_U(q("src=89.160.20.112/32 dst=10.20.0.0/16", &r), 1); /* juxtaposition = and */
    CHECK_EQ_U(q("dst in 10.20.1.0/24 and dst != 10.20.1.11", &r), 1);
    CHECK_EQ_U(q("src in ::ffff:0:0/96", &r), 1); /* every IPv4 address */
    CHECK_EQ_U(q("src in 2001:db8::/32", &r), 0);
    CHECK_EQ_U(q("ip = 10.20.1.10", &r), 1);  /* either side */
    CHECK_EQ_U(q("ip != 10.20.1.10", &r), 0); /* neither side */
    CHECK_EQ_U(q("ip not in [10.20.1.10, 1.2.3.4]", &r), 0);
    CHECK_EQ_U(q("ip in [192.168.0.0/16, 89.160.20.0/24]", &r), 1);
    CHECK_EQ_U(q("dport = 80 and sport > 50000", &r), 1);
    CHECK_EQ_U(q("port = 51234", &r), 1);
    CHECK_EQ_U(q("port in [22, 3389]", &r), 0);
    CHECK_EQ_U(q("sid = 9100101", &r), 1);
    CHECK_EQ_U(q("sid in [1, 2, 9100101]", &r), 1);
    CHECK_EQ_U(q("sid not in [1, 2, 9100101]", &r), 0);
    CHECK_EQ_U(q("gid = 1 and count >= 7 and count < 8 and id = 42", &r), 1);
    CHECK_EQ_U(q("sev >= high", &r), 1);
    CHECK_EQ_U(q("sev = medium", &r), 0);
    CHECK_EQ_U(q("sev > medium", &r), 1);
    CHECK_EQ_U(q("sev < medium", &r), 0);
    CHECK_EQ_U(q("severity <= low", &r), 0);
    CHECK_EQ_U(q("sev >= 2", &r), 1);
    CHECK_EQ_U(q("status = new", &r), 1);
    CHECK_EQ_U(q("status != new", &r), 0);
    CHECK_EQ_U(q("status in [resolved, fp]", &r), 0);
    CHECK_EQ_U(q("proto = tcp", &r), 1);
    CHECK_EQ_U(q("proto = 17", &r), 0);
    CHECK_EQ_U(q("msg ~ \"sql injection\"", &r), 1);
    CHECK_EQ_U(q("msg ~ union", &r), 1);
    CHECK_EQ_U(q("msg !~ union", &r), 0);
    CHECK_EQ_U(q("msg = \"CANHGAC WEB SQL injection UNION SELECT\"", &r), 1);
    CHECK_EQ_U(q("classtype = web-application-attack", &r), 1);
    CHECK_EQ_U(q("assignee = \"\"", &r), 1);
    CHECK_EQ_U(q("assignee = lan", &r), 0);
    CHECK_EQ_U(q("community_id = \"1:abcdefghijklmnopqrstuvwxyz0=\"", &r), 1);
    CHECK_EQ_U(q("src.country = se", &r), 1);  /* case-insensitive */
    CHECK_EQ_U(q("dst.country != VN", &r), 1); /* unknown is not VN */
    CHECK_EQ_U(q("country = SE", &r), 1);
    CHECK_EQ_U(q("country in [VN, CN]", &r), 0);
    /* "" is an unknown country; a bare word must be two letters */
    CHECK_EQ_U(q("dst.country = \"\"", &r), 1);
    CHECK_EQ_U(q("src.country = \"\"", &r), 0);
    CHECK_EQ_U(q("country = \"\"", &r), 1);
    CHECK_EQ_U(q("dst.country in [\"\", VN]", &r), 1);
    CHECK_EQ_U(q("src.country = SWE", &r), -1);
    CHECK_EQ_U(q("src.asn = 29518 and asn = AS29518", &r), 1);
    CHECK_EQ_U(q("dst.asn = 29518", &r), 0);
    CHECK_EQ_U(q("dst.agency ~ \"thông tin\"", &r), 1);
    CHECK_EQ_U(q("zone = dmz", &r), 1);
    CHECK_EQ_U(q("src.zone = dmz", &r), 0);
    CHECK_EQ_U(q("layer = 2", &r), 1);
    CHECK_EQ_U(q("layer = 4", &r), 0);
    /* layers 1 and 2 reached: one of them above or below */
    CHECK_EQ_U(q("layer >= 2", &r), 1);
    CHECK_EQ_U(q("layer > 2", &r), 0);
    CHECK_EQ_U(q("layer < 2", &r), 1);
    CHECK_EQ_U(q("layer <= 1", &r), 1);
    CHECK_EQ_U(q("layer != 2", &r), 0);
    CHECK_EQ_U(q("layer != 3", &r), 1);
    CHECK_EQ_U(q("layer in [3, 4]", &r), 0);
    CHECK_EQ_U(q("layer >= 2 and status = new", &r), r.status == 0);
    CHECK_EQ_U(q("SID = 9100101 AND Status = NEW", &r), 1); /* keywords in any case */

    /* IPv6 */
    memset(r.src, 0, 16);
    r.src[0] = 0x20;
    r.src[1] = 0x01;
    r.src[2] = 0x0d;
    r.src[3] = 0xb8;
    r.src[15] = 1;
    CHECK_EQ_U(q("src in 2001:db8::/32", &r), 1);
    CHECK_EQ_U(q("src = 2001:db8::1", &r), 1);
    CHECK_EQ_U(q("src in 10.0.0.0/8", &r), 0);
}

static void test_logic(void)
{
    cg_qrec r = rec();
    CHECK_EQ_U(q("sid = 1 or sid = 9100101", &r), 1);
    CHECK_EQ_U(q("not sid = 1", &r), 1);
    CHECK_EQ_U(q("not (sid = 1 or dport = 80)", &r), 0);
    /* and binds tighter than or */
    CHECK_EQ_U(q("sid = 1 and dport = 80 or status = new", &r), 1);
    CHECK_EQ_U(q("sid = 1 and (dport = 80 or status = new)", &r), 0);
    CHECK_EQ_U(q("((((sid = 9100101))))", &r), 1);
    CHECK_EQ_U(q("not not sid = 9100101", &r), 1);
    /* the example */
    r.dst_country = "VN";
    CHECK_EQ_U(q("since 24h and src in 89.160.0.0/16 and sev >= high and dst.country != VN "
                 "and status = new",
                 &r),
               0);
    r.dst_country = "";
    CHECK_EQ_U(q("since 24h and src in 89.160.0.0/16 and sev >= high and dst.country != VN "
                 "and status = new",
                 &r),
               1);
}

static void test_errors(void)
{
    int col;
    CHECK_CONTAINS(qerr("since 24h and bogus = 1", &col), "unknown field 'bogus'");
    CHECK_EQ_U(col, 15);
    CHECK_CONTAINS(qerr("src in 10.0.0.0/33", &col), "'10.0.0.0/33' is not an address or CIDR");
    CHECK_EQ_U(col, 8);
    CHECK_CONTAINS(qerr("since yesterday", &col), "'yesterday' is not a time");
    CHECK_EQ_U(col, 7);
    CHECK_CONTAINS(qerr("sid = 1 and (dport = 80", &col), "'(' is never closed");
    CHECK_EQ_U(col, 13);
    CHECK_CONTAINS(qerr("sid = 1)", &col), "unbalanced ')'");
    CHECK_EQ_U(col, 8);
    CHECK_CONTAINS(qerr("sid 1", &col), "expected an operator");
    CHECK_EQ_U(col, 5);
    CHECK_CONTAINS(qerr("sid =", &col), "expected a number after sid");
    CHECK_EQ_U(col, 6);
    CHECK_CONTAINS(qerr("sid = 1 and", &col), "found the end of the query");
    CHECK_EQ_U(col, 12);
    CHECK_CONTAINS(qerr("msg ~ \"open", &col), "unterminated string");
    CHECK_EQ_U(col, 7);
    CHECK_CONTAINS(qerr("sev >= critical", &col), "'critical' is not a severity");
    CHECK_EQ_U(col, 8);
    CHECK_CONTAINS(qerr("status = closed", &col), "is not a status");
    CHECK_CONTAINS(qerr("dport = 70000", &col), "'70000' is not a number");
    CHECK_CONTAINS(qerr("sid ~ 5", &col), "operator ~ does not apply to sid");
    CHECK_EQ_U(col, 5);
    CHECK_CONTAINS(qerr("sid in 5", &col), "'in' takes a list");
    CHECK_CONTAINS(qerr("sid in [1, 2", &col), "expected ',' or ']'");
    CHECK_CONTAINS(qerr("sid ! 1", &col), "'!' must be followed");
    CHECK_CONTAINS(qerr("src.country = VNM", &col), "two-letter country code");
    CHECK_CONTAINS(qerr("", &col), "found the end of the query");
    CHECK_EQ_U(col, 1);
    CHECK_CONTAINS(qerr("= 5", &col), "expected a field name");
    CHECK_CONTAINS(qerr("layer = 5", &col), "is not a layer");
    CHECK_CONTAINS(qerr("since 99999999999999999999h", &col), "is not a time");
    char deep[400];
    memset(deep, '(', 200);
    strcpy(deep + 200, "sid = 1");
    CHECK_CONTAINS(qerr(deep, &col), "nested deeper than");
}

static void test_hints(void)
{
    cg_qexpr *e;
    cg_qhints h;
    char err[256];
    int col;
    CHECK(cg_qlang_parse("since 24h and src in 10.20.0.0/16 and src in 10.20.3.0/24 and "
                         "sev >= medium and sid = 7 and dport = 443 and status = new and "
                         "src.country = cn and dst.asn = 13335 and until 1h",
                         NOW, &e, err, sizeof err, &col) == 0);
    cg_qlang_hints(e, &h);
    CHECK_EQ_U(h.has,
               CG_QH_TIME | CG_QH_SRC | CG_QH_SEV | CG_QH_SID | CG_QH_DPORT | CG_QH_STATUS |
                   CG_QH_SRC_CC | CG_QH_DST_ASN);
    CHECK_EQ_U(h.time_lo, NOW - 24 * HOUR);
    CHECK_EQ_U(h.time_hi, NOW - HOUR - 1);
    uint8_t a[16];
    v4(a, 10, 20, 3, 0);
    CHECK(memcmp(h.src_lo, a, 16) == 0);
    v4(a, 10, 20, 3, 255);
    CHECK(memcmp(h.src_hi, a, 16) == 0);
    CHECK_EQ_U(h.sev_max, 2);
    CHECK_STR(h.src_cc, "CN");
    cg_qlang_free(e);
    /* nothing from under or / not */
    CHECK(cg_qlang_parse("sid = 1 or src in 10.0.0.0/8", NOW, &e, err, sizeof err, &col) == 0);
    cg_qlang_hints(e, &h);
    CHECK_EQ_U(h.has, 0);
    cg_qlang_free(e);
    CHECK(cg_qlang_parse("not sid = 1 and dport = 22", NOW, &e, err, sizeof err, &col) == 0);
    cg_qlang_hints(e, &h);
    CHECK_EQ_U(h.has, CG_QH_DPORT);
    cg_qlang_free(e);
}

/* Random records against random queries: the hints never exclude a match
 * (checked inside q()), and evaluation agrees with De Morgan. */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_random(void)
{
    static const char *const terms[] = { "since 3h",
                                         "until 90m",
                                         "src in 10.0.0.0/8",
                                         "dst in 10.20.0.0/16",
                                         "sid = 5",
                                         "sid in [5, 6]",
                                         "sev >= medium",
                                         "sev = low",
                                         "status = new",
                                         "status != resolved",
                                         "dport = 80",
                                         "port = 22",
                                         "country = VN",
                                         "src.country != CN",
                                         "asn = 7552",
                                         "msg ~ ssh",
                                         "layer = 3",
                                         "ip in 10.20.1.0/24",
                                         "count > 3",
                                         "proto = udp",
                                         "sev > medium",
                                         "sev > high",
                                         "src.country = \"\"",
                                         "dst.country = cn",
                                         "src.asn = 7552",
                                         "dst.asn = 0",
                                         "sid = 6",
                                         "status = resolved",
                                         "dport = 22",
                                         "src = 10.20.1.2",
                                         "dst in 10.21.1.0/30",
                                         "time < 2h",
                                         "since 4h" };
    const size_t nt = sizeof terms / sizeof terms[0];
    static const char *const cc[] = { "VN", "CN", "US", "" };
    static const char *const msgs[] = { "SSH brute force", "SQL injection", "DNS tunnel" };
    char text[512], neg[600];
    unsigned agree = 0;
    for (int i = 0; i < 3000; i++) {
        cg_qrec r = rec();
        r.first_us = NOW - (rnd() % (5 * HOUR));
        v4(r.src, (rnd() & 1) ? 10 : 203, 20, (unsigned)(rnd() % 3), (unsigned)(rnd() % 4));
        v4(r.dst, 10, (rnd() & 1) ? 20 : 21, 1, (unsigned)(rnd() % 4));
        r.sid = 4 + (uint32_t)(rnd() % 3);
        r.severity = 1 + (uint8_t)(rnd() % 4);
        r.status = (uint8_t)(rnd() % 5);
        r.dport = (rnd() & 1) ? 80 : 22;
        r.sport = (rnd() & 1) ? 22 : 40000;
        r.src_country = cc[rnd() % 4];
        r.dst_country = cc[rnd() % 4];
        r.src_asn = (rnd() & 1) ? 7552 : 45899;
        r.msg = msgs[rnd() % 3];
        r.layers = (uint8_t)(rnd() % 16);
        r.count = rnd() % 6;
        r.proto = (rnd() & 1) ? 6 : 17;
        size_t n = 1 + rnd() % 4;
        text[0] = 0;
        for (size_t k = 0; k < n; k++) {
            if (k)
                strcat(text, (rnd() % 3) ? " and " : " or ");
            if (rnd() % 5 == 0)
                strcat(text, "not ");
            strcat(text, terms[rnd() % nt]);
        }
        int m = q(text, &r);
        snprintf(neg, sizeof neg, "not (%s)", text);
        int nm = q(neg, &r);
        agree += m >= 0 && nm >= 0 && m == !nm;
    }
    CHECK_EQ_U(agree, 3000);
    CHECK(exact_seen > 300);
}

/* Which expressions give exact hints. */
static void test_exact(void)
{
    static const struct {
        const char *text;
        int exact;
    } t[] = {
        { "since 24h and src in 10.20.0.0/16 and sev >= high and status = new", 1 },
        { "sid = 5 dport = 80 src.country = VN dst.asn = 13335 until 1h", 1 },
        { "src in 10.0.0.0/8 and src in 10.20.0.0/16 and since 2h and since 1h", 1 },
        { "sev > medium", 1 },
        { "sev = medium", 0 }, /* the hint is sev <= 2, wider */
        { "sev >= high and sev >= medium", 0 },
        { "sid = 5 and sid = 6", 0 },
        { "status = new and status = resolved", 0 },
        { "sid = 5 or sid = 6", 0 },
        { "not sid = 5", 0 },
        { "sid = 5 and port = 22", 0 },
        { "ip = 10.0.0.1", 0 },
        { "country = VN", 0 },
        { "community_id = \"1:abc\"", 0 },
        { "sid in [5, 6]", 0 },
        { "sid in [5]", 1 },
        { "time < @0", 0 },
        { "attack = 12", 1 },
        { "attack = 12 and since 1h", 1 },
        { "attack = 12 and attack = 13", 0 },
        { "attack != 12", 0 },
        { "url ~ union", 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        cg_qexpr *e = NULL;
        cg_qhints h;
        char err[256];
        int col;
        CHECK(cg_qlang_parse(t[i].text, NOW, &e, err, sizeof err, &col) == 0);
        cg_qlang_hints(e, &h);
        if (h.exact != t[i].exact)
            fprintf(stderr, "exact %d, want %d: %s\n", h.exact, t[i].exact, t[i].text);
        CHECK_EQ_U(h.exact, t[i].exact);
        cg_qlang_free(e);
    }
    cg_qhints h;
    cg_qlang_hints(NULL, &h);
    CHECK_EQ_U(h.exact, 0);
}

static void test_hostile(void)
{
    const char *good =
        "since 24h and (src in 10.20.0.0/16 or dst = 2001:db8::1) and "
        "sev >= high and msg ~ \"a \\\"b\\\"\" and sid in [1,2,3] and not status = new";
    cg_qexpr *e;
    char err[256];
    int col;
    size_t n = strlen(good);
    CHECK(cg_qlang_parse(good, NOW, &e, err, sizeof err, &col) == 0);
    cg_qlang_free(e);
    unsigned ok = 0;
    for (size_t i = 0; i <= n; i++) {
        char *cut = malloc(i + 1); /* exact size: ASan sees any over-read */
        memcpy(cut, good, i);
        cut[i] = 0;
        e = NULL;
        col = 0;
        if (cg_qlang_parse(cut, NOW, &e, err, sizeof err, &col) == 0)
            cg_qlang_free(e);
        else
            ok += col >= 1 && (size_t)col <= i + 1 && err[0] != 0;
        free(cut);
    }
    CHECK(ok > n / 2);
    for (int i = 0; i < 20000; i++) {
        size_t len = rnd() % 40;
        char *s = malloc(len + 1);
        static const char alphabet[] = "sid=<>!~()[],\" andorinot10.2/:abcxyz\\";
        for (size_t k = 0; k < len; k++)
            s[k] = (rnd() % 8) ? alphabet[rnd() % (sizeof alphabet - 1)] : (char)(rnd() % 255 + 1);
        s[len] = 0;
        e = NULL;
        col = 0;
        if (cg_qlang_parse(s, NOW, &e, err, sizeof err, &col) == 0) {
            cg_qrec r = rec();
            (void)cg_qlang_eval(e, &r);
            cg_qlang_free(e);
        } else {
            CHECK(col >= 1 && (size_t)col <= len + 1);
        }
        free(s);
    }
}

/* The context of the first alert and the attack: each field with = != ~ !~,
 * case, aliases, numbers, and what an empty context matches. */
static void test_context(void)
{
    cg_qrec r = rec(), none = rec();
    r.attack_id = 40;
    r.app_proto = "http";
    r.http_method = "GET";
    r.http_host = "Portal.Example";
    r.http_url = "/index.php?id=1' UNION SELECT password FROM users--";
    r.http_user_agent = "sqlmap/1.7.2#stable (https://sqlmap.org)";
    r.http_status = 200;
    r.dns_query = "";
    r.tls_sni = NULL; /* NULL reads as "" */
    r.tls_ja3 = "e7d705a3286e19ea42f587b344ee6865";
    CHECK_EQ_U(q("attack = 40", &r), 1);
    CHECK_EQ_U(q("attack_id = 40", &r), 1);
    CHECK_EQ_U(q("attack = 41", &r), 0);
    CHECK_EQ_U(q("attack != 41", &r), 1);
    CHECK_EQ_U(q("attack in [1, 40]", &r), 1);
    CHECK_EQ_U(q("attack = 40 and sid = 9100101", &r), 1);
    CHECK_EQ_U(q("url ~ \"union select\"", &r), 1);
    CHECK_EQ_U(q("url ~ \"UNION select password\"", &r), 1);
    CHECK_EQ_U(q("http.url ~ drop", &r), 0);
    CHECK_EQ_U(q("url !~ drop", &r), 1);
    CHECK_EQ_U(q("url !~ union", &r), 0);
    CHECK_EQ_U(q("url = \"/index.php?id=1' union select password from users--\"", &r), 1);
    CHECK_EQ_U(q("url = /index.php", &r), 0);
    CHECK_EQ_U(q("url != /index.php", &r), 1);
    CHECK_EQ_U(q("http.host = portal.example", &r), 1);
    CHECK_EQ_U(q("http.hostname ~ PORTAL", &r), 1);
    CHECK_EQ_U(q("http.host != portal.example", &r), 0);
    CHECK_EQ_U(q("http.user_agent ~ sqlmap", &r), 1);
    CHECK_EQ_U(q("http.user_agent ~ nikto", &r), 0);
    CHECK_EQ_U(q("http.method = get", &r), 1);
    CHECK_EQ_U(q("http.method in [POST, PUT]", &r), 0);
    CHECK_EQ_U(q("http.status = 200", &r), 1);
    CHECK_EQ_U(q("http.status != 200", &r), 0);
    CHECK_EQ_U(q("http.status >= 500", &r), 0);
    CHECK_EQ_U(q("http.status < 300", &r), 1);
    CHECK_EQ_U(q("app_proto = HTTP", &r), 1);
    CHECK_EQ_U(q("app_proto = tls", &r), 0);
    CHECK_EQ_U(q("app_proto != dns", &r), 1);
    CHECK_EQ_U(q("tls.ja3 = E7D705A3286E19EA42F587B344EE6865", &r), 1);
    CHECK_EQ_U(q("tls.ja3.hash ~ 42f587", &r), 1);
    CHECK_EQ_U(q("tls.sni = \"\"", &r), 1);
    CHECK_EQ_U(q("tls.sni ~ evil", &r), 0);
    CHECK_EQ_U(q("dns.query ~ example", &r), 0);
    CHECK_EQ_U(q("dns.rrname = \"\"", &r), 1);
    CHECK_EQ_U(q("msg ~ injection and url ~ union and http.status = 200", &r), 1);
    CHECK_EQ_U(q("not url ~ union or dns.query ~ x", &r), 0);
    /* no context at all (a record of schema 2, or an incident without one) */
    CHECK_EQ_U(q("url ~ a", &none), 0);
    CHECK_EQ_U(q("url !~ a", &none), 1);
    CHECK_EQ_U(q("app_proto = \"\"", &none), 1);
    CHECK_EQ_U(q("http.status = 0", &none), 1);
    CHECK_EQ_U(q("attack = 0", &none), 1);
    /* bad values and operators */
    int col;
    CHECK_CONTAINS(qerr("http.status = ok", &col), "'ok' is not a number");
    CHECK_EQ_U(col, 15);
    CHECK_CONTAINS(qerr("http.status = 70000", &col), "is not a number");
    CHECK_CONTAINS(qerr("http.status ~ 20", &col), "operator ~ does not apply to http.status");
    CHECK_CONTAINS(qerr("attack ~ 4", &col), "operator ~ does not apply to attack");
    CHECK_CONTAINS(qerr("attack = -1", &col), "is not a number");
    CHECK_CONTAINS(qerr("http.uri = x", &col), "unknown field 'http.uri'");
    CHECK_CONTAINS(qerr("http.uri = x", &col), "attack, case, url");
}

int main(void)
{
    test_fields();
    test_context();
    test_logic();
    test_errors();
    test_hints();
    test_random();
    test_exact();
    test_hostile();
    return check_done("qlang");
}
