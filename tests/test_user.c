/* test_user.c — the console's accounts, API tokens and audit trail in the
 * store (store_user.h, store_user.c, schema 8):
 *  - roles and event names both ways, user names (allowed bytes, length);
 *  - users: add, a taken name (CG_EEXIST), bad names, roles and passwords,
 *    verify right / wrong / disabled / unknown, passwd, role, list order
 *    (by name, as bytes), and neither a password nor a token in data.mdb;
 *  - tokens: made once ("cgt_" + 64 hex), checked, listed by id (the first
 *    16 hex of their SHA-256), used, revoked, refused for a disabled user;
 *  - audit: appended, newest first, since, limit, texts made one line;
 *  - store check decodes the three databases, and names a record a raw
 *    LMDB write damaged (readers then say damaged);
 *  - a read-only handle refuses every write (CG_EINVAL) and reads;
 *  - tests/data/store-v7 (schema 7, commit c6e53dd): read as it is (no
 *    accounts: CG_EOLDER), migrated to 8 by a triage handle with its
 *    incidents, history and log head kept, then takes users.
 * Hashing at the minimum cost (cg_store_user_cost) keeps it fast.
 */
#include "store/store.h"
#include "store/store_user.h"
#include "tests/check.h"

#include <ftw.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static const char *path(const char *name)
{
    static char buf[8][256];
    static unsigned i;
    char *p = buf[i++ % 8];
    snprintf(p, 256, "%s/%s", root, name);
    return p;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static cg_store *open_triage(const char *dir)
{
    cg_store *st = NULL;
    int rc = cg_store_open(&st, dir, CG_STORE_TRIAGE, 0);
    CHECK_EQ_U(rc, 0);
    if (st)
        cg_store_user_cost(st, 1);
    return st;
}

/* the users a list gives, names joined with ',' */
struct names {
    char s[512];
    unsigned n;
    cg_user last;
    char last_name[CG_USER_NAME_MAX + 1];
};

static int names_cb(const cg_user *u, void *arg)
{
    struct names *nm = arg;
    size_t l = strlen(nm->s);
    snprintf(nm->s + l, sizeof nm->s - l, "%s%s", l ? "," : "", u->name);
    nm->n++;
    nm->last = *u;
    snprintf(nm->last_name, sizeof nm->last_name, "%s", u->name);
    nm->last.name = nm->last_name;
    return 0;
}

static void test_names(void)
{
    char longname[CG_USER_NAME_MAX + 2];

    CHECK_STR(cg_role_name(CG_ROLE_VIEWER), "viewer");
    CHECK_STR(cg_role_name(CG_ROLE_ADMIN), "admin");
    CHECK(cg_role_name(CG_ROLE_COUNT) == NULL);
    CHECK_EQ_U(cg_role_parse("responder"), CG_ROLE_RESPONDER);
    CHECK(cg_role_parse("root") == -1);
    CHECK(cg_role_parse("Admin") == -1);
    CHECK(cg_role_parse(NULL) == -1);
    CHECK_STR(cg_audit_event_name(CG_AUDIT_LOGIN_FAILED), "login-failed");
    CHECK_STR(cg_audit_event_name(CG_AUDIT_CHANGE), "change");
    CHECK(cg_audit_event_name(0) == NULL);
    CHECK(cg_audit_event_name(CG_AUDIT_CHANGE + 1) == NULL);

    CHECK(cg_user_name_ok("lan"));
    CHECK(cg_user_name_ok("Nguyen.Van_An-2"));
    CHECK(!cg_user_name_ok(""));
    CHECK(!cg_user_name_ok(NULL));
    CHECK(!cg_user_name_ok("a b"));
    CHECK(!cg_user_name_ok("a/b"));
    CHECK(!cg_user_name_ok("l\xc3\xa2n"));
    memset(longname, 'x', sizeof longname);
    longname[CG_USER_NAME_MAX] = 0;
    CHECK(cg_user_name_ok(longname));
    longname[CG_USER_NAME_MAX] = 'x';
    longname[CG_USER_NAME_MAX + 1] = 0;
    CHECK(!cg_user_name_ok(longname));
}

/* whether the bytes of s are anywhere in dir/data.mdb */
static int in_file(const char *dir, const char *s)
{
    char p[300];
    FILE *f;
    static char buf[4 << 20];
    size_t n, l = strlen(s);
    int found = 0;

    snprintf(p, sizeof p, "%s/data.mdb", dir);
    if (!(f = fopen(p, "rb")))
        return -1;
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i + l <= n && !found; i++)
        found = !memcmp(buf + i, s, l);
    return found;
}

static void test_users(void)
{
    const char *dir = path("u");
    cg_store *st;
    struct names nm = { 0 };
    unsigned role = 99;

    CHECK_EQ_U(cg_store_open(&st, dir, 0, 0), 0); /* a writer makes a schema 8 store */
    cg_store_close(st);
    st = open_triage(dir);

    CHECK_EQ_U(cg_store_user_add(st, "lan", CG_ROLE_ANALYST, "correct horse", 1000), 0);
    CHECK_EQ_U(cg_store_user_add(st, "lan", CG_ROLE_ADMIN, "another", 2000), CG_EEXIST);
    CHECK_CONTAINS(cg_store_error(st), "lan exists");
    CHECK_EQ_U(cg_store_user_add(st, "a b", CG_ROLE_ADMIN, "pw", 2000), CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "user name");
    CHECK_EQ_U(cg_store_user_add(st, "", CG_ROLE_ADMIN, "pw", 2000), CG_EINVAL);
    CHECK_EQ_U(cg_store_user_add(st, "chi", CG_ROLE_COUNT, "pw", 2000), CG_EINVAL);
    CHECK_EQ_U(cg_store_user_add(st, "chi", CG_ROLE_ADMIN, "", 2000), CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "password");
    CHECK_EQ_U(cg_store_user_add(st, "chi", CG_ROLE_ADMIN, NULL, 2000), CG_EINVAL);

    /* verify */
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "correct horse", &role), 0);
    CHECK_EQ_U(role, CG_ROLE_ANALYST);
    role = 99;
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "correct horsE", &role), CG_EPERM);
    CHECK_EQ_U(role, 99); /* written only on success */
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "", &role), CG_EPERM);
    CHECK_EQ_U(cg_store_user_verify(st, "nobody", "correct horse", &role), CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_user_verify(st, "no body", "x", &role), CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_user_set_disabled(st, "lan", 1), 0);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "correct horse", &role), CG_EPERM);
    CHECK_CONTAINS(cg_store_error(st), "disabled");
    CHECK_EQ_U(cg_store_user_set_disabled(st, "lan", 0), 0);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "correct horse", &role), 0);
    CHECK_EQ_U(cg_store_user_set_disabled(st, "nobody", 1), CG_ENOTFOUND);

    /* passwd */
    CHECK_EQ_U(cg_store_user_passwd(st, "lan", "battery staple", 5000), 0);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "correct horse", &role), CG_EPERM);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "battery staple", &role), 0);
    CHECK_EQ_U(cg_store_user_passwd(st, "nobody", "x", 5000), CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_user_passwd(st, "lan", "", 5000), CG_EINVAL);
    CHECK_EQ_U(cg_store_user_get(st, "lan", names_cb, &nm), 0);
    CHECK_EQ_U(nm.last.created_us, 1000);
    CHECK_EQ_U(nm.last.changed_us, 5000);
    CHECK_EQ_U(nm.last.role, CG_ROLE_ANALYST);
    CHECK_EQ_U(nm.last.disabled, 0);

    /* role */
    CHECK_EQ_U(cg_store_user_set_role(st, "lan", CG_ROLE_RESPONDER), 0);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "battery staple", &role), 0);
    CHECK_EQ_U(role, CG_ROLE_RESPONDER);
    CHECK_EQ_U(cg_store_user_set_role(st, "lan", 7), CG_EINVAL);
    CHECK_EQ_U(cg_store_user_set_role(st, "nobody", CG_ROLE_ADMIN), CG_ENOTFOUND);
    memset(&nm, 0, sizeof nm);
    CHECK_EQ_U(cg_store_user_get(st, "nobody", names_cb, &nm), CG_ENOTFOUND);
    CHECK_EQ_U(nm.n, 0);

    /* list: by name, as bytes */
    CHECK_EQ_U(cg_store_user_add(st, "zed", CG_ROLE_VIEWER, "z", 6000), 0);
    CHECK_EQ_U(cg_store_user_add(st, "Bob", CG_ROLE_ADMIN, "b", 6000), 0);
    CHECK_EQ_U(cg_store_user_add(st, "alice", CG_ROLE_VIEWER, "a", 6000), 0);
    CHECK_EQ_U(cg_store_user_set_disabled(st, "zed", 1), 0);
    memset(&nm, 0, sizeof nm);
    CHECK_EQ_U(cg_store_user_list(st, names_cb, &nm), 0);
    CHECK_STR(nm.s, "Bob,alice,lan,zed");
    CHECK_EQ_U(nm.last.disabled, 1);
    CHECK_EQ_U(nm.last.role, CG_ROLE_VIEWER);
    cg_store_close(st);

    /* kept across opens; the password is not in the file */
    st = open_triage(dir);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "battery staple", &role), 0);
    CHECK_EQ_U(role, CG_ROLE_RESPONDER);
    cg_store_close(st);
    CHECK_EQ_U(in_file(dir, "battery staple"), 0);
    CHECK_EQ_U(in_file(dir, "$argon2id$"), 1);
}

struct toks {
    unsigned n;
    char ids[8][17];
    char users[8][CG_USER_NAME_MAX + 1];
    char labels[8][64];
    uint64_t used[8];
};

static int toks_cb(const cg_token_info *t, void *arg)
{
    struct toks *tk = arg;
    if (tk->n < 8) {
        memcpy(tk->ids[tk->n], t->id, 17);
        snprintf(tk->users[tk->n], sizeof tk->users[0], "%s", t->user);
        snprintf(tk->labels[tk->n], sizeof tk->labels[0], "%s", t->label);
        tk->used[tk->n] = t->used_us;
    }
    tk->n++;
    return 0;
}

/* the index of id in tk, or -1 */
static int tok_at(const struct toks *tk, const char *id)
{
    for (unsigned i = 0; i < tk->n && i < 8; i++)
        if (!strcmp(tk->ids[i], id))
            return (int)i;
    return -1;
}

static void test_tokens(void)
{
    const char *dir = path("u");
    cg_store *st = open_triage(dir);
    char t1[CG_TOKEN_LEN + 1], t2[CG_TOKEN_LEN + 1], t3[CG_TOKEN_LEN + 1],
        name[CG_USER_NAME_MAX + 1];
    char id1[17];
    unsigned char h[32];
    struct toks tk = { 0 };
    unsigned role = 99;
    int i;

    CHECK_EQ_U(cg_store_token_new(st, "lan", "ci", 7000, t1), 0);
    CHECK_EQ_U(strlen(t1), CG_TOKEN_LEN);
    CHECK(!strncmp(t1, "cgt_", 4));
    CHECK_EQ_U(strspn(t1 + 4, "0123456789abcdef"), 64);
    CHECK_EQ_U(cg_store_token_new(st, "lan", "", 7100, t2), 0);
    CHECK(strcmp(t1, t2) != 0);
    CHECK_EQ_U(cg_store_token_new(st, "alice", "laptop", 7200, t3), 0);
    CHECK_EQ_U(cg_store_token_new(st, "nobody", "x", 7200, t3 /* untouched on error */),
               CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_token_new(st, "lan", "two\nlines", 7200, t3), CG_EINVAL);

    CHECK_EQ_U(cg_store_token_check(st, t1, name, &role), 0);
    CHECK_STR(name, "lan");
    CHECK_EQ_U(role, CG_ROLE_RESPONDER);
    CHECK_EQ_U(cg_store_token_check(st, t3, name, &role), 0);
    CHECK_STR(name, "alice");
    CHECK_EQ_U(role, CG_ROLE_VIEWER);
    CHECK_EQ_U(cg_store_token_check(st, "cgt_0000", name, &role), CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_token_check(st, NULL, name, &role), CG_ENOTFOUND);
    {
        char bad[CG_TOKEN_LEN + 1];
        memcpy(bad, t1, sizeof bad);
        bad[10] = bad[10] == 'a' ? 'b' : 'a';
        CHECK_EQ_U(cg_store_token_check(st, bad, name, &role), CG_ENOTFOUND);
    }

    /* ids: the first 16 hex digits of the token's SHA-256 */
    CHECK_EQ_U(cg_store_token_list(st, NULL, toks_cb, &tk), 0);
    CHECK_EQ_U(tk.n, 3);
    crypto_hash_sha256(h, (const unsigned char *)t1, CG_TOKEN_LEN);
    sodium_bin2hex(id1, sizeof id1, h, 8);
    CHECK((i = tok_at(&tk, id1)) >= 0);
    if (i >= 0) {
        CHECK_STR(tk.users[i], "lan");
        CHECK_STR(tk.labels[i], "ci");
        CHECK_EQ_U(tk.used[i], 0);
    }
    memset(&tk, 0, sizeof tk);
    CHECK_EQ_U(cg_store_token_list(st, "alice", toks_cb, &tk), 0);
    CHECK_EQ_U(tk.n, 1);
    CHECK_STR(tk.labels[0], "laptop");

    /* used */
    CHECK_EQ_U(cg_store_token_used(st, t1, 9000), 0);
    memset(&tk, 0, sizeof tk);
    CHECK_EQ_U(cg_store_token_list(st, "lan", toks_cb, &tk), 0);
    CHECK_EQ_U(tk.n, 2);
    CHECK((i = tok_at(&tk, id1)) >= 0);
    if (i >= 0)
        CHECK_EQ_U(tk.used[i], 9000);
    CHECK_EQ_U(cg_store_token_used(st, "cgt_nothing", 9000), CG_ENOTFOUND);

    /* a disabled user's tokens stop working, and work again when enabled */
    CHECK_EQ_U(cg_store_user_set_disabled(st, "alice", 1), 0);
    CHECK_EQ_U(cg_store_token_check(st, t3, name, &role), CG_EPERM);
    CHECK_EQ_U(cg_store_user_set_disabled(st, "alice", 0), 0);
    CHECK_EQ_U(cg_store_token_check(st, t3, name, &role), 0);

    /* revoke */
    CHECK_EQ_U(cg_store_token_revoke(st, id1), 0);
    CHECK_EQ_U(cg_store_token_check(st, t1, name, &role), CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_token_check(st, t2, name, &role), 0);
    CHECK_EQ_U(cg_store_token_revoke(st, id1), CG_ENOTFOUND);
    CHECK_EQ_U(cg_store_token_revoke(st, "xyz"), CG_EINVAL);
    CHECK_EQ_U(cg_store_token_revoke(st, "0123456789ABCDEF"), CG_EINVAL);
    memset(&tk, 0, sizeof tk);
    CHECK_EQ_U(cg_store_token_list(st, NULL, toks_cb, &tk), 0);
    CHECK_EQ_U(tk.n, 2);
    CHECK(tok_at(&tk, id1) < 0);
    cg_store_close(st);
    CHECK_EQ_U(in_file(dir, t2 + 4), 0); /* only its hash is kept */
}

struct trail {
    unsigned n;
    uint64_t seq[16], when[16];
    char detail[16][1100];
    char who[16][64];
};

static int trail_cb(const cg_audit *a, void *arg)
{
    struct trail *tr = arg;
    if (tr->n < 16) {
        tr->seq[tr->n] = a->seq;
        tr->when[tr->n] = a->when_us;
        snprintf(tr->detail[tr->n], sizeof tr->detail[0], "%s", a->detail);
        snprintf(tr->who[tr->n], sizeof tr->who[0], "%s", a->who);
    }
    tr->n++;
    return 0;
}

static void test_audit(void)
{
    const char *dir = path("u");
    cg_store *st = open_triage(dir);
    static struct trail tr;
    char longd[3000];

    for (unsigned i = 1; i <= 5; i++) {
        char d[32];
        snprintf(d, sizeof d, "entry %u", i);
        CHECK_EQ_U(cg_store_audit_add(st, 100 * i, "lan", "", CG_AUDIT_USER, d), 0);
    }
    CHECK_EQ_U(cg_store_audit_add(st, 600, "lan", "", 0, "x"), CG_EINVAL);
    CHECK_EQ_U(cg_store_audit_add(st, 600, "lan", "", 99, "x"), CG_EINVAL);

    memset(&tr, 0, sizeof tr);
    CHECK_EQ_U(cg_store_audit_list(st, 0, 0, trail_cb, &tr), 0);
    CHECK_EQ_U(tr.n, 5);
    CHECK_STR(tr.detail[0], "entry 5");
    CHECK_STR(tr.detail[4], "entry 1");
    CHECK_EQ_U(tr.seq[0], 5);
    CHECK_EQ_U(tr.seq[4], 1);
    CHECK_STR(tr.who[0], "lan");

    memset(&tr, 0, sizeof tr);
    CHECK_EQ_U(cg_store_audit_list(st, 300, 0, trail_cb, &tr), 0);
    CHECK_EQ_U(tr.n, 3);
    CHECK_EQ_U(tr.when[2], 300);

    memset(&tr, 0, sizeof tr);
    CHECK_EQ_U(cg_store_audit_list(st, 0, 2, trail_cb, &tr), 0);
    CHECK_EQ_U(tr.n, 2);
    CHECK_STR(tr.detail[1], "entry 4");

    /* one line, cut */
    memset(longd, 'd', sizeof longd);
    longd[sizeof longd - 1] = 0;
    CHECK_EQ_U(cg_store_audit_add(st, 700, "evil\nuser", "10.0.0.1", CG_AUDIT_LOGIN_FAILED,
                                  "two\nlines\r"),
               0);
    CHECK_EQ_U(cg_store_audit_add(st, 800, NULL, NULL, CG_AUDIT_CHANGE, longd), 0);
    memset(&tr, 0, sizeof tr);
    CHECK_EQ_U(cg_store_audit_list(st, 700, 0, trail_cb, &tr), 0);
    CHECK_EQ_U(tr.n, 2);
    CHECK_EQ_U(strlen(tr.detail[0]), 1024);
    CHECK_STR(tr.who[0], "");
    CHECK_STR(tr.detail[1], "two lines ");
    CHECK_STR(tr.who[1], "evil user");
    CHECK_EQ_U(tr.seq[0], 7);
    cg_store_close(st);
}

static void problem_cb(const char *line, void *arg)
{
    snprintf(arg, 256, "%s", line);
}

static int db_named(const char *name)
{
    for (int i = 0; i < cg_store_check_ndb(); i++)
        if (!strcmp(cg_store_db_name(i), name))
            return i;
    return -1;
}

static void test_check_and_rdonly(void)
{
    const char *dir = path("u");
    cg_store *st;
    char line[256] = "", tok[CG_TOKEN_LEN + 1];
    uint64_t n = 0;
    unsigned role;
    struct names nm = { 0 };
    static struct trail tr;
    struct toks tk = { 0 };

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_check_ndb(), 30);
    CHECK(db_named("users") >= 0 && db_named("tokens") >= 0 && db_named("audit") >= 0);
    CHECK_EQ_U(cg_store_check(st, db_named("users"), problem_cb, line, &n), 0);
    CHECK_EQ_U(n, 4);
    CHECK_EQ_U(cg_store_check(st, db_named("tokens"), problem_cb, line, &n), 0);
    CHECK_EQ_U(n, 2);
    CHECK_EQ_U(cg_store_check(st, db_named("audit"), problem_cb, line, &n), 0);
    CHECK_EQ_U(n, 7);
    CHECK(line[0] == 0);

    /* a read-only handle reads, and refuses every write */
    cg_store_user_cost(st, 1);
    CHECK_EQ_U(cg_store_user_list(st, names_cb, &nm), 0);
    CHECK_EQ_U(nm.n, 4);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "battery staple", &role), 0);
    CHECK_EQ_U(cg_store_token_list(st, NULL, toks_cb, &tk), 0);
    CHECK_EQ_U(tk.n, 2);
    CHECK_EQ_U(cg_store_audit_list(st, 0, 0, trail_cb, &tr), 0);
    CHECK_EQ_U(tr.n, 7);
    CHECK_EQ_U(cg_store_user_add(st, "new", CG_ROLE_VIEWER, "pw", 1), CG_EINVAL);
    CHECK_CONTAINS(cg_store_error(st), "read-only");
    CHECK_EQ_U(cg_store_user_passwd(st, "lan", "pw", 1), CG_EINVAL);
    CHECK_EQ_U(cg_store_user_set_role(st, "lan", CG_ROLE_ADMIN), CG_EINVAL);
    CHECK_EQ_U(cg_store_user_set_disabled(st, "lan", 1), CG_EINVAL);
    CHECK_EQ_U(cg_store_token_new(st, "lan", "", 1, tok), CG_EINVAL);
    CHECK_EQ_U(cg_store_token_used(st, "cgt_x", 1), CG_EINVAL);
    CHECK_EQ_U(cg_store_token_revoke(st, "0123456789abcdef"), CG_EINVAL);
    CHECK_EQ_U(cg_store_audit_add(st, 1, "lan", "", CG_AUDIT_USER, "x"), CG_EINVAL);
    cg_store_close(st);

    /* the audit is operational state: the log of the store did not grow */
    {
        cg_store_head h;
        CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
        CHECK_EQ_U(cg_store_log_head(st, &h), 0);
        CHECK_EQ_U(h.size, 0);
        cg_store_close(st);
    }
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t n;
    int ok = a && b;

    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0)
        ok = fwrite(buf, 1, n, b) == n;
    if (a)
        fclose(a);
    if (b && fclose(b))
        ok = 0;
    return ok ? 0 : -1;
}

/* Flips a byte of the value of key in database db of dir's store, by raw
 * LMDB: what a damaged disk does. 0 when done. */
static int flip(const char *dir, const char *db, const void *key, size_t klen, size_t off)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_val k = { klen, (void *)key }, v;
    uint8_t buf[4096];
    int rc;

    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 64)) ||
        (rc = mdb_env_open(env, dir, 0, 0640)) || (rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
        (rc = mdb_dbi_open(txn, db, 0, &dbi)) || (rc = mdb_get(txn, dbi, &k, &v)))
        goto out;
    if (v.mv_size > sizeof buf || off >= v.mv_size) {
        rc = -1;
        goto out;
    }
    memcpy(buf, v.mv_data, v.mv_size);
    buf[off] ^= 0x40;
    v.mv_data = buf;
    if ((rc = mdb_put(txn, dbi, &k, &v, 0)) == 0)
        rc = mdb_txn_commit(txn);
    txn = NULL;
out:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    return rc;
}

/* A damaged user, token or audit record: store check names it, readers
 * say damaged, never read it as other values. */
static void test_damaged(void)
{
    const char *dir = path("dmg");
    char dst[300], src[300], line[256] = "";
    uint8_t seq[8] = { 0, 0, 0, 0, 0, 0, 0, 3 };
    cg_store *st;
    struct names nm = { 0 };
    static struct trail tr;
    uint64_t n = 0;
    unsigned role;

    mkdir(dir, 0700);
    snprintf(src, sizeof src, "%s/data.mdb", path("u"));
    snprintf(dst, sizeof dst, "%s/data.mdb", dir);
    CHECK_EQ_U(copy_file(src, dst), 0);
    CHECK_EQ_U(flip(dir, "users", "zed", 3, 6), 0);
    CHECK_EQ_U(flip(dir, "audit", seq, 8, 20), 0);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    cg_store_user_cost(st, 1);
    CHECK_EQ_U(cg_store_check(st, db_named("users"), problem_cb, line, &n), CG_ECORRUPT);
    CHECK_STR(line, "users key zed: checksum mismatch");
    CHECK_EQ_U(n, 4);
    line[0] = 0;
    CHECK_EQ_U(cg_store_check(st, db_named("tokens"), problem_cb, line, &n), 0);
    CHECK(line[0] == 0);
    CHECK_EQ_U(cg_store_check(st, db_named("audit"), problem_cb, line, &n), CG_ECORRUPT);
    CHECK_STR(line, "audit key 3: checksum mismatch");
    CHECK_EQ_U(cg_store_user_list(st, names_cb, &nm), CG_ECORRUPT);
    CHECK_CONTAINS(cg_store_error(st), "damaged (users: bad record (checksum mismatch))");
    CHECK_EQ_U(cg_store_user_verify(st, "zed", "z", &role), CG_ECORRUPT);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "battery staple", &role), 0);
    CHECK_EQ_U(cg_store_audit_list(st, 0, 0, trail_cb, &tr), CG_ECORRUPT);
    cg_store_close(st);
}

static void test_migrate7(void)
{
    const char *dir = path("v7");
    char dst[300];
    cg_store *st;
    cg_store_info info;
    cg_store_head h0, h1;
    cg_store_verify_stats vs;
    struct names nm = { 0 };
    unsigned role;

    mkdir(dir, 0700);
    snprintf(dst, sizeof dst, "%s/data.mdb", dir);
    CHECK_EQ_U(copy_file("tests/data/store-v7/data.mdb", dst), 0);

    CHECK_EQ_U(cg_store_open(&st, dir, CG_STORE_RDONLY, 0), 0);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, 7);
    CHECK_EQ_U(info.incidents, 3);
    CHECK_EQ_U(info.history, 3);
    CHECK_EQ_U(cg_store_log_head(st, &h0), 0);
    CHECK_EQ_U(h0.size, 26);
    CHECK_EQ_U(cg_store_user_list(st, names_cb, &nm), CG_EOLDER);
    CHECK_EQ_U(cg_store_user_add(st, "lan", CG_ROLE_ADMIN, "pw", 1), CG_EINVAL);
    cg_store_close(st);

    st = open_triage(dir);
    CHECK_EQ_U(cg_store_migrated(st), 7);
    CHECK_EQ_U(cg_store_info_get(st, &info), 0);
    CHECK_EQ_U(info.schema, 8);
    CHECK_EQ_U(info.incidents, 3);
    CHECK_EQ_U(info.history, 3);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(h1.size == h0.size && memcmp(h0.root, h1.root, 32) == 0);
    CHECK_EQ_U(cg_store_user_list(st, names_cb, &nm), 0);
    CHECK_EQ_U(nm.n, 0);
    CHECK_EQ_U(cg_store_user_add(st, "lan", CG_ROLE_ADMIN, "pw", 1), 0);
    CHECK_EQ_U(cg_store_audit_add(st, 1, "root", "", CG_AUDIT_USER, "added lan (admin)"), 0);
    CHECK_EQ_U(cg_store_verify(st, NULL, NULL, &vs, NULL), 0);
    cg_store_close(st);

    st = open_triage(dir);
    CHECK_EQ_U(cg_store_migrated(st), 0);
    CHECK_EQ_U(cg_store_user_verify(st, "lan", "pw", &role), 0);
    CHECK_EQ_U(role, CG_ROLE_ADMIN);
    CHECK_EQ_U(cg_store_log_head(st, &h1), 0);
    CHECK(h1.size == h0.size && memcmp(h0.root, h1.root, 32) == 0);
    cg_store_close(st);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/cg_user_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_names();
    test_users();
    test_tokens();
    test_audit();
    test_check_and_rdonly();
    test_damaged();
    test_migrate7();
    if (getenv("CG_KEEP"))
        printf("user: kept %s\n", root);
    else
        nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("user");
}
