#!/bin/sh
# End-to-end: what the analyst sees, as README's first commands give it on
# real captures with the shipped rules: the request behind an alert in the
# EVE line and in the store (incident show, query on url / http.host,
# --json), and one attack as one story (a Log4Shell exploit with ET Open:
# ten incidents across three address pairs, one attack; related incidents
# listed by incident show).
# Usage: tests/e2e_story.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
E2E_NAME=story
. tests/e2e_lib.sh
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# ---- the request behind the alert (README: the first command, as shipped)
"$CG" run -r "$DATA/pcaps/chrissanders/http_dvwa_sqlinjection.pcapng" -S rules/ \
    -d "$T/store" -o "$T/eve.json" 2> "$T/run.err"
check "sqli run" "$?" 0
# the summary counts the lines it wrote, by kind
check_grep "summary: eve lines" "$T/run.err" '^  eve +11 lines: alert 5, anomaly 0, flow 3, tls 0, dns 0, http 3$'
check "eve file lines" "$(lines "$T/eve.json")" 11
# jq 'select(.event_type=="alert") | .http.url': every alert names its URL
"$PY" - "$T/eve.json" > "$T/urls.txt" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event_type"] == "alert":
        h = e.get("http", {})
        print(e["alert"]["signature_id"], h.get("http_method"), h.get("hostname"),
              h.get("url"), e.get("app_proto"))
PYEOF
check "alerts with a URL" "$(grep -c ' GET 10.2.2.104 /dvwa/vulnerabilities/sqli/?id=' "$T/urls.txt")" 5
check "union select alerts name it" "$(grep -c '^9100101 .*union+select.* http$' "$T/urls.txt")" 2
id=$("$CG" query -d "$T/store" 'sid = 9100101' --csv | awk -F, 'NR == 2 { print $1 }')
"$CG" incident show -d "$T/store" "$id" > "$T/show.txt"
check "incident show exit" "$?" 0
check_grep "show: app proto" "$T/show.txt" '^  app proto +http$'
check_grep "show: the request" "$T/show.txt" '^  request +GET 10\.2\.2\.104/dvwa/vulnerabilities/sqli/\?id=%25%27\+or\+0%3D0\+union\+select'
check_grep "show: user agent" "$T/show.txt" '^  user agent +Mozilla/5\.0 \(Macintosh'
check_grep "show: payload excerpt" "$T/show.txt" '^payload excerpt \([0-9]+ bytes; the match starts at byte [0-9]+'
check_grep "show: the excerpt holds the request" "$T/show.txt" 'GET /dvwa/vulner'
# the query language on the context: the URL as sent, or decoded
check "url ~ decoded" "$("$CG" query -d "$T/store" --count 'url ~ "union select" and http.host = 10.2.2.104')" 1
check "url ~ as sent" "$("$CG" query -d "$T/store" --count 'url ~ "union+select"')" 1
check "http.status: the response came after the alert" "$("$CG" query -d "$T/store" --count 'http.status = 200')" 2
check_grep "show: the response's status" "$T/show.txt" '^  http status +200$'
# the store has it also when the EVE file takes alerts only
"$CG" run -q -r "$DATA/pcaps/chrissanders/http_dvwa_sqlinjection.pcapng" -S rules/ \
    -d "$T/store-alerts" -o "$T/alerts.json" --eve-types alert
check "--eve-types alert: alert lines only" "$(grep -vc '"event_type":"alert"' "$T/alerts.json")" 0
check "--eve-types alert: the status is stored" "$("$CG" query -d "$T/store-alerts" --count 'http.status = 200')" 2
check "http.method" "$("$CG" query -d "$T/store" --count 'http.method = GET and app_proto = http')" 2
check "http.host other" "$("$CG" query -d "$T/store" --count 'http.host = portal.tuyenquang.gov.vn')" 0
check "http.user_agent ~" "$("$CG" query -d "$T/store" --count 'http.user_agent ~ macintosh')" 2
"$CG" query -d "$T/store" 'sid = 9100101' --json > "$T/q.json"
check "query --json http.url" "$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["http"]["url"][:27])' "$T/q.json")" "/dvwa/vulnerabilities/sqli/"

# ---- one attack, one story: Log4Shell with ET Open
"$CG" run -q -r "$DATA/pcaps/log4shell/log4shell-ldaps-port-443-dsb.pcapng" \
    -S "$DATA/rules/etopen" -d "$T/l4j" 2> "$T/l4j.err"
check "log4shell run" "$?" 0
check "log4shell incidents" "$("$CG" query -d "$T/l4j" --count)" 10
"$CG" query -d "$T/l4j" --group attack --csv > "$T/attacks.csv"
check "one attack" "$(($(wc -l < "$T/attacks.csv") - 1))" 1
"$PY" - "$T/l4j" "$CG" > "$T/attack.txt" <<'PYEOF'
import json, subprocess, sys
out = subprocess.run([sys.argv[2], "query", "-d", sys.argv[1], "--group", "attack", "--json"],
                     capture_output=True, text=True).stdout
a = json.loads(out.splitlines()[0])
print(a["incidents"], a["src_ip"], a["dest_ip"], a["signatures"][0]["signature_id"])
PYEOF
check "the attack: its incidents, attacker, victim, first signature" "$(cat "$T/attack.txt")" "10 172.17.0.1 172.17.0.2 2034657"
# the Java class the victim downloads belongs to the story, and shows the rest
last=$("$CG" query -d "$T/l4j" 'sid = 2014475' --csv | awk -F, 'NR == 2 { print $1 }')
"$CG" incident show -d "$T/l4j" "$last" > "$T/related.txt"
check "related incidents: the other nine" "$(sed -n '/^related incidents (attack /,$p' "$T/related.txt" | grep -Ec '^  [0-9]+ +(2034|2019401)[0-9]* +2021-12-14T')" 9
check "query attack = N" "$("$CG" query -d "$T/l4j" --count "attack = $(awk -F, 'NR == 2 { print $1 }' "$T/attacks.csv")")" 10
# --attack-window 0: every incident an attack of its own; a bad window is refused
"$CG" run -q -r "$DATA/pcaps/log4shell/log4shell-ldaps-port-443-dsb.pcapng" \
    -S "$DATA/rules/etopen" -d "$T/l4j0" --attack-window 0
check "--attack-window 0: ten attacks" "$("$CG" query -d "$T/l4j0" --group attack --csv | tail -n +2 | wc -l | tr -d ' ')" 10
"$CG" run -q -r "$DATA/pcaps/log4shell/log4shell-ldaps-port-443-dsb.pcapng" -S rules/ \
    --no-store --attack-window 1h 2> "$T/aw.err"
check "--attack-window 1h: exit" "$?" 2
check_grep "--attack-window 1h: message" "$T/aw.err" "not a valid number.*1h"
# the same attacker on the same server minutes before (path traversal, then
# SQL injection): one attack; another attacker and victim years apart: two
"$CG" run -q -r "$DATA/pcaps/chrissanders/http_dvwa_directorytraversal.pcapng" -S rules/ -d "$T/store"
check "traversal then injection, one attack" "$("$CG" query -d "$T/store" --group attack --csv | tail -n +2 | wc -l | tr -d ' ')" 1
check "... of four incidents" "$("$CG" query -d "$T/store" --group attack --csv | awk -F, 'NR == 2 { print $7 }')" 4
"$CG" run -q -r "$DATA/pcaps/shellshock/exploit.pcap" -S rules/ -d "$T/store"
check "shellshock, another attack" "$("$CG" query -d "$T/store" --group attack --csv | tail -n +2 | wc -l | tr -d ' ')" 2

e2e_done e2e_story
