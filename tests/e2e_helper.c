/* e2e_helper.c — small tools the end-to-end script (tests/e2e.sh) needs:
 *
 *   e2e_helper eve FILE           parse every line of an EVE file with json-c;
 *                                 print "sid<TAB>src_ip<TAB>dest_ip" per alert
 *                                 (records of other event types are skipped);
 *                                 exit 1 on a line that is not valid EVE
 *   e2e_helper json FILE          check every line of FILE is a JSON object
 *   e2e_helper schema DIR N       set the store's meta "schema" to N (raw LMDB)
 *   e2e_helper pcap KIND OUT      write a crafted capture: ok, zerolen,
 *                                 oversnap (caplen > snaplen), cutrecord, or
 *                                 geo: one TCP packet carrying "canhgac-e2e-probe"
 *                                 for each pair of addresses of the GeoIP test
 *                                 databases' README (IPv4 and IPv6) and the
 *                                 asset file (tests/e2e.sh lists them)
 *   e2e_helper fields FILE PATH...  for each JSON line of FILE, the values at
 *                                 the dotted PATHs (src_geo.country, an array
 *                                 element by its index: history.0.who), tab
 *                                 separated ("" for a missing one); exit 1 on
 *                                 a line that is not a JSON object
 *   e2e_helper pace FILE OUT CHUNK USEC   copy FILE to OUT (a FIFO) CHUNK
 *                                 bytes at a time, sleeping USEC between: a
 *                                 capture that takes a while to read
 *   e2e_helper record DIR DB ID [SEQ] flip OFF | del
 *                                 change a store's record as one who writes
 *                                 LMDB directly would: flip: byte OFF of the
 *                                 record xor 0x20, then its seal written
 *                                 again (tests/seal.h), so it still decodes;
 *                                 del: the record removed. DB: incidents
 *                                 or cases (key be64 ID), alerts or evidence
 *                                 (be64 ID | be32 SEQ), history or
 *                                 case_history (be64 ID | be64 SEQ); by_case
 *                                 ID INCIDENT del: that incident taken out
 *                                 of case ID
 *   e2e_helper pcapng FILE        walk a little-endian pcapng file block by
 *                                 block (both total lengths, padding, options)
 *                                 and print "shb<TAB>userappl", "idb<TAB>
 *                                 linktype<TAB>snaplen<TAB>tsresol" and per
 *                                 packet "epb<TAB>interface<TAB>linktype<TAB>
 *                                 ts_us<TAB>caplen<TAB>wirelen<TAB>comment";
 *                                 exit 1 on a malformed file (what tcpdump
 *                                 does not show: interfaces and comments)
 */
#include "tests/seal.h"

#include <errno.h>
#include <json-c/json.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>

static int eve(const char *path, int print)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    int bad = 0;
    while (getline(&line, &cap, f) > 0) {
        no++;
        json_object *o = json_tokener_parse(line), *a, *v, *s, *d;
        if (!o || !json_object_is_type(o, json_type_object)) {
            fprintf(stderr, "%s:%ld: not a JSON object\n", path, no);
            bad = 1;
        } else if (print && json_object_object_get_ex(o, "event_type", &v) &&
                   json_object_is_type(v, json_type_string) &&
                   strcmp(json_object_get_string(v), "alert")) {
            /* an http, dns, tls, flow or anomaly record */
        } else if (print) {
            if (!json_object_object_get_ex(o, "alert", &a) ||
                !json_object_object_get_ex(a, "signature_id", &v) ||
                !json_object_object_get_ex(o, "src_ip", &s) ||
                !json_object_object_get_ex(o, "dest_ip", &d) ||
                !json_object_object_get_ex(o, "timestamp", &v) ||
                !json_object_object_get_ex(o, "flow_id", &v) ||
                !json_object_object_get_ex(o, "incident_id", &v) ||
                !json_object_object_get_ex(o, "event_type", &v) ||
                strcmp(json_object_get_string(v), "alert")) {
                fprintf(stderr, "%s:%ld: not an EVE alert\n", path, no);
                bad = 1;
            } else {
                json_object_object_get_ex(a, "signature_id", &v);
                printf("%d\t%s\t%s\n", json_object_get_int(v), json_object_get_string(s),
                       json_object_get_string(d));
            }
        }
        json_object_put(o);
    }
    free(line);
    fclose(f);
    return bad;
}

static int schema(const char *dir, unsigned n)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    uint8_t v[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    MDB_val k = { 6, "schema" }, val = { 4, v };
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) || mdb_env_open(env, dir, 0, 0600) ||
        mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "meta", 0, &dbi) ||
        mdb_put(txn, dbi, &k, &val, 0) || mdb_txn_commit(txn)) {
        fprintf(stderr, "%s: cannot set schema\n", dir);
        return 1;
    }
    mdb_env_close(env);
    return 0;
}

static int record(const char *dir, const char *db, int argc, char **argv)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k, v, nv;
    uint8_t key[16], buf[70000];
    uint64_t id = strtoull(argv[0], NULL, 10), seq = 0;
    size_t klen = 8;
    int i = 1, rc;

    memset(key, 0, sizeof key);
    for (int b = 0; b < 8; b++)
        key[b] = (uint8_t)(id >> (56 - 8 * b));
    if (strcmp(db, "incidents") && strcmp(db, "cases")) {
        if (argc < 2)
            return 2;
        seq = strtoull(argv[i++], NULL, 10);
        klen =
            strcmp(db, "history") && strcmp(db, "case_history") && strcmp(db, "by_case") ? 12 : 16;
        for (size_t b = 8; b < klen; b++)
            key[b] = (uint8_t)(seq >> (8 * (klen - 1 - b)));
    }
    if (i >= argc)
        return 2;
    k = (MDB_val){ klen, key };
    rc = mdb_env_create(&env);
    if (!rc)
        rc = mdb_env_set_maxdbs(env, 64);
    if (!rc)
        rc = mdb_env_open(env, dir, 0, 0600);
    if (!rc)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, db, 0, &dbi);
    if (!rc && !strcmp(argv[i], "del") && !strcmp(db, "by_case")) {
        MDB_val dk = { 8, key }, dv = { 8, key + 8 }; /* the key, the incident among its values */
        rc = mdb_del(txn, dbi, &dk, &dv);
    } else if (!rc && !strcmp(argv[i], "del")) {
        rc = mdb_del(txn, dbi, &k, NULL);
    } else if (!rc && !strcmp(argv[i], "flip") && i + 1 < argc) {
        size_t off = strtoul(argv[i + 1], NULL, 10);
        rc = mdb_get(txn, dbi, &k, &v);
        if (!rc && (v.mv_size > sizeof buf || off + 4 >= v.mv_size))
            rc = EINVAL;
        if (!rc) {
            memcpy(buf, v.mv_data, v.mv_size);
            buf[off] ^= 0x20;
            reseal(buf, v.mv_size);
            nv = (MDB_val){ v.mv_size, buf };
            rc = mdb_put(txn, dbi, &k, &nv, 0);
        }
    } else if (!rc) {
        rc = EINVAL;
    }
    if (!rc)
        rc = mdb_txn_commit(txn);
    mdb_env_close(env);
    if (rc)
        fprintf(stderr, "%s: %s: %s\n", dir, db, mdb_strerror(rc));
    return rc ? 1 : 0;
}

static void put32(FILE *f, uint32_t v)
{
    fwrite(&v, 4, 1, f);
}

static int fields(const char *path, int n, char **paths)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    int bad = 0;
    while (getline(&line, &cap, f) > 0) {
        no++;
        json_object *o = json_tokener_parse(line);
        if (!o || !json_object_is_type(o, json_type_object)) {
            fprintf(stderr, "%s:%ld: not a JSON object\n", path, no);
            bad = 1;
            json_object_put(o);
            continue;
        }
        for (int i = 0; i < n; i++) {
            char key[256];
            json_object *v = o;
            snprintf(key, sizeof key, "%s", paths[i]);
            for (char *save, *k = strtok_r(key, ".", &save); k && v;
                 k = strtok_r(NULL, ".", &save)) {
                if (json_object_is_type(v, json_type_array)) { /* history.0.who */
                    char *end;
                    unsigned long ix = strtoul(k, &end, 10);
                    v = *end ? NULL : json_object_array_get_idx(v, ix);
                } else if (!json_object_object_get_ex(v, k, &v)) {
                    v = NULL;
                }
            }
            printf("%s%s", i ? "\t" : "", v ? json_object_get_string(v) : "");
        }
        putchar('\n');
        json_object_put(o);
    }
    free(line);
    fclose(f);
    return bad;
}

static int pace(const char *in, const char *out, long chunk, long usec)
{
    static char buf[1 << 20];
    FILE *fi = fopen(in, "rb"), *fo;
    size_t n;
    signal(SIGPIPE, SIG_IGN);
    if (!fi || !(fo = fopen(out, "wb"))) {
        perror(fi ? out : in);
        return 1;
    }
    if (chunk <= 0 || chunk > (long)sizeof buf)
        chunk = sizeof buf;
    while ((n = fread(buf, 1, (size_t)chunk, fi)) > 0) {
        if (fwrite(buf, 1, n, fo) != n || fflush(fo))
            break; /* the reader went away */
        usleep((useconds_t)usec);
    }
    fclose(fi);
    fclose(fo);
    return 0;
}

/* One Ethernet frame with a TCP segment from src to dst (IPv4 or IPv6
 * text) carrying the probe. */
static size_t probe_frame(uint8_t *f, const char *src, const char *dst, uint16_t sport,
                          uint16_t dport)
{
    static const char payload[] = "GET /?q=canhgac-e2e-probe HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t pl = sizeof payload - 1, p = 14;
    int v6 = strchr(src, ':') != NULL;
    memset(f, 0, 14);
    f[5] = 1;
    f[11] = 2;
    f[12] = v6 ? 0x86 : 0x08;
    f[13] = v6 ? 0xdd : 0x00;
    if (v6) {
        f[p] = 0x60;
        f[p + 4] = (uint8_t)((20 + pl) >> 8);
        f[p + 5] = (uint8_t)(20 + pl);
        f[p + 6] = 6;
        f[p + 7] = 64;
        inet_pton(AF_INET6, src, f + p + 8);
        inet_pton(AF_INET6, dst, f + p + 24);
        p += 40;
    } else {
        uint32_t sum = 0;
        size_t tot = 20 + 20 + pl;
        memset(f + p, 0, 20);
        f[p] = 0x45;
        f[p + 2] = (uint8_t)(tot >> 8);
        f[p + 3] = (uint8_t)tot;
        f[p + 8] = 64;
        f[p + 9] = 6;
        inet_pton(AF_INET, src, f + p + 12);
        inet_pton(AF_INET, dst, f + p + 16);
        for (int i = 0; i < 20; i += 2)
            sum += (uint32_t)(f[p + i] << 8 | f[p + i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        f[p + 10] = (uint8_t)(~sum >> 8);
        f[p + 11] = (uint8_t)~sum;
        p += 20;
    }
    memset(f + p, 0, 20);
    f[p] = (uint8_t)(sport >> 8);
    f[p + 1] = (uint8_t)sport;
    f[p + 2] = (uint8_t)(dport >> 8);
    f[p + 3] = (uint8_t)dport;
    f[p + 7] = 1;  /* seq 1 */
    f[p + 11] = 1; /* ack 1 */
    f[p + 12] = 0x50;
    f[p + 13] = 0x18; /* PSH ACK */
    f[p + 14] = 0xff;
    p += 20;
    memcpy(f + p, payload, pl);
    return p + pl;
}

/* The pairs of the geo capture: tests/e2e.sh knows what each must give. */
static const struct {
    const char *src, *dst;
    uint16_t sport, dport;
} geo_pairs[] = {
    { "89.160.20.112", "10.20.1.10", 40001, 80 },       /* SE Linköping AS29518 -> UBND, DMZ */
    { "216.160.83.56", "10.20.1.70", 40002, 443 },      /* US Milton AS209 -> Sở Y tế, DMZ */
    { "2001:218::1", "fd00:2200:0:1::13", 40003, 80 },  /* JP -> Công an tỉnh, DMZ (IPv6) */
    { "10.21.4.5", "175.16.199.1", 40004, 80 },         /* Sở Y tế office LAN -> CN Changchun */
    { "2001:2000::1", "fd00:2200:0:1::10", 40005, 80 }, /* AS1299 TeliaSonera -> UBND, DMZ */
    { "81.2.69.142", "10.20.1.13", 40006, 80 },         /* GB London -> Công an tỉnh, DMZ */
    { "1.2.3.4", "10.99.0.1", 40007, 80 },              /* in no database, no asset */
};

/* A little-endian pcap: Ethernet, snaplen 96 (geo: 65535), then the records. */
static int pcap(const char *kind, const char *out)
{
    static const uint8_t frame[60] = { 0,   1,   2,    3,    4,    5,    6,   7,   8,   9,
                                       10,  11,  0x08, 0x00, 0x45, 0,    0,   46,  0,   1,
                                       0,   0,   64,   17,   0,    0,    10,  0,   0,   1,
                                       10,  0,   0,    2,    0x30, 0x39, 0,   53,  0,   26,
                                       0,   0,   'h',  'e',  'l',  'l',  'o', ' ', 'w', 'o',
                                       'r', 'l', 'd',  '!',  '!',  '!',  '!', '!', '!', '!' };
    FILE *f = fopen(out, "wb");
    if (!f)
        return 1;
    put32(f, 0xa1b2c3d4);
    put32(f, 0x00040002);
    put32(f, 0);
    put32(f, 0);
    put32(f, strcmp(kind, "geo") ? 96 : 65535); /* snaplen */
    put32(f, 1);                                /* Ethernet */
    /* a good record first */
    put32(f, 1763856000);
    put32(f, 0);
    put32(f, 60);
    put32(f, 60);
    fwrite(frame, 1, 60, f);
    if (!strcmp(kind, "geo")) {
        /* the good record above, then the probes, a second apart */
        for (size_t i = 0; i < sizeof geo_pairs / sizeof geo_pairs[0]; i++) {
            uint8_t fr[200];
            size_t n = probe_frame(fr, geo_pairs[i].src, geo_pairs[i].dst, geo_pairs[i].sport,
                                   geo_pairs[i].dport);
            put32(f, 1763856001 + (uint32_t)i);
            put32(f, 0);
            put32(f, (uint32_t)n);
            put32(f, (uint32_t)n);
            fwrite(fr, 1, n, f);
        }
    } else if (!strcmp(kind, "zerolen")) {
        put32(f, 1763856001);
        put32(f, 0);
        put32(f, 0);
        put32(f, 60);
        put32(f, 1763856002);
        put32(f, 0);
        put32(f, 60);
        put32(f, 60);
        fwrite(frame, 1, 60, f);
    } else if (!strcmp(kind, "oversnap")) {
        put32(f, 1763856001);
        put32(f, 0);
        put32(f, 200);
        put32(f, 200);
        for (int i = 0; i < 200; i++)
            fputc(0, f);
    } else if (!strcmp(kind, "cutrecord")) {
        put32(f, 1763856001);
        put32(f, 0);
        put32(f, 60);
        put32(f, 60);
        fwrite(frame, 1, 20, f);
    }
    return fclose(f) != 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The options at b[0..len) of a block of type `type`: prints the one that
 * block's line shows (userappl, tsresol, comment) into out; -1 when they
 * are not well formed. */
static int pcapng_opts(uint32_t type, const uint8_t *b, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    while (o + 4 <= len) {
        uint16_t code = rd16(b + o), l = rd16(b + o + 2);
        size_t padded = ((size_t)l + 3) & ~(size_t)3;
        if (code == 0)
            return l == 0 && o + 4 == len ? 0 : -1;
        if (o + 4 + padded > len)
            return -1;
        for (size_t i = l; i < padded; i++)
            if (b[o + 4 + i])
                return -1;
        if ((type == 0x0A0D0D0A && code == 4) || (type == 6 && code == 1))
            snprintf(out, outlen, "%.*s", (int)l, (const char *)b + o + 4);
        else if (type == 1 && code == 9 && l == 1)
            snprintf(out, outlen, "%u", b[o + 4]);
        o += 4 + padded;
    }
    return o == len ? 0 : -1;
}

static int pcapng(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0, o = 0, r;
    int linktype[64], nif = 0, bad = 0;
    char opt[70000];
    if (!f) {
        perror(path);
        return 1;
    }
    do {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 1 << 20);
            if (!nb)
                return 1;
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    if (n < 28 || rd32(buf) != 0x0A0D0D0A || rd32(buf + 8) != 0x1A2B3C4D || rd16(buf + 12) != 1)
        bad = 1;
    while (!bad && o < n) {
        uint32_t type, total;
        if (o + 12 > n || (total = rd32(buf + o + 4)) < 12 || total % 4 || total > n - o ||
            rd32(buf + o + total - 4) != total) {
            bad = 1;
            break;
        }
        type = rd32(buf + o);
        const uint8_t *b = buf + o + 8;
        size_t bl = total - 12;
        opt[0] = '\0';
        if (type == 0x0A0D0D0A && bl >= 16 &&
            !pcapng_opts(type, b + 16, bl - 16, opt, sizeof opt)) {
            printf("shb\t%s\n", opt);
        } else if (type == 1 && bl >= 8 && nif < 64 &&
                   !pcapng_opts(type, b + 8, bl - 8, opt, sizeof opt)) {
            linktype[nif++] = rd16(b);
            printf("idb\t%u\t%u\t%s\n", rd16(b), rd32(b + 4), opt);
        } else if (type == 6 && bl >= 20 && rd32(b) < (uint32_t)nif &&
                   20 + (((size_t)rd32(b + 12) + 3) & ~(size_t)3) <= bl) {
            size_t dl = ((size_t)rd32(b + 12) + 3) & ~(size_t)3;
            if (pcapng_opts(type, b + 20 + dl, bl - 20 - dl, opt, sizeof opt)) {
                bad = 1;
                break;
            }
            printf("epb\t%u\t%d\t%llu\t%u\t%u\t%s\n", rd32(b), linktype[rd32(b)],
                   (unsigned long long)rd32(b + 4) << 32 | rd32(b + 8), rd32(b + 12), rd32(b + 16),
                   opt);
        } else {
            bad = 1;
            break;
        }
        o += total;
    }
    free(buf);
    if (bad)
        fprintf(stderr, "%s: not a well-formed pcapng file (block at byte %zu)\n", path, o);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "eve"))
        return eve(argv[2], 1);
    if (argc == 3 && !strcmp(argv[1], "json"))
        return eve(argv[2], 0);
    if (argc == 4 && !strcmp(argv[1], "schema"))
        return schema(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
    if (argc == 4 && !strcmp(argv[1], "pcap"))
        return pcap(argv[2], argv[3]);
    if (argc >= 4 && !strcmp(argv[1], "fields"))
        return fields(argv[2], argc - 3, argv + 3);
    if (argc == 6 && !strcmp(argv[1], "pace"))
        return pace(argv[2], argv[3], strtol(argv[4], NULL, 10), strtol(argv[5], NULL, 10));
    if (argc == 3 && !strcmp(argv[1], "pcapng"))
        return pcapng(argv[2]);
    if (argc >= 6 && !strcmp(argv[1], "record"))
        return record(argv[2], argv[3], argc - 4, argv + 4);
    fprintf(stderr,
            "usage: e2e_helper eve|json FILE | schema DIR N | pcap KIND OUT | "
            "fields FILE PATH... | pace FILE OUT CHUNK USEC | pcapng FILE\n");
    return 2;
}
