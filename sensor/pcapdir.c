/* pcapdir.c — the full-packet ring: the writer (rotation, budget, the index
 * of each file, the thread that drains the producers' rings) and the reader
 * (a flow's packets back out). pcapdir.h has the format and the contract.
 *
 * Invariants (the writer):
 *  1. files[0..nfiles) is DIR's ring files by ascending sequence number; the
 *     open file, when there is one, is the last, with has_pcap set and its
 *     bytes counted in closed_bytes only once it is closed.
 *  2. closed_bytes + the open file's bytes + its index's, when written, never
 *     exceed max_bytes: a file opens only after room for file_max + idx_max
 *     was made (pd_make_room), and it closes before it would pass file_max.
 *  3. ent[0..nent) holds one entry per flow_id of the open file, slots[] its
 *     open-addressed hash (index + 1, 0 empty); nent <= flow_max.
 *  4. Only the ring's thread (or, producers = 0, the caller) touches the
 *     files, the buffer and the table; other threads read the atomics of
 *     cg_pcapdir_stats only.
 *
 *   (no file) --packet--> open --size / link type / table full--> closed +
 *   index --next packet--> open ...; any failure --> stopped (final)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sensor/decode.h"
#include "sensor/error.h"
#include "sensor/flow.h"
#include "sensor/pcapdir.h"
#include "sensor/ring.h"

#define IDX_HEAD 64
#define IDX_ENTRY 40
#define IDX_MAGIC "CGPIDX1\n"
#define REC_HEAD 16
#define PCAP_HEAD 24
#define OUT_BUF (1u << 20)
#define MIN_FILE 4096u
#define MSG_FRAME 1

/* ---- little-endian fields ------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The classic pcap file header (24 bytes), in this host's byte order. */
static void pcap_header(uint8_t *b, int dlt)
{
    uint32_t magic = 0xa1b2c3d4u, zero = 0, snap = CG_PCAPDIR_SNAPLEN, lt = (uint32_t)dlt;
    uint16_t major = 2, minor = 4;
    memcpy(b, &magic, 4);
    memcpy(b + 4, &major, 2);
    memcpy(b + 6, &minor, 2);
    memcpy(b + 8, &zero, 4);
    memcpy(b + 12, &zero, 4);
    memcpy(b + 16, &snap, 4);
    memcpy(b + 20, &lt, 4);
}

typedef struct pd_entry {
    uint64_t flow_id, first_us, last_us;
    uint32_t first_off, last_off, packets, bytes;
} pd_entry;

static void entry_put(uint8_t *p, const pd_entry *e)
{
    put64(p, e->flow_id);
    put64(p + 8, e->first_us);
    put64(p + 16, e->last_us);
    put32(p + 24, e->first_off);
    put32(p + 28, e->last_off);
    put32(p + 32, e->packets);
    put32(p + 36, e->bytes);
}

static void entry_get(pd_entry *e, const uint8_t *p)
{
    e->flow_id = get64(p);
    e->first_us = get64(p + 8);
    e->last_us = get64(p + 16);
    e->first_off = get32(p + 24);
    e->last_off = get32(p + 28);
    e->packets = get32(p + 32);
    e->bytes = get32(p + 36);
}

/* The flow id of a frame as the flow table gives it (0: no IP). */
static uint64_t frame_flow(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                           uint64_t ts, cg_decode_stats *ds)
{
    cg_packet p;
    cg_decode(&p, dlt, data, caplen, wirelen, ts, ds);
    if (p.ipver != 4 && p.ipver != 6)
        return 0;
    return cg_flow_id(&p);
}

/* In-place heap sort by flow_id (no allocation: it runs in the writer). */
static void sift(pd_entry *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1].flow_id > a[c].flow_id)
            c++;
        if (a[c].flow_id <= a[i].flow_id)
            return;
        pd_entry t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static void sort_entries(pd_entry *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (size_t k = n; k-- > 1;) {
        pd_entry t = a[0];
        a[0] = a[k];
        a[k] = t;
        sift(a, 0, k);
    }
}

/* "ring-NNNNNNNNNN.pcap" / ".idx": its sequence number, or 0 */
static uint64_t parse_name(const char *name, int *is_idx)
{
    if (strncmp(name, "ring-", 5))
        return 0;
    const char *p = name + 5;
    uint64_t seq = 0;
    int n = 0;
    for (; *p >= '0' && *p <= '9' && n < 19; p++, n++)
        seq = seq * 10 + (uint64_t)(*p - '0');
    if (n != 10)
        return 0;
    if (!strcmp(p, ".pcap"))
        *is_idx = 0;
    else if (!strcmp(p, ".idx"))
        *is_idx = 1;
    else
        return 0;
    return seq;
}

/* DIR's ring files, by sequence number */
typedef struct pd_file {
    uint64_t seq;
    uint64_t pcap_bytes, idx_bytes;
    uint8_t has_pcap, has_idx;
} pd_file;

static int file_cmp(const void *a, const void *b)
{
    const pd_file *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static pd_file *find_file(pd_file *f, size_t n, uint64_t seq)
{
    for (size_t i = n; i-- > 0;)
        if (f[i].seq == seq)
            return &f[i];
    return NULL;
}

/* Lists DIR's ring files (removing *.tmp leftovers when clean is set). 0, or
 * a negative code with errno set. */
static int list_dir(const char *dir, pd_file **out, size_t *nout, int clean)
{
    DIR *d = opendir(dir);
    if (!d)
        return CG_EIO;
    pd_file *f = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    char path[4200];
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (clean && l > 4 && !strncmp(de->d_name, "ring-", 5) &&
            !strcmp(de->d_name + l - 4, ".tmp")) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
            continue;
        }
        int is_idx;
        uint64_t seq = parse_name(de->d_name, &is_idx);
        if (!seq)
            continue;
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &sb) || !S_ISREG(sb.st_mode))
            continue;
        pd_file *e = find_file(f, n, seq);
        if (!e) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                pd_file *g = realloc(f, nc * sizeof *g);
                if (!g) {
                    free(f);
                    closedir(d);
                    errno = ENOMEM;
                    return CG_ENOMEM;
                }
                f = g;
                cap = nc;
            }
            e = &f[n++];
            memset(e, 0, sizeof *e);
            e->seq = seq;
        }
        if (is_idx) {
            e->has_idx = 1;
            e->idx_bytes = (uint64_t)sb.st_size;
        } else {
            e->has_pcap = 1;
            e->pcap_bytes = (uint64_t)sb.st_size;
        }
    }
    closedir(d);
    if (n)
        qsort(f, n, sizeof *f, file_cmp);
    *out = f;
    *nout = n;
    return 0;
}

/* ---- the writer ----------------------------------------------------------- */

typedef struct pd_msg {
    cg_ring_msg h;
    uint64_t ts_us;
    uint32_t caplen, wirelen;
    int32_t dlt;
    uint32_t pad;
    /* the frame follows */
} pd_msg;

typedef struct pd_producer {
    cg_ring ring;
    _Alignas(64) _Atomic uint64_t dropped;
} pd_producer;

struct cg_pcapdir {
    char *dir;
    uint64_t max_bytes, file_max, idx_max;
    uint32_t flow_max, smask;
    FILE *log;
    ssize_t (*write_fn)(int fd, const void *buf, size_t len);
    /* DIR (invariant 1, 2) */
    pd_file *files;
    size_t nfiles, capfiles;
    uint64_t closed_bytes;
    uint64_t next_seq;
    /* the open file */
    int fd;
    int dlt;
    uint64_t off; /* bytes of the file, buffered ones included */
    uint64_t first_us, last_us, npackets;
    uint8_t *buf;
    size_t blen;
    /* its flows (invariant 3) */
    pd_entry *ent;
    uint32_t nent;
    uint32_t *slots;
    cg_decode_stats ds;
    int dead; /* the writer's own view of stopped */
    /* the thread */
    pd_producer *prod;
    uint32_t nprod;
    pthread_t th;
    int started, finished;
    _Atomic int done;
    /* counters (written by the writer's thread, read by any) */
    _Atomic uint64_t st_packets, st_bytes, st_rotated, st_deleted, st_errors;
    _Atomic int stopped;
    char error[160]; /* set before stopped is stored (release) */
};

static void path_of(const cg_pcapdir *w, char *p, size_t cap, uint64_t seq, const char *ext)
{
    snprintf(p, cap, "%s/ring-%010llu.%s", w->dir, (unsigned long long)seq, ext);
}

static void add_relaxed(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* The ring stops for good (the first failure is the one said). */
static void pd_stop(cg_pcapdir *w, int e, int write_error)
{
    if (w->dead)
        return;
    w->dead = 1;
    snprintf(w->error, sizeof w->error, "%s", strerror(e));
    if (write_error)
        add_relaxed(&w->st_errors, 1);
    atomic_store_explicit(&w->stopped, 1, memory_order_release);
    if (w->log) {
        fprintf(w->log, "canhgac: pcap ring %s: %s: ring stopped, detection goes on\n", w->dir,
                w->error);
        fflush(w->log);
    }
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    w->blen = 0;
}

/* Writes len bytes whole: 0, or -1 with errno. */
static int write_all(cg_pcapdir *w, int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = w->write_fn(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        add_relaxed(&w->st_bytes, (uint64_t)n);
    }
    return 0;
}

static int pd_flush_buf(cg_pcapdir *w)
{
    if (w->dead)
        return -1;
    if (!w->blen || w->fd < 0)
        return 0;
    if (write_all(w, w->fd, w->buf, w->blen)) {
        pd_stop(w, errno, 1);
        return -1;
    }
    w->blen = 0;
    return 0;
}

static int files_push(cg_pcapdir *w, uint64_t seq)
{
    if (w->nfiles == w->capfiles) {
        size_t nc = w->capfiles ? w->capfiles * 2 : 64;
        pd_file *g = realloc(w->files, nc * sizeof *g); /* at a file's opening only */
        if (!g)
            return -1;
        w->files = g;
        w->capfiles = nc;
    }
    pd_file *f = &w->files[w->nfiles++];
    memset(f, 0, sizeof *f);
    f->seq = seq;
    f->has_pcap = 1;
    return 0;
}

/* Deletes what must go for need more bytes (invariant 2): the oldest pcap
 * files (their indexes stay), then indexes whose pcap is gone beyond as many
 * as the pcap files held, the oldest first. 0, or -1 (stopped). */
static int pd_make_room(cg_pcapdir *w, uint64_t need)
{
    char p[4200];
    size_t i = 0;
    while (w->closed_bytes + need > w->max_bytes) {
        while (i < w->nfiles && !w->files[i].has_pcap)
            i++;
        if (i == w->nfiles)
            break; /* only indexes are left: they go below */
        pd_file *f = &w->files[i];
        path_of(w, p, sizeof p, f->seq, "pcap");
        if (unlink(p) && errno != ENOENT) {
            pd_stop(w, errno, 0);
            return -1;
        }
        f->has_pcap = 0;
        w->closed_bytes -= f->pcap_bytes;
        f->pcap_bytes = 0;
        add_relaxed(&w->st_deleted, 1);
    }
    size_t held = 0, orphans = 0;
    for (size_t k = 0; k < w->nfiles; k++) {
        held += w->files[k].has_pcap;
        orphans += !w->files[k].has_pcap && w->files[k].has_idx;
    }
    size_t k = 0, keep = 0;
    for (; k < w->nfiles; k++) {
        pd_file *f = &w->files[k];
        int over = w->closed_bytes + need > w->max_bytes;
        if (!f->has_pcap && f->has_idx && (orphans > held || over)) {
            path_of(w, p, sizeof p, f->seq, "idx");
            if (unlink(p) && errno != ENOENT) {
                pd_stop(w, errno, 0);
                return -1;
            }
            w->closed_bytes -= f->idx_bytes;
            f->has_idx = 0;
            f->idx_bytes = 0;
            orphans--;
        }
        if (f->has_pcap || f->has_idx)
            w->files[keep++] = *f;
    }
    w->nfiles = keep;
    return 0;
}

static int pd_open_file(cg_pcapdir *w, int dlt)
{
    if (pd_make_room(w, w->file_max + w->idx_max))
        return -1;
    char p[4200];
    uint64_t seq = w->next_seq;
    path_of(w, p, sizeof p, seq, "pcap");
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        pd_stop(w, errno, 1);
        return -1;
    }
    if (files_push(w, seq)) {
        close(fd);
        unlink(p);
        pd_stop(w, ENOMEM, 0);
        return -1;
    }
    w->next_seq++;
    w->fd = fd;
    w->dlt = dlt;
    w->first_us = UINT64_MAX;
    w->last_us = 0;
    w->npackets = 0;
    w->nent = 0;
    memset(w->slots, 0, (size_t)(w->smask + 1) * sizeof *w->slots);
    /* the classic pcap header, in this host's byte order */
    pcap_header(w->buf, dlt);
    w->blen = PCAP_HEAD;
    w->off = PCAP_HEAD;
    return 0;
}

/* Closes the open file: its buffer, then its index (to .tmp, renamed). */
static void pd_close_file(cg_pcapdir *w)
{
    if (w->fd < 0)
        return;
    if (pd_flush_buf(w))
        return;
    close(w->fd);
    w->fd = -1;
    pd_file *f = &w->files[w->nfiles - 1];
    f->pcap_bytes = w->off;
    w->closed_bytes += w->off;
    sort_entries(w->ent, w->nent);
    char p[4200], tmp[4300];
    path_of(w, p, sizeof p, f->seq, "idx");
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        pd_stop(w, errno, 1);
        return;
    }
    uint8_t *b = w->buf;
    memcpy(b, IDX_MAGIC, 8);
    put32(b + 8, 1);
    put32(b + 12, (uint32_t)w->dlt);
    put64(b + 16, f->seq);
    put64(b + 24, w->npackets ? w->first_us : 0);
    put64(b + 32, w->last_us);
    put64(b + 40, w->npackets);
    put64(b + 48, w->off);
    put32(b + 56, w->nent);
    put32(b + 60, IDX_ENTRY);
    size_t len = IDX_HEAD;
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t total = 0;
    int bad = 0;
    for (uint32_t i = 0; i <= w->nent && !bad; i++) {
        if (len + IDX_ENTRY + 4 > OUT_BUF || i == w->nent) {
            crc = crc32(crc, b, (uInt)len);
            if (i == w->nent) {
                put32(b + len, (uint32_t)crc);
                len += 4;
            }
            bad = write_all(w, fd, b, len);
            total += len;
            len = 0;
            if (i == w->nent)
                break;
        }
        entry_put(b + len, &w->ent[i]);
        len += IDX_ENTRY;
    }
    if (bad) {
        int e = errno;
        close(fd);
        unlink(tmp);
        pd_stop(w, e, 1);
        return;
    }
    if (close(fd) || rename(tmp, p)) {
        int e = errno;
        unlink(tmp);
        pd_stop(w, e, 1);
        return;
    }
    f->has_idx = 1;
    f->idx_bytes = total;
    w->closed_bytes += total;
    add_relaxed(&w->st_rotated, 1);
}

/* The open file's entry of flow_id: found, or made (NULL: the table is full). */
static pd_entry *pd_entry_of(cg_pcapdir *w, uint64_t flow_id)
{
    uint32_t i = (uint32_t)(flow_id ^ flow_id >> 29) & w->smask;
    for (;; i = (i + 1) & w->smask) {
        uint32_t s = w->slots[i];
        if (!s)
            break;
        if (w->ent[s - 1].flow_id == flow_id)
            return &w->ent[s - 1];
    }
    if (w->nent == w->flow_max)
        return NULL;
    pd_entry *e = &w->ent[w->nent++];
    w->slots[i] = w->nent;
    memset(e, 0, sizeof *e);
    e->flow_id = flow_id;
    return e;
}

int cg_pcapdir_write(cg_pcapdir *w, uint64_t ts_us, int dlt, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen)
{
    if (w->dead)
        return -1;
    if (caplen > CG_PCAPDIR_SNAPLEN)
        caplen = CG_PCAPDIR_SNAPLEN;
    uint64_t rec = REC_HEAD + (uint64_t)caplen;
    uint64_t fid = frame_flow(dlt, data, caplen, wirelen, ts_us, &w->ds);
    pd_entry *e = NULL;
    if (w->fd >= 0 && (dlt != w->dlt || (w->off + rec > w->file_max && w->npackets)))
        pd_close_file(w);
    else if (w->fd >= 0 && fid && !(e = pd_entry_of(w, fid)))
        pd_close_file(w); /* the table is full: the index stays whole */
    if (w->dead)
        return -1;
    if (w->fd < 0) {
        if (pd_open_file(w, dlt))
            return -1;
        e = NULL;
    }
    if (fid && !e)
        e = pd_entry_of(w, fid); /* a fresh table has room */
    if (w->blen + rec > OUT_BUF && pd_flush_buf(w))
        return -1;
    uint32_t h[4] = { (uint32_t)(ts_us / 1000000u), (uint32_t)(ts_us % 1000000u), caplen, wirelen };
    memcpy(w->buf + w->blen, h, REC_HEAD);
    if (caplen)
        memcpy(w->buf + w->blen + REC_HEAD, data, caplen);
    w->blen += rec;
    if (e) {
        if (!e->packets) {
            e->first_us = ts_us;
            e->first_off = (uint32_t)w->off;
        }
        if (ts_us < e->first_us)
            e->first_us = ts_us;
        if (ts_us > e->last_us)
            e->last_us = ts_us;
        e->last_off = (uint32_t)w->off;
        e->packets++;
        e->bytes += caplen;
    }
    w->off += rec;
    w->npackets++;
    if (ts_us < w->first_us)
        w->first_us = ts_us;
    if (ts_us > w->last_us)
        w->last_us = ts_us;
    add_relaxed(&w->st_packets, 1);
    return 0;
}

int cg_pcapdir_flush(cg_pcapdir *w)
{
    return pd_flush_buf(w);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *pd_main(void *arg)
{
    cg_pcapdir *w = arg;
    uint32_t k = 0;
    double last_flush = mono();
    for (;;) {
        int done = atomic_load(&w->done);
        uint64_t got = 0;
        for (uint32_t i = 0; i < w->nprod; i++) {
            cg_ring *r = &w->prod[i].ring;
            const cg_ring_msg *m;
            for (int n = 0; n < 1024 && (m = cg_ring_peek(r)) != NULL; n++) {
                const pd_msg *pm = (const pd_msg *)m;
                if (m->type == MSG_FRAME)
                    cg_pcapdir_write(w, pm->ts_us, pm->dlt, (const uint8_t *)(pm + 1), pm->caplen,
                                     pm->wirelen);
                cg_ring_release(r, m);
                got++;
            }
        }
        if (got)
            continue;
        if (done)
            break;
        double now = mono();
        if (w->blen > PCAP_HEAD && now - last_flush >= 1.0) {
            pd_flush_buf(w);
            last_flush = now;
        }
        cg_ring_wait_data(&w->prod[k].ring, w->nprod == 1 ? 100 : 5);
        k = (k + 1) % w->nprod;
    }
    return NULL;
}

int cg_pcapdir_push(cg_pcapdir *w, uint32_t producer, uint64_t ts_us, int dlt, const uint8_t *data,
                    uint32_t caplen, uint32_t wirelen, int wait)
{
    if (atomic_load_explicit(&w->stopped, memory_order_relaxed) || producer >= w->nprod)
        return -1;
    if (caplen > CG_PCAPDIR_SNAPLEN)
        caplen = CG_PCAPDIR_SNAPLEN;
    pd_producer *pp = &w->prod[producer];
    uint32_t need = (uint32_t)sizeof(pd_msg) + caplen;
    pd_msg *m;
    while (!(m = cg_ring_reserve(&pp->ring, need))) {
        if (!wait || atomic_load_explicit(&w->stopped, memory_order_relaxed)) {
            if (!wait)
                add_relaxed(&pp->dropped, 1);
            return -1;
        }
        cg_ring_wait_space(&pp->ring, need, 100);
    }
    cg_ring_msg_set(&m->h, need, MSG_FRAME, 0);
    m->ts_us = ts_us;
    m->caplen = caplen;
    m->wirelen = wirelen;
    m->dlt = dlt;
    if (caplen)
        memcpy(m + 1, data, caplen);
    cg_ring_commit(&pp->ring, need);
    return 0;
}

static int mkerr(char *err, size_t errlen, const char *dir, const char *what, int code)
{
    snprintf(err, errlen, "pcap ring %s: %s%s%s", dir, what ? what : "", what ? ": " : "",
             strerror(errno));
    return code;
}

int cg_pcapdir_open(cg_pcapdir **out, const cg_pcapdir_config *cfg, char *err, size_t errlen)
{
    const char *dir = cfg->dir;
    if (!dir || !*dir) {
        snprintf(err, errlen, "pcap ring: no directory");
        return CG_EINVAL;
    }
    if (cfg->max_bytes < CG_PCAPDIR_MIN_MAX) {
        snprintf(err, errlen, "pcap ring %s: the budget is at least 1 MB", dir);
        return CG_EINVAL;
    }
    if (cfg->file_bytes &&
        (cfg->file_bytes < MIN_FILE || cfg->file_bytes > CG_PCAPDIR_FILE_MAX ||
         cfg->file_bytes * 4 > cfg->max_bytes)) {
        snprintf(err, errlen, "pcap ring %s: bad file size %llu", dir,
                 (unsigned long long)cfg->file_bytes);
        return CG_EINVAL;
    }
    if (mkdir(dir, 0750) && errno != EEXIST)
        return mkerr(err, errlen, dir, NULL, CG_EIO);
    struct stat sb;
    if (stat(dir, &sb))
        return mkerr(err, errlen, dir, NULL, CG_EIO);
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return mkerr(err, errlen, dir, NULL, CG_EIO);
    }
    if (access(dir, W_OK | X_OK))
        return mkerr(err, errlen, dir, NULL, CG_EIO);
    cg_pcapdir *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "pcap ring %s: out of memory", dir);
        return CG_ENOMEM;
    }
    w->fd = -1;
    w->log = cfg->log;
    w->write_fn = cfg->write_fn ? cfg->write_fn : write;
    w->max_bytes = cfg->max_bytes;
    w->file_max = cfg->file_bytes;
    if (!w->file_max) {
        w->file_max = cfg->max_bytes / 8;
        if (w->file_max > CG_PCAPDIR_FILE_MAX)
            w->file_max = CG_PCAPDIR_FILE_MAX;
    }
    w->flow_max = (uint32_t)(w->file_max / 1024);
    if (w->flow_max < 64)
        w->flow_max = 64;
    w->idx_max = IDX_HEAD + (uint64_t)w->flow_max * IDX_ENTRY + 4;
    uint32_t slots = 1;
    while (slots < 2 * w->flow_max)
        slots <<= 1;
    w->smask = slots - 1;
    w->next_seq = 1;
    int rc = CG_ENOMEM;
    if (!(w->dir = strdup(dir)) || !(w->buf = malloc(OUT_BUF)) ||
        !(w->ent = malloc((size_t)w->flow_max * sizeof *w->ent)) ||
        !(w->slots = calloc(slots, sizeof *w->slots)))
        goto oom;
    rc = list_dir(dir, &w->files, &w->nfiles, 1);
    if (rc) {
        if (rc == CG_ENOMEM)
            goto oom;
        mkerr(err, errlen, dir, NULL, rc);
        cg_pcapdir_close(w);
        return rc;
    }
    w->capfiles = w->nfiles;
    for (size_t i = 0; i < w->nfiles; i++) {
        w->closed_bytes += w->files[i].pcap_bytes + w->files[i].idx_bytes;
        w->next_seq = w->files[i].seq + 1;
    }
    if (cfg->producers) {
        uint64_t q = (uint64_t)(cfg->queue_kib ? cfg->queue_kib : 8192) << 10;
        if (q < (2u << 20))
            q = 2u << 20;
        w->prod = calloc(cfg->producers, sizeof *w->prod);
        if (!w->prod)
            goto oom;
        w->nprod = cfg->producers;
        for (uint32_t i = 0; i < w->nprod; i++)
            if (cg_ring_init(&w->prod[i].ring, q))
                goto oom;
        if (pthread_create(&w->th, NULL, pd_main, w)) {
            snprintf(err, errlen, "pcap ring %s: cannot start its thread", dir);
            cg_pcapdir_close(w);
            return CG_EFAIL;
        }
        w->started = 1;
    }
    *out = w;
    return 0;
oom:
    snprintf(err, errlen, "pcap ring %s: out of memory", dir);
    cg_pcapdir_close(w);
    return CG_ENOMEM;
}

void cg_pcapdir_finish(cg_pcapdir *w)
{
    if (!w || w->finished)
        return;
    w->finished = 1;
    if (w->started) {
        atomic_store(&w->done, 1);
        pthread_join(w->th, NULL);
        w->started = 0;
    }
    pd_close_file(w);
}

void cg_pcapdir_stats_get(cg_pcapdir *w, cg_pcapdir_stats *out)
{
    memset(out, 0, sizeof *out);
    out->packets = atomic_load_explicit(&w->st_packets, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&w->st_bytes, memory_order_relaxed);
    out->files_rotated = atomic_load_explicit(&w->st_rotated, memory_order_relaxed);
    out->files_deleted = atomic_load_explicit(&w->st_deleted, memory_order_relaxed);
    out->write_errors = atomic_load_explicit(&w->st_errors, memory_order_relaxed);
    for (uint32_t i = 0; i < w->nprod; i++)
        out->dropped += atomic_load_explicit(&w->prod[i].dropped, memory_order_relaxed);
    out->file_bytes = w->file_max;
    if (atomic_load_explicit(&w->stopped, memory_order_acquire)) {
        out->stopped = 1;
        snprintf(out->error, sizeof out->error, "%s", w->error);
    }
}

const char *cg_pcapdir_dir(const cg_pcapdir *w)
{
    return w->dir;
}

void cg_pcapdir_close(cg_pcapdir *w)
{
    if (!w)
        return;
    cg_pcapdir_finish(w);
    if (w->fd >= 0)
        close(w->fd);
    for (uint32_t i = 0; w->prod && i < w->nprod; i++)
        cg_ring_free(&w->prod[i].ring);
    free(w->prod);
    free(w->files);
    free(w->slots);
    free(w->ent);
    free(w->buf);
    free(w->dir);
    free(w);
}

/* ---- the reader ----------------------------------------------------------- */

typedef struct rd_file {
    uint64_t seq;
    int has_pcap;
    int has_idx; /* a sound index */
    uint64_t first_us, last_us;
    uint32_t nflows;
    pd_entry *scan; /* a pcap without a sound index: its entries, sorted */
} rd_file;

struct cg_pcapdir_reader {
    char *dir;
    rd_file *f;
    size_t n;
    uint64_t gap_us;
    uint8_t *rec; /* one record */
    cg_decode_stats ds;
};

/* A pcap file's reading state. */
typedef struct rd_pcap {
    FILE *fp;
    int swap, dlt;
    uint64_t off;
} rd_pcap;

static uint32_t sw32(uint32_t v, int swap)
{
    return swap ? __builtin_bswap32(v) : v;
}

static int pcap_open(rd_pcap *pc, const char *path)
{
    memset(pc, 0, sizeof *pc);
    pc->fp = fopen(path, "rb");
    if (!pc->fp)
        return -1;
    uint32_t h[6];
    if (fread(h, 4, 6, pc->fp) != 6 || (h[0] != 0xa1b2c3d4u && h[0] != 0xd4c3b2a1u)) {
        fclose(pc->fp);
        pc->fp = NULL;
        errno = EINVAL;
        return -1;
    }
    pc->swap = h[0] == 0xd4c3b2a1u;
    pc->dlt = (int)(sw32(h[5], pc->swap) & 0xffff);
    pc->off = PCAP_HEAD;
    return 0;
}

/* The next record into buf: 1, or 0 at the end (or a record cut off). */
static int pcap_next(rd_pcap *pc, uint8_t *buf, cg_pcapdir_packet *p, uint64_t *at)
{
    uint32_t h[4];
    if (fread(h, 4, 4, pc->fp) != 4)
        return 0;
    uint32_t cap = sw32(h[2], pc->swap);
    if (cap > CG_PCAPDIR_SNAPLEN || (cap && fread(buf, 1, cap, pc->fp) != cap))
        return 0;
    *at = pc->off;
    pc->off += REC_HEAD + (uint64_t)cap;
    p->ts_us = (uint64_t)sw32(h[0], pc->swap) * 1000000u + sw32(h[1], pc->swap);
    p->caplen = cap;
    p->wirelen = sw32(h[3], pc->swap);
    p->dlt = pc->dlt;
    p->data = buf;
    return 1;
}

typedef struct scan_pkt {
    uint64_t flow_id, ts;
    uint32_t off, cap;
} scan_pkt;

static int scan_cmp(const void *a, const void *b)
{
    const scan_pkt *x = a, *y = b;
    if (x->flow_id != y->flow_id)
        return x->flow_id < y->flow_id ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* A pcap file with no sound index: its entries, from every record. */
static int scan_file(cg_pcapdir_reader *r, rd_file *rf, const char *path)
{
    rd_pcap pc;
    if (pcap_open(&pc, path))
        return errno == ENOENT ? 1 : -1;
    scan_pkt *v = NULL;
    size_t n = 0, cap = 0;
    cg_pcapdir_packet p;
    uint64_t at;
    rf->first_us = UINT64_MAX;
    int rc = 0;
    while (pcap_next(&pc, r->rec, &p, &at)) {
        if (p.ts_us < rf->first_us)
            rf->first_us = p.ts_us;
        if (p.ts_us > rf->last_us)
            rf->last_us = p.ts_us;
        uint64_t fid = frame_flow(p.dlt, p.data, p.caplen, p.wirelen, p.ts_us, &r->ds);
        if (!fid)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            scan_pkt *g = realloc(v, nc * sizeof *g);
            if (!g) {
                rc = CG_ENOMEM;
                break;
            }
            v = g;
            cap = nc;
        }
        v[n++] = (scan_pkt){ fid, p.ts_us, (uint32_t)at, p.caplen };
    }
    fclose(pc.fp);
    if (rf->first_us == UINT64_MAX)
        rf->first_us = 0;
    if (rc) {
        free(v);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, scan_cmp);
    size_t ne = 0;
    for (size_t i = 0; i < n; i++)
        ne += !i || v[i].flow_id != v[i - 1].flow_id;
    rf->scan = calloc(ne ? ne : 1, sizeof *rf->scan);
    if (!rf->scan) {
        free(v);
        return CG_ENOMEM;
    }
    pd_entry *e = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!i || v[i].flow_id != v[i - 1].flow_id) {
            e = &rf->scan[rf->nflows++];
            e->flow_id = v[i].flow_id;
            e->first_us = e->last_us = v[i].ts;
            e->first_off = v[i].off;
        }
        if (v[i].ts < e->first_us)
            e->first_us = v[i].ts;
        if (v[i].ts > e->last_us)
            e->last_us = v[i].ts;
        e->last_off = v[i].off;
        e->packets++;
        e->bytes += v[i].cap;
    }
    free(v);
    return 0;
}

/* An index's header, checked whole (size, magic, CRC): 0 when sound. */
static int idx_check(const char *path, rd_file *rf)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t h[IDX_HEAD], b[65536];
    struct stat sb;
    int ok = fstat(fd, &sb) == 0 && pread(fd, h, IDX_HEAD, 0) == IDX_HEAD &&
        !memcmp(h, IDX_MAGIC, 8) && get32(h + 8) == 1 && get32(h + 60) == IDX_ENTRY &&
        (uint64_t)sb.st_size == IDX_HEAD + (uint64_t)get32(h + 56) * IDX_ENTRY + 4 &&
        get64(h + 16) == rf->seq;
    if (ok) {
        uLong crc = crc32(0L, Z_NULL, 0);
        off_t end = sb.st_size - 4, at = 0;
        while (ok && at < end) {
            size_t want = (size_t)(end - at) < sizeof b ? (size_t)(end - at) : sizeof b;
            ssize_t got = pread(fd, b, want, at);
            if (got != (ssize_t)want)
                ok = 0;
            else
                crc = crc32(crc, b, (uInt)want);
            at += (off_t)want;
        }
        if (ok && (pread(fd, b, 4, end) != 4 || get32(b) != (uint32_t)crc))
            ok = 0;
    }
    close(fd);
    if (!ok)
        return -1;
    rf->first_us = get64(h + 24);
    rf->last_us = get64(h + 32);
    rf->nflows = get32(h + 56);
    return 0;
}

int cg_pcapdir_reader_open(cg_pcapdir_reader **out, const char *dir, char *err, size_t errlen)
{
    cg_pcapdir_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = strdup(dir)) || !(r->rec = malloc(CG_PCAPDIR_SNAPLEN))) {
        cg_pcapdir_reader_close(r);
        snprintf(err, errlen, "pcap ring %s: out of memory", dir);
        return CG_ENOMEM;
    }
    r->gap_us = CG_PCAPDIR_GAP_US;
    pd_file *lf = NULL;
    size_t n = 0;
    int rc = list_dir(dir, &lf, &n, 0);
    if (rc) {
        if (rc == CG_ENOMEM)
            snprintf(err, errlen, "pcap ring %s: out of memory", dir);
        else
            snprintf(err, errlen, "pcap ring %s: %s", dir, strerror(errno));
        cg_pcapdir_reader_close(r);
        return rc;
    }
    r->f = calloc(n ? n : 1, sizeof *r->f);
    if (!r->f) {
        free(lf);
        cg_pcapdir_reader_close(r);
        snprintf(err, errlen, "pcap ring %s: out of memory", dir);
        return CG_ENOMEM;
    }
    char p[4200];
    for (size_t i = 0; i < n; i++) {
        rd_file *rf = &r->f[r->n];
        memset(rf, 0, sizeof *rf);
        rf->seq = lf[i].seq;
        rf->has_pcap = lf[i].has_pcap;
        snprintf(p, sizeof p, "%s/ring-%010llu.idx", dir, (unsigned long long)rf->seq);
        if (lf[i].has_idx && idx_check(p, rf) == 0)
            rf->has_idx = 1;
        if (!rf->has_idx && rf->has_pcap) {
            snprintf(p, sizeof p, "%s/ring-%010llu.pcap", dir, (unsigned long long)rf->seq);
            rc = scan_file(r, rf, p);
            if (rc < 0) {
                snprintf(err, errlen, "pcap ring %s: %s", p,
                         rc == CG_ENOMEM ? "out of memory" : strerror(errno));
                free(lf);
                cg_pcapdir_reader_close(r);
                return rc == CG_ENOMEM ? rc : CG_EIO;
            }
            if (rc > 0)
                continue; /* deleted since it was listed */
        }
        if (!rf->has_idx && !rf->has_pcap)
            continue; /* a damaged index alone says nothing */
        r->n++;
    }
    free(lf);
    *out = r;
    return 0;
}

void cg_pcapdir_reader_set_gap(cg_pcapdir_reader *r, uint64_t gap_us)
{
    r->gap_us = gap_us;
}

void cg_pcapdir_reader_close(cg_pcapdir_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->f && i < r->n; i++)
        free(r->f[i].scan);
    free(r->f);
    free(r->rec);
    free(r->dir);
    free(r);
}

/* flow_id's entry in file rf: 1 and *e, 0 none, -1 an unreadable index. */
static int find_entry(cg_pcapdir_reader *r, rd_file *rf, uint64_t flow_id, pd_entry *e)
{
    if (!rf->has_idx) {
        size_t lo = 0, hi = rf->nflows;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (rf->scan[mid].flow_id < flow_id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < rf->nflows && rf->scan[lo].flow_id == flow_id) {
            *e = rf->scan[lo];
            return 1;
        }
        return 0;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s/ring-%010llu.idx", r->dir, (unsigned long long)rf->seq);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1; /* deleted since: it says nothing now */
    uint32_t lo = 0, hi = rf->nflows;
    uint8_t b[IDX_ENTRY];
    int found = 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pread(fd, b, IDX_ENTRY, IDX_HEAD + (off_t)mid * IDX_ENTRY) != IDX_ENTRY) {
            close(fd);
            return -1;
        }
        entry_get(e, b);
        if (e->flow_id < flow_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < rf->nflows && pread(fd, b, IDX_ENTRY, IDX_HEAD + (off_t)lo * IDX_ENTRY) == IDX_ENTRY) {
        entry_get(e, b);
        found = e->flow_id == flow_id;
    }
    close(fd);
    return found;
}

typedef struct hit {
    size_t file;
    pd_entry e;
    int session;
} hit;

int cg_pcapdir_reader_flow(cg_pcapdir_reader *r, uint64_t flow_id, uint64_t first_us,
                           uint64_t last_us, cg_pcapdir_packet_fn fn, void *ctx,
                           cg_pcapdir_flow_info *info, char *err, size_t errlen)
{
    cg_pcapdir_flow_info fi;
    memset(&fi, 0, sizeof fi);
    fi.start = CG_PCAPDIR_START_NONE;
    hit *h = calloc(r->n ? r->n : 1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "pcap ring %s: out of memory", r->dir);
        return CG_ENOMEM;
    }
    size_t nh = 0;
    for (size_t i = 0; i < r->n; i++) {
        int f = find_entry(r, &r->f[i], flow_id, &h[nh].e);
        if (f < 0) {
            snprintf(err, errlen, "pcap ring %s: ring-%010llu.idx: %s", r->dir,
                     (unsigned long long)r->f[i].seq, strerror(errno ? errno : EIO));
            free(h);
            return CG_EIO;
        }
        if (f)
            h[nh++].file = i;
    }
    /* sessions: a silence longer than the gap between successive spans */
    int sess = 0, any = !first_us && !last_us;
    uint64_t hi_us = 0;
    for (size_t k = 0; k < nh; k++) {
        if (k && h[k].e.first_us > hi_us && h[k].e.first_us - hi_us > r->gap_us)
            sess++;
        h[k].session = sess;
        if (!k || h[k].e.last_us > hi_us)
            hi_us = h[k].e.last_us;
    }
    /* the sessions that overlap [first_us, last_us] */
    int rc = 0;
    int first_sel = -1;
    for (int s = 0; s <= sess && nh; s++) {
        uint64_t lo = UINT64_MAX, hi = 0;
        size_t k0 = SIZE_MAX;
        for (size_t k = 0; k < nh; k++)
            if (h[k].session == s) {
                if (k0 == SIZE_MAX)
                    k0 = k;
                lo = h[k].e.first_us < lo ? h[k].e.first_us : lo;
                hi = h[k].e.last_us > hi ? h[k].e.last_us : hi;
            }
        if (!any && (hi < first_us || lo > last_us))
            for (size_t k = 0; k < nh; k++)
                if (h[k].session == s)
                    h[k].session = -1;
        if ((any || !(hi < first_us || lo > last_us)) && first_sel < 0)
            first_sel = (int)k0;
    }
    char p[4200];
    rd_pcap pc = { 0 };
    int lost_first = 0;
    for (size_t k = 0; k < nh && rc == 0; k++) {
        if (h[k].session < 0)
            continue;
        rd_file *rf = &r->f[h[k].file];
        const pd_entry *e = &h[k].e;
        int opened = 0;
        if (rf->has_pcap) {
            snprintf(p, sizeof p, "%s/ring-%010llu.pcap", r->dir, (unsigned long long)rf->seq);
            if (pcap_open(&pc, p) == 0)
                opened = 1;
            else if (errno != ENOENT) {
                snprintf(err, errlen, "pcap ring %s: %s", p, strerror(errno));
                rc = CG_EIO;
                break;
            }
        }
        if (!opened) { /* deleted (now or before): its index says what it held */
            fi.lost_packets += e->packets;
            if (!fi.lost_first_us || e->first_us < fi.lost_first_us)
                fi.lost_first_us = e->first_us;
            if (e->last_us > fi.lost_last_us)
                fi.lost_last_us = e->last_us;
            if ((int)k == first_sel)
                lost_first = 1;
            continue;
        }
        int took = 0;
        if (fseeko(pc.fp, (off_t)e->first_off, SEEK_SET) == 0) {
            pc.off = e->first_off;
            cg_pcapdir_packet pk;
            uint64_t at;
            while (pc.off <= e->last_off && pcap_next(&pc, r->rec, &pk, &at)) {
                if (pk.ts_us < e->first_us || pk.ts_us > e->last_us ||
                    frame_flow(pk.dlt, pk.data, pk.caplen, pk.wirelen, pk.ts_us, &r->ds) != flow_id)
                    continue;
                took = 1;
                if (!fi.packets || pk.ts_us < fi.first_us)
                    fi.first_us = pk.ts_us;
                if (pk.ts_us > fi.last_us)
                    fi.last_us = pk.ts_us;
                fi.packets++;
                fi.bytes += pk.caplen;
                if (fn && (rc = fn(ctx, &pk)) != 0)
                    break;
            }
        }
        fclose(pc.fp);
        fi.files += took;
    }
    if (first_sel >= 0) {
        const rd_file *oldest = r->n ? &r->f[0] : NULL;
        if (lost_first)
            fi.start = CG_PCAPDIR_START_LOST;
        else if (oldest && oldest->seq > 1 &&
                 h[first_sel].e.first_us <= oldest->first_us + r->gap_us)
            fi.start = CG_PCAPDIR_START_UNKNOWN;
        else
            fi.start = CG_PCAPDIR_START_HELD;
    } else if (r->n && r->f[0].seq > 1 && (any || first_us <= r->f[0].first_us + r->gap_us)) {
        fi.start = CG_PCAPDIR_START_UNKNOWN; /* maybe in what was deleted unindexed */
    }
    free(h);
    if (info)
        *info = fi;
    return rc;
}

typedef struct pcap_out {
    FILE *fp;
    int dlt;
    int bad;
} pcap_out;

static int pcap_out_header(pcap_out *o, int dlt)
{
    uint8_t h[PCAP_HEAD];
    pcap_header(h, dlt);
    o->dlt = dlt;
    if (fwrite(h, 1, PCAP_HEAD, o->fp) != PCAP_HEAD)
        o->bad = errno ? errno : EIO;
    return o->bad ? -1 : 0;
}

static int out_packet(void *ctx, const cg_pcapdir_packet *p)
{
    pcap_out *o = ctx;
    if (o->dlt < 0 && pcap_out_header(o, p->dlt))
        return 0;
    if (o->bad || p->dlt != o->dlt)
        return 0;
    uint32_t h[4] = { (uint32_t)(p->ts_us / 1000000u), (uint32_t)(p->ts_us % 1000000u), p->caplen,
                      p->wirelen };
    if (fwrite(h, 4, 4, o->fp) != 4 ||
        (p->caplen && fwrite(p->data, 1, p->caplen, o->fp) != p->caplen))
        o->bad = errno ? errno : EIO;
    return 0;
}

int cg_pcapdir_reader_flow_pcap(cg_pcapdir_reader *r, uint64_t flow_id, uint64_t first_us,
                                uint64_t last_us, const char *path, cg_pcapdir_flow_info *info,
                                char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    pcap_out o = { .dlt = -1 };
    if (fd < 0 || !(o.fp = fdopen(fd, "wb"))) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CG_EIO;
    }
    errno = 0;
    int rc =
        cg_pcapdir_reader_flow(r, flow_id, first_us, last_us, out_packet, &o, info, err, errlen);
    if (rc == 0 && o.dlt < 0)
        pcap_out_header(&o, 1); /* no packet: an Ethernet capture with none */
    if (fclose(o.fp) && !o.bad)
        o.bad = errno ? errno : EIO;
    if (rc == 0 && o.bad) {
        snprintf(err, errlen, "%s: %s", path, strerror(o.bad));
        rc = CG_EIO;
    }
    if (rc == 0 && rename(tmp, path)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = CG_EIO;
    }
    if (rc)
        unlink(tmp);
    return rc;
}
