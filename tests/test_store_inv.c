/* test_store_inv.c — the store writer's invariants (store_int.h's W1 to W9,
 * cgs_check_writer in store/store_inv.c).
 *
 * The check holds after each step of a random run of the writer (begins,
 * puts of new ids and of old ones across more partitions than a batch keeps
 * spans of, alerts, evidence, commits, aborts, refused puts, and batches
 * that fail when the map is full), and finds each invariant broken when the
 * test breaks it in the handle or in the batch's transaction (it reaches the
 * handle's fields through store_int.h, as nothing else outside store/ may).
 * The sanitizer build runs the same check inside the library at each begin,
 * commit and abort (CG_INVARIANTS); this test calls it in any build.
 */
#include "store/store_int.h"
#include "tests/check.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static const char *path(const char *name)
{
    static char buf[4][256];
    static unsigned i;
    char *p = buf[i++ % 4];
    snprintf(p, 256, "%s/%s", root, name);
    return p;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static uint8_t payload[CG_STORE_PAYLOAD_MAX];

static void incident(cg_incident *x, uint64_t id, uint64_t first_us, size_t plen)
{
    memset(x, 0, sizeof *x);
    x->id = id;
    x->gid = 1;
    x->sid = 9100000 + (uint32_t)(id % 7);
    x->rev = 1;
    x->src[10] = x->src[11] = 0xff;
    x->src[12] = 10, x->src[15] = (uint8_t)(id % 5);
    x->dst[10] = x->dst[11] = 0xff;
    x->dst[12] = 192, x->dst[15] = (uint8_t)(id % 3);
    x->sport = 40000, x->dport = (uint16_t)(80 + id % 4);
    x->proto = 6;
    x->severity = x->rule_severity = (uint8_t)(1 + id % 4);
    x->first_us = first_us;
    x->last_us = first_us + 5;
    x->count = 1;
    x->community_id = (id & 1) ? "1:abc=" : "1:def=";
    x->msg = "TEST writer invariants";
    x->classtype = "";
    x->payload = payload;
    x->payload_len = (uint32_t)plen;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

/* The check after every step of a random run of the writer. */
static void holds_throughout(void)
{
    cg_store *st = NULL;
    CHECK(cg_store_open(&st, path("run"), 0, 0) == 0);
    if (!st)
        return;
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    unsigned bad = 0, steps = 0, commits = 0, aborts = 0, refused = 0, flushes = 0;
    int open = 0;
    uint64_t ids[4096];
    unsigned nids = 0;
    for (unsigned i = 0; i < 6000; i++) {
        unsigned op = (unsigned)(rnd() % 100);
        cg_incident x;
        if (!open) {
            CHECK(cg_store_begin(st) == 0);
            open = 1;
        } else if (op < 30) {
            uint64_t id = cg_store_new_id(st);
            incident(&x, id, 1000000 + id * 10, rnd() % 64);
            CHECK(cg_store_put(st, &x) == 0);
            if (nids < 4096)
                ids[nids++] = id;
        } else if (op < 50 && nids) {
            if (st->ntouched == TOUCHED_MAX)
                flushes++; /* this put's partition may be a new one: spans written */
            /* an old one again, grown: its partition's span widens */
            uint64_t id = ids[rnd() % nids];
            incident(&x, id, 1000000 + id * 10 - rnd() % 1000, 0);
            x.count = 2;
            CHECK(cg_store_put(st, &x) == 0);
        } else if (op < 60) {
            /* an id far ahead, in a partition of its own: more partitions in
             * a batch than it keeps spans of (TOUCHED_MAX) */
            uint64_t id = st->next_id + PART_IDS * (1 + rnd() % 3);
            incident(&x, id, 5000000 + id, 0);
            CHECK(cg_store_put(st, &x) == 0);
            if (nids < 4096)
                ids[nids++] = id;
        } else if (op < 77 && nids) {
            cg_alert a = { .ts_us = 7,
                           .community_id = (op & 1) ? "1:xyz=" : "1:abc=",
                           .sport = 1,
                           .dport = 2,
                           .severity = 2,
                           .evidence_seq = -1 };
            CHECK(cg_store_put_alert(st, ids[rnd() % nids], (uint32_t)(rnd() % 4), &a) == 0);
        } else if (op < 91 && nids) {
            cg_evidence ev = { .ts_us = 9, .dlt = 1, .caplen = 60, .wirelen = 60, .data = payload };
            CHECK(cg_store_put_evidence(st, ids[rnd() % nids], (uint32_t)(rnd() % 5), &ev) == 0);
        } else if (op < 97) {
            incident(&x, 0, 1, 0); /* refused: id 0; the batch stays open */
            CHECK(cg_store_put(st, &x) == CG_EINVAL);
            refused++;
        } else if (op < 99) {
            CHECK(cg_store_commit(st) == 0);
            open = 0;
            commits++;
        } else {
            cg_store_abort(st);
            open = 0;
            aborts++;
        }
        steps++;
        if (cgs_check_writer(st, 1) != 0)
            bad++;
    }
    if (open)
        CHECK(cg_store_commit(st) == 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    CHECK_EQ_U(bad, 0);
    CHECK(commits > 50 && aborts > 10 && refused > 10 && flushes > 10);
    printf("store_inv: the check held after %u steps (%u commits, %u aborts, %u refused puts, "
           "%u puts into a batch with all its spans taken)\n",
           steps, commits, aborts, refused, flushes);
    cg_store_close(st);

    /* a map too small for the batch: the batch fails (W_FAILED), then commit
     * returns its error (W_IDLE), and a next batch works */
    CHECK(cg_store_open(&st, path("small"), 0, (uint64_t)1 << 20) == 0);
    if (!st)
        return;
    int rc = 0;
    CHECK(cg_store_begin(st) == 0);
    for (unsigned i = 0; i < 20000 && rc == 0; i++) {
        cg_incident x;
        uint64_t id = cg_store_new_id(st);
        incident(&x, id, 1000 + id, sizeof payload);
        rc = cg_store_put(st, &x);
        if (cgs_check_writer(st, 1) != 0)
            bad++;
    }
    CHECK(rc == CG_EFULL);
    CHECK_EQ_U(st->wstate, W_FAILED);
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    CHECK(cg_store_commit(st) == CG_EFULL);
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    CHECK(cg_store_begin(st) == 0);
    cg_incident x;
    incident(&x, cg_store_new_id(st), 5, 0);
    CHECK(cg_store_put(st, &x) == 0);
    CHECK(cg_store_commit(st) == 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    CHECK_EQ_U(bad, 0);
    cg_store_close(st);
}

/* Each invariant broken, one at a time, and put back. */
static void finds_each(void)
{
    cg_store *st = NULL, *ro = NULL;
    CHECK(cg_store_open(&st, path("broken"), 0, 0) == 0);
    if (!st)
        return;
    cg_incident x[3];
    CHECK(cg_store_begin(st) == 0);
    for (int i = 0; i < 3; i++) {
        incident(&x[i], cg_store_new_id(st), 1000 + (uint64_t)i, 8);
        CHECK(cg_store_put(st, &x[i]) == 0);
    }
    CHECK(cg_store_commit(st) == 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);

    /* W1: a state that is none */
    int w = st->wstate;
    st->wstate = 7;
    CHECK_EQ_U(cgs_check_writer(st, 0), 1);
    st->wstate = w;
    /* W2: failed without an error to return */
    st->wstate = W_FAILED;
    st->batch_err = 0;
    CHECK_EQ_U(cgs_check_writer(st, 0), 2);
    st->wstate = W_IDLE;
    /* W3: ids that went back, a handle behind what it committed */
    uint64_t next = st->next_id, disk = st->next_id_disk;
    st->next_id = 0;
    CHECK_EQ_U(cgs_check_writer(st, 0), 3);
    st->next_id = next;
    st->next_id_disk = next + 1;
    CHECK_EQ_U(cgs_check_writer(st, 0), 3);
    st->next_id_disk = disk;
    /* W4: a span, a last put, outside a batch */
    st->ntouched = 1;
    st->touched[0] = (struct cgs_touched){ 0, 1, 2 };
    CHECK_EQ_U(cgs_check_writer(st, 0), 4);
    st->ntouched = 0;
    st->last_put = x[2].id;
    CHECK_EQ_U(cgs_check_writer(st, 0), 4);
    st->last_put = 0;
    /* W9: what is committed above what the handle thinks it committed */
    st->next_id_disk = x[2].id; /* the last key, not below it */
    CHECK_EQ_U(cgs_check_writer(st, 1), 9);
    CHECK_EQ_U(cgs_check_writer(st, 0), 0); /* only the deep check reads it */
    st->next_id_disk = disk;
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);

    /* in a batch */
    cg_incident y;
    CHECK(cg_store_begin(st) == 0);
    incident(&y, cg_store_new_id(st), 2000, 8);
    CHECK(cg_store_put(st, &y) == 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    /* W2: a batch without its transaction */
    MDB_txn *txn = st->wtxn;
    st->wtxn = NULL;
    CHECK_EQ_U(cgs_check_writer(st, 0), 2);
    st->wtxn = txn;
    /* W5: two spans of one partition; a span upside down */
    st->touched[1] = st->touched[0];
    st->ntouched = 2;
    CHECK_EQ_U(cgs_check_writer(st, 0), 5);
    st->ntouched = 1;
    struct cgs_touched t = st->touched[0];
    st->touched[0].min_us = t.max_us + 1;
    CHECK_EQ_U(cgs_check_writer(st, 0), 5);
    st->touched[0] = t;
    /* W6: the highest key at next_id */
    uint64_t last = st->inc_last;
    st->inc_last = st->next_id;
    CHECK_EQ_U(cgs_check_writer(st, 0), 6);
    /* W7: the highest key not the one the batch has */
    st->inc_last = last - 1;
    CHECK_EQ_U(cgs_check_writer(st, 0), 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 7);
    st->inc_last = last;
    /* W8: the last put's first_us outside its span */
    st->touched[0].min_us = y.first_us - 10;
    st->touched[0].max_us = y.first_us - 1;
    CHECK_EQ_U(cgs_check_writer(st, 1), 8);
    st->touched[0] = t;
    /* W8: an index entry of the last put gone */
    struct cgs_ixkeys ik;
    cgs_ix_keys(&y, &ik);
    uint8_t val[8];
    MDB_val k = { ik.len[IX_SID], ik.k[IX_SID] };
    MDB_val v = { ix_value(cgs_ix[IX_SID].flags, y.id, val), val };
    CHECK(mdb_del(st->wtxn, st->dbi[DB_IX0 + IX_SID], &k, &v) == 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 8);
    CHECK(mdb_put(st->wtxn, st->dbi[DB_IX0 + IX_SID], &k, &v, 0) == 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    /* W8: a last put whose record is not in the batch */
    uint8_t key[8];
    put64(key, x[0].id);
    k = (MDB_val){ 8, key };
    CHECK(mdb_del(st->wtxn, st->dbi[DB_INC], &k, NULL) == 0);
    st->last_put = x[0].id;
    CHECK_EQ_U(cgs_check_writer(st, 1), 8);
    st->last_put = y.id;
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    /* W7: meta next_id in the batch above the handle's */
    uint8_t b[8];
    put64(b, st->next_id + 10);
    k = (MDB_val){ 7, (void *)"next_id" };
    v = (MDB_val){ 8, b };
    CHECK(mdb_put(st->wtxn, st->dbi[DB_META], &k, &v, 0) == 0);
    CHECK_EQ_U(cgs_check_writer(st, 1), 7);
    cg_store_abort(st); /* the broken batch goes */
    CHECK_EQ_U(cgs_check_writer(st, 1), 0);
    cg_store_close(st);

    /* W1: a reader in a batch */
    CHECK(cg_store_open(&ro, path("broken"), CG_STORE_RDONLY, 0) == 0);
    if (ro) {
        CHECK_EQ_U(cgs_check_writer(ro, 1), 0);
        ro->wstate = W_OPEN;
        CHECK_EQ_U(cgs_check_writer(ro, 0), 1);
        ro->wstate = W_IDLE;
        cg_store_close(ro);
    }
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/cg-store-inv.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7);
    holds_throughout();
    finds_each();
    nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("store_inv");
}
