/* bench_store.c — the incident store under load, through its API: ingest of
 * N synthetic incidents in batches, the bytes each costs, and the analysts'
 * queries timed against the targets (first page of one address, a /16 over
 * 24 h, count by severity, top sources over 24 h), and store verify (every
 * record against its leaf in the log).
 *
 * usage: bench_store [-n N] [-b BATCH] [-d DAYS] [-a] [-l L] DIR
 *   -n N      incidents (default 1000000)
 *   -b BATCH  incidents per transaction (default 10000)
 *   -d DAYS   the time they span, ids in time order give or take an hour
 *             (default 30)
 *   -a        one alert record per incident too (as `canhgac run` stores)
 *   -l L      every incident at layers 1..L (L 1-4; default none): -l 4
 *             makes a store of incidents to share (tools/bench_share.sh)
 *   DIR       a new store directory (an existing store is queried only)
 *
 * The synthetic mix: sources 40% from 200 attacker /16s, 30% from the data
 * center's own 10.20.0.0/16, 30% anywhere in IPv4; destinations 2000 hosts of
 * 10.20.0.0/16; 3000 sids (skewed), severity 1/2/3/4 at 10/30/40/20%, 90%
 * new, 20 destination ports, 30 countries and 300 AS numbers, a Community ID
 * each. Deterministic (xorshift), so two runs see the same store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/qlang.h"
#include "store/store.h"

static uint64_t rs = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
    return rs;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void v4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned w)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x, a[13] = (uint8_t)y, a[14] = (uint8_t)z, a[15] = (uint8_t)w;
}

static const char *const msgs[] = {
    "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT",
    "ET SCAN Nmap Scripting Engine User-Agent Detected (Nmap Scripting Engine)",
    "ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)",
    "ET WEB_SERVER Possible CVE-2014-6271 Attempt in Headers",
    "CANHGAC brute force SSH login attempts",
    "ET DNS Query for .onion proxy Domain",
    "ET POLICY Outgoing Basic Auth Base64 HTTP Password detected unencrypted",
    "CANHGAC data leak: citizen ID numbers in HTTP response",
};
static const char *const classes[] = { "web-application-attack", "attempted-recon",
                                       "attempted-admin", "policy-violation", "trojan-activity" };
static const char *const ccs[] = { "VN", "CN", "US", "RU", "KR", "JP", "DE", "NL", "FR", "GB",
                                   "SG", "HK", "TW", "IN", "ID", "TH", "MY", "PH", "BR", "UA",
                                   "IR", "KP", "TR", "PL", "RO", "CA", "AU", "IT", "ES", "SE" };
static const uint16_t ports[] = { 80, 443, 22,  53,  25,   3389, 445,  8080, 3306, 1433,
                                  21, 23,  110, 143, 5432, 6379, 9200, 8443, 161,  123 };

struct gen {
    uint32_t nets[200]; /* attacker /16s: first two octets */
    uint64_t t0, span;
};

static void mk(struct gen *g, uint64_t id, uint64_t n, cg_incident *x, char cid[40])
{
    uint64_t r = rnd(), r2 = rnd();
    unsigned k = (unsigned)(r % 10);

    memset(x, 0, sizeof *x);
    x->id = id;
    x->gid = 1;
    /* skewed: a sid from 3000, the low ones far more often */
    x->sid = 2000000 + (uint32_t)((r2 % 3000) * (r2 % 3000) / 3000);
    x->rev = 1 + (uint32_t)(r2 >> 20) % 5;
    if (k < 4) {
        uint32_t net = g->nets[(r >> 8) % 200];
        v4(x->src, net >> 8, net & 255, (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255);
    } else if (k < 7) {
        v4(x->src, 10, 20, (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255);
    } else {
        v4(x->src, 1 + (unsigned)(r >> 16) % 223, (unsigned)(r >> 24) & 255,
           (unsigned)(r >> 32) & 255, (unsigned)(r >> 40) & 255);
    }
    v4(x->dst, 10, 20, (unsigned)(r2 >> 32) % 8, (unsigned)(r2 >> 40) % 250);
    x->sport = (uint16_t)(32768 + (r >> 48) % 28000);
    x->dport = ports[(r2 >> 48) % 20];
    x->proto = 6;
    unsigned s = (unsigned)(r2 >> 52) % 10;
    x->severity = x->rule_severity = (uint8_t)(s < 1 ? 1 : s < 4 ? 2 : s < 8 ? 3 : 4);
    x->status = (r2 >> 56) % 10 == 0 ? (uint8_t)(1 + (r2 >> 60) % 4) : CG_ST_NEW;
    /* ids in time order, give or take an hour */
    x->first_us =
        g->t0 + (uint64_t)((double)g->span * (double)id / (double)n) + (r >> 44) % 3600000000ull;
    x->last_us = x->first_us + (r >> 50) * 1000;
    x->count = 1 + (r >> 58);
    x->flow_id = r ^ r2;
    snprintf(cid, 40, "1:%016llx%012llx=", (unsigned long long)r,
             (unsigned long long)(r2 & 0xffffffffffffull));
    x->community_id = cid;
    x->msg = msgs[r2 % 8];
    x->classtype = classes[(r2 >> 8) % 5];
    x->nevidence = 1;
    x->nalerts = 1;
    if (k != 4 && k != 5 && k != 6) {
        memcpy(x->src_geo.country, ccs[(r >> 30) % 30], 2);
        x->src_geo.asn = 1000 + (uint32_t)((r >> 36) % 300);
    }
}

struct pg {
    int n;
};

static int pick_attack(const cg_incident *inc, void *arg)
{
    *(uint64_t *)arg = inc->attack_id;
    return 0;
}

static int cb_page(const cg_incident *inc, void *arg)
{
    (void)inc;
    ((struct pg *)arg)->n++;
    return 0;
}

struct pick {
    struct gen *g;
    uint8_t *a;
};

static int pick_attacker(const cg_incident *inc, void *arg)
{
    struct pick *p = arg;
    uint32_t net = (uint32_t)inc->src[12] << 8 | inc->src[13];
    for (int i = 0; i < 200; i++)
        if (p->g->nets[i] == net)
            memcpy(p->a, inc->src, 16);
    return 0;
}

static int cb_attack(const cg_store_attack *a, void *arg)
{
    (void)a;
    ++*(uint64_t *)arg;
    return 0;
}

static int cb_hist(uint64_t start, uint64_t n, void *arg)
{
    (void)start, (void)n;
    ++*(int *)arg;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Times expr over `reps` runs (at most 31), prints the median, the best and
 * the first (cold caches). */
#define TIME(label, target_ms, reps, expr)                                                         \
    do {                                                                                           \
        double t_all[31];                                                                          \
        int n_ = (reps) < 31 ? (reps) : 31;                                                        \
        for (int r_ = 0; r_ < n_; r_++) {                                                          \
            double t_ = now_s();                                                                   \
            if ((expr) != 0) {                                                                     \
                fprintf(stderr, "%s: %s\n", label, cg_store_error(st));                            \
                return 1;                                                                          \
            }                                                                                      \
            t_all[r_] = (now_s() - t_) * 1e3;                                                      \
        }                                                                                          \
        double first_ = t_all[0];                                                                  \
        qsort(t_all, (size_t)n_, sizeof t_all[0], cmp_double);                                     \
        printf("  %-46s %9.3f ms median (best %.3f, first %.3f; target %s)\n", label,              \
               n_ % 2 ? t_all[n_ / 2] : (t_all[n_ / 2 - 1] + t_all[n_ / 2]) / 2, t_all[0], first_, \
               target_ms);                                                                         \
    } while (0)

/* A query of the language, as `canhgac query` runs it: parsed, its hints as
 * filters, the expression on records unless the hints are all of it. */
struct lq {
    cg_qexpr *e;
    cg_qhints h;
    cg_query q;
};

static int lq_match(const cg_incident *x, void *arg)
{
    cg_qrec r;
    memset(&r, 0, sizeof r);
    r.id = x->id, r.first_us = x->first_us, r.last_us = x->last_us, r.count = x->count;
    r.gid = x->gid, r.sid = x->sid, r.severity = x->severity, r.status = x->status;
    r.proto = x->proto, r.layers = x->layers, r.sport = x->sport, r.dport = x->dport;
    memcpy(r.src, x->src, 16);
    memcpy(r.dst, x->dst, 16);
    r.msg = x->msg, r.classtype = x->classtype, r.assignee = x->assignee;
    r.community_id = x->community_id;
    r.src_country = x->src_geo.country, r.dst_country = x->dst_geo.country;
    r.src_asn = x->src_geo.asn, r.dst_asn = x->dst_geo.asn;
    r.src_agency = x->src_geo.agency, r.dst_agency = x->dst_geo.agency;
    r.src_zone = x->src_geo.zone, r.dst_zone = x->dst_geo.zone;
    r.attack_id = x->attack_id, r.http_status = x->http_status, r.app_proto = x->app_proto;
    r.http_method = x->http_method, r.http_host = x->http_host, r.http_url = x->http_url;
    r.http_user_agent = x->http_user_agent, r.dns_query = x->dns_query;
    r.tls_sni = x->tls_sni, r.tls_ja3 = x->tls_ja3;
    return cg_qlang_eval(arg, &r);
}

static int lq_parse(struct lq *l, const char *text, uint64_t now)
{
    char err[256];
    int col;
    const cg_qhints *h = &l->h;
    memset(l, 0, sizeof *l);
    if (cg_qlang_parse(text, now, &l->e, err, sizeof err, &col)) {
        fprintf(stderr, "bench_store: %s: %s\n", text, err);
        return -1;
    }
    cg_qlang_hints(l->e, &l->h);
    if (h->has & CG_QH_TIME) {
        l->q.has |= CG_Q_SINCE | CG_Q_UNTIL;
        l->q.since_us = h->time_lo;
        l->q.until_us = h->time_hi == UINT64_MAX ? UINT64_MAX : h->time_hi + 1;
    }
    if (h->has & CG_QH_SRC) {
        l->q.has |= CG_Q_SRC;
        memcpy(l->q.src_lo, h->src_lo, 16);
        memcpy(l->q.src_hi, h->src_hi, 16);
    }
    if (h->has & CG_QH_SEV) {
        l->q.has |= CG_Q_SEV;
        l->q.sev_max = h->sev_max;
    }
    if (!h->exact) {
        l->q.match = lq_match;
        l->q.match_arg = l->e;
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000, batch = 10000, days = 30;
    int alerts = 0, c;
    unsigned layers = 0;
    struct gen g;
    cg_store *st;
    cg_store_info info;
    char cid[40], plan[160];
    struct stat sb;

    while ((c = getopt(argc, argv, "n:b:d:al:")) != -1) {
        switch (c) {
        case 'n': n = strtoull(optarg, NULL, 10); break;
        case 'b': batch = strtoull(optarg, NULL, 10); break;
        case 'd': days = strtoull(optarg, NULL, 10); break;
        case 'a': alerts = 1; break;
        case 'l': layers = (unsigned)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench_store [-n N] [-b BATCH] [-d DAYS] [-a] [-l L] DIR\n");
            return 2;
        }
    }
    if (optind + 1 != argc || n == 0 || batch == 0 || days == 0 || layers > 4) {
        fprintf(stderr, "usage: bench_store [-n N] [-b BATCH] [-d DAYS] [-a] [-l L] DIR\n");
        return 2;
    }
    const char *dir = argv[optind];
    g.t0 = 1763856000000000ull; /* 2025-11-23 */
    g.span = days * 86400000000ull;
    for (int i = 0; i < 200; i++)
        g.nets[i] = (uint32_t)(rnd() % 0xdf00) + 0x0100;

    if (cg_store_open(&st, dir, 0, 0)) {
        fprintf(stderr, "%s\n", cg_store_error(NULL));
        return 1;
    }
    if (cg_store_info_get(st, &info) == 0 && info.incidents == 0) {
        double t = now_s();
        for (uint64_t done = 0; done < n;) {
            if (cg_store_begin(st))
                goto fail;
            for (uint64_t i = 0; i < batch && done < n; i++, done++) {
                cg_incident x;
                uint64_t id = cg_store_new_id(st);
                mk(&g, id, n, &x, cid);
                if (layers)
                    x.layers = (uint8_t)((1u << layers) - 1); /* layers 1..L */
                if (cg_store_put(st, &x))
                    goto fail;
                if (alerts) {
                    cg_alert a = { x.first_us, x.flow_id, cid, x.sport, x.dport, x.severity, 0 };
                    if (cg_store_put_alert(st, id, 0, &a))
                        goto fail;
                }
            }
            if (cg_store_commit(st))
                goto fail;
        }
        t = now_s() - t;
        printf("ingest: %llu incidents%s in %.2f s: %.0f incidents/s (batches of %llu; "
               "target 100000/s)\n",
               (unsigned long long)n, alerts ? " (+1 alert each)" : "", t, n / t,
               (unsigned long long)batch);
    }
    if (cg_store_info_get(st, &info))
        goto fail;
    n = info.incidents;
    {
        char p[4200];
        snprintf(p, sizeof p, "%s/data.mdb", dir);
        stat(p, &sb);
    }
    printf("size: %llu incidents, %llu alerts; %.1f MiB used (%.0f bytes per incident), "
           "data.mdb %.1f MiB on disk\n",
           (unsigned long long)info.incidents, (unsigned long long)info.alerts,
           info.map_used / 1048576.0, (double)info.map_used / (double)n,
           sb.st_blocks * 512 / 1048576.0);

    /* store verify: every record against its leaf, the tree from its leaves */
    {
        cg_store_verify_stats vs;
        double t = now_s();
        if (cg_store_verify(st, NULL, NULL, &vs, NULL))
            goto fail;
        t = now_s() - t;
        printf("verify: %llu records against the latest of %llu leaves in %.2f s (%.0f "
               "records/s; target: seconds for 1M)\n",
               (unsigned long long)vs.records, (unsigned long long)vs.leaves, t,
               (double)vs.records / t);
    }

    /* the queries: the last 24 h of the span, an attacker's address and /16 */
    uint64_t until = g.t0 + g.span + 3600000000ull, since = until - 86400000000ull;
    uint8_t addr[16];
    cg_query q;
    struct pg pg;
    /* an attacker's address: the source of an incident of the middle of the
     * span whose /16 is one of the 200 */
    memset(addr, 0, sizeof addr);
    for (uint64_t id = n / 2; id <= n && !addr[12]; id++) {
        struct pick pk = { &g, addr };
        cg_store_get(st, id, pick_attacker, &pk);
    }
    printf(
        "queries (median of 5 runs, or 3 for the long ones; the first run is with cold caches):\n");

    memset(&q, 0, sizeof q);
    q.has = CG_Q_SRC;
    memcpy(q.src_lo, addr, 16);
    memcpy(q.src_hi, addr, 16);
    cg_store_explain(st, &q, plan, sizeof plan);
    printf("  [%u.%u.%u.%u: %s]\n", addr[12], addr[13], addr[14], addr[15], plan);
    TIME("first page (100) of one source address", "5 ms", 5,
         (pg.n = 0, cg_store_query(st, &q, 100, NULL, cb_page, &pg)));

    memset(q.src_lo + 14, 0, 2);
    memset(q.src_hi + 14, 0xff, 2);
    q.has = CG_Q_SRC | CG_Q_SINCE | CG_Q_UNTIL, q.since_us = since, q.until_us = until;
    cg_store_explain(st, &q, plan, sizeof plan);
    printf("  [%u.%u.0.0/16 over 24 h: %s]\n", addr[12], addr[13], plan);
    TIME("first page (100) of a /16 over 24 h", "20 ms", 5,
         (pg.n = 0, cg_store_query(st, &q, 100, NULL, cb_page, &pg)));
    v4(q.src_lo, 10, 20, 0, 0);
    v4(q.src_hi, 10, 20, 255, 255);
    cg_store_explain(st, &q, plan, sizeof plan);
    printf("  [10.20.0.0/16 (30%% of all) over 24 h: %s]\n", plan);
    TIME("first page (100) of the busiest /16 over 24 h", "20 ms", 5,
         (pg.n = 0, cg_store_query(st, &q, 100, NULL, cb_page, &pg)));

    cg_store_group grp[10];
    size_t ng;
    memset(&q, 0, sizeof q);
    TIME("count by severity, all incidents", "1 s", 5,
         cg_store_top(st, &q, CG_F_SEV, grp, 10, &ng));
    for (size_t i = 0; i < ng; i++)
        printf("    severity %u: %llu\n", grp[i].num, (unsigned long long)grp[i].count);
    uint64_t cnt = 0;
    q.has = CG_Q_SEV, q.sev_max = 2;
    TIME("count severity <= 2", "1 s", 5, cg_store_count(st, &q, &cnt));
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SINCE | CG_Q_UNTIL, q.since_us = since, q.until_us = until;
    TIME("count over 24 h", "-", 5, cg_store_count(st, &q, &cnt));
    printf("    %llu incidents in the last 24 h\n", (unsigned long long)cnt);
    TIME("top 10 sources over 24 h", "200 ms", 5, cg_store_top(st, &q, CG_F_SRC, grp, 10, &ng));
    TIME("count by severity over 24 h", "-", 5, cg_store_top(st, &q, CG_F_SEV, grp, 10, &ng));
    int nb = 0;
    TIME("histogram by hour over 24 h", "-", 5,
         (nb = 0, cg_store_histogram(st, &q, 3600000000ull, cb_hist, &nb)));
    memset(&q, 0, sizeof q);
    TIME("histogram by day, all incidents", "-", 3,
         (nb = 0, cg_store_histogram(st, &q, 86400000000ull, cb_hist, &nb)));
    q.has = CG_Q_STATUS, q.status_mask = 1u << CG_ST_INVESTIGATING;
    TIME("first page of status=investigating", "-", 5,
         (pg.n = 0, cg_store_query(st, &q, 100, NULL, cb_page, &pg)));
    q.has = CG_Q_STATUS | CG_Q_SEV, q.status_mask = 1u << CG_ST_NEW, q.sev_max = 1;
    cg_store_explain(st, &q, plan, sizeof plan);
    printf("  [status=new, severity 1: %s]\n", plan);
    TIME("first page of status=new severity=1", "-", 5,
         (pg.n = 0, cg_store_query(st, &q, 100, NULL, cb_page, &pg)));
    q.has = CG_Q_PORT, q.port = 3389;
    TIME("first page of port=3389 (records only)", "-", 5,
         (pg.n = 0, cg_store_query(st, &q, 100, NULL, cb_page, &pg)));

    /* the same through the query language, as `canhgac query` asks */
    {
        char text[256];
        struct lq l;
        /* "now" is the end of the span, so "since 24h" is the last day */
        snprintf(text, sizeof text, "src = %u.%u.%u.%u", addr[12], addr[13], addr[14], addr[15]);
        if (lq_parse(&l, text, until))
            return 1;
        printf("query language (the expression on records when the filters are not all of it):\n");
        TIME("first page: src = ADDR", "5 ms", 5,
             (pg.n = 0, cg_store_query(st, &l.q, 100, NULL, cb_page, &pg)));
        cg_qlang_free(l.e);
        snprintf(text, sizeof text, "src = %u.%u.%u.%u and msg ~ injection", addr[12], addr[13],
                 addr[14], addr[15]);
        if (lq_parse(&l, text, until))
            return 1;
        TIME("first page: src = ADDR and msg ~ injection", "-", 5,
             (pg.n = 0, cg_store_query(st, &l.q, 100, NULL, cb_page, &pg)));
        cg_qlang_free(l.e);
        snprintf(text, sizeof text, "since 24h and src in %u.%u.0.0/16", addr[12], addr[13]);
        if (lq_parse(&l, text, until))
            return 1;
        TIME("first page: since 24h and src in /16", "20 ms", 5,
             (pg.n = 0, cg_store_query(st, &l.q, 100, NULL, cb_page, &pg)));
        TIME("--top src: since 24h and src in /16", "-", 5,
             cg_store_top(st, &l.q, CG_F_SRC, grp, 10, &ng));
        cg_qlang_free(l.e);
        if (lq_parse(&l, "since 24h", until))
            return 1;
        TIME("--top src: since 24h", "200 ms", 5, cg_store_top(st, &l.q, CG_F_SRC, grp, 10, &ng));
        cg_qlang_free(l.e);
        if (lq_parse(&l, "since 24h and not country in [CN, RU]", until))
            return 1;
        TIME("--top src: since 24h and not country in [CN, RU]", "-", 3,
             cg_store_top(st, &l.q, CG_F_SRC, grp, 10, &ng));
        cg_qlang_free(l.e);
        if (lq_parse(&l, "sev >= medium", until))
            return 1;
        TIME("--count sev >= medium (all)", "1 s", 3, cg_store_count(st, &l.q, &cnt));
        cg_qlang_free(l.e);

        /* --group attack: the attacks among the matches, newest first */
        uint64_t na = 0;
        printf("attacks (--group attack; the incidents of one address pair within an hour):\n");
        if (lq_parse(&l, "since 24h", until))
            return 1;
        TIME("--group attack since 24h (first 100)", "-", 5,
             (na = 0, cg_store_attacks(st, &l.q, 100, cb_attack, &na)));
        TIME("--group attack since 24h (all)", "200 ms", 5,
             (na = 0, cg_store_attacks(st, &l.q, 0, cb_attack, &na)));
        printf("    %llu attacks in the last 24 h\n", (unsigned long long)na);
        cg_qlang_free(l.e);
        snprintf(text, sizeof text, "since 24h and src in %u.%u.0.0/16", addr[12], addr[13]);
        if (lq_parse(&l, text, until))
            return 1;
        TIME("--group attack since 24h and src in /16 (all)", "-", 5,
             (na = 0, cg_store_attacks(st, &l.q, 0, cb_attack, &na)));
        cg_qlang_free(l.e);
        if (lq_parse(&l, "since 24h and msg ~ injection", until))
            return 1;
        TIME("--group attack since 24h and msg ~ injection (all)", "-", 5,
             (na = 0, cg_store_attacks(st, &l.q, 0, cb_attack, &na)));
        cg_qlang_free(l.e);
        memset(&q, 0, sizeof q);
        TIME("--group attack, all incidents (first 100)", "-", 5,
             (na = 0, cg_store_attacks(st, &q, 100, cb_attack, &na)));
        TIME("--group attack, all incidents (all)", "-", 3,
             (na = 0, cg_store_attacks(st, &q, 0, cb_attack, &na)));
        printf("    %llu attacks in all\n", (unsigned long long)na);
        /* one attack's incidents (incident show's related incidents) */
        {
            uint64_t aid = 0;
            cg_store_get(st, n / 2, pick_attack, &aid);
            q.has = CG_Q_ATTACK, q.attack = aid;
            TIME("first page of attack = N (by_attack)", "5 ms", 5,
                 (pg.n = 0, cg_store_query(st, &q, 100, NULL, cb_page, &pg)));
        }
    }
    cg_store_close(st);
    return 0;
fail:
    fprintf(stderr, "bench_store: %s\n", cg_store_error(st));
    cg_store_close(st);
    return 1;
}
