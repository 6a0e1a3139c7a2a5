/* fuzz_manifest.c — libFuzzer harness: a case file's MANIFEST.sha256
 * (tools/casefile.h: cg_manifest_parse, cg_casefile_path_why).
 *
 * Input: the manifest's bytes (any; no NUL needed). Properties, each an
 * abort when broken:
 *  - the parse returns a count of problems (never below 0 but for
 *    CG_ENOMEM), the callback is called that many times;
 *  - every entry kept has a path cg_casefile_path_why accepts, a line
 *    number within the input's lines, in increasing order;
 *  - a manifest with no problem writes back ("HEX  PATH\n" per entry) to a
 *    text that parses to the same entries, again with no problem.
 * tools/casefile.c is compiled in (the fuzz builds link the library only).
 * The seeds (corpus/manifest/) are manifests of exports of the e2e test's
 * cases, binary-mode lines, and each kind of bad line.
 */
#include "tests/fuzz/fuzz_common.h"

#include "tools/casefile.c"

static void count(void *arg, const char *file, const char *msg)
{
    fz_touch(file, strlen(file));
    fz_touch(msg, strlen(msg));
    ++*(int *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_manifest m, again;
    int calls = 0, rc, lines = 0;
    char *text = NULL, hex[65];
    size_t len = 0;
    FILE *f;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    lines += size && data[size - 1] != '\n';
    rc = cg_manifest_parse((const char *)data, size, &m, count, &calls);
    if (rc == CG_ENOMEM) {
        cg_manifest_free(&m);
        return 0;
    }
    if (rc < 0 || rc != calls)
        abort();
    for (size_t i = 0; i < m.n; i++) {
        if (cg_casefile_path_why(m.e[i].path, strlen(m.e[i].path)) != NULL)
            abort();
        if (m.e[i].line == 0 || (int)m.e[i].line > lines || (i && m.e[i].line <= m.e[i - 1].line))
            abort();
        fz_touch(m.e[i].sha, 32);
    }
    if (rc == 0 && (f = open_memstream(&text, &len)) != NULL) {
        for (size_t i = 0; i < m.n; i++) {
            cg_casefile_hex(m.e[i].sha, hex);
            fprintf(f, "%s  %s\n", hex, m.e[i].path);
        }
        fclose(f);
        calls = 0;
        if (cg_manifest_parse(text, len, &again, count, &calls) != 0 || again.n != m.n)
            abort();
        for (size_t i = 0; i < m.n; i++)
            if (strcmp(again.e[i].path, m.e[i].path) || memcmp(again.e[i].sha, m.e[i].sha, 32))
                abort();
        cg_manifest_free(&again);
        free(text);
    }
    cg_manifest_free(&m);
    return 0;
}
