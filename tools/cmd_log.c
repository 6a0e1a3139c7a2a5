/* cmd_log.c — `canhgac store checkpoint` and `canhgac store verify`: the
 * store's tamper-evident log (store/store.h: the log) for assessors.
 *
 *   store checkpoint -d DIR -o FILE [--key PRIV]  verifies the store, then
 *       writes its tree head as a signed checkpoint (C2SP tlog-checkpoint:
 *       origin, size, base64 root, a blank line, the signature line; key
 *       name = the store's origin)
 *   store verify -d DIR [--checkpoint FILE] [--key PUB]  every record
 *       against its leaf, the tree against its leaves; with a checkpoint,
 *       its signature and that today's tree extends it (RFC 9162
 *       consistency proof)
 *
 * Both read the store in one read transaction (a sensor may write
 * meanwhile: what it adds later is not in the answer). A checkpoint is
 * written to a temporary name and renamed: a killed command leaves none.
 * Exit 0 verified (written), 2 a problem found or bad input, 1 a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/keys.h"
#include "store/merkle.h"
#include "store/store.h"
#include "tools/cli.h"

#define CP_MAX (64u << 10) /* a checkpoint file read, at most */

static void print_problem(const char *line, void *arg)
{
    printf("%s: %s\n", (const char *)arg, line);
    fflush(stdout);
}

static int exit_of(int rc)
{
    return rc == CG_EIO || rc == CG_ENOMEM || rc == CG_EFULL ? CG_EXIT_FAIL : CG_EXIT_INPUT;
}

/* Opens dir read-only and verifies it: 0 and *head, or the exit code (the
 * problems and the reason printed). */
static int open_verified(const char *cmd, const char *dir, cg_store **st, cg_store_head *head,
                         cg_store_verify_stats *vs)
{
    int rc;

    cg_store_fault_exit(cmd, 2, CG_EXIT_INPUT, CG_EXIT_FAIL);
    if (cg_store_open(st, dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "%s: %s\n", cmd, cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    rc = cg_store_verify(*st, print_problem, (void *)dir, vs, head);
    if (rc) {
        fprintf(stderr, "%s: %s\n", cmd, cg_store_error(*st));
        cg_store_close(*st);
        *st = NULL;
        return exit_of(rc);
    }
    return 0;
}

static void b64(const uint8_t root[32], char out[45])
{
    EVP_EncodeBlock((unsigned char *)out, root, 32);
}

int cg_store_cmd_checkpoint(const char *dir, const char *out, const char *keyfile, int force)
{
    static const char cmd[] = "canhgac store checkpoint";
    char path[4096], tmp[4200], err[512], text[256], rootb[45];
    cg_store *st = NULL;
    cg_store_head head;
    cg_store_verify_stats vs;
    cg_key *k = NULL;
    char *note = NULL;
    size_t nlen = 0;
    int rc, fd, tl, code = CG_EXIT_OK;

    if (!keyfile) {
        snprintf(path, sizeof path, "%s/soc-private.pem", dir);
        keyfile = path;
    }
    if ((rc = cg_key_load_private(&k, keyfile, err, sizeof err)) != 0) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        return exit_of(rc);
    }
    if ((code = open_verified(cmd, dir, &st, &head, &vs)) != 0)
        goto out;
    tl = cg_checkpoint_format(head.origin, head.size, head.root, text, sizeof text);
    if (tl < 0 || (rc = cg_note_sign(k, head.origin, text, &note, &nlen)) != 0) {
        fprintf(stderr, "%s: %s: cannot sign its tree head\n", cmd, dir);
        code = CG_EXIT_FAIL;
        goto out;
    }
    if (!strcmp(out, "-")) {
        fwrite(note, 1, nlen, stdout);
    } else {
        struct stat sb;
        if (!force && lstat(out, &sb) == 0) {
            fprintf(stderr, "%s: %s: exists already (--force replaces it)\n", cmd, out);
            code = CG_EXIT_INPUT;
            goto out;
        }
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, note, nlen) != (ssize_t)nlen || fsync(fd) != 0) {
            fprintf(stderr, "%s: %s: %s\n", cmd, out, strerror(errno));
            if (fd >= 0)
                close(fd), unlink(tmp);
            code = CG_EXIT_FAIL;
            goto out;
        }
        if (close(fd) != 0 || rename(tmp, out) != 0) {
            fprintf(stderr, "%s: %s: %s\n", cmd, out, strerror(errno));
            unlink(tmp);
            code = CG_EXIT_FAIL;
            goto out;
        }
    }
    b64(head.root, rootb);
    fprintf(stderr, "%s: checkpoint of %llu leaves (%llu records verified), root %s%s%s\n", dir,
            (unsigned long long)head.size, (unsigned long long)vs.records, rootb,
            strcmp(out, "-") ? " -> " : "", strcmp(out, "-") ? out : "");
out:
    free(note);
    cg_key_free(k);
    cg_store_close(st);
    return code;
}

/* The checkpoint file's bytes (at most CP_MAX), or NULL with the reason
 * printed. */
static char *read_file(const char *cmd, const char *file, size_t *len)
{
    FILE *f = fopen(file, "rb");
    char *b;

    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", cmd, file, strerror(errno));
        return NULL;
    }
    b = malloc(CP_MAX + 1);
    if (!b) {
        fclose(f);
        fprintf(stderr, "%s: out of memory\n", cmd);
        return NULL;
    }
    *len = fread(b, 1, CP_MAX + 1, f);
    if (ferror(f) || *len > CP_MAX) {
        fprintf(stderr, "%s: %s: %s\n", cmd, file,
                ferror(f) ? strerror(errno) : "longer than a checkpoint");
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    b[*len] = 0;
    return b;
}

/* The checkpoint in file against the verified store: 0 when today's tree
 * extends it, else the exit code (the reason printed). */
static int against(const char *cmd, const char *dir, cg_store *st, const cg_store_head *head,
                   const char *file, const char *keyfile)
{
    char path[4096], err[512], origin[256];
    uint8_t root[32], proof[64][32];
    uint64_t size;
    unsigned n = 0;
    size_t len = 0, tlen = 0;
    cg_key *k = NULL;
    char *cp;
    int rc, code = CG_EXIT_INPUT;

    if (!(cp = read_file(cmd, file, &len)))
        return CG_EXIT_INPUT;
    if (!keyfile) {
        snprintf(path, sizeof path, "%s/soc-public.pem", dir);
        keyfile = path;
    }
    if ((rc = cg_key_load_public(&k, keyfile, err, sizeof err)) != 0) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        code = exit_of(rc);
        goto out;
    }
    rc = cg_note_verify(k, head->origin, cp, len, &tlen, err, sizeof err);
    if (rc == CG_ENOTFOUND) {
        /* a checkpoint of another store names another origin on its first
         * line, whoever signed it: said first */
        const char *nl = memchr(cp, '\n', len);
        size_t ol = nl ? (size_t)(nl - cp) : 0;
        if (ol && (ol != strlen(head->origin) || memcmp(cp, head->origin, ol)))
            fprintf(stderr, "%s: %s: a checkpoint of another store (%.*s; this store is %s)\n", cmd,
                    file, (int)(ol > 200 ? 200 : ol), cp, head->origin);
        else
            fprintf(stderr, "%s: %s: not signed by the key %s (%s)\n", cmd, file, keyfile, err);
        goto out;
    }
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", cmd, file,
                rc == CG_ECORRUPT ? "bad signature: the checkpoint was changed after it was signed"
                                  : err);
        goto out;
    }
    if ((rc = cg_checkpoint_parse(cp, tlen, origin, sizeof origin, &size, root, err, sizeof err))) {
        fprintf(stderr, "%s: %s: not a checkpoint: %s\n", cmd, file, err);
        goto out;
    }
    if (strcmp(origin, head->origin)) {
        fprintf(stderr, "%s: %s: a checkpoint of another store (%s; this store is %s)\n", cmd, file,
                origin, head->origin);
        goto out;
    }
    if (size > head->size) {
        printf("%s: does not extend %s: it held %llu leaves, the log now %llu (leaves removed)\n",
               dir, file, (unsigned long long)size, (unsigned long long)head->size);
        goto out;
    }
    if (size == 0) {
        code = CG_EXIT_OK;
    } else if ((rc = cg_store_log_consistency(st, size, head->size, proof, &n)) != 0) {
        fprintf(stderr, "%s: %s\n", cmd, cg_store_error(st));
        code = exit_of(rc);
        goto out;
    } else if (cg_mt_verify_consistency(size, head->size, root, head->root,
                                        (const uint8_t(*)[32])proof, n) != 0) {
        printf("%s: does not extend %s: what the log held at %llu leaves was rewritten or "
               "removed\n",
               dir, file, (unsigned long long)size);
        goto out;
    }
    printf("%s: extends %s: %llu leaves then, %llu now (consistency proof of %u hashes)\n", dir,
           file, (unsigned long long)size, (unsigned long long)head->size, n);
    code = CG_EXIT_OK;
out:
    cg_key_free(k);
    free(cp);
    return code;
}

int cg_store_cmd_verify(const char *dir, const char *checkpoint, const char *keyfile)
{
    static const char cmd[] = "canhgac store verify";
    cg_store *st = NULL;
    cg_store_head head;
    cg_store_verify_stats vs;
    char rootb[45];
    int code;

    if ((code = open_verified(cmd, dir, &st, &head, &vs)) != 0)
        return code;
    b64(head.root, rootb);
    printf("%s: verified: %llu records match the latest of %llu leaves; root %s\n", dir,
           (unsigned long long)vs.records, (unsigned long long)head.size, rootb);
    if (checkpoint)
        code = against(cmd, dir, st, &head, checkpoint, keyfile);
    cg_store_close(st);
    return code;
}
