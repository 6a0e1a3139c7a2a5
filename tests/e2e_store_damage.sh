#!/bin/sh
# e2e_store_damage.sh — a damaged store ends query, incident show and run
# with one line and exit 2, never a signal; store check finds the damage;
# backup and restore round-trip; readers without write access to the store.
#
# A store is made from a generated capture, backed up and checked clean.
# Then ROUNDS times (50, fixed seed: the same offsets and bytes each time)
# a copy of it gets 4 KiB overwritten at an offset in data.mdb (the bytes
# are taken from the capture at another offset), and query, incident show
# 1 and run (which writes into it) are run on the copy. Each must exit 0 or
# exit 2 with one line saying "damaged ... restore from a backup" (or that
# it is not a store, or that incident 1 is not found: counted apart); an
# exit by a signal, or any other status, fails, and so does a query that
# exits 0 with an answer other than the undamaged store's (every record is
# sealed with a checksum: bytes overwritten in place are "checksum mismatch",
# never other values). Every fifth round
# store check runs too and must say damaged whenever query did. In a
# sanitizer build run is left out of the rounds: LMDB's writer copying
# from a damaged page trips the sanitizer's interceptors (memcpy, pwrite)
# inside liblmdb, which is LMDB's doing and reported as such.
#
# Usage: tests/e2e_store_damage.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=damage
. tests/e2e_lib.sh
ROUNDS=${DAMAGE_ROUNDS:-50}
SEED=${DAMAGE_SEED:-20261207}
RUN="run -q -S rules --no-enrich -o /dev/null"


"$B/gen_traffic" -o "$T/t.pcap" -t "$T/t.tsv" 2> /dev/null
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/store" 2> "$T/err"
check "first run" "$?" 0
"$CG" query -d "$T/store" --json -n 0 > "$T/want.json" 2> /dev/null
check "query" "$?" 0
n=$(lines "$T/want.json")
[ "$n" -gt 50 ] || bad "only $n incidents stored"

# check, backup, restore
"$CG" store check -d "$T/store" > "$T/check.out" 2> "$T/check.err"
check "check clean" "$?" 0
check_grep "check clean says" "$T/check.out" "clean: 30 databases"
"$CG" store backup -d "$T/store" -o "$T/backup" 2> "$T/err"
check "backup" "$?" 0
"$CG" query -d "$T/backup" --json -n 0 > "$T/got.json" 2> /dev/null
check "backup reads the same" "$(cmp -s "$T/want.json" "$T/got.json" && echo same)" same
run_bad "backup into a backup" "holds a data.mdb already" store backup -d "$T/store" -o "$T/backup"
run_bad "check without a store" "no canhgac store here" store check -d "$T/none"
"$CG" store > /dev/null 2>&1
check "store without a subcommand" "$?" 2
"$CG" store --help > "$T/help.out"
check "store --help" "$?" 0

# a backup taken while run writes (a paced capture: 100 kB each 50 ms)
# opens and checks clean; restore is refused meanwhile
rm -rf "$T/busy"
cp -r "$T/store" "$T/busy"
mkfifo "$T/fifo"
"$H" pace "$T/t.pcap" "$T/fifo" 100000 50000 &
pacer=$!
# shellcheck disable=SC2086
"$CG" $RUN --batch 1 -r "$T/fifo" -d "$T/busy" 2> /dev/null &
runpid=$!
sleep 0.5
"$CG" store backup -d "$T/busy" -o "$T/busy.bak" 2> "$T/err"
check "backup while run writes" "$?" 0
run_bad "restore while run writes" "stop it before restoring" store restore -i "$T/backup" -d "$T/busy"
wait "$runpid"
check "run went on" "$?" 0
wait "$pacer"
"$CG" store check -d "$T/busy.bak" > /dev/null 2>&1
check "that backup checks clean" "$?" 0

# restore over a damaged store: the same answers again, the old file kept
rm -rf "$T/dam"
cp -r "$T/store" "$T/dam"
dd if=/dev/zero of="$T/dam/data.mdb" bs=4096 seek=3 count=30 conv=notrunc 2> /dev/null
"$CG" store check -d "$T/dam" > "$T/check.out" 2> "$T/check.err"
check "check damaged" "$?" 2
cat "$T/check.out" >> "$T/check.err"
check_grep "check says damaged" "$T/check.err" "damaged .*restore from a backup"
"$CG" store restore -i "$T/backup" -d "$T/dam" > /dev/null 2> "$T/err"
check "restore" "$?" 0
"$CG" query -d "$T/dam" --json -n 0 > "$T/got.json" 2> /dev/null
check "restored reads the same" "$(cmp -s "$T/want.json" "$T/got.json" && echo same)" same
check "the damaged file kept" "$(ls "$T/dam" | grep -c '^data.mdb.damaged-')" 1
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/dam" 2> /dev/null
check "run on the restored store" "$?" 0

# rounds of damage
size=$(stat -c %s "$T/store/data.mdb")
psize=$(stat -c %s "$T/t.pcap")
clean=0 answered=0 lost=0 differ=0 damaged=0 signals=0 others=0 rounds=0 missed=0
sanitized=
grep -q __asan_init "$CG" && sanitized=1
s=$SEED
rnd() { s=$(( (s * 1103515245 + 12345) % 2147483648 )); }
# outcome NAME STATUS ERRFILE: tallies one command's outcome
outcome() {
    case $2 in
    0) answered=$((answered + 1)) ;;
    2)
        if [ "$(lines "$3")" = 1 ] && grep -Eq ': (damaged \(.*\): restore from a backup|.*not a canhgac store|.*no canhgac store here)' "$3"; then
            damaged=$((damaged + 1))
        elif [ "$(lines "$3")" = 1 ] && grep -q 'incident 1: not found' "$3"; then
            lost=$((lost + 1))   # the damage took the record's page out of its tree
        else
            others=$((others + 1))
            bad "round $rounds: $1 exit 2 without the message: $(head -c 300 "$3")"
        fi ;;
    *)
        if [ "$2" -gt 128 ]; then signals=$((signals + 1)); else others=$((others + 1)); fi
        bad "round $rounds (offset $off): $1 exit $2: $(head -c 300 "$3")" ;;
    esac
}
while [ "$rounds" -lt "$ROUNDS" ]; do
    rounds=$((rounds + 1))
    rm -rf "$T/d"
    cp -r "$T/store" "$T/d"
    rnd; off=$((s % (size - 4096)))
    rnd; from=$((s % (psize - 4096)))
    dd if="$T/t.pcap" bs=1 skip="$from" count=4096 2> /dev/null |
        dd of="$T/d/data.mdb" bs=1 seek="$off" conv=notrunc 2> /dev/null
    "$CG" query -d "$T/d" --json -n 0 > "$T/got.json" 2> "$T/q.err"
    q=$?
    outcome query "$q" "$T/q.err"
    if [ "$q" = 0 ] && ! cmp -s "$T/want.json" "$T/got.json"; then
        differ=$((differ + 1))
        echo "damage: round $rounds (offset $off): query answered differently:"
        diff "$T/want.json" "$T/got.json" | head -c 600
    fi
    [ "$q" = 0 ] && cmp -s "$T/want.json" "$T/got.json" && clean=$((clean + 1))
    "$CG" incident show 1 -d "$T/d" > /dev/null 2> "$T/s.err"
    outcome "incident show" "$?" "$T/s.err"
    if [ $((rounds % 5)) = 0 ]; then
        "$CG" store check -d "$T/d" > "$T/c.out" 2> "$T/c.err"
        c=$?
        case $c in 0|2) ;; *) bad "round $rounds: store check exit $c" ;; esac
        if [ "$q" = 2 ] && [ "$c" = 0 ]; then missed=$((missed + 1)); bad "round $rounds: query said damaged, check clean"; fi
    fi
    [ -n "$sanitized" ] && continue
    # shellcheck disable=SC2086
    "$CG" $RUN -r "$T/t.pcap" -d "$T/d" 2> "$T/r.err"
    outcome run "$?" "$T/r.err"
done
[ -n "$sanitized" ] && echo "damage: a sanitizer build: run left out of the rounds"
echo "damage: $rounds rounds: $answered answered ($clean queries the same as undamaged, $differ different), $lost incident 1 not found, $damaged said damaged, $signals signals, $others other exits"
check "no signal" "$signals" 0
check "no different answer" "$differ" 0

# readers without write access (as root: nobody / nogroup)
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    chmod 0711 "$T"
    rm -rf "$T/ro"
    mkdir "$T/ro"
    chmod 0755 "$T/ro"
    cp -r "$T/store" "$T/ro/store"
    rm -f "$T/ro/store/lock.mdb"
    # shellcheck disable=SC2086
    "$CG" $RUN -r "$T/t.pcap" -d "$T/ro/store" 2> /dev/null
    check "the writer makes lock.mdb 0660" "$(stat -c %a "$T/ro/store/lock.mdb")" 660
    check "data.mdb 0640" "$(stat -c %a "$T/ro/store/data.mdb")" 640
    # the store's group reads with LMDB's lock, without a notice
    chgrp -R nogroup "$T/ro/store"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$CG" query -d "$T/ro/store" --count > "$T/ro.out" 2> "$T/ro.err"
    check "group reader: query" "$?" 0
    check "group reader: no notice" "$(lines "$T/ro.err")" 0
    check "group reader: count" "$(cat "$T/ro.out")" "$("$CG" query -d "$T/ro/store" --count)"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$CG" incident show 1 -d "$T/ro/store" > /dev/null 2> "$T/ro.err"
    check "group reader: incident show" "$?" 0
    # others who may read data.mdb but not write lock.mdb: read without the lock, with a notice
    chgrp -R root "$T/ro/store"
    chmod o+rx "$T/ro/store"
    chmod o+r "$T/ro/store/data.mdb" "$T/ro/store/lock.mdb"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$CG" query -d "$T/ro/store" --count > "$T/ro.out" 2> "$T/ro.err"
    check "read-only reader: query" "$?" 0
    check_grep "read-only reader: notice" "$T/ro.err" "notice: lock.mdb is not writable"
    check "read-only reader: one line" "$(lines "$T/ro.err")" 1
    check "read-only reader: count" "$(cat "$T/ro.out")" "$("$CG" query -d "$T/ro/store" --count)"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$CG" incident show 1 -d "$T/ro/store" > /dev/null 2> "$T/ro.err"
    check "read-only reader: incident show" "$?" 0
    check "nothing written" "$(ls "$T/ro/store" | tr '\n' ' ')" "data.mdb lock.mdb writer.lock "
else
    echo "damage: read-only readers skipped (needs root and setpriv)"
fi
e2e_done damage
