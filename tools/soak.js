#!/usr/bin/env node
'use strict';
// Soak test (issue #6, part 4): does memory stay flat after warm-up when
// connections come and go by the thousand?
//
//   node --expose-gc tools/soak.js [--cycles N] [--parallel P]
//        [--concurrent M] [--rounds R] [--warmup-cycles N] [--quick]
//        [--tolerance-mb MB] [--server auto|go|ws] [--no-deflate] [--no-fixed-heap]
//
// An echo server runs in a child process (the benchmark's Go server,
// bench/.build/echo-server, built by bench/build-server.sh if need be; a
// `ws` server in a Node child if that fails or with --server ws), so only
// the client's memory is in this process.
//
// (a) Cycles: --cycles (10,000) connect → echo one text and one binary
//     message → close, --parallel (8) at a time. Every other cycle goes to
//     /deflate (permessage-deflate negotiated), every 10th binary message is
//     128 KiB (the addon hands those to JS without a copy), closes alternate
//     between close(1000, reason) and close() (1005), and every echo is
//     checked byte for byte. Memory is printed every 1,000 cycles, after gc().
// (b) Rounds: --rounds (5) times, --concurrent (1,000) connections are all
//     open at once, each echoes a message, then all are closed; memory is
//     printed after each round.
// --quick (CI): 4,000 cycles (warm-up 1,000), 4 rounds of 500; ~5 s.
//
// Verdict "flat after warm-up", for (a) from the sample after
// --warmup-cycles (2,000) to the last, for (b) from round 1 to the last:
//   - RSS grew less than --tolerance-mb (5 MB);
//   - heapUsed + external grew less than half of that, and by less than
//     512 bytes per connection made in between;
//   - no file descriptor more is open.
// It prints PASS or FAIL with the numbers, and exits 1 on FAIL.
//
// The tolerance: once every connection's native and JS state goes when it
// closes, what moves RSS after warm-up is the allocator (glibc keeps freed
// chunks in its arenas; the 128 KiB messages and deflate's windows fragment
// them) and V8's old generation: 0-3.6 MB over 8,000 cycles in repeated
// runs here, and under 1 MB over the rounds. A leak is not that small: a
// Courier, its closures and its promise kept per connection are ~2.5 KB of
// JS heap (the callback cycle fixed in 711c87d leaked that plus the
// connection's native buffers: +172 MB RSS over 8,000 cycles), and even
// 1 KiB per connection is 8 MB over the cycles. The per-connection heap
// limit catches JS-side leaks in short runs; the least-squares RSS slope
// printed with the verdict shows a trend directly.
//
// V8 grows its young generation (two semi-spaces) in steps as allocation
// goes on, 1 → 16 MB each by default, which moves RSS by 10-30 MB at
// moments that have nothing to do with connections. So the soak re-runs
// itself in a child with the semi-spaces fixed at 4 MB: RSS then shows
// native memory and the old generation. --no-fixed-heap runs as started.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { parseArgs } = require('node:util');
const readline = require('node:readline');

const ROOT = path.join(__dirname, '..');

// ---------------------------------------------------------------------------
// Flags

// --quick (CI-sized: about 5 s, the same checks) sets these; flags given
// with it still win.
const QUICK = { cycles: 4000, warmupCycles: 1000, sampleEvery: 500, concurrent: 500, rounds: 4 };

function parseFlags(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        cycles: { type: 'string' },
        parallel: { type: 'string' },
        concurrent: { type: 'string' },
        rounds: { type: 'string' },
        'warmup-cycles': { type: 'string' },
        'sample-every': { type: 'string' },
        'tolerance-mb': { type: 'string' },
        server: { type: 'string', default: 'auto' },
        'no-deflate': { type: 'boolean', default: false },
        // Read by respawnWithFixedHeap(), before this.
        'no-fixed-heap': { type: 'boolean', default: false },
        quick: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    usage(error.message);
  }
  if (parsed.help) usage();
  const defaults = { cycles: 10000, parallel: 8, concurrent: 1000, rounds: 5, warmupCycles: 2000, sampleEvery: 1000, ...(parsed.quick ? QUICK : {}) };
  const count = (name, key) => {
    if (parsed[name] === undefined) return defaults[key];
    const n = Number(parsed[name]);
    if (!Number.isInteger(n) || n < 0) usage(`--${name} needs a non-negative integer`);
    return n;
  };
  const flags = {
    cycles: count('cycles', 'cycles'),
    parallel: Math.max(1, count('parallel', 'parallel')),
    concurrent: count('concurrent', 'concurrent'),
    rounds: count('rounds', 'rounds'),
    warmupCycles: count('warmup-cycles', 'warmupCycles'),
    sampleEvery: Math.max(1, count('sample-every', 'sampleEvery')),
    toleranceMb: parsed['tolerance-mb'] === undefined ? 5 : Number(parsed['tolerance-mb']),
    server: parsed.server,
    deflate: !parsed['no-deflate'],
  };
  if (!['auto', 'go', 'ws'].includes(flags.server)) usage('--server is auto, go or ws');
  if (flags.warmupCycles > flags.cycles) flags.warmupCycles = flags.cycles;
  return flags;
}

function usage(problem) {
  if (problem) console.error(`soak: ${problem}`);
  console.error('usage: node --expose-gc tools/soak.js [--cycles N] [--parallel P] [--concurrent M] [--rounds R]\n' +
    '       [--warmup-cycles N] [--sample-every N] [--tolerance-mb MB] [--server auto|go|ws] [--no-deflate] [--quick]');
  process.exit(problem ? 2 : 0);
}

// ---------------------------------------------------------------------------
// The echo server, in a child process

const WS_SERVER = `
const { WebSocketServer } = require('ws');
const http = require('node:http');
// Like the Go server: permessage-deflate only on /deflate.
const plain = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 << 20 });
const deflate = new WebSocketServer({ noServer: true, perMessageDeflate: true, maxPayload: 64 << 20 });
for (const wss of [plain, deflate])
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
const server = http.createServer();
server.on('upgrade', (req, socket, head) => {
  const wss = req.url.startsWith('/deflate') ? deflate : plain;
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startServer(kind) {
  if (kind !== 'ws') {
    try {
      const bench = require(path.join(ROOT, 'bench', 'server.js'));
      bench.ensureBuilt();
      const server = await bench.startServer([]);
      return { name: `Go echo server (bench/.build/echo-server, pid ${server.pid})`, port: server.port, stop: server.stop };
    } catch (error) {
      if (kind === 'go') throw error;
      console.error(`soak: the Go echo server is not available (${error.message}); using a ws server child`);
    }
  }
  const child = spawn(process.execPath, ['-e', WS_SERVER], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => child.exitCode === null && child.kill();
  process.on('exit', stop);
  const port = await new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => reject(new Error(`the ws echo server exited (${signal ?? code})`)));
    readline.createInterface({ input: child.stdout }).once('line', (line) => resolve(Number(line)));
  });
  return { name: `ws echo server (node child, pid ${child.pid})`, port, stop };
}

// ---------------------------------------------------------------------------
// Memory

const MB = 1024 * 1024;
const HEAP_BYTES_PER_CONNECTION = 512;

function openFds() {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return NaN;
  }
}

/** Memory after a full collection, once finalizers (native buffers, connections) have run. */
async function settledMemory() {
  for (let i = 0; i < 3; i++) {
    global.gc();
    // Weak callbacks and the addon's deferred frees run on later turns.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const usage = process.memoryUsage();
  return { ...usage, fds: openFds() };
}

function formatMemory(m) {
  const mb = (n) => (n / MB).toFixed(1).padStart(6);
  return `rss ${mb(m.rss)} MB  heapTotal ${mb(m.heapTotal)} MB  heapUsed ${mb(m.heapUsed)} MB  external ${mb(m.external)} MB  arrayBuffers ${mb(m.arrayBuffers)} MB  fds ${m.fds}`;
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den ? num / den : 0;
}

// ---------------------------------------------------------------------------
// Payloads: deterministic, so a wrong echo is caught byte for byte.

const TEXT = 'soak ✓ '.repeat(150); // ~1.2 KB of UTF-8, multi-byte included
const SMALL_BINARY = Buffer.alloc(2048, 0).map((_, i) => (i * 31 + 7) & 0xff);
const LARGE_BINARY = Buffer.alloc(128 * 1024, 0).map((_, i) => (i * 17 + 3) & 0xff);

// ---------------------------------------------------------------------------
// The workloads

// An echo that has not come back by then fails its connection (closed with
// 4000) instead of stalling the run: a lost message is a failure to report.
const ECHO_TIMEOUT_MS = 30_000;

/** One cycle: connect, echo a text and a binary message, close. */
function cycle(lws, baseUrl, index, deflate) {
  const useDeflate = deflate && index % 2 === 1;
  const binary = index % 10 === 0 ? LARGE_BINARY : SMALL_BINARY;
  const withReason = index % 4 < 2;
  return lws
    .connect({
      url: `${baseUrl}${useDeflate ? '/deflate' : '/'}`,
      compression: useDeflate ? 'deflate' : [],
      connect_timeout: 10,
      on_ready(courier) {
        let text = false;
        let bin = false;
        const timer = setTimeout(() => courier.close(4000, 'no echo in time'), ECHO_TIMEOUT_MS).unref();
        const maybeClose = () => {
          if (text && bin) {
            clearTimeout(timer);
            if (withReason) courier.close(1000, 'soak done');
            else courier.close();
          }
        };
        // A wrong echo closes with 4000, so the promise rejects.
        courier.on_text((_, message) => {
          if (message !== TEXT) return void courier.close(4000, 'text echo differs');
          text = true;
          maybeClose();
        });
        courier.on_binary((_, message) => {
          if (!binary.equals(message)) return void courier.close(4000, 'binary echo differs');
          bin = true;
          maybeClose();
        });
        courier.send_text(TEXT);
        courier.send_binary(binary);
      },
    })
    .then(([code, reason]) => {
      const expected = withReason ? [1000, 'soak done'] : [1005, ''];
      if (code !== expected[0] || reason !== expected[1])
        throw new Error(`cycle ${index}: closed with [${code}, ${JSON.stringify(reason)}], expected ${JSON.stringify(expected)}`);
    });
}

async function runCycles(lws, baseUrl, flags, onSample) {
  let next = 0;
  let done = 0;
  let failures = 0;
  let firstFailure;
  const started = Date.now();
  // Listener errors are warnings, not rejections: count them as failures.
  const onWarning = (warning) => {
    if (warning.code === 'LWS_LISTENER_ERROR' || warning.code === 'LWS_UNHEARD_MESSAGE') {
      failures++;
      firstFailure ??= warning.message;
    }
  };
  process.on('warning', onWarning);
  let sampleAt = flags.sampleEvery;
  while (done < flags.cycles) {
    const batchEnd = Math.min(sampleAt, flags.cycles);
    const worker = async () => {
      while (next < batchEnd) {
        const index = next++;
        try {
          await cycle(lws, baseUrl, index, flags.deflate);
        } catch (error) {
          failures++;
          firstFailure ??= String(error?.stack ?? error);
        }
        done++;
      }
    };
    await Promise.all(Array.from({ length: flags.parallel }, worker));
    await onSample(done, (Date.now() - started) / 1000);
    sampleAt += flags.sampleEvery;
  }
  process.off('warning', onWarning);
  return { failures, firstFailure, seconds: (Date.now() - started) / 1000 };
}

/** One round: `count` connections open at once, each echoes a message, then all close. */
async function round(lws, baseUrl, count, roundIndex) {
  const couriers = [];
  // Every connection either echoed or ended early: then all are open at once.
  let accounted = 0;
  let allAccounted;
  const barrier = new Promise((resolve) => (allAccounted = resolve));
  const account = () => ++accounted === count && allAccounted();
  const text = `round ${roundIndex} `.repeat(20);
  const outcomes = [];
  for (let i = 0; i < count; i++) {
    let echoed = false;
    const outcome = lws.connect({
      url: `${baseUrl}/`,
      compression: [],
      connect_timeout: 30,
      on_ready(courier) {
        couriers.push(courier);
        const timer = setTimeout(() => courier.close(4000, 'no echo in time'), ECHO_TIMEOUT_MS).unref();
        courier.on_text((_, message) => {
          clearTimeout(timer);
          if (message !== text) return void courier.close(4000, 'echo differs');
          echoed = true;
          account();
        });
        courier.send_text(text);
      },
    });
    outcome.then(
      () => echoed || account(),
      () => echoed || account(),
    );
    outcomes.push(outcome);
  }
  await barrier;
  for (const courier of couriers) courier.close(1000, 'round over');
  const results = await Promise.allSettled(outcomes);
  const failed = results.filter((r) => r.status === 'rejected' || r.value[0] !== 1000);
  return { failed: failed.length, open: couriers.length, firstFailure: failed[0] && String(failed[0].reason ?? JSON.stringify(failed[0].value)) };
}

// ---------------------------------------------------------------------------

// The young generation fixed at 4 MB per semi-space (see the top).
const HEAP_FLAGS = ['--expose-gc', '--min-semi-space-size=4', '--max-semi-space-size=4'];

function respawnWithFixedHeap() {
  const argv = process.argv.slice(2);
  if (process.env.LWS_SOAK_CHILD || argv.includes('--no-fixed-heap') || argv.includes('--help') || argv.includes('-h')) return false;
  const child = spawn(process.execPath, [...HEAP_FLAGS, __filename, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, LWS_SOAK_CHILD: '1' },
  });
  // Ctrl-C reaches the child too (same process group); wait for it.
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}

async function main() {
  if (respawnWithFixedHeap()) return;
  const flags = parseFlags(process.argv.slice(2));
  if (typeof global.gc !== 'function') {
    console.error('soak: run with node --expose-gc (npm run soak does)');
    process.exit(2);
  }
  const server = await startServer(flags.server);
  const baseUrl = `ws://127.0.0.1:${server.port}`;
  const lws = require(path.join(ROOT, 'dist'));
  console.log(`soak: libwebsockets ${lws.LWS_VERSION}, node ${process.version} ${process.execArgv.join(' ')}, ${server.name} on port ${server.port}`);
  console.log(`soak: ${flags.cycles} cycles ${flags.parallel} at a time (warm-up ${flags.warmupCycles}), ` +
    `then ${flags.rounds} rounds of ${flags.concurrent} concurrent connections; tolerance ${flags.toleranceMb} MB`);

  const start = await settledMemory();
  console.log(`start            ${formatMemory(start)}`);

  const verdicts = [];
  // `connections`: how many connections came and went between the two samples.
  const judge = (label, baseline, end, series, perUnit, connections) => {
    const rssGrowth = end.rss - baseline.rss;
    const heapGrowth = end.heapUsed + end.external - (baseline.heapUsed + baseline.external);
    const heapPerConnection = connections ? heapGrowth / connections : 0;
    const fdGrowth = end.fds - baseline.fds;
    const trend = slope(series.map((s) => ({ x: s.x, y: s.m.rss })));
    const problems = [];
    if (!(rssGrowth < flags.toleranceMb * MB)) problems.push('RSS grew');
    if (!(heapGrowth < (flags.toleranceMb / 2) * MB)) problems.push('JS heap grew');
    // Measured noise is 10-50 B per connection; JS objects kept per
    // connection (a Courier, its closures, a promise) are kilobytes.
    if (!(heapPerConnection < HEAP_BYTES_PER_CONNECTION)) problems.push('JS heap grows per connection');
    if (fdGrowth > 0) problems.push('file descriptors left open');
    verdicts.push(!problems.length);
    const signed = (n, digits = 2) => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
    console.log(
      `${problems.length ? 'FAIL' : 'PASS'} ${label}: RSS ${(baseline.rss / MB).toFixed(1)} → ${(end.rss / MB).toFixed(1)} MB ` +
        `(${signed(rssGrowth / MB)} MB, limit ${flags.toleranceMb} MB); ` +
        `heapUsed+external ${signed(heapGrowth / MB)} MB (limit ${flags.toleranceMb / 2} MB), ` +
        `${signed(heapPerConnection, 0)} B/connection (limit ${HEAP_BYTES_PER_CONNECTION}); ` +
        `fds ${signed(fdGrowth, 0)}; RSS trend after warm-up ${trend.toFixed(0)} B/${perUnit}` +
        (problems.length ? ` — ${problems.join(', ')}` : ''),
    );
  };

  // (a) cycles
  let failures = 0;
  if (flags.cycles > 0) {
    // Samples from the first one at or after warm-up; the last comes after the last cycle.
    const series = [];
    const result = await runCycles(lws, baseUrl, flags, async (done, seconds) => {
      const m = await settledMemory();
      const marker = !series.length && done >= flags.warmupCycles ? '  ← warm-up baseline' : '';
      console.log(`cycles ${String(done).padStart(6)}  ${formatMemory(m)}  ${(done / seconds).toFixed(0)} cycles/s${marker}`);
      if (done >= flags.warmupCycles) series.push({ x: done, m });
    });
    failures += result.failures;
    console.log(`cycles: ${flags.cycles} in ${result.seconds.toFixed(1)} s, ${result.failures} failed` +
      (result.firstFailure ? ` (first: ${result.firstFailure})` : ''));
    // Only the cycles between the baseline and the last sample are charged.
    const [first, last] = [series[0], series.at(-1)];
    judge(`cycles (after ${first.x} → after ${last.x})`, first.m, last.m, series, 'cycle', last.x - first.x);
  }

  // (b) rounds of concurrent connections
  if (flags.rounds > 0 && flags.concurrent > 0) {
    let warm;
    let last;
    const series = [];
    for (let r = 1; r <= flags.rounds; r++) {
      const started = Date.now();
      const result = await round(lws, baseUrl, flags.concurrent, r);
      const seconds = (Date.now() - started) / 1000;
      failures += result.failed;
      const m = await settledMemory();
      last = m;
      const marker = r === 1 ? '  ← warm-up baseline' : '';
      console.log(`round ${String(r).padStart(2)} (${flags.concurrent} open, ${seconds.toFixed(1)} s)  ${formatMemory(m)}` +
        (result.failed ? `  ${result.failed} failed (first: ${result.firstFailure})` : '') + marker);
      if (r === 1) warm = m;
      series.push({ x: r, m });
    }
    judge(`rounds (after round 1 → after round ${flags.rounds})`, warm, last, series, 'round', (flags.rounds - 1) * flags.concurrent);
  }

  server.stop();
  const end = await settledMemory();
  console.log(`end              ${formatMemory(end)}`);
  if (failures) {
    console.log(`FAIL: ${failures} connection(s) did not echo and close as expected`);
    verdicts.push(false);
  }
  const pass = verdicts.every(Boolean);
  console.log(pass ? 'soak: PASS (flat after warm-up)' : 'soak: FAIL');
  process.exit(pass ? 0 : 1);
}

main().catch((error) => {
  console.error(`soak: ${error?.stack ?? error}`);
  process.exit(1);
});
