/* fanout_probe.c — measures how PACKET_FANOUT (hash mode, through
 * cg_capture_open_live_cfg) splits an interface's traffic among K handles.
 *
 *   fanout_probe IFACE K SECONDS [GROUP]
 *
 * Opens K handles on IFACE in one fanout group (GROUP, default 4242; -1: no
 * fanout, every handle sees everything, which the check must catch), prints
 * "ready: pid N ..." once all are open, then reads them all with poll for
 * SECONDS, or until SIGUSR1, SIGINT or SIGTERM (then 50 ms more, to empty
 * the rings). Prints per handle the packets read and the kernel's counts,
 * then the flows: a flow is the 5-tuple with both directions merged
 * (TCP/UDP/SCTP; the address pair and protocol for other IP; other frames are
 * counted apart), and it must have been read on one handle only.
 *
 * Exit: 0 every flow on one handle; 1 some flow on more than one; 2 usage;
 * 3 a capture error (its one-line message on stderr).
 *
 * Measured (Debian 12: libpcap 1.10.3, TPACKET_V3 ring as PACKET_VERSION
 * reports it; kernel 6.18; veth pair, MTU 9000; tcpreplay --topspeed of the
 * 81 captures tests/live_capture.sh lists: 13434 frames, 2384 flows of which
 * 398 were seen both ways, 6 frames not IP):
 *   K=2: 7775 + 5659 packets, 0 flows on more than one handle
 *   K=3: 6138 + 3320 + 3976 packets, 0 flows on more than one handle
 *   no fanout (group -1), K=2, shellshock/exploit.pcap: 62 packets for 31
 *   sent (each frame on both handles), its flows all reported split
 * The split was the same on each run of one boot (the kernel seeds its flow
 * hash once per boot); no drops in the kernel's counts. tests/live_capture.sh
 * repeats this on every run.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_packet.h>

#include "sensor/capture.h"

#define MAX_K 16
#define TABLE_BITS 18 /* flows: far more than the captures hold */

typedef struct flow {
    uint8_t key[40]; /* proto, ports, the two addresses in a fixed order */
    uint8_t used;
    uint8_t dirs;  /* bit 0: seen as keyed, bit 1: reversed */
    uint16_t seen; /* bit i: read on handle i */
} flow;

static flow table[1u << TABLE_BITS];
static uint64_t nflows, nother;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint32_t hash_key(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

/* Builds the direction-free key of an Ethernet frame: 1 as keyed, 2 the
 * other way round; 0 if it is not IP. */
static int flow_key(const uint8_t *p, uint32_t n, uint8_t key[40])
{
    uint32_t off = 14;
    if (n < 14)
        return 0;
    unsigned type = (unsigned)p[12] << 8 | p[13];
    while ((type == 0x8100 || type == 0x88a8) && n >= off + 4) {
        type = (unsigned)p[off + 2] << 8 | p[off + 3];
        off += 4;
    }
    const uint8_t *a, *b;
    unsigned alen, proto;
    uint32_t l4;
    if (type == 0x0800 && n >= off + 20) {
        unsigned ihl = (p[off] & 15u) * 4;
        alen = 4;
        proto = p[off + 9];
        a = p + off + 12;
        b = p + off + 16;
        l4 = off + ihl;
        if ((((unsigned)p[off + 6] << 8 | p[off + 7]) & 0x1fff) != 0)
            l4 = n; /* a later fragment: no ports */
    } else if (type == 0x86dd && n >= off + 40) {
        alen = 16;
        proto = p[off + 6];
        a = p + off + 8;
        b = p + off + 24;
        l4 = off + 40; /* extension headers: ports left out */
    } else {
        return 0;
    }
    uint16_t pa = 0, pb = 0;
    if ((proto == 6 || proto == 17 || proto == 132) && n >= l4 + 4) {
        pa = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
        pb = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
    }
    int swap = memcmp(a, b, alen) > 0 || (memcmp(a, b, alen) == 0 && pa > pb);
    memset(key, 0, 40);
    key[0] = (uint8_t)proto;
    key[1] = (uint8_t)alen;
    uint16_t lo = swap ? pb : pa, hi = swap ? pa : pb;
    key[2] = (uint8_t)(lo >> 8);
    key[3] = (uint8_t)lo;
    key[4] = (uint8_t)(hi >> 8);
    key[5] = (uint8_t)hi;
    memcpy(key + 8, swap ? b : a, alen);
    memcpy(key + 24, swap ? a : b, alen);
    return swap ? 2 : 1;
}

static void note(const uint8_t *p, uint32_t n, int handle)
{
    uint8_t key[40];
    int dir = flow_key(p, n, key);
    if (!dir) {
        nother++;
        return;
    }
    uint32_t mask = (1u << TABLE_BITS) - 1;
    for (uint32_t i = hash_key(key, sizeof key) & mask;; i = (i + 1) & mask) {
        flow *f = &table[i];
        if (!f->used) {
            if (nflows + 1 >= mask)
                return; /* full: uncounted (never with these captures) */
            f->used = 1;
            memcpy(f->key, key, sizeof key);
            nflows++;
        } else if (memcmp(f->key, key, sizeof key) != 0) {
            continue;
        }
        f->seen |= (uint16_t)(1u << handle);
        f->dirs |= (uint8_t)dir;
        return;
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: fanout_probe IFACE K SECONDS [GROUP]\n");
        return 2;
    }
    const char *ifname = argv[1];
    int k = atoi(argv[2]);
    double secs = atof(argv[3]);
    int group = argc > 4 ? atoi(argv[4]) : 4242;
    if (k < 1 || k > MAX_K || secs <= 0) {
        fprintf(stderr, "fanout_probe: K must be 1..%d and SECONDS positive\n", MAX_K);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    cg_capture *c[MAX_K] = { 0 };
    struct pollfd pf[MAX_K];
    char err[512];
    int rc = 0;
    for (int i = 0; i < k; i++) {
        cg_live_config cfg = { .fanout_group = group, .promisc = 1 };
        if (cg_capture_open_live_cfg(&c[i], ifname, &cfg, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = 3;
            goto done;
        }
        pf[i].fd = cg_capture_fd(c[i]);
        pf[i].events = POLLIN;
    }
    int ver = -1;
    socklen_t vl = sizeof ver;
    if (getsockopt(pf[0].fd, SOL_PACKET, PACKET_VERSION, &ver, &vl) != 0)
        ver = -1;
    printf("ready: pid %ld, %d handles on %s, fanout group %d, TPACKET_V%d\n", (long)getpid(), k,
           ifname, group, ver + 1);
    fflush(stdout);

    uint64_t total = 0;
    double end = now_s() + secs, last = 0;
    while (!last || now_s() < last) {
        if (!last && (stop || now_s() >= end))
            last = now_s() + 0.05; /* a TPACKET_V3 block is handed over in 10 ms */
        if (poll(pf, (nfds_t)k, 100) < 0 && errno != EINTR) {
            perror("poll");
            rc = 3;
            goto done;
        }
        /* every handle after every poll, timeouts included: that is when a
         * handle whose interface went away reports it */
        for (int i = 0; i < k; i++) {
            cg_frame f;
            int r;
            while ((r = cg_capture_next(c[i], &f, err, sizeof err)) == 1) {
                note(f.data, f.caplen, i);
                total++;
            }
            if (r < 0) {
                fprintf(stderr, "%s\n", err);
                rc = 3;
                goto done;
            }
        }
    }

    for (int i = 0; i < k; i++) {
        cg_capture_stats st;
        cg_capture_get_stats(c[i], &st);
        printf("handle %d: %llu packets (kernel %llu, dropped %llu, interface dropped %llu)\n", i,
               (unsigned long long)st.packets, (unsigned long long)st.kernel_packets,
               (unsigned long long)st.kernel_drops, (unsigned long long)st.if_drops);
    }
    uint64_t split = 0, both = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (!table[i].used)
            continue;
        split += (table[i].seen & (table[i].seen - 1)) != 0;
        both += table[i].dirs == 3;
    }
    printf("total: %llu packets, %llu flows (%llu seen both ways), %llu on more than one "
           "handle, %llu not IP\n",
           (unsigned long long)total, (unsigned long long)nflows, (unsigned long long)both,
           (unsigned long long)split, (unsigned long long)nother);
    rc = split ? 1 : 0;
done:
    for (int i = 0; i < k; i++)
        cg_capture_close(c[i]);
    return rc;
}
