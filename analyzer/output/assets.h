/* assets.h — the local asset file: which agency, zone and owner an internal
 * address belongs to, by longest-prefix match over CIDRs.
 *
 * File format (README.md, "Configuration"): UTF-8 text, one entry per line,
 * CSV with four fields:
 *
 *     CIDR,agency,zone,owner
 *     10.20.1.0/24,Trung tâm Dữ liệu tỉnh,DMZ,dmz@tuyenquang.gov.vn
 *     10.20.1.32/27,"Sở Thông tin và Truyền thông",DMZ,"soc@stttt.tuyenquang.gov.vn"
 *
 *  - A field may be wrapped in double quotes (then it may hold commas; "" is
 *    one quote), as spreadsheets write it. Blanks around a field are dropped.
 *    A record is one line: a quoted field does not continue on the next line.
 *  - Lines whose first non-blank character is `#`, and blank lines, are
 *    skipped. A first record whose CIDR field reads `cidr` (any case) is a
 *    header and is skipped. A UTF-8 byte-order mark and CRLF line ends are
 *    accepted.
 *  - CIDR: a.b.c.d/n (n 0..32), IPv6/n (n 0..128), or a bare address (one
 *    host). Host bits must be zero: 10.20.1.5/24 is an error (did it mean
 *    10.20.1.0/24 or 10.20.1.5/32?), not silently widened.
 *  - agency, zone and owner are required, non-empty, valid UTF-8 without
 *    control characters, and at most CG_ASSET_*_LEN - 1 bytes.
 *  - Ranges may nest (a department's DMZ /27 inside the data center's /16):
 *    the longest prefix wins. The same CIDR twice is an error.
 *
 * Contract:
 *  - Loading is all or nothing: a half-loaded file would mislabel incidents.
 *    On error the result is -1, *out is untouched, and err holds one line
 *    "file:line: why" (or "file: why" for the file as a whole). The first
 *    bad line is reported; a duplicate CIDR is reported once the whole file
 *    has parsed, at the later of its two lines.
 *  - The table is immutable once built: lookups from any number of threads
 *    at once are safe, take no lock and allocate nothing.
 *  - An entry returned by a lookup is a view into the table; it lives until
 *    cg_assets_destroy.
 *  - Addresses are 16 bytes, IPv4 as IPv4-mapped (sensor/decode.h).
 */
#ifndef CG_ASSETS_H
#define CG_ASSETS_H

#include <stddef.h>
#include <stdint.h>

/* Field buffer sizes, the terminating NUL included. Vietnamese names take
 * two or three bytes per accented letter in UTF-8, hence the room. */
#define CG_ASSET_AGENCY_LEN 128
#define CG_ASSET_ZONE_LEN 48
#define CG_ASSET_OWNER_LEN 96

/* Limits a file must stay within. */
#define CG_ASSETS_MAX_FILE (16u << 20) /* bytes */
#define CG_ASSETS_MAX_LINE 1024u       /* bytes in one line */
#define CG_ASSETS_MAX_ENTRIES (1u << 20)

typedef struct cg_asset {
    uint8_t net[16]; /* network address; IPv4 is IPv4-mapped */
    uint8_t plen;    /* prefix length over the 16 bytes: IPv4 /n is 96+n */
    uint32_t line;   /* the line of the file it came from */
    char agency[CG_ASSET_AGENCY_LEN];
    char zone[CG_ASSET_ZONE_LEN];
    char owner[CG_ASSET_OWNER_LEN];
} cg_asset;

typedef struct cg_assets cg_assets;

/* Reads and parses the file at path. 0 with *out set, or -1 with err. */
int cg_assets_load(cg_assets **out, const char *path, char *err, size_t errlen);

/* Parses buf[0..len) (need not be NUL-terminated; never read past len);
 * name is what error messages call it. 0 with *out set, or -1 with err. */
int cg_assets_parse(cg_assets **out, const char *name, const char *buf, size_t len, char *err,
                    size_t errlen);

/* Accepts NULL. */
void cg_assets_destroy(cg_assets *a);

/* The most specific entry whose CIDR holds addr, or NULL (also when a is NULL). */
const cg_asset *cg_assets_lookup(const cg_assets *a, const uint8_t addr[16]);

/* Number of entries (0 for NULL), and entry i < count, in (network, prefix
 * length) order: for listing or checking a file. */
size_t cg_assets_count(const cg_assets *a);
const cg_asset *cg_assets_at(const cg_assets *a, size_t i);

#endif
