#!/bin/sh
# bench_share.sh — `canhgac share` of N incidents at layer 4 (bench_store's
# synthetic mix with -l 4: every incident shared), the shipped policy
# (redacted: 30% of the sources and every destination are internal) and
# --again, so that each run shares all of them: the median time of
# BENCH_RUNS runs (default 5), the bundle's size and objects, and the
# history entries the first run appended (one per incident, in transactions
# of 10,000 on the writer handle).
#
# Usage: tools/bench_share.sh BUILD [N]   (N default 100000; BENCH_DIR)
set -e
B=${1:-build}
N=${2:-100000}
RUNS=${BENCH_RUNS:-5}
W=${BENCH_DIR:-/tmp/canhgac-bench}
S="$W/share-store"
mkdir -p "$W"
rm -rf "$S"
"$B/bench_store" -n "$N" -l 4 "$S" > /dev/null
secs() { date +%s.%N; }
times=""
i=0
while [ "$i" -lt "$RUNS" ]; do
    t0=$(secs)
    out=$("$B/canhgac" share -d "$S" -p rules/layers.conf --again --as bench -o "$W/bundle.json")
    t1=$(secs)
    times="$times $(echo "$t1 - $t0" | bc)"
    [ "$i" -eq 0 ] && echo "first run: $out"
    i=$((i + 1))
done
median=$(echo "$times" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "share of $N incidents at layer 4: median $median s of $RUNS runs (runs:$times)"
echo "bundle: $(wc -c < "$W/bundle.json") bytes, $(grep -c '^{' "$W/bundle.json") objects"
"$B/canhgac" store verify -d "$S" > /dev/null && echo "store verify: clean after $RUNS shares"
du -sh "$S/data.mdb"
rm -rf "$S" "$W/bundle.json"
