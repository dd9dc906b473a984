#!/usr/bin/env node
'use strict';
// Builds the addon from source: lws (scripts/build-lws.js, skipped when
// already built), then the addon (cmake-js, Release), then, in a checkout,
// the TypeScript (tsc). `--native-only` skips the TypeScript.
//
// In a checkout, deps/lws/ is (re)made first by tools/prepare-lws.js; the
// npm package ships it ready.
//
//   LWS_ADDON_BUILD_DIR=DIR  build the addon in DIR instead of build/ (DIR/Release/lws.node;
//                            node-gyp-build loads only build/, so this is for prebuilds)
//   LWS_USE_SYSTEM=1         link a system lws >= 4.3 (pkg-config) instead
//   and those of build-lws.js and node-headers.js.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { buildLws } = require('./build-lws');
const { cmakeJsBin, loadCmakeJs } = require('./build-deps');
const { nodeIncludeDir } = require('./node-headers');

const root = path.resolve(__dirname, '..');

async function build({ nativeOnly }) {
  const useSystem = process.env.LWS_USE_SYSTEM === '1';
  const prepare = path.join(root, 'tools', 'prepare-lws.js');
  if (!useSystem && fs.existsSync(prepare)) require(prepare).prepare();
  const includeDir = await nodeIncludeDir(loadCmakeJs);
  const args = ['compile', '--directory', root, '--config', 'Release', `--CDNODE_INCLUDE_DIR=${includeDir}`];
  if (process.env.LWS_ADDON_BUILD_DIR) args.push('--out', path.resolve(process.env.LWS_ADDON_BUILD_DIR));
  if (useSystem) {
    args.push('--CDLWS_USE_SYSTEM=ON');
  } else {
    args.push(`--CDLWS_PREFIX=${buildLws(includeDir)}`);
  }
  execFileSync(process.execPath, [cmakeJsBin(), ...args], { cwd: root, stdio: 'inherit' });
  if (!nativeOnly) {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
}

module.exports = { build };

if (require.main === module) {
  build({ nativeOnly: process.argv.includes('--native-only') }).catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
