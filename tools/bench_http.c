/* bench_http.c — throughput of the HTTP/1.x parser, in one process, on
 * synthetic keep-alive traffic (no capture file needed).
 *
 *   bench_http [--tx N] [--flows N]
 *
 * Each transaction is a typical browser request of about 600 bytes (one
 * piece) and a response of about 5 KB (HTML with Content-Length, fed as
 * 1,460-byte segments), on 1,000 concurrent flows taken round robin; N
 * transactions in all (default 400,000, about 2.2 GB). Three runs: the
 * response body plain; gzip-encoded (the same HTML, inflated by the parser);
 * chunked. The consumer reads one byte of every buffer delivered, so the
 * figures are those of parsing, normalization, dechunking and inflating
 * (no detection). MB/s counts the bytes fed (both directions).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "sensor/http.h"

#define SEG 1460u

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct sink {
    uint64_t tx, bytes, sum;
} sink;

static void consume(void *ctx, const cg_bufset *b, int to_server)
{
    sink *s = ctx;
    (void)to_server;
    s->tx++;
    for (int id = 0; id < CG_BUF_COUNT; id++)
        if (b->n[id] && b->v[id][0].len) {
            s->bytes += b->v[id][0].len;
            s->sum += b->v[id][0].p[0];
        }
}

static const char REQ[] =
    "GET /portal/tin-tuc/chi-tiet.aspx?id=20231204&cat=thong-bao&page=2 HTTP/1.1\r\n"
    "Host: dichvucong.example.gov.vn\r\n"
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
    "image/webp,*/*;q=0.8\r\n"
    "Accept-Language: vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Referer: http://dichvucong.example.gov.vn/portal/tin-tuc/danh-sach.aspx?cat=thong-bao\r\n"
    "Cookie: ASP.NET_SessionId=qx1v2w3e4r5t6y7u8i9o0p; lang=vi; _ga=GA1.1.123456789.1700000000\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n";

/* A response with an HTML body of about 4.7 KB: plain, gzip or chunked. */
static size_t make_resp(uint8_t *out, size_t cap, int mode)
{
    static char html[8192];
    size_t hn = 0;
    hn += (size_t)snprintf(html + hn, sizeof html - hn,
                           "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
                           "<title>Thong bao</title></head><body><div id=\"main\">");
    for (int i = 0; hn < 4600; i++)
        hn += (size_t)snprintf(html + hn, sizeof html - hn,
                               "<p class=\"item\">Muc %d: thong bao so %d ve viec tiep nhan ho so "
                               "truc tuyen, han xu ly %d ngay.</p>\n",
                               i, 1000 + i * 7, 3 + i % 9);
    hn += (size_t)snprintf(html + hn, sizeof html - hn, "</div></body></html>\n");

    uint8_t body[16384];
    size_t bn = hn;
    const char *ce = "";
    if (mode == 1) {
        z_stream z;
        memset(&z, 0, sizeof z);
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        z.next_in = (Bytef *)html;
        z.avail_in = (uInt)hn;
        z.next_out = body;
        z.avail_out = sizeof body;
        deflate(&z, Z_FINISH);
        bn = z.total_out;
        deflateEnd(&z);
        ce = "Content-Encoding: gzip\r\n";
    } else {
        memcpy(body, html, hn);
    }
    size_t o = (size_t)snprintf((char *)out, cap,
                                "HTTP/1.1 200 OK\r\n"
                                "Date: Mon, 04 Dec 2023 08:15:00 GMT\r\n"
                                "Server: Microsoft-IIS/10.0\r\n"
                                "Content-Type: text/html; charset=utf-8\r\n"
                                "Cache-Control: private\r\n"
                                "X-AspNet-Version: 4.0.30319\r\n"
                                "X-Powered-By: ASP.NET\r\n%s",
                                ce);
    if (mode == 2) {
        o += (size_t)snprintf((char *)out + o, cap - o, "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t i = 0; i < bn; i += 1024) {
            size_t c = bn - i < 1024 ? bn - i : 1024;
            o += (size_t)snprintf((char *)out + o, cap - o, "%zx\r\n", c);
            memcpy(out + o, body + i, c);
            o += c;
            memcpy(out + o, "\r\n", 2);
            o += 2;
        }
        memcpy(out + o, "0\r\n\r\n", 5);
        return o + 5;
    }
    o += (size_t)snprintf((char *)out + o, cap - o, "Content-Length: %zu\r\n\r\n", bn);
    memcpy(out + o, body, bn);
    return o + bn;
}

static int run(const char *name, int mode, uint64_t ntx, uint32_t nflows)
{
    static uint8_t resp[32768];
    size_t rn = make_resp(resp, sizeof resp, mode);
    cg_http *h = NULL;
    cg_http_config cfg = { .max_flows = nflows, .req_buffers = 64, .resp_buffers = 64 };
    if (cg_http_create(&h, &cfg) != 0)
        return -1;
    cg_http_flow *flows = calloc(nflows, sizeof *flows);
    sink s = { 0 };
    uint64_t fed = 0;
    double t0 = now_s();
    for (uint64_t i = 0; i < ntx; i++) {
        cg_http_flow *hf = &flows[i % nflows];
        cg_http_feed(h, hf, 1, (const uint8_t *)REQ, sizeof REQ - 1, 0, consume, &s);
        for (size_t o = 0; o < rn; o += SEG)
            cg_http_feed(h, hf, 0, resp + o, (uint32_t)(rn - o < SEG ? rn - o : SEG), 0, consume,
                         &s);
        fed += sizeof REQ - 1 + rn;
    }
    double dt = now_s() - t0;
    for (uint32_t f = 0; f < nflows; f++)
        cg_http_end(h, &flows[f], consume, &s);
    cg_http_stats st;
    cg_http_get_stats(h, &st);
    printf("%-8s request %zu B, response %zu B: %8.0f MB/s, %8.0f transactions/s "
           "(%llu requests, %llu responses, %llu errors)\n",
           name, sizeof REQ - 1, rn, fed / dt / 1e6, ntx / dt, (unsigned long long)st.requests,
           (unsigned long long)st.responses,
           (unsigned long long)(st.parse_errors + st.decomp_errors + st.bad_length));
    int bad = st.requests != ntx || st.responses != ntx || s.sum == 0;
    free(flows);
    cg_http_destroy(h);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    uint64_t ntx = 400000;
    uint32_t nflows = 1000;
    static const struct option opts[] = {
        { "tx", required_argument, NULL, 't' },
        { "flows", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "t:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': ntx = strtoull(optarg, NULL, 10); break;
        case 'f': nflows = (uint32_t)strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench_http [--tx N] [--flows N]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!ntx || !nflows)
        return 2;
    int rc = 0;
    rc |= run("plain", 0, ntx, nflows);
    rc |= run("gzip", 1, ntx, nflows);
    rc |= run("chunked", 2, ntx, nflows);
    return rc ? 1 : 0;
}
