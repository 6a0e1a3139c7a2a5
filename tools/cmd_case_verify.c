/* cmd_case_verify.c — `canhgac case verify DIR|ARCHIVE [--key PEM]`: checks a
 * case file as its recipient would (tools/casefile.h: the format and the
 * checks), one line per problem naming the file.
 *
 * Reading. A directory is walked (at most CASE_DEPTH levels); each regular
 * file is hashed as it is read, and the few files the checks parse are kept
 * in memory (casefile.h: cg_casefile_wants). A symbolic link, a device or
 * any other kind of file is a problem, named, never followed. An archive
 * (.tar.gz, or any tar libarchive reads) is read member by member in memory,
 * nothing written to disk: its members must sit under one top directory
 * (the case's), and a member whose name is absolute, holds a ".." part, or
 * is a link or a device is refused with one line naming it. A name given
 * twice is a problem too (which of the two would a tar extract?).
 *
 * The key. --key PEM is the SOC's public key as the recipient got it. Without
 * it the case's own soc-public.pem is used, and the output says so with its
 * fingerprint: a case signed by whoever made it checks against the key it
 * carries, so only a fingerprint compared with the SOC's says who that was.
 *
 * Output: problems on stdout, "PREFIX/FILE: why", in the order found (files
 * first, then the manifest's signature, the checkpoint, the proofs); the
 * verdict on stdout last. Exit 0 when every check holds, 1 when a problem
 * was found, 2 for bad usage or input that cannot be read (no such path,
 * not a directory or an archive, a --key that does not load).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/keys.h"
#include "tools/casefile.h"
#include "tools/cli.h"

#define CMD "canhgac case verify"
#define CASE_DEPTH 8
#define CASE_FILES_MAX 100000

static const char verify_usage[] =
    "usage: canhgac case verify DIR|ARCHIVE [--key PEM]\n"
    "\n"
    "Checks a case file that canhgac case export wrote (a directory, or its\n"
    ".tar.gz, read in memory):\n"
    "  - every file MANIFEST.sha256 lists is there with that SHA-256, and no other\n"
    "    file is there;\n"
    "  - MANIFEST.sha256.sig is the key's Ed25519 signature of MANIFEST.sha256;\n"
    "  - custody.json's checkpoint of the store is signed by the same key, and each\n"
    "    incident's inclusion proof holds against it: its leaf is that incident's\n"
    "    record, and the record is in the store's log as the checkpoint saw it;\n"
    "  - the incidents of case.json are those the proofs are for.\n"
    "One line per problem, naming the file. An archive's members must be plain\n"
    "files and directories under one directory: a link, a device, an absolute\n"
    "name or a '..' is refused and named.\n"
    "\n"
    "options:\n"
    "      --key PEM   the SOC's public key, as you got it from the SOC; without it\n"
    "                  the case's own soc-public.pem is used and its fingerprint\n"
    "                  printed: compare it with the one the SOC published\n"
    "  -h, --help      this help\n"
    "\n"
    "without canhgac: cd DIR && sha256sum -c MANIFEST.sha256 && openssl pkeyutl \\\n"
    "  -verify -pubin -inkey soc-public.pem -rawin -in MANIFEST.sha256 \\\n"
    "  -sigfile MANIFEST.sha256.sig\n"
    "\n"
    "exit: 0 every check holds; 1 a problem found (each on a line); 2 bad usage,\n"
    "or a case or key that cannot be read\n";

typedef struct item {
    char *path;
    uint8_t sha[32];
    uint8_t *data;
    size_t len;
} item;

typedef struct rd {
    char prefix[PATH_MAX + 300]; /* what problem lines start with: DIR, or "ARCHIVE: TOP" */
    item *it;
    size_t n, cap;
    unsigned problems; /* found while reading */
    int fatal;         /* exit code when reading could not go on */
} rd;

static void say(rd *r, const char *file, const char *msg)
{
    printf("%s/%s: %s\n", r->prefix, file, msg);
    r->problems++;
}

static void problem_line(void *arg, const char *file, const char *msg)
{
    const char *prefix = arg;
    printf("%s/%s: %s\n", prefix, file, msg);
}

static item *add_item(rd *r, const char *path)
{
    if (r->n == CASE_FILES_MAX) {
        if (!r->fatal) {
            fprintf(stderr, "%s: %s: more than %d files: not a case file\n", CMD, r->prefix,
                    CASE_FILES_MAX);
            r->fatal = CG_EXIT_INPUT;
        }
        return NULL;
    }
    if (r->n == r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 32;
        item *a = realloc(r->it, nc * sizeof *a);
        if (!a)
            goto nomem;
        r->it = a;
        r->cap = nc;
    }
    item *i = &r->it[r->n];
    memset(i, 0, sizeof *i);
    if (!(i->path = strdup(path)))
        goto nomem;
    r->n++;
    return i;
nomem:
    fprintf(stderr, "%s: out of memory\n", CMD);
    r->fatal = CG_EXIT_FAIL;
    return NULL;
}

/* Reads a file's bytes through fn: hashes them, keeps them when wanted. */
typedef struct sink {
    EVP_MD_CTX *md;
    uint8_t *data;
    size_t len, cap;
    int keep, too_big;
} sink;

static int sink_open(sink *s, int keep)
{
    memset(s, 0, sizeof *s);
    s->keep = keep;
    if (!(s->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
        return -1;
    return 0;
}

static int sink_feed(sink *s, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (EVP_DigestUpdate(s->md, p, n) != 1)
        return -1;
    if (s->keep && !s->too_big) {
        if (s->len + n > CG_CASEFILE_READ_MAX) {
            s->too_big = 1;
            free(s->data);
            s->data = NULL;
            return 0;
        }
        if (s->len + n > s->cap) {
            size_t nc = s->cap ? s->cap : 4096;
            while (nc < s->len + n)
                nc *= 2;
            uint8_t *d = realloc(s->data, nc);
            if (!d)
                return -1;
            s->data = d;
            s->cap = nc;
        }
        memcpy(s->data + s->len, p, n);
    }
    s->len += n;
    return 0;
}

static int sink_close(sink *s, item *it)
{
    unsigned int l = 0;
    int rc = EVP_DigestFinal_ex(s->md, it->sha, &l) == 1 ? 0 : -1;
    EVP_MD_CTX_free(s->md);
    it->data = s->keep && !s->too_big ? (s->data ? s->data : malloc(1)) : NULL;
    if (!it->data)
        free(s->data);
    it->len = s->len;
    return rc;
}

/* ---- a directory --------------------------------------------------------------- */

static void walk(rd *r, int dfd, const char *rel, int depth)
{
    DIR *d = fdopendir(dfd);
    struct dirent *de;
    char path[PATH_MAX], msg[PATH_MAX + 64];
    uint8_t buf[1 << 14];

    if (!d) {
        close(dfd);
        snprintf(msg, sizeof msg, "cannot be read: %s", strerror(errno));
        say(r, *rel ? rel : ".", msg);
        return;
    }
    while (!r->fatal && (de = readdir(d))) {
        struct stat sb;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if ((size_t)snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
            sizeof path) {
            say(r, de->d_name, "path too long");
            continue;
        }
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            snprintf(msg, sizeof msg, "cannot be read: %s", strerror(errno));
            say(r, path, msg);
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            int sub;
            if (depth >= CASE_DEPTH) {
                say(r, path, "a directory too deep for a case file: not read");
                continue;
            }
            if ((sub = openat(dirfd(d), de->d_name,
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                snprintf(msg, sizeof msg, "cannot be read: %s", strerror(errno));
                say(r, path, msg);
                continue;
            }
            walk(r, sub, path, depth + 1);
            continue;
        }
        if (!S_ISREG(sb.st_mode)) {
            say(r, path,
                S_ISLNK(sb.st_mode) ? "a symbolic link, not a file: refused (not followed)"
                                    : "not a regular file: refused");
            continue;
        }
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        sink s;
        item *it;
        ssize_t got = 0;
        if (fd < 0) {
            snprintf(msg, sizeof msg, "cannot be read: %s", strerror(errno));
            say(r, path, msg);
            continue;
        }
        if (!(it = add_item(r, path)) || sink_open(&s, cg_casefile_wants(path))) {
            close(fd);
            if (!r->fatal) {
                fprintf(stderr, "%s: out of memory\n", CMD);
                r->fatal = CG_EXIT_FAIL;
            }
            break;
        }
        while ((got = read(fd, buf, sizeof buf)) > 0)
            if (sink_feed(&s, buf, (size_t)got))
                break;
        close(fd);
        if (sink_close(&s, it) || got > 0) {
            fprintf(stderr, "%s: out of memory\n", CMD);
            r->fatal = CG_EXIT_FAIL;
            break;
        }
        if (got < 0) {
            snprintf(msg, sizeof msg, "cannot be read: %s", strerror(errno));
            say(r, path, msg);
            r->n--;
            free(it->path);
            free(it->data);
        }
    }
    closedir(d);
}

/* ---- an archive ------------------------------------------------------------------ */

/* Why the member name cannot be a file of the case, or NULL; *rel is the
 * name under the top directory ("" for the top itself). The first member
 * sets top: its first part, or "." when the archive holds the case's files
 * at its root (made with `tar -C case-3 .`: a first member "./" or a file). */
static const char *member_why(const char *name, int isdir, char *top, size_t toplen,
                              const char **rel)
{
    const char *slash;
    size_t tl;
    if (name[0] == '/')
        return "an absolute name: refused";
    for (const char *p = name; *p;) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 2 && p[0] == '.' && p[1] == '.')
            return "a '..' in its name: refused";
        p += l + (e ? 1 : 0);
    }
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    slash = strchr(name, '/');
    tl = slash ? (size_t)(slash - name) : strlen(name);
    if (!top[0] && (!name[0] || (!slash && !isdir)))
        snprintf(top, toplen, ".");
    if (!strcmp(top, ".")) {
        *rel = name;
        return NULL;
    }
    if (!top[0]) {
        if (tl == 0 || tl >= toplen)
            return "a name outside any directory: a case file holds one directory";
        memcpy(top, name, tl);
        top[tl] = 0;
    } else if (tl != strlen(top) || strncmp(name, top, tl)) {
        return "outside the case's directory";
    }
    *rel = slash ? slash + 1 : "";
    return NULL;
}

static int read_archive(rd *r, const char *file, char *top, size_t toplen)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char msg[PATH_MAX + 128];
    int rc = ARCHIVE_OK, code = 0;

    if (!a) {
        fprintf(stderr, "%s: out of memory\n", CMD);
        return CG_EXIT_FAIL;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    if (archive_read_open_filename(a, file, 1 << 16) != ARCHIVE_OK) {
        fprintf(stderr, "%s: %s: %s\n", CMD, file, archive_error_string(a));
        archive_read_free(a);
        return CG_EXIT_INPUT;
    }
    while (!r->fatal && (rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e), *rel = NULL, *why;
        mode_t type = archive_entry_filetype(e);
        char relbuf[PATH_MAX];
        if (!name)
            name = "";
        if ((why = member_why(name, type == AE_IFDIR, top, toplen, &rel)) != NULL) {
            printf("%s: member %s: %s\n", file, name, why);
            r->problems++;
            continue;
        }
        snprintf(r->prefix, sizeof r->prefix, "%s: %s", file, top);
        snprintf(relbuf, sizeof relbuf, "%s", rel);
        size_t rl = strlen(relbuf);
        while (rl && relbuf[rl - 1] == '/')
            relbuf[--rl] = 0;
        if (archive_entry_hardlink(e) || type == AE_IFLNK) {
            printf("%s: member %s: a link, not a file: refused\n", file, name);
            r->problems++;
            continue;
        }
        if (type == AE_IFDIR)
            continue;
        if (type != AE_IFREG) {
            printf("%s: member %s: not a regular file: refused\n", file, name);
            r->problems++;
            continue;
        }
        if (!rl) {
            printf("%s: member %s: a file where the case's directory should be: refused\n", file,
                   name);
            r->problems++;
            continue;
        }
        for (size_t i = 0; i < r->n; i++)
            if (!strcmp(r->it[i].path, relbuf)) {
                snprintf(msg, sizeof msg, "in the archive twice: refused");
                say(r, relbuf, msg);
                relbuf[0] = 0;
                break;
            }
        if (!relbuf[0])
            continue;
        item *it = add_item(r, relbuf);
        sink s;
        const void *buf;
        size_t size;
        la_int64_t off;
        if (!it || sink_open(&s, cg_casefile_wants(relbuf))) {
            if (!r->fatal) {
                fprintf(stderr, "%s: out of memory\n", CMD);
                r->fatal = CG_EXIT_FAIL;
            }
            break;
        }
        while ((rc = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
            if (sink_feed(&s, buf, size))
                break;
        if (sink_close(&s, it) || rc == ARCHIVE_OK) {
            fprintf(stderr, "%s: out of memory\n", CMD);
            r->fatal = CG_EXIT_FAIL;
            break;
        }
        if (rc != ARCHIVE_EOF) {
            fprintf(stderr, "%s: %s: member %s: %s\n", CMD, file, name, archive_error_string(a));
            code = CG_EXIT_INPUT;
            break;
        }
    }
    if (!r->fatal && !code && rc != ARCHIVE_EOF) {
        fprintf(stderr, "%s: %s: %s\n", CMD, file, archive_error_string(a));
        code = CG_EXIT_INPUT;
    }
    archive_read_free(a);
    return r->fatal ? r->fatal : code;
}

/* ---- the command ---------------------------------------------------------------- */

int cg_case_cmd_verify(int argc, char **argv)
{
    const char *in = NULL, *keyfile = NULL, *prefix;
    char top[NAME_MAX + 1] = "", err[1024], fp[65], keyname[PATH_MAX + 128];
    cg_casefile_item *items = NULL;
    cg_casefile_result res;
    cg_key *key = NULL;
    rd r;
    struct stat sb;
    int ret = CG_EXIT_INPUT, rc, own_key = 0;

    memset(&r, 0, sizeof r);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(verify_usage, stdout);
            return CG_EXIT_OK;
        } else if (!strcmp(a, "--key") || !strncmp(a, "--key=", 6)) {
            if (a[5] == '=') {
                keyfile = a + 6;
            } else if (i + 1 < argc) {
                keyfile = argv[++i];
            } else {
                fprintf(stderr, "%s: option needs a value: --key\n", CMD);
                return CG_EXIT_INPUT;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: unknown option: %s (see canhgac case verify --help)\n", CMD, a);
            return CG_EXIT_INPUT;
        } else if (in) {
            fprintf(stderr, "%s: one case file only (%s, then %s)\n", CMD, in, a);
            return CG_EXIT_INPUT;
        } else {
            in = a;
        }
    }
    if (!in) {
        fprintf(stderr, "%s: the case file to check is needed (a directory or a .tar.gz)\n", CMD);
        return CG_EXIT_INPUT;
    }
    if (keyfile && (rc = cg_key_load_public(&key, keyfile, err, sizeof err)) != 0) {
        fprintf(stderr, "%s: %s\n", CMD, err);
        return rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT;
    }
    if (stat(in, &sb) != 0) {
        fprintf(stderr, "%s: %s: %s\n", CMD, in, strerror(errno));
        goto out;
    }
    if (S_ISDIR(sb.st_mode)) {
        size_t l = strlen(in);
        while (l > 1 && in[l - 1] == '/')
            l--;
        snprintf(r.prefix, sizeof r.prefix, "%.*s", (int)l, in);
        int fd = open(in, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "%s: %s: %s\n", CMD, in, strerror(errno));
            goto out;
        }
        walk(&r, fd, "", 0);
        if (r.fatal) {
            ret = r.fatal;
            goto out;
        }
    } else if (S_ISREG(sb.st_mode)) {
        /* the lines name "ARCHIVE: TOP/FILE" */
        if ((ret = read_archive(&r, in, top, sizeof top)) != 0)
            goto out;
        ret = CG_EXIT_INPUT;
        if (!top[0]) {
            fprintf(stderr, "%s: %s: an empty archive\n", CMD, in);
            goto out;
        }
    } else {
        fprintf(stderr, "%s: %s: not a directory or an archive\n", CMD, in);
        goto out;
    }
    if (!(items = calloc(r.n ? r.n : 1, sizeof *items))) {
        fprintf(stderr, "%s: out of memory\n", CMD);
        ret = CG_EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < r.n; i++) {
        items[i].path = r.it[i].path;
        memcpy(items[i].sha, r.it[i].sha, 32);
        items[i].data = r.it[i].data;
        items[i].len = r.it[i].len;
    }
    prefix = r.prefix;
    /* the key: the one given, else the case's own */
    if (!key) {
        const item *pem = NULL;
        for (size_t i = 0; i < r.n && !pem; i++)
            if (!strcmp(r.it[i].path, CG_CASEFILE_PUBKEY))
                pem = &r.it[i];
        if (!pem) {
            printf("%s/%s: missing: give the SOC's public key with --key\n", prefix,
                   CG_CASEFILE_PUBKEY);
            r.problems++;
        } else if (!pem->data ||
                   (rc = cg_casefile_key_from_pem(pem->data, pem->len, &key, err, sizeof err))) {
            printf("%s/%s: %s: give the SOC's public key with --key\n", prefix, CG_CASEFILE_PUBKEY,
                   pem->data ? err : "too large for a key");
            r.problems++;
        } else {
            own_key = 1;
        }
    } else {
        /* the key given: the case's own should be the same */
        const item *pem = NULL;
        cg_key *own = NULL;
        for (size_t i = 0; i < r.n && !pem; i++)
            if (!strcmp(r.it[i].path, CG_CASEFILE_PUBKEY))
                pem = &r.it[i];
        if (pem && pem->data &&
            cg_casefile_key_from_pem(pem->data, pem->len, &own, err, sizeof err) == 0) {
            uint8_t a[CG_KEY_PUB_LEN], b[CG_KEY_PUB_LEN];
            char ofp[65];
            cg_key_public_raw(key, a);
            cg_key_public_raw(own, b);
            cg_key_fingerprint(own, ofp);
            if (memcmp(a, b, sizeof a)) {
                printf("%s/%s: not the key given with --key (its fingerprint is %s)\n", prefix,
                       CG_CASEFILE_PUBKEY, ofp);
                r.problems++;
            }
            cg_key_free(own);
        } else if (pem) {
            printf("%s/%s: %s\n", prefix, CG_CASEFILE_PUBKEY,
                   pem->data ? err : "too large for a key");
            r.problems++;
        }
    }
    if (key) {
        cg_key_fingerprint(key, fp);
        snprintf(keyname, sizeof keyname, "%s (key SHA256:%s)",
                 own_key ? CG_CASEFILE_PUBKEY : keyfile, fp);
    }
    rc = cg_casefile_check(items, r.n, key, key ? keyname : NULL, problem_line, (void *)prefix,
                           &res);
    if (rc == CG_ENOMEM) {
        fprintf(stderr, "%s: out of memory\n", CMD);
        ret = CG_EXIT_FAIL;
        goto out;
    }
    if (own_key)
        printf("%s: note: checked with the case's own %s, fingerprint %s: compare it with the "
               "SOC's (canhgac keys show), or check with --key the SOC's public key\n",
               prefix, CG_CASEFILE_PUBKEY, fp);
    if (res.redacted)
        printf("%s: note: payloads were redacted (--redact-payload): the proofs show that the "
               "incidents' leaves are in the store's log, their records are withheld\n",
               prefix);
    if (r.problems + res.problems) {
        printf("%s: NOT verified: %u problem%s\n", prefix, r.problems + res.problems,
               r.problems + res.problems == 1 ? "" : "s");
        ret = CG_EXIT_FAIL;
    } else {
        printf("%s: verified: %zu files match MANIFEST.sha256, signed by %s; checkpoint of %s "
               "at %llu leaves; %zu inclusion proofs hold\n",
               prefix, res.files, keyname, res.origin, (unsigned long long)res.tree_size,
               res.proofs);
        ret = CG_EXIT_OK;
    }
out:
    if (fflush(stdout) != 0 && ret == CG_EXIT_OK) {
        fprintf(stderr, "%s: writing the output: %s\n", CMD, strerror(errno));
        ret = CG_EXIT_FAIL;
    }
    free(items);
    for (size_t i = 0; i < r.n; i++) {
        free(r.it[i].path);
        free(r.it[i].data);
    }
    free(r.it);
    cg_key_free(key);
    return ret;
}
