/* eve_file.c — the EVE file: whole lines appended, or none. The contract and
 * the invariants are eve_file.h's.
 *
 * Why not stdio: a FILE writes its buffer when the buffer is full, which is
 * mostly in the middle of a line, and after a failed write it keeps what it
 * could not write and tries again at fclose, when the space a cut freed may
 * take half of it. Here the buffer holds whole lines whose ends are known,
 * so after a write cut short the file can be brought back to the end of the
 * last whole line, and nothing is written after the first failure.
 */
#include "analyzer/output/eve_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/error.h"

#define BUF_START (64u << 10)
#define LINES_MAX 4096u /* lines the buffer holds before it is written */

struct cg_eve_file {
    int fd;
    int is_stdout;
    int code;  /* 0, or the error for good (invariant 2) */
    char *buf; /* whole lines only (invariant 3) */
    size_t len, cap;
    uint32_t nlines;
    uint32_t end[LINES_MAX]; /* each buffered line's end in buf */
    uint8_t kind[LINES_MAX];
    uint64_t lost[CG_EVE_FILE_KINDS];
    char msg[4200];
    char path[];
};

static int code_of(int e)
{
    if (e == ENOSPC || e == EDQUOT || e == EFBIG)
        return CG_EFULL;
    return e == ENOMEM ? CG_ENOMEM : CG_EIO;
}

static int open_fd(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
}

int cg_eve_file_open(cg_eve_file **out, const char *path, char *err, size_t errlen)
{
    size_t pl = strlen(path);
    cg_eve_file *f = calloc(1, sizeof *f + pl + 1);
    if (!f || !(f->buf = malloc(BUF_START))) {
        free(f);
        snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
        return CG_ENOMEM;
    }
    memcpy(f->path, path, pl + 1);
    f->cap = BUF_START;
    f->is_stdout = !strcmp(path, "-");
    f->fd = f->is_stdout ? STDOUT_FILENO : open_fd(path);
    if (f->fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        free(f->buf);
        free(f);
        return code_of(e);
    }
    *out = f;
    return 0;
}

/* The write at buf[0 .. len) failed with e after done bytes had reached the
 * file: the part of a line among them is cut off again (invariant 1), the
 * lines not whole in the file are counted lost, and e is the handle's
 * error from now on. */
static int fail(cg_eve_file *f, int e, size_t done)
{
    size_t whole = 0;
    uint32_t i = 0;
    while (i < f->nlines && f->end[i] <= done)
        whole = f->end[i++];
    for (; i < f->nlines; i++)
        f->lost[f->kind[i]]++;
    struct stat sb;
    if (done > whole && !f->is_stdout && fstat(f->fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        (uint64_t)sb.st_size >= done - whole) {
        if (ftruncate(f->fd, sb.st_size - (off_t)(done - whole)) != 0) {
            /* the half line stays; the error below is still the one said */
        }
    }
    f->len = 0;
    f->nlines = 0;
    f->code = code_of(e);
    snprintf(f->msg, sizeof f->msg, "%s: %s", f->is_stdout ? "standard output" : f->path,
             strerror(e));
    return f->code;
}

int cg_eve_file_flush(cg_eve_file *f)
{
    if (f->code)
        return f->code;
    size_t done = 0;
    while (done < f->len) {
        ssize_t n = write(f->fd, f->buf + done, f->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(f, n < 0 ? errno : EIO, done);
        done += (size_t)n;
    }
    f->len = 0;
    f->nlines = 0;
    return 0;
}

int cg_eve_file_put(cg_eve_file *f, unsigned kind, const struct iovec *v, int n)
{
    if (f->code)
        return f->code;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += v[i].iov_len;
    if (f->len + total > f->cap || f->nlines == LINES_MAX) {
        int rc = cg_eve_file_flush(f);
        if (rc)
            return rc;
    }
    if (total > f->cap) {
        char *nb = realloc(f->buf, total);
        if (!nb)
            return fail(f, ENOMEM, 0);
        f->buf = nb;
        f->cap = total;
    }
    for (int i = 0; i < n; i++) {
        if (!v[i].iov_len)
            continue; /* an empty piece may have no base (memcpy's NULL is undefined) */
        memcpy(f->buf + f->len, v[i].iov_base, v[i].iov_len);
        f->len += v[i].iov_len;
    }
    f->end[f->nlines] = (uint32_t)f->len;
    f->kind[f->nlines] = (uint8_t)(kind < CG_EVE_FILE_KINDS ? kind : CG_EVE_FILE_KINDS - 1);
    f->nlines++;
    return 0;
}

int cg_eve_file_reopen(cg_eve_file *f, char *err, size_t errlen)
{
    if (f->is_stdout) {
        snprintf(err, errlen, "no EVE file to reopen");
        return CG_EINVAL;
    }
    int rc = cg_eve_file_flush(f);
    if (rc) {
        snprintf(err, errlen, "%s", f->msg);
        return rc;
    }
    int fd = open_fd(f->path);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", f->path, strerror(e));
        return code_of(e);
    }
    close(f->fd);
    f->fd = fd;
    return 0;
}

void cg_eve_file_close(cg_eve_file *f)
{
    if (!f)
        return;
    cg_eve_file_flush(f);
    if (!f->is_stdout)
        close(f->fd);
    free(f->buf);
    free(f);
}

int cg_eve_file_failed(const cg_eve_file *f)
{
    return f->code;
}

const char *cg_eve_file_error(const cg_eve_file *f)
{
    return f->code ? f->msg : "";
}

void cg_eve_file_take_lost(cg_eve_file *f, uint64_t lost[CG_EVE_FILE_KINDS])
{
    for (int k = 0; k < CG_EVE_FILE_KINDS; k++) {
        lost[k] += f->lost[k];
        f->lost[k] = 0;
    }
}
