/* test_pcapdir.c — the full-packet ring (sensor/pcapdir.h): the writer's
 * rotation, its budget (the oldest files deleted first, their indexes kept),
 * the index lookup of a flow that spans files, a flow whose first files were
 * deleted (LOST, with the count the kept indexes give) and one whose
 * indexes went too (UNKNOWN), sessions of one flow id apart in time, the
 * open file read without an index, a damaged index, a flow written out as a
 * pcap file, libpcap reading every ring file, a failed write (ENOSPC from an
 * injected write function: the ring stops with its one line, and every call
 * after returns at once), the threaded writer fed by two producers, bad
 * arguments, and no allocation per packet (mallinfo2: the heap in use is
 * the same before and after thousands of packets and several rotations).
 * Every test works under one mkdtemp() root, removed at the end.
 */
#include "sensor/decode.h"
#include "sensor/error.h"
#include "sensor/flow.h"
#include "sensor/pcapdir.h"
#include "tests/check.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static const char *path(const char *name)
{
    static char buf[8][256];
    static unsigned i;
    char *p = buf[i++ % 8];
    snprintf(p, 256, "%s/%s", root, name);
    return p;
}

/* An Ethernet/IPv4/TCP frame of flow (a, b, sport, dport) with paylen bytes
 * of payload filled with fill. Returns its length. */
static uint32_t frame(uint8_t *f, uint32_t a, uint32_t b, uint16_t sp, uint16_t dp, uint32_t paylen,
                      uint8_t fill)
{
    memset(f, 0, 54);
    f[12] = 0x08; /* IPv4 */
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    uint16_t tot = (uint16_t)(40 + paylen);
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[8] = 64;
    ip[9] = 6;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(a >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(b >> (24 - 8 * i));
    }
    uint8_t *tcp = ip + 20;
    tcp[0] = (uint8_t)(sp >> 8);
    tcp[1] = (uint8_t)sp;
    tcp[2] = (uint8_t)(dp >> 8);
    tcp[3] = (uint8_t)dp;
    tcp[12] = 0x50;
    tcp[13] = 0x18; /* PSH ACK */
    memset(f + 54, fill, paylen);
    return 54 + paylen;
}

static uint64_t flow_of(const uint8_t *f, uint32_t len)
{
    cg_packet p;
    cg_decode_stats ds;
    memset(&ds, 0, sizeof ds);
    if (cg_decode(&p, 1, f, len, len, 0, &ds) != CG_OK)
        return 0;
    return cg_flow_id(&p);
}

/* flows used below: client 10.0.0.N port 1000+N to 192.0.2.1:80 */
#define CLI(n) (0x0a000000u + (n))
#define SRV 0xc0000201u

static uint8_t fb[2000];

static int wr(cg_pcapdir *w, uint64_t ts, int n, uint32_t paylen)
{
    uint32_t len = frame(fb, CLI(n), SRV, (uint16_t)(1000 + n), 80, paylen, (uint8_t)n);
    return cg_pcapdir_write(w, ts, 1, fb, len, len);
}

static uint64_t fid(int n)
{
    uint32_t len = frame(fb, CLI(n), SRV, (uint16_t)(1000 + n), 80, 0, 0);
    return flow_of(fb, len);
}

/* what a callback saw */
typedef struct seen {
    uint64_t n, last_ts, bad_order, bad_flow, bytes;
    uint64_t want;
} seen;

static int see(void *ctx, const cg_pcapdir_packet *p)
{
    seen *s = ctx;
    if (p->ts_us < s->last_ts)
        s->bad_order++;
    if (flow_of(p->data, p->caplen) != s->want)
        s->bad_flow++;
    s->last_ts = p->ts_us;
    s->bytes += p->caplen;
    s->n++;
    return 0;
}

static int count_files(const char *dir, const char *ext, uint64_t *bytes)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    char p[600];
    while (d && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name), e = strlen(ext);
        if (l > e && !strcmp(de->d_name + l - e, ext)) {
            n++;
            struct stat sb;
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            if (bytes && stat(p, &sb) == 0)
                *bytes += (uint64_t)sb.st_size;
        }
    }
    if (d)
        closedir(d);
    return n;
}

/* packets libpcap reads in every ring-*.pcap of dir */
static uint64_t libpcap_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint64_t n = 0;
    char p[600], e[PCAP_ERRBUF_SIZE];
    while (d && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 5, ".pcap"))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        pcap_t *pc = pcap_open_offline(p, e);
        if (!pc)
            return UINT64_MAX;
        struct pcap_pkthdr *h;
        const u_char *data;
        while (pcap_next_ex(pc, &h, &data) == 1)
            n++;
        pcap_close(pc);
    }
    if (d)
        closedir(d);
    return n;
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* 1. rotation, lookup across files, budget and deletion */
static void test_ring(void)
{
    const char *dir = path("ring");
    char err[512];
    cg_pcapdir *w = NULL;
    cg_pcapdir_config cfg = { .dir = dir, .max_bytes = 1u << 20, .file_bytes = 64u << 10 };
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), 0);
    if (!w)
        return;
    /* flow 1 runs through everything; flows 2..9 come and go */
    uint64_t ts = 1700000000000000ULL, n1 = 0, total = 0;
    for (int i = 0; i < 600; i++, ts += 1000) {
        CHECK(wr(w, ts, 1, 400) == 0);
        n1++;
        CHECK(wr(w, ts + 1, 2 + i % 8, 200) == 0);
        total += 2;
    }
    cg_pcapdir_finish(w);
    cg_pcapdir_stats st;
    cg_pcapdir_stats_get(w, &st);
    CHECK_EQ_U(st.packets, total);
    CHECK(st.files_rotated >= 5);
    CHECK_EQ_U(st.files_deleted, 0);
    CHECK_EQ_U(st.write_errors, 0);
    CHECK(!st.stopped);
    CHECK_EQ_U(count_files(dir, ".pcap", NULL), st.files_rotated);
    CHECK_EQ_U(count_files(dir, ".idx", NULL), st.files_rotated);
    CHECK_EQ_U(libpcap_count(dir), total); /* what tcpdump -r reads */

    cg_pcapdir_reader *r = NULL;
    CHECK_EQ_U(cg_pcapdir_reader_open(&r, dir, err, sizeof err), 0);
    if (r) {
        seen s = { .want = fid(1) };
        cg_pcapdir_flow_info fi;
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(1), 0, 0, see, &s, &fi, err, sizeof err), 0);
        CHECK_EQ_U(s.n, n1);
        CHECK_EQ_U(fi.packets, n1);
        CHECK_EQ_U(s.bad_order, 0);
        CHECK_EQ_U(s.bad_flow, 0);
        CHECK_EQ_U(fi.first_us, 1700000000000000ULL);
        CHECK(fi.files >= 5); /* it spans the files */
        CHECK_EQ_U(fi.start, CG_PCAPDIR_START_HELD);
        CHECK_EQ_U(fi.lost_packets, 0);
        seen s2 = { .want = fid(5) };
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(5), 0, 0, see, &s2, &fi, err, sizeof err), 0);
        CHECK_EQ_U(s2.n, 75);
        CHECK_EQ_U(s2.bad_flow, 0);
        /* an id the ring never saw */
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, 12345, 0, 0, see, &s2, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.packets, 0);
        CHECK_EQ_U(fi.start, CG_PCAPDIR_START_NONE);
        /* a flow written out as a pcap file */
        CHECK_EQ_U(cg_pcapdir_reader_flow_pcap(r, fid(1), 0, 0, path("flow1.pcap"), &fi, err,
                                               sizeof err),
                   0);
        char e[PCAP_ERRBUF_SIZE];
        pcap_t *pc = pcap_open_offline(path("flow1.pcap"), e);
        CHECK(pc != NULL);
        if (pc) {
            struct pcap_pkthdr *h;
            const u_char *data;
            uint64_t n = 0, bad = 0;
            while (pcap_next_ex(pc, &h, &data) == 1) {
                n++;
                bad += flow_of(data, h->caplen) != fid(1);
            }
            CHECK_EQ_U(n, n1);
            CHECK_EQ_U(bad, 0);
            CHECK_EQ_U(pcap_datalink(pc), 1);
            pcap_close(pc);
        }
        cg_pcapdir_reader_close(r);
    }
    cg_pcapdir_close(w);

    /* a second run on the same DIR goes on numbering, and keeps the budget:
     * 0.9 MB more deletes the oldest pcap files, their indexes stay */
    w = NULL;
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), 0);
    if (!w)
        return;
    for (int i = 0; i < 1200; i++, ts += 1000) {
        CHECK(wr(w, ts, 1, 400) == 0);
        n1++;
        CHECK(wr(w, ts + 1, 20 + i % 50, 200) == 0);
    }
    cg_pcapdir_finish(w);
    cg_pcapdir_stats_get(w, &st);
    CHECK(st.files_deleted > 0);
    uint64_t bytes = 0;
    count_files(dir, ".pcap", &bytes);
    count_files(dir, ".idx", &bytes);
    CHECK(bytes <= cfg.max_bytes);
    CHECK(access(path("ring/ring-0000000001.pcap"), F_OK) != 0);
    CHECK(access(path("ring/ring-0000000001.idx"), F_OK) == 0); /* kept: it says what went */
    CHECK(count_files(dir, ".idx", NULL) <= 2 * count_files(dir, ".pcap", NULL));
    r = NULL;
    CHECK_EQ_U(cg_pcapdir_reader_open(&r, dir, err, sizeof err), 0);
    if (r) {
        seen s = { .want = fid(1) };
        cg_pcapdir_flow_info fi;
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(1), 0, 0, see, &s, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.start, CG_PCAPDIR_START_LOST);
        CHECK(fi.packets > 0 && fi.lost_packets > 0);
        CHECK_EQ_U(fi.packets + fi.lost_packets, n1); /* every deleted file's index kept */
        CHECK_EQ_U(s.bad_order + s.bad_flow, 0);
        CHECK(fi.lost_last_us < fi.first_us);
        /* a flow that began after the deletions: held whole */
        seen s2 = { .want = fid(69) };
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(69), 0, 0, see, &s2, &fi, err, sizeof err), 0);
        CHECK(fi.packets > 0);
        cg_pcapdir_reader_close(r);
    }
    cg_pcapdir_close(w);

    /* much more: the oldest indexes go too; flow 1's start is then unknown */
    w = NULL;
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), 0);
    if (!w)
        return;
    uint64_t late = ts + 10 * 1000000ULL; /* flow 200 starts 10 s after the rest */
    for (int i = 0; i < 6000; i++, ts += 1000) {
        CHECK(wr(w, ts, 1, 400) == 0);
        CHECK(wr(w, ts + 1, 100 + i % 50, 200) == 0);
    }
    for (int i = 0; i < 10; i++)
        CHECK(wr(w, late + i, 200, 100) == 0);
    cg_pcapdir_close(w);
    bytes = 0;
    count_files(dir, ".pcap", &bytes);
    count_files(dir, ".idx", &bytes);
    CHECK(bytes <= cfg.max_bytes);
    CHECK(access(path("ring/ring-0000000001.idx"), F_OK) != 0);
    r = NULL;
    CHECK_EQ_U(cg_pcapdir_reader_open(&r, dir, err, sizeof err), 0);
    if (r) {
        cg_pcapdir_flow_info fi;
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(1), 0, 0, NULL, NULL, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.start, CG_PCAPDIR_START_LOST); /* the kept indexes say so still */
        /* flow 200: within the gap of the oldest file known, its start is unknown */
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(200), 0, 0, NULL, NULL, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.packets, 10);
        CHECK_EQ_U(fi.start, CG_PCAPDIR_START_UNKNOWN);
        /* with a gap of 1 s, nothing before it could belong: held */
        cg_pcapdir_reader_set_gap(r, 1000000);
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(200), 0, 0, NULL, NULL, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.start, CG_PCAPDIR_START_HELD);
        cg_pcapdir_reader_close(r);
    }
}

/* 2. sessions of one id, the open file without an index, a damaged index */
static void test_sessions(void)
{
    const char *dir = path("sess");
    char err[512];
    cg_pcapdir *w = NULL;
    cg_pcapdir_config cfg = { .dir = dir, .max_bytes = 4u << 20, .file_bytes = 64u << 10 };
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), 0);
    if (!w)
        return;
    uint64_t t0 = 1700000000000000ULL, t1 = t0 + 2 * CG_PCAPDIR_GAP_US;
    for (int i = 0; i < 10; i++)
        wr(w, t0 + (uint64_t)i * 1000000, 7, 100);
    for (int i = 0; i < 200; i++) /* other traffic between: files rotate */
        wr(w, t0 + 100000000 + (uint64_t)i, 8, 1000);
    for (int i = 0; i < 15; i++)
        wr(w, t1 + (uint64_t)i * 1000000, 7, 100);
    CHECK_EQ_U(cg_pcapdir_flush(w), 0); /* the last file open, no index yet */
    cg_pcapdir_reader *r = NULL;
    CHECK_EQ_U(cg_pcapdir_reader_open(&r, dir, err, sizeof err), 0);
    if (r) {
        cg_pcapdir_flow_info fi;
        seen s = { .want = fid(7) };
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(7), 0, 0, see, &s, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.packets, 25);
        /* the incident of the second session: its 15 packets only */
        s = (seen){ .want = fid(7) };
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(7), t1 + 3000000, t1 + 4000000, see, &s, &fi, err,
                                          sizeof err),
                   0);
        CHECK_EQ_U(fi.packets, 15);
        CHECK_EQ_U(fi.first_us, t1);
        CHECK_EQ_U(fi.start, CG_PCAPDIR_START_HELD);
        CHECK_EQ_U(s.bad_flow, 0);
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(7), t0, t0 + 1, NULL, NULL, &fi, err, sizeof err),
                   0);
        CHECK_EQ_U(fi.packets, 10);
        /* a time when the flow was silent: none */
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(7), t0 + CG_PCAPDIR_GAP_US,
                                          t0 + CG_PCAPDIR_GAP_US + 1, NULL, NULL, &fi, err,
                                          sizeof err),
                   0);
        CHECK_EQ_U(fi.packets, 0);
        cg_pcapdir_reader_close(r);
    }
    cg_pcapdir_close(w);
    /* a damaged index: the reader scans the pcap file instead */
    FILE *f = fopen(path("sess/ring-0000000001.idx"), "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 70, SEEK_SET);
        fputc(0x5a, f);
        fclose(f);
    }
    r = NULL;
    CHECK_EQ_U(cg_pcapdir_reader_open(&r, dir, err, sizeof err), 0);
    if (r) {
        cg_pcapdir_flow_info fi;
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(7), 0, 0, NULL, NULL, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.packets, 25);
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(8), 0, 0, NULL, NULL, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.packets, 200);
        cg_pcapdir_reader_close(r);
    }
}

/* 3. a failed write stops the ring, once, and says so */
static int write_calls, fail_after;
static ssize_t failing_write(int fd, const void *b, size_t n)
{
    if (++write_calls > fail_after) {
        errno = ENOSPC;
        return -1;
    }
    return write(fd, b, n);
}

static void test_write_error(void)
{
    char err[512], line[512] = "";
    FILE *log = tmpfile();
    cg_pcapdir *w = NULL;
    cg_pcapdir_config cfg = { .dir = path("full"),
                              .max_bytes = 8u << 20,
                              .file_bytes = 64u << 10,
                              .log = log,
                              .write_fn = failing_write };
    write_calls = 0;
    fail_after = 3;
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), 0);
    if (!w)
        return;
    int failed_at = -1;
    for (int i = 0; i < 2000; i++)
        if (wr(w, 1700000000000000ULL + (uint64_t)i, 1, 1000) && failed_at < 0)
            failed_at = i;
    CHECK(failed_at > 0);
    cg_pcapdir_stats st;
    cg_pcapdir_stats_get(w, &st);
    CHECK(st.stopped);
    CHECK_EQ_U(st.write_errors, 1);
    CHECK_STR(st.error, "No space left on device");
    CHECK(st.packets < 2000);
    int calls = write_calls;
    CHECK(wr(w, 1700000000000000ULL, 1, 10) == -1); /* at once, nothing tried */
    CHECK(cg_pcapdir_flush(w) == -1);
    cg_pcapdir_close(w);
    CHECK_EQ_U(write_calls, calls);
    rewind(log);
    int nlines = 0;
    char buf[512];
    while (fgets(buf, sizeof buf, log)) {
        if (!nlines)
            snprintf(line, sizeof line, "%s", buf);
        nlines++;
    }
    fclose(log);
    CHECK_EQ_U(nlines, 1);
    char want[512];
    snprintf(want, sizeof want,
             "canhgac: pcap ring %s: No space left on device: ring stopped, detection goes on\n",
             path("full"));
    CHECK_STR(line, want);
    /* what was written before is readable */
    cg_pcapdir_reader *r = NULL;
    CHECK_EQ_U(cg_pcapdir_reader_open(&r, path("full"), err, sizeof err), 0);
    if (r) {
        cg_pcapdir_flow_info fi;
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(1), 0, 0, NULL, NULL, &fi, err, sizeof err), 0);
        CHECK(fi.packets > 0 && fi.packets <= st.packets);
        cg_pcapdir_reader_close(r);
    }
}

/* 4. the thread, fed by two producers */
typedef struct prod_arg {
    cg_pcapdir *w;
    uint32_t idx;
    int fails;
} prod_arg;

static void *producer(void *arg)
{
    prod_arg *a = arg;
    uint8_t f[2000];
    for (int i = 0; i < 20000; i++) {
        int n = (int)a->idx * 100 + i % 10;
        uint32_t len = frame(f, CLI(n), SRV, (uint16_t)(1000 + n), 80, (uint32_t)(i % 1400), 1);
        if (cg_pcapdir_push(a->w, a->idx, 1700000000000000ULL + (uint64_t)i * 10, 1, f, len, len,
                            1))
            a->fails++;
    }
    return NULL;
}

static void test_thread(void)
{
    char err[512];
    cg_pcapdir *w = NULL;
    cg_pcapdir_config cfg = { .dir = path("thr"), .max_bytes = 64u << 20, .producers = 2 };
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), 0);
    if (!w)
        return;
    prod_arg a[2] = { { w, 0, 0 }, { w, 1, 0 } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, producer, &a[i]);
    cg_pcapdir_stats st;
    cg_pcapdir_stats_get(w, &st); /* while it runs */
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    cg_pcapdir_finish(w);
    cg_pcapdir_stats_get(w, &st);
    CHECK_EQ_U(a[0].fails + a[1].fails, 0);
    CHECK_EQ_U(st.packets, 40000);
    CHECK_EQ_U(st.dropped, 0);
    CHECK_EQ_U(st.file_bytes, 8u << 20);
    CHECK(st.files_rotated >= 2);
    CHECK_EQ_U(libpcap_count(path("thr")), 40000);
    cg_pcapdir_close(w);
    cg_pcapdir_reader *r = NULL;
    CHECK_EQ_U(cg_pcapdir_reader_open(&r, path("thr"), err, sizeof err), 0);
    if (r) {
        cg_pcapdir_flow_info fi;
        seen s = { .want = fid(103) };
        CHECK_EQ_U(cg_pcapdir_reader_flow(r, fid(103), 0, 0, see, &s, &fi, err, sizeof err), 0);
        CHECK_EQ_U(fi.packets, 2000);
        CHECK_EQ_U(s.bad_order + s.bad_flow, 0);
        cg_pcapdir_reader_close(r);
    }
}

/* 5. no allocation per packet */
static void test_no_alloc(void)
{
    char err[512];
    cg_pcapdir *w = NULL;
    cg_pcapdir_config cfg = { .dir = path("alloc"),
                              .max_bytes = 2u << 20,
                              .file_bytes = 64u << 10 };
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), 0);
    if (!w)
        return;
    uint64_t ts = 1700000000000000ULL;
    /* the files list grows as files open, up to what the budget holds (pcap
     * files, and as many kept indexes): a first round reaches it */
    for (int i = 0; i < 30000; i++)
        wr(w, ts++, i % 300, 300);
    size_t before = heap_in_use();
    for (int i = 0; i < 5000; i++)
        wr(w, ts++, i % 300, 300);
    size_t after = heap_in_use();
    cg_pcapdir_stats st;
    cg_pcapdir_stats_get(w, &st);
    CHECK(st.files_rotated >= 10 && st.files_deleted > 0); /* rotations and deletions ran */
    CHECK_EQ_U(after, before);
    cg_pcapdir_close(w);
}

/* 6. bad arguments */
static void test_bad(void)
{
    char err[512];
    cg_pcapdir *w = NULL;
    cg_pcapdir_config cfg = { .dir = path("no/such/dir"), .max_bytes = 8u << 20 };
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), CG_EIO);
    CHECK(w == NULL);
    char want[512];
    snprintf(want, sizeof want, "pcap ring %s: No such file or directory", path("no/such/dir"));
    CHECK_STR(err, want);
    cfg.dir = path("small");
    cfg.max_bytes = 1000;
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), CG_EINVAL);
    FILE *f = fopen(path("afile"), "w");
    if (f)
        fclose(f);
    cfg.dir = path("afile");
    cfg.max_bytes = 8u << 20;
    CHECK_EQ_U(cg_pcapdir_open(&w, &cfg, err, sizeof err), CG_EIO);
    CHECK_CONTAINS(err, "Not a directory");
    cg_pcapdir_reader *r = NULL;
    CHECK(cg_pcapdir_reader_open(&r, path("nothere"), err, sizeof err) < 0);
    CHECK(r == NULL);
    cg_pcapdir_close(NULL);
    cg_pcapdir_reader_close(NULL);
}

static int rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/canhgac-pcapdir.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_ring();
    test_sessions();
    test_write_error();
    test_thread();
    test_no_alloc();
    test_bad();
    nftw(root, rm, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("pcapdir");
}
