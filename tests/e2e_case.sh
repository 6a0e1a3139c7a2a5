#!/bin/sh
# e2e_case.sh — case files as a response team and its recipients use them:
# `case export` to a directory and to a .tar.gz, `case verify`, the check
# with sha256sum and openssl alone, the evidence read by tcpdump and tshark,
# and what each kind of tampering and each bad input says.
#
# A store is made by `run` over a generated capture, with keys; a case of
# five incidents (a Vietnamese title and note), then:
#  - export to DIR and to FILE.tar.gz: verify exit 0; sha256sum -c and
#    openssl pkeyutl -verify pass; tcpdump -r and tshark -r read
#    evidence.pcapng with the packets case.json lists, each with its comment;
#    rules.rules has each fired rule's text with file:line, and the "not
#    found" line for a rule the given rules lack; timeline.html keeps the
#    Vietnamese text; the export is in the case's history with its
#    manifest's SHA-256;
#  - --redact-payload: no payload byte in the evidence, no payload or HTTP
#    field in case.json, custody.json says so and withholds the leaves;
#  - tampering, each named on its own line, exit 1: one byte flipped in each
#    kind of file, a file removed, a file added, a wrong public key, a
#    manifest line edited, the signature flipped, a checkpoint with a bad
#    signature and one of another store (the manifest re-signed with the
#    SOC's key, as an insider could), a proof changed, an archive with a
#    '..' member and a link;
#  - bad input, exit 2 and one line: unknown case, unknown incident, an
#    empty case, a missing, unreadable, world-readable or damaged key, an
#    output that exists (then --force replaces it);
#  - a full disk (a small tmpfs, as root in a mount namespace of its own):
#    exit 1, "No space left on device", nothing left behind;
#  - exports killed with SIGKILL at various moments: the output is either
#    absent or a whole case that verifies.
#
# Usage: tests/e2e_case.sh BUILD_DIR   (from the top of the tree; E2E_QUICK=1,
# as make test-san sets it: one full-disk size and two killed exports)
B=${1:-build}
if [ "$(id -u)" = 0 ] && [ -z "$CASE_NS" ] && command -v unshare > /dev/null &&
    unshare -m true 2> /dev/null; then
    CASE_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
E2E_NAME=case
. tests/e2e_lib.sh
command -v jq > /dev/null || { echo "case: needs jq (tools/setup.sh)"; exit 1; }
RUN="run -q -S rules --no-enrich -o /dev/null"
TOP=$(pwd)
t0=$(date +%s)

"$B/gen_traffic" -o "$T/t.pcap" -t "$T/t.tsv" 2> /dev/null
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/s" 2> "$T/err"
check "run" "$?" 0
"$CG" keys init -d "$T/s" > /dev/null
check "keys init" "$?" 0
S="-d $T/s"
TITLE="Tấn công SQL vào cổng dịch vụ công tỉnh"
NOTE="Đã chặn 55.62.233.53 tại tường lửa — báo cáo lãnh đạo"
# shellcheck disable=SC2086
"$CG" case new $S --as lan "$TITLE" 1 2 3 4 5 > "$T/new.out" 2>&1
check "case new" "$?" 0
id=$(sed -n 's/^case \([0-9]*\): created.*/\1/p' "$T/new.out")
check "case id" "$id" 1
# shellcheck disable=SC2086
"$CG" case note $S --as lan 1 "$NOTE" > /dev/null
"$CG" incident note -d "$T/s" --as minh 2 "gọi chủ hệ thống" > /dev/null
"$CG" incident set -d "$T/s" --as minh 2 status=investigating > /dev/null

# ---- export to a directory, verify ---------------------------------------
# shellcheck disable=SC2086
"$CG" case export 1 $S --as lan -o "$T/case-1" -S rules 2> "$T/ex.err"
check "export" "$?" 0
check_grep "export says" "$T/ex.err" "^canhgac case export: case 1: 5 incidents, [0-9]+ evidence packets, [0-9]+ of [0-9]+ rules' text -> $T/case-1 \\(MANIFEST.sha256 SHA-256 [0-9a-f]{64}; checkpoint of [0-9]+ leaves\\)$"
check "files" "$(cd "$T/case-1" && ls | tr '\n' ' ')" \
    "MANIFEST.sha256 MANIFEST.sha256.sig case.json custody.json evidence.pcapng incidents.csv rules.rules soc-public.pem timeline.html "
check "nothing else made" "$(ls "$T" | grep -c partial)" 0
"$CG" case verify "$T/case-1" > "$T/v.out" 2>&1
check "verify" "$?" 0
fp=$(openssl pkey -pubin -in "$T/s/soc-public.pem" -outform DER | tail -c 32 | sha256sum | cut -c1-64)
check_grep "verify: the case's own key, its fingerprint" "$T/v.out" "^$T/case-1: note: checked with the case's own soc-public.pem, fingerprint $fp: compare it"
check_grep "verify: verdict" "$T/v.out" "^$T/case-1: verified: 7 files match MANIFEST.sha256, signed by soc-public.pem \\(key SHA256:$fp\\); checkpoint of canhgac\\.store/[0-9a-f]{32} at [0-9]+ leaves; 5 inclusion proofs hold$"
"$CG" case verify "$T/case-1" --key "$T/s/soc-public.pem" > "$T/v.out" 2>&1
check "verify --key" "$?" 0
check "verify --key: no note on the key" "$(grep -c 'note: checked with' "$T/v.out")" 0
# with sha256sum and openssl alone (README "Case files")
(cd "$T/case-1" && sha256sum -c MANIFEST.sha256 && openssl pkeyutl -verify -pubin -inkey soc-public.pem \
    -rawin -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig) > "$T/ossl.out" 2>&1
check "sha256sum -c and openssl" "$?" 0
check "sha256sum: every file OK" "$(grep -c ': OK$' "$T/ossl.out")" 7
check_grep "openssl: verified" "$T/ossl.out" "^Signature Verified Successfully$"
# the checkpoint in custody.json checks with openssl too, as store checkpoint's does
jq -j .checkpoint "$T/case-1/custody.json" > "$T/cp.txt"
head -n 3 "$T/cp.txt" > "$T/cp.body"
sed -n 5p "$T/cp.txt" | sed 's/.* //' | base64 -d | tail -c 64 > "$T/cp.sig"
openssl pkeyutl -verify -pubin -inkey "$T/s/soc-public.pem" -rawin -in "$T/cp.body" -sigfile "$T/cp.sig" > /dev/null 2>&1
check "openssl verifies the checkpoint" "$?" 0
"$CG" store verify -d "$T/s" -c "$T/cp.txt" > /dev/null 2>&1
check "store verify: the store extends the case's checkpoint" "$?" 0
# each proof recomputed by hand: the leaf hash is SHA-256(0x00 | leaf_data)
l=$(jq -r '.incidents[0].leaf_data' "$T/case-1/custody.json" | base64 -d | { printf '\000'; cat; } | sha256sum | cut -c1-64)
check "a leaf hash by hand" "$l" "$(jq -r '.incidents[0].leaf_hash' "$T/case-1/custody.json")"

# what the files hold
C="$T/case-1"
check "case.json: incidents" "$(jq '.incidents | length' "$C/case.json")" 5
check "case.json: the title" "$(jq -r .case.title "$C/case.json")" "$TITLE"
check "case.json: the note" "$(jq -r '.history[] | select(.what == "note") | .text' "$C/case.json")" "$NOTE"
check "case.json: incident 2's history" "$(jq -r '.incidents[] | select(.incident.incident_id == 2) | .history | map(.field) | join(",")' "$C/case.json")" "note,status"
check "case.json: every alert" "$(jq '[.incidents[] | (.alerts | length) == .incident.alerts_stored] | all' "$C/case.json")" true
check "case.json: enrichment" "$(jq '[.incidents[].incident | has("src_geo") and has("dest_geo")] | all' "$C/case.json")" true
check "incidents.csv: a header and 5 rows" "$(lines "$C/incidents.csv")" 6
check "custody: who" "$(jq -r .exported_by "$C/custody.json")" lan
check_grep "custody: when" "$C/custody.json" '"exported_at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"'
check "custody: host" "$(jq -r .host "$C/custody.json")" "$(hostname)"
check "custody: tool" "$(jq -r .tool "$C/custody.json")" "$("$CG" --version)"
check "custody: store" "$(jq -r .store.directory "$C/custody.json")" "$(cd "$T/s" && pwd -P)"
check "custody: the store's schema" "$(jq -r .store.schema "$C/custody.json")" 8
check "custody: proofs" "$(jq '[.incidents[].id] | sort' -c "$C/custody.json")" "[1,2,3,4,5]"
check "custody: not redacted" "$(jq .redact_payload "$C/custody.json")" false
check "custody: files" "$(jq -c '.files | length' "$C/custody.json")" 9
# the export is in the case's history, with its manifest's SHA-256
msha=$(sha256sum "$C/MANIFEST.sha256" | cut -c1-64)
"$CG" case show 1 -d "$T/s" --json > "$T/show.json"
check "history: the export" "$(jq -r '.history[-1] | .what + " " + .who + " " + .text' "$T/show.json")" \
    "export lan exported to $T/case-1: 5 incidents, MANIFEST.sha256 SHA-256 $msha"

# evidence.pcapng: tcpdump and tshark read it; one comment per packet
npk=$(jq '[.incidents[].evidence | length] | add' "$C/case.json")
[ "$npk" -gt 5 ] || bad "only $npk evidence packets"
check "tcpdump reads the evidence" "$(tcpdump -r "$C/evidence.pcapng" -n 2> /dev/null | wc -l)" "$npk"
if command -v tshark > /dev/null; then
    tshark -r "$C/evidence.pcapng" -T fields -e frame.comment > "$T/comments" 2> /dev/null
    check "tshark reads the evidence" "$(lines "$T/comments")" "$npk"
    check "every packet has its comment" "$(grep -Ec '^canhgac case 1, incident [1-5], alert [0-9]+ \(evidence #[0-9]+\): 1:[0-9]+ rev [0-9]+: CANHGAC ' "$T/comments")" "$npk"
    jq -r '.incidents[] | .incident.incident_id as $i | .evidence[] | "incident \($i), alert \(.alert) (evidence #\(.seq))"' "$C/case.json" | sort > "$T/want"
    sed 's/^canhgac case 1, \([^:]*\):.*/\1/' "$T/comments" | sort > "$T/got"
    check "the comments name each packet's incident and alert" "$(cmp -s "$T/want" "$T/got" && echo same)" same
else
    echo "case: tshark not installed: the comments are not checked (tools/setup.sh installs it)"
fi

# rules.rules: the text with file:line; a rule the given rules lack
check "rules: one header per fired rule" "$(grep -c '^# 1:[0-9]* rev [0-9]*: rules/[a-z_]*\.rules:[0-9]*$' "$C/rules.rules")" \
    "$(jq -r '.incidents[].incident | "\(.signature_id)"' "$C/case.json" | sort -u | wc -l)"
first=$(sed -n 's/^# 1:\([0-9]*\) rev [0-9]*: \(rules\/[a-z_]*\.rules\):\([0-9]*\)$/\1 \2 \3/p' "$C/rules.rules" | head -n 1)
set -- $first
check "rules: the text at file:line" "$(grep -A2 "^# 1:$1 " "$C/rules.rules" | tail -n 1)" "$(sed -n "${3}p" "$2")"
check_grep "rules: the incidents and the message" "$C/rules.rules" "^# [0-9]+ incidents?: CANHGAC "
# shellcheck disable=SC2086
"$CG" case export 1 $S -o "$T/case-r" -S rules/web.rules 2> /dev/null
check_grep "rules: not found" "$T/case-r/rules.rules" "^# 1:9100204 rev 1: not found in the given rules$"
(cd "$T" && "$TOP/$CG" case export 1 -d "$T/s" -o "$T/case-n" 2> /dev/null)
check_grep "rules: none given" "$T/case-n/rules.rules" "^# no rules were given"

# timeline.html: one page, the Vietnamese text intact, no script
check "timeline: the title (title, heading, the case opened)" "$(grep -cF "$TITLE" "$C/timeline.html")" 3
check "timeline: the note" "$(grep -cF "Note: $NOTE" "$C/timeline.html")" 1
check "timeline: utf-8" "$(grep -c '<meta charset="utf-8">' "$C/timeline.html")" 1
check "timeline: self-contained" "$(grep -Ec '<script|src=|href=' "$C/timeline.html")" 0
check "timeline: each incident began" "$(grep -c 'Incident [1-5] began' "$C/timeline.html")" 5

# ---- the archive -----------------------------------------------------------
# shellcheck disable=SC2086
"$CG" case export 1 $S -o "$T/case-1.tar.gz" -S rules 2> /dev/null
check "export .tar.gz" "$?" 0
check "one directory in the archive" "$(tar tzf "$T/case-1.tar.gz" | cut -d/ -f1 | sort -u)" case-1
"$CG" case verify "$T/case-1.tar.gz" --key "$T/s/soc-public.pem" > "$T/va.out" 2>&1
check "verify .tar.gz" "$?" 0
check_grep "verify .tar.gz: verdict" "$T/va.out" "^$T/case-1.tar.gz: case-1: verified: 7 files"
mkdir "$T/x" && tar xzf "$T/case-1.tar.gz" -C "$T/x"
(cd "$T/x/case-1" && sha256sum -c MANIFEST.sha256 && openssl pkeyutl -verify -pubin -inkey soc-public.pem \
    -rawin -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig) > /dev/null 2>&1
check "the archive, extracted: sha256sum and openssl" "$?" 0
# an archive of the case's files at its root (tar -C DIR .), as a recipient may make one
tar czf "$T/flat.tgz" -C "$T/x/case-1" .
"$CG" case verify "$T/flat.tgz" > "$T/va.out" 2>&1
check "verify an archive with no top directory" "$?" 0
check_grep "no top directory: verdict" "$T/va.out" "^$T/flat.tgz: \\.: verified: 7 files"

# ---- --redact-payload ----------------------------------------------------------
# shellcheck disable=SC2086
"$CG" case export 1 $S -o "$T/case-red" --redact-payload 2> "$T/red.err"
check "export --redact-payload" "$?" 0
R="$T/case-red"
"$CG" case verify "$R" > "$T/vr.out" 2>&1
check "verify a redacted case" "$?" 0
check_grep "verify says redacted" "$T/vr.out" "note: payloads were redacted"
check "redacted: custody says so" "$(jq .redact_payload "$R/custody.json")" true
check "redacted: no leaf_data" "$(jq '[.incidents[] | has("leaf_data")] | any' "$R/custody.json")" false
RED='[.incidents[].incident | has("payload") or (.http // {} | [.url, .hostname, .http_user_agent, .http_method] | map(. // "") | join("")) != "" or (.http.status // 0) != 0] | any'
check "redacted: no payload or HTTP field" "$(jq "$RED" "$R/case.json")" false
check "not redacted: they are there" "$(jq "$RED" "$C/case.json")" true
check "redacted: no HTTP in the packets" "$(grep -c 'HTTP/1\.' "$R/evidence.pcapng")" 0
[ "$(grep -c 'HTTP/1\.' "$C/evidence.pcapng")" -gt 0 ] || bad "the evidence has no HTTP to redact"
check "redacted: the packets' headers" "$(tcpdump -r "$R/evidence.pcapng" -n 2> /dev/null | grep -c ' > 10\.20\.')" "$npk"

# ---- flows from the sensor's packet ring ----------------------------------------
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/sr" --pcap-dir "$T/ring" 2> /dev/null
check "run --pcap-dir" "$?" 0
cp "$T/s/soc-private.pem" "$T/s/soc-public.pem" "$T/sr/"
"$CG" case new -d "$T/sr" "ring" 1 2 3 > /dev/null 2>&1
"$CG" case export 1 -d "$T/sr" -o "$T/case-ring.tar.gz" --pcap-dir "$T/ring" 2> "$T/ring.err"
check "export --pcap-dir" "$?" 0
check_grep "export --pcap-dir: says" "$T/ring.err" "[0-9]+ of [0-9]+ flows from the ring \\([0-9]+ whole\\)"
"$CG" case verify "$T/case-ring.tar.gz" > /dev/null 2>&1
check "verify with flows" "$?" 0
mkdir "$T/xr" && tar xzf "$T/case-ring.tar.gz" -C "$T/xr"
F="$T/xr/case-ring"
nfl=$(jq '.flows | length' "$F/custody.json")
[ "$nfl" -ge 3 ] || bad "only $nfl flows"
check "every flow held whole" "$(jq -c '[.flows[].ring_held] | unique' "$F/custody.json")" '["all"]'
check "a file per flow" "$(ls "$F/flows" | wc -l)" "$nfl"
jq -r '.flows[] | "\(.file) \(.packets)"' "$F/custody.json" | while read -r f n; do
    check "tcpdump reads $f" "$(tcpdump -r "$F/$f" -n 2> /dev/null | wc -l)" "$n"
done
# each flow's packets are the capture's packets of that flow (5-tuple)
f1=$(jq -r '.flows[0].file' "$F/custody.json")
tup=$(tcpdump -r "$F/$f1" -n 2> /dev/null | head -n 1 | awk '{ print $3, $5 }' | tr -d :)
set -- $tup
sa=${1%.*} sp=${1##*.} da=${2%.*} dp=${2##*.}
want=$(tcpdump -r "$T/t.pcap" -n "host $sa and host $da and port $sp and port $dp" 2> /dev/null | wc -l)
check "a flow is the capture's" "$(tcpdump -r "$F/$f1" -n 2> /dev/null | wc -l)" "$want"
check "the flows are in the manifest" "$(grep -c '  flows/[0-9]*\.pcap$' "$F/MANIFEST.sha256")" "$nfl"
# a byte of a flow flipped
fline=$(grep -n "  $f1\$" "$F/MANIFEST.sha256" | cut -d: -f1)
printf 'X' | dd of="$F/$f1" bs=1 seek=60 conv=notrunc 2> /dev/null
"$CG" case verify "$F" > "$T/tv.out" 2>&1
check "flipped flow: exit" "$?" 1
check_grep "flipped flow: named" "$T/tv.out" "^$F/$f1: SHA-256 does not match MANIFEST.sha256 line $fline$"
"$CG" case export 1 -d "$T/sr" -o "$T/case-ring-red" --pcap-dir "$T/ring" --redact-payload 2> /dev/null
check "redacted flows: no HTTP" "$(cat "$T"/case-ring-red/flows/*.pcap | grep -c 'HTTP/1\.')" 0
[ "$(cat "$F"/flows/*.pcap | grep -c 'HTTP/1\.')" -gt 0 ] || bad "the flows have no HTTP to redact"
# a ring too small for the capture: what it no longer holds is said, per flow
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/sr2" --pcap-dir "$T/ring2" --pcap-max 1 2> /dev/null
cp "$T/s/soc-private.pem" "$T/s/soc-public.pem" "$T/sr2/"
"$CG" case new -d "$T/sr2" "small ring" --query "id > 0" > /dev/null 2>&1
"$CG" case export 1 -d "$T/sr2" -o "$T/case-ring2" --pcap-dir "$T/ring2" 2> /dev/null
check "export from a small ring" "$?" 0
F2="$T/case-ring2"
check "small ring: some flows in part" "$(jq '[.flows[] | select(.ring_held == "part")] | length > 0' "$F2/custody.json")" true
check "small ring: some flows not at all" "$(jq '[.flows[] | select(.ring_held == "none" and .file == null and .packets == 0)] | length > 0' "$F2/custody.json")" true
check "small ring: their packets the ring had and lost" "$(jq '[.flows[] | select(.start == "lost" and .lost_packets > 0)] | length > 0' "$F2/custody.json")" true
check "small ring: a file for each flow it held" "$(ls "$F2/flows" | wc -l)" "$(jq '[.flows[] | select(.packets > 0)] | length' "$F2/custody.json")"
"$CG" case verify "$F2" > /dev/null 2>&1
check "small ring: verify" "$?" 0
run_bad "export: no such ring" "--pcap-dir $T/none: No such file or directory" case export 1 -d "$T/sr" -o "$T/c9" --pcap-dir "$T/none"

# ---- tampering: each named ------------------------------------------------------
# tamper NAME FILE CMD...: a copy of the case with CMD run in it; verify
# exits 1 and prints its lines into $T/tv.out
tamper() {
    name=$1
    shift
    rm -rf "$T/tc" && cp -r "$C" "$T/tc"
    (cd "$T/tc" && eval "$@")
    "$CG" case verify "$T/tc" > "$T/tv.out" 2> "$T/tv.err"
    check "$name: exit" "$?" 1
}
# problems N: the lines of the last verify but the notes and the verdict
problems() { grep -v ': note: \|NOT verified' "$T/tv.out" | wc -l | tr -d ' '; }
# flip FILE OFFSET: one byte of FILE xor 1
flip() { printf "$(printf '\\%03o' $(($(od -An -tu1 -j "$2" -N1 "$1") ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null; }
line_of() { grep -n "  $1\$" "$C/MANIFEST.sha256" | cut -d: -f1; }
for f in case.json custody.json evidence.pcapng incidents.csv rules.rules timeline.html; do
    tamper "flipped $f" flip "$f" 100
    check_grep "flipped $f: named" "$T/tv.out" "^$T/tc/$f: SHA-256 does not match MANIFEST.sha256 line $(line_of "$f")$"
    [ "$f" = custody.json ] || check "flipped $f: one problem" "$(problems)" 1
done
tamper "flipped soc-public.pem" flip soc-public.pem 40
check_grep "flipped soc-public.pem: named" "$T/tv.out" "^$T/tc/soc-public.pem: SHA-256 does not match MANIFEST.sha256 line $(line_of soc-public.pem)$"
# (a hex digit for another: a flipped bit could make a line that does not parse)
tamper "flipped MANIFEST.sha256" "sed -i '1s/^[^0]/0/;t;1s/^0/1/' MANIFEST.sha256"
check_grep "flipped MANIFEST.sha256: the file it lists" "$T/tv.out" "^$T/tc/case.json: SHA-256 does not match MANIFEST.sha256 line 1$"
check_grep "flipped MANIFEST.sha256: the signature" "$T/tv.out" "^$T/tc/MANIFEST.sha256.sig: signature does not verify with soc-public.pem \\(key SHA256:$fp\\)$"
check "flipped MANIFEST.sha256: two problems" "$(problems)" 2
tamper "flipped MANIFEST.sha256.sig" flip MANIFEST.sha256.sig 10
check_grep "flipped signature: named" "$T/tv.out" "^$T/tc/MANIFEST.sha256.sig: signature does not verify with soc-public.pem \\(key SHA256:$fp\\)$"
check "flipped signature: one problem" "$(problems)" 1
tamper "a short signature" truncate -s 63 MANIFEST.sha256.sig
check_grep "a short signature: named" "$T/tv.out" "^$T/tc/MANIFEST.sha256.sig: 63 bytes, not a 64-byte Ed25519 signature$"
tamper "a file removed" rm incidents.csv
check_grep "a file removed: named" "$T/tv.out" "^$T/tc/incidents.csv: missing \\(MANIFEST.sha256 line $(line_of incidents.csv)\\)$"
check "a file removed: one problem" "$(problems)" 1
tamper "a file added" "echo hello > extra.txt"
check_grep "a file added: named" "$T/tv.out" "^$T/tc/extra.txt: not in MANIFEST.sha256$"
check "a file added: one problem" "$(problems)" 1
tamper "a link added" "ln -s /etc/passwd link"
check_grep "a link: named" "$T/tv.out" "^$T/tc/link: a symbolic link, not a file: refused \\(not followed\\)$"
tamper "a manifest line edited" "sed -i 's/  incidents.csv\$/  incidentz.csv/' MANIFEST.sha256"
check_grep "edited line: the file it names" "$T/tv.out" "^$T/tc/incidentz.csv: missing \\(MANIFEST.sha256 line $(line_of incidents.csv)\\)$"
check_grep "edited line: the file it no longer names" "$T/tv.out" "^$T/tc/incidents.csv: not in MANIFEST.sha256$"
check_grep "edited line: the signature" "$T/tv.out" "^$T/tc/MANIFEST.sha256.sig: signature does not verify"
tamper "a malformed manifest line" "sed -i '2s/^/x/' MANIFEST.sha256"
check_grep "malformed line: named" "$T/tv.out" "^$T/tc/MANIFEST.sha256: line 2: not HEX64, two spaces"
"$CG" keys init -d "$T/other" > /dev/null
rm -rf "$T/tc" && cp -r "$C" "$T/tc"
"$CG" case verify "$T/tc" --key "$T/other/soc-public.pem" > "$T/tv.out" 2>&1
check "a wrong public key: exit" "$?" 1
ofp=$(openssl pkey -pubin -in "$T/other/soc-public.pem" -outform DER | tail -c 32 | sha256sum | cut -c1-64)
check_grep "a wrong public key: the signature" "$T/tv.out" "^$T/tc/MANIFEST.sha256.sig: signature does not verify with $T/other/soc-public.pem \\(key SHA256:$ofp\\)$"
check_grep "a wrong public key: the checkpoint" "$T/tv.out" "^$T/tc/custody.json: the checkpoint is not signed by $T/other/soc-public.pem"
check_grep "a wrong public key: the case's own is another" "$T/tv.out" "^$T/tc/soc-public.pem: not the key given with --key \\(its fingerprint is $fp\\)$"

# an insider with the SOC's key: custody.json changed, the manifest redone
# and signed again; what the checks below the signature still catch
resign() {
    sha256sum case.json custody.json evidence.pcapng incidents.csv rules.rules soc-public.pem timeline.html > MANIFEST.sha256
    openssl pkeyutl -sign -inkey "$T/s/soc-private.pem" -rawin -in MANIFEST.sha256 -out MANIFEST.sha256.sig
}
# custody EXPR: custody.json through jq EXPR
custody() { jq -c "$@" custody.json > c.tmp && mv c.tmp custody.json; }
tamper "a checkpoint with a bad signature" 'custody --arg c "$(jq -r .checkpoint custody.json | sed "5s/ \(....\)/ AAAA/")" ".checkpoint = \$c + \"\\n\""; resign'
check_grep "bad checkpoint signature: named" "$T/tv.out" "^$T/tc/custody.json: the checkpoint's signature does not verify with soc-public.pem \\(key SHA256:$fp\\): it was changed after it was signed$|^$T/tc/custody.json: the checkpoint is not signed by soc-public.pem"
check "bad checkpoint signature: one problem" "$(problems)" 1
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/t.pcap" -d "$T/s2" 2> /dev/null
"$CG" store checkpoint -d "$T/s2" --key "$T/s/soc-private.pem" -o "$T/cp-other.txt" 2> /dev/null
tamper "a checkpoint of another store" 'custody --rawfile c "$T/cp-other.txt" ".checkpoint = \$c"; resign'
check_grep "another store: named" "$T/tv.out" "^$T/tc/custody.json: the checkpoint is of another store \\(canhgac\\.store/[0-9a-f]{32}; the case's store is canhgac\\.store/[0-9a-f]{32}\\)$"
tamper "a proof changed" 'custody ".incidents[2].path[0] = \"$(printf %064d 0)\""; resign'
check_grep "a proof changed: named" "$T/tv.out" "^$T/tc/custody.json: incident 3: the inclusion proof does not verify against the checkpoint \\(leaf [0-9]+ of [0-9]+\\)$"
check "a proof changed: one problem" "$(problems)" 1
tamper "a leaf of another incident" 'custody ".incidents[1].leaf_data = .incidents[0].leaf_data | .incidents[1].leaf_hash = .incidents[0].leaf_hash"; resign'
check_grep "another incident's leaf: named" "$T/tv.out" "^$T/tc/custody.json: incident 2: its leaf is incident 1's$"
tamper "a proof removed" 'custody "del(.incidents[4])"; resign'
check_grep "a proof removed: named" "$T/tv.out" "^$T/tc/case.json: incident 5 has no inclusion proof in custody.json$"

# archives with a member out of the case, and a link
python3 - "$T" << 'EOF'
import io, sys, tarfile
t = sys.argv[1]
with tarfile.open(t + "/evil.tar.gz", "w:gz") as z:
    z.add(t + "/case-1", arcname="case-1")
    d = b"owned\n"
    i = tarfile.TarInfo("case-1/../../evil.txt"); i.size = len(d); z.addfile(i, io.BytesIO(d))
    i = tarfile.TarInfo("/etc/evil"); i.size = len(d); z.addfile(i, io.BytesIO(d))
    i = tarfile.TarInfo("case-1/link"); i.type = tarfile.SYMTYPE; i.linkname = "/etc/passwd"; z.addfile(i)
EOF
"$CG" case verify "$T/evil.tar.gz" > "$T/tv.out" 2>&1
check "an evil archive: exit" "$?" 1
check_grep "evil archive: '..'" "$T/tv.out" "^$T/evil.tar.gz: member case-1/\\.\\./\\.\\./evil\\.txt: a '\\.\\.' in its name: refused$"
check_grep "evil archive: absolute" "$T/tv.out" "^$T/evil.tar.gz: member /etc/evil: an absolute name: refused$"
check_grep "evil archive: a link" "$T/tv.out" "^$T/evil.tar.gz: member case-1/link: a link, not a file: refused$"
check "evil archive: nothing written" "$(ls "$T" | grep -c evil)" 1

# ---- bad input ------------------------------------------------------------------
run_bad "unknown case" "^canhgac case export: case 99: not found$" case export 99 -d "$T/s" -o "$T/c99"
run_bad "unknown incident" "no incident 99999" case new -d "$T/s" "none" 99999
"$CG" case new -d "$T/s" "empty" > "$T/new.out" 2>&1
eid=$(sed -n 's/^case \([0-9]*\): created.*/\1/p' "$T/new.out")
run_bad "an empty case" "^canhgac case export: case $eid has no incidents: nothing to export$" case export "$eid" -d "$T/s" -o "$T/c-empty"
run_bad "no key" "$T/none.pem: No such file or directory" case export 1 -d "$T/s" -o "$T/c9" --key "$T/none.pem"
run_bad "a key that is not a file" "$T/s: not a regular file" case export 1 -d "$T/s" -o "$T/c9" --key "$T/s"
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
    # a key its reader may not read (root reads every file: the test runs as nobody)
    cp "$T/s/soc-private.pem" "$T/root.pem" && chmod 0600 "$T/root.pem" && chmod 0755 "$T"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$CG" case export 1 -d "$T/s" -o "$T/c9" \
        --key "$T/root.pem" > /dev/null 2> "$T/bad.err"
    check "an unreadable key: exit" "$?" 2
    check_grep "an unreadable key: named" "$T/bad.err" "^canhgac case export: $T/root.pem: Permission denied$"
    chmod 0700 "$T"
else
    echo "case: the unreadable key is not tested (needs root and setpriv)"
fi
cp "$T/s/soc-private.pem" "$T/open.pem" && chmod 0644 "$T/open.pem"
run_bad "a world-readable key" "readable by others \\(mode 0644\\): chmod 600" case export 1 -d "$T/s" -o "$T/c9" --key "$T/open.pem"
sed 's/^M/N/' "$T/s/soc-private.pem" > "$T/bad.pem" && chmod 0600 "$T/bad.pem"
run_bad "a damaged key" "$T/bad.pem: a damaged" case export 1 -d "$T/s" -o "$T/c9" --key "$T/bad.pem"
cp "$T/s/soc-public.pem" "$T/pub.pem" && chmod 0600 "$T/pub.pem"
run_bad "a public key to sign with" "holds a public key, not a private key" case export 1 -d "$T/s" -o "$T/c9" --key "$T/pub.pem"
check "bad input: nothing left" "$(ls "$T" | grep -c '^c9\|^c99\|^c-empty\|partial')" 0
run_bad "the directory exists" "$T/case-1: exists already \\(--force replaces it\\)" case export 1 -d "$T/s" -o "$T/case-1"
run_bad "the archive exists" "$T/case-1.tar.gz: exists already \\(--force replaces it\\)" case export 1 -d "$T/s" -o "$T/case-1.tar.gz"
"$CG" case export 1 -d "$T/s" -o "$T/case-1.tar.gz" --force 2> /dev/null
check "--force over an archive" "$?" 0
"$CG" case export 1 -d "$T/s" -o "$T/case-1" --force 2> /dev/null
check "--force over a directory" "$?" 0
"$CG" case verify "$T/case-1" > /dev/null 2>&1 && "$CG" case verify "$T/case-1.tar.gz" > /dev/null 2>&1
check "what --force wrote verifies" "$?" 0
run_bad "verify: no such case file" "$T/none: No such file or directory" case verify "$T/none"
run_bad "verify: a missing key" "$T/none.pem: No such file or directory" case verify "$T/case-1" --key "$T/none.pem"
echo "not an archive" > "$T/junk.tar.gz"
run_bad "verify: not an archive" "$T/junk.tar.gz: " case verify "$T/junk.tar.gz"

# ---- a full disk ----------------------------------------------------------------
SIZES="16k 48k" DELAYS="0.01 0.04 0.1 0.3"
[ -n "$E2E_QUICK" ] && SIZES="16k" DELAYS="0.02 0.1"
if [ -n "$CASE_NS" ]; then
    M="$T/mnt"
    mkdir -p "$M"
    for out in case-f case-f.tar.gz; do
        full=0
        for size in $SIZES; do
            umount "$M" 2> /dev/null
            mount -t tmpfs -o size=$size tmpfs "$M" || { bad "cannot mount a tmpfs"; break; }
            "$CG" case export 1 -d "$T/s" -o "$M/$out" > /dev/null 2> "$T/full.err"
            rc=$?
            if [ "$rc" = 0 ]; then
                "$CG" case verify "$M/$out" > /dev/null 2>&1
                check "full disk ($out, $size): what fitted verifies" "$?" 0
                continue
            fi
            full=$((full + 1))
            check "full disk ($out, $size): exit" "$rc" 1
            check "full disk ($out, $size): one line" "$(lines "$T/full.err")" 1
            check_grep "full disk ($out, $size): says so" "$T/full.err" "^canhgac case export: $M/.*: No space left on device$"
            check "full disk ($out, $size): nothing left" "$(ls -A "$M" | wc -l)" 0
        done
        [ "$full" -gt 0 ] || bad "full disk ($out): no export met a full disk"
    done
    umount "$M"
else
    echo "case: the full disk is not tested (needs root and unshare -m)"
fi

# ---- killed exports ------------------------------------------------------------
# every incident in one case, exported and killed at various moments: the
# output is absent, or whole
"$CG" case new -d "$T/s" "all" --query "id > 0" > "$T/new.out" 2>&1
aid=$(sed -n 's/^case \([0-9]*\): created.*/\1/p' "$T/new.out")
killed=0
for d in $DELAYS; do
    rm -rf "$T/k.tar.gz" "$T/k"
    "$CG" case export "$aid" -d "$T/s" -o "$T/k.tar.gz" 2> /dev/null &
    p1=$!
    "$CG" case export "$aid" -d "$T/s" -o "$T/k" 2> /dev/null &
    p2=$!
    sleep "$d"
    kill -9 $p1 $p2 2> /dev/null
    wait $p1 2> /dev/null
    wait $p2 2> /dev/null
    for o in k.tar.gz k; do
        if [ -e "$T/$o" ]; then
            "$CG" case verify "$T/$o" > /dev/null 2>&1
            check "killed after ${d}s: $o is whole" "$?" 0
        else
            killed=$((killed + 1))
        fi
    done
done
rm -rf "$T"/k.partial-* "$T"/k.tar.gz.partial-*
# SIGTERM: the export stops and removes what it made
for d in $DELAYS; do
    rm -rf "$T/k.tar.gz"
    "$CG" case export "$aid" -d "$T/s" -o "$T/k.tar.gz" 2> "$T/term.err" &
    p1=$!
    sleep "$d"
    kill -TERM $p1 2> /dev/null
    { wait $p1; } 2> /dev/null
    rc=$?
    if [ -e "$T/k.tar.gz" ]; then
        "$CG" case verify "$T/k.tar.gz" > /dev/null 2>&1
        check "SIGTERM after ${d}s: whole" "$?" 0
    elif [ "$rc" = 1 ]; then
        check_grep "SIGTERM after ${d}s: says so" "$T/term.err" "interrupted \\(SIGTERM\\): nothing exported$"
    fi
    check "SIGTERM after ${d}s: nothing partial left" "$(ls "$T" | grep -c partial)" 0
done
echo "case: $killed of $(($(echo $DELAYS | wc -w) * 2)) exports killed before they were in place; $(($(date +%s) - t0)) s"
e2e_done case
