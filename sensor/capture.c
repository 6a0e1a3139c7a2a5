/* capture.c — packet sources over libpcap: a pcap or pcapng file, or a live
 * interface (see capture.h for the contract).
 *
 * Formats: pcap (pcap-savefile(5), tcpdump.org) and pcapng
 * (draft-ietf-opsawg-pcapng), both read by libpcap at microsecond precision.
 *
 * libpcap (1.10) and oversized records: a pcapng packet block whose captured
 * length is over the interface's snapshot length, or a pcap record over the
 * largest snapshot length libpcap allows for the link type (262144 for most),
 * is refused with an error; but a pcap record over the file's own snapshot
 * length and under that maximum is silently cut to the snapshot length. To
 * report both alike, a classic pcap file's position is followed record by
 * record: a record that took more bytes of the file than libpcap returned was
 * cut, and cg_capture_next reports it as an error. The position is counted
 * (record header + caplen), not asked for: only a record returned with
 * exactly the snapshot length can have been cut, and only then is the
 * stream's real position read (ftell, an lseek in glibc).
 *
 * Files are opened here (fopen) and handed to libpcap (pcap_fopen_offline),
 * so that the stream gets a FILE_BUF-byte buffer before anything is read from
 * it (setvbuf is only allowed then); libpcap reads with fread, a record
 * header and a record at a time, which the default 4 KiB buffer turned into
 * a read system call per 4 KiB. A regular file of FILE_BUF bytes or fewer
 * keeps stdio's own buffer: it is read in a few calls anyway, and a short
 * capture (a test's, a fuzzer's input) does not pay for a 1 MiB buffer.
 * "-" is still libpcap's standard input.
 *
 * Live: two kinds of handle over one pcap_t each. cg_capture_open_live (the
 * first): immediate mode, so libpcap uses TPACKET_V2, and next waits up to
 * 250 ms in a poll of its own that cg_capture_break wakes through a pipe.
 * cg_capture_open_live_cfg (for worker threads): TPACKET_V3 with 10 ms blocks,
 * a ring of buffer_mib, an optional PACKET_FANOUT group joined right after
 * pcap_activate, and a next that never waits (the caller polls the fd). Both
 * are non-blocking pcap_t's underneath. An interface that goes away is found
 * by libpcap (a read error, "The interface disappeared") or, when libpcap only
 * saw ENETDOWN and still waits to know more, by looking the name up here; it
 * is reported as "IF: the interface went away (No such device)".
 *
 * Invariants: one pcap_t per handle; a handle that has reported an error keeps
 * reporting it; messages always start with the file or interface name.
 */
#include "sensor/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/error.h"

#define LIVE_SNAPLEN 262144
#define LIVE_TIMEOUT_MS 250
#define LIVE_BUFFER_MIB 64
/* TPACKET_V3 block retire timeout of the handles of cg_capture_open_live_cfg:
 * the longest a packet waits in a part-filled block before poll sees it. */
#define LIVE_BLOCK_MS 10
/* stdio buffer of a file handle: a read system call per MiB */
#define FILE_BUF (1u << 20)

struct cg_capture {
    pcap_t *pc;
    int live;
    int dlt, snaplen;
    int rec_hdr;    /* classic pcap: record header size; 0: not followed */
    long pos;       /* file offset of the next record header */
    char *fbuf;     /* the stream's buffer (FILE_BUF), freed after pcap_close */
    uint64_t count; /* frames returned */
    int failed;     /* an error was reported; it is kept in msg */
    volatile sig_atomic_t stop;
    int fd;           /* live: the descriptor to poll, or -1 */
    int wake[2];      /* live: a pipe that cg_capture_break writes to */
    int nowait;       /* live from _cfg: next never waits */
    unsigned ifindex; /* live: the interface's index at open, 0 if none */
    char msg[512];
    char name[]; /* the path or interface, for messages */
};

static void put_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static cg_capture *new_handle(const char *name)
{
    size_t n = strlen(name) + 1;
    cg_capture *c = calloc(1, sizeof *c + n);
    if (c) {
        memcpy(c->name, name, n);
        c->fd = c->wake[0] = c->wake[1] = -1;
    }
    return c;
}

/* Classic pcap files with a 16-byte record header (the usual and the
 * nanosecond magic) or a 24-byte one (Kuznetzov's patched format). The magic
 * is read with pread so that libpcap's stream position is left alone. */
static int classic_record_header(FILE *fp)
{
    uint8_t m[4];
    if (!fp || pread(fileno(fp), m, 4, 0) != 4)
        return 0;
    uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    uint32_t le = (uint32_t)m[3] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[1] << 8 | m[0];
    for (int i = 0; i < 2; i++) {
        uint32_t v = i ? le : be;
        if (v == 0xa1b2c3d4 || v == 0xa1b23c4d)
            return 16;
        if (v == 0xa1b2cd34)
            return 24;
    }
    return 0;
}

int cg_capture_open_file(cg_capture **out, const char *path, char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    char msg[PCAP_ERRBUF_SIZE + 512];
    if (!out || !path) {
        put_err(err, errlen, "capture: no file given");
        return -1;
    }
    int rc = -1;
    cg_capture *c = new_handle(path);
    if (!c) {
        snprintf(msg, sizeof msg, "%s: out of memory", path);
        rc = CG_ENOMEM;
        goto fail;
    }
    if (strcmp(path, "-") == 0) {
        c->pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, eb);
    } else {
        FILE *in = fopen(path, "rb");
        if (!in) {
            snprintf(msg, sizeof msg, "%s: %s", path, strerror(errno)); /* as libpcap says it */
            goto fail;
        }
        struct stat st;
        int small =
            fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (off_t)FILE_BUF;
        c->fbuf = small ? NULL : malloc(FILE_BUF);
        if (c->fbuf && setvbuf(in, c->fbuf, _IOFBF, FILE_BUF) != 0) {
            free(c->fbuf); /* the default buffer stays */
            c->fbuf = NULL;
        }
        c->pc = pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_MICRO, eb);
        if (!c->pc)
            fclose(in); /* libpcap closes it only once it has a handle */
    }
    if (!c->pc) {
        size_t n = strlen(path);
        if (strncmp(eb, path, n) == 0 && eb[n] == ':')
            snprintf(msg, sizeof msg, "%s", eb); /* "path: No such file ..." */
        else if (strcmp(eb, "unknown file format") == 0)
            snprintf(msg, sizeof msg, "%s: not a pcap or pcapng file", path);
        else if (strstr(eb, "only got 0"))
            snprintf(msg, sizeof msg, "%s: empty file, not a pcap or pcapng file", path);
        else if (strstr(eb, "file header bytes") || strstr(eb, "truncated"))
            snprintf(msg, sizeof msg, "%s: truncated file header (%s)", path, eb);
        else
            snprintf(msg, sizeof msg, "%s: %s", path, eb);
        goto fail;
    }
    c->dlt = pcap_datalink(c->pc);
    c->snaplen = pcap_snapshot(c->pc);
    FILE *fp = pcap_file(c->pc);
    c->rec_hdr = classic_record_header(fp);
    c->pos = c->rec_hdr ? ftell(fp) : -1;
    if (c->pos < 0)
        c->rec_hdr = 0;
    *out = c;
    return 0;
fail:
    put_err(err, errlen, msg);
    cg_capture_close(c);
    return rc;
}

/* Whether ifname names something libpcap could capture on: a network
 * interface, or one of libpcap's own devices ("any", "nflog", ...). Asked
 * only after a failure, so that "no such interface" does not depend on the
 * caller's privileges (without them libpcap fails before it looks). */
static int device_known(const char *ifname)
{
    if (if_nametoindex(ifname) != 0)
        return 1;
    char eb[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    int known = 0;
    if (pcap_findalldevs(&all, eb) != 0)
        return 1; /* cannot tell: do not claim it is missing */
    for (pcap_if_t *d = all; d && !known; d = d->next)
        known = d->name && strcmp(d->name, ifname) == 0;
    pcap_freealldevs(all);
    return known;
}

/* The one-line message for a failed pcap_activate. */
static void activate_error(char *msg, size_t n, pcap_t *pc, const char *ifname, int r)
{
    const char *detail = pcap_geterr(pc);
    const char *status = pcap_statustostr(r);
    if (r == PCAP_ERROR_NO_SUCH_DEVICE || !device_known(ifname))
        snprintf(msg, n, "%s: no such interface", ifname);
    else if (r == PCAP_ERROR_PERM_DENIED)
        snprintf(msg, n, "%s: permission denied: live capture needs root or CAP_NET_RAW", ifname);
    else if (r == PCAP_ERROR_IFACE_NOT_UP)
        snprintf(msg, n, "%s: the interface is down", ifname);
    else if (!detail || !*detail || strcmp(detail, status) == 0)
        snprintf(msg, n, "%s: %s", ifname, status);
    else if (r == PCAP_ERROR)
        snprintf(msg, n, "%s: %s", ifname, detail);
    else
        snprintf(msg, n, "%s: %s (%s)", ifname, status, detail);
}

/* Both live opens. legacy: immediate mode (TPACKET_V2) and a next that waits
 * up to LIVE_TIMEOUT_MS; otherwise TPACKET_V3 blocks and a next that never
 * waits. */
static int open_live(cg_capture **out, const char *ifname, const cg_live_config *cfg, int legacy,
                     char *err, size_t errlen)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    char msg[PCAP_ERRBUF_SIZE + 512];
    struct bpf_program prog;
    if (!out || !ifname || !*ifname || !cfg) {
        put_err(err, errlen, "capture: no interface given");
        return -1;
    }
    if (cfg->fanout_group > 0xffff || cfg->fanout_group < -1) {
        snprintf(msg, sizeof msg, "%s: fanout group %d out of range (0..65535, or -1)", ifname,
                 cfg->fanout_group);
        put_err(err, errlen, msg);
        return -1;
    }
    cg_capture *c = new_handle(ifname);
    if (!c) {
        snprintf(msg, sizeof msg, "%s: out of memory", ifname);
        goto fail;
    }
    c->live = 1;
    c->nowait = !legacy;
    c->ifindex = if_nametoindex(ifname);
    c->pc = pcap_create(ifname, eb);
    if (!c->pc) {
        snprintf(msg, sizeof msg, "%s: %s", ifname, eb);
        goto fail;
    }
    pcap_set_snaplen(c->pc, cfg->snaplen > 0 ? cfg->snaplen : LIVE_SNAPLEN);
    pcap_set_promisc(c->pc, cfg->promisc != 0);
    pcap_set_tstamp_precision(c->pc, PCAP_TSTAMP_PRECISION_MICRO);
    if (legacy) {
        pcap_set_immediate_mode(c->pc, 1);
        pcap_set_timeout(c->pc, LIVE_TIMEOUT_MS);
    } else {
        uint64_t mib = cfg->buffer_mib ? cfg->buffer_mib : LIVE_BUFFER_MIB;
        if (mib > 2047)
            mib = 2047; /* pcap_set_buffer_size takes an int */
        pcap_set_buffer_size(c->pc, (int)(mib << 20));
        pcap_set_timeout(c->pc, LIVE_BLOCK_MS);
    }
    int r = pcap_activate(c->pc);
    if (r < 0) {
        activate_error(msg, sizeof msg, c->pc, ifname, r);
        goto fail;
    }
    if (cfg->bpf && *cfg->bpf) {
        if (pcap_compile(c->pc, &prog, cfg->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(msg, sizeof msg, "%s: filter \"%s\": %s", ifname, cfg->bpf,
                     pcap_geterr(c->pc));
            goto fail;
        }
        r = pcap_setfilter(c->pc, &prog);
        pcap_freecode(&prog);
        if (r < 0) {
            snprintf(msg, sizeof msg, "%s: filter \"%s\": %s", ifname, cfg->bpf,
                     pcap_geterr(c->pc));
            goto fail;
        }
    }
    if (cfg->fanout_group >= 0) {
        /* hash of the flow, symmetric in the kernel (both directions alike);
         * fragments reassembled first so they hash like the rest of theirs */
        uint32_t arg = (uint32_t)cfg->fanout_group |
            (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
        int v = (int)arg; /* the kernel reads the 32 bits as they are */
        if (setsockopt(pcap_fileno(c->pc), SOL_PACKET, PACKET_FANOUT, &v, sizeof v) < 0) {
            snprintf(msg, sizeof msg, "%s: PACKET_FANOUT: %s", ifname, strerror(errno));
            goto fail;
        }
    }
    /* libpcap (1.10, Linux) keeps waiting past its timeout on a quiet link, so
     * reads are non-blocking and any wait is a poll: here (legacy), bounded
     * and woken by cg_capture_break through the pipe; or the caller's. */
    c->fd = pcap_get_selectable_fd(c->pc);
    if (c->fd >= 0) {
        if (pcap_setnonblock(c->pc, 1, eb) < 0) {
            snprintf(msg, sizeof msg, "%s: %s", ifname, eb);
            goto fail;
        }
        if (legacy && pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
            snprintf(msg, sizeof msg, "%s: pipe: %s", ifname, strerror(errno));
            goto fail;
        }
    }
    c->dlt = pcap_datalink(c->pc);
    c->snaplen = pcap_snapshot(c->pc);
    *out = c;
    return 0;
fail:
    put_err(err, errlen, msg);
    cg_capture_close(c);
    return -1;
}

int cg_capture_open_live_cfg(cg_capture **out, const char *ifname, const cg_live_config *cfg,
                             char *err, size_t errlen)
{
    return open_live(out, ifname, cfg, 0, err, errlen);
}

int cg_capture_open_live(cg_capture **out, const char *ifname, int snaplen, const char *bpf,
                         char *err, size_t errlen)
{
    cg_live_config cfg = { .snaplen = snaplen, .bpf = bpf, .fanout_group = -1, .promisc = 1 };
    return open_live(out, ifname, &cfg, 1, err, errlen);
}

/* Live, non-blocking: waits up to LIVE_TIMEOUT_MS for the interface or a
 * break. 1: something to read; 0: timed out, interrupted or broken. */
static int live_wait(cg_capture *c)
{
    struct pollfd pf[2] = { { .fd = c->fd, .events = POLLIN },
                            { .fd = c->wake[0], .events = POLLIN } };
    int n = poll(pf, 2, LIVE_TIMEOUT_MS);
    if (n <= 0)
        return 0;
    if (pf[1].revents) {
        char drain[64];
        while (read(c->wake[0], drain, sizeof drain) > 0)
            ;
        c->stop = 0;
        return 0;
    }
    return 1;
}

/* Whether the interface of a live handle went away, after a read r that
 * gave no packet. The kernel tells a packet socket ENETDOWN (POLLERR) both
 * when its interface is set down and when it is deleted (first down, then
 * unregistered); libpcap 1.10 reads that error off the socket, so it is seen
 * once, and then asks for a short select timeout
 * (pcap_get_required_select_timeout) until it knows which: by that sign, or
 * by a read error, the interface is looked up by name. Gone, or a new one by
 * the same name (another index): it went away. Only down: not an error. */
static int live_gone(const cg_capture *c, int r)
{
    if (!c->ifindex)
        return 0; /* "any" and libpcap's other devices */
    if (r == 0 && !pcap_get_required_select_timeout(c->pc))
        return 0;
    return if_nametoindex(c->name) != c->ifindex;
}

/* Records an error that sticks to the handle, and returns -1. */
static int fail_next(cg_capture *c, char *err, size_t errlen, const char *what)
{
    if (c->live)
        snprintf(c->msg, sizeof c->msg, "%s: %s", c->name, what);
    else
        snprintf(c->msg, sizeof c->msg, "%s: packet %llu: %s", c->name,
                 (unsigned long long)c->count + 1, what);
    c->failed = 1;
    put_err(err, errlen, c->msg);
    return -1;
}

/* libpcap's read errors, reworded to say which part of the file is wrong. */
static int read_error(cg_capture *c, char *err, size_t errlen)
{
    const char *e = pcap_geterr(c->pc);
    char what[PCAP_ERRBUF_SIZE + 128];
    unsigned a, b;
    int snap;
    if (sscanf(e, "invalid packet capture length %u, bigger than snaplen of %d", &a, &snap) == 2)
        snprintf(what, sizeof what, "captured length %u exceeds the snapshot length %d", a, snap);
    else if (sscanf(e, "truncated dump file; tried to read %u header bytes, only got %u", &a, &b) ==
             2)
        snprintf(what, sizeof what, "record header cut off at the end of the file (%u of %u bytes)",
                 b, a);
    else if (sscanf(e, "truncated dump file; tried to read %u captured bytes, only got %u", &a,
                    &b) == 2)
        snprintf(what, sizeof what, "record data cut off at the end of the file (%u of %u bytes)",
                 b, a);
    else if (sscanf(e, "truncated pcapng dump file; tried to read %u bytes, only got %u", &a, &b) ==
             2)
        snprintf(what, sizeof what, "block cut off at the end of the file (%u of %u bytes)", b, a);
    else
        snprintf(what, sizeof what, "%s", e && *e ? e : "read error");
    return fail_next(c, err, errlen, what);
}

int cg_capture_next(cg_capture *c, cg_frame *f, char *err, size_t errlen)
{
    if (!c || !f) {
        put_err(err, errlen, "capture: no handle");
        return -1;
    }
    if (c->failed) {
        put_err(err, errlen, c->msg);
        return -1;
    }
    if (c->stop) {
        c->stop = 0;
        if (c->wake[0] >= 0) {
            char drain[64];
            while (read(c->wake[0], drain, sizeof drain) > 0)
                ;
        }
        return 0;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    int r = pcap_next_ex(c->pc, &h, &d);
    if (r == 0 && c->fd >= 0 && !c->nowait && live_wait(c))
        r = pcap_next_ex(c->pc, &h, &d);
    if (c->live && r != 1 && r != PCAP_ERROR_BREAK && live_gone(c, r))
        return fail_next(c, err, errlen, "the interface went away (No such device)");
    if (r == 0 || r == PCAP_ERROR_BREAK)
        return 0; /* live: nothing yet or a break; file: the end */
    if (r != 1)
        return read_error(c, err, errlen);

    if (c->rec_hdr) {
        /* libpcap cuts such a record to exactly the snapshot length, so any
         * other record took its header and caplen bytes of the file. */
        if (h->caplen != (bpf_u_int32)c->snaplen) {
            c->pos += c->rec_hdr + (long)h->caplen;
        } else {
            long now = ftell(pcap_file(c->pc));
            if (now < 0) {
                c->rec_hdr = 0;
            } else {
                long on_file = now - c->pos - c->rec_hdr;
                c->pos = now;
                if (on_file > (long)h->caplen) {
                    char what[128];
                    snprintf(what, sizeof what,
                             "captured length %ld exceeds the snapshot length %d", on_file,
                             c->snaplen);
                    return fail_next(c, err, errlen, what);
                }
            }
        }
    }
    c->count++;
    f->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    f->caplen = h->caplen;
    f->wirelen = h->len;
    f->data = d;
    return 1;
}

int cg_capture_dlt(const cg_capture *c)
{
    return c ? c->dlt : -1;
}

int cg_capture_snaplen(const cg_capture *c)
{
    return c ? c->snaplen : 0;
}

uint64_t cg_capture_count(const cg_capture *c)
{
    return c ? c->count : 0;
}

uint64_t cg_capture_drops(cg_capture *c)
{
    struct pcap_stat ps;
    if (!c || !c->live || pcap_stats(c->pc, &ps) != 0)
        return 0;
    return (uint64_t)ps.ps_drop + ps.ps_ifdrop;
}

int cg_capture_fd(const cg_capture *c)
{
    return c && c->live ? c->fd : -1;
}

void cg_capture_get_stats(cg_capture *c, cg_capture_stats *out)
{
    struct pcap_stat ps;
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    out->packets = c->count;
    if (c->live && pcap_stats(c->pc, &ps) == 0) {
        out->kernel_packets = ps.ps_recv;
        out->kernel_drops = ps.ps_drop;
        out->if_drops = ps.ps_ifdrop;
    }
}

void cg_capture_break(cg_capture *c)
{
    if (!c)
        return;
    c->stop = 1;
    if (c->wake[1] >= 0) {
        ssize_t n = write(c->wake[1], "", 1); /* full pipe: already woken */
        (void)n;
    }
    if (c->pc)
        pcap_breakloop(c->pc);
}

void cg_capture_close(cg_capture *c)
{
    if (!c)
        return;
    if (c->pc)
        pcap_close(c->pc); /* fcloses the stream, then its buffer can go */
    free(c->fbuf);
    if (c->wake[0] >= 0)
        close(c->wake[0]);
    if (c->wake[1] >= 0)
        close(c->wake[1]);
    free(c);
}
