#!/bin/sh
# bench_layers.sh — the layer policy's time pass (`canhgac escalate`, as
# `run --policy` makes it every minute) over a store of N synthetic
# incidents (bench_store's mix: 90% new), with the shipped
# rules/layers.conf and a clock a year after them, so that every step is
# due: the first pass writes (the layers at once, every climb and
# reminder), the second finds nothing owed (what a pass costs a sensor's
# writer each minute once a backlog has been escalated).
# Then the same first pass over a second store of the same incidents with
# a notify target (--notify file:): the outbox records written with each
# history entry, and the drain that follows (every notification built from
# its incident, appended to the file, fsync'ed and deleted from the outbox
# 256 at a time); then the outbox's listing, empty.
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
"$B/bench_store" -n "$N" "$S" > /dev/null
# the target's directory is missing for the pass (its one try fails at
# once: the pass's time is the escalations with their outbox records), then
# made for the drain
rm -rf "$W/pages"
T="file:$W/pages/pages.jsonl"
t0=$(secs)
out=$("$B/canhgac" escalate -d "$S" -p rules/layers.conf --now @1900000000 --notify "$T" |
    tr '\n' ' ')
t1=$(secs)
echo "escalate --notify file:, first pass over $N incidents with the outbox: $(echo "$t1 - $t0" | bc) s: $out"
mkdir -p "$W/pages"
t0=$(secs)
out=$("$B/canhgac" outbox -d "$S" --drain --notify "$T")
t1=$(secs)
echo "outbox --drain to the file: $(echo "$t1 - $t0" | bc) s: $out"
echo "notifications written: $(wc -l < "$W/pages/pages.jsonl"), $(du -h "$W/pages/pages.jsonl" | cut -f1)"
du -sh "$S/data.mdb"
rm -rf "$S" "$W/pages"
