/* cmd_serve.c — `canhgac serve`: the web console's server (libmicrohttpd) and
 * its JSON API (tools/web/API.md), over the store that `run` writes.
 *
 * Start: parse and check everything (--listen, the certificate and key
 * pair, plain HTTP only on loopback), open the store (a triage handle first,
 * which migrates the store's schema if it must, then a read-only one), bind
 * the socket, drop privileges (--user), start the dashboard thread and MHD's
 * thread pool. SIGINT/SIGTERM: stop taking connections, finish, exit 0.
 *
 * Invariants:
 *  1. Reads go through the read-only handle (LMDB snapshots, from any
 *     thread); changes (triage, notes, audit) through the triage handle,
 *     one thread at a time (tr_mu), each a short transaction.
 *  2. Only the embedded assets and /api/ are reachable; a path that is not
 *     plain is 404 or 400 before any routing (cg_web_path_split).
 *  3. Every /api/ call but login is authenticated: a session cookie (and,
 *     for a change, its CSRF token in X-CSRF-Token) or a Bearer API token.
 *     Every change is made as, and recorded under, the authenticated user.
 *  4. Every response carries the security headers (add_headers); /api/
 *     answers are never cached.
 *  5. Cases, case files, reports and evidence files are made by running this
 *     same binary (/proc/self/exe) as a child in a private temporary
 *     directory, with a time bound: the console says what the CLI says.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/lang/rule.h"
#include "sensor/ctl.h"
#include "sensor/privs.h"
#include "store/store.h"
#include "store/store_user.h"
#include "tools/cli.h"
#include "tools/web_assets.h"
#include "tools/web_http.h"
#include "tools/web_json.h"
#include "tools/web_session.h"

extern char **environ;

static const char serve_usage[] =
    "usage: canhgac serve [-d DIR] [--listen ADDR:PORT] [--cert FILE --key FILE] [options]\n"
    "\n"
    "The web console: its pages and its JSON API (tools/web/API.md) over the\n"
    "store, while `canhgac run` writes it. Accounts are the store's (canhgac\n"
    "user add); a login opens a session (cookie cg_session, with a CSRF token\n"
    "for changes), and scripts use API tokens (canhgac user token;\n"
    "Authorization: Bearer cgt_...). Every login, failure, lockout, refusal and\n"
    "change is in the store's audit trail (canhgac user audit).\n"
    "\n"
    "options:\n"
    "  -d, --store DIR        the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --listen ADDR:PORT where to listen (default 127.0.0.1:8443; [::1]:8443)\n"
    "      --cert FILE        TLS: the certificate (PEM), with --key\n"
    "      --key FILE         TLS: its private key (PEM); the pair is checked at start\n"
    "      --insecure-http    plain HTTP on an address that is not loopback (without\n"
    "                         --cert, only 127.0.0.0/8 and ::1 are allowed)\n"
    "      --user NAME        started as root: run as NAME once the socket is bound\n"
    "                         and the store opened (as `run --user`)\n"
    "      --threads N        request threads (default 4; 1 to 64)\n"
    "      --session-idle T   a session ends after T unused (default 30m)\n"
    "      --session-max T    and T after its login whatever (default 12h)\n"
    "      --timeout SECONDS  a connection idle that long is closed (default 15: slow\n"
    "                         clients do not hold the server)\n"
    "      --ctl SOCKET       the sensor's control socket: its counters on the\n"
    "                         dashboard (default $CANHGAC_CTL or\n"
    "                         /run/canhgac/ctl.sock when it exists)\n"
    "  -h, --help             this help\n"
    "\n"
    "Durations: 90s, 30m, 12h, 7d. Logins are limited: 5 failures of an account\n"
    "in 15 minutes lock it for 15 minutes; 20 failures from one address in 15\n"
    "minutes refuse that address for 15 minutes (429, Retry-After).\n"
    "One line per request on stderr: time, address, user, method, path (a\n"
    "password in the query string shown as ***), status, milliseconds.\n"
    "\n"
    "examples:\n"
    "  canhgac serve -d /var/lib/canhgac/store --listen 0.0.0.0:8443 \\\n"
    "      --cert /etc/canhgac/tls.crt --key /etc/canhgac/tls.key --user canhgac\n"
    "  canhgac serve -d store --listen 127.0.0.1:8080\n"
    "\n"
    "exit: 0 stopped by SIGINT or SIGTERM; 1 the store is missing or cannot be\n"
    "opened, or serving failed; 2 bad input (usage, --listen, a certificate or\n"
    "key that cannot be read or do not match, plain HTTP on a public address)\n";

#define BODY_MAX CG_WEB_JSON_MAX
#define VERIFY_MAX (256ull * 1024 * 1024)
#define HEADERS_MAX 64
#define CHILD_SECONDS 120
#define DASH_EVERY_US (10ull * 1000000)
#define PAGE_MAX 1000
#define SINCE_MAX 100
#define ASC_MAX 1000000 /* order=asc collects the ids it pages through */
#define TOP_N 10

/* ---- the server and a request ------------------------------------------------- */

typedef struct dash {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *json; /* the last computed, NULL before the first */
    size_t len;
    int stop, started;
} dash;

typedef struct srv {
    const char *dir;
    cg_store *rd, *tr;
    pthread_mutex_t tr_mu;
    cg_web_sessions *sess;
    cg_web_limiter *lim_user, *lim_addr;
    int tls;
    const char *ctl;
    char tmp[512];     /* this server's private temporary directory */
    unsigned long seq; /* temporary names */
    pthread_mutex_t seq_mu;
    dash d;
    struct tu {
        char tok[CG_TOKEN_LEN + 1];
        uint64_t at; /* mono_us of the last write */
    } used[64];      /* under tr_mu */
} srv;

enum { AUTH_NONE, AUTH_SESSION, AUTH_TOKEN };

typedef struct req {
    srv *s;
    char *target; /* as sent */
    char path[1024];
    const char *qs;
    int path_rc;
    int started;
    char addr[INET6_ADDRSTRLEN];
    char method[16];
    char user[CG_USER_NAME_MAX + 1];
    unsigned role;
    int auth;
    char sid[CG_WEB_ID_HEX + 1];
    char csrf[CG_WEB_ID_HEX + 1];
    char *body; /* JSON bodies, up to BODY_MAX */
    size_t blen;
    int too_large;
    int upfd; /* /api/verify: the upload's file */
    char upath[PATH_MAX];
    uint64_t ulen;
    unsigned status;
    uint64_t t0;
} req;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- responses ------------------------------------------------------------------ */

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                          "data:; connect-src 'self'; font-src 'self'; form-action 'self'; "
                          "frame-ancestors 'none'; base-uri 'none'";

static void add_headers(struct MHD_Response *resp, int api)
{
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (api)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static enum MHD_Result queue(struct MHD_Connection *c, req *r, unsigned status,
                             struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    add_headers(resp, !strncmp(r->path, "/api/", 5) || r->path_rc);
    r->status = status;
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* buf (malloc'd) becomes the body: freed by MHD. */
static enum MHD_Result send_buf(struct MHD_Connection *c, req *r, unsigned status, const char *type,
                                char *buf, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, buf ? buf : (char *)"",
                                        buf ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(buf);
        return MHD_NO;
    }
    if (type)
        MHD_add_response_header(resp, "Content-Type", type);
    return queue(c, r, status, resp);
}

static const char *code_of(unsigned status)
{
    switch (status) {
    case 400: return "bad-request";
    case 401: return "unauthenticated";
    case 403: return "forbidden";
    case 404: return "not-found";
    case 405: return "method";
    case 409: return "conflict";
    case 413: return "too-large";
    case 429: return "rate-limited";
    case 431: return "too-many-headers";
    case 503: return "store";
    default: return "error";
    }
}

/* {"error": line, "code": code} (code NULL: the status's word), column when
 * > 0, Retry-After when retry > 0. */
static enum MHD_Result send_err_x(struct MHD_Connection *c, req *r, unsigned status,
                                  const char *code, int column, uint64_t retry, const char *fmt,
                                  ...)
{
    char line[1024];
    char *buf = NULL;
    size_t len = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return MHD_NO;
    fputs("{\"error\":", f);
    cg_cli_json_str(f, line);
    fprintf(f, ",\"code\":\"%s\"", code ? code : code_of(status));
    if (column > 0)
        fprintf(f, ",\"column\":%d", column);
    fputs("}\n", f);
    fclose(f);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(buf);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (retry) {
        char ra[32];
        snprintf(ra, sizeof ra, "%llu", (unsigned long long)retry);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    return queue(c, r, status, resp);
}

#define send_err(c, r, status, ...) send_err_x(c, r, status, NULL, 0, 0, __VA_ARGS__)

/* A store failure: not found is 404, the rest 503 `store`. */
static enum MHD_Result send_store_err(struct MHD_Connection *c, req *r, cg_store *st, int rc,
                                      const char *what)
{
    if (rc == CG_ENOTFOUND)
        return send_err(c, r, 404, "%s: not found", what);
    if (rc == CG_EINVAL)
        return send_err(c, r, 400, "%s: %s", what, cg_store_error(st));
    return send_err(c, r, 503, "%s", cg_store_error(st));
}

/* A JSON body built in a memstream. */
typedef struct out {
    FILE *f;
    char *buf;
    size_t len;
} out;

static int out_open(out *o)
{
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    return o->f ? 0 : -1;
}

static void out_drop(out *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    free(o->buf);
    o->buf = NULL;
}

static enum MHD_Result out_send(struct MHD_Connection *c, req *r, unsigned status, out *o)
{
    if (fclose(o->f)) {
        o->f = NULL;
        free(o->buf);
        return send_err(c, r, 500, "out of memory");
    }
    o->f = NULL;
    return send_buf(c, r, status, "application/json", o->buf, o->len);
}

/* A file's bytes as the body (fd given to MHD). */
static enum MHD_Result send_file(struct MHD_Connection *c, req *r, const char *path,
                                 const char *type, const char *download)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        if (fd >= 0)
            close(fd);
        return send_err(c, r, 500, "%s: %s", path, strerror(errno));
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    if (download) {
        char cd[256];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", download);
        MHD_add_response_header(resp, "Content-Disposition", cd);
    }
    return queue(c, r, 200, resp);
}

/* ---- the audit ------------------------------------------------------------------ */

static void audit(srv *s, const char *who, const char *addr, unsigned ev, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->tr_mu);
    if (cg_store_audit_add(s->tr, cg_cli_now_us(), who ? who : "", addr ? addr : "", ev, detail))
        fprintf(stderr, "canhgac serve: audit: %s\n", cg_store_error(s->tr));
    pthread_mutex_unlock(&s->tr_mu);
}

/* 403 for a role below need, recorded. */
static int need(struct MHD_Connection *c, req *r, unsigned role, enum MHD_Result *ret)
{
    if (r->role >= role)
        return 0;
    audit(r->s, r->user, r->addr, CG_AUDIT_DENIED, "%s %s: needs %s, has %s", r->method, r->path,
          cg_role_name(role), cg_role_name(r->role));
    *ret = send_err_x(c, r, 403, "forbidden", 0, 0, "%s needs the role %s (you are %s)", r->path,
                      cg_role_name(role), cg_role_name(r->role));
    return -1;
}

/* ---- children: this binary, in the temporary directory ------------------------------ */

static void tmp_name(srv *s, const char *suffix, char *out, size_t len)
{
    pthread_mutex_lock(&s->seq_mu);
    unsigned long n = ++s->seq;
    pthread_mutex_unlock(&s->seq_mu);
    snprintf(out, len, "%s/%lu%s", s->tmp, n, suffix);
}

/* Runs argv (argv[0] is replaced by /proc/self/exe) with stdin from in_path
 * (NULL: /dev/null), stdout into out_path (NULL: discarded); its last line on
 * stderr into errline. The exit status, or -1 (could not run, killed after
 * CHILD_SECONDS: errline says). */
static int run_child(srv *s, char **argv, const char *in_path, const char *out_path, char *errline,
                     size_t errlen)
{
    char epath[PATH_MAX];
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = 0, ret = -1;
    tmp_name(s, ".err", epath, sizeof epath);
    errline[0] = '\0';
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in_path ? in_path : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    argv[0] = (char *)"canhgac";
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        snprintf(errline, errlen, "cannot run canhgac: %s", strerror(rc));
        unlink(epath);
        return -1;
    }
    uint64_t end = mono_us() + (uint64_t)CHILD_SECONDS * 1000000;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            break;
        if (mono_us() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            snprintf(errline, errlen, "%s %s: took longer than %d s", argv[1],
                     argv[2] ? argv[2] : "", CHILD_SECONDS);
            unlink(epath);
            return -1;
        }
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    FILE *f = fopen(epath, "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            if (line[0])
                snprintf(errline, errlen, "%s", line);
        }
        fclose(f);
    }
    unlink(epath);
    if (WIFEXITED(st))
        ret = WEXITSTATUS(st);
    else if (!errline[0])
        snprintf(errline, errlen, "canhgac %s: killed by signal %d", argv[1], WTERMSIG(st));
    return ret;
}

/* A child's failure as an answer: "not found" is 404, bad input 400, the
 * rest 503 (the store) or 500. The line is the child's, "canhgac X: " off. */
static enum MHD_Result send_child_err(struct MHD_Connection *c, req *r, int rc, const char *line)
{
    const char *why = line;
    if (!strncmp(why, "canhgac ", 8)) {
        const char *p = strchr(why + 8, ':');
        if (p && p[1] == ' ')
            why = p + 2;
    }
    if (!why[0])
        why = "failed";
    if (strstr(line, "not found"))
        return send_err(c, r, 404, "%s", why);
    if (rc == CG_EXIT_INPUT)
        return send_err(c, r, 400, "%s", why);
    return send_err(c, r, rc == CG_EXIT_FAIL ? 503 : 500, "%s", why);
}

/* A file's whole contents (at most max bytes) into *buf (NUL-terminated). */
static int slurp(const char *path, size_t max, char **buf, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max, f) : 0;
    int bad = !b || ferror(f) || (n == max && fgetc(f) != EOF);
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* ---- the dashboard (its thread) ------------------------------------------------------ */

typedef struct dcount {
    uint64_t sev[5];   /* open incidents by severity 1..4 (0: other) */
    uint64_t layer[5]; /* open incidents at layer 1..4 */
} dcount;

static int dash_open(const cg_incident *inc, void *arg)
{
    dcount *d = arg;
    d->sev[inc->severity >= 1 && inc->severity <= 4 ? inc->severity : 0]++;
    for (int l = 1; l <= 4; l++)
        if (inc->layers & CG_LAYER(l))
            d->layer[l]++;
    return 0;
}

typedef struct hour {
    uint64_t start, n[24];
} hour;

static int dash_hour(uint64_t start_us, uint64_t count, void *arg)
{
    hour *h = arg;
    if (start_us >= h->start && start_us < h->start + 24ull * 3600 * 1000000)
        h->n[(start_us - h->start) / (3600ull * 1000000)] += count;
    return 0;
}

static int take_first(const cg_incident *inc, void *arg)
{
    cg_incident *o = arg;
    *o = *inc; /* only the fixed fields and the copied strings below are used */
    return 1;
}

typedef struct sample {
    char msg[512];
    char country[3];
    uint32_t asn;
} sample;

static int take_sample(const cg_incident *inc, void *arg)
{
    sample *s = arg;
    snprintf(s->msg, sizeof s->msg, "%s", inc->msg ? inc->msg : "");
    snprintf(s->country, sizeof s->country, "%s", inc->src_geo.country);
    s->asn = inc->src_geo.asn;
    return 1;
}

/* The dashboard as API.md has it, into *json. 0 or the store's code. */
static int dash_compute(srv *s, char **json, size_t *jlen)
{
    cg_store *st = s->rd;
    cg_store_info info;
    cg_query q;
    dcount d;
    hour h;
    cg_store_group g[TOP_N];
    size_t ng;
    int rc;
    char t[40];
    out o;
    (void)take_first;

    if ((rc = cg_store_info_get(st, &info)) != 0)
        return rc;
    if (out_open(&o))
        return CG_ENOMEM;
    FILE *f = o.f;
    uint64_t now = cg_cli_now_us();
    cg_cli_time_str(now, t, sizeof t);
    fprintf(f, "{\"generated\":\"%s\",\"total\":%llu", t, (unsigned long long)info.incidents);

    /* open: new, acknowledged, investigating */
    memset(&q, 0, sizeof q);
    memset(&d, 0, sizeof d);
    q.has = CG_Q_STATUS;
    q.status_mask = (1u << CG_ST_NEW) | (1u << CG_ST_ACKNOWLEDGED) | (1u << CG_ST_INVESTIGATING);
    if ((rc = cg_store_query(st, &q, 0, NULL, dash_open, &d)) != 0)
        goto fail;
    fprintf(f, ",\"open\":{\"by_severity\":{");
    for (int i = 1; i <= 4; i++)
        fprintf(f, "%s\"%d\":%llu", i > 1 ? "," : "", i, (unsigned long long)d.sev[i]);
    fprintf(f, "},\"by_layer\":{");
    for (int i = 1; i <= 4; i++)
        fprintf(f, "%s\"%d\":%llu", i > 1 ? "," : "", i, (unsigned long long)d.layer[i]);
    fprintf(f, "}}");

    /* the last 24 hours, by hour */
    memset(&h, 0, sizeof h);
    uint64_t hr = 3600ull * 1000000;
    h.start = (now / hr + 1) * hr - 24 * hr;
    memset(&q, 0, sizeof q);
    q.has = CG_Q_SINCE;
    q.since_us = h.start;
    if ((rc = cg_store_histogram(st, &q, hr, dash_hour, &h)) != 0)
        goto fail;
    fprintf(f, ",\"per_hour\":[");
    for (int i = 0; i < 24; i++) {
        cg_cli_time_str(h.start + (uint64_t)i * hr, t, sizeof t);
        fprintf(f, "%s{\"t\":\"%s\",\"n\":%llu}", i ? "," : "", t, (unsigned long long)h.n[i]);
    }
    fputc(']', f);

    /* tops, over every incident (the indexes count them) */
    if ((rc = cg_store_top(st, NULL, CG_F_SID, g, TOP_N, &ng)) != 0)
        goto fail;
    fprintf(f, ",\"top_signatures\":[");
    for (size_t i = 0; i < ng; i++) {
        sample sm = { "", "", 0 };
        memset(&q, 0, sizeof q);
        q.has = CG_Q_SID;
        q.sid = g[i].num;
        if ((rc = cg_store_query(st, &q, 1, NULL, take_sample, &sm)) != 0)
            goto fail;
        fprintf(f, "%s{\"sid\":%u,\"gid\":%u,\"msg\":", i ? "," : "", g[i].num, g[i].gid);
        cg_cli_json_str(f, sm.msg);
        fprintf(f, ",\"n\":%llu}", (unsigned long long)g[i].count);
    }
    fprintf(f, "],\"top_sources\":[");
    if ((rc = cg_store_top(st, NULL, CG_F_SRC, g, TOP_N, &ng)) != 0)
        goto fail;
    for (size_t i = 0; i < ng; i++) {
        sample sm = { "", "", 0 };
        char a[64];
        memset(&q, 0, sizeof q);
        q.has = CG_Q_SRC;
        memcpy(q.src_lo, g[i].addr, 16);
        memcpy(q.src_hi, g[i].addr, 16);
        if ((rc = cg_store_query(st, &q, 1, NULL, take_sample, &sm)) != 0)
            goto fail;
        cg_cli_addr(g[i].addr, a, sizeof a);
        fprintf(f, "%s{\"ip\":\"%s\",\"country\":", i ? "," : "", a);
        if (sm.country[0])
            cg_cli_json_str(f, sm.country);
        else
            fputs("null", f);
        if (sm.asn)
            fprintf(f, ",\"asn\":%u", sm.asn);
        else
            fputs(",\"asn\":null", f);
        fprintf(f, ",\"n\":%llu}", (unsigned long long)g[i].count);
    }
    fprintf(f, "],\"top_countries\":[");
    if ((rc = cg_store_top(st, NULL, CG_F_SRC_CC, g, TOP_N, &ng)) != 0)
        goto fail;
    for (size_t i = 0; i < ng; i++) {
        fprintf(f, "%s{\"country\":", i ? "," : "");
        cg_cli_json_str(f, g[i].cc);
        fprintf(f, ",\"n\":%llu}", (unsigned long long)g[i].count);
    }
    fputc(']', f);

    /* the sensor's counters, when its control socket answers */
    fputs(",\"sensors\":", f);
    int have = 0;
    if (s->ctl) {
        char *reply = malloc(1 << 20), err[256];
        if (reply && cg_ctl_request(s->ctl, "stats", reply, 1 << 20, 1000, err, sizeof err) == 0) {
            json_object *j = json_tokener_parse(reply);
            if (j && json_object_is_type(j, json_type_object)) {
                fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), f);
                have = 1;
            }
            json_object_put(j);
        }
        free(reply);
    }
    if (!have)
        fputs("null", f);
    fprintf(f, ",\"latest_id\":%llu}\n", (unsigned long long)(info.next_id ? info.next_id - 1 : 0));
    if (fclose(o.f)) {
        o.f = NULL;
        free(o.buf);
        return CG_ENOMEM;
    }
    *json = o.buf;
    *jlen = o.len;
    return 0;
fail:
    out_drop(&o);
    return rc;
}

/* What says the store changed: the next id and the log's size. */
static void store_mark(cg_store *st, uint64_t mark[2])
{
    cg_store_info info;
    cg_store_head head;
    mark[0] = cg_store_info_get(st, &info) ? 0 : info.next_id;
    mark[1] = cg_store_log_head(st, &head) ? 0 : head.size;
}

static void *dash_main(void *arg)
{
    srv *s = arg;
    uint64_t mark[2] = { UINT64_MAX, UINT64_MAX }, last = 0, every = DASH_EVERY_US;
    pthread_mutex_lock(&s->d.mu);
    while (!s->d.stop) {
        uint64_t now = mono_us();
        if (!s->d.json || now - last >= every) {
            uint64_t m[2];
            pthread_mutex_unlock(&s->d.mu);
            store_mark(s->rd, m);
            char *json = NULL;
            size_t len = 0;
            int changed = m[0] != mark[0] || m[1] != mark[1], rc = 0;
            uint64_t t0 = mono_us();
            if (changed && (rc = dash_compute(s, &json, &len)) != 0)
                fprintf(stderr, "canhgac serve: dashboard: %s\n", cg_store_error(s->rd));
            /* a store so large that its dashboard takes seconds is looked at
             * again after five times as long: a fifth of a core at most,
             * beside a sensor that writes all the time */
            uint64_t took = mono_us() - t0;
            every = took * 5 > DASH_EVERY_US ? took * 5 : DASH_EVERY_US;
            pthread_mutex_lock(&s->d.mu);
            if (json) {
                free(s->d.json);
                s->d.json = json;
                s->d.len = len;
                mark[0] = m[0];
                mark[1] = m[1];
                pthread_cond_broadcast(&s->d.cv);
            }
            last = mono_us();
            if (rc && !s->d.json) { /* nothing to serve: say so to who waits */
                s->d.started = -1;
                pthread_cond_broadcast(&s->d.cv);
            }
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->d.cv, &s->d.mu, &ts);
    }
    pthread_mutex_unlock(&s->d.mu);
    return NULL;
}

/* ---- API handlers ----------------------------------------------------------------- */

static enum MHD_Result api_login(struct MHD_Connection *c, req *r)
{
    srv *s = r->s;
    json_object *j = NULL;
    const char *user = NULL, *pw = NULL;
    char err[256];
    int rc = cg_web_json_parse(r->body, r->blen, BODY_MAX, &j, err, sizeof err);
    if (rc)
        return send_err(c, r, rc, "%s", err);
    if (cg_web_json_str(j, "user", CG_USER_NAME_MAX, &user) != 1 ||
        cg_web_json_str(j, "password", 4096, &pw) != 1 || !user[0]) {
        json_object_put(j);
        return send_err(c, r, 400, "login: {\"user\": NAME, \"password\": PASSWORD} expected");
    }
    uint64_t now = mono_us(), w;
    char akey[80];
    snprintf(akey, sizeof akey, "addr %s", r->addr);
    if ((w = cg_web_limiter_wait(s->lim_addr, akey, now)) != 0) {
        audit(s, user, r->addr, CG_AUDIT_LOGIN_FAILED, "refused: too many failures from %s",
              r->addr);
        json_object_put(j);
        return send_err_x(c, r, 429, "rate-limited", 0, w,
                          "too many failed logins from this address; try again in %llu s",
                          (unsigned long long)w);
    }
    if ((w = cg_web_limiter_wait(s->lim_user, user, now)) != 0) {
        audit(s, user, r->addr, CG_AUDIT_LOGIN_FAILED, "refused: the account is locked");
        json_object_put(j);
        return send_err_x(c, r, 429, "rate-limited", 0, w,
                          "this account is locked after failed logins; try again in %llu s",
                          (unsigned long long)w);
    }
    unsigned role = 0;
    rc = cg_user_name_ok(user) ? cg_store_user_verify(s->rd, user, pw, &role) : CG_ENOTFOUND;
    if (rc == CG_ENOTFOUND || rc == CG_EPERM) {
        int locked = cg_web_limiter_fail(s->lim_user, user, now);
        cg_web_limiter_fail(s->lim_addr, akey, now);
        audit(s, user, r->addr, CG_AUDIT_LOGIN_FAILED, "%s",
              rc == CG_ENOTFOUND ? "no such user" : "wrong password or disabled");
        if (locked)
            audit(s, user, r->addr, CG_AUDIT_LOCKOUT,
                  "5 failures in 15 minutes: locked 15 minutes");
        json_object_put(j);
        return send_err(c, r, 401, "wrong user name or password");
    }
    if (rc) {
        json_object_put(j);
        return send_store_err(c, r, s->rd, rc, "login");
    }
    cg_web_limiter_reset(s->lim_user, user);
    char sid[CG_WEB_ID_HEX + 1];
    cg_web_session ses;
    if (cg_web_session_new(s->sess, user, role, now, sid, &ses)) {
        json_object_put(j);
        return send_err(c, r, 500, "cannot make a session (no random bytes)");
    }
    snprintf(r->user, sizeof r->user, "%s", user);
    json_object_put(j);
    audit(s, r->user, r->addr, CG_AUDIT_LOGIN, "session");
    out o;
    if (out_open(&o))
        return MHD_NO;
    fputs("{\"user\":", o.f);
    cg_cli_json_str(o.f, r->user);
    fprintf(o.f, ",\"role\":\"%s\",\"csrf\":\"%s\",\"lang\":\"vi\"}\n", cg_role_name(role),
            ses.csrf);
    if (fclose(o.f)) {
        free(o.buf);
        return MHD_NO;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(o.len, o.buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(o.buf);
        return MHD_NO;
    }
    char cookie[256];
    snprintf(cookie, sizeof cookie, "cg_session=%s; HttpOnly; SameSite=Strict; Path=/%s", sid,
             s->tls ? "; Secure" : "");
    MHD_add_response_header(resp, "Set-Cookie", cookie);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return queue(c, r, 200, resp);
}

static enum MHD_Result api_me(struct MHD_Connection *c, req *r)
{
    out o;
    if (out_open(&o))
        return MHD_NO;
    fputs("{\"user\":", o.f);
    cg_cli_json_str(o.f, r->user);
    fprintf(o.f, ",\"role\":\"%s\",\"csrf\":", cg_role_name(r->role));
    if (r->auth == AUTH_SESSION)
        fprintf(o.f, "\"%s\"", r->csrf);
    else
        fputs("null", o.f);
    fputs(",\"lang\":\"vi\"}\n", o.f);
    return out_send(c, r, 200, &o);
}

static enum MHD_Result api_dashboard(struct MHD_Connection *c, req *r)
{
    srv *s = r->s;
    pthread_mutex_lock(&s->d.mu);
    while (!s->d.json && s->d.started >= 0 && !s->d.stop)
        pthread_cond_wait(&s->d.cv, &s->d.mu);
    char *copy = NULL;
    size_t len = s->d.len;
    if (s->d.json && (copy = malloc(len)))
        memcpy(copy, s->d.json, len);
    pthread_mutex_unlock(&s->d.mu);
    if (!copy)
        return send_err(c, r, 503, "the dashboard could not be computed: %s",
                        cg_store_error(s->rd));
    return send_buf(c, r, 200, "application/json", copy, len);
}

typedef struct lst {
    FILE *f;
    uint64_t n, after; /* since: stop at ids <= after */
    int since;
} lst;

static int list_row(const cg_incident *inc, void *arg)
{
    lst *l = arg;
    if (l->since && inc->id <= l->after)
        return 1;
    if (l->n++)
        fputc(',', l->f);
    cg_cli_incident_json(l->f, inc);
    return 0;
}

typedef struct idv {
    uint64_t *v;
    size_t n, cap;
    int oom, over;
    uint64_t after; /* only ids above */
} idv;

static int take_id(const cg_incident *inc, void *arg)
{
    idv *l = arg;
    if (inc->id <= l->after) /* newest first: the rest are older still */
        return 1;
    if (l->n >= ASC_MAX) {
        l->over = 1;
        return 1;
    }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 1024;
        uint64_t *b = realloc(l->v, nc * sizeof *b);
        if (!b) {
            l->oom = 1;
            return -1;
        }
        l->v = b;
        l->cap = nc;
    }
    l->v[l->n++] = inc->id;
    return 0;
}

static int qnum(req *r, const char *name, uint64_t dflt, uint64_t max, uint64_t *out)
{
    char v[32], *end;
    int rc = cg_web_query_get(r->qs, name, v, sizeof v);
    if (rc < 0)
        return -1;
    if (rc == 0 || !v[0]) {
        *out = dflt;
        return 0;
    }
    if (v[0] < '0' || v[0] > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno || x > max)
        return -1;
    *out = x;
    return 0;
}

static enum MHD_Result api_incidents(struct MHD_Connection *c, req *r)
{
    srv *s = r->s;
    char text[4096], order[8], err[512];
    uint64_t limit, cursor;
    int col = 0, rc;
    if ((rc = cg_web_query_get(r->qs, "q", text, sizeof text)) < 0)
        return send_err(c, r, 400, "q: a bad escape, a NUL, or longer than 4095 bytes");
    if (rc == 0)
        text[0] = '\0';
    if (qnum(r, "limit", 50, PAGE_MAX, &limit) || limit == 0)
        return send_err(c, r, 400, "limit: a number from 1 to %d", PAGE_MAX);
    if (qnum(r, "cursor", 0, UINT64_MAX, &cursor))
        return send_err(c, r, 400, "cursor: not a cursor this API gave");
    if ((rc = cg_web_query_get(r->qs, "order", order, sizeof order)) < 0 ||
        (rc == 1 && strcmp(order, "desc") && strcmp(order, "asc")))
        return send_err(c, r, 400, "order: desc or asc");
    int asc = rc == 1 && !strcmp(order, "asc");
    cg_cli_q cq;
    if (cg_cli_q_parse(&cq, text, cg_cli_now_us(), err, sizeof err, &col)) {
        const char *why =
            !strncmp(err, "column ", 7) && strstr(err, ": ") ? strstr(err, ": ") + 2 : err;
        return send_err_x(c, r, 400, "bad-query", col, 0, "column %d: %s", col, why);
    }
    out o;
    if (out_open(&o)) {
        cg_cli_q_free(&cq);
        return MHD_NO;
    }
    lst l = { o.f, 0, 0, 0 };
    uint64_t next = 0;
    fputs("{\"incidents\":[", o.f);
    if (!asc) {
        uint64_t cur = cursor;
        rc = cg_store_query(s->rd, &cq.q, limit, &cur, list_row, &l);
        if (!rc && cur && l.n == limit)
            next = cur;
    } else {
        /* oldest first: the ids above the cursor, then their records */
        idv ids = { NULL, 0, 0, 0, 0, cursor };
        rc = cg_store_query(s->rd, &cq.q, 0, NULL, take_id, &ids);
        if (!rc && ids.oom)
            rc = CG_ENOMEM;
        if (!rc && ids.over) {
            free(ids.v);
            cg_cli_q_free(&cq);
            out_drop(&o);
            return send_err(c, r, 400,
                            "order=asc: more than %d matches after the cursor; narrow the "
                            "query (since ...) or page newest first",
                            ASC_MAX);
        }
        size_t i = ids.n;
        while (!rc && i > 0 && ids.v[i - 1] <= cursor)
            i--;
        while (!rc && i > 0 && l.n < limit) {
            i--;
            rc = cg_store_get(s->rd, ids.v[i], list_row, &l);
            if (l.n == limit && i > 0)
                next = ids.v[i];
        }
        free(ids.v);
    }
    if (!rc) {
        fputs("],\"next\":", o.f);
        if (next)
            fprintf(o.f, "\"%llu\"", (unsigned long long)next);
        else
            fputs("null", o.f);
        uint64_t n = 0;
        /* a count only where one index gives it without reading records
         * (no filter, or one filter that is the whole expression) */
        if (!cursor && (!text[0] || (cq.hints.exact && __builtin_popcount(cq.q.has) <= 1)) &&
            !cg_store_count(s->rd, &cq.q, &n))
            fprintf(o.f, ",\"count\":%llu}\n", (unsigned long long)n);
        else
            fputs(",\"count\":null}\n", o.f);
    }
    cg_cli_q_free(&cq);
    if (rc) {
        out_drop(&o);
        return send_store_err(c, r, s->rd, rc, "incidents");
    }
    return out_send(c, r, 200, &o);
}

static enum MHD_Result api_since(struct MHD_Connection *c, req *r)
{
    srv *s = r->s;
    uint64_t after;
    cg_store_info info;
    if (qnum(r, "id", 0, UINT64_MAX, &after))
        return send_err(c, r, 400, "id: a number");
    out o;
    if (out_open(&o))
        return MHD_NO;
    lst l = { o.f, 0, after, 1 };
    fputs("{\"incidents\":[", o.f);
    int rc = cg_store_info_get(s->rd, &info);
    if (!rc)
        rc = cg_store_query(s->rd, NULL, SINCE_MAX, NULL, list_row, &l);
    if (rc) {
        out_drop(&o);
        return send_store_err(c, r, s->rd, rc, "since");
    }
    fprintf(o.f, "],\"latest_id\":%llu}\n",
            (unsigned long long)(info.next_id ? info.next_id - 1 : 0));
    return out_send(c, r, 200, &o);
}

static enum MHD_Result incident_answer(struct MHD_Connection *c, req *r, uint64_t id,
                                       unsigned status)
{
    out o;
    if (out_open(&o))
        return MHD_NO;
    int rc = cg_cli_incident_show_json(r->s->rd, id, o.f);
    if (rc) {
        out_drop(&o);
        char what[64];
        snprintf(what, sizeof what, "incident %llu", (unsigned long long)id);
        return send_store_err(c, r, r->s->rd, rc, what);
    }
    return out_send(c, r, status, &o);
}

static enum MHD_Result api_pcap(struct MHD_Connection *c, req *r, uint64_t id)
{
    char idb[24], path[PATH_MAX], line[1024];
    snprintf(idb, sizeof idb, "%llu", (unsigned long long)id);
    tmp_name(r->s, ".pcapng", path, sizeof path);
    char *argv[] = {
        NULL, "incident", "pcap", "-d", (char *)r->s->dir, "-o", path, "--", idb, NULL
    };
    int rc = run_child(r->s, argv, NULL, NULL, line, sizeof line);
    if (rc != 0) {
        unlink(path);
        return send_child_err(c, r, rc, line);
    }
    char name[48];
    snprintf(name, sizeof name, "incident-%s.pcapng", idb);
    enum MHD_Result ret = send_file(c, r, path, "application/vnd.tcpdump.pcap", name);
    unlink(path); /* MHD holds the descriptor */
    return ret;
}

static enum MHD_Result api_triage(struct MHD_Connection *c, req *r, uint64_t id)
{
    srv *s = r->s;
    json_object *j = NULL;
    const char *v;
    char err[256];
    unsigned mask = 0;
    uint8_t status = 0, sev = 0;
    const char *assignee = NULL;
    int rc = cg_web_json_parse(r->body, r->blen, BODY_MAX, &j, err, sizeof err);
    if (rc)
        return send_err(c, r, rc, "%s", err);
    if ((rc = cg_web_json_str(j, "status", 64, &v)) < 0 || (rc == 1 && cg_qlang_status(v, &status)))
        goto bad;
    if (rc == 1)
        mask |= CG_TRIAGE_STATUS;
    if ((rc = cg_web_json_str(j, "assignee", CG_STORE_TEXT_MAX, &assignee)) < 0)
        goto bad;
    if (rc == 1)
        mask |= CG_TRIAGE_ASSIGNEE;
    json_object *sv;
    if (json_object_object_get_ex(j, "severity", &sv) && sv) {
        char sb[32];
        if (json_object_is_type(sv, json_type_int))
            snprintf(sb, sizeof sb, "%d", json_object_get_int(sv));
        else if (json_object_is_type(sv, json_type_string))
            snprintf(sb, sizeof sb, "%s", json_object_get_string(sv));
        else
            goto bad;
        if (!strcmp(sb, "rule") || !strcmp(sb, "0"))
            sev = 0;
        else if (cg_qlang_severity(sb, &sev))
            goto bad;
        mask |= CG_TRIAGE_SEVERITY;
    }
    if (!mask) {
        json_object_put(j);
        return send_err(c, r, 400, "triage: nothing to set (status, assignee, severity)");
    }
    pthread_mutex_lock(&s->tr_mu);
    rc = cg_store_triage_set(s->tr, id, mask, status, assignee, sev, r->user, cg_cli_now_us());
    pthread_mutex_unlock(&s->tr_mu);
    json_object_put(j);
    if (rc) {
        char what[64];
        snprintf(what, sizeof what, "incident %llu", (unsigned long long)id);
        return send_store_err(c, r, s->tr, rc, what);
    }
    audit(s, r->user, r->addr, CG_AUDIT_CHANGE, "incident %llu: triage", (unsigned long long)id);
    return incident_answer(c, r, id, 200);
bad:
    json_object_put(j);
    return send_err(c, r, 400,
                    "triage: status (new, acknowledged, investigating, resolved, "
                    "false-positive), assignee (text), severity (high, medium, low, info, 1..4, "
                    "rule)");
}

static enum MHD_Result api_note(struct MHD_Connection *c, req *r, uint64_t id)
{
    srv *s = r->s;
    json_object *j = NULL;
    const char *text = NULL;
    char err[256];
    int rc = cg_web_json_parse(r->body, r->blen, BODY_MAX, &j, err, sizeof err);
    if (rc)
        return send_err(c, r, rc, "%s", err);
    if (cg_web_json_str(j, "text", 65534, &text) != 1 || !text[0]) {
        json_object_put(j);
        return send_err(c, r, 400, "note: {\"text\": 1 to 65534 bytes} expected");
    }
    pthread_mutex_lock(&s->tr_mu);
    rc = cg_store_note_add(s->tr, id, r->user, cg_cli_now_us(), text);
    pthread_mutex_unlock(&s->tr_mu);
    json_object_put(j);
    if (rc) {
        char what[64];
        snprintf(what, sizeof what, "incident %llu", (unsigned long long)id);
        return send_store_err(c, r, s->tr, rc, what);
    }
    audit(s, r->user, r->addr, CG_AUDIT_CHANGE, "incident %llu: note", (unsigned long long)id);
    return incident_answer(c, r, id, 201);
}

/* ---- cases (this binary's case command) ------------------------------------------------ */

static enum MHD_Result case_answer(struct MHD_Connection *c, req *r, uint64_t id, unsigned status)
{
    char idb[24], path[PATH_MAX], line[1024];
    char *buf;
    size_t len;
    snprintf(idb, sizeof idb, "%llu", (unsigned long long)id);
    tmp_name(r->s, ".json", path, sizeof path);
    char *argv[] = { NULL, "case", "show", "--json", "-d", (char *)r->s->dir, "--", idb, NULL };
    int rc = run_child(r->s, argv, NULL, path, line, sizeof line);
    if (rc != 0) {
        unlink(path);
        return send_child_err(c, r, rc, line);
    }
    rc = slurp(path, 256u << 20, &buf, &len);
    unlink(path);
    if (rc)
        return send_err(c, r, 500, "case %s: the answer cannot be read", idb);
    return send_buf(c, r, status, "application/json", buf, len);
}

static enum MHD_Result api_cases(struct MHD_Connection *c, req *r)
{
    char path[PATH_MAX], line[1024];
    char *buf;
    size_t len;
    tmp_name(r->s, ".json", path, sizeof path);
    char *argv[] = { NULL, "case", "list", "--json", "-d", (char *)r->s->dir, NULL };
    int rc = run_child(r->s, argv, NULL, path, line, sizeof line);
    if (rc != 0) {
        unlink(path);
        return send_child_err(c, r, rc, line);
    }
    rc = slurp(path, 256u << 20, &buf, &len);
    unlink(path);
    if (rc)
        return send_err(c, r, 500, "cases: the answer cannot be read");
    out o;
    if (out_open(&o)) {
        free(buf);
        return MHD_NO;
    }
    fputs("{\"cases\":[", o.f);
    int n = 0;
    for (char *p = buf, *e; *p; p = e + (*e != '\0')) {
        e = strchr(p, '\n');
        if (!e)
            e = p + strlen(p);
        if (e > p) {
            if (n++)
                fputc(',', o.f);
            fwrite(p, 1, (size_t)(e - p), o.f);
        }
    }
    fputs("]}\n", o.f);
    free(buf);
    return out_send(c, r, 200, &o);
}

/* The ids and/or q of a body as case arguments: argv gets "--query", Q and
 * the ids as text (in *strs, free it). */
static int case_targets(json_object *j, const char **q, uint64_t **ids, size_t *nids)
{
    int rq = cg_web_json_str(j, "q", 4095, q);
    int ri = cg_web_json_ids(j, "ids", 100000, ids, nids);
    if (rq < 0 || ri < 0) {
        if (ri == 1)
            free(*ids);
        return -1;
    }
    if (rq != 1)
        *q = NULL;
    if (ri != 1) {
        *ids = NULL;
        *nids = 0;
    }
    return 0;
}

static enum MHD_Result case_change(struct MHD_Connection *c, req *r, const char *sub, uint64_t id,
                                   json_object *j, const char *title, const char *note)
{
    srv *s = r->s;
    const char *q = NULL;
    uint64_t *ids = NULL;
    size_t nids = 0;
    char line[1024], opath[PATH_MAX], npath[PATH_MAX] = "", idb[24];
    if (j && case_targets(j, &q, &ids, &nids))
        return send_err(c, r, 400, "%s: q (an expression) and/or ids (an array of ids)", sub);
    if (!strcmp(sub, "add") && !q && !nids) {
        free(ids);
        return send_err(c, r, 400, "add: {\"ids\": [...]} or {\"q\": EXPR} expected");
    }
    char **argv = calloc(nids + 16, sizeof *argv);
    char **num = calloc(nids + 1, sizeof *num);
    if (!argv || !num) {
        free(argv);
        free(num);
        free(ids);
        return MHD_NO;
    }
    size_t k = 0;
    argv[k++] = NULL;
    argv[k++] = (char *)"case";
    argv[k++] = (char *)sub;
    argv[k++] = (char *)"-d";
    argv[k++] = (char *)s->dir;
    argv[k++] = (char *)"--as";
    argv[k++] = r->user;
    if (q && q[0]) {
        argv[k++] = (char *)"--query";
        argv[k++] = (char *)q;
    }
    argv[k++] = (char *)"--";
    if (title)
        argv[k++] = (char *)title;
    else {
        snprintf(idb, sizeof idb, "%llu", (unsigned long long)id);
        argv[k++] = idb;
    }
    if (note) {
        FILE *f;
        tmp_name(s, ".note", npath, sizeof npath);
        if (!(f = fopen(npath, "w")) || fputs(note, f) < 0 || fclose(f)) {
            free(argv);
            free(num);
            free(ids);
            return send_err(c, r, 500, "note: %s", strerror(errno));
        }
        argv[k++] = (char *)"-";
    }
    for (size_t i = 0; i < nids; i++) {
        if (asprintf(&num[i], "%llu", (unsigned long long)ids[i]) < 0)
            num[i] = NULL;
        if (num[i])
            argv[k++] = num[i];
    }
    argv[k] = NULL;
    tmp_name(s, ".out", opath, sizeof opath);
    int rc = run_child(s, argv, npath[0] ? npath : NULL, opath, line, sizeof line);
    for (size_t i = 0; i < nids; i++)
        free(num[i]);
    free(num);
    free(argv);
    free(ids);
    if (npath[0])
        unlink(npath);
    char *obuf = NULL;
    size_t olen = 0;
    if (rc == 0 && !id && slurp(opath, 4096, &obuf, &olen) == 0) {
        unsigned long long x = 0;
        if (sscanf(obuf, "case %llu", &x) == 1)
            id = x;
    }
    free(obuf);
    unlink(opath);
    if (rc != 0) {
        /* a query the case command refused: answer as /api/incidents does */
        const char *colp = strstr(line, ": column ");
        if (rc == CG_EXIT_INPUT && q && colp)
            return send_err_x(c, r, 400, "bad-query", atoi(colp + 9), 0, "%s", colp + 2);
        return send_child_err(c, r, rc, line);
    }
    if (!id)
        return send_err(c, r, 500, "case %s: no case id in its answer", sub);
    audit(s, r->user, r->addr, CG_AUDIT_CHANGE, "case %llu: %s", (unsigned long long)id, sub);
    return case_answer(c, r, id, !strcmp(sub, "new") ? 201 : 200);
}

static enum MHD_Result api_case_new(struct MHD_Connection *c, req *r)
{
    json_object *j = NULL;
    const char *title = NULL;
    char err[256];
    int rc = cg_web_json_parse(r->body, r->blen, BODY_MAX, &j, err, sizeof err);
    if (rc)
        return send_err(c, r, rc, "%s", err);
    if (cg_web_json_str(j, "title", 1024, &title) != 1 || !title[0]) {
        json_object_put(j);
        return send_err(c, r, 400, "case: {\"title\": 1 to 1024 bytes} expected");
    }
    enum MHD_Result ret = case_change(c, r, "new", 0, j, title, NULL);
    json_object_put(j);
    return ret;
}

static enum MHD_Result api_case_post(struct MHD_Connection *c, req *r, uint64_t id,
                                     const char *rest)
{
    json_object *j = NULL;
    char err[256];
    int rc = cg_web_json_parse(r->body, r->blen, BODY_MAX, &j, err, sizeof err);
    if (rc)
        return send_err(c, r, rc, "%s", err);
    enum MHD_Result ret;
    if (!strcmp(rest, "/incidents")) {
        ret = case_change(c, r, "add", id, j, NULL, NULL);
    } else {
        const char *text = NULL;
        if (cg_web_json_str(j, "text", 65534, &text) != 1 || !text[0])
            ret = send_err(c, r, 400, "note: {\"text\": 1 to 65534 bytes} expected");
        else
            ret = case_change(c, r, "note", id, NULL, NULL, text);
    }
    json_object_put(j);
    return ret;
}

static enum MHD_Result api_case_export(struct MHD_Connection *c, req *r, uint64_t id)
{
    srv *s = r->s;
    char idb[24], path[PATH_MAX], line[1024];
    snprintf(idb, sizeof idb, "%llu", (unsigned long long)id);
    tmp_name(s, ".tar.gz", path, sizeof path);
    char *argv[] = { NULL,    "case",    "export", "-d", (char *)s->dir, "-o", path, "--as",
                     r->user, "--force", idb,      NULL };
    int rc = run_child(s, argv, NULL, NULL, line, sizeof line);
    if (rc != 0) {
        unlink(path);
        return send_child_err(c, r, rc, line);
    }
    audit(s, r->user, r->addr, CG_AUDIT_CHANGE, "case %s: export", idb);
    char name[48];
    snprintf(name, sizeof name, "case-%s.tar.gz", idb);
    enum MHD_Result ret = send_file(c, r, path, "application/gzip", name);
    unlink(path);
    return ret;
}

static enum MHD_Result api_verify(struct MHD_Connection *c, req *r)
{
    srv *s = r->s;
    char opath[PATH_MAX], line[1024];
    char *buf = NULL;
    size_t len = 0;
    if (r->upfd < 0 || r->ulen == 0)
        return send_err(c, r, 400, "verify: the case file's bytes are the body");
    close(r->upfd);
    r->upfd = -1;
    tmp_name(s, ".out", opath, sizeof opath);
    char *argv[] = { NULL, "case", "verify", r->upath, NULL };
    int rc = run_child(s, argv, NULL, opath, line, sizeof line);
    if (rc < 0) {
        unlink(opath);
        return send_err(c, r, 500, "%s", line);
    }
    slurp(opath, 16u << 20, &buf, &len);
    unlink(opath);
    out o;
    if (out_open(&o)) {
        free(buf);
        return MHD_NO;
    }
    fprintf(o.f, "{\"ok\":%s,\"lines\":[", rc == 0 ? "true" : "false");
    int n = 0;
    for (char *p = buf ? buf : (char *)"", *e; *p; p = e + (*e != '\0')) {
        e = strchr(p, '\n');
        if (!e)
            e = p + strlen(p);
        if (e > p) {
            /* the temporary name means nothing to the user: "case file" */
            size_t ul = strlen(r->upath);
            int tmpname = (size_t)(e - p) >= ul && !strncmp(p, r->upath, ul);
            char *one = NULL;
            if (asprintf(&one, "%s%.*s", tmpname ? "case file" : "",
                         (int)(e - p - (tmpname ? (ptrdiff_t)ul : 0)), p + (tmpname ? ul : 0)) < 0)
                one = NULL;
            if (one) {
                fputs(n++ ? "," : "", o.f);
                cg_cli_json_str(o.f, one);
                free(one);
            }
        }
    }
    if (rc != 0 && line[0]) {
        fputs(n++ ? "," : "", o.f);
        cg_cli_json_str(o.f, line);
    }
    fputs("]}\n", o.f);
    free(buf);
    return out_send(c, r, 200, &o);
}

static enum MHD_Result api_report(struct MHD_Connection *c, req *r)
{
    srv *s = r->s;
    char from[40], to[40], lang[8] = "en", fmt[8] = "pdf", path[PATH_MAX], line[1024];
    if (cg_web_query_get(r->qs, "from", from, sizeof from) != 1 ||
        cg_web_query_get(r->qs, "to", to, sizeof to) != 1 || !from[0] || !to[0] || from[0] == '-' ||
        to[0] == '-')
        return send_err(c, r, 400, "report: from=DATE and to=DATE (YYYY-MM-DD)");
    if (cg_web_query_get(r->qs, "lang", lang, sizeof lang) < 0 ||
        (strcmp(lang, "en") && strcmp(lang, "vi")))
        return send_err(c, r, 400, "report: lang=vi or lang=en");
    if (cg_web_query_get(r->qs, "format", fmt, sizeof fmt) < 0 ||
        (strcmp(fmt, "pdf") && strcmp(fmt, "html") && strcmp(fmt, "json")))
        return send_err(c, r, 400, "report: format=pdf, html or json");
    char suffix[sizeof fmt + 1];
    snprintf(suffix, sizeof suffix, ".%s", fmt);
    tmp_name(s, suffix, path, sizeof path);
    char *argv[12];
    int k = 0;
    argv[k++] = NULL;
    argv[k++] = (char *)"report";
    argv[k++] = (char *)"-d";
    argv[k++] = (char *)s->dir;
    argv[k++] = (char *)"--from";
    argv[k++] = from;
    argv[k++] = (char *)"--to";
    argv[k++] = to;
    argv[k++] = (char *)"--lang";
    argv[k++] = lang;
    if (!strcmp(fmt, "json"))
        argv[k++] = (char *)"--json";
    argv[k] = NULL;
    /* -o last: the json format writes to it too */
    char *argv2[14];
    memcpy(argv2, argv, sizeof(char *) * (size_t)k);
    argv2[k++] = (char *)"-o";
    argv2[k++] = path;
    argv2[k] = NULL;
    int rc = run_child(s, argv2, NULL, NULL, line, sizeof line);
    if (rc != 0) {
        unlink(path);
        return send_child_err(c, r, rc, line);
    }
    const char *type = !strcmp(fmt, "pdf") ? "application/pdf"
        : !strcmp(fmt, "html")             ? "text/html; charset=utf-8"
                                           : "application/json";
    char name[96];
    snprintf(name, sizeof name, "report-%s-%s.%s", from, to, fmt);
    for (char *p = name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", *p))
            *p = '_';
    enum MHD_Result ret = send_file(c, r, path, type, name);
    unlink(path);
    return ret;
}

static int user_row(const cg_user *u, void *arg)
{
    lst *l = arg;
    char t[40];
    cg_cli_time_str(u->created_us, t, sizeof t);
    fputs(l->n++ ? ",{\"name\":" : "{\"name\":", l->f);
    cg_cli_json_str(l->f, u->name);
    fprintf(l->f, ",\"role\":\"%s\",\"disabled\":%s,\"created\":\"%s\"}", cg_role_name(u->role),
            u->disabled ? "true" : "false", t);
    return 0;
}

static int audit_row(const cg_audit *a, void *arg)
{
    lst *l = arg;
    char t[40];
    const char *ev = cg_audit_event_name(a->event);
    cg_cli_time_str(a->when_us, t, sizeof t);
    fprintf(l->f, "%s{\"seq\":%llu,\"time\":\"%s\",\"user\":", l->n++ ? "," : "",
            (unsigned long long)a->seq, t);
    cg_cli_json_str(l->f, a->who);
    fputs(",\"address\":", l->f);
    cg_cli_json_str(l->f, a->address);
    fputs(",\"event\":", l->f);
    cg_cli_json_str(l->f, ev ? ev : "unknown");
    fputs(",\"detail\":", l->f);
    cg_cli_json_str(l->f, a->detail);
    fputc('}', l->f);
    return 0;
}

static enum MHD_Result api_users(struct MHD_Connection *c, req *r, int audit_list)
{
    srv *s = r->s;
    uint64_t limit = 100;
    if (audit_list && qnum(r, "limit", 100, 100000, &limit))
        return send_err(c, r, 400, "limit: a number up to 100000");
    out o;
    if (out_open(&o))
        return MHD_NO;
    lst l = { o.f, 0, 0, 0 };
    fputs(audit_list ? "{\"audit\":[" : "{\"users\":[", o.f);
    int rc = audit_list ? cg_store_audit_list(s->rd, 0, limit, audit_row, &l)
                        : cg_store_user_list(s->rd, user_row, &l);
    if (rc) {
        out_drop(&o);
        return send_store_err(c, r, s->rd, rc, audit_list ? "audit" : "users");
    }
    fputs("]}\n", o.f);
    return out_send(c, r, 200, &o);
}

/* ---- routing ------------------------------------------------------------------------- */

static int is(const req *r, const char *m)
{
    return !strcmp(r->method, m);
}

typedef struct account {
    unsigned role;
    int disabled, found;
} account;

static int take_acct(const cg_user *u, void *arg)
{
    account *a = arg;
    a->role = u->role;
    a->disabled = u->disabled;
    a->found = 1;
    return 0;
}

/* A token's last use is written at most once a minute per token (a small
 * table of recent ones; a token pushed out is written again sooner). */
static void token_used(srv *s, const char *token)
{
    uint64_t now = mono_us(), wall = cg_cli_now_us();
    size_t h = 0;
    for (const char *p = token; *p; p++)
        h = h * 31 + (unsigned char)*p;
    struct tu *e = &s->used[h % (sizeof s->used / sizeof s->used[0])];
    pthread_mutex_lock(&s->tr_mu);
    if (strncmp(e->tok, token, sizeof e->tok - 1) || now - e->at >= 60ull * 1000000) {
        snprintf(e->tok, sizeof e->tok, "%s", token);
        e->at = now;
        cg_store_token_used(s->tr, token, wall);
    }
    pthread_mutex_unlock(&s->tr_mu);
}

static enum MHD_Result route_api(struct MHD_Connection *c, req *r)
{
    srv *s = r->s;
    enum MHD_Result ret;
    const char *p = r->path;
    uint64_t id;
    const char *rest;

    if (!strcmp(p, "/api/login")) {
        if (!is(r, "POST"))
            return send_err(c, r, 405, "POST only");
        return api_login(c, r);
    }
    /* who is asking */
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
    if (authz && !strncmp(authz, "Bearer ", 7)) {
        char name[CG_USER_NAME_MAX + 1];
        unsigned role = 0;
        int rc = cg_store_token_check(s->rd, authz + 7, name, &role);
        if (rc == CG_ENOTFOUND || rc == CG_EPERM || rc == CG_EINVAL)
            return send_err(c, r, 401,
                            "the API token is not valid (revoked, or its user disabled)");
        if (rc)
            return send_store_err(c, r, s->rd, rc, "token");
        snprintf(r->user, sizeof r->user, "%s", name);
        r->role = role;
        r->auth = AUTH_TOKEN;
        token_used(s, authz + 7);
    } else {
        char sid[CG_WEB_ID_HEX + 1];
        cg_web_session ses;
        int rc = cg_web_cookie_get(cookie, "cg_session", sid, sizeof sid);
        if (rc != 1 || cg_web_session_find(s->sess, sid, mono_us(), &ses))
            return send_err(c, r, 401, "log in first (no session, or it ended)");
        snprintf(r->user, sizeof r->user, "%s", ses.user);
        snprintf(r->sid, sizeof r->sid, "%s", sid);
        snprintf(r->csrf, sizeof r->csrf, "%s", ses.csrf);
        r->auth = AUTH_SESSION;
        /* the account as the store has it now: a disabled or removed user's
         * session ends, a changed role applies at once */
        account a = { 0, 0, 0 };
        int urc = cg_store_user_get(s->rd, ses.user, take_acct, &a);
        if (urc == CG_ENOTFOUND || (urc == 0 && a.disabled)) {
            cg_web_session_drop(s->sess, sid);
            return send_err(c, r, 401, "this account is disabled; the session has ended");
        }
        if (urc)
            return send_store_err(c, r, s->rd, urc, "session");
        r->role = a.role;
        if (!is(r, "GET") && !is(r, "HEAD")) {
            const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
            if (!cg_web_ct_equal(tok, ses.csrf)) {
                audit(s, r->user, r->addr, CG_AUDIT_DENIED, "%s %s: %s CSRF token", r->method, p,
                      tok ? "wrong" : "no");
                return send_err_x(c, r, 403, "csrf", 0, 0,
                                  "a change needs the session's X-CSRF-Token header");
            }
        }
    }

    if (!strcmp(p, "/api/logout")) {
        if (!is(r, "POST"))
            return send_err(c, r, 405, "POST only");
        if (r->auth == AUTH_SESSION)
            cg_web_session_drop(s->sess, r->sid);
        audit(s, r->user, r->addr, CG_AUDIT_LOGOUT, "%s",
              r->auth == AUTH_SESSION ? "session" : "token");
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, "Set-Cookie",
                                    "cg_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
        return queue(c, r, 204, resp);
    }
    int get = is(r, "GET") || is(r, "HEAD"), post = is(r, "POST");
    if (!strcmp(p, "/api/me"))
        return get ? api_me(c, r) : send_err(c, r, 405, "GET only");
    if (!strcmp(p, "/api/dashboard"))
        return get ? api_dashboard(c, r) : send_err(c, r, 405, "GET only");
    if (!strcmp(p, "/api/incidents"))
        return get ? api_incidents(c, r) : send_err(c, r, 405, "GET only");
    if (!strcmp(p, "/api/since"))
        return get ? api_since(c, r) : send_err(c, r, 405, "GET only");
    if (!cg_web_path_id(p, "/api/incidents/", &id, &rest)) {
        if (!rest[0])
            return get ? incident_answer(c, r, id, 200) : send_err(c, r, 405, "GET only");
        if (!strcmp(rest, "/pcap"))
            return get ? api_pcap(c, r, id) : send_err(c, r, 405, "GET only");
        if (!strcmp(rest, "/triage") || !strcmp(rest, "/notes")) {
            if (!post)
                return send_err(c, r, 405, "POST only");
            if (need(c, r, CG_ROLE_ANALYST, &ret))
                return ret;
            return rest[1] == 't' ? api_triage(c, r, id) : api_note(c, r, id);
        }
        return send_err(c, r, 404, "%s: no such API", p);
    }
    if (!strcmp(p, "/api/cases")) {
        if (get)
            return api_cases(c, r);
        if (!post)
            return send_err(c, r, 405, "GET or POST");
        if (need(c, r, CG_ROLE_RESPONDER, &ret))
            return ret;
        return api_case_new(c, r);
    }
    if (!cg_web_path_id(p, "/api/cases/", &id, &rest)) {
        if (!rest[0])
            return get ? case_answer(c, r, id, 200) : send_err(c, r, 405, "GET only");
        if (strcmp(rest, "/incidents") && strcmp(rest, "/notes") && strcmp(rest, "/export"))
            return send_err(c, r, 404, "%s: no such API", p);
        if (!post)
            return send_err(c, r, 405, "POST only");
        if (need(c, r, CG_ROLE_RESPONDER, &ret))
            return ret;
        if (!strcmp(rest, "/export"))
            return api_case_export(c, r, id);
        return api_case_post(c, r, id, rest);
    }
    if (!strcmp(p, "/api/verify"))
        return post ? api_verify(c, r) : send_err(c, r, 405, "POST only");
    if (!strcmp(p, "/api/report"))
        return get ? api_report(c, r) : send_err(c, r, 405, "GET only");
    if (!strcmp(p, "/api/users") || !strcmp(p, "/api/audit")) {
        if (!get)
            return send_err(c, r, 405, "GET only");
        if (need(c, r, CG_ROLE_ADMIN, &ret))
            return ret;
        return api_users(c, r, p[5] == 'a');
    }
    return send_err(c, r, 404, "%s: no such API", p);
}

static const cg_web_asset *asset_find(const char *path)
{
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (size_t i = 0; i < cg_web_nassets; i++)
        if (!strcmp(cg_web_assets[i].path, path))
            return &cg_web_assets[i];
    return NULL;
}

static enum MHD_Result route_page(struct MHD_Connection *c, req *r)
{
    const cg_web_asset *a = asset_find(r->path);
    if (!a)
        return send_err(c, r, 404, "%s: not found", r->path);
    if (!is(r, "GET") && !is(r, "HEAD"))
        return send_err(c, r, 405, "GET only");
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    struct MHD_Response *resp;
    unsigned status = 200;
    if (inm && strstr(inm, a->etag)) {
        resp = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
        status = 304;
    } else {
        resp = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, "Content-Type", a->type);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "ETag", a->etag);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return queue(c, r, status, resp);
}

static int count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)key;
    (void)value;
    (*(unsigned *)cls)++;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    srv *s = cls;
    req *r = *con_cls;
    (void)url;
    if (!r)
        return MHD_NO;
    if (!r->started) {
        r->started = 1;
        r->s = s;
        snprintf(r->method, sizeof r->method, "%s", method);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->addr,
                          sizeof r->addr);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->addr,
                          sizeof r->addr);
        }
        if (version && !strcmp(version, MHD_HTTP_VERSION_1_1) &&
            !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"))
            return send_err(c, r, 400, "an HTTP/1.1 request needs a Host header");
        unsigned nh = 0;
        MHD_get_connection_values(c, MHD_HEADER_KIND, (MHD_KeyValueIterator)count_header, &nh);
        if (nh > HEADERS_MAX)
            return send_err(c, r, 431, "more than %d header fields", HEADERS_MAX);
        r->path_rc = cg_web_path_split(r->target ? r->target : "", r->path, sizeof r->path, &r->qs);
        if (r->path_rc) {
            r->path[0] = '\0';
            return send_err(c, r, r->path_rc, r->path_rc == 404 ? "not found" : "bad request");
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
        int verify = !strcmp(r->path, "/api/verify");
        if (len > (verify ? VERIFY_MAX : BODY_MAX))
            return send_err(c, r, 413, "the body is larger than %llu bytes",
                            verify ? VERIFY_MAX : (unsigned long long)BODY_MAX);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!strcmp(r->path, "/api/verify") && is(r, "POST")) {
            if (r->too_large)
                return MHD_YES;
            if (r->upfd < 0) {
                tmp_name(s, ".tar.gz", r->upath, sizeof r->upath);
                r->upfd = open(r->upath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (r->upfd < 0)
                    return MHD_NO;
            }
            if (r->ulen + n > VERIFY_MAX) {
                r->too_large = 1;
                return MHD_YES;
            }
            for (size_t off = 0; off < n;) {
                ssize_t w = write(r->upfd, upload_data + off, n - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    return MHD_NO;
                off += (size_t)w;
            }
            r->ulen += n;
            return MHD_YES;
        }
        if (r->too_large || r->blen + n > BODY_MAX) {
            r->too_large = 1;
            return MHD_YES;
        }
        char *b = realloc(r->body, r->blen + n + 1);
        if (!b)
            return MHD_NO;
        memcpy(b + r->blen, upload_data, n);
        r->body = b;
        r->blen += n;
        r->body[r->blen] = '\0';
        return MHD_YES;
    }
    if (r->too_large)
        return send_err(c, r, 413, "the body is too large");
    if (!strncmp(r->path, "/api/", 5) || !strcmp(r->path, "/api"))
        return route_api(c, r);
    return route_page(c, r);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->upfd = -1;
    r->target = strdup(uri ? uri : "");
    r->t0 = mono_us();
    return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    req *r = *con_cls;
    if (!r)
        return;
    char t[40], tgt[1024];
    cg_cli_time_str(cg_cli_now_us(), t, sizeof t);
    cg_web_log_target(r->target ? r->target : "", tgt, sizeof tgt);
    double ms = (double)(mono_us() - r->t0) / 1000.0;
    if (r->started || r->status)
        fprintf(stderr, "%s %s %s %s %s %u %.1fms%s\n", t, r->addr[0] ? r->addr : "-",
                r->user[0] ? r->user : "-", r->method[0] ? r->method : "-", tgt, r->status, ms,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (closed)");
    if (r->upfd >= 0)
        close(r->upfd);
    if (r->upath[0])
        unlink(r->upath);
    free(r->body);
    free(r->target);
    free(r);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap; /* MHD's own complaints (a client that sent garbage) are not errors of ours */
}

/* ---- start-up ---------------------------------------------------------------------------- */

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, int *loopback)
{
    char host[128];
    const char *colon;
    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(e - s - 1));
        host[e - s - 1] = '\0';
        colon = e + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host || memchr(s, ':', (size_t)(colon - s)))
            return -1;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port > 65535 || colon[1] == '-' || colon[1] == '+')
        return -1;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        *loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        return 0;
    }
    return -1;
}

/* A whole PEM file into *out (NUL-terminated). */
static int read_pem(const char *path, char **out, char *err, size_t errlen)
{
    size_t len;
    if (slurp(path, 1 << 20, out, &len)) {
        snprintf(err, errlen, "%s: %s", path, errno ? strerror(errno) : "cannot be read");
        return -1;
    }
    return 0;
}

/* The certificate and key parse and belong together. */
static int check_pair(const char *cert_path, const char *cert, const char *key_path,
                      const char *key, char *err, size_t errlen)
{
    BIO *bc = BIO_new_mem_buf(cert, -1), *bk = BIO_new_mem_buf(key, -1);
    X509 *x = bc ? PEM_read_bio_X509(bc, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = bk ? PEM_read_bio_PrivateKey(bk, NULL, NULL, NULL) : NULL;
    int ok = 0;
    if (!x)
        snprintf(err, errlen, "%s: not a PEM certificate", cert_path);
    else if (!k)
        snprintf(err, errlen, "%s: not a PEM private key (or one with a passphrase)", key_path);
    else if (X509_check_private_key(x, k) != 1)
        snprintf(err, errlen, "%s: the certificate does not match the key %s", cert_path, key_path);
    else
        ok = 1;
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(bc);
    BIO_free(bk);
    return ok ? 0 : -1;
}

static int parse_dur(const char *s, uint64_t *us)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mul;
    if (end == s || s[0] == '-')
        return -1;
    switch (*end) {
    case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    default: return -1;
    }
    if (end[1] || v == 0 || v > 366ull * 86400)
        return -1;
    *us = (uint64_t)v * mul * 1000000;
    return 0;
}

/* Removes the temporary directory and what is left in it (only files). */
static void rm_tmp(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX];
    while (dp && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (dp)
        closedir(dp);
    rmdir(dir);
}

int cg_cmd_serve(int argc, char **argv)
{
    static const struct option longs[] = { { "store", required_argument, 0, 'd' },
                                           { "listen", required_argument, 0, 'l' },
                                           { "cert", required_argument, 0, 'c' },
                                           { "key", required_argument, 0, 'k' },
                                           { "insecure-http", no_argument, 0, 'I' },
                                           { "user", required_argument, 0, 'u' },
                                           { "threads", required_argument, 0, 't' },
                                           { "session-idle", required_argument, 0, 'i' },
                                           { "session-max", required_argument, 0, 'm' },
                                           { "ctl", required_argument, 0, 'C' },
                                           { "timeout", required_argument, 0, 'T' },
                                           { "help", no_argument, 0, 'h' },
                                           { 0, 0, 0, 0 } };
    const char *dir = cg_cli_default_store(), *listen_s = "127.0.0.1:8443", *cert_path = NULL,
               *key_path = NULL, *user = NULL, *ctl = NULL;
    int insecure = 0, opt;
    unsigned long threads = 4, timeout = 15;
    uint64_t idle_us = 30ull * 60 * 1000000, max_us = 12ull * 3600 * 1000000;
    char err[1024], *end;
    srv s;
    int ret = CG_EXIT_FAIL, lfd = -1;
    char *cert = NULL, *key = NULL;
    struct MHD_Daemon *d = NULL;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":d:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'l': listen_s = optarg; break;
        case 'c': cert_path = optarg; break;
        case 'k': key_path = optarg; break;
        case 'I': insecure = 1; break;
        case 'u': user = optarg; break;
        case 'C': ctl = optarg; break;
        case 't':
            threads = strtoul(optarg, &end, 10);
            if (end == optarg || *end || threads < 1 || threads > 64) {
                fprintf(stderr, "canhgac serve: --threads: 1 to 64, not %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'T':
            timeout = strtoul(optarg, &end, 10);
            if (end == optarg || *end || timeout < 1 || timeout > 3600) {
                fprintf(stderr, "canhgac serve: --timeout: 1 to 3600 seconds, not %s\n", optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'i':
        case 'm':
            if (parse_dur(optarg, opt == 'i' ? &idle_us : &max_us)) {
                fprintf(stderr, "canhgac serve: --session-%s: a duration (30m, 12h), not %s\n",
                        opt == 'i' ? "idle" : "max", optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'h': fputs(serve_usage, stdout); return CG_EXIT_OK;
        case ':':
            fprintf(stderr, "canhgac serve: option needs a value: %s\n", argv[optind - 1]);
            return CG_EXIT_INPUT;
        default:
            fprintf(stderr, "canhgac serve: unknown option: %s (see canhgac serve --help)\n",
                    argv[optind - 1]);
            return CG_EXIT_INPUT;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "canhgac serve: unexpected argument: %s\n", argv[optind]);
        return CG_EXIT_INPUT;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int loopback = 0;
    if (parse_listen(listen_s, &ss, &sslen, &loopback)) {
        fprintf(stderr, "canhgac serve: --listen: ADDR:PORT (127.0.0.1:8443, [::1]:8443), not %s\n",
                listen_s);
        return CG_EXIT_INPUT;
    }
    if (!cert_path != !key_path) {
        fprintf(stderr, "canhgac serve: --cert and --key go together\n");
        return CG_EXIT_INPUT;
    }
    if (!cert_path && !loopback && !insecure) {
        fprintf(stderr,
                "canhgac serve: --listen %s: plain HTTP only on a loopback address; give --cert "
                "and --key (or --insecure-http)\n",
                listen_s);
        return CG_EXIT_INPUT;
    }
    if (cert_path) {
        if (read_pem(cert_path, &cert, err, sizeof err) ||
            read_pem(key_path, &key, err, sizeof err) ||
            check_pair(cert_path, cert, key_path, key, err, sizeof err)) {
            fprintf(stderr, "canhgac serve: %s\n", err);
            free(cert);
            free(key);
            return CG_EXIT_INPUT;
        }
    }
    uid_t uid = 0;
    gid_t gid = 0;
    if (user && cg_privs_lookup(user, NULL, &uid, &gid, err, sizeof err)) {
        fprintf(stderr, "canhgac serve: --user: %s\n", err);
        free(cert);
        free(key);
        return CG_EXIT_INPUT;
    }
    if (!ctl) {
        const char *e = getenv("CANHGAC_CTL");
        ctl = e && e[0] ? e : "/run/canhgac/ctl.sock";
        if (access(ctl, F_OK))
            ctl = NULL;
    }

    memset(&s, 0, sizeof s);
    s.dir = dir;
    s.ctl = ctl;
    s.tls = cert_path != NULL;
    pthread_mutex_init(&s.tr_mu, NULL);
    pthread_mutex_init(&s.seq_mu, NULL);
    pthread_mutex_init(&s.d.mu, NULL);
    pthread_cond_init(&s.d.cv, NULL);
    if (cg_store_open(&s.tr, dir, CG_STORE_TRIAGE, 0)) {
        fprintf(stderr, "canhgac serve: %s\n", cg_store_error(NULL));
        goto out;
    }
    cg_cli_migrated_notice("canhgac serve", dir, s.tr);
    if (cg_store_open(&s.rd, dir, CG_STORE_RDONLY, 0)) {
        fprintf(stderr, "canhgac serve: %s\n", cg_store_error(NULL));
        goto out;
    }
    const char *pwmin = getenv("CANHGAC_PWHASH_MIN"); /* tests: as `user add` has it */
    if (pwmin && !strcmp(pwmin, "1"))
        cg_store_user_cost(s.rd, 1);
    s.sess = cg_web_sessions_create(4096, idle_us, max_us);
    s.lim_user = cg_web_limiter_create(5, 900ull * 1000000, 900ull * 1000000, 4096);
    s.lim_addr = cg_web_limiter_create(20, 900ull * 1000000, 900ull * 1000000, 4096);
    if (!s.sess || !s.lim_user || !s.lim_addr) {
        fprintf(stderr, "canhgac serve: out of memory\n");
        goto out;
    }
    const char *tmpbase = getenv("TMPDIR");
    snprintf(s.tmp, sizeof s.tmp, "%s/canhgac-web.XXXXXX",
             tmpbase && tmpbase[0] ? tmpbase : "/tmp");
    if (!mkdtemp(s.tmp)) {
        fprintf(stderr, "canhgac serve: %s: %s\n", s.tmp, strerror(errno));
        s.tmp[0] = '\0';
        goto out;
    }
    lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (lfd >= 0)
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, sslen) || listen(lfd, 128)) {
        fprintf(stderr, "canhgac serve: --listen %s: %s\n", listen_s, strerror(errno));
        ret = CG_EXIT_INPUT;
        goto out;
    }
    if (user) {
        if (chown(s.tmp, uid, gid)) {
            fprintf(stderr, "canhgac serve: %s: %s\n", s.tmp, strerror(errno));
            goto out;
        }
        if (cg_privs_drop(user, NULL, err, sizeof err)) {
            fprintf(stderr, "canhgac serve: --user: %s\n", err);
            goto out;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (pthread_create(&s.d.th, NULL, dash_main, &s)) {
        fprintf(stderr, "canhgac serve: cannot start the dashboard's thread\n");
        goto out;
    }
    s.d.started = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (s.tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tlsopts[] = {
        { s.tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert },
        { s.tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key },
        { MHD_OPTION_END, 0, NULL },
    };
    d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &s, MHD_OPTION_LISTEN_SOCKET, lfd,
                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
                         MHD_OPTION_URI_LOG_CALLBACK, on_uri, &s, MHD_OPTION_NOTIFY_COMPLETED,
                         on_done, &s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, &s, MHD_OPTION_ARRAY,
                         tlsopts, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "canhgac serve: the HTTP server did not start on %s\n", listen_s);
        goto stop_dash;
    }
    lfd = -1; /* MHD's now */
    fprintf(stderr, "canhgac serve: %s://%s/ (store %s%s%s)\n", s.tls ? "https" : "http", listen_s,
            dir, user ? ", as " : "", user ? user : "");
    while (!g_stop) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(d);
    fprintf(stderr, "canhgac serve: stopped\n");
    ret = CG_EXIT_OK;
stop_dash:
    pthread_mutex_lock(&s.d.mu);
    s.d.stop = 1;
    pthread_cond_broadcast(&s.d.cv);
    pthread_mutex_unlock(&s.d.mu);
    pthread_join(s.d.th, NULL);
out:
    if (lfd >= 0)
        close(lfd);
    if (s.tmp[0])
        rm_tmp(s.tmp);
    free(s.d.json);
    cg_web_sessions_destroy(s.sess);
    cg_web_limiter_destroy(s.lim_user);
    cg_web_limiter_destroy(s.lim_addr);
    cg_store_close(s.rd);
    cg_store_close(s.tr);
    pthread_mutex_destroy(&s.tr_mu);
    pthread_mutex_destroy(&s.seq_mu);
    pthread_mutex_destroy(&s.d.mu);
    pthread_cond_destroy(&s.d.cv);
    if (cert)
        OPENSSL_cleanse(cert, strlen(cert));
    if (key)
        OPENSSL_cleanse(key, strlen(key));
    free(cert);
    free(key);
    return ret;
}
