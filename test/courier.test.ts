/**
 * The Courier (pause handles, listeners, warnings, buffered_amount), on_ready
 * failures and the Logger, against real servers on 127.0.0.1 with OS-chosen
 * ports. Nothing sleeps: every wait is on an event, a promise, or a bounded
 * count of event-loop turns (test/helpers/turns.ts).
 */
import type { WebSocket } from 'ws';
import { connect, ConnectionFailed, Courier, Logger, LLL_ERR, LLL_WARN, NotSent, X, type PauseHandle } from '../lib';
import { openClient, rejectionOf } from './helpers/client';
import { notFoundServer, runCleanups, wsServer } from './helpers/per_test';
import { echo } from './helpers/servers';
import { closeSeen, nextMessage, seededText } from './helpers/tools';
import { turn, turns, turnsUntil } from './helpers/turns';

// Node 20 gives its main realm Symbol.dispose (=== Symbol.for('nodejs.dispose'))
// but not the vm context jest runs this file in, where it is undefined. Give
// this realm the same symbol, as a user's program sees it, so that
// `handle[Symbol.dispose]()` and `using` mean here what they mean there.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('nodejs.dispose');

// ---------------------------------------------------------------------------
// Cleanup: servers are closed and spies restored after every test, pass or fail.

afterEach(async () => {
  jest.restoreAllMocks();
  await runCleanups();
});

/** Replaces process.emitWarning with a spy that records and prints nothing. */
function spyOnWarnings(): { warnings(code: string): string[] } {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  return {
    warnings(code: string) {
      return spy.mock.calls
        .filter(([, options]) => (typeof options === 'object' && options !== null ? (options as { code?: string }).code : undefined) === code)
        .map(([warning]) => (warning instanceof Error ? warning.message : String(warning)));
    },
  };
}

/** A promise with its resolve function, for "this listener ran". */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** connect() with `setup` as on_ready; `ready` resolves with the Courier. */
const open = (url: string, setup?: (courier: Courier) => void) => openClient(url, {}, setup);

/** Sends from the server side and resolves once the bytes are in the kernel. */
function serverSend(socket: WebSocket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.send(data, { binary: typeof data !== 'string' }, (error) => (error ? reject(error) : resolve())));
}

// ---------------------------------------------------------------------------
// A server-side pump of numbered 64 KiB binary messages, paced by TCP: the
// next message is handed to the socket as soon as the previous one has been
// written to the kernel, i.e. as fast as the peer's reading lets it.

const MESSAGE_SIZE = 64 * 1024;

function numbered(index: number): Buffer {
  const message = Buffer.alloc(MESSAGE_SIZE, index & 0xff);
  message.writeUInt32BE(index, 0);
  return message;
}

/** Whether `message` is numbered(index), byte for byte where it matters. */
function isNumbered(message: Buffer, index: number): boolean {
  return (
    message.length === MESSAGE_SIZE &&
    message.readUInt32BE(0) === index &&
    message[4] === (index & 0xff) &&
    message[MESSAGE_SIZE - 1] === (index & 0xff)
  );
}

interface Pump {
  /** Messages handed to ws so far (the next index to send). */
  readonly sent: number;
  /** Messages whose bytes reached the kernel. */
  readonly written: number;
  /** Sends nothing more after the message in flight. */
  stop(): void;
}

function pacedPump(socket: WebSocket, limit: number): Pump {
  let sent = 0;
  let written = 0;
  let stopped = false;
  const next = () => {
    if (stopped || sent >= limit) return;
    socket.send(numbered(sent++), { binary: true }, (error) => {
      if (error) return;
      written++;
      next();
    });
  };
  next();
  return {
    get sent() {
      return sent;
    },
    get written() {
      return written;
    },
    stop() {
      stopped = true;
    },
  };
}

// With lws reading (no pause), the longest run of event-loop turns between
// two completed 64 KiB writes measured here was ~420 (lws reads 4 KiB per
// readable event, and TCP opens the window in steps). A write that stays
// pending ten times as long means the client stopped reading. The control
// test below checks that this threshold does tell the two apart.
const STALL_TURNS = 5000;
const PUMP_LIMIT = 2000; // 125 MiB: far more than loopback TCP can buffer
const MiB = 1024 * 1024;

/**
 * Resolves once a pump's message in flight has not been written for
 * STALL_TURNS turns in a row; rejects if the pump keeps making progress
 * (or runs out of messages) for `maxTurns`.
 */
async function stalled(pump: Pump, maxTurns: number): Promise<void> {
  let lastWritten = pump.written;
  let since = 0;
  for (let count = 0; count < maxTurns; count++) {
    await turn();
    if (pump.written !== lastWritten) {
      lastWritten = pump.written;
      since = 0;
    } else if (pump.sent > pump.written && ++since >= STALL_TURNS) {
      return;
    }
  }
  throw new Error(`the server kept writing (${pump.written} of ${pump.sent} messages written): the client kept reading`);
}

// ---------------------------------------------------------------------------

describe('pause()', () => {
  test('backpressure: while paused nothing is delivered and lws stops reading; after resume() everything arrives in order', async () => {
    const server = await wsServer();
    const received: Array<{ index: number; intact: boolean }> = [];
    let handle: PauseHandle | undefined;
    let closeCalledAfter = -1;
    const { done } = open(server.url, (courier) => {
      courier.on_binary((_c, message) => {
        const index = received.length;
        received.push({ index: message.readUInt32BE(0), intact: isNumbered(message, index) });
        if (received.length === 1) handle = courier.pause();
      });
      courier.on_text((_c, text) => {
        if (text !== 'end') return;
        closeCalledAfter = received.length;
        void courier.close(1000);
      });
    });
    const socket = await server.nextConnection();
    const serverClosed = closeSeen(socket);

    // Phase 1: the server writes as fast as TCP lets it. The client pauses
    // on the first message; once lws stops reading, the kernel's buffers
    // fill and the server's write in flight never completes.
    const pump = pacedPump(socket, PUMP_LIMIT);
    await stalled(pump, 200_000);
    pump.stop();
    expect(handle).toBeDefined();
    expect(received).toHaveLength(1);

    // Phase 2: the server keeps sending; with nothing leaving, its
    // bufferedAmount grows past 8 MiB and stays there.
    let total = pump.sent;
    while (socket.bufferedAmount <= 8 * MiB && total < PUMP_LIMIT) socket.send(numbered(total++), { binary: true });
    socket.send('end');
    expect(socket.bufferedAmount).toBeGreaterThan(8 * MiB);
    const buffered = socket.bufferedAmount;
    await turns(1000);
    expect(received).toHaveLength(1);
    expect(socket.bufferedAmount).toBeGreaterThanOrEqual(buffered);

    // Phase 3: resume: every message arrives, in order, then 'end'.
    handle!.resume();
    expect(await done).toEqual([1000, '']);
    expect(await serverClosed).toEqual([1000, '']);
    expect(closeCalledAfter).toBe(total);
    expect(received).toHaveLength(total);
    expect(received.every(({ index, intact }, position) => index === position && intact)).toBe(true);
  });

  test('control for the above: without pause() the same pump never stalls, so the stall criterion is meaningful', async () => {
    const server = await wsServer();
    const received: number[] = [];
    const { done } = open(server.url, (courier) => {
      courier.on_binary((_c, message) => received.push(message.readUInt32BE(0)));
      courier.on_text(() => void courier.close(1000));
    });
    const socket = await server.nextConnection();

    const COUNT = 300; // ~19 MiB: several times what the kernel buffers
    const pump = pacedPump(socket, COUNT);
    let longestGap = 0;
    let lastWritten = 0;
    let since = 0;
    while (pump.written < COUNT) {
      await turn();
      if (pump.written !== lastWritten) {
        lastWritten = pump.written;
        since = 0;
      } else {
        longestGap = Math.max(longestGap, ++since);
        if (since >= STALL_TURNS) break;
      }
    }
    expect(longestGap).toBeLessThan(STALL_TURNS);
    expect(pump.written).toBe(COUNT);
    socket.send('end');
    expect(await done).toEqual([1000, '']);
    expect(received).toEqual(Array.from({ length: COUNT }, (_, index) => index));
  });

  test('handles nest: delivery resumes only when every handle is released; resume() is idempotent; [Symbol.dispose]() and `using` release too', async () => {
    // A message the server wrote while the client was not paused is
    // delivered within a few turns; DELIVERY_TURNS is the window allowed for
    // it, both to show that a paused client got nothing and that a released
    // one got everything.
    const DELIVERY_TURNS = 200;
    const server = await wsServer();
    const received: string[] = [];
    const { ready, done } = open(server.url, (courier) => courier.on_text((_c, text) => received.push(text)));
    const socket = await server.nextConnection();
    const courier = await ready;
    const arrived = (count: number, what: string) => turnsUntil(() => received.length >= count, DELIVERY_TURNS, what);

    // Unpaused, a message arrives within the window.
    await serverSend(socket, 'm0');
    await arrived(1, 'm0 while not paused');

    const first = courier.pause();
    const second = courier.pause();
    await serverSend(socket, 'm1');
    await serverSend(socket, 'm2');
    await turns(DELIVERY_TURNS);
    expect(received).toEqual(['m0']);

    // Releasing one of two handles, twice, leaves the connection paused.
    first.resume();
    first.resume();
    await turns(DELIVERY_TURNS);
    expect(received).toEqual(['m0']);

    // Releasing the last one resumes delivery, in order.
    second.resume();
    await arrived(3, 'm1 and m2 after the last handle was released');
    expect(received).toEqual(['m0', 'm1', 'm2']);

    // A stale handle released again does not release a newer pause.
    const third = courier.pause();
    first.resume();
    second.resume();
    await serverSend(socket, 'm3');
    await turns(DELIVERY_TURNS);
    expect(received).toEqual(['m0', 'm1', 'm2']);

    // [Symbol.dispose]() releases it; resume() afterwards is a no-op.
    third[Symbol.dispose]();
    await arrived(4, 'm3 after [Symbol.dispose]()');
    expect(received).toEqual(['m0', 'm1', 'm2', 'm3']);
    const fourth = courier.pause();
    third.resume();
    await serverSend(socket, 'm4');
    await turns(DELIVERY_TURNS);
    expect(received).toHaveLength(4);
    fourth.resume();
    await arrived(5, 'm4');

    // `using` releases at the end of its block.
    {
      using paused = courier.pause();
      void paused;
      await serverSend(socket, 'm5');
      await turns(DELIVERY_TURNS);
      expect(received).toHaveLength(5);
    }
    await arrived(6, 'm5 after the `using` block');
    expect(received).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);

    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
  });

  test('a pause() taken in a listener also holds the messages already read with that one; resume() delivers them in order', async () => {
    const DELIVERY_TURNS = 200;
    const server = await wsServer();
    const received: string[] = [];
    let handle: PauseHandle | undefined;
    const { ready, done } = open(server.url, (courier) =>
      courier.on_text((_c, text) => {
        received.push(text);
        if (text === 'a') handle = courier.pause();
      }),
    );
    const socket = await server.nextConnection();
    const courier = await ready;

    // Written in one go, the small messages reach lws in one read: they are
    // parsed together, before the listener for 'a' pauses.
    const burst = ['a', 'b', 'c', 'd'].map((text) => serverSend(socket, text));
    await Promise.all(burst);
    await turnsUntil(() => received.length > 0, DELIVERY_TURNS, "'a'");
    await turns(DELIVERY_TURNS);
    expect(received).toEqual(['a']);

    handle!.resume();
    await turnsUntil(() => received.length === 4, DELIVERY_TURNS, "'b', 'c' and 'd' after resume()");
    expect(received).toEqual(['a', 'b', 'c', 'd']);

    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
  });

  test('a pause() taken by a listener while resume() delivers held messages keeps lws from reading', async () => {
    const DELIVERY_TURNS = 200;
    const server = await wsServer();
    const received: string[] = [];
    const handles: PauseHandle[] = [];
    const { ready, done } = open(server.url, (courier) => {
      courier.on_text((_c, text) => {
        received.push(text);
        if (text === 'a' || text === 'b') handles.push(courier.pause());
      });
      courier.on_binary(() => undefined);
    });
    const socket = await server.nextConnection();
    const courier = await ready;
    await Promise.all(['a', 'b', 'c'].map((text) => serverSend(socket, text)));
    await turnsUntil(() => received.length > 0, DELIVERY_TURNS, "'a'");

    // Delivers the held 'b', whose listener pauses again: 'c' stays held,
    // and the socket must stay unread.
    handles[0]!.resume();
    expect(received).toEqual(['a', 'b']);
    const pump = pacedPump(socket, PUMP_LIMIT);
    await stalled(pump, 200_000);
    pump.stop();
    expect(received).toEqual(['a', 'b']);

    handles[1]!.resume();
    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
    expect(received).toEqual(['a', 'b', 'c']);
  });
});

describe('listeners', () => {
  test('several listeners per type run in the order added, each with (courier, message)', async () => {
    const server = await wsServer((socket) => {
      socket.send('one');
      socket.send(Buffer.from([1, 2, 3]));
      socket.send('two');
    });
    const calls: Array<[string, Courier, string | Buffer]> = [];
    const last = signal();
    const { ready, done } = open(server.url, (courier) => {
      courier.on_text((c, m) => calls.push(['t1', c, m]));
      courier.on_binary((c, m) => calls.push(['b1', c, m]));
      courier.on_text((c, m) => calls.push(['t2', c, m]));
      courier.on_binary((c, m) => calls.push(['b2', c, m]));
      courier.on_text((c, m) => {
        calls.push(['t3', c, m]);
        if (m === 'two') last.resolve();
      });
    });
    const courier = await ready;
    await last.promise;
    void courier.close(1000);
    expect(await done).toEqual([1000, '']);

    expect(calls.map(([name, , message]) => [name, message])).toEqual([
      ['t1', 'one'],
      ['t2', 'one'],
      ['t3', 'one'],
      ['b1', Buffer.from([1, 2, 3])],
      ['b2', Buffer.from([1, 2, 3])],
      ['t1', 'two'],
      ['t2', 'two'],
      ['t3', 'two'],
    ]);
    for (const [, first] of calls) expect(first).toBe(courier);
    expect(Buffer.isBuffer(calls[3]![2])).toBe(true);
  });

  test.each([
    { unheard: 'binary', listened: 'text' },
    { unheard: 'text', listened: 'binary' },
  ] as const)('$unheard messages with no on_$unheard listener emit one LWS_UNHEARD_MESSAGE per connection and the connection goes on', async ({ unheard, listened }) => {
    const spy = spyOnWarnings();
    const server = await wsServer((socket) => {
      for (let i = 0; i < 3; i++) socket.send(unheard === 'binary' ? Buffer.from('dropped') : 'dropped', { binary: unheard === 'binary' });
      socket.send(listened === 'binary' ? Buffer.from('heard') : 'heard', { binary: listened === 'binary' });
    });
    const heard: string[] = [];
    const gotHeard = signal();
    const { ready, done } = open(server.url, (courier) => {
      const listener = (_c: Courier, message: string | Buffer) => {
        heard.push(message.toString());
        gotHeard.resolve();
      };
      if (listened === 'text') courier.on_text(listener);
      else courier.on_binary(listener);
    });
    const socket = await server.nextConnection();
    const courier = await ready;
    await gotHeard.promise;

    const warnings = spy.warnings('LWS_UNHEARD_MESSAGE');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(unheard);
    expect(heard).toEqual(['heard']);

    // The connection goes on both ways.
    const atServer = nextMessage(socket);
    courier.send_text('still here');
    expect((await atServer).data.toString()).toBe('still here');
    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
  });

  test('a throwing on_binary listener emits LWS_LISTENER_ERROR; later listeners still run and the connection goes on', async () => {
    const spy = spyOnWarnings();
    const server = await wsServer((socket) => {
      socket.send(Buffer.from('first'));
      socket.send(Buffer.from('second'));
      socket.send('after');
    });
    const calls: string[] = [];
    const after = signal();
    const { ready, done } = open(server.url, (courier) => {
      courier.on_binary((_c, m) => calls.push(`before:${m.toString()}`));
      courier.on_binary(() => {
        throw new Error('listener boom');
      });
      courier.on_binary((_c, m) => calls.push(`after:${m.toString()}`));
      courier.on_text((_c, m) => {
        calls.push(`text:${m}`);
        after.resolve();
      });
    });
    const socket = await server.nextConnection();
    const courier = await ready;
    await after.promise;

    expect(calls).toEqual(['before:first', 'after:first', 'before:second', 'after:second', 'text:after']);
    const warnings = spy.warnings('LWS_LISTENER_ERROR');
    expect(warnings).toHaveLength(2);
    for (const warning of warnings) expect(warning).toContain('listener boom');

    const atServer = nextMessage(socket);
    courier.send_binary(Buffer.from('still here'));
    const message = await atServer;
    expect(message.isBinary).toBe(true);
    expect(message.data.toString()).toBe('still here');
    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
  });
});

describe('on_ready', () => {
  test.each([
    ['an Error', new Error('ready boom')],
    ['a plain object', { not: 'an Error' }],
    ['a string', 'ready boom'],
  ])('throwing %s rejects connect() with exactly that value, and the server sees 1011', async (_name, thrown) => {
    const serverCloses: Array<Promise<[number, string]>> = [];
    const server = await wsServer((socket) => serverCloses.push(closeSeen(socket)));
    const promise = connect({
      url: server.url,
      on_ready() {
        throw thrown;
      },
    });

    expect(await rejectionOf(promise)).toBe(thrown);
    expect(serverCloses).toHaveLength(1);
    const [code] = await serverCloses[0]!;
    expect(code).toBe(1011);
  });

  test('the Courier on_ready gets is the only kind there is: `new Courier()` is a TypeError', () => {
    const construct = Courier as unknown as new (...args: unknown[]) => Courier;
    expect(() => new construct()).toThrow(new TypeError('Courier has no public constructor: connect() passes one to on_ready'));
    expect(() => new construct(Symbol('Courier'), {}, Promise.resolve([1000, '']), { protocol: '', extensions: '' })).toThrow(TypeError);
  });
});

describe('Logger', () => {
  test('receives lws lines of its connection at the levels asked for: a 404 handshake is a LLL_WARN line mentioning 404', async () => {
    const { url, port } = await notFoundServer();
    const lines: Array<[number, string]> = [];
    const logger = new Logger({ level: LLL_ERR | LLL_WARN, callback: (level, message) => lines.push([level, message]) });

    const error = await rejectionOf(connect({ url, on_ready: () => {}, logger }));

    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('handshake');
    expect((error as ConnectionFailed).port).toBe(port);
    const is404Warning = ([level, message]: [number, string]) => level === LLL_WARN && message.includes('404');
    await turnsUntil(() => lines.some(is404Warning), 100, `a LLL_WARN line mentioning 404 (got ${JSON.stringify(lines)})`);
    // Only the levels asked for, one line per call, without its newline.
    for (const [level, message] of lines) {
      expect([LLL_ERR, LLL_WARN]).toContain(level);
      expect(message).not.toMatch(/\n$/);
    }
  });

  test('lines below its level are not passed on: a LLL_ERR-only logger gets no LLL_WARN line for the 404', async () => {
    const { url } = await notFoundServer();
    const errorsOnly: Array<[number, string]> = [];
    const warnings: Array<[number, string]> = [];
    const errLogger = new Logger({ level: LLL_ERR, callback: (level, message) => errorsOnly.push([level, message]) });
    const warnLogger = new Logger({ level: LLL_WARN, callback: (level, message) => warnings.push([level, message]) });

    // The same failure twice, one logger each; the second run is the
    // control that a LLL_WARN line is logged for it at all.
    expect(await rejectionOf(connect({ url, on_ready: () => {}, logger: errLogger }))).toBeInstanceOf(ConnectionFailed);
    expect(await rejectionOf(connect({ url, on_ready: () => {}, logger: warnLogger }))).toBeInstanceOf(ConnectionFailed);
    await turnsUntil(() => warnings.some(([, message]) => message.includes('404')), 100, 'the LLL_WARN logger hearing of the 404');

    expect(errorsOnly.filter(([level]) => level !== LLL_ERR)).toEqual([]);
    expect(warnings.filter(([level]) => level !== LLL_WARN)).toEqual([]);
  });

  test('validates its options', () => {
    const callback = () => {};
    expect(() => new Logger({ level: LLL_ERR } as never)).toThrow(TypeError);
    expect(() => new Logger({} as never)).toThrow(TypeError);
    expect(() => new Logger({ callback: 'not a function' } as never)).toThrow(TypeError);
    expect(() => new Logger({ callback, x: 1 } as never)).toThrow(TypeError);
    expect(() => new Logger({ callback, x: 1 } as never)).toThrow(/^Unknown: x$/);
    expect(() => new Logger({ level: 1 << 12, callback })).toThrow(RangeError);
    expect(() => new Logger({ level: -1, callback })).toThrow(RangeError);
    expect(() => new Logger({ level: 1.5, callback })).toThrow(RangeError);
    expect(() => new Logger({ level: LLL_ERR | LLL_WARN, callback })).not.toThrow();
    expect(() => new Logger({ callback })).not.toThrow();
  });

  test('connect() rejects a `logger` that is not a Logger synchronously, with a TypeError naming `logger`', () => {
    let error: unknown;
    try {
      void connect({ url: 'ws://127.0.0.1:1/', on_ready: () => {}, logger: {} as never });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/\blogger\b/);
  });

  test('a throwing callback is reported as a warning and breaks nothing', async () => {
    const spy = spyOnWarnings();
    let calls = 0;
    const logger = new Logger({
      level: LLL_ERR | LLL_WARN,
      callback: () => {
        calls++;
        throw new Error('logger boom');
      },
    });

    // The failing handshake logs a warning: the callback throws on it.
    const { url } = await notFoundServer();
    const error = await rejectionOf(connect({ url, on_ready: () => {}, logger }));
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('handshake');
    await turnsUntil(() => calls > 0, 100, 'the logger callback being called');
    const reported = spy.warnings('LWS_LISTENER_ERROR');
    expect(reported.length).toBe(calls);
    for (const warning of reported) expect(warning).toContain('logger boom');

    // The same logger on a working connection: it runs normally.
    const server = await wsServer(echo);
    const reply = signal<string>();
    const { ready, done } = open(server.url, (courier) => courier.on_text((_c, m) => reply.resolve(m)));
    const courier = await ready;
    courier.send_text('after a throwing logger');
    expect(await reply.promise).toBe('after a throwing logger');
    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
  });
});

describe('buffered_amount', () => {
  test('counts a queued 1 MiB message at once and is 0 once its echo came back', async () => {
    const server = await wsServer(echo);
    const reply = signal<string>();
    const { ready, done } = open(server.url, (courier) => courier.on_text((_c, m) => reply.resolve(m)));
    const courier = await ready;
    expect(courier.buffered_amount).toBe(0);

    const text = seededText(MiB, 0xb0ff);
    courier.send_text(text);
    const queued = courier.buffered_amount;
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(Buffer.byteLength(text));

    const echoed = await reply.promise;
    expect(echoed === text).toBe(true);
    expect(courier.buffered_amount).toBe(0);
    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
  });

  test('drained(): streaming 48 MiB in 256 KiB chunks keeps at most ~1 MiB queued, and all of it arrives in order', async () => {
    const CHUNK = 256 * 1024;
    const CHUNKS = 192;
    let receivedBytes = 0;
    let inOrder = true;
    const server = await wsServer((socket) =>
      socket.on('message', (data: Buffer) => {
        if (data.readUInt32BE(0) !== receivedBytes / CHUNK) inOrder = false;
        receivedBytes += data.length;
      }),
    );
    const { ready, done } = open(server.url, () => undefined);
    const courier = await ready;

    let peak = 0;
    for (let index = 0; index < CHUNKS; index++) {
      const chunk = Buffer.alloc(CHUNK, index & 0xff);
      chunk.writeUInt32BE(index, 0);
      courier.send_binary(chunk);
      peak = Math.max(peak, courier.buffered_amount);
      if (courier.buffered_amount > MiB) await courier.drained(MiB / 2);
    }
    await courier.drained();
    expect(courier.buffered_amount).toBe(0);
    void courier.close(1000);

    expect(await done).toEqual([1000, '']);
    expect(peak).toBeLessThanOrEqual(MiB + CHUNK);
    expect(receivedBytes).toBe(CHUNK * CHUNKS);
    expect(inOrder).toBe(true);
  });

  test('drained() resolves at once when nothing is queued, and checks its argument', async () => {
    const server = await wsServer();
    const { ready, done } = open(server.url, () => undefined);
    const courier = await ready;

    await expect(courier.drained()).resolves.toBeUndefined();
    expect(() => courier.drained(-1)).toThrow(TypeError);
    expect(() => courier.drained(1.5)).toThrow(/drained\(\) threshold/);
    void courier.close(1000);
    expect(await done).toEqual([1000, '']);
  });

  test('drained() rejects ERR_LWS_NOT_SENT, naming the bytes left, when the server drops a connection with 64 MiB queued', async () => {
    const server = await wsServer((socket) => (socket as unknown as { _socket: { pause(): void } })._socket.pause());
    const connection = server.nextConnection();
    const { ready, done } = open(server.url, () => undefined);
    const courier = await ready;
    const socket = await connection;

    for (let index = 0; index < 64; index++) courier.send_binary(Buffer.alloc(MiB, index));
    const drained = courier.drained();
    socket.terminate();

    await expect(drained).rejects.toMatchObject({ code: 'ERR_LWS_NOT_SENT', message: expect.stringMatching(/^the connection ended with \d+ queued bytes not sent$/) });
    // A class to test with instanceof; `bytes` as before, and as get('bytes').
    const notSent = await drained.catch((error: unknown) => error);
    expect(notSent).toBeInstanceOf(NotSent);
    expect(notSent).toBeInstanceOf(X.Base);
    expect((notSent as NotSent).bytes).toBeGreaterThan(0);
    expect((notSent as NotSent).get('bytes')).toBe((notSent as NotSent).bytes);
    await expect(done).rejects.toBeInstanceOf(ConnectionFailed);
    expect(courier.buffered_amount).toBeGreaterThan(0);
  });
});

describe('ping()', () => {
  /** A server that records, in order, each ping's payload and each message's length. */
  async function recordingServer(perMessageDeflate: boolean) {
    const seen: string[] = [];
    const server = await wsServer(
      (socket) => {
        socket.on('ping', (payload: Buffer) => seen.push(`ping ${payload.toString('hex')}`));
        socket.on('message', (data: Buffer) => seen.push(`message of ${data.length} bytes`));
      },
      { perMessageDeflate },
    );
    return { server, seen };
  }

  test.each([false, true])(
    'the payload (a string as UTF-8, bytes as given, or none) reaches the server, ahead of messages queued before it (permessage-deflate: %s)',
    async (perMessageDeflate) => {
      const { server, seen } = await recordingServer(perMessageDeflate);
      const { ready, done } = open(server.url);
      const courier = await ready;
      expect(courier.extensions.includes('permessage-deflate')).toBe(perMessageDeflate);

      // Queued together, before the binding writes anything: the pings go first.
      courier.send_binary(Buffer.alloc(4 * MiB, 7));
      courier.ping('héllo');
      courier.ping(Uint8Array.of(0, 0xff));
      courier.ping();
      courier.ping('x'.repeat(125));
      void courier.close(1000);

      expect(await done).toEqual([1000, '']);
      expect(seen).toEqual([
        `ping ${Buffer.from('héllo').toString('hex')}`,
        'ping 00ff',
        'ping ',
        `ping ${Buffer.from('x'.repeat(125)).toString('hex')}`,
        `message of ${4 * MiB} bytes`,
      ]);
    },
  );

  test('a payload over 125 bytes is a RangeError, a payload of another type a TypeError; after close() an ERR_LWS_CLOSED error', async () => {
    const { server, seen } = await recordingServer(false);
    const { ready, done } = open(server.url);
    const courier = await ready;

    expect(() => courier.ping('x'.repeat(126))).toThrow(new RangeError('Expected at most 125 bytes for ping() payload but received 126 bytes'));
    // 63 two-byte characters: 126 bytes in 63 UTF-16 units.
    expect(() => courier.ping('é'.repeat(63))).toThrow(RangeError);
    expect(() => courier.ping(42 as unknown as string)).toThrow(new TypeError('Expected a string, Buffer, TypedArray, DataView or ArrayBuffer for ping() payload but received 42'));
    void courier.close(1000);
    expect(() => courier.ping('late')).toThrow(expect.objectContaining({ code: 'ERR_LWS_CLOSED', message: 'ping() called after the connection started closing' }));

    expect(await done).toEqual([1000, '']);
    expect(seen).toEqual([]);
  });
});
