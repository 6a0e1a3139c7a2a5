/* test_privs.c — unit tests of sensor/privs: user and group lookup, the
 * drop of root (in forked children, since it cannot be undone), the
 * clearing of capabilities a non-root process holds (systemd's
 * AmbientCapabilities case), and the pid file.
 *
 * The drops need root: run as another user, those parts say so and are
 * skipped. A child reports its own failures on stderr and exits with their
 * number, which the parent checks.
 */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sensor/privs.h"
#include "tests/check.h"

/* The value of a "Name:" line of /proc/self/status, tabs as spaces. */
static const char *status_field(const char *name, char *out, size_t len)
{
    char line[512];
    size_t nl = strlen(name);
    FILE *f = fopen("/proc/self/status", "r");
    out[0] = '\0';
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, name, nl) || line[nl] != ':')
            continue;
        const char *v = line + nl + 1;
        while (*v == '\t' || *v == ' ')
            v++;
        snprintf(out, len, "%s", v);
        for (char *p = out; *p; p++)
            if (*p == '\t')
                *p = ' ';
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    if (f)
        fclose(f);
    return out;
}

/* Runs fn in a child; its exit status (the child's failed checks). */
static int in_child(int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static struct passwd nobody;
static char nobody_group[64];

/* As root: drop to nobody (primary group), and see that it holds. */
static int child_drop(void)
{
    char err[256], v[128], want[128];
    int pk = socket(AF_PACKET, SOCK_RAW, 0); /* opened while privileged, if allowed */
    /* root with supplementary groups, which must not survive the drop */
    gid_t extra[2] = { 0, 4 };
    CHECK(setgroups(2, extra) == 0);
    if (cg_privs_drop("nobody", NULL, err, sizeof err) != 0) {
        fprintf(stderr, "cg_privs_drop(nobody): %s\n", err);
        return 1;
    }
    CHECK(setuid(0) == -1 && errno == EPERM);
    CHECK(seteuid(0) == -1);
    CHECK(setgid(0) == -1);
    CHECK(getuid() == nobody.pw_uid && geteuid() == nobody.pw_uid);
    CHECK(getgid() == nobody.pw_gid && getegid() == nobody.pw_gid);
    snprintf(want, sizeof want, "%u %u %u %u", (unsigned)nobody.pw_uid, (unsigned)nobody.pw_uid,
             (unsigned)nobody.pw_uid, (unsigned)nobody.pw_uid);
    CHECK_STR(status_field("Uid", v, sizeof v), want);
    snprintf(want, sizeof want, "%u %u %u %u", (unsigned)nobody.pw_gid, (unsigned)nobody.pw_gid,
             (unsigned)nobody.pw_gid, (unsigned)nobody.pw_gid);
    CHECK_STR(status_field("Gid", v, sizeof v), want);
    /* root's supplementary groups are gone */
    gid_t groups[64];
    int ng = getgroups(64, groups);
    CHECK(ng >= 0);
    for (int i = 0; i < ng; i++)
        CHECK(groups[i] != 0 && groups[i] != 4);
    CHECK_STR(status_field("CapEff", v, sizeof v), "0000000000000000");
    CHECK_STR(status_field("CapPrm", v, sizeof v), "0000000000000000");
    CHECK_STR(status_field("CapAmb", v, sizeof v), "0000000000000000");
    if (pk >= 0) {
        /* the packet socket opened before the drop still works; a new one
         * cannot be had */
        int type = 0;
        socklen_t tl = sizeof type;
        CHECK(getsockopt(pk, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_RAW);
        CHECK(socket(AF_PACKET, SOCK_RAW, 0) == -1 && errno == EPERM);
    }
    /* dropping again to oneself is nothing to do; to anyone else, refused */
    CHECK(cg_privs_drop("nobody", NULL, err, sizeof err) == 0);
    CHECK(cg_privs_drop("root", NULL, err, sizeof err) == -1);
    CHECK_STR(err, "cannot drop privileges to root: it is uid 0");
    struct passwd *daemon_pw = getpwnam("daemon");
    if (daemon_pw) {
        CHECK(cg_privs_drop("daemon", NULL, err, sizeof err) == -1);
        CHECK_STR(err,
                  "cannot drop privileges to daemon: Operation not permitted (not running as "
                  "root)");
    }
    return (int)check_fail_;
}

/* As root: drop to nobody with the group named explicitly. */
static int child_drop_group(void)
{
    char err[256];
    if (cg_privs_drop("nobody", nobody_group, err, sizeof err) != 0) {
        fprintf(stderr, "cg_privs_drop(nobody, %s): %s\n", nobody_group, err);
        return 1;
    }
    CHECK(getgid() == nobody.pw_gid && getegid() == nobody.pw_gid);
    CHECK(setuid(0) == -1);
    return (int)check_fail_;
}

/* As root: become nobody but keep CAP_NET_RAW as an ambient capability, as
 * systemd's User= with AmbientCapabilities= starts the sensor; then
 * cg_privs_drop to oneself must leave no capability. 77 when the kernel or
 * container does not allow the set-up. */
static int child_ambient(void)
{
    char err[256], v[128];
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    const unsigned bit = 1u << CAP_NET_RAW;

    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
        setresgid(nobody.pw_gid, nobody.pw_gid, nobody.pw_gid) ||
        setresuid(nobody.pw_uid, nobody.pw_uid, nobody.pw_uid))
        return 77;
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = data[0].inheritable = bit;
    if (syscall(SYS_capset, &hdr, data) ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0))
        return 77;
    CHECK(strcmp(status_field("CapAmb", v, sizeof v), "0000000000000000") != 0);
    CHECK(cg_privs_drop("nobody", NULL, err, sizeof err) == 0);
    CHECK_STR(status_field("CapEff", v, sizeof v), "0000000000000000");
    CHECK_STR(status_field("CapPrm", v, sizeof v), "0000000000000000");
    CHECK_STR(status_field("CapInh", v, sizeof v), "0000000000000000");
    CHECK_STR(status_field("CapAmb", v, sizeof v), "0000000000000000");
    CHECK(getuid() == nobody.pw_uid);
    return (int)check_fail_;
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

static void read_file(const char *path, char *out, size_t len)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(out, 1, len - 1, f);
        out[n] = '\0';
        fclose(f);
    }
}

int main(void)
{
    char err[256], buf[64], want[64], dir[] = "/tmp/cg-privs-XXXXXX", pf[128];
    uid_t uid = 123;
    gid_t gid = 456;

    /* -- lookups -- */
    CHECK(cg_privs_lookup("cg-no-such-user", NULL, &uid, &gid, err, sizeof err) == -1);
    CHECK_STR(err, "user 'cg-no-such-user' does not exist");
    CHECK(uid == 123 && gid == 456); /* untouched on failure */
    CHECK(cg_privs_lookup("root", "cg-no-such-group", &uid, &gid, err, sizeof err) == -1);
    CHECK_STR(err, "group 'cg-no-such-group' does not exist");
    CHECK(cg_privs_lookup("", NULL, &uid, &gid, err, sizeof err) == -1);
    CHECK(cg_privs_lookup("root", NULL, &uid, &gid, err, sizeof err) == 0);
    CHECK(uid == 0 && gid == 0);
    CHECK(cg_privs_drop("cg-no-such-user", NULL, err, sizeof err) == -1);
    CHECK_STR(err, "user 'cg-no-such-user' does not exist");
    CHECK(cg_privs_drop("root", "cg-no-such-group", err, sizeof err) == -1);
    CHECK_STR(err, "group 'cg-no-such-group' does not exist");

    struct passwd *pw = getpwnam("nobody");
    CHECK(pw != NULL);
    if (pw) {
        nobody = *pw;
        struct group *gr = getgrgid(nobody.pw_gid);
        snprintf(nobody_group, sizeof nobody_group, "%s", gr ? gr->gr_name : "nogroup");
        CHECK(cg_privs_lookup("nobody", NULL, &uid, &gid, err, sizeof err) == 0);
        CHECK(uid == nobody.pw_uid && gid == nobody.pw_gid);
        CHECK(cg_privs_lookup("nobody", "root", &uid, &gid, err, sizeof err) == 0);
        CHECK(uid == nobody.pw_uid && gid == 0);
    }

    /* -- drops, in children -- */
    if (geteuid() == 0 && pw) {
        CHECK_EQ_U(in_child(child_drop), 0);
        CHECK_EQ_U(in_child(child_drop_group), 0);
        int r = in_child(child_ambient);
        if (r == 77)
            printf("test_privs: ambient capabilities cannot be set up here; skipped\n");
        else
            CHECK_EQ_U(r, 0);
        /* the parent is still root */
        CHECK(geteuid() == 0);
    } else {
        printf("test_privs: not root; the drops are skipped\n");
        /* to oneself is nothing to do; to another, refused */
        struct passwd *me = getpwuid(getuid());
        if (me)
            CHECK(cg_privs_drop(me->pw_name, NULL, err, sizeof err) == 0);
        CHECK(cg_privs_drop("root", NULL, err, sizeof err) == -1);
    }

    /* -- the pid file -- */
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(pf, sizeof pf, "%s/canhgac.pid", dir);
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    CHECK(cg_pidfile_write(pf, err, sizeof err) == 0);
    read_file(pf, buf, sizeof buf);
    CHECK_STR(buf, want);
    /* a file with our own pid (a restarted container's pid 1) is stale */
    CHECK(cg_pidfile_write(pf, err, sizeof err) == 0);

    /* a live pid is refused, the file kept */
    fflush(NULL);
    pid_t kid = fork();
    if (kid == 0) {
        pause();
        _exit(0);
    }
    char live[32], msg[256];
    snprintf(live, sizeof live, "%ld\n", (long)kid);
    write_file(pf, live);
    CHECK(cg_pidfile_write(pf, err, sizeof err) == -1);
    snprintf(msg, sizeof msg, "%s: canhgac already running as pid %ld", pf, (long)kid);
    CHECK_STR(err, msg);
    read_file(pf, buf, sizeof buf);
    CHECK_STR(buf, live);
    /* remove leaves another process's file alone */
    cg_pidfile_remove(pf);
    CHECK(access(pf, F_OK) == 0);
    /* once it is dead, its file is stale and replaced */
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    CHECK(cg_pidfile_write(pf, err, sizeof err) == 0);
    read_file(pf, buf, sizeof buf);
    CHECK_STR(buf, want);
    /* garbage and an empty file are stale too */
    write_file(pf, "not a pid\n");
    CHECK(cg_pidfile_write(pf, err, sizeof err) == 0);
    write_file(pf, "");
    CHECK(cg_pidfile_write(pf, err, sizeof err) == 0);
    read_file(pf, buf, sizeof buf);
    CHECK_STR(buf, want);
    /* remove takes our own */
    cg_pidfile_remove(pf);
    CHECK(access(pf, F_OK) == -1 && errno == ENOENT);
    cg_pidfile_remove(pf); /* nothing there: harmless */
    cg_pidfile_remove(NULL);
    /* other errors name the path */
    CHECK(cg_pidfile_write("/nonexistent-dir/canhgac.pid", err, sizeof err) == -1);
    CHECK_STR(err, "/nonexistent-dir/canhgac.pid: No such file or directory");
    rmdir(dir);

    return check_done("test_privs");
}
