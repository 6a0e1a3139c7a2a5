/* keys.h — the SOC's signing key (Ed25519), signed notes and checkpoints:
 * its API is its manual.
 *
 * One key pair signs what the SOC hands out or must prove later: case files
 * (their public key written beside them) and the checkpoints of a
 * tamper-evident store. The key is Ed25519 (RFC 8032) through OpenSSL's EVP
 * API; the files are the ones OpenSSL writes, so a verifier needs no
 * canhgac:
 *
 *   private key   PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), unencrypted,
 *                 mode 0600, never group- or world-accessible
 *   public key    SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"),
 *                 mode 0644
 *   a signature   the 64 bytes of RFC 8032 over the message itself (pure
 *                 Ed25519, no prehash):
 *                   openssl pkeyutl -verify -pubin -inkey PUB.pem -rawin \
 *                       -in MSG -sigfile SIG
 *   fingerprint   hex SHA-256 of the 32-byte raw public key (64 characters)
 *
 * Signed notes (https://c2sp.org/signed-note, v1.0.0)
 * ---------------------------------------------------
 * A text that ends in "\n", a blank line, then one or more signature lines
 *
 *     "— " NAME " " BASE64(KEYID[4] || SIGNATURE[64]) "\n"
 *
 * where "—" is the em dash U+2014 (bytes E2 80 94), the signature is over the
 * text including its final newline, and for Ed25519
 *
 *     KEYID = SHA-256(NAME || 0x0A || 0x01 || 32-byte public key)[0:4]
 *
 * (big-endian). The text is what comes before the LAST blank line, so a text
 * may hold blank lines of its own. A note is valid UTF-8 with no control
 * character but "\n". A name is non-empty, valid UTF-8, and holds no Unicode
 * space and no '+'. Base64 is RFC 4648 §4 (padded); this module reads only
 * its canonical form (the padding bits zero), so one signature has one
 * spelling. The notes are those of Go's golang.org/x/mod/sumdb/note and the
 * transparency-dev tools.
 *
 * Checkpoints (https://c2sp.org/tlog-checkpoint)
 * ----------------------------------------------
 * The text of a signed note:
 *
 *     ORIGIN "\n" SIZE "\n" BASE64(ROOT[32]) "\n" [EXTENSION "\n"]...
 *
 * ORIGIN non-empty, SIZE ASCII decimal with no leading zero ("0" for an
 * empty tree), ROOT the RFC 6962 Merkle root, extension lines non-empty and
 * opaque (read past, not returned). The key name of its signature should be
 * the origin.
 *
 * Contract:
 *  - Functions return 0 (or a length) or a negative error.h code; where
 *    they take err, a one-line message is in it on failure: "FILE: why" for
 *    key files, "line N: why" for notes and checkpoints (N counted from 1
 *    over the whole note; the caller puts the file in front).
 *  - Output parameters are written only on success.
 *  - A cg_key is immutable once loaded: sign, verify and the accessors may
 *    run on one key from many threads at once (an EVP_PKEY that no thread
 *    changes may be shared: openssl-threads(7)); cg_key_free when nothing
 *    else uses it.
 *  - OpenSSL's error queue is left empty by every function.
 *
 * Caveats:
 *  - The private key is read as it is on disk: unencrypted. Its protection is
 *    its mode (0600, checked on every load) and its owner; an encrypted PEM
 *    is refused, never prompted for.
 *  - cg_key_init refuses a path that exists: a key is never replaced behind
 *    the back of those who trust its public half. Rotate by writing new files
 *    elsewhere.
 */
#ifndef CG_KEYS_H
#define CG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/error.h"

typedef struct cg_key cg_key;

#define CG_KEY_SIG_LEN 64 /* an Ed25519 signature */
#define CG_KEY_PUB_LEN 32 /* an Ed25519 public key, raw */

/* Generates a key pair and writes the private key to priv_path (PKCS#8 PEM,
 * mode 0600) and the public key to pub_path (SPKI PEM, mode 0644). Each is
 * written to a temporary name in its directory (created O_CREAT|O_EXCL),
 * synced, then renamed into place without replacing anything
 * (renameat2 RENAME_NOREPLACE, or link and unlink where the file system has
 * no such rename), and the directory synced. Refuses when either path exists
 * (CG_EINVAL, "FILE: exists already") or both are one path; leaves nothing
 * behind on failure: CG_ENOTFOUND when a directory is missing, CG_EFULL for
 * a full disk or quota, CG_EIO for another failure to write ("FILE: why");
 * CG_ENOMEM. */
int cg_key_init(const char *priv_path, const char *pub_path, char *err, size_t errlen);

/* Loads the private key at path into *out. Refused, each with its own code
 * and one line that starts with the file:
 *   missing                      CG_ENOTFOUND    "FILE: No such file or directory"
 *   cannot be opened or read     CG_EIO          "FILE: Permission denied"
 *   not a regular file           CG_EINVAL       "FILE: not a regular file"
 *   open to others               CG_EINVAL       "FILE: readable by others (mode 0644):
 *                                                chmod 600 FILE" ("writable by others")
 *   not PEM                      CG_EMALFORMED   "FILE: not a PEM file"
 *   another PEM                  CG_EMALFORMED   "FILE: holds a public key, not a private
 *                                                key", "FILE: a PEM CERTIFICATE, not ..."
 *   damaged                      CG_EMALFORMED   "FILE: a damaged PEM file (...)" (its
 *                                                base64), "FILE: a damaged private key
 *                                                (...)" (its DER), "FILE: an empty PEM block"
 *   encrypted, OpenSSH's format  CG_EUNSUPPORTED "FILE: an encrypted private key: ..."
 *   another algorithm            CG_EUNSUPPORTED "FILE: key type ED448, not Ed25519"
 *   larger than 16 KiB           CG_EMALFORMED
 *   out of memory                CG_ENOMEM
 * A FIFO or a device is refused without being read. */
int cg_key_load_private(cg_key **out, const char *path, char *err, size_t errlen);
/* Loads the public key at path (SPKI PEM) into *out: the same refusals but the
 * mode check; a key so loaded verifies and cannot sign. */
int cg_key_load_public(cg_key **out, const char *path, char *err, size_t errlen);
/* Frees the key (its private bytes cleared by OpenSSL); NULL is fine. */
void cg_key_free(cg_key *k);

/* 1 when the key can sign (it was loaded from a private key file). */
int cg_key_has_private(const cg_key *k);
/* The 32 bytes of the raw public key. */
void cg_key_public_raw(const cg_key *k, uint8_t pub[CG_KEY_PUB_LEN]);
/* The public key as SPKI PEM in *buf (malloc, NUL-terminated, the caller
 * frees), its length without the NUL in *len: what cg_key_init writes.
 * 0 or CG_ENOMEM. */
int cg_key_public_pem(const cg_key *k, char **buf, size_t *len);
/* hex: 64 lower-case hex digits of SHA-256(raw public key), and a NUL. */
void cg_key_fingerprint(const cg_key *k, char hex[65]);

/* Signs msg[0..n) (pure Ed25519). 0; CG_EINVAL for a key with no private
 * half; CG_ENOMEM. */
int cg_key_sign(const cg_key *k, const void *msg, size_t n, uint8_t sig[CG_KEY_SIG_LEN]);
/* 0 when sig is this key's signature of msg[0..n), else CG_ECORRUPT
 * (CG_ENOMEM when OpenSSL cannot allocate its context). */
int cg_key_verify(const cg_key *k, const void *msg, size_t n, const uint8_t sig[CG_KEY_SIG_LEN]);

/* ---- signed notes ------------------------------------------------------------- */

/* The key id of this key under name (see above) as a number (the 4 bytes
 * big-endian) in *id. 0; CG_EINVAL when name is not a key name; CG_ENOMEM. */
int cg_note_key_id(const cg_key *k, const char *name, uint32_t *id);

/* Signs text (NUL-terminated) as a signed note under name: *out (malloc,
 * NUL-terminated, the caller frees) is text, "\n" and one signature line;
 * *outlen (may be NULL) its length. CG_EINVAL when name is not a valid key
 * name, or text is empty, does not end in "\n", is not valid UTF-8 or holds
 * a control character other than "\n", or the note would be longer than
 * CG_NOTE_MAX_LEN; CG_EINVAL for a public-only key; CG_ENOMEM. */
int cg_note_sign(const cg_key *k, const char *name, const char *text, char **out, size_t *outlen);

/* Verifies note[0..len) (need not be NUL-terminated) against this key under
 * name. On success returns 0 and *text_len is the length of the signed text
 * (a prefix of note, its final "\n" included). Every signature line is
 * parsed (at most CG_NOTE_MAX_SIGS of them); the lines of other keys (a
 * different name or key id) are ignored, as the spec says; every line of
 * this key must verify. Errors, each with "line N: why" in err:
 *   CG_EMALFORMED  not a signed note: invalid UTF-8, a control character, no
 *                  final newline, no blank line before the signatures, a
 *                  signature line that does not parse, too many of them,
 *                  a note longer than CG_NOTE_MAX_LEN
 *   CG_ENOTFOUND   no signature line of this key (the message says when the
 *                  name is there with another key id)
 *   CG_ECORRUPT    a signature line of this key that does not verify: the
 *                  text or the signature was changed */
int cg_note_verify(const cg_key *k, const char *name, const char *note, size_t len,
                   size_t *text_len, char *err, size_t errlen);

#define CG_NOTE_MAX_SIGS 100       /* signature lines read in one note */
#define CG_NOTE_MAX_LEN (1u << 20) /* bytes in one note */

/* ---- checkpoints -------------------------------------------------------------- */

/* Writes the checkpoint text "ORIGIN\nSIZE\nBASE64(ROOT)\n" and a NUL into
 * buf[0..cap). Returns its length (the NUL not counted), or CG_EINVAL when
 * origin is empty, not valid UTF-8 or holds a control character, or cap is
 * too small. */
int cg_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[32], char *buf,
                         size_t cap);

/* Parses a checkpoint text text[0..len) (the text of a verified note, final
 * newline included): the origin into origin_out[0..cap) (NUL-terminated),
 * the size and the root. Strict: CG_EMALFORMED with "line N: why" for an
 * empty origin, a size that is not plain decimal or overflows 64 bits, a
 * root that is not the canonical base64 of exactly 32 bytes, an empty
 * extension line, a text without its final newline, invalid UTF-8 or a
 * control character; CG_EINVAL when the origin does not fit in cap. */
int cg_checkpoint_parse(const char *text, size_t len, char *origin_out, size_t cap, uint64_t *size,
                        uint8_t root[32], char *err, size_t errlen);

#endif
