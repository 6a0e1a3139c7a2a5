/* utf8.h — one UTF-8 check shared by the parsers of operators' text (the
 * asset file) and of what GeoIP databases say (city and AS names).
 *
 * cg_utf8_seq: the length of the valid UTF-8 sequence at s[0..len), or 0 when
 * it is not one (RFC 3629: overlong forms, surrogates and values past
 * U+10FFFF are invalid). len must be at least 1.
 */
#ifndef CG_UTF8_H
#define CG_UTF8_H

#include <stddef.h>
#include <stdint.h>

static inline size_t cg_utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

#endif
