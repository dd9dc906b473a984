#!/usr/bin/env bash
# Sets a fresh checkout up: the Debian packages the build and tests use,
# the npm packages, the pinned lws (fetched and built once), the addon and
# the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# No OpenSSL or zlib headers: lws is built against Node's own. python3 runs
# tools/lws-fixes.py (and test servers).
apt_packages=(cmake g++ make python3 python3-websockets openssl tinyproxy)
if ! dpkg -s "${apt_packages[@]}" >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: needs these Debian packages (run as root to install): ${apt_packages[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
npm run build
