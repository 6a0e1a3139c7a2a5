/* util_conn.h — crafted TCP and UDP conversations fed to a worker
 * (cg_inspect), for the tests of the packet path: packets are views built
 * here, with the sequence numbers of a real connection.
 *
 * A tconn is one client (203.0.113.5, a new port per connection) talking to
 * one server (10.20.1.10:sport). Time advances 1 ms per packet.
 */
#ifndef CG_UTIL_CONN_H
#define CG_UTIL_CONN_H

#include <stdint.h>

#include "analyzer/engine/inspect.h"
#include "analyzer/lang/rule.h"

typedef struct tconn {
    cg_inspect *in;
    uint32_t cseq, sseq; /* next sequence numbers of client and server */
    uint64_t ts;
    uint16_t cport, sport;
    int udp; /* 1: datagrams, no sequence numbers */
} tconn;

/* An IPv4-mapped address a.b.c.d. */
void tconn_v4(uint8_t addr[16], unsigned a, unsigned b, unsigned c, unsigned d);

/* Starts the conversations of worker in (time 1 s, client ports from 40001). */
void tconn_init(tconn *c, cg_inspect *in);

/* One segment (or datagram) at an explicit sequence number. */
void tconn_send_at(tconn *c, int to_server, uint8_t flags, uint32_t seq, const void *data,
                   uint32_t len);
/* The next in-order bytes of a direction, in one segment (ACK, PSH). */
void tconn_send(tconn *c, int to_server, const void *data, uint32_t len);
/* The same with the given TCP flags. */
void tconn_send_flags(tconn *c, int to_server, uint8_t flags, const void *data, uint32_t len);
/* A new TCP connection to port from a new client port: the handshake. */
void tconn_connect(tconn *c, uint16_t port);
/* FIN both ways. */
void tconn_close(tconn *c);

/* A rule set of the given rule texts (NULL-terminated). 0, or -1 with the
 * failing rule's message on stderr. */
int tconn_rules(cg_ruleset **out, const char *const *rules);

#endif
