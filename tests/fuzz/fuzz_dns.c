/* fuzz_dns.c — libFuzzer harness: the DNS parser (sensor/dns.h).
 *
 * Input: byte 0 chooses the mode, the rest (from byte 1) is the bytes.
 *   bit 0 clear: one message (a UDP datagram). It is parsed with
 *                cg_dns_parse_detail and a full scratch, then with cg_dns_parse
 *                and a scratch of (byte 0 >> 1) bytes, so that names are
 *                dropped, and with wire_len one more than the bytes (cut short).
 *   bit 0 set:   a TCP stream, cut into pieces of (byte 0 >> 2) + 1 bytes fed
 *                to cg_dns_tcp_next; bit 1 set: a gap (cg_dns_tcp_gap) before
 *                the last piece; then cg_dns_tcp_end. Each framed message is
 *                parsed as a datagram is.
 * The message bytes are the input's own (which ends where the input ends, so
 * a read past it is found by ASan). Nothing is allocated; every buffer handed
 * out and every string of the detail is read.
 */
#include "tests/fuzz/fuzz_common.h"

#include "sensor/dns.h"
#include "sensor/reasm.h"

static uint8_t scratch[CG_DNS_SCRATCH_SIZE];
static cg_dns_detail det;

static void parse_one(const uint8_t *msg, uint32_t len, uint32_t wire_len, uint32_t small,
                      cg_dns_stats *st)
{
    cg_bufset bs;
    cg_dns_msg m;
    int rc = cg_dns_parse_detail(msg, len, wire_len, scratch, sizeof scratch, &bs, &m, st, &det);
    fz_touch(cg_strerror(rc), strlen(cg_strerror(rc)));
    fz_touch_bufset(&bs);
    for (unsigned i = 0; i < det.nq && i < CG_DNS_DETAIL_QUESTIONS; i++) {
        fz_touch(det.q[i].name, det.q[i].name_len);
        const char *t = cg_dns_type_name(det.q[i].type);
        if (t)
            fz_touch(t, strlen(t));
    }
    for (unsigned i = 0; i < det.nan && i < CG_DNS_DETAIL_ANSWERS; i++) {
        fz_touch(det.an[i].name, det.an[i].name_len);
        if (det.an[i].rdata)
            fz_touch(det.an[i].rdata, det.an[i].rdata_len);
    }
    if (det.used > CG_DNS_DETAIL_TEXT)
        abort();
    const char *rn = cg_dns_rcode_name(m.flags & 15);
    if (rn)
        fz_touch(rn, strlen(rn));
    rc = cg_dns_parse(msg, len, wire_len, scratch, small, &bs, NULL, st);
    fz_touch_bufset(&bs);
    rc = cg_dns_parse(msg, len, len + 1, scratch, sizeof scratch, &bs, &m, st);
    fz_touch_bufset(&bs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 70000)
        return 0;
    cg_dns_stats st;
    memset(&st, 0, sizeof st);
    const uint8_t *d = data + 1;
    uint32_t len = (uint32_t)size - 1;
    if (!(data[0] & 1)) {
        parse_one(d, len, 0, data[0] >> 1, &st);
        return 0;
    }
    cg_dns_tcp t;
    memset(&t, 0, sizeof t);
    uint32_t piece = (data[0] >> 2) + 1u;
    cg_dns_frame f;
    while (len > 0) {
        uint32_t n = len < piece ? len : piece;
        if ((data[0] & 2) && n == len)
            cg_dns_tcp_gap(&t, &st);
        const uint8_t *p = d;
        uint32_t left = n;
        while (cg_dns_tcp_next(&t, &p, &left, &f, &st) == 1)
            parse_one(f.msg, f.len, f.wire_len, 64, &st);
        d += n;
        len -= n;
    }
    if (cg_dns_tcp_end(&t, &f, &st) == 1)
        parse_one(f.msg, f.len, f.wire_len, 64, &st);
    return 0;
}
