/* web_http.c — the console's request parsing (web_http.h): RFC 3986
 * percent-encoding, application/x-www-form-urlencoded query strings, RFC 6265
 * Cookie headers, and the path rule of `canhgac serve` (only plain absolute
 * paths reach the router). Pure functions; bounds as the header says. */
#include "tools/web_http.h"

#include <stdio.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cg_web_pct_decode(const char *in, size_t len, char *out, size_t outlen, int plus_space)
{
    size_t o = 0;
    if (outlen == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int h = hexval((unsigned char)in[i + 1]), l = hexval((unsigned char)in[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == 0 || o + 1 >= outlen)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int cg_web_query_get(const char *qs, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    if (!qs)
        return 0;
    const char *p = qs;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        if (klen == nlen && !memcmp(p, name, nlen)) {
            if (!eq) {
                if (outlen == 0)
                    return -1;
                out[0] = '\0';
                return 1;
            }
            return cg_web_pct_decode(eq + 1, plen - klen - 1, out, outlen, 1) < 0 ? -1 : 1;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

int cg_web_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = header;
    if (!p)
        return 0;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        if (eq && (size_t)(eq - p) == nlen && !memcmp(p, name, nlen)) {
            const char *v = eq + 1;
            size_t vlen = plen - nlen - 1;
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            if (vlen + 1 > outlen)
                return -1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 1;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

int cg_web_path_split(const char *target, char *path, size_t plen, const char **qs)
{
    const char *q = strchr(target, '?');
    size_t rawlen = q ? (size_t)(q - target) : strlen(target);
    if (rawlen == 0 || target[0] != '/')
        return 400;
    for (size_t i = 0; i < rawlen; i++)
        if ((unsigned char)target[i] < 0x21 || target[i] == 0x7f)
            return 400;
    int n = cg_web_pct_decode(target, rawlen, path, plen, 0);
    if (n < 0)
        return 400;
    /* an escaped '/' or '\' would make a segment the router never sees */
    for (size_t i = 0; i + 2 < rawlen; i++)
        if (target[i] == '%' &&
            (!strncmp(target + i + 1, "2f", 2) || !strncmp(target + i + 1, "2F", 2) ||
             !strncmp(target + i + 1, "5c", 2) || !strncmp(target + i + 1, "5C", 2)))
            return 404;
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            return 404;
    }
    /* segments: none empty (but the root "/"), none "." or ".." */
    if (n > 1) {
        const char *s = path + 1;
        for (;;) {
            const char *e = strchr(s, '/');
            size_t sl = e ? (size_t)(e - s) : strlen(s);
            if (sl == 0 || (sl == 1 && s[0] == '.') || (sl == 2 && s[0] == '.' && s[1] == '.'))
                return 404;
            if (!e)
                break;
            s = e + 1;
        }
    }
    if (qs)
        *qs = q ? q + 1 : NULL;
    return 0;
}

int cg_web_path_id(const char *path, const char *prefix, uint64_t *id, const char **rest)
{
    size_t pl = strlen(prefix);
    uint64_t v = 0;
    if (strncmp(path, prefix, pl))
        return -1;
    const char *p = path + pl;
    if (*p < '1' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_C(1) << 63) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (UINT64_C(1) << 63) || (*p && *p != '/'))
        return -1;
    *id = v;
    *rest = p;
    return 0;
}

static int secret_name(const char *k, size_t klen)
{
    static const char *const names[] = { "password", "passwd", "token" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (klen == strlen(names[i]) && !strncmp(k, names[i], klen))
            return 1;
    return 0;
}

void cg_web_log_target(const char *target, char *out, size_t outlen)
{
    size_t o = 0;
    const char *q = strchr(target, '?');
    size_t head = q ? (size_t)(q - target) + 1 : strlen(target);
    if (outlen == 0)
        return;
#define PUT(c)                                                     \
    do {                                                           \
        unsigned char c_ = (unsigned char)(c);                     \
        if (o + 1 < outlen)                                        \
            out[o++] = (char)(c_ < 0x20 || c_ == 0x7f ? '?' : c_); \
    } while (0)
    for (size_t i = 0; i < head; i++)
        PUT(target[i]);
    if (q) {
        const char *p = q + 1;
        while (*p) {
            const char *end = strchr(p, '&');
            size_t plen = end ? (size_t)(end - p) : strlen(p);
            const char *eq = memchr(p, '=', plen);
            size_t klen = eq ? (size_t)(eq - p) : plen;
            if (eq && secret_name(p, klen)) {
                for (size_t i = 0; i <= klen; i++)
                    PUT(p[i]);
                PUT('*');
                PUT('*');
                PUT('*');
            } else {
                for (size_t i = 0; i < plen; i++)
                    PUT(p[i]);
            }
            if (!end)
                break;
            PUT('&');
            p = end + 1;
        }
    }
#undef PUT
    out[o] = '\0';
}
