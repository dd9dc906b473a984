/**
 * Connecting across every resolved address (dns.lookup with all: true), as
 * net.connect does: refused or hanging addresses give way to the next one.
 */
import { spawn } from 'node:child_process';
import dns, { type LookupAddress } from 'node:dns';
import { once } from 'node:events';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { WebSocketServer } from 'ws';
import { connect, ConnectionFailed, LCCSCF_ALLOW_SELFSIGNED, type ConnectOptions } from '../lib';
import { interleaveFamilies } from '../lib/addresses';
import { echo, startWsServer } from './helpers/servers';
import { makeCertificate } from './helpers/certificates';
import { listenOnLoopback } from './helpers/tools';

type Lookup = NonNullable<ConnectOptions['lookup']>;

/** A resolver that answers `addresses` for any name, recording what it was asked. */
function fixedLookup(addresses: LookupAddress[], calls: Array<[string, unknown]> = []): Lookup {
  return (hostname, options, callback) => {
    calls.push([hostname, options]);
    process.nextTick(callback, null, addresses);
  };
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

/** Sends one text message, expects it echoed, closes with 1000. */
async function echoOnce(url: string, extra: Partial<ConnectOptions> = {}): Promise<string> {
  let echoed = '';
  const result = await connect({
    url,
    ...extra,
    on_ready(courier) {
      courier.on_text((c, message) => {
        echoed = message;
        c.close(1000);
      });
      courier.send_text('across addresses');
    },
  });
  expect(result).toEqual([1000, '']);
  return echoed;
}

/** A port with nothing listening on it at `host`. */
async function closedPort(host: string): Promise<number> {
  const server = net.createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('interleaves address families, keeping the resolver order within each', () => {
  const ordered = interleaveFamilies([v6('::1'), v6('::2'), v4('127.0.0.1'), v4('127.0.0.2'), v4('127.0.0.3')]);
  expect(ordered.map((entry) => entry.address)).toEqual(['::1', '127.0.0.1', '::2', '127.0.0.2', '127.0.0.3']);
});

test('ws://localhost reaches a server on 127.0.0.1 only when localhost resolves to ::1 first', async () => {
  const server = await startWsServer(echo);
  try {
    const calls: Array<[string, unknown]> = [];
    // What a resolver that maps localhost to both answers, ::1 first.
    const lookup = fixedLookup([v6('::1'), v4('127.0.0.1')], calls);
    expect(await echoOnce(`ws://localhost:${server.port}/`, { lookup })).toBe('across addresses');
    expect(calls).toEqual([['localhost', { all: true }]]);
  } finally {
    await server.close();
  }
});

test('wss://localhost reaches a TLS server on 127.0.0.1 only when localhost resolves to ::1 first', async () => {
  const { key, cert } = makeCertificate('localhost');
  const tlsServer = https.createServer({ key, cert });
  const wss = new WebSocketServer({ server: tlsServer });
  const hosts: string[] = [];
  wss.on('connection', (socket, request) => {
    hosts.push(`${request.headers.host} ${(request.socket as import('node:tls').TLSSocket).servername}`);
    echo(socket);
  });
  const port = await listenOnLoopback(tlsServer);
  try {
    const lookup = fixedLookup([v6('::1'), v4('127.0.0.1')]);
    expect(await echoOnce(`wss://localhost:${port}/`, { lookup, tls: LCCSCF_ALLOW_SELFSIGNED })).toBe('across addresses');
    // Host header and SNI carry the name, not the address connected to.
    expect(hosts).toEqual([`localhost:${port} localhost`]);
  } finally {
    wss.close();
    tlsServer.close();
  }
});

test('ws://localhost reaches a server on ::1 only when localhost resolves to 127.0.0.1 first', async () => {
  const server = await startWsServer(echo, { host: '::1' } as object);
  try {
    const lookup = fixedLookup([v4('127.0.0.1'), v6('::1')]);
    expect(await echoOnce(`ws://localhost:${server.port}/`, { lookup })).toBe('across addresses');
  } finally {
    await server.close();
  }
});

test('the system resolver is used by default', async () => {
  const server = await startWsServer(echo);
  try {
    const addresses = await dns.promises.lookup('localhost', { all: true });
    expect(addresses.some((entry) => entry.address === '127.0.0.1')).toBe(true);
    expect(await echoOnce(`ws://localhost:${server.port}/`)).toBe('across addresses');
  } finally {
    await server.close();
  }
});

test('a refused first address gives way to the second', async () => {
  const server = await startWsServer(echo);
  try {
    // Nothing listens on 127.0.0.2 at the server's port.
    const lookup = fixedLookup([v4('127.0.0.2'), v4('127.0.0.1')]);
    expect(await echoOnce(`ws://service.test:${server.port}/`, { lookup })).toBe('across addresses');
  } finally {
    await server.close();
  }
});

test('a first address whose connect hangs gives way to the second after the attempt timeout', async () => {
  const server = await startWsServer(echo);
  const blackhole = spawn('/usr/bin/python3', [path.join(__dirname, 'helpers', 'blackhole.py'), '127.0.0.2', String(server.port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const lines = readline.createInterface({ input: blackhole.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    const lookup = fixedLookup([v4('127.0.0.2'), v4('127.0.0.1')]);
    expect(await echoOnce(`ws://service.test:${server.port}/`, { lookup })).toBe('across addresses');
  } finally {
    blackhole.stdin!.end();
    await once(blackhole, 'exit');
    await server.close();
  }
});

test('fails with ConnectionFailed naming every address tried and why, when all fail', async () => {
  const port = await closedPort('127.0.0.1');
  const lookup = fixedLookup([v4('127.0.0.1'), v6('::1')]);
  const failure = connect({ url: `ws://service.test:${port}/`, lookup, on_ready: () => undefined });
  await expect(failure).rejects.toBeInstanceOf(ConnectionFailed);
  await expect(failure).rejects.toMatchObject({ phase: 'connect', host: 'service.test', port });
  await expect(failure).rejects.toThrow(/127\.0\.0\.1: .*refused.*; ::1: .*refused/i);
});

test('a resolver error rejects ConnectionFailed naming the name', async () => {
  const lookup: Lookup = (hostname, options, callback) =>
    process.nextTick(callback, Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  const failure = connect({ url: 'ws://no-such-host.test/', lookup, on_ready: () => undefined });
  await expect(failure).rejects.toMatchObject({ phase: 'dns', host: 'no-such-host.test' });
  await expect(failure).rejects.toThrow(/no-such-host\.test did not resolve: ENOTFOUND/);
});

test('a name that does not resolve with the system resolver rejects ConnectionFailed', async () => {
  const failure = connect({ url: 'ws://name-that-does-not-exist.invalid/', on_ready: () => undefined });
  await expect(failure).rejects.toMatchObject({ phase: 'dns', host: 'name-that-does-not-exist.invalid' });
});

test('lookup must be a function', () => {
  expect(() => connect({ url: 'ws://127.0.0.1/', on_ready: () => undefined, lookup: 'dns' as unknown as Lookup })).toThrow(
    /Expected a function with dns\.lookup\(\)'s signature for lookup but received 'dns'/,
  );
});

