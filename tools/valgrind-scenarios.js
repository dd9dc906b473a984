#!/usr/bin/env node
'use strict';
// The client's main paths, in one process, against local servers in the
// same process, for tools/valgrind.sh (issue #6, part 5): the whole jest
// suite is far too slow under valgrind; this covers the same native code in
// a few minutes of valgrind time (worker-churn, 20 workers, is two of them).
//
//   node --expose-gc tools/valgrind-scenarios.js [--only name,name] [--list]
//
// Each scenario checks its own outcome and prints one line; the script
// exits 1 if any failed (a scenario that behaves wrongly under valgrind is
// worth knowing about too). Before exiting it drops every reference and runs
// gc() until nothing more is collected, so that what valgrind reports as
// lost at exit is memory no collection could have freed.
//
// Servers: the `ws` package (plain, permessage-deflate, TLS on an https
// server with a certificate made by openssl now), and raw node:net servers
// for a peer that misbehaves or never answers.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { Worker } = require('node:worker_threads');

const ROOT = path.join(__dirname, '..');
const lws = require(path.join(ROOT, 'dist'));
const { WebSocketServer } = require(path.join(ROOT, 'node_modules', 'ws'));
const { connect, Logger, WebSocketClose, ConnectionFailed, LCCSCF_ALLOW_SELFSIGNED } = lws;

const MiB = 1024 * 1024;
// Under valgrind a scenario takes seconds; one still running after this is stuck
// (a message that never comes), and fails instead of stalling the whole run.
const SCENARIO_TIMEOUT_MS = 300_000;

// ---------------------------------------------------------------------------
// Servers

const servers = [];

async function wsServer(options = {}, onConnection = echo) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  wss.on('connection', onConnection);
  servers.push(() => new Promise((resolve) => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => resolve());
  }));
  return `ws://127.0.0.1:${wss.address().port}`;
}

function echo(socket) {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
}

/** A self-signed certificate for localhost, made by openssl now. */
function makeCertificate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lws-valgrind-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function wssServer() {
  const server = https.createServer(makeCertificate());
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', echo);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(() => new Promise((resolve) => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections?.();
    server.close(() => resolve());
  }));
  return `wss://localhost:${server.address().port}`;
}

/** A TCP server that accepts and then does `onSocket`. */
async function rawServer(onSocket) {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(() => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  return `ws://127.0.0.1:${server.address().port}`;
}

/** Completes the upgrade by hand (with `headers`, "Name: value\r\n" each), then writes `frames`. */
function upgradeThen(frames, headers = '') {
  return (socket) => {
    let head = '';
    const onData = (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.on('data', () => {});
      const key = /sec-websocket-key: *(.*)\r\n/i.exec(head)[1].trim();
      const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${headers}\r\n`);
      socket.write(Buffer.concat(frames));
    };
    socket.on('data', onData);
  };
}

/** A final, unmasked server frame: its header, then `payload`. */
function frameHeader(opcode, length) {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length <= 0xffff) {
    const header = Buffer.from([0x80 | opcode, 126, 0, 0]);
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.from([0x80 | opcode, 127, 0, 0, 0, 0, 0, 0, 0, 0]);
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

function frame(opcode, payload) {
  const body = Buffer.from(payload);
  return Buffer.concat([frameHeader(opcode, body.length), body]);
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// ---------------------------------------------------------------------------
// Client helpers

/**
 * Connects; `script(courier, inbox)` runs in on_ready, with `inbox.next()`
 * resolving the next message. Resolves { result } or { error }.
 */
function run(url, options, script) {
  const waiting = [];
  const queued = [];
  const inbox = {
    next: () => (queued.length ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiting.push(resolve))),
  };
  const deliver = (_, message) => {
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queued.push(message);
  };
  return connect({
    url,
    ...options,
    on_ready(courier) {
      courier.on_text(deliver);
      courier.on_binary(deliver);
      if (script) Promise.resolve(script(courier, inbox)).catch((error) => {
        console.error(`script error: ${error.stack}`);
        courier.close(4000, 'script error');
      });
    },
  }).then((result) => ({ result }), (error) => ({ error }));
}

function pattern(length, seed) {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Scenarios: each returns nothing, or throws.

const scenarios = {
  async 'echo-small'() {
    const url = await wsServer({ perMessageDeflate: false });
    const { result, error } = await run(url, { compression: [] }, async (courier, inbox) => {
      courier.send_text('hello ✓');
      courier.send_binary(Buffer.from([1, 2, 3, 0, 255]));
      assert.equal(await inbox.next(), 'hello ✓');
      assert.deepEqual(await inbox.next(), Buffer.from([1, 2, 3, 0, 255]));
      courier.close(1000, 'bye');
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, 'bye']);
  },

  async 'echo-1MiB'() {
    const url = await wsServer({ perMessageDeflate: false, maxPayload: 8 * MiB });
    const binary = pattern(MiB, 1);
    const text = 'é'.repeat(MiB / 2);
    const { result, error } = await run(url, { compression: [] }, async (courier, inbox) => {
      courier.send_binary(binary);
      courier.send_text(text);
      assert.ok(binary.equals(await inbox.next()));
      assert.equal(await inbox.next(), text);
      courier.close();
    });
    assert.ifError(error);
    assert.deepEqual(result, [1005, '']);
  },

  async burst() {
    // More small messages in one read than one call into JavaScript takes
    // (they share one buffer, lent by the environment), a 100 kB binary one
    // that owns its bytes, and a close: delivered in order, nothing read
    // after the buffer is handed back.
    const messages = Array.from({ length: 1500 }, (_, i) => (i % 2 ? `t${i}` : Buffer.from([i & 0xff, 7])));
    const large = pattern(100_000, 3);
    const frames = messages.map((message) => frame(typeof message === 'string' ? 1 : 2, message));
    frames.push(frame(2, large), frame(8, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])));
    const url = await rawServer(upgradeThen(frames));
    const received = [];
    const { result, error } = await run(`${url}/`, {}, async (courier, inbox) => {
      for (let i = 0; i <= messages.length; i++) received.push(await inbox.next());
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, 'ok']);
    assert.deepEqual(received.slice(0, -1), messages);
    assert.ok(large.equals(received.at(-1)));
  },

  async 'starts-in-one-turn'() {
    // Connections started in one turn are connected together after it; the
    // ones aborted within that turn never start, and end all the same.
    const url = await wsServer({ perMessageDeflate: false });
    const controllers = Array.from({ length: 20 }, () => new AbortController());
    const runs = controllers.map((controller, i) =>
      connect({ url, compression: [], signal: controller.signal, on_ready: (courier) => courier.close(1000, `${i}`) }),
    );
    controllers.forEach((controller, i) => i % 2 && controller.abort());
    const results = await Promise.allSettled(runs);
    results.forEach((settled, i) => {
      if (i % 2) assert.equal(settled.reason?.name, 'AbortError');
      else assert.deepEqual(settled.value, [1000, `${i}`]);
    });
  },

  async 'pings-under-full-socket'() {
    // The server stops reading, so the client's socket fills in the middle
    // of its messages (sent as 256 KiB fragments); the pings the server
    // sends meanwhile are answered between frames, and everything arrives
    // whole once the server reads again.
    const messages = [pattern(4 * MiB, 4), pattern(4 * MiB, 5)];
    const pings = ['a', 'b', 'c', 'd', 'e'];
    const pongs = [];
    const received = [];
    let resume;
    const url = await wsServer({ perMessageDeflate: false, maxPayload: 8 * MiB }, (socket) => {
      socket.pause();
      socket.on('pong', (payload) => pongs.push(payload.toString()));
      socket.on('message', (data) => {
        received.push(data);
        if (received.length === messages.length) socket.close(1000, 'all here');
      });
      resume = () => socket.resume();
      for (const payload of pings) socket.ping(payload);
    });
    const { result, error } = await run(url, { compression: [] }, async (courier) => {
      for (const message of messages) courier.send_binary(message);
      // Until the client's socket is full: what is queued stops going down.
      let last = -1;
      for (let same = 0; same < 20; ) {
        await new Promise((resolve) => setImmediate(resolve));
        same = courier.buffered_amount === last && last > 0 ? same + 1 : 0;
        last = courier.buffered_amount;
      }
      resume();
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, 'all here']);
    received.forEach((data, i) => assert.ok(messages[i].equals(data), `message ${i} intact`));
    assert.deepEqual(pongs, pings);
  },

  async 'slow-reader'() {
    // The README's streaming recipe against a server that stops reading
    // after every 4 MiB until the client waits in drained(): nothing piles
    // up in lws, and the stream arrives whole.
    const CHUNK = 256 * 1024;
    const COUNT = 64;
    const source = pattern(CHUNK * COUNT, 6);
    const hash = crypto.createHash('sha256');
    let got = 0;
    let reader;
    let clientWaits = false;
    let allQueued = false;
    const url = await wsServer({ perMessageDeflate: false }, (socket) => {
      reader = socket;
      socket.on('message', (data) => {
        hash.update(data);
        got += data.length;
        if (got === source.length) socket.close(1000, 'all here');
        // Every 4 MiB: a socket reports writable only once half of what its
        // kernel queue holds (about 3 MiB here) has gone, so a reader that
        // read less before stalling would leave both sides waiting.
        // (A client already waiting would wait for good: it resumes the
        // reader only as it starts to wait.)
        else if (got % (4 * MiB) === 0 && !allQueued && !clientWaits) socket.pause();
      });
    });
    const { result, error } = await run(url, { compression: [] }, async (courier) => {
      for (let i = 0; i < COUNT; i++) {
        courier.send_binary(source.subarray(i * CHUNK, (i + 1) * CHUNK));
        if (courier.buffered_amount > MiB) {
          const drained = courier.drained(MiB / 2);
          clientWaits = true;
          reader.resume();
          await drained;
          clientWaits = false;
        }
      }
      allQueued = true;
      reader.resume();
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, 'all here']);
    assert.equal(hash.digest('hex'), crypto.createHash('sha256').update(source).digest('hex'));
  },

  async 'ping-flood'() {
    // 10,000 pings in one write, then a close: at most 32 pongs wait at a
    // time, the latest among them.
    const frames = Array.from({ length: 10_000 }, (_, i) => frame(9, `${i}`));
    frames.push(frame(8, Buffer.from([0x03, 0xe8])));
    const url = await rawServer(upgradeThen(frames));
    const { result, error } = await run(`${url}/`, {});
    assert.ifError(error);
    assert.deepEqual(result, [1000, '']);
  },

  async 'server-close'() {
    const url = await wsServer({ perMessageDeflate: false }, (socket) => {
      socket.on('message', () => socket.close(4001, 'server says bye'));
    });
    const { error } = await run(url, { compression: [] }, (courier) => courier.send_text('close me'));
    assert.ok(error instanceof WebSocketClose, String(error));
    assert.equal(error.status, 4001);
    assert.equal(error.reason, 'server says bye');
  },

  async 'server-drops-tcp'() {
    const url = await wsServer({ perMessageDeflate: false }, (socket) => {
      socket.on('message', () => socket.terminate());
    });
    const { error } = await run(url, { compression: [] }, (courier) => courier.send_text('drop me'));
    assert.ok(error instanceof ConnectionFailed, String(error));
    assert.equal(error.phase, 'open');
  },

  async refused() {
    const port = await freePort();
    const { error } = await run(`ws://127.0.0.1:${port}/`, {});
    assert.ok(error instanceof ConnectionFailed, String(error));
    assert.equal(error.phase, 'connect');
  },

  async deflate() {
    const url = await wsServer({ perMessageDeflate: { threshold: 0 }, maxPayload: 8 * MiB });
    const big = JSON.stringify(Array.from({ length: 40000 }, (_, i) => ({ i, name: `item ${i}` })));
    const binary = pattern(MiB, 2);
    const { result, error } = await run(url, { compression: 'deflate' }, async (courier, inbox) => {
      assert.match(courier.extensions, /permessage-deflate/);
      courier.send_text('small');
      courier.send_text(big);
      courier.send_binary(binary);
      courier.send_text('');
      assert.equal(await inbox.next(), 'small');
      assert.equal(await inbox.next(), big);
      assert.ok(binary.equals(await inbox.next()));
      assert.equal(await inbox.next(), '');
      courier.close(1000);
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, '']);
  },

  async 'pause-resume'() {
    const url = await wsServer({ perMessageDeflate: false }, (socket) => {
      socket.on('message', (data) => {
        for (let i = 0; i < 50; i++) socket.send(`${data} ${i} ${'x'.repeat(2000)}`);
      });
    });
    const { result, error } = await run(url, { compression: [] }, async (courier, inbox) => {
      const handle = courier.pause();
      courier.send_text('burst');
      await sleep(200);
      handle.resume();
      for (let i = 0; i < 50; i++) assert.ok((await inbox.next()).startsWith(`burst ${i} `));
      courier.close(1000);
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, '']);
  },

  async tls() {
    const url = await wssServer();
    const { result, error } = await run(url, { tls: LCCSCF_ALLOW_SELFSIGNED, compression: [] }, async (courier, inbox) => {
      courier.send_text('over TLS');
      courier.send_binary(pattern(256 * 1024, 3));
      assert.equal(await inbox.next(), 'over TLS');
      assert.equal((await inbox.next()).length, 256 * 1024);
      courier.close(1000, 'tls done');
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, 'tls done']);
  },

  async 'tls-untrusted'() {
    const url = await wssServer();
    const { error } = await run(url, { compression: [] });
    assert.ok(error instanceof ConnectionFailed, String(error));
    assert.equal(error.phase, 'tls');
  },

  async 'connect-timeout'() {
    // Accepts and never answers the upgrade.
    const url = await rawServer(() => {});
    const started = Date.now();
    const { error } = await run(`${url}/`, { connect_timeout: 1 });
    assert.ok(error instanceof ConnectionFailed, String(error));
    assert.equal(error.phase, 'timeout');
    assert.ok(Date.now() - started < 10_000);
  },

  async 'max-message-size'() {
    const url = await wsServer({ perMessageDeflate: false });
    const { error } = await run(url, { compression: [], max_message_size: 1000 }, (courier) => courier.send_text('y'.repeat(5000)));
    assert.ok(error instanceof WebSocketClose, String(error));
    assert.equal(error.status, 1009);
  },

  async 'invalid-utf8'() {
    const url = await rawServer(upgradeThen([frame(1, Buffer.from([0x61, 0xff, 0x62]))]));
    const { error } = await run(`${url}/`, {});
    assert.ok(error instanceof WebSocketClose || error instanceof ConnectionFailed, String(error));
  },

  async 'invalid-utf8-large'() {
    // A text frame longer than lws's 128 KiB receive buffer with invalid
    // UTF-8 in its first 128 KiB, whose last bytes come in a later read.
    // lws 4.3.5 fails the message when the full buffer is handed on, but
    // leaves its fill index at the buffer's end (client-parser-ws.c,
    // utf8_fail) while it waits for the close answer, and stores the next
    // bytes past the buffer. 64 bytes overrun here: valgrind names the
    // write; --redzone-size=256 keeps them inside valgrind's red zone.
    const LWS_RX_BUFFER = 128 * 1024;
    const payload = Buffer.alloc(LWS_RX_BUFFER + 64, 0x61);
    payload[10] = 0xff;
    const header = frameHeader(1, payload.length);
    const url = await rawServer((socket) => {
      upgradeThen([header, payload.subarray(0, LWS_RX_BUFFER)])(socket);
      setTimeout(() => socket.writable && socket.write(payload.subarray(LWS_RX_BUFFER)), 300);
      setTimeout(() => socket.writable && socket.end(), 600);
    });
    const { error } = await run(`${url}/`, {});
    assert.ok(error instanceof WebSocketClose || error instanceof ConnectionFailed, String(error));
  },

  async 'protocol-error'() {
    // A reserved opcode, then a close frame with an invalid code.
    const url = await rawServer(upgradeThen([frame(3, 'nope'), frame(8, Buffer.from([0x03, 0xed]))]));
    const { error } = await run(`${url}/`, {});
    assert.ok(error instanceof WebSocketClose || error instanceof ConnectionFailed, String(error));
  },

  async 'hostile-handshakes'() {
    // 101s selecting what was not offered: each fails the handshake before
    // lws acts on it (lws 4.3.5 set up a twice-named extension past the end
    // of its arrays).
    const answers = [
      ['Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate', {}],
      ['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16', {}],
      ['Sec-WebSocket-Extensions: permessage-deflate; rx_buf_size=16', {}],
      ['Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_no_context_takeover', {}],
      ['Sec-WebSocket-Extensions: x-unoffered', {}],
      ['Sec-WebSocket-Protocol: chat, superchat', { subprotocols: ['chat', 'superchat'] }],
      ['Sec-WebSocket-Protocol: chat', {}],
    ];
    for (const [header, options] of answers) {
      const url = await rawServer(upgradeThen([], `${header}\r\n`));
      const { error } = await run(`${url}/`, options);
      assert.ok(error instanceof ConnectionFailed && error.phase === 'handshake', `${header}: ${error}`);
    }
  },

  async 'ping-timeout'() {
    // Upgrades, then never answers a ping.
    const url = await rawServer(upgradeThen([]));
    const { error } = await run(`${url}/`, { ping_interval: 1, ping_timeout: 1 });
    assert.ok(error instanceof ConnectionFailed, String(error));
  },

  async logger() {
    const lines = [];
    const logger = new Logger({ level: lws.LLL_ERR | lws.LLL_WARN | lws.LLL_NOTICE | lws.LLL_USER, callback: (level, line) => lines.push(line) });
    const port = await freePort();
    const { error } = await run(`ws://127.0.0.1:${port}/`, { logger });
    assert.ok(error instanceof ConnectionFailed, String(error));
  },

  async 'abort-signal'() {
    const url = await rawServer(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('aborted on purpose')), 50);
    const { error } = await run(`${url}/`, { signal: controller.signal });
    assert.equal(error?.message, 'aborted on purpose');
  },

  async concurrent() {
    const url = await wsServer({ perMessageDeflate: false });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run(url, { compression: i % 2 ? 'deflate' : [] }, async (courier, inbox) => {
          courier.send_text(`n${i}`);
          assert.equal(await inbox.next(), `n${i}`);
          courier.close(1000);
        }),
      ),
    );
    for (const { error } of outcomes) assert.ifError(error);
  },

  async 'worker-terminated'() {
    // A worker with an open connection (and one still connecting) is
    // terminated: its environment's cleanup hook tears lws down.
    const url = await wsServer({ perMessageDeflate: false });
    const hang = await rawServer(() => {});
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const lws = require(workerData.dist);
      lws.connect({ url: workerData.hang + '/', connect_timeout: 60, on_ready() {} }).catch(() => {});
      lws.connect({
        url: workerData.url,
        compression: 'deflate',
        on_ready(courier) {
          courier.on_text((_, message) => parentPort.postMessage(message));
          courier.send_text('from the worker');
        },
      }).catch(() => {});
      `,
      { eval: true, workerData: { dist: path.join(ROOT, 'dist'), url, hang } },
    );
    const [message] = await once(worker, 'message');
    assert.equal(message, 'from the worker');
    await worker.terminate();
  },

  async 'worker-finishes'() {
    // A worker whose connection ends normally exits by itself.
    const url = await wsServer({ perMessageDeflate: false });
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const lws = require(workerData.dist);
      lws.connect({ url: workerData.url, on_ready(courier) { courier.on_text(() => courier.close(1000)); courier.send_text('x'); } })
        .then((result) => parentPort.postMessage(result));
      `,
      { eval: true, workerData: { dist: path.join(ROOT, 'dist'), url } },
    );
    // Listened for from the start: the worker may post and exit within one
    // turn of this thread, before code after the first await would listen.
    const exited = once(worker, 'exit');
    const [result] = await once(worker, 'message');
    assert.deepEqual(result, [1000, '']);
    const [code] = await exited;
    assert.equal(code, 0);
  },

  async 'worker-churn'() {
    // test/worker_termination.test.ts, smaller: workers with connections
    // opening, echoing and closing, ended by terminate() or process.exit()
    // inside on_ready or on_text at random moments. Each environment's
    // teardown runs with lws mid-handshake, mid-message and mid-close, and
    // Node-API calls failing in the terminating environment must end
    // quietly (binding/boundary.h, JsCall): nothing read or written after
    // it is freed, no connection leaked.
    const { churn } = require(path.join(ROOT, 'tools', 'worker-churn.js'));
    const { ok, summary } = await churn({ workers: 20, batch: 4, connections: 6, seed: 20, workerTimeoutMs: 240_000, log: (line) => console.log(`  ${line}`) });
    assert.ok(ok, JSON.stringify(summary));
  },

  async 'close-during-connect'() {
    // close() right after on_ready, with messages queued behind it; and a
    // send after close() throws.
    const url = await wsServer({ perMessageDeflate: false });
    const { result, error } = await run(url, { compression: [] }, (courier) => {
      courier.send_text('queued');
      courier.close(1000, 'quick');
      assert.throws(() => courier.send_text('late'), { code: 'ERR_LWS_CLOSED' });
    });
    assert.ifError(error);
    assert.deepEqual(result, [1000, 'quick']);
  },
};

// ---------------------------------------------------------------------------

async function collectGarbage() {
  if (typeof global.gc !== 'function') return;
  for (let i = 0; i < 6; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(20);
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--list')) {
    console.log(Object.keys(scenarios).join('\n'));
    return 0;
  }
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(String(args[onlyAt + 1] ?? '').split(',')) : undefined;
  const unknown = only ? [...only].filter((name) => !(name in scenarios)) : [];
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (--list shows them)`);

  let failed = 0;
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only && !only.has(name)) continue;
    const started = Date.now();
    let deadline;
    try {
      await Promise.race([
        scenario(),
        new Promise((_, reject) => {
          deadline = setTimeout(() => reject(new Error(`no outcome within ${SCENARIO_TIMEOUT_MS / 1e3} s`)), SCENARIO_TIMEOUT_MS);
        }),
      ]);
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${name} (${Date.now() - started} ms): ${error?.stack ?? error}`);
    } finally {
      clearTimeout(deadline);
    }
    for (const close of servers.splice(0)) await close();
  }
  await collectGarbage();
  console.log(failed ? `${failed} scenario(s) failed` : 'all scenarios passed');
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error?.stack ?? error);
    process.exitCode = 1;
  },
);
