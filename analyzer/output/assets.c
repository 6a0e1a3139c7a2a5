/* assets.c — the asset file parser and its longest-prefix table (assets.h).
 *
 * Format: assets.h and README.md ("Configuration"); records are RFC 4180
 * CSV restricted to one line each. The whole file is read into memory and
 * parsed from there, so the parser only ever sees (pointer, length) views and
 * never reads past them.
 *
 * The table. Entries are CIDRs, so two of them either nest or do not meet.
 * At load they are sorted by (network, prefix length) and swept once with a
 * stack of the enclosing entries, which cuts the address space into disjoint
 * segments, each labelled with the most specific entry covering it:
 *
 *     10.20.0.0/16  [-------------------- A --------------------]
 *     10.20.1.32/27            [---- B ----]
 *     segments      [--- A ---][---- B ----][-------- A --------]
 *
 * Invariants:
 *  1. ent[] is sorted by (net, plen, line) and holds no two equal CIDRs.
 *  2. seg[] is sorted by lo, its segments are disjoint, and each one's entry
 *     is the longest prefix holding every address of the segment.
 *  3. Nesting is at most 129 deep (prefix lengths strictly grow along a
 *     chain), so the sweep's stack is a fixed array.
 *  4. Nothing is written to the caller unless the whole file loads.
 */
#include "analyzer/output/assets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/lang/u128.h"
#include "analyzer/output/utf8.h"
#include "sensor/decode.h"

struct seg {
    u128 lo, hi;
    uint32_t ent;
};

struct cg_assets {
    cg_asset *ent;
    size_t n;
    struct seg *seg;
    size_t nseg;
};

#define NFIELDS 4

static const char *const field_name[NFIELDS] = { "CIDR", "agency", "zone", "owner" };
static const size_t field_max[NFIELDS] = { 64, CG_ASSET_AGENCY_LEN, CG_ASSET_ZONE_LEN,
                                           CG_ASSET_OWNER_LEN };

/* ---- 128-bit values -------------------------------------------------------- */

static void ent_range(const cg_asset *e, u128 *lo, u128 *hi)
{
    u128 m = cg_u128_host_mask(e->plen);
    *lo = cg_u128_from_bytes(e->net);
    hi->hi = lo->hi | m.hi;
    hi->lo = lo->lo | m.lo;
}

/* ---- errors ---------------------------------------------------------------- */

struct pctx {
    const char *name;
    char *err;
    size_t errlen;
};

static int perr(const struct pctx *c, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(const struct pctx *c, uint32_t line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err && c->errlen) {
        if (line)
            snprintf(c->err, c->errlen, "%s:%u: %s", c->name, line, msg);
        else
            snprintf(c->err, c->errlen, "%s: %s", c->name, msg);
    }
    return -1;
}

/* ---- one line -------------------------------------------------------------- */

static int is_blank(int ch)
{
    return ch == ' ' || ch == '\t';
}

/* Why text of a field is unacceptable, or NULL. */
static const char *check_text(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return "holds a control character";
        size_t n = cg_utf8_seq(u + i, len - i);
        if (n == 0)
            return "is not valid UTF-8 (save the file as UTF-8)";
        i += n;
    }
    return NULL;
}

/* Splits line[0..len) into fields, unquoted into tmp (each NUL-terminated).
 * tmp holds at least len + NFIELDS bytes. 0, or -1 with *why. */
static int split_csv(const char *l, size_t len, char *tmp, size_t fs[NFIELDS], size_t fl[NFIELDS],
                     unsigned *nf, const char **why)
{
    size_t i = 0, w = 0;
    unsigned n = 0;

    for (;;) {
        while (i < len && is_blank((unsigned char)l[i]))
            i++;
        if (n == NFIELDS) {
            *why = "more than 4 fields (CIDR,agency,zone,owner); quote a name that holds a comma";
            return -1;
        }
        size_t start = w;
        if (i < len && l[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) {
                    *why = "a quoted field has no closing quote";
                    return -1;
                }
                if (l[i] == '"') {
                    if (i + 1 < len && l[i + 1] == '"') {
                        tmp[w++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                tmp[w++] = l[i++];
            }
            while (i < len && is_blank((unsigned char)l[i]))
                i++;
            if (i < len && l[i] != ',') {
                *why = "text after the closing quote of a field";
                return -1;
            }
        } else {
            while (i < len && l[i] != ',')
                tmp[w++] = l[i++];
            while (w > start && is_blank((unsigned char)tmp[w - 1]))
                w--;
        }
        fs[n] = start;
        fl[n] = w - start;
        n++;
        tmp[w++] = '\0';
        if (i >= len)
            break;
        i++; /* the comma */
    }
    *nf = n;
    return 0;
}

static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 3)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* "10.20.1.0/24" or "2001:db8::/48" of an entry, for messages. */
static void format_cidr(const uint8_t net[16], unsigned plen, char *out, size_t outlen)
{
    char a[64];
    int v4 = cg_addr_is_v4(net) && plen >= 96;

    cg_addr_format(net, a, sizeof a);
    if (v4)
        snprintf(out, outlen, "%s/%u", a, plen - 96);
    else
        snprintf(out, outlen, "%s/%u", a, plen);
}

/* A CIDR field (NUL-terminated, checked for control characters) into e. */
static int parse_cidr(const struct pctx *c, uint32_t line, const char *s, cg_asset *e)
{
    char buf[72], shown[80];
    uint8_t net[16];
    unsigned plen, bits;
    int v6;

    if (strlen(s) >= sizeof buf)
        return perr(c, line, "bad CIDR '%.24s...'", s);
    memcpy(buf, s, strlen(s) + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    v6 = strchr(buf, ':') != NULL;
    memset(net, 0, sizeof net);
    if (v6) {
        if (inet_pton(AF_INET6, buf, net) != 1)
            return perr(c, line, "bad CIDR '%s': '%s' is not an IPv6 address", s, buf);
    } else {
        net[10] = net[11] = 0xff;
        if (inet_pton(AF_INET, buf, net + 12) != 1)
            return perr(c, line, "bad CIDR '%s': '%s' is not an IPv4 address", s, buf);
    }
    if (!slash)
        bits = v6 ? 128 : 32;
    else if (parse_prefix(slash + 1, v6 ? 128 : 32, &bits))
        return perr(c, line, "bad CIDR '%s': the prefix length must be 0..%u", s, v6 ? 128 : 32);
    plen = bits + (v6 ? 0 : 96);

    u128 v = cg_u128_from_bytes(net), m = cg_u128_host_mask(plen);
    if ((v.hi & m.hi) || (v.lo & m.lo)) {
        uint8_t fixed[16];
        memcpy(fixed, net, 16);
        for (unsigned i = plen; i < 128; i++)
            fixed[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
        format_cidr(fixed, plen, shown, sizeof shown);
        return perr(c, line, "host bits set in '%s' (the network is %s; a single host is /%u)", s,
                    shown, v6 ? 128 : 32);
    }
    memcpy(e->net, net, 16);
    e->plen = (uint8_t)plen;
    return 0;
}

/* One line (no newline) into e. 1 = an entry, 0 = blank or comment,
 * 2 = the header, -1 = error (reported). */
static int parse_line(const struct pctx *c, uint32_t line, const char *l, size_t len,
                      int first_record, cg_asset *e)
{
    char tmp[CG_ASSETS_MAX_LINE + NFIELDS + 1];
    size_t fs[NFIELDS], fl[NFIELDS], i = 0;
    unsigned nf;
    const char *why;

    while (i < len && (is_blank((unsigned char)l[i]) || l[i] == '\r'))
        i++;
    if (i == len || l[i] == '#')
        return 0;
    if (len > CG_ASSETS_MAX_LINE)
        return perr(c, line, "line longer than %u bytes", CG_ASSETS_MAX_LINE);
    if (split_csv(l, len, tmp, fs, fl, &nf, &why))
        return perr(c, line, "%s", why);
    if (first_record && fl[0] == 4 && strncasecmp(tmp + fs[0], "cidr", 4) == 0)
        return 2;
    if (nf < NFIELDS)
        return perr(c, line, "missing the %s field (expected CIDR,agency,zone,owner)",
                    field_name[nf]);
    for (unsigned f = 0; f < NFIELDS; f++) {
        if (fl[f] == 0)
            return perr(c, line, "the %s field is empty", field_name[f]);
        if ((why = check_text(tmp + fs[f], fl[f])) != NULL)
            return perr(c, line, "the %s field %s", field_name[f], why);
        if (fl[f] >= field_max[f])
            return perr(c, line, "the %s field is too long (%zu bytes, at most %zu)", field_name[f],
                        fl[f], field_max[f] - 1);
    }
    memset(e, 0, sizeof *e);
    if (parse_cidr(c, line, tmp + fs[0], e))
        return -1;
    e->line = line;
    memcpy(e->agency, tmp + fs[1], fl[1] + 1);
    memcpy(e->zone, tmp + fs[2], fl[2] + 1);
    memcpy(e->owner, tmp + fs[3], fl[3] + 1);
    return 1;
}

/* ---- the table ------------------------------------------------------------- */

static int ent_cmp(const void *pa, const void *pb)
{
    const cg_asset *a = pa, *b = pb;
    int r = memcmp(a->net, b->net, 16);

    if (r)
        return r;
    if (a->plen != b->plen)
        return a->plen < b->plen ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

static void seg_emit(cg_assets *a, u128 lo, u128 hi, uint32_t ent)
{
    if (cg_u128_cmp(lo, hi) > 0)
        return;
    a->seg[a->nseg].lo = lo;
    a->seg[a->nseg].hi = hi;
    a->seg[a->nseg].ent = ent;
    a->nseg++;
}

/* The sweep of the file comment; ent[] sorted, seg[] holds 2n entries. */
static void build_segments(cg_assets *a)
{
    uint32_t stack[130];
    u128 st_hi[130];
    unsigned sp = 0;
    u128 cur = { 0, 0 };

    for (size_t i = 0; i < a->n; i++) {
        u128 lo, hi;
        ent_range(&a->ent[i], &lo, &hi);
        while (sp && cg_u128_cmp(st_hi[sp - 1], lo) < 0) {
            seg_emit(a, cur, st_hi[sp - 1], stack[sp - 1]);
            cur = cg_u128_inc(st_hi[sp - 1]); /* < lo, so no wrap */
            sp--;
        }
        if (sp && cg_u128_cmp(cur, lo) < 0)
            seg_emit(a, cur, cg_u128_dec(lo), stack[sp - 1]);
        stack[sp] = (uint32_t)i;
        st_hi[sp] = hi;
        sp++;
        cur = lo;
    }
    while (sp) {
        seg_emit(a, cur, st_hi[sp - 1], stack[sp - 1]);
        if (cg_u128_is_max(st_hi[sp - 1]))
            break; /* every enclosing entry ends there too */
        cur = cg_u128_inc(st_hi[sp - 1]);
        sp--;
    }
}

void cg_assets_destroy(cg_assets *a)
{
    if (!a)
        return;
    free(a->ent);
    free(a->seg);
    free(a);
}

int cg_assets_parse(cg_assets **out, const char *name, const char *buf, size_t len, char *err,
                    size_t errlen)
{
    struct pctx c = { name ? name : "(assets)", err, errlen };
    cg_assets *a = NULL;
    size_t cap = 0, pos = 0;
    uint32_t line = 0;
    int first_record = 1;

    if (err && errlen)
        err[0] = '\0';
    if (len > CG_ASSETS_MAX_FILE) {
        perr(&c, 0, "larger than %u bytes", CG_ASSETS_MAX_FILE);
        goto fail;
    }
    if (!(a = calloc(1, sizeof *a)))
        goto oom;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len) {
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        cg_asset e;

        pos += ll + (nl != NULL);
        line++;
        if (ll && l[ll - 1] == '\r')
            ll--;
        int r = parse_line(&c, line, l, ll, first_record, &e);
        if (r < 0)
            goto fail;
        if (r != 0)
            first_record = 0;
        if (r != 1)
            continue;
        if (a->n == CG_ASSETS_MAX_ENTRIES) {
            perr(&c, line, "more than %u entries", CG_ASSETS_MAX_ENTRIES);
            goto fail;
        }
        if (a->n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            cg_asset *ne = realloc(a->ent, ncap * sizeof *ne);
            if (!ne)
                goto oom;
            a->ent = ne;
            cap = ncap;
        }
        a->ent[a->n++] = e;
    }

    if (a->n) {
        qsort(a->ent, a->n, sizeof *a->ent, ent_cmp);
        const cg_asset *dup = NULL, *orig = NULL;
        for (size_t i = 1; i < a->n; i++)
            if (a->ent[i].plen == a->ent[i - 1].plen &&
                memcmp(a->ent[i].net, a->ent[i - 1].net, 16) == 0 &&
                (!dup || a->ent[i].line < dup->line)) {
                dup = &a->ent[i];
                orig = &a->ent[i - 1];
                while (orig > a->ent && orig[-1].plen == dup->plen &&
                       memcmp(orig[-1].net, dup->net, 16) == 0)
                    orig--; /* the first line that gave it */
            }
        if (dup) {
            char shown[80];
            format_cidr(dup->net, dup->plen, shown, sizeof shown);
            perr(&c, dup->line, "duplicate CIDR %s (already on line %u)", shown, orig->line);
            goto fail;
        }
        if (!(a->seg = malloc(2 * a->n * sizeof *a->seg)))
            goto oom;
        build_segments(a);
    }
    *out = a;
    return 0;
oom:
    perr(&c, 0, "out of memory");
fail:
    cg_assets_destroy(a);
    return -1;
}

int cg_assets_load(cg_assets **out, const char *path, char *err, size_t errlen)
{
    struct pctx c = { path, err, errlen };
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;

    if (!(f = fopen(path, "rb"))) {
        perr(&c, 0, "%s", strerror(errno));
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap > CG_ASSETS_MAX_FILE) {
                perr(&c, 0, "larger than %u bytes", CG_ASSETS_MAX_FILE);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                perr(&c, 0, "out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                perr(&c, 0, "%s", strerror(errno ? errno : EIO));
                goto out;
            }
            break;
        }
    }
    rc = cg_assets_parse(out, path, buf, len, err, errlen);
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

const cg_asset *cg_assets_lookup(const cg_assets *a, const uint8_t addr[16])
{
    if (!a || a->nseg == 0)
        return NULL;
    u128 x = cg_u128_from_bytes(addr);
    size_t lo = 0, hi = a->nseg;
    while (lo < hi) { /* the last segment whose lo <= x */
        size_t mid = lo + (hi - lo) / 2;
        if (cg_u128_cmp(a->seg[mid].lo, x) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || cg_u128_cmp(x, a->seg[lo - 1].hi) > 0)
        return NULL;
    return &a->ent[a->seg[lo - 1].ent];
}

size_t cg_assets_count(const cg_assets *a)
{
    return a ? a->n : 0;
}

const cg_asset *cg_assets_at(const cg_assets *a, size_t i)
{
    return a && i < a->n ? &a->ent[i] : NULL;
}
