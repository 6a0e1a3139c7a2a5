/* web_http.h — the console's request parsing, pure functions over the
 * caller's bytes (no allocation, no I/O): percent-decoding, the query
 * string, the Cookie header, the request path and its refusal, the
 * access log's redaction of passwords.
 *
 * Every input is hostile: nothing here reads past the length or NUL it is
 * given, and an output buffer is written only up to its size, always
 * NUL-terminated when its size is not 0. A decoded NUL byte is refused
 * (C strings carry the values on).
 */
#ifndef CG_WEB_HTTP_H
#define CG_WEB_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* in[0..len) percent-decoded into out (plus_space: '+' is a space, as in a
 * query string). The decoded length, or -1 for a bad escape ("%4", "%zz"),
 * a decoded NUL, or an out too small. */
int cg_web_pct_decode(const char *in, size_t len, char *out, size_t outlen, int plus_space);

/* The value of name in the query string qs ("a=1&b=x%20y"; no '?'), decoded.
 * 1 found (the first), 0 absent, -1 malformed value or longer than outlen-1. A
 * name with no '=' has the value "". */
int cg_web_query_get(const char *qs, const char *name, char *out, size_t outlen);

/* The value of cookie name in a Cookie header ("a=b; cg_session=..."). 1
 * found, 0 absent, -1 longer than outlen-1. Values are taken as they are
 * (quotes stripped), not decoded. */
int cg_web_cookie_get(const char *header, const char *name, char *out, size_t outlen);

/* The request target target (as sent: path, then maybe '?' and the query)
 * split and checked: the decoded path into path (its size plen), the raw
 * query (NULL if none) in *qs, a view into target. 0 ok; 400 for a target
 * that is not an absolute path, a bad escape or a NUL; 404 for a path that
 * is not plain: an empty segment ("//"), "." or "..", a backslash, a
 * control byte (also when escaped: "%2e%2e", "%2f"). */
int cg_web_path_split(const char *target, char *path, size_t plen, const char **qs);

/* path's numeric segment after prefix ("/api/incidents/" + "42" [+ "/pcap"]):
 * 0 and *id (1..2^63) and *rest ("" or "/pcap"), else -1. */
int cg_web_path_id(const char *path, const char *prefix, uint64_t *id, const char **rest);

/* target for the access log: the value of every query parameter named
 * password (or passwd, token) replaced by "***"; control bytes as '?'. */
void cg_web_log_target(const char *target, char *out, size_t outlen);

#endif
