/* store_guard.c — a damaged store ends a command with one line, not a signal.
 *
 * LMDB trusts data.mdb: a page overwritten on disk can make it read past
 * the file's end inside its map (SIGBUS), follow a garbled offset out of a
 * page (SIGSEGV), or fail one of its assertions (abort). A process that
 * asked for it (cg_store_fault_exit: the canhgac commands do) gets instead
 * one line, "PREFIX: DIR: damaged (page N): restore from a backup", and the
 * exit status it chose.
 *
 * Invariants:
 *  1. A fault is taken for damage only when its address lies in the map of
 *     a store this process has open (or up to 4 GiB past its end: a value
 *     whose length was garbled and read to its end), or while a store is
 *     being opened (LMDB reads the meta pages before its map is known here).
 *     A fault whose instruction is in liblmdb's code is damage too (LMDB
 *     following a garbled page pointer: a null one, a wild one); LMDB does
 *     not fault on a sound store; so is a fault in a leaf function (memcpy)
 *     whose return address, on top of the stack, is in LMDB. Any other fault gets the default action
 *     again and is re-raised: a bug stays a crash with a core, never a false
 *     "damaged".
 *  2. The handler only reads the slot table and fixed strings, formats with
 *     its own digits, calls statfs(2) and geteuid(2), write(2)s and
 *     _exit(2)s: async-signal-safe.
 *  4. A SIGBUS taken for the store's while its file system is full
 *     (cgs_disk_full) is a page of a map the kernel could not allocate (a
 *     hole of lock.mdb written through LMDB's map): it says "No space left
 *     on device", not damaged, and exits with the code for that.
 *  3. Slots are filled by cg_store_open once the map is known and emptied by
 *     cg_store_close before the map goes; the pointers are published with
 *     release stores so the handler never sees half a slot.
 *
 * Also here: the process-wide "a damaged store was met" flag behind
 * cg_store_damaged(), set by every error that says damaged.
 */
#include "store/store_int.h"

#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#define SLOTS 8
#define SLACK ((uintptr_t)4 << 30)

static struct {
    _Atomic(uintptr_t) lo; /* 0: free */
    uintptr_t len;
    size_t psize;
    const char *dir;
} slots[SLOTS];

static uintptr_t g_lmdb_lo, g_lmdb_hi;         /* liblmdb's code, when it is a shared library */
static const char *g_prefix;                   /* NULL: not asked for */
static struct sigaction g_old_segv, g_old_bus; /* what was there before */
static int g_fd = 2, g_code = 2, g_code_full = 1;
static _Atomic(const char *) g_opening; /* a store being opened */
static char g_where[160];
static volatile sig_atomic_t g_where_set;
static atomic_int g_damaged;

void cgs_note_damaged(void)
{
    atomic_store(&g_damaged, 1);
}

int cg_store_damaged(void)
{
    return atomic_load(&g_damaged);
}

static size_t cat(char *buf, size_t n, size_t cap, const char *s)
{
    while (*s && n + 1 < cap)
        buf[n++] = *s++;
    return n;
}

static size_t cat_u64(char *buf, size_t n, size_t cap, uint64_t v)
{
    char d[24];
    int i = 0;
    do {
        d[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i && n + 1 < cap)
        buf[n++] = d[--i];
    return n;
}

/* "PREFIX: DIR: damaged (WHAT[, WHERE]): restore from a backup\n" */
static void say_damaged(const char *dir, const char *what, int has_page, uint64_t page)
{
    char buf[640];
    size_t n = 0;

    n = cat(buf, n, sizeof buf, g_prefix);
    n = cat(buf, n, sizeof buf, ": ");
    n = cat(buf, n, sizeof buf, dir);
    n = cat(buf, n, sizeof buf, ": damaged (");
    if (has_page) {
        n = cat(buf, n, sizeof buf, "page ");
        n = cat_u64(buf, n, sizeof buf, page);
    } else {
        n = cat(buf, n, sizeof buf, what);
    }
    if (g_where_set) {
        n = cat(buf, n, sizeof buf, ", ");
        n = cat(buf, n, sizeof buf, g_where);
    }
    n = cat(buf, n, sizeof buf, "): restore from a backup\n");
    if (write(g_fd, buf, n) < 0) {
        /* nothing else to say it with */
    }
}

/* "PREFIX: DIR: No space left on device (...)\n" */
static void say_full(const char *dir)
{
    char buf[640];
    size_t n = 0;

    n = cat(buf, n, sizeof buf, g_prefix);
    n = cat(buf, n, sizeof buf, ": ");
    n = cat(buf, n, sizeof buf, dir);
    n = cat(buf, n, sizeof buf,
            ": No space left on device (a page LMDB writes through its "
            "map could not be allocated)\n");
    if (write(g_fd, buf, n) < 0) {
        /* nothing else to say it with */
    }
}

/* Ends the process for a fault of dir's store: full disk or damage. A full
 * disk faults only on a write (data.mdb is mapped read-only: a damaged
 * store's faults are reads); where the context says which, a read is
 * damage whatever the disk. */
static _Noreturn void store_fault(int sig, void *uc, const char *dir, const char *what,
                                  int has_page, uint64_t page)
{
    int write_fault = 1;
#if defined(__x86_64__)
    write_fault = (((ucontext_t *)uc)->uc_mcontext.gregs[REG_ERR] & 2) != 0; /* X86_PF_WRITE */
#else
    (void)uc;
#endif
    if (sig == SIGBUS && write_fault && cgs_disk_full(dir)) {
        say_full(dir);
        _exit(g_code_full);
    }
    say_damaged(dir, what, has_page, page);
    _exit(g_code);
}

/* The store a fault in LMDB's code is of: the open one (the first). */
static const char *any_dir(void)
{
    const char *opening = atomic_load(&g_opening);
    if (opening)
        return opening;
    for (int i = 0; i < SLOTS; i++)
        if (atomic_load_explicit(&slots[i].lo, memory_order_acquire))
            return slots[i].dir;
    return "store";
}

/* The executable mappings of the shared object holding mdb_get: a fault
 * whose instruction is there is LMDB's (not when LMDB is linked in). */
static void find_lmdb(void)
{
    Dl_info di;
    char line[PATH_MAX + 128], path[PATH_MAX], self[PATH_MAX];
    ssize_t sl;
    FILE *f;

    char lib[PATH_MAX] = "";

    if (!dladdr((void *)mdb_get, &di) || !di.dli_fbase)
        return;
    sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = 0;
    if (!(f = fopen("/proc/self/maps", "re")))
        return;
    /* the file mapped at the object's base, by the name the kernel gives it */
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &lo, &hi, perms, path) != 4)
            continue;
        if (!lib[0] && lo == (unsigned long)(uintptr_t)di.dli_fbase) {
            if (!strcmp(path, self))
                break; /* LMDB linked into the executable */
            snprintf(lib, sizeof lib, "%s", path);
        }
        if (lib[0] && perms[2] == 'x' && !strcmp(path, lib)) {
            g_lmdb_lo = (uintptr_t)lo;
            g_lmdb_hi = (uintptr_t)hi;
        }
    }
    fclose(f);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    uintptr_t a = (uintptr_t)si->si_addr;
    const char *opening = atomic_load(&g_opening);

    uintptr_t pc = 0;
#if defined(__x86_64__)
    pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
    {
        /* a leaf libc function (memcpy) LMDB called with a garbled length:
         * its return address is still on top of the stack */
        uintptr_t ret = *(const uintptr_t *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
        if (ret >= g_lmdb_lo && ret < g_lmdb_hi)
            pc = ret;
    }
#elif defined(__aarch64__)
    pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.pc;
#else
    (void)uc;
#endif
    if (pc && pc >= g_lmdb_lo && pc < g_lmdb_hi) {
        /* LMDB followed a garbled page (a null or wild page pointer) */
        store_fault(sig, uc, any_dir(), "a page LMDB could not follow", 0, 0);
    }
    for (int i = 0; i < SLOTS; i++) {
        uintptr_t lo = atomic_load_explicit(&slots[i].lo, memory_order_acquire);
        if (lo && a >= lo && a - lo < slots[i].len + SLACK)
            store_fault(sig, uc, slots[i].dir, NULL, 1, (uint64_t)((a - lo) / slots[i].psize));
    }
    if (opening)
        store_fault(sig, uc, opening, sig == SIGBUS ? "meta page: bus error" : "meta page", 0, 0);
    /* not ours (invariant 1): the action that was there (the default, or a
     * sanitizer's report), and on return the fault again */
    sigaction(sig, sig == SIGBUS ? &g_old_bus : &g_old_segv, NULL);
}

static void on_assert(MDB_env *env, const char *msg)
{
    const char *path = NULL;
    char what[200];

    if (!g_prefix)
        return;
    if (mdb_env_get_path(env, &path) || !path)
        path = "?";
    snprintf(what, sizeof what, "LMDB: %s", msg);
    say_damaged(path, what, 0, 0);
    _exit(g_code);
}

void cg_store_fault_exit(const char *prefix, int fd, int code, int full_code)
{
    struct sigaction sa;

    find_lmdb();
    g_prefix = prefix;
    g_fd = fd;
    g_code = code;
    g_code_full = full_code;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
}

void cg_store_fault_where(const char *where)
{
    g_where_set = 0;
    if (!where)
        return;
    snprintf(g_where, sizeof g_where, "%s", where);
    g_where_set = 1;
}

void cgs_guard_opening(const cg_store *st, MDB_env *env)
{
    atomic_store(&g_opening, st ? st->dir : NULL);
    if (env && g_prefix)
        mdb_env_set_assert(env, on_assert);
}

/* Where LMDB mapped data.mdb: mdb_env_info gives the address only for
 * MDB_FIXEDMAP, so it is the mapping of data.mdb's inode in
 * /proc/self/maps (0 when not found: faults there are then not taken for
 * damage, invariant 1). */
static uintptr_t find_map(const cg_store *st, uintptr_t *len)
{
    char path[PATH_MAX], line[PATH_MAX + 128];
    struct stat sb;
    uintptr_t found = 0;
    FILE *f;

    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", st->dir) >= sizeof path ||
        stat(path, &sb) != 0 || !(f = fopen("/proc/self/maps", "re")))
        return 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 &&
            ino == (unsigned long)sb.st_ino && ino != 0) {
            found = (uintptr_t)lo;
            *len = (uintptr_t)(hi - lo);
            break;
        }
    }
    fclose(f);
    return found;
}

void cgs_guard_add(const cg_store *st)
{
    MDB_stat ms;
    uintptr_t lo, len = 0;

    if (mdb_env_stat(st->env, &ms) || !(lo = find_map(st, &len)))
        return;
    for (int i = 0; i < SLOTS; i++) {
        if (atomic_load(&slots[i].lo))
            continue;
        slots[i].len = len;
        slots[i].psize = ms.ms_psize ? ms.ms_psize : 4096;
        slots[i].dir = st->dir;
        atomic_store_explicit(&slots[i].lo, lo, memory_order_release);
        return;
    }
}

void cgs_guard_remove(const cg_store *st)
{
    for (int i = 0; i < SLOTS; i++)
        if (atomic_load(&slots[i].lo) && slots[i].dir == st->dir)
            atomic_store_explicit(&slots[i].lo, 0, memory_order_release);
}
