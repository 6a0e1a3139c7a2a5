/* fuzz_store_rec.c — libFuzzer harness: the store's decoders of records read
 * from disk (store/store_int.h, store_rec.c), which take untrusted bytes.
 *
 * Input: byte 0 chooses the record kind (bits 0-1: incident, alert, evidence,
 * history; with bit 3 set, bit 0 chooses a case record or a case's history
 * event, store_case.c; with bit 4 set, an outbox record, store_outbox.c;
 * with bit 5 set, bits 0-1 choose a user, an API token or an audit record,
 * store_user.c) and, with bit 2, that the harness writes the record's seal (its
 * last 4 bytes, the checksum of those before) before decoding, so that mutated
 * records reach the layout's checks past the seal; the rest is the record,
 * in a buffer of exactly its size. A record of the unsealed version before
 * the current one is sealed too (cgs_rec_reseal), and what that gives must
 * decode. A record
 * that decodes is encoded again (size, encode) and the copy must decode too,
 * to the same fixed fields and the same strings (a failure aborts); for an
 * incident cgs_inc_peek must accept what cgs_inc_decode accepted. (A history
 * entry's seq is in its key, not its record, so it is not compared.) Every
 * string and byte view of a decoded record is read. Nothing is kept.
 */
#include "tests/fuzz/fuzz_common.h"

#include "store/store.h"
#include "store/store_int.h"

#define STR(s)                    \
    do {                          \
        if (!(s))                 \
            abort();              \
        fz_touch((s), strlen(s)); \
    } while (0)

static int str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static void touch_geo(const cg_incident_geo *g)
{
    fz_touch(g->country, strnlen(g->country, sizeof g->country));
    STR(g->city);
    STR(g->as_org);
    STR(g->agency);
    STR(g->zone);
}

static void touch_inc(const cg_incident *x)
{
    STR(x->community_id);
    STR(x->msg);
    STR(x->classtype);
    STR(x->assignee);
    STR(x->geo_db_type);
    STR(x->geo_db_date);
    STR(x->app_proto);
    STR(x->http_method);
    STR(x->http_host);
    STR(x->http_url);
    STR(x->http_user_agent);
    STR(x->dns_query);
    STR(x->tls_sni);
    STR(x->tls_ja3);
    touch_geo(&x->src_geo);
    touch_geo(&x->dst_geo);
    if (x->payload_match > x->payload_len)
        abort();
    if (x->payload_len)
        fz_touch(x->payload, x->payload_len);
}

static void fail(const char *what, const char *why)
{
    fprintf(stderr, "fuzz_store_rec: %s: %s\n", what, why ? why : "");
    abort();
}

static void do_inc(const uint8_t *p, size_t n)
{
    cg_incident x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    const char *why = NULL;
    if (cgs_inc_decode(p, n, &x, &why) != 0)
        return;
    touch_inc(&x);
    if (cgs_inc_peek(p, n, x.id, &why) != 0)
        fail("peek refused a record decode accepted", why);
    size_t sz = cgs_inc_size(&x, &why);
    if (sz == 0)
        return; /* a field the encoder refuses (decode may be more lenient) */
    uint8_t *q = malloc(sz);
    if (!q)
        abort();
    cgs_inc_encode(q, &x);
    if (cgs_inc_decode(q, sz, &y, &why) != 0)
        fail("re-encoded incident does not decode", why);
    if (y.id != x.id || y.sid != x.sid || y.gid != x.gid || y.count != x.count ||
        y.first_us != x.first_us || y.last_us != x.last_us || y.payload_len != x.payload_len ||
        memcmp(y.src, x.src, 16) || memcmp(y.dst, x.dst, 16) || !str_eq(y.msg, x.msg) ||
        !str_eq(y.http_url, x.http_url) || !str_eq(y.community_id, x.community_id) ||
        !str_eq(y.src_geo.city, x.src_geo.city))
        fail("incident changed through encode and decode", "");
    free(q);
}

static void do_alert(const uint8_t *p, size_t n)
{
    cg_alert a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    const char *why = NULL;
    if (cgs_alert_decode(p, n, &a, &why) != 0)
        return;
    STR(a.community_id);
    size_t sz = cgs_alert_size(&a);
    if (sz == 0)
        return;
    uint8_t *q = malloc(sz);
    if (!q)
        abort();
    cgs_alert_encode(q, &a);
    if (cgs_alert_decode(q, sz, &b, &why) != 0)
        fail("re-encoded alert does not decode", why);
    if (a.ts_us != b.ts_us || a.flow_id != b.flow_id || a.sport != b.sport ||
        a.evidence_seq != b.evidence_seq || !str_eq(a.community_id, b.community_id))
        fail("alert changed through encode and decode", "");
    free(q);
}

static void do_ev(const uint8_t *p, size_t n)
{
    cg_evidence e;
    memset(&e, 0, sizeof e);
    const char *why = NULL;
    if (cgs_ev_decode(p, n, &e, &why) != 0)
        return;
    if (e.caplen > n)
        fail("evidence longer than its record", "");
    if (e.caplen)
        fz_touch(e.data, e.caplen);
}

static void do_hist(const uint8_t *p, size_t n)
{
    cg_history h, k;
    memset(&h, 0, sizeof h);
    memset(&k, 0, sizeof k);
    const char *why = NULL;
    if (cgs_hist_decode(p, n, &h, &why) != 0)
        return;
    STR(h.who);
    STR(h.old_text);
    STR(h.new_text);
    size_t sz = cgs_hist_size(&h);
    if (sz == 0)
        return;
    uint8_t *q = malloc(sz);
    if (!q)
        abort();
    cgs_hist_encode(q, &h);
    if (cgs_hist_decode(q, sz, &k, &why) != 0)
        fail("re-encoded history entry does not decode", why);
    if (h.when_us != k.when_us || h.kind != k.kind || h.old_num != k.old_num ||
        !str_eq(h.who, k.who) || !str_eq(h.new_text, k.new_text))
        fail("history entry changed through encode and decode", "");
    free(q);
}

static void do_case(const uint8_t *p, size_t n)
{
    cg_case c, d;
    const char *why = NULL;
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    if (cgs_case_decode(p, n, &c, &why) != 0)
        return;
    STR(c.title);
    STR(c.owner);
    size_t sz = cgs_case_size(&c);
    if (sz == 0)
        return;
    uint8_t *q = malloc(sz);
    if (!q)
        abort();
    cgs_case_encode(q, &c);
    if (cgs_case_decode(q, sz, &d, &why) != 0)
        fail("re-encoded case does not decode", why);
    if (c.id != d.id || c.status != d.status || c.nincidents != d.nincidents ||
        c.nhistory != d.nhistory || c.nnotes != d.nnotes || c.created_us != d.created_us ||
        c.updated_us != d.updated_us || !str_eq(c.title, d.title) || !str_eq(c.owner, d.owner))
        fail("case changed through encode and decode", "");
    free(q);
}

static void do_cev(const uint8_t *p, size_t n)
{
    cg_case_event e, f;
    const char *why = NULL;
    memset(&e, 0, sizeof e);
    memset(&f, 0, sizeof f);
    if (cgs_cev_decode(p, n, &e, &why) != 0)
        return;
    STR(e.who);
    STR(e.old_text);
    STR(e.text);
    size_t sz = cgs_cev_size(&e);
    if (sz == 0)
        return;
    uint8_t *q = malloc(sz);
    if (!q)
        abort();
    cgs_cev_encode(q, &e);
    if (cgs_cev_decode(q, sz, &f, &why) != 0)
        fail("re-encoded case event does not decode", why);
    if (e.kind != f.kind || e.when_us != f.when_us || e.incident != f.incident ||
        e.old_num != f.old_num || e.new_num != f.new_num || !str_eq(e.who, f.who) ||
        !str_eq(e.old_text, f.old_text) || !str_eq(e.text, f.text))
        fail("case event changed through encode and decode", "");
    free(q);
}

static void do_outbox(const uint8_t *p, size_t n)
{
    cg_outbox_entry e, f;
    const char *why = NULL;
    memset(&e, 0, sizeof e);
    memset(&f, 0, sizeof f);
    if (cgs_outbox_decode(p, n, &e, &why) != 0)
        return;
    STR(e.spec);
    STR(e.error);
    size_t sz = cgs_outbox_size(e.spec, e.error);
    if (sz != n)
        fail("outbox record: its size is not what it decoded from", "");
    uint8_t *q = malloc(sz);
    if (!q)
        abort();
    cgs_outbox_encode(q, &e);
    if (cgs_outbox_decode(q, sz, &f, &why) != 0)
        fail("re-encoded outbox record does not decode", why);
    if (e.attempts != f.attempts || e.created_us != f.created_us || e.next_us != f.next_us ||
        e.last_us != f.last_us || !str_eq(e.spec, f.spec) || !str_eq(e.error, f.error) ||
        p[0] != q[0])
        fail("outbox record changed through encode and decode", "");
    free(q);
}

/* The console's records (store_user.c): each decoded one re-encodes to the
 * same bytes but the reserved ones (written 0) and so the seal: the first
 * hdr bytes of the 4-byte header, and all from offset 4 to the seal. */
static void same_again(const char *what, const uint8_t *p, size_t n, uint8_t *q, size_t m,
                       size_t hdr)
{
    if (!q)
        abort();
    if (m != n || memcmp(p, q, hdr) || memcmp(p + 4, q + 4, n - 4 - REC_SEAL))
        fail(what, "changed through encode and decode");
    free(q);
}

static void do_account(unsigned kind, const uint8_t *p, size_t n)
{
    const char *why = NULL, *hash = NULL;
    uint8_t *q;
    size_t m = 0;
    cg_user u;
    cg_token_info t;
    cg_audit a;

    memset(&u, 0, sizeof u);
    memset(&t, 0, sizeof t);
    memset(&a, 0, sizeof a);
    switch (kind) {
    case 0:
        if (cgs_user_decode(p, n, &u, &hash, &why) != 0)
            return;
        STR(u.name);
        STR(hash);
        if (!cg_user_name_ok(u.name) || !cg_role_name(u.role) || u.disabled > 1)
            fail("user record", "decoded with a bad name, role or flag");
        q = cgs_user_encode(&u, hash, &m);
        same_again("user record", p, n, q, m, 3);
        break;
    case 1:
        if (cgs_token_decode(p, n, &t, &why) != 0)
            return;
        STR(t.user);
        STR(t.label);
        q = cgs_token_encode(&t, &m);
        same_again("token record", p, n, q, m, 1);
        break;
    default:
        if (cgs_audit_decode(p, n, &a, &why) != 0)
            return;
        STR(a.who);
        STR(a.address);
        STR(a.detail);
        if (!cg_audit_event_name(a.event))
            fail("audit record", "decoded with an unknown event");
        q = cgs_audit_encode(&a, &m);
        same_again("audit record", p, n, q, m, 2);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* exactly the record's bytes, so that a read past them is found */
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    memcpy(p, data + 1, n);
    if ((data[0] & 4) && n >= REC_SEAL)
        cgs_seal(p, n);
    if (data[0] & 32) {
        do_account(data[0] & 3, p, n);
        free(p);
        return 0;
    }
    if (data[0] & 16) {
        do_outbox(p, n);
        free(p);
        return 0;
    }
    if (data[0] & 8) {
        if (data[0] & 1)
            do_cev(p, n);
        else
            do_case(p, n);
        free(p);
        return 0;
    }
    {
        static const int dbs[4] = { DB_INC, DB_ALERT, DB_EV, DB_HIST };
        uint8_t *q = malloc(n + REC_SEAL);
        if (!q)
            abort();
        if (cgs_rec_reseal(dbs[data[0] & 3], p, n, q)) {
            const char *why = NULL;
            union {
                cg_incident x;
                cg_alert a;
                cg_evidence e;
                cg_history h;
            } u;
            int rc;
            switch (data[0] & 3) {
            case 0: rc = cgs_inc_decode(q, n + REC_SEAL, &u.x, &why); break;
            case 1: rc = cgs_alert_decode(q, n + REC_SEAL, &u.a, &why); break;
            case 2: rc = cgs_ev_decode(q, n + REC_SEAL, &u.e, &why); break;
            default: rc = cgs_hist_decode(q, n + REC_SEAL, &u.h, &why); break;
            }
            if (rc != 0)
                fail("a sealed record does not decode", why);
        }
        free(q);
    }
    switch (data[0] & 3) {
    case 0: do_inc(p, n); break;
    case 1: do_alert(p, n); break;
    case 2: do_ev(p, n); break;
    default: do_hist(p, n); break;
    }
    free(p);
    return 0;
}
