/* classify.h — the classification table (classification.config): classtype
 * name -> description and priority.
 *
 * Format (Suricata's): `config classification: name,description,priority`,
 * `#` comments, blank lines. The description runs to the last comma.
 *
 * Contract:
 *  - cg_classes_create presets Suricata 7's stock etc/classification.config.
 *    The first file loaded replaces those presets (as in Suricata, where the
 *    file is the whole table); later files add to it, and a name defined
 *    again keeps the last definition.
 *  - cg_classes_load is all or nothing: on error the table is unchanged and
 *    err holds "file:line: why".
 *  - Names compare without regard to case (Suricata lowercases them).
 */
#ifndef CG_CLASSIFY_H
#define CG_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

typedef struct cg_class {
    char *name, *desc;
    uint8_t prio; /* 1 (high) .. 255 */
} cg_class;

typedef struct cg_classes cg_classes;

int cg_classes_create(cg_classes **out);
void cg_classes_destroy(cg_classes *c);
/* 0, or -1 with "file:line: why" in err (CG_ENOMEM when out of memory). */
int cg_classes_load(cg_classes *c, const char *path, char *err, size_t errlen);

/* The class NAME (name[0..len)), or NULL. */
const cg_class *cg_classes_find(const cg_classes *c, const char *name, size_t len);

uint32_t cg_classes_count(const cg_classes *c);
const cg_class *cg_classes_at(const cg_classes *c, uint32_t i);

#endif
