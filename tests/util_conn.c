/* util_conn.c — crafted conversations for the packet-path tests (see
 * util_conn.h). */
#include "tests/util_conn.h"

#include <stdio.h>
#include <string.h>

void tconn_v4(uint8_t addr[16], unsigned a, unsigned b, unsigned c, unsigned d)
{
    memset(addr, 0, 16);
    addr[10] = addr[11] = 0xff;
    addr[12] = (uint8_t)a;
    addr[13] = (uint8_t)b;
    addr[14] = (uint8_t)c;
    addr[15] = (uint8_t)d;
}

void tconn_init(tconn *c, cg_inspect *in)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->ts = 1000000;
    c->cport = 40000;
    c->sport = 80;
}

void tconn_send_at(tconn *c, int to_server, uint8_t flags, uint32_t seq, const void *data,
                   uint32_t len)
{
    cg_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = c->ts += 1000;
    p.ipver = 4;
    p.proto = c->udp ? 17 : 6;
    p.flags = CG_PKT_HAS_PORTS;
    tconn_v4(to_server ? p.src : p.dst, 203, 0, 113, 5);
    tconn_v4(to_server ? p.dst : p.src, 10, 20, 1, 10);
    p.sport = to_server ? c->cport : c->sport;
    p.dport = to_server ? c->sport : c->cport;
    p.tcp_flags = flags;
    p.tcp_seq = seq;
    p.tcp_ack = to_server ? c->sseq : c->cseq;
    p.payload = data;
    p.payload_len = len;
    cg_inspect_packet(c->in, &p);
}

void tconn_send_flags(tconn *c, int to_server, uint8_t flags, const void *data, uint32_t len)
{
    uint32_t *seq = to_server ? &c->cseq : &c->sseq;
    tconn_send_at(c, to_server, flags, *seq, data, len);
    *seq += len;
}

void tconn_send(tconn *c, int to_server, const void *data, uint32_t len)
{
    tconn_send_flags(c, to_server, CG_TH_ACK | CG_TH_PSH, data, len);
}

void tconn_connect(tconn *c, uint16_t port)
{
    c->udp = 0;
    c->cport++;
    c->sport = port;
    c->cseq = 1000;
    c->sseq = 5000;
    tconn_send_at(c, 1, CG_TH_SYN, c->cseq++, "", 0);
    tconn_send_at(c, 0, CG_TH_SYN | CG_TH_ACK, c->sseq++, "", 0);
    tconn_send_at(c, 1, CG_TH_ACK, c->cseq, "", 0);
}

void tconn_close(tconn *c)
{
    tconn_send_at(c, 1, CG_TH_FIN | CG_TH_ACK, c->cseq++, "", 0);
    tconn_send_at(c, 0, CG_TH_FIN | CG_TH_ACK, c->sseq++, "", 0);
}

int tconn_rules(cg_ruleset **out, const char *const *rules)
{
    char err[512];
    cg_ruleset *rs;
    if (cg_ruleset_create(&rs))
        return -1;
    for (int i = 0; rules[i]; i++)
        if (cg_ruleset_add_rule(rs, rules[i], err, sizeof err)) {
            fprintf(stderr, "rule %d: %s\n", i, err);
            cg_ruleset_destroy(rs);
            return -1;
        }
    *out = rs;
    return 0;
}
