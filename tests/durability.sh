#!/bin/sh
# Durability: what `canhgac run` reports as stored survives kill -9 at any
# moment. run --progress prints "stored: N incidents, last id X" once each
# commit has returned, so this run's ids X-N+1 .. X are on disk. The test
# starts run on a generated capture of 50 MB with a commit per alert
# (--batch 1), kills it with SIGKILL at a random moment, at least KILLS times
# while it is running (half of the runs read the file at full speed, half a
# paced copy through a FIFO so that the kill lands anywhere in a longer run),
# and after each kill checks that the store opens (query --count), that every
# id any run reported is there (a count over each reported range, and
# incident show of its ends), and at the end that a run to completion still
# works on the store and stores its whole ground truth.
# Usage: tests/durability.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
CG="$B/canhgac"
H="$B/e2e_helper"
KILLS=${DURABILITY_KILLS:-12}
T=$(mktemp -d /tmp/canhgac-dur.XXXXXX)
export CANHGAC_CACHE="$T/cache"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() {
    if [ "$2" = "$3" ]; then ok; else bad "$1: got [$2] want [$3]"; fi
}
rand() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }   # 0 .. 65535
now_ms() { date +%s%3N; }

"$B/gen_traffic" -o "$T/big.pcap" -t "$T/truth.tsv" --bytes 50000000 2> /dev/null
"$B/gen_traffic" -o "$T/small.pcap" -t "$T/small.tsv" 2> /dev/null
want=$(grep -vc '^#' "$T/truth.tsv")
RUN="run -S rules -d $T/store --batch 1 --progress --no-enrich -o /dev/null"

# the store exists before the first kill, and a full run of the big capture
# says how long one takes
# shellcheck disable=SC2086
"$CG" $RUN -q -r "$T/small.pcap" 2> /dev/null
check "first run" "$?" 0
t0=$(now_ms)
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/big.pcap" 2> "$T/full.err"
check "a full run" "$?" 0
full_ms=$(($(now_ms) - t0 + 20))
: > "$T/ranges"

kills=0
tries=0
start=$(now_ms)
while [ "$kills" -lt "$KILLS" ] && [ "$tries" -lt $((KILLS * 5)) ]; do
    tries=$((tries + 1))
    if [ $((tries % 2)) -eq 1 ]; then
        src="$T/big.pcap"
        delay=$(($(rand) % full_ms))
    else
        rm -f "$T/fifo"
        mkfifo "$T/fifo"
        "$H" pace "$T/big.pcap" "$T/fifo" 2000000 60000 &
        pacer=$!
        src="$T/fifo"
        delay=$((50 + $(rand) % 1500))
    fi
    : > "$T/run.err"
    # shellcheck disable=SC2086
    "$CG" $RUN -r "$src" 2> "$T/run.err" &
    pid=$!
    sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
    exec 3>&2 2> /dev/null   # not the shell's "Killed"
    kill -9 "$pid"
    wait "$pid"
    rc=$?
    exec 2>&3 3>&-
    if [ "$src" = "$T/fifo" ]; then
        kill "$pacer" 2> /dev/null
        wait "$pacer" 2> /dev/null
    fi
    if grep -q '^  time ' "$T/run.err"; then
        # done before the kill, or killed on its way out
        check "a run that ended before the kill" "$(test "$rc" -eq 0 -o "$rc" -eq 137 && echo yes)" yes
    else
        kills=$((kills + 1))
        check "killed run $kills (after $delay ms)" "$rc" 137
    fi
    # what it reported last: this run's ids X-N+1 .. X
    last=$(grep 'stored: ' "$T/run.err" | tail -n 1)
    if [ -n "$last" ]; then
        n=$(echo "$last" | sed 's/.*stored: \([0-9]*\) incidents.*/\1/')
        x=$(echo "$last" | sed 's/.*last id \([0-9]*\).*/\1/')
        echo "$((x - n + 1)) $x" >> "$T/ranges"
        [ -n "$DURABILITY_VERBOSE" ] && echo "run $tries: killed after $delay ms, $n incidents reported, last id $x"
    fi
    count=$("$CG" query -d "$T/store" --count 2> "$T/q.err")
    check "the store opens after kill $kills" "$?" 0
    while read -r lo hi; do
        check "ids $lo..$hi are all there" "$("$CG" query -d "$T/store" --count "id >= $lo and id <= $hi")" $((hi - lo + 1))
    done < "$T/ranges"
    if [ -n "$last" ]; then
        "$CG" incident show -d "$T/store" "$x" > /dev/null
        check "incident show $x (the last reported)" "$?" 0
        "$CG" incident show -d "$T/store" "$((x - n + 1))" > /dev/null
        check "incident show $((x - n + 1)) (this run's first)" "$?" 0
    fi
    check "the count holds every reported incident" \
        "$(awk -v c="$count" '{ s += $2 - $1 + 1 } END { print (c >= s) ? "yes" : "no " c " < " s }' "$T/ranges")" yes
done
check "killed at least $KILLS times mid-run" "$(test "$kills" -ge "$KILLS" && echo yes)" yes
check "reports seen" "$(test -s "$T/ranges" && echo yes)" yes

# the store is whole: a run to completion stores the capture's whole truth
before=$("$CG" query -d "$T/store" --count)
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/big.pcap" 2> "$T/last.err"
check "a run after the kills" "$?" 0
check "it stored its whole truth" "$(($("$CG" query -d "$T/store" --count) - before))" "$want"
echo "durability: $kills kills in $(( ($(now_ms) - start) / 1000 )) s, $(wc -l < "$T/ranges" | tr -d ' ') runs reported what they stored"

rm -rf "$T"
echo "durability: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
