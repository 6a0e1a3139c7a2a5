/* appctx.c — a flow's application context and the pool of its slots (see
 * appctx.h).
 *
 * Pool invariants:
 *  1. A slot is free (on the free stack) or held by exactly one owner, whose
 *     handle (*owner) is the slot's number + 1.
 *  2. Held slots are on one list in order of use, the least recently used
 *     at the head; stealing takes the head.
 *  3. Nothing is allocated after create.
 */
#include "analyzer/engine/appctx.h"

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct slot {
    cg_appctx c;
    uint32_t *owner;     /* NULL: free */
    uint32_t prev, next; /* use list (held) */
} slot;

struct cg_appctx_pool {
    slot *s;
    uint32_t n;
    uint32_t *free_stack, nfree;
    uint32_t head, tail; /* least and most recently used */
    cg_appctx_stats st;
};

int cg_appctx_pool_create(cg_appctx_pool **out, uint32_t slots)
{
    cg_appctx_pool *p = calloc(1, sizeof *p);
    if (!slots)
        slots = CG_APPCTX_DEFAULT_SLOTS;
    if (!p)
        return -1;
    p->s = calloc(slots, sizeof *p->s); /* zero pages: touched when used */
    p->free_stack = malloc(slots * sizeof *p->free_stack);
    if (!p->s || !p->free_stack) {
        cg_appctx_pool_destroy(p);
        return -1;
    }
    p->n = slots;
    for (uint32_t i = 0; i < slots; i++)
        p->free_stack[i] = slots - 1 - i;
    p->nfree = slots;
    p->head = p->tail = NONE;
    p->st.slots = slots;
    p->st.mem_bytes = sizeof *p + (uint64_t)slots * (sizeof *p->s + sizeof *p->free_stack);
    *out = p;
    return 0;
}

void cg_appctx_pool_destroy(cg_appctx_pool *p)
{
    if (!p)
        return;
    free(p->s);
    free(p->free_stack);
    free(p);
}

static void unlink_slot(cg_appctx_pool *p, uint32_t i)
{
    slot *s = &p->s[i];
    if (s->prev != NONE)
        p->s[s->prev].next = s->next;
    else
        p->head = s->next;
    if (s->next != NONE)
        p->s[s->next].prev = s->prev;
    else
        p->tail = s->prev;
}

static void push_tail(cg_appctx_pool *p, uint32_t i)
{
    slot *s = &p->s[i];
    s->prev = p->tail;
    s->next = NONE;
    if (p->tail != NONE)
        p->s[p->tail].next = i;
    else
        p->head = i;
    p->tail = i;
}

/* Every field empty: the scalars zero and each text's length 0 (its bytes,
 * 6 KB of them, are read only up to the length, so they are not cleared). */
static void clear_ctx(cg_appctx *c)
{
    c->truncated = 0;
    cg_appctx_http *h = &c->http;
    memset(h, 0, offsetof(cg_appctx_http, method));
    h->method.len = h->host.len = h->url.len = h->ua.len = 0;
    h->protocol.len = h->referer.len = h->ctype.len = 0;
    cg_appctx_dns *d = &c->dns;
    memset(d, 0, offsetof(cg_appctx_dns, rrname));
    d->rrname.len = 0;
    cg_appctx_tls *t = &c->tls;
    memset(t, 0, offsetof(cg_appctx_tls, sni));
    t->sni.len = t->subject.len = t->issuerdn.len = t->serial.len = 0;
    t->ja3_hash.len = t->ja3.len = t->ja3s_hash.len = t->ja3s.len = 0;
}

cg_appctx *cg_appctx_take(cg_appctx_pool *p, uint32_t *h)
{
    uint32_t i;
    if (*h) {
        i = *h - 1;
        if (p->tail != i) {
            unlink_slot(p, i);
            push_tail(p, i);
        }
        return &p->s[i].c;
    }
    if (p->nfree) {
        i = p->free_stack[--p->nfree];
        p->st.used++;
        if (p->st.used > p->st.peak)
            p->st.peak = p->st.used;
    } else {
        i = p->head; /* the least recently used flow's */
        unlink_slot(p, i);
        *p->s[i].owner = 0;
        p->st.steals++;
    }
    slot *s = &p->s[i];
    clear_ctx(&s->c);
    s->owner = h;
    *h = i + 1;
    push_tail(p, i);
    p->st.taken++;
    return &s->c;
}

cg_appctx *cg_appctx_of(const cg_appctx_pool *p, uint32_t h)
{
    return h && h <= p->n ? &p->s[h - 1].c : NULL;
}

void cg_appctx_release(cg_appctx_pool *p, uint32_t *h)
{
    if (!*h)
        return;
    uint32_t i = *h - 1;
    unlink_slot(p, i);
    p->s[i].owner = NULL;
    p->free_stack[p->nfree++] = i;
    p->st.used--;
    *h = 0;
}

void cg_appctx_pool_stats(const cg_appctx_pool *p, cg_appctx_stats *out)
{
    *out = p->st;
}

/* ---- copying ---- */

/* The first instance of buffer id of bs into a text field of room bytes;
 * sets bit in *trunc when cut. Absent: empty. */
#define COPY(field, bs, id, bit, trunc) \
    copy_text((field).s, sizeof(field).s, &(field).len, bs, id, bit, trunc)

static void copy_text(char *dst, uint32_t room, uint16_t *len, const cg_bufset *bs, int id,
                      uint32_t bit, uint32_t *trunc)
{
    uint32_t n = 0;
    if (bs->present >> id & 1) {
        n = bs->v[id][0].len;
        if (n > room) {
            n = room;
            *trunc |= bit;
        }
        memcpy(dst, bs->v[id][0].p, n);
    }
    *len = (uint16_t)n;
}

static uint64_t parse_u64(const cg_bufview *v, int *ok)
{
    uint64_t x = 0;
    uint32_t i = 0, digits = 0;
    while (i < v->len && (v->p[i] == ' ' || v->p[i] == '\t'))
        i++;
    for (; i < v->len && v->p[i] >= '0' && v->p[i] <= '9' && digits < 19; i++, digits++)
        x = x * 10 + (uint64_t)(v->p[i] - '0');
    *ok = digits > 0;
    return x;
}

void cg_appctx_http_request(cg_appctx *c, const cg_bufset *bs)
{
    cg_appctx_http *h = &c->http;
    uint32_t *t = &c->truncated;
    *t &= ~(uint32_t)(CG_APPCTX_T_URL | CG_APPCTX_T_UA | CG_APPCTX_T_HOST | CG_APPCTX_T_REFERER |
                      CG_APPCTX_T_CTYPE | CG_APPCTX_T_METHOD | CG_APPCTX_T_PROTOCOL);
    COPY(h->method, bs, CG_BUF_HTTP_METHOD, CG_APPCTX_T_METHOD, t);
    COPY(h->host, bs, CG_BUF_HTTP_HOST, CG_APPCTX_T_HOST, t);
    COPY(h->url, bs, CG_BUF_HTTP_URI_RAW, CG_APPCTX_T_URL, t);
    COPY(h->ua, bs, CG_BUF_HTTP_USER_AGENT, CG_APPCTX_T_UA, t);
    COPY(h->protocol, bs, CG_BUF_HTTP_PROTOCOL, CG_APPCTX_T_PROTOCOL, t);
    COPY(h->referer, bs, CG_BUF_HTTP_REFERER, CG_APPCTX_T_REFERER, t);
    h->ctype.len = 0;
    h->status = 0;
    h->length = 0;
    h->has_request = 1;
    h->has_response = 0;
    h->logged = 0;
    h->requests++;
}

int cg_appctx_http_response(cg_appctx *c, const cg_bufset *bs)
{
    cg_appctx_http *h = &c->http;
    if (h->responses >= h->requests)
        return 0; /* no request waits for it (picked up midstream) */
    h->responses++;
    if (!h->has_request || h->has_response || h->responses != h->requests)
        return 0;
    int ok;
    h->status = 0;
    if (bs->present >> CG_BUF_HTTP_STAT_CODE & 1) {
        uint64_t v = parse_u64(&bs->v[CG_BUF_HTTP_STAT_CODE][0], &ok);
        if (ok && v <= 999)
            h->status = (uint16_t)v;
    }
    COPY(h->ctype, bs, CG_BUF_HTTP_CONTENT_TYPE, CG_APPCTX_T_CTYPE, &c->truncated);
    const char *semi = memchr(h->ctype.s, ';', h->ctype.len); /* as Suricata: the type */
    if (semi)
        h->ctype.len = (uint16_t)(semi - h->ctype.s);
    h->length = 0;
    ok = 0;
    if (bs->present >> CG_BUF_HTTP_CONTENT_LEN & 1)
        h->length = parse_u64(&bs->v[CG_BUF_HTTP_CONTENT_LEN][0], &ok);
    if (!ok && (bs->present >> CG_BUF_HTTP_RESPONSE_BODY & 1))
        h->length = bs->v[CG_BUF_HTTP_RESPONSE_BODY][0].len;
    h->has_response = 1;
    return 1;
}

int cg_appctx_http_unlogged(const cg_appctx *c)
{
    return c->http.has_request && !c->http.logged;
}

void cg_appctx_tls_message(cg_appctx *c, const cg_bufset *bs, int to_server)
{
    cg_appctx_tls *t = &c->tls;
    uint32_t *tr = &c->truncated;
    if (to_server && (bs->present >> CG_BUF_JA3_HASH & 1 || bs->present >> CG_BUF_TLS_SNI & 1)) {
        t->client_hello = 1;
        t->client_version = bs->tls_version;
        COPY(t->sni, bs, CG_BUF_TLS_SNI, CG_APPCTX_T_SNI, tr);
        COPY(t->ja3_hash, bs, CG_BUF_JA3_HASH, 0, tr);
        COPY(t->ja3, bs, CG_BUF_JA3_STRING, CG_APPCTX_T_JA3, tr);
    }
    if (!to_server && (bs->present >> CG_BUF_JA3S_HASH & 1)) {
        t->server_hello = 1;
        t->server_version = bs->tls_version;
        COPY(t->ja3s_hash, bs, CG_BUF_JA3S_HASH, 0, tr);
        COPY(t->ja3s, bs, CG_BUF_JA3S_STRING, CG_APPCTX_T_JA3S, tr);
    }
    if (!to_server && (bs->present >> CG_BUF_TLS_CERTS & 1) && !t->certificate) {
        t->certificate = 1;
        COPY(t->subject, bs, CG_BUF_TLS_CERT_SUBJECT, CG_APPCTX_T_SUBJECT, tr);
        COPY(t->issuerdn, bs, CG_BUF_TLS_CERT_ISSUER, CG_APPCTX_T_ISSUER, tr);
        COPY(t->serial, bs, CG_BUF_TLS_CERT_SERIAL, CG_APPCTX_T_SERIAL, tr);
    }
}

const char *cg_appctx_tls_version_name(uint16_t v, char *out, unsigned outlen)
{
    switch (v) {
    case 0x0002: snprintf(out, outlen, "SSLv2"); break;
    case 0x0300: snprintf(out, outlen, "SSLv3"); break;
    case 0x0301: snprintf(out, outlen, "TLSv1"); break;
    case 0x0302: snprintf(out, outlen, "TLS 1.1"); break;
    case 0x0303: snprintf(out, outlen, "TLS 1.2"); break;
    case 0x0304: snprintf(out, outlen, "TLS 1.3"); break;
    case 0: snprintf(out, outlen, "UNDETERMINED"); break;
    default:
        if ((v & 0xff00) == 0x7f00)
            snprintf(out, outlen, "TLS 1.3 draft-%u", v & 0xffu);
        else
            snprintf(out, outlen, "0x%04x", v);
        break;
    }
    return out;
}

uint16_t cg_appctx_tls_version(const cg_appctx *c)
{
    return c->tls.server_hello ? c->tls.server_version : c->tls.client_version;
}

void cg_appctx_dns_message(cg_appctx *c, const cg_dns_msg *m, const cg_dns_detail *det)
{
    cg_appctx_dns *d = &c->dns;
    d->present = 1;
    d->qr = m->qr;
    d->opcode = m->opcode;
    d->rcode = m->rcode;
    d->id = m->id;
    d->flags = m->flags;
    d->has_query = det && det->nq > 0;
    d->rrname.len = 0;
    d->rrtype = 0;
    c->truncated &= ~(uint32_t)CG_APPCTX_T_RRNAME;
    if (d->has_query) {
        uint32_t n = det->q[0].name_len;
        if (n > sizeof d->rrname.s) {
            n = sizeof d->rrname.s;
            c->truncated |= CG_APPCTX_T_RRNAME;
        }
        memcpy(d->rrname.s, det->q[0].name, n);
        d->rrname.len = (uint16_t)n;
        d->rrtype = det->q[0].type;
    }
}

/* ---- alerts ---- */

uint32_t cg_alert_excerpt(const cg_alert_info *ai, uint32_t max, const uint8_t **out,
                          uint32_t *match_at)
{
    if (max == 0)
        max = CG_ALERT_EXCERPT_DEFAULT;
    if (max > CG_ALERT_EXCERPT_MAX)
        max = CG_ALERT_EXCERPT_MAX;
    *match_at = CG_ALERT_NO_MATCH;
    *out = ai->data;
    if (!ai->data || ai->len == 0)
        return 0;
    uint32_t len = ai->len, start = 0;
    if (ai->match_end != CG_ALERT_NO_MATCH && ai->match_end <= len) {
        start = ai->match_end > max / 2 ? ai->match_end - max / 2 : 0;
        if (len - start < max)
            start = len > max ? len - max : 0;
        *match_at = ai->match_end - start;
    }
    uint32_t n = len - start < max ? len - start : max;
    *out = ai->data + start;
    return n;
}
