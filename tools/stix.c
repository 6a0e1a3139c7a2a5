/* stix.c — STIX 2.1 identifiers, timestamps, pattern strings, TLP 2.0
 * markings and internal address ranges (see stix.h for the specs and the
 * contract). */
#include "tools/stix.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* 00abedb4-aa42-466c-9c01-fed23315a9b7 */
const uint8_t cg_stix_ns[16] = { 0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7 };

static void uuid_text(const uint8_t u[16], char out[CG_STIX_UUID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = 0;
}

int cg_stix_uuid5(const uint8_t ns[16], const void *name, size_t len, char out[CG_STIX_UUID_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok;

    if (!c)
        return -1;
    ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 && EVP_DigestUpdate(c, ns, 16) == 1 &&
        EVP_DigestUpdate(c, name, len) == 1 && EVP_DigestFinal_ex(c, md, &mdlen) == 1 &&
        mdlen >= 16;
    EVP_MD_CTX_free(c);
    if (!ok)
        return -1;
    md[6] = (uint8_t)((md[6] & 0x0f) | 0x50); /* version 5 */
    md[8] = (uint8_t)((md[8] & 0x3f) | 0x80); /* variant RFC 4122 */
    uuid_text(md, out);
    return 0;
}

int cg_stix_uuid4(char out[CG_STIX_UUID_LEN])
{
    uint8_t u[16];

    if (RAND_bytes(u, sizeof u) != 1)
        return -1;
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    uuid_text(u, out);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cg_stix_uuid_parse(const char *s, uint8_t out[16])
{
    uint8_t u[16];
    size_t i = 0;

    for (int b = 0; b < 16; b++) {
        if ((b == 4 || b == 6 || b == 8 || b == 10) && s[i++] != '-')
            return -1;
        int h = hexval(s[i]), l = h < 0 ? -1 : hexval(s[i + 1]);
        if (h < 0 || l < 0)
            return -1;
        u[b] = (uint8_t)(h << 4 | l);
        i += 2;
    }
    if (s[i])
        return -1;
    memcpy(out, u, 16);
    return 0;
}

int cg_stix_jcs_str(const char *s, char *out, size_t len)
{
    size_t o = 0;

#define PUT(ch)                \
    do {                       \
        if (o + 1 >= len)      \
            return -1;         \
        out[o++] = (char)(ch); \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc) {
            for (; *esc; esc++)
                PUT(*esc);
        } else {
            PUT(c);
        }
    }
    PUT('"');
#undef PUT
    out[o] = 0;
    return (int)o;
}

int cg_stix_value_id(const char *type, const char *value, char *out, size_t len)
{
    size_t cap = strlen(value) * 6 + 16; /* every byte escaped as \u00xx at worst */
    char *name = malloc(cap), u[CG_STIX_UUID_LEN];
    int n;

    if (!name)
        return -1;
    memcpy(name, "{\"value\":", 9);
    n = cg_stix_jcs_str(value, name + 9, cap - 10);
    if (n >= 0) {
        name[9 + n] = '}';
        name[10 + n] = 0;
        if (cg_stix_uuid5(cg_stix_ns, name, (size_t)n + 10, u))
            n = -1;
    }
    free(name);
    if (n < 0)
        return -1;
    n = snprintf(out, len, "%s--%s", type, u);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int cg_stix_pattern_str(const char *s, char *out, size_t len)
{
    size_t o = 0;

    for (; *s; s++) {
        if (*s == '\'' || *s == '\\') {
            if (o + 1 >= len)
                return -1;
            out[o++] = '\\';
        }
        if (o + 1 >= len)
            return -1;
        out[o++] = *s;
    }
    if (len == 0)
        return -1;
    out[o] = 0;
    return (int)o;
}

void cg_stix_time(uint64_t us, char out[32])
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;

    char b[96];

    gmtime_r(&t, &tm);
    snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(us / 1000u % 1000u));
    memcpy(out, b, 24); /* a year of four digits: 24 characters */
    out[24] = 0;
}

static const struct {
    const char *name, *label, *id;
} tlps[CG_STIX_NTLP] = {
    { "clear", "TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" },
    { "green", "TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb" },
    { "amber", "TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" },
    { "amber+strict", "TLP:AMBER+STRICT",
      "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003" },
    { "red", "TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" },
};

int cg_stix_tlp_find(const char *name)
{
    for (int i = 0; name && i < CG_STIX_NTLP; i++)
        if (!strcasecmp(name, tlps[i].name) || !strcasecmp(name, tlps[i].label))
            return i;
    return -1;
}

const char *cg_stix_tlp_id(int i)
{
    return i >= 0 && i < CG_STIX_NTLP ? tlps[i].id : NULL;
}

const char *cg_stix_tlp_label(int i)
{
    return i >= 0 && i < CG_STIX_NTLP ? tlps[i].label : NULL;
}

const char *cg_stix_tlp_name(int i)
{
    return i >= 0 && i < CG_STIX_NTLP ? tlps[i].name : NULL;
}

int cg_stix_addr_v4(const uint8_t a[16])
{
    static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(a, pre, 12) == 0;
}

int cg_stix_addr_private(const uint8_t a[16])
{
    static const uint8_t zero[16] = { 0 };

    if (cg_stix_addr_v4(a)) {
        const uint8_t *v = a + 12;
        return v[0] == 10 || v[0] == 127 || v[0] == 0 || (v[0] == 172 && (v[1] & 0xf0) == 16) ||
            (v[0] == 192 && v[1] == 168) || (v[0] == 169 && v[1] == 254);
    }
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
        return 1; /* :: and ::1 */
    return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}
