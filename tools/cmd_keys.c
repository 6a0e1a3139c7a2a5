/* cmd_keys.c — `canhgac keys`: the SOC's signing key (store/keys.h).
 *
 *   keys init [-d DIR] [--key FILE]         makes the key pair: FILE (default
 *                                           DIR/soc-private.pem, 0600) and
 *                                           DIR/soc-public.pem (0644)
 *   keys show [-d DIR] [--key FILE] [--json] the public key's path and
 *                                           fingerprint; with --key, checks the
 *                                           private key is its pair
 *
 * Exit 0 done; 1 failed while running (cannot write, a full disk, out of
 * memory); 2 bad input (usage, a key file that exists already, a key that is
 * missing, unreadable, malformed, not Ed25519 or open to others, a private
 * key that is not the public key's pair).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store/keys.h"
#include "tools/cli.h"

#define PRIV_NAME "soc-private.pem"
#define PUB_NAME "soc-public.pem"

static const char keys_usage[] =
    "usage: canhgac keys init [-d DIR] [-k FILE]\n"
    "       canhgac keys show [-d DIR] [-k FILE] [--json]\n"
    "\n"
    "The SOC's Ed25519 signing key: it signs case files and the checkpoints of\n"
    "the store, and anyone with the public key verifies them, with canhgac or\n"
    "with OpenSSL alone.\n"
    "\n"
    "init     makes a key pair: the private key to FILE (default\n"
    "         DIR/" PRIV_NAME "; PKCS#8 PEM, mode 0600) and the public key\n"
    "         to DIR/" PUB_NAME " (SubjectPublicKeyInfo PEM, mode 0644); DIR\n"
    "         is created (mode 0750) when missing; refuses to replace a key file\n"
    "         that exists; prints both paths and the fingerprint\n"
    "show     prints the public key's path and its fingerprint (the SHA-256 of\n"
    "         the raw 32-byte key, hex); with -k, also reads the private key\n"
    "         FILE and checks that it is the public key's pair\n"
    "\n"
    "A signature is the 64 bytes of pure Ed25519 (RFC 8032) over the message: OpenSSL\n"
    "verifies it without canhgac (last example).\n"
    "\n"
    "options:\n"
    "  -d, --dir DIR     where the keys are (default: the store directory,\n"
    "                    $CANHGAC_STORE, else ./canhgac-store)\n"
    "  -k, --key FILE    the private key (default DIR/" PRIV_NAME "); it must\n"
    "                    not be readable by others (chmod 600 FILE)\n"
    "      --json        show: one JSON object (public_key, fingerprint,\n"
    "                    private_key)\n"
    "  -h, --help        this help\n"
    "\n"
    "examples:\n"
    "  canhgac keys init -d /var/lib/canhgac/keys\n"
    "  canhgac keys init -d /etc/canhgac --key /root/soc-private.pem\n"
    "  canhgac keys show -d /var/lib/canhgac/keys --json\n"
    "  canhgac keys show -d /etc/canhgac -k /root/soc-private.pem\n"
    "  openssl pkeyutl -verify -pubin -inkey DIR/" PUB_NAME " -rawin -in MSG -sigfile SIG\n"
    "\n"
    "exit codes: 0 success; 1 failed while running (cannot write, disk full);\n"
    "2 bad input (usage, a key file that exists already, a key that is missing,\n"
    "unreadable, malformed, not Ed25519 or readable by others, a private key\n"
    "that is not the public key's pair)\n";

/* A failure to write is the run's (1); a refused path is bad input (2). */
static int init_exit(int rc)
{
    return rc == CG_EINVAL || rc == CG_ENOTFOUND ? CG_EXIT_INPUT : CG_EXIT_FAIL;
}

/* A key that does not load is bad input (2), but for want of memory (1). */
static int load_exit(int rc)
{
    return rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT;
}

static int cmd_init(const char *dir, const char *priv, const char *pub)
{
    char err[PATH_MAX + 256], fp[65];
    cg_key *k = NULL;
    int rc;

    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        int e = errno;
        fprintf(stderr, "canhgac keys init: %s: %s\n", dir, strerror(e));
        return e == ENOENT || e == ENOTDIR ? CG_EXIT_INPUT : CG_EXIT_FAIL;
    }
    if ((rc = cg_key_init(priv, pub, err, sizeof err)) != 0) {
        fprintf(stderr, "canhgac keys init: %s\n", err);
        return init_exit(rc);
    }
    /* read back what was written: the fingerprint is of the file's key */
    if ((rc = cg_key_load_public(&k, pub, err, sizeof err)) != 0) {
        fprintf(stderr, "canhgac keys init: %s\n", err);
        return CG_EXIT_FAIL;
    }
    cg_key_fingerprint(k, fp);
    cg_key_free(k);
    printf("private key: %s\n", priv);
    printf("public key:  %s\n", pub);
    printf("fingerprint: %s\n", fp);
    return CG_EXIT_OK;
}

static int cmd_show(const char *priv, const char *pub, int json)
{
    char err[PATH_MAX + 256], fp[65], pfp[65];
    cg_key *k = NULL, *pk = NULL;
    uint8_t a[CG_KEY_PUB_LEN], b[CG_KEY_PUB_LEN];
    int rc, ret = CG_EXIT_INPUT;

    if ((rc = cg_key_load_public(&k, pub, err, sizeof err)) != 0) {
        fprintf(stderr, "canhgac keys show: %s\n", err);
        return load_exit(rc);
    }
    cg_key_fingerprint(k, fp);
    if (priv) {
        if ((rc = cg_key_load_private(&pk, priv, err, sizeof err)) != 0) {
            fprintf(stderr, "canhgac keys show: %s\n", err);
            ret = load_exit(rc);
            goto out;
        }
        cg_key_public_raw(k, a);
        cg_key_public_raw(pk, b);
        if (memcmp(a, b, sizeof a) != 0) {
            cg_key_fingerprint(pk, pfp);
            fprintf(stderr,
                    "canhgac keys show: %s is not the private key of %s (its public key's "
                    "fingerprint is %s, not %s)\n",
                    priv, pub, pfp, fp);
            goto out;
        }
    }
    if (json) {
        fputs("{\"public_key\":", stdout);
        cg_cli_json_str(stdout, pub);
        printf(",\"fingerprint\":\"%s\"", fp);
        if (priv) {
            fputs(",\"private_key\":", stdout);
            cg_cli_json_str(stdout, priv);
        }
        fputs("}\n", stdout);
    } else {
        printf("public key:  %s\n", pub);
        if (priv)
            printf("private key: %s (its pair)\n", priv);
        printf("fingerprint: %s\n", fp);
    }
    ret = CG_EXIT_OK;
out:
    cg_key_free(pk);
    cg_key_free(k);
    return ret;
}

int cg_cmd_keys(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "key", required_argument, NULL, 'k' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = cg_cli_default_store(), *key = NULL, *sub;
    char priv[PATH_MAX], pub[PATH_MAX];
    int c, json = 0;

    if (argc < 2) {
        fputs(keys_usage, stderr);
        return CG_EXIT_INPUT;
    }
    sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        fputs(keys_usage, stdout);
        return CG_EXIT_OK;
    }
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "d:k:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'k': key = optarg; break;
        case 'j': json = 1; break;
        case 'h': fputs(keys_usage, stdout); return CG_EXIT_OK;
        default: fputs(keys_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "canhgac keys: unexpected argument '%s'\n%s", argv[optind + 1], keys_usage);
        return CG_EXIT_INPUT;
    }
    if (key && (!*key || strlen(key) >= sizeof priv)) {
        fprintf(stderr, "canhgac keys: -k '%s': not a usable path\n", key);
        return CG_EXIT_INPUT;
    }
    if (!*dir || (size_t)snprintf(pub, sizeof pub, "%s/%s", dir, PUB_NAME) >= sizeof pub ||
        (size_t)snprintf(priv, sizeof priv, "%s/%s", dir, PRIV_NAME) >= sizeof priv) {
        fprintf(stderr, "canhgac keys: -d '%s': not a usable directory\n", dir);
        return CG_EXIT_INPUT;
    }
    if (!strcmp(sub, "init")) {
        if (json) {
            fprintf(stderr, "canhgac keys init: --json is for show\n");
            return CG_EXIT_INPUT;
        }
        return cmd_init(dir, key ? key : priv, pub);
    }
    if (!strcmp(sub, "show"))
        return cmd_show(key, pub, json);
    fprintf(stderr, "canhgac keys: unknown subcommand '%s'\n%s", sub, keys_usage);
    return CG_EXIT_INPUT;
}
