#!/bin/sh
# e2e_full_disk.sh — a full disk under the store and the EVE file: run ends
# with exit 1 and one line naming the file or the store and "No space left
# on device" (never a signal, a hang, or "damaged"), and nothing that was
# committed is lost.
#
# It runs as root in a mount namespace of its own (unshare -m: nothing is
# mounted on the host) and puts what run writes on a small tmpfs:
#   1. the EVE file on a full tmpfs, the store elsewhere;
#   2. the store on a full tmpfs, the EVE file elsewhere;
#   3. both on the same full tmpfs;
#   4. a disk full before run starts, with 0 to 5 pages free, so that the
#      store cannot be created (writer.lock, lock.mdb, data.mdb's meta
#      pages, the first commit);
#   5. a store made, then the disk filled: run, query, incident show and
#      store check on it (the readers answer; run says no space and the
#      store is as it was), and a reader whose lock.mdb is all holes.
# After each, what a user checks: with space freed (the tmpfs remounted
# larger) store check passes, query answers, and every incident in the store
# is the same incident of a reference run on a roomy disk (same capture,
# same options) as it stood at a commit: equal but for what grows as
# alerts are folded in (count, last seen, alerts and evidence stored, the
# HTTP status of a response that came later), which is no more than the
# reference's; every id that --progress reported as stored is there, and no
# other. The EVE file holds whole lines only: each is JSON, the file ends
# with a newline (run cuts a line a full disk split off again), and it is
# the reference's EVE file's first lines. The next run, with room again,
# exits 0.
#
# Not root: a skip line, exit 0 (the CI runs it as root).
# Usage: tests/e2e_full_disk.sh BUILD_DIR   (from the top of the tree;
# FULL_DISK_VERBOSE=1 prints what run said in each case)
B=${1:-build}
if [ "$(id -u)" != 0 ]; then
    echo "full_disk: skipped: not root (it mounts a tmpfs in a mount namespace of its own)"
    exit 0
fi
if [ -z "$FULL_DISK_NS" ]; then
    if ! command -v unshare > /dev/null || ! unshare -m true 2> /dev/null; then
        echo "full_disk: skipped: unshare -m is not permitted here"
        exit 0
    fi
    FULL_DISK_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
E2E_NAME=fulldisk
. tests/e2e_lib.sh
command -v jq > /dev/null || { echo "full_disk: needs jq (tools/setup.sh)"; exit 1; }
M="$T/mnt"
mkdir -p "$M"
OPTS="-q -S rules --no-enrich --batch 10"
# mnt SIZE: a fresh tmpfs of SIZE at M
mnt() {
    umount "$M" 2> /dev/null
    mount -t tmpfs -o size="$1" tmpfs "$M" || { echo "full_disk: cannot mount a tmpfs"; exit 1; }
}
# fill PAGES: fills M but PAGES pages of 4 KiB
fill() {
    dd if=/dev/zero of="$M/fill" bs=4096 oflag=append conv=notrunc 2> /dev/null
    if [ "$1" -gt 0 ]; then truncate -s "-$(($1 * 4096))" "$M/fill"; fi
}
# cg OUT ERR ARGS...: canhgac ARGS, at most 120 s; its status in rc
cg() {
    out=$1 err=$2
    shift 2
    timeout 120 "$CG" "$@" > "$out" 2> "$err"
    rc=$?
}
# no_space NAME ERR PATTERN MAXLINES: rc is 1 (not a signal, not the
# timeout); stderr, but for --progress's lines, is 1 to MAXLINES lines, the
# first matching PATTERN and "No space left on device", and none says damaged
no_space() {
    check "$1: exit" "$rc" 1
    grep -v '^canhgac run: stored: ' "$2" > "$T/msg"
    [ -n "$FULL_DISK_VERBOSE" ] && sed "s|^|$1: |" "$T/msg"
    n=$(lines "$T/msg")
    if [ "$n" -ge 1 ] && [ "$n" -le "$4" ]; then ok; else bad "$1: $n lines on stderr: $(cat "$T/msg")"; fi
    check_grep "$1: says no space" "$T/msg" "^canhgac [a-z]+: $3: .*No space left on device"
    if grep -qi 'damaged\|restore from a backup' "$2"; then bad "$1: says damaged: $(cat "$2")"; else ok; fi
}
# eve_whole NAME FILE: every line is JSON, the last ends with a newline, and
# the lines are the reference's first ones
eve_whole() {
    jq -c . "$2" > /dev/null 2>&1
    check "$1: every EVE line is JSON" "$?" 0
    [ -s "$2" ] && check "$1: the EVE file ends with a whole line" "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" '\n'
    n=$(lines "$2")
    head -n "$n" "$T/ref.json" | cmp -s - "$2"
    check "$1: the EVE file is the reference's first $n lines" "$?" 0
    [ "$n" -lt "$(lines "$T/ref.json")" ] || bad "$1: the EVE file is whole: the disk was not full"
}
# store_kept NAME DIR ERR: DIR checks clean and answers; each incident is the
# reference's as it stood at a commit; the ids are 1 .. the last --progress
# reported (ERR), every one
store_kept() {
    "$CG" store check -d "$2" > "$T/c.out" 2>&1
    check "$1: store check" "$?" 0
    "$CG" query -d "$2" --json -n 0 > "$T/part.json" 2> "$T/q.err"
    check "$1: query" "$?" 0
    diffs=$(jq -r --slurpfile r "$T/ref.idx" '
        def core: del(.count, .last_seen, .alerts_stored, .evidence_packets)
                  | if .http then .http |= del(.status) else . end;
        . as $p | $r[0][$p.incident_id | tostring] as $q
        | select($q == null or ($p | core) != ($q | core) or $p.count > $q.count
                 or $p.last_seen > $q.last_seen or $p.alerts_stored > $q.alerts_stored
                 or $p.evidence_packets > $q.evidence_packets
                 or (($p.http.status // 0) != 0 and $p.http.status != $q.http.status))
        | .incident_id' "$T/part.json" | tr '\n' ' ')
    check "$1: every incident is the reference's (ids that differ)" "$diffs" ""
    last=$(sed -n 's/^canhgac run: stored: .*, last id \([0-9]*\)$/\1/p' "$3" | tail -n 1)
    if [ -n "$last" ]; then
        ids=$(jq -s -c '[.[].incident_id] | sort' "$T/part.json")
        check "$1: the ids reported stored (1 .. $last), no other" "$ids" "$(jq -n -c "[range(1; $last + 1)]")"
    fi
    stored=$(jq -s length "$T/part.json")
    [ "$stored" -gt 0 ] || bad "$1: nothing stored"
    "$CG" incident show 1 -d "$2" > /dev/null 2> "$T/s.err"
    check "$1: incident show 1" "$?" 0
}
t0=$(date +%s)

"$B/gen_traffic" -o "$T/t.pcap" -t "$T/t.tsv" 2> /dev/null
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS -r "$T/t.pcap" -d "$T/ref" -o "$T/ref.json"
check "reference run" "$rc" 0
"$CG" query -d "$T/ref" --json -n 0 > "$T/ref.q" 2> /dev/null
jq -s 'INDEX(.incident_id)' "$T/ref.q" > "$T/ref.idx"
nref=$(lines "$T/ref.q")
[ "$nref" -gt 50 ] || bad "the reference stored only $nref incidents"

# 1. the EVE file on a full disk: it stops, the store takes what came
mnt 1m
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS --progress -r "$T/t.pcap" -d "$T/s1" -o "$M/eve.json"
no_space "1 (EVE full)" "$T/err" "$M/eve.json" 1
eve_whole "1 (EVE full)" "$M/eve.json"
store_kept "1 (EVE full)" "$T/s1" "$T/err"
facts="EVE full: $(lines "$M/eve.json") of $(lines "$T/ref.json") lines kept, $(lines "$T/part.json") incidents stored"
# the summary counts the lines in the file, and those not written
cp "$M/eve.json" "$T/eve1.json"
mnt 1m
# shellcheck disable=SC2086
"$CG" run -S rules --no-enrich --batch 10 -r "$T/t.pcap" -d "$T/s1b" -o "$M/eve.json" 2> "$T/err"
check "1: summary: lines in the file" \
    "$(sed -n 's/^  eve  *\([0-9]*\) lines:.*/\1/p' "$T/err")" "$(lines "$M/eve.json")"
check_grep "1: summary: lines not written" "$T/err" "not written \\($M/eve.json: No space left on device\\)"
check "1: the same lines as the first time" "$(cmp -s "$M/eve.json" "$T/eve1.json" && echo same)" same

# 2. the store on a full disk: the batch that does not fit is not stored,
# the ones before are
mnt 256k
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS --progress -r "$T/t.pcap" -d "$M/store" -o "$T/eve2.json"
no_space "2 (store full)" "$T/err" "$M/store: commit" 1
grep -q 'stored: ' "$T/err" || bad "2: no commit before the disk was full (a larger tmpfs?)"
eve_whole "2 (store full)" "$T/eve2.json"
store_kept "2 (store full, full disk)" "$M/store" "$T/err"
facts="$facts; store full: $(lines "$T/part.json") incidents kept"
mount -o remount,size=16m "$M"
store_kept "2 (store full, remounted)" "$M/store" "$T/err"
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS -r "$T/t.pcap" -d "$M/store" -o /dev/null
check "2: the next run, with room" "$rc" 0
"$CG" store check -d "$M/store" > /dev/null 2>&1
check "2: and the store checks clean" "$?" 0

# 3. both on one full disk: one line for each that failed
mnt 1m
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS --progress -r "$T/t.pcap" -d "$M/store" -o "$M/eve.json"
no_space "3 (both)" "$T/err" "$M/(eve.json|store: commit)" 2
eve_whole "3 (both)" "$M/eve.json"
mount -o remount,size=16m "$M"
store_kept "3 (both)" "$M/store" "$T/err"
facts="$facts; both: $(lines "$M/eve.json") lines, $(lines "$T/part.json") incidents"

# 4. a disk full before run starts: the store is not created, and nothing
# of it stays that the next run would take for a damaged store
for free in 0 1 2 3 4 5; do
    mnt 1m
    fill "$free"
    # shellcheck disable=SC2086
    cg /dev/null "$T/err" run $OPTS -r "$T/t.pcap" -d "$M/store" -o /dev/null
    no_space "4 ($free pages free)" "$T/err" "$M/store(: [a-z.]+)?" 1
    check "4 ($free pages free): no data.mdb left" "$([ -e "$M/store/data.mdb" ] && echo left)" ""
    rm -f "$M/fill"
    # shellcheck disable=SC2086
    cg /dev/null "$T/err" run $OPTS -r "$T/t.pcap" -d "$M/store" -o /dev/null
    check "4 ($free pages free): the run with room" "$rc" 0
    "$CG" query -d "$M/store" --json -n 0 > "$T/q4.json" 2> /dev/null
    check "4 ($free pages free): the store is the reference's" "$(cmp -s "$T/q4.json" "$T/ref.q" && echo same)" same
done

# 5. a store, then a full disk: the readers answer; run says no space,
# and what it committed before (into pages LMDB had freed: the file need
# not grow for every commit) is kept, the incidents before as they were
mnt 2m
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS -r "$T/t.pcap" -d "$M/store" -o /dev/null
check "5: the store" "$rc" 0
fill 0
cg "$T/q5.json" "$T/err" query -d "$M/store" --json -n 0
check "5: query on a full disk" "$rc" 0
check "5: query answers as before" "$(cmp -s "$T/q5.json" "$T/ref.q" && echo same)" same
cg /dev/null "$T/err" incident show 1 -d "$M/store"
check "5: incident show on a full disk" "$rc" 0
cg /dev/null "$T/err" store check -d "$M/store"
check "5: store check on a full disk" "$rc" 0
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS --progress -r "$T/t.pcap" -d "$M/store" -o /dev/null
no_space "5 (run)" "$T/err" "$M/store: commit" 1
"$CG" store check -d "$M/store" > /dev/null 2>&1
check "5: after run, store check" "$?" 0
"$CG" query -d "$M/store" --json -n 0 > "$T/q5.json" 2> /dev/null
jq -c "select(.incident_id <= $nref)" "$T/q5.json" > "$T/q5a.json"
check "5: after run, the incidents before as they were" "$(cmp -s "$T/q5a.json" "$T/ref.q" && echo same)" same
last=$(sed -n 's/^canhgac run: stored: .*, last id \([0-9]*\)$/\1/p' "$T/err" | tail -n 1)
check "5: after run, the ids reported stored, no other" "$(jq -s -c '[.[].incident_id] | sort' "$T/q5.json")" \
    "$(jq -n -c "[range(1; ${last:-$nref} + 1)]")"
"$CG" query -d "$M/store" --json -n 0 > "$T/q5.json" 2> /dev/null
# a lock.mdb of holes (as LMDB makes it) on the full disk: the reader goes
# without LMDB's lock, with a notice, rather than fault
rm -f "$M/store/lock.mdb"
truncate -s 8192 "$M/store/lock.mdb"
fill 0
cg "$T/q5b.json" "$T/err" query -d "$M/store" --json -n 0
check "5: query, lock.mdb of holes" "$rc" 0
check_grep "5: the notice" "$T/err" "notice: no space left on device for lock.mdb"
check "5: one line" "$(lines "$T/err")" 1
check "5: and the answer" "$(cmp -s "$T/q5.json" "$T/q5b.json" && echo same)" same
rm -f "$M/fill"
# shellcheck disable=SC2086
cg /dev/null "$T/err" run $OPTS -r "$T/t.pcap" -d "$M/store" -o /dev/null
check "5: the next run, with room" "$rc" 0

umount "$M"
echo "full_disk: $nref incidents in the reference; $facts; $(($(date +%s) - t0)) s"
e2e_done full_disk
