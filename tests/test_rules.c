/* test_rules.c — the rule parser: keywords and their values, address and port
 * sets, errors with file:line:column, unsupported keywords, rule files and
 * directories, the variables and classification files, the hash, and the
 * ET Open rule set (../shared/data/rules/etopen) as a whole.
 *
 * Runs from the top of the tree. Temporary files go under /tmp and are removed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/lang/rule.h"
#include "analyzer/lang/rule_kw.h"
#include "tests/check.h"

#define ETOPEN "../shared/data/rules/etopen"

/* ---- helpers -------------------------------------------------------------- */

static const cg_rule *add_ok(cg_ruleset *rs, const char *text)
{
    char err[512];
    uint32_t n;
    if (cg_ruleset_add_rule(rs, text, err, sizeof err) != 0) {
        fprintf(stderr, "unexpected failure: %s\n  rule: %s\n", err, text);
        CHECK(!"rule should load");
        return NULL;
    }
    const cg_rule *r = cg_ruleset_rules(rs, &n);
    return &r[n - 1];
}

static const cg_rule_issue *add_bad(cg_ruleset *rs, const char *text, char *err, size_t errlen)
{
    uint32_t n;
    if (cg_ruleset_add_rule(rs, text, err, errlen) == 0) {
        fprintf(stderr, "unexpected success: %s\n", text);
        CHECK(!"rule should not load");
        return NULL;
    }
    const cg_rule_issue *is = cg_ruleset_issues(rs, &n);
    return &is[n - 1];
}

/* The 1-based column of the first `needle` in `text` (after `after`, if set). */
static unsigned col_of(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    return p ? (unsigned)(p - text) + 1 : 0;
}

/* A syntax error: the exact "<string>:1:col: " prefix and the reason. */
static void expect_error(cg_ruleset *rs, const char *text, unsigned col, const char *why)
{
    char err[512], prefix[64];
    const cg_rule_issue *is = add_bad(rs, text, err, sizeof err);
    if (!is)
        return;
    snprintf(prefix, sizeof prefix, "<string>:1:%u: ", col);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fprintf(stderr, "  for rule: %s\n", text);
    CHECK_EQ_U(strncmp(err, prefix, strlen(prefix)), 0);
    CHECK_CONTAINS(err, prefix);
    CHECK_CONTAINS(err, why);
    CHECK_EQ_U(is->kind, CG_ISSUE_SYNTAX);
    CHECK_EQ_U(is->line, 1);
    CHECK_EQ_U(is->col, col);
    CHECK_STR(is->file, "<string>");
}

static void expect_unsupported(cg_ruleset *rs, const char *text, const char *keyword, unsigned col,
                               uint32_t sid)
{
    char err[512];
    const cg_rule_issue *is = add_bad(rs, text, err, sizeof err);
    if (!is)
        return;
    CHECK_EQ_U(is->kind, CG_ISSUE_UNSUPPORTED);
    CHECK_STR(is->keyword, keyword);
    CHECK_EQ_U(is->col, col);
    CHECK_EQ_U(is->sid, sid);
    CHECK_CONTAINS(err, "not supported");
}

static void ip(const char *s, uint8_t out[16])
{
    memset(out, 0, 16);
    if (strchr(s, ':')) {
        CHECK(inet_pton(AF_INET6, s, out) == 1);
    } else {
        out[10] = out[11] = 0xff;
        CHECK(inet_pton(AF_INET, s, out + 12) == 1);
    }
}

static int amatch(const cg_addrset *s, const char *addr)
{
    uint8_t a[16];
    ip(addr, a);
    return cg_addrset_match(s, a);
}

/* Invariant 3 of rule.h: sorted, disjoint, not adjacent. */
static int addr_normalised(const cg_addrset *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (memcmp(s->r[i].lo, s->r[i].hi, 16) > 0)
            return 0;
        if (i > 0) {
            uint8_t next[16];
            memcpy(next, s->r[i - 1].hi, 16);
            for (int k = 15; k >= 0 && ++next[k] == 0; k--)
                ;
            if (memcmp(next, s->r[i].lo, 16) >= 0)
                return 0;
        }
    }
    return 1;
}

static int port_normalised(const cg_portset *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->r[i].lo > s->r[i].hi || (i > 0 && (uint32_t)s->r[i - 1].hi + 1 >= s->r[i].lo))
            return 0;
    return 1;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[600];
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static const cg_rulefile *file_named(const cg_ruleset *rs, const char *suffix)
{
    uint32_t n;
    const cg_rulefile *f = cg_ruleset_files(rs, &n);
    for (uint32_t i = 0; i < n; i++) {
        size_t l = strlen(f[i].path), s = strlen(suffix);
        if (l >= s && strcmp(f[i].path + l - s, suffix) == 0)
            return &f[i];
    }
    return NULL;
}

/* ---- good rules ------------------------------------------------------------ */

static void test_full_rule(void)
{
    cg_ruleset *rs;
    CHECK(cg_ruleset_create(&rs) == 0);
    const cg_rule *r = add_ok(
        rs,
        "alert tcp $HOME_NET any -> $EXTERNAL_NET [80,8080:8090] (msg:\"ET TEST \\\"q\\\" a\\;b\"; "
        "flow:established,to_server; content:\"GET \"; depth:4; nocase; "
        "content:\"|0d 0a|Host|3a| \"; distance:0; within:200; content:!\"evil\"; "
        "pcre:\"/x[0-9]+\\;/Ri\"; dsize:>10; "
        "threshold: type limit, track by_src, count 1, seconds 60; "
        "reference:url,example.org/a; reference: cve , 2020-1234; "
        "metadata:created_at 2024_01_01, layer 2, layer 4, former_category TEST; "
        "target:dest_ip; classtype:trojan-activity; priority:2; sid:9100001; rev:3; gid:1;)");
    if (!r)
        goto out;
    CHECK_EQ_U(r->action, CG_ACT_ALERT);
    CHECK_EQ_U(r->proto, CG_RP_TCP);
    CHECK_EQ_U(r->ip_proto, 6);
    CHECK_EQ_U(r->bidir, 0);
    CHECK_STR(r->msg, "ET TEST \"q\" a;b");
    CHECK_EQ_U(r->sid, 9100001);
    CHECK_EQ_U(r->rev, 3);
    CHECK_EQ_U(r->gid, 1);
    CHECK_EQ_U(r->flow, CG_F_ESTABLISHED | CG_F_TO_SERVER);
    CHECK_EQ_U(r->dsize.op, CG_DS_GT);
    CHECK_EQ_U(r->dsize.a, 10);
    CHECK_EQ_U(r->threshold.type, CG_TH_LIMIT);
    CHECK_EQ_U(r->threshold.track, CG_TRACK_SRC);
    CHECK_EQ_U(r->threshold.count, 1);
    CHECK_EQ_U(r->threshold.seconds, 60);
    CHECK_EQ_U(r->filter.type, CG_TH_NONE);
    CHECK_EQ_U(r->nrefs, 2);
    if (r->nrefs == 2) {
        CHECK_STR(r->refs[0].key, "url");
        CHECK_STR(r->refs[0].value, "example.org/a");
        CHECK_STR(r->refs[1].key, "cve");
        CHECK_STR(r->refs[1].value, "2020-1234");
    }
    CHECK_EQ_U(r->nmeta, 4);
    if (r->nmeta == 4) {
        CHECK_STR(r->meta[0].key, "created_at");
        CHECK_STR(r->meta[0].value, "2024_01_01");
        CHECK_STR(r->meta[1].key, "layer");
        CHECK_STR(r->meta[1].value, "2");
        CHECK_STR(r->meta[3].key, "former_category");
        CHECK_STR(r->meta[3].value, "TEST");
    }
    CHECK_EQ_U(r->layers, CG_LAYER(2) | CG_LAYER(4));
    CHECK_STR(r->target, "dest_ip");
    CHECK_STR(r->classtype, "trojan-activity");
    CHECK_STR(r->class_desc, "A Network Trojan was detected");
    CHECK_EQ_U(r->priority, 2);
    CHECK_EQ_U(r->severity, 2); /* priority wins over the class's 1 */
    CHECK_EQ_U(r->nmatch, 4);
    if (r->nmatch == 4) {
        const cg_content *c0 = &r->matches[0].u.c, *c1 = &r->matches[1].u.c,
                         *c2 = &r->matches[2].u.c;
        CHECK_EQ_U(r->matches[0].type, CG_M_CONTENT);
        CHECK_EQ_U(r->matches[0].buf, CG_BUF_PAYLOAD);
        CHECK_EQ_U(c0->len, 4);
        CHECK(memcmp(c0->bytes, "GET ", 4) == 0);
        CHECK_EQ_U(c0->flags, CG_C_DEPTH | CG_C_NOCASE);
        CHECK_EQ_U(c0->depth, 4);
        CHECK_EQ_U(c1->len, 8);
        CHECK(memcmp(c1->bytes, "\r\nHost: ", 8) == 0);
        CHECK_EQ_U(c1->flags, CG_C_DISTANCE | CG_C_WITHIN);
        CHECK_EQ_U(c1->distance, 0);
        CHECK_EQ_U(c1->within, 200);
        CHECK_EQ_U(c2->flags, CG_C_NEGATED);
        CHECK(c2->len == 4 && memcmp(c2->bytes, "evil", 4) == 0);
        CHECK_EQ_U(r->matches[3].type, CG_M_PCRE);
        CHECK_EQ_U(r->matches[3].u.p.flags, CG_P_RELATIVE);
        CHECK_STR(r->matches[3].u.p.source, "/x[0-9]+\\;/Ri");
        CHECK(r->matches[3].u.p.code != NULL);
    }
    CHECK_EQ_U(r->fp, 1); /* the longest non-negated content */
    /* ports: [80,8080:8090] */
    CHECK_EQ_U(r->dport.n, 2);
    CHECK(cg_portset_match(&r->dport, 80));
    CHECK(cg_portset_match(&r->dport, 8085));
    CHECK(!cg_portset_match(&r->dport, 81));
    CHECK_EQ_U(r->sport.n, 1);
    CHECK(cg_portset_match(&r->sport, 0) && cg_portset_match(&r->sport, 65535));
    CHECK(amatch(&r->src, "10.1.2.3") && !amatch(&r->src, "8.8.8.8"));
    CHECK(amatch(&r->dst, "8.8.8.8") && !amatch(&r->dst, "192.168.1.1"));
    CHECK(amatch(&r->dst, "2001:db8::1")); /* !$HOME_NET covers IPv6 */
out:
    cg_ruleset_destroy(rs);
}

static void test_keywords(void)
{
    cg_ruleset *rs;
    const cg_rule *r;
    CHECK(cg_ruleset_create(&rs) == 0);

    /* actions, protocols, direction */
    r = add_ok(rs, "drop udp any any <> any 53 (sid:9100010;)");
    if (r) {
        CHECK_EQ_U(r->action, CG_ACT_DROP);
        CHECK_EQ_U(r->proto, CG_RP_UDP);
        CHECK_EQ_U(r->ip_proto, 17);
        CHECK_EQ_U(r->bidir, 1);
        CHECK_STR(r->msg, ""); /* msg may be absent */
        CHECK_EQ_U(r->severity, 3);
        CHECK_EQ_U(r->fp, -1);
        CHECK_EQ_U(r->nmatch, 0);
    }
    static const struct {
        const char *head;
        uint8_t act, proto, ipp;
    } hp[] = {
        { "reject icmp", CG_ACT_REJECT, CG_RP_ICMP, 1 },
        { "pass ip", CG_ACT_PASS, CG_RP_IP, 0 },
        { "alert http", CG_ACT_ALERT, CG_RP_HTTP, 6 },
        { "alert dns", CG_ACT_ALERT, CG_RP_DNS, 0 },
        { "alert tls", CG_ACT_ALERT, CG_RP_TLS, 6 },
        { "alert TCP", CG_ACT_ALERT, CG_RP_TCP, 6 },
    };
    for (size_t i = 0; i < sizeof hp / sizeof hp[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "%s any any -> any any (sid:%zu;)", hp[i].head, 9100020 + i);
        r = add_ok(rs, text);
        if (r) {
            CHECK_EQ_U(r->action, hp[i].act);
            CHECK_EQ_U(r->proto, hp[i].proto);
            CHECK_EQ_U(r->ip_proto, hp[i].ipp);
        }
    }

    /* content forms and modifiers */
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"a\\\\b\\:c|41 42 43|d|7c|\"; "
               "offset:2; depth:20; content:\"xy\"; startswith; content:\"zz\"; endswith; "
               "rawbytes; fast_pattern; content:\"abcdefgh\"; sid:9100030;)");
    if (r && r->nmatch == 4) {
        const cg_content *c = &r->matches[0].u.c;
        CHECK_EQ_U(c->len, 10);
        CHECK(memcmp(c->bytes, "a\\b:cABCd|", 10) == 0);
        CHECK_EQ_U(c->flags, CG_C_OFFSET | CG_C_DEPTH);
        CHECK_EQ_U(c->offset, 2);
        CHECK_EQ_U(c->depth, 20); /* as written: counted from offset */
        CHECK_EQ_U(r->matches[1].u.c.flags, CG_C_STARTSWITH);
        CHECK_EQ_U(r->matches[2].u.c.flags, CG_C_ENDSWITH | CG_C_FAST);
        CHECK_EQ_U(r->fp, 2); /* fast_pattern wins over the longer content */
    }
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"abcdef\"; fast_pattern:only; "
               "content:\"0123456789\"; sid:9100032;)");
    if (r && r->nmatch == 2) {
        CHECK_EQ_U(r->matches[0].u.c.flags, CG_C_FAST | CG_C_FAST_ONLY);
        CHECK_EQ_U(r->fp, 0);
    }
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"0123456789\"; fast_pattern:2,5; "
               "sid:9100033;)");
    if (r && r->nmatch == 1) {
        const cg_content *c = &r->matches[0].u.c;
        CHECK_EQ_U(c->flags, CG_C_FAST | CG_C_FAST_CHOP);
        CHECK_EQ_U(c->fp_off, 2);
        CHECK_EQ_U(c->fp_len, 5);
    }
    /* negated only: no fast pattern; pkt_data selects the payload */
    r = add_ok(rs,
               "alert tcp any any -> any any (pkt_data; content:!\"abc\"; "
               "pcre:!\"/^x$/smxAEGBO\"; sid:9100034;)");
    if (r && r->nmatch == 2) {
        CHECK_EQ_U(r->fp, -1);
        CHECK_EQ_U(r->matches[1].u.p.flags, CG_P_NEGATED | CG_P_RAWBYTES | CG_P_NOLIMIT);
    }
    /* smtp, ftp, ssh, smb: TCP payload rules of flows of that protocol */
    r = add_ok(rs,
               "alert ssh any any -> any 22 (flow:to_server; content:\"SSH-\"; "
               "app-layer-protocol:!smb; sid:9100038;)");
    if (r) {
        CHECK_EQ_U(r->proto, CG_RP_TCP);
        CHECK_EQ_U(r->ip_proto, 6);
        CHECK_EQ_U(r->app_proto, CG_APP_SSH);
        CHECK_EQ_U(r->app_match, CG_APP_SMB);
        CHECK_EQ_U(r->app_match_neg, 1);
        CHECK(r->stream_ok);
    }
    /* xbits: command, name, track, expire (30 s when absent), in rule order */
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"a\"; xbits:set, ET.x-1 , track "
               "ip_pair, expire 15; xbits:isnotset,y,track ip_src; sid:9100039;)");
    if (r && r->nxbits == 2) {
        CHECK_EQ_U(r->xbits[0].cmd, CG_FB_SET);
        CHECK_STR(r->xbits[0].name, "ET.x-1");
        CHECK_EQ_U(r->xbits[0].track, CG_XT_PAIR);
        CHECK_EQ_U(r->xbits[0].expire, 15);
        CHECK_EQ_U(r->xbits[1].cmd, CG_FB_ISNOTSET);
        CHECK_EQ_U(r->xbits[1].track, CG_XT_SRC);
        CHECK_EQ_U(r->xbits[1].expire, CG_XBITS_EXPIRE);
        CHECK(r->xbits[0].key != r->xbits[1].key);
    } else {
        CHECK(!"xbits");
    }
    CHECK(cg_rule_kw_table_sorted());
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"b\"; xbits:noalert; "
               "xbits:set,q,track ip_dst; sid:9109041;)");
    if (r) {
        CHECK(r->noalert);
        CHECK_EQ_U(r->nxbits, 1);
    }
    /* pcre unquoted, as Suricata takes it: the same as quoted */
    r = add_ok(rs,
               "alert http any any -> any any (content:\"${\"; http_header; "
               "pcre: !/(\\$\\{\\w+:.*\\}|jndi)/Hi ; sid:9100037;)");
    if (r && r->nmatch == 2) {
        CHECK_EQ_U(r->matches[1].type, CG_M_PCRE);
        CHECK_EQ_U(r->matches[1].buf, CG_BUF_HTTP_HEADER);
        CHECK_EQ_U(r->matches[1].u.p.flags, CG_P_NEGATED);
        CHECK_STR(r->matches[1].u.p.source, "/(\\$\\{\\w+:.*\\}|jndi)/Hi");
    } else {
        CHECK(!"unquoted pcre");
    }
    /* ties: the first of the longest */
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"ab\"; content:\"cde\"; "
               "content:\"fgh\"; sid:9100035;)");
    if (r)
        CHECK_EQ_U(r->fp, 1);
    /* negative distance */
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"ab\"; content:\"cd\"; "
               "distance:-2; within:4; sid:9100036;)");
    if (r && r->nmatch == 2) {
        CHECK_EQ_U((uint32_t)r->matches[1].u.c.distance, (uint32_t)-2);
        CHECK_EQ_U(r->matches[1].u.c.within, 4);
    }

    /* dsize forms */
    static const struct {
        const char *v;
        uint8_t op;
        uint32_t a, b;
    } ds[] = {
        { "300", CG_DS_EQ, 300, 0 },     { "<5", CG_DS_LT, 5, 0 },
        { "> 7", CG_DS_GT, 7, 0 },       { "<=9", CG_DS_LE, 9, 0 },
        { ">=11", CG_DS_GE, 11, 0 },     { "!0", CG_DS_NE, 0, 0 },
        { "9<>18", CG_DS_RANGE, 9, 18 }, { "10 - 20", CG_DS_RANGE, 10, 20 },
    };
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        char text[200];
        snprintf(text, sizeof text, "alert udp any any -> any any (dsize:%s; sid:%zu;)", ds[i].v,
                 9100040 + i);
        r = add_ok(rs, text);
        if (r) {
            CHECK_EQ_U(r->dsize.op, ds[i].op);
            CHECK_EQ_U(r->dsize.a, ds[i].a);
            CHECK_EQ_U(r->dsize.b, ds[i].b);
        }
    }

    /* flow forms */
    r = add_ok(rs, "alert tcp any any -> any any (flow:from_server,not_established; sid:9100050;)");
    if (r)
        CHECK_EQ_U(r->flow, CG_F_TO_CLIENT | CG_F_NOT_ESTABLISHED);
    r = add_ok(rs, "alert tcp any any -> any any (flow:stateless,from_client; sid:9100051;)");
    if (r)
        CHECK_EQ_U(r->flow, CG_F_STATELESS | CG_F_TO_SERVER);

    /* thresholds */
    r = add_ok(rs,
               "alert tcp any any -> any any (detection_filter:track by_dst, count 5, "
               "seconds 30; sid:9100052;)");
    if (r) {
        CHECK_EQ_U(r->filter.type, CG_TH_DETECTION_FILTER);
        CHECK_EQ_U(r->filter.track, CG_TRACK_DST);
        CHECK_EQ_U(r->filter.count, 5);
        CHECK_EQ_U(r->filter.seconds, 30);
        CHECK_EQ_U(r->threshold.type, CG_TH_NONE);
    }
    r = add_ok(rs,
               "alert tcp any any -> any any (threshold:seconds 10,count 3,track by_both,"
               "type both; sid:9100053;)");
    if (r) {
        CHECK_EQ_U(r->threshold.type, CG_TH_BOTH);
        CHECK_EQ_U(r->threshold.track, CG_TRACK_BOTH);
    }
    r = add_ok(rs,
               "alert tcp any any -> any any (threshold:type threshold,track by_rule,"
               "count 3,seconds 1; sid:9100054;)");
    if (r) {
        CHECK_EQ_U(r->threshold.type, CG_TH_THRESHOLD);
        CHECK_EQ_U(r->threshold.track, CG_TRACK_RULE);
    }

    /* severity: classtype priority, priority keyword, clamping */
    r = add_ok(rs, "alert tcp any any -> any any (classtype:tcp-connection; sid:9100060;)");
    if (r) {
        CHECK_EQ_U(r->priority, 0);
        CHECK_EQ_U(r->severity, 4);
        CHECK_STR(cg_severity_name(r->severity), "info");
    }
    r = add_ok(rs,
               "alert tcp any any -> any any (priority:1; classtype:misc-activity; "
               "sid:9100061;)");
    if (r)
        CHECK_EQ_U(r->severity, 1);
    r = add_ok(rs, "alert tcp any any -> any any (priority:7; sid:9100062;)");
    if (r) {
        CHECK_EQ_U(r->priority, 7);
        CHECK_EQ_U(r->severity, 4);
    }
    r = add_ok(rs,
               "alert tcp any any -> any any (classtype:Trojan-Activity; target:src_ip; "
               "target:src_ip; gid:3; sid:9100063;)");
    if (r) {
        CHECK_EQ_U(r->severity, 1);
        CHECK_EQ_U(r->gid, 3);
        CHECK_STR(r->target, "src_ip");
    }
    CHECK_STR(cg_severity_name(1), "high");
    CHECK_STR(cg_severity_name(2), "medium");
    CHECK_STR(cg_severity_name(3), "low");

    /* header spacing: lists with blanks, "! x" */
    r = add_ok(rs,
               "alert tcp [10.0.0.0/8, !10.1.0.0/16] any -> ! 1.1.1.1 [80: 82, 1024: ] "
               "(sid:9100070;)");
    if (r) {
        CHECK(amatch(&r->src, "10.2.0.1") && !amatch(&r->src, "10.1.0.1"));
        CHECK(!amatch(&r->dst, "1.1.1.1") && amatch(&r->dst, "1.1.1.2"));
        CHECK(cg_portset_match(&r->dport, 81) && cg_portset_match(&r->dport, 65535) &&
              !cg_portset_match(&r->dport, 83));
    }
    /* same sid, other gid: not a duplicate */
    add_ok(rs, "alert tcp any any -> any any (gid:2; sid:9100010;)");
    cg_ruleset_destroy(rs);
}

/* ---- address and port sets ------------------------------------------------- */

static void test_sets(void)
{
    cg_ruleset *rs;
    const cg_rule *r;
    char text[512];
    uint32_t sid = 9100100;
    CHECK(cg_ruleset_create(&rs) == 0);

#define SRC(expr)                                                                      \
    (snprintf(text, sizeof text, "alert ip %s any -> any any (sid:%u;)", expr, sid++), \
     add_ok(rs, text))
#define SPORT(expr)                                                                     \
    (snprintf(text, sizeof text, "alert tcp any %s -> any any (sid:%u;)", expr, sid++), \
     add_ok(rs, text))

    r = SRC("any");
    if (r) {
        CHECK_EQ_U(r->src.n, 1);
        CHECK(amatch(&r->src, "0.0.0.0") && amatch(&r->src, "::") &&
              amatch(&r->src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    }
    r = SRC("192.0.2.7");
    if (r) {
        uint8_t a[16];
        ip("192.0.2.7", a);
        CHECK_EQ_U(r->src.n, 1);
        CHECK(memcmp(r->src.r[0].lo, a, 16) == 0 && memcmp(r->src.r[0].hi, a, 16) == 0);
        CHECK(!amatch(&r->src, "192.0.2.8"));
    }
    r = SRC("192.0.2.77/24"); /* host bits are masked, as in Suricata */
    if (r)
        CHECK(amatch(&r->src, "192.0.2.0") && amatch(&r->src, "192.0.2.255") &&
              !amatch(&r->src, "192.0.3.0"));
    r = SRC("192.0.2.0/255.255.255.128");
    if (r)
        CHECK(amatch(&r->src, "192.0.2.127") && !amatch(&r->src, "192.0.2.128"));
    r = SRC("192.0.2.10-192.0.2.20");
    if (r)
        CHECK(amatch(&r->src, "192.0.2.15") && !amatch(&r->src, "192.0.2.21"));
    r = SRC("2001:db8::/32");
    if (r)
        CHECK(amatch(&r->src, "2001:db8:ffff::1") && !amatch(&r->src, "2001:db9::") &&
              !amatch(&r->src, "10.0.0.1"));
    r = SRC("0.0.0.0/0"); /* all of IPv4, none of IPv6 */
    if (r)
        CHECK(amatch(&r->src, "255.255.255.255") && !amatch(&r->src, "2001:db8::1"));
    /* merging: adjacent and overlapping */
    r = SRC("[10.0.0.0/9,10.128.0.0/9,10.1.0.0/16,10.1.2.3]");
    if (r) {
        CHECK_EQ_U(r->src.n, 1);
        CHECK(addr_normalised(&r->src));
    }
    /* nesting and negation */
    r = SRC("[10.0.0.0/8,![10.1.0.0/16,!10.1.2.0/24],192.168.1.1]");
    if (r) {
        CHECK(addr_normalised(&r->src));
        CHECK(amatch(&r->src, "10.0.0.1"));
        CHECK(!amatch(&r->src, "10.1.0.1"));
        CHECK(amatch(&r->src, "10.1.2.3")); /* the inner exception comes back */
        CHECK(amatch(&r->src, "192.168.1.1"));
        CHECK(!amatch(&r->src, "192.168.1.2"));
    }
    r = SRC("![1.1.1.1,2.2.2.2]");
    if (r)
        CHECK(!amatch(&r->src, "1.1.1.1") && !amatch(&r->src, "2.2.2.2") &&
              amatch(&r->src, "3.3.3.3") && amatch(&r->src, "::1"));
    r = SRC("[!1.1.1.1,!2.2.2.2]"); /* only negations: from everything */
    if (r)
        CHECK(!amatch(&r->src, "1.1.1.1") && amatch(&r->src, "1.1.1.2"));
    r = SRC("!!10.0.0.1");
    if (r)
        CHECK(amatch(&r->src, "10.0.0.1") && !amatch(&r->src, "10.0.0.2"));
    /* variables */
    r = SRC("$HOME_NET");
    if (r) {
        CHECK_EQ_U(r->src.n, 3);
        CHECK(amatch(&r->src, "172.31.255.255") && !amatch(&r->src, "172.32.0.0"));
    }
    r = SRC("!$HOME_NET");
    if (r) {
        CHECK(addr_normalised(&r->src));
        CHECK(amatch(&r->src, "2001:db8::1") && amatch(&r->src, "8.8.8.8") &&
              !amatch(&r->src, "192.168.3.4"));
    }
    r = SRC("[$HOME_NET,!$DNS_SERVERS,8.8.8.8]"); /* DNS_SERVERS = $HOME_NET */
    if (r)
        CHECK_EQ_U(r->src.n, 1);
    r = SRC("$AIM_SERVERS"); /* $EXTERNAL_NET -> !$HOME_NET */
    if (r)
        CHECK(amatch(&r->src, "8.8.8.8") && !amatch(&r->src, "10.0.0.1"));

    /* ports */
    r = SPORT("[1:80,![2,4]]");
    if (r) {
        CHECK(port_normalised(&r->sport));
        CHECK(cg_portset_match(&r->sport, 1) && !cg_portset_match(&r->sport, 2) &&
              cg_portset_match(&r->sport, 3) && !cg_portset_match(&r->sport, 4) &&
              cg_portset_match(&r->sport, 80) && !cg_portset_match(&r->sport, 81));
    }
    r = SPORT(":1023");
    if (r)
        CHECK(cg_portset_match(&r->sport, 0) && !cg_portset_match(&r->sport, 1024));
    r = SPORT("1024:");
    if (r)
        CHECK(cg_portset_match(&r->sport, 65535) && !cg_portset_match(&r->sport, 1023));
    r = SPORT("!80");
    if (r)
        CHECK(!cg_portset_match(&r->sport, 80) && cg_portset_match(&r->sport, 79) &&
              cg_portset_match(&r->sport, 81));
    r = SPORT("$SHELLCODE_PORTS");
    if (r)
        CHECK(!cg_portset_match(&r->sport, 80) && cg_portset_match(&r->sport, 8080));
    r = SPORT("$FILE_DATA_PORTS");
    if (r) {
        CHECK_EQ_U(r->sport.n, 3);
        CHECK(cg_portset_match(&r->sport, 110) && cg_portset_match(&r->sport, 143) &&
              cg_portset_match(&r->sport, 80));
    }
    r = SPORT("[80,81,82,[83:90]]");
    if (r) {
        CHECK_EQ_U(r->sport.n, 1);
        CHECK(r->sport.n == 1 && r->sport.r[0].lo == 80 && r->sport.r[0].hi == 90);
    }
#undef SRC
#undef SPORT

    /* empty sets are errors, as in Suricata */
    expect_error(rs, "alert ip [1.2.3.4,!1.2.3.4] any -> any any (sid:9100190;)", 10,
                 "address set is empty after negation");
    expect_error(rs, "alert ip any any -> !any any (sid:9100191;)", 21,
                 "address set is empty after negation");
    expect_error(rs, "alert tcp any [1:5,![1:10]] -> any any (sid:9100192;)", 15,
                 "port set is empty after negation");
    cg_ruleset_destroy(rs);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_errors(void)
{
    cg_ruleset *rs;
    const char *t;
    CHECK(cg_ruleset_create(&rs) == 0);

    t = "alert tcp any any -> any any (msg:\"x\"; sid:1;";
    expect_error(rs, t, (unsigned)strlen(t) + 1, "missing ')' at the end of the rule");
    t = "alert tcp any any -> any any msg:\"x\"; sid:2;)";
    expect_error(rs, t, col_of(t, "msg"), "missing '(' before the options");
    t = "alert tcp any any -> any any (msg:\"x\"; sid:3)";
    expect_error(rs, t, col_of(t, "sid"), "missing ';' after option 'sid'");
    t = "alert tcp any any -> any any (msg:\"x\" sid:4;)";
    expect_error(rs, t, col_of(t, " sid:4"), "text after the closing quote of msg");
    t = "alert tcp any any -> any any (content:\"abc; sid:5;)";
    expect_error(rs, t, col_of(t, "\"abc"), "unterminated string");
    t = "alert tcp any any -> any any (content:\"|41 4G|\"; sid:6;)";
    expect_error(rs, t, col_of(t, "G|"), "bad hex digit 'G' in content");
    t = "alert tcp any any -> any any (content:\"|41 4|\"; sid:7;)";
    expect_error(rs, t, col_of(t, "|\""), "odd number of hex digits in content");
    t = "alert tcp any any -> any any (content:\"a|41\"; sid:8;)";
    expect_error(rs, t, col_of(t, "|41"), "unterminated hex block in content");
    t = "alert tcp any any -> any any (content:\"a\\x\"; sid:9;)";
    expect_error(rs, t, col_of(t, "\\x"), "bad escape in content");
    t = "alert tcp any any -> any any (content:\"\"; sid:10;)";
    expect_error(rs, t, col_of(t, "\"\"") + 1, "empty content");
    t = "alert tcp any any -> any any (content:abc; sid:11;)";
    expect_error(rs, t, col_of(t, "abc"), "content needs a quoted string");
    t = "alert tcp any any -> any any (classtype:no-such-class; sid:12;)";
    expect_error(rs, t, col_of(t, "no-such"), "unknown classtype 'no-such-class'");
    t = "alert tcp any any -> any any (nocase; content:\"a\"; sid:13;)";
    expect_error(rs, t, col_of(t, "nocase"), "'nocase' needs a preceding content");
    t = "alert tcp any any -> any any (depth:3; content:\"a\"; sid:14;)";
    expect_error(rs, t, col_of(t, "depth"), "'depth' needs a preceding content");
    t = "alert tcp any any -> any any (content:\"abcd\"; depth:3; sid:15;)";
    expect_error(rs, t, col_of(t, "3;"), "depth 3 is shorter than the content (4 bytes)");
    t = "alert tcp any any -> any any (content:\"abcd\"; depth:-4; sid:16;)";
    expect_error(rs, t, col_of(t, "-4"), "depth -4 is out of range");
    t = "alert tcp any any -> any any (content:\"ab\"; content:\"abcd\"; within:3; sid:17;)";
    expect_error(rs, t, col_of(t, "3;"), "within 3 is shorter than the content (4 bytes)");
    t = "alert tcp any any -> any any (content:\"ab\"; depth:5; distance:1; sid:18;)";
    expect_error(rs, t, col_of(t, "distance"), "can't be mixed with distance/within");
    t = "alert tcp any any -> any any (content:\"ab\"; startswith; offset:1; sid:19;)";
    expect_error(rs, t, col_of(t, "offset"), "startswith can't be mixed");
    t = "alert tcp any any -> any any (content:\"ab\"; depth:5; depth:6; sid:20;)";
    expect_error(rs, t, col_of(t, "depth:6"), "'depth' given twice for one content");
    t = "alert tcp any any -> any any (content:!\"ab\"; fast_pattern:only; sid:21;)";
    expect_error(rs, t, col_of(t, "fast_pattern"), "fast_pattern:only can't be used");
    t = "alert tcp any any -> any any (content:\"abcdef\"; fast_pattern:only; "
        "content:\"0123456789\"; fast_pattern:2,5; sid:9100031;)";
    expect_error(rs, t, col_of(t, "fast_pattern:2"), "only one content in a rule");
    t = "alert tcp any any -> any any (content:\"abc\"; fast_pattern:2,5; sid:22;)";
    expect_error(rs, t, col_of(t, "2,5"), "runs past the content");
    t = "alert tcp any any -> any any (content:\"a\"; sid:12x;)";
    expect_error(rs, t, col_of(t, "12x"), "bad number '12x' for sid");
    t = "alert tcp any any -> any any (sid:0;)";
    expect_error(rs, t, col_of(t, "0;"), "sid 0 is out of range");
    t = "alert tcp any any -> any any (content:\"a\"; offset:zz9; sid:23;)";
    expect_error(rs, t, col_of(t, "zz9"), "'zz9' is not a byte_extract variable");
    t = "alert tcp $NOPE_NET any -> any any (sid:24;)";
    expect_error(rs, t, col_of(t, "$NOPE"), "undefined variable $NOPE_NET");
    t = "alert tcp any $NOPE_PORTS -> any any (sid:25;)";
    expect_error(rs, t, col_of(t, "$NOPE"), "undefined variable $NOPE_PORTS");
    t = "alert tcp [10.0.0.1,300.1.1.1] any -> any any (sid:26;)";
    expect_error(rs, t, col_of(t, "300"), "bad address '300.1.1.1'");
    t = "alert tcp any 70000 -> any any (sid:27;)";
    expect_error(rs, t, col_of(t, "70000"), "bad port '70000'");
    t = "alert tcp any 90:80 -> any any (sid:28;)";
    expect_error(rs, t, col_of(t, "90:80"), "port range 90:80 is reversed");
    t = "alert tcp [10.0.0.1 any -> any any (sid:29;)";
    expect_error(rs, t, col_of(t, "[10"), "unbalanced '['");
    t = "alert tcp $HTTP_PORTS any -> any any (sid:30;)";
    expect_error(rs, t, col_of(t, "$HTTP"), "in $HTTP_PORTS: bad address '80'");
    t = "alert tcp any any <- any any (sid:31;)";
    expect_error(rs, t, col_of(t, "<-"), "bad direction '<-'");
    t = "alrt tcp any any -> any any (sid:32;)";
    expect_error(rs, t, 1, "unknown action 'alrt'");
    t = "alert tcp any any ->";
    expect_error(rs, t, (unsigned)strlen(t) + 1, "incomplete rule header");
    t = "alert tcp any any -> any any (msg:\"no sid\";)";
    expect_error(rs, t, col_of(t, "("), "missing sid");
    t = "alert tcp any any -> any any (pcre:\"/a(b/\"; sid:33;)";
    expect_error(rs, t, col_of(t, "a(b") + 3, "pcre: missing closing parenthesis");
    t = "alert tcp any any -> any any (pcre:\"/ab/q\"; sid:34;)";
    expect_error(rs, t, col_of(t, "q\""), "unknown pcre flag 'q'");
    t = "alert tcp any any -> any any (pcre:\"ab\"; sid:35;)";
    expect_error(rs, t, col_of(t, "ab\""), "pcre must be written");
    t = "alert tcp any any -> any any (base64_decode:bytes 4,; base64_data; content:\"x\"; "
        "sid:48;)";
    expect_error(rs, t, col_of(t, "; base64_data"), "empty field in base64_decode");
    t = "alert tcp any any -> any any (xbits:set, ,track ip_src; sid:49;)";
    expect_error(rs, t, col_of(t, " ,track") + 1, "empty field in xbits");
    t = "alert tcp any any -> any any (flowint:n,++,1; sid:44;)";
    expect_error(rs, t, col_of(t, "++"), "unknown flowint operator '++'");
    t = "alert tcp any any -> any any (flowint:n,+; sid:45;)";
    expect_error(rs, t, col_of(t, "flowint"), "flowint + needs a value");
    t = "alert tcp any any -> any any (flowint:n,isset,1; sid:46;)";
    expect_error(rs, t, col_of(t, "1;"), "flowint isset takes no value");
    t = "alert tcp any any -> any any (flowint:n,=,4294967296; sid:47;)";
    expect_error(rs, t, col_of(t, "4294967296"), "the value must be 0 to 4294967295");
    t = "alert tcp any any -> any any (xbits:set,a,track ip_host; sid:39;)";
    expect_error(rs, t, col_of(t, "ip_host"), "track must be ip_src, ip_dst or ip_pair");
    t = "alert tcp any any -> any any (xbits:set,a; sid:40;)";
    expect_error(rs, t, col_of(t, "xbits"), "needs 'track ip_src'");
    t = "alert tcp any any -> any any (xbits:set,a,track ip_src,expire -3; sid:41;)";
    expect_error(rs, t, col_of(t, "-3"), "expire must be 1 to 31536000 seconds");
    t = "alert tcp any any -> any any (xbits:flip,a,track ip_src; sid:42;)";
    expect_error(rs, t, col_of(t, "flip"), "unknown xbits command 'flip'");
    t = "alert tcp any any -> any any (xbits:set,a,track ip_src,later 3; sid:43;)";
    expect_error(rs, t, col_of(t, "later"), "expected 'track ...' or 'expire ...'");
    t = "alert tcp any any -> any any (pcre:/ab; sid:37;)";
    expect_error(rs, t, col_of(t, "/ab"), "pcre must be written");
    t = "alert tcp any any -> any any (pcre:ab/; sid:38;)";
    expect_error(rs, t, col_of(t, "ab/"), "pcre needs a quoted string");
    t = "alert tcp any any -> any any (pcre:\"/ab/R\"; sid:36;)";
    expect_error(rs, t, col_of(t, "pcre"), "needs a preceding content or pcre");
    t = "alert tcp any any -> any any (flow:to_server,to_client; sid:37;)";
    expect_error(rs, t, col_of(t, "to_server"), "both to_server and to_client");
    t = "alert tcp any any -> any any (flow:established,sideways; sid:38;)";
    expect_error(rs, t, col_of(t, "sideways"), "unknown flow option 'sideways'");
    t = "alert tcp any any -> any any (dsize:20<>10; sid:39;)";
    expect_error(rs, t, col_of(t, "20<>"), "needs the first number smaller");
    t = "alert tcp any any -> any any (threshold:type limit, track by_src, count 1; sid:40;)";
    expect_error(rs, t, col_of(t, "type"), "threshold needs type, track, count and seconds");
    t = "alert tcp any any -> any any (threshold:type limit, track by_src, count 1, seconds 1; "
        "detection_filter:track by_src, count 1, seconds 1; sid:41;)";
    expect_error(rs, t, col_of(t, "detection_filter"), "can't be used in one rule");
    t = "alert tcp any any -> any any (metadata:layer 5; sid:42;)";
    expect_error(rs, t, col_of(t, "layer"), "metadata 'layer' must be 1, 2, 3 or 4");
    t = "alert tcp any any -> any any (target:both; sid:43;)";
    expect_error(rs, t, col_of(t, "both"), "target must be src_ip or dest_ip");
    t = "alert tcp any any -> any any (sid:44; sid:45;)";
    expect_error(rs, t, col_of(t, "sid:45"), "'sid' given twice");
    t = "alert tcp any any -> any any (nocase:1; sid:46;)";
    expect_error(rs, t, col_of(t, "nocase"), "'nocase' takes no value");
    t = "alert tcp any any -> any any (content; sid:47;)";
    expect_error(rs, t, col_of(t, "content"), "'content' needs a value");
    t = "alert tcp any any -> any any (; sid:48;)";
    expect_error(rs, t, col_of(t, ";"), "expected an option name");
    t = "alert tcp any any -> any any (reference:nocomma; sid:49;)";
    expect_error(rs, t, col_of(t, "nocomma"), "reference needs 'type,value'");

    /* the sid of a rule that failed early is still reported */
    {
        char err[256];
        const cg_rule_issue *is = add_bad(rs,
                                          "alert tcp any any -> any any (content:\"|zz|\"; "
                                          "sid:9100999;)",
                                          err, sizeof err);
        if (is)
            CHECK_EQ_U(is->sid, 9100999);
    }
    /* a syntax error wins over an unsupported keyword before it */
    t = "alert tcp any any -> any any (asn1:bitstring_overflow; content:\"a\"; depth:0; sid:50;)";
    expect_error(rs, t, col_of(t, "0;"), "depth 0 is shorter than the content");

    /* unsupported: named, with their column and the sid */
    t = "alert tcp any any -> any any (asn1:bitstring_overflow; content:\"a\"; sid:60;)";
    expect_unsupported(rs, t, "asn1", col_of(t, "asn1"), 60);
    t = "alert tcp any any -> any any (xbits:set,x,track tx; content:\"a\"; sid:69;)";
    expect_unsupported(rs, t, "xbits:track tx", col_of(t, "tx;"), 69);
    t = "alert tcp any any -> any any (base64_decode; base64_data; content:\"a\"; "
        "base64_decode; sid:61;)";
    expect_unsupported(rs, t, "base64_decode (a second)", col_of(t, "base64_decode; sid"), 61);
    t = "alert ftp-data any any -> any any (sid:62;)";
    expect_unsupported(rs, t, "ftp-data", col_of(t, "ftp-data"), 62);
    t = "alert tcp any any -> any any (content:\"a\"; app-layer-protocol:!krb5; sid:63;)";
    expect_unsupported(rs, t, "app-layer-protocol:krb5", col_of(t, "app-layer"), 63);
    /* no parser builds an smtp flow's buffers: its file.data (a MIME
     * attachment) is not evaluated, so the rule is not loaded */
    t = "alert smtp any any -> any any (flow:to_server; file.data; content:\"MZ\"; sid:68;)";
    expect_unsupported(rs, t, "smtp file.data", col_of(t, "file.data"), 68);
    t = "alert tcp any any -> any any (flow:established,only_frag; sid:64;)";
    expect_unsupported(rs, t, "flow:only_frag", col_of(t, "only_frag"), 64);
    t = "alert tcp any any -> any any (no_such_keyword:1; sid:65;)";
    expect_unsupported(rs, t, "no_such_keyword", col_of(t, "no_such"), 65);
    t = "alert tcp any any -> any any (content:\"a\"; byte_test:1,>,2,0,relative,dce; sid:66;)";
    expect_unsupported(rs, t, "byte_test:dce", col_of(t, "dce"), 66);
    t = "alert tcp any any -> any any (pcre:\"/(?P<pkt_x>a)/\"; sid:67;)";
    expect_unsupported(rs, t, "pcre-capture", col_of(t, "/(?P"), 67);

    /* nothing of the failed rules loaded; issues and counts agree */
    uint32_t nr, ni, nf;
    cg_ruleset_rules(rs, &nr);
    const cg_rule_issue *is = cg_ruleset_issues(rs, &ni);
    const cg_rulefile *f = cg_ruleset_files(rs, &nf);
    CHECK_EQ_U(nr, 0);
    CHECK_EQ_U(nf, 1);
    uint32_t syn = 0, uns = 0;
    for (uint32_t i = 0; i < ni; i++)
        *(is[i].kind == CG_ISSUE_UNSUPPORTED ? &uns : &syn) += 1;
    if (nf == 1) {
        CHECK_STR(f[0].path, "<string>");
        CHECK_EQ_U(f[0].loaded, 0);
        CHECK_EQ_U(f[0].skipped, uns);
        CHECK_EQ_U(f[0].errors, syn);
    }
    cg_ruleset_destroy(rs);
}

/* ---- buffers, byte keywords, header keywords --------------------------------- */

static void test_buffers(void)
{
    cg_ruleset *rs;
    const cg_rule *r;
    CHECK(cg_ruleset_create(&rs) == 0);

    /* sticky buffers make groups; items keep rule order; a single buffer named
     * again continues its group, a multi-instance one starts another */
    r = add_ok(rs,
               "alert http any any -> any any (http.method; content:\"POST\"; http.uri; "
               "content:\"/a\"; http.header; content:\"X\"; http.uri; content:\"b\"; "
               "distance:0; sid:9100300;)");
    if (r && r->nmatch == 4 && r->ngroups == 3) {
        CHECK_EQ_U(r->groups[0].buf, CG_BUF_HTTP_METHOD);
        CHECK_EQ_U(r->groups[1].buf, CG_BUF_HTTP_URI);
        CHECK_EQ_U(r->groups[2].buf, CG_BUF_HTTP_HEADER);
        CHECK_EQ_U(r->matches[0].grp, 0);
        CHECK_EQ_U(r->matches[1].grp, 1);
        CHECK_EQ_U(r->matches[2].grp, 2);
        CHECK_EQ_U(r->matches[3].grp, 1);
        CHECK_EQ_U(r->matches[3].buf, CG_BUF_HTTP_URI);
        CHECK_EQ_U(r->bufs,
                   (1ull << CG_BUF_HTTP_METHOD) | (1ull << CG_BUF_HTTP_URI) |
                       (1ull << CG_BUF_HTTP_HEADER));
        CHECK_EQ_U(r->app_proto, CG_APP_HTTP);
        CHECK_EQ_U(r->fp, 0); /* POST: the longest */
        CHECK_EQ_U(r->fp_buf, CG_BUF_HTTP_METHOD);
    } else {
        CHECK(!"http.method/uri/header groups");
    }
    r = add_ok(rs,
               "alert dns any any -> any any (dns.query; content:\"a\"; dns_query; "
               "content:\"b\"; sid:9100301;)");
    if (r)
        CHECK_EQ_U(r->ngroups, 2);
    /* legacy modifiers move the content before them; the payload group goes
     * when nothing is left in it */
    r = add_ok(rs,
               "alert http any any -> any any (content:\"GET\"; http_method; content:\"/x\"; "
               "http_uri; content:\"abc\"; http_raw_uri; fast_pattern; sid:9100302;)");
    if (r && r->ngroups == 3) {
        CHECK_EQ_U(r->matches[0].buf, CG_BUF_HTTP_METHOD);
        CHECK_EQ_U(r->matches[1].buf, CG_BUF_HTTP_URI);
        CHECK_EQ_U(r->matches[2].buf, CG_BUF_HTTP_URI_RAW);
        CHECK_EQ_U(r->fp, 2);
        CHECK(!(r->bufs & (1ull << CG_BUF_PAYLOAD)));
    } else {
        CHECK(!"legacy modifiers");
    }
    /* pcre letters; uricontent; pkt_data back to the payload */
    r = add_ok(rs,
               "alert http any any -> any any (file_data; content:\"x\"; pcre:\"/a/Ui\"; "
               "uricontent:\"/y\"; content:\"z\"; pkt_data; content:\"GET\"; sid:9100303;)");
    if (r && r->nmatch == 5) {
        CHECK_EQ_U(r->matches[0].buf, CG_BUF_FILE_DATA);
        CHECK_EQ_U(r->matches[1].buf, CG_BUF_HTTP_URI);
        CHECK_EQ_U(r->matches[2].buf, CG_BUF_HTTP_URI);
        CHECK_EQ_U(r->matches[3].buf, CG_BUF_FILE_DATA); /* the sticky buffer stays */
        CHECK_EQ_U(r->matches[4].buf, CG_BUF_PAYLOAD);
        CHECK_EQ_U(r->matches[1].grp, r->matches[2].grp);
    } else {
        CHECK(!"pcre letters");
    }
    /* transforms on the group; a transform after items opens a new block */
    r = add_ok(rs,
               "alert tls any any -> any any (tls.sni; dotprefix; to_lowercase; "
               "content:\".evil.com\"; endswith; pcre:\"/^[a-z]/\"; dotprefix; "
               "content:\".com\"; sid:9100304;)");
    if (r && r->ngroups == 2) {
        CHECK_EQ_U(r->groups[0].buf, CG_BUF_TLS_SNI);
        CHECK_EQ_U(r->groups[0].ntf, 2);
        CHECK_EQ_U(r->groups[0].tf[0], CG_TF_DOTPREFIX);
        CHECK_EQ_U(r->groups[0].tf[1], CG_TF_TO_LOWERCASE);
        CHECK_EQ_U(r->groups[1].ntf, 1);
        CHECK_EQ_U(r->matches[2].grp, 1);
        CHECK_EQ_U(r->fp, 0);
        CHECK_EQ_U(r->fp_len, 8); /* "evil.com" */
        CHECK_EQ_U(r->fp_nocase, 1);
    } else {
        CHECK(!"transforms");
    }
    static const char *const tfs[] = { "strip_whitespace", "compress_whitespace", "url_decode",
                                       "to_uppercase" };
    static const uint8_t tfid[] = { CG_TF_STRIP_WHITESPACE, CG_TF_COMPRESS_WHITESPACE,
                                    CG_TF_URL_DECODE, CG_TF_TO_UPPERCASE };
    for (size_t i = 0; i < 4; i++) {
        char t[256];
        snprintf(t, sizeof t,
                 "alert http any any -> any any (http.request_body; %s; "
                 "content:\"A%%\"; sid:%zu;)",
                 tfs[i], 9100310 + i);
        r = add_ok(rs, t);
        if (r && r->ngroups == 1) {
            CHECK_EQ_U(r->groups[0].tf[0], tfid[i]);
            CHECK_EQ_U(r->fp, i == 3 ? 0 : -1); /* only the case change keeps a literal */
        }
    }
    /* bsize and urilen are items of their buffer */
    r = add_ok(rs,
               "alert http any any -> any any (http.host; content:\"a.b\"; bsize:>=3; "
               "urilen:<100,raw; sid:9100320;)");
    if (r && r->nmatch == 3) {
        CHECK_EQ_U(r->matches[1].type, CG_M_BSIZE);
        CHECK_EQ_U(r->matches[1].u.sz.op, CG_U_GE);
        CHECK_EQ_U(r->matches[1].u.sz.a, 3);
        CHECK_EQ_U(r->matches[2].type, CG_M_BSIZE);
        CHECK_EQ_U(r->matches[2].buf, CG_BUF_HTTP_URI_RAW);
        CHECK_EQ_U(r->matches[2].u.sz.op, CG_U_LT);
    }
    /* payload placement */
    r = add_ok(rs, "alert tcp any any -> any any (content:\"a\"; sid:9100330;)");
    if (r)
        CHECK(r->packet_ok && r->stream_ok);
    r = add_ok(rs, "alert tcp-pkt any any -> any any (content:\"a\"; sid:9100331;)");
    if (r)
        CHECK(r->packet_ok && !r->stream_ok && r->proto == CG_RP_TCP);
    r = add_ok(rs, "alert tcp-stream any any -> any any (content:\"a\"; sid:9100332;)");
    if (r)
        CHECK(!r->packet_ok && r->stream_ok);
    r = add_ok(rs,
               "alert http1 any any -> any any (flow:established,only_stream; "
               "content:\"a\"; sid:9100333;)");
    if (r)
        CHECK(!r->packet_ok && r->stream_ok && r->proto == CG_RP_HTTP);
    r = add_ok(rs, "alert udp any any -> any any (flow:no_frag; content:\"a\"; sid:9100334;)");
    if (r)
        CHECK(r->packet_ok && !r->stream_ok);
    cg_ruleset_destroy(rs);
}

static void test_byte_keywords(void)
{
    cg_ruleset *rs;
    const cg_rule *r;
    CHECK(cg_ruleset_create(&rs) == 0);

    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"a\"; isdataat:!1,relative; "
               "isdataat:50; byte_test:2,!=,0x10,-1,relative,little; "
               "byte_test:4,<=,1337,1,string,dec; byte_test:1,&,8,0,bitmask 0x0f; "
               "sid:9100400;)");
    if (r && r->nmatch == 6) {
        CHECK_EQ_U(r->matches[1].type, CG_M_ISDATAAT);
        CHECK_EQ_U(r->matches[1].u.d.pos, 1);
        CHECK_EQ_U(r->matches[1].u.d.flags, CG_D_NEGATED | CG_D_RELATIVE);
        CHECK_EQ_U(r->matches[2].u.d.flags, 0);
        const cg_byteop *b = &r->matches[3].u.b;
        CHECK_EQ_U(r->matches[3].type, CG_M_BYTE_TEST);
        CHECK_EQ_U(b->nbytes, 2);
        CHECK_EQ_U(b->op, CG_BT_EQ);
        CHECK_EQ_U(b->flags, CG_B_NEGOP | CG_B_RELATIVE | CG_B_LITTLE);
        CHECK_EQ_U(b->value, 16);
        CHECK_EQ_U((uint32_t)b->offset, (uint32_t)-1);
        b = &r->matches[4].u.b;
        CHECK_EQ_U(b->op, CG_BT_LE);
        CHECK_EQ_U(b->flags, CG_B_STRING);
        CHECK_EQ_U(b->base, 10);
        b = &r->matches[5].u.b;
        CHECK_EQ_U(b->op, CG_BT_AND);
        CHECK_EQ_U(b->flags, CG_B_BITMASK);
        CHECK_EQ_U(b->bitmask, 15);
    } else {
        CHECK(!"isdataat/byte_test");
    }
    r = add_ok(rs,
               "alert tcp any any -> any any (byte_jump:4,12,relative,multiplier 2,big,"
               "align,from_beginning,post_offset -3,bitmask 0xff; byte_jump:2,0,string,hex,"
               "from_end; sid:9100401;)");
    if (r && r->nmatch == 2) {
        const cg_byteop *b = &r->matches[0].u.b;
        CHECK_EQ_U(r->matches[0].type, CG_M_BYTE_JUMP);
        CHECK_EQ_U(b->nbytes, 4);
        CHECK_EQ_U(b->offset, 12);
        CHECK_EQ_U(b->multiplier, 2);
        CHECK_EQ_U((uint32_t)b->post_offset, (uint32_t)-3);
        CHECK_EQ_U(b->flags, CG_B_RELATIVE | CG_B_ALIGN | CG_B_BEGIN | CG_B_BITMASK);
        CHECK_EQ_U(r->matches[1].u.b.base, 16);
        CHECK_EQ_U(r->matches[1].u.b.flags, CG_B_STRING | CG_B_END);
    }
    /* byte_extract variables: as nbytes, value, offset and content positions */
    r = add_ok(rs,
               "alert tcp any any -> any any (byte_extract:1,0,len,relative,multiplier 4,"
               "align 2; byte_extract:2,1,off,string,oct; byte_test:len,=,off,off; "
               "byte_jump:len,off; isdataat:len,relative; content:\"x\"; offset:off; "
               "depth:len; content:\"y\"; distance:off; within:len; sid:9100402;)");
    if (r && r->nmatch == 7) {
        CHECK_EQ_U(r->nvars, 2);
        CHECK_EQ_U(r->matches[0].type, CG_M_BYTE_EXTRACT);
        CHECK_EQ_U(r->matches[0].u.b.var, 0);
        CHECK_EQ_U(r->matches[0].u.b.align, 2);
        CHECK_EQ_U(r->matches[1].u.b.var, 1);
        CHECK_EQ_U(r->matches[1].u.b.base, 8);
        CHECK_EQ_U(r->matches[2].u.b.flags, CG_B_NBYTES_VAR | CG_B_VALUE_VAR | CG_B_OFFSET_VAR);
        CHECK_EQ_U(r->matches[2].u.b.nbytes, 0);
        CHECK_EQ_U(r->matches[2].u.b.value, 1);
        CHECK_EQ_U(r->matches[4].u.d.flags, CG_D_VAR | CG_D_RELATIVE);
        const cg_content *c = &r->matches[5].u.c;
        CHECK_EQ_U(c->flags, CG_C_OFFSET | CG_C_OFFSET_VAR | CG_C_DEPTH | CG_C_DEPTH_VAR);
        CHECK_EQ_U(c->offset, 1);
        CHECK_EQ_U(c->depth, 0);
        c = &r->matches[6].u.c;
        CHECK_EQ_U(c->flags, CG_C_DISTANCE | CG_C_DISTANCE_VAR | CG_C_WITHIN | CG_C_WITHIN_VAR);
    } else {
        CHECK(!"byte_extract variables");
    }
    /* a variable of an earlier buffer */
    add_ok(rs,
           "alert http any any -> any any (http.uri; byte_extract:1,0,v; http.header; "
           "content:\"x\"; offset:v; sid:9100403;)");
    /* offsets: byte_test reads them as strtol with radix 0 (010 is 8), the
     * others in decimal, as Suricata's parsers do */
    r = add_ok(rs,
               "alert tcp any any -> any any (byte_test:1,=,0x10,010; byte_jump:1,010; "
               "byte_extract:1,010,w; sid:9100406;)");
    if (r && r->nmatch == 3) {
        CHECK_EQ_U(r->matches[0].u.b.value, 16);
        CHECK_EQ_U(r->matches[0].u.b.offset, 8);
        CHECK_EQ_U(r->matches[1].u.b.offset, 10);
        CHECK_EQ_U(r->matches[2].u.b.offset, 10);
    }
    /* ET's forms: 0 characters with string, byte_jump of 0 bytes */
    add_ok(rs,
           "alert http any any -> any any (http.content_len; byte_test:0,=,0,0,string,dec; "
           "sid:9100404;)");
    add_ok(rs,
           "alert tcp any any -> any any (content:\"exec\"; byte_jump:0,0,relative,"
           "post_offset -13; content:\"|62|\"; within:1; sid:9100405;)");
    cg_ruleset_destroy(rs);
}

static void test_header_keywords(void)
{
    cg_ruleset *rs;
    const cg_rule *r;
    CHECK(cg_ruleset_create(&rs) == 0);

    r = add_ok(rs, "alert tcp any any -> any any (flags:S,12; sid:9100500;)");
    if (r) {
        CHECK_EQ_U(r->tcpflags.set, 1);
        CHECK_EQ_U(r->tcpflags.mod, CG_FM_EXACT);
        CHECK_EQ_U(r->tcpflags.bits, 0x02);
        CHECK_EQ_U(r->tcpflags.ignore, 0xc0);
    }
    static const struct {
        const char *v;
        uint8_t mod, bits;
    } fl[] = {
        { "+SA", CG_FM_PLUS, 0x12 }, { "*FR", CG_FM_ANY, 0x05 }, { "!P", CG_FM_NOT, 0x08 },
        { "SA+", CG_FM_PLUS, 0x12 }, { "0", CG_FM_EXACT, 0 },    { "UCE", CG_FM_EXACT, 0xe0 },
        { "pa", CG_FM_EXACT, 0x18 },
    };
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        char t[200];
        snprintf(t, sizeof t, "alert tcp any any -> any any (flags:%s; sid:%zu;)", fl[i].v,
                 9100510 + i);
        r = add_ok(rs, t);
        if (r) {
            CHECK_EQ_U(r->tcpflags.mod, fl[i].mod);
            CHECK_EQ_U(r->tcpflags.bits, fl[i].bits);
        }
    }
    r = add_ok(rs,
               "alert icmp any any -> any any (itype:8; icode:>0; ttl:<=64; ip_proto:!1; "
               "sid:9100520;)");
    if (r) {
        CHECK_EQ_U(r->itype.op, CG_U_EQ);
        CHECK_EQ_U(r->itype.a, 8);
        CHECK_EQ_U(r->icode.op, CG_U_GT);
        CHECK_EQ_U(r->ttl.op, CG_U_LE);
        CHECK_EQ_U(r->ipproto.op, CG_U_NE);
        CHECK_EQ_U(r->ipproto.a, 1);
    }
    r = add_ok(rs, "alert ip any any -> any any (ip_proto:GRE; itype:10<>20; sid:9100521;)");
    if (r) {
        CHECK_EQ_U(r->ipproto.a, 47);
        CHECK_EQ_U(r->itype.op, CG_U_RANGE);
        CHECK_EQ_U(r->itype.b, 20);
    }
    r = add_ok(rs,
               "alert tcp-pkt any any -> any any (stream_size:server,<,5; "
               "stream_size:either, >= ,1800; sid:9100522;)");
    if (r && r->nstream_size == 2) {
        CHECK_EQ_U(r->stream_size[0].which, CG_SS_SERVER);
        CHECK_EQ_U(r->stream_size[0].cmp.op, CG_U_LT);
        CHECK_EQ_U(r->stream_size[0].cmp.a, 5);
        CHECK_EQ_U(r->stream_size[1].which, CG_SS_EITHER);
        CHECK_EQ_U(r->stream_size[1].cmp.op, CG_U_GE);
    }
    r = add_ok(rs, "alert tcp any any -> any any (app-layer-protocol:!http; sid:9100523;)");
    if (r) {
        CHECK_EQ_U(r->app_match, CG_APP_HTTP);
        CHECK_EQ_U(r->app_match_neg, 1);
    }
    r = add_ok(rs, "alert tls any any -> any any (tls.version:1.3; sid:9100524;)");
    if (r)
        CHECK_EQ_U(r->tls_version, 0x0304);
    r = add_ok(rs, "alert tls any any -> any any (tls.version:!0x0303; sid:9100525;)");
    if (r) {
        CHECK_EQ_U(r->tls_version, 0x0303);
        CHECK_EQ_U(r->tls_version_neg, 1);
    }
    r = add_ok(rs, "alert dns any any -> any any (dns.opcode:!0; sid:9100526;)");
    if (r)
        CHECK_EQ_U(r->dns_opcode.op, CG_U_NE);
    r = add_ok(rs,
               "alert tcp any any -> any any (content:\"a\"; noalert; "
               "tag:session,5,packets; tag:host,300,seconds,src; sid:9100527;)");
    if (r)
        CHECK_EQ_U(r->noalert, 1);
    r = add_ok(rs,
               "alert tcp any any -> any any (flowbits:set,a&b; flowbits:isset,c|d; "
               "flowbits:isnotset,e; flowbits:unset,a; flowbits:toggle,b; flowbits:noalert; "
               "sid:9100528;)");
    if (r && r->nflowbits == 5) {
        CHECK_EQ_U(r->noalert, 1);
        CHECK_EQ_U(r->flowbits[0].cmd, CG_FB_SET);
        CHECK_EQ_U(r->flowbits[0].n, 2);
        CHECK_STR(r->flowbits[0].names[1], "b");
        CHECK_EQ_U(r->flowbits[1].cmd, CG_FB_ISSET);
        CHECK_EQ_U(r->flowbits[1].any, 1);
        CHECK_EQ_U(r->flowbits[2].cmd, CG_FB_ISNOTSET);
        CHECK_EQ_U(r->flowbits[3].cmd, CG_FB_UNSET);
        CHECK_EQ_U(r->flowbits[4].cmd, CG_FB_TOGGLE);
        /* interned in order of first use: a b c d e */
        CHECK_EQ_U(r->flowbits[0].ids[0], 0);
        CHECK_EQ_U(r->flowbits[1].ids[1], 3);
        CHECK_EQ_U(r->flowbits[3].ids[0], 0);
        CHECK_EQ_U(r->flowbits[4].ids[0], 1);
    } else {
        CHECK(!"flowbits");
    }
    CHECK_EQ_U(cg_ruleset_flowbits(rs), 5);
    CHECK_STR(cg_ruleset_flowbit_name(rs, 4), "e");
    /* names are case-sensitive; a skipped rule takes no id */
    add_ok(rs, "alert tcp any any -> any any (flowbits:set,A; sid:9100529;)");
    char err[512];
    add_bad(rs,
            "alert tcp any any -> any any (flowbits:set,zz; asn1:oversize_length 1; sid:9100530;)",
            err, sizeof err);
    CHECK_EQ_U(cg_ruleset_flowbits(rs), 6);
    cg_ruleset_destroy(rs);

    /* the cap on distinct names: the rule past it is skipped, named */
    CHECK(cg_ruleset_create(&rs) == 0);
    for (uint32_t i = 0; i < CG_FLOWBITS_MAX; i++) {
        char t[160];
        snprintf(t, sizeof t, "alert tcp any any -> any any (flowbits:set,n%u; sid:%u;)", i,
                 9110000 + i);
        cg_ruleset_add_rule(rs, t, err, sizeof err);
    }
    CHECK_EQ_U(cg_ruleset_flowbits(rs), CG_FLOWBITS_MAX);
    add_ok(rs, "alert tcp any any -> any any (flowbits:isset,n0|n7; sid:9119998;)");
    const cg_rule_issue *is = add_bad(rs,
                                      "alert tcp any any -> any any (flowbits:set,n0&more; "
                                      "sid:9119999;)",
                                      err, sizeof err);
    if (is) {
        CHECK_EQ_U(is->kind, CG_ISSUE_UNSUPPORTED);
        CHECK_STR(is->keyword, "flowbits");
        CHECK_CONTAINS(is->why, "more than 512 flowbit names");
    }
    CHECK_EQ_U(cg_ruleset_flowbits(rs), CG_FLOWBITS_MAX);
    cg_ruleset_destroy(rs);
}

static void test_new_errors(void)
{
    cg_ruleset *rs;
    const char *t;
    CHECK(cg_ruleset_create(&rs) == 0);
#define E(text, needle, why)                         \
    do {                                             \
        t = (text);                                  \
        expect_error(rs, t, col_of(t, needle), why); \
    } while (0)

    /* isdataat */
    E("alert tcp any any -> any any (isdataat:5,absolute; sid:1;)", "absolute",
      "unknown isdataat option 'absolute'");
    E("alert tcp any any -> any any (isdataat:nope; sid:2;)", "nope",
      "'nope' is not a byte_extract variable");
    E("alert tcp any any -> any any (isdataat:70000; sid:3;)", "70000",
      "bad isdataat position '70000'");
    E("alert tcp any any -> any any (isdataat:1,,relative; sid:4;)", ",relative",
      "empty field in isdataat");
    /* byte_test */
    E("alert tcp any any -> any any (byte_test:1,~,2,0; sid:10;)", "~",
      "bad byte_test operator '~'");
    E("alert tcp any any -> any any (byte_test:9,=,1,0; sid:11;)", "9,",
      "byte_test reads at most 8 bytes without string");
    E("alert tcp any any -> any any (byte_test:24,=,1,0,string,dec; sid:12;)", "24",
      "byte_test reads at most 23 bytes with string");
    E("alert tcp any any -> any any (byte_test:2,=,1,0,dec; sid:13;)",
      "2,=", "byte_test: a radix needs 'string'");
    E("alert tcp any any -> any any (byte_test:1,=,1; sid:14;)",
      "1,=", "byte_test needs at least 4 fields");
    E("alert tcp any any -> any any (byte_test:1,=,1,0,sideways; sid:15;)", "sideways",
      "unknown byte_test option 'sideways'");
    E("alert tcp any any -> any any (byte_test:1,=,1,0,big,little; sid:16;)", "little",
      "byte order given twice");
    E("alert tcp any any -> any any (byte_test:1,=,1,0,bitmask 0; sid:17;)", "0; sid",
      "a bitmask of 0 can never match");
    E("alert tcp any any -> any any (byte_test:1,=,0x,0; sid:18;)", "0x",
      "bad byte_test value '0x'");
    E("alert tcp any any -> any any (byte_test:1,=,1,70000; sid:19;)", "70000",
      "bad offset '70000'");
    /* byte_jump */
    E("alert tcp any any -> any any (byte_jump:2,0,from_beginning,from_end; sid:20;)", "2,0",
      "from_beginning and from_end exclude each other");
    E("alert tcp any any -> any any (byte_jump:2,0,multiplier 0; sid:21;)", "0; sid",
      "multiplier must be 1 to 65535");
    E("alert tcp any any -> any any (byte_jump:2,0,post_offset x; sid:22;)", "x; sid",
      "bad post_offset 'x'");
    E("alert tcp any any -> any any (byte_jump:2,0,align 4; sid:23;)", "align 4",
      "unknown byte_jump option 'align 4'");
    /* byte_extract */
    E("alert tcp any any -> any any (byte_extract:1,0,1abc; sid:30;)", "1abc",
      "bad byte_extract variable name '1abc'");
    E("alert tcp any any -> any any (byte_extract:1,0,v; byte_extract:1,1,v; sid:31;)", "v; sid",
      "byte_extract variable 'v' defined twice");
    E("alert tcp any any -> any any (byte_extract:1,0,v,align 3; sid:32;)", "3;",
      "byte_extract align must be 2 or 4");
    E("alert tcp any any -> any any (byte_extract:9,0,v; sid:33;)", "9,",
      "byte_extract reads at most 8 bytes");
    E("alert tcp any any -> any any (byte_extract:1,0,v,from_end; sid:34;)", "from_end",
      "unknown byte_extract option 'from_end'");
    E("alert tcp any any -> any any (content:\"a\"; depth:dd; sid:35;)", "dd;",
      "'dd' is not a byte_extract variable");
    E("alert http any any -> any any (http.header; content:\"y\"; http.uri; "
      "byte_extract:1,0,v; http.header; content:\"x\"; offset:v; sid:36;)",
      "v; sid", "'v' is not a byte_extract variable of this buffer or an earlier one");
    E("alert http any any -> any any (http.uri; content:\"a\"; pkt_data; byte_extract:1,0,v; "
      "content:\"b\"; offset:v; http_uri; sid:37;)",
      "http_uri",
      "moves a content whose byte_extract variable 'v' comes from a buffer matched after it");
    /* buffers */
    E("alert tcp any any -> any any (content:\"a\"; bsize:10; sid:40;)", "bsize",
      "bsize needs a sticky buffer before it");
    E("alert dns any any -> any any (dns.query; bsize:abc; sid:41;)", "abc", "bad bsize 'abc'");
    E("alert dns any any -> any any (dns.query; content:\"google.com\"; bsize:5; sid:42;)",
      "content", "content of 10 bytes can never match a buffer that bsize limits to 5");
    E("alert dns any any -> any any (dns.query; content:\"google.com\"; bsize:5<>10; sid:43;)",
      "content", "limits to 9");
    E("alert http any any -> any any (http.host; content:\"Evil.com\"; sid:44;)", "content",
      "upper case letters in http.host can never match");
    E("alert http any any -> any any (http.uri; to_lowercase; content:\"/Admin\"; sid:45;)",
      "content", "upper case letters after to_lowercase");
    E("alert http any any -> any any (http.uri; to_uppercase; content:\"/ADMIn\"; sid:46;)",
      "content", "lower case letters after to_uppercase");
    E("alert http any any -> any any (file_data; strip_whitespace; content:\"a b\"; sid:47;)",
      "content", "a blank can never match after strip_whitespace");
    E("alert http any any -> any any (file_data; compress_whitespace; content:\"a  b\"; "
      "sid:48;)",
      "content", "two blanks in a row");
    E("alert tcp any any -> any any (content:\"a\"; dotprefix; sid:49;)", "dotprefix",
      "'dotprefix' needs a sticky buffer before it");
    E("alert http any any -> any any (http.uri; http.header; content:\"a\"; sid:50;)", "http.uri",
      "'http.uri' is not followed by anything to match in it");
    E("alert http any any -> any any (http.uri; content:\"a\"; http_uri; sid:51;)", "http_uri",
      "'http_uri' needs a content of the payload");
    E("alert http any any -> any any (http_cookie; content:\"a\"; sid:52;)", "http_cookie",
      "'http_cookie' needs a preceding content");
    E("alert http any any -> any any (pcre:\"/a/UI\"; sid:53;)", "I\"",
      "pcre names two buffers ('U' and 'I')");
    E("alert http any any -> any any (urilen:5,abc; sid:54;)", "abc",
      "urilen takes 'norm' or 'raw'");
    E("alert http any any -> any any (urilen:70000; sid:55;)", "70000",
      "urilen 70000 is out of range");
    E("alert dns any any -> any any (dns.query; to_lowercase; to_uppercase; dotprefix; "
      "url_decode; strip_whitespace; content:\"A\"; sid:56;)",
      "strip_whitespace", "more than 4 transforms on one buffer");
    E("alert udp any any -> any any (flow:only_stream; content:\"a\"; sid:57;)", "only_stream",
      "only_stream on a rule that does not match TCP");
    E("alert tcp any any -> any any (dsize:5; flow:only_stream; content:\"a\"; sid:58;)",
      "only_stream", "dsize (a packet's size) on a stream-only rule");
    E("alert tcp-pkt any any -> any any (flow:only_stream; sid:59;)", "only_stream",
      "only_stream and no_stream exclude each other");
    /* flowbits */
    E("alert tcp any any -> any any (flowbits:bogus,x; sid:60;)", "bogus",
      "unknown flowbits command 'bogus'");
    E("alert tcp any any -> any any (flowbits:set; sid:61;)", "flowbits",
      "flowbits:set needs a name");
    E("alert tcp any any -> any any (flowbits:set,a|b; sid:62;)", "a|b",
      "'|' is for isset and isnotset");
    E("alert tcp any any -> any any (flowbits:isset,a|b&c; sid:63;)", "a|b",
      "'|' and '&' can't be mixed");
    E("alert tcp any any -> any any (flowbits:isset,a; flowbits:isnotset,a; sid:64;)",
      "flowbits:isnotset", "isset and isnotset of 'a' can never both hold");
    E("alert tcp any any -> any any (flowbits:noalert,x; sid:65;)", "noalert",
      "flowbits:noalert takes no name");
    E("alert tcp any any -> any any (flowbits:isset,a b; sid:66;)", "a b",
      "spaces are not allowed in a name");
    E("alert tcp any any -> any any (flowbits:isset,a||b; sid:67;)", "|b", "flowbits: empty name");
    /* flags and the other header keywords */
    E("alert tcp any any -> any any (flags:SX; sid:70;)", "X;", "bad TCP flag 'X'");
    E("alert tcp any any -> any any (flags:S,Z; sid:71;)", "Z;", "bad TCP flag 'Z' in the mask");
    E("alert tcp any any -> any any (flags:+*S; sid:72;)", "*S", "flags takes one modifier");
    E("alert tcp any any -> any any (flags:0S; sid:73;)", "0S",
      "flags: 0 (no flag) with other flags");
    E("alert tcp any any -> any any (flags:+; sid:74;)", "+;", "flags needs at least one flag");
    E("alert tcp any any -> any any (flags:S; flags:A; sid:75;)", "flags:A", "given twice");
    E("alert icmp any any -> any any (itype:300; sid:76;)", "300", "itype 300 is out of range");
    E("alert icmp any any -> any any (itype:>; sid:77;)", ">;", "bad itype '>'");
    E("alert icmp any any -> any any (icode:20<>10; sid:78;)", "20<>",
      "icode range 20<>10 needs the first number smaller");
    E("alert ip any any -> any any (ttl:1; ttl:2; sid:79;)", "ttl:2", "'ttl' given twice");
    E("alert ip any any -> any any (ip_proto:foo; sid:80;)", "foo", "unknown IP protocol 'foo'");
    E("alert ip any any -> any any (ip_proto:256; sid:81;)", "256", "ip_proto 256 is out of range");
    E("alert tcp any any -> any any (stream_size:server,<; sid:82;)", "server",
      "stream_size needs <server|client|both|either>,<op>,<number>");
    E("alert tcp any any -> any any (stream_size:middle,<,5; sid:83;)", "middle",
      "stream_size side must be server, client, both or either");
    E("alert tcp any any -> any any (stream_size:server,~,5; sid:84;)", "~",
      "bad stream_size operator '~'");
    E("alert tcp any any -> any any (app-layer-protocol:h@; sid:85;)", "h@",
      "bad app-layer-protocol 'h@'");
    E("alert tls any any -> any any (tls.version:2.0; sid:86;)", "2.0",
      "tls.version must be 1.0, 1.1, 1.2, 1.3 or a hex number");
    E("alert dns any any -> any any (dns.opcode:x; sid:87;)", "x;", "bad dns.opcode 'x'");
    E("alert tcp any any -> any any (tag:session,5; sid:88;)", "session",
      "tag count needs its metric");
    E("alert tcp any any -> any any (tag:bogus; sid:89;)", "bogus",
      "tag type must be session or host");
    E("alert tcp any any -> any any (tag:host,1,packets,up; sid:90;)", "up",
      "tag direction must be src or dst");
    E("alert tcp any any -> any any (noalert:1; sid:91;)", "noalert", "'noalert' takes no value");
    E("alert http any any -> any any (http.uri:1; sid:92;)", "http.uri",
      "'http.uri' takes no value");
#undef E
    /* still skipped, each named */
    t = "alert tcp any any -> any any (content:\"a\"; byte_jump:2,0,dce; sid:93;)";
    expect_unsupported(rs, t, "byte_jump:dce", col_of(t, "dce"), 93);
    t = "alert ftp any any -> any any (content:\"USER\"; ftpbounce; sid:94;)";
    expect_unsupported(rs, t, "ftpbounce", col_of(t, "ftpbounce"), 94);
    t = "alert http any any -> any any (file_data; base64_data; content:\"x\"; sid:97;)";
    expect_error(rs, t, col_of(t, "base64_data"), "base64_data needs a base64_decode before it");
    t = "alert tcp any any -> any any (base64_decode:bytes 0; base64_data; content:\"x\"; "
        "sid:98;)";
    expect_error(rs, t, col_of(t, "bytes 0"), "base64_decode: bytes must be 1 to 65535");
    t = "alert tcp any any -> any any (base64_decode:tail; base64_data; content:\"x\"; "
        "sid:99;)";
    expect_error(rs, t, col_of(t, "tail"), "unknown base64_decode option 'tail'");
    t = "alert tcp any any -> any any (base64_decode; base64_data; to_lowercase; "
        "content:\"x\"; sid:100;)";
    expect_error(rs, t, col_of(t, "base64_data"), "transforms do not apply to base64_data");
    t = "alert http any any -> any any (dns.query; content:\"x\"; sid:104;)";
    expect_error(rs, t, col_of(t, "dns.query"),
                 "'dns.query' is a buffer of dns: it never "
                 "matches in a rule of http");
    t = "alert tcp any any -> any any (http.uri; content:\"a\"; tls.sni; content:\"b\"; "
        "sid:105;)";
    expect_error(rs, t, col_of(t, "tls.sni"),
                 "'tls.sni' is a buffer of tls: it never "
                 "matches in a rule of http");
    t = "alert http any any -> any any (app-layer-event:http.too_many_warnings; "
        "http.uri; content:\"a\"; sid:106;)";
    expect_unsupported(rs, t, "app-layer-event:http.too_many_warnings", col_of(t, "http.too_many"),
                       106);
    t = "alert http any any -> any any (app-layer-event:http.request_auth_unrecognized; "
        "content:\"a\"; sid:107;)";
    expect_unsupported(rs, t, "app-layer-event (no http buffer)", col_of(t, "app-layer-event"),
                       107);
    t = "alert tcp any any -> any any (content:\"k=\"; base64_decode:relative; sid:102;)";
    expect_error(rs, t, col_of(t, "base64_decode"), "base64_decode needs a base64_data after it");
    t = "alert tcp any any -> any any (content:\"k=\"; base64_decode:relative; "
        "byte_extract:1,0,v; base64_data; content:\"X\"; offset:v; depth:1; sid:103;)";
    expect_error(rs, t, col_of(t, "content:\"X"),
                 "base64_data reads a variable that is "
                 "extracted only after base64_decode, outside base64_data");
    /* one extracted within base64_data, before its use, is fine */
    add_ok(rs,
           "alert tcp any any -> any any (base64_decode; base64_data; "
           "byte_extract:1,0,v; content:\"Z\"; offset:v; sid:9109042;)");
    t = "alert tcp any any -> any any (content:\"a\"; base64_decode; base64_data; sid:101;)";
    expect_error(rs, t, col_of(t, "base64_data"), "is not followed by anything to match");
    t = "alert http2 any any -> any any (sid:95;)";
    expect_unsupported(rs, t, "http2", col_of(t, "http2"), 95);
    t = "alert tcp any any -> any any (content:\"a\"; to_sha256; sid:96;)";
    expect_unsupported(rs, t, "to_sha256", col_of(t, "to_sha256"), 96);
    cg_ruleset_destroy(rs);
}

/* ---- files ----------------------------------------------------------------- */

static void test_files(void)
{
    char tmpl[] = "/tmp/cg_rules_XXXXXX";
    char *dir = mkdtemp(tmpl);
    char path[600], err[512];
    cg_ruleset *rs = NULL;
    uint32_t n;
    CHECK(dir != NULL);
    if (!dir)
        return;

    write_file(dir, "classification.config",
               "# local\nconfig classification: local-test,Local Test,4\n"
               "config classification: trojan-activity,A Network Trojan was detected,1\n");
    write_file(dir, "vars.conf",
               "# test vars\n"
               "HOME_NET [10.20.0.0/16, 2001:db8:2200::/48]   # the data center\n"
               "$WEB_SERVERS = [10.20.1.0/24]\n"
               "HTTP_PORTS: \"[80,8080]\"\n");
    write_file(dir, "a.rules",
               "# a comment\n"
               "\n"
               "alert tcp $EXTERNAL_NET any -> $WEB_SERVERS $HTTP_PORTS (msg:\"one\"; "
               "content:\"a\"; "
               "classtype:local-test; sid:9100201; rev:1;)\n"
               "# alert tcp any any -> any any (msg:\"disabled\"; sid:9100299;)\n"
               "#alert udp any any -> any any (sid:9100298;)\n"
               "#drop udp any any -> any any (sid:9100297;)\n"
               "# not a rule: alerting is fun\n"
               "alert tcp any any -> any any (msg:\"two\"; \\\n"
               "    content:\"b\"; \\\n"
               "    sid:9100202;)\n"
               "alert tcp any any -> any any (msg:\"bad\"; \\\n"
               "    content:\"|4|\"; sid:9100203;)\n"
               "  alert udp any any -> any any (msg:\"indented, CRLF\"; sid:9100204;)\r\n"
               "alert tcp any any -> any any (msg:\"skipped\"; asn1:bitstring; sid:9100205;)\n"
               "alert tcp any any -> any any (msg:\"unterminated\"; content:\"x; sid:9100206;)\n");
    write_file(dir, "b.rules",
               "alert tcp any any -> any any (msg:\"dup\"; sid:9100201; rev:2;)\n"
               "alert tcp any any -> any any (msg:\"three\"; classtype:trojan-activity; "
               "sid:9100207;)\n"
               "alert tcp any any -> any any (msg:\"eof continued\"; \\\n");
    write_file(dir, "notes.txt", "alert tcp garbage\n");

    CHECK(cg_ruleset_create(&rs) == 0);
    CHECK(cg_ruleset_load_path(rs, dir, err, sizeof err) == 0);

    const cg_rule *r = cg_ruleset_rules(rs, &n);
    CHECK_EQ_U(n, 4);
    if (n == 4) {
        CHECK_EQ_U(r[0].sid, 9100201);
        CHECK_EQ_U(r[0].line, 3);
        CHECK_EQ_U(r[0].severity, 4); /* local-test, priority 4 */
        CHECK_STR(r[0].class_desc, "Local Test");
        CHECK(amatch(&r[0].dst, "10.20.1.5") && !amatch(&r[0].dst, "10.20.2.5"));
        CHECK(!amatch(&r[0].src, "10.20.9.9") && !amatch(&r[0].src, "2001:db8:2200::1") &&
              amatch(&r[0].src, "192.168.1.1")); /* HOME_NET replaced */
        CHECK(cg_portset_match(&r[0].dport, 8080) && !cg_portset_match(&r[0].dport, 81));
        CHECK_EQ_U(r[1].sid, 9100202);
        CHECK_EQ_U(r[1].line, 8);
        CHECK_STR(r[1].msg, "two");
        CHECK_EQ_U(r[1].nmatch, 1);
        CHECK_EQ_U(r[2].sid, 9100204);
        CHECK_EQ_U(r[2].line, 13);
        CHECK_EQ_U(r[3].sid, 9100207);
        CHECK_EQ_U(r[3].severity, 1);
        CHECK_STR(r[3].file + strlen(r[3].file) - 7, "b.rules");
    }

    const cg_rulefile *fa = file_named(rs, "/a.rules"), *fb = file_named(rs, "/b.rules");
    CHECK(fa && fb);
    CHECK(file_named(rs, "notes.txt") == NULL);
    if (fa) {
        CHECK_EQ_U(fa->loaded, 3);
        CHECK_EQ_U(fa->skipped, 1);
        CHECK_EQ_U(fa->errors, 2);
        CHECK_EQ_U(fa->disabled, 3);
    }
    if (fb) {
        CHECK_EQ_U(fb->loaded, 1);
        CHECK_EQ_U(fb->skipped, 0);
        CHECK_EQ_U(fb->errors, 2); /* the duplicate, the cut-off rule */
        CHECK_EQ_U(fb->disabled, 0);
    }

    const cg_rule_issue *is = cg_ruleset_issues(rs, &n);
    CHECK_EQ_U(n, 5);
    if (n == 5) {
        /* the bad hex is on the continuation line: line 12, its own column */
        CHECK_EQ_U(is[0].kind, CG_ISSUE_SYNTAX);
        CHECK_EQ_U(is[0].rule_line, 11);
        CHECK_EQ_U(is[0].line, 12);
        CHECK_EQ_U(is[0].col, 16);
        CHECK_EQ_U(is[0].sid, 9100203);
        CHECK_CONTAINS(is[0].why, "odd number of hex digits");
        CHECK_EQ_U(is[1].kind, CG_ISSUE_UNSUPPORTED);
        CHECK_STR(is[1].keyword, "asn1");
        CHECK_EQ_U(is[1].line, 14);
        CHECK_EQ_U(is[1].col, 46);
        CHECK_EQ_U(is[2].line, 15);
        CHECK_EQ_U(is[2].col, 59);
        CHECK_CONTAINS(is[2].why, "unterminated string");
        CHECK_EQ_U(is[3].kind, CG_ISSUE_DUPLICATE);
        CHECK_EQ_U(is[3].sid, 9100201);
        CHECK_EQ_U(is[3].line, 1);
        CHECK_EQ_U(is[3].col, 42);
        CHECK_CONTAINS(is[3].why, "duplicate sid 9100201");
        CHECK_CONTAINS(is[3].why, "a.rules:3");
        CHECK_EQ_U(is[4].line, 3);
        CHECK_CONTAINS(is[4].why, "missing ')'");
        CHECK_STR(is[4].file + strlen(is[4].file) - 7, "b.rules");
    }

    /* a single file, loaded after the directory into the same set */
    write_file(dir, "c.rules.txt",
               "alert tcp any any -> any any (msg:\"four\"; content:\"dd\"; sid:9100208;)\n");
    snprintf(path, sizeof path, "%s/c.rules.txt", dir);
    CHECK(cg_ruleset_load_path(rs, path, err, sizeof err) == 0);
    cg_ruleset_rules(rs, &n);
    CHECK_EQ_U(n, 5);
    cg_ruleset_files(rs, &n);
    CHECK_EQ_U(n, 3);
    snprintf(path, sizeof path, "%s/nope.rules", dir);
    CHECK(cg_ruleset_load_path(rs, path, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "nope.rules: No such file or directory");
    cg_ruleset_destroy(rs);

    /* the variables file: errors with file:line */
    static const struct {
        const char *text;
        const char *why;
    } badvars[] = {
        { "HOME_NET [10.0.0.0/8\n", ":1: $HOME_NET: unbalanced '['" },
        { "# c\nFOO\n", ":2: the variable has no value" },
        { "9NET 10.0.0.0/8\n", ":1: a variable name must start" },
        { "A 1.1.1.1\nA 2.2.2.2\n", ":2: A is defined twice (first on line 1)" },
        { "X $UNDEFINED\n", ":1: $X: undefined variable $UNDEFINED" },
        { "A $B\nB $A\n", "nests too deeply" },
        { "HOME_NET any\n",
          "$EXTERNAL_NET (\"!$HOME_NET\", not set in this file): address set is empty" },
        { "P [80,70000]\n", ":1: $P: bad port '70000'" },
        { "Q \"[1.1.1.1]\n", ":1: unterminated quoted value" },
        { "A [$B,$B,$B,$B,$B,$B,$B,$B,$B,$B]\nB [$C,$C,$C,$C,$C,$C,$C,$C,$C,$C]\n"
          "C [$D,$D,$D,$D,$D,$D,$D,$D,$D,$D]\nD [$E,$E,$E,$E,$E,$E,$E,$E,$E,$E]\n"
          "E [$F,$F,$F,$F,$F,$F,$F,$F,$F,$F]\nF [$G,$G,$G,$G,$G,$G,$G,$G,$G,$G]\n"
          "G 10.0.0.1\n",
          ":1: $A: in $B: address expression too large" },
    };
    for (size_t i = 0; i < sizeof badvars / sizeof badvars[0]; i++) {
        write_file(dir, "bad.conf", badvars[i].text);
        snprintf(path, sizeof path, "%s/bad.conf", dir);
        CHECK(cg_ruleset_create(&rs) == 0);
        err[0] = '\0';
        CHECK(cg_ruleset_load_vars(rs, path, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "bad.conf");
        CHECK_CONTAINS(err, badvars[i].why);
        /* all or nothing: the defaults stand */
        const cg_rule *rr = add_ok(rs, "alert ip $HOME_NET any -> any any (sid:1;)");
        if (rr)
            CHECK(amatch(&rr->src, "192.168.0.1"));
        cg_ruleset_destroy(rs);
    }
    write_file(dir, "ok.conf", "HOME_NET any\nEXTERNAL_NET any\n");
    snprintf(path, sizeof path, "%s/ok.conf", dir);
    CHECK(cg_ruleset_create(&rs) == 0);
    CHECK(cg_ruleset_load_vars(rs, path, err, sizeof err) == 0);
    r = add_ok(rs, "alert ip $EXTERNAL_NET any -> $HOME_NET any (sid:1;)");
    if (r)
        CHECK_EQ_U(r->src.n, 1);
    cg_ruleset_destroy(rs);

    /* classification errors */
    static const struct {
        const char *text;
        const char *why;
    } badclass[] = {
        { "config classification: x,Desc\n", ":1: missing description or priority" },
        { "#\nconfig classification: x,Desc,0\n", ":2: the priority must be a number" },
        { "classification: x,Desc,1\n", ":1: expected 'config classification:" },
    };
    for (size_t i = 0; i < sizeof badclass / sizeof badclass[0]; i++) {
        write_file(dir, "bad.config", badclass[i].text);
        snprintf(path, sizeof path, "%s/bad.config", dir);
        CHECK(cg_ruleset_create(&rs) == 0);
        CHECK(cg_ruleset_load_classification(rs, path, err, sizeof err) == -1);
        CHECK_CONTAINS(err, badclass[i].why);
        cg_ruleset_destroy(rs);
    }
    /* a loaded file replaces the presets */
    snprintf(path, sizeof path, "%s/classification.config", dir);
    CHECK(cg_ruleset_create(&rs) == 0);
    CHECK(cg_ruleset_load_classification(rs, path, err, sizeof err) == 0);
    expect_error(rs, "alert ip any any -> any any (classtype:misc-activity; sid:1;)", 40,
                 "unknown classtype 'misc-activity'");
    cg_ruleset_destroy(rs);
    /* a broken vars.conf fails the directory load */
    write_file(dir, "vars.conf", "HOME_NET [\n");
    CHECK(cg_ruleset_create(&rs) == 0);
    CHECK(cg_ruleset_load_path(rs, dir, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "vars.conf:1:");
    cg_ruleset_destroy(rs);

    remove_dir(dir);
}

/* ---- the hash --------------------------------------------------------------- */

static void hash_of(const char *const *rules, size_t n, const char *vars_path, uint8_t out[32])
{
    cg_ruleset *rs;
    char err[256];
    memset(out, 0, 32);
    if (cg_ruleset_create(&rs))
        return;
    if (vars_path)
        CHECK(cg_ruleset_load_vars(rs, vars_path, err, sizeof err) == 0);
    for (size_t i = 0; i < n; i++)
        cg_ruleset_add_rule(rs, rules[i], err, sizeof err);
    cg_ruleset_hash(rs, out);
    cg_ruleset_destroy(rs);
}

static void test_hash(void)
{
    static const char *const a[] = {
        "alert tcp any any -> any any (content:\"a\"; sid:1;)",
        "alert tcp any any -> any any (content:\"b\"; sid:2;)",
    };
    static const char *const b[] = {
        "alert tcp any any -> any any (content:\"a\"; sid:1;)",
        "alert tcp any any -> any any (content:\"c\"; sid:2;)",
    };
    static const char *const c[] = {
        "alert tcp any any -> any any (content:\"a\"; sid:1;)",
        "alert tcp any any -> any any (content:\"b\"; sid:2;)",
        "alert tcp any any -> any any (asn1:bitstring; sid:3;)", /* skipped: no effect */
    };
    static const char *const d[] = {
        "  alert tcp any any -> any any (content:\"a\"; sid:1;)\n",
        "alert tcp any any -> any any (content:\"b\"; sid:2;)   ",
    };
    uint8_t ha[32], ha2[32], hb[32], hc[32], hd[32], hv[32], zero[32] = { 0 };
    char tmpl[] = "/tmp/cg_hash_XXXXXX";
    char *dir = mkdtemp(tmpl), path[600];

    hash_of(a, 2, NULL, ha);
    hash_of(a, 2, NULL, ha2);
    hash_of(b, 2, NULL, hb);
    hash_of(c, 3, NULL, hc);
    CHECK(memcmp(ha, zero, 32) != 0);
    CHECK(memcmp(ha, ha2, 32) == 0);
    CHECK(memcmp(ha, hb, 32) != 0);
    CHECK(memcmp(ha, hc, 32) == 0);
    hash_of(d, 2, NULL, hd); /* blanks around a rule do not count */
    CHECK(memcmp(ha, hd, 32) == 0);
    if (dir) {
        write_file(dir, "v.conf", "HOME_NET 10.0.0.0/8\n");
        snprintf(path, sizeof path, "%s/v.conf", dir);
        hash_of(a, 2, path, hv);
        CHECK(memcmp(ha, hv, 32) != 0);
        remove_dir(dir);
    }
}

/* ---- ET Open ------------------------------------------------------------------ */

static int is_rule_line(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return strncmp(p, "alert ", 6) == 0 || strncmp(p, "drop ", 5) == 0 ||
        strncmp(p, "pass ", 5) == 0 || strncmp(p, "reject ", 7) == 0;
}

/* Enabled rule lines of the *.rules files of dir (none of them is continued). */
static uint32_t count_enabled(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    uint32_t n = 0;
    char path[600], *line = NULL;
    size_t cap = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l <= 6 || strcmp(e->d_name + l - 6, ".rules") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        while (getline(&line, &cap, f) != -1)
            n += is_rule_line(line);
        fclose(f);
    }
    free(line);
    closedir(d);
    return n;
}

struct kwcount {
    const char *kw;
    uint32_t n;
};

static int by_count(const void *a, const void *b)
{
    const struct kwcount *x = a, *y = b;
    return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->kw, y->kw);
}

/* No rule is loaded with a keyword ignored: every option name of every loaded
 * ET rule (re-read from its file, split here independently of the parser) is
 * a keyword of the table, and its protocol one this engine evaluates. */
static void check_etopen_keywords(const cg_ruleset *rs)
{
    static const char *const protos[] = { "ip",    "tcp", "udp",     "icmp",      "http",
                                          "http1", "dns", "tls",     "smtp",      "ftp",
                                          "ssh",   "smb", "tcp-pkt", "tcp-stream" };
    uint32_t nr, checked = 0, bad = 0;
    const cg_rule *r = cg_ruleset_rules(rs, &nr);
    const char *cur = NULL;
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    uint32_t lineno = 0;

    for (uint32_t i = 0; i < nr; i++) {
        if (r[i].file != cur) { /* rules of a file come in line order */
            if (f)
                fclose(f);
            cur = r[i].file;
            f = fopen(cur, "r");
            lineno = 0;
            if (!f)
                break;
        }
        while (lineno < r[i].line && getline(&line, &cap, f) != -1)
            lineno++;
        if (lineno != r[i].line)
            break;
        /* the protocol: the second word */
        char proto[32] = "";
        sscanf(line, "%*s %31s", proto);
        int pok = 0;
        for (size_t k = 0; k < sizeof protos / sizeof protos[0]; k++)
            pok |= strcasecmp(proto, protos[k]) == 0;
        if (!pok && bad++ < 5)
            printf("etopen: %s:%u: protocol %s loaded\n", cur, lineno, proto);
        /* the options: name up to ':' or ';', value up to an unescaped ';' */
        char *p = strchr(line, '(');
        while (p && *++p) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == ')' || *p == '\0' || *p == '\n')
                break;
            char *n = p;
            while (*p && *p != ':' && *p != ';' && *p != ' ')
                p++;
            size_t nl = (size_t)(p - n);
            if (!cg_rule_kw_find(n, nl) && bad++ < 5)
                printf("etopen: %s:%u: keyword %.*s loaded\n", cur, lineno, (int)nl, n);
            checked++;
            while (*p && *p != ';')
                p += (*p == '\\' && p[1]) ? 2 : 1;
        }
    }
    if (f)
        fclose(f);
    free(line);
    CHECK_EQ_U(bad, 0);
    CHECK(checked > 10 * nr);
    printf("etopen: %u options of the %u loaded rules are all known keywords\n", checked, nr);
}

static void test_etopen(void)
{
    /* counted file by file; loaded as one directory, which takes its
     * supplement_* subdirectory with it */
    static const char *const dirs[] = { ETOPEN, ETOPEN "/supplement_2024-04-21" };
    struct stat st;
    cg_ruleset *rs;
    char err[512];
    struct timespec t0, t1;

    if (stat(ETOPEN, &st) != 0) {
        printf("etopen: %s not found, skipped\n", ETOPEN);
        return;
    }
    uint32_t expected = 0;
    for (size_t i = 0; i < 2; i++)
        expected += count_enabled(dirs[i]);

    CHECK(cg_ruleset_create(&rs) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(cg_ruleset_load_path(rs, ETOPEN, err, sizeof err) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    uint32_t nf, ni, nr, loaded = 0, skipped = 0, errors = 0, disabled = 0;
    const cg_rulefile *f = cg_ruleset_files(rs, &nf);
    const cg_rule_issue *is = cg_ruleset_issues(rs, &ni);
    cg_ruleset_rules(rs, &nr);
    for (uint32_t i = 0; i < nf; i++) {
        loaded += f[i].loaded;
        skipped += f[i].skipped;
        errors += f[i].errors;
        disabled += f[i].disabled;
    }
    CHECK_EQ_U(loaded, nr);
    CHECK_EQ_U(skipped + errors, ni);
    /* Every enabled rule line is accounted for. The 25,889 lines hold 25,858
     * distinct sids: 31 sids appear twice, each pair loads, and the second
     * of each is the duplicate. No rule is a syntax error. */
    CHECK_EQ_U(loaded + skipped + errors, expected);
    CHECK_EQ_U(expected, 25889);
    uint32_t dups = 0, syntax = 0;
    for (uint32_t i = 0; i < ni; i++) {
        dups += is[i].kind == CG_ISSUE_DUPLICATE;
        syntax += is[i].kind == CG_ISSUE_SYNTAX;
    }
    CHECK_EQ_U(syntax, 0);
    CHECK_EQ_U(dups, 31);
    /* the coverage goal: at least 90% of the enabled rules load */
    CHECK(loaded * 10 >= expected * 9);
    printf("etopen: %u enabled rules: %u loaded (%.1f%%), %u skipped (unsupported), %u errors "
           "(%u duplicate sids); %u disabled; %u flowbit names; %.3f s\n",
           expected, loaded, 100.0 * loaded / expected, skipped, errors, dups, disabled,
           cg_ruleset_flowbits(rs),
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    check_etopen_keywords(rs);

    struct kwcount kc[256];
    size_t nk = 0;
    for (uint32_t i = 0; i < ni; i++) {
        if (is[i].kind != CG_ISSUE_UNSUPPORTED) {
            if (is[i].kind != CG_ISSUE_DUPLICATE)
                printf("etopen: %s:%u:%u: %s\n", is[i].file, is[i].line, is[i].col, is[i].why);
            continue;
        }
        size_t k = 0;
        while (k < nk && strcmp(kc[k].kw, is[i].keyword) != 0)
            k++;
        if (k == nk && nk < sizeof kc / sizeof kc[0])
            kc[nk++] = (struct kwcount){ is[i].keyword, 0 };
        if (k < nk)
            kc[k].n++;
    }
    qsort(kc, nk, sizeof kc[0], by_count);
    printf("etopen: top skipped keywords:");
    for (size_t k = 0; k < nk && k < 15; k++)
        printf("%s %s %u", k ? "," : "", kc[k].kw, kc[k].n);
    printf("\n");
    cg_ruleset_destroy(rs);
}

/* --vars and --set: pinned values win over a directory's vars.conf, whenever
 * it is loaded; later pins win; bad values are refused naming the --set. */
static void test_pins(void)
{
    char dir[] = "/tmp/canhgac-pins.XXXXXX", path[512], err[512];
    cg_ruleset *rs;
    uint32_t n;
    CHECK(mkdtemp(dir) != NULL);
    write_file(dir, "vars.conf", "HOME_NET [10.20.0.0/16]\nHTTP_SERVERS [10.20.1.0/24]\n");
    write_file(dir, "a.rules",
               "alert tcp any any -> $HTTP_SERVERS any (msg:\"web\"; content:\"a\"; sid:1;)\n"
               "alert tcp any any -> $PORTALS any (msg:\"p\"; content:\"a\"; sid:2;)\n"
               "alert tcp any any -> $PORTALS any (msg:\"q\"; content:\"a\"; sid:3;)\n"
               "alert tcp $NOPE any -> any any (msg:\"r\"; content:\"a\"; sid:4;)\n");
    snprintf(path, sizeof path, "%s/lab.vars", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("HTTP_SERVERS 192.0.2.0/24\nPORTALS [198.51.100.7]\n", f);
        fclose(f);
    }

    /* the directory alone: its vars.conf */
    CHECK(cg_ruleset_create(&rs) == 0);
    CHECK(cg_ruleset_load_path(rs, dir, err, sizeof err) == 0);
    const cg_rule *r = cg_ruleset_rules(rs, &n);
    CHECK_EQ_U(n, 1);
    if (n == 1)
        CHECK(amatch(&r[0].dst, "10.20.1.9") && !amatch(&r[0].dst, "192.0.2.9"));
    cg_undef_var uv[4];
    CHECK_EQ_U(cg_ruleset_undefined_vars(rs, uv, 4), 2);
    CHECK_STR(uv[0].name, "PORTALS");
    CHECK_EQ_U(uv[0].rules, 2);
    CHECK_STR(uv[1].name, "NOPE");
    CHECK_EQ_U(uv[1].rules, 1);
    CHECK_EQ_U(cg_ruleset_undefined_vars(rs, uv, 1), 2); /* counted past max */
    cg_ruleset_destroy(rs);

    /* --vars FILE, then --set: both win over the directory's vars.conf */
    CHECK(cg_ruleset_create(&rs) == 0);
    CHECK(cg_ruleset_pin_vars(rs, path, err, sizeof err) == 0);
    CHECK(cg_ruleset_pin_var(rs, "NOPE=[10.0.0.1]", err, sizeof err) == 0);
    CHECK(cg_ruleset_pin_var(rs, "$PORTALS = \"[198.51.100.8]\"", err, sizeof err) == 0);
    CHECK(cg_ruleset_load_path(rs, dir, err, sizeof err) == 0);
    r = cg_ruleset_rules(rs, &n);
    CHECK_EQ_U(n, 4);
    if (n == 4) {
        CHECK(amatch(&r[0].dst, "192.0.2.9") && !amatch(&r[0].dst, "10.20.1.9"));
        CHECK(amatch(&r[1].dst, "198.51.100.8") && !amatch(&r[1].dst, "198.51.100.7"));
        CHECK(amatch(&r[3].src, "10.0.0.1"));
    }
    CHECK_EQ_U(cg_ruleset_undefined_vars(rs, uv, 4), 0);
    /* a pin that breaks a value of the table is refused, naming the --set */
    CHECK(cg_ruleset_pin_var(rs, "HOME_NET=[10.0.0.0/33]", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "--set HOME_NET=[10.0.0.0/33]: $HOME_NET");
    cg_ruleset_destroy(rs);

    CHECK(cg_ruleset_create(&rs) == 0);
    CHECK(cg_ruleset_pin_var(rs, "HOME_NET", err, sizeof err) == -1);
    CHECK_STR(err, "--set HOME_NET: expected NAME=VALUE");
    CHECK(cg_ruleset_pin_var(rs, "HOME_NET=", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no value");
    CHECK(cg_ruleset_pin_var(rs, "=10.0.0.0/8", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "must start with a letter");
    CHECK(cg_ruleset_pin_var(rs, "HTTP_SERVERS=$UNDEFINED", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "undefined variable $UNDEFINED");
    /* refused pins leave nothing behind: the directory loads as before */
    CHECK(cg_ruleset_load_path(rs, dir, err, sizeof err) == 0);
    cg_ruleset_rules(rs, &n);
    CHECK_EQ_U(n, 1);
    cg_ruleset_destroy(rs);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    test_full_rule();
    test_keywords();
    test_sets();
    test_errors();
    test_buffers();
    test_byte_keywords();
    test_header_keywords();
    test_new_errors();
    test_files();
    test_hash();
    test_etopen();
    test_pins();
    return check_done("rules");
}
