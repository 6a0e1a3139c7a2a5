#!/bin/sh
# End-to-end tests of the canhgac command: the generated sample capture against
# its ground truth, the query language against counts worked out from that
# truth, enrichment of a crafted capture with the GeoIP test databases and the
# asset file, triage (also while `run` writes), the real captures of
# ../shared/data against the alerts their rules should give (table:
# tests/e2e.tsv), and bad input (each: exit 2, one line that names the file or
# the column, the store unchanged). tests/durability.sh kills `run`.
# E2E_QUICK=1 (make test-san) runs every sixth row of tests/e2e.tsv.
# Usage: tests/e2e.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
CG="$B/canhgac"
H="$B/e2e_helper"
DATA=${CANHGAC_DATA:-../shared/data}
GEO="$DATA/geoip"
T=$(mktemp -d /tmp/canhgac-e2e.XXXXXX)
export CANHGAC_CACHE="$T/cache"
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# check NAME GOT WANT
check() {
    if [ "$2" = "$3" ]; then ok; else bad "$1: got [$2] want [$3]"; fi
}
# check_grep NAME FILE PATTERN: FILE holds a line matching PATTERN (grep -E)
check_grep() {
    if grep -Eq -- "$3" "$2"; then ok; else bad "$1: no line matching [$3] in: $(cat "$2")"; fi
}
lines() { wc -l < "$1" | tr -d ' '; }

# ---------------------------------------------------------------- sample traffic
"$B/gen_traffic" -o "$T/sample.pcap" -t "$T/truth.tsv" 2> "$T/gen.err" || bad "gen_traffic failed: $(cat "$T/gen.err")"
"$CG" run -r "$T/sample.pcap" -S rules -d "$T/store" -o "$T/eve.json" 2> "$T/run.err"
check "sample run exit" "$?" 0
check_grep "sample summary" "$T/run.err" "incidents +[0-9]+ new"
"$CG" query -d "$T/store" --csv --limit 0 > "$T/q.csv"
check "query exit" "$?" 0
awk -F, 'NR > 1 { print $8 "\t" $9 "\t" $11 "\t" $4 }' "$T/q.csv" | sort > "$T/got.tsv"
grep -v '^#' "$T/truth.tsv" | sort > "$T/want.tsv"
if cmp -s "$T/got.tsv" "$T/want.tsv"; then ok; else
    bad "sample incidents differ from the ground truth (sid src dst count):"
    diff "$T/want.tsv" "$T/got.tsv" | head -20
fi
check "truth is not empty" "$(test "$(lines "$T/want.tsv")" -ge 40 && echo yes)" yes
"$H" eve "$T/eve.json" > "$T/eve.tsv"
check "eve lines parse as EVE alerts" "$?" 0
want_alerts=$(awk -F'\t' '{ s += $4 } END { print s + 0 }' "$T/want.tsv")
check "eve alert count = truth alerts" "$(lines "$T/eve.tsv")" "$want_alerts"
got_incidents=$("$CG" query -d "$T/store" --count)
check "query --count" "$got_incidents" "$(lines "$T/want.tsv")"

# filters: every row of a src=/24 query is in that /24; sid= gives only that sid
first=$(head -n 1 "$T/want.tsv")
sid=$(echo "$first" | cut -f1)
src=$(echo "$first" | cut -f2)
"$CG" query -d "$T/store" --csv --limit 0 "sid=$sid" > "$T/q1.csv"
check "sid filter" "$(awk -F, 'NR > 1 && $8 != "'"$sid"'"' "$T/q1.csv" | wc -l | tr -d ' ')" 0
check "sid filter count" "$(($(lines "$T/q1.csv") - 1))" "$(awk -F'\t' -v s="$sid" '$1 == s' "$T/want.tsv" | wc -l | tr -d ' ')"
"$CG" query -d "$T/store" --json --limit 0 "src=$src" > "$T/q2.json"
"$H" json "$T/q2.json"
check "query --json parses" "$?" 0
check "src filter count" "$(lines "$T/q2.json")" "$(awk -F'\t' -v s="$src" '$2 == s' "$T/want.tsv" | wc -l | tr -d ' ')"
# paging: 5 per page visits every incident once
: > "$T/pages"
cur=""
while :; do
    "$CG" query -d "$T/store" --csv --limit 5 $cur 2> "$T/page.err" | awk -F, 'NR > 1 { print $1 }' >> "$T/pages"
    next=$(sed -n 's/.*--cursor \([0-9]*\).*/\1/p' "$T/page.err")
    [ -n "$next" ] || break
    cur="--cursor $next"
done
check "paging visits all" "$(sort -u "$T/pages" | wc -l | tr -d ' ')" "$got_incidents"
check "paging no repeats" "$(lines "$T/pages")" "$got_incidents"
# the second start reads the compiled rules from the cache
"$CG" run -r "$T/sample.pcap" -S rules --no-store 2> "$T/run2.err" > /dev/null
check_grep "cache used on second start" "$T/run2.err" "from cache"

# ---------------------------------------------------------------- the query language
# Counts worked out from the ground truth (sid src dst count) with awk, and
# the store's answer to the same question as an expression.
Q() { "$CG" query -d "$T/store" "$@"; }
truth() { awk -F'\t' -v s="$src" -v d="$sid" "$1" "$T/want.tsv" | wc -l | tr -d ' '; }
sid2=$(cut -f1 "$T/want.tsv" | sort -u | sed -n 2p)
total=$(lines "$T/want.tsv")
check "expr: sid =" "$(Q --count "sid = $sid")" "$(truth '$1 == d')"
check "expr: src in a /16" "$(Q --count 'src in 10.20.0.0/16')" "$(truth '$2 ~ /^10\.20\./')"
check "expr: not, and, count >=" "$(Q --count 'not src in 10.0.0.0/8 and count >= 3')" \
    "$(truth '$2 !~ /^10\./ && $4 >= 3')"
check "expr: or inside parentheses" "$(Q --count "(sid = $sid or sid = $sid2) and count > 1")" \
    "$(awk -F'\t' -v a="$sid" -v b="$sid2" '($1 == a || $1 == b) && $4 > 1' "$T/want.tsv" | wc -l | tr -d ' ')"
check "expr: ip is either side" "$(Q --count "ip = $src")" "$(truth '$2 == s || $3 == s')"
check "expr: ip != is neither side" "$(Q --count "ip != $src")" "$(truth '$2 != s && $3 != s')"
check "expr: dst not in a list" "$(Q --count 'dst not in [10.20.1.10, 10.20.1.11]')" \
    "$(truth '$3 != "10.20.1.10" && $3 != "10.20.1.11"')"
check "expr: the filter words of before" "$(Q --count "src=$src" "sid=$sid")" "$(truth '$2 == s && $1 == d')"
check "expr: disjoint CIDRs match nothing" "$(Q --count 'src in 10.0.0.0/8 and src in 192.168.0.0/16')" 0
check "expr: since/until split the day" \
    "$(( $(Q --count since 2025-11-24T08:03:00) + $(Q --count until 2025-11-24T08:03:00) ))" "$total"
check "expr: until before the capture" "$(Q --count until 2025-11-24)" 0
check "expr: --since option and-ed" "$(Q --count --since 2025-11-24 --until 2025-11-25 "sid = $sid")" "$(truth '$1 == d')"
# severity, from every incident's own JSON line
Q --json --limit 0 > "$T/all.json"
"$H" fields "$T/all.json" severity status > "$T/all.tsv"
check "expr: sev >= medium" "$(Q --count 'sev >= medium')" "$(awk -F'\t' '$1 <= 2' "$T/all.tsv" | wc -l | tr -d ' ')"
check "expr: sev = low or sev = info" "$(Q --count 'sev = low or sev = info')" "$(awk -F'\t' '$1 >= 3' "$T/all.tsv" | wc -l | tr -d ' ')"
check "expr: status = new" "$(Q --count status = new)" "$total"
# the same expression as rows: every row is one of the truth's
Q --csv --limit 0 "sid = $sid and src in 0.0.0.0/0" | awk -F, 'NR > 1 { print $8 "\t" $9 "\t" $11 "\t" $4 }' | sort > "$T/expr.tsv"
awk -F'\t' -v d="$sid" '$1 == d' "$T/want.tsv" | sort > "$T/expr.want"
if cmp -s "$T/expr.tsv" "$T/expr.want"; then ok; else bad "expr rows differ from the truth: $(diff "$T/expr.want" "$T/expr.tsv" | head -5)"; fi
# --top src: the count of every source, as the truth has them
Q --top src --limit 0 --csv | awk -F, 'NR > 1 { print $1 " " $2 }' | sort > "$T/top.got"
cut -f2 "$T/want.tsv" | sort | uniq -c | awk '{ print $2 " " $1 }' | sort > "$T/top.want"
if cmp -s "$T/top.got" "$T/top.want"; then ok; else bad "--top src differs from the truth: $(diff "$T/top.want" "$T/top.got" | head -5)"; fi
best=$(cut -f1 "$T/want.tsv" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $1 }')
check "--top sid: the first has the most" "$(Q --top sid --limit 1 --json > "$T/topsid.json" 2> /dev/null; "$H" fields "$T/topsid.json" count)" "$best"
check_grep "--top sid names the signature" "$T/topsid.json" '"signature":"CANHGAC '
check "--top with an expression" "$(Q --top dst --limit 0 --csv "sid = $sid" | awk -F, 'NR > 1 { s += $2 } END { print s + 0 }')" "$(truth '$1 == d')"
check "--histogram hour sums to all" "$(Q --histogram hour --csv | awk -F, 'NR > 1 { s += $2 } END { print s + 0 }')" "$total"
check "--histogram day: one day" "$(Q --histogram day --csv | tail -n +2)" "2025-11-24T00:00:00Z,$total"
Q --explain "src = $src" > "$T/explain.out"
check_grep "--explain names the index" "$T/explain.out" "plan: [a-z]+ by_src >?[0-9]+$"
Q --explain "src = $src and msg ~ sql" > "$T/explain.out"
check_grep "--explain: the rest on records" "$T/explain.out" "plan: [a-z]+ by_src >?[0-9]+ \\+ predicate$"
# pages of an expression that no index answers visit every match once
: > "$T/pages"
cur=""
while :; do
    Q --csv --limit 7 $cur 'count >= 2 or not count >= 2' 2> "$T/page.err" | awk -F, 'NR > 1 { print $1 }' >> "$T/pages"
    next=$(sed -n 's/.*--cursor \([0-9]*\).*/\1/p' "$T/page.err")
    [ -n "$next" ] || break
    cur="--cursor $next"
done
check "expr paging visits all" "$(sort -u "$T/pages" | wc -l | tr -d ' ')" "$total"
check "expr paging no repeats" "$(lines "$T/pages")" "$total"
"$H" json "$T/all.json"
check "query --json lines parse" "$?" 0
check "query --json has the v2 fields" "$(head -n 1 "$T/all.json" | grep -c '"status":"new".*"assignee":"".*"escalated_from":0.*"src_geo":{"country":.*"dest_geo":')" 1
check "query --csv header" "$(Q --csv --limit 1 2> /dev/null | head -n 1)" \
    "incident_id,first_seen,last_seen,count,severity,status,gid,signature_id,src_ip,src_port,dest_ip,dest_port,proto,classtype,signature,assignee,escalated_from,src_country,src_city,src_asn,src_as_org,src_agency,src_zone,dest_country,dest_city,dest_asn,dest_as_org,dest_agency,dest_zone,layers,geo_db_type,geo_db_date,attack_id,app_proto,http_method,http_hostname,http_url,http_user_agent,http_status,dns_rrname,tls_sni,tls_ja3,payload"

# ---------------------------------------------------------------- enrichment
# A crafted capture: one probe per pair of addresses the GeoIP test databases
# know (their README's table), both ways, IPv4 and IPv6, to and from the
# asset file's networks (rules/assets.conf).
"$H" pcap geo "$T/geo.pcap"
mkdir -p "$T/georules"
echo 'alert tcp any any -> any any (msg:"E2E geo probe"; content:"canhgac-e2e-probe"; classtype:web-application-attack; sid:9900001; rev:1;)' > "$T/georules/geo.rules"
cp rules/classification.config rules/assets.conf "$T/georules/"
"$CG" run -r "$T/geo.pcap" -S "$T/georules" -d "$T/geo" --geoip-city "$GEO/GeoIP2-City-Test.mmdb" \
    --geoip-asn "$GEO/GeoLite2-ASN-Test.mmdb" 2> "$T/geo.err"
check "geo run exit" "$?" 0
check_grep "geo run summary" "$T/geo.err" "enrich +GeoIP2-City 2026-02-04, GeoLite2-ASN 2026-02-04, assets 35 entries; 7 incidents enriched, 0 lookup errors"
"$CG" query -d "$T/geo" --json --limit 0 > "$T/geo.json"
"$H" fields "$T/geo.json" src_ip dest_ip src_geo.country src_geo.city src_geo.asn src_geo.as_org \
    src_geo.agency src_geo.zone dest_geo.country dest_geo.city dest_geo.asn dest_geo.agency \
    dest_geo.zone geo_db_type geo_db_date | sort > "$T/geo.got"
{
    printf '1.2.3.4\t10.99.0.1\t\t\t0\t\t\t\t\t\t0\t\t\n'
    printf '10.21.4.5\t175.16.199.1\t\t\t0\t\tSở Y tế\toffice LAN\tCN\tChangchun\t0\t\t\n'
    printf '2001:2000::1\tfd00:2200:0:1::10\t\t\t1299\tTeliaSonera International Carrier\t\t\t\t\t0\tVăn phòng UBND tỉnh\tDMZ\n'
    printf '2001:218::1\tfd00:2200:0:1::13\tJP\t\t0\t\t\t\t\t\t0\tCông an tỉnh\tDMZ\n'
    printf '216.160.83.56\t10.20.1.70\tUS\tMilton\t209\t\t\t\t\t\t0\tSở Y tế\tDMZ\n'
    printf '81.2.69.142\t10.20.1.13\tGB\tLondon\t0\t\t\t\t\t\t0\tCông an tỉnh\tDMZ\n'
    printf '89.160.20.112\t10.20.1.10\tSE\tLinköping\t29518\tBredband2 AB\t\t\t\t\t0\tVăn phòng UBND tỉnh\tDMZ\n'
} | sed 's/$/\tGeoIP2-City,GeoLite2-ASN\t2026-02-04,2026-02-04/' | sort > "$T/geo.want"
if cmp -s "$T/geo.got" "$T/geo.want"; then ok; else bad "enrichment differs (src dst cc city asn org agency zone | dst ...):"; diff "$T/geo.want" "$T/geo.got"; fi
# the language over the enrichment
GQ() { "$CG" query -d "$T/geo" --count "$@"; }
check "expr: src.country" "$(GQ src.country = se)" 1
check "expr: country either side" "$(GQ country in [CN, JP])" 2
check "expr: dst.country !=" "$(GQ dst.country != CN)" 6
check "expr: asn" "$(GQ asn = AS1299 or src.asn = 29518)" 2
check "expr: dst.agency" "$(GQ 'dst.agency = "Công an tỉnh"')" 2
check "expr: zone either side" "$(GQ 'zone = "office LAN"')" 1
check "expr: an unknown country" "$(GQ 'src.country = ""')" 3
check "expr: an unknown AS" "$(GQ 'dst.asn = 0 and src.asn != 0')" 3
check "expr: agency and country" "$(GQ 'dst.zone = DMZ and not src.country in [SE, US]')" 3
check "--top country" "$("$CG" query -d "$T/geo" --top country --csv | tail -n +2 | sort | tr '\n' ' ')" "GB,1 JP,1 SE,1 US,1 "
# incident show: the same, and the databases
gid=$("$CG" query -d "$T/geo" --csv 'src = 89.160.20.112' | awk -F, 'NR == 2 { print $1 }')
"$CG" incident show -d "$T/geo" "$gid" --json > "$T/geoshow.json"
check "show --json enrichment" "$("$H" fields "$T/geoshow.json" incident.src_geo.country incident.src_geo.city incident.src_geo.asn incident.src_geo.as_org incident.dest_geo.agency incident.dest_geo.zone incident.geo_db_type)" \
    "SE	Linköping	29518	Bredband2 AB	Văn phòng UBND tỉnh	DMZ	GeoIP2-City,GeoLite2-ASN"
"$CG" incident show -d "$T/geo" "$gid" > "$T/geoshow.txt"
check_grep "show text: source enrichment" "$T/geoshow.txt" "source +89.160.20.112:40001 +SE Linköping, AS29518 Bredband2 AB"
check_grep "show text: destination asset" "$T/geoshow.txt" "destination +10.20.1.10:80 +agency Văn phòng UBND tỉnh, zone DMZ"
check_grep "show text: the databases" "$T/geoshow.txt" "geoip +GeoIP2-City built 2026-02-04, GeoLite2-ASN built 2026-02-04"
# the Country database alone, from the environment; the asset file that
# comes with the -S directory; --no-enrich
CANHGAC_GEOIP_CITY="$GEO/GeoIP2-Country-Test.mmdb" "$CG" run -q -r "$T/geo.pcap" -S "$T/georules" -d "$T/geo2"
check "geo from the environment exit" "$?" 0
"$CG" query -d "$T/geo2" --json 'src = 89.160.20.112' > "$T/geo2.json"
check "Country database: country, no city; assets from -S" "$("$H" fields "$T/geo2.json" src_geo.country src_geo.city src_geo.asn dest_geo.agency geo_db_type)" \
    "SE		0	Văn phòng UBND tỉnh	GeoIP2-Country"
CANHGAC_GEOIP_CITY="$GEO/GeoIP2-City-Test.mmdb" "$CG" run -q -r "$T/geo.pcap" -S "$T/georules" -d "$T/geo3" --no-enrich
"$CG" query -d "$T/geo3" --json 'src = 89.160.20.112' > "$T/geo3.json"
check "--no-enrich" "$("$H" fields "$T/geo3.json" src_geo.country dest_geo.agency geo_db_type)" "		"
# two City databases (make geoip's DB-IP ones come one per address family):
# the first that holds an address answers; FILE,FILE the same; a third is an
# error. A file named dbip-* is DB-IP's, whose license asks for the notice in
# the summary and in incident show.
cp "$GEO/GeoIP2-City-Test.mmdb" "$T/dbip-city-test.mmdb"
"$CG" run -r "$T/geo.pcap" -S "$T/georules" -d "$T/geo4" --geoip-city "$GEO/GeoIP2-Country-Test.mmdb" \
    --geoip-city "$T/dbip-city-test.mmdb" 2> "$T/geo4.err"
check "two city databases exit" "$?" 0
check_grep "two city databases: summary" "$T/geo4.err" "enrich +GeoIP2-Country 2026-02-04, DB-IP GeoIP2-City 2026-02-04, assets 35 entries; 7 incidents enriched, 0 lookup errors; IP geolocation by DB-IP \(CC BY 4\.0\)$"
"$CG" query -d "$T/geo4" --json 'src = 89.160.20.112' > "$T/geo4.json"
check "two city databases: the first answers" "$("$H" fields "$T/geo4.json" src_geo.country src_geo.city geo_db_type geo_db_date)" \
    "SE		GeoIP2-Country,DB-IP GeoIP2-City	2026-02-04,2026-02-04"
"$CG" incident show -d "$T/geo4" "$("$H" fields "$T/geo4.json" incident_id)" > "$T/geo4show.txt"
check_grep "show text: two databases" "$T/geo4show.txt" "geoip +GeoIP2-Country built 2026-02-04, DB-IP GeoIP2-City built 2026-02-04$"
check_grep "show text: DB-IP's notice" "$T/geo4show.txt" "^ +IP geolocation by DB-IP \(CC BY 4\.0\)$"
check "no notice without DB-IP" "$(grep -c 'DB-IP' "$T/geoshow.txt" "$T/geo.err" | tr '\n' ' ')" "$T/geoshow.txt:0 $T/geo.err:0 "
CANHGAC_GEOIP_CITY="$T/dbip-city-test.mmdb,$GEO/GeoIP2-Country-Test.mmdb" "$CG" run -q -r "$T/geo.pcap" -S "$T/georules" -d "$T/geo5"
"$CG" query -d "$T/geo5" --json 'src = 89.160.20.112' > "$T/geo5.json"
check "FILE,FILE from the environment" "$("$H" fields "$T/geo5.json" src_geo.country src_geo.city geo_db_type)" \
    "SE	Linköping	DB-IP GeoIP2-City,GeoIP2-Country"
"$CG" run -q -r "$T/geo.pcap" -S "$T/georules" -d "$T/geo6" --geoip-city "$GEO/GeoIP2-City-Test.mmdb,$T/dbip-city-test.mmdb" \
    --geoip-city "$GEO/GeoIP2-Country-Test.mmdb" 2> "$T/geo6.err"
check "a third city database: exit" "$?" 2
check "a third city database: one line" "$(cat "$T/geo6.err")" \
    "canhgac run: --geoip-city: at most two databases (one per address family): $GEO/GeoIP2-Country-Test.mmdb"
# EVE lines stay Suricata's: no enrichment fields in them
"$CG" run -q -r "$T/geo.pcap" -S "$T/georules" --no-store -o "$T/geo.eve" --geoip-city "$GEO/GeoIP2-City-Test.mmdb"
check "EVE lines carry no geo fields" "$(grep -c 'country\|geoip' "$T/geo.eve")" 0

# ---------------------------------------------------------------- triage
I() { "$CG" incident "$@"; }
me=$(id -un)
tid=$(Q --csv --limit 1 "sev = high" 2> /dev/null | awk -F, 'NR == 2 { print $1 }')
I set -d "$T/store" "$tid" status=investigating assignee=lan --as lan > "$T/t1.out"
check "set exit" "$?" 0
check_grep "set says what changed" "$T/t1.out" "incident $tid: status new -> investigating; assignee - -> lan; by lan"
I note -d "$T/store" --as lan "$tid" first look: the payload is a probe > /dev/null
I set -d "$T/store" "$tid" severity=low > /dev/null
I note -d "$T/store" "$tid" "second, by the login name" > /dev/null
echo "from stdin, with a \"quote\"" | I note -d "$T/store" "$tid" - > /dev/null
I show -d "$T/store" "$tid" --json > "$T/show1.json"
check "show --json parses" "$("$H" json "$T/show1.json"; echo $?)" 0
check "show: status, assignee, severity" "$("$H" fields "$T/show1.json" incident.status incident.assignee incident.severity_name incident.rule_severity incident.severity_set incident.notes)" \
    "investigating	lan	low	1	true	3"
"$H" fields "$T/show1.json" history.0.field history.0.who history.0.old history.0.new > "$T/h.tsv"
"$H" fields "$T/show1.json" history.1.field history.1.who history.1.old history.1.new >> "$T/h.tsv"
"$H" fields "$T/show1.json" history.2.field history.2.who history.2.text >> "$T/h.tsv"
"$H" fields "$T/show1.json" history.3.field history.3.who history.3.old history.3.new >> "$T/h.tsv"
"$H" fields "$T/show1.json" history.4.field history.4.who history.4.text >> "$T/h.tsv"
"$H" fields "$T/show1.json" history.5.field history.5.who history.5.text >> "$T/h.tsv"
"$H" fields "$T/show1.json" history.6.field >> "$T/h.tsv"
printf 'status\tlan\tnew\tinvestigating\nassignee\tlan\t\tlan\nnote\tlan\tfirst look: the payload is a probe\nseverity\t%s\thigh\tlow\nnote\t%s\tsecond, by the login name\nnote\t%s\tfrom stdin, with a "quote"\n\n' "$me" "$me" "$me" > "$T/h.want"
if cmp -s "$T/h.tsv" "$T/h.want"; then ok; else bad "history (field who old new) differs:"; diff "$T/h.want" "$T/h.tsv"; fi
check "show: evidence, alerts listed" "$("$H" fields "$T/show1.json" evidence.0.seq alerts.0.seq incident.evidence_packets)" "0	0	$("$H" fields "$T/show1.json" incident.evidence_packets)"
I show -d "$T/store" "$tid" > "$T/show1.txt"
check_grep "show text: history line" "$T/show1.txt" "lan +status: new -> investigating"
check_grep "show text: evidence sizes" "$T/show1.txt" "#0 +2025-11-24T.* [0-9]+ bytes \([0-9]+ on the wire\)"
check "query sees the triage" "$(Q --count "status = investigating and assignee = lan and sev = low and id = $tid")" 1
check "query --top status" "$(Q --top status --csv | grep -c '^investigating,1$')" 1
# more changes append; what was there stays as it was
"$H" fields "$T/show1.json" history > "$T/hist.before"
I set -d "$T/store" "$tid" status=resolved severity=rule assignee= --as chi > /dev/null
I show -d "$T/store" "$tid" --json > "$T/show2.json"
hlen=$(($(wc -c < "$T/hist.before") - 3))   # without " ]" and the newline
check "history only grows" "$("$H" fields "$T/show2.json" history | cut -c1-$hlen)" "$(cut -c1-$hlen "$T/hist.before")"
check "three more entries" "$("$H" fields "$T/show2.json" history.8.who history.8.field history.9.field incident.severity_name incident.assignee)" "chi	severity		high	"
check "a change to nothing appends nothing" "$(I set -d "$T/store" "$tid" status=resolved > /dev/null; I show -d "$T/store" "$tid" --json > "$T/show3.json"; "$H" fields "$T/show3.json" history.9.field)" ""
# with --alerts 1 only one alert is listed
I show -d "$T/store" "$tid" --json --alerts 1 > "$T/show4.json"
check "--alerts 1" "$("$H" fields "$T/show4.json" alerts.0.seq alerts.1.seq)" "0	"

# ---------------------------------------------------------------- a store of schema 2
# tests/data/store-v2 (written by canhgac run of an earlier version, see
# tests/data/README), copied: query and show read it as it is and write
# nothing; a triage change migrates it to schema 3 with everything kept, and
# its incidents 1-4 (10.2.2.101 -> 10.2.2.104 within minutes) are one attack.
mkdir -p "$T/v2" && cp tests/data/store-v2/data.mdb "$T/v2/"
"$CG" query -d "$T/v2" --csv --limit 0 > "$T/v2.csv"
check "schema 2: query" "$?" 0
check "schema 2: six incidents" "$(($(lines "$T/v2.csv") - 1))" 6
I show -d "$T/v2" 2 > "$T/v2show.txt"
check "schema 2: incident show" "$?" 0
check_grep "schema 2: the note" "$T/v2show.txt" "note: blocked at the firewall, ticket 1234"
check_grep "schema 2: the assignee" "$T/v2show.txt" "assignee +lan"
check "schema 2: readers write nothing" "$(cmp -s tests/data/store-v2/data.mdb "$T/v2/data.mdb" && echo same)" same
"$CG" query -d "$T/v2" --group attack > /dev/null 2> "$T/v2g.err"
check "schema 2: --group attack exit" "$?" 2
check_grep "schema 2: --group attack says why" "$T/v2g.err" "schema 2 has no attacks yet"
I note -d "$T/v2" 5 "seen again" --as an > /dev/null 2> "$T/v2n.err"
check "schema 2: a note migrates it" "$?" 0
check_grep "schema 2: the notice" "$T/v2n.err" "^canhgac incident: notice: $T/v2: migrated from schema 2 to 8 \(every record sealed, attacks assigned; the log begun with [0-9]+ leaves\)$"
"$CG" query -d "$T/v2" --csv --limit 0 > "$T/v3.csv"
check "schema 3: the same incidents" "$(cut -d, -f1-16 "$T/v3.csv")" "$(cut -d, -f1-16 "$T/v2.csv")"
check "schema 3: attack ids" "$(awk -F, 'NR > 1 { print $1 ":" $(NF - 10) }' "$T/v3.csv" | tr '\n' ' ')" "6:6 5:5 4:1 3:1 2:1 1:1 "
"$CG" query -d "$T/v2" --group attack --csv > "$T/v2g.csv"
check "schema 3: --group attack" "$(cut -d, -f1,4,5,7,8 "$T/v2g.csv" | tr '\n' ' ')" "attack_id,src_ip,dest_ip,incidents,alerts 6,10.246.50.2,10.246.50.6,1,1 5,192.168.56.1,192.168.56.103,1,1 1,10.2.2.101,10.2.2.104,4,7 "
check "schema 3: attack = 1" "$("$CG" query -d "$T/v2" --count attack = 1)" 4
I show -d "$T/v2" 2 > "$T/v2show2.txt"
check "schema 3: related incidents" "$(sed -n '/^related incidents (attack 1)/,$p' "$T/v2show2.txt" | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" "4 3 1 "
check "schema 3: history kept" "$(grep -c 'note: blocked at the firewall, ticket 1234' "$T/v2show2.txt")" 1
I show -d "$T/v2" 4 --json > "$T/v2show4.json"
check "schema 3: triage severity kept" "$("$H" fields "$T/v2show4.json" incident.severity_name incident.severity_set incident.attack_id related.0.incident_id)" "low	true	1	3"

# ---------------------------------------------------------------- a store of schema 3
# tests/data/store-v3 (see tests/data/README): read as it is, then sealed
# in place by a triage change, with the same answers.
mkdir -p "$T/v3" && cp tests/data/store-v3/data.mdb "$T/v3/"
"$CG" query -d "$T/v3" --json --limit 0 > "$T/v3a.json"
check "schema 3 store: query" "$?" 0
check "schema 3 store: six incidents" "$(lines "$T/v3a.json")" 6
I show -d "$T/v3" 2 --json > "$T/v3s.json"
check "schema 3 store: readers write nothing" "$(cmp -s tests/data/store-v3/data.mdb "$T/v3/data.mdb" && echo same)" same
I note -d "$T/v3" --as an 5 "seen again" > /dev/null 2> "$T/v3n.err"
check "schema 3 store: a note migrates it" "$?" 0
check "schema 3 store: the notice" "$(cat "$T/v3n.err")" "canhgac incident: notice: $T/v3: migrated from schema 3 to 8 (every record sealed; the log begun with 28 leaves)"
"$CG" query -d "$T/v3" --json --limit 0 > "$T/v3b.json"
check "schema 4: the same incidents" "$(sed 's/"notes":[0-9]*//' "$T/v3b.json")" "$(sed 's/"notes":[0-9]*//' "$T/v3a.json")"
I show -d "$T/v3" 2 --json > "$T/v3s2.json"
check "schema 4: incident 2 the same" "$(cmp -s "$T/v3s.json" "$T/v3s2.json" && echo same)" same
check "schema 4: the note" "$("$H" fields "$T/v3s2.json" history.2.text incident.assignee incident.http.url)" "blocked at the firewall, ticket 1234	lan	$("$H" fields "$T/v3s.json" incident.http.url)"

# ---------------------------------------------------------------- the request behind an alert
# A store with the context of each first alert (written by test_store_ctx
# mkstore: an HTTP request with its payload, a DNS query of the same pair,
# a TLS client hello from elsewhere): what incident show and query print.
"$B/test_store_ctx" mkstore "$T/ctx" || bad "test_store_ctx mkstore failed"
I show -d "$T/ctx" 1 > "$T/ctx1.txt"
check "ctx: show exit" "$?" 0
check_grep "ctx: the request" "$T/ctx1.txt" "^  request +GET portal\.example/index\.php\?id=1' union select user,password from users--$"
check_grep "ctx: the user agent" "$T/ctx1.txt" "^  user agent +sqlmap/1\.7\.2#stable \(https://sqlmap\.org\)$"
check_grep "ctx: the status" "$T/ctx1.txt" "^  http status +200$"
check_grep "ctx: the protocol" "$T/ctx1.txt" "^  app proto +http$"
check_grep "ctx: the payload in hex and text" "$T/ctx1.txt" "^  0000  47 45 54 20 2f 69 6e 64  65 78 2e 70 68 70 3f 69  GET /index\.php\?i$"
check "ctx: the match marked under its byte" "$(grep -A1 '^  0010 ' "$T/ctx1.txt" | tail -n 1)" "$(printf '%17s^^%42s^' '' '')"
check_grep "ctx: bytes not printable as dots" "$T/ctx1.txt" "^  0050  .*  tal\.example\.\.\.\.\.$"
check "ctx: related incidents" "$(sed -n '/^related incidents (attack 1)/,$p' "$T/ctx1.txt" | awk 'NR > 1 { print $1 }')" 2
I show -d "$T/ctx" 2 > "$T/ctx2.txt"
check_grep "ctx: the DNS query" "$T/ctx2.txt" "^  dns query +c2\.tunnel\.example$"
I show -d "$T/ctx" 3 > "$T/ctx3.txt"
check_grep "ctx: the TLS name" "$T/ctx3.txt" "^  tls sni +login\.portal\.example\.evil\.example$"
check_grep "ctx: the JA3" "$T/ctx3.txt" "^  tls ja3 +e7d705a3286e19ea42f587b344ee6865$"
check_grep "ctx: no related incidents" "$T/ctx3.txt" "^  \(none\)$"
check "ctx: url ~ and http.status" "$("$CG" query -d "$T/ctx" --csv 'url ~ "UNION SELECT" and http.status = 200' | awk -F, 'NR > 1 { print $1 }')" 1
check "ctx: dns.query ~" "$("$CG" query -d "$T/ctx" --count 'dns.query ~ TUNNEL')" 1
check "ctx: tls.ja3 =, app_proto =" "$("$CG" query -d "$T/ctx" --csv 'tls.ja3 = E7D705A3286E19EA42F587B344EE6865 and app_proto = tls' | awk -F, 'NR > 1 { print $1 }')" 3
check "ctx: attack = 1" "$("$CG" query -d "$T/ctx" --csv attack = 1 | awk -F, 'NR > 1 { print $1 }' | tr '\n' ' ')" "2 1 "
"$CG" query -d "$T/ctx" --json > "$T/ctx.json"
check "ctx: json http" "$("$H" fields "$T/ctx.json" http.http_method http.hostname http.status app_proto attack_id | tail -n 1)" "GET	portal.example	200	http	1"
check "ctx: json dns, tls" "$("$H" fields "$T/ctx.json" dns.rrname tls.sni tls.ja3.hash | head -n 2 | tr '\t\n' '|;')" "|login.portal.example.evil.example|e7d705a3286e19ea42f587b344ee6865;c2.tunnel.example||;"
check "ctx: json payload (base64)" "$("$H" fields "$T/ctx.json" payload | tail -n 1 | base64 -d | head -c 19)" "GET /index.php?id=1"
check "ctx: csv columns at the end" "$("$CG" query -d "$T/ctx" --csv | awk -F, '$1 == 3 { print $33, $34, $41, $42 }')" "3 tls login.portal.example.evil.example e7d705a3286e19ea42f587b344ee6865"
check "ctx: --group attack" "$("$CG" query -d "$T/ctx" --group attack --csv | cut -d, -f1,7,8,9 | tr '\n' ' ')" "attack_id,incidents,alerts,signature_ids 3,1,1,9100501 1,2,2,9100101 9100401 "

# ---------------------------------------------------------------- evidence out
# incident pcap and query --pcap: tcpdump reads the files (packet count =
# the stored evidence count, timestamps and packets as in the capture), the
# helper walks their blocks (interfaces, comments); bad input leaves no file.
# pcap_check NAME FILE PACKETS: tcpdump reads PACKETS packets, in time order,
# each one of the sample capture's; the blocks are well formed, one Ethernet
# interface in microseconds, a comment per packet
pcap_check() {
    tcpdump -r "$2" -n -tt -S 2> "$T/td.err" > "$T/td.out"
    check "$1: tcpdump reads it" "$?" 0
    check "$1: tcpdump packets = evidence" "$(lines "$T/td.out")" "$3"
    check "$1: in time order" "$(awk '{ print $1 }' "$T/td.out" | sort -c -n 2>&1)" ""
    check "$1: packets of the capture" "$(grep -cvxFf "$T/sample.td" "$T/td.out")" 0
    "$H" pcapng "$2" > "$T/walk.tsv"
    check "$1: blocks well formed" "$?" 0
    check "$1: section and interface" "$(grep -v '^epb' "$T/walk.tsv" | tr '\t\n' ' ')" "shb canhgac idb 1 262144 6 "
    check "$1: a comment per packet" "$(grep -c '^epb	0	1	.*	canhgac incident [0-9]* sid [0-9]*:[0-9]* rev [0-9]*: .* (evidence #[0-9]*)$' "$T/walk.tsv")" "$3"
    check "$1: comment bytes in the file" "$(grep -ao 'canhgac incident [0-9]* sid [0-9]*:[0-9]* rev' "$2" | wc -l | tr -d ' ')" "$3"
}
# pcap_bad NAME WANT_EXIT PATTERN FILE ARGS...: one line, and no FILE (nor FILE.tmp)
pcap_bad() {
    name=$1; want=$2; pat=$3; out=$4; shift 4
    "$CG" "$@" > "$T/bad.out" 2> "$T/bad.err"
    check "$name exit" "$?" "$want"
    check "$name one line" "$(lines "$T/bad.err")" 1
    check_grep "$name message" "$T/bad.err" "$pat"
    check "$name leaves no file" "$(ls "$out" "$out.tmp" 2> /dev/null)" ""
}
tcpdump -r "$T/sample.pcap" -n -tt -S > "$T/sample.td" 2> /dev/null   # -S: absolute sequence numbers
pid=$(Q --csv --limit 1 "sid = $sid" 2> /dev/null | awk -F, 'NR == 2 { print $1 }')
I show -d "$T/store" "$pid" --json > "$T/pshow.json"
nev=$("$H" fields "$T/pshow.json" incident.evidence_packets)
check "the incident has evidence" "$(test "$nev" -ge 1 && echo yes)" yes
I pcap -d "$T/store" "$pid" -o "$T/inc.pcapng" 2> "$T/pcap.err"
check "incident pcap exit" "$?" 0
check_grep "incident pcap says what" "$T/pcap.err" "^canhgac incident pcap: $nev packets? from 1 incident written to $T/inc.pcapng$"
pcap_check "incident pcap" "$T/inc.pcapng" "$nev"
# each comment names this incident, its signature and its evidence number
"$H" fields "$T/pshow.json" incident.gid incident.signature_id incident.rev incident.signature > "$T/psig.tsv"
IFS='	' read -r pgid psid prev pmsg < "$T/psig.tsv"
i=0; : > "$T/pc.want"
while [ $i -lt "$nev" ]; do
    echo "canhgac incident $pid sid $pgid:$psid rev $prev: $pmsg (evidence #$i)" >> "$T/pc.want"; i=$((i + 1))
done
cut -f7 "$T/walk.tsv" | grep . | sort > "$T/pc.got"
if cmp -s "$T/pc.got" "$T/pc.want"; then ok; else bad "incident pcap comments differ:"; diff "$T/pc.want" "$T/pc.got"; fi
# two incidents and the same again: each once, in time order
pid2=$(Q --csv --limit 1 "sid = $sid2" 2> /dev/null | awk -F, 'NR == 2 { print $1 }')
nev2=$(I show -d "$T/store" "$pid2" --json > "$T/pshow2.json"; "$H" fields "$T/pshow2.json" incident.evidence_packets)
I pcap -d "$T/store" "$pid" "$pid2" "$pid" -o "$T/two.pcapng" 2> "$T/pcap.err"
check "incident pcap of two exit" "$?" 0
pcap_check "incident pcap of two" "$T/two.pcapng" $((nev + nev2))
# a query: --limit's page, --limit 0 all of them
Q --json --limit 0 "sid = $sid" > "$T/pq.json"
qev=$("$H" fields "$T/pq.json" evidence_packets | awk '{ s += $1 } END { print s + 0 }')
qinc=$("$H" fields "$T/pq.json" evidence_packets | awk '$1 > 0' | wc -l | tr -d ' ')
Q "sid = $sid" --limit 0 --pcap "$T/q.pcapng" > "$T/pq.out" 2> "$T/pq.err"
check "query --pcap exit" "$?" 0
check "query --pcap lists nothing" "$(lines "$T/pq.out")" 0
check_grep "query --pcap says what" "$T/pq.err" "^canhgac query: $qev packets? from $qinc incidents? written to $T/q.pcapng$"
pcap_check "query --pcap" "$T/q.pcapng" "$qev"
Q --json --limit 3 > "$T/pq3.json" 2> /dev/null
Q --limit 3 --pcap "$T/q3.pcapng" 2> "$T/pq3.err"
check "query --pcap --limit 3 exit" "$?" 0
pcap_check "query --pcap --limit 3" "$T/q3.pcapng" "$("$H" fields "$T/pq3.json" evidence_packets | awk '{ s += $1 } END { print s + 0 }')"
check_grep "query --pcap --limit 3: the next page" "$T/pq3.err" "next page: --cursor [0-9]+"
# bad input: an incident without evidence (a run with --evidence 0), a query
# whose incidents have none, or that matches nothing, an unknown id, no -o,
# a directory that is not there
"$CG" run -q -r "$T/sample.pcap" -S rules -d "$T/noev" --evidence 0 --no-enrich
check "run --evidence 0 exit" "$?" 0
pcap_bad "pcap: no evidence" 1 "^canhgac incident pcap: incident 1 has no evidence packets$" "$T/ne.pcapng" incident pcap -d "$T/noev" 1 -o "$T/ne.pcapng"
pcap_bad "pcap: one of two has no evidence" 1 "incident 2 has no evidence packets" "$T/ne.pcapng" incident pcap -d "$T/noev" 2 -o "$T/ne.pcapng"
pcap_bad "query --pcap: no evidence" 1 "^canhgac query: the [0-9]+ matching incidents have no evidence packets; $T/ne.pcapng not written$" "$T/ne.pcapng" query -d "$T/noev" --pcap "$T/ne.pcapng"
pcap_bad "query --pcap: no match" 1 "^canhgac query: no incident matches; $T/ne.pcapng not written$" "$T/ne.pcapng" query -d "$T/store" --pcap "$T/ne.pcapng" sid = 9199999
pcap_bad "pcap: unknown incident" 2 "^canhgac incident pcap: incident 999999: not found$" "$T/ne.pcapng" incident pcap -d "$T/store" "$pid" 999999 -o "$T/ne.pcapng"
pcap_bad "pcap: no -o" 2 "^canhgac incident pcap: -o FILE is needed" "$T/ne.pcapng" incident pcap -d "$T/store" "$pid"
pcap_bad "pcap: no such directory" 1 "$T/nodir/x.pcapng: cannot create .*No such file or directory" "$T/nodir/x.pcapng" incident pcap -d "$T/store" "$pid" -o "$T/nodir/x.pcapng"
pcap_bad "query --pcap: no value" 2 "option needs a value: --pcap" "$T/ne.pcapng" query -d "$T/store" --pcap

# triage while run writes: the capture reaches run through a FIFO, paced, so
# that run is in the middle of it when the analyst changes an incident it has
# stored, and goes on writing after
"$B/gen_traffic" -o "$T/big.pcap" -t "$T/big.tsv" --bytes 50000000 2> /dev/null
mkfifo "$T/fifo"
"$H" pace "$T/big.pcap" "$T/fifo" 2000000 100000 &
pacer=$!
: > "$T/live.err"
"$CG" run -r "$T/fifo" -S rules -d "$T/live" --batch 1 --progress --no-enrich 2> "$T/live.err" &
runner=$!
n=0
while ! grep -q "stored:" "$T/live.err" && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
I set -d "$T/live" 1 status=acknowledged assignee=an --as an > /dev/null
check "triage during run: set exit" "$?" 0
I note -d "$T/live" --as an 1 "seen while the sensor writes" > /dev/null
check "triage during run: note exit" "$?" 0
if kill -0 "$runner" 2> /dev/null && ! grep -q "  time " "$T/live.err"; then ok; else bad "run had ended before the triage"; fi
wait "$runner"
check "run with triage alongside exit" "$?" 0
wait "$pacer"
check_grep "run stored them all" "$T/live.err" "incidents +$(grep -vc '^#' "$T/big.tsv") new"
"$CG" query -d "$T/live" --csv --limit 0 | awk -F, 'NR > 1 { print $8 "\t" $9 "\t" $11 "\t" $4 }' | sort > "$T/live.got"
grep -v '^#' "$T/big.tsv" | sort > "$T/live.want"
if cmp -s "$T/live.got" "$T/live.want"; then ok; else bad "incidents of the run with triage alongside differ from its truth"; fi
I show -d "$T/live" 1 --json > "$T/live1.json"
check "the triage outlived the run's re-puts" "$("$H" fields "$T/live1.json" incident.status incident.assignee history.0.who history.2.text)" \
    "acknowledged	an	an	seen while the sensor writes"

# ---------------------------------------------------------------- real captures
# rule sets cut out of ET Open at test time (nothing copied into the tree)
. tests/e2e_rulesets.sh
e2e_rule_sets
cp "$DATA/rules/etopen/classification.config" "$T/classification.config"
row=0
while IFS='	' read -r cap sets want; do
    case "$cap" in ''|\#*) continue ;; esac
    # E2E_QUICK=1 (the sanitizer pass): every sixth row; the plain pass runs all
    row=$((row + 1))
    [ "${E2E_QUICK:-0}" = 1 ] && [ $((row % 6)) -ne 1 ] && continue
    args="--classification $T/classification.config"
    out="--no-store"
    # the project's rules as shipped: README's first command, as it is written
    [ "$sets" = starter ] && args="" && out="-d $T/real-store"
    for s in $sets; do args="$args $(rules_for "$s")"; done
    rm -rf "$T/real.json" "$T/real-store"
    # shellcheck disable=SC2086
    "$CG" run -q -r "$DATA/pcaps/$cap" $args $out -o "$T/real.json" 2> "$T/real.err"
    rc=$?
    got=$("$H" eve "$T/real.json" | cut -f1 | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
    check "$cap [$sets] exit" "$rc" 0
    check "$cap [$sets] alerts" "$got" "$want"
done < tests/e2e.tsv

# ---------------------------------------------------------------- bad input
run_bad() { # NAME WANT_EXIT PATTERN ARGS...
    name=$1; want=$2; pat=$3; shift 3
    "$CG" "$@" > "$T/bad.out" 2> "$T/bad.err"
    check "$name exit" "$?" "$want"
    check "$name one line" "$(lines "$T/bad.err")" 1
    check_grep "$name message" "$T/bad.err" "$pat"
}
before=$("$CG" query -d "$T/store" --count)
run_bad "missing capture" 2 "nonexistent.pcap" run -r "$T/nonexistent.pcap" -S rules -d "$T/store" -q
printf 'this is not a capture file\n' > "$T/text.pcap"
run_bad "not a capture" 2 "text.pcap" run -r "$T/text.pcap" -S rules -d "$T/store" -q
head -c 10 "$T/sample.pcap" > "$T/short.pcap"
run_bad "truncated header" 2 "short.pcap" run -r "$T/short.pcap" -S rules -d "$T/store" -q
"$H" pcap oversnap "$T/oversnap.pcap"
run_bad "caplen over snaplen" 2 "oversnap.pcap.*packet 2" run -r "$T/oversnap.pcap" -S rules -d "$T/store" -q
"$H" pcap cutrecord "$T/cut.pcap"
run_bad "cut record" 2 "cut.pcap.*packet 2" run -r "$T/cut.pcap" -S rules -d "$T/store" -q
"$H" pcap zerolen "$T/zero.pcap"
"$CG" run -r "$T/zero.pcap" -S rules --no-store 2> "$T/zero.err"
check "zero-length packet exit" "$?" 0
check_grep "zero-length packet counted" "$T/zero.err" "packets +3 .*"
check_grep "zero-length packet is malformed" "$T/zero.err" "truncated 1,"
mkdir -p "$T/emptyrules"
run_bad "empty rule set" 2 "no rule loaded" run -r "$T/sample.pcap" -S "$T/emptyrules" -d "$T/store" -q
: > "$T/empty.rules"
run_bad "empty rule file" 2 "no rule loaded" run -r "$T/sample.pcap" -S "$T/empty.rules" -d "$T/store" -q
run_bad "missing rules path" 2 "nope.rules" run -r "$T/sample.pcap" -S "$T/nope.rules" -d "$T/store" -q
run_bad "bad --midstream" 2 "midstream takes accept or ignore, not sideways" run -r "$T/sample.pcap" -S rules -d "$T/store" -q --midstream sideways
# a full disk under the EVE file, and the generator's own bad input
"$CG" run -q -r "$T/sample.pcap" -S rules --no-store -o /dev/full 2> "$T/full.err"
check "EVE on a full disk exit" "$?" 1
check_grep "EVE on a full disk message" "$T/full.err" "/dev/full: No space left on device"
"$B/gen_traffic" -o /dev/full -t "$T/full.tsv" 2> "$T/gfull.err"
check "gen_traffic full disk exit" "$?" 1
check_grep "gen_traffic full disk message" "$T/gfull.err" "cannot write /dev/full: No space left"
"$B/gen_traffic" -o "$T/x.pcap" -t "$T/x.tsv" --bytes lots 2> "$T/gbad.err"
check "gen_traffic bad --bytes exit" "$?" 2
check_grep "gen_traffic bad --bytes message" "$T/gbad.err" "bad --bytes 'lots'"
{
    echo 'alert tcp any any -> any any (msg:"good one"; content:"sqlmap"; sid:1; rev:1;)'
    echo 'alert tcp any any -> any any (msg:"broken"; content:"x; sid:2; rev:1;)'
    echo 'alert tcp any any -> any any (msg:"good two"; content:"nikto"; nocase; sid:3; rev:1;)'
} > "$T/mixed.rules"
"$CG" rules check "$T/mixed.rules" > "$T/mixed.out" 2>&1
check "rules check mixed exit" "$?" 1
check_grep "rules check mixed counts" "$T/mixed.out" "mixed.rules +2 +0 +1"
check_grep "rules check names line" "$T/mixed.out" "mixed.rules:2:[0-9]+: "
"$CG" run -r "$T/sample.pcap" -S "$T/mixed.rules" --no-store -o "$T/mixed.json" 2> /dev/null
check "mixed rules: good ones run" "$?" 0
"$CG" run -r "$T/sample.pcap" -S rules -d "$T/newer" -q && "$H" schema "$T/newer" 99
run_bad "newer schema" 2 "schema" run -r "$T/sample.pcap" -S rules -d "$T/newer" -q
run_bad "newer schema query" 2 "schema" query -d "$T/newer"
run_bad "missing store" 2 "nostore" query -d "$T/nostore"
run_bad "missing store: show" 2 "nostore" incident show -d "$T/nostore" 1
run_bad "missing store: set" 2 "nostore" incident set -d "$T/nostore" 1 status=new
mkdir -p "$T/garbage"
head -c 20000 /dev/urandom > "$T/garbage/data.mdb"
run_bad "corrupt store: query" 2 "garbage.*not a canhgac store" query -d "$T/garbage"
run_bad "corrupt store: show" 2 "garbage.*not a canhgac store" incident show -d "$T/garbage" 1
run_bad "corrupt store: run" 2 "garbage.*not a canhgac store" run -r "$T/sample.pcap" -S rules -d "$T/garbage" -q
# a malformed query: the expression, a caret under the column, and one line
# "canhgac query: column N: why"
run_bad_q() { # NAME COLUMN PATTERN EXPRESSION...
    name=$1; col=$2; pat=$3; shift 3
    "$CG" query -d "$T/store" "$@" > "$T/bad.out" 2> "$T/bad.err"
    check "$name exit" "$?" 2
    check "$name: one message line" "$(grep -c '^canhgac query:' "$T/bad.err")" 1
    check_grep "$name message" "$T/bad.err" "^canhgac query: column $col: $pat"
    check "$name caret" "$(sed -n 2p "$T/bad.err" | awk '{ print index($0, "^") }')" $((col + 2))
}
run_bad_q "unknown field" 1 "unknown field 'bogus'" bogus=1
run_bad_q "unknown field later" 15 "unknown field 'colour'" 'since 24h and colour = red'
run_bad_q "bad cidr" 5 "'10.0.0.0/33' is not an address or CIDR" src=10.0.0.0/33
run_bad_q "bad cidr in" 8 "'10.20.0.0/99' is not" src in 10.20.0.0/99
run_bad_q "bad time" 7 "'yesterday' is not a time" since yesterday
run_bad_q "bad severity" 8 "'extreme' is not a severity" 'sev >= extreme and sid = 1'
run_bad_q "bad status" 10 "'closed' is not a status" status = closed
run_bad_q "unclosed parenthesis" 13 "'\(' is never closed" 'sid = 1 and (src in 10.0.0.0/8'
run_bad_q "dangling or" 11 "expected a condition" 'sid = 1 or'
run_bad_q "stray parenthesis" 9 "unbalanced '\)'" 'sid = 1 ) and sid = 2'
run_bad_q "operator for the field" 5 "operator ~ does not apply to sid" 'sid ~ 5'
run_bad_q "unterminated string" 7 "unterminated string" 'msg ~ "sql'
run_bad_q "a column in UTF-8" 24 "unknown field 'zonе'" 'agency = "Sở Y tế" and zonе = DMZ'
run_bad "bad time option" 2 "yesterday" query -d "$T/store" --since yesterday
run_bad "bad top field" 2 "--top: no field 'colour'" query -d "$T/store" --top colour
run_bad "bad histogram" 2 "hour or day" query -d "$T/store" --histogram week
run_bad "two modes" 2 "one of --count" query -d "$T/store" --count --top src
run_bad "bad cursor" 2 "cursor" query -d "$T/store" --cursor abc
run_bad "unknown option" 2 "unknown option: --colour" query -d "$T/store" --colour
# triage input
run_bad "bad status" 2 "bad status 'closed'" incident set -d "$T/store" 1 status=closed
run_bad "bad severity" 2 "bad severity 'extreme'" incident set -d "$T/store" 1 severity=extreme
run_bad "unknown triage field" 2 "unknown field 'colour'" incident set -d "$T/store" 1 colour=red
run_bad "nothing to set" 2 "nothing to set" incident set -d "$T/store" 1
run_bad "unknown incident: show" 2 "incident 999999: not found" incident show -d "$T/store" 999999
run_bad "unknown incident: set" 2 "incident 999999: not found" incident set -d "$T/store" 999999 status=new
run_bad "unknown incident: note" 2 "incident 999999: not found" incident note -d "$T/store" 999999 hello
run_bad "not an id" 2 "not an incident ID" incident show -d "$T/store" 12abc
run_bad "empty note" 2 "TEXT is missing" incident note -d "$T/store" 1
run_bad "unknown incident subcommand" 2 "unknown subcommand 'close'" incident close 1
# GeoIP databases and the asset file: an error at start naming the file
run_bad "missing GeoIP database" 2 "GeoIP city database $T/nope.mmdb: No such file" run -r "$T/geo.pcap" -S rules -d "$T/store" -q --geoip-city "$T/nope.mmdb"
head -c 3000 "$GEO/GeoIP2-City-Test.mmdb" > "$T/cut.mmdb"
run_bad "corrupt GeoIP database" 2 "GeoIP city database $T/cut.mmdb: " run -r "$T/geo.pcap" -S rules -d "$T/store" -q --geoip-city "$T/cut.mmdb"
run_bad "swapped GeoIP databases" 2 "GeoIP ASN database .*GeoIP2-City-Test.mmdb: database type 'GeoIP2-City' is not an ASN database" run -r "$T/geo.pcap" -S rules -d "$T/store" -q --geoip-asn "$GEO/GeoIP2-City-Test.mmdb"
export CANHGAC_GEOIP_ASN="$T/nope-asn.mmdb"
run_bad "GeoIP database from the environment" 2 "GeoIP ASN database $T/nope-asn.mmdb" run -r "$T/geo.pcap" -S rules -d "$T/store" -q
unset CANHGAC_GEOIP_ASN
# asked to, the run goes on without the database, and says so once
"$CG" run -q -r "$T/geo.pcap" -S "$T/georules" -d "$T/geoopt" --geoip-city "$T/cut.mmdb" --geoip-asn "$GEO/GeoLite2-ASN-Test.mmdb" --geoip-optional 2> "$T/opt.err"
check "--geoip-optional exit" "$?" 0
check "--geoip-optional: one line" "$(lines "$T/opt.err")" 1
check_grep "--geoip-optional: says which and why" "$T/opt.err" "warning: .*GeoIP city database $T/cut.mmdb: .*running without it"
"$CG" query -d "$T/geoopt" --json 'src = 89.160.20.112' > "$T/opt.json"
check "--geoip-optional: ASN and assets still there" "$("$H" fields "$T/opt.json" src_geo.country src_geo.asn dest_geo.agency geo_db_type)" \
    "	29518	Văn phòng UBND tỉnh	GeoLite2-ASN"
{
    echo "# assets"
    echo "10.20.0.0/16,Sở TT&TT,server farm,ttdl@example.vn"
    echo "10.20.1.5/24,Sở Y tế,DMZ,dmz@example.vn"
} > "$T/bad-assets.conf"
run_bad "asset file with a bad line" 2 "bad-assets.conf:3: .*10.20.1.5/24" run -r "$T/geo.pcap" -S rules -d "$T/store" -q --assets "$T/bad-assets.conf"
cp "$T/bad-assets.conf" "$T/georules/assets.conf"
run_bad "bad asset file next to the rules" 2 "georules/assets.conf:3: " run -r "$T/geo.pcap" -S "$T/georules" -d "$T/store" -q
run_bad "missing asset file" 2 "nope-assets.conf" run -r "$T/geo.pcap" -S rules -d "$T/store" -q --assets "$T/nope-assets.conf"
# a store another writer holds (a run reading a paced capture); triage
# still gets in
mkfifo "$T/fifo2"
"$H" pace "$T/big.pcap" "$T/fifo2" 1000000 100000 &
pacer=$!
: > "$T/holder.err"
"$CG" run -r "$T/fifo2" -S rules -d "$T/locked" --no-enrich --batch 1 --progress 2> "$T/holder.err" &
holder=$!
n=0
while ! grep -q "stored:" "$T/holder.err" && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
run_bad "store locked by another writer" 2 "locked.*locked by another writer \\(pid $holder\\)" run -r "$T/sample.pcap" -S rules -d "$T/locked" -q
I set -d "$T/locked" 1 assignee=binh --as binh > /dev/null
check "triage is not locked out by the writer" "$?" 0
kill "$holder" 2> /dev/null
wait "$holder"
check "the writer stops on SIGTERM, committed" "$?" 0
kill "$pacer" 2> /dev/null
wait "$pacer" 2> /dev/null
check "the locked store is whole" "$(I show -d "$T/locked" 1 --json > "$T/locked.json"; "$H" fields "$T/locked.json" incident.assignee)" binh
# a store directory the user cannot write
mkdir -p "$T/ro"
chmod 555 "$T/ro"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    chmod 755 "$T" "$T/ro"; chmod 555 "$T/ro"
    chmod o+r "$T/sample.pcap"
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$CG" run -r "$T/sample.pcap" -S rules -d "$T/ro/store" -q --no-cache > /dev/null 2> "$T/bad.err"
    check "unwritable store exit" "$?" 2
    check_grep "unwritable store message" "$T/bad.err" "ro/store"
elif [ "$(id -u)" != 0 ]; then
    run_bad "unwritable store" 2 "ro/store" run -r "$T/sample.pcap" -S rules -d "$T/ro/store" -q
fi
check "store unchanged by the bad runs" "$("$CG" query -d "$T/store" --count)" "$before"

# ---------------------------------------------------------------- rules check on ET Open
"$CG" rules check "$DATA/rules/etopen" > "$T/et.out" 2>&1
rc=$?
check "rules check etopen exit" "$(test $rc -le 1 && echo ok)" ok
total=$(awk '$1 == "TOTAL" { print $2 + $3 + $4 }' "$T/et.out")
check "etopen enabled rules accounted for" "$total" 25889   # 25,858 distinct sids; 31 repeated in the supplement
check_grep "etopen keyword table" "$T/et.out" "skipped rules by keyword"

chmod -R u+w "$T" 2> /dev/null
rm -rf "$T"
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
