#!/bin/sh
# e2e_live.sh B — `canhgac run -i` as an operator sees it, on veth pairs in
# network namespaces (as root; tests/live_lib.sh: CANHGAC_LIVE_OPTIONAL=1
# turns "not root / no ip netns" into SKIP). The sensor runs in LIVE_NS_B on
# LIVE_IF_B; tcpreplay (always under timeout) sends into LIVE_IF_A.
#  - live alerts are the file's: real captures replayed, then SIGTERM; the
#    (sid, count) of the EVE alerts and of the incidents (`canhgac query`)
#    equal those of `run -r` over the same capture;
#  - two interfaces (-i A -i B): packets counted on each, alerts from both;
#  - reload in the middle of a replay: `ctl reload` answers, no packet lost,
#    a rule added before it fires after it; SIGHUP reloads; a broken rules
#    dir answers an error (ctl exits 1) and the old rules go on alerting;
#  - reopen (ctl and SIGUSR2): new lines at the original path, the moved
#    file complete;
#  - stats: --stats lines valid against Suricata's EVE schema, `ctl stats`
#    with the same names, `ctl flows` during traffic;
#  - privileges: --user (a user made here): Uid/Gid, capture, store and EVE
#    file written, modes 0750/0640; --pid-file;
#  - bad input: one line and the exit code each (no interface, a second -i,
#    no permission, the interface deleted mid-capture, --workers 0 and 65,
#    --user nosuchuser, garbage on the control socket, a full disk under -o).
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
. tests/live_lib.sh
live_require
E2E_NAME=live
. tests/e2e_lib.sh
PCAPS=$DATA/pcaps
PY=/usr/bin/python3
SCHEMA=$DATA/eve/schema.json
VALIDATE=$DATA/../tools/validate_eve.py
[ -x "$CG" ] || { echo "FAIL: $CG missing (make B=$B)"; exit 1; }
[ -x "$B/gen_traffic" ] || { echo "FAIL: $B/gen_traffic missing (make B=$B)"; exit 1; }
chmod 0711 "$T"   # --user and setpriv runs reach their own dirs below it

LUSER=cglive$$
SPID=""
cleanup() {
    [ -n "$SPID" ] && { kill -KILL "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
    mountpoint -q "$T/full" 2>/dev/null && umount "$T/full"
    id "$LUSER" >/dev/null 2>&1 && userdel "$LUSER" 2>/dev/null
    live_cleanup
    rm -rf "$T"
}
live_setup e2e || { echo "FAIL: live_setup"; cleanup; exit 1; }
trap 'cleanup' EXIT
trap 'cleanup; exit 130' INT TERM HUP PIPE
t_start=$(date +%s)

# start NAME ARGS...: `canhgac run ARGS --ctl $T/NAME.sock` in LIVE_NS_B, in
# the background (SPID; stdout and stderr in $T/NAME.out, $T/NAME.err); waits
# until its control socket answers (10 s at most). SOCK is the socket.
start() {
    name=$1; shift
    SOCK=$T/$name.sock
    # not through live_in_b: $! must be the sensor (ip netns exec execs it)
    ip netns exec "$LIVE_NS_B" "$CG" run "$@" --ctl "$SOCK" > "$T/$name.out" 2> "$T/$name.err" &
    SPID=$!
    i=0
    until "$CG" ctl --ctl "$SOCK" version > /dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$SPID" 2>/dev/null; then
            bad "$name: the sensor did not start: $(cat "$T/$name.err")"
            kill -KILL "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=""
            return 1
        fi
        sleep 0.1
    done
}
# finish [SIG]: sends SIG (TERM) to the sensor, waits for it (15 s, then
# KILL); SST is its exit status.
finish() {
    [ -n "$SPID" ] || { SST=255; return; }
    kill -"${1:-TERM}" "$SPID" 2>/dev/null
    waitfor "$SPID" 15
    wait "$SPID"; SST=$?; SPID=""
}
# waitfor PID SECONDS: until PID has exited; KILL it after SECONDS
waitfor() {
    _n=0
    while kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; do
        _n=$((_n + 1))
        [ $_n -gt $(($2 * 10)) ] && { bad "pid $1 still running after $2 s: killed"; kill -KILL "$1"; return 1; }
        sleep 0.1
    done
}
ctl() { "$CG" ctl --ctl "$SOCK" "$@"; }
# stat_of JQ-PATH: one number from `ctl stats`
stat_of() { ctl stats 2>/dev/null | jq -r "$1" 2>/dev/null; }
# wait_pkts N: until the sensor has decoded N packets (10 s at most)
wait_pkts() {
    _n=0
    while [ "$(stat_of .stats.decoder.pkts)" -lt "$1" ] 2>/dev/null; do
        _n=$((_n + 1)); [ $_n -gt 100 ] && return 1
        sleep 0.1
    done
    return 0
}
# replay PCAP [OPTS]: live_replay, a failure counted
replay() {
    live_replay "$@"
    _st=$?
    [ $_st -eq 0 ] && [ "$LIVE_FAILED" -eq 0 ] && return 0
    bad "tcpreplay $1: status $_st, $LIVE_FAILED failed: $LIVE_REPLAY_OUT"
    return 1
}
# replay_c PCAP [OPTS]: replay out of the second pair's IF_C (to IF_D)
replay_c() {
    _save=$LIVE_IF_A; LIVE_IF_A=$IF_C
    replay "$@"; _st=$?
    LIVE_IF_A=$_save
    return $_st
}
# alert_set EVE: "sid=count" of the alert lines, sorted by sid, one line
alert_set() {
    jq -r 'select(.event_type=="alert") | .alert.signature_id' "$1" 2>/dev/null \
        | sort -n | uniq -c | awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1 }'
}
# incident_set STORE: "sid=count" of every incident, sorted
incident_set() {
    "$CG" query -d "$1" --json -n 0 2>/dev/null | jq -r '"\(.signature_id)=\(.count)"' \
        | sort -t= -k1,1n -k2,2n | tr '\n' ' ' | sed 's/ $//'
}
# summary_num ERR WORD FIELD: a number of the run's summary: the FIELD-th
# word of its line that starts with WORD ("packets", "capture")
summary_num() { awk -v w="$2" -v f="$3" '$1 == w { print $f; exit }' "$1"; }
# valid_json FILE: every line is a JSON object
valid_json() {
    "$PY" -c 'import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if not isinstance(json.loads(line), dict):
        sys.exit(1)
    n += 1
sys.exit(0 if n else 1)' "$1" 2> /dev/null
}
# ctl_raw BYTES: sends BYTES (a Python bytes literal) on SOCK, prints the reply
ctl_raw() {
    "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(eval(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("utf-8", "replace"))' "$SOCK" "$1"
}

# The rules are compiled once, into this run's cache, before anything is timed.
"$CG" rules check -S rules > /dev/null 2>&1
"$CG" run -q -r "$PCAPS/shellshock/exploit.pcap" -S rules --no-store > /dev/null 2>&1

# 1. Live alerts are the file's. Each capture is short (seconds, under the
# incident window): replayed at top speed, its flows and folds are the same.
# bruteforce.pcap holds a threshold by_dst over many flows: live, the two
# workers hand the shared threshold and the incident fold packets slightly
# out of time order, and neither count may depend on that.
for p in shellshock/exploit.pcap chrissanders/http_dvwa_sqlinjection.pcapng \
         chrissanders/http_dvwa_directorytraversal.pcapng log4shell/ldap-basic-auth-ev0.pcap \
         log4shell/rmi-x-api-version-ev3.pcap log4shell/log4shell-ldaps-port-443-dsb.pcapng \
         zeek-traces/bruteforce.pcap; do
    n=$(basename "$p" | tr -c 'a-z0-9\n' _)
    "$CG" run -q -r "$PCAPS/$p" --workers 2 -S rules -d "$T/f_$n" -o "$T/f_$n.json" \
        2> "$T/f_$n.err" || bad "$p: run -r failed: $(cat "$T/f_$n.err")"
    start "l_$n" -i "$LIVE_IF_B" --workers 2 -S rules -d "$T/l_$n" -o "$T/l_$n.json" || continue
    replay "$PCAPS/$p" --topspeed
    wait_pkts "$LIVE_SENT" || bad "$p: the sensor read $(stat_of .stats.decoder.pkts) of $LIVE_SENT packets"
    finish
    check "$p: live run exit" "$SST" 0
    want=$(alert_set "$T/f_$n.json")
    [ -n "$want" ] || bad "$p: no alert reading the file"
    check "$p: live EVE alerts (sid=count)" "$(alert_set "$T/l_$n.json")" "$want"
    check "$p: live incidents (sid=count)" "$(incident_set "$T/l_$n")" "$(incident_set "$T/f_$n")"
    check "$p: packets in the summary" "$(summary_num "$T/l_$n.err" packets 2)" "$LIVE_SENT"
    check "$p: kernel drops" "$(summary_num "$T/l_$n.err" capture 8)" 0
done
echo "  alerts live = file: $(($(date +%s) - t_start)) s"

# 2. Two interfaces: a second veth pair, traffic on both.
IF_C=cg$$c; IF_D=cg$$d
ip link add "$IF_C" netns "$LIVE_NS_A" mtu 9000 type veth peer name "$IF_D" netns "$LIVE_NS_B" mtu 9000 \
    && ip -n "$LIVE_NS_A" link set "$IF_C" up && ip -n "$LIVE_NS_B" link set "$IF_D" up \
    || bad "second veth pair"
start two -i "$LIVE_IF_B" -i "$IF_D" --workers 2 -S rules -d "$T/two" -o "$T/two.json" --stats 1 && {
    replay "$PCAPS/chrissanders/http_dvwa_sqlinjection.pcapng" --topspeed; sent1=$LIVE_SENT
    replay_c "$PCAPS/shellshock/exploit.pcap" --topspeed; sent2=$LIVE_SENT
    wait_pkts $((sent1 + sent2)) || bad "two interfaces: not every packet read"
    sleep 1.1   # a stats line with both
    finish
    check "two interfaces: exit" "$SST" 0
    # the sql injection went in on the first, shellshock on the second
    check "two interfaces: alerts from both" "$(alert_set "$T/two.json")" "9100101=2 9100102=3 9100118=1"
    check "two interfaces: packets" "$(summary_num "$T/two.err" packets 2)" $((sent1 + sent2))
    check_grep "two interfaces: the summary names both" "$T/two.err" "$LIVE_IF_B.*$IF_D|$IF_D.*$LIVE_IF_B"
}

# 3. Reload in the middle of a long replay (the generated traffic, three
# times over with new addresses each time), a rule added before it.
"$B/gen_traffic" -o "$T/gen.pcap" -t "$T/gen.tsv" > /dev/null 2>&1 || bad "gen_traffic"
cp -r rules "$T/rules"
NEWRULE='alert http any any -> any any (msg:"CANHGAC LIVE TEST reload"; flow:to_server; http.method; content:"GET"; sid:9990001; rev:1;)'
start reload -i "$LIVE_IF_B" --workers 2 -S "$T/rules" -d "$T/reload" -o "$T/reload.json" && {
    ( live_replay "$T/gen.pcap" --pps 6000 --loop 3 --unique-ip
      echo "$? $LIVE_SENT $LIVE_FAILED" > "$T/reload.replay" ) &
    RJ=$!
    sleep 1.5
    before=$(stat_of .stats.decoder.pkts)
    echo "$NEWRULE" > "$T/rules/livetest.rules"
    r=$(ctl reload); rst=$?
    after=$(stat_of .stats.decoder.pkts)
    check "reload: ctl exit" "$rst" 0
    case $r in *reloaded*|*'rules loaded'*) ok ;; *) bad "reload: reply [$r]" ;; esac
    [ "${before:-0}" -gt 0 ] && [ "${after:-0}" -gt "$before" ] || bad "reload: not in the middle of the replay (packets $before then $after)"
    wait $RJ
    read -r rst total rfailed < "$T/reload.replay"
    [ "$rst" = 0 ] && [ "$rfailed" = 0 ] || bad "reload: tcpreplay status $rst, $rfailed failed"
    wait_pkts "$total" || bad "reload: the sensor read $(stat_of .stats.decoder.pkts) of $total packets"
    finish
    check "reload: exit" "$SST" 0
    pk=$(summary_num "$T/reload.err" packets 2)
    kd=$(summary_num "$T/reload.err" capture 8)
    check "reload: packets in the summary = sent" "$pk" "$total"
    check "reload: kernel drops" "$kd" 0
    n=$(jq -r 'select(.event_type=="alert" and .alert.signature_id==9990001) | .alert.signature_id' \
        "$T/reload.json" | wc -l)
    [ "$n" -gt 0 ] && ok || bad "reload: the new rule (sid 9990001) never fired"
    check_grep "reload: stderr" "$T/reload.err" "reload: .*rules loaded"
}

# SIGHUP reloads; a broken rules dir keeps the old rules running.
rm -f "$T/rules/livetest.rules"
start hup -i "$LIVE_IF_B" --workers 2 -S "$T/rules" -d "$T/hup" -o "$T/hup.json" && {
    kill -HUP "$SPID"
    n=0; until [ "$(stat_of .canhgac.reloads)" = 1 ] || [ $n -gt 100 ]; do n=$((n + 1)); sleep 0.1; done
    check_grep "SIGHUP: stderr says reloaded" "$T/hup.err" "reload: .*rules loaded"
    check "SIGHUP: reloads counted" "$(stat_of .canhgac.reloads)" 1
    cp "$T/rules/vars.conf" "$T/vars.good"
    printf 'HOME_NET = [10.0.0.0/8\nthis is not a variable\n' >> "$T/rules/vars.conf"
    r=$(ctl reload); rst=$?
    check "broken vars.conf: ctl exit" "$rst" 1
    case $r in *'"error"'*) ok ;; *) bad "broken vars.conf: reply [$r] has no error" ;; esac
    check_grep "broken vars.conf: stderr" "$T/hup.err" "reload: .*(vars|old)"
    cp "$T/vars.good" "$T/rules/vars.conf"
    mkdir "$T/rules.away" && mv "$T"/rules/*.rules "$T/rules.away/"
    r=$(ctl reload); rst=$?
    check "no rule file: ctl exit" "$rst" 1
    case $r in *'"error"'*) ok ;; *) bad "no rule file: reply [$r] has no error" ;; esac
    check "failed reloads counted" "$(stat_of .canhgac.reload_failures)" 2
    replay "$PCAPS/chrissanders/http_dvwa_sqlinjection.pcapng" --topspeed
    wait_pkts "$LIVE_SENT"
    check "after failed reloads: the old rules alert" "$(stat_of .stats.detect.alert)" 5
    mv "$T/rules.away"/*.rules "$T/rules/"
    finish
    check "after failed reloads: exit" "$SST" 0
    check "after failed reloads: EVE alerts" "$(alert_set "$T/hup.json")" "9100101=2 9100102=3"
}
echo "  reload: $(($(date +%s) - t_start)) s"

# 4. Reopen: the EVE file moved away, then `ctl reopen`, then SIGUSR2.
start reopen -i "$LIVE_IF_B" --workers 2 -S rules -d "$T/reopen" -o "$T/reopen.json" && {
    replay "$PCAPS/shellshock/exploit.pcap" --topspeed; s=$LIVE_SENT
    wait_pkts "$s"
    mv "$T/reopen.json" "$T/reopen.json.1"
    r=$(ctl reopen); rst=$?
    check "reopen: ctl exit" "$rst" 0
    [ -f "$T/reopen.json" ] && ok || bad "reopen: no new file at the original path"
    replay "$PCAPS/chrissanders/http_dvwa_sqlinjection.pcapng" --topspeed; s=$((s + LIVE_SENT))
    wait_pkts "$s"
    mv "$T/reopen.json" "$T/reopen.json.2"
    kill -USR2 "$SPID"
    n=0; until [ -f "$T/reopen.json" ] || [ $n -gt 50 ]; do n=$((n + 1)); sleep 0.1; done
    [ -f "$T/reopen.json" ] && ok || bad "SIGUSR2: no new file at the original path"
    replay "$PCAPS/chrissanders/http_dvwa_directorytraversal.pcapng" --topspeed; s=$((s + LIVE_SENT))
    wait_pkts "$s"
    finish
    check "reopen: exit" "$SST" 0
    check "reopen: first file's alerts" "$(alert_set "$T/reopen.json.1")" "9100118=1"
    check "reopen: second file's alerts" "$(alert_set "$T/reopen.json.2")" "9100101=2 9100102=3"
    check "reopen: third file's alerts" "$(alert_set "$T/reopen.json")" "9100111=1 9100113=1"
    for f in reopen.json.1 reopen.json.2 reopen.json; do
        valid_json "$T/$f" && ok || bad "reopen: $f has a line that is not a JSON object"
    done
    check "reopen: mode of the new file" "$(stat -c %a "$T/reopen.json")" 640
}

# 5. Stats: EVE stats lines every second, valid; ctl stats and ctl flows.
start stats -i "$LIVE_IF_B" --workers 2 -S rules -d "$T/stats" -o "$T/stats.json" --stats 1 && {
    live_replay "$T/gen.pcap" --pps 4000 &
    RJ=$!
    sleep 1
    ctl stats > "$T/ctlstats.json" || bad "ctl stats: exit $?"
    ctl flows > "$T/ctlflows.json" || bad "ctl flows: exit $?"
    wait $RJ
    sleep 1.2
    finish
    check "stats: exit" "$SST" 0
    for k in .stats.capture.kernel_packets .stats.decoder.pkts .stats.flow.active .stats.detect.alert; do
        v=$(jq -r "$k" "$T/ctlstats.json" 2> /dev/null)
        case $v in ''|null|*[!0-9]*) bad "ctl stats: $k is [$v]" ;; *) ok ;; esac
        v=$(jq -r "select(.event_type==\"stats\") | $k" "$T/stats.json" | tail -n 1)
        case $v in ''|null|*[!0-9]*) bad "EVE stats: $k is [$v]" ;; *) ok ;; esac
    done
    [ "$(jq -r .stats.decoder.pkts "$T/ctlstats.json")" -gt 0 ] && ok || bad "ctl stats during traffic: no packet"
    nf=$(jq -r '.flows | length' "$T/ctlflows.json" 2> /dev/null)
    [ "${nf:-0}" -gt 0 ] && ok || bad "ctl flows during traffic: [$(head -c 300 "$T/ctlflows.json")]"
    ns=$(grep -c '"event_type":"stats"' "$T/stats.json")
    [ "$ns" -ge 3 ] && ok || bad "EVE stats: $ns lines in a run of 3 s or more"
    last=$(jq -r 'select(.event_type=="stats") | .stats.decoder.pkts' "$T/stats.json" | tail -n 1)
    check "EVE stats: the last line counts every packet" "$last" "$(summary_num "$T/stats.err" packets 2)"
    grep '"event_type":"stats"' "$T/stats.json" > "$T/stats.only"
    "$PY" "$VALIDATE" --allow-extra-top "$SCHEMA" "$T/stats.only" > "$T/valid.out" 2>&1 \
        && ok || bad "EVE stats lines invalid: $(head -n 5 "$T/valid.out")"
    "$PY" "$VALIDATE" --allow-extra-top "$SCHEMA" "$T/stats.json" > "$T/valid.out" 2>&1 \
        && ok || bad "EVE file invalid: $(head -n 5 "$T/valid.out")"
}
echo "  reopen, stats: $(($(date +%s) - t_start)) s"

# 6. Privileges: --user, a user of this test's own; --pid-file.
useradd --system --no-create-home --shell /usr/sbin/nologin --user-group "$LUSER" \
    || bad "useradd $LUSER"
uid=$(id -u "$LUSER"); gid=$(id -g "$LUSER")
mkdir "$T/priv" "$T/priv/run"
# the pid file's directory is the user's, as systemd's RuntimeDirectory makes it
chown "$LUSER" "$T/priv/run"
start priv -i "$LIVE_IF_B" --workers 2 -S rules -d "$T/priv/store" -o "$T/priv/eve.json" \
        --user "$LUSER" --pid-file "$T/priv/run/pid" && {
    check "--pid-file holds the pid" "$(cat "$T/priv/run/pid" 2> /dev/null)" "$SPID"
    check "--user: Uid" "$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$SPID/status")" "$uid $uid $uid $uid"
    check "--user: Gid" "$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$SPID/status")" "$gid $gid $gid $gid"
    g=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$SPID/status" | tr -d ' ')
    [ -z "$g" ] || [ "$g" = "$gid" ] && ok || bad "--user: supplementary groups [$g]"
    replay "$PCAPS/chrissanders/http_dvwa_sqlinjection.pcapng" --topspeed
    wait_pkts "$LIVE_SENT" || bad "--user: not every packet read"
    finish
    check "--user: exit" "$SST" 0
    check "--user: EVE alerts" "$(alert_set "$T/priv/eve.json")" "9100101=2 9100102=3"
    check "--user: incidents" "$(incident_set "$T/priv/store")" "9100101=2 9100102=3"
    check "--user: store dir mode and owner" "$(stat -c '%a %U' "$T/priv/store")" "750 $LUSER"
    check "--user: data.mdb mode and owner" "$(stat -c '%a %U' "$T/priv/store/data.mdb")" "640 $LUSER"
    check "--user: EVE file mode and owner" "$(stat -c '%a %U' "$T/priv/eve.json")" "640 $LUSER"
    [ -e "$T/priv/run/pid" ] && bad "--pid-file still there after exit" || ok
}

# 7. Bad input: one line, the exit code, nothing left behind.
# run_live_bad NAME WANT-EXIT PATTERN ARGS...: `canhgac run ARGS` in LIVE_NS_B
run_live_bad() {
    name=$1; want=$2; pat=$3; shift 3
    live_in_b timeout 20 "$CG" run "$@" > "$T/bad.out" 2> "$T/bad.err"
    check "$name exit" "$?" "$want"
    check "$name one line" "$(lines "$T/bad.err")" 1
    check_grep "$name message" "$T/bad.err" "$pat"
}
run_live_bad "no such interface" 2 "cgnosuch9: no such interface" \
    -i cgnosuch9 -S rules -d "$T/b1" -o "$T/b1.json"
run_live_bad "second -i cannot be opened" 2 "cgnosuch9" \
    -i "$LIVE_IF_B" -i cgnosuch9 --workers 2 -S rules -d "$T/b2" -o "$T/b2.json" \
    --ctl "$T/b2.sock" --pid-file "$T/b2.pid"
[ -e "$T/b2.sock" ] || [ -e "$T/b2.pid" ] && bad "second -i: socket or pid file left behind" || ok
run_live_bad "--workers 0" 2 "workers" -i "$LIVE_IF_B" --workers 0 -S rules --no-store
run_live_bad "--workers 65" 2 "workers" -i "$LIVE_IF_B" --workers 65 -S rules --no-store
run_live_bad "--user nosuchuser" 2 "nosuchuser" -i "$LIVE_IF_B" -S rules -d "$T/b3" --user nosuchuser
[ -e "$T/b3" ] && bad "--user nosuchuser: the store was created" || ok
mkdir -m 0777 "$T/np"
run_live_bad_np() {
    live_in_b setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$CG" run -i "$LIVE_IF_B" -S rules --no-cache -d "$T/np/store" -o "$T/np/eve.json" \
        > "$T/bad.out" 2> "$T/bad.err"
    check "no permission exit" "$?" 2
    check "no permission one line" "$(lines "$T/bad.err")" 1
    check_grep "no permission message" "$T/bad.err" \
        "$LIVE_IF_B: permission denied: live capture needs root or CAP_NET_RAW"
}
run_live_bad_np

# garbage and an unknown command on the control socket; the sensor goes on
start ctlbad -i "$LIVE_IF_B" --workers 1 -S rules -d "$T/ctlbad" -o "$T/ctlbad.json" && {
    r=$(ctl_raw "b'\\x00\\xff garbage\\n'")
    case $r in '{"error":'*) ok ;; *) bad "garbage on the socket: reply [$r]" ;; esac
    r=$(ctl_raw "b'frobnicate\\n'")
    case $r in '{"error":'*) ok ;; *) bad "unknown command: reply [$r]" ;; esac
    r=$(ctl_raw "b'$(head -c 5000 /dev/zero | tr '\0' a)\\n'")
    case $r in '{"error":'*) ok ;; *) bad "a line of 5000 bytes: reply [$r]" ;; esac
    "$CG" ctl --ctl "$SOCK" frobnicate > /dev/null 2>&1
    check "canhgac ctl frobnicate: exit" "$?" 2
    check "after garbage: the sensor answers" "$(ctl version | jq -r .version)" "$($CG version | awk '{print $NF}')"
    replay "$PCAPS/shellshock/exploit.pcap" --topspeed
    wait_pkts "$LIVE_SENT"
    finish
    check "after garbage: exit" "$SST" 0
    check "after garbage: alerts" "$(alert_set "$T/ctlbad.json")" "9100118=1"
}

# a full disk under the EVE file
mkdir "$T/full" && mount -t tmpfs -o size=1m tmpfs "$T/full" || bad "mount tmpfs"
start full -i "$LIVE_IF_B" --workers 2 -S rules -d "$T/fullstore" -o "$T/full/eve.json" \
        --eve-packet --eve-payload && {
    replay "$PCAPS/chrissanders/http_dvwa_sqlinjection.pcapng" --topspeed
    wait_pkts "$LIVE_SENT"
    live_replay "$T/gen.pcap" --topspeed --loop 2 --unique-ip
    waitfor "$SPID" 10
    wait "$SPID"; SST=$?; SPID=""
    check "full disk: exit" "$SST" 1
    check_grep "full disk: message naming the file" "$T/full.err" "$T/full/eve.json: .*(No space left on device|space)"
    q=$("$CG" query -d "$T/fullstore" --count 2> "$T/q.err"); qst=$?
    check "full disk: store readable" "$qst" 0
    [ "${q:-0}" -ge 2 ] && ok || bad "full disk: incidents in the store: [$q] $(cat "$T/q.err")"
    valid_json "$T/full/eve.json" || echo "  note: the full EVE file ends in a cut line"
}
umount "$T/full" 2> /dev/null

# the interface deleted mid-capture: the second pair, which nothing needs any more
start gone -i "$IF_D" --workers 2 -S rules -d "$T/gone" -o "$T/gone.json" && {
    replay_c "$PCAPS/chrissanders/http_dvwa_sqlinjection.pcapng" --topspeed
    wait_pkts 35
    sleep 0.3
    ip -n "$LIVE_NS_B" link del "$IF_D"
    waitfor "$SPID" 10
    wait "$SPID"; SST=$?; SPID=""
    [ "$SST" -ne 0 ] && ok || bad "interface deleted: exit 0"
    check "interface deleted: exit" "$SST" 1
    check_grep "interface deleted: message naming it" "$T/gone.err" "$IF_D: the interface went away"
    check "interface deleted: incidents before it" "$(incident_set "$T/gone")" "9100101=2 9100102=3"
    check "interface deleted: EVE alerts" "$(alert_set "$T/gone.json")" "9100101=2 9100102=3"
}

el=$(($(date +%s) - t_start))
echo "  total: $el s"
[ $el -le 240 ] || bad "the live tests took $el s (4 minutes at most)"
[ -n "${CANHGAC_LIVE_KEEP:-}" ] && { rm -rf "$CANHGAC_LIVE_KEEP"; cp -r "$T" "$CANHGAC_LIVE_KEEP"; }
e2e_done e2e_live
