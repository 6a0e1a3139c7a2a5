/* fuzz_policy.c — libFuzzer harness: the layer policy's parser and checks
 * (analyzer/output/policy.h).
 *
 * Input: the file's bytes, handed to cg_policy_parse as a buffer of exactly
 * their size (it must never read past len; no NUL is added), with every
 * problem reported (the messages are read). When it parses, a few fixed
 * incidents (high and low, from abroad and at home, acknowledged, on a DMZ,
 * with every layer) are decided at creation and with the clock far ahead:
 * the actions must keep the contract (at most 1 + CG_POLICY_STEPS_MAX, a
 * layer action adds layers 1..4 the incident lacks, a reminder adds none,
 * a step only for a new incident) and each cause must name the file's line.
 */
#include "tests/fuzz/fuzz_common.h"

#include "analyzer/lang/rule.h"
#include "analyzer/output/policy.h"

static void on_diag(int warning, unsigned line, const char *msg, void *arg)
{
    (void)warning, (void)line, (void)arg;
    fz_touch(msg, strlen(msg));
}

static void check_incident(const cg_policy *p, const cg_incident *x)
{
    cg_policy_action a[2 + CG_POLICY_STEPS_MAX];
    char why[128];
    uint64_t nows[2] = { 0, x->first_us + 400ull * 86400 * 1000000 };

    for (int k = 0; k < 2; k++) {
        size_t n = cg_policy_decide(p, x, nows[k], a, sizeof a / sizeof a[0]);
        if (n > 1 + CG_POLICY_STEPS_MAX)
            abort();
        if (n && cg_policy_match(p, x) < 0)
            abort();
        for (size_t i = 0; i < n; i++) {
            if (a[i].remind
                    ? a[i].layers != 0
                    : (a[i].layers == 0 || (a[i].layers & ~0xfu) || (a[i].layers & x->layers)))
                abort();
            if (a[i].step >= 0 && (nows[k] == 0 || x->status != CG_ST_NEW))
                abort();
            cg_policy_why(p, &a[i], why, sizeof why);
            if (strncmp(why, "fuzz.conf:", 10) != 0)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    cg_policy *p = NULL;

    if (!buf)
        abort();
    memcpy(buf, data, size);
    if (cg_policy_parse(&p, "rules/fuzz.conf", buf, size, on_diag, NULL) == 0) {
        cg_incident x;
        memset(&x, 0, sizeof x);
        x.id = 1;
        x.gid = 1;
        x.sid = 9100101;
        x.severity = 1;
        x.count = 3;
        x.first_us = 1763971200000000ull;
        x.classtype = "trojan-activity";
        strcpy(x.src_geo.country, "CN");
        strcpy(x.dst_geo.country, "VN");
        x.dst_geo.agency = "Công an tỉnh";
        x.dst_geo.zone = "DMZ";
        check_incident(p, &x);
        x.severity = 4, x.count = 5000, x.layers = CG_LAYER(4), x.src_geo.country[0] = 0;
        x.classtype = "";
        check_incident(p, &x);
        x.status = CG_ST_ACKNOWLEDGED, x.layers = 0xf, x.gid = 122, x.sid = 1;
        x.dst_geo.agency = NULL, x.dst_geo.zone = NULL;
        check_incident(p, &x);
    }
    cg_policy_destroy(p);
    free(buf);
    return 0;
}
