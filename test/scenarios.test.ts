/**
 * The Perl module's own scenarios, ported: who closes first and how the
 * promise settles, fragmented messages, pings from the server, and a server
 * that stops answering pings. Real `ws` servers on 127.0.0.1, OS ports.
 */
import { once } from 'node:events';
import type { WebSocket } from 'ws';
import { ConnectionFailed, WebSocketClose } from '../lib';
import { rejectionOf, startClient } from './helpers/client';
import { echo, startWsServer, type WsServer } from './helpers/servers';
import { closeSeen, seededBytes } from './helpers/tools';

const servers: WsServer[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function wsServer(onConnection?: (socket: WebSocket) => void, autoPong = true): Promise<WsServer> {
  const server = await startWsServer(onConnection, { autoPong });
  servers.push(server);
  return server;
}

const ROUNDS = 5;

describe('who closes first', () => {
  test("the client closes with 1001 and a non-ASCII reason: the server sees both, the promise rejects WebSocketClose 1001", async () => {
    const server = await wsServer();
    const connection = server.nextConnection();
    const client = startClient(server.url);
    const courier = await client.ready;
    const seen = closeSeen(await connection);

    const error = await rejectionOf(courier.close(1001, 'à bientôt, 世界'));

    await expect(seen).resolves.toEqual([1001, 'à bientôt, 世界']);
    expect(error).toBeInstanceOf(WebSocketClose);
    expect((error as WebSocketClose).get('code')).toBe(1001);
    expect((error as WebSocketClose).get('reason')).toBe('à bientôt, 世界');
  });

  test(`binary ping-pong, ${ROUNDS} rounds, the client closes first without a code: resolves [1005, '']`, async () => {
    const server = await wsServer(echo);
    const connection = server.nextConnection();
    const client = startClient(server.url);
    const courier = await client.ready;
    const seen = closeSeen(await connection);

    for (let round = 0; round < ROUNDS; round++) {
      const payload = seededBytes(100 + round, round);
      courier.send_binary(payload);
      await expect(client.next()).resolves.toEqual(payload);
    }
    courier.close();

    await expect(client.done).resolves.toEqual([1005, '']);
    await expect(seen).resolves.toEqual([1005, '']);
  });

  test(`text ping-pong, ${ROUNDS} rounds, the server closes first with 1000: resolves [1000, reason]`, async () => {
    const server = await wsServer((socket) => {
      let rounds = 0;
      socket.on('message', (data) => {
        socket.send(`pong ${String(data)}`);
        if (++rounds === ROUNDS) socket.close(1000, 'enough');
      });
    });
    const client = startClient(server.url);
    const courier = await client.ready;

    for (let round = 0; round < ROUNDS; round++) {
      courier.send_text(`ping ${round}`);
      await expect(client.next()).resolves.toBe(`pong ping ${round}`);
    }

    await expect(client.done).resolves.toEqual([1000, 'enough']);
  });
});

describe('fragmented server messages', () => {
  test('a text message in three fragments, a character split across two of them, arrives whole and once', async () => {
    // 'é' is C3 A9 in UTF-8: the first fragment ends after C3.
    const whole = Buffer.from('fragmenté en trois', 'utf8');
    const cut = whole.indexOf(0xc3) + 1;
    const server = await wsServer((socket) => {
      socket.send(whole.subarray(0, cut), { binary: false, fin: false });
      socket.send(whole.subarray(cut, cut + 4), { binary: false, fin: false });
      socket.send(whole.subarray(cut + 4), { binary: false, fin: true });
      socket.send('after', { binary: false });
    });
    const client = startClient(server.url);

    await expect(client.next()).resolves.toBe('fragmenté en trois');
    await expect(client.next()).resolves.toBe('after');
    (await client.ready).close(1000);
    await client.done;
  });

  test('a 256 KiB binary message in 64 fragments arrives whole and once', async () => {
    const whole = seededBytes(256 * 1024, 7);
    const size = whole.length / 64;
    const server = await wsServer((socket) => {
      for (let offset = 0; offset < whole.length; offset += size)
        socket.send(whole.subarray(offset, offset + size), { binary: true, fin: offset + size >= whole.length });
      socket.send(Buffer.from('after'), { binary: true });
    });
    const client = startClient(server.url);

    // Buffer.equals: jest's deep equality walks 256 Ki elements one by one.
    const received = (await client.next()) as Buffer;
    expect(received.length).toBe(whole.length);
    expect(received.equals(whole)).toBe(true);
    await expect(client.next()).resolves.toEqual(Buffer.from('after'));
    (await client.ready).close(1000);
    await client.done;
  });
});

describe('pings', () => {
  test("the server's pings are answered with pongs carrying their payload, and the connection goes on", async () => {
    const server = await wsServer(echo);
    const connection = server.nextConnection();
    const client = startClient(server.url);
    const courier = await client.ready;
    const socket = await connection;

    for (const payload of ['first', 'second', '']) {
      const pong = once(socket, 'pong');
      socket.ping(payload);
      const [data] = (await pong) as [Buffer];
      expect(data.toString()).toBe(payload);
    }
    courier.send_text('still here');
    await expect(client.next()).resolves.toBe('still here');
    courier.close(1000);
    await expect(client.done).resolves.toEqual([1000, '']);
  });

  test('with ping_interval 1 the client pings; a server that answers keeps the connection past ping_timeout 2', async () => {
    const server = await wsServer(echo);
    const connection = server.nextConnection();
    const client = startClient(server.url, { ping_interval: 1, ping_timeout: 2 });
    const courier = await client.ready;
    const socket = await connection;

    // Four pings span more than ping_timeout: each pong renewed the deadline.
    for (let ping = 0; ping < 4; ping++) await once(socket, 'ping');
    courier.send_text('alive');
    await expect(client.next()).resolves.toBe('alive');
    courier.close(1000);
    await expect(client.done).resolves.toEqual([1000, '']);
  });

  test('a server that stops answering pings: the connection is dropped after ping_timeout and rejects ConnectionFailed (timeout)', async () => {
    const server = await wsServer(undefined, false);
    const connection = server.nextConnection();
    const client = startClient(server.url, { ping_interval: 1, ping_timeout: 2 });
    await client.ready;
    const socket = await connection;
    const pinged = once(socket, 'ping');

    const error = await rejectionOf(client.done);

    await pinged;
    expect(error).toBeInstanceOf(ConnectionFailed);
    const failed = error as ConnectionFailed;
    expect(failed.phase).toBe('timeout');
    expect(failed.message).toContain(`127.0.0.1:${server.port}`);
    expect(failed.message).toMatch(/ping_timeout \(2 s\)/);
  });
});
