/* tls.c — TLS record and handshake layers of both directions of a flow, as
 * far as they travel in clear (RFC 5246 §6.2 and §7.4, RFC 8446 §4 and §5.1,
 * server_name RFC 6066 §3, GREASE RFC 8701, JA3 and JA3S as Salesforce
 * published them). The contract, the buffers made and the rules on lengths
 * are in tls.h.
 *
 * Record (RFC 5246 §6.2.1), 5 bytes of header:
 *     +--------+--------+--------+--------+--------+------------------+
 *     |  type  | major  | minor  |     length      | fragment ...     |
 *     +--------+--------+--------+--------+--------+------------------+
 *     type: 20 change_cipher_spec, 21 alert, 22 handshake,
 *           23 application_data, 24 heartbeat
 * Handshake message (§7.4), 4 bytes of header, carried by one or more
 * handshake records, several per record too:
 *     +--------+--------+--------+--------+---------------------------+
 *     |  type  |          length          | body ...                  |
 *     +--------+--------+--------+--------+---------------------------+
 * ClientHello (§7.4.1.2): client_version(2) random(32) session_id<0..32>
 *   cipher_suites<2..2^16-2> compression_methods<1..2^8-1>
 *   [extensions<0..2^16-1>: type(2) length(2) data]
 * ServerHello (§7.4.1.3): server_version(2) random(32) session_id<0..32>
 *   cipher_suite(2) compression_method(1) [extensions]
 * Certificate (§7.4.2): certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>
 * server_name (RFC 6066 §3): ServerNameList<1..2^16-1> of name_type(1)
 *   HostName<1..2^16-1>
 *
 * Per direction, two nested state machines:
 *     record:     HEADER --5 bytes--> BODY --length bytes--> HEADER
 *     handshake:  HEADER --4 bytes--> BODY --length bytes--> (message) --> HEADER
 * the handshake one fed only with the bodies of handshake records.
 *
 * Invariants:
 *  1. Every read of message bytes goes through a checked reader (rd_*, over
 *     cg_span_at); nothing outside a message's [p, p+len) is read. Lengths are
 *     at most 24 bits, offsets uint32_t: no sum wraps.
 *  2. A state's buffer is held by at most one direction (buf_dir), and only
 *     while that direction's current message is being kept; buf_len <=
 *     buf_size always.
 *  3. A state is on exactly one list: the free list (owner NULL) or the LRU
 *     (owner the cg_tls_flow whose .state names it). A flow is F_ACTIVE iff
 *     it names a state that names it back.
 *  4. After create, the only allocations are OpenSSL's, inside d2i_X509 and
 *     the calls on the certificate it returns, once per Certificate message;
 *     the certificate is freed before the callback. (A certificate OpenSSL
 *     refuses leaves errors in its per-thread queue; ERR_clear_error empties
 *     it, and OpenSSL keeps the queue's text buffers for the next errors.) MD5 uses the low-level
 *     MD5_* functions on a stack context: OpenSSL 3's EVP digests allocate a
 *     context on every init, MD5_Init does not (hence
 *     OPENSSL_SUPPRESS_DEPRECATED).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "sensor/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/md5.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "sensor/extract.h"
#include "sensor/reasm.h"

#define REC_HDR 5u
#define HS_HDR 4u
#define PLAIN_MAX 16384u            /* 2^14: a plaintext fragment */
#define REC_MAX (PLAIN_MAX + 2048u) /* a TLSCiphertext fragment */
#define NAME_TXT 8192u              /* subject, issuer text */
#define SERIAL_DER 132u             /* tag, length, up to 128 content octets */
#define NOBUF 2

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11 };
enum { EXT_SNI = 0, EXT_GROUPS = 10, EXT_POINT_FORMATS = 11, EXT_SUPPORTED_VERSIONS = 43 };

/* cg_tls_flow.status */
enum { F_UNKNOWN = 0, F_ACTIVE, F_NOT_TLS, F_DONE, F_LOST, F_NO_STATE };

typedef struct dir {
    uint8_t rhdr[REC_HDR];
    uint8_t rhave; /* record header bytes read; 5: in the body */
    uint8_t rtype;
    uint8_t stopped;
    uint32_t rleft; /* body bytes of the current record still to come */
    uint8_t hhdr[HS_HDR];
    uint8_t hhave;       /* handshake header bytes read; 4: in the body */
    uint8_t keep;        /* the message's bytes go into the state's buffer */
    uint16_t version;    /* tls.version of the direction; 0 until its hello */
    uint32_t hlen, hgot; /* the message's length, and its bytes seen */
} dir;

typedef struct tstate {
    cg_tls_flow *owner;  /* NULL when free */
    uint32_t prev, next; /* LRU (in use) or free list (next); slot + 1, 0: none */
    uint8_t tls13;       /* a ServerHello chose TLS 1.3 */
    uint8_t buf_dir;     /* 0, 1: the direction holding the buffer; NOBUF */
    uint32_t buf_len;
    dir d[2]; /* [1] client->server, [0] server->client */
} tstate;

struct cg_tls {
    cg_tls_config cfg;
    tstate *st;
    uint8_t *bufs;
    uint32_t free_head, lru_head, lru_tail;
    cg_bufset bs;
    char *txt; /* JA3 / JA3S string */
    uint32_t txt_cap;
    char hash[33];
    char subj[NAME_TXT], iss[NAME_TXT];
    char serial[SERIAL_DER * 3];
    cg_tls_stats s;
    cg_tls_fn cb; /* of the call in progress */
    void *ctx;
};

/* ---- checked reader --------------------------------------------------- */

typedef struct rd {
    cg_span s;
    uint32_t off;
    int err; /* a read ran past the end */
} rd;

static rd rd_make(const uint8_t *p, uint32_t len)
{
    rd r = { cg_span_make(p, len), 0, 0 };
    return r;
}

static uint32_t rd_left(const rd *r)
{
    return r->s.len - r->off;
}

static const uint8_t *rd_bytes(rd *r, uint32_t n)
{
    const uint8_t *b = r->err ? NULL : cg_span_at(&r->s, r->off, n);
    if (!b) {
        r->err = 1;
        return NULL;
    }
    r->off += n;
    return b;
}

static uint32_t rd_u8(rd *r)
{
    const uint8_t *b = rd_bytes(r, 1);
    return b ? b[0] : 0;
}

static uint32_t rd_u16(rd *r)
{
    const uint8_t *b = rd_bytes(r, 2);
    return b ? cg_be16(b) : 0;
}

static uint32_t rd_u24(rd *r)
{
    const uint8_t *b = rd_bytes(r, 3);
    return b ? (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2] : 0;
}

/* The next n bytes as a reader of their own. */
static rd rd_sub(rd *r, uint32_t n)
{
    const uint8_t *b = rd_bytes(r, n);
    rd s = rd_make(b, b ? n : 0);
    s.err = b == NULL;
    return s;
}

/* ---- text writer ------------------------------------------------------- */

typedef struct tw {
    char *p;
    uint32_t cap, len; /* cap counts the terminating NUL */
    int over;
} tw;

static void tw_mem(tw *w, const void *b, uint32_t n)
{
    if (w->over || n >= w->cap - w->len) {
        w->over = 1;
        return;
    }
    memcpy(w->p + w->len, b, n);
    w->len += n;
    w->p[w->len] = 0;
}

static void tw_str(tw *w, const char *s)
{
    tw_mem(w, s, (uint32_t)strlen(s));
}

static void tw_u(tw *w, unsigned v)
{
    char b[12];
    int n = snprintf(b, sizeof b, "%u", v);
    tw_mem(w, b, (uint32_t)n);
}

static void tw_hex(tw *w, const uint8_t *b, uint32_t n, const char *sep)
{
    static const char hx[] = "0123456789ABCDEF";
    for (uint32_t i = 0; i < n; i++) {
        char c[2] = { hx[b[i] >> 4], hx[b[i] & 15] };
        if (i && sep)
            tw_str(w, sep);
        tw_mem(w, c, 2);
    }
}

static void tw_utf8(tw *w, uint32_t cp)
{
    uint8_t b[4];
    uint32_t n;
    if (cp > 0x10ffff)
        cp = '?';
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    tw_mem(w, b, n);
}

/* ---- values ------------------------------------------------------------- */

static int is_grease(uint32_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* SSL 3.0 .. TLS 1.3, and the TLS 1.3 drafts (0x7fxx, Facebook's 0xfbxx), as
 * Suricata's list of versions it takes from supported_versions. */
static int version_real(uint32_t v)
{
    return (v >= 0x0300 && v <= 0x0304) || (v >> 8) == 0x7f || (v >= 0xfb14 && v <= 0xfb1a);
}

static int version_13(uint32_t v)
{
    return v == 0x0304 || (v >> 8) == 0x7f || (v >> 8) == 0xfb;
}

static void md5_hex(const char *s, uint32_t n, char out[33])
{
    static const char hx[] = "0123456789abcdef";
    unsigned char d[MD5_DIGEST_LENGTH];
    MD5_CTX c;
    MD5_Init(&c);
    MD5_Update(&c, s, n);
    MD5_Final(d, &c);
    for (int i = 0; i < MD5_DIGEST_LENGTH; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[32] = 0;
}

/* Appends the 16-bit values of r (GREASE left out), '-' between them. */
static void ja3_list16(tw *w, rd r)
{
    int first = 1;
    while (rd_left(&r) >= 2) {
        uint32_t v = rd_u16(&r);
        if (is_grease(v))
            continue;
        if (!first)
            tw_mem(w, "-", 1);
        tw_u(w, v);
        first = 0;
    }
}

static void ja3_list8(tw *w, rd r)
{
    for (int first = 1; rd_left(&r) >= 1; first = 0) {
        if (!first)
            tw_mem(w, "-", 1);
        tw_u(w, rd_u8(&r));
    }
}

static void deliver(cg_tls *e, int to_server)
{
    if (e->bs.present && e->cb)
        e->cb(e->ctx, &e->bs, to_server);
}

/* ---- ClientHello, ServerHello ------------------------------------------ */

/* The server_name extension's first host_name into *sni; 0, or -1 on a lie. */
static int parse_sni(rd x, cg_bufview *sni)
{
    uint32_t list = rd_u16(&x);
    if (x.err || list != rd_left(&x) || list == 0)
        return -1;
    while (rd_left(&x) > 0) {
        uint32_t type = rd_u8(&x);
        uint32_t n = rd_u16(&x);
        const uint8_t *name = rd_bytes(&x, n);
        if (x.err || n == 0)
            return -1;
        if (type == 0 && !sni->p) {
            sni->p = name;
            sni->len = n;
        }
    }
    return 0;
}

static void client_hello(cg_tls *e, tstate *ts, int di, const uint8_t *msg, uint32_t len)
{
    rd r = rd_make(msg, len), ciphers, groups = { 0 }, pfs = { 0 };
    cg_bufview sni = { NULL, 0 };
    tw w = { e->txt, e->txt_cap, 0, 0 };
    int have_groups = 0, have_pfs = 0, lie = 1;
    uint32_t legacy, version;

    e->txt[0] = 0;
    legacy = version = rd_u16(&r);
    rd_bytes(&r, 32);
    uint32_t sid = rd_u8(&r);
    if (!r.err && sid > 32) {
        e->s.invalid++;
        lie = 0;
        goto bad;
    }
    rd_bytes(&r, sid);
    uint32_t cs = rd_u16(&r);
    ciphers = rd_sub(&r, cs);
    uint32_t comp = rd_u8(&r);
    rd_bytes(&r, comp);
    if (r.err || cs == 0 || cs % 2 || comp == 0)
        goto bad;

    tw_u(&w, legacy);
    tw_mem(&w, ",", 1);
    ja3_list16(&w, ciphers);
    tw_mem(&w, ",", 1);
    if (rd_left(&r) > 0) {
        uint32_t xl = rd_u16(&r);
        if (r.err || xl != rd_left(&r))
            goto bad;
        int first = 1;
        while (rd_left(&r) > 0) {
            uint32_t type = rd_u16(&r);
            uint32_t n = rd_u16(&r);
            rd x = rd_sub(&r, n);
            if (r.err)
                goto bad;
            if (!is_grease(type)) {
                if (!first)
                    tw_mem(&w, "-", 1);
                tw_u(&w, type);
                first = 0;
            }
            switch (type) {
            case EXT_SNI:
                if (parse_sni(x, &sni) != 0)
                    goto bad;
                break;
            case EXT_GROUPS: {
                uint32_t l = rd_u16(&x);
                if (x.err || l != rd_left(&x) || l % 2)
                    goto bad;
                if (!have_groups)
                    groups = x, have_groups = 1;
                break;
            }
            case EXT_POINT_FORMATS: {
                uint32_t l = rd_u8(&x);
                if (x.err || l != rd_left(&x))
                    goto bad;
                if (!have_pfs)
                    pfs = x, have_pfs = 1;
                break;
            }
            case EXT_SUPPORTED_VERSIONS: {
                uint32_t l = rd_u8(&x);
                if (x.err || l != rd_left(&x) || l % 2 || l == 0)
                    goto bad;
                while (rd_left(&x) >= 2) {
                    uint32_t v = rd_u16(&x);
                    if (version_real(v)) {
                        version = v;
                        break;
                    }
                }
                break;
            }
            default: break;
            }
        }
    }
    tw_mem(&w, ",", 1);
    if (have_groups)
        ja3_list16(&w, groups);
    tw_mem(&w, ",", 1);
    if (have_pfs)
        ja3_list8(&w, pfs);
    if (w.over) {
        e->s.invalid++;
        lie = 0;
        goto bad;
    }
    md5_hex(w.p, w.len, e->hash);
    e->s.client_hellos++;
    ts->d[di].version = (uint16_t)version;
    cg_bufset_clear(&e->bs);
    if (sni.p)
        cg_bufset_add(&e->bs, CG_BUF_TLS_SNI, sni.p, sni.len);
    cg_bufset_add(&e->bs, CG_BUF_JA3_STRING, (const uint8_t *)w.p, w.len);
    cg_bufset_add(&e->bs, CG_BUF_JA3_HASH, (const uint8_t *)e->hash, 32);
    e->bs.tls_version = (uint16_t)version;
    deliver(e, di);
    return;

bad:
    if (lie)
        e->s.length_lies++;
    if (len >= 2)
        ts->d[di].version = (uint16_t)version;
    if (sni.p) {
        cg_bufset_clear(&e->bs);
        cg_bufset_add(&e->bs, CG_BUF_TLS_SNI, sni.p, sni.len);
        e->bs.tls_version = (uint16_t)version;
        deliver(e, di);
    }
}

static void server_hello(cg_tls *e, tstate *ts, int di, const uint8_t *msg, uint32_t len)
{
    rd r = rd_make(msg, len);
    tw w = { e->txt, e->txt_cap, 0, 0 };
    uint32_t legacy, version;

    e->txt[0] = 0;
    legacy = version = rd_u16(&r);
    rd_bytes(&r, 32);
    uint32_t sid = rd_u8(&r);
    if (!r.err && sid > 32) {
        e->s.invalid++;
        return;
    }
    rd_bytes(&r, sid);
    uint32_t cipher = rd_u16(&r);
    rd_u8(&r);
    if (r.err)
        goto lie;
    tw_u(&w, legacy);
    tw_mem(&w, ",", 1);
    tw_u(&w, cipher);
    tw_mem(&w, ",", 1);
    if (rd_left(&r) > 0) {
        uint32_t xl = rd_u16(&r);
        if (r.err || xl != rd_left(&r))
            goto lie;
        int first = 1;
        while (rd_left(&r) > 0) {
            uint32_t type = rd_u16(&r);
            uint32_t n = rd_u16(&r);
            rd x = rd_sub(&r, n);
            if (r.err)
                goto lie;
            if (!is_grease(type)) {
                if (!first)
                    tw_mem(&w, "-", 1);
                tw_u(&w, type);
                first = 0;
            }
            if (type == EXT_SUPPORTED_VERSIONS) {
                uint32_t v = rd_u16(&x);
                if (x.err || rd_left(&x) != 0)
                    goto lie;
                version = v;
            }
        }
    }
    if (w.over) {
        e->s.invalid++;
        return;
    }
    md5_hex(w.p, w.len, e->hash);
    e->s.server_hellos++;
    ts->d[di].version = (uint16_t)version;
    if (version_13(version))
        ts->tls13 = 1;
    cg_bufset_clear(&e->bs);
    cg_bufset_add(&e->bs, CG_BUF_JA3S_STRING, (const uint8_t *)w.p, w.len);
    cg_bufset_add(&e->bs, CG_BUF_JA3S_HASH, (const uint8_t *)e->hash, 32);
    e->bs.tls_version = (uint16_t)version;
    deliver(e, di);
    return;

lie:
    e->s.length_lies++;
}

/* ---- Certificate --------------------------------------------------------- */

/* The short name Suricata's X.509 parser shows for an attribute. */
static void attr_name(tw *w, const ASN1_OBJECT *obj)
{
    int nid = OBJ_obj2nid(obj);
    switch (nid) {
    case NID_commonName: tw_str(w, "CN"); return;
    case NID_countryName: tw_str(w, "C"); return;
    case NID_localityName: tw_str(w, "L"); return;
    case NID_stateOrProvinceName: tw_str(w, "ST"); return;
    case NID_organizationName: tw_str(w, "O"); return;
    case NID_organizationalUnitName: tw_str(w, "OU"); return;
    case NID_domainComponent: tw_str(w, "DC"); return;
    case NID_pkcs9_emailAddress: tw_str(w, "Email"); return;
    default: break;
    }
    const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
    if (sn) {
        tw_str(w, sn);
        return;
    }
    char oid[128];
    int n = OBJ_obj2txt(oid, sizeof oid, obj, 1);
    if (n <= 0 || n >= (int)sizeof oid)
        w->over = 1;
    else
        tw_str(w, oid);
}

static void attr_value(tw *w, const ASN1_STRING *v)
{
    const uint8_t *b = ASN1_STRING_get0_data(v);
    int n = ASN1_STRING_length(v);
    if (!b || n < 0) {
        w->over = 1;
        return;
    }
    switch (ASN1_STRING_type(v)) {
    case V_ASN1_UTF8STRING:
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_T61STRING:
    case V_ASN1_NUMERICSTRING:
    case V_ASN1_VISIBLESTRING:
    case V_ASN1_GENERALSTRING:
    case V_ASN1_GRAPHICSTRING:
    case V_ASN1_VIDEOTEXSTRING:
    case V_ASN1_OBJECT_DESCRIPTOR: tw_mem(w, b, (uint32_t)n); return;
    case V_ASN1_BMPSTRING:
        for (int i = 0; i + 1 < n; i += 2)
            tw_utf8(w, (uint32_t)b[i] << 8 | b[i + 1]);
        return;
    case V_ASN1_UNIVERSALSTRING:
        for (int i = 0; i + 3 < n; i += 4)
            tw_utf8(w, cg_be32(b + i));
        return;
    default: tw_hex(w, b, (uint32_t)n, NULL); return;
    }
}

/* A name as Suricata prints it (see tls.h); 0, or -1 when it does not fit. */
static int name_text(const X509_NAME *nm, char *out, uint32_t cap, uint32_t *len)
{
    tw w = { out, cap, 0, 0 };
    int n = X509_NAME_entry_count(nm), prev = -1;
    out[0] = 0;
    for (int i = 0; i < n && !w.over; i++) {
        const X509_NAME_ENTRY *ent = X509_NAME_get_entry(nm, i);
        int set = X509_NAME_ENTRY_set(ent);
        if (i)
            tw_str(&w, set == prev ? " + " : ", ");
        prev = set;
        attr_name(&w, X509_NAME_ENTRY_get_object(ent));
        tw_mem(&w, "=", 1);
        attr_value(&w, X509_NAME_ENTRY_get_data(ent));
    }
    *len = w.len;
    return w.over ? -1 : 0;
}

/* The serial's DER content octets, "0A:1B:..."; 0, or -1. */
static int serial_text(const ASN1_INTEGER *sn, char *out, uint32_t cap, uint32_t *len)
{
    unsigned char der[SERIAL_DER], *pp = der;
    int dl = i2d_ASN1_INTEGER(sn, NULL);
    if (dl < 3 || dl > (int)sizeof der)
        return -1;
    if (i2d_ASN1_INTEGER(sn, &pp) != dl)
        return -1;
    rd r = rd_make(der, (uint32_t)dl);
    uint32_t l = rd_u8(&r) == V_ASN1_INTEGER ? rd_u8(&r) : 0x100;
    if (l == 0x81)
        l = rd_u8(&r);
    else if (l >= 0x80)
        return -1;
    const uint8_t *c = rd_bytes(&r, l);
    if (!c || l == 0 || rd_left(&r) != 0)
        return -1;
    tw w = { out, cap, 0, 0 };
    tw_hex(&w, c, l, ":");
    *len = w.len;
    return w.over ? -1 : 0;
}

/* Subject, issuer and serial of the first certificate into the bufset. */
static void first_cert(cg_tls *e, const uint8_t *der, uint32_t len)
{
    const unsigned char *q = der;
    uint32_t sl, il, nl;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    if (!x) {
        ERR_clear_error();
        e->s.cert_parse_errors++;
        return;
    }
    int bad = name_text(X509_get_subject_name(x), e->subj, sizeof e->subj, &sl) != 0;
    bad |= name_text(X509_get_issuer_name(x), e->iss, sizeof e->iss, &il) != 0;
    bad |= serial_text(X509_get0_serialNumber(x), e->serial, sizeof e->serial, &nl) != 0;
    X509_free(x);
    ERR_clear_error();
    if (bad) {
        e->s.cert_parse_errors++;
        return;
    }
    cg_bufset_add(&e->bs, CG_BUF_TLS_CERT_SUBJECT, (const uint8_t *)e->subj, sl);
    cg_bufset_add(&e->bs, CG_BUF_TLS_CERT_ISSUER, (const uint8_t *)e->iss, il);
    cg_bufset_add(&e->bs, CG_BUF_TLS_CERT_SERIAL, (const uint8_t *)e->serial, nl);
}

/* have bytes of a message of full bytes (have < full: its kept prefix). */
static void certificate(cg_tls *e, tstate *ts, int di, const uint8_t *msg, uint32_t have,
                        uint32_t full)
{
    rd r = rd_make(msg, have);
    int lie = 0;
    uint32_t list = rd_u24(&r);

    cg_bufset_clear(&e->bs);
    if (r.err || list + 3 != full) {
        lie = 1;
    } else {
        uint32_t ncert = 0;
        /* A certificate cut by the end of a kept prefix (have < full) is
         * not a lie; one that runs past the message is. */
        while (rd_left(&r) > 0) {
            uint32_t at = r.off;
            uint32_t n = rd_u24(&r);
            if (r.err) {
                lie = have == full || at + 3 > full;
                break;
            }
            if (n == 0) {
                lie = 1;
                break;
            }
            const uint8_t *c = rd_bytes(&r, n);
            if (!c) {
                lie = have == full || r.off + n > full;
                break;
            }
            if (ncert++ == 0)
                first_cert(e, c, n);
            cg_bufset_add(&e->bs, CG_BUF_TLS_CERTS, c, n);
        }
    }
    if (lie)
        e->s.length_lies++;
    else if (have == full)
        e->s.certificates++;
    e->bs.tls_version = ts->d[di].version;
    deliver(e, di);
}

static void message(cg_tls *e, tstate *ts, int di, uint32_t type, const uint8_t *p, uint32_t have,
                    uint32_t full)
{
    if (type == HS_CERTIFICATE) {
        certificate(e, ts, di, p, have, full);
        return;
    }
    if (have < full)
        return; /* an oversize hello: counted, dropped */
    if (type == HS_CLIENT_HELLO)
        client_hello(e, ts, di, p, have);
    else
        server_hello(e, ts, di, p, have);
}

/* ---- pool ------------------------------------------------------------------ */

static tstate *slot(const cg_tls *e, uint32_t i)
{
    return &e->st[i - 1];
}

static uint8_t *slot_buf(const cg_tls *e, uint32_t i)
{
    return e->bufs + (size_t)(i - 1) * e->cfg.buf_size;
}

static void lru_unlink(cg_tls *e, uint32_t i)
{
    tstate *t = slot(e, i);
    if (t->prev)
        slot(e, t->prev)->next = t->next;
    else
        e->lru_head = t->next;
    if (t->next)
        slot(e, t->next)->prev = t->prev;
    else
        e->lru_tail = t->prev;
    t->prev = t->next = 0;
}

static void lru_append(cg_tls *e, uint32_t i)
{
    tstate *t = slot(e, i);
    t->prev = e->lru_tail;
    t->next = 0;
    if (e->lru_tail)
        slot(e, e->lru_tail)->next = i;
    else
        e->lru_head = i;
    e->lru_tail = i;
}

static void state_release(cg_tls *e, uint32_t i)
{
    tstate *t = slot(e, i);
    lru_unlink(e, i);
    t->owner = NULL;
    t->next = e->free_head;
    e->free_head = i;
    e->s.states_used--;
}

/* A state for f: a free one, else (unless no_steal) the least recently fed. */
static uint32_t state_take(cg_tls *e, cg_tls_flow *f)
{
    uint32_t i = e->free_head;
    if (i) {
        e->free_head = slot(e, i)->next;
        if (++e->s.states_used > e->s.states_peak)
            e->s.states_peak = e->s.states_used;
    } else {
        e->s.pool_exhausted++;
        if (e->cfg.no_steal || !e->lru_head)
            return 0;
        i = e->lru_head;
        lru_unlink(e, i);
        cg_tls_flow *victim = slot(e, i)->owner;
        victim->status = F_LOST;
        victim->state = 0;
        e->s.steals++;
    }
    tstate *t = slot(e, i);
    memset(t, 0, sizeof *t);
    t->owner = f;
    t->buf_dir = NOBUF;
    lru_append(e, i);
    return i;
}

/* ---- the two layers ---------------------------------------------------------- */

static int hs_in_progress(const dir *d)
{
    return d->hhave > 0;
}

static void hs_drop(tstate *ts, dir *d, int di)
{
    if (d->keep && ts->buf_dir == di)
        ts->buf_dir = NOBUF;
    d->keep = 0;
    d->hhave = 0;
}

static void dir_stop(tstate *ts, int di)
{
    hs_drop(ts, &ts->d[di], di);
    ts->d[di].stopped = 1;
}

/* Bytes of handshake records, in order. */
static void hs_input(cg_tls *e, tstate *ts, uint32_t si, int di, const uint8_t *p, uint32_t n)
{
    dir *d = &ts->d[di];
    while (n > 0) {
        if (d->hhave < HS_HDR) {
            uint32_t take = HS_HDR - d->hhave < n ? HS_HDR - d->hhave : n;
            memcpy(d->hhdr + d->hhave, p, take);
            d->hhave = (uint8_t)(d->hhave + take);
            p += take, n -= take;
            if (d->hhave < HS_HDR)
                break;
            d->hlen = (uint32_t)d->hhdr[1] << 16 | (uint32_t)d->hhdr[2] << 8 | d->hhdr[3];
            d->hgot = 0;
            d->keep = 0;
            uint32_t type = d->hhdr[0];
            int wanted =
                type == HS_CLIENT_HELLO || type == HS_SERVER_HELLO || type == HS_CERTIFICATE;
            if (wanted && d->hlen <= n) {
                /* whole in this record and piece: in place */
                e->s.handshakes++;
                message(e, ts, di, type, p, d->hlen, d->hlen);
                p += d->hlen, n -= d->hlen;
                d->hhave = 0;
                continue;
            }
            if (wanted) {
                if (d->hlen > e->cfg.buf_size)
                    e->s.oversize++;
                if (ts->buf_dir == NOBUF || ts->buf_dir == di) {
                    ts->buf_dir = (uint8_t)di;
                    ts->buf_len = 0;
                    d->keep = 1;
                } else {
                    e->s.buf_busy++;
                }
            }
            if (d->hlen == 0) {
                e->s.handshakes++;
                d->hhave = 0;
            }
            continue;
        }
        uint32_t take = d->hlen - d->hgot < n ? d->hlen - d->hgot : n;
        if (d->keep) {
            uint32_t room = e->cfg.buf_size - ts->buf_len;
            uint32_t c = take < room ? take : room;
            memcpy(slot_buf(e, si) + ts->buf_len, p, c);
            ts->buf_len += c;
        }
        d->hgot += take;
        p += take, n -= take;
        if (d->hgot == d->hlen) {
            e->s.handshakes++;
            if (d->keep) {
                message(e, ts, di, d->hhdr[0], slot_buf(e, si), ts->buf_len, d->hlen);
                ts->buf_dir = NOBUF;
                d->keep = 0;
            }
            d->hhave = 0;
        }
    }
}

/* Stream bytes of one direction, in order. */
static void rec_input(cg_tls *e, tstate *ts, uint32_t si, int di, const uint8_t *p, uint32_t n)
{
    dir *d = &ts->d[di];
    while (n > 0 && !d->stopped) {
        if (d->rhave < REC_HDR) {
            uint32_t take = REC_HDR - d->rhave < n ? REC_HDR - d->rhave : n;
            memcpy(d->rhdr + d->rhave, p, take);
            d->rhave = (uint8_t)(d->rhave + take);
            p += take, n -= take;
            if (d->rhave < REC_HDR)
                break;
            e->s.records++;
            uint32_t type = d->rhdr[0], rlen = cg_be16(d->rhdr + 3);
            if (type < CT_CCS || type > CT_HEARTBEAT || d->rhdr[1] != 3 || d->rhdr[2] > 4) {
                e->s.invalid++;
                dir_stop(ts, di);
                break;
            }
            if (rlen > REC_MAX) {
                e->s.length_lies++;
                dir_stop(ts, di);
                break;
            }
            if (type != CT_HANDSHAKE && hs_in_progress(d)) {
                e->s.length_lies++; /* the message claimed more than its records */
                hs_drop(ts, d, di);
            }
            if (type == CT_APPDATA || (type == CT_CCS && !ts->tls13)) {
                e->s.encrypted++;
                dir_stop(ts, di);
                break;
            }
            if (type == CT_HANDSHAKE && rlen == 0)
                e->s.length_lies++;
            d->rtype = (uint8_t)type;
            d->rleft = rlen;
            if (rlen == 0)
                d->rhave = 0;
            continue;
        }
        uint32_t take = d->rleft < n ? d->rleft : n;
        if (d->rtype == CT_HANDSHAKE)
            hs_input(e, ts, si, di, p, take);
        p += take, n -= take;
        d->rleft -= take;
        if (d->rleft == 0)
            d->rhave = 0;
    }
}

/* The direction ends here: inside a record or message, it was truncated. */
static void dir_end(cg_tls *e, tstate *ts, int di)
{
    dir *d = &ts->d[di];
    if (d->stopped)
        return;
    if (d->rhave > 0 || d->hhave > 0)
        e->s.truncated++;
    dir_stop(ts, di);
}

/* ---- API ---------------------------------------------------------------------- */

/* The first 6 client bytes: a handshake record, version 3.0-3.4, a length of
 * 1..2^14, carrying a ClientHello. */
static int looks_like_hello(const uint8_t h[6])
{
    uint32_t len = cg_be16(h + 3);
    return h[0] == CT_HANDSHAKE && h[1] == 3 && h[2] <= 4 && len >= 1 && len <= PLAIN_MAX &&
        h[5] == HS_CLIENT_HELLO;
}

int cg_tls_create(cg_tls **out, const cg_tls_config *cfg)
{
    cg_tls_config c = cfg ? *cfg : (cg_tls_config){ 0 };
    if (!c.max_flows)
        c.max_flows = CG_TLS_DEFAULT_FLOWS;
    if (!c.buf_size)
        c.buf_size = CG_TLS_DEFAULT_BUF;
    if (c.buf_size < CG_TLS_MIN_BUF || c.buf_size > CG_TLS_MAX_BUF || c.max_flows > (1u << 24))
        return -1;

    cg_tls *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->cfg = c;
    e->txt_cap = 4 * (c.buf_size > REC_MAX ? c.buf_size : REC_MAX) + 64;
    e->st = calloc(c.max_flows, sizeof *e->st);
    e->bufs = malloc((size_t)c.max_flows * c.buf_size);
    e->txt = malloc(e->txt_cap);
    if (!e->st || !e->bufs || !e->txt)
        goto fail;
    for (uint32_t i = c.max_flows; i >= 1; i--) {
        e->st[i - 1].next = e->free_head;
        e->free_head = i;
    }
    e->s.states_total = c.max_flows;
    e->s.mem_bytes = sizeof *e + (uint64_t)c.max_flows * (sizeof *e->st + c.buf_size) + e->txt_cap;
    *out = e;
    return 0;

fail:
    free(e->txt);
    free(e->bufs);
    free(e->st);
    free(e);
    return -1;
}

void cg_tls_destroy(cg_tls *e)
{
    if (!e)
        return;
    free(e->txt);
    free(e->bufs);
    free(e->st);
    free(e);
}

/* f's state when f is active and its state still names it; else NULL. */
static tstate *flow_state(cg_tls *e, cg_tls_flow *f)
{
    if (f->status != F_ACTIVE)
        return NULL;
    if (f->state == 0 || f->state > e->cfg.max_flows || slot(e, f->state)->owner != f) {
        f->status = F_LOST;
        f->state = 0;
        return NULL;
    }
    return slot(e, f->state);
}

int cg_tls_feed(cg_tls *e, cg_tls_flow *f, int to_server, const uint8_t *data, uint32_t len,
                uint32_t flags, cg_tls_fn cb, void *ctx)
{
    int di = to_server ? 1 : 0;
    tstate *ts;

    static const uint8_t none[1];
    if (!data) {
        data = none;
        len = 0;
    }
    e->cb = cb;
    e->ctx = ctx;
    if (f->status == F_UNKNOWN) {
        if (len == 0 && !(flags & (CG_REASM_END | CG_REASM_DEPTH | CG_REASM_GAP)))
            return 1;
        if (!di || (flags & CG_REASM_GAP)) {
            /* the server spoke first, or the start is missing */
            f->status = F_NOT_TLS;
            e->s.not_tls++;
            return 0;
        }
        uint32_t take = 6u - f->have < len ? 6u - f->have : len;
        memcpy(f->hdr + f->have, data, take);
        f->have = (uint8_t)(f->have + take);
        data += take, len -= take;
        if (f->have < 6) {
            if (flags & (CG_REASM_END | CG_REASM_DEPTH)) {
                f->status = F_NOT_TLS;
                e->s.not_tls++;
                return 0;
            }
            return 1;
        }
        if (!looks_like_hello(f->hdr)) {
            f->status = F_NOT_TLS;
            e->s.not_tls++;
            return 0;
        }
        e->s.flows++;
        uint32_t si = state_take(e, f);
        if (!si) {
            f->status = F_NO_STATE;
            return 0;
        }
        f->state = si;
        f->status = F_ACTIVE;
        ts = slot(e, si);
        rec_input(e, ts, si, 1, f->hdr, 6);
    } else {
        if (!(ts = flow_state(e, f)))
            return 0;
        lru_unlink(e, f->state);
        lru_append(e, f->state);
        if ((flags & CG_REASM_GAP) && !ts->d[di].stopped) {
            e->s.gaps++;
            dir_stop(ts, di);
        }
    }
    rec_input(e, ts, f->state, di, data, len);
    if (flags & (CG_REASM_END | CG_REASM_DEPTH))
        dir_end(e, ts, di);
    if (ts->d[0].stopped && ts->d[1].stopped) {
        state_release(e, f->state);
        f->state = 0;
        f->status = F_DONE;
        return 0;
    }
    return 1;
}

void cg_tls_end(cg_tls *e, cg_tls_flow *f)
{
    tstate *ts = flow_state(e, f);
    if (ts) {
        dir_end(e, ts, 0);
        dir_end(e, ts, 1);
        state_release(e, f->state);
    }
    memset(f, 0, sizeof *f);
}

void cg_tls_get_stats(const cg_tls *e, cg_tls_stats *out)
{
    *out = e->s;
}
