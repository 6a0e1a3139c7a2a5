/* stix_bundle.c — the objects of a `canhgac share` bundle (stix_bundle.h):
 * the head (identity, TLP marking, canhgac's extension definition) and, per
 * incident, its observables, indicators, incident, observed-data,
 * sightings and relationships, each written as one JSON line (json-c) as it
 * is built. Specs and invariants: stix_bundle.h.
 */
#include "tools/stix_bundle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/lang/rule.h"
#include "analyzer/output/policy.h"
#include "analyzer/output/utf8.h"
#include "tools/cli.h"
#include "tools/stix.h"

#define COUNT_MAX 999999999u
#define INCIDENT_CORE_EXT "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
#define EXT_ID CG_STIX_EXT_ID
#define EXT_VERSION "1.0"
#define FIXED_CREATED "2026-12-01T00:00:00.000Z" /* the identity's and extension's */

/* The namespace of canhgac's own deterministic ids (invariant 2). */
static const uint8_t NS[16] = { 0x7d, 0x32, 0x3d, 0x0f, 0xc1, 0xef, 0x43, 0xa0,
                                0xbb, 0xa7, 0x54, 0x73, 0x2c, 0x4c, 0xe8, 0xb8 };

/* ---- a set of strings (ids already in the bundle) --------------------------- */

typedef struct cg_stix_seen {
    char **v;
    size_t cap, n;
} sset;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* 1 when s was added, 0 when it was there, -1 out of memory. */
static int sset_add(sset *t, const char *s)
{
    if (t->n * 2 >= t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 1024;
        char **nv = calloc(nc, sizeof *nv);
        if (!nv)
            return -1;
        for (size_t i = 0; i < t->cap; i++)
            if (t->v[i]) {
                size_t j = hash_str(t->v[i]) & (nc - 1);
                while (nv[j])
                    j = (j + 1) & (nc - 1);
                nv[j] = t->v[i];
            }
        free(t->v);
        t->v = nv;
        t->cap = nc;
    }
    size_t j = hash_str(s) & (t->cap - 1);
    for (; t->v[j]; j = (j + 1) & (t->cap - 1))
        if (!strcmp(t->v[j], s))
            return 0;
    if (!(t->v[j] = strdup(s)))
        return -1;
    t->n++;
    return 1;
}

static void sset_free(sset *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->v[i]);
    free(t->v);
}

/* ---- the share ------------------------------------------------------------- */

/* s as a json-c string, bytes that are not valid UTF-8 as U+FFFD. */
static json_object *jstr(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *b;
    json_object *j;

    for (size_t i = 0; i < n;) {
        size_t k = cg_utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0)
            break;
        i += k;
        if (i == n)
            return json_object_new_string_len(s, (int)n);
    }
    if (n == 0)
        return json_object_new_string("");
    if (!(b = malloc(n * 3 + 1)))
        return NULL;
    for (size_t i = 0; i < n;) {
        size_t k = cg_utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            memcpy(b + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(b + o, s + i, k);
            o += k;
            i += k;
        }
    }
    j = json_object_new_string_len(b, (int)o);
    free(b);
    return j;
}

static void put(json_object *o, const char *k, json_object *v)
{
    json_object_object_add(o, k, v);
}

static void put_s(json_object *o, const char *k, const char *v)
{
    put(o, k, jstr(v));
}

static void put_i(json_object *o, const char *k, int64_t v)
{
    put(o, k, json_object_new_int64(v));
}

/* A new object with the properties every SDO/SRO of the bundle has. */
static json_object *sdo(cg_stix_bundle *s, const char *type, const char *id, const char *created,
                        const char *modified)
{
    json_object *o = json_object_new_object(), *m = json_object_new_array();
    put_s(o, "type", type);
    put_s(o, "spec_version", "2.1");
    put_s(o, "id", id);
    put_s(o, "created", created);
    put_s(o, "modified", modified);
    if (strcmp(type, "identity") != 0 || strcmp(id, s->identity_id) != 0)
        put_s(o, "created_by_ref", s->identity_id);
    json_object_array_add(m, jstr(s->tlp_id));
    put(o, "object_marking_refs", m);
    return o;
}

/* Writes o as one line of the bundle's objects and releases it. */
static void emit(cg_stix_bundle *s, json_object *o)
{
    const char *t =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!t)
        s->err = ENOMEM;
    else if (fprintf(s->f, "%s%s", s->nobj ? ",\n" : "\n", t) < 0)
        s->err = errno ? errno : EIO;
    s->nobj++;
    json_object_put(o);
}

/* TYPE--UUIDv5(NS, the parts joined by '\n') into out; 0, or -1 out of memory
 * (out then all zeros: the caller's s->err says why). */
static int own_id(const char *type, char *out, size_t len, const char *a, const char *b,
                  const char *c)
{
    char u[CG_STIX_UUID_LEN], *name;
    size_t l = strlen(type) + strlen(a) + (b ? strlen(b) : 0) + (c ? strlen(c) : 0) + 4;
    int n, rc = -1;

    if ((name = malloc(l)) != NULL) {
        n = snprintf(name, l, "%s\n%s\n%s\n%s", type, a, b ? b : "", c ? c : "");
        rc = n < 0 ? -1 : cg_stix_uuid5(NS, name, (size_t)n, u);
        free(name);
    }
    if (rc)
        snprintf(u, sizeof u, "00000000-0000-0000-0000-000000000000");
    snprintf(out, len, "%s--%s", type, u);
    return rc;
}

/* ---- per incident ----------------------------------------------------------- */

#define MAX_IND 8
#define MAX_SCO 8

typedef struct inc_objs {
    char sco[MAX_SCO][96];
    size_t nsco;
    char ind[MAX_IND][96];
    size_t nind;
} inc_objs;

static int side_internal(const uint8_t a[16], const cg_incident_geo *g)
{
    return cg_stix_addr_private(a) || (g->agency && g->agency[0]) || (g->zone && g->zone[0]);
}

/* An SCO into the bundle (once) and into the incident's refs; o is released. */
static void add_sco(cg_stix_bundle *s, inc_objs *x, const char *id, json_object *o)
{
    int r = sset_add(s->seen, id);
    if (r < 0) {
        s->err = ENOMEM;
        json_object_put(o);
        return;
    }
    if (r > 0) {
        emit(s, o);
        s->scos++;
    } else {
        json_object_put(o);
    }
    for (size_t i = 0; i < x->nsco; i++)
        if (!strcmp(x->sco[i], id))
            return;
    if (x->nsco < MAX_SCO)
        snprintf(x->sco[x->nsco++], sizeof x->sco[0], "%s", id);
}

/* A value SCO (ipv4-addr ipv6-addr domain-name url); its id in idout. */
static int value_sco(cg_stix_bundle *s, inc_objs *x, const char *type, const char *value,
                     char *idout, size_t len)
{
    json_object *o;

    if (cg_stix_value_id(type, value, idout, len))
        return -1;
    o = json_object_new_object();
    put_s(o, "type", type);
    put_s(o, "spec_version", "2.1");
    put_s(o, "id", idout);
    put_s(o, "value", value);
    add_sco(s, x, idout, o);
    return 0;
}

/* An indicator of `[TYPE:value = 'VALUE']` for the incident. */
static void add_indicator(cg_stix_bundle *s, inc_objs *x, const char *type, const char *value,
                          const char *first)
{
    char esc[4200], pat[4300], id[96];
    json_object *o, *t;
    int r;

    if (x->nind >= MAX_IND || cg_stix_pattern_str(value, esc, sizeof esc) < 0)
        return;
    snprintf(pat, sizeof pat, "[%s:value = '%s']", type, esc);
    if (own_id("indicator", id, sizeof id, s->identity, pat, NULL))
        s->err = ENOMEM;
    for (size_t i = 0; i < x->nind; i++)
        if (!strcmp(x->ind[i], id))
            return;
    snprintf(x->ind[x->nind], sizeof x->ind[0], "%s", id);
    x->nind++;
    if ((r = sset_add(s->seen, id)) <= 0) {
        if (r < 0)
            s->err = ENOMEM;
        return;
    }
    o = sdo(s, "indicator", id, first, s->now);
    put_s(o, "name", value);
    put_s(o, "pattern", pat);
    put_s(o, "pattern_type", "stix");
    put_s(o, "valid_from", first);
    t = json_object_new_array();
    json_object_array_add(t, jstr("malicious-activity"));
    put(o, "indicator_types", t);
    emit(s, o);
    s->indicators++;
}

/* host as a domain name: the Host header's port taken off; NULL for an
 * address literal or an empty name (addrbuf gets the literal's 16 bytes). */
static const char *host_name(const char *host, char *buf, size_t len, uint8_t addr[16],
                             int *is_addr)
{
    uint8_t a4[4];
    const char *end;
    size_t n;

    *is_addr = 0;
    if (!host || !host[0])
        return NULL;
    if (host[0] == '[') { /* [v6]:port */
        end = strchr(host, ']');
        n = end ? (size_t)(end - host - 1) : 0;
        if (n == 0 || n >= len)
            return NULL;
        memcpy(buf, host + 1, n);
        buf[n] = 0;
    } else {
        end = strrchr(host, ':');
        n = end && strchr(host, ':') == end ? (size_t)(end - host) : strlen(host);
        if (n == 0 || n >= len)
            return NULL;
        memcpy(buf, host, n);
        buf[n] = 0;
    }
    if (inet_pton(AF_INET, buf, a4) == 1) {
        memset(addr, 0, 10);
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, a4, 4);
        *is_addr = 1;
        return NULL;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *is_addr = 1;
        return NULL;
    }
    return buf;
}

/* A name that is an address literal ("10.20.1.12", "[::1]"): no domain;
 * the address SCOs stand for the sides. */
static int addr_literal(const char *d)
{
    uint8_t a[16];
    char buf[300];
    int is_addr;
    return host_name(d, buf, sizeof buf, a, &is_addr) == NULL && is_addr;
}

static int reverse_name(const char *d)
{
    size_t n = strlen(d);
    return (n >= 13 && !strcasecmp(d + n - 13, ".in-addr.arpa")) ||
        (n >= 9 && !strcasecmp(d + n - 9, ".ip6.arpa"));
}

static const char *l4_name(uint8_t proto)
{
    switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 132: return "sctp";
    case 1: return "icmp";
    case 58: return "ipv6-icmp";
    default: return NULL;
    }
}

/* The network-traffic SCO of the incident's first alert, its id by §2.9
 * over src_ref, dst_ref, src_port, dst_port, protocols (RFC 8785 order). */
static void traffic_sco(cg_stix_bundle *s, inc_objs *x, const cg_incident *inc, const char *src_id,
                        const char *dst_id)
{
    char name[512], u[CG_STIX_UUID_LEN], id[96];
    const char *l4 = l4_name(inc->proto), *l3 = cg_stix_addr_v4(inc->src) ? "ipv4" : "ipv6";
    int ports = inc->proto == 6 || inc->proto == 17 || inc->proto == 132;
    size_t n = 0;
    json_object *o, *p;

    n += (size_t)snprintf(name + n, sizeof name - n, "{");
    if (ports)
        n += (size_t)snprintf(name + n, sizeof name - n, "\"dst_port\":%u,", inc->dport);
    if (dst_id)
        n += (size_t)snprintf(name + n, sizeof name - n, "\"dst_ref\":\"%s\",", dst_id);
    n += (size_t)snprintf(name + n, sizeof name - n, "\"protocols\":[\"%s\"%s%s%s]", l3,
                          l4 ? ",\"" : "", l4 ? l4 : "", l4 ? "\"" : "");
    if (ports)
        n += (size_t)snprintf(name + n, sizeof name - n, ",\"src_port\":%u", inc->sport);
    if (src_id)
        n += (size_t)snprintf(name + n, sizeof name - n, ",\"src_ref\":\"%s\"", src_id);
    n += (size_t)snprintf(name + n, sizeof name - n, "}");
    if (n >= sizeof name || cg_stix_uuid5(cg_stix_ns, name, n, u))
        return;
    snprintf(id, sizeof id, "network-traffic--%s", u);
    o = json_object_new_object();
    put_s(o, "type", "network-traffic");
    put_s(o, "spec_version", "2.1");
    put_s(o, "id", id);
    if (src_id)
        put_s(o, "src_ref", src_id);
    if (dst_id)
        put_s(o, "dst_ref", dst_id);
    if (ports) {
        put_i(o, "src_port", inc->sport);
        put_i(o, "dst_port", inc->dport);
    }
    p = json_object_new_array();
    json_object_array_add(p, jstr(l3));
    if (l4)
        json_object_array_add(p, jstr(l4));
    put(o, "protocols", p);
    add_sco(s, x, id, o);
}

static void b64(const uint8_t *p, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = t[v >> 18], out[o++] = t[(v >> 12) & 63], out[o++] = t[(v >> 6) & 63],
        out[o++] = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = t[v >> 18], out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
}

static void describe_side(char *d, size_t len, size_t *n, const char *what, const uint8_t a[16],
                          int shown, uint16_t port, int ports, const cg_incident_geo *g,
                          unsigned allow)
{
    char ab[64];
    if (*n >= len)
        return;
    if (shown)
        cg_cli_addr(a, ab, sizeof ab);
    else
        snprintf(ab, sizeof ab, "an internal address");
    *n += (size_t)snprintf(d + *n, len - *n, " %s %s", what, ab);
    if (ports && *n < len)
        *n += (size_t)snprintf(d + *n, len - *n, " port %u", port);
    if (*n < len && (g->country[0] || g->asn))
        *n += (size_t)snprintf(d + *n, len - *n, " (%s%sAS%u)", g->country,
                               g->country[0] ? ", " : "", g->asn);
    if (*n < len && (allow & CG_SHARE_AGENCY) && g->agency && g->agency[0])
        *n += (size_t)snprintf(d + *n, len - *n, " [%s%s%s]", g->agency,
                               g->zone && g->zone[0] ? ", " : "", g->zone ? g->zone : "");
}

int cg_stix_bundle_incident(const cg_incident *inc, void *arg)
{
    cg_stix_bundle *s = arg;
    inc_objs *x = calloc(1, sizeof *x);
    char first[32], last[32], created[32], id[96], od_id[96], src_id[96], dst_id[96], a[64];
    char desc[3000], buf[1100], host[300];
    char *pay = NULL;
    size_t n = 0;
    int src_in = side_internal(inc->src, &inc->src_geo);
    int dst_in = side_internal(inc->dst, &inc->dst_geo);
    int src_ok = !src_in || (s->allow & CG_SHARE_INTERNAL);
    int dst_ok = !dst_in || (s->allow & CG_SHARE_INTERNAL);
    int ports = inc->proto == 6 || inc->proto == 17 || inc->proto == 132, is_addr;
    uint8_t haddr[16];
    const char *h;
    json_object *o, *e, *c, *arr;

    if (!x) {
        s->err = ENOMEM;
        return 1;
    }
    cg_stix_time(inc->first_us, first);
    cg_stix_time(inc->last_us >= inc->first_us ? inc->last_us : inc->first_us, last);
    cg_stix_time(inc->first_us <= s->now_us ? inc->first_us : s->now_us, created);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)inc->id);
    if (own_id("incident", id, sizeof id, s->identity, buf, NULL))
        s->err = ENOMEM;
    if (own_id("observed-data", od_id, sizeof od_id, s->identity, buf, NULL))
        s->err = ENOMEM;

    /* the observables */
    src_id[0] = dst_id[0] = 0;
    if (src_ok) {
        cg_cli_addr(inc->src, a, sizeof a);
        value_sco(s, x, cg_stix_addr_v4(inc->src) ? "ipv4-addr" : "ipv6-addr", a, src_id,
                  sizeof src_id);
        if (!src_in)
            add_indicator(s, x, cg_stix_addr_v4(inc->src) ? "ipv4-addr" : "ipv6-addr", a, created);
    }
    if (dst_ok) {
        cg_cli_addr(inc->dst, a, sizeof a);
        value_sco(s, x, cg_stix_addr_v4(inc->dst) ? "ipv4-addr" : "ipv6-addr", a, dst_id,
                  sizeof dst_id);
        if (!dst_in)
            add_indicator(s, x, cg_stix_addr_v4(inc->dst) ? "ipv4-addr" : "ipv6-addr", a, created);
    }
    if (src_id[0] || dst_id[0])
        traffic_sco(s, x, inc, src_id[0] ? src_id : NULL, dst_id[0] ? dst_id : NULL);
    /* domains: the question always an indicator; the server's names when the
     * server is outside */
    if (inc->dns_query && inc->dns_query[0] && !addr_literal(inc->dns_query) &&
        (!reverse_name(inc->dns_query) || (s->allow & CG_SHARE_INTERNAL))) {
        char did[96];
        value_sco(s, x, "domain-name", inc->dns_query, did, sizeof did);
        add_indicator(s, x, "domain-name", inc->dns_query, created);
    }
    h = host_name(inc->http_host, host, sizeof host, haddr, &is_addr);
    const char *url_host = NULL;
    if (h) {
        char did[96];
        value_sco(s, x, "domain-name", h, did, sizeof did);
        if (!dst_in)
            add_indicator(s, x, "domain-name", h, created);
        url_host = inc->http_host;
    } else if (is_addr &&
               (!side_internal(haddr, &inc->dst_geo) || (s->allow & CG_SHARE_INTERNAL))) {
        url_host = inc->http_host;
    }
    if (inc->tls_sni && inc->tls_sni[0] && !addr_literal(inc->tls_sni) &&
        strcmp(inc->tls_sni, h ? h : "") != 0) {
        char did[96];
        value_sco(s, x, "domain-name", inc->tls_sni, did, sizeof did);
        if (!dst_in)
            add_indicator(s, x, "domain-name", inc->tls_sni, created);
    }
    if ((s->allow & CG_SHARE_PAYLOAD) && url_host && inc->http_url && inc->http_url[0]) {
        char uid[96], *url;
        size_t ul = strlen(url_host) + strlen(inc->http_url) + 16;
        if ((url = malloc(ul)) != NULL) {
            snprintf(url, ul, "%s://%s%s", inc->dport == 443 ? "https" : "http", url_host,
                     inc->http_url[0] == '/' ? inc->http_url : "/");
            if (strlen(url) < 4000) {
                value_sco(s, x, "url", url, uid, sizeof uid);
                add_indicator(s, x, "url", url, created);
            }
            free(url);
        }
    }

    /* the incident */
    n = (size_t)snprintf(desc, sizeof desc,
                         "canhgac incident %llu: %llu alert%s of rule %u:%u rev %u",
                         (unsigned long long)inc->id, (unsigned long long)inc->count,
                         inc->count == 1 ? "" : "s", inc->gid, inc->sid, inc->rev);
    if (inc->classtype[0] && n < sizeof desc)
        n += (size_t)snprintf(desc + n, sizeof desc - n, " (%s)", inc->classtype);
    describe_side(desc, sizeof desc, &n, "from", inc->src, src_ok, inc->sport, ports, &inc->src_geo,
                  s->allow);
    describe_side(desc, sizeof desc, &n, "to", inc->dst, dst_ok, inc->dport, ports, &inc->dst_geo,
                  s->allow);
    if (n < sizeof desc)
        n += (size_t)snprintf(desc + n, sizeof desc - n, ", %s, between %s and %s.",
                              cg_cli_proto(inc->proto, buf, sizeof buf), first, last);
    o = sdo(s, "incident", id, created, s->now);
    put_s(o, "name", inc->msg[0] ? inc->msg : "canhgac incident");
    put_s(o, "description", desc);
    arr = json_object_new_array();
    e = json_object_new_object();
    put_s(e, "source_name", "canhgac");
    snprintf(buf, sizeof buf, "%u:%u:%u", inc->gid, inc->sid, inc->rev);
    put_s(e, "external_id", buf);
    snprintf(buf, sizeof buf, "rule gid %u sid %u rev %u: %s", inc->gid, inc->sid, inc->rev,
             inc->msg);
    put_s(e, "description", buf);
    json_object_array_add(arr, e);
    put(o, "external_references", arr);
    e = json_object_new_object();
    c = json_object_new_object();
    put_s(c, "extension_type", "property-extension");
    put_s(c, "investigation_status",
          inc->status == CG_ST_NEW            ? "new"
              : inc->status >= CG_ST_RESOLVED ? "closed"
                                              : "open");
    put_s(c, "determination",
          inc->status == CG_ST_FALSE_POSITIVE ? "false-positive"
              : inc->status == CG_ST_RESOLVED ? "confirmed"
                                              : "suspected");
    put(e, INCIDENT_CORE_EXT, c);
    c = json_object_new_object();
    put_s(c, "extension_type", "property-extension");
    put_i(c, "incident_id", (int64_t)inc->id);
    put_s(c, "severity", cg_severity_name(inc->severity));
    put_i(c, "severity_level", inc->severity);
    arr = json_object_new_array();
    for (int l = 1; l <= 4; l++)
        if (inc->layers & CG_LAYER(l))
            json_object_array_add(arr, json_object_new_int(l));
    put(c, "layers", arr);
    put_i(c, "gid", inc->gid);
    put_i(c, "sid", inc->sid);
    put_i(c, "rev", inc->rev);
    if (inc->classtype[0])
        put_s(c, "classtype", inc->classtype);
    put_s(c, "status", cg_cli_status(inc->status));
    put_i(c, "count", (int64_t)(inc->count > INT64_MAX ? INT64_MAX : inc->count));
    if (inc->community_id[0] && ((src_ok && dst_ok) || !(src_in || dst_in)))
        put_s(c, "community_id", inc->community_id);
    if (inc->app_proto && inc->app_proto[0])
        put_s(c, "app_proto", inc->app_proto);
    if (inc->tls_ja3 && inc->tls_ja3[0])
        put_s(c, "tls_ja3", inc->tls_ja3);
    if (s->allow & CG_SHARE_AGENCY) {
        if (inc->src_geo.agency[0])
            put_s(c, "src_agency", inc->src_geo.agency);
        if (inc->dst_geo.agency[0])
            put_s(c, "dst_agency", inc->dst_geo.agency);
        if (inc->src_geo.zone[0])
            put_s(c, "src_zone", inc->src_geo.zone);
        if (inc->dst_geo.zone[0])
            put_s(c, "dst_zone", inc->dst_geo.zone);
    }
    if (s->allow & CG_SHARE_PAYLOAD) {
        if (inc->http_method && inc->http_method[0])
            put_s(c, "http_method", inc->http_method);
        if (inc->http_url && inc->http_url[0])
            put_s(c, "http_url", inc->http_url);
        if (inc->http_user_agent && inc->http_user_agent[0])
            put_s(c, "http_user_agent", inc->http_user_agent);
        if (inc->payload_len && (pay = malloc(((size_t)inc->payload_len + 2) / 3 * 4 + 1))) {
            b64(inc->payload, inc->payload_len, pay);
            put_s(c, "payload_base64", pay);
            put_i(c, "payload_match", inc->payload_match);
            free(pay);
        }
    }
    arr = json_object_new_array(); /* left out when empty: STIX lists are never empty */
    if (!(s->allow & CG_SHARE_INTERNAL))
        json_object_array_add(arr, jstr("internal-addresses"));
    if (!(s->allow & CG_SHARE_AGENCY))
        json_object_array_add(arr, jstr("agency-names"));
    if (!(s->allow & CG_SHARE_PAYLOAD))
        json_object_array_add(arr, jstr("payloads"));
    if (json_object_array_length(arr))
        put(c, "withheld", arr);
    else
        json_object_put(arr);
    put(e, EXT_ID, c);
    put(o, "extensions", e);
    emit(s, o);
    s->incidents++;

    /* what was observed, the sightings, the relationships */
    uint64_t cnt = inc->count ? inc->count : 1;
    if (x->nsco) {
        o = sdo(s, "observed-data", od_id, created, s->now);
        put_s(o, "first_observed", first);
        put_s(o, "last_observed", last);
        put_i(o, "number_observed", (int64_t)(cnt > COUNT_MAX ? COUNT_MAX : cnt));
        arr = json_object_new_array();
        for (size_t i = 0; i < x->nsco; i++)
            json_object_array_add(arr, jstr(x->sco[i]));
        put(o, "object_refs", arr);
        emit(s, o);
        s->observed++;
    }
    for (size_t i = 0; i < x->nind; i++) {
        char sid[96], rid[96];
        if (own_id("sighting", sid, sizeof sid, s->identity, id, x->ind[i]))
            s->err = ENOMEM;
        o = sdo(s, "sighting", sid, created, s->now);
        put_s(o, "first_seen", first);
        put_s(o, "last_seen", last);
        put_i(o, "count", (int64_t)(cnt > COUNT_MAX ? COUNT_MAX : cnt));
        put_s(o, "sighting_of_ref", x->ind[i]);
        if (x->nsco) {
            arr = json_object_new_array();
            json_object_array_add(arr, jstr(od_id));
            put(o, "observed_data_refs", arr);
        }
        arr = json_object_new_array();
        json_object_array_add(arr, jstr(s->identity_id));
        put(o, "where_sighted_refs", arr);
        emit(s, o);
        s->sightings++;
        if (own_id("relationship", rid, sizeof rid, id, "related-to", x->ind[i]))
            s->err = ENOMEM;
        o = sdo(s, "relationship", rid, created, s->now);
        put_s(o, "relationship_type", "related-to");
        put_s(o, "source_ref", id);
        put_s(o, "target_ref", x->ind[i]);
        emit(s, o);
        s->relationships++;
    }
    if (x->nsco) {
        char rid[96];
        if (own_id("relationship", rid, sizeof rid, id, "related-to", od_id))
            s->err = ENOMEM;
        o = sdo(s, "relationship", rid, created, s->now);
        put_s(o, "relationship_type", "related-to");
        put_s(o, "source_ref", id);
        put_s(o, "target_ref", od_id);
        emit(s, o);
        s->relationships++;
    }
    free(x);
    return s->err ? 1 : 0;
}

int cg_stix_bundle_init(cg_stix_bundle *s, FILE *f, const char *identity, int tlp, unsigned allow,
                        uint64_t now_us)
{
    memset(s, 0, sizeof *s);
    s->f = f;
    s->identity = identity;
    s->tlp = tlp;
    s->tlp_id = cg_stix_tlp_id(tlp);
    s->allow = allow;
    s->now_us = now_us;
    cg_stix_time(now_us, s->now);
    if (!(s->seen = calloc(1, sizeof *s->seen)))
        return -1;
    return own_id("identity", s->identity_id, sizeof s->identity_id, identity, NULL, NULL) ? -1 : 0;
}

void cg_stix_bundle_head(cg_stix_bundle *s, const char *bundle_id)
{
    json_object *o, *e, *c, *arr;
    int tlp = s->tlp;

    if (fprintf(s->f, "{\"type\":\"bundle\",\"id\":\"%s\",\"objects\":[", bundle_id) < 0)
        s->err = errno ? errno : EIO;

    o = sdo(s, "identity", s->identity_id, FIXED_CREATED, FIXED_CREATED);
    put_s(o, "name", s->identity);
    put_s(o, "identity_class", "organization");
    emit(s, o);

    o = json_object_new_object();
    put_s(o, "type", "marking-definition");
    put_s(o, "spec_version", "2.1");
    put_s(o, "id", cg_stix_tlp_id(tlp));
    put_s(o, "created", CG_STIX_TLP_CREATED);
    put_s(o, "name", cg_stix_tlp_label(tlp));
    e = json_object_new_object();
    c = json_object_new_object();
    put_s(c, "extension_type", "property-extension");
    put_s(c, "tlp_2_0", cg_stix_tlp_name(tlp));
    put(e, CG_STIX_TLP_EXT, c);
    put(o, "extensions", e);
    emit(s, o);

    o = sdo(s, "extension-definition", EXT_ID, FIXED_CREATED, FIXED_CREATED);
    put_s(o, "name", "canhgac incident");
    put_s(o, "description",
          "What canhgac knows of an incident beyond STIX's incident: its severity (STIX "
          "reserves a top-level severity), the layers of the four-layer model it reached, "
          "its rule, status and count, and which details the sharing policy withheld.");
    put_s(o, "schema",
          "Properties (all optional but extension_type): incident_id (integer, the SOC's "
          "incident number); severity (string: high, medium, low, info) and severity_level "
          "(integer, 1 = high); layers (array of integers 1-4: 1 on-site force, 2 SOC, 3 "
          "independent assessment, 4 national monitoring center); gid, sid, rev (integers, "
          "the Suricata-syntax rule); classtype (string); status (string: new, "
          "acknowledged, investigating, resolved, false-positive); count (integer, alerts "
          "folded in); community_id (string, Corelight Community ID v1 of the first alert; "
          "absent when an internal address is withheld); app_proto, tls_ja3 (strings); "
          "src_agency, dst_agency, src_zone, dst_zone (strings, only when agency names may "
          "leave); http_method, http_url, http_user_agent, payload_base64 (string, at most "
          "1024 bytes around the match), payload_match (integer offset) (only when payloads "
          "may leave); withheld (array of strings: internal-addresses, agency-names, "
          "payloads: what the sharing policy kept out of the bundle). See canhgac's README, "
          "\"Sharing (STIX 2.1)\".");
    put_s(o, "version", EXT_VERSION);
    arr = json_object_new_array();
    json_object_array_add(arr, jstr("property-extension"));
    put(o, "extension_types", arr);
    emit(s, o);
}

void cg_stix_bundle_tail(cg_stix_bundle *s)
{
    if (fputs("\n]}\n", s->f) < 0 && !s->err)
        s->err = errno ? errno : EIO;
}

void cg_stix_bundle_free(cg_stix_bundle *s)
{
    if (!s->seen)
        return;
    sset_free(s->seen);
    free(s->seen);
    s->seen = NULL;
}
