#!/bin/sh
# End-to-end tests of the pipeline's promise (analyzer/output/pipeline.h, "Order"):
# reading a file, 1, 2 and 4 workers give the same result. Each capture is
# run three times, `canhgac run -r CAPTURE RULES -d STORE -o EVE --workers N`
# (N = 1 first, then 2 and 4 side by side: the cache is warm by then), and
# the three runs must have
#   - the same summary (packets, decode, flows, streams, inspection, alerts,
#     detectors, EVE lines by kind, incidents), less the worker count, the
#     times, where the rules came from and the queues' waits;
#   - the same store: `canhgac query --json --limit 0` identical, and again
#     with the ids (incident, attack, escalated_from) taken out and sorted;
#     for a few incidents, matched by their key, the same `incident show
#     --json` (ids out) and the same `incident pcap` bytes (sha256);
#   - the same EVE file, byte for byte; when it is not, two more checks say
#     whether the lines other than flow lines differ, and whether the flow
#     lines differ as a set (their "reason" aside) or only in place.
# The captures: every one of ../shared/data/pcaps with the project's rules/
# (and the sid counts tests/e2e.tsv lists for them), some e2e.tsv rows with
# their own rule sets, three with all of ET Open, and generated traffic
# (tests/gen_traffic.c: one round, and a 30 MB one of about 47k packets) with
# rules/ and extra rules that span flows: xbits by host and by pair (set,
# unset, toggle, isset, with expiry), thresholds by_src, by_dst, by_rule and
# a detection_filter by_both, on top of rules/' thresholds and the port scan
# and DNS tunnel detectors. Every run has a flow table of 16384 flows (4096 a
# worker with 4), which none of these fills: what a full table evicts depends
# on the worker. Then --workers 0, 65 and x (exit 2, one line) and -w 3.
#
# E2E_WORKERS_QUICK=1 runs a subset (the thread sanitizer pass, make
# test-tsan): every twelfth real capture and those whose detector or
# threshold state spans flows, the generated traffic (the big one of 16 MB,
# 25k packets), and no ET Open.
# Usage: tests/e2e_workers.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
E2E_NAME=workers
. tests/e2e_lib.sh
QUICK=${E2E_WORKERS_QUICK:-0}

# summary FILE: what must not depend on the number of workers
summary() {
    sed -e '/^  time /d' -e '/^  threads /d' -e 's/ ([0-9]* workers*)$//' \
        -e 's/ databases ([^)]*)/ databases/' -e 's/ stored in .*$//' "$1"
}
# ids_out FILE: JSON lines without the ids a store gives out
ids_out() { sed -e 's/"\(incident_id\|attack_id\|escalated_from\)":[0-9]*/"\1":-/g' "$1"; }
# flows FILE: the EVE file's flow lines without their reason, sorted
flows() { grep '"event_type":"flow"' "$1" | sed 's/"reason":"[a-z]*",//' | sort; }

# run1 N NAME ARGS...: one run into $T/NAME.N.{store,json,err,rc,q}
run1() {
    rn=$1; rnm=$2; shift 2
    rm -rf "$T/$rnm.$rn.store" "$T/$rnm.$rn.json"
    "$CG" run "$@" -d "$T/$rnm.$rn.store" -o "$T/$rnm.$rn.json" --workers "$rn" \
        --flows 16384 --flow-memcap 64 2> "$T/$rnm.$rn.err"
    echo $? > "$T/$rnm.$rn.rc"
    "$CG" query -d "$T/$rnm.$rn.store" --json --limit 0 > "$T/$rnm.$rn.q" 2>> "$T/$rnm.$rn.err"
}

# same NAME N: run N against run 1
same() {
    nm=$1; sn=$2; a="$T/$nm.1"; b="$T/$nm.$sn"
    summary "$a.err" > "$a.sum"; summary "$b.err" > "$b.sum"
    if cmp -s "$a.sum" "$b.sum"; then ok; else bad "$nm: summary of $sn workers differs:"; diff "$a.sum" "$b.sum" | head -10; fi
    if cmp -s "$a.q" "$b.q"; then ok; else bad "$nm: query --json of $sn workers differs: $(diff "$a.q" "$b.q" | head -4)"; fi
    ids_out "$a.q" | sort > "$a.qn"; ids_out "$b.q" | sort > "$b.qn"
    if cmp -s "$a.qn" "$b.qn"; then ok; else bad "$nm: incidents (ids out, sorted) of $sn workers differ: $(diff "$a.qn" "$b.qn" | head -4)"; fi
    if cmp -s "$a.json" "$b.json"; then ok; else
        bad "$nm: EVE file of $sn workers differs: $(diff "$a.json" "$b.json" | head -4)"
        grep -v '"event_type":"flow"' "$a.json" > "$a.nf"; grep -v '"event_type":"flow"' "$b.json" > "$b.nf"
        if cmp -s "$a.nf" "$b.nf"; then ok; else bad "$nm: EVE lines (flow lines aside) of $sn workers differ: $(diff "$a.nf" "$b.nf" | head -4)"; fi
        flows "$a.json" > "$a.fl"; flows "$b.json" > "$b.fl"
        if cmp -s "$a.fl" "$b.fl"; then ok; else bad "$nm: EVE flow lines (reason aside, sorted) of $sn workers differ: $(diff "$a.fl" "$b.fl" | head -4)"; fi
    fi
}

# runs NAME ARGS...: 1 worker, then 2 and 4 side by side; their exit codes,
# packets read, and each against the first
runs() {
    nm=$1; shift
    run1 1 "$nm" "$@"
    run1 2 "$nm" "$@" &
    run1 4 "$nm" "$@" &
    wait
    check "$nm: exit of 1, 2, 4 workers" "$(cat "$T/$nm.1.rc" "$T/$nm.2.rc" "$T/$nm.4.rc" | tr '\n' ' ')" "0 0 0 "
    check "$nm: packets read" "$(grep -Ec '^  packets +[1-9]' "$T/$nm.1.err")" 1
    check "$nm: the flow table never full with 4 workers" \
        "$(grep -Ec ' 0 by pressure; 0 refused at the cap$' "$T/$nm.4.err")" 1
    same "$nm" 2
    same "$nm" 4
}

# evidence NAME: three incidents of run 1 (first, middle and last by key),
# found in runs 2 and 4 by their key: the same show --json (ids out), the
# same incident pcap bytes
evidence() {
    nm=$1
    for en in 1 2 4; do
        "$H" fields "$T/$nm.$en.q" gid signature_id rev src_ip src_port dest_ip dest_port proto \
            first_seen flow_id incident_id \
            | awk -F'\t' '{ k = $1; for (i = 2; i < NF; i++) k = k "|" $i; print k "\t" $NF }' \
            | sort > "$T/$nm.$en.keys"
    done
    total=$(lines "$T/$nm.1.keys")
    check "$nm: incident keys are unique" "$(cut -f1 "$T/$nm.1.keys" | sort -u | wc -l | tr -d ' ')" "$total"
    [ "$total" -gt 0 ] || return
    for line in 1 $(((total + 1) / 2)) "$total"; do
        key=$(sed -n "${line}p" "$T/$nm.1.keys" | cut -f1)
        sums=""
        for en in 1 2 4; do
            id=$(awk -F'\t' -v k="$key" '$1 == k { print $2 }' "$T/$nm.$en.keys")
            if [ -z "$id" ]; then
                bad "$nm: incident $key not in the store of $en workers"
                sums="$sums missing"; : > "$T/show.$en"; continue
            fi
            "$CG" incident show -d "$T/$nm.$en.store" "$id" --json > "$T/show.json"
            ids_out "$T/show.json" > "$T/show.$en"
            if "$CG" incident pcap -d "$T/$nm.$en.store" "$id" -o "$T/ev.$en.pcapng" 2> /dev/null; then
                sums="$sums $(sha256sum < "$T/ev.$en.pcapng" | cut -c1-64)"
            else
                sums="$sums no-evidence"
            fi
        done
        check "$nm: incident $key: show --json of 2 and 4 workers" \
            "$(cmp -s "$T/show.1" "$T/show.2" && cmp -s "$T/show.1" "$T/show.4" && echo same)" same
        # shellcheck disable=SC2086
        set -- $sums
        check "$nm: incident $key: evidence pcap of 2 and 4 workers" "$2 $3" "$1 $1"
        rm -f "$T"/ev.*.pcapng "$T"/show.*
    done
}

# sids FILE: the alerts of an EVE file as e2e.tsv lists them (sid=count ...)
sids() { "$H" eve "$1" | cut -f1 | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }'; }

# ---------------------------------------------------------------- generated traffic
mkdir -p "$T/xr"
cat > "$T/xr/workers.rules" <<'EOF'
alert udp any any -> any 53 (msg:"WK xbits: a DNS client"; xbits:set,wk.dns,track ip_src,expire 600; xbits:noalert; sid:9990001; rev:1;)
alert udp any any -> any any (msg:"WK xbits: a DNS answer to a host with the bit (ip_dst)"; flow:to_client; xbits:isset,wk.dns,track ip_dst; threshold:type threshold, track by_dst, count 10, seconds 60; sid:9990009; rev:1;)
alert tcp any any -> any any (msg:"WK xbits: a server answered 200"; flow:established,to_client; content:"HTTP/1.1 200"; depth:12; xbits:set,wk.ok,track ip_src,expire 5; xbits:noalert; sid:9990010; rev:1;)
alert tcp any any -> any any (msg:"WK xbits: a server answered 404"; flow:established,to_client; content:"HTTP/1.1 404"; depth:12; xbits:unset,wk.ok,track ip_src; xbits:noalert; sid:9990011; rev:1;)
alert tcp any any -> any any (msg:"WK xbits: a connection to a server whose last answer was 200"; flags:S,12; xbits:isset,wk.ok,track ip_dst; threshold:type threshold, track by_dst, count 3, seconds 60; sid:9990002; rev:1;)
alert tcp any any -> any any (msg:"WK xbits: toggle per pair"; flags:S,12; xbits:toggle,wk.syn,track ip_pair,expire 120; xbits:noalert; sid:9990003; rev:1;)
alert tcp any any -> any any (msg:"WK xbits: every other SYN of a pair"; flags:S,12; xbits:isset,wk.syn,track ip_pair; sid:9990004; rev:1;)
alert tcp any any -> any any (msg:"WK threshold by_src"; flags:S,12; threshold:type threshold, track by_src, count 7, seconds 60; sid:9990005; rev:1;)
alert tcp any any -> any any (msg:"WK threshold by_dst both"; flags:S,12; threshold:type both, track by_dst, count 30, seconds 20; sid:9990006; rev:1;)
alert udp any any -> any 53 (msg:"WK threshold by_rule limit"; threshold:type limit, track by_rule, count 3, seconds 30; sid:9990007; rev:1;)
alert tcp any any -> any any (msg:"WK detection_filter by_both"; flags:S,12; detection_filter:track by_both, count 5, seconds 60; sid:9990008; rev:1;)
EOF
"$B/gen_traffic" -o "$T/sample.pcap" -t "$T/sample.tsv" 2> "$T/gen.err" || bad "gen_traffic failed: $(cat "$T/gen.err")"
big=30M; [ "$QUICK" = 1 ] && big=16M   # 47k packets; 25k
"$B/gen_traffic" -o "$T/big.pcap" -t "$T/big.tsv" --bytes $big 2> "$T/gen.err" || bad "gen_traffic --bytes failed: $(cat "$T/gen.err")"
for g in sample big; do
    runs "$g" -r "$T/$g.pcap" -S rules -S "$T/xr/workers.rules"
    evidence "$g"
    # the cross-flow rules did fire, and so did the detectors
    check "$g: every cross-flow rule alerts" \
        "$(grep -o '"signature_id":999000[2456789]' "$T/$g.1.json" | sort -u | wc -l | tr -d ' ')" 7
    check_grep "$g: a scan detector (port scan or slow scan)" "$T/$g.1.err" "scans [1-9]"
    rm -rf "$T/$g".[124].*
done
# the incidents of rules/ alone are the generator's truth with 4 workers
rm -rf "$T/st4" "$T/st4.json"
"$CG" run -q -r "$T/sample.pcap" -S rules -d "$T/st4" --workers 4
"$CG" query -d "$T/st4" --csv --limit 0 | awk -F, 'NR > 1 { print $8 "\t" $9 "\t" $11 "\t" $4 }' | sort > "$T/st4.got"
grep -v '^#' "$T/sample.tsv" | sort > "$T/st4.want"
if cmp -s "$T/st4.got" "$T/st4.want"; then ok; else bad "sample, 4 workers: incidents differ from the ground truth:"; diff "$T/st4.want" "$T/st4.got" | head -10; fi

# ---------------------------------------------------------------- real captures, rules/
ncap=0
for cap in $(cd "$DATA/pcaps" && find . -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sed 's|^\./||' | sort); do
    ncap=$((ncap + 1))
    if [ "$QUICK" = 1 ]; then
        case "$cap" in
            chrissanders/synscan.pcapng|zeek-traces/*|shellshock/*) ;;
            *) [ $((ncap % 12)) -eq 1 ] || continue ;;
        esac
    fi
    nm=$(echo "$cap" | tr '/.' '__')
    runs "$nm" -r "$DATA/pcaps/$cap" -S rules
    want=$(awk -F'\t' -v c="$cap" '$1 == c && $2 == "starter" { print $3; exit }' tests/e2e.tsv)
    if grep -q "^$cap	starter	" tests/e2e.tsv; then
        check "$nm: 4 workers give e2e.tsv's alerts" "$(sids "$T/$nm.4.json")" "$want"
    fi
    rm -rf "$T/$nm".[124].*
done
check "real captures found" "$(test "$ncap" -ge 80 && echo yes)" yes

# ---------------------------------------------------------------- real captures, their own rule sets
. tests/e2e_rulesets.sh
e2e_rule_sets
if [ "$QUICK" = 1 ]; then
    pick='^(log4shell/ldap-basic-auth-ev3\.pcap	shipped|zeek-traces/sshguess\.pcap	)'
else
    pick='^(log4shell/[a-z-]*-ev3\.pcap	s|log4shell/[a-z0-9-]*-dsb\.pcapng	s|shellshock/exploit\.pcap	|zeek-traces/sshguess\.pcap	|log4shell/ldap-user-agent-ev3\.pcap	etopen|log4shell/log4shell-ldaps-port-443-dsb\.pcapng	etopen)'
fi
grep -E "$pick" tests/e2e.tsv | grep -v '	starter	' > "$T/rows.tsv"
check "e2e.tsv rows picked" "$(test "$(lines "$T/rows.tsv")" -ge 2 && echo yes)" yes
while IFS='	' read -r cap sets want; do
    args="--classification $DATA/rules/etopen/classification.config"
    for s in $sets; do args="$args $(rules_for "$s")"; done
    nm=$(echo "$cap $sets" | tr '/. ' '___')
    # shellcheck disable=SC2086
    runs "$nm" -r "$DATA/pcaps/$cap" $args
    check "$nm: 4 workers give e2e.tsv's alerts" "$(sids "$T/$nm.4.json")" "$want"
    case "$sets" in etopen) evidence "$nm" ;; esac
    rm -rf "$T/$nm".[124].*
done < "$T/rows.tsv"

# ---------------------------------------------------------------- --workers
run_bad "--workers 0" "^canhgac run: --workers: a number from 1 to 64, not 0$" \
    run -r "$T/sample.pcap" -S rules --no-store --workers 0
run_bad "--workers 65" "^canhgac run: --workers: a number from 1 to 64, not 65$" \
    run -r "$T/sample.pcap" -S rules --no-store --workers 65
run_bad "--workers x" "^canhgac run: --workers: a number from 1 to 64, not x$" \
    run -r "$T/sample.pcap" -S rules --no-store --workers x
run1 1 three -r "$T/sample.pcap" -S rules
rm -rf "$T/three.3.store" "$T/three.3.json"
"$CG" run -r "$T/sample.pcap" -S rules -d "$T/three.3.store" -o "$T/three.3.json" -w 3 \
    --flows 16384 --flow-memcap 64 2> "$T/three.3.err"
check "-w 3 exit" "$?" 0
check_grep "-w 3: three workers" "$T/three.3.err" "^canhgac run: .*sample\.pcap \(3 workers\)$"
"$CG" query -d "$T/three.3.store" --json --limit 0 > "$T/three.3.q"
same three 3

e2e_done e2e_workers
