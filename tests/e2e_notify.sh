#!/bin/sh
# e2e_notify.sh — notification of escalations through the store's outbox,
# over the generated sample traffic (gen_traffic) and the shipped rules and
# policy (rules/layers.conf):
#  - run --policy --notify file:: one JSON line (json-c parses it) per
#    escalation, exactly the escalation entries of the incidents' histories
#    (incident show --json), unique ids, the summary's notify line, the
#    EVE stats line's notify counters, the outbox empty after;
#  - a hanging exec target (sleep, --notify-timeout 1): the run ends in
#    bounded time with the same incidents and layers as a run without
#    notify, its attempts counted (summary = the outbox's record), every
#    notification pending, no process of it left;
#  - a target exiting 1 (escalate --notify): retried, pending, its error in
#    `canhgac outbox`; once it accepts, all are delivered (at least once:
#    the failed tries are in its log too) and nothing is pending;
#  - kill -9: an exec target that appends its stdin and kills canhgac
#    before it marks the notification sent; escalate again: the same
#    notification id is delivered again, every one is delivered, nothing
#    is lost or pending;
#  - a file target that cannot be written: failed, pending, the error;
#  - syslog: every notification handed to syslog(3), none pending;
#  - the schema 6 store (tests/data/store-v6) migrated, with its notice;
#  - live: a capture through a FIFO held open, the time pass every second
#    and the notify thread beside the writer: every escalation and
#    reminder notified once;
#  - bad input: bad --notify specs, --notify-timeout, --no-store, outbox
#    --drain without targets: exit 2 with one line.
#
# E2E_QUICK=1 (the sanitizer pass): the file target's notifications are
# not compared with every incident's history (their count and ids are).
# E2E_NOTIFY_QUICK=1 (make test-tsan): the runs with the notify thread
# only (the file target, the hanging target, live).
#
# Usage: tests/e2e_notify.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=notify
. tests/e2e_lib.sh

"$B/gen_traffic" -o "$T/sample.pcap" -t "$T/truth.tsv" 2> /dev/null || bad "gen_traffic failed"
POL=rules/layers.conf

# the incidents as a table: id sid dest layers status
table_of() {
    "$CG" query -d "$1" --json --limit 0 'id > 0' > "$T/q.json"
    "$H" fields "$T/q.json" incident_id signature_id dest_ip layers count | sort -n
}
# every escalation entry of a store's histories: "id seq when old new why";
# of the incidents named after the store, or of all
hist_of() {
    d=$1; shift
    if [ $# -eq 0 ]; then
        "$CG" query -d "$d" --json --limit 0 'id > 0' > "$T/hq.json"
        set -- $("$H" fields "$T/hq.json" incident_id)
    fi
    for id in "$@"; do "$CG" incident show -d "$d" --json "$id"; done |
        jq -r '.incident.incident_id as $i | .history[] | select(.field == "layers")
               | "\($i) \(.seq) \(.when) \(.old) \(.new) \(.why)"' | sort -n -k1,1 -k2,2
}
# the same of a file of notifications
notes_of() {
    jq -r '"\(.incident_id) \(.history_seq) \(.timestamp) \(.layers_before | map(tostring) | join(" "))'` \
          `' \(.layers_after | map(tostring) | join(" ")) \(.cause)"' "$1" | sort -n -k1,1 -k2,2
}

# ---- run --notify file: ---------------------------------------------------------
"$CG" run -r "$T/sample.pcap" -S rules -d "$T/s0" --policy $POL 2> "$T/run0.err"
check "without notify: exit" "$?" 0
table_of "$T/s0" > "$T/t0"
"$CG" run -r "$T/sample.pcap" -S rules -d "$T/s1" --policy $POL --notify "file:$T/n1.jsonl" \
    -o "$T/eve1.json" --stats 60 2> "$T/run1.err"
check "file: exit" "$?" 0
check_grep "file: the policy's escalations" "$T/run1.err" "^  layers     28 escalations, 0 reminders"
check_grep "file: the summary" "$T/run1.err" "^  notify     28 sent, 0 pending, 0 failed attempts$"
check "file: one line each" "$(lines "$T/n1.jsonl")" 28
"$H" json "$T/n1.jsonl" > /dev/null 2>&1
check "file: JSON (json-c)" "$?" 0
# (the run's last stats line comes before the notify thread's last pass)
check "file: the EVE stats line's counters" \
    "$(jq -c 'select(.event_type == "stats") | .canhgac.notify | keys' "$T/eve1.json")" \
    '["failed_attempts","pending","sent"]'
table_of "$T/s1" > "$T/t1"
check "file: the same incidents as without" "$(cmp -s "$T/t0" "$T/t1" && echo same)" same
# (E2E_QUICK: the sanitizer pass leaves out this walk of every history)
if [ -z "$E2E_QUICK" ]; then
    hist_of "$T/s1" > "$T/h1"
    notes_of "$T/n1.jsonl" > "$T/got1"
    check "file: 28 escalation entries in the histories" "$(lines "$T/h1")" 28
    check "file: the notifications are the history's escalations" \
        "$(cmp -s "$T/h1" "$T/got1" && echo same || diff "$T/h1" "$T/got1" | head -5)" same
fi
check "file: ids unique" "$(jq -r .notification_id "$T/n1.jsonl" | sort -u | wc -l | tr -d ' ')" 28
check "file: id = ORIGIN-INCIDENT-SEQ" \
    "$(jq -r '. as $n | select($n.notification_id | test("^[0-9a-f]{32}-\($n.incident_id)-\($n.history_seq)$") | not)' "$T/n1.jsonl")" ""
# one notification as a page reads it: incident 6 (sid 9100102 against the DMZ)
jq -c 'select(.incident_id == 6) | [.kind, .layers_before, .layers_after, .cause, .severity_name,
       .signature_id, .src_ip, .dest_ip, .dest_port, .dest_zone, .incident.count]' "$T/n1.jsonl" > "$T/n6"
# the shipped clause for the DMZ, wherever the file has it
dmz=$(grep -n '^when severity = high and dst.zone = DMZ:' rules/layers.conf | cut -d: -f1)
check "file: incident 6's page" "$(cat "$T/n6")" \
    '["escalation",[1,2],[1,2,3],"layers.conf:'"$dmz"'","high",9100102,"42.118.228.2","10.20.1.11",80,"DMZ",4]'
"$CG" outbox -d "$T/s1" > "$T/ob1" 2>&1
check "file: nothing pending" "$(cat "$T/ob1")" "nothing pending"

# ---- a hanging exec target ------------------------------------------------------------
start=$(date +%s)
"$CG" run -r "$T/sample.pcap" -S rules -d "$T/s2" --policy $POL --notify 'exec:sleep 1037' \
    --notify-timeout 1 2> "$T/run2.err"
check "hang: exit" "$?" 0
took=$(($(date +%s) - start))
check "hang: bounded (under 15 s)" "$([ "$took" -lt 15 ] && echo yes || echo "no: $took s")" yes
table_of "$T/s2" > "$T/t2"
check "hang: the same incidents and layers as without" "$(cmp -s "$T/t0" "$T/t2" && echo same)" same
"$CG" outbox -d "$T/s2" --json > "$T/ob2.json"
check "hang: all pending" "$(lines "$T/ob2.json")" 28
att=$(jq -s 'map(.attempts) | add' "$T/ob2.json")
check "hang: the head tried" "$([ "$att" -ge 1 ] && echo yes || echo "no: $att")" yes
check_grep "hang: the summary counts them" "$T/run2.err" "^  notify     0 sent, 28 pending, $att failed attempts$"
check "hang: the error" "$(jq -r 'select(.attempts > 0) | .last_error' "$T/ob2.json" | sort -u)" \
    "exec: no exit after 1 s: killed"
check "hang: no process left" "$(pgrep -f 'sleep 1037' || echo none)" none
check "hang: the target's line" "$("$CG" outbox -d "$T/s2" | head -1)" "exec:sleep 1037: 28 pending"

# ---- live: the notify thread beside the writer ------------------------------------------
# The capture comes through a FIFO held open 2.5 s: the time pass every
# second (the wall clock: every step of the 2025 incidents is due) and the
# notify thread's passes run while the sensor runs.
mkfifo "$T/fifo"
"$CG" run -r "$T/fifo" -S rules -d "$T/s7" -w 1 --policy $POL --escalate-every 1 \
    --notify "file:$T/n7.jsonl" 2> "$T/run7.err" &
pid=$!
(cat "$T/sample.pcap"; sleep 2.5) > "$T/fifo"
wait $pid
check "live: exit" "$?" 0
e7=$(sed -n 's/^  layers     \([0-9]*\) escalations, \([0-9]*\) reminders.*/\1 + \2/p' "$T/run7.err")
n7=$(($e7))
check "live: the time pass reminded" "$([ "$n7" -gt 28 ] && echo yes || echo "no: $e7")" yes
check_grep "live: the summary" "$T/run7.err" "^  notify     $n7 sent, 0 pending, 0 failed attempts$"
check "live: one line each" "$(lines "$T/n7.jsonl")" "$n7"
check "live: ids unique" "$(jq -r .notification_id "$T/n7.jsonl" | sort -u | wc -l | tr -d ' ')" "$n7"

if [ -n "$E2E_NOTIFY_QUICK" ]; then
    e2e_done notify
    exit
fi

# ---- a target exiting 1, retried, then accepting --------------------------------------
cp -r "$T/s0" "$T/s3"
tgt="exec:cat >> $T/x.log; test -e $T/up"
"$CG" escalate -d "$T/s3" -p $POL --now 2025-11-24T08:16:00 --notify "$tgt" > "$T/e3.out" 2> "$T/e3.err"
check "exit 1: exit" "$?" 0
h3=$(sed -n 's/.*(\([0-9]*\) history entries)$/\1/p' "$T/e3.out")
check "exit 1: the pass" "$(head -1 "$T/e3.out")" "103 new incidents: 0 escalated, 9 reminders (9 history entries)"
check "exit 1: nothing sent" "$(sed -n 2p "$T/e3.out")" "notify: 0 sent, $h3 pending, 1 failed attempts"
"$CG" outbox -d "$T/s3" --json > "$T/ob3.json"
check "exit 1: the head's attempt and error" \
    "$(jq -r 'select(.attempts > 0) | "\(.attempts) \(.last_error)"' "$T/ob3.json")" "1 exec: exit status 1"
"$CG" outbox -d "$T/s3" --drain --notify "$tgt" > "$T/d3.out" 2>&1
check "exit 1: retried" "$(cat "$T/d3.out")" "notify: 0 sent, $h3 pending, 1 failed attempts"
check "exit 1: two attempts now" "$("$CG" outbox -d "$T/s3" --json | jq -s 'map(.attempts) | add')" 2
touch "$T/up"
"$CG" outbox -d "$T/s3" --drain --notify "$tgt" > "$T/d3b.out" 2>&1
check "exit 1: up again: all sent" "$(cat "$T/d3b.out")" "notify: $h3 sent, 0 pending, 0 failed attempts"
check "exit 1: the target saw the head three times" "$(lines "$T/x.log")" $((h3 + 2))
check "exit 1: every id" "$(jq -r .notification_id "$T/x.log" | sort -u | wc -l | tr -d ' ')" "$h3"
check "exit 1: outbox empty" "$("$CG" outbox -d "$T/s3")" "nothing pending"

# ---- kill -9 between the target's acceptance and the mark --------------------------------
cp -r "$T/s0" "$T/s4"
ktgt="exec:cat >> $T/k.log; [ -e $T/killed ] || { touch $T/killed; kill -9 \$PPID; }"
"$CG" escalate -d "$T/s4" -p $POL --now 2025-11-24T08:16:00 --notify "$ktgt" > /dev/null 2>&1
check "kill -9: killed" "$?" 137
check "kill -9: the target got one" "$(lines "$T/k.log")" 1
first=$(jq -r .notification_id "$T/k.log")
check "kill -9: still pending (not marked)" "$("$CG" outbox -d "$T/s4" --json | jq -r 'select(.attempts == 0) | .notification_id' | grep -c "^$first$")" 1
"$CG" escalate -d "$T/s4" -p $POL --now 2025-11-24T08:16:00 --notify "$ktgt" > "$T/e4.out" 2>&1
check "kill -9: restart" "$(cat "$T/e4.out")" "103 new incidents: 0 escalated, 0 reminders (0 history entries)
notify: $h3 sent, 0 pending, 0 failed attempts"
check "kill -9: delivered again, same id" "$(jq -r .notification_id "$T/k.log" | grep -c "^$first$")" 2
check "kill -9: nothing lost" "$(jq -r .notification_id "$T/k.log" | sort -u | wc -l | tr -d ' ')" "$h3"
# the pass's new history entries (in the incidents the target heard of:
# as many as the pass wrote), and what the target got: the same pairs
jq -r '"\(.incident_id) \(.history_seq)"' "$T/k.log" | LC_ALL=C sort -u > "$T/got4"
hist_of "$T/s4" $(cut -d' ' -f1 "$T/got4" | sort -u) | awk '$3 ~ /^2025-11-24T08:16:00/ { print $1, $2 }' | LC_ALL=C sort > "$T/new4"
check "kill -9: the pass's entries, one notification each" "$(lines "$T/new4")" "$h3"
check "kill -9: exactly those delivered" "$(cmp -s "$T/new4" "$T/got4" && echo same)" same

# ---- a file target that cannot be written --------------------------------------------------
cp -r "$T/s0" "$T/s5"
"$CG" escalate -d "$T/s5" -p $POL --now 2025-11-24T08:16:00 --notify "file:$T/none/n.jsonl" > "$T/e5.out" 2>&1
check "unwritable file: exit" "$?" 0
check "unwritable file: pending" "$(sed -n 2p "$T/e5.out")" "notify: 0 sent, $h3 pending, 1 failed attempts"
check "unwritable file: the error" "$("$CG" outbox -d "$T/s5" --json | jq -r 'select(.attempts > 0) | .last_error')" \
    "file: $T/none/n.jsonl: No such file or directory"

# ---- syslog ------------------------------------------------------------------------------------
cp -r "$T/s0" "$T/s6"
"$CG" escalate -d "$T/s6" -p $POL --now 2025-11-24T08:16:00 --notify syslog > "$T/e6.out" 2>&1
check "syslog: all sent" "$(sed -n 2p "$T/e6.out")" "notify: $h3 sent, 0 pending, 0 failed attempts"

# ---- the schema 6 store ------------------------------------------------------------------------
mkdir -p "$T/v6" && cp tests/data/store-v6/data.mdb "$T/v6/"
check "schema 6: listed as it is" "$("$CG" outbox -d "$T/v6")" "nothing pending"
# store-v6 has what the shipped policy owes it: a policy that owes more
printf 'when severity = high: layers 1 2 4\nwhen any: layers 1\n' > "$T/v6.conf"
"$CG" escalate -d "$T/v6" -p "$T/v6.conf" --now 2017-04-07T00:00:00 --notify "file:$T/v6.jsonl" > "$T/v6.out" 2> "$T/v6.err"
check "schema 6: exit" "$?" 0
check "schema 6: the notice" "$(cat "$T/v6.err")" "canhgac escalate: notice: $T/v6: migrated from schema 6 to 8 (the outbox and the accounts added)"
check "schema 6: the pass" "$(cat "$T/v6.out")" "5 new incidents: 3 escalated, 0 reminders (3 history entries)
notify: 3 sent, 0 pending, 0 failed attempts"
check "schema 6: notified what the pass wrote" "$(jq -r '"\(.incident_id) \(.layers_after)"' "$T/v6.jsonl" | tr -d '\n')" "1 [1,2,3,4]3 [1,2,3,4]6 [1,2,3,4]"
"$CG" store verify -d "$T/v6" > /dev/null 2>&1
check "schema 6: verified after" "$?" 0
"$CG" store check -d "$T/v6" > /dev/null 2>&1
check "schema 6: checked after" "$?" 0

# ---- bad input ---------------------------------------------------------------------------------
run_bad "run --notify mail:" "^canhgac run: --notify: 'mail:x': not a target \(file:PATH, exec:CMD, syslog\)$" \
    run -q -r "$T/sample.pcap" -S rules -d "$T/b1" --policy $POL --notify mail:x
check "bad spec: no store made" "$([ -e "$T/b1" ] && echo made || echo none)" none
run_bad "escalate --notify file:" "^canhgac escalate: --notify: 'file:': the file's path is missing$" \
    escalate -d "$T/s0" -p $POL --notify file:
run_bad "escalate --notify exec:" "^canhgac escalate: --notify: 'exec:': the command is missing$" \
    escalate -d "$T/s0" -p $POL --notify exec:
run_bad "--notify-timeout 0" "^canhgac run: --notify-timeout: seconds from 1 to 3600, not 0$" \
    run -q -r "$T/sample.pcap" -S rules -d "$T/b2" --notify syslog --notify-timeout 0
run_bad "--notify twice" "^canhgac escalate: --notify: 'syslog' given twice$" \
    escalate -d "$T/s0" -p $POL --notify syslog --notify syslog
run_bad "--notify --no-store" "^canhgac run: --notify sends the store's escalations: not with --no-store$" \
    run -q -r "$T/sample.pcap" -S rules --no-store --notify syslog
run_bad "outbox --drain alone" "^canhgac outbox: --drain: which targets\? \(--notify SPEC\)$" outbox -d "$T/s0" --drain
run_bad "outbox --notify alone" "^canhgac outbox: --notify: only with --drain" outbox -d "$T/s0" --notify syslog
run_bad "outbox: no store" "no canhgac store here" outbox -d "$T/none"

e2e_done notify
