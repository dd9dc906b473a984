/**
 * The send path under pressure: what the client writes when its socket is
 * full, when pings arrive in bursts, and whether backpressure (buffered_amount,
 * drained()) sees every byte it has not yet got onto the wire.
 *
 * - Control frames never land inside a data frame. Without permessage-deflate
 *   the addon frames messages itself and hands them to lws in pieces; a pong
 *   lws writes between two pieces would corrupt the message. A `ws` server
 *   stops reading while the client sends 2 x 32 MiB, pings it meanwhile,
 *   and must get both messages byte for byte and every pong.
 * - Pongs are prompt: a ping inside a fragmented message is answered before
 *   what the listener of that message sends.
 * - Every ping is answered, in order (ten in one write); under a flood of
 *   10,000 the connection stays up and at least the latest is answered
 *   (RFC 6455 5.5.3 lets an endpoint drop all but the most recent pong).
 * - Backpressure counts every byte: the README's streaming recipe, fed one
 *   256 KiB chunk per loop turn as a file's read stream feeds it, must wait
 *   in drained() when the server does not read (and what it reports as
 *   buffered plus what the kernel holds must account for everything it
 *   queued), and must stream 400 MiB through a server that stalls now and
 *   then, bounded and intact. The same with permessage-deflate (smaller, as
 *   lws deflates in this thread): there lws frames each message and the
 *   addon counts it until lws has written all of it, so these two guard
 *   that path rather than expose a fault in it.
 *
 * Real peers on 127.0.0.1 with OS-chosen ports: the `ws` server and a raw
 * TCP server writing exact bytes (helpers/raw_server.ts). Every wait is on
 * an event, a promise or a bounded count of event-loop turns; the kernel's
 * queues are read from /proc/net/tcp (Linux).
 */
import { createHash, randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { WebSocket } from 'ws';
import { ConnectionFailed, WebSocketClose, type CloseResult, type Courier } from '../lib';
import { openClient as open } from './helpers/client';
import { rawServer, runCleanups, wsServer } from './helpers/per_test';
import { frame, OP, type ClientFrame } from './helpers/raw_server';
import { chunksPerTurn, inKernel, runRecipe, type RecipeRun } from './helpers/send_path_peers';
import { seededBytes } from './helpers/tools';
import { turns, turnsUntil } from './helpers/turns';

// ---------------------------------------------------------------------------
// Cleanup: every server a test starts is closed after it, pass or fail.

afterEach(runCleanups);

const KiB = 1024;
const MiB = 1024 * KiB;
/** The README recipe's chunk size (createReadStream's highWaterMark there). */
const CHUNK = 256 * KiB;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** How connect()'s promise settled, as one comparable string. */
function settlement(done: Promise<CloseResult>): Promise<string> {
  return done.then(
    (result) => `resolved ${JSON.stringify(result)}`,
    (error: unknown) => {
      if (error instanceof WebSocketClose) return `WebSocketClose ${error.status} ${JSON.stringify(error.reason)}`;
      if (error instanceof ConnectionFailed) return `ConnectionFailed (${error.phase}): ${String(error.cause)}`;
      return `rejected ${String(error)}`;
    },
  );
}

const OPCODE_NAMES: Record<number, string> = {
  [OP.CONTINUATION]: 'continuation',
  [OP.TEXT]: 'text',
  [OP.BINARY]: 'binary',
  [OP.CLOSE]: 'close',
  [OP.PING]: 'ping',
  [OP.PONG]: 'pong',
};

/** A client frame as 'pong "p1"', 'text "hello"', 'close 1000 "bye"'. */
function describeFrame(received: ClientFrame): string {
  const name = OPCODE_NAMES[received.opcode] ?? `opcode ${received.opcode}`;
  const fin = received.fin ? '' : ' (FIN=0)';
  if (received.opcode === OP.CLOSE && received.payload.length >= 2)
    return `close ${received.payload.readUInt16BE(0)} ${JSON.stringify(received.payload.subarray(2).toString('utf8'))}${fin}`;
  return `${name} ${JSON.stringify(received.payload.toString('utf8'))}${fin}`;
}

/** The TCP socket under a `ws` server-side WebSocket. */
function tcpOf(socket: WebSocket): net.Socket {
  return (socket as unknown as { _socket: net.Socket })._socket;
}

/** ws.ping(payload), resolved once ws has written it to its socket. */
function ping(socket: WebSocket, payload: string): Promise<void> {
  return new Promise((resolve, reject) => socket.ping(payload, false, (error?: Error) => (error ? reject(error) : resolve())));
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// ---------------------------------------------------------------------------

describe('control frames are never written inside a data frame', () => {
  test('2 x 32 MiB to a ws server that stops reading and pings five times meanwhile: both messages arrive byte for byte, every ping gets its pong, no error', async () => {
    const payloads = [randomBytes(32 * MiB), randomBytes(32 * MiB)];
    const PINGS = ['ping 0', 'ping 1', 'ping 2', 'ping 3', 'ping 4'];
    const received: string[] = [];
    const pongs: string[] = [];
    const serverErrors: string[] = [];
    const server = await wsServer(
      (socket) => {
        // Not reading: the client's socket fills.
        socket.pause();
        socket.on('message', (data: Buffer) => received.push(sha256(data)));
        socket.on('pong', (data: Buffer) => pongs.push(data.toString('utf8')));
        socket.on('error', (error) => serverErrors.push(error.message));
      },
      { perMessageDeflate: false, maxPayload: 64 * MiB },
    );
    const connection = server.nextConnection();
    const { ready, done } = open(server.url, { compression: [] });
    const socket = await connection;
    const serverClosed = new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code)));
    const settled = settlement(done);
    const courier = await ready;
    expect(courier.extensions).toBe('');

    for (const payload of payloads) courier.send_binary(payload);
    // The client is stuck: what it has queued stays the same for 20 turns.
    let last = -1;
    let unchanged = 0;
    await turnsUntil(
      () => {
        const buffered = courier.buffered_amount;
        unchanged = buffered > 0 && buffered === last ? unchanged + 1 : 0;
        last = buffered;
        return unchanged >= 20;
      },
      10_000,
      "the client's socket fills up while the server does not read",
    );

    // Pings while the client is in the middle of its first message.
    for (const payload of PINGS) await ping(socket, payload);
    await turns(5); // the client reads them (it still cannot write)
    socket.resume();

    const closing = courier.drained().then(
      () => courier.close(1000, 'sent'),
      () => undefined, // the connection ended first: settled says how
    );
    await closing;
    const outcome = {
      messages: received,
      pongs,
      serverErrors,
      settled: await settled,
      serverSawClose: await serverClosed,
    };
    expect(outcome).toEqual({
      messages: payloads.map(sha256),
      pongs: PINGS,
      serverErrors: [],
      settled: 'resolved [1000,"sent"]',
      serverSawClose: 1000,
    });
  });

  test('a ping between the two fragments of a text message is answered before the echo the message\'s listener sends', async () => {
    const server = await rawServer();
    const { ready, done } = open(server.url, {}, (courier) => courier.on_text((c, text) => c.send_text(text)));
    const peer = await server.nextPeer();
    const courier = await ready;

    // One TCP write: "hel" (FIN=0), ping "p1", "lo" (FIN=1).
    peer.send(
      frame({ opcode: OP.TEXT, fin: false, payload: 'hel' }),
      frame({ opcode: OP.PING, payload: 'p1' }),
      frame({ opcode: OP.CONTINUATION, payload: 'lo' }),
    );

    const first = await peer.nextFrame();
    const second = await peer.nextFrame();
    expect([describeFrame(first), describeFrame(second)]).toEqual(['pong "p1"', 'text "hello"']);
    void courier.close(1000, 'bye');
    expect(await settlement(done)).toBe('resolved [1000,"bye"]');
  });
});

describe('every ping is answered', () => {
  /**
   * Opens a raw-server connection whose client closes with 1000 'end' on
   * the text 'end'; writes `frames` and then that text in one write;
   * returns the payloads of the pongs the client sent before its TCP side
   * ended, what it delivered, and how the promise settled.
   */
  async function answers(frames: Buffer[]): Promise<{ pongs: string[]; others: string[]; delivered: string[]; settled: string }> {
    const server = await rawServer();
    const delivered: string[] = [];
    const { ready, done } = open(server.url, {}, (courier) =>
      courier.on_text((c: Courier, text) => {
        delivered.push(text);
        if (text === 'end') void c.close(1000, 'end');
      }),
    );
    const settled = settlement(done);
    const peer = await server.nextPeer();
    await ready;

    peer.send(...frames, frame({ opcode: OP.TEXT, payload: 'end' }));

    await peer.clientClose;
    await peer.tcpEnded;
    const pongs = peer.frames.filter((received) => received.opcode === OP.PONG).map((received) => received.payload.toString('utf8'));
    const others = peer.frames.filter((received) => received.opcode !== OP.PONG).map(describeFrame);
    return { pongs, others, delivered, settled: await settled };
  }

  test('a ping to a client that does nothing else is answered at once, before anything the client does next', async () => {
    const server = await rawServer();
    const { ready, done } = open(server.url);
    const settled = settlement(done);
    const peer = await server.nextPeer();
    const courier = await ready;

    peer.send(frame({ opcode: OP.PING, payload: 'idle' }));
    // The client sends nothing and closes nothing until the pong is here:
    // a pong that waited for the client's next write would never come.
    const answer = await peer.nextFrame();
    void courier.close(1000, 'done');

    expect(describeFrame(answer)).toBe('pong "idle"');
    expect(await settled).toBe('resolved [1000,"done"]');
  });

  test('ten pings "0".."9" in one TCP write: ten pongs, in order, with those payloads', async () => {
    const payloads = Array.from({ length: 10 }, (_, index) => String(index));

    const result = await answers(payloads.map((payload) => frame({ opcode: OP.PING, payload })));

    expect(result).toEqual({ pongs: payloads, others: ['close 1000 "end"'], delivered: ['end'], settled: 'resolved [1000,"end"]' });
  });

  test('a flood of 10,000 pings in one write, then a text: the connection stays up, the latest ping is answered, pongs come in order, the text arrives', async () => {
    const COUNT = 10_000;
    const payloads = Array.from({ length: COUNT }, (_, index) => String(index));

    const result = await answers(payloads.map((payload) => frame({ opcode: OP.PING, payload })));

    const numbers = result.pongs.map(Number);
    expect({
      latestAnswered: result.pongs.includes(String(COUNT - 1)),
      increasing: numbers.every((value, index) => index === 0 || value > numbers[index - 1]!),
      allWerePinged: numbers.every((value) => Number.isInteger(value) && value >= 0 && value < COUNT),
      someAnswered: result.pongs.length > 0,
      others: result.others,
      delivered: result.delivered,
      settled: result.settled,
    }).toEqual({
      latestAnswered: true,
      increasing: true,
      allWerePinged: true,
      someAnswered: true,
      others: ['close 1000 "end"'],
      delivered: ['end'],
      settled: 'resolved [1000,"end"]',
    });
  });
});

// ---------------------------------------------------------------------------

/** What the sender, the server and the kernel hold once nothing moves any more. */
interface Stuck {
  /** The recipe is awaiting drained() inside its loop. */
  waiting: boolean;
  /** Every chunk has been handed to send_binary(). */
  queuedAll: boolean;
  /** Payload bytes the server has received as messages. */
  serverHadReceived: number;
  /**
   * Bytes handed on by the client (queued less buffered_amount) that are
   * neither at the server nor in the kernel's queues: held where
   * backpressure cannot see them.
   */
  unaccounted: number;
}

describe('backpressure counts every byte', () => {
  // Far more than the kernel holds for a reader that never read (about
  // 4.5 MiB here); deflate, done by lws in this thread, gets half as much.
  test.each([
    ['64 MiB', 'without compression', 256, false],
    ['32 MiB', 'with permessage-deflate', 128, true],
  ])(
    'the README recipe streaming %s (256 KiB a turn) to a ws server that does not read waits in drained(), what it reports plus what the kernel holds accounts for all of it, and after the server reads it all arrives intact (%s)',
    async (_size, _name, COUNT, deflate) => {
      const TOTAL = COUNT * CHUNK;
      const payload = randomBytes(TOTAL); // incompressible: deflate cannot hide bytes
      let receivedBytes = 0;
      const receivedHash = createHash('sha256');
      const allArrived = deferred<void>();
      const server = await wsServer(
        (socket) => {
          socket.pause();
          socket.on('error', () => {}); // shows as the client's settlement
          socket.on('message', (data: Buffer) => {
            receivedHash.update(data);
            receivedBytes += data.length;
            if (receivedBytes >= TOTAL) allArrived.resolve();
          });
          socket.on('close', () => allArrived.resolve());
        },
        { perMessageDeflate: deflate },
      );
      const connection = server.nextConnection();
      const { ready, done } = open(server.url, deflate ? {} : { compression: [] });
      const socket = await connection;
      const settled = settlement(done);
      const courier = await ready;
      expect(courier.extensions.startsWith('permessage-deflate')).toBe(deflate);
      const clientPort = tcpOf(socket).remotePort!;

      const first = deferred<string>();
      const run = runRecipe(
        courier,
        chunksPerTurn(COUNT, (index) => payload.subarray(index * CHUNK, (index + 1) * CHUNK)),
        {
          onWait: () => first.resolve('waited in drained()'),
          onAllQueued: () => first.resolve('queued everything without waiting'),
        },
      );
      const firstEvent = await Promise.race([first.promise, settled.then((how) => `the connection ended first: ${how}`)]);

      // Then until nothing moves for 20 turns: the client sends no more,
      // and the kernel's queues are full.
      let stuck: Stuck | undefined;
      let previous = '';
      let same = 0;
      await turnsUntil(
        () => {
          const kernel = inKernel(clientPort, server.port);
          const buffered = courier.buffered_amount;
          const now = JSON.stringify([run.queued, buffered, kernel, receivedBytes]);
          same = now === previous ? same + 1 : 0;
          previous = now;
          stuck = {
            waiting: run.waiting,
            queuedAll: run.allQueued,
            serverHadReceived: receivedBytes,
            unaccounted: Math.max(0, run.queued - buffered - receivedBytes - kernel),
          };
          return same >= 20;
        },
        20_000,
        'the client stops sending to a server that does not read',
      );

      socket.resume();
      await allArrived.promise;
      const recipe = await run.finished;

      expect({
        first: firstEvent,
        stuck,
        receivedBytes,
        intact: receivedHash.digest('hex') === sha256(payload),
        recipe,
        settled: await settled,
      }).toEqual({
        first: 'waited in drained()',
        stuck: { waiting: true, queuedAll: false, serverHadReceived: 0, unaccounted: expect.any(Number) },
        receivedBytes: TOTAL,
        intact: true,
        recipe: 'closed',
        settled: 'resolved [1000,"sent"]',
      });
      // The server's socket may have read once into ws's receiver before
      // pause() took hold (a net socket reads up to 64 KiB at a time): those
      // bytes are nowhere this test can see. Anything more is held
      // uncounted by the client (about 60 MiB before the fix).
      expect(stuck?.unaccounted).toBeLessThanOrEqual(64 * 1024);
    },
  );

  /**
   * Streams `count` chunks with the recipe to a ws server that stops
   * reading once it has received each of `pauseAt` bytes, and reads again
   * once the client has sat in drained() for 10 turns (or queued
   * everything, or the connection ended: then the stall did not hold the
   * client back).
   */
  async function streamThroughStalls(count: number, pauseAt: number[], deflate: boolean) {
    const total = count * CHUNK;
    const base = seededBytes(2 * CHUNK, 0x5e4d);
    const chunk = Buffer.alloc(CHUNK);
    const sentHash = createHash('sha256');
    // Chunk i: base from offset (i * 4099) mod CHUNK, then i in its first 4 bytes.
    const make = (index: number) => {
      const offset = (index * 4099) % CHUNK;
      base.copy(chunk, 0, offset, offset + CHUNK);
      chunk.writeUInt32BE(index, 0);
      sentHash.update(chunk);
      return chunk; // send_binary copies it: the next chunk may reuse it
    };

    let run: RecipeRun | undefined;
    let ended = false;
    let receivedBytes = 0;
    const receivedHash = createHash('sha256');
    const stalls: Array<Promise<boolean>> = [];
    const allArrived = deferred<void>();
    const stall = async (socket: WebSocket): Promise<boolean> => {
      socket.pause();
      let waitingTurns = 0;
      await turnsUntil(
        () => {
          waitingTurns = run?.waiting ? waitingTurns + 1 : 0;
          return waitingTurns >= 10 || Boolean(run?.allQueued) || ended;
        },
        200_000,
        'a stalled server holds the client back in drained()',
      );
      socket.resume();
      return waitingTurns >= 10;
    };
    const server = await wsServer(
      (socket) => {
        socket.on('error', () => {});
        socket.on('message', (data: Buffer) => {
          receivedHash.update(data);
          receivedBytes += data.length;
          if (stalls.length < pauseAt.length && receivedBytes >= pauseAt[stalls.length]!) stalls.push(stall(socket));
          if (receivedBytes >= total) allArrived.resolve();
        });
        socket.on('close', () => allArrived.resolve());
      },
      { perMessageDeflate: deflate },
    );
    const { ready, done } = open(server.url, deflate ? {} : { compression: [] });
    const settled = settlement(done).then((how) => {
      ended = true;
      return how;
    });
    const courier = await ready;
    expect(courier.extensions.startsWith('permessage-deflate')).toBe(deflate);

    let peak = 0;
    run = runRecipe(courier, chunksPerTurn(count, make), {
      onWait: () => (peak = Math.max(peak, courier.buffered_amount)),
    });
    await allArrived.promise;
    const recipe = await run.finished;
    return {
      clientWaitedAtEachStall: await Promise.all(stalls),
      receivedBytes,
      intact: receivedHash.digest('hex') === sentHash.digest('hex'),
      // The recipe waits above 1 MiB: it never has more than that and one chunk queued.
      peakBuffered: peak <= MiB + CHUNK + 64,
      recipe,
      settled: await settled,
    };
  }

  // With permessage-deflate it is smaller: lws deflates (and ws inflates)
  // in this one thread. After the last stall more is left to send (44 MiB)
  // than the kernel can hold (tcp_wmem + tcp_rmem maxima, 4 + 32 MiB here),
  // so the client must wait.
  test.each([
    [
      "the README recipe streams 400 MiB to a ws server that stalls three times: the client waits out each stall, and the server's sha256 is the sender's",
      1600,
      [64 * MiB, 192 * MiB, 320 * MiB],
      false,
    ],
    [
      'the same with permessage-deflate, 64 MiB through three stalls: the client waits out each, bounded, intact, and closed cleanly',
      256,
      [4 * MiB, 12 * MiB, 20 * MiB],
      true,
    ],
  ] as const)('%s', async (_, count, stalls, deflate) => {
    const outcome = await streamThroughStalls(count, [...stalls], deflate);
    expect(outcome).toEqual({
      clientWaitedAtEachStall: [true, true, true],
      receivedBytes: count * CHUNK,
      intact: true,
      peakBuffered: true,
      recipe: 'closed',
      settled: 'resolved [1000,"sent"]',
    });
  }, 60_000);
});
