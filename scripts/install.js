#!/usr/bin/env node
'use strict';
// The package's npm "install" script: make sure an addon lib/native.ts can
// load exists, building one from source only when no prebuilt binary fits.
//
// - LIBWEBSOCKETS_BUILD_FROM_SOURCE=1 forces a source build. npm's own
//   setting (`--build-from-source`, npm_config_build_from_source) does too,
//   as a courtesy: npm 11 warns that it will stop passing unknown settings.
// - In a development checkout (the TypeScript sources are there; the npm
//   tarball has none) it does nothing unless asked to: `npm ci` must not
//   start a build there, tools/setup.sh runs `npm run build` afterwards.
// - Otherwise the addon is loaded through node-gyp-build, as at run time: a
//   prebuild that matches and loads (right glibc, libstdc++ …) or an earlier
//   build is enough, and nothing else is loaded: not cmake-js, which a
//   prebuilt install does not have. Failing that, it is built from source.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { name } = require('../package.json');
const log = (line) => console.error(`${name}: ${line}`);
const ENV = 'LIBWEBSOCKETS_BUILD_FROM_SOURCE';

/** Why a source build was asked for, or undefined. */
function buildFromSourceRequested() {
  const ours = process.env[ENV];
  if (ours === '1' || ours === 'true') return `${ENV} is set`;
  const npms = process.env.npm_config_build_from_source;
  if (npms === 'true' || (npms ?? '').split(',').includes(name)) return 'npm_config_build_from_source is set';
  return undefined;
}

/** The error that kept the addon from loading, or undefined if it loads. */
function loadError() {
  try {
    require('node-gyp-build')(root);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Executables the source build needs that are not on PATH (checked where cmake uses make and cc). */
function missingTools() {
  if (process.platform === 'win32') return []; // cmake finds Visual Studio itself
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const found = (tool) =>
    path.isAbsolute(tool)
      ? fs.existsSync(tool)
      : dirs.some((dir) => {
          try {
            fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
            return true;
          } catch {
            return false;
          }
        });
  // CC may carry arguments ("ccache gcc"): the program is the first word.
  const cc = (process.env.CC ?? '').trim().split(/\s+/)[0] || 'cc';
  const needs = [
    ['cmake'],
    ['make', 'ninja'],
    [cc, 'gcc', 'clang'],
    // cmake-js refuses to start unless one of these two is on PATH.
    ['g++', 'clang++'],
  ];
  return needs.filter((alternatives) => !alternatives.some(found)).map((alternatives) => alternatives.join(' or '));
}

function help() {
  const { peerDependencies = {} } = require('../package.json');
  return `To build ${name} from source this machine needs:
  - cmake (>= 3.16; >= 3.21 to cross-compile with CMAKE_TOOLCHAIN_FILE), make or
    ninja, and a C and a C++17 compiler (no OpenSSL or zlib packages: Node's own
    are used). On Debian or Ubuntu: sudo apt-get install cmake g++ make
  - the npm packages cmake-js and node-addon-api, next to ${name}:
    npm install cmake-js@${peerDependencies['cmake-js']} node-addon-api@${peerDependencies['node-addon-api']}
  - Node's headers for this Node version: those of Node's own install, the folder
    given with --nodedir, or else cmake-js downloads them from Node's release site.
Then run: ${ENV}=1 npm rebuild ${name}`;
}

function fail(line) {
  log(line);
  console.error(help());
  process.exit(1);
}

function buildFromSource(why) {
  log(`${why}; building from source`);
  const missing = missingTools();
  if (missing.length > 0) fail(`cannot build from source, not found on PATH: ${missing.join(', ')}`);
  // Only now, and only this: a prebuilt install has no build packages.
  const { missingBuildPackages } = require('./build-deps');
  const packages = missingBuildPackages();
  if (packages.length > 0) fail(`cannot build from source, these npm packages are not installed: ${packages.join(', ')}`);
  try {
    execFileSync(process.execPath, [path.join(__dirname, 'build.js'), '--native-only'], { cwd: root, stdio: 'inherit' });
  } catch {
    fail('the source build failed (its output is above)');
  }
  const error = loadError();
  if (error) {
    log(`built from source, but the addon does not load: ${error.message}`);
    process.exit(1);
  }
}

const requested = buildFromSourceRequested();
if (requested) {
  buildFromSource(requested);
} else if (fs.existsSync(path.join(root, 'lib', 'index.ts'))) {
  log('development checkout: nothing built here (`npm run build` builds lws, the addon and dist/)');
} else {
  const error = loadError();
  if (error) buildFromSource(`no prebuilt binary loads on ${process.platform}-${process.arch} (${error.message.trim()})`);
}
