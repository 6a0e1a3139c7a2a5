#!/bin/sh
# e2e_serve.sh — the web console's server as browsers, scripts and attackers
# meet it: `canhgac serve` over a store made by `run` from the generated
# sample traffic, with users made by `canhgac user add` (cheap hashes:
# CANHGAC_PWHASH_MIN=1), on a free loopback port, driven with curl:
#  - the API answers what the command line answers: /api/incidents?q= rows
#    are `query --json`'s (ids), cursor pages cover them once, a bad query is
#    400 with its column; /api/incidents/ID is `incident show --json`; the
#    pcap is `incident pcap`'s bytes; the dashboard's numbers are
#    `query --count`'s;
#  - sessions: login right and wrong, the lockout after 5 failures (429,
#    Retry-After, in the audit), every /api/ path without a session 401, a
#    bad or expired cookie 401, CSRF missing or wrong 403, an API token
#    without CSRF, a revoked token 401, roles (viewer: 403 and 'denied' in the
#    audit), triage and notes in the history under the web user;
#  - cases: created from a query, exported (sha256sum -c inside, case verify
#    ok), the export sent back to /api/verify (ok; a flipped byte: not ok);
#    the report (a PDF);
#  - hostile input: traversal paths 404, malformed HTTP 400 and the server
#    still up, an oversized body 413, more than 64 headers 431, a slow client
#    dropped;
#  - start-up: plain HTTP on a public address refused, TLS with a
#    self-signed certificate (curl --cacert), a certificate that does not
#    match its key refused with one line, a missing or damaged store one line and exit
#    1, SIGTERM stops it (exit 0).
#
# Usage: tests/e2e_serve.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=serve
. tests/e2e_lib.sh
for t in curl jq openssl sha256sum /usr/bin/python3; do
    command -v "$t" > /dev/null || { echo "serve: needs $t (tools/setup.sh)"; exit 1; }
done
export CANHGAC_PWHASH_MIN=1
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2> /dev/null; done; }
trap cleanup EXIT

"$B/gen_traffic" -o "$T/t.pcap" -t "$T/t.tsv" 2> /dev/null
"$CG" run -q -S rules --no-enrich -o /dev/null -r "$T/t.pcap" -d "$T/s" 2> "$T/err"
check "run" "$?" 0
"$CG" keys init -d "$T/s" > /dev/null
check "keys init" "$?" 0
S="$T/s"
for u in an:analyst vi:viewer rs:responder ad:admin lk:viewer; do
    name=${u%%:*}
    printf 'pw-%s\n' "$name" > "$T/pw.$name"
    "$CG" user add "$name" --role "${u#*:}" -d "$S" --password-file "$T/pw.$name" > /dev/null 2>&1
    check "user add $name" "$?" 0
done
TOK=$("$CG" user token rs --label e2e -d "$S" 2> /dev/null)
check_grep "token made" "$(printf '%s\n' "$TOK" > "$T/tok"; echo "$T/tok")" '^cgt_[0-9a-f]{64}$'

# serve_on LOGFILE ARGS...: starts serve on a free port (PORT, URL, SPID)
serve_on() {
    log=$1; shift
    for try in 1 2 3 4 5 6 7 8; do
        r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        PORT=$((20000 + (r + try * 131) % 30000))
        "$CG" serve -d "$S" --listen "127.0.0.1:$PORT" "$@" 2> "$log" &
        SPID=$!
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            grep -q 'canhgac serve: http' "$log" 2> /dev/null && break
            kill -0 "$SPID" 2> /dev/null || break
            sleep 0.1
        done
        if grep -q 'canhgac serve: http' "$log"; then
            PIDS="$PIDS $SPID"
            return 0
        fi
        wait "$SPID" 2> /dev/null
    done
    return 1
}

serve_on "$T/serve.log"
check "serve starts" "$?" 0
U="http://127.0.0.1:$PORT"
J="Content-Type: application/json"

# ---- pages and headers --------------------------------------------------------
curl -s -D "$T/h" -o "$T/index" "$U/"
check_grep "index 200" "$T/h" '^HTTP/1.1 200'
check_grep "index is the page" "$T/index" '<html|<!doctype html'
for h in "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" \
    "X-Content-Type-Options: nosniff" "X-Frame-Options: DENY" "Referrer-Policy: no-referrer"; do
    grep -Fqi "$h" "$T/h" && ok || bad "page header: $h"
done
etag=$(sed -n 's/^ETag: *\(.*\)\r$/\1/ip' "$T/h")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$U/")
check "etag 304" "$code" 304
curl -s -D "$T/h" -o /dev/null "$U/api/me"
check_grep "api no-store" "$T/h" '^Cache-Control: no-store'
check_grep "api csp" "$T/h" "^Content-Security-Policy: default-src 'none'"
check_grep "api nosniff" "$T/h" '^X-Content-Type-Options: nosniff'

# ---- hostile paths ---------------------------------------------------------------
for p in "/../etc/passwd" "/%2e%2e/etc/passwd" "//etc/passwd" "/api/../etc/passwd" \
    "/etc/passwd" "/index.html/.." "/app.js%2f..%2f..%2fetc%2fpasswd" "/README.md" "/API.md"; do
    code=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$U$p")
    case $code in 404 | 400) ok ;; *) bad "path $p: $code" ;; esac
done

# ---- without a session ------------------------------------------------------------
for p in me dashboard incidents incidents/1 incidents/1/pcap "since?id=0" cases cases/1 \
    "report?from=2025-11-01&to=2025-11-30" users "audit?limit=5"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$U/api/$p")
    check "GET /api/$p without session" "$code" 401
done
for p in logout incidents/1/triage incidents/1/notes cases cases/1/incidents cases/1/notes \
    cases/1/export verify; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$J" -d '{}' "$U/api/$p")
    check "POST /api/$p without session" "$code" 401
done
code=$(curl -s -o /dev/null -w '%{http_code}' -b "cg_session=$(printf '%064d' 0)" "$U/api/me")
check "bad cookie" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -b "cg_session=x" "$U/api/me")
check "short cookie" "$code" 401

# ---- login ---------------------------------------------------------------------------
login() { # login USER PASSWORD JAR -> http code, body in $T/login
    curl -s -o "$T/login" -w '%{http_code}' -c "$3" -H "$J" \
        -d "{\"user\":\"$1\",\"password\":\"$2\"}" "$U/api/login"
}
check "login an" "$(login an pw-an "$T/an")" 200
check "login role" "$(jq -r .role "$T/login")" analyst
CSRF_AN=$(jq -r .csrf "$T/login")
check_grep "csrf token" "$(echo "$CSRF_AN" > "$T/c"; echo "$T/c")" '^[0-9a-f]{64}$'
check_grep "cookie flags" "$T/an" 'cg_session'
curl -s -D "$T/h" -o /dev/null -c /dev/null -H "$J" -d '{"user":"vi","password":"pw-vi"}' "$U/api/login"
check_grep "Set-Cookie HttpOnly SameSite" "$T/h" '^Set-Cookie: cg_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=/'
check "login wrong" "$(login an nope "$T/x")" 401
check "login unknown" "$(login nobody nope "$T/x")" 401
check "me" "$(curl -s -b "$T/an" "$U/api/me" | jq -r '.user + " " + .role')" "an analyst"
for i in 1 2 3 4 5; do login lk wrong "$T/x" > /dev/null; done
curl -s -D "$T/h" -o "$T/x" -H "$J" -d '{"user":"lk","password":"pw-lk"}' "$U/api/login"
check_grep "lockout 429" "$T/h" '^HTTP/1.1 429'
check_grep "lockout Retry-After" "$T/h" '^Retry-After: [0-9]+'
check "lockout code" "$(jq -r .code "$T/x")" rate-limited
"$CG" user audit --json -d "$S" > "$T/audit" 2> /dev/null
check_grep "audit lockout" "$T/audit" '"event":"lockout"'
check_grep "audit login failed" "$T/audit" '"event":"login-failed"'
check_grep "audit login" "$T/audit" '"event":"login"'

# ---- the dashboard (before any change) ------------------------------------------------
curl -s -b "$T/an" "$U/api/dashboard" > "$T/dash"
check "dashboard total" "$(jq .total "$T/dash")" "$("$CG" query --count -d "$S")"
OPEN="status in [new, acknowledged, investigating]"
for sv in 1:high 2:medium 3:low; do
    check "dashboard open sev ${sv#*:}" "$(jq ".open.by_severity[\"${sv%%:*}\"]" "$T/dash")" \
        "$("$CG" query --count -d "$S" "$OPEN and sev = ${sv#*:}")"
done
check "dashboard open layer 4" "$(jq '.open.by_layer["4"]' "$T/dash")" \
    "$("$CG" query --count -d "$S" "$OPEN and layer = 4")"
check "dashboard per_hour" "$(jq '.per_hour | length' "$T/dash")" 24
check "dashboard latest" "$(jq .latest_id "$T/dash")" "$("$CG" query --json --limit 1 -d "$S" 2> /dev/null | jq .incident_id)"
top=$(jq '.top_signatures[0] | "\(.sid) \(.n)"' -r "$T/dash")
check "dashboard top signature" "${top#* }" "$("$CG" query --count -d "$S" "sid = ${top% *}")"

# ---- queries ---------------------------------------------------------------------------
Q='sev >= medium and dport = 80'
QE=$(/usr/bin/python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1]))' "$Q")
"$CG" query --json --limit 0 -d "$S" "$Q" | jq .incident_id > "$T/ids.cli"
curl -s -b "$T/an" "$U/api/incidents?q=$QE&limit=1000" | jq '.incidents[].incident_id' > "$T/ids.web"
check "query rows" "$(cmp -s "$T/ids.cli" "$T/ids.web" && echo same)" same
check "query not empty" "$(test -s "$T/ids.cli" && echo yes)" yes
"$CG" query --json --limit 0 -d "$S" > "$T/all.cli"
jq .incident_id "$T/all.cli" > "$T/all.ids"
: > "$T/paged"
cur=""
pages=0
while :; do
    curl -s -b "$T/an" "$U/api/incidents?limit=7${cur:+&cursor=$cur}" > "$T/page"
    jq '.incidents[].incident_id' "$T/page" >> "$T/paged"
    cur=$(jq -r '.next // empty' "$T/page")
    pages=$((pages + 1))
    [ -z "$cur" ] || [ $pages -gt 100 ] && break
done
check "cursor pages cover every row once" "$(cmp -s "$T/all.ids" "$T/paged" && echo same)" same
: > "$T/paged"
cur=""
while :; do
    curl -s -b "$T/an" "$U/api/incidents?limit=9&order=asc${cur:+&cursor=$cur}" > "$T/page"
    jq '.incidents[].incident_id' "$T/page" >> "$T/paged"
    cur=$(jq -r '.next // empty' "$T/page")
    [ -z "$cur" ] && break
done
check "asc pages" "$(sort -n "$T/all.ids" | cmp -s - "$T/paged" && echo same)" same
check "query count" "$(curl -s -b "$T/an" "$U/api/incidents?q=sev%3E%3Dhigh&limit=1" | jq .count)" \
    "$("$CG" query --count -d "$S" 'sev >= high')"
curl -s -o "$T/x" -w '%{http_code}' -b "$T/an" "$U/api/incidents?q=sev%20%3E%3D" > "$T/code"
check "bad query 400" "$(cat "$T/code")" 400
check "bad query code" "$(jq -r .code "$T/x")" bad-query
check "bad query column" "$(jq .column "$T/x")" 7
ID=$(head -n 1 "$T/ids.cli")
"$CG" incident show --json "$ID" -d "$S" | jq -S . > "$T/show.cli"
curl -s -b "$T/an" "$U/api/incidents/$ID" | jq -S . > "$T/show.web"
check "incident show" "$(cmp -s "$T/show.cli" "$T/show.web" && echo same)" same
check "unknown incident" "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/an" "$U/api/incidents/999999")" 404
"$CG" incident pcap "$ID" -o "$T/cli.pcapng" -d "$S" 2> /dev/null
curl -s -b "$T/an" -o "$T/web.pcapng" "$U/api/incidents/$ID/pcap"
check "pcap bytes" "$(sha256sum < "$T/web.pcapng")" "$(sha256sum < "$T/cli.pcapng")"
latest=$(jq .latest_id "$T/dash")
check "since" "$(curl -s -b "$T/an" "$U/api/since?id=$((latest - 3))" | jq '.incidents | length')" 3

# ---- changes, CSRF, roles, tokens -------------------------------------------------------
code=$(curl -s -o "$T/x" -w '%{http_code}' -b "$T/an" -H "$J" -H "X-CSRF-Token: $CSRF_AN" \
    -d '{"status":"investigating","assignee":"an"}' "$U/api/incidents/$ID/triage")
check "triage" "$code" 200
check "triage status" "$(jq -r .incident.status "$T/x")" investigating
code=$(curl -s -o "$T/x" -w '%{http_code}' -b "$T/an" -H "$J" -H "X-CSRF-Token: $CSRF_AN" \
    -d '{"text":"đã chặn tại tường lửa"}' "$U/api/incidents/$ID/notes")
check "note 201" "$code" 201
"$CG" incident show --json "$ID" -d "$S" > "$T/show"
check "history names the web user" "$(jq -r '[.history[].who] | unique | join(",")' "$T/show")" an
check "note text" "$(jq -r '.history[] | select(.field == "note") | .text' "$T/show")" "đã chặn tại tường lửa"
code=$(curl -s -o "$T/x" -w '%{http_code}' -b "$T/an" -H "$J" -d '{"status":"resolved"}' \
    "$U/api/incidents/$ID/triage")
check "no csrf 403" "$code" 403
check "no csrf code" "$(jq -r .code "$T/x")" csrf
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/an" -H "$J" -H "X-CSRF-Token: $(printf '%064d' 1)" \
    -d '{"status":"resolved"}' "$U/api/incidents/$ID/triage")
check "wrong csrf 403" "$code" 403
login vi pw-vi "$T/vi" > /dev/null
CSRF_VI=$(jq -r .csrf "$T/login")
code=$(curl -s -o "$T/x" -w '%{http_code}' -b "$T/vi" -H "$J" -H "X-CSRF-Token: $CSRF_VI" \
    -d '{"status":"resolved"}' "$U/api/incidents/$ID/triage")
check "viewer triage 403" "$code" 403
check "viewer code" "$(jq -r .code "$T/x")" forbidden
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/vi" "$U/api/users")
check "viewer users 403" "$code" 403
"$CG" user audit --json -d "$S" > "$T/audit" 2> /dev/null
check_grep "audit denied" "$T/audit" '"who":"vi".*"event":"denied"'
check "status unchanged" "$("$CG" query --json -d "$S" "id = $ID" | jq -r .status)" investigating
"$CG" user disable vi -d "$S" > /dev/null 2>&1
check "disabled user's session ends" "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/vi" "$U/api/me")" 401
"$CG" user enable vi -d "$S" > /dev/null 2>&1
A="Authorization: Bearer $TOK"
code=$(curl -s -o "$T/x" -w '%{http_code}' -H "$A" -H "$J" -d '{"text":"from a script"}' \
    "$U/api/incidents/$ID/notes")
check "token note without csrf" "$code" 201
check "token user" "$(curl -s -H "$A" "$U/api/me" | jq -r .user)" rs

# ---- cases, export, verify, report ---------------------------------------------------------
code=$(curl -s -o "$T/case" -w '%{http_code}' -H "$A" -H "$J" \
    -d "{\"title\":\"Tấn công SQL — cổng dịch vụ công\",\"q\":\"$Q\"}" "$U/api/cases")
check "case new 201" "$code" 201
CID=$(jq .case.case_id "$T/case")
check "case incidents" "$(jq '.incidents | length' "$T/case")" "$(lines "$T/ids.cli")"
check "case owner" "$(jq -r .case.owner "$T/case")" rs
check "case list" "$(curl -s -H "$A" "$U/api/cases" | jq '.cases | length')" 1
code=$(curl -s -o "$T/x" -w '%{http_code}' -H "$A" -H "$J" -d '{"q":"sev >="}' "$U/api/cases/$CID/incidents")
check "case add bad query" "$code" 400
code=$(curl -s -o "$T/case.tgz" -w '%{http_code}' -H "$A" -X POST "$U/api/cases/$CID/export")
check "export 200" "$code" 200
mkdir -p "$T/cx" && tar -C "$T/cx" -xzf "$T/case.tgz"
(cd "$T"/cx/* && sha256sum -c --quiet MANIFEST.sha256 > /dev/null 2>&1)
check "export sha256sum -c" "$?" 0
"$CG" case verify "$T/case.tgz" > /dev/null 2>&1
check "export case verify" "$?" 0
curl -s -H "$A" --data-binary @"$T/case.tgz" -H 'Content-Type: application/octet-stream' "$U/api/verify" > "$T/v"
check "api verify ok" "$(jq .ok "$T/v")" true
/usr/bin/python3 - "$T/case.tgz" "$T/bad.tgz" << 'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0xff
open(sys.argv[2], "wb").write(b)
EOF
curl -s -H "$A" --data-binary @"$T/bad.tgz" "$U/api/verify" > "$T/v"
check "api verify flipped" "$(jq .ok "$T/v")" false
code=$(curl -s -o "$T/r.pdf" -w '%{http_code}' -H "$A" "$U/api/report?from=2025-11-01&to=2025-11-30&lang=vi&format=pdf")
check "report 200" "$code" 200
check "report pdf" "$(head -c 4 "$T/r.pdf")" "%PDF"
TID=$("$CG" user tokens rs --json -d "$S" 2> /dev/null | jq -r .id | head -n 1)
"$CG" user revoke "$TID" -d "$S" > /dev/null 2>&1
check "revoke" "$?" 0
check "revoked token 401" "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" "$U/api/me")" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/an" -H "X-CSRF-Token: $CSRF_AN" -X POST "$U/api/logout")
check "logout 204" "$code" 204
check "after logout 401" "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/an" "$U/api/me")" 401

# ---- malformed and oversized requests ------------------------------------------------------
/usr/bin/python3 - "$PORT" > "$T/raw" << 'EOF'
import socket, sys
port = int(sys.argv[1])
def send(data, wait=2.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out:
                break
    except socket.timeout:
        pass
    s.close()
    return out.split(b"\r\n", 1)[0].decode("latin-1")
print("garbage", send(b"\x00\x01\x02 garbage \xff\r\n\r\n"))
print("nohost", send(b"GET / HTTP/1.1\r\n\r\n"))
print("badver", send(b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"))
print("headers", send(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(70)) + b"\r\n"))
print("nul", send(b"GET /a\x00b HTTP/1.1\r\nHost: x\r\n\r\n"))
print("badheader", send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"))
print("badlength", send(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"))
print("badchunk", send(b"POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n"))
EOF
check_grep "binary garbage: 400 or closed" "$T/raw" '^garbage ?(HTTP/1.1 400.*)?$'
check_grep "bad header line 400" "$T/raw" '^badheader HTTP/1.1 400'
check_grep "bad Content-Length 400" "$T/raw" '^badlength HTTP/1.1 400'
check_grep "bad chunk 400" "$T/raw" '^badchunk HTTP/1.1 400'
check_grep "no Host 400" "$T/raw" '^nohost HTTP/1.1 400'
check_grep "65+ headers 431" "$T/raw" '^headers HTTP/1.1 431'
check_grep "NUL in path 400" "$T/raw" '^nul HTTP/1.1 (400|404)'
check "still up" "$(curl -s -o /dev/null -w '%{http_code}' "$U/")" 200
head -c 70000 /dev/zero | tr '\0' 'a' > "$T/big"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$J" --data-binary @"$T/big" "$U/api/login")
check "oversized body 413" "$code" 413

# ---- a second server: sessions that expire, slow clients ------------------------------------------
# a sensor's control socket that answers stats (sensor/ctl.h's protocol)
/usr/bin/python3 - "$T/ctl.sock" << 'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c, _ = s.accept()
    line = c.recv(4096)
    if line.strip() == b"stats":
        c.sendall(b'{"stats":{"capture":{"packets":4242,"dropped":0}}}\n')
    else:
        c.sendall(b'{"error":"unknown command"}\n')
    c.close()
EOF
CTLPID=$!
PIDS="$PIDS $CTLPID"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S "$T/ctl.sock" ] && break; sleep 0.1; done
serve_on "$T/serve2.log" --session-idle 1s --timeout 2 --ctl "$T/ctl.sock"
check "serve 2 starts" "$?" 0
U2="http://127.0.0.1:$PORT"
curl -s -o /dev/null -H "$J" -d '{"user":"an","password":"pw-an"}' -c "$T/d2" "$U2/api/login"
check "dashboard sensors (ctl stats)" \
    "$(curl -s -b "$T/d2" "$U2/api/dashboard" | jq .sensors.stats.capture.packets)" 4242
check "dashboard without ctl" "$(jq .sensors "$T/dash")" null
curl -s -o /dev/null -c "$T/e" -H "$J" -d '{"user":"an","password":"pw-an"}' "$U2/api/login"
check "fresh session" "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/e" "$U2/api/me")" 200
sleep 1.3
check "expired session 401" "$(curl -s -o /dev/null -w '%{http_code}' -b "$T/e" "$U2/api/me")" 401
/usr/bin/python3 - "$PORT" > "$T/slow" << 'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
s.settimeout(6)
t = time.time()
try:
    d = s.recv(100)
    print("closed" if not d else "answered", round(time.time() - t))
except socket.timeout:
    print("held")
EOF
check_grep "slow client dropped" "$T/slow" '^closed [1-4]$'
check "serve 2 still up" "$(curl -s -o /dev/null -w '%{http_code}' "$U2/")" 200
kill -TERM "$SPID"
wait "$SPID"
check "SIGTERM exit 0" "$?" 0
PIDS=$(echo "$PIDS" | sed "s/ $SPID\b//")
check_grep "SIGTERM stopped" "$T/serve2.log" 'canhgac serve: stopped'

# ---- start-up refusals and TLS -------------------------------------------------------------
run_bad "public plain http" "plain HTTP only on a loopback" serve -d "$S" --listen 0.0.0.0:18999
run_bad "bad listen" "--listen" serve -d "$S" --listen 127.0.0.1
"$CG" serve -d "$T/none" --listen 127.0.0.1:18998 > /dev/null 2> "$T/e"
check "missing store exit" "$?" 1
check "missing store one line" "$(lines "$T/e")" 1
# a directory whose data.mdb is not a store: one line naming it, exit 1
mkdir -p "$T/junk"
head -c 65536 /dev/urandom > "$T/junk/data.mdb"
"$CG" serve -d "$T/junk" --listen 127.0.0.1:18998 > /dev/null 2> "$T/e"
check "damaged store exit" "$?" 1
check "damaged store one line" "$(lines "$T/e")" 1
check_grep "damaged store names it" "$T/e" "junk"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$T/k.pem" -out "$T/c.pem" 2> /dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other -keyout "$T/k2.pem" -out "$T/c2.pem" 2> /dev/null
run_bad "cert and key mismatch" "c.pem: the certificate does not match the key" \
    serve -d "$S" --cert "$T/c.pem" --key "$T/k2.pem"
run_bad "missing cert" "nothere.pem" serve -d "$S" --cert "$T/nothere.pem" --key "$T/k.pem"
serve_on "$T/serve3.log" --cert "$T/c.pem" --key "$T/k.pem"
check "tls serve starts" "$?" 0
U3="https://localhost:$PORT"
check "tls page" "$(curl -s --cacert "$T/c.pem" -o /dev/null -w '%{http_code}' "$U3/")" 200
curl -s --cacert "$T/c.pem" -D "$T/h" -o /dev/null -H "$J" -d '{"user":"an","password":"pw-an"}' "$U3/api/login"
check_grep "tls cookie Secure" "$T/h" '^Set-Cookie: cg_session=.*; Secure'
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" 2> /dev/null)
case $code in 200) bad "plain http on the tls port answered" ;; *) ok ;; esac

# started as root with --user: runs as that user once the port is bound
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
    chown -R nobody "$S"
    serve_on "$T/serve4.log" --user nobody
    check "serve --user starts" "$?" 0
    check "runs as nobody" "$(ps -o user= -p "$SPID" | tr -d ' ')" nobody
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$J" -d '{"user":"an","password":"pw-an"}' \
        "http://127.0.0.1:$PORT/api/login")
    check "login on nobody's server" "$code" 200
fi

kill "$CTLPID" 2> /dev/null
wait "$CTLPID" 2> /dev/null
PIDS=$(echo "$PIDS" | sed "s/ $CTLPID\b//")
kill -TERM $PIDS 2> /dev/null
for p in $PIDS; do
    wait "$p"
    check "serve $p stops with 0" "$?" 0
done
PIDS=""
for l in "$T"/serve*.log; do
    if grep -q 'Sanitizer' "$l"; then bad "sanitizer report in $l: $(cat "$l")"; else ok; fi
done
check_grep "access log line" "$T/serve.log" '^[0-9T:.+-]+ 127\.0\.0\.1 an GET /api/incidents\?q=.* 200 [0-9.]+ms$'
check_grep "access log stopped" "$T/serve.log" 'canhgac serve: stopped'
if grep -q 'pw-' "$T/serve.log"; then bad "a password in the log"; else ok; fi
e2e_done serve
