#!/usr/bin/env bash
# Obtains the pinned libwebsockets source tree and prints its path.
#
# The upstream release tarball is reached through Debian's source archive:
# Debian ships upstream's tarball unchanged as `<pkg>_<version>.orig.tar.gz`,
# so its sha256 is upstream's and pins exactly what we build.
#
#   LWS_SOURCE_DIR=/path/to/lws   use that tree instead (any lws >= 4.3)
#
# Idempotent: a second run finds the unpacked tree and does nothing else.
set -euo pipefail

readonly LWS_VERSION=4.3.5
readonly LWS_TARBALL="libwebsockets_${LWS_VERSION}.orig.tar.gz"
readonly LWS_SHA256=87f99ad32803ed325fceac5327aae1f5c1b417d54ee61ad36cffc8df5f5ab276
# The release whose source archive carries 4.3.5 (Debian 13).
readonly SOURCE_SUITE=trixie

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${LWS_CACHE_DIR:-$root/deps/.cache}"
tree="$cache/libwebsockets-$LWS_VERSION"

log() { echo "fetch-lws: $*" >&2; }

if [[ -n "${LWS_SOURCE_DIR:-}" ]]; then
  [[ -f "$LWS_SOURCE_DIR/CMakeLists.txt" ]] ||
    { log "LWS_SOURCE_DIR=$LWS_SOURCE_DIR has no CMakeLists.txt"; exit 1; }
  echo "$LWS_SOURCE_DIR"
  exit 0
fi

if [[ -f "$tree/.verified" ]]; then
  echo "$tree"
  exit 0
fi

mkdir -p "$cache"

verify() {
  echo "$LWS_SHA256  $1" | sha256sum --check --status
}

if [[ ! -f "$cache/$LWS_TARBALL" ]] || ! verify "$cache/$LWS_TARBALL"; then
  # A deb-src entry of our own, reusing the mirror URIs this machine already
  # trusts; the distribution's own sources file is left untouched.
  list=/etc/apt/sources.list.d/libwebsockets-node-src.sources
  if [[ ! -f "$list" ]]; then
    uris="$(awk '/^URIs:/ && !/security/ {sub(/^URIs: */, ""); print; exit}' \
      /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
    if [[ -z "$uris" ]]; then
      uris="$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' \
        /etc/apt/sources.list 2>/dev/null || true)"
    fi
    [[ -n "$uris" ]] || { log "no Debian mirror configured in apt"; exit 1; }
    log "adding deb-src $SOURCE_SUITE from $uris"
    cat >"$list" <<EOF
Types: deb-src
URIs: $uris
Suites: $SOURCE_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  # Refresh only our own list: quick, and leaves the machine's others as they are.
  apt-get update -qq \
    -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0 >&2

  revision="$(apt-cache showsrc libwebsockets |
    awk -v v="$LWS_VERSION" '/^Version:/ && index($2, v "-") == 1 {print $2}' |
    sort -V | tail -n 1)"
  [[ -n "$revision" ]] ||
    { log "no Debian source revision of libwebsockets $LWS_VERSION found"; exit 1; }
  log "downloading libwebsockets=$revision (tarball only)"
  (cd "$cache" && apt-get source -qq --tar-only "libwebsockets=$revision" >&2)
  verify "$cache/$LWS_TARBALL" ||
    { log "sha256 mismatch for $LWS_TARBALL"; exit 1; }
fi

rm -rf "$tree.tmp"
mkdir -p "$tree.tmp"
tar -xzf "$cache/$LWS_TARBALL" -C "$tree.tmp" --strip-components=1
rm -rf "$tree"
mv "$tree.tmp" "$tree"
touch "$tree/.verified"
log "libwebsockets $LWS_VERSION source verified at $tree"
echo "$tree"
