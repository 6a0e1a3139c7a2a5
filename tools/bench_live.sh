#!/bin/sh
# bench_live.sh B — the live sensor's figures over a veth pair (as root; see
# tests/live_lib.sh), with every ET Open rule that loads:
#  (a) the highest tcpreplay rate (--mbps: doubling from BENCH_LIVE_MBPS,
#      default 50, until the kernel drops, then bisecting) at which
#      `canhgac run -i VETH` with 1 and then 2 workers drops nothing
#      (stats.capture.kernel_drops of `ctl stats`), over a generated
#      HTTP-heavy capture (gen_bench_pcap.py, 200000 packets, seed 7). One
#      sensor per worker count serves every step; between steps it drains.
#      tcpreplay runs on the same machine and takes a core of its own: on a
#      small machine the rate it reaches is printed next to the one asked;
#  (b) a reload of ET Open while idle: time from `ctl reload` to its answer
#      with a cold cache (emptied) and a warm one, and the peak RSS during the
#      reload (VmHWM, reset through /proc/PID/clear_refs just before) against
#      the steady RSS (VmRSS before it).
# BENCH_DIR (default /tmp/canhgac-bench) keeps the capture and the rules
# cache between runs; BENCH_LIVE_RING sets --ring (MiB, default the sensor's);
# BENCH_LIVE_SKIP_RATE=1 measures (b) only.
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
. tests/live_lib.sh
live_require
DATA=${CANHGAC_DATA:-../shared/data}
ET=$DATA/rules/etopen
W=${BENCH_DIR:-/tmp/canhgac-bench}/live
CG=$B/canhgac
PCAP=$W/http-200000-7.pcap
START=${BENCH_LIVE_MBPS:-50}
RING=${BENCH_LIVE_RING:+--ring $BENCH_LIVE_RING}
mkdir -p "$W" || exit 1
[ -x "$CG" ] || { echo "bench_live: $CG missing (make B=$B)"; exit 1; }

if [ ! -s "$PCAP" ]; then
    echo "== generating $PCAP"
    python3 "$DATA/../tools/gen_bench_pcap.py" "$PCAP" 200000 7 || exit 1
fi
echo "== warming the rules cache ($W/cache; the first compile of ET Open takes a while)"
t0=$(date +%s.%N)
"$CG" run -q -r "$DATA/pcaps/shellshock/exploit.pcap" -S "$ET" --cache "$W/cache" --no-store \
    > /dev/null 2>&1 || { echo "bench_live: ET Open does not load"; exit 1; }
echo "   $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-6) s"

live_setup bench || exit 1
SPID=""
trap 'if [ -n "$SPID" ]; then kill -KILL "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi; live_cleanup' EXIT
trap 'exit 130' INT TERM HUP

SOCK=$W/ctl.sock
ctl() { "$CG" ctl --ctl "$SOCK" --timeout 600 "$@"; }
num() { ctl stats | jq -r "$1"; }
# start ARGS...: the sensor in LIVE_NS_B on LIVE_IF_B with ET Open; SPID
start() {
    ip netns exec "$LIVE_NS_B" "$CG" run -q -i "$LIVE_IF_B" -S "$ET" --cache "$W/cache" \
        --no-store -o /dev/null --ctl "$SOCK" $RING "$@" 2> "$W/sensor.err" &
    SPID=$!
    i=0
    until ctl version > /dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 1200 ] || ! kill -0 "$SPID" 2>/dev/null; then
            echo "bench_live: the sensor did not start:"; cat "$W/sensor.err"; exit 1
        fi
        sleep 0.1
    done
}
stop() { kill -TERM "$SPID"; wait "$SPID"; SPID=""; }
# drain: until the sensor has read what the kernel took; a sensor that
# reads nothing for 10 s is reported stuck and the bench ends (exit 1)
drain() {
    last=-1; still=0
    while :; do
        got=$(num '.stats.decoder.pkts'); took=$(num '.stats.capture.kernel_packets')
        [ "$got" = "$took" ] && break
        if [ "$got" = "$last" ]; then
            still=$((still + 1))
            if [ $still -ge 100 ]; then
                echo "bench_live: the sensor is stuck: $got packets read of $took taken by the kernel"
                ctl stats | jq -c .canhgac.queue
                exit 1
            fi
        else
            still=0; last=$got
        fi
        sleep 0.1
    done
    sleep 0.5
}
# step MBPS: replays the capture at MBPS; DROPS (kernel drops during it),
# GOT (packets read), REACHED (tcpreplay's own Mbps)
step() {
    d0=$(num .stats.capture.kernel_drops); p0=$(num .stats.capture.kernel_packets)
    LIVE_REPLAY_TIMEOUT=300 live_replay "$PCAP" --mbps "$1"
    drain
    DROPS=$(($(num .stats.capture.kernel_drops) - d0))
    GOT=$(($(num .stats.capture.kernel_packets) - p0))
    REACHED=$(printf '%s\n' "$LIVE_REPLAY_OUT" | sed -n 's/^Rated: .* \([0-9.]*\) Mbps,.*/\1/p' | head -n 1)
    printf '   %6s Mbps asked, %8s reached: %7s packets sent, %7s kernel drops\n' \
        "$1" "${REACHED:-?}" "$LIVE_SENT" "$DROPS"
}

RESULTS=""
# BENCH_LIVE_SKIP_RATE=1: the reload figures only
for wk in $([ -n "${BENCH_LIVE_SKIP_RATE:-}" ] || echo 1 2); do
    echo "== (a) --workers $wk: the highest rate without kernel drops"
    start --workers "$wk"
    good=0; badr=0; r=$START
    while :; do
        step "$r"
        if [ "$DROPS" -eq 0 ]; then
            good=$r
            # tcpreplay at its ceiling: asking more would not send faster
            if [ -n "$REACHED" ] && [ "$(echo "$REACHED < $r * 0.8" | bc)" = 1 ]; then
                echo "   tcpreplay's ceiling reached: no drop at the highest rate it sends"
                good="${REACHED%%.*}+"; break
            fi
            [ "$r" -ge 10000 ] && break
            r=$((r * 2))
        else
            badr=$r; break
        fi
    done
    if [ "$badr" -gt 0 ]; then
        lo=${good%+}; hi=$badr
        [ "$lo" -eq 0 ] && lo=$((START / 8)) && good=0
        for _ in 1 2 3; do
            mid=$(((lo + hi) / 2))
            [ "$mid" -le "$lo" ] && break
            step "$mid"
            if [ "$DROPS" -eq 0 ]; then lo=$mid; good=$mid; else hi=$mid; fi
        done
    fi
    stop
    [ "$badr" -eq 0 ] && badr=none
    RESULTS="$RESULTS
--workers $wk	${good} Mbps (first drops at $badr Mbps)"
done

echo "== (b) reload of ET Open, idle"
start --workers 2
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SPID/status"; }
reload_one() {   # LABEL
    echo 5 > "/proc/$SPID/clear_refs"   # VmHWM := VmRSS
    steady=$(rss VmRSS)
    t0=$(date +%s.%N)
    reply=$(ctl reload)
    t=$(echo "$(date +%s.%N) - $t0" | bc)
    peak=$(rss VmHWM)
    ratio=$(echo "scale=2; $peak / $steady" | bc)
    printf '   %-11s %6.2f s  steady %7d KiB  peak %7d KiB  x%s  %s\n' "$1" "$t" "$steady" \
        "$peak" "$ratio" "$reply"
    RESULTS="$RESULTS
reload $1	$(printf '%.2f' "$t") s, RSS steady $((steady / 1024)) MiB, peak $((peak / 1024)) MiB (x$ratio)"
}
rm -rf "$W/cache"/*
reload_one "cold cache"
reload_one "warm cache"
stop

echo "== summary (canhgac run -i, ET Open, $(nproc) cores; $PCAP)"
printf '%s\n' "$RESULTS" | sed '/^$/d' | awk -F'\t' '{ printf "  %-20s %s\n", $1, $2 }'
