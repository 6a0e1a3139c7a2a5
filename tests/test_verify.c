/* test_verify.c — verification of parsed rules against buffers, packets and
 * flows (verify.h): isdataat, byte_test, byte_jump, byte_extract, bsize,
 * urilen, transforms, sticky buffers and legacy modifiers, multi-instance
 * buffers, groups that keep their own cursor, payload versus stream,
 * flowbits, flags, itype/icode/ttl/ip_proto, stream_size,
 * app-layer-protocol, tls.version, dns.opcode, base64_decode and base64_data,
 * flowint.
 *
 * Expected results come from Suricata's user guide (docs.suricata.io, "Payload
 * Keywords", "Transformations", "HTTP Keywords", "Flow Keywords", "Multiple
 * Buffer Matching", header keywords): its worked examples where it gives
 * them (the isdataat tables, the bsize, dotprefix, urilen and multi-buffer
 * examples), otherwise a buffer built by hand for the rule and the
 * documented meaning of each keyword. Where the guide is silent the comment
 * names the behaviour of Suricata's engine being followed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/lang/rule.h"
#include "analyzer/engine/verify.h"
#include "tests/check.h"

static cg_ruleset *rs;
static cg_verify_ctx vc;
static uint32_t next_sid = 9101000;

/* Parses "alert ... (OPTIONS sid:N;)" with the given header. */
static const cg_rule *rule_h(const char *head, const char *opts)
{
    char text[2048], err[512];
    uint32_t n;
    snprintf(text, sizeof text, "%s (%s sid:%u;)", head, opts, next_sid++);
    if (cg_ruleset_add_rule(rs, text, err, sizeof err) != 0) {
        fprintf(stderr, "rule did not load: %s\n  %s\n", err, text);
        CHECK(!"rule loads");
        return NULL;
    }
    const cg_rule *r = cg_ruleset_rules(rs, &n);
    return &r[n - 1];
}

static const cg_rule *rule(const char *opts)
{
    return rule_h("alert tcp any any -> any any", opts);
}

/* The rule against one buffer holding s[0..len). */
static int on_n(const cg_rule *r, int buf, const void *s, size_t len)
{
    cg_bufset bs;
    if (!r)
        return -1;
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, buf, s, (uint32_t)len);
    return cg_verify_rule(&vc, r, &bs);
}

static int on(const cg_rule *r, int buf, const char *s)
{
    return on_n(r, buf, s, strlen(s));
}
static int pl(const cg_rule *r, const char *s)
{
    return on(r, CG_BUF_PAYLOAD, s);
}
static int pln(const cg_rule *r, const void *s, size_t n)
{
    return on_n(r, CG_BUF_PAYLOAD, s, n);
}

#define YES(x) CHECK_EQ_U((x), 1)
#define NO(x) CHECK_EQ_U((x), 0)

/* ---- isdataat ---------------------------------------------------------------- */

static void test_isdataat(void)
{
    /* The guide's 32-byte payload: absolute needs offset < size, relative
     * offset <= size. */
    char p32[33];
    memset(p32, 'x', 32);
    p32[32] = 0;
    YES(pl(rule("isdataat:31;"), p32));
    NO(pl(rule("isdataat:32;"), p32));
    YES(pl(rule("isdataat:31,relative;"), p32));
    YES(pl(rule("isdataat:32,relative;"), p32));
    NO(pl(rule("isdataat:33,relative;"), p32));
    /* and its "abcdefgh" table */
    YES(pl(rule("isdataat:7;"), "abcdefgh"));
    NO(pl(rule("isdataat:8;"), "abcdefgh"));
    YES(pl(rule("isdataat:7,relative;"), "abcdefgh"));
    YES(pl(rule("isdataat:8,relative;"), "abcdefgh"));
    NO(pl(rule("isdataat:9,relative;"), "abcdefgh"));
    YES(pl(rule("content:\"c\"; isdataat:4,relative;"), "abcdefgh"));
    YES(pl(rule("content:\"c\"; isdataat:5,relative;"), "abcdefgh"));
    NO(pl(rule("content:\"c\"; isdataat:6,relative;"), "abcdefgh"));
    /* negation */
    YES(pl(rule("isdataat:!8;"), "abcdefgh"));
    NO(pl(rule("isdataat:!7;"), "abcdefgh"));
    NO(pl(rule("content:\"c\"; isdataat:!5,relative;"), "abcdefgh"));
    YES(pl(rule("content:\"c\"; isdataat:!6,relative;"), "abcdefgh"));
    /* endswith is "isdataat:!1,relative" after the content */
    const cg_rule *r = rule("content:\".php\"; isdataat:!1,relative;");
    YES(pl(r, "/a.php"));
    NO(pl(r, "/a.php?x=1"));
    YES(pl(r, "/a.php?x=.php")); /* a later occurrence is tried */
    /* rawbytes is accepted and changes nothing */
    YES(pl(rule("isdataat:3,rawbytes;"), "abcd"));
}

/* ---- byte_test ----------------------------------------------------------------- */

static void test_byte_test(void)
{
    static const uint8_t p[] = { 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x12, 0x34 };
    /* the guide's examples on content |00 01 00 02| */
    YES(pln(rule("content:\"|00 01 00 02|\"; byte_test:2,=,0x01,0;"), p, sizeof p));
    YES(pln(rule("content:\"|00 01 00 02|\"; byte_test:2,=,0x03,0,relative;"), p, sizeof p));
    NO(pln(rule("content:\"|00 01 00 02|\"; byte_test:2,=,0x03,2;"), p, sizeof p));
    YES(pln(rule("content:\"|00 01 00 02|\"; byte_test:2,!=,0x06,0;"), p, sizeof p));
    NO(pln(rule("content:\"|00 01 00 02|\"; byte_test:2,!=,0x01,0;"), p, sizeof p));
    /* little endian reads the low byte first: 00 03 is 0x0300 */
    YES(pln(rule("content:\"|00 02|\"; byte_test:2,=,768,0,relative,little;"), p, sizeof p));
    YES(pln(rule("byte_test:2,=,0x1234,6,big;"), p, sizeof p));
    NO(pln(rule("byte_test:4,=,0x00031234,4,little;"), p, sizeof p)); /* that is big endian */
    YES(pln(rule("byte_test:4,=,0x34120300,4,little;"), p, sizeof p));
    /* operators */
    YES(pln(rule("byte_test:1,>,0x11,6;"), p, sizeof p));
    NO(pln(rule("byte_test:1,>,0x12,6;"), p, sizeof p));
    YES(pln(rule("byte_test:1,>=,0x12,6;"), p, sizeof p));
    YES(pln(rule("byte_test:1,<,0x13,6;"), p, sizeof p));
    YES(pln(rule("byte_test:1,<=,0x12,6;"), p, sizeof p));
    NO(pln(rule("byte_test:1,<,0x12,6;"), p, sizeof p));
    YES(pln(rule("byte_test:1,&,0x02,6;"), p, sizeof p)); /* 0x12 & 0x02 */
    NO(pln(rule("byte_test:1,&,0x01,6;"), p, sizeof p));
    YES(pln(rule("byte_test:1,!&,0x01,6;"), p, sizeof p)); /* negated AND */
    YES(pln(rule("byte_test:1,^,0x10,6;"), p, sizeof p));  /* 0x12 ^ 0x10 != 0 */
    NO(pln(rule("byte_test:1,^,0x12,6;"), p, sizeof p));
    YES(pln(rule("byte_test:1,!>,0x12,6;"), p, sizeof p));
    /* bitmask: AND, then shift right by the mask's trailing zeros */
    YES(pln(rule("byte_test:2,=,0x2,6,bitmask 0x0f00;"), p, sizeof p)); /* 0x1234&0x0f00=0x200>>8 */
    NO(pln(rule("byte_test:2,=,0x200,6,bitmask 0x0f00;"), p, sizeof p));
    /* reading past the end, before the start */
    NO(pln(rule("byte_test:2,=,0x34,7;"), p, sizeof p));
    NO(pln(rule("content:\"|12 34|\"; byte_test:1,>,0,0,relative;"), p, sizeof p));
    NO(pln(rule("byte_test:1,=,0,-1;"), p, sizeof p));
    NO(pl(rule("byte_test:1,=,0,0;"), ""));
    /* string forms (the guide: "foobar" then a decimal one byte after it) */
    const cg_rule *r = rule("content:\"foobar\"; byte_test:4,=,1337,1,relative,string,dec;");
    YES(pl(r, "xxfoobar 1337"));
    NO(pl(r, "xxfoobar 1338"));
    YES(pl(rule("byte_test:2,=,255,4,string,hex;"), "len=ff;"));
    YES(pl(rule("byte_test:2,=,255,4,string,hex;"), "len=FF;"));
    YES(pl(rule("byte_test:3,=,8,0,string,oct;"), "010"));
    YES(pl(rule("byte_test:4,=,12,0,string,dec;"), "12ab")); /* strtoull stops at 'a' */
    NO(pl(rule("byte_test:2,=,0,0,string,dec;"), "ab"));     /* no number: no match */
    NO(pl(rule("byte_test:5,<,100,0,string,dec;"), "12"));   /* 5 bytes not there */
    /* 0 characters with string: the whole number (the guide's
     * http.content_len example with byte_test:0,>=,8079,0,string,dec) */
    r = rule_h("alert http any any -> any any",
               "http.content_len; byte_test:0,>=,8079,0,string,dec;");
    YES(on(r, CG_BUF_HTTP_CONTENT_LEN, "8079"));
    YES(on(r, CG_BUF_HTTP_CONTENT_LEN, "123456"));
    NO(on(r, CG_BUF_HTTP_CONTENT_LEN, "8078"));
    NO(on(r, CG_BUF_HTTP_CONTENT_LEN, "x"));
}

/* ---- byte_jump --------------------------------------------------------------- */

static void test_byte_jump(void)
{
    /* "multiple jumps": 00 02 jumps over 2 bytes (from the end of the 2 read),
     * then 00 01 over 1, and foobar starts there */
    static const uint8_t p[] = {
        0x00, 0x02, 'A', 'A', 0x00, 0x01, 'B', 'f', 'o', 'o', 'b', 'a', 'r'
    };
    const cg_rule *r = rule("byte_jump:2,0; byte_jump:2,0,relative; content:\"foobar\"; "
                            "distance:0; within:6;");
    YES(pln(r, p, sizeof p));
    NO(pln(rule("byte_jump:2,0; byte_jump:2,0,relative; content:\"foobar\"; distance:1; "
                "within:6;"),
           p, sizeof p));
    /* "from the end -8 bytes" */
    r = rule("byte_jump:0,0,from_end,post_offset -8; content:\"|6c 33 33 74|\"; distance:0; "
             "within:4;");
    YES(pl(r, "prefix--l33t1234"));
    NO(pl(r, "prefix-l33t12345"));
    /* from_beginning: the value is an offset from the start */
    static const uint8_t q[] = { 'h', 'd', 0x05, 'x', 'x', 'Z', 'y' };
    YES(pln(rule("content:\"hd\"; byte_jump:1,0,relative,from_beginning; content:\"Z\"; "
                 "within:1;"),
            q, sizeof q));
    /* without from_beginning the same byte jumps from after itself: 3 + 5 = 8,
     * past the end */
    NO(pln(rule("content:\"hd\"; byte_jump:1,0,relative; content:\"Z\"; within:1;"), q, sizeof q));
    /* multiplier */
    static const uint8_t m[] = { 0x02, 'a', 'b', 'c', 'd', 'Q', 'z' };
    YES(pln(rule("byte_jump:1,0,multiplier 2; content:\"Q\"; within:1;"), m, sizeof m));
    NO(pln(rule("byte_jump:1,0; content:\"Q\"; within:1;"), m, sizeof m));
    /* align rounds up to a multiple of 4: 1 -> 4 */
    static const uint8_t a[] = { 0x01, 'a', 'b', 'c', 'd', 'Q', 'z' };
    YES(pln(rule("byte_jump:1,0,align; content:\"Q\"; within:1;"), a, sizeof a));
    NO(pln(rule("byte_jump:1,0,align; content:\"b\"; within:1;"), a, sizeof a));
    /* post_offset after the jump */
    YES(pln(rule("byte_jump:1,0,post_offset 3; content:\"Q\"; within:1;"), a, sizeof a));
    YES(pln(rule("byte_jump:1,0,post_offset -1; content:\"a\"; within:1;"), a, sizeof a));
    /* string value */
    YES(pl(rule("byte_jump:2,0,string,dec; content:\"K\"; within:1;"), "03abcK"));
    /* a jump to the end of the buffer or past it fails (Suricata's engine
     * refuses a jump at or beyond the end) */
    NO(pln(rule("byte_jump:1,0;"), (const uint8_t[]){ 0x02, 'a', 'b' }, 3));
    YES(pln(rule("byte_jump:1,0;"), (const uint8_t[]){ 0x01, 'a', 'b' }, 3));
    /* a jump before the start lands on the start (Suricata 7's engine) */
    YES(pl(rule("content:\"ab\"; byte_jump:0,0,relative,post_offset -10; content:\"ab\"; "
                "within:2;"),
           "abcd"));
    /* bitmask before the multiplier: 0x31 & 0x0f = 1, times 2 */
    static const uint8_t b[] = { 0x31, 'a', 'b', 'Q' };
    YES(pln(rule("byte_jump:1,0,bitmask 0x0f,multiplier 2; content:\"Q\"; within:1;"), b,
            sizeof b));
    /* relative without data after the cursor fails */
    NO(pl(rule("content:\"ab\"; byte_jump:1,0,relative;"), "ab"));
}

/* ---- byte_extract -------------------------------------------------------------- */

static void test_byte_extract(void)
{
    /* the guide's "using within": the length byte after |00 FF| bounds the
     * next content */
    const cg_rule *r = rule("content:\"|00 FF|\"; byte_extract:1,0,len,relative; "
                            "content:\"|5c 00|\"; distance:2; within:len;");
    YES(pln(r, (const uint8_t[]){ 0x00, 0xff, 0x05, 'A', 'B', 0x5c, 0x00, 'X' }, 8));
    NO(pln(r, (const uint8_t[]){ 0x00, 0xff, 0x01, 'A', 'B', 0x5c, 0x00, 'X' }, 8));
    /* "comparing bytes": the value read after |00 FF| equals the first two
     * bytes of the buffer */
    r = rule("content:\"|00 FF|\"; byte_extract:2,0,cmp_ver,relative; content:\"FooBar\"; "
             "distance:0; byte_test:2,=,cmp_ver,0;");
    YES(pln(r, (const uint8_t[]){ 0x00, 0xff, 0x00, 0xff, 'F', 'o', 'o', 'B', 'a', 'r' }, 10));
    NO(pln(r, (const uint8_t[]){ 0x00, 0xff, 0x00, 0x07, 'F', 'o', 'o', 'B', 'a', 'r' }, 10));
    /* as distance, offset and depth */
    r = rule("byte_extract:1,0,d; content:\"X\"; distance:d; within:1;");
    YES(pln(r, (const uint8_t[]){ 0x02, 'a', 'b', 'X' }, 4)); /* cursor 1 + 2 */
    NO(pln(r, (const uint8_t[]){ 0x01, 'a', 'b', 'X' }, 4));
    r = rule("byte_extract:1,0,o; content:\"X\"; offset:o; depth:1;");
    YES(pln(r, (const uint8_t[]){ 0x03, 'X', 'b', 'X' }, 4));
    NO(pln(r, (const uint8_t[]){ 0x02, 'b', 'c', 'X' }, 4));
    r = rule("byte_extract:1,0,dp; content:\"X\"; depth:dp;");
    YES(pln(r, (const uint8_t[]){ 0x03, 'a', 'X' }, 3));
    NO(pln(r, (const uint8_t[]){ 0x02, 'a', 'X' }, 3));
    /* the cursor moves past the extracted bytes */
    YES(pln(rule("byte_extract:2,1,v; content:\"Z\"; distance:0; within:1;"),
            (const uint8_t[]){ 'a', 0, 0, 'Z' }, 4));
    /* multiplier, then align (2 or 4) */
    r = rule("byte_extract:1,0,v,multiplier 3,align 4; content:\"Z\"; distance:v; within:1;");
    YES(pln(r, (const uint8_t[]){ 0x01, 'a', 'b', 'c', 'd', 'Z' }, 6)); /* 3 -> 4 */
    YES(pln(rule("byte_extract:1,0,v,little; byte_test:1,=,v,1;"), (const uint8_t[]){ 7, 7 }, 2));
    /* string extraction */
    YES(pl(rule("byte_extract:2,0,n,string,dec; content:\"!\"; distance:n; within:1;"),
           "05abcde!"));
    /* as a byte_test value, a byte_jump size, an isdataat position */
    YES(pln(rule("byte_extract:1,0,n; byte_jump:n,1; content:\"Q\"; within:1;"),
            (const uint8_t[]){ 1, 0, 'Q' }, 3));
    YES(pln(rule("byte_extract:1,0,n; isdataat:n;"), (const uint8_t[]){ 2, 'a', 'b' }, 3));
    NO(pln(rule("byte_extract:1,0,n; isdataat:n;"), (const uint8_t[]){ 3, 'a', 'b' }, 3));
    /* a variable from an earlier buffer */
    r = rule_h("alert http any any -> any any",
               "http.cookie; content:\"n=\"; byte_extract:1,0,n,relative,string; "
               "http.request_body; content:\"x\"; depth:n;");
    cg_bufset bs;
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_COOKIE, (const uint8_t *)"n=3", 3);
    cg_bufset_add(&bs, CG_BUF_HTTP_REQUEST_BODY, (const uint8_t *)"abx", 3);
    YES(cg_verify_rule(&vc, r, &bs));
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_COOKIE, (const uint8_t *)"n=2", 3);
    cg_bufset_add(&bs, CG_BUF_HTTP_REQUEST_BODY, (const uint8_t *)"abx", 3);
    NO(cg_verify_rule(&vc, r, &bs));
}

/* ---- bsize, urilen, transforms ------------------------------------------------ */

static void test_bsize_transforms(void)
{
    /* the guide's bsize examples on dns.query "google.com" (10 bytes) */
    const char *dns = "alert dns any any -> any any";
    YES(on(rule_h(dns, "dns.query; content:\"google.com\"; bsize:10;"), CG_BUF_DNS_QUERY,
           "google.com"));
    NO(on(rule_h(dns, "dns.query; content:\"google.com\"; bsize:10;"), CG_BUF_DNS_QUERY,
          "google.com.x"));
    YES(on(rule_h(dns, "dns.query; content:\"google.com\"; bsize:<25;"), CG_BUF_DNS_QUERY,
           "google.com"));
    YES(on(rule_h(dns, "dns.query; content:\"google.com\"; bsize:<=20;"), CG_BUF_DNS_QUERY,
           "google.com"));
    YES(on(rule_h(dns, "dns.query; content:\"google.com\"; bsize:>8;"), CG_BUF_DNS_QUERY,
           "google.com"));
    YES(on(rule_h(dns, "dns.query; content:\"google.com\"; bsize:>=8;"), CG_BUF_DNS_QUERY,
           "google.com"));
    YES(on(rule_h(dns, "dns.query; content:\"google.com\"; bsize:8<>20;"), CG_BUF_DNS_QUERY,
           "google.com"));
    /* "middle", bsize:6<>15: greater than 6 and less than 15 */
    const cg_rule *r = rule_h(dns, "dns.query; content:\"middle\"; bsize:6<>15;");
    NO(on(r, CG_BUF_DNS_QUERY, "middle"));
    YES(on(r, CG_BUF_DNS_QUERY, "middle1"));
    YES(on(r, CG_BUF_DNS_QUERY, "middle12345678"));
    NO(on(r, CG_BUF_DNS_QUERY, "middle123456789"));
    YES(on(rule_h(dns, "dns.query; bsize:!3;"), CG_BUF_DNS_QUERY, "abcd"));
    YES(on(rule_h(dns, "dns.query; bsize:0;"), CG_BUF_DNS_QUERY, ""));

    /* dotprefix, the guide's examples */
    r = rule_h(dns, "dns.query; dotprefix; content:\".microsoft.com\";");
    YES(on(r, CG_BUF_DNS_QUERY, "windows.update.microsoft.com"));
    YES(on(r, CG_BUF_DNS_QUERY, "maps.microsoft.com.au"));
    NO(on(r, CG_BUF_DNS_QUERY, "windows.update.fakemicrosoft.com"));
    YES(on(r, CG_BUF_DNS_QUERY, "microsoft.com")); /* the dot added in front */
    r = rule_h(dns, "dns.query; dotprefix; content:\".microsoft.com\"; endswith;");
    YES(on(r, CG_BUF_DNS_QUERY, "windows.update.microsoft.com"));
    NO(on(r, CG_BUF_DNS_QUERY, "maps.microsoft.com.au"));
    /* the fast pattern stays valid on the raw buffer: without the dot */
    if (r) {
        CHECK_EQ_U(r->fp_len, 13);
        CHECK(r->fp_bytes && memcmp(r->fp_bytes, "microsoft.com", 13) == 0);
        CHECK_EQ_U(r->fp_buf, CG_BUF_DNS_QUERY);
    }
    /* bsize counts the transformed buffer */
    YES(on(rule_h(dns, "dns.query; dotprefix; content:\".a.b\"; bsize:4;"), CG_BUF_DNS_QUERY,
           "a.b"));

    /* strip_whitespace (the guide's window.navigate example) */
    const char *http = "alert http any any -> any any";
    r = rule_h(http, "file_data; strip_whitespace; content:\"window.navigate(\";");
    YES(on(r, CG_BUF_FILE_DATA, "x = window.navigate  \t (url)"));
    NO(on(r, CG_BUF_FILE_DATA, "window.navigat e"));
    if (r)
        CHECK_EQ_U(r->fp, -1); /* no literal survives the transform */
    /* compress_whitespace: a run of blanks becomes one */
    r = rule_h(http, "file_data; compress_whitespace; content:\"I J\";");
    YES(on(r, CG_BUF_FILE_DATA, "I  \t J"));
    YES(on(r, CG_BUF_FILE_DATA, "I J"));
    NO(on(r, CG_BUF_FILE_DATA, "IJ"));
    /* to_lowercase / to_uppercase */
    r = rule_h(http, "http.uri; to_lowercase; content:\"/admin\";");
    YES(on(r, CG_BUF_HTTP_URI, "/ADMIN/x"));
    YES(on(r, CG_BUF_HTTP_URI, "/aDmIn"));
    if (r)
        CHECK_EQ_U(r->fp_nocase, 1); /* the raw buffer may hold any case */
    YES(on(rule_h(http, "http.uri; to_uppercase; content:\"/ADMIN\";"), CG_BUF_HTTP_URI, "/admin"));
    /* url_decode: %XX and '+'; a '%' without two hex digits stays as it is */
    r = rule_h(http, "http.uri.raw; url_decode; content:\"a b c\";");
    YES(on(r, CG_BUF_HTTP_URI_RAW, "a%20b+c"));
    NO(on(r, CG_BUF_HTTP_URI_RAW, "a%2b+c"));
    YES(on(rule_h(http, "http.uri.raw; url_decode; content:\"%zz%4\"; endswith;"),
           CG_BUF_HTTP_URI_RAW, "x%zz%4"));
    YES(on(rule_h(http, "http.uri.raw; url_decode; content:\"'awesome!'\";"), CG_BUF_HTTP_URI_RAW,
           "is+%27%61wesome%21%27"));
    /* chained: dotprefix then to_lowercase */
    YES(on(rule_h(dns, "dns.query; dotprefix; to_lowercase; content:\".evil.com\"; endswith;"),
           CG_BUF_DNS_QUERY, "WWW.EVIL.COM"));
    /* a buffer too large for the scratch is not matched, and counted */
    size_t big = CG_VERIFY_SCRATCH + 10;
    char *b = malloc(big);
    if (b) {
        memset(b, 'a', big);
        uint64_t before = vc.transform_overflow;
        NO(on_n(rule_h(http, "file_data; to_uppercase; content:\"AAA\";"), CG_BUF_FILE_DATA, b,
                big));
        CHECK_EQ_U(vc.transform_overflow, before + 1);
        YES(on_n(rule_h(http, "file_data; content:\"aaa\";"), CG_BUF_FILE_DATA, b, big));
        free(b);
    }

    /* urilen: the guide's forms; 10<>20 is bigger than 10 and smaller than 20 */
    YES(on(rule_h(http, "urilen:3;"), CG_BUF_HTTP_URI, "/ab"));
    NO(on(rule_h(http, "urilen:3;"), CG_BUF_HTTP_URI, "/abc"));
    YES(on(rule_h(http, "urilen:>1;"), CG_BUF_HTTP_URI, "/a"));
    NO(on(rule_h(http, "urilen:>1;"), CG_BUF_HTTP_URI, "/"));
    YES(on(rule_h(http, "urilen:<10;"), CG_BUF_HTTP_URI, "/a"));
    r = rule_h(http, "urilen:10<>20;");
    NO(on(r, CG_BUF_HTTP_URI, "/123456789"));
    YES(on(r, CG_BUF_HTTP_URI, "/1234567890"));
    NO(on(r, CG_BUF_HTTP_URI, "/1234567890123456789"));
    NO(on(r, CG_BUF_HTTP_URI_RAW, "/1234567890")); /* the normalized uri by default */
    YES(on(rule_h(http, "urilen:5,raw;"), CG_BUF_HTTP_URI_RAW, "/%41b"));
}

/* ---- buffers ------------------------------------------------------------------- */

static void test_buffers(void)
{
    const char *http = "alert http any any -> any any";
    cg_bufset bs;

    /* sticky buffer and its legacy content modifier select the same buffer */
    const cg_rule *a = rule_h(http, "http.uri; content:\"/login\";");
    const cg_rule *b = rule_h(http, "content:\"/login\"; http_uri;");
    const cg_rule *c = rule_h(http, "uricontent:\"/login\";");
    YES(on(a, CG_BUF_HTTP_URI, "/login.php"));
    YES(on(b, CG_BUF_HTTP_URI, "/login.php"));
    YES(on(c, CG_BUF_HTTP_URI, "/login.php"));
    NO(on(a, CG_BUF_PAYLOAD, "GET /login.php HTTP/1.1"));
    NO(on(b, CG_BUF_HTTP_URI_RAW, "/login.php"));
    /* each legacy modifier and its buffer */
    static const struct {
        const char *mod;
        int buf;
    } mods[] = {
        { "http_raw_uri", CG_BUF_HTTP_URI_RAW },
        { "http_method", CG_BUF_HTTP_METHOD },
        { "http_header", CG_BUF_HTTP_HEADER },
        { "http_raw_header", CG_BUF_HTTP_HEADER_RAW },
        { "http_cookie", CG_BUF_HTTP_COOKIE },
        { "http_user_agent", CG_BUF_HTTP_USER_AGENT },
        { "http_host", CG_BUF_HTTP_HOST },
        { "http_raw_host", CG_BUF_HTTP_HOST_RAW },
        { "http_client_body", CG_BUF_HTTP_REQUEST_BODY },
        { "http_server_body", CG_BUF_HTTP_RESPONSE_BODY },
        { "http_stat_code", CG_BUF_HTTP_STAT_CODE },
        { "http_stat_msg", CG_BUF_HTTP_STAT_MSG },
    };
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        char o[128];
        snprintf(o, sizeof o, "content:\"zz\"; %s;", mods[i].mod);
        const cg_rule *r = rule_h(http, o);
        YES(on(r, mods[i].buf, "azzb"));
        NO(on(r, mods[i].buf == CG_BUF_HTTP_URI_RAW ? CG_BUF_HTTP_URI : CG_BUF_HTTP_URI_RAW,
              "azzb"));
        if (r)
            CHECK_EQ_U(r->bufs, 1ull << mods[i].buf);
    }
    /* pcre buffer letters */
    static const struct {
        char l;
        int buf;
    } letters[] = {
        { 'U', CG_BUF_HTTP_URI },          { 'I', CG_BUF_HTTP_URI_RAW },
        { 'P', CG_BUF_HTTP_REQUEST_BODY }, { 'Q', CG_BUF_HTTP_RESPONSE_BODY },
        { 'H', CG_BUF_HTTP_HEADER },       { 'D', CG_BUF_HTTP_HEADER_RAW },
        { 'M', CG_BUF_HTTP_METHOD },       { 'C', CG_BUF_HTTP_COOKIE },
        { 'S', CG_BUF_HTTP_STAT_CODE },    { 'Y', CG_BUF_HTTP_STAT_MSG },
        { 'V', CG_BUF_HTTP_USER_AGENT },   { 'W', CG_BUF_HTTP_HOST },
        { 'Z', CG_BUF_HTTP_HOST_RAW },
    };
    for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++) {
        char o[128];
        snprintf(o, sizeof o, "pcre:\"/^a[0-9]+b/%c\";", letters[i].l);
        const cg_rule *r = rule_h(http, o);
        YES(on(r, letters[i].buf, "a123b"));
        NO(on(r, CG_BUF_PAYLOAD, "a123b"));
    }
    /* a pcre letter does not take the sticky buffer away */
    a = rule_h(http, "http.header; content:\"X-A\"; pcre:\"/^\\/x/U\"; content:\"X-B\";");
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_HEADER, (const uint8_t *)"X-A X-B", 7);
    cg_bufset_add(&bs, CG_BUF_HTTP_URI, (const uint8_t *)"/x", 2);
    YES(cg_verify_rule(&vc, a, &bs));
    NO(on(a, CG_BUF_HTTP_HEADER, "X-A X-B")); /* the uri is needed too */

    /* every sticky buffer name, new and old */
    static const struct {
        const char *kw;
        int buf;
    } sticky[] = {
        { "http.uri", CG_BUF_HTTP_URI },
        { "http.uri.raw", CG_BUF_HTTP_URI_RAW },
        { "http.method", CG_BUF_HTTP_METHOD },
        { "http.protocol", CG_BUF_HTTP_PROTOCOL },
        { "http_protocol", CG_BUF_HTTP_PROTOCOL },
        { "http.request_line", CG_BUF_HTTP_REQUEST_LINE },
        { "http_request_line", CG_BUF_HTTP_REQUEST_LINE },
        { "http.host", CG_BUF_HTTP_HOST },
        { "http.host.raw", CG_BUF_HTTP_HOST_RAW },
        { "http.user_agent", CG_BUF_HTTP_USER_AGENT },
        { "http.header", CG_BUF_HTTP_HEADER },
        { "http.header.raw", CG_BUF_HTTP_HEADER_RAW },
        { "http.header_names", CG_BUF_HTTP_HEADER_NAMES },
        { "http_header_names", CG_BUF_HTTP_HEADER_NAMES },
        { "http.cookie", CG_BUF_HTTP_COOKIE },
        { "http.content_type", CG_BUF_HTTP_CONTENT_TYPE },
        { "http_content_type", CG_BUF_HTTP_CONTENT_TYPE },
        { "http.content_len", CG_BUF_HTTP_CONTENT_LEN },
        { "http_content_len", CG_BUF_HTTP_CONTENT_LEN },
        { "http.referer", CG_BUF_HTTP_REFERER },
        { "http_referer", CG_BUF_HTTP_REFERER },
        { "http.accept", CG_BUF_HTTP_ACCEPT },
        { "http_accept", CG_BUF_HTTP_ACCEPT },
        { "http.accept_enc", CG_BUF_HTTP_ACCEPT_ENC },
        { "http_accept_enc", CG_BUF_HTTP_ACCEPT_ENC },
        { "http.accept_lang", CG_BUF_HTTP_ACCEPT_LANG },
        { "http_accept_lang", CG_BUF_HTTP_ACCEPT_LANG },
        { "http.connection", CG_BUF_HTTP_CONNECTION },
        { "http_connection", CG_BUF_HTTP_CONNECTION },
        { "http.request_body", CG_BUF_HTTP_REQUEST_BODY },
        { "http.start", CG_BUF_HTTP_START },
        { "http_start", CG_BUF_HTTP_START },
        { "http.stat_code", CG_BUF_HTTP_STAT_CODE },
        { "http.stat_msg", CG_BUF_HTTP_STAT_MSG },
        { "http.response_line", CG_BUF_HTTP_RESPONSE_LINE },
        { "http_response_line", CG_BUF_HTTP_RESPONSE_LINE },
        { "http.location", CG_BUF_HTTP_LOCATION },
        { "http.server", CG_BUF_HTTP_SERVER },
        { "http.response_body", CG_BUF_HTTP_RESPONSE_BODY },
        { "file.data", CG_BUF_FILE_DATA },
        { "file_data", CG_BUF_FILE_DATA },
        { "dns.query", CG_BUF_DNS_QUERY },
        { "dns_query", CG_BUF_DNS_QUERY },
        { "tls.sni", CG_BUF_TLS_SNI },
        { "tls_sni", CG_BUF_TLS_SNI },
        { "tls.cert_subject", CG_BUF_TLS_CERT_SUBJECT },
        { "tls_cert_subject", CG_BUF_TLS_CERT_SUBJECT },
        { "tls.cert_issuer", CG_BUF_TLS_CERT_ISSUER },
        { "tls_cert_issuer", CG_BUF_TLS_CERT_ISSUER },
        { "tls.cert_serial", CG_BUF_TLS_CERT_SERIAL },
        { "tls_cert_serial", CG_BUF_TLS_CERT_SERIAL },
        { "tls.certs", CG_BUF_TLS_CERTS },
        { "ja3.hash", CG_BUF_JA3_HASH },
        { "ja3_hash", CG_BUF_JA3_HASH },
        { "ja3.string", CG_BUF_JA3_STRING },
        { "ja3_string", CG_BUF_JA3_STRING },
        { "ja3s.hash", CG_BUF_JA3S_HASH },
        { "ja3s_hash", CG_BUF_JA3S_HASH },
        { "ja3s.string", CG_BUF_JA3S_STRING },
        { "ja3s_string", CG_BUF_JA3S_STRING },
    };
    for (size_t i = 0; i < sizeof sticky / sizeof sticky[0]; i++) {
        char o[128];
        snprintf(o, sizeof o, "%s; content:\"zz\"; pcre:\"/^a/\"; bsize:4;", sticky[i].kw);
        const cg_rule *r = rule_h("alert ip any any -> any any", o);
        YES(on(r, sticky[i].buf, "azzb"));
        NO(on(r, sticky[i].buf, "azzbc"));
        NO(on(r, CG_BUF_STREAM, "azzb"));
        if (r) {
            CHECK_EQ_U(r->bufs, 1ull << sticky[i].buf);
            CHECK_EQ_U(r->fp_buf, sticky[i].buf);
        }
    }

    /* multi-instance buffers: the guide's two-question DNS example. Two
     * dns.query blocks each match any question; one block needs one question
     * that has both. */
    const char *dns = "alert dns any any -> any any";
    a = rule_h(dns, "dns.query; content:\"example\"; dns.query; content:\".com\";");
    b = rule_h(dns, "dns.query; content:\"example\"; content:\".com\";");
    c = rule_h(dns, "dns.query; content:\"example\"; content:\".net\";");
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_DNS_QUERY, (const uint8_t *)"example.net", 11);
    cg_bufset_add(&bs, CG_BUF_DNS_QUERY, (const uint8_t *)"something.com", 13);
    if (a && b && c) {
        YES(cg_verify_rule(&vc, a, &bs));
        NO(cg_verify_rule(&vc, b, &bs));
        YES(cg_verify_rule(&vc, c, &bs));
        CHECK_EQ_U(a->ngroups, 2);
        CHECK_EQ_U(b->ngroups, 1);
    }
    /* a single buffer named twice is one block */
    a = rule_h(http,
               "http.uri; content:\"a\"; http.header; content:\"h\"; http.uri; "
               "content:\"b\"; distance:0;");
    if (a)
        CHECK_EQ_U(a->ngroups, 2);
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_URI, (const uint8_t *)"/ab", 3);
    cg_bufset_add(&bs, CG_BUF_HTTP_HEADER, (const uint8_t *)"h", 1);
    YES(cg_verify_rule(&vc, a, &bs));
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_URI, (const uint8_t *)"/ba", 3);
    cg_bufset_add(&bs, CG_BUF_HTTP_HEADER, (const uint8_t *)"h", 1);
    NO(cg_verify_rule(&vc, a, &bs)); /* b relative to a, in the same block */
    /* tls.certs: any certificate of the chain */
    a = rule_h("alert tls any any -> any any", "tls.certs; content:\"|06 09 2a 86|\";");
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_TLS_CERTS, (const uint8_t *)"\x30\x01", 2);
    cg_bufset_add(&bs, CG_BUF_TLS_CERTS, (const uint8_t *)"\x30\x06\x09\x2a\x86", 5);
    YES(cg_verify_rule(&vc, a, &bs));

    /* relative positions do not leak from one buffer into another: the header
     * block starts at 0 whatever the uri matched */
    a = rule_h(http,
               "http.uri; content:\"abc\"; http.header; content:\"x\"; distance:0; "
               "within:1; pcre:\"/^y/R\";");
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_URI, (const uint8_t *)"zzzzzabc", 8);
    cg_bufset_add(&bs, CG_BUF_HTTP_HEADER, (const uint8_t *)"xyz", 3);
    YES(cg_verify_rule(&vc, a, &bs));
    /* nor through byte_jump */
    a = rule_h(http, "http.uri; byte_jump:1,0; http.header; isdataat:2,relative;");
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_URI, (const uint8_t *)"\x03zzzzz", 6);
    cg_bufset_add(&bs, CG_BUF_HTTP_HEADER, (const uint8_t *)"xy", 2);
    YES(cg_verify_rule(&vc, a, &bs));
    /* a missing buffer fails the rule; a rule without groups needs none */
    NO(on(rule_h(http, "http.uri; content:\"a\"; http.cookie; content:\"b\";"), CG_BUF_HTTP_URI,
          "a"));
    cg_bufset_clear(&bs);
    YES(cg_verify_rule(&vc, rule_h(http, "flow:to_server;"), &bs));
    /* pkt_data returns to the payload */
    a = rule_h(http, "http.uri; content:\"/a\"; pkt_data; content:\"GET\"; startswith;");
    cg_bufset_clear(&bs);
    cg_bufset_add(&bs, CG_BUF_HTTP_URI, (const uint8_t *)"/a", 2);
    cg_bufset_add(&bs, CG_BUF_PAYLOAD, (const uint8_t *)"GET /a", 6);
    YES(cg_verify_rule(&vc, a, &bs));
}

/* ---- payload and stream --------------------------------------------------------- */

static void test_payload_stream(void)
{
    const cg_rule *tcp = rule("content:\"abc\";");
    const cg_rule *pkt = rule_h("alert tcp-pkt any any -> any any", "content:\"abc\";");
    const cg_rule *strm = rule_h("alert tcp-stream any any -> any any", "content:\"abc\";");
    const cg_rule *nos = rule("flow:no_stream; content:\"abc\";");
    const cg_rule *only = rule("flow:only_stream; content:\"abc\";");
    const cg_rule *ds = rule("dsize:>2; content:\"abc\";");
    const cg_rule *udp = rule_h("alert udp any any -> any any", "content:\"abc\";");
    YES(on(tcp, CG_BUF_PAYLOAD, "abc"));
    YES(on(tcp, CG_BUF_STREAM, "abc"));
    YES(on(pkt, CG_BUF_PAYLOAD, "abc"));
    NO(on(pkt, CG_BUF_STREAM, "abc"));
    NO(on(strm, CG_BUF_PAYLOAD, "abc"));
    YES(on(strm, CG_BUF_STREAM, "abc"));
    NO(on(nos, CG_BUF_STREAM, "abc"));
    NO(on(only, CG_BUF_PAYLOAD, "abc"));
    YES(on(only, CG_BUF_STREAM, "abc"));
    NO(on(ds, CG_BUF_STREAM, "abc")); /* dsize is a packet's size */
    YES(on(ds, CG_BUF_PAYLOAD, "abc"));
    NO(on(udp, CG_BUF_STREAM, "abc"));
    if (tcp && pkt && strm && udp) {
        CHECK_EQ_U(tcp->bufs, (1ull << CG_BUF_PAYLOAD) | (1ull << CG_BUF_STREAM));
        CHECK_EQ_U(pkt->bufs, 1ull << CG_BUF_PAYLOAD);
        CHECK_EQ_U(strm->bufs, 1ull << CG_BUF_STREAM);
        CHECK_EQ_U(udp->bufs, 1ull << CG_BUF_PAYLOAD);
        CHECK(tcp->stream_ok && tcp->packet_ok && !pkt->stream_ok && !strm->packet_ok);
    }
    /* cg_verify_buffer: the payload-only subset */
    YES(cg_verify_buffer(&vc, tcp, CG_BUF_PAYLOAD, (const uint8_t *)"xabc", 4));
    YES(cg_verify_buffer(&vc, tcp, CG_BUF_STREAM, (const uint8_t *)"xabc", 4));
    NO(cg_verify_buffer(&vc, strm, CG_BUF_PAYLOAD, (const uint8_t *)"xabc", 4));
    NO(cg_verify_buffer(&vc, rule_h("alert http any any -> any any", "http.uri; content:\"a\";"),
                        CG_BUF_PAYLOAD, (const uint8_t *)"a", 1));
    NO(cg_verify_buffer(&vc, rule("flowbits:isset,x; content:\"a\";"), CG_BUF_PAYLOAD,
                        (const uint8_t *)"a", 1));
    NO(cg_verify_buffer(&vc, rule("content:\"a\"; noalert;"), CG_BUF_PAYLOAD, (const uint8_t *)"a",
                        1));
    YES(cg_verify_buffer(&vc, rule("flowbits:set,y; content:\"a\";"), CG_BUF_PAYLOAD,
                         (const uint8_t *)"a", 1));
    YES(cg_verify_buffer(&vc, rule("content:\"a\"; byte_test:1,=,0x62,0,relative;"), CG_BUF_PAYLOAD,
                         (const uint8_t *)"ab", 2));
}

/* ---- flowbits --------------------------------------------------------------------- */

static void flowbits_cases(void);

static void test_flowbits(void)
{
    cg_ruleset *saved = rs; /* a set of its own: ids from 0 */
    if (cg_ruleset_create(&rs)) {
        rs = saved;
        CHECK(!"ruleset");
        return;
    }
    flowbits_cases();
    cg_ruleset_destroy(rs);
    rs = saved;
}

static void flowbits_cases(void)
{
    uint64_t bits[CG_FLOWBITS_WORDS(CG_FLOWBITS_MAX)];
    memset(bits, 0, sizeof bits);
    const cg_rule *set = rule("flowbits:set,fb.a; flowbits:noalert; content:\"x\";");
    const cg_rule *set_b = rule("flowbits:set,fb.b;");
    const cg_rule *isset = rule("flowbits:isset,fb.a;");
    const cg_rule *notset = rule("flowbits:isnotset,fb.a;");
    const cg_rule *any = rule("flowbits:isset,fb.a|fb.b;");
    const cg_rule *all = rule("flowbits:isset,fb.a&fb.b;");
    const cg_rule *none = rule("flowbits:isnotset,fb.a&fb.b;");
    const cg_rule *unset = rule("flowbits:unset,fb.a;");
    const cg_rule *toggle = rule("flowbits:toggle,fb.a&fb.b;");
    const cg_rule *both = rule("flowbits:isset,fb.a; flowbits:isnotset,fb.b;");
    if (!set || !set_b || !isset || !notset || !any || !all || !none || !unset || !toggle || !both)
        return;
    CHECK(set->noalert);
    CHECK(!isset->noalert);
    CHECK_EQ_U(cg_ruleset_flowbits(rs), 2);
    CHECK_STR(cg_ruleset_flowbit_name(rs, set->flowbits[0].ids[0]), "fb.a");
    CHECK(cg_ruleset_flowbit_name(rs, 99) == NULL);
    CHECK_EQ_U(all->flowbits[0].ids[1], set_b->flowbits[0].ids[0]); /* one id per name */
    CHECK_EQ_U(any->flowbits[0].any, 1);
    CHECK_EQ_U(all->flowbits[0].any, 0);

    /* nothing set (and no storage at all) */
    NO(cg_flowbits_check(isset, bits));
    YES(cg_flowbits_check(notset, bits));
    YES(cg_flowbits_check(notset, NULL));
    NO(cg_flowbits_check(any, bits));
    YES(cg_flowbits_check(none, bits));
    YES(cg_flowbits_check(set, bits)); /* set is no condition */
    /* set a */
    cg_flowbits_apply(set, bits);
    YES(cg_flowbits_check(isset, bits));
    NO(cg_flowbits_check(notset, bits));
    YES(cg_flowbits_check(any, bits));
    NO(cg_flowbits_check(all, bits));
    NO(cg_flowbits_check(none, bits));
    YES(cg_flowbits_check(both, bits));
    cg_flowbits_apply(isset, bits); /* checks change nothing */
    YES(cg_flowbits_check(isset, bits));
    /* set b too */
    cg_flowbits_apply(set_b, bits);
    YES(cg_flowbits_check(all, bits));
    NO(cg_flowbits_check(both, bits));
    /* toggle both: a and b clear */
    cg_flowbits_apply(toggle, bits);
    YES(cg_flowbits_check(none, bits));
    cg_flowbits_apply(toggle, bits);
    YES(cg_flowbits_check(all, bits));
    /* unset a */
    cg_flowbits_apply(unset, bits);
    NO(cg_flowbits_check(isset, bits));
    YES(cg_flowbits_check(any, bits));
}

/* flowint: per-flow integers; changes after a match, comparisons before */
static void test_flowint(void)
{
    uint64_t ints[CG_FLOWINTS_MAX];
    memset(ints, 0, sizeof ints);
    const cg_rule *add = rule("flowint:fi.n,+,2;");
    const cg_rule *sub = rule("flowint: fi.n , - , 1 ;");
    const cg_rule *set = rule("flowint:fi.lim,=,3;");
    const cg_rule *ge = rule("flowint:fi.n,>=,fi.lim;");
    const cg_rule *eq = rule("flowint:fi.n,==,3;");
    const cg_rule *lt = rule("flowint:fi.n,<,4294967295;");
    const cg_rule *isset = rule("flowint:fi.n,isset;");
    const cg_rule *notset = rule("flowint:fi.n,notset;");
    const cg_rule *copy = rule("flowint:fi.m,=,fi.n;");
    const cg_rule *m_eq = rule("flowint:fi.m,==,3;");
    if (!add || !sub || !set || !ge || !eq || !lt || !isset || !notset || !copy || !m_eq)
        return;
    CHECK_EQ_U(cg_ruleset_flowints(rs), 3);
    CHECK_EQ_U(ge->flowints[0].var, set->flowints[0].id);
    /* nothing set; no storage */
    NO(cg_flowints_check(isset, ints));
    YES(cg_flowints_check(notset, ints));
    YES(cg_flowints_check(notset, NULL));
    NO(cg_flowints_check(lt, NULL));
    NO(cg_flowints_check(ge, ints));
    YES(cg_flowints_check(add, ints)); /* a change is no condition */
    /* + on an unset one starts from 0; - and = */
    cg_flowints_apply(add, ints);
    YES(cg_flowints_check(isset, ints));
    NO(cg_flowints_check(notset, ints));
    YES(cg_flowints_check(lt, ints));
    cg_flowints_apply(add, ints); /* 4 */
    cg_flowints_apply(sub, ints); /* 3 */
    YES(cg_flowints_check(eq, ints));
    NO(cg_flowints_check(ge, ints)); /* fi.lim not set yet */
    cg_flowints_apply(set, ints);
    YES(cg_flowints_check(ge, ints));
    cg_flowints_apply(copy, ints);
    YES(cg_flowints_check(m_eq, ints));
    for (int i = 0; i < 4; i++)
        cg_flowints_apply(sub, ints); /* 3 - 4 wraps, as Suricata's uint32 */
    NO(cg_flowints_check(lt, ints));
    cg_flowints_apply(add, NULL); /* no storage: nothing happens */
}

/* ---- header, flow, transaction --------------------------------------------------- */

static void pkt_init(cg_packet *p, uint8_t proto)
{
    static const uint8_t l4[20];
    memset(p, 0, sizeof *p);
    p->ipver = 4;
    p->proto = proto;
    p->ttl = 64;
    p->src[10] = p->src[11] = p->dst[10] = p->dst[11] = 0xff;
    p->src[15] = 1;
    p->dst[15] = 2;
    p->l4 = l4;
    p->l4_len = sizeof l4;
    if (proto == 6 || proto == 17) {
        p->flags = CG_PKT_HAS_PORTS;
        p->sport = 40000;
        p->dport = 80;
    }
}

static void test_header(void)
{
    cg_packet p;
    pkt_init(&p, 6);

    /* flags: exact (other than the ignored bits), + (these and any others),
     * * (any of these), ! (not these), 0 (none) */
    const cg_rule *syn = rule("flags:S;");
    const cg_rule *syn12 = rule("flags:S,12;");
    const cg_rule *plus = rule("flags:+S;");
    const cg_rule *star = rule("flags:*SA;");
    const cg_rule *not = rule("flags:!R;");
    const cg_rule *zero = rule("flags:0;");
    const cg_rule *pa = rule("flags:PA,CE;");
    p.tcp_flags = CG_TH_SYN;
    YES(cg_verify_header(syn, &p, NULL, 1));
    YES(cg_verify_header(syn12, &p, NULL, 1));
    YES(cg_verify_header(plus, &p, NULL, 1));
    YES(cg_verify_header(star, &p, NULL, 1));
    YES(cg_verify_header(not, &p, NULL, 1));
    NO(cg_verify_header(zero, &p, NULL, 1));
    p.tcp_flags = CG_TH_SYN | CG_TH_ECE | CG_TH_CWR;
    NO(cg_verify_header(syn, &p, NULL, 1));
    YES(cg_verify_header(syn12, &p, NULL, 1));
    p.tcp_flags = CG_TH_SYN | CG_TH_ACK;
    NO(cg_verify_header(syn, &p, NULL, 1));
    NO(cg_verify_header(syn12, &p, NULL, 1));
    YES(cg_verify_header(plus, &p, NULL, 1));
    YES(cg_verify_header(star, &p, NULL, 1));
    p.tcp_flags = CG_TH_ACK | CG_TH_PSH | CG_TH_ECE;
    YES(cg_verify_header(pa, &p, NULL, 1));
    p.tcp_flags = CG_TH_RST;
    NO(cg_verify_header(not, &p, NULL, 1));
    p.tcp_flags = 0;
    YES(cg_verify_header(zero, &p, NULL, 1));
    NO(cg_verify_header(star, &p, NULL, 1));
    pkt_init(&p, 17);
    NO(cg_verify_header(rule_h("alert ip any any -> any any", "flags:!R;"), &p, NULL, 1));

    /* itype, icode: ICMP only */
    pkt_init(&p, 1);
    p.icmp_type = 8;
    p.icmp_code = 0;
    const cg_rule *echo = rule_h("alert icmp any any -> any any", "itype:8; icode:0;");
    YES(cg_verify_header(echo, &p, NULL, 1));
    YES(cg_verify_header(rule_h("alert icmp any any -> any any", "itype:>7;"), &p, NULL, 1));
    NO(cg_verify_header(rule_h("alert icmp any any -> any any", "itype:>10;"), &p, NULL, 1));
    YES(cg_verify_header(rule_h("alert icmp any any -> any any", "itype:5<>10;"), &p, NULL, 1));
    NO(cg_verify_header(rule_h("alert icmp any any -> any any", "itype:8<>10;"), &p, NULL, 1));
    p.icmp_type = 0;
    NO(cg_verify_header(echo, &p, NULL, 1));
    pkt_init(&p, 6);
    NO(cg_verify_header(rule_h("alert ip any any -> any any", "itype:0;"), &p, NULL, 1));
    /* ttl, ip_proto */
    YES(cg_verify_header(rule("ttl:64;"), &p, NULL, 1));
    YES(cg_verify_header(rule("ttl:<65;"), &p, NULL, 1));
    NO(cg_verify_header(rule("ttl:>64;"), &p, NULL, 1));
    const char *ip = "alert ip any any -> any any";
    YES(cg_verify_header(rule_h(ip, "ip_proto:6;"), &p, NULL, 1));
    YES(cg_verify_header(rule_h(ip, "ip_proto:TCP;"), &p, NULL, 1));
    NO(cg_verify_header(rule_h(ip, "ip_proto:!tcp;"), &p, NULL, 1));
    YES(cg_verify_header(rule_h(ip, "ip_proto:<17;"), &p, NULL, 1));
    pkt_init(&p, 41);
    YES(cg_verify_header(rule_h(ip, "ip_proto:41;"), &p, NULL, 1));

    /* stream_size: TCP, per side, both, either */
    cg_flowinfo fi = { CG_APP_NONE, 3, 100 };
    pkt_init(&p, 6);
    YES(cg_verify_flowinfo(rule("stream_size:client,<,5;"), &p, &fi));
    NO(cg_verify_flowinfo(rule("stream_size:server,<,5;"), &p, &fi));
    YES(cg_verify_flowinfo(rule("stream_size:server,>=,100;"), &p, &fi));
    NO(cg_verify_flowinfo(rule("stream_size:server,!=,100;"), &p, &fi));
    NO(cg_verify_flowinfo(rule("stream_size:both,<,5;"), &p, &fi));
    YES(cg_verify_flowinfo(rule("stream_size:either,<,5;"), &p, &fi));
    YES(cg_verify_flowinfo(rule("stream_size:client,=,3; stream_size:server,=,100;"), &p, &fi));
    NO(cg_verify_flowinfo(rule("stream_size:client,=,3;"), &p, NULL));
    pkt_init(&p, 17);
    NO(cg_verify_flowinfo(rule_h(ip, "stream_size:client,<,5;"), &p, &fi));

    /* the rule's protocol and app-layer-protocol */
    pkt_init(&p, 6);
    cg_flowinfo h = { CG_APP_HTTP, 0, 0 }, t = { CG_APP_TLS, 0, 0 }, u = { CG_APP_NONE, 0, 0 },
                fl = { CG_APP_FAILED, 0, 0 };
    const cg_rule *http = rule_h("alert http any any -> any any", "content:\"x\";");
    YES(cg_verify_flowinfo(http, &p, &h));
    NO(cg_verify_flowinfo(http, &p, &t));
    NO(cg_verify_flowinfo(http, &p, &u));
    YES(cg_verify_flowinfo(rule("content:\"x\";"), &p, &u));
    const cg_rule *nothttp = rule("app-layer-protocol:!http;");
    NO(cg_verify_flowinfo(nothttp, &p, &h));
    YES(cg_verify_flowinfo(nothttp, &p, &t));
    NO(cg_verify_flowinfo(nothttp, &p, &u)); /* not yet known: neither x nor !x */
    YES(cg_verify_flowinfo(rule("app-layer-protocol:tls;"), &p, &t));
    YES(cg_verify_flowinfo(rule("app-layer-protocol:failed;"), &p, &fl));
    NO(cg_verify_flowinfo(rule("app-layer-protocol:failed;"), &p, &h));

    /* tls.version, dns.opcode come with the buffers */
    cg_bufset bs;
    cg_bufset_clear(&bs);
    const cg_rule *v12 = rule_h("alert tls any any -> any any", "tls.version:1.2;");
    const cg_rule *vhex = rule_h("alert tls any any -> any any", "tls.version:0x7f12;");
    const cg_rule *vnot = rule_h("alert tls any any -> any any", "tls.version:!1.2;");
    NO(cg_verify_rule(&vc, v12, &bs));
    NO(cg_verify_rule(&vc, vnot, &bs)); /* unknown version */
    bs.tls_version = 0x0303;
    YES(cg_verify_rule(&vc, v12, &bs));
    NO(cg_verify_rule(&vc, vnot, &bs));
    bs.tls_version = 0x0302;
    NO(cg_verify_rule(&vc, v12, &bs));
    YES(cg_verify_rule(&vc, vnot, &bs));
    bs.tls_version = 0x7f12;
    YES(cg_verify_rule(&vc, vhex, &bs));
    const cg_rule *op = rule_h("alert dns any any -> any any", "dns.opcode:4;");
    cg_bufset_clear(&bs);
    bs.dns_opcode = 4;
    NO(cg_verify_rule(&vc, op, &bs)); /* no DNS message */
    cg_bufset_add(&bs, CG_BUF_DNS_QUERY, (const uint8_t *)"a.b", 3);
    YES(cg_verify_rule(&vc, op, &bs));
    bs.dns_opcode = 0;
    NO(cg_verify_rule(&vc, op, &bs));
    YES(cg_verify_rule(&vc, rule_h("alert dns any any -> any any", "dns.opcode:!4;"), &bs));
}

/* ---- integers ----------------------------------------------------------------------- */

static void test_uint(void)
{
    /* the integer keywords' forms (user guide, "Integer Keywords") */
    static const struct {
        const char *v;
        uint64_t yes, no;
    } t[] = {
        { "19", 19, 20 },
        { "=0x13", 19, 20 },
        { "!0x14", 19, 20 },
        { "!=20", 19, 20 },
        { ">21", 22, 21 },
        { ">=21", 21, 20 },
        { "<22", 21, 22 },
        { "<=22", 22, 23 },
        { "19-22", 20, 19 },
        { "19-22", 21, 22 },
        { "!19-22", 19, 20 },
        { "!19-22", 22, 21 },
        { "&0xc0=0x80", 0x81, 0xc1 },
        { "&0xc0!=0", 0x40, 0x3f },
        { "1kb", 1024, 1000 },
        { "10<>20", 11, 10 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char o[64];
        snprintf(o, sizeof o, "dns.query; bsize:%s;", t[i].v);
        const cg_rule *r = rule_h("alert dns any any -> any any", o);
        if (!r || r->nmatch != 1)
            continue;
        YES(cg_uint_match(&r->matches[0].u.sz, t[i].yes));
        NO(cg_uint_match(&r->matches[0].u.sz, t[i].no));
    }
}

/* ---- every ET Open rule ------------------------------------------------------------ */

/* Every loaded ET Open rule verified against buffers built from its own
 * contents (with a few random bytes between them, sometimes cut short): no
 * read outside a buffer (the sanitizer run checks), and many match. */
static void test_etopen(void)
{
    cg_ruleset *et;
    char err[512];
    uint32_t n;
    uint64_t seed = 88172645463325252ull, tries = 0, hits = 0;
    static uint8_t tmp[4096];

    if (cg_ruleset_create(&et))
        return;
    if (cg_ruleset_load_path(et, "../shared/data/rules/etopen", err, sizeof err)) {
        printf("verify: ET Open not loaded (%s), skipped\n", err);
        cg_ruleset_destroy(et);
        return;
    }
    const cg_rule *r = cg_ruleset_rules(et, &n);
    for (int round = 0; round < 4; round++) {
        for (uint32_t i = 0; i < n; i++) {
            cg_bufset bs;
            uint8_t *bufs[CG_MAX_GROUPS] = { 0 };
            cg_bufset_clear(&bs);
            for (uint32_t g = 0; g < r[i].ngroups; g++) {
                uint32_t len = 0;
                for (uint32_t k = 0; k < r[i].nmatch; k++) {
                    const cg_match *m = &r[i].matches[k];
                    if (m->grp != g)
                        continue;
                    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                    for (uint32_t j = 0; j < seed % 4 && len < sizeof tmp; j++)
                        tmp[len++] = (uint8_t)(round & 1 ? seed >> (8 * j) : '0' + j);
                    if (m->type == CG_M_CONTENT && !(m->u.c.flags & CG_C_NEGATED) &&
                        len + m->u.c.len < sizeof tmp) {
                        memcpy(tmp + len, m->u.c.bytes, m->u.c.len);
                        len += m->u.c.len;
                    }
                }
                if (round >= 2)
                    len = (uint32_t)(seed % (len + 1));
                bufs[g] = malloc(len ? len : 1); /* its own block: exact bounds */
                if (!bufs[g])
                    break;
                memcpy(bufs[g], tmp, len);
                uint8_t b = r[i].groups[g].buf;
                if (b == CG_BUF_PAYLOAD && !r[i].packet_ok)
                    b = CG_BUF_STREAM;
                if (b < CG_BUF_COUNT) /* base64_data: decoded, not given */
                    cg_bufset_add(&bs, b, bufs[g], len);
            }
            bs.tls_version = 0x0303;
            hits += cg_verify_rule(&vc, &r[i], &bs) == 1;
            tries++;
            for (uint32_t g = 0; g < r[i].ngroups; g++)
                free(bufs[g]);
        }
    }
    CHECK(tries == 4ull * n);
    CHECK(hits > tries / 10);
    printf("verify: %u ET Open rules verified %llu times on buffers of their own contents, "
           "%llu matched\n",
           n, (unsigned long long)tries, (unsigned long long)hits);
    cg_ruleset_destroy(et);
}

/* ---- base64_decode / base64_data -------------------------------------------- */

static void test_base64(void)
{
    /* relative to the content; the decoded bytes are matched by base64_data's
     * items; a trailing quad without its '=' still decodes */
    const cg_rule *r = rule_h("alert http any any -> any any",
                              "http.request_body; content:\"SAMLRequest=\"; "
                              "base64_decode:bytes 64, offset 0, relative; base64_data; "
                              "content:\"<?xml version\"; startswith;");
    if (r) {
        CHECK_EQ_U(r->fp_buf, CG_BUF_HTTP_REQUEST_BODY); /* not the decoded content */
        YES(on(r, CG_BUF_HTTP_REQUEST_BODY, "x=1&SAMLRequest=PD94bWwgdmVyc2lvbj0iMS4wIg=="));
        YES(on(r, CG_BUF_HTTP_REQUEST_BODY, "SAMLRequest=PD94bWwgdmVyc2lvbj0iMS4wIg"));
        NO(on(r, CG_BUF_HTTP_REQUEST_BODY, "SAMLRequest=aGVsbG8gd29ybGQ="));
        NO(on(r, CG_BUF_HTTP_REQUEST_BODY, "SAMLRequest="));
        NO(on(r, CG_BUF_HTTP_REQUEST_BODY, "PD94bWwgdmVyc2lvbj0iMS4wIg=="));
        /* the first occurrence decodes to something else: the next is tried */
        YES(on(r, CG_BUF_HTTP_REQUEST_BODY,
               "SAMLRequest=aGVsbG8gd29ybGQ=&"
               "SAMLRequest=PD94bWwgdmVyc2lvbj0iMS4wIg=="));
    }
    /* bytes bounds what is decoded; offset skips; decoding stops at a byte
     * that is not base64 */
    r = rule("content:\"k=\"; base64_decode:bytes 7, relative; base64_data; "
             "content:\"<?xml\";");
    if (r) {
        YES(pl(r, "k=PD94bWw="));
        NO(pl(r, "k=PD94bW")); /* 6 digits: "<?xm" */
    }
    r = rule("content:\"k=\"; base64_decode:offset 2,relative; base64_data; "
             "content:\"hello world\";");
    if (r) {
        YES(pl(r, "k=..aGVsbG8gd29ybGQ="));
        NO(pl(r, "k=aGVsbG8gd29ybGQ="));
        NO(pl(r, "k=..aGVsbG8-d29ybGQ=")); /* '-' ends it: "hello" only */
    }
    /* after a legacy modifier it decodes that content's buffer */
    r = rule_h("alert http any any -> any any",
               "content:\"a=\"; http_uri; base64_decode:relative; base64_data; "
               "content:\"evil\";");
    if (r) {
        YES(on(r, CG_BUF_HTTP_URI, "/?a=ZXZpbA=="));
        NO(on(r, CG_BUF_HTTP_URI, "/?a=Z29vZA=="));
    }
    /* from the buffer's start; a pcre on the decoded bytes; a negated content */
    r = rule("base64_decode; base64_data; pcre:\"/^Guzzle[A-Za-z]+\\\\Psr7$/\"; "
             "content:!\"evil\";");
    if (r) {
        YES(pl(r, "R3V6emxlSHR0cFxQc3I3"));
        NO(pl(r, "xR3V6emxlSHR0cFxQc3I3"));
    }
}

int main(void)
{
    if (cg_ruleset_create(&rs) || cg_verify_ctx_init(&vc)) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    test_isdataat();
    test_byte_test();
    test_byte_jump();
    test_byte_extract();
    test_bsize_transforms();
    test_buffers();
    test_payload_stream();
    test_flowbits();
    test_header();
    test_uint();
    test_flowint();
    test_base64();
    test_etopen();
    cg_verify_ctx_free(&vc);
    cg_ruleset_destroy(rs);
    return check_done("verify");
}
