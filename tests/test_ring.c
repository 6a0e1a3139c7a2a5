/* test_ring.c — the SPSC message ring (sensor/ring.h): a producer thread and
 * a consumer thread pass a million messages of every length through a small
 * ring, reserving more than they commit (as alerts do), wrapping over and
 * over; every message arrives once, in order, whole. Then the edge cases in
 * one thread: a full ring, a pad of exactly one header, peek_seq. Then the
 * waits: a producer that found the ring full sleeps until half of it is
 * free, and is woken then (not at its timeout); a consumer is woken by a
 * commit.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Waits up to 2 s for *flag to be set; 1 if it was. */
static int wait_flag(_Atomic uint32_t *flag)
{
    for (int i = 0; i < 2000; i++) {
        if (atomic_load(flag))
            return 1;
        sleep_ms(1);
    }
    return 0;
}

static cg_ring wr;
static _Atomic int waited; /* the thread's wait: 0 running, 1 returned 1, 2 returned 0 */
static double waited_s;

static void *space_waiter(void *arg)
{
    (void)arg;
    double t0 = now_s();
    int got = cg_ring_wait_space(&wr, 1024, 5000);
    waited_s = now_s() - t0;
    atomic_store(&waited, got ? 1 : 2);
    return NULL;
}

static void *data_waiter(void *arg)
{
    (void)arg;
    double t0 = now_s();
    int got = cg_ring_wait_data(&wr, 5000);
    waited_s = now_s() - t0;
    atomic_store(&waited, got ? 1 : 2);
    return NULL;
}

static void check_waits(void)
{
    CHECK(cg_ring_init(&wr, 64u << 10) == 0);
    for (int i = 0; i < 64; i++) { /* 64 of 1 KiB: full */
        void *m = cg_ring_reserve(&wr, 1024);
        CHECK(m != NULL);
        if (!m)
            return;
        cg_ring_msg_set(m, 1024, 3, (uint64_t)i);
        cg_ring_commit(&wr, 1024);
    }
    CHECK(cg_ring_reserve(&wr, 1024) == NULL);

    /* the producer sleeps; 31 releases leave 33 KiB used, over half */
    pthread_t t;
    atomic_store(&waited, 0);
    pthread_create(&t, NULL, space_waiter, NULL);
    CHECK(wait_flag(&wr.producer_sleeps));
    for (int i = 0; i < 31; i++) {
        const cg_ring_msg *g = cg_ring_peek(&wr);
        CHECK(g && g->seq == (uint64_t)i);
        cg_ring_release(&wr, g);
    }
    sleep_ms(100);
    CHECK_EQ_U(atomic_load(&waited), 0); /* still asleep */
    CHECK_EQ_U(wr.producer_wakes, 0);
    /* two more: 31 KiB used, 1 KiB more fits with half the ring free */
    for (int i = 31; i < 33; i++) {
        const cg_ring_msg *g = cg_ring_peek(&wr);
        CHECK(g && g->seq == (uint64_t)i);
        cg_ring_release(&wr, g);
    }
    pthread_join(t, NULL);
    CHECK_EQ_U(atomic_load(&waited), 1);
    CHECK(waited_s < 2.0); /* woken, not timed out */
    CHECK_EQ_U(wr.producer_wakes, 1);
    CHECK_EQ_U(wr.wait_full, 1);
    CHECK_EQ_U(atomic_load(&wr.producer_sleeps), 0);

    /* empty it; the consumer sleeps until a commit */
    const cg_ring_msg *g;
    while ((g = cg_ring_peek(&wr)))
        cg_ring_release(&wr, g);
    CHECK_EQ_U(cg_ring_used(&wr), 0);
    atomic_store(&waited, 0);
    pthread_create(&t, NULL, data_waiter, NULL);
    CHECK(wait_flag(&wr.consumer_sleeps));
    sleep_ms(50);
    CHECK_EQ_U(atomic_load(&waited), 0);
    void *m = cg_ring_reserve(&wr, 64);
    CHECK(m != NULL);
    cg_ring_msg_set(m, 64, 3, 99);
    cg_ring_commit(&wr, 64);
    pthread_join(t, NULL);
    CHECK_EQ_U(atomic_load(&waited), 1);
    CHECK(waited_s < 2.0);
    CHECK_EQ_U(wr.consumer_wakes, 1);
    g = cg_ring_peek(&wr);
    CHECK(g && g->seq == 99);
    cg_ring_free(&wr);
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
    /* a sleeping producer is woken once per sleep, at most */
    CHECK(ring.producer_wakes <= ring.wait_full);
    printf("ring: %d messages: the producer found it full %llu times and was woken %llu "
           "times, the consumer woken %llu times\n",
           N, (unsigned long long)ring.wait_full, (unsigned long long)ring.producer_wakes,
           (unsigned long long)ring.consumer_wakes);
    cg_ring_free(&ring);

    /* one thread: fill it, see it refuse, wrap with a pad of one header */
    cg_ring r;
    CHECK(cg_ring_init(&r, 1) == 0); /* rounded up to 64 KiB */
    CHECK_EQ_U(r.cap, 65536);
    CHECK(cg_ring_reserve(&r, 8) == NULL);                       /* under a header */
    CHECK(cg_ring_reserve(&r, cg_ring_max_msg(&r) + 1) == NULL); /* over a quarter */
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
    CHECK(cg_ring_reserve(&r, 32) == NULL); /* 16 bytes left */
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

    check_waits();
    return check_done("ring");
}
