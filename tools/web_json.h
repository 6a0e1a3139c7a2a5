/* web_json.h — the console's JSON request bodies (json-c) and its error
 * answers. A body is parsed only whole and within its limit: at most max
 * bytes, an object at the top, nesting at most CG_WEB_JSON_DEPTH, nothing
 * after the object but white space. Strings taken from it are checked for
 * length and NUL here, so handlers see plain C strings.
 */
#ifndef CG_WEB_JSON_H
#define CG_WEB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define CG_WEB_JSON_MAX (64 * 1024)
#define CG_WEB_JSON_DEPTH 8

/* body[0..len): 0 and *out (json_object_put it); 413 when len > max; 400 for
 * what is not one JSON object (err says why, one line). */
int cg_web_json_parse(const char *body, size_t len, size_t max, json_object **out, char *err,
                      size_t errlen);

/* Member key of o as a string: 1 and *s (a view while o lives); 0 absent or
 * null; -1 not a string, longer than maxlen, or holding a NUL. */
int cg_web_json_str(json_object *o, const char *key, size_t maxlen, const char **s);

/* Member key of o as an array of ids (integers 1..2^63): 1 and *ids (free
 * it), *n (at most max); 0 absent; -1 otherwise. */
int cg_web_json_ids(json_object *o, const char *key, size_t max, uint64_t **ids, size_t *n);

#endif
