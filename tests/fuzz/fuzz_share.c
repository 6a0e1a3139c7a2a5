/* fuzz_share.c — libFuzzer harness: `canhgac share`'s bundle builder
 * (tools/stix_bundle.h) over incidents whose every field is hostile: the
 * Host header (parsed for a port and an address literal), the DNS
 * question, the TLS server name, the URL, the user agent, the rule's
 * message and classtype, the asset file's agency and zone, the payload.
 *
 * Input: byte 0: bits 0-2 the policy's CG_SHARE_* bits, bits 3-5 the TLP
 * (mod 5), bit 6: the second incident repeats the first's addresses;
 * bytes 1-16 and 17-32 the source and destination (bit 7 of byte 0: both
 * IPv4-mapped, their last 4 bytes kept), 33 the protocol, 34-37 the ports,
 * then the strings, each ended by a NUL byte (msg, classtype, src agency,
 * src zone, dst agency, dst zone, http.host, url, user agent, method,
 * dns.query, tls.sni, community id, app_proto, ja3), then the payload.
 * Two incidents are written from it (the second with the fields shifted),
 * then the bundle must be what stix_bundle.h says:
 *  - JSON that json-c's strict parser reads, UTF-8 checked, with an
 *    "objects" array of objects that each have a type and an id;
 *  - no ipv4-addr or ipv6-addr of an internal side without
 *    CG_SHARE_INTERNAL, no indicator of an internal address ever, no
 *    Community ID when a side is internal and withheld;
 *  - no agency or zone property without CG_SHARE_AGENCY; no url object and
 *    no payload property without CG_SHARE_PAYLOAD.
 * Nothing is kept; the bundle is written to memory (open_memstream).
 * (It includes tools/stix.c, tools/stix_bundle.c and tools/cli.c: the
 * harnesses link the library only.)
 */
#include "tests/fuzz/fuzz_common.h"

#include "tools/cli.c"
#include "tools/stix.c"
#include "tools/stix_bundle.c"

#define NSTR 15

static const char *next_str(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *z = memchr(*p, 0, (size_t)(end - *p));
    const char *s = (const char *)*p;
    if (!z)
        return "";
    *p = z + 1;
    return s;
}

/* Whether v is the address of an internal side of inc (and not also that of
 * an external side: an address the input gave both sides with different
 * asset data, which enrichment never does). */
static int is_internal_value(const char *v, const cg_incident *inc)
{
    char a[64];
    int in = 0, out = 0;
    for (int side = 0; side < 2; side++) {
        const uint8_t *ad = side ? inc->dst : inc->src;
        const cg_incident_geo *g = side ? &inc->dst_geo : &inc->src_geo;
        cg_cli_addr(ad, a, sizeof a);
        if (!strcmp(a, v)) {
            if (side_internal(ad, g))
                in = 1;
            else
                out = 1;
        }
    }
    return in && !out;
}

static void check(const char *text, size_t len, const cg_incident *incs, int n, unsigned allow)
{
    json_tokener *tok = json_tokener_new();
    json_object *b, *objs;

    if (!tok)
        return;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    b = json_tokener_parse_ex(tok, text, (int)len);
    if (!b || json_tokener_get_error(tok) != json_tokener_success) {
        fprintf(stderr, "not JSON: %s\n%.*s\n",
                json_tokener_error_desc(json_tokener_get_error(tok)), (int)len, text);
        abort();
    }
    if (!json_object_object_get_ex(b, "objects", &objs) ||
        !json_object_is_type(objs, json_type_array))
        abort();
    for (size_t i = 0; i < json_object_array_length(objs); i++) {
        json_object *o = json_object_array_get_idx(objs, i), *t, *id, *v, *ext;
        const char *type;
        if (!json_object_object_get_ex(o, "type", &t) || !json_object_object_get_ex(o, "id", &id))
            abort();
        type = json_object_get_string(t);
        if ((!strcmp(type, "ipv4-addr") || !strcmp(type, "ipv6-addr")) &&
            json_object_object_get_ex(o, "value", &v) && !(allow & CG_SHARE_INTERNAL))
            for (int k = 0; k < n; k++)
                if (is_internal_value(json_object_get_string(v), &incs[k])) {
                    fprintf(stderr, "internal address shared: %s\n", json_object_get_string(v));
                    abort();
                }
        if (!strcmp(type, "url") && !(allow & CG_SHARE_PAYLOAD))
            abort();
        if (!strcmp(type, "indicator") && json_object_object_get_ex(o, "name", &v))
            for (int k = 0; k < n; k++)
                if (is_internal_value(json_object_get_string(v), &incs[k])) {
                    fprintf(stderr, "internal address as an indicator: %s\n",
                            json_object_get_string(v));
                    abort();
                }
        if (!strcmp(type, "incident") && json_object_object_get_ex(o, "extensions", &v) &&
            json_object_object_get_ex(v, CG_STIX_EXT_ID, &ext)) {
            static const char *const agency[] = { "src_agency", "dst_agency", "src_zone",
                                                  "dst_zone" };
            static const char *const payload[] = { "http_url", "http_user_agent", "http_method",
                                                   "payload_base64" };
            for (int k = 0; k < 4; k++) {
                if (!(allow & CG_SHARE_AGENCY) && json_object_object_get_ex(ext, agency[k], NULL))
                    abort();
                if (!(allow & CG_SHARE_PAYLOAD) && json_object_object_get_ex(ext, payload[k], NULL))
                    abort();
            }
            if (!(allow & CG_SHARE_INTERNAL) &&
                json_object_object_get_ex(ext, "community_id", NULL)) {
                json_object *iid;
                int64_t want = json_object_object_get_ex(ext, "incident_id", &iid)
                    ? json_object_get_int64(iid)
                    : -1;
                for (int k = 0; k < n; k++)
                    if ((int64_t)incs[k].id == want &&
                        (side_internal(incs[k].src, &incs[k].src_geo) ||
                         side_internal(incs[k].dst, &incs[k].dst_geo)))
                        abort();
            }
        }
    }
    json_object_put(b);
    json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p, *end = data + size;
    const char *str[NSTR];
    cg_incident inc[2];
    cg_stix_bundle b;
    char *text = NULL;
    size_t len = 0;
    unsigned allow;
    FILE *f;

    if (size < 38)
        return 0;
    allow = data[0] & 7;
    memset(inc, 0, sizeof inc);
    memcpy(inc[0].src, data + 1, 16);
    memcpy(inc[0].dst, data + 17, 16);
    if (data[0] & 0x80) {
        for (int s = 0; s < 2; s++) {
            uint8_t *a = s ? inc[0].dst : inc[0].src;
            memset(a, 0, 10);
            a[10] = a[11] = 0xff;
        }
    }
    inc[0].proto = data[33];
    inc[0].sport = (uint16_t)(data[34] << 8 | data[35]);
    inc[0].dport = (uint16_t)(data[36] << 8 | data[37]);
    p = data + 38;
    for (int i = 0; i < NSTR; i++)
        str[i] = next_str(&p, end);
    inc[0].id = 1;
    inc[0].gid = 1, inc[0].sid = 9100101, inc[0].rev = 1;
    inc[0].severity = (uint8_t)(data[33] % 5);
    inc[0].layers = 0x0f;
    inc[0].status = (uint8_t)(data[34] % CG_ST_COUNT);
    inc[0].first_us = 1763856000000000ull;
    inc[0].last_us = inc[0].first_us + data[35];
    inc[0].count = data[36];
    inc[0].msg = str[0], inc[0].classtype = str[1];
    inc[0].src_geo.agency = str[2], inc[0].src_geo.zone = str[3];
    inc[0].dst_geo.agency = str[4], inc[0].dst_geo.zone = str[5];
    inc[0].src_geo.city = inc[0].src_geo.as_org = inc[0].dst_geo.city = inc[0].dst_geo.as_org = "";
    inc[0].http_host = str[6], inc[0].http_url = str[7], inc[0].http_user_agent = str[8];
    inc[0].http_method = str[9], inc[0].dns_query = str[10], inc[0].tls_sni = str[11];
    inc[0].community_id = str[12], inc[0].app_proto = str[13], inc[0].tls_ja3 = str[14];
    inc[0].assignee = inc[0].geo_db_type = inc[0].geo_db_date = "";
    inc[0].payload = p;
    inc[0].payload_len = (uint32_t)((size_t)(end - p) > CG_STORE_PAYLOAD_MAX ? CG_STORE_PAYLOAD_MAX
                                                                             : (size_t)(end - p));
    inc[0].payload_match = inc[0].payload_len / 2;
    /* the second: the strings moved one place (host as the DNS question,
     * ...), the sides swapped unless bit 6 keeps them */
    inc[1] = inc[0];
    inc[1].id = 2;
    inc[1].http_host = str[10], inc[1].dns_query = str[6], inc[1].tls_sni = str[7];
    inc[1].http_url = str[11];
    if (!(data[0] & 0x40)) {
        memcpy(inc[1].src, inc[0].dst, 16);
        memcpy(inc[1].dst, inc[0].src, 16);
        inc[1].src_geo = inc[0].dst_geo;
        inc[1].dst_geo = inc[0].src_geo;
    }

    if (!(f = open_memstream(&text, &len)))
        return 0;
    if (cg_stix_bundle_init(&b, f, "C\xc3\xb4ng an t\xe1\xbb\x89nh", (data[0] >> 3 & 7) % 5, allow,
                            1796630400000000ull) == 0) {
        cg_stix_bundle_head(&b, "bundle--00000000-0000-4000-8000-000000000000");
        cg_stix_bundle_incident(&inc[0], &b);
        cg_stix_bundle_incident(&inc[1], &b);
        cg_stix_bundle_tail(&b);
    }
    fclose(f);
    if (!b.err)
        check(text, len, inc, 2, allow);
    cg_stix_bundle_free(&b);
    free(text);
    return 0;
}
