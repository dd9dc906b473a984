/**
 * Packing this checkout and installing the tarball into a fresh project,
 * offline: shared by test/package.test.ts (the prebuilt install) and
 * test/source_build.test.ts (the source build).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const NPM_CLI =
  process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)
    ? process.env.npm_execpath
    : path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Our environment without what `npm test` set for this package's own scripts. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_(package_|lifecycle_|config_build_from_source)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end; never rejects, so failures can be asserted on. */
export function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd: options.cwd, env: options.env ?? childEnv(), maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
    // A command that never reads its input (id) may be gone before it is written: EPIPE is no failure of the command.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

export function npm(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> {
  return run(process.execPath, [NPM_CLI, ...args], { cwd, ...(env && { env }) });
}

export function ok(result: Run, what: string): Run {
  if (result.code !== 0) throw new Error(`${what} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Where `tool` is on our PATH, or undefined. */
export function which(tool: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .map((dir) => path.join(dir, tool))
    .find((candidate) => fs.existsSync(candidate));
}

/** A directory holding links to node and to `tools` (those found on our PATH), for a PATH of only these. */
export function linkTools(dir: string, tools: string[]): string {
  fs.mkdirSync(dir);
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  for (const tool of tools) {
    const found = which(tool);
    if (found) fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}

/** `npm pack` of `dir` into `destination`; returns the tarball and the files in it. */
export async function pack(dir: string, destination: string): Promise<{ tarball: string; files: string[]; size: number }> {
  fs.mkdirSync(destination, { recursive: true });
  // --ignore-scripts: no prepack tsc while other tests read dist/; pretest built it, `npm run build` made deps/lws/.
  const result = ok(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', destination], dir), `npm pack in ${dir}`);
  const [info] = JSON.parse(result.stdout) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  return { tarball: path.join(destination, info!.filename), files: info!.files.map((file) => file.path).sort(), size: info!.size };
}

export interface LockEntry {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  integrity?: string;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}
interface Lock {
  packages: Record<string, LockEntry>;
}

function readLock(): Lock {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
}

/** The lock key a package at `from` gets `name` from: its own node_modules, then its parents'. */
function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  for (let at = from; ; at = at.slice(0, Math.max(0, at.lastIndexOf('/node_modules/')))) {
    const key = `${at ? `${at}/` : ''}node_modules/${name}`;
    if (lock.packages[key]) return key;
    if (!at) return undefined;
  }
}

/** The lock keys of `names` and everything they depend on. */
function closure(lock: Lock, names: string[]): Set<string> {
  const keys = new Set<string>();
  const visit = (from: string, name: string): void => {
    const key = resolveIn(lock, from, name);
    if (!key) throw new Error(`package-lock.json has no ${name} for ${from || 'the root'}`);
    if (keys.has(key)) return;
    keys.add(key);
    for (const dependency of Object.keys(lock.packages[key]!.dependencies ?? {})) visit(key, dependency);
  };
  for (const name of names) visit('', name);
  return keys;
}

/**
 * A project depending on the tarball, with a lockfile holding our
 * package-lock's runtime entries (with their registry URLs), so
 * `npm ci --offline` takes every dependency from the npm cache by its
 * integrity: deterministic, and no registry metadata needed. `extra` names
 * packages of our lock the project depends on as well (cmake-js for a
 * source build), with what they depend on. Returns the lockfile's packages.
 */
export function writeProject(dir: string, tarball: string, registry: string, extra: string[] = []): Record<string, LockEntry> {
  const lock = readLock();
  const self = lock.packages['']!;
  const spec = `file:${tarball}`;
  const ranges = { ...(self.devDependencies as Record<string, string>) };
  const dependencies: Record<string, string> = { libwebsockets: spec, ...Object.fromEntries(extra.map((name) => [name, ranges[name]!])) };
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', dependencies },
    'node_modules/libwebsockets': { ...self, name: undefined, devDependencies: undefined, resolved: spec, hasInstallScript: true },
  };
  const wanted = closure(lock, extra);
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key || ((entry.dev || entry.devOptional) && !wanted.has(key))) continue;
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
    packages[key] = { resolved: `${registry.replace(/\/?$/, '/')}${name}/-/${name.split('/').pop()}-${entry.version!}.tgz`, ...rest };
  }
  fs.mkdirSync(dir);
  // allowScripts: npm >= 11.19 skips dependencies' install scripts unless approved (as `npm install-scripts approve` writes it).
  const manifest = { name: 'consumer', private: true, dependencies, allowScripts: { [spec]: true } };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
  return packages;
}
