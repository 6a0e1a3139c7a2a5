/* test_xbits.c — the xbits table: set, isset, isnotset, unset and toggle by
 * host and by address pair (either way), expiry in capture time, a set
 * restarting the expiry, and a table full of live bits giving up the bit
 * that expires first (counted) while the newest holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/engine/threshold.h"
#include "analyzer/engine/xbits.h"
#include "tests/check.h"
#include "tests/util_conn.h"

/* A rule with one xbits command (name, track, expire seconds). */
static void mkrule(cg_rule *r, cg_xbit *x, uint8_t cmd, uint64_t key, uint8_t track,
                   uint32_t expire)
{
    memset(r, 0, sizeof *r);
    memset(x, 0, sizeof *x);
    x->cmd = cmd;
    x->key = key;
    x->track = track;
    x->expire = expire;
    r->xbits = x;
    r->nxbits = 1;
}

int main(void)
{
    cg_xbits *t;
    CHECK(cg_xbits_create(&t, 256) == 0);
    if (!t)
        return check_done("xbits");
    uint8_t a[16], b[16], c[16];
    tconn_v4(a, 10, 0, 0, 1);
    tconn_v4(b, 10, 0, 0, 2);
    tconn_v4(c, 10, 0, 0, 3);
    cg_rule set_src, isset_src, isnot_src, unset_src, tog_src, set_pair, isset_pair;
    cg_xbit x1, x2, x3, x4, x5, x6, x7;
    mkrule(&set_src, &x1, CG_FB_SET, 7, CG_XT_SRC, 10);
    mkrule(&isset_src, &x2, CG_FB_ISSET, 7, CG_XT_SRC, 0);
    mkrule(&isnot_src, &x3, CG_FB_ISNOTSET, 7, CG_XT_SRC, 0);
    mkrule(&unset_src, &x4, CG_FB_UNSET, 7, CG_XT_SRC, 0);
    mkrule(&tog_src, &x5, CG_FB_TOGGLE, 7, CG_XT_SRC, 10);
    mkrule(&set_pair, &x6, CG_FB_SET, 9, CG_XT_PAIR, 5);
    mkrule(&isset_pair, &x7, CG_FB_ISSET, 9, CG_XT_PAIR, 0);
    const uint64_t s = 1000000, t0 = 1000 * s;

    /* by host: a's bit, not b's; until 10 s on; a set restarts it */
    CHECK(!cg_xbits_check(t, &isset_src, a, b, t0));
    CHECK(cg_xbits_check(t, &isnot_src, a, b, t0));
    cg_xbits_apply(t, &set_src, a, b, t0);
    CHECK(cg_xbits_check(t, &isset_src, a, c, t0 + 1));
    CHECK(!cg_xbits_check(t, &isset_src, b, a, t0 + 1));
    CHECK(!cg_xbits_check(t, &isnot_src, a, c, t0 + 1));
    CHECK(cg_xbits_check(t, &isset_src, a, c, t0 + 10 * s - 1));
    CHECK(!cg_xbits_check(t, &isset_src, a, c, t0 + 10 * s));
    cg_xbits_apply(t, &set_src, a, b, t0 + 9 * s);
    CHECK(cg_xbits_check(t, &isset_src, a, c, t0 + 18 * s));
    /* unset, toggle twice */
    cg_xbits_apply(t, &unset_src, a, b, t0 + 18 * s);
    CHECK(!cg_xbits_check(t, &isset_src, a, c, t0 + 18 * s));
    cg_xbits_apply(t, &tog_src, a, b, t0 + 19 * s);
    CHECK(cg_xbits_check(t, &isset_src, a, c, t0 + 19 * s));
    cg_xbits_apply(t, &tog_src, a, b, t0 + 20 * s);
    CHECK(!cg_xbits_check(t, &isset_src, a, c, t0 + 20 * s));

    /* a host's bit is one whichever side tracks it: set on a request's
     * source, seen on the reply's destination */
    cg_rule isset_dst;
    cg_xbit x8;
    mkrule(&isset_dst, &x8, CG_FB_ISSET, 7, CG_XT_DST, 0);
    cg_xbits_apply(t, &set_src, c, b, t0 + 30 * s);
    CHECK(cg_xbits_check(t, &isset_dst, b, c, t0 + 30 * s));
    CHECK(!cg_xbits_check(t, &isset_dst, c, b, t0 + 30 * s));

    /* by pair: the same both ways, not with a third host */
    cg_xbits_apply(t, &set_pair, a, b, t0);
    CHECK(cg_xbits_check(t, &isset_pair, b, a, t0 + 1));
    CHECK(cg_xbits_check(t, &isset_pair, a, b, t0 + 1));
    CHECK(!cg_xbits_check(t, &isset_pair, a, c, t0 + 1));
    CHECK(!cg_xbits_check(t, &isset_pair, a, b, t0 + 5 * s));
    CHECK_EQ_U(cg_xbits_reclaimed(t), 0);

    /* 10,000 hosts in 256 slots: the table gives up bits, the newest holds */
    uint8_t h[16];
    for (unsigned i = 0; i < 10000; i++) {
        tconn_v4(h, 172, 16, i >> 8, i & 255);
        cg_xbits_apply(t, &set_src, h, b, t0 + 100 * s + i);
    }
    CHECK(cg_xbits_reclaimed(t) > 0);
    CHECK(cg_xbits_check(t, &isset_src, h, b, t0 + 100 * s + 10000));
    /* expired ones make room without giving up a live bit */
    uint64_t before = cg_xbits_reclaimed(t);
    tconn_v4(h, 192, 0, 2, 1);
    cg_xbits_apply(t, &set_src, h, b, t0 + 200 * s);
    CHECK_EQ_U(cg_xbits_reclaimed(t), before);
    CHECK(cg_xbits_check(t, &isset_src, h, b, t0 + 200 * s));
    /* cleared: every bit and the count forgotten, and it works on */
    cg_xbits_clear(t);
    CHECK_EQ_U(cg_xbits_reclaimed(t), 0);
    CHECK(!cg_xbits_check(t, &isset_src, h, b, t0 + 200 * s));
    CHECK(!cg_xbits_check(t, &isset_pair, a, b, t0 + 1));
    cg_xbits_apply(t, &set_src, a, b, t0 + 201 * s);
    CHECK(cg_xbits_check(t, &isset_src, a, c, t0 + 201 * s));
    cg_xbits_destroy(t);

    /* thresholds: limit 1 per source in 60 s, then cleared */
    {
        cg_threshold_table *th;
        cg_threshold lim;
        memset(&lim, 0, sizeof lim);
        lim.type = CG_TH_LIMIT;
        lim.track = CG_TRACK_SRC;
        lim.count = 1;
        lim.seconds = 60;
        CHECK(cg_threshold_create(&th, 1024) == 0);
        CHECK(cg_threshold_check(th, &lim, 3, a, b, t0) == 1);
        CHECK(cg_threshold_check(th, &lim, 3, a, b, t0 + 1) == 0);
        cg_threshold_clear(th);
        CHECK(cg_threshold_check(th, &lim, 3, a, b, t0 + 2) == 1);
        CHECK(cg_threshold_check(th, &lim, 3, a, b, t0 + 3) == 0);
        cg_threshold_destroy(th);
    }
    return check_done("xbits");
}
