/* fuzz_caseverify.c — libFuzzer harness: `canhgac case verify ARCHIVE` whole
 * (tools/cmd_case_verify.c over tools/casefile.c): an archive read member by
 * member in memory through libarchive (any tar, any compression), the
 * member names judged (absolute, '..', links, devices, outside the case's
 * directory, twice), the case's own soc-public.pem loaded, and every check.
 *
 * Input: the archive's bytes, written to a scratch file (libarchive reads
 * a file by name here, as the command does). Property: the command returns
 * 0, 1 or 2 and nothing else, and leaks nothing; its lines go to
 * /dev/null (stdout moved there for the call). The key's scratch file goes to /dev/shm (TMPDIR).
 * The seeds (corpus/caseverify/) are uncompressed tars of a small export
 * (so that mutations stay in tar's structure), one redacted, and tars with
 * a '..', an absolute and a link member.
 */
#include "tests/fuzz/fuzz_common.h"

#include "tools/casefile.c"
#include "tools/cmd_case_verify.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init, null_fd = -1;
    const char *path;
    char *argv[3];
    int rc, out;

    if (!init) {
        if (access("/dev/shm", W_OK) == 0)
            setenv("TMPDIR", "/dev/shm", 1);
        if ((null_fd = open("/dev/null", O_WRONLY)) < 0)
            abort();
        init = 1;
    }
    if (!(path = fz_file_named(data, size, ".tar")))
        return 0;
    argv[0] = (char *)"verify";
    argv[1] = (char *)path;
    argv[2] = NULL;
    /* its lines to /dev/null for the call (the replay's count stays on stdout) */
    fflush(stdout);
    if ((out = dup(1)) < 0 || dup2(null_fd, 1) < 0)
        abort();
    rc = cg_case_cmd_verify(2, argv);
    fflush(stdout);
    if (dup2(out, 1) < 0)
        abort();
    close(out);
    if (rc < 0 || rc > 2)
        abort();
    return 0;
}
