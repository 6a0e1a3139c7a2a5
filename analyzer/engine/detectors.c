/* detectors.c — port scans, host sweeps, slow scans and DNS tunnelling by
 * host, across flows (see detectors.h for what each kind means).
 *
 * The table. `cap` entries, allocated at create, and a power-of-two array of
 * bucket heads (chained through entry.chain). Invariants:
 *  1. An entry is in use iff its kind is not E_FREE; entries [0, used) have
 *     been handed out, those past `used` never were.
 *  2. Every entry in use is in exactly one bucket chain (that of its hash)
 *     and in the LRU list (most recently touched at the head).
 *  3. A key (kind, src, key) is in the table at most once.
 *  4. count is the number of bits set in bits (sketch kinds) or the events
 *     of the window (dns_long, dns_types); it is reset with the window.
 * A new key takes an entry never used, else the LRU tail (invariant 2 keeps
 * that O(1)); a tail whose window is still open is counted as table_full.
 * Nothing here allocates after create.
 */
#include "analyzer/engine/detectors.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sensor/dns.h"
#include "sensor/extract.h"

/* entry kinds */
enum { E_FREE, E_SRC, E_VERT, E_HORIZ, E_DNS_LONG, E_DNS_NAMES, E_DNS_TYPES };

#define F_ALERTED 0x01 /* this window alerted (E_SRC: the slow scan) */
#define F_VERT 0x02    /* E_SRC: vert_us holds a vertical alert */
#define F_HORIZ 0x04   /* E_SRC: horiz_us holds a horizontal alert */
#define F_FIRST 0x08   /* first (and E_SRC: port) hold the window's first probe */
#define F_HOSTS 0x10   /* E_SRC: a second host was probed in the window */
#define F_PORTS 0x20   /* E_SRC: a second port was probed in the window */

#define WORDS (CG_DETECTORS_BITS / 64)
#define NONE 0u /* index + 1 links: 0 is the end */
#define US 1000000ull

typedef struct entry {
    uint32_t chain;      /* next in the bucket, index + 1 */
    uint32_t prev, next; /* LRU neighbours, index + 1 (prev: more recent) */
    uint32_t hash;
    uint8_t kind, flags;
    uint16_t count;
    uint8_t src[16];            /* the scanner or client */
    uint8_t key[16];            /* host (E_VERT), port (E_HORIZ), domain hash (DNS) */
    uint8_t first[16];          /* the window's first host (E_SRC, E_HORIZ) */
    uint16_t port;              /* E_SRC: the window's first port */
    uint64_t start_us;          /* the window's start */
    uint64_t vert_us, horiz_us; /* E_SRC: the last fast alerts (F_VERT, F_HORIZ) */
    uint64_t bits[WORDS];
} entry;

_Static_assert(sizeof(entry) == CG_DETECTORS_ENTRY_BYTES, "entry size as documented");

#define MAX_ALERTS 4

struct cg_detectors {
    cg_detectors_config c;
    entry *e;
    uint32_t *bucket; /* index + 1 of the chain's first entry */
    uint32_t mask;    /* buckets - 1 */
    uint32_t cap, used, live;
    uint32_t head, tail; /* LRU, index + 1 */
    uint64_t fast_us;    /* the longer fast window (slow scans wait it out) */
    int scans, dns;      /* some scan kind, some DNS kind is on */
    cg_rule rules[CG_DET_KINDS];
    cg_kv meta[CG_DET_KINDS];
    char *desc[CG_DET_KINDS];
    cg_det_alert al[MAX_ALERTS];
    cg_packet pk[MAX_ALERTS];
    uint32_t nal;
    cg_detectors_stats st;
};

/* ---- what each kind is ---------------------------------------------------- */

static const struct kind_info {
    const char *name; /* in the file */
    const char *what; /* of the threshold, for messages */
    uint32_t gid, sid;
    const char *msg, *classtype;
    uint8_t sev;                /* when the classtype is not defined */
    uint8_t proto;              /* CG_RP_* */
    uint32_t window, threshold; /* defaults */
    uint32_t tmin, tmax;        /* the threshold's range */
} KINDS[CG_DET_KINDS] = {
    [CG_DET_VERTICAL] = { "port_scan", "ports", 122, 1, "CANHGAC SCAN TCP port scan (vertical)",
                          "attempted-recon", 2, CG_RP_TCP, 60, 25, 2, CG_DETECTORS_MAX_DISTINCT },
    [CG_DET_HORIZONTAL] = { "host_sweep", "hosts", 122, 3,
                            "CANHGAC SCAN TCP host sweep (horizontal)", "attempted-recon", 2,
                            CG_RP_TCP, 60, 25, 2, CG_DETECTORS_MAX_DISTINCT },
    [CG_DET_SLOW] = { "slow_scan", "probes", 122, 100, "CANHGAC SCAN TCP slow port scan",
                      "attempted-recon", 2, CG_RP_TCP, 1800, 40, 2, CG_DETECTORS_MAX_DISTINCT },
    [CG_DET_DNS_LONG] = { "dns_long", "queries", 9100, 201,
                          "CANHGAC DNS tunnelling: long or high-entropy labels", "policy-violation",
                          2, CG_RP_DNS, 300, 10, 1, 65535 },
    [CG_DET_DNS_NAMES] = { "dns_names", "names", 9100, 202,
                           "CANHGAC DNS tunnelling: many distinct names under one domain",
                           "policy-violation", 2, CG_RP_DNS, 300, 100, 2,
                           CG_DETECTORS_MAX_DISTINCT },
    [CG_DET_DNS_TYPES] = { "dns_types", "queries", 9100, 203,
                           "CANHGAC DNS tunnelling: TXT/NULL/CNAME volume", "trojan-activity", 1,
                           CG_RP_DNS, 300, 50, 1, 65535 },
};

const char *cg_detectors_kind_name(int kind)
{
    return kind >= 0 && kind < CG_DET_KINDS ? KINDS[kind].name : "?";
}

void cg_detectors_defaults(cg_detectors_config *c)
{
    memset(c, 0, sizeof *c);
    for (int k = 0; k < CG_DET_KINDS; k++) {
        c->enabled[k] = 1;
        c->window_s[k] = KINDS[k].window;
        c->threshold[k] = KINDS[k].threshold;
    }
    c->table_size = 65536;
    c->dns_label = 40;
    c->dns_entropy_length = 24;
    c->dns_entropy = 4.0;
    c->dns_names_min = 8;
}

/* ---- the file ------------------------------------------------------------- */

enum { V_ENABLED, V_WINDOW, V_THRESHOLD, V_TABLE, V_LABEL, V_ENT_LEN, V_ENTROPY, V_NAMES_MIN };

/* One setting: NAME value. 0, or -1 with "why" in why. */
static int set_one(cg_detectors_config *c, const char *name, const char *val, char *why, size_t wl)
{
    int kind = -1, what = -1;
    const char *dot = strchr(name, '.');
    if (!strcmp(name, "table_size")) {
        what = V_TABLE;
    } else if (dot) {
        for (int k = 0; k < CG_DET_KINDS; k++)
            if (strlen(KINDS[k].name) == (size_t)(dot - name) &&
                !strncmp(name, KINDS[k].name, (size_t)(dot - name)))
                kind = k;
        const char *f = dot + 1;
        if (kind < 0)
            what = -1;
        else if (!strcmp(f, "enabled"))
            what = V_ENABLED;
        else if (!strcmp(f, "window"))
            what = V_WINDOW;
        else if (!strcmp(f, KINDS[kind].what))
            what = V_THRESHOLD;
        else if (kind == CG_DET_DNS_LONG && !strcmp(f, "label"))
            what = V_LABEL;
        else if (kind == CG_DET_DNS_LONG && !strcmp(f, "entropy"))
            what = V_ENTROPY;
        else if (kind == CG_DET_DNS_LONG && !strcmp(f, "entropy_length"))
            what = V_ENT_LEN;
        else if (kind == CG_DET_DNS_NAMES && !strcmp(f, "min_length"))
            what = V_NAMES_MIN;
    }
    if (what < 0) {
        snprintf(why, wl, "unknown setting '%.100s'", name);
        return -1;
    }
    if (what == V_ENABLED) {
        if (!strcasecmp(val, "yes"))
            c->enabled[kind] = 1;
        else if (!strcasecmp(val, "no"))
            c->enabled[kind] = 0;
        else {
            snprintf(why, wl, "%.100s: '%.100s' is not yes or no", name, val);
            return -1;
        }
        return 0;
    }
    char *end;
    errno = 0;
    if (what == V_ENTROPY) {
        double v = strtod(val, &end);
        if (end == val || *end || errno || !isfinite(v)) {
            snprintf(why, wl, "%.100s: '%.100s' is not a number", name, val);
            return -1;
        }
        if (v < 1.0 || v > 8.0) {
            snprintf(why, wl, "%.100s: %.100s is out of range (1.0 to 8.0 bits per character)",
                     name, val);
            return -1;
        }
        c->dns_entropy = v;
        return 0;
    }
    long long v = strtoll(val, &end, 10);
    if (end == val || *end || errno == ERANGE) {
        snprintf(why, wl, "%.100s: '%.100s' is not a number", name, val);
        return -1;
    }
    long long lo = 0, hi = 0;
    const char *unit = "";
    uint32_t *dst = NULL;
    switch (what) {
    case V_WINDOW:
        lo = 1;
        hi = 86400;
        unit = " seconds";
        dst = &c->window_s[kind];
        break;
    case V_THRESHOLD:
        lo = KINDS[kind].tmin;
        hi = KINDS[kind].tmax;
        unit = kind == CG_DET_VERTICAL  ? " ports"
            : kind == CG_DET_HORIZONTAL ? " hosts"
            : kind == CG_DET_SLOW       ? " host:port pairs"
            : kind == CG_DET_DNS_NAMES  ? " names"
                                        : " queries";
        dst = &c->threshold[kind];
        break;
    case V_TABLE:
        lo = 16;
        hi = 1 << 24;
        unit = " entries";
        dst = &c->table_size;
        break;
    case V_LABEL:
        lo = 10;
        hi = 63;
        unit = " characters";
        dst = &c->dns_label;
        break;
    case V_ENT_LEN:
        lo = 8;
        hi = 253;
        unit = " characters";
        dst = &c->dns_entropy_length;
        break;
    default:
        lo = 0;
        hi = 253;
        unit = " characters";
        dst = &c->dns_names_min;
        break;
    }
    if (v < lo || v > hi) {
        snprintf(why, wl, "%.100s: %lld is out of range (%lld to %lld%s)", name, v, lo, hi, unit);
        return -1;
    }
    *dst = (uint32_t)v;
    return 0;
}

int cg_detectors_config_load(cg_detectors_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    cg_detectors_config n = *c;
    char line[1024], why[512];
    uint32_t lineno = 0;
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            goto out;
        }
        /* a comment starts at '#' at the start or after white space */
        for (char *h = line; (h = strchr(h, '#')); h++)
            if (h == line || isspace((unsigned char)h[-1])) {
                *h = '\0';
                break;
            }
        char *name = line;
        while (isspace((unsigned char)*name))
            name++;
        if (!*name)
            continue;
        char *val = name;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val)
            *val++ = '\0';
        while (isspace((unsigned char)*val))
            val++;
        char *e = val + strlen(val);
        while (e > val && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (!*val) {
            snprintf(err, errlen, "%s:%u: %s: no value", path, lineno, name);
            goto out;
        }
        if (strchr(val, ' ') || strchr(val, '\t')) {
            snprintf(err, errlen, "%s:%u: %s: one value expected, not '%s'", path, lineno, name,
                     val);
            goto out;
        }
        if (set_one(&n, name, val, why, sizeof why)) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        goto out;
    }
    *c = n;
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* ---- lifecycle ------------------------------------------------------------- */

int cg_detectors_create(cg_detectors **out, const cg_detectors_config *cfg, const cg_ruleset *rs,
                        char *err, size_t errlen)
{
    cg_detectors *d = calloc(1, sizeof *d);
    if (!d)
        goto oom;
    if (cfg)
        d->c = *cfg;
    else
        cg_detectors_defaults(&d->c);
    if (d->c.table_size < 16 || d->c.table_size > (1u << 24)) {
        snprintf(err, errlen, "detectors: table_size %u is out of range (16 to 16777216)",
                 d->c.table_size);
        goto fail;
    }
    for (int k = 0; k < CG_DET_KINDS; k++) {
        if (d->c.window_s[k] < 1 || d->c.window_s[k] > 86400 || d->c.threshold[k] < KINDS[k].tmin ||
            d->c.threshold[k] > KINDS[k].tmax) {
            snprintf(err, errlen, "detectors: %s window or threshold out of range", KINDS[k].name);
            goto fail;
        }
    }
    d->cap = d->c.table_size;
    uint32_t nb = 16;
    while (nb < d->cap)
        nb <<= 1;
    d->mask = nb - 1;
    d->e = calloc(d->cap, sizeof *d->e);
    d->bucket = calloc(nb, sizeof *d->bucket);
    if (!d->e || !d->bucket)
        goto oom;
    const uint8_t *en = d->c.enabled;
    d->scans = en[CG_DET_VERTICAL] || en[CG_DET_HORIZONTAL] || en[CG_DET_SLOW];
    d->dns = en[CG_DET_DNS_LONG] || en[CG_DET_DNS_NAMES] || en[CG_DET_DNS_TYPES];
    uint32_t fw = d->c.window_s[CG_DET_VERTICAL] > d->c.window_s[CG_DET_HORIZONTAL]
        ? d->c.window_s[CG_DET_VERTICAL]
        : d->c.window_s[CG_DET_HORIZONTAL];
    d->fast_us = (uint64_t)fw * US;

    for (int k = 0; k < CG_DET_KINDS; k++) {
        cg_rule *r = &d->rules[k];
        const struct kind_info *ki = &KINDS[k];
        r->file = "detectors";
        r->action = CG_ACT_ALERT;
        r->proto = ki->proto;
        r->ip_proto = ki->proto == CG_RP_TCP ? 6 : 0;
        r->app_proto = ki->proto == CG_RP_DNS ? CG_APP_DNS : CG_APP_NONE;
        r->gid = ki->gid;
        r->sid = ki->sid;
        r->rev = 1;
        r->msg = (char *)ki->msg;
        r->classtype = (char *)ki->classtype;
        r->severity = ki->sev;
        const char *desc = NULL;
        uint8_t prio = 0;
        if (rs && cg_ruleset_class(rs, ki->classtype, &desc, &prio) == 0) {
            if (!(d->desc[k] = strdup(desc)))
                goto oom;
            r->class_desc = d->desc[k];
            r->severity = prio < 1 ? 1 : prio > 4 ? 4 : prio;
        }
        r->layers = (uint8_t)(CG_LAYER(1) | CG_LAYER(2));
        d->meta[k].key = (char *)"detector";
        d->meta[k].value = (char *)ki->name;
        r->meta = &d->meta[k];
        r->nmeta = 1;
        r->fp = -1;
        r->packet_ok = 1;
    }
    d->st.capacity = d->cap;
    d->st.mem_bytes = (uint64_t)d->cap * sizeof *d->e + (uint64_t)nb * sizeof *d->bucket;
    *out = d;
    return 0;
oom:
    snprintf(err, errlen, "detectors: out of memory");
fail:
    cg_detectors_destroy(d);
    return -1;
}

void cg_detectors_destroy(cg_detectors *d)
{
    if (!d)
        return;
    for (int k = 0; k < CG_DET_KINDS; k++)
        free(d->desc[k]);
    free(d->e);
    free(d->bucket);
    free(d);
}

const cg_rule *cg_detectors_rule(const cg_detectors *d, int kind)
{
    return d && kind >= 0 && kind < CG_DET_KINDS ? &d->rules[kind] : NULL;
}

int cg_detectors_want_dns(const cg_detectors *d)
{
    return d && d->dns;
}

void cg_detectors_get_stats(const cg_detectors *d, cg_detectors_stats *out)
{
    *out = d->st;
    out->tracked = d->live;
}

/* ---- the table --------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t key_hash(uint8_t kind, const uint8_t src[16], const uint8_t key[16])
{
    uint64_t h = mix64(load64(src) ^ kind * 0x9e3779b97f4a7c15ull);
    h = mix64(h ^ load64(src + 8));
    h = mix64(h ^ load64(key));
    return mix64(h ^ load64(key + 8));
}

/* Sets the bit of value hash v; 1 when it was not set (count it). */
static inline int sketch_add(entry *e, uint64_t v)
{
    uint32_t b = (uint32_t)(mix64(v) >> 54); /* 10 bits: 0..1023 */
    uint64_t m = 1ull << (b & 63);
    if (e->bits[b >> 6] & m)
        return 0;
    e->bits[b >> 6] |= m;
    return 1;
}

static uint64_t window_us(const cg_detectors *d, uint8_t kind)
{
    static const int8_t k_of[] = { -1,
                                   CG_DET_SLOW,
                                   CG_DET_VERTICAL,
                                   CG_DET_HORIZONTAL,
                                   CG_DET_DNS_LONG,
                                   CG_DET_DNS_NAMES,
                                   CG_DET_DNS_TYPES };
    return (uint64_t)d->c.window_s[k_of[kind]] * US;
}

static void lru_unlink(cg_detectors *d, uint32_t i)
{
    entry *e = &d->e[i];
    if (e->prev)
        d->e[e->prev - 1].next = e->next;
    else
        d->head = e->next;
    if (e->next)
        d->e[e->next - 1].prev = e->prev;
    else
        d->tail = e->prev;
    e->prev = e->next = NONE;
}

static void lru_push(cg_detectors *d, uint32_t i)
{
    entry *e = &d->e[i];
    e->prev = NONE;
    e->next = d->head;
    if (d->head)
        d->e[d->head - 1].prev = i + 1;
    d->head = i + 1;
    if (!d->tail)
        d->tail = i + 1;
}

static void chain_unlink(cg_detectors *d, uint32_t i)
{
    uint32_t *pp = &d->bucket[d->e[i].hash & d->mask];
    while (*pp != i + 1)
        pp = &d->e[*pp - 1].chain;
    *pp = d->e[i].chain;
}

static void window_reset(entry *e, uint64_t ts)
{
    e->start_us = ts;
    e->count = 0;
    e->flags &= (uint8_t)(F_VERT | F_HORIZ); /* the fast alerts' times outlive it */
    memset(e->bits, 0, sizeof e->bits);
}

/* The entry of (kind, src, key) at time ts, its window current (a window
 * that ended starts anew at ts); made when missing. Touched (LRU head). */
static entry *touch(cg_detectors *d, uint8_t kind, const uint8_t src[16], const uint8_t key[16],
                    uint64_t ts)
{
    uint64_t h64 = key_hash(kind, src, key);
    uint32_t h = (uint32_t)h64;
    uint32_t i = d->bucket[h & d->mask];
    while (i) {
        entry *e = &d->e[i - 1];
        if (e->hash == h && e->kind == kind && !memcmp(e->src, src, 16) && !memcmp(e->key, key, 16))
            break;
        i = e->chain;
    }
    if (i) {
        entry *e = &d->e[--i];
        if (ts >= e->start_us && ts - e->start_us >= window_us(d, kind))
            window_reset(e, ts);
        if (d->head != i + 1) {
            lru_unlink(d, i);
            lru_push(d, i);
        }
        return e;
    }
    if (d->used < d->cap) {
        i = d->used++;
        d->live++;
    } else {
        i = d->tail - 1;
        entry *old = &d->e[i];
        if (ts < old->start_us || ts - old->start_us < window_us(d, old->kind))
            d->st.table_full++;
        lru_unlink(d, i);
        chain_unlink(d, i);
    }
    entry *e = &d->e[i];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->hash = h;
    memcpy(e->src, src, 16);
    memcpy(e->key, key, 16);
    e->start_us = ts;
    e->chain = d->bucket[h & d->mask];
    d->bucket[h & d->mask] = i + 1;
    lru_push(d, i);
    return e;
}

/* ---- alerts -------------------------------------------------------------- */

/* An alert of kind with packet p (NULL: one of d's, from src to dst, with
 * the destination port dport when has_port). */
static void emit(cg_detectors *d, int kind, const cg_packet *p, const cg_packet *cur,
                 const uint8_t src[16], const uint8_t dst[16], int has_port, uint16_t dport,
                 uint64_t ts)
{
    if (d->nal == MAX_ALERTS)
        return;
    cg_det_alert *a = &d->al[d->nal];
    if (!p) {
        cg_packet *s = &d->pk[d->nal];
        memset(s, 0, sizeof *s);
        s->ts_us = ts;
        s->ipver = cg_addr_is_v4(src) ? 4 : 6;
        s->proto = 6;
        memcpy(s->src, src, 16);
        memcpy(s->dst, dst, 16);
        if (has_port) {
            s->flags = CG_PKT_HAS_PORTS;
            s->dport = dport;
        }
        if (cur && cur->frame) { /* the packet at hand is the evidence */
            s->frame = cur->frame;
            s->caplen = cur->caplen;
            s->wirelen = cur->wirelen;
            s->dlt = cur->dlt;
        }
        p = s;
    }
    a->rule = &d->rules[kind];
    a->pkt = p;
    d->nal++;
    d->st.alerts[kind]++;
}

/* ---- scans ------------------------------------------------------------------ */

/* One attempt of src to dst:port that did not complete a handshake, at ts;
 * cur is the packet at hand (NULL at a flow's end). */
static void evidence(cg_detectors *d, const uint8_t src[16], const uint8_t dst[16], uint16_t port,
                     uint64_t ts, const cg_packet *cur)
{
    const uint8_t *en = d->c.enabled;
    uint8_t pk[16] = { 0 };
    pk[0] = (uint8_t)(port >> 8);
    pk[1] = (uint8_t)port;
    static const uint8_t zero[16];
    entry *s = touch(d, E_SRC, src, zero, ts);
    /* a source's first probe of the window; then whether it tried a second
     * host, a second port: only then are its hosts (ports) tracked per port
     * (host), so that scanning one host takes no entry per port, sweeping
     * one port none per host. The first probe is carried over to the entry
     * made when it matches. */
    int new_hosts = 0, new_ports = 0;
    if (!(s->flags & F_FIRST)) {
        memcpy(s->first, dst, 16);
        s->port = port;
        s->flags |= F_FIRST;
    } else {
        if (!(s->flags & F_HOSTS) && memcmp(s->first, dst, 16))
            s->flags |= F_HOSTS, new_hosts = 1;
        if (!(s->flags & F_PORTS) && s->port != port)
            s->flags |= F_PORTS, new_ports = 1;
    }
    if (en[CG_DET_SLOW] && sketch_add(s, load64(dst) ^ mix64(load64(dst + 8) ^ port)))
        s->count++;
    if (en[CG_DET_VERTICAL] && (s->flags & F_PORTS)) {
        entry *v = touch(d, E_VERT, src, dst, ts);
        uint64_t win = window_us(d, E_VERT);
        if (new_ports && !memcmp(s->first, dst, 16) && sketch_add(v, s->port))
            v->count++;
        if (sketch_add(v, port))
            v->count++;
        if (v->count >= d->c.threshold[CG_DET_VERTICAL] && !(v->flags & F_ALERTED) &&
            (!(s->flags & F_VERT) || ts < s->vert_us || ts - s->vert_us >= win)) {
            v->flags |= F_ALERTED;
            s->flags |= F_VERT;
            s->vert_us = ts;
            emit(d, CG_DET_VERTICAL, NULL, cur, src, dst, 0, 0, ts);
        }
    }
    if (en[CG_DET_HORIZONTAL] && (s->flags & F_HOSTS)) {
        entry *h = touch(d, E_HORIZ, src, pk, ts);
        uint64_t win = window_us(d, E_HORIZ);
        if (new_hosts && s->port == port) {
            memcpy(h->first, s->first, 16);
            h->flags |= F_FIRST;
            if (sketch_add(h, load64(s->first) ^ mix64(load64(s->first + 8))))
                h->count++;
        }
        if (!(h->flags & F_FIRST)) {
            memcpy(h->first, dst, 16);
            h->flags |= F_FIRST;
        }
        if (sketch_add(h, load64(dst) ^ mix64(load64(dst + 8))))
            h->count++;
        if (h->count >= d->c.threshold[CG_DET_HORIZONTAL] && !(h->flags & F_ALERTED) &&
            (!(s->flags & F_HORIZ) || ts < s->horiz_us || ts - s->horiz_us >= win)) {
            h->flags |= F_ALERTED;
            s->flags |= F_HORIZ;
            s->horiz_us = ts;
            emit(d, CG_DET_HORIZONTAL, NULL, cur, src, h->first, 1, port, ts);
        }
    }
    /* slow: enough probes, spread over more than the fast windows, and no
     * fast alert since the slow window began */
    if (en[CG_DET_SLOW] && s->count >= d->c.threshold[CG_DET_SLOW] && !(s->flags & F_ALERTED) &&
        ts >= s->start_us && ts - s->start_us >= d->fast_us &&
        !((s->flags & F_VERT) && s->vert_us >= s->start_us) &&
        !((s->flags & F_HORIZ) && s->horiz_us >= s->start_us)) {
        s->flags |= F_ALERTED;
        emit(d, CG_DET_SLOW, NULL, cur, src, s->first, 0, 0, ts);
    }
}

int cg_detectors_packet_counts(const cg_detectors *d, const cg_packet *p, const cg_flow *f)
{
    if (!d->scans || !f || p->proto != 6 || !(p->flags & CG_PKT_HAS_PORTS))
        return 0;
    uint8_t fl = p->tcp_flags;
    return !(fl & (CG_TH_SYN | CG_TH_ACK | CG_TH_RST)) ||
        ((fl & CG_TH_RST) && !f->midstream && !cg_flow_established(f));
}

int cg_detectors_flow_end_counts(const cg_detectors *d, const cg_flow *f)
{
    return d->scans && f->proto == 6 && !f->midstream && !cg_flow_established(f) &&
        f->tcp_state != CG_TCP_CLOSED && f->tcp_state != CG_TCP_NONE;
}

int cg_detectors_dns_counts(const cg_detectors *d, const uint8_t *msg, uint32_t len)
{
    return d->dns && len >= CG_DNS_HEADER && !(msg[2] & 0x80);
}

uint32_t cg_detectors_packet(cg_detectors *d, const cg_packet *p, const cg_flow *f, int to_server,
                             const cg_det_alert **out)
{
    d->nal = 0;
    *out = d->al;
    if (!d->scans || !f || p->proto != 6 || !(p->flags & CG_PKT_HAS_PORTS))
        return 0;
    uint8_t fl = p->tcp_flags;
    if (!(fl & (CG_TH_SYN | CG_TH_ACK | CG_TH_RST))) {
        /* NULL, FIN, Xmas: no TCP stack sends these */
        d->st.stealth++;
        evidence(d, p->src, p->dst, p->dport, p->ts_us, p);
        return d->nal;
    }
    if (!(fl & CG_TH_RST) || f->midstream || cg_flow_established(f))
        return 0;
    /* a RST before the handshake completed: the server refusing, or the
     * client dropping a half-open connection */
    if (to_server)
        d->st.half_open++;
    else
        d->st.refused++;
    evidence(d, f->cli, f->srv, f->sport, p->ts_us, p);
    return d->nal;
}

uint32_t cg_detectors_flow_end(cg_detectors *d, const cg_flow *f, const cg_det_alert **out)
{
    d->nal = 0;
    *out = d->al;
    if (!d->scans || f->proto != 6 || f->midstream || cg_flow_established(f) ||
        f->tcp_state == CG_TCP_CLOSED || f->tcp_state == CG_TCP_NONE)
        return 0;
    d->st.unanswered++;
    evidence(d, f->cli, f->srv, f->sport, f->first_us, NULL);
    return d->nal;
}

/* ---- DNS ------------------------------------------------------------------------ */

/* The first question's QTYPE of a message (its name is walked, not read),
 * or -1 when it is not all there. */
static int first_qtype(const uint8_t *m, uint32_t len)
{
    uint32_t off = CG_DNS_HEADER;
    for (;;) {
        if (off >= len)
            return -1;
        uint8_t l = m[off];
        if (l == 0) {
            off++;
            break;
        }
        if ((l & 0xc0) == 0xc0) {
            off += 2;
            break;
        }
        if (l > 63)
            return -1;
        off += 1u + l;
    }
    return off + 2 <= len ? cg_be16(m + off) : -1;
}

/* The well-known second levels under a country's code (detectors.h). */
static int public_second(const char *s, size_t n)
{
    static const char *const sl[] = { "com", "net", "org",  "edu", "gov",  "ac",     "co",
                                      "int", "mil", "info", "biz", "name", "health", "pro" };
    for (size_t i = 0; i < sizeof sl / sizeof sl[0]; i++)
        if (strlen(sl[i]) == n && !memcmp(sl[i], s, n))
            return 1;
    return 0;
}

static uint64_t bytes_hash(const char *s, size_t n)
{
    uint64_t h = 0x84222325cbf29ce4ull ^ n;
    while (n >= 8) {
        h = mix64(h ^ load64((const uint8_t *)s));
        s += 8;
        n -= 8;
    }
    uint64_t t = 0;
    memcpy(&t, s, n);
    return mix64(h ^ t);
}

/* Shannon entropy, bits per character, of s[0..n) with the dots left out. */
static double entropy(const char *s, size_t n, size_t *chars)
{
    uint16_t cnt[256];
    uint8_t seen[256];
    uint32_t nseen = 0, total = 0;
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '.')
            continue;
        if (!cnt[c]++)
            seen[nseen++] = c;
        total++;
    }
    *chars = total;
    double h = 0;
    for (uint32_t i = 0; i < nseen; i++) {
        double q = (double)cnt[seen[i]] / total;
        h -= q * log2(q);
    }
    return h;
}

uint32_t cg_detectors_dns(cg_detectors *d, const cg_packet *p, const uint8_t *msg, uint32_t len,
                          const cg_bufset *bs, const cg_det_alert **out)
{
    d->nal = 0;
    *out = d->al;
    if (!d->dns || len < CG_DNS_HEADER || (msg[2] & 0x80) || !bs ||
        !(bs->present & (1ull << CG_BUF_DNS_QUERY)) || bs->n[CG_BUF_DNS_QUERY] == 0)
        return 0;
    const cg_bufview *v = &bs->v[CG_BUF_DNS_QUERY][0];
    if (v->len == 0 || v->len > 255)
        return 0;
    int qtype = first_qtype(msg, len);
    d->st.dns_queries++;
    char name[256];
    size_t n = v->len;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)(v->p[i] >= 'A' && v->p[i] <= 'Z' ? v->p[i] + 32 : v->p[i]);
    /* the registered domain: the last two labels, or three under a public
     * second level of a country */
    size_t dots[3] = { n, n, n }; /* the last three dots, from the end */
    int nd = 0;
    for (size_t i = n; i-- > 0 && nd < 3;)
        if (name[i] == '.')
            dots[nd++] = i;
    size_t dom = 0; /* where the domain starts */
    if (nd >= 2) {
        dom = dots[1] + 1;
        size_t tld = n - dots[0] - 1, sl = dots[0] - dots[1] - 1;
        if (tld == 2 && public_second(name + dots[1] + 1, sl))
            dom = nd >= 3 ? dots[2] + 1 : 0;
    }
    size_t sub = dom ? dom - 1 : 0; /* the subdomain: name[0..sub) */
    uint8_t key[16] = { 0 };
    uint64_t dh = bytes_hash(name + dom, n - dom);
    memcpy(key, &dh, 8);
    uint64_t ts = p->ts_us;
    const uint8_t *cli = p->src;
    const uint8_t *en = d->c.enabled;

    if (en[CG_DET_DNS_LONG] && sub > 0) {
        int hit = 0;
        size_t run = 0;
        for (size_t i = 0; i <= sub && !hit; i++) {
            if (i == sub || name[i] == '.') {
                hit = run >= d->c.dns_label;
                run = 0;
            } else {
                run++;
            }
        }
        if (!hit && sub >= d->c.dns_entropy_length) {
            size_t chars;
            double h = entropy(name, sub, &chars);
            hit = chars >= d->c.dns_entropy_length && h >= d->c.dns_entropy;
        }
        if (hit) {
            d->st.dns_long++;
            entry *e = touch(d, E_DNS_LONG, cli, key, ts);
            if (e->count < UINT16_MAX)
                e->count++;
            if (e->count >= d->c.threshold[CG_DET_DNS_LONG] && !(e->flags & F_ALERTED)) {
                e->flags |= F_ALERTED;
                emit(d, CG_DET_DNS_LONG, p, NULL, NULL, NULL, 0, 0, ts);
            }
        }
    }
    if (en[CG_DET_DNS_NAMES] && sub >= d->c.dns_names_min) {
        entry *e = touch(d, E_DNS_NAMES, cli, key, ts);
        if (sketch_add(e, bytes_hash(name, n)))
            e->count++;
        if (e->count >= d->c.threshold[CG_DET_DNS_NAMES] && !(e->flags & F_ALERTED)) {
            e->flags |= F_ALERTED;
            emit(d, CG_DET_DNS_NAMES, p, NULL, NULL, NULL, 0, 0, ts);
        }
    }
    if (en[CG_DET_DNS_TYPES] && (qtype == 16 || qtype == 10 || qtype == 5)) {
        d->st.dns_types++;
        entry *e = touch(d, E_DNS_TYPES, cli, key, ts);
        if (e->count < UINT16_MAX)
            e->count++;
        if (e->count >= d->c.threshold[CG_DET_DNS_TYPES] && !(e->flags & F_ALERTED)) {
            e->flags |= F_ALERTED;
            emit(d, CG_DET_DNS_TYPES, p, NULL, NULL, NULL, 0, 0, ts);
        }
    }
    return d->nal;
}
