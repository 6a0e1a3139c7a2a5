/* test_policy.c — the layer policy (analyzer/output/policy.h): the shipped
 * rules/layers.conf loads clean; each kind of bad line is an error on its
 * line (an unknown field, a bad duration, a layer that does not exist, ...),
 * and every error of a file is said; the clauses that can never match are
 * warned of; the first matching clause decides, on every field, either side
 * for country, agency and zone; the timed steps with a fake clock (none
 * before their time, none once acknowledged, a layer climbed once, a
 * reminder once); the time pass and the creation's escalation over a store,
 * with their history; and the parser fed every prefix of a valid file,
 * mutations and random bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

#include "analyzer/lang/rule.h"
#include "analyzer/output/policy.h"
#include "store/store.h"
#include "tests/check.h"

#define MIN (60ull * 1000000ull)
#define T0 1763971200000000ull /* 2025-11-24 08:00:00 UTC */

struct diags {
    char text[4096];
    int errors, warnings;
    unsigned lines[64];
    int n;
};

static void on_diag(int warning, unsigned line, const char *msg, void *arg)
{
    struct diags *d = arg;
    size_t len = strlen(d->text);
    snprintf(d->text + len, sizeof d->text - len, "%u:%s%s\n", line, warning ? "warning: " : "",
             msg);
    if (warning)
        d->warnings++;
    else
        d->errors++;
    if (d->n < 64)
        d->lines[d->n++] = line;
}

static cg_policy *parse(const char *text, struct diags *d)
{
    cg_policy *p = NULL;
    memset(d, 0, sizeof *d);
    if (cg_policy_parse(&p, "layers.conf", text, strlen(text), on_diag, d) != 0)
        return NULL;
    return p;
}

static cg_incident inc0(void)
{
    cg_incident x;
    memset(&x, 0, sizeof x);
    x.id = 1;
    x.gid = 1;
    x.sid = 9100101;
    x.severity = 1;
    x.rule_severity = 1;
    x.count = 1;
    x.first_us = T0;
    x.last_us = T0;
    x.classtype = "web-application-attack";
    x.msg = "m";
    strcpy(x.src_geo.country, "CN");
    strcpy(x.dst_geo.country, "VN");
    x.src_geo.agency = "";
    x.src_geo.zone = "";
    x.dst_geo.agency = "Công an tỉnh";
    x.dst_geo.zone = "DMZ";
    return x;
}

static void test_shipped(void)
{
    struct diags d;
    cg_policy *p = NULL;
    memset(&d, 0, sizeof d);
    CHECK_EQ_U(cg_policy_load(&p, "rules/layers.conf", on_diag, &d), 0);
    CHECK_EQ_U(d.errors, 0);
    CHECK_EQ_U(d.warnings, 0);
    CHECK(cg_policy_nclauses(p) >= 5);
    {
        uint32_t ack = 0, res = 0;
        CHECK_EQ_U(cg_policy_target(p, 1, &ack, &res), 1);
        CHECK_EQ_U(ack, 15 * 60);
        CHECK_EQ_U(res, 4 * 3600);
        CHECK_STR(cg_policy_identity(p), "Công an tỉnh Tuyên Quang");
        CHECK_STR(cg_policy_tlp(p), "amber");
        CHECK_EQ_U(cg_policy_share_allow(p), 0);
    }
    /* a confirmed intrusion from abroad against an agency: all four at once */
    cg_incident x = inc0();
    cg_policy_action a[16];
    x.classtype = "trojan-activity";
    size_t n = cg_policy_decide(p, &x, 0, a, 16);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(a[0].layers, 0xf);
    /* a high one on the DMZ: 1 2 3 at once, reminded after 15 minutes */
    x = inc0();
    x.dst_geo.agency = "Sở Y tế";
    n = cg_policy_decide(p, &x, T0 + 16 * MIN, a, 16);
    CHECK_EQ_U(n, 2);
    CHECK_EQ_U(a[0].layers, 0x7);
    CHECK_EQ_U(a[1].remind, 1);
    cg_policy_destroy(p);
    memset(&d, 0, sizeof d);
    CHECK((int)cg_policy_load(&p, "rules/no-such.conf", on_diag, &d) == CG_EIO);
    CHECK_CONTAINS(d.text, "cannot open");
}

static void test_errors(void)
{
    struct diags d;
    static const struct {
        const char *text, *want;
    } bad[] = {
        { "when sevrity = high: layers 1\n", "unknown field 'sevrity'" },
        { "when severity = high: after 15x layer 2\n", "'15x' is not a duration" },
        { "when severity = high: after 0m layer 2\n", "'0m' is not a duration" },
        { "when severity = high: after 15 layer 2\n", "'15' is not a duration" },
        { "when severity = high: after 400d layer 2\n", "'400d' is not a duration" },
        { "when severity = high: after m layer 2\n", "'m' is not a duration" },
        { "when severity = high: layers 5\n", "no layer '5': the layers are 1 to 4" },
        { "when severity = high: layers 0\n", "no layer '0'" },
        { "when severity = high: after 1h layer 7\n", "no layer '7'" },
        { "when layer = 9: layers 1\n", "no layer '9'" },
        { "when severity = severe: layers 1\n", "'severe' is not high, medium" },
        { "when sid = 12x: layers 1\n", "'12x' is not a number" },
        { "when count >= -1: layers 1\n", "'-1' is not a number" },
        { "when src.country = VNM: layers 1\n", "not a country" },
        { "when zone > DMZ: layers 1\n", "only = != and in" },
        { "when severity = high layers 1\n", "':' expected" },
        { "when severity = high:\n", "an action expected" },
        { "when severity = high: layers\n", "at least one layer" },
        { "when severity = high: layers 1; page 2\n", "an action expected" },
        { "when severity = high: after 1h\n", "'layer N' or 'remind' expected" },
        { "if severity = high: layers 1\n", "begins with 'when'" },
        { "when zone = \"DMZ: layers 1\n", "a value expected" },
        { "when zone in [DMZ, : layers 1\n", "a value expected" },
        { "when zone in DMZ: layers 1\n", "a list in [ ] expected" },
        { "when zone not = DMZ: layers 1\n", "'not' goes before 'in'" },
        { "when severity = high: layers 1 extra\n", "no layer 'extra'" },
        { "when severity = high: layers 1; after 1h layer 2 now\n", "';' or the end" },
        { "when severity ! high: layers 1\n", "an operator" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cg_policy *p = parse(bad[i].text, &d);
        CHECK(p == NULL);
        CHECK_EQ_U(d.errors, 1);
        CHECK_EQ_U(d.lines[0], 1);
        if (!strstr(d.text, bad[i].want))
            fprintf(stderr, "case %zu: %s", i, d.text);
        CHECK_CONTAINS(d.text, bad[i].want);
        cg_policy_destroy(p);
    }
    /* every error of the file, each on its line; nothing built */
    CHECK(parse("# a comment\n"
                "when severity = high: layers 1 2\n"
                "when sevrity = high: layers 1\n"
                "\n"
                "when any: after 15x layer 2\n"
                "when any: layers 5\n",
                &d) == NULL);
    CHECK_EQ_U(d.errors, 3);
    CHECK_EQ_U(d.lines[0], 3);
    CHECK_EQ_U(d.lines[1], 5);
    CHECK_EQ_U(d.lines[2], 6);
    /* a line too long, a NUL byte */
    {
        static char big[8192];
        memset(big, 'a', sizeof big - 2);
        big[sizeof big - 2] = '\n';
        CHECK(parse(big, &d) == NULL);
        CHECK_CONTAINS(d.text, "longer than");
        cg_policy *p = NULL;
        CHECK((int)cg_policy_parse(&p, "x", "when any: layers 1\0\n", 20, on_diag, &d) == CG_EFAIL);
    }
}

static void test_warnings(void)
{
    struct diags d;
    cg_policy *p;

    /* contradictions in one field */
    static const char *const never[] = {
        "when severity = high and severity = low: layers 1\n",
        "when count > 10 and count < 5: layers 1\n",
        "when count < 1: layers 1\n",
        "when sid = 5 and sid != 5: layers 1\n",
        "when sid in [1, 2] and sid > 2: layers 1\n",
        "when classtype = a and classtype = b: layers 1\n",
        "when dst.zone = DMZ and dst.zone != dmz: layers 1\n",
        "when dst.country in [VN, LA] and dst.country not in [vn, la]: layers 1\n",
        "when layer = 4 and layer != 4: layers 1\n",
        "when severity > high: layers 1\n",
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        p = parse(never[i], &d);
        CHECK(p != NULL);
        CHECK_EQ_U(d.warnings, 1);
        if (!strstr(d.text, "never matches"))
            fprintf(stderr, "never %zu: %s", i, d.text);
        CHECK_CONTAINS(d.text, "1:warning: this clause never matches: its conditions on");
        cg_policy_destroy(p);
    }
    /* not contradictions */
    static const char *const fine[] = {
        "when severity >= medium and severity <= medium: layers 1\n",
        "when count > 10 and count < 12: layers 1\n",
        "when zone = DMZ and zone = WAN: layers 1\n", /* either side: one each */
        "when src.country != VN and src.country != \"\": layers 1\n",
        "when sid not in [1, 2] and sid < 3: layers 1\n",
        "when layer = 4 and layer != 3: layers 1\n",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        p = parse(fine[i], &d);
        CHECK(p != NULL);
        if (d.warnings)
            fprintf(stderr, "fine %zu: %s", i, d.text);
        CHECK_EQ_U(d.warnings, 0);
        cg_policy_destroy(p);
    }
    /* shadowed by an earlier clause; a step that does nothing; a reminder twice */
    p = parse("when severity = high: layers 1 2\n"
              "when severity = high and dst.zone = DMZ: layers 1 2 3\n"
              "when any: layers 1\n"
              "when count > 5: layers 2\n"
              "\n",
              &d);
    CHECK(p != NULL);
    CHECK_EQ_U(d.warnings, 2);
    CHECK_CONTAINS(d.text, "2:warning: this clause never matches: the clause at line 1 takes");
    CHECK_CONTAINS(d.text, "4:warning: this clause never matches: the clause at line 3 takes");
    cg_policy_destroy(p);
    p = parse("when sev = high: layers 1 2; after 1h layer 2; after 15m remind; after 15m remind\n",
              &d);
    CHECK(p != NULL);
    CHECK_EQ_U(d.warnings, 2);
    CHECK_CONTAINS(d.text, "after 1h layer 2: the clause gives layer 2 sooner");
    CHECK_CONTAINS(d.text, "after 15m remind: twice the same reminder");
    cg_policy_destroy(p);
}

static void test_match(void)
{
    struct diags d;
    cg_policy *p =
        parse("when sid = 7: layers 4\n"                                                 /* 0 */
              "when classtype in [trojan-activity, \"Command-and-Control\"]: layers 3\n" /* 1 */
              "when src.country != VN and src.country != \"\" and agency = \"công an tỉnh\": "
              "layers 2\n"                                             /* 2 */
              "when zone = WAN: layers 1 2\n"                          /* 3 */
              "when country = \"\": layers 1 3\n"                      /* 4 */
              "when severity >= medium and count >= 100: layers 2 3\n" /* 5 */
              "when layer = 4: layers 1\n"                             /* 6 */
              "when gid = 122 and sid not in [1, 3]: layers 3\n"       /* 7 */
              "when severity = info: layers 1\n",                      /* 8 */
              &d);
    cg_incident x;
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s", d.text);
        return;
    }
    CHECK_EQ_U(d.warnings, 0);
    x = inc0();
    x.sid = 7;
    CHECK_EQ_U(cg_policy_match(p, &x), 0);
    x = inc0();
    x.classtype = "command-and-control"; /* case-insensitive */
    CHECK_EQ_U(cg_policy_match(p, &x), 1);
    x = inc0(); /* from CN to the police (agency: either side, any case) */
    CHECK_EQ_U(cg_policy_match(p, &x), 2);
    strcpy(x.src_geo.country, "VN");
    x.dst_geo.zone = "wan";
    CHECK_EQ_U(cg_policy_match(p, &x), 3);
    x.dst_geo.zone = "DMZ";
    x.src_geo.country[0] = 0; /* unknown on one side */
    CHECK_EQ_U(cg_policy_match(p, &x), 4);
    strcpy(x.src_geo.country, "VN");
    x.severity = 2;
    x.count = 99;
    CHECK_EQ_U(cg_policy_match(p, &x), -1);
    x.count = 100;
    CHECK_EQ_U(cg_policy_match(p, &x), 5);
    x.severity = 3; /* low: not >= medium */
    CHECK_EQ_U(cg_policy_match(p, &x), -1);
    x.layers = CG_LAYER(4);
    CHECK_EQ_U(cg_policy_match(p, &x), 6);
    x.layers = 0;
    x.gid = 122, x.sid = 100;
    CHECK_EQ_U(cg_policy_match(p, &x), 7);
    x.sid = 3;
    CHECK_EQ_U(cg_policy_match(p, &x), -1);
    x.severity = 4;
    CHECK_EQ_U(cg_policy_match(p, &x), 8);
    cg_policy_destroy(p);
}

/* The timed steps with a fake clock. */
static void test_clock(void)
{
    struct diags d;
    cg_policy_action a[16];
    char why[128];
    size_t n;
    cg_policy *p = parse("when severity = high: layers 1 2; after 15m remind; after 1h layer 3; "
                         "after 1d layer 4\n",
                         &d);
    CHECK(p != NULL);
    if (!p)
        return;
    cg_incident x = inc0();
    /* created: only the layers at once */
    n = cg_policy_decide(p, &x, 0, a, 16);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(a[0].layers, 0x3);
    CHECK_EQ_U(a[0].step, -1);
    cg_policy_why(p, &a[0], why, sizeof why);
    CHECK_STR(why, "layers.conf:1");
    x.layers = 0x3;
    /* before the first step: nothing; at 15m: the reminder */
    CHECK_EQ_U(cg_policy_decide(p, &x, T0 + 14 * MIN, a, 16), 0);
    n = cg_policy_decide(p, &x, T0 + 15 * MIN, a, 16);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(a[0].remind, 1);
    CHECK_EQ_U(a[0].layers, 0);
    cg_policy_why(p, &a[0], why, sizeof why);
    CHECK_STR(why, "layers.conf:1: after 15m, remind");
    /* at 2h: the reminder (the store writes it once) and layer 3 */
    n = cg_policy_decide(p, &x, T0 + 120 * MIN, a, 16);
    CHECK_EQ_U(n, 2);
    CHECK_EQ_U(a[1].layers, CG_LAYER(3));
    cg_policy_why(p, &a[1], why, sizeof why);
    CHECK_STR(why, "layers.conf:1: after 1h");
    x.layers = 0x7;
    n = cg_policy_decide(p, &x, T0 + 120 * MIN, a, 16);
    CHECK_EQ_U(n, 1); /* the reminder only: layer 3 is there */
    /* a day: layer 4 too */
    n = cg_policy_decide(p, &x, T0 + 24 * 60 * MIN, a, 16);
    CHECK_EQ_U(n, 2);
    CHECK_EQ_U(a[1].layers, CG_LAYER(4));
    /* acknowledged: the clock stopped; the layers at once still hold */
    x.status = CG_ST_ACKNOWLEDGED;
    x.layers = 0;
    n = cg_policy_decide(p, &x, T0 + 24 * 60 * MIN, a, 16);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(a[0].step, -1);
    /* a clock before the incident: nothing is due */
    x.status = CG_ST_NEW;
    x.layers = 0x3;
    CHECK_EQ_U(cg_policy_decide(p, &x, T0 - 1, a, 16), 0);
    /* max bounds the output */
    x.layers = 0;
    CHECK_EQ_U(cg_policy_decide(p, &x, T0 + 24 * 60 * MIN, a, 2), 2);
    cg_policy_destroy(p);
}

static char root[64];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

struct hist {
    int n;
    uint32_t oldn[16], newn[16];
    char why[16][128];
    uint64_t when[16];
};

static int take_hist(const cg_history *h, void *arg)
{
    struct hist *g = arg;
    if (h->kind == CG_HIST_ESCALATE && g->n < 16) {
        g->oldn[g->n] = h->old_num;
        g->newn[g->n] = h->new_num;
        g->when[g->n] = h->when_us;
        snprintf(g->why[g->n], sizeof g->why[0], "%s", h->new_text);
        g->n++;
    }
    return 0;
}

static int take_layers(const cg_incident *inc, void *arg)
{
    *(uint8_t *)arg = inc->layers;
    return 0;
}

/* Over a store: the creation's escalation in the writer's batch, the time
 * pass with a fake clock, triage stopping the clock. */
static void test_store(void)
{
    struct diags d;
    cg_store *st;
    cg_policy_pass_stats ps;
    struct hist g;
    uint8_t layers = 0;
    unsigned applied = 0;
    char dir[128];
    cg_policy *p = parse("when severity = high: layers 1 2; after 15m remind; after 1h layer 3\n"
                         "when any: layers 1\n",
                         &d);
    CHECK(p != NULL);
    if (!p)
        return;
    snprintf(dir, sizeof dir, "%s/s", root);
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 3; i++) {
        cg_incident x = inc0();
        x.id = cg_store_new_id(st);
        x.severity = x.rule_severity = i == 2 ? 3 : 1;
        x.first_us = x.last_us = T0 + (uint64_t)i * MIN;
        x.layers = i == 0 ? CG_LAYER(4) : 0; /* the rule's metadata */
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        CHECK_EQ_U(cg_policy_apply(p, st, &x, 0, x.last_us, &applied), 0);
        CHECK_EQ_U(applied, 1);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_get(st, 1, take_layers, &layers), 0);
    CHECK_EQ_U(layers, 0xb); /* 1 2 and the rule's 4 */
    CHECK_EQ_U(cg_store_get(st, 3, take_layers, &layers), 0);
    CHECK_EQ_U(layers, 0x1);
    /* re-applied (the incident changed): nothing new */
    {
        cg_incident x = inc0();
        x.count = 5;
        CHECK_EQ_U(cg_store_begin(st), 0);
        CHECK_EQ_U(cg_store_put(st, &x), 0);
        CHECK_EQ_U(cg_policy_apply(p, st, &x, 0, T0, &applied), 0);
        CHECK_EQ_U(applied, 0);
        CHECK_EQ_U(cg_store_commit(st), 0);
    }
    cg_store_close(st);

    /* the time pass on a triage handle, as `canhgac escalate` does it */
    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), 0);
    CHECK_EQ_U(cg_policy_pass(p, st, T0 + 10 * MIN, 0, &ps), 0);
    CHECK_EQ_U(ps.open, 3);
    CHECK_EQ_U(ps.entries, 0);
    CHECK_EQ_U(cg_store_triage_set(st, 2, CG_TRIAGE_STATUS, CG_ST_ACKNOWLEDGED, NULL, 0, "an",
                                   T0 + 12 * MIN),
               0);
    /* 16 minutes after incident 1: its reminder; 2 was acknowledged */
    CHECK_EQ_U(cg_policy_pass(p, st, T0 + 16 * MIN, 0, &ps), 0);
    CHECK_EQ_U(ps.open, 2);
    CHECK_EQ_U(ps.reminders, 1);
    CHECK_EQ_U(ps.escalated, 0);
    /* again: a reminder is written once */
    CHECK_EQ_U(cg_policy_pass(p, st, T0 + 17 * MIN, 0, &ps), 0);
    CHECK_EQ_U(ps.entries, 0);
    /* past an hour: layer 3 */
    CHECK_EQ_U(cg_policy_pass(p, st, T0 + 61 * MIN, 0, &ps), 0);
    CHECK_EQ_U(ps.escalated, 1);
    CHECK_EQ_U(ps.entries, 1);
    CHECK_EQ_U(cg_store_get(st, 1, take_layers, &layers), 0);
    CHECK_EQ_U(layers, 0xf);
    CHECK_EQ_U(cg_store_get(st, 2, take_layers, &layers), 0);
    CHECK_EQ_U(layers, 0x3); /* acknowledged: no climb */
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 1, take_hist, &g), 0);
    CHECK_EQ_U(g.n, 3);
    CHECK_STR(g.why[0], "layers.conf:1");
    CHECK_EQ_U(g.oldn[0], 0x8);
    CHECK_EQ_U(g.newn[0], 0xb);
    CHECK_EQ_U(g.when[0], T0);
    CHECK_STR(g.why[1], "layers.conf:1: after 15m, remind");
    CHECK_EQ_U(g.when[1], T0 + 16 * MIN);
    CHECK_STR(g.why[2], "layers.conf:1: after 1h");
    CHECK_EQ_U(g.oldn[2], 0xb);
    CHECK_EQ_U(g.newn[2], 0xf);
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 3, take_hist, &g), 0);
    CHECK_EQ_U(g.n, 1);
    CHECK_STR(g.why[0], "layers.conf:2");
    cg_store_close(st);

    /* a pass in a writer's batch, committed after every entry (chunk 1) */
    snprintf(dir, sizeof dir, "%s/w", root);
    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    for (int i = 0; i < 3; i++) {
        cg_incident x = inc0();
        x.id = cg_store_new_id(st);
        CHECK_EQ_U(cg_store_put(st, &x), 0);
    }
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_policy_pass(p, st, T0 + 61 * MIN, 1, &ps), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);
    CHECK_EQ_U(ps.open, 3);
    CHECK_EQ_U(ps.escalated, 3); /* 1 2 at once, then 3 */
    CHECK_EQ_U(ps.reminders, 3);
    CHECK_EQ_U(ps.entries, 9);
    memset(&g, 0, sizeof g);
    CHECK_EQ_U(cg_store_history(st, 2, take_hist, &g), 0);
    CHECK_EQ_U(g.n, 3);
    CHECK_STR(g.why[0], "layers.conf:1");
    CHECK_STR(g.why[2], "layers.conf:1: after 1h");
    CHECK_EQ_U(cg_store_get(st, 3, take_layers, &layers), 0);
    CHECK_EQ_U(layers, 0x7);
    cg_store_close(st);
    cg_policy_destroy(p);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Every prefix of the shipped file, mutations of it and random bytes: no
 * crash, and a built policy evaluates. */
static void test_hostile(void)
{
    FILE *f = fopen("rules/layers.conf", "rb");
    static char buf[65536], m[65536];
    static const char alphabet[] = " :;,[]=!<>\"#0123456789abc\n";
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    cg_incident x = inc0();
    cg_policy_action a[16];
    unsigned built = 0;

    if (f)
        fclose(f);
    CHECK(n > 100);
    for (size_t len = 0; len <= n; len += 7) {
        cg_policy *p = NULL;
        if (cg_policy_parse(&p, "p", buf, len, NULL, NULL) == 0) {
            cg_policy_decide(p, &x, T0 + 1000 * MIN, a, 16);
            built++;
        }
        cg_policy_destroy(p);
    }
    CHECK(built > 0);
    for (int i = 0; i < 3000; i++) {
        cg_policy *p = NULL;
        memcpy(m, buf, n);
        for (int k = 0; k < 4; k++)
            m[rnd() % n] = rnd() % 3 ? alphabet[rnd() % (sizeof alphabet - 1)] : (char)rnd();
        if (cg_policy_parse(&p, "p", m, n, NULL, NULL) == 0)
            cg_policy_decide(p, &x, T0 + 1000 * MIN, a, 16);
        cg_policy_destroy(p);
    }
    for (int i = 0; i < 300; i++) {
        cg_policy *p = NULL;
        size_t len = rnd() % 512;
        for (size_t k = 0; k < len; k++)
            m[k] = (char)rnd();
        if (cg_policy_parse(&p, "p", m, len, NULL, NULL) == 0)
            cg_policy_decide(p, &x, T0, a, 16);
        cg_policy_destroy(p);
    }
}

/* target, identity, share: what they set, and their errors at their line */
static void test_directives(void)
{
    struct diags d;
    uint32_t ack = 1, res = 1;
    cg_policy *p = parse("# targets\n"
                         "target high acknowledge 15m resolve 4h\n"
                         "target medium resolve 3d\n"
                         "target info ack 1h30m\n"
                         "identity \"Công an tỉnh Tuyên Quang\"\n"
                         "share tlp amber+strict\n"
                         "share allow internal-addresses\n"
                         "share allow payloads, agency-names\n"
                         "when any: layers 1\n",
                         &d);
    CHECK(p != NULL);
    CHECK_EQ_U(d.errors + d.warnings, 0);
    CHECK_EQ_U(cg_policy_target(p, 1, &ack, &res), 1);
    CHECK_EQ_U(ack, 15 * 60);
    CHECK_EQ_U(res, 4 * 3600);
    CHECK_EQ_U(cg_policy_target_line(p, 1), 2);
    CHECK_EQ_U(cg_policy_target(p, 2, &ack, &res), 1);
    CHECK_EQ_U(ack, 0);
    CHECK_EQ_U(res, 3 * 86400);
    CHECK_EQ_U(cg_policy_target(p, 3, &ack, &res), 0);
    CHECK_EQ_U(cg_policy_target_line(p, 3), 0);
    CHECK_EQ_U(cg_policy_target(p, 4, &ack, NULL), 1);
    CHECK_EQ_U(ack, 5400);
    CHECK_EQ_U(cg_policy_target(p, 200, &ack, NULL), 1); /* info: 4 and below */
    CHECK_EQ_U(cg_policy_target_line(p, 200), 4);
    CHECK_STR(cg_policy_identity(p), "Công an tỉnh Tuyên Quang");
    CHECK_STR(cg_policy_tlp(p), "amber+strict");
    CHECK_EQ_U(cg_policy_share_allow(p), CG_SHARE_INTERNAL | CG_SHARE_AGENCY | CG_SHARE_PAYLOAD);
    CHECK_STR(cg_policy_name(p), "layers.conf");
    CHECK_EQ_U(cg_policy_nclauses(p), 1);
    cg_policy_destroy(p);

    /* none of them: nothing set, nothing allowed */
    p = parse("when any: layers 1\n", &d);
    CHECK(p != NULL);
    CHECK_EQ_U(cg_policy_target(p, 1, &ack, &res), 0);
    CHECK(cg_policy_identity(p) == NULL);
    CHECK(cg_policy_tlp(p) == NULL);
    CHECK_EQ_U(cg_policy_share_allow(p), 0);
    cg_policy_destroy(p);
    CHECK_EQ_U(cg_policy_target(NULL, 1, &ack, &res), 0);

    static const struct {
        const char *text, *want;
        unsigned line;
    } bad[] = {
        { "target severe acknowledge 1h\n", "target: unknown severity 'severe'", 1 },
        { "target high\n", "'acknowledge DURATION' or 'resolve DURATION' expected", 1 },
        { "target high acknowledge 15x\n", "target high: a duration expected", 1 },
        { "target high acknowledge 400d\n", "target high: a duration expected", 1 },
        { "target high acknowledge 1h acknowledge 2h\n", "'acknowledge' twice", 1 },
        { "target high acknowledge 1h page 2\n", "the end of the line expected after the target",
          1 },
        { "target high ack 1h\ntarget high resolve 2h\n", "target high: already set at line 1", 2 },
        { "identity\n", "identity: a name expected", 1 },
        { "identity \"\"\n", "identity: a name expected", 1 },
        { "identity a\nidentity b\n", "identity: already set at line 1", 2 },
        { "identity \"a\" b\n", "the end of the line expected after the identity", 1 },
        { "share tlp orange\n", "share tlp: unknown TLP 'orange'", 1 },
        { "share tlp white\n", "unknown TLP 'white'", 1 },
        { "share tlp red\nshare tlp red\n", "share tlp: already set at line 1", 2 },
        { "share allow everything\n", "share allow: internal-addresses, agency-names or payloads",
          1 },
        { "share allow payloads,\n", "share allow: internal-addresses", 1 },
        { "share nothing\n", "'share tlp NAME' or 'share allow WHAT' expected", 1 },
        { "sharing tlp red\n", "a line begins with 'when', 'target', 'identity' or 'share'", 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = parse(bad[i].text, &d);
        CHECK(p == NULL);
        CHECK_EQ_U(d.errors, 1);
        CHECK_EQ_U(d.lines[0], bad[i].line);
        if (!strstr(d.text, bad[i].want))
            fprintf(stderr, "directive %zu: %s", i, d.text);
        CHECK_CONTAINS(d.text, bad[i].want);
        cg_policy_destroy(p);
    }
    p = parse("target low acknowledge 1d resolve 1h\n", &d);
    CHECK(p != NULL);
    CHECK_EQ_U(d.warnings, 1);
    CHECK_CONTAINS(d.text, "1:warning: target low: the time to resolve is shorter");
    cg_policy_destroy(p);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/cg_policy_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_shipped();
    test_errors();
    test_warnings();
    test_directives();
    test_match();
    test_clock();
    test_store();
    test_hostile();
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("policy");
}
