/**
 * The `proxy` option against real proxies on loopback: Debian's tinyproxy
 * for HTTP CONNECT (with and without Basic credentials) and our own SOCKS5
 * server (test/helpers/socks5_server.py). The WebSocket host name is passed
 * to the proxy to resolve; the proxy's own name is resolved in Node.
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { connect, ConnectionFailed } from '../lib';
import { greeting, rejectionOf } from './helpers/client';
import { onCleanup, runCleanups } from './helpers/per_test';
import { makePki } from './helpers/pki';
import { startHttpProxy } from './helpers/proxy';
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
