/* fuzz_web.c — libFuzzer harness: the console's request parsing
 * (tools/web_http.h, tools/web_json.h).
 *
 * Input: byte 0 chooses a name (the query parameter and cookie looked up),
 * the rest is split at the first NUL-free '\n' into a request target and a
 * header value / body. Each input goes through
 *  - cg_web_path_split of the target: on success the path starts with '/',
 *    holds no "//", no "/../" or "/./" segment, no backslash or control
 *    byte, and fits its buffer; the query string is a view into the target;
 *  - cg_web_query_get of the query string for a few names, with a small and
 *    a large buffer: a value found fits and holds no NUL before its end;
 *  - cg_web_pct_decode of the whole rest both ways: the length returned is
 *    the string's;
 *  - cg_web_cookie_get of the rest as a Cookie header;
 *  - cg_web_log_target of the target: no control byte comes out;
 *  - cg_web_json_parse of the rest as a body (limits 64 KiB and 16 bytes),
 *    and the string / ids readers on what parsed.
 * A broken property aborts. Nothing is kept across inputs.
 */
#include "tests/fuzz/fuzz_common.h"

#include "tools/web_http.h"
#include "tools/web_json.h"

static void check_path(const char *path)
{
    size_t n = strlen(path);
    if (path[0] != '/' || strstr(path, "//") || strstr(path, "/../") || strstr(path, "/./") ||
        strchr(path, '\\'))
        abort();
    if ((n >= 3 && !strcmp(path + n - 3, "/..")) || (n >= 2 && !strcmp(path + n - 2, "/.")))
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "q", "cursor", "limit", "cg_session", "a", "" };
    if (size < 1)
        return 0;
    const char *name = names[data[0] % (sizeof names / sizeof names[0])];
    char *buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    size_t tlen = strcspn(buf, "\n");
    char *rest = buf + tlen + (buf[tlen] == '\n');
    buf[tlen] = '\0';
    size_t rlen = (size_t)(buf + size - 1 - rest);

    char path[256], small[8], big[4096];
    const char *qs = NULL;
    int rc = cg_web_path_split(buf, path, sizeof path, &qs);
    if (rc != 0 && rc != 400 && rc != 404)
        abort();
    if (rc == 0) {
        check_path(path);
        if (qs && (qs < buf || qs > buf + tlen))
            abort();
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            int r1 = cg_web_query_get(qs, names[i], small, sizeof small);
            int r2 = cg_web_query_get(qs, names[i], big, sizeof big);
            if (r1 == 1 && strlen(small) >= sizeof small)
                abort();
            if (r1 == 1 && (r2 != 1 || strcmp(small, big)))
                abort();
            if (r2 == 1)
                fz_touch(big, strlen(big));
        }
        uint64_t id;
        const char *tail;
        if (cg_web_path_id(path, "/api/incidents/", &id, &tail) == 0 &&
            (id == 0 || (tail[0] && tail[0] != '/')))
            abort();
    }
    int n = cg_web_pct_decode(rest, rlen, big, sizeof big, data[0] & 1);
    if (n >= 0 && (size_t)n != strlen(big))
        abort();
    if (cg_web_cookie_get(rest, name, small, sizeof small) == 1 && strlen(small) >= sizeof small)
        abort();
    cg_web_log_target(buf, big, sizeof big);
    for (const char *p = big; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort();

    json_object *o = NULL;
    char err[256];
    size_t limits[2] = { CG_WEB_JSON_MAX, 16 };
    for (int k = 0; k < 2; k++) {
        rc = cg_web_json_parse(rest, rlen, limits[k], &o, err, sizeof err);
        if (rc == 413 && rlen <= limits[k])
            abort();
        if (rc == 0) {
            const char *s;
            uint64_t *ids = NULL;
            size_t nids = 0;
            if (cg_web_json_str(o, "text", 65534, &s) == 1)
                fz_touch(s, strlen(s));
            if (cg_web_json_ids(o, "ids", 1000, &ids, &nids) == 1) {
                for (size_t i = 0; i < nids; i++)
                    if (ids[i] == 0)
                        abort();
                free(ids);
            }
            json_object_put(o);
            o = NULL;
        } else if (rc != 400 && rc != 413) {
            abort();
        }
    }
    free(buf);
    return 0;
}
