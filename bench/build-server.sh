#!/usr/bin/env bash
# Builds the Go echo server into bench/.build/echo-server.
#
# Only Debian's mirror is reachable (no Go module proxy), so the build uses
# Debian's Go and gorilla/websocket packages in GOPATH mode, offline.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/.build/echo-server"
packages=(golang-go golang-github-gorilla-websocket-dev)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "build-server.sh: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "build-server.sh: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
fi

mkdir -p "$here/.build"
# GOPATH mode: Debian installs gorilla/websocket under /usr/share/gocode.
# GOPROXY=off makes sure nothing tries the network; the build cache stays
# under bench/.build so that the build does not depend on $HOME.
cd "$here/echo-server"
GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOCACHE="$here/.build/go-cache" \
  go build -trimpath -o "$out" .
echo "$out"
