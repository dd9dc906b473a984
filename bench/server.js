'use strict';
// The Go echo server: built on demand (build-server.sh), started on its own
// core, stopped when the harness exits.
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const readline = require('node:readline');

const BINARY = path.join(__dirname, '.build', 'echo-server');
const SOURCE_DIR = path.join(__dirname, 'echo-server');

/** Builds the server when the binary is missing or older than its source. */
function ensureBuilt() {
  const sources = fs.readdirSync(SOURCE_DIR).map((name) => fs.statSync(path.join(SOURCE_DIR, name)).mtimeMs);
  const stale = !fs.existsSync(BINARY) || fs.statSync(BINARY).mtimeMs < Math.max(...sources);
  if (!stale) return;
  console.error('building the echo server (bench/build-server.sh)…');
  // The build's own output goes to stderr: stdout is the report.
  const result = spawnSync('bash', [path.join(__dirname, 'build-server.sh')], { stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error('bench/build-server.sh failed; see above');
}

/**
 * Starts the server with `prefix` (e.g. taskset -c 1) and resolves
 * { pid, port, stop() } once it has printed its port. `coalesce: false`
 * makes it write each echo with its own system call.
 */
function startServer(prefix, { coalesce = true } = {}) {
  const argv = [...prefix, BINARY, `-coalesce=${coalesce}`];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let alive = true;
  const stop = () => alive && child.kill();
  // Also on Ctrl-C or an error: the server must not outlive the harness.
  process.on('exit', stop);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      alive = false;
      reject(new Error(`the echo server exited (${signal ?? code}) before printing its port`));
    });
    readline.createInterface({ input: child.stdout }).once('line', (line) => {
      // taskset (and sh) exec the server, so the child's pid is the server's.
      resolve({ pid: child.pid, port: Number(line), alive: () => alive, stop });
    });
  });
}

module.exports = { ensureBuilt, startServer };
