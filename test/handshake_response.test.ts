/**
 * A refused upgrade carries what the server answered: ConnectionFailed's
 * `response` holds the status, the reason phrase and the headers (a 3xx's
 * Location among them), read from lws when the handshake fails. The server
 * writes exact bytes here (a raw TCP server), hostile ones included: the
 * headers kept are bounded, and no header name can reach an object's
 * prototype.
 */
import { connect, ConnectionFailed, type HandshakeResponse } from '../lib';
import { rejectionOf } from './helpers/client';
import { rawServer, runCleanups } from './helpers/per_test';
import { switchingProtocols, type UpgradeRequest } from './helpers/raw_server';

afterEach(runCleanups);

/** The ConnectionFailed of a connect() to a server that answers `head` (a status line and header lines). */
async function refusal(respond: (request: UpgradeRequest) => string): Promise<ConnectionFailed> {
  const server = await rawServer({ respond });
  const error = await rejectionOf(connect({ url: `${server.url}/`, on_ready: (courier) => courier.close() }));
  expect(error).toBeInstanceOf(ConnectionFailed);
  return error as ConnectionFailed;
}

const answer = (lines: string[]) => () => `${lines.join('\r\n')}\r\n\r\n`;

test('a 404 rejects with the status, the reason phrase and the headers', async () => {
  const failed = await refusal(
    answer(['HTTP/1.1 404 No Such Socket', 'Content-Type: text/plain', 'X-Request-Id: abc123', 'Content-Length: 0']),
  );
  expect(failed.phase).toBe('handshake');
  expect(failed.response).toEqual<HandshakeResponse>({
    status: 404,
    statusText: 'No Such Socket',
    headers: { 'content-type': 'text/plain', 'x-request-id': 'abc123', 'content-length': '0' },
  });
  expect(failed.status).toBe(404);
  expect(failed.get('response')).toBe(failed.response);
  // Only a redirect has a location.
  expect(failed.location).toBeUndefined();
});

test('a 401 names the challenge; the cause is the string the message quotes', async () => {
  const failed = await refusal(answer(['HTTP/1.1 401 Unauthorized', 'WWW-Authenticate: Basic realm="ws"', 'Content-Length: 0']));
  expect(failed.response?.status).toBe(401);
  expect(failed.response?.headers['www-authenticate']).toBe('Basic realm="ws"');
  expect(typeof failed.cause).toBe('string');
  expect(failed.get('cause')).toBe(failed.cause);
  expect(failed.message.endsWith(failed.cause)).toBe(true);
});

test('a 3xx (not followed) carries its Location in the headers, and as err.location', async () => {
  const failed = await refusal(answer(['HTTP/1.1 307 Temporary Redirect', 'Location: /elsewhere?x=1', 'Content-Length: 0']));
  expect(failed.response).toEqual({ status: 307, statusText: 'Temporary Redirect', headers: { location: '/elsewhere?x=1', 'content-length': '0' } });
  expect(failed.location).toBe('/elsewhere?x=1');
  expect(failed.get('location')).toBe('/elsewhere?x=1');
});

test('an HTTP/1.0 answer without a reason phrase', async () => {
  const failed = await refusal(answer(['HTTP/1.0 503', 'Retry-After: 5']));
  expect(failed.response).toEqual({ status: 503, statusText: '', headers: { 'retry-after': '5' } });
});

test('a header sent twice has its values joined with ", "', async () => {
  const failed = await refusal(answer(['HTTP/1.1 403 Forbidden', 'Set-Cookie: a=1', 'Set-Cookie: b=2', 'Content-Length: 0']));
  expect(failed.response?.headers['set-cookie']).toBe('a=1, b=2');
});

test('a refused 101 (a bad Sec-WebSocket-Accept) carries its response too', async () => {
  const failed = await refusal((request) => switchingProtocols(request, { accept: 'not the accept' }));
  expect(failed.response).toMatchObject({ status: 101, statusText: 'Switching Protocols' });
  expect(failed.response?.headers['sec-websocket-accept']).toBe('not the accept');
});

test('a server that sends 200 headers: at most 64 are kept', async () => {
  const lines = ['HTTP/1.1 400 Bad Request'];
  for (let index = 0; index < 200; index++) lines.push(`X-H${index}: ${index}`);
  const failed = await refusal(answer(lines));
  const names = Object.keys(failed.response?.headers ?? {});
  expect(names).toHaveLength(64);
  expect(names.slice(0, 3)).toEqual(['x-h0', 'x-h1', 'x-h2']);
});

test('header names such as __proto__ stay plain data', async () => {
  const failed = await refusal(answer(['HTTP/1.1 418 Teapot', '__proto__: polluted', 'Constructor: x', 'Content-Length: 0']));
  const headers = failed.response?.headers as Record<string, string>;
  expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('polluted');
  expect(headers.constructor).toBe('x');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('no HTTP answer (the server hangs up): no response', async () => {
  const server = await rawServer({ respond: () => '' });
  const done = rejectionOf(connect({ url: `${server.url}/`, on_ready: (courier) => courier.close() }));
  const peer = await server.nextPeer();
  peer.socket.destroy();
  const failed = (await done) as ConnectionFailed;
  expect(failed).toBeInstanceOf(ConnectionFailed);
  expect(failed.response).toBeUndefined();
  expect(failed.status).toBeUndefined();
});
