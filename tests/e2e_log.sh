#!/bin/sh
# e2e_log.sh — the store's tamper-evident log as an assessor uses it: keys,
# `store verify`, `store checkpoint`, a checkpoint verified with the openssl
# command alone, and what each kind of tampering and each bad input says.
#
# A store is made by `run` over a generated capture; then:
#  - verify is clean, and a checkpoint of it verifies later after triage
#    (today's tree extends it);
#  - the checkpoint's signature line checks with `openssl pkeyutl` (the
#    signed-note signature is Ed25519 over the note's text);
#  - an incident record rewritten by raw LMDB (seal recomputed), an alert
#    removed, are each named by verify (exit 2);
#  - a checkpoint of another store, one with a flipped byte, one signed by
#    another key, a missing key, a key others can read, a checkpoint file
#    that exists: each one line and exit 2;
#  - a schema 3 store: verify says it has no log yet; migrated by a note,
#    its log verifies.
#
# Usage: tests/e2e_log.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=log
. tests/e2e_lib.sh
RUN="run -q -S rules --no-enrich -o /dev/null"

"$B/gen_traffic" -o "$T/t.pcap" -t "$T/t.tsv" 2> /dev/null
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/s" 2> "$T/err"
check "run" "$?" 0
"$CG" keys init -d "$T/s" > "$T/keys.out"
check "keys init" "$?" 0
check "private key 0600" "$(stat -c %a "$T/s/soc-private.pem")" 600

# verify and checkpoint
"$CG" store verify -d "$T/s" > "$T/v.out" 2> "$T/v.err"
check "verify clean" "$?" 0
check_grep "verify says" "$T/v.out" "^$T/s: verified: [0-9]+ records match the latest of [0-9]+ leaves; root [A-Za-z0-9+/]{43}=$"
"$CG" store checkpoint -d "$T/s" -o "$T/cp1.txt" 2> "$T/cp.err"
check "checkpoint" "$?" 0
size1=$(sed -n 2p "$T/cp1.txt")
origin=$(sed -n 1p "$T/cp1.txt")
check "checkpoint: origin" "$(echo "$origin" | grep -Ec '^canhgac\.store/[0-9a-f]{32}$')" 1
check "checkpoint: four lines and a signature" "$(lines "$T/cp1.txt")" 5
check "checkpoint: the size verify gave" "$(grep -c "latest of $size1 leaves" "$T/v.out")" 1
check "checkpoint: the root verify gave" "$(sed -n 3p "$T/cp1.txt")" "$(sed 's/.*root //' "$T/v.out")"
check_grep "checkpoint: signature line" "$T/cp1.txt" "^— $origin [A-Za-z0-9+/]{91}=$"
run_bad "checkpoint over an existing file" "exists already \(--force replaces it\)" store checkpoint -d "$T/s" -o "$T/cp1.txt"

# the signature, with openssl alone: the signed text is the first three
# lines; the signature line's base64 holds a 4-byte key id then 64 bytes
if command -v openssl > /dev/null; then
    head -n 3 "$T/cp1.txt" > "$T/cp1.body"
    sed -n 5p "$T/cp1.txt" | sed 's/.* //' | base64 -d | tail -c 64 > "$T/cp1.sig"
    openssl pkeyutl -verify -pubin -inkey "$T/s/soc-public.pem" -rawin -in "$T/cp1.body" \
        -sigfile "$T/cp1.sig" > "$T/ossl.out" 2>&1
    check "openssl verifies the checkpoint" "$?" 0
else
    echo "log: openssl not installed: its check skipped"
fi

# triage after the checkpoint: today's tree extends it
"$CG" incident note -d "$T/s" --as an 3 "called the owner" > /dev/null
"$CG" incident set -d "$T/s" --as an 3 status=investigating > /dev/null
"$CG" store verify -d "$T/s" -c "$T/cp1.txt" > "$T/v2.out" 2> "$T/v2.err"
check "verify against the checkpoint" "$?" 0
check_grep "extends" "$T/v2.out" "^$T/s: extends $T/cp1.txt: $size1 leaves then, $((size1 + 4)) now \(consistency proof of [0-9]+ hashes\)$"

# bad checkpoints
cp "$T/cp1.txt" "$T/bad.txt"
sed -i '3s/^./X/' "$T/bad.txt"
sed -n 3p "$T/cp1.txt" | grep -q '^X' && sed -i '3s/^./Y/' "$T/bad.txt"
run_bad "a changed checkpoint" "bad signature: the checkpoint was changed after it was signed" store verify -d "$T/s" -c "$T/bad.txt"
"$CG" keys init -d "$T/other" > /dev/null
run_bad "another key" "not signed by the key" store verify -d "$T/s" -c "$T/cp1.txt" --key "$T/other/soc-public.pem"
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/other" 2> /dev/null
"$CG" store checkpoint -d "$T/other" -o "$T/cp-other.txt" 2> /dev/null
run_bad "a checkpoint of another store" "a checkpoint of another store \(canhgac\.store/[0-9a-f]{32}; this store is $origin\)" store verify -d "$T/s" -c "$T/cp-other.txt"
run_bad "no checkpoint file" "$T/none.txt: No such file or directory" store verify -d "$T/s" -c "$T/none.txt"
run_bad "checkpoint without its key" "$T/none.pem: No such file or directory" store checkpoint -d "$T/s" -o "$T/cp9.txt" --key "$T/none.pem"
cp "$T/s/soc-private.pem" "$T/open.pem"
chmod 0644 "$T/open.pem"
run_bad "a key others can read" "readable by others \(mode 0644\): chmod 600" store checkpoint -d "$T/s" -o "$T/cp9.txt" --key "$T/open.pem"
check "no checkpoint left behind" "$(ls "$T" | grep -c '^cp9')" 0

# tampering by raw LMDB: each named
rm -rf "$T/t1" && cp -r "$T/s" "$T/t1"
"$H" record "$T/t1" incidents 5 flip 200
"$CG" query -d "$T/t1" --count > /dev/null 2>&1
check "a rewritten record still reads" "$?" 0
"$CG" store verify -d "$T/t1" > "$T/t1.out" 2> "$T/t1.err"
check "rewritten: exit" "$?" 2
check_grep "rewritten: named" "$T/t1.out" "^$T/t1: incident 5: record does not match leaf [0-9]+$"
check "rewritten: one problem" "$(lines "$T/t1.out")" 1
check_grep "rewritten: summary" "$T/t1.err" "the log does not match the records: 1 problems"
run_bad "checkpoint of a tampered store" "the log does not match the records" store checkpoint -d "$T/t1" -o "$T/cp-t1.txt"
rm -rf "$T/t2" && cp -r "$T/s" "$T/t2"
"$H" record "$T/t2" alerts 2 0 del
"$CG" store verify -d "$T/t2" > "$T/t2.out" 2> /dev/null
check "removed: exit" "$?" 2
check_grep "removed: named" "$T/t2.out" "^$T/t2: alert 2/0: record missing \(leaf [0-9]+\)$"

# a schema 3 store: no log until migrated
mkdir -p "$T/v3" && cp tests/data/store-v3/data.mdb "$T/v3/"
run_bad "schema 3: verify" "a store of schema 3 has no log yet" store verify -d "$T/v3"
"$CG" incident note -d "$T/v3" --as an 1 "migrated" > /dev/null
"$CG" store verify -d "$T/v3" > "$T/v3.out"
check "schema 3 migrated: verify" "$?" 0
# 6 incidents, their alerts, evidence and history, and the note's 2 leaves
n=$(sed -n 's/.*verified: \([0-9]*\) records match the latest of \([0-9]*\) leaves.*/\1 \2/p' "$T/v3.out")
check "schema 3 migrated: leaves" "$(echo "$n" | awk '{ print $2 - $1 }')" 1
e2e_done log
