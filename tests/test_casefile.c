/* test_casefile.c — the case file's format and checks (tools/casefile.h).
 *
 *  1. MANIFEST.sha256: good lines (text and binary mode, upper-case hex, no
 *     final newline) and each kind of bad line named with its number; the
 *     paths a manifest may not list; a path listed twice.
 *  2. Strict base64: canonical only.
 *  3. custody.json: a good one, and each member missing or malformed named.
 *  4. The whole check over a case made here in memory (a key, a Merkle tree
 *     of 7 leaves whose leaves 2, 4 and 5 are incidents, a signed checkpoint,
 *     the manifest and its signature): it holds; then each tampering gives
 *     its one expected line: a file changed, missing, added; the signature
 *     changed, short, or of another key; the checkpoint's signature, another
 *     store's origin; a proof's path, a leaf's data, a leaf of another
 *     incident, an incident not in case.json, one with no proof.
 * `test_casefile --corpus DIR` writes seeds for tests/fuzz/fuzz_custody.c.
 * The file under test is compiled in (the Makefile links tests with the
 * library only; tools/casefile.c is the command's and self-contained).
 */
#include "tools/casefile.c"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/check.h"

/* ---- problems collected ------------------------------------------------------- */

typedef struct got {
    char buf[8192];
    size_t len;
    unsigned n;
} got;

static void collect(void *arg, const char *file, const char *msg)
{
    got *g = arg;
    int w = snprintf(g->buf + g->len, sizeof g->buf - g->len, "%s: %s\n", file, msg);
    if (w > 0 && g->len + (size_t)w < sizeof g->buf)
        g->len += (size_t)w;
    g->n++;
}

static void reset(got *g)
{
    g->buf[0] = 0;
    g->len = 0;
    g->n = 0;
}

/* ---- 1. the manifest ---------------------------------------------------------- */

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text, cg_manifest *m, got *g)
{
    reset(g);
    return cg_manifest_parse(text, strlen(text), m, collect, g);
}

static void test_manifest(void)
{
    cg_manifest m;
    got g;

    CHECK_EQ_U(parse(H64 "  a.json\n" H64 " *flows/1.pcap\n" H64 "  b", &m, &g), 0);
    CHECK_EQ_U(m.n, 3);
    CHECK_STR(m.e[0].path, "a.json");
    CHECK_STR(m.e[1].path, "flows/1.pcap");
    CHECK_STR(m.e[2].path, "b");
    CHECK_EQ_U(m.e[2].line, 3);
    CHECK_EQ_U(m.e[0].sha[0], 0x01);
    CHECK_EQ_U(m.e[0].sha[31], 0xef);
    cg_manifest_free(&m);
    CHECK_EQ_U(parse("0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF  x\n", &m,
                     &g),
               0);
    CHECK_EQ_U(m.n, 1);
    cg_manifest_free(&m);

    static const struct {
        const char *line, *why;
    } bad[] = {
        { H64 "  x\r", "ends in CR (a line end of Windows)" },
        { "", "an empty line" },
        { "0123  x", "not HEX64, two spaces (or a space and '*') and a path" },
        { H64 " x", "not HEX64, two spaces (or a space and '*') and a path" },
        { H64 "\tx y", "not HEX64, two spaces (or a space and '*') and a path" },
        { "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  x",
          "not HEX64, two spaces (or a space and '*') and a path" },
        { H64 "  /etc/passwd", "an absolute path" },
        { H64 "  ../x", "a '..' part in the path" },
        { H64 "  a/../x", "a '..' part in the path" },
        { H64 "  ./x", "a '.' part in the path" },
        { H64 "  a//b", "an empty part in the path" },
        { H64 "  a/", "a path ending in '/'" },
        { H64 "  a\\b", "a backslash in the path" },
        { H64 "  a\x01", "a control character in the path" },
        { H64 "  caf\xe9", "a path that is not UTF-8" },
        { H64 "  MANIFEST.sha256", "lists the manifest or its signature, which it cannot" },
        { H64 "  MANIFEST.sha256.sig", "lists the manifest or its signature, which it cannot" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512], want[512];
        snprintf(text, sizeof text, "%s  good\n%s\n", H64, bad[i].line);
        snprintf(want, sizeof want, "MANIFEST.sha256: line 2: %s\n", bad[i].why);
        CHECK_EQ_U(parse(text, &m, &g), 1);
        CHECK_STR(g.buf, want);
        CHECK_EQ_U(m.n, 1); /* the good line is kept */
        cg_manifest_free(&m);
    }
    /* "..." and "..x" are names like others */
    CHECK_EQ_U(parse(H64 "  ...\n" H64 "  ..x\n" H64 "  .hidden\n", &m, &g), 0);
    cg_manifest_free(&m);
    CHECK_EQ_U(parse(H64 "  a\n" H64 "  b\n" H64 "  a\n" H64 "  a\n", &m, &g), 2);
    CHECK_STR(g.buf,
              "MANIFEST.sha256: line 3: a listed again (line 1)\n"
              "MANIFEST.sha256: line 4: a listed again (line 1)\n");
    cg_manifest_free(&m);
    CHECK_EQ_U(parse("", &m, &g), 1);
    CHECK_STR(g.buf, "MANIFEST.sha256: empty: it lists no file\n");
    cg_manifest_free(&m);
    /* a NUL inside a line */
    {
        char text[200];
        size_t n = (size_t)snprintf(text, sizeof text, "%s  ab\n", H64);
        text[67] = 0;
        reset(&g);
        CHECK_EQ_U(cg_manifest_parse(text, n, &m, collect, &g), 1);
        CHECK_STR(g.buf, "MANIFEST.sha256: line 1: a NUL byte\n");
        cg_manifest_free(&m);
    }
    {
        char longp[1100];
        memset(longp, 'a', sizeof longp);
        CHECK(cg_casefile_path_why(longp, 1024) == NULL);
        CHECK_STR(cg_casefile_path_why(longp, 1025), "a path longer than 1024 bytes");
        CHECK_STR(cg_casefile_path_why("", 0), "an empty path");
        CHECK(cg_casefile_path_why("flows/x.pcap", 12) == NULL);
        CHECK(cg_casefile_path_why("h\xe1\xbb\x93 s\xc6\xa1.txt", 11) == NULL); /* "hồ sơ" */
    }
}

/* ---- 2. base64 ----------------------------------------------------------------------- */

static void test_base64(void)
{
    uint8_t *out = NULL;
    size_t n = 0;
    CHECK_EQ_U(cg_casefile_unbase64("aGVsbG8=", 8, &out, &n), 0);
    CHECK_EQ_U(n, 5);
    CHECK(out && !memcmp(out, "hello", 5));
    free(out);
    CHECK_EQ_U(cg_casefile_unbase64("aGk=", 4, &out, &n), 0);
    CHECK_EQ_U(n, 2);
    free(out);
    CHECK_EQ_U(cg_casefile_unbase64("aA==", 4, &out, &n), 0);
    CHECK_EQ_U(n, 1);
    free(out);
    CHECK_EQ_U(cg_casefile_unbase64("", 0, &out, &n), 0);
    CHECK_EQ_U(n, 0);
    free(out);
    CHECK_EQ_U(cg_casefile_unbase64("aGVsbG9=", 8, &out, &n), CG_EMALFORMED); /* bits left over */
    CHECK_EQ_U(cg_casefile_unbase64("aB==", 4, &out, &n), CG_EMALFORMED);
    CHECK_EQ_U(cg_casefile_unbase64("aGVsbG8", 7, &out, &n), CG_EMALFORMED);
    CHECK_EQ_U(cg_casefile_unbase64("aG=sbG8=", 8, &out, &n), CG_EMALFORMED);
    CHECK_EQ_U(cg_casefile_unbase64("a===", 4, &out, &n), CG_EMALFORMED);
    CHECK_EQ_U(cg_casefile_unbase64("aGk-", 4, &out, &n), CG_EMALFORMED);
}

/* ---- 3. custody.json ------------------------------------------------------------------ */

static int custody(const char *text, cg_custody *c, got *g)
{
    reset(g);
    return cg_custody_parse(text, strlen(text), c, collect, g);
}

static void test_custody(void)
{
    cg_custody c;
    got g;
    const char *good = "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},"
                       "\"checkpoint\":\"o\\n1\\nAAA=\\n\",\"redact_payload\":false,"
                       "\"incidents\":[{\"id\":7,\"leaf_index\":3,\"leaf_hash\":\"" H64 "\","
                       "\"leaf_data\":\"aGk=\",\"path\":[\"" H64 "\",\"" H64 "\"]}]}";
    CHECK_EQ_U(custody(good, &c, &g), 0);
    CHECK_STR(c.origin, "o");
    CHECK_EQ_U(c.checkpoint_len, 9);
    CHECK_EQ_U(c.n, 1);
    CHECK_EQ_U(c.p[0].id, 7);
    CHECK_EQ_U(c.p[0].leaf, 3);
    CHECK_EQ_U(c.p[0].npath, 2);
    CHECK_EQ_U(c.p[0].leaf_len, 2);
    cg_custody_free(&c);

    static const struct {
        const char *text, *want;
    } bad[] = {
        { "", "custody.json: not JSON: it ends inside a value\n" },
        { "[1]", "custody.json: not a JSON object\n" },
        { "{} x", "custody.json: not JSON: unexpected character at byte 3\n" },
        { "{\"a\":1,}", NULL },
        { "{}",
          "custody.json: no \"format\" member\ncustody.json: no \"store\" member\n"
          "custody.json: no \"checkpoint\" member\ncustody.json: no \"redact_payload\" "
          "member\ncustody.json: no \"incidents\" member\n" },
        { "{\"format\":\"other/2\",\"store\":{\"origin\":\"o\"},\"checkpoint\":\"\","
          "\"redact_payload\":true,\"incidents\":[]}",
          "custody.json: format \"other/2\", not \"canhgac-case/1\"\n" },
        { "{\"format\":\"canhgac-case/1\",\"store\":{},\"checkpoint\":\"\",\"redact_payload\":"
          "true,\"incidents\":[]}",
          "custody.json: store: no \"origin\" member\n" },
        { "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},\"checkpoint\":1,"
          "\"redact_payload\":true,\"incidents\":[]}",
          "custody.json: \"checkpoint\" is not a string\n" },
        { "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},\"checkpoint\":\"\","
          "\"redact_payload\":true,\"incidents\":[{\"id\":-1,\"leaf_index\":0,\"leaf_hash\":\"" H64
          "\",\"path\":[]}]}",
          "custody.json: incidents[0]: \"id\" is not a non-negative integer\n" },
        { "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},\"checkpoint\":\"\","
          "\"redact_payload\":true,\"incidents\":[{\"id\":4,\"leaf_index\":0,\"leaf_hash\":\"ab\","
          "\"path\":[]}]}",
          "custody.json: incident 4: leaf_hash is not 64 hex digits\n" },
        { "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},\"checkpoint\":\"\","
          "\"redact_payload\":false,\"incidents\":[{\"id\":4,\"leaf_index\":0,\"leaf_hash\":\"" H64
          "\",\"path\":[]}]}",
          "custody.json: incident 4: no \"leaf_data\" member\n" },
        { "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},\"checkpoint\":\"\","
          "\"redact_payload\":false,\"incidents\":[{\"id\":4,\"leaf_index\":0,\"leaf_hash\":\"" H64
          "\",\"leaf_data\":\"a\",\"path\":[1]}]}",
          "custody.json: incident 4: leaf_data is not base64\n"
          "custody.json: incident 4: path[0] is not 64 hex digits\n" },
        { "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},\"checkpoint\":\"\","
          "\"redact_payload\":true,\"incidents\":[7]}",
          "custody.json: incidents[0] is not an object\n" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int n = custody(bad[i].text, &c, &g);
        CHECK(n >= 1);
        if (bad[i].want)
            CHECK_STR(g.buf, bad[i].want);
        else
            CHECK(!strncmp(g.buf, "custody.json: not JSON: ", 24));
        cg_custody_free(&c);
    }
    /* a path of 65 hashes */
    {
        char *t = malloc(8000);
        size_t l = (size_t)sprintf(t,
                                   "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"o\"},"
                                   "\"checkpoint\":\"\",\"redact_payload\":true,\"incidents\":"
                                   "[{\"id\":4,\"leaf_index\":0,\"leaf_hash\":\"%s\",\"path\":[",
                                   H64);
        for (int i = 0; i < 65; i++)
            l += (size_t)sprintf(t + l, "%s\"%s\"", i ? "," : "", H64);
        strcpy(t + l, "]}]}");
        CHECK_EQ_U(custody(t, &c, &g), 1);
        CHECK_STR(g.buf, "custody.json: incident 4: a path of 65 hashes (at most 64)\n");
        cg_custody_free(&c);
        free(t);
    }
    /* case.json's ids */
    {
        uint64_t *ids;
        size_t n;
        const char *cj = "{\"incidents\":[{\"incident\":{\"incident_id\":3}},"
                         "{\"incident\":{\"incident_id\":9}}]}";
        reset(&g);
        CHECK_EQ_U(cg_casejson_ids(cj, strlen(cj), &ids, &n, collect, &g), 0);
        CHECK_EQ_U(n, 2);
        CHECK_EQ_U(ids[1], 9);
        free(ids);
        cj = "{\"incidents\":[{\"incident\":{\"incident_id\":\"3\"}}]}";
        reset(&g);
        CHECK_EQ_U(cg_casejson_ids(cj, strlen(cj), &ids, &n, collect, &g), 1);
        CHECK_STR(g.buf, "case.json: incidents[0]: \"incident_id\" is not a number\n");
        free(ids);
        /* the scanner: what it reads past, what it names */
        static const struct {
            const char *text, *want;
            size_t nids;
        } sc[] = {
            { " {\"a\":[1,-2.5e+3,true,false,null,{\"incident_id\":7}],\"s\":\"\\u00e9\\n\\\"x\","
              "\"incidents\":[{\"x\":{\"incident_id\":1},\"incident\":{\"a\":[],\"incident_id\":"
              "42}},{\"incident\":{\"incident_id\":0}}]} \n",
              "", 2 },
            { "{\"incidents\":[]}", "", 0 },
            { "{}", "case.json: no \"incidents\" member\n", 0 },
            { "[]", "case.json: not a JSON object\n", 0 },
            { "{\"incidents\":{}}", "case.json: \"incidents\" is not an array\n", 0 },
            { "{\"incidents\":[3,{\"incident\":[]},{\"incident\":{}},{\"incident\":{\"incident_"
              "id\":-1}},"
              "{\"incident\":{\"incident_id\":1.5}},{\"incident\":{\"incident_id\":"
              "99999999999999999999}},{\"incident\":{\"incident_id\":null}}]}",
              "case.json: incidents[0]: not an object\ncase.json: incidents[0]: no \"incident\" "
              "member\ncase.json: incidents[1]: \"incident\" is not an object\ncase.json: "
              "incidents[1]: no \"incident_id\" member\ncase.json: incidents[2]: no "
              "\"incident_id\" "
              "member\ncase.json: incidents[3]: \"incident_id\" is not a non-negative integer\n"
              "case.json: incidents[4]: \"incident_id\" is not a non-negative integer\ncase.json: "
              "incidents[5]: \"incident_id\" is not a non-negative integer\ncase.json: "
              "incidents[6]: \"incident_id\" is not a number\n",
              0 },
            { "", "case.json: not JSON: it ends before a value at byte 0\n", 0 },
            { "{\"a\":1} x", "case.json: not JSON: more after the value at byte 8\n", 0 },
            { "{\"a\":\"\x01\"}",
              "case.json: not JSON: a control character in a string at byte 6\n", 0 },
            { "{\"a\":\"\\x\"}", "case.json: not JSON: a bad escape at byte 7\n", 0 },
            { "{\"a\":\"\\u12g4\"}", "case.json: not JSON: a bad \\u escape at byte 7\n", 0 },
            { "{\"a\":01}", "case.json: not JSON: no ',' or '}' in an object at byte 6\n", 0 },
            { "{\"a\":1.}", "case.json: not JSON: a bad number at byte 7\n", 0 },
            { "{\"a\":tru}", "case.json: not JSON: not a value at byte 5\n", 0 },
            { "{\"a\" 1}", "case.json: not JSON: no ':' after a key at byte 5\n", 0 },
            { "{1:2}", "case.json: not JSON: a key is not a string at byte 1\n", 0 },
            { "{\"a\":[1 2]}", "case.json: not JSON: no ',' or ']' in an array at byte 8\n", 0 },
            { "{\"a\":\"x", "case.json: not JSON: it ends inside a string at byte 7\n", 0 },
        };
        for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
            reset(&g);
            int rc = cg_casejson_ids(sc[i].text, strlen(sc[i].text), &ids, &n, collect, &g);
            CHECK_STR(g.buf, sc[i].want);
            CHECK_EQ_U(rc, g.n);
            CHECK_EQ_U(n, sc[i].nids);
            if (i == 0 && n == 2)
                CHECK(ids[0] == 42 && ids[1] == 0);
            free(ids);
        }
        /* nested 64 deep is fine, 65 is not */
        {
            char deep[200];
            size_t l = 0;
            for (int d = 0; d < 65; d++)
                deep[l++] = '[';
            for (int d = 0; d < 65; d++)
                deep[l++] = ']';
            reset(&g);
            CHECK_EQ_U(cg_casejson_ids(deep + 1, l - 2, &ids, &n, collect, &g), 1);
            CHECK_STR(g.buf, "case.json: not a JSON object\n");
            free(ids);
            reset(&g);
            CHECK_EQ_U(cg_casejson_ids(deep, l, &ids, &n, collect, &g), 2);
            CHECK(strstr(g.buf, "nested more than 64 deep at byte 64") != NULL);
            free(ids);
        }
    }
}

/* ---- 4. a whole case ------------------------------------------------------------------- */

#define NLEAVES 7
static uint8_t nodes[4][NLEAVES][32];

static int put_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[32])
{
    (void)ctx;
    memcpy(nodes[level][index], h, 32);
    return 0;
}

static int get_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    (void)ctx;
    memcpy(out, nodes[level][index], 32);
    return 0;
}

/* The case's files, as a reader hands them to the check. */
typedef struct fileset {
    char *name[16];
    char *data[16];
    size_t len[16];
    int n;
} fileset;

static void fs_set(fileset *fs, const char *name, const void *data, size_t len)
{
    int i = 0;
    while (i < fs->n && strcmp(fs->name[i], name))
        i++;
    if (i == fs->n) {
        fs->name[i] = strdup(name);
        fs->n++;
    } else {
        free(fs->data[i]);
    }
    fs->data[i] = malloc(len + 1);
    memcpy(fs->data[i], data, len);
    fs->data[i][len] = 0;
    fs->len[i] = len;
}

static void fs_del(fileset *fs, const char *name)
{
    for (int i = 0; i < fs->n; i++)
        if (!strcmp(fs->name[i], name)) {
            free(fs->name[i]);
            free(fs->data[i]);
            fs->n--;
            fs->name[i] = fs->name[fs->n];
            fs->data[i] = fs->data[fs->n];
            fs->len[i] = fs->len[fs->n];
            return;
        }
}

static const char *fs_get(const fileset *fs, const char *name)
{
    for (int i = 0; i < fs->n; i++)
        if (!strcmp(fs->name[i], name))
            return fs->data[i];
    return NULL;
}

static void fs_free(fileset *fs)
{
    for (int i = 0; i < fs->n; i++) {
        free(fs->name[i]);
        free(fs->data[i]);
    }
    fs->n = 0;
}

static void fs_copy(fileset *to, const fileset *from)
{
    memset(to, 0, sizeof *to);
    for (int i = 0; i < from->n; i++)
        fs_set(to, from->name[i], from->data[i], from->len[i]);
}

/* The manifest of every file but itself and its signature, and the signature. */
static void fs_sign(fileset *fs, const cg_key *k)
{
    char line[200], *m = calloc(1, 4096);
    uint8_t sha[32], sig[64];
    char hex[65];
    const char *order[] = { "case.json", "custody.json", "evidence.pcapng", "soc-public.pem" };
    for (size_t i = 0; i < 4; i++) {
        const char *d = fs_get(fs, order[i]);
        size_t len = 0;
        for (int j = 0; j < fs->n; j++)
            if (!strcmp(fs->name[j], order[i]))
                len = fs->len[j];
        cg_casefile_sha256(d, len, sha);
        cg_casefile_hex(sha, hex);
        snprintf(line, sizeof line, "%s  %s\n", hex, order[i]);
        strcat(m, line);
    }
    fs_set(fs, "MANIFEST.sha256", m, strlen(m));
    cg_key_sign(k, m, strlen(m), sig);
    fs_set(fs, "MANIFEST.sha256.sig", sig, 64);
    free(m);
}

static int check_fs(const fileset *fs, const cg_key *k, got *g, cg_casefile_result *res)
{
    cg_casefile_item it[16];
    for (int i = 0; i < fs->n; i++) {
        it[i].path = fs->name[i];
        cg_casefile_sha256(fs->data[i], fs->len[i], it[i].sha);
        it[i].data = (const uint8_t *)fs->data[i];
        it[i].len = fs->len[i];
    }
    reset(g);
    return cg_casefile_check(it, (size_t)fs->n, k, "KEY", collect, g, res);
}

/* custody.json of the leaves given (index, incident id), with leaf
 * leafdata_of's data and path hashes as they are. */
typedef struct tree {
    uint8_t data[NLEAVES][32];
    size_t len[NLEAVES];
    uint8_t root[32];
} tree;

static void b64(const uint8_t *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

static int as_case_json; /* each proof also an incident of case.json (--corpus) */

static char *custody_json(const tree *t, const char *checkpoint, const char *origin,
                          const int *leaves, const uint64_t *ids, int n)
{
    char *j = calloc(1, 65536), hex[65], b[200];
    size_t l = (size_t)sprintf(j,
                               "{\"format\":\"canhgac-case/1\",\"store\":{\"origin\":\"%s\"},"
                               "\"checkpoint\":\"",
                               origin);
    for (const char *c = checkpoint; *c; c++)
        l += (size_t)(*c == '\n' ? sprintf(j + l, "\\n") : sprintf(j + l, "%c", *c));
    l += (size_t)sprintf(j + l, "\",\"redact_payload\":false,\"incidents\":[");
    for (int i = 0; i < n; i++) {
        uint8_t path[64][32], h[32];
        unsigned np = 0;
        cg_mt_inclusion(get_node, NULL, (uint64_t)leaves[i], NLEAVES, path, &np);
        cg_mt_leaf_hash(t->data[leaves[i]], t->len[leaves[i]], h);
        cg_casefile_hex(h, hex);
        b64(t->data[leaves[i]], t->len[leaves[i]], b);
        l += (size_t)sprintf(j + l,
                             "%s{\"id\":%llu,\"leaf_index\":%d,\"leaf_hash\":\"%s\","
                             "\"leaf_data\":\"%s\",\"path\":[",
                             i ? "," : "", (unsigned long long)ids[i], leaves[i], hex, b);
        if (as_case_json)
            l += (size_t)sprintf(j + l - 9, ",\"incident\":{\"incident_id\":%llu},\"path\":[",
                                 (unsigned long long)ids[i]) -
                9;
        for (unsigned k = 0; k < np; k++) {
            cg_casefile_hex(path[k], hex);
            l += (size_t)sprintf(j + l, "%s\"%s\"", k ? "," : "", hex);
        }
        l += (size_t)sprintf(j + l, "]}");
    }
    strcpy(j + l, "]}");
    return j;
}

static void replace(fileset *fs, const char *name, const char *from, const char *to)
{
    const char *d = fs_get(fs, name);
    const char *at = strstr(d, from);
    char *n;
    CHECK(at != NULL);
    if (!at)
        return;
    n = malloc(strlen(d) - strlen(from) + strlen(to) + 1);
    sprintf(n, "%.*s%s%s", (int)(at - d), d, to, at + strlen(from));
    fs_set(fs, name, n, strlen(n));
    free(n);
}

/* The tree of 7 leaves, whose leaves 2, 4 and 5 are incidents 10, 11, 12. */
static void make_tree(tree *t, const int *leaves, const uint64_t *ids)
{
    cg_mt_frontier fr;
    memset(&fr, 0, sizeof fr);
    for (int i = 0; i < NLEAVES; i++) {
        uint8_t h[32];
        memset(t->data[i], 0, sizeof t->data[i]);
        t->data[i][0] = 2; /* an alert, say */
        t->data[i][9] = (uint8_t)i;
        t->len[i] = 20;
        for (int k = 0; k < 3; k++)
            if (leaves[k] == i) {
                t->data[i][0] = 1;
                t->data[i][8] = (uint8_t)ids[k];
            }
        cg_mt_leaf_hash(t->data[i], t->len[i], h);
        CHECK_EQ_U(cg_mt_frontier_append(&fr, h, put_node, NULL), 0);
    }
    cg_mt_frontier_root(&fr, t->root);
}

/* --corpus DIR: seeds for tests/fuzz/fuzz_custody.c, signed by its fixed
 * key (Go's sumdb/note example key): a custody.json that is a case.json
 * too, whose checkpoint and proofs hold, and variants. */
static int write_corpus(const char *dir)
{
    static const char seed64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const int leaves[] = { 2, 4, 5 };
    const uint64_t ids[] = { 10, 11, 12 };
    uint8_t raw[33];
    char path[4096], text[256], *note = NULL, *c;
    size_t nlen;
    cg_key *k = NULL;
    EVP_PKEY *pk;
    BIO *b;
    char *pem, err[256];
    long n;
    tree t;
    FILE *f;

    EVP_DecodeBlock(raw, (const unsigned char *)seed64, (int)sizeof seed64 - 1);
    pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 1, 32);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
    n = BIO_get_mem_data(b, &pem);
    snprintf(path, sizeof path, "%s/.key.pem", dir);
    f = fopen(path, "w");
    if (!f)
        return 1;
    fwrite(pem, 1, (size_t)n, f);
    fclose(f);
    chmod(path, 0600);
    if (cg_key_load_private(&k, path, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    unlink(path);
    BIO_free(b);
    EVP_PKEY_free(pk);
    make_tree(&t, leaves, ids);
    cg_checkpoint_format("canhgac.store/0123", NLEAVES, t.root, text, sizeof text);
    cg_note_sign(k, "canhgac.store/0123", text, &note, &nlen);
    as_case_json = 1;
    for (int v = 0; v < 3; v++) {
        c = custody_json(&t, note, v == 2 ? "canhgac.store/9999" : "canhgac.store/0123", leaves,
                         ids, v == 1 ? 2 : 3);
        snprintf(path, sizeof path, "%s/made-%d.json", dir, v);
        if (!(f = fopen(path, "w")))
            return 1;
        fputs(c, f);
        fclose(f);
        free(c);
    }
    as_case_json = 0;
    free(note);
    cg_key_free(k);
    return 0;
}

static void test_case(void)
{
    char dir[] = "/tmp/test_casefile.XXXXXX", priv[80], pub[80], err[256], text[256];
    char *note = NULL, *note2 = NULL, *cus, *pem = NULL;
    size_t nlen, plen;
    cg_key *k = NULL, *k2 = NULL;
    tree t;
    fileset fs, x;
    got g;
    cg_casefile_result res;
    const int leaves[] = { 2, 4, 5 };
    const uint64_t ids[] = { 10, 11, 12 };

    CHECK(mkdtemp(dir) != NULL);
    snprintf(priv, sizeof priv, "%s/p.pem", dir);
    snprintf(pub, sizeof pub, "%s/q.pem", dir);
    CHECK_EQ_U(cg_key_init(priv, pub, err, sizeof err), 0);
    CHECK_EQ_U(cg_key_load_private(&k, priv, err, sizeof err), 0);
    unlink(priv), unlink(pub);
    CHECK_EQ_U(cg_key_init(priv, pub, err, sizeof err), 0);
    CHECK_EQ_U(cg_key_load_private(&k2, priv, err, sizeof err), 0);
    unlink(priv), unlink(pub), rmdir(dir);

    /* 7 leaves; 2, 4 and 5 are incidents 10, 11, 12 (kind 1 | be64 id | a record) */
    make_tree(&t, leaves, ids);
    CHECK(cg_checkpoint_format("canhgac.store/0123", NLEAVES, t.root, text, sizeof text) > 0);
    CHECK_EQ_U(cg_note_sign(k, "canhgac.store/0123", text, &note, &nlen), 0);
    cus = custody_json(&t, note, "canhgac.store/0123", leaves, ids, 3);
    memset(&fs, 0, sizeof fs);
    fs_set(&fs, "custody.json", cus, strlen(cus));
    free(cus);
    const char *cj = "{\"incidents\":[{\"incident\":{\"incident_id\":10}},"
                     "{\"incident\":{\"incident_id\":11}},{\"incident\":{\"incident_id\":12}}]}";
    fs_set(&fs, "case.json", cj, strlen(cj));
    fs_set(&fs, "evidence.pcapng", "packets", 7);
    cg_key_public_pem(k, &pem, &plen);
    fs_set(&fs, "soc-public.pem", pem, plen);
    free(pem);
    fs_sign(&fs, k);

    CHECK_EQ_U(check_fs(&fs, k, &g, &res), 0);
    CHECK_STR(g.buf, "");
    CHECK_EQ_U(res.files, 4);
    CHECK_EQ_U(res.proofs, 3);
    CHECK_EQ_U(res.tree_size, NLEAVES);
    CHECK_STR(res.origin, "canhgac.store/0123");

    /* a file changed, missing, added */
    fs_copy(&x, &fs);
    fs_set(&x, "evidence.pcapng", "packetz", 7);
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf, "evidence.pcapng: SHA-256 does not match MANIFEST.sha256 line 3\n");
    fs_del(&x, "evidence.pcapng");
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf, "evidence.pcapng: missing (MANIFEST.sha256 line 3)\n");
    fs_free(&x);
    fs_copy(&x, &fs);
    fs_set(&x, "flows/1.pcap", "x", 1);
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf, "flows/1.pcap: not in MANIFEST.sha256\n");
    fs_free(&x);
    /* the signature: changed, short, another key's, no key */
    fs_copy(&x, &fs);
    x.data[x.n - 1][5] ^= 1;
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf, "MANIFEST.sha256.sig: signature does not verify with KEY\n");
    x.len[x.n - 1] = 63;
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf, "MANIFEST.sha256.sig: 63 bytes, not a 64-byte Ed25519 signature\n");
    fs_free(&x);
    CHECK_EQ_U(check_fs(&fs, k2, &g, &res), CG_ECORRUPT);
    CHECK_EQ_U(g.n, 2);
    CHECK(!strncmp(g.buf,
                   "MANIFEST.sha256.sig: signature does not verify with KEY\n"
                   "custody.json: the checkpoint is not signed by KEY (",
                   107));
    CHECK_EQ_U(check_fs(&fs, NULL, &g, &res), CG_ECORRUPT);
    CHECK_EQ_U(g.n, 2);
    fs_copy(&x, &fs);
    fs_del(&x, "MANIFEST.sha256");
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf, "MANIFEST.sha256: missing: nothing says what the case holds\n");
    fs_free(&x);

    /* custody.json changed and the manifest signed again (an insider) */
    fs_copy(&x, &fs);
    {
        const char *c = fs_get(&x, "custody.json");
        const char *sig =
            strstr(c, "\\u2014") ? NULL : strstr(c, "\xe2\x80\x94 canhgac.store/0123 ");
        CHECK(sig != NULL);
        if (sig) {
            char from[16];
            snprintf(from, sizeof from, "%.10s", sig + strlen("\xe2\x80\x94 canhgac.store/0123 "));
            replace(&x, "custody.json", from, "AAAAAAAAAA");
        }
    }
    fs_sign(&x, k);
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK(strstr(g.buf, "custody.json: the checkpoint") != NULL);
    CHECK_EQ_U(g.n, 1);
    fs_free(&x);
    /* another store's checkpoint, signed by the same key */
    CHECK(cg_checkpoint_format("canhgac.store/9999", NLEAVES, t.root, text, sizeof text) > 0);
    CHECK_EQ_U(cg_note_sign(k, "canhgac.store/9999", text, &note2, &nlen), 0);
    cus = custody_json(&t, note2, "canhgac.store/0123", leaves, ids, 3);
    fs_copy(&x, &fs);
    fs_set(&x, "custody.json", cus, strlen(cus));
    free(cus);
    fs_sign(&x, k);
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf,
              "custody.json: the checkpoint is of another store (canhgac.store/9999; the "
              "case's store is canhgac.store/0123)\n");
    fs_free(&x);
    /* a leaf that is not an incident's, one of another incident, data
     * changed, a path changed */
    {
        static const int l2[] = { 2, 3, 5 }, l3[] = { 2, 5, 5 };
        cus = custody_json(&t, note, "canhgac.store/0123", l2, ids, 3);
        fs_copy(&x, &fs);
        fs_set(&x, "custody.json", cus, strlen(cus));
        free(cus);
        fs_sign(&x, k);
        CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
        CHECK_STR(g.buf, "custody.json: incident 11: its leaf is not an incident's\n");
        fs_free(&x);
        cus = custody_json(&t, note, "canhgac.store/0123", l3, ids, 3);
        fs_copy(&x, &fs);
        fs_set(&x, "custody.json", cus, strlen(cus));
        free(cus);
        fs_sign(&x, k);
        CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
        CHECK_STR(g.buf, "custody.json: incident 11: its leaf is incident 12's\n");
        fs_free(&x);
    }
    {
        tree t2 = t;
        t2.data[4][15] ^= 1;
        cus = custody_json(&t2, note, "canhgac.store/0123", leaves, ids, 3);
        fs_copy(&x, &fs);
        fs_set(&x, "custody.json", cus, strlen(cus));
        free(cus);
        fs_sign(&x, k);
        CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
        CHECK_STR(g.buf,
                  "custody.json: incident 11: the inclusion proof does not verify against "
                  "the checkpoint (leaf 4 of 7)\n");
        fs_free(&x);
    }
    /* case.json and the proofs disagree */
    fs_copy(&x, &fs);
    replace(&x, "case.json", "\"incident_id\":12", "\"incident_id\":13");
    fs_sign(&x, k);
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK_STR(g.buf,
              "custody.json: incident 12: not one of case.json's incidents\n"
              "case.json: incident 13 has no inclusion proof in custody.json\n");
    fs_free(&x);
    fs_copy(&x, &fs);
    fs_del(&x, "custody.json");
    CHECK_EQ_U(check_fs(&x, k, &g, &res), CG_ECORRUPT);
    CHECK(strstr(g.buf, "custody.json: missing (MANIFEST.sha256 line 2)\n") != NULL);
    CHECK(strstr(g.buf, "custody.json: missing: the case has no checkpoint and no proofs\n"));
    fs_free(&x);

    fs_free(&fs);
    free(note);
    free(note2);
    cg_key_free(k);
    cg_key_free(k2);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--corpus"))
        return write_corpus(argv[2]);
    test_manifest();
    test_base64();
    test_custody();
    test_case();
    return check_done("casefile");
}
