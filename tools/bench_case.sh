#!/bin/sh
# bench_case.sh BUILD — `canhgac case export` of a 1,000-incident case (make
# bench runs it; a minute or so).
#
# The store: `run` over gen_traffic captures of different seeds (each about
# 100 incidents with their alerts and evidence packets) until it holds
# BENCH_CASE_INCIDENTS (default 1000); keys; one case of the first that
# many incidents. Then, BENCH_RUNS times (default 5), alternating: the case
# exported to a directory, to a .tar.gz, and each verified; the median wall
# time of each, and the sizes. The files are synced as the export does
# (fsync per file), so the figures are the disk's as much as canhgac's.
# BENCH_DIR (default /tmp/canhgac-bench) holds the work files.
set -e
B=${1:-build}
N=${BENCH_CASE_INCIDENTS:-1000}
RUNS=${BENCH_RUNS:-5}
W=${BENCH_DIR:-/tmp/canhgac-bench}/case
CG="$B/canhgac"
rm -rf "$W"
mkdir -p "$W"
seed=1
while :; do
    n=$("$CG" query -d "$W/s" --count 2> /dev/null || echo 0)
    [ "$n" -ge "$N" ] && break
    "$B/gen_traffic" -o "$W/t.pcap" -t "$W/t.tsv" --seed "$seed" 2> /dev/null
    "$CG" run -q -S rules --no-enrich -o /dev/null -r "$W/t.pcap" -d "$W/s" 2> /dev/null
    seed=$((seed + 1))
done
"$CG" keys init -d "$W/s" > /dev/null
"$CG" case new -d "$W/s" --as bench "bench: $N incidents" --query "id <= $N" > /dev/null
alerts=$("$CG" query -d "$W/s" --json -n 0 "id <= $N" | jq -s 'map(.alerts_stored) | add')
packets=$("$CG" query -d "$W/s" --json -n 0 "id <= $N" | jq -s 'map(.evidence_packets) | add')
# ms CMD...: the wall time of CMD in milliseconds
ms() {
    a=$(date +%s%N)
    "$@" > /dev/null 2>&1 || { echo "bench_case: failed: $*" >&2; exit 1; }
    echo $((($(date +%s%N) - a) / 1000000))
}
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
d="" z="" vd="" vz=""
i=0
while [ "$i" -lt "$RUNS" ]; do
    rm -rf "$W/case" "$W/case.tar.gz"
    d="$d $(ms "$CG" case export 1 -d "$W/s" -o "$W/case" -S rules)"
    z="$z $(ms "$CG" case export 1 -d "$W/s" -o "$W/case.tar.gz" -S rules)"
    vd="$vd $(ms "$CG" case verify "$W/case")"
    vz="$vz $(ms "$CG" case verify "$W/case.tar.gz")"
    i=$((i + 1))
done
echo "case export of $N incidents ($alerts alerts, $packets evidence packets; median of $RUNS):"
echo "  to a directory   $(echo $d | median) ms ($(du -sk "$W/case" | cut -f1) KiB)"
echo "  to a .tar.gz     $(echo $z | median) ms ($(du -k "$W/case.tar.gz" | cut -f1) KiB)"
echo "  verify the directory $(echo $vd | median) ms, the .tar.gz $(echo $vz | median) ms"
rm -rf "$W"
