/* web_assets.h — the console's pages, embedded in the binary. The table is
 * generated at build time by tools/web_assets.sh from tools/web/ (every file
 * but *.md) into $(B)/web_assets.c: each file's bytes, its content type and
 * an ETag (a quoted prefix of its SHA-256). Sorted by path; "/" is not in it
 * (the server maps it to "/index.html"). */
#ifndef CG_WEB_ASSETS_H
#define CG_WEB_ASSETS_H

#include <stddef.h>

typedef struct cg_web_asset {
    const char *path; /* "/app.js" */
    const char *type; /* "text/javascript; charset=utf-8" */
    const char *etag; /* "\"3f2a...\"" */
    const unsigned char *data;
    size_t len;
} cg_web_asset;

extern const cg_web_asset cg_web_assets[];
extern const size_t cg_web_nassets;

#endif
