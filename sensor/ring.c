/* ring.c — the SPSC message ring of ring.h.
 *
 * Invariants: tail <= head <= tail + cap; every byte in [tail, head) belongs
 * to a committed message or a pad; a message never crosses the end of the
 * buffer; head and tail are multiples of 16, the header's size, so that a pad
 * header always fits before the end. The producer writes only in [head, tail + cap), the consumer reads
 * only in [tail, head), so the two never touch the same bytes. tail_seen <= tail
 * and head_seen <= head (each side's last view of the other's counter).
 * consumer_sleeps and producer_sleeps are futex words, 0 or 1: set by the
 * side that goes to sleep, cleared by whichever side sees it first.
 * space_target <= head at any time the producer sleeps on it, so the consumer,
 * draining what was committed, always gets there.
 */
#include "sensor/ring.h"

#include <errno.h>
#include <sched.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleeps while *addr is val, up to ms (a wake, a change, a signal: sooner). */
static void futex_wait(_Atomic uint32_t *addr, uint32_t val, int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int cg_ring_init(cg_ring *r, uint64_t cap)
{
    memset(r, 0, sizeof *r);
    uint64_t c = 64u << 10;
    while (c < cap)
        c <<= 1;
    r->buf = aligned_alloc(64, c);
    if (!r->buf)
        return -1;
    /* every byte is used in turn: its pages are faulted in here, not on the
     * packet path */
    memset(r->buf, 0, c);
    r->cap = c;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void cg_ring_free(cg_ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

uint32_t cg_ring_max_msg(const cg_ring *r)
{
    return (uint32_t)(r->cap / 4);
}

void cg_ring_msg_set(cg_ring_msg *m, uint32_t len, uint16_t type, uint64_t seq)
{
    __atomic_store_n(&m->len, len, __ATOMIC_RELAXED);
    __atomic_store_n(&m->type, type, __ATOMIC_RELAXED);
    __atomic_store_n(&m->seq, seq, __ATOMIC_RELAXED);
    m->flags = 0;
}

/* Messages take multiples of 16 bytes: every place a message can start
 * leaves room for a header before the end (a pad's too). */
static uint32_t padded(uint32_t len)
{
    return (len + 15u) & ~15u;
}

/* The bytes needed from head for a message of len bytes: its padded length,
 * and the pad to the end of the buffer when it would not fit before it. */
static uint64_t need_of(const cg_ring *r, uint64_t head, uint32_t len)
{
    uint64_t off = head & (r->cap - 1);
    uint64_t need = padded(len);
    if (off + need > r->cap)
        need += r->cap - off; /* the pad to the end, then from 0 */
    return need;
}

/* Room for len bytes at head, a pad included when it would wrap: the bytes
 * needed from head, or 0 when they are not free. */
static uint64_t need_at(const cg_ring *r, uint64_t head, uint64_t tail, uint32_t len)
{
    uint64_t need = need_of(r, head, len);
    return head + need - tail <= r->cap ? need : 0;
}

void *cg_ring_reserve(cg_ring *r, uint32_t len)
{
    if (len < sizeof(cg_ring_msg) || len > cg_ring_max_msg(r))
        return NULL;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (!need_at(r, head, r->tail_seen, len)) {
        /* acquire: the consumer is done with the bytes it released */
        r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (!need_at(r, head, r->tail_seen, len))
            return NULL;
    }
    uint64_t off = head & (r->cap - 1);
    r->pad = 0;
    if (off + padded(len) > r->cap) {
        /* a pad to the end; the message starts at 0 (and the commit, which
         * may be shorter than the reservation, counts the pad) */
        cg_ring_msg_set((cg_ring_msg *)(r->buf + off), (uint32_t)(r->cap - off), CG_RING_PAD, 0);
        r->pad = r->cap - off;
        off = 0;
    }
    return r->buf + off;
}

void cg_ring_commit(cg_ring *r, uint32_t len)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t step = padded(len) + r->pad; /* and the pad reserve wrote, if it did */
    r->pad = 0;
    atomic_store_explicit(&r->head, head + step, memory_order_release);
    /* head before the flag (wait_data: the flag before head) */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->consumer_sleeps, memory_order_relaxed) &&
        atomic_exchange_explicit(&r->consumer_sleeps, 0, memory_order_relaxed)) {
        r->consumer_wakes++;
        futex_wake(&r->consumer_sleeps);
    }
}

int cg_ring_wait_space(cg_ring *r, uint32_t len, int ms)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (need_at(r, head, r->tail_seen, len))
        return 1;
    r->wait_full++;
    /* asleep until the message fits with half the ring free: need is at most
     * a message and its pad, cap / 2, so the target is at most head */
    uint64_t target = head + need_of(r, head, len) - r->cap / 2;
    atomic_store_explicit(&r->space_target, target, memory_order_relaxed);
    atomic_store_explicit(&r->producer_sleeps, 1, memory_order_release);
    /* the flag before tail (release: tail before the flag) */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->tail, memory_order_relaxed) < target)
        futex_wait(&r->producer_sleeps, 1, ms);
    atomic_store_explicit(&r->producer_sleeps, 0, memory_order_relaxed);
    r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
    return need_at(r, head, r->tail_seen, len) != 0;
}

/* Consumer: tail moves to next (release: the producer may write up to it),
 * and a producer asleep is woken when next reaches its target. */
static void advance_tail(cg_ring *r, uint64_t next)
{
    atomic_store_explicit(&r->tail, next, memory_order_release);
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->producer_sleeps, memory_order_acquire) &&
        next >= atomic_load_explicit(&r->space_target, memory_order_relaxed) &&
        atomic_exchange_explicit(&r->producer_sleeps, 0, memory_order_relaxed)) {
        r->producer_wakes++;
        futex_wake(&r->producer_sleeps);
    }
}

const cg_ring_msg *cg_ring_peek(cg_ring *r)
{
    for (;;) {
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (tail == r->head_seen) {
            /* acquire: the producer's bytes up to head are written */
            r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
            if (tail == r->head_seen)
                return NULL;
        }
        const cg_ring_msg *m = (const cg_ring_msg *)(r->buf + (tail & (r->cap - 1)));
        if (m->type != CG_RING_PAD)
            return m;
        advance_tail(r, tail + m->len);
    }
}

void cg_ring_release(cg_ring *r, const cg_ring_msg *m)
{
    /* the message's length is read before tail moves: after, the producer
     * may write there */
    advance_tail(r, atomic_load_explicit(&r->tail, memory_order_relaxed) + padded(m->len));
}

int cg_ring_wait_data(cg_ring *r, int ms)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    /* a consumer that keeps up would sleep after every message and cost its
     * producer a wake-up each: it yields a while first */
    for (int spin = 0; spin < 256; spin++) {
        if (atomic_load_explicit(&r->head, memory_order_acquire) != tail)
            return 1;
        if ((spin & 15) == 15)
            sched_yield();
    }
    atomic_store_explicit(&r->consumer_sleeps, 1, memory_order_relaxed);
    /* the flag before head (commit: head before the flag) */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->head, memory_order_relaxed) == tail)
        futex_wait(&r->consumer_sleeps, 1, ms);
    atomic_store_explicit(&r->consumer_sleeps, 0, memory_order_relaxed);
    return atomic_load_explicit(&r->head, memory_order_acquire) != tail;
}

/* A header read by cg_ring_peek_seq, on another thread than the consumer's:
 * a seqlock's read. The bytes may be written again by the producer meanwhile
 * (a message of a later lap, header or frame, plain stores), once the consumer
 * has released them; then tail has moved and the caller throws the values
 * away. The loads are atomic and acquire, so the caller's second load of tail
 * comes after them. ThreadSanitizer would report the producer's overwrite
 * unless some chain of acquires happens to order it after this read (before
 * each side kept its view of the other's counter, one usually did): the read
 * is left out of its instrumentation, as a seqlock's reads are. */
__attribute__((noinline, no_sanitize("thread"))) static void header_at(const cg_ring_msg *m,
                                                                       uint16_t *type,
                                                                       uint32_t *len, uint64_t *seq)
{
    *type = __atomic_load_n(&m->type, __ATOMIC_ACQUIRE);
    *len = __atomic_load_n(&m->len, __ATOMIC_ACQUIRE);
    *seq = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);
}

uint64_t cg_ring_peek_seq(cg_ring *r)
{
    for (;;) {
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
        uint64_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
        if (tail == head)
            return UINT64_MAX;
        const cg_ring_msg *m = (const cg_ring_msg *)(r->buf + (tail & (r->cap - 1)));
        /* the header is the producer's committed bytes, which nobody writes
         * again until tail passes them: valid when tail has not moved */
        uint16_t type;
        uint32_t len;
        uint64_t seq;
        header_at(m, &type, &len, &seq);
        if (atomic_load_explicit(&r->tail, memory_order_seq_cst) != tail)
            continue;
        if (type == CG_RING_PAD) {
            /* the consumer skips it on its next peek; look past it */
            uint64_t next = tail + len;
            if (next == head)
                return UINT64_MAX;
            const cg_ring_msg *m2 = (const cg_ring_msg *)(r->buf + (next & (r->cap - 1)));
            header_at(m2, &type, &len, &seq);
            if (atomic_load_explicit(&r->tail, memory_order_seq_cst) != tail)
                continue;
        }
        return seq;
    }
}

uint64_t cg_ring_used(cg_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_relaxed) -
        atomic_load_explicit(&r->tail, memory_order_relaxed);
}
