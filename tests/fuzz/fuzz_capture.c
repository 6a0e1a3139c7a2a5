/* fuzz_capture.c — libFuzzer harness: the capture reader and the decoder.
 *
 * The input is a whole capture file (pcap or pcapng, as libpcap reads it from
 * a path: it is written to a scratch file under /dev/shm, since libpcap cannot
 * read an fmemopen stream). Every frame cg_capture_next returns is decoded with
 * the capture's link type, and every byte of the frame and of the decoded
 * payload is read; the flow hash and the Community ID are computed for IP
 * packets. Reading stops at the end of the file or at the first error
 * (errors are final, capture.h). Nothing survives the call.
 */
#include "tests/fuzz/fuzz_common.h"

#include "sensor/capture.h"
#include "sensor/decode.h"
#include "sensor/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_file(data, size);
    if (!path)
        return 0;
    char err[512];
    cg_capture *c = NULL;
    if (cg_capture_open_file(&c, path, err, sizeof err) != 0)
        return 0;
    int dlt = cg_capture_dlt(c);
    cg_decode_stats st;
    memset(&st, 0, sizeof st);
    cg_frame f;
    int rc;
    while ((rc = cg_capture_next(c, &f, err, sizeof err)) == 1) {
        fz_touch(f.data, f.caplen);
        cg_packet p;
        if (cg_decode(&p, dlt, f.data, f.caplen, f.wirelen, f.ts_us, &st) != 0)
            continue;
        if (p.l3)
            fz_touch(p.l3, p.l3_len);
        if (p.l4)
            fz_touch(p.l4, p.l4_len);
        if (p.payload)
            fz_touch(p.payload, p.payload_len);
        char cid[64], a[64];
        if (p.ipver) {
            cg_community_id(&p, 0, cid, sizeof cid);
            cg_addr_format(p.src, a, sizeof a);
            fz_sink += (uint32_t)cg_flow_hash(&p);
        }
    }
    cg_capture_stats cs;
    cg_capture_get_stats(c, &cs);
    cg_capture_close(c);
    return 0;
}
