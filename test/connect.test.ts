/**
 * connect() against real peers on 127.0.0.1 (the `ws` server in this process,
 * Python's `websockets` in a child), OS-chosen ports, no mocks. Every wait is
 * on an event or a promise; a hang is caught by jest's testTimeout.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { WebSocket } from 'ws';
import { connect, ConnectionFailed, WebSocketClose, type Courier } from '../lib';
import { echoOnce, rejectionOf, startClient, type Client } from './helpers/client';
import { nodeChild, pythonServer, runCleanups, worker, wsServer } from './helpers/per_test';
import { echo } from './helpers/servers';
import { closeSeen, DIST, freePort, nextMessage, seededBytes, seededText } from './helpers/tools';

// ---------------------------------------------------------------------------
// Cleanup: every server, child and worker a test starts is ended after it,
// pass or fail, so one failure does not leak into the next test.

afterEach(runCleanups);

// ---------------------------------------------------------------------------

describe('echo', () => {
  test('text and binary against the ws server', async () => {
    const server = await wsServer(echo);

    const text = await echoOnce(server.url, 'héllo wörld ✓');
    expect(text.reply).toBe('héllo wörld ✓');
    expect(text.result).toEqual([1000, 'echoed']);

    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f]);
    const binary = await echoOnce(server.url, bytes);
    expect(Buffer.isBuffer(binary.reply)).toBe(true);
    expect(binary.reply).toEqual(bytes);
    expect(binary.result).toEqual([1000, 'echoed']);
  });

  test('text and binary against the Python websockets server', async () => {
    const server = await pythonServer('echo');

    const text = await echoOnce(server.url, 'bonjour, café 🙂');
    expect(text.reply).toBe('bonjour, café 🙂');
    expect(text.result).toEqual([1000, 'echoed']);

    // A view into the middle of a larger buffer: only the viewed bytes go out.
    const backing = new Uint8Array([9, 9, 10, 20, 30, 0, 255, 9, 9]);
    const binary = await echoOnce(server.url, backing.subarray(2, 7));
    expect(Buffer.isBuffer(binary.reply)).toBe(true);
    expect(binary.reply).toEqual(Buffer.from([10, 20, 30, 0, 255]));
    expect(binary.result).toEqual([1000, 'echoed']);
  });
});

describe('large messages', () => {
  const MiB = 1024 * 1024;

  test('a 1 MiB binary message is echoed intact', async () => {
    const received: Array<{ length: number; isBinary: boolean }> = [];
    const server = await wsServer((socket) => {
      socket.on('message', (data: Buffer, isBinary) => received.push({ length: data.length, isBinary }));
      echo(socket);
    });
    const payload = seededBytes(MiB, 0x5eed);

    const { reply, result } = await echoOnce(server.url, payload);

    expect(received).toEqual([{ length: MiB, isBinary: true }]);
    expect(Buffer.isBuffer(reply)).toBe(true);
    expect((reply as Buffer).length).toBe(MiB);
    // Buffer.equals rather than toEqual: a mismatch report of 1 MiB helps nobody.
    expect((reply as Buffer).equals(payload)).toBe(true);
    expect(result).toEqual([1000, 'echoed']);
  });

  test('a 1 MiB text message (multi-byte characters throughout) is echoed intact', async () => {
    const received: Array<{ bytes: Buffer; isBinary: boolean }> = [];
    const server = await wsServer((socket) => {
      socket.on('message', (data: Buffer, isBinary) => received.push({ bytes: data, isBinary }));
      echo(socket);
    });
    const payload = seededText(MiB, 0xcafe);

    const { reply, result } = await echoOnce(server.url, payload);

    expect(received).toHaveLength(1);
    expect(received[0]!.isBinary).toBe(false);
    expect(received[0]!.bytes.equals(Buffer.from(payload, 'utf8'))).toBe(true);
    expect(typeof reply).toBe('string');
    expect((reply as string).length).toBe(payload.length);
    expect(reply === payload).toBe(true);
    expect(result).toEqual([1000, 'echoed']);
  });
});

describe('client closes', () => {
  /** Opens a client to an echo server and returns it with the server's socket. */
  async function openPair(): Promise<{ client: Client; courier: Courier; socket: WebSocket }> {
    const server = await wsServer(echo);
    const connection = server.nextConnection();
    const client = startClient(server.url);
    const [socket, courier] = await Promise.all([connection, client.ready]);
    return { client, courier, socket };
  }

  test("close(1000, 'bye'): the server sees 1000/'bye' and the promise resolves [1000, 'bye']", async () => {
    const { client, courier, socket } = await openPair();
    const seen = closeSeen(socket);

    const returned = courier.close(1000, 'bye');

    expect(returned).toBe(client.done);
    await expect(client.done).resolves.toEqual([1000, 'bye']);
    await expect(seen).resolves.toEqual([1000, 'bye']);
  });

  test('close() with no arguments: the server sees 1005 and the promise resolves [1005, ""]', async () => {
    const { client, courier, socket } = await openPair();
    const seen = closeSeen(socket);

    courier.close();

    await expect(client.done).resolves.toEqual([1005, '']);
    await expect(seen).resolves.toEqual([1005, '']);
  });

  test("close(4001, 'x'): rejects WebSocketClose 4001 and the server sees 4001/'x'", async () => {
    const { client, courier, socket } = await openPair();
    const seen = closeSeen(socket);

    courier.close(4001, 'x');

    const error = await rejectionOf(client.done);
    expect(error).toBeInstanceOf(WebSocketClose);
    const close = error as WebSocketClose;
    expect(close.status).toBe(4001);
    expect(close.get('code')).toBe(4001);
    expect(close.reason).toBe('x');
    expect(close.get('reason')).toBe('x');
    await expect(seen).resolves.toEqual([4001, 'x']);
  });

  test('a non-ASCII reason reaches the server as UTF-8', async () => {
    const { client, courier, socket } = await openPair();
    const seen = closeSeen(socket);

    courier.close(4002, 'adiós 🙂');

    await expect(seen).resolves.toEqual([4002, 'adiós 🙂']);
    const error = await rejectionOf(client.done);
    expect(error).toBeInstanceOf(WebSocketClose);
    expect((error as WebSocketClose).status).toBe(4002);
    expect((error as WebSocketClose).reason).toBe('adiós 🙂');
  });

  test("close(1000, 'bye') as the Python server saw it", async () => {
    const server = await pythonServer('report-close');
    const client = startClient(server.url);
    const courier = await client.ready;

    courier.close(1000, 'bye');

    await expect(client.done).resolves.toEqual([1000, 'bye']);
    const line = await server.lines.next();
    expect(line.value).toBe('close 1000 bye');
  });
});

describe('server closes', () => {
  test("the ws server closes with 1000 'done': resolves [1000, 'done']", async () => {
    const server = await wsServer((socket) => socket.close(1000, 'done'));
    const connection = server.nextConnection();
    const client = startClient(server.url);
    const seen = closeSeen(await connection);

    await expect(client.done).resolves.toEqual([1000, 'done']);
    // The client answered the close frame: the server's handshake completed.
    await expect(seen).resolves.toEqual([1000, 'done']);
  });

  test('the Python server closes with 1001 and a non-ASCII reason: rejects WebSocketClose', async () => {
    const server = await pythonServer('close-1001');
    const client = startClient(server.url);

    const error = await rejectionOf(client.done);

    expect(error).toBeInstanceOf(WebSocketClose);
    const close = error as WebSocketClose;
    expect(close.status).toBe(1001);
    expect(close.get('code')).toBe(1001);
    expect(close.reason).toBe('au revoir, café');
    expect(close.get('reason')).toBe('au revoir, café');
  });
});

describe('connection failures', () => {
  test('a refused port rejects ConnectionFailed in phase "connect", naming host and port', async () => {
    const port = await freePort();
    let readyCalled = false;

    const error = await rejectionOf(
      connect({
        url: `ws://127.0.0.1:${port}/`,
        on_ready: () => {
          readyCalled = true;
        },
      }),
    );

    expect(error).toBeInstanceOf(ConnectionFailed);
    const failed = error as ConnectionFailed;
    expect(failed.phase).toBe('connect');
    expect(failed.host).toBe('127.0.0.1');
    expect(failed.port).toBe(port);
    expect(failed.message).toContain(`127.0.0.1:${port}`);
    expect(readyCalled).toBe(false);
  });

  test('the server drops TCP without a close frame: rejects ConnectionFailed', async () => {
    // Terminate on the first message, so the connection is certainly open.
    const server = await wsServer((socket) => socket.once('message', () => socket.terminate()));
    const client = startClient(server.url);
    const courier = await client.ready;

    courier.send_text('please hang up');

    const error = await rejectionOf(client.done);
    expect(error).toBeInstanceOf(ConnectionFailed);
    const failed = error as ConnectionFailed;
    expect(failed.phase).toBe('open');
    expect(failed.host).toBe('127.0.0.1');
    expect(failed.port).toBe(server.port);
  });
});

describe('the process lifetime', () => {
  // Runs in a separate `node` as a user's script would: nothing but the
  // connection is there to keep it alive, and nothing calls process.exit().
  const EXCHANGE_AND_CLOSE = `
    const { connect } = require(process.env.LWS_DIST);
    connect({
      url: process.argv[1],
      on_ready(courier) {
        courier.on_text((c, text) => {
          console.log('echo ' + text);
          c.close(1000, 'child done');
        });
        courier.send_text('hello from child');
      },
    }).then(
      (result) => console.log('closed ' + JSON.stringify(result)),
      (error) => { console.log('failed ' + error); process.exitCode = 2; },
    );
  `;

  test('a child that exchanges a message and closes exits by itself with 0', async () => {
    const received: string[] = [];
    const server = await wsServer((socket) => {
      socket.on('message', (data) => received.push(String(data)));
      echo(socket);
    });

    const child = nodeChild(EXCHANGE_AND_CLOSE, [server.url]);
    const { code, signal } = await child.exited;

    expect({ code, signal, stderr: child.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(child.lines).toEqual(['echo hello from child', 'closed [1000,"child done"]']);
    expect(received).toEqual(['hello from child']);
  });

  // Reports when its event loop runs dry ('beforeExit'): while the
  // connection is open that must never happen.
  const STAY_CONNECTED = `
    const { connect } = require(process.env.LWS_DIST);
    let open = false;
    process.on('beforeExit', () => console.log('beforeExit ' + (open ? 'while open' : 'after close')));
    connect({
      url: process.argv[1],
      on_ready(courier) {
        open = true;
        courier.on_text((c, text) => c.send_text('ack ' + text));
        console.log('open');
      },
    }).then(
      (result) => { open = false; console.log('closed ' + JSON.stringify(result)); },
      (error) => { open = false; console.log('failed ' + error); process.exitCode = 2; },
    );
  `;

  test('a child with an open connection stays alive, then exits by itself once the server closes', async () => {
    const server = await wsServer();
    const connection = server.nextConnection();
    const child = nodeChild(STAY_CONNECTED, [server.url]);
    let exitedEarly = false;
    child.process.once('exit', () => (exitedEarly = true));

    await child.waitForLine((line) => line === 'open');
    const socket = await connection;

    // Several round trips, each going back through the child's event loop
    // idle in between: a child the connection did not keep alive would be
    // gone by now, and nextMessage() would reject on the socket's close.
    for (const word of ['one', 'two', 'three']) {
      const reply = nextMessage(socket);
      socket.send(word);
      expect(String((await reply).data)).toBe(`ack ${word}`);
    }
    socket.ping();
    await once(socket, 'pong');

    expect(exitedEarly).toBe(false);
    expect(child.process.exitCode).toBeNull();
    expect(child.lines.filter((line) => line.startsWith('beforeExit'))).toEqual([]);

    socket.close(1000, 'server done');
    const { code, signal } = await child.exited;

    expect({ code, signal, stderr: child.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(child.lines).toEqual(['open', 'closed [1000,"server done"]', 'beforeExit after close']);
  });
});

describe('worker threads', () => {
  const EXCHANGE_IN_WORKER = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { connect } = require(workerData.dist);
    const received = [];
    connect({
      url: workerData.url,
      on_ready(courier) {
        courier.on_text((c, text) => {
          received.push(text);
          if (received.length === workerData.count) c.close(1000, 'worker ' + workerData.id);
        });
        for (let i = 0; i < workerData.count; i++) courier.send_text(workerData.id + ':' + i);
      },
    }).then(
      (result) => parentPort.postMessage({ result, received }),
      (error) => parentPort.postMessage({ error: String(error) }),
    );
  `;

  /** The worker's one report and its exit code (it must exit by itself). */
  async function outcome(thread: Worker): Promise<{ report: unknown; exitCode: number }> {
    const [[report], [exitCode]] = await Promise.all([once(thread, 'message'), once(thread, 'exit')]);
    return { report, exitCode };
  }

  test('two workers connect at once, exchange messages and close', async () => {
    const server = await wsServer(echo);
    const count = 20;
    const expected = (id: string) => Array.from({ length: count }, (_, i) => `${id}:${i}`);

    const [a, b] = await Promise.all(
      ['a', 'b'].map((id) => outcome(worker(EXCHANGE_IN_WORKER, { dist: DIST, url: server.url, id, count }))),
    );

    expect(a).toEqual({ report: { result: [1000, 'worker a'], received: expected('a') }, exitCode: 0 });
    expect(b).toEqual({ report: { result: [1000, 'worker b'], received: expected('b') }, exitCode: 0 });
  });

  const OPEN_IN_WORKER = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { connect } = require(workerData.dist);
    connect({ url: workerData.url, on_ready: () => parentPort.postMessage('open') }).catch(() => {});
  `;

  test('terminating a worker with an open connection leaves the parent running', async () => {
    const server = await wsServer(echo);
    const connection = server.nextConnection();
    const thread = worker(OPEN_IN_WORKER, { dist: DIST, url: server.url });

    const [[message], socket] = await Promise.all([once(thread, 'message'), connection]);
    expect(message).toBe('open');
    const seen = closeSeen(socket);

    const exitCode = await thread.terminate();

    expect(exitCode).toBe(1);
    // The worker's socket went away with it: dropped (1006, what this build
    // does today) or closed as "going away" (1001) would both be fine.
    const [code] = await seen;
    expect([1001, 1006]).toContain(code);
    // And this process, with its own copy of the addon, still works.
    const { reply, result } = await echoOnce(server.url, 'still alive');
    expect(reply).toBe('still alive');
    expect(result).toEqual([1000, 'echoed']);
  });
});

describe('listeners', () => {
  // In a child: jest gives each test file its own copy of `process`, while
  // Node emits warnings on the real one, so process.once('warning') only
  // sees them in a plain Node process, where users listen for them.
  const THROWING_LISTENER = `
    const { connect } = require(process.env.LWS_DIST);
    process.once('warning', (w) => console.log('warning ' + w.code + ' ' + w.message.split('\\n')[0]));
    const seenByThrower = [];
    const seenAfter = [];
    connect({
      url: process.argv[1],
      on_ready(courier) {
        courier.on_text((c, text) => {
          seenByThrower.push(text);
          if (text === 'first') throw new Error('listener boom');
        });
        courier.on_text((c, text) => {
          seenAfter.push(text);
          if (seenAfter.length === 2) c.close(1000, 'fine');
        });
        courier.send_text('first');
        courier.send_text('second');
      },
    }).then(
      (result) => console.log('closed ' + JSON.stringify({ result, seenByThrower, seenAfter })),
      (error) => { console.log('failed ' + error); process.exitCode = 2; },
    );
  `;

  test('a throwing listener emits a process warning and later messages still arrive', async () => {
    const received: string[] = [];
    const server = await wsServer((socket) => {
      socket.on('message', (data) => received.push(String(data)));
      echo(socket);
    });

    const child = nodeChild(THROWING_LISTENER, [server.url]);
    const { code } = await child.exited;

    expect({ code, lines: child.lines }).toEqual({
      code: 0,
      lines: [
        'warning LWS_LISTENER_ERROR on_text listener threw: Error: listener boom',
        'closed ' +
          JSON.stringify({ result: [1000, 'fine'], seenByThrower: ['first', 'second'], seenAfter: ['first', 'second'] }),
      ],
    });
    expect(received).toEqual(['first', 'second']);
  });
});

describe('order', () => {
  // Text and binary alternate: order holds across message types too.
  async function inOrder(count: number, perMessageDeflate: boolean): Promise<void> {
    const atServer: string[] = [];
    const server = await wsServer((socket) => {
      socket.on('message', (data, isBinary) => atServer.push(`${isBinary ? 'b' : 't'}${String(data)}`));
      echo(socket);
    }, { perMessageDeflate });
    const expected = Array.from({ length: count }, (_, i) => `${i % 2 ? 'b' : 't'}${i}`);
    const client = startClient(server.url);
    const courier = await client.ready;
    expect(courier.extensions.startsWith('permessage-deflate')).toBe(perMessageDeflate);

    for (let i = 0; i < count; i++) {
      if (i % 2) courier.send_binary(Buffer.from(String(i)));
      else courier.send_text(String(i));
    }
    const echoed: string[] = [];
    for (let i = 0; i < count; i++) {
      const message = await client.next();
      echoed.push(typeof message === 'string' ? `t${message}` : `b${message.toString()}`);
    }
    courier.close(1000, 'in order');

    await expect(client.done).resolves.toEqual([1000, 'in order']);
    expect(atServer).toEqual(expected);
    expect(echoed).toEqual(expected);
  }

  test('1000 small messages reach the server in order and echo back in order', async () => {
    await inOrder(1000, false);
  });

  test('the same with permessage-deflate negotiated (lws drains one compressed frame per writable)', async () => {
    await inOrder(1000, true);
  });
});

describe('sending with permessage-deflate negotiated', () => {
  // lws deflates from the message's buffer over several writable events.
  test('ten 64 KiB incompressible messages, one per event-loop turn, reach the server intact and in order', async () => {
    const received: Buffer[] = [];
    const server = await wsServer((socket) => socket.on('message', (data) => received.push(data as Buffer)), { perMessageDeflate: true });
    const connection = server.nextConnection();
    const client = startClient(server.url);
    const courier = await client.ready;
    const seen = closeSeen(await connection);
    const messages = Array.from({ length: 10 }, (_, index) => seededBytes(64 * 1024, index));

    for (const message of messages) {
      courier.send_binary(message);
      await new Promise(setImmediate);
    }
    courier.close(1000);

    await expect(client.done).resolves.toEqual([1000, '']);
    await expect(seen).resolves.toEqual([1000, '']);
    expect(received).toHaveLength(messages.length);
    received.forEach((data, index) => expect(data.equals(messages[index] as Buffer)).toBe(true));
  });

  test('empty text and binary messages between others arrive as empty messages', async () => {
    const received: string[] = [];
    const server = await wsServer(
      (socket) => socket.on('message', (data, isBinary) => received.push(`${isBinary ? 'b' : 't'}:${String(data)}`)),
      { perMessageDeflate: true },
    );
    const client = startClient(server.url);
    const courier = await client.ready;

    courier.send_text('a');
    courier.send_text('');
    courier.send_binary(Buffer.alloc(0));
    courier.send_text('b');
    courier.close(1000);

    await expect(client.done).resolves.toEqual([1000, '']);
    expect(received).toEqual(['t:a', 't:', 'b:', 't:b']);
  });
});
