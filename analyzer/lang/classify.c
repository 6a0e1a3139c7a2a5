/* classify.c — the classification table and its file (classify.h).
 *
 * Follows Suricata's classification.config: one
 * `config classification: shortname,short description,priority` per line.
 * A line that is neither that, a comment nor blank is an error here (Suricata
 * only warns), so a damaged file is noticed before rules are loaded with it.
 */
#include "analyzer/lang/classify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sensor/error.h"

struct cg_classes {
    cg_class *v;
    uint32_t n, cap;
    int presets; /* the table still holds only the presets */
};

/* Suricata 7, etc/classification.config */
static const struct {
    const char *name, *desc;
    uint8_t prio;
} presets[] = {
    { "not-suspicious", "Not Suspicious Traffic", 3 },
    { "unknown", "Unknown Traffic", 3 },
    { "bad-unknown", "Potentially Bad Traffic", 2 },
    { "attempted-recon", "Attempted Information Leak", 2 },
    { "successful-recon-limited", "Information Leak", 2 },
    { "successful-recon-largescale", "Large Scale Information Leak", 2 },
    { "attempted-dos", "Attempted Denial of Service", 2 },
    { "successful-dos", "Denial of Service", 2 },
    { "attempted-user", "Attempted User Privilege Gain", 1 },
    { "unsuccessful-user", "Unsuccessful User Privilege Gain", 1 },
    { "successful-user", "Successful User Privilege Gain", 1 },
    { "attempted-admin", "Attempted Administrator Privilege Gain", 1 },
    { "successful-admin", "Successful Administrator Privilege Gain", 1 },
    { "rpc-portmap-decode", "Decode of an RPC Query", 2 },
    { "shellcode-detect", "Executable code was detected", 1 },
    { "string-detect", "A suspicious string was detected", 3 },
    { "suspicious-filename-detect", "A suspicious filename was detected", 2 },
    { "suspicious-login", "An attempted login using a suspicious username was detected", 2 },
    { "system-call-detect", "A system call was detected", 2 },
    { "tcp-connection", "A TCP connection was detected", 4 },
    { "trojan-activity", "A Network Trojan was detected", 1 },
    { "unusual-client-port-connection", "A client was using an unusual port", 2 },
    { "network-scan", "Detection of a Network Scan", 3 },
    { "denial-of-service", "Detection of a Denial of Service Attack", 2 },
    { "non-standard-protocol", "Detection of a non-standard protocol or event", 2 },
    { "protocol-command-decode", "Generic Protocol Command Decode", 3 },
    { "web-application-activity", "access to a potentially vulnerable web application", 2 },
    { "web-application-attack", "Web Application Attack", 1 },
    { "misc-activity", "Misc activity", 3 },
    { "misc-attack", "Misc Attack", 2 },
    { "icmp-event", "Generic ICMP event", 3 },
    { "inappropriate-content", "Inappropriate Content was Detected", 1 },
    { "policy-violation", "Potential Corporate Privacy Violation", 1 },
    { "default-login-attempt", "Attempt to login by a default username and password", 2 },
    { "targeted-activity", "Targeted Malicious Activity was Detected", 1 },
    { "exploit-kit", "Exploit Kit Activity Detected", 1 },
    { "external-ip-check", "Device Retrieving External IP Address Detected", 2 },
    { "domain-c2", "Domain Observed Used for C2 Detected", 1 },
    { "pup-activity", "Possibly Unwanted Program Detected", 2 },
    { "credential-theft", "Successful Credential Theft Detected", 1 },
    { "social-engineering", "Possible Social Engineering Attempted", 2 },
    { "coin-mining", "Crypto Currency Mining Activity Detected", 2 },
    { "command-and-control", "Malware Command and Control Activity Detected", 1 },
};

static cg_class *find(const cg_classes *c, const char *name, size_t len)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (strncasecmp(c->v[i].name, name, len) == 0 && c->v[i].name[len] == '\0')
            return &c->v[i];
    return NULL;
}

const cg_class *cg_classes_find(const cg_classes *c, const char *name, size_t len)
{
    return c ? find(c, name, len) : NULL;
}

static int put(cg_classes *c, const char *name, size_t nlen, const char *desc, size_t dlen,
               uint8_t prio)
{
    char *d = strndup(desc, dlen);
    if (!d)
        return -1;
    cg_class *e = find(c, name, nlen);
    if (e) {
        free(e->desc);
        e->desc = d;
        e->prio = prio;
        return 0;
    }
    char *n = strndup(name, nlen);
    if (!n)
        goto fail;
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 64;
        cg_class *nv = realloc(c->v, cap * sizeof *nv);
        if (!nv)
            goto fail;
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n].name = n;
    c->v[c->n].desc = d;
    c->v[c->n].prio = prio;
    c->n++;
    return 0;
fail:
    free(n);
    free(d);
    return -1;
}

static void clear(cg_classes *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].desc);
    }
    free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

void cg_classes_destroy(cg_classes *c)
{
    if (!c)
        return;
    clear(c);
    free(c);
}

int cg_classes_create(cg_classes **out)
{
    cg_classes *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (put(c, presets[i].name, strlen(presets[i].name), presets[i].desc,
                strlen(presets[i].desc), presets[i].prio)) {
            cg_classes_destroy(c);
            return -1;
        }
    c->presets = 1;
    *out = c;
    return 0;
}

uint32_t cg_classes_count(const cg_classes *c)
{
    return c ? c->n : 0;
}

const cg_class *cg_classes_at(const cg_classes *c, uint32_t i)
{
    return &c->v[i];
}

static int is_blank(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static const char *skip_blank(const char *p)
{
    while (is_blank((unsigned char)*p))
        p++;
    return p;
}

/* One line. 1 = a class (fields set), 0 = blank or comment, -1 = error. */
static int parse_line(const char *line, const char **name, size_t *nlen, const char **desc,
                      size_t *dlen, uint8_t *prio, const char **why)
{
    const char *p = skip_blank(line), *e;

    if (*p == '\0' || *p == '#')
        return 0;
    *why = "expected 'config classification: name,description,priority'";
    if (strncmp(p, "config", 6) != 0)
        return -1;
    p = skip_blank(p + 6);
    if (strncmp(p, "classification", 14) != 0)
        return -1;
    p = skip_blank(p + 14);
    if (*p != ':')
        return -1;
    p = skip_blank(p + 1);
    *name = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '-' || *p == '_')
        p++;
    *nlen = (size_t)(p - *name);
    if (*nlen == 0) {
        *why = "bad classification name";
        return -1;
    }
    p = skip_blank(p);
    if (*p != ',')
        return -1;
    p = skip_blank(p + 1);
    const char *last = strrchr(p, ',');
    if (!last || last == p) {
        *why = "missing description or priority";
        return -1;
    }
    e = last;
    while (e > p && is_blank((unsigned char)e[-1]))
        e--;
    *desc = p;
    *dlen = (size_t)(e - p);
    const char *q = skip_blank(last + 1);
    unsigned v = 0;
    int nd = 0;
    for (; *q >= '0' && *q <= '9' && nd < 4; q++, nd++)
        v = v * 10 + (unsigned)(*q - '0');
    if (nd == 0 || *skip_blank(q) != '\0' || v < 1 || v > 255) {
        *why = "the priority must be a number from 1 to 255";
        return -1;
    }
    *prio = (uint8_t)v;
    return 1;
}

int cg_classes_load(cg_classes *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    cg_classes tmp = { 0 };
    char *line = NULL;
    size_t cap = 0;
    uint32_t lineno = 0;
    int rc = -1;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!c->presets)
        for (uint32_t i = 0; i < c->n; i++)
            if (put(&tmp, c->v[i].name, strlen(c->v[i].name), c->v[i].desc, strlen(c->v[i].desc),
                    c->v[i].prio))
                goto oom;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) != -1) {
        const char *name, *desc, *why = NULL;
        size_t nlen, dlen;
        uint8_t prio;
        lineno++;
        if ((size_t)got != strlen(line)) {
            snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
            goto out;
        }
        int r = parse_line(line, &name, &nlen, &desc, &dlen, &prio, &why);
        if (r < 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            goto out;
        }
        if (r > 0 && put(&tmp, name, nlen, desc, dlen, prio))
            goto oom;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (!feof(f))
        goto oom; /* getline stopped short of the end: it could not grow its buffer */
    clear(c);
    *c = tmp;
    memset(&tmp, 0, sizeof tmp);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    rc = CG_ENOMEM;
out:
    clear(&tmp);
    free(line);
    fclose(f);
    return rc;
}
