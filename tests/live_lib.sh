# live_lib.sh — helpers for live-capture tests, sourced by tests/live_*.sh.
# Needs root (network namespaces, veth, packet sockets) and tcpreplay.
#
#   live_require             root, ip netns and tcpreplay, or: with
#                            CANHGAC_LIVE_OPTIONAL=1 "SKIP: ..." and exit 0,
#                            without it (CI, as root) exit 1
#   live_setup NAME [ADDR_A ADDR_B]
#                            two namespaces joined by a veth pair, MTU 9000,
#                            both ends up, IPv6 off (it would send its own
#                            router and neighbour solicitations), addresses
#                            (CIDR) only when given; exports LIVE_NS_A,
#                            LIVE_NS_B, LIVE_IF_A, LIVE_IF_B; cleans up on exit
#   live_replay PCAP [OPTS]  tcpreplay OPTS PCAP out of LIVE_IF_A (in LIVE_NS_A),
#                            so that it arrives on LIVE_IF_B (in LIVE_NS_B);
#                            always under timeout ($LIVE_REPLAY_TIMEOUT, 20 s);
#                            sets LIVE_SENT (packets sent) and LIVE_FAILED
#                            (packets tcpreplay could not send), LIVE_REPLAY_OUT
#                            (its output); its status is
#                            tcpreplay's (124: timed out)
#   live_in_b CMD...         runs CMD inside LIVE_NS_B
#   live_cleanup             deletes the namespaces (and so the veth pair)
#
# Variables of their own start with _live_. Names are unique per run ($$ and NAME), so runs in parallel do not meet.
# Interface names hold at most 15 bytes: the veth ends are cg<pid>a, cg<pid>b.
#
# tcpreplay (4.4.3) and the MTU: it sends each frame whole through a packet
# socket, and the kernel refuses a frame over the MTU plus the link header
# (EMSGSIZE); tcpreplay then prints "Message too long", counts the frame in
# "Failed packets" and goes on, exiting 0. At MTU 1500 the frames of
# ../shared/data/pcaps that are over 1514 bytes (the Log4Shell captures hold
# frames of 1891 and 4162 bytes, captured before segmentation offload cut
# them) fail that way; at MTU 9000 every frame there is sent.

live_require() {
    _live_why=""
    if [ "$(id -u)" -ne 0 ]; then
        _live_why="not root"
    elif ! ip netns list >/dev/null 2>&1; then
        _live_why="ip netns unavailable"
    elif ! command -v tcpreplay >/dev/null 2>&1; then
        _live_why="tcpreplay not installed (Debian package tcpreplay)"
    fi
    [ -z "$_live_why" ] && return 0
    if [ "${CANHGAC_LIVE_OPTIONAL:-}" = 1 ]; then
        echo "SKIP: live tests need root and ip netns ($_live_why)"
        exit 0
    fi
    echo "FAIL: live tests need root and ip netns ($_live_why); set CANHGAC_LIVE_OPTIONAL=1 to skip" >&2
    exit 1
}

live_cleanup() {
    [ -n "${LIVE_NS_A:-}" ] && ip netns del "$LIVE_NS_A" 2>/dev/null
    [ -n "${LIVE_NS_B:-}" ] && ip netns del "$LIVE_NS_B" 2>/dev/null
    LIVE_NS_A=""; LIVE_NS_B=""
    return 0
}

live_setup() {
    live_require
    _live_name=${1:-live}
    LIVE_NS_A="cg-$_live_name-$$-a"; LIVE_NS_B="cg-$_live_name-$$-b"
    LIVE_IF_A="cg$$a"; LIVE_IF_B="cg$$b"
    export LIVE_NS_A LIVE_NS_B LIVE_IF_A LIVE_IF_B
    trap 'live_cleanup' EXIT
    trap 'live_cleanup; exit 130' INT TERM HUP PIPE
    ip netns add "$LIVE_NS_A" && ip netns add "$LIVE_NS_B" || { live_cleanup; return 1; }
    for _live_ns in "$LIVE_NS_A" "$LIVE_NS_B"; do
        ip netns exec "$_live_ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
        ip -n "$_live_ns" link set lo up
    done
    ip link add "$LIVE_IF_A" netns "$LIVE_NS_A" mtu 9000 type veth \
        peer name "$LIVE_IF_B" netns "$LIVE_NS_B" mtu 9000 || { live_cleanup; return 1; }
    ip netns exec "$LIVE_NS_A" sysctl -qw "net.ipv6.conf.$LIVE_IF_A.disable_ipv6=1" >/dev/null 2>&1
    ip netns exec "$LIVE_NS_B" sysctl -qw "net.ipv6.conf.$LIVE_IF_B.disable_ipv6=1" >/dev/null 2>&1
    if [ -n "${2:-}" ]; then
        ip -n "$LIVE_NS_A" addr add "$2" dev "$LIVE_IF_A" || { live_cleanup; return 1; }
    fi
    if [ -n "${3:-}" ]; then
        ip -n "$LIVE_NS_B" addr add "$3" dev "$LIVE_IF_B" || { live_cleanup; return 1; }
    fi
    ip -n "$LIVE_NS_A" link set "$LIVE_IF_A" up && ip -n "$LIVE_NS_B" link set "$LIVE_IF_B" up \
        || { live_cleanup; return 1; }
    return 0
}

live_in_b() {
    ip netns exec "$LIVE_NS_B" "$@"
}

live_replay() {
    _live_pcap=$1; shift
    _live_out=$(timeout "${LIVE_REPLAY_TIMEOUT:-20}" ip netns exec "$LIVE_NS_A" \
          tcpreplay -i "$LIVE_IF_A" "$@" "$_live_pcap" 2>&1)
    _live_st=$?
    LIVE_SENT=$(printf '%s\n' "$_live_out" | sed -n 's/^[[:space:]]*Successful packets:[[:space:]]*\([0-9]*\).*/\1/p' | head -n 1)
    LIVE_FAILED=$(printf '%s\n' "$_live_out" | sed -n 's/^[[:space:]]*Failed packets:[[:space:]]*\([0-9]*\).*/\1/p' | head -n 1)
    LIVE_SENT=${LIVE_SENT:-0}; LIVE_FAILED=${LIVE_FAILED:-0}
    LIVE_REPLAY_OUT=$_live_out
    return $_live_st
}
