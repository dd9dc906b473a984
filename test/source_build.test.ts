/**
 * The documented source build, as a user without root, apt, python3 or a
 * network runs it: the packed tarball (deps/lws/, the pruned and patched lws
 * source, inside) installed with `LIBWEBSOCKETS_BUILD_FROM_SOURCE=1 npm ci
 * --offline` into a fresh project that also depends on cmake-js and
 * node-addon-api, by a user that is not root, with PATH holding only node,
 * cmake, make, gcc, g++ and binutils (as, ld, ar, ranlib), and, when we are root, in a network namespace of
 * its own (`unshare -n`: no interface but a down loopback). The npm cache it
 * gets holds just the tarballs of the lockfile. The addon it built must then
 * load and echo a message.
 *
 * Slow: lws and the addon are compiled (57 s on 2 idle cores, up to 3.5 minutes on busy ones).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { echo, startWsServer, type WsServer } from './helpers/servers';
import { NPM_CLI, ROOT, linkTools, npm, ok, pack, run, which, writeProject, type LockEntry, type Run } from './helpers/package';

const FIXTURES = path.join(__dirname, 'fixtures', 'package');
/** The user the build runs as when the tests run as root. */
const BUILD_USER = 'lws-source-build';
const isRoot = process.getuid?.() === 0;
const UNSHARE = '/usr/bin/unshare';
const SETPRIV = '/usr/bin/setpriv';
/**
 * What the source build may find on PATH besides node: cmake, make, the
 * compilers (cmake-js looks for g++ or clang++ by name) and the binutils
 * they run.
 */
const BUILD_TOOLS = ['cmake', 'make', 'gcc', 'g++', 'as', 'ld', 'ar', 'ranlib'];
const missingTools = BUILD_TOOLS.filter((tool) => !which(tool));
const cannotRun = process.platform !== 'linux'
  ? 'the test drops to another user and network with Linux tools'
  : missingTools.length > 0
    ? `not on PATH: ${missingTools.join(', ')}`
    : isRoot && !(fs.existsSync(UNSHARE) && fs.existsSync(SETPRIV))
      ? `${UNSHARE} and ${SETPRIV} are needed to build as another user without a network`
      : undefined;

let tmp: string;
let app: string;
let installed: string;
let install: Run;
let server: WsServer;
let uid: number;
let gid: number;
let buildEnv: NodeJS.ProcessEnv;

/** The user that builds: BUILD_USER, made once if missing, when we are root; else ourselves. */
async function buildUser(): Promise<{ uid: number; gid: number }> {
  if (!isRoot) return { uid: process.getuid!(), gid: process.getgid!() };
  if ((await run('id', ['-u', BUILD_USER], { cwd: '/' })).code !== 0) {
    ok(await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', BUILD_USER], { cwd: '/' }), 'useradd');
  }
  const id = (flag: string) => run('id', [flag, BUILD_USER], { cwd: '/' }).then((result) => Number(ok(result, 'id').stdout.trim()));
  return { uid: await id('-u'), gid: await id('-g') };
}

/**
 * An npm cache holding only what the lockfile names, copied from ours by
 * content (cacache keeps a tarball under the hex of its sha512): npm
 * --offline takes a tarball whose integrity it knows straight from there.
 */
function copyCache(packages: Record<string, LockEntry>, from: string, to: string): void {
  for (const entry of Object.values(packages)) {
    if (typeof entry.integrity !== 'string') continue;
    const [algorithm, base64] = entry.integrity.split(/-(.*)/s) as [string, string];
    const hex = Buffer.from(base64, 'base64').toString('hex');
    const relative = path.join('_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
    fs.mkdirSync(path.dirname(path.join(to, relative)), { recursive: true });
    fs.copyFileSync(path.join(from, relative), path.join(to, relative));
  }
}

/** Runs a command as the build user (when root: dropped to it with setpriv, and without a network if `isolated`). */
function asBuildUser(command: string[], options: { cwd: string; env: NodeJS.ProcessEnv; isolated: boolean }): Promise<Run> {
  if (!isRoot) return run(command[0]!, command.slice(1), options);
  const drop = [SETPRIV, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--inh-caps=-all', ...command];
  return options.isolated ? run(UNSHARE, ['--net', ...drop], options) : run(drop[0]!, drop.slice(1), options);
}

function chownTree(dir: string): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    fs.lchownSync(path.join(entry.parentPath ?? entry.path, entry.name), uid, gid);
  }
}

if (cannotRun) {
  test.skip(`source build as a user without root, python3 or a network (${cannotRun})`, () => {});
} else {
  beforeAll(async () => {
    ({ uid, gid } = await buildUser());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lws-source-'));
    fs.chmodSync(tmp, 0o755);
    const registry = ok(await npm(['config', 'get', 'registry'], ROOT), 'npm config get registry').stdout.trim();
    const npmCache = ok(await npm(['config', 'get', 'cache'], ROOT), 'npm config get cache').stdout.trim();

    const { tarball } = await pack(ROOT, path.join(tmp, 'packed'));
    app = path.join(tmp, 'app');
    installed = path.join(app, 'node_modules', 'libwebsockets');
    const packages = writeProject(app, tarball, registry, ['cmake-js', 'node-addon-api']);
    fs.copyFileSync(path.join(FIXTURES, 'require.cjs'), path.join(app, 'require.cjs'));
    copyCache(packages, npmCache, path.join(tmp, 'npm-cache'));
    const tools = linkTools(path.join(tmp, 'tools'), BUILD_TOOLS);
    fs.mkdirSync(path.join(tmp, 'home'));
    if (isRoot) chownTree(tmp);

    // Nothing of ours: a PATH of the build tools, a home of its own, no npm_* settings but
    // the cache and the shell npm runs scripts with, named by path as sh is not on PATH.
    buildEnv = {
      PATH: tools,
      HOME: path.join(tmp, 'home'),
      npm_config_cache: path.join(tmp, 'npm-cache'),
      npm_config_script_shell: '/bin/sh',
      npm_config_update_notifier: 'false',
    };
    const started = Date.now();
    install = await asBuildUser(
      ['node', NPM_CLI, 'ci', '--offline', '--foreground-scripts', '--no-audit', '--no-fund'],
      { cwd: app, env: { ...buildEnv, LIBWEBSOCKETS_BUILD_FROM_SOURCE: '1' }, isolated: true },
    );
    console.log(`source build: npm ci took ${Math.round((Date.now() - started) / 1000)} s`);
    server = await startWsServer(echo);
  }, 1_200_000);

  afterAll(async () => {
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('npm ci builds lws from the tarball and the addon, as asked, with only node, cmake, make, gcc, g++ and binutils', () => {
    ok(install, 'npm ci (source build)');
    const output = install.stdout + install.stderr;
    expect(output).toMatch(/LIBWEBSOCKETS_BUILD_FROM_SOURCE is set; building from source/);
    expect(output).toMatch(/build-lws: configuring libwebsockets from .*node_modules\/libwebsockets\/deps\/lws/);
    expect(fs.existsSync(path.join(installed, 'deps', '.build', 'install', 'lib', 'libwebsockets.a'))).toBe(true);
    expect(fs.statSync(path.join(installed, 'build', 'Release', 'lws.node')).uid).toBe(uid);
  });

  test('the lws it built is the shipped tree: the pinned upstream tarball, patched, no Git version', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'deps', 'lws', 'lws-node-manifest.json'), 'utf8')) as {
      upstream: { sha256: string };
      fixes: { sha256: string };
    };
    expect(manifest.upstream.sha256).toBe('87f99ad32803ed325fceac5327aae1f5c1b417d54ee61ad36cffc8df5f5ab276');
    const fixes = crypto.createHash('sha256').update(fs.readFileSync(path.join(ROOT, 'tools', 'lws-fixes.py'))).digest('hex');
    expect(manifest.fixes.sha256).toBe(fixes);
    const config = fs.readFileSync(path.join(installed, 'deps', '.build', 'install', 'include', 'lws_config.h'), 'utf8');
    expect(config).toMatch(/#define LWS_BUILD_HASH "unknown"/);
    // OpenSSL from Node's headers, with what it has (given, as nothing is linked to probe).
    expect(config).toMatch(/^#define LWS_OPENSSL_SUPPORT$/m);
    expect(config).toMatch(/^#define LWS_HAVE_SSL_CTX_set1_param$/m);
    expect(config).toMatch(/^#define LWS_HAVE_X509_VERIFY_PARAM_set1_host$/m);
    expect(config).toMatch(/^#define LWS_HAVE_TLS_CLIENT_METHOD$/m);
  });

  test("lws was compiled against Node's OpenSSL and zlib headers, not the system's", () => {
    // The compiler's dependency files list every header each object read.
    const depfiles = fs
      .readdirSync(path.join(installed, 'deps', '.build', 'lws'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.o.d'))
      .map((file) => fs.readFileSync(path.join(installed, 'deps', '.build', 'lws', file), 'utf8'));
    const headers = new Set(depfiles.join(' ').split(/[\s\\]+/).filter((word) => /(^|\/)(openssl\/ssl|zlib)\.h$/.test(word)).map((file) => path.normalize(file)));
    expect(headers.size).toBeGreaterThan(0);
    // Node's (<dir>/include/node/…), never the distribution's /usr/include/openssl or /usr/include/zlib.h.
    for (const header of headers) expect(header).toContain(`${path.sep}include${path.sep}node${path.sep}`);
  });

  test('the addon it built loads and exchanges a message', async () => {
    const built = path.join(installed, 'build', 'Release', 'lws.node');
    const result = ok(await asBuildUser(['node', path.join(app, 'require.cjs'), server.url], { cwd: app, env: buildEnv, isolated: false }), 'require.cjs');
    expect(result.stdout.split('\n')).toEqual([`addon ${built}`, 'echo hello from require', 'closed 1000', '']);
  });
}
