/* test_dns.c — unit tests of sensor/dns: queries (A, AAAA, TXT, several
 * questions, compressed names, case kept, odd label bytes, the root, the
 * 255-byte limit), a response with compressed answers (A, CNAME, MX, SOA, TXT)
 * that gives no dns.query, opcodes; the questions and answers kept for logs
 * (cg_dns_parse_detail: types, TTLs, RDATA as text, bounds); every named
 * name error (loops through the
 * current run and through an earlier one, forward pointers, pointers into the
 * header and past the end, label types 01 and 10, names over 255 bytes,
 * pointer chains past the hop limit); truncated versus invalid at every cut of
 * a message; lying counts and RDLENGTHs; instances and scratch bounds; the TCP
 * framing at every split of a stream, with clipped messages, gaps and the end;
 * and random mutations and random bytes, each parsed from a buffer of its
 * exact size (so an over-read faults under ASan), with the counters checked
 * against the results.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/dns.h"
#include "sensor/extract.h"
#include "tests/check.h"

/* ---- message builder ---------------------------------------------------- */

typedef struct wb {
    uint8_t b[8192];
    uint32_t n;
} wb;

static void u8(wb *w, unsigned v)
{
    w->b[w->n++] = (uint8_t)v;
}
static void u16(wb *w, unsigned v)
{
    u8(w, v >> 8);
    u8(w, v);
}
static void u32(wb *w, uint32_t v)
{
    u16(w, v >> 16);
    u16(w, v & 0xffff);
}
static void put(wb *w, const void *p, uint32_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void patch16(wb *w, uint32_t off, unsigned v)
{
    w->b[off] = (uint8_t)(v >> 8);
    w->b[off + 1] = (uint8_t)v;
}

static void hdr(wb *w, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                unsigned ar)
{
    w->n = 0;
    u16(w, id);
    u16(w, flags);
    u16(w, qd);
    u16(w, an);
    u16(w, ns);
    u16(w, ar);
}

/* Labels of a dotted name, then the root byte unless ptr (then a pointer). */
static uint32_t name(wb *w, const char *dotted, int ptr)
{
    uint32_t at = w->n;
    const char *s = dotted;
    while (*s) {
        const char *dot = strchr(s, '.');
        uint32_t l = dot ? (uint32_t)(dot - s) : (uint32_t)strlen(s);
        u8(w, l);
        put(w, s, l);
        s += l;
        if (*s == '.')
            s++;
    }
    if (ptr >= 0)
        u16(w, 0xc000 | (unsigned)ptr);
    else
        u8(w, 0);
    return at;
}

static uint32_t question(wb *w, const char *dotted, int ptr, unsigned type)
{
    uint32_t at = name(w, dotted, ptr);
    u16(w, type);
    u16(w, 1);
    return at;
}

/* A resource record; its RDATA is given raw. */
static void rr(wb *w, const char *owner, int ptr, unsigned type, const void *rd, uint32_t rdlen)
{
    name(w, owner, ptr);
    u16(w, type);
    u16(w, 1);
    u32(w, 300);
    u16(w, rdlen);
    put(w, rd, rdlen);
}

/* ---- helpers ------------------------------------------------------------ */

static cg_dns_stats ST;
static uint8_t SCR[CG_DNS_SCRATCH_SIZE];
static cg_bufset BS;

/* Parses a copy of exactly len bytes (wire_len as given). */
static int parse_copy(const uint8_t *p, uint32_t len, uint32_t wire_len, cg_dns_msg *m)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c)
        abort();
    memcpy(c, p, len);
    int rc = cg_dns_parse(c, len, wire_len, SCR, sizeof SCR, &BS, m, &ST);
    free(c);
    return rc;
}

static int query_is(int i, const char *s)
{
    if (i >= BS.n[CG_BUF_DNS_QUERY])
        return 0;
    const cg_bufview *v = &BS.v[CG_BUF_DNS_QUERY][i];
    return v->len == strlen(s) && memcmp(v->p, s, v->len) == 0;
}

static const char *query_str(int i)
{
    static char buf[300];
    if (i >= BS.n[CG_BUF_DNS_QUERY])
        return "(none)";
    const cg_bufview *v = &BS.v[CG_BUF_DNS_QUERY][i];
    memcpy(buf, v->p, v->len);
    buf[v->len] = 0;
    return buf;
}

/* ---- queries ------------------------------------------------------------ */

static void test_queries(void)
{
    wb w;
    cg_dns_msg m;

    hdr(&w, 0x1234, 0x0100, 1, 0, 0, 0);
    question(&w, "dichvucong.tuyenquang.gov.vn", -1, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_OK);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 1);
    CHECK_STR(query_str(0), "dichvucong.tuyenquang.gov.vn");
    CHECK(BS.present & (1ull << CG_BUF_DNS_QUERY));
    CHECK_EQ_U(BS.dns_opcode, 0);
    CHECK_EQ_U(m.id, 0x1234);
    CHECK_EQ_U(m.qr, 0);
    CHECK_EQ_U(m.questions, 1);
    CHECK_EQ_U(m.qdcount, 1);

    /* AAAA and TXT, case as sent, the second name compressed onto the first */
    hdr(&w, 7, 0x0100, 3, 0, 0, 0);
    uint32_t q1 = question(&w, "Mail.TuyenQuang.GOV.vn", -1, 28);
    question(&w, "_dmarc", (int)q1 + 5, 16); /* -> "TuyenQuang.GOV.vn" */
    question(&w, "www", (int)q1, 1);         /* -> the whole first name */
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_OK);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 3);
    CHECK_STR(query_str(0), "Mail.TuyenQuang.GOV.vn");
    CHECK_STR(query_str(1), "_dmarc.TuyenQuang.GOV.vn");
    CHECK_STR(query_str(2), "www.Mail.TuyenQuang.GOV.vn");
    CHECK_EQ_U(m.questions, 3);

    /* a question name that is only a pointer, to a pointer */
    hdr(&w, 8, 0x0100, 3, 0, 0, 0);
    q1 = question(&w, "a.b", -1, 1);
    uint32_t q2 = question(&w, "", (int)q1, 1);
    question(&w, "", (int)q2, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 3);
    CHECK(query_is(1, "a.b") && query_is(2, "a.b"));

    /* bytes inside labels are kept as they are: a dot, a NUL, 0xff */
    hdr(&w, 9, 0x0100, 1, 0, 0, 0);
    u8(&w, 5);
    put(&w, "a.b\0\xff", 5);
    u8(&w, 2);
    put(&w, "vn", 2);
    u8(&w, 0);
    u16(&w, 1);
    u16(&w, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);
    CHECK_EQ_U(BS.v[CG_BUF_DNS_QUERY][0].len, 8);
    CHECK(BS.n[CG_BUF_DNS_QUERY] == 1 &&
          memcmp(BS.v[CG_BUF_DNS_QUERY][0].p, "a.b\0\xff.vn", 8) == 0);

    /* the root: an instance of length 0 */
    hdr(&w, 10, 0x0000, 1, 0, 0, 0);
    question(&w, "", -1, 2);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 1);
    CHECK_EQ_U(BS.v[CG_BUF_DNS_QUERY][0].len, 0);

    /* opcodes: NOTIFY (4), UPDATE (5), and 15 */
    static const unsigned ops[] = { 4, 5, 15 };
    for (int i = 0; i < 3; i++) {
        hdr(&w, 11, ops[i] << 11, 1, 0, 0, 0);
        question(&w, "zone.vn", -1, 6);
        CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_OK);
        CHECK_EQ_U(BS.dns_opcode, ops[i]);
        CHECK_EQ_U(m.opcode, ops[i]);
        CHECK(query_is(0, "zone.vn"));
    }

    /* a query with an EDNS OPT record in the additional section */
    hdr(&w, 12, 0x0120, 1, 0, 0, 1);
    question(&w, "example.vn", -1, 1);
    u8(&w, 0);
    u16(&w, 41);
    u16(&w, 1232);
    u32(&w, 0);
    u16(&w, 0);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_OK);
    CHECK_EQ_U(m.records, 1);
    CHECK(query_is(0, "example.vn"));
}

/* The 255-byte limit: 3 labels of 63 and one of 61 make 255 wire bytes. */
static void test_name_length(void)
{
    char n63[64], n61[62], n62[63], big[300];
    memset(n63, 'a', 63);
    n63[63] = 0;
    memset(n61, 'b', 61);
    n61[61] = 0;
    memset(n62, 'c', 62);
    n62[62] = 0;
    wb w;

    snprintf(big, sizeof big, "%s.%s.%s.%s", n63, n63, n63, n61);
    hdr(&w, 1, 0, 1, 0, 0, 0);
    question(&w, big, -1, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);
    CHECK_EQ_U(BS.v[CG_BUF_DNS_QUERY][0].len, 253);
    CHECK_STR(query_str(0), big);

    uint64_t before = ST.long_names;
    snprintf(big, sizeof big, "%s.%s.%s.%s", n63, n63, n63, n62);
    hdr(&w, 1, 0, 1, 0, 0, 0);
    question(&w, big, -1, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_EDNS_NAME_LEN);
    CHECK_EQ_U(ST.long_names, before + 1);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 0);

    /* the same total reached through a pointer */
    snprintf(big, sizeof big, "%s.%s.%s", n63, n63, n63);
    hdr(&w, 1, 0, 2, 0, 0, 0);
    uint32_t q1 = question(&w, big, -1, 1);
    question(&w, n62, (int)q1, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_EDNS_NAME_LEN);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 1); /* the first question stays */
    hdr(&w, 1, 0, 2, 0, 0, 0);
    q1 = question(&w, big, -1, 1);
    question(&w, n61, (int)q1, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);
    CHECK_EQ_U(BS.v[CG_BUF_DNS_QUERY][1].len, 253);

    /* 127 one-byte labels: 255 bytes with the root; 128 are too many */
    hdr(&w, 1, 0, 1, 0, 0, 0);
    for (int i = 0; i < 127; i++) {
        u8(&w, 1);
        u8(&w, 'x');
    }
    u8(&w, 0);
    u16(&w, 1);
    u16(&w, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);
    CHECK_EQ_U(BS.v[CG_BUF_DNS_QUERY][0].len, 253);
    hdr(&w, 1, 0, 1, 0, 0, 0);
    for (int i = 0; i < 128; i++) {
        u8(&w, 1);
        u8(&w, 'x');
    }
    u8(&w, 0);
    u16(&w, 1);
    u16(&w, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_EDNS_NAME_LEN);
}

/* ---- a response --------------------------------------------------------- */

static void test_response(void)
{
    wb w, rd;
    cg_dns_msg m;
    uint64_t q0 = ST.queries, r0 = ST.responses;

    hdr(&w, 0x1234, 0x8180, 1, 4, 1, 0);
    uint32_t q = question(&w, "www.tuyenquang.gov.vn", -1, 1);
    /* CNAME www -> web.<tuyenquang.gov.vn> */
    rd.n = 0;
    name(&rd, "web", (int)q + 4);
    rr(&w, "", (int)q, 5, rd.b, rd.n);
    uint32_t web = w.n - rd.n;
    static const uint8_t a[4] = { 203, 0, 113, 7 };
    rr(&w, "", (int)web, 1, a, 4);
    /* MX 10 mail.<tuyenquang.gov.vn> */
    rd.n = 0;
    u16(&rd, 10);
    name(&rd, "mail", (int)q + 4);
    rr(&w, "", (int)q + 4, 15, rd.b, rd.n);
    /* TXT */
    rd.n = 0;
    u8(&rd, 11);
    put(&rd, "v=spf1 -all", 11);
    rr(&w, "", (int)q + 4, 16, rd.b, rd.n);
    /* SOA in authority: ns1.<zone> hostmaster.<zone> and five numbers */
    rd.n = 0;
    name(&rd, "ns1", (int)q + 4);
    name(&rd, "hostmaster", (int)q + 4);
    for (int i = 0; i < 5; i++)
        u32(&rd, 1000u + (uint32_t)i);
    rr(&w, "", (int)q + 4, 6, rd.b, rd.n);

    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_OK);
    CHECK_EQ_U(m.qr, 1);
    CHECK_EQ_U(m.rcode, 0);
    CHECK_EQ_U(m.records, 5);
    CHECK_EQ_U(m.questions, 1);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 0); /* responses give no dns.query */
    CHECK((BS.present & (1ull << CG_BUF_DNS_QUERY)) == 0);
    CHECK_EQ_U(ST.responses, r0 + 1);
    CHECK_EQ_U(ST.queries, q0);

    /* the same response with a CNAME whose RDATA is longer than its name */
    /* the first RDLENGTH: after the question (23 + 4), the owner pointer, TYPE, CLASS, TTL */
    uint32_t cname_rdlen = (uint32_t)q + 23 + 4 + 2 + 2 + 2 + 4;
    wb w2 = w;
    patch16(&w2, cname_rdlen, rd.n); /* any other length lies */
    CHECK(parse_copy(w2.b, w2.n, w2.n, &m) < 0);

    /* an answer whose CNAME target loops: a pointer to its own RDATA */
    hdr(&w, 2, 0x8180, 1, 1, 0, 0);
    q = question(&w, "x.vn", -1, 1);
    name(&w, "", (int)q);
    u16(&w, 5);
    u16(&w, 1);
    u32(&w, 60);
    u16(&w, 4);
    uint32_t self = w.n;
    u8(&w, 1);
    u8(&w, 'y');
    u16(&w, 0xc000 | self);
    uint64_t loops = ST.loops;
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_EDNS_LOOP);
    CHECK_EQ_U(ST.loops, loops + 1);
    CHECK_EQ_U(m.err_off, self + 2);
}

/* ---- detail: questions and answers for logs ----------------------------- */

static cg_dns_detail DET;

static int parse_detail(const uint8_t *p, uint32_t len, uint32_t wire_len, cg_dns_msg *m)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c)
        abort();
    memcpy(c, p, len);
    int rc = cg_dns_parse_detail(c, len, wire_len, SCR, sizeof SCR, &BS, m, &ST, &DET);
    free(c);
    return rc;
}

static int text_is(const char *p, uint32_t n, const char *want)
{
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

static void test_detail(void)
{
    wb w, rd;
    cg_dns_msg m;

    /* a query: its questions with their types, dns.query as without detail */
    hdr(&w, 0x0a0b, 0x0100, 2, 0, 0, 0);
    uint32_t q = question(&w, "dichvucong.tuyenquang.gov.vn", -1, 1);
    question(&w, "www", (int)q, 28);
    CHECK_EQ_U(parse_detail(w.b, w.n, w.n, &m), CG_OK);
    CHECK_EQ_U(DET.nq, 2);
    CHECK(text_is(DET.q[0].name, DET.q[0].name_len, "dichvucong.tuyenquang.gov.vn"));
    CHECK_EQ_U(DET.q[0].type, 1);
    CHECK(text_is(DET.q[1].name, DET.q[1].name_len, "www.dichvucong.tuyenquang.gov.vn"));
    CHECK_EQ_U(DET.q[1].type, 28);
    CHECK_EQ_U(DET.nan, 0);
    CHECK_STR(query_str(0), "dichvucong.tuyenquang.gov.vn");
    CHECK_STR(query_str(1), "www.dichvucong.tuyenquang.gov.vn");

    /* a response: the question, and the answers with their data (CNAME, A,
     * AAAA, MX, TXT of two strings, and a type without a text form); the
     * authority's SOA is not an answer */
    hdr(&w, 0x1234, 0x8183, 1, 6, 1, 0);
    q = question(&w, "www.tuyenquang.gov.vn", -1, 1);
    rd.n = 0;
    name(&rd, "web", (int)q + 4);
    rr(&w, "", (int)q, 5, rd.b, rd.n);
    uint32_t web = w.n - rd.n;
    rr(&w, "", (int)web, 1, "\xcb\x00\x71\x07", 4);
    rr(&w, "", (int)web, 28, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x13", 16);
    rd.n = 0;
    u16(&rd, 10);
    name(&rd, "mail", (int)q + 4);
    rr(&w, "", (int)q + 4, 15, rd.b, rd.n);
    rr(&w, "", (int)q + 4, 16, "\x06v=spf1\x05 -all", 13);
    rr(&w, "", (int)q + 4, 99, "\x01x", 2);
    rd.n = 0;
    name(&rd, "ns1", (int)q + 4);
    name(&rd, "hostmaster", (int)q + 4);
    for (int i = 0; i < 5; i++)
        u32(&rd, 1000u + (uint32_t)i);
    rr(&w, "", (int)q + 4, 6, rd.b, rd.n);
    CHECK_EQ_U(parse_detail(w.b, w.n, w.n, &m), CG_OK);
    CHECK_EQ_U(m.rcode, 3);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 0); /* still no dns.query for a response */
    CHECK_EQ_U(DET.nq, 1);
    CHECK(text_is(DET.q[0].name, DET.q[0].name_len, "www.tuyenquang.gov.vn"));
    CHECK_EQ_U(DET.nan, 6);
    CHECK(text_is(DET.an[0].name, DET.an[0].name_len, "www.tuyenquang.gov.vn"));
    CHECK_EQ_U(DET.an[0].type, 5);
    CHECK_EQ_U(DET.an[0].ttl, 300);
    CHECK(text_is(DET.an[0].rdata, DET.an[0].rdata_len, "web.tuyenquang.gov.vn"));
    CHECK(text_is(DET.an[1].name, DET.an[1].name_len, "web.tuyenquang.gov.vn"));
    CHECK(text_is(DET.an[1].rdata, DET.an[1].rdata_len, "203.0.113.7"));
    CHECK(text_is(DET.an[2].rdata, DET.an[2].rdata_len, "2001:db8::13"));
    CHECK(text_is(DET.an[3].name, DET.an[3].name_len, "tuyenquang.gov.vn"));
    CHECK(text_is(DET.an[3].rdata, DET.an[3].rdata_len, "mail.tuyenquang.gov.vn"));
    CHECK(text_is(DET.an[4].rdata, DET.an[4].rdata_len, "v=spf1 -all"));
    CHECK_EQ_U(DET.an[5].type, 99);
    CHECK(DET.an[5].rdata == NULL);
    CHECK_EQ_U(DET.an_dropped, 0);
    CHECK_STR(cg_dns_type_name(28), "AAAA");
    CHECK_STR(cg_dns_type_name(5), "CNAME");
    CHECK(cg_dns_type_name(4242) == NULL);
    CHECK_STR(cg_dns_rcode_name(m.rcode), "NXDOMAIN");
    CHECK(cg_dns_rcode_name(15) == NULL);

    /* bounded: 20 answers keep 16, the rest counted */
    hdr(&w, 3, 0x8180, 1, 20, 0, 0);
    q = question(&w, "many.vn", -1, 1);
    for (int i = 0; i < 20; i++)
        rr(&w, "", (int)q, 1, "\x0a\x00\x00\x01", 4);
    CHECK_EQ_U(parse_detail(w.b, w.n, w.n, &m), CG_OK);
    CHECK_EQ_U(DET.nan, CG_DNS_DETAIL_ANSWERS);
    CHECK_EQ_U(DET.an_dropped, 20 - CG_DNS_DETAIL_ANSWERS);
    CHECK(text_is(DET.an[15].rdata, DET.an[15].rdata_len, "10.0.0.1"));

    /* an error: what parsed whole before it stays, nothing after */
    hdr(&w, 4, 0x8180, 1, 2, 0, 0);
    q = question(&w, "x.vn", -1, 1);
    rr(&w, "", (int)q, 1, "\x01\x02\x03\x04", 4);
    name(&w, "", (int)w.n + 8); /* a forward pointer */
    CHECK(parse_detail(w.b, w.n, w.n, &m) < 0);
    CHECK_EQ_U(DET.nq, 1);
    CHECK_EQ_U(DET.nan, 1);
    CHECK(text_is(DET.an[0].rdata, DET.an[0].rdata_len, "1.2.3.4"));
}

/* ---- name errors -------------------------------------------------------- */

static void test_name_errors(void)
{
    wb w;
    cg_dns_msg m;
    cg_dns_stats before = ST;

    /* a pointer to itself */
    hdr(&w, 1, 0, 1, 0, 0, 0);
    u16(&w, 0xc00c);
    u16(&w, 1);
    u16(&w, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_EDNS_LOOP);
    CHECK_EQ_U(m.err_off, 12);

    /* labels then a pointer back to the name's first label */
    hdr(&w, 1, 0, 1, 0, 0, 0);
    question(&w, "abc.def", 12, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_EDNS_LOOP);

    /* a pointer into its own run, after a legal jump: question 2 "b" jumps
     * back into question 1's label, whose bytes read as a pointer to "b" */
    hdr(&w, 1, 0, 2, 0, 0, 0);
    u8(&w, 2);
    u8(&w, 0xc0);
    u8(&w, 0x14);
    u8(&w, 0); /* 12: label "\xc0\x14" */
    u16(&w, 1);
    u16(&w, 1);
    CHECK_EQ_U(w.n, 20);
    u8(&w, 1);
    u8(&w, 'b');
    u16(&w, 0xc00d); /* 20: "b" -> 13 */
    u16(&w, 1);
    u16(&w, 1);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_EDNS_LOOP);
    CHECK_EQ_U(m.err_off, 13);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 1); /* question 1 is fine */

    /* the same with 0x13: lands between both runs: a forward pointer */
    w.b[14] = 0x13;
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_EDNS_PTR_FORWARD);

    /* a forward pointer to a good name */
    hdr(&w, 1, 0, 2, 0, 0, 0);
    question(&w, "a", 0, 1); /* 12..20, pointer at 14 */
    uint32_t q2 = question(&w, "target.vn", -1, 1);
    patch16(&w, 14, 0xc000 | q2);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_EDNS_PTR_FORWARD);

    /* pointers out of bounds: past the end, far past, into the header */
    static const unsigned bad[] = { 0xc000 | 200, 0xffff, 0xc000, 0xc005, 0xc00b };
    for (int i = 0; i < 5; i++) {
        hdr(&w, 1, 0, 1, 0, 0, 0);
        u8(&w, 1);
        u8(&w, 'q');
        u16(&w, bad[i]);
        u16(&w, 1);
        u16(&w, 1);
        CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_EDNS_PTR_RANGE);
        CHECK_EQ_U(m.err_off, 14);
    }

    /* label types 01 and 10 */
    static const uint8_t lt[] = { 0x40, 0x41, 0x7f, 0x80, 0xbf };
    for (int i = 0; i < 5; i++) {
        hdr(&w, 1, 0, 1, 0, 0, 0);
        u8(&w, 3);
        put(&w, "abc", 3);
        u8(&w, lt[i]);
        for (int k = 0; k < 200; k++)
            u8(&w, 'z');
        u8(&w, 0);
        u16(&w, 1);
        u16(&w, 1);
        CHECK_EQ_U(parse_copy(w.b, w.n, w.n, &m), CG_EDNS_LABEL);
        CHECK_EQ_U(m.err_off, 16);
    }

    /* pointer chains: each question a pointer to the one before */
    for (int hops = CG_DNS_MAX_HOPS; hops <= CG_DNS_MAX_HOPS + 1; hops++) {
        hdr(&w, 1, 0, (unsigned)hops + 1, 0, 0, 0);
        uint32_t prev = question(&w, "end.vn", -1, 1);
        for (int i = 0; i < hops; i++)
            prev = question(&w, "", (int)prev, 1);
        int rc = parse_copy(w.b, w.n, w.n, &m);
        if (hops == CG_DNS_MAX_HOPS) {
            CHECK_EQ_U(rc, CG_OK);
            CHECK(query_is(7, "end.vn"));
        } else {
            CHECK_EQ_U(rc, CG_EDNS_HOPS);
            CHECK_EQ_U(m.questions, hops);
        }
    }

    CHECK_EQ_U(ST.loops - before.loops, 3);
    CHECK_EQ_U(ST.forward_pointers - before.forward_pointers, 2);
    CHECK_EQ_U(ST.bad_pointers - before.bad_pointers, 5);
    CHECK_EQ_U(ST.long_labels - before.long_labels, 5);
    CHECK_EQ_U(ST.too_many_hops - before.too_many_hops, 1);
    CHECK_EQ_U(ST.invalid - before.invalid, 16);
}

/* ---- truncated versus invalid, lying counts, bounds ------------------- */

static void test_cuts(void)
{
    wb w;
    hdr(&w, 0x4242, 0x0100, 2, 0, 0, 1);
    uint32_t q1 = question(&w, "cong.tuyenquang.gov.vn", -1, 1);
    question(&w, "api", (int)q1 + 5, 28);
    rr(&w, "", (int)q1, 16, "\x05hello", 6);
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);

    unsigned bad = 0;
    for (uint32_t k = 0; k < w.n; k++) {
        cg_dns_msg m;
        int rc = parse_copy(w.b, k, w.n, &m); /* the capture cut it */
        if (rc != CG_ETRUNCATED)
            bad++;
        rc = parse_copy(w.b, k, k, &m); /* the datagram is that short */
        if (rc == CG_OK || rc == CG_ETRUNCATED)
            bad++;
        /* questions read whole before the cut stay */
        unsigned want = k >= 12 + 24 + 4 + 6 + 4 ? 2 : k >= 12 + 24 + 4 ? 1 : 0;
        if (BS.n[CG_BUF_DNS_QUERY] != want) {
            fprintf(stderr, "cut %u: %u names, expected %u\n", k, BS.n[CG_BUF_DNS_QUERY], want);
            bad++;
        }
    }
    CHECK_EQ_U(bad, 0);

    /* trailing bytes after the last record are ignored */
    wb w2 = w;
    put(&w2, "junk", 4);
    CHECK_EQ_U(parse_copy(w2.b, w2.n, w2.n, NULL), CG_OK);

    /* counts that lie: one more question (without the record), one more record */
    w2 = w;
    w2.n = 50;
    patch16(&w2, 4, 3);
    patch16(&w2, 10, 0);
    CHECK_EQ_U(parse_copy(w2.b, w2.n, w2.n, NULL), CG_EMALFORMED);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 2);
    w2 = w;
    patch16(&w2, 6, 0xffff);
    CHECK_EQ_U(parse_copy(w2.b, w2.n, w2.n, NULL), CG_EMALFORMED);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 2);
    /* an RDLENGTH past the end */
    w2 = w;
    patch16(&w2, w2.n - 8, 7);
    cg_dns_msg m;
    CHECK_EQ_U(parse_copy(w2.b, w2.n, w2.n, &m), CG_EMALFORMED);
    CHECK_EQ_U(m.err_off, w2.n - 6);
    /* and the header alone, short */
    CHECK_EQ_U(parse_copy(w.b, 11, 11, NULL), CG_EMALFORMED);
    CHECK_EQ_U(parse_copy(w.b, 0, 0, NULL), CG_EMALFORMED);
    CHECK_EQ_U(parse_copy(w.b, 11, 40, NULL), CG_ETRUNCATED);

    /* nine questions: eight instances kept */
    uint64_t dropped = ST.names_dropped;
    hdr(&w, 1, 0, 9, 0, 0, 0);
    for (int i = 0; i < 9; i++) {
        char n[16];
        snprintf(n, sizeof n, "q%d.vn", i);
        question(&w, n, -1, 1);
    }
    CHECK_EQ_U(parse_copy(w.b, w.n, w.n, NULL), CG_OK);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], CG_BUF_MAX_INST);
    CHECK(query_is(7, "q7.vn"));
    CHECK_EQ_U(ST.names_dropped, dropped + 1);

    /* a scratch too small for the second name */
    uint8_t small[12];
    hdr(&w, 1, 0, 2, 0, 0, 0);
    question(&w, "short.vn", -1, 1);
    question(&w, "longer.name.vn", -1, 1);
    cg_dns_stats st;
    memset(&st, 0, sizeof st);
    CHECK_EQ_U(cg_dns_parse(w.b, w.n, w.n, small, sizeof small, &BS, NULL, &st), CG_OK);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 1);
    CHECK_EQ_U(st.names_dropped, 1);
    CHECK(BS.v[CG_BUF_DNS_QUERY][0].p == small);
    CHECK_EQ_U(cg_dns_parse(w.b, w.n, w.n, NULL, 0, &BS, NULL, &st), CG_OK);
    CHECK_EQ_U(BS.n[CG_BUF_DNS_QUERY], 0);
    CHECK_EQ_U(st.names_dropped, 3);
    CHECK_EQ_U(st.messages, 2);
    CHECK_EQ_U(st.questions, 4);

    CHECK_STR(cg_strerror(CG_EDNS_LOOP), "compression loop");
    CHECK_STR(cg_strerror(CG_ETRUNCATED), "truncated");
}

/* ---- DNS over TCP -------------------------------------------------------- */

typedef struct tcp_rec {
    int n;
    int rc[8];
    uint32_t len[8], wire[8];
    char first[8][64];
} tcp_rec;

static void tcp_take(tcp_rec *r, const cg_dns_frame *f, cg_dns_stats *st)
{
    static uint8_t scr[CG_DNS_SCRATCH_SIZE];
    cg_bufset bs;
    uint8_t *copy = malloc(f->len ? f->len : 1);
    if (!copy)
        abort();
    memcpy(copy, f->msg, f->len);
    int rc = cg_dns_parse(copy, f->len, f->wire_len, scr, sizeof scr, &bs, NULL, st);
    free(copy);
    if (r->n >= 8)
        return;
    r->rc[r->n] = rc;
    r->len[r->n] = f->len;
    r->wire[r->n] = f->wire_len;
    r->first[r->n][0] = 0;
    if (bs.n[CG_BUF_DNS_QUERY]) {
        uint32_t l = bs.v[CG_BUF_DNS_QUERY][0].len < 63 ? bs.v[CG_BUF_DNS_QUERY][0].len : 63;
        memcpy(r->first[r->n], bs.v[CG_BUF_DNS_QUERY][0].p, l);
        r->first[r->n][l] = 0;
    }
    r->n++;
}

/* Feeds s cut at the given points (sorted, within s), each piece an exact
 * copy. */
static void tcp_feed(const uint8_t *s, uint32_t n, const uint32_t *cuts, int ncuts, tcp_rec *r,
                     cg_dns_stats *st, int end)
{
    cg_dns_tcp *t = calloc(1, sizeof *t);
    uint32_t at = 0;
    r->n = 0;
    for (int i = 0; i <= ncuts; i++) {
        uint32_t to = i < ncuts ? cuts[i] : n;
        uint32_t len = to - at;
        uint8_t *piece = malloc(len ? len : 1);
        memcpy(piece, s + at, len);
        const uint8_t *p = piece;
        cg_dns_frame f;
        while (cg_dns_tcp_next(t, &p, &len, &f, st) == 1)
            tcp_take(r, &f, st);
        if (len != 0)
            r->n = 99; /* bytes left behind */
        free(piece);
        at = to;
    }
    if (end) {
        cg_dns_frame f;
        if (cg_dns_tcp_end(t, &f, st))
            tcp_take(r, &f, st);
    }
    free(t);
}

static int rec_same(const tcp_rec *a, const tcp_rec *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->rc[i] != b->rc[i] || a->len[i] != b->len[i] || a->wire[i] != b->wire[i] ||
            strcmp(a->first[i], b->first[i]) != 0)
            return 0;
    return 1;
}

static void test_tcp(void)
{
    static uint8_t s[4096];
    uint32_t n = 0;
    wb w;

    /* three messages: a query, a query with a 1500-byte TXT additional (over
     * CG_DNS_TCP_KEEP: clipped, so TRUNCATED, its question still seen), a response */
    hdr(&w, 1, 0x0100, 1, 0, 0, 0);
    question(&w, "dichvucong.tuyenquang.gov.vn", -1, 1);
    cg_put_be16(s + n, (uint16_t)w.n);
    memcpy(s + n + 2, w.b, w.n);
    n += 2 + w.n;
    hdr(&w, 2, 0x0100, 1, 0, 0, 1);
    uint32_t q = question(&w, "big.tuyenquang.gov.vn", -1, 16);
    static uint8_t txt[1500];
    memset(txt, 'T', sizeof txt);
    for (uint32_t i = 0; i < sizeof txt; i += 250)
        txt[i] = 249;
    rr(&w, "", (int)q, 16, txt, sizeof txt);
    cg_put_be16(s + n, (uint16_t)w.n);
    memcpy(s + n + 2, w.b, w.n);
    n += 2 + w.n;
    uint32_t big_len = w.n;
    hdr(&w, 1, 0x8180, 1, 1, 0, 0);
    q = question(&w, "dichvucong.tuyenquang.gov.vn", -1, 1);
    rr(&w, "", (int)q, 1, "\x0a\x00\x00\x01", 4);
    cg_put_be16(s + n, (uint16_t)w.n);
    memcpy(s + n + 2, w.b, w.n);
    n += 2 + w.n;

    cg_dns_stats st;
    memset(&st, 0, sizeof st);
    tcp_rec whole, r;
    tcp_feed(s, n, NULL, 0, &whole, &st, 1);
    CHECK_EQ_U(whole.n, 3);
    CHECK_EQ_U(whole.rc[0], CG_OK);
    CHECK_STR(whole.first[0], "dichvucong.tuyenquang.gov.vn");
    CHECK_EQ_U(whole.rc[1], CG_ETRUNCATED);
    CHECK_EQ_U(whole.len[1], CG_DNS_TCP_KEEP);
    CHECK_EQ_U(whole.wire[1], big_len);
    CHECK_STR(whole.first[1], "big.tuyenquang.gov.vn");
    CHECK_EQ_U(whole.rc[2], CG_OK);
    CHECK_STR(whole.first[2], "");
    CHECK_EQ_U(st.tcp_messages, 3);
    CHECK_EQ_U(st.tcp_clipped, 1);

    /* every split in two, and in three around each message boundary, and byte by byte */
    unsigned bad = 0;
    for (uint32_t c = 0; c <= n; c++) {
        tcp_feed(s, n, &c, 1, &r, &st, 1);
        bad += !rec_same(&whole, &r);
    }
    for (uint32_t c = 0; c + 7 <= n; c += 3) {
        uint32_t cuts[2] = { c, c + 7 };
        tcp_feed(s, n, cuts, 2, &r, &st, 1);
        bad += !rec_same(&whole, &r);
    }
    static uint32_t every[4096];
    for (uint32_t i = 0; i < n; i++)
        every[i] = i;
    tcp_feed(s, n, every, (int)n, &r, &st, 1);
    bad += !rec_same(&whole, &r);
    CHECK_EQ_U(bad, 0);

    /* cut short: the partial message comes out at the end, truncated */
    memset(&st, 0, sizeof st);
    uint32_t cut = 2 + 30;
    tcp_feed(s, cut, NULL, 0, &r, &st, 1);
    CHECK_EQ_U(r.n, 1);
    CHECK_EQ_U(r.rc[0], CG_ETRUNCATED);
    CHECK_EQ_U(r.len[0], 30);
    CHECK_EQ_U(st.tcp_partial, 1);
    /* cut inside the prefix: nothing */
    tcp_feed(s, 1, NULL, 0, &r, &st, 1);
    CHECK_EQ_U(r.n, 0);

    /* a zero-length frame, then a message */
    static uint8_t z[64];
    z[0] = 0;
    z[1] = 0;
    memcpy(z + 2, s, 48);
    tcp_feed(z, 50, NULL, 0, &r, &st, 0);
    CHECK_EQ_U(r.n, 2);
    CHECK_EQ_U(r.rc[0], CG_EMALFORMED);
    CHECK_EQ_U(r.rc[1], CG_OK);

    /* a gap: nothing more from the direction */
    cg_dns_tcp *t = calloc(1, sizeof *t);
    const uint8_t *p = s;
    uint32_t len = 20;
    cg_dns_frame f;
    memset(&st, 0, sizeof st);
    CHECK_EQ_U(cg_dns_tcp_next(t, &p, &len, &f, &st), 0);
    cg_dns_tcp_gap(t, &st);
    p = s;
    len = n;
    CHECK_EQ_U(cg_dns_tcp_next(t, &p, &len, &f, &st), 0);
    CHECK_EQ_U(len, 0);
    CHECK_EQ_U(cg_dns_tcp_end(t, &f, &st), 0);
    CHECK_EQ_U(st.tcp_lost, 1);
    CHECK_EQ_U(st.tcp_partial, 1);
    CHECK_EQ_U(st.tcp_messages, 0);
    free(t);
}

/* ---- random input --------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Results and counters agree, and every view lies inside the scratch. */
static unsigned check_result(int rc, const cg_dns_stats *a, const cg_dns_stats *b)
{
    unsigned bad = 0;
    bad += b->messages != a->messages + 1;
    bad += (b->truncated - a->truncated) != (rc == CG_ETRUNCATED);
    bad += (b->invalid - a->invalid) != (rc != CG_OK && rc != CG_ETRUNCATED);
    uint64_t sub = (b->long_labels - a->long_labels) + (b->long_names - a->long_names) +
        (b->loops - a->loops) + (b->forward_pointers - a->forward_pointers) +
        (b->bad_pointers - a->bad_pointers) + (b->too_many_hops - a->too_many_hops);
    bad += sub != (rc <= CG_EDNS_LABEL);
    bad += rc > 0 || rc < CG_EDNS_HOPS;
    for (int i = 0; i < BS.n[CG_BUF_DNS_QUERY]; i++) {
        const cg_bufview *v = &BS.v[CG_BUF_DNS_QUERY][i];
        bad += v->len > 253;
        bad += v->p < SCR || v->p + v->len > SCR + sizeof SCR;
    }
    for (int id = 0; id < CG_BUF_COUNT; id++)
        bad += id != CG_BUF_DNS_QUERY && BS.n[id] != 0;
    return bad;
}

static void test_fuzz(void)
{
    wb seeds[4];
    hdr(&seeds[0], 1, 0x0100, 2, 0, 0, 1);
    uint32_t q = question(&seeds[0], "dichvucong.tuyenquang.gov.vn", -1, 1);
    question(&seeds[0], "www", (int)q, 28);
    rr(&seeds[0], "", -1, 41, "", 0);
    hdr(&seeds[1], 2, 0x8180, 1, 2, 1, 0);
    q = question(&seeds[1], "mail.gov.vn", -1, 15);
    rr(&seeds[1], "", (int)q, 5, "\x02mx\xc0\x11", 5);
    rr(&seeds[1], "", (int)q + 5, 15, "\x00\x0a\x02mx\xc0\x11", 7);
    rr(&seeds[1], "", (int)q + 5, 6,
       "\x03ns1\xc0\x11\x02hm\xc0\x11"
       "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5",
       32);
    hdr(&seeds[2], 3, 0x2800, 1, 0, 0, 0);
    question(&seeds[2], "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", -1, 6);
    hdr(&seeds[3], 4, 0x0100, 3, 0, 0, 0);
    q = question(&seeds[3], "x.vn", -1, 16);
    uint32_t q2 = question(&seeds[3], "y", (int)q, 16);
    question(&seeds[3], "z", (int)q2, 16);

    unsigned bad = 0;
    uint64_t ok = 0, trunc = 0, inval = 0;
    for (int i = 0; i < 200000; i++) {
        wb w;
        uint32_t len;
        if (i % 4 == 3) {
            /* random bytes, with a header that claims a few entries */
            len = rnd() % 300;
            for (uint32_t k = 0; k < len; k++)
                w.b[k] = (uint8_t)rnd();
            if (len >= 12) {
                w.b[4] = 0;
                w.b[5] = (uint8_t)(rnd() % 4);
                w.b[6] = 0;
                w.b[7] = (uint8_t)(rnd() % 4);
            }
        } else {
            w = seeds[rnd() % 4];
            len = w.n;
            int muts = 1 + (int)(rnd() % 4);
            for (int k = 0; k < muts && len > 0; k++) {
                uint32_t at = rnd() % len;
                switch (rnd() % 5) {
                case 0: w.b[at] = (uint8_t)rnd(); break;
                case 1: w.b[at] = (uint8_t)(0xc0 | (rnd() % 2)); break; /* a pointer byte */
                case 2: w.b[at] = (uint8_t)(rnd() % 70); break;         /* a length byte */
                case 3: len = at; break;                                /* cut */
                default: w.b[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
                }
            }
        }
        uint32_t wire = (i % 8 == 0) ? len + rnd() % 100 : len;
        cg_dns_stats before = ST;
        int rc = i % 2 ? parse_copy(w.b, len, wire, NULL) : parse_detail(w.b, len, wire, NULL);
        if (i % 2 == 0 &&
            (DET.used > CG_DNS_DETAIL_TEXT || DET.nq > CG_DNS_DETAIL_QUESTIONS ||
             DET.nan > CG_DNS_DETAIL_ANSWERS))
            bad++;
        bad += check_result(rc, &before, &ST);
        ok += rc == CG_OK;
        trunc += rc == CG_ETRUNCATED;
        inval += rc != CG_OK && rc != CG_ETRUNCATED;
    }
    CHECK_EQ_U(bad, 0);
    CHECK(ok > 1000 && trunc > 1000 && inval > 1000);
    printf("fuzz: %llu ok, %llu truncated, %llu invalid\n", (unsigned long long)ok,
           (unsigned long long)trunc, (unsigned long long)inval);

    /* random streams through the TCP framing */
    cg_dns_stats st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < 2000; i++) {
        static uint8_t s[3000];
        uint32_t n = rnd() % sizeof s;
        for (uint32_t k = 0; k < n; k++)
            s[k] = (uint8_t)(k % 40 == 0 ? rnd() % 8 : rnd());
        uint32_t cuts[6];
        int nc = (int)(rnd() % 6);
        for (int k = 0; k < nc; k++)
            cuts[k] = n ? rnd() % n : 0;
        for (int a = 1; a < nc; a++)
            for (int b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
                uint32_t x = cuts[b];
                cuts[b] = cuts[b - 1];
                cuts[b - 1] = x;
            }
        tcp_rec r;
        tcp_feed(s, n, cuts, nc, &r, &st, 1);
        bad += r.n == 99;
    }
    CHECK_EQ_U(bad, 0);
}

int main(void)
{
    test_queries();
    test_name_length();
    test_response();
    test_detail();
    test_name_errors();
    test_cuts();
    test_tcp();
    test_fuzz();
    return check_done("test_dns");
}
