/* store_attack.c — attacks: the incidents of one source against one
 * destination (the address pair, whatever the rule or the port) that follow
 * each other within the attack window share an attack id, the id of the
 * attack's first incident. cg_store_put (and the migration from schema 2)
 * assign it here, inside the writer's transaction, from the "pairs"
 * database (its layout is in store_rec.c):
 *
 *   pairs   be32 hour | src16 | dst16 -> be64 attack id | be64 last seen
 *
 * where hour is the attack's last seen / 1 h. The hour comes first so that
 * the entries a batch writes are those of the last hours, a few pages at the
 * end of the database, as by_time's are: keyed by the pair alone, each new
 * pair would rewrite a page somewhere in a database of millions of pairs
 * (an ingest 2.6 times slower on bench_store's 10 M incidents). The price
 * is a lookup per hour of the window on each side of an incident's first
 * alert (three for the default hour), each a point lookup.
 *
 * Invariants:
 *  1. A stored incident's attack id is in 1 .. its own id (the decoder
 *     refuses anything else): an attack is named after an incident that was
 *     put before the ones that join it. cg_store_attacks relies on it to give
 *     out an attack as soon as a walk newest first passes below its id.
 *  2. An attack's entry holds the latest last_us put for its incidents, and
 *     sits in that hour; an entry of an hour holds the pair's newest attack
 *     of that hour. A put of an older attack's incident never replaces a
 *     newer attack's entry.
 * Joining: a new incident (attack id 0) from S to D joins, in this order,
 *  1. the attack of the pair S -> D: the one with the highest id (at most
 *     its own) among the pair's entries whose last seen is within the window
 *     of its first alert, before or after it (captures read out of order
 *     still make one attack);
 *  2. else the attack of the pair D -> S, the same way: what the other side
 *     of a conversation raised (a reply to the victim's own request: the
 *     Java class a Log4Shell victim downloads from the attacker's server);
 *  3. else the attack whose destination was S within the window: the
 *     victim's next step (its callback to the attacker after an exploit,
 *     a move from it to a third host);
 * else it starts an attack of its own. For 3, each put also notes its
 * destination as the attack's victim, in the same database under a source
 * that no packet has:
 *
 *   pairs   be32 hour | ff * 16 | victim16 -> be64 attack id | be64 last seen
 *
 * kept as a pair's entry is (invariant 2), except that an older hour's entry
 * is left where it is (a victim may be that of several attacks; its entries
 * age out of every window).
 */
#include "store/store_int.h"

#include <string.h>

#define HOUR_US 3600000000ull
#define PAIR_KEY 36
#define PAIR_VAL 16
#define MAX_HOURS 400 /* hours looked at on each side: windows up to ~16 days */

static uint32_t hour_of(uint64_t us)
{
    uint64_t h = us / HOUR_US;
    return h > UINT32_MAX ? UINT32_MAX : (uint32_t)h;
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The pair's entry of hour h: *have = 1 with its attack and last seen, 0
 * when there is none (or a damaged value: replaced when written). An LMDB
 * code. */
static int pair_get(const cg_store *st, MDB_txn *txn, uint8_t key[PAIR_KEY], uint32_t h, int *have,
                    uint64_t *attack, uint64_t *last)
{
    MDB_val k = { PAIR_KEY, key }, v;
    int rc;

    put32(key, h);
    *have = 0;
    rc = mdb_get(txn, st->dbi[DB_PAIRS], &k, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && (v.mv_size != PAIR_VAL || get64(v.mv_data) == 0)))
        return 0;
    if (rc)
        return rc;
    *have = 1;
    *attack = get64(v.mv_data);
    *last = get64((const uint8_t *)v.mv_data + 8);
    return 0;
}

static int pair_put(const cg_store *st, MDB_txn *txn, uint8_t key[PAIR_KEY], uint32_t h,
                    uint64_t attack, uint64_t last)
{
    uint8_t val[PAIR_VAL];
    MDB_val k = { PAIR_KEY, key }, v = { PAIR_VAL, val };

    put32(key, h);
    put64(val, attack);
    put64(val + 8, last);
    return mdb_put(txn, st->dbi[DB_PAIRS], &k, &v, 0);
}

static int pair_del(const cg_store *st, MDB_txn *txn, uint8_t key[PAIR_KEY], uint32_t h)
{
    MDB_val k = { PAIR_KEY, key };
    int rc;

    put32(key, h);
    rc = mdb_del(txn, st->dbi[DB_PAIRS], &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The attack with the highest id (at most id) among the entries of key
 * whose last seen is within window_us of first_us (before it only, unless
 * ahead): *best (0: none), with the hour and last seen of its entry. An
 * LMDB code. */
static int pair_best(const cg_store *st, MDB_txn *txn, uint8_t key[PAIR_KEY], uint64_t first_us,
                     uint64_t window_us, int ahead, uint64_t id, uint64_t *best, uint32_t *at,
                     uint64_t *at_last)
{
    uint32_t lo = hour_of(sub_sat(first_us, window_us));
    uint32_t hi = hour_of(ahead ? add_sat(first_us, window_us) : first_us);
    uint64_t a, last;
    int rc, have;

    if (hi - lo > 2 * MAX_HOURS) {
        /* a window of weeks: the hours around the first alert only (near
         * either end of time, without wrapping around) */
        uint32_t c = hour_of(first_us);
        lo = c > MAX_HOURS ? c - MAX_HOURS : 0;
        hi = c < UINT32_MAX - MAX_HOURS ? c + MAX_HOURS : UINT32_MAX;
    }
    *best = 0;
    for (uint32_t h = lo;; h++) {
        if ((rc = pair_get(st, txn, key, h, &have, &a, &last)) != 0)
            return rc;
        if (have && a <= id && a > *best && (ahead || last <= first_us) &&
            (first_us > last ? first_us - last : last - first_us) <= window_us)
            *best = a, *at = h, *at_last = last;
        if (h == hi)
            break;
    }
    return 0;
}

/* Notes dst as a victim of attack in the hour of last (see "Joining"). */
static int victim_put(const cg_store *st, MDB_txn *txn, const uint8_t dst[16], uint64_t attack,
                      uint64_t last_us)
{
    uint8_t key[PAIR_KEY];
    uint64_t a, last;
    uint32_t want = hour_of(last_us);
    int rc, have;

    memset(key + 4, 0xff, 16);
    memcpy(key + 20, dst, 16);
    if ((rc = pair_get(st, txn, key, want, &have, &a, &last)) != 0)
        return rc;
    if (have && (a > attack || (a == attack && last >= last_us)))
        return 0;
    return pair_put(st, txn, key, want, attack, last_us);
}

/* The pair entry is written: the destination is noted as a victim too. */
static int pair_and_victim_put(const cg_store *st, MDB_txn *txn, uint8_t key[PAIR_KEY], uint32_t h,
                               const cg_incident *x)
{
    int rc = pair_put(st, txn, key, h, x->attack_id, x->last_us);
    return rc ? rc : victim_put(st, txn, x->dst, x->attack_id, x->last_us);
}

int cgs_attack_put(const cg_store *st, MDB_txn *txn, cg_incident *x, uint64_t window_us)
{
    uint8_t key[PAIR_KEY];
    uint64_t a, last, at_last = 0;
    uint32_t lo, hi, h, at = 0, want = hour_of(x->last_us);
    int rc, have, found = 0;

    memcpy(key + 4, x->src, 16);
    memcpy(key + 20, x->dst, 16);
    if (x->attack_id == 0) {
        uint64_t best = 0, other = 0, olast;
        uint32_t oat;
        uint8_t okey[PAIR_KEY];
        if (window_us == 0)
            goto alone; /* no window: every incident an attack of its own */
        if ((rc = pair_best(st, txn, key, x->first_us, window_us, 1, x->id, &best, &at,
                            &at_last)) != 0)
            return rc;
        found = best != 0;
        if (!found) { /* 2. the other way: D -> S */
            memcpy(okey + 4, x->dst, 16);
            memcpy(okey + 20, x->src, 16);
            if ((rc = pair_best(st, txn, okey, x->first_us, window_us, 0, x->id, &other, &oat,
                                &olast)) != 0)
                return rc;
        }
        if (!found && !other) { /* 3. S was a victim */
            memset(okey + 4, 0xff, 16);
            memcpy(okey + 20, x->src, 16);
            if ((rc = pair_best(st, txn, okey, x->first_us, window_us, 0, x->id, &other, &oat,
                                &olast)) != 0)
                return rc;
        }
    alone:
        x->attack_id = best ? best : other ? other : x->id;
    } else {
        /* the attack's entry: its last seen is at least this incident's
         * first alert less the window (it was within the window when the
         * incident joined, and only grows), and when it is after this
         * incident's last alert there is nothing to bring up to date */
        lo = hour_of(sub_sat(x->first_us, window_us));
        hi = want;
        if (hi < lo || hi - lo > MAX_HOURS)
            lo = hi > MAX_HOURS ? hi - MAX_HOURS : 0;
        for (h = lo;; h++) {
            if ((rc = pair_get(st, txn, key, h, &have, &a, &last)) != 0)
                return rc;
            if (have && a == x->attack_id) {
                found = 1, at = h, at_last = last;
                break;
            }
            if (h == hi)
                break;
        }
        if (!found) {
            /* none up to its hour: one after it (nothing to do), or none */
            rc = pair_get(st, txn, key, want + (want < UINT32_MAX), &have, &a, &last);
            if (rc)
                return rc;
            if (have && a == x->attack_id)
                return 0;
        }
    }
    if (found && at_last >= x->last_us)
        return 0; /* nothing new: no write */
    /* the attack's entry moves to the hour of its new last seen */
    if (found && at != want && (rc = pair_del(st, txn, key, at)) != 0)
        return rc;
    if ((rc = pair_get(st, txn, key, want, &have, &a, &last)) != 0)
        return rc;
    if (have && a > x->attack_id)
        return 0; /* that hour holds a newer attack of the pair (invariant 2) */
    return pair_and_victim_put(st, txn, key, want, x);
}
