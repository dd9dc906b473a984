#!/usr/bin/env node
'use strict';
// Worker churn: many worker threads, each with the package loaded and
// several connections opening, echoing and closing in a loop, each ended at
// a random moment, while this (main) thread must carry on unharmed.
//
//   node tools/worker-churn.js [--workers 100] [--batch 10] [--connections 12] [--seed N]
//
// A worker ends in one of three ways, chosen per worker from the seed:
//   terminate  worker.terminate() from this thread, after a random number of
//              the worker's messages (0: as soon as it is online, while it
//              still loads the package) or after a random delay;
//   exit-ready process.exit(code) inside on_ready of its k-th connection,
//              while other connections are still opening;
//   exit-text  process.exit(code) inside an on_text listener at its k-th
//              message, while other connections open, echo and close.
// A native exception escaping from a libuv or lws callback of a terminating
// worker aborts the whole process (std::terminate); that is what this
// provokes. At the end this thread checks that every worker exited with the
// code expected (1 for terminate(), or 0 for one terminated before it ran),
// and that the package still works here: a connection of its own, open all
// along, echoes once more. Connections that fail are opened again: what is
// checked is only how each worker ends.
//
// It prints one JSON summary line and exits 0 if all is well, 1 if not.
// Used by test/worker_termination.test.ts (in a child process: an abort
// there is a signal, not a dead test runner) and, smaller, by
// tools/valgrind-scenarios.js (worker-churn).
const { once } = require('node:events');
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

// The worker: `connections` slots, each connecting again as soon as its
// connection ends, so at any moment some connections are opening, some
// echoing and some closing. Every message it receives is reported to the
// parent, which counts them to pick its moment for terminate().
const WORKER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { connect } = require(workerData.dist);
  const { url, connections, mode, exitAt, exitCode } = workerData;
  let state = workerData.seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let ready = 0;
  let received = 0;
  const onMessage = (courier, left) => {
    received++;
    parentPort.postMessage(received);
    if (mode === 'exit-text' && received === exitAt) process.exit(exitCode);
    if (--left.count > 0) send(courier);
    else if (random() < 0.2) courier.close();
    else courier.close(1000, 'done');
  };
  const send = (courier) => {
    const pick = random();
    if (pick < 0.6) courier.send_text('m'.repeat(1 + Math.floor(random() * 200)));
    else if (pick < 0.9) courier.send_binary(Buffer.alloc(1 + Math.floor(random() * 4096), 7));
    else courier.send_binary(Buffer.alloc(64 * 1024 + Math.floor(random() * 64 * 1024), 9));
  };
  const open = (slot) => {
    connect({
      url: url + '/' + slot,
      compression: random() < 0.5 ? 'deflate' : [],
      on_ready(courier) {
        ready++;
        if (mode === 'exit-ready' && ready === exitAt) process.exit(exitCode);
        const left = { count: 1 + Math.floor(random() * 6) };
        courier.on_text(() => onMessage(courier, left));
        courier.on_binary(() => onMessage(courier, left));
        // A few messages at once: several events per delivery.
        for (let i = Math.floor(random() * 3); i >= 0; i--) send(courier);
      },
    }).then(() => open(slot), () => open(slot));
  };
  for (let slot = 0; slot < connections; slot++) open(slot);
`;

/** mulberry32, as the worker's. */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An echo server on 127.0.0.1 (permessage-deflate accepted), and its close(). */
async function echoServer() {
  const { WebSocketServer } = require(path.join(ROOT, 'node_modules', 'ws'));
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true, maxPayload: 16 << 20 });
  await once(wss, 'listening');
  wss.on('connection', (socket) => {
    // Workers vanish mid-frame: resets are expected.
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return {
    url: `ws://127.0.0.1:${wss.address().port}`,
    close: () => new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    }),
  };
}

/**
 * A connection of this thread's, open for the whole run: `echo(text)`
 * resolves with the server's echo; `close()` ends it.
 */
async function mainThreadConnection(url) {
  const { connect } = require(DIST);
  const waiting = [];
  let courier;
  const opened = new Promise((resolve, reject) => {
    const settled = connect({
      url,
      on_ready(c) {
        courier = c;
        c.on_text((_, message) => waiting.shift()?.(message));
        resolve();
      },
    });
    settled.catch(reject);
  });
  await opened;
  return {
    echo: (text) => new Promise((resolve) => {
      waiting.push(resolve);
      courier.send_text(text);
    }),
    close: () => courier.close(1000, 'main done'),
  };
}

/** Runs one worker to its end; resolves with what happened. */
async function runWorker(index, url, random, connections, timeoutMs) {
  const modes = ['terminate', 'exit-ready', 'exit-text'];
  const mode = modes[Math.floor(random() * modes.length)];
  const exitCode = 3 + (index % 5);
  // exit-ready: past the first wave of connections now and then, so the
  // exit also comes from a reconnect while others are still echoing.
  const exitAt = mode === 'exit-ready' ? 1 + Math.floor(random() * connections * 2) : 1 + Math.floor(random() * 60);
  // terminate: after `after` messages (0: once online), or after a delay.
  const byDelay = random() < 0.3;
  const after = byDelay ? Math.floor(random() * 200) : Math.floor(random() * 80);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { dist: DIST, url, connections, mode, exitAt, exitCode, seed: Math.floor(random() * 2 ** 32) },
  });
  const errors = [];
  worker.on('error', (error) => errors.push(String(error?.stack ?? error)));
  const exited = once(worker, 'exit').then(([code]) => code);
  let messages = 0;
  let terminated;
  if (mode === 'terminate') {
    const terminate = () => { terminated ??= worker.terminate(); };
    if (byDelay) setTimeout(terminate, after);
    else if (after === 0) worker.once('online', terminate);
    worker.on('message', () => {
      if (++messages >= after && !byDelay) terminate();
    });
  } else {
    worker.on('message', () => messages++);
  }
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const code = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (code === 'timeout') await worker.terminate();
  if (terminated) await terminated;
  // terminate() gives 1, or 0 when the worker was still bootstrapping (Node
  // reports no code then): possible only if it had reported nothing yet.
  const expected = mode !== 'terminate' ? [exitCode] : messages ? [1] : [0, 1];
  return { index, mode, exitAt, after: mode === 'terminate' ? (byDelay ? `${after} ms` : after) : undefined, messages, code, expected, errors };
}

/**
 * The whole run; resolves with { ok, summary }. `log` gets a line for
 * every worker that did not end as expected.
 */
async function churn({ workers = 100, batch = 10, connections = 12, seed = Date.now() >>> 0, workerTimeoutMs = 60_000, log = console.log } = {}) {
  const random = prng(seed);
  const server = await echoServer();
  const main = await mainThreadConnection(server.url);
  const outcomes = [];
  for (let first = 0; first < workers; first += batch) {
    const count = Math.min(batch, workers - first);
    outcomes.push(...(await Promise.all(Array.from({ length: count }, (_, i) => runWorker(first + i, server.url, random, connections, workerTimeoutMs)))));
  }
  const bad = outcomes.filter((outcome) => !outcome.expected.includes(outcome.code) || outcome.errors.length);
  for (const outcome of bad) log(`worker ${JSON.stringify(outcome)}`);
  // This thread is alive and its addon still works: its connection, open
  // all along, echoes; then it closes as asked.
  const echoed = await main.echo('main thread still here');
  const closed = await main.close();
  await server.close();
  const modes = {};
  for (const { mode } of outcomes) modes[mode] = (modes[mode] ?? 0) + 1;
  const ok = !bad.length && echoed === 'main thread still here' && closed[0] === 1000;
  return { ok, summary: { seed, workers, batch, connections, modes, bad: bad.length, echoed, closed } };
}

module.exports = { churn };

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : fallback;
  };
  churn({
    workers: option('workers', 100),
    batch: option('batch', 10),
    connections: option('connections', 12),
    seed: option('seed', Date.now() >>> 0),
  }).then(
    ({ ok, summary }) => {
      console.log(JSON.stringify({ ok, ...summary }));
      process.exitCode = ok ? 0 : 1;
    },
    (error) => {
      console.error(error?.stack ?? error);
      process.exitCode = 1;
    },
  );
}
