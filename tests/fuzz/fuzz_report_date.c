/* fuzz_report_date.c — libFuzzer harness: the period's dates of `canhgac
 * report` (cg_report_parse_time, tools/report_i18n.c): YYYY-MM-DD in the
 * local time zone, or an RFC 3339 time with Z or an offset.
 *
 * Input: the bytes up to the first NUL, as a start and as an end. On
 * failure the output is untouched and the message says why; on success a
 * date gives a local midnight (the next one for an end, a day later), and a
 * time in Z reads back, by gmtime, as the digits it was written with.
 * TZ is Asia/Ho_Chi_Minh (UTC+7) for every input.
 */
#include "tests/fuzz/fuzz_common.h"

#include <time.h>

#include "tools/report.h"

static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    char s[80], err[256];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    uint64_t a = 7, b = 7;

    if (!init) {
        setenv("TZ", "Asia/Ho_Chi_Minh", 1);
        tzset();
        init = 1;
    }
    memcpy(s, data, n);
    s[n] = 0;
    int ra = cg_report_parse_time(s, 0, &a, err, sizeof err);
    if (ra) {
        if (a != 7 || !strstr(err, "is not a date"))
            abort();
    }
    int rb = cg_report_parse_time(s, 1, &b, err, sizeof err);
    if (rb != ra || (rb && b != 7))
        abort();
    if (ra)
        return 0;
    if (a % 1000000u || b % 1000000u)
        abort(); /* whole seconds */
    size_t len = strlen(s);
    if (len == 10) {
        time_t t = (time_t)(a / 1000000u);
        struct tm tm;
        localtime_r(&t, &tm);
        if (tm.tm_hour || tm.tm_min || tm.tm_sec || tm.tm_mday != two(s + 8) ||
            tm.tm_mon + 1 != two(s + 5) || b - a != 86400ull * 1000000u)
            abort();
    } else if (a != b) {
        abort(); /* a time is itself at either end */
    } else if (s[19] == 'Z' || s[19] == 'z') {
        time_t t = (time_t)(a / 1000000u);
        struct tm tm;
        gmtime_r(&t, &tm);
        if (tm.tm_hour != two(s + 11) || tm.tm_min != two(s + 14) || tm.tm_sec != two(s + 17))
            abort();
    }
    return 0;
}
