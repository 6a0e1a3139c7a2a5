/* test_capture.c — unit tests of sensor/capture: good pcap and pcapng files,
 * and every kind of damaged or wrong input, written into a fresh temporary
 * directory at run time. Each error must come back as one line that names the
 * file (and the 1-based packet number when a record is at fault).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>

#include "sensor/capture.h"
#include "sensor/decode.h"
#include "tests/check.h"

static char dir[] = "/tmp/cg_capture_XXXXXX";
static char paths[32][300];
static int npaths;

static const char *path_of(const char *name)
{
    char *p = paths[npaths++];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

/* ---- little-endian file writer ----------------------------------------- */

typedef struct wb {
    uint8_t b[4096];
    size_t n;
} wb;

static void w8(wb *w, unsigned v)
{
    w->b[w->n++] = (uint8_t)v;
}
static void w16(wb *w, unsigned v)
{
    w8(w, v & 0xff);
    w8(w, v >> 8);
}
static void w32(wb *w, uint32_t v)
{
    w16(w, v & 0xffff);
    w16(w, v >> 16);
}
static void wput(wb *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void wzero(wb *w, size_t n)
{
    memset(w->b + w->n, 0, n);
    w->n += n;
}

static void save(const char *path, const wb *w, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(w->b, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* A 60-byte Ethernet/IPv4/UDP frame whose first payload byte is tag. */
static void frame60(uint8_t *f, unsigned tag)
{
    static const uint8_t h[42] = { 0,    1, 2,  3,  4, 5, 0,    6,    7,  8,  9, 10, 0x08, 0x00,
                                   0x45, 0, 0,  46, 0, 1, 0,    0,    64, 17, 0, 0,  10,   0,
                                   0,    1, 10, 0,  0, 2, 0x30, 0x39, 0,  53, 0, 26, 0,    0 };
    memcpy(f, h, sizeof h);
    memset(f + 42, 0, 18);
    f[42] = (uint8_t)tag;
}

static void pcap_header(wb *w, uint32_t snaplen, uint32_t linktype)
{
    w32(w, 0xa1b2c3d4);
    w16(w, 2);
    w16(w, 4);
    w32(w, 0);
    w32(w, 0);
    w32(w, snaplen);
    w32(w, linktype);
}

/* A record of caplen bytes of frame data (tag-filled beyond 60). */
static void pcap_record(wb *w, uint32_t sec, uint32_t usec, uint32_t caplen, uint32_t len,
                        unsigned tag)
{
    w32(w, sec);
    w32(w, usec);
    w32(w, caplen);
    w32(w, len);
    uint8_t f[60];
    frame60(f, tag);
    for (uint32_t i = 0; i < caplen; i++)
        w8(w, i < 60 ? f[i] : tag);
}

/* pcapng: section header, interface description, enhanced packet blocks. */
static void ng_block_end(wb *w, size_t start)
{
    while ((w->n - start) % 4)
        w8(w, 0);
    uint32_t len = (uint32_t)(w->n - start) + 4;
    memcpy(w->b + start + 4,
           (uint8_t[4]){ (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                         (uint8_t)(len >> 24) },
           4);
    w32(w, len);
}

static void ng_shb(wb *w)
{
    size_t s = w->n;
    w32(w, 0x0a0d0d0a);
    w32(w, 0);
    w32(w, 0x1a2b3c4d);
    w16(w, 1);
    w16(w, 0);
    w32(w, 0xffffffff);
    w32(w, 0xffffffff); /* section length: unknown */
    ng_block_end(w, s);
}

/* tsresol 0: no option (microseconds) */
static void ng_idb(wb *w, unsigned linktype, uint32_t snaplen, unsigned tsresol)
{
    size_t s = w->n;
    w32(w, 1);
    w32(w, 0);
    w16(w, linktype);
    w16(w, 0);
    w32(w, snaplen);
    if (tsresol) {
        w16(w, 9); /* if_tsresol */
        w16(w, 1);
        w8(w, tsresol);
        wzero(w, 3);
        w32(w, 0); /* opt_endofopt */
    }
    ng_block_end(w, s);
}

static void ng_epb(wb *w, uint64_t ts, uint32_t caplen, uint32_t len, unsigned tag)
{
    size_t s = w->n;
    w32(w, 6);
    w32(w, 0);
    w32(w, 0); /* interface 0 */
    w32(w, (uint32_t)(ts >> 32));
    w32(w, (uint32_t)ts);
    w32(w, caplen);
    w32(w, len);
    uint8_t f[60];
    frame60(f, tag);
    for (uint32_t i = 0; i < caplen; i++)
        w8(w, i < 60 ? f[i] : tag);
    ng_block_end(w, s);
}

/* ---- checks ------------------------------------------------------------ */

/* What read_all keeps of the first frame (its data dies with the handle). */
typedef struct first_frame {
    uint64_t ts_us;
    uint32_t caplen;
    uint8_t tag;
} first_frame;

/* Opens path and reads it to the end; returns the number of frames, with the
 * final return code of next in *last and its message in err. */
static int read_all(const char *path, int *last, char *err, size_t errlen, first_frame *first)
{
    cg_capture *c = NULL;
    err[0] = '\0';
    if (cg_capture_open_file(&c, path, err, errlen) != 0) {
        *last = -100;
        return -1;
    }
    int n = 0, r;
    cg_frame f;
    while ((r = cg_capture_next(c, &f, err, errlen)) == 1) {
        if (n == 0 && first) {
            first->ts_us = f.ts_us;
            first->caplen = f.caplen;
            first->tag = f.caplen > 42 ? f.data[42] : 0;
        }
        n++;
    }
    *last = r;
    CHECK_EQ_U(cg_capture_count(c), (uint64_t)n);
    /* what next says after the end or an error, it says again */
    char again[512] = "";
    CHECK_EQ_U(cg_capture_next(c, &f, again, sizeof again), (uint64_t)(int64_t)r);
    if (r < 0)
        CHECK_STR(again, err);
    cg_capture_close(c);
    return n;
}

static void check_good_pcap(void)
{
    const char *path = path_of("good.pcap");
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d = dead ? pcap_dump_open(dead, path) : NULL;
    CHECK(d != NULL);
    if (!d)
        return;
    for (unsigned i = 0; i < 3; i++) {
        uint8_t f[60];
        frame60(f, 'a' + i);
        struct pcap_pkthdr h;
        h.ts.tv_sec = 1700000000 + i;
        h.ts.tv_usec = 250000 + i;
        h.caplen = i == 2 ? 50 : 60;
        h.len = 60;
        pcap_dump((u_char *)d, &h, f);
    }
    pcap_dump_close(d);
    pcap_close(dead);

    char err[512];
    cg_capture *c = NULL;
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) == 0);
    CHECK_EQ_U(cg_capture_dlt(c), DLT_EN10MB);
    CHECK_EQ_U(cg_capture_snaplen(c), 65535);
    CHECK_EQ_U(cg_capture_drops(c), 0);
    CHECK_EQ_U(cg_capture_fd(c), (uint64_t)-1);
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    for (unsigned i = 0; i < 3; i++) {
        cg_frame f;
        CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 1);
        CHECK_EQ_U(f.ts_us, (1700000000ULL + i) * 1000000 + 250000 + i);
        CHECK_EQ_U(f.caplen, i == 2 ? 50 : 60);
        CHECK_EQ_U(f.wirelen, 60);
        CHECK_EQ_U(f.data[42], 'a' + i);
        cg_packet p;
        CHECK_EQ_U(cg_decode(&p, cg_capture_dlt(c), f.data, f.caplen, f.wirelen, f.ts_us, &st),
                   CG_OK);
        CHECK_EQ_U(p.dport, 53);
        CHECK_EQ_U(p.ts_us, f.ts_us);
    }
    cg_frame f;
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 0);
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 0);
    CHECK_EQ_U(cg_capture_count(c), 3);
    cg_capture_stats cs;
    memset(&cs, 0xff, sizeof cs);
    cg_capture_get_stats(c, &cs);
    CHECK_EQ_U(cs.packets, 3);
    CHECK_EQ_U(cs.kernel_packets, 0);
    CHECK_EQ_U(cs.kernel_drops, 0);
    CHECK_EQ_U(cs.if_drops, 0);
    cg_capture_close(c);

    /* a break makes the next call return 0 once */
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) == 0);
    cg_capture_break(c);
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 0);
    cg_capture_close(c);
}

static void check_pcapng(void)
{
    wb w = { .n = 0 };
    ng_shb(&w);
    ng_idb(&w, 1, 0, 0);
    ng_epb(&w, 1700000000123456ULL, 60, 60, 'x');
    ng_epb(&w, 1700000001000001ULL, 60, 1514, 'y');
    const char *path = path_of("good.pcapng");
    save(path, &w, w.n);

    char err[512];
    int last;
    first_frame first;
    CHECK_EQ_U(read_all(path, &last, err, sizeof err, &first), 2);
    CHECK_EQ_U(last, 0);
    CHECK_EQ_U(first.ts_us, 1700000000123456ULL);
    CHECK_EQ_U(first.caplen, 60);
    CHECK_EQ_U(first.tag, 'x');

    /* nanosecond resolution is brought down to microseconds */
    w.n = 0;
    ng_shb(&w);
    ng_idb(&w, 228, 65535, 9);
    ng_epb(&w, 1700000000123456789ULL, 60, 60, 'n');
    path = path_of("nsec.pcapng");
    save(path, &w, w.n);
    cg_capture *c = NULL;
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) == 0);
    CHECK_EQ_U(cg_capture_dlt(c), 228);
    cg_frame f;
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 1);
    CHECK_EQ_U(f.ts_us, 1700000000123456ULL);
    cg_capture_close(c);

    /* the last block cut short */
    w.n = 0;
    ng_shb(&w);
    ng_idb(&w, 1, 0, 0);
    ng_epb(&w, 1, 60, 60, 'a');
    size_t keep = w.n + 20;
    ng_epb(&w, 2, 60, 60, 'b');
    path = path_of("cut.pcapng");
    save(path, &w, keep);
    CHECK_EQ_U(read_all(path, &last, err, sizeof err, NULL), 1);
    CHECK_EQ_U(last, (uint64_t)-1);
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, ": packet 2: ");
    CHECK_CONTAINS(err, "cut off at the end of the file");
    CHECK(strchr(err, '\n') == NULL);

    /* a packet over the interface's snapshot length */
    w.n = 0;
    ng_shb(&w);
    ng_idb(&w, 1, 64, 0);
    ng_epb(&w, 1, 60, 60, 'a');
    ng_epb(&w, 2, 100, 100, 'b');
    ng_epb(&w, 3, 60, 60, 'c');
    path = path_of("oversize.pcapng");
    save(path, &w, w.n);
    CHECK_EQ_U(read_all(path, &last, err, sizeof err, NULL), 1);
    CHECK_EQ_U(last, (uint64_t)-1);
    char want[512];
    snprintf(want, sizeof want, "%s: packet 2: captured length 100 exceeds the snapshot length 64",
             path);
    CHECK_STR(err, want);
}

static void check_open_errors(void)
{
    char err[512], want[512];
    static char marker;
    cg_capture *const sentinel = (cg_capture *)(void *)&marker;
    cg_capture *c = sentinel; /* must stay untouched on failure */

    const char *path = path_of("capture.pcap"); /* never created */
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) < 0);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    CHECK_STR(err, want);
    CHECK(c == sentinel);

    path = path_of("x.txt");
    wb w = { .n = 0 };
    wput(&w, "this is not a capture, only text\n", 33);
    save(path, &w, w.n);
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) < 0);
    snprintf(want, sizeof want, "%s: not a pcap or pcapng file", path);
    CHECK_STR(err, want);

    path = path_of("short.pcap"); /* 10 bytes of a pcap file header */
    w.n = 0;
    pcap_header(&w, 65535, 1);
    save(path, &w, 10);
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) < 0);
    CHECK_CONTAINS(err, path);
    CHECK(strncmp(err, path, strlen(path)) == 0);
    CHECK_CONTAINS(err, "truncated file header");

    path = path_of("empty.pcap");
    save(path, &w, 0);
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) < 0);
    CHECK(strncmp(err, path, strlen(path)) == 0);

    path = path_of("short.pcapng"); /* a section header block cut short */
    w.n = 0;
    ng_shb(&w);
    save(path, &w, 14);
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) < 0);
    CHECK(strncmp(err, path, strlen(path)) == 0);

    CHECK(cg_capture_open_file(&c, dir, err, sizeof err) < 0); /* a directory */
    CHECK(strncmp(err, dir, strlen(dir)) == 0);
    CHECK(c == sentinel);

    /* a small message buffer is cut, not overrun */
    char tiny[8];
    CHECK(cg_capture_open_file(&c, path, tiny, sizeof tiny) < 0);
    CHECK_EQ_U(strlen(tiny), 7);

    /* live: errors name the interface; a missing one is found missing
     * whatever the privileges (without them libpcap would say EPERM) */
    CHECK(cg_capture_open_live(&c, "cgnosuch0", 0, NULL, err, sizeof err) < 0);
    CHECK_STR(err, "cgnosuch0: no such interface");
    CHECK(cg_capture_open_live(&c, "", 0, NULL, err, sizeof err) < 0);
    cg_live_config cfg = { .fanout_group = -1 };
    CHECK(cg_capture_open_live_cfg(&c, "cgnosuch0", &cfg, err, sizeof err) < 0);
    CHECK_STR(err, "cgnosuch0: no such interface");
    cfg.fanout_group = 7;
    CHECK(cg_capture_open_live_cfg(&c, "cgnosuch0", &cfg, err, sizeof err) < 0);
    CHECK_STR(err, "cgnosuch0: no such interface");
    cfg.fanout_group = 65536;
    CHECK(cg_capture_open_live_cfg(&c, "lo", &cfg, err, sizeof err) < 0);
    CHECK_STR(err, "lo: fanout group 65536 out of range (0..65535, or -1)");
    cfg.fanout_group = -2;
    CHECK(cg_capture_open_live_cfg(&c, "lo", &cfg, err, sizeof err) < 0);
    CHECK(strncmp(err, "lo: fanout group -2 out of range", 32) == 0);
    CHECK(cg_capture_open_live_cfg(&c, "lo", NULL, err, sizeof err) < 0);
    CHECK(cg_capture_open_live_cfg(&c, "", &cfg, err, sizeof err) < 0);
    CHECK(c == sentinel);

    cg_capture_close(NULL);
    cg_capture_break(NULL);
    CHECK_EQ_U(cg_capture_dlt(NULL), (uint64_t)-1);
    CHECK_EQ_U(cg_capture_count(NULL), 0);
    CHECK_EQ_U(cg_capture_fd(NULL), (uint64_t)-1);
    cg_capture_stats cs;
    memset(&cs, 0xff, sizeof cs);
    cg_capture_get_stats(NULL, &cs);
    CHECK_EQ_U(cs.packets + cs.kernel_packets + cs.kernel_drops + cs.if_drops, 0);
    cg_capture_get_stats(NULL, NULL);
}

static void check_record_errors(void)
{
    char err[512], want[512];
    int last;
    wb w;

    /* the last record's header cut off after 7 of its 16 bytes */
    w.n = 0;
    pcap_header(&w, 65535, 1);
    pcap_record(&w, 1, 0, 60, 60, 'a');
    size_t keep = w.n + 7;
    pcap_record(&w, 2, 0, 60, 60, 'b');
    const char *path = path_of("cuthdr.pcap");
    save(path, &w, keep);
    CHECK_EQ_U(read_all(path, &last, err, sizeof err, NULL), 1);
    CHECK_EQ_U(last, (uint64_t)-1);
    snprintf(want, sizeof want,
             "%s: packet 2: record header cut off at the end of the file (7 of 16 bytes)", path);
    CHECK_STR(err, want);

    /* the last record's data cut off */
    keep = w.n - 46;
    path = path_of("cutdata.pcap");
    save(path, &w, keep);
    CHECK_EQ_U(read_all(path, &last, err, sizeof err, NULL), 1);
    CHECK_EQ_U(last, (uint64_t)-1);
    snprintf(want, sizeof want,
             "%s: packet 2: record data cut off at the end of the file (14 of 60 bytes)", path);
    CHECK_STR(err, want);

    /* caplen over the file's snapshot length: libpcap would cut it silently */
    w.n = 0;
    pcap_header(&w, 64, 1);
    pcap_record(&w, 1, 0, 60, 60, 'a');
    pcap_record(&w, 2, 0, 64, 100, 'b');  /* a properly cut record: fine */
    pcap_record(&w, 3, 0, 100, 100, 'c'); /* over the snapshot length */
    pcap_record(&w, 4, 0, 60, 60, 'd');
    path = path_of("oversize.pcap");
    save(path, &w, w.n);
    cg_capture *c = NULL;
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) == 0);
    cg_frame f;
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 1);
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 1);
    CHECK_EQ_U(f.caplen, 64);
    CHECK_EQ_U(f.wirelen, 100);
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), (uint64_t)-1);
    snprintf(want, sizeof want, "%s: packet 3: captured length 100 exceeds the snapshot length 64",
             path);
    CHECK_STR(err, want);
    err[0] = '\0';
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), (uint64_t)-1); /* final */
    CHECK_STR(err, want);
    CHECK_EQ_U(cg_capture_count(c), 2);
    cg_capture_close(c);

    /* caplen over what libpcap accepts at all */
    w.n = 0;
    pcap_header(&w, 64, 1);
    pcap_record(&w, 1, 0, 60, 60, 'a');
    w32(&w, 2);
    w32(&w, 0);
    w32(&w, 300000);
    w32(&w, 300000);
    wzero(&w, 64);
    path = path_of("huge.pcap");
    save(path, &w, w.n);
    CHECK_EQ_U(read_all(path, &last, err, sizeof err, NULL), 1);
    CHECK_EQ_U(last, (uint64_t)-1);
    snprintf(want, sizeof want,
             "%s: packet 2: captured length 300000 exceeds the snapshot length 64", path);
    CHECK_STR(err, want);

    /* a zero-length record is a frame; the decoder calls it truncated */
    w.n = 0;
    pcap_header(&w, 65535, 1);
    pcap_record(&w, 1, 0, 60, 60, 'a');
    pcap_record(&w, 2, 0, 0, 60, 'b');
    pcap_record(&w, 3, 0, 60, 60, 'c');
    path = path_of("zero.pcap");
    save(path, &w, w.n);
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) == 0);
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    int rcs[3];
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 1);
        cg_packet p;
        rcs[i] = cg_decode(&p, cg_capture_dlt(c), f.data, f.caplen, f.wirelen, f.ts_us, &st);
        if (i == 1) {
            CHECK_EQ_U(f.caplen, 0);
            CHECK_EQ_U(f.wirelen, 60);
        }
    }
    CHECK_EQ_U(rcs[0], CG_OK);
    CHECK_EQ_U(rcs[1], CG_ETRUNCATED);
    CHECK_EQ_U(rcs[2], CG_OK);
    CHECK_EQ_U(st.truncated, 1);
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 0);
    cg_capture_close(c);

    /* byte-swapped (big-endian) pcap with an oversize record */
    w.n = 0;
    static const uint8_t be_hdr[24] = { 0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4,  0, 0, 0, 0,
                                        0,    0,    0,    0,    0, 0, 0, 64, 0, 0, 0, 1 };
    wput(&w, be_hdr, 24);
    static const uint8_t be_rec[16] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 80, 0, 0, 0, 80 };
    wput(&w, be_rec, 16);
    wzero(&w, 80);
    path = path_of("bigendian.pcap");
    save(path, &w, w.n);
    CHECK_EQ_U(read_all(path, &last, err, sizeof err, NULL), 0);
    CHECK_EQ_U(last, (uint64_t)-1);
    snprintf(want, sizeof want, "%s: packet 1: captured length 80 exceeds the snapshot length 64",
             path);
    CHECK_STR(err, want);
}

/* A file of some MiB (more than the stream's buffer): records under, at and
 * cut to the snapshot length, and zero-length ones, read to an oversize
 * record at the end; the file position that finds it is counted record by
 * record, so it must still be right after tens of thousands of them. */
static void check_long_file(void)
{
    const char *path = path_of("long.pcap");
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    const unsigned n = 60000;
    wb w = { .n = 0 };
    pcap_header(&w, 64, 1);
    for (unsigned i = 0; i < n; i++) {
        uint32_t cap = i % 7 == 3 ? 64 : i % 11 == 5 ? 0 : i % 2 ? 60 : 40;
        pcap_record(&w, 1 + i, 0, cap, i % 7 == 3 ? 1500 : 60, 'a' + i % 26);
        if (w.n > sizeof w.b - 200) {
            CHECK_EQ_U(fwrite(w.b, 1, w.n, fp), w.n);
            w.n = 0;
        }
    }
    pcap_record(&w, 1 + n, 0, 100, 100, 'z'); /* over the snapshot length */
    pcap_record(&w, 2 + n, 0, 60, 60, 'z');
    CHECK_EQ_U(fwrite(w.b, 1, w.n, fp), w.n);
    CHECK(fclose(fp) == 0);

    char err[512], want[512];
    cg_capture *c = NULL;
    CHECK(cg_capture_open_file(&c, path, err, sizeof err) == 0);
    if (!c)
        return;
    cg_frame f;
    unsigned got = 0, bad = 0;
    int r;
    while ((r = cg_capture_next(c, &f, err, sizeof err)) == 1) {
        uint32_t cap = got % 7 == 3 ? 64 : got % 11 == 5 ? 0 : got % 2 ? 60 : 40;
        if (f.caplen != cap || f.ts_us != (uint64_t)(1 + got) * 1000000u ||
            (cap > 42 && f.data[42] != 'a' + got % 26))
            bad++;
        got++;
    }
    CHECK_EQ_U(r, (uint64_t)-1);
    CHECK_EQ_U(got, n);
    CHECK_EQ_U(bad, 0);
    snprintf(want, sizeof want, "%s: packet %u: captured length 100 exceeds the snapshot length 64",
             path, n + 1);
    CHECK_STR(err, want);
    cg_capture_close(c);
}

/* Live capture on the loopback interface, when this process may capture
 * (root or CAP_NET_RAW); skipped otherwise. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check_live(void)
{
    char err[512];
    cg_capture *c = NULL;
    if (cg_capture_open_live(&c, "lo", 0, "udp and dst port 47999 and host 127.0.0.1", err,
                             sizeof err) != 0) {
        printf("test_capture: live capture skipped (%s)\n", err);
        return;
    }
    CHECK_EQ_U(cg_capture_snaplen(c), 262144);

    /* a quiet link: next comes back with 0 after a bounded wait */
    cg_frame f;
    double t0 = now_s();
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 0);
    CHECK(now_s() - t0 < 2.0);

    /* a break: at once */
    cg_capture_break(c);
    t0 = now_s();
    CHECK_EQ_U(cg_capture_next(c, &f, err, sizeof err), 0);
    CHECK(now_s() - t0 < 0.2);

    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(47999);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(s >= 0 && sendto(s, "live", 4, 0, (struct sockaddr *)&to, sizeof to) == 4);
    int got = 0;
    for (int i = 0; i < 20 && !got; i++) {
        int r = cg_capture_next(c, &f, err, sizeof err);
        CHECK(r >= 0);
        if (r == 1) {
            cg_decode_stats st;
            memset(&st, 0, sizeof st);
            cg_packet p;
            CHECK_EQ_U(cg_decode(&p, cg_capture_dlt(c), f.data, f.caplen, f.wirelen, f.ts_us, &st),
                       CG_OK);
            CHECK_EQ_U(p.dport, 47999);
            CHECK(p.payload_len == 4 && memcmp(p.payload, "live", 4) == 0);
            got = 1;
        }
    }
    CHECK(got);
    if (s >= 0)
        close(s);
    (void)cg_capture_drops(c);
    cg_capture_close(c);

    CHECK(cg_capture_open_live(&c, "lo", 0, "tcp port", err, sizeof err) < 0);
    CHECK(strncmp(err, "lo: filter \"tcp port\": ", 23) == 0);
}

/* The handles of cg_capture_open_live_cfg on the loopback interface, when
 * this process may capture: next never waits; the descriptor polls; two
 * handles in one fanout group read a packet once between them (libpcap drops
 * the outgoing copy that lo also shows). */
static void send_udp(uint16_t port, const char *msg)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    size_t n = strlen(msg);
    CHECK(s >= 0 && sendto(s, msg, n, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)n);
    if (s >= 0)
        close(s);
}

static void check_live_cfg(void)
{
    char err[512];
    cg_capture *c[2] = { NULL, NULL };
    /* a group id of this process's own, so runs side by side do not meet */
    cg_live_config cfg = { .bpf = "udp and dst port 47998 and host 127.0.0.1",
                           .fanout_group = 30000 + (int)(getpid() % 30000),
                           .promisc = 0 };
    if (cg_capture_open_live_cfg(&c[0], "lo", &cfg, err, sizeof err) != 0) {
        printf("test_capture: live fanout skipped (%s)\n", err);
        return;
    }
    CHECK(cg_capture_open_live_cfg(&c[1], "lo", &cfg, err, sizeof err) == 0);
    if (!c[1]) {
        cg_capture_close(c[0]);
        return;
    }
    CHECK(cg_capture_fd(c[0]) >= 0 && cg_capture_fd(c[1]) >= 0);
    CHECK_EQ_U(cg_capture_snaplen(c[0]), 262144);

    cg_frame f;
    double t0 = now_s();
    CHECK_EQ_U(cg_capture_next(c[0], &f, err, sizeof err), 0); /* at once */
    CHECK(now_s() - t0 < 0.05);

    for (int i = 0; i < 8; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "fan%d", i);
        send_udp(47998, msg);
    }
    int got[2] = { 0, 0 };
    struct pollfd pf[2] = { { .fd = cg_capture_fd(c[0]), .events = POLLIN },
                            { .fd = cg_capture_fd(c[1]), .events = POLLIN } };
    t0 = now_s();
    while (got[0] + got[1] < 8 && now_s() - t0 < 2.0) {
        CHECK(poll(pf, 2, 100) >= 0);
        for (int i = 0; i < 2; i++) {
            int r;
            while ((r = cg_capture_next(c[i], &f, err, sizeof err)) == 1)
                got[i]++;
            CHECK_EQ_U(r, 0);
        }
    }
    /* once each, nothing more */
    usleep(50000);
    for (int i = 0; i < 2; i++)
        while (cg_capture_next(c[i], &f, err, sizeof err) == 1)
            got[i]++;
    CHECK_EQ_U(got[0] + got[1], 8);
    cg_capture_stats st;
    cg_capture_get_stats(c[0], &st);
    CHECK_EQ_U(st.packets, (uint64_t)got[0]);
    CHECK_EQ_U(st.kernel_drops, 0);

    /* a break makes the next call return 0 */
    cg_capture_break(c[0]);
    CHECK_EQ_U(cg_capture_next(c[0], &f, err, sizeof err), 0);
    cg_capture_close(c[0]);
    cg_capture_close(c[1]);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    check_good_pcap();
    check_pcapng();
    check_open_errors();
    check_record_errors();
    check_long_file();
    check_live();
    check_live_cfg();
    for (int i = 0; i < npaths; i++)
        unlink(paths[i]);
    rmdir(dir);
    return check_done("test_capture");
}
