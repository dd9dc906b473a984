#!/usr/bin/env bash
# Maintainers only: downloads the pinned libwebsockets release tarball into a
# cache folder and checks its sha256. tools/prepare-lws.js runs it when the
# tarball is not there yet, and passes the pin:
#
#   fetch-lws.sh <version> <tarball name> <sha256> <cache dir>
#
# The upstream release tarball is reached through Debian's source archive:
# Debian ships upstream's tarball unchanged as `<pkg>_<version>.orig.tar.gz`,
# so its sha256 is upstream's and pins exactly what we build. This needs apt
# and root; any other copy of the tarball with that sha256, put into the
# cache folder by hand, does as well.
set -euo pipefail

[[ $# -eq 4 ]] || { echo "usage: fetch-lws.sh <version> <tarball> <sha256> <cache dir>" >&2; exit 2; }
readonly LWS_VERSION="$1" LWS_TARBALL="$2" LWS_SHA256="$3" cache="$4"
# The release whose source archive carries 4.3.5 (Debian 13).
readonly SOURCE_SUITE=trixie

log() { echo "fetch-lws: $*" >&2; }

verify() {
  echo "$LWS_SHA256  $1" | sha256sum --check --status
}

mkdir -p "$cache"
if [[ -f "$cache/$LWS_TARBALL" ]] && verify "$cache/$LWS_TARBALL"; then
  echo "$cache/$LWS_TARBALL"
  exit 0
fi

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
  cat >"$list" <<SOURCES
Types: deb-src
URIs: $uris
Suites: $SOURCE_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
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
echo "$cache/$LWS_TARBALL"
