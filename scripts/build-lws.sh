#!/usr/bin/env bash
# Builds the pinned libwebsockets as a static, position-independent release
# library with what a WebSocket client needs, installs it under
# deps/.build/install and prints that prefix.
#
# lws is built from a copy of the fetched source with our fixes
# applied (scripts/lws-fixes.py). A second run reuses the installed library:
# the stamp records the source path, the fixes' hash and the options, so
# changing any of them rebuilds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pristine_dir="$(bash "$root/scripts/fetch-lws.sh")"
build_root="${LWS_BUILD_DIR:-$root/deps/.build}"
source_dir="$build_root/src"
build_dir="$build_root/lws"
prefix="$build_root/install"
fixes="$root/scripts/lws-fixes.py"

# Each option is here for a reason:
# - static + PIC: it is linked into a shared object, the .node addon;
# - Release: lws_config.h turns on _DEBUG (and its logging cost) otherwise;
# - client only, no test apps, examples or plugins: nothing else is used;
# - event lib plugins and lws's libuv support off: we drive lws through its
#   custom event-library hook on Node's own loop;
# - lws's async DNS off: Node resolves names, lws only sees addresses;
# - extensions on: 4.3 drops permessage-deflate otherwise;
# - IPv6 on: without it an `::1` address cannot be connected to;
# - DISABLE_WERROR: OpenSSL 3 deprecation warnings would fail the build;
# - GIT_EXECUTABLE=/bin/false: lws names its version after `git describe` in
#   its source folder, which sits inside this repository: it would report our
#   commit. A release tarball has no hash: lws says "4.3.5-unknown".
options=(
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DLWS_STATIC_PIC=ON
  -DLWS_WITH_STATIC=ON
  -DLWS_WITH_SHARED=OFF
  -DLWS_WITHOUT_TESTAPPS=ON
  -DLWS_WITHOUT_SERVER=ON
  -DLWS_WITH_MINIMAL_EXAMPLES=OFF
  -DLWS_WITH_PLUGINS=OFF
  -DLWS_WITH_EVLIB_PLUGINS=OFF
  -DLWS_WITH_LIBUV=OFF
  -DLWS_WITH_HTTP2=OFF
  -DLWS_WITH_SYS_ASYNC_DNS=OFF
  -DLWS_WITH_SOCKS5=ON
  -DLWS_IPV6=ON
  -DLWS_WITHOUT_EXTENSIONS=OFF
  -DLWS_WITH_SSL=ON
  -DLWS_WITH_CONMON=OFF
  -DLWS_LOG_TAG_LIFECYCLE=OFF
  -DLWS_WITH_NETLINK=OFF
  -DDISABLE_WERROR=ON
  -DGIT_EXECUTABLE=/bin/false
)

stamp="$prefix/.stamp"
want="$pristine_dir $(sha256sum <"$fixes" | cut -c1-16) ${options[*]}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$prefix/lib/libwebsockets.a" ]]; then
  echo "$prefix"
  exit 0
fi

echo "build-lws: configuring libwebsockets from $pristine_dir, with scripts/lws-fixes.py" >&2
rm -rf "$build_dir" "$prefix" "$source_dir"
mkdir -p "$build_root"
# The fetched tree stays pristine; our fixes go into a copy.
cp -a "$pristine_dir" "$source_dir"
python3 "$fixes" "$source_dir"
cmake -S "$source_dir" -B "$build_dir" -DCMAKE_INSTALL_PREFIX="$prefix" \
  "${options[@]}" >"$build_root/configure.log" 2>&1 ||
  { tail -n 40 "$build_root/configure.log" >&2; exit 1; }
echo "build-lws: building (log: $build_root/build.log)" >&2
cmake --build "$build_dir" --parallel "$(nproc 2>/dev/null || echo 2)" \
  >"$build_root/build.log" 2>&1 ||
  { tail -n 40 "$build_root/build.log" >&2; exit 1; }
cmake --install "$build_dir" >>"$build_root/build.log" 2>&1
echo "$want" >"$stamp"
echo "$prefix"
