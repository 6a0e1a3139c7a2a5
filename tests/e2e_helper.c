/* e2e_helper.c — small tools the end-to-end script (tests/e2e.sh) needs:
 *
 *   e2e_helper eve FILE           parse every line of an EVE file with json-c;
 *                                 print "sid<TAB>src_ip<TAB>dest_ip" per alert;
 *                                 exit 1 on a line that is not valid EVE
 *   e2e_helper json FILE          check every line of FILE is a JSON object
 *   e2e_helper schema DIR N       set the store's meta "schema" to N (raw LMDB)
 *   e2e_helper pcap KIND OUT      write a crafted capture: ok, zerolen,
 *                                 oversnap (caplen > snaplen), cutrecord
 */
#include <json-c/json.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    uint8_t v[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    MDB_val k = {6, "schema"}, val = {4, v};
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) || mdb_env_open(env, dir, 0, 0600) ||
        mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "meta", 0, &dbi) ||
        mdb_put(txn, dbi, &k, &val, 0) || mdb_txn_commit(txn)) {
        fprintf(stderr, "%s: cannot set schema\n", dir);
        return 1;
    }
    mdb_env_close(env);
    return 0;
}

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

/* A little-endian pcap: Ethernet, snaplen 96, then one or two records. */
static int pcap(const char *kind, const char *out)
{
    static const uint8_t frame[60] = {
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
        0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        0x30, 0x39, 0, 53, 0, 26, 0, 0, 'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd',
        '!', '!', '!', '!', '!', '!', '!'};
    FILE *f = fopen(out, "wb");
    if (!f)
        return 1;
    put32(f, 0xa1b2c3d4);
    put32(f, 0x00040002);
    put32(f, 0);
    put32(f, 0);
    put32(f, 96);          /* snaplen */
    put32(f, 1);           /* Ethernet */
    /* a good record first */
    put32(f, 1763856000); put32(f, 0); put32(f, 60); put32(f, 60);
    fwrite(frame, 1, 60, f);
    if (!strcmp(kind, "zerolen")) {
        put32(f, 1763856001); put32(f, 0); put32(f, 0); put32(f, 60);
        put32(f, 1763856002); put32(f, 0); put32(f, 60); put32(f, 60);
        fwrite(frame, 1, 60, f);
    } else if (!strcmp(kind, "oversnap")) {
        put32(f, 1763856001); put32(f, 0); put32(f, 200); put32(f, 200);
        for (int i = 0; i < 200; i++)
            fputc(0, f);
    } else if (!strcmp(kind, "cutrecord")) {
        put32(f, 1763856001); put32(f, 0); put32(f, 60); put32(f, 60);
        fwrite(frame, 1, 20, f);
    }
    return fclose(f) != 0;
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
    fprintf(stderr, "usage: e2e_helper eve|json FILE | schema DIR N | pcap KIND OUT\n");
    return 2;
}
