#!/bin/sh
# End-to-end tests of the manual pages and the bash completion: make all
# made a page for canhgac and for each command its --help lists (a command
# added there gets one), the pages are what tools/man/mkman.sh makes from
# this binary's --help now, they render without a warning, each shows every
# option of its --help, its usage line, and EXIT STATUS when the help has
# one; make install puts them and the completion under DESTDIR; the
# completion, sourced in bash, completes commands, actions, options and
# option arguments from the help.
# Usage: tests/e2e_man.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
# E2E_QUICK=1 (make test-san): the pages are text made from --help, checked
# in the plain pass; nothing here runs code the sanitizers would see anew
if [ "${E2E_QUICK:-0}" = 1 ]; then
    echo "man: checked in the plain pass (E2E_QUICK=1)"
    exit 0
fi
E2E_NAME=man
. tests/e2e_lib.sh
M="$B/man"

# the commands of `canhgac --help` ("WORDS" of each entry of "commands:")
"$CG" --help > "$T/main.help"
awk '/^commands:$/ { on = 1; next } on && /^$/ { on = 0 }
     on && /^  [a-z]/ { s = substr($0, 3); print substr(s, 1, index(s, "  ") - 1) }' \
    "$T/main.help" > "$T/cmds"
check "commands listed" "$(grep -cxE 'run|query|incident|rules check|ctl' "$T/cmds")" 5

# render PAGE OUT: the page as text (ASCII '-'), its warnings in OUT.err;
# (groff -ww: every warning; else man-db's man); with neither, the roff itself stands in
render() {
    if command -v groff > /dev/null 2>&1; then
        groff -man -Tutf8 -ww -rLL=200n -P-cbou "$1" 2> "$2.err" > "$2.raw"
    elif command -v man > /dev/null 2>&1; then
        MANWIDTH=200 man --warnings -E UTF-8 -l "$1" 2> "$2.err" > "$2.raw"
    else
        : > "$2.err"
        sed 's/\\-/-/g; s/\\f[BIR]//g; s/\\(aq/'"'"'/g; s/\\(ga/`/g' "$1" > "$2.raw"
    fi
    # U+2212 and U+2010, where \- and - are not rendered as ASCII
    sed 's/\xe2\x88\x92/-/g; s/\xe2\x80\x90/-/g' "$2.raw" > "$2"
}

# The requests a page may have: those help2roff.awk writes.
roff_ok() {
    ! grep -E '^[.'"'"']' "$1" | grep -vqE '^\.(TH|SH|SS|TP|PP|nf|fi|RS|RE|br|nh|ad|\\")( |$)'
}

# page_check NAME HELP: NAME.1 against the help text in file HELP
page_check() {
    p="$M/$1.1"
    if [ ! -f "$p" ]; then bad "$1: no page $p"; return; fi
    ok
    render "$p" "$T/$1.txt"
    check "$1: renders without warnings" "$(cat "$T/$1.txt.err")" ""
    if roff_ok "$p"; then ok; else bad "$1: a request help2roff.awk does not write: $(grep -E '^\.' "$p" | sort -u | tr '\n' ' ')"; fi
    check_grep "$1: NAME" "$T/$1.txt" "^NAME"
    for s in SYNOPSIS DESCRIPTION "SEE ALSO"; do check_grep "$1: $s" "$T/$1.txt" "^$s\$"; done
    # the usage line, its words as rendered (spacing aside)
    u=$(head -n 1 "$2" | sed 's/^usage: //')
    if tr -s ' ' < "$T/$1.txt" | grep -qF -- "$(echo "$u" | tr -s ' ')"; then ok
    else bad "$1: usage line [$u] not in the page"; fi
    if grep -q '^exit' "$2"; then check_grep "$1: EXIT STATUS" "$T/$1.txt" '^EXIT STATUS$'; fi
    # every option of the help, as a word of the page
    awk '{ s = $0; sub(/^ +/, "", s)
           if (length($0) - length(s) > 8 || s !~ /^-/) next
           i = index(s, "  "); if (i) s = substr(s, 1, i - 1)
           n = split(s, w, " ")
           for (k = 1; k <= n && w[k] ~ /^-/; k++) { o = w[k]; sub(/,$/, "", o); print o } }' \
        "$2" > "$T/$1.opts"
    # (one awk for them all: a word of the page is one not next to [-A-Za-z0-9])
    missing=$(awk 'NR == FNR { t = t " " $0 " "; next }
        { s = t; found = 0
          while ((i = index(s, $0)) > 0) {
              if (substr(s, i - 1, 1) !~ /[-A-Za-z0-9]/ &&
                  substr(s, i + length($0), 1) !~ /[-A-Za-z0-9]/) { found = 1; break }
              s = substr(s, i + 1) }
          if (!found) printf "%s ", $0 }' "$T/$1.txt" "$T/$1.opts")
    check "$1: every option of --help ($(lines "$T/$1.opts")) in the page" "$missing" ""
}

page_check canhgac "$T/main.help"
# each command's page: `canhgac CMD --help`, or `canhgac CMD ACTION --help`
pages=1
while read -r words; do
    cmd=${words%% *}
    found=
    for try in "$cmd" "$words"; do
        # shellcheck disable=SC2086
        if "$CG" $try --help > "$T/$cmd.help" 2> /dev/null && head -n 1 "$T/$cmd.help" | grep -q '^usage: '; then
            found=1; break
        fi
    done
    [ -n "$found" ] || continue
    pages=$((pages + 1))
    page_check "canhgac-$cmd" "$T/$cmd.help"
    check_grep "canhgac.1: SEE ALSO canhgac-$cmd(1)" "$T/canhgac.txt" "canhgac-$cmd\\(1\\)"
done < "$T/cmds"
check "pages: one per command with a usage, and canhgac.1" "$(ls "$M"/*.1 | wc -l | tr -d ' ')" "$pages"
for c in run query incident rules ctl; do
    [ -f "$M/canhgac-$c.1" ] || bad "no canhgac-$c.1"
done
[ -f "$M/canhgac-version.1" ] && bad "a page for version, which has no usage"

# the pages are this binary's --help now: made again, they are the same
sh tools/man/mkman.sh "$CG" "$T/man" 2> "$T/mkman.err"
check "mkman.sh again: exit" "$?" 0
if diff -r "$M" "$T/man" > "$T/man.diff"; then ok; else bad "pages differ from a new make: $(head -n 20 "$T/man.diff")"; fi

# make install under DESTDIR: the pages and the completion (the binary as built)
make -s -o "$B/canhgac" B="$B" DESTDIR="$T/dest" PREFIX=/usr install > "$T/install.out" 2>&1
check "make install: exit" "$?" 0
for f in "$M"/*.1; do
    if cmp -s "$f" "$T/dest/usr/share/man/man1/${f##*/}"; then ok; else bad "install: ${f##*/} not in share/man/man1"; fi
done
if cmp -s tools/canhgac.bash-completion "$T/dest/usr/share/bash-completion/completions/canhgac"; then ok
else bad "install: no completion in share/bash-completion/completions/canhgac"; fi
check "installed pages: mode" "$(stat -c %a "$T/dest/usr/share/man/man1/canhgac.1")" 644

# The completion, as bash runs it at a TAB: COMP_WORDS, COMP_CWORD, the
# function `complete` names. One bash for all the cases of $T/cases (one a
# line, the words separated by '|'): the words offered, sorted, one line each.
cat > "$T/comp.bash" <<'B'
. "$1"
spec=$(complete -p canhgac)
f=${spec#*-F }; f=${f%% *}
while read -r line; do
    IFS='|' read -r -a w <<< "$line"
    [[ $line == *'|' ]] && w+=('')
    COMP_WORDS=("${w[@]}"); COMP_CWORD=$((${#w[@]} - 1))
    COMP_LINE="${w[*]}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
    "$f" canhgac "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
    echo
done < "$2"
B
mkdir -p "$T/files/caps" && : > "$T/files/a.pcap" && : > "$T/files/b.pcapng"
cat > "$T/cases" <<'C'
canhgac|r
canhgac|run|--wo
canhgac|run|-i|l
canhgac|run|-r|files/
canhgac|run|-d|files/
canhgac|run|--read|=|files/a
canhgac|query|--histogram|
canhgac|incident|
canhgac|rules|
canhgac|ctl|--pretty|re
canhgac|query|--js
canhgac|
canhgac|run|--
C
BD=$(cd "$B" && pwd)
(cd "$T" && PATH="$BD:$PATH" bash "$T/comp.bash" "$T/dest/usr/share/bash-completion/completions/canhgac" "$T/cases") > "$T/comp.out" 2> "$T/comp.err"
check "completion: no error" "$(cat "$T/comp.err")" ""
comp() { sed -n "${1}p" "$T/comp.out"; }
check "complete: canhgac r" "$(comp 1)" "report rules run"
check "complete: canhgac run --wo" "$(comp 2)" "--workers"
check "complete: canhgac run -i (interfaces)" "$(comp 3)" "$(ls /sys/class/net | grep '^l' | sort | tr '\n' ' ' | sed 's/ $//')"
check "complete: canhgac run -r (files)" "$(comp 4)" "files/a.pcap files/b.pcapng files/caps"
check "complete: canhgac run -d (directories)" "$(comp 5)" "files/caps"
check "complete: canhgac run --read= (files)" "$(comp 6)" "files/a.pcap"
check "complete: canhgac query --histogram" "$(comp 7)" "day hour"
check "complete: canhgac incident (actions)" "$(comp 8)" "note pcap set show"
check "complete: canhgac rules (action)" "$(comp 9)" "check"
check "complete: canhgac ctl (commands)" "$(comp 10)" "reload reopen"
check "complete: canhgac query --js" "$(comp 11)" "--json"
# every command of the help is offered, and every option of run's
check "complete: the commands" "$(comp 12 | tr ' ' '\n' | grep -vc -- '-' | tr -d ' ')" \
    "$(($(wc -l < "$T/cmds") + 1))"
check "complete: run's options" "$(comp 13 | wc -w | tr -d ' ')" \
    "$(grep -c '^--' "$T/canhgac-run.opts")"

e2e_done man
