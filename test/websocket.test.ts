/**
 * The WHATWG WebSocket class (lib/websocket.ts) against real servers on
 * 127.0.0.1 with OS-chosen ports: the `ws` package's server, a plain http
 * server that refuses the upgrade, and nothing at all. The last part runs
 * one program unchanged against this class and `ws`'s client class and
 * compares what each saw. Every wait is on an event or a promise.
 */
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import WebSocketWs, { type WebSocket as ServerSocket } from 'ws';
import { Blob } from 'node:buffer';
import type { LookupAddress } from 'node:dns';
import {
  CloseEvent,
  ConnectionFailed,
  ErrorEvent,
  Logger,
  WebSocket,
  WebSocketClose,
  type CloseEventInit,
  type ErrorEventInit,
  type WebSocketData,
} from '../lib';
import { notFoundServer, onCleanup, rawServer, runCleanups, wsServer } from './helpers/per_test';
import { frame, OP } from './helpers/raw_server';
import { echo, type WsServer } from './helpers/servers';
import { closeSeen, freePort, spawnNode, type NodeChild } from './helpers/tools';

// ---------------------------------------------------------------------------
// Cleanup: servers and children end after every test, pass or fail.

afterEach(runCleanups);

/** A WebSocket whose connection is over (closed, or failed) once the test ends. */
function open(...args: ConstructorParameters<typeof WebSocket>): WebSocket {
  const socket = new WebSocket(...args);
  const closed = once(socket, 'close');
  onCleanup(() => {
    socket.close();
    return closed;
  });
  return socket;
}

/** Every event the socket fires, described with the readyState seen in it. */
function record(socket: WebSocket): { log: string[]; closed: Promise<CloseEvent> } {
  const log: string[] = [];
  const state = () => `readyState=${socket.readyState}`;
  socket.addEventListener('open', () => log.push(`open ${state()}`));
  socket.addEventListener('message', (event) => log.push(`message ${describeData(event.data)} ${state()}`));
  socket.addEventListener('error', () => log.push(`error ${state()}`));
  const closed = new Promise<CloseEvent>((resolve) =>
    socket.addEventListener('close', (event) => {
      log.push(`close ${event.code} ${JSON.stringify(event.reason)} wasClean=${event.wasClean} ${state()}`);
      resolve(event);
    }),
  );
  return { log, closed };
}

function describeData(data: WebSocketData): string {
  return typeof data === 'string' ? JSON.stringify(data) : `<${data.constructor.name}>`;
}

/** Resolves on `open`; rejects if the socket closes first. */
function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('close', (event) => reject(new Error(`closed (${event.code}) before open`)));
  });
}

/**
 * An open WebSocket to `server`, its events recorded from the start, and
 * what the server side sees of its close.
 */
async function openedWithPeer(server: WsServer) {
  const serverSide = server.nextConnection();
  const socket = open(server.url);
  const { log, closed } = record(socket);
  await opened(socket);
  const seen = closeSeen(await serverSide);
  return { socket, log, closed, seen };
}

/** The next `message` event's data. */
async function nextData(socket: WebSocket): Promise<WebSocketData> {
  const [event] = (await once(socket, 'message')) as [MessageEvent];
  return event.data as WebSocketData;
}

/** What a call threw, for checking DOMException names. */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectDOMException(run: () => unknown, name: string): void {
  const error = thrown(run);
  expect(error).toBeInstanceOf(DOMException);
  expect((error as DOMException).name).toBe(name);
}

// ---------------------------------------------------------------------------

describe('new WebSocket(url, protocols, options)', () => {
  test('http: and https: map to ws: and wss:, url is the serialized URL, and a URL object works', async () => {
    const server = await wsServer(echo);
    const socket = open(new URL(`http://127.0.0.1:${server.port}/chat?room=1`));
    expect(socket.url).toBe(`ws://127.0.0.1:${server.port}/chat?room=1`);
    await opened(socket);

    const port = await freePort();
    const secure = new WebSocket(`https://127.0.0.1:${port}`);
    expect(secure.url).toBe(`wss://127.0.0.1:${port}/`);
    const { closed } = record(secure);
    expect((await closed).code).toBe(1006);
  });

  test('a fragment (a bare # too), an invalid or relative URL, or another scheme throws a SyntaxError DOMException', () => {
    for (const url of ['ws://127.0.0.1:1/#frag', 'ws://127.0.0.1:1/#', 'not a url', '/relative', 'ftp://127.0.0.1/', 'file:///tmp/x'])
      expectDOMException(() => new WebSocket(url), 'SyntaxError');
    // WebIDL: no argument at all is a TypeError, not an invalid URL.
    expect(() => new (WebSocket as unknown as new () => WebSocket)()).toThrow(TypeError);
  });

  test('duplicate or invalid subprotocols throw a SyntaxError DOMException', () => {
    for (const protocols of [['chat', 'chat'], ['a b'], [''], 'a,b', '[x]', ['ok', 'é']])
      expectDOMException(() => new WebSocket('ws://127.0.0.1:1/', protocols), 'SyntaxError');
  });

  test("connect()'s option errors are thrown synchronously; url, subprotocols and on_ready are refused", () => {
    const url = 'ws://127.0.0.1:1/';
    expect(() => new WebSocket(url, [], { ping_interval: 0 })).toThrow(RangeError);
    expect(() => new WebSocket(url, [], { nope: 1 } as object)).toThrow('Unknown: nope');
    expect(() => new WebSocket(url, [], { headers: ['Host', 'x'] })).toThrow(TypeError);
    expect(() => new WebSocket(url, [], { url } as object)).toThrow('Not accepted in WebSocket options: url');
    expect(() => new WebSocket(url, [], { subprotocols: [] } as object)).toThrow(TypeError);
    expect(() => new WebSocket(url, [], { on_ready() {} } as object)).toThrow(TypeError);
    // An object is the options: an array is a bad one (a string, or null, is ignored: see below).
    expect(() => new WebSocket(url, [], [] as unknown as object)).toThrow('Expected an options object for WebSocket options but received []');
  });

  test('options reach the handshake (headers); URL credentials become a Basic Authorization header', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = await wsServer();
    server.server.on('connection', (_socket, request: http.IncomingMessage) => seen.push(request.headers));

    const withHeaders = open(server.url, [], { headers: ['X-Test', 'yes'], ping_interval: 5 });
    await opened(withHeaders);
    const withCredentials = open(`ws://us%65r:p%40ss@127.0.0.1:${server.port}/`);
    expect(withCredentials.url).toBe(`ws://us%65r:p%40ss@127.0.0.1:${server.port}/`);
    await opened(withCredentials);
    const ownAuthorization = open(`ws://user:pass@127.0.0.1:${server.port}/`, [], { headers: ['Authorization', 'Bearer t'] });
    await opened(ownAuthorization);
    // The object and Headers forms of `headers` too: their Authorization wins, and the credentials join the rest.
    const objectAuthorization = open(`ws://user:pass@127.0.0.1:${server.port}/`, [], { headers: { authorization: 'Bearer o' } });
    await opened(objectAuthorization);
    const headersAndCredentials = open(`ws://user:pass@127.0.0.1:${server.port}/`, [], { headers: new Headers({ 'X-Test': 'map' }) });
    await opened(headersAndCredentials);

    expect(seen.map((headers) => [headers['x-test'], headers.authorization])).toEqual([
      ['yes', undefined],
      [undefined, `Basic ${Buffer.from('user:p@ss').toString('base64')}`],
      [undefined, 'Bearer t'],
      [undefined, 'Bearer o'],
      ['map', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ]);
  });

  test('CONNECTING, OPEN, CLOSING and CLOSED are read-only constants on the class and on instances', () => {
    const constants = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
    const socket = new WebSocket('ws://127.0.0.1:1/');
    expect(socket.readyState).toBe(WebSocket.CONNECTING);
    for (const [name, value] of Object.entries(constants)) {
      expect(WebSocket[name as keyof typeof constants]).toBe(value);
      expect(socket[name as keyof typeof constants]).toBe(value);
      expect(Object.getOwnPropertyDescriptor(WebSocket, name)).toMatchObject({ value, writable: false });
      expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, name)).toMatchObject({ value, writable: false });
    }
    expect(Object.prototype.toString.call(socket)).toBe('[object WebSocket]');
    socket.close();
  });
});

describe('events', () => {
  test('open → message → close, with readyState, origin and the event classes', async () => {
    const server = await wsServer(echo);
    const socket = open(server.url);
    const { log, closed } = record(socket);
    let messageEvent: MessageEvent | undefined;
    socket.onopen = () => socket.send('hello');
    socket.onmessage = (event) => {
      messageEvent = event;
      socket.close(1000, 'done');
    };

    const closeEvent = await closed;
    expect(log).toEqual(['open readyState=1', 'message "hello" readyState=1', 'close 1000 "done" wasClean=true readyState=3']);
    expect(messageEvent).toBeInstanceOf(MessageEvent);
    expect(messageEvent?.origin).toBe(`ws://127.0.0.1:${server.port}`);
    expect(closeEvent).toBeInstanceOf(CloseEvent);
    expect(closeEvent).toBeInstanceOf(Event);
    expect(closeEvent.target).toBe(socket);
  });

  test('on* attributes: a handler keeps its place when replaced, null removes it, `this` is the socket', async () => {
    const server = await wsServer(echo);
    const socket = open(server.url);
    const calls: string[] = [];
    socket.onmessage = () => calls.push('first handler');
    socket.addEventListener('message', () => calls.push('listener'));
    socket.onmessage = function (this: WebSocket) {
      calls.push(`replacement handler, this is the socket: ${this === socket}`);
    };
    expect(typeof socket.onmessage).toBe('function');
    await opened(socket);

    socket.send('one');
    await nextData(socket);
    expect(calls).toEqual(['replacement handler, this is the socket: true', 'listener']);

    socket.onmessage = null;
    expect(socket.onmessage).toBeNull();
    socket.send('two');
    await nextData(socket);
    expect(calls).toEqual(['replacement handler, this is the socket: true', 'listener', 'listener']);
  });

  // Node's EventTarget reports a throwing listener as an uncaught exception
  // on the next tick, from the real `process`, which jest's sandbox does not
  // let a test intercept: so this runs as a user's program in a child, with
  // lib/ loaded through a TypeScript transpile hook (independent of dist/).
  const THROWING_LISTENERS = `
    const fs = require('node:fs');
    const ts = require(process.argv[1]);
    require.extensions['.ts'] = (module, filename) => {
      const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      module._compile(outputText, filename);
    };
    const { WebSocket } = require(process.argv[2]);
    process.on('uncaughtException', (error) => console.log('uncaught ' + error.message));
    const socket = new WebSocket(process.argv[3]);
    socket.addEventListener('open', () => { throw new Error('open listener threw'); });
    socket.onopen = () => { socket.send('one'); socket.send('two'); };
    socket.addEventListener('message', (event) => { throw new Error('message listener threw on ' + event.data); });
    socket.onmessage = (event) => {
      console.log('message ' + event.data);
      if (event.data === 'two') socket.close(1000, 'done');
    };
    socket.onclose = (event) => console.log('close ' + event.code + ' ' + event.reason + ' ' + event.wasClean);
  `;

  test('a throwing listener is reported as an uncaught exception, and the connection goes on', async () => {
    const server = await wsServer(echo);
    const child: NodeChild = spawnNode(THROWING_LISTENERS, [require.resolve('typescript'), path.resolve(__dirname, '..', 'lib'), server.url]);
    onCleanup(() => child.kill());
    const { code } = await child.exited;

    expect({ code, stderr: child.stderr() }).toEqual({ code: 0, stderr: '' });
    expect([...child.lines].sort()).toEqual(
      [
        'uncaught open listener threw',
        'message one',
        'uncaught message listener threw on one',
        'message two',
        'uncaught message listener threw on two',
        'close 1000 done true',
      ].sort(),
    );
    expect(child.lines.at(-1)).toBe('close 1000 done true');
    expect(child.lines.indexOf('message one')).toBeLessThan(child.lines.indexOf('message two'));
  });
});

describe('closing', () => {
  test('close(code, reason) reaches the server, and the close event reports the handshake', async () => {
    const server = await wsServer();
    const { socket, log, closed, seen } = await openedWithPeer(server);

    socket.close(4000, 'bye');
    expect(socket.readyState).toBe(WebSocket.CLOSING);
    await closed;
    expect(await seen).toEqual([4000, 'bye']);
    expect(log).toEqual(['open readyState=1', 'close 4000 "bye" wasClean=true readyState=3']);
  });

  test('close() without arguments sends no status (1005); a reason alone implies 1000', async () => {
    const server = await wsServer();
    for (const [args, expected] of [
      [[], [1005, '']],
      [[undefined, 'only a reason'], [1000, 'only a reason']],
    ] as Array<[[number?, string?], [number, string]]>) {
      const { socket, closed, seen } = await openedWithPeer(server);
      socket.close(...args);
      const event = await closed;
      expect(await seen).toEqual(expected);
      expect([event.code, event.reason, event.wasClean]).toEqual([...expected, true]);
    }
  });

  test('the server closing gives a clean close event with its code, and no error event, 1000 or not', async () => {
    for (const [code, reason] of [
      [1000, 'normal'],
      [1001, 'going away'],
      // The server's own close frame, whatever its code: not a protocol violation of the server's.
      [1002, 'you broke the protocol'],
      [4001, 'nope'],
    ] as const) {
      const server = await wsServer((socket) => socket.close(code, reason));
      const socket = open(server.url);
      const { log, closed } = record(socket);
      await closed;
      expect(log).toEqual(['open readyState=1', `close ${code} "${reason}" wasClean=true readyState=3`]);
    }
  });

  test('close() checks its arguments: InvalidAccessError for the code, SyntaxError for a long reason', async () => {
    const server = await wsServer();
    const { socket, seen } = await openedWithPeer(server);

    for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000, 65535, NaN, -1, 1e9, null as unknown as number])
      expectDOMException(() => socket.close(code), 'InvalidAccessError');
    expectDOMException(() => socket.close(1000, 'x'.repeat(124)), 'SyntaxError');
    expectDOMException(() => socket.close(1000, 'é'.repeat(62)), 'SyntaxError'); // 124 UTF-8 bytes
    expect(socket.readyState).toBe(WebSocket.OPEN);

    // WebIDL [Clamp]: 3000.5 rounds to the even 3000; 123 bytes is the limit.
    const reason = `${'é'.repeat(61)}a`;
    socket.close(3000.5, reason);
    expect(await seen).toEqual([3000, reason]);
  });

  test('close() while CLOSING or CLOSED does nothing (its arguments are still checked)', async () => {
    const server = await wsServer();
    const { socket, log, closed, seen } = await openedWithPeer(server);
    socket.close(4000, 'first');
    socket.close(4001, 'second');
    expectDOMException(() => socket.close(1234), 'InvalidAccessError');
    await closed;
    socket.close(4002, 'third');
    expect(await seen).toEqual([4000, 'first']);
    expect(log.at(-1)).toBe('close 4000 "first" wasClean=true readyState=3');
  });

  test('a message that arrives after close() was called is dropped, as the spec says', async () => {
    let lateSent = 0;
    const server = await wsServer((socket) =>
      socket.on('message', () => {
        socket.send('late');
        lateSent++;
      }),
    );
    const socket = open(server.url);
    const { log, closed } = record(socket);
    socket.onopen = () => {
      socket.send('trigger');
      socket.close(1000, 'done');
    };
    await closed;
    expect(lateSent).toBe(1);
    expect(log).toEqual(['open readyState=1', 'close 1000 "done" wasClean=true readyState=3']);
  });

  test('close() while CONNECTING fails the connection: error, then close 1006, never open', async () => {
    const server = await wsServer();
    const serverSide = server.nextConnection();
    const socket = new WebSocket(server.url);
    const { log, closed } = record(socket);
    let errorEvent: ErrorEvent | undefined;
    socket.onerror = (event) => (errorEvent = event);
    socket.close(4000, 'never sent');
    expect(socket.readyState).toBe(WebSocket.CLOSING);

    await closed;
    expect(log).toEqual(['error readyState=3', 'close 1006 "" wasClean=false readyState=3']);
    expect(errorEvent).toBeInstanceOf(ErrorEvent);
    expect(errorEvent?.message).toMatch(/closed before the connection was established/);
    // The opening was dropped before it reached the server: the first
    // connection the server sees is a probe made afterwards.
    const probe = new WebSocket(server.url, 'probe');
    const first = await serverSide;
    expect(first.protocol).toBe('probe');
    probe.close();
    expect(log).toHaveLength(2);
  });
});

describe('binaryType', () => {
  test("defaults to 'blob'; values outside the enumeration are ignored", () => {
    const socket = new WebSocket('ws://127.0.0.1:1/');
    expect(socket.binaryType).toBe('blob');
    socket.binaryType = 'arraybuffer';
    for (const value of ['fragments', 'Blob', '', 'ArrayBuffer']) {
      socket.binaryType = value as WebSocket['binaryType'];
      expect(socket.binaryType).toBe('arraybuffer');
    }
    socket.binaryType = 'nodebuffer';
    expect(socket.binaryType).toBe('nodebuffer');
    socket.binaryType = 'blob';
    expect(socket.binaryType).toBe('blob');
    socket.close();
  });

  test('blob, arraybuffer and nodebuffer deliver the bytes as a Blob, an ArrayBuffer and a Buffer', async () => {
    const server = await wsServer(echo);
    const socket = open(server.url);
    await opened(socket);
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);

    socket.send(bytes);
    const blob = await nextData(socket);
    expect(blob).toBeInstanceOf(Blob);
    expect(Buffer.from(await (blob as Blob).arrayBuffer())).toEqual(bytes);

    socket.binaryType = 'arraybuffer';
    socket.send(bytes);
    const arrayBuffer = await nextData(socket);
    expect(arrayBuffer).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(arrayBuffer as ArrayBuffer)).toEqual(bytes);

    socket.binaryType = 'nodebuffer';
    socket.send(bytes);
    const buffer = await nextData(socket);
    expect(Buffer.isBuffer(buffer)).toBe(true);
    expect(buffer).toEqual(bytes);

    socket.send('text stays a string');
    expect(await nextData(socket)).toBe('text stays a string');
  });
});

describe('send()', () => {
  test('throws an InvalidStateError DOMException while CONNECTING', () => {
    const socket = new WebSocket('ws://127.0.0.1:1/');
    expectDOMException(() => socket.send('too early'), 'InvalidStateError');
    expect(socket.bufferedAmount).toBe(0);
    socket.close();
  });

  test('strings, Buffers, TypedArrays, DataViews, ArrayBuffers and Blobs leave in the order of the calls, before the close', async () => {
    const received: Array<{ binary: boolean; data: string }> = [];
    const server = await wsServer((socket) =>
      socket.on('message', (data, isBinary) => received.push({ binary: isBinary, data: isBinary ? [...(data as Buffer)].join(',') : String(data) })),
    );
    const { socket, seen } = await openedWithPeer(server);

    const reused = new Uint8Array([1, 2, 3]);
    socket.send('a');
    socket.send(new Blob([new Uint8Array([10, 11])]));
    socket.send(reused); // waits behind the Blob: copied now
    reused[0] = 99;
    socket.send(new Uint16Array([0x0102]).subarray(0, 1));
    socket.send(new DataView(new Uint8Array([7, 8, 9, 10]).buffer, 1, 2));
    socket.send(new Blob(['blob text']));
    socket.send(new Uint8Array([5, 6]).buffer);
    socket.send(42 as unknown as string); // WebIDL: converted to the string "42"
    socket.close(1000, 'after all');

    await seen;
    expect(received).toEqual([
      { binary: false, data: 'a' },
      { binary: true, data: '10,11' },
      { binary: true, data: '1,2,3' },
      { binary: true, data: [...new Uint8Array(new Uint16Array([0x0102]).buffer)].join(',') },
      { binary: true, data: '8,9' },
      { binary: true, data: [...Buffer.from('blob text')].join(',') },
      { binary: true, data: '5,6' },
      { binary: false, data: '42' },
    ]);
  });

  test('a Blob that cannot be read fails the connection: error, then close 1006', async () => {
    class UnreadableBlob extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(new Error('the file is gone'));
      }
    }
    const server = await wsServer();
    const serverSide = server.nextConnection();
    const socket = open(server.url);
    const { log, closed } = record(socket);
    let errorEvent: ErrorEvent | undefined;
    socket.onerror = (event) => (errorEvent = event);
    await opened(socket);
    const seen = closeSeen(await serverSide);
    socket.send(new UnreadableBlob(['x']));
    socket.send('never sent');

    await closed;
    expect(log).toEqual(['open readyState=1', 'error readyState=3', 'close 1006 "" wasClean=false readyState=3']);
    expect((errorEvent?.error as Error).cause).toEqual(new Error('the file is gone'));
    expect(await seen).toEqual([1011, '']);
  });

  test('bufferedAmount counts what is not yet written, and only grows once closing has started', async () => {
    const server = await wsServer();
    const serverSide = server.nextConnection();
    const socket = open(server.url);
    await opened(socket);
    const peer = await serverSide;

    // Both messages can arrive in one 'data' chunk: count them from the start.
    const bothArrived = new Promise<void>((resolve) => {
      let count = 0;
      peer.on('message', () => ++count === 2 && resolve());
    });
    const big = Buffer.alloc(1 << 20, 1);
    socket.send(big);
    socket.send('é');
    expect(socket.bufferedAmount).toBe(big.length + 2);
    await bothArrived;
    expect(socket.bufferedAmount).toBe(0);

    const { closed } = record(socket);
    socket.close();
    socket.send('abc');
    socket.send(new Uint8Array(5));
    socket.send(new Blob(['1234']));
    expect(socket.bufferedAmount).toBe(3 + 5 + 4);
    await closed;
    expect(socket.bufferedAmount).toBe(12);
    socket.send('é');
    expect(socket.bufferedAmount).toBe(14);
  });
});

describe('protocol and extensions', () => {
  test('protocol is the subprotocol the server selected; a string is one protocol; none gives ""', async () => {
    const server = await wsServer(undefined, { handleProtocols: (offered) => (offered.has('b') ? 'b' : false) });
    const both = open(server.url, ['a', 'b']);
    expect(both.protocol).toBe('');
    await opened(both);
    expect(both.protocol).toBe('b');

    const single = open(server.url, 'b');
    await opened(single);
    expect(single.protocol).toBe('b');

    const none = open(server.url);
    await opened(none);
    expect(none.protocol).toBe('');
  });

  test('extensions is what the server accepted', async () => {
    const plain = await wsServer();
    const withoutDeflate = open(plain.url);
    await opened(withoutDeflate);
    expect(withoutDeflate.extensions).toBe('');

    const deflating = await wsServer(echo, { perMessageDeflate: true });
    const withDeflate = open(deflating.url);
    await opened(withDeflate);
    expect(withDeflate.extensions).toMatch(/^permessage-deflate/);
    withDeflate.send('compressed both ways');
    expect(await nextData(withDeflate)).toBe('compressed both ways');
  });
});

describe('failing to connect', () => {
  test('nothing listening: error (with the ConnectionFailed), then close 1006, never open', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${await freePort()}/`);
    const { log, closed } = record(socket);
    let errorEvent: ErrorEvent | undefined;
    socket.onerror = (event) => (errorEvent = event);
    await closed;
    expect(log).toEqual(['error readyState=3', 'close 1006 "" wasClean=false readyState=3']);
    expect(errorEvent?.error).toBeInstanceOf(ConnectionFailed);
    expect((errorEvent?.error as ConnectionFailed).phase).toBe('connect');
  });

  test("a refused upgrade (404): error, then close 1006; the logger option takes lws's lines", async () => {
    const lines: string[] = [];
    const logger = new Logger({ callback: (_level, message) => lines.push(message) });
    const socket = new WebSocket((await notFoundServer()).url, [], { logger });
    const { log, closed } = record(socket);
    await closed;
    expect(log).toEqual(['error readyState=3', 'close 1006 "" wasClean=false readyState=3']);
    expect(lines.some((line) => line.includes('404'))).toBe(true);
  });
});

describe('a server that breaks the protocol fails the connection (WHATWG "fail the WebSocket connection")', () => {
  // lws still sends the server the RFC's close code; the close event reports
  // 1006, not clean, after an error event, as browsers and undici do.
  test.each<[string, number, Buffer, { max_message_size?: number }]>([
    ['a masked frame', 1002, frame({ opcode: OP.TEXT, mask: true, payload: 'masked' }), {}],
    ['a text message that is not UTF-8', 1007, frame({ opcode: OP.TEXT, payload: Buffer.from([0x68, 0xff, 0x69]) }), {}],
    ['a message over max_message_size', 1009, frame({ opcode: OP.BINARY, payload: Buffer.alloc(11) }), { max_message_size: 10 }],
  ])('%s: error, then close 1006 wasClean=false; the server gets %d', async (_title, code, violation, options) => {
    const server = await rawServer();
    const peer = server.nextPeer();
    const socket = new WebSocket(server.url, [], options);
    const { log, closed } = record(socket);
    let errorEvent: ErrorEvent | undefined;
    socket.onerror = (event) => (errorEvent = event);
    socket.onopen = async () => (await peer).send(violation, frame({ opcode: OP.TEXT, payload: 'never delivered' }));

    await closed;
    expect(log).toEqual(['open readyState=1', 'error readyState=3', 'close 1006 "" wasClean=false readyState=3']);
    expect(errorEvent?.error).toBeInstanceOf(WebSocketClose);
    expect((errorEvent?.error as WebSocketClose).status).toBe(code);
    expect(errorEvent?.message).toMatch(new RegExp(`^the server broke the WebSocket protocol: the connection was failed with close code ${code}`));
    expect(await (await peer).clientClose).toMatchObject({ frame: true, code });
  });
});

describe('subprotocols: a server that selects none of those requested fails the connection', () => {
  test('no Sec-WebSocket-Protocol in the 101: error (a handshake ConnectionFailed), then close 1006, never open', async () => {
    const server = await rawServer();
    const socket = new WebSocket(server.url, ['chat', 'superchat']);
    const { log, closed } = record(socket);
    let errorEvent: ErrorEvent | undefined;
    socket.onerror = (event) => (errorEvent = event);
    // Were it to open, it is closed, so the log shows it (rather than a timeout).
    socket.addEventListener('open', () => socket.close());

    await closed;
    expect(log).toEqual(['error readyState=3', 'close 1006 "" wasClean=false readyState=3']);
    expect(socket.protocol).toBe('');
    const failure = errorEvent?.error as ConnectionFailed;
    expect(failure).toBeInstanceOf(ConnectionFailed);
    expect([failure.phase, failure.host, failure.port]).toEqual(['handshake', '127.0.0.1', server.port]);
    expect(failure.message).toMatch(/selected none of the subprotocols requested \(chat, superchat\)$/);
    // The connection is ended, not left open: the server gets a close frame.
    expect(await (await server.nextPeer()).clientClose).toMatchObject({ frame: true, code: 1011 });
  });
});

describe('bad ports (Fetch standard port blocking)', () => {
  /** A resolver that records every name it is asked for and answers 127.0.0.1. */
  function recordingLookup(asked: string[]) {
    return (hostname: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) => {
      asked.push(hostname);
      callback(null, [{ address: '127.0.0.1', family: 4 }]);
    };
  }

  test.each(['ws://blocked.test:1/', 'ws://blocked.test:25/', 'wss://blocked.test:6000/', 'http://blocked.test:6697/', 'ws://blocked.test:10080/', 'ws://blocked.test:0/'])(
    '%s: the constructor returns, then error, then close 1006, and nothing was resolved or connected',
    async (url) => {
      const asked: string[] = [];
      const socket = new WebSocket(url, [], { lookup: recordingLookup(asked) });
      expect(socket.readyState).toBe(WebSocket.CONNECTING);
      const { log, closed } = record(socket);
      let errorEvent: ErrorEvent | undefined;
      socket.onerror = (event) => (errorEvent = event);

      await closed;
      expect(log).toEqual(['error readyState=3', 'close 1006 "" wasClean=false readyState=3']);
      const port = new URL(url).port;
      expect(errorEvent?.error).toBeInstanceOf(ConnectionFailed);
      expect(errorEvent?.error).toMatchObject({ phase: 'connect', host: 'blocked.test', port: Number(port) });
      expect(errorEvent?.message).toMatch(new RegExp(`port ${port} is a bad port`));
      expect(asked).toEqual([]);
    },
  );

  test('a port that is not bad is resolved and connected as usual (the recording resolver sees it)', async () => {
    const server = await wsServer();
    const asked: string[] = [];
    const socket = open(`ws://allowed.test:${server.port}/`, [], { lookup: recordingLookup(asked) });
    await opened(socket);
    expect(asked).toEqual(['allowed.test']);
  });

  test('option errors still throw from the constructor', () => {
    expect(() => new WebSocket('ws://127.0.0.1:25/', [], { ping_interval: 0 })).toThrow(RangeError);
  });
});

describe('constructor arguments beyond the spec', () => {
  test('a third argument that is not an object, and any argument after the options, is ignored (WPT Create-extra-argument)', async () => {
    const server = await wsServer();
    const construct = WebSocket as unknown as new (...args: unknown[]) => WebSocket;
    for (const socket of [
      new construct(server.url, 'echo', 'Stray argument'),
      new construct(server.url, [], null),
      new construct(server.url, [], { ping_interval: 5 }, 'extra', 42),
    ]) {
      const closed = once(socket, 'close');
      onCleanup(() => {
        socket.close();
        return closed;
      });
      await opened(socket);
    }
  });
});

describe('CloseEvent and ErrorEvent', () => {
  test('the type is required: no argument is a TypeError', () => {
    for (const EventClass of [CloseEvent, ErrorEvent]) expect(() => new (EventClass as unknown as new () => Event)()).toThrow(TypeError);
  });

  test('each reports its own class name', () => {
    expect(Object.prototype.toString.call(new CloseEvent('close'))).toBe('[object CloseEvent]');
    expect(Object.prototype.toString.call(new ErrorEvent('error'))).toBe('[object ErrorEvent]');
    expect(String(new CloseEvent('close'))).toBe('[object CloseEvent]');
  });

  test("ErrorEvent has HTML's filename, lineno and colno: '' and 0 unless given", () => {
    const plain = new ErrorEvent('error', { message: 'm' });
    expect([plain.message, plain.filename, plain.lineno, plain.colno, plain.error]).toEqual(['m', '', 0, 0, undefined]);
    const located = new ErrorEvent('error', { filename: 'a.js', lineno: 3, colno: 7, error: 'e' });
    expect([located.filename, located.lineno, located.colno, located.error]).toEqual(['a.js', 3, 7, 'e']);
  });

  test('init members are converted to their IDL types', () => {
    const close = new CloseEvent('close', { wasClean: 'yes', code: 65536 + 1000, reason: 5 } as unknown as CloseEventInit);
    expect([close.wasClean, close.code, close.reason]).toEqual([true, 1000, '5']);
    const error = new ErrorEvent('error', { message: 1, lineno: -1, colno: Number.NaN } as unknown as ErrorEventInit);
    expect([error.message, error.lineno, error.colno]).toEqual(['1', 2 ** 32 - 1, 0]);
  });
});

// ---------------------------------------------------------------------------
// One program, two classes: what a WHATWG WebSocket program sees must not
// depend on which implementation it was given.

/** The WHATWG surface chat() uses, which both classes have. */
interface WhatwgSocket {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  send(data: string | ArrayBuffer | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** Text and binary to an echo server, then "bye": the client closes when it comes back, unless the server closed first. */
async function chat(WebSocketCtor: new (url: string) => WhatwgSocket, url: string): Promise<string[]> {
  const transcript: string[] = [];
  const socket = new WebSocketCtor(url);
  socket.binaryType = 'arraybuffer';
  transcript.push(`constructed readyState=${socket.readyState}`);
  return new Promise((resolve) => {
    socket.onopen = () => {
      transcript.push(`open readyState=${socket.readyState}`);
      socket.send('hello');
      socket.send(new Uint8Array([1, 2, 3]));
      socket.send(new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
      socket.send(new Uint8Array([4, 5]).buffer);
      socket.send('ünïcødé 😀');
      socket.send('bye');
    };
    socket.onmessage = (event: { data: unknown }) => {
      const { data } = event;
      if (typeof data !== 'string') {
        transcript.push(`binary [${[...new Uint8Array(data as ArrayBuffer)].join(',')}]`);
        return;
      }
      transcript.push(`text ${data}`);
      if (data === 'bye') {
        socket.close(1000, 'client done');
        transcript.push(`close() readyState=${socket.readyState}`);
      }
    };
    socket.onclose = (event: { code: number; reason: string; wasClean: boolean }) => {
      transcript.push(`close ${event.code} ${JSON.stringify(event.reason)} wasClean=${event.wasClean} readyState=${socket.readyState}`);
      resolve(transcript);
    };
  });
}

describe('one program against this WebSocket and ws', () => {
  /** Echoes; on /server-closes it answers "bye" by closing with 4000. */
  function chatServer(socket: ServerSocket, request: http.IncomingMessage): void {
    socket.on('message', (data, isBinary) => {
      if (request.url === '/server-closes' && !isBinary && String(data) === 'bye') socket.close(4000, 'server done');
      else socket.send(data, { binary: isBinary });
    });
  }

  test.each(['/client-closes', '/server-closes'])('%s: identical transcripts', async (route) => {
    const server = await wsServer();
    server.server.on('connection', chatServer);
    const url = `${server.url}${route}`;

    const ours = await chat(WebSocket, url);
    const theirs = await chat(WebSocketWs, url);

    expect(ours).toEqual(theirs);
    const ending =
      route === '/client-closes'
        ? ['text bye', 'close() readyState=2', 'close 1000 "client done" wasClean=true readyState=3']
        : ['close 4000 "server done" wasClean=true readyState=3'];
    expect(ours).toEqual([
      'constructed readyState=0',
      'open readyState=1',
      'text hello',
      'binary [1,2,3]',
      'binary [8,7]',
      'binary [4,5]',
      'text ünïcødé 😀',
      ...ending,
    ]);
  });
});
