/* replay.c — runs a libFuzzer harness without libFuzzer: a main() that calls
 * LLVMFuzzerTestOneInput once on every file given, and on every file of every
 * directory given (not recursing; names starting with '.' skipped), in name
 * order. Linked with one harness (tests/fuzz/fuzz_NAME.c) and built with the
 * normal compiler against any build of the library (make test-san uses
 * build-san, ASan+UBSan): the corpora in tests/fuzz/corpus/ become regression
 * tests that need no clang.
 *
 * Each input is read into a buffer of exactly its size (malloc), as libFuzzer
 * does, so a read past the end is found. A crash, a sanitizer report or a
 * leak ends the process (the sanitizers' own exit); otherwise the last line
 * is "replay: N inputs" and the status is 0, or 1 when a file could not be
 * read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return -1;
    }
    /* exactly n bytes, so that ASan sees a read past the end */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    unsigned long inputs = 0;
    int fail = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            perror(argv[i]);
            fail = 1;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            if (run_file(argv[i]) == 0)
                inputs++;
            else
                fail = 1;
            continue;
        }
        struct dirent **ents;
        int n = scandir(argv[i], &ents, NULL, NULL);
        if (n < 0) {
            perror(argv[i]);
            fail = 1;
            continue;
        }
        char **names = malloc(sizeof *names * (size_t)(n ? n : 1));
        int m = 0;
        for (int j = 0; j < n; j++) {
            if (names && ents[j]->d_name[0] != '.') {
                size_t l = strlen(argv[i]) + strlen(ents[j]->d_name) + 2;
                names[m] = malloc(l);
                if (names[m])
                    snprintf(names[m++], l, "%s/%s", argv[i], ents[j]->d_name);
            }
            free(ents[j]);
        }
        free(ents);
        if (names)
            qsort(names, (size_t)m, sizeof *names, cmp);
        for (int j = 0; j < m; j++) {
            if (stat(names[j], &sb) == 0 && S_ISREG(sb.st_mode)) {
                if (run_file(names[j]) == 0)
                    inputs++;
                else
                    fail = 1;
            }
            free(names[j]);
        }
        free(names);
    }
    printf("replay: %lu inputs\n", inputs);
    return fail;
}
