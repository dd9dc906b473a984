/**
 * Client vhosts (lib/vhost.ts, binding/context.cc): lws keeps trust, client
 * identity and proxy per vhost, so each distinct configuration gets one
 * (~6 KiB, and for wss ~20 ms of setup). A service with per-session
 * credentials must not grow by one for every session: vhosts no connection
 * uses are freed beyond the 16 most recently used.
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { connect, type Courier } from '../lib';
import { native } from '../lib/native';
import { arrivals } from './helpers/arrivals';
import { greeting } from './helpers/client';
import { onCleanup, runCleanups } from './helpers/per_test';
import { makePki, type Pki } from './helpers/pki';
import { echo } from './helpers/servers';

afterEach(runCleanups);

/** How many vhosts that no connection uses are kept (docs/API.md, TLS). */
const IDLE_VHOSTS = 16;

let pki: Pki;
beforeAll(() => {
  pki = makePki();
});

/** A wss server on 127.0.0.1 that greets each client and echoes; its URL. */
async function wssServer(): Promise<string> {
  const server = https.createServer(pki.leaf('localhost'));
  new WebSocketServer({ server }).on('connection', (socket) => {
    socket.send('hello');
    echo(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `wss://localhost:${(server.address() as AddressInfo).port}/`;
}

test('200 connections one after another, each with its own client certificate, keep at most 16 vhosts', async () => {
  const url = await wssServer();
  const counts: number[] = [];
  for (let index = 0; index < 200; index++) {
    const client = pki.clientCert(`client ${index}`);
    await expect(greeting(url, { tls_ca: pki.ca.cert, tls_cert: client.cert, tls_key: client.key })).resolves.toBe('hello');
    counts.push(native.vhostCount());
  }
  expect(Math.max(...counts)).toBeLessThanOrEqual(IDLE_VHOSTS);
}, 120_000);

test('a vhost in use is kept however many others come and go, and a freed one is made again when needed', async () => {
  const url = await wssServer();
  const first = pki.clientCert('first');
  const withFirst = { tls_ca: pki.ca.cert, tls_cert: first.cert, tls_key: first.key };
  const texts = arrivals<string>();
  let opened!: Courier;
  const ready = new Promise<void>((resolve) => {
    void connect({
      url,
      ...withFirst,
      on_ready(courier) {
        opened = courier;
        courier.on_text((_courier, text) => texts.add(text));
        resolve();
      },
    });
  });
  await ready;
  await expect(texts.next()).resolves.toBe('hello');
  // 2 × IDLE_VHOSTS other configurations come and go while this connection
  // stays open on its vhost.
  for (let index = 0; index < 2 * IDLE_VHOSTS; index++) {
    const client = pki.clientCert(`passing ${index}`);
    await expect(greeting(url, { tls_ca: pki.ca.cert, tls_cert: client.cert, tls_key: client.key })).resolves.toBe('hello');
  }
  opened.send_text('still here');
  await expect(texts.next()).resolves.toBe('still here');
  await opened.close(1000);
  // Its vhost goes idle and, after IDLE_VHOSTS more, is freed; the same
  // configuration then gets a new one that works.
  for (let index = 0; index < IDLE_VHOSTS + 1; index++) {
    const client = pki.clientCert(`later ${index}`);
    await expect(greeting(url, { tls_ca: pki.ca.cert, tls_cert: client.cert, tls_key: client.key })).resolves.toBe('hello');
  }
  await expect(greeting(url, withFirst)).resolves.toBe('hello');
  expect(native.vhostCount()).toBeLessThanOrEqual(IDLE_VHOSTS);
}, 120_000);
