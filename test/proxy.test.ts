/**
 * The `proxy` option against real proxies on loopback: Debian's tinyproxy
 * for HTTP CONNECT (with and without Basic credentials) and our own SOCKS5
 * server (test/helpers/socks5_server.py). The WebSocket host name is passed
 * to the proxy to resolve; the proxy's own name is resolved in Node.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { connect, ConnectionFailed } from '../lib';
import { failurePhaseOf, native, NativeEventKind, type NativeEventBatch, type NativeFailed } from '../lib/native';
import { greeting, rejectionOf } from './helpers/client';
import { onCleanup, rawServer, runCleanups } from './helpers/per_test';
import { makePki } from './helpers/pki';
import { startHttpProxy } from './helpers/proxy';
import { destroyAndClose, listenOnLoopback } from './helpers/tools';
import { startSocks5Server } from './helpers/socks5';

afterEach(runCleanups);

/** A ws (or wss) server on 127.0.0.1 that greets each client with the Host header it sent. */
async function greetingServer(tls?: https.ServerOptions): Promise<number> {
  const server = tls ? https.createServer(tls) : http.createServer();
  new WebSocketServer({ server }).on('connection', (socket, request) => socket.send(`hello ${request.headers.host}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

describe('HTTP CONNECT proxy (tinyproxy)', () => {
  test('ws:// through the proxy: it CONNECTs to the URL host name, which it resolves', async () => {
    const port = await greetingServer();
    const proxy = await startHttpProxy();
    onCleanup(() => proxy.close());

    await expect(greeting(`ws://localhost:${port}/`, { proxy: proxy.url })).resolves.toBe(`hello localhost:${port}`);
    await expect(proxy.waitForRequest((line) => line.startsWith('CONNECT'))).resolves.toBe(`CONNECT localhost:${port} HTTP/1.1`);
  });

  test('wss:// through the proxy: TLS runs end to end and the certificate is checked against the URL host', async () => {
    const pki = makePki();
    const port = await greetingServer(pki.leaf('localhost'));
    const proxy = await startHttpProxy();
    onCleanup(() => proxy.close());

    await expect(greeting(`wss://localhost:${port}/`, { proxy: proxy.url, tls_ca: pki.ca.cert })).resolves.toBe(`hello localhost:${port}`);
    const refused = await rejectionOf(connect({ url: `wss://localhost:${port}/`, proxy: proxy.url, on_ready: () => undefined }));
    expect(refused).toBeInstanceOf(ConnectionFailed);
    expect((refused as ConnectionFailed).phase).toBe('tls');
  });

  test('100 connections one after another, each with its own proxy credentials, keep at most 16 vhosts', async () => {
    // lws keeps the proxy per vhost, so per-session credentials make a vhost
    // each; those no connection uses go beyond the 16 most recent.
    const port = await greetingServer();
    const proxy = await startHttpProxy();
    onCleanup(() => proxy.close());
    const counts: number[] = [];
    for (let index = 0; index < 100; index++) {
      const withCredentials = proxy.url.replace('http://', `http://session${index}:secret@`);
      await expect(greeting(`ws://localhost:${port}/`, { proxy: withCredentials })).resolves.toBe(`hello localhost:${port}`);
      counts.push(native.vhostCount());
    }
    expect(Math.max(...counts)).toBeLessThanOrEqual(16);
  }, 60_000);

  test('Basic credentials in the proxy URL are sent; without them the proxy refuses (407)', async () => {
    const port = await greetingServer();
    const proxy = await startHttpProxy({ user: 'alice', password: 's3cret' });
    onCleanup(() => proxy.close());
    const withCredentials = proxy.url.replace('http://', 'http://alice:s3cret@');

    await expect(greeting(`ws://localhost:${port}/`, { proxy: withCredentials })).resolves.toBe(`hello localhost:${port}`);
    const error = await rejectionOf(connect({ url: `ws://localhost:${port}/`, proxy: proxy.url, on_ready: () => undefined }));
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as Error).message).toMatch(/407/);
  });

  test('a proxy that is not there: ConnectionFailed in phase connect', async () => {
    const proxy = await startHttpProxy();
    const { url } = proxy;
    await proxy.close();

    const error = await rejectionOf(connect({ url: 'ws://localhost:9/', proxy: url, on_ready: () => undefined }));
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('connect');
  });
});

describe('SOCKS5 proxy', () => {
  test('ws:// through SOCKS5: the server is asked for the URL host name', async () => {
    const port = await greetingServer();
    const socks = await startSocks5Server();
    onCleanup(() => socks.close());

    await expect(greeting(`ws://localhost:${port}/`, { proxy: `socks5://127.0.0.1:${socks.port}` })).resolves.toBe(`hello localhost:${port}`);
    await expect(socks.waitForLine((line) => line.startsWith('connect'))).resolves.toBe(`connect localhost ${port}`);
  });

  test('with username and password (RFC 1929)', async () => {
    const port = await greetingServer();
    const socks = await startSocks5Server({ user: 'bob', password: 'p@ss:word' });
    onCleanup(() => socks.close());

    await expect(
      greeting(`ws://localhost:${port}/`, { proxy: `socks5://bob:${encodeURIComponent('p@ss:word')}@127.0.0.1:${socks.port}` }),
    ).resolves.toBe(`hello localhost:${port}`);
  });
});

describe('the proxy option is validated before the network', () => {
  const attempt = (proxy: unknown) => () => connect({ url: 'ws://localhost:9/', proxy: proxy as string, on_ready: () => undefined });

  test.each([
    ['another scheme', 'ftp://127.0.0.1:2121', "Expected an http://[user:password@]host[:port] or socks5://[user:password@]host[:port] proxy URL for proxy but received 'ftp://127.0.0.1:2121'"],
    ['a path', 'http://127.0.0.1:3128/x', /with no path for proxy/],
    ['a number', 3128, /for proxy but received 3128$/],
  ])('%s → TypeError', (_name, value, message) => {
    expect(attempt(value)).toThrow(message);
  });

  test('a password never appears in an error', () => {
    expect(attempt('ftp://user:hunter2@127.0.0.1:2121')).toThrow("received 'ftp://user:***@127.0.0.1:2121'");
    expect(attempt('http://us:er:hunter2@127.0.0.1:x')).not.toThrow(/hunter2/);
  });

  test('a proxy with a ws+unix: URL is refused', () => {
    expect(() => connect({ url: 'ws+unix:/tmp/x.sock', proxy: 'http://127.0.0.1:3128', on_ready: () => undefined })).toThrow(
      "Expected no proxy for a ws+unix: URL for proxy but received 'http://127.0.0.1:3128'",
    );
  });
});

/** A TCP server standing in for a proxy: records the first bytes of each connection, answers nothing. */
async function fakeProxy() {
  const heads: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (chunk: Buffer) => heads.push(chunk.toString('latin1')));
    socket.on('error', () => undefined);
  });
  const port = await listenOnLoopback(server);
  onCleanup(() => destroyAndClose(server, sockets));
  return { port, heads, contacted: () => sockets.size };
}

describe('credentials lws cannot hold are refused, never sent around the proxy', () => {
  // lws base64-encodes HTTP credentials into 128 bytes (93 bytes of
  // user:password); SOCKS5 keeps user and password in 96-byte buffers (95 and
  // 94 bytes of text). Counted in UTF-8 bytes: 'é' is two.
  test.each([
    ['http', 'u', 'p'.repeat(92), 'user:password of 94 ASCII bytes'],
    ['http', 'u', 'é'.repeat(46), 'user:password of 48 characters, 94 bytes'],
    ['socks5', 'u', 'é'.repeat(48), 'a password of 48 characters, 96 bytes'],
    ['socks5', 'ü'.repeat(48), 'hunter2', 'a user of 48 characters, 96 bytes'],
  ])('%s proxy, %s/%s: %s → TypeError before the network; neither proxy nor target is reached', async (kind, user, password) => {
    const direct = await rawServer();
    const proxy = await fakeProxy();
    const url = `${kind}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`;

    // Whatever happens (today: connect() went straight to the target), it must be a synchronous TypeError.
    let outcome: unknown;
    try {
      outcome = await rejectionOf(connect({ url: `${direct.url}/`, proxy: url, on_ready: (courier) => void courier.close() }));
    } catch (error) {
      outcome = error;
    }
    expect(outcome).toBeInstanceOf(TypeError);
    expect((outcome as Error).message).toMatch(/for proxy but received/);
    expect((outcome as Error).message).toMatch(/bytes/);
    expect((outcome as Error).message).not.toContain(password);
    expect(direct.connections).toBe(0);
    expect(proxy.contacted()).toBe(0);
  });

  test('93 bytes of HTTP credentials are the most, and they go to the proxy', async () => {
    const proxy = await fakeProxy();
    const credentials = `u:${'p'.repeat(91)}`;
    const error = await rejectionOf(
      connect({ url: 'ws://localhost:9/', proxy: `http://${credentials}@127.0.0.1:${proxy.port}`, connect_timeout: 1, on_ready: () => undefined }),
    );
    expect(error).toBeInstanceOf(ConnectionFailed);
    // lws writes the name and scheme in its own case.
    expect(proxy.heads[0]).toMatch(new RegExp(`\r\nProxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}\r\n`, 'i'));
  });

  // The addon's own backstop behind that validation: a vhost whose proxy lws
  // does not take is not created, so nothing connects without the proxy.
  test('the addon fails the connection (setup) when lws_set_proxy refuses, instead of going direct', async () => {
    const direct = await rawServer();
    const proxy = await fakeProxy();
    const events: NativeEventBatch = [];
    const ended = new Promise<void>((resolve) => {
      const connection = new native.Connection(
        { port: direct.port, host: `127.0.0.1:${direct.port}`, path: '/', protocols: '', headers: [], sslFlags: 0, pingInterval: 30, pingTimeout: 299, maxMessageSize: 1 << 20 },
        '127.0.0.1',
        {
          key: `backstop-${Date.now()}`,
          deflateOffer: '',
          caCertificates: [],
          replaceSystemCa: false,
          systemCa: false,
          clientCertificate: undefined,
          clientKey: undefined,
          httpProxy: `u:${'p'.repeat(94)}@127.0.0.1:${proxy.port}`,
          socksProxy: '',
        },
        undefined,
        false,
        (...batch) => {
          events.push(...batch);
          if (batch.includes(NativeEventKind.Open)) connection.abort();
          if (batch.includes(NativeEventKind.Failed) || batch.includes(NativeEventKind.Closed)) resolve();
        },
      );
    });
    await ended;
    expect(events[0]).toBe(NativeEventKind.Failed);
    expect(failurePhaseOf(events[1] as NativeFailed)).toBe('setup');
    expect((events[1] as NativeFailed)[0]).toMatch(/proxy/);
    expect(direct.connections).toBe(0);
  });
});
