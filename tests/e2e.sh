#!/bin/sh
# End-to-end tests of the canhgac command: the generated sample capture against
# its ground truth, the real captures of ../shared/data against the alerts
# their rules should give (table: tests/e2e.tsv), and bad input.
# Usage: tests/e2e.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
CG="$B/canhgac"
H="$B/e2e_helper"
DATA=${CANHGAC_DATA:-../shared/data}
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

# ---------------------------------------------------------------- real captures
# rule sets cut out of ET Open at test time (nothing copied into the tree)
grep -h -e 'CVE-2021-44228' -e 'CVE_2021_44228' "$DATA"/rules/etopen/*.rules | grep -v '^#' > "$T/et-log4shell.rules"
grep -h -e 'CVE-2014-6271' -e 'CVE_2014_6271' -e 'Shellshock' -e 'shellshock' "$DATA"/rules/etopen/*.rules | grep -v '^#' > "$T/et-shellshock.rules"
cp "$DATA/rules/etopen/classification.config" "$T/classification.config"
# SSH password guessing: every connection's SYN counts toward a threshold
cat > "$T/ssh-threshold.rules" <<'EOF'
alert tcp any any -> any 22 (msg:"SSH connection attempts from one source"; flow:to_server; flags:S,12; threshold: type threshold, track by_src, count 5, seconds 120; classtype:attempted-recon; sid:9900001; rev:1;)
alert tcp any any -> any 22 (msg:"SSH client banner"; flow:established,to_server; content:"SSH-"; depth:4; sid:9900002; rev:1;)
EOF
rules_for() {
    case "$1" in
        shipped) echo "-S $DATA/pcaps/log4shell/log4shell-suricata.rules" ;;
        et-log4shell) echo "-S $T/et-log4shell.rules" ;;
        et-shellshock) echo "-S $T/et-shellshock.rules" ;;
        etopen) echo "-S $DATA/rules/etopen" ;;
        ssh-threshold) echo "-S $T/ssh-threshold.rules" ;;
    esac
}
while IFS='	' read -r cap sets want; do
    case "$cap" in ''|\#*) continue ;; esac
    args="--classification $T/classification.config"
    for s in $sets; do args="$args $(rules_for "$s")"; done
    rm -f "$T/real.json"
    # shellcheck disable=SC2086
    "$CG" run -q -r "$DATA/pcaps/$cap" $args --no-store -o "$T/real.json" 2> "$T/real.err"
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
run_bad "bad filter" 2 "bogus" query -d "$T/store" bogus=1
run_bad "bad cidr" 2 "10.0.0.0/33" query -d "$T/store" src=10.0.0.0/33
run_bad "bad time" 2 "yesterday" query -d "$T/store" --since yesterday
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
