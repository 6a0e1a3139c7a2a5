/* test_attack.c — how incidents join attacks (store_attack.c, "Joining"):
 * the same pair; the other way of a conversation; the victim's next step;
 * and what must stay apart: another attacker of the same victim, the same
 * pair past the window, a bystander the victim never reached.
 */
#include "store/store.h"
#include "tests/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_US 60000000ull
#define T0 1700000000000000ull

static void ip4(uint8_t a[16], unsigned x, unsigned y, unsigned z, unsigned w)
{
    memset(a, 0, 10);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)x, a[13] = (uint8_t)y, a[14] = (uint8_t)z, a[15] = (uint8_t)w;
}

/* Puts a new incident from src to dst seen at minute m; returns its id. */
static uint64_t put(cg_store *st, const uint8_t src[16], const uint8_t dst[16], unsigned m,
                    uint32_t sid)
{
    cg_incident x;
    memset(&x, 0, sizeof x);
    x.id = cg_store_new_id(st);
    x.gid = 1;
    x.sid = sid;
    x.rev = 1;
    memcpy(x.src, src, 16);
    memcpy(x.dst, dst, 16);
    x.proto = 6;
    x.severity = x.rule_severity = 2;
    x.first_us = x.last_us = T0 + m * MIN_US;
    x.count = 1;
    x.msg = "test";
    CHECK(cg_store_begin(st) == 0);
    CHECK(cg_store_put(st, &x) == 0);
    CHECK(cg_store_commit(st) == 0);
    return x.id;
}

static int got_attack(const cg_incident *inc, void *arg)
{
    *(uint64_t *)arg = inc->attack_id;
    return 0;
}

static uint64_t attack_of(cg_store *st, uint64_t id)
{
    uint64_t a = 0;
    CHECK(cg_store_get(st, id, got_attack, &a) == 0);
    return a;
}

static int count_attack(const cg_store_attack *a, void *arg)
{
    uint64_t *n = arg;
    n[0]++;
    n[1] += a->incidents;
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/canhgac-attack.XXXXXX", cmd[128];
    cg_store *st = NULL;
    uint8_t attacker[16], victim[16], c2[16], other[16], bystander[16], third[16];
    CHECK(mkdtemp(dir) != NULL);
    ip4(attacker, 203, 0, 113, 7);
    ip4(victim, 10, 20, 1, 10);
    ip4(c2, 198, 51, 100, 9);
    ip4(other, 203, 0, 113, 99);
    ip4(bystander, 10, 20, 1, 77);
    ip4(third, 10, 20, 10, 5);
    CHECK(cg_store_open(&st, dir, 0, 64ull << 20) == 0);
    if (!st)
        return check_done("attack");

    /* an exploit in two rules, the victim's callback, the download it gets
     * back, and its move to a third host: one attack */
    uint64_t a1 = put(st, attacker, victim, 0, 1);
    uint64_t a2 = put(st, attacker, victim, 1, 2);
    uint64_t cb = put(st, victim, c2, 2, 3);
    uint64_t dl = put(st, c2, victim, 3, 4);
    uint64_t mv = put(st, victim, third, 20, 5);
    CHECK_EQ_U(attack_of(st, a1), a1);
    CHECK_EQ_U(attack_of(st, a2), a1);
    CHECK_EQ_U(attack_of(st, cb), a1);
    CHECK_EQ_U(attack_of(st, dl), a1);
    CHECK_EQ_U(attack_of(st, mv), a1);
    /* the third host, reached from the victim, is a victim in turn */
    uint64_t mv2 = put(st, third, bystander, 30, 6);
    CHECK_EQ_U(attack_of(st, mv2), a1);

    /* another attacker of the same victim: an attack of its own */
    uint64_t o1 = put(st, other, victim, 5, 7);
    CHECK_EQ_U(attack_of(st, o1), o1);
    /* the other attacker against the C2 host the victim called: apart (the C2
     * is a victim of attack a1, but what others do to it is not a1's story) */
    uint64_t b1 = put(st, other, c2, 6, 8);
    CHECK(attack_of(st, b1) != a1);

    /* the same pair two hours later (window 1 h): a new attack */
    uint64_t late = put(st, attacker, victim, 200, 1);
    CHECK_EQ_U(attack_of(st, late), late);

    /* cg_store_attacks: the first attack holds its 6 incidents */
    cg_query q;
    memset(&q, 0, sizeof q);
    q.has = CG_Q_ATTACK;
    q.attack = a1;
    uint64_t n[2] = { 0, 0 };
    CHECK(cg_store_attacks(st, &q, 0, count_attack, n) == 0);
    CHECK_EQ_U(n[0], 1);
    CHECK_EQ_U(n[1], 6);

    cg_store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_done("attack");
}
