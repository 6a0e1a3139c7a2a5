/* capture.h — packet sources: a pcap/pcapng file or a live interface (libpcap).
 *
 * Which one is chosen inside capture.c; callers see one handle.
 *
 * Contract:
 *  - open returns 0 and sets *out, or a negative code with a one-line message in
 *    err naming the file (or interface): missing, not a capture, truncated header.
 *    Messages: "PATH: No such file or directory" (and other system errors),
 *    "PATH: not a pcap or pcapng file", "PATH: truncated file header (...)".
 *  - cg_capture_next returns 1 with a frame, 0 at the end of the file (or, live,
 *    when the read timed out or cg_capture_break was called), or -1 with a
 *    message naming the file and the 1-based packet number:
 *      "PATH: packet N: record header cut off at the end of the file (7 of 16 bytes)"
 *      "PATH: packet N: record data cut off at the end of the file (14 of 60 bytes)"
 *      "PATH: packet N: block cut off at the end of the file (...)"      (pcapng)
 *      "PATH: packet N: captured length 100 exceeds the snapshot length 64"
 *    An error is final: every later call returns -1 with the same message. A
 *    record whose captured length is over the snapshot length is such an error
 *    in both formats, whether libpcap refuses it (pcapng; pcap above 262144)
 *    or silently cuts it to the snapshot length (pcap; found from the file
 *    position, so not for a capture read from a pipe).
 *  - A record with a captured length of 0 is a frame like any other (caplen 0;
 *    the decoder counts it as truncated).
 *  - The frame pointer stays valid until the next call on the same handle.
 *  - Timestamps are read at microsecond precision (pcapng and nanosecond pcap
 *    files are converted by libpcap).
 *  - Not thread-safe: one reader per handle.
 */
#ifndef CG_CAPTURE_H
#define CG_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct cg_capture cg_capture;

typedef struct cg_frame {
    uint64_t ts_us;
    uint32_t caplen, wirelen;
    const uint8_t *data;
} cg_frame;

int cg_capture_open_file(cg_capture **out, const char *path, char *err, size_t errlen);
/* snaplen 0 means 262144; bpf may be NULL. Promiscuous, immediate mode; a
 * cg_capture_next waits at most about 250 ms for a packet, then returns 0. */
int cg_capture_open_live(cg_capture **out, const char *ifname, int snaplen,
                         const char *bpf, char *err, size_t errlen);
int cg_capture_next(cg_capture *c, cg_frame *f, char *err, size_t errlen);
int cg_capture_dlt(const cg_capture *c);
int cg_capture_snaplen(const cg_capture *c);
uint64_t cg_capture_count(const cg_capture *c);  /* frames returned so far */
/* For live captures: packets the kernel dropped (0 for files). */
uint64_t cg_capture_drops(cg_capture *c);
/* Asks a blocked cg_capture_next (live) to return 0 soon; async-signal-safe. */
void cg_capture_break(cg_capture *c);
void cg_capture_close(cg_capture *c);

#endif
