#!/bin/sh
# e2e_layers.sh — the layer policy end to end, over the generated sample
# traffic (gen_traffic, one round) and the shipped rules:
#  - policy check: the shipped rules/layers.conf is clean; bad files give one
#    line per error with FILE:LINE and exit 2 (an unknown field, a bad
#    duration, an unreachable layer), a clause that can never match is a
#    warning (exit 0);
#  - run --policy: every incident's layers are those a hand-written table
#    expects (its rule's metadata and its clause's layers at once), each
#    escalation is in its history naming the clause (layers.conf:N);
#  - escalate with a fake clock (--now): nothing before a step's time, the
#    reminders once, the climbs after an hour and two, none for the
#    incidents acknowledged; query 'layer >= 3 and status = new' counts what
#    an independent reckoning says;
#  - run's own time pass (--escalate-every 1) over a capture read from a
#    FIFO held open for two seconds;
#  - bad input of run and escalate: a policy with an error, --no-store, a
#    bad --now; the schema 5 store (tests/data/store-v5) migrated by
#    escalate.
#
# Usage: tests/e2e_layers.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=layers
. tests/e2e_lib.sh

"$B/gen_traffic" -o "$T/sample.pcap" -t "$T/truth.tsv" 2> /dev/null || bad "gen_traffic failed"

# ---- policy check ------------------------------------------------------------
"$CG" policy check rules/layers.conf > "$T/pc.out" 2>&1
check "shipped policy: exit" "$?" 0
check "shipped policy: clean" "$(head -n 1 "$T/pc.out")" "rules/layers.conf: 9 clauses, 0 warnings"
check "shipped policy: high's target" "$(grep 'target high' "$T/pc.out")" "  target high: acknowledge 15m, resolve 4h (line 36)"
check "shipped policy: identity" "$(grep 'identity' "$T/pc.out")" "  identity: Công an tỉnh Tuyên Quang"
check "shipped policy: share" "$(tail -n 1 "$T/pc.out")" "  share: tlp amber; allows nothing internal"
printf 'target high acknowledge 15m\nshare tlp orange\nwhen any: layers 1\n' > "$T/bad2.conf"
"$CG" policy check "$T/bad2.conf" > "$T/pb2.out" 2>&1
check "bad directive: exit" "$?" 2
check "bad directive: the line" "$(cat "$T/pb2.out")" "$T/bad2.conf:2: share tlp: unknown TLP 'orange' (clear, green, amber, amber+strict, red)"

cat > "$T/bad.conf" << 'EOF'
# a policy with an error on each of three lines
when sevrity = high: layers 1 2
when severity = high: layers 1 2; after 15x layer 3
when severity = medium: layers 1 5
when any: layers 1
EOF
"$CG" policy check "$T/bad.conf" > "$T/pb.out" 2> "$T/pb.err"
check "bad policy: exit" "$?" 2
check "bad policy: one line per error" "$(lines "$T/pb.out")" 3
check_grep "unknown field" "$T/pb.out" "^$T/bad.conf:2: unknown field 'sevrity' \(fields: severity, "
check_grep "bad duration" "$T/pb.out" "^$T/bad.conf:3: after: '15x' is not a duration"
check_grep "unreachable layer" "$T/pb.out" "^$T/bad.conf:4: layers: no layer '5': the layers are 1 to 4$"
check "bad policy: the count" "$(cat "$T/pb.err")" "canhgac policy check: $T/bad.conf: 3 errors"

cat > "$T/warn.conf" << 'EOF'
when severity = high and severity = low: layers 1 2
when any: layers 1
when count >= 1000: layers 2
EOF
"$CG" policy check "$T/warn.conf" > "$T/pw.out" 2>&1
check "never matching: exit 0" "$?" 0
check "never matching: the lines" "$(grep -v "^  " "$T/pw.out")" "$T/warn.conf:1: warning: this clause never matches: its conditions on severity contradict each other
$T/warn.conf:3: warning: this clause never matches: the clause at line 2 takes every incident it would (the first clause that matches decides)
$T/warn.conf: 3 clauses, 2 warnings"
run_bad "policy check: no file" "a FILE is needed" policy check
"$CG" policy check "$T/none.conf" > "$T/pn.out" 2>&1
check "policy check: unreadable: exit" "$?" 2
check "policy check: unreadable: the line" "$(cat "$T/pn.out")" "$T/none.conf: cannot open: No such file or directory"

# ---- run --policy: the layers at once ------------------------------------------
# The test's own policy (its line numbers are named below): what each clause
# adds to the layers of the rule's metadata.
cat > "$T/layers.conf" << 'EOF'
# the e2e's policy
when sid in [9100120, 9100121]: layers 4
when classtype = sdf and dst.zone = DMZ: layers 3 4
when severity = high and dst.agency = "Công an tỉnh": layers 2 3
when severity = high: layers 1 2; after 15m remind; after 1h layer 3
when severity = medium and count >= 5: layers 2; after 2h layer 3
when gid = 122: layers 2
when any: layers 1
EOF
"$CG" run -q -r "$T/sample.pcap" -S rules -d "$T/s" -w 2 --policy "$T/layers.conf" 2> "$T/run.err"
check "run --policy: exit" "$?" 0
check "run --policy: quiet" "$(cat "$T/run.err")" ""
# id, gid, sid, destination, severity, count, classtype, its agency and
# zone, its layers ("1 2 3"): one line per incident, tab-separated
table_of() {
    "$CG" query -d "$1" --json --limit 0 'id > 0' > "$T/q.json"
    "$H" fields "$T/q.json" incident_id gid signature_id dest_ip severity_name count classtype \
        dest_geo.agency dest_geo.zone layers |
        awk -F'\t' -v OFS='\t' '{ gsub(/[^0-9]/, "", $10); l = ""
                                  for (i = 1; i <= length($10); i++) l = l (i > 1 ? " " : "") substr($10, i, 1)
                                  $10 = l; print }' | sort -n
}
table_of "$T/s" > "$T/all.tsv"
# gid:sid@dest_ip layers, one line per incident, sorted
awk -F'\t' '{ print $2 ":" $3 "@" $4 " " $10 }' "$T/all.tsv" | sort > "$T/got"
check "run --policy: 103 incidents" "$(lines "$T/got")" 103
# What the table expects: by signature, with the destination where one
# signature's incidents differ (9100114 against the police's portal takes
# clause 4). 1 2 from the rules' metadata of most; 3 and 4 where the
# metadata or the clause gives them.
cat > "$T/table" << 'EOF'
122:1 1 2
122:3 1 2
122:100 1 2
9100:201 1 2
9100:202 1 2
9100:203 1 2
1:9100101 1 2
1:9100102 1 2
1:9100103 1 2
1:9100104 1 2
1:9100105 1 2
1:9100106 1 2 3
1:9100107 1 2 3
1:9100108 1 2
1:9100109 1 2
1:9100110 1 2
1:9100111 1 2 3
1:9100112 1 2 3
1:9100113 1 2 3
1:9100114 1 2
1:9100114@10.20.1.13 1 2 3
1:9100115 1 2 3 4
1:9100116 1 2 3 4
1:9100117 1 2 3 4
1:9100118 1 2 3
1:9100119 1 2 3 4
1:9100120 1 2 3 4
1:9100121 1 2 3 4
1:9100122 1 2
1:9100123 1 2 3
1:9100124 1 2 3
1:9100125 1 2
1:9100201 1 2 3
1:9100202 1 2 3
1:9100203 1 2
1:9100204 1 2
1:9100205 1 2 3
1:9100206 1 2
1:9100207 1 2
1:9100208 1 2
1:9100209 1 2 3
1:9100301 1 2 3
1:9100302 1 2
1:9100303 1 2 3
1:9100304 1 2 3
1:9100305 1 2 3
1:9100306 1 2
1:9100307 1 2
1:9100401 1 2 3
1:9100402 1 2 3 4
1:9100403 1 2 3 4
1:9100404 1 2
1:9100405 1 2 3
1:9100406 1 2 3
1:9100407 1 2
1:9100408 1 2 3
1:9100501 1 2 3 4
1:9100502 1 2 3
1:9100503 1 2 3
1:9100504 1 2 3
1:9100505 1 2 3 4
1:9100506 1 2 3 4
1:9100507 1 2 3 4
1:9100508 1 2 3 4
1:9100509 1 2 3
1:9100510 1 2 3
1:9100511 1 2 3
1:9100512 1 2 3
1:9100513 1 2 3
EOF
# each incident against its line of the table (signature@destination first)
awk 'NR == FNR { k = $1; $1 = ""; want[k] = substr($0, 2); next }
     { split($1, a, "@"); got = $0; sub(/^[^ ]* /, "", got)
       w = ($1 in want) ? want[$1] : (a[1] in want) ? want[a[1]] : "(not in the table)"
       if (got != w) print $1 ": got " got ", the table says " w }' "$T/table" "$T/got" > "$T/diff"
check "run --policy: every incident's layers as the table says" "$(cat "$T/diff")" ""
check "run --policy: layer 4" "$("$CG" query -d "$T/s" --count 'layer = 4')" 21
check "run --policy: layer >= 2 and status = new" "$("$CG" query -d "$T/s" --count 'layer >= 2 and status = new')" 103

# the history names the clause: a citizen's phone number posted to a DMZ
# portal took clause 3, a police portal's traversal clause 4; a port scan
# (clause 7) had its layers from its rule already
id_of() { awk -F'\t' -v k="$1" '$2 ":" $3 "@" $4 == k { print $1; exit }' "$T/all.tsv"; }
sdf=$(id_of 1:9100506@10.20.1.11)
"$CG" incident show -d "$T/s" "$sdf" > "$T/show.out"
check_grep "history: the clause" "$T/show.out" "^  2025-11-24T08:0[0-9]:[0-9.]+\+0000  policy +layers: 1 2 -> 1 2 3 4 \(layers.conf:3\)$"
police=$(id_of 1:9100114@10.20.1.13)
"$CG" incident show -d "$T/s" --json "$police" > "$T/show.json"
check_grep "history --json: why" "$T/show.json" '"field":"layers","old":"1 2","new":"1 2 3","why":"layers.conf:4"'
scan=$(id_of 122:1@10.20.1.10)
"$CG" incident show -d "$T/s" "$scan" > "$T/scan.out"
check "a rule's metadata already had it: no entry" "$(grep -c 'policy ' "$T/scan.out")" 0

# ---- escalate: the time pass with a fake clock -----------------------------------
# Independent reckoning: the incidents of clause 5 (high, not clauses 2-4)
# and of clause 6 (medium, count >= 5), and which of them lack layer 3.
awk -F'\t' '{ sid = $3; c = 8
              if (sid == 9100120 || sid == 9100121) c = 2
              else if ($7 == "sdf" && $9 == "DMZ") c = 3
              else if ($5 == "high" && $8 == "Công an tỉnh") c = 4
              else if ($5 == "high") c = 5
              else if ($5 == "medium" && $6 >= 5) c = 6
              else if ($2 == 122) c = 7
              print $1, c, ($10 ~ /3/) ? "has3" : "no3" }' "$T/all.tsv" | sort -n > "$T/clauses"
ack5=$(awk '$2 == 5 && $3 == "no3" { print $1; exit }' "$T/clauses")
ack6=$(awk '$2 == 6 && $3 == "no3" { print $1; exit }' "$T/clauses")
n5=$(awk '$2 == 5' "$T/clauses" | wc -l | tr -d ' ')
climb5=$(awk -v a="$ack5" '$2 == 5 && $3 == "no3" && $1 != a' "$T/clauses" | wc -l | tr -d ' ')
climb6=$(awk -v a="$ack6" '$2 == 6 && $3 == "no3" && $1 != a' "$T/clauses" | wc -l | tr -d ' ')
check "the reckoning found clause 5 and 6 incidents" "$([ "$n5" -gt 5 ] && [ "$climb5" -gt 0 ] && [ "$climb6" -gt 0 ] && echo yes)" yes

"$CG" escalate -d "$T/s" -p "$T/layers.conf" --now 2025-11-24T08:10:00 > "$T/e1.out"
check "08:10: nothing due" "$(cat "$T/e1.out")" "103 new incidents: 0 escalated, 0 reminders (0 history entries)"
"$CG" incident set -d "$T/s" --as an "$ack5" status=ack > /dev/null
"$CG" incident set -d "$T/s" --as an "$ack6" status=ack > /dev/null
"$CG" escalate -d "$T/s" -p "$T/layers.conf" --now 2025-11-24T08:30:00 > "$T/e2.out"
check "08:30: the reminders of clause 5 (one acknowledged)" "$(cat "$T/e2.out")" "101 new incidents: 0 escalated, $((n5 - 1)) reminders ($((n5 - 1)) history entries)"
"$CG" escalate -d "$T/s" -p "$T/layers.conf" --now 2025-11-24T08:31:00 > "$T/e3.out"
check "08:31: a reminder is written once" "$(cat "$T/e3.out")" "101 new incidents: 0 escalated, 0 reminders (0 history entries)"
check "before an hour: layer >= 3 and status = new" "$("$CG" query -d "$T/s" --count 'layer >= 3 and status = new')" \
    "$(awk -v a="$ack5" -v b="$ack6" '$3 == "has3" && $1 != a && $1 != b' "$T/clauses" | wc -l | tr -d ' ')"
"$CG" escalate -d "$T/s" -p "$T/layers.conf" --now 2025-11-24T09:30:00 --json > "$T/e4.out"
check "09:30: clause 5 climbs to layer 3" "$(cat "$T/e4.out")" "{\"open\":101,\"escalated\":$climb5,\"reminders\":0,\"entries\":$climb5}"
"$CG" escalate -d "$T/s" -p "$T/layers.conf" --now 2025-11-24T12:00:00 > "$T/e5.out"
check "12:00: clause 6 climbs to layer 3" "$(cat "$T/e5.out")" "101 new incidents: $climb6 escalated, 0 reminders ($climb6 history entries)"
check "after: layer >= 3 and status = new" "$("$CG" query -d "$T/s" --count 'layer >= 3 and status = new')" \
    "$(awk -v a="$ack5" -v b="$ack6" '($3 == "has3" || $2 == 5 || $2 == 6) && $1 != a && $1 != b' "$T/clauses" | wc -l | tr -d ' ')"
check "acknowledged: its clock stopped" "$("$CG" query -d "$T/s" --count "id = $ack5 and layer = 3")" 0
climbed=$(awk -v a="$ack5" '$2 == 5 && $3 == "no3" && $1 != a { print $1; exit }' "$T/clauses")
"$CG" incident show -d "$T/s" "$climbed" > "$T/climbed.out"
check_grep "history: the reminder" "$T/climbed.out" "^  2025-11-24T08:30:00.000000\+0000  policy +layers: 1 2 -> 1 2 \(layers.conf:5: after 15m, remind\)$"
check_grep "history: the climb" "$T/climbed.out" "^  2025-11-24T09:30:00.000000\+0000  policy +layers: 1 2 -> 1 2 3 \(layers.conf:5: after 1h\)$"
"$CG" store verify -d "$T/s" > "$T/verify.out" 2>&1
check "store verify after the passes" "$?" 0

# ---- run's own time pass -----------------------------------------------------
# The capture comes through a FIFO held open 2.5 s: the pass every second
# runs with the wall clock, so every step of the 2025 incidents is due.
# Meanwhile `escalate` works beside it, as triage (run holds the writer).
mkfifo "$T/fifo"
"$CG" run -r "$T/fifo" -S rules -d "$T/live" -w 1 --policy "$T/layers.conf" --escalate-every 1 2> "$T/live.err" &
pid=$!
(cat "$T/sample.pcap"; sleep 2.5) > "$T/fifo" &
feeder=$!
sleep 1
"$CG" escalate -d "$T/live" -p "$T/layers.conf" --now 2025-11-24T08:10:00 > "$T/beside.out" 2>&1
check "escalate beside a running sensor" "$?" 0
check_grep "escalate beside a running sensor: its line" "$T/beside.out" "^[0-9]+ new incidents: 0 escalated, 0 reminders \(0 history entries\)$"
wait $feeder
wait $pid
check "run's pass: exit" "$?" 0
check_grep "run's pass: the summary" "$T/live.err" "^  layers     [0-9]+ escalations, $n5 reminders by the policy \([1-9][0-9]* time passes\)$"
check "run's pass: layer >= 3 and status = new" "$("$CG" query -d "$T/live" --count 'layer >= 3 and status = new')" \
    "$(awk '$3 == "has3" || $2 == 5 || $2 == 6' "$T/clauses" | wc -l | tr -d ' ')"

# ---- bad input ---------------------------------------------------------------
"$CG" run -q -r "$T/sample.pcap" -S rules -d "$T/r2" --policy "$T/bad.conf" > /dev/null 2> "$T/rb.err"
check "run with a bad policy: exit" "$?" 2
check "run with a bad policy: one line per error" "$(lines "$T/rb.err")" 3
check_grep "run with a bad policy: the line" "$T/rb.err" "^canhgac run: $T/bad.conf:2: unknown field 'sevrity'"
check "run with a bad policy: no store made" "$([ -e "$T/r2" ] && echo made || echo none)" none
run_bad "run --policy --no-store" "not with --no-store" run -q -r "$T/sample.pcap" -S rules --no-store --policy "$T/layers.conf"
run_bad "escalate: bad --now" "--now: not a time: yesterday" escalate -d "$T/s" -p "$T/layers.conf" --now yesterday
run_bad "escalate: no store" "no canhgac store here" escalate -d "$T/none" -p "$T/layers.conf"
"$CG" escalate -d "$T/s" -p "$T/bad.conf" > /dev/null 2> "$T/eb.err"
check "escalate with a bad policy: exit" "$?" 2
check_grep "escalate with a bad policy: the line" "$T/eb.err" "^canhgac escalate: $T/bad.conf:4: layers: no layer '5'"

# ---- a schema 5 store --------------------------------------------------------
mkdir -p "$T/v5" && cp tests/data/store-v5/data.mdb "$T/v5/"
"$CG" escalate -d "$T/v5" -p rules/layers.conf --now 2017-04-06T00:00:00 > "$T/v5.out" 2> "$T/v5.err"
check "schema 5: exit" "$?" 0
check "schema 5: the notice" "$(cat "$T/v5.err")" "canhgac escalate: notice: $T/v5: migrated from schema 5 to 8 (escalations in history, the outbox and the accounts added)"
# 1, 3 and 6 are high (the shipped clause "severity = high"): reminded, and
# 1 and 3 climb to layer 3 (6 had it from its rule); 2 is investigating; 4
# (low) and 5 (medium, layer 3 from its rule) are owed nothing
check "schema 5: the pass" "$(cat "$T/v5.out")" "5 new incidents: 2 escalated, 3 reminders (5 history entries)"
check "schema 5: the layers after" "$("$CG" query -d "$T/v5" --count 'layer = 3')" 4
"$CG" store verify -d "$T/v5" > /dev/null 2>&1
check "schema 5: verified after" "$?" 0

e2e_done layers
