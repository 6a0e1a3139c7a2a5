#!/bin/sh
# Runs every unit test binary of a build dir (build/ or build-san/) from the
# top of the tree, and prints one closing line with the totals.
B=${1:-build}
pass=0; fail=0
for t in "$B"/test_*; do
    [ -x "$t" ] || continue
    if "$t" > "$t.log" 2>&1; then
        pass=$((pass + 1)); tail -n 1 "$t.log"
    else
        fail=$((fail + 1)); echo "FAIL $t"; cat "$t.log"
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
