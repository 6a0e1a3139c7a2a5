/* pcapdir.h — the full-packet ring (`run --pcap-dir DIR --pcap-max MB`):
 * every packet the sensor reads written to rotating classic pcap files in
 * one directory, the oldest deleted first, each closed file with an index
 * from flow to its packets' offsets; and the reader that takes every packet
 * of one flow back out of the ring (a case's evidence) and says what the
 * ring no longer holds of it.
 *
 * On disk (DIR):
 *
 *   ring-NNNNNNNNNN.pcap  classic libpcap files (magic 0xa1b2c3d4 in the
 *                         writer's byte order, version 2.4, microseconds,
 *                         snaplen CG_PCAPDIR_SNAPLEN, one link type each):
 *                         tcpdump -r and Wireshark read them as they are.
 *                         NNNNNNNNNN is the file's sequence number, from 1,
 *                         10 digits, so names sort in the order written.
 *   ring-NNNNNNNNNN.idx   the index of the pcap file of the same number,
 *                         written (to .idx.tmp, then renamed) when that file
 *                         is closed. It is kept when its pcap file is deleted,
 *                         so that a reader knows which packets the ring had
 *                         and no longer has (below).
 *
 * The index (little-endian):
 *
 *   offset  size  field
 *        0     8  magic "CGPIDX1\n"
 *        8     4  version (1)
 *       12     4  link type of the pcap file
 *       16     8  sequence number of the pcap file
 *       24     8  first_us: the earliest packet time in the file (us since the epoch)
 *       32     8  last_us: the latest
 *       40     8  packets in the file
 *       48     8  bytes of the pcap file (its size when closed)
 *       56     4  nflows: entries that follow
 *       60     4  entry size (40)
 *       64  40*n  entries, sorted by flow_id (one per flow_id):
 *                   +0  8  flow_id (cg_flow_id: the EVE flow_id and the store's)
 *                   +8  8  first_us of the flow's packets in this file
 *                  +16  8  last_us
 *                  +24  4  first_off: file offset of its first packet's record header
 *                  +28  4  last_off: of its last packet's
 *                  +32  4  packets
 *                  +36  4  bytes captured (the records' data, headers not counted)
 *    64+40n     4  CRC-32 (zlib's) of every byte before it
 *
 * A flow's packets in a file all lie between first_off and last_off; the
 * reader walks that span and keeps the records whose decoded flow id is the
 * flow's (packets without IP have no flow and are in no entry). A pcap file
 * with no index (the file being written, or one a crash or a full disk left)
 * is scanned whole by the reader.
 *
 * Writer contract:
 *  - Files rotate at file_bytes (default min(max_bytes / 8, 64 MiB), at most
 *    64 MiB so offsets fit 32 bits), when the link type changes, and when
 *    the file's flow table is full (flows per file: file_bytes / 1024, at
 *    least 64): an index is always complete.
 *  - Budget: the bytes of every pcap and index file in DIR (those of earlier
 *    runs included) stay within max_bytes. Before a file is opened, room for
 *    a whole file and a whole index is made by deleting the oldest pcap
 *    files (their indexes stay); indexes whose pcap file is gone are kept as
 *    long as they are no more than the pcap files held, the oldest deleted
 *    first. Sequence numbers go on from the highest in DIR.
 *  - No allocation after open, none per packet: the output buffer (1 MiB,
 *    written with one write(2) when full), the flow table of the open file
 *    and the producers' rings are allocated at open. The files list grows
 *    only when a file is opened.
 *  - A failed write (ENOSPC, EIO, ...), or a file that cannot be created or
 *    deleted, stops the ring: nothing more is written, one line goes to
 *    cfg.log ("canhgac: pcap ring DIR: No space left on device: ring
 *    stopped, detection goes on"), the stats say stopped and why; every call
 *    goes on returning at once, so detection is not held up.
 *  - Threads. With producers = 0 the caller writes (cg_pcapdir_write) on one
 *    thread. With producers = N, open starts a thread of the ring's own,
 *    fed by N single-producer rings (sensor/ring.h): producer i (the file
 *    reader, or worker i of a live capture) copies each frame into ring i
 *    with cg_pcapdir_push, taking no lock; the thread writes them in the
 *    order each ring holds them (a flow is one worker's, so its packets
 *    keep their order). The thread writes out its buffer when idle for a
 *    second, so a reader sees the packets of the open file soon.
 *  - cg_pcapdir_stats may be called from any thread.
 *
 * Caveats: a file has one link type, so a sensor on interfaces of different
 * link types (Ethernet and a tunnel's raw IP) closes a file at each change
 * of link type: give such interfaces rings of their own. Packets without IP
 * (ARP, ...) are in the files and in no index entry. A live ring whose queue
 * is full drops the frame from the ring (counted), never from detection.
 *
 * Reader contract:
 *  - cg_pcapdir_reader_open lists DIR once (indexes are read on demand; pcap
 *    files with no index are scanned then); the ring may go on being written.
 *  - A flow's packets are those of its flow_id in one session: the runs of
 *    its packets with no silence longer than the gap (default
 *    CG_PCAPDIR_GAP_US, an hour, the longest flow timeout) that overlap
 *    [first_us, last_us] (an incident's first and last seen; 0, 0: every
 *    session). Flows of other runs or days that share the id are not mixed
 *    in. The gap is judged between the flow's spans in successive files.
 *  - Packets are given in the order written (capture order), with their link
 *    type; a callback that returns nonzero stops the walk (that value is
 *    returned).
 *  - What the ring no longer holds is said in cg_pcapdir_flow_info: start
 *    (HELD, LOST: its first packets were written and their files deleted,
 *    lost_packets of them from the kept indexes; UNKNOWN: older files were
 *    deleted with their indexes and the flow's first held packet is within
 *    the gap of the oldest file known, so earlier packets may have been
 *    there; NONE: the ring has no packet of the flow in that time).
 *  - Hostile files: a damaged index (magic, size, CRC) is not used (its pcap
 *    file is scanned); a record cut off ends a file's walk.
 *  - Functions return 0 or a negative error.h code with a one-line message
 *    in err naming the file or DIR.
 */
#ifndef CG_PCAPDIR_H
#define CG_PCAPDIR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CG_PCAPDIR_SNAPLEN 262144u
#define CG_PCAPDIR_FILE_MAX (64u << 20)
#define CG_PCAPDIR_MIN_MAX (1u << 20) /* the smallest max_bytes */
#define CG_PCAPDIR_GAP_US (3600ULL * 1000000u)

typedef struct cg_pcapdir cg_pcapdir;

typedef struct cg_pcapdir_config {
    const char *dir;     /* created (mode 0750) when missing; its parent must exist */
    uint64_t max_bytes;  /* the budget of DIR, at least CG_PCAPDIR_MIN_MAX */
    uint64_t file_bytes; /* 0: min(max_bytes / 8, 64 MiB); else at least 4096 (tests) */
    uint32_t producers;  /* 0: the caller writes; N: a thread fed by N rings */
    uint32_t queue_kib;  /* each producer's ring (0: 8192; at least 2048) */
    FILE *log;           /* where the ring says it stopped (NULL: nowhere) */
    /* tests: the write(2) the writer calls (NULL: write) */
    ssize_t (*write_fn)(int fd, const void *buf, size_t len);
} cg_pcapdir_config;

typedef struct cg_pcapdir_stats {
    uint64_t packets;       /* written into files */
    uint64_t bytes;         /* written to files: pcap records and headers, indexes */
    uint64_t files_rotated; /* files closed with their index */
    uint64_t files_deleted; /* pcap files deleted to keep the budget */
    uint64_t write_errors;  /* 1 when the ring stopped for a failed write */
    uint64_t dropped;       /* live: packets not queued (a producer's ring full) */
    uint64_t file_bytes;    /* the rotation size in force */
    int stopped;            /* the ring stopped; error says why */
    char error[160];        /* "No space left on device", "" while it runs */
} cg_pcapdir_stats;

/* Opens (creates) DIR, lists what earlier runs left there and, with
 * producers, starts the ring's thread. 0, or CG_EINVAL (a bad size),
 * CG_EIO (DIR cannot be made, read or written), CG_ENOMEM, with a message
 * "pcap ring DIR: why". */
int cg_pcapdir_open(cg_pcapdir **out, const cg_pcapdir_config *cfg, char *err, size_t errlen);

/* Writes one frame (producers = 0: the caller's thread). caplen above
 * CG_PCAPDIR_SNAPLEN is cut to it. 0, or -1 when the ring has stopped. */
int cg_pcapdir_write(cg_pcapdir *w, uint64_t ts_us, int dlt, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen);

/* Producer i's side (producers = N): copies the frame into ring i. When it
 * is full, wait = 1 waits for room (reading a file: the ring loses nothing),
 * wait = 0 drops the frame and counts it (live). 0, or -1 (dropped, or the
 * ring stopped). */
int cg_pcapdir_push(cg_pcapdir *w, uint32_t producer, uint64_t ts_us, int dlt, const uint8_t *data,
                    uint32_t caplen, uint32_t wirelen, int wait);

/* Writes out what the buffer holds (producers = 0). 0, or -1 (stopped). */
int cg_pcapdir_flush(cg_pcapdir *w);

/* Ends the ring: the thread writes what the rings hold and ends, the open
 * file is written out and indexed. Call after every producer stopped. The
 * handle stays readable (cg_pcapdir_stats) until cg_pcapdir_close. */
void cg_pcapdir_finish(cg_pcapdir *w);

/* Any thread. */
void cg_pcapdir_stats_get(cg_pcapdir *w, cg_pcapdir_stats *out);
const char *cg_pcapdir_dir(const cg_pcapdir *w);

/* Finishes (when not done yet) and frees. NULL is a no-op. */
void cg_pcapdir_close(cg_pcapdir *w);

/* ---- the reader ---------------------------------------------------------- */

typedef struct cg_pcapdir_reader cg_pcapdir_reader;

typedef struct cg_pcapdir_packet {
    uint64_t ts_us;
    int dlt;
    uint32_t caplen, wirelen;
    const uint8_t *data; /* valid during the callback */
} cg_pcapdir_packet;

typedef int (*cg_pcapdir_packet_fn)(void *ctx, const cg_pcapdir_packet *p);

enum {
    CG_PCAPDIR_START_HELD = 0,    /* the ring holds the flow from its first packet */
    CG_PCAPDIR_START_LOST = 1,    /* its first packets' files were deleted */
    CG_PCAPDIR_START_UNKNOWN = 2, /* may have begun in files deleted with their indexes */
    CG_PCAPDIR_START_NONE = 3,    /* no packet of it in the ring, none known deleted */
};

typedef struct cg_pcapdir_flow_info {
    uint64_t packets, bytes;    /* given to the callback (bytes captured) */
    uint64_t first_us, last_us; /* of those (0 when none) */
    uint64_t lost_packets;      /* written, and their files deleted since */
    uint64_t lost_first_us, lost_last_us;
    uint32_t files; /* pcap files the packets came from */
    int start;      /* CG_PCAPDIR_START_* */
} cg_pcapdir_flow_info;

/* Lists DIR. 0, or CG_EIO / CG_ENOMEM with a message. */
int cg_pcapdir_reader_open(cg_pcapdir_reader **out, const char *dir, char *err, size_t errlen);
/* The silence that separates two sessions of one flow_id (default
 * CG_PCAPDIR_GAP_US). */
void cg_pcapdir_reader_set_gap(cg_pcapdir_reader *r, uint64_t gap_us);
/* Calls fn with every packet the ring holds of flow_id's session(s) that
 * overlap [first_us, last_us] (0, 0: all of them), in the order written,
 * and fills *info (when not NULL). 0 (packets or none), fn's nonzero value,
 * or a negative code with a message (a file that cannot be read). */
int cg_pcapdir_reader_flow(cg_pcapdir_reader *r, uint64_t flow_id, uint64_t first_us,
                           uint64_t last_us, cg_pcapdir_packet_fn fn, void *ctx,
                           cg_pcapdir_flow_info *info, char *err, size_t errlen);
/* The same packets into a classic pcap file at path (created or replaced,
 * mode 0640; written to path.tmp, then renamed): the link type is the first
 * packet's, packets of another link type are left out (none in practice: a
 * flow is on one interface). An empty file (header only) when there is no
 * packet. 0, or a negative code with a message. */
int cg_pcapdir_reader_flow_pcap(cg_pcapdir_reader *r, uint64_t flow_id, uint64_t first_us,
                                uint64_t last_us, const char *path, cg_pcapdir_flow_info *info,
                                char *err, size_t errlen);
void cg_pcapdir_reader_close(cg_pcapdir_reader *r);

#endif
