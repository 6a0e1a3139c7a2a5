/* pcapng_export.c — evidence packets of incidents into one pcapng file. The
 * contract is pcapng_export.h.
 *
 * Invariants:
 *  1. Every packet's bytes are a copy made inside the store's callback (the
 *     store's views end with it); x owns them until destroy.
 *  2. pkts[i].inc indexes incs[], which holds the fields of the comment.
 *  3. write sorts pkts by (ts_us, incident id, seq) once, just before
 *     writing: the order is a total one, so the file is the same whatever
 *     order the incidents were added in.
 */
#include "store/pcapng_export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ex_inc {
    uint64_t id;
    uint32_t gid, sid, rev;
    char *msg;
    int npkts; /* packets of it added */
} ex_inc;

typedef struct ex_pkt {
    uint64_t ts_us;
    uint64_t id; /* the incident's, for the order */
    uint32_t seq;
    int32_t dlt;
    uint32_t caplen, wirelen;
    uint8_t *data;
    size_t inc; /* index into incs */
} ex_pkt;

struct cg_pcapng_export {
    ex_inc *incs;
    size_t ninc, capinc;
    ex_pkt *pkts;
    size_t npkt, cappkt;
    char msg[4352];
};

__attribute__((format(printf, 3, 4))) static int xfail(cg_pcapng_export *x, int code,
                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, sizeof x->msg, fmt, ap);
    va_end(ap);
    return code;
}

int cg_pcapng_export_create(cg_pcapng_export **out)
{
    cg_pcapng_export *x = calloc(1, sizeof *x);
    if (!x)
        return CG_ENOMEM;
    *out = x;
    return 0;
}

void cg_pcapng_export_destroy(cg_pcapng_export *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->npkt; i++)
        free(x->pkts[i].data);
    for (size_t i = 0; i < x->ninc; i++)
        free(x->incs[i].msg);
    free(x->pkts);
    free(x->incs);
    free(x);
}

const char *cg_pcapng_export_error(const cg_pcapng_export *x)
{
    return x ? x->msg : "";
}

/* ---- add --------------------------------------------------------------------- */

typedef struct adding {
    cg_pcapng_export *x;
    size_t inc;
    int nomem;
} adding;

static int take_incident(const cg_incident *inc, void *arg)
{
    adding *a = arg;
    ex_inc *e = &a->x->incs[a->inc];
    e->id = inc->id;
    e->gid = inc->gid;
    e->sid = inc->sid;
    e->rev = inc->rev;
    if (!(e->msg = strdup(inc->msg ? inc->msg : "")))
        a->nomem = 1;
    return 0;
}

static int take_packet(uint32_t seq, const cg_evidence *ev, void *arg)
{
    adding *a = arg;
    cg_pcapng_export *x = a->x;
    if (x->npkt == x->cappkt) {
        size_t cap = x->cappkt ? x->cappkt * 2 : 64;
        ex_pkt *np = realloc(x->pkts, cap * sizeof *np);
        if (!np)
            goto nomem;
        x->pkts = np;
        x->cappkt = cap;
    }
    ex_pkt *p = &x->pkts[x->npkt];
    memset(p, 0, sizeof *p);
    if (ev->caplen && !(p->data = malloc(ev->caplen)))
        goto nomem;
    if (ev->caplen)
        memcpy(p->data, ev->data, ev->caplen);
    p->ts_us = ev->ts_us;
    p->id = x->incs[a->inc].id;
    p->seq = seq;
    p->dlt = ev->dlt;
    p->caplen = ev->caplen;
    p->wirelen = ev->wirelen;
    p->inc = a->inc;
    x->npkt++;
    x->incs[a->inc].npkts++;
    return 0;
nomem:
    a->nomem = 1;
    return 1;
}

int cg_pcapng_export_add(cg_pcapng_export *x, cg_store *st, uint64_t id, uint32_t *added)
{
    if (!x || !st)
        return CG_EINVAL;
    if (x->ninc == x->capinc) {
        size_t cap = x->capinc ? x->capinc * 2 : 16;
        ex_inc *ni = realloc(x->incs, cap * sizeof *ni);
        if (!ni)
            return xfail(x, CG_ENOMEM, "out of memory");
        x->incs = ni;
        x->capinc = cap;
    }
    adding a = { x, x->ninc, 0 };
    size_t npkt0 = x->npkt;
    memset(&x->incs[a.inc], 0, sizeof x->incs[a.inc]);
    int rc = cg_store_get(st, id, take_incident, &a);
    if (rc == 0 && !a.nomem)
        rc = cg_store_evidence(st, id, take_packet, &a);
    if (rc || a.nomem) {
        /* drop what this incident added: x stays as before the call */
        for (size_t i = npkt0; i < x->npkt; i++)
            free(x->pkts[i].data);
        x->npkt = npkt0;
        free(x->incs[a.inc].msg);
        if (a.nomem)
            return xfail(x, CG_ENOMEM, "incident %llu: out of memory", (unsigned long long)id);
        if (rc == CG_ENOTFOUND)
            return xfail(x, CG_ENOTFOUND, "incident %llu: not found", (unsigned long long)id);
        return xfail(x, CG_EIO, "%s", cg_store_error(st));
    }
    if (added)
        *added = (uint32_t)x->incs[a.inc].npkts;
    x->ninc++;
    return 0;
}

/* ---- write ------------------------------------------------------------------- */

static int pkt_order(const void *pa, const void *pb)
{
    const ex_pkt *a = pa, *b = pb;
    if (a->ts_us != b->ts_us)
        return a->ts_us < b->ts_us ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int cg_pcapng_export_write(cg_pcapng_export *x, const char *path, cg_pcapng_export_stats *out)
{
    cg_pcapng *w = NULL;
    cg_pcapng_export_stats s;
    char *comment = NULL;
    size_t clen;
    int rc;

    if (!x || !path)
        return CG_EINVAL;
    if (x->npkt == 0)
        return xfail(x, CG_EEMPTY, "%s: no evidence packet to write", path);
    clen = 65535 + 512; /* a message (at most 65534 bytes) and the rest: never cut here */
    if (!(comment = malloc(clen)))
        return xfail(x, CG_ENOMEM, "%s: out of memory", path);
    qsort(x->pkts, x->npkt, sizeof *x->pkts, pkt_order);
    if ((rc = cg_pcapng_open(&w, path, CG_PCAPNG_EXPORT_USERAPPL)) != 0) {
        xfail(x, rc, "%s", cg_pcapng_error(NULL));
        goto out;
    }
    for (size_t i = 0; i < x->npkt; i++) {
        const ex_pkt *p = &x->pkts[i];
        const ex_inc *e = &x->incs[p->inc];
        /* the message last: a long one is what the writer cuts */
        snprintf(comment, clen, "canhgac incident %llu sid %u:%u rev %u: %s (evidence #%u)",
                 (unsigned long long)e->id, e->gid, e->sid, e->rev, e->msg, p->seq);
        cg_pcapng_packet pk = { .ts_us = p->ts_us,
                                .dlt = p->dlt,
                                .caplen = p->caplen,
                                .wirelen = p->wirelen,
                                .data = p->data,
                                .comment = comment };
        if ((rc = cg_pcapng_write(w, &pk)) != 0)
            break;
    }
    memset(&s, 0, sizeof s);
    s.packets = cg_pcapng_packets(w);
    s.nlinktypes = cg_pcapng_interfaces(w, s.linktypes, 8);
    for (size_t i = 0; i < x->ninc; i++)
        s.incidents += x->incs[i].npkts > 0;
    if (!rc)
        rc = cg_pcapng_commit(w);
    if (rc) {
        xfail(x, rc, "%s", cg_pcapng_error(w));
        goto out;
    }
    if (out)
        *out = s;
out:
    cg_pcapng_close(w);
    free(comment);
    return rc;
}

void cg_pcapng_export_summary(const cg_pcapng_export_stats *s, const char *path, char *buf,
                              size_t len)
{
    size_t o;
    int n;
    if (!buf || len == 0)
        return;
    n = snprintf(buf, len, "%llu packet%s from %llu incident%s written to %s",
                 (unsigned long long)s->packets, s->packets == 1 ? "" : "s",
                 (unsigned long long)s->incidents, s->incidents == 1 ? "" : "s", path);
    if (n < 0 || (size_t)n >= len || s->nlinktypes < 2)
        return;
    o = (size_t)n;
    n = snprintf(buf + o, len - o, " (%zu link types:", s->nlinktypes);
    for (size_t i = 0; i < s->nlinktypes && i < 8 && n >= 0 && (size_t)n < len - o; i++) {
        o += (size_t)n;
        n = snprintf(buf + o, len - o, "%s %d", i ? "," : "", cg_pcapng_linktype(s->linktypes[i]));
    }
    if (n >= 0 && (size_t)n < len - o) {
        o += (size_t)n;
        snprintf(buf + o, len - o, "%s; Wireshark reads every one, tcpdump a file of one only)",
                 s->nlinktypes > 8 ? ", ..." : "");
    }
}
