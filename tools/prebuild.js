#!/usr/bin/env node
'use strict';
// Makes the prebuilt binary shipped in the npm tarball, with prebuildify:
// the addon built with the pinned lws linked in statically, stripped and
// stored where node-gyp-build (lib/native.ts) looks when there is no
// build/Release/lws.node:
//
//   prebuilds/<platform>-<arch>/libwebsockets.napi.<libc>.node
//
// prebuildify builds by running node-gyp; tools/prebuildify-node-gyp.js
// stands in for it and runs scripts/build.js. prebuildify works in
// deps/.build/prebuild, so that it takes the addon from there (it moves the
// file it finds in its ./build/Release) and the checkout's own
// build/Release/lws.node, which running tests load, stays.
//
// node-gyp-build reads the dot-separated tags of the name: `libwebsockets`
// is no tag and is ignored; `napi` says one binary serves every Node with
// N-API 8 (any ABI); `glibc`/`musl` keeps a glibc binary from being picked
// on Alpine, where it would not load and a source build is the way.
// prebuildify names a Node-API build <name>.<libc>.node, so the name it is
// given carries the napi tag.
//
//   --out-dir DIR   package root to write prebuilds/ under (default: this
//                   checkout); the package test writes into its own copy.
//   PREBUILD_ARCH, PREBUILD_LIBC  prebuildify's: the folder and tag to file
//                   the binary under (with CMAKE_TOOLCHAIN_FILE for a cross build).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const prebuildify = require('prebuildify');

const root = path.resolve(__dirname, '..');
const outFlag = process.argv.indexOf('--out-dir');
const outValue = outFlag === -1 ? undefined : process.argv[outFlag + 1];
// Without its value the flag would name the current directory, whose prebuilds/ is then replaced.
if (outFlag !== -1 && (!outValue || outValue.startsWith('--'))) {
  console.error('prebuild: --out-dir needs a directory');
  process.exit(2);
}
const outDir = outValue === undefined ? root : path.resolve(outValue);
const { name } = require('../package.json');

const work = path.join(root, 'deps', '.build', 'prebuild');
fs.mkdirSync(work, { recursive: true });
const arch = process.env.PREBUILD_ARCH || process.arch;
const folder = path.join(outDir, 'prebuilds', `${process.platform}-${arch}`);
// One binary per platform folder: an older, differently tagged file could win.
fs.rmSync(folder, { recursive: true, force: true });

const shim = path.join(__dirname, 'prebuildify-node-gyp.js');
const options = {
  cwd: work,
  out: outDir,
  name: `${name}.napi`,
  napi: true,
  strip: true,
  tagLibc: process.platform === 'linux',
  targets: [`node@${process.versions.node}`],
  // prebuildify spawns it without a shell except on Windows, where a .js file is no command.
  nodeGyp: process.platform === 'win32' ? `"${process.execPath}" "${shim}"` : shim,
};
prebuildify(options, (error) => {
  if (error) {
    console.error(`prebuild: ${error.message}`);
    process.exit(1);
  }
  const [file, ...others] = fs.readdirSync(folder).filter((entry) => entry.endsWith('.node'));
  if (!file || others.length > 0) throw new Error(`prebuild: expected one binary in ${folder}`);
  const target = path.join(folder, file);
  if (process.platform === 'linux') {
    // lws, OpenSSL and zlib must come from inside the addon and from the node
    // binary, never from shared libraries a user may not have. readelf reads
    // a cross-built binary too.
    const needed = execFileSync('readelf', ['-d', target]).toString().split('\n').filter((line) => /\(NEEDED\)/.test(line));
    const foreign = needed.filter((line) => /libwebsockets|libssl|libcrypto|libz\b/.test(line));
    if (needed.length === 0 || foreign.length > 0) {
      fs.rmSync(target);
      throw new Error(`prebuild: ${target} links shared libraries it must not:\n${foreign.join('\n') || '(readelf found no NEEDED entries)'}`);
    }
  }
  console.log(path.relative(process.cwd(), target));
});
