/* test_error.c — the one error model (sensor/error.h): every code has its own
 * text, the values are the ones the header promises (they are compared by
 * callers and never change), errno values read as strerror's, and codes that
 * are not codes say so. */
#include "sensor/error.h"

#include <errno.h>
#include <string.h>

#include "tests/check.h"

int main(void)
{
    static const int codes[] = {
        CG_OK,
        CG_EFAIL,
        CG_ENOMEM,
        CG_EIO,
        CG_EINVAL,
        CG_ENOTFOUND,
        CG_EBUSY,
        CG_EFULL,
        CG_ECORRUPT,
        CG_ENEWER,
        CG_EOLDER,
        CG_EEMPTY,
        CG_ETRUNCATED,
        CG_EMALFORMED,
        CG_EUNSUPPORTED,
        CG_EEXIST,
        CG_EPERM,
        CG_EDNS_LABEL,
        CG_EDNS_NAME_LEN,
        CG_EDNS_LOOP,
        CG_EDNS_PTR_FORWARD,
        CG_EDNS_PTR_RANGE,
        CG_EDNS_HOPS,
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *t = cg_strerror(codes[i]);
        CHECK(t && *t && strcmp(t, "unknown error") != 0);
        CHECK(codes[i] <= 0);
        for (size_t j = 0; j < i; j++) {
            CHECK(codes[i] != codes[j]);
            CHECK(strcmp(t, cg_strerror(codes[j])) != 0);
        }
    }
    /* the values callers rely on: -1 is "the message says it", -2 is out of
     * memory (the rule parser's convention before the model had names) */
    CHECK(CG_EFAIL == -1);
    CHECK(CG_ENOMEM == -2);
    CHECK_STR(cg_strerror(CG_OK), "ok");
    CHECK_STR(cg_strerror(CG_ENOMEM), "out of memory");
    CHECK_STR(cg_strerror(CG_EDNS_LOOP), "compression loop");
    CHECK_STR(cg_strerror(ENOSPC), strerror(ENOSPC));
    CHECK_STR(cg_strerror(-99), "unknown error");
    CHECK_STR(cg_strerror(-17), "unknown error"); /* the gap before the DNS codes */
    CHECK_STR(cg_strerror(CG_EEXIST), "already exists");
    return check_done("error");
}
