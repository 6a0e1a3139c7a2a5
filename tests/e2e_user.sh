#!/bin/sh
# e2e_user.sh — `canhgac user` as an administrator of the web console uses
# it, on a copy of tests/data/store-v7 (a store of schema 7, 3 incidents):
#  - the first command migrates it to schema 8 with one notice line, the
#    incidents and the log's root kept (store verify, query);
#  - add (password file, stdin), list (text and --json), disable/enable,
#    role, passwd, each audited with the Unix user who ran it;
#  - a token printed once (cgt_ and 64 hex digits), never in the store's
#    file, listed by its id (text and --json), revoked;
#  - audit newest first, --since, --limit, --json;
#  - the password asked twice on a terminal (a pty): echo off, a mismatch
#    refused with "passwords do not match";
#  - bad input, each one line and exit 2: a name taken, a bad name, a bad
#    role, an empty or missing password file, no terminal, an unknown
#    user or token, an option of another subcommand, a missing store;
#  - store check decodes the accounts' databases (30 databases);
#  - --help, and the bash completion of the subcommands and the roles.
#
# Usage: tests/e2e_user.sh BUILD_DIR   (from the top of the tree)
B=${1:-build}
E2E_NAME=user
. tests/e2e_lib.sh
export CANHGAC_PWHASH_MIN=1
ME=$(id -un)

mkdir -p "$T/s" && cp tests/data/store-v7/data.mdb "$T/s/"
S="-d $T/s"
"$CG" store verify -d "$T/s" > "$T/v0.out" 2>&1
check "v7: verifies" "$?" 0
root0=$(sed -n 's/.*root \([^ ]*\)$/\1/p' "$T/v0.out")

printf 'correct horse\n' > "$T/pw"
# shellcheck disable=SC2086
"$CG" user add lan --role analyst --password-file "$T/pw" $S > "$T/add.out" 2> "$T/add.err"
check "add: exit" "$?" 0
check "add: says" "$(cat "$T/add.out")" "user lan added (analyst)"
check "add: the migration notice" "$(cat "$T/add.err")" "canhgac user: notice: $T/s: migrated from schema 7 to 8 (the accounts added)"
"$CG" store verify -d "$T/s" > "$T/v1.out" 2>&1
check "migrated: verifies" "$?" 0
check "migrated: the log's root kept" "$(sed -n 's/.*root \([^ ]*\)$/\1/p' "$T/v1.out")" "$root0"
check "migrated: the incidents kept" "$("$CG" query -d "$T/s" --count)" 3
# shellcheck disable=SC2086
printf 'hunter2\r\n' | "$CG" user add chi --role admin --password-file - $S > "$T/add2.out"
check "add from stdin" "$(cat "$T/add2.out")" "user chi added (admin)"

# shellcheck disable=SC2086
"$CG" user list $S > "$T/list.out"
check "list: exit" "$?" 0
check "list: header and two users" "$(lines "$T/list.out")" 3
check "list: by name" "$(awk 'NR > 1 { print $1 ":" $2 ":" $3 }' "$T/list.out" | tr '\n' ' ')" "chi:admin:enabled lan:analyst:enabled "
# shellcheck disable=SC2086
"$CG" user list --json $S > "$T/list.json"
check "list --json: lines" "$(lines "$T/list.json")" 2
check "list --json: fields" "$(jq -r '[.name, .role, .disabled] | join(":")' "$T/list.json" | tr '\n' ' ')" "chi:admin:false lan:analyst:false "
check "list --json: times" "$(jq -r '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' "$T/list.json" | sort -u)" true

# bad input
# shellcheck disable=SC2086
run_bad "a name taken" "user lan exists already" user add lan --role viewer --password-file "$T/pw" $S
# shellcheck disable=SC2086
run_bad "a bad name" "not a user name: 'l an'" user add "l an" --role viewer --password-file "$T/pw" $S
# shellcheck disable=SC2086
run_bad "a bad role" "not a role: 'root'" user add nam --role root --password-file "$T/pw" $S
# shellcheck disable=SC2086
run_bad "no role" "which role" user add nam --password-file "$T/pw" $S
: > "$T/empty"
# shellcheck disable=SC2086
run_bad "an empty password file" "$T/empty: empty password" user add nam --role viewer --password-file "$T/empty" $S
# shellcheck disable=SC2086
run_bad "a missing password file" "$T/nofile: No such file or directory" user add nam --role viewer --password-file "$T/nofile" $S
# shellcheck disable=SC2086
run_bad "no terminal" "no terminal to ask the password on" user add nam --role viewer $S < /dev/null
# shellcheck disable=SC2086
run_bad "an unknown user" "no user nobody" user disable nobody $S
# shellcheck disable=SC2086
run_bad "passwd of an unknown user" "no user nobody" user passwd nobody --password-file "$T/pw" $S
# shellcheck disable=SC2086
run_bad "an option of another subcommand" "--role does not apply" user list --role admin $S
# shellcheck disable=SC2086
run_bad "a role change to no role" "not a role: 'boss'" user role lan boss $S
run_bad "a missing store" "no canhgac store here" user list -d "$T/nothing"
# shellcheck disable=SC2086
run_bad "an unknown subcommand" "unknown subcommand 'delete'" user delete lan $S
check "nothing was added" "$("$CG" user list --json -d "$T/s" | jq -r .name | tr '\n' ' ')" "chi lan "

# disable, enable, role, passwd
# shellcheck disable=SC2086
"$CG" user disable chi $S > "$T/dis.out"
check "disable: says" "$(cat "$T/dis.out")" "user chi disabled"
check "disable: listed" "$("$CG" user list --json -d "$T/s" | jq -r 'select(.name == "chi") | .disabled')" true
# shellcheck disable=SC2086
"$CG" user enable chi $S > "$T/en.out"
check "enable: says" "$(cat "$T/en.out")" "user chi enabled"
# shellcheck disable=SC2086
"$CG" user role lan responder $S > "$T/role.out"
check "role: says" "$(cat "$T/role.out")" "user lan: role analyst -> responder"
check "role: listed" "$("$CG" user list --json -d "$T/s" | jq -r 'select(.name == "lan") | .role')" responder
printf 'battery staple\n' > "$T/pw2"
# shellcheck disable=SC2086
"$CG" user passwd lan --password-file "$T/pw2" $S > "$T/pwd.out"
check "passwd: says" "$(cat "$T/pwd.out")" "password of lan changed"
check "passwd: the password is not in the store" "$(grep -c 'battery staple' "$T/s/data.mdb")" 0

# tokens
# shellcheck disable=SC2086
"$CG" user token lan --label "nightly share" $S > "$T/tok.out" 2> "$T/tok.err"
check "token: exit" "$?" 0
check "token: one line" "$(lines "$T/tok.out")" 1
tok=$(cat "$T/tok.out")
check "token: its form" "$(echo "$tok" | grep -cE '^cgt_[0-9a-f]{64}$')" 1
id=$(printf '%s' "$tok" | sha256sum | cut -c1-16)
check "token: the reminder names its id" "$(cat "$T/tok.err")" "canhgac user: token $id for lan: shown once, keep it now"
check "token: not in the store" "$(grep -c "${tok#cgt_}" "$T/s/data.mdb")" 0
# shellcheck disable=SC2086
"$CG" user token chi $S > "$T/tok2.out" 2> /dev/null
chi_id=$(tr -d '\n' < "$T/tok2.out" | sha256sum | cut -c1-16)
# shellcheck disable=SC2086
"$CG" user tokens $S > "$T/toks.out"
check "tokens: header and two" "$(lines "$T/toks.out")" 3
check_grep "tokens: listed by id" "$T/toks.out" "^$id +lan .* - +nightly share$"
# shellcheck disable=SC2086
"$CG" user tokens lan --json $S > "$T/toks.json"
check "tokens NAME --json" "$(jq -r '[.id, .user, .label, .last_used] | join(":")' "$T/toks.json")" "$id:lan:nightly share:-"
check "tokens: the token itself is not shown" "$(grep -c "${tok#cgt_}" "$T/toks.out" "$T/toks.json" | awk -F: '{ s += $2 } END { print s }')" 0
# shellcheck disable=SC2086
"$CG" user revoke "$id" $S > "$T/rev.out"
check "revoke: says" "$(cat "$T/rev.out")" "token $id of lan revoked"
# shellcheck disable=SC2086
check "revoke: gone" "$("$CG" user tokens lan $S)" "(no token)"
# shellcheck disable=SC2086
run_bad "revoke again" "no token $id" user revoke "$id" $S
# shellcheck disable=SC2086
run_bad "revoke a bad id" "16 hex digits" user revoke "xyz" $S
# shellcheck disable=SC2086
run_bad "a token of no user" "no user ghost" user token ghost $S

# the audit: every change, newest first, with the Unix user
# shellcheck disable=SC2086
"$CG" user audit $S > "$T/audit.out"
check "audit: exit" "$?" 0
check "audit: a line per change and a header" "$(lines "$T/audit.out")" 10
check "audit: the details, newest first" "$(tail -n +2 "$T/audit.out" | cut -c80- | tr '\n' '|')" \
    "token $id of lan revoked|token $chi_id made for chi|token $id made for lan: nightly share|password of lan changed|role of lan: analyst -> responder|enabled chi|disabled chi|added chi (admin)|added lan (analyst)|"
check "audit: who is the Unix user" "$(awk 'NR > 1 { print $2 }' "$T/audit.out" | sort -u)" "$ME"
check "audit: no address from the command line" "$(awk 'NR > 1 { print $3 }' "$T/audit.out" | sort -u)" "-"
# shellcheck disable=SC2086
"$CG" user audit --json --limit 2 $S > "$T/audit.json"
check "audit --limit 2 --json" "$(jq -r '[.seq, .event, .who, .address] | join(":")' "$T/audit.json" | tr '\n' ' ')" "9:token:$ME: 8:token:$ME: "
# shellcheck disable=SC2086
check "audit --since 1h" "$("$CG" user audit --since 1h --json $S | wc -l | tr -d ' ')" 9
# shellcheck disable=SC2086
check "audit --since a later time" "$("$CG" user audit --since 2100-01-01T00:00:00 $S)" "(no entry)"
# shellcheck disable=SC2086
run_bad "audit --since not a time" "--since: not a time" user audit --since yesterday $S

# the password asked on a terminal (a pty), twice, echo off
cat > "$T/tty_add.py" <<'P'
import os, pty, select, signal, sys, time
cg, store, first, second = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cg, [cg, "user", "add", "tty", "--role", "viewer", "-d", store])
out = b""
end = time.time() + 30
def more():
    global out
    r, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
    if not r:
        return False
    try:
        b = os.read(fd, 1024)
    except OSError:
        return False
    out += b
    return bool(b)
def until(want):
    while want not in out and time.time() < end and more():
        pass
until(b"Password for tty: ")
os.write(fd, first.encode() + b"\n")
until(b"Again: ")
os.write(fd, second.encode() + b"\n")
while time.time() < end and more():
    pass
if time.time() >= end:
    os.kill(pid, signal.SIGKILL)
    out += b"\n(timed out)\n"
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 99)
P
/usr/bin/python3 "$T/tty_add.py" "$CG" "$T/s" "s3cret-one" "s3cret-two" > "$T/pty1.out" 2>&1
check "pty mismatch: exit" "$?" 2
check_grep "pty mismatch: says" "$T/pty1.out" "^canhgac user: passwords do not match$"
check "pty: echo off" "$(grep -c 's3cret' "$T/pty1.out")" 0
/usr/bin/python3 "$T/tty_add.py" "$CG" "$T/s" "s3cret-one" "s3cret-one" > "$T/pty2.out" 2>&1
check "pty: exit" "$?" 0
check_grep "pty: added" "$T/pty2.out" "^user tty added \(viewer\)$"
check "pty: echo off" "$(grep -c 's3cret' "$T/pty2.out")" 0

# store check knows the accounts' databases
"$CG" store check -d "$T/s" > "$T/check.out" 2>&1
check "store check: exit" "$?" 0
check_grep "store check: 30 databases" "$T/check.out" "clean: 30 databases"

# --help
"$CG" user --help > "$T/help.out"
check "--help: exit" "$?" 0
check_grep "--help: usage" "$T/help.out" "^usage: canhgac user add NAME --role ROLE"
check_grep "--help: CANHGAC_PWHASH_MIN for tests" "$T/help.out" "CANHGAC_PWHASH_MIN=1, for tests only"

# the bash completion offers the subcommands and the roles (from --help)
cat > "$T/comp.bash" <<'C'
. tools/canhgac.bash-completion
for line in "canhgac|user|" "canhgac|user|add|lan|--role|"; do
    IFS='|' read -r -a w <<< "$line"
    [[ $line == *'|' ]] && w+=('')
    COMP_WORDS=("${w[@]}"); COMP_CWORD=$((${#w[@]} - 1)); COMPREPLY=()
    _canhgac canhgac "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
    echo
done
C
BD=$(cd "$B" && pwd)
PATH="$BD:$PATH" bash "$T/comp.bash" > "$T/comp.out" 2>&1
check "complete: canhgac user" "$(sed -n 1p "$T/comp.out")" "add audit disable enable list passwd revoke role token tokens"
check "complete: canhgac user add lan --role" "$(sed -n 2p "$T/comp.out")" "admin analyst responder viewer"

e2e_done user
