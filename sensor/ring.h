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
 *    releases (a system call only when somebody sleeps, one per sleep).
 *    A producer that found the ring full sleeps until half of it is free
 *    (it publishes the tail it waits for; the consumer wakes it when its
 *    release passes that), so a producer faster than its consumer refills
 *    half a ring per wake-up instead of a message.
 *  - The handshake: each side stores its counter (release), then a seq_cst
 *    fence, then reads the other side's sleep flag; a side going to sleep
 *    sets its flag, fences, and reads the counter again before it sleeps
 *    (Dekker), so a wake-up is never lost. Each side keeps the other's
 *    counter as last seen and loads it again only when that says full
 *    (producer) or empty (consumer), so the two threads do not pass a cache
 *    line back and forth per message.
 */
#ifndef CG_RING_H
#define CG_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct __attribute__((aligned(16))) cg_ring_msg {
    uint32_t len;   /* bytes of the whole message, header included */
    uint16_t type;  /* the user's; CG_RING_PAD is the ring's own */
    uint16_t flags; /* the user's */
    uint64_t seq;   /* the user's (the pipeline: the packet's place) */
} cg_ring_msg;

#define CG_RING_PAD 0xffff

typedef struct cg_ring {
    /* written by the producer per message, read by the consumer */
    _Alignas(64) _Atomic uint64_t head; /* bytes committed (producer) */
    _Atomic uint32_t consumer_sleeps;   /* futex word: 1 while the consumer sleeps */
    /* written by the consumer per message, read by the producer */
    _Alignas(64) _Atomic uint64_t tail; /* bytes released (consumer) */
    _Atomic uint32_t producer_sleeps;   /* futex word: 1 while the producer sleeps */
    _Atomic uint64_t space_target;      /* the tail a sleeping producer waits for */
    /* the producer's own */
    _Alignas(64) uint64_t tail_seen; /* tail as the producer last loaded it */
    uint64_t wait_full;              /* producer: times it found the ring full */
    uint64_t pad;                    /* producer: the pad its last reserve wrote */
    uint64_t consumer_wakes;         /* producer: futex wakes it sent */
    /* the consumer's own */
    _Alignas(64) uint64_t head_seen; /* head as the consumer last loaded it */
    uint64_t producer_wakes;         /* consumer: futex wakes it sent */
    /* set once by cg_ring_init */
    _Alignas(64) uint8_t *buf;
    uint64_t cap; /* a power of two */
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
/* Producer: waits up to ms for room for len bytes. 1 when there is room.
 * When the ring is too full it sleeps until half of it is free (or ms
 * pass). */
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
