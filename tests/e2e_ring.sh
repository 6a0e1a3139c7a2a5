#!/bin/sh
# e2e_ring.sh — the full-packet ring of `run --pcap-dir DIR --pcap-max MB`
# over a generated capture (gen_traffic, one round: about 11,000 packets,
# 3.5 MB):
#  1. --pcap-max 16 (files of 2 MiB: it rotates, deletes nothing): tcpdump
#     -r of the ring files, in order, prints what it prints of the capture;
#     the packets equal those run read; every file has its index; the
#     summary's counters are the last EVE stats line's; the index of an
#     alert's flow_id (EVE) holds as many packets as its flow line counts;
#  2. --pcap-max 1 (files of 128 KiB): files rotate and the oldest are
#     deleted, DIR stays within 1 MiB, the files held are what the summary
#     says (rotated - deleted) and hold the capture's last packets, in order;
#  3. bad input: --pcap-max 0, not a number, without --pcap-dir, a DIR that
#     cannot be made, a DIR that is a file: exit 2, one line;
#  4. a full disk (root: a tmpfs of 512 KiB in a mount namespace of its
#     own, as e2e_full_disk.sh does): run exits 0, stderr says once "pcap
#     ring DIR: No space left on device: ring stopped, detection goes on",
#     the summary says stopped with one write error, and the alerts are the
#     reference run's. Not root: that part is skipped, saying why.
# Usage: tests/e2e_ring.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
if [ "$(id -u)" = 0 ] && [ -z "$RING_NS" ] && command -v unshare > /dev/null &&
    unshare -m true 2> /dev/null; then
    RING_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
E2E_NAME=ring
. tests/e2e_lib.sh
command -v tcpdump > /dev/null || { echo "ring: needs tcpdump (tools/setup.sh)"; exit 1; }
command -v jq > /dev/null || { echo "ring: needs jq (tools/setup.sh)"; exit 1; }
OPTS="-S rules --no-enrich --no-store"
t0=$(date +%s)

"$B/gen_traffic" -o "$T/t.pcap" -t "$T/t.tsv" 2> /dev/null
tcpdump -n -tt -S -r "$T/t.pcap" 2> /dev/null > "$T/all.txt"
nall=$(lines "$T/all.txt")
# summary FIELD ERR: a number of the summary's pcap ring line
summary() { sed -n "s/^  pcap ring  .*[:,] \([0-9]*\) $1.*/\1/p" "$2"; }
# ring_text DIR: tcpdump -r of DIR's pcap files, in their order
ring_text() { for f in "$1"/ring-*.pcap; do tcpdump -n -tt -S -r "$f" 2> /dev/null; done; }

# 1. room for everything
# shellcheck disable=SC2086
"$CG" run $OPTS -r "$T/t.pcap" --pcap-dir "$T/r1" --pcap-max 16 -o "$T/e1.json" --stats 60 2> "$T/err1"
check "1: run" "$?" 0
read_pkts=$(sed -n 's/^  packets    \([0-9]*\) .*/\1/p' "$T/err1")
check "1: the ring's packets are those run read" "$(summary packets "$T/err1")" "$read_pkts"
check "1: and the capture's" "$read_pkts" "$nall"
ring_text "$T/r1" > "$T/r1.txt"
check "1: tcpdump -r of the ring prints the capture" "$(cmp -s "$T/r1.txt" "$T/all.txt" && echo same)" same
check "1: nothing deleted" "$(summary deleted "$T/err1")" 0
rot=$(summary "files rotated" "$T/err1")
[ "$rot" -ge 2 ] || bad "1: $rot files rotated (2 MiB files: 2 expected)"
check "1: a pcap file per rotation" "$(ls "$T/r1"/ring-*.pcap | wc -l | tr -d ' ')" "$rot"
check "1: an index per pcap file" "$(ls "$T/r1"/ring-*.idx | wc -l | tr -d ' ')" "$rot"
check "1: no write error" "$(summary "write errors" "$T/err1")" 0
jq -c 'select(.event_type == "stats") | .canhgac.pcap' "$T/e1.json" | tail -n 1 > "$T/st1"
check "1: stats: packets" "$(jq .packets "$T/st1")" "$read_pkts"
check "1: stats: bytes" "$(jq .bytes "$T/st1")" "$(sed -n 's/^  pcap ring  .*packets, \([0-9]*\) bytes written.*/\1/p' "$T/err1")"
check "1: stats: files rotated" "$(jq .files_rotated "$T/st1")" "$rot"
check "1: stats: stopped" "$(jq .stopped "$T/st1")" false
# the index, as a case reads it: a rule alert's flow_id (the store's and
# EVE's) finds as many packets as the flow's EVE lines count (the
# detectors' alerts are about many flows: their flow_id is none of them)
jq -r 'select(.event_type == "flow") | "\(.flow_id) \(.flow.pkts_toserver + .flow.pkts_toclient)"' \
    "$T/e1.json" > "$T/flows"
jq -r 'select(.event_type == "alert" and .alert.gid == 1) | .flow_id' "$T/e1.json" | sort -u |
    head -n 20 > "$T/alert_ids"
python3 - "$T/r1" "$T/flows" "$T/alert_ids" > "$T/idx.out" << 'EOF'
import glob, struct, sys
d, flows_file, ids_file = sys.argv[1:4]
pk = {}
for path in sorted(glob.glob(d + "/ring-*.idx")):
    b = open(path, "rb").read()
    assert b[:8] == b"CGPIDX1\n", path
    n = struct.unpack_from("<I", b, 56)[0]
    for i in range(n):
        fid, f, l, fo, lo, p, by = struct.unpack_from("<QQQIIII", b, 64 + 40 * i)
        pk[fid] = pk.get(fid, 0) + p
flows = {}
for line in open(flows_file):
    fid, n = line.split()
    flows[fid] = flows.get(fid, 0) + int(n)
ids = [line.strip() for line in open(ids_file) if line.strip()]
bad = [i for i in ids if i not in flows or pk.get(int(i)) != flows[i]]
print(len(ids), len(bad))
EOF
check "1: alerts' flows in the index (checked, differing)" "$(cat "$T/idx.out")" "20 0"

# 2. a small ring: rotation and deletion
# shellcheck disable=SC2086
"$CG" run $OPTS -r "$T/t.pcap" --pcap-dir "$T/r2" --pcap-max 1 -o /dev/null 2> "$T/err2"
check "2: run" "$?" 0
rot=$(summary "files rotated" "$T/err2")
del=$(summary deleted "$T/err2")
[ "$del" -gt 0 ] || bad "2: nothing deleted"
check "2: the ring wrote every packet" "$(summary packets "$T/err2")" "$nall"
check "2: pcap files held (rotated - deleted)" "$(ls "$T/r2"/ring-*.pcap | wc -l | tr -d ' ')" "$((rot - del))"
size=$(cat "$T/r2"/ring-* | wc -c)
[ "$size" -le 1048576 ] || bad "2: DIR holds $size bytes, over 1 MiB"
check "2: no .tmp left" "$(ls "$T/r2" | grep -c tmp)" 0
ring_text "$T/r2" > "$T/r2.txt"
n2=$(lines "$T/r2.txt")
[ "$n2" -gt 0 ] && [ "$n2" -lt "$nall" ] || bad "2: $n2 packets held of $nall"
check "2: the files held are the capture's last packets" \
    "$(tail -n "$n2" "$T/all.txt" | cmp -s - "$T/r2.txt" && echo same)" same
check "2: the oldest pcap went first" "$([ -e "$T/r2/ring-0000000001.pcap" ] && echo kept)" ""

# 3. bad input
run_bad "3: --pcap-max 0" "^canhgac run: --pcap-max: " run $OPTS -r "$T/t.pcap" --pcap-dir "$T/r3" --pcap-max 0
run_bad "3: --pcap-max abc" "^canhgac run: --pcap-max: " run $OPTS -r "$T/t.pcap" --pcap-dir "$T/r3" --pcap-max abc
run_bad "3: --pcap-max alone" "^canhgac run: --pcap-max goes with --pcap-dir" run $OPTS -r "$T/t.pcap" --pcap-max 4
run_bad "3: DIR not made" "^canhgac run: pcap ring $T/no/r: No such file or directory$" \
    run $OPTS -r "$T/t.pcap" --pcap-dir "$T/no/r"
: > "$T/afile"
run_bad "3: DIR a file" "^canhgac run: pcap ring $T/afile: Not a directory$" \
    run $OPTS -r "$T/t.pcap" --pcap-dir "$T/afile"

# 4. a full disk stops the ring, not detection
if [ -z "$RING_NS" ]; then
    echo "ring: full disk skipped: not root (it mounts a tmpfs in a mount namespace of its own)"
else
    M="$T/mnt"
    mkdir -p "$M"
    if mount -t tmpfs -o size=512k tmpfs "$M"; then
        # shellcheck disable=SC2086
        "$CG" run $OPTS -q -r "$T/t.pcap" -o "$T/ref.json" --eve-types alert 2> /dev/null
        # shellcheck disable=SC2086
        "$CG" run $OPTS -r "$T/t.pcap" -o "$T/e4.json" --eve-types alert --pcap-dir "$M/r" \
            --pcap-max 16 2> "$T/err4"
        check "4: run exits 0" "$?" 0
        check "4: one line says the ring stopped" "$(grep -c 'ring stopped' "$T/err4")" 1
        check_grep "4: the line" "$T/err4" "^canhgac: pcap ring $M/r: No space left on device: ring stopped, detection goes on$"
        check_grep "4: the summary" "$T/err4" "^  pcap ring  $M/r: .*, 1 write errors; stopped: No space left on device \\(detection went on\\)$"
        check "4: the alerts are the reference's" \
            "$(jq -c 'del(.timestamp)' "$T/e4.json" | cmp -s - "$(jq -c 'del(.timestamp)' "$T/ref.json" > "$T/ref.c" && echo "$T/ref.c")" && echo same)" same
        n4=$(summary packets "$T/err4")
        [ "$n4" -gt 0 ] && [ "$n4" -lt "$nall" ] || bad "4: $n4 packets written before the disk was full"
        umount "$M"
    else
        bad "4: cannot mount a tmpfs"
    fi
fi
echo "ring: $nall packets; a 1 MiB ring held $n2 of them in $((rot - del)) files ($del deleted); $(($(date +%s) - t0)) s"
e2e_done ring
