/* keys.c — the SOC's Ed25519 key through OpenSSL's EVP API, C2SP signed notes
 * (https://c2sp.org/signed-note) and tlog checkpoints
 * (https://c2sp.org/tlog-checkpoint). keys.h is the manual and has the
 * formats.
 *
 * Invariants:
 *  1. A cg_key holds one EVP_PKEY of type Ed25519, its raw public key and
 *     fingerprint (computed once, at load), and whether the EVP_PKEY has its
 *     private half. Nothing changes a key after load.
 *  2. A key file is read whole (at most KEY_FILE_MAX bytes) through one
 *     descriptor: the type and mode checked are those of the file read
 *     (fstat), not of a name that could change between a stat and an open.
 *     The bytes of a private key are cleared (OPENSSL_cleanse) before the
 *     buffer that held them goes.
 *  3. Files are created only under a temporary name (O_CREAT|O_EXCL) and
 *     put in place by a rename that never replaces (renameat2
 *     RENAME_NOREPLACE, or link and unlink); a failure removes what this call
 *     created and nothing else.
 *  4. Notes and checkpoints are read as (pointer, length) views of the
 *     caller's bytes: nothing reads at or past len, nothing needs a NUL.
 *     Base64 is checked here (alphabet, padding, zero padding bits) before
 *     OpenSSL's EVP_DecodeBlock decodes it, which would take whitespace and
 *     non-canonical spellings.
 *  5. Every function returns with OpenSSL's error queue empty.
 */
#include "store/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define KEY_FILE_MAX 16384 /* bytes read of a key file: an Ed25519 PEM is 119 */

struct cg_key {
    EVP_PKEY *pkey;
    int has_private;
    uint8_t pub[CG_KEY_PUB_LEN];
    char fp[65];
};

static const char em_dash_sp[] = "\xe2\x80\x94 "; /* U+2014 and a space: 4 bytes */

/* ---- errors ------------------------------------------------------------------- */

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the message, empties OpenSSL's error queue, returns code. */
static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    ERR_clear_error();
    return code;
}

/* The code of a failed create, write or sync. */
static int errno_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? CG_EFULL
        : e == ENOMEM                 ? CG_ENOMEM
        : e == ENOENT || e == ENOTDIR ? CG_ENOTFOUND
                                      : CG_EIO;
}

/* OpenSSL's reason for the last error, or "no reason given". */
static const char *ssl_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_peek_last_error());
    return r ? r : "no reason given";
}

static int sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned len = 0;
    int ok = EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32;
    ERR_clear_error();
    return ok ? 0 : CG_ENOMEM;
}

/* ---- text: UTF-8, names, base64 ------------------------------------------------ */

/* The length (1..4) of the UTF-8 sequence at p[0..n) and its code point in
 * *cp, or 0 when it is not one: truncated, overlong, a surrogate, above
 * U+10FFFF. */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint32_t c = p[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, c &= 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, c &= 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Checks that p[0..n) is valid UTF-8 with no control character below U+0020
 * but "\n" (signed-note §Format). 0, or -1 with the line (from 1) of the
 * first bad byte in *line and what is wrong in *why. */
static int text_check(const uint8_t *p, size_t n, size_t *line, const char **why)
{
    size_t ln = 1;

    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_next(p + i, n - i, &cp);
        if (!l || (cp < 0x20 && cp != '\n')) {
            *line = ln;
            *why = l ? "a control character" : "not valid UTF-8";
            return -1;
        }
        ln += cp == '\n';
        i += l;
    }
    return 0;
}

/* Unicode's spaces (White_Space: what Go's unicode.IsSpace says). */
static int is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
        (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
        c == 0x3000;
}

/* A key name: non-empty, valid UTF-8, no control character, no space, no '+'. */
static int name_ok(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_next(p + i, n - i, &cp);
        if (!l || cp < 0x20 || cp == '+' || is_space(cp))
            return 0;
        i += l;
    }
    return 1;
}

static int b64_val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* The number of bytes s[0..n) decodes to when it is canonical padded base64
 * (RFC 4648 §4: groups of 4, '=' only at the end, the bits under the padding
 * zero), else -1. */
static long b64_check(const uint8_t *s, size_t n)
{
    size_t pad;

    if (n == 0 || n % 4 != 0 || n > LONG_MAX / 3)
        return -1;
    pad = s[n - 1] == '=' ? s[n - 2] == '=' ? 2 : 1 : 0;
    for (size_t i = 0; i < n - pad; i++)
        if (b64_val(s[i]) < 0)
            return -1;
    if ((pad == 2 && (b64_val(s[n - 3]) & 15)) || (pad == 1 && (b64_val(s[n - 2]) & 3)))
        return -1;
    return (long)(n / 4 * 3 - pad);
}

/* Decodes s[0..n), checked by b64_check, into out (room for n / 4 * 3). */
static void b64_decode(const uint8_t *s, size_t n, uint8_t *out)
{
    EVP_DecodeBlock(out, s, (int)n); /* counts padding as zero bytes; they are past the data */
}

/* ---- keys --------------------------------------------------------------------- */

/* A cg_key around pk (which it takes on success). */
static int key_wrap(EVP_PKEY *pk, int has_private, cg_key **out)
{
    cg_key *k = calloc(1, sizeof *k);
    uint8_t md[32];
    size_t n = CG_KEY_PUB_LEN;

    if (!k)
        return CG_ENOMEM;
    if (EVP_PKEY_get_raw_public_key(pk, k->pub, &n) != 1 || n != CG_KEY_PUB_LEN ||
        sha256(k->pub, sizeof k->pub, md) != 0) {
        free(k);
        ERR_clear_error();
        return CG_ENOMEM;
    }
    for (int i = 0; i < 32; i++)
        snprintf(k->fp + 2 * i, 3, "%02x", md[i]);
    k->pkey = pk;
    k->has_private = has_private;
    *out = k;
    return 0;
}

void cg_key_free(cg_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey); /* clears the private bytes */
    free(k);
}

int cg_key_has_private(const cg_key *k)
{
    return k->has_private;
}

void cg_key_public_raw(const cg_key *k, uint8_t pub[CG_KEY_PUB_LEN])
{
    memcpy(pub, k->pub, CG_KEY_PUB_LEN);
}

void cg_key_fingerprint(const cg_key *k, char hex[65])
{
    memcpy(hex, k->fp, 65);
}

int cg_key_public_pem(const cg_key *k, char **buf, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *copy = NULL;
    long n;

    if (b && PEM_write_bio_PUBKEY(b, k->pkey) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
        (copy = malloc((size_t)n + 1)) != NULL) {
        memcpy(copy, data, (size_t)n);
        copy[n] = 0;
        *buf = copy;
        *len = (size_t)n;
    }
    BIO_free(b);
    ERR_clear_error();
    return copy ? 0 : CG_ENOMEM;
}

/* Never asked: keys.h says an encrypted key is refused, not prompted for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* The label of the first PEM block in buf ("PRIVATE KEY", "CERTIFICATE"), as
 * printable ASCII in out; "" when there is none. */
static void pem_label(const char *buf, size_t n, char *out, size_t cap)
{
    const char *b = memmem(buf, n, "-----BEGIN ", 11);
    size_t o = 0;

    if (b)
        for (b += 11; b < buf + n && *b != '-' && *b >= 0x20 && *b < 0x7f && o + 1 < cap; b++)
            out[o++] = *b;
    out[o] = 0;
}

/* Reads the key file path into buf[0..KEY_FILE_MAX] (NUL-terminated), its
 * length in *len; with check_mode, refuses a file others may access. */
static int read_key_file(const char *path, int check_mode, char *buf, size_t *len, char *err,
                         size_t errlen)
{
    struct stat sb;
    size_t n = 0;
    ssize_t r;
    int fd, e, mode;

    /* O_NONBLOCK: a FIFO is refused below, not waited on */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        e = errno;
        return fail(e == ENOENT || e == ENOTDIR ? CG_ENOTFOUND
                        : e == ENOMEM           ? CG_ENOMEM
                                                : CG_EIO,
                    err, errlen, "%s: %s", path, strerror(e));
    }
    if (fstat(fd, &sb) != 0) {
        e = errno;
        close(fd);
        return fail(CG_EIO, err, errlen, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(CG_EINVAL, err, errlen, "%s: not a regular file", path);
    }
    mode = (int)(sb.st_mode & 07777);
    if (check_mode && (mode & 077)) {
        close(fd);
        return fail(CG_EINVAL, err, errlen, "%s: %s by others (mode %04o): chmod 600 %s", path,
                    mode & 044       ? "readable"
                        : mode & 022 ? "writable"
                                     : "usable",
                    mode, path);
    }
    while (n <= KEY_FILE_MAX && (r = read(fd, buf + n, KEY_FILE_MAX + 1 - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            close(fd);
            OPENSSL_cleanse(buf, n);
            return fail(CG_EIO, err, errlen, "%s: %s", path, strerror(e));
        }
        n += (size_t)r;
    }
    close(fd);
    if (n > KEY_FILE_MAX) {
        OPENSSL_cleanse(buf, n);
        return fail(CG_EMALFORMED, err, errlen, "%s: not a PEM key file (over %d bytes)", path,
                    KEY_FILE_MAX);
    }
    buf[n] = 0;
    *len = n;
    return 0;
}

/* The key in the PEM text buf[0..n) of the file path: private or public. The
 * file is judged step by step (its label, its base64, its DER) so that the
 * message says which is wrong: OpenSSL 3's decoders say "unsupported" for
 * all of them. */
static int parse_key(const char *path, const char *buf, size_t n, int priv, EVP_PKEY **out,
                     char *err, size_t errlen)
{
    const char *want = priv ? "private" : "public";
    char label[48], *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long dlen = 0;
    EVP_PKEY *pk = NULL;
    BIO *b;
    int ok;

    pem_label(buf, n, label, sizeof label);
    if (!label[0])
        return fail(CG_EMALFORMED, err, errlen, "%s: not a PEM file", path);
    if (strstr(label, "ENCRYPTED") || memmem(buf, n, "Proc-Type: 4,ENCRYPTED", 22))
        return fail(CG_EUNSUPPORTED, err, errlen,
                    "%s: an encrypted private key: canhgac reads unencrypted PKCS#8 keys "
                    "(kept safe by their mode, 0600)",
                    path);
    if (!strcmp(label, "OPENSSH PRIVATE KEY"))
        return fail(CG_EUNSUPPORTED, err, errlen,
                    "%s: an OpenSSH key: canhgac reads PKCS#8 PEM keys (canhgac keys init "
                    "makes one)",
                    path);
    if (priv && !strcmp(label, "PUBLIC KEY"))
        return fail(CG_EMALFORMED, err, errlen, "%s: holds a public key, not a private key", path);
    if (!priv && strstr(label, "PRIVATE KEY"))
        return fail(CG_EMALFORMED, err, errlen,
                    "%s: holds a private key, not a public key (its public key: openssl pkey "
                    "-in %s -pubout)",
                    path, path);
    if (priv ? !strstr(label, "PRIVATE KEY") : strcmp(label, "PUBLIC KEY") != 0)
        return fail(CG_EMALFORMED, err, errlen, "%s: a PEM %s, not a %s key", path, label, want);
    /* the block's base64 first, then its DER as a key */
    if (!(b = BIO_new_mem_buf(buf, (int)n)))
        return fail(CG_ENOMEM, err, errlen, "%s: out of memory", path);
    ok = PEM_read_bio(b, &name, &header, &der, &dlen) == 1;
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(der, dlen > 0 ? (size_t)dlen : 0);
    if (ok && dlen > 0 && BIO_reset(b) == 1)
        pk = priv ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
                  : PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL);
    BIO_free(b);
    if (!ok)
        return fail(CG_EMALFORMED, err, errlen,
                    "%s: a damaged PEM file (its base64 does not decode, or no END line)", path);
    if (dlen <= 0)
        return fail(CG_EMALFORMED, err, errlen, "%s: an empty PEM block", path);
    if (!pk)
        return fail(CG_EMALFORMED, err, errlen,
                    "%s: a damaged %s key (its PEM block decodes to no key OpenSSL reads)", path,
                    want);
    if (EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
        const char *type = EVP_PKEY_get0_type_name(pk);
        char t[32];
        snprintf(t, sizeof t, "%s", type ? type : "unknown");
        EVP_PKEY_free(pk);
        return fail(CG_EUNSUPPORTED, err, errlen, "%s: key type %s, not Ed25519", path, t);
    }
    *out = pk;
    return 0;
}

static int load(cg_key **out, const char *path, int priv, char *err, size_t errlen)
{
    char buf[KEY_FILE_MAX + 1];
    EVP_PKEY *pk = NULL;
    size_t n = 0;
    int rc;

    if ((rc = read_key_file(path, priv, buf, &n, err, errlen)) != 0)
        return rc;
    rc = parse_key(path, buf, n, priv, &pk, err, errlen);
    OPENSSL_cleanse(buf, n);
    if (rc)
        return rc;
    if ((rc = key_wrap(pk, priv, out)) != 0) {
        EVP_PKEY_free(pk);
        return fail(rc, err, errlen, "%s: out of memory", path);
    }
    ERR_clear_error();
    return 0;
}

int cg_key_load_private(cg_key **out, const char *path, char *err, size_t errlen)
{
    return load(out, path, 1, err, errlen);
}

int cg_key_load_public(cg_key **out, const char *path, char *err, size_t errlen)
{
    return load(out, path, 0, err, errlen);
}

/* ---- writing the key files ---------------------------------------------------- */

/* Writes data[0..len) to a new file beside path (its name in tmp), mode
 * exactly `mode`, synced. 0, or an errno value (tmp removed). */
static int write_tmp(const char *path, const void *data, size_t len, mode_t mode, char *tmp,
                     size_t cap)
{
    int fd = -1, e = 0;

    for (unsigned i = 0; fd < 0 && i < 100; i++) {
        if ((size_t)snprintf(tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), i) >= cap)
            return ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0 && errno != EEXIST)
            return errno;
    }
    if (fd < 0)
        return EEXIST;
    if (fchmod(fd, mode) != 0) /* the umask may have taken bits the file needs */
        e = errno;
    for (size_t off = 0; !e && off < len;) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && errno != EINTR)
            e = errno;
        else if (w > 0)
            off += (size_t)w;
    }
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e)
        unlink(tmp);
    return e;
}

/* Renames tmp to path unless path exists. 0 or an errno value (EEXIST). */
static int place(const char *tmp, const char *path)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return errno;
#endif
    /* a file system without that rename: link refuses an existing name too */
    if (link(tmp, path) != 0)
        return errno;
    unlink(tmp);
    return 0;
}

/* Syncs the directory that holds path. 0 or an errno value. */
static int sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd, e = 0;

    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return ENAMETOOLONG;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return errno;
    if (fsync(fd) != 0 && errno != EINVAL) /* some file systems do not sync directories */
        e = errno;
    close(fd);
    return e;
}

int cg_key_init(const char *priv_path, const char *pub_path, char *err, size_t errlen)
{
    char tmp_priv[PATH_MAX] = "", tmp_pub[PATH_MAX] = "", *data;
    const char *at = priv_path;
    BIO *bpriv = NULL, *bpub = NULL;
    EVP_PKEY *pk = NULL;
    int rc = 0, e = 0, placed = 0;
    struct stat sb;
    long n;

    if (!strcmp(priv_path, pub_path))
        return fail(CG_EINVAL, err, errlen, "%s: the private and the public key cannot be one file",
                    priv_path);
    if (lstat(priv_path, &sb) == 0)
        return fail(CG_EINVAL, err, errlen, "%s: exists already", priv_path);
    if (lstat(pub_path, &sb) == 0)
        return fail(CG_EINVAL, err, errlen, "%s: exists already", pub_path);
    if (!(pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"))) {
        rc = fail(CG_EFAIL, err, errlen, "%s: cannot make an Ed25519 key (OpenSSL: %s)", priv_path,
                  ssl_reason());
        goto out;
    }
    /* the secure heap when OpenSSL has one; cleared when freed either way */
    bpriv = BIO_new(BIO_s_secmem());
    bpub = BIO_new(BIO_s_mem());
    if (!bpriv || !bpub || PEM_write_bio_PrivateKey(bpriv, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_PUBKEY(bpub, pk) != 1) {
        rc = fail(CG_ENOMEM, err, errlen, "%s: out of memory", priv_path);
        goto out;
    }
    n = BIO_get_mem_data(bpriv, &data);
    if ((e = write_tmp(priv_path, data, (size_t)n, 0600, tmp_priv, sizeof tmp_priv)) != 0) {
        tmp_priv[0] = 0;
        goto io;
    }
    n = BIO_get_mem_data(bpub, &data);
    at = pub_path;
    if ((e = write_tmp(pub_path, data, (size_t)n, 0644, tmp_pub, sizeof tmp_pub)) != 0) {
        tmp_pub[0] = 0;
        goto io;
    }
    at = priv_path;
    if ((e = place(tmp_priv, priv_path)) != 0)
        goto io;
    tmp_priv[0] = 0;
    placed = 1;
    at = pub_path;
    if ((e = place(tmp_pub, pub_path)) != 0)
        goto io;
    tmp_pub[0] = 0;
    if ((e = sync_dir(priv_path)) != 0 || (e = sync_dir(pub_path)) != 0)
        goto io;
    goto out;
io:
    if (e == EEXIST)
        rc = fail(CG_EINVAL, err, errlen, "%s: exists already", at);
    else
        rc = fail(errno_code(e), err, errlen, "%s: %s", at, strerror(e));
    if (placed)
        unlink(priv_path); /* this call made it: a public key was not written with it */
    if (placed && !tmp_pub[0])
        unlink(pub_path);
out:
    if (tmp_priv[0])
        unlink(tmp_priv);
    if (tmp_pub[0])
        unlink(tmp_pub);
    BIO_free(bpriv);
    BIO_free(bpub);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rc;
}

/* ---- signatures --------------------------------------------------------------- */

int cg_key_sign(const cg_key *k, const void *msg, size_t n, uint8_t sig[CG_KEY_SIG_LEN])
{
    uint8_t s[CG_KEY_SIG_LEN];
    size_t slen = sizeof s;
    EVP_MD_CTX *c;
    int rc = CG_ENOMEM;

    if (!k->has_private)
        return CG_EINVAL;
    if ((c = EVP_MD_CTX_new()) != NULL && EVP_DigestSignInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
        EVP_DigestSign(c, s, &slen, n ? msg : (const void *)"", n) == 1 && slen == sizeof s) {
        memcpy(sig, s, sizeof s);
        rc = 0;
    }
    EVP_MD_CTX_free(c);
    ERR_clear_error();
    return rc;
}

int cg_key_verify(const cg_key *k, const void *msg, size_t n, const uint8_t sig[CG_KEY_SIG_LEN])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int rc = CG_ENOMEM;

    if (c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k->pkey) == 1)
        rc = EVP_DigestVerify(c, sig, CG_KEY_SIG_LEN, n ? msg : (const void *)"", n) == 1
            ? 0
            : CG_ECORRUPT;
    EVP_MD_CTX_free(c);
    ERR_clear_error();
    return rc;
}

/* ---- signed notes ------------------------------------------------------------- */

/* SHA-256(name || 0x0A || 0x01 || public key)[0:4], big-endian. */
static int key_id(const cg_key *k, const uint8_t *name, size_t n, uint32_t *id)
{
    static const uint8_t sep[2] = { '\n', 0x01 }; /* 0x01: Ed25519 (signed-note §Signature types) */
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t md[32];
    unsigned len = 0;
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(c, name, n) == 1 && EVP_DigestUpdate(c, sep, 2) == 1 &&
        EVP_DigestUpdate(c, k->pub, CG_KEY_PUB_LEN) == 1 && EVP_DigestFinal_ex(c, md, &len) == 1;

    EVP_MD_CTX_free(c);
    ERR_clear_error();
    if (!ok || len != 32)
        return CG_ENOMEM;
    *id = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
    return 0;
}

int cg_note_key_id(const cg_key *k, const char *name, uint32_t *id)
{
    size_t n = strlen(name);
    return name_ok((const uint8_t *)name, n) ? key_id(k, (const uint8_t *)name, n, id) : CG_EINVAL;
}

int cg_note_sign(const cg_key *k, const char *name, const char *text, char **out, size_t *outlen)
{
    size_t nl = strlen(name), tl = strlen(text), line, total, o;
    uint8_t blob[4 + CG_KEY_SIG_LEN];
    char b64[4 * ((sizeof blob + 2) / 3) + 1], *note;
    const char *why;
    uint32_t id;
    int rc, bl;

    if (!k->has_private || !name_ok((const uint8_t *)name, nl) || tl == 0 || text[tl - 1] != '\n' ||
        text_check((const uint8_t *)text, tl, &line, &why) != 0)
        return CG_EINVAL;
    total = tl + 1 + 4 + nl + 1 + (sizeof b64 - 1) + 1;
    if (total > CG_NOTE_MAX_LEN) /* it could not be verified */
        return CG_EINVAL;
    if ((rc = key_id(k, (const uint8_t *)name, nl, &id)) != 0)
        return rc;
    blob[0] = (uint8_t)(id >> 24);
    blob[1] = (uint8_t)(id >> 16);
    blob[2] = (uint8_t)(id >> 8);
    blob[3] = (uint8_t)id;
    if ((rc = cg_key_sign(k, text, tl, blob + 4)) != 0)
        return rc;
    bl = EVP_EncodeBlock((unsigned char *)b64, blob, (int)sizeof blob);
    if (!(note = malloc(total + 1)))
        return CG_ENOMEM;
    memcpy(note, text, tl);
    o = tl;
    note[o++] = '\n';
    memcpy(note + o, em_dash_sp, 4);
    o += 4;
    memcpy(note + o, name, nl);
    o += nl;
    note[o++] = ' ';
    memcpy(note + o, b64, (size_t)bl);
    o += (size_t)bl;
    note[o++] = '\n';
    note[o] = 0;
    *out = note;
    if (outlen)
        *outlen = o;
    return 0;
}

int cg_note_verify(const cg_key *k, const char *name, const char *note, size_t len,
                   size_t *text_len, char *err, size_t errlen)
{
    const uint8_t *p = (const uint8_t *)note, *nm = (const uint8_t *)name;
    size_t nl = strlen(name), split, line = 1, nsig = 0, ok = 0, bad_line = 0, other_line = 0;
    uint32_t id, other_id = 0;
    const char *why;
    int rc;

    if (len > CG_NOTE_MAX_LEN)
        return fail(CG_EMALFORMED, err, errlen, "a note of %zu bytes, over the limit of %u", len,
                    (unsigned)CG_NOTE_MAX_LEN);
    if (!name_ok(nm, nl))
        return fail(CG_EINVAL, err, errlen, "'%s': not a key name", name);
    if (text_check(p, len, &line, &why) != 0)
        return fail(CG_EMALFORMED, err, errlen, "line %zu: %s", line, why);
    for (size_t i = 0; i < len; i++)
        line += p[i] == '\n';
    if (len == 0 || p[len - 1] != '\n')
        return fail(CG_EMALFORMED, err, errlen, "line %zu: no newline at the end of the note",
                    line);
    /* the text ends before the last blank line (signed-note §Format) */
    for (split = len - 1; split > 0 && !(p[split - 1] == '\n' && p[split] == '\n'); split--)
        ;
    if (split == 0)
        return fail(CG_EMALFORMED, err, errlen, "no blank line before the signature lines");
    split--; /* p[split] is the text's final newline */
    line = 1;
    for (size_t i = 0; i <= split; i++)
        line += p[i] == '\n';
    line++; /* the first signature line's number */
    if (split + 2 == len)
        return fail(CG_EMALFORMED, err, errlen, "line %zu: no signature line after the blank line",
                    line);
    if ((rc = key_id(k, nm, nl, &id)) != 0)
        return fail(rc, err, errlen, "out of memory");
    for (size_t a = split + 2; a < len; line++) {
        const uint8_t *l = p + a, *sp, *b;
        size_t e = a, ln, bn;
        uint8_t dec[8];
        uint32_t lid;
        long dn;

        while (p[e] != '\n') /* the note ends in '\n' */
            e++;
        ln = e - a;
        a = e + 1;
        if (++nsig > CG_NOTE_MAX_SIGS)
            return fail(CG_EMALFORMED, err, errlen, "line %zu: more than %d signature lines", line,
                        CG_NOTE_MAX_SIGS);
        if (ln < 4 || memcmp(l, em_dash_sp, 4) != 0)
            return fail(CG_EMALFORMED, err, errlen,
                        "line %zu: not a signature line (\"\xe2\x80\x94 NAME SIGNATURE\")", line);
        if (!(sp = memchr(l + 4, ' ', ln - 4)))
            return fail(CG_EMALFORMED, err, errlen, "line %zu: no signature after the key name",
                        line);
        if (!name_ok(l + 4, (size_t)(sp - l - 4)))
            return fail(CG_EMALFORMED, err, errlen, "line %zu: not a key name", line);
        b = sp + 1;
        bn = ln - (size_t)(b - l);
        if ((dn = b64_check(b, bn)) < 0)
            return fail(CG_EMALFORMED, err, errlen, "line %zu: the signature is not base64", line);
        if (dn < 5)
            return fail(CG_EMALFORMED, err, errlen,
                        "line %zu: a signature of %ld bytes (a key id and at least one byte)", line,
                        dn);
        b64_decode(b, 8, dec); /* the first 6 bytes: the key id's 4 */
        lid = (uint32_t)dec[0] << 24 | (uint32_t)dec[1] << 16 | (uint32_t)dec[2] << 8 | dec[3];
        if ((size_t)(sp - l - 4) != nl || memcmp(l + 4, nm, nl) != 0)
            continue; /* another key's: ignored */
        if (lid != id) {
            if (!other_line)
                other_line = line, other_id = lid;
            continue;
        }
        /* this key's: it must verify */
        if (dn == 4 + CG_KEY_SIG_LEN) {
            uint8_t full[4 * 23]; /* 92 characters decode to 69 bytes */
            b64_decode(b, bn, full);
            if ((rc = cg_key_verify(k, p, split + 1, full + 4)) == CG_ENOMEM)
                return fail(rc, err, errlen, "out of memory");
            if (rc == 0) {
                ok++;
                continue;
            }
        }
        if (!bad_line)
            bad_line = line;
    }
    if (bad_line)
        return fail(CG_ECORRUPT, err, errlen,
                    "line %zu: the signature by %s (key id %08x) does not verify: the note was "
                    "changed",
                    bad_line, name, id);
    if (!ok) {
        if (other_line)
            return fail(CG_ENOTFOUND, err, errlen,
                        "line %zu: signed by %s with another key (key id %08x; this key's is "
                        "%08x)",
                        other_line, name, other_id, id);
        return fail(CG_ENOTFOUND, err, errlen, "no signature by %s (key id %08x)", name, id);
    }
    *text_len = split + 1;
    return 0;
}

/* ---- checkpoints -------------------------------------------------------------- */

int cg_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[32], char *buf,
                         size_t cap)
{
    size_t ol = strlen(origin), line;
    char b64[45];
    const char *why;
    int n;

    if (ol == 0 || memchr(origin, '\n', ol) ||
        text_check((const uint8_t *)origin, ol, &line, &why) != 0)
        return CG_EINVAL;
    EVP_EncodeBlock((unsigned char *)b64, root, 32);
    n = snprintf(buf, cap, "%s\n%llu\n%s\n", origin, (unsigned long long)size, b64);
    if (n < 0 || (size_t)n >= cap)
        return CG_EINVAL;
    return n;
}

int cg_checkpoint_parse(const char *text, size_t len, char *origin_out, size_t cap, uint64_t *size,
                        uint8_t root[32], char *err, size_t errlen)
{
    const uint8_t *p = (const uint8_t *)text;
    const uint8_t *l[3] = { NULL, NULL, NULL };
    size_t ll[3] = { 0, 0, 0 }, line = 1, nlines = 0;
    uint8_t dec[33];
    const char *why;
    uint64_t v = 0;

    if (text_check(p, len, &line, &why) != 0)
        return fail(CG_EMALFORMED, err, errlen, "line %zu: %s", line, why);
    for (size_t a = 0; a < len; nlines++) {
        const uint8_t *nlp = memchr(p + a, '\n', len - a);
        if (!nlp)
            return fail(CG_EMALFORMED, err, errlen, "line %zu: no newline at the end", nlines + 1);
        if (nlines < 3) {
            l[nlines] = p + a;
            ll[nlines] = (size_t)(nlp - (p + a));
        } else if (nlp == p + a) {
            return fail(CG_EMALFORMED, err, errlen, "line %zu: an empty extension line",
                        nlines + 1);
        }
        a = (size_t)(nlp - p) + 1;
    }
    if (nlines == 0 || ll[0] == 0)
        return fail(CG_EMALFORMED, err, errlen, "line 1: no origin");
    if (nlines < 2 || ll[1] == 0)
        return fail(CG_EMALFORMED, err, errlen, "line 2: no tree size");
    if (nlines < 3 || ll[2] == 0)
        return fail(CG_EMALFORMED, err, errlen, "line 3: no root hash");
    if (l[1][0] == '0' && ll[1] > 1)
        return fail(CG_EMALFORMED, err, errlen, "line 2: a tree size with a leading zero");
    for (size_t i = 0; i < ll[1]; i++) {
        unsigned d = (unsigned)l[1][i] - '0';
        if (d > 9)
            return fail(CG_EMALFORMED, err, errlen,
                        "line 2: the tree size is not a decimal number");
        if (v > (UINT64_MAX - d) / 10)
            return fail(CG_EMALFORMED, err, errlen, "line 2: a tree size over 2^64 - 1");
        v = v * 10 + d;
    }
    if (b64_check(l[2], ll[2]) != 32)
        return fail(CG_EMALFORMED, err, errlen,
                    "line 3: the root hash is not the base64 of 32 bytes");
    if (ll[0] >= cap)
        return fail(CG_EINVAL, err, errlen, "line 1: an origin of %zu bytes, longer than %zu",
                    ll[0], cap ? cap - 1 : 0);
    b64_decode(l[2], ll[2], dec);
    memcpy(origin_out, l[0], ll[0]);
    origin_out[ll[0]] = 0;
    *size = v;
    memcpy(root, dec, 32);
    return 0;
}
