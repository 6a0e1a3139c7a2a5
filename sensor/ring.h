/* ring.h — a single-producer, single-consumer queue of variable-length
 * messages in one fixed byte buffer, for handing packets from the reader to a
 * worker and alerts from a worker to the store writer.
 *
 * Contract:
 *  - One thread produces (cg_ring_reserve, cg_ring_commit), one consumes
 *    (cg_ring_peek, cg_ring_release); nothing else touches the ring but
 *    cg_ring_peek_seq (any thread, see there) and the counters.
 *  - Messages are 16-byte aligned (and take multiples of 16 bytes), start with cg_ring_msg, and are contiguous
 *    in memory (a message that would wrap leaves a pad and starts at 0). A
 *    message is at most cap / 4 bytes.
 *  - No allocation after cg_ring_init and no lock: head and tail are atomic
 *    byte counters that only grow. A message the consumer peeked stays in
 *    place until it releases it.
 *  - Waiting: cg_ring_wait_data and cg_ring_wait_space sleep on a futex for at
 *    most the given time; the other side wakes them when it commits or
 *    releases (a system call only when somebody sleeps).
 */
#ifndef CG_RING_H
#define CG_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct __attribute__((aligned(16))) cg_ring_msg {
    uint32_t len;                  /* bytes of the whole message, header included */
    uint16_t type;                 /* the user's; CG_RING_PAD is the ring's own */
    uint16_t flags;                /* the user's */
    uint64_t seq;                  /* the user's (the pipeline: the packet's place) */
} cg_ring_msg;

#define CG_RING_PAD 0xffff

typedef struct cg_ring {
    _Alignas(64) _Atomic uint64_t head;   /* bytes committed (producer) */
    _Atomic uint32_t head_futex;          /* low bits of head, for the consumer's wait */
    _Atomic uint32_t consumer_sleeps;
    _Alignas(64) _Atomic uint64_t tail;   /* bytes released (consumer) */
    _Atomic uint32_t tail_futex;
    _Atomic uint32_t producer_sleeps;
    _Alignas(64) uint8_t *buf;
    uint64_t cap;                         /* a power of two */
    uint64_t wait_full;                   /* producer: times it found the ring full */
    uint64_t pad;                         /* producer: the pad its last reserve wrote */
} cg_ring;

/* cap: bytes, rounded up to a power of two, at least 64 KiB. 0 or -1 (memory). */
int cg_ring_init(cg_ring *r, uint64_t cap);
void cg_ring_free(cg_ring *r);
uint32_t cg_ring_max_msg(const cg_ring *r);

/* Producer: room for a message of len bytes (header included), or NULL when
 * the ring is too full now. Fill it, then commit its length (len or less). */
void *cg_ring_reserve(cg_ring *r, uint32_t len);
void cg_ring_commit(cg_ring *r, uint32_t len);
/* Producer: sets a reserved message's header (written so that
 * cg_ring_peek_seq may read it from another thread). */
void cg_ring_msg_set(cg_ring_msg *m, uint32_t len, uint16_t type, uint64_t seq);
/* Producer: waits up to ms for room for len bytes. 1 when there is room. */
int cg_ring_wait_space(cg_ring *r, uint32_t len, int ms);

/* Consumer: the oldest message, or NULL when none. */
const cg_ring_msg *cg_ring_peek(cg_ring *r);
void cg_ring_release(cg_ring *r, const cg_ring_msg *m);
/* Consumer: waits up to ms for a message. 1 when one is there. */
int cg_ring_wait_data(cg_ring *r, int ms);

/* Any thread: the seq of the oldest message not yet released, or UINT64_MAX
 * when the ring is empty; read without disturbing the consumer (the
 * message's header is read between two loads of tail, and read again when
 * tail moved). */
uint64_t cg_ring_peek_seq(cg_ring *r);
/* Bytes committed and not yet released (any thread; a moment's view). */
uint64_t cg_ring_used(cg_ring *r);

#endif
