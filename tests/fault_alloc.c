/* fault_alloc.c — the allocation hook of fault_alloc.h: the __wrap_X
 * functions the linker's --wrap=X sends calls to, one counter for all.
 *
 * Invariants: the counter and the armed state are atomics (the pipeline
 * allocates on several threads); a wrapper that does not fail calls
 * __real_X, so under ASan the sanitizer's allocator still sees every block.
 * Nothing here allocates.
 */
#include "tests/fault_alloc.h"

#include <errno.h>
#include <execinfo.h>
#include <hs.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
ssize_t __real_getline(char **line, size_t *cap, FILE *f);
ssize_t __real_getdelim(char **line, size_t *cap, int delim, FILE *f);
ssize_t __real___getdelim(char **line, size_t *cap, int delim, FILE *f);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
ssize_t __wrap_getline(char **line, size_t *cap, FILE *f);
ssize_t __wrap_getdelim(char **line, size_t *cap, int delim, FILE *f);
ssize_t __wrap___getdelim(char **line, size_t *cap, int delim, FILE *f);

static _Atomic int armed, persistent, fired;
static _Atomic uint64_t fail_at, counted;
static void *where[16]; /* the call stack of the first failed call */
static _Atomic int nwhere;

void fault_arm(uint64_t n, int persist)
{
    atomic_store(&counted, 0);
    atomic_store(&fired, 0);
    atomic_store(&nwhere, 0);
    atomic_store(&fail_at, n);
    atomic_store(&persistent, persist);
    atomic_store(&armed, 1);
}

void fault_disarm(void)
{
    atomic_store(&armed, 0);
}

uint64_t fault_count(void)
{
    return atomic_load(&counted);
}

int fault_fired(void)
{
    return atomic_load(&fired);
}

/* 1 when this allocation is to fail (errno is then ENOMEM). */
static int fail_now(void)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    uint64_t k = atomic_fetch_add(&counted, 1) + 1, at = atomic_load(&fail_at);
    if (at == 0 || k < at || (k > at && !atomic_load(&persistent)))
        return 0;
    if (k == at) {
        atomic_store(&nwhere, backtrace(where, 16));
        atomic_store(&fired, 1);
    }
    errno = ENOMEM;
    return 1;
}

void fault_print_where(int fd)
{
    int n = atomic_load(&nwhere);
    if (n > 2)
        backtrace_symbols_fd(where + 2, n - 2, fd);
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return fail_now() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (p && n == 0)
        return __real_realloc(p, n);
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
    return fail_now() ? NULL : __real_aligned_alloc(a, n);
}

ssize_t __wrap_getline(char **line, size_t *cap, FILE *f)
{
    return fail_now() ? -1 : __real_getline(line, cap, f);
}

ssize_t __wrap_getdelim(char **line, size_t *cap, int delim, FILE *f)
{
    return fail_now() ? -1 : __real_getdelim(line, cap, delim, f);
}

/* what glibc's stdio.h makes of getline in an optimised build */
ssize_t __wrap___getdelim(char **line, size_t *cap, int delim, FILE *f)
{
    return fail_now() ? -1 : __real___getdelim(line, cap, delim, f);
}

/* Hyperscan's allocator: malloc's alignment (16 bytes) is what it asks for. */
static void *hs_fault_alloc(size_t n)
{
    return __wrap_malloc(n);
}

static void hs_fault_free(void *p)
{
    free(p);
}

int fault_hook_hyperscan(void)
{
    void *f[2];
    backtrace(f, 2); /* loads what backtrace needs, before any fault */
    return hs_set_allocator(hs_fault_alloc, hs_fault_free) == HS_SUCCESS ? 0 : -1;
}
