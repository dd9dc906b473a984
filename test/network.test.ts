/**
 * The network as users meet it: IPv6 literals, Unix domain sockets,
 * connect_timeout, max_message_size, and lws's proxy environment variables
 * kept out of the way. Real servers on loopback, ports chosen by the OS.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { connect, ConnectionFailed, WebSocketClose } from '../lib';
import { rejectionOf, startClient } from './helpers/client';
import { nodeChild, onCleanup, runCleanups, wsServer } from './helpers/per_test';
import { closeSeen, spawnNode } from './helpers/tools';
import { turns } from './helpers/turns';

afterEach(runCleanups);

/** A `ws` server on an http server listening where `listen` says; each client is told its Host and path. */
async function serverOn(...listen: [port: number, host: string] | [socketPath: string]) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, request) => socket.send(`${request.headers.host} ${request.url}`));
  server.listen(...(listen as [number, string]));
  await once(server, 'listening');
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  return { server, wss, address: server.address() };
}

async function firstMessageThenClose(url: string): Promise<string> {
  const client = startClient(url);
  const message = await client.next();
  (await client.ready).close(1000);
  await expect(client.done).resolves.toEqual([1000, '']);
  return String(message);
}

test('an IPv6 literal: connects to [::1], the Host header keeps the brackets and the port', async () => {
  const { address } = await serverOn(0, '::1');
  const { port } = address as AddressInfo;

  await expect(firstMessageThenClose(`ws://[::1]:${port}/six?x=1`)).resolves.toBe(`[::1]:${port} /six?x=1`);
});

describe('ws+unix: URLs', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'lws-unix-'));
    onCleanup(() => rmSync(directory, { recursive: true, force: true }));
  });

  test('ws+unix:/path/to/socket:/request/path?query reaches the server on that socket', async () => {
    const socketPath = path.join(directory, 'ws.sock');
    await serverOn(socketPath);

    await expect(firstMessageThenClose(`ws+unix:${socketPath}:/over/unix?q=2`)).resolves.toBe('localhost /over/unix?q=2');
  });

  test('without a request path, / is requested', async () => {
    const socketPath = path.join(directory, 'ws.sock');
    await serverOn(socketPath);

    await expect(firstMessageThenClose(`ws+unix:${socketPath}`)).resolves.toBe('localhost /');
  });

  test('a socket nobody listens on rejects ConnectionFailed naming the cause', async () => {
    const socketPath = path.join(directory, 'nobody.sock');
    const error = await rejectionOf(connect({ url: `ws+unix:${socketPath}`, on_ready: () => undefined }));

    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('connect');
    expect((error as Error).message).toMatch(new RegExp(`^WebSocket connection to ${socketPath} failed \\(connect\\): .*no such socket`));
  });

  test('a relative socket path is refused before any connection', () => {
    expect(() => connect({ url: 'ws+unix:relative.sock', on_ready: () => undefined })).toThrow(
      /^Expected ws\+unix: with an absolute socket path for url but received 'ws\+unix:relative.sock'$/,
    );
  });
});

describe('connect_timeout', () => {
  test('a server that accepts TCP but never answers the upgrade: rejects ConnectionFailed (timeout) after connect_timeout', async () => {
    const silent = net.createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const accepted = once(silent, 'connection');
    onCleanup(() => new Promise((resolve) => silent.close(resolve)));
    // The server's sockets are held open: only the timeout can end this.
    silent.on('connection', (socket: net.Socket) => onCleanup(() => socket.destroy()));
    const { port } = silent.address() as AddressInfo;
    const started = process.hrtime.bigint();

    const error = await rejectionOf(connect({ url: `ws://127.0.0.1:${port}/`, connect_timeout: 1, on_ready: () => undefined }));

    await accepted;
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('timeout');
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).toContain('within 1 s (connect_timeout)');
    // Bounded by the timeout, not by something longer (lws's own 20 s, say).
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(5);
  });

  test("a server that answers the upgrade after 16 s, past lws's own 15 s limit on a step of the opening: connect_timeout 30 lets it complete", async () => {
    const ANSWER_AFTER_MS = 16_000;
    // The server's behaviour under test: it holds the upgrade, then accepts.
    const server = await wsServer((socket) => socket.close(1000, 'late but fine'), {
      verifyClient: (_info, accept) => void setTimeout(() => accept(true), ANSWER_AFTER_MS),
    });
    const started = process.hrtime.bigint();
    let ready = false;

    const result = await connect({ url: `${server.url}/`, connect_timeout: 30, on_ready: () => (ready = true) });

    expect(result).toEqual([1000, 'late but fine']);
    expect(ready).toBe(true);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeGreaterThanOrEqual(ANSWER_AFTER_MS - 50);
  }, 40_000);

  test('validated: 0, 1.5 and a string are refused', () => {
    const attempt = (value: unknown) => () => connect({ url: 'ws://127.0.0.1:9/', connect_timeout: value as number, on_ready: () => undefined });
    expect(attempt(0)).toThrow(new RangeError('Expected an integer from 1 to 3600 for connect_timeout but received 0'));
    expect(attempt(1.5)).toThrow(new RangeError('Expected an integer from 1 to 3600 for connect_timeout but received 1.5'));
    expect(attempt('5')).toThrow(new TypeError("Expected an integer for connect_timeout but received '5'"));
  });
});

describe('max_message_size', () => {
  async function sender(send: (socket: WebSocket) => void) {
    const { wss, address } = await serverOn(0, '127.0.0.1');
    wss.removeAllListeners('connection');
    const connection = once(wss, 'connection').then(([socket]) => socket as WebSocket);
    wss.on('connection', send);
    return { url: `ws://127.0.0.1:${(address as AddressInfo).port}/`, connection };
  }

  test('a message one byte over the limit: the client closes with 1009 and the promise rejects WebSocketClose 1009', async () => {
    const { url, connection } = await sender((socket) => {
      socket.send(Buffer.alloc(1024, 1));
      socket.send(Buffer.alloc(1025, 2));
    });
    const client = startClient(url, { max_message_size: 1024 });
    const seen = closeSeen(await connection);

    // The message at the limit is delivered; the one over it is not.
    expect(await client.next()).toEqual(Buffer.alloc(1024, 1));
    const error = await rejectionOf(client.done);

    expect(error).toBeInstanceOf(WebSocketClose);
    expect((error as WebSocketClose).get('code')).toBe(1009);
    expect((await seen)[0]).toBe(1009);
  });

  test('the limit counts the whole message, not its fragments', async () => {
    const { url, connection } = await sender((socket) => {
      for (let part = 0; part < 4; part++) socket.send(Buffer.alloc(400, part), { fin: part === 3 });
    });
    const client = startClient(url, { max_message_size: 1024 });
    const seen = closeSeen(await connection);

    const error = await rejectionOf(client.done);

    expect((error as WebSocketClose).get('code')).toBe(1009);
    expect((await seen)[0]).toBe(1009);
  });
});

test('the http_proxy and socks_proxy environment variables are not used: only the proxy option routes', async () => {
  const { address } = await serverOn(0, '127.0.0.1');
  const { port } = address as AddressInfo;
  // A "proxy" that would swallow the connection if lws used it.
  const trap = net.createServer((socket) => socket.destroy());
  trap.listen(0, '127.0.0.1');
  await once(trap, 'listening');
  onCleanup(() => new Promise((resolve) => trap.close(resolve)));
  const trapUrl = `127.0.0.1:${(trap.address() as AddressInfo).port}`;

  const child = spawnNode(
    `const { connect } = require(process.env.LWS_DIST);
     connect({ url: process.argv[1], on_ready(c) { c.on_text((c, m) => { console.log(m); c.close(1000); }); } })
       .then((r) => console.log('closed', r[0]), (e) => console.log('failed', e.message));`,
    [`ws://127.0.0.1:${port}/direct`],
    { http_proxy: `http://${trapUrl}`, socks_proxy: trapUrl },
  );
  onCleanup(() => child.kill());

  await expect(child.waitForLine((line) => line.startsWith('closed') || line.startsWith('failed'))).resolves.toBe('closed 1000');
  expect(child.lines[0]).toBe(`127.0.0.1:${port} /direct`);
});

describe('signal', () => {
  async function silentServer(): Promise<{ port: number; accepted: Promise<net.Socket> }> {
    const silent = net.createServer();
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const sockets: net.Socket[] = [];
    silent.on('connection', (socket: net.Socket) => sockets.push(socket));
    onCleanup(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const accepted = once(silent, 'connection').then(([socket]) => socket as net.Socket);
    return { port: (silent.address() as AddressInfo).port, accepted };
  }

  /** A probe connected now is the first connection the server sees: none of ours came before. */
  async function expectProbeFirst(port: number, accepted: Promise<net.Socket>): Promise<void> {
    const probe = net.connect(port, '127.0.0.1');
    onCleanup(() => probe.destroy());
    await once(probe, 'connect');
    const first = await accepted;
    expect(first.remotePort).toBe(probe.localPort);
  }

  test('aborting while the handshake is pending drops the attempt and rejects with signal.reason', async () => {
    const { port, accepted } = await silentServer();
    const controller = new AbortController();
    const result = connect({ url: `ws://127.0.0.1:${port}/`, signal: controller.signal, on_ready: () => undefined });
    const socket = await accepted;

    controller.abort();

    const error = await rejectionOf(result);
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe('AbortError');
    // The attempt is gone: the server's socket ends.
    await once(socket, 'close');
  });

  test('an already aborted signal rejects with its reason, before any connection', async () => {
    const { port, accepted } = await silentServer();
    const reason = new Error('not today');

    await expect(connect({ url: `ws://127.0.0.1:${port}/`, signal: AbortSignal.abort(reason), on_ready: () => undefined })).rejects.toBe(reason);

    await expectProbeFirst(port, accepted);
  });

  // The addon starts the connections of one turn together, after
  // JavaScript's turn: an abort in between must stop the start.
  test('aborting in the same turn as connect(): rejects with the reason, nothing reaches the server', async () => {
    const { port, accepted } = await silentServer();
    const controller = new AbortController();
    const result = connect({ url: `ws://127.0.0.1:${port}/`, signal: controller.signal, on_ready: () => undefined });
    controller.abort();

    await expect(result).rejects.toBe(controller.signal.reason);
    // Past the turn in which the addon starts connections (its connect()
    // would reach the listen queue at once).
    await turns(2);
    await expectProbeFirst(port, accepted);
  });

  test('aborting in the same turn as connect() lets the process exit by itself', async () => {
    const { port } = await silentServer();
    const child = nodeChild(
      `const { connect } = require(process.env.LWS_DIST);
       const controller = new AbortController();
       connect({ url: process.argv[1], signal: controller.signal, on_ready: () => {} }).catch((e) => console.log('rejected ' + e.name));
       controller.abort();`,
      [`ws://127.0.0.1:${port}/`],
    );

    const { code, signal } = await child.exited;
    expect({ code, signal, stderr: child.stderr(), lines: child.lines }).toEqual({ code: 0, signal: null, stderr: '', lines: ['rejected AbortError'] });
  });

  test('aborting after on_ready changes nothing: the connection closes as it would have', async () => {
    const { address } = await serverOn(0, '127.0.0.1');
    const controller = new AbortController();
    const result = connect({
      url: `ws://127.0.0.1:${(address as AddressInfo).port}/`,
      signal: controller.signal,
      on_ready: (courier) =>
        courier.on_text((c) => {
          controller.abort();
          void c.close(1000, 'after abort');
        }),
    });

    await expect(result).resolves.toEqual([1000, 'after abort']);
  });

  test('a signal that is not an AbortSignal is refused', () => {
    expect(() => connect({ url: 'ws://127.0.0.1:9/', signal: {} as AbortSignal, on_ready: () => undefined })).toThrow(
      'Expected an AbortSignal for signal but received {}',
    );
  });
});
