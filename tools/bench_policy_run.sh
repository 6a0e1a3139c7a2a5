#!/bin/sh
# bench_policy_run.sh B — the layer policy's cost inside `canhgac run`: run
# -r over gen_traffic's capture of about BENCH_POLICY_BYTES (default
# 300,000,000; the ring bench's capture is reused) into a fresh store, with
# the shipped rules, without --policy and with --policy rules/layers.conf
# --escalate-every 1 (the time pass every second instead of every minute,
# so that a run of a few seconds pays for several passes), run by run in
# alternation, BENCH_RUNS each (default 5). Per run: the summary's packets/s
# and the wall time to the store's last commit. One line: the medians and
# the ratio with/without (the cost of deciding each incident's layers on the
# writer thread, in its batch, plus the passes). BENCH_WORKERS sets -w.
set -e
B=${1:-build}
W=${BENCH_DIR:-/tmp/canhgac-bench}
RUNS=${BENCH_RUNS:-5}
BYTES=${BENCH_POLICY_BYTES:-300000000}
CG=$B/canhgac
die() { echo "bench_policy_run: $*" >&2; exit 1; }
[ -x "$CG" ] || die "$CG missing (make B=$B)"
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS=$RUNS: a number of runs, 1 or more" ;; esac
mkdir -p "$W"
PCAP=$W/ring-$BYTES.pcap
if [ ! -s "$PCAP" ]; then
    echo "== generating $PCAP"
    "$B/gen_traffic" -o "$PCAP.tmp" -t "$W/ring-truth.tsv" --bytes "$BYTES" 2> /dev/null
    mv "$PCAP.tmp" "$PCAP"
fi
WOPT=
[ -z "$BENCH_WORKERS" ] || WOPT="-w $BENCH_WORKERS"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
secs() { date +%s.%N; }
S=$W/policy-store
: > "$W/pol-off.txt"
: > "$W/pol-on.txt"
: > "$W/pol-offw.txt"
: > "$W/pol-onw.txt"
# a first run (not timed): the rules cache, the capture in the page cache
rm -rf "$S"
# shellcheck disable=SC2086
"$CG" run -q -r "$PCAP" -d "$S" -S rules -o /dev/null $WOPT
echo "== the layer policy inside run: $(du -m "$PCAP" | cut -f1) MB into a store, without and with --policy, $RUNS runs each"
i=0
while [ "$i" -lt "$RUNS" ]; do
    for mode in off on; do
        rm -rf "$S"
        POPT=
        [ "$mode" = on ] && POPT="--policy rules/layers.conf --escalate-every 1"
        t0=$(secs)
        # shellcheck disable=SC2086
        "$CG" run -r "$PCAP" -d "$S" -S rules -o /dev/null $WOPT $POPT 2> "$W/pol-run.txt"
        t1=$(secs)
        sed -n 's/^  time  *[0-9.]* s, \([0-9]*\) packets\/s.*/\1/p' "$W/pol-run.txt" >> "$W/pol-$mode.txt"
        echo "$t1 - $t0" | bc >> "$W/pol-${mode}w.txt"
    done
    i=$((i + 1))
done
n=$("$CG" query -d "$S" --count 'sid > 0' 2> /dev/null || echo '?')
esc=$("$CG" query -d "$S" --count 'layer >= 2' 2> /dev/null || echo '?')
off=$(median < "$W/pol-off.txt")
on=$(median < "$W/pol-on.txt")
offw=$(median < "$W/pol-offw.txt")
onw=$(median < "$W/pol-onw.txt")
awk -v off="$off" -v on="$on" -v offw="$offw" -v onw="$onw" -v n="$n" -v esc="$esc" 'BEGIN {
    printf "policy off %.0f packets/s (%.2f s), on %.0f packets/s (%.2f s): on/off %.3f in packets/s, %.3f in wall time; %s incidents, %s at layer 2 or more\n",
        off, offw, on, onw, on / off, onw / offw, n, esc }'
echo "  off: $(tr '\n' ' ' < "$W/pol-off.txt") / $(tr '\n' ' ' < "$W/pol-offw.txt")"
echo "  on:  $(tr '\n' ' ' < "$W/pol-on.txt") / $(tr '\n' ' ' < "$W/pol-onw.txt")"
rm -rf "$S"
