/* ctl.h — a control socket: a Unix stream socket on which a running sensor
 * answers one-line commands with one JSON line (`canhgac ctl stats`).
 *
 * The module is generic: it knows nothing of rules, packets or the commands
 * themselves. It moves bytes, enforces the protocol's limits and deadlines,
 * and hands each well-formed command line to the caller's handler.
 *
 * Protocol (one request per connection):
 *   client:  COMMAND "\n"          at most 4095 bytes before the newline,
 *                                  printable ASCII only (0x20..0x7e); a
 *                                  trailing "\r" is dropped (nc -C, telnet)
 *   server:  JSON-OBJECT "\n"      then closes; at most 1 MiB
 * A command line that is empty, too long, holds a NUL or another
 * non-printable byte, or does not arrive within CG_CTL_DEADLINE_MS of the
 * connection is answered {"error":"..."} (when the client still listens)
 * and closed, without calling the handler. A client that half-closes after
 * a command without its newline is served as if it had sent one.
 *
 * Threads: a cg_ctl is used by one thread (the one that polls). The server
 * side never blocks: the socket and every client are non-blocking, and
 * cg_ctl_fd() is an epoll descriptor that is readable when a client is
 * waiting to be accepted, a client's bytes have arrived, a pending reply can
 * be written further, or a client's deadline has passed. Put it in the main
 * loop's poll() set with POLLIN and call cg_ctl_serve() when it is readable
 * (calling it at other times is harmless: it returns at once).
 *
 * Limits: CG_CTL_MAX_CLIENTS clients in progress at once; one more is
 * answered {"error":"busy: ..."} and closed. A reply the client does not
 * read is dropped at its deadline. Signals: replies are sent with
 * MSG_NOSIGNAL, so a client gone away is an EPIPE, never a SIGPIPE.
 *
 * Permissions: the socket file gets mode 0660 after bind, so who may command
 * the sensor is its owner and group (systemd: RuntimeDirectory= mode 0750
 * guards the directory as well). Linux only (epoll, timerfd).
 */
#ifndef CG_CTL_H
#define CG_CTL_H

#include <stddef.h>

enum {
    CG_CTL_LINE_MAX = 4095,     /* bytes of a command line, newline excluded */
    CG_CTL_REPLY_MAX = 1 << 20, /* bytes of a reply, newline excluded */
    CG_CTL_DEADLINE_MS = 1000,  /* to send the line; then to take the reply */
    CG_CTL_MAX_CLIENTS = 64,    /* connections in progress at once */
};

typedef struct cg_ctl cg_ctl;

/* Creates a Unix stream socket at path, mode 0660, listening. A stale socket
 * file (nobody answers a connect) is replaced; a live one is refused:
 * "PATH: another canhgac is listening there"; anything at path that is not
 * a socket is left alone and refused. Other errors are one line naming path
 * ("PATH: Permission denied", "PATH: path too long for a Unix socket (...)").
 * 0 and *out set, or -1 with the message in err (*out untouched). The 1 MiB
 * reply buffer is allocated here, once. */
int cg_ctl_open(cg_ctl **out, const char *path, char *err, size_t errlen);

/* The descriptor to poll for POLLIN (see the top of this file); -1 for NULL. */
int cg_ctl_fd(const cg_ctl *c);

/* Called with one command line: NUL-terminated, without its newline, 1 to
 * 4095 printable ASCII bytes. Writes the reply, a JSON object without a
 * newline, into out (cap bytes, cap == CG_CTL_REPLY_MAX) and returns its
 * length (a length over cap is cut to cap; 0 sends {"error":"no reply"}).
 * Runs on the thread that calls cg_ctl_serve. */
typedef size_t (*cg_ctl_handler)(void *ctx, const char *cmd, char *out, size_t cap);

/* Does whatever can be done now without waiting: accepts the waiting
 * clients, reads what they sent, calls h for each complete command line,
 * writes replies ("\n" appended) as far as the clients take them, answers
 * and closes the clients past their deadline, and closes the finished ones.
 * Never blocks. Errors of one client close that client; nothing is
 * reported. */
void cg_ctl_serve(cg_ctl *c, cg_ctl_handler h, void *ctx);

/* Closes every client, the socket and the descriptors, unlinks the socket
 * file (only if it is still the one this cg_ctl created) and frees c. NULL
 * is accepted. */
void cg_ctl_close(cg_ctl *c);

/* Client side, for `canhgac ctl`: connects to path, sends cmd and "\n",
 * reads the reply until the server closes, all within timeout_ms. 0 with the
 * reply in reply (NUL-terminated, its final newline removed), or -1 with a
 * one-line message naming path in err and reply[0] = '\0' (cap > 0):
 *   "PATH: no sensor is listening (Connection refused)"
 *   "PATH: No such file or directory"     (and other connect errors)
 *   "PATH: no reply within N ms"
 *   "PATH: reply longer than N bytes"
 *   "PATH: the sensor closed the connection without a reply"
 * cmd is sent as given (the server judges it). SIGPIPE is never raised. */
int cg_ctl_request(const char *path, const char *cmd, char *reply, size_t cap, int timeout_ms,
                   char *err, size_t errlen);

#endif
