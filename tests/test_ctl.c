/* test_ctl.c — unit tests of sensor/ctl: the control socket server and its
 * client.
 *
 * The server runs in a thread of its own, as `run`'s main loop would drive
 * it: poll() on cg_ctl_fd() and cg_ctl_serve() only when it is readable (so
 * a deadline that does not wake the poll, or a descriptor that stays
 * readable, shows up as a hang or a spin). Clients are this thread: the
 * library's cg_ctl_request and raw sockets that misbehave on purpose. The
 * longest wait is one deadline (1 s), shared by the silent and the
 * non-reading clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "sensor/ctl.h"
#include "tests/check.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- the server thread ----------------------------------------------- */

typedef struct srv {
    cg_ctl *c;
    atomic_int stop;
    uint64_t max_serve_us; /* the longest cg_ctl_serve call */
    unsigned long serves;  /* how many calls */
    unsigned long handled; /* handler calls */
} srv;

/* "big": a 1 MiB JSON object; anything else: {"cmd":"...","len":N}. */
static size_t handler(void *ctx, const char *cmd, char *out, size_t cap)
{
    srv *s = ctx;
    s->handled++;
    if (!strcmp(cmd, "big")) {
        memset(out, 'a', cap);
        memcpy(out, "{\"x\":\"", 6);
        memcpy(out + cap - 2, "\"}", 2);
        return cap;
    }
    int n = snprintf(out, cap, "{\"cmd\":\"%s\",\"len\":%zu}", cmd, strlen(cmd));
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void *serve_loop(void *arg)
{
    srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = { .fd = cg_ctl_fd(s->c), .events = POLLIN };
        if (poll(&p, 1, 20) <= 0)
            continue;
        uint64_t t0 = now_us();
        cg_ctl_serve(s->c, handler, s);
        uint64_t dt = now_us() - t0;
        if (dt > s->max_serve_us)
            s->max_serve_us = dt;
        s->serves++;
    }
    return NULL;
}

/* ---- raw clients ----------------------------------------------------- */

static int connect_raw(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_raw(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

/* Reads until EOF (or ECONNRESET after data) within timeout_ms; the length,
 * or -1 on a timeout. buf is NUL-terminated. */
static long read_all(int fd, char *buf, size_t cap, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    size_t len = 0;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= end)
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(end - now)) <= 0)
            continue;
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r > 0 && (len += (size_t)r) < cap - 1)
            continue;
        buf[len] = '\0';
        if (r < 0 && errno == EINTR)
            continue;
        return (long)len;
    }
}

/* One raw exchange: sends n bytes, reads the answer (1.5 s at most). */
static long raw_exchange(const char *path, const void *req, size_t n, char *buf, size_t cap)
{
    int fd = connect_raw(path);
    if (fd < 0)
        return -1;
    send_raw(fd, req, n);
    long r = read_all(fd, buf, cap, 1500);
    close(fd);
    return r;
}

int main(void)
{
    char dir[] = "/tmp/cg-ctl-XXXXXX", path[64], path2[64], path3[64], err[512];
    static char buf[(1 << 20) + 4096], reply[(2 << 20)];
    struct stat st;
    srv s = { 0 };
    pthread_t th;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/ctl.sock", dir);
    snprintf(path2, sizeof path2, "%s/stale.sock", dir);
    snprintf(path3, sizeof path3, "%s/file", dir);

    /* -- the client before there is a server -- */
    CHECK(cg_ctl_request(path, "stats", reply, sizeof reply, 500, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "ctl.sock: No such file or directory");
    CHECK_STR(reply, "");

    /* -- open: the socket, its mode -- */
    CHECK(cg_ctl_open(&s.c, path, err, sizeof err) == 0);
    if (!s.c) {
        fprintf(stderr, "cg_ctl_open: %s\n", err);
        return check_done("test_ctl");
    }
    CHECK(cg_ctl_fd(s.c) >= 0);
    CHECK(cg_ctl_fd(NULL) == -1);
    CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
    CHECK_EQ_U(st.st_mode & 07777, 0660);

    /* -- a live socket is refused, and left working -- */
    cg_ctl *other = NULL;
    CHECK(cg_ctl_open(&other, path, err, sizeof err) == -1);
    CHECK(other == NULL);
    CHECK_CONTAINS(err, "ctl.sock: another canhgac is listening there");
    if (other) /* it took the path over: nothing below would mean anything */
        return check_done("test_ctl");
    CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));

    CHECK(pthread_create(&th, NULL, serve_loop, &s) == 0);

    /* -- requests answered -- */
    CHECK(cg_ctl_request(path, "stats", reply, sizeof reply, 2000, err, sizeof err) == 0);
    CHECK_STR(reply, "{\"cmd\":\"stats\",\"len\":5}");
    CHECK(cg_ctl_request(path, "reload", reply, sizeof reply, 2000, err, sizeof err) == 0);
    CHECK_STR(reply, "{\"cmd\":\"reload\",\"len\":6}");

    /* the raw reply ends with exactly one newline */
    CHECK(raw_exchange(path, "version\n", 8, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"cmd\":\"version\",\"len\":7}\n");
    /* CR LF, and a half-closed client without the newline */
    CHECK(raw_exchange(path, "flows\r\n", 7, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"cmd\":\"flows\",\"len\":5}\n");
    {
        int fd = connect_raw(path);
        send_raw(fd, "reopen", 6);
        shutdown(fd, SHUT_WR);
        CHECK(read_all(fd, buf, sizeof buf, 1500) > 0);
        CHECK_STR(buf, "{\"cmd\":\"reopen\",\"len\":6}\n");
        close(fd);
    }

    /* -- garbage: answered with an error, the handler not called -- */
    unsigned long handled = s.handled;
    CHECK(raw_exchange(path, "\x01\x02\n", 3, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"error\":\"non-printable byte 0x01 at offset 0 of the command\"}\n");
    CHECK(raw_exchange(path, "st\0ats\n", 7, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"error\":\"NUL byte 0x00 at offset 2 of the command\"}\n");
    CHECK(raw_exchange(path, "stats\xc3\xa9\n", 8, buf, sizeof buf) > 0);
    CHECK_CONTAINS(buf, "non-printable byte 0xc3 at offset 5");
    CHECK(raw_exchange(path, "\n", 1, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"error\":\"empty command\"}\n");
    {
        int fd = connect_raw(path);
        shutdown(fd, SHUT_WR);
        CHECK(read_all(fd, buf, sizeof buf, 1500) > 0);
        CHECK_STR(buf, "{\"error\":\"no command\"}\n");
        close(fd);
    }

    /* -- line length: 4095 bytes pass, 4096 and more do not -- */
    char *longl = malloc(8192);
    memset(longl, 'a', 8192);
    longl[4095] = '\n';
    CHECK(raw_exchange(path, longl, 4096, buf, sizeof buf) > 0);
    CHECK_CONTAINS(buf, "\"len\":4095}");
    longl[4095] = 'a';
    longl[4096] = '\n';
    CHECK(raw_exchange(path, longl, 4097, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"error\":\"command line too long (over 4095 bytes)\"}\n");
    longl[4096] = 'a';
    longl[8191] = '\n';
    CHECK(raw_exchange(path, longl, 8192, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"error\":\"command line too long (over 4095 bytes)\"}\n");
    CHECK_EQ_U(s.handled, handled + 1); /* the 4095-byte line only */

    /* -- a 1 MiB reply, and one too big for the caller's buffer -- */
    CHECK(cg_ctl_request(path, "big", reply, sizeof reply, 3000, err, sizeof err) == 0);
    CHECK_EQ_U(strlen(reply), 1u << 20);
    CHECK(!strncmp(reply, "{\"x\":\"aaa", 9) && !strcmp(reply + (1 << 20) - 3, "a\"}"));
    CHECK(cg_ctl_request(path, "big", reply, 100, 3000, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "ctl.sock: reply longer than 99 bytes");

    /* -- clients that go away: no SIGPIPE, no crash, the next one served -- */
    {
        int fd = connect_raw(path);
        send_raw(fd, "sta", 3);
        close(fd);
        fd = connect_raw(path);
        send_raw(fd, "big\n", 4);
        close(fd);
        fd = connect_raw(path);
        close(fd);
    }
    CHECK(cg_ctl_request(path, "version", reply, sizeof reply, 2000, err, sizeof err) == 0);
    CHECK_STR(reply, "{\"cmd\":\"version\",\"len\":7}");

    /* -- a silent client and one that does not read its 1 MiB reply hold
     * nobody up, and are dropped at their deadline -- */
    {
        int silent = connect_raw(path), sulky = connect_raw(path);
        uint64_t t0 = now_ms();
        send_raw(sulky, "big\n", 4);
        CHECK(cg_ctl_request(path, "stats", reply, sizeof reply, 2000, err, sizeof err) == 0);
        CHECK_STR(reply, "{\"cmd\":\"stats\",\"len\":5}");
        CHECK(now_ms() - t0 < 700);
        CHECK(read_all(silent, buf, sizeof buf, 3000) > 0);
        uint64_t dt = now_ms() - t0;
        CHECK_STR(buf, "{\"error\":\"timeout: no complete command line within 1 s\"}\n");
        CHECK(dt >= 900 && dt < 2000);
        /* the server hangs up on it (seen without reading, which would let
         * the reply through) at its deadline, its reply cut off */
        struct pollfd p = { .fd = sulky, .events = POLLRDHUP };
        CHECK(poll(&p, 1, 3000) == 1 && (p.revents & (POLLRDHUP | POLLHUP)));
        dt = now_ms() - t0;
        CHECK(dt >= 900 && dt < 2000);
        long got = read_all(sulky, buf, sizeof buf, 3000);
        CHECK(got >= 0 && got < (1 << 20) + 1);
        close(silent);
        close(sulky);
    }

    /* -- many clients at once -- */
    {
        enum { N = 40 };
        int fds[N];
        for (int i = 0; i < N; i++)
            fds[i] = connect_raw(path);
        for (int i = 0; i < N; i++)
            send_raw(fds[i], "stats\n", 6);
        int ok = 0;
        for (int i = 0; i < N; i++) {
            if (read_all(fds[i], buf, sizeof buf, 1500) > 0 &&
                !strcmp(buf, "{\"cmd\":\"stats\",\"len\":5}\n"))
                ok++;
            close(fds[i]);
        }
        CHECK_EQ_U(ok, N);
    }

    /* -- more clients than slots: the surplus is told at once -- */
    {
        enum { N = CG_CTL_MAX_CLIENTS + 3 };
        int fds[N], busy = 0, early = 0;
        for (int i = 0; i < N; i++)
            fds[i] = connect_raw(path);
        for (int i = CG_CTL_MAX_CLIENTS; i < N; i++)
            if (read_all(fds[i], buf, sizeof buf, 500) > 0 &&
                !strcmp(buf, "{\"error\":\"busy: too many control clients\"}\n"))
                busy++;
        for (int i = 0; i < CG_CTL_MAX_CLIENTS; i++) {
            struct pollfd p = { .fd = fds[i], .events = POLLIN };
            early += poll(&p, 1, 0) > 0;
        }
        CHECK_EQ_U(busy, 3);
        CHECK_EQ_U(early, 0);
        for (int i = 0; i < N; i++)
            close(fds[i]);
        /* the slots come free as the server sees the EOFs */
        CHECK(cg_ctl_request(path, "stats", reply, sizeof reply, 2000, err, sizeof err) == 0);
        CHECK_STR(reply, "{\"cmd\":\"stats\",\"len\":5}");
    }

    atomic_store(&s.stop, 1);
    pthread_join(th, NULL);
    /* serve never blocked, and the descriptor did not stay readable */
    CHECK(s.max_serve_us < 500000); /* a blocking serve would take a deadline, 1 s */
    CHECK(s.serves < 5000);
    printf("serve: %lu calls, longest %llu us\n", s.serves, (unsigned long long)s.max_serve_us);

    /* -- close unlinks, and only its own socket -- */
    cg_ctl_close(s.c);
    CHECK(lstat(path, &st) == -1 && errno == ENOENT);
    CHECK(cg_ctl_request(path, "stats", reply, sizeof reply, 500, err, sizeof err) == -1);
    cg_ctl_close(NULL);

    /* -- a stale socket (bound, nobody listening) is replaced -- */
    {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path2);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        close(fd);
        CHECK(lstat(path2, &st) == 0 && S_ISSOCK(st.st_mode));
        CHECK(cg_ctl_request(path2, "stats", reply, sizeof reply, 500, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "stale.sock: no sensor is listening (Connection refused)");
        cg_ctl *c2 = NULL;
        CHECK(cg_ctl_open(&c2, path2, err, sizeof err) == 0);
        /* and it answers: serve by hand, in this thread */
        int cfd = connect_raw(path2);
        CHECK(cfd >= 0);
        send_raw(cfd, "stats\n", 6);
        struct pollfd p = { .fd = cg_ctl_fd(c2), .events = POLLIN };
        CHECK(poll(&p, 1, 1000) == 1);
        cg_ctl_serve(c2, handler, &s);
        CHECK(read_all(cfd, buf, sizeof buf, 1000) > 0);
        CHECK_STR(buf, "{\"cmd\":\"stats\",\"len\":5}\n");
        close(cfd);
        /* a replacement put there by someone else is not unlinked by close */
        unlink(path2);
        int keep = open(path2, O_CREAT | O_WRONLY, 0600);
        close(keep);
        cg_ctl_close(c2);
        CHECK(lstat(path2, &st) == 0 && S_ISREG(st.st_mode));
        unlink(path2);
    }

    /* -- what is not a socket is left alone; other errors name the path -- */
    {
        int fd = open(path3, O_CREAT | O_WRONLY, 0600);
        close(fd);
        cg_ctl *c3 = NULL;
        CHECK(cg_ctl_open(&c3, path3, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "/file: exists and is not a socket");
        CHECK(lstat(path3, &st) == 0 && S_ISREG(st.st_mode));
        unlink(path3);
        CHECK(cg_ctl_open(&c3, "/nonexistent-dir/ctl.sock", err, sizeof err) == -1);
        CHECK_STR(err, "/nonexistent-dir/ctl.sock: No such file or directory");
        char lng[300];
        memset(lng, 'x', sizeof lng - 1);
        lng[0] = '/';
        lng[sizeof lng - 1] = '\0';
        CHECK(cg_ctl_open(&c3, lng, err, sizeof err) == -1);
        CHECK_CONTAINS(err, ": path too long for a Unix socket");
        CHECK(cg_ctl_request(lng, "stats", reply, sizeof reply, 500, err, sizeof err) == -1);
        CHECK_CONTAINS(err, ": path too long for a Unix socket");
    }

    free(longl);
    rmdir(dir);
    return check_done("test_ctl");
}
