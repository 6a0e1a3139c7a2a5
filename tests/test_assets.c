/* test_assets.c — the asset file: CSV forms (quotes, comments, header, BOM,
 * CRLF), the shipped rules/assets.conf against rules/vars.conf, longest-prefix lookups over nested IPv4 and IPv6 CIDRs checked
 * against a brute-force search, each kind of bad line, and the parser fed
 * every prefix of a valid file, mutated files and random bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/lang/addr.h"
#include "analyzer/output/assets.h"
#include "analyzer/lang/vars.h"
#include "sensor/decode.h"
#include "tests/check.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static const uint8_t *A(const char *s)
{
    static uint8_t a[8][16];
    static unsigned k;
    uint8_t *p = a[k++ % 8];
    if (cg_addr_parse(s, p))
        fprintf(stderr, "bad test address %s\n", s);
    return p;
}

/* Parses text; on success returns the table, else NULL with err. */
static cg_assets *parse(const char *text, char *err, size_t errlen)
{
    cg_assets *a = NULL;
    if (cg_assets_parse(&a, "assets.conf", text, strlen(text), err, errlen))
        return NULL;
    return a;
}

static const char *agency_of(const cg_assets *a, const char *ip)
{
    const cg_asset *e = cg_assets_lookup(a, A(ip));
    return e ? e->agency : "-";
}

static const char good[] =
    "\xef\xbb\xbf"
    "cidr,agency,zone,owner\r\n"
    "# the data center\r\n"
    "10.20.0.0/16, Trung tâm Dữ liệu tỉnh , server farm, ttdl@tuyenquang.gov.vn\r\n"
    "\r\n"
    "   # an indented comment\n"
    "10.20.1.0/24,Trung tâm Dữ liệu tỉnh,DMZ,dmz@tuyenquang.gov.vn\n"
    "10.20.1.32/27,\"Sở Thông tin và Truyền thông\",DMZ,\"soc@stttt.tuyenquang.gov.vn\"\n"
    "10.20.1.40,\"Sở TT&TT, cổng \"\"một cửa\"\"\",DMZ,portal@stttt.tuyenquang.gov.vn\n"
    "10.21.3.0/24,Công an tỉnh,office LAN,it@congan.tuyenquang.gov.vn\n"
    "2001:db8:2200::/48,Trung tâm Dữ liệu tỉnh,server farm,ttdl@tuyenquang.gov.vn\n"
    "2001:db8:2200:1::/64,Trung tâm Dữ liệu tỉnh,DMZ,dmz@tuyenquang.gov.vn\n"
    "2001:db8:2200:1::13/128,Công an tỉnh,DMZ,web@congan.tuyenquang.gov.vn";

static void test_good(void)
{
    char err[256] = "";
    cg_assets *a = parse(good, err, sizeof err);
    CHECK(a != NULL);
    if (!a) {
        fprintf(stderr, "  err: %s\n", err);
        return;
    }
    CHECK_EQ_U(cg_assets_count(a), 8);
    CHECK_STR(agency_of(a, "10.20.0.1"), "Trung tâm Dữ liệu tỉnh"); /* trimmed */
    CHECK_STR(agency_of(a, "10.20.1.31"), "Trung tâm Dữ liệu tỉnh");
    CHECK_STR(agency_of(a, "10.20.1.32"), "Sở Thông tin và Truyền thông");
    CHECK_STR(agency_of(a, "10.20.1.39"), "Sở Thông tin và Truyền thông");
    CHECK_STR(agency_of(a, "10.20.1.40"), "Sở TT&TT, cổng \"một cửa\""); /* quotes, comma */
    CHECK_STR(agency_of(a, "10.20.1.41"), "Sở Thông tin và Truyền thông");
    CHECK_STR(agency_of(a, "10.20.1.63"), "Sở Thông tin và Truyền thông");
    CHECK_STR(agency_of(a, "10.20.1.64"), "Trung tâm Dữ liệu tỉnh");
    CHECK_STR(agency_of(a, "10.20.255.255"), "Trung tâm Dữ liệu tỉnh");
    CHECK_STR(agency_of(a, "10.19.255.255"), "-");
    CHECK_STR(agency_of(a, "10.21.0.1"), "-");
    CHECK_STR(agency_of(a, "10.21.3.77"), "Công an tỉnh");
    CHECK_STR(agency_of(a, "10.21.4.0"), "-");
    CHECK_STR(agency_of(a, "89.160.20.112"), "-");
    const cg_asset *e = cg_assets_lookup(a, A("10.20.1.33"));
    CHECK(e && strcmp(e->zone, "DMZ") == 0 && strcmp(e->owner, "soc@stttt.tuyenquang.gov.vn") == 0);
    CHECK(e && e->plen == 96 + 27 && e->line == 7);
    e = cg_assets_lookup(a, A("10.20.7.1"));
    CHECK(e && strcmp(e->zone, "server farm") == 0 && e->line == 3);
    /* IPv6 */
    CHECK_STR(agency_of(a, "2001:db8:2200:1::13"), "Công an tỉnh");
    e = cg_assets_lookup(a, A("2001:db8:2200:1::14"));
    CHECK(e && strcmp(e->zone, "DMZ") == 0 && e->plen == 64);
    e = cg_assets_lookup(a, A("2001:db8:2200:ffff::1"));
    CHECK(e && strcmp(e->zone, "server farm") == 0 && e->plen == 48);
    CHECK_STR(agency_of(a, "2001:db8:2201::1"), "-");
    CHECK_STR(agency_of(a, "::ffff:10.20.1.33"), "Sở Thông tin và Truyền thông");
    CHECK_STR(agency_of(a, "::10.20.1.33"), "-"); /* IPv4-compatible is not IPv4 */
    cg_assets_destroy(a);

    /* an empty file, or only comments: a table that holds nothing */
    a = parse("# nothing yet\n\n", err, sizeof err);
    CHECK(a != NULL && cg_assets_count(a) == 0);
    CHECK(cg_assets_lookup(a, A("10.20.1.1")) == NULL);
    cg_assets_destroy(a);
    CHECK(cg_assets_lookup(NULL, A("10.20.1.1")) == NULL);
    CHECK_EQ_U(cg_assets_count(NULL), 0);
    cg_assets_destroy(NULL);

    /* a header is only a header on the first record */
    a = parse("10.0.0.0/8,A,Z,o\ncidr,agency,zone,owner\n", err, sizeof err);
    CHECK(a == NULL);
    CHECK_CONTAINS(err, "assets.conf:2: bad CIDR 'cidr'");
    cg_assets_destroy(a);
}

/* The shipped example: it loads, each entry lies inside $HOME_NET of the
 * shipped variables, and the nesting gives what its comments say. */
static void test_shipped(void)
{
    char err[256];
    cg_assets *a = NULL;
    cg_vars *v = NULL;
    cg_addrset home = { NULL, 0 };
    cg_expr_err xe;
    int outside = 0;

    CHECK(cg_assets_load(&a, "rules/assets.conf", err, sizeof err) == 0);
    if (!a) {
        fprintf(stderr, "  err: %s\n", err);
        return;
    }
    CHECK(cg_vars_create(&v) == 0);
    CHECK(v && cg_vars_load(v, "rules/vars.conf", err, sizeof err) == 0);
    CHECK(v && cg_addrset_parse("$HOME_NET", 9, v, &home, &xe) == 0);
    CHECK(cg_assets_count(a) >= 30);
    for (size_t i = 0; i < cg_assets_count(a); i++) {
        const cg_asset *e = cg_assets_at(a, i);
        uint8_t last[16];
        memcpy(last, e->net, 16);
        for (unsigned k = e->plen; k < 128; k++)
            last[k / 8] |= (uint8_t)(0x80u >> (k % 8));
        if (!cg_addrset_match(&home, e->net) || !cg_addrset_match(&home, last)) {
            outside++;
            fprintf(stderr, "  line %u is outside $HOME_NET\n", e->line);
        }
    }
    CHECK_EQ_U(outside, 0);
    CHECK(cg_assets_at(a, cg_assets_count(a)) == NULL);
    CHECK_STR(agency_of(a, "10.20.1.13"), "Công an tỉnh");
    CHECK_STR(agency_of(a, "10.20.1.70"), "Sở Y tế");
    CHECK_STR(agency_of(a, "10.20.1.99"), "Sở Thông tin và Truyền thông");
    CHECK_STR(agency_of(a, "10.20.20.5"), "Công an tỉnh");
    CHECK_STR(agency_of(a, "10.21.104.9"), "UBND huyện Chiêm Hóa");
    CHECK_STR(agency_of(a, "fd00:2200:0:1::13"), "Công an tỉnh");
    const cg_asset *e = cg_assets_lookup(a, A("10.21.200.1"));
    CHECK(e && strcmp(e->zone, "WAN") == 0);
    e = cg_assets_lookup(a, A("10.20.1.11"));
    CHECK(e && strcmp(e->zone, "DMZ") == 0 &&
          strcmp(e->owner, "dichvucong@tuyenquang.gov.vn") == 0);
    CHECK(cg_assets_lookup(a, A("10.22.0.1")) == NULL);
    cg_addrset_clear(&home);
    cg_vars_destroy(v);
    cg_assets_destroy(a);
}

/* The whole address space and its ends: /0 entries, the last address. */
static void test_edges(void)
{
    char err[256];
    cg_assets *a = parse("::/0,Internet6,any,-\n"
                         "0.0.0.0/0,Internet4,any,-\n"
                         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,last,any,-\n"
                         "::,first,any,-\n"
                         "255.255.255.255/32,bcast,any,-\n",
                         err, sizeof err);
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK_STR(agency_of(a, "::"), "first");
    CHECK_STR(agency_of(a, "::1"), "Internet6");
    CHECK_STR(agency_of(a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), "Internet6");
    CHECK_STR(agency_of(a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "last");
    CHECK_STR(agency_of(a, "0.0.0.0"), "Internet4");
    CHECK_STR(agency_of(a, "255.255.255.254"), "Internet4");
    CHECK_STR(agency_of(a, "255.255.255.255"), "bcast");
    CHECK_STR(agency_of(a, "::fffe:ffff:ffff"), "Internet6");
    CHECK_STR(agency_of(a, "::1:0:0:0"), "Internet6");
    cg_assets_destroy(a);
}

/* Random nested CIDRs; every lookup checked against a linear longest-prefix
 * search, at the edges of every range and at random. */
static int in_net(const uint8_t a[16], const uint8_t net[16], unsigned plen)
{
    for (unsigned i = 0; i < plen; i++) {
        unsigned m = 0x80u >> (i % 8);
        if ((a[i / 8] & m) != (net[i / 8] & m))
            return 0;
    }
    return 1;
}

static void test_random_tables(void)
{
    enum { N = 60 };
    uint8_t net[N][16];
    unsigned plen[N];
    char text[N * 96], err[256];
    int bad = 0;

    for (int round = 0; round < 200; round++) {
        size_t w = 0;
        int n = 0;
        for (int i = 0; i < N; i++) {
            uint8_t b[16];
            unsigned pl;
            int dup = 0;
            /* grow from an earlier network now and then so ranges nest */
            if (i > 0 && rnd() % 3 == 0) {
                int p = (int)(rnd() % (uint64_t)n);
                memcpy(b, net[p], 16);
                pl = plen[p] + 1 + (unsigned)(rnd() % 8);
                if (pl > 128)
                    pl = 128;
                for (unsigned k = plen[p]; k < pl; k++)
                    if (rnd() & 1)
                        b[k / 8] ^= (uint8_t)(0x80u >> (k % 8));
            } else {
                for (int k = 0; k < 16; k++)
                    b[k] = (uint8_t)rnd();
                if (rnd() % 2) { /* IPv4, within a few /8s so they meet */
                    memset(b, 0, 10);
                    b[10] = b[11] = 0xff;
                    b[12] = (uint8_t)(10 + rnd() % 3);
                    pl = 96 + 8 + (unsigned)(rnd() % 25);
                } else {
                    b[0] = 0x20;
                    b[1] = 0x01;
                    pl = 16 + (unsigned)(rnd() % 113);
                }
            }
            for (unsigned k = pl; k < 128; k++)
                b[k / 8] &= (uint8_t) ~(0x80u >> (k % 8));
            for (int j = 0; j < n; j++)
                if (plen[j] == pl && memcmp(net[j], b, 16) == 0)
                    dup = 1;
            if (dup)
                continue;
            memcpy(net[n], b, 16);
            plen[n] = pl;
            char s[64];
            cg_addr_format(b, s, sizeof s);
            w += (size_t)snprintf(text + w, sizeof text - w, "%s/%u,a%d,z,o\n", s,
                                  cg_addr_is_v4(b) && pl >= 96 ? pl - 96 : pl, n);
            n++;
        }
        cg_assets *a = NULL;
        if (cg_assets_parse(&a, "rand", text, w, err, sizeof err)) {
            CHECK(!"random table parses");
            fprintf(stderr, "  err: %s\n", err);
            return;
        }
        for (int q = 0; q < 4 * N + 400; q++) {
            uint8_t x[16];
            if (q < 4 * N) { /* first, last, one before, one after */
                int j = q / 4;
                memcpy(x, net[j], 16);
                if (q % 2)
                    for (unsigned k = plen[j]; k < 128; k++)
                        x[k / 8] |= (uint8_t)(0x80u >> (k % 8));
                if (q % 4 >= 2) { /* step out of the range */
                    int carry = q % 2 ? 1 : -1;
                    for (int k = 15; k >= 0; k--) {
                        int v = x[k] + carry;
                        x[k] = (uint8_t)v;
                        if (v >= 0 && v <= 255)
                            break;
                    }
                }
            } else {
                memcpy(x, net[rnd() % (uint64_t)n], 16);
                for (int k = (int)(rnd() % 16); k < 16; k++)
                    x[k] = (uint8_t)rnd();
            }
            int best = -1;
            for (int j = 0; j < n; j++)
                if (in_net(x, net[j], plen[j]) && (best < 0 || plen[j] > plen[best]))
                    best = j;
            const cg_asset *e = cg_assets_lookup(a, x);
            char want[16];
            snprintf(want, sizeof want, "a%d", best);
            if (best < 0 ? e != NULL : (!e || strcmp(e->agency, want) != 0))
                bad++;
        }
        cg_assets_destroy(a);
    }
    CHECK_EQ_U(bad, 0);
}

static void test_bad_lines(void)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        { "10.20.0.0/16,A,Z,o\n10.20.1.0/33,A,Z,o\n", "assets.conf:2: bad CIDR '10.20.1.0/33'" },
        { "10.20.1/24,A,Z,o\n", "assets.conf:1: bad CIDR '10.20.1/24'" },
        { "10.20.1.0/2x,A,Z,o\n", "prefix length must be 0..32" },
        { "2001:db8::/129,A,Z,o\n", "prefix length must be 0..128" },
        { "2001:db8:::/48,A,Z,o\n", "not an IPv6 address" },
        { "10.20.1.0/,A,Z,o\n", "assets.conf:1: bad CIDR" },
        { "#\n\n10.20.1.5/24,A,Z,o\n",
          "assets.conf:3: host bits set in '10.20.1.5/24' "
          "(the network is 10.20.1.0/24" },
        { "2001:db8:2200::1/48,A,Z,o\n", "the network is 2001:db8:2200::/48" },
        { "10.20.1.0/24,A,Z\n", "assets.conf:1: missing the owner field" },
        { "10.20.1.0/24\n", "assets.conf:1: missing the agency field" },
        { "10.20.1.0/24,A,,o\n", "assets.conf:1: the zone field is empty" },
        { "10.20.1.0/24,A, \"\" ,o\n", "the zone field is empty" },
        { "10.20.1.0/24,Sở Thông tin, và Truyền thông,DMZ,o\n",
          "assets.conf:1: more than 4 fields" },
        { "10.20.1.0/24,\"Sở,DMZ,o\n", "assets.conf:1: a quoted field has no closing quote" },
        { "10.20.1.0/24,\"Sở\" TT,DMZ,o\n", "assets.conf:1: text after the closing quote" },
        { "10.20.1.0/24,A,Z,o\n10.20.2.0/24,S\xf4 TT,Z,o\n",
          "assets.conf:2: the agency field is not valid UTF-8" },
        { "10.20.1.0/24,A,Z\x01,o\n", "assets.conf:1: the zone field holds a control character" },
        { "10.20.1.0/24,A,Z,o\n10.20.1.0/25,A,Z,o\n10.20.1.0/24,B,Z,o\n",
          "assets.conf:3: duplicate CIDR 10.20.1.0/24 (already on line 1)" },
        { "2001:db8::/32,A,Z,o\n2001:0db8:0::/32,A,Z,o\n",
          "assets.conf:2: duplicate CIDR 2001:db8::/32 (already on line 1)" },
    };
    char err[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cg_assets *a = (cg_assets *)&err; /* must stay untouched */
        err[0] = '\0';
        int rc =
            cg_assets_parse(&a, "assets.conf", bad[i].text, strlen(bad[i].text), err, sizeof err);
        CHECK(rc == -1);
        CHECK(a == (cg_assets *)&err);
        CHECK_CONTAINS(err, bad[i].want);
    }

    /* field and line lengths */
    char line[2100], x[2048];
    memset(x, 'x', sizeof x);
    snprintf(line, sizeof line, "10.20.1.0/24,%.*s,Z,o\n", CG_ASSET_AGENCY_LEN - 1, x);
    cg_assets *a = parse(line, err, sizeof err);
    CHECK(a != NULL); /* exactly at the limit */
    cg_assets_destroy(a);
    snprintf(line, sizeof line, "10.20.1.0/24,%.*s,Z,o\n", CG_ASSET_AGENCY_LEN, x);
    CHECK(parse(line, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "assets.conf:1: the agency field is too long (128 bytes, at most 127)");
    snprintf(line, sizeof line, "10.20.1.0/24,A,%.*s,o\n", CG_ASSET_ZONE_LEN, x);
    CHECK(parse(line, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "the zone field is too long");
    snprintf(line, sizeof line, "10.20.1.0/24,A,Z,%.*s", CG_ASSET_OWNER_LEN, x);
    CHECK(parse(line, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "the owner field is too long");
    /* a CIDR field too long to be one */
    snprintf(line, sizeof line, "%.*s/8,A,Z,o", 100, x);
    CHECK(parse(line, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "assets.conf:1: the CIDR field is too long");
    memset(line, ' ', sizeof line - 1);
    memcpy(line + 1500, "1.2.3.4,A,Z,o", 13);
    line[sizeof line - 1] = '\0';
    CHECK(parse(line, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "assets.conf:1: line longer than 1024 bytes");

    /* an embedded NUL is a control character, not the end of the line */
    static const char nul[] = "10.20.1.0/24,A\0B,Z,o\n";
    a = NULL;
    CHECK(cg_assets_parse(&a, "assets.conf", nul, sizeof nul - 1, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "assets.conf:1: the agency field holds a control character");
    CHECK(cg_assets_parse(&a, "assets.conf", "1.2.3.4\0/8,A,Z,o", 16, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "the CIDR field holds a control character");

    /* files */
    a = (cg_assets *)&err;
    CHECK(cg_assets_load(&a, "/nonexistent/assets.conf", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "/nonexistent/assets.conf: No such file or directory");
    CHECK(cg_assets_load(&a, "tests", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "tests: Is a directory");
    CHECK(a == (cg_assets *)&err);
}

/* Never a crash, whatever the bytes; -1 always with "name:" in err. Each
 * input sits in its own allocation of exactly its length, so ASan reports
 * any read past it. */
static int parse_exact(const char *src, size_t len, char *err, size_t errlen)
{
    char *buf = malloc(len ? len : 1);
    cg_assets *a = NULL;
    int rc;

    if (!buf)
        return -2;
    memcpy(buf, src, len);
    err[0] = '\0';
    rc = cg_assets_parse(&a, "fuzz", buf, len, err, errlen);
    if (rc == 0) {
        uint8_t x[16];
        for (int i = 0; i < 16; i++)
            x[i] = (uint8_t)rnd();
        (void)cg_assets_lookup(a, x);
        cg_assets_destroy(a);
    } else if (strncmp(err, "fuzz:", 5) != 0) {
        rc = -3;
    }
    free(buf);
    return rc;
}

static void test_fuzz(void)
{
    size_t len = strlen(good);
    char err[256], buf[4096];
    int odd = 0, ok = 0;

    for (size_t n = 0; n <= len; n++) {
        int rc = parse_exact(good, n, err, sizeof err);
        if (rc == 0)
            ok++;
        else if (rc != -1)
            odd++;
    }
    CHECK(ok > 0);
    for (int i = 0; i < 20000; i++) { /* the good file, mutated */
        memcpy(buf, good, len);
        for (int k = 0, m = 1 + (int)(rnd() % 8); k < m; k++) {
            size_t at = (size_t)(rnd() % len);
            switch (rnd() % 4) {
            case 0: buf[at] = (char)rnd(); break;
            case 1: buf[at] = ",\"\n/#:\r\0"[rnd() % 8]; break;
            case 2: buf[at] = (char)(0x80 | rnd()); break;
            default: buf[at] = ' '; break;
            }
        }
        if (parse_exact(buf, len, err, sizeof err) < -1)
            odd++;
    }
    for (int i = 0; i < 20000; i++) { /* random bytes, CSV-ish alphabet too */
        size_t n = (size_t)(rnd() % 300);
        for (size_t k = 0; k < n; k++)
            buf[k] = i % 2 ? (char)rnd() : "0123456789abcdef.:/,\"\n# "[rnd() % 25];
        if (parse_exact(buf, n, err, sizeof err) < -1)
            odd++;
    }
    CHECK_EQ_U(odd, 0);
}

int main(void)
{
    test_good();
    test_edges();
    test_shipped();
    test_random_tables();
    test_bad_lines();
    test_fuzz();
    return check_done("test_assets");
}
