'use strict';
// The benchmark scenarios. Each runs inside a worker process (worker.js)
// with one client adapter (clients/*.js) and returns its metrics; `metrics`
// describes them for the report (`better` says which direction wins).
//
// Every timed scenario runs a warm-up first (JIT, buffers, TCP windows) and
// then measures a fixed window; the meter brackets only that window.
const payloads = require('./payloads');
const { quantileSorted } = require('./stats');

const SMALL = payloads.smallText();
const LARGE = payloads.binary(1 << 20);
const JSON_TEXTS = payloads.jsonTexts(16, 16 << 10);
// How long the messages still in flight after the window may take to come back.
const DRAIN_MS = 10_000;
// Handshakes in progress at once in the scale scenario (see openMany).
const OPEN_WINDOW = 256;

/**
 * Opens a connection and checks what the handshake settled: compressed
 * exactly when the scenario wants it, or the clients would not be doing the
 * same work. (The server only accepts deflate on /deflate.)
 */
async function open(client, options, deflate) {
  const conn = await client.open(options.url(deflate ? '/deflate' : '/echo'), { deflate });
  const compressed = /permessage-deflate/.test(conn.extensions);
  if (compressed !== deflate) {
    await conn.close();
    throw new Error(`expected ${deflate ? 'permessage-deflate' : 'no extension'}, negotiated '${conn.extensions}'`);
  }
  return conn;
}

const scenarios = [
  {
    name: 'latency',
    summary: '64 B text, one round trip at a time',
    metrics: [
      { key: 'rate', label: 'round trips/s', better: 'higher' },
      { key: 'p50', label: 'p50 µs', better: 'lower' },
      { key: 'p99', label: 'p99 µs', better: 'lower' },
    ],
    async run(client, options, meter) {
      const conn = await open(client, options, false);
      const result = await echoLoop(conn, meter, options, { inFlight: 1, send: (c) => c.sendText(SMALL), timeRoundTrips: true });
      await conn.close();
      // A typed array sorts numerically (an Array would sort as strings).
      const rtts = Float64Array.from(result.roundTripsNs).sort();
      return {
        window: result.window,
        metrics: {
          rate: result.received / result.window.seconds,
          p50: quantileSorted(rtts, 0.5) / 1e3,
          p99: quantileSorted(rtts, 0.99) / 1e3,
        },
      };
    },
  },
  {
    name: 'small',
    summary: '64 B text, 100 in flight',
    metrics: [{ key: 'rate', label: 'messages/s', better: 'higher' }],
    async run(client, options, meter) {
      const conn = await open(client, options, false);
      const result = await echoLoop(conn, meter, options, { inFlight: 100, send: (c) => c.sendText(SMALL) });
      await conn.close();
      return { window: result.window, metrics: { rate: result.received / result.window.seconds } };
    },
  },
  {
    name: 'large',
    summary: '1 MiB binary, 4 in flight',
    metrics: [{ key: 'throughput', label: 'MB/s echoed', better: 'higher' }],
    async run(client, options, meter) {
      const conn = await open(client, options, false);
      const result = await echoLoop(conn, meter, options, { inFlight: 4, send: (c) => c.sendBinary(LARGE) });
      await conn.close();
      return { window: result.window, metrics: { throughput: result.bytes / 1e6 / result.window.seconds } };
    },
  },
  {
    name: 'deflate',
    summary: '16 KiB JSON text, permessage-deflate, 10 in flight',
    deflate: true,
    metrics: [
      { key: 'rate', label: 'messages/s', better: 'higher' },
      { key: 'cpuPer10k', label: 'client CPU s / 10k msgs', better: 'lower' },
    ],
    async run(client, options, meter) {
      const conn = await open(client, options, true);
      let next = 0;
      const send = (c) => c.sendText(JSON_TEXTS[next++ % JSON_TEXTS.length]);
      const result = await echoLoop(conn, meter, options, { inFlight: 10, send });
      await conn.close();
      const { seconds, clientCpuSeconds } = result.window;
      return { window: result.window, metrics: { rate: result.received / seconds, cpuPer10k: (clientCpuSeconds / result.received) * 1e4 } };
    },
  },
  {
    name: 'cost',
    summary: '64 B text at a fixed offered rate',
    metrics: [
      { key: 'cpuPer100k', label: 'client CPU s / 100k msgs', better: 'lower' },
      { key: 'rate', label: 'achieved messages/s', better: 'higher' },
    ],
    async run(client, options, meter) {
      const conn = await open(client, options, false);
      const result = await pacedLoop(conn, meter, options, { rate: options.rate, send: (c) => c.sendText(SMALL) });
      await conn.close();
      const { seconds, clientCpuSeconds } = result.window;
      return { window: result.window, metrics: { cpuPer100k: (clientCpuSeconds / result.received) * 1e5, rate: result.received / seconds } };
    },
  },
  {
    name: 'scale',
    summary: `idle connections, up to ${OPEN_WINDOW} handshakes at a time`,
    // The count is only known at run time (--scale); the report fills it in.
    metrics: [
      { key: 'openMs', label: 'ms to open {scale}', better: 'lower' },
      { key: 'rssPerConn', label: 'RSS KiB / connection', better: 'lower' },
    ],
    async run(client, options, meter) {
      return openMany(client, meter, options);
    },
  },
];

/**
 * Keeps `inFlight` messages on the way: each echo that comes back sends the
 * next one, from inside the message callback. Counts the echoes (and their
 * bytes) that arrive within the measured window; with timeRoundTrips (and
 * one in flight) also each round trip's duration.
 */
function echoLoop(conn, meter, { warmupMs, durationMs }, { inFlight, send, timeRoundTrips = false }) {
  return new Promise((resolve, reject) => {
    let phase = 'warmup'; // then 'measure', then 'drain'
    let outstanding = 0;
    let received = 0;
    let bytes = 0;
    let sentAt = 0n;
    const roundTripsNs = [];
    let window = null;
    let drainTimer = null;

    const sendOne = () => {
      outstanding++;
      if (timeRoundTrips) sentAt = process.hrtime.bigint();
      send(conn);
    };
    const finish = () => {
      clearTimeout(drainTimer);
      if (received === 0) reject(new Error(`no echo came back during the ${durationMs} ms window`));
      else resolve({ window, received, bytes, roundTripsNs });
    };
    conn.onend = (error) => reject(error ?? new Error('the connection ended during the run'));
    conn.onmessage = (data) => {
      outstanding--;
      if (phase === 'measure') {
        if (timeRoundTrips) roundTripsNs.push(Number(process.hrtime.bigint() - sentAt));
        received++;
        bytes += data.length;
      }
      if (phase !== 'drain') sendOne();
      else if (outstanding === 0) finish();
    };

    for (let index = 0; index < inFlight; index++) sendOne();
    setTimeout(() => {
      phase = 'measure';
      meter.start();
      setTimeout(() => {
        window = meter.stop();
        phase = 'drain';
        if (outstanding === 0) return finish();
        // Closing with echoes still due would race them against the close.
        drainTimer = setTimeout(
          () => reject(new Error(`${outstanding} of ${inFlight} echoes still missing ${DRAIN_MS} ms after the window (${received} arrived in it)`)),
          DRAIN_MS,
        );
      }, durationMs);
    }, warmupMs);
  });
}

/**
 * Offers messages at a fixed rate, so that every client does the same work
 * per second and the CPU it spends on it can be compared. A token bucket,
 * topped up every 5 ms: a client that falls behind (a GC pause) may catch
 * up by a few ticks' worth, no more, and at most 1,000 messages are left in
 * flight, so one that cannot keep up shows a lower achieved rate.
 */
function pacedLoop(conn, meter, { warmupMs, durationMs }, { rate, send }) {
  const TICK_MS = 5;
  const MAX_BURST = (rate * TICK_MS * 4) / 1e3;
  const MAX_IN_FLIGHT = 1000;
  return new Promise((resolve, reject) => {
    let phase = 'warmup';
    let outstanding = 0;
    let received = 0;
    let window = null;
    let drainTimer = null;
    let tokens = 0;
    let lastTick = process.hrtime.bigint();

    const finish = () => {
      clearInterval(ticker);
      clearTimeout(drainTimer);
      if (received === 0) reject(new Error(`no echo came back during the ${durationMs} ms window`));
      else resolve({ window, received });
    };
    conn.onend = (error) => reject(error ?? new Error('the connection ended during the run'));
    conn.onmessage = () => {
      outstanding--;
      if (phase === 'measure') received++;
      if (phase === 'drain' && outstanding === 0) finish();
    };
    const ticker = setInterval(() => {
      const now = process.hrtime.bigint();
      tokens = Math.min(MAX_BURST, tokens + (Number(now - lastTick) / 1e9) * rate);
      lastTick = now;
      for (; tokens >= 1 && outstanding < MAX_IN_FLIGHT; tokens--) {
        outstanding++;
        send(conn);
      }
    }, TICK_MS);
    setTimeout(() => {
      phase = 'measure';
      meter.start();
      setTimeout(() => {
        window = meter.stop();
        phase = 'drain';
        clearInterval(ticker);
        if (outstanding === 0) return finish();
        drainTimer = setTimeout(() => reject(new Error(`${outstanding} echoes still missing ${DRAIN_MS} ms after the window`)), DRAIN_MS);
      }, durationMs);
    }, warmupMs);
  });
}

/**
 * Opens `scale` idle connections, at most OPEN_WINDOW handshakes at a time
 * (so the server's listen backlog never overflows into SYN retries), and
 * measures how long that takes and how much RSS each connection adds. One
 * connection stays open throughout, so state a library creates once (a
 * context, a vhost) is in the "before" RSS and not charged to the others.
 */
async function openMany(client, meter, options) {
  const { url, scale } = options;
  const notes = [];
  const keeper = await open(client, options, false);
  const conns = [];
  gc();
  const rssBefore = process.memoryUsage().rss;

  meter.start();
  let next = 0;
  const opener = async () => {
    while (next < scale) {
      next++;
      conns.push(await client.open(url('/echo'), { deflate: false }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_WINDOW, scale) }, opener));
  const window = meter.stop();

  gc();
  const rssAfter = process.memoryUsage().rss;

  // Not measured, but a close that does not finish is worth knowing.
  const CLOSE_MS = 30_000;
  let closed = 0;
  const all = Promise.all([keeper, ...conns].map((conn) => conn.close().then(() => closed++)));
  const timedOut = await Promise.race([all.then(() => false), new Promise((r) => setTimeout(r, CLOSE_MS, true).unref())]);
  if (timedOut) notes.push(`${scale + 1 - closed} of ${scale + 1} connections had not closed ${CLOSE_MS} ms after close()`);
  return {
    window,
    notes,
    metrics: { openMs: window.seconds * 1e3, rssPerConn: (rssAfter - rssBefore) / 1024 / scale },
  };
}

module.exports = { scenarios, byName: Object.fromEntries(scenarios.map((s) => [s.name, s])) };
