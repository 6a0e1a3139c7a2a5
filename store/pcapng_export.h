/* pcapng_export.h — the evidence packets of incidents, out of the store into
 * one pcapng file (store/pcapng.h), for `canhgac incident pcap` and
 * `canhgac query --pcap`.
 *
 * Use: create, add each incident (its record and its evidence packets are
 * read and copied), write, destroy. The evidence of an incident is small (at
 * most `run --evidence N` packets), so an export holds all of it in memory
 * and writes the packets in time order across incidents: by timestamp, then
 * incident id, then evidence number.
 *
 * Each packet keeps its link type (one interface per link type in the
 * file) and carries the comment
 *   "canhgac incident ID sid GID:SID rev REV: MSG (evidence #SEQ)"
 * and the section says shb_userappl "canhgac".
 *
 * Contract:
 *  - Functions return 0 or a negative error.h code (see pcapng.h), with a
 *    one-line message in cg_pcapng_export_error(x).
 *  - add reads the store: it must not be called from inside a store
 *    callback (collect a query's ids first).
 *  - write makes no file when no packet was added (CG_EEMPTY) and
 *    leaves none behind when it fails (the writer's PATH.tmp and rename).
 *  - One thread per handle.
 */
#ifndef CG_PCAPNG_EXPORT_H
#define CG_PCAPNG_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store/pcapng.h"
#include "store/store.h"

#define CG_PCAPNG_EXPORT_USERAPPL "canhgac"

typedef struct cg_pcapng_export cg_pcapng_export;

typedef struct cg_pcapng_export_stats {
    uint64_t packets;   /* packets written */
    uint64_t incidents; /* incidents with at least one packet */
    size_t nlinktypes;  /* interfaces in the file: distinct link types */
    int linktypes[8];   /* the first 8 of them (DLT values), in file order */
} cg_pcapng_export_stats;

int cg_pcapng_export_create(cg_pcapng_export **out);
void cg_pcapng_export_destroy(cg_pcapng_export *x);

/* Reads incident id of st and copies its evidence packets; *added (may be
 * NULL) is how many (0 for an incident without evidence, which is not an
 * error here). CG_ENOTFOUND when st has no such incident,
 * CG_EIO when the store fails (its message is copied). */
int cg_pcapng_export_add(cg_pcapng_export *x, cg_store *st, uint64_t id, uint32_t *added);

/* Writes every packet added to path (pcapng.h's PATH.tmp, then rename);
 * *out (may be NULL) says what was written. */
int cg_pcapng_export_write(cg_pcapng_export *x, const char *path, cg_pcapng_export_stats *out);

const char *cg_pcapng_export_error(const cg_pcapng_export *x);

/* What was written, as the tools say it (one line, no newline, into buf of
 * len bytes): "5 packets from 2 incidents written to FILE", and when the
 * file has more than one link type, which, and that tcpdump reads a file
 * of one link type only. */
void cg_pcapng_export_summary(const cg_pcapng_export_stats *s, const char *path, char *buf,
                              size_t len);

#endif
