#!/bin/sh
# e2e_share.sh — `canhgac share` end to end, over the generated sample
# traffic (gen_traffic, one round) stored with the shipped rules, asset file
# and layer policy (rules/layers.conf: some incidents reach layer 4):
#  - the bundle validates against OASIS's STIX 2.1 JSON schemas
#    (../shared/tools/validate_stix.py, offline), also the bundles with every
#    detail allowed;
#  - its object counts: incidents = `query --count 'layer = 4'`, and the
#    observed-data, indicators and sightings an independent reckoning over
#    `query --json` expects (tests/e2e_share.py);
#  - deterministic ids: two shares with --again give the same SCO,
#    incident and indicator ids, and SCO ids are UUIDv5 of their value
#    (the validator warns otherwise: no warning allowed);
#  - the identity from layers.conf, or --identity; each TLP name's OASIS
#    marking id on every object; an unknown TLP is one line and exit 2;
#  - redaction: with the shipped policy no internal address of the sample
#    and no agency or zone name of rules/assets.conf is in the bundle, the
#    canhgac extension says what was withheld; with `share allow
#    internal-addresses, agency-names, payloads` they are there (and URLs);
#  - history: each shared incident's history names the bundle and the file;
#    a second share shares nothing (and writes no file); --again does; a
#    share beside a running writer (its writer.lock held by flock) records
#    it as triage does; a case file of a shared incident carries the shares
#    and verifies; store verify holds after the shares;
#  - --query and --since select; bad input: a bad --since, a query that does
#    not parse, no identity, no -o, a missing store, all exit 2, one line.
#
# Usage: tests/e2e_share.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=share
. tests/e2e_lib.sh

# Debian's python3 has python3-jsonschema (tools/setup.sh); prefer it when
# another python3 comes first in PATH
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
SCHEMAS="$DATA/stix/schemas"
VALIDATE="$DATA/../tools/validate_stix.py"
[ -f "$VALIDATE" ] || VALIDATE=../shared/tools/validate_stix.py
# valid NAME FILE: the bundle validates, with no warning and no note
valid() {
    "$PY" "$VALIDATE" "$SCHEMAS" "$2" > "$T/v.out" 2>&1
    check "$1: validates" "$?" 0
    check "$1: RESULT" "$(grep '^RESULT' "$T/v.out" | cut -d' ' -f2)" "VALID"
    check "$1: no warning or note" "$(grep -cE '^(WARNING|NOTE|OBJECT ERROR)' "$T/v.out")" 0
}
# count TYPE FILE: the objects of that type in a bundle
count() { "$PY" -c 'import json,sys; print(sum(o["type"] == sys.argv[1] for o in json.load(open(sys.argv[2]))["objects"]))' "$1" "$2"; }
# ids TYPE FILE: the sorted ids of that type
ids() { "$PY" -c 'import json,sys; print("\n".join(sorted(o["id"] for o in json.load(open(sys.argv[2]))["objects"] if o["type"] in sys.argv[1].split(","))))' "$1" "$2"; }

"$B/gen_traffic" -o "$T/sample.pcap" -t "$T/truth.tsv" 2> /dev/null || bad "gen_traffic failed"
"$CG" run -q -r "$T/sample.pcap" -S rules -d "$T/s" -w 2 --policy rules/layers.conf 2> "$T/run.err"
check "run: exit" "$?" 0
cp -r "$T/s" "$T/s0" # untouched by any share
N4=$("$CG" query -d "$T/s" --count 'layer = 4')
check "some incidents at layer 4" "$([ "$N4" -ge 5 ] && echo yes)" "yes"

# ---- the default share: layer 4, the shipped policy --------------------------
"$CG" share -d "$T/s" -o "$T/b1.json" --as "analyst 1" > "$T/sh1.out" 2> "$T/sh1.err"
check "share: exit" "$?" 0
check "share: quiet on stderr" "$(cat "$T/sh1.err")" ""
BID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/b1.json")
check_grep "share: the line" "$T/sh1.out" "^shared $N4 incidents in $BID \(TLP:AMBER\) to $T/b1.json: [0-9]+ indicators, [0-9]+ sightings, [0-9]+ observed-data, [0-9]+ relationships, [0-9]+ observables; withheld: internal addresses, agency names, payloads$"
valid "default bundle" "$T/b1.json"
check "no temporary file left" "$(ls -a "$T" | grep -c '^\.b1')" 0
check "incidents = query --count 'layer = 4'" "$(count incident "$T/b1.json")" "$N4"
"$CG" query -d "$T/s" --json --limit 0 'layer = 4' > "$T/q4.json"
"$PY" tests/e2e_share.py expect "$T/q4.json" 0 > "$T/want1"
"$PY" tests/e2e_share.py got "$T/b1.json" > "$T/got1"
check "counts as the reckoning says" "$(cat "$T/got1")" "$(cat "$T/want1")"
check "the summary line's counts" \
    "$(sed -E 's/.*: ([0-9]+) indicators, ([0-9]+) sightings, ([0-9]+) observed-data.*/\1 \2 \3/' "$T/sh1.out")" \
    "$(count indicator "$T/b1.json") $(count sighting "$T/b1.json") $(count observed-data "$T/b1.json")"
check "every object but the marking is marked TLP:AMBER" \
    "$("$PY" -c 'import json,sys; b=json.load(open(sys.argv[1]))["objects"]; print(sum(o.get("object_marking_refs") != ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"] for o in b if o["type"] not in ("marking-definition",) and "spec_version" in o and o["type"] not in ("ipv4-addr","ipv6-addr","domain-name","url","network-traffic")))' "$T/b1.json")" 0
check "identity from layers.conf" \
    "$("$PY" -c 'import json,sys; print([o["name"] + " " + o["identity_class"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == "identity"])' "$T/b1.json")" \
    "['Công an tỉnh Tuyên Quang organization']"
check "severity is not a top-level property" "$(grep -c '"severity":"[a-z]*","severity_level"' "$T/b1.json")" "$N4"
check "nothing top-level named severity" \
    "$("$PY" -c 'import json,sys; print(sum("severity" in o for o in json.load(open(sys.argv[1]))["objects"]))' "$T/b1.json")" 0

# ---- redaction ---------------------------------------------------------------
# the sample's internal addresses (10.20/16, 10.21/16: the asset file's) and
# the asset file's agency and zone names; the identity is the SOC's own name
# ("Công an tỉnh Tuyên Quang" holds the agency "Công an tỉnh"), so these
# greps read bundles shared with --identity of another name
"$CG" share -d "$T/s" -o "$T/r1.json" --again --identity "canhgac e2e" > /dev/null 2>&1
"$PY" tests/e2e_share.py internal "$T/q4.json" > "$T/internal"
check "the incidents have internal addresses (v4 and v6)" "$(grep -c '^10\.' "$T/internal" | sed 's/^[1-9][0-9]*$/some/') $(grep -c '^fd' "$T/internal" | sed 's/^[1-9][0-9]*$/some/')" "some some"
found=0
while IFS= read -r a; do
    grep -qF "\"$a\"" "$T/r1.json" || grep -qF "$a " "$T/r1.json" || grep -qF "'$a'" "$T/r1.json" || continue
    found=$((found + 1)); echo "internal address in the bundle: $a"
done < "$T/internal"
check "redacted: no internal address" "$found" 0
check "redacted: no 10.20/16 or 10.21/16 anywhere" "$(grep -cE '10\.2[01]\.[0-9]+\.[0-9]+' "$T/r1.json")" 0
# the extension's definition is canhgac's text (it names the properties, and
# layer 2, "SOC", which is also a zone of the asset file): the objects after it
grep -v '"type":"extension-definition"' "$T/r1.json" > "$T/r1.objs"
grep -v '^#' rules/assets.conf | awk -F, 'NF >= 3 && $1 != "cidr" { print $2; print $3 }' | sort -u > "$T/names"
check "assets.conf has agency names" "$([ "$(lines "$T/names")" -ge 5 ] && echo yes)" "yes"
found=0
while IFS= read -r name; do
    grep -qF "$name" "$T/r1.objs" && { found=$((found + 1)); echo "agency or zone in the bundle: $name"; }
done < "$T/names"
check "redacted: no agency or zone name" "$found" 0
check "redacted: no URL, user agent or payload" "$(grep -cE '"type":"url"|user_agent|payload_base64|wp-content' "$T/r1.objs")" 0
check "redacted: no Community ID" "$(grep -c community_id "$T/r1.objs")" 0
check "redacted: withheld listed" "$(grep -c '"withheld":\["internal-addresses","agency-names","payloads"\]' "$T/r1.json")" "$N4"
sed '/^share allow/d' rules/layers.conf > "$T/open.conf"
echo 'share allow internal-addresses, agency-names, payloads' >> "$T/open.conf"
"$CG" share -d "$T/s" -o "$T/o1.json" --again --policy "$T/open.conf" --identity "canhgac e2e" > "$T/o1.out" 2>&1
check "allowed: exit" "$?" 0
check_grep "allowed: nothing withheld" "$T/o1.out" "withheld: nothing$"
valid "all allowed" "$T/o1.json"
check "allowed: internal addresses there" "$([ "$(grep -cE '"value":"10\.2[01]\.' "$T/o1.json")" -ge 1 ] && echo yes)" "yes"
check "allowed: agency names there" "$(grep -c '"dst_agency":"Sở Thông tin và Truyền thông"' "$T/o1.json" | sed 's/^[1-9][0-9]*$/some/')" "some"
check "allowed: URLs there" "$([ "$(count url "$T/o1.json")" -ge 1 ] && echo yes)" "yes"
"$PY" tests/e2e_share.py expect "$T/q4.json" 7 > "$T/want2"
"$PY" tests/e2e_share.py got "$T/o1.json" > "$T/got2"
check "allowed: counts as the reckoning says" "$(cat "$T/got2")" "$(cat "$T/want2")"
check "allowed: internal addresses are no indicators" "$(grep -c "pattern\":\"\[ipv4-addr:value = '10\." "$T/o1.json")" 0

# ---- history, a second share, --again ----------------------------------------
first=$("$PY" -c 'import json,sys; print(min(json.loads(l)["incident_id"] for l in open(sys.argv[1])))' "$T/q4.json")
"$CG" incident show -d "$T/s" "$first" > "$T/show.out"
check "history: the share" "$(grep -c "analyst 1 *shared in $BID (TLP:AMBER) to $T/b1.json\$" "$T/show.out")" 1
"$CG" incident show -d "$T/s" --json "$first" > "$T/show.json"
check "history JSON: field shared" \
    "$("$PY" -c 'import json,sys; print([h["text"] for h in json.load(open(sys.argv[1]))["history"] if h["field"] == "shared"][0])' "$T/show.json")" \
    "shared in $BID (TLP:AMBER) to $T/b1.json"
"$CG" share -d "$T/s" -o "$T/b2.json" > "$T/sh2.out" 2>&1
check "second share: exit 0" "$?" 0
check "second share: nothing" "$(cat "$T/sh2.out")" "nothing to share: $N4 incidents matched, every one shared before (--again shares them again); no bundle written"
check "second share: no file" "$([ -e "$T/b2.json" ] && echo there || echo none)" "none"
"$CG" share -d "$T/s" -o "$T/b3.json" --again > /dev/null 2>&1
check "--again: exit" "$?" 0
check "--again: every incident again" "$(count incident "$T/b3.json")" "$N4"
check "--again: the same observable ids" "$(ids ipv4-addr,ipv6-addr,domain-name,url,network-traffic "$T/b3.json")" \
    "$(ids ipv4-addr,ipv6-addr,domain-name,url,network-traffic "$T/b1.json")"
check "--again: the same incident, indicator, sighting ids" "$(ids incident,indicator,sighting,observed-data,relationship "$T/b3.json")" \
    "$(ids incident,indicator,sighting,observed-data,relationship "$T/b1.json")"
check "--again: a new bundle id" "$([ "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/b3.json")" != "$BID" ] && echo new)" "new"
check "history: four shares of the first (b1, r1, o1, b3)" "$("$CG" incident show -d "$T/s" "$first" | grep -c ' shared in bundle--')" 4
# beside a running sensor (its writer.lock held): the history as triage
# writes it, one transaction per incident
if command -v flock > /dev/null 2>&1; then
    flock -x "$T/s/writer.lock" sleep 30 &
    lockpid=$!
    sleep 0.3
    "$CG" share -d "$T/s" -o "$T/b4.json" --again > "$T/b4.out" 2>&1
    check "beside a writer: exit" "$?" 0
    kill "$lockpid" 2> /dev/null
    wait "$lockpid" 2> /dev/null
    check "beside a writer: every incident" "$(count incident "$T/b4.json")" "$N4"
    check "beside a writer: history" "$("$CG" incident show -d "$T/s" "$first" | grep -c ' shared in bundle--')" 5
else
    echo "share: no flock command: the share beside a writer is not tested"
fi
# a case file of a shared incident carries the share in its history and
# timeline, and verifies
"$CG" keys init -d "$T/s" > /dev/null 2>&1
"$CG" case new -d "$T/s" --as lan "shared" "$first" > /dev/null 2>&1
"$CG" case export 1 -d "$T/s" --as lan -o "$T/case-1" -S rules > /dev/null 2>&1
check "case export: exit" "$?" 0
check "case export: the shares in case.json" \
    "$("$PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); print(sum(h["field"] == "shared" for i in c["incidents"] for h in i["history"]))' "$T/case-1/case.json")" 5
"$CG" case verify "$T/case-1" > /dev/null 2>&1
check "case verify" "$?" 0
"$CG" store verify -d "$T/s" > "$T/verify.out" 2>&1
check "store verify after the shares" "$?" 0

# ---- identity and TLP ---------------------------------------------------------
"$CG" share -d "$T/s0" -o - --identity "Công an tỉnh Hà Giang" 2> /dev/null > "$T/i1.json"
check "--identity: the name" \
    "$("$PY" -c 'import json,sys; print([o["name"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == "identity"])' "$T/i1.json")" \
    "['Công an tỉnh Hà Giang']"
check "--identity: its own id" "$([ "$(ids identity "$T/i1.json")" != "$(ids identity "$T/b1.json")" ] && echo differs)" "differs"
for t in clear:94868c89-83c2-464b-929b-a1a8aa3c8487:CLEAR green:bab4a63c-aed9-4cf5-a766-dfca5abac2bb:GREEN \
    amber:55d920b0-5e8b-4f79-9ee9-91f868d9b421:AMBER amber+strict:939a9414-2ddd-4d32-a0cd-375ea402b003:AMBER+STRICT \
    red:e828b379-4e03-4974-9ac4-e53a884c97c1:RED; do
    name=${t%%:*}; rest=${t#*:}; id=${rest%%:*}; label=${rest#*:}
    "$CG" share -d "$T/s0" -o - --again --tlp "$name" 2> "$T/tlp.err" > "$T/tlp.json"
    check "--tlp $name: the marking" \
        "$("$PY" -c 'import json,sys; print([(o["id"], o["name"], o["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"]) for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == "marking-definition"])' "$T/tlp.json")" \
        "[('marking-definition--$id', 'TLP:$label', '$name')]"
    check "--tlp $name: every object refers to it" \
        "$("$PY" -c 'import json,sys; b=json.load(open(sys.argv[1]))["objects"]; print(all(o["object_marking_refs"] == ["marking-definition--" + sys.argv[2]] for o in b if "created_by_ref" in o))' "$T/tlp.json" "$id")" "True"
    check_grep "--tlp $name: the line" "$T/tlp.err" "\(TLP:$(echo "$label" | sed 's/+/\\+/')\) to stdout"
done
sed 's/^share tlp amber$/share tlp green/' rules/layers.conf > "$T/green.conf"
check "a policy of share tlp green" "$(grep -c '^share tlp green$' "$T/green.conf")" 1
"$CG" share -d "$T/s0" -o - --again --policy "$T/green.conf" 2> "$T/g.err" > /dev/null
check_grep "the policy's TLP" "$T/g.err" "\(TLP:GREEN\) to stdout"
"$CG" share -d "$T/s0" -o - --again --policy "$T/green.conf" --tlp amber+strict 2> "$T/g.err" > /dev/null
check_grep "--tlp over the policy's" "$T/g.err" "\(TLP:AMBER\+STRICT\) to stdout"
[ -n "$E2E_QUICK" ] || valid "--tlp red on stdout" "$T/tlp.json"
run_bad "unknown TLP" "^canhgac share: --tlp: unknown TLP 'orange' \(clear, green, amber, amber\+strict, red\)$" \
    share -d "$T/s0" -o "$T/x.json" --tlp orange
check "unknown TLP: no file" "$([ -e "$T/x.json" ] && echo there || echo none)" "none"

# ---- --query, --since, --dry-run -------------------------------------------------
"$CG" share -d "$T/s0" -o "$T/q.json" --again --query 'sid = 9100403 or sid = 9100115' > /dev/null 2>&1
check "--query: exit" "$?" 0
check "--query: its incidents" "$(count incident "$T/q.json")" "$("$CG" query -d "$T/s0" --count 'sid = 9100403 or sid = 9100115')"
"$CG" share -d "$T/s0" -o "$T/old.json" --again --since 2025-11-24T08:03:00 > "$T/since.out" 2>&1
check "--since: its incidents" "$(count incident "$T/old.json")" "$("$CG" query -d "$T/s0" --count 'layer = 4 and since 2025-11-24T08:03:00')"
"$CG" share -d "$T/s0" -o "$T/none.json" --since 1h > "$T/since2.out" 2>&1
check "--since 1h: nothing" "$(cat "$T/since2.out")" "nothing to share: 0 incidents matched; no bundle written"
"$CG" share -d "$T/s0" --dry-run --again > "$T/dry.out" 2>&1
check_grep "--dry-run: the line" "$T/dry.out" "^would share $N4 incidents in a bundle \(TLP:AMBER\): "

# ---- bad input ----------------------------------------------------------------
run_bad "bad --since" "^canhgac share: --since: not a time: yesterday " share -d "$T/s0" -o "$T/x.json" --since yesterday
"$CG" share -d "$T/s0" -o "$T/x.json" --query 'sid = = 3' > "$T/bq.out" 2> "$T/bq.err"
check "bad --query: exit" "$?" 2
check_grep "bad --query: the column" "$T/bq.err" "^canhgac share: .*column 7"
sed '/^identity/d' rules/layers.conf > "$T/noid.conf"
run_bad "no identity" "^canhgac share: no identity: name the SOC with --identity or an identity line in $T/noid.conf$" \
    share -d "$T/s0" -o "$T/x.json" --policy "$T/noid.conf"
run_bad "no -o" "^canhgac share: -o FILE is needed \(- for stdout\)$" share -d "$T/s0"
run_bad "no store" "no canhgac store here" share -d "$T/nostore" -o "$T/x.json"
run_bad "bad policy" "^canhgac share: $T/noid.conf.x: cannot open" share -d "$T/s0" -o "$T/x.json" --policy "$T/noid.conf.x"
run_bad "output in no directory" "^canhgac share: $T/nodir/x.json: No such file or directory$" \
    share -d "$T/s0" -o "$T/nodir/x.json" --again
check "bad input: no file" "$([ -e "$T/x.json" ] && echo there || echo none)" "none"
check "bad input: no store made" "$([ -e "$T/nostore" ] && echo there || echo none)" "none"

e2e_done share
