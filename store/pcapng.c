/* pcapng.c — the pcapng writer: blocks of draft-ietf-opsawg-pcapng, written
 * little-endian with stdio into PATH.tmp, renamed to PATH on commit. The
 * contract is pcapng.h.
 *
 * Block layouts (offsets in bytes, all little-endian; every block starts and
 * ends with its total length, a multiple of 4):
 *
 *   SHB   0 type 0x0A0D0D0A   4 total length   8 byte-order magic 0x1A2B3C4D
 *         12 major 1, minor 0 (2 + 2)   16 section length -1 (8)
 *         24 options: shb_userappl (4)   end: total length
 *   IDB   0 type 1   4 total length   8 LinkType (2), reserved 0 (2)
 *         12 SnapLen (4)   16 options: if_tsresol (9) = 6   end: total length
 *   EPB   0 type 6   4 total length   8 interface id   12 timestamp high
 *         16 timestamp low   20 captured length   24 original length
 *         28 data, padded to 4   then options: opt_comment (1)
 *         end: total length
 *   option: code (2), length (2), value padded to 4; the list ends with
 *         opt_endofopt (code 0, length 0).
 *
 * Invariants:
 *  1. Only PATH.tmp is ever written; PATH appears whole, by rename, after
 *     the data has been flushed and fsync'ed.
 *  2. w->err, once set, stays: nothing more is written, and close or commit
 *     remove PATH.tmp.
 *  3. An EPB names an interface whose IDB is already in the file.
 */
#include "store/pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define OPT_SHB_USERAPPL 4
#define OPT_IF_TSRESOL 9

#define TSRESOL_MICRO 6 /* 10^-6 s */
#define IF_MAX 64       /* distinct link types in one file */
#define USERAPPL_MAX 256

struct cg_pcapng {
    FILE *f;
    char *path, *tmp;
    int err; /* the first failure, or 0 */
    int committed;
    uint64_t packets;
    size_t nif;
    int dlt[IF_MAX];  /* interface i's link type (DLT) */
    uint8_t *comment; /* CG_PCAPNG_COMMENT_MAX bytes, made at the first comment */
    char msg[PATH_MAX + 256];
};

static _Thread_local char open_err[PATH_MAX + 256];

static int fail(cg_pcapng *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    if (!w->err)
        w->err = code;
    return code;
}

const char *cg_pcapng_error(const cg_pcapng *w)
{
    return w ? w->msg : open_err;
}

int cg_pcapng_linktype(int dlt)
{
    /* The DLT values whose LINKTYPE_ number differs (libpcap's
     * dlt_to_linktype, for the ones this platform's pcap/dlt.h defines
     * apart); every other DLT is its own LINKTYPE_ number. */
    static const struct {
        int dlt, linktype;
    } map[] = {
        { DLT_ATM_RFC1483, 100 }, { DLT_RAW, 101 },      { DLT_SLIP_BSDOS, 102 },
        { DLT_PPP_BSDOS, 103 },   { DLT_ATM_CLIP, 106 },
    };
    if (dlt < 0 || dlt > 65535)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].dlt == dlt)
            return map[i].linktype;
    return dlt;
}

/* ---- the bytes -------------------------------------------------------------- */

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static int put(cg_pcapng *w, const void *p, size_t n)
{
    if (w->err)
        return w->err;
    errno = 0;
    if (n && fwrite(p, 1, n, w->f) != n)
        return fail(w, CG_EIO, "%s: %s", w->tmp, strerror(errno ? errno : EIO));
    return 0;
}

static int put32(cg_pcapng *w, uint32_t v)
{
    uint8_t b[4];
    le32(b, v);
    return put(w, b, 4);
}

static int put_pad(cg_pcapng *w, size_t n)
{
    static const uint8_t zero[4];
    return put(w, zero, pad4(n) - n);
}

/* One option: code, length, value, padding. */
static int put_opt(cg_pcapng *w, uint16_t code, const void *v, uint16_t len)
{
    uint8_t h[4];
    le16(h, code);
    le16(h + 2, len);
    int rc = put(w, h, 4);
    if (!rc)
        rc = put(w, v, len);
    if (!rc)
        rc = put_pad(w, len);
    return rc;
}

/* The UTF-8 sequence at s[0..len): its length, or 0 when it is not valid
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* The comment as the file gets it, into out (CG_PCAPNG_COMMENT_MAX bytes):
 * invalid bytes as '?', cut at a character boundary. Returns its length. */
static size_t clean_comment(const char *s, uint8_t *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i = 0, o = 0;
    while (i < len) {
        size_t n = utf8_seq(u + i, len - i);
        if (n == 0) {
            if (o + 1 > CG_PCAPNG_COMMENT_MAX)
                break;
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + n > CG_PCAPNG_COMMENT_MAX)
            break;
        memcpy(out + o, u + i, n);
        o += n;
        i += n;
    }
    return o;
}

/* ---- blocks ------------------------------------------------------------------ */

static int write_shb(cg_pcapng *w, const char *userappl)
{
    size_t ul = userappl ? strnlen(userappl, USERAPPL_MAX) : 0;
    size_t opts = ul ? 4 + pad4(ul) + 4 : 0;
    uint32_t total = (uint32_t)(28 + opts);
    uint8_t h[24];
    le32(h, BT_SHB);
    le32(h + 4, total);
    le32(h + 8, BYTE_ORDER_MAGIC);
    le16(h + 12, 1);
    le16(h + 14, 0);
    memset(h + 16, 0xff, 8); /* section length: not given */
    int rc = put(w, h, sizeof h);
    if (!rc && ul)
        rc = put_opt(w, OPT_SHB_USERAPPL, userappl, (uint16_t)ul);
    if (!rc && ul)
        rc = put_opt(w, OPT_ENDOFOPT, NULL, 0);
    if (!rc)
        rc = put32(w, total);
    return rc;
}

static int write_idb(cg_pcapng *w, int linktype)
{
    static const uint8_t tsresol = TSRESOL_MICRO;
    uint32_t total = 16 + 8 + 4 + 4; /* fixed part, if_tsresol, endofopt, length */
    uint8_t h[16];
    le32(h, BT_IDB);
    le32(h + 4, total);
    le16(h + 8, (uint16_t)linktype);
    le16(h + 10, 0);
    le32(h + 12, CG_PCAPNG_SNAPLEN);
    int rc = put(w, h, sizeof h);
    if (!rc)
        rc = put_opt(w, OPT_IF_TSRESOL, &tsresol, 1);
    if (!rc)
        rc = put_opt(w, OPT_ENDOFOPT, NULL, 0);
    if (!rc)
        rc = put32(w, total);
    return rc;
}

/* The interface of link type dlt, its IDB written when it is new. */
static int interface_of(cg_pcapng *w, int dlt, uint32_t *out)
{
    for (size_t i = 0; i < w->nif; i++)
        if (w->dlt[i] == dlt) {
            *out = (uint32_t)i;
            return 0;
        }
    int lt = cg_pcapng_linktype(dlt);
    if (lt < 0)
        return fail(w, CG_EINVAL, "%s: link type %d has no pcapng number", w->tmp, dlt);
    if (w->nif == IF_MAX)
        return fail(w, CG_EINVAL, "%s: more than %d link types in one file", w->tmp, IF_MAX);
    int rc = write_idb(w, lt);
    if (rc)
        return rc;
    w->dlt[w->nif] = dlt;
    *out = (uint32_t)w->nif++;
    return 0;
}

/* ---- the API ------------------------------------------------------------------- */

int cg_pcapng_open(cg_pcapng **out, const char *path, const char *userappl)
{
    cg_pcapng *w = NULL;
    int fd = -1, rc;

    if (!out || !path || !path[0]) {
        snprintf(open_err, sizeof open_err, "pcapng: no output path");
        return CG_EINVAL;
    }
    if (!(w = calloc(1, sizeof *w)) || !(w->path = strdup(path)) ||
        !(w->tmp = malloc(strlen(path) + 5))) {
        snprintf(open_err, sizeof open_err, "%s: out of memory", path);
        rc = CG_ENOMEM;
        goto fail;
    }
    strcpy(w->tmp, path);
    strcat(w->tmp, ".tmp");
    /* 0600: an export is the one who asked for it (the store is 0750/0640) */
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
        snprintf(open_err, sizeof open_err, "%s: cannot create %s: %s", path, w->tmp,
                 strerror(errno));
        rc = CG_EIO;
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp);
        }
        goto fail;
    }
    if ((rc = write_shb(w, userappl)) != 0) {
        snprintf(open_err, sizeof open_err, "%s", w->msg);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    if (w && w->f) {
        fclose(w->f);
        unlink(w->tmp);
    }
    if (w) {
        free(w->tmp);
        free(w->path);
        free(w);
    }
    return rc;
}

int cg_pcapng_write(cg_pcapng *w, const cg_pcapng_packet *p)
{
    uint32_t ifid = 0, caplen, wirelen;
    size_t clen = 0;
    int rc;

    if (!w || w->committed)
        return CG_EINVAL;
    if (w->err)
        return w->err;
    if (!p || (p->caplen && !p->data))
        return fail(w, CG_EINVAL, "%s: a packet without its bytes", w->tmp);
    if ((rc = interface_of(w, p->dlt, &ifid)) != 0)
        return rc;
    caplen = p->caplen > CG_PCAPNG_SNAPLEN ? CG_PCAPNG_SNAPLEN : p->caplen;
    wirelen = p->wirelen < p->caplen ? p->caplen : p->wirelen;
    if (p->comment && p->comment[0]) {
        if (!w->comment && !(w->comment = malloc(CG_PCAPNG_COMMENT_MAX)))
            return fail(w, CG_ENOMEM, "%s: out of memory", w->tmp);
        clen = clean_comment(p->comment, w->comment);
    }
    size_t opts = clen ? 4 + pad4(clen) + 4 : 0;
    uint32_t total = (uint32_t)(28 + pad4(caplen) + opts + 4);
    uint8_t h[28];
    le32(h, BT_EPB);
    le32(h + 4, total);
    le32(h + 8, ifid);
    le32(h + 12, (uint32_t)(p->ts_us >> 32));
    le32(h + 16, (uint32_t)p->ts_us);
    le32(h + 20, caplen);
    le32(h + 24, wirelen);
    rc = put(w, h, sizeof h);
    if (!rc)
        rc = put(w, p->data, caplen);
    if (!rc)
        rc = put_pad(w, caplen);
    if (!rc && clen)
        rc = put_opt(w, OPT_COMMENT, w->comment, (uint16_t)clen);
    if (!rc && clen)
        rc = put_opt(w, OPT_ENDOFOPT, NULL, 0);
    if (!rc)
        rc = put32(w, total);
    if (!rc)
        w->packets++;
    return rc;
}

int cg_pcapng_commit(cg_pcapng *w)
{
    int rc;
    if (!w || w->committed)
        return CG_EINVAL;
    w->committed = 1; /* one way or the other, the file is done */
    if (!w->err && w->packets == 0)
        fail(w, CG_EEMPTY, "%s: no packet to write", w->path);
    if (!w->err && fflush(w->f) != 0)
        fail(w, CG_EIO, "%s: %s", w->tmp, strerror(errno));
    if (!w->err && fsync(fileno(w->f)) != 0)
        fail(w, CG_EIO, "%s: %s", w->tmp, strerror(errno));
    if (fclose(w->f) != 0 && !w->err)
        fail(w, CG_EIO, "%s: %s", w->tmp, strerror(errno));
    w->f = NULL;
    if (!w->err && rename(w->tmp, w->path) != 0)
        fail(w, CG_EIO, "%s: cannot rename %s to it: %s", w->path, w->tmp, strerror(errno));
    rc = w->err;
    if (rc)
        unlink(w->tmp);
    return rc;
}

void cg_pcapng_close(cg_pcapng *w)
{
    if (!w)
        return;
    if (!w->committed) {
        if (w->f)
            fclose(w->f);
        unlink(w->tmp);
    }
    free(w->comment);
    free(w->tmp);
    free(w->path);
    free(w);
}

uint64_t cg_pcapng_packets(const cg_pcapng *w)
{
    return w ? w->packets : 0;
}

size_t cg_pcapng_interfaces(const cg_pcapng *w, int *dlts, size_t n)
{
    if (!w)
        return 0;
    for (size_t i = 0; i < w->nif && i < n; i++)
        dlts[i] = w->dlt[i];
    return w->nif;
}
