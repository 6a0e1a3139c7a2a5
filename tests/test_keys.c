/* test_keys.c — store/keys.h: the SOC's Ed25519 key files, signatures, C2SP
 * signed notes and tlog checkpoints.
 *
 * The key files and signatures are checked against the `openssl` command
 * itself (pkey reads the private key, pkeyutl -verify -rawin the
 * signatures, a key OpenSSL made loads and signs here); when there is no
 * `openssl` command those checks print a skip line. The notes are checked
 * against the known answer of Go's golang.org/x/mod/sumdb/note (the
 * PeterNeumann key: the same key id, the same signed note byte for byte).
 * Every refused key file is a case of its own, with its code and message.
 *
 *   test_keys               the tests
 *   test_keys --corpus DIR  writes the seed corpus of tests/fuzz/fuzz_note.c
 *                           (notes signed with the PeterNeumann key) into DIR
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "store/keys.h"
#include "tests/check.h"

/* golang.org/x/mod/sumdb/note's example: "PRIVATE+KEY+PeterNeumann+c74f20a3+"
 * BASE64(0x01 || seed) and "PeterNeumann+c74f20a3+" BASE64(0x01 || public key). */
#define GO_SKEY "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define GO_VKEY "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_TEXT                                                  \
    "If you think cryptography is the answer to your problem,\n" \
    "then you don't know what your problem is.\n"
#define GO_SIGLINE                                                                              \
    "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX" \
    "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define GO_NOTE GO_TEXT "\n" GO_SIGLINE
#define EM "\xe2\x80\x94 "

static char tdir[256];
static int have_openssl;

/* tdir/name, in one of 8 rotating buffers */
static const char *P(const char *name)
{
    static char buf[8][512];
    static unsigned i;
    char *b = buf[i++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", tdir, name);
    return b;
}

static void write_file(const char *path, const void *data, size_t n, mode_t mode)
{
    int fd;
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, data, n) == (ssize_t)n);
    CHECK(fchmod(fd, mode) == 0);
    close(fd);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long len;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)len + 1)) != NULL) {
        *n = fread(b, 1, (size_t)len, f);
        b[*n] = 0;
    }
    fclose(f);
    return b;
}

/* Runs a shell command (made with printf's format); its exit status, -1 when it did not run. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int st;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int mode_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

/* files of tdir whose name holds ".tmp-" (what cg_key_init must not leave) */
static int tmp_files(void)
{
    DIR *d = opendir(tdir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void b64dec(const char *s, uint8_t *out)
{
    EVP_DecodeBlock(out, (const unsigned char *)s, (int)strlen(s));
}

/* Writes the Ed25519 private key of seed to path (PKCS#8 PEM, 0600) and loads it. */
static cg_key *key_from_seed(const uint8_t seed[32], const char *path)
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    BIO *b = BIO_new(BIO_s_mem());
    cg_key *k = NULL;
    char *data, err[512];
    long n;
    CHECK(pk && b && PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) == 1);
    n = BIO_get_mem_data(b, &data);
    write_file(path, data, (size_t)n, 0600);
    BIO_free(b);
    EVP_PKEY_free(pk);
    CHECK(cg_key_load_private(&k, path, err, sizeof err) == 0);
    return k;
}

/* The Go example's key (PeterNeumann), loaded from a PEM written to path. */
static cg_key *go_key(const char *path)
{
    uint8_t skey[33];
    b64dec(GO_SKEY, skey);
    CHECK(skey[0] == 0x01);
    return key_from_seed(skey + 1, path);
}

/* ---- key files ---------------------------------------------------------------- */

static void test_init(void)
{
    char err[512], want[600];
    size_t n = 0;
    char *pem, *file;
    cg_key *k = NULL, *pk = NULL;
    char fp[65], pfp[65];
    uint8_t a[32], b[32];

    CHECK(cg_key_init(P("priv.pem"), P("pub.pem"), err, sizeof err) == 0);
    CHECK_EQ_U(mode_of(P("priv.pem")), 0600);
    CHECK_EQ_U(mode_of(P("pub.pem")), 0644);
    CHECK_EQ_U(tmp_files(), 0);
    file = read_file(P("priv.pem"), &n);
    CHECK(file && strncmp(file, "-----BEGIN PRIVATE KEY-----\n", 28) == 0); /* PKCS#8 */
    free(file);
    file = read_file(P("pub.pem"), &n);
    CHECK(file && strncmp(file, "-----BEGIN PUBLIC KEY-----\n", 27) == 0); /* SPKI */

    CHECK(cg_key_load_private(&k, P("priv.pem"), err, sizeof err) == 0);
    CHECK(cg_key_load_public(&pk, P("pub.pem"), err, sizeof err) == 0);
    CHECK(k && pk && cg_key_has_private(k) && !cg_key_has_private(pk));
    if (!k || !pk)
        goto out;
    cg_key_public_raw(k, a);
    cg_key_public_raw(pk, b);
    CHECK(memcmp(a, b, 32) == 0);
    cg_key_fingerprint(k, fp);
    cg_key_fingerprint(pk, pfp);
    CHECK_STR(fp, pfp);
    CHECK_EQ_U(strlen(fp), 64);
    CHECK(strspn(fp, "0123456789abcdef") == 64);
    /* the PEM beside a case file is the file init wrote */
    CHECK(cg_key_public_pem(k, &pem, &n) == 0);
    CHECK(file && n == strlen(file) && memcmp(pem, file, n) == 0 && pem[n] == 0);
    free(pem);

    /* never over a key: the private key, the public key, one path for both */
    CHECK(cg_key_init(P("priv.pem"), P("pub2.pem"), err, sizeof err) == CG_EINVAL);
    snprintf(want, sizeof want, "%s: exists already", P("priv.pem"));
    CHECK_STR(err, want);
    CHECK(mode_of(P("pub2.pem")) < 0);
    CHECK(cg_key_init(P("priv2.pem"), P("pub.pem"), err, sizeof err) == CG_EINVAL);
    snprintf(want, sizeof want, "%s: exists already", P("pub.pem"));
    CHECK_STR(err, want);
    CHECK(mode_of(P("priv2.pem")) < 0);
    CHECK(cg_key_init(P("same.pem"), P("same.pem"), err, sizeof err) == CG_EINVAL);
    CHECK(mode_of(P("same.pem")) < 0);
    /* a directory that is not there: nothing left behind */
    CHECK(cg_key_init(P("nodir/priv.pem"), P("pub3.pem"), err, sizeof err) == CG_ENOTFOUND);
    CHECK_CONTAINS(err, "nodir/priv.pem");
    CHECK(mode_of(P("pub3.pem")) < 0);
    CHECK(cg_key_init(P("priv3.pem"), P("nodir/pub.pem"), err, sizeof err) == CG_ENOTFOUND);
    CHECK_CONTAINS(err, "nodir/pub.pem: No such file or directory");
    CHECK(mode_of(P("priv3.pem")) < 0);
    CHECK_EQ_U(tmp_files(), 0);
    /* the mode is 0600 whatever the umask */
    {
        mode_t old = umask(0);
        CHECK(cg_key_init(P("priv4.pem"), P("pub4.pem"), err, sizeof err) == 0);
        CHECK_EQ_U(mode_of(P("priv4.pem")), 0600);
        CHECK_EQ_U(mode_of(P("pub4.pem")), 0644);
        umask(old);
    }
    /* two inits, two keys */
    {
        cg_key *k4 = NULL;
        char fp4[65];
        CHECK(cg_key_load_public(&k4, P("pub4.pem"), err, sizeof err) == 0);
        if (k4) {
            cg_key_fingerprint(k4, fp4);
            CHECK(strcmp(fp, fp4) != 0);
        }
        cg_key_free(k4);
    }
out:
    free(file);
    cg_key_free(k);
    cg_key_free(pk);
}

/* OpenSSL reads what init wrote, verifies what sign made, and the reverse. */
static void test_openssl(void)
{
    char err[512], fp[65], line[128] = "";
    static const char msg[] = "case 2025-0042: evidence.pcapng sha256 0123abcd\n";
    uint8_t sig[64], bad[64];
    cg_key *k = NULL, *pk = NULL, *ok = NULL;
    size_t n = 0;
    char *s;
    FILE *f;

    if (!have_openssl) {
        printf("test_keys: no openssl command: its checks skipped\n");
        return;
    }
    CHECK(cg_key_load_private(&k, P("priv.pem"), err, sizeof err) == 0);
    CHECK(cg_key_load_public(&pk, P("pub.pem"), err, sizeof err) == 0);
    if (!k || !pk)
        goto out;
    CHECK(sh("openssl pkey -in %s -noout 2>/dev/null", P("priv.pem")) == 0);
    CHECK(sh("openssl pkey -pubin -in %s -noout 2>/dev/null", P("pub.pem")) == 0);
    CHECK(sh("openssl pkey -in %s -text -noout 2>/dev/null | grep -q ED25519", P("priv.pem")) == 0);

    CHECK(cg_key_sign(k, msg, strlen(msg), sig) == 0);
    CHECK(cg_key_verify(pk, msg, strlen(msg), sig) == 0);
    write_file(P("msg"), msg, strlen(msg), 0644);
    write_file(P("sig"), sig, 64, 0644);
#define VERIFY(m, sg)                                                                        \
    sh("openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s >/dev/null 2>&1", \
       P("pub.pem"), P(m), P(sg))
    CHECK(VERIFY("msg", "sig") == 0);
    /* a byte of the message, a byte of the signature: refused by both */
    s = strdup(msg);
    s[5] ^= 1;
    write_file(P("msg-flipped"), s, strlen(s), 0644);
    CHECK(VERIFY("msg-flipped", "sig") != 0);
    CHECK(cg_key_verify(pk, s, strlen(s), sig) == CG_ECORRUPT);
    free(s);
    memcpy(bad, sig, 64);
    bad[40] ^= 0x10;
    write_file(P("sig-flipped"), bad, 64, 0644);
    CHECK(VERIFY("msg", "sig-flipped") != 0);
    CHECK(cg_key_verify(pk, msg, strlen(msg), bad) == CG_ECORRUPT);

    /* OpenSSL signs, canhgac verifies */
    CHECK(sh("openssl pkeyutl -sign -inkey %s -rawin -in %s -out %s 2>/dev/null", P("priv.pem"),
             P("msg"), P("sig-openssl")) == 0);
    s = read_file(P("sig-openssl"), &n);
    CHECK(s && n == 64 && memcmp(s, sig, 64) == 0); /* Ed25519 is deterministic */
    free(s);

    /* the fingerprint: SHA-256 of the last 32 bytes of the DER public key */
    {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "openssl pkey -pubin -in %s -outform DER 2>/dev/null | tail -c 32 | sha256sum",
                 P("pub.pem"));
        f = popen(cmd, "r");
        CHECK(f != NULL);
        if (f) {
            CHECK(fgets(line, sizeof line, f) != NULL);
            pclose(f);
        }
        cg_key_fingerprint(pk, fp);
        CHECK(strncmp(line, fp, 64) == 0);
    }

    /* a key OpenSSL made loads here and signs what OpenSSL verifies */
    CHECK(sh("openssl genpkey -algorithm ed25519 -out %s 2>/dev/null && chmod 600 %s && "
             "openssl pkey -in %s -pubout -out %s 2>/dev/null",
             P("ossl.pem"), P("ossl.pem"), P("ossl.pem"), P("ossl-pub.pem")) == 0);
    CHECK(cg_key_load_private(&ok, P("ossl.pem"), err, sizeof err) == 0);
    if (ok) {
        CHECK(cg_key_sign(ok, msg, strlen(msg), sig) == 0);
        write_file(P("sig-ossl"), sig, 64, 0644);
        CHECK(sh("openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s >/dev/null "
                 "2>&1",
                 P("ossl-pub.pem"), P("msg"), P("sig-ossl")) == 0);
        /* and the wrong public key refuses it */
        CHECK(VERIFY("msg", "sig-ossl") != 0);
        CHECK(cg_key_verify(pk, msg, strlen(msg), sig) == CG_ECORRUPT);
    }
#undef VERIFY
out:
    cg_key_free(ok);
    cg_key_free(k);
    cg_key_free(pk);
}

static void test_sign_verify(void)
{
    char err[512];
    cg_key *k = NULL, *pk = NULL, *k4 = NULL;
    uint8_t sig[64], sig2[64], big[100000];

    CHECK(cg_key_load_private(&k, P("priv.pem"), err, sizeof err) == 0);
    CHECK(cg_key_load_public(&pk, P("pub.pem"), err, sizeof err) == 0);
    CHECK(cg_key_load_private(&k4, P("priv4.pem"), err, sizeof err) == 0);
    if (!k || !pk || !k4)
        goto out;
    /* the empty message */
    CHECK(cg_key_sign(k, NULL, 0, sig) == 0);
    CHECK(cg_key_verify(pk, "", 0, sig) == 0);
    CHECK(cg_key_verify(pk, "x", 1, sig) == CG_ECORRUPT);
    /* a large one, every byte counts */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    CHECK(cg_key_sign(k, big, sizeof big, sig) == 0);
    CHECK(cg_key_verify(pk, big, sizeof big, sig) == 0);
    big[sizeof big - 1] ^= 0x80;
    CHECK(cg_key_verify(pk, big, sizeof big, sig) == CG_ECORRUPT);
    big[sizeof big - 1] ^= 0x80;
    CHECK(cg_key_verify(pk, big, sizeof big - 1, sig) == CG_ECORRUPT);
    /* each bit of the signature */
    {
        int refused = 0;
        for (int i = 0; i < 512; i++) {
            memcpy(sig2, sig, 64);
            sig2[i / 8] ^= (uint8_t)(1u << (i % 8));
            refused += cg_key_verify(pk, big, sizeof big, sig2) == CG_ECORRUPT;
        }
        CHECK_EQ_U(refused, 512);
    }
    /* another key */
    CHECK(cg_key_verify(k4, big, sizeof big, sig) == CG_ECORRUPT);
    CHECK(cg_key_sign(k4, big, sizeof big, sig2) == 0);
    CHECK(cg_key_verify(pk, big, sizeof big, sig2) == CG_ECORRUPT);
    /* a public key does not sign; output untouched */
    memset(sig2, 0xaa, 64);
    CHECK(cg_key_sign(pk, "x", 1, sig2) == CG_EINVAL);
    CHECK(sig2[0] == 0xaa && sig2[63] == 0xaa);
    cg_key_free(NULL);
out:
    cg_key_free(k);
    cg_key_free(pk);
    cg_key_free(k4);
}

/* One refused key file: the code, and a message that names the file, holds
 * want and is one line. */
#define REFUSED(loader, file, code, want)                                       \
    do {                                                                        \
        cg_key *k_ = (cg_key *)&k_;                                             \
        char e_[1024] = "";                                                     \
        CHECK_EQ_U(loader(&k_, file, e_, sizeof e_), code);                     \
        CHECK(k_ == (cg_key *)&k_); /* not written */                           \
        CHECK(strncmp(e_, file, strlen(file)) == 0 && e_[strlen(file)] == ':'); \
        CHECK_CONTAINS(e_, want);                                               \
        CHECK(strchr(e_, '\n') == NULL);                                        \
    } while (0)

static void test_bad_keys(void)
{
    char want[1024], *pub, *priv;
    size_t npub = 0, npriv = 0;
    EVP_PKEY *pk;
    BIO *b;
    char *data;
    long n;

    priv = read_file(P("priv.pem"), &npriv);
    pub = read_file(P("pub.pem"), &npub);
    CHECK(priv && pub);
    if (!priv || !pub)
        goto out;

    /* missing */
    REFUSED(cg_key_load_private, P("none.pem"), CG_ENOTFOUND, "No such file or directory");
    snprintf(want, sizeof want, "%s: No such file or directory", P("none.pem"));
    {
        cg_key *k = NULL;
        char e[1024];
        CHECK(cg_key_load_private(&k, P("none.pem"), e, sizeof e) == CG_ENOTFOUND);
        CHECK_STR(e, want);
    }
    REFUSED(cg_key_load_public, P("none.pem"), CG_ENOTFOUND, "No such file or directory");

    /* open to others: the exact line */
    write_file(P("k644.pem"), priv, npriv, 0644);
    snprintf(want, sizeof want, "%s: readable by others (mode 0644): chmod 600 %s", P("k644.pem"),
             P("k644.pem"));
    {
        cg_key *k = NULL;
        char e[1024];
        CHECK(cg_key_load_private(&k, P("k644.pem"), e, sizeof e) == CG_EINVAL);
        CHECK_STR(e, want);
    }
    write_file(P("k640.pem"), priv, npriv, 0640);
    REFUSED(cg_key_load_private, P("k640.pem"), CG_EINVAL, "readable by others (mode 0640)");
    write_file(P("k604.pem"), priv, npriv, 0604);
    REFUSED(cg_key_load_private, P("k604.pem"), CG_EINVAL, "readable by others (mode 0604)");
    write_file(P("k620.pem"), priv, npriv, 0620);
    REFUSED(cg_key_load_private, P("k620.pem"), CG_EINVAL, "writable by others (mode 0620)");
    write_file(P("k400.pem"), priv, npriv, 0400); /* read-only for its owner: fine */
    {
        cg_key *k = NULL;
        char e[1024];
        CHECK(cg_key_load_private(&k, P("k400.pem"), e, sizeof e) == 0);
        cg_key_free(k);
    }
    /* the public key may be read by all */
    {
        cg_key *k = NULL;
        char e[1024];
        CHECK(cg_key_load_public(&k, P("pub.pem"), e, sizeof e) == 0);
        cg_key_free(k);
    }

    /* unreadable: as root, by a child that is nobody */
    write_file(P("k000.pem"), priv, npriv, 0600);
    if (geteuid() != 0) {
        CHECK(chmod(P("k000.pem"), 0) == 0);
        REFUSED(cg_key_load_private, P("k000.pem"), CG_EIO, "Permission denied");
    } else {
        pid_t pid;
        int st = 0;
        CHECK(chmod(tdir, 0711) == 0);
        fflush(NULL);
        if ((pid = fork()) == 0) {
            cg_key *k = NULL;
            char e[1024] = "";
            int rc;
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
            rc = cg_key_load_private(&k, P("k000.pem"), e, sizeof e);
            _exit(rc == CG_EIO && strstr(e, "Permission denied") && strstr(e, "k000.pem") ? 0 : 1);
        }
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st));
        if (WEXITSTATUS(st) == 3)
            printf("test_keys: cannot become nobody: the unreadable key's check skipped\n");
        else
            CHECK_EQ_U(WEXITSTATUS(st), 0);
        CHECK(chmod(tdir, 0700) == 0);
    }

    /* not a regular file: a directory, a FIFO (refused, not waited on) */
    CHECK(mkdir(P("adir.pem"), 0700) == 0);
    REFUSED(cg_key_load_private, P("adir.pem"), CG_EINVAL, "not a regular file");
    REFUSED(cg_key_load_public, P("adir.pem"), CG_EINVAL, "not a regular file");
    CHECK(mkfifo(P("fifo.pem"), 0600) == 0);
    REFUSED(cg_key_load_private, P("fifo.pem"), CG_EINVAL, "not a regular file");

    /* not a PEM: text, empty, binary, too large */
    write_file(P("text.pem"), "hello, I am a key\n", 18, 0600);
    REFUSED(cg_key_load_private, P("text.pem"), CG_EMALFORMED, "not a PEM file");
    REFUSED(cg_key_load_public, P("text.pem"), CG_EMALFORMED, "not a PEM file");
    write_file(P("empty.pem"), "", 0, 0600);
    REFUSED(cg_key_load_private, P("empty.pem"), CG_EMALFORMED, "not a PEM file");
    write_file(P("der.pem"), "\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70", 12, 0600);
    REFUSED(cg_key_load_private, P("der.pem"), CG_EMALFORMED, "not a PEM file");
    {
        char *huge = malloc(20000);
        CHECK(huge != NULL);
        if (huge) {
            memcpy(huge, priv, npriv);
            memset(huge + npriv, '\n', 20000 - npriv);
            write_file(P("huge.pem"), huge, 20000, 0600);
            free(huge);
            REFUSED(cg_key_load_private, P("huge.pem"), CG_EMALFORMED, "over 16384 bytes");
        }
    }
    /* a PEM of the wrong kind */
    write_file(P("pub-as-priv.pem"), pub, npub, 0600);
    REFUSED(cg_key_load_private, P("pub-as-priv.pem"), CG_EMALFORMED,
            "holds a public key, not a private key");
    REFUSED(cg_key_load_public, P("priv.pem"), CG_EMALFORMED,
            "holds a private key, not a public key");
    write_file(P("cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 59,
               0600);
    REFUSED(cg_key_load_private, P("cert.pem"), CG_EMALFORMED,
            "a PEM CERTIFICATE, not a private key");
    REFUSED(cg_key_load_public, P("cert.pem"), CG_EMALFORMED,
            "a PEM CERTIFICATE, not a public key");
    /* damaged: a character of the base64 changed, the END line cut, an empty
     * block, base64 that is not a key, a key cut short */
    {
        char *d = malloc(npriv + npub + 256);
        strcpy(d, priv);
        d[28 + 10] = '*'; /* after the BEGIN line */
        write_file(P("damaged.pem"), d, npriv, 0600);
        REFUSED(cg_key_load_private, P("damaged.pem"), CG_EMALFORMED,
                "a damaged PEM file (its base64 does not decode");
        strcpy(d, pub);
        d[27 + 20] = '!';
        write_file(P("damaged-pub.pem"), d, npub, 0644);
        REFUSED(cg_key_load_public, P("damaged-pub.pem"), CG_EMALFORMED, "a damaged PEM file");
        strcpy(d, priv);
        *strstr(d, "-----END") = 0;
        write_file(P("no-end.pem"), d, strlen(d), 0600);
        REFUSED(cg_key_load_private, P("no-end.pem"), CG_EMALFORMED, "no END line");
        strcpy(d, "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n");
        write_file(P("hollow.pem"), d, strlen(d), 0600);
        REFUSED(cg_key_load_private, P("hollow.pem"), CG_EMALFORMED, "PEM");
        strcpy(d, "-----BEGIN PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END PRIVATE KEY-----\n");
        write_file(P("not-der.pem"), d, strlen(d), 0600);
        REFUSED(cg_key_load_private, P("not-der.pem"), CG_EMALFORMED,
                "a damaged private key (its PEM block decodes to no key OpenSSL reads)");
        strcpy(d,
               "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAY1Ilaav2VYTeqjcSR9KfCsXh\n"
               "-----END PUBLIC KEY-----\n");
        write_file(P("short-pub.pem"), d, strlen(d), 0644);
        REFUSED(cg_key_load_public, P("short-pub.pem"), CG_EMALFORMED,
                "a damaged public key (its PEM block decodes to no key OpenSSL reads)");
        /* OpenSSH's own format */
        strcpy(d,
               "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n"
               "-----END OPENSSH PRIVATE KEY-----\n");
        write_file(P("openssh.pem"), d, strlen(d), 0600);
        REFUSED(cg_key_load_private, P("openssh.pem"), CG_EUNSUPPORTED,
                "an OpenSSH key: canhgac reads PKCS#8 PEM keys");
        free(d);
    }
    /* encrypted: refused, never prompted for */
    pk = NULL;
    {
        cg_key *k = NULL;
        char e[256];
        CHECK(cg_key_load_private(&k, P("priv.pem"), e, sizeof e) == 0);
        cg_key_free(k);
    }
    b = BIO_new_mem_buf(priv, (int)npriv);
    pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    CHECK(pk != NULL);
    b = BIO_new(BIO_s_mem());
    CHECK(PEM_write_bio_PKCS8PrivateKey(b, pk, EVP_aes_256_cbc(), "secret", 6, NULL, NULL) == 1);
    n = BIO_get_mem_data(b, &data);
    write_file(P("enc.pem"), data, (size_t)n, 0600);
    BIO_free(b);
    EVP_PKEY_free(pk);
    /* the older encryption in PEM headers (Proc-Type), of an EC key: Ed25519 has no such form */
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    b = BIO_new(BIO_s_mem());
    CHECK(pk &&
          PEM_write_bio_PrivateKey_traditional(b, pk, EVP_aes_128_cbc(), NULL, 0, NULL, "secret") ==
              1);
    n = BIO_get_mem_data(b, &data);
    write_file(P("enc-trad.pem"), data, (size_t)n, 0600);
    BIO_free(b);
    EVP_PKEY_free(pk);
    REFUSED(cg_key_load_private, P("enc.pem"), CG_EUNSUPPORTED, "an encrypted private key");
    REFUSED(cg_key_load_private, P("enc-trad.pem"), CG_EUNSUPPORTED, "an encrypted private key");

    /* another algorithm: Ed448, X25519, EC P-256 */
    {
        static const char *const types[][2] = { { "ED448", "ed448" },
                                                { "X25519", "x25519" },
                                                { "EC", "ec" } };
        for (int i = 0; i < 3; i++) {
            char name[64], pname[64], msg[128];
            pk = i == 2 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                        : EVP_PKEY_Q_keygen(NULL, NULL, types[i][0]);
            CHECK(pk != NULL);
            if (!pk)
                continue;
            snprintf(name, sizeof name, "%s.pem", types[i][1]);
            snprintf(pname, sizeof pname, "%s-pub.pem", types[i][1]);
            b = BIO_new(BIO_s_mem());
            CHECK(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) == 1);
            n = BIO_get_mem_data(b, &data);
            write_file(P(name), data, (size_t)n, 0600);
            BIO_free(b);
            b = BIO_new(BIO_s_mem());
            CHECK(PEM_write_bio_PUBKEY(b, pk) == 1);
            n = BIO_get_mem_data(b, &data);
            write_file(P(pname), data, (size_t)n, 0644);
            BIO_free(b);
            EVP_PKEY_free(pk);
            snprintf(msg, sizeof msg, "key type %s, not Ed25519", types[i][0]);
            REFUSED(cg_key_load_private, P(name), CG_EUNSUPPORTED, msg);
            REFUSED(cg_key_load_public, P(pname), CG_EUNSUPPORTED, msg);
        }
    }
out:
    free(priv);
    free(pub);
}

/* ---- signed notes ------------------------------------------------------------- */

/* note verify: the code, and (when want) the message holds want */
static int nv(const cg_key *k, const char *name, const char *note, size_t len, const char *want)
{
    char err[512] = "";
    size_t tl = 12345;
    int rc = cg_note_verify(k, name, note, len, &tl, err, sizeof err);
    if (want)
        CHECK_CONTAINS(err, want);
    if (rc)
        CHECK_EQ_U(tl, 12345); /* not written */
    return rc;
}

static void test_go_known_answer(void)
{
    uint8_t vkey[33], pub[32];
    char *note = NULL, err[256];
    size_t len = 0, tl = 0;
    uint32_t id = 0;
    cg_key *k = go_key(P("peter.pem"));

    if (!k)
        return;
    b64dec(GO_VKEY, vkey);
    cg_key_public_raw(k, pub);
    CHECK(vkey[0] == 0x01 && memcmp(vkey + 1, pub, 32) == 0);
    CHECK(cg_note_key_id(k, "PeterNeumann", &id) == 0);
    CHECK_EQ_U(id, 0xc74f20a3);
    CHECK(cg_note_key_id(k, "Peter Neumann", &id) == CG_EINVAL);
    /* byte for byte what Go's note.Sign writes */
    CHECK(cg_note_sign(k, "PeterNeumann", GO_TEXT, &note, &len) == 0);
    CHECK_STR(note, GO_NOTE);
    CHECK_EQ_U(len, strlen(GO_NOTE));
    free(note);
    CHECK(cg_note_verify(k, "PeterNeumann", GO_NOTE, strlen(GO_NOTE), &tl, err, sizeof err) == 0);
    CHECK_EQ_U(tl, strlen(GO_TEXT));
    cg_key_free(k);
}

static void test_notes(void)
{
    char err[512], *note = NULL, *n2 = NULL, buf[8192];
    const char *name = "soc.example.vn/canhgac";
    size_t len = 0, tl = 0;
    cg_key *k = NULL, *pk = NULL, *k4 = NULL, *peter = go_key(P("peter.pem"));
    static const char text[] = "case 2025-0042\nincidents 17\n\nsha256 0123456789abcdef\n";

    CHECK(cg_key_load_private(&k, P("priv.pem"), err, sizeof err) == 0);
    CHECK(cg_key_load_public(&pk, P("pub.pem"), err, sizeof err) == 0);
    CHECK(cg_key_load_private(&k4, P("priv4.pem"), err, sizeof err) == 0);
    if (!k || !pk || !k4 || !peter)
        goto out;

    /* round trip: a text with a blank line of its own */
    CHECK(cg_note_sign(k, name, text, &note, &len) == 0);
    if (!note)
        goto out;
    CHECK_EQ_U(len, strlen(note));
    CHECK(strncmp(note, text, strlen(text)) == 0);
    CHECK(strncmp(note + strlen(text), "\n" EM "soc.example.vn/canhgac ", 28) == 0);
    CHECK_EQ_U(len, strlen(text) + 1 + 4 + strlen(name) + 1 + 92 + 1);
    CHECK(cg_note_verify(pk, name, note, len, &tl, err, sizeof err) == 0);
    CHECK_EQ_U(tl, strlen(text));
    /* not NUL-terminated: a copy of exactly len bytes */
    {
        char *exact = malloc(len);
        memcpy(exact, note, len);
        CHECK(cg_note_verify(pk, name, exact, len, &tl, err, sizeof err) == 0);
        free(exact);
    }

    /* tampered text: each byte of the text changed in turn */
    {
        int refused = 0;
        for (size_t i = 0; i < strlen(text); i++) {
            memcpy(buf, note, len);
            if (buf[i] == '\n')
                continue;
            buf[i] = buf[i] == 'x' ? 'y' : 'x';
            refused += nv(pk, name, buf, len, NULL) == CG_ECORRUPT;
        }
        CHECK_EQ_U(refused, strlen(text) - 4); /* but its 4 newlines */
        memcpy(buf, note, len);
        buf[0] = 'C';
        CHECK(nv(pk, name, buf, len, "line 6: the signature by soc.example.vn/canhgac") ==
              CG_ECORRUPT);
        CHECK(nv(pk, name, buf, len, "does not verify") == CG_ECORRUPT);
    }
    /* a text line added, a line taken away */
    snprintf(buf, sizeof buf, "extra\n%s", note);
    CHECK(nv(pk, name, buf, strlen(buf), NULL) == CG_ECORRUPT);
    CHECK(nv(pk, name, note + 15, len - 15, NULL) == CG_ECORRUPT);
    /* tampered signature: a base64 character (the id's kept) */
    {
        char *sig = strstr(note, EM) + 4 + strlen(name) + 1;
        int refused = 0;
        for (int i = 8; i < 90; i++) {
            memcpy(buf, note, len + 1);
            char *s = buf + (sig - note);
            s[i] = s[i] == 'A' ? 'B' : 'A';
            refused += nv(pk, name, buf, len, NULL) == CG_ECORRUPT;
        }
        CHECK_EQ_U(refused, 82);
        /* the key id changed: no longer this key's line */
        memcpy(buf, note, len + 1);
        buf[sig - note + 1] = buf[sig - note + 1] == 'A' ? 'B' : 'A';
        CHECK(nv(pk, name, buf, len, "signed by soc.example.vn/canhgac with another key") ==
              CG_ENOTFOUND);
        /* the padding bits set: not canonical base64 */
        memcpy(buf, note, len + 1);
        {
            char *c = buf + (sig - note) + 90; /* 92 characters: the last before '=' */
            static const char a64[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            CHECK(c[1] == '=' && strchr(a64, *c) && (strchr(a64, *c) - a64) % 4 == 0);
            *c = a64[(strchr(a64, *c) - a64) ^ 1];
        }
        CHECK(nv(pk, name, buf, len, "the signature is not base64") == CG_EMALFORMED);
    }
    /* other keys: another key under the name, another name */
    CHECK(nv(k4, name, note, len, "with another key") == CG_ENOTFOUND);
    CHECK(nv(pk, "other.example/key", note, len, "no signature by other.example/key (key id") ==
          CG_ENOTFOUND);
    CHECK(nv(pk, "Peter Neumann", note, len, "not a key name") == CG_EINVAL);

    /* more signature lines: other keys' are ignored, this key's must all verify */
    CHECK(cg_note_sign(k4, "witness.example/w1", text, &n2, NULL) == 0);
    if (n2) {
        const char *l2 = n2 + strlen(text) + 1;
        /* another key's line, then this key's */
        snprintf(buf, sizeof buf, "%s\n%s%s", text, l2, note + strlen(text) + 1);
        CHECK(nv(pk, name, buf, strlen(buf), NULL) == 0);
        CHECK(nv(k4, "witness.example/w1", buf, strlen(buf), NULL) == 0);
        /* an unknown key's line of any length, and an unknown signature type */
        snprintf(buf, sizeof buf, "%s" EM "pq.example/k AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
                 note);
        CHECK(nv(pk, name, buf, strlen(buf), NULL) == 0);
        /* this key's line twice, the second one damaged */
        {
            const char *mine = note + strlen(text) + 1;
            snprintf(buf, sizeof buf, "%s%s", note, mine);
            CHECK(nv(pk, name, buf, strlen(buf), NULL) == 0);
            buf[strlen(buf) - 10] = buf[strlen(buf) - 10] == 'A' ? 'B' : 'A';
            CHECK(nv(pk, name, buf, strlen(buf), "line 7:") == CG_ECORRUPT);
        }
        free(n2);
        n2 = NULL;
    }
    /* the note Go signed, with this key's name but not its key */
    CHECK(nv(pk, "PeterNeumann", GO_NOTE, strlen(GO_NOTE), "another key (key id c74f20a3") ==
          CG_ENOTFOUND);
    CHECK(nv(peter, "PeterNeumann", GO_NOTE, strlen(GO_NOTE), NULL) == 0);

    /* malformed notes, each with its line */
#define MAL(s, want) CHECK(nv(peter, "PeterNeumann", s, sizeof s - 1, want) == CG_EMALFORMED)
    MAL("", "line 1: no newline at the end");
    MAL(GO_TEXT "\n" EM "PeterNeumann x08go/ZJkuBS9UG", "line 4: no newline at the end");
    MAL(GO_TEXT EM "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                   "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "no blank line before the signature lines");
    MAL(GO_TEXT "\n", "line 4: no signature line after the blank line");
    MAL(GO_TEXT "\n\n", "line 5: no signature line after the blank line");
    MAL(GO_TEXT "\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "line 4: not a signature line");
    MAL(GO_TEXT "\n" GO_SIGLINE "-- PeterNeumann AAAAAAAA\n", "line 5: not a signature line");
    MAL(GO_TEXT "\n" EM "PeterNeumann\n", "line 4: no signature after the key name");
    MAL(GO_TEXT "\n" EM " x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
                "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "line 4: not a key name");
    MAL(GO_TEXT "\n" EM "Peter+Neumann AAAAAAAA\n", "line 4: not a key name");
    MAL(GO_TEXT "\n" EM "Peter\xc2\xa0Neumann AAAAAAAA\n", "line 4: not a key name");
    MAL(GO_TEXT "\n" EM "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
                "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
        "line 4: the signature is not base64");
    MAL(GO_TEXT "\n" EM "PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
                "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM= \n",
        "line 4: the signature is not base64");
    MAL(GO_TEXT "\n" EM "PeterNeumann x08g*/ZJ\n", "line 4: the signature is not base64");
    MAL(GO_TEXT "\n" EM "PeterNeumann \n", "line 4: the signature is not base64");
    MAL(GO_TEXT "\n" EM "PeterNeumann x08g\n", "line 4: a signature of 3 bytes");
    MAL(GO_TEXT "\n" EM "PeterNeumann x08gow==\n", "line 4: a signature of 4 bytes");
    MAL("If you think\r\ncryptography\n\n" GO_SIGLINE, "line 1: a control character");
    MAL("If you think\ncryptography\tis\n\n" GO_SIGLINE, "line 2: a control character");
    MAL("If you think\ncrypto\xff\n\n" GO_SIGLINE, "line 2: not valid UTF-8");
    MAL("If you think\ncrypto\xc0\xaf\n\n" GO_SIGLINE, "line 2: not valid UTF-8"); /* overlong */
    MAL("If you think\ncrypto\xed\xa0\x80\n\n" GO_SIGLINE, "line 2: not valid UTF-8");
    MAL("If you think\ncrypto\xe2\x80\n\n" GO_SIGLINE, "line 2: not valid UTF-8");
    MAL(GO_TEXT "\n" EM "PeterNeumann AAAAAAAA\x00\n", "line 4: a control character");
#undef MAL
    /* a NUL in the text (the length says where the note ends, not a NUL) */
    {
        static const char nul[] = "a\0b\n\n" GO_SIGLINE;
        CHECK(nv(peter, "PeterNeumann", nul, sizeof nul - 1, "line 1: a control character") ==
              CG_EMALFORMED);
    }
    /* at most 100 signature lines; 100 are read */
    {
        size_t o = (size_t)snprintf(buf, sizeof buf, "%s\n", GO_TEXT);
        char *many = malloc(200 * 40);
        memcpy(many, buf, o);
        for (int i = 0; i < 99; i++)
            o += (size_t)sprintf(many + o, EM "w%d.example/k AAAAAAAA\n", i);
        o += (size_t)sprintf(many + o, "%s", GO_SIGLINE);
        CHECK(nv(peter, "PeterNeumann", many, o, NULL) == 0);
        o += (size_t)sprintf(many + o, EM "w.example/k AAAAAAAA\n");
        CHECK(nv(peter, "PeterNeumann", many, o, "line 104: more than 100 signature lines") ==
              CG_EMALFORMED);
        free(many);
    }
    /* over the size limit */
    {
        size_t big = CG_NOTE_MAX_LEN + 1;
        char *h = malloc(big);
        memset(h, 'a', big);
        h[big - 1] = '\n';
        CHECK(nv(peter, "PeterNeumann", h, big, "over the limit") == CG_EMALFORMED);
        free(h);
    }

    /* what cg_note_sign refuses */
    n2 = (char *)"untouched";
    CHECK(cg_note_sign(k, "", "a\n", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k, "a b", "a\n", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k, "a+b", "a\n", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k,
                       "a\xe3\x80\x80"
                       "b",
                       "a\n", &n2, NULL) == CG_EINVAL); /* U+3000 */
    CHECK(cg_note_sign(k, "a\xff", "a\n", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k, "a\tb", "a\n", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k, name, "", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k, name, "no newline", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k, name, "a\r\n", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(k, name, "\xc3\x28\n", &n2, NULL) == CG_EINVAL);
    CHECK(cg_note_sign(pk, name, "a\n", &n2, NULL) == CG_EINVAL); /* public only */
    CHECK_STR(n2, "untouched");
    n2 = NULL;
    /* texts that are still notes: a blank last line, UTF-8, a text line like a signature */
    {
        static const char *const texts[] = { "a\n\n", "\n", "Tuyên Quang — sở\n",
                                             EM "PeterNeumann AAAAAAAA\n" };
        for (int i = 0; i < 4; i++) {
            char *s = NULL;
            size_t sl = 0;
            CHECK(cg_note_sign(peter, "PeterNeumann", texts[i], &s, &sl) == 0);
            if (!s)
                continue;
            CHECK(nv(peter, "PeterNeumann", s, sl, NULL) == 0);
            tl = 0;
            CHECK(cg_note_verify(peter, "PeterNeumann", s, sl, &tl, err, sizeof err) == 0);
            CHECK_EQ_U(tl, strlen(texts[i]));
            free(s);
        }
    }
out:
    free(note);
    cg_key_free(k);
    cg_key_free(pk);
    cg_key_free(k4);
    cg_key_free(peter);
}

/* ---- checkpoints -------------------------------------------------------------- */

static int cp_parse(const char *text, size_t len, const char *want)
{
    char origin[64] = "untouched", err[256] = "";
    uint64_t size = 7;
    uint8_t root[32];
    int rc;
    memset(root, 0xee, 32);
    rc = cg_checkpoint_parse(text, len, origin, sizeof origin, &size, root, err, sizeof err);
    if (want)
        CHECK_CONTAINS(err, want);
    if (rc) {
        CHECK_STR(origin, "untouched");
        CHECK(size == 7 && root[0] == 0xee && root[31] == 0xee);
    }
    return rc;
}

static void test_checkpoints(void)
{
    static const uint64_t sizes[] = { 0, 1, 9, 10, 12345, 20852163, UINT64_MAX };
    char buf[256], origin[64], err[256];
    uint8_t root[32], got[32];
    uint64_t size;
    int n;

    for (int i = 0; i < 32; i++)
        root[i] = (uint8_t)(i * 37 + 11);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        n = cg_checkpoint_format("canhgac.test/store", sizes[i], root, buf, sizeof buf);
        CHECK(n > 0 && (size_t)n == strlen(buf));
        CHECK(cg_checkpoint_parse(buf, (size_t)n, origin, sizeof origin, &size, got, err,
                                  sizeof err) == 0);
        CHECK_STR(origin, "canhgac.test/store");
        CHECK(size == sizes[i]);
        CHECK(memcmp(got, root, 32) == 0);
    }
    n = cg_checkpoint_format("canhgac.test/store", 0, root, buf, sizeof buf);
    CHECK_STR(buf, "canhgac.test/store\n0\nCzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYY=\n");
    n = cg_checkpoint_format("o", UINT64_MAX, root, buf, sizeof buf);
    CHECK_CONTAINS(buf, "\n18446744073709551615\n");
    /* the spec's example */
    {
        static const char ex[] = "example.com/behind-the-sofa\n20852163\n"
                                 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        CHECK(cg_checkpoint_parse(ex, sizeof ex - 1, origin, sizeof origin, &size, got, err,
                                  sizeof err) == 0);
        CHECK_STR(origin, "example.com/behind-the-sofa");
        CHECK_EQ_U(size, 20852163);
        CHECK(got[0] == 0x0a && got[31] == 0x62);
    }
    /* extension lines are read past */
    {
        static const char ext[] = "o\n5\nCzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYY=\n"
                                  "Timestamp: 1689748607742585419\nmore\n";
        CHECK(cp_parse(ext, sizeof ext - 1, NULL) == 0);
    }
    /* formatting refuses */
    CHECK(cg_checkpoint_format("", 1, root, buf, sizeof buf) == CG_EINVAL);
    CHECK(cg_checkpoint_format("a\nb", 1, root, buf, sizeof buf) == CG_EINVAL);
    CHECK(cg_checkpoint_format("a\rb", 1, root, buf, sizeof buf) == CG_EINVAL);
    CHECK(cg_checkpoint_format("a\xff", 1, root, buf, sizeof buf) == CG_EINVAL);
    CHECK(cg_checkpoint_format("o", 1, root, buf, 49) == CG_EINVAL); /* needs 50 */
    CHECK(cg_checkpoint_format("o", 1, root, buf, 50) == 49);
    /* an origin longer than the caller's buffer */
    {
        char small[4];
        n = cg_checkpoint_format("four", 1, root, buf, sizeof buf);
        CHECK(cg_checkpoint_parse(buf, (size_t)n, small, sizeof small, &size, got, err,
                                  sizeof err) == CG_EINVAL);
        CHECK_CONTAINS(err, "line 1: an origin of 4 bytes, longer than 3");
    }

#define R "CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYY="
#define BAD(s, want) CHECK(cp_parse(s, sizeof s - 1, want) == CG_EMALFORMED)
    CHECK(cp_parse("o\n5\n" R "\n", sizeof("o\n5\n" R "\n") - 1, NULL) == 0);
    BAD("", "line 1: no origin");
    BAD("\n5\n" R "\n", "line 1: no origin");
    BAD("o\n", "line 2: no tree size");
    BAD("o\n\n" R "\n", "line 2: no tree size");
    BAD("o\n5\n", "line 3: no root hash");
    BAD("o\n5\n\n", "line 3: no root hash");
    BAD("o\n5\n" R, "line 3: no newline at the end");
    BAD("o\n5", "line 2: no newline at the end");
    BAD("o\n05\n" R "\n", "line 2: a tree size with a leading zero");
    BAD("o\n00\n" R "\n", "line 2: a tree size with a leading zero");
    BAD("o\n+5\n" R "\n", "line 2: the tree size is not a decimal number");
    BAD("o\n-5\n" R "\n", "line 2: the tree size is not a decimal number");
    BAD("o\n 5\n" R "\n", "line 2: the tree size is not a decimal number");
    BAD("o\n5 \n" R "\n", "line 2: the tree size is not a decimal number");
    BAD("o\n0x5\n" R "\n", "line 2: a tree size with a leading zero");
    BAD("o\nx5\n" R "\n", "line 2: the tree size is not a decimal number");
    BAD("o\n5e3\n" R "\n", "line 2: the tree size is not a decimal number");
    BAD("o\n18446744073709551616\n" R "\n", "line 2: a tree size over 2^64 - 1");
    BAD("o\n99999999999999999999999\n" R "\n", "line 2: a tree size over 2^64 - 1");
    BAD("o\n5\nCzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YQ==\n", "line 3: the root hash"); /* 31 */
    BAD("o\n5\nCzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYYA\n", "line 3: the root hash"); /* 33 */
    BAD("o\n5\nCzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYZ=\n", "line 3: the root hash"); /* bits */
    BAD("o\n5\nCzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYY\n", "line 3: the root hash");  /* no = */
    BAD("o\n5\nCzBVep_E6Q4zWH2ix-wRNluApcrvFDleg6jN8hc8YYY=\n", "line 3: the root hash"); /* url */
    BAD("o\n5\n CzBVep/E6Q4zWH2ix+wRNluApcrvFDleg6jN8hc8YYY=\n", "line 3: the root hash");
    BAD("o\n5\n" R "\t\n", "line 3: a control character");
    BAD("o\n5\n" R "\n\n", "line 4: an empty extension line");
    BAD("o\n5\n" R "\next\n\nmore\n", "line 5: an empty extension line");
    BAD("o\n5\n" R "\next", "line 4: no newline at the end");
    BAD("o\r\n5\n" R "\n", "line 1: a control character");
    BAD("o\n5\n" R "\nx\xfe\n", "line 4: not valid UTF-8");
#undef BAD
#undef R

    /* a checkpoint as a signed note, name = origin: sign, verify, parse */
    {
        cg_key *k = NULL;
        char *note = NULL;
        size_t len = 0, tl = 0;
        CHECK(cg_key_load_private(&k, P("priv.pem"), err, sizeof err) == 0);
        n = cg_checkpoint_format("soc.example.vn/store", 42, root, buf, sizeof buf);
        CHECK(k && n > 0);
        if (k && cg_note_sign(k, "soc.example.vn/store", buf, &note, &len) == 0) {
            CHECK(cg_note_verify(k, "soc.example.vn/store", note, len, &tl, err, sizeof err) == 0);
            CHECK_EQ_U(tl, (size_t)n);
            CHECK(cg_checkpoint_parse(note, tl, origin, sizeof origin, &size, got, err,
                                      sizeof err) == 0);
            CHECK_STR(origin, "soc.example.vn/store");
            CHECK_EQ_U(size, 42);
            CHECK(memcmp(got, root, 32) == 0);
            /* the size changed: 42 -> 43 */
            note[strlen("soc.example.vn/store\n") + 1] = '3';
            CHECK(cg_note_verify(k, "soc.example.vn/store", note, len, &tl, err, sizeof err) ==
                  CG_ECORRUPT);
            free(note);
        }
        cg_key_free(k);
    }
}

/* ---- the fuzz corpus ---------------------------------------------------------- */

static int write_corpus(const char *dir)
{
    static const char *const texts[] = {
        GO_TEXT,
        "case 2025-0042\nincidents 17\n\nsha256 0123456789abcdef\n",
        "Tuy\xc3\xaan Quang \xe2\x80\x94 s\xe1\xbb\x9f\n",
    };
    char path[512], cp[256], *note;
    uint8_t root[32];
    size_t len;
    int ok = 1, n;
    cg_key *k;
    FILE *f;

    snprintf(tdir, sizeof tdir, "%s", "/tmp/cg-keys-corpus-XXXXXX");
    if (!mkdtemp(tdir))
        return 1;
    k = go_key(P("peter.pem"));
    unlink(P("peter.pem"));
    rmdir(tdir);
    if (!k)
        return 1;
    for (int i = 0; i < 32; i++)
        root[i] = (uint8_t)(i * 37 + 11);
#define OUT(name, data, size)                                                    \
    do {                                                                         \
        snprintf(path, sizeof path, "%s/%s", dir, name);                         \
        f = fopen(path, "wb");                                                   \
        ok &= f && fwrite(data, 1, size, f) == (size_t)(size) && fclose(f) == 0; \
    } while (0)
    for (int i = 0; i < 3; i++) {
        char name[32];
        if (cg_note_sign(k, "PeterNeumann", texts[i], &note, &len) != 0)
            return 1;
        snprintf(name, sizeof name, "note-%d", i);
        OUT(name, note, len);
        if (i == 0) {
            note[3] ^= 1;
            OUT("note-tampered", note, len);
        }
        free(note);
    }
    OUT("note-other-name", GO_TEXT "\n" EM "witness.example/w AAAAAAAAAAAA\n" GO_SIGLINE,
        strlen(GO_TEXT "\n" EM "witness.example/w AAAAAAAAAAAA\n" GO_SIGLINE));
    OUT("note-malformed", GO_TEXT GO_SIGLINE, strlen(GO_TEXT GO_SIGLINE));
    n = cg_checkpoint_format("canhgac.test/store", 20852163, root, cp, sizeof cp);
    OUT("checkpoint-text", cp, (size_t)n);
    if (cg_note_sign(k, "PeterNeumann", cp, &note, &len) != 0)
        return 1;
    OUT("checkpoint-signed", note, len);
    free(note);
    n = cg_checkpoint_format("canhgac.test/store", UINT64_MAX, root, cp, sizeof cp);
    OUT("checkpoint-max", cp, (size_t)n);
    n = cg_checkpoint_format("PeterNeumann", 0, root, cp, sizeof cp);
    n += snprintf(cp + n, sizeof cp - (size_t)n, "Timestamp: 1689748607742585419\nmore\n");
    if (cg_note_sign(k, "PeterNeumann", cp, &note, &len) != 0)
        return 1;
    OUT("checkpoint-ext-signed", note, len);
    free(note);
#undef OUT
    cg_key_free(k);
    printf("test_keys: corpus written to %s\n", dir);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--corpus"))
        return write_corpus(argv[2]);
    snprintf(tdir, sizeof tdir, "%s/cg-keys-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tdir)) {
        perror(tdir);
        return 1;
    }
    have_openssl = sh("openssl version >/dev/null 2>&1") == 0;
    test_init();
    test_openssl();
    test_sign_verify();
    test_bad_keys();
    test_go_known_answer();
    test_notes();
    test_checkpoints();
    if (sh("rm -rf '%s'", tdir) != 0)
        fprintf(stderr, "test_keys: could not remove %s\n", tdir);
    return check_done("test_keys");
}
