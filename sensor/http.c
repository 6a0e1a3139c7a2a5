/* http.c — incremental HTTP/1.x parser of both directions of TCP flows (see
 * http.h for the contract; RFC 9112 framing, RFC 3986 5.2.4 dot segments,
 * libhtp's normalizations).
 *
 * Layout:
 *  - slots: the per-flow states (struct slot), one per flow that passed the
 *    probe; free list, then never-used ones (pages touched on first use).
 *  - two message pools, mp[1] for requests, mp[0] for responses: struct msg
 *    plus, in one big block, each message's header block, normalized fields,
 *    body and zlib arena. A direction holds at most one message buffer.
 *  - ent: the header table of the message being built (one per cg_http: the
 *    build runs to completion inside one call).
 *
 * Per direction (struct hdir), the state machine:
 *
 *   IDLE --probe yes--> HEAD --blank line--> BODY_CL | BODY_CHUNK | BODY_EOF | BODY_UNTIL
 *    ^  \                 |  (no body)                 |   (body complete)
 *    |   probe no         +--------------> deliver <---+
 *    |     v                                   |
 *    +-- RESYNC_SKIP (to the next LF) <-- bad start line, bad chunk, too long, gap
 *   IDLE <------------------------------------+  (CONNECT request: CONNECT_WAIT)
 *   any --END--> ENDED;   101 / CONNECT 2xx --> flow done;   gap in BODY_EOF --> SKIP
 *
 * IDLE with quiet set is the resync probe: a failed probe there is not a parse
 * error. A good start line clears quiet.
 *
 * Invariants:
 *  1. d->msg != 0 iff the direction has a message whose delivery is pending:
 *     from the first byte of its start line (st HEAD) to its delivery (end of
 *     body, body limit, END, GAP). It is never held in IDLE, RESYNC_SKIP,
 *     CONNECT_WAIT, SKIP, ENDED.
 *  2. In HEAD: hdr[0..hlen) are the message's bytes as sent; fle != 0 once
 *     the first line has ended, and then that line was validated; ls is the
 *     start of the line being read; hlen <= header_limit.
 *  3. blen <= the pool's body limit; views delivered point into hdr, norm and
 *     body of the message, which is given back right after the callback.
 *  4. Every step of the feed loop consumes a byte or changes state, and the
 *     states entered without consuming (IDLE from a bad byte, SIZE_WS) always
 *     consume at their next step; a guard turns a stuck direction into SKIP.
 *  5. Nothing here allocates after cg_http_create: zlib gets its memory from
 *     the message's arena through zalloc (zfree is a no-op; the arena is
 *     reset with each inflateInit2).
 *  6. A state is on the state LRU iff it is in use, and then its owner's
 *     handle has st F_HTTP and slot naming it; a message buffer is on its
 *     pool's LRU iff it is held, and then holder names the state whose
 *     direction (the pool's) holds it. used counts are the list lengths.
 */
#include "sensor/http.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sensor/invariant.h"
#include "sensor/reasm.h"

#define MAXH 128u            /* header lines kept per message */
#define RING 16u             /* requests awaiting their response */
#define ZARENA (44u << 10)   /* inflate state (~7 KiB) + 32 KiB window */
#define BOMB_MIN (32u << 10) /* output before the ratio guard applies */
#define ZSTEP (16u << 10)    /* output per inflate call (guard granularity) */
#define EXT_MAX 4096u        /* chunk extension bytes */
#define METHOD_MAX 20u
#define PRE_MAX 16u /* probe carry per direction */
#define HPRE 10u    /* probe carry in the handle */
#define INT64MAX 0x7fffffffffffffffull

/* cg_http_flow.st */
enum { F_NEW = 0, F_HTTP, F_NOT_HTTP, F_IGNORED, F_DONE };

/* hdir.st */
enum {
    D_IDLE = 0,
    D_RESYNC_SKIP,
    D_HEAD,
    D_BODY_CL,
    D_BODY_CHUNK,
    D_BODY_EOF,
    D_BODY_UNTIL,
    D_CONNECT_WAIT,
    D_SKIP,
    D_ENDED
};

/* hdir.ch: chunked body */
enum { C_SIZE = 0, C_SIZE_WS, C_EXT, C_SIZE_LF, C_DATA, C_DATA_CR, C_DATA_LF, C_TRAILER };

/* request kinds, for pairing */
enum { K_OTHER = 0, K_HEAD, K_CONNECT };

/* msg.zmode */
enum { Z_NONE = 0, Z_GZIP, Z_DEFLATE, Z_ON, Z_RAW, Z_END };

/* known header names */
enum {
    HK_NONE = 0,
    HK_HOST,
    HK_UA,
    HK_COOKIE,
    HK_SETCOOKIE,
    HK_CTYPE,
    HK_CLEN,
    HK_REFERER,
    HK_ACCEPT,
    HK_ACCEPT_ENC,
    HK_ACCEPT_LANG,
    HK_CONNECTION,
    HK_LOCATION,
    HK_SERVER,
    HK_TE,
    HK_CE,
    HK_AUTH,
    HK_N
};

/* The buffer a known header's value goes to: [1] requests, [0] responses. */
static const int8_t key_buf[2][HK_N] = {
    [0] = {
        [HK_HOST] = -1, [HK_UA] = -1, [HK_COOKIE] = -1, [HK_SETCOOKIE] = CG_BUF_HTTP_COOKIE,
        [HK_CTYPE] = CG_BUF_HTTP_CONTENT_TYPE, [HK_CLEN] = CG_BUF_HTTP_CONTENT_LEN,
        [HK_REFERER] = -1, [HK_ACCEPT] = -1, [HK_ACCEPT_ENC] = -1, [HK_ACCEPT_LANG] = -1,
        [HK_CONNECTION] = CG_BUF_HTTP_CONNECTION, [HK_LOCATION] = CG_BUF_HTTP_LOCATION,
        [HK_SERVER] = CG_BUF_HTTP_SERVER, [HK_TE] = -1, [HK_CE] = -1, [HK_AUTH] = -1,
    },
    [1] = {
        [HK_HOST] = -1, [HK_UA] = CG_BUF_HTTP_USER_AGENT, [HK_COOKIE] = CG_BUF_HTTP_COOKIE,
        [HK_SETCOOKIE] = -1, [HK_CTYPE] = CG_BUF_HTTP_CONTENT_TYPE,
        [HK_CLEN] = CG_BUF_HTTP_CONTENT_LEN, [HK_REFERER] = CG_BUF_HTTP_REFERER,
        [HK_ACCEPT] = CG_BUF_HTTP_ACCEPT, [HK_ACCEPT_ENC] = CG_BUF_HTTP_ACCEPT_ENC,
        [HK_ACCEPT_LANG] = CG_BUF_HTTP_ACCEPT_LANG, [HK_CONNECTION] = CG_BUF_HTTP_CONNECTION,
        [HK_LOCATION] = -1, [HK_SERVER] = -1, [HK_TE] = -1, [HK_CE] = -1, [HK_AUTH] = -1,
    },
};

typedef struct hdir {
    uint64_t left; /* CL bytes left; chunk bytes left or the size being read */
    uint32_t msg;  /* message buffer: number + 1 in mp[to_server]; 0: none */
    uint32_t aux;  /* chunk: size digits, extension bytes; trailer: line bytes */
    uint8_t st, ch, quiet, npre;
    uint8_t kind;         /* request direction: kind of the last request */
    uint8_t pre[PRE_MAX]; /* a candidate start line's first bytes */
} hdir;

typedef struct slot {
    hdir d[2];           /* [1] client->server, [0] server->client */
    cg_http_flow *owner; /* the handle that holds this state */
    uint32_t prev, next; /* in use: LRU by feed; free: next is the free list */
    uint8_t ring[RING];  /* kinds of requests awaiting a response */
    uint8_t rhead, rcount;
    uint8_t confirmed; /* the client's first line was a request line */
} slot;

typedef struct msg {
    uint32_t prev, next;    /* held: LRU by feed; free: next is the free list */
    uint32_t holder;        /* the slot whose direction holds it: number + 1 */
    uint32_t hlen, ls, fle; /* header bytes; line start; end of the first line (0: not yet) */
    uint32_t hend;          /* end of the header block (0: not complete) */
    uint32_t blen;          /* body bytes kept */
    uint32_t zused;         /* arena bytes zlib took */
    uint32_t p0, l0, p1, l1, p2, l2; /* start line parts: method, target, version /
                                      * protocol, code, message */
    uint16_t status;
    uint8_t kind, zmode, npend, pend;
    uint8_t *hdr, *norm, *body, *zarena;
    z_stream z;
    cg_bufset set;
} msg;

typedef struct mpool {
    msg *m;
    uint8_t *mem;
    uint32_t n, fresh, free, used;
    uint32_t lru, mru; /* held buffers, least recently fed first */
    uint32_t body_limit;
    size_t each; /* bytes of one buffer in mem */
} mpool;

typedef struct hent {
    uint32_t n0, nl;     /* name in hdr */
    uint32_t hash;       /* of the lowercased name: duplicates are looked up by it */
    uint32_t v0, v1;     /* value region in hdr, folded lines included */
    uint16_t next, tail; /* same name: next occurrence, last occurrence (index + 1) */
    uint8_t key, dup, folded;
} hent;

/* What framing needs from the headers. */
typedef struct hinfo {
    int te, te_chunked, cl, cl_ok, ce;
    uint64_t cl_val;
    uint32_t bad_lines, over, norm_over;
} hinfo;

struct cg_http {
    cg_http_config cfg;
    uint32_t norm_cap;
    slot *slots;
    uint32_t nslots, sfresh, sfree;
    uint32_t slru, smru; /* states in use, least recently fed first */
    mpool mp[2];
    hent ent[MAXH];
    cg_http_stats st;
    uint32_t ops; /* feeds, for CG_INVARIANT_SOMETIMES */
};

/* The context of one feed or end call. */
typedef struct run {
    cg_http *h;
    cg_http_flow *hf;
    slot *s;
    cg_http_tx_fn cb;
    void *ctx;
} run;

/* ---- bytes ---- */

static inline uint8_t lc(uint8_t c)
{
    return (uint8_t)((unsigned)(c - 'A') < 26u ? c + 32 : c);
}

static inline int is_ws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static inline int is_mchar(uint8_t c)
{
    return (unsigned)((c | 0x20) - 'a') < 26u || c == '-' || c == '_';
}

static inline int hexval(uint8_t c)
{
    if ((unsigned)(c - '0') < 10u)
        return c - '0';
    if ((unsigned)((c | 0x20) - 'a') < 6u)
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* s[0..n) equals the lowercase literal lit, ignoring case. */
static int ieq(const uint8_t *s, const char *lit, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (lc(s[i]) != (uint8_t)lit[i])
            return 0;
    return 1;
}

static int ieq2(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (lc(a[i]) != lc(b[i]))
            return 0;
    return 1;
}

static uint8_t hkey(const uint8_t *s, uint32_t n)
{
    switch (n) {
    case 4: return ieq(s, "host", 4) ? HK_HOST : HK_NONE;
    case 6:
        if (ieq(s, "cookie", 6))
            return HK_COOKIE;
        if (ieq(s, "accept", 6))
            return HK_ACCEPT;
        return ieq(s, "server", 6) ? HK_SERVER : HK_NONE;
    case 7: return ieq(s, "referer", 7) ? HK_REFERER : HK_NONE;
    case 8: return ieq(s, "location", 8) ? HK_LOCATION : HK_NONE;
    case 10:
        if (ieq(s, "user-agent", 10))
            return HK_UA;
        if (ieq(s, "set-cookie", 10))
            return HK_SETCOOKIE;
        return ieq(s, "connection", 10) ? HK_CONNECTION : HK_NONE;
    case 12: return ieq(s, "content-type", 12) ? HK_CTYPE : HK_NONE;
    case 13: return ieq(s, "authorization", 13) ? HK_AUTH : HK_NONE;
    case 14: return ieq(s, "content-length", 14) ? HK_CLEN : HK_NONE;
    case 15:
        if (ieq(s, "accept-encoding", 15))
            return HK_ACCEPT_ENC;
        return ieq(s, "accept-language", 15) ? HK_ACCEPT_LANG : HK_NONE;
    case 16: return ieq(s, "content-encoding", 16) ? HK_CE : HK_NONE;
    case 17: return ieq(s, "transfer-encoding", 17) ? HK_TE : HK_NONE;
    default: return HK_NONE;
    }
}

/* ---- bounded writer into the normalized area ---- */

typedef struct wbuf {
    uint8_t *p;
    uint32_t len, cap;
    uint32_t over;
} wbuf;

static inline void wput(wbuf *w, const void *s, uint32_t n)
{
    if (n > w->cap - w->len) {
        n = w->cap - w->len;
        w->over = 1;
    }
    if (n)
        memcpy(w->p + w->len, s, n);
    w->len += n;
}

static inline void wbyte(wbuf *w, uint8_t c)
{
    if (w->len < w->cap)
        w->p[w->len++] = c;
    else
        w->over = 1;
}

/* ---- probes ---- */

enum { P_NO, P_MORE, P_YES };

/* A request line's start: method token, SP, a visible target byte. cap: the
 * most bytes the caller can hold; that many method characters are enough. */
static int probe_req(const uint8_t *b, uint32_t n, uint32_t cap)
{
    uint32_t i = 0;
    while (i < n && is_mchar(b[i]))
        i++;
    if (i == n)
        return n >= cap ? P_YES : P_MORE;
    if (i == 0 || b[i] != ' ')
        return P_NO;
    if (++i == n)
        return n >= cap ? P_YES : P_MORE;
    return b[i] > 0x20 && b[i] < 0x7f ? P_YES : P_NO;
}

static int probe_resp(const uint8_t *b, uint32_t n)
{
    static const char want[] = "http/";
    for (uint32_t i = 0; i < n && i < 5; i++)
        if (lc(b[i]) != (uint8_t)want[i])
            return P_NO;
    return n >= 5 ? P_YES : P_MORE;
}

/* ---- pools ----
 *
 * Both pools keep their members in use on an LRU list, moved to its end at
 * every feed of their flow (state) or direction (message buffer). When a pool
 * is empty:
 *  - a message buffer is taken from the least recently fed holder: its
 *    message is dropped, not delivered (the callback's ctx belongs to the
 *    flow being fed, not to the victim), and counted (msg_steals); the victim
 *    direction resyncs if it was in its headers, or frames the rest of its
 *    body without a buffer. So slow senders cannot pin the buffers.
 *  - a state is taken only from a flow idle between transactions (no message
 *    held, no request awaiting its response, no body being framed), among the
 *    8 least recently fed; that flow's handle goes back to "nothing seen"
 *    (its next request is probed again) or, when a direction had ended or
 *    was being skipped, to done (state_steals). Else the new flow is ignored
 *    (pool_exhausted).
 */

#define LRU_UNLINK(arr, head, tail, k)                           \
    do {                                                         \
        uint32_t p_ = (arr)[(k)-1].prev, n_ = (arr)[(k)-1].next; \
        if (p_)                                                  \
            (arr)[p_ - 1].next = n_;                             \
        else                                                     \
            (head) = n_;                                         \
        if (n_)                                                  \
            (arr)[n_ - 1].prev = p_;                             \
        else                                                     \
            (tail) = p_;                                         \
    } while (0)

#define LRU_APPEND(arr, head, tail, k)  \
    do {                                \
        (arr)[(k)-1].prev = (tail);     \
        (arr)[(k)-1].next = 0;          \
        if (tail)                       \
            (arr)[(tail)-1].next = (k); \
        else                            \
            (head) = (k);               \
        (tail) = (k);                   \
    } while (0)

#define LRU_TOUCH(arr, head, tail, k)       \
    do {                                    \
        if ((tail) != (k)) {                \
            LRU_UNLINK(arr, head, tail, k); \
            LRU_APPEND(arr, head, tail, k); \
        }                                   \
    } while (0)

static inline slot *slot_of(cg_http *h, cg_http_flow *hf)
{
    return &h->slots[hf->slot - 1];
}

static inline msg *msg_of(cg_http *h, int ts, uint32_t k)
{
    return &h->mp[ts].m[k - 1];
}

/* Gives the direction's message buffer back, delivered or not. */
static void msg_release(cg_http *h, int ts, hdir *d)
{
    if (!d->msg)
        return;
    mpool *p = &h->mp[ts];
    msg *m = msg_of(h, ts, d->msg);
    if (m->zmode == Z_ON)
        inflateEnd(&m->z);
    if (m->zused > h->st.zarena_peak)
        h->st.zarena_peak = m->zused;
    m->zmode = Z_NONE;
    LRU_UNLINK(p->m, p->lru, p->mru, d->msg);
    m->next = p->free;
    p->free = d->msg;
    p->used--;
    d->msg = 0;
}

/* Gives state k and its buffers back; its owner's handle becomes st. */
static void slot_release(cg_http *h, uint32_t k, uint8_t st)
{
    slot *s = &h->slots[k - 1];
    msg_release(h, 0, &s->d[0]);
    msg_release(h, 1, &s->d[1]);
    LRU_UNLINK(h->slots, h->slru, h->smru, k);
    s->next = h->sfree;
    h->sfree = k;
    h->st.flows_active--;
    cg_http_flow *o = s->owner;
    o->slot = 0;
    o->st = st;
    o->npre = 0;
}

/* A message buffer for direction ts of state holder (number + 1). */
static uint32_t msg_take(cg_http *h, int ts, uint32_t holder)
{
    mpool *p = &h->mp[ts];
    uint32_t k;
    if (!p->free && p->fresh == p->n && p->lru) {
        uint32_t vk = p->m[p->lru - 1].holder;
        slot *vs = &h->slots[vk - 1];
        hdir *vd = &vs->d[ts];
        h->st.msg_steals++;
        if (!vs->confirmed) { /* still being detected: drop the flow */
            h->st.pool_exhausted++;
            slot_release(h, vk, F_IGNORED);
        } else {
            msg_release(h, ts, vd);
            if (vd->st == D_HEAD) {
                vd->st = D_RESYNC_SKIP;
                vd->quiet = 1;
            }
        }
    }
    if (p->free) {
        k = p->free;
        p->free = p->m[k - 1].next;
    } else if (p->fresh < p->n) {
        k = ++p->fresh;
        msg *m = &p->m[k - 1];
        uint8_t *base = p->mem + (size_t)(k - 1) * p->each;
        m->hdr = base;
        m->norm = base + h->cfg.header_limit;
        m->zarena = m->norm + h->norm_cap;
        m->body = m->zarena + ZARENA;
    } else {
        return 0;
    }
    msg *m = &p->m[k - 1];
    LRU_APPEND(p->m, p->lru, p->mru, k);
    m->holder = holder;
    m->hlen = m->ls = m->fle = m->hend = m->blen = m->zused = 0;
    m->p0 = m->l0 = m->p1 = m->l1 = m->p2 = m->l2 = 0;
    m->status = 0;
    m->kind = K_OTHER;
    m->zmode = Z_NONE;
    m->npend = 0;
    cg_bufset_clear(&m->set);
    p->used++;
    uint32_t both = h->mp[0].used + h->mp[1].used;
    if (both > h->st.buffers_peak)
        h->st.buffers_peak = both;
    return k;
}

/* A flow between transactions: taking its state loses nothing in progress. */
static int slot_idle(const slot *s)
{
    if (s->rcount)
        return 0;
    for (int i = 0; i < 2; i++) {
        const hdir *d = &s->d[i];
        if (d->msg || d->npre ||
            !(d->st == D_IDLE || d->st == D_RESYNC_SKIP || d->st == D_SKIP || d->st == D_ENDED))
            return 0;
    }
    return 1;
}

static uint32_t slot_take(cg_http *h, cg_http_flow *owner)
{
    uint32_t k;
    if (!h->sfree && h->sfresh == h->nslots) {
        k = h->slru;
        for (int i = 0; i < 8 && k; i++, k = h->slots[k - 1].next) {
            slot *v = &h->slots[k - 1];
            if (!slot_idle(v))
                continue;
            int again = v->d[0].st == D_IDLE && v->d[1].st == D_IDLE;
            h->st.state_steals++;
            slot_release(h, k, again ? F_NEW : F_DONE);
            break;
        }
    }
    if (h->sfree) {
        k = h->sfree;
        h->sfree = h->slots[k - 1].next;
    } else if (h->sfresh < h->nslots) {
        k = ++h->sfresh;
    } else {
        return 0;
    }
    memset(&h->slots[k - 1], 0, sizeof(slot));
    h->slots[k - 1].owner = owner;
    LRU_APPEND(h->slots, h->slru, h->smru, k);
    if (++h->st.flows_active > h->st.flows_peak)
        h->st.flows_peak = h->st.flows_active;
    return k;
}

/* Gives the flow's state and its message buffers back; hf becomes st. */
static void flow_release(run *r, uint8_t st)
{
    cg_http_flow *hf = r->hf;
    if (hf->st == F_HTTP && hf->slot)
        slot_release(r->h, hf->slot, st);
    hf->slot = 0;
    hf->st = st;
    hf->npre = 0;
    r->s = NULL;
}

static void not_http(run *r)
{
    r->h->st.not_http++;
    flow_release(r, F_NOT_HTTP);
}

static void give_up(run *r)
{
    r->h->st.pool_exhausted++;
    flow_release(r, F_IGNORED);
}

/* ---- start lines ---- */

/* The first line hdr[0..fle-1), without CR and trailing whitespace: its end. */
static uint32_t line1_end(const msg *m)
{
    uint32_t e = m->fle - 1;
    while (e > 0 && (m->hdr[e - 1] == '\r' || is_ws(m->hdr[e - 1])))
        e--;
    return e;
}

/* "METHOD target HTTP/1.x": split at the first and the last whitespace runs. */
static int parse_reqline(msg *m)
{
    const uint8_t *L = m->hdr;
    uint32_t e = line1_end(m), i = 0;
    while (i < e && is_mchar(L[i]))
        i++;
    if (i == 0 || i > METHOD_MAX || i == e || !is_ws(L[i]))
        return 0;
    uint32_t j = e;
    while (j > i && !is_ws(L[j - 1]))
        j--;
    uint32_t k = i;
    while (k < j && is_ws(L[k]))
        k++;
    uint32_t te = j;
    while (te > k && is_ws(L[te - 1]))
        te--;
    if (k >= te || e - j != 8 || !ieq(L + j, "http/1.", 7) || (unsigned)(L[j + 7] - '0') >= 10u)
        return 0;
    m->p0 = 0, m->l0 = i;
    m->p1 = k, m->l1 = te - k;
    m->p2 = j, m->l2 = 8;
    if (i == 4 && memcmp(L, "HEAD", 4) == 0)
        m->kind = K_HEAD;
    else if (i == 7 && memcmp(L, "CONNECT", 7) == 0)
        m->kind = K_CONNECT;
    return 1;
}

/* "HTTP/x.y code message": the protocol token is required, the rest lenient. */
static int parse_respline(msg *m)
{
    const uint8_t *L = m->hdr;
    uint32_t e = line1_end(m), i = 0;
    if (e < 5 || !ieq(L, "http/", 5))
        return 0;
    while (i < e && !is_ws(L[i]))
        i++;
    m->p0 = 0, m->l0 = i;
    while (i < e && is_ws(L[i]))
        i++;
    uint32_t c = i;
    while (i < e && !is_ws(L[i]))
        i++;
    m->p1 = c, m->l1 = i - c;
    while (i < e && is_ws(L[i]))
        i++;
    m->p2 = i, m->l2 = e - i;
    m->status = 0;
    if (m->l1 == 3) {
        uint32_t v = 0;
        for (uint32_t k = 0; k < 3; k++) {
            unsigned dg = (unsigned)(L[c + k] - '0');
            if (dg >= 10u) {
                v = 0;
                break;
            }
            v = v * 10 + dg;
        }
        m->status = (uint16_t)v;
    }
    return 1;
}

/* ---- normalization ---- */

/* A header's value: whitespace trimmed, folded lines joined with one SP. */
static void wvalue(wbuf *w, const uint8_t *H, const hent *e)
{
    uint32_t a = e->v0, b = e->v1;
    while (a < b && (is_ws(H[a]) || H[a] == '\r' || H[a] == '\n'))
        a++;
    while (b > a && (is_ws(H[b - 1]) || H[b - 1] == '\r' || H[b - 1] == '\n'))
        b--;
    if (!e->folded) {
        wput(w, H + a, b - a);
        return;
    }
    while (a < b) {
        if (H[a] == '\r' || H[a] == '\n') {
            while (a < b && (H[a] == '\r' || H[a] == '\n' || is_ws(H[a])))
                a++;
            wbyte(w, ' ');
            continue;
        }
        uint32_t j = a;
        while (j < b && H[j] != '\r' && H[j] != '\n')
            j++;
        wput(w, H + a, j - a);
        a = j;
    }
}

/* Host values: each ", "-separated element trimmed, its port and trailing
 * dots removed, lowercased; joined with ", ". */
static void whost(wbuf *w, const uint8_t *s, uint32_t n)
{
    uint32_t i = 0, first = 1;
    while (i <= n) {
        uint32_t j = i;
        while (j < n && s[j] != ',')
            j++;
        uint32_t a = i, b = j;
        while (a < b && is_ws(s[a]))
            a++;
        while (b > a && is_ws(s[b - 1]))
            b--;
        uint32_t e = a;
        if (a < b && s[a] == '[') {
            while (e < b && s[e] != ']')
                e++;
            if (e < b)
                e++;
        } else {
            while (e < b && s[e] != ':')
                e++;
        }
        while (e > a && s[e - 1] == '.')
            e--;
        if (!first)
            wput(w, ", ", 2);
        first = 0;
        for (uint32_t k = a; k < e; k++)
            wbyte(w, lc(s[k]));
        i = j + 1;
    }
}

#define DEC_U 0x01    /* %uXXXX */
#define DEC_PATH 0x02 /* '\' is '/', runs of '/' collapse */

/* Percent-decoding as libhtp does it with PRESERVE_PERCENT: a '%' that does
 * not start a valid escape is kept and decoding goes on after it. */
static void wdecode(wbuf *w, const uint8_t *s, uint32_t n, int fl)
{
    uint32_t start = w->len;
    for (uint32_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == '%') {
            int h1, h2;
            if ((fl & DEC_U) && i + 1 < n && (s[i + 1] | 0x20) == 'u') {
                if (i + 5 < n && (h1 = hexval(s[i + 2])) >= 0 && (h2 = hexval(s[i + 3])) >= 0 &&
                    hexval(s[i + 4]) >= 0 && hexval(s[i + 5]) >= 0) {
                    uint8_t hi = (uint8_t)(h1 << 4 | h2);
                    uint8_t lo = (uint8_t)(hexval(s[i + 4]) << 4 | hexval(s[i + 5]));
                    if (hi == 0)
                        c = lo;
                    else if (hi == 0xff && lo >= 0x01 && lo <= 0x5e)
                        c = (uint8_t)(lo + 0x20);
                    else
                        c = '?';
                    i += 6;
                } else {
                    i++;
                }
            } else if (i + 2 < n && (h1 = hexval(s[i + 1])) >= 0 && (h2 = hexval(s[i + 2])) >= 0) {
                c = (uint8_t)(h1 << 4 | h2);
                i += 3;
            } else {
                i++;
            }
        } else {
            i++;
        }
        if (fl & DEC_PATH) {
            if (c == '\\')
                c = '/';
            if (c == '/' && w->len > start && w->p[w->len - 1] == '/')
                continue;
        }
        wbyte(w, c);
    }
}

/* RFC 3986 5.2.4 remove_dot_segments, in place (the output never passes the
 * input). Returns the new length. */
static uint32_t remove_dots(uint8_t *s, uint32_t n)
{
    uint32_t r = 0, w = 0;
    while (r < n) {
        uint32_t left = n - r;
        const uint8_t *in = s + r;
        if (left >= 3 && in[0] == '.' && in[1] == '.' && in[2] == '/') {
            r += 3; /* A */
        } else if (left >= 2 && in[0] == '.' && in[1] == '/') {
            r += 2;
        } else if (left >= 3 && in[0] == '/' && in[1] == '.' && in[2] == '/') {
            r += 2; /* B: "/./" -> "/" */
        } else if (left == 2 && in[0] == '/' && in[1] == '.') {
            s[r + 1] = '/'; /* "/." -> "/" */
            r += 1;
        } else if ((left >= 4 && in[0] == '/' && in[1] == '.' && in[2] == '.' && in[3] == '/') ||
                   (left == 3 && in[0] == '/' && in[1] == '.' && in[2] == '.')) {
            if (left == 3) { /* C: "/.." -> "/" */
                s[r + 2] = '/';
                r += 2;
            } else {
                r += 3; /* "/../" -> "/" */
            }
            while (w > 0 && s[w - 1] != '/')
                w--;
            if (w > 0)
                w--;
        } else if ((left == 1 && in[0] == '.') || (left == 2 && in[0] == '.' && in[1] == '.')) {
            r = n; /* D */
        } else {
            s[w++] = s[r++]; /* E */
            while (r < n && s[r] != '/')
                s[w++] = s[r++];
        }
    }
    return w;
}

/* Where the path of a target starts: after "scheme://authority" for an
 * absolute target (*auth, *alen: the authority), 0 otherwise. Returns n for a
 * target that is neither origin-form nor absolute. */
static uint32_t target_path(const uint8_t *t, uint32_t n, uint32_t *auth, uint32_t *alen)
{
    *alen = 0;
    if (n && t[0] == '/')
        return 0;
    uint32_t i = 0;
    while (i < n &&
           ((unsigned)((t[i] | 0x20) - 'a') < 26u ||
            (i > 0 && ((unsigned)(t[i] - '0') < 10u || t[i] == '+' || t[i] == '-' || t[i] == '.'))))
        i++;
    if (i == 0 || i + 3 > n || t[i] != ':' || t[i + 1] != '/' || t[i + 2] != '/')
        return n;
    uint32_t a = i + 3, e = a;
    while (e < n && t[e] != '/' && t[e] != '?' && t[e] != '#')
        e++;
    *auth = a;
    *alen = e - a;
    return e;
}

/* http.uri from the target t[0..n). */
static void wuri(wbuf *w, const uint8_t *t, uint32_t n)
{
    uint32_t auth, alen;
    uint32_t p = target_path(t, n, &auth, &alen);
    if (p == n && !alen) {
        wput(w, t, n); /* "*", authority form, anything else: as sent */
        return;
    }
    uint32_t q = p;
    while (q < n && t[q] != '?' && t[q] != '#')
        q++;
    uint32_t start = w->len;
    wdecode(w, t + p, q - p, DEC_U | DEC_PATH);
    w->len = start + remove_dots(w->p + start, w->len - start);
    if (q < n && t[q] == '?') {
        uint32_t f = q + 1;
        while (f < n && t[f] != '#')
            f++;
        wbyte(w, '?');
        wdecode(w, t + q + 1, f - q - 1, 0);
        q = f;
    }
    if (q < n) {
        wbyte(w, '#');
        wdecode(w, t + q + 1, n - q - 1, DEC_U);
    }
}

/* Content-Length: one or more equal values, each digits up to INT64_MAX. */
static int parse_cl(const uint8_t *s, uint32_t n, uint64_t *out)
{
    uint64_t v = 0;
    int have = 0;
    uint32_t i = 0;
    while (i < n) {
        while (i < n && is_ws(s[i]))
            i++;
        if (i == n)
            break;
        uint64_t x = 0;
        uint32_t d = 0;
        while (i < n && (unsigned)(s[i] - '0') < 10u) {
            uint64_t dg = (uint64_t)(s[i] - '0');
            if (x > (INT64MAX - dg) / 10)
                return -1;
            x = x * 10 + dg;
            i++;
            d++;
        }
        if (d == 0)
            return -1;
        while (i < n && is_ws(s[i]))
            i++;
        if (i < n) {
            if (s[i] != ',')
                return -1;
            i++;
        }
        if (have && x != v)
            return -1;
        v = x;
        have = 1;
    }
    if (!have)
        return -1;
    *out = v;
    return 0;
}

/* The last element of a comma list, trimmed. */
static void last_token(const uint8_t *s, uint32_t n, uint32_t *a, uint32_t *len)
{
    uint32_t e = n;
    while (e > 0 && is_ws(s[e - 1]))
        e--;
    uint32_t b = e;
    while (b > 0 && s[b - 1] != ',')
        b--;
    while (b < e && is_ws(s[b]))
        b++;
    *a = b;
    *len = e - b;
}

/* The anomaly events of a request (its protocol proto[0..pl), its known
 * headers' values, each occurrence joined by ", ", at v[vs[k]..ve[k])), as
 * libhtp raises them for Suricata: a Transfer-Encoding other than exactly
 * "chunked" (any case), or "chunked" below HTTP/1.1; an Authorization whose
 * scheme is not Basic, Digest or Bearer. */
static void request_events(cg_bufset *b, const uint8_t *proto, uint32_t pl, const uint16_t *first,
                           const uint8_t *v, const uint32_t *vs, const uint32_t *ve)
{
    if (first[HK_TE]) {
        uint32_t l = ve[HK_TE] - vs[HK_TE];
        int chunked = l == 7 && ieq(v + vs[HK_TE], "chunked", 7);
        int v11 = pl >= 8 && ieq(proto, "http/", 5) && proto[6] == '.' && proto[5] >= '0' &&
            proto[5] <= '9' && proto[7] >= '0' && proto[7] <= '9' &&
            (proto[5] > '1' || (proto[5] == '1' && proto[7] >= '1'));
        if (!chunked || !v11)
            b->events |= CG_EV_HTTP_INVALID_TE_REQ;
    }
    if (first[HK_AUTH]) {
        const uint8_t *a = v + vs[HK_AUTH];
        uint32_t l = ve[HK_AUTH] - vs[HK_AUTH];
        if (!(l >= 5 && ieq(a, "basic", 5)) && !(l >= 6 && ieq(a, "digest", 6)) &&
            !(l >= 6 && ieq(a, "bearer", 6)))
            b->events |= CG_EV_HTTP_AUTH_UNRECOGNIZED;
    }
}

/* Fills m->set with the start line and the header lines in hdr[fle..upto)
 * (upto: the end of the block, or of the last complete line), and hi. */
static void build(cg_http *h, msg *m, int ts, uint32_t upto, hinfo *hi)
{
    cg_bufset *b = &m->set;
    const uint8_t *H = m->hdr;
    hent *E = h->ent;
    uint16_t first[HK_N];
    uint32_t vs[HK_N], ve[HK_N];

    memset(hi, 0, sizeof *hi);
    memset(first, 0, sizeof first);
    cg_bufset_clear(b);

    uint32_t se = m->fle - 1;
    if (se > 0 && H[se - 1] == '\r')
        se--;
    if (ts) {
        cg_bufset_add(b, CG_BUF_HTTP_METHOD, H + m->p0, m->l0);
        cg_bufset_add(b, CG_BUF_HTTP_URI_RAW, H + m->p1, m->l1);
        cg_bufset_add(b, CG_BUF_HTTP_PROTOCOL, H + m->p2, m->l2);
        cg_bufset_add(b, CG_BUF_HTTP_REQUEST_LINE, H, se);
    } else {
        cg_bufset_add(b, CG_BUF_HTTP_PROTOCOL, H + m->p0, m->l0);
        if (m->l1)
            cg_bufset_add(b, CG_BUF_HTTP_STAT_CODE, H + m->p1, m->l1);
        if (m->l2)
            cg_bufset_add(b, CG_BUF_HTTP_STAT_MSG, H + m->p2, m->l2);
        cg_bufset_add(b, CG_BUF_HTTP_RESPONSE_LINE, H, se);
    }

    /* the header table */
    uint32_t nh = 0, p = m->fle;
    while (p < upto) {
        const uint8_t *nl = memchr(H + p, '\n', upto - p);
        if (!nl)
            break;
        uint32_t lf = (uint32_t)(nl - H), e = lf;
        if (e > p && H[e - 1] == '\r')
            e--;
        if (e == p)
            break;
        if (is_ws(H[p])) { /* obs-fold: the previous value goes on */
            if (nh > 0 && !hi->over) {
                E[nh - 1].v1 = e;
                E[nh - 1].folded = 1;
            }
            p = lf + 1;
            continue;
        }
        if (nh == MAXH) {
            hi->over = 1;
            p = lf + 1;
            continue;
        }
        hent *x = &E[nh];
        const uint8_t *c = memchr(H + p, ':', e - p);
        uint32_t ne = c ? (uint32_t)(c - H) : e;
        while (ne > p && is_ws(H[ne - 1]))
            ne--;
        x->n0 = p;
        x->nl = ne - p;
        x->v0 = c ? (uint32_t)(c - H) + 1 : e;
        x->v1 = e;
        x->folded = 0;
        x->next = 0;
        x->dup = 0;
        x->tail = (uint16_t)(nh + 1);
        if (!c)
            hi->bad_lines++;
        x->key = hkey(H + p, x->nl);
        uint32_t f = 0;
        if (x->key) {
            f = first[x->key];
        } else {
            uint32_t hv = 2166136261u; /* FNV-1a */
            for (uint32_t k = 0; k < x->nl; k++)
                hv = (hv ^ lc(H[p + k])) * 16777619u;
            x->hash = hv;
            for (uint32_t k = 0; k < nh; k++)
                if (!E[k].dup && E[k].key == HK_NONE && E[k].hash == hv && E[k].nl == x->nl &&
                    ieq2(H + E[k].n0, H + p, x->nl)) {
                    f = k + 1;
                    break;
                }
        }
        if (f) {
            x->dup = 1;
            E[E[f - 1].tail - 1].next = (uint16_t)(nh + 1);
            E[f - 1].tail = (uint16_t)(nh + 1);
        } else if (x->key) {
            first[x->key] = (uint16_t)(nh + 1);
        }
        nh++;
        p = lf + 1;
    }

    /* http.header, then the cookie, the names, the URI, the host */
    wbuf w = { m->norm, 0, h->norm_cap, 0 };
    uint8_t ckey = ts ? HK_COOKIE : HK_SETCOOKIE;
    for (uint32_t k = 0; k < nh; k++) {
        if (E[k].dup || E[k].key == ckey)
            continue;
        wput(&w, H + E[k].n0, E[k].nl);
        wput(&w, ": ", 2);
        uint32_t v0 = w.len;
        for (uint32_t j = k + 1; j; j = E[j - 1].next) {
            if (j != k + 1)
                wput(&w, ", ", 2);
            wvalue(&w, H, &E[j - 1]);
        }
        vs[E[k].key] = v0;
        ve[E[k].key] = w.len;
        wput(&w, "\r\n", 2);
    }
    if (w.len)
        cg_bufset_add(b, CG_BUF_HTTP_HEADER, w.p, w.len);
    if (first[ckey]) {
        vs[ckey] = w.len;
        for (uint32_t j = first[ckey]; j; j = E[j - 1].next) {
            if (j != first[ckey])
                wput(&w, ", ", 2);
            wvalue(&w, H, &E[j - 1]);
        }
        ve[ckey] = w.len;
    }
    if (nh) {
        uint32_t n0 = w.len;
        wput(&w, "\r\n", 2);
        for (uint32_t k = 0; k < nh; k++) {
            if (E[k].dup)
                continue;
            wput(&w, H + E[k].n0, E[k].nl);
            wput(&w, "\r\n", 2);
        }
        wput(&w, "\r\n", 2);
        cg_bufset_add(b, CG_BUF_HTTP_HEADER_NAMES, w.p + n0, w.len - n0);
    }
    cg_bufset_add(b, CG_BUF_HTTP_HEADER_RAW, H + m->fle, upto - m->fle);
    cg_bufset_add(b, CG_BUF_HTTP_START, H, upto);
    for (uint32_t k = HK_HOST; k < HK_N; k++)
        if (first[k] && key_buf[ts][k] >= 0)
            cg_bufset_add(b, key_buf[ts][k], w.p + vs[k], ve[k] - vs[k]);

    if (ts)
        request_events(b, H + m->p2, m->l2, first, w.p, vs, ve);

    if (ts) {
        const uint8_t *t = H + m->p1;
        uint32_t auth, alen, u0 = w.len;
        wuri(&w, t, m->l1);
        cg_bufset_add(b, CG_BUF_HTTP_URI, w.p + u0, w.len - u0);
        const uint8_t *hr = NULL;
        uint32_t hl = 0;
        target_path(t, m->l1, &auth, &alen);
        if (alen) { /* absolute target: its host wins */
            hr = t + auth;
            hl = alen;
        } else if (m->kind == K_CONNECT && m->l1 && t[0] != '/') {
            hr = t;
            hl = m->l1;
        }
        if (hr) {
            for (uint32_t k = hl; k > 0; k--) /* userinfo@ */
                if (hr[k - 1] == '@') {
                    hl -= k;
                    hr += k;
                    break;
                }
            uint32_t e = 0; /* without port */
            if (hl && hr[0] == '[') {
                while (e < hl && hr[e] != ']')
                    e++;
                if (e < hl)
                    e++;
            } else {
                while (e < hl && hr[e] != ':')
                    e++;
            }
            hl = e;
        } else if (first[HK_HOST]) {
            hr = w.p + vs[HK_HOST];
            hl = ve[HK_HOST] - vs[HK_HOST];
        }
        if (hr) {
            cg_bufset_add(b, CG_BUF_HTTP_HOST_RAW, hr, hl);
            uint32_t h0 = w.len;
            whost(&w, hr, hl);
            cg_bufset_add(b, CG_BUF_HTTP_HOST, w.p + h0, w.len - h0);
        }
    }

    /* framing */
    if (first[HK_TE]) {
        uint32_t a, l;
        last_token(w.p + vs[HK_TE], ve[HK_TE] - vs[HK_TE], &a, &l);
        hi->te = 1;
        hi->te_chunked = l == 7 && ieq(w.p + vs[HK_TE] + a, "chunked", 7);
    }
    if (first[HK_CLEN]) {
        hi->cl = 1;
        hi->cl_ok = parse_cl(w.p + vs[HK_CLEN], ve[HK_CLEN] - vs[HK_CLEN], &hi->cl_val) == 0;
    }
    if (first[HK_CE]) {
        const uint8_t *v = w.p + vs[HK_CE];
        uint32_t l = ve[HK_CE] - vs[HK_CE];
        if (!memchr(v, ',', l)) {
            if ((l == 4 && ieq(v, "gzip", 4)) || (l == 6 && ieq(v, "x-gzip", 6)))
                hi->ce = Z_GZIP;
            else if (l == 7 && ieq(v, "deflate", 7))
                hi->ce = Z_DEFLATE;
        }
    }
    hi->norm_over = w.over;
}

/* ---- delivery ---- */

static void deliver(run *r, int ts)
{
    cg_http *h = r->h;
    hdir *d = &r->s->d[ts];
    msg *m = msg_of(h, ts, d->msg);
    if (m->npend && m->blen < h->mp[ts].body_limit) {
        m->body[m->blen++] = m->pend; /* a one-byte "deflate" body: as sent */
        m->npend = 0;
    }
    if (m->blen) {
        cg_bufset_add(&m->set, ts ? CG_BUF_HTTP_REQUEST_BODY : CG_BUF_HTTP_RESPONSE_BODY, m->body,
                      m->blen);
        cg_bufset_add(&m->set, CG_BUF_FILE_DATA, m->body, m->blen);
    }
    if (r->cb)
        r->cb(r->ctx, &m->set, ts);
    if (ts)
        h->st.requests++;
    else
        h->st.responses++;
    msg_release(h, ts, d);
}

static void count_build(cg_http *h, const hinfo *hi)
{
    h->st.parse_errors += hi->bad_lines + (hi->norm_over ? 1 : 0);
    if (hi->over)
        h->st.hdr_fields_over++;
}

/* Delivers a message whose headers did not complete (END, header limit):
 * the start line and the complete header lines. */
static void deliver_partial(run *r, int ts)
{
    hdir *d = &r->s->d[ts];
    msg *m = msg_of(r->h, ts, d->msg);
    if (!m->fle) {
        msg_release(r->h, ts, d);
        return;
    }
    hinfo hi;
    build(r->h, m, ts, m->ls, &hi);
    count_build(r->h, &hi);
    deliver(r, ts);
}

static void tunnel(run *r)
{
    r->h->st.tunnels++;
    flow_release(r, F_DONE);
}

/* The message of direction ts is complete (its body ended). */
static void msg_complete(run *r, int ts)
{
    hdir *d = &r->s->d[ts];
    if (d->msg)
        deliver(r, ts);
    d->st = ts && d->kind == K_CONNECT ? D_CONNECT_WAIT : D_IDLE;
}

/* ---- bodies ---- */

static voidpf zalloc_arena(voidpf opaque, uInt items, uInt size)
{
    msg *m = opaque;
    size_t n = ((size_t)items * size + 15) & ~(size_t)15;
    if (n > ZARENA - m->zused)
        return Z_NULL;
    void *p = m->zarena + m->zused;
    m->zused += (uint32_t)n;
    return p;
}

static void zfree_arena(voidpf opaque, voidpf p)
{
    (void)opaque;
    (void)p;
}

static void body_full(run *r, int ts)
{
    r->h->st.body_truncated++;
    deliver(r, ts);
}

static void sink_raw(run *r, int ts, msg *m, const uint8_t *p, uint32_t n)
{
    uint32_t room = r->h->mp[ts].body_limit - m->blen;
    if (n <= room) {
        memcpy(m->body + m->blen, p, n);
        m->blen += n;
        return;
    }
    memcpy(m->body + m->blen, p, room);
    m->blen += room;
    body_full(r, ts);
}

static int zstart(cg_http *h, msg *m, int wbits)
{
    memset(&m->z, 0, sizeof m->z);
    m->z.zalloc = zalloc_arena;
    m->z.zfree = zfree_arena;
    m->z.opaque = m;
    m->zused = 0;
    if (inflateInit2(&m->z, wbits) != Z_OK) {
        h->st.decomp_errors++;
        m->zmode = Z_RAW;
        return -1;
    }
#if ZLIB_VERNUM >= 0x1290
    inflateValidate(&m->z, 0); /* no CRC-32/Adler-32: inspection needs no integrity */
#endif
    m->zmode = Z_ON;
    return 0;
}

static void sink_inflate(run *r, int ts, msg *m, const uint8_t *p, uint32_t n)
{
    cg_http *h = r->h;
    uint32_t limit = h->mp[ts].body_limit;
    m->z.next_in = (Bytef *)(uintptr_t)p;
    m->z.avail_in = n;
    while (m->z.avail_in > 0) {
        uint32_t room = limit - m->blen;
        if (room == 0) {
            body_full(r, ts);
            return;
        }
        if (room > ZSTEP)
            room = ZSTEP;
        m->z.next_out = m->body + m->blen;
        m->z.avail_out = room;
        int rc = inflate(&m->z, Z_NO_FLUSH);
        m->blen += room - m->z.avail_out;
        if (rc == Z_STREAM_END) {
            inflateEnd(&m->z);
            m->zmode = Z_END; /* what follows the stream is ignored */
            return;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            h->st.decomp_errors++;
            inflateEnd(&m->z);
            m->zmode = Z_RAW;
            sink_raw(r, ts, m, p, n);
            return;
        }
        if (m->z.total_out > BOMB_MIN && m->z.total_out / h->cfg.decomp_ratio > m->z.total_in) {
            h->st.decomp_bomb++;
            deliver(r, ts);
            return;
        }
        if (rc == Z_BUF_ERROR && m->z.avail_out > 0)
            return; /* no progress possible: wants more input */
    }
}

/* Body bytes of direction ts, in order, after dechunking. */
static void sink(run *r, int ts, const uint8_t *p, uint32_t n)
{
    hdir *d = &r->s->d[ts];
    if (!d->msg || n == 0)
        return;
    msg *m = msg_of(r->h, ts, d->msg);
    switch (m->zmode) {
    case Z_NONE:
    case Z_RAW: sink_raw(r, ts, m, p, n); return;
    case Z_GZIP:
        if (zstart(r->h, m, 15 + 32) == 0)
            sink_inflate(r, ts, m, p, n);
        else
            sink_raw(r, ts, m, p, n);
        return;
    case Z_DEFLATE: /* zlib wrapper or raw: the first two bytes tell */
        if (m->npend == 0 && n == 1) {
            m->pend = p[0];
            m->npend = 1;
            return;
        }
        {
            uint8_t b0 = m->npend ? m->pend : p[0];
            uint8_t b1 = m->npend ? p[0] : p[1];
            int zlib = (b0 & 0x0f) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
            if (zstart(r->h, m, zlib ? 15 : -15) != 0) {
                if (m->npend)
                    sink_raw(r, ts, m, &m->pend, 1);
                if (d->msg)
                    sink_raw(r, ts, m, p, n);
                return;
            }
            if (m->npend) {
                uint8_t one = m->pend;
                m->npend = 0;
                sink_inflate(r, ts, m, &one, 1);
                if (!d->msg)
                    return;
                if (m->zmode != Z_ON) {
                    sink(r, ts, p, n);
                    return;
                }
            }
            sink_inflate(r, ts, m, p, n);
        }
        return;
    case Z_ON: sink_inflate(r, ts, m, p, n); return;
    default: /* Z_END */ return;
    }
}

/* ---- states ---- */

/* A bad start line (or chunk, or too long a header): resync from here. */
static uint32_t resync(run *r, int ts, uint32_t used)
{
    hdir *d = &r->s->d[ts];
    msg_release(r->h, ts, d);
    d->quiet = 1;
    d->st = D_IDLE;
    d->npre = 0;
    return used;
}

static uint32_t st_idle(run *r, int ts, const uint8_t *p, uint32_t n)
{
    hdir *d = &r->s->d[ts];
    uint32_t i = 0;
    if (d->npre == 0) { /* empty lines, whitespace before a start line */
        while (i < n && (p[i] == '\r' || p[i] == '\n' || is_ws(p[i])))
            i++;
        if (i == n)
            return n;
    }
    uint8_t buf[PRE_MAX];
    uint32_t k = d->npre, add = n - i;
    if (add > PRE_MAX - k)
        add = PRE_MAX - k;
    memcpy(buf, d->pre, k);
    memcpy(buf + k, p + i, add);
    k += add;
    int v = ts ? probe_req(buf, k, PRE_MAX) : probe_resp(buf, k);
    if (v == P_MORE) { /* all of p is in buf */
        memcpy(d->pre, buf, k);
        d->npre = (uint8_t)k;
        return n;
    }
    if (v == P_NO) {
        if (!d->quiet)
            r->h->st.parse_errors++;
        d->quiet = 1;
        d->npre = 0;
        d->st = D_RESYNC_SKIP;
        return i;
    }
    uint32_t mk = msg_take(r->h, ts, r->hf->slot);
    if (!mk) {
        give_up(r);
        return n;
    }
    msg *m = msg_of(r->h, ts, mk);
    memcpy(m->hdr, d->pre, d->npre);
    m->hlen = d->npre;
    d->npre = 0;
    d->msg = mk;
    d->st = D_HEAD;
    return i;
}

static void headers_done(run *r, int ts, msg *m);

static uint32_t st_head(run *r, int ts, const uint8_t *p, uint32_t n)
{
    cg_http *h = r->h;
    hdir *d = &r->s->d[ts];
    msg *m = msg_of(h, ts, d->msg);
    uint32_t room = h->cfg.header_limit - m->hlen;
    uint32_t lim = n < room ? n : room;
    uint32_t base = m->hlen, i = 0, copied = 0, end = 0;

    while (i < lim) {
        const uint8_t *nl = memchr(p + i, '\n', lim - i);
        if (!nl) {
            i = lim;
            break;
        }
        uint32_t lf = (uint32_t)(nl - p), a = base + lf;
        i = lf + 1;
        if (!m->fle) {
            memcpy(m->hdr + base, p, i);
            m->hlen = base + i;
            copied = i;
            m->fle = a + 1;
            m->ls = a + 1;
            if (!(ts ? parse_reqline(m) : parse_respline(m))) {
                if (ts && !r->s->confirmed) {
                    not_http(r);
                    return n;
                }
                if (!d->quiet)
                    h->st.parse_errors++;
                return resync(r, ts, i);
            }
            if (ts && !r->s->confirmed) {
                r->s->confirmed = 1;
                h->st.flows++;
            }
            d->quiet = 0;
            continue;
        }
        uint32_t len = a - m->ls;
        int empty =
            len == 0 || (len == 1 && (m->ls < base ? m->hdr[m->ls] : p[m->ls - base]) == '\r');
        m->ls = a + 1;
        if (empty) {
            end = i;
            break;
        }
    }
    uint32_t take = end ? end : i;
    memcpy(m->hdr + base + copied, p + copied, take - copied);
    m->hlen = base + take;
    if (end) {
        m->hend = m->hlen;
        headers_done(r, ts, m);
        return take;
    }
    if (m->hlen >= h->cfg.header_limit) {
        if (ts && !r->s->confirmed) { /* a first line that never ends */
            not_http(r);
            return n;
        }
        h->st.hdr_too_long++;
        if (m->fle) {
            /* it still takes its place in the pairing (a 431 will answer it) */
            slot *s = r->s;
            if (ts && s->rcount < RING) {
                s->ring[(s->rhead + s->rcount) % RING] = m->kind;
                s->rcount++;
            } else if (!ts && s->rcount && (m->status < 100 || m->status >= 200)) {
                s->rhead = (uint8_t)((s->rhead + 1) % RING);
                s->rcount--;
            }
            deliver_partial(r, ts);
        }
        resync(r, ts, take);
        d->st = D_RESYNC_SKIP; /* the rest of the line that did not fit */
        return take;
    }
    return take;
}

static void headers_done(run *r, int ts, msg *m)
{
    cg_http *h = r->h;
    slot *s = r->s;
    hdir *d = &s->d[ts];
    hinfo hi;
    enum { B_NONE, B_CL, B_CHUNK, B_EOF, B_UNTIL } body = B_NONE;

    build(h, m, ts, m->hend, &hi);
    count_build(h, &hi);
    if (ts) {
        d->kind = m->kind;
        if (s->rcount < RING) {
            s->ring[(s->rhead + s->rcount) % RING] = m->kind;
            s->rcount++;
        }
        if (hi.te) {
            if (hi.cl)
                h->st.bad_length++;
            if (hi.te_chunked) {
                body = B_CHUNK;
            } else {
                h->st.parse_errors++;
                body = B_UNTIL;
            }
        } else if (hi.cl) {
            if (!hi.cl_ok) {
                h->st.bad_length++;
                body = B_UNTIL;
            } else {
                body = hi.cl_val ? B_CL : B_NONE;
            }
        }
    } else {
        unsigned st = m->status;
        if (st == 0)
            h->st.parse_errors++;
        if (st >= 100 && st < 200 && st != 101) { /* interim: skipped */
            msg_release(h, ts, d);
            d->st = D_IDLE;
            return;
        }
        uint8_t kind = K_OTHER;
        if (s->rcount) {
            kind = s->ring[s->rhead];
            s->rhead = (uint8_t)((s->rhead + 1) % RING);
            s->rcount--;
        }
        if (st == 101 || (kind == K_CONNECT && st >= 200 && st < 300)) {
            deliver(r, ts);
            tunnel(r);
            return;
        }
        if (kind == K_CONNECT && s->d[1].st == D_CONNECT_WAIT)
            s->d[1].st = D_IDLE;
        if (kind == K_HEAD || st == 204 || st == 304) {
            body = B_NONE;
        } else if (hi.te) {
            if (hi.cl)
                h->st.bad_length++;
            body = hi.te_chunked ? B_CHUNK : B_EOF;
        } else if (hi.cl) {
            if (!hi.cl_ok) {
                h->st.bad_length++;
                body = B_EOF;
            } else {
                body = hi.cl_val ? B_CL : B_NONE;
            }
        } else {
            body = B_EOF;
        }
    }
    m->zmode = (uint8_t)hi.ce;
    switch (body) {
    case B_NONE: msg_complete(r, ts); break;
    case B_CL:
        d->st = D_BODY_CL;
        d->left = hi.cl_val;
        break;
    case B_CHUNK:
        d->st = D_BODY_CHUNK;
        d->ch = C_SIZE;
        d->left = 0;
        d->aux = 0;
        break;
    case B_EOF: d->st = D_BODY_EOF; break;
    case B_UNTIL: d->st = D_BODY_UNTIL; break;
    }
}

static uint32_t bad_chunk(run *r, int ts, uint32_t used)
{
    hdir *d = &r->s->d[ts];
    r->h->st.bad_chunk++;
    if (d->msg)
        deliver(r, ts);
    return resync(r, ts, used);
}

static void size_line_done(hdir *d)
{
    if (d->left == 0) {
        d->ch = C_TRAILER;
        d->aux = 0;
    } else {
        d->ch = C_DATA;
    }
}

static uint32_t st_chunk(run *r, int ts, const uint8_t *p, uint32_t n)
{
    hdir *d = &r->s->d[ts];
    uint32_t i = 0;
    while (i < n) {
        switch (d->ch) {
        case C_SIZE:
            for (; i < n; i++) {
                int v = hexval(p[i]);
                if (v >= 0) {
                    if (d->left > (INT64MAX >> 4))
                        return bad_chunk(r, ts, i);
                    d->left = d->left << 4 | (uint64_t)v;
                    d->aux = 1;
                } else if (!d->aux && is_ws(p[i])) {
                    continue;
                } else if (!d->aux) {
                    return bad_chunk(r, ts, i);
                } else {
                    d->ch = C_SIZE_WS;
                    break;
                }
            }
            break;
        case C_SIZE_WS: {
            uint8_t c = p[i];
            if (is_ws(c)) {
                i++;
            } else if (c == ';') {
                i++;
                d->ch = C_EXT;
                d->aux = 0;
            } else if (c == '\r') {
                i++;
                d->ch = C_SIZE_LF;
            } else if (c == '\n') {
                i++;
                size_line_done(d);
            } else {
                return bad_chunk(r, ts, i);
            }
            break;
        }
        case C_EXT: {
            const uint8_t *nl = memchr(p + i, '\n', n - i);
            uint32_t k = nl ? (uint32_t)(nl - (p + i)) : n - i;
            if (k > EXT_MAX - d->aux)
                return bad_chunk(r, ts, i);
            d->aux += k;
            i += k;
            if (nl) {
                i++;
                size_line_done(d);
            }
            break;
        }
        case C_SIZE_LF:
            if (p[i] != '\n')
                return bad_chunk(r, ts, i);
            i++;
            size_line_done(d);
            break;
        case C_DATA: {
            uint32_t k = n - i;
            if (d->left < k)
                k = (uint32_t)d->left;
            sink(r, ts, p + i, k);
            i += k;
            d->left -= k;
            if (d->left == 0)
                d->ch = C_DATA_CR;
            break;
        }
        case C_DATA_CR:
        case C_DATA_LF:
            if (p[i] == '\r' && d->ch == C_DATA_CR) {
                d->ch = C_DATA_LF;
            } else if (p[i] == '\n') {
                d->ch = C_SIZE;
                d->left = 0;
                d->aux = 0;
            } else {
                return bad_chunk(r, ts, i);
            }
            i++;
            break;
        default: /* C_TRAILER: lines up to an empty one */
            for (; i < n; i++) {
                if (p[i] == '\n') {
                    if (d->aux == 0) {
                        msg_complete(r, ts);
                        return i + 1;
                    }
                    d->aux = 0;
                } else if (p[i] != '\r') {
                    d->aux = 1;
                }
            }
            break;
        }
    }
    return i;
}

/* Feeds p[0..n) to direction ts of a flow in F_HTTP. */
static void dir_feed(run *r, int ts, const uint8_t *p, uint32_t n)
{
    uint32_t pos = 0, stuck = 0;
    while (pos < n && r->hf->st == F_HTTP) {
        hdir *d = &r->s->d[ts];
        uint8_t before = d->st;
        uint32_t used;
        switch (d->st) {
        case D_IDLE: used = st_idle(r, ts, p + pos, n - pos); break;
        case D_RESYNC_SKIP: {
            const uint8_t *nl = memchr(p + pos, '\n', n - pos);
            if (nl) {
                used = (uint32_t)(nl - (p + pos)) + 1;
                d->st = D_IDLE;
            } else {
                used = n - pos;
            }
            break;
        }
        case D_HEAD: used = st_head(r, ts, p + pos, n - pos); break;
        case D_BODY_CL:
            used = n - pos;
            if (d->left < used)
                used = (uint32_t)d->left;
            sink(r, ts, p + pos, used);
            d->left -= used;
            if (d->left == 0)
                msg_complete(r, ts);
            break;
        case D_BODY_CHUNK: used = st_chunk(r, ts, p + pos, n - pos); break;
        case D_BODY_EOF:
            used = n - pos;
            sink(r, ts, p + pos, used);
            break;
        case D_BODY_UNTIL: /* up to the limit, then resync */
            used = n - pos;
            if (d->msg) {
                msg *m = msg_of(r->h, ts, d->msg);
                uint32_t room = r->h->mp[ts].body_limit - m->blen;
                if ((m->zmode == Z_NONE || m->zmode == Z_RAW) && used > room) {
                    used = room;
                    sink(r, ts, p + pos, used);
                    body_full(r, ts);
                } else {
                    sink(r, ts, p + pos, used);
                }
            }
            if (!d->msg)
                resync(r, ts, used);
            break;
        case D_CONNECT_WAIT: /* the client tunnels before the answer */
            used = n - pos;
            d->st = D_SKIP;
            break;
        default: /* D_SKIP, D_ENDED */ used = n - pos; break;
        }
        pos += used;
        if (used == 0 && r->hf->st == F_HTTP && r->s->d[ts].st == before) {
            if (++stuck > 2) { /* cannot happen; never spin */
                r->h->st.parse_errors++;
                msg_release(r->h, ts, &r->s->d[ts]);
                r->s->d[ts].st = D_SKIP;
            }
        } else {
            stuck = 0;
        }
    }
}

static void on_gap(run *r, int ts)
{
    slot *s = r->s;
    hdir *d = &s->d[ts];
    r->h->st.gaps++;
    if (ts && !s->confirmed) {
        not_http(r);
        return;
    }
    s->rcount = 0;
    d->npre = 0;
    switch (d->st) {
    case D_HEAD:
        msg_release(r->h, ts, d);
        d->st = D_IDLE;
        d->quiet = 1;
        break;
    case D_BODY_CL:
    case D_BODY_CHUNK:
    case D_BODY_UNTIL:
        if (d->msg)
            deliver(r, ts);
        d->st = D_IDLE;
        d->quiet = 1;
        break;
    case D_BODY_EOF:
        if (d->msg)
            deliver(r, ts);
        d->st = D_SKIP;
        break;
    case D_IDLE:
    case D_RESYNC_SKIP:
        d->st = D_IDLE;
        d->quiet = 1;
        break;
    default: break;
    }
}

static void on_end(run *r, int ts)
{
    slot *s = r->s;
    hdir *d = &s->d[ts];
    if (ts && !s->confirmed) {
        not_http(r);
        return;
    }
    if (d->msg) {
        if (d->st == D_HEAD)
            deliver_partial(r, ts);
        else
            deliver(r, ts);
    }
    d->st = D_ENDED;
    if (s->d[0].st == D_ENDED && s->d[1].st == D_ENDED)
        flow_release(r, F_DONE);
}

/* A flow not yet HTTP: the probe over its first client bytes. Returns 1 when
 * the flow now has a state (the bytes kept are handed to its client side). */
static int detect(cg_http *h, cg_http_flow *hf, int ts, const uint8_t *data, uint32_t len,
                  uint32_t flags)
{
    int end = (flags & (CG_REASM_END | CG_REASM_DEPTH)) != 0;
    if (!ts) { /* the server spoke first */
        if (len) {
            h->st.not_http++;
            hf->st = F_NOT_HTTP;
            hf->npre = 0;
        }
        return 0;
    }
    if (flags & CG_REASM_GAP)
        hf->npre = 0;
    if (hf->npre == 0) /* empty lines before a request (RFC 9112 2.2) */
        while (len && (data[0] == '\r' || data[0] == '\n' || is_ws(data[0])))
            data++, len--;
    if (hf->npre == 0 && len == 0) { /* nothing to judge: a flow without data ends quietly */
        if (end)
            hf->st = F_DONE;
        return 0;
    }
    uint8_t buf[HPRE];
    uint32_t k = hf->npre, add = len;
    if (add > HPRE - k)
        add = HPRE - k;
    memcpy(buf, hf->pre, k);
    if (add)
        memcpy(buf + k, data, add);
    k += add;
    int v = probe_req(buf, k, HPRE);
    if (v == P_MORE && !end) {
        memcpy(hf->pre, buf, k);
        hf->npre = (uint8_t)k;
        return 0;
    }
    if (v != P_YES) {
        h->st.not_http++;
        hf->st = F_NOT_HTTP;
        hf->npre = 0;
        return 0;
    }
    uint32_t sk = slot_take(h, hf);
    if (!sk) {
        h->st.pool_exhausted++;
        hf->st = F_IGNORED;
        hf->npre = 0;
        return 0;
    }
    slot *s = &h->slots[sk - 1];
    memcpy(s->d[1].pre, hf->pre, hf->npre);
    s->d[1].npre = hf->npre;
    hf->npre = 0;
    hf->slot = sk;
    hf->st = F_HTTP;
    return 1;
}

void cg_http_feed(cg_http *h, cg_http_flow *hf, int to_server, const uint8_t *data, uint32_t len,
                  uint32_t flags, cg_http_tx_fn cb, void *ctx)
{
    int ts = to_server ? 1 : 0;
    if (hf->st > F_HTTP)
        return;
    if (!data)
        len = 0;
    if (hf->st == F_NEW) {
        if (!detect(h, hf, ts, data, len, flags))
            return;
        flags &= ~(uint32_t)CG_REASM_GAP; /* detect has dealt with it */
    }
    if (hf->slot == 0 || hf->slot > h->sfresh) {
        hf->st = F_DONE;
        return;
    }
    run r = { h, hf, slot_of(h, hf), cb, ctx };
    if (r.s->d[ts].st == D_ENDED)
        return;
    LRU_TOUCH(h->slots, h->slru, h->smru, hf->slot);
    if (r.s->d[ts].msg)
        LRU_TOUCH(h->mp[ts].m, h->mp[ts].lru, h->mp[ts].mru, r.s->d[ts].msg);
    if (flags & CG_REASM_GAP) {
        on_gap(&r, ts);
        if (hf->st != F_HTTP)
            return;
    }
    if (len)
        dir_feed(&r, ts, data, len);
    if (hf->st == F_HTTP && (flags & (CG_REASM_END | CG_REASM_DEPTH)))
        on_end(&r, ts);
    CG_INVARIANT_SOMETIMES(h->ops, cg_http_check(h) == 0);
}

void cg_http_end(cg_http *h, cg_http_flow *hf, cg_http_tx_fn cb, void *ctx)
{
    if (hf->st == F_HTTP && hf->slot && hf->slot <= h->sfresh) {
        run r = { h, hf, slot_of(h, hf), cb, ctx };
        if (r.s->d[1].st != D_ENDED)
            on_end(&r, 1);
        if (hf->st == F_HTTP && r.s->d[0].st != D_ENDED)
            on_end(&r, 0);
        if (hf->st == F_HTTP)
            flow_release(&r, F_DONE);
    }
    hf->slot = 0;
    hf->npre = 0;
    hf->st = F_DONE;
}

/* ---- lifecycle ---- */

static int pool_init(mpool *p, uint32_t n, uint32_t body_limit, size_t fixed)
{
    p->n = n;
    p->body_limit = body_limit;
    p->each = (fixed + body_limit + 63) & ~(size_t)63;
    p->m = calloc(n, sizeof(msg));
    p->mem = calloc(n, p->each);
    return p->m && p->mem ? 0 : -1;
}

int cg_http_create(cg_http **out, const cg_http_config *cfg)
{
    cg_http_config c = { 0 };
    if (cfg)
        c = *cfg;
    if (!c.max_flows)
        c.max_flows = 16384;
    if (!c.req_buffers)
        c.req_buffers = 128;
    if (!c.resp_buffers)
        c.resp_buffers = 128;
    if (!c.header_limit)
        c.header_limit = 16u << 10;
    if (!c.req_body_limit)
        c.req_body_limit = 64u << 10;
    if (!c.resp_body_limit)
        c.resp_body_limit = 256u << 10;
    if (!c.decomp_ratio)
        c.decomp_ratio = 100;
    if (c.header_limit < 256 || c.header_limit > (1u << 24) || c.req_body_limit > (1u << 30) ||
        c.resp_body_limit > (1u << 30) || c.max_flows > (1u << 26) || c.req_buffers > (1u << 20) ||
        c.resp_buffers > (1u << 20))
        return -1;

    cg_http *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    h->cfg = c;
    h->norm_cap = 3 * c.header_limit + 64;
    size_t fixed = (size_t)c.header_limit + h->norm_cap + ZARENA;
    h->nslots = c.max_flows;
    h->slots = calloc(c.max_flows, sizeof(slot));
    if (!h->slots || pool_init(&h->mp[1], c.req_buffers, c.req_body_limit, fixed) != 0 ||
        pool_init(&h->mp[0], c.resp_buffers, c.resp_body_limit, fixed) != 0)
        goto fail;
    h->st.state_bytes = sizeof(slot);
    h->st.req_buffer_bytes = (uint32_t)(h->mp[1].each + sizeof(msg));
    h->st.resp_buffer_bytes = (uint32_t)(h->mp[0].each + sizeof(msg));
    h->st.mem_bytes = sizeof *h + (uint64_t)c.max_flows * sizeof(slot) +
        (uint64_t)c.req_buffers * h->st.req_buffer_bytes +
        (uint64_t)c.resp_buffers * h->st.resp_buffer_bytes;
    *out = h;
    return 0;
fail:
    cg_http_destroy(h);
    return -1;
}

void cg_http_destroy(cg_http *h)
{
    if (!h)
        return;
    for (int i = 0; i < 2; i++) {
        for (uint32_t k = 0; h->mp[i].m && k < h->mp[i].fresh; k++)
            if (h->mp[i].m[k].zmode == Z_ON)
                inflateEnd(&h->mp[i].m[k].z);
        free(h->mp[i].m);
        free(h->mp[i].mem);
    }
    free(h->slots);
    free(h);
}

int cg_http_check(const cg_http *h)
{
    uint32_t n = 0, prev = 0;
    for (uint32_t k = h->slru; k; k = h->slots[k - 1].next) {
        const slot *s = &h->slots[k - 1];
        if (k > h->sfresh || s->prev != prev || ++n > h->nslots)
            return -1;
        if (!s->owner || s->owner->st != F_HTTP || s->owner->slot != k)
            return -1;
        for (int i = 0; i < 2; i++)
            if (s->d[i].msg &&
                (s->d[i].msg > h->mp[i].fresh || h->mp[i].m[s->d[i].msg - 1].holder != k))
                return -1;
        prev = k;
    }
    if (prev != h->smru || n != h->st.flows_active)
        return -1;
    for (int i = 0; i < 2; i++) {
        const mpool *p = &h->mp[i];
        n = prev = 0;
        for (uint32_t k = p->lru; k; k = p->m[k - 1].next) {
            const msg *m = &p->m[k - 1];
            if (k > p->fresh || m->prev != prev || ++n > p->n)
                return -1;
            if (!m->holder || m->holder > h->sfresh || h->slots[m->holder - 1].d[i].msg != k)
                return -1;
            if (m->hlen > h->cfg.header_limit || m->blen > p->body_limit)
                return -1;
            prev = k;
        }
        if (prev != p->mru || n != p->used)
            return -1;
    }
    return 0;
}

void cg_http_get_stats(const cg_http *h, cg_http_stats *out)
{
    *out = h->st;
    out->req_buffers_used = h->mp[1].used;
    out->resp_buffers_used = h->mp[0].used;
}
