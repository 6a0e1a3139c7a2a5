/* extract.h — bounds-checked views of wire bytes, and byte-order-aware loads.
 *
 * Every header the decoder reads is first obtained as a checked region:
 * cg_span_at(s, off, n) returns a pointer to n bytes at off inside the span, or
 * NULL when those bytes are not all there. The loads below (cg_be16, ...) are
 * then made only at offsets inside such a region, so no read can go past the
 * span. Wire bytes are never cast to structs: every field is assembled from
 * bytes, so alignment and host byte order do not matter.
 *
 * A span is a view: it points into the caller's buffer and owns nothing.
 */
#ifndef CG_EXTRACT_H
#define CG_EXTRACT_H

#include <stdint.h>

typedef struct cg_span {
    const uint8_t *p;
    uint32_t len;
} cg_span;

static inline cg_span cg_span_make(const uint8_t *p, uint32_t len)
{
    cg_span s = { p, p ? len : 0 };
    return s;
}

/* The n bytes at off, or NULL when [off, off+n) is not inside the span. */
static inline const uint8_t *cg_span_at(const cg_span *s, uint32_t off, uint32_t n)
{
    if (off > s->len || n > s->len - off)
        return NULL;
    return s->p + off;
}

/* The span from off to its end (empty when off is past the end). */
static inline cg_span cg_span_from(const cg_span *s, uint32_t off)
{
    if (off >= s->len)
        return cg_span_make(s->p ? s->p + s->len : NULL, 0);
    return cg_span_make(s->p + off, s->len - off);
}

/* The first n bytes of the span (all of it when it is shorter). */
static inline cg_span cg_span_clip(cg_span s, uint32_t n)
{
    if (n < s.len)
        s.len = n;
    return s;
}

static inline uint16_t cg_be16(const uint8_t *b)
{
    return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t cg_be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline uint32_t cg_le32(const uint8_t *b)
{
    return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

static inline void cg_put_be16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

#endif
