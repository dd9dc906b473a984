#!/usr/bin/env node
'use strict';
// The package's npm "install" script: make sure an addon lib/native.ts can
// load exists, building one from source only when no prebuilt binary fits.
//
// - In a development checkout (the TypeScript sources are there; the npm
//   tarball has none) it does nothing unless asked to: `npm ci` must not
//   start a build there, scripts/setup.sh runs `npm run build` afterwards.
// - npm_config_build_from_source (`npm install --build-from-source`, or
//   `--build-from-source=libwebsockets` for this package alone) forces a
//   source build.
// - Otherwise the addon is loaded through node-gyp-build, as at run time: a
//   prebuild that matches and loads (right glibc, libstdc++ …) or an earlier
//   build is enough. Failing that, it is built from source.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { name } = require('../package.json');
const log = (line) => console.error(`${name}: ${line}`);

function buildFromSourceRequested() {
  const value = process.env.npm_config_build_from_source;
  if (value === undefined || value === '' || value === 'false') return false;
  return value === 'true' || value.split(',').includes(name);
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

/** Executables the source build needs that are not on PATH. */
function missingTools() {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const found = (tool) =>
    dirs.some((dir) => {
      try {
        fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const needs = [['cmake'], ['make', 'ninja'], [process.env.CXX || 'c++', 'g++', 'clang++'], ['bash'], ['python3']];
  return needs.filter((alternatives) => !alternatives.some(found)).map((alternatives) => alternatives.join(' or '));
}

const HELP = `To build ${name} from source this machine needs:
  - cmake (>= 3.16), make or ninja, a C++17 compiler, bash, python3 (patches lws);
  - the OpenSSL and zlib headers (Node's own OpenSSL and zlib are used at run time);
    on Debian or Ubuntu: sudo apt-get install cmake g++ make python3 libssl-dev zlib1g-dev
  - the libwebsockets 4.3.5 source: fetched from Debian's source archive through
    apt (needs root), or set LWS_SOURCE_DIR to an unpacked libwebsockets >= 4.3 tree.
Then run: npm rebuild ${name} --build-from-source`;

function buildFromSource(why) {
  log(`${why}; building from source`);
  const missing = missingTools();
  if (missing.length > 0) {
    log(`cannot build from source, not found on PATH: ${missing.join(', ')}`);
    console.error(HELP);
    process.exit(1);
  }
  try {
    execFileSync(process.execPath, [path.join(__dirname, 'build.js'), '--native-only'], { cwd: root, stdio: 'inherit' });
  } catch {
    log('the source build failed (its output is above)');
    console.error(HELP);
    process.exit(1);
  }
  const error = loadError();
  if (error) {
    log(`built from source, but the addon does not load: ${error.message}`);
    process.exit(1);
  }
}

if (buildFromSourceRequested()) {
  buildFromSource('npm_config_build_from_source is set');
} else if (fs.existsSync(path.join(root, 'lib', 'index.ts'))) {
  log('development checkout: nothing built here (`npm run build` builds lws, the addon and dist/)');
} else {
  const error = loadError();
  if (error) buildFromSource(`no prebuilt binary loads on ${process.platform}-${process.arch} (${error.message.trim()})`);
}
