/* eve_file.h — the EVE file: whole lines appended, or none.
 *
 * The pipeline's writer thread appends its EVE lines here. Lines are kept
 * in a buffer and written with write(2) when it fills, at each flush (the
 * pipeline flushes at every store commit and when idle) and at close.
 *
 * Invariants:
 *  1. What reaches a regular file is whole lines: a write cut short (a full
 *     disk: ENOSPC, EDQUOT, EFBIG) has the part of a line it wrote cut off
 *     again (ftruncate to the end of the last whole line), so a reader of
 *     the file, and the next run appending to it, see only complete JSON
 *     lines. A pipe or terminal ("-") keeps what it took.
 *  2. The first failed write is the handle's error for good: nothing more is
 *     written, every later put and flush returns it, and the lines the
 *     buffer held are counted as not written (cg_eve_file_take_lost). A
 *     line that put returned an error for is not written either; its count
 *     is the caller's.
 *  3. The buffer holds only whole lines, with each line's end and kind; it
 *     grows to hold the longest line put, so a line is never left half in
 *     the buffer and half in the file but by a write that failed.
 *  4. One thread uses a handle (the pipeline's writer, which also reopens
 *     it); nothing here locks.
 *
 * Errors are error.h's: CG_EFULL for a full disk (ENOSPC, EDQUOT, EFBIG),
 * CG_EIO for any other failed write or open, CG_ENOMEM; the message is
 * cg_eve_file_error's ("PATH: No space left on device").
 */
#ifndef CG_EVE_FILE_H
#define CG_EVE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define CG_EVE_FILE_KINDS 8 /* kinds of line the caller counts apart (< 8) */

typedef struct cg_eve_file cg_eve_file;

/* Opens path for appending (created 0666 less the umask), or standard
 * output for "-". 0, or a code with "PATH: why" in err. */
int cg_eve_file_open(cg_eve_file **out, const char *path, char *err, size_t errlen);
/* Flushes (its failure is the handle's error, as in flush) and closes; the
 * standard output is flushed, not closed. Accepts NULL. */
void cg_eve_file_close(cg_eve_file *f);

/* Appends one line of kind (< CG_EVE_FILE_KINDS), the concatenation of the
 * n pieces, which ends in '\n'. 0 when the line is taken (buffered or
 * written), or the handle's error (the line is not written). */
int cg_eve_file_put(cg_eve_file *f, unsigned kind, const struct iovec *v, int n);
/* Writes what the buffer holds. 0, or the handle's error. */
int cg_eve_file_flush(cg_eve_file *f);
/* Flushes into the file open now, then opens its path again (logrotate has
 * moved it) and goes on there. 0, or a code with "PATH: why" in err; when
 * the new file does not open, the old one stays. */
int cg_eve_file_reopen(cg_eve_file *f, char *err, size_t errlen);

/* The handle's error (0 while every write worked) and its message ("" then). */
int cg_eve_file_failed(const cg_eve_file *f);
const char *cg_eve_file_error(const cg_eve_file *f);
/* Adds to lost[kind] the lines that were taken by put but are not in the
 * file because a write failed (invariant 2), and forgets them. */
void cg_eve_file_take_lost(cg_eve_file *f, uint64_t lost[CG_EVE_FILE_KINDS]);

#endif
