#!/usr/bin/env node
'use strict';
// Maintainers only (the npm package ships its result, not this script):
// makes deps/lws/, the libwebsockets source the package builds, from the
// pinned upstream release tarball:
//
//   1. the tarball, checked against its sha256 (from deps/.cache/, or
//      fetched there by tools/fetch-lws.sh from Debian's source archive);
//   2. unpacked and pruned to what lws's CMake build reads (KEEP below:
//      15.6 MB of tarball become ~1.5 MB gzipped in ours);
//   3. patched by tools/lws-fixes.py (python3, here and nowhere else);
//   4. stamped with deps/lws/lws-node-manifest.json: the tarball's name and
//      sha256, what was kept, and the fixes' sha256, so a tree made from
//      anything else is told apart.
//
// `npm pack` runs it (prepack) and so does `npm run build` in a checkout;
// when the manifest already matches it does nothing.
//
//   LWS_SOURCE_DIR=/path/to/lws   prepare that unpacked tree instead of the
//                                 pinned tarball (the manifest says so)
//   LWS_CACHE_DIR=/path           where the tarball is kept (deps/.cache)
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const PIN = {
  version: '4.3.5',
  // Debian ships upstream's release tarball unchanged as its orig tarball.
  tarball: 'libwebsockets_4.3.5.orig.tar.gz',
  sha256: '87f99ad32803ed325fceac5327aae1f5c1b417d54ee61ad36cffc8df5f5ab276',
};
// What lws's top-level CMakeLists.txt reads or add_subdirectory()s with our
// options: plugins/ and lwsws/ are entered unconditionally (and then build
// nothing), win32port/ holds headers its Windows build includes.
const KEEP = ['CMakeLists.txt', 'CMakeLists-implied-options.txt', 'LICENSE', 'cmake', 'include', 'lib', 'plugins', 'lwsws', 'win32port'];
const FIXES = path.join(__dirname, 'lws-fixes.py');
const MANIFEST = 'lws-node-manifest.json';

const target = path.join(root, 'deps', 'lws');
const cache = process.env.LWS_CACHE_DIR || path.join(root, 'deps', '.cache');
const log = (line) => console.error(`prepare-lws: ${line}`);
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The tarball in the cache, fetched first if it is missing or differs. */
function verifiedTarball() {
  const file = path.join(cache, PIN.tarball);
  if (!fs.existsSync(file) || sha256(file) !== PIN.sha256) {
    fs.mkdirSync(cache, { recursive: true });
    execFileSync('bash', [path.join(__dirname, 'fetch-lws.sh'), PIN.version, PIN.tarball, PIN.sha256, cache], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const actual = sha256(file);
  if (actual !== PIN.sha256) throw new Error(`prepare-lws: ${file} has sha256 ${actual}, expected ${PIN.sha256}`);
  return file;
}

/** Unpacks the tarball (cmake -E tar: the one unpacker every builder has) and returns its top folder. */
function unpack(tarball, into) {
  fs.mkdirSync(into, { recursive: true });
  execFileSync('cmake', ['-E', 'tar', 'xzf', tarball], { cwd: into, stdio: 'inherit' });
  const [top, ...more] = fs.readdirSync(into);
  if (!top || more.length > 0) throw new Error(`prepare-lws: ${tarball} does not hold one top folder`);
  return path.join(into, top);
}

function expectedManifest() {
  const source = process.env.LWS_SOURCE_DIR
    ? { source_dir: path.resolve(process.env.LWS_SOURCE_DIR) }
    : { upstream: { version: PIN.version, tarball: PIN.tarball, sha256: PIN.sha256 } };
  return { ...source, kept: KEEP, fixes: { script: 'tools/lws-fixes.py', sha256: sha256(FIXES) } };
}

function readManifest() {
  try {
    return fs.readFileSync(path.join(target, MANIFEST), 'utf8');
  } catch {
    return undefined;
  }
}

function prepare() {
  const manifest = `${JSON.stringify(expectedManifest(), null, 2)}\n`;
  if (readManifest() === manifest) return target;

  const work = `${target}.tmp`;
  fs.rmSync(work, { recursive: true, force: true });
  let pristine;
  if (process.env.LWS_SOURCE_DIR) {
    pristine = path.resolve(process.env.LWS_SOURCE_DIR);
    if (!fs.existsSync(path.join(pristine, 'CMakeLists.txt'))) throw new Error(`prepare-lws: LWS_SOURCE_DIR=${pristine} has no CMakeLists.txt`);
  } else {
    pristine = unpack(verifiedTarball(), path.join(work, 'unpacked'));
  }
  const tree = path.join(work, 'lws');
  fs.mkdirSync(tree, { recursive: true });
  for (const entry of KEEP) {
    const from = path.join(pristine, entry);
    if (!fs.existsSync(from)) throw new Error(`prepare-lws: ${pristine} has no ${entry}`);
    fs.cpSync(from, path.join(tree, entry), { recursive: true });
  }
  execFileSync('python3', [FIXES, tree], { stdio: 'inherit' });
  fs.writeFileSync(path.join(tree, MANIFEST), manifest);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(tree, target);
  fs.rmSync(work, { recursive: true, force: true });
  log(`deps/lws: libwebsockets ${process.env.LWS_SOURCE_DIR ? `from ${pristine}` : `${PIN.version} (sha256 ${PIN.sha256.slice(0, 12)}…)`}, pruned and patched`);
  return target;
}

module.exports = { prepare, MANIFEST };

if (require.main === module) {
  try {
    console.log(prepare());
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
