/* ctl.c — the control socket (ctl.h): a non-blocking Unix stream server
 * driven by one epoll descriptor, and the blocking client `canhgac ctl` uses.
 *
 * Server invariants:
 *  1. c->ep holds the listening socket (unless paused, see 4), the timer, and
 *     every client in progress, level-triggered. A client in READ waits for
 *     EPOLLIN, one in WRITE for EPOLLOUT only (bytes it sends after its line
 *     must not keep the descriptor readable).
 *  2. cg_ctl_serve leaves nothing ready that it could have consumed: it
 *     accepts until EAGAIN (a client over the limit is answered "busy" and
 *     closed), reads every READ client until EAGAIN, writes every WRITE
 *     client until EAGAIN, and reads the timer. So a caller that polls
 *     c->ep and calls serve on POLLIN never spins.
 *  3. The timer is armed, absolute on CLOCK_MONOTONIC, at the earliest
 *     deadline among the clients (or the listener's resume time), disarmed
 *     when there is none. So a silent client wakes the caller at its
 *     deadline even when nothing else happens.
 *  4. When accept fails for lack of descriptors or memory, the listener is
 *     taken out of c->ep for PAUSE_MS (otherwise it would stay readable and
 *     the caller would spin), then put back.
 *  5. A client's slot owns its descriptor and, in WRITE, the rest of its
 *     reply: a copy in pend (malloc'd) when the first send could not take it
 *     all; the shared reply buffer c->reply is only used within one call.
 *
 * Client lifecycle:   accept -> READ --line--> handler -> send
 *                        |        |                         |-- all sent --> close
 *                        |        |-- bad line, EOF,        '-- EAGAIN --> WRITE
 *                        |        |   deadline: error reply,                |
 *                        |        |   best effort --> close    sent / deadline / error
 *                        '-- over the limit: "busy" --> close               '--> close
 */
#include "sensor/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#define PAUSE_MS 100
#define TAG_LISTEN ((uint64_t)-1)
#define TAG_TIMER ((uint64_t)-2)

enum { SLOT_FREE, SLOT_READ, SLOT_WRITE };

typedef struct ctl_client {
    int fd;
    int state;
    uint64_t deadline; /* ms, CLOCK_MONOTONIC */
    size_t len;        /* READ: bytes of line[] filled */
    char *pend;        /* WRITE: the reply's unsent rest */
    size_t plen, poff;
    char line[CG_CTL_LINE_MAX + 2]; /* the line, its newline, and room for NUL */
} ctl_client;

struct cg_ctl {
    int lfd, ep, tfd;
    int paused; /* listener out of ep until resume_at */
    uint64_t resume_at;
    dev_t dev; /* the socket file this cg_ctl bound */
    ino_t ino;
    char *path;
    char *reply; /* CG_CTL_REPLY_MAX + 1 bytes */
    ctl_client cl[CG_CTL_MAX_CLIENTS];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Fills a sockaddr_un; -1 with a message when path does not fit. */
static int make_addr(struct sockaddr_un *sa, const char *path, char *err, size_t errlen)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof sa->sun_path) {
        snprintf(err, errlen, "%s: path %s for a Unix socket (1 to %zu bytes)", path,
                 n ? "too long" : "empty", sizeof sa->sun_path - 1);
        return -1;
    }
    memcpy(sa->sun_path, path, n);
    return 0;
}

/* ---- server ---------------------------------------------------------- */

/* Is somebody accepting connections at sa? 1 yes, 0 no (refused: a stale
 * file), -1 cannot tell (errno set). A full backlog (EAGAIN) is somebody. */
static int probe_live(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int r;
    do
        r = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    while (r < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (r == 0 || e == EAGAIN || e == EINPROGRESS)
        return 1;
    if (e == ECONNREFUSED)
        return 0;
    errno = e;
    return -1;
}

int cg_ctl_open(cg_ctl **out, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    cg_ctl *c = NULL;

    if (make_addr(&sa, path, err, errlen))
        return -1;
    c = calloc(1, sizeof *c);
    if (c) {
        c->lfd = c->ep = c->tfd = -1;
        for (int i = 0; i < CG_CTL_MAX_CLIENTS; i++)
            c->cl[i].fd = -1;
    }
    if (!c || !(c->path = strdup(path)) || !(c->reply = malloc(CG_CTL_REPLY_MAX + 1))) {
        snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
        goto fail;
    }

    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->lfd < 0)
        goto fail_errno;
    if (bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno != EADDRINUSE)
            goto fail_errno;
        /* Something is there: replace it only if it is a socket nobody
         * answers on (a sensor that died without unlinking it). */
        if (lstat(path, &st) != 0)
            goto fail_errno;
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "%s: exists and is not a socket (left alone)", path);
            goto fail;
        }
        int live = probe_live(&sa);
        if (live > 0) {
            snprintf(err, errlen, "%s: another canhgac is listening there", path);
            goto fail;
        }
        if (live < 0)
            goto fail_errno;
        if (unlink(path) != 0 && errno != ENOENT)
            goto fail_errno;
        if (bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) != 0)
            goto fail_errno;
    }
    /* fchmod() does not reach a socket's file: chmod the path, right away */
    if (chmod(path, 0660) != 0 || stat(path, &st) != 0)
        goto fail_unlink;
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    if (listen(c->lfd, 64) != 0)
        goto fail_unlink;

    c->ep = epoll_create1(EPOLL_CLOEXEC);
    c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (c->ep < 0 || c->tfd < 0)
        goto fail_unlink;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
    if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->lfd, &ev) != 0)
        goto fail_unlink;
    ev.data.u64 = TAG_TIMER;
    if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->tfd, &ev) != 0)
        goto fail_unlink;
    *out = c;
    return 0;

fail_unlink:
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    unlink(path);
    goto fail;
fail_errno:
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
fail:
    if (c) {
        if (c->tfd >= 0)
            close(c->tfd);
        if (c->ep >= 0)
            close(c->ep);
        if (c->lfd >= 0)
            close(c->lfd);
        free(c->reply);
        free(c->path);
        free(c);
    }
    return -1;
}

int cg_ctl_fd(const cg_ctl *c)
{
    return c ? c->ep : -1;
}

static void client_close(cg_ctl *c, ctl_client *k)
{
    char sink[4096];
    /* Unread bytes in our receive queue would turn the client's EOF into
     * ECONNRESET, before it has read the reply: take what is there first. */
    for (int i = 0; i < 16; i++)
        if (recv(k->fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
            break;
    epoll_ctl(c->ep, EPOLL_CTL_DEL, k->fd, NULL);
    close(k->fd);
    free(k->pend);
    k->fd = -1;
    k->state = SLOT_FREE;
    k->pend = NULL;
    k->len = k->plen = k->poff = 0;
}

/* Sends what the socket takes now; bytes sent, or -1 on an error (EPIPE,
 * ECONNRESET: the client is gone). */
static ssize_t send_some(int fd, const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, p + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else
            return -1;
    }
    return (ssize_t)off;
}

/* Answers with {"error":msg} as far as the socket takes it now, and closes. */
static void client_fail(cg_ctl *c, ctl_client *k, const char *msg)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "{\"error\":\"%s\"}\n", msg);
    if (n > 0 && (size_t)n < sizeof buf)
        send_some(k->fd, buf, (size_t)n);
    client_close(c, k);
}

/* Starts sending p[0..n) (the reply and its newline); what the socket does
 * not take now is copied and sent by later calls (state WRITE). */
static void client_reply(cg_ctl *c, ctl_client *k, const char *p, size_t n, uint64_t now)
{
    ssize_t w = send_some(k->fd, p, n);
    if (w < 0 || (size_t)w == n) {
        client_close(c, k);
        return;
    }
    k->plen = n - (size_t)w;
    k->poff = 0;
    k->pend = malloc(k->plen);
    struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)(k - c->cl) };
    if (!k->pend || epoll_ctl(c->ep, EPOLL_CTL_MOD, k->fd, &ev) != 0) {
        client_close(c, k);
        return;
    }
    memcpy(k->pend, p + w, k->plen);
    k->state = SLOT_WRITE;
    k->deadline = now + CG_CTL_DEADLINE_MS;
}

/* Checks the line (NUL-terminated at its newline, len bytes) and runs the
 * handler, or answers the error. */
static void client_line(cg_ctl *c, ctl_client *k, size_t len, cg_ctl_handler h, void *ctx,
                        uint64_t now)
{
    char msg[96];
    if (len > 0 && k->line[len - 1] == '\r')
        k->line[--len] = '\0';
    if (len == 0) {
        client_fail(c, k, "empty command");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)k->line[i];
        if (b < 0x20 || b > 0x7e) {
            snprintf(msg, sizeof msg, "%s byte 0x%02x at offset %zu of the command",
                     b ? "non-printable" : "NUL", b, i);
            client_fail(c, k, msg);
            return;
        }
    }
    size_t n = h(ctx, k->line, c->reply, CG_CTL_REPLY_MAX);
    if (n > CG_CTL_REPLY_MAX)
        n = CG_CTL_REPLY_MAX;
    if (n == 0) {
        static const char none[] = "{\"error\":\"no reply\"}";
        memcpy(c->reply, none, sizeof none - 1);
        n = sizeof none - 1;
    }
    c->reply[n++] = '\n';
    client_reply(c, k, c->reply, n, now);
}

/* Reads what the client sent; serves it when its line is complete. */
static void client_read(cg_ctl *c, ctl_client *k, cg_ctl_handler h, void *ctx, uint64_t now)
{
    for (;;) {
        size_t room = CG_CTL_LINE_MAX + 1 - k->len; /* the line and its newline */
        ssize_t r = recv(k->fd, k->line + k->len, room, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r < 0) {
            client_close(c, k);
            return;
        }
        if (r == 0) {
            /* EOF: a half-closed client may still read an answer */
            if (k->len == 0) {
                client_fail(c, k, "no command");
            } else {
                k->line[k->len] = '\0';
                client_line(c, k, k->len, h, ctx, now);
            }
            return;
        }
        char *nl = memchr(k->line + k->len, '\n', (size_t)r);
        k->len += (size_t)r;
        if (nl) {
            *nl = '\0';
            client_line(c, k, (size_t)(nl - k->line), h, ctx, now);
            return;
        }
        if (k->len > CG_CTL_LINE_MAX) {
            client_fail(c, k, "command line too long (over 4095 bytes)");
            return;
        }
    }
}

static void client_write(cg_ctl *c, ctl_client *k)
{
    ssize_t w = send_some(k->fd, k->pend + k->poff, k->plen - k->poff);
    if (w < 0 || k->poff + (size_t)w == k->plen) {
        client_close(c, k);
        return;
    }
    k->poff += (size_t)w;
}

static void serve_clients(cg_ctl *c, cg_ctl_handler h, void *ctx, uint64_t now);

static ctl_client *free_slot(cg_ctl *c)
{
    for (int i = 0; i < CG_CTL_MAX_CLIENTS; i++)
        if (c->cl[i].state == SLOT_FREE)
            return &c->cl[i];
    return NULL;
}

static void accept_all(cg_ctl *c, cg_ctl_handler h, void *ctx, uint64_t now)
{
    if (c->paused) {
        if (now < c->resume_at)
            return;
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_LISTEN };
        if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->lfd, &ev) != 0 && errno != EEXIST) {
            c->resume_at = now + PAUSE_MS;
            return;
        }
        c->paused = 0;
    }
    for (;;) {
        int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: wait, do not spin */
            if (epoll_ctl(c->ep, EPOLL_CTL_DEL, c->lfd, NULL) == 0) {
                c->paused = 1;
                c->resume_at = now + PAUSE_MS;
            }
            return;
        }
        ctl_client *k = free_slot(c);
        if (!k) {
            /* before saying busy, finish the clients that can be finished
             * (those that hung up since the pass before this accept) */
            serve_clients(c, h, ctx, now);
            k = free_slot(c);
        }
        struct epoll_event ev = { .events = EPOLLIN };
        if (k) {
            ev.data.u64 = (uint64_t)(k - c->cl);
            if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
                k = NULL;
        }
        if (!k) {
            static const char busy[] = "{\"error\":\"busy: too many control clients\"}\n";
            send_some(fd, busy, sizeof busy - 1);
            close(fd);
            continue;
        }
        k->fd = fd;
        k->state = SLOT_READ;
        k->len = 0;
        k->deadline = now + CG_CTL_DEADLINE_MS;
    }
}

/* Arms the timer at the earliest deadline (invariant 3). */
static void arm_timer(cg_ctl *c)
{
    uint64_t next = UINT64_MAX;
    if (c->paused)
        next = c->resume_at;
    for (int i = 0; i < CG_CTL_MAX_CLIENTS; i++)
        if (c->cl[i].state != SLOT_FREE && c->cl[i].deadline < next)
            next = c->cl[i].deadline;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (next != UINT64_MAX) {
        if (next == 0)
            next = 1; /* all zero would disarm */
        its.it_value.tv_sec = (time_t)(next / 1000u);
        its.it_value.tv_nsec = (long)(next % 1000u) * 1000000L;
    }
    timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void serve_clients(cg_ctl *c, cg_ctl_handler h, void *ctx, uint64_t now)
{
    for (int i = 0; i < CG_CTL_MAX_CLIENTS; i++) {
        ctl_client *k = &c->cl[i];
        if (k->state == SLOT_READ)
            client_read(c, k, h, ctx, now);
        else if (k->state == SLOT_WRITE)
            client_write(c, k);
        if (k->state == SLOT_READ && now >= k->deadline)
            client_fail(c, k, "timeout: no complete command line within 1 s");
        else if (k->state == SLOT_WRITE && now >= k->deadline)
            client_close(c, k);
    }
}

void cg_ctl_serve(cg_ctl *c, cg_ctl_handler h, void *ctx)
{
    if (!c)
        return;
    uint64_t expirations, now = now_ms();
    while (read(c->tfd, &expirations, sizeof expirations) < 0 && errno == EINTR)
        ;
    /* the clients first, so the slots of those that are done are free for
     * the ones waiting to be accepted; then the new ones, whose line may
     * already be there */
    serve_clients(c, h, ctx, now);
    accept_all(c, h, ctx, now);
    serve_clients(c, h, ctx, now);
    arm_timer(c);
}

void cg_ctl_close(cg_ctl *c)
{
    struct stat st;
    if (!c)
        return;
    for (int i = 0; i < CG_CTL_MAX_CLIENTS; i++)
        if (c->cl[i].state != SLOT_FREE)
            client_close(c, &c->cl[i]);
    /* unlink only our own socket, not one a later sensor put there */
    if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
        unlink(c->path);
    close(c->tfd);
    close(c->ep);
    close(c->lfd);
    free(c->reply);
    free(c->path);
    free(c);
}

/* ---- client ---------------------------------------------------------- */

/* Waits for events on fd until the deadline; 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return 0;
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, (int)(deadline - now));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 1; /* let the next call report the error */
    }
}

int cg_ctl_request(const char *path, const char *cmd, char *reply, size_t cap, int timeout_ms,
                   char *err, size_t errlen)
{
    struct sockaddr_un sa;
    int fd = -1, r;
    size_t len = 0;
    uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    if (cap)
        reply[0] = '\0';
    if (cap < 2) {
        snprintf(err, errlen, "%s: reply buffer too small", path);
        return -1;
    }
    if (make_addr(&sa, path, err, errlen))
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail_errno;
    for (;;) {
        r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
        if (r == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == ECONNREFUSED) {
            snprintf(err, errlen, "%s: no sensor is listening (%s)", path, strerror(errno));
            goto fail;
        }
        if (errno != EAGAIN)
            goto fail_errno;
        /* the listener's backlog is full: try again shortly, until the deadline */
        if (now_ms() + 10 >= deadline)
            goto timeout;
        poll(NULL, 0, 10);
    }

    size_t clen = strlen(cmd), off = 0;
    int nl_sent = 0;
    while (!nl_sent) {
        const char *p = off < clen ? cmd + off : "\n";
        size_t n = off < clen ? clen - off : 1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            if (off < clen)
                off += (size_t)w;
            else
                nl_sent = 1;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd, POLLOUT, deadline))
                goto timeout;
        } else if (errno == EPIPE || errno == ECONNRESET) {
            break; /* the server hung up early; its answer may be waiting */
        } else {
            goto fail_errno;
        }
    }

    for (;;) {
        /* one byte past the room says the reply does not fit */
        char extra;
        int full = len == cap - 1;
        ssize_t got = recv(fd, full ? &extra : reply + len, full ? 1 : cap - 1 - len, 0);
        if (got > 0 && full) {
            snprintf(err, errlen, "%s: reply longer than %zu bytes", path, cap - 1);
            goto fail;
        }
        if (got > 0) {
            len += (size_t)got;
            continue;
        }
        if (got == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(fd, POLLIN, deadline))
                goto timeout;
            continue;
        }
        /* the server closed with our bytes unread: what it wrote still counts */
        if (errno == ECONNRESET && len > 0 && reply[len - 1] == '\n')
            break;
        goto fail_errno;
    }
    close(fd);
    while (len > 0 && (reply[len - 1] == '\n' || reply[len - 1] == '\r'))
        len--;
    reply[len] = '\0';
    if (len == 0) {
        snprintf(err, errlen, "%s: the sensor closed the connection without a reply", path);
        return -1;
    }
    return 0;

timeout:
    snprintf(err, errlen, "%s: no reply within %d ms", path, timeout_ms);
    goto fail;
fail_errno:
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
fail:
    if (fd >= 0)
        close(fd);
    reply[0] = '\0';
    return -1;
}
