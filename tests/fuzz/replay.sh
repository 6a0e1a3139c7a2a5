#!/bin/sh
# replay.sh BUILD — replays every corpus of tests/fuzz/corpus/ through its
# harness, built without libFuzzer: BUILD/replay_NAME is tests/fuzz/replay.c
# linked with tests/fuzz/fuzz_NAME.c and BUILD's library (make fuzz-replay
# builds them; make test-san runs this with build-san, under ASan+UBSan with
# the leak check on). Runs from the top of the tree (fuzz_inspect loads
# rules/). Each harness's output goes to BUILD/replay_NAME.log, shown when it
# fails. Prints "fuzz replay: N inputs over M harnesses, F failures"; exits 1
# when F > 0, or when a corpus has no harness or a harness no corpus.
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
inputs=0 harnesses=0 fail=0
for dir in tests/fuzz/corpus/*/; do
    name=$(basename "$dir")
    bin=$B/replay_$name
    if [ ! -x "$bin" ]; then
        echo "fuzz replay: no $bin for $dir"
        fail=$((fail + 1))
        continue
    fi
    harnesses=$((harnesses + 1))
    if "$bin" "$dir" > "$bin.log" 2>&1; then
        n=$(sed -n 's/^replay: \([0-9]*\) inputs$/\1/p' "$bin.log" | tail -n 1)
        inputs=$((inputs + ${n:-0}))
    else
        echo "FAIL fuzz replay $name:"
        tail -n 40 "$bin.log"
        fail=$((fail + 1))
    fi
done
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    name=${name#fuzz_}
    [ -d "tests/fuzz/corpus/$name" ] || { echo "fuzz replay: $src has no corpus"; fail=$((fail + 1)); }
done
echo "fuzz replay: $inputs inputs over $harnesses harnesses, $fail failures"
[ "$fail" -eq 0 ]
