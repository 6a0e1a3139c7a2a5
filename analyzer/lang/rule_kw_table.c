/* rule_kw_table.c — the table of a rule's option keywords: each name, the
 * argument it takes and its handler, sorted by name for a binary search.
 * Adding a keyword is adding a row here and its handler in a rule_kw*.c
 * file; rule.c looks each option up here.
 */
#include "analyzer/lang/rule_kw.h"

#include <string.h>

/* ---- the keyword table ---------------------------------------------------- */

/* Sorted by name (strcmp order): looked up by binary search. */
static const cg_rule_kw keywords[] = {
    { "app-layer-event", CG_ARG_REQ, cg_kw_app_layer_event },
    { "app-layer-protocol", CG_ARG_REQ, cg_kw_app_layer_protocol },
    { "base64_data", CG_ARG_NONE, cg_kw_base64_data },
    { "base64_decode", CG_ARG_OPT, cg_kw_base64_decode },
    { "bsize", CG_ARG_REQ, cg_kw_bsize },
    { "byte_extract", CG_ARG_REQ, cg_kw_byte_extract },
    { "byte_jump", CG_ARG_REQ, cg_kw_byte_jump },
    { "byte_test", CG_ARG_REQ, cg_kw_byte_test },
    { "classtype", CG_ARG_REQ, cg_kw_classtype },
    { "compress_whitespace", CG_ARG_NONE, cg_kw_transform },
    { "content", CG_ARG_REQ, cg_kw_content },
    { "depth", CG_ARG_REQ, cg_kw_depth },
    { "detection_filter", CG_ARG_REQ, cg_kw_detection_filter },
    { "distance", CG_ARG_REQ, cg_kw_distance },
    { "dns.opcode", CG_ARG_REQ, cg_kw_dns_opcode },
    { "dns.query", CG_ARG_NONE, cg_kw_sticky },
    { "dns_query", CG_ARG_NONE, cg_kw_sticky },
    { "dotprefix", CG_ARG_NONE, cg_kw_transform },
    { "dsize", CG_ARG_REQ, cg_kw_dsize },
    { "endswith", CG_ARG_NONE, cg_kw_endswith },
    { "fast_pattern", CG_ARG_OPT, cg_kw_fast_pattern },
    { "file.data", CG_ARG_NONE, cg_kw_sticky },
    { "file_data", CG_ARG_NONE, cg_kw_sticky },
    { "flags", CG_ARG_REQ, cg_kw_flags },
    { "flow", CG_ARG_REQ, cg_kw_flow },
    { "flowbits", CG_ARG_REQ, cg_kw_flowbits },
    { "flowint", CG_ARG_REQ, cg_kw_flowint },
    { "gid", CG_ARG_REQ, cg_kw_gid },
    { "http.accept", CG_ARG_NONE, cg_kw_sticky },
    { "http.accept_enc", CG_ARG_NONE, cg_kw_sticky },
    { "http.accept_lang", CG_ARG_NONE, cg_kw_sticky },
    { "http.connection", CG_ARG_NONE, cg_kw_sticky },
    { "http.content_len", CG_ARG_NONE, cg_kw_sticky },
    { "http.content_type", CG_ARG_NONE, cg_kw_sticky },
    { "http.cookie", CG_ARG_NONE, cg_kw_sticky },
    { "http.header", CG_ARG_NONE, cg_kw_sticky },
    { "http.header.raw", CG_ARG_NONE, cg_kw_sticky },
    { "http.header_names", CG_ARG_NONE, cg_kw_sticky },
    { "http.host", CG_ARG_NONE, cg_kw_sticky },
    { "http.host.raw", CG_ARG_NONE, cg_kw_sticky },
    { "http.location", CG_ARG_NONE, cg_kw_sticky },
    { "http.method", CG_ARG_NONE, cg_kw_sticky },
    { "http.protocol", CG_ARG_NONE, cg_kw_sticky },
    { "http.referer", CG_ARG_NONE, cg_kw_sticky },
    { "http.request_body", CG_ARG_NONE, cg_kw_sticky },
    { "http.request_line", CG_ARG_NONE, cg_kw_sticky },
    { "http.response_body", CG_ARG_NONE, cg_kw_sticky },
    { "http.response_line", CG_ARG_NONE, cg_kw_sticky },
    { "http.server", CG_ARG_NONE, cg_kw_sticky },
    { "http.start", CG_ARG_NONE, cg_kw_sticky },
    { "http.stat_code", CG_ARG_NONE, cg_kw_sticky },
    { "http.stat_msg", CG_ARG_NONE, cg_kw_sticky },
    { "http.uri", CG_ARG_NONE, cg_kw_sticky },
    { "http.uri.raw", CG_ARG_NONE, cg_kw_sticky },
    { "http.user_agent", CG_ARG_NONE, cg_kw_sticky },
    { "http_accept", CG_ARG_NONE, cg_kw_sticky },
    { "http_accept_enc", CG_ARG_NONE, cg_kw_sticky },
    { "http_accept_lang", CG_ARG_NONE, cg_kw_sticky },
    { "http_client_body", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_connection", CG_ARG_NONE, cg_kw_sticky },
    { "http_content_len", CG_ARG_NONE, cg_kw_sticky },
    { "http_content_type", CG_ARG_NONE, cg_kw_sticky },
    { "http_cookie", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_header", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_header_names", CG_ARG_NONE, cg_kw_sticky },
    { "http_host", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_method", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_protocol", CG_ARG_NONE, cg_kw_sticky },
    { "http_raw_header", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_raw_host", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_raw_uri", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_referer", CG_ARG_NONE, cg_kw_sticky },
    { "http_request_line", CG_ARG_NONE, cg_kw_sticky },
    { "http_response_line", CG_ARG_NONE, cg_kw_sticky },
    { "http_server_body", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_start", CG_ARG_NONE, cg_kw_sticky },
    { "http_stat_code", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_stat_msg", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_uri", CG_ARG_NONE, cg_kw_legacy_mod },
    { "http_user_agent", CG_ARG_NONE, cg_kw_legacy_mod },
    { "icode", CG_ARG_REQ, cg_kw_icode },
    { "ip_proto", CG_ARG_REQ, cg_kw_ip_proto },
    { "isdataat", CG_ARG_REQ, cg_kw_isdataat },
    { "itype", CG_ARG_REQ, cg_kw_itype },
    { "ja3.hash", CG_ARG_NONE, cg_kw_sticky },
    { "ja3.string", CG_ARG_NONE, cg_kw_sticky },
    { "ja3_hash", CG_ARG_NONE, cg_kw_sticky },
    { "ja3_string", CG_ARG_NONE, cg_kw_sticky },
    { "ja3s.hash", CG_ARG_NONE, cg_kw_sticky },
    { "ja3s.string", CG_ARG_NONE, cg_kw_sticky },
    { "ja3s_hash", CG_ARG_NONE, cg_kw_sticky },
    { "ja3s_string", CG_ARG_NONE, cg_kw_sticky },
    { "metadata", CG_ARG_REQ, cg_kw_metadata },
    { "msg", CG_ARG_REQ, cg_kw_msg },
    { "noalert", CG_ARG_NONE, cg_kw_noalert },
    { "nocase", CG_ARG_NONE, cg_kw_nocase },
    { "offset", CG_ARG_REQ, cg_kw_offset },
    { "pcre", CG_ARG_REQ, cg_kw_pcre },
    { "pkt_data", CG_ARG_NONE, cg_kw_pkt_data },
    { "priority", CG_ARG_REQ, cg_kw_priority },
    { "rawbytes", CG_ARG_NONE, cg_kw_rawbytes },
    { "reference", CG_ARG_REQ, cg_kw_reference },
    { "rev", CG_ARG_REQ, cg_kw_rev },
    { "sid", CG_ARG_REQ, cg_kw_sid },
    { "startswith", CG_ARG_NONE, cg_kw_startswith },
    { "stream_size", CG_ARG_REQ, cg_kw_stream_size },
    { "strip_whitespace", CG_ARG_NONE, cg_kw_transform },
    { "tag", CG_ARG_REQ, cg_kw_tag },
    { "target", CG_ARG_REQ, cg_kw_target },
    { "threshold", CG_ARG_REQ, cg_kw_threshold },
    { "tls.cert_issuer", CG_ARG_NONE, cg_kw_sticky },
    { "tls.cert_serial", CG_ARG_NONE, cg_kw_sticky },
    { "tls.cert_subject", CG_ARG_NONE, cg_kw_sticky },
    { "tls.certs", CG_ARG_NONE, cg_kw_sticky },
    { "tls.sni", CG_ARG_NONE, cg_kw_sticky },
    { "tls.version", CG_ARG_REQ, cg_kw_tls_version },
    { "tls_cert_issuer", CG_ARG_NONE, cg_kw_sticky },
    { "tls_cert_serial", CG_ARG_NONE, cg_kw_sticky },
    { "tls_cert_subject", CG_ARG_NONE, cg_kw_sticky },
    { "tls_sni", CG_ARG_NONE, cg_kw_sticky },
    { "to_lowercase", CG_ARG_NONE, cg_kw_transform },
    { "to_uppercase", CG_ARG_NONE, cg_kw_transform },
    { "ttl", CG_ARG_REQ, cg_kw_ttl },
    { "uricontent", CG_ARG_REQ, cg_kw_uricontent },
    { "urilen", CG_ARG_REQ, cg_kw_urilen },
    { "url_decode", CG_ARG_NONE, cg_kw_transform },
    { "within", CG_ARG_REQ, cg_kw_within },
    { "xbits", CG_ARG_REQ, cg_kw_xbits },
};

int cg_rule_kw_table_sorted(void)
{
    for (size_t i = 1; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(keywords[i - 1].name, keywords[i].name) >= 0)
            return 0;
    return 1;
}

const cg_rule_kw *cg_rule_kw_find(const char *name, size_t len)
{
    size_t lo = 0, hi = sizeof keywords / sizeof keywords[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *k = keywords[mid].name;
        size_t kl = strlen(k);
        int c = memcmp(name, k, len < kl ? len : kl);
        if (c == 0)
            c = len < kl ? -1 : len > kl;
        if (c == 0)
            return &keywords[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
