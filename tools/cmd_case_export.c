/* cmd_case_export.c — `canhgac case export ID -o DIR|FILE.tar.gz`: a case
 * file a response team can hand on (tools/casefile.h has its format).
 *
 * The steps, in this order:
 *  1. the private key is loaded (refused as keys.h says: missing, open to
 *     others, damaged), the output name checked (an existing one is refused
 *     unless --force), the rules read (--rules, else ./rules when there);
 *  2. the store is opened for triage; the case and its incidents are read,
 *     then in one read transaction (cg_store_log_prove) the log's head and
 *     each incident's latest leaf with its inclusion proof; the head is
 *     signed as a checkpoint (the note `store checkpoint` writes). The
 *     incidents written out are those leaves' records, decoded: what the
 *     proofs prove is what the files say;
 *  3. every file is written into a temporary directory next to the output
 *     (OUT.partial-PID), synced: case.json (reading each incident's alerts,
 *     evidence and history), incidents.csv, evidence.pcapng, rules.rules,
 *     flows/ (--pcap-dir: each flow the alerts name, from the sensor's ring,
 *     sensor/pcapdir.h), timeline.html, soc-public.pem, custody.json; the
 *     manifest is hashed from the files as written and signed;
 *  4. a .tar.gz is made from that directory as OUT.partial-PID (synced),
 *     the directory removed;
 *  5. the export is appended to the case's history (who, when, where, the
 *     manifest's SHA-256), then the one rename puts the case in place: an
 *     export the history does not hold is never left behind (when the
 *     history cannot take it, nothing is exported; when the rename fails,
 *     a second entry says the export was not completed).
 * A failure at any step removes what the export made, and so does SIGINT,
 * SIGTERM or SIGHUP during step 3 or 4 (checked between incidents, flows
 * and archive members); a killed export leaves OUT.partial-PID names at
 * most, never a half case under OUT.
 *
 * Memory: the leaves of the incidents and their evidence packets are held
 * until the end (evidence.pcapng is written in time order across
 * incidents): a few KB per incident. One thread.
 *
 * --redact-payload keeps packet headers and drops payloads: evidence and
 * flow packets are cut after their TCP/UDP/ICMP header, incidents lose their
 * payload excerpt and HTTP request fields, and custody.json withholds each
 * leaf's bytes (the incident record holds the payload) and says so.
 *
 * Exit codes: 0 written; 1 failed while running (disk full, store or write
 * error); 2 bad input (usage, key, no such case, an empty case, an output
 * that exists, rules that cannot be read).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/engine/detectors.h"
#include "analyzer/lang/rule.h"
#include "analyzer/output/pipeline.h"
#include "analyzer/output/utf8.h"
#include "sensor/decode.h"
#include "sensor/pcapdir.h"
#include "store/keys.h"
#include "store/merkle.h"
#include "store/pcapng.h"
#include "store/store.h"
#include "tools/casefile.h"
#include "tools/cli.h"

#define CMD "canhgac case export"

static const char export_usage[] =
    "usage: canhgac case export ID -o DIR|FILE.tar.gz [options]\n"
    "\n"
    "Writes case ID as a case file: a directory, or one .tar.gz holding one\n"
    "directory, with\n"
    "  case.json            the case, its history, and each incident with every\n"
    "                       alert, its enrichment, evidence packets and history\n"
    "  incidents.csv        the incidents, one row each\n"
    "  timeline.html        one page, in time order, for a reader who is not a\n"
    "                       specialist\n"
    "  evidence.pcapng      every evidence packet, each with a comment naming its\n"
    "                       incident and alert (Wireshark shows it)\n"
    "  flows/FLOW_ID.pcap   with --pcap-dir: the alerts' flows, whole, from the ring\n"
    "  rules.rules          the text of every rule that fired, with file:line\n"
    "  custody.json         who exported it, when, from which host and store; the\n"
    "                       store's signed checkpoint and, for each incident, an\n"
    "                       inclusion proof against it\n"
    "  soc-public.pem       the SOC's public key\n"
    "  MANIFEST.sha256      the SHA-256 of every file (sha256sum -c reads it)\n"
    "  MANIFEST.sha256.sig  its Ed25519 signature (64 bytes)\n"
    "The case is written under a temporary name and renamed: a failed or killed\n"
    "export leaves no half case. Each export is recorded in the case's history.\n"
    "\n"
    "options:\n"
    "  -o, --output PATH    a new directory, or FILE.tar.gz (or .tgz)\n"
    "  -d, --store DIR      the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --key FILE       the SOC's private key (default DIR/soc-private.pem)\n"
    "  -S, --rules PATH     rule file or directory to take the rules' text from\n"
    "                       (again for more; default ./rules when it exists)\n"
    "      --pcap-dir DIR   the sensor's packet ring (run --pcap-dir): each flow the\n"
    "                       case's alerts name goes whole into flows/FLOW_ID.pcap,\n"
    "                       and custody.json says how much of it the ring held\n"
    "      --redact-payload keep packet headers, drop payloads and HTTP fields\n"
    "                       (for recipients not entitled to content)\n"
    "      --force          replace PATH when it exists\n"
    "      --as NAME        who exports (default: the login name)\n"
    "  -h, --help           this help\n"
    "\n"
    "check one: canhgac case verify PATH, or with no canhgac at hand:\n"
    "  cd DIR && sha256sum -c MANIFEST.sha256 && openssl pkeyutl -verify -pubin \\\n"
    "      -inkey soc-public.pem -rawin -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig\n"
    "\n"
    "exit: 0 written; 1 failed while running (disk full, store error); 2 bad\n"
    "input (usage, the key, no such case, an empty case, PATH exists)\n";

#define MAX_RULE_PATHS 32

typedef struct opts {
    uint64_t id;
    const char *out;
    const char *store_dir;
    const char *keyfile;
    const char *rules[MAX_RULE_PATHS];
    int nrules;
    int redact, force;
    const char *who;
    const char *pcap_dir; /* the sensor's packet ring (run --pcap-dir) */
} opts;

/* An incident of the case: its proof, and the record its leaf holds. */
typedef struct proof {
    uint64_t id, leaf;
    uint8_t hash[32];
    uint8_t *data; /* the leaf's bytes: 0x01 | be64 id | record */
    size_t len;
    unsigned npath;
    uint8_t (*path)[32];
    cg_incident inc; /* decoded from data (views into it), redacted when asked */
} proof;

/* An evidence packet, for evidence.pcapng. */
typedef struct pkt {
    uint64_t ts_us, incident;
    int32_t dlt;
    uint32_t caplen, wirelen, seq;
    int32_t alert; /* the alert that took it, -1 when none stored */
    uint8_t *data;
    const proof *p;
} pkt;

/* A flow an incident's alerts name, for flows/ (one per flow and incident). */
typedef struct flowref {
    uint64_t flow_id, incident, first_us, last_us;
} flowref;

/* A flow taken out of the ring. */
typedef struct flowout {
    uint64_t flow_id, first_us, last_us;
    uint64_t *incidents;
    size_t nincidents;
    char file[64]; /* "flows/ID.pcap", "" when the ring held none of it */
    cg_pcapdir_flow_info info;
} flowout;

/* A line of the timeline. */
typedef struct event {
    uint64_t when_us;
    uint64_t incident; /* 0: the case's own */
    int sev;           /* 1..4 for an incident's start, else 0 */
    char *who;
    char *text;
} event;

typedef struct ex {
    const opts *o;
    cg_store *st;
    cg_key *key;
    char keyfp[65];
    int archive;            /* OUT is a .tar.gz */
    char tmp[PATH_MAX];     /* the temporary case directory */
    char tmpar[PATH_MAX];   /* the temporary archive */
    char top[NAME_MAX + 1]; /* the case's directory name in an archive */
    uint64_t now_us;
    /* the case */
    char *title, *owner;
    uint8_t status;
    uint64_t created_us, updated_us, nnotes;
    uint64_t *ids;
    size_t nids;
    /* what the export gathers */
    cg_store_head head;
    char *checkpoint;
    size_t checkpoint_len;
    proof *p;
    size_t np;
    pkt *pk;
    size_t npk, cappk;
    event *ev;
    size_t nev, capev;
    cg_ruleset *rs;
    const char *rule_paths[MAX_RULE_PATHS];
    int nrule_paths;
    unsigned rules_found, rules_missing;
    uint64_t alerts;
    int has_evidence;
    cg_pcapdir_reader *ring;
    const char **files; /* the case's files (views) */
    flowref *fr;
    size_t nfr, capfr;
    flowout *fl;
    size_t nfl;
    char manifest_hex[65];
    char err[1024]; /* the first failure */
    int code;       /* its exit code */
} ex;

static int fail(ex *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ex *x, int code, const char *fmt, ...)
{
    va_list ap;
    if (!x->err[0]) {
        va_start(ap, fmt);
        vsnprintf(x->err, sizeof x->err, fmt, ap);
        va_end(ap);
        x->code = code;
    }
    return -1;
}

static int nomem(ex *x)
{
    return fail(x, CG_EXIT_FAIL, "out of memory");
}

/* SIGINT, SIGTERM, SIGHUP while the files are written: the export stops at
 * its next incident, flow or archive member and removes what it made. The
 * one piece of state a signal handler may touch (tools only, never the
 * library). */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

static int stopped(ex *x)
{
    if (!interrupted)
        return 0;
    return fail(x, CG_EXIT_FAIL, "interrupted (%s): nothing exported",
                interrupted == SIGINT        ? "SIGINT"
                    : interrupted == SIGTERM ? "SIGTERM"
                                             : "SIGHUP");
}

/* ---- files in the temporary directory --------------------------------------- */

static int path_in(ex *x, const char *name, char *out, size_t len)
{
    if ((size_t)snprintf(out, len, "%s/%s", x->tmp, name) >= len)
        return fail(x, CG_EXIT_INPUT, "%s/%s: path too long", x->tmp, name);
    return 0;
}

static FILE *xcreate(ex *x, const char *name)
{
    char path[PATH_MAX];
    int fd;
    FILE *f;
    if (path_in(x, name, path, sizeof path))
        return NULL;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0 ||
        !(f = fdopen(fd, "w"))) {
        fail(x, CG_EXIT_FAIL, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 16); /* case.json of 1,000 incidents is megabytes */
    return f;
}

/* Flushes, syncs and closes f: 0, or -1 with the failure kept. */
static int xclose(ex *x, FILE *f, const char *name)
{
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad)
        return fail(x, CG_EXIT_FAIL, "%s/%s: %s", x->tmp, name, strerror(e ? e : EIO));
    return 0;
}

static int xwrite_bytes(ex *x, const char *name, const void *p, size_t n)
{
    FILE *f = xcreate(x, name);
    if (!f)
        return -1;
    fwrite(p, 1, n, f);
    return xclose(x, f, name);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- text ------------------------------------------------------------------- */

/* UTC, RFC 3339, seconds. */
static void rfc3339(uint64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* For people: "2025-11-24 08:00:05 UTC". */
static void human_time(uint64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* s as HTML text: & < > " ' escaped, bytes that are not UTF-8 and control
 * characters but tab and newline as U+FFFD, so Vietnamese (and any UTF-8)
 * goes through intact and nothing can open a tag. */
static void html(FILE *f, const char *s)
{
    const unsigned char *c = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)c);
    for (size_t i = 0; i < len;) {
        size_t n;
        switch (c[i]) {
        case '&': fputs("&amp;", f), i++; continue;
        case '<': fputs("&lt;", f), i++; continue;
        case '>': fputs("&gt;", f), i++; continue;
        case '"': fputs("&quot;", f), i++; continue;
        case '\'': fputs("&#39;", f), i++; continue;
        case '\t':
        case '\n': putc(c[i], f), i++; continue;
        default: break;
        }
        if (c[i] < 0x20 || c[i] == 0x7f || (n = cg_utf8_seq(c + i, len - i)) == 0) {
            fputs("\xef\xbf\xbd", f);
            i++;
        } else {
            fwrite(c + i, 1, n, f);
            i += n;
        }
    }
}

static char *xasprintf(ex *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xasprintf(ex *x, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        nomem(x);
    return s;
}

static int add_event(ex *x, uint64_t when, uint64_t incident, int sev, const char *who, char *text)
{
    event *e;
    if (!text)
        return -1;
    if (x->nev == x->capev) {
        size_t nc = x->capev ? x->capev * 2 : 256;
        event *a = realloc(x->ev, nc * sizeof *a);
        if (!a) {
            free(text);
            return nomem(x);
        }
        x->ev = a;
        x->capev = nc;
    }
    e = &x->ev[x->nev];
    if (!(e->who = strdup(who ? who : ""))) {
        free(text);
        return nomem(x);
    }
    e->when_us = when;
    e->incident = incident;
    e->sev = sev;
    e->text = text;
    x->nev++;
    return 0;
}

/* ---- reading the case ------------------------------------------------------- */

static int take_case(const cg_case *c, void *arg)
{
    ex *x = arg;
    x->title = strdup(c->title);
    x->owner = strdup(c->owner);
    x->status = c->status;
    x->created_us = c->created_us;
    x->updated_us = c->updated_us;
    x->nnotes = c->nnotes;
    return 0;
}

static int take_id(uint64_t incident, void *arg)
{
    ex *x = arg;
    if (x->nids % 1024 == 0) {
        uint64_t *a = realloc(x->ids, (x->nids + 1024) * sizeof *a);
        if (!a)
            return nomem(x);
        x->ids = a;
    }
    x->ids[x->nids++] = incident;
    return 0;
}

static int take_proof(const cg_store_inclusion *in, void *arg)
{
    ex *x = arg;
    proof *p = &x->p[x->np];
    memset(p, 0, sizeof *p);
    p->id = in->id;
    p->leaf = in->leaf;
    memcpy(p->hash, in->leaf_hash, 32);
    p->len = in->leaf_len;
    p->npath = in->npath;
    if (!(p->data = malloc(in->leaf_len ? in->leaf_len : 1)) ||
        !(p->path = malloc((in->npath ? in->npath : 1) * sizeof *p->path))) {
        free(p->data);
        p->data = NULL;
        return nomem(x);
    }
    if (in->leaf_len)
        memcpy(p->data, in->leaf_data, in->leaf_len);
    if (in->npath)
        memcpy(p->path, in->path, in->npath * sizeof *p->path);
    x->np++;
    return 0;
}

/* What --redact-payload leaves of an incident: no payload, no HTTP request. */
static void redact_incident(cg_incident *inc)
{
    inc->payload = NULL;
    inc->payload_len = 0;
    inc->payload_match = 0;
    inc->http_method = inc->http_host = inc->http_url = inc->http_user_agent = "";
    inc->http_status = 0;
}

/* Each proof's leaf: it hashes to its leaf hash, is the incident's, and
 * decodes; the incidents then are these records. */
static int check_leaves(ex *x)
{
    for (size_t i = 0; i < x->np; i++) {
        proof *p = &x->p[i];
        uint8_t h[32];
        uint64_t lid = 0;
        if (cg_mt_leaf_hash(p->data, p->len, h) != 0)
            return nomem(x);
        for (int k = 1; k <= 8 && p->len >= 9; k++)
            lid = lid << 8 | p->data[k];
        if (memcmp(h, p->hash, 32) || p->len < 9 || p->data[0] != 1 || lid != p->id)
            return fail(x, CG_EXIT_FAIL,
                        "%s: incident %llu: its record does not match its leaf %llu in the "
                        "log (canhgac store verify names what changed)",
                        x->o->store_dir, (unsigned long long)p->id, (unsigned long long)p->leaf);
        if (cg_store_decode(p->data + 9, p->len - 9, &p->inc) != 0)
            return fail(x, CG_EXIT_FAIL, "%s: incident %llu: its record does not decode",
                        x->o->store_dir, (unsigned long long)p->id);
        if (x->o->redact)
            redact_incident(&p->inc);
    }
    return 0;
}

/* ---- case.json ------------------------------------------------------------------ */

static const char *case_event_name(unsigned kind)
{
    switch (kind) {
    case CG_CASE_EV_CREATE: return "create";
    case CG_CASE_EV_ADD: return "add";
    case CG_CASE_EV_NOTE: return "note";
    case CG_CASE_EV_STATUS: return "status";
    case CG_CASE_EV_OWNER: return "owner";
    case CG_CASE_EV_EXPORT: return "export";
    default: return "unknown";
    }
}

static const char *case_status(unsigned s)
{
    const char *n = cg_store_case_status_name(s);
    return n ? n : "unknown";
}

typedef struct jw {
    ex *x;
    FILE *f;
    int n;
    proof *p;
    int32_t *ev_alert; /* evidence seq -> alert seq */
    uint32_t nev_alert;
} jw;

static int case_event_json(const cg_case_event *e, void *arg)
{
    jw *w = arg;
    ex *x = w->x;
    char t[40];
    char *line = NULL;
    cg_cli_time_str(e->when_us, t, sizeof t);
    fprintf(w->f, "%s\n  {\"seq\":%llu,\"when\":\"%s\",\"who\":", w->n ? "," : "",
            (unsigned long long)e->seq, t);
    cg_cli_json_str(w->f, e->who);
    fprintf(w->f, ",\"what\":\"%s\"", case_event_name(e->kind));
    switch (e->kind) {
    case CG_CASE_EV_ADD:
        fprintf(w->f, ",\"incident_id\":%llu", (unsigned long long)e->incident);
        line = xasprintf(x, "Incident %llu added to the case", (unsigned long long)e->incident);
        break;
    case CG_CASE_EV_STATUS:
        fprintf(w->f, ",\"old\":\"%s\",\"new\":\"%s\"", case_status(e->old_num),
                case_status(e->new_num));
        line = xasprintf(x, "Case status changed from %s to %s", case_status(e->old_num),
                         case_status(e->new_num));
        break;
    case CG_CASE_EV_OWNER:
        fputs(",\"old\":", w->f);
        cg_cli_json_str(w->f, e->old_text);
        fputs(",\"new\":", w->f);
        cg_cli_json_str(w->f, e->text);
        line = xasprintf(x, "Case owner changed from %s to %s", e->old_text[0] ? e->old_text : "-",
                         e->text);
        break;
    default:
        fputs(",\"text\":", w->f);
        cg_cli_json_str(w->f, e->text);
        if (e->old_text && e->old_text[0]) {
            fputs(",\"old\":", w->f);
            cg_cli_json_str(w->f, e->old_text);
        }
        line = e->kind == CG_CASE_EV_CREATE ? xasprintf(x, "Case opened: %s", e->text)
            : e->kind == CG_CASE_EV_NOTE    ? xasprintf(x, "Note: %s", e->text)
            : e->kind == CG_CASE_EV_EXPORT  ? xasprintf(x, "Case exported: %s", e->text)
                                            : xasprintf(x, "%s", e->text);
        break;
    }
    putc('}', w->f);
    w->n++;
    return add_event(x, e->when_us, 0, 0, e->who, line) ? -1 : 0;
}

static int add_flowref(ex *x, uint64_t flow_id, const proof *p)
{
    if (!flow_id)
        return 0;
    if (x->nfr && x->fr[x->nfr - 1].flow_id == flow_id && x->fr[x->nfr - 1].incident == p->id)
        return 0;
    if (x->nfr == x->capfr) {
        size_t nc = x->capfr ? x->capfr * 2 : 256;
        flowref *a = realloc(x->fr, nc * sizeof *a);
        if (!a)
            return nomem(x);
        x->fr = a;
        x->capfr = nc;
    }
    x->fr[x->nfr++] = (flowref){ flow_id, p->id, p->inc.first_us, p->inc.last_us };
    return 0;
}

static int alert_json(uint32_t seq, const cg_alert *a, void *arg)
{
    jw *w = arg;
    char t[40];
    cg_cli_time_str(a->ts_us, t, sizeof t);
    fprintf(w->f, "%s{\"seq\":%u,\"timestamp\":\"%s\",\"flow_id\":%llu,\"community_id\":",
            w->n ? "," : "", seq, t, (unsigned long long)a->flow_id);
    cg_cli_json_str(w->f, a->community_id);
    fprintf(w->f, ",\"src_port\":%u,\"dest_port\":%u,\"severity\":%u,\"evidence\":%d}", a->sport,
            a->dport, a->severity, a->evidence_seq);
    if (a->evidence_seq >= 0) {
        uint32_t e = (uint32_t)a->evidence_seq;
        if (e >= w->nev_alert) {
            uint32_t nn = e + 16;
            int32_t *m = realloc(w->ev_alert, nn * sizeof *m);
            if (!m)
                return nomem(w->x);
            for (uint32_t i = w->nev_alert; i < nn; i++)
                m[i] = -1;
            w->ev_alert = m;
            w->nev_alert = nn;
        }
        if (w->ev_alert[e] < 0)
            w->ev_alert[e] = (int32_t)seq;
    }
    w->n++;
    w->x->alerts++;
    return w->x->ring ? add_flowref(w->x, a->flow_id, w->p) : 0;
}

/* The bytes --redact-payload keeps of a packet: up to its L4 payload. */
static uint32_t header_len(const cg_evidence *ev)
{
    cg_packet pk;
    cg_decode_stats ds;
    memset(&ds, 0, sizeof ds);
    cg_decode(&pk, ev->dlt, ev->data, ev->caplen, ev->wirelen, ev->ts_us, &ds);
    if (pk.payload && pk.payload >= ev->data && pk.payload <= ev->data + ev->caplen)
        return (uint32_t)(pk.payload - ev->data);
    if (pk.l4 && pk.l4 >= ev->data && pk.l4 <= ev->data + ev->caplen)
        return (uint32_t)(pk.l4 - ev->data);
    if (pk.l3 && pk.l3 >= ev->data && pk.l3 <= ev->data + ev->caplen)
        return (uint32_t)(pk.l3 - ev->data);
    return 0;
}

static int evidence_json(uint32_t seq, const cg_evidence *ev, void *arg)
{
    jw *w = arg;
    ex *x = w->x;
    char t[40];
    pkt *k;
    uint32_t keep = ev->caplen;

    if (x->o->redact)
        keep = header_len(ev);
    cg_cli_time_str(ev->ts_us, t, sizeof t);
    fprintf(w->f,
            "%s{\"seq\":%u,\"timestamp\":\"%s\",\"caplen\":%u,\"wirelen\":%u,\"linktype\":%d,"
            "\"alert\":%d%s}",
            w->n ? "," : "", seq, t, ev->caplen, ev->wirelen, ev->dlt,
            seq < w->nev_alert ? w->ev_alert[seq] : -1,
            x->o->redact ? ",\"payload_removed\":true" : "");
    w->n++;
    if (x->npk == x->cappk) {
        size_t nc = x->cappk ? x->cappk * 2 : 256;
        pkt *a = realloc(x->pk, nc * sizeof *a);
        if (!a)
            return nomem(x);
        x->pk = a;
        x->cappk = nc;
    }
    k = &x->pk[x->npk];
    k->ts_us = ev->ts_us;
    k->incident = w->p->id;
    k->dlt = ev->dlt;
    k->caplen = keep;
    k->wirelen = ev->wirelen;
    k->seq = seq;
    k->alert = seq < w->nev_alert ? w->ev_alert[seq] : -1;
    k->p = w->p;
    if (!(k->data = malloc(keep ? keep : 1)))
        return nomem(x);
    if (keep)
        memcpy(k->data, ev->data, keep);
    x->npk++;
    return 0;
}

static const char *hist_field(unsigned kind)
{
    switch (kind) {
    case CG_HIST_STATUS: return "status";
    case CG_HIST_ASSIGNEE: return "assignee";
    case CG_HIST_SEVERITY: return "severity";
    case CG_HIST_NOTE: return "note";
    case CG_HIST_ESCALATE: return "layers";
    case CG_HIST_SHARE: return "shared";
    default: return "unknown";
    }
}

static int history_json(const cg_history *h, void *arg)
{
    jw *w = arg;
    ex *x = w->x;
    char t[40], a[300], b[300];
    char *line;
    cg_cli_time_str(h->when_us, t, sizeof t);
    fprintf(w->f, "%s{\"seq\":%llu,\"when\":\"%s\",\"who\":", w->n ? "," : "",
            (unsigned long long)h->seq, t);
    cg_cli_json_str(w->f, h->who);
    fprintf(w->f, ",\"field\":\"%s\"", hist_field(h->kind));
    if (h->kind == CG_HIST_NOTE) {
        fputs(",\"text\":", w->f);
        cg_cli_json_str(w->f, h->new_text);
        line = xasprintf(x, "Note on incident %llu: %s", (unsigned long long)w->p->id, h->new_text);
    } else if (h->kind == CG_HIST_SHARE) {
        fputs(",\"text\":", w->f);
        cg_cli_json_str(w->f, h->new_text);
        line = xasprintf(x, "Incident %llu %s", (unsigned long long)w->p->id, h->new_text);
    } else {
        if (h->kind == CG_HIST_STATUS) {
            snprintf(a, sizeof a, "%s", cg_cli_status(h->old_num));
            snprintf(b, sizeof b, "%s", cg_cli_status(h->new_num));
        } else if (h->kind == CG_HIST_SEVERITY) {
            snprintf(a, sizeof a, "%s", cg_severity_name(h->old_num));
            snprintf(b, sizeof b, "%s", cg_severity_name(h->new_num));
        } else if (h->kind == CG_HIST_ESCALATE) {
            cg_cli_layers(h->old_num, a, sizeof a);
            cg_cli_layers(h->new_num, b, sizeof b);
        } else {
            snprintf(a, sizeof a, "%s", h->old_text);
            snprintf(b, sizeof b, "%s", h->new_text);
        }
        fputs(",\"old\":", w->f);
        cg_cli_json_str(w->f, a);
        fputs(",\"new\":", w->f);
        cg_cli_json_str(w->f, b);
        if (h->kind == CG_HIST_SEVERITY)
            fprintf(w->f, ",\"old_set\":%s,\"new_set\":%s", h->old_text[0] ? "true" : "false",
                    h->new_text[0] ? "true" : "false");
        if (h->kind == CG_HIST_ESCALATE) {
            fputs(",\"why\":", w->f);
            cg_cli_json_str(w->f, h->new_text);
            line = xasprintf(x, "Incident %llu: layers changed from %s to %s (%s)",
                             (unsigned long long)w->p->id, a, b, h->new_text);
        } else {
            line = xasprintf(x, "Incident %llu: %s changed from %s to %s",
                             (unsigned long long)w->p->id, hist_field(h->kind), a[0] ? a : "-",
                             b[0] ? b : "-");
        }
    }
    putc('}', w->f);
    w->n++;
    return add_event(x, h->when_us, w->p->id, 0, h->who, line) ? -1 : 0;
}

/* A store call's failure, kept. */
static int store_failed(ex *x, int rc, const char *what)
{
    if (x->err[0])
        return -1;
    if (rc == CG_ENOTFOUND)
        return fail(x, CG_EXIT_INPUT, "%s: not found", what);
    return fail(x, CG_EXIT_FAIL, "%s", cg_store_error(x->st));
}

static int write_case_json(ex *x)
{
    FILE *f = xcreate(x, CG_CASEFILE_CASE);
    jw w = { x, f, 0, NULL, NULL, 0 };
    char t1[40], t2[40], when[40];
    int rc;

    if (!f)
        return -1;
    cg_cli_time_str(x->created_us, t1, sizeof t1);
    cg_cli_time_str(x->updated_us, t2, sizeof t2);
    rfc3339(x->now_us, when, sizeof when);
    fprintf(f, "{\"format\":\"%s\",\"case\":{\"case_id\":%llu,\"title\":", CG_CASEFILE_FORMAT,
            (unsigned long long)x->o->id);
    cg_cli_json_str(f, x->title);
    fprintf(f, ",\"status\":\"%s\",\"owner\":", case_status(x->status));
    cg_cli_json_str(f, x->owner);
    fprintf(f, ",\"created\":\"%s\",\"updated\":\"%s\",\"incidents\":%zu,\"notes\":%llu},\n", t1,
            t2, x->np, (unsigned long long)x->nnotes);
    fputs("\"exported\":{\"by\":", f);
    cg_cli_json_str(f, x->o->who);
    fprintf(f, ",\"at\":\"%s\",\"redact_payload\":%s},\n\"history\":[", when,
            x->o->redact ? "true" : "false");
    if ((rc = cg_store_case_history(x->st, x->o->id, case_event_json, &w)) != 0)
        goto store;
    fputs("\n],\n\"incidents\":[", f);
    for (size_t i = 0; i < x->np; i++) {
        proof *p = &x->p[i];
        char what[64];
        if (stopped(x))
            goto out;
        snprintf(what, sizeof what, "incident %llu", (unsigned long long)p->id);
        fprintf(f, "%s\n{\"incident\":", i ? "," : "");
        cg_cli_incident_json(f, &p->inc);
        w.p = p;
        w.n = 0;
        if (x->ring && add_flowref(x, p->inc.flow_id, p))
            goto out;
        for (uint32_t k = 0; k < w.nev_alert; k++)
            w.ev_alert[k] = -1;
        fputs(",\"alerts\":[", f);
        if ((rc = cg_store_alerts(x->st, p->id, alert_json, &w)) != 0)
            goto store_inc;
        w.n = 0;
        fputs("],\"evidence\":[", f);
        if ((rc = cg_store_evidence(x->st, p->id, evidence_json, &w)) != 0)
            goto store_inc;
        w.n = 0;
        fputs("],\"history\":[", f);
        if ((rc = cg_store_history(x->st, p->id, history_json, &w)) != 0)
            goto store_inc;
        fputs("]}", f);
        continue;
    store_inc:
        store_failed(x, rc, what);
        goto out;
    }
    fputs("\n]}\n", f);
    free(w.ev_alert);
    return xclose(x, f, CG_CASEFILE_CASE);
store : {
    char what[48];
    snprintf(what, sizeof what, "case %llu", (unsigned long long)x->o->id);
    store_failed(x, rc, what);
}
out:
    free(w.ev_alert);
    fclose(f);
    return -1;
}

/* ---- incidents.csv ------------------------------------------------------------ */

static int write_csv(ex *x)
{
    FILE *f = xcreate(x, "incidents.csv");
    if (!f)
        return -1;
    cg_cli_csv_header(f);
    for (size_t i = 0; i < x->np; i++)
        cg_cli_incident_csv(f, &x->p[i].inc);
    return xclose(x, f, "incidents.csv");
}

/* ---- evidence.pcapng ------------------------------------------------------------ */

static int pkt_cmp(const void *a, const void *b)
{
    const pkt *x = a, *y = b;
    if (x->ts_us != y->ts_us)
        return x->ts_us < y->ts_us ? -1 : 1;
    if (x->incident != y->incident)
        return x->incident < y->incident ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int write_pcapng(ex *x)
{
    char path[PATH_MAX], comment[1024], alert[32];
    cg_pcapng *w = NULL;
    int rc;

    if (x->npk == 0)
        return 0;
    qsort(x->pk, x->npk, sizeof *x->pk, pkt_cmp);
    if (path_in(x, "evidence.pcapng", path, sizeof path))
        return -1;
    if ((rc = cg_pcapng_open(&w, path, "canhgac")) != 0)
        return fail(x, CG_EXIT_FAIL, "%s", cg_pcapng_error(NULL));
    for (size_t i = 0; i < x->npk; i++) {
        const pkt *k = &x->pk[i];
        const cg_incident *inc = &k->p->inc;
        cg_pcapng_packet pp;
        if (k->alert >= 0)
            snprintf(alert, sizeof alert, "alert %d", k->alert);
        else
            snprintf(alert, sizeof alert, "no stored alert");
        snprintf(comment, sizeof comment,
                 "canhgac case %llu, incident %llu, %s (evidence #%u): %u:%u rev %u: %s%s",
                 (unsigned long long)x->o->id, (unsigned long long)k->incident, alert, k->seq,
                 inc->gid, inc->sid, inc->rev, inc->msg, x->o->redact ? " [payload removed]" : "");
        pp.ts_us = k->ts_us;
        pp.dlt = k->dlt;
        pp.caplen = k->caplen;
        pp.wirelen = k->wirelen;
        pp.data = k->data;
        pp.comment = comment;
        if ((rc = cg_pcapng_write(w, &pp)) != 0)
            break;
    }
    if (rc == 0)
        rc = cg_pcapng_commit(w);
    if (rc) {
        fail(x, rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_FAIL, "%s", cg_pcapng_error(w));
        cg_pcapng_close(w);
        return -1;
    }
    cg_pcapng_close(w);
    x->has_evidence = 1;
    return 0;
}

/* ---- flows/ ------------------------------------------------------------------- */

static int fr_cmp(const void *a, const void *b)
{
    const flowref *x = a, *y = b;
    if (x->flow_id != y->flow_id)
        return x->flow_id < y->flow_id ? -1 : 1;
    return (x->incident > y->incident) - (x->incident < y->incident);
}

/* A classic pcap file being written from the ring's packets (flows/), its
 * header written with the first packet's link type. */
typedef struct pw {
    ex *x;
    FILE *f;
    int dlt, started;
    uint32_t linktype;
} pw;

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* the writer's byte order: the magic says which */
}

static int flow_packet(void *ctx, const cg_pcapdir_packet *pk)
{
    pw *w = ctx;
    uint8_t h[24];
    uint32_t keep = pk->caplen;
    if (!w->started) {
        int lt = cg_pcapng_linktype(pk->dlt);
        w->dlt = pk->dlt;
        w->linktype = lt < 0 ? 1u : (uint32_t)lt;
        put32(h, 0xa1b2c3d4u);
        uint16_t version[2] = { 2, 4 };
        memcpy(h + 4, version, 4);
        put32(h + 8, 0);
        put32(h + 12, 0);
        put32(h + 16, CG_PCAPDIR_SNAPLEN);
        put32(h + 20, w->linktype);
        fwrite(h, 1, 24, w->f);
        w->started = 1;
    }
    if (pk->dlt != w->dlt)
        return 0; /* as the ring's own reader: one link type a file */
    if (w->x->o->redact) {
        cg_evidence ev = { pk->ts_us, pk->dlt, pk->caplen, pk->wirelen, pk->data };
        keep = header_len(&ev);
    }
    put32(h, (uint32_t)(pk->ts_us / 1000000u));
    put32(h + 4, (uint32_t)(pk->ts_us % 1000000u));
    put32(h + 8, keep);
    put32(h + 12, pk->wirelen > keep ? pk->wirelen : keep);
    fwrite(h, 1, 16, w->f);
    fwrite(pk->data, 1, keep, w->f);
    return ferror(w->f) ? -1 : 0;
}

/* Every flow the case's alerts name, out of the ring into flows/ID.pcap, in
 * the time of the incidents that name it; what the ring held of each. */
static int write_flows(ex *x)
{
    char path[PATH_MAX], err[512];
    size_t i = 0;

    if (!x->ring || x->nfr == 0)
        return 0;
    qsort(x->fr, x->nfr, sizeof *x->fr, fr_cmp);
    if (!(x->fl = calloc(x->nfr, sizeof *x->fl)))
        return nomem(x);
    if (path_in(x, "flows", path, sizeof path))
        return -1;
    if (mkdir(path, 0750) != 0)
        return fail(x, CG_EXIT_FAIL, "%s: %s", path, strerror(errno));
    while (i < x->nfr) {
        flowout *fo = &x->fl[x->nfl++];
        size_t k = i;
        int rc;
        if (stopped(x))
            return -1;
        fo->flow_id = x->fr[i].flow_id;
        fo->first_us = x->fr[i].first_us;
        fo->last_us = x->fr[i].last_us;
        while (k < x->nfr && x->fr[k].flow_id == fo->flow_id)
            k++;
        if (!(fo->incidents = malloc((k - i) * sizeof *fo->incidents)))
            return nomem(x);
        for (size_t j = i; j < k; j++) {
            if (!fo->nincidents || fo->incidents[fo->nincidents - 1] != x->fr[j].incident)
                fo->incidents[fo->nincidents++] = x->fr[j].incident;
            if (x->fr[j].first_us < fo->first_us)
                fo->first_us = x->fr[j].first_us;
            if (x->fr[j].last_us > fo->last_us)
                fo->last_us = x->fr[j].last_us;
        }
        i = k;
        snprintf(fo->file, sizeof fo->file, "flows/%llu.pcap", (unsigned long long)fo->flow_id);
        pw w = { x, xcreate(x, fo->file), 0, 0, 0 };
        if (!w.f)
            return -1;
        rc = cg_pcapdir_reader_flow(x->ring, fo->flow_id, fo->first_us, fo->last_us, flow_packet,
                                    &w, &fo->info, err, sizeof err);
        if (rc) {
            fclose(w.f);
            return fail(x, CG_EXIT_FAIL, "%s", rc == -1 ? strerror(errno) : err);
        }
        if (xclose(x, w.f, fo->file))
            return -1;
        if (!w.started) { /* the ring held none of it: no file */
            if (path_in(x, fo->file, path, sizeof path))
                return -1;
            unlink(path);
            fo->file[0] = 0;
        }
    }
    return 0;
}

static const char *ring_held(const cg_pcapdir_flow_info *in)
{
    if (in->packets == 0)
        return "none";
    return in->start == CG_PCAPDIR_START_HELD ? "all" : "part";
}

static const char *ring_start(int start)
{
    switch (start) {
    case CG_PCAPDIR_START_HELD: return "held";
    case CG_PCAPDIR_START_LOST: return "lost";
    case CG_PCAPDIR_START_UNKNOWN: return "unknown";
    default: return "none";
    }
}

/* ---- rules.rules --------------------------------------------------------------- */

typedef struct sig {
    uint32_t gid, sid, rev;
    uint64_t incidents;
    const char *msg;
} sig;

static int sig_cmp(const void *a, const void *b)
{
    const sig *x = a, *y = b;
    if (x->gid != y->gid)
        return x->gid < y->gid ? -1 : 1;
    if (x->sid != y->sid)
        return x->sid < y->sid ? -1 : 1;
    return (x->rev > y->rev) - (x->rev < y->rev);
}

/* The physical lines of the rule that starts at line `line` of file, as
 * written (a line ending in '\' continues on the next), into f. 0, or -1
 * when the file or the line is not there any more. */
static int copy_rule_text(FILE *f, const char *file, uint32_t line)
{
    FILE *in = fopen(file, "r");
    char *l = NULL;
    size_t cap = 0;
    uint32_t n = 0;
    ssize_t got;
    int found = -1;
    if (!in)
        return -1;
    while ((got = getline(&l, &cap, in)) != -1) {
        if (++n < line)
            continue;
        size_t k = (size_t)got;
        while (k && (l[k - 1] == '\n' || l[k - 1] == '\r'))
            k--;
        fwrite(l, 1, k, f);
        putc('\n', f);
        found = 0;
        while (k && (l[k - 1] == ' ' || l[k - 1] == '\t'))
            k--;
        if (!k || l[k - 1] != '\\')
            break;
    }
    free(l);
    fclose(in);
    return found;
}

static int write_rules(ex *x)
{
    FILE *f = xcreate(x, "rules.rules");
    sig *s = NULL;
    size_t ns = 0;
    const cg_rule *rules = NULL;
    const cg_rule_issue *iss = NULL;
    uint32_t nr = 0, ni = 0;

    if (!f)
        return -1;
    if (x->np && !(s = calloc(x->np, sizeof *s))) {
        fclose(f);
        return nomem(x);
    }
    for (size_t i = 0; i < x->np; i++) {
        const cg_incident *inc = &x->p[i].inc;
        s[i] = (sig){ inc->gid, inc->sid, inc->rev, 1, inc->msg };
    }
    qsort(s, x->np, sizeof *s, sig_cmp);
    for (size_t i = 0; i < x->np; i++) {
        if (ns && !sig_cmp(&s[ns - 1], &s[i]))
            s[ns - 1].incidents++;
        else
            s[ns++] = s[i];
    }
    fprintf(f, "# canhgac case %llu: the text of every rule that fired (%zu), with file:line\n",
            (unsigned long long)x->o->id, ns);
    if (x->rs) {
        rules = cg_ruleset_rules(x->rs, &nr);
        iss = cg_ruleset_issues(x->rs, &ni);
        fputs("# taken from:", f);
        for (int i = 0; i < x->nrule_paths; i++)
            fprintf(f, " %s", x->rule_paths[i]);
        fprintf(f, " (%u rules loaded)\n", nr);
    } else {
        fputs("# no rules were given (canhgac case export --rules PATH): the rules' text is not "
              "here\n",
              f);
    }
    for (size_t i = 0; i < ns; i++) {
        const cg_rule *r = NULL;
        const cg_rule_issue *is = NULL;
        fputs("\n", f);
        for (uint32_t k = 0; k < nr && !r; k++)
            if (rules[k].gid == s[i].gid && rules[k].sid == s[i].sid)
                r = &rules[k];
        /* a rule this version skipped (unsupported, an undefined variable)
         * still has its text in the file */
        for (uint32_t k = 0; k < ni && !r && !is; k++)
            if (iss[k].sid == s[i].sid && s[i].gid == 1 && iss[k].kind != CG_ISSUE_DUPLICATE)
                is = &iss[k];
        fprintf(f, "# %u:%u rev %u: ", s[i].gid, s[i].sid, s[i].rev);
        if (r) {
            fprintf(f, "%s:%u", r->file, r->line);
            if (r->rev != s[i].rev)
                fprintf(f, " (rev %u there, not the rev %u that fired)", r->rev, s[i].rev);
        } else if (is) {
            fprintf(f, "%s:%u (not loaded by this version: %s)", is->file, is->rule_line,
                    is->why ? is->why : "skipped");
        } else if (s[i].gid == CG_DETECTORS_GID_SCAN || s[i].gid == CG_DETECTORS_GID_OWN) {
            /* not a rule: a detector of the engine, set in detectors.conf */
            fputs("a detector of canhgac's engine (rules/detectors.conf), not a rule", f);
        } else {
            fputs("not found in the given rules", f);
        }
        fprintf(f, "\n# %llu incident%s: ", (unsigned long long)s[i].incidents,
                s[i].incidents == 1 ? "" : "s");
        for (const char *c = s[i].msg; *c; c++)
            putc(*c == '\n' || *c == '\r' ? ' ' : *c, f);
        putc('\n', f);
        if (r || is) {
            const char *file = r ? r->file : is->file;
            uint32_t line = r ? r->line : is->rule_line;
            if (copy_rule_text(f, file, line) != 0)
                fprintf(f, "# (%s:%u cannot be read any more)\n", file, line);
            x->rules_found++;
        } else if (s[i].gid == CG_DETECTORS_GID_SCAN || s[i].gid == CG_DETECTORS_GID_OWN) {
            x->rules_found++;
        } else {
            x->rules_missing++;
        }
    }
    free(s);
    return xclose(x, f, "rules.rules");
}

/* ---- timeline.html -------------------------------------------------------------- */

static int ev_cmp(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->when_us != y->when_us)
        return x->when_us < y->when_us ? -1 : 1;
    return (x->incident > y->incident) - (x->incident < y->incident);
}

static const char *sev_class(unsigned sev)
{
    return sev == 1 ? "high" : sev == 2 ? "medium" : sev == 3 ? "low" : "info";
}

static int write_timeline(ex *x)
{
    FILE *f = xcreate(x, "timeline.html");
    char t[40], t2[40], a[64], b[64];
    uint64_t first = UINT64_MAX, last = 0;

    if (!f)
        return -1;
    /* every incident's beginning and end are events too */
    for (size_t i = 0; i < x->np; i++) {
        const cg_incident *inc = &x->p[i].inc;
        cg_cli_addr(inc->src, a, sizeof a);
        cg_cli_addr(inc->dst, b, sizeof b);
        if (inc->first_us < first)
            first = inc->first_us;
        if (inc->last_us > last)
            last = inc->last_us;
        if (add_event(x, inc->first_us, inc->id, inc->severity ? inc->severity : 4, "the sensor",
                      xasprintf(x, "Incident %llu began: %s, from %s%s%s to %s port %u",
                                (unsigned long long)inc->id, inc->msg, a,
                                inc->src_geo.country[0] ? " " : "", inc->src_geo.country, b,
                                inc->dport)))
            goto bad;
        if (inc->count > 1 &&
            add_event(x, inc->last_us, inc->id, 0, "the sensor",
                      xasprintf(x, "Incident %llu: last of its %llu alerts",
                                (unsigned long long)inc->id, (unsigned long long)inc->count)))
            goto bad;
    }
    qsort(x->ev, x->nev, sizeof *x->ev, ev_cmp);
    fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    fprintf(f, "Case %llu: ", (unsigned long long)x->o->id);
    html(f, x->title);
    fputs("</title>\n<style>\n"
          "body{font-family:system-ui,'Segoe UI',Roboto,Arial,sans-serif;margin:2em auto;"
          "max-width:70em;padding:0 1em;color:#222;line-height:1.45}\n"
          "h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid "
          "#ccc}\n"
          "table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;"
          "padding:.3em .5em;border-bottom:1px solid #eee}th{background:#f4f4f4}\n"
          ".when{white-space:nowrap;font-variant-numeric:tabular-nums}.who{color:#555}\n"
          ".sev{display:inline-block;padding:0 .5em;border-radius:.3em;color:#fff;"
          "font-size:.85em}\n"
          ".high{background:#b71c1c}.medium{background:#e65100}.low{background:#1565c0}"
          ".info{background:#607d8b}\n"
          ".case td{border:0}.note{background:#fffbe6}.muted{color:#666;font-size:.9em}\n"
          "code,pre{font-family:ui-monospace,Consolas,monospace;font-size:.9em}\n"
          "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}\n"
          "</style>\n</head>\n<body>\n",
          f);
    fprintf(f, "<h1>Case %llu (Vụ việc %llu): ", (unsigned long long)x->o->id,
            (unsigned long long)x->o->id);
    html(f, x->title);
    fputs("</h1>\n<table class=\"case\">\n", f);
    fprintf(f, "<tr><td>Status</td><td>%s</td></tr>\n", case_status(x->status));
    fputs("<tr><td>Owner</td><td>", f);
    html(f, x->owner);
    human_time(x->created_us, t, sizeof t);
    fprintf(f, "</td></tr>\n<tr><td>Opened</td><td>%s</td></tr>\n", t);
    if (x->np) {
        human_time(first, t, sizeof t);
        human_time(last, t2, sizeof t2);
        fprintf(f,
                "<tr><td>Incidents</td><td>%zu incidents, %llu alerts stored, between %s and "
                "%s</td></tr>\n",
                x->np, (unsigned long long)x->alerts, t, t2);
    }
    human_time(x->now_us, t, sizeof t);
    fputs("<tr><td>Exported</td><td>", f);
    fprintf(f, "%s by ", t);
    html(f, x->o->who);
    fputs(x->o->redact ? " (payloads and web request details left out)" : "", f);
    fputs("</td></tr>\n</table>\n", f);

    fputs("<h2>What happened (Diễn biến)</h2>\n<p class=\"muted\">Every event of the case in the "
          "order it happened. Times are UTC (Vietnam is UTC+7). An incident groups the alerts "
          "of one attack rule between the same two computers.</p>\n"
          "<table>\n<tr><th>When</th><th>What</th><th>Who</th></tr>\n",
          f);
    for (size_t i = 0; i < x->nev; i++) {
        const event *e = &x->ev[i];
        human_time(e->when_us, t, sizeof t);
        fprintf(f, "<tr%s><td class=\"when\">%s</td><td>",
                !strncmp(e->text, "Note", 4) ? " class=\"note\"" : "", t);
        if (e->sev)
            fprintf(f, "<span class=\"sev %s\">%s</span> ", sev_class((unsigned)e->sev),
                    cg_severity_name((unsigned)e->sev));
        html(f, e->text);
        fputs("</td><td class=\"who\">", f);
        html(f, e->who);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);

    fputs("<h2>The incidents (Các sự cố)</h2>\n<table>\n<tr><th>#</th><th>Severity</th>"
          "<th>What was detected</th><th>From</th><th>To</th><th>First seen</th>"
          "<th>Alerts</th><th>Status</th></tr>\n",
          f);
    for (size_t i = 0; i < x->np; i++) {
        const cg_incident *inc = &x->p[i].inc;
        unsigned sev = inc->severity ? inc->severity : 4;
        cg_cli_addr(inc->src, a, sizeof a);
        cg_cli_addr(inc->dst, b, sizeof b);
        human_time(inc->first_us, t, sizeof t);
        fprintf(f, "<tr><td>%llu</td><td><span class=\"sev %s\">%s</span></td><td>",
                (unsigned long long)inc->id, sev_class(sev), cg_severity_name(sev));
        html(f, inc->msg);
        fprintf(f, "</td><td>%s", a);
        if (inc->src_geo.country[0]) {
            fputs(" (", f);
            html(f, inc->src_geo.country);
            if (inc->src_geo.as_org[0]) {
                fputs(", ", f);
                html(f, inc->src_geo.as_org);
            }
            putc(')', f);
        }
        fprintf(f, "</td><td>%s port %u", b, inc->dport);
        if (inc->dst_geo.agency[0]) {
            fputs(" (", f);
            html(f, inc->dst_geo.agency);
            putc(')', f);
        }
        fprintf(f, "</td><td class=\"when\">%s</td><td>%llu</td><td>%s</td></tr>\n", t,
                (unsigned long long)inc->count, cg_cli_status(inc->status));
    }
    fputs("</table>\n", f);
    fputs("<h2>Checking this case file (Kiểm tra)</h2>\n<p>Every file of the case is listed "
          "with its SHA-256 in <code>MANIFEST.sha256</code>, which the SOC signed with its "
          "key. In the case's folder:</p>\n<pre>sha256sum -c MANIFEST.sha256\n"
          "openssl pkeyutl -verify -pubin -inkey soc-public.pem -rawin -in MANIFEST.sha256 "
          "-sigfile MANIFEST.sha256.sig</pre>\n",
          f);
    fprintf(f,
            "<p>Both must succeed. Compare the key's fingerprint with the one the SOC gave you "
            "by another way (phone, paper): <code>%s</code>.</p>\n</body>\n</html>\n",
            x->keyfp);
    return xclose(x, f, "timeline.html");
bad:
    fclose(f);
    return -1;
}

/* ---- custody.json ------------------------------------------------------------- */

static void json_hex(FILE *f, const uint8_t h[32])
{
    char hex[65];
    cg_casefile_hex(h, hex);
    fprintf(f, "\"%s\"", hex);
}

static int write_custody(ex *x, const char *const *files, size_t nfiles)
{
    FILE *f = xcreate(x, CG_CASEFILE_CUSTODY);
    char when[40], host[256] = "", dir[PATH_MAX];
    if (!f)
        return -1;
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    if (!realpath(x->o->store_dir, dir))
        snprintf(dir, sizeof dir, "%s", x->o->store_dir);
    rfc3339(x->now_us, when, sizeof when);
    fprintf(f, "{\"format\":\"%s\",\n\"case\":{\"case_id\":%llu,\"title\":", CG_CASEFILE_FORMAT,
            (unsigned long long)x->o->id);
    cg_cli_json_str(f, x->title);
    fputs("},\n\"exported_by\":", f);
    cg_cli_json_str(f, x->o->who);
    fprintf(f, ",\n\"exported_at\":\"%s\",\n\"host\":", when);
    cg_cli_json_str(f, host);
    fprintf(f, ",\n\"tool\":\"canhgac %s\",\n\"store\":{\"directory\":", CG_VERSION);
    cg_cli_json_str(f, dir);
    fputs(",\"origin\":", f);
    cg_cli_json_str(f, x->head.origin);
    {
        cg_store_info si;
        if (cg_store_info_get(x->st, &si) == 0)
            fprintf(f, ",\"schema\":%u", si.schema);
    }
    fprintf(f, "},\n\"key_fingerprint\":\"%s\",\n\"checkpoint\":", x->keyfp);
    cg_cli_json_str(f, x->checkpoint);
    fprintf(f, ",\n\"tree\":{\"size\":%llu,\"root\":", (unsigned long long)x->head.size);
    json_hex(f, x->head.root);
    fprintf(f, "},\n\"redact_payload\":%s,\n", x->o->redact ? "true" : "false");
    if (x->o->redact)
        fputs("\"redacted\":\"payloads and HTTP request fields left out: evidence packets cut "
              "after their TCP, UDP or ICMP header; incidents without payload excerpt, HTTP "
              "method, host, URL, user agent and status; each proof's leaf_data withheld (the "
              "incident record it is holds them): the proofs show that the leaf hashes are in "
              "the store's tree, not what the records said\",\n",
              f);
    fprintf(f, "\"evidence\":{\"file\":%s,\"packets\":%zu},\n",
            x->has_evidence ? "\"evidence.pcapng\"" : "null", x->npk);
    fputs("\"rules\":{\"paths\":[", f);
    for (int i = 0; i < x->nrule_paths; i++) {
        if (i)
            putc(',', f);
        cg_cli_json_str(f, x->rule_paths[i]);
    }
    fprintf(f, "],\"found\":%u,\"not_found\":%u},\n\"pcap_dir\":", x->rules_found,
            x->rules_missing);
    if (x->o->pcap_dir)
        cg_cli_json_str(f, x->o->pcap_dir);
    else
        fputs("null", f);
    fputs(",\n\"flows\":[", f);
    for (size_t i = 0; i < x->nfl; i++) {
        const flowout *fo = &x->fl[i];
        char a[40], b[40];
        cg_cli_time_str(fo->first_us, a, sizeof a);
        cg_cli_time_str(fo->last_us, b, sizeof b);
        fprintf(f, "%s\n{\"flow_id\":%llu,\"incidents\":[", i ? "," : "",
                (unsigned long long)fo->flow_id);
        for (size_t k = 0; k < fo->nincidents; k++)
            fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)fo->incidents[k]);
        fprintf(f,
                "],\"from\":\"%s\",\"until\":\"%s\",\"file\":%s%s%s,\"ring_held\":\"%s\","
                "\"start\":\"%s\",\"packets\":%llu,\"bytes\":%llu,\"lost_packets\":%llu}",
                a, b, fo->file[0] ? "\"" : "", fo->file[0] ? fo->file : "null",
                fo->file[0] ? "\"" : "", ring_held(&fo->info), ring_start(fo->info.start),
                (unsigned long long)fo->info.packets, (unsigned long long)fo->info.bytes,
                (unsigned long long)fo->info.lost_packets);
    }
    fputs("\n],\n\"incidents\":[", f);
    for (size_t i = 0; i < x->np; i++) {
        const proof *p = &x->p[i];
        fprintf(f, "%s\n{\"id\":%llu,\"leaf_index\":%llu,\"leaf_hash\":", i ? "," : "",
                (unsigned long long)p->id, (unsigned long long)p->leaf);
        json_hex(f, p->hash);
        if (!x->o->redact) {
            fputs(",\"leaf_data\":\"", f);
            cg_cli_base64(f, p->data, p->len);
            putc('"', f);
        }
        fputs(",\"path\":[", f);
        for (unsigned k = 0; k < p->npath; k++) {
            if (k)
                putc(',', f);
            json_hex(f, p->path[k]);
        }
        fputs("]}", f);
    }
    fputs("\n],\n\"files\":[", f);
    for (size_t i = 0; i < nfiles; i++) {
        if (i)
            putc(',', f);
        cg_cli_json_str(f, files[i]);
    }
    fputs("]}\n", f);
    return xclose(x, f, CG_CASEFILE_CUSTODY);
}

/* ---- the manifest and its signature ------------------------------------------- */

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* MANIFEST.sha256 over files[0..n) (sorted), and its signature. */
static int write_manifest(ex *x, const char **files, size_t n)
{
    char path[PATH_MAX], hex[65];
    char *buf = NULL;
    size_t len = 0;
    uint8_t sha[32], sig[CG_KEY_SIG_LEN];
    FILE *m = open_memstream(&buf, &len);
    int rc = -1;

    if (!m)
        return nomem(x);
    for (size_t i = 0; i < n; i++) {
        if (path_in(x, files[i], path, sizeof path))
            goto out;
        if (cg_casefile_sha256_file(path, sha) != 0) {
            fail(x, CG_EXIT_FAIL, "%s: %s", path, strerror(errno));
            goto out;
        }
        cg_casefile_hex(sha, hex);
        fprintf(m, "%s  %s\n", hex, files[i]);
    }
    if (fclose(m) != 0) {
        m = NULL;
        nomem(x);
        goto out;
    }
    m = NULL;
    if (cg_key_sign(x->key, buf, len, sig) != 0) {
        fail(x, CG_EXIT_FAIL, "cannot sign the manifest");
        goto out;
    }
    if (cg_casefile_sha256(buf, len, sha) != 0) {
        nomem(x);
        goto out;
    }
    cg_casefile_hex(sha, x->manifest_hex);
    if (xwrite_bytes(x, CG_CASEFILE_MANIFEST, buf, len) ||
        xwrite_bytes(x, CG_CASEFILE_SIG, sig, sizeof sig))
        goto out;
    rc = 0;
out:
    if (m)
        fclose(m);
    free(buf);
    return rc;
}

/* ---- the archive ---------------------------------------------------------------- */

static int archive_fail(ex *x, struct archive *a, const char *path)
{
    int e = archive_errno(a);
    return fail(x, CG_EXIT_FAIL, "%s: %s", path,
                e > 0                         ? strerror(e)
                    : archive_error_string(a) ? archive_error_string(a)
                                              : "failed");
}

/* One entry of the archive: a directory (path NULL) or the file at path. */
static int archive_add(ex *x, struct archive *a, const char *name, const char *path, uint8_t *buf)
{
    struct archive_entry *e = archive_entry_new();
    struct stat sb;
    int in = -1, rc = -1;
    ssize_t got;

    if (!e)
        return nomem(x);
    archive_entry_set_pathname(e, name);
    archive_entry_set_mtime(e, (time_t)(x->now_us / 1000000u), 0);
    if (!path) {
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0750);
    } else {
        if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(in, &sb) != 0) {
            fail(x, CG_EXIT_FAIL, "%s: %s", path, strerror(errno));
            goto out;
        }
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0640);
        archive_entry_set_size(e, sb.st_size);
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) {
        archive_fail(x, a, x->tmpar);
        goto out;
    }
    if (path) {
        while ((got = read(in, buf, 1 << 16)) > 0)
            if (archive_write_data(a, buf, (size_t)got) != got) {
                archive_fail(x, a, x->tmpar);
                goto out;
            }
        if (got < 0) {
            fail(x, CG_EXIT_FAIL, "%s: %s", path, strerror(errno));
            goto out;
        }
    }
    rc = 0;
out:
    if (in >= 0)
        close(in);
    archive_entry_free(e);
    return rc;
}

/* The case directory x->tmp as one .tar.gz at x->tmpar, its files (sorted)
 * under x->top/, each directory before its files. */
static int write_archive(ex *x, const char **files, size_t n)
{
    struct archive *a = archive_write_new();
    char name[PATH_MAX + NAME_MAX + 16], path[PATH_MAX], dir[PATH_MAX] = "";
    uint8_t *buf = malloc(1 << 16);
    int fd = -1, rc = -1;

    if (!a || !buf) {
        nomem(x);
        goto out;
    }
    if ((fd = open(x->tmpar, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
        fail(x, CG_EXIT_FAIL, "%s: %s", x->tmpar, strerror(errno));
        goto out;
    }
    if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        archive_fail(x, a, x->tmpar);
        goto out;
    }
    snprintf(name, sizeof name, "%s/", x->top);
    if (archive_add(x, a, name, NULL, buf))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(files[i], '/');
        if (stopped(x))
            goto out;
        if (slash &&
            (strlen(dir) != (size_t)(slash - files[i]) ||
             strncmp(dir, files[i], (size_t)(slash - files[i])))) {
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - files[i]), files[i]);
            snprintf(name, sizeof name, "%s/%s/", x->top, dir);
            if (archive_add(x, a, name, NULL, buf))
                goto out;
        }
        snprintf(name, sizeof name, "%s/%s", x->top, files[i]);
        if (path_in(x, files[i], path, sizeof path) || archive_add(x, a, name, path, buf))
            goto out;
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        archive_fail(x, a, x->tmpar);
        goto out;
    }
    if (fsync(fd) != 0) {
        fail(x, CG_EXIT_FAIL, "%s: %s", x->tmpar, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (a)
        archive_write_free(a);
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = fail(x, CG_EXIT_FAIL, "%s: %s", x->tmpar, strerror(errno));
    free(buf);
    return rc;
}

/* ---- putting it in place ------------------------------------------------------- */

/* Renames from to to: without force never over something there
 * (RENAME_NOREPLACE); with force over a file, or swapping with a directory
 * there, which is then removed. 0 or -1 (kept). */
static int put_in_place(ex *x, const char *from, const char *to)
{
    struct stat sb;
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST && !x->o->force)
        return fail(x, CG_EXIT_INPUT, "%s: exists already (--force replaces it)", to);
    if (errno == EEXIST) {
        /* swapped in one step, whatever was there (a directory cannot be
         * renamed over), then the old one removed under the temporary name */
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE) != 0)
            return fail(x, CG_EXIT_FAIL, "%s: %s", to, strerror(errno));
        rm_tree(from);
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS)
        return fail(x, CG_EXIT_FAIL, "%s: %s", to, strerror(errno));
    /* a file system with no renameat2 flags: checked, then renamed (with
     * --force the old one removed first: not in one step there) */
    if (lstat(to, &sb) == 0) {
        if (!x->o->force)
            return fail(x, CG_EXIT_INPUT, "%s: exists already (--force replaces it)", to);
        rm_tree(to);
    }
    if (rename(from, to) != 0)
        return fail(x, CG_EXIT_FAIL, "%s: %s", to, strerror(errno));
    return 0;
}

static void parent_of(const char *path, char *out, size_t len)
{
    const char *s = strrchr(path, '/');
    if (!s)
        snprintf(out, len, ".");
    else if (s == path)
        snprintf(out, len, "/");
    else
        snprintf(out, len, "%.*s", (int)(s - path), path);
}

/* ---- the command ------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && !strcmp(s + a - b, suffix);
}

static int load_rules(ex *x)
{
    char err[1024];
    struct stat sb;
    int rc;

    for (int i = 0; i < x->o->nrules; i++)
        x->rule_paths[x->nrule_paths++] = x->o->rules[i];
    if (!x->nrule_paths && stat("rules", &sb) == 0 && S_ISDIR(sb.st_mode))
        x->rule_paths[x->nrule_paths++] = "rules"; /* what run reads by default */
    if (!x->nrule_paths)
        return 0;
    if (cg_ruleset_create(&x->rs) != 0)
        return nomem(x);
    rc = cg_cli_load_rules(x->rs, NULL, NULL, 0, NULL, x->rule_paths, x->nrule_paths, err,
                           sizeof err);
    if (rc == CG_ENOMEM)
        return nomem(x);
    if (rc)
        return fail(x, CG_EXIT_INPUT, "--rules: %s", err);
    return 0;
}

static int key_exit(int rc)
{
    return rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT;
}

static int export(ex *x)
{
    const opts *o = x->o;
    char keypath[PATH_MAX], err[1024], text[256], parent[PATH_MAX], what[64];
    const char **files = NULL;
    size_t nfiles = 0;
    struct stat sb;
    int rc;

    /* 1. the key, the output name, the rules */
    if (!o->keyfile) {
        if ((size_t)snprintf(keypath, sizeof keypath, "%s/soc-private.pem", o->store_dir) >=
            sizeof keypath)
            return fail(x, CG_EXIT_INPUT, "%s: path too long", o->store_dir);
    }
    rc = cg_key_load_private(&x->key, o->keyfile ? o->keyfile : keypath, err, sizeof err);
    if (rc)
        return fail(x, key_exit(rc), "%s", err);
    cg_key_fingerprint(x->key, x->keyfp);
    if (lstat(o->out, &sb) == 0 && !o->force)
        return fail(x, CG_EXIT_INPUT, "%s: exists already (--force replaces it)", o->out);
    x->archive = ends_with(o->out, ".tar.gz") || ends_with(o->out, ".tgz");
    {
        const char *base = strrchr(o->out, '/');
        base = base ? base + 1 : o->out;
        size_t bl = strlen(base) - (x->archive ? (ends_with(base, ".tgz") ? 4 : 7) : 0);
        if (bl == 0 || bl > NAME_MAX || !strcmp(base, ".") || !strcmp(base, ".."))
            return fail(x, CG_EXIT_INPUT, "%s: not a name for a case file", o->out);
        snprintf(x->top, sizeof x->top, "%.*s", (int)bl, base);
    }
    parent_of(o->out, parent, sizeof parent);
    if (stat(parent, &sb) != 0)
        return fail(x, CG_EXIT_INPUT, "%s: %s", parent, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return fail(x, CG_EXIT_INPUT, "%s: not a directory", parent);
    if ((size_t)snprintf(x->tmp, sizeof x->tmp, "%s.partial-%ld%s", o->out, (long)getpid(),
                         x->archive ? ".d" : "") >= sizeof x->tmp ||
        (size_t)snprintf(x->tmpar, sizeof x->tmpar, "%s.partial-%ld", o->out, (long)getpid()) >=
            sizeof x->tmpar)
        return fail(x, CG_EXIT_INPUT, "%s: path too long", o->out);
    if (load_rules(x))
        return -1;
    if (o->pcap_dir) {
        if (stat(o->pcap_dir, &sb) != 0)
            return fail(x, CG_EXIT_INPUT, "--pcap-dir %s: %s", o->pcap_dir, strerror(errno));
        rc = cg_pcapdir_reader_open(&x->ring, o->pcap_dir, err, sizeof err);
        if (rc)
            return fail(x, rc == CG_ENOMEM ? CG_EXIT_FAIL : CG_EXIT_INPUT, "%s", err);
    }

    /* 2. the case, its incidents, their proofs, the checkpoint */
    if (cg_store_open(&x->st, o->store_dir, CG_STORE_TRIAGE, 0) != 0)
        return fail(x, CG_EXIT_INPUT, "%s", cg_store_error(NULL));
    cg_cli_migrated_notice(CMD, o->store_dir, x->st);
    snprintf(what, sizeof what, "case %llu", (unsigned long long)o->id);
    if ((rc = cg_store_case_get(x->st, o->id, take_case, x)) != 0)
        return store_failed(x, rc, what);
    if (!x->title || !x->owner)
        return nomem(x);
    if ((rc = cg_store_case_incidents(x->st, o->id, take_id, x)) != 0)
        return store_failed(x, rc, what);
    if (x->nids == 0)
        return fail(x, CG_EXIT_INPUT, "case %llu has no incidents: nothing to export",
                    (unsigned long long)o->id);
    if (!(x->p = calloc(x->nids, sizeof *x->p)))
        return nomem(x);
    rc = cg_store_log_prove(x->st, &x->head, x->ids, x->nids, take_proof, x);
    if (rc || x->np != x->nids)
        return x->err[0]         ? -1
            : rc == CG_ENOTFOUND ? fail(x, CG_EXIT_FAIL, "%s", cg_store_error(x->st))
            : rc                 ? store_failed(x, rc, what)
                 : fail(x, CG_EXIT_FAIL, "%s: the log gave %zu proofs for %zu incidents",
                        o->store_dir, x->np, x->nids);
    if (check_leaves(x))
        return -1;
    rc = cg_checkpoint_format(x->head.origin, x->head.size, x->head.root, text, sizeof text);
    if (rc < 0 || cg_note_sign(x->key, x->head.origin, text, &x->checkpoint, &x->checkpoint_len))
        return fail(x, CG_EXIT_FAIL, "%s: cannot sign its tree head", o->store_dir);

    /* 3. the files (from here a signal stops the export cleanly) */
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }
    if (mkdir(x->tmp, 0750) != 0)
        return fail(x, errno == ENOENT ? CG_EXIT_INPUT : CG_EXIT_FAIL, "%s: %s", x->tmp,
                    strerror(errno));
    if (write_case_json(x) || write_csv(x) || write_pcapng(x) || write_rules(x) || write_flows(x))
        return -1;
    if (write_timeline(x))
        return -1;
    {
        char *pem = NULL;
        size_t plen = 0;
        if (cg_key_public_pem(x->key, &pem, &plen) != 0)
            return nomem(x);
        rc = xwrite_bytes(x, CG_CASEFILE_PUBKEY, pem, plen);
        free(pem);
        if (rc)
            return -1;
    }
    if (!(files = calloc(x->nfl + 16, sizeof *files)))
        return nomem(x);
    x->files = files;
    for (size_t i = 0; i < x->nfl; i++)
        if (x->fl[i].file[0])
            files[nfiles++] = x->fl[i].file;
    files[nfiles++] = CG_CASEFILE_CASE;
    files[nfiles++] = CG_CASEFILE_CUSTODY;
    if (x->has_evidence)
        files[nfiles++] = "evidence.pcapng";
    files[nfiles++] = "incidents.csv";
    files[nfiles++] = "rules.rules";
    files[nfiles++] = CG_CASEFILE_PUBKEY;
    files[nfiles++] = "timeline.html";
    qsort(files, nfiles, sizeof *files, str_cmp);
    {
        const char **all = calloc(nfiles + 2, sizeof *all);
        size_t na = 0;
        if (!all)
            return nomem(x);
        for (size_t i = 0; i < nfiles; i++)
            all[na++] = files[i];
        all[na++] = CG_CASEFILE_MANIFEST;
        all[na++] = CG_CASEFILE_SIG;
        qsort(all, na, sizeof *all, str_cmp);
        rc = write_custody(x, all, na);
        free(all);
        if (rc)
            return -1;
    }
    if (write_manifest(x, files, nfiles))
        return -1;
    if (sync_dir(x->tmp) != 0)
        return fail(x, CG_EXIT_FAIL, "%s: %s", x->tmp, strerror(errno));

    /* 4. the archive */
    if (x->archive) {
        files[nfiles++] = CG_CASEFILE_MANIFEST;
        files[nfiles++] = CG_CASEFILE_SIG;
        qsort(files, nfiles, sizeof *files, str_cmp);
        if (write_archive(x, files, nfiles))
            return -1;
        rm_tree(x->tmp);
        x->tmp[0] = 0;
    }

    if (stopped(x))
        return -1;
    /* 5. the case's history, then the one rename: an export the history
     * does not hold never exists (one it holds and that was then killed
     * before the rename is said by the entry after it, or by its absence
     * at the path it names) */
    char where[PATH_MAX];
    const char *base = strrchr(o->out, '/');
    base = base ? base + 1 : o->out;
    if (!realpath(parent, where) || strlen(where) + strlen(base) + 2 > sizeof where)
        snprintf(where, sizeof where, "%s", o->out);
    else
        snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s", where[1] ? "/" : "",
                 base);
    char *line = xasprintf(x, "exported to %s: %zu incidents, MANIFEST.sha256 SHA-256 %s%s", where,
                           x->np, x->manifest_hex, o->redact ? ", payloads redacted" : "");
    if (!line)
        return -1;
    rc = cg_store_case_exported(x->st, o->id, o->who, cg_cli_now_us(), line);
    free(line);
    if (rc)
        return fail(x, CG_EXIT_FAIL,
                    "%s (the case's history cannot take the export: nothing exported)",
                    cg_store_error(x->st));
    if (put_in_place(x, x->archive ? x->tmpar : x->tmp, o->out)) {
        line = xasprintf(x, "export to %s not completed: %s", where, x->err);
        if (line)
            cg_store_case_exported(x->st, o->id, o->who, cg_cli_now_us(), line);
        free(line);
        return -1;
    }
    x->tmp[0] = x->tmpar[0] = 0;
    sync_dir(parent);

    char flows[96] = "";
    if (x->ring) {
        size_t held = 0, whole = 0;
        for (size_t i = 0; i < x->nfl; i++) {
            held += x->fl[i].file[0] != 0;
            whole += !strcmp(ring_held(&x->fl[i].info), "all");
        }
        snprintf(flows, sizeof flows, ", %zu of %zu flows from the ring (%zu whole)", held, x->nfl,
                 whole);
    }
    fprintf(stderr,
            "%s: case %llu: %zu incidents, %zu evidence packets, %u of %u rules' text%s -> %s "
            "(MANIFEST.sha256 SHA-256 %s; checkpoint of %llu leaves)%s\n",
            CMD, (unsigned long long)o->id, x->np, x->npk, x->rules_found,
            x->rules_found + x->rules_missing, flows, o->out, x->manifest_hex,
            (unsigned long long)x->head.size, o->redact ? "; payloads redacted" : "");
    return 0;
}

static void ex_free(ex *x)
{
    if (x->tmp[0])
        rm_tree(x->tmp);
    if (x->tmpar[0])
        unlink(x->tmpar);
    for (size_t i = 0; i < x->np; i++) {
        free(x->p[i].data);
        free(x->p[i].path);
    }
    free(x->p);
    for (size_t i = 0; i < x->npk; i++)
        free(x->pk[i].data);
    free(x->pk);
    for (size_t i = 0; i < x->nev; i++) {
        free(x->ev[i].who);
        free(x->ev[i].text);
    }
    free(x->ev);
    free(x->fr);
    for (size_t i = 0; i < x->nfl; i++)
        free(x->fl[i].incidents);
    free(x->fl);
    free(x->files);
    cg_pcapdir_reader_close(x->ring);
    free(x->ids);
    free(x->title);
    free(x->owner);
    free(x->checkpoint);
    cg_ruleset_destroy(x->rs);
    cg_key_free(x->key);
    cg_store_close(x->st);
}

static int parse_id(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (!s || s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end || v == 0 || errno)
        return -1;
    *out = v;
    return 0;
}

int cg_case_cmd_export(int argc, char **argv)
{
    opts o;
    ex x;
    char whobuf[64];
    const char *idarg = NULL;
    int ret;

    memset(&o, 0, sizeof o);
    o.store_dir = cg_cli_default_store();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        size_t n = strcspn(a, "=");
#define OPT(name) (strlen(name) == n && !strncmp(a, name, n))
#define VALUE()                                                        \
    do {                                                               \
        if (a[n] == '=')                                               \
            v = a + n + 1;                                             \
        else if (i + 1 < argc)                                         \
            v = argv[++i];                                             \
        else {                                                         \
            fprintf(stderr, "%s: option needs a value: %s\n", CMD, a); \
            return CG_EXIT_INPUT;                                      \
        }                                                              \
    } while (0)
        if (a[0] != '-' || !a[1]) {
            if (idarg) {
                fprintf(stderr, "%s: one case ID only (%s, then %s)\n", CMD, idarg, a);
                return CG_EXIT_INPUT;
            }
            idarg = a;
        } else if (OPT("-h") || OPT("--help")) {
            fputs(export_usage, stdout);
            return CG_EXIT_OK;
        } else if (OPT("-o") || OPT("--output")) {
            VALUE();
            o.out = v;
        } else if (OPT("-d") || OPT("--store")) {
            VALUE();
            o.store_dir = v;
        } else if (OPT("--key")) {
            VALUE();
            o.keyfile = v;
        } else if (OPT("-S") || OPT("--rules")) {
            VALUE();
            if (o.nrules == MAX_RULE_PATHS) {
                fprintf(stderr, "%s: at most %d --rules\n", CMD, MAX_RULE_PATHS);
                return CG_EXIT_INPUT;
            }
            o.rules[o.nrules++] = v;
        } else if (OPT("--pcap-dir")) {
            VALUE();
            o.pcap_dir = v;
        } else if (OPT("--redact-payload")) {
            o.redact = 1;
        } else if (OPT("--force")) {
            o.force = 1;
        } else if (OPT("--as")) {
            VALUE();
            o.who = v;
        } else {
            fprintf(stderr, "%s: unknown option: %s (see canhgac case export --help)\n", CMD, a);
            return CG_EXIT_INPUT;
        }
#undef OPT
#undef VALUE
    }
    if (!idarg || parse_id(idarg, &o.id)) {
        fprintf(stderr, "%s: %s\n", CMD, idarg ? "not a case ID" : "a case ID is needed");
        return CG_EXIT_INPUT;
    }
    if (!o.out || !o.out[0]) {
        fprintf(stderr, "%s: -o DIR|FILE.tar.gz is needed (where to write the case)\n", CMD);
        return CG_EXIT_INPUT;
    }
    if (!o.who) {
        struct passwd *pw = getpwuid(geteuid());
        if (pw && pw->pw_name && pw->pw_name[0]) {
            o.who = pw->pw_name;
        } else {
            snprintf(whobuf, sizeof whobuf, "uid %u", (unsigned)geteuid());
            o.who = whobuf;
        }
    }
    if (!o.who[0] || strlen(o.who) > CG_STORE_TEXT_MAX) {
        fprintf(stderr, "%s: --as: a name of 1 to %d bytes\n", CMD, CG_STORE_TEXT_MAX);
        return CG_EXIT_INPUT;
    }
    /* a trailing '/' names the same directory */
    char out[PATH_MAX];
    size_t ol = strlen(o.out);
    if (ol >= sizeof out) {
        fprintf(stderr, "%s: %s: path too long\n", CMD, o.out);
        return CG_EXIT_INPUT;
    }
    memcpy(out, o.out, ol + 1);
    while (ol > 1 && out[ol - 1] == '/')
        out[--ol] = 0;
    o.out = out;

    memset(&x, 0, sizeof x);
    x.o = &o;
    x.now_us = cg_cli_now_us();
    ret = export(&x) == 0 ? CG_EXIT_OK : (x.code ? x.code : CG_EXIT_FAIL);
    if (ret != CG_EXIT_OK)
        fprintf(stderr, "%s: %s\n", CMD, x.err[0] ? x.err : "failed");
    ex_free(&x);
    return ret;
}
