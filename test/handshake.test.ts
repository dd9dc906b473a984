/**
 * A hostile server's 101: what it may select of what the client offered
 * (RFC 6455 4.1, 9.1; RFC 7692 7). Every answer the client did not ask for
 * fails the handshake (ConnectionFailed, phase 'handshake', a cause that
 * names the problem) before lws acts on it; lws 4.3.5 set a twice-accepted
 * extension up into one-entry arrays (a heap overflow), so that case runs
 * in a child process, where a crash cannot take the jest worker with it.
 */
import { connect, ConnectionFailed, WebSocket, type ConnectOptions } from '../lib';
import { nodeChild, rawServer, runCleanups } from './helpers/per_test';
import { switchingProtocols, type UpgradeOptions } from './helpers/raw_server';

afterEach(runCleanups);

type ClientOptions = Omit<ConnectOptions, 'url' | 'on_ready'>;

/** connect() to a raw server answering `answer` (on_ready closes at once); the error it rejected with, if any. */
async function settle(answer: UpgradeOptions, client: ClientOptions = {}): Promise<{ error: unknown; opened: boolean }> {
  const server = await rawServer({ respond: (request) => switchingProtocols(request, answer) });
  let opened = false;
  const error = await connect({
    ...client,
    url: `${server.url}/`,
    on_ready(courier) {
      opened = true;
      courier.close(1000, '');
    },
  }).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  return { error, opened };
}

/** Asserts a handshake failure whose cause contains `cause`. */
async function expectRefused(answer: UpgradeOptions, cause: string, client: ClientOptions = {}): Promise<void> {
  const { error, opened } = await settle(answer, client);
  expect(error).toBeInstanceOf(ConnectionFailed);
  const failed = error as ConnectionFailed;
  expect({ phase: failed.phase, opened }).toEqual({ phase: 'handshake', opened: false });
  expect(String(failed.cause)).toContain(cause);
}

describe('Sec-WebSocket-Protocol', () => {
  test('a list of two offered names (chat, superchat) fails the handshake', async () => {
    await expectRefused({ protocol: 'chat, superchat' }, 'more than one', { subprotocols: ['chat', 'superchat'] });
  });

  test('a name that was not offered fails the handshake', async () => {
    await expectRefused({ protocol: 'superchat' }, "'superchat'", { subprotocols: ['chat'] });
  });

  test('a name in another case than offered fails the handshake', async () => {
    await expectRefused({ protocol: 'CHAT' }, "'CHAT'", { subprotocols: ['chat'] });
  });

  test('a protocol header when none was offered fails the handshake', async () => {
    await expectRefused({ protocol: 'chat' }, 'none was offered');
  });

  // The phase is where the addon was (binding/connect_error.cc), not a
  // guess from the cause's words, which quote the server.
  test.each(['x509-cert.tls', 'timeout'])('a name with other phases in its words (%s) is still a handshake failure', async (name) => {
    await expectRefused({ protocol: name }, `'${name}'`);
  });

  test("connect()'s subprotocols throws a TypeError naming a case-insensitive duplicate", () => {
    expect(() => connect({ url: 'ws://127.0.0.1:1/', subprotocols: ['echo', 'eCho'], on_ready() {} })).toThrow(TypeError);
    expect(() => connect({ url: 'ws://127.0.0.1:1/', subprotocols: ['echo', 'eCho'], on_ready() {} })).toThrow("'eCho'");
  });

  test("new WebSocket(url, ['echo', 'eCho']) throws a SyntaxError DOMException", () => {
    let error: unknown;
    try {
      new WebSocket('ws://127.0.0.1:1/', ['echo', 'eCho']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('SyntaxError');
    expect((error as DOMException).message).toContain('eCho');
  });
});

// The client's default offer is "permessage-deflate; client_max_window_bits".
describe('Sec-WebSocket-Extensions', () => {
  // Prints how connect() settled; a crash shows as the exit signal.
  const CONNECT_ONCE = `
    const { connect } = require(process.env.LWS_DIST);
    connect({ url: process.argv[1], on_ready(c) { c.close(1000, ''); } }).then(
      (result) => console.log('resolved ' + JSON.stringify(result)),
      (error) => console.log('rejected ' + error.phase + ': ' + error.cause),
    );
  `;

  test('permessage-deflate accepted twice fails the handshake (lws 4.3.5 overflowed its extension arrays)', async () => {
    const server = await rawServer({
      respond: (request) => switchingProtocols(request, { extensions: 'permessage-deflate, permessage-deflate' }),
    });
    const child = nodeChild(CONNECT_ONCE, [`${server.url}/`]);
    const exit = await child.exited;
    expect({ ...exit, lines: child.lines }).toEqual({
      code: 0,
      signal: null,
      lines: [expect.stringMatching(/^rejected handshake: .*permessage-deflate.*more than once/)],
    });
  });

  test.each([
    ['an extension that was not offered', 'x-unoffered', "'x-unoffered'"],
    ['an offered extension next to one that was not', 'permessage-deflate, x-unoffered', "'x-unoffered'"],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7', 'server_max_window_bits'],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16', 'server_max_window_bits'],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits', 'server_max_window_bits'],
    ['server_max_window_bits=010', 'permessage-deflate; server_max_window_bits=010', 'server_max_window_bits'],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16', 'client_max_window_bits'],
    ['an unknown parameter', 'permessage-deflate; x_unknown', "'x_unknown'"],
    ["lws's own rx_buf_size, which only the application may set", 'permessage-deflate; rx_buf_size=16', "'rx_buf_size'"],
    ['a parameter given twice', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', 'twice'],
    ['a value on client_no_context_takeover', 'permessage-deflate; client_no_context_takeover=1', 'client_no_context_takeover'],
  ])('%s fails the handshake', async (_, extensions, cause) => {
    await expectRefused({ extensions }, cause);
  });

  test('server_max_window_bits above what was offered fails the handshake', async () => {
    await expectRefused({ extensions: 'permessage-deflate; server_max_window_bits=12' }, 'server_max_window_bits', {
      compression: ['deflate', { peer_max_window_bits: 10 }],
    });
  });

  test('client_max_window_bits above what was offered fails the handshake', async () => {
    await expectRefused({ extensions: 'permessage-deflate; client_max_window_bits=12' }, 'client_max_window_bits', {
      compression: ['deflate', { local_max_window_bits: 10 }],
    });
  });

  test('permessage-deflate when no compression was offered fails the handshake', async () => {
    await expectRefused({ extensions: 'permessage-deflate' }, "'permessage-deflate'", { compression: [] });
  });

  test.each([
    'permessage-deflate',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; server_max_window_bits=8; client_max_window_bits=15',
  ])('a valid answer opens (%s)', async (extensions) => {
    const { error, opened } = await settle({ extensions });
    expect({ error, opened }).toEqual({ error: undefined, opened: true });
  });
});
