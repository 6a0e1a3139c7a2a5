/* report_doc.h — a period report laid out as a list of blocks (title,
 * headings, paragraphs, tables, the chart) in one language, built once
 * from a cg_report (report_doc.c) and drawn by the HTML and the PDF
 * writers, so both say the same thing in the same order.
 *
 * Invariants: the document owns its strings; a table's cells are
 * nrows * ncols strings, row 0 the header when head.
 */
#ifndef CG_REPORT_DOC_H
#define CG_REPORT_DOC_H

#include "tools/report.h"

enum { RD_TITLE, RD_H2, RD_P, RD_TABLE, RD_CHART };

typedef struct rd_block {
    int kind;
    char *text; /* RD_TITLE, RD_H2, RD_P */
    size_t ncols, nrows;
    char **cells;   /* RD_TABLE */
    unsigned right; /* columns aligned right (numbers): bit i for column i */
    int head;       /* row 0 is a header (else a table of names and values) */
} rd_block;

typedef struct rd_doc {
    rd_block *b;
    size_t n, cap;
    const cg_report *r;
    const char *lang;
} rd_doc;

/* 0, or -1 out of memory (d freed). */
int cg_rd_build(rd_doc *d, const cg_report *r, const char *lang);
void cg_rd_free(rd_doc *d);

#endif
