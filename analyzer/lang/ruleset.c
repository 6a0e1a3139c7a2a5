/* ruleset.c — the rule set: rule files and directories, variables and
 * classification, the issues of rules that did not load, per-file counts,
 * duplicate sids, and the hash that keys the compiled-database cache (rule.h).
 *
 * File syntax (rules/README.md; Suricata's rule files): one rule per line; a
 * line ending in '\' (after trailing blanks) continues on the next, the
 * backslash removed and nothing inserted; blank lines and lines starting with
 * '#' are skipped, and a '#' followed by an action word counts as a disabled
 * rule. Unlike Suricata, a rule may be indented.
 *
 * Invariants:
 *  1. Every loaded rule has a (gid, sid) no earlier loaded rule has; the later
 *     of two is the one reported (CG_ISSUE_DUPLICATE) and dropped.
 *  2. rule->file, issue->file and rulefile->path point to strings the set
 *     owns (interned once per file loaded); they live until destroy.
 *  3. The hash is a running SHA-256 over everything that shapes the loaded
 *     rules, in the order it happened: the variable table and classification
 *     table as they stood after each change, and each loaded rule's text.
 *  4. Pointers from cg_ruleset_rules/issues/files are valid until the next
 *     load or add (the arrays grow).
 *  5. Flowbit names are interned when a rule loads (skipped rules take no id):
 *     ids are 0 .. nflowbits-1 in order of first use, at most CG_FLOWBITS_MAX;
 *     a rule that would need more is skipped (keyword "flowbits").
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "analyzer/lang/addr.h"
#include "analyzer/lang/rule.h"
#include "analyzer/lang/rule_parse.h"

#define STRING_FILE "<string>"

struct cg_ruleset {
    cg_rule *rules;
    uint32_t nrules, caprules;
    cg_rule_issue *issues;
    uint32_t nissues, capissues;
    cg_rulefile *files;
    uint32_t nfiles, capfiles;
    char **paths; /* interned file names (invariant 2) */
    uint32_t npaths, cappaths;
    int32_t string_file; /* the files[] entry of cg_ruleset_add_rule, or -1 */
    uint32_t *sids;      /* open addressing: index+1 into rules, 0 = empty */
    uint32_t sidcap;     /* a power of two, at least twice nrules */
    cg_vars *vars;
    cg_vars *pins; /* overrides that win over every variables file */
    cg_classes *classes;
    EVP_MD_CTX *sha;
    char **fbnames; /* interned flowbit names (invariant 5) */
    char **finames; /* interned flowint names */
    uint32_t nfb, capfb;
    uint32_t nfi, capfi;
};

/* Where each physical line of a joined rule starts (for line:column). */
struct seg {
    size_t off; /* offset in the joined text */
    uint32_t line;
    uint32_t col0; /* column (0-based) of that offset in its line */
};

struct joined {
    char *buf;
    size_t len, cap;
    struct seg *segs;
    uint32_t nseg, capseg;
};

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    uint32_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *a = realloc(*arr, (size_t)nc * size);
    if (!a)
        return -1;
    *arr = a;
    *cap = nc;
    return 0;
}

/* ---- hash ----------------------------------------------------------------- */

static void feedn(cg_ruleset *rs, char tag, const char *a, size_t al, const char *b, size_t bl)
{
    uint8_t h[9] = { (uint8_t)tag,        (uint8_t)(al >> 24), (uint8_t)(al >> 16),
                     (uint8_t)(al >> 8),  (uint8_t)al,         (uint8_t)(bl >> 24),
                     (uint8_t)(bl >> 16), (uint8_t)(bl >> 8),  (uint8_t)bl };
    /* SHA-256 updates do not fail on a live context */
    (void)EVP_DigestUpdate(rs->sha, h, sizeof h);
    (void)EVP_DigestUpdate(rs->sha, a, al);
    if (bl)
        (void)EVP_DigestUpdate(rs->sha, b, bl);
}

static void feed(cg_ruleset *rs, char tag, const char *a, const char *b)
{
    feedn(rs, tag, a, strlen(a), b, b ? strlen(b) : 0);
}

static void feed_tables(cg_ruleset *rs)
{
    char prio[8];
    for (uint32_t i = 0; i < cg_vars_count(rs->vars); i++) {
        const char *n, *v;
        cg_vars_at(rs->vars, i, &n, &v);
        feed(rs, 'V', n, v);
    }
    for (uint32_t i = 0; i < cg_classes_count(rs->classes); i++) {
        const cg_class *c = cg_classes_at(rs->classes, i);
        snprintf(prio, sizeof prio, "%u", c->prio);
        feed(rs, 'C', c->name, c->desc);
        feed(rs, 'P', prio, NULL);
    }
    feed(rs, 'E', "", NULL);
}

void cg_ruleset_hash(const cg_ruleset *rs, uint8_t out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!c || !EVP_MD_CTX_copy_ex(c, rs->sha) || !EVP_DigestFinal_ex(c, out, &n) || n != 32)
        memset(out, 0, 32);
    EVP_MD_CTX_free(c);
}

/* ---- lifecycle ------------------------------------------------------------ */

void cg_ruleset_destroy(cg_ruleset *rs)
{
    if (!rs)
        return;
    for (uint32_t i = 0; i < rs->nrules; i++)
        cg_rule_free(&rs->rules[i]);
    free(rs->rules);
    for (uint32_t i = 0; i < rs->nissues; i++) {
        free(rs->issues[i].keyword);
        free(rs->issues[i].why);
    }
    free(rs->issues);
    free(rs->files);
    for (uint32_t i = 0; i < rs->npaths; i++)
        free(rs->paths[i]);
    free(rs->paths);
    free(rs->sids);
    for (uint32_t i = 0; i < rs->nfb; i++)
        free(rs->fbnames[i]);
    free(rs->fbnames);
    for (uint32_t i = 0; i < rs->nfi; i++)
        free(rs->finames[i]);
    free(rs->finames);
    cg_vars_destroy(rs->vars);
    cg_vars_destroy(rs->pins);
    cg_classes_destroy(rs->classes);
    EVP_MD_CTX_free(rs->sha);
    free(rs);
}

int cg_ruleset_create(cg_ruleset **out)
{
    cg_ruleset *rs = calloc(1, sizeof *rs);
    if (!rs)
        return CG_ENOMEM;
    rs->string_file = -1;
    if (cg_vars_create(&rs->vars) || cg_vars_create_empty(&rs->pins) ||
        cg_classes_create(&rs->classes) || !(rs->sha = EVP_MD_CTX_new()) ||
        !EVP_DigestInit_ex(rs->sha, EVP_sha256(), NULL))
        goto fail;
    feed_tables(rs);
    *out = rs;
    return 0;
fail:
    cg_ruleset_destroy(rs);
    return CG_ENOMEM;
}

/* Whether a variable's value parses as an address set or a port set with the
 * table v as it is (cg_vars_check_fn): 0, -1 with the reason of the parser
 * that got further, CG_ENOMEM when out of memory. Checked here, where the rule set
 * loads its variables, so that the variables table knows nothing of address
 * parsing (addr.c reads variables, not the reverse). */
static int value_check(const cg_vars *v, const char *val, char *why, size_t whylen)
{
    cg_expr_err ea, ep;
    cg_addrset as = { 0 };
    cg_portset ps = { 0 };
    int ra = cg_addrset_parse(val, strlen(val), v, &as, &ea);
    cg_addrset_clear(&as);
    if (ra == 0)
        return 0;
    int rp = cg_portset_parse(val, strlen(val), v, &ps, &ep);
    cg_portset_clear(&ps);
    if (rp == 0)
        return 0;
    if (ra == CG_ENOMEM || rp == CG_ENOMEM)
        return CG_ENOMEM;
    snprintf(why, whylen, "%s", ep.pos > ea.pos ? ep.why : ea.why);
    return -1;
}

/* Whether variable NAME of v is defined and its value passes value_check: 0,
 * or -1 with "$NAME (\"value\"): why" or "$NAME is not defined" in err, or
 * CG_ENOMEM with "out of memory". */
static int var_check(const cg_vars *v, const char *name, char *err, size_t errlen)
{
    const char *val = cg_vars_get(v, name, strlen(name));
    char why[200];
    if (!val) {
        snprintf(err, errlen, "$%s is not defined", name);
        return -1;
    }
    int r = value_check(v, val, why, sizeof why);
    if (r == CG_ENOMEM)
        snprintf(err, errlen, "out of memory");
    else if (r < 0)
        snprintf(err, errlen, "$%s (\"%s\"): %s", name, val, why);
    return r == CG_ENOMEM ? r : r < 0 ? -1 : 0;
}

/* Sets every pinned variable over the table, then checks each of the
 * table's values: 0, or -1 with "what: $NAME ..." in err (CG_ENOMEM when out
 * of memory). */
static int apply_pins(cg_ruleset *rs, const char *what, char *err, size_t errlen)
{
    char why[512];
    for (uint32_t i = 0; i < cg_vars_count(rs->pins); i++) {
        const char *n, *v;
        cg_vars_at(rs->pins, i, &n, &v);
        if (cg_vars_set(rs->vars, n, v)) {
            snprintf(err, errlen, "%s: out of memory", what);
            return CG_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < cg_vars_count(rs->vars); i++) {
        const char *n, *v;
        cg_vars_at(rs->vars, i, &n, &v);
        int rc = var_check(rs->vars, n, why, sizeof why);
        if (rc) {
            snprintf(err, errlen, "%s: %s", what, why);
            return rc;
        }
    }
    return 0;
}

/* Loads a variables file over the table; with pin, what it defines is also
 * pinned. */
static int load_vars(cg_ruleset *rs, const char *path, int pin, char *err, size_t errlen)
{
    cg_vars *defs = NULL;
    int rc;
    if (cg_vars_create_empty(&defs)) {
        snprintf(err, errlen, "%s: out of memory", path);
        return CG_ENOMEM;
    }
    if ((rc = cg_vars_load_defs(rs->vars, path, defs, value_check, err, errlen)) != 0)
        goto out;
    for (uint32_t i = 0; i < cg_vars_count(defs); i++) {
        const char *n, *v;
        cg_vars_at(defs, i, &n, &v);
        if (pin && cg_vars_set(rs->pins, n, v)) {
            snprintf(err, errlen, "%s: out of memory", path);
            rc = CG_ENOMEM;
            goto out;
        }
    }
    if (cg_vars_count(rs->pins) > 0 && (rc = apply_pins(rs, path, err, errlen)) != 0)
        goto out;
    feed_tables(rs);
out:
    cg_vars_destroy(defs);
    return rc;
}

int cg_ruleset_load_vars(cg_ruleset *rs, const char *path, char *err, size_t errlen)
{
    return load_vars(rs, path, 0, err, errlen);
}

int cg_ruleset_pin_vars(cg_ruleset *rs, const char *path, char *err, size_t errlen)
{
    return load_vars(rs, path, 1, err, errlen);
}

static cg_vars *vars_copy(const cg_vars *from)
{
    cg_vars *v;
    if (cg_vars_create_empty(&v))
        return NULL;
    for (uint32_t i = 0; i < cg_vars_count(from); i++) {
        const char *n, *val;
        cg_vars_at(from, i, &n, &val);
        if (cg_vars_set(v, n, val)) {
            cg_vars_destroy(v);
            return NULL;
        }
    }
    return v;
}

/* All or nothing: on error the table and the pins are as they were. */
int cg_ruleset_pin_var(cg_ruleset *rs, const char *assignment, char *err, size_t errlen)
{
    char *text = strdup(assignment), *name, *value;
    cg_vars *old_vars = rs->vars, *old_pins = rs->pins;
    const char *why;
    char what[300];
    int rc = -1;
    snprintf(what, sizeof what, "--set %.280s", assignment);
    if (!text || !(rs->vars = vars_copy(old_vars)) || !(rs->pins = vars_copy(old_pins))) {
        snprintf(err, errlen, "%s: out of memory", what);
        rc = CG_ENOMEM;
        goto out;
    }
    if (cg_vars_parse_assignment(text, &name, &value, &why)) {
        snprintf(err, errlen, "%s: %s", what, why);
        goto out;
    }
    if (cg_vars_set(rs->pins, name, value)) {
        snprintf(err, errlen, "%s: out of memory", what);
        rc = CG_ENOMEM;
        goto out;
    }
    rc = apply_pins(rs, what, err, errlen);
out:
    if (rc == 0) {
        cg_vars_destroy(old_vars);
        cg_vars_destroy(old_pins);
        feed_tables(rs);
    } else {
        if (rs->vars != old_vars)
            cg_vars_destroy(rs->vars);
        if (rs->pins != old_pins)
            cg_vars_destroy(rs->pins);
        rs->vars = old_vars;
        rs->pins = old_pins;
    }
    free(text);
    return rc;
}

uint32_t cg_ruleset_undefined_vars(const cg_ruleset *rs, cg_undef_var *out, uint32_t max)
{
    static const char tag[] = "undefined variable $";
    uint32_t n = 0;
    for (uint32_t i = 0; i < rs->nissues; i++) {
        const char *w = rs->issues[i].why ? strstr(rs->issues[i].why, tag) : NULL;
        if (!w)
            continue;
        w += sizeof tag - 1;
        size_t l = strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
        if (l == 0 || l >= sizeof out->name)
            continue;
        uint32_t k;
        for (k = 0; k < n && k < max; k++)
            if (strlen(out[k].name) == l && !memcmp(out[k].name, w, l))
                break;
        if (k < n && k < max) {
            out[k].rules++;
            continue;
        }
        if (n < max) {
            memcpy(out[n].name, w, l);
            out[n].name[l] = '\0';
            out[n].rules = 1;
        }
        n++; /* past max: counted, not listed (a name may then count twice) */
    }
    return n;
}

int cg_ruleset_load_classification(cg_ruleset *rs, const char *path, char *err, size_t errlen)
{
    int rc = cg_classes_load(rs->classes, path, err, errlen);
    if (rc)
        return rc;
    feed_tables(rs);
    return 0;
}

int cg_ruleset_class(const cg_ruleset *rs, const char *name, const char **desc, uint8_t *prio)
{
    const cg_class *c = cg_classes_find(rs->classes, name, strlen(name));
    if (!c)
        return -1;
    *desc = c->desc;
    *prio = c->prio;
    return 0;
}

const cg_rule *cg_ruleset_rules(const cg_ruleset *rs, uint32_t *n)
{
    *n = rs->nrules;
    return rs->rules;
}

const cg_rule_issue *cg_ruleset_issues(const cg_ruleset *rs, uint32_t *n)
{
    *n = rs->nissues;
    return rs->issues;
}

const cg_rulefile *cg_ruleset_files(const cg_ruleset *rs, uint32_t *n)
{
    *n = rs->nfiles;
    return rs->files;
}

/* ---- bookkeeping ---------------------------------------------------------- */

/* A new files[] entry for path; its index, or -1 when out of memory. */
static int32_t add_file(cg_ruleset *rs, const char *path)
{
    char *p = strdup(path);
    if (!p || grow((void **)&rs->paths, &rs->cappaths, rs->npaths + 1, sizeof *rs->paths) ||
        grow((void **)&rs->files, &rs->capfiles, rs->nfiles + 1, sizeof *rs->files)) {
        free(p);
        return -1;
    }
    rs->paths[rs->npaths++] = p;
    memset(&rs->files[rs->nfiles], 0, sizeof rs->files[0]);
    rs->files[rs->nfiles].path = p;
    return (int32_t)rs->nfiles++;
}

static int add_issue(cg_ruleset *rs, uint32_t fidx, uint32_t line, uint32_t col, uint32_t rule_line,
                     uint8_t kind, uint32_t sid, const char *keyword, const char *why)
{
    if (grow((void **)&rs->issues, &rs->capissues, rs->nissues + 1, sizeof *rs->issues))
        return -1;
    cg_rule_issue *is = &rs->issues[rs->nissues];
    memset(is, 0, sizeof *is);
    is->file = rs->files[fidx].path;
    is->line = line;
    is->col = col;
    is->rule_line = rule_line;
    is->kind = kind;
    is->sid = sid;
    is->why = strdup(why);
    is->keyword = keyword && *keyword ? strdup(keyword) : NULL;
    if (!is->why || (keyword && *keyword && !is->keyword)) {
        free(is->why);
        free(is->keyword);
        return -1;
    }
    rs->nissues++;
    if (kind == CG_ISSUE_UNSUPPORTED)
        rs->files[fidx].skipped++;
    else
        rs->files[fidx].errors++;
    return 0;
}

static uint32_t sid_slot(uint64_t key, uint32_t cap)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    return (uint32_t)key & (cap - 1);
}

static uint64_t sid_key(const cg_rule *r)
{
    return (uint64_t)r->gid << 32 | r->sid;
}

/* The index of the loaded rule with r's (gid, sid), or -1. */
static int64_t sid_find(const cg_ruleset *rs, const cg_rule *r)
{
    if (!rs->sidcap)
        return -1;
    uint64_t key = sid_key(r);
    for (uint32_t i = sid_slot(key, rs->sidcap);; i = (i + 1) & (rs->sidcap - 1)) {
        uint32_t v = rs->sids[i];
        if (v == 0)
            return -1;
        if (sid_key(&rs->rules[v - 1]) == key)
            return v - 1;
    }
}

static void sid_put(cg_ruleset *rs, uint32_t idx)
{
    uint64_t key = sid_key(&rs->rules[idx]);
    uint32_t i = sid_slot(key, rs->sidcap);
    while (rs->sids[i])
        i = (i + 1) & (rs->sidcap - 1);
    rs->sids[i] = idx + 1;
}

/* Room for one more rule in rules[] and the sid table. */
static int reserve_rule(cg_ruleset *rs)
{
    if (grow((void **)&rs->rules, &rs->caprules, rs->nrules + 1, sizeof *rs->rules))
        return -1;
    if ((uint64_t)(rs->nrules + 1) * 2 <= rs->sidcap)
        return 0;
    uint32_t cap = rs->sidcap ? rs->sidcap * 2 : 1024;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    free(rs->sids);
    rs->sids = t;
    rs->sidcap = cap;
    for (uint32_t i = 0; i < rs->nrules; i++)
        sid_put(rs, i);
    return 0;
}

/* ---- flowbits --------------------------------------------------------------- */

uint32_t cg_ruleset_flowbits(const cg_ruleset *rs)
{
    return rs->nfb;
}

const char *cg_ruleset_flowbit_name(const cg_ruleset *rs, uint32_t id)
{
    return id < rs->nfb ? rs->fbnames[id] : NULL;
}

static int64_t fb_find(const cg_ruleset *rs, const char *name)
{
    for (uint32_t i = 0; i < rs->nfb; i++)
        if (strcmp(rs->fbnames[i], name) == 0)
            return i;
    return -1;
}

/* Gives r's flowbit names their ids. 0; 1 when the rule would take the set
 * past CG_FLOWBITS_MAX names (nothing interned); -1 when out of memory. */
static int fb_intern(cg_ruleset *rs, cg_rule *r)
{
    uint32_t fresh = 0;
    for (uint32_t i = 0; i < r->nflowbits; i++)
        for (uint32_t k = 0; k < r->flowbits[i].n; k++) {
            const char *nm = r->flowbits[i].names[k];
            int dup = fb_find(rs, nm) >= 0;
            for (uint32_t a = 0; a <= i && !dup; a++) /* new, but met earlier in r */
                for (uint32_t b = 0; b < (a == i ? k : r->flowbits[a].n) && !dup; b++)
                    dup = strcmp(r->flowbits[a].names[b], nm) == 0;
            fresh += !dup;
        }
    if (rs->nfb + fresh > CG_FLOWBITS_MAX)
        return 1;
    for (uint32_t i = 0; i < r->nflowbits; i++)
        for (uint32_t k = 0; k < r->flowbits[i].n; k++) {
            int64_t id = fb_find(rs, r->flowbits[i].names[k]);
            if (id < 0) {
                char *c = strdup(r->flowbits[i].names[k]);
                if (!c ||
                    grow((void **)&rs->fbnames, &rs->capfb, rs->nfb + 1, sizeof *rs->fbnames)) {
                    free(c);
                    return -1;
                }
                rs->fbnames[rs->nfb] = c;
                id = rs->nfb++;
            }
            r->flowbits[i].ids[k] = (uint16_t)id;
        }
    return 0;
}

/* ---- flowints -------------------------------------------------------------- */

uint32_t cg_ruleset_flowints(const cg_ruleset *rs)
{
    return rs->nfi;
}

const char *cg_ruleset_flowint_name(const cg_ruleset *rs, uint32_t id)
{
    return id < rs->nfi ? rs->finames[id] : NULL;
}

static int64_t fi_find(const cg_ruleset *rs, const char *name)
{
    for (uint32_t i = 0; i < rs->nfi; i++)
        if (strcmp(rs->finames[i], name) == 0)
            return i;
    return -1;
}

/* Gives r's flowint names (and operand names) their ids. 0; 1 when the rule
 * would take the set past CG_FLOWINTS_MAX names (nothing interned); -1 when
 * out of memory. */
static int fi_intern(cg_ruleset *rs, cg_rule *r)
{
    const char *fresh[2 * 8];
    uint32_t nfresh = 0;
    for (uint32_t i = 0; i < r->nflowints; i++)
        for (int w = 0; w < 2; w++) {
            const char *nm = w ? r->flowints[i].var_name : r->flowints[i].name;
            if (!nm || fi_find(rs, nm) >= 0)
                continue;
            int dup = 0;
            for (uint32_t k = 0; k < nfresh && !dup; k++)
                dup = strcmp(fresh[k], nm) == 0;
            if (dup)
                continue;
            if (nfresh == sizeof fresh / sizeof fresh[0] || rs->nfi + nfresh >= CG_FLOWINTS_MAX)
                return 1;
            fresh[nfresh++] = nm;
        }
    for (uint32_t i = 0; i < r->nflowints; i++)
        for (int w = 0; w < 2; w++) {
            const char *nm = w ? r->flowints[i].var_name : r->flowints[i].name;
            if (!nm)
                continue;
            int64_t id = fi_find(rs, nm);
            if (id < 0) {
                char *c = strdup(nm);
                if (!c ||
                    grow((void **)&rs->finames, &rs->capfi, rs->nfi + 1, sizeof *rs->finames)) {
                    free(c);
                    return -1;
                }
                rs->finames[rs->nfi] = c;
                id = rs->nfi++;
            }
            if (w)
                r->flowints[i].var = (uint16_t)id;
            else
                r->flowints[i].id = (uint16_t)id;
        }
    return 0;
}

/* ---- one rule ------------------------------------------------------------- */

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void locate(const struct joined *j, size_t pos, uint32_t *line, uint32_t *col)
{
    uint32_t k = 0;
    while (k + 1 < j->nseg && j->segs[k + 1].off <= pos)
        k++;
    *line = j->segs[k].line;
    *col = (uint32_t)(pos - j->segs[k].off) + j->segs[k].col0 + 1;
}

/* Parses the joined text and records a rule or an issue. -1 only when out
 * of memory. */
static int take_rule(cg_ruleset *rs, uint32_t fidx, const struct joined *j)
{
    cg_rule_env env = { rs->vars, rs->classes };
    cg_rule rule;
    cg_rule_diag d;
    uint32_t line, col, rule_line = j->segs[0].line;
    char why[512];

    int rc = cg_rule_parse(j->buf, j->len, &env, &rule, &d);
    if (rc == CG_ENOMEM)
        return -1;
    if (rc == -1) {
        locate(j, d.pos, &line, &col);
        return add_issue(rs, fidx, line, col, rule_line, d.kind, d.sid, d.keyword, d.why);
    }
    if (reserve_rule(rs)) {
        cg_rule_free(&rule);
        return -1;
    }
    int64_t prev = sid_find(rs, &rule);
    if (prev >= 0) {
        const cg_rule *p = &rs->rules[prev];
        snprintf(why, sizeof why, "duplicate sid %u (gid %u): already loaded from %s:%u", rule.sid,
                 rule.gid, p->file, p->line);
        locate(j, d.sid_pos, &line, &col);
        cg_rule_free(&rule);
        return add_issue(rs, fidx, line, col, rule_line, CG_ISSUE_DUPLICATE, d.sid, NULL, why);
    }
    int fb = fb_intern(rs, &rule);
    if (fb) {
        cg_rule_free(&rule);
        if (fb < 0)
            return -1;
        snprintf(why, sizeof why,
                 "flowbits: the rule set would have more than %d flowbit "
                 "names",
                 CG_FLOWBITS_MAX);
        return add_issue(rs, fidx, rule_line, 1, rule_line, CG_ISSUE_UNSUPPORTED, d.sid, "flowbits",
                         why);
    }
    int fi = fi_intern(rs, &rule);
    if (fi) {
        cg_rule_free(&rule);
        if (fi < 0)
            return -1;
        snprintf(why, sizeof why,
                 "flowint: the rule set would have more than %d flowint "
                 "names",
                 CG_FLOWINTS_MAX);
        return add_issue(rs, fidx, rule_line, 1, rule_line, CG_ISSUE_UNSUPPORTED, d.sid, "flowint",
                         why);
    }
    rule.file = rs->files[fidx].path;
    rule.line = rule_line;
    rs->rules[rs->nrules] = rule;
    sid_put(rs, rs->nrules);
    rs->nrules++;
    rs->files[fidx].loaded++;
    size_t s0 = 0, e = j->len; /* the rule's text, blanks around it removed */
    while (s0 < e && is_blank((unsigned char)j->buf[s0]))
        s0++;
    while (e > s0 && is_blank((unsigned char)j->buf[e - 1]))
        e--;
    feedn(rs, 'R', j->buf + s0, e - s0, NULL, 0);
    return 0;
}

static int jappend(struct joined *j, const char *s, size_t n, uint32_t line, uint32_t col0)
{
    uint32_t cap = (uint32_t)(j->cap > UINT32_MAX ? UINT32_MAX : j->cap);
    if (j->len + n + 1 > UINT32_MAX)
        return -1;
    if (grow((void **)&j->buf, &cap, (uint32_t)(j->len + n + 1), 1) ||
        grow((void **)&j->segs, &j->capseg, j->nseg + 1, sizeof *j->segs))
        return -1;
    j->cap = cap;
    j->segs[j->nseg].off = j->len;
    j->segs[j->nseg].line = line;
    j->segs[j->nseg].col0 = col0;
    j->nseg++;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
    return 0;
}

/* After a '#': is this a rule that was commented out? */
static int is_disabled_rule(const char *p)
{
    static const char *const actions[] = { "alert",     "drop",      "pass",      "reject",
                                           "rejectsrc", "rejectdst", "rejectboth" };
    while (*p == ' ' || *p == '\t' || *p == '#')
        p++;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        size_t l = strlen(actions[i]);
        if (strncmp(p, actions[i], l) == 0 && (p[l] == ' ' || p[l] == '\t'))
            return 1;
    }
    return 0;
}

/* ---- files ---------------------------------------------------------------- */

static int load_file(cg_ruleset *rs, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct joined j = { 0 };
    char *line = NULL;
    size_t cap = 0;
    uint32_t lineno = 0;
    int32_t fidx;
    int open = 0, rc = -1;
    ssize_t got;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if ((fidx = add_file(rs, path)) < 0)
        goto oom;
    while ((got = getline(&line, &cap, f)) != -1) {
        size_t n = (size_t)got, start = 0;
        lineno++;
        while (n && is_blank((unsigned char)line[n - 1]))
            n--;
        const char *nul = memchr(line, '\0', n);
        if (nul) {
            if (add_issue(rs, (uint32_t)fidx, lineno, (uint32_t)(nul - line) + 1,
                          open ? j.segs[0].line : lineno, CG_ISSUE_SYNTAX, 0, NULL,
                          "NUL byte in a rule"))
                goto oom;
            open = 0;
            continue;
        }
        if (!open) {
            while (start < n && is_blank((unsigned char)line[start]))
                start++;
            if (start == n)
                continue;
            if (line[start] == '#') {
                if (is_disabled_rule(line + start + 1))
                    rs->files[fidx].disabled++;
                continue;
            }
            j.len = 0;
            j.nseg = 0;
        }
        int cont = n > start && line[n - 1] == '\\';
        if (jappend(&j, line + start, n - start - (cont ? 1 : 0), lineno, (uint32_t)start))
            goto oom;
        open = cont;
        if (!open && take_rule(rs, (uint32_t)fidx, &j))
            goto oom;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (!feof(f))
        goto oom; /* getline stopped short of the end: it could not grow its buffer */
    if (open && take_rule(rs, (uint32_t)fidx, &j)) /* the file ended inside a rule */
        goto oom;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    rc = CG_ENOMEM;
out:
    free(j.buf);
    free(j.segs);
    free(line);
    fclose(f);
    return rc;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Subdirectories are walked this deep at most (a symlink loop ends here). */
#define LOAD_DIR_DEPTH 4

/* Loads the *.rules files of dir and of its subdirectories, in name order (a
 * subdirectory's files where its name sorts). classification.config and
 * vars.conf are read from the top directory only, before any rule. */
static int load_dir(cg_ruleset *rs, const char *dir, int depth, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    char **names = NULL, *p = NULL;
    uint32_t n = 0, capn = 0;
    size_t dl = strlen(dir);
    int rc = -1;
    struct dirent *e;

    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        int rules = l > 6 && strcmp(e->d_name + l - 6, ".rules") == 0;
        if (!rules &&
            (depth >= LOAD_DIR_DEPTH ||
             (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN && e->d_type != DT_LNK)))
            continue;
        if (grow((void **)&names, &capn, n + 1, sizeof *names) || !(names[n] = strdup(e->d_name)))
            goto oom;
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    static const char *const first[] = { "classification.config", "vars.conf" };
    size_t nfirst = depth == 0 ? 2 : 0;
    for (size_t i = 0; i < nfirst + (size_t)n; i++) {
        const char *name = i < nfirst ? first[i] : names[i - nfirst];
        free(p);
        if (!(p = malloc(dl + strlen(name) + 2)))
            goto oom;
        sprintf(p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
        if (i >= nfirst && is_dir(p)) {
            if (depth < LOAD_DIR_DEPTH && (rc = load_dir(rs, p, depth + 1, err, errlen)) != 0)
                goto out;
            continue;
        }
        if (!is_file(p))
            continue;
        rc = i >= nfirst ? load_file(rs, p, err, errlen)
            : i == 0     ? cg_ruleset_load_classification(rs, p, err, errlen)
                         : cg_ruleset_load_vars(rs, p, err, errlen);
        if (rc)
            goto out;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", dir);
    rc = CG_ENOMEM;
out:
    free(p);
    for (uint32_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int cg_ruleset_load_path(cg_ruleset *rs, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return S_ISDIR(st.st_mode) ? load_dir(rs, path, 0, err, errlen)
                               : load_file(rs, path, err, errlen);
}

int cg_ruleset_add_rule(cg_ruleset *rs, const char *text, char *err, size_t errlen)
{
    struct joined j = { 0 };
    uint32_t before = rs->nrules;
    int rc = -1;

    if (rs->string_file < 0 && (rs->string_file = add_file(rs, STRING_FILE)) < 0)
        goto oom;
    /* One segment per '\n', so a problem on a later line is still located. */
    const char *s = text;
    uint32_t line = 1;
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (jappend(&j, s, n, line, 0))
            goto oom;
        if (!nl)
            break;
        s = nl + 1;
        line++;
    }
    if (take_rule(rs, (uint32_t)rs->string_file, &j))
        goto oom;
    if (rs->nrules > before) {
        rc = 0;
    } else {
        const cg_rule_issue *is = &rs->issues[rs->nissues - 1];
        snprintf(err, errlen, "%s:%u:%u: %s", is->file, is->line, is->col, is->why);
    }
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
    rc = CG_ENOMEM;
out:
    free(j.buf);
    free(j.segs);
    return rc;
}
