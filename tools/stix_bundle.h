/* stix_bundle.h — a STIX 2.1 bundle of incidents, as `canhgac share`
 * (cmd_share.c) writes it: one JSON object a line into a FILE, each written
 * as soon as it is built (json-c), so memory holds the ids already given,
 * not the bundle. README "Sharing (STIX 2.1)" lists what it holds.
 *
 * Specs: STIX 2.1 (OASIS 2021; objects §4-§6, SCO ids §2.9, patterning
 * §9); the TLP 2.0 marking extension; the OASIS incident core extension
 * (extension-definition--ef765651-680c-498d-9894-99799f2fa126: only its
 * extension_type, determination and investigation_status); canhgac's own
 * property extension (CG_STIX_EXT_ID, defined in the bundle's head by an
 * extension-definition object whose schema text lists its properties).
 *
 * Order: cg_stix_bundle_init, cg_stix_bundle_head (the bundle's opening,
 * the SOC's identity, the marking, the extension's definition), then
 * cg_stix_bundle_incident per incident (ascending id: its observables and
 * indicators not given yet, the incident, its observed-data, a sighting per
 * indicator, relationships), cg_stix_bundle_tail, cg_stix_bundle_free.
 *
 * Invariants:
 *  1. No redacted value leaves: an internal address (its range, stix.h, or
 *     a side the asset file gave an agency or zone) appears nowhere — no
 *     observable, pattern, name, description, Community ID (a hash of the
 *     addresses, guessable over a /8) or reverse-lookup name — unless allow
 *     has CG_SHARE_INTERNAL; agency and zone names only with
 *     CG_SHARE_AGENCY; URLs, the method, user agents and payload bytes only
 *     with CG_SHARE_PAYLOAD. Domains are not payload. An internal address is
 *     never an indicator.
 *  2. Ids are deterministic: observables by §2.9; the identity, incidents,
 *     observed-data, indicators, sightings and relationships by UUIDv5 in
 *     canhgac's namespace of the identity's name and what they stand for;
 *     each observable and indicator is written once per bundle.
 *  3. Every object but the marking refers to the marking; every list is
 *     non-empty (STIX's schemas refuse empty ones).
 *  4. A failure (out of memory, a write) is kept in err (an errno), the
 *     first one; the functions do nothing more useful after it.
 */
#ifndef CG_STIX_BUNDLE_H
#define CG_STIX_BUNDLE_H

#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define CG_STIX_EXT_ID "extension-definition--53ead1cb-92ce-441d-ba62-199ae48613ca"

typedef struct cg_stix_bundle {
    FILE *f;
    const char *identity; /* the SOC's name: the caller's, kept until free */
    char identity_id[80];
    int tlp; /* stix.h's index */
    const char *tlp_id;
    unsigned allow; /* CG_SHARE_* of analyzer/output/policy.h */
    uint64_t now_us;
    char now[32];
    struct cg_stix_seen *seen; /* the ids of the observables and indicators given */
    int err;                   /* the first failure: an errno */
    uint64_t nobj, incidents, indicators, sightings, observed, relationships, scos;
} cg_stix_bundle;

/* 0, or -1 out of memory (free it all the same). */
int cg_stix_bundle_init(cg_stix_bundle *b, FILE *f, const char *identity, int tlp, unsigned allow,
                        uint64_t now_us);
void cg_stix_bundle_head(cg_stix_bundle *b, const char *bundle_id);
/* The objects of one incident; arg is the bundle (a cg_store_get callback:
 * it calls nothing of the store). Returns 1 after a failure, else 0. */
int cg_stix_bundle_incident(const cg_incident *inc, void *arg);
void cg_stix_bundle_tail(cg_stix_bundle *b);
void cg_stix_bundle_free(cg_stix_bundle *b);

#endif
