#!/bin/sh
# End-to-end: the alerts of a noisy rule set do not change with the work on
# detection speed. 1,000 content rules from ET Open (gen_et_content_rules.py,
# unfiltered: many fire on every HTTP flow, one of their contents longer than
# the 32 bytes a fast pattern is looked for by) over a generated HTTP capture
# (gen_bench_pcap.py, 20,000 packets, seed 7), with streams; the sorted
# (signature_id, src_ip, src_port, dest_ip, dest_port, timestamp) of the EVE
# alert lines must be tests/data/noisy_alerts.tsv, with 1 worker and with 2.
# That file was made with these same commands by canhgac as it was before
# commit 8dcf870 (a fast pattern looked for by its last 32 bytes at most).
# Usage: tests/e2e_noisy.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
E2E_NAME=noisy
. tests/e2e_lib.sh
TOOLS=${CANHGAC_TOOLS:-$DATA/../tools}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
WANT=tests/data/noisy_alerts.tsv
# alerts EVE: the sorted alert tuples of an EVE file
alerts() {
    jq -r 'select(.event_type == "alert") | [.alert.signature_id, .src_ip, .src_port,
        .dest_ip, .dest_port, .timestamp] | @tsv' "$1" | LC_ALL=C sort
}
# same NAME GOT: GOT holds WANT's lines, or one line saying how they differ
same() {
    if cmp -s "$2" "$WANT"; then ok; else
        bad "$1: $(lines "$2") alerts against $(lines "$WANT") expected;" \
            "$(LC_ALL=C comm -23 "$2" "$WANT" | wc -l) not expected, $(LC_ALL=C comm -13 "$2" "$WANT" | wc -l) missing;" \
            "first: $(diff "$WANT" "$2" | grep -m 1 '^[<>]' | sed 's/^< /missing /; s/^> /not expected /')"
    fi
}

"$PY" "$TOOLS/gen_bench_pcap.py" "$T/noisy.pcap" 20000 7 > /dev/null
check "capture generated" "$?" 0
"$PY" "$TOOLS/gen_et_content_rules.py" "$DATA/rules/etopen" 1000 classic > "$T/noisy.rules"
check "rules generated" "$(lines "$T/noisy.rules")" 1000
# the expected list is not empty, and more than the always-firing rules
check "expected alerts" "$([ "$(lines "$WANT")" -gt 1000 ] && echo yes)" yes
check "expected rules that fire" "$([ "$(cut -f 1 "$WANT" | sort -u | wc -l)" -gt 5 ] && echo yes)" yes

for w in 1 2; do
    "$CG" run -r "$T/noisy.pcap" -S "$T/noisy.rules" --no-store -o "$T/eve-$w.json" \
        --eve-types alert -w "$w" 2> "$T/run-$w.err"
    check "-w $w: exit" "$?" 0
    check_grep "-w $w: every rule loads" "$T/run-$w.err" '^  rules +1000 loaded, 0 not loaded'
    alerts "$T/eve-$w.json" > "$T/alerts-$w.tsv"
    check "-w $w: alerts in the summary" \
        "$(sed -n 's/^  alerts *\([0-9]*\) .*/\1/p' "$T/run-$w.err")" "$(lines "$WANT")"
    same "-w $w: the alerts" "$T/alerts-$w.tsv"
done

e2e_done e2e_noisy
