/* test_ring.c — the SPSC message ring (sensor/ring.h): a producer thread and
 * a consumer thread pass a million messages of every length through a small
 * ring, reserving more than they commit (as alerts do), wrapping over and
 * over; every message arrives once, in order, whole. Then the edge cases in
 * one thread: a full ring, a pad of exactly one header, peek_seq.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/ring.h"
#include "tests/check.h"

#define N 1000000

static cg_ring ring;
static unsigned bad;

static uint32_t len_of(uint64_t i)
{
    return (uint32_t)(sizeof(cg_ring_msg) + (i * 7919) % 3000);
}

static void *producer(void *arg)
{
    (void)arg;
    for (uint64_t i = 1; i <= N; i++) {
        uint32_t len = len_of(i), reserve = len + (uint32_t)(i % 5) * 100;
        uint8_t *m;
        while (!(m = cg_ring_reserve(&ring, reserve)))
            cg_ring_wait_space(&ring, reserve, 10);
        cg_ring_msg_set((cg_ring_msg *)m, len, 1, i);
        memset(m + sizeof(cg_ring_msg), (int)(i & 0xff), len - sizeof(cg_ring_msg));
        cg_ring_commit(&ring, len);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (uint64_t i = 1; i <= N; i++) {
        const cg_ring_msg *m;
        while (!(m = cg_ring_peek(&ring)))
            cg_ring_wait_data(&ring, 10);
        uint64_t s = cg_ring_peek_seq(&ring);
        if (m->seq != i || m->len != len_of(i) || m->type != 1 || s != i) {
            if (bad++ < 5)
                fprintf(stderr, "message %llu: seq %llu len %u type %u peek_seq %llu\n",
                        (unsigned long long)i, (unsigned long long)m->seq, m->len, m->type,
                        (unsigned long long)s);
        } else {
            const uint8_t *b = (const uint8_t *)(m + 1);
            for (uint32_t k = 0; k < m->len - sizeof *m; k++)
                if (b[k] != (uint8_t)(i & 0xff)) {
                    bad++;
                    break;
                }
        }
        cg_ring_release(&ring, m);
    }
    return NULL;
}

int main(void)
{
    CHECK(cg_ring_init(&ring, 64u << 10) == 0);
    pthread_t p, c;
    pthread_create(&c, NULL, consumer, NULL);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    CHECK_EQ_U(bad, 0);
    CHECK(cg_ring_peek(&ring) == NULL);
    CHECK_EQ_U(cg_ring_peek_seq(&ring), UINT64_MAX);
    CHECK_EQ_U(cg_ring_used(&ring), 0);
    cg_ring_free(&ring);

    /* one thread: fill it, see it refuse, wrap with a pad of one header */
    cg_ring r;
    CHECK(cg_ring_init(&r, 1) == 0);   /* rounded up to 64 KiB */
    CHECK_EQ_U(r.cap, 65536);
    CHECK(cg_ring_reserve(&r, 8) == NULL);                       /* under a header */
    CHECK(cg_ring_reserve(&r, cg_ring_max_msg(&r) + 1) == NULL);  /* over a quarter */
    uint32_t big = 16384;
    for (int i = 0; i < 3; i++) {
        void *m = cg_ring_reserve(&r, big);
        CHECK(m != NULL);
        cg_ring_msg_set(m, big, 2, (uint64_t)i);
        cg_ring_commit(&r, big);
    }
    /* 49152 used: one of 16368 fits, leaving a single header's room */
    void *m = cg_ring_reserve(&r, 16368);
    CHECK(m != NULL);
    cg_ring_msg_set(m, 16368, 2, 3);
    cg_ring_commit(&r, 16368);
    CHECK(cg_ring_reserve(&r, 32) == NULL);   /* 16 bytes left */
    CHECK_EQ_U(cg_ring_peek_seq(&r), 0);
    for (int i = 0; i < 4; i++) {
        const cg_ring_msg *g = cg_ring_peek(&r);
        CHECK(g && g->seq == (uint64_t)i);
        cg_ring_release(&r, g);
    }
    /* the next message does not fit in the 16 bytes at the end: a pad of one
     * header, then the message at 0, committed shorter than reserved */
    m = cg_ring_reserve(&r, 1000);
    CHECK(m == r.buf);
    cg_ring_msg_set(m, 100, 2, 7);
    cg_ring_commit(&r, 100);
    CHECK_EQ_U(cg_ring_peek_seq(&r), 7);
    const cg_ring_msg *g = cg_ring_peek(&r);
    CHECK(g && g->seq == 7 && g->len == 100);
    cg_ring_release(&r, g);
    CHECK(cg_ring_peek(&r) == NULL);
    CHECK_EQ_U(cg_ring_used(&r), 0);
    cg_ring_free(&r);
    return check_done("ring");
}
