#!/bin/sh
# bench_layers.sh — the layer policy's time pass (`canhgac escalate`, as
# `run --policy` makes it every minute) over a store of N synthetic
# incidents (bench_store's mix: 90% new), with the shipped
# rules/layers.conf and a clock a year after them, so that every step is
# due: the first pass writes (the layers at once, every climb and
# reminder), the second finds nothing owed (what a pass costs a sensor's
# writer each minute once a backlog has been escalated).
#
# Usage: tools/bench_layers.sh BUILD [N]   (N default 1000000; BENCH_DIR)
set -e
B=${1:-build}
N=${2:-1000000}
W=${BENCH_DIR:-/tmp/canhgac-bench}
S="$W/layers-store"
mkdir -p "$W"
rm -rf "$S"
"$B/bench_store" -n "$N" "$S" > /dev/null
secs() { date +%s.%N; }
for pass in first second; do
    t0=$(secs)
    out=$("$B/canhgac" escalate -d "$S" -p rules/layers.conf --now @1900000000)
    t1=$(secs)
    echo "escalate, $pass pass over $N incidents: $(echo "$t1 - $t0" | bc) s: $out"
done
du -sh "$S/data.mdb"
rm -rf "$S"
