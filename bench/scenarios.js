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
 * The sequence every timed loop follows: a warm-up, the measured window (the
 * meter brackets it), then a drain until the echoes still due are back, so
 * that closing does not race them. `outstanding()` counts those echoes; the
 * loop calls `run.echoed()` after each one, and `missing()` says what was
 * still due if the drain times out. `run.done` resolves with the window.
 */
function timedRun(conn, meter, { warmupMs, durationMs }, { outstanding, missing }) {
  let resolveDone;
  let rejectDone;
  let drainTimer = null;
  const run = {
    phase: 'warmup', // then 'measure', then 'drain'
    window: null,
    done: new Promise((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    }),
    echoed() {
      if (run.phase === 'drain' && outstanding() === 0) finish();
    },
  };
  const finish = () => {
    clearTimeout(drainTimer);
    resolveDone(run.window);
  };
  conn.onend = (error) => rejectDone(error ?? new Error('the connection ended during the run'));
  setTimeout(() => {
    run.phase = 'measure';
    meter.start();
    setTimeout(() => {
      run.window = meter.stop();
      run.phase = 'drain';
      if (outstanding() === 0) return finish();
      drainTimer = setTimeout(() => rejectDone(new Error(missing())), DRAIN_MS);
    }, durationMs);
  }, warmupMs);
  return run;
}

/**
 * Keeps `inFlight` messages on the way: each echo that comes back sends the
 * next one, from inside the message callback. Counts the echoes (and their
 * bytes) that arrive within the measured window; with timeRoundTrips (and
 * one in flight) also each round trip's duration.
 */
async function echoLoop(conn, meter, options, { inFlight, send, timeRoundTrips = false }) {
  let outstanding = 0;
  let received = 0;
  let bytes = 0;
  let sentAt = 0n;
  const roundTripsNs = [];
  const run = timedRun(conn, meter, options, {
    outstanding: () => outstanding,
    missing: () => `${outstanding} of ${inFlight} echoes still missing ${DRAIN_MS} ms after the window (${received} arrived in it)`,
  });

  const sendOne = () => {
    outstanding++;
    if (timeRoundTrips) sentAt = process.hrtime.bigint();
    send(conn);
  };
  conn.onmessage = (data) => {
    outstanding--;
    if (run.phase === 'measure') {
      if (timeRoundTrips) roundTripsNs.push(Number(process.hrtime.bigint() - sentAt));
      received++;
      bytes += data.length;
    }
    if (run.phase !== 'drain') sendOne();
    else run.echoed();
  };
  for (let index = 0; index < inFlight; index++) sendOne();

  const window = await run.done;
  if (received === 0) throw new Error(`no echo came back during the ${options.durationMs} ms window`);
  return { window, received, bytes, roundTripsNs };
}

/**
 * Offers messages at a fixed rate, so that every client does the same work
 * per second and the CPU it spends on it can be compared. A token bucket,
 * topped up every 5 ms: a client that falls behind (a GC pause) may catch
 * up by a few ticks' worth, no more, and at most 1,000 messages are left in
 * flight, so one that cannot keep up shows a lower achieved rate.
 */
async function pacedLoop(conn, meter, options, { rate, send }) {
  const TICK_MS = 5;
  const MAX_BURST = (rate * TICK_MS * 4) / 1e3;
  const MAX_IN_FLIGHT = 1000;
  let outstanding = 0;
  let received = 0;
  let tokens = 0;
  let lastTick = process.hrtime.bigint();
  const run = timedRun(conn, meter, options, {
    outstanding: () => outstanding,
    missing: () => `${outstanding} echoes still missing ${DRAIN_MS} ms after the window`,
  });

  conn.onmessage = () => {
    outstanding--;
    if (run.phase === 'measure') received++;
    run.echoed();
  };
  const ticker = setInterval(() => {
    // Nothing more is offered once the window has closed.
    if (run.phase === 'drain') return clearInterval(ticker);
    const now = process.hrtime.bigint();
    tokens = Math.min(MAX_BURST, tokens + (Number(now - lastTick) / 1e9) * rate);
    lastTick = now;
    for (; tokens >= 1 && outstanding < MAX_IN_FLIGHT; tokens--) {
      outstanding++;
      send(conn);
    }
  }, TICK_MS);

  let window;
  try {
    window = await run.done;
  } finally {
    clearInterval(ticker);
  }
  if (received === 0) throw new Error(`no echo came back during the ${options.durationMs} ms window`);
  return { window, received };
}

/**
 * Opens `scale` idle connections, at most OPEN_WINDOW handshakes at a time
 * (so the server's listen backlog never overflows into SYN retries), and
 * measures how long that takes and how much RSS each connection adds.
 *
 * One connection stays open throughout, so state a library creates once (a
 * context, a vhost) is in the "before" RSS and not charged to the others.
 * Compiling the opening path and V8's heap growing while the first
 * connections open are charged to them, as to a service that starts (the
 * compiler's own code is already in: see worker.js): with --scale-warmup N,
 * N connections are opened and closed first, and the figures are the
 * marginal cost of a connection in a warm process instead.
 */
async function openMany(client, meter, options) {
  const { url, scale, scaleWarmup } = options;
  const notes = [];
  const keeper = await open(client, options, false);
  if (scaleWarmup) {
    const warmup = await openWindowed(client, url, scaleWarmup);
    const closing = await closeAll(warmup);
    if (closing) notes.push(`warm-up: ${closing}`);
  }
  gc();
  const rssBefore = process.memoryUsage().rss;

  meter.start();
  const conns = await openWindowed(client, url, scale);
  const window = meter.stop();

  gc();
  const rssAfter = process.memoryUsage().rss;

  // Not measured, but a close that does not finish is worth knowing.
  const closing = await closeAll([keeper, ...conns]);
  if (closing) notes.push(closing);
  return {
    window,
    notes,
    metrics: { openMs: window.seconds * 1e3, rssPerConn: (rssAfter - rssBefore) / 1024 / scale },
  };
}

/** Opens `count` connections, OPEN_WINDOW handshakes at a time. */
async function openWindowed(client, url, count) {
  const conns = [];
  let next = 0;
  const opener = async () => {
    while (next < count) {
      next++;
      conns.push(await client.open(url('/echo'), { deflate: false }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_WINDOW, count) }, opener));
  return conns;
}

/** Closes every connection; says how many had not closed after 30 s, or ''. */
async function closeAll(conns) {
  const CLOSE_MS = 30_000;
  let closed = 0;
  const all = Promise.all(conns.map((conn) => conn.close().then(() => closed++)));
  const timedOut = await Promise.race([all.then(() => false), new Promise((r) => setTimeout(r, CLOSE_MS, true).unref())]);
  return timedOut ? `${conns.length - closed} of ${conns.length} connections had not closed ${CLOSE_MS} ms after close()` : '';
}

module.exports = { scenarios, byName: Object.fromEntries(scenarios.map((s) => [s.name, s])) };
