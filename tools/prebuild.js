#!/usr/bin/env node
'use strict';
// Makes the prebuilt binary shipped in the npm tarball: the addon built with
// the pinned lws linked in statically (scripts/build.js --native-only), then
// stripped and stored where node-gyp-build (lib/native.ts) looks when there
// is no build/Release/lws.node:
//
//   prebuilds/<platform>-<arch>/libwebsockets.napi.<libc>.node
//
// node-gyp-build reads the dot-separated tags of the name: the package name
// is no tag and is ignored; `napi` says one binary serves every Node with
// N-API 8 (any ABI); `glibc`/`musl` keeps a glibc binary from being picked
// on Alpine, where it would not load and a source build is the way.
//
//   --out-dir DIR   package root to write prebuilds/ under (default: this
//                   checkout); the package test writes into its own copy.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outFlag = process.argv.indexOf('--out-dir');
const outValue = outFlag === -1 ? undefined : process.argv[outFlag + 1];
// Without its value the flag would name the current directory, whose prebuilds/ is then replaced.
if (outFlag !== -1 && (!outValue || outValue.startsWith('--'))) {
  console.error('prebuild: --out-dir needs a directory');
  process.exit(2);
}
const outDir = outValue === undefined ? root : path.resolve(outValue);

// A prebuild must carry lws itself: a system lws would be missing on users' machines.
const env = { ...process.env };
delete env.LWS_USE_SYSTEM;
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js'), '--native-only'], { cwd: root, env, stdio: 'inherit' });

// Where build.js had cmake-js build it (LWS_ADDON_BUILD_DIR, as for a cross build, or build/).
const built = path.join(path.resolve(root, process.env.LWS_ADDON_BUILD_DIR || 'build'), 'Release', 'lws.node');
// Same test as node-gyp-build's, so the tag matches what it looks for.
const libc = process.env.LIBC || (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const name = require('../package.json').name;
const dir = path.join(outDir, 'prebuilds', `${process.platform}-${process.arch}`);
const target = path.join(dir, `${name}.napi.${process.platform === 'linux' ? `${libc}.` : ''}node`);

// One binary per platform directory: an older, differently tagged file could win.
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
// Strip a copy: build/Release/lws.node may be loaded by a running process.
fs.copyFileSync(built, `${target}.tmp`);
execFileSync('strip', ['--strip-unneeded', `${target}.tmp`]);
fs.renameSync(`${target}.tmp`, target);

if (process.platform === 'linux') {
  // lws, OpenSSL and zlib must come from inside the addon and from the node
  // binary, never from shared libraries a user may not have.
  const deps = execFileSync('ldd', [target]).toString();
  const foreign = deps.split('\n').filter((line) => /libwebsockets|libssl|libcrypto|libz\b/.test(line));
  if (foreign.length > 0) {
    fs.rmSync(target);
    throw new Error(`prebuild: ${target} links shared libraries it must not:\n${foreign.join('\n')}`);
  }
}
console.log(path.relative(process.cwd(), target));
