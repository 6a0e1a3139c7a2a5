/* cli_rules.c — how `run` and `rules check` load a rule set from the command
 * line, in one place so both read the same rules with the same variables.
 *
 * Order (README, "Variables"): Suricata's defaults, then each -S directory's
 * vars.conf as it is loaded, then --vars FILE, then each --set NAME=VALUE in
 * the order given; the later wins. --vars and --set are pinned
 * (cg_ruleset_pin_vars / _pin_var) before the rules load, so a directory's
 * vars.conf never overrides them.
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/lang/rule.h"
#include "tools/cli.h"

int cg_cli_load_rules(cg_ruleset *rs, const char *vars, const char *const *sets, int nsets,
                      const char *classif, const char *const *paths, int npaths, char *err,
                      size_t errlen)
{
    int rc = 0;
    if (vars && (rc = cg_ruleset_pin_vars(rs, vars, err, errlen)) != 0)
        return rc;
    for (int i = 0; i < nsets; i++)
        if ((rc = cg_ruleset_pin_var(rs, sets[i], err, errlen)) != 0)
            return rc;
    if (classif && (rc = cg_ruleset_load_classification(rs, classif, err, errlen)) != 0)
        return rc;
    for (int i = 0; i < npaths; i++)
        if ((rc = cg_ruleset_load_path(rs, paths[i], err, errlen)) != 0)
            return rc;
    return 0;
}

void cg_cli_undefined_vars(const cg_ruleset *rs, char *out, size_t len)
{
    cg_undef_var uv[8];
    uint32_t n = cg_ruleset_undefined_vars(rs, uv, 8);
    size_t pos = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < n && i < 8 && pos < len; i++) {
        int w = snprintf(out + pos, len - pos, "%s$%s (%u rule%s)",
                         i ? ", " : "; undefined variables: ", uv[i].name, uv[i].rules,
                         uv[i].rules == 1 ? "" : "s");
        if (w < 0)
            break;
        pos += (size_t)w;
    }
    if (n > 8 && pos < len)
        snprintf(out + pos, len - pos, ", and %u more", n - 8);
}
