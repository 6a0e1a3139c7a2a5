/* fault_alloc.h — allocation fault simulation for the tests: fail the Nth
 * allocation, as SQLite's malloc fault tests do.
 *
 * fault_alloc.c defines __wrap_malloc, __wrap_calloc, __wrap_realloc,
 * __wrap_strdup, __wrap_strndup, __wrap_aligned_alloc, __wrap_getline,
 * __wrap_getdelim and __wrap___getdelim (glibc's stdio.h turns getline into
 * __getdelim in an optimised build); a binary linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,
 *   --wrap=strndup,--wrap=aligned_alloc,--wrap=getline,--wrap=getdelim,
 *   --wrap=__getdelim
 * sends every such call of its own objects and of libcanhgac.a's through
 * them (the Makefile's FAULT_WRAP; `nm -u libcanhgac.a` lists what the
 * library calls, and these are all of its allocators). Shared libraries (libc's own callers, libpcap, LMDB, PCRE2, json-c)
 * keep the real functions; Hyperscan's allocations come through the same
 * counter once fault_hook_hyperscan() has installed its allocator.
 *
 * Invariants:
 *  - Disarmed (the start, and after fault_disarm), every call goes to the
 *    real function and nothing is counted.
 *  - Armed with fault_arm(n), calls are counted from 1, across threads
 *    (one atomic counter); call number n fails (NULL, or -1 for getline,
 *    with errno ENOMEM) and so does every later one when persistent is
 *    set (else only the nth). fault_count() is the number counted since
 *    the last fault_arm, fault_fired() whether the failure happened.
 *  - fault_arm(0) counts without failing: the dry run that finds K.
 *  - free and realloc(p, 0) are never failed; realloc(NULL, n) counts as
 *    an allocation.
 *  - The call stack of the failed call is kept (fault_print_where); taking
 *    it allocates nothing once fault_hook_hyperscan has run.
 *  - getline and getdelim count each call as an allocation (it allocates on its first
 *    call and whenever a line outgrows the buffer); a failed call leaves
 *    the stream where it was.
 */
#ifndef CG_FAULT_ALLOC_H
#define CG_FAULT_ALLOC_H

#include <stdint.h>

/* Counts from the next allocation; fails the nth (n >= 1), and every one
 * after it when persistent; n 0: counts only. */
void fault_arm(uint64_t n, int persistent);
/* Stops counting and failing. */
void fault_disarm(void);
/* Allocations counted since the last fault_arm. */
uint64_t fault_count(void);
/* 1 when an allocation was failed since the last fault_arm. */
int fault_fired(void);
/* Writes the call stack of the failed allocation to fd (backtrace_symbols_fd:
 * addresses for addr2line), nothing when none failed. */
void fault_print_where(int fd);
/* Routes Hyperscan's allocations (databases, scratch, streams, misc)
 * through the counter. 0, or -1 when Hyperscan refused. */
int fault_hook_hyperscan(void);

#endif
