/* pcapng.h — a pcapng file writer, for handing evidence packets to the tools
 * analysts already read captures with (Wireshark, tshark, tcpdump).
 *
 * Format: draft-ietf-opsawg-pcapng (the PCAP Next Generation capture file
 * format), little-endian, one section:
 *
 *   SHB   Section Header Block: byte-order magic 0x1A2B3C4D, version 1.0,
 *         section length -1 (not given), shb_userappl (the application)
 *   IDB   one Interface Description Block per distinct link type met, written
 *         before the first packet of that link type: LinkType (the LINKTYPE_
 *         number), SnapLen CG_PCAPNG_SNAPLEN, if_tsresol 6 (microseconds)
 *   EPB   one Enhanced Packet Block per packet: the interface of its link
 *         type, a 64-bit timestamp in microseconds, captured and original
 *         lengths, the bytes, opt_comment when the packet has a comment
 *
 * Every block is padded to 32 bits and carries its total length at both
 * ends; options end with opt_endofopt.
 *
 * Contract:
 *  - cg_pcapng_open writes to PATH.tmp (created, or truncated when a stale
 *    one is there, mode 0600: evidence is as private as the store); only
 *    cg_pcapng_commit renames it to PATH (replacing a file PATH). A writer
 *    closed without a successful commit, a failed write and a commit with no
 *    packet remove PATH.tmp: a failed or empty export leaves no file.
 *  - Every write is checked; the first failure is kept: later writes return
 *    it and do nothing, and commit returns it (and removes PATH.tmp).
 *  - Functions return 0 or a negative error.h code. cg_pcapng_error(w)
 *    is the handle's last message, one line naming the path;
 *    cg_pcapng_error(NULL) is the calling thread's last failed open.
 *  - A packet's dlt is what libpcap's pcap_datalink() said (what the store
 *    keeps); it is written as its LINKTYPE_ number (cg_pcapng_linktype), so
 *    a reader's libpcap gives the same DLT back.
 *  - A packet longer than CG_PCAPNG_SNAPLEN is written cut to it, as a
 *    capture with that snap length would have; its original length is kept.
 *    An original length below the captured one is written as the captured
 *    one (the format does not allow less).
 *  - A comment is UTF-8 (the format's option strings are): each byte that
 *    is not part of a valid UTF-8 sequence is written as '?', and a comment
 *    longer than CG_PCAPNG_COMMENT_MAX bytes is cut at a character boundary.
 *  - One thread per handle.
 *
 * Caveat: libpcap (and so tcpdump) up to 1.10 reads a pcapng file whose
 * interfaces all have one link type only; it stops at the IDB of a second
 * one. Wireshark and tshark read every interface.
 */
#ifndef CG_PCAPNG_H
#define CG_PCAPNG_H

#include "sensor/error.h"
#include <stddef.h>
#include <stdint.h>

#define CG_PCAPNG_SNAPLEN 262144    /* libpcap's largest snap length */
#define CG_PCAPNG_COMMENT_MAX 65532 /* bytes of an opt_comment (a 16-bit length, padded) */

/* Codes: error.h's. CG_EIO: cannot create, write or rename (or, in an
 * export, the store failed to read); CG_EINVAL: a bad argument (no data, a
 * link type that has no number); CG_ENOMEM; CG_EEMPTY: nothing to write, no
 * file is made; CG_ENOTFOUND: (export) no such incident. */

typedef struct cg_pcapng cg_pcapng;

typedef struct cg_pcapng_packet {
    uint64_t ts_us; /* microseconds since the epoch */
    int32_t dlt;    /* libpcap DLT_ value (pcap_datalink) */
    uint32_t caplen, wirelen;
    const uint8_t *data; /* caplen bytes (may be NULL when caplen is 0) */
    const char *comment; /* NULL or "": none */
} cg_pcapng_packet;

/* Creates PATH.tmp and writes the section header, with shb_userappl
 * userappl (NULL: none). *out is written only on success. */
int cg_pcapng_open(cg_pcapng **out, const char *path, const char *userappl);
/* Appends packet p (an IDB first when its link type is new). */
int cg_pcapng_write(cg_pcapng *w, const cg_pcapng_packet *p);
/* Flushes, syncs and closes the file and renames PATH.tmp to PATH. With no
 * packet written: CG_EEMPTY, and PATH.tmp is removed. After commit
 * (either way) only cg_pcapng_error and cg_pcapng_close may be called. */
int cg_pcapng_commit(cg_pcapng *w);
/* Frees w; when it was not committed, removes PATH.tmp. NULL is fine. */
void cg_pcapng_close(cg_pcapng *w);

const char *cg_pcapng_error(const cg_pcapng *w);

/* Packets written so far, and the link types (DLT values) of the
 * interfaces in the order their IDBs were written: up to n into dlts, the
 * number of interfaces returned. */
uint64_t cg_pcapng_packets(const cg_pcapng *w);
size_t cg_pcapng_interfaces(const cg_pcapng *w, int *dlts, size_t n);

/* The LINKTYPE_ number (tcpdump.org link-layer header types) libpcap writes
 * to a file for DLT value dlt; -1 when dlt is negative or above 65535. */
int cg_pcapng_linktype(int dlt);

#endif
