/* fuzz_probe.c — libFuzzer harness: the protocol probes, the bytes that tell
 * SSH, SMB, SMTP and FTP flows apart (cg_inspect_probe_bytes, inspect.h).
 *
 * Input: byte 0 bit 0 the direction (1: to the server), bit 1 whether the
 * server began with a "220" greeting; the rest is the direction's first
 * bytes, in a buffer of exactly their size (ASan sees a read past them). The
 * answer must be one of the probes' protocols or none; and, as the worker
 * asks once with what it has, a banner that names a protocol still names it
 * with bytes added after its first line (checked on a copy). Nothing is kept.
 */
#include "tests/fuzz/fuzz_common.h"

#include "analyzer/engine/inspect.h"
#include "analyzer/lang/rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int to_server = data[0] & 1, greeting = (data[0] >> 1) & 1;
    uint32_t n = (uint32_t)(size - 1);
    uint8_t *d = malloc(n ? n : 1);
    if (!d)
        abort();
    memcpy(d, data + 1, n);
    uint8_t app = cg_inspect_probe_bytes(d, n, to_server, greeting);
    if (app != CG_APP_NONE && app != CG_APP_SSH && app != CG_APP_SMB && app != CG_APP_SMTP &&
        app != CG_APP_FTP)
        abort();
    if (app != CG_APP_NONE && memchr(d, '\n', n)) {
        uint8_t *more = malloc(n + 16);
        if (!more)
            abort();
        memcpy(more, d, n);
        memset(more + n, 'x', 16);
        if (cg_inspect_probe_bytes(more, n + 16, to_server, greeting) != app)
            abort();
        free(more);
    }
    fz_sink += app;
    free(d);
    return 0;
}
