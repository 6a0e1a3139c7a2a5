#!/bin/sh
# End-to-end tests of the EVE output (analyzer/output/eve.h, analyzer/output/eve_proto.h):
# `canhgac run --eve-types all` on every real capture of ../shared/data/pcaps
# with the shipped rules, on two of them with all of ET Open, on the generated
# sample (the one capture with DNS) and on a crafted capture of anomalies;
# every record must validate against Suricata 8's own EVE schema
# (../shared/data/eve/schema.json, with ../shared/tools/validate_eve.py; the
# records of all runs are checked in one call, which is the same check line
# by line and keeps this test to seconds); each event type must be there
# where the capture holds it; alerts must carry their HTTP context; and the
# options: --eve-types, --eve-payload, --eve-packet, --eve-alert-fields,
# --no-app-context, and bad names (exit 2, one line). E2E_QUICK=1 (make
# test-san) runs every sixth real capture with the shipped rules.
# Needs python3-jsonschema (tools/setup.sh), run with Debian's /usr/bin/python3.
# Usage: tests/e2e_eve.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
E2E_NAME=eve
. tests/e2e_lib.sh
SCHEMA="$DATA/eve/schema.json"
VALIDATE="$DATA/../tools/validate_eve.py"
PY=/usr/bin/python3
# compiled rules kept with the build: ET Open compiles once, not at every run
export CANHGAC_CACHE="$B/rules-cache"
# small tables: a run then starts in milliseconds (the captures are small)
RUN="run -q --no-store --flow-memcap 16 --flows 4096"

# q FILE EXPR: python over the records of FILE (one JSON object per line, in
# `recs`); prints what EXPR gives
q() {
    "$PY" - "$1" "$2" <<'EOF'
import base64, json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
def types():
    c = {}
    for r in recs:
        c[r["event_type"]] = c.get(r["event_type"], 0) + 1
    return c
def of(t):
    return [r for r in recs if r["event_type"] == t]
print(eval(sys.argv[2]))
EOF
}

# ---------------------------------------------------------------- every capture
find "$DATA/pcaps" -name '*.pcap' -o -name '*.pcapng' | sort > "$T/caps"
check "captures found" "$(test "$(wc -l < "$T/caps")" -ge 80 && echo yes)" yes
: > "$T/all.json"
: > "$T/index"
n=0
while read -r cap; do
    n=$((n + 1))
    # E2E_QUICK=1 (the sanitizer pass): every sixth capture, and those the
    # checks below name
    if [ "${E2E_QUICK:-0}" = 1 ]; then
        case "$cap" in
            *http_dvwa_sqlinjection.pcapng | *log4shell-ldaps-port-443-dsb.pcapng) ;;
            *) [ $((n % 6)) -eq 1 ] || continue ;;
        esac
    fi
    out="$T/eve.$n.json"
    # shellcheck disable=SC2086
    "$CG" $RUN -r "$cap" -S rules --eve-types all -o "$out" 2> "$T/run.err"
    check "$cap: exit" "$?" 0
    echo "$n	$cap	$(wc -l < "$out")" >> "$T/index"
    cat "$out" >> "$T/all.json"
done < "$T/caps"
# all of ET Open on two captures (compiled once, then from the cache)
for cap in log4shell/log4shell-ldaps-port-443-dsb.pcapng log4shell/ldap-user-agent-ev3.pcap; do
    n=$((n + 1))
    out="$T/eve.$n.json"
    # shellcheck disable=SC2086
    "$CG" $RUN -r "$DATA/pcaps/$cap" -S "$DATA/rules/etopen" --eve-types all -o "$out" \
        2> "$T/run.err"
    check "$cap [etopen]: exit" "$?" 0
    echo "$n	$cap [etopen]	$(wc -l < "$out")" >> "$T/index"
    cat "$out" >> "$T/all.json"
    check "$cap [etopen]: alerts carry their request" \
        "$(q "$out" 'len(of("alert")) > 0 and all(r["http"]["url"] for r in of("alert") if r.get("app_proto") == "http")')" True
    check "$cap [etopen]: the jndi lookup in a User-Agent" \
        "$(q "$out" 'any("jndi" in r.get("http", {}).get("http_user_agent", "") for r in of("alert"))')" True
done
# the generated sample: DNS over UDP and TCP, HTTP, TLS
"$B/gen_traffic" -o "$T/sample.pcap" -t "$T/truth.tsv" 2> /dev/null
n=$((n + 1))
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/sample.pcap" -S rules -o "$T/eve.$n.json" 2> "$T/run.err"
check "sample: exit" "$?" 0
echo "$n	sample	$(wc -l < "$T/eve.$n.json")" >> "$T/index"
cat "$T/eve.$n.json" >> "$T/all.json"
SAMPLE="$T/eve.$n.json"

# a crafted capture: frames the decoder refuses, and a TCP stream with a hole
"$PY" - "$T/anomalies.pcap" <<'EOF'
import struct, sys
def eth(ip): return b"\x00\x01\x02\x03\x04\x05\x00\x0b\x0c\x0d\x0e\x0f\x08\x00" + ip
def ipv4(proto, payload, ihl=5):
    tot = 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 1, 0, 64, proto, 0,
                    bytes([10, 20, 1, 10]), bytes([203, 0, 113, 5]))
    return h + payload
def tcp(sport, dport, seq, ack, flags, data=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 65535, 0, 0) + data
frames = [
    eth(b"")[:10],                                    # cut inside the Ethernet header
    eth(ipv4(6, tcp(80, 40001, 1, 1, 0x10)))[:40],    # cut inside the TCP header
    eth(ipv4(6, tcp(80, 40001, 1, 1, 0x10), ihl=4)),  # a header length under 20
    # a connection whose client skips 100 bytes: a gap
    eth(ipv4(6, tcp(40002, 8080, 1000, 0, 0x02))),
    eth(ipv4(6, tcp(8080, 40002, 5000, 1001, 0x12))),
    eth(ipv4(6, tcp(40002, 8080, 1001, 5001, 0x10))),
    eth(ipv4(6, tcp(40002, 8080, 1101, 5001, 0x18, b"after the hole"))),
    eth(ipv4(6, tcp(40002, 8080, 1115, 5001, 0x11))),
]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1763856000 + i, 0, len(fr), len(fr)) + fr)
EOF
n=$((n + 1))
# shellcheck disable=SC2086
"$CG" $RUN -r "$T/anomalies.pcap" -S rules -o "$T/eve.$n.json" 2> "$T/run.err"
check "anomalies: exit" "$?" 0
echo "$n	anomalies	$(wc -l < "$T/eve.$n.json")" >> "$T/index"
cat "$T/eve.$n.json" >> "$T/all.json"
ANOM="$T/eve.$n.json"

# ---------------------------------------------------------------- the schema
"$PY" "$VALIDATE" --allow-extra-top "$SCHEMA" "$T/all.json" > "$T/valid.out" 2>&1
rc=$?
check "every record validates against Suricata's EVE schema" "$rc" 0
if [ "$rc" -ne 0 ]; then
    # name the capture of each invalid line
    head -n 20 "$T/valid.out" | awk -F'\t' 'NR == FNR { lo[++m] = s + 1; s += $3; nm[m] = $2;
        next } { split($0, a, ":"); for (i = m; i >= 1; i--) if (a[1] + 0 >= lo[i]) {
        print nm[i] ": " $0; break } }' "$T/index" -
fi
check "records checked = records written" \
    "$(sed -n 's/^\([0-9]*\) events.*/\1/p' "$T/valid.out")" "$(wc -l < "$T/all.json" | tr -d ' ')"

# ---------------------------------------------------------------- event types
# the types of each run's records, in one pass: "N<TAB>type=count ..."
"$PY" - "$T" "$T/index" > "$T/types" <<'EOF'
import json, sys
for line in open(sys.argv[2]):
    k = line.split("\t")[0]
    c = {}
    for l in open(f"{sys.argv[1]}/eve.{k}.json", encoding="utf-8"):
        t = json.loads(l)["event_type"]
        c[t] = c.get(t, 0) + 1
    print(k + "\t" + " ".join(f"{t}={c[t]}" for t in sorted(c)))
EOF
has() { # N TYPE: the run N wrote records of TYPE
    awk -F'\t' -v k="$1" -v t=" $2=" '$1 == k { print index(" " $2, t) ? "yes" : "no" }' "$T/types"
}
while IFS='	' read -r k cap lines; do
    f="$T/eve.$k.json"
    check "$cap: flow records" "$(has "$k" flow)" yes
    case "$cap" in
    *http_dvwa_*) check "$cap: http records" "$(has "$k" http)" yes ;;
    *log4shell-ldaps-*) check "$cap: tls records" "$(has "$k" tls)" yes ;;
    sample) check "sample: dns requests and responses" \
        "$(q "$f" 'sorted({r["dns"]["type"] for r in of("dns")})')" "['request', 'response']"
        check "sample: a response with answers" \
            "$(q "$f" 'any(r["dns"].get("answers") for r in of("dns"))')" True
        check "sample: http and tls records" "$(q "$f" '"http" in types() and "tls" in types()')" True ;;
    esac
done < "$T/index"
check "anomalies: decoder events" \
    "$(q "$ANOM" 'sorted(r["anomaly"]["event"] for r in of("anomaly") if r["anomaly"]["type"] == "decode")')" \
    "['decoder.ethernet.pkt_too_small', 'decoder.ipv4.hlen_too_small', 'decoder.tcp.pkt_too_small']"
check "anomalies: the stream's gap" \
    "$(q "$ANOM" '[(r["anomaly"]["event"], r["dest_port"]) for r in of("anomaly") if r["anomaly"]["type"] == "stream"]')" \
    "[('stream.reassembly_seq_gap', 8080)]"

# ---------------------------------------------------------------- alerts carry their context
SQL="$T/eve.$(awk -F'\t' '$2 ~ /http_dvwa_sqlinjection.pcapng$/ { print $1 }' "$T/index").json"
check "sqlinjection: every alert has its request" \
    "$(q "$SQL" 'len(of("alert")) > 0 and all(r["http"]["url"] and r["app_proto"] == "http" and r["direction"] == "to_server" and r["flow"]["pkts_toserver"] > 0 for r in of("alert"))')" True
check "sqlinjection: the UNION alerts' http.url holds union" \
    "$(q "$SQL" '[("union" in r["http"]["url"].lower()) for r in of("alert") if "UNION" in r["alert"]["signature"]]')" "[True, True]"
check "ldaps: the tls records name the server" \
    "$(q "$T/eve.$(awk -F'\t' '$2 ~ /ldaps-port-443-dsb.pcapng$/ { print $1; exit }' "$T/index").json" \
      'sorted({r["tls"].get("sni", "") for r in of("tls")})')" "['ldaps.suspect.network']"

# ---------------------------------------------------------------- options
C="$DATA/pcaps/chrissanders/http_dvwa_sqlinjection.pcapng"
# shellcheck disable=SC2086
"$CG" $RUN -r "$C" -S rules --eve-types alert -o "$T/o1.json"
check "--eve-types alert: alerts only" "$(q "$T/o1.json" 'list(types())')" "['alert']"
# shellcheck disable=SC2086
"$CG" $RUN -r "$C" -S rules --eve-types 'http, flow' -o "$T/o2.json"
check "--eve-types http,flow" "$(q "$T/o2.json" 'sorted(types())')" "['flow', 'http']"
# shellcheck disable=SC2086
"$CG" $RUN -r "$C" -S rules -o "$T/o3.json"
check "default types: alert anomaly http dns tls flow (those present)" \
    "$(q "$T/o3.json" 'sorted(types())')" "['alert', 'flow', 'http']"
# shellcheck disable=SC2086
"$CG" $RUN -r "$C" -S rules --eve-types alert --eve-payload --eve-packet -o "$T/o4.json"
check "--eve-payload: the bytes matched, base64" \
    "$(q "$T/o4.json" 'all(b"union" in base64.b64decode(r["payload"]).lower() and r["payload_printable"] for r in of("alert") if "UNION" in r["alert"]["signature"])')" True
check "--eve-packet: the frame and its link type" \
    "$(q "$T/o4.json" 'all(len(base64.b64decode(r["packet"])) > 54 and r["packet_info"]["linktype"] == 1 for r in of("alert"))')" True
# shellcheck disable=SC2086
"$CG" $RUN -r "$C" -S rules --eve-types alert --eve-alert-fields payload,packet -o "$T/o5.json"
check "--eve-alert-fields payload,packet" \
    "$(q "$T/o5.json" 'all("payload" in r and "packet" in r and "payload_printable" not in r for r in of("alert"))')" True
# shellcheck disable=SC2086
"$CG" $RUN -r "$C" -S rules --no-app-context -o "$T/o6.json"
check "--no-app-context: no http fields, no http records" \
    "$(q "$T/o6.json" 'len(of("alert")) > 0 and not any("http" in r for r in recs)')" True
"$PY" "$VALIDATE" --allow-extra-top "$SCHEMA" "$T/o4.json" > /dev/null
check "payload and packet validate" "$?" 0

# bad names: exit 2, one line
"$CG" $RUN -r "$C" -S rules --eve-types alert,foo -o "$T/o7.json" 2> "$T/bad.err"
check "--eve-types foo: exit" "$?" 2
check "--eve-types foo: message" "$(cat "$T/bad.err")" \
    "canhgac run: --eve-types: unknown event type 'foo' (alert, http, dns, tls, flow, anomaly, all)"
"$CG" $RUN -r "$C" -S rules --eve-alert-fields payload,pcap -o "$T/o7.json" 2> "$T/bad.err"
check "--eve-alert-fields pcap: exit" "$?" 2
check "--eve-alert-fields pcap: message" "$(cat "$T/bad.err")" \
    "canhgac run: --eve-alert-fields: unknown field 'pcap' (payload, payload_printable, packet)"
"$CG" run --help > "$T/help.out"
check "run --help names --eve-types" "$(grep -c -e '--eve-types' -e '--eve-payload' -e '--eve-packet' -e '--eve-alert-fields' -e '--no-app-context' "$T/help.out")" 5

e2e_done e2e_eve
