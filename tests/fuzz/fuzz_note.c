/* fuzz_note.c — libFuzzer harness: C2SP signed notes and tlog checkpoints
 * (store/keys.h).
 *
 * Input: a note, or a checkpoint text (any bytes; no NUL needed). Each input
 * goes through
 *  - cg_note_verify under the fixed key's name "PeterNeumann" (the key of Go's
 *    golang.org/x/mod/sumdb/note example, made once from its public seed and
 *    written as a 0600 PEM scratch file, loaded with cg_key_load_private): a
 *    note it accepts must have a text that is a prefix of the input ending in
 *    "\n", and that text goes through cg_checkpoint_parse;
 *  - cg_note_verify under a name the key never signed with (only ignored
 *    lines, malformed ones, or no signature);
 *  - cg_checkpoint_parse of the whole input: a checkpoint it accepts must
 *    format back (cg_checkpoint_format) to the input's first three lines,
 *    byte for byte (one spelling per checkpoint);
 *  - when the input is a text cg_note_sign takes (no NUL, valid, ending in
 *    "\n"), the signed note must verify, its text the input.
 * A broken property aborts. The key is kept across inputs; nothing else.
 * The seeds (corpus/note/) are written by `test_keys --corpus DIR`.
 */
#include "tests/fuzz/fuzz_common.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "store/keys.h"

#define NAME "PeterNeumann"

static cg_key *key;

/* The seed of "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
 * the 32 bytes after the 0x01 (tests/test_keys.c checks the same key id). */
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
    path = fz_file_named((const uint8_t *)pem, (size_t)n, ".pem"); /* mode 0600 */
    if (!path || cg_key_load_private(&key, path, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_note: %s\n", path ? err : "cannot write the key");
        abort();
    }
    BIO_free(b);
    EVP_PKEY_free(pk);
}

static void parse_checkpoint(const char *text, size_t len, int check_round_trip)
{
    char origin[256], err[256], again[400];
    uint64_t size;
    uint8_t root[32];
    int n;

    if (cg_checkpoint_parse(text, len, origin, sizeof origin, &size, root, err, sizeof err) != 0) {
        fz_touch(err, strnlen(err, sizeof err));
        return;
    }
    fz_touch(origin, strlen(origin) + 1);
    fz_touch(root, sizeof root);
    n = cg_checkpoint_format(origin, size, root, again, sizeof again);
    if (n <= 0 || (size_t)n > len || (check_round_trip && memcmp(again, text, (size_t)n) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *note = (const char *)data;
    char err[512], *text, *signed_note = NULL;
    size_t tl = 0, sl = 0;
    int rc;

    init_key();
    rc = cg_note_verify(key, NAME, note, size, &tl, err, sizeof err);
    if (rc == 0) {
        if (tl == 0 || tl > size || data[tl - 1] != '\n')
            abort();
        parse_checkpoint(note, tl, 1);
    } else {
        fz_touch(err, strnlen(err, sizeof err));
    }
    if (cg_note_verify(key, "witness.example/other", note, size, &tl, err, sizeof err) == 0)
        abort(); /* the key never signs under that name */
    parse_checkpoint(note, size, 1);

    if (!memchr(data, 0, size) && (text = fz_str(data, size)) != NULL) {
        if (cg_note_sign(key, NAME, text, &signed_note, &sl) == 0) {
            if (cg_note_verify(key, NAME, signed_note, sl, &tl, err, sizeof err) != 0 ||
                tl != size || memcmp(signed_note, data, size) != 0) {
                fprintf(stderr, "fuzz_note: a note it signed does not verify: %s\n", err);
                abort();
            }
            free(signed_note);
        }
        free(text);
    }
    return 0;
}
