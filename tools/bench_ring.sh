#!/bin/sh
# bench_ring.sh B — the full-packet ring's cost (run --pcap-dir): `canhgac
# run -r FILE --no-store -S rules -o /dev/null` as a user runs it, over
# gen_traffic's capture of about BENCH_RING_BYTES (default 300,000,000),
# without the ring and with it (--pcap-dir BENCH_DIR/ring --pcap-max
# BENCH_RING_MAX, default 256 MiB: files of 32 MiB, the oldest deleted as a
# sensor's ring is all the time), run by run in alternation (off first, then
# on), BENCH_RUNS each (default 5). Per run the summary's packets/s (the
# packet path, rules loaded; with the ring, until its last file is written
# and indexed) and the ring's bytes written per second of the run. One line:
# the medians, the ratio on/off (the requirement: at least 0.85) and the
# ring's MB/s. BENCH_WORKERS sets -w (default: run's, the cores).
set -e
B=${1:-build}
W=${BENCH_DIR:-/tmp/canhgac-bench}
RUNS=${BENCH_RUNS:-5}
BYTES=${BENCH_RING_BYTES:-300000000}
MAX=${BENCH_RING_MAX:-256}
CG=$B/canhgac
die() { echo "bench_ring: $*" >&2; exit 1; }
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
# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rm -rf "$W/ring"
: > "$W/ring-off.txt"
: > "$W/ring-on.txt"
: > "$W/ring-mbs.txt"
# a first run of each (not timed): the rules cache, the capture in the page cache
# shellcheck disable=SC2086
"$CG" run -q -r "$PCAP" --no-store -S rules -o /dev/null $WOPT
echo "== the packet ring: run over $(du -m "$PCAP" | cut -f1) MB, without and with --pcap-dir (--pcap-max $MAX), $RUNS runs each"
i=0
while [ "$i" -lt "$RUNS" ]; do
    # shellcheck disable=SC2086
    "$CG" run -r "$PCAP" --no-store -S rules -o /dev/null $WOPT 2> "$W/ring-run.txt"
    sed -n 's/^  time  *[0-9.]* s, \([0-9]*\) packets\/s.*/\1/p' "$W/ring-run.txt" >> "$W/ring-off.txt"
    # shellcheck disable=SC2086
    "$CG" run -r "$PCAP" --no-store -S rules -o /dev/null $WOPT --pcap-dir "$W/ring" \
        --pcap-max "$MAX" 2> "$W/ring-run.txt"
    sed -n 's/^  time  *[0-9.]* s, \([0-9]*\) packets\/s.*/\1/p' "$W/ring-run.txt" >> "$W/ring-on.txt"
    sed -n 's/^  pcap ring  .* bytes written (\([0-9.]*\) MB\/s).*/\1/p' "$W/ring-run.txt" >> "$W/ring-mbs.txt"
    grep -q 'stopped' "$W/ring-run.txt" && die "the ring stopped: $(grep 'pcap ring' "$W/ring-run.txt")"
    i=$((i + 1))
done
off=$(median < "$W/ring-off.txt")
on=$(median < "$W/ring-on.txt")
mbs=$(median < "$W/ring-mbs.txt")
workers=$(sed -n 's/^canhgac run: .*(\([0-9]*\) workers*)$/\1/p' "$W/ring-run.txt")
grep '^  pcap ring' "$W/ring-run.txt" | sed 's/^ */last run: /'
awk -v off="$off" -v on="$on" -v mbs="$mbs" -v w="$workers" 'BEGIN {
    printf "ring off %.0f packets/s, on %.0f packets/s (%s workers): on/off %.3f (%.1f%% slower); ring writes %.1f MB/s\n",
        off, on, w, on / off, (1 - on / off) * 100, mbs }'
echo "  off: $(tr '\n' ' ' < "$W/ring-off.txt")"
echo "  on:  $(tr '\n' ' ' < "$W/ring-on.txt")"
rm -rf "$W/ring"
