/* stix.h — the pieces of STIX 2.1 that `canhgac share` (cmd_share.c) builds
 * its bundles from: identifiers, timestamps, patterns, TLP 2.0 markings, and
 * which addresses are internal.
 *
 * Specs: STIX 2.1 (OASIS, 2021): §2.9 identifiers (a deterministic SCO id is
 * a UUIDv5 in the namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 of the
 * RFC 8785 canonical JSON of its ID-contributing properties), §3.2
 * timestamps, §9 patterning (a string literal is quoted with ' and escapes
 * ' and \ with \); RFC 4122 §4.3 (UUIDv5: SHA-1 of namespace | name); the
 * TLP 2.0 extension (extension-definition--60a3c5c5-0d10-413e-aab3-
 * 9e08dde9e88d) and its five marking-definition objects, whose ids are
 * OASIS's (cti-stix-common-objects).
 *
 * Invariants: no state; the only allocation is cg_stix_value_id's scratch
 * (freed before it returns); every output is NUL-terminated; a function
 * that returns -1 wrote nothing useful.
 */
#ifndef CG_STIX_H
#define CG_STIX_H

#include <stddef.h>
#include <stdint.h>

/* 36 characters and a NUL */
#define CG_STIX_UUID_LEN 37

/* The SCO namespace of STIX 2.1 §2.9. */
extern const uint8_t cg_stix_ns[16];

/* The UUIDv5 of name[0..len) in namespace ns, lower-case text into out.
 * 0, or -1 when SHA-1 failed (OpenSSL). */
int cg_stix_uuid5(const uint8_t ns[16], const void *name, size_t len, char out[CG_STIX_UUID_LEN]);
/* A random UUIDv4 (OpenSSL's RAND_bytes): 0 or -1. */
int cg_stix_uuid4(char out[CG_STIX_UUID_LEN]);
/* "xxxxxxxx-xxxx-..." -> 16 bytes: 0 or -1. */
int cg_stix_uuid_parse(const char *s, uint8_t out[16]);

/* s as an RFC 8785 (JCS) JSON string, quotes included, into out[0..len):
 * " and \ escaped, control characters as \b \f \n \r \t or \u00xx, the
 * rest as it is (s must be valid UTF-8). The length written, or -1 when it
 * does not fit. */
int cg_stix_jcs_str(const char *s, char *out, size_t len);
/* The deterministic id of an SCO whose one ID-contributing property is
 * value (ipv4-addr, ipv6-addr, domain-name, url): "TYPE--UUIDv5" of
 * {"value":VALUE}. 0 or -1 (too long for out, or out of memory). */
int cg_stix_value_id(const char *type, const char *value, char *out, size_t len);

/* s as the inside of a STIX pattern string literal: ' and \ escaped with a
 * backslash. The length written, or -1 when it does not fit. */
int cg_stix_pattern_str(const char *s, char *out, size_t len);

/* A time in microseconds since the epoch as a STIX timestamp with
 * milliseconds: "2026-12-07T08:00:00.123Z" (25 bytes with the NUL). */
void cg_stix_time(uint64_t us, char out[32]);

/* The TLP 2.0 markings: "clear", "green", "amber", "amber+strict", "red"
 * (case-insensitive). Index 0..4, or -1 for another name. */
#define CG_STIX_NTLP 5
int cg_stix_tlp_find(const char *name);
const char *cg_stix_tlp_id(int i);    /* "marking-definition--94868c89-..." */
const char *cg_stix_tlp_label(int i); /* "TLP:AMBER+STRICT" */
const char *cg_stix_tlp_name(int i);  /* "amber+strict" */
#define CG_STIX_TLP_EXT "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#define CG_STIX_TLP_CREATED "2022-10-01T00:00:00.000Z"

/* Whether a (16 bytes, IPv4 mapped) is internal by its range: RFC 1918
 * (10/8, 172.16/12, 192.168/16), loopback (127/8, ::1), link-local
 * (169.254/16, fe80::/10), unique local (RFC 4193, fc00::/7), unspecified
 * (0.0.0.0/8, ::). The asset file's addresses are the caller's to add. */
int cg_stix_addr_private(const uint8_t a[16]);
/* Whether a is an IPv4 address (::ffff:a.b.c.d). */
int cg_stix_addr_v4(const uint8_t a[16]);

#endif
