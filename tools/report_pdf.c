/* report_pdf.c — a period report as a PDF: A4 pages drawn with cairo, text
 * laid out by pango (DejaVu Sans, from Debian's fonts-dejavu-core, which
 * has the Vietnamese letters: ă â đ ê ô ơ ư and the five tone marks), the
 * chart drawn with cairo. Tables break across pages, their header row
 * repeated; each page has "Page N of M" at its foot.
 *
 * Fonts: pango's default font map, released with fontconfig's caches when
 * the PDF is written (one report per process).
 *
 * The document is laid out twice: a first pass without drawing counts the
 * pages (for "of M"), the second draws them. Both passes place every block
 * by the same code, so they agree.
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "tools/report_doc.h"

#define PW 595.28 /* A4 in points */
#define PH 841.89
#define MX 48.0
#define MTOP 50.0
#define MBOT 60.0
#define CW (PW - 2 * MX)
#define PAD 3.0

typedef struct pen {
    cairo_t *cr;
    int draw;
    int page, pages;
    double y;
    const char *lang;
    PangoFontDescription *font, *bold, *h1, *h2;
} pen;

static PangoLayout *lay(pen *p, const char *text, PangoFontDescription *fd, double width)
{
    PangoLayout *l = pango_cairo_create_layout(p->cr);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    if (width > 0)
        pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_text(l, text, -1);
    return l;
}

static double height_of(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)h / PANGO_SCALE;
}

static double width_of(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)w / PANGO_SCALE;
}

static void footer(pen *p)
{
    char t[96];
    if (!p->draw)
        return;
    if (!strcmp(p->lang, "vi"))
        snprintf(t, sizeof t, "%s %d / %d", cg_report_label(p->lang, "page"), p->page, p->pages);
    else
        snprintf(t, sizeof t, "%s %d %s %d", cg_report_label(p->lang, "page"), p->page,
                 cg_report_label(p->lang, "of"), p->pages);
    PangoLayout *l = lay(p, t, p->font, -1);
    cairo_move_to(p->cr, PW / 2 - width_of(l) / 2, PH - MBOT + 20);
    pango_cairo_show_layout(p->cr, l);
    g_object_unref(l);
}

static void new_page(pen *p)
{
    footer(p);
    if (p->draw)
        cairo_show_page(p->cr);
    p->page++;
    p->y = MTOP;
}

/* Makes room for h points (a new page when they do not fit, unless the
 * page is still empty). */
static void room(pen *p, double h)
{
    if (p->y + h > PH - MBOT && p->y > MTOP)
        new_page(p);
}

static void para(pen *p, const char *text, PangoFontDescription *fd, double before, double after)
{
    PangoLayout *l = lay(p, text, fd, CW);
    double h = height_of(l);
    p->y += before;
    room(p, h + (fd == p->h2 ? 40 : 0)); /* a heading stays with what follows */
    if (p->draw) {
        cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
        cairo_move_to(p->cr, MX, p->y);
        pango_cairo_show_layout(p->cr, l);
        if (fd == p->h2) {
            cairo_set_line_width(p->cr, 0.6);
            cairo_move_to(p->cr, MX, p->y + h + 1);
            cairo_line_to(p->cr, MX + CW, p->y + h + 1);
            cairo_stroke(p->cr);
        }
    }
    p->y += h + after;
    g_object_unref(l);
}

static void table_row(pen *p, const rd_block *b, size_t y, const double *w, int header)
{
    double h = 0, x = MX;
    PangoLayout *ls[16];
    size_t nc = b->ncols < 16 ? b->ncols : 16;
    for (size_t c = 0; c < nc; c++) {
        ls[c] = lay(p, b->cells[y * b->ncols + c], header ? p->bold : p->font, w[c] - 2 * PAD);
        if ((b->right >> c & 1) && !header)
            pango_layout_set_alignment(ls[c], PANGO_ALIGN_RIGHT);
        double ch = height_of(ls[c]);
        if (ch > h)
            h = ch;
    }
    h += 2 * PAD;
    if (p->draw) {
        for (size_t c = 0; c < nc; c++) {
            if (header) {
                cairo_set_source_rgb(p->cr, 0.92, 0.92, 0.92);
                cairo_rectangle(p->cr, x, p->y, w[c], h);
                cairo_fill(p->cr);
            }
            cairo_set_source_rgb(p->cr, 0.6, 0.6, 0.6);
            cairo_set_line_width(p->cr, 0.5);
            cairo_rectangle(p->cr, x, p->y, w[c], h);
            cairo_stroke(p->cr);
            cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
            cairo_move_to(p->cr, x + PAD, p->y + PAD);
            pango_cairo_show_layout(p->cr, ls[c]);
            x += w[c];
        }
    }
    for (size_t c = 0; c < nc; c++)
        g_object_unref(ls[c]);
    p->y += h;
}

static double row_height(pen *p, const rd_block *b, size_t y, const double *w)
{
    double h = 0;
    for (size_t c = 0; c < b->ncols && c < 16; c++) {
        PangoLayout *l = lay(p, b->cells[y * b->ncols + c], p->font, w[c] - 2 * PAD);
        double ch = height_of(l);
        g_object_unref(l);
        if (ch > h)
            h = ch;
    }
    return h + 2 * PAD;
}

static void table(pen *p, const rd_block *b)
{
    double w[16] = { 0 }, sum = 0;
    size_t nc = b->ncols < 16 ? b->ncols : 16;
    /* natural widths, then scaled down to the page when wider */
    for (size_t y = 0; y < b->nrows; y++)
        for (size_t c = 0; c < nc; c++) {
            PangoLayout *l =
                lay(p, b->cells[y * b->ncols + c], y == 0 && b->head ? p->bold : p->font, -1);
            double cw = width_of(l) + 2 * PAD + 1;
            g_object_unref(l);
            if (cw > w[c])
                w[c] = cw;
        }
    for (size_t c = 0; c < nc; c++) {
        if (w[c] > CW * 0.6)
            w[c] = CW * 0.6;
        sum += w[c];
    }
    if (sum > CW)
        for (size_t c = 0; c < nc; c++)
            w[c] *= CW / sum;
    for (size_t y = 0; y < b->nrows; y++) {
        int header = y == 0 && b->head;
        double h = row_height(p, b, y, w);
        if (p->y + h > PH - MBOT && p->y > MTOP) {
            new_page(p);
            if (b->head && y > 0)
                table_row(p, b, 0, w, 1); /* the header again */
        }
        table_row(p, b, y, w, header);
    }
    p->y += 10;
}

static void chart(pen *p, const cg_report *r)
{
    static const double col[RPT_NSEV][3] = { { 0.75, 0.22, 0.17 },
                                             { 0.9, 0.49, 0.13 },
                                             { 0.95, 0.77, 0.06 },
                                             { 0.5, 0.55, 0.55 } };
    static const char *const k[RPT_NSEV] = { "sev1", "sev2", "sev3", "sev4" };
    const double H = 210, L = 40, T = 22, B = 32, pw = CW - L - 5, ph = H - T - B;
    uint64_t max = 1;
    size_t n = r->ndays;
    char buf[32];

    room(p, H);
    if (!p->draw) {
        p->y += H + 6;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t t = 0;
        for (int s = 0; s < RPT_NSEV; s++)
            t += r->by_day[i][s];
        if (t > max)
            max = t;
    }
    double x0 = MX + L, y0 = p->y + T, bw = pw / (double)(n ? n : 1);
    cairo_t *cr = p->cr;
    for (int s = 0; s < RPT_NSEV; s++) { /* the legend */
        double lx = x0 + 110 * s;
        cairo_set_source_rgb(cr, col[s][0], col[s][1], col[s][2]);
        cairo_rectangle(cr, lx, p->y + 2, 9, 9);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        PangoLayout *l = lay(p, cg_report_label(p->lang, k[s]), p->font, -1);
        cairo_move_to(cr, lx + 12, p->y);
        pango_cairo_show_layout(cr, l);
        g_object_unref(l);
    }
    for (size_t i = 0; i < n; i++) {
        double y = y0 + ph;
        for (int s = 0; s < RPT_NSEV; s++) {
            double h = ph * (double)r->by_day[i][s] / (double)max;
            if (h <= 0)
                continue;
            y -= h;
            cairo_set_source_rgb(cr, col[s][0], col[s][1], col[s][2]);
            cairo_rectangle(cr, x0 + bw * (double)i + bw * 0.1, y, bw * 0.8, h);
            cairo_fill(cr);
        }
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, x0, y0);
    cairo_line_to(cr, x0, y0 + ph);
    cairo_line_to(cr, x0 + pw, y0 + ph);
    cairo_stroke(cr);
    for (int q = 0; q <= 2; q++) { /* the scale */
        uint64_t v = max * (uint64_t)q / 2;
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
        PangoLayout *l = lay(p, buf, p->font, -1);
        cairo_move_to(cr, x0 - 4 - width_of(l), y0 + ph - ph * (double)v / (double)max - 6);
        pango_cairo_show_layout(cr, l);
        g_object_unref(l);
    }
    size_t marks[3] = { 0, n / 2, n ? n - 1 : 0 };
    for (int q = 0; q < 3 && n; q++) {
        if (q && marks[q] == marks[q - 1])
            continue;
        cg_report_day(r->day_start_us[marks[q]], buf, sizeof buf);
        PangoLayout *l = lay(p, buf, p->font, -1);
        double cx = x0 + bw * ((double)marks[q] + 0.5) - width_of(l) / 2;
        if (cx + width_of(l) > MX + CW)
            cx = MX + CW - width_of(l);
        cairo_move_to(cr, cx, y0 + ph + 2);
        pango_cairo_show_layout(cr, l);
        g_object_unref(l);
    }
    PangoLayout *l = lay(p, cg_report_label(p->lang, "day"), p->font, -1);
    cairo_move_to(cr, x0 + pw / 2 - width_of(l) / 2, y0 + ph + 16);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    l = lay(p, cg_report_label(p->lang, "incidents"), p->font, -1);
    cairo_save(cr);
    cairo_move_to(cr, MX, y0 + ph / 2 + width_of(l) / 2);
    cairo_rotate(cr, -G_PI / 2);
    pango_cairo_show_layout(cr, l);
    cairo_restore(cr);
    g_object_unref(l);
    p->y += H + 6;
}

static void lay_out(pen *p, const rd_doc *d)
{
    p->page = 1;
    p->y = MTOP;
    for (size_t i = 0; i < d->n; i++) {
        const rd_block *b = &d->b[i];
        switch (b->kind) {
        case RD_TITLE: para(p, b->text, p->h1, 0, 4); break;
        case RD_H2: para(p, b->text, p->h2, 10, 6); break;
        case RD_P: para(p, b->text, p->font, 0, 6); break;
        case RD_TABLE: table(p, b); break;
        case RD_CHART: chart(p, d->r); break;
        }
    }
    footer(p);
}

int cg_report_pdf(const cg_report *r, const char *lang, const char *path, char *err, size_t errlen,
                  int *pages)
{
    rd_doc d;
    pen p;
    cairo_surface_t *sf;
    int rc = 0;

    if (cg_rd_build(&d, r, lang)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sf = cairo_pdf_surface_create(path, PW, PH);
    if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "%s", cairo_status_to_string(cairo_surface_status(sf)));
        cairo_surface_destroy(sf);
        cg_rd_free(&d);
        return -1;
    }
    {
        char title[160];
        snprintf(title, sizeof title, "%s %s – %s", cg_report_label(lang, "title"), r->from, r->to);
        cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE, title);
        cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "canhgac report");
    }
    memset(&p, 0, sizeof p);
    p.cr = cairo_create(sf);
    p.lang = lang;
    p.font = pango_font_description_from_string("DejaVu Sans 8.5");
    p.bold = pango_font_description_from_string("DejaVu Sans Bold 8.5");
    p.h1 = pango_font_description_from_string("DejaVu Sans Bold 18");
    p.h2 = pango_font_description_from_string("DejaVu Sans Bold 12");
    lay_out(&p, &d); /* counts the pages */
    p.pages = p.page;
    p.draw = 1;
    lay_out(&p, &d);
    cairo_show_page(p.cr);
    *pages = p.pages;
    cairo_destroy(p.cr);
    cairo_surface_finish(sf);
    if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "%s", cairo_status_to_string(cairo_surface_status(sf)));
        rc = -1;
    }
    cairo_surface_destroy(sf);
    pango_font_description_free(p.font);
    pango_font_description_free(p.bold);
    pango_font_description_free(p.h1);
    pango_font_description_free(p.h2);
    cg_rd_free(&d);
    /* fontconfig's and pango's caches live for the process: the report is
     * made once, so they go now (a leak checker sees none) */
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    FcFini();
    return rc;
}
