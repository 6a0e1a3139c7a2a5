#!/bin/sh
# End-to-end tests of rule variables as a user meets them: the shipped
# rules/vars.conf catches the attacks of real captures as it is; --vars FILE
# and --set NAME=VALUE win over a -S directory's vars.conf (in that order);
# rules dropped for an undefined variable name it, in `run` and in
# `rules check`; bad --set values and vars files fail with one line and exit 2.
# Usage: tests/e2e_vars.sh BUILD_DIR   (run from the top of the tree)
B=${1:-build}
E2E_NAME=vars
. tests/e2e_lib.sh
CAP="$DATA/pcaps/chrissanders/http_dvwa_sqlinjection.pcapng"
alerts() { grep -c '"event_type":"alert"' "$1" 2> /dev/null || true; }

# As shipped: the SQL injection of the DVWA capture alerts (5 alerts: 2 + 3).
"$CG" run -q -r "$CAP" -S rules/ -d "$T/store" -o "$T/eve.json"
check "shipped vars: exit" "$?" 0
check "shipped vars: alerts" "$(alerts "$T/eve.json")" 5

# --set wins over the -S directory's vars.conf: no web server there any more.
rm -f "$T/eve.json"
"$CG" run -q -r "$CAP" -S rules/ --no-store -o "$T/eve.json" --set 'HTTP_SERVERS=[192.0.2.1]'
check "--set wins: exit" "$?" 0
check "--set wins: no alert" "$(alerts "$T/eve.json")" 0
# --vars wins over vars.conf too
printf 'HTTP_SERVERS 192.0.2.1\n' > "$T/lab.vars"
rm -f "$T/eve.json"
"$CG" run -q -r "$CAP" -S rules/ --no-store -o "$T/eve.json" --vars "$T/lab.vars"
check "--vars wins: no alert" "$(alerts "$T/eve.json")" 0
# ... and --set wins over --vars
rm -f "$T/eve.json"
"$CG" run -q -r "$CAP" -S rules/ --no-store -o "$T/eve.json" --vars "$T/lab.vars" \
    --set 'HTTP_SERVERS=$HOME_NET'
check "--set wins over --vars" "$(alerts "$T/eve.json")" 5
# a narrower HOME_NET keeps the rules that use it quiet, EXTERNAL_NET any still sees the attack
rm -f "$T/eve.json"
"$CG" run -q -r "$CAP" -S rules/ --no-store -o "$T/eve.json" --set 'HOME_NET=[10.2.2.0/24]'
check "--set HOME_NET: the attack inside it is seen" "$(alerts "$T/eve.json")" 5

# A rule dropped for an undefined variable names it.
mkdir -p "$T/r"
cat > "$T/r/local.rules" <<'R'
alert tcp $EXTERNAL_NET any -> $PORTALS $HTTP_PORTS (msg:"portal probe"; content:"union"; sid:1; rev:1;)
alert tcp $EXTERNAL_NET any -> $PORTALS any (msg:"portal probe 2"; content:"select"; sid:2; rev:1;)
alert tcp any any -> $HOME_NET any (msg:"ok"; content:"union"; sid:3; rev:1;)
R
"$CG" run -r "$CAP" -S "$T/r" --no-store 2> "$T/undef.err"
check "undefined variable: run goes on" "$?" 0
check_grep "undefined variable: run names it" "$T/undef.err" 'not loaded; undefined variables: \$PORTALS \(2 rules\)'
"$CG" rules check "$T/r" > "$T/check.out"
check "undefined variable: rules check exit" "$?" 1
check_grep "undefined variable: rules check table" "$T/check.out" '^  \$PORTALS +2$'
check_grep "undefined variable: rules check line" "$T/check.out" 'local.rules:1:.*undefined variable \$PORTALS'
# --set defines it: every rule loads
"$CG" rules check "$T/r" --set 'PORTALS=[10.2.2.104]' > "$T/check2.out"
check "--set defines a variable: rules check exit" "$?" 0
"$CG" run -q -r "$CAP" -S "$T/r" --vars /dev/null --no-store -o "$T/u.json"
check "undefined variable: alerts of the rule that loaded" "$(alerts "$T/u.json")" 2
printf 'PORTALS [10.2.2.104]\nEXTERNAL_NET any\n' > "$T/portals.vars"
rm -f "$T/u.json"
"$CG" run -r "$CAP" -S "$T/r" --vars "$T/portals.vars" --no-store -o "$T/u.json" 2> "$T/u.err"
check "vars file defines it: alerts" "$(alerts "$T/u.json")" 6
check "vars file defines it: nothing undefined" "$(grep -c 'undefined' "$T/u.err")" 0

# Bad input: one line, exit 2, naming the value.
run_bad "--set without =" "--set HOME_NET: expected NAME=VALUE" \
    run -q -r "$CAP" -S rules/ --no-store --set HOME_NET
run_bad "--set bad CIDR" "--set HOME_NET=\[10.0.0.0/33\]: .*HOME_NET" \
    run -q -r "$CAP" -S rules/ --no-store --set 'HOME_NET=[10.0.0.0/33]'
run_bad "--set bad name" "--set 1HOME=10.0.0.0/8: a variable name must start" \
    run -q -r "$CAP" -S rules/ --no-store --set 1HOME=10.0.0.0/8
run_bad "--set undefined reference" 'undefined variable \$NOPE' \
    run -q -r "$CAP" -S rules/ --no-store --set 'HTTP_SERVERS=$NOPE'
run_bad "--set empty value" "--set HOME_NET=: " \
    run -q -r "$CAP" -S rules/ --no-store --set HOME_NET=
run_bad "rules check --set bad" "--set HOME_NET=foo" rules check rules/ --set HOME_NET=foo
printf 'HOME_NET [10.0.0.0/8\n' > "$T/broken.vars"
run_bad "broken vars file" "broken.vars:1: " run -q -r "$CAP" -S rules/ --no-store --vars "$T/broken.vars"
printf 'HTTP_SERVERS $PORTAL_NET\n' > "$T/undef.vars"
run_bad "vars file using an undefined variable" 'undef.vars:1: \$HTTP_SERVERS: undefined variable \$PORTAL_NET' \
    run -q -r "$CAP" -S rules/ --no-store --vars "$T/undef.vars"
run_bad "missing vars file" "nope.vars" run -q -r "$CAP" -S rules/ --no-store --vars "$T/nope.vars"

e2e_done e2e_vars
