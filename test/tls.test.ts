/**
 * wss:// against a real TLS server with a certificate made at test time:
 * verification is on by default, and a failed check is a 'tls' failure.
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { connect, ConnectionFailed, LCCSCF_ALLOW_SELFSIGNED, LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK } from '../lib';
import { makeCertificate } from './helpers/certificates';
import { echo } from './helpers/servers';

let server: https.Server;
let wss: WebSocketServer;
let port: number;

beforeAll(async () => {
  server = https.createServer(makeCertificate('localhost'));
  wss = new WebSocketServer({ server });
  wss.on('connection', echo);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  ({ port } = server.address() as AddressInfo);
});

afterAll(() => {
  wss.close();
  server.close();
});

function closeOnReady(url: string, tls?: number) {
  return connect({ url, ...(tls !== undefined && { tls }), on_ready: (courier) => void courier.close(1000) });
}

test('a self-signed certificate is refused by default, as a tls failure', async () => {
  const failure = closeOnReady(`wss://localhost:${port}/`);
  await expect(failure).rejects.toBeInstanceOf(ConnectionFailed);
  await expect(failure).rejects.toMatchObject({ phase: 'tls', host: 'localhost', port });
});

test('LCCSCF_ALLOW_SELFSIGNED accepts it when the name matches', async () => {
  await expect(closeOnReady(`wss://localhost:${port}/`, LCCSCF_ALLOW_SELFSIGNED)).resolves.toEqual([1000, '']);
});

test('a certificate for another name is refused even with ALLOW_SELFSIGNED, as a tls failure', async () => {
  const failure = closeOnReady(`wss://127.0.0.1:${port}/`, LCCSCF_ALLOW_SELFSIGNED);
  await expect(failure).rejects.toMatchObject({ phase: 'tls', host: '127.0.0.1' });
});

test('LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK lifts the name check', async () => {
  await expect(
    closeOnReady(`wss://127.0.0.1:${port}/`, LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK),
  ).resolves.toEqual([1000, '']);
});
