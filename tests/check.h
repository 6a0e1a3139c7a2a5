/* check.h — the tiny assertion kit every unit test binary uses.
 *
 * CHECK(cond) records a pass or a failure (with file:line and the condition);
 * a test binary ends with `return check_done("name");`, which prints
 * "name: N passed, N failed" and returns the exit status (1 on any failure).
 */
#ifndef CG_CHECK_H
#define CG_CHECK_H

#include <stdio.h>
#include <string.h>

static unsigned check_pass_, check_fail_;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond)                                                                    \
            check_pass_++;                                                           \
        else {                                                                       \
            check_fail_++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_U(a, b)                                                                          \
    do {                                                                                          \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);            \
        if (a_ == b_)                                                                             \
            check_pass_++;                                                                        \
        else {                                                                                    \
            check_fail_++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%llu != %llu)\n", __FILE__, __LINE__, \
                    #a, #b, a_, b_);                                                              \
        }                                                                                         \
    } while (0)

#define CHECK_STR(a, b)                                                                     \
    do {                                                                                    \
        const char *a_ = (a), *b_ = (b);                                                    \
        if (a_ && b_ && strcmp(a_, b_) == 0)                                                \
            check_pass_++;                                                                  \
        else {                                                                              \
            check_fail_++;                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", __FILE__, \
                    __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");              \
        }                                                                                   \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                              \
    do {                                                                                         \
        const char *h_ = (hay), *n_ = (needle);                                                  \
        if (h_ && n_ && strstr(h_, n_))                                                          \
            check_pass_++;                                                                       \
        else {                                                                                   \
            check_fail_++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" contains \"%s\"\n", __FILE__, __LINE__, \
                    h_ ? h_ : "(null)", n_ ? n_ : "(null)");                                     \
        }                                                                                        \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%s: %u passed, %u failed\n", name, check_pass_, check_fail_);
    return check_fail_ ? 1 : 0;
}

#endif
