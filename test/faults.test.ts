/**
 * Faults on the network and at the peer, and load (issue #6, part 2): a
 * server that resets mid-message, a peer that vanishes without a FIN (a TCP
 * relay of our own turned into a black hole), a handshake that never
 * completes, a server that closes while megabytes are queued, 100k small
 * messages sent without awaiting, one 64 MiB message. Real peers on
 * 127.0.0.1 with OS-chosen ports; every wait is on an event, a promise or a
 * bounded count of event-loop turns.
 *
 * For every fault the same two things are checked: connect()'s promise
 * settles as docs/API.md says, and every queued message is either sent (the
 * server has it, whole) or reported as not sent (buffered_amount, and
 * drained() rejecting ERR_LWS_NOT_SENT with that many bytes).
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { connect, ConnectionFailed, WebSocketClose, type CloseResult } from '../lib';
import { openClient as open, rejectionOf, startClient } from './helpers/client';
import { nodeChild, onCleanup, rawServer, relay, runCleanups, wsServer } from './helpers/per_test';
import { closePayload, frame, OP, type ClientFrame } from './helpers/raw_server';
import { echo } from './helpers/servers';
import { closeSeen } from './helpers/tools';
import { turns } from './helpers/turns';

// ---------------------------------------------------------------------------
// Cleanup: every server, relay and child a test starts is ended after it,
// pass or fail.

afterEach(runCleanups);

/** A plain TCP server; `onSocket` decides what each accepted socket gets. */
async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; url: string; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { port, url: `ws://127.0.0.1:${port}/`, sockets };
}


/**
 * The binary messages in the frames a raw server read, reassembled from
 * their fragments; `unfinished` holds the fragments of one not ended.
 */
function messagesOf(frames: readonly ClientFrame[]): { whole: Buffer[]; unfinished: Buffer } {
  const whole: Buffer[] = [];
  let parts: Buffer[] = [];
  for (const received of frames) {
    if (received.opcode !== OP.BINARY && received.opcode !== OP.CONTINUATION) continue;
    parts.push(received.payload);
    if (received.fin) {
      whole.push(Buffer.concat(parts));
      parts = [];
    }
  }
  return { whole, unfinished: Buffer.concat(parts) };
}

/**
 * How a drained() promise settled: 'drained', or the ERR_LWS_NOT_SENT
 * error's byte count. Anything else (another error) throws.
 */
async function drainOutcome(drained: Promise<void>): Promise<'drained' | { notSent: number }> {
  try {
    await drained;
    return 'drained';
  } catch (error) {
    const { code, bytes } = error as { code?: string; bytes?: number };
    if (code !== 'ERR_LWS_NOT_SENT' || typeof bytes !== 'number') throw error;
    return { notSent: bytes };
  }
}

/** An n-byte binary message numbered `index`: its first 4 bytes, then `index & 0xff` throughout. */
function numbered(index: number, size: number): Buffer {
  const message = Buffer.alloc(size, index & 0xff);
  message.writeUInt32BE(index, 0);
  return message;
}

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------

describe('the server resets the connection', () => {
  test('mid-message, while sending the client a 16 MiB message: rejects ConnectionFailed (open) and delivers nothing', async () => {
    const server = await rawServer();
    const delivered: number[] = [];
    const { ready, done } = open(server.url, {}, (courier) => {
      courier.on_binary((_c, message) => delivered.push(message.length));
      courier.on_text((_c, message) => delivered.push(message.length));
    });
    const peer = await server.nextPeer();
    await ready;

    // The header of a 16 MiB binary frame and its first 1 MiB, written out
    // to the kernel; then an RST instead of the rest.
    const whole = frame({ opcode: OP.BINARY, payload: Buffer.alloc(16 * MiB, 0x5a) });
    const part = whole.subarray(0, 10 + MiB);
    await new Promise<void>((resolve, reject) => peer.socket.write(part, (error) => (error ? reject(error) : resolve())));
    peer.socket.resetAndDestroy();

    const error = await rejectionOf(done);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('open');
    expect((error as ConnectionFailed).port).toBe(server.port);
    expect(delivered).toEqual([]);
  });

  test('while the ws server streams a 32 MiB message and the client has 8 MiB queued: the promise rejects, and what was not sent is reported', async () => {
    const server = await wsServer((socket) => {
      // Stop reading, so the client's queue stays queued.
      (socket as unknown as { _socket: net.Socket })._socket.pause();
      socket.send(Buffer.alloc(32 * MiB, 1));
    });
    const connection = server.nextConnection();
    const { ready, done } = open(server.url);
    const socket = await connection;
    const courier = await ready;
    for (let index = 0; index < 8; index++) courier.send_binary(numbered(index, MiB));
    const drained = drainOutcome(courier.drained());

    await turns(2);
    (socket as unknown as { _socket: net.Socket })._socket.resetAndDestroy();

    const error = await rejectionOf(done);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('open');
    const outcome = await drained;
    // Whatever lws had not taken is reported, exactly as buffered_amount says.
    if (outcome === 'drained') expect(courier.buffered_amount).toBe(0);
    else {
      expect(outcome.notSent).toBe(courier.buffered_amount);
      expect(outcome.notSent).toBeGreaterThan(0);
    }
    expect(() => courier.send_text('after the end')).toThrow(expect.objectContaining({ code: 'ERR_LWS_CLOSED' }));
  });
});

describe('the peer vanishes without a FIN (a relay turned black hole)', () => {
  test('ping_interval 1, ping_timeout 2: the client gives up, ConnectionFailed in phase "timeout", and closes its socket', async () => {
    const server = await wsServer(echo);
    const path = await relay(server.port);
    const client = startClient(path.url, { ping_interval: 1, ping_timeout: 2 });
    const relayed = await path.nextConnection();
    const courier = await client.ready;
    // The path works before it breaks.
    courier.send_text('through the relay');
    expect(await client.next()).toBe('through the relay');

    relayed.blackHole();
    const forwardedAtBlackHole = relayed.downstreamBytes;

    const error = await rejectionOf(client.done);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('timeout');
    expect((error as ConnectionFailed).port).toBe(path.port);
    expect(String((error as ConnectionFailed).cause)).toMatch(/ping_timeout/);
    // Nothing came through after the black hole: the client decided alone.
    expect(relayed.downstreamBytes).toBe(forwardedAtBlackHole);
    // And it did not keep the dead socket: the relay sees it close.
    relayed.discardFromClient();
    await relayed.clientClosed;
  });

  test('the same with 32 MiB queued after the black hole: rejects "timeout", and drained() reports the bytes not sent', async () => {
    const server = await wsServer();
    const path = await relay(server.port);
    const client = startClient(path.url, { ping_interval: 1, ping_timeout: 2 });
    const relayed = await path.nextConnection();
    const courier = await client.ready;

    relayed.blackHole();
    // More than loopback kernel buffers (client send + relay receive) hold.
    for (let index = 0; index < 32; index++) courier.send_binary(numbered(index, MiB));
    const drained = drainOutcome(courier.drained());

    const error = await rejectionOf(client.done);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('timeout');
    const outcome = await drained;
    expect(outcome).toEqual({ notSent: courier.buffered_amount });
    expect(courier.buffered_amount).toBeGreaterThan(0);
    relayed.discardFromClient();
    await relayed.clientClosed;
  });
});

describe('a handshake that never completes', () => {
  test('the server accepts TCP, reads the upgrade request and never answers: connect_timeout 1 rejects ConnectionFailed "timeout"', async () => {
    let request = '';
    const gotRequest = deferred<void>();
    const server = await tcpServer((socket) =>
      socket.on('data', (chunk: Buffer) => {
        request += chunk.toString('latin1');
        if (request.includes('\r\n\r\n')) gotRequest.resolve();
      }),
    );
    let readyCalled = false;

    const done = connect({ url: server.url, connect_timeout: 1, on_ready: () => (readyCalled = true) });
    await gotRequest.promise;
    expect(request).toMatch(/^GET \/ HTTP\/1\.1\r\n/);

    const error = await rejectionOf(done);
    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('timeout');
    expect((error as ConnectionFailed).port).toBe(server.port);
    expect(readyCalled).toBe(false);
    // The abandoned socket is closed, not leaked.
    const [socket] = server.sockets;
    if (!socket!.destroyed) await once(socket!, 'close');
  });

  test('the server sends half a 101 response and stops: connect_timeout 1 rejects ConnectionFailed "timeout"', async () => {
    const server = await tcpServer((socket) =>
      socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n')),
    );
    let readyCalled = false;

    const error = await rejectionOf(connect({ url: server.url, connect_timeout: 1, on_ready: () => (readyCalled = true) }));

    expect(error).toBeInstanceOf(ConnectionFailed);
    expect((error as ConnectionFailed).phase).toBe('timeout');
    expect(readyCalled).toBe(false);
    const [socket] = server.sockets;
    if (!socket!.destroyed) await once(socket!, 'close');
  });
});

describe('the server closes while the client has megabytes queued', () => {
  test('close 1001 with 32 MiB queued: rejects WebSocketClose 1001; each message is either at the server whole or counted in buffered_amount', async () => {
    const server = await rawServer();
    const COUNT = 32;
    const { ready, done } = open(server.url);
    const peer = await server.nextPeer();
    // Not reading: the client's queue backs up behind TCP.
    peer.socket.pause();
    const courier = await ready;
    for (let index = 0; index < COUNT; index++) courier.send_binary(numbered(index, MiB));
    const drained = drainOutcome(courier.drained());
    await turns(5);

    peer.send(frame({ opcode: OP.CLOSE, payload: closePayload(1001, 'going away') }));
    peer.socket.resume();

    const error = await rejectionOf(done);
    expect(error).toBeInstanceOf(WebSocketClose);
    expect((error as WebSocketClose).status).toBe(1001);
    expect((error as WebSocketClose).reason).toBe('going away');
    const clientClose = await peer.clientClose;
    await peer.tcpEnded;

    // What the server got: whole messages 0..k-1 in order (a large message
    // goes in fragments), perhaps the first fragments of message k, then
    // the close.
    const { whole, unfinished } = messagesOf(peer.frames);
    whole.forEach((received, index) => expect(received.equals(numbered(index, MiB))).toBe(true));
    expect(numbered(whole.length, MiB).subarray(0, unfinished.length).equals(unfinished)).toBe(true);
    expect(clientClose).toMatchObject({ frame: true, code: 1001 });
    // Everything else, a message cut short included, is what the client
    // reports as not sent.
    expect(whole.length * MiB + courier.buffered_amount).toBe(COUNT * MiB);
    const outcome = await drained;
    if (courier.buffered_amount === 0) expect(outcome).toBe('drained');
    else expect(outcome).toEqual({ notSent: courier.buffered_amount });
  });

  test('the ws server closes with 1001 while not reading 32 MiB: the promise settles, and sent + not sent add up', async () => {
    const COUNT = 32;
    const received: Buffer[] = [];
    const server = await wsServer((socket) => {
      socket.on('message', (data: Buffer) => received.push(data));
      (socket as unknown as { _socket: net.Socket })._socket.pause();
    });
    const connection = server.nextConnection();
    const { ready, done } = open(server.url, { compression: [] });
    const socket = await connection;
    const seen = closeSeen(socket);
    const courier = await ready;
    for (let index = 0; index < COUNT; index++) courier.send_binary(numbered(index, MiB));
    const drained = drainOutcome(courier.drained());
    await turns(5);

    socket.close(1001, 'bye for now');
    (socket as unknown as { _socket: net.Socket })._socket.resume();

    const error = await rejectionOf(done);
    expect(error).toBeInstanceOf(WebSocketClose);
    expect((error as WebSocketClose).status).toBe(1001);
    const [code] = await seen;
    expect(code).toBe(1001);
    received.forEach((data, index) => expect(data.equals(numbered(index, MiB))).toBe(true));
    expect(received.length * MiB + courier.buffered_amount).toBe(COUNT * MiB);
    const outcome = await drained;
    if (courier.buffered_amount === 0) expect(outcome).toBe('drained');
    else expect(outcome).toEqual({ notSent: courier.buffered_amount });
  });
});

describe('load', () => {
  // In a child with --expose-gc: the client's memory is measured without
  // jest's or the server's in the same heap.
  const HUNDRED_THOUSAND = `
    const { connect } = require(process.env.LWS_DIST);
    const [url, count, rounds] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
    const memory = () => {
      for (let i = 0; i < 3; i++) gc();
      const { rss, arrayBuffers, heapUsed } = process.memoryUsage();
      return { rss, arrayBuffers, heapUsed };
    };
    // One connection: count messages sent at once, every echo awaited.
    const round = () => {
      const report = { received: 0, inOrder: true };
      return connect({
        url,
        on_ready(courier) {
          courier.on_text((c, text) => {
            if (text !== 'message ' + report.received) report.inOrder = false;
            if (++report.received === count) c.close(1000, 'all back');
          });
          for (let i = 0; i < count; i++) courier.send_text('message ' + i);
          report.queued = courier.buffered_amount;
        },
      }).then((result) => ({ ...report, result }));
    };
    (async () => {
      const reports = [];
      const baseline = memory();
      for (let r = 0; r < rounds; r++) {
        const report = await round();
        for (let i = 0; i < 5; i++) await new Promise(setImmediate);
        reports.push({ ...report, after: memory() });
      }
      console.log(JSON.stringify({ baseline, reports }));
    })().catch((error) => { console.log('failed ' + error); process.exitCode = 2; });
  `;

  test('100k small messages sent without awaiting, twice: all reach an echo server in order and come back in order; memory does not grow', async () => {
    const N = 100_000;
    const ROUNDS = 2;
    const atServer: number[] = [];
    let serverInOrder = true;
    const server = await wsServer((socket) => {
      const index = atServer.push(0) - 1;
      socket.on('message', (data, isBinary) => {
        if (isBinary || String(data) !== `message ${atServer[index]}`) serverInOrder = false;
        atServer[index]!++;
      });
      echo(socket);
    });

    const child = nodeChild(HUNDRED_THOUSAND, [server.url, String(N), String(ROUNDS)], ['--expose-gc']);
    const { code, signal } = await child.exited;

    expect({ code, signal, stderr: child.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(atServer).toEqual([N, N]);
    expect(serverInOrder).toBe(true);
    type Memory = { rss: number; arrayBuffers: number; heapUsed: number };
    const { baseline, reports } = JSON.parse(child.lines[0] ?? '{}') as {
      baseline: Memory;
      reports: Array<{ received: number; inOrder: boolean; queued: number; result: CloseResult; after: Memory }>;
    };
    expect(reports).toHaveLength(ROUNDS);
    for (const report of reports) {
      expect(report).toMatchObject({ received: N, inOrder: true, result: [1000, 'all back'] });
      // ~1.3 MB of payload, all of it queued at once.
      expect(report.queued).toBeGreaterThan(1_000_000);
    }
    const [first, second] = reports as [(typeof reports)[0], (typeof reports)[0]];
    // Generous bounds. Nothing per message is kept once it is sent and
    // delivered: the JS heap and external buffers are back at baseline.
    // malloc keeps some of the peak's memory (rss +15 MB here after the
    // first round), but a second round reuses it rather than adding more.
    expect(first.after.heapUsed - baseline.heapUsed).toBeLessThan(4 * MiB);
    expect(first.after.arrayBuffers - baseline.arrayBuffers).toBeLessThan(MiB);
    expect(first.after.rss - baseline.rss).toBeLessThan(48 * MiB);
    expect(second.after.heapUsed - first.after.heapUsed).toBeLessThan(2 * MiB);
    expect(second.after.rss - first.after.rss).toBeLessThan(16 * MiB);
  });

  test.each([
    ['without compression', false],
    ['with permessage-deflate', true],
  ])('a 64 MiB binary message reaches the ws server (maxPayload raised) intact, %s', async (_name, perMessageDeflate) => {
    const payload = randomBytes(64 * MiB);
    const sent = createHash('sha256').update(payload).digest('hex');
    const server = await wsServer(
      (socket) => {
        socket.on('error', () => {}); // a refusal shows as the client's close code
        socket.on('message', (data: Buffer, isBinary) =>
          socket.send(`${isBinary ? 'binary' : 'text'} ${data.length} ${createHash('sha256').update(data).digest('hex')}`),
        );
      },
      // ws's other limits (maxFragments 16384, maxBufferedChunks) stay at their defaults.
      { maxPayload: 128 * MiB, perMessageDeflate },
    );
    const client = startClient(server.url);
    const courier = await client.ready;
    expect(courier.extensions.startsWith('permessage-deflate')).toBe(perMessageDeflate);

    courier.send_binary(payload);
    expect(courier.buffered_amount).toBe(64 * MiB);
    const drained = drainOutcome(courier.drained());

    expect(await client.next()).toBe(`binary ${64 * MiB} ${sent}`);
    await drained;
    expect(courier.buffered_amount).toBe(0);
    courier.close(1000);
    await expect(client.done).resolves.toEqual([1000, '']);
  });
});

// ---------------------------------------------------------------------------

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
