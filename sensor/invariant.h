/* invariant.h — invariants that run in test builds.
 *
 * CG_INVARIANT(e) asserts e when the build defines CG_INVARIANTS (make test's
 * ASan+UBSan and ThreadSanitizer passes do), and is nothing otherwise, so a
 * release build keeps the checks out of the hot path. The structure checks
 * (cg_flowtable_check, cg_http_check, ...) walk whole pools: their callers
 * run them every CG_INVARIANT_EVERY operations, through CG_INVARIANT_SOMETIMES
 * with a counter of their own.
 */
#ifndef CG_INVARIANT_H
#define CG_INVARIANT_H

#ifdef CG_INVARIANTS
#undef NDEBUG
#include <assert.h>
#define CG_INVARIANT(e) assert(e)
#define CG_INVARIANT_EVERY 4096u
#define CG_INVARIANT_SOMETIMES(counter, e)                 \
    do {                                                   \
        if ((++(counter) & (CG_INVARIANT_EVERY - 1)) == 0) \
            assert(e);                                     \
    } while (0)
#else
#define CG_INVARIANT(e) ((void)0)
#define CG_INVARIANT_SOMETIMES(counter, e) ((void)0)
#endif

#endif
