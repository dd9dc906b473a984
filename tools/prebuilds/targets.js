'use strict';
// Every platform tools/prebuilds/build.js compiles for. `ship` ones go into
// prebuilds/ and the npm tarball: each is run here (natively, or under qemu)
// before it ships. The others are built as a check that the source compiles
// there (`npm run check:cross`); users on them build from source at install
// until something here can run them.
//
// `dir` and `file` follow node-gyp-build's naming: prebuilds/<platform>-<arch>/
// holds <name>.<tags>.node, where `napi` means one binary for every Node
// with N-API 8 and `glibc`/`musl` says which C library it needs (a glibc
// binary is not picked on Alpine).

/** @typedef {{ name: string, zig: string, platform: string, arch: string, libc?: string, ship: boolean }} Target */

/** @type {Target[]} */
const TARGETS = [
  // glibc 2.28: the oldest Node 20 supports (RHEL 8); zig links only what
  // that release has.
  { name: 'linux-x64', zig: 'x86_64-linux-gnu.2.28', platform: 'linux', arch: 'x64', libc: 'glibc', ship: true },
  { name: 'linux-arm64', zig: 'aarch64-linux-gnu.2.28', platform: 'linux', arch: 'arm64', libc: 'glibc', ship: true },
  { name: 'linux-x64-musl', zig: 'x86_64-linux-musl', platform: 'linux', arch: 'x64', libc: 'musl', ship: false },
  { name: 'darwin-x64', zig: 'x86_64-macos.11.0', platform: 'darwin', arch: 'x64', ship: false },
  { name: 'darwin-arm64', zig: 'aarch64-macos.11.0', platform: 'darwin', arch: 'arm64', ship: false },
  { name: 'win32-x64', zig: 'x86_64-windows-gnu', platform: 'win32', arch: 'x64', ship: false },
];

/** Where node-gyp-build looks for this target's binary, relative to the package root. */
function prebuildPath(target, packageName) {
  const tags = ['napi', target.libc].filter(Boolean).join('.');
  return `prebuilds/${target.platform}-${target.arch}/${packageName}.${tags}.node`;
}

module.exports = { TARGETS, prebuildPath };
