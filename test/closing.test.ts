/**
 * How a connection ends, seen from both sides: a raw TCP server
 * (helpers/raw_server.ts) on 127.0.0.1 with an OS-chosen port reads every
 * frame the client sends and records how its TCP side ended, and the client
 * is connect() or the WHATWG WebSocket class.
 *
 * 1. A closing handshake the client started is clean only when the server
 *    answered it with a close frame (RFC 6455 7.1.4, 7.4.1: 1006 is an
 *    abnormal close). If the server stays silent until the client's close
 *    timeout (5 s), resets the connection, or sends FIN without a close
 *    frame, connect() rejects with ConnectionFailed (API.md: "where Perl
 *    would see 1006") and the WebSocket class fires `close` with 1006 and
 *    wasClean false.
 * 2. When the server breaks the protocol, the client fails the connection as
 *    RFC 6455 7.1.7 says: it sends a close frame with the status for that
 *    violation (1007 invalid UTF-8, 1002 a masked frame, a reserved opcode or
 *    a fragmented control frame, 1009 a frame announcing more than
 *    max_message_size) before its TCP side ends, and connect() rejects with
 *    WebSocketClose carrying that code. This holds when the violation comes
 *    in the same TCP write as the 101 response, and while the client is in
 *    the middle of writing a large message (its close frame then follows
 *    that message's frame whole, never inside it). An oversized frame is
 *    refused from its header alone, without waiting for the payload.
 *
 * Every wait is on a promise or an event; a time bound appears only as a
 * guard that turns "the client never did it" into a clear failure instead
 * of a suite timeout.
 */
import { connect, ConnectionFailed, WebSocket, WebSocketClose, type CloseEvent, type CloseResult, type Courier } from '../lib';
import { openClient } from './helpers/client';
import { onCleanup, rawServer, runCleanups } from './helpers/per_test';
import {
  closePayload,
  frame,
  OP,
  RSV1,
  switchingProtocols,
  type ClientClose,
  type RawPeer,
  type RawServer,
  type RawServerOptions,
} from './helpers/raw_server';

// ---------------------------------------------------------------------------
// Cleanup: every server and socket a test starts is ended after it, pass or fail.

afterEach(runCleanups);

// lws's close waits are 3 s (sending) and 5 s (the server's answer); past
// this the client is taken never to settle on its own.
const BOUND_MS = 10_000;

/** `promise`'s value, or `fallback` once `ms` passed without it. A guard, not a synchronisation. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** 'close 1000 "bye"', 'close (no status)' or 'no close frame, then TCP fin'. */
function describeClose(close: ClientClose): string {
  if (!close.frame) return `no close frame, then TCP ${close.tcp}`;
  if (close.code === undefined) return `close (no status, ${close.payload.length}-byte payload)`;
  const reason = close.reason.toString('utf8');
  // A close frame cut out of a data frame's payload has a reason of any length.
  return `close ${close.code} ${JSON.stringify(reason.length > 40 ? `${reason.slice(0, 40)}…` : reason)}`;
}

/** 'resolved [1000,"bye"]', 'ConnectionFailed', 'WebSocketClose 1007' or 'rejected …'. */
function describeSettlement(done: Promise<CloseResult>): Promise<string> {
  return done.then(
    (result) => `resolved ${JSON.stringify(result)}`,
    (error: unknown) => {
      if (error instanceof WebSocketClose) return `WebSocketClose ${error.get('code')}`;
      if (error instanceof ConnectionFailed) return 'ConnectionFailed';
      return `rejected ${String(error)}`;
    },
  );
}

type Message = string | Buffer;

interface Session {
  server: RawServer;
  peer: RawPeer;
  courier: Courier;
  done: Promise<CloseResult>;
  /** What reached on_text/on_binary. */
  delivered: Message[];
}

/** A raw server and a connect() client to it, once on_ready has run. */
async function openSession(server: RawServerOptions, client: { max_message_size?: number } = {}): Promise<Session> {
  const raw = await rawServer(server);
  const delivered: Message[] = [];
  const { ready, done } = openClient(`${raw.url}/`, client, (courier) => {
    courier.on_text((_c, message) => delivered.push(message));
    courier.on_binary((_c, message) => delivered.push(message));
  });
  const [peer, courier] = await Promise.all([raw.nextPeer(), ready]);
  return { server: raw, peer, courier, done, delivered };
}

/** A WebSocket to `url` whose events are recorded; closed (and its close event awaited) after the test. */
function openWebSocket(url: string): { socket: WebSocket; log: string[]; opened: Promise<void>; closed: Promise<CloseEvent> } {
  const socket = new WebSocket(url);
  const log: string[] = [];
  socket.addEventListener('open', () => log.push('open'));
  socket.addEventListener('error', () => log.push('error'));
  const opened = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('close', (event) => reject(new Error(`closed (${event.code}) before open`)));
  });
  opened.catch(() => undefined);
  const closed = new Promise<CloseEvent>((resolve) =>
    socket.addEventListener('close', (event) => {
      log.push(`close ${event.code} ${JSON.stringify(event.reason)} wasClean=${event.wasClean}`);
      resolve(event);
    }),
  );
  onCleanup(() => {
    socket.close();
    return closed;
  });
  return { socket, log, opened, closed };
}

// ---------------------------------------------------------------------------
// 1. The client closes; the server answers, or does not.

/** What the server does once it has read the client's close frame. */
type Reaction = 'answer' | 'silence' | 'reset' | 'fin';

function react(peer: RawPeer, reaction: Reaction): void {
  if (reaction === 'answer') peer.send(frame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
  if (reaction === 'reset') peer.socket.resetAndDestroy();
  if (reaction === 'fin') peer.socket.end();
}

interface CloseOutcome {
  /** What the server read from the client. */
  sent: string;
  /** How connect()'s promise settled. */
  settled: string;
  /** Whether the client's TCP side ended (the server read FIN or RST). */
  tcp: string;
}

/** courier.close(1000, 'bye'), the server's `reaction` to the close frame, and what followed. */
async function clientCloses(reaction: Reaction): Promise<CloseOutcome> {
  const session = await openSession({ echoClose: false });
  void session.courier.close(1000, 'bye');
  const sent = describeClose(await session.peer.clientClose);
  react(session.peer, reaction);
  const settled = await within(describeSettlement(session.done), BOUND_MS, `still pending after ${BOUND_MS} ms`);
  const tcp = await within(
    session.peer.tcpEnded.then(() => 'ended'),
    BOUND_MS,
    `still open after ${BOUND_MS} ms`,
  );
  return { sent, settled, tcp };
}

describe('connect(): a close the client started is clean only when the server answered it', () => {
  test('the server answers with a close frame: resolves [1000, "bye"] (control)', async () => {
    expect(await clientCloses('answer')).toEqual({ sent: 'close 1000 "bye"', settled: 'resolved [1000,"bye"]', tcp: 'ended' });
  });

  test('the server stays silent: after the 5 s close timeout the client drops the socket and rejects ConnectionFailed', async () => {
    expect(await clientCloses('silence')).toEqual({ sent: 'close 1000 "bye"', settled: 'ConnectionFailed', tcp: 'ended' });
  }, 20_000);

  test('the server resets the connection (RST) on the close frame: rejects ConnectionFailed', async () => {
    expect(await clientCloses('reset')).toEqual({ sent: 'close 1000 "bye"', settled: 'ConnectionFailed', tcp: 'ended' });
  });

  test('the server ends TCP (FIN) without a close frame: rejects ConnectionFailed', async () => {
    expect(await clientCloses('fin')).toEqual({ sent: 'close 1000 "bye"', settled: 'ConnectionFailed', tcp: 'ended' });
  });

  test('the ConnectionFailed for a FIN without a close frame names the server', async () => {
    const session = await openSession({ echoClose: false });
    void session.courier.close(1000, 'bye');
    await session.peer.clientClose;
    session.peer.socket.end();
    const error = await within(
      session.done.then(
        (result) => new Error(`expected a rejection, but it resolved with ${JSON.stringify(result)}`),
        (reason: unknown) => reason,
      ),
      BOUND_MS,
      new Error(`still pending after ${BOUND_MS} ms`),
    );
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).code).toBe('ERR_LWS_CONNECTION_FAILED');
    expect((error as ConnectionFailed).port).toBe(session.server.port);
  });
});

/** socket.close(1000, 'bye') on an open WebSocket, the server's `reaction`, and the event log. */
async function webSocketCloses(reaction: Reaction): Promise<{ sent: string; log: string[]; event: CloseEvent | undefined }> {
  const server = await rawServer({ echoClose: false });
  const { socket, log, opened, closed } = openWebSocket(`${server.url}/`);
  const peer = await server.nextPeer();
  await opened;
  socket.close(1000, 'bye');
  const sent = describeClose(await peer.clientClose);
  react(peer, reaction);
  const event = await within<CloseEvent | undefined>(closed, BOUND_MS, undefined);
  return { sent, log, event };
}

describe('WebSocket: a close the client started is clean only when the server answered it', () => {
  test('the server answers with a close frame: close 1000 "bye", wasClean true (control)', async () => {
    const { sent, log } = await webSocketCloses('answer');
    expect(sent).toBe('close 1000 "bye"');
    expect(log).toEqual(['open', 'close 1000 "bye" wasClean=true']);
  });

  test.each([
    ['resets the connection (RST) on reading the close frame', 'reset'],
    ['ends TCP (FIN) on reading the close frame, without answering it', 'fin'],
  ] as const)('the server %s: close 1006, wasClean false', async (_, reaction) => {
    const { sent, log, event } = await webSocketCloses(reaction);
    expect(sent).toBe('close 1000 "bye"');
    expect(event).toBeDefined();
    expect({ code: event?.code, wasClean: event?.wasClean }).toEqual({ code: 1006, wasClean: false });
    expect(log.at(-1)).toMatch(/^close 1006 "" wasClean=false$/);
  });
});

// ---------------------------------------------------------------------------
// 2. The server breaks the protocol: the client's close frame, with the
// violation's code, comes first and whole; then its TCP side ends. Read
// after the handshake, with nothing else going on, violations already get
// this (test/protocol.test.ts); these are the two moments they do not: in the
// same TCP write as the 101 response, and while the client is writing a
// large message.

interface FailOutcome {
  /** The client's first close frame, or how TCP ended without one. */
  sent: string;
  settled: string;
  tcp: string;
  delivered: readonly Message[];
}

/** What the client did after its server's violation; each step bounded by `ms`. */
async function failure({ peer, done, delivered }: Pick<Session, 'peer' | 'done' | 'delivered'>, ms = BOUND_MS): Promise<FailOutcome> {
  const sent = await within(peer.clientClose.then(describeClose), ms, `no close frame within ${ms} ms, and the TCP connection still open`);
  const settled = await within(describeSettlement(done), ms, `still pending after ${ms} ms`);
  const tcp = await within(
    peer.tcpEnded.then(() => 'ended'),
    ms,
    `still open after ${ms} ms`,
  );
  return { sent, settled, tcp, delivered };
}

/** The RFC's answer: a close frame with `code`, then TCP ends; WebSocketClose `code`; nothing delivered. */
function failsWith(code: number): FailOutcome {
  return { sent: expect.stringMatching(new RegExp(`^close ${code} `)), settled: `WebSocketClose ${code}`, tcp: 'ended', delivered: [] };
}

/** The server writes the 101 response and `frames` in one write (the server answers the client's close). */
async function sentWithTheUpgrade(frames: Buffer[]): Promise<FailOutcome> {
  const server = await rawServer({
    respond: (request) => Buffer.concat([Buffer.from(switchingProtocols(request), 'latin1'), ...frames]),
  });
  const delivered: Message[] = [];
  const done = connect({
    url: `${server.url}/`,
    on_ready(courier) {
      courier.on_text((_c, message) => delivered.push(message));
      courier.on_binary((_c, message) => delivered.push(message));
    },
  });
  done.catch(() => undefined);
  const peer = await server.nextPeer();
  return failure({ peer, done, delivered });
}

const EURO = Buffer.from('€', 'utf8'); // e2 82 ac: a 3-byte character, valid

describe('a violation in the same TCP write as the 101 response gets a close frame with its code before TCP ends', () => {
  test.each([
    [
      'invalid UTF-8 in a single-frame text message: close 1007',
      1007,
      [frame({ opcode: OP.TEXT, payload: Buffer.concat([Buffer.from('valid, '), EURO, Buffer.from([0xff]), Buffer.from(' valid')]) })],
    ],
    [
      'a text message in two fragments, the first valid, invalid UTF-8 inside the second: close 1007',
      1007,
      [
        frame({ opcode: OP.TEXT, fin: false, payload: Buffer.concat([Buffer.from('a valid first fragment '), EURO]) }),
        frame({ opcode: OP.CONTINUATION, payload: Buffer.concat([Buffer.from('second '), Buffer.from([0xc3, 0x28]), Buffer.from(' fragment')]) }),
      ],
    ],
    ['a masked text frame: close 1002', 1002, [frame({ opcode: OP.TEXT, mask: true, payload: 'masked by the server' })]],
    ['a masked binary frame: close 1002', 1002, [frame({ opcode: OP.BINARY, mask: true, payload: Buffer.from([1, 2, 3]) })]],
    ['a reserved opcode (0x3): close 1002', 1002, [frame({ opcode: 0x3, payload: 'data?' })]],
    [
      'a fragmented control frame (ping with FIN=0): close 1002',
      1002,
      [frame({ opcode: OP.PING, fin: false, payload: 'pi' }), frame({ opcode: OP.CONTINUATION, payload: 'ng' })],
    ],
  ] as const)('%s, then TCP ends; rejects WebSocketClose', async (_, code, frames) => {
    expect(await sentWithTheUpgrade([...frames])).toEqual(failsWith(code));
  });
});

describe('a violation while the client is writing megabytes gets a close frame after whole data frames, not inside one', () => {
  const MiB = 1024 * 1024;
  const COUNT = 16;

  /** Binary message `index`: its number in the first 4 bytes, then `index & 0xff` throughout. */
  function numbered(index: number): Buffer {
    const message = Buffer.alloc(MiB, index & 0xff);
    message.writeUInt32BE(index, 0);
    return message;
  }

  /** The data frames the server read before the client's close: all whole messages, in order, or where not. */
  function dataBeforeClose(peer: RawPeer): string {
    // A message over 256 KiB goes in fragments; the close may follow any
    // whole frame, so the last message before it may be unfinished.
    let index = 0;
    let parts: Buffer[] = [];
    for (const [position, received] of peer.frames.entries()) {
      if (received.opcode === OP.CLOSE) break;
      const expectedOpcode = parts.length ? OP.CONTINUATION : OP.BINARY;
      if (received.opcode !== expectedOpcode) return `frame ${position} has opcode ${received.opcode}, expected ${expectedOpcode}`;
      parts.push(received.payload);
      const sofar = Buffer.concat(parts);
      const expected = numbered(index);
      if (!sofar.equals(expected.subarray(0, sofar.length)) || (received.fin && sofar.length !== expected.length)) {
        const at = sofar.findIndex((byte, offset) => byte !== expected[offset]);
        return `message ${index} is not whole: ${sofar.length} bytes, differing from byte ${at} (${sofar.subarray(at, at + 16).toString('hex')}…)`;
      }
      if (received.fin) {
        index++;
        parts = [];
      }
    }
    return 'every data frame a whole message, in order';
  }

  test.each([
    ['invalid UTF-8 in a text message: close 1007', 1007, frame({ opcode: OP.TEXT, payload: Buffer.from([0x61, 0xff, 0x62]) })],
    ['a masked text frame: close 1002', 1002, frame({ opcode: OP.TEXT, mask: true, payload: 'masked by the server' })],
  ] as const)('%s', async (_, code, violation) => {
    const session = await openSession({ echoClose: true });
    for (let index = 0; index < COUNT; index++) session.courier.send_binary(numbered(index));
    session.peer.send(violation);

    const outcome = await failure(session);
    expect({ ...outcome, data: dataBeforeClose(session.peer) }).toEqual({
      ...failsWith(code),
      data: 'every data frame a whole message, in order',
    });
  });
});

describe('a frame announcing more than max_message_size is refused from its header', () => {
  const MiB = 1024 * 1024;
  const GiB = 1024 * MiB;
  // Below lws's close waits: a client that refuses from the header needs a
  // few event-loop turns, one that waits for the payload never sends it.
  const HEADER_BOUND_MS = 3_000;

  test('a 1 GiB binary frame header and 16 payload bytes, then nothing, socket open: close 1009 at once; rejects WebSocketClose 1009', async () => {
    const session = await openSession({ echoClose: true }, { max_message_size: MiB });
    const header = Buffer.alloc(10);
    header[0] = 0x80 | OP.BINARY;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(GiB), 2);
    session.peer.send(header, Buffer.alloc(16, 0x5a));

    // A client waiting for the payload fails here with "no close frame within 3000 ms".
    expect(await failure(session, HEADER_BOUND_MS)).toEqual(failsWith(1009));
  });
});

describe('permessage-deflate data that does not inflate', () => {
  test('a compressed message whose data is not deflate: close 1007, then TCP ends; rejects WebSocketClose 1007', async () => {
    const session = await openSession({ respond: (request) => switchingProtocols(request, { extensions: 'permessage-deflate' }) });
    // 0xff starts no valid deflate block (block type 3 is reserved).
    session.peer.send(frame({ opcode: OP.TEXT, rsv: RSV1, payload: Buffer.from([0xff, 0xff, 0xff, 0xff]) }));
    expect(await failure(session)).toEqual(failsWith(1007));
  });
});
