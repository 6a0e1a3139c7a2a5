#!/bin/sh
# Installs the Debian 12 packages canhgac builds and runs with (apt-get; sudo
# when not root), and those its tests use: tcpreplay, iproute2 (ip netns) and
# util-linux (setpriv) for the live tests over veth pairs, libtsan2 for the
# ThreadSanitizer pass, logrotate to check the shipped snippet, clang and
# libclang-rt-14-dev (libFuzzer and clang's sanitizer runtimes) for make fuzz,
# clang-format for make lint.
# Does nothing when they are all present already.
PKGS="build-essential pkg-config libpcap-dev libhyperscan-dev libmaxminddb-dev \
liblmdb-dev libpcre2-dev libjson-c-dev libssl-dev openssl zlib1g-dev libxxhash-dev libarchive-dev tcpdump tshark python3-jsonschema \
tcpreplay iproute2 util-linux libtsan2 logrotate passwd jq bc clang libclang-rt-14-dev clang-format \
libcairo2-dev libpango1.0-dev fonts-dejavu-core poppler-utils libsodium-dev chromium chromium-driver python3-selenium \
libmicrohttpd-dev curl wrk"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || exit 1
$SUDO apt-get install -y -qq --no-install-recommends $missing || exit 1
