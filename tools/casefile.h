/* casefile.h — the case file's format, shared by `canhgac case export` (which
 * writes one) and `canhgac case verify` (which checks one): the manifest, the
 * custody record, and the checks that make a case file trustworthy.
 *
 * A case file is a directory (or a .tar.gz of one directory) holding
 *
 *   case.json             the case, its history, and each incident with its
 *                         alerts, evidence packets (sizes) and history
 *   incidents.csv         the incidents, one row each (README "Incidents")
 *   timeline.html         one self-contained page for a reader who is not a
 *                         specialist
 *   evidence.pcapng       every evidence packet, each with a comment naming
 *                         its incident and alert (absent when none was kept)
 *   flows/FLOW.pcap       whole flows from the sensor's ring, when it held them
 *   rules.rules           the text of every rule that fired, with file:line
 *   custody.json          who exported, when, from where; the store's signed
 *                         checkpoint and one inclusion proof per incident
 *   soc-public.pem        the SOC's public key (SPKI PEM)
 *   MANIFEST.sha256       `sha256sum` lines for every file above, by path
 *   MANIFEST.sha256.sig   the 64-byte Ed25519 signature of MANIFEST.sha256
 *
 * MANIFEST.sha256 (what `sha256sum` writes and `sha256sum -c` reads):
 *
 *     HEX64 " " " " PATH "\n"        (" *" PATH, binary mode, read too)
 *
 * one line per file in byte order of PATH, HEX64 the SHA-256 in lower case
 * (upper case read too); PATH relative to the case's top directory, '/'
 * between its parts, with no empty, "." or ".." part, no backslash (sha256sum
 * escapes such names), no control character, valid UTF-8, at most
 * CG_CASEFILE_PATH_MAX bytes. It lists every file of the case but itself
 * and its signature. The last line's "\n" may be missing.
 *
 * custody.json: one JSON object (UTF-8), members read by the checks:
 *
 *   "format"          CG_CASEFILE_FORMAT
 *   "store"           {"directory": ..., "origin": the store's log origin}
 *   "checkpoint"      the store's checkpoint as a signed note (keys.h), key
 *                     name its origin: the tree the proofs are against
 *   "redact_payload"  true when payloads and HTTP fields were left out
 *   "incidents"       [{"id": N, "leaf_index": N, "leaf_hash": HEX64,
 *                       "leaf_data": BASE64, "path": [HEX64, ...]}, ...]
 *                     leaf_hash = SHA-256(0x00 | leaf_data), leaf_data =
 *                     0x01 | be64 id | the incident's record as stored;
 *                     path the RFC 9162 inclusion proof of leaf leaf_index
 *                     in the checkpoint's tree. leaf_data is absent when
 *                     redact_payload is true: the record holds the payload.
 *   and, for people: "exported_by", "exported_at", "host", "tool", "case",
 *   "key_fingerprint", "files", "evidence", "flows".
 *
 * Invariants of a case that verifies (cg_casefile_check):
 *  1. MANIFEST.sha256 parses, and each file it lists is there with that
 *     SHA-256; every other file is one of the two it does not list.
 *  2. MANIFEST.sha256.sig is 64 bytes and is the key's Ed25519 signature of
 *     MANIFEST.sha256's bytes.
 *  3. custody.json's checkpoint is signed by the same key under its own
 *     origin, which is custody.json's store origin.
 *  4. Each proof's leaf_data (when given) hashes to its leaf_hash, is the
 *     leaf of an incident (kind 1) whose id is the proof's, and the path
 *     proves leaf_hash is leaf leaf_index of the checkpoint's tree.
 *  5. The incidents of case.json and those of custody.json are the same ids.
 *
 * Contract: functions return 0 or a negative error.h code; the parsers and
 * the check report each problem through a callback with the file it is
 * about (a path of the case, as in the manifest) and one line, and go on
 * with the next. Nothing here writes a file or prints; no global state.
 */
#ifndef CG_CASEFILE_H
#define CG_CASEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "store/keys.h"

#define CG_CASEFILE_FORMAT "canhgac-case/1"
#define CG_CASEFILE_MANIFEST "MANIFEST.sha256"
#define CG_CASEFILE_SIG "MANIFEST.sha256.sig"
#define CG_CASEFILE_PUBKEY "soc-public.pem"
#define CG_CASEFILE_CUSTODY "custody.json"
#define CG_CASEFILE_CASE "case.json"

#define CG_CASEFILE_PATH_MAX 1024         /* bytes of one path */
#define CG_CASEFILE_READ_MAX (256u << 20) /* bytes of a file the checks read */

/* A problem: file is a path of the case ("evidence.pcapng"), msg one line
 * without it ("SHA-256 does not match MANIFEST.sha256 line 4"). */
typedef void (*cg_casefile_problem_fn)(void *arg, const char *file, const char *msg);

/* ---- MANIFEST.sha256 ------------------------------------------------------- */

typedef struct cg_manifest_entry {
    char *path;
    uint8_t sha[32];
    uint32_t line; /* 1-based */
} cg_manifest_entry;

typedef struct cg_manifest {
    cg_manifest_entry *e;
    size_t n;
} cg_manifest;

/* NULL when path[0..len) is a path a manifest may list, else why not. */
const char *cg_casefile_path_why(const char *path, size_t len);

/* Parses buf[0..len): every good line into *out (in file order), one
 * problem per bad line ("line N: why", file CG_CASEFILE_MANIFEST). Returns
 * the number of bad lines (0 when all are good; an empty manifest is one
 * problem), or CG_ENOMEM. *out is to be freed with cg_manifest_free either
 * way. */
int cg_manifest_parse(const char *buf, size_t len, cg_manifest *out, cg_casefile_problem_fn fn,
                      void *arg);
void cg_manifest_free(cg_manifest *m);

/* ---- custody.json ---------------------------------------------------------- */

typedef struct cg_custody_proof {
    uint64_t id;
    uint64_t leaf;
    uint8_t leaf_hash[32];
    uint8_t *leaf_data; /* NULL when not given */
    size_t leaf_len;
    unsigned npath;
    uint8_t (*path)[32];
} cg_custody_proof;

typedef struct cg_custody {
    char *origin;     /* store.origin */
    char *checkpoint; /* the signed note */
    size_t checkpoint_len;
    int redacted; /* redact_payload */
    cg_custody_proof *p;
    size_t n;
} cg_custody;

/* Parses custody.json's bytes: the members the checks need, one problem
 * per member that is missing or malformed (file CG_CASEFILE_CUSTODY).
 * Returns the number of problems, or CG_ENOMEM; *out (free it with
 * cg_custody_free either way) holds what parsed. */
int cg_custody_parse(const char *buf, size_t len, cg_custody *out, cg_casefile_problem_fn fn,
                     void *arg);
void cg_custody_free(cg_custody *c);

/* The incident ids of case.json ("incidents"[i]."incident"."incident_id"),
 * in its order, into *ids (malloc; *n of them), scanning it once with no
 * tree built (RFC 8259 syntax checked, nesting up to 64; keys compared as
 * written, escapes not decoded). Returns the number of problems (file
 * CG_CASEFILE_CASE; a syntax error is one, and then no id is given), or
 * CG_ENOMEM. */
int cg_casejson_ids(const char *buf, size_t len, uint64_t **ids, size_t *n,
                    cg_casefile_problem_fn fn, void *arg);

/* ---- the checks ------------------------------------------------------------ */

/* One file of a case as its reader found it: its path (as in a manifest),
 * its SHA-256, and its bytes when cg_casefile_wants(path) (data NULL when it
 * could not be kept: larger than CG_CASEFILE_READ_MAX). */
typedef struct cg_casefile_item {
    const char *path;
    uint8_t sha[32];
    const uint8_t *data;
    size_t len;
} cg_casefile_item;

/* 1 for the files whose bytes the checks read (the manifest, its signature,
 * custody.json, case.json, soc-public.pem). */
int cg_casefile_wants(const char *path);

typedef struct cg_casefile_result {
    size_t files;       /* listed in the manifest and found as listed */
    size_t proofs;      /* inclusion proofs that hold */
    uint64_t tree_size; /* the checkpoint's */
    char origin[128];   /* the checkpoint's, "" when it did not parse */
    int redacted;       /* custody.json says redact_payload */
    unsigned problems;  /* lines given to fn */
} cg_casefile_result;

/* Checks invariants 1 to 5 over items[0..n) (every file of the case, each
 * once) with key (the public key that should have signed; keyname says in
 * the lines which it is, e.g. "soc-public.pem (key SHA256:653aa1...)"; NULL
 * when there is none: the signatures are then problems, not checked). fn gets
 * one line per problem. 0 when all hold, CG_ECORRUPT when fn was called,
 * CG_ENOMEM. *out is written either way. */
int cg_casefile_check(const cg_casefile_item *items, size_t n, const cg_key *key,
                      const char *keyname, cg_casefile_problem_fn fn, void *arg,
                      cg_casefile_result *out);

/* ---- pieces ---------------------------------------------------------------- */

/* SHA-256 of the file at path, read through: 0, CG_EIO (errno set), CG_ENOMEM. */
int cg_casefile_sha256_file(const char *path, uint8_t out[32]);
/* SHA-256 of p[0..n): 0 or CG_ENOMEM. */
int cg_casefile_sha256(const void *p, size_t n, uint8_t out[32]);
/* 64 lower-case hex digits and a NUL. */
void cg_casefile_hex(const uint8_t sha[32], char out[65]);
/* Strict RFC 4648 base64 (padded, canonical) of s[0..len) into a malloc'd
 * *out of *outlen bytes: 0, CG_EMALFORMED, CG_ENOMEM. */
int cg_casefile_unbase64(const char *s, size_t len, uint8_t **out, size_t *outlen);
/* A public key from PEM bytes (through a private scratch file, as keys.h
 * loads only files): 0 or keys.h's codes with err set. */
int cg_casefile_key_from_pem(const uint8_t *pem, size_t len, cg_key **out, char *err,
                             size_t errlen);

#endif
