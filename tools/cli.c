/* cli.c — shared argument helpers of the canhgac subcommands (see cli.h). */
#include "tools/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensor/decode.h"

uint64_t cg_cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int cg_cli_duration(const char *s, uint64_t *out_us)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return -1;
    uint64_t mul;
    if (!strcmp(end, "s") || !*end) mul = 1;
    else if (!strcmp(end, "m")) mul = 60;
    else if (!strcmp(end, "h")) mul = 3600;
    else if (!strcmp(end, "d")) mul = 86400;
    else if (!strcmp(end, "w")) mul = 7 * 86400;
    else return -1;
    if (v > UINT64_MAX / 1000000u / mul)
        return -1;
    *out_us = (uint64_t)v * mul * 1000000u;
    return 0;
}

int cg_cli_time(const char *s, uint64_t now_us, uint64_t *out_us)
{
    uint64_t d;
    if (!s || !*s)
        return -1;
    if (s[0] == '@') {
        char *end;
        unsigned long long v = strtoull(s + 1, &end, 10);
        if (end == s + 1 || *end || v > UINT64_MAX / 1000000u)
            return -1;
        *out_us = (uint64_t)v * 1000000u;
        return 0;
    }
    if (strchr(s, '-') == NULL) {
        if (cg_cli_duration(s, &d) || d > now_us)
            return -1;
        *out_us = now_us - d;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (!rest)
        return -1;
    if (*rest == 'T' || *rest == ' ') {
        rest = strptime(rest + 1, "%H:%M", &tm);
        if (!rest)
            return -1;
        if (*rest == ':') {
            rest = strptime(rest + 1, "%S", &tm);
            if (!rest)
                return -1;
        }
    }
    if (*rest == 'Z')
        rest++;
    if (*rest)
        return -1;
    time_t t = timegm(&tm);
    if (t < 0)
        return -1;
    *out_us = (uint64_t)t * 1000000u;
    return 0;
}

int cg_cli_cidr(const char *s, uint8_t lo[16], uint8_t hi[16])
{
    char buf[80];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof buf)
        return -1;
    memcpy(buf, s, alen);
    buf[alen] = 0;
    uint8_t a[16];
    if (cg_addr_parse(buf, a))
        return -1;
    int v4 = cg_addr_is_v4(a) && !strchr(buf, ':');
    long bits = v4 ? 32 : 128;
    if (slash) {
        char *end;
        bits = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || bits < 0 || bits > (v4 ? 32 : 128))
            return -1;
    }
    int keep = (int)bits + (v4 ? 96 : 0);
    for (int i = 0; i < 16; i++) {
        int b = keep - i * 8;
        uint8_t mask = b >= 8 ? 0xff : b <= 0 ? 0 : (uint8_t)(0xff << (8 - b));
        lo[i] = a[i] & mask;
        hi[i] = (uint8_t)(a[i] | (uint8_t)~mask);
    }
    return 0;
}

const char *cg_cli_default_store(void)
{
    const char *e = getenv("CANHGAC_STORE");
    return e && *e ? e : "./canhgac-store";
}

const char *cg_cli_default_cache(char *buf, unsigned len)
{
    const char *e = getenv("CANHGAC_CACHE");
    if (e && *e) {
        snprintf(buf, len, "%s", e);
        return buf;
    }
    e = getenv("XDG_CACHE_HOME");
    if (e && *e) {
        snprintf(buf, len, "%s/canhgac", e);
        return buf;
    }
    e = getenv("HOME");
    if (e && *e) {
        snprintf(buf, len, "%s/.cache/canhgac", e);
        return buf;
    }
    return NULL;
}
