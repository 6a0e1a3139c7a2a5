/* bench_scan.c — Hyperscan's block-mode speed by buffer length, for the fast
 * patterns of a rule set's stream rules.
 *
 *   bench_scan -r FILE -S RULES... [--max-mb N] [--runs N]
 *
 * Reads the TCP payload bytes of FILE (up to --max-mb, default 256) into one
 * buffer, compiles the fast patterns of the rules that inspect the TCP
 * payload or stream (one literal database, as detection builds them: single
 * match, caseless where the pattern is), then scans the buffer cut into
 * pieces of 64 B to 64 KiB and prints the best of --runs (default 3) per
 * length: GB/s, ns per call, and the speed against 1,448-byte pieces (a full
 * Ethernet TCP segment). What it shows: how much scanning a stream in large
 * pieces gains over scanning packet by packet on this machine.
 */
#include <getopt.h>
#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer/lang/rule.h"
#include "sensor/capture.h"
#include "sensor/decode.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ctx)
{
    (void)id;
    (void)from;
    (void)to;
    (void)flags;
    ++*(unsigned long long *)ctx;
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench_scan -r FILE -S RULES... [--max-mb N] [--runs N]\n"
            "Hyperscan block-mode speed by buffer length (64 B .. 64 KiB) over FILE's\n"
            "TCP payload bytes, with the fast patterns of RULES' stream rules.\n");
}

/* FILE's TCP payload bytes, end to end, at most max bytes. */
static uint8_t *payloads(const char *path, size_t max, size_t *len)
{
    char err[256];
    cg_capture *c;
    if (cg_capture_open_file(&c, path, err, sizeof err)) {
        fprintf(stderr, "bench_scan: %s\n", err);
        return NULL;
    }
    uint8_t *buf = malloc(max);
    if (!buf) {
        cg_capture_close(c);
        return NULL;
    }
    size_t n = 0;
    cg_frame f;
    cg_packet p;
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    int rc;
    while (n < max && (rc = cg_capture_next(c, &f, err, sizeof err)) == 1) {
        if (cg_decode(&p, cg_capture_dlt(c), f.data, f.caplen, f.wirelen, f.ts_us, &st) != CG_OK ||
            p.proto != 6 || p.payload_len == 0)
            continue;
        size_t k = p.payload_len < max - n ? p.payload_len : max - n;
        memcpy(buf + n, p.payload, k);
        n += k;
    }
    cg_capture_close(c);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "read", required_argument, 0, 'r' },   { "rules", required_argument, 0, 'S' },
        { "max-mb", required_argument, 0, 'm' }, { "runs", required_argument, 0, 'n' },
        { "help", no_argument, 0, 'h' },         { 0, 0, 0, 0 }
    };
    const char *rfile = NULL;
    const char *paths[16];
    int np = 0, runs = 3, o;
    long max_mb = 256;
    while ((o = getopt_long(argc, argv, "r:S:h", lo, NULL)) != -1) {
        switch (o) {
        case 'r': rfile = optarg; break;
        case 'S':
            if (np < 16)
                paths[np++] = optarg;
            break;
        case 'm': max_mb = atol(optarg); break;
        case 'n': runs = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!rfile || np == 0 || max_mb <= 0 || runs <= 0) {
        usage(stderr);
        return 2;
    }

    cg_ruleset *rs;
    char err[1024];
    if (cg_ruleset_create(&rs))
        return 1;
    for (int i = 0; i < np; i++)
        if (cg_ruleset_load_path(rs, paths[i], err, sizeof err)) {
            fprintf(stderr, "bench_scan: %s\n", err);
            return 1;
        }
    uint32_t nr;
    const cg_rule *r = cg_ruleset_rules(rs, &nr);
    const char **ex = calloc(nr + 1, sizeof *ex);
    unsigned *fl = calloc(nr + 1, sizeof *fl), *ids = calloc(nr + 1, sizeof *ids);
    size_t *lens = calloc(nr + 1, sizeof *lens);
    if (!ex || !fl || !ids || !lens)
        return 1;
    unsigned npat = 0;
    for (uint32_t i = 0; i < nr; i++) {
        if (!r[i].stream_ok || r[i].fp < 0 ||
            (r[i].fp_buf != CG_BUF_PAYLOAD && r[i].fp_buf != CG_BUF_STREAM))
            continue;
        ex[npat] = (const char *)r[i].fp_bytes;
        lens[npat] = r[i].fp_len;
        fl[npat] = HS_FLAG_SINGLEMATCH | (r[i].fp_nocase ? HS_FLAG_CASELESS : 0);
        ids[npat] = i;
        npat++;
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    if (npat == 0 ||
        hs_compile_lit_multi(ex, fl, ids, lens, npat, HS_MODE_BLOCK, NULL, &db, &ce) !=
            HS_SUCCESS) {
        fprintf(stderr, "bench_scan: %s\n",
                npat ? ce->message
                     : "no stream rule with a "
                       "fast pattern");
        return 1;
    }
    hs_scratch_t *scratch = NULL;
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
        return 1;
    size_t len;
    uint8_t *buf = payloads(rfile, (size_t)max_mb << 20, &len);
    if (!buf)
        return 1;
    printf("%u fast patterns of stream rules; %.1f MB of TCP payload from %s\n", npat, len / 1e6,
           rfile);

    static const uint32_t sizes[] = { 64, 256, 512, 1448, 4096, 16384, 65536 };
    double gbs[sizeof sizes / sizeof *sizes], base = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t calls = len / sizes[k];
        double best = 1e30;
        unsigned long long m = 0;
        for (int run = 0; run < runs; run++) {
            double t0 = now_s();
            for (size_t c = 0; c < calls; c++)
                hs_scan(db, (const char *)buf + c * sizes[k], sizes[k], 0, scratch, on_match, &m);
            double t = now_s() - t0;
            if (t < best)
                best = t;
        }
        gbs[k] = calls * (double)sizes[k] / best / 1e9;
        if (sizes[k] == 1448)
            base = gbs[k];
        printf("pieces of %6u bytes: %6.2f GB/s, %8.0f ns per call\n", sizes[k], gbs[k],
               best / (double)calls * 1e9);
    }
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        if (sizes[k] == 65536)
            printf("64 KiB pieces against 1,448-byte ones: %.2fx the speed\n", gbs[k] / base);
    free(buf);
    hs_free_scratch(scratch);
    hs_free_database(db);
    free(ex);
    free(fl);
    free(ids);
    free(lens);
    cg_ruleset_destroy(rs);
    return 0;
}
