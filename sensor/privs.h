/* privs.h — giving up root after start-up, and the pid file.
 *
 * Order in `canhgac run`: look the user up first (cg_privs_lookup, so a bad
 * --user is refused before anything is opened), open what needs privileges
 * (the capture: AF_PACKET needs CAP_NET_RAW, promiscuous mode CAP_NET_ADMIN;
 * the pid file and the control socket in a root-owned /run), then drop
 * (cg_privs_drop). Descriptors opened before the drop keep working after
 * it: an open packet socket is not checked again.
 *
 * Capabilities. A process that changes its uids from 0 to non-zero loses
 * every capability (permitted, effective, ambient), which is what is wanted
 * once the capture is open. A process that is not root but holds
 * capabilities (systemd User=canhgac with AmbientCapabilities=CAP_NET_RAW
 * CAP_NET_ADMIN) has no uid to change when --user names itself; for it,
 * cg_privs_drop clears its capability sets (effective, permitted,
 * inheritable, ambient), so after the call the sensor holds no privilege in
 * either case. The bounding set is left as it is (changing it needs
 * CAP_SETPCAP; NoNewPrivileges= or the set's own emptiness guard execve).
 *
 * Threads: the uid and gid changes apply to every thread (glibc signals
 * them all), capabilities to the calling thread only: call cg_privs_drop
 * before starting worker threads.
 */
#ifndef CG_PRIVS_H
#define CG_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/* Looks user up (and group, or the user's primary group when group is
 * NULL), changes nothing. 0 with *uid and *gid set, or -1 with a one-line
 * message: "user 'x' does not exist", "group 'y' does not exist" (or the
 * lookup's own error, "cannot look up user 'x': <strerror>"). */
int cg_privs_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
                    size_t errlen);

/* As root (effective uid 0): looks up as above, then initgroups (the user's
 * supplementary groups, with gid), setresgid, setresuid, in that order; then
 * checks that root cannot be regained (setuid(0) fails; setgid(0) fails
 * unless the target group is 0) and that the real, effective and saved uids
 * and gids are the target's. Dropping to a user whose uid is 0 is refused.
 * Not root: when user is the current user (real and effective) and group is
 * NULL or the current group, the capabilities the process may hold are
 * cleared and that is all; otherwise an error. 0, or -1 with one line:
 * "user 'x' does not exist", "group 'y' does not exist",
 * "cannot drop privileges to x: <strerror>" (or a reason). On failure after
 * a change began, the process is in an unknown state: exit. */
int cg_privs_drop(const char *user, const char *group, char *err, size_t errlen);

/* Writes this process's pid ("N\n") to path, created with O_EXCL, mode 0644.
 * A file already there whose pid is not alive, is this process's own (a
 * container's pid 1 restarted) or is not a pid at all is stale: removed,
 * and the write done. One whose pid is alive is refused: "PATH: canhgac
 * already running as pid N". Other errors: "PATH: <strerror>". 0 or -1. */
int cg_pidfile_write(const char *path, char *err, size_t errlen);

/* Unlinks path if it still holds this process's pid (so a sensor never
 * removes the file of another that took over). Errors are ignored: after a
 * drop of privileges a root-owned directory may refuse the unlink. */
void cg_pidfile_remove(const char *path);

#endif
