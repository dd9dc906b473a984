/**
 * The package as a user gets it. beforeAll packs this checkout (dist/ as the
 * pretest script built it), adds the prebuilt binaries `npm run
 * build:prebuilds` made (or, without them, one for this machine made by
 * scripts/prebuild.js) to a copy of the packed tree, packs again, and installs that tarball into a fresh project with
 * `npm ci --offline` (a lockfile made from ours, so only the npm cache that
 * setup.sh's `npm ci` filled is used) and no cmake, make or compiler on
 * PATH. The tests then use the installed copy from CommonJS, ESM, the
 * lwscat bin and TypeScript (node16 resolution through the exports map),
 * against a `ws` echo server; the last one installs a tarball without the
 * prebuild, which must fall back to building lws and the addon from source.
 * Fixtures: test/fixtures/package/.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { echo, startWsServer, type WsServer } from './helpers/servers';

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(__dirname, 'fixtures', 'package');
const NPM_CLI =
  process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)
    ? process.env.npm_execpath
    : path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const PREBUILD = `prebuilds/${process.platform}-${process.arch}/libwebsockets.napi.glibc.node`;
// What `npm run build:prebuilds` ships (tools/prebuilds/targets.js). Without
// them (a checkout that never ran it) the install tests use one made by
// scripts/prebuild.js for this machine; .ci/run sets LWS_TEST_PREBUILDS=1,
// under which the tarball must hold these.
const SHIPPED_PREBUILDS = ['linux-x64', 'linux-arm64'].map((dir) => `prebuilds/${dir}/libwebsockets.napi.glibc.node`);
// The lws source setup.sh's build fetched (scripts/fetch-lws.sh): the source-build test uses it, never the network.
const LWS_CACHE = path.join(ROOT, 'deps', '.cache');
const haveLwsSource = fs.existsSync(LWS_CACHE) && fs.readdirSync(LWS_CACHE).some((entry) => fs.existsSync(path.join(LWS_CACHE, entry, '.verified')));

jest.setTimeout(120_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never rejects, so failures can be asserted on. */
function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: options.cwd, env: options.env ?? childEnv(), maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

function npm(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  return run(process.execPath, [NPM_CLI, ...args], { cwd, ...(env && { env }) });
}

/** Our environment without what `npm test` set for this package's own scripts. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_(package_|lifecycle_|config_build_from_source)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

function ok(result: Run, what: string): Run {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/**
 * A directory of links to node and a shell's basic tools, and nothing that
 * builds: what PATH holds for the user whose install must use the prebuild.
 */
function toolsOnlyPath(dir: string): string {
  fs.mkdirSync(dir);
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  const pathDirs = (process.env.PATH ?? '').split(path.delimiter);
  for (const tool of ['sh', 'bash', 'env', 'cat', 'ls', 'cp', 'mv', 'rm', 'mkdir', 'uname', 'tar', 'gzip', 'grep', 'sed']) {
    const found = pathDirs.map((d) => path.join(d, tool)).find((candidate) => fs.existsSync(candidate));
    if (found) fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}

/** `npm pack` of `dir` into `destination`; returns the tarball and the files in it. */
async function pack(dir: string, destination: string): Promise<{ tarball: string; files: string[] }> {
  fs.mkdirSync(destination, { recursive: true });
  // --ignore-scripts: no prepack tsc while other tests read dist/; pretest built it.
  const result = ok(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', destination], dir), `npm pack in ${dir}`);
  const [info] = JSON.parse(result.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { tarball: path.join(destination, info!.filename), files: info!.files.map((file) => file.path).sort() };
}

/**
 * A project depending on the tarball, with a lockfile holding our
 * package-lock's runtime entries (with their registry URLs), so
 * `npm ci --offline` takes every dependency from the npm cache by its
 * integrity: deterministic, and no registry metadata needed.
 */
function writeProject(dir: string, tarball: string, registry: string): void {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string; dev?: boolean; devOptional?: boolean; resolved?: string; [key: string]: unknown }>;
  };
  const self = lock.packages['']!;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { libwebsockets: spec } },
    'node_modules/libwebsockets': { ...self, name: undefined, devDependencies: undefined, resolved: spec, hasInstallScript: true },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key || entry.dev || entry.devOptional) continue;
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[key] = { resolved: `${registry.replace(/\/?$/, '/')}${name}/-/${name.split('/').pop()}-${entry.version}.tgz`, ...entry };
  }
  fs.mkdirSync(dir);
  // allowScripts: npm >= 11.19 skips dependencies' install scripts unless approved (as `npm install-scripts approve` writes it).
  const manifest = { name: 'consumer', private: true, dependencies: { libwebsockets: spec }, allowScripts: { [spec]: true } };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
}

/** The names `file` imports from 'libwebsockets'. */
function importedNames(file: string): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022);
  return source.statements
    .filter(ts.isImportDeclaration)
    .filter((statement) => (statement.moduleSpecifier as ts.StringLiteral).text === 'libwebsockets')
    .flatMap((statement) => {
      const bindings = statement.importClause?.namedBindings;
      return bindings && ts.isNamedImports(bindings) ? bindings.elements.map((element) => (element.propertyName ?? element.name).text) : [];
    })
    .sort();
}

/** Every name, value or type, that a declaration file exports. */
function exportedNames(declarations: string): string[] {
  const program = ts.createProgram([declarations], { noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(declarations)!)!;
  return checker.getExportsOfModule(moduleSymbol).map((symbol) => symbol.name).sort();
}

let tmp: string;
let toolsPath: string;
let plainFiles: string[];
let prebuiltFiles: string[];
let sourceTarball: string;
let install: Run;
let app: string;
let installed: string;
let server: WsServer;
/** Where setup.sh's `npm ci` fetched from, so the cache holds the tarballs under these URLs. */
let registry: string;

beforeAll(async () => {
  for (const file of ['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts']) {
    if (!fs.existsSync(path.join(ROOT, 'dist', file))) throw new Error(`dist/${file} is missing: run \`npm run build:ts\``);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lws-package-'));
  toolsPath = toolsOnlyPath(path.join(tmp, 'tools'));
  registry = ok(await npm(['config', 'get', 'registry'], ROOT), 'npm config get registry').stdout.trim();

  const plain = await pack(ROOT, path.join(tmp, 'plain'));
  plainFiles = plain.files;
  // One copy of the packed tree, packed twice: without any prebuild (the
  // checkout may have a prebuilds/ of its own), then with a fresh one.
  const stage = path.join(tmp, 'stage');
  fs.mkdirSync(stage);
  ok(await run('tar', ['-xzf', plain.tarball, '-C', stage], { cwd: tmp }), 'tar');
  const tree = path.join(stage, 'package');
  fs.rmSync(path.join(tree, 'prebuilds'), { recursive: true, force: true });
  sourceTarball = (await pack(tree, path.join(tmp, 'source'))).tarball;
  if (SHIPPED_PREBUILDS.every((file) => fs.existsSync(path.join(ROOT, file)))) {
    // What `npm run build:prebuilds` made, as the published tarball holds them.
    fs.cpSync(path.join(ROOT, 'prebuilds'), path.join(tree, 'prebuilds'), { recursive: true });
  } else {
    ok(await run(process.execPath, [path.join(ROOT, 'scripts', 'prebuild.js'), '--out-dir', tree], { cwd: ROOT }), 'scripts/prebuild.js');
  }
  const prebuilt = await pack(tree, path.join(tmp, 'prebuilt'));
  prebuiltFiles = prebuilt.files;
  expect(prebuilt.files).toContain(PREBUILD);

  app = path.join(tmp, 'app');
  installed = path.join(app, 'node_modules', 'libwebsockets');
  writeProject(app, prebuilt.tarball, registry);
  // In the project, so that 'libwebsockets' resolves to the installed copy.
  for (const fixture of ['require.cjs', 'import.mjs']) fs.copyFileSync(path.join(FIXTURES, fixture), path.join(app, fixture));
  install = await npm(['ci', '--offline', '--foreground-scripts', '--no-audit', '--no-fund'], app, childEnv({ PATH: toolsPath }));
  server = await startWsServer(echo);
}, 600_000);

afterAll(async () => {
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('npm pack ships dist/, the source build and bin/, and nothing else', () => {
  const allowed = [
    /^dist\/.+\.(js|mjs|d\.ts|d\.mts)$/,
    /^prebuilds\//,
    /^binding\/(platform\/)?[^/]+\.(cc|h)$/,
    /^bin\/lwscat\.js$/,
    /^scripts\/(build\.js|build-lws\.sh|fetch-lws\.sh|install\.js|lws-fixes\.py)$/,
    /^(CMakeLists\.txt|README\.md|package\.json|LICENSE)$/,
  ];
  expect(plainFiles.filter((file) => !allowed.some((pattern) => pattern.test(file)))).toEqual([]);
  const binding = fs
    .readdirSync(path.join(ROOT, 'binding'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.posix.join('binding', path.relative(path.join(ROOT, 'binding'), path.join(entry.parentPath ?? entry.path, entry.name))));
  for (const file of [
    ...binding,
    'CMakeLists.txt',
    'scripts/build.js',
    'scripts/build-lws.sh',
    'scripts/fetch-lws.sh',
    'scripts/install.js',
    'dist/index.js',
    'dist/index.mjs',
    'dist/index.d.ts',
    'dist/index.d.mts',
    'dist/cli/lwscat.js',
    'bin/lwscat.js',
    'README.md',
  ]) {
    expect(plainFiles).toContain(file);
  }
});

(process.env.LWS_TEST_PREBUILDS === '1' ? test : test.skip)('the tarball holds the prebuilds `npm run build:prebuilds` makes, one per platform', () => {
  expect(prebuiltFiles.filter((file) => file.startsWith('prebuilds/'))).toEqual([...SHIPPED_PREBUILDS].sort());
});

test('the prebuild carries lws and links no libwebsockets, OpenSSL or zlib of its own', async () => {
  const ldd = ok(await run('ldd', [path.join(installed, PREBUILD)], { cwd: tmp }), 'ldd').stdout;
  expect(ldd).toMatch(/libc\.so/);
  expect(ldd).not.toMatch(/libwebsockets|libssl|libcrypto|libz\b/);
});

test('installs offline with no build tools: the install script finds the prebuild and builds nothing', () => {
  ok(install, 'npm ci');
  expect(install.stdout + install.stderr).toMatch(/node scripts\/install\.js/);
  expect(install.stdout + install.stderr).not.toMatch(/building from source/);
  expect(fs.existsSync(path.join(installed, PREBUILD))).toBe(true);
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
  expect(fs.existsSync(path.join(installed, 'deps'))).toBe(false);
});

test('require() loads the prebuild and exchanges a message', async () => {
  const result = ok(await run(process.execPath, [path.join(app, 'require.cjs'), server.url], { cwd: app, env: childEnv({ PATH: toolsPath }) }), 'require.cjs');
  expect(result.stdout.split('\n')).toEqual([`addon ${path.join(installed, PREBUILD)}`, 'echo hello from require', 'closed 1000', '']);
});

test('import loads the ESM entry: every CommonJS export, the same values, and a message exchanged', async () => {
  const result = ok(await run(process.execPath, [path.join(app, 'import.mjs'), server.url], { cwd: app, env: childEnv({ PATH: toolsPath }) }), 'import.mjs');
  const lines = result.stdout.split('\n');
  expect(lines[0]).toMatch(/^differing \[\] of \d+$/);
  expect(lines.slice(1)).toEqual(['WebSocket function', `addon ${path.join(installed, PREBUILD)}`, 'echo hello from import', 'closed 1000', '']);
});

test('the lwscat bin echoes a line', async () => {
  const lwscat = path.join(app, 'node_modules', '.bin', 'lwscat');
  const result = ok(await run(lwscat, [server.url], { cwd: app, env: childEnv({ PATH: toolsPath }), input: 'hi\n' }), 'lwscat');
  expect(result.stdout).toBe('hi\n');
});

test('TypeScript (node16) type-checks a consumer of every export through both export conditions', async () => {
  const consumer = path.join(FIXTURES, 'consumer.mts');
  // Every export of the package is imported by the consumer, so none goes unchecked.
  expect(importedNames(consumer)).toEqual(exportedNames(path.join(installed, 'dist', 'index.d.ts')));
  fs.copyFileSync(consumer, path.join(app, 'consumer.mts'));
  fs.copyFileSync(consumer, path.join(app, 'consumer.cts'));
  const tsconfig = {
    compilerOptions: {
      module: 'node16',
      moduleResolution: 'node16',
      target: 'ES2022',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      traceResolution: true,
    },
    files: ['consumer.mts', 'consumer.cts'],
  };
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const result = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], { cwd: app });
  const errors = result.stdout.split('\n').filter((line) => /error TS/.test(line));
  expect(errors).toEqual([]);
  expect(result.code).toBe(0);
  // consumer.mts took the "import" types and consumer.cts the "require" ones.
  const resolved = [...result.stdout.matchAll(/Module name 'libwebsockets' was successfully resolved to '([^']+)'/g)].map((m) => path.relative(installed, m[1]!));
  expect(new Set(resolved)).toEqual(new Set([path.join('dist', 'index.d.mts'), path.join('dist', 'index.d.ts')]));
});

test('a source build without the tools fails with what to install and how to retry', async () => {
  const result = await npm(['rebuild', 'libwebsockets', '--build-from-source', '--offline', '--foreground-scripts'], app, childEnv({ PATH: toolsPath }));
  expect(result.code).not.toBe(0);
  const output = result.stdout + result.stderr;
  expect(output).toMatch(/not found on PATH: cmake, make or ninja, c\+\+ or g\+\+ or clang\+\+/);
  expect(output).toMatch(/apt-get install cmake g\+\+ make python3 libssl-dev zlib1g-dev/);
  expect(output).toMatch(/npm rebuild libwebsockets --build-from-source/);
  // Nothing was started, and the prebuild still serves.
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
});

(haveLwsSource ? test : test.skip)(
  'without a prebuild the install builds lws and the addon from source, and they work',
  async () => {
    const project = path.join(tmp, 'source-app');
    writeProject(project, sourceTarball, registry);
    // The lws source tree setup.sh fetched, instead of apt: no network, no root.
    ok(await npm(['ci', '--offline', '--no-audit', '--no-fund'], project, childEnv({ LWS_CACHE_DIR: LWS_CACHE })), 'npm ci (source build)');
    const built = path.join(project, 'node_modules', 'libwebsockets', 'build', 'Release', 'lws.node');
    expect(fs.existsSync(built)).toBe(true);
    fs.copyFileSync(path.join(FIXTURES, 'require.cjs'), path.join(project, 'require.cjs'));
    const result = ok(await run(process.execPath, [path.join(project, 'require.cjs'), server.url], { cwd: project }), 'require.cjs');
    expect(result.stdout.split('\n')).toEqual([`addon ${built}`, 'echo hello from require', 'closed 1000', '']);
  },
  600_000,
);
