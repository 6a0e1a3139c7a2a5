#!/bin/sh
# mkman.sh — the manual pages of canhgac, made from the built command's own
# --help texts so that the two cannot say different things: canhgac.1 from
# `canhgac --help`, and canhgac-CMD.1 for each command its "commands:" list
# names whose `canhgac CMD --help` (or `canhgac CMD ACTION --help`, as
# "rules check") prints a usage. A command added to that list gets its page
# with no change here. tools/man/help2roff.awk does the conversion.
#
# Usage: tools/man/mkman.sh CANHGAC OUTDIR    (make all runs it into $(B)/man)
set -eu
cg=$1
out=$2
awkf=$(dirname "$0")/help2roff.awk
tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp" "$out"
trap 'rm -rf "$tmp"' EXIT

source=$("$cg" version 2> /dev/null || echo canhgac)
"$cg" --help > "$tmp/canhgac.help"

# "WORDS<tab>TEXT" for each entry of the "commands:" list: its words up to
# two spaces, its text (with the lines under it) up to the first ": "
LC_ALL=C awk '
    /^commands:$/ { on = 1; next }
    on && /^$/ { on = 0 }
    on && /^  [a-z]/ {
        if (w != "") print w "\t" t
        s = substr($0, 3); i = index(s, "  ")
        w = substr(s, 1, i - 1); t = substr(s, i); sub(/^ +/, "", t); next
    }
    on && /^   / { s = $0; sub(/^ +/, "", s); t = t " " s }
    END { if (w != "") print w "\t" t }
' "$tmp/canhgac.help" | while IFS='	' read -r words text; do
    cmd=${words%% *}
    [ -e "$tmp/canhgac-$cmd.1" ] && continue
    found=
    # shellcheck disable=SC2086 # words: the command and its action
    for try in "$cmd" "$words"; do
        if "$cg" $try --help > "$tmp/$cmd.help" 2> /dev/null &&
           head -n 1 "$tmp/$cmd.help" | grep -q '^usage: '; then
            found=1
            break
        fi
    done
    [ -n "$found" ] || continue
    printf '%s\t%s\n' "$cmd" "${text%%: *}" >> "$tmp/pages"
done
[ -s "$tmp/pages" ] || { echo "mkman.sh: no command found in '$cg --help'" >&2; exit 1; }

all=$(cut -f 1 "$tmp/pages" | sed 's/^/canhgac-/; s/$/(1)/' | tr '\n' ' ')
while IFS='	' read -r cmd text; do
    # shellcheck disable=SC2086 # $all: one page a word
    others=$(printf '%s\n' $all | grep -vx "canhgac-$cmd(1)" | tr '\n' ' ')
    LC_ALL=C awk -f "$awkf" -v name="canhgac-$cmd" -v whatis="$text" -v source="$source" \
        -v seealso="canhgac(1) $others" < "$tmp/$cmd.help" > "$tmp/canhgac-$cmd.1"
done < "$tmp/pages"

# canhgac.1: NAME says what the first sentence says ("canhgac keeps watch ...")
whatis=$(awk 'NR > 1 && $0 != "" { print; exit }' "$tmp/canhgac.help" |
    sed 's/^canhgac //; s/[:.].*//')
LC_ALL=C awk -f "$awkf" -v name=canhgac -v whatis="$whatis" -v source="$source" \
    -v seealso="$all" < "$tmp/canhgac.help" > "$tmp/canhgac.1"

# replace the pages of the last build (a command gone takes its page along);
# canhgac.1 last, the newest, as make compares its time
rm -f "$out"/canhgac*.1
for f in "$tmp"/canhgac-*.1 "$tmp/canhgac.1"; do
    mv "$f" "$out/"
done
touch "$out/canhgac.1"
