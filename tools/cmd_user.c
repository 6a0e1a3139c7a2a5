/* cmd_user.c — `canhgac user`: the web console's accounts, API tokens and
 * audit trail in the store (store/store_user.h, schema 8).
 *
 *   user add NAME --role ROLE [--password-file FILE]  a user
 *   user passwd NAME [--password-file FILE]           a new password
 *   user disable NAME | enable NAME                 login and tokens refused / allowed
 *   user role NAME ROLE                             viewer|analyst|responder|admin
 *   user list [--json]                              every user, by name
 *   user token NAME [--label L]                     a new API token, printed once
 *   user tokens [NAME] | revoke ID                  tokens by id / one revoked
 *   user audit [--since T] [--limit N] [--json]     the audit, newest first
 *
 * Every command opens the store for triage (CG_STORE_TRIAGE: it works while
 * `run` writes, and migrates a store of an older schema), and every change
 * appends an audit entry naming the Unix user who ran it (getpwuid), with
 * no address. A password is read from --password-file's first line (- for
 * stdin) or asked twice on the terminal with echo off; it is never an
 * argument (argv is visible to every user of the machine).
 * CANHGAC_PWHASH_MIN=1 makes hashing cost the minimum: for tests only,
 * never for a real store.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "store/qlang.h"
#include "store/store.h"
#include "store/store_user.h"
#include "tools/cli.h"

#define PW_MAX 4096

static const char user_usage[] =
    "usage: canhgac user add NAME --role ROLE [-d DIR] [--password-file FILE]\n"
    "       canhgac user passwd NAME [-d DIR] [--password-file FILE]\n"
    "       canhgac user disable NAME [-d DIR]\n"
    "       canhgac user enable NAME [-d DIR]\n"
    "       canhgac user role NAME ROLE [-d DIR]\n"
    "       canhgac user list [-d DIR] [--json]\n"
    "       canhgac user token NAME [--label L] [-d DIR]\n"
    "       canhgac user tokens [NAME] [-d DIR] [--json]\n"
    "       canhgac user revoke ID [-d DIR]\n"
    "       canhgac user audit [--since T] [--limit N] [-d DIR] [--json]\n"
    "\n"
    "The web console's accounts, kept in the store: a name (1 to 64 of A-Z a-z\n"
    "0-9 . _ -), a role, an Argon2id password hash, enabled or disabled; API\n"
    "tokens for scripts; and the audit trail of what the console's users did\n"
    "(logins, failures, lockouts, changes) and of every change made here, each\n"
    "with the Unix user who made it.\n"
    "\n"
    "roles: viewer (reads incidents and reports), analyst (and triages),\n"
    "responder (and handles cases and exports), admin (and manages users)\n"
    "\n"
    "add      a user with ROLE; the password is asked twice on the terminal\n"
    "passwd   a new password for NAME (asked the same way)\n"
    "disable  NAME can no longer log in, and its tokens are refused; enable undoes it\n"
    "role     NAME's role becomes ROLE\n"
    "list     every user by name: name, role, status, created, password set\n"
    "token    a new API token for NAME: printed once on stdout (\"cgt_\" and 64 hex\n"
    "         digits); the store keeps only its SHA-256\n"
    "tokens   the tokens (of NAME, or all) by id: id, user, created, last used,\n"
    "         label\n"
    "revoke   the token of that id (as tokens lists it) stops working\n"
    "audit    the audit trail, newest first: time, who, address, event, detail\n"
    "\n"
    "options:\n"
    "  -d, --store DIR         the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --role viewer|analyst|responder|admin  add: the user's role\n"
    "      --password-file FILE  add, passwd: the password is FILE's first line\n"
    "                          (its newline dropped); - reads it from stdin\n"
    "      --label L           token: what the token is for (one line, at most 128 bytes)\n"
    "      --since T           audit: entries at or after T (24h, 7d,\n"
    "                          2026-12-01T00:00:00 or @EPOCH)\n"
    "      --limit N           audit: the newest N entries at most\n"
    "      --json              list, tokens, audit: one JSON object per line\n"
    "  -h, --help              this help\n"
    "\n"
    "environment: CANHGAC_PWHASH_MIN=1, for tests only, hashes passwords at\n"
    "libsodium's minimum cost: never set it for a real store\n"
    "\n"
    "examples:\n"
    "  canhgac user add lan --role analyst\n"
    "  canhgac user token ci-export --label 'nightly share job'\n"
    "  canhgac user revoke 3f9a0c1d2b4e5f60\n"
    "  canhgac user audit --since 7d\n"
    "\n"
    "exit: 0 done; 1 the store failed (disk, full); 2 bad input (usage, a bad\n"
    "name or role, a name taken, no such user or token, passwords that do not\n"
    "match, an empty or unreadable password file, store cannot be opened)\n";

/* Which options a subcommand takes. */
enum { O_ROLE = 1, O_PWFILE = 2, O_LABEL = 4, O_SINCE = 8, O_LIMIT = 16, O_JSON = 32 };

static const struct sub {
    const char *name;
    int nargs; /* positional arguments after the subcommand (-1: 0 or 1) */
    unsigned opts;
} subs[] = {
    { "add", 1, O_ROLE | O_PWFILE },
    { "passwd", 1, O_PWFILE },
    { "disable", 1, 0 },
    { "enable", 1, 0 },
    { "role", 2, 0 },
    { "list", 0, O_JSON },
    { "token", 1, O_LABEL },
    { "tokens", -1, O_JSON },
    { "revoke", 1, 0 },
    { "audit", 0, O_SINCE | O_LIMIT | O_JSON },
};

typedef struct uopts {
    const char *dir, *role, *pwfile, *label, *since;
    uint64_t since_us, limit;
    int json;
    unsigned given; /* O_* */
} uopts;

/* ---- passwords ----------------------------------------------------------------- */

/* The terminal whose echo is off while a password is typed, for the signal
 * handler to turn it back on. */
static int tty_fd = -1;
static struct termios tty_saved;

static void tty_restore(int sig)
{
    if (tty_fd >= 0)
        tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line from fd into buf (max bytes, NUL written), without the
 * newline. 0; 1 too long; -1 error or nothing read at all. */
static int read_line(int fd, char *buf, size_t max)
{
    size_t n = 0;
    int too_long = 0;

    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (n == 0 && !too_long && r < 0)
                return -1;
            break;
        }
        if (c == '\n')
            break;
        if (n < max)
            buf[n++] = c;
        else
            too_long = 1;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = 0;
    return too_long;
}

/* Asks prompt on the terminal with echo off, into buf. 0 or -1. */
static int ask(int fd, const char *prompt, char *buf, size_t max)
{
    struct termios t;
    int rc;

    /* echo off before the prompt: a flush after it would drop what was
     * typed as soon as the prompt showed */
    if (tcgetattr(fd, &tty_saved) != 0)
        return -1;
    t = tty_saved;
    t.c_lflag &= ~(tcflag_t)ECHO;
    t.c_lflag |= ECHONL;
    tty_fd = fd;
    signal(SIGINT, tty_restore);
    signal(SIGTERM, tty_restore);
    signal(SIGHUP, tty_restore);
    if (tcsetattr(fd, TCSAFLUSH, &t) != 0) {
        tty_fd = -1;
        return -1;
    }
    rc = write(fd, prompt, strlen(prompt)) < 0 ? -1 : read_line(fd, buf, max);
    tcsetattr(fd, TCSADRAIN, &tty_saved);
    tty_fd = -1;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    return rc == 0 ? 0 : -1;
}

/* The password for user name into pw (PW_MAX + 1 bytes): from the file, or
 * asked twice. CG_EXIT_OK, or CG_EXIT_INPUT with the line printed. */
static int get_password(const uopts *o, const char *name, char *pw)
{
    char again[PW_MAX + 1], prompt[128];
    int fd, rc;

    if (o->pwfile) {
        int std = !strcmp(o->pwfile, "-");
        const char *shown = std ? "stdin" : o->pwfile;
        fd = std ? STDIN_FILENO : open(o->pwfile, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "canhgac user: %s: %s\n", shown, strerror(errno));
            return CG_EXIT_INPUT;
        }
        rc = read_line(fd, pw, PW_MAX);
        if (rc < 0)
            fprintf(stderr, "canhgac user: %s: %s\n", shown, strerror(errno));
        if (!std)
            close(fd);
        if (rc < 0)
            return CG_EXIT_INPUT;
        if (rc > 0) {
            fprintf(stderr, "canhgac user: %s: a password is at most %d bytes\n", shown, PW_MAX);
            return CG_EXIT_INPUT;
        }
        if (!pw[0]) {
            fprintf(stderr, "canhgac user: %s: empty password (its first line is the password)\n",
                    shown);
            return CG_EXIT_INPUT;
        }
        return CG_EXIT_OK;
    }
    if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0) {
        fprintf(stderr,
                "canhgac user: no terminal to ask the password on (%s): use "
                "--password-file F\n",
                strerror(errno));
        return CG_EXIT_INPUT;
    }
    snprintf(prompt, sizeof prompt, "Password for %s: ", name);
    rc = ask(fd, prompt, pw, PW_MAX);
    if (rc == 0)
        rc = ask(fd, "Again: ", again, PW_MAX);
    close(fd);
    if (rc) {
        fprintf(stderr, "canhgac user: could not read the password from the terminal\n");
        return CG_EXIT_INPUT;
    }
    rc = strcmp(pw, again);
    memset(again, 0, sizeof again);
    if (rc) {
        fprintf(stderr, "canhgac user: passwords do not match\n");
        return CG_EXIT_INPUT;
    }
    if (!pw[0]) {
        fprintf(stderr, "canhgac user: empty password\n");
        return CG_EXIT_INPUT;
    }
    return CG_EXIT_OK;
}

/* ---- helpers ------------------------------------------------------------------ */

/* The exit status of a store call's failure, its line printed. */
static int fail(cg_store *st, int rc)
{
    fprintf(stderr, "canhgac user: %s\n", cg_store_error(st));
    switch (rc) {
    case CG_EINVAL:
    case CG_ENOTFOUND:
    case CG_EEXIST:
    case CG_EPERM:
    case CG_EOLDER:
    case CG_ENEWER:
    case CG_ECORRUPT: return CG_EXIT_INPUT;
    default: return CG_EXIT_FAIL;
    }
}

/* Appends the audit entry of a change made here. */
static int audit(cg_store *st, unsigned event, const char *detail)
{
    char buf[64];
    const char *who = cg_cli_who(NULL, buf, sizeof buf);
    int rc = cg_store_audit_add(st, cg_cli_now_us(), who, "", event, detail);

    return rc ? fail(st, rc) : CG_EXIT_OK;
}

static int check_name(const char *name)
{
    if (cg_user_name_ok(name))
        return CG_EXIT_OK;
    fprintf(stderr, "canhgac user: not a user name: '%s' (1 to %d of A-Z a-z 0-9 . _ -)\n", name,
            CG_USER_NAME_MAX);
    return CG_EXIT_INPUT;
}

static int parse_role(const char *s)
{
    int r = cg_role_parse(s);
    if (r < 0)
        fprintf(stderr, "canhgac user: not a role: '%s' (viewer, analyst, responder or admin)\n",
                s);
    return r;
}

static void time_or_dash(uint64_t us, char *out, size_t len)
{
    if (us)
        cg_cli_time_str(us, out, len);
    else
        snprintf(out, len, "-");
}

/* ---- the subcommands ------------------------------------------------------------ */

static int do_add(cg_store *st, const uopts *o, const char *name)
{
    char pw[PW_MAX + 1], detail[128];
    int role, rc, ret;

    if ((ret = check_name(name)) != 0)
        return ret;
    if (!o->role) {
        fprintf(stderr, "canhgac user add: which role? (--role viewer|analyst|responder|admin)\n");
        return CG_EXIT_INPUT;
    }
    if ((role = parse_role(o->role)) < 0)
        return CG_EXIT_INPUT;
    if ((ret = get_password(o, name, pw)) != 0)
        return ret;
    rc = cg_store_user_add(st, name, (unsigned)role, pw, cg_cli_now_us());
    memset(pw, 0, sizeof pw);
    if (rc)
        return fail(st, rc);
    snprintf(detail, sizeof detail, "added %s (%s)", name, cg_role_name((unsigned)role));
    printf("user %s added (%s)\n", name, cg_role_name((unsigned)role));
    return audit(st, CG_AUDIT_USER, detail);
}

static int role_cb(const cg_user *u, void *arg)
{
    *(unsigned *)arg = u->role;
    return 0;
}

static int do_passwd(cg_store *st, const uopts *o, const char *name)
{
    char pw[PW_MAX + 1], detail[128];
    unsigned old;
    int rc, ret;

    if ((ret = check_name(name)) != 0)
        return ret;
    /* the user first: no password asked for a name that is not there */
    if ((rc = cg_store_user_get(st, name, role_cb, &old)) != 0)
        return fail(st, rc);
    if ((ret = get_password(o, name, pw)) != 0)
        return ret;
    rc = cg_store_user_passwd(st, name, pw, cg_cli_now_us());
    memset(pw, 0, sizeof pw);
    if (rc)
        return fail(st, rc);
    snprintf(detail, sizeof detail, "password of %s changed", name);
    printf("password of %s changed\n", name);
    return audit(st, CG_AUDIT_USER, detail);
}

static int do_disable(cg_store *st, const char *name, int disabled)
{
    char detail[128];
    int rc, ret;

    if ((ret = check_name(name)) != 0)
        return ret;
    if ((rc = cg_store_user_set_disabled(st, name, disabled)) != 0)
        return fail(st, rc);
    snprintf(detail, sizeof detail, "%s %s", disabled ? "disabled" : "enabled", name);
    printf("user %s %s\n", name, disabled ? "disabled" : "enabled");
    return audit(st, CG_AUDIT_USER, detail);
}

static int do_role(cg_store *st, const char *name, const char *rname)
{
    char detail[128];
    unsigned old = 0;
    int role, rc, ret;

    if ((ret = check_name(name)) != 0)
        return ret;
    if ((role = parse_role(rname)) < 0)
        return CG_EXIT_INPUT;
    if ((rc = cg_store_user_get(st, name, role_cb, &old)) != 0 ||
        (rc = cg_store_user_set_role(st, name, (unsigned)role)) != 0)
        return fail(st, rc);
    snprintf(detail, sizeof detail, "role of %s: %s -> %s", name, cg_role_name(old),
             cg_role_name((unsigned)role));
    printf("user %s: role %s -> %s\n", name, cg_role_name(old), cg_role_name((unsigned)role));
    return audit(st, CG_AUDIT_USER, detail);
}

static int list_cb(const cg_user *u, void *arg)
{
    const uopts *o = ((const uopts **)arg)[0];
    unsigned *n = ((unsigned **)arg)[1];
    char created[40], changed[40];

    cg_cli_time_str(u->created_us, created, sizeof created);
    cg_cli_time_str(u->changed_us, changed, sizeof changed);
    if (o->json) {
        fputs("{\"name\":", stdout);
        cg_cli_json_str(stdout, u->name);
        printf(",\"role\":\"%s\",\"disabled\":%s,\"created\":\"%s\",\"password_changed\":\"%s\"}\n",
               cg_role_name(u->role), u->disabled ? "true" : "false", created, changed);
    } else {
        if (*n == 0)
            printf("%-24s %-10s %-9s %-31s %s\n", "NAME", "ROLE", "STATUS", "CREATED",
                   "PASSWORD SET");
        printf("%-24s %-10s %-9s %-31s %s\n", u->name, cg_role_name(u->role),
               u->disabled ? "disabled" : "enabled", created, changed);
    }
    (*n)++;
    return 0;
}

static int do_list(cg_store *st, const uopts *o)
{
    unsigned n = 0;
    const void *arg[2] = { o, &n };
    int rc = cg_store_user_list(st, list_cb, arg);

    if (rc)
        return fail(st, rc);
    if (!n && !o->json)
        printf("(no user)\n");
    return CG_EXIT_OK;
}

static int do_token(cg_store *st, const uopts *o, const char *name)
{
    char tok[CG_TOKEN_LEN + 1], id[17], detail[300];
    unsigned char h[crypto_hash_sha256_BYTES];
    int rc, ret;

    if ((ret = check_name(name)) != 0)
        return ret;
    if ((rc = cg_store_token_new(st, name, o->label ? o->label : "", cg_cli_now_us(), tok)) != 0)
        return fail(st, rc);
    printf("%s\n", tok);
    fflush(stdout);
    /* its id, as tokens lists it (store_user.h: the first 16 hex digits of
     * its SHA-256), for the audit and the reminder */
    crypto_hash_sha256(h, (const unsigned char *)tok, CG_TOKEN_LEN);
    sodium_bin2hex(id, sizeof id, h, 8);
    sodium_memzero(tok, sizeof tok);
    fprintf(stderr, "canhgac user: token %s for %s: shown once, keep it now\n", id, name);
    snprintf(detail, sizeof detail, "token %s made for %s%s%s", id, name,
             o->label && o->label[0] ? ": " : "", o->label ? o->label : "");
    return audit(st, CG_AUDIT_TOKEN, detail);
}

struct tlist {
    const uopts *o;
    unsigned n;
    const char *want; /* revoke: the id looked for */
    char user[CG_USER_NAME_MAX + 1];
};

static int tokens_cb(const cg_token_info *t, void *arg)
{
    struct tlist *l = arg;
    char created[40], used[40];

    if (l->want) {
        if (strcmp(t->id, l->want))
            return 0;
        snprintf(l->user, sizeof l->user, "%s", t->user);
        l->n++;
        return 1;
    }
    cg_cli_time_str(t->created_us, created, sizeof created);
    time_or_dash(t->used_us, used, sizeof used);
    if (l->o->json) {
        printf("{\"id\":\"%s\",\"user\":", t->id);
        cg_cli_json_str(stdout, t->user);
        printf(",\"created\":\"%s\",\"last_used\":\"%s\",\"label\":", created, used);
        cg_cli_json_str(stdout, t->label);
        fputs("}\n", stdout);
    } else {
        if (l->n == 0)
            printf("%-16s  %-24s %-31s %-31s %s\n", "ID", "USER", "CREATED", "LAST USED", "LABEL");
        printf("%-16s  %-24s %-31s %-31s %s\n", t->id, t->user, created, used, t->label);
    }
    l->n++;
    return 0;
}

static int do_tokens(cg_store *st, const uopts *o, const char *name)
{
    struct tlist l = { .o = o };
    int rc;

    if (name && (rc = check_name(name)) != 0)
        return rc;
    if ((rc = cg_store_token_list(st, name, tokens_cb, &l)) != 0)
        return fail(st, rc);
    if (!l.n && !o->json)
        printf("(no token)\n");
    return CG_EXIT_OK;
}

static int do_revoke(cg_store *st, const uopts *o, const char *id)
{
    struct tlist l = { .o = o, .want = id };
    char detail[200];
    int rc;

    if ((rc = cg_store_token_list(st, NULL, tokens_cb, &l)) != 0)
        return fail(st, rc);
    if ((rc = cg_store_token_revoke(st, id)) != 0)
        return fail(st, rc);
    snprintf(detail, sizeof detail, "token %s of %s revoked", id, l.n ? l.user : "?");
    printf("token %s of %s revoked\n", id, l.n ? l.user : "?");
    return audit(st, CG_AUDIT_TOKEN, detail);
}

static int audit_cb(const cg_audit *a, void *arg)
{
    struct tlist *l = arg;
    char when[40];

    cg_cli_time_str(a->when_us, when, sizeof when);
    if (l->o->json) {
        printf("{\"seq\":%llu,\"time\":\"%s\",\"who\":", (unsigned long long)a->seq, when);
        cg_cli_json_str(stdout, a->who);
        fputs(",\"address\":", stdout);
        cg_cli_json_str(stdout, a->address);
        printf(",\"event\":\"%s\",\"detail\":", cg_audit_event_name(a->event));
        cg_cli_json_str(stdout, a->detail);
        fputs("}\n", stdout);
    } else {
        if (l->n == 0)
            printf("%-31s %-16s %-16s %-12s %s\n", "TIME", "WHO", "ADDRESS", "EVENT", "DETAIL");
        printf("%-31s %-16s %-16s %-12s %s\n", when, a->who[0] ? a->who : "-",
               a->address[0] ? a->address : "-", cg_audit_event_name(a->event), a->detail);
    }
    l->n++;
    return 0;
}

static int do_audit(cg_store *st, const uopts *o)
{
    struct tlist l = { .o = o };
    int rc = cg_store_audit_list(st, o->since_us, o->limit, audit_cb, &l);

    if (rc)
        return fail(st, rc);
    if (!l.n && !o->json)
        printf("(no entry)\n");
    return CG_EXIT_OK;
}

/* ---- the command ------------------------------------------------------------- */

static const char *opt_name(unsigned bit)
{
    switch (bit) {
    case O_ROLE: return "--role";
    case O_PWFILE: return "--password-file";
    case O_LABEL: return "--label";
    case O_SINCE: return "--since";
    case O_LIMIT: return "--limit";
    default: return "--json";
    }
}

int cg_cmd_user(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "store", required_argument, 0, 'd' },
        { "role", required_argument, 0, 'r' },
        { "password-file", required_argument, 0, 'p' },
        { "label", required_argument, 0, 'l' },
        { "since", required_argument, 0, 's' },
        { "limit", required_argument, 0, 'n' },
        { "json", no_argument, 0, 'j' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    uopts o = { .dir = cg_cli_default_store() };
    const struct sub *sub = NULL;
    const char *args[2] = { NULL, NULL };
    const char *env;
    int nargs = 0, c, ret;
    cg_store *st = NULL;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.dir = optarg; break;
        case 'r':
            o.role = optarg;
            o.given |= O_ROLE;
            break;
        case 'p':
            o.pwfile = optarg;
            o.given |= O_PWFILE;
            break;
        case 'l':
            o.label = optarg;
            o.given |= O_LABEL;
            break;
        case 's':
            if (cg_qlang_time(optarg, cg_cli_now_us(), &o.since_us)) {
                fprintf(stderr,
                        "canhgac user: --since: not a time: %s (use 24h, 7d, "
                        "2026-12-01T00:00:00 or @EPOCH)\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            o.given |= O_SINCE;
            break;
        case 'n': {
            char *end;
            unsigned long long v;
            errno = 0;
            v = strtoull(optarg, &end, 10);
            if (!optarg[0] || *end || optarg[0] == '-' || v == 0 || errno) {
                fprintf(stderr, "canhgac user: --limit: a count from 1, not %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            o.limit = v;
            o.given |= O_LIMIT;
            break;
        }
        case 'j':
            o.json = 1;
            o.given |= O_JSON;
            break;
        case 'h': fputs(user_usage, stdout); return CG_EXIT_OK;
        default: fputs(user_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind >= argc) {
        fputs(user_usage, stderr);
        return CG_EXIT_INPUT;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[optind], subs[i].name))
            sub = &subs[i];
    if (!sub) {
        fprintf(stderr, "canhgac user: unknown subcommand '%s' (see canhgac user --help)\n",
                argv[optind]);
        return CG_EXIT_INPUT;
    }
    for (int i = optind + 1; i < argc; i++) {
        if (nargs == 2) {
            fprintf(stderr, "canhgac user %s: unexpected argument: %s\n", sub->name, argv[i]);
            return CG_EXIT_INPUT;
        }
        args[nargs++] = argv[i];
    }
    if (sub->nargs >= 0 ? nargs != sub->nargs : nargs > 1) {
        fprintf(stderr, "canhgac user %s: %s\n", sub->name,
                nargs < sub->nargs ? "missing argument (see canhgac user --help)"
                                   : "too many arguments (see canhgac user --help)");
        return CG_EXIT_INPUT;
    }
    for (unsigned bit = 1; bit <= O_JSON; bit <<= 1)
        if ((o.given & bit) && !(sub->opts & bit)) {
            fprintf(stderr, "canhgac user %s: %s does not apply\n", sub->name, opt_name(bit));
            return CG_EXIT_INPUT;
        }
    if (cg_store_open(&st, o.dir, CG_STORE_TRIAGE, 0)) {
        fprintf(stderr, "canhgac user: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    cg_cli_migrated_notice("canhgac user", o.dir, st);
    env = getenv("CANHGAC_PWHASH_MIN");
    cg_store_user_cost(st, env && !strcmp(env, "1"));

    if (!strcmp(sub->name, "add"))
        ret = do_add(st, &o, args[0]);
    else if (!strcmp(sub->name, "passwd"))
        ret = do_passwd(st, &o, args[0]);
    else if (!strcmp(sub->name, "disable") || !strcmp(sub->name, "enable"))
        ret = do_disable(st, args[0], sub->name[0] == 'd');
    else if (!strcmp(sub->name, "role"))
        ret = do_role(st, args[0], args[1]);
    else if (!strcmp(sub->name, "list"))
        ret = do_list(st, &o);
    else if (!strcmp(sub->name, "token"))
        ret = do_token(st, &o, args[0]);
    else if (!strcmp(sub->name, "tokens"))
        ret = do_tokens(st, &o, args[0]);
    else if (!strcmp(sub->name, "revoke"))
        ret = do_revoke(st, &o, args[0]);
    else
        ret = do_audit(st, &o);
    cg_store_close(st);
    return ret;
}
