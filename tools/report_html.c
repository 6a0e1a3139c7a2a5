/* report_html.c — a period report as one self-contained HTML5 page: no
 * external resource (the style inline, the chart an inline SVG), every
 * text escaped (& < > " '), tags balanced (tests/e2e_report.sh parses it).
 */
#include <stdio.h>
#include <string.h>

#include "tools/report_doc.h"

static const char *const sev_color[RPT_NSEV] = { "#c0392b", "#e67e22", "#f1c40f", "#7f8c8d" };

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void chart(FILE *f, const cg_report *r, const char *lang)
{
    const double W = 900, H = 300, L = 60, B = 50, T = 30;
    uint64_t max = 1;
    size_t n = r->ndays;
    for (size_t i = 0; i < n; i++) {
        uint64_t t = 0;
        for (int s = 0; s < RPT_NSEV; s++)
            t += r->by_day[i][s];
        if (t > max)
            max = t;
    }
    double pw = W - L - 20, ph = H - B - T, bw = pw / (double)(n ? n : 1);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>",
            W, H, W, H);
    esc(f, cg_report_label(lang, "by_day"));
    fputs("</title>", f);
    /* axes and the scale: 0, half, max */
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>", L, T, L,
            T + ph);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>", L, T + ph,
            L + pw, T + ph);
    for (int k = 0; k <= 2; k++) {
        uint64_t v = max * (uint64_t)k / 2;
        double y = T + ph - ph * (double)v / (double)max;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%llu</text>",
                L - 4, y + 4, (unsigned long long)v);
    }
    for (size_t i = 0; i < n; i++) {
        double y = T + ph;
        for (int s = 0; s < RPT_NSEV; s++) {
            double h = ph * (double)r->by_day[i][s] / (double)max;
            if (h <= 0)
                continue;
            y -= h;
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                    L + bw * (double)i + bw * 0.1, y, bw * 0.8, h, sev_color[s]);
        }
    }
    /* the first, middle and last day under the axis */
    size_t marks[3] = { 0, n / 2, n ? n - 1 : 0 };
    for (int k = 0; k < 3 && n; k++) {
        char day[16];
        if (k && marks[k] == marks[k - 1])
            continue;
        cg_report_day(r->day_start_us[marks[k]], day, sizeof day);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>",
                L + bw * ((double)marks[k] + 0.5), T + ph + 16, day);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">", L + pw / 2,
            H - 8);
    esc(f, cg_report_label(lang, "day"));
    fprintf(f,
            "</text><text x=\"14\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 14 %.1f)\">",
            T + ph / 2, T + ph / 2);
    esc(f, cg_report_label(lang, "incidents"));
    fputs("</text>", f);
    for (int s = 0; s < RPT_NSEV; s++) {
        static const char *const k[RPT_NSEV] = { "sev1", "sev2", "sev3", "sev4" };
        double x = L + 10 + 130 * s;
        fprintf(f,
                "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/><text "
                "x=\"%.1f\" y=\"18\" font-size=\"12\">",
                x, sev_color[s], x + 16);
        esc(f, cg_report_label(lang, k[s]));
        fputs("</text>", f);
    }
    fputs("</svg>\n", f);
}

int cg_report_html(const cg_report *r, const char *lang, FILE *f)
{
    rd_doc d;
    if (cg_rd_build(&d, r, lang))
        return -1;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
            lang);
    esc(f, cg_report_label(lang, "title"));
    fputs(" ", f);
    esc(f, r->from);
    fputs(" – ", f);
    esc(f, r->to);
    fputs("</title>\n<style>\n"
          "body{font-family:'DejaVu Sans','Noto Sans',sans-serif;margin:2em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0 1em}\n"
          "th,td{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}\n"
          "th{background:#eee}\ntd.n{text-align:right}\n"
          "h1{margin-bottom:0}\nh2{border-bottom:1px solid #999;margin-top:1.5em}\n"
          "</style>\n</head>\n<body>\n",
          f);
    for (size_t i = 0; i < d.n; i++) {
        const rd_block *b = &d.b[i];
        switch (b->kind) {
        case RD_TITLE:
            fputs("<h1>", f);
            esc(f, b->text);
            fputs("</h1>\n", f);
            break;
        case RD_H2:
            fputs("<h2>", f);
            esc(f, b->text);
            fputs("</h2>\n", f);
            break;
        case RD_P:
            fputs("<p>", f);
            esc(f, b->text);
            fputs("</p>\n", f);
            break;
        case RD_CHART: chart(f, r, lang); break;
        case RD_TABLE:
            fputs("<table>\n", f);
            for (size_t y = 0; y < b->nrows; y++) {
                fputs("<tr>", f);
                for (size_t x = 0; x < b->ncols; x++) {
                    const char *tag = y == 0 && b->head ? "th" : "td";
                    fprintf(f, "<%s%s>", tag,
                            (y || !b->head) && (b->right >> x & 1) ? " class=\"n\"" : "");
                    esc(f, b->cells[y * b->ncols + x]);
                    fprintf(f, "</%s>", tag);
                }
                fputs("</tr>\n", f);
            }
            fputs("</table>\n", f);
            break;
        }
    }
    fputs("</body>\n</html>\n", f);
    cg_rd_free(&d);
    return ferror(f) ? -1 : 0;
}
