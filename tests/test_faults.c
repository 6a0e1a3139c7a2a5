/* test_faults.c — allocation failures, in the manner of SQLite's malloc
 * fault tests: for each scenario a dry run counts its allocations (K), then
 * for N = 1..K the Nth allocation fails (tests/fault_alloc.h) and the
 * scenario runs again.
 *
 * Scenarios:
 *  rules  a rules directory written here (vars.conf, classification.config,
 *         two files of rules using variables, pcre, flowbits, flowint, xbits,
 *         thresholds, application buffers, one unsupported, one broken, one
 *         with an undefined variable), loaded with cg_ruleset_load_vars,
 *         _load_classification, _pin_var, _load_path and _add_rule, then
 *         cg_detect_build twice over a fresh cache directory (a compile that
 *         writes the cache, then a load from it);
 *  store  a new store, a batch of incidents with alerts and evidence,
 *         closed, reopened read-only for a query in the query language, a
 *         count, a top-N and the attacks, then a triage handle's change and
 *         note;
 *  policy a layer policy parsed (every form: lists, quotes, steps, a
 *         never-matching clause warned of), applied to the incidents a
 *         writer puts in its batch, then the time pass on a triage handle;
 *  run    the pipeline (2 workers, the detectors) over ../shared/data's
 *         http_dvwa_sqlinjection.pcapng (read in place) with the rules
 *         above, a store and an EVE file, as `canhgac run` drives it.
 *
 * Invariants checked for every N:
 *  1. A failure happens only when an allocation was failed. Its message is
 *     one line, not empty, and says "out of memory" (Hyperscan's compiler,
 *     which has no code for it, "... allocate memory"); for a run it is the
 *     "canhgac run:" line on stderr. A call that returns error.h's codes
 *     (the store, the rule set's loaders) returns CG_ENOMEM, and a run's
 *     exit code is 1 (a failure), never 2 (bad input).
 *  2. A success, with or without a failed allocation (a fallback: the engine
 *     cache is an optimisation, and a variable's value that is no address
 *     set is tried as a port set), gives the dry run's result: the rules,
 *     issues and engine; the store's answers; a run's counters, EVE bytes
 *     and stored incidents.
 *  3. No crash, no abort, no sanitizer report.
 *  4. No leak: in an ASan build, LeakSanitizer's recoverable check after
 *     each N finds nothing (and is shown to find a lost block first).
 * Each fault is transient (only the Nth call fails); each scenario also runs
 * with persistent faults (every call from the Nth fails), which is what the
 * cleanup paths meet when memory is really gone.
 *
 * Hyperscan's allocations (databases, scratch) count too, through
 * hs_set_allocator. Those of libc's callers, libpcap, LMDB, PCRE2, OpenSSL
 * and json-c do not: the hook wraps the calls of this binary's objects only
 * (--wrap), not of shared libraries.
 *
 * A plain build tries every N (a run with persistent faults, every third).
 * Under ASan each N also costs a leak check, so a scenario tries at most
 * san_tries N spread evenly over 1..K, and every N of a run past the
 * pipeline's creation (where its threads meet the failures); under TSan only
 * the run goes (the others have no threads), with its creation's N thinned
 * out further.
 *
 * Environment: FAULT_STRIDE=k tries every kth N only; FAULT_ONLY=rules,run
 * (any of rules, store, policy, run, each also with -persistent) some
 * scenarios; FAULT_VERBOSE=1 prints each failure's message, 2 also where the
 * allocation failed (addresses for addr2line), 3 the time each N took.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/engine/detect.h"
#include "analyzer/output/eve_proto.h"
#include "analyzer/output/pipeline.h"
#include "analyzer/output/policy.h"
#include "analyzer/lang/rule.h"
#include "sensor/error.h"
#include "store/qlang.h"
#include "store/store.h"
#include "tests/check.h"
#include "tests/fault_alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define FAULT_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULT_LSAN 1
#endif
#endif
#ifdef FAULT_LSAN
#include <sanitizer/lsan_interface.h>

/* A smaller quarantine than ASan's 256 MiB: LeakSanitizer walks every block
 * the allocator holds, freed ones too, at each N (about 3 times faster). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
#endif

#define PCAP "../shared/data/pcaps/chrissanders/http_dvwa_sqlinjection.pcapng"

static char tmp[64];        /* this run's directory */
static char rules_dir[128]; /* the rules, written once */
static int verbose;

/* ---- files ------------------------------------------------------------------ */

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t file_hash(const char *path, uint64_t *len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    uint8_t buf[4096];
    size_t n;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        h = fnv(h, buf, n);
        *len += n;
    }
    fclose(f);
    return h;
}

static const char vars_conf[] = "HOME_NET      [192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]\n"
                                "EXTERNAL_NET  any\n"
                                "HTTP_SERVERS  $HOME_NET\n"
                                "DNS_SERVERS   [$HOME_NET,!10.9.9.9]\n"
                                "HTTP_PORTS    [80,8080,8000:8100]\n"
                                "SHELLCODE_PORTS !80\n";

static const char class_conf[] =
    "config classification: web-application-attack,Web Application Attack,1\n"
    "config classification: attempted-recon,Attempted Information Leak,2\n"
    "config classification: policy-violation,Potential Corporate Privacy Violation,1\n";

static const char web_rules[] =
    "# the web rules: variables, buffers, pcre, flowbits\n"
    "alert http $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:\"dvwa page\"; "
    "flow:established,to_server; http.uri; content:\"/dvwa/\"; flowbits:set,fa.dvwa; "
    "flowbits:noalert; sid:1001; rev:1;)\n"
    "alert http $EXTERNAL_NET any -> $HTTP_SERVERS $HTTP_PORTS (msg:\"sqli union select\"; "
    "flow:established,to_server; flowbits:isset,fa.dvwa; http.uri; content:\"UNION\"; nocase; "
    "pcre:\"/union(\\s|%20|\\+)+select/Ui\"; classtype:web-application-attack; "
    "metadata:layer 2; sid:1002; rev:2;)\n"
    "alert tcp $EXTERNAL_NET any -> $HOME_NET $HTTP_PORTS (msg:\"sqli quote\"; "
    "flow:to_server; content:\"%27\"; fast_pattern; content:\"id=\"; distance:0; "
    "classtype:web-application-attack; sid:1003; rev:1;)\n"
    "alert http any any -> any any (msg:\"user agent\"; http.user_agent; content:\"Mozilla\"; "
    "threshold:type limit, track by_src, count 1, seconds 60; classtype:policy-violation; "
    "sid:1004; rev:1;)\n"
    "alert http any any -> any any (msg:\"host header\"; http.host; content:\"192.168\"; "
    "flowint:fa.hits,+,1; sid:1005; rev:1;)\n"
    "alert http any any -> any any (msg:\"many hits\"; http.method; content:\"GET\"; "
    "flowint:fa.hits,>,3; xbits:set,fa.client,track ip_src; sid:1006; rev:1;)\n"
    "alert tcp any any -> any $HTTP_PORTS (msg:\"get with byte_test\"; content:\"GET \"; "
    "depth:4; byte_test:1,>,0x20,0,relative; isdataat:10,relative; sid:1007; rev:1;)\n";

static const char other_rules[] =
    "alert dns any any -> $DNS_SERVERS 53 (msg:\"dns query\"; dns.query; "
    "content:\"example\"; nocase; classtype:attempted-recon; sid:2001; rev:1;)\n"
    "alert tls any any -> any any (msg:\"tls sni\"; tls.sni; content:\"evil\"; "
    "sid:2002; rev:1;)\n"
    "alert tcp any any -> any any (msg:\"response\"; flow:to_client; "
    "content:\"HTTP/1.1 200\"; depth:12; detection_filter:track by_dst, count 2, seconds 10; "
    "sid:2003; rev:1;)\n"
    "alert icmp any any -> any any (msg:\"ping\"; itype:8; sid:2004; rev:1;)\n"
    "alert tcp any any -> any any (msg:\"syn\"; flags:S; dsize:0; sid:2005; rev:1;)\n"
    "alert tcp any any -> any any (msg:\"unsupported\"; nosuchkeyword:1; sid:2006; rev:1;)\n"
    "alert tcp any any -> any any (msg:\"broken\"; content:\"x\"; sid:2007 rev:1;)\n"
    "alert udp any any -> any $SHELLCODE_PORTS (msg:\"negated port variable\"; "
    "content:\"|90 90|\"; sid:2008; rev:1;)\n"
    "alert tcp $NO_SUCH_NET any -> any any (msg:\"undefined\"; content:\"zz\"; "
    "sid:2009; rev:1;)\n";

/* ---- outcomes ----------------------------------------------------------------- */

typedef struct outcome {
    int rc;              /* 0, or the failing call's code */
    int coded;           /* the failing call returns error.h's codes: rc must
                          * then be CG_ENOMEM */
    int exit_code;       /* a run's: what `canhgac run` would exit with (1, a
                          * failure; never 2, bad input, for want of memory) */
    char err[1024];      /* its message */
    char digest[512];    /* on success: what the result was */
    uint64_t dense_from; /* the dry run's: allocations from this one on are
                          * all tried (a run's, once the pipeline exists) */
} outcome;

/* Is msg a clean out-of-memory message: one line, not empty, saying so:
 * the library's "out of memory", or strerror(ENOMEM)'s and Hyperscan's
 * compiler's "... allocate memory ..." (it has no code for it); and not a
 * guess ("... too small, or out of memory"). */
static int clean_oom(const char *msg)
{
    return msg[0] && !strchr(msg, '\n') && !strstr(msg, "or out of memory") &&
        (strstr(msg, "out of memory") || strcasestr(msg, "allocate memory"));
}

/* ---- (a) rule loading ------------------------------------------------------- */

static int rules_scenario(uint64_t n, int persist, outcome *o)
{
    char cache[128];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    rm_tree(cache);
    mkdir(cache, 0700);
    cg_ruleset *rs = NULL;
    cg_detect *d1 = NULL, *d2 = NULL;
    char err[1024] = "";
    int rc;
    fault_arm(n, persist);
    if ((rc = cg_ruleset_create(&rs)) != 0) {
        snprintf(err, sizeof err, "cg_ruleset_create: %s", cg_strerror(rc));
        o->coded = 1;
        goto out;
    }
    char path[256];
    o->coded = 1; /* the loaders say CG_ENOMEM; the engine's build -1 */
    snprintf(path, sizeof path, "%s/vars.conf", rules_dir);
    if ((rc = cg_ruleset_load_vars(rs, path, err, sizeof err)) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/classification.config", rules_dir);
    if ((rc = cg_ruleset_load_classification(rs, path, err, sizeof err)) != 0)
        goto out;
    if ((rc = cg_ruleset_pin_var(rs, "FA_PORTS=[8000:8100,!8050]", err, sizeof err)) != 0)
        goto out;
    if ((rc = cg_ruleset_load_path(rs, rules_dir, err, sizeof err)) != 0)
        goto out;
    if ((rc = cg_ruleset_add_rule(rs,
                                  "alert tcp any any -> any $FA_PORTS (msg:\"added\"; "
                                  "content:\"added\"; sid:3001; rev:1;)",
                                  err, sizeof err)))
        goto out;
    o->coded = 0;
    if ((rc = cg_detect_build(&d1, rs, cache, err, sizeof err)) != 0)
        goto out;
    if ((rc = cg_detect_build(&d2, rs, cache, err, sizeof err)) != 0)
        goto out;
out:
    fault_disarm();
    o->rc = rc;
    snprintf(o->err, sizeof o->err, "%s", err);
    if (rc == 0) {
        uint32_t nr, ni, nf;
        const cg_rule *r = cg_ruleset_rules(rs, &nr);
        const cg_rule_issue *is = cg_ruleset_issues(rs, &ni);
        cg_ruleset_files(rs, &nf);
        uint8_t h[32];
        cg_ruleset_hash(rs, h);
        uint64_t rh = fnv(0xcbf29ce484222325ULL, h, sizeof h);
        for (uint32_t i = 0; i < nr; i++)
            rh = fnv(rh, r[i].msg, strlen(r[i].msg));
        for (uint32_t i = 0; i < ni; i++)
            rh = fnv(rh, is[i].why, strlen(is[i].why));
        cg_detect_info a, b;
        cg_detect_get_info(d1, &a);
        cg_detect_get_info(d2, &b);
        snprintf(o->digest, sizeof o->digest,
                 "rules %u issues %u files %u bits %u ints %u hash %016llx | "
                 "%u %u %u %u %u %u | %u %u %u %u %u",
                 nr, ni, nf, cg_ruleset_flowbits(rs), cg_ruleset_flowints(rs),
                 (unsigned long long)rh, a.rules, a.prefiltered, a.always, a.databases, a.patterns,
                 a.stream_rules, b.rules, b.prefiltered, b.always, b.databases, b.patterns);
    }
    cg_detect_destroy(d2);
    cg_detect_destroy(d1);
    cg_ruleset_destroy(rs);
    return rc;
}

/* ---- (b) the store ---------------------------------------------------------- */

static int count_cb(const cg_incident *inc, void *arg)
{
    uint64_t *h = arg;
    h[0]++;
    h[1] = fnv(h[1], &inc->id, sizeof inc->id);
    h[1] = fnv(h[1], inc->msg, strlen(inc->msg));
    return 0;
}

static int attack_cb(const cg_store_attack *a, void *arg)
{
    uint64_t *h = arg;
    h[0]++;
    h[1] = fnv(h[1], &a->incidents, sizeof a->incidents);
    return 0;
}

static int qmatch(const cg_incident *inc, void *arg)
{
    cg_qrec r;
    memset(&r, 0, sizeof r);
    r.id = inc->id;
    r.sid = inc->sid;
    r.gid = inc->gid;
    r.severity = inc->severity;
    r.first_us = inc->first_us;
    r.msg = inc->msg;
    r.classtype = inc->classtype;
    r.assignee = inc->assignee;
    r.community_id = inc->community_id;
    r.src_country = inc->src_geo.country;
    r.dst_country = inc->dst_geo.country;
    r.src_agency = r.dst_agency = r.src_zone = r.dst_zone = "";
    r.app_proto = inc->app_proto;
    r.http_url = inc->http_url;
    return cg_qlang_eval(arg, &r);
}

/* A failed store call: its code and the handle's message. */
#define STORE_TRY(call, h)                                      \
    do {                                                        \
        if ((rc = (call)) != 0) {                               \
            snprintf(err, sizeof err, "%s", cg_store_error(h)); \
            o->coded = 1;                                       \
            goto out;                                           \
        }                                                       \
    } while (0)

static int store_scenario(uint64_t n, int persist, outcome *o)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/store", tmp);
    rm_tree(dir);
    cg_store *st = NULL;
    cg_qexpr *qe = NULL;
    char err[1024] = "";
    int rc = 0;
    uint64_t seen[2] = { 0, 0xcbf29ce484222325ULL }, atk[2] = { 0, 0 }, cnt = 0;
    cg_store_group top[4];
    size_t ntop = 0;
    fault_arm(n, persist);
    STORE_TRY(cg_store_open(&st, dir, 0, 1u << 24), NULL);
    STORE_TRY(cg_store_begin(st), st);
    static const uint8_t frame[60] = { 0x45, 0, 0, 60 };
    for (int i = 0; i < 6; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "incident %d with a longer message to encode", i);
        cg_incident inc;
        memset(&inc, 0, sizeof inc);
        inc.id = cg_store_new_id(st);
        inc.gid = 1;
        inc.sid = 1000 + (uint32_t)(i % 3);
        inc.rev = 1;
        inc.src[10] = inc.src[11] = 0xff;
        inc.src[12] = 10, inc.src[15] = (uint8_t)(1 + i % 2);
        inc.dst[10] = inc.dst[11] = 0xff;
        inc.dst[12] = 192, inc.dst[13] = 168, inc.dst[15] = 5;
        inc.sport = (uint16_t)(40000 + i);
        inc.dport = 80;
        inc.proto = 6;
        inc.severity = inc.rule_severity = (uint8_t)(1 + i % 3);
        inc.first_us = 1700000000000000ULL + (uint64_t)i * 1000000;
        inc.last_us = inc.first_us + 500;
        inc.count = 2;
        inc.flow_id = 77 + (uint64_t)i;
        inc.msg = msg;
        inc.classtype = "web-application-attack";
        inc.community_id = "1:abc";
        inc.http_url = "/dvwa/vulnerabilities/sqli/?id=1";
        inc.app_proto = "http";
        memcpy(inc.src_geo.country, "VN", 3);
        STORE_TRY(cg_store_put(st, &inc), st);
        for (uint32_t k = 0; k < 2; k++) {
            cg_alert a = { .ts_us = inc.first_us + k,
                           .flow_id = inc.flow_id,
                           .community_id = "1:abc",
                           .sport = inc.sport,
                           .dport = 80,
                           .severity = inc.severity,
                           .evidence_seq = (int32_t)k };
            STORE_TRY(cg_store_put_alert(st, inc.id, k, &a), st);
            cg_evidence ev = { .ts_us = a.ts_us,
                               .dlt = 1,
                               .caplen = sizeof frame,
                               .wirelen = sizeof frame,
                               .data = frame };
            STORE_TRY(cg_store_put_evidence(st, inc.id, k, &ev), st);
        }
    }
    STORE_TRY(cg_store_commit(st), st);
    cg_store_close(st);
    st = NULL;
    STORE_TRY(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), NULL);
    int col;
    if ((rc = cg_qlang_parse("sid = 1001 or sev >= high or url ~ sqli", 1700000100000000ULL, &qe,
                             err, sizeof err, &col)) != 0)
        goto out;
    cg_query q;
    memset(&q, 0, sizeof q);
    q.match = qmatch;
    q.match_arg = qe;
    STORE_TRY(cg_store_query(st, &q, 0, NULL, count_cb, seen), st);
    STORE_TRY(cg_store_count(st, NULL, &cnt), st);
    STORE_TRY(cg_store_top(st, NULL, CG_F_SID, top, 4, &ntop), st);
    STORE_TRY(cg_store_attacks(st, NULL, 0, attack_cb, atk), st);
    cg_store_close(st);
    st = NULL;
    STORE_TRY(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), NULL);
    STORE_TRY(cg_store_triage_set(st, 2, CG_TRIAGE_STATUS | CG_TRIAGE_ASSIGNEE, CG_ST_INVESTIGATING,
                                  "an analyst", 0, "soc", 1700000200000000ULL),
              st);
    STORE_TRY(cg_store_note_add(st, 2, "soc", 1700000300000000ULL, "a note"), st);
out:
    fault_disarm();
    cg_qlang_free(qe);
    cg_store_close(st);
    o->rc = rc;
    snprintf(o->err, sizeof o->err, "%s", err);
    if (rc == 0)
        snprintf(o->digest, sizeof o->digest,
                 "matched %llu (%016llx) count %llu top %zu %llu attacks %llu %016llx",
                 (unsigned long long)seen[0], (unsigned long long)seen[1], (unsigned long long)cnt,
                 ntop, ntop ? (unsigned long long)top[0].count : 0, (unsigned long long)atk[0],
                 (unsigned long long)atk[1]);
    return rc;
}

/* ---- (b2) the layer policy ---------------------------------------------------- */

static const char policy_text[] =
    "# a policy\n"
    "when sid in [1000, 1001] and dst.zone = \"server farm\": layers 1 2 3; after 15m remind\n"
    "when severity = high and src.country != VN: layers 1 2; after 1h layer 3; after 2h layer 4\n"
    "when severity >= medium: layers 1 2; after 15m remind\n"
    "when severity = low and severity = high: layers 4\n"
    "when any: layers 1\n";

static void count_warning(int warning, unsigned line, const char *msg, void *arg)
{
    (void)line, (void)msg;
    *(int *)arg += warning ? 1 : 1000;
}

static int policy_scenario(uint64_t n, int persist, outcome *o)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/pstore", tmp);
    rm_tree(dir);
    cg_store *st = NULL;
    cg_policy *p = NULL;
    cg_policy_pass_stats ps;
    char err[1024] = "";
    int rc = 0, warnings = 0;
    unsigned applied = 0, total = 0;
    memset(&ps, 0, sizeof ps);
    fault_arm(n, persist);
    if ((rc = cg_policy_parse(&p, "layers.conf", policy_text, sizeof policy_text - 1, count_warning,
                              &warnings)) != 0) {
        snprintf(err, sizeof err, "%s", rc == CG_ENOMEM ? "out of memory" : "policy");
        o->coded = 1;
        goto out;
    }
    STORE_TRY(cg_store_open(&st, dir, 0, 1u << 24), NULL);
    STORE_TRY(cg_store_begin(st), st);
    for (int i = 0; i < 4; i++) {
        cg_incident inc;
        memset(&inc, 0, sizeof inc);
        inc.id = cg_store_new_id(st);
        inc.gid = 1;
        inc.sid = 1000 + (uint32_t)i;
        inc.severity = inc.rule_severity = (uint8_t)(1 + i % 3);
        inc.first_us = inc.last_us = 1700000000000000ULL + (uint64_t)i * 1000000;
        inc.count = 1;
        inc.msg = "m";
        inc.dst_geo.zone = "server farm";
        memcpy(inc.src_geo.country, "CN", 3);
        STORE_TRY(cg_store_put(st, &inc), st);
        STORE_TRY(cg_policy_apply(p, st, &inc, 0, inc.last_us, &applied), st);
        total += applied;
    }
    STORE_TRY(cg_store_commit(st), st);
    cg_store_close(st);
    st = NULL;
    STORE_TRY(cg_store_open(&st, dir, CG_STORE_TRIAGE, 0), NULL);
    if ((rc = cg_policy_pass(p, st, 1700000000000000ULL + 3 * 3600000000ULL, 0, &ps)) != 0) {
        snprintf(err, sizeof err, "%s", rc == CG_ENOMEM ? "out of memory" : cg_store_error(st));
        o->coded = 1;
        goto out;
    }
out:
    fault_disarm();
    cg_store_close(st);
    cg_policy_destroy(p);
    o->rc = rc;
    snprintf(o->err, sizeof o->err, "%s", err);
    if (rc == 0)
        snprintf(o->digest, sizeof o->digest, "warnings %d applied %u pass %llu %llu %llu %llu",
                 warnings, total, (unsigned long long)ps.open, (unsigned long long)ps.escalated,
                 (unsigned long long)ps.reminders, (unsigned long long)ps.entries);
    return rc;
}

/* ---- (c) a run -------------------------------------------------------------- */

static int load_rules(void *ctx, cg_ruleset **out, char *err, size_t errlen)
{
    (void)ctx;
    cg_ruleset *rs;
    int rc = cg_ruleset_create(&rs);
    if (rc) {
        snprintf(err, errlen, "%s", cg_strerror(rc));
        return rc;
    }
    if ((rc = cg_ruleset_load_path(rs, rules_dir, err, errlen)) != 0) {
        cg_ruleset_destroy(rs);
        return rc;
    }
    *out = rs;
    return 0;
}

/* stderr into a file while a run goes (the run's failures are said there) */
static int saved_stderr = -1;

static void stderr_to(const char *path)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

static void stderr_back(const char *path, char *out, size_t cap)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

/* The first "canhgac run: " line of text, without its prefix. */
static void run_line(const char *text, char *out, size_t cap)
{
    const char *p = strstr(text, "canhgac run: ");
    out[0] = '\0';
    if (!p)
        return;
    p += 13;
    size_t n = strcspn(p, "\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static int run_scenario(uint64_t n, int persist, outcome *o)
{
    char dir[128], eve[128], errf[128], said[4096];
    snprintf(dir, sizeof dir, "%s/run-store", tmp);
    snprintf(eve, sizeof eve, "%s/eve.json", tmp);
    snprintf(errf, sizeof errf, "%s/stderr", tmp);
    rm_tree(dir);
    unlink(eve);
    cg_store *st = NULL;
    cg_pipeline *pl = NULL;
    char err[1024] = "";
    int rc = 0, code = 0;
    cg_pipeline_totals t;
    memset(&t, 0, sizeof t);
    stderr_to(errf);
    fault_arm(n, persist);
    if ((rc = cg_store_open(&st, dir, 0, 1u << 24)) != 0) {
        snprintf(err, sizeof err, "%s", cg_store_error(NULL));
        o->coded = 1;
        code = 1;
        goto out;
    }
    cg_pipeline_config pc;
    memset(&pc, 0, sizeof pc);
    cg_detectors_config dc;
    cg_detectors_defaults(&dc);
    pc.rfile = PCAP;
    pc.workers = 2;
    pc.detectors = &dc;
    pc.queue_kib = 256;
    pc.load = load_rules;
    pc.inspect.flow.max_flows = 1024;
    pc.inspect.want_app = 1;
    pc.store = st;
    pc.store_dir = dir;
    pc.eve_path = eve;
    pc.eve_types = CG_EVE_T_ALL;
    pc.window_s = 3600;
    pc.evidence = 5;
    pc.batch = 4;
    if ((rc = cg_pipeline_create(&pl, &pc, &code, err, sizeof err)) != 0)
        goto out;
    o->dense_from = fault_count() + 1;
    if ((code = cg_pipeline_run(pl, -1, NULL, NULL)) != 0) {
        rc = CG_EFAIL;
        goto out;
    }
    cg_pipeline_get_totals(pl, &t);
out:
    fault_disarm();
    cg_pipeline_destroy(pl);
    cg_store_close(st);
    stderr_back(errf, said, sizeof said);
    o->rc = rc;
    o->exit_code = code;
    if (rc && !err[0])
        run_line(said, err, sizeof err); /* what the run said */
    snprintf(o->err, sizeof o->err, "%s", err);
    if (rc == 0) {
        uint64_t elen, eh = file_hash(eve, &elen);
        cg_store_info si;
        memset(&si, 0, sizeof si);
        cg_store *rd = NULL;
        if (cg_store_open(&rd, dir, CG_STORE_RDONLY, 0) == 0)
            cg_store_info_get(rd, &si);
        cg_store_close(rd);
        snprintf(o->digest, sizeof o->digest,
                 "packets %llu alerts %llu incidents %llu/%llu eve %llu lines %llu bytes "
                 "%016llx | store %llu incidents %llu alerts %llu evidence",
                 (unsigned long long)t.packets, (unsigned long long)t.alerts,
                 (unsigned long long)t.incidents_new, (unsigned long long)t.incidents_stored,
                 (unsigned long long)t.eve_lines, (unsigned long long)elen, (unsigned long long)eh,
                 (unsigned long long)si.incidents, (unsigned long long)si.alerts,
                 (unsigned long long)si.evidence);
    }
    return rc;
}

/* ---- the driver --------------------------------------------------------------- */

#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif
#ifndef TSAN
#define TSAN 0
#endif
#ifdef FAULT_LSAN
#define ASAN 1
#else
#define ASAN 0
#endif

/* Is w one of list's comma-separated words? */
static int word_in(const char *list, const char *w)
{
    size_t l = strlen(w);
    for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
        if (strcspn(p, ",") == l && strncmp(p, w, l) == 0)
            return 1;
        if (!p[strcspn(p, ",")])
            break;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1 when LeakSanitizer finds a leak now (0 without ASan). */
static int leaked(void)
{
#ifdef FAULT_LSAN
    return __lsan_do_recoverable_leak_check() != 0;
#else
    return 0;
#endif
}

#ifdef FAULT_LSAN
/* The check finds a block that nothing points to: one is made, its address
 * kept only scrambled, and freed again (its report goes to /dev/null). */
static uintptr_t hidden;

static __attribute__((noinline)) void hide_block(void)
{
    hidden = (uintptr_t)malloc(40) ^ 0x5a5a5a5a5a5a5a5aULL;
}

static void leak_check_works(void)
{
    hide_block();
    fflush(stderr);
    int saved = dup(2), fd = open("/dev/null", O_WRONLY);
    dup2(fd, 2);
    close(fd);
    int found = leaked();
    dup2(saved, 2);
    close(saved);
    free((void *)(hidden ^ 0x5a5a5a5a5a5a5a5aULL));
    CHECK(found);
    CHECK(!leaked());
    printf("leak check: %s\n", found ? "finds a lost block" : "does NOT find a lost block");
}
#endif

typedef struct scenario {
    const char *name; /* FAULT_ONLY's word for it */
    int (*run)(uint64_t n, int persist, outcome *o);
    int persist;
    uint32_t tries;      /* N tried at most, spread evenly over 1..K (0: every
                          * N), in a plain build */
    uint32_t san_tries;  /* the same under ASan */
    uint32_t tsan_tries; /* the same under TSan; 0: not run there (no threads) */
} scenario;

/* The N after n: stride on, but every one from dense on. */
static uint64_t next_n(uint64_t n, uint64_t stride, uint64_t dense)
{
    if (n >= dense)
        return n + 1;
    return n + stride < dense ? n + stride : dense;
}

/* Runs sc for N = 1..K (every stride-th), and every N from the dry run's
 * dense_from on. */
static void drive(const scenario *sc, uint64_t stride_env)
{
    int persist = sc->persist;
    static outcome dry, o;
    double t0 = now_s();
    memset(&dry, 0, sizeof dry);
    int rc = sc->run(0, persist, &dry);
    uint64_t k = fault_count();
    CHECK_EQ_U(rc, 0);
    if (rc) {
        fprintf(stderr, "%s: the dry run failed: %s\n", sc->name, dry.err);
        return;
    }
    CHECK(!leaked());
    CHECK(k > 0);
    uint64_t stride = 1;
    if (stride_env)
        stride = stride_env;
    else {
        uint64_t most = TSAN ? sc->tsan_tries : ASAN ? sc->san_tries : sc->tries;
        if (most && k > most)
            stride = (k + most - 1) / most;
    }
    uint64_t dense = dry.dense_from ? dry.dense_from : k + 1;
    uint64_t tried = 0, failed = 0, succeeded = 0, fired = 0, exit1 = 0;
    for (uint64_t n = 1; n <= k; n = next_n(n, stride, dense)) {
        memset(&o, 0, sizeof o);
        double tn = now_s();
        rc = sc->run(n, persist, &o);
        tried++;
        int f = fault_fired();
        fired += f;
        if (rc) {
            failed++;
            if (o.exit_code == 1)
                exit1++;
            if (!f || !clean_oom(o.err) || (o.coded && rc != CG_ENOMEM) || o.exit_code == 2) {
                CHECK(f && clean_oom(o.err));
                CHECK(!o.coded || rc == CG_ENOMEM);
                CHECK(o.exit_code != 2); /* not "bad input" */
                fprintf(stderr, "%s: N=%llu%s: rc %d (%s), fired %d, message \"%s\"\n", sc->name,
                        (unsigned long long)n, persist ? " persistent" : "", rc, cg_strerror(rc), f,
                        o.err);
                fault_print_where(2);
            } else if (verbose) {
                fprintf(stderr, "%s: N=%llu: rc %d, exit %d: %s\n", sc->name, (unsigned long long)n,
                        rc, o.exit_code, o.err);
                if (verbose > 1)
                    fault_print_where(2);
            }
        } else {
            succeeded++;
            if (strcmp(o.digest, dry.digest) != 0) {
                CHECK_STR(o.digest, dry.digest);
                fprintf(stderr, "%s: N=%llu%s: succeeded with another result\n", sc->name,
                        (unsigned long long)n, persist ? " persistent" : "");
                fault_print_where(2);
            } else if (f && verbose) {
                fprintf(stderr, "%s: N=%llu: succeeded past the failed allocation at\n", sc->name,
                        (unsigned long long)n);
                fault_print_where(2);
            }
        }
        double tl = now_s();
        int leak = leaked();
        if (verbose > 2)
            fprintf(stderr, "%s: N=%llu: %.1f ms, the leak check %.1f ms\n", sc->name,
                    (unsigned long long)n, (tl - tn) * 1e3, (now_s() - tl) * 1e3);
        if (leak) {
            CHECK(!"leak");
            fprintf(stderr, "%s: N=%llu%s: the leak above, after the failed allocation at\n",
                    sc->name, (unsigned long long)n, persist ? " persistent" : "");
            fault_print_where(2);
            fprintf(stderr, "%s: no further N (each check would report the same block)\n",
                    sc->name);
            break;
        }
    }
    printf("%s: K=%llu allocations, %llu N tried (stride %llu", sc->name, (unsigned long long)k,
           (unsigned long long)tried, (unsigned long long)stride);
    if (dense <= k)
        printf(", every N from %llu", (unsigned long long)dense);
    printf("): %llu failed, %llu succeeded (%llu of them past a failed allocation)",
           (unsigned long long)failed, (unsigned long long)succeeded,
           (unsigned long long)(succeeded - (tried - fired)));
    if (sc->run == run_scenario)
        printf(", %llu of the failures exit 1", (unsigned long long)exit1);
    printf(", %.1f s\n", now_s() - t0);
    fflush(stdout);
}

int main(void)
{
    const char *s = getenv("FAULT_STRIDE");
    uint64_t stride_env = s ? strtoull(s, NULL, 10) : 0;
    s = getenv("FAULT_VERBOSE");
    verbose = s ? atoi(s) : 0;
    snprintf(tmp, sizeof tmp, "%s/cg-test-faults-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"); /* no disk syncs */
    CHECK(mkdtemp(tmp) != NULL);
    snprintf(rules_dir, sizeof rules_dir, "%s/rules", tmp);
    CHECK(mkdir(rules_dir, 0700) == 0);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/more", rules_dir);
    CHECK(mkdir(sub, 0700) == 0);
    put_file(rules_dir, "vars.conf", vars_conf);
    put_file(rules_dir, "classification.config", class_conf);
    put_file(rules_dir, "web.rules", web_rules);
    put_file(sub, "other.rules", other_rules);
    CHECK(fault_hook_hyperscan() == 0);
#ifdef FAULT_LSAN
    leak_check_works();
#endif

    static const scenario all[] = {
        { "rules", rules_scenario, 0, 0, 700, 0 },
        { "rules-persistent", rules_scenario, 1, 0, 450, 0 },
        { "store", store_scenario, 0, 0, 0, 0 },
        { "store-persistent", store_scenario, 1, 0, 0, 0 },
        { "policy", policy_scenario, 0, 0, 0, 0 },
        { "policy-persistent", policy_scenario, 1, 0, 0, 0 },
        { "run", run_scenario, 0, 0, 300, 40 },
        { "run-persistent", run_scenario, 1, 400, 80, 0 },
    };
    const char *only = getenv("FAULT_ONLY");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (only && !word_in(only, all[i].name))
            continue;
        if (!only && TSAN && !all[i].tsan_tries)
            continue;
        drive(&all[i], stride_env);
    }

    rm_tree(tmp);
    return check_done("test_faults");
}
