/* test_pcapng.c — unit tests of the pcapng writer (store/pcapng.h) and of
 * the evidence export over a store (store/pcapng_export.h).
 *
 * What the writer wrote is read back two ways: with libpcap's
 * pcap_open_offline (what tcpdump reads with: link type, timestamps, lengths,
 * bytes), and with a small block walker here that checks the layout the
 * format asks for (both total lengths, 32-bit padding, the options) and sees
 * what libpcap does not show: interfaces, each packet's interface, comments.
 * libpcap up to 1.10 stops at the IDB of a second link type, so files mixing
 * link types are checked with the walker, and with libpcap up to there.
 * Every test works under one mkdtemp() root, removed at the end.
 */
#include "store/pcapng.h"
#include "store/pcapng_export.h"
#include "store/store.h"
#include "tests/check.h"

#include <errno.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static int tmp_exists(const char *p)
{
    char t[300];
    snprintf(t, sizeof t, "%s.tmp", p);
    return exists(t);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

/* ---- a pcapng walker, independent of the writer ------------------------------ */

#define W_MAX 32

typedef struct wpkt {
    uint32_t ifid;
    int linktype; /* of its interface */
    uint64_t ts;
    uint32_t caplen, wirelen;
    uint8_t data[2048]; /* the first bytes */
    char comment[70000];
} wpkt;

typedef struct walked {
    int ok; /* the whole file is well formed */
    char why[128];
    char userappl[64];
    int nif;
    int linktype[8];
    uint32_t snaplen[8];
    int tsresol[8]; /* -1 when absent */
    int npkt;
    wpkt pkt[W_MAX];
} walked;

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Options at b[0..len): calls on each (code, value, length); 0 when they are
 * well formed (padded, inside the block, ended by opt_endofopt or the end). */
static int walk_opts(const uint8_t *b, size_t len,
                     void (*on)(uint16_t code, const uint8_t *v, uint16_t l, void *arg), void *arg)
{
    size_t o = 0;
    while (o + 4 <= len) {
        uint16_t code = rd16(b + o), l = rd16(b + o + 2);
        if (code == 0)
            return l == 0 && o + 4 == len ? 0 : -1;
        size_t padded = ((size_t)l + 3) & ~(size_t)3;
        if (o + 4 + padded > len)
            return -1;
        for (size_t i = l; i < padded; i++)
            if (b[o + 4 + i])
                return -1; /* padding is zeros */
        on(code, b + o + 4, l, arg);
        o += 4 + padded;
    }
    return o == len ? 0 : -1;
}

typedef struct optctx {
    walked *w;
    int idx;
} optctx;

static void shb_opt(uint16_t code, const uint8_t *v, uint16_t l, void *arg)
{
    walked *w = ((optctx *)arg)->w;
    if (code == 4)
        snprintf(w->userappl, sizeof w->userappl, "%.*s", (int)l, (const char *)v);
}

static void idb_opt(uint16_t code, const uint8_t *v, uint16_t l, void *arg)
{
    optctx *c = arg;
    if (code == 9 && l == 1)
        c->w->tsresol[c->idx] = v[0];
}

static void epb_opt(uint16_t code, const uint8_t *v, uint16_t l, void *arg)
{
    optctx *c = arg;
    if (code == 1)
        snprintf(c->w->pkt[c->idx].comment, sizeof c->w->pkt[c->idx].comment, "%.*s", (int)l,
                 (const char *)v);
}

static void walk(const char *file, walked *w)
{
    static uint8_t buf[1 << 21];
    FILE *f = fopen(file, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0, o = 0;
    memset(w, 0, sizeof *w);
    if (f)
        fclose(f);
#define BAD(...)                                      \
    do {                                              \
        snprintf(w->why, sizeof w->why, __VA_ARGS__); \
        return;                                       \
    } while (0)
    if (n < 28 || rd32(buf) != 0x0A0D0D0A || rd32(buf + 8) != 0x1A2B3C4D)
        BAD("no little-endian section header");
    if (rd16(buf + 12) != 1 || rd16(buf + 14) != 0)
        BAD("version %u.%u", rd16(buf + 12), rd16(buf + 14));
    while (o < n) {
        if (o + 12 > n)
            BAD("a block cut at %zu", o);
        uint32_t type = rd32(buf + o), total = rd32(buf + o + 4);
        if (total < 12 || total % 4 || o + total > n)
            BAD("block at %zu: total length %u", o, total);
        if (rd32(buf + o + total - 4) != total)
            BAD("block at %zu: the trailing length differs", o);
        const uint8_t *b = buf + o + 8;
        size_t bl = total - 12;
        optctx c = { w, 0 };
        if (type == 0x0A0D0D0A) {
            if (o != 0 || bl < 16 || walk_opts(b + 16, bl - 16, shb_opt, &c))
                BAD("SHB at %zu", o);
        } else if (type == 1) {
            if (bl < 8 || w->nif == 8)
                BAD("IDB at %zu", o);
            c.idx = w->nif;
            w->linktype[w->nif] = rd16(b);
            w->snaplen[w->nif] = rd32(b + 4);
            w->tsresol[w->nif] = -1;
            if (rd16(b + 2) != 0 || walk_opts(b + 8, bl - 8, idb_opt, &c))
                BAD("IDB at %zu: options", o);
            w->nif++;
        } else if (type == 6) {
            if (bl < 20 || w->npkt == W_MAX)
                BAD("EPB at %zu", o);
            wpkt *p = &w->pkt[w->npkt];
            p->ifid = rd32(b);
            if ((int)p->ifid >= w->nif)
                BAD("EPB at %zu: interface %u not described before", o, p->ifid);
            p->linktype = w->linktype[p->ifid];
            p->ts = (uint64_t)rd32(b + 4) << 32 | rd32(b + 8);
            p->caplen = rd32(b + 12);
            p->wirelen = rd32(b + 16);
            size_t dl = ((size_t)p->caplen + 3) & ~(size_t)3;
            if (20 + dl > bl)
                BAD("EPB at %zu: data past the block", o);
            for (size_t i = p->caplen; i < dl; i++)
                if (b[20 + i])
                    BAD("EPB at %zu: padding not zero", o);
            memcpy(p->data, b + 20, p->caplen < sizeof p->data ? p->caplen : sizeof p->data);
            c.idx = w->npkt;
            if (walk_opts(b + 20 + dl, bl - 20 - dl, epb_opt, &c))
                BAD("EPB at %zu: options", o);
            w->npkt++;
        } else {
            BAD("unexpected block type %u at %zu", type, o);
        }
        o += total;
    }
#undef BAD
    w->ok = 1;
}

/* ---- libpcap's reading ---------------------------------------------------------- */

typedef struct rpkt {
    uint64_t ts_us;
    uint32_t caplen, len;
    uint8_t data[2048];
} rpkt;

/* Reads file with libpcap: its DLT into *dlt, up to max packets; the count,
 * or -1 when pcap_open_offline refuses the file. *err: pcap_next_ex ended on
 * an error (-1) rather than the end (-2). */
static int pcap_read(const char *file, int *dlt, rpkt *out, int max, int *err)
{
    char eb[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0, rc;
    pcap_t *pc = pcap_open_offline(file, eb);
    if (!pc) {
        fprintf(stderr, "pcap_open_offline %s: %s\n", file, eb);
        return -1;
    }
    *dlt = pcap_datalink(pc);
    while ((rc = pcap_next_ex(pc, &h, &d)) == 1 && n < max) {
        out[n].ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        out[n].caplen = h->caplen;
        out[n].len = h->len;
        memcpy(out[n].data, d, h->caplen < sizeof out[n].data ? h->caplen : sizeof out[n].data);
        n++;
    }
    *err = rc == -1;
    pcap_close(pc);
    return n;
}

/* ---- the writer ------------------------------------------------------------------ */

static uint8_t frame[3][1600];

static void make_frames(void)
{
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof frame[k]; i++)
            frame[k][i] = (uint8_t)(i * (7 + k) + k);
}

static void test_ethernet(void)
{
    static walked w;
    static rpkt r[8];
    cg_pcapng *pw = NULL;
    const char *f = path("eth.pcapng");
    int dlt = -1, err = 1;
    /* lengths that need 0..3 bytes of padding; one packet cut short */
    cg_pcapng_packet p[4] = {
        { 1763971200000001ull, DLT_EN10MB, 60, 60, frame[0], "first (evidence #0)" },
        { 1763971200500000ull, DLT_EN10MB, 61, 61, frame[1], NULL },
        { 1763971201999999ull, DLT_EN10MB, 1514, 1514, frame[2], "third: Sở Y tế" },
        { 1763971202000000ull, DLT_EN10MB, 63, 9000, frame[0], "" },
    };

    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    CHECK(tmp_exists(f));
    CHECK(!exists(f)); /* only the .tmp until the commit */
    for (int i = 0; i < 4; i++)
        CHECK_EQ_U(cg_pcapng_write(pw, &p[i]), 0);
    CHECK_EQ_U(cg_pcapng_packets(pw), 4);
    CHECK_EQ_U(cg_pcapng_commit(pw), 0);
    cg_pcapng_close(pw);
    CHECK(exists(f));
    CHECK(!tmp_exists(f));

    walk(f, &w);
    CHECK(w.ok);
    if (!w.ok)
        fprintf(stderr, "walk: %s\n", w.why);
    CHECK_STR(w.userappl, "canhgac");
    CHECK_EQ_U(w.nif, 1);
    CHECK_EQ_U(w.linktype[0], 1);
    CHECK_EQ_U(w.snaplen[0], CG_PCAPNG_SNAPLEN);
    CHECK_EQ_U(w.tsresol[0], 6);
    CHECK_EQ_U(w.npkt, 4);
    CHECK_STR(w.pkt[0].comment, "first (evidence #0)");
    CHECK_STR(w.pkt[1].comment, "");
    CHECK_STR(w.pkt[2].comment, "third: Sở Y tế");
    CHECK_STR(w.pkt[3].comment, ""); /* "" is no comment */
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_U(w.pkt[i].ts, p[i].ts_us);
        CHECK_EQ_U(w.pkt[i].ifid, 0);
    }

    int n = pcap_read(f, &dlt, r, 8, &err);
    CHECK_EQ_U(n, 4);
    CHECK_EQ_U(dlt, DLT_EN10MB);
    CHECK(!err);
    for (int i = 0; i < n && i < 4; i++) {
        CHECK_EQ_U(r[i].ts_us, p[i].ts_us);
        CHECK_EQ_U(r[i].caplen, p[i].caplen);
        CHECK_EQ_U(r[i].len, p[i].wirelen);
        CHECK(memcmp(r[i].data, p[i].data, p[i].caplen) == 0);
    }
}

/* Raw IP: DLT_RAW (12 on Linux) is LINKTYPE_RAW 101 in the file, and DLT_RAW
 * again through libpcap. */
static void test_raw_linktype(void)
{
    static walked w;
    static rpkt r[2];
    cg_pcapng *pw = NULL;
    const char *f = path("raw.pcapng");
    int dlt = -1, err = 1;
    cg_pcapng_packet p = { 1763971200000000ull, DLT_RAW, 40, 40, frame[1], "raw" };

    CHECK_EQ_U(cg_pcapng_linktype(DLT_RAW), 101);
    CHECK_EQ_U(cg_pcapng_linktype(DLT_EN10MB), 1);
    CHECK_EQ_U(cg_pcapng_linktype(DLT_LINUX_SLL), 113);
    CHECK_EQ_U(cg_pcapng_linktype(228), 228); /* LINKTYPE_IPV4 */
    CHECK(cg_pcapng_linktype(-1) < 0);
    CHECK(cg_pcapng_linktype(70000) < 0);
    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    CHECK_EQ_U(cg_pcapng_write(pw, &p), 0);
    CHECK_EQ_U(cg_pcapng_commit(pw), 0);
    cg_pcapng_close(pw);
    walk(f, &w);
    CHECK(w.ok);
    CHECK_EQ_U(w.nif, 1);
    CHECK_EQ_U(w.linktype[0], 101);
    CHECK_EQ_U(pcap_read(f, &dlt, r, 2, &err), 1);
    CHECK_EQ_U(dlt, DLT_RAW);
    CHECK(memcmp(r[0].data, frame[1], 40) == 0);
}

/* Ethernet, Linux SLL and raw IP in one file: one IDB each, written before
 * the first packet of its link type; each EPB names its own. */
static void test_mixed(void)
{
    static walked w;
    static rpkt r[8];
    cg_pcapng *pw = NULL;
    const char *f = path("mixed.pcapng");
    int dlt = -1, err = 0, dlts[8];
    cg_pcapng_packet p[5] = {
        { 1000001, DLT_EN10MB, 60, 60, frame[0], "eth 1" },
        { 1000002, DLT_EN10MB, 64, 64, frame[1], "eth 2" },
        { 1000003, DLT_LINUX_SLL, 76, 76, frame[2], "sll" },
        { 1000004, DLT_RAW, 41, 41, frame[0], "raw" },
        { 1000005, DLT_EN10MB, 62, 62, frame[2], "eth 3" },
    };

    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_U(cg_pcapng_write(pw, &p[i]), 0);
    CHECK_EQ_U(cg_pcapng_interfaces(pw, dlts, 8), 3);
    CHECK_EQ_U(dlts[0], DLT_EN10MB);
    CHECK_EQ_U(dlts[1], DLT_LINUX_SLL);
    CHECK_EQ_U(dlts[2], DLT_RAW);
    CHECK_EQ_U(cg_pcapng_commit(pw), 0);
    cg_pcapng_close(pw);

    walk(f, &w);
    CHECK(w.ok);
    if (!w.ok)
        fprintf(stderr, "walk: %s\n", w.why);
    CHECK_EQ_U(w.nif, 3);
    CHECK_EQ_U(w.linktype[0], 1);
    CHECK_EQ_U(w.linktype[1], 113);
    CHECK_EQ_U(w.linktype[2], 101);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_U(w.snaplen[i], CG_PCAPNG_SNAPLEN);
        CHECK_EQ_U(w.tsresol[i], 6);
    }
    CHECK_EQ_U(w.npkt, 5);
    static const uint32_t want_if[5] = { 0, 0, 1, 2, 0 };
    static const int want_lt[5] = { 1, 1, 113, 101, 1 };
    for (int i = 0; i < 5 && i < w.npkt; i++) {
        CHECK_EQ_U(w.pkt[i].ifid, want_if[i]);
        CHECK_EQ_U(w.pkt[i].linktype, want_lt[i]);
        CHECK_EQ_U(w.pkt[i].ts, p[i].ts_us);
        CHECK_EQ_U(w.pkt[i].caplen, p[i].caplen);
        CHECK(memcmp(w.pkt[i].data, p[i].data, p[i].caplen) == 0);
        CHECK_STR(w.pkt[i].comment, p[i].comment);
    }
    /* libpcap reads the Ethernet packets before the second interface */
    int n = pcap_read(f, &dlt, r, 8, &err);
    CHECK(n >= 2);
    CHECK_EQ_U(dlt, DLT_EN10MB);
    CHECK_EQ_U(r[0].ts_us, 1000001);
    CHECK_EQ_U(r[1].ts_us, 1000002);
    CHECK(memcmp(r[1].data, frame[1], 64) == 0);
}

/* Invalid UTF-8 becomes '?'; a long comment is cut at a character; a packet
 * past the snap length is cut to it; an original length below the captured
 * one is the captured one. */
static void test_limits(void)
{
    static walked w;
    static char longc[CG_PCAPNG_COMMENT_MAX + 100];
    static uint8_t big[CG_PCAPNG_SNAPLEN + 1000];
    static char bad[] = "a\xff"
                        "b\xc3"
                        "(\xe1\x80"
                        "!";
    cg_pcapng *pw = NULL;
    const char *f = path("limits.pcapng");

    /* "ế" is three bytes: with one 'x' first, the cut falls inside one */
    longc[0] = 'x';
    size_t o = 1;
    while (o + 3 < sizeof longc) {
        memcpy(longc + o, "ế", 3);
        o += 3;
    }
    longc[o] = '\0';
    memset(big, 0xab, sizeof big);
    cg_pcapng_packet p[3] = {
        { 1, DLT_EN10MB, 60, 60, frame[0], bad },
        { 2, DLT_EN10MB, 60, 60, frame[0], longc },
        { 3, DLT_EN10MB, sizeof big, 30, big, NULL },
    };
    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_U(cg_pcapng_write(pw, &p[i]), 0);
    CHECK_EQ_U(cg_pcapng_commit(pw), 0);
    cg_pcapng_close(pw);
    walk(f, &w);
    CHECK(w.ok);
    CHECK_STR(w.pkt[0].comment,
              "a?b?(?"
              "?!"); /* split: not a trigraph */
    size_t cl = strlen(w.pkt[1].comment);
    CHECK(cl <= CG_PCAPNG_COMMENT_MAX && cl > CG_PCAPNG_COMMENT_MAX - 3);
    CHECK_EQ_U((cl - 1) % 3, 0); /* whole characters */
    CHECK(strncmp(w.pkt[1].comment, longc, cl) == 0);
    CHECK_EQ_U(w.pkt[2].caplen, CG_PCAPNG_SNAPLEN);
    CHECK_EQ_U(w.pkt[2].wirelen, sizeof big);
}

/* Nothing is left behind: no packet, no commit, a path that cannot be
 * created, a path that cannot be renamed over, a bad link type. */
static void test_no_file_left(void)
{
    cg_pcapng *pw = NULL;
    cg_pcapng_packet p = { 1, DLT_EN10MB, 60, 60, frame[0], NULL };
    const char *f;

    f = path("empty.pcapng");
    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    CHECK_EQ_U(cg_pcapng_commit(pw), CG_EEMPTY);
    CHECK_CONTAINS(cg_pcapng_error(pw), "empty.pcapng: no packet");
    cg_pcapng_close(pw);
    CHECK(!exists(f) && !tmp_exists(f));

    f = path("abandoned.pcapng");
    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    CHECK_EQ_U(cg_pcapng_write(pw, &p), 0);
    cg_pcapng_close(pw); /* no commit */
    CHECK(!exists(f) && !tmp_exists(f));

    f = path("no/such/dir/x.pcapng");
    pw = NULL;
    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), CG_EIO);
    CHECK(pw == NULL);
    CHECK_CONTAINS(cg_pcapng_error(NULL), "no/such/dir/x.pcapng: cannot create");
    CHECK_CONTAINS(cg_pcapng_error(NULL), "No such file or directory");
    CHECK(!exists(f) && !tmp_exists(f));

    /* PATH is a directory: the rename fails, the .tmp goes, the directory stays */
    f = path("adir");
    mkdir(f, 0755);
    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    CHECK_EQ_U(cg_pcapng_write(pw, &p), 0);
    CHECK_EQ_U(cg_pcapng_commit(pw), CG_EIO);
    CHECK_CONTAINS(cg_pcapng_error(pw), "cannot rename");
    cg_pcapng_close(pw);
    CHECK(!tmp_exists(f));
    struct stat sb;
    CHECK(stat(f, &sb) == 0 && S_ISDIR(sb.st_mode));

    /* a link type with no number: the write fails, and so does the commit */
    f = path("badlt.pcapng");
    cg_pcapng_packet q = { 1, -1, 60, 60, frame[0], NULL };
    CHECK_EQ_U(cg_pcapng_open(&pw, f, "canhgac"), 0);
    CHECK_EQ_U(cg_pcapng_write(pw, &p), 0);
    CHECK_EQ_U(cg_pcapng_write(pw, &q), CG_EINVAL);
    CHECK_CONTAINS(cg_pcapng_error(pw), "link type -1");
    CHECK_EQ_U(cg_pcapng_write(pw, &p), CG_EINVAL); /* the first failure stays */
    CHECK_EQ_U(cg_pcapng_commit(pw), CG_EINVAL);
    cg_pcapng_close(pw);
    CHECK(!exists(f) && !tmp_exists(f));
}

/* A disk that fills up in the middle (RLIMIT_FSIZE, in a child): the write
 * or the commit fails with the system's reason, no file is left, and a file
 * already at PATH is as it was. */
static void test_full_disk(void)
{
    const char *f = path("full.pcapng");
    FILE *old = fopen(f, "w");
    fputs("an earlier export\n", old);
    fclose(old);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { 8192, 8192 };
        cg_pcapng *pw = NULL;
        cg_pcapng_packet p = { 1, DLT_EN10MB, 1500, 1500, frame[0], "x" };
        int rc = 0;
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl))
            _exit(10);
        if (cg_pcapng_open(&pw, f, "canhgac"))
            _exit(11);
        for (int i = 0; i < 20 && !rc; i++)
            rc = cg_pcapng_write(pw, &p);
        if (!rc)
            rc = cg_pcapng_commit(pw);
        if (rc != CG_EIO)
            _exit(12);
        if (!strstr(cg_pcapng_error(pw), "full.pcapng.tmp: File too large"))
            _exit(13);
        cg_pcapng_close(pw);
        _exit(0);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_U(WEXITSTATUS(status), 0);
    CHECK(!tmp_exists(f));
    char got[64] = "";
    FILE *in = fopen(f, "r");
    if (in) {
        if (!fgets(got, sizeof got, in))
            got[0] = '\0';
        fclose(in);
    }
    CHECK_STR(got, "an earlier export\n");
}

/* ---- the export over a store ------------------------------------------------------ */

static void a4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned v)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x, a[13] = (uint8_t)y, a[14] = (uint8_t)z, a[15] = (uint8_t)v;
}

static cg_incident mk(uint64_t id, uint32_t sid, const char *msg, uint32_t nev)
{
    cg_incident inc;
    memset(&inc, 0, sizeof inc);
    inc.id = id;
    inc.gid = 1;
    inc.sid = sid;
    inc.rev = 2;
    a4(inc.src, 10, 0, 0, (unsigned)id);
    a4(inc.dst, 10, 20, 1, 10);
    inc.sport = 40000;
    inc.dport = 80;
    inc.proto = 6;
    inc.severity = inc.rule_severity = 1;
    inc.first_us = 1763971200000000ull;
    inc.last_us = inc.first_us + 10;
    inc.count = 1;
    inc.nevidence = nev;
    inc.msg = msg;
    return inc;
}

static void test_export(void)
{
    static walked w;
    static rpkt r[16];
    cg_store *st = NULL;
    cg_pcapng_export *x = NULL;
    cg_pcapng_export_stats s;
    uint32_t added = 99;
    int dlt, err;

    CHECK_EQ_U(cg_store_open(&st, path("store"), 0, 64u << 20), 0);
    if (!st)
        return;
    /* incident 1: packets at t=30, 10, 20 (seq 0..2); incident 2: t=10 (a
     * tie with incident 1's seq 1, after it by id), raw IP; incident 3: no
     * evidence */
    cg_incident a = mk(cg_store_new_id(st), 9100101, "CANHGAC WEB SQL injection UNION SELECT", 3);
    cg_incident b = mk(cg_store_new_id(st), 9100200, "CANHGAC second", 1);
    cg_incident c = mk(cg_store_new_id(st), 9100300, "CANHGAC none", 0);
    cg_evidence ev[4] = {
        { 30, DLT_EN10MB, 60, 60, frame[0] },
        { 10, DLT_EN10MB, 61, 61, frame[1] },
        { 20, DLT_EN10MB, 62, 62, frame[2] },
        { 10, DLT_RAW, 40, 40, frame[2] },
    };
    CHECK_EQ_U(cg_store_begin(st), 0);
    CHECK_EQ_U(cg_store_put(st, &a), 0);
    CHECK_EQ_U(cg_store_put(st, &b), 0);
    CHECK_EQ_U(cg_store_put(st, &c), 0);
    for (uint32_t i = 0; i < 3; i++)
        CHECK_EQ_U(cg_store_put_evidence(st, a.id, i, &ev[i]), 0);
    CHECK_EQ_U(cg_store_put_evidence(st, b.id, 0, &ev[3]), 0);
    CHECK_EQ_U(cg_store_commit(st), 0);

    /* Ethernet only, incident 1 */
    CHECK_EQ_U(cg_pcapng_export_create(&x), 0);
    CHECK_EQ_U(cg_pcapng_export_add(x, st, a.id, &added), 0);
    CHECK_EQ_U(added, 3);
    const char *f1 = path("inc1.pcapng");
    CHECK_EQ_U(cg_pcapng_export_write(x, f1, &s), 0);
    CHECK_EQ_U(s.packets, 3);
    CHECK_EQ_U(s.incidents, 1);
    CHECK_EQ_U(s.nlinktypes, 1);
    cg_pcapng_export_destroy(x);
    CHECK_EQ_U(pcap_read(f1, &dlt, r, 16, &err), 3);
    CHECK_EQ_U(dlt, DLT_EN10MB);
    CHECK_EQ_U(r[0].ts_us, 10);
    CHECK_EQ_U(r[1].ts_us, 20);
    CHECK_EQ_U(r[2].ts_us, 30);
    CHECK(memcmp(r[0].data, frame[1], 61) == 0);
    walk(f1, &w);
    CHECK(w.ok);
    CHECK_STR(w.userappl, "canhgac");
    CHECK_STR(w.pkt[0].comment,
              "canhgac incident 1 sid 1:9100101 rev 2: CANHGAC WEB SQL injection UNION SELECT "
              "(evidence #1)");
    CHECK_STR(w.pkt[2].comment,
              "canhgac incident 1 sid 1:9100101 rev 2: CANHGAC WEB SQL injection UNION SELECT "
              "(evidence #0)");

    /* all three, added newest first: time order, ties by id; link types kept */
    CHECK_EQ_U(cg_pcapng_export_create(&x), 0);
    CHECK_EQ_U(cg_pcapng_export_add(x, st, c.id, &added), 0);
    CHECK_EQ_U(added, 0);
    CHECK_EQ_U(cg_pcapng_export_add(x, st, b.id, &added), 0);
    CHECK_EQ_U(added, 1);
    CHECK_EQ_U(cg_pcapng_export_add(x, st, a.id, NULL), 0);
    CHECK_EQ_U(cg_pcapng_export_add(x, st, 999, &added), CG_ENOTFOUND);
    CHECK_CONTAINS(cg_pcapng_export_error(x), "incident 999: not found");
    const char *f2 = path("all.pcapng");
    CHECK_EQ_U(cg_pcapng_export_write(x, f2, &s), 0);
    CHECK_EQ_U(s.packets, 4);
    CHECK_EQ_U(s.incidents, 2);
    CHECK_EQ_U(s.nlinktypes, 2);
    CHECK_EQ_U(s.linktypes[0], DLT_EN10MB);
    CHECK_EQ_U(s.linktypes[1], DLT_RAW);
    cg_pcapng_export_destroy(x);
    walk(f2, &w);
    CHECK(w.ok);
    CHECK_EQ_U(w.npkt, 4);
    CHECK_EQ_U(w.nif, 2);
    static const uint64_t want_ts[4] = { 10, 10, 20, 30 };
    static const int want_lt[4] = { 1, 101, 1, 1 };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_U(w.pkt[i].ts, want_ts[i]);
        CHECK_EQ_U(w.pkt[i].linktype, want_lt[i]);
    }
    CHECK_CONTAINS(w.pkt[0].comment, "incident 1 sid 1:9100101 rev 2:");
    CHECK_STR(w.pkt[1].comment,
              "canhgac incident 2 sid 1:9100200 rev 2: CANHGAC second (evidence #0)");

    /* nothing to write: no file */
    CHECK_EQ_U(cg_pcapng_export_create(&x), 0);
    CHECK_EQ_U(cg_pcapng_export_add(x, st, c.id, &added), 0);
    const char *f3 = path("none.pcapng");
    CHECK_EQ_U(cg_pcapng_export_write(x, f3, &s), CG_EEMPTY);
    CHECK(!exists(f3) && !tmp_exists(f3));
    /* an unwritable path: the writer's message, no file */
    CHECK_EQ_U(cg_pcapng_export_add(x, st, b.id, &added), 0);
    const char *f4 = path("nodir/x.pcapng");
    CHECK_EQ_U(cg_pcapng_export_write(x, f4, &s), CG_EIO);
    CHECK_CONTAINS(cg_pcapng_export_error(x), "nodir/x.pcapng: cannot create");
    CHECK(!exists(f4) && !tmp_exists(f4));
    cg_pcapng_export_destroy(x);
    cg_store_close(st);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/canhgac-pcapng.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    make_frames();
    test_ethernet();
    test_raw_linktype();
    test_mixed();
    test_limits();
    test_no_file_left();
    test_full_disk();
    test_export();
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("test_pcapng");
}
