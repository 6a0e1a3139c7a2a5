/* cmd_case.c — `canhgac case`: the response team's cases in the store.
 *
 *   case new TITLE [ID...] [--query EXPR]   a case of those incidents
 *   case add ID INC... [--query EXPR]       more incidents into case ID
 *   case note ID TEXT...                    a note in its history
 *   case set ID status=open|closed owner=NAME
 *   case list [--status S] [--json]         every case, newest first
 *   case show ID [--json]                   the case, its incidents, its history
 *   case export ... / case verify ...       case files (cmd_case_export.c,
 *                                           cmd_case_verify.c)
 *
 * Changes open the store for triage (CG_STORE_TRIAGE: they work while `run`
 * writes), each one short transaction that appends to the case's history
 * with who (--as, else the login name) and when; list and show read a
 * snapshot. Nothing here removes an incident from a case or rewrites its
 * history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/lang/rule.h"
#include "store/store.h"
#include "tools/cli.h"

static const char case_usage[] =
    "usage: canhgac case new [options] TITLE [INCIDENT...] [--query EXPR]\n"
    "       canhgac case add [options] ID INCIDENT... | ID --query EXPR\n"
    "       canhgac case note [options] ID TEXT...\n"
    "       canhgac case set [options] ID status=open|closed owner=NAME\n"
    "       canhgac case list [options]\n"
    "       canhgac case show [options] ID\n"
    "       canhgac case export ID -o DIR|FILE.tar.gz [options]   (case export --help)\n"
    "       canhgac case verify DIR|FILE.tar.gz [--key PEM]        (case verify --help)\n"
    "\n"
    "A case gathers incidents for the response team: an id, a title, a status\n"
    "(open, closed), an owner (who created it, until set), its incidents, its\n"
    "notes and an append-only history (who, when, what). Cases live in the\n"
    "store; `canhgac query 'case = 3'` finds a case's incidents, and every\n"
    "change is a leaf of the store's log (store verify checks them).\n"
    "\n"
    "new    creates a case of the incidents given by id and/or matched by\n"
    "       --query EXPR (the query language of `canhgac query`); prints its id\n"
    "add    adds incidents (those already in the case are left as they are)\n"
    "note   adds TEXT (the words joined with spaces; - reads stdin) to its history\n"
    "set    status=open|closed, owner=NAME\n"
    "list   every case, newest first: id, status, owner, incidents, last change,\n"
    "       title\n"
    "show   the case, its incidents (as `canhgac query` lists them), its history\n"
    "\n"
    "options:\n"
    "  -d, --store DIR     the store (default $CANHGAC_STORE or ./canhgac-store)\n"
    "      --as NAME       who makes the change (default: the login name)\n"
    "  -q, --query EXPR    new, add: the incidents EXPR matches\n"
    "      --status S      list: open or closed only\n"
    "      --json          list, show: JSON (list: one object per line)\n"
    "  -h, --help          this help\n"
    "\n"
    "examples:\n"
    "  canhgac case new \"Web portal SQLi, Nov 2026\" --query 'sid = 9100101 and since 30d' "
    "--as lan\n"
    "  canhgac case add 3 42 57\n"
    "  canhgac case note 3 \"handed to PA05\"\n"
    "  canhgac case set 3 status=closed\n"
    "  canhgac case list\n"
    "  canhgac case show 3\n"
    "  canhgac query 'case = 3 and status = new'\n"
    "\n"
    "exit: 0 done; 1 the store failed (disk, full); 2 bad input (usage, no such\n"
    "case or incident, a query that does not parse, an empty case, store cannot\n"
    "be opened)\n";

typedef struct opts {
    const char *store_dir;
    const char *who;
    const char *query;
    int json;
    int status; /* list: -1 any */
} opts;

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s[0] || s[0] == '-' || s[0] == '+')
        return -1;
    v = strtoull(s, &end, 10);
    if (*end || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int open_store(const opts *o, unsigned flags, cg_store **st)
{
    if (cg_store_open(st, o->store_dir, flags, 0)) {
        fprintf(stderr, "canhgac case: %s\n", cg_store_error(NULL));
        return CG_EXIT_INPUT;
    }
    if (flags == CG_STORE_TRIAGE)
        cg_cli_migrated_notice("canhgac case", o->store_dir, *st);
    return CG_EXIT_OK;
}

/* A store error as an exit code: no such case or incident, or a bad value,
 * is bad input; the rest is a failure. */
static int store_fail(cg_store *st, int rc)
{
    fprintf(stderr, "canhgac case: %s\n", cg_store_error(st));
    return rc == CG_ENOTFOUND || rc == CG_EINVAL ? CG_EXIT_INPUT : CG_EXIT_FAIL;
}

/* The incidents of the positional ids and of --query, in *ids. */
static int gather(cg_store *st, const opts *o, int npos, char **pos, uint64_t **ids, size_t *n)
{
    uint64_t *q = NULL, *all;
    size_t nq = 0;
    int ret;

    if (o->query && (ret = cg_cli_query_ids(st, "canhgac case", o->query, &q, &nq)) != 0)
        return ret;
    if (!(all = malloc(((size_t)npos + nq + 1) * sizeof *all))) {
        free(q);
        fprintf(stderr, "canhgac case: out of memory\n");
        return CG_EXIT_FAIL;
    }
    for (int i = 0; i < npos; i++)
        if (parse_u64(pos[i], &all[i])) {
            fprintf(stderr, "canhgac case: not an incident ID: %s\n", pos[i]);
            free(all);
            free(q);
            return CG_EXIT_INPUT;
        }
    if (nq)
        memcpy(all + npos, q, nq * sizeof *q);
    free(q);
    *ids = all;
    *n = (size_t)npos + nq;
    return CG_EXIT_OK;
}

static int count_of(const cg_case *c, void *arg)
{
    *(uint64_t *)arg = c->nincidents;
    return 0;
}

static int cmd_new(const opts *o, int npos, char **pos)
{
    cg_store *st = NULL;
    uint64_t *ids = NULL, id = 0;
    size_t n = 0;
    int ret, rc;

    if (npos < 1 || !pos[0][0]) {
        fprintf(stderr, "canhgac case: new: a TITLE is needed\n");
        return CG_EXIT_INPUT;
    }
    if ((ret = open_store(o, CG_STORE_TRIAGE, &st)) != 0)
        return ret;
    if ((ret = gather(st, o, npos - 1, pos + 1, &ids, &n)) != 0)
        goto out;
    if (o->query && n == (size_t)(npos - 1) && npos == 1) {
        fprintf(stderr, "canhgac case: new: the query matches no incident: %s\n", o->query);
        ret = CG_EXIT_INPUT;
        goto out;
    }
    if ((rc = cg_store_case_new(st, pos[0], o->who, cg_cli_now_us(), ids, n, &id)) != 0) {
        ret = store_fail(st, rc);
        goto out;
    }
    {
        uint64_t total = 0;
        if ((rc = cg_store_case_get(st, id, count_of, &total)) != 0) {
            ret = store_fail(st, rc);
            goto out;
        }
        printf("case %llu: created by %s with %llu incident%s\n", (unsigned long long)id, o->who,
               (unsigned long long)total, total == 1 ? "" : "s");
    }
out:
    free(ids);
    cg_store_close(st);
    return ret;
}

static int cmd_add(const opts *o, uint64_t id, int npos, char **pos)
{
    cg_store *st = NULL;
    uint64_t *ids = NULL, added = 0, total = 0;
    size_t n = 0;
    int ret, rc;

    if (npos < 1 && !o->query) {
        fprintf(stderr, "canhgac case: add: incident IDs or --query EXPR are needed\n");
        return CG_EXIT_INPUT;
    }
    if ((ret = open_store(o, CG_STORE_TRIAGE, &st)) != 0)
        return ret;
    if ((ret = gather(st, o, npos, pos, &ids, &n)) != 0)
        goto out;
    if (n == 0) {
        fprintf(stderr, "canhgac case: add: the query matches no incident: %s\n", o->query);
        ret = CG_EXIT_INPUT;
        goto out;
    }
    if ((rc = cg_store_case_add(st, id, ids, n, o->who, cg_cli_now_us(), &added)) != 0 ||
        (rc = cg_store_case_get(st, id, count_of, &total)) != 0) {
        ret = store_fail(st, rc);
        goto out;
    }
    printf("case %llu: %llu incident%s added by %s (%llu in the case)\n", (unsigned long long)id,
           (unsigned long long)added, added == 1 ? "" : "s", o->who, (unsigned long long)total);
out:
    free(ids);
    cg_store_close(st);
    return ret;
}

/* The words joined with spaces, or stdin for "-". */
static char *join_text(int n, char **w)
{
    size_t len = 1, cap;
    char *t;

    if (n == 1 && !strcmp(w[0], "-")) {
        size_t got = 0;
        cap = 4096;
        if (!(t = malloc(cap)))
            return NULL;
        for (;;) {
            size_t r = fread(t + got, 1, cap - got - 1, stdin);
            got += r;
            if (r == 0)
                break;
            if (got + 1 == cap) {
                char *b = cap > (1u << 20) ? NULL : realloc(t, cap * 2);
                if (!b)
                    break;
                t = b;
                cap *= 2;
            }
        }
        while (got && (t[got - 1] == '\n' || t[got - 1] == '\r'))
            got--;
        t[got] = 0;
        return t;
    }
    for (int i = 0; i < n; i++)
        len += strlen(w[i]) + 1;
    if (!(t = calloc(1, len)))
        return NULL;
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(t, " ");
        strcat(t, w[i]);
    }
    return t;
}

static int cmd_note(const opts *o, uint64_t id, int npos, char **pos)
{
    cg_store *st = NULL;
    char *text;
    int ret, rc;

    if (npos < 1) {
        fprintf(stderr, "canhgac case: note: the note's TEXT is missing\n");
        return CG_EXIT_INPUT;
    }
    if (!(text = join_text(npos, pos))) {
        fprintf(stderr, "canhgac case: out of memory\n");
        return CG_EXIT_FAIL;
    }
    if ((ret = open_store(o, CG_STORE_TRIAGE, &st)) == 0) {
        if ((rc = cg_store_case_note(st, id, o->who, cg_cli_now_us(), text)) != 0)
            ret = store_fail(st, rc);
        else
            printf("case %llu: note added by %s\n", (unsigned long long)id, o->who);
    }
    free(text);
    cg_store_close(st);
    return ret;
}

static int cmd_set(const opts *o, uint64_t id, int npos, char **pos)
{
    cg_store *st = NULL;
    unsigned mask = 0;
    uint8_t status = 0;
    const char *owner = NULL;
    int ret, rc;

    if (npos < 1) {
        fprintf(stderr, "canhgac case: set: FIELD=VALUE is needed (status=, owner=)\n");
        return CG_EXIT_INPUT;
    }
    for (int i = 0; i < npos; i++) {
        if (!strncmp(pos[i], "status=", 7)) {
            const char *v = pos[i] + 7;
            if (!strcmp(v, "open"))
                status = CG_CASE_OPEN;
            else if (!strcmp(v, "closed"))
                status = CG_CASE_CLOSED;
            else {
                fprintf(stderr, "canhgac case: set: status is open or closed, not '%s'\n", v);
                return CG_EXIT_INPUT;
            }
            mask |= CG_CASE_SET_STATUS;
        } else if (!strncmp(pos[i], "owner=", 6)) {
            owner = pos[i] + 6;
            mask |= CG_CASE_SET_OWNER;
        } else {
            fprintf(stderr, "canhgac case: set: unknown field '%s' (status=, owner=)\n", pos[i]);
            return CG_EXIT_INPUT;
        }
    }
    if ((ret = open_store(o, CG_STORE_TRIAGE, &st)) != 0)
        return ret;
    if ((rc = cg_store_case_set(st, id, mask, status, owner, o->who, cg_cli_now_us())) != 0)
        ret = store_fail(st, rc);
    else
        printf("case %llu: %s%s%s%s by %s\n", (unsigned long long)id,
               mask & CG_CASE_SET_STATUS ? "status " : "",
               mask & CG_CASE_SET_STATUS ? cg_store_case_status_name(status) : "",
               mask & CG_CASE_SET_OWNER ? (mask & CG_CASE_SET_STATUS ? "; owner " : "owner ") : "",
               mask & CG_CASE_SET_OWNER ? owner : "", o->who);
    cg_store_close(st);
    return ret;
}

/* ---- reading ------------------------------------------------------------ */

static void case_json(const cg_case *c)
{
    char t1[40], t2[40];

    cg_cli_time_str(c->created_us, t1, sizeof t1);
    cg_cli_time_str(c->updated_us, t2, sizeof t2);
    printf("{\"case_id\":%llu,\"title\":", (unsigned long long)c->id);
    cg_cli_json_str(stdout, c->title);
    printf(",\"status\":\"%s\",\"owner\":", cg_store_case_status_name(c->status));
    cg_cli_json_str(stdout, c->owner);
    printf(",\"created\":\"%s\",\"updated\":\"%s\",\"incidents\":%llu,\"notes\":%u}", t1, t2,
           (unsigned long long)c->nincidents, c->nnotes);
}

struct list_state {
    const opts *o;
    uint64_t shown;
};

static int list_one(const cg_case *c, void *arg)
{
    struct list_state *l = arg;
    char t[40];

    if (l->o->status >= 0 && c->status != l->o->status)
        return 0;
    l->shown++;
    if (l->o->json) {
        case_json(c);
        putchar('\n');
        return 0;
    }
    cg_cli_time_str(c->updated_us, t, sizeof t);
    t[10] = ' ';
    t[16] = 0;
    printf("%-6llu %-7s %-16s %9llu  %-16s  %s\n", (unsigned long long)c->id,
           cg_store_case_status_name(c->status), c->owner, (unsigned long long)c->nincidents, t,
           c->title);
    return 0;
}

static int cmd_list(const opts *o)
{
    cg_store *st = NULL;
    struct list_state l = { o, 0 };
    int ret, rc;

    if ((ret = open_store(o, CG_STORE_RDONLY, &st)) != 0)
        return ret;
    if (!o->json)
        printf("%-6s %-7s %-16s %9s  %-16s  %s\n", "ID", "STATUS", "OWNER", "INCIDENTS",
               "UPDATED (UTC)", "TITLE");
    if ((rc = cg_store_case_list(st, list_one, &l)) != 0)
        ret = store_fail(st, rc);
    else if (!o->json && l.shown == 0)
        printf("(no case%s)\n", o->status < 0 ? "" : " with that status");
    cg_store_close(st);
    return ret;
}

struct ids {
    uint64_t *v;
    size_t n, cap;
    int oom;
};

static int take_id(uint64_t id, void *arg)
{
    struct ids *l = arg;

    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        uint64_t *b = realloc(l->v, nc * sizeof *b);
        if (!b) {
            l->oom = 1;
            return 1;
        }
        l->v = b;
        l->cap = nc;
    }
    l->v[l->n++] = id;
    return 0;
}

static int copy_case(const cg_case *c, void *arg)
{
    cg_case *out = arg;
    char *t = strdup(c->title), *w = strdup(c->owner);

    *out = *c;
    out->title = t ? t : "";
    out->owner = w ? w : "";
    return 0;
}

static int inc_row(const cg_incident *inc, void *arg)
{
    const opts *o = arg;
    char first[40], sa[72], da[72];

    if (o->json) {
        cg_cli_incident_json(stdout, inc);
        return 0;
    }
    cg_cli_time_str(inc->first_us, first, sizeof first);
    first[10] = ' ';
    first[19] = 0;
    cg_cli_addr(inc->src, sa, sizeof sa);
    cg_cli_addr(inc->dst, da, sizeof da);
    printf("  %-8llu %-19s %6llu %-6s %-14s %-12u %s -> %s:%u  %s\n", (unsigned long long)inc->id,
           first, (unsigned long long)inc->count, cg_severity_name(inc->severity),
           cg_cli_status(inc->status), inc->sid, sa, da, inc->dport, inc->msg);
    return 0;
}

struct hist_state {
    const opts *o;
    uint64_t n;
};

static int hist_row(const cg_case_event *e, void *arg)
{
    struct hist_state *h = arg;
    char t[40];

    cg_cli_time_str(e->when_us, t, sizeof t);
    if (h->o->json) {
        static const char *const kinds[] = { "",       "create", "add",   "note",
                                             "status", "owner",  "export" };
        printf("%s{\"seq\":%llu,\"when\":\"%s\",\"who\":", h->n ? "," : "",
               (unsigned long long)e->seq, t);
        cg_cli_json_str(stdout, e->who);
        printf(",\"what\":\"%s\"", kinds[e->kind]);
        if (e->kind == CG_CASE_EV_ADD)
            printf(",\"incident_id\":%llu", (unsigned long long)e->incident);
        else if (e->kind == CG_CASE_EV_STATUS)
            printf(",\"old\":\"%s\",\"new\":\"%s\"", cg_store_case_status_name(e->old_num),
                   cg_store_case_status_name(e->new_num));
        else if (e->kind == CG_CASE_EV_OWNER) {
            fputs(",\"old\":", stdout);
            cg_cli_json_str(stdout, e->old_text);
            fputs(",\"new\":", stdout);
            cg_cli_json_str(stdout, e->text);
        } else {
            fputs(",\"text\":", stdout);
            cg_cli_json_str(stdout, e->text);
        }
        putchar('}');
        h->n++;
        return 0;
    }
    t[19] = 0;
    t[10] = ' ';
    switch (e->kind) {
    case CG_CASE_EV_CREATE: printf("  %s  %-12s created: %s\n", t, e->who, e->text); break;
    case CG_CASE_EV_ADD:
        printf("  %s  %-12s added incident %llu\n", t, e->who, (unsigned long long)e->incident);
        break;
    case CG_CASE_EV_NOTE: printf("  %s  %-12s note: %s\n", t, e->who, e->text); break;
    case CG_CASE_EV_STATUS:
        printf("  %s  %-12s status: %s -> %s\n", t, e->who, cg_store_case_status_name(e->old_num),
               cg_store_case_status_name(e->new_num));
        break;
    case CG_CASE_EV_OWNER:
        printf("  %s  %-12s owner: %s -> %s\n", t, e->who, e->old_text, e->text);
        break;
    default: printf("  %s  %-12s %s\n", t, e->who, e->text); break; /* "exported to ..." */
    }
    h->n++;
    return 0;
}

static int cmd_show(const opts *o, uint64_t id)
{
    cg_store *st = NULL;
    cg_case c;
    struct ids l = { NULL, 0, 0, 0 };
    struct hist_state h = { o, 0 };
    int ret, rc;

    memset(&c, 0, sizeof c);
    if ((ret = open_store(o, CG_STORE_RDONLY, &st)) != 0)
        return ret;
    if ((rc = cg_store_case_get(st, id, copy_case, &c)) != 0 ||
        (rc = cg_store_case_incidents(st, id, take_id, &l)) != 0) {
        ret = store_fail(st, rc);
        goto out;
    }
    if (l.oom) {
        fprintf(stderr, "canhgac case: out of memory\n");
        ret = CG_EXIT_FAIL;
        goto out;
    }
    if (o->json) {
        fputs("{\"case\":", stdout);
        case_json(&c);
        fputs(",\"incidents\":[", stdout);
    } else {
        char t1[40], t2[40];
        cg_cli_time_str(c.created_us, t1, sizeof t1);
        cg_cli_time_str(c.updated_us, t2, sizeof t2);
        printf("case %llu: %s\n  status       %s\n  owner        %s\n  created      %s\n"
               "  updated      %s\n  notes        %u\n\nincidents (%llu)\n",
               (unsigned long long)c.id, c.title, cg_store_case_status_name(c.status), c.owner, t1,
               t2, c.nnotes, (unsigned long long)c.nincidents);
    }
    for (size_t i = 0; i < l.n; i++) {
        if (o->json && i)
            putchar(',');
        if ((rc = cg_store_get(st, l.v[i], inc_row, (void *)o)) != 0) {
            if (o->json)
                fputs("null", stdout);
            fflush(stdout);
            ret = store_fail(st, rc);
            goto out;
        }
    }
    fputs(o->json ? "],\"history\":[" : "\nhistory\n", stdout);
    if ((rc = cg_store_case_history(st, id, hist_row, &h)) != 0) {
        ret = store_fail(st, rc);
        goto out;
    }
    if (o->json)
        fputs("]}\n", stdout);
out:
    if (c.title && c.title[0])
        free((char *)c.title);
    if (c.owner && c.owner[0])
        free((char *)c.owner);
    free(l.v);
    cg_store_close(st);
    return ret;
}

/* ---- the command -------------------------------------------------------- */

int cg_cmd_case(int argc, char **argv)
{
    opts o = { cg_cli_default_store(), NULL, NULL, 0, -1 };
    char whobuf[64], **pos;
    const char *sub;
    int npos = 0, ret = CG_EXIT_INPUT;
    uint64_t id = 0;

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(case_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CG_EXIT_INPUT : CG_EXIT_OK;
    }
    sub = argv[1];
    if (!strcmp(sub, "export"))
        return cg_case_cmd_export(argc - 1, argv + 1);
    if (!strcmp(sub, "verify"))
        return cg_case_cmd_verify(argc - 1, argv + 1);
    if (strcmp(sub, "new") && strcmp(sub, "add") && strcmp(sub, "note") && strcmp(sub, "set") &&
        strcmp(sub, "list") && strcmp(sub, "show")) {
        fprintf(stderr,
                "canhgac case: unknown subcommand '%s' (new, add, note, set, list, show, "
                "export, verify)\n",
                sub);
        return CG_EXIT_INPUT;
    }
    if (!(pos = calloc((size_t)argc, sizeof *pos))) {
        fprintf(stderr, "canhgac case: out of memory\n");
        return CG_EXIT_FAIL;
    }
    /* Options anywhere but inside a note's text (after its ID); "--" ends them. */
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int text = !strcmp(sub, "note") && npos >= 1;
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                pos[npos++] = argv[i];
            break;
        }
        if (text || a[0] != '-' || !a[1] || !strcmp(a, "-")) {
            pos[npos++] = argv[i];
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(case_usage, stdout);
            ret = CG_EXIT_OK;
            goto out;
        }
        if (!strcmp(a, "--json")) {
            o.json = 1;
            continue;
        }
        if (!strcmp(a, "-d") || !strcmp(a, "--store") || !strcmp(a, "--as") || !strcmp(a, "-q") ||
            !strcmp(a, "--query") || !strcmp(a, "--status")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "canhgac case: option needs a value: %s\n", a);
                goto out;
            }
            const char *v = argv[++i];
            if (a[1] == 'd' || !strcmp(a, "--store"))
                o.store_dir = v;
            else if (!strcmp(a, "--as"))
                o.who = v;
            else if (!strcmp(a, "--status")) {
                if (strcmp(v, "open") && strcmp(v, "closed")) {
                    fprintf(stderr, "canhgac case: --status: open or closed, not '%s'\n", v);
                    goto out;
                }
                o.status = !strcmp(v, "open") ? CG_CASE_OPEN : CG_CASE_CLOSED;
            } else
                o.query = v;
            continue;
        }
        if (!strncmp(a, "-d", 2) && a[2]) {
            o.store_dir = a + 2;
            continue;
        }
        fprintf(stderr, "canhgac case: unknown option: %s (see canhgac case --help)\n", a);
        goto out;
    }
    o.who = cg_cli_who(o.who, whobuf, sizeof whobuf);
    if (!o.who[0] || strlen(o.who) > CG_STORE_TEXT_MAX) {
        fprintf(stderr, "canhgac case: --as: a name of 1 to %d bytes\n", CG_STORE_TEXT_MAX);
        goto out;
    }
    if (o.query && strcmp(sub, "new") && strcmp(sub, "add")) {
        fprintf(stderr, "canhgac case: %s: --query is for new and add\n", sub);
        goto out;
    }
    if (!strcmp(sub, "new")) {
        ret = cmd_new(&o, npos, pos);
        goto out;
    }
    if (!strcmp(sub, "list")) {
        if (npos)
            fprintf(stderr, "canhgac case: list: unexpected argument: %s\n", pos[0]);
        else
            ret = cmd_list(&o);
        goto out;
    }
    if (npos == 0 || parse_u64(pos[0], &id)) {
        fprintf(stderr, "canhgac case: %s: %s\n", sub,
                npos == 0 ? "a case ID is needed" : "not a case ID");
        goto out;
    }
    if (!strcmp(sub, "show")) {
        if (npos > 1)
            fprintf(stderr, "canhgac case: show: unexpected argument: %s\n", pos[1]);
        else
            ret = cmd_show(&o, id);
    } else if (!strcmp(sub, "add")) {
        ret = cmd_add(&o, id, npos - 1, pos + 1);
    } else if (!strcmp(sub, "note")) {
        ret = cmd_note(&o, id, npos - 1, pos + 1);
    } else {
        ret = cmd_set(&o, id, npos - 1, pos + 1);
    }
out:
    free(pos);
    return ret;
}
