/**
 * scripts/node-headers.js: which Node headers a source build compiles lws
 * and the addon against. npm's nodedir setting comes first when it has all
 * four headers; one that lacks any is passed over for Node's own install.
 * cmake-js (which would download headers) is not asked while either has them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface NodeHeaders {
  nodeIncludeDir(loadCmakeJs: () => never): Promise<string>;
  missingHeaders(dir: string): string[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain script of the package, no types
const { nodeIncludeDir, missingHeaders } = require('../scripts/node-headers') as NodeHeaders;

const ownInstall = path.resolve(process.execPath, '..', '..', 'include', 'node');
const cmakeJsNotWanted = (): never => {
  throw new Error('cmake-js was asked for headers');
};

let tmp: string;
const savedNodedir = process.env.npm_config_nodedir;

/** A nodedir whose include/node holds `files` (empty files are enough to be found). */
function fakeNodedir(name: string, files: string[]): string {
  const dir = path.join(tmp, name);
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, 'include', 'node', file)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'include', 'node', file), '');
  }
  return dir;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lws-headers-'));
});
afterEach(() => {
  if (savedNodedir === undefined) delete process.env.npm_config_nodedir;
  else process.env.npm_config_nodedir = savedNodedir;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('npm_config_nodedir with node.h, uv.h, zlib.h and openssl/ssl.h comes first', async () => {
  const nodedir = fakeNodedir('complete', ['node.h', 'uv.h', 'zlib.h', 'openssl/ssl.h']);
  process.env.npm_config_nodedir = nodedir;
  await expect(nodeIncludeDir(cmakeJsNotWanted)).resolves.toBe(path.join(nodedir, 'include', 'node'));
});

(missingHeaders(ownInstall).length === 0 ? test : test.skip)(
  "a nodedir without OpenSSL's headers is passed over for Node's own install",
  async () => {
    const nodedir = fakeNodedir('no-openssl', ['node.h', 'uv.h', 'zlib.h']);
    expect(missingHeaders(path.join(nodedir, 'include', 'node'))).toEqual([path.join('openssl', 'ssl.h')]);
    process.env.npm_config_nodedir = nodedir;
    await expect(nodeIncludeDir(cmakeJsNotWanted)).resolves.toBe(ownInstall);
  },
);
