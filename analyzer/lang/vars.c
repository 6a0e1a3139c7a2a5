/* vars.c — the rule variable table and the variables file (vars.h).
 *
 * File format (rules/README.md, "The variables file"): one definition per
 * line, `NAME value`, `NAME = value` or `NAME: value`; NAME may be written
 * with its `$`; the value may be wrapped in double quotes; `#` starts a
 * comment (at the start of a line, or after white space). Defaults are
 * Suricata 7's suricata.yaml address-groups and port-groups.
 *
 * Invariant: names are unique in the table; the order is insertion order.
 */
#include "analyzer/lang/vars.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/error.h"

struct var {
    char *name, *value;
};

struct cg_vars {
    struct var *v;
    uint32_t n, cap;
};

static const struct {
    const char *name, *value;
} defaults[] = {
    { "HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]" },
    { "EXTERNAL_NET", "!$HOME_NET" },
    { "HTTP_SERVERS", "$HOME_NET" },
    { "SMTP_SERVERS", "$HOME_NET" },
    { "SQL_SERVERS", "$HOME_NET" },
    { "DNS_SERVERS", "$HOME_NET" },
    { "TELNET_SERVERS", "$HOME_NET" },
    { "AIM_SERVERS", "$EXTERNAL_NET" },
    { "DC_SERVERS", "$HOME_NET" },
    { "DNP3_SERVER", "$HOME_NET" },
    { "DNP3_CLIENT", "$HOME_NET" },
    { "MODBUS_CLIENT", "$HOME_NET" },
    { "MODBUS_SERVER", "$HOME_NET" },
    { "ENIP_CLIENT", "$HOME_NET" },
    { "ENIP_SERVER", "$HOME_NET" },
    { "HTTP_PORTS", "80" },
    { "SHELLCODE_PORTS", "!80" },
    { "ORACLE_PORTS", "1521" },
    { "SSH_PORTS", "22" },
    { "DNP3_PORTS", "20000" },
    { "MODBUS_PORTS", "502" },
    { "FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]" },
    { "FTP_PORTS", "21" },
    { "GENEVE_PORTS", "6081" },
    { "VXLAN_PORTS", "4789" },
    { "TEREDO_PORTS", "3544" },
};

static struct var *find(const cg_vars *v, const char *name, size_t len)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (strncmp(v->v[i].name, name, len) == 0 && v->v[i].name[len] == '\0')
            return &v->v[i];
    return NULL;
}

const char *cg_vars_get(const cg_vars *v, const char *name, size_t len)
{
    const struct var *e = v ? find(v, name, len) : NULL;
    return e ? e->value : NULL;
}

int cg_vars_set(cg_vars *v, const char *name, const char *value)
{
    char *val = strdup(value);
    if (!val)
        return -1;
    struct var *e = find(v, name, strlen(name));
    if (e) {
        free(e->value);
        e->value = val;
        return 0;
    }
    char *nm = strdup(name);
    if (!nm)
        goto out;
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 32;
        struct var *nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            goto out;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n].name = nm;
    v->v[v->n].value = val;
    v->n++;
    return 0;
out:
    free(nm);
    free(val);
    return -1;
}

static void vars_clear(cg_vars *v)
{
    for (uint32_t i = 0; i < v->n; i++) {
        free(v->v[i].name);
        free(v->v[i].value);
    }
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

void cg_vars_destroy(cg_vars *v)
{
    if (!v)
        return;
    vars_clear(v);
    free(v);
}

int cg_vars_create(cg_vars **out)
{
    cg_vars *v = calloc(1, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (cg_vars_set(v, defaults[i].name, defaults[i].value)) {
            cg_vars_destroy(v);
            return -1;
        }
    *out = v;
    return 0;
}

uint32_t cg_vars_count(const cg_vars *v)
{
    return v ? v->n : 0;
}

void cg_vars_at(const cg_vars *v, uint32_t i, const char **name, const char **value)
{
    *name = v->v[i].name;
    *value = v->v[i].value;
}

static int is_name_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One line of the file into name/value (pointers into line, NUL-terminated
 * in place). 1 = a definition, 0 = blank or comment, -1 = error (why set). */
static int parse_line(char *line, char **name, char **value, const char **why)
{
    char *p = line, *e;

    for (char *h = line; *h; h++) /* a comment: '#' at the start or after a blank */
        if (*h == '#' && (h == line || is_blank((unsigned char)h[-1]))) {
            *h = '\0';
            break;
        }
    while (is_blank((unsigned char)*p))
        p++;
    e = p + strlen(p);
    while (e > p && is_blank((unsigned char)e[-1]))
        *--e = '\0';
    if (*p == '\0')
        return 0;
    if (*p == '$')
        p++;
    *name = p;
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_')) {
        *why = "a variable name must start with a letter or '_'";
        return -1;
    }
    while (is_name_char((unsigned char)*p))
        p++;
    char *name_end = p;
    while (is_blank((unsigned char)*p))
        p++;
    if (*p == '=' || *p == ':') {
        p++;
        while (is_blank((unsigned char)*p))
            p++;
    } else if (p == name_end && *p != '\0') {
        *why = "expected white space, '=' or ':' after the variable name";
        return -1;
    }
    *name_end = '\0';
    if (*p == '"') {
        size_t l = strlen(p);
        if (l < 2 || p[l - 1] != '"') {
            *why = "unterminated quoted value";
            return -1;
        }
        p[l - 1] = '\0';
        p++;
    }
    if (*p == '\0') {
        *why = "the variable has no value";
        return -1;
    }
    *value = p;
    return 1;
}

int cg_vars_parse_assignment(char *text, char **name, char **value, const char **why)
{
    char *eq = strchr(text, '=');
    if (!eq) {
        *why = "expected NAME=VALUE";
        return -1;
    }
    *eq = ' '; /* "NAME value": one line of the file */
    int r = parse_line(text, name, value, why);
    if (r == 0) {
        *why = "expected NAME=VALUE";
        return -1;
    }
    return r < 0 ? -1 : 0;
}

int cg_vars_load(cg_vars *v, const char *path, char *err, size_t errlen)
{
    return cg_vars_load_defs(v, path, NULL, NULL, err, errlen);
}

int cg_vars_create_empty(cg_vars **out)
{
    cg_vars *v = calloc(1, sizeof *v);
    if (!v)
        return -1;
    *out = v;
    return 0;
}

int cg_vars_load_defs(cg_vars *v, const char *path, cg_vars *defs, cg_vars_check_fn check,
                      char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    cg_vars tmp = { 0 };
    uint32_t *lines = NULL; /* the defining line of each table entry, 0 = earlier */
    char *line = NULL;
    size_t cap = 0;
    uint32_t lineno = 0;
    int rc = -1;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (uint32_t i = 0; i < v->n; i++)
        if (cg_vars_set(&tmp, v->v[i].name, v->v[i].value))
            goto oom;
    lines = calloc(tmp.n, sizeof *lines);
    if (tmp.n && !lines)
        goto oom;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) != -1) {
        char *name, *value;
        const char *why = NULL;
        lineno++;
        if ((size_t)got != strlen(line)) {
            snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
            goto out;
        }
        int r = parse_line(line, &name, &value, &why);
        if (r < 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            goto out;
        }
        if (r == 0)
            continue;
        struct var *e = find(&tmp, name, strlen(name));
        uint32_t idx = e ? (uint32_t)(e - tmp.v) : tmp.n;
        if (e && lines[idx]) {
            snprintf(err, errlen, "%s:%u: %s is defined twice (first on line %u)", path, lineno,
                     name, lines[idx]);
            goto out;
        }
        if (cg_vars_set(&tmp, name, value))
            goto oom;
        if (!e) {
            uint32_t *nl = realloc(lines, tmp.n * sizeof *nl);
            if (!nl)
                goto oom;
            lines = nl;
        }
        lines[idx] = lineno;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        goto out;
    }
    if (!feof(f))
        goto oom; /* getline stopped short of the end: it could not grow its buffer */
    /* Every value must be an address set or a port set once all are known. */
    for (uint32_t i = 0; check && i < tmp.n; i++) {
        char why[200];
        int r = check(&tmp, tmp.v[i].value, why, sizeof why);
        if (r == 0)
            continue;
        if (r == CG_ENOMEM)
            goto oom;
        if (lines[i])
            snprintf(err, errlen, "%s:%u: $%s: %s", path, lines[i], tmp.v[i].name, why);
        else
            snprintf(err, errlen, "%s: $%s (\"%s\", not set in this file): %s", path, tmp.v[i].name,
                     tmp.v[i].value, why);
        goto out;
    }
    for (uint32_t i = 0; defs && i < tmp.n; i++)
        if (lines[i] && cg_vars_set(defs, tmp.v[i].name, tmp.v[i].value))
            goto oom;
    vars_clear(v);
    *v = tmp;
    memset(&tmp, 0, sizeof tmp);
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    rc = CG_ENOMEM;
out:
    vars_clear(&tmp);
    free(lines);
    free(line);
    fclose(f);
    return rc;
}
