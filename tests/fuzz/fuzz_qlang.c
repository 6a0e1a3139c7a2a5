/* fuzz_qlang.c — libFuzzer harness: the query language (store/qlang.h).
 *
 * Input: the query text (a NUL-terminated copy; a NUL inside ends it early, as
 * a command-line argument would). It is parsed at a fixed "now"; a query that
 * parses is asked for its index hints and evaluated on a few fixed incidents
 * (whether exact hints agree with evaluation is not checked here), then
 * freed. The value parsers (duration, time,
 * CIDR, severity, status) are run on the text too. Nothing is kept.
 */
#include "tests/fuzz/fuzz_common.h"

#include "store/qlang.h"

#define NOW_US 1763971200000000ull /* 2025-11-24 08:00:00 UTC */

static cg_qrec recs[3];

static void init_recs(void)
{
    static int done;
    if (done++)
        return;
    for (int i = 0; i < 3; i++) {
        cg_qrec *r = &recs[i];
        memset(r, 0, sizeof *r);
        r->id = 1 + (uint64_t)i;
        r->first_us = NOW_US - (uint64_t)(i + 1) * 3600000000ull;
        r->last_us = r->first_us + 1000;
        r->count = 1 + (uint64_t)i * 10;
        r->gid = 1;
        r->sid = 2000001 + (uint32_t)i;
        r->severity = (uint8_t)(1 + i);
        r->status = (uint8_t)i;
        r->proto = i == 1 ? 17 : 6;
        r->layers = (uint8_t)(1u << i);
        r->src[10] = r->src[11] = 0xff;
        r->src[12] = 203;
        r->src[13] = 0;
        r->src[14] = 113;
        r->src[15] = (uint8_t)(5 + i);
        r->dst[10] = r->dst[11] = 0xff;
        r->dst[12] = 10;
        r->dst[13] = 20;
        r->dst[14] = 1;
        r->dst[15] = (uint8_t)(10 + i);
        if (i == 2) {
            memset(r->src, 0, 16);
            r->src[0] = 0x20;
            r->src[1] = 0x01;
            r->src[2] = 0x0d;
            r->src[3] = 0xb8;
            r->src[15] = 1;
        }
        r->sport = (uint16_t)(40000 + i);
        r->dport = i == 1 ? 53 : 80;
        r->msg = i == 0 ? "ET WEB_SERVER SQL Injection" : i == 1 ? "DNS tunnel" : "";
        r->classtype = i == 0 ? "web-application-attack" : "";
        r->assignee = i == 2 ? "lan" : "";
        r->community_id = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";
        r->src_country = i == 0 ? "VN" : "";
        r->dst_country = "VN";
        r->src_asn = i == 0 ? 13335 : 0;
        r->src_agency = r->dst_agency = r->src_zone = r->dst_zone = "";
        r->dst_agency = "so-tttt";
        r->dst_zone = "dmz";
        r->attack_id = (uint64_t)i;
        r->http_status = i == 0 ? 200 : 0;
        r->app_proto = i == 0 ? "http" : i == 1 ? "dns" : "";
        r->http_method = i == 0 ? "GET" : "";
        r->http_host = i == 0 ? "portal.tuyenquang.gov.vn" : "";
        r->http_url = i == 0 ? "/index.php?id=1%27%20UNION%20SELECT" : "";
        r->http_user_agent = i == 0 ? "sqlmap/1.7" : "";
        r->dns_query = i == 1 ? "aGVsbG8.t.example.com" : NULL;
        r->tls_sni = NULL;
        r->tls_ja3 = i == 2 ? "e7d705a3286e19ea42f587b344ee6865" : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_recs();
    char *text = fz_str(data, size);
    if (!text)
        abort();
    char err[256];
    int col = 0;
    cg_qexpr *e = NULL;
    if (cg_qlang_parse(text, NOW_US, &e, err, sizeof err, &col) == 0) {
        cg_qhints h;
        cg_qlang_hints(e, &h);
        for (int i = 0; i < 3; i++)
            fz_sink += (uint32_t)cg_qlang_eval(e, &recs[i]);
        cg_qlang_free(e);
    } else {
        fz_touch(err, strnlen(err, sizeof err));
    }
    uint64_t v;
    uint8_t lo[16], hi[16], b;
    cg_qlang_duration(text, &v);
    cg_qlang_time(text, NOW_US, &v);
    cg_qlang_cidr(text, lo, hi);
    cg_qlang_severity(text, &b);
    cg_qlang_status(text, &b);
    const char *sn = cg_qlang_status_name(size ? data[0] : 0);
    if (sn)
        fz_touch(sn, strlen(sn));
    free(text);
    return 0;
}
