/* test_tls.c — unit tests of sensor/tls: a ClientHello with SNI
 * "dichvucong.tuyenquang.gov.vn" and GREASE values, and a published JA3;
 * ServerHellos of TLS 1.2 and 1.3 (JA3S, tls.version both ways); a chain of
 * two certificates made here with OpenSSL (EC keys; UTF-8, BMPString and
 * multi-valued names; a serial with its top bit set) in one Certificate
 * message, cut into records of several sizes and the stream split at every
 * offset, byte by byte and at random; the end of parsing at ChangeCipherSpec
 * and application data; lying lengths of every kind (records, handshake
 * messages, extensions, the SNI list and names, certificates, zero lengths);
 * messages over the buffer; the buffer held by the other direction; gaps;
 * flows that are not TLS; the pool exhausted, with and without stealing;
 * OpenSSL's allocations counted (none for hellos, all freed for
 * certificates); and random mutations and random bytes fed in exact-size
 * pieces, every hand-out checked (ja3.hash is the MD5 of ja3.string).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sensor/extract.h"
#include "sensor/reasm.h"
#include "sensor/tls.h"
#include "tests/check.h"

/* ---- OpenSSL's allocations, counted ------------------------------------- */

static long ossl_allocs, ossl_frees;

static void *c_malloc(size_t n, const char *f, int l)
{
    (void)f, (void)l;
    ossl_allocs++;
    return malloc(n);
}

static void *c_realloc(void *p, size_t n, const char *f, int l)
{
    (void)f, (void)l;
    if (!p)
        ossl_allocs++;
    return realloc(p, n);
}

static void c_free(void *p, const char *f, int l)
{
    (void)f, (void)l;
    if (p)
        ossl_frees++;
    free(p);
}

/* ---- byte builder ----------------------------------------------------------- */

typedef struct wb {
    uint8_t *b;
    uint32_t n, cap;
} wb;

static wb wb_new(void)
{
    wb w = { malloc(1 << 16), 0, 1 << 16 };
    if (!w.b)
        abort();
    return w;
}

static void wb_free(wb *w)
{
    free(w->b);
    w->b = NULL;
}
static void u8(wb *w, unsigned v)
{
    if (w->n < w->cap)
        w->b[w->n++] = (uint8_t)v;
}
static void u16(wb *w, unsigned v)
{
    u8(w, v >> 8);
    u8(w, v);
}
static void u24(wb *w, uint32_t v)
{
    u8(w, v >> 16);
    u16(w, v & 0xffff);
}
static void put(wb *w, const void *p, uint32_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void patch16(wb *w, uint32_t at, unsigned v)
{
    w->b[at] = (uint8_t)(v >> 8);
    w->b[at + 1] = (uint8_t)v;
}

static void patch24(wb *w, uint32_t at, uint32_t v)
{
    w->b[at] = (uint8_t)(v >> 16);
    patch16(w, at + 1, v & 0xffff);
}

/* An extension with raw data. */
static void ext(wb *x, unsigned type, const void *data, uint32_t n)
{
    u16(x, type);
    u16(x, n);
    put(x, data, n);
}

static void ext_sni(wb *x, const char *name)
{
    uint32_t l = (uint32_t)strlen(name);
    u16(x, 0);
    u16(x, l + 5);
    u16(x, l + 3);
    u8(x, 0);
    u16(x, l);
    put(x, name, l);
}

static void ext_list16(wb *x, unsigned type, const uint16_t *v, int n, int len_bytes)
{
    u16(x, type);
    u16(x, (unsigned)(2 * n + len_bytes));
    if (len_bytes == 2)
        u16(x, (unsigned)(2 * n));
    else
        u8(x, (unsigned)(2 * n));
    for (int i = 0; i < n; i++)
        u16(x, v[i]);
}

/* A handshake message: type, 24-bit length, body. */
static void hs(wb *m, unsigned type, const wb *body)
{
    u8(m, type);
    u24(m, body->n);
    put(m, body->b, body->n);
}

/* ClientHello into m (with its handshake header); exts NULL: none at all. */
static void client_hello(wb *m, unsigned version, const uint16_t *cs, int ncs, const wb *exts)
{
    wb b = wb_new();
    u16(&b, version);
    for (int i = 0; i < 32; i++)
        u8(&b, (unsigned)i * 7);
    u8(&b, 32);
    for (int i = 0; i < 32; i++)
        u8(&b, 0xa0 + (unsigned)i);
    u16(&b, (unsigned)(2 * ncs));
    for (int i = 0; i < ncs; i++)
        u16(&b, cs[i]);
    u8(&b, 1);
    u8(&b, 0);
    if (exts) {
        u16(&b, exts->n);
        put(&b, exts->b, exts->n);
    }
    hs(m, 1, &b);
    wb_free(&b);
}

static void server_hello(wb *m, unsigned version, unsigned cipher, const wb *exts)
{
    wb b = wb_new();
    u16(&b, version);
    for (int i = 0; i < 32; i++)
        u8(&b, 0x55);
    u8(&b, 32);
    for (int i = 0; i < 32; i++)
        u8(&b, 0xa0 + (unsigned)i);
    u16(&b, cipher);
    u8(&b, 0);
    if (exts) {
        u16(&b, exts->n);
        put(&b, exts->b, exts->n);
    }
    hs(m, 2, &b);
    wb_free(&b);
}

/* Records of type carrying p[0..n), at most frag bytes each. */
static void records(wb *out, unsigned type, const uint8_t *p, uint32_t n, uint32_t frag)
{
    do {
        uint32_t l = n < frag ? n : frag;
        u8(out, type);
        u16(out, 0x0303);
        u16(out, l);
        put(out, p, l);
        p += l, n -= l;
    } while (n > 0);
}

/* ---- what the callback saw ----------------------------------------------- */

typedef struct seen {
    int ch, sh, cert; /* callbacks by kind */
    int calls_to_server, calls_to_client;
    char sni[300], ja3[2048], ja3h[40], ja3s[512], ja3sh[40];
    char subj[1024], iss[1024], serial[256];
    uint16_t ver_ch, ver_sh, ver_cert;
    int ncerts;
    uint32_t cert_len[CG_BUF_MAX_INST];
    uint8_t cert0[4096];
    int has_subj;
    unsigned bad; /* contract violations */
} seen;

static void copy_view(char *dst, size_t cap, const cg_bufview *v)
{
    size_t n = v->len < cap - 1 ? v->len : cap - 1;
    memcpy(dst, v->p, n);
    dst[n] = 0;
}

static void md5_ref(const uint8_t *p, uint32_t n, char out[33])
{
    unsigned char d[16];
    unsigned int dl = 0;
    EVP_Digest(p, n, d, &dl, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int has(const cg_bufset *b, int id)
{
    return (b->present >> id) & 1;
}

static void on_msg(void *ctx, const cg_bufset *b, int to_server)
{
    seen *s = ctx;
    long a0 = ossl_allocs, f0 = ossl_frees;
    if (to_server)
        s->calls_to_server++;
    else
        s->calls_to_client++;
    for (int id = 0; id < CG_BUF_COUNT; id++) {
        if (has(b, id) != (b->n[id] > 0))
            s->bad++;
        for (int i = 0; i < b->n[id]; i++)
            if (!b->v[id][i].p && b->v[id][i].len)
                s->bad++;
    }
    if (has(b, CG_BUF_JA3_STRING) || has(b, CG_BUF_TLS_SNI)) {
        s->ch++;
        s->ver_ch = b->tls_version;
        s->bad += !to_server;
        if (has(b, CG_BUF_TLS_SNI))
            copy_view(s->sni, sizeof s->sni, &b->v[CG_BUF_TLS_SNI][0]);
        if (has(b, CG_BUF_JA3_STRING) != has(b, CG_BUF_JA3_HASH))
            s->bad++;
        if (has(b, CG_BUF_JA3_STRING)) {
            char ref[33];
            copy_view(s->ja3, sizeof s->ja3, &b->v[CG_BUF_JA3_STRING][0]);
            copy_view(s->ja3h, sizeof s->ja3h, &b->v[CG_BUF_JA3_HASH][0]);
            md5_ref(b->v[CG_BUF_JA3_STRING][0].p, b->v[CG_BUF_JA3_STRING][0].len, ref);
            s->bad += b->v[CG_BUF_JA3_HASH][0].len != 32 || strcmp(ref, s->ja3h) != 0;
        }
    }
    if (has(b, CG_BUF_JA3S_STRING)) {
        char ref[33];
        s->sh++;
        s->ver_sh = b->tls_version;
        copy_view(s->ja3s, sizeof s->ja3s, &b->v[CG_BUF_JA3S_STRING][0]);
        copy_view(s->ja3sh, sizeof s->ja3sh, &b->v[CG_BUF_JA3S_HASH][0]);
        md5_ref(b->v[CG_BUF_JA3S_STRING][0].p, b->v[CG_BUF_JA3S_STRING][0].len, ref);
        s->bad += strcmp(ref, s->ja3sh) != 0;
    }
    if (has(b, CG_BUF_TLS_CERTS) || has(b, CG_BUF_TLS_CERT_SUBJECT)) {
        s->cert++;
        s->ver_cert = b->tls_version;
        s->ncerts = b->n[CG_BUF_TLS_CERTS];
        for (int i = 0; i < b->n[CG_BUF_TLS_CERTS]; i++)
            s->cert_len[i] = b->v[CG_BUF_TLS_CERTS][i].len;
        if (s->ncerts && b->v[CG_BUF_TLS_CERTS][0].len <= sizeof s->cert0)
            memcpy(s->cert0, b->v[CG_BUF_TLS_CERTS][0].p, b->v[CG_BUF_TLS_CERTS][0].len);
        s->has_subj = has(b, CG_BUF_TLS_CERT_SUBJECT);
        if (s->has_subj) {
            copy_view(s->subj, sizeof s->subj, &b->v[CG_BUF_TLS_CERT_SUBJECT][0]);
            copy_view(s->iss, sizeof s->iss, &b->v[CG_BUF_TLS_CERT_ISSUER][0]);
            copy_view(s->serial, sizeof s->serial, &b->v[CG_BUF_TLS_CERT_SERIAL][0]);
        }
        s->bad += has(b, CG_BUF_TLS_CERT_SUBJECT) != has(b, CG_BUF_TLS_CERT_ISSUER);
    }
    /* the test's own OpenSSL use above is not the parser's */
    ossl_allocs = a0, ossl_frees = f0;
}

/* Feeds p[0..n) cut at cuts[] (sorted), each piece an exact-size copy.
 * Returns what the last call returned. */
static int feed_cut(cg_tls *e, cg_tls_flow *f, int to_server, const uint8_t *p, uint32_t n,
                    const uint32_t *cuts, int ncuts, uint32_t last_flags, seen *s)
{
    uint32_t at = 0;
    int rc = 1;
    for (int i = 0; i <= ncuts; i++) {
        uint32_t to = i < ncuts ? cuts[i] : n;
        uint32_t len = to - at;
        uint8_t *piece = malloc(len ? len : 1);
        if (!piece)
            abort();
        memcpy(piece, p + at, len);
        rc = cg_tls_feed(e, f, to_server, piece, len, i == ncuts ? last_flags : 0, on_msg, s);
        free(piece);
        at = to;
    }
    return rc;
}

static int feed(cg_tls *e, cg_tls_flow *f, int to_server, const wb *w, uint32_t flags, seen *s)
{
    return feed_cut(e, f, to_server, w->b, w->n, NULL, 0, flags, s);
}

static cg_tls *engine(uint32_t flows, uint32_t buf, int no_steal)
{
    cg_tls *e = NULL;
    cg_tls_config c = { flows, buf, no_steal };
    if (cg_tls_create(&e, &c) != 0)
        abort();
    return e;
}

static cg_tls_stats stats(const cg_tls *e)
{
    cg_tls_stats s;
    cg_tls_get_stats(e, &s);
    return s;
}

/* ---- the test traffic ---------------------------------------------------------- */

static const char *SNI = "dichvucong.tuyenquang.gov.vn";
static const uint16_t CIPHERS[] = { 0x2a2a, 4865, 4866, 4867, 49195, 49199 };
static const char *JA3_STR =
    "771,4865-4866-4867-49195-49199,0-23-65281-10-11-35-16-13-43-51,29-23-24,0";
static const char *JA3_MD5 = "8a0f9a058a7cc2540ee79ab187ea1faf"; /* md5sum of JA3_STR */

/* A browser-like ClientHello with GREASE: cipher, extension, group, version. */
static void modern_hello(wb *m, int tls13)
{
    wb x = wb_new();
    ext(&x, 0x0a0a, "", 0);
    ext_sni(&x, SNI);
    ext(&x, 23, "", 0);
    ext(&x, 65281, "\0", 1);
    static const uint16_t groups[] = { 0x1a1a, 29, 23, 24 };
    ext_list16(&x, 10, groups, 4, 2);
    ext(&x, 11, "\x01\x00", 2);
    ext(&x, 35, "", 0);
    ext(&x, 16, "\x00\x0c\x02h2\x08http/1.1", 14);
    static const uint16_t sigs[] = { 0x0403, 0x0804, 0x0401 };
    ext_list16(&x, 13, sigs, 3, 2);
    static const uint16_t v13[] = { 0x3a3a, 0x0304, 0x0303 };
    static const uint16_t v12[] = { 0x0303 };
    if (tls13)
        ext_list16(&x, 43, v13, 3, 1);
    else
        ext_list16(&x, 43, v12, 1, 1);
    uint8_t ks[4 + 32 + 2] = { 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20 };
    ext(&x, 51, ks, sizeof ks);
    client_hello(m, 0x0303, CIPHERS, 6, &x);
    wb_free(&x);
}

/* ---- certificates ---------------------------------------------------------------- */

typedef struct chain {
    uint8_t *der[2];
    int len[2];
} chain;

static void name_add(X509_NAME *n, const char *field, const char *value)
{
    X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const uint8_t *)value, -1, -1, 0);
}

static X509_NAME *make_name(int leaf)
{
    X509_NAME *n = X509_NAME_new();
    if (leaf) {
        static const uint8_t hanoi_bmp[] = { 0, 'H', 0, 0xe0, 0, ' ', 0, 'N', 0x1e, 0xd9, 0, 'i' };
        name_add(n, "C", "VN");
        name_add(n, "ST", "Tuyên Quang");
        X509_NAME_add_entry_by_txt(n, "L", V_ASN1_BMPSTRING, hanoi_bmp, sizeof hanoi_bmp, -1, 0);
        name_add(n, "O", "Sở Thông tin và Truyền thông");
        name_add(n, "OU", "A");
        /* set -1: into the RDN before, "OU=A + OU=B" */
        X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const uint8_t *)"B", -1, -1, -1);
        name_add(n, "CN", SNI);
        name_add(n, "emailAddress", "admin@tuyenquang.gov.vn");
        name_add(n, "1.3.6.1.4.1.99999.1", "x, y");
    } else {
        name_add(n, "C", "VN");
        name_add(n, "O", "Canh Gac Test CA");
        name_add(n, "CN", "CG Test R1");
    }
    return n;
}

static const char *LEAF_SUBJECT =
    "C=VN, ST=Tuyên Quang, L=Hà Nội, O=Sở Thông tin và Truyền thông, OU=A + OU=B, "
    "CN=dichvucong.tuyenquang.gov.vn, Email=admin@tuyenquang.gov.vn, 1.3.6.1.4.1.99999.1=x, y";
static const char *LEAF_ISSUER = "C=VN, O=Canh Gac Test CA, CN=CG Test R1";
static const char *LEAF_SERIAL = "00:8F:1B:2C:3D:4E:5F";

static int make_cert(uint8_t **der, EVP_PKEY *key, EVP_PKEY *signer, const uint8_t *serial,
                     int slen, X509_NAME *subj, X509_NAME *iss)
{
    X509 *x = X509_new();
    BIGNUM *bn = BN_bin2bn(serial, slen, NULL);
    ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
    X509_set_version(x, 2);
    X509_set_serialNumber(x, sn);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 90);
    X509_set_subject_name(x, subj);
    X509_set_issuer_name(x, iss);
    X509_set_pubkey(x, key);
    if (!X509_sign(x, signer, EVP_sha256()))
        abort();
    *der = NULL;
    int len = i2d_X509(x, der);
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    X509_free(x);
    return len;
}

static chain make_chain(void)
{
    chain c;
    EVP_PKEY *ca = EVP_EC_gen("P-256"), *leaf = EVP_EC_gen("P-256");
    X509_NAME *ln = make_name(1), *cn = make_name(0);
    static const uint8_t s_leaf[] = { 0x8f, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f };
    static const uint8_t s_ca[] = { 0x0a, 0x1b };
    c.len[0] = make_cert(&c.der[0], leaf, ca, s_leaf, sizeof s_leaf, ln, cn);
    c.len[1] = make_cert(&c.der[1], ca, ca, s_ca, sizeof s_ca, cn, cn); /* self-signed */
    X509_NAME_free(ln);
    X509_NAME_free(cn);
    EVP_PKEY_free(ca);
    EVP_PKEY_free(leaf);
    if (c.len[0] <= 0 || c.len[1] <= 0)
        abort();
    return c;
}

static void certificate_msg(wb *m, const chain *c)
{
    wb b = wb_new();
    u24(&b, (uint32_t)(c->len[0] + c->len[1] + 6));
    for (int i = 0; i < 2; i++) {
        u24(&b, (uint32_t)c->len[i]);
        put(&b, c->der[i], (uint32_t)c->len[i]);
    }
    hs(m, 11, &b);
    wb_free(&b);
}

static chain CH;

/* The TLS 1.2 server flight: ServerHello, Certificate, ServerHelloDone, each
 * message in records of at most frag bytes (the Certificate spanning them). */
static void server_flight12(wb *out, uint32_t frag)
{
    wb m = wb_new(), x = wb_new();
    ext(&x, 65281, "\0", 1);
    ext(&x, 0, "", 0);
    ext(&x, 11, "\x01\x00", 2);
    ext(&x, 35, "", 0);
    server_hello(&m, 0x0303, 49199, &x);
    certificate_msg(&m, &CH);
    u8(&m, 14);
    u24(&m, 0);
    records(out, 22, m.b, m.n, frag);
    wb_free(&m);
    wb_free(&x);
}

static void check_full12(const seen *s, const char *what)
{
    unsigned bad = 0;
    bad += s->ch != 1 || s->sh != 1 || s->cert != 1 || s->bad;
    bad += strcmp(s->sni, SNI) != 0;
    bad += strcmp(s->ja3, JA3_STR) != 0 || strcmp(s->ja3h, JA3_MD5) != 0;
    bad += strcmp(s->ja3s, "771,49199,65281-0-11-35") != 0;
    bad += s->ver_ch != 0x0303 || s->ver_sh != 0x0303 || s->ver_cert != 0x0303;
    bad += s->ncerts != 2 || s->cert_len[0] != (uint32_t)CH.len[0] ||
        s->cert_len[1] != (uint32_t)CH.len[1];
    bad += memcmp(s->cert0, CH.der[0], (size_t)CH.len[0]) != 0;
    bad += !s->has_subj || strcmp(s->subj, LEAF_SUBJECT) != 0 || strcmp(s->iss, LEAF_ISSUER) != 0 ||
        strcmp(s->serial, LEAF_SERIAL) != 0;
    if (bad) {
        fprintf(stderr,
                "%s: ch %d sh %d cert %d bad %u sni '%s' ja3 '%s' %s ja3s '%s' "
                "subj '%s' iss '%s' serial '%s' ncerts %d\n",
                what, s->ch, s->sh, s->cert, s->bad, s->sni, s->ja3, s->ja3h, s->ja3s, s->subj,
                s->iss, s->serial, s->ncerts);
    }
    CHECK_EQ_U(bad, 0);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_full12(void)
{
    cg_tls *e = engine(4, 0, 0);
    wb c = wb_new(), sv = wb_new(), m = wb_new();
    modern_hello(&m, 0);
    records(&c, 22, m.b, m.n, 16384);
    server_flight12(&sv, 16384);

    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    long a0 = ossl_allocs;
    CHECK_EQ_U(feed(e, &f, 1, &c, 0, &s), 1);
    CHECK_EQ_U(ossl_allocs, a0); /* no allocation for a ClientHello */
    CHECK_EQ_U(s.ch, 1);
    CHECK_STR(s.sni, SNI);
    CHECK_STR(s.ja3, JA3_STR);
    CHECK_STR(s.ja3h, JA3_MD5);
    CHECK_EQ_U(s.ver_ch, 0x0303);
    long f0 = ossl_frees;
    a0 = ossl_allocs;
    CHECK_EQ_U(feed(e, &f, 0, &sv, 0, &s), 1);
    CHECK(ossl_allocs > a0);                       /* d2i_X509 ... */
    CHECK_EQ_U(ossl_allocs - a0, ossl_frees - f0); /* ... all freed */
    check_full12(&s, "full 1.2");
    CHECK_EQ_U(s.calls_to_server, 1);
    CHECK_EQ_U(s.calls_to_client, 2);

    /* CCS both ways: the flow is done, its state back in the pool */
    wb ccs = wb_new();
    records(&ccs, 20, (const uint8_t *)"\x01", 1, 100);
    records(&ccs, 22, (const uint8_t *)"\x14\x00\x00\x0c garbage!!!!", 16, 100);
    CHECK_EQ_U(feed(e, &f, 1, &ccs, 0, &s), 1);
    CHECK_EQ_U(stats(e).states_used, 1);
    CHECK_EQ_U(feed(e, &f, 0, &ccs, 0, &s), 0);
    CHECK_EQ_U(stats(e).states_used, 0);
    CHECK_EQ_U(feed(e, &f, 1, &c, 0, &s), 0); /* nothing more is parsed */
    CHECK_EQ_U(s.ch, 1);
    cg_tls_stats st = stats(e);
    CHECK_EQ_U(st.encrypted, 2);
    CHECK_EQ_U(st.length_lies, 0);
    CHECK_EQ_U(st.invalid, 0);
    CHECK_EQ_U(st.client_hellos, 1);
    CHECK_EQ_U(st.server_hellos, 1);
    CHECK_EQ_U(st.certificates, 1);
    CHECK_EQ_U(st.handshakes, 4);
    CHECK_EQ_U(st.flows, 1);
    cg_tls_end(e, &f);
    CHECK_EQ_U(f.status, 0);

    wb_free(&ccs);
    wb_free(&c);
    wb_free(&sv);
    wb_free(&m);
    cg_tls_destroy(e);
}

/* The server flight in records of several sizes, the stream split at every
 * offset in two, in three at random, and byte by byte. */
static void test_splits(void)
{
    static const uint32_t frags[] = { 16384, 1000, 333, 64, 1 };
    cg_tls *e = engine(4, 0, 0);
    wb c = wb_new(), m = wb_new();
    modern_hello(&m, 0);
    records(&c, 22, m.b, m.n, 100); /* the ClientHello over 100-byte records */
    unsigned runs = 0;
    for (int fi = 0; fi < 5; fi++) {
        wb sv = wb_new();
        server_flight12(&sv, frags[fi]);
        uint32_t step = frags[fi] == 1 ? 7 : 1;
        for (uint32_t cut = 0; cut <= sv.n; cut += step) {
            seen s;
            memset(&s, 0, sizeof s);
            cg_tls_flow f;
            memset(&f, 0, sizeof f);
            uint32_t ccut = cut % (c.n + 1);
            feed_cut(e, &f, 1, c.b, c.n, &ccut, 1, 0, &s);
            feed_cut(e, &f, 0, sv.b, sv.n, &cut, 1, 0, &s);
            char what[64];
            snprintf(what, sizeof what, "frag %u cut %u", frags[fi], cut);
            check_full12(&s, what);
            cg_tls_end(e, &f);
            runs++;
        }
        /* byte by byte */
        static uint32_t every[1 << 16];
        for (uint32_t i = 0; i < sv.n; i++)
            every[i] = i;
        seen s;
        memset(&s, 0, sizeof s);
        cg_tls_flow f;
        memset(&f, 0, sizeof f);
        feed_cut(e, &f, 1, c.b, c.n, every, (int)c.n, 0, &s);
        feed_cut(e, &f, 0, sv.b, sv.n, every, (int)sv.n, 0, &s);
        check_full12(&s, "byte by byte");
        cg_tls_end(e, &f);
        wb_free(&sv);
    }
    cg_tls_stats st = stats(e);
    CHECK_EQ_U(st.states_used, 0);
    CHECK_EQ_U(st.length_lies, 0);
    CHECK_EQ_U(st.truncated, 0);
    CHECK(runs > 3000);
    wb_free(&c);
    wb_free(&m);
    cg_tls_destroy(e);
}

/* TLS 1.3: versions from supported_versions; CCS is not the end; app data is. */
static void test_tls13(void)
{
    cg_tls *e = engine(4, 0, 0);
    wb c = wb_new(), sv = wb_new(), m = wb_new(), x = wb_new();
    modern_hello(&m, 1);
    records(&c, 22, m.b, m.n, 16384);
    m.n = 0;
    ext(&x, 43, "\x03\x04", 2);
    uint8_t ks[4 + 32] = { 0x00, 0x1d, 0x00, 0x20 };
    ext(&x, 51, ks, sizeof ks);
    server_hello(&m, 0x0303, 4865, &x);
    records(&sv, 22, m.b, m.n, 16384);
    records(&sv, 20, (const uint8_t *)"\x01", 1, 16);
    records(&sv, 23, (const uint8_t *)"encrypted extensions...", 23, 16384);

    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    CHECK_EQ_U(feed(e, &f, 1, &c, 0, &s), 1);
    CHECK_EQ_U(s.ver_ch, 0x0304); /* GREASE skipped, first real version */
    CHECK_STR(s.ja3, JA3_STR);    /* the legacy version in JA3 */
    CHECK_EQ_U(feed(e, &f, 0, &sv, 0, &s), 1);
    CHECK_EQ_U(s.sh, 1);
    CHECK_EQ_U(s.ver_sh, 0x0304);
    CHECK_STR(s.ja3s, "771,4865,43-51");
    /* the client: CCS (kept going), a second ClientHello, then app data */
    wb c2 = wb_new();
    records(&c2, 20, (const uint8_t *)"\x01", 1, 16);
    records(&c2, 22, m.b, 0, 16); /* a zero-length handshake record: a lie */
    m.n = 0;
    wb x2 = wb_new();
    ext_sni(&x2, "second.tuyenquang.gov.vn");
    client_hello(&m, 0x0303, CIPHERS + 1, 2, &x2);
    records(&c2, 22, m.b, m.n, 16384);
    records(&c2, 23, (const uint8_t *)"finished", 8, 100);
    CHECK_EQ_U(feed(e, &f, 1, &c2, 0, &s), 0);
    CHECK_EQ_U(s.ch, 2);
    CHECK_STR(s.sni, "second.tuyenquang.gov.vn");
    CHECK_STR(s.ja3, "771,4865-4866,0,,");
    CHECK_EQ_U(s.ver_ch, 0x0303);
    CHECK_EQ_U(s.bad, 0);
    cg_tls_stats st = stats(e);
    CHECK_EQ_U(st.encrypted, 2);
    CHECK_EQ_U(st.length_lies, 1);
    CHECK_EQ_U(st.states_used, 0);
    cg_tls_end(e, &f);
    wb_free(&c);
    wb_free(&c2);
    wb_free(&sv);
    wb_free(&m);
    wb_free(&x);
    wb_free(&x2);
    cg_tls_destroy(e);
}

/* A published JA3: the string the JA3 README gives for a TLS 1.0 client. */
static void test_known_ja3(void)
{
    cg_tls *e = engine(2, 0, 0);
    static const uint16_t cs[] = { 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4 };
    static const uint16_t groups[] = { 23, 24, 25 };
    wb x = wb_new(), m = wb_new(), c = wb_new();
    ext_sni(&x, "example.vn");
    ext_list16(&x, 10, groups, 3, 2);
    ext(&x, 11, "\x01\x00", 2);
    client_hello(&m, 0x0301, cs, 12, &x);
    records(&c, 22, m.b, m.n, 16384);
    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    feed(e, &f, 1, &c, 0, &s);
    CHECK_STR(s.ja3, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
    CHECK_STR(s.ja3h, "ada70206e40642a3e4461f35503241d5");
    CHECK_EQ_U(s.ver_ch, 0x0301);
    cg_tls_end(e, &f);

    /* no extensions at all */
    m.n = c.n = 0;
    client_hello(&m, 0x0303, cs, 1, NULL);
    records(&c, 22, m.b, m.n, 16384);
    memset(&s, 0, sizeof s);
    feed(e, &f, 1, &c, 0, &s);
    CHECK_STR(s.ja3, "771,47,,,");
    CHECK_EQ_U(s.sni[0], 0);
    cg_tls_end(e, &f);
    wb_free(&x);
    wb_free(&m);
    wb_free(&c);
    cg_tls_destroy(e);
}

/* One ClientHello with a fault, fed whole; what came out and the counters. */
static void lie_case(const char *what, const wb *stream, int want_ch, const char *want_sni,
                     int want_ja3, uint64_t want_lies, uint64_t want_trunc, uint32_t last_flags)
{
    cg_tls *e = engine(2, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    feed(e, &f, 1, stream, last_flags, &s);
    cg_tls_end(e, &f);
    cg_tls_stats st = stats(e);
    int ok = s.ch == want_ch && st.length_lies == want_lies && st.truncated == want_trunc &&
        s.bad == 0 && strcmp(s.sni, want_sni) == 0 && st.states_used == 0 &&
        (s.ja3[0] != 0) == want_ja3;
    if (!ok)
        fprintf(stderr, "%s: ch %d sni '%s' ja3 '%s' lies %llu truncated %llu\n", what, s.ch, s.sni,
                s.ja3, (unsigned long long)st.length_lies, (unsigned long long)st.truncated);
    CHECK(ok);
    cg_tls_destroy(e);
}

static void test_lies(void)
{
    wb m = wb_new(), x = wb_new(), r = wb_new();

    /* record length > what follows, then the stream ends: truncated */
    modern_hello(&m, 0);
    records(&r, 22, m.b, m.n, 16384);
    patch16(&r, 3, m.n + 300);
    lie_case("record longer than the stream", &r, 1, SNI, 1, 0, 1, CG_REASM_END);
    /* handshake length > its record, and an alert comes next */
    r.n = 0;
    records(&r, 22, m.b, 200, 16384);
    records(&r, 21, (const uint8_t *)"\x02\x28", 2, 16);
    lie_case("message cut by an alert", &r, 0, "", 0, 1, 0, 0);
    /* handshake length > record, the stream ends */
    r.n = 0;
    records(&r, 22, m.b, 200, 16384);
    lie_case("message cut by the end", &r, 0, "", 0, 0, 1, CG_REASM_END);
    /* handshake length bigger than the hello: the bytes after it are read
     * as the message's, which then never ends */
    r.n = 0;
    wb m2 = wb_new();
    put(&m2, m.b, m.n);
    patch24(&m2, 1, m.n); /* claims 4 more than it has */
    records(&r, 22, m2.b, m2.n, 16384);
    lie_case("message length lies", &r, 0, "", 0, 0, 1, CG_REASM_END);
    /* handshake length shorter than the hello: its extension block then
     * overruns it (a lie), and its last 10 bytes (zeros of the key share)
     * read as two empty messages and half a header (truncated at the end) */
    m2.n = 0;
    put(&m2, m.b, m.n);
    patch24(&m2, 1, m.n - 4 - 10);
    r.n = 0;
    records(&r, 22, m2.b, m2.n, 16384);
    lie_case("message length short", &r, 0, "", 0, 1, 1, CG_REASM_END);

    /* an extension longer than the extension block, after the SNI */
    x.n = 0;
    ext_sni(&x, SNI);
    ext(&x, 23, "", 0);
    uint32_t at = x.n;
    ext(&x, 16, "\x00\x03\x02h2", 5);
    patch16(&x, at + 2, 6);
    m.n = r.n = 0;
    client_hello(&m, 0x0303, CIPHERS, 6, &x);
    records(&r, 22, m.b, m.n, 16384);
    lie_case("extension overruns, SNI before", &r, 1, SNI, 0, 1, 0, 0);
    /* ... before the SNI */
    x.n = 0;
    ext(&x, 16, "\x00\x03\x02h2", 5);
    patch16(&x, 2, 200);
    ext_sni(&x, SNI);
    m.n = r.n = 0;
    client_hello(&m, 0x0303, CIPHERS, 6, &x);
    records(&r, 22, m.b, m.n, 16384);
    lie_case("extension overruns, SNI after", &r, 0, "", 0, 1, 0, 0);
    /* the extension block length lies, up and down */
    for (int d = -1; d <= 1; d += 2) {
        x.n = 0;
        ext_sni(&x, SNI);
        m.n = r.n = 0;
        client_hello(&m, 0x0303, CIPHERS, 6, &x);
        patch16(&m, m.n - x.n - 2, (unsigned)((int)x.n + d));
        records(&r, 22, m.b, m.n, 16384);
        lie_case("extension block", &r, 0, "", 0, 1, 0, 0);
    }
    /* the SNI list length lies: longer, shorter, zero; a name longer than the
     * list; a zero-length name */
    static const int sni_faults[][2] = { { 4, 1 },
                                         { 4, -1 },
                                         { 4, -1000 },
                                         { 7, 1 },
                                         { 7, -1000 } };
    for (int i = 0; i < 5; i++) {
        x.n = 0;
        ext_sni(&x, SNI);
        uint32_t off = (uint32_t)sni_faults[i][0];
        unsigned v = (unsigned)(x.b[off] << 8 | x.b[off + 1]);
        v = sni_faults[i][1] == -1000 ? 0 : (unsigned)((int)v + sni_faults[i][1]);
        patch16(&x, off, v);
        m.n = r.n = 0;
        client_hello(&m, 0x0303, CIPHERS, 6, &x);
        records(&r, 22, m.b, m.n, 16384);
        lie_case("SNI lengths", &r, 0, "", 0, 1, 0, 0);
    }
    /* groups, point formats, supported_versions whose inner length lies */
    static const uint16_t g[] = { 29, 23 };
    for (int i = 0; i < 3; i++) {
        x.n = 0;
        ext_sni(&x, SNI);
        uint32_t a = x.n;
        if (i == 0)
            ext_list16(&x, 10, g, 2, 2);
        else if (i == 1)
            ext(&x, 11, "\x02\x00", 2);
        else
            ext_list16(&x, 43, g, 2, 1);
        if (i == 0)
            x.b[a + 5] = 3; /* the 2-byte list length */
        else
            x.b[a + 4] = (uint8_t)(x.b[a + 4] + 1); /* the 1-byte one */
        m.n = r.n = 0;
        client_hello(&m, 0x0303, CIPHERS, 6, &x);
        records(&r, 22, m.b, m.n, 16384);
        lie_case("inner list", &r, 1, SNI, 0, 1, 0, 0);
    }
    /* zero lengths: an empty cipher list, a zero-length ClientHello, a
     * zero-length handshake record before a good one */
    m.n = r.n = 0;
    client_hello(&m, 0x0303, CIPHERS, 0, NULL);
    records(&r, 22, m.b, m.n, 16384);
    lie_case("no ciphers", &r, 0, "", 0, 1, 0, 0);
    r.n = 0;
    records(&r, 22, (const uint8_t *)"\x01\x00\x00\x00", 4, 16384);
    lie_case("empty ClientHello", &r, 0, "", 0, 1, 0, 0);
    r.n = 0;
    m.n = 0;
    modern_hello(&m, 0);
    records(&r, 22, m.b, 1, 16384); /* the detection needs type 1 first */
    records(&r, 22, m.b, 0, 16384);
    records(&r, 22, m.b + 1, m.n - 1, 16384);
    cg_tls *e = engine(2, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    feed(e, &f, 1, &r, 0, &s);
    CHECK_EQ_U(s.ch, 1);
    CHECK_STR(s.ja3, JA3_STR);
    CHECK_EQ_U(stats(e).length_lies, 1);
    /* the server: a record over 2^14 + 2048, a record of an unknown type */
    wb sv = wb_new();
    records(&sv, 22, m.b, 10, 100);
    patch16(&sv, 3, 16384 + 2049);
    CHECK_EQ_U(feed(e, &f, 0, &sv, 0, &s), 1);
    CHECK_EQ_U(stats(e).length_lies, 2);
    cg_tls_end(e, &f);
    memset(&s, 0, sizeof s);
    feed(e, &f, 1, &r, 0, &s);
    sv.b[0] = 99;
    patch16(&sv, 3, 10);
    feed(e, &f, 0, &sv, 0, &s);
    CHECK_EQ_U(stats(e).invalid, 1);
    cg_tls_end(e, &f);

    /* session id over 32 */
    m.n = r.n = 0;
    client_hello(&m, 0x0303, CIPHERS, 6, NULL);
    m.b[4 + 2 + 32] = 33;
    records(&r, 22, m.b, m.n, 16384);
    memset(&s, 0, sizeof s);
    feed(e, &f, 1, &r, 0, &s);
    CHECK_EQ_U(s.ch, 0);
    CHECK_EQ_U(stats(e).invalid, 2);
    cg_tls_end(e, &f);
    cg_tls_destroy(e);
    wb_free(&sv);
    wb_free(&m);
    wb_free(&m2);
    wb_free(&x);
    wb_free(&r);
}

/* Certificate case i after a good hello; checked unless warm_up. */
static void cert_case(const wb *c, int i, int warm_up)
{
    cg_tls *e = engine(2, 0, 0);
    wb m = wb_new(), sv = wb_new();
    certificate_msg(&m, &CH);
    uint32_t first = 4 + 3, second = first + 3 + (uint32_t)CH.len[0];
    int want_certs = 2, want_subj = 1;
    switch (i) {
    case 0:
        patch24(&m, 4, (uint32_t)(CH.len[0] + CH.len[1] + 7));
        want_certs = 0;
        break;
    case 1:
        patch24(&m, 4, (uint32_t)(CH.len[0] + CH.len[1] + 5));
        want_certs = 0;
        break;
    case 2:
        patch24(&m, second, (uint32_t)CH.len[1] + 1);
        want_certs = 1;
        break;
    case 3:
        patch24(&m, second, 0);
        want_certs = 1;
        break;
    case 4:
        patch24(&m, first, (uint32_t)CH.len[0] - 1);
        want_certs = -1;
        break;
    default:
        m.b[first + 3] = 0x05;
        want_subj = 0;
        break; /* not DER */
    }
    records(&sv, 22, m.b, m.n, 500);
    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    feed(e, &f, 1, c, 0, &s);
    long a0 = ossl_allocs, f0 = ossl_frees;
    feed(e, &f, 0, &sv, 0, &s);
    if (!warm_up) {
        CHECK_EQ_U(ossl_allocs - a0, ossl_frees - f0);
        cg_tls_stats st = stats(e);
        /* case 4 reads the rest from a wrong offset: lengths at random */
        if (i < 4)
            CHECK_EQ_U(st.length_lies, 1);
        else
            CHECK_EQ_U(st.cert_parse_errors, 1);
        if (want_certs >= 0)
            CHECK_EQ_U(s.ncerts, want_certs);
        if (i == 4)
            CHECK(s.ncerts >= 1 && s.cert_len[0] == (uint32_t)CH.len[0] - 1);
        if (want_certs != 0 && want_subj && i != 4)
            CHECK(s.has_subj && strcmp(s.subj, LEAF_SUBJECT) == 0);
        if (!want_subj)
            CHECK(!s.has_subj && s.ncerts == 2);
        CHECK_EQ_U(s.bad, 0);
    }
    cg_tls_end(e, &f);
    cg_tls_destroy(e);
    wb_free(&m);
    wb_free(&sv);
}

/* Certificate messages that lie, one at a time: the list length up and
 * down, the second certificate's length past the end and zero, the first's
 * one short, a first certificate that is not DER. */
static void test_cert_lies(void)
{
    wb m = wb_new(), c = wb_new();
    modern_hello(&m, 0);
    records(&c, 22, m.b, m.n, 16384);
    /* OpenSSL's per-thread error queue keeps the text of an error for reuse
     * after ERR_clear_error, and what it keeps depends on the errors before:
     * a first pass over the cases fills it, the second is checked */
    for (int i = 0; i < 6; i++)
        cert_case(&c, i, 1);
    for (int i = 0; i < 6; i++)
        cert_case(&c, i, 0);
    wb_free(&m);
    wb_free(&c);
}

/* Messages over the buffer; the buffer held by the other direction. */
static void test_oversize_busy(void)
{
    cg_tls *e = engine(2, 1024, 0);
    wb m = wb_new(), c = wb_new(), x = wb_new(), sv = wb_new();

    /* a ClientHello of ~2.3 KB over records of 500: dropped */
    static uint8_t pad[2000];
    ext_sni(&x, SNI);
    ext(&x, 21, pad, sizeof pad);
    client_hello(&m, 0x0303, CIPHERS, 6, &x);
    records(&c, 22, m.b, m.n, 500);
    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    memset(&f, 0, sizeof f);
    feed(e, &f, 1, &c, 0, &s);
    CHECK_EQ_U(s.ch, 0);
    CHECK_EQ_U(stats(e).oversize, 1);
    /* ... the same in one record: parsed in place, whatever the buffer */
    c.n = 0;
    records(&c, 22, m.b, m.n, 16384);
    cg_tls_end(e, &f);
    feed(e, &f, 1, &c, 0, &s);
    CHECK_EQ_U(s.ch, 1);
    CHECK_STR(s.sni, SNI);

    /* a Certificate of ~1.1 KB + 1.3 KB: the first certificate is whole in
     * the kept 1024 bytes only if small; here the first is, the second not */
    CHECK(CH.len[0] < 900);
    m.n = 0;
    wb b = wb_new();
    static uint8_t junk[1300];
    memset(junk, 0x30, sizeof junk);
    u24(&b, (uint32_t)CH.len[0] + 3 + 3 + sizeof junk);
    u24(&b, (uint32_t)CH.len[0]);
    put(&b, CH.der[0], (uint32_t)CH.len[0]);
    u24(&b, sizeof junk);
    put(&b, junk, sizeof junk);
    hs(&m, 11, &b);
    records(&sv, 22, m.b, m.n, 700);
    memset(&s, 0, sizeof s);
    feed(e, &f, 0, &sv, 0, &s);
    CHECK_EQ_U(s.cert, 1);
    CHECK_EQ_U(s.ncerts, 1);
    CHECK(s.has_subj && strcmp(s.subj, LEAF_SUBJECT) == 0);
    cg_tls_stats st = stats(e);
    CHECK_EQ_U(st.oversize, 2);
    CHECK_EQ_U(st.length_lies, 0);
    CHECK_EQ_U(st.certificates, 0); /* not whole */
    cg_tls_end(e, &f);

    /* busy: the client's hello half in, the server's certificate spanning
     * records meanwhile, then the rest of the hello */
    m.n = c.n = 0;
    modern_hello(&m, 0);
    records(&c, 22, m.b, m.n, 100);
    m.n = sv.n = 0;
    certificate_msg(&m, &CH);
    records(&sv, 22, m.b, m.n, 300);
    memset(&s, 0, sizeof s);
    uint32_t cut = 150;
    feed_cut(e, &f, 1, c.b, cut, NULL, 0, 0, &s);
    feed(e, &f, 0, &sv, 0, &s);
    feed_cut(e, &f, 1, c.b + cut, c.n - cut, NULL, 0, 0, &s);
    CHECK_EQ_U(s.ch, 1);
    CHECK_STR(s.ja3, JA3_STR);
    CHECK_EQ_U(s.cert, 0);
    CHECK_EQ_U(stats(e).buf_busy, 1);
    cg_tls_end(e, &f);
    CHECK_EQ_U(stats(e).states_used, 0);

    wb_free(&b);
    wb_free(&m);
    wb_free(&c);
    wb_free(&x);
    wb_free(&sv);
    cg_tls_destroy(e);
}

/* Flows that are not TLS, gaps, the end, and the pool. */
static void test_flows_pool(void)
{
    cg_tls *e = engine(2, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    cg_tls_flow f;
    wb m = wb_new(), c = wb_new();
    modern_hello(&m, 0);
    records(&c, 22, m.b, m.n, 16384);

    static const char *not_tls[] = { "GET / HTTP/1.1\r\n",       "\x16\x03\x01\x02\x00\x02",
                                     "\x16\x02\x01\x02\x00\x01", "\x16\x03\x05\x02\x00\x01",
                                     "\x16\x03\x01\x40\x01\x01", "\x16\x03\x01\x00\x00\x01",
                                     "\x17\x03\x03\x00\x10\x01" };
    for (int i = 0; i < 7; i++) {
        memset(&f, 0, sizeof f);
        CHECK_EQ_U(cg_tls_feed(e, &f, 1, (const uint8_t *)not_tls[i], 6, 0, on_msg, &s), 0);
        CHECK_EQ_U(cg_tls_feed(e, &f, 1, c.b, c.n, 0, on_msg, &s), 0);
        cg_tls_end(e, &f);
    }
    /* nothing at all, then the end */
    memset(&f, 0, sizeof f);
    CHECK_EQ_U(cg_tls_feed(e, &f, 1, NULL, 0, 0, on_msg, &s), 1);
    CHECK_EQ_U(cg_tls_feed(e, &f, 1, NULL, 0, CG_REASM_END, on_msg, &s), 0);
    cg_tls_end(e, &f);
    /* the server speaks first */
    memset(&f, 0, sizeof f);
    CHECK_EQ_U(cg_tls_feed(e, &f, 0, (const uint8_t *)"220 smtp\r\n", 10, 0, on_msg, &s), 0);
    CHECK_EQ_U(cg_tls_feed(e, &f, 1, c.b, c.n, 0, on_msg, &s), 0);
    cg_tls_end(e, &f);
    /* the first bytes one at a time: still detected */
    memset(&f, 0, sizeof f);
    for (uint32_t i = 0; i < 5; i++)
        CHECK_EQ_U(cg_tls_feed(e, &f, 1, c.b + i, 1, 0, on_msg, &s), 1);
    CHECK_EQ_U(cg_tls_feed(e, &f, 1, c.b + 5, c.n - 5, 0, on_msg, &s), 1);
    CHECK_EQ_U(s.ch, 1);
    /* a gap in the server direction stops it; the end of the client's too */
    CHECK_EQ_U(cg_tls_feed(e, &f, 0, c.b, 10, CG_REASM_GAP, on_msg, &s), 1);
    CHECK_EQ_U(cg_tls_feed(e, &f, 1, NULL, 0, CG_REASM_END, on_msg, &s), 0);
    cg_tls_stats st = stats(e);
    CHECK_EQ_U(st.not_tls, 9);
    CHECK_EQ_U(st.gaps, 1);
    CHECK_EQ_U(st.truncated, 0);
    CHECK_EQ_U(st.states_used, 0);
    cg_tls_end(e, &f);

    /* the pool: two states, three flows; the third takes the least recently fed */
    cg_tls_flow fl[3];
    memset(fl, 0, sizeof fl);
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_U(cg_tls_feed(e, &fl[i], 1, c.b, 50, 0, on_msg, &s), 1);
    st = stats(e);
    CHECK_EQ_U(st.pool_exhausted, 1);
    CHECK_EQ_U(st.steals, 1);
    CHECK_EQ_U(st.states_used, 2);
    CHECK_EQ_U(cg_tls_feed(e, &fl[0], 1, c.b + 50, c.n - 50, 0, on_msg, &s), 0);
    CHECK_EQ_U(cg_tls_feed(e, &fl[1], 1, c.b + 50, c.n - 50, 0, on_msg, &s), 1);
    CHECK_EQ_U(cg_tls_feed(e, &fl[2], 1, c.b + 50, c.n - 50, 0, on_msg, &s), 1);
    CHECK_EQ_U(s.ch, 2);
    for (int i = 0; i < 3; i++)
        cg_tls_end(e, &fl[i]);
    CHECK_EQ_U(stats(e).states_used, 0);
    CHECK_EQ_U(stats(e).truncated, 0);
    cg_tls_destroy(e);

    /* without stealing, the third flow is not parsed */
    e = engine(2, 0, 1);
    memset(fl, 0, sizeof fl);
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 3; i++)
        cg_tls_feed(e, &fl[i], 1, c.b, 50, 0, on_msg, &s);
    CHECK_EQ_U(cg_tls_feed(e, &fl[2], 1, c.b + 50, c.n - 50, 0, on_msg, &s), 0);
    CHECK_EQ_U(cg_tls_feed(e, &fl[0], 1, c.b + 50, c.n - 50, 0, on_msg, &s), 1);
    st = stats(e);
    CHECK_EQ_U(st.pool_exhausted, 1);
    CHECK_EQ_U(st.steals, 0);
    CHECK_EQ_U(s.ch, 1);
    for (int i = 0; i < 3; i++)
        cg_tls_end(e, &fl[i]);
    /* cg_tls_end inside a record counts truncated */
    CHECK_EQ_U(stats(e).truncated, 1);
    CHECK(stats(e).mem_bytes >= 2 * CG_TLS_DEFAULT_BUF);
    cg_tls_destroy(e);

    /* the defaults: 1024 states of 32 KiB, and the engine's scratch */
    e = engine(0, 0, 0);
    st = stats(e);
    CHECK_EQ_U(st.states_total, CG_TLS_DEFAULT_FLOWS);
    CHECK(st.mem_bytes > (uint64_t)CG_TLS_DEFAULT_FLOWS * CG_TLS_DEFAULT_BUF);
    CHECK(st.mem_bytes <
          (uint64_t)CG_TLS_DEFAULT_FLOWS * (CG_TLS_DEFAULT_BUF + 128) + (300u << 10));
    printf("default engine: %llu bytes\n", (unsigned long long)st.mem_bytes);
    cg_tls_destroy(e);

    /* configurations out of range */
    cg_tls *bad = NULL;
    cg_tls_config cfg = { 1, 100, 0 };
    CHECK(cg_tls_create(&bad, &cfg) == -1 && bad == NULL);
    cfg.buf_size = CG_TLS_MAX_BUF + 1;
    CHECK(cg_tls_create(&bad, &cfg) == -1 && bad == NULL);
    cg_tls_destroy(NULL);

    wb_free(&m);
    wb_free(&c);
}

/* ---- random input ----------------------------------------------------------------- */

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void feed_random_cuts(cg_tls *e, cg_tls_flow *f, int to_server, const uint8_t *p, uint32_t n,
                             seen *s, uint32_t last_flags)
{
    uint32_t cuts[8];
    int nc = (int)(rnd() % 8);
    for (int k = 0; k < nc; k++)
        cuts[k] = n ? rnd() % (n + 1) : 0;
    for (int a = 1; a < nc; a++)
        for (int b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
            uint32_t t = cuts[b];
            cuts[b] = cuts[b - 1];
            cuts[b - 1] = t;
        }
    feed_cut(e, f, to_server, p, n, cuts, nc, last_flags, s);
}

static void test_fuzz(void)
{
    cg_tls *e = engine(8, 2048, 0);
    wb cl = wb_new(), sv = wb_new(), m = wb_new(), w = wb_new();
    modern_hello(&m, 0);
    records(&cl, 22, m.b, m.n, 300);
    server_flight12(&sv, 400);
    unsigned bad = 0;
    cg_tls_flow fl[12];
    memset(fl, 0, sizeof fl);
    uint64_t callbacks = 0;

    for (int i = 0; i < 30000; i++) {
        seen s;
        memset(&s, 0, sizeof s);
        cg_tls_flow *f = &fl[rnd() % 12];
        const wb *src = (i % 2) ? &sv : &cl;
        w.n = 0;
        if (i % 7 == 6) {
            /* random bytes behind a plausible record header */
            uint32_t n = rnd() % 3000;
            u8(&w, 22);
            u16(&w, 0x0301);
            u16(&w, rnd() % 4000);
            u8(&w, 1);
            for (uint32_t k = 0; k < n; k++)
                u8(&w, rnd() % 4 == 0 ? rnd() % 4 : rnd());
        } else {
            put(&w, src->b, src->n);
            int muts = (int)(rnd() % 6);
            for (int k = 0; k < muts; k++) {
                uint32_t at = rnd() % w.n;
                switch (rnd() % 6) {
                case 0: w.b[at] = (uint8_t)rnd(); break;
                case 1: w.b[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
                case 2: w.b[at] = (uint8_t)(rnd() % 3); break;
                case 3: w.b[at] = 0xff; break;
                case 4: w.n = at > 6 ? at : 6; break;
                default:
                    if (at + 1 < w.n) {
                        w.b[at] = 0;
                        w.b[at + 1] = (uint8_t)rnd();
                    }
                    break;
                }
            }
        }
        int to_server = (i % 2) == 0 || rnd() % 5 == 0;
        uint32_t fl_flags = rnd() % 10 == 0 ? CG_REASM_END : 0;
        if (rnd() % 50 == 0)
            fl_flags |= CG_REASM_GAP;
        feed_random_cuts(e, f, to_server, w.b, w.n, &s, fl_flags);
        bad += s.bad;
        callbacks += (uint64_t)(s.ch + s.sh + s.cert);
        if (rnd() % 4 == 0)
            cg_tls_end(e, f);
    }
    for (int i = 0; i < 12; i++)
        cg_tls_end(e, &fl[i]);
    cg_tls_stats st = stats(e);
    CHECK_EQ_U(bad, 0);
    CHECK_EQ_U(st.states_used, 0);
    CHECK(callbacks > 1000);
    CHECK(st.length_lies > 100);
    printf("fuzz: %llu callbacks, %llu records, %llu lies, %llu invalid, %llu truncated, "
           "%llu steals, %llu cert errors\n",
           (unsigned long long)callbacks, (unsigned long long)st.records,
           (unsigned long long)st.length_lies, (unsigned long long)st.invalid,
           (unsigned long long)st.truncated, (unsigned long long)st.steals,
           (unsigned long long)st.cert_parse_errors);

    /* pure random bytes both ways, from the first byte */
    for (int i = 0; i < 5000; i++) {
        seen s;
        memset(&s, 0, sizeof s);
        cg_tls_flow f;
        memset(&f, 0, sizeof f);
        uint32_t n = rnd() % 2000;
        w.n = 0;
        for (uint32_t k = 0; k < n; k++)
            u8(&w, rnd());
        if (n >= 6 && i % 2) {
            w.b[0] = 22;
            w.b[1] = 3;
            w.b[2] = (uint8_t)(rnd() % 5);
            w.b[5] = 1;
            w.b[3] = (uint8_t)(rnd() % 0x40);
        }
        feed_random_cuts(e, &f, 1, w.b, w.n, &s, 0);
        feed_random_cuts(e, &f, 0, w.b, w.n, &s, CG_REASM_END);
        bad += s.bad;
        cg_tls_end(e, &f);
    }
    CHECK_EQ_U(bad, 0);
    CHECK_EQ_U(stats(e).states_used, 0);
    wb_free(&cl);
    wb_free(&sv);
    wb_free(&m);
    wb_free(&w);
    cg_tls_destroy(e);
}

int main(void)
{
    /* before OpenSSL allocates anything */
    CHECK(CRYPTO_set_mem_functions(c_malloc, c_realloc, c_free) == 1);
    CH = make_chain();
    test_full12();
    test_splits();
    test_tls13();
    test_known_ja3();
    test_lies();
    test_cert_lies();
    test_oversize_busy();
    test_flows_pool();
    test_fuzz();
    OPENSSL_free(CH.der[0]);
    OPENSSL_free(CH.der[1]);
    return check_done("test_tls");
}
