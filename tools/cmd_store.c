/* cmd_store.c — `canhgac store`: the store's own upkeep.
 *
 *   store check -d DIR             every key and record of every database;
 *                                  one line per problem on stdout
 *   store backup -d DIR -o OUTDIR  a consistent, compacted copy, while `run`
 *                                  writes
 *   store restore -i BACKUP -d DIR put a backup in place of a damaged store;
 *                                  refused while a sensor writes DIR
 *   store checkpoint, store verify the log (cmd_log.c)
 *
 * check walks each database in a child process of its own: a damaged page
 * that faults ends that child with one line naming the database and the key
 * (store_guard.c), and the walk goes on with the next database. Exit 0
 * clean, 2 damaged (or a store that does not open), 1 another failure.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "tools/cli.h"

static const char store_usage[] =
    "usage: canhgac store check [-d DIR]\n"
    "       canhgac store backup [-d DIR] -o OUTDIR\n"
    "       canhgac store restore -i BACKUP [-d DIR]\n"
    "       canhgac store checkpoint [-d DIR] -o FILE [--key PRIVATE.pem] [--force]\n"
    "       canhgac store verify [-d DIR] [--checkpoint FILE] [--key PUBLIC.pem]\n"
    "\n"
    "check    reads every key and record of every database of the store and\n"
    "         prints one line per problem (the database and the key); exit 0\n"
    "         when clean, 2 when damaged\n"
    "backup   writes a consistent, compacted copy of the store as last\n"
    "         committed into OUTDIR (created; must not hold a data.mdb), also\n"
    "         while `canhgac run` writes the store\n"
    "restore  puts the backup BACKUP in DIR: refused while a sensor writes DIR\n"
    "         (stop it first); the data.mdb it replaces is kept as\n"
    "         data.mdb.damaged-SECONDS\n"
    "checkpoint  verifies the store (as verify), then writes its log's tree\n"
    "         head as a signed checkpoint to FILE (- for stdout): the store's\n"
    "         origin, the tree size, the base64 root, a blank line and the\n"
    "         Ed25519 signature line (c2sp.org/tlog-checkpoint); the key is\n"
    "         DIR/soc-private.pem unless --key (canhgac keys init makes it)\n"
    "verify   recomputes every leaf of the store's log from its record and the\n"
    "         tree from its leaves, and prints one line per record that\n"
    "         differs (\"incident 42: record does not match leaf 1234\"); with\n"
    "         --checkpoint, checks its signature (DIR/soc-public.pem unless\n"
    "         --key) and proves that today's tree extends it (an RFC 9162\n"
    "         consistency proof): nothing it held was rewritten or removed\n"
    "\n"
    "options:\n"
    "  -d, --store DIR   the store (default $CANHGAC_STORE, else ./canhgac-store)\n"
    "  -o, --output DIR  backup: where the copy goes\n"
    "  -i, --input DIR   restore: the backup\n"
    "  -o, --output FILE checkpoint: where it goes (refused if it exists)\n"
    "  -k, --key FILE    checkpoint: the private key; verify: the public key\n"
    "  -c, --checkpoint FILE  verify: an earlier checkpoint of this store\n"
    "  -f, --force       checkpoint: replace FILE\n"
    "  -h, --help        this help\n"
    "\n"
    "exit codes: 0 success (check: clean; verify: verified, and extends the\n"
    "checkpoint); 1 failed while running; 2 bad input, a store that cannot be\n"
    "opened, (check) a damaged store, (verify, checkpoint) a record that does\n"
    "not match its leaf, a checkpoint it does not extend, of another store or\n"
    "with a bad signature\n";

static void print_problem(const char *problem, void *arg)
{
    printf("%s: %s\n", (const char *)arg, problem);
    fflush(stdout);
}

/* One database's walk, in this (child) process: 0 clean, 2 damaged, 1
 * another failure, 3 the store did not open. */
static int check_one(const char *dir, int db, uint64_t *entries)
{
    cg_store *st = NULL;
    int rc;

    cg_store_fault_exit("canhgac store check", 1, 2, 1);
    if (cg_store_open(&st, dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac store check: %s\n", cg_store_error(NULL));
        return 3;
    }
    rc = cg_store_check(st, db, print_problem, (void *)dir, entries);
    if (rc && rc != CG_ECORRUPT)
        printf("%s: %s\n", dir, cg_store_error(st));
    cg_store_close(st);
    return rc == 0 ? 0 : rc == CG_ECORRUPT ? 2 : 1;
}

static int cmd_check(const char *dir)
{
    uint64_t total = 0;
    int damaged = 0, failed = 0, ndb = cg_store_check_ndb();

    fflush(stdout);
    for (int db = 0; db < ndb; db++) {
        int p[2], status = 0;
        uint64_t n = 0;
        pid_t pid;
        if (pipe(p) != 0) {
            fprintf(stderr, "canhgac store check: %s: pipe: %m\n", dir);
            return CG_EXIT_FAIL;
        }
        pid = fork();
        if (pid < 0) {
            fprintf(stderr, "canhgac store check: %s: fork: %m\n", dir);
            return CG_EXIT_FAIL;
        }
        if (pid == 0) {
            int r;
            close(p[0]);
            r = check_one(dir, db, &n);
            if (write(p[1], &n, sizeof n) != (ssize_t)sizeof n)
                r = 1;
            fflush(stdout);
            _exit(r);
        }
        close(p[1]);
        if (read(p[0], &n, sizeof n) != (ssize_t)sizeof n)
            n = 0;
        close(p[0]);
        while (waitpid(pid, &status, 0) < 0)
            ;
        if (WIFSIGNALED(status)) {
            printf("%s: %s: the walk died by signal %d\n", dir, cg_store_db_name(db),
                   WTERMSIG(status));
            damaged++;
        } else if (WEXITSTATUS(status) == 3) {
            return CG_EXIT_INPUT; /* the child said why */
        } else if (WEXITSTATUS(status) == 2) {
            damaged++;
        } else if (WEXITSTATUS(status) != 0) {
            failed++;
        }
        total += n;
    }
    fflush(stdout);
    if (damaged) {
        fprintf(stderr,
                "canhgac store check: %s: damaged (%d of %d databases): restore from a "
                "backup\n",
                dir, damaged, ndb);
        return CG_EXIT_INPUT;
    }
    if (failed)
        return CG_EXIT_FAIL;
    printf("%s: clean: %d databases, %llu entries\n", dir, ndb, (unsigned long long)total);
    return CG_EXIT_OK;
}

static int cmd_backup(const char *dir, const char *out)
{
    cg_store *st = NULL;
    int rc;

    if (cg_store_open(&st, dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac store backup: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    rc = cg_store_backup(st, out);
    if (rc)
        fprintf(stderr, "canhgac store backup: %s\n", cg_store_error(st));
    cg_store_close(st);
    return rc == 0 ? CG_EXIT_OK : rc == CG_EIO || rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT;
}

static int cmd_restore(const char *in, const char *dir)
{
    int rc = cg_store_restore(in, dir);

    if (rc) {
        fprintf(stderr, "canhgac store restore: %s\n", cg_store_error(NULL));
        return rc == CG_EIO || rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT;
    }
    printf("%s: restored from %s\n", dir, in);
    return CG_EXIT_OK;
}

int cg_cmd_store(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "store", required_argument, NULL, 'd' },
        { "output", required_argument, NULL, 'o' },
        { "input", required_argument, NULL, 'i' },
        { "key", required_argument, NULL, 'k' },
        { "checkpoint", required_argument, NULL, 'c' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = cg_cli_default_store(), *out = NULL, *in = NULL, *sub;
    const char *key = NULL, *cp = NULL;
    int c, force = 0;

    if (argc < 2) {
        fputs(store_usage, stderr);
        return CG_EXIT_INPUT;
    }
    sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        fputs(store_usage, stdout);
        return CG_EXIT_OK;
    }
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "d:o:i:k:c:fh", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'o': out = optarg; break;
        case 'i': in = optarg; break;
        case 'k': key = optarg; break;
        case 'c': cp = optarg; break;
        case 'f': force = 1; break;
        case 'h': fputs(store_usage, stdout); return CG_EXIT_OK;
        default: fputs(store_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "canhgac store: unexpected argument '%s'\n%s", argv[optind + 1],
                store_usage);
        return CG_EXIT_INPUT;
    }
    if (!strcmp(sub, "check"))
        return cmd_check(dir);
    if (!strcmp(sub, "backup")) {
        if (!out) {
            fprintf(stderr, "canhgac store backup: -o OUTDIR is required\n");
            return CG_EXIT_INPUT;
        }
        return cmd_backup(dir, out);
    }
    if (!strcmp(sub, "restore")) {
        if (!in) {
            fprintf(stderr, "canhgac store restore: -i BACKUP is required\n");
            return CG_EXIT_INPUT;
        }
        return cmd_restore(in, dir);
    }
    if (!strcmp(sub, "checkpoint")) {
        if (!out) {
            fprintf(stderr, "canhgac store checkpoint: -o FILE is required\n");
            return CG_EXIT_INPUT;
        }
        return cg_store_cmd_checkpoint(dir, out, key, force);
    }
    if (!strcmp(sub, "verify"))
        return cg_store_cmd_verify(dir, cp, key);
    fprintf(stderr, "canhgac store: unknown subcommand '%s'\n%s", sub, store_usage);
    return CG_EXIT_INPUT;
}
