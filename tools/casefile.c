/* casefile.c — the case file's format (casefile.h): the manifest's parser,
 * custody.json and case.json read through json-c, and the checks of a case
 * given as a list of files.
 *
 * Invariants:
 *  - Every byte read is hostile: the manifest is parsed line by line with
 *    lengths, never as C strings; custody.json is parsed strictly (json-c's
 *    JSON_TOKENER_STRICT, UTF-8 validated), its strings taken with their
 *    lengths; numbers must be non-negative integers. case.json, which holds
 *    every alert and may be large, is scanned without building it in
 *    memory (its syntax checked, nesting bounded, the ids taken).
 *  - A problem is reported once, through the callback, and the parse goes
 *    on with the next line or member, so one run names every problem.
 *  - Self-contained over the library (store/keys.h, store/merkle.h, json-c,
 *    OpenSSL): the unit test and the fuzz harnesses compile this file as it
 *    is, without the command's other objects.
 */
#include "tools/casefile.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/output/utf8.h"
#include "store/merkle.h"

static void problem(cg_casefile_problem_fn fn, void *arg, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(cg_casefile_problem_fn fn, void *arg, const char *file, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (fn)
        fn(arg, file, msg);
}

/* ---- pieces ------------------------------------------------------------------ */

int cg_casefile_sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 ? 0 : CG_ENOMEM;
}

int cg_casefile_sha256_file(const char *path, uint8_t out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t *buf = malloc(1 << 16);
    unsigned int len = 0;
    int fd = -1, rc = CG_ENOMEM;
    ssize_t got;

    if (!c || !buf || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
        goto out;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = CG_EIO;
        goto out;
    }
    while ((got = read(fd, buf, 1 << 16)) > 0)
        if (EVP_DigestUpdate(c, buf, (size_t)got) != 1)
            goto out;
    if (got < 0) {
        rc = CG_EIO;
        goto out;
    }
    rc = EVP_DigestFinal_ex(c, out, &len) == 1 ? 0 : CG_ENOMEM;
out:
    if (fd >= 0) {
        int e = errno;
        close(fd);
        errno = e;
    }
    free(buf);
    EVP_MD_CTX_free(c);
    return rc;
}

void cg_casefile_hex(const uint8_t sha[32], char out[65])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[sha[i] >> 4];
        out[2 * i + 1] = hx[sha[i] & 15];
    }
    out[64] = 0;
}

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

/* 64 hex digits (either case) into 32 bytes: 0 or -1. */
static int unhex32(const char *s, size_t len, uint8_t out[32])
{
    if (len != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int a = hexval((unsigned char)s[2 * i]), b = hexval((unsigned char)s[2 * i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int cg_casefile_unbase64(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
    size_t pad = 0, n, o = 0;
    uint8_t *b;

    if (len % 4)
        return CG_EMALFORMED;
    if (len && s[len - 1] == '=')
        pad = len >= 2 && s[len - 2] == '=' ? 2 : 1;
    n = len / 4 * 3 - pad;
    if (!(b = malloc(n ? n : 1)))
        return CG_ENOMEM;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int last = i + 4 == len;
        for (int k = 0; k < 4; k++) {
            int c = (unsigned char)s[i + k];
            v[k] = last && c == '=' && k >= 4 - (int)pad ? 0 : b64val(c);
            if (v[k] < 0)
                goto bad;
        }
        uint32_t x =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        /* canonical: the bits the padding leaves over are zero */
        if (last && ((pad == 1 && (x & 0xff)) || (pad == 2 && (x & 0xffff))))
            goto bad;
        b[o++] = (uint8_t)(x >> 16);
        if (!(last && pad == 2))
            b[o++] = (uint8_t)(x >> 8);
        if (!(last && pad))
            b[o++] = (uint8_t)x;
    }
    *out = b;
    *outlen = n;
    return 0;
bad:
    free(b);
    return CG_EMALFORMED;
}

int cg_casefile_key_from_pem(const uint8_t *pem, size_t len, cg_key **out, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    int fd, rc;
    size_t off = 0;

    snprintf(path, sizeof path, "%s/canhgac-key.XXXXXX", dir && *dir ? dir : "/tmp");
    if ((fd = mkstemp(path)) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return CG_EIO;
    }
    while (off < len) {
        ssize_t w = write(fd, pem + off, len - off);
        if (w <= 0) {
            snprintf(err, errlen, "%s: %s", path, w < 0 ? strerror(errno) : "short write");
            close(fd);
            unlink(path);
            return CG_EIO;
        }
        off += (size_t)w;
    }
    close(fd);
    rc = cg_key_load_public(out, path, err, errlen);
    unlink(path);
    if (rc) {
        /* the message names the scratch file: name the case's file instead */
        const char *why = strstr(err, ": ");
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", why ? why + 2 : err);
        snprintf(err, errlen, "%s", tmp);
    }
    return rc;
}

/* ---- MANIFEST.sha256 --------------------------------------------------------- */

const char *cg_casefile_path_why(const char *p, size_t len)
{
    size_t part = 0;
    if (len == 0)
        return "an empty path";
    if (len > CG_CASEFILE_PATH_MAX)
        return "a path longer than 1024 bytes";
    if (p[0] == '/')
        return "an absolute path";
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return "a control character in the path";
        if (c == '\\')
            return "a backslash in the path";
        if (c == '/') {
            if (part == 0)
                return "an empty part in the path";
            part = 0;
            i++;
            continue;
        }
        if (c == '.' && part == 0) {
            size_t k = i;
            while (k < len && p[k] == '.')
                k++;
            if ((k == len || p[k] == '/') && k - i <= 2)
                return k - i == 1 ? "a '.' part in the path" : "a '..' part in the path";
        }
        size_t n = cg_utf8_seq((const unsigned char *)p + i, len - i);
        if (n == 0)
            return "a path that is not UTF-8";
        i += n;
        part += n;
    }
    if (part == 0)
        return "a path ending in '/'";
    return NULL;
}

void cg_manifest_free(cg_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].path);
    free(m->e);
    m->e = NULL;
    m->n = 0;
}

static int path_cmp(const void *a, const void *b)
{
    const cg_manifest_entry *x = *(const cg_manifest_entry *const *)a;
    const cg_manifest_entry *y = *(const cg_manifest_entry *const *)b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

int cg_manifest_parse(const char *buf, size_t len, cg_manifest *out, cg_casefile_problem_fn fn,
                      void *arg)
{
    const char *F = CG_CASEFILE_MANIFEST;
    size_t pos = 0, cap = 0;
    uint32_t line = 0;
    int bad = 0;

    out->e = NULL;
    out->n = 0;
    while (pos < len) {
        const char *l = buf + pos, *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        const char *why = NULL;
        uint8_t sha[32];

        pos += ll + (nl ? 1 : 0);
        line++;
        if (ll && l[ll - 1] == '\r')
            why = "ends in CR (a line end of Windows)";
        else if (ll == 0)
            why = "an empty line";
        else if (ll < 67 || unhex32(l, 64, sha) != 0)
            why = "not HEX64, two spaces (or a space and '*') and a path";
        else if (l[64] != ' ' || (l[65] != ' ' && l[65] != '*'))
            why = "not HEX64, two spaces (or a space and '*') and a path";
        else if (memchr(l, 0, ll))
            why = "a NUL byte";
        else
            why = cg_casefile_path_why(l + 66, ll - 66);
        if (!why &&
            ((ll - 66 == strlen(CG_CASEFILE_MANIFEST) &&
              !memcmp(l + 66, CG_CASEFILE_MANIFEST, ll - 66)) ||
             (ll - 66 == strlen(CG_CASEFILE_SIG) && !memcmp(l + 66, CG_CASEFILE_SIG, ll - 66))))
            why = "lists the manifest or its signature, which it cannot";
        if (why) {
            problem(fn, arg, F, "line %u: %s", line, why);
            bad++;
            continue;
        }
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            cg_manifest_entry *e = realloc(out->e, nc * sizeof *e);
            if (!e)
                return CG_ENOMEM;
            out->e = e;
            cap = nc;
        }
        cg_manifest_entry *e = &out->e[out->n];
        if (!(e->path = strndup(l + 66, ll - 66)))
            return CG_ENOMEM;
        memcpy(e->sha, sha, 32);
        e->line = line;
        out->n++;
    }
    if (line == 0) {
        problem(fn, arg, F, "empty: it lists no file");
        return 1;
    }
    /* a path listed twice: the later lines are the problems */
    if (out->n > 1) {
        cg_manifest_entry **s = malloc(out->n * sizeof *s);
        if (!s)
            return CG_ENOMEM;
        for (size_t i = 0; i < out->n; i++)
            s[i] = &out->e[i];
        qsort(s, out->n, sizeof *s, path_cmp);
        for (size_t i = 1; i < out->n; i++)
            if (!strcmp(s[i]->path, s[i - 1]->path)) {
                size_t k = i - 1;
                while (k > 0 && !strcmp(s[k - 1]->path, s[i]->path))
                    k--;
                problem(fn, arg, F, "line %u: %s listed again (line %u)", s[i]->line, s[i]->path,
                        s[k]->line);
                bad++;
            }
        free(s);
    }
    return bad;
}

/* ---- JSON ---------------------------------------------------------------------- */

/* The JSON value of buf[0..len), or NULL with a problem given for file. */
static json_object *parse_json(const char *buf, size_t len, const char *file,
                               cg_casefile_problem_fn fn, void *arg)
{
    json_tokener *tok;
    json_object *o;
    size_t end;

    if (len > INT_MAX) {
        problem(fn, arg, file, "larger than a case file's JSON can be");
        return NULL;
    }
    if (memchr(buf, 0, len)) {
        problem(fn, arg, file, "not JSON: a NUL byte at byte %zu",
                (size_t)((const char *)memchr(buf, 0, len) - buf));
        return NULL;
    }
    if (!(tok = json_tokener_new_ex(64)))
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, buf, (int)len);
    end = json_tokener_get_parse_end(tok);
    if (!o) {
        enum json_tokener_error e = json_tokener_get_error(tok);
        if (e == json_tokener_continue)
            problem(fn, arg, file, "not JSON: it ends inside a value");
        else
            problem(fn, arg, file, "not JSON: %s at byte %zu", json_tokener_error_desc(e), end);
    } else {
        while (end < len && strchr(" \t\r\n", buf[end]))
            end++;
        if (end < len) {
            problem(fn, arg, file, "not JSON: more after the value, at byte %zu", end);
            json_object_put(o);
            o = NULL;
        }
    }
    json_tokener_free(tok);
    return o;
}

/* A member of type t, or NULL (with a problem when it is there but of
 * another type, or when need and it is missing). */
static json_object *member(json_object *o, const char *name, json_type t, int need,
                           const char *file, const char *where, cg_casefile_problem_fn fn,
                           void *arg, int *bad)
{
    json_object *v = NULL;
    static const char *const tn[] = { "null",      "a boolean", "a number", "a number",
                                      "an object", "an array",  "a string" };
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, name, &v)) {
        if (need) {
            problem(fn, arg, file, "%sno \"%s\" member", where, name);
            ++*bad;
        }
        return NULL;
    }
    if (!json_object_is_type(v, t)) {
        problem(fn, arg, file, "%s\"%s\" is not %s", where, name,
                (unsigned)t < sizeof tn / sizeof tn[0] ? tn[t] : "what it should be");
        ++*bad;
        return NULL;
    }
    return v;
}

/* A non-negative integer member: 0 and *out, or -1 (problem given). */
static int member_u64(json_object *o, const char *name, const char *file, const char *where,
                      cg_casefile_problem_fn fn, void *arg, int *bad, uint64_t *out)
{
    json_object *v = member(o, name, json_type_int, 1, file, where, fn, arg, bad);
    int64_t x;
    if (!v)
        return -1;
    errno = 0;
    x = json_object_get_int64(v);
    if (x < 0 || errno) {
        problem(fn, arg, file, "%s\"%s\" is not a non-negative integer", where, name);
        ++*bad;
        return -1;
    }
    *out = (uint64_t)x;
    return 0;
}

void cg_custody_free(cg_custody *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->p[i].leaf_data);
        free(c->p[i].path);
    }
    free(c->p);
    free(c->origin);
    free(c->checkpoint);
    memset(c, 0, sizeof *c);
}

/* incidents[i] of custody.json into p: the problems counted in *bad. */
static int take_proof(json_object *e, size_t i, cg_custody_proof *p, int redacted,
                      cg_casefile_problem_fn fn, void *arg, int *bad)
{
    const char *F = CG_CASEFILE_CUSTODY;
    char where[64];
    json_object *v, *path;
    int rc;

    snprintf(where, sizeof where, "incidents[%zu]: ", i);
    memset(p, 0, sizeof *p);
    if (!json_object_is_type(e, json_type_object)) {
        problem(fn, arg, F, "incidents[%zu] is not an object", i);
        ++*bad;
        return 0;
    }
    member_u64(e, "id", F, where, fn, arg, bad, &p->id);
    if (p->id)
        snprintf(where, sizeof where, "incident %llu: ", (unsigned long long)p->id);
    member_u64(e, "leaf_index", F, where, fn, arg, bad, &p->leaf);
    if ((v = member(e, "leaf_hash", json_type_string, 1, F, where, fn, arg, bad)) &&
        unhex32(json_object_get_string(v), (size_t)json_object_get_string_len(v), p->leaf_hash)) {
        problem(fn, arg, F, "%sleaf_hash is not 64 hex digits", where);
        ++*bad;
    }
    if ((v = member(e, "leaf_data", json_type_string, !redacted, F, where, fn, arg, bad))) {
        rc = cg_casefile_unbase64(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                                  &p->leaf_data, &p->leaf_len);
        if (rc == CG_ENOMEM)
            return rc;
        if (rc) {
            problem(fn, arg, F, "%sleaf_data is not base64", where);
            ++*bad;
        }
    }
    if ((path = member(e, "path", json_type_array, 1, F, where, fn, arg, bad))) {
        size_t n = json_object_array_length(path);
        if (n > CG_MT_MAXPROOF) {
            problem(fn, arg, F, "%sa path of %zu hashes (at most %d)", where, n, CG_MT_MAXPROOF);
            ++*bad;
        } else {
            if (!(p->path = calloc(n ? n : 1, 32)))
                return CG_ENOMEM;
            for (size_t k = 0; k < n; k++) {
                json_object *h = json_object_array_get_idx(path, k);
                if (!json_object_is_type(h, json_type_string) ||
                    unhex32(json_object_get_string(h), (size_t)json_object_get_string_len(h),
                            p->path[k])) {
                    problem(fn, arg, F, "%spath[%zu] is not 64 hex digits", where, k);
                    ++*bad;
                    break;
                }
            }
            p->npath = (unsigned)n;
        }
    }
    return 0;
}

int cg_custody_parse(const char *buf, size_t len, cg_custody *out, cg_casefile_problem_fn fn,
                     void *arg)
{
    const char *F = CG_CASEFILE_CUSTODY;
    json_object *root, *v, *st, *inc;
    int bad = 0, rc = 0;

    memset(out, 0, sizeof *out);
    if (!(root = parse_json(buf, len, F, fn, arg)))
        return 1;
    if (!json_object_is_type(root, json_type_object)) {
        problem(fn, arg, F, "not a JSON object");
        json_object_put(root);
        return 1;
    }
    if ((v = member(root, "format", json_type_string, 1, F, "", fn, arg, &bad)) &&
        strcmp(json_object_get_string(v), CG_CASEFILE_FORMAT)) {
        problem(fn, arg, F, "format \"%.100s\", not \"%s\"", json_object_get_string(v),
                CG_CASEFILE_FORMAT);
        bad++;
    }
    if ((st = member(root, "store", json_type_object, 1, F, "", fn, arg, &bad)) &&
        (v = member(st, "origin", json_type_string, 1, F, "store: ", fn, arg, &bad))) {
        if (!(out->origin = strdup(json_object_get_string(v))))
            goto nomem;
    }
    if ((v = member(root, "checkpoint", json_type_string, 1, F, "", fn, arg, &bad))) {
        out->checkpoint_len = (size_t)json_object_get_string_len(v);
        if (!(out->checkpoint = malloc(out->checkpoint_len + 1)))
            goto nomem;
        memcpy(out->checkpoint, json_object_get_string(v), out->checkpoint_len + 1);
    }
    if ((v = member(root, "redact_payload", json_type_boolean, 1, F, "", fn, arg, &bad)))
        out->redacted = json_object_get_boolean(v);
    if ((inc = member(root, "incidents", json_type_array, 1, F, "", fn, arg, &bad))) {
        size_t n = json_object_array_length(inc);
        if (n && !(out->p = calloc(n, sizeof *out->p)))
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            if ((rc = take_proof(json_object_array_get_idx(inc, i), i, &out->p[i], out->redacted,
                                 fn, arg, &bad)) != 0) {
                out->n = i + 1;
                goto nomem;
            }
            out->n = i + 1;
        }
    }
    json_object_put(root);
    return bad;
nomem:
    json_object_put(root);
    return CG_ENOMEM;
}

/* case.json: a case of many alerts is large (every alert is in it), so it
 * is scanned, never built in memory: a JSON scanner that checks the syntax
 * (RFC 8259: strings with their escapes and no control character, numbers,
 * literals, nesting up to 64) and takes the values at incidents[i].
 * incident.incident_id. Where in that path a value is, is its context. */
enum { JS_OTHER, JS_ROOT, JS_INCIDENTS, JS_ENTRY, JS_INCIDENT, JS_ID };

typedef struct js {
    const char *p, *end, *start;
    int depth;
    const char *err; /* the syntax error, when there is one */
    size_t err_at;
    uint64_t *ids;
    size_t n, cap;
    size_t entry; /* the index of the incidents[] entry being read */
    int found;    /* members found: 1 incidents, 2 incident, 4 incident_id */
    cg_casefile_problem_fn fn;
    void *arg;
    int bad;
    int nomem;
} js;

static int js_fail(js *j, const char *why)
{
    if (!j->err) {
        j->err = why;
        j->err_at = (size_t)(j->p - j->start);
    }
    return -1;
}

static void js_ws(js *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* A string at j->p (its opening quote); *raw and *rawlen its bytes between
 * the quotes, escapes as written. */
static int js_string(js *j, const char **raw, size_t *rawlen)
{
    const char *s = ++j->p;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20)
            return js_fail(j, "a control character in a string");
        if (c == '\\') {
            if (++j->p >= j->end)
                break;
            if (*j->p == 'u') {
                for (int k = 1; k <= 4; k++)
                    if (j->p + k >= j->end || hexval((unsigned char)j->p[k]) < 0)
                        return js_fail(j, "a bad \\u escape");
                j->p += 4;
            } else if (!strchr("\"\\/bfnrt", *j->p)) {
                return js_fail(j, "a bad escape");
            }
        }
        j->p++;
    }
    if (j->p >= j->end)
        return js_fail(j, "it ends inside a string");
    *raw = s;
    *rawlen = (size_t)(j->p - s);
    j->p++;
    return 0;
}

/* A number at j->p; *plain when it is digits only, with its value (or
 * UINT64_MAX past 2^63) in *v. */
static int js_number(js *j, int *plain, uint64_t *v)
{
    const char *s = j->p;
    int digits = 0;
    *v = 0;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0') {
        j->p++;
        digits = 1;
    } else {
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
            *v = *v > (UINT64_C(1) << 63) / 10 ? UINT64_MAX : *v * 10 + (uint64_t)(*j->p - '0');
            j->p++;
            digits++;
        }
    }
    if (!digits)
        return js_fail(j, "a bad number");
    *plain = s[0] != '-' && (j->p >= j->end || (*j->p != '.' && *j->p != 'e' && *j->p != 'E'));
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return js_fail(j, "a bad number");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return js_fail(j, "a bad number");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    if (*v > (uint64_t)INT64_MAX)
        *plain = 0;
    return 0;
}

static int js_value(js *j, int ctx);

static int js_key_is(const char *raw, size_t len, const char *name)
{
    return len == strlen(name) && !memcmp(raw, name, len);
}

static void js_problem_entry(js *j, const char *what)
{
    problem(j->fn, j->arg, CG_CASEFILE_CASE, "incidents[%zu]: %s", j->entry, what);
    j->bad++;
}

static int js_object(js *j, int ctx)
{
    j->p++;
    js_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        const char *k;
        size_t kl;
        int sub = JS_OTHER;
        js_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return js_fail(j,
                           j->p >= j->end ? "it ends inside an object" : "a key is not a string");
        if (js_string(j, &k, &kl))
            return -1;
        js_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return js_fail(j, "no ':' after a key");
        j->p++;
        if (ctx == JS_ROOT && js_key_is(k, kl, "incidents"))
            sub = JS_INCIDENTS, j->found |= 1;
        else if (ctx == JS_ENTRY && js_key_is(k, kl, "incident"))
            sub = JS_INCIDENT, j->found |= 2;
        else if (ctx == JS_INCIDENT && js_key_is(k, kl, "incident_id"))
            sub = JS_ID, j->found |= 4;
        if (js_value(j, sub))
            return -1;
        js_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return 0;
        }
        return js_fail(j,
                       j->p >= j->end ? "it ends inside an object" : "no ',' or '}' in an object");
    }
}

static int js_array(js *j, int ctx)
{
    j->p++;
    js_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return 0;
    }
    for (size_t i = 0;; i++) {
        int sub = JS_OTHER;
        if (ctx == JS_INCIDENTS) {
            j->entry = i;
            j->found &= ~6;
            sub = JS_ENTRY;
        }
        if (js_value(j, sub))
            return -1;
        if (ctx == JS_INCIDENTS && !(j->found & 2))
            js_problem_entry(j, "no \"incident\" member");
        else if (ctx == JS_INCIDENTS && !(j->found & 4))
            js_problem_entry(j, "no \"incident_id\" member");
        js_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return 0;
        }
        return js_fail(j, j->p >= j->end ? "it ends inside an array" : "no ',' or ']' in an array");
    }
}

static int js_value(js *j, int ctx)
{
    static const char *const lit[] = { "true", "false", "null" };
    int rc = 0, kind; /* kind: 0 object, 1 array, 2 other */
    js_ws(j);
    if (j->p >= j->end)
        return js_fail(j, "it ends before a value");
    if (++j->depth > 64)
        return js_fail(j, "nested more than 64 deep");
    kind = *j->p == '{' ? 0 : *j->p == '[' ? 1 : 2;
    if ((ctx == JS_ROOT || ctx == JS_ENTRY || ctx == JS_INCIDENT) && kind != 0) {
        if (ctx == JS_ROOT) {
            problem(j->fn, j->arg, CG_CASEFILE_CASE, "not a JSON object");
            j->bad++;
        } else {
            js_problem_entry(j,
                             ctx == JS_ENTRY ? "not an object" : "\"incident\" is not an object");
        }
        ctx = JS_OTHER;
    } else if (ctx == JS_INCIDENTS && kind != 1) {
        problem(j->fn, j->arg, CG_CASEFILE_CASE, "\"incidents\" is not an array");
        j->bad++;
        ctx = JS_OTHER;
    }
    if (kind == 0) {
        rc = js_object(j, ctx);
    } else if (kind == 1) {
        rc = js_array(j, ctx);
    } else if (*j->p == '"') {
        const char *r;
        size_t rl;
        rc = js_string(j, &r, &rl);
        if (!rc && ctx == JS_ID)
            js_problem_entry(j, "\"incident_id\" is not a number");
    } else if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
        int plain = 0;
        uint64_t v = 0;
        rc = js_number(j, &plain, &v);
        if (!rc && ctx == JS_ID) {
            if (!plain) {
                js_problem_entry(j, "\"incident_id\" is not a non-negative integer");
            } else {
                if (j->n == j->cap) {
                    size_t nc = j->cap ? j->cap * 2 : 64;
                    uint64_t *a = realloc(j->ids, nc * sizeof *a);
                    if (!a) {
                        j->nomem = 1;
                        return js_fail(j, "out of memory");
                    }
                    j->ids = a;
                    j->cap = nc;
                }
                j->ids[j->n++] = v;
            }
        }
    } else {
        size_t k = 0;
        for (; k < 3; k++)
            if ((size_t)(j->end - j->p) >= strlen(lit[k]) && !memcmp(j->p, lit[k], strlen(lit[k])))
                break;
        if (k == 3)
            return js_fail(j, "not a value");
        j->p += strlen(lit[k]);
        if (ctx == JS_ID)
            js_problem_entry(j, "\"incident_id\" is not a number");
    }
    j->depth--;
    return rc;
}

int cg_casejson_ids(const char *buf, size_t len, uint64_t **ids, size_t *n,
                    cg_casefile_problem_fn fn, void *arg)
{
    js j;

    memset(&j, 0, sizeof j);
    j.p = j.start = buf;
    j.end = buf + len;
    j.fn = fn;
    j.arg = arg;
    *ids = NULL;
    *n = 0;
    if (js_value(&j, JS_ROOT) == 0) {
        js_ws(&j);
        if (j.p < j.end)
            js_fail(&j, "more after the value");
    }
    if (j.nomem) {
        free(j.ids);
        return CG_ENOMEM;
    }
    if (j.err) {
        /* a case.json that is not JSON: no id is given (those before the
         * error may be said already) */
        problem(fn, arg, CG_CASEFILE_CASE, "not JSON: %s at byte %zu", j.err, j.err_at);
        free(j.ids);
        return j.bad + 1;
    }
    if (!(j.found & 1) && !j.bad) {
        problem(fn, arg, CG_CASEFILE_CASE, "no \"incidents\" member");
        j.bad++;
    }
    *ids = j.ids;
    *n = j.n;
    return j.bad;
}

/* ---- the checks ---------------------------------------------------------------- */

int cg_casefile_wants(const char *path)
{
    return !strcmp(path, CG_CASEFILE_MANIFEST) || !strcmp(path, CG_CASEFILE_SIG) ||
        !strcmp(path, CG_CASEFILE_CUSTODY) || !strcmp(path, CG_CASEFILE_CASE) ||
        !strcmp(path, CG_CASEFILE_PUBKEY);
}

typedef struct counter {
    cg_casefile_problem_fn fn;
    void *arg;
    unsigned n;
} counter;

static void count_problem(void *arg, const char *file, const char *msg)
{
    counter *c = arg;
    c->n++;
    if (c->fn)
        c->fn(c->arg, file, msg);
}

static const cg_casefile_item *find(const cg_casefile_item *items, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(items[i].path, path))
            return &items[i];
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int has_u64(const uint64_t *sorted, size_t n, uint64_t v)
{
    return n && bsearch(&v, sorted, n, sizeof v, cmp_u64) != NULL;
}

/* The files against the manifest (invariant 1). */
static int check_files(const cg_casefile_item *items, size_t n, const cg_manifest *m, counter *c,
                       cg_casefile_result *out)
{
    const char **listed = NULL;
    if (m->n && !(listed = malloc(m->n * sizeof *listed)))
        return CG_ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        const cg_casefile_item *it = find(items, n, m->e[i].path);
        listed[i] = m->e[i].path;
        if (!it)
            problem(count_problem, c, m->e[i].path, "missing (MANIFEST.sha256 line %u)",
                    m->e[i].line);
        else if (memcmp(it->sha, m->e[i].sha, 32))
            problem(count_problem, c, m->e[i].path,
                    "SHA-256 does not match MANIFEST.sha256 line %u", m->e[i].line);
        else
            out->files++;
    }
    for (size_t i = 0; i < n; i++) {
        int seen =
            !strcmp(items[i].path, CG_CASEFILE_MANIFEST) || !strcmp(items[i].path, CG_CASEFILE_SIG);
        for (size_t k = 0; k < m->n && !seen; k++)
            seen = !strcmp(listed[k], items[i].path);
        if (!seen)
            problem(count_problem, c, items[i].path, "not in MANIFEST.sha256");
    }
    free(listed);
    return 0;
}

/* custody.json's checkpoint and proofs, and case.json's incidents
 * (invariants 3 to 5). */
static int check_custody(const cg_casefile_item *items, size_t n, const cg_key *key,
                         const char *keyname, counter *c, cg_casefile_result *out)
{
    const cg_casefile_item *cu = find(items, n, CG_CASEFILE_CUSTODY);
    const cg_casefile_item *cj = find(items, n, CG_CASEFILE_CASE);
    const char *F = CG_CASEFILE_CUSTODY;
    cg_custody cus;
    uint64_t *ids = NULL, *pids = NULL, size = 0;
    size_t nids = 0;
    uint8_t root[32];
    char err[512], origin[128];
    int rc, have_cp = 0;

    if (!cu || !cu->data) {
        if (cu)
            problem(count_problem, c, F, "larger than %u bytes: not read", CG_CASEFILE_READ_MAX);
        else
            problem(count_problem, c, F, "missing: the case has no checkpoint and no proofs");
        return 0;
    }
    if ((rc = cg_custody_parse((const char *)cu->data, cu->len, &cus, count_problem, c)) < 0) {
        cg_custody_free(&cus);
        return rc;
    }
    out->redacted = cus.redacted;
    if (cus.checkpoint) {
        /* the key name of a checkpoint's signature is its origin: its first line */
        const char *nl = memchr(cus.checkpoint, '\n', cus.checkpoint_len);
        size_t ol = nl ? (size_t)(nl - cus.checkpoint) : 0;
        size_t tl = 0;
        if (ol == 0 || ol >= sizeof origin) {
            problem(count_problem, c, F, "the checkpoint has no origin line");
        } else if (!key) {
            problem(count_problem, c, F,
                    "the checkpoint and the proofs not checked: no public key to check it with");
        } else {
            memcpy(origin, cus.checkpoint, ol);
            origin[ol] = 0;
            rc = cg_note_verify(key, origin, cus.checkpoint, cus.checkpoint_len, &tl, err,
                                sizeof err);
            if (rc == CG_ENOMEM)
                goto out;
            if (rc == CG_ENOTFOUND)
                problem(count_problem, c, F, "the checkpoint is not signed by %s (%s)", keyname,
                        err);
            else if (rc == CG_ECORRUPT)
                problem(count_problem, c, F,
                        "the checkpoint's signature does not verify with %s: it was changed "
                        "after it was signed",
                        keyname);
            else if (rc)
                problem(count_problem, c, F, "the checkpoint is not a signed note: %s", err);
            else if ((rc = cg_checkpoint_parse(cus.checkpoint, tl, origin, sizeof origin, &size,
                                               root, err, sizeof err)) != 0)
                problem(count_problem, c, F, "the checkpoint does not parse: %s", err);
            else
                have_cp = 1;
            rc = 0;
            if (have_cp) {
                snprintf(out->origin, sizeof out->origin, "%s", origin);
                out->tree_size = size;
            }
            if (cus.origin && strcmp(origin, cus.origin)) {
                problem(count_problem, c, F,
                        "the checkpoint is of another store (%s; the case's store is %.100s)",
                        origin, cus.origin);
                have_cp = 0;
            }
        }
    }
    /* case.json's incidents */
    if (!cj || !cj->data) {
        problem(count_problem, c, CG_CASEFILE_CASE,
                cj ? "too large to read" : "missing: the case's incidents are not known");
    } else if ((rc = cg_casejson_ids((const char *)cj->data, cj->len, &ids, &nids, count_problem,
                                     c)) < 0) {
        goto out;
    }
    rc = 0;
    if (nids)
        qsort(ids, nids, sizeof *ids, cmp_u64);
    if (cus.n && !(pids = malloc(cus.n * sizeof *pids))) {
        rc = CG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < cus.n; i++) {
        const cg_custody_proof *p = &cus.p[i];
        uint8_t h[32];
        pids[i] = p->id;
        if (!p->id)
            continue; /* its problem was said */
        if (p->leaf_data) {
            if ((rc = cg_mt_leaf_hash(p->leaf_data, p->leaf_len, h)) != 0)
                goto out;
            if (memcmp(h, p->leaf_hash, 32)) {
                problem(count_problem, c, F,
                        "incident %llu: leaf_data does not hash to its leaf_hash",
                        (unsigned long long)p->id);
                continue;
            }
            if (p->leaf_len < 9 || p->leaf_data[0] != 1) {
                problem(count_problem, c, F, "incident %llu: its leaf is not an incident's",
                        (unsigned long long)p->id);
                continue;
            }
            uint64_t lid = 0;
            for (int k = 1; k <= 8; k++)
                lid = lid << 8 | p->leaf_data[k];
            if (lid != p->id) {
                problem(count_problem, c, F, "incident %llu: its leaf is incident %llu's",
                        (unsigned long long)p->id, (unsigned long long)lid);
                continue;
            }
        }
        if (cj && cj->data && !has_u64(ids, nids, p->id))
            problem(count_problem, c, F, "incident %llu: not one of case.json's incidents",
                    (unsigned long long)p->id);
        if (!have_cp)
            continue;
        if (p->leaf >= size) {
            problem(count_problem, c, F,
                    "incident %llu: leaf %llu is not in the checkpoint's tree of %llu leaves",
                    (unsigned long long)p->id, (unsigned long long)p->leaf,
                    (unsigned long long)size);
            continue;
        }
        rc = cg_mt_verify_inclusion(p->leaf_hash, p->leaf, size, (const uint8_t(*)[32])p->path,
                                    p->npath, root);
        if (rc == CG_ENOMEM)
            goto out;
        if (rc) {
            problem(count_problem, c, F,
                    "incident %llu: the inclusion proof does not verify against the checkpoint "
                    "(leaf %llu of %llu)",
                    (unsigned long long)p->id, (unsigned long long)p->leaf,
                    (unsigned long long)size);
            rc = 0;
            continue;
        }
        out->proofs++;
    }
    if (cus.n)
        qsort(pids, cus.n, sizeof *pids, cmp_u64);
    for (size_t i = 0; i < nids; i++)
        if (!has_u64(pids, cus.n, ids[i]) && (i == 0 || ids[i] != ids[i - 1]))
            problem(count_problem, c, CG_CASEFILE_CASE,
                    "incident %llu has no inclusion proof in custody.json",
                    (unsigned long long)ids[i]);
    rc = 0;
out:
    free(pids);
    free(ids);
    cg_custody_free(&cus);
    return rc;
}

int cg_casefile_check(const cg_casefile_item *items, size_t n, const cg_key *key,
                      const char *keyname, cg_casefile_problem_fn fn, void *arg,
                      cg_casefile_result *out)
{
    const cg_casefile_item *man = find(items, n, CG_CASEFILE_MANIFEST);
    const cg_casefile_item *sig = find(items, n, CG_CASEFILE_SIG);
    counter c = { fn, arg, 0 };
    cg_manifest m = { 0 };
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (!man || !man->data) {
        problem(count_problem, &c, CG_CASEFILE_MANIFEST,
                man ? "too large to read" : "missing: nothing says what the case holds");
    } else {
        if ((rc = cg_manifest_parse((const char *)man->data, man->len, &m, count_problem, &c)) < 0)
            goto out;
        if ((rc = check_files(items, n, &m, &c, out)) != 0)
            goto out;
    }
    if (!sig || !sig->data)
        problem(count_problem, &c, CG_CASEFILE_SIG, "missing: the manifest is not signed");
    else if (sig->len != CG_KEY_SIG_LEN)
        problem(count_problem, &c, CG_CASEFILE_SIG, "%zu bytes, not a 64-byte Ed25519 signature",
                sig->len);
    else if (!key)
        problem(count_problem, &c, CG_CASEFILE_SIG, "not checked: no public key to check it with");
    else if (man && man->data) {
        rc = cg_key_verify(key, man->data, man->len, sig->data);
        if (rc == CG_ENOMEM)
            goto out;
        if (rc)
            problem(count_problem, &c, CG_CASEFILE_SIG, "signature does not verify with %s",
                    keyname);
    }
    rc = check_custody(items, n, key, keyname, &c, out);
out:
    cg_manifest_free(&m);
    out->problems = c.n;
    if (rc)
        return rc;
    return c.n ? CG_ECORRUPT : 0;
}
