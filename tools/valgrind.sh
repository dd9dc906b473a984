#!/usr/bin/env bash
# npm run test:valgrind: the client's main paths (tools/valgrind-scenarios.js,
# in one Node process against local servers) under valgrind's memcheck, then
# tools/valgrind-judge.js on its XML: PASS only with no memory error at all
# (after tools/valgrind.supp's Node/V8 noise) and no definitely lost block
# allocated under lws.node (this addon and the lws linked into it).
# worker-churn (tools/worker-churn.js) tears down worker environments at
# random moments, so environment teardown and the exception boundary
# (binding/boundary.h) are checked too; run it alone with --only worker-churn.
#
# Usage: tools/valgrind.sh [--shipped] [--jitless] [--only a,b] [--gen-suppressions] [-- valgrind args…]
#
#   (default)            a copy of lws and the addon built with the same
#                        Release flags plus -g, under deps/.build/valgrind
#                        (lws once, the addon incrementally), loaded through
#                        node-gyp-build's LIBWEBSOCKETS_PREBUILD: the same
#                        machine code as the shipped build, with file:line
#                        in every stack.
#   --shipped            build/Release/lws.node as it is (function names only).
#   --jitless            node --jitless (V8 interprets; no generated code).
#                        Not needed: V8's JIT output gives valgrind no
#                        trouble on Node 20, and the run is slower without it.
#   --only a,b           just these scenarios (valgrind-scenarios.js --list).
#   --gen-suppressions   print a suppression for every error, to extend
#                        tools/valgrind.supp (keep entries specific).
#
# Output: deps/.build/valgrind/out/{valgrind.xml,valgrind.log,scenarios.log}.
# Exit status: 0 PASS, 1 FAIL (errors, leaks of ours, or a failed scenario).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/deps/.build/valgrind"
out="$work/out"

shipped=0
node_flags=(--expose-gc)
scenario_args=()
extra=()
while (($#)); do
  case "$1" in
    --shipped) shipped=1 ;;
    --jitless) node_flags+=(--jitless) ;;
    --only) scenario_args+=(--only "$2"); shift ;;
    --gen-suppressions) extra+=(--gen-suppressions=all) ;;
    --) shift; extra+=("$@"); break ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "valgrind.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v valgrind >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "valgrind.sh: installing valgrind" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >&2
  else
    echo "valgrind.sh: valgrind is missing (apt-get install valgrind)" >&2
    exit 1
  fi
fi
[[ -f "$root/dist/index.js" ]] || { echo "valgrind.sh: dist/ is missing: npm run build:ts" >&2; exit 1; }

if ((shipped)); then
  [[ -f "$root/build/Release/lws.node" ]] || { echo "valgrind.sh: build/Release/lws.node is missing: npm run build:native" >&2; exit 1; }
  unset LIBWEBSOCKETS_PREBUILD
  addon="$root/build/Release/lws.node"
else
  # lws: scripts/build-lws.js into a build directory of its own, with -g
  # added to its flags (CFLAGS seeds CMAKE_C_FLAGS when it configures).
  echo "valgrind.sh: lws with debug info (deps/.build/valgrind/lws, built once)…" >&2
  prefix="$(LWS_BUILD_DIR="$work/lws" CFLAGS="-g" node "$root/scripts/build-lws.js")"
  # The addon: cmake-js as scripts/build.js runs it, with -g added to the
  # Release flags, into a folder node-gyp-build takes as a prebuild root.
  echo "valgrind.sh: addon with debug info (deps/.build/valgrind/addon)…" >&2
  node_include="$(node -e 'require(process.argv[1] + "/scripts/node-headers").nodeIncludeDir(require(process.argv[1] + "/scripts/build-deps").loadCmakeJs).then(console.log)' "$root")"
  (cd "$root" && node "$root/node_modules/cmake-js/bin/cmake-js" compile --silent --config Release \
    "--CDCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG -g" "--CDNODE_INCLUDE_DIR=$node_include" "--CDLWS_PREFIX=$prefix" \
    -O "$work/addon/build" >"$work/addon-build.log" 2>&1) ||
    { tail -n 40 "$work/addon-build.log" >&2; exit 1; }
  export LIBWEBSOCKETS_PREBUILD="$work/addon"
  addon="$work/addon/build/Release/lws.node"
fi

mkdir -p "$out"
rm -f "$out/valgrind.xml" "$out/valgrind.log" "$out/scenarios.log"
# The receive buffer from malloc, where memcheck sees its end (binding/lws_allocator.cc).
export LWS_NODE_RX_BUFFER_FROM_MALLOC=1
echo "valgrind.sh: running the scenarios under valgrind with $addon (a few minutes; worker-churn, 20 worker threads, about two)…" >&2
# --errors-for-leak-kinds=none: leaks are judged from the XML (only ours
# fail); --error-exitcode then reports memory errors alone.
# --redzone-size=256: a small overrun stays inside valgrind's red zone, so
# it is reported without corrupting the heap valgrind's own report needs.
set +e
valgrind \
  --tool=memcheck \
  --leak-check=full \
  --show-leak-kinds=definite \
  --errors-for-leak-kinds=none \
  --error-exitcode=99 \
  --num-callers=40 \
  --redzone-size=256 \
  --track-origins=yes \
  --suppressions="$root/tools/valgrind.supp" \
  --xml=yes --xml-file="$out/valgrind.xml" \
  --log-file="$out/valgrind.log" \
  "${extra[@]}" \
  node "${node_flags[@]}" "$root/tools/valgrind-scenarios.js" "${scenario_args[@]}" 2>&1 | tee "$out/scenarios.log"
status=${PIPESTATUS[0]}
set -e

echo "valgrind.sh: valgrind exited with $status; log $out/valgrind.log, XML $out/valgrind.xml" >&2
verdict=0
node "$root/tools/valgrind-judge.js" "$out/valgrind.xml" || verdict=1
if [[ $status -ne 0 && $status -ne 99 ]]; then
  echo "valgrind.sh: the scenarios failed (exit $status; see above)" >&2
  verdict=1
fi
exit $verdict
