#!/bin/sh
# lint.sh — make lint (and the first step of make test): the house rules a
# compiler does not check.
#   1. Layout: every C file of the tree is as clang-format (.clang-format, the
#      one Debian 12 ships, 14) would write it. `clang-format -i FILE` fixes one.
#   2. Layers: a folder includes only its own headers and those of the folders
#      below it, so the library builds bottom up and no cycle can form:
#        sensor/                 (nothing above)
#        store/                  sensor/
#        analyzer/lang/          sensor/              the rule language
#        analyzer/engine/        sensor/ analyzer/lang/          the matching engine
#        analyzer/output/        sensor/ store/ analyzer/lang/ analyzer/engine/
#                                                     incidents, outputs, the pipeline
#      tools/ and tests/ may include anything.
# Prints one line per problem (FILE:LINE: why) and exits 1 when there is one.
cd "$(dirname "$0")/.." || exit 1
bad=0
if ! command -v clang-format > /dev/null 2>&1; then
    echo "lint: clang-format is not installed (make deps installs it)"
    exit 1
fi
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find sensor analyzer store tools tests -name '*.[ch]')
for f in $files; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then
        line=$(clang-format --style=file "$f" | diff "$f" - | sed -n '1s/^\([0-9]*\).*/\1/p')
        echo "$f:${line:-1}: not in the house layout (clang-format -i $f)"
        bad=1
    fi
done
allowed() {
    case $1 in
    sensor) echo "sensor" ;;
    store) echo "sensor store" ;;
    analyzer/lang) echo "sensor analyzer/lang" ;;
    analyzer/engine) echo "sensor analyzer/lang analyzer/engine" ;;
    analyzer/output) echo "sensor store analyzer/lang analyzer/engine analyzer/output" ;;
    *) echo "*" ;;
    esac
}
for dir in sensor store analyzer/lang analyzer/engine analyzer/output; do
    ok=$(allowed "$dir")
    for f in "$dir"/*.[ch]; do
        [ -f "$f" ] || continue
        grep -n '^#include "' "$f" | while IFS= read -r hit; do
            inc=$(echo "$hit" | sed 's/^[0-9]*:#include "\(.*\)".*/\1/')
            top=$(dirname "$inc")
            fine=0
            for a in $ok; do
                [ "$top" = "$a" ] && fine=1
            done
            [ "$fine" = 1 ] || echo "$f:${hit%%:*}: $dir/ includes $inc (a layer above it)"
        done
    done
done > /tmp/lint-layers.$$
if [ -s /tmp/lint-layers.$$ ]; then
    cat /tmp/lint-layers.$$
    bad=1
fi
rm -f /tmp/lint-layers.$$
n=$(echo "$files" | wc -w)
[ "$bad" = 0 ] && echo "lint: $n files in the house layout, layers hold"
exit $bad
