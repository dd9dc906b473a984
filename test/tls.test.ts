/**
 * wss:// against real TLS servers whose certificates are made at test time
 * (test/helpers/pki.ts): verification is on by default, a refusal says why
 * in words, each LCCSCF_* flag lifts exactly its own check, and tls_ca,
 * tls_cert and tls_key set trust and identity.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import {
  connect,
  ConnectionFailed,
  LCCSCF_ALLOW_EXPIRED,
  LCCSCF_ALLOW_INSECURE,
  LCCSCF_ALLOW_SELFSIGNED,
  LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK,
  type ConnectOptions,
} from '../lib';
import { greeting, rejectionOf } from './helpers/client';
import { makePki, type KeyAndCertificate, type Pki } from './helpers/pki';
import { echo } from './helpers/servers';
import { listenOnLoopback, spawnNode } from './helpers/tools';

let pki: Pki;
const servers: https.Server[] = [];
const rawServers: net.Server[] = [];

beforeAll(() => {
  pki = makePki();
});

afterAll(async () => {
  for (const server of rawServers) server.close();
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** The greeting of tlsServer's servers: who the client certificate names. */
function clientCertificateGreeting(socket: TLSSocket): string {
  const peer = socket.getPeerCertificate();
  return peer.subject ? `client ${peer.subject.CN}` : 'no client certificate';
}

/** A greeting that tells the server name (SNI) the client sent, if any. */
function serverNameGreeting(socket: TLSSocket): string {
  return socket.servername ? `server name ${socket.servername}` : 'no server name';
}

/** A wss server on `host` (127.0.0.1) with `identity`, greeting each client; returns its port. */
async function tlsServer(
  identity: KeyAndCertificate,
  options: https.ServerOptions = {},
  host = '127.0.0.1',
  greet: (socket: TLSSocket) => string = clientCertificateGreeting,
): Promise<number> {
  const server = https.createServer({ ...identity, ...options });
  new WebSocketServer({ server }).on('connection', (socket, request) => {
    socket.send(greet(request.socket as TLSSocket));
    echo(socket);
  });
  server.listen(0, host);
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

async function refusal(url: string, options: Omit<ConnectOptions, 'url' | 'on_ready'> = {}): Promise<ConnectionFailed> {
  const error = await rejectionOf(connect({ ...options, url, on_ready: () => undefined }));
  expect(error).toBeInstanceOf(ConnectionFailed);
  expect((error as ConnectionFailed).phase).toBe('tls');
  return error as ConnectionFailed;
}

describe('verification is on by default, and a refusal says why', () => {
  test('a self-signed certificate: "self-signed certificate"', async () => {
    const port = await tlsServer(pki.selfSigned('localhost'));
    const error = await refusal(`wss://localhost:${port}/`);
    expect(error.message).toBe(
      `WebSocket connection to localhost:${port} failed (tls): TLS certificate verification failed: self-signed certificate (X509_V_ERR 18)`,
    );
  });

  test('a certificate from a CA nobody trusts: "unable to get local issuer certificate"', async () => {
    const port = await tlsServer(pki.leaf('localhost'));
    const error = await refusal(`wss://localhost:${port}/`);
    expect(error.message).toMatch(/TLS certificate verification failed: unable to get local issuer certificate \(X509_V_ERR 20\)$/);
  });

  test('an expired certificate from a trusted CA: "certificate has expired"', async () => {
    const port = await tlsServer(pki.expiredLeaf('localhost'));
    const error = await refusal(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert });
    expect(error.message).toMatch(/TLS certificate verification failed: certificate has expired \(X509_V_ERR 10\)$/);
  });

  test('a trusted certificate for another name: "hostname mismatch"', async () => {
    const port = await tlsServer(pki.leaf('elsewhere.example'));
    const error = await refusal(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert });
    expect(error.message).toMatch(/TLS certificate verification failed: hostname mismatch \(X509_V_ERR 62\)$/);
  });

  test('a trusted certificate for the right name is accepted', async () => {
    const port = await tlsServer(pki.leaf('localhost'));
    await expect(greeting(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert })).resolves.toBe('no client certificate');
  });

  test('an IPv6 literal: wss://[::1] connects and is checked against the certificate IP addresses', async () => {
    const port = await tlsServer(pki.leaf('localhost', { altNames: ['::1'] }), {}, '::1');
    await expect(greeting(`wss://[::1]:${port}/`, { tls_ca: pki.ca.cert })).resolves.toBe('no client certificate');
    const other = await tlsServer(pki.leaf('localhost', { altNames: ['::2'] }), {}, '::1');
    const error = await refusal(`wss://[::1]:${other}/`, { tls_ca: pki.ca.cert });
    expect(error.message).toMatch(/IP address mismatch/);
  });

  test('an IPv4 literal is checked against the certificate IP addresses', async () => {
    const port = await tlsServer(pki.leaf('localhost', { altNames: ['127.0.0.1'] }));
    await expect(greeting(`wss://127.0.0.1:${port}/`, { tls_ca: pki.ca.cert })).resolves.toBe('no client certificate');
  });
});

describe('the server name (SNI) and long host names', () => {
  test('a DNS name is sent as the server name; an IPv4 or IPv6 literal is not (RFC 6066 3)', async () => {
    const identity = pki.leaf('localhost', { altNames: ['localhost', '127.0.0.1', '::1'] });
    const v4 = await tlsServer(identity, {}, '127.0.0.1', serverNameGreeting);
    const v6 = await tlsServer(identity, {}, '::1', serverNameGreeting);
    const toLoopback: ConnectOptions['lookup'] = (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
    const options = { tls_ca: pki.ca.cert, lookup: toLoopback };
    await expect(greeting(`wss://localhost:${v4}/`, options)).resolves.toBe('server name localhost');
    await expect(greeting(`wss://127.0.0.1:${v4}/`, options)).resolves.toBe('no server name');
    await expect(greeting(`wss://[::1]:${v6}/`, options)).resolves.toBe('no server name');
  });

  // lws copied the host with its port into a 128-byte buffer to name the
  // server: with a 5-digit port a name of more than 121 characters did not
  // fit and failed with "bio_create failed"; one of 127 fails with any port.
  test.each([
    ['127', `${'x'.repeat(63)}.${'y'.repeat(55)}.example`],
    ['253 (the longest DNS name)', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`],
  ])('a host name of %s characters connects over wss, is sent as the server name and verified', async (length, name) => {
    expect(name).toHaveLength(parseInt(length, 10));
    const port = await tlsServer(pki.leaf('long name', { altNames: [name] }), {}, '127.0.0.1', serverNameGreeting);
    const lookup: ConnectOptions['lookup'] = (_host, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
    await expect(greeting(`wss://${name}:${port}/`, { tls_ca: pki.ca.cert, lookup })).resolves.toBe(`server name ${name}`);
    // Verified against that name: a certificate for the name less its last letter is refused.
    const other = await tlsServer(pki.leaf('long name', { altNames: [name.slice(0, -1)] }));
    const error = await refusal(`wss://${name}:${other}/`, { tls_ca: pki.ca.cert, lookup });
    expect(error.message).toMatch(/hostname mismatch/);
  });
});

describe('each LCCSCF_* flag lifts exactly its own check', () => {
  test('ALLOW_SELFSIGNED: a self-signed certificate passes, but not one for another name', async () => {
    const port = await tlsServer(pki.selfSigned('localhost'));
    await expect(greeting(`wss://localhost:${port}/`, { tls: LCCSCF_ALLOW_SELFSIGNED })).resolves.toBe('no client certificate');
    const error = await refusal(`wss://127.0.0.1:${port}/`, { tls: LCCSCF_ALLOW_SELFSIGNED });
    expect(error.message).toMatch(/IP address mismatch/);
  });

  test('ALLOW_SELFSIGNED does not accept an expired certificate', async () => {
    const port = await tlsServer(pki.expiredLeaf('localhost'));
    const error = await refusal(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert, tls: LCCSCF_ALLOW_SELFSIGNED });
    expect(error.message).toMatch(/certificate has expired/);
  });

  test('ALLOW_EXPIRED: an expired certificate passes, but not one for another name', async () => {
    const port = await tlsServer(pki.expiredLeaf('localhost'));
    await expect(greeting(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert, tls: LCCSCF_ALLOW_EXPIRED })).resolves.toBe(
      'no client certificate',
    );
    const otherName = await tlsServer(pki.expiredLeaf('elsewhere.example'));
    const error = await refusal(`wss://localhost:${otherName}/`, { tls_ca: pki.ca.cert, tls: LCCSCF_ALLOW_EXPIRED });
    expect(error.message).toMatch(/hostname mismatch/);
  });

  test('SKIP_SERVER_CERT_HOSTNAME_CHECK: another name passes, an untrusted issuer does not', async () => {
    const port = await tlsServer(pki.leaf('elsewhere.example'));
    const skip = LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    await expect(greeting(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert, tls: skip })).resolves.toBe('no client certificate');
    const error = await refusal(`wss://localhost:${port}/`, { tls: skip });
    expect(error.message).toMatch(/unable to get local issuer certificate/);
  });

  test('ALLOW_INSECURE: an untrusted issuer passes, another name does not', async () => {
    const port = await tlsServer(pki.leaf('localhost', { issuer: pki.otherCa }));
    await expect(greeting(`wss://localhost:${port}/`, { tls: LCCSCF_ALLOW_INSECURE })).resolves.toBe('no client certificate');
    const otherName = await tlsServer(pki.leaf('elsewhere.example', { issuer: pki.otherCa }));
    const error = await refusal(`wss://localhost:${otherName}/`, { tls: LCCSCF_ALLOW_INSECURE });
    expect(error.message).toMatch(/hostname mismatch/);
  });
});

describe('the default trust', () => {
  test("is the system's store: a CA named by SSL_CERT_FILE is trusted without tls_ca", async () => {
    const port = await tlsServer(pki.leaf('localhost'));
    const directory = mkdtempSync(path.join(os.tmpdir(), 'lws-ca-'));
    const caFile = path.join(directory, 'ca.pem');
    writeFileSync(caFile, pki.ca.cert);
    const script = `require(process.env.LWS_DIST).connect({ url: process.argv[1], on_ready: (c) => c.close(1000) })
      .then((r) => console.log('closed', r[0]), (e) => console.log('failed', e.message));`;
    try {
      const trusted = spawnNode(script, [`wss://localhost:${port}/`], { SSL_CERT_FILE: caFile });
      await expect(trusted.waitForLine(() => true)).resolves.toBe('closed 1000');
      const untrusted = spawnNode(script, [`wss://localhost:${port}/`], { SSL_CERT_FILE: path.join(directory, 'none.pem') });
      await expect(untrusted.waitForLine(() => true)).resolves.toMatch(/^failed .*unable to get local issuer certificate/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('NODE_EXTRA_CA_CERTS', () => {
  // Node reads it at startup, so each case is a child process. The child
  // also asks node:tls about the same server: the two must agree.
  const script = `
    const [url, port, caFile] = process.argv.slice(1);
    const tls_ca = caFile ? require('node:fs').readFileSync(caFile) : undefined;
    const socket = require('node:tls').connect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', ca: tls_ca, rejectUnauthorized: false }, () => {
      console.log('node:tls ' + (socket.authorized ? 'trusted' : 'refused'));
      socket.destroy();
      require(process.env.LWS_DIST).connect({ url, tls_ca, on_ready: (c) => { c.on_text(() => {}); c.close(1000); } })
        .then((r) => console.log('closed', r[0]), (e) => console.log('failed', e.phase, e.cause));
    });
  `;

  async function attempt(env: NodeJS.ProcessEnv, caFile = ''): Promise<string[]> {
    const port = await tlsServer(pki.leaf('localhost'));
    const child = spawnNode(script, [`wss://localhost:${port}/`, String(port), caFile], env);
    const { code } = await child.exited;
    expect({ code, stderr: child.stderr() }).toEqual({ code: 0, stderr: '' });
    return child.lines;
  }

  let directory: string;
  let extraFile: string;
  let otherCaFile: string;
  beforeAll(() => {
    directory = mkdtempSync(path.join(os.tmpdir(), 'lws-extra-ca-'));
    extraFile = path.join(directory, 'extra.pem');
    otherCaFile = path.join(directory, 'other.pem');
    // A bundle, as such files usually are: the server's CA is the second.
    writeFileSync(extraFile, Buffer.concat([pki.otherCa.cert, pki.ca.cert]));
    writeFileSync(otherCaFile, pki.otherCa.cert);
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  test("adds its CAs to the default trust: a server they vouch for is trusted, as node:tls trusts it", async () => {
    expect(await attempt({ NODE_EXTRA_CA_CERTS: extraFile })).toEqual(['node:tls trusted', 'closed 1000']);
  });

  test('without it, that server is refused (as node:tls refuses it)', async () => {
    expect(await attempt({ NODE_EXTRA_CA_CERTS: '' })).toEqual([
      'node:tls refused',
      'failed tls TLS certificate verification failed: unable to get local issuer certificate (X509_V_ERR 20)',
    ]);
  });

  test('tls_ca replaces the default trust, NODE_EXTRA_CA_CERTS included, as node:tls `ca` does', async () => {
    expect(await attempt({ NODE_EXTRA_CA_CERTS: extraFile }, otherCaFile)).toEqual([
      'node:tls refused',
      'failed tls TLS certificate verification failed: unable to get local issuer certificate (X509_V_ERR 20)',
    ]);
  });
});

// binding/connect_error.cc tells a TLS failure by OpenSSL's state (the
// verify result, a handshake never finished), not by lws's wording.
describe('a TLS failure is told by OpenSSL, not by the words of lws', () => {
  async function resetDuringTls(): Promise<number> {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.resetAndDestroy());
    });
    const port = await listenOnLoopback(server);
    rawServers.push(server);
    return port;
  }

  test('the server resets the connection after the ClientHello: phase tls', async () => {
    const port = await resetDuringTls();
    const error = await refusal(`wss://127.0.0.1:${port}/`);
    expect(error.cause).toMatch(/reset/i);
  });

  test('a plain TCP server behind wss://: phase tls', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    });
    const port = await listenOnLoopback(server);
    rawServers.push(server);
    await refusal(`wss://127.0.0.1:${port}/`);
  });
});

describe('tls_ca', () => {
  test('replaces the default trust: a CA other than the server’s refuses it', async () => {
    const port = await tlsServer(pki.leaf('localhost'));
    const error = await refusal(`wss://localhost:${port}/`, { tls_ca: pki.otherCa.cert });
    expect(error.message).toMatch(/unable to get local issuer certificate/);
  });

  test('a bundle of several PEM certificates trusts each of them (string or Buffer)', async () => {
    const bundle = Buffer.concat([pki.otherCa.cert, pki.ca.cert]);
    const byCa = await tlsServer(pki.leaf('localhost'));
    const byOtherCa = await tlsServer(pki.leaf('localhost', { issuer: pki.otherCa }));
    await expect(greeting(`wss://localhost:${byCa}/`, { tls_ca: bundle })).resolves.toBe('no client certificate');
    await expect(greeting(`wss://localhost:${byOtherCa}/`, { tls_ca: bundle.toString() })).resolves.toBe('no client certificate');
  });

  test('connections with different tls_ca keep separate trust (one vhost each)', async () => {
    const port = await tlsServer(pki.leaf('localhost'));
    await expect(greeting(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert })).resolves.toBe('no client certificate');
    // Same server, a store without its CA: still refused after the first vhost exists.
    await refusal(`wss://localhost:${port}/`, { tls_ca: pki.otherCa.cert });
    await expect(greeting(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert })).resolves.toBe('no client certificate');
  });

  test('is validated before the network: not PEM → TypeError naming tls_ca', () => {
    expect(() => connect({ url: 'wss://localhost:9/', tls_ca: 'not a certificate', on_ready: () => undefined })).toThrow(
      /^Expected PEM certificates \(a string or Buffer\) for tls_ca but received 'not a certificate'$/,
    );
    expect(() => connect({ url: 'wss://localhost:9/', tls_ca: 42 as unknown as string, on_ready: () => undefined })).toThrow(TypeError);
  });
});

describe('tls_cert and tls_key: a client certificate', () => {
  const requireClientCertificate = (): https.ServerOptions => ({ requestCert: true, rejectUnauthorized: true, ca: pki.clientCa.cert });

  test('a server that requires one accepts the connection and sees who it is', async () => {
    const port = await tlsServer(pki.leaf('localhost'), requireClientCertificate());
    const client = pki.clientCert('lws client');
    await expect(greeting(`wss://localhost:${port}/`, { tls_ca: pki.ca.cert, tls_cert: client.cert, tls_key: client.key })).resolves.toBe(
      'client lws client',
    );
  });

  test('without one, that server refuses the connection: ConnectionFailed, phase tls', async () => {
    const port = await tlsServer(pki.leaf('localhost'), requireClientCertificate());
    const error = await rejectionOf(connect({ url: `wss://localhost:${port}/`, tls_ca: pki.ca.cert, on_ready: () => undefined }));
    expect(error).toBeInstanceOf(ConnectionFailed);
    // TLS 1.3: the server's alert comes after the client's side of the
    // handshake is done, while it waits for the HTTP answer; OpenSSL still
    // counts the handshake as failed.
    expect((error as ConnectionFailed).phase).toBe('tls');
  });

  test('are validated before the network, without showing the key', () => {
    const client = pki.clientCert('lws client');
    const other = pki.clientCert('someone else');
    const attempt = (options: Partial<ConnectOptions>) => () => connect({ url: 'wss://localhost:9/', on_ready: () => undefined, ...options });
    expect(attempt({ tls_cert: client.cert })).toThrow('Expected tls_cert and tls_key together (a client certificate needs its key) but received only tls_cert');
    expect(attempt({ tls_key: client.key })).toThrow('received only tls_key');
    expect(attempt({ tls_cert: client.cert, tls_key: other.key })).toThrow(/^Expected the private key of tls_cert for tls_key but received a Buffer of \d+ bytes \(not shown: it may be secret\)$/);
    expect(attempt({ tls_cert: client.cert, tls_key: 'not a key' })).toThrow(/for tls_key but received a string of 9 characters \(not shown/);
    expect(attempt({ tls_cert: Buffer.concat([client.cert, other.cert]), tls_key: client.key })).toThrow(/for tls_cert/);
    // The key given as the certificate (files swapped): no byte of it in the message.
    for (const swapped of [client.key, client.key.toString('latin1')]) {
      expect(attempt({ tls_cert: swapped, tls_key: client.cert })).toThrow(/for tls_cert but received a (Buffer of \d+ bytes|string of \d+ characters) \(not shown: it may be secret\)$/);
    }
  });

  // connect() keeps what it parsed of recent material: reuse must still
  // tell every certificate and key apart, and check each new pairing.
  test('material used before is reused only for the same certificate and key', async () => {
    const port = await tlsServer(pki.leaf('localhost'), requireClientCertificate());
    const first = pki.clientCert('first client');
    const second = pki.clientCert('second client');
    const as = (identity: { cert: Buffer; key: Buffer }, asText = false) =>
      greeting(`wss://localhost:${port}/`, {
        tls_ca: pki.ca.cert,
        tls_cert: asText ? identity.cert.toString() : identity.cert,
        tls_key: asText ? identity.key.toString() : identity.key,
      });
    await expect(as(first)).resolves.toBe('client first client');
    await expect(as(second)).resolves.toBe('client second client');
    await expect(as(first, true)).resolves.toBe('client first client');
    await expect(as(first)).resolves.toBe('client first client');
    expect(() => connect({ url: `wss://localhost:${port}/`, tls_ca: pki.ca.cert, tls_cert: first.cert, tls_key: second.key, on_ready: () => undefined })).toThrow(
      /^Expected the private key of tls_cert for tls_key/,
    );
  });
});
