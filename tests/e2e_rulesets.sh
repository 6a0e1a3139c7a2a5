# e2e_rulesets.sh — the rule sets tests/e2e.tsv names, for the scripts that
# run its rows (e2e.sh, e2e_workers.sh). Sourced; defines functions only.
# They read $DATA (../shared/data) and $T (the script's scratch directory)
# when called.
# e2e_rule_sets: the rule sets tests/e2e.tsv names, cut out of ET Open at test
# time into $T (nothing copied into the tree); rules_for SET prints the -S
# option of one of them
e2e_rule_sets() {
    grep -h -e 'CVE-2021-44228' -e 'CVE_2021_44228' "$DATA"/rules/etopen/*.rules | grep -v '^#' \
        > "$T/et-log4shell.rules"
    grep -h -e 'CVE-2014-6271' -e 'CVE_2014_6271' -e 'Shellshock' -e 'shellshock' \
        "$DATA"/rules/etopen/*.rules | grep -v '^#' > "$T/et-shellshock.rules"
    # SSH password guessing: every connection's SYN counts toward a threshold
    cat > "$T/ssh-threshold.rules" <<'EOF'
alert tcp any any -> any 22 (msg:"SSH connection attempts from one source"; flow:to_server; flags:S,12; threshold: type threshold, track by_src, count 5, seconds 120; classtype:attempted-recon; sid:9900001; rev:1;)
alert tcp any any -> any 22 (msg:"SSH client banner"; flow:established,to_server; content:"SSH-"; depth:4; sid:9900002; rev:1;)
EOF
}
rules_for() {
    case "$1" in
        shipped) echo "-S $DATA/pcaps/log4shell/log4shell-suricata.rules" ;;
        et-log4shell) echo "-S $T/et-log4shell.rules" ;;
        et-shellshock) echo "-S $T/et-shellshock.rules" ;;
        etopen) echo "-S $DATA/rules/etopen" ;;
        ssh-threshold) echo "-S $T/ssh-threshold.rules" ;;
        starter) echo "-S rules" ;;
    esac
}
