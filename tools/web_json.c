/* web_json.c — request bodies of the console (web_json.h). */
#include "tools/web_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cg_web_json_parse(const char *body, size_t len, size_t max, json_object **out, char *err,
                      size_t errlen)
{
    if (len > max) {
        snprintf(err, errlen, "the body is larger than %zu bytes", max);
        return 413;
    }
    if (len == 0) {
        snprintf(err, errlen, "a JSON object is expected, the body is empty");
        return 400;
    }
    json_tokener *tok = json_tokener_new_ex(CG_WEB_JSON_DEPTH);
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return 400;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o || je != json_tokener_success) {
        snprintf(err, errlen, "the body is not JSON: %s",
                 je == json_tokener_continue ? "it ends too soon" : json_tokener_error_desc(je));
        json_object_put(o);
        return 400;
    }
    for (size_t i = used; i < len; i++)
        if (!strchr(" \t\r\n", body[i])) {
            snprintf(err, errlen, "the body has more after its JSON object (byte %zu)", i + 1);
            json_object_put(o);
            return 400;
        }
    if (!json_object_is_type(o, json_type_object)) {
        snprintf(err, errlen, "the body must be a JSON object");
        json_object_put(o);
        return 400;
    }
    *out = o;
    return 0;
}

int cg_web_json_str(json_object *o, const char *key, size_t maxlen, const char **s)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -1;
    size_t len = (size_t)json_object_get_string_len(v);
    const char *p = json_object_get_string(v);
    if (len > maxlen || memchr(p, '\0', len))
        return -1;
    *s = p;
    return 1;
}

int cg_web_json_ids(json_object *o, const char *key, size_t max, uint64_t **ids, size_t *n)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return -1;
    size_t len = json_object_array_length(v);
    if (len > max)
        return -1;
    uint64_t *r = calloc(len ? len : 1, sizeof *r);
    if (!r)
        return -1;
    for (size_t i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_int)) {
            free(r);
            return -1;
        }
        int64_t x = json_object_get_int64(e);
        if (x <= 0) {
            free(r);
            return -1;
        }
        r[i] = (uint64_t)x;
    }
    *ids = r;
    *n = len;
    return 1;
}
