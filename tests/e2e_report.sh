#!/bin/sh
# e2e_report.sh — `canhgac report` over the generated sample traffic (one
# round of gen_traffic, the shipped rules, run --policy rules/layers.conf:
# 103 incidents, their times moved to three hours ago with editcap,
# escalations in their histories), with
# triage by `incident set` (acknowledged, resolved, false positives):
#  - every figure of --json against the store: query --count for each
#    severity, status, day, classtype, agency, zone and layer, --top sid and
#    --top src for the top tables, the histories (incident show --json) for
#    the escalations and the times to acknowledge and resolve (medians and
#    90th percentiles reckoned here), the targets and breaches of a test
#    policy, the backlog at the end of the period (as today) and at an
#    RFC 3339 end before the triage (all open then)
#    and for a period up to tomorrow (as today), the tuning hint, the log's
#    tree size (store verify) and a checkpoint verified and a changed one
#    refused;
#  - --agency: the totals of query's agency = NAME;
#  - PDF (--lang vi and en): pdftotext finds the headings, pdfinfo's page
#    count is the one the command printed; HTML: python3's html.parser finds
#    every tag closed, the SVG chart, the text escaped;
#  - an empty period (all three formats say so), the end before the start,
#    a bad date, an unknown language and extension, a missing store.
# TZ=UTC: days are cut in UTC here, as query's dates are. E2E_QUICK=1 (the
# sanitizer pass) makes the English PDF only, checks each day's total but
# not its severities, and leaves out the reckoning from the 103 histories.
#
# Usage: tests/e2e_report.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=report
. tests/e2e_lib.sh
export TZ=UTC

"$B/gen_traffic" -o "$T/g.pcap" -t "$T/truth.tsv" 2> /dev/null || bad "gen_traffic failed"
# the traffic moved to three hours ago (it starts 2025-11-24T08:00:00Z), so
# that triage now is late for some targets and in time for others
NOW=$(date -u +%s)
editcap -t $((NOW - 1763971200 - 3 * 3600)) "$T/g.pcap" "$T/sample.pcap" || bad "editcap failed"
FROM=$(date -u -d @$((NOW - 2 * 86400)) +%F)
TO=$(date -u -d @"$NOW" +%F)
"$CG" run -q -r "$T/sample.pcap" -S rules -d "$T/s" -w 2 --policy rules/layers.conf 2> "$T/run.err"
check "run: exit" "$?" 0
S="-d $T/s"
q() { "$CG" query $S --count "$@"; }

# triage: three of the four incidents of 1:9100204 false positives; of
# the others four acknowledged, two resolved (one through investigating)
"$CG" query $S --json --limit 0 'gid = 1 and sid = 9100204' | jq -r .incident_id | sort -n > "$T/fpids"
check "four incidents of 1:9100204" "$(lines "$T/fpids")" 4
for id in $(head -n 3 "$T/fpids"); do "$CG" incident set $S "$id" status=fp --as lan > /dev/null; done
set -- $("$CG" query $S --json --limit 0 'not (gid = 1 and sid = 9100204)' | jq -r .incident_id | sort -n | head -n 6)
for id in "$1" "$2" "$3" "$4"; do "$CG" incident set $S "$id" status=ack --as lan > /dev/null; done
"$CG" incident set $S "$5" status=resolved --as lan > /dev/null
"$CG" incident set $S "$6" status=investigating --as lan > /dev/null
"$CG" incident set $S "$6" status=resolved --as chi > /dev/null

# a policy with targets: acknowledging after three hours is late for high
# only; resolving within three hours is in time
cat > "$T/p.conf" << 'EOP'
# the e2e's targets
target high acknowledge 15m resolve 4h
target medium acknowledge 4h resolve 3d
target low acknowledge 1d resolve 14d
when any: layers 1
EOP

"$CG" report $S --from "$FROM" --to "$TO" --policy "$T/p.conf" --json > "$T/r.json" 2> "$T/r.err"
check "json: exit" "$?" 0
check "json: quiet" "$(cat "$T/r.err")" ""
j() { jq -r "$1" "$T/r.json"; }
Q=$(j .query)
S0=$(date -u -d "$FROM" +%s)
U0=$(($(date -u -d "$TO" +%s) + 86400))
check "the period's query" "$Q" "since @$S0 and until @$U0"
check "period: since" "$(j .period.since)" "${FROM}T00:00:00Z"
check "period: until (the last day included)" "$(j .period.until)" "$(date -u -d @$U0 +%FT%TZ)"
check "total" "$(j .total)" "$(q "$Q")"
check "total: 103" "$(j .total)" 103
for s in high medium low; do
    check "by severity: $s" "$(j ".by_severity.$s")" "$(q "$Q and sev = $s")"
done
check "by severity: info (and below)" "$(j .by_severity.info)" "$(q "$Q and sev <= info")"
for s in new acknowledged investigating resolved false-positive; do
    check "by status: $s" "$(j ".by_status[\"$s\"]")" "$(q "$Q and status = $s")"
done
check "by status: 4 acknowledged" "$(j .by_status.acknowledged)" 4
check "by status: 2 resolved" "$(j .by_status.resolved)" 2
# days: 30, each against query; the histogram's days are the non-empty ones
check "by day: 3 days" "$(j '.by_day | length')" 3
j '.by_day[] | "\(.start_epoch) \(.end_epoch) \(.high) \(.medium) \(.low) \(.info) \(.total)"' > "$T/days"
daybad=0
while read -r a z hi me lo in to; do
    [ "$to" = "$(q "since @$a and until @$z")" ] || daybad=$((daybad + 1))
    if [ "$to" != 0 ] && [ -z "$E2E_QUICK" ]; then
        [ "$hi $me $lo $in" = "$(q "since @$a and until @$z and sev = high") $(q "since @$a and until @$z and sev = medium") $(q "since @$a and until @$z and sev = low") $(q "since @$a and until @$z and sev <= info")" ] || daybad=$((daybad + 1))
    fi
done < "$T/days"
check "by day: every day and severity as query counts" "$daybad" 0
"$CG" query $S --histogram day --json "$Q" | jq -r '"\(.start[0:10]) \(.count)"' > "$T/hist"
j '.by_day[] | select(.total > 0) | "\(.day) \(.total)"' > "$T/hist2"
check "by day: the non-empty days are query's histogram" "$(cat "$T/hist2")" "$(cat "$T/hist")"
# categories
j '.by_classtype[] | "\(.count)\t\(.classtype)"' > "$T/cls"
clsbad=0
while IFS="$(printf '\t')" read -r n c; do
    [ "$n" = "$(q "$Q and classtype = \"$c\"")" ] || clsbad=$((clsbad + 1))
done < "$T/cls"
check "by classtype: each as query counts" "$clsbad" 0
check "by classtype: they add up" "$(j '[.by_classtype[].count] | add')" 103
check "RSIT: web-application-attack" "$(j '.by_classtype[] | select(.classtype == "web-application-attack") | "\(.rsit_class) / \(.rsit_type)"')" "Intrusion Attempts / Exploitation of known vulnerabilities"
check "RSIT: sdf" "$(j '.by_classtype[] | select(.classtype == "sdf") | "\(.rsit_class) / \(.rsit_type)"')" "Information Content Security / Leak of confidential information"
check "RSIT: a class is the sum of its classtypes" "$(j '.by_rsit[] | select(.rsit_class == "Intrusion Attempts") | .count')" "$(j '[.by_classtype[] | select(.rsit_class == "Intrusion Attempts") | .count] | add')"
check "RSIT: they add up" "$(j '[.by_rsit[].count] | add')" 103
# top tables: as query --top gives them, in its order
check "top signatures = query --top sid" "$(j '.top_signatures[] | "\(.gid):\(.signature_id) \(.count) \(.signature)"')" \
    "$("$CG" query $S --top sid --limit 10 --json "$Q" | jq -r '"\(.gid):\(.signature_id) \(.count) \(.signature)"')"
check "top sources = query --top src" "$(j '.top_sources[] | "\(.src_ip) \(.count)"')" \
    "$("$CG" query $S --top src --limit 10 --json "$Q" | jq -r '"\(.src_ip) \(.count)"')"
check "distinct sources" "$(j .distinct_sources)" "$("$CG" query $S --top src --limit 0 --json "$Q" | wc -l | tr -d ' ')"
check "a top source's country" "$(j '.top_sources[0].country')" \
    "$("$CG" query $S --json --limit 1 "$Q and src = $(j '.top_sources[0].src_ip')" 2> /dev/null | jq -r '.src_geo.country // ""')"
# agencies and zones of the destinations
j '.agencies[] | "\(.count)\t\(.agency)"' > "$T/ag"
j '.zones[] | "\(.count)\t\(.zone)"' > "$T/zo"
agbad=0
while IFS="$(printf '\t')" read -r n a; do
    [ "$n" = "$(q "$Q and dst.agency = \"$a\"")" ] || agbad=$((agbad + 1))
done < "$T/ag"
while IFS="$(printf '\t')" read -r n a; do
    [ "$n" = "$(q "$Q and dst.zone = \"$a\"")" ] || agbad=$((agbad + 1))
done < "$T/zo"
check "agencies and zones: each as query counts" "$agbad" 0
check "agencies: six (one unknown)" "$(lines "$T/ag")" 6
# layers, escalations: query's layer = N; the histories' escalation entries
for l in 1 2 3 4; do
    check "layer $l: incidents" "$(j ".layers[$((l - 1))].incidents")" "$(q "$Q and layer = $l")"
done
if [ -z "$E2E_QUICK" ]; then # the histories of all 103 incidents, one by one
for id in $("$CG" query $S --json --limit 0 "$Q" | jq -r .incident_id); do
    "$CG" incident show $S --json "$id" | jq -c '{id: .incident.incident_id, first: .incident.first_seen, sev: .incident.severity_name, h: .history}'
done > "$T/hist.jsonl"
check "histories: 103" "$(lines "$T/hist.jsonl")" 103
python3 - "$T/hist.jsonl" "$T/r.json" > "$T/py.out" 2>&1 << 'EOP'
# The figures the histories give, reckoned independently: escalation entries by
# layer added (old and new layer lists), times to acknowledge and resolve by
# severity (nearest-rank median and 90th percentile), breaches of the e2e
# policy's targets. Prints one line per disagreement.
import json, sys, math, datetime
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
rep = json.load(open(sys.argv[2]))
now = datetime.datetime.strptime(rep["generated"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
esc = [0, 0, 0, 0]; escalated = 0
times = {s: {"acknowledge": [], "resolve": []} for s in ("high", "medium", "low", "info")}
opened = {s: {"acknowledge": 0, "resolve": 0} for s in times}
targets = {"high": (900, 14400), "medium": (14400, 259200), "low": (86400, 14 * 86400)}
breaches = 0
for line in open(sys.argv[1]):
    x = json.loads(line)
    sev = x["sev"] if x["sev"] in times else "info"
    first = t(x["first"])
    ack = res = None; e = False
    for h in x["h"]:
        if h["field"] == "status":
            if ack is None and h["old"] == "new" and h["new"] != "new":
                ack = t(h["when"])
            if res is None and h["new"] in ("resolved", "false-positive"):
                res = t(h["when"])
        elif h["field"] == "layers":
            e = True
            old = set(str(h.get("old", "")).replace(",", " ").split())
            for l in str(h["new"]).replace(",", " ").split():
                if l not in old:
                    esc[int(l) - 1] += 1
    escalated += e
    for step, when, i in (("acknowledge", ack, 0), ("resolve", res, 1)):
        if when is None:
            opened[sev][step] += 1
            taken = int(now - first)
        else:
            taken = int(max(0, when - first))
            times[sev][step].append(taken)
        if sev in targets and taken > targets[sev][i]:
            breaches += 1
def pct(v, p):
    v = sorted(v)
    return v[math.ceil(len(v) * p / 100) - 1] if v else None
for l in range(4):
    if rep["layers"][l]["escalations"] != esc[l]:
        print("escalations to layer", l + 1, rep["layers"][l]["escalations"], "!=", esc[l])
if rep["escalated_incidents"] != escalated:
    print("escalated", rep["escalated_incidents"], "!=", escalated)
for r in rep["times"]:
    s = r["severity"]
    for step in ("acknowledge", "resolve"):
        v = times[s][step]; got = r[step]
        want = {"done": len(v), "open": opened[s][step], "median_s": pct(v, 50), "p90_s": pct(v, 90)}
        for k in want:
            # seconds are cut from microseconds on both sides: allow one
            if k.endswith("_s") and want[k] is not None and got[k] is not None:
                if abs(got[k] - want[k]) > 1:
                    print(s, step, k, got[k], "!=", want[k])
            elif got[k] != want[k]:
                print(s, step, k, got[k], "!=", want[k])
if rep["breaches_total"] != breaches:
    print("breaches", rep["breaches_total"], "!=", breaches)
print("escalations", sum(esc))
EOP
check "histories: escalations, times, breaches as reckoned from incident show" "$(cat "$T/py.out")" "escalations $(j '[.layers[].escalations] | add')"
fi
check "escalations: some" "$(j '[.layers[].escalations] | add | . > 0')" true
check "acknowledged: 9 (leaving new: 4 ack, 2 resolved, 3 fp)" "$(j '[.times[] | .acknowledge.done] | add')" 9
check "resolved: 2 + the 3 false positives" "$(j '[.times[] | .resolve.done] | add')" 5
check "targets: high from the policy" "$(j '.times[0].acknowledge.target_s') $(j '.times[0].resolve.target_s')" "900 14400"
check "targets: their lines" "$(j '[.times[].target_line] | map(tostring) | join(" ")')" "2 3 4 null"
check "targets: info has none" "$(j '.times[3].acknowledge.target_s')" null
check "low, medium: no breach" "$(j '[.times[1,2] | .acknowledge.breaches + .resolve.breaches] | add')" 0
check "high: every one acknowledged late or not yet" "$(j '.times[0].acknowledge.breaches')" "$(j .by_severity.high)"
check "high: resolved in time" "$(j '.times[0].resolve.breaches')" 0
check "breaches: those" "$(j .breaches_total)" "$(j .by_severity.high)"
check "breaches listed: the longest, at most 200" "$(j '.breaches | length')" "$(j '[.breaches_total, 200] | min')"
check "breaches listed: longest first" "$(j '[.breaches[].taken_s] | . == (sort | reverse)')" true
check "policy named" "$(j .policy)" "p.conf"
# backlog: to the end of today, as today's statuses say
check "backlog at the end: open today" "$(j .backlog.open_at_end)" "$(q "until @$U0 and not status in [resolved, false-positive]")"
check "backlog: 98" "$(j .backlog.open_at_end)" 98
check "backlog by severity adds up" "$(j '[.backlog.by_severity[]] | add')" "$(j .backlog.open_at_end)"
# a period that ends (an RFC 3339 time) an hour ago, before the triage:
# every incident was open then
END=$(date -u -d @$((NOW - 3600)) +%FT%TZ)
"$CG" report $S --from "$FROM" --to "$END" --json > "$T/r2.json"
check "backlog an hour ago: every incident" "$(jq .backlog.open_at_end "$T/r2.json")" "$(q "until @$((NOW - 3600))")"
check "backlog an hour ago: 103" "$(jq .backlog.open_at_end "$T/r2.json")" 103
check "backlog an hour ago: 98 of them open today" "$(jq .backlog.open_now "$T/r2.json")" 98
check "an RFC 3339 end: the query's bound" "$(jq -r .query "$T/r2.json")" "since @$S0 and until @$((NOW - 3600))"
check "no policy: no target" "$(jq '[.times[].acknowledge.target_s] | unique' -c "$T/r2.json") $(jq .breaches_total "$T/r2.json")" "[null] 0"
# tuning: 1:9100204, three of four false positives
check "tuning hint" "$(j '.tuning.rules[] | "\(.gid):\(.signature_id) \(.incidents) \(.false_positives)"')" \
    "1:9100204 $(q "$Q and gid = 1 and sid = 9100204") $(q "$Q and gid = 1 and sid = 9100204 and status = fp")"
# integrity
check "tree size = store verify's leaves" "$(j .integrity.tree_size)" \
    "$("$CG" store verify $S | sed -n 's/.* match the latest of \([0-9]*\) leaves.*/\1/p')"
check "no signing key: said" "$(j .integrity.signing_key) $(j .integrity.checkpoint)" "false null"
"$CG" keys init -d "$T/s" > /dev/null
"$CG" store checkpoint $S -o "$T/cp" 2> /dev/null
"$CG" report $S --from "$FROM" --to "$TO" --checkpoint "$T/cp" --verify --json > "$T/r3.json"
check "checkpoint verified" "$(jq -c '[.integrity.signing_key, .integrity.checkpoint.verified, .integrity.records_verified]' "$T/r3.json")" "[true,true,true]"
sed 's/^\([0-9]*\)$/1\1/' "$T/cp" > "$T/cp-bad"
"$CG" report $S --from "$FROM" --to "$TO" --checkpoint "$T/cp-bad" --json > "$T/r4.json"
check "a changed checkpoint: not verified" "$(jq .integrity.checkpoint.verified "$T/r4.json")" false

# --agency: query's agency = NAME
"$CG" report $S --from "$FROM" --to "$TO" --agency "Công an tỉnh" --json > "$T/ra.json"
check "--agency: total" "$(jq .total "$T/ra.json")" "$(q "$Q and agency = \"Công an tỉnh\"")"
check "--agency: the query names it" "$(jq -r .query "$T/ra.json")" "$Q and agency = \"Công an tỉnh\""
check "--agency: top signatures" "$(jq -c '[.top_signatures[] | [.signature_id, .count]]' "$T/ra.json")" \
    "$("$CG" query $S --top sid --limit 10 --json "$Q and agency = \"Công an tỉnh\"" | jq -s -c '[.[] | [.signature_id, .count]]')"

# ---- PDF ----------------------------------------------------------------------
pdf_check() { # LANG FILE HEADINGS...
    lang=$1; f=$2; shift 2
    "$CG" report $S --from "$FROM" --to "$TO" --policy "$T/p.conf" --lang "$lang" -o "$f" 2> "$T/pdf.err"
    check "pdf $lang: exit" "$?" 0
    pages=$(sed -n 's/.*, \([0-9]*\) pages$/\1/p' "$T/pdf.err")
    check "pdf $lang: pdfinfo's pages are those written" "$(pdfinfo "$f" | awk '/^Pages:/ { print $2 }')" "$pages"
    check "pdf $lang: several pages" "$([ "${pages:-0}" -ge 3 ] && echo yes)" yes
    pdftotext "$f" "$T/pdf.txt"
    for h in "$@"; do
        check_grep "pdf $lang: '$h'" "$T/pdf.txt" "$h"
    done
    check_grep "pdf $lang: the last page's number" "$T/pdf.txt" "$pages"
}
pdf_check en "$T/r-en.pdf" "Periodic report" "Incidents by day and severity" "Time to acknowledge" \
    "Backlog at the end of the period" "Tuning hints" "Integrity of the store" "Page 1 of"
if [ -z "$E2E_QUICK" ]; then
    pdf_check vi "$T/r-vi.pdf" "Báo cáo định kỳ" "Sự cố theo ngày và mức độ" "Thời gian xác nhận" \
        "Tồn đọng cuối kỳ" "Gợi ý tinh chỉnh luật" "Tính toàn vẹn của kho dữ liệu" "Trang 1 / " \
        "Cơ quan và vùng mạng bị tấn công" "Trung vị"
fi

# ---- HTML ---------------------------------------------------------------------
htmlcheck() { python3 -c '
import sys, html.parser
VOID = {"meta", "br", "img", "hr", "link", "input"}
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.bad = []; s.tags = set()
    def handle_starttag(s, t, a):
        s.tags.add(t)
        if t not in VOID: s.stack.append(t)
    def handle_startendtag(s, t, a): s.tags.add(t)
    def handle_endtag(s, t):
        if not s.stack or s.stack.pop() != t: s.bad.append(t)
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
print("balanced" if not p.bad and not p.stack else "unbalanced %s %s" % (p.bad, p.stack),
      "svg" if "svg" in p.tags and "rect" in p.tags else "no-svg",
      "external" if any(t in p.tags for t in ("script", "link", "img")) else "self-contained")
' "$1"; }
"$CG" report $S --from "$FROM" --to "$TO" --lang vi -o "$T/r.html" 2> /dev/null
check "html: exit" "$?" 0
check "html: parses, chart, nothing outside" "$(htmlcheck "$T/r.html")" "balanced svg self-contained"
check_grep "html: Vietnamese headings" "$T/r.html" "<h2>Sự cố theo ngày và mức độ</h2>"
check_grep "html: lang" "$T/r.html" '<html lang="vi">'
"$CG" report $S --from "$FROM" --to "$TO" --agency 'A<b>&"x' -o "$T/esc.html" 2> /dev/null
check_grep "html: text escaped" "$T/esc.html" "<td>A&lt;b&gt;&amp;&quot;x</td>"
check "html: escaped and balanced" "$(htmlcheck "$T/esc.html")" "balanced svg self-contained"

# ---- an empty period ----------------------------------------------------------
"$CG" report $S --from 2020-01-01 --to 2020-01-31 --json > "$T/e.json"
check "empty: exit" "$?" 0
check "empty: zero, 31 empty days" "$(jq -c '[.total, (.by_day | length), ([.by_day[].total] | add), (.top_sources | length)]' "$T/e.json")" "[0,31,0,0]"
check "empty: backlog before it" "$(jq .backlog.open_at_end "$T/e.json")" 0
"$CG" report $S --from 2020-01-01 --to 2020-01-31 --lang vi -o "$T/e.html" 2> /dev/null
check_grep "empty html: says so" "$T/e.html" "<p>Không có sự cố nào trong kỳ báo cáo.</p>"
check "empty html: parses" "$(htmlcheck "$T/e.html")" "balanced svg self-contained"
"$CG" report $S --from 2020-01-01 --to 2020-01-31 -o "$T/e.pdf" 2> "$T/e.err"
check "empty pdf: exit" "$?" 0
pdftotext "$T/e.pdf" "$T/e.txt"
check_grep "empty pdf: says so" "$T/e.txt" "No incidents in this period."
check "empty pdf: pages" "$(pdfinfo "$T/e.pdf" | awk '/^Pages:/ { print $2 }')" "$(sed -n 's/.*, \([0-9]*\) pages$/\1/p' "$T/e.err")"

# ---- bad input ----------------------------------------------------------------
run_bad "end before start" "^canhgac report: the period ends before it starts \(--to 2025-10-31 is before --from 2025-11-01\)$" \
    report $S --from 2025-11-01 --to 2025-10-31 --json
run_bad "bad date" "^canhgac report: --from: '2025-13-01' is not a date" report $S --from 2025-13-01 --to 2025-12-31 --json
run_bad "bad day" "^canhgac report: --to: '2025-02-30' is not a date" report $S --from 2025-02-01 --to 2025-02-30 --json
run_bad "bad lang" "^canhgac report: --lang: unknown language 'fr' \(en, vi\)$" report $S --from "$FROM" --to "$TO" --lang fr --json
run_bad "bad extension" "^canhgac report: $T/r.docx: unknown output type \(.pdf, .html or .json\)$" report $S --from "$FROM" --to "$TO" -o "$T/r.docx"
run_bad "--json to a .pdf" "^canhgac report: --json writes JSON: -o $T/x.pdf is not a .json file$" report $S --from "$FROM" --to "$TO" --json -o "$T/x.pdf"
run_bad "no store" "^canhgac report: $T/none" report -d "$T/none" --from "$FROM" --to "$TO" --json
run_bad "no period" "^canhgac report: --from DATE and --to DATE are needed$" report $S --json
check "no half file left" "$(ls "$T" | grep -c 'tmp-')" 0
"$CG" report --help > "$T/help.out"
check "--help: exit" "$?" 0
check_grep "--help: usage" "$T/help.out" "^usage: canhgac report"

e2e_done report
