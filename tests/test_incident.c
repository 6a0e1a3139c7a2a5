/* test_incident.c — the alert-to-incident fold: key (with the destination
 * port), window, evidence numbering, severity escalation, the alerts handed
 * to the alert sink, flush of dirty incidents, eviction when the table is
 * full; and the EVE alert line, parsed back with json-c (text that is not
 * UTF-8 written as U+FFFD). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/output/eve.h"
#include "analyzer/output/incident.h"
#include "tests/check.h"

typedef struct sinkrec {
    uint64_t next_id;
    uint64_t flushed[64];
    uint64_t counts[64];
    uint64_t escalated_from[64];
    uint8_t severity[64];
    int n;
    /* the alert sink */
    uint64_t alert_inc[64];
    cg_fold_alert alerts[64];
    int nalerts, fail_alerts;
    /* the caller's area: each holds its incident's id, checked at the sink */
    cg_incidents *ag;
    int user_bad, calls;
} sinkrec;

static uint64_t new_id(void *arg)
{
    return ++((sinkrec *)arg)->next_id;
}

static int sink(const cg_open_incident *inc, void *arg)
{
    sinkrec *s = arg;
    s->calls++;
    if (s->ag && *(const uint64_t *)cg_incidents_user(s->ag, inc) != inc->id)
        s->user_bad++;
    if (s->n < 64) {
        s->flushed[s->n] = inc->id;
        s->counts[s->n] = inc->count;
        s->escalated_from[s->n] = inc->escalated_from;
        s->severity[s->n] = inc->severity;
        s->n++;
    }
    return 0;
}

static int alert_sink(const cg_open_incident *inc, const cg_fold_alert *a, void *arg)
{
    sinkrec *s = arg;
    if (s->fail_alerts)
        return -1;
    if (s->nalerts < 64) {
        s->alert_inc[s->nalerts] = inc->id;
        s->alerts[s->nalerts] = *a;
        s->nalerts++;
    }
    return 0;
}

static cg_packet mkpkt(unsigned src_last, unsigned dst_last, uint64_t ts)
{
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ipver = 4;
    p.proto = 6;
    p.flags = CG_PKT_HAS_PORTS;
    p.src[10] = p.src[11] = p.dst[10] = p.dst[11] = 0xff;
    p.src[12] = 89;
    p.src[13] = 160;
    p.src[14] = 20;
    p.src[15] = (uint8_t)src_last;
    p.dst[12] = 10;
    p.dst[13] = 20;
    p.dst[14] = 1;
    p.dst[15] = (uint8_t)dst_last;
    p.sport = 51000;
    p.dport = 80;
    p.ts_us = ts;
    return p;
}

static void test_fold(void)
{
    cg_rule r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    r1.gid = r2.gid = 1;
    r1.sid = 9100101;
    r2.sid = 9100102;
    r1.severity = r2.severity = 1;
    sinkrec s;
    memset(&s, 0, sizeof s);
    cg_incidents_cfg cfg = { .window_s = 60, .max_evidence = 2, .capacity = 64 };
    cg_incidents *ag;
    CHECK(cg_incidents_create(&ag, &cfg, new_id, sink, &s) == 0);
    int ev, created;
    cg_packet p = mkpkt(112, 10, 1000000);
    cg_open_incident *a = cg_incidents_fold(ag, &r1, &p, 77, "1:abc", 0, 1, &ev, &created);
    CHECK(a != NULL && created == 1 && ev == 0 && a->id == 1);
    p.ts_us = 2000000;
    a = cg_incidents_fold(ag, &r1, &p, 77, "1:abc", 0, 1, &ev, &created);
    CHECK(a != NULL && created == 0 && ev == 1 && a->count == 2);
    p.ts_us = 3000000;
    a = cg_incidents_fold(ag, &r1, &p, 77, "1:abc", 0, 1, &ev, &created);
    CHECK(a != NULL && created == 0 && ev == -1 && a->count == 3); /* evidence full */
    CHECK(a && a->first_us == 1000000 && a->last_us == 3000000);
    CHECK_STR(a ? a->community_id : NULL, "1:abc");
    /* another rule, another destination: their own incidents */
    a = cg_incidents_fold(ag, &r2, &p, 77, "1:abc", 0, 1, &ev, &created);
    CHECK(a && created == 1 && a->id == 2);
    cg_packet q = mkpkt(112, 11, 3000000);
    a = cg_incidents_fold(ag, &r1, &q, 78, "1:def", 0, 1, &ev, &created);
    CHECK(a && created == 1 && a->id == 3);
    /* past the window: a new incident of the same key */
    p.ts_us = 1000000 + 60000000;
    a = cg_incidents_fold(ag, &r1, &p, 77, "1:abc", 0, 1, &ev, &created);
    CHECK(a && created == 1 && a->id == 4 && a->count == 1);
    CHECK(cg_incidents_flush(ag) == 0);
    CHECK_EQ_U(s.n, 4);
    int again = s.n;
    CHECK(cg_incidents_flush(ag) == 0);
    CHECK_EQ_U(s.n, again); /* nothing dirty twice */
    cg_incidents_stats st;
    cg_incidents_get_stats(ag, &st);
    CHECK_EQ_U(st.created, 4);
    CHECK_EQ_U(st.folded, 2);
    cg_incidents_destroy(ag);
}

static void test_full_table(void)
{
    cg_rule r;
    memset(&r, 0, sizeof r);
    r.gid = 1;
    r.sid = 5;
    sinkrec s;
    memset(&s, 0, sizeof s);
    cg_incidents_cfg cfg = { .window_s = 3600, .max_evidence = 1, .capacity = 64 };
    cg_incidents *ag;
    CHECK(cg_incidents_create(&ag, &cfg, new_id, sink, &s) == 0);
    int ev, created, fails = 0;
    for (unsigned i = 0; i < 200; i++) {
        cg_packet p = mkpkt(i & 255, (i >> 8) + 1, 1000000 + i);
        if (!cg_incidents_fold(ag, &r, &p, i, "", 0, 1, &ev, &created) || !created)
            fails++;
    }
    CHECK_EQ_U(fails, 0);
    CHECK(cg_incidents_flush(ag) == 0);
    cg_incidents_stats st;
    cg_incidents_get_stats(ag, &st);
    CHECK_EQ_U(st.created, 200);
    CHECK(st.evicted >= 200 - 64);
    cg_incidents_destroy(ag);
}

/* The destination port is part of the key: the same rule, source and
 * destination on two ports are two incidents. */
static void test_dport_key(void)
{
    cg_rule r;
    memset(&r, 0, sizeof r);
    r.gid = 1;
    r.sid = 7;
    r.severity = 2;
    sinkrec s;
    memset(&s, 0, sizeof s);
    cg_incidents_cfg cfg = { .window_s = 60, .max_evidence = 1, .capacity = 64 };
    cg_incidents *ag;
    CHECK(cg_incidents_create(&ag, &cfg, new_id, sink, &s) == 0);
    int ev, created;
    cg_packet p = mkpkt(1, 2, 1000000);
    cg_open_incident *a = cg_incidents_fold(ag, &r, &p, 1, "", 0, 1, &ev, &created);
    CHECK(a && created && a->id == 1 && a->dport == 80);
    p.dport = 443;
    a = cg_incidents_fold(ag, &r, &p, 1, "", 0, 1, &ev, &created);
    CHECK(a && created && a->id == 2 && a->dport == 443);
    p.dport = 80;
    p.sport = 40000; /* another source port: the same incident */
    a = cg_incidents_fold(ag, &r, &p, 2, "", 0, 1, &ev, &created);
    CHECK(a && !created && a->id == 1 && a->count == 2 && a->sport == 51000);
    p.dport = 443;
    a = cg_incidents_fold(ag, &r, &p, 2, "", 0, 1, &ev, &created);
    CHECK(a && !created && a->id == 2 && a->count == 2);
    /* replies from the server (a to_client rule): the service port is the
     * source port, so new connections from new client ports fold together */
    cg_packet q = mkpkt(2, 1, 2000000);
    q.sport = 21;
    q.dport = 50001;
    a = cg_incidents_fold(ag, &r, &q, 3, "", 0, 0, &ev, &created);
    CHECK(a && created && a->id == 3 && a->service_port == 21);
    q.dport = 50002;
    a = cg_incidents_fold(ag, &r, &q, 4, "", 0, 0, &ev, &created);
    CHECK(a && !created && a->id == 3 && a->count == 2 && a->dport == 50001);
    q.sport = 990;
    a = cg_incidents_fold(ag, &r, &q, 5, "", 0, 0, &ev, &created);
    CHECK(a && created && a->id == 4);
    cg_incidents_destroy(ag);
}

/* A higher severity (a lower number) in the window opens a new incident that
 * names the old one; lower severities fold into whatever is open. */
static void test_escalation(void)
{
    cg_rule r;
    memset(&r, 0, sizeof r);
    r.gid = 1;
    r.sid = 8;
    r.severity = 3;
    sinkrec s;
    memset(&s, 0, sizeof s);
    cg_incidents_cfg cfg = { .window_s = 60, .max_evidence = 2, .capacity = 64 };
    cg_incidents *ag;
    CHECK(cg_incidents_create(&ag, &cfg, new_id, sink, &s) == 0);
    cg_incidents_set_alert_sink(ag, alert_sink);
    int ev, created;
    cg_packet p = mkpkt(5, 6, 1000000);
    cg_open_incident *a = cg_incidents_fold(ag, &r, &p, 1, "1:one", 0, 1, &ev, &created);
    CHECK(a && created && a->id == 1 && a->severity == 3 && a->escalated_from == 0);
    p.ts_us += 1000;
    a = cg_incidents_fold(ag, &r, &p, 1, "1:one", 4, 1, &ev, &created); /* lower: folds */
    CHECK(a && !created && a->id == 1 && a->count == 2 && a->severity == 3);
    CHECK_EQ_U(s.n, 0);
    p.ts_us += 1000;
    a = cg_incidents_fold(ag, &r, &p, 2, "1:two", 1, 1, &ev, &created); /* higher: escalates */
    CHECK(a && created && a->id == 2 && a->severity == 1 && a->escalated_from == 1);
    CHECK(a && a->count == 1 && a->first_us == p.ts_us && ev == 0);
    CHECK_STR(a ? a->community_id : NULL, "1:two");
    /* the old one went to the sink as it stood, before its slot was reused */
    CHECK_EQ_U(s.n, 1);
    CHECK(s.flushed[0] == 1 && s.counts[0] == 2 && s.severity[0] == 3 && s.escalated_from[0] == 0);
    p.ts_us += 1000;
    a = cg_incidents_fold(ag, &r, &p, 2, "1:two", 0, 1, &ev, &created); /* the rule's 3: folds */
    CHECK(a && !created && a->id == 2 && a->count == 2 && a->severity == 1);
    p.ts_us += 1000;
    a = cg_incidents_fold(ag, &r, &p, 2, "1:two", 1, 1, &ev, &created); /* equal: folds */
    CHECK(a && !created && a->id == 2 && a->count == 3);
    CHECK(cg_incidents_flush(ag) == 0);
    CHECK_EQ_U(s.n, 2);
    CHECK(s.flushed[1] == 2 && s.counts[1] == 3 && s.severity[1] == 1 && s.escalated_from[1] == 1);
    cg_incidents_stats st;
    cg_incidents_get_stats(ag, &st);
    CHECK_EQ_U(st.created, 2);
    CHECK_EQ_U(st.escalated, 1);
    CHECK_EQ_U(st.folded, 3);

    /* every alert reached the alert sink, numbered within its incident */
    static const uint64_t want_inc[] = { 1, 1, 2, 2, 2 };
    static const uint32_t want_seq[] = { 0, 1, 0, 1, 2 };
    static const uint8_t want_sev[] = { 3, 4, 1, 3, 1 };
    static const int want_ev[] = { 0, 1, 0, 1, -1 };
    CHECK_EQ_U(s.nalerts, 5);
    for (int i = 0; i < 5 && i < s.nalerts; i++) {
        CHECK_EQ_U(s.alert_inc[i], want_inc[i]);
        CHECK_EQ_U(s.alerts[i].seq, want_seq[i]);
        CHECK_EQ_U(s.alerts[i].severity, want_sev[i]);
        CHECK(s.alerts[i].evidence_seq == want_ev[i]);
        CHECK(s.alerts[i].sport == 51000 && s.alerts[i].dport == 80);
    }
    CHECK_STR(s.alerts[1].community_id, "1:one");
    CHECK(s.alerts[2].flow_id == 2 && s.alerts[2].ts_us == 1002000);
    CHECK(a && a->nalerts == 3);

    /* past the window the key starts anew, at its rule's severity, unlinked */
    p.ts_us = 1002000 + 60000000;
    a = cg_incidents_fold(ag, &r, &p, 3, "", 0, 1, &ev, &created);
    CHECK(a && created && a->id == 3 && a->severity == 3 && a->escalated_from == 0);

    /* a failing alert sink fails the fold */
    s.fail_alerts = 1;
    CHECK(cg_incidents_fold(ag, &r, &p, 3, "", 0, 1, &ev, &created) == NULL);
    cg_incidents_destroy(ag);
}

static void test_eve(void)
{
    cg_rule r;
    memset(&r, 0, sizeof r);
    r.gid = 1;
    r.sid = 9100101;
    r.rev = 3;
    r.severity = 1;
    r.msg = "CANHGAC \"quoted\" \\ tab\t msg";
    r.class_desc = "Web Application Attack";
    r.layers = CG_LAYER(1) | CG_LAYER(4);
    cg_kv meta[3] = { { "category", "sqli" }, { "layer", "1" }, { "layer", "4" } };
    r.meta = meta;
    r.nmeta = 3;
    cg_packet p = mkpkt(112, 10, 1763856005123456ull);
    char line[4096];
    size_t n = cg_eve_alert(line, sizeof line, &p, &r, 4242, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", 7);
    CHECK(n > 0 && line[n - 1] == '\n');
    json_object *o = json_tokener_parse(line), *v, *a;
    CHECK(o != NULL);
    if (!o)
        return;
    CHECK(json_object_object_get_ex(o, "timestamp", &v));
    CHECK_STR(json_object_get_string(v), "2025-11-23T00:00:05.123456+0000");
    CHECK(json_object_object_get_ex(o, "src_ip", &v));
    CHECK_STR(json_object_get_string(v), "89.160.20.112");
    CHECK(json_object_object_get_ex(o, "dest_port", &v) && json_object_get_int(v) == 80);
    CHECK(json_object_object_get_ex(o, "proto", &v));
    CHECK_STR(json_object_get_string(v), "TCP");
    CHECK(json_object_object_get_ex(o, "flow_id", &v) && json_object_get_int64(v) == 4242);
    CHECK(json_object_object_get_ex(o, "incident_id", &v) && json_object_get_int64(v) == 7);
    CHECK(json_object_object_get_ex(o, "alert", &a));
    CHECK(json_object_object_get_ex(a, "signature", &v));
    CHECK_STR(json_object_get_string(v), r.msg);
    CHECK(json_object_object_get_ex(a, "signature_id", &v) && json_object_get_int(v) == 9100101);
    CHECK(json_object_object_get_ex(a, "metadata", &v));
    json_object *lay;
    CHECK(json_object_object_get_ex(v, "layer", &lay) && json_object_array_length(lay) == 2);
    CHECK(json_object_object_get_ex(o, "layers", &v) && json_object_array_length(v) == 2);
    json_object_put(o);
    /* a buffer too small gives 0, never a cut line */
    CHECK_EQ_U(cg_eve_alert(line, 100, &p, &r, 1, "", 1), 0);

    /* a message in Vietnamese passes as it is; bytes that are not UTF-8
     * (a lone continuation byte, a cut sequence, an overlong '/') become
     * U+FFFD, so the line stays valid JSON */
    r.msg = "T\xe1\xba\xa5n c\xc3\xb4ng \x80 SQL \xc0\xaf x \xe1\xba";
    n = cg_eve_alert(line, sizeof line, &p, &r, 4242, "", 7);
    CHECK(n > 0);
    CHECK(strstr(line,
                 "\"signature\":\"T\xe1\xba\xa5n c\xc3\xb4ng \\ufffd SQL "
                 "\\ufffd\\ufffd x \\ufffd\\ufffd\"") != NULL);
    o = json_tokener_parse(line);
    CHECK(o != NULL);
    if (o && json_object_object_get_ex(o, "alert", &a) &&
        json_object_object_get_ex(a, "signature", &v))
        CHECK_STR(json_object_get_string(v),
                  "T\xe1\xba\xa5n c\xc3\xb4ng \xef\xbf\xbd SQL \xef\xbf\xbd\xef\xbf\xbd x "
                  "\xef\xbf\xbd\xef\xbf\xbd");
    json_object_put(o);
}

/* The caller's area: zero at creation, the caller's while the incident
 * lives, intact when the incident reaches the sink, also on eviction (a
 * table of 64 slots taking 300 keys) and escalation. */
static void test_user_area(void)
{
    cg_rule r, hi;
    memset(&r, 0, sizeof r);
    r.gid = 1, r.sid = 5, r.severity = 3;
    hi = r;
    sinkrec s;
    memset(&s, 0, sizeof s);
    cg_incidents_cfg cfg = { .window_s = 3600,
                             .max_evidence = 1,
                             .capacity = 64,
                             .user_size = 2 * sizeof(uint64_t) };
    cg_incidents *ag;
    CHECK(cg_incidents_create(&ag, &cfg, new_id, sink, &s) == 0);
    s.ag = ag;
    int ev, created, fresh_zero = 1, aligned = 1;
    for (unsigned i = 0; i < 300; i++) {
        cg_packet p = mkpkt(i & 255, (i >> 8) + 1, 1000000 + i);
        cg_open_incident *a = cg_incidents_fold(ag, &r, &p, i, "", 0, 1, &ev, &created);
        if (!a || !created)
            continue;
        uint64_t *u = cg_incidents_user(ag, a);
        fresh_zero &= u[0] == 0 && u[1] == 0;
        aligned &= ((uintptr_t)u & 15) == 0;
        u[0] = a->id;
        u[1] = ~a->id;
        /* a later alert of the same key keeps it */
        cg_open_incident *b = cg_incidents_fold(ag, &r, &p, i, "", 0, 1, &ev, &created);
        CHECK(b == a && !created && u[0] == a->id);
    }
    CHECK(fresh_zero);
    CHECK(aligned);
    CHECK(s.n > 0);
    /* escalation: the old incident reaches the sink with its area, the new
     * one starts from zero in the same slot */
    hi.severity = 1;
    cg_packet p = mkpkt(7, 200, 2000000);
    cg_open_incident *a = cg_incidents_fold(ag, &r, &p, 1, "", 0, 1, &ev, &created);
    CHECK(a && created);
    uint64_t *u = a ? cg_incidents_user(ag, a) : NULL, old_id = a ? a->id : 0;
    if (u)
        u[0] = old_id;
    int before = s.calls;
    cg_open_incident *b = cg_incidents_fold(ag, &hi, &p, 1, "", 0, 1, &ev, &created);
    CHECK(b && created && b->escalated_from == old_id && b->id != old_id);
    CHECK(s.calls == before + 1); /* the escalated one went to the sink first */
    CHECK(b && *(uint64_t *)cg_incidents_user(ag, b) == 0);
    if (b)
        *(uint64_t *)cg_incidents_user(ag, b) = b->id;
    CHECK(cg_incidents_flush(ag) == 0);
    CHECK_EQ_U(s.user_bad, 0);
    cg_incidents_destroy(ag);
    /* no area asked for: NULL; too big: refused */
    cfg.user_size = 0;
    CHECK(cg_incidents_create(&ag, &cfg, new_id, sink, &s) == 0);
    cg_packet q = mkpkt(1, 1, 1);
    a = cg_incidents_fold(ag, &r, &q, 1, "", 0, 1, &ev, &created);
    CHECK(a && cg_incidents_user(ag, a) == NULL);
    cg_incidents_destroy(ag);
    cfg.user_size = 65537;
    CHECK(cg_incidents_create(&ag, &cfg, new_id, sink, &s) == -1);
}

int main(void)
{
    test_fold();
    test_user_area();
    test_full_table();
    test_dport_key();
    test_escalation();
    test_eve();
    return check_done("incident");
}
