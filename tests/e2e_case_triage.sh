#!/bin/sh
# e2e_case_triage.sh — `canhgac case` as the response team uses it, on a
# copy of tests/data/store-v4 (a store of schema 4, six incidents):
#  - the first change migrates it to schema 8, with one notice line;
#  - new (ids and a query), add (duplicates left), note, set, list, show
#    (text and --json), and `query 'case = N'` against show's incidents;
#  - store verify counts the cases' records, and names a case record and an
#    incident taken out of a case by raw LMDB (e2e_helper);
#  - bad input, each one line and exit 2: unknown case, unknown incident
#    (nothing created), a query that does not parse, `case` under `or`, a
#    bad status, a bad id, an unknown option, no title.
#
# Usage: tests/e2e_case_triage.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=case_triage
. tests/e2e_lib.sh
H="$B/e2e_helper"

mkdir -p "$T/s" && cp tests/data/store-v4/data.mdb "$T/s/"
S="-d $T/s"

# shellcheck disable=SC2086
"$CG" case list $S > "$T/l0.out" 2> "$T/l0.err"
check "list on schema 4: exit" "$?" 0
check "list on schema 4: no case" "$(tail -n 1 "$T/l0.out")" "(no case)"
check "list on schema 4: read as it is" "$(cmp -s tests/data/store-v4/data.mdb "$T/s/data.mdb" && echo same)" same

# shellcheck disable=SC2086
"$CG" case new $S --as lan "Web portal SQLi, tháng 11" --query 'sid >= 9100101 and sid <= 9100102' > "$T/n1.out" 2> "$T/n1.err"
check "new --query: exit" "$?" 0
check "new --query: says" "$(cat "$T/n1.out")" "case 1: created by lan with 2 incidents"
check "new --query: the migration notice" "$(cat "$T/n1.err")" "canhgac case: notice: $T/s: migrated from schema 4 to 8 (the cases' databases, the outbox and the accounts added)"
# shellcheck disable=SC2086
"$CG" case new $S --as chi "SSH guessing" 5 5 > "$T/n2.out"
check "new with ids" "$(cat "$T/n2.out")" "case 2: created by chi with 1 incident"
# shellcheck disable=SC2086
"$CG" case add $S --as chi 1 3 1 2 > "$T/a.out"
check "add: duplicates left" "$(cat "$T/a.out")" "case 1: 1 incident added by chi (3 in the case)"
# shellcheck disable=SC2086
"$CG" case add $S --as chi 1 --query 'dport = 80' > "$T/a2.out"
check "add --query" "$(cat "$T/a2.out")" "case 1: 2 incidents added by chi (5 in the case)"
# shellcheck disable=SC2086
"$CG" case note $S --as an 1 "handed to PA05 -- ticket 7" > /dev/null
check "note" "$?" 0
# shellcheck disable=SC2086
"$CG" case set $S --as an 2 status=closed owner=an > "$T/set.out"
check "set" "$(cat "$T/set.out")" "case 2: status closed; owner an by an"

# shellcheck disable=SC2086
"$CG" case list $S > "$T/l.out"
check "list: header and two cases" "$(lines "$T/l.out")" 3
check "list: newest first" "$(awk 'NR > 1 { print $1, $2, $3, $4 }' "$T/l.out" | tr '\n' ';')" "2 closed an 1;1 open lan 5;"
# shellcheck disable=SC2086
"$CG" case list $S --status closed --json > "$T/lj.out"
check "list --status closed --json" "$("$H" fields "$T/lj.out" case_id status owner incidents)" "2	closed	an	1"

# shellcheck disable=SC2086
"$CG" case show $S 1 > "$T/s1.out"
check "show: exit" "$?" 0
check "show: title" "$(head -n 1 "$T/s1.out")" "case 1: Web portal SQLi, tháng 11"
check "show: incidents" "$(sed -n '/^incidents (5)$/,/^$/p' "$T/s1.out" | awk 'NF && !/^incidents/ { print $1 }' | tr '\n' ' ')" "1 2 3 4 6 "
check "show: history" "$(sed -n '/^history$/,$p' "$T/s1.out" | sed 's/^  [0-9-]* [0-9:]*  //' | tail -n +2 | tr -s ' ' | tr '\n' ';')" "lan created: Web portal SQLi, tháng 11;lan added incident 1;lan added incident 2;chi added incident 3;chi added incident 4;chi added incident 6;an note: handed to PA05 -- ticket 7;"
# shellcheck disable=SC2086
"$CG" case show $S 1 --json > "$T/s1.json"
check "show --json: the case" "$("$H" fields "$T/s1.json" case.case_id case.status case.incidents case.notes history.6.text history.6.who)" "1	open	5	1	handed to PA05 -- ticket 7	an"
check "show --json: the incidents" "$("$H" fields "$T/s1.json" incidents.0.incident_id incidents.4.incident_id)" "1	6"

# query 'case = N' gives show's incidents
# shellcheck disable=SC2086
"$CG" query $S --csv --limit 0 'case = 1' | awk -F, 'NR > 1 { print $1 }' | sort -n | tr '\n' ' ' > "$T/q.out"
check "query case = 1" "$(cat "$T/q.out")" "1 2 3 4 6 "
# shellcheck disable=SC2086
check "query case = 1 and sid = 9100101" "$("$CG" query $S --count 'case = 1 and sid = 9100101')" 1
# shellcheck disable=SC2086
check "query case = 2 and dport = 22" "$("$CG" query $S --count 'case = 2 and dport = 22')" 1
# shellcheck disable=SC2086
check "query case = 9" "$("$CG" query $S --count 'case = 9')" 0

# the log holds the cases: verify counts them, and names what raw LMDB changed
# shellcheck disable=SC2086
"$CG" store verify $S > "$T/v.out"
check "verify clean" "$?" 0
# 28 records of the fixture + 2 cases + 11 events (2 creates, 6 adds, a
# note, a status, an owner) + 6 incidents in them
check_grep "verify counts the cases" "$T/v.out" "verified: 47 records match"
"$H" record "$T/s" cases 1 flip 60 > /dev/null
"$H" record "$T/s" by_case 1 6 del > /dev/null
# shellcheck disable=SC2086
"$CG" store verify $S > "$T/v2.out" 2> "$T/v2.err"
check "verify after raw edits: exit" "$?" 2
check_grep "verify names the case" "$T/v2.out" "^$T/s: case 1: record does not match leaf [0-9]+$"
check_grep "verify names the incident taken out" "$T/v2.out" "^$T/s: case 1 incident 6: record missing \(leaf [0-9]+\)$"

# bad input
mkdir -p "$T/b" && cp tests/data/store-v4/data.mdb "$T/b/"
"$CG" incident note -d "$T/b" 1 "migrated" > /dev/null 2>&1 # (its notice said above)
run_bad "unknown case" "no case 7" case show -d "$T/b" 7
run_bad "add to an unknown case" "no case 7" case add -d "$T/b" 7 1
run_bad "unknown incident" "no incident 99" case new -d "$T/b" "x" 1 99
# shellcheck disable=SC2086
check "unknown incident: nothing created" "$("$CG" case list -d "$T/b" --json | wc -l | tr -d ' ')" 0
"$CG" case new -d "$T/b" "x" --query 'sid = (' > "$T/bad.out" 2> "$T/bad.err"
check "bad query: exit" "$?" 2
check_grep "bad query: the column" "$T/bad.err" "^canhgac case: column [0-9]+: "
"$CG" query -d "$T/b" 'case = 1 or sid = 1' > "$T/bad.out" 2> "$T/bad.err"
check "case under or: exit" "$?" 2
check_grep "case under or: why" "$T/bad.err" "column 1: case can only be joined with 'and'"
run_bad "query matches nothing" "the query matches no incident: sid = 1" case new -d "$T/b" "x" --query 'sid = 1'
run_bad "bad status" "status is open or closed, not 'done'" case set -d "$T/b" 1 status=done
run_bad "bad id" "not a case ID" case show -d "$T/b" 1x
run_bad "no title" "a TITLE is needed" case new -d "$T/b"
run_bad "unknown option" "unknown option: --bogus" case list -d "$T/b" --bogus
run_bad "no store" "no canhgac store here" case list -d "$T/none"

e2e_done case_triage
