#!/usr/bin/env node
'use strict';
// Builds everything a checkout needs: the pinned lws (scripts/build-lws.sh,
// skipped when already built), the addon (cmake-js, Release) and the
// TypeScript (tsc). `--native-only` skips the TypeScript.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const run = (command, args, options = {}) =>
  execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], ...options });

const nodeIncludeDir = path.resolve(process.execPath, '..', '..', 'include', 'node');
const cmakeArgs = ['compile', '--config', 'Release', `--CDNODE_INCLUDE_DIR=${nodeIncludeDir}`];
if (process.env.LWS_USE_SYSTEM === '1') {
  cmakeArgs.push('--CDLWS_USE_SYSTEM=ON');
} else {
  const prefix = run('bash', [path.join('scripts', 'build-lws.sh')]).toString().trim();
  cmakeArgs.push(`--CDLWS_PREFIX=${prefix}`);
}
run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), ...cmakeArgs], { stdio: 'inherit' });
if (!process.argv.includes('--native-only')) {
  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
