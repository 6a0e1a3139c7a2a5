#!/bin/sh
# End-to-end tests of the detectors (analyzer/engine/detectors.h) through `canhgac
# run`, on by default: the SYN scan capture raises the port scan alert (EVE,
# store, summary) and nothing with --no-detectors; every other real capture
# of ../shared/data raises no detector alert; the generated sample traffic
# raises exactly the detector alerts of its ground truth (a port scan, a host
# sweep, a slow scan and the DNS tunnels), each from its attacker; the
# settings file: thresholds that change the outcome, and bad files (exit 2,
# one line "FILE:LINE: why"). E2E_QUICK=1 (make test-san) looks at every
# third of the other real captures.
# Usage: tests/e2e_detectors.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
E2E_NAME=det
. tests/e2e_lib.sh
SYN="$DATA/pcaps/chrissanders/synscan.pcapng"
# detector alerts of an EVE file (gid 122: scans, 9100: DNS tunnelling)
det_alerts() { grep -Ec '"gid":(122|9100),' "$1" 2> /dev/null || true; }
DETSIDS='^(1|3|100|201|202|203)$'

# ---------------------------------------------------------------- the SYN scan
"$CG" run -r "$SYN" -S rules/ -d "$T/store" -o "$T/syn.json" 2> "$T/syn.err"
check "synscan exit" "$?" 0
check "synscan: one detector alert" "$(det_alerts "$T/syn.json")" 1
check "synscan: the port scan, scanner to host" \
    "$(grep -c '"src_ip":"172.16.0.8","dest_ip":"64.13.134.52".*"gid":122,"signature_id":1,.*"signature":"CANHGAC SCAN TCP port scan (vertical)","category":"Probing or mapping' "$T/syn.json")" 1
check "synscan: layers 1 and 2" "$(grep -c '"layers":\[1,2\]' "$T/syn.json")" 1
"$H" eve "$T/syn.json" > /dev/null
check "synscan: the line is an EVE alert" "$?" 0
check_grep "synscan summary" "$T/syn.err" \
    "^  detectors  port scans 1, host sweeps 0, slow scans 0, dns tunnels 0; sources tracked [0-9]+ \(table full 0\)$"
check "synscan: one incident, gid 122" "$("$CG" query -d "$T/store" --count 'gid = 122 and sid = 1 and src = 172.16.0.8')" 1
check "synscan: its severity is attempted-recon's" "$("$CG" query -d "$T/store" --count 'gid = 122 and sev = medium and classtype = attempted-recon')" 1
rm -f "$T/syn.json"
"$CG" run -r "$SYN" -S rules/ --no-store -o "$T/syn.json" --no-detectors 2> "$T/syn.err"
check "--no-detectors exit" "$?" 0
check "--no-detectors: no alert" "$(det_alerts "$T/syn.json")" 0
check_grep "--no-detectors summary" "$T/syn.err" "^  detectors  off$"
# the detector off: nothing
printf '# off\nport_scan.enabled no\n' > "$T/off.conf"
rm -f "$T/syn.json"
"$CG" run -q -r "$SYN" -S rules/ --no-store -o "$T/syn.json" --detectors "$T/off.conf"
check "port_scan.enabled no: nothing" "$(det_alerts "$T/syn.json")" 0
# a rules directory brings its detectors.conf
mkdir -p "$T/rules"
cp rules/*.rules rules/classification.config rules/vars.conf "$T/rules/"
cp "$T/off.conf" "$T/rules/detectors.conf"
rm -f "$T/syn.json"
"$CG" run -q -r "$SYN" -S "$T/rules" --no-store -o "$T/syn.json"
check "detectors.conf of the -S directory" "$(det_alerts "$T/syn.json")" 0

# ---------------------------------------------------------------- every other real capture: nothing
# (E2E_QUICK=1, the sanitizer pass: every third one; the plain pass runs all)
n=0
for cap in $(find "$DATA/pcaps" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort); do
    [ "$cap" = "$SYN" ] && continue
    n=$((n + 1))
    [ "${E2E_QUICK:-0}" = 1 ] && [ $((n % 3)) -ne 1 ] && continue
    rm -f "$T/real.json"
    "$CG" run -r "$cap" -S rules/ --no-store -o "$T/real.json" --no-enrich --flows 4096 \
        --flow-memcap 16 2> "$T/real.err"
    check "$cap exit" "$?" 0
    check "$cap: no detector alert" "$(det_alerts "$T/real.json")" 0
    check_grep "$cap: summary" "$T/real.err" "detectors  port scans 0, host sweeps 0, slow scans 0, dns tunnels 0;"
done
check "real captures looked at" "$(test "$n" -ge 80 && echo yes)" yes

# ---------------------------------------------------------------- the sample traffic
"$B/gen_traffic" -o "$T/sample.pcap" -t "$T/truth.tsv" 2> "$T/gen.err" || bad "gen_traffic failed: $(cat "$T/gen.err")"
"$CG" run -r "$T/sample.pcap" -S rules/ --no-store -o "$T/sample.json" 2> "$T/sample.err"
check "sample exit" "$?" 0
# the truth's detector incidents, one line per alert: sid src dst
grep -v '^#' "$T/truth.tsv" | awk -F'\t' -v re="$DETSIDS" '$1 ~ re { for (i = 0; i < $4; i++) print $1 "\t" $2 "\t" $3 }' | sort > "$T/want.tsv"
"$H" eve "$T/sample.json" | awk -F'\t' -v re="$DETSIDS" '$1 ~ re' | sort > "$T/got.tsv"
if cmp -s "$T/want.tsv" "$T/got.tsv"; then ok; else
    bad "sample: detector alerts differ from the truth (sid src dst):"
    diff "$T/want.tsv" "$T/got.tsv" | head -20
fi
check "sample: the EVE lines by gid are those" "$(det_alerts "$T/sample.json")" "$(lines "$T/want.tsv")"
for sid in 1 3 100 201 202 203; do
    check "sample: the truth has sid $sid" "$(cut -f1 "$T/want.tsv" | grep -q "^$sid\$" && echo yes)" yes
done
# 10.21.2.66 runs a dnscat2-like tunnel under one domain: all three DNS kinds
check "sample: the dnscat2-like tunnel" "$(grep -c '^20[123]	10.21.2.66	10.20.2.54$' "$T/got.tsv")" 3
check_grep "sample summary" "$T/sample.err" "^  detectors  port scans 1, host sweeps 1, slow scans 1, dns tunnels 6; "
# settings apply: TXT/NULL/CNAME at 1000 queries and no slow scans: those
# two kinds are gone, the rest stays
printf 'dns_types.queries 1000\nslow_scan.enabled no\n' > "$T/fewer.conf"
"$CG" run -r "$T/sample.pcap" -S rules/ --no-store -o "$T/fewer.json" --detectors "$T/fewer.conf" 2> "$T/fewer.err"
"$H" eve "$T/fewer.json" | awk -F'\t' '$1 ~ /^(1|3|201|202)$/' | sort > "$T/fewer.tsv"
grep -Ev '^(100|203)	' "$T/want.tsv" > "$T/fewer.want"
if cmp -s "$T/fewer.want" "$T/fewer.tsv" && [ "$(det_alerts "$T/fewer.json")" = "$(lines "$T/fewer.want")" ]; then ok; else
    bad "sample with dns_types.queries 1000 and no slow scans:"; diff "$T/fewer.want" "$T/fewer.tsv"
fi
check_grep "fewer: summary" "$T/fewer.err" "^  detectors  port scans 1, host sweeps 1, slow scans 0, dns tunnels 4; "
# no detector alert from a host that is not one of the truth's attackers
cut -f2 "$T/want.tsv" | sort -u > "$T/attackers"
check "sample: only attackers" "$(cut -f2 "$T/got.tsv" | sort -u | comm -23 - "$T/attackers" | wc -l | tr -d ' ')" 0

# ---------------------------------------------------------------- bad settings
printf 'port_scan.window 60\nport_scan.colour red\n' > "$T/b1.conf"
run_bad "unknown setting" "^canhgac run: $T/b1.conf:2: unknown setting 'port_scan.colour'$" run -r "$SYN" -S rules/ --no-store --detectors "$T/b1.conf"
printf '\n# windows\nhost_sweep.window soon\n' > "$T/b2.conf"
run_bad "not a number" "^canhgac run: $T/b2.conf:3: host_sweep.window: 'soon' is not a number$" run -r "$SYN" -S rules/ --no-store --detectors "$T/b2.conf"
printf 'dns_types.window 0\n' > "$T/b3.conf"
run_bad "window 0" "^canhgac run: $T/b3.conf:1: dns_types.window: 0 is out of range \(1 to 86400 seconds\)$" run -r "$SYN" -S rules/ --no-store --detectors "$T/b3.conf"
printf 'slow_scan.window -30\n' > "$T/b4.conf"
run_bad "negative window" "b4.conf:1: slow_scan.window: -30 is out of range" run -r "$SYN" -S rules/ --no-store --detectors "$T/b4.conf"
printf 'dns_long.entropy 12\n' > "$T/b5.conf"
run_bad "threshold out of range" "b5.conf:1: dns_long.entropy: 12 is out of range \(1.0 to 8.0 bits per character\)$" run -r "$SYN" -S rules/ --no-store --detectors "$T/b5.conf"
run_bad "missing file" "nope.conf: No such file or directory" run -r "$SYN" -S rules/ --no-store --detectors "$T/nope.conf"
printf 'table_size lots\n' > "$T/rules/detectors.conf"
run_bad "bad detectors.conf of a -S directory" "rules/detectors.conf:1: table_size: 'lots' is not a number$" run -r "$SYN" -S "$T/rules" --no-store
"$CG" run -q -r "$SYN" -S "$T/rules" --no-store --no-detectors
check "--no-detectors reads no settings" "$?" 0
"$CG" run --help > "$T/help.out"
check_grep "--help: --detectors" "$T/help.out" "--detectors FILE"
check_grep "--help: --no-detectors" "$T/help.out" "--no-detectors"

e2e_done "e2e detectors"
