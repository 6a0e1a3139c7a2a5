/* test_stix.c — tools/stix.h: UUIDv5 (RFC 4122 §4.3) against known answers,
 * STIX 2.1 deterministic SCO ids, RFC 8785 string escaping, STIX pattern
 * string escaping, timestamps, the TLP 2.0 table and the internal ranges.
 *
 * Known answers: uuid5(NAMESPACE_DNS, "python.org") is the one Python's
 * uuid documentation prints; the SCO ids are those Python's uuid.uuid5 gives
 * for json.dumps({"value": V}, separators=(",", ":"), ensure_ascii=False) in
 * the STIX namespace (an implementation of its own, the one
 * validate_stix.py checks bundles with).
 * (It includes tools/stix.c: the tests link the library only.)
 */
#include "tools/stix.c"

#include <arpa/inet.h>

#include "tests/check.h"

static const char *sco(const char *type, const char *v, char *buf, size_t len)
{
    return cg_stix_value_id(type, v, buf, len) == 0 ? buf : NULL;
}

int main(void)
{
    char u[CG_STIX_UUID_LEN], buf[512];
    uint8_t dns[16], back[16];

    /* RFC 4122's DNS namespace, 6ba7b810-9dad-11d1-80b4-00c04fd430c8 */
    CHECK(cg_stix_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8", dns) == 0);
    CHECK(cg_stix_uuid5(dns, "python.org", 10, u) == 0);
    CHECK_STR(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    CHECK(cg_stix_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", back) == 0);
    CHECK(memcmp(back, cg_stix_ns, 16) == 0);
    CHECK(cg_stix_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b", back) == -1);
    CHECK(cg_stix_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b77", back) == -1);
    CHECK(cg_stix_uuid_parse("00abedb4aa42-466c-9c01-fed23315a9b7", back) == -1);
    CHECK(cg_stix_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9bg", back) == -1);

    /* deterministic SCO ids (STIX 2.1 §2.9) */
    CHECK_STR(sco("ipv4-addr", "203.0.113.7", buf, sizeof buf),
              "ipv4-addr--9ddd739e-87b1-587d-83f2-62ef1130af2f");
    CHECK_STR(sco("domain-name", "x.example", buf, sizeof buf),
              "domain-name--094a2c37-02ce-55f1-ab27-efc33bb2e451");
    CHECK_STR(sco("ipv6-addr", "2001:db8::1", buf, sizeof buf),
              "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26");
    CHECK_STR(sco("url", "it's\\a\"b", buf, sizeof buf),
              "url--6a4cf0c3-0272-5790-a8bb-caa54ac34944");
    CHECK_STR(sco("domain-name", "C\xc3\xb4ng an", buf, sizeof buf), /* "Công an" */
              "domain-name--25eec6a5-3cef-59aa-9148-122c176ae64b");
    CHECK_STR(sco("url", "tab\there", buf, sizeof buf),
              "url--3a9bae76-74da-5a13-b31d-2cf72fab1f13");
    CHECK(cg_stix_value_id("ipv4-addr", "203.0.113.7", buf, 20) == -1);

    /* RFC 8785 strings */
    CHECK(cg_stix_jcs_str("a\"b\\c\n\x01/\xc3\xb4", buf, sizeof buf) > 0);
    CHECK_STR(buf, "\"a\\\"b\\\\c\\n\\u0001/\xc3\xb4\"");
    CHECK(cg_stix_jcs_str("abc", buf, 5) == -1);
    CHECK(cg_stix_jcs_str("abc", buf, 6) == 5);

    /* pattern strings: ' and \ escaped */
    CHECK(cg_stix_pattern_str("o'brien\\x.example", buf, sizeof buf) == 19);
    CHECK_STR(buf, "o\\'brien\\\\x.example");
    CHECK(cg_stix_pattern_str("/a?b='1'", buf, sizeof buf) == 10);
    CHECK_STR(buf, "/a?b=\\'1\\'");
    CHECK(cg_stix_pattern_str("''", buf, 4) == -1);
    CHECK(cg_stix_pattern_str("''", buf, 5) == 4);
    CHECK(cg_stix_pattern_str("", buf, 1) == 0);

    /* timestamps */
    cg_stix_time(1796630400123456ull, buf);
    CHECK_STR(buf, "2026-12-07T08:00:00.123Z");
    cg_stix_time(0, buf);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");

    /* TLP 2.0 */
    CHECK(cg_stix_tlp_find("amber") == 2);
    CHECK(cg_stix_tlp_find("AMBER+STRICT") == 3);
    CHECK(cg_stix_tlp_find("TLP:RED") == 4);
    CHECK(cg_stix_tlp_find("white") == -1);
    CHECK(cg_stix_tlp_find("amber strict") == -1);
    CHECK(cg_stix_tlp_find(NULL) == -1);
    CHECK_STR(cg_stix_tlp_id(0), "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
    CHECK_STR(cg_stix_tlp_id(1), "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
    CHECK_STR(cg_stix_tlp_id(2), "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
    CHECK_STR(cg_stix_tlp_id(3), "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
    CHECK_STR(cg_stix_tlp_id(4), "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1");
    CHECK_STR(cg_stix_tlp_label(3), "TLP:AMBER+STRICT");
    CHECK(cg_stix_tlp_id(5) == NULL);

    /* internal ranges */
    {
        static const struct {
            const char *a;
            int priv;
        } cases[] = {
            { "10.20.1.5", 1 },   { "172.16.0.1", 1 },   { "172.31.255.255", 1 },
            { "172.32.0.1", 0 },  { "192.168.1.1", 1 },  { "192.169.1.1", 0 },
            { "127.0.0.1", 1 },   { "169.254.10.1", 1 }, { "0.0.0.0", 1 },
            { "203.0.113.7", 0 }, { "8.8.8.8", 0 },      { "::1", 1 },
            { "::", 1 },          { "fe80::1", 1 },      { "fd12:3456::1", 1 },
            { "fc00::1", 1 },     { "2001:db8::1", 0 },  { "fec0::1", 0 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            uint8_t a[16] = { 0 };
            struct in6_addr a6;
            if (strchr(cases[i].a, ':')) {
                CHECK(inet_pton(AF_INET6, cases[i].a, &a6) == 1);
                memcpy(a, &a6, 16);
            } else {
                a[10] = a[11] = 0xff;
                CHECK(inet_pton(AF_INET, cases[i].a, a + 12) == 1);
            }
            if (cg_stix_addr_private(a) != cases[i].priv)
                fprintf(stderr, "internal range: %s\n", cases[i].a);
            CHECK(cg_stix_addr_private(a) == cases[i].priv);
        }
    }

    {
        char a[CG_STIX_UUID_LEN], b[CG_STIX_UUID_LEN];
        CHECK(cg_stix_uuid4(a) == 0 && cg_stix_uuid4(b) == 0);
        CHECK(strcmp(a, b) != 0);
        CHECK(a[14] == '4' && strchr("89ab", a[19]) != NULL);
    }
    return check_done("test_stix");
}
