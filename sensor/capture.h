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
 *
 * Live capture for workers (cg_capture_open_live_cfg; Linux, libpcap 1.10):
 *  - Each worker thread opens its own handle on the interface with the same
 *    fanout_group; the kernel (PACKET_FANOUT_HASH with FLAG_DEFRAG) gives
 *    each flow, both directions, to one handle, IP fragments reassembled
 *    first so that they land with the rest of their datagram. Measured with
 *    tests/fanout_probe.c over a veth pair (kernel 6.18, libpcap 1.10.3,
 *    TPACKET_V3): 13434 frames of 81 real captures, 2384 flows (398 seen
 *    both ways), every one on a single handle with 2 and 3 handles
 *    (7775 + 5659; 6138 + 3320 + 3976 packets), none lost, none read twice.
 *  - Group ids: a group belongs to the network namespace, not to an
 *    interface. The first handle ties it to its interface (and mode); a
 *    handle of another interface cannot join it ("eth1: PACKET_FANOUT:
 *    Invalid argument"), and a second sensor on the same interface with the
 *    same id would silently share the traffic with the first. So the caller
 *    picks one id per (sensor process, interface), e.g. from the process id
 *    and the interface's position in its own list, and every worker on that
 *    interface passes it.
 *  - Packets that arrive between the kernel socket's creation and its joining
 *    the group (at start-up, microseconds) can be read by more than one
 *    handle.
 *  - The ring is TPACKET_V3 (not immediate mode): a block is handed over when
 *    full or after 10 ms, so a packet reaches the reader within about 10 ms.
 *  - cg_capture_next never waits: it returns 0 at once when nothing is
 *    pending. The caller polls cg_capture_fd (POLLIN) with its own timeout
 *    and calls cg_capture_next after every poll, timeouts and POLLERR
 *    included: that is when a lost interface is found (see below).
 *  - cg_capture_break makes the next call return 0 (nothing to wake).
 *  - Open errors, one line naming the interface:
 *      "eth9: no such interface"   (root or not: looked up apart)
 *      "eth0: permission denied: live capture needs root or CAP_NET_RAW"
 *      "eth0: the interface is down"    (libpcap refuses a down interface)
 *      "eth0: PACKET_FANOUT: <strerror>"
 *      "eth0: filter \"...\": <libpcap's message>"
 *  - An interface deleted while read (a veth or a USB adapter removed): the
 *    kernel flags the socket (ENETDOWN, POLLERR), libpcap 1.10 finds the
 *    interface gone and cg_capture_next returns -1 with
 *      "veth1: the interface went away (No such device)"
 *    within one poll of the caller (0.03 s measured); a new interface that
 *    took the name (another index) counts as gone too. An interface set down
 *    while read raises the same ENETDOWN, but it is still there: that is no
 *    error, next returns 0 until it is up again, then reading goes on with
 *    the same handle (tests/live_capture.sh checks both).
 *  - cg_capture_get_stats: packets returned, and pcap_stats: ps_recv (kernel
 *    packets, drops included), ps_drop (ring full), ps_ifdrop (the
 *    interface's own drops, for the whole interface, not this handle).
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

/* A capture file, or "-" for stdin: 0, or -1 with a one-line message in err
 * (CG_ENOMEM when out of memory). */
int cg_capture_open_file(cg_capture **out, const char *path, char *err, size_t errlen);
/* snaplen 0 means 262144; bpf may be NULL. Promiscuous, immediate mode; a
 * cg_capture_next waits at most about 250 ms for a packet, then returns 0. */
int cg_capture_open_live(cg_capture **out, const char *ifname, int snaplen, const char *bpf,
                         char *err, size_t errlen);

/* A live handle for one worker of a multi-threaded sensor (see "Live capture
 * for workers" above). */
typedef struct cg_live_config {
    int snaplen;         /* 0: 262144 */
    const char *bpf;     /* NULL or "": no filter */
    uint32_t buffer_mib; /* kernel ring size, pcap_set_buffer_size; 0: 64 MiB */
    int fanout_group;    /* -1: no fanout; else a PACKET_FANOUT group id 0..65535 */
    int promisc;         /* nonzero: promiscuous */
} cg_live_config;
int cg_capture_open_live_cfg(cg_capture **out, const char *ifname, const cg_live_config *cfg,
                             char *err, size_t errlen);
/* A descriptor to poll for POLLIN (packets wait) on a live handle; -1 for a
 * file. The handle keeps it: do not read or close it. */
int cg_capture_fd(const cg_capture *c);

typedef struct cg_capture_stats {
    uint64_t packets;        /* frames returned */
    uint64_t kernel_packets; /* pcap_stats ps_recv: seen by the socket, drops included */
    uint64_t kernel_drops;   /* ps_drop: lost because the ring was full */
    uint64_t if_drops;       /* ps_ifdrop: dropped by the interface (whole interface) */
} cg_capture_stats;
/* The counts since open; the kernel's are 0 for files (and if libpcap fails). */
void cg_capture_get_stats(cg_capture *c, cg_capture_stats *out);
int cg_capture_next(cg_capture *c, cg_frame *f, char *err, size_t errlen);
int cg_capture_dlt(const cg_capture *c);
int cg_capture_snaplen(const cg_capture *c);
uint64_t cg_capture_count(const cg_capture *c); /* frames returned so far */
/* For live captures: packets the kernel dropped (0 for files). */
uint64_t cg_capture_drops(cg_capture *c);
/* Asks a blocked cg_capture_next (live) to return 0 soon; async-signal-safe. */
void cg_capture_break(cg_capture *c);
void cg_capture_close(cg_capture *c);

#endif
