#!/bin/sh
# bench_report.sh — `canhgac report` over a quarter of a store of N
# synthetic incidents (bench_store's mix, alerts stored: -a; its 30 days
# from 2025-11-23 lie inside the quarter 2025-10-01 .. 2025-12-31, so every
# incident is in the report): the --json report and the PDF, each the
# median of RUNS runs (the first warms the page cache and is one of them).
# With STORE (tools/bench.sh passes its 10M store) that store is read and
# kept; else one is built in BENCH_DIR and removed.
#
# Usage: tools/bench_report.sh BUILD [STORE]   (N: BENCH_INCIDENTS, default
#        10000000; RUNS default 3)
set -e
B=${1:-build}
W=${BENCH_DIR:-/tmp/canhgac-bench}
N=${BENCH_INCIDENTS:-10000000}
RUNS=${RUNS:-3}
S=${2:-}
own=0
mkdir -p "$W"
if [ -z "$S" ] || [ ! -f "$S/data.mdb" ]; then
    S="$W/report-store"
    own=1
    rm -rf "$S"
    "$B/bench_store" -n "$N" -a "$S" > /dev/null
fi
export TZ=UTC
secs() { date +%s.%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
n=$("$B/canhgac" query -d "$S" --count 'since 2025-10-01 and until 2026-01-01')
for fmt in json pdf; do
    : > "$W/report-times"
    for i in $(seq "$RUNS"); do
        t0=$(secs)
        if [ "$fmt" = json ]; then
            "$B/canhgac" report -d "$S" --from 2025-10-01 --to 2025-12-31 \
                --policy rules/layers.conf --json -o "$W/q.json" 2> /dev/null
        else
            "$B/canhgac" report -d "$S" --from 2025-10-01 --to 2025-12-31 \
                --policy rules/layers.conf --lang vi -o "$W/q.pdf" 2> /dev/null
        fi
        t1=$(secs)
        echo "$t1 - $t0" | bc >> "$W/report-times"
    done
    echo "report --$fmt, a quarter of $n incidents: median $(median < "$W/report-times") s" \
        "of $RUNS runs ($(tr '\n' ' ' < "$W/report-times"))"
done
echo "the PDF: $(pdfinfo "$W/q.pdf" 2> /dev/null | awk '/^Pages:/ { print $2 }') pages;" \
    "total in the JSON: $(jq .total "$W/q.json")"
rm -f "$W/q.json" "$W/q.pdf" "$W/report-times"
if [ "$own" = 1 ]; then rm -rf "$S"; fi
exit 0
