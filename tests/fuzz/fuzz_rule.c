/* fuzz_rule.c — libFuzzer harness: the rule parser, variables and
 * classification (analyzer/lang/rule.h), and the engine build of what parsed.
 *
 * Input: byte 0 chooses what the rest is (bits 0-1):
 *   0: one rule text, cg_ruleset_add_rule (NUL-terminated copy);
 *   1: a .rules file (continuation lines, comments, several rules),
 *      cg_ruleset_load_path on a scratch file NAME.rules;
 *   2: a variables file (cg_ruleset_load_vars), then the fixed rules below,
 *      which use variables, and the list of undefined ones; with bit 3 the
 *      text is also an assignment for cg_ruleset_pin_var;
 *   3: a classification.config (cg_ruleset_load_classification), then the
 *      lookup of a few class names and a fixed rule with a classtype.
 * With bit 2 set and at least one rule loaded, the detection engine is built
 * (Hyperscan, PCRE2; slow, so only for those inputs) and destroyed. The set
 * is hashed, its issues and rules read, and everything is freed per input.
 */
#include "tests/fuzz/fuzz_common.h"

#include "analyzer/engine/detect.h"
#include "analyzer/lang/rule.h"

static const char *const var_rules[] = {
    "alert tcp $EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS (msg:\"v\"; content:\"a\"; sid:1;)",
    "alert udp $HOME_NET any -> $DNS_SERVERS 53 (msg:\"w\"; content:\"b\"; sid:2;)",
    "alert tcp [$HOME_NET,!10.0.0.1] ![$HTTP_PORTS,22] <> $X 1:1024 (msg:\"x\"; sid:3;)", NULL
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char err[512];
    cg_ruleset *rs = NULL;
    if (cg_ruleset_create(&rs) != 0)
        abort();
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    char *text = fz_str(d, n);
    if (!text)
        abort();
    const char *path;
    switch (data[0] & 3) {
    case 0: cg_ruleset_add_rule(rs, text, err, sizeof err); break;
    case 1:
        path = fz_file_named(d, n, ".rules");
        if (path)
            cg_ruleset_load_path(rs, path, err, sizeof err);
        break;
    case 2:
        path = fz_file_named(d, n, ".conf");
        if (path)
            cg_ruleset_load_vars(rs, path, err, sizeof err);
        if (data[0] & 8)
            cg_ruleset_pin_var(rs, text, err, sizeof err);
        for (int i = 0; var_rules[i]; i++)
            cg_ruleset_add_rule(rs, var_rules[i], err, sizeof err);
        cg_undef_var uv[4];
        cg_ruleset_undefined_vars(rs, uv, 4);
        break;
    default: {
        path = fz_file_named(d, n, ".config");
        if (path)
            cg_ruleset_load_classification(rs, path, err, sizeof err);
        static const char *const names[] = { "web-application-attack", "trojan-activity",
                                             "not-suspicious", "A", "" };
        for (int i = 0; i < 5; i++) {
            const char *desc;
            uint8_t prio;
            if (cg_ruleset_class(rs, names[i], &desc, &prio) == 0)
                fz_touch(desc, strlen(desc));
        }
        cg_ruleset_add_rule(rs,
                            "alert tcp any any -> any any (msg:\"c\"; content:\"x\"; "
                            "classtype:web-application-attack; sid:9;)",
                            err, sizeof err);
        break;
    }
    }
    uint32_t nr, ni, nf;
    const cg_rule *r = cg_ruleset_rules(rs, &nr);
    const cg_rule_issue *is = cg_ruleset_issues(rs, &ni);
    cg_ruleset_files(rs, &nf);
    for (uint32_t i = 0; i < nr; i++)
        fz_sink += r[i].sid;
    for (uint32_t i = 0; i < ni; i++)
        if (is[i].why)
            fz_touch(is[i].why, strlen(is[i].why));
    for (uint32_t i = 0; i < cg_ruleset_flowbits(rs); i++) {
        const char *fb = cg_ruleset_flowbit_name(rs, i);
        if (fb)
            fz_touch(fb, strlen(fb));
    }
    uint8_t h[32];
    cg_ruleset_hash(rs, h);
    if ((data[0] & 4) && nr > 0) {
        cg_detect *det = NULL;
        if (cg_detect_build(&det, rs, NULL, err, sizeof err) == 0)
            cg_detect_destroy(det);
    }
    cg_ruleset_destroy(rs);
    free(text);
    return 0;
}
