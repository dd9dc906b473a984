/**
 * A 3xx answer to the upgrade. lws would follow it by itself (carrying our
 * custom headers to the new host, resolving its name with a blocking call,
 * reaching Unix sockets); it is told not to, and connect() decides: by
 * default the redirect is a ConnectionFailed carrying the status and the
 * Location, and with follow_redirects each hop is a new attempt of our own.
 */
import dns from 'node:dns';
import { once } from 'node:events';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect, ConnectionFailed, type ConnectOptions, type Courier } from '../lib';
import { rejectionOf } from './helpers/client';
import { onCleanup, rawServer, runCleanups } from './helpers/per_test';
import { makePki } from './helpers/pki';
import { startHttpProxy } from './helpers/proxy';
import { switchingProtocols, type UpgradeRequest } from './helpers/raw_server';

afterEach(runCleanups);

/** A 302 (or another status) pointing at `location`. */
function redirect(location: string, status = 302): string {
  return `HTTP/1.1 ${status} Moved\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`;
}

/** A raw server that redirects every request to `location`, recording what it was sent. */
async function redirector(location: (request: UpgradeRequest) => string | undefined) {
  const requests: UpgradeRequest[] = [];
  const server = await rawServer({
    respond: (request) => {
      requests.push(request);
      const to = location(request);
      return to === undefined ? switchingProtocols(request) : redirect(to);
    },
  });
  return { server, requests };
}

/** A WebSocket server (raw, answering 101) that records each upgrade request it gets. */
async function target() {
  const requests: UpgradeRequest[] = [];
  const server = await rawServer({
    respond: (request) => {
      requests.push(request);
      return switchingProtocols(request);
    },
  });
  return { server, requests };
}

/** Opens and closes at once: resolves [1005, ''] if the handshake completed. */
const closeAtOnce = (courier: Courier) => void courier.close();

const SECRET_HEADERS = ['Authorization', 'Bearer s3cret', 'Cookie', 'session=abc', 'X-Trace', 't-1'];

/** A `lookup` that only knows redirect-target.test (as 127.0.0.1), and records every name asked. */
function testLookup() {
  const asked: string[] = [];
  const lookup: NonNullable<ConnectOptions['lookup']> = (hostname, options, callback) => {
    asked.push(hostname);
    if (hostname === 'redirect-target.test') callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else dns.lookup(hostname, options, callback);
  };
  return { asked, lookup };
}

describe('by default a redirect is not followed', () => {
  test('302 to another server: ConnectionFailed (handshake) with status and location; the other server sees nothing', async () => {
    const second = await target();
    const location = `${second.server.url}/elsewhere`;
    const first = await redirector(() => location);

    const error = await rejectionOf(connect({ url: `${first.server.url}/`, headers: SECRET_HEADERS, on_ready: closeAtOnce }));
    expect(error).toBeInstanceOf(ConnectionFailed);
    const failed = error as ConnectionFailed;
    expect(failed.phase).toBe('handshake');
    expect(failed.status).toBe(302);
    expect(failed.location).toBe(location);
    expect(failed.get('status')).toBe(302);
    expect(failed.get('location')).toBe(location);
    expect(failed.response?.status).toBe(302);
    expect(failed.response?.headers.location).toBe(location);
    expect(failed.message).toContain('302');
    expect(failed.message).toContain(location);
    expect(second.server.connections).toBe(0);
    expect(first.requests).toHaveLength(1);
  });

  test.each([301, 303, 307, 308])('%i is refused the same way', async (status) => {
    const second = await target();
    const server = await rawServer({ respond: () => redirect(`${second.server.url}/`, status) });

    const error = (await rejectionOf(connect({ url: `${server.url}/`, on_ready: closeAtOnce }))) as ConnectionFailed;
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.status).toBe(status);
    expect(second.server.connections).toBe(0);
  });

  test('a non-redirect refusal carries its status too, and no location', async () => {
    const server = await rawServer({ respond: () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n' });
    const error = (await rejectionOf(connect({ url: `${server.url}/`, on_ready: closeAtOnce }))) as ConnectionFailed;
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.status).toBe(403);
    expect(error.location).toBeUndefined();
  });
});

describe('follow_redirects', () => {
  test('each hop is a new connection through our own resolver: lookup is asked for the new host', async () => {
    const second = await target();
    const { asked, lookup } = testLookup();
    const first = await redirector(() => `ws://redirect-target.test:${second.server.port}/next?x=1`);

    await expect(connect({ url: `${first.server.url}/`, follow_redirects: 1, lookup, on_ready: closeAtOnce })).resolves.toEqual([1005, '']);
    expect(asked).toEqual(['redirect-target.test']);
    expect(second.requests).toHaveLength(1);
    expect(second.requests[0]!.path).toBe('/next?x=1');
    expect(second.requests[0]!.headers.host).toBe(`redirect-target.test:${second.server.port}`);
  });

  test('custom headers, Authorization and Cookie included, are dropped when the origin changes', async () => {
    const second = await target();
    const { lookup } = testLookup();
    const first = await redirector(() => `ws://redirect-target.test:${second.server.port}/`);

    await expect(
      connect({ url: `${first.server.url}/`, follow_redirects: 1, lookup, headers: SECRET_HEADERS, on_ready: closeAtOnce }),
    ).resolves.toEqual([1005, '']);
    expect(first.requests[0]!.headers.authorization).toBe('Bearer s3cret');
    const { headers } = second.requests[0]!;
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-trace']).toBeUndefined();
  });

  test('a relative Location resolves against the current URL; same origin keeps the headers', async () => {
    const server = await redirector((request) => (request.path === '/start/here' ? 'there?y=2' : undefined));

    await expect(
      connect({ url: `${server.server.url}/start/here`, follow_redirects: 1, headers: SECRET_HEADERS, on_ready: closeAtOnce }),
    ).resolves.toEqual([1005, '']);
    expect(server.requests.map((request) => request.path)).toEqual(['/start/here', '/start/there?y=2']);
    expect(server.requests[1]!.headers.authorization).toBe('Bearer s3cret');
    expect(server.requests[1]!.headers.cookie).toBe('session=abc');
  });

  test('an http: Location is taken as ws:', async () => {
    const second = await target();
    const first = await redirector(() => `http://127.0.0.1:${second.server.port}/from-http`);

    await expect(connect({ url: `${first.server.url}/`, follow_redirects: 1, on_ready: closeAtOnce })).resolves.toEqual([1005, '']);
    expect(second.requests.map((request) => request.path)).toEqual(['/from-http']);
  });

  test('through a proxy, every hop goes through it: the proxy is asked to CONNECT to the new host', async () => {
    const second = await target();
    const first = await redirector(() => `ws://localhost:${second.server.port}/`);
    const proxy = await startHttpProxy();
    onCleanup(() => proxy.close());

    await expect(
      connect({ url: `ws://localhost:${first.server.port}/`, proxy: proxy.url, follow_redirects: 1, on_ready: closeAtOnce }),
    ).resolves.toEqual([1005, '']);
    await expect(proxy.waitForRequest((line) => line.includes(`:${second.server.port} `))).resolves.toBe(
      `CONNECT localhost:${second.server.port} HTTP/1.1`,
    );
    expect(second.requests).toHaveLength(1);
  });

  test('too many hops: ConnectionFailed naming the limit; no hop past it is made', async () => {
    const server = await redirector((request) => `/${Number(request.path.slice(1)) + 1}`);

    const error = (await rejectionOf(connect({ url: `${server.server.url}/0`, follow_redirects: 2, on_ready: closeAtOnce }))) as ConnectionFailed;
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.phase).toBe('handshake');
    expect(error.status).toBe(302);
    expect(error.location).toBe('/3');
    expect(error.message).toMatch(/too many redirects \(follow_redirects: 2\)/);
    expect(server.requests.map((request) => request.path)).toEqual(['/0', '/1', '/2']);
  });

  test('wss: → ws: is refused: the plain server is never contacted', async () => {
    const plain = await target();
    const pki = makePki();
    const secure = https.createServer(pki.leaf('localhost'));
    secure.on('upgrade', (_request, socket: net.Socket) => socket.end(redirect(`${plain.server.url}/`)));
    secure.listen(0, '127.0.0.1');
    await once(secure, 'listening');
    onCleanup(() => new Promise<void>((resolve) => secure.close(() => resolve())));
    const { port } = secure.address() as AddressInfo;

    const error = (await rejectionOf(
      connect({ url: `wss://localhost:${port}/`, tls_ca: pki.ca.cert, follow_redirects: 5, on_ready: closeAtOnce }),
    )) as ConnectionFailed;
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.phase).toBe('handshake');
    expect(error.status).toBe(302);
    expect(error.message).toMatch(/wss: to ws:/);
    expect(plain.server.connections).toBe(0);
  });

  test('a ws+unix: Location is refused: the Unix socket is never contacted', async () => {
    const socketPath = path.join(os.tmpdir(), `lws-redirect-${process.pid}.sock`);
    let contacted = 0;
    const unix = net.createServer((socket) => {
      contacted++;
      socket.destroy();
    });
    unix.listen(socketPath);
    await once(unix, 'listening');
    onCleanup(() => new Promise<void>((resolve) => unix.close(() => resolve())));
    const server = await rawServer({ respond: () => redirect(`ws+unix:${socketPath}`) });

    const error = (await rejectionOf(connect({ url: `${server.url}/`, follow_redirects: 5, on_ready: closeAtOnce }))) as ConnectionFailed;
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect(error.location).toBe(`ws+unix:${socketPath}`);
    expect(error.message).toMatch(/Unix socket/);
    expect(contacted).toBe(0);
  });

  test.each([
    [-1, RangeError, 'Expected an integer from 0 to 20 for follow_redirects but received -1'],
    [21, RangeError, 'Expected an integer from 0 to 20 for follow_redirects but received 21'],
    [1.5, RangeError, 'Expected an integer from 0 to 20 for follow_redirects but received 1.5'],
    ['3', TypeError, "Expected an integer for follow_redirects but received '3'"],
  ])('follow_redirects: %p throws %p', (value, kind, message) => {
    const attempt = () => connect({ url: 'ws://127.0.0.1:9/', follow_redirects: value as number, on_ready: closeAtOnce });
    expect(attempt).toThrow(kind);
    expect(attempt).toThrow(message);
  });
});
