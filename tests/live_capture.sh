#!/bin/sh
# live_capture.sh B — live capture through sensor/capture on a veth pair (as
# root; see tests/live_lib.sh for CANHGAC_LIVE_OPTIONAL):
#  - real captures replayed with tcpreplay into 2 and 3 handles of one
#    PACKET_FANOUT group: each flow (both directions) read on one handle only,
#    and as many packets read as tcpreplay sent; without fanout, the check
#    must see every flow on every handle;
#  - the one-line errors: an interface that does not exist, one deleted while
#    it is read (within a few seconds, not a hang), capture without the
#    privilege (as nobody), a fanout group held by another interface.
# Builds B/fanout_probe from tests/fanout_probe.c and B/libcanhgac.a, with
# $OPT as the Makefile takes it (give the sanitizer flags for a sanitizer build).
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
. tests/live_lib.sh
live_require

DATA=../shared/data/pcaps
# a SYN scan (many flows), SSH and FTP guessing, web attacks, QUIC; and every
# Log4Shell capture (about a dozen two-way TCP flows each)
PCAPS="shellshock/exploit.pcap chrissanders/http_dvwa_sqlinjection.pcapng
chrissanders/synscan.pcapng zeek-traces/sshguess.pcap zeek-traces/bruteforce.pcap
zeek-traces/merlinc2_Zeek_example.pcapng zeek-traces/vnc-scanner.pcap
$(cd "$DATA" && ls log4shell/*.pcap log4shell/*.pcapng)"
PKGS="libpcap libhs libmaxminddb lmdb libpcre2-8 json-c libcrypto"   # the Makefile's
PROBE=$B/fanout_probe

fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

[ -f "$B/libcanhgac.a" ] || { echo "FAIL $B/libcanhgac.a missing (make B=$B)"; exit 1; }
# shellcheck disable=SC2046,SC2086
cc ${OPT:--O2 -g} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. tests/fanout_probe.c \
    "$B/libcanhgac.a" $(pkg-config --libs $PKGS) -lz -lm -lpthread -o "$PROBE" \
    || { echo "FAIL building $PROBE"; exit 1; }

live_setup capture || { echo "FAIL live_setup"; exit 1; }
OUT=$(mktemp -d /tmp/cg_live.XXXXXX)
trap 'live_cleanup; rm -rf "$OUT"' EXIT
trap 'live_cleanup; rm -rf "$OUT"; exit 130' INT TERM HUP PIPE

# Starts the probe in LIVE_NS_B in the background and waits until its handles
# are open: JOB is the background job, PID the probe itself (it says).
start_probe() {
    rm -f "$OUT/probe"   # the last probe's "ready" must not be taken for this one's
    live_in_b "$PROBE" "$@" > "$OUT/probe" 2>&1 &
    JOB=$!
    i=0
    while ! grep -q '^ready' "$OUT/probe" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 50 ] || ! kill -0 $JOB 2>/dev/null; then
            echo "probe did not start:"; cat "$OUT/probe"; PID=""; return 1
        fi
        sleep 0.1
    done
    PID=$(sed -n 's/^ready: pid \([0-9]*\),.*/\1/p' "$OUT/probe")
}

# Tells the probe to stop (it empties its rings first) and waits for it.
stop_probe() {
    sleep 0.3
    [ -n "$PID" ] && kill -USR1 "$PID" 2>/dev/null
    wait $JOB
}

# Replays every capture; SENT is the sum of tcpreplay's successful packets.
replay_all() {
    SENT=0
    for p in $PCAPS; do
        live_replay "$DATA/$p" --topspeed
        st=$?
        if [ $st -ne 0 ] || [ "$LIVE_FAILED" -ne 0 ]; then
            bad "tcpreplay $p: status $st, $LIVE_FAILED failed"
            printf '%s\n' "$LIVE_REPLAY_OUT"
        fi
        SENT=$((SENT + LIVE_SENT))
    done
}

# fanout: K handles, all packets read once, every flow on one handle
for k in 2 3; do
    start_probe "$LIVE_IF_B" $k 20 || { bad "fanout K=$k: probe"; continue; }
    replay_all
    stop_probe
    st=$?
    got=$(sed -n 's/^total: \([0-9]*\) packets.*/\1/p' "$OUT/probe")
    sed 's/^/     /' "$OUT/probe"
    if [ $st -eq 0 ] && [ "$got" = "$SENT" ] && [ "$SENT" -gt 0 ]; then
        ok "fanout K=$k: $got packets read of $SENT sent, every flow on one handle"
    else
        bad "fanout K=$k: status $st (0: every flow on one handle), read ${got:-?} of $SENT sent"
    fi
done

# without fanout every handle reads everything: the check must say so
start_probe "$LIVE_IF_B" 2 20 -1 || bad "no fanout: probe"
live_replay "$DATA/shellshock/exploit.pcap" --topspeed
stop_probe
st=$?
got=$(sed -n 's/^total: \([0-9]*\) packets.*/\1/p' "$OUT/probe")
if [ $st -eq 1 ] && [ "$got" = $((2 * LIVE_SENT)) ]; then
    ok "no fanout: every packet read twice ($got), flows reported split"
else
    bad "no fanout: status $st (want 1), read ${got:-?} (want $((2 * LIVE_SENT)))"
    cat "$OUT/probe"
fi

# the errors, one line each
expect_err() {   # NAME STATUS WANT-STATUS WANT-LINE FILE
    if [ "$2" -eq "$3" ] && grep -qx "$4" "$5" && [ "$(grep -vc '^ready' "$5")" -eq 1 ]; then
        ok "$1: \"$4\""
    else
        bad "$1: status $2 (want $3), output:"; cat "$5"
    fi
}

live_in_b "$PROBE" cgnosuch9 1 1 > "$OUT/e" 2>&1
expect_err "no such interface" $? 3 "cgnosuch9: no such interface" "$OUT/e"

live_in_b setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$PROBE" "$LIVE_IF_B" 1 1 > "$OUT/e" 2>&1
expect_err "no privilege" $? 3 \
    "$LIVE_IF_B: permission denied: live capture needs root or CAP_NET_RAW" "$OUT/e"

live_in_b setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$PROBE" cgnosuch9 1 1 > "$OUT/e" 2>&1
expect_err "no such interface, no privilege" $? 3 "cgnosuch9: no such interface" "$OUT/e"

# group 4243 taken on lo by a first probe: joining it from another interface
start_probe lo 1 20 4243 || bad "fanout group of another interface: probe on lo"
live_in_b "$PROBE" "$LIVE_IF_B" 1 1 4243 > "$OUT/e" 2>&1
expect_err "fanout group of another interface" $? 3 \
    "$LIVE_IF_B: PACKET_FANOUT: Invalid argument" "$OUT/e"
stop_probe

ip -n "$LIVE_NS_B" link set "$LIVE_IF_B" down
live_in_b "$PROBE" "$LIVE_IF_B" 1 1 > "$OUT/e" 2>&1
expect_err "interface down at open" $? 3 "$LIVE_IF_B: the interface is down" "$OUT/e"
ip -n "$LIVE_NS_B" link set "$LIVE_IF_B" up

# down while read: not an error; up again, the same handles read on
start_probe "$LIVE_IF_B" 2 20 || bad "down and up: probe (up)"
ip -n "$LIVE_NS_B" link set "$LIVE_IF_B" down
sleep 0.5
ip -n "$LIVE_NS_B" link set "$LIVE_IF_B" up
sleep 0.3
live_replay "$DATA/shellshock/exploit.pcap" --topspeed
stop_probe
st=$?
got=$(sed -n 's/^total: \([0-9]*\) packets.*/\1/p' "$OUT/probe")
if [ $st -eq 0 ] && [ "$got" = "$LIVE_SENT" ]; then
    ok "interface set down and up while read: no error, then $got of $LIVE_SENT read"
else
    bad "interface set down and up while read: status $st, read ${got:-?} of $LIVE_SENT"
    cat "$OUT/probe"
fi

# deleted while read: the probe ends, with the message, within a few seconds
start_probe "$LIVE_IF_B" 2 20 || bad "deleted: probe"
ip -n "$LIVE_NS_B" link del "$LIVE_IF_B"
t0=$(date +%s)
( sleep 5; kill "$PID" 2>/dev/null ) &
WD=$!
wait $JOB
st=$?
t=$(( $(date +%s) - t0 ))
kill $WD 2>/dev/null; wait $WD 2>/dev/null
if [ $st -eq 3 ] && [ $t -le 3 ]; then
    expect_err "interface deleted while read (${t}s)" $st 3 \
        "$LIVE_IF_B: the interface went away (No such device)" "$OUT/probe"
else
    bad "interface deleted while read: status $st after ${t}s (want 3 within 3 s)"
    cat "$OUT/probe"
fi

[ $fail -eq 0 ] && echo "live_capture: all passed" || echo "live_capture: FAILED"
exit $fail
