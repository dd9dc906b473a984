/**
 * Lifetimes (issue #6, part 3): a Courier used after its connection ended,
 * connections that lose every JS reference (open: they must go on; closed:
 * they must be collected), process.exit() and worker termination with
 * connections open, exceptions from every user callback, and pause handles
 * that are never resumed. Whatever can crash, hang or leak a process runs in
 * a child process (spawnNode, the compiled package from dist/) or a worker,
 * so that a failure shows as an exit code and stderr rather than taking jest
 * down. Real peers on 127.0.0.1 with OS-chosen ports; every wait is on an
 * event, a promise or a bounded count of event-loop turns.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { ServerOptions, WebSocket } from 'ws';
import { connect, ConnectionClosed, ConnectionFailed, WebSocketClose, X, type ConnectOptions } from '../lib';
import { echoOnce, openClient as open, rejectionOf, startClient } from './helpers/client';
import { nodeChild, notFoundServer, onCleanup, rawServer, runCleanups, worker, wsServer } from './helpers/per_test';
import { closePayload, frame, OP } from './helpers/raw_server';
import { echo } from './helpers/servers';
import { closeSeen, DIST, nextMessage } from './helpers/tools';
import { turns, turnsUntil } from './helpers/turns';

// ---------------------------------------------------------------------------
// Cleanup: every server, child and worker a test starts is ended after it,
// pass or fail.

afterEach(runCleanups);

/** A `ws` server whose handler also gets the request (its path picks the behaviour). */
async function routedServer(onConnection: (socket: WebSocket, req: IncomingMessage) => void, options: Omit<ServerOptions, 'port' | 'host'> = {}) {
  const server = await wsServer(undefined, options);
  server.server.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    socket.on('error', () => {});
    onConnection(socket, req);
  });
  return server;
}


function expectClosedError(run: () => unknown, pattern: RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  // A class to test with instanceof, and the same code as ever.
  expect(thrown).toBeInstanceOf(ConnectionClosed);
  expect(thrown).toBeInstanceOf(X.Base);
  expect(thrown).toMatchObject({ name: 'ConnectionClosed', code: 'ERR_LWS_CLOSED' });
  expect((thrown as Error).message).toMatch(pattern);
}

const MiB = 1024 * 1024;
// binding/connection.cc kCloseAckSeconds: how long the server gets to answer our close frame.
const CLOSE_ACK_TIMEOUT_MS = 5000;

// ---------------------------------------------------------------------------

describe('a Courier after the end', () => {
  test('after close(): send_text and send_binary throw ERR_LWS_CLOSED; close() again returns the same promise and changes nothing', async () => {
    const server = await wsServer(echo);
    const connection = server.nextConnection();
    const { ready, done } = open(server.url);
    const courier = await ready;
    const seen = closeSeen(await connection);

    const first = courier.close(1000, 'first');
    expect(first).toBe(done);
    // While closing…
    expectClosedError(() => courier.send_text('late'), /send_text\(\)/);
    expectClosedError(() => courier.send_binary(Buffer.from('late')), /send_binary\(\)/);
    expect(courier.close(4000, 'second')).toBe(done);
    expect(courier.close()).toBe(done);

    await expect(done).resolves.toEqual([1000, 'first']);
    await expect(seen).resolves.toEqual([1000, 'first']);
    // …and once closed.
    expectClosedError(() => courier.send_text('later'), /send_text\(\)/);
    expectClosedError(() => courier.send_binary(new Uint8Array(4)), /send_binary\(\)/);
    expect(courier.close(1000, 'third')).toBe(done);
    await expect(courier.close()).resolves.toEqual([1000, 'first']);
    // Argument checks still apply.
    expect(() => courier.close(999)).toThrow(RangeError);
    // Type errors come before the state check.
    expect(() => courier.send_text(42 as never)).toThrow(TypeError);
    // Nothing queued: drained() resolves; pause() still hands out a working handle.
    await expect(courier.drained()).resolves.toBeUndefined();
    const handle = courier.pause();
    expect(() => handle.resume()).not.toThrow();
    expect(courier.buffered_amount).toBe(0);
  });

  test('after the server closed: send_* throw ERR_LWS_CLOSED and close() returns the settled promise', async () => {
    const server = await wsServer((socket) => socket.close(4321, 'server done'));
    const { ready, done } = open(server.url);
    const courier = await ready;

    const error = await rejectionOf(done);
    expect(error).toBeInstanceOf(WebSocketClose);

    expectClosedError(() => courier.send_text('late'), /closed/);
    expectClosedError(() => courier.send_binary(new ArrayBuffer(1)), /closed/);
    const again = courier.close(1000);
    expect(again).toBe(done);
    await expect(again).rejects.toBe(error);
  });

  test('after the connection failed (server dropped TCP): the same', async () => {
    const server = await wsServer((socket) => socket.once('message', () => socket.terminate()));
    const { ready, done } = open(server.url);
    const courier = await ready;
    courier.send_text('hang up');

    const error = await rejectionOf(done);
    expect(error).toBeInstanceOf(ConnectionFailed);

    expectClosedError(() => courier.send_text('late'), /closed/);
    expect(courier.close(1000)).toBe(done);
    await expect(courier.close()).rejects.toBe(error);
  });
});

describe('garbage collection (children run with --expose-gc)', () => {
  // Nothing keeps the connection but the connection itself: no variable
  // holds the Courier, and on_ready's closure is gone once it returned.
  const UNREFERENCED_OPEN = `
    const { connect } = require(process.env.LWS_DIST);
    const registry = new FinalizationRegistry((what) => console.log('collected ' + what));
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    async function collectGarbage() {
      for (let i = 0; i < 10; i++) {
        gc();
        await turn();
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      console.log('garbage collected');
    }
    connect({
      url: process.argv[1],
      on_ready(courier) {
        registry.register(courier, 'courier');
        courier.on_text((c, text) => {
          console.log('got ' + text);
          c.send_text('ack ' + text);
        });
        console.log('open');
        setImmediate(collectGarbage);
      },
    }).then(
      (result) => console.log('closed ' + JSON.stringify(result)),
      (error) => { console.log('failed ' + error); process.exitCode = 2; },
    );
  `;

  test('an open connection no JS variable refers to survives gc(): its listener still hears the server, which can then close it', async () => {
    const server = await wsServer();
    const connection = server.nextConnection();
    const child = nodeChild(UNREFERENCED_OPEN, [server.url], ['--expose-gc']);
    const socket = await connection;

    await child.waitForLine((line) => line === 'garbage collected');
    const ack = nextMessage(socket);
    socket.send('after gc');
    expect(String((await ack).data)).toBe('ack after gc');
    socket.close(1000, 'server done');
    const { code, signal } = await child.exited;

    expect({ code, signal, stderr: child.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
    // The Courier was never collected while the connection was open.
    const closedAt = child.lines.indexOf('closed [1000,"server done"]');
    expect(closedAt).toBeGreaterThan(0);
    expect(child.lines.slice(0, closedAt)).toEqual(['open', 'garbage collected', 'got after gc']);
  });

  // One connection per way of ending; a WeakRef to each Courier (and to a
  // control object) once it is over and nothing refers to it; then gc() in
  // a bounded loop with turns of the event loop between.
  const COLLECTED_AFTER_END = `
    const { connect } = require(process.env.LWS_DIST);
    const base = process.argv[1];
    const modes = process.argv.slice(2);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    async function run(mode) {
      let ref;
      const done = connect({
        url: base + '/' + mode,
        on_ready(courier) {
          ref = new WeakRef(courier);
          courier.on_text(() => {});
          if (mode === 'client-close') courier.close(1000, 'bye');
          if (mode === 'paused-client-close') { courier.pause(); courier.close(1000, 'bye'); }
          if (mode === 'on-ready-throws') throw new Error('on_ready boom');
          if (mode === 'queued-server-drop') for (let i = 0; i < 16; i++) courier.send_binary(Buffer.alloc(1 << 20));
        },
      });
      const outcome = await done.then((result) => 'resolved ' + JSON.stringify(result), (error) => 'rejected ' + error.name);
      return { ref, outcome };
    }
    (async () => {
      const runs = {};
      for (const mode of modes) runs[mode] = await run(mode);
      const control = { ref: new WeakRef({ control: true }), outcome: '' };
      runs.control = control;
      // deref() keeps its target alive until the current job ends (WeakRef
      // semantics), so gc() runs in a macrotask of its own and the check in
      // the next one.
      const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
      const anyAlive = () => Object.values(runs).some((r) => r.ref && r.ref.deref() !== undefined);
      for (let rounds = 0; rounds < 10; rounds++) {
        await macrotask();
        gc();
        await turn();
        await macrotask();
        if (!anyAlive()) break;
      }
      const report = {};
      for (const [mode, r] of Object.entries(runs))
        report[mode] = { outcome: r.outcome, courier: r.ref === undefined ? 'none' : r.ref.deref() === undefined ? 'collected' : 'alive' };
      console.log(JSON.stringify(report));
    })();
  `;

  /** Runs COLLECTED_AFTER_END for `modes` against `url` and, once it exited cleanly, gives its report. */
  async function collectedReport(url: string, modes: string[]): Promise<Record<string, { outcome: string; courier: string }>> {
    const child = nodeChild(COLLECTED_AFTER_END, [url, ...modes], ['--expose-gc']);
    const { code, signal } = await child.exited;
    expect({ code, signal, stderr: child.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
    return JSON.parse(child.lines[0] ?? '{}') as Record<string, { outcome: string; courier: string }>;
  }

  test('a connection that is over is collected: a WeakRef to its Courier clears, however it ended', async () => {
    const modes = ['client-close', 'server-close', 'server-drop', 'on-ready-throws', 'queued-server-drop'];
    const server = await routedServer((socket, req) => {
      if (req.url === '/server-close') socket.close(1000, 'server done');
      if (req.url === '/server-drop' || req.url === '/queued-server-drop') {
        (socket as unknown as { _socket: net.Socket })._socket.pause();
        setImmediate(() => socket.terminate());
      }
    });

    const report = await collectedReport(server.url, modes);
    expect(report).toEqual({
      'client-close': { outcome: 'resolved [1000,"bye"]', courier: 'collected' },
      'server-close': { outcome: 'resolved [1000,"server done"]', courier: 'collected' },
      'server-drop': { outcome: 'rejected ConnectionFailed', courier: 'collected' },
      'on-ready-throws': { outcome: 'rejected Error', courier: 'collected' },
      'queued-server-drop': { outcome: 'rejected ConnectionFailed', courier: 'collected' },
      control: { outcome: '', courier: 'collected' },
    });
  });

  test('a pause handle that is never resumed: the promise settles, and the Courier is still collected', async () => {
    const modes = ['paused-client-close'];
    const server = await routedServer(() => undefined);

    const report = await collectedReport(server.url, modes);
    expect(report).toEqual({
      'paused-client-close': { outcome: 'resolved [1000,"bye"]', courier: 'collected' },
      control: { outcome: '', courier: 'collected' },
    });
  });
});

describe('a pause handle that is never resumed', () => {
  test('close() while paused: the promise resolves and the server sees the close', async () => {
    const server = await wsServer();
    const connection = server.nextConnection();
    const { ready, done } = open(server.url);
    const courier = await ready;
    const seen = closeSeen(await connection);

    courier.pause();
    const started = performance.now();
    courier.close(1000, 'paused bye');

    await expect(seen).resolves.toEqual([1000, 'paused bye']);
    await expect(done).resolves.toEqual([1000, 'paused bye']);
    // The server answered at once; the closing handshake must not wait out
    // the 5 s close-ack timeout because a pause kept the answer unread.
    expect(performance.now() - started).toBeLessThan(CLOSE_ACK_TIMEOUT_MS / 2);
  });

  test('close() while paused with messages held: the promise resolves, and the held messages are delivered at the end', async () => {
    const server = await wsServer((socket) => {
      socket.send('one');
      socket.send('two');
    });
    const connection = server.nextConnection();
    const delivered: string[] = [];
    const { ready, done } = open(server.url, {}, (courier) => {
      courier.pause();
      courier.on_text((_c, text) => delivered.push(text));
    });
    const courier = await ready;
    const socket = await connection;
    const seen = closeSeen(socket);

    const started = performance.now();
    courier.close(1000, 'held');

    await expect(done).resolves.toEqual([1000, 'held']);
    await expect(seen).resolves.toEqual([1000, 'held']);
    expect(performance.now() - started).toBeLessThan(CLOSE_ACK_TIMEOUT_MS / 2);
    // Delivered by the end, in order, whatever had arrived before the close.
    expect(['one', 'two'].slice(0, delivered.length)).toEqual(delivered);
  });

  test('the server closes (close frame, then FIN) while the client is paused: the promise settles', async () => {
    const server = await rawServer();
    const { ready, done } = open(server.url);
    const peer = await server.nextPeer();
    const courier = await ready;
    const handle = courier.pause();
    // Should this test fail, the client must not stay paused on a dead socket.
    onCleanup(() => handle.resume());
    await turns(2);

    peer.send(frame({ opcode: OP.CLOSE, payload: closePayload(1000, 'server leaving') }));
    peer.socket.end();

    // The pause holds messages back, not the end of the connection: the
    // server has finished with it (close frame and FIN), so the client reads
    // what is left, answers the close and settles with the server's code.
    await expect(done).resolves.toEqual([1000, 'server leaving']);
    const clientClose = await peer.clientClose;
    expect(clientClose).toMatchObject({ frame: true, code: 1000 });
  });

  test('the server resets while the client is paused: rejects ConnectionFailed', async () => {
    const server = await wsServer();
    const connection = server.nextConnection();
    const { ready, done } = open(server.url);
    const courier = await ready;
    const socket = await connection;
    const handle = courier.pause();
    onCleanup(() => handle.resume());
    await turns(2);

    (socket as unknown as { _socket: net.Socket })._socket.resetAndDestroy();

    expect(await rejectionOf(done)).toBeInstanceOf(ConnectionFailed);
  });
});

describe('process.exit() with connections open (child processes)', () => {
  // Each mode ends the child with process.exit(7) at a different moment of
  // a connection's life; 'exit 7' from an 'exit' listener shows the exit
  // ran normally (no abort, no signal, nothing on stderr).
  const EXIT_WITH_OPEN = `
    const { connect } = require(process.env.LWS_DIST);
    const [base, mode] = process.argv.slice(1);
    const url = base + '/' + mode;
    process.on('exit', (code) => console.log('exit ' + code));
    const exit = () => process.exit(7);
    const later = (turns, then) => (turns === 0 ? then() : setImmediate(() => later(turns - 1, then)));
    const quiet = (promise) => promise.catch(() => {});
    switch (mode) {
      case 'connecting':
        quiet(connect({ url, on_ready() {} }));
        exit();
        break;
      case 'resolving':
        quiet(connect({ url: url.replace('127.0.0.1', 'lws-test.invalid'), on_ready() {},
          lookup(host, options, callback) { callback(null, [{ address: '127.0.0.1', family: 4 }]); exit(); } }));
        break;
      case 'in-on-ready':
        quiet(connect({ url, on_ready() { exit(); } }));
        break;
      case 'after-open':
        quiet(connect({ url, on_ready() { setImmediate(exit); } }));
        break;
      case 'in-listener':
        quiet(connect({ url, on_ready(c) { c.on_text(() => exit()); } }));
        break;
      case 'queued':
        quiet(connect({ url, on_ready(c) { c.send_binary(Buffer.alloc(16 << 20, 1)); c.send_text('after'); setImmediate(exit); } }));
        break;
      case 'queued-deflate':
        quiet(connect({ url, on_ready(c) { c.send_binary(require('crypto').randomBytes(16 << 20)); later(3, exit); } }));
        break;
      case 'paused':
        quiet(connect({ url, on_ready(c) { c.pause(); c.on_binary(() => {}); later(50, exit); } }));
        break;
      case 'closing':
        quiet(connect({ url, on_ready(c) { c.send_text('last words'); c.close(1000, 'leaving'); exit(); } }));
        break;
      case 'many': {
        let open = 0;
        for (let i = 0; i < 20; i++) quiet(connect({ url, on_ready() { if (++open === 20) exit(); } }));
        break;
      }
    }
  `;

  const MODES = ['connecting', 'resolving', 'in-on-ready', 'after-open', 'in-listener', 'queued', 'queued-deflate', 'paused', 'closing', 'many'];

  test.each(MODES)('%s: exits with the code given, no crash, no hang', async (mode) => {
    const server = await routedServer(
      (socket, req) => {
        if (req.url === '/in-listener') socket.send('exit now');
        if (req.url === '/paused') for (let i = 0; i < 32; i++) socket.send(Buffer.alloc(MiB, i));
      },
      { perMessageDeflate: mode === 'queued-deflate', maxPayload: 64 * MiB },
    );

    const child = nodeChild(EXIT_WITH_OPEN, [server.url, mode]);
    const { code, signal } = await child.exited;

    expect({ code, signal, stderr: child.stderr(), lines: child.lines }).toEqual({ code: 7, signal: null, stderr: '', lines: ['exit 7'] });
  });

  test('an uncaught exception with connections open ends the process with code 1 and the error, nothing worse', async () => {
    const server = await wsServer();
    const script = `
      const { connect } = require(process.env.LWS_DIST);
      connect({ url: process.argv[1], on_ready(c) { c.send_binary(Buffer.alloc(4 << 20)); setImmediate(() => { throw new Error('unrelated boom'); }); } }).catch(() => {});
    `;
    const child = nodeChild(script, [server.url]);
    const { code, signal } = await child.exited;

    expect({ code, signal }).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toContain('unrelated boom');
    expect(child.stderr()).not.toMatch(/Segmentation|Assertion|FATAL|Aborted|core dumped/i);
  });
});

describe('worker threads terminated with connections busy', () => {
  // The worker reports once it is in the state to be interrupted; the
  // parent then terminates it.
  const BUSY_WORKER = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { connect } = require(workerData.dist);
    const { mode, url } = workerData;
    connect({
      url,
      on_ready(courier) {
        courier.on_binary(() => {});
        courier.on_text(() => {});
        if (mode === 'sending' || mode === 'sending-deflate') {
          const payload = Buffer.alloc(16 << 20);
          for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE((i * 2654435761) >>> 0, i);
          courier.send_binary(payload);
          parentPort.postMessage({ state: 'sending', buffered: courier.buffered_amount, extensions: courier.extensions });
        } else if (mode === 'paused') {
          courier.pause();
          parentPort.postMessage({ state: 'paused' });
        } else if (mode === 'exit-in-listener') {
          courier.on_text(() => process.exit(0));
          parentPort.postMessage({ state: 'open' });
        }
      },
    }).catch(() => {});
  `;

  async function terminateBusy(mode: string, serverOptions: Omit<ServerOptions, 'port' | 'host'>, serverSide: (socket: WebSocket) => void = () => {}) {
    const received: number[] = [];
    const server = await wsServer(
      (socket) => {
        // Binary messages are counted; text is echoed (for echoOnce).
        socket.on('message', (data: Buffer, isBinary) => (isBinary ? received.push(data.length) : socket.send(data, { binary: false })));
        socket.on('error', () => {});
        serverSide(socket);
      },
      { maxPayload: 64 * MiB, ...serverOptions },
    );
    const connection = server.nextConnection();
    const thread = worker(BUSY_WORKER, { dist: DIST, url: server.url, mode });
    const [[report], socket] = await Promise.all([once(thread, 'message'), connection]);
    const seen = closeSeen(socket);
    return { server, thread, report: report as { state: string; buffered?: number; extensions?: string }, socket, seen, received };
  }

  /**
   * Terminates the worker: the server sees its socket go (1001 or 1006),
   * every message it received is whole, and this process's addon still works.
   */
  async function expectTerminatedCleanly({ server, thread, seen, received }: Awaited<ReturnType<typeof terminateBusy>>) {
    expect(await thread.terminate()).toBe(1);
    const [code] = await seen;
    expect([1001, 1006]).toContain(code);
    // Either the whole message arrived or none of it (never a truncated one).
    expect(received.every((length) => length === 16 * MiB)).toBe(true);
    expect(await echoOnce(server.url, 'parent still fine')).toEqual({ reply: 'parent still fine', result: [1000, 'echoed'] });
  }

  test('while a 16 MiB message is being sent: the worker ends, the server sees the socket go, the parent carries on', async () => {
    const run = await terminateBusy('sending', { perMessageDeflate: false });
    expect(run.report).toMatchObject({ state: 'sending', buffered: 16 * MiB });
    await expectTerminatedCleanly(run);
  });

  test('while a 16 MiB message is being deflated and sent: the same', async () => {
    const run = await terminateBusy('sending-deflate', { perMessageDeflate: true, maxFragments: 0 });
    expect(run.report.state).toBe('sending');
    expect(run.report.extensions).toMatch(/^permessage-deflate/);
    await expectTerminatedCleanly(run);
  });

  test('while paused with the server pushing data at it: the same', async () => {
    let sent = 0;
    const run = await terminateBusy('paused', { perMessageDeflate: false });
    const { report, socket } = run;
    expect(report.state).toBe('paused');
    // Fill the path until TCP pushes back: the worker is not reading.
    const pump = () => {
      if (socket.readyState !== socket.OPEN || sent >= 256) return;
      sent++;
      socket.send(Buffer.alloc(256 * 1024, sent), pump);
    };
    pump();
    await turnsUntil(() => socket.bufferedAmount > 0 && sent > 4, 100_000, 'the server being held back by the paused worker');
    await expectTerminatedCleanly(run);
  });

  test('process.exit(0) inside a listener ends only the worker, with code 0', async () => {
    const { server, thread, report, socket, seen } = await terminateBusy('exit-in-listener', { perMessageDeflate: false });
    expect(report.state).toBe('open');
    const exited = once(thread, 'exit');

    socket.send('exit please');

    const [exitCode] = (await exited) as [number];
    expect(exitCode).toBe(0);
    const [code] = await seen;
    expect([1001, 1006]).toContain(code);
    expect(await echoOnce(server.url, 'parent still fine')).toEqual({ reply: 'parent still fine', result: [1000, 'echoed'] });
  });
});

describe('exceptions from user callbacks', () => {
  // In a child: process warnings and uncaught exceptions are seen as a
  // user's program sees them (jest gives each test file its own `process`).
  const REPORTER = `
    process.on('warning', (w) => console.log('warning ' + w.code + ' ' + w.message.split('\\n')[0]));
    process.on('uncaughtException', (e) => { console.log('uncaught ' + (e && e.message)); process.exitCode = 3; });
    process.on('unhandledRejection', (e) => { console.log('unhandled ' + (e && e.message)); process.exitCode = 4; });
  `;

  test('on_ready throwing: connect() rejects with exactly that value, the server sees 1011, nothing is uncaught', async () => {
    const server = await wsServer();
    const connection = server.nextConnection();
    const script = `${REPORTER}
      const { connect } = require(process.env.LWS_DIST);
      const thrown = new Error('ready boom');
      connect({ url: process.argv[1], on_ready() { throw thrown; } }).then(
        (result) => console.log('resolved ' + JSON.stringify(result)),
        (error) => console.log('rejected ' + (error === thrown)),
      );
    `;
    const child = nodeChild(script, [server.url]);
    const seen = closeSeen(await connection);
    const { code } = await child.exited;

    expect({ code, lines: child.lines, stderr: child.stderr() }).toEqual({ code: 0, lines: ['rejected true'], stderr: '' });
    const [closeCode] = await seen;
    expect(closeCode).toBe(1011);
  });

  test('on_ready calling close(1000) and then throwing: rejects with the thrown value; the close it asked for stands', async () => {
    const server = await wsServer();
    const connection = server.nextConnection();
    const thrown = new Error('after close');
    const done = connect({
      url: server.url,
      on_ready(courier) {
        courier.close(1000, 'asked');
        throw thrown;
      },
    });
    const seen = closeSeen(await connection);

    expect(await rejectionOf(done)).toBe(thrown);
    await expect(seen).resolves.toEqual([1000, 'asked']);
  });

  test('on_text and on_binary throwing values that are not Errors (null-prototype object, Symbol, undefined): warnings, and the connection goes on', async () => {
    const server = await wsServer((socket) => {
      socket.send('text');
      socket.send(Buffer.from('binary'));
      socket.send('again');
      echo(socket);
    });
    const script = `${REPORTER}
      const { connect } = require(process.env.LWS_DIST);
      let texts = 0;
      connect({
        url: process.argv[1],
        on_ready(courier) {
          courier.on_text((c, text) => {
            texts++;
            if (text === 'text') throw Object.create(null);
            if (text === 'again') throw undefined;
            if (text === 'echo') c.close(1000, 'fine');
          });
          courier.on_binary(() => { throw Symbol('binary boom'); });
          courier.on_text((c, text) => { if (text === 'again') c.send_text('echo'); });
        },
      }).then(
        (result) => console.log('closed ' + JSON.stringify(result) + ' after ' + texts + ' texts'),
        (error) => console.log('failed ' + error),
      );
    `;
    // --no-warnings: Node prints nothing itself, the 'warning' listener still runs.
    const child = nodeChild(script, [server.url], ['--no-warnings']);
    const { code } = await child.exited;

    expect({ code, stderr: child.stderr() }).toEqual({ code: 0, stderr: '' });
    const warnings = child.lines.filter((line) => line.startsWith('warning LWS_LISTENER_ERROR'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/on_text listener threw/);
    expect(warnings[1]).toMatch(/on_binary listener threw: Symbol\(binary boom\)/);
    expect(warnings[2]).toMatch(/on_text listener threw: undefined/);
    expect(child.lines.filter((line) => !line.startsWith('warning'))).toEqual(['closed [1000,"fine"] after 3 texts']);
  });

  test.each([
    ['an Error', "new Error('logger boom')", /logger boom/],
    ['a null-prototype object', 'Object.create(null)', /Logger callback threw/],
    ['an object whose toString throws', "{ toString() { throw new Error('toString boom'); } }", /Logger callback threw/],
  ])('a Logger callback throwing %s: a warning, nothing uncaught, the failure still reported', async (_name, thrownValue, pattern) => {
    const { url } = await notFoundServer();
    const script = `${REPORTER}
      const { connect, Logger, LLL_ERR, LLL_WARN } = require(process.env.LWS_DIST);
      const logger = new Logger({ level: LLL_ERR | LLL_WARN, callback() { throw ${thrownValue}; } });
      connect({ url: process.argv[1], on_ready() {}, logger }).then(
        (result) => console.log('resolved ' + JSON.stringify(result)),
        (error) => setImmediate(() => console.log('rejected ' + error.name + ' ' + error.phase)),
      );
    `;
    const child = nodeChild(script, [url], ['--no-warnings']);
    const { code } = await child.exited;

    expect({ code, stderr: child.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(child.lines.filter((line) => line.startsWith('uncaught') || line.startsWith('unhandled'))).toEqual([]);
    expect(child.lines).toContain('rejected ConnectionFailed handshake');
    const warnings = child.lines.filter((line) => line.startsWith('warning LWS_LISTENER_ERROR'));
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) expect(warning).toMatch(pattern);
  });

  describe('the `lookup` option', () => {
    const HOST = 'lws-lookup.test';
    const urlFor = (port: number) => `ws://${HOST}:${port}/`;

    /** connect() to `port` by name through `lookup`: what it rejected with, a ConnectionFailed. */
    async function failureThrough(
      port: number,
      lookup: ConnectOptions['lookup'],
      options: Partial<ConnectOptions> = {},
    ): Promise<ConnectionFailed> {
      const error = await rejectionOf(connect({ url: urlFor(port), on_ready: () => {}, lookup, ...options }));
      expect(error).toBeInstanceOf(ConnectionFailed);
      return error as ConnectionFailed;
    }

    test('throwing synchronously: rejects ConnectionFailed in phase "dns" naming the error, not an uncaught exception', async () => {
      const server = await wsServer();
      const error = await failureThrough(server.port, () => {
        throw new Error('resolver exploded');
      });
      expect(error.phase).toBe('dns');
      expect(error.host).toBe(HOST);
      expect(error.message).toContain('resolver exploded');
    });

    test('throwing something that is not an Error: the same, and the message says what was thrown', async () => {
      const server = await wsServer();
      const error = await failureThrough(server.port, () => {
        throw 'resolver string boom'; // eslint-disable-line no-throw-literal
      });
      expect(error.phase).toBe('dns');
      expect(error.message).toContain('resolver string boom');
    });

    test('calling back with an error: rejects ConnectionFailed in phase "dns" with its code', async () => {
      const server = await wsServer();
      const error = await failureThrough(server.port, (_host, _options, callback) =>
        setImmediate(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${HOST}`), { code: 'ENOTFOUND' }), [])),
      );
      expect(error.phase).toBe('dns');
      expect(error.message).toContain('ENOTFOUND');
    });

    test('calling back twice (an error, then addresses): the first answer counts, and nothing connects', async () => {
      const server = await wsServer();
      let connections = 0;
      server.server.on('connection', () => connections++);
      const error = await failureThrough(server.port, (_host, _options, callback) => {
        callback(Object.assign(new Error('first: no'), { code: 'EAI_AGAIN' }), []);
        callback(null, [{ address: '127.0.0.1', family: 4 }]);
      });
      expect(error.phase).toBe('dns');
      await turns(20);
      expect(connections).toBe(0);
    });

    test('never calling back: connect_timeout 1 rejects ConnectionFailed "timeout"; a late answer is ignored', async () => {
      const server = await wsServer();
      let connections = 0;
      server.server.on('connection', () => connections++);
      let answer: (() => void) | undefined;
      const error = await failureThrough(
        server.port,
        (_host, _options, callback) => {
          answer = () => callback(null, [{ address: '127.0.0.1', family: 4 }]);
        },
        { connect_timeout: 1 },
      );
      expect(error.phase).toBe('timeout');

      answer!();
      await turns(50);
      expect(connections).toBe(0);
    });

    test('answering synchronously with a working address: connects (the control for the above)', async () => {
      const server = await wsServer(echo);
      const client = startClient(urlFor(server.port), {
        lookup: (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
      });
      const courier = await client.ready;
      courier.send_text('via lookup');
      expect(await client.next()).toBe('via lookup');
      courier.close(1000);
      await expect(client.done).resolves.toEqual([1000, '']);
    });
  });
});
