#!/bin/sh
# make demo: generates the sample traffic of a provincial data center with the
# starter rules' attacks inside, runs the pipeline on it and prints the incidents.
set -e
B=${1:-build}
OUT=demo-out
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== generating sample traffic ($OUT/sample.pcap, ground truth $OUT/truth.tsv)"
"$B/gen_traffic" -o "$OUT/sample.pcap" -t "$OUT/truth.tsv"
echo
echo "== canhgac run -r $OUT/sample.pcap -S rules/ -d $OUT/store -o $OUT/eve.json"
"$B/canhgac" run -r "$OUT/sample.pcap" -S rules/ -d "$OUT/store" -o "$OUT/eve.json" --cache "$OUT/cache"
echo
echo "== canhgac query -d $OUT/store --limit 0"
"$B/canhgac" query -d "$OUT/store" --limit 0
echo
echo "== canhgac query -d $OUT/store sev=high --json --limit 3"
"$B/canhgac" query -d "$OUT/store" sev=high --json --limit 3
echo
echo "== first EVE alert line ($OUT/eve.json)"
head -n 1 "$OUT/eve.json"
