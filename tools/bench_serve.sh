#!/bin/sh
# bench_serve.sh — `canhgac serve` over a store of N synthetic incidents
# (bench_store's mix, alerts stored): the server's time for /api/dashboard
# and for the first page of a query (median and p99 over REQS requests each,
# from the access log's milliseconds, and curl's time_starttransfer beside
# it), wrk on one incident's page for 10 s (requests/s), the server's peak
# RSS while it held (VmHWM), and the weight of the dashboard in a browser
# (index.html + app.js + app.css + i18n.js + /api/dashboard, bytes).
# With STORE (tools/bench.sh passes its 10M store) that store is read (a
# user and a token are added to it); else one is built in BENCH_DIR and
# removed.
#
# Usage: tools/bench_serve.sh BUILD [STORE]   (N: BENCH_INCIDENTS, default
#        10000000; REQS default 200)
set -e
B=${1:-build}
W=${BENCH_DIR:-/tmp/canhgac-bench}
N=${BENCH_INCIDENTS:-10000000}
REQS=${REQS:-200}
S=${2:-}
own=0
mkdir -p "$W"
if [ -z "$S" ] || [ ! -f "$S/data.mdb" ]; then
    S="$W/serve-store"
    own=1
    rm -rf "$S"
    "$B/bench_store" -n "$N" -a "$S" > /dev/null
fi
export CANHGAC_PWHASH_MIN=1
printf 'bench-pw\n' > "$W/serve-pw"
"$B/canhgac" user add bench --role analyst -d "$S" --password-file "$W/serve-pw" > /dev/null 2>&1 || true
TOK=$("$B/canhgac" user token bench --label bench -d "$S")
PORT=$((30000 + $$ % 20000))
LOG="$W/serve.log"
"$B/canhgac" serve -d "$S" --listen "127.0.0.1:$PORT" --threads 4 2> "$LOG" &
SPID=$!
trap 'kill $SPID 2> /dev/null || true' EXIT
i=0
until grep -q 'canhgac serve: http' "$LOG"; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "bench_serve: serve did not start: $(cat "$LOG")"; exit 1; }
    sleep 0.1
done
U="http://127.0.0.1:$PORT"
A="Authorization: Bearer $TOK"
t0=$(date +%s.%N)
curl -s -H "$A" -o "$W/dash.json" "$U/api/dashboard"
t1=$(date +%s.%N)
echo "first dashboard (computed at start, waited for): $(echo "$t1 - $t0" | bc) s"
# pct P FILE: the P-th percentile of the numbers in FILE
pct() { sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'; }
Q=$(/usr/bin/python3 -c 'import urllib.parse;print(urllib.parse.quote("sev >= medium and dport = 80"))')
for what in dashboard "incidents?q=$Q&limit=50"; do
    : > "$W/curl-times"
    before=$(wc -l < "$LOG")
    for i in $(seq "$REQS"); do
        curl -s -H "$A" -o /dev/null -w '%{time_starttransfer}\n' "$U/api/$what" >> "$W/curl-times"
    done
    tail -n +"$((before + 1))" "$LOG" | sed -n 's/.* 200 \([0-9.]*\)ms$/\1/p' > "$W/server-times"
    name=${what%%\?*}
    echo "/api/$name: server median $(pct 50 "$W/server-times") ms, p99 $(pct 99 "$W/server-times") ms;" \
        "curl time to first byte median $(echo "$(pct 50 "$W/curl-times") * 1000" | bc) ms," \
        "p99 $(echo "$(pct 99 "$W/curl-times") * 1000" | bc) ms ($REQS requests)"
done
ID=$(jq .latest_id "$W/dash.json")
if command -v wrk > /dev/null; then
    wrk -t 2 -c 16 -d 10s -H "$A" "$U/api/incidents/$ID" > "$W/wrk.out" 2>&1 || true
    echo "wrk /api/incidents/$ID, 16 connections, 10 s: $(sed -n 's/^Requests\/sec: *//p' "$W/wrk.out") requests/s," \
        "latency $(awk '/Latency/ { print $2 " mean, " $3 " sd" }' "$W/wrk.out")"
else
    echo "wrk: not installed (tools/setup.sh)"
fi
echo "serve's peak RSS: $(sed -n 's/^VmHWM: *//p' "/proc/$SPID/status")"
w=0
for f in index.html app.js app.css i18n.js; do
    n=$(curl -s "$U/$f" | wc -c)
    [ "$f" = index.html ] && n=$(curl -s "$U/" | wc -c)
    w=$((w + n))
done
d=$(wc -c < "$W/dash.json")
echo "dashboard page weight: $((w + d)) bytes (pages $w, /api/dashboard $d)"
kill -TERM $SPID
wait $SPID || true
trap - EXIT
rm -f "$W/serve-pw"
[ "$own" = 1 ] && rm -rf "$S"
exit 0
