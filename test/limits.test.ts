/**
 * Messages at the size limits of what lws and V8 can take, which failed
 * silently or aborted the process:
 * - sending 2 GiB or more under permessage-deflate (lws deflates with int
 *   lengths: the message went nowhere, without an error);
 * - receiving a text message longer than V8's longest string (~512 MiB)
 *   with a max_message_size that allows it (Node-API's string creation
 *   failed inside the delivery, and the C++ exception aborted the process).
 * Each needs a buffer of 0.5-2 GiB: one at a time, released at the end.
 */
import { once } from 'node:events';
import { WebSocket } from '../lib';
import { startClient } from './helpers/client';
import { nodeChild, runCleanups, wsServer } from './helpers/per_test';
import { echo } from './helpers/servers';

afterEach(runCleanups);

const GiB = 2 ** 30;

// One 2 GiB buffer (zeroes: never sent) for the tests that need it.
let twoGiB: Buffer | undefined;
const twoGiBBuffer = () => (twoGiB ??= Buffer.alloc(2 * GiB));
afterAll(() => {
  twoGiB = undefined;
});

const DEFLATE_LIMIT_MESSAGE =
  'message is 2147483648 bytes; with permessage-deflate negotiated a message must be under 2 GiB (at most 2147483647 bytes: lws deflates with int lengths)';

describe('2 GiB or more with permessage-deflate', () => {
  test('courier.send_binary() throws a RangeError naming the limit and the size; nothing is queued, the connection goes on', async () => {
    const server = await wsServer(echo, { perMessageDeflate: true });
    const client = startClient(server.url, { compression: 'deflate' });
    const courier = await client.ready;
    expect(courier.extensions).toMatch(/^permessage-deflate/);
    const big = twoGiBBuffer();

    expect(() => courier.send_binary(big)).toThrow(RangeError);
    expect(() => courier.send_binary(big)).toThrow(`send_binary() ${DEFLATE_LIMIT_MESSAGE}`);
    // What counts is the bytes viewed, whatever the view.
    expect(() => courier.send_binary(new DataView(big.buffer, big.byteOffset, big.length))).toThrow(RangeError);
    expect(courier.buffered_amount).toBe(0);
    courier.send_text('still open');
    expect(await client.next()).toBe('still open');
    courier.close(1000);
    await expect(client.done).resolves.toEqual([1000, '']);
  }, 120_000);

  test('WebSocket.send() throws the same RangeError; the connection goes on', async () => {
    const server = await wsServer(echo, { perMessageDeflate: true });
    const socket = new WebSocket(server.url, [], { compression: 'deflate' });
    socket.binaryType = 'nodebuffer';
    const closed = once(socket, 'close');
    await once(socket, 'open');
    expect(socket.extensions).toMatch(/^permessage-deflate/);

    expect(() => socket.send(twoGiBBuffer())).toThrow(`send() ${DEFLATE_LIMIT_MESSAGE}`);
    expect(socket.bufferedAmount).toBe(0);
    socket.send('still open');
    const [event] = (await once(socket, 'message')) as [MessageEvent];
    expect(event.data).toBe('still open');
    socket.close(1000);
    await closed;
  }, 60_000);
});

test('a text message longer than V8 can hold as a string: no crash, no exception; the client closes with 1009 and says why', async () => {
  // 512 MiB of 'a', as one text frame: V8's longest string is 2**29 - 24.
  const server = await wsServer(
    (socket) => {
      socket.on('error', () => {});
      socket.send(Buffer.alloc(2 ** 29, 0x61), { binary: false });
      socket.send('after');
    },
    { perMessageDeflate: false },
  );
  const script = `
    const { connect } = require(process.env.LWS_DIST);
    process.on('uncaughtException', (e) => { console.log('uncaught ' + (e && e.message)); process.exitCode = 3; });
    const received = [];
    connect({
      url: process.argv[1],
      compression: [],
      max_message_size: 2 ** 30,
      on_ready(courier) {
        courier.on_text((c, message) => {
          received.push(message.length);
          if (message === 'after') c.close(1000);
        });
      },
    }).then(
      (result) => console.log(JSON.stringify({ received, result })),
      (error) => console.log(JSON.stringify({ received, error: error.status ?? error.message, reason: error.reason })),
    );
  `;
  const child = nodeChild(script, [server.url]);
  const { code, signal } = await child.exited;

  expect({ code, signal, stderr: child.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
  // Refused as it arrives, with 1009 and a reason that says why; 'after'
  // is not delivered either (nothing is, once a message was refused).
  expect(child.lines).toEqual([JSON.stringify({ received: [], error: 1009, reason: 'text message longer than a JavaScript string can be' })]);
}, 120_000);
