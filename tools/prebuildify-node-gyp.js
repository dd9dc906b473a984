#!/usr/bin/env node
'use strict';
// What prebuildify runs in place of node-gyp (tools/prebuild.js names it
// with --node-gyp): prebuildify calls `<node-gyp> rebuild --target=V
// --devdir=D --arch=A --release` in its working folder and takes the .node
// file it finds in ./build/Release. This package builds with cmake-js, so
// here that call becomes scripts/build.js --native-only with the addon's
// build folder set to ./build (LWS_ADDON_BUILD_DIR). --target and --devdir
// are node-gyp's header download, which a Node-API build does not need.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const [command, ...options] = process.argv.slice(2);
const option = (name) => options.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
if (command !== 'rebuild') {
  console.error(`prebuildify-node-gyp: only "rebuild" is supported, not ${JSON.stringify(process.argv.slice(2).join(' '))}`);
  process.exit(2);
}
if (options.includes('--debug')) {
  console.error('prebuildify-node-gyp: --debug is not supported: prebuilds are Release builds');
  process.exit(2);
}
const arch = option('arch');
// cmake builds for the machine it runs on unless a toolchain file says otherwise.
if (arch && arch !== process.arch && !process.env.CMAKE_TOOLCHAIN_FILE) {
  console.error(`prebuildify-node-gyp: --arch=${arch} is not this machine's (${process.arch}); set CMAKE_TOOLCHAIN_FILE for a cross build`);
  process.exit(2);
}

// A prebuild must carry lws itself: a system lws would be missing on users' machines.
const env = { ...process.env, LWS_ADDON_BUILD_DIR: path.resolve('build') };
delete env.LWS_USE_SYSTEM;
const root = path.resolve(__dirname, '..');
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js'), '--native-only'], { cwd: root, env, stdio: 'inherit' });
