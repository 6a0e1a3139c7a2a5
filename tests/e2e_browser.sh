#!/bin/sh
# e2e_browser.sh — the web console in a real browser: Debian's chromium,
# driven by chromedriver (python3-selenium), against `canhgac serve`.
#
# Two stores: one from the generated sample traffic (tests/gen_traffic.c) with
# the SOC's keys, and one whose incidents carry markup, javascript: URLs and
# invalid UTF-8 in the rule message, URI, host and user agent
# (tests/browser/xss_pcap.py). Users viewer, analyst and admin are added with
# `canhgac user add` (cheap password hashing: CANHGAC_PWHASH_MIN=1), a server
# is started on a free loopback port for each store, and
# tests/browser/console.py checks the pages (its docstring lists what);
# screenshots of each page go to BUILD_DIR/artifacts/browser/. The servers'
# logs must show no request that crashed them: both still answer at the end
# and stop on SIGTERM with status 0.
#
# Without chromium, chromium-driver or python3-selenium the test is skipped
# with one line; CANHGAC_REQUIRE_BROWSER=1 makes that a failure.
#
# Usage: tests/e2e_browser.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
# The sanitizer pass (E2E_QUICK=1) leaves the browser out: the pages are the
# same bytes there, and tests/e2e_serve.sh drives every API call of theirs
# through the sanitized server.
if [ "${E2E_QUICK:-0}" = 1 ]; then
    echo "browser: not in the quick pass (the plain pass runs it)"
    exit 0
fi
E2E_NAME=browser
. tests/e2e_lib.sh
PY=/usr/bin/python3
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null ||
    ! "$PY" -c 'import selenium' 2> /dev/null; then
    rm -rf "$T"
    if [ "${CANHGAC_REQUIRE_BROWSER:-0}" = 1 ]; then
        echo "browser: chromium, chromium-driver and python3-selenium are needed (tools/setup.sh installs them)"
        exit 1
    fi
    echo "browser: skipped: no chromium, chromium-driver or python3-selenium (CANHGAC_REQUIRE_BROWSER=1 fails instead)"
    exit 0
fi
ART="$B/artifacts/browser"
rm -rf "$ART"
mkdir -p "$ART"
RUN="run -q -S rules --no-enrich -o /dev/null"
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2> /dev/null; done
}
trap cleanup EXIT INT TERM

# ---- the stores ----------------------------------------------------------
"$B/gen_traffic" -o "$T/t.pcap" -t "$T/t.tsv" 2> /dev/null
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/s" 2> "$T/err"
check "run (sample traffic)" "$?" 0
"$CG" keys init -d "$T/s" > /dev/null
check "keys init" "$?" 0
"$PY" tests/browser/xss_pcap.py "$T/x.pcap" "$T/xrules"
check "xss capture" "$?" 0
"$CG" run -q -S "$T/xrules" --no-enrich -o /dev/null -r "$T/x.pcap" -d "$T/x" 2> "$T/err"
check "run (hostile text)" "$?" 0
check "hostile incidents" "$("$CG" query -d "$T/x" --count)" 8

# ---- the users -----------------------------------------------------------
users=""
for u in viewer analyst admin; do
    pw="pw-$u-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$pw" > "$T/$u.pw"
    for s in s x; do
        CANHGAC_PWHASH_MIN=1 "$CG" user add "$u" --role "$u" -d "$T/$s" --password-file "$T/$u.pw" \
            > /dev/null 2> "$T/err"
        check "user add $u ($s)" "$?" 0
    done
    users="$users${users:+,}$u:$pw"
done

# ---- the servers ---------------------------------------------------------
free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# serve STORE LOG: starts canhgac serve on a free port (a child of this
# shell, so that wait gives its status); PORT and PID are set once the
# console answers, PORT is empty when it never did
serve() {
    PORT=""
    for _ in 1 2 3; do
        p=$(free_port)
        "$CG" serve -d "$1" --listen "127.0.0.1:$p" > /dev/null 2> "$2" &
        PID=$!
        i=0
        while [ $i -lt 50 ]; do
            if curl -fsS -o /dev/null "http://127.0.0.1:$p/favicon.svg" 2> /dev/null; then
                PORT=$p
                pids="$pids $PID"
                return 0
            fi
            kill -0 "$PID" 2> /dev/null || break
            sleep 0.1
            i=$((i + 1))
        done
        kill "$PID" 2> /dev/null
        wait "$PID" 2> /dev/null
    done
    return 1
}
serve "$T/s" "$T/serve.log"
port=$PORT
check "serve (sample store) answers" "${port:+up}" up
serve "$T/x" "$T/xserve.log"
xport=$PORT
check "serve (hostile store) answers" "${xport:+up}" up
if [ -z "$port" ] || [ -z "$xport" ]; then
    cat "$T/serve.log" "$T/xserve.log"
    e2e_done browser
    exit 1
fi

# ---- the browser ---------------------------------------------------------
# a second capture of the hostile kind, run into the served store while the
# dashboard is open: the "N new" banner
"$PY" tests/browser/xss_pcap.py "$T/more.pcap" "$T/morerules"
# the report's period: the sample traffic's day
day=$("$CG" query -d "$T/s" --json --limit 1 2> /dev/null | sed -n 's/.*"first_seen":"\([0-9-]*\)T.*/\1/p')
"$PY" tests/browser/console.py --base "http://127.0.0.1:$port" --xss-base "http://127.0.0.1:$xport" \
    --cg "$CG" --store "$T/s" --xss-store "$T/x" --users "$users" --out "$ART" --work "$T/browser" \
    --more-pcap "$T/more.pcap" --more-rules "$T/morerules" --report-from "$day" \
    --report-to "$(date -u -d "$day + 1 day" +%F)" > "$T/console.out" 2>&1
rc=$?
cat "$T/console.out"
check "console.py" "$rc" 0
n=$(ls "$ART"/*.png 2> /dev/null | wc -l)
[ "$n" -ge 10 ] && ok || bad "screenshots: $n in $ART"

# ---- the servers lived through it and stop cleanly -----------------------
for p in "$port" "$xport"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/api/incidents")
    check "serve :$p still answers (401 logged out)" "$code" 401
done
for p in $pids; do
    kill -TERM "$p"
    wait "$p"
    check "serve stops on SIGTERM" "$?" 0
done
pids=""
if grep -Eq 'AddressSanitizer|runtime error|Segmentation' "$T/serve.log" "$T/xserve.log"; then
    bad "serve's log: $(grep -Eh 'AddressSanitizer|runtime error|Segmentation' "$T/serve.log" "$T/xserve.log" | head -3)"
else
    ok
fi
e2e_done browser
