#!/bin/sh
# bench_core.sh B — like for like on one core: `canhgac run -r FILE -w 1
# --no-store` as a user runs it, timed whole under /usr/bin/time, over the
# bench capture (gen_bench_pcap.py, 500,000 packets, seed 7: 500,012 packets,
# 222 MB of HTTP flows) with four rule sets:
#   quiet, streams      5,000 content rules from ET Open whose contents are
#                       not in the capture's first MB (gen_et_content_rules.py
#                       with that sample: they fire about as rarely as real ones)
#   quiet, packets only the same with --no-stream
#   noisy, streams      5,000 content rules from ET Open (no sample: many fire
#                       on every flow)
#   ET Open, streams    every ET Open rule that loads (-S the directory)
# Each case: a first run fills the rules cache (not timed), then BENCH_RUNS
# runs (default 7); one line each with the medians of wall time, peak RSS and
# packets/s (the summary's: the packet path, rules loaded), the stream bytes
# and the bytes of stream pieces scanned (and the ratio), the rules verified
# per MB of capture and the alerts. Then ET Open's load: `run -r` of the
# capture's first 2 MB (whole packets), cold (an empty cache, 3 runs, each
# with a new one) and from the cache (3 runs; BENCH_RUNS if fewer).
# BENCH_BASE=/path/to/another/canhgac runs every case with that binary too,
# run by run in the same loop (alternating which goes first), with its own
# cache: the line gives its medians and the speed-up (base / this build).
# BENCH_DIR (default /tmp/canhgac-bench) keeps the capture, the rule sets and
# the caches (cache-core, cache-core-base) between runs.
set -e
B=${1:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
BASE=${BENCH_BASE:-}
case $BASE in /* | "") ;; *) BASE=$PWD/$BASE ;; esac
cd "$(dirname "$0")/.."
DATA=${CANHGAC_DATA:-../shared/data}
TOOLS=${CANHGAC_TOOLS:-$DATA/../tools}
ET=$DATA/rules/etopen
W=${BENCH_DIR:-/tmp/canhgac-bench}
RUNS=${BENCH_RUNS:-7}
CG=$B/canhgac
TIME=/usr/bin/time
PCAP=$W/bench-500000-7.pcap
TINY=$W/bench-2mb.pcap
die() { echo "bench_core: $*" >&2; exit 1; }

[ -x "$CG" ] || die "$CG missing (make B=${1:-build})"
[ -z "$BASE" ] || [ -x "$BASE" ] || die "BENCH_BASE=$BASE: not an executable"
[ -x "$TIME" ] || die "$TIME missing (apt-get install time)"
command -v python3 > /dev/null || die "python3 missing"
[ -f "$TOOLS/gen_bench_pcap.py" ] || die "$TOOLS/gen_bench_pcap.py missing (CANHGAC_TOOLS)"
[ -f "$TOOLS/gen_et_content_rules.py" ] || die "$TOOLS/gen_et_content_rules.py missing (CANHGAC_TOOLS)"
[ -d "$ET" ] || die "$ET missing (CANHGAC_DATA)"
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS=$RUNS: a number of runs, 1 or more" ;; esac
mkdir -p "$W"

# ---- the capture and the rule sets, made once (each written aside, then moved in)
if [ ! -s "$PCAP" ]; then
    echo "== generating $PCAP (500,000 packets, seed 7)"
    python3 "$TOOLS/gen_bench_pcap.py" "$PCAP.tmp" 500000 7 > /dev/null
    mv "$PCAP.tmp" "$PCAP"
fi
if [ ! -s "$W/quiet.rules" ]; then
    head -c 1000000 "$PCAP" > "$W/quiet-sample.bin"
    python3 "$TOOLS/gen_et_content_rules.py" "$ET" 5000 classic "$W/quiet-sample.bin" > "$W/quiet.rules.tmp"
    mv "$W/quiet.rules.tmp" "$W/quiet.rules"
fi
if [ ! -s "$W/noisy.rules" ]; then
    python3 "$TOOLS/gen_et_content_rules.py" "$ET" 5000 classic > "$W/noisy.rules.tmp"
    mv "$W/noisy.rules.tmp" "$W/noisy.rules"
fi
for f in quiet noisy; do
    [ "$(wc -l < "$W/$f.rules")" -eq 5000 ] || die "$W/$f.rules: not 5,000 rules (remove it to make it again)"
done
# the first 2 MB of the capture, cut after the last whole packet (a cut
# packet is an error for run)
if [ ! -s "$TINY" ]; then
    python3 - "$PCAP" "$TINY.tmp" 2000000 <<'EOF'
import struct, sys
src, dst, cap = open(sys.argv[1], "rb"), open(sys.argv[2], "wb"), int(sys.argv[3])
out = src.read(24)
while True:
    h = src.read(16)
    if len(h) < 16:
        break
    n = struct.unpack("<IIII", h)[2]
    if len(out) + 16 + n > cap:
        break
    out += h + src.read(n)
dst.write(out)
EOF
    mv "$TINY.tmp" "$TINY"
fi

# ---- one run: BIN CACHE FILE RULES [ARGS...] -> $W/run.err (the summary) and
# $W/run.time ("WALL_S RSS_KB"); a failed run ends the bench
run1() {
    bin=$1 cache=$2 file=$3 rules=$4
    shift 4
    st=0
    "$TIME" -f '%e %M' -o "$W/run.time" "$bin" run -r "$file" -S "$rules" --no-store -w 1 \
        --cache "$cache" "$@" 2> "$W/run.err" || st=$?
    [ $st -eq 0 ] || die "$bin run -r $file -S $rules${*:+ $*}: exit $st: $(grep -v '^ ' "$W/run.err" | tail -n 1)"
}
# figures: one line of the last run's figures: wall s, RSS MiB, packets/s,
# capture bytes, stream bytes, stream bytes scanned, rules verified, alerts,
# whether the rules came from the cache (1/0). The summary of builds before
# the stream bytes were counted reads `N stream pieces (SCANNED bytes)`: the
# stream bytes are then the streams line's bytes in order.
figures() {
    awk -v t="$(cat "$W/run.time")" '
        /^  packets / { s = $0; sub(/^[^(]*\(/, "", s); pb = s + 0 }
        /^  streams / { inorder = $2 }
        /^  rules / { cached = /from cache/ ? 1 : 0 }
        /^  inspected / {
            s = $0; sub(/.*stream pieces \(/, "", s)
            if (s ~ /scanned\)/) { sb = s + 0; sub(/^[0-9]+ bytes, /, "", s); sc = s + 0 }
            else { sb = -1; sc = s + 0 }
            s = $0; sub(/ rules verified.*/, "", s); sub(/.*; /, "", s); ver = s + 0
        }
        /^  alerts / { al = $2 }
        /^  time / { s = $0; sub(/^[^,]*, /, "", s); pps = s + 0 }
        END {
            split(t, a, " ")
            if (sb < 0) sb = inorder
            printf "%s %.1f %d %d %d %d %d %d %d\n", a[1], a[2] / 1024, pps, pb, sb, sc, ver, al, cached
        }' "$W/run.err"
}
# med FILE COLUMN: the median of a column (the lower middle for an even count)
med() { sort -n -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
# col FILE COLUMN: the column of the first line
col() { awk -v c="$2" 'NR == 1 { print $c }' "$1"; }
# same FILE COLUMN: the column's value if every run gave it, else "varies"
same() { awk -v c="$2" 'NR == 1 { v = $c } $c != v { d = 1 } END { print d ? "varies" : v }' "$1"; }

NAMES="new"
[ -n "$BASE" ] && NAMES="new base"
bin_of() { if [ "$1" = new ]; then echo "$CG"; else echo "$BASE"; fi; }
cache_of() { if [ "$1" = new ]; then echo "$W/cache-core"; else echo "$W/cache-core-base"; fi; }
# order I: the binaries in run I's order (alternating which goes first)
order() { if [ -z "$BASE" ] || [ $(($1 % 2)) -eq 1 ]; then echo "$NAMES"; else echo "base new"; fi; }

echo "== one core, like for like: canhgac run -r -w 1 --no-store, whole runs under $TIME"
echo "   build      $CG"
[ -n "$BASE" ] && echo "   base       $BASE (run by run in the same loop)"
echo "   capture    $PCAP ($(wc -c < "$PCAP") bytes)"
echo "   rules      quiet, noisy: 5,000 ET Open contents each ($W); ET Open: $ET"
echo "   runs       $RUNS per case and binary, after one that fills the cache; medians; $(nproc) cores"
echo "   columns    wall s; peak RSS MiB; packets/s (the summary's, rules loaded); stream MB and MB of"
echo "              stream pieces scanned (ratio); rules verified per MB of capture; alerts"
[ -n "$BASE" ] && echo "              (base): the same of BENCH_BASE; x: the speed-up, base wall / this build's"

# case LABEL RULES [ARGS...]
bench_case() {
    label=$1 rules=$2
    shift 2
    for n in $NAMES; do
        rm -f "$W/core.$n"
        run1 "$(bin_of "$n")" "$(cache_of "$n")" "$PCAP" "$rules" "$@"
    done
    i=1
    while [ $i -le "$RUNS" ]; do
        for n in $(order $i); do
            run1 "$(bin_of "$n")" "$(cache_of "$n")" "$PCAP" "$rules" "$@"
            figures >> "$W/core.$n"
        done
        i=$((i + 1))
    done
    f=$W/core.new
    for n in $NAMES; do
        [ "$(wc -l < "$W/core.$n")" -eq "$RUNS" ] || die "$label: $(wc -l < "$W/core.$n") runs of $n measured, not $RUNS"
    done
    [ "$(same "$f" 9)" = 1 ] || echo "   note: $label: the rules were not read from the cache in every run"
    line=$(awk -v w="$(med "$f" 1)" -v r="$(med "$f" 2)" -v p="$(med "$f" 3)" -v pb="$(col "$f" 4)" \
        -v sb="$(same "$f" 5)" -v sc="$(same "$f" 6)" -v ver="$(same "$f" 7)" -v al="$(same "$f" 8)" \
        -v l="$label" 'BEGIN {
            ratio = sb > 0 ? sprintf("%.2f", sc / sb) : "-"
            printf "%-20s %6.2f s  %5.0f MiB  %9d pkt/s  %6.1f MB %6.1f scanned (%s)  %7.1f verified/MB  %s alerts",
                l, w, r, p, sb / 1e6, sc / 1e6, ratio, ver / (pb / 1e6), al
        }')
    if [ -n "$BASE" ]; then
        g=$W/core.base
        [ "$(same "$g" 9)" = 1 ] || echo "   note: $label: base: the rules were not read from the cache in every run"
        line=$line$(awk -v w="$(med "$f" 1)" -v bw="$(med "$g" 1)" -v r="$(med "$g" 2)" -v p="$(med "$g" 3)" \
            -v pb="$(col "$g" 4)" -v sb="$(same "$g" 5)" -v sc="$(same "$g" 6)" -v ver="$(same "$g" 7)" \
            -v al="$(same "$g" 8)" 'BEGIN {
                ratio = sb > 0 ? sprintf("%.2f", sc / sb) : "-"
                printf "; base %.2f s (%.2fx), %.0f MiB, %d pkt/s, scanned %s, %.1f verified/MB, %s alerts",
                    bw, bw / w, r, p, ratio, ver / (pb / 1e6), al
            }')
    fi
    echo "$line"
}

echo "== rule sets over the bench capture"
bench_case "quiet, streams" "$W/quiet.rules"
bench_case "quiet, packets only" "$W/quiet.rules" --no-stream
bench_case "noisy, streams" "$W/noisy.rules"
bench_case "ET Open, streams" "$ET"

# load CASE: ET Open over the first 2 MB; cold = each run with a new empty cache
NL=3
[ "$RUNS" -ge 3 ] || NL=$RUNS
echo "== ET Open load: run -r of the capture's first 2 MB ($(wc -c < "$TINY") bytes), $NL runs each, medians"
for kind in cold cache; do
    for n in $NAMES; do rm -f "$W/load.$n"; done
    i=1
    while [ $i -le "$NL" ]; do
        for n in $(order $i); do
            c=$W/cache-load-$n
            if [ $kind = cold ]; then rm -rf "$c"; mkdir -p "$c"; fi
            run1 "$(bin_of "$n")" "$c" "$TINY" "$ET"
            figures >> "$W/load.$n"
        done
        i=$((i + 1))
    done
    want=0
    [ $kind = cache ] && want=1
    for n in $NAMES; do
        [ "$(same "$W/load.$n" 9)" = $want ] || echo "   note: $n: not every $kind run $( [ $want = 1 ] && echo read || echo compiled) the rules"
    done
    line=$(printf '%-20s %6.2f s  %5.0f MiB' "ET Open, $kind" "$(med "$W/load.new" 1)" "$(med "$W/load.new" 2)")
    if [ -n "$BASE" ]; then
        line=$line$(awk -v w="$(med "$W/load.new" 1)" -v bw="$(med "$W/load.base" 1)" \
            -v r="$(med "$W/load.base" 2)" 'BEGIN { printf "; base %.2f s (%.2fx), %.0f MiB", bw, (w > 0 ? bw / w : 0), r }')
    fi
    echo "$line"
done
for n in $NAMES; do rm -rf "$W/cache-load-$n"; done
rm -f "$W/run.err" "$W/run.time" "$W"/core.* "$W"/load.*
