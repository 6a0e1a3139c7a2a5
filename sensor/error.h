/* error.h — the library's one error model.
 *
 * Every function of sensor/, analyzer/ and store/ that can fail returns 0
 * (or a count, a size, 1 for "one more") on success and a negative CG_E*
 * code on failure; one range for the whole library, as LMDB has one, so that
 * cg_strerror names any code whatever module returned it. Codes are small
 * negative numbers; a positive number given to cg_strerror is an errno
 * value (strerror's text).
 *
 * The code says what kind of failure it was; where it was is said beside it,
 * in the message the function wrote: a caller's char *err buffer ("FILE:LINE:
 * COLUMN: why" for the rule, variable, classification, asset and policy files;
 * "FILE: packet N: why" for captures; "store DIR: why" for the store), or the
 * handle's last message (cg_store_error, cg_pcapng_error). A message always
 * starts with the file, directory or interface it is about, and is one line.
 *
 * Invariants: CG_EFAIL (-1) is the code of a function whose message says all
 * (most of the file parsers); CG_ENOMEM (-2) is always out of memory, so a
 * caller can tell "this input is bad" (keep going, count it) from "nothing
 * more can be done" (stop); no two codes share a value; the values never
 * change (tests and the store's record of failures compare them).
 */
#ifndef CG_ERROR_H
#define CG_ERROR_H

enum {
    CG_OK = 0,
    CG_EFAIL = -1,         /* failed: the message says why */
    CG_ENOMEM = -2,        /* out of memory */
    CG_EIO = -3,           /* cannot open, create, read or write (permission, disk) */
    CG_EINVAL = -4,        /* a bad argument, or a call the handle cannot take */
    CG_ENOTFOUND = -5,     /* no such thing (store, incident, record) */
    CG_EBUSY = -6,         /* another process holds it (the store's writer) */
    CG_EFULL = -7,         /* no room: the store's map is full, or its disk */
    CG_ECORRUPT = -8,      /* damaged, or not what it should be (a store page, a record) */
    CG_ENEWER = -9,        /* written by a newer version */
    CG_EOLDER = -10,       /* written by an older version that cannot be read as it is */
    CG_EEMPTY = -11,       /* nothing to write */
    CG_ETRUNCATED = -12,   /* runs past the bytes captured */
    CG_EMALFORMED = -13,   /* bytes that break their format */
    CG_EUNSUPPORTED = -14, /* a link type, protocol or feature not handled */
    CG_EEXIST = -15,       /* already there (a user name taken) */
    CG_EPERM = -16,        /* refused: a wrong password, a disabled account */
    /* DNS names (RFC 1035 §4.1.4): kinds of CG_EMALFORMED, counted apart */
    CG_EDNS_LABEL = -20,       /* label type 01/10, i.e. length byte 64..191 */
    CG_EDNS_NAME_LEN = -21,    /* name over 255 bytes on the wire */
    CG_EDNS_LOOP = -22,        /* compression pointer into the name's own path */
    CG_EDNS_PTR_FORWARD = -23, /* compression pointer forward */
    CG_EDNS_PTR_RANGE = -24,   /* compression pointer into the header or past the end */
    CG_EDNS_HOPS = -25,        /* more than CG_DNS_MAX_HOPS pointers in one name */
};

/* A short text for code: "ok", "out of memory", "compression loop", ...;
 * strerror's for a positive errno value; "unknown error" for a code that is
 * not one. Never NULL; the text is static. */
const char *cg_strerror(int code);

#endif
