#!/bin/sh
# fuzz.sh BUILD SECONDS [NAME...] — runs each libFuzzer harness BUILD/fuzz_NAME
# (make fuzz builds them with clang) for SECONDS on one core, on a copy of its
# corpus tests/fuzz/corpus/NAME (new inputs go to the copy, under
# BUILD/fuzz-work/NAME/, not into the tree) with tests/fuzz/NAME.dict when
# there is one. Default: every harness. Runs from the top of the tree
# (fuzz_inspect loads rules/). Prints per harness the executions and the
# final coverage (cov, ft) from -print_final_stats=1; a crash, leak or
# timeout leaves its input under BUILD/fuzz-work/NAME/ and is printed with
# how to keep it. Exits 1 when a harness found anything.
B=${1:?usage: fuzz.sh BUILD SECONDS [NAME...]}
SECS=${2:-60}
shift 2 2>/dev/null || shift $#
cd "$(dirname "$0")/../.." || exit 1
names=$*
if [ -z "$names" ]; then
    for src in tests/fuzz/fuzz_*.c; do
        n=$(basename "$src" .c)
        names="$names ${n#fuzz_}"
    done
fi
found=0
for name in $names; do
    bin=$B/fuzz_$name
    [ -x "$bin" ] || { echo "fuzz: no $bin (make fuzz builds it)"; found=1; continue; }
    work=$B/fuzz-work/$name
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp tests/fuzz/corpus/"$name"/* "$work/corpus/" 2>/dev/null
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$SECS" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 \
        -artifact_prefix="$work/artifacts/" $dict "$work/corpus" > "$work/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    last=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$work/log" | tail -n 1)
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    crashes=$(find "$work/artifacts" -type f | wc -l)
    echo "fuzz $name: ${SECS}s, ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus $(ls "$work/corpus" | wc -l) files, $crashes crash files"
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        found=1
        grep -E 'ERROR|SUMMARY|fuzz_[a-z_]*:' "$work/log" | head -n 5
        for f in "$work"/artifacts/*; do
            [ -f "$f" ] || continue
            echo "  $f: reproduce with $bin $f (or make fuzz-replay and $B/replay_$name $f);"
            echo "  once fixed, keep it: cp $f tests/fuzz/corpus/$name/crash-$(sha1sum < "$f" | cut -c1-12)"
        done
    fi
done
exit $found
