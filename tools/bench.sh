#!/bin/sh
# make bench: the performance figures (long; not part of make test).
#   1. decode only and detection with the starter rules, then with every ET Open
#      rule that loads, then with ET Open's payload rules alone (those both modes
#      evaluate), over a generated HTTP-heavy capture of about 1 GB (median of 5
#      runs each; the decode-only baseline and the packets-only runs measured in
#      the same process, alternating with the runs with TCP reassembly and
#      HTTP/TLS/DNS parsing); Hyperscan's speed by piece length (64 B to 64 KiB)
#      with the stream rules' fast patterns; the cost of the EVE output (alert
#      lines only against every event type, with the starter rules); the scan and DNS tunnel
#      detectors' cost per packet (the worker with and without them) and their
#      table under a flood of a million random sources; then reassembly alone,
#      its memory per flow and a million flows;
#      the whole pipeline with ET Open on 1, 2 and 4 workers (file input in
#      memory; the speed-up over 1 worker) and the reader's own ceiling;
#   2. ET Open load time cold and from the cache, and peak RSS;
#   3. one core like for like (tools/bench_core.sh): `canhgac run -r -w 1` whole,
#      over the 222 MB bench capture of gen_bench_pcap.py, with 5,000 quiet and
#      5,000 noisy ET Open contents and with ET Open (median of BENCH_RUNS,
#      default 7; BENCH_BASE=OTHER_CANHGAC runs another build alongside);
#   4. the full-packet ring (tools/bench_ring.sh): `canhgac run` without and
#      with --pcap-dir, alternating (median of BENCH_RUNS): the ratio of
#      their packets/s and the ring's bytes written per second;
#   5. `case export` of a 1,000-incident case to a directory and a .tar.gz,
#      and `case verify` of each (tools/bench_case.sh);
#   6. the incident store: ingest of synthetic incidents (one alert each) and
#      the analysts' queries over them (BENCH_INCIDENTS, default 10,000,000;
#      about 5.5 GB under BENCH_DIR);
#   7. the layer policy's time pass over 1,000,000 incidents, writing and
#      with nothing owed (tools/bench_layers.sh), and its cost inside `run`:
#      without and with --policy (--escalate-every 1), alternating
#      (tools/bench_policy_run.sh);
#   8. `canhgac serve` over the 10M store (tools/bench_serve.sh): server time
#      of /api/dashboard and of a query's first page (median, p99), wrk on an
#      incident's page, peak RSS, the dashboard's page weight;
#   9. `canhgac share` of 100,000 incidents at layer 4 as one STIX 2.1
#      bundle: the median time of BENCH_RUNS runs and the bundle's size
#      (tools/bench_share.sh).
# BENCH_BYTES overrides the capture size; BENCH_RUNS the number of runs.
set -e
B=${1:-build}
DATA=${CANHGAC_DATA:-../shared/data}
BYTES=${BENCH_BYTES:-1000000000}
RUNS=${BENCH_RUNS:-5}
W=${BENCH_DIR:-/tmp/canhgac-bench}
mkdir -p "$W"
if [ ! -s "$W/http-$BYTES.pcap" ]; then
    echo "== generating a capture of about $BYTES bytes"
    "$B/gen_traffic" -o "$W/http-$BYTES.pcap" -t "$W/truth.tsv" --bytes "$BYTES"
fi
echo "== starter rules (rules/): with streams, and packets only"
"$B/bench_pipeline" -r "$W/http-$BYTES.pcap" -S rules --runs "$RUNS" --compare
echo "== ET Open (every rule that loads): with TCP reassembly and HTTP/TLS/DNS parsing, and packets only"
"$B/bench_pipeline" -r "$W/http-$BYTES.pcap" -S "$DATA/rules/etopen" --runs "$RUNS" --compare
echo "== ET Open's payload rules (no application buffer): with streams, and packets only"
"$B/bench_pipeline" -r "$W/http-$BYTES.pcap" -S "$DATA/rules/etopen" --runs "$RUNS" --compare \
    --payload-only
echo "== workers: the whole pipeline (reader, workers, writer) with ET Open, 1, 2 and 4 workers"
mkdir -p "$W/cache"
"$B/bench_pipeline" -r "$W/http-$BYTES.pcap" -S "$DATA/rules/etopen" --cache "$W/cache" \
    --runs "$RUNS" --workers 1,2,4
echo "== Hyperscan by piece length: what scanning streams in large pieces gains over packets"
"$B/bench_scan" -r "$W/http-$BYTES.pcap" -S rules
"$B/bench_scan" -r "$W/http-$BYTES.pcap" -S "$DATA/rules/etopen"
echo "== EVE output: alert lines only against every event type (http, dns, tls, flow, anomaly)"
"$B/bench_pipeline" -r "$W/http-$BYTES.pcap" -S rules --runs "$RUNS" --eve
echo "== detectors (scans, DNS tunnels): their cost per packet, their memory under a flood"
"$B/bench_detectors" -r "$W/http-$BYTES.pcap" -S rules --runs "$RUNS"
echo "== reassembly alone; memory per flow; a million flows"
"$B/bench_reasm"
echo "== ET Open load time and memory"
rm -rf "$W/cache"
for i in 1 2 3; do   # the first compiles (cold); the next ones read the cache
    "$B/bench_pipeline" --load -S "$DATA/rules/etopen" --cache "$W/cache"
done
sh tools/bench_core.sh "$B"
sh tools/bench_ring.sh "$B"
echo "== case export of a 1,000-incident case (tools/bench_case.sh)"
sh tools/bench_case.sh "$B"
echo "== incident store"
rm -rf "$W/store"
"$B/bench_store" -n "${BENCH_INCIDENTS:-10000000}" -a "$W/store"
echo "== period reports over that store (tools/bench_report.sh)"
sh tools/bench_report.sh "$B" "$W/store"
rm -rf "$W/store"
echo "== the layer policy's time pass (tools/bench_layers.sh)"
sh tools/bench_layers.sh "$B"
sh tools/bench_policy_run.sh "$B"
echo "== the web console over that store (tools/bench_serve.sh)"
sh tools/bench_serve.sh "$B" "$W/store"
echo "== share of 100,000 incidents as a STIX 2.1 bundle (tools/bench_share.sh)"
sh tools/bench_share.sh "$B"
