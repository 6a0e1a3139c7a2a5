# e2e_lib.sh — what the end-to-end scripts share, sourced after they set
# B (the build dir): CG, H, DATA, a temporary directory T with its own
# rules cache, and the check functions. Each script ends with
# `e2e_done NAME`, which prints "NAME: N passed, N failed", removes T and
# gives the exit status.
CG="$B/canhgac"
H="$B/e2e_helper"
DATA=${CANHGAC_DATA:-../shared/data}
T=$(mktemp -d "/tmp/canhgac-${E2E_NAME:-e2e}.XXXXXX")
export CANHGAC_CACHE="$T/cache"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# check NAME GOT WANT
check() { if [ "$2" = "$3" ]; then ok; else bad "$1: got [$2] want [$3]"; fi; }
# check_grep NAME FILE PATTERN: FILE holds a line matching PATTERN (grep -E)
check_grep() { if grep -Eq -- "$3" "$2"; then ok; else bad "$1: no line matching [$3] in: $(cat "$2")"; fi; }
lines() { wc -l < "$1" | tr -d ' '; }
# run_bad NAME PATTERN ARGS...: `canhgac ARGS` exits 2 with one line on
# stderr matching PATTERN
run_bad() {
    name=$1; pat=$2; shift 2
    "$CG" "$@" > "$T/bad.out" 2> "$T/bad.err"
    check "$name exit" "$?" 2
    check "$name one line" "$(lines "$T/bad.err")" 1
    check_grep "$name message" "$T/bad.err" "$pat"
}
e2e_done() {
    rm -rf "$T"
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
