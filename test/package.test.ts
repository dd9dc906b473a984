/**
 * The package as a user gets it. beforeAll packs this checkout (dist/ as the
 * pretest script built it), adds the prebuilt binaries `npm run
 * build:prebuilds` made (or, without them, one for this machine made by
 * tools/prebuild.js) to a copy of the packed tree, packs again, and installs
 * that tarball into a fresh project with `npm ci --offline` (a lockfile made from ours, so only the npm cache that
 * setup.sh's `npm ci` filled is used) and no cmake, make or compiler on
 * PATH. The tests then use the installed copy from CommonJS, ESM, the
 * lwscat bin and TypeScript (node16 resolution through the exports map),
 * against a `ws` echo server. The source build has a test of its own
 * (test/source_build.test.ts). Fixtures: test/fixtures/package/.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { echo, startWsServer, type WsServer } from './helpers/servers';
import { ROOT, childEnv, linkTools, npm, ok, pack, run, writeProject, type Run } from './helpers/package';
import { readmeExamples } from './helpers/readme_examples';

const FIXTURES = path.join(__dirname, 'fixtures', 'package');
const PREBUILD = `prebuilds/${process.platform}-${process.arch}/libwebsockets.napi.glibc.node`;
// What `npm run build:prebuilds` ships (tools/prebuilds/targets.js). Without
// them (a checkout that never ran it) the install tests use one made by
// tools/prebuild.js for this machine; with LWS_TEST_PREBUILDS=1 (after
// `npm run build:prebuilds`) the tarball must hold these.
const SHIPPED_PREBUILDS = ['linux-x64', 'linux-arm64'].map((dir) => `prebuilds/${dir}/libwebsockets.napi.glibc.node`);

jest.setTimeout(120_000);

/**
 * A directory of links to node and a shell's basic tools, and nothing that
 * builds: what PATH holds for the user whose install must use the prebuild.
 */
function toolsOnlyPath(dir: string): string {
  return linkTools(dir, ['sh', 'bash', 'env', 'cat', 'ls', 'cp', 'mv', 'rm', 'mkdir', 'uname', 'tar', 'gzip', 'grep', 'sed']);
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

/**
 * What a TypeScript file declares, as 'module.Name' and 'module.Class.member'
 * (module: the path under lib/ or dist/, without .ts or .d.ts); with
 * `internalOnly`, just the declarations whose doc comment has @internal.
 */
function declarations(root: string, file: string, internalOnly: boolean): string[] {
  const source = ts.createSourceFile(file, fs.readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.ES2022, true);
  const module = file.replace(/(\.d)?\.m?ts$/, '');
  const chosen = (node: ts.Node) => !internalOnly || ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
  const nameOf = (node: ts.Node): string | undefined => {
    const name = (node as { name?: ts.Node }).name;
    if (ts.isConstructorDeclaration(node)) return 'constructor';
    return name && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) ? name.text : undefined;
  };
  const names: string[] = [];
  for (const statement of source.statements) {
    const declared = ts.isVariableStatement(statement) ? statement.declarationList.declarations[0] : statement;
    const name = declared && nameOf(declared);
    if (!name) continue;
    if (chosen(statement)) names.push(`${module}.${name}`);
    if (!ts.isClassDeclaration(statement) && !ts.isInterfaceDeclaration(statement)) continue;
    for (const member of statement.members) {
      const memberName = nameOf(member);
      if (memberName && chosen(member)) names.push(`${module}.${name}.${memberName}`);
    }
  }
  return names;
}

/** Every .ts (or .d.ts) file under `root`, as paths relative to it. */
function typeScriptFiles(root: string, declarationsOnly: boolean): string[] {
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((file) => (declarationsOnly ? /\.d\.m?ts$/ : /(?<!\.d)\.m?ts$/).test(file)).sort();
}

let tmp: string;
let toolsPath: string;
let plainFiles: string[];
let plainSize: number;
let prebuiltFiles: string[];
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
  plainSize = plain.size;
  // A copy of the packed tree with a fresh prebuild (the checkout may have a
  // prebuilds/ of its own, which is replaced).
  const stage = path.join(tmp, 'stage');
  fs.mkdirSync(stage);
  ok(await run('tar', ['-xzf', plain.tarball, '-C', stage], { cwd: tmp }), 'tar');
  const tree = path.join(stage, 'package');
  fs.rmSync(path.join(tree, 'prebuilds'), { recursive: true, force: true });
  if (SHIPPED_PREBUILDS.every((file) => fs.existsSync(path.join(ROOT, file)))) {
    // What `npm run build:prebuilds` made, as the published tarball holds them.
    fs.cpSync(path.join(ROOT, 'prebuilds'), path.join(tree, 'prebuilds'), { recursive: true });
  } else {
    ok(await run(process.execPath, [path.join(ROOT, 'tools', 'prebuild.js'), '--out-dir', tree], { cwd: ROOT }), 'tools/prebuild.js');
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

test('npm pack ships dist/, the source build (lws source included), bin/ and docs/, and nothing else', () => {
  const allowed = [
    /^dist\/.+\.(js|mjs|d\.ts|d\.mts)$/,
    /^prebuilds\//,
    /^binding\/(platform\/)?[^/]+\.(cc|h)$/,
    /^deps\/lws\//,
    /^bin\/lwscat\.js$/,
    /^scripts\/(build|build-deps|build-lws|install|node-headers)\.js$/,
    /^(CMakeLists\.txt|README\.md|package\.json|LICENSE)$/,
    /^docs\/[A-Z]+\.md$/,
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
    'scripts/build-deps.js',
    'scripts/build-lws.js',
    'scripts/install.js',
    'scripts/node-headers.js',
    'deps/lws/lws-node-manifest.json',
    'deps/lws/LICENSE',
    'deps/lws/CMakeLists.txt',
    'deps/lws/lib/roles/ws/client-parser-ws.c',
    'dist/index.js',
    'dist/index.mjs',
    'dist/index.d.ts',
    'dist/index.d.mts',
    'dist/cli/lwscat.js',
    'bin/lwscat.js',
    'README.md',
    'docs/API.md',
    'docs/INSTALL.md',
  ]) {
    expect(plainFiles).toContain(file);
  }
  // The pruned lws source: test apps, examples and docs stay out, so the tarball stays small.
  expect(plainFiles.filter((file) => /^deps\/lws\/(minimal-examples|test-apps|READMEs|contrib)\//.test(file))).toEqual([]);
  expect(plainSize).toBeLessThan(2_500_000);
});

(process.env.LWS_TEST_PREBUILDS === '1' ? test : test.skip)('the tarball holds the prebuilds `npm run build:prebuilds` makes, one per platform', () => {
  expect(prebuiltFiles.filter((file) => file.startsWith('prebuilds/'))).toEqual([...SHIPPED_PREBUILDS].sort());
});

test('the prebuild carries lws and links no libwebsockets, OpenSSL or zlib of its own', async () => {
  // The libraries it names as NEEDED (readelf reads an ELF of any
  // architecture; ldd runs the file's loader, which fails for the arm64 one
  // under npm run test:arm64).
  const dynamic = ok(await run('readelf', ['-d', path.join(installed, PREBUILD)], { cwd: tmp }), 'readelf').stdout;
  const needed = dynamic.split('\n').filter((line) => line.includes('(NEEDED)')).join('\n');
  expect(needed).toMatch(/libc\.so/);
  expect(needed).not.toMatch(/libwebsockets|libssl|libcrypto|libz\b/);
});

test('installs offline with no build tools: the install script finds the prebuild and builds nothing', () => {
  ok(install, 'npm ci');
  expect(install.stdout + install.stderr).toMatch(/node scripts\/install\.js/);
  expect(install.stdout + install.stderr).not.toMatch(/building from source/);
  expect(fs.existsSync(path.join(installed, PREBUILD))).toBe(true);
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
  expect(fs.existsSync(path.join(installed, 'deps', '.build'))).toBe(false);
  // The build packages are optional peers: a prebuilt install has none of them.
  for (const buildOnly of ['cmake-js', 'node-addon-api', 'node-api-headers']) {
    expect(fs.existsSync(path.join(app, 'node_modules', buildOnly))).toBe(false);
  }
  expect(fs.readdirSync(path.join(app, 'node_modules')).filter((entry) => !entry.startsWith('.')).sort()).toEqual(['libwebsockets', 'node-gyp-build']);
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

describe('the README examples, run from the installed package as they stand in its README', () => {
  // The installed README, so these are the examples an npm user reads.
  const examples = () => readmeExamples(fs.readFileSync(path.join(installed, 'README.md'), 'utf8'));
  /** Where a program that sends a file sends it: a server that only reads, hashing what arrives. */
  let sink: WsServer;
  let received: crypto.Hash;
  beforeAll(async () => {
    sink = await startWsServer((socket) => socket.on('message', (data: Buffer) => received.update(data)));
  });
  afterAll(() => sink?.close());

  /** The README's arguments for us: any other than the URL names a file, made here with 16 MiB of random bytes. */
  function argumentsFor(args: string[]): { argv: string[]; files: string[] } {
    const isUrl = (arg: string) => /^wss?:\/\//.test(arg);
    const files = args.filter((arg) => !isUrl(arg)).map((arg) => path.join(app, arg));
    for (const file of files) if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(16 << 20));
    const url = files.length ? sink.url : server.url;
    return { argv: args.map((arg) => (isUrl(arg) ? url : path.join(app, arg))), files };
  }

  test('there are three programs, each with the output it promises, and an lwscat command', () => {
    const { programs, commands } = examples();
    expect(programs.map((program) => [program.file, program.output !== undefined])).toEqual([
      ['echo.cjs', true],
      ['websocket.mjs', true],
      ['send-file.mjs', true],
    ]);
    expect(commands.some((command) => command.startsWith('npx lwscat '))).toBe(true);
  });

  test.each(['echo.cjs', 'websocket.mjs', 'send-file.mjs'])('%s prints what the README says and nothing on stderr; a file it sends arrives intact', async (name) => {
    const program = examples().programs.find((candidate) => candidate.file === name)!;
    fs.writeFileSync(path.join(app, program.file), program.source);
    const { argv, files } = argumentsFor(program.args);
    received = crypto.createHash('sha256');
    const result = await run(process.execPath, [program.file, ...argv], { cwd: app, env: childEnv({ PATH: toolsPath }) });
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: program.output, stderr: '' });
    if (files.length) expect(received.digest('hex')).toBe(crypto.createHash('sha256').update(fs.readFileSync(files[0]!)).digest('hex'));
  });

  test('the README\'s lwscat command echoes a line (npx runs the installed bin)', async () => {
    for (const command of examples().commands.filter((line) => line.startsWith('npx lwscat '))) {
      const [, , ...args] = command.split(' ');
      const lwscat = path.join(app, 'node_modules', '.bin', 'lwscat');
      const result = ok(await run(lwscat, argumentsFor(args).argv, { cwd: app, env: childEnv({ PATH: toolsPath }), input: 'hello\n' }), command);
      expect(result.stdout).toBe('hello\n');
    }
  });
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

test('the published declarations show no internal member: none marked @internal in lib/, nor the Courier\'s driver', () => {
  const dist = path.join(installed, 'dist');
  const published = new Set(typeScriptFiles(dist, true).flatMap((file) => declarations(dist, file, false)));
  const lib = path.join(ROOT, 'lib');
  const internal = typeScriptFiles(lib, false).flatMap((file) => declarations(lib, file, true));
  // Sanity: the scan finds what is marked, and what a user must see.
  expect(internal).toEqual(expect.arrayContaining(['courier.startCourier', 'courier.CourierDriver', 'logger.Logger.native', 'native.NativeAddon.vhostCount']));
  expect([...published]).toEqual(expect.arrayContaining(['courier.Courier.send_text', 'courier.Courier.constructor', 'errors.ConnectionClosed', 'errors.NotSent']));
  // What connect() calls on a Courier is no member of it, and never was public API.
  const driver = ['courier.Courier.deliver', 'courier.Courier.end', 'courier.Courier.drainedEvent'];
  expect([...internal, ...driver].filter((name) => published.has(name))).toEqual([]);
  // The constructor is declared private, with none of the native types it takes.
  const courier = fs.readFileSync(path.join(dist, 'courier.d.ts'), 'utf8');
  expect(courier).toMatch(/^\s*private constructor\(\);$/m);
  expect(courier).not.toMatch(/Native/);
});

test('a source build without the tools fails with what to install and how to retry', async () => {
  const result = await npm(['rebuild', 'libwebsockets', '--offline', '--foreground-scripts'], app, childEnv({ PATH: toolsPath, LIBWEBSOCKETS_BUILD_FROM_SOURCE: '1' }));
  expect(result.code).not.toBe(0);
  const output = result.stdout + result.stderr;
  expect(output).toMatch(/LIBWEBSOCKETS_BUILD_FROM_SOURCE is set; building from source/);
  expect(output).toMatch(/not found on PATH: cmake, make or ninja, cc or gcc or clang, g\+\+ or clang\+\+/);
  expect(output).toMatch(/sudo apt-get install cmake g\+\+ make\n/);
  expect(output).toMatch(/npm install cmake-js@\^8\.0\.0 node-addon-api@\^8\.0\.0/);
  expect(output).toMatch(/LIBWEBSOCKETS_BUILD_FROM_SOURCE=1 npm rebuild libwebsockets/);
  // Nothing was started, and the prebuild still serves.
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
});

test('with the tools but without cmake-js, a source build names the npm packages to install', async () => {
  // cmake, make and the compilers are on our own PATH (the package test ran setup.sh's build).
  const result = await npm(['rebuild', 'libwebsockets', '--offline', '--foreground-scripts'], app, childEnv({ LIBWEBSOCKETS_BUILD_FROM_SOURCE: '1' }));
  expect(result.code).not.toBe(0);
  const output = result.stdout + result.stderr;
  expect(output).toMatch(/these npm packages are not installed: cmake-js@\^8\.0\.0, node-addon-api@\^8\.0\.0/);
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
  expect(fs.existsSync(path.join(installed, 'deps', '.build'))).toBe(false);
});
