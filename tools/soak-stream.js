#!/usr/bin/env node
'use strict';
// Stream soak: does the client's memory stay bounded when it streams far
// more than it can hold to a server that reads slowly, or stops reading for
// seconds at a time? And do control frames still get through while the
// socket is full?
//
//   node --expose-gc tools/soak-stream.js [--size MiB] [--quick]
//        [--only name,name] [--rate MiB/s] [--limit-mb MB]
//        [--package-dir DIR] [--no-pings] [--no-fixed-heap]
//
// Each scenario streams --size (1,024 MiB) of deterministic data (AES-CTR
// keystream, made 256 KiB at a time; never the whole stream in memory) to a
// `ws` server in a child process, so only the client's memory is in this
// process. The server hashes what it received (SHA-256) and reports it with
// the byte count; the sender hashes what it sent.
//
//   slow             the server reads at --rate (4 MiB/s) on the wire: it
//                    pauses its socket whenever it is ahead of the rate
//   pausing          the server reads at full speed, but stops reading three
//                    times, for 3 s each (evenly spread, see the pings)
//   slow-deflate,    the same with permessage-deflate negotiated, and data
//   pausing-deflate  that compresses to about half (4 random bits a byte)
//   lwscat,          `node bin/lwscat.js --binary ws://…` with a generator
//   lwscat-deflate   process piped into its stdin, to the pausing server
//
// The client side of slow* and pausing* is the README's recipe for
// courier.drained(), in this process: 256 KiB chunks, each in a turn of the
// event loop of its own as fs.createReadStream() gives them, send_binary(),
// `if (courier.buffered_amount > 1024 * 1024) await courier.drained(512 * 1024)`,
// then drained() and close(1000).
//
// Control frames under a full socket: the server pings every 100 ms with a
// payload of its own ("ping N") whenever it is not reading at full speed:
// all the time for the slow reader, during the pauses for the pausing one
// and lwscat. Every ping must be answered, in order, with its payload. The
// pings stop when no more of the stream is still to come than the socket
// buffers can hold (tcp_rmem's and tcp_wmem's maxima and 1 MiB, 37 MiB
// here): until then the client cannot have sent its close frame, after
// which it owes no pong. The pauses are spread over the stream before that
// point. (A corrupted frame would make ws fail the connection, and the hash
// would differ.)
//
// Memory: the baseline is the client's RSS once connected, before the first
// byte (this process after a gc(); lwscat 0.5 s after its handshake, before
// the generator writes), and the peak is read every 250 ms from
// /proc/<pid>/status: VmHWM, reset to the baseline at the start (clear_refs),
// so that a spike between two samples counts too. About 33 MB of the peak
// is the chunks themselves: fresh 256 KiB Buffers, as a file stream gives
// them, that V8 frees only once some 32 MB of them are garbage (generating
// and hashing without sending peaks at the same height).
//
// Verdict, per scenario: the server received --size bytes with the sender's
// hash, every ping was answered, the connection closed with 1000 (lwscat:
// exit status 0), and the peak RSS was at most --limit-mb (64 MB, MiB
// really) above the baseline. It prints a table and PASS or FAIL, and exits
// 1 on FAIL.
//
// --quick: 128 MiB per scenario (~2 min); the full run takes ~9 min, most
// of it the slow reader (1 GiB at 4 MiB/s is 256 s). --only runs the named
// scenarios. --package-dir points at another checkout's built package (its
// dist/ and bin/lwscat.js), to run this soak against older code.
// --no-pings leaves the pings out: code from before the send path was
// rewritten (0e68612) fails on them first (a pong written into the middle
// of a frame), which hides how its memory grows with the stream.
// `npm run soak` runs tools/soak.js and then this, without flags;
// `npm run soak:stream -- --quick` runs this alone, with them.
//
// Each scenario runs in a process of its own, so that its baseline is not
// the high water of the one before (glibc and V8 keep what they grew), and,
// as in tools/soak.js, with V8's young generation fixed at 4 MB per
// semi-space, so that RSS shows native memory and the old generation rather
// than V8 growing its semi-spaces (10-30 MB at moments that have nothing to
// do with sending); lwscat runs as users run it. --no-fixed-heap runs every
// scenario in this process, as started.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { parseArgs } = require('node:util');

const ROOT = path.join(__dirname, '..');
const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

// The README's recipe.
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 512 * 1024;

const SAMPLE_MS = 250;
const PING_MS = 100;
const PAUSES = 3;
const PAUSE_MS = 3000;

const SCENARIOS = [
  { name: 'slow', reader: 'slow', deflate: false },
  { name: 'slow-deflate', reader: 'slow', deflate: true },
  { name: 'pausing', reader: 'pausing', deflate: false },
  { name: 'pausing-deflate', reader: 'pausing', deflate: true },
  { name: 'lwscat', reader: 'pausing', deflate: false, lwscat: true },
  { name: 'lwscat-deflate', reader: 'pausing', deflate: true, lwscat: true },
];

// ---------------------------------------------------------------------------
// Flags

function parseFlags(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        size: { type: 'string' },
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        rate: { type: 'string', default: '4' },
        'limit-mb': { type: 'string', default: '64' },
        'package-dir': { type: 'string', default: ROOT },
        'no-pings': { type: 'boolean', default: false },
        // Read by main(): every scenario in this process.
        'no-fixed-heap': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    usage(error.message);
  }
  if (parsed.help) usage();
  const number = (name, value) => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) usage(`--${name} needs a positive number`);
    return n;
  };
  const sizeMiB = parsed.size === undefined ? (parsed.quick ? 128 : 1024) : number('size', parsed.size);
  const size = Math.round(sizeMiB * MiB);
  const only = parsed.only?.split(',').filter(Boolean);
  for (const name of only ?? []) {
    if (!SCENARIOS.some((s) => s.name === name)) usage(`--only: no scenario '${name}' (${SCENARIOS.map((s) => s.name).join(', ')})`);
  }
  return {
    size,
    rate: number('rate', parsed.rate) * MiB,
    limit: number('limit-mb', parsed['limit-mb']) * MiB,
    packageDir: path.resolve(parsed['package-dir']),
    pings: !parsed['no-pings'],
    scenarios: SCENARIOS.filter((s) => !only || only.includes(s.name)),
  };
}

function usage(problem) {
  if (problem) console.error(`soak-stream: ${problem}`);
  console.error('usage: node --expose-gc tools/soak-stream.js [--size MiB] [--quick] [--only name,name] [--rate MiB/s]\n' +
    '       [--limit-mb MB] [--package-dir DIR] [--no-pings] [--no-fixed-heap]\n' +
    `scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(problem ? 2 : 0);
}

// ---------------------------------------------------------------------------
// The data: a deterministic stream, 256 KiB at a time

const KEY = Buffer.alloc(16, 0x5a);
const IV = Buffer.alloc(16, 0);
const ZEROS = Buffer.alloc(CHUNK);

/**
 * `size` bytes in fresh 256 KiB Buffers: AES-128-CTR keystream
 * (incompressible), or with `compressible` 4 of its bits a byte ('@'…'O',
 * which deflates to about half).
 */
function* chunks(size, compressible) {
  const cipher = crypto.createCipheriv('aes-128-ctr', KEY, IV);
  for (let left = size; left > 0; left -= CHUNK) {
    const chunk = cipher.update(left >= CHUNK ? ZEROS : ZEROS.subarray(0, left));
    if (compressible && chunk.byteOffset % 4) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = (chunk[i] & 0x0f) | 0x40;
    } else if (compressible) {
      const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length >> 2);
      for (let i = 0; i < words.length; i++) words[i] = (words[i] & 0x0f0f0f0f) | 0x40404040;
      for (let i = words.length << 2; i < chunk.length; i++) chunk[i] = (chunk[i] & 0x0f) | 0x40;
    }
    yield chunk;
  }
}

/**
 * The same chunks, each in a turn of the event loop of its own, as a file
 * read stream gives them (each read completes in its own callback).
 */
async function* fileLike(size, compressible) {
  for (const chunk of chunks(size, compressible)) {
    await new Promise((resolve) => setImmediate(resolve));
    yield chunk;
  }
}

// ---------------------------------------------------------------------------
// The receiving server (a child process: `--internal-serve CONFIG`)

function serve(config) {
  const { WebSocketServer } = require('ws');
  const http = require('node:http');
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: config.deflate, maxPayload: 64 * MiB });
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => receive(ws, socket, config)));
  server.listen(0, '127.0.0.1', () => process.send({ type: 'port', port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}

/** Hashes one connection's binary messages, reading as `config.reader` says, and reports at the close. */
function receive(ws, socket, config) {
  const started = performance.now();
  process.send({ type: 'connection', extensions: ws.extensions });
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let messages = 0;
  let wire = 0;
  let textMessages = 0;

  // Reading: ws.pause() stops reading the socket (and ws resumes it only
  // through ws.resume()).
  let paused = false;
  const pause = () => {
    if (paused) return;
    paused = true;
    ws.pause();
  };
  const resume = () => {
    if (!paused) return;
    paused = false;
    ws.resume();
  };

  // Pings, each with its own payload; pongs must come back in order.
  let pings = 0;
  let pongs = 0;
  let wrongPongs = 0;
  // Only while more than the socket buffers can hold is still to come: the
  // client is then still sending data, so it has not sent its close frame
  // yet, and it owes this ping a pong.
  const ping = () => {
    if (!config.pings || ws.readyState !== ws.OPEN || config.size - bytes <= config.inFlight) return;
    ws.ping(`ping ${pings++}`);
  };
  ws.on('pong', (data) => {
    if (data.toString() === `ping ${pongs}`) pongs++;
    else wrongPongs++;
  });

  const timers = [];
  if (config.reader === 'slow') {
    // A token bucket on the wire bytes: at most 256 KiB of credit.
    const burst = 256 * 1024;
    let tokens = burst;
    let last = performance.now();
    socket.on('data', (chunk) => {
      wire += chunk.length;
      tokens -= chunk.length;
      if (tokens < 0) pause();
    });
    timers.push(setInterval(() => {
      const now = performance.now();
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * config.rate);
      last = now;
      if (tokens >= 0) resume();
    }, 10));
    timers.push(setInterval(ping, PING_MS));
  } else {
    socket.on('data', (chunk) => (wire += chunk.length));
  }

  // The pausing reader: PAUSES pauses of PAUSE_MS, pinging, spread evenly
  // over the part of the stream where pings are answered.
  let nextPause = 1;
  const pausesOver = config.size > config.inFlight ? config.size - config.inFlight : config.size;
  const pauseAt = () => (pausesOver * nextPause) / (PAUSES + 1);
  const pauseNow = () => {
    nextPause++;
    pause();
    const pinger = setInterval(ping, PING_MS);
    ping();
    timers.push(pinger);
    timers.push(setTimeout(() => {
      clearInterval(pinger);
      resume();
    }, PAUSE_MS));
  };

  ws.on('message', (data, isBinary) => {
    if (!isBinary) textMessages++;
    hash.update(data);
    bytes += data.length;
    messages++;
    if (config.reader === 'pausing' && nextPause <= PAUSES && bytes >= pauseAt()) pauseNow();
  });
  ws.on('error', (error) => process.send({ type: 'error', message: String(error.message ?? error) }));
  ws.on('close', (code, reason) => {
    for (const timer of timers) clearInterval(timer);
    process.send({
      type: 'result',
      bytes,
      messages,
      textMessages,
      wire,
      sha256: hash.digest('hex'),
      pings,
      pongs,
      wrongPongs,
      code,
      reason: reason.toString(),
      seconds: (performance.now() - started) / 1000,
    });
  });
}

/** Starts a server child; resolves { port, next(type), stop() }. */
async function startServer(config) {
  const child = spawn(process.execPath, [__filename, '--internal-serve', JSON.stringify(config)], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = () => child.exitCode === null && child.signalCode === null && child.kill();
  process.on('exit', stop);
  const inbox = messageQueue(child);
  const port = (await inbox.next('port', 10_000)).port;
  return { port, next: inbox.next, errors: inbox.errors, stop };
}

/** The IPC messages of `child`, awaited by type. */
function messageQueue(child) {
  const received = [];
  const waiting = [];
  const errors = [];
  let exited;
  const settle = () => {
    for (let i = 0; i < waiting.length; i++) {
      const w = waiting[i];
      const index = received.findIndex((m) => m.type === w.type);
      if (index >= 0) {
        w.resolve(received.splice(index, 1)[0]);
      } else if (exited) {
        w.reject(new Error(`the child exited (${exited}) before sending '${w.type}'`));
      } else {
        continue;
      }
      clearTimeout(w.timer);
      waiting.splice(i--, 1);
    }
  };
  child.on('message', (message) => {
    if (message.type === 'error') errors.push(message.message);
    else received.push(message);
    settle();
  });
  child.on('exit', (code, signal) => {
    exited = signal ?? String(code);
    settle();
  });
  child.on('error', (error) => {
    exited = error.message;
    settle();
  });
  const next = (type, timeoutMs) =>
    new Promise((resolve, reject) => {
      const w = { type, resolve, reject };
      w.timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(w), 1);
        reject(new Error(`no '${type}' from the child in ${timeoutMs / 1000} s`));
      }, timeoutMs);
      waiting.push(w);
      settle();
    });
  return { next, errors };
}

// ---------------------------------------------------------------------------
// The generator process for lwscat (`--internal-generate CONFIG`): writes
// the stream to stdout once the parent says go, then reports its hash.

function generate(config) {
  process.once('message', () => {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    const source = chunks(config.size, config.compressible);
    // lwscat gone before the end (EPIPE): say how far it got.
    process.stdout.on('error', (error) => {
      process.send({ type: 'result', bytes, sha256: '', stopped: error.code ?? error.message }, () => process.exit(0));
    });
    const write = () => {
      for (let next = source.next(); !next.done; next = source.next()) {
        hash.update(next.value);
        bytes += next.value.length;
        if (!process.stdout.write(next.value)) return void process.stdout.once('drain', write);
      }
      process.stdout.end(() => process.send({ type: 'result', bytes, sha256: hash.digest('hex') }, () => process.exit(0)));
    };
    write();
  });
}

// ---------------------------------------------------------------------------
// Memory

/**
 * The RSS of process `pid` ('self' or a number): start() takes the baseline
 * and resets the kernel's peak (VmHWM, by writing 5 to clear_refs), then
 * every SAMPLE_MS the peak is read: VmHWM, so that nothing between two
 * samples is missed, or VmRSS where the reset is not allowed.
 */
function meter(pid) {
  let timer;
  let hwm = false;
  const m = { baseline: NaN, peak: NaN };
  m.sample = () => {
    const now = procMemory(pid);
    const value = hwm ? now.hwm : now.rss;
    if (value > m.peak) m.peak = value;
  };
  m.start = () => {
    try {
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
      hwm = true;
    } catch {
      hwm = false;
    }
    m.baseline = procMemory(pid).rss;
    m.peak = m.baseline;
    timer = setInterval(m.sample, SAMPLE_MS);
  };
  m.stop = () => clearInterval(timer);
  return m;
}

async function settled() {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** VmRSS and VmHWM of a process, in bytes. */
function procMemory(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

// ---------------------------------------------------------------------------
// The scenarios

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Generous: 1 MiB/s and a minute. */
const timeoutMs = (size) => (size / MiB) * 1000 + 60_000;

function serverConfig(scenario, flags) {
  return { reader: scenario.reader, deflate: scenario.deflate, size: flags.size, rate: flags.rate, pings: flags.pings, inFlight: IN_FLIGHT };
}

/**
 * At most how many bytes can be between the client's send queue and the
 * server's ws: the server's receive buffer and the client's send buffer at
 * their largest (what TCP autotuning may grow them to), and 1 MiB for the
 * server's own reads.
 */
const IN_FLIGHT = (() => {
  try {
    const max = (name) => Number(fs.readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]);
    const bytes = max('tcp_rmem') + max('tcp_wmem') + MiB;
    return Number.isFinite(bytes) ? bytes : 64 * MiB;
  } catch {
    return 64 * MiB;
  }
})();

/** The README's recipe, in this process. */
async function streamInProcess(lws, scenario, flags) {
  const server = await startServer(serverConfig(scenario, flags));
  const rss = meter('self');
  const sent = crypto.createHash('sha256');
  const problems = [];
  let sentBytes = 0;
  let extensions = '';
  let started;
  let courier;
  let progress;
  const outcome = lws.connect({
    url: `ws://127.0.0.1:${server.port}/`,
    compression: scenario.deflate ? 'deflate' : [],
    connect_timeout: 10,
    on_ready: async (c) => {
      courier = c;
      extensions = c.extensions;
      try {
        await settled();
        rss.start();
        started = performance.now();
        progress = setInterval(() => {
          const s = (performance.now() - started) / 1000;
          console.log(`  ${scenario.name}: ${s.toFixed(0)} s, ${(sentBytes / MiB).toFixed(0)} MiB sent, ` +
            `buffered ${(c.buffered_amount / 1024).toFixed(0)} KiB, rss ${(process.memoryUsage.rss() / MiB).toFixed(1)} MB`);
        }, 30_000);
        for await (const chunk of fileLike(flags.size, scenario.deflate)) {
          sent.update(chunk);
          sentBytes += chunk.length;
          c.send_binary(chunk);
          if (c.buffered_amount > HIGH_WATER) await c.drained(LOW_WATER);
        }
        await c.drained();
        c.close(1000, 'sent');
      } catch (error) {
        problems.push(`sending failed: ${error.message}`);
        c.close(4000, 'sending failed');
      }
    },
  });
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => {
      problems.push(`not done in ${timeoutMs(flags.size) / 1000} s`);
      courier?.close(4000, 'soak timeout');
      resolve();
    }, timeoutMs(flags.size));
  });
  try {
    const result = await Promise.race([outcome, timeout]);
    if (result && (result[0] !== 1000 || result[1] !== 'sent')) problems.push(`closed with [${result[0]}, ${JSON.stringify(result[1])}]`);
  } catch (error) {
    problems.push(`the connection ended: ${error.message}`);
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
    rss.sample();
    rss.stop();
  }
  const received = await server.next('result', 15_000).catch((error) => (problems.push(error.message), undefined));
  server.stop();
  if (scenario.deflate && !/permessage-deflate/.test(extensions)) problems.push(`deflate not negotiated (extensions: '${extensions}')`);
  return row(scenario, flags, { received, sentBytes, sha256: sent.digest('hex'), started, rss, problems, serverErrors: server.errors });
}

/** A generator process | lwscat --binary → the server. */
async function streamThroughLwscat(scenario, flags) {
  const server = await startServer(serverConfig(scenario, flags));
  const problems = [];
  const generator = spawn(process.execPath, [__filename, '--internal-generate', JSON.stringify({ size: flags.size, compressible: scenario.deflate })], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const generated = messageQueue(generator);
  const lwscat = spawn(process.execPath, [path.join(flags.packageDir, 'bin', 'lwscat.js'), '--binary', `ws://127.0.0.1:${server.port}/`], {
    cwd: flags.packageDir,
    stdio: [generator.stdout, 'ignore', 'pipe'],
  });
  // The pipe now runs from the generator to lwscat; this end is not read.
  generator.stdout.destroy();
  const kill = () => {
    for (const child of [generator, lwscat]) if (child.exitCode === null && child.signalCode === null) child.kill();
  };
  process.on('exit', kill);
  let stderr = '';
  lwscat.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  const exited = new Promise((resolve) => lwscat.on('exit', (code, signal) => resolve({ code, signal })));

  const rss = meter(lwscat.pid);
  let started;
  let extensions = '';
  let timer;
  try {
    extensions = (await server.next('connection', 15_000)).extensions;
    // Once the connection is up and lwscat has settled: its baseline.
    await delay(500);
    rss.start();
    started = performance.now();
    generator.send('go');
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), timeoutMs(flags.size));
    });
    const end = await Promise.race([exited, timeout]);
    if (end.timeout) {
      problems.push(`not done in ${timeoutMs(flags.size) / 1000} s`);
      kill();
    } else if (end.code !== 0) {
      problems.push(`lwscat exited with ${end.signal ?? end.code}${stderr ? `: ${stderr.trim()}` : ''}`);
    }
  } catch (error) {
    problems.push(error.message);
  } finally {
    clearTimeout(timer);
    rss.stop();
  }
  const received = await server.next('result', 15_000).catch((error) => (problems.push(error.message), undefined));
  const sent = await generated.next('result', 15_000).catch((error) => (problems.push(`generator: ${error.message}`), undefined));
  if (sent?.stopped) problems.push(`generator: stdin closed after ${sent.bytes} bytes (${sent.stopped})`);
  kill();
  server.stop();
  if (scenario.deflate && !/permessage-deflate/.test(extensions)) problems.push(`deflate not negotiated (extensions: '${extensions}')`);
  return row(scenario, flags, { received, sentBytes: sent?.bytes, sha256: sent?.sha256, started, rss, problems, serverErrors: server.errors });
}

/** One line of the table, and the scenario's verdict. */
function row(scenario, flags, { received, sentBytes, sha256, started, rss, problems, serverErrors }) {
  problems.push(...serverErrors.map((message) => `server: ${message}`));
  const intact = received !== undefined && received.bytes === flags.size && sentBytes === flags.size && received.sha256 === sha256;
  if (received) {
    if (received.bytes !== flags.size) problems.push(`the server received ${received.bytes} bytes of ${flags.size}`);
    else if (received.sha256 !== sha256) problems.push('the server received other bytes (SHA-256 differs)');
    if (received.textMessages) problems.push(`${received.textMessages} text message(s)`);
    if (received.code !== 1000) problems.push(`the server saw close ${received.code}`);
    if (received.pongs !== received.pings || received.wrongPongs) {
      problems.push(`pongs: ${received.pongs} of ${received.pings} pings answered in order, ${received.wrongPongs} out of order or wrong`);
    }
  }
  const growth = rss.peak - rss.baseline;
  if (!(growth <= flags.limit)) problems.push(`peak RSS ${(growth / MiB).toFixed(1)} MB above the baseline (limit ${flags.limit / MiB})`);
  const seconds = received && started ? received.seconds : NaN;
  return {
    name: scenario.name,
    mib: (received?.bytes ?? 0) / MiB,
    seconds,
    rate: (received?.bytes ?? 0) / MiB / seconds,
    baseline: rss.baseline / MiB,
    peak: rss.peak / MiB,
    growth: growth / MiB,
    pongs: received && flags.pings ? `${received.pongs}/${received.pings}` : '-',
    intact,
    wireRatio: received && received.bytes ? received.wire / received.bytes : NaN,
    problems,
    pass: problems.length === 0,
  };
}

function printTable(rows) {
  const header = ['scenario', 'MiB', 's', 'MiB/s', 'wire/payload', 'base MB', 'peak MB', 'peak-base', 'pongs', 'intact', ''];
  const lines = rows.map((r) => [
    r.name,
    r.mib.toFixed(0),
    r.seconds.toFixed(1),
    r.rate.toFixed(1),
    r.wireRatio.toFixed(2),
    r.baseline.toFixed(1),
    r.peak.toFixed(1),
    `${r.growth >= 0 ? '+' : ''}${r.growth.toFixed(1)}`,
    r.pongs,
    r.intact ? 'yes' : 'NO',
    r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(format(header));
  for (const l of lines) console.log(format(l));
}

// ---------------------------------------------------------------------------

const HEAP_FLAGS = ['--expose-gc', '--min-semi-space-size=4', '--max-semi-space-size=4'];

/** Runs one scenario in a fresh child with the young generation fixed (see the top); resolves its row. */
function runInChild(scenario, state) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...HEAP_FLAGS, __filename, '--internal-scenario', scenario.name, ...process.argv.slice(2)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // NaN (a figure never measured) survives.
      serialization: 'advanced',
    });
    state.child = child;
    let row;
    child.on('message', (message) => (row = message));
    child.on('exit', (code, signal) => {
      state.child = undefined;
      resolve(row ?? {
        name: scenario.name, mib: 0, seconds: NaN, rate: NaN, wireRatio: NaN, baseline: NaN, peak: NaN, growth: NaN,
        pongs: '-', intact: false, problems: [`the scenario's process exited (${signal ?? code}) without a result`], pass: false,
      });
    });
  });
}

async function runScenario(lws, scenario, flags) {
  console.log(`${scenario.name}: ${scenario.lwscat ? 'lwscat --binary' : 'the README recipe'}, ${scenario.reader} reader` +
    `${scenario.deflate ? ', permessage-deflate' : ''}`);
  const r = scenario.lwscat ? await streamThroughLwscat(scenario, flags) : await streamInProcess(lws, scenario, flags);
  console.log(`${r.pass ? 'PASS' : 'FAIL'} ${r.name}: ${r.mib.toFixed(0)} MiB in ${r.seconds.toFixed(1)} s, ` +
    `RSS ${r.baseline.toFixed(1)} → peak ${r.peak.toFixed(1)} MB (${r.growth >= 0 ? '+' : ''}${r.growth.toFixed(1)}), pongs ${r.pongs}` +
    (r.problems.length ? ` — ${r.problems.join('; ')}` : ''));
  return r;
}

async function main() {
  const [role, config, ...rest] = process.argv.slice(2);
  if (role === '--internal-serve') return serve(JSON.parse(config));
  if (role === '--internal-generate') return generate(JSON.parse(config));
  const lwsOf = (flags) => require(path.join(flags.packageDir, 'dist'));
  if (role === '--internal-scenario') {
    const flags = parseFlags(rest);
    const row = await runScenario(lwsOf(flags), SCENARIOS.find((s) => s.name === config), flags);
    process.send(row, () => process.exit(0));
    return;
  }

  const flags = parseFlags(process.argv.slice(2));
  const fixedHeap = !process.argv.includes('--no-fixed-heap');
  if (!fixedHeap && typeof global.gc !== 'function') {
    console.error('soak-stream: run with node --expose-gc (npm run soak does)');
    process.exit(2);
  }
  const lws = lwsOf(flags);
  console.log(`soak-stream: libwebsockets ${lws.LWS_VERSION}, node ${process.version} ` +
    `${fixedHeap ? HEAP_FLAGS.join(' ') : process.execArgv.join(' ')}, package ${flags.packageDir}`);
  console.log(`soak-stream: ${flags.size / MiB} MiB per scenario in ${CHUNK / 1024} KiB chunks; slow reader ${flags.rate / MiB} MiB/s; ` +
    `pausing reader ${PAUSES} × ${PAUSE_MS / 1000} s; ` +
    (flags.pings ? `pings every ${PING_MS} ms but for the last ${(IN_FLIGHT / MiB).toFixed(0)} MiB; ` : 'no pings; ') +
    `limit ${flags.limit / MiB} MB above the baseline`);

  // Ctrl-C reaches the scenario's process too (same process group): stop
  // after it.
  const state = { child: undefined, interrupted: false };
  if (fixedHeap) process.on('SIGINT', () => (state.interrupted = true));
  const rows = [];
  for (const scenario of flags.scenarios) {
    if (state.interrupted) break;
    rows.push(fixedHeap ? await runInChild(scenario, state) : await runScenario(lws, scenario, flags));
  }
  console.log('');
  printTable(rows);
  const pass = !state.interrupted && rows.every((r) => r.pass);
  console.log(pass ? 'soak-stream: PASS (every stream intact, RSS bounded)' : 'soak-stream: FAIL');
  process.exit(pass ? 0 : 1);
}

main().catch((error) => {
  console.error(`soak-stream: ${error?.stack ?? error}`);
  process.exit(1);
});
