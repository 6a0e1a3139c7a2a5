/* fuzz_custody.c — libFuzzer harness: a case file's custody.json and
 * case.json as `case verify` reads them (tools/casefile.h: cg_custody_parse,
 * cg_casejson_ids, cg_casefile_check).
 *
 * Input: JSON bytes (any). Each input goes through
 *  - cg_custody_parse: the count of problems is the callback's; every proof
 *    kept has at most CG_MT_MAXPROOF hashes, and its leaf data (when given)
 *    is read whole;
 *  - cg_casejson_ids: likewise, every id read;
 *  - cg_casefile_check over a case of four files: the input as
 *    custody.json and as case.json, a manifest listing them and its
 *    signature by a fixed key (Go's sumdb/note example key, as fuzz_note.c),
 *    so that the checks reach the checkpoint and the proofs: it returns 0
 *    exactly when it reported no problem, and reports as many as it counts.
 * tools/casefile.c is compiled in. The seeds (corpus/custody/) are the
 * custody.json and case.json of small exports, a redacted one, and cases
 * made by `test_casefile --corpus DIR` with the fixed key: a custody.json
 * that is also a case.json (each incident has "id" and "incident"), whose
 * checkpoint and proofs hold, and variants of it.
 */
#include "tests/fuzz/fuzz_common.h"

#include <openssl/pem.h>

#include "tools/casefile.c"

static cg_key *key;

static void init_key(void)
{
    static const char b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    uint8_t raw[33];
    char err[256], *pem;
    const char *path;
    EVP_PKEY *pk;
    BIO *b;
    long n;

    if (key)
        return;
    EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)sizeof b64 - 1);
    pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw + 1, 32);
    b = BIO_new(BIO_s_mem());
    if (!pk || !b || PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) != 1)
        abort();
    n = BIO_get_mem_data(b, &pem);
    path = fz_file_named((const uint8_t *)pem, (size_t)n, ".pem");
    if (!path || cg_key_load_private(&key, path, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_custody: %s\n", path ? err : "cannot write the key");
        abort();
    }
    BIO_free(b);
    EVP_PKEY_free(pk);
}

static void count(void *arg, const char *file, const char *msg)
{
    fz_touch(file, strlen(file));
    fz_touch(msg, strlen(msg));
    ++*(int *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    cg_custody c;
    cg_casefile_item it[4];
    uint8_t sig[CG_KEY_SIG_LEN];
    cg_casefile_result res;
    uint64_t *ids = NULL;
    size_t nids = 0;
    char man[400], hex[65];
    int calls = 0, rc;

    init_key();
    rc = cg_custody_parse(text, size, &c, count, &calls);
    if (rc != CG_ENOMEM && (rc < 0 || rc != calls))
        abort();
    for (size_t i = 0; i < c.n; i++) {
        if (c.p[i].npath > CG_MT_MAXPROOF)
            abort();
        fz_touch(c.p[i].leaf_data, c.p[i].leaf_len);
        fz_touch(c.p[i].path, 32 * (size_t)c.p[i].npath);
    }
    if (c.checkpoint)
        fz_touch(c.checkpoint, c.checkpoint_len + 1);
    if (c.origin)
        fz_touch(c.origin, strlen(c.origin) + 1);
    cg_custody_free(&c);

    calls = 0;
    rc = cg_casejson_ids(text, size, &ids, &nids, count, &calls);
    if (rc != CG_ENOMEM && (rc < 0 || rc != calls))
        abort();
    fz_touch(ids, nids * sizeof *ids);
    free(ids);

    it[0].path = CG_CASEFILE_CUSTODY;
    it[1].path = CG_CASEFILE_CASE;
    for (int i = 0; i < 2; i++) {
        cg_casefile_sha256(data, size, it[i].sha);
        it[i].data = data;
        it[i].len = size;
    }
    cg_casefile_hex(it[0].sha, hex);
    snprintf(man, sizeof man, "%s  case.json\n%s  custody.json\n", hex, hex);
    it[2].path = CG_CASEFILE_MANIFEST;
    it[2].data = (const uint8_t *)man;
    it[2].len = strlen(man);
    cg_casefile_sha256(man, it[2].len, it[2].sha);
    if (cg_key_sign(key, man, it[2].len, sig) != 0)
        abort();
    it[3].path = CG_CASEFILE_SIG;
    it[3].data = sig;
    it[3].len = sizeof sig;
    cg_casefile_sha256(sig, sizeof sig, it[3].sha);
    calls = 0;
    rc = cg_casefile_check(it, 4, key, "KEY", count, &calls, &res);
    if (rc != CG_ENOMEM && ((unsigned)calls != res.problems || (rc == 0) != (calls == 0)))
        abort();
    return 0;
}
