/* fuzz_common.h — helpers shared by the libFuzzer harnesses of tests/fuzz/.
 *
 * Each harness is one file fuzz_NAME.c defining LLVMFuzzerTestOneInput; it is
 * linked either with libFuzzer (clang, make fuzz) or with tests/fuzz/replay.c
 * (any compiler, make test-san). Invariants of every harness:
 *  - everything an input allocates is freed before the call returns (ASan's
 *    leak check is on), so state kept across inputs is only what a static
 *    init built once (rule sets, engines whose state is reset per input);
 *  - every byte of every buffer a parser hands out is read (fz_touch), so
 *    a view past its memory is found by ASan even when nothing matches on it;
 *  - nothing is written outside /dev/shm (or $TMPDIR when /dev/shm is absent).
 */
#ifndef CG_FUZZ_COMMON_H
#define CG_FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/buffers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of a view; the sum goes to a volatile sink. */
static volatile uint32_t fz_sink;
static inline void fz_touch(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += b[i];
    fz_sink += s;
}

static inline void fz_touch_bufset(const cg_bufset *bs)
{
    for (int id = 0; id < CG_BUF_COUNT; id++)
        for (unsigned i = 0; i < bs->n[id] && i < CG_BUF_MAX_INST; i++)
            fz_touch(bs->v[id][i].p, bs->v[id][i].len);
}

/* The path of a scratch file of this process whose name ends in suffix
 * (e.g. ".rules"; "" for none), made on first use; the input is written there
 * whole (truncated first) for the APIs that read only files. NULL when it
 * could not be written. The files are removed at exit. */
static char fz_path[4][80];
static void fz_unlink(void)
{
    for (int i = 0; i < 4; i++)
        if (fz_path[i][0])
            unlink(fz_path[i]);
}
static inline const char *fz_file_named(const uint8_t *data, size_t size, const char *suffix)
{
    int slot = !*suffix ? 0 : !strcmp(suffix, ".rules") ? 1 : !strcmp(suffix, ".conf") ? 2 : 3;
    char *path = fz_path[slot];
    if (!path[0]) {
        static int registered;
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(path, sizeof fz_path[0], "%s/cg-fuzz-%ld-%d%s", dir ? dir : "/tmp", (long)getpid(),
                 slot, suffix);
        if (!registered++)
            atexit(fz_unlink);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return NULL;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return NULL;
        }
        off += (size_t)w;
    }
    close(fd);
    return path;
}
static inline const char *fz_file(const uint8_t *data, size_t size)
{
    return fz_file_named(data, size, "");
}

/* A NUL-terminated copy of the input (malloc; the caller frees). */
static inline char *fz_str(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = 0;
    }
    return s;
}

/* Two-way stream input (fuzz_http.c, fuzz_tls.c): a header that says how to
 * cut the rest into pieces, then the bytes.
 *   byte 0: bits 0-3 n, the number of cut descriptors (0..15); bit 4 the
 *           direction of the last piece (1: to the server); bit 5: that last
 *           piece carries CG_REASM_END (fz_cut's flags use reasm.h's values);
 *   then n descriptors of 3 bytes: flags (bit 0: to the server, bit 1: GAP,
 *           bit 2: END) and a big-endian 16-bit length (cut to what is left);
 *   the rest: the bytes, cut in order into the n pieces and the last one.
 * An input shorter than its header is one piece to the server. fn is called
 * once per piece, in order. */
typedef void (*fz_piece_fn)(void *ctx, int to_server, const uint8_t *p, uint32_t len,
                            uint32_t flags);
static inline void fz_cut(const uint8_t *data, size_t size, fz_piece_fn fn, void *ctx,
                          uint32_t gap_flag, uint32_t end_flag)
{
    unsigned n = size ? data[0] & 15 : 0;
    if (size < 1 + 3 * (size_t)n) {
        fn(ctx, 1, data, (uint32_t)size, 0);
        return;
    }
    const uint8_t *d = data + 1 + 3 * n;
    size_t left = size - 1 - 3 * n;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *c = data + 1 + 3 * i;
        size_t len = (size_t)c[1] << 8 | c[2];
        if (len > left)
            len = left;
        fn(ctx, c[0] & 1, d, (uint32_t)len, (c[0] & 2 ? gap_flag : 0) | (c[0] & 4 ? end_flag : 0));
        d += len;
        left -= len;
    }
    fn(ctx, (data[0] >> 4) & 1, d, (uint32_t)left, data[0] & 0x20 ? end_flag : 0);
}

#endif
