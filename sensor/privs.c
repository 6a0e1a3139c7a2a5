/* privs.c — dropping root to a named user, clearing capabilities, and the
 * pid file (privs.h).
 *
 * The order of the drop is the one that works: supplementary groups and the
 * gid while still root (after setuid they could no longer be changed), the
 * uid last. Each step is checked, and then the result as a whole, since a
 * silently failed setuid is the classic way such code leaves a daemon root.
 * Capabilities are cleared with the raw capget/capset calls (no libcap).
 */
#include "sensor/privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* getpwnam_r/getgrnam_r report "no such entry" as 0 with no result, or,
 * depending on the NSS module, as one of these. */
static int not_found(int e)
{
    return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

static size_t first_bufsize(int which)
{
    long n = sysconf(which);
    return n > 0 && n < (1 << 20) ? (size_t)n : 16384;
}

int cg_privs_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                    size_t errlen)
{
    char *buf = NULL;
    size_t len = first_bufsize(_SC_GETPW_R_SIZE_MAX);
    int e, ret = -1;
    uid_t u = 0;
    gid_t g = 0;

    if (!user || !*user) {
        snprintf(err, errlen, "no user given");
        return -1;
    }
    for (;;) {
        struct passwd pw, *res = NULL;
        char *nb = realloc(buf, len);
        if (!nb) {
            e = ENOMEM;
            goto fail_user;
        }
        buf = nb;
        e = getpwnam_r(user, &pw, buf, len, &res);
        if (e == ERANGE && len < (1u << 20)) {
            len *= 2;
            continue;
        }
        if (res) {
            u = pw.pw_uid;
            g = pw.pw_gid;
            break;
        }
        if (not_found(e)) {
            snprintf(err, errlen, "user '%s' does not exist", user);
            goto done;
        }
        goto fail_user;
    }
    if (group) {
        len = first_bufsize(_SC_GETGR_R_SIZE_MAX);
        for (;;) {
            struct group gr, *res = NULL;
            char *nb = realloc(buf, len);
            if (!nb) {
                e = ENOMEM;
                goto fail_group;
            }
            buf = nb;
            e = getgrnam_r(group, &gr, buf, len, &res);
            if (e == ERANGE && len < (1u << 20)) {
                len *= 2;
                continue;
            }
            if (res) {
                g = gr.gr_gid;
                break;
            }
            if (*group && not_found(e)) {
                snprintf(err, errlen, "group '%s' does not exist", group);
                goto done;
            }
            goto fail_group;
        }
    }
    *uid = u;
    *gid = g;
    ret = 0;
    goto done;

fail_user:
    snprintf(err, errlen, "cannot look up user '%s': %s", user, strerror(e));
    goto done;
fail_group:
    snprintf(err, errlen, "cannot look up group '%s': %s", group, strerror(e ? e : EINVAL));
done:
    free(buf);
    return ret;
}

/* Empties the calling thread's capability sets; 0, or -1 with errno. */
static int clear_caps(void)
{
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

    /* the ambient set first: it cannot hold what permitted does not */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return -1;
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) != 0)
        return -1;
    /* and see that it took */
    if (syscall(SYS_capget, &hdr, data) != 0)
        return -1;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
        if (data[i].effective || data[i].permitted || data[i].inheritable) {
            errno = EPERM;
            return -1;
        }
    return 0;
}

int cg_privs_drop(const char *user, const char *group, char *err, size_t errlen)
{
    uid_t uid, ru, eu, su;
    gid_t gid, rg, eg, sg;

    if (cg_privs_lookup(user, group, &uid, &gid, err, errlen))
        return -1;
    if (uid == 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: it is uid 0", user);
        return -1;
    }
    if (geteuid() != 0) {
        if (getuid() != uid || geteuid() != uid ||
            (group && (getgid() != gid || getegid() != gid))) {
            snprintf(err, errlen, "cannot drop privileges to %s: %s (not running as root)", user,
                     strerror(EPERM));
            return -1;
        }
        if (clear_caps()) {
            snprintf(err, errlen, "cannot drop privileges to %s: clearing capabilities: %s", user,
                     strerror(errno));
            return -1;
        }
        return 0;
    }

    if (initgroups(user, gid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: initgroups: %s", user,
                 strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: setgid: %s", user, strerror(errno));
        return -1;
    }
    if (setresuid(uid, uid, uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: setuid: %s", user, strerror(errno));
        return -1;
    }
    /* the kernel empties them on leaving uid 0, unless SECBIT_KEEP_CAPS
     * was set: make sure either way */
    if (clear_caps()) {
        snprintf(err, errlen, "cannot drop privileges to %s: clearing capabilities: %s", user,
                 strerror(errno));
        return -1;
    }
    if (setuid(0) != -1 || (gid != 0 && setgid(0) != -1)) {
        snprintf(err, errlen, "cannot drop privileges to %s: root can still be regained", user);
        return -1;
    }
    if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != uid || eu != uid ||
        su != uid || rg != gid || eg != gid || sg != gid) {
        snprintf(err, errlen,
                 "cannot drop privileges to %s: ids are not the user's after the change", user);
        return -1;
    }
    return 0;
}

/* The pid in path: >0, 0 when the file holds no pid, -1 on an error (errno). */
static long read_pid(const char *path)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    buf[n] = '\0';
    char *end;
    errno = 0;
    long pid = strtol(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n') || pid <= 0 || pid > 0x7fffffffL)
        return 0;
    return pid;
}

int cg_pidfile_write(const char *path, char *err, size_t errlen)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());

    for (int tries = 0;; tries++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            ssize_t w;
            do
                w = write(fd, buf, (size_t)n);
            while (w < 0 && errno == EINTR);
            int e = w == n ? 0 : w < 0 ? errno : ENOSPC;
            if (close(fd) != 0 && !e)
                e = errno;
            if (e) {
                unlink(path);
                snprintf(err, errlen, "%s: %s", path, strerror(e));
                return -1;
            }
            return 0;
        }
        if (errno != EEXIST || tries == 2) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        long pid = read_pid(path);
        if (pid < 0) {
            if (errno == ENOENT)
                continue; /* gone meanwhile */
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
            snprintf(err, errlen, "%s: canhgac already running as pid %ld", path, pid);
            return -1;
        }
        if (unlink(path) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "%s: removing the stale pid file: %s", path, strerror(errno));
            return -1;
        }
    }
}

void cg_pidfile_remove(const char *path)
{
    if (path && read_pid(path) == (long)getpid())
        unlink(path);
}
