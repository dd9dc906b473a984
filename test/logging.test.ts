/**
 * lws is quiet by default: what it would warn of (a 404, a refused
 * certificate) reaches the caller as a rejection, so nothing goes to stderr
 * unless the caller asks, with set_log_level() (stderr, process-wide), a
 * Logger (one connection's lines, to a callback) or NODE_DEBUG=libwebsockets
 * (Node's util.debuglog convention). Each runs in a child process, whose
 * stderr is the process's own.
 */
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect, ConnectionFailed, Logger } from '../lib';
import { rejectionOf } from './helpers/client';
import { makePki } from './helpers/pki';
import { notFoundServer, onCleanup, runCleanups } from './helpers/per_test';
import { spawnNode, type NodeChild } from './helpers/tools';
import { turnsUntil } from './helpers/turns';

afterEach(runCleanups);

/** Connects to each URL in turn, printing how each ended; `before` runs first. */
function client(urls: string[], env: NodeJS.ProcessEnv = {}, before = ''): NodeChild {
  const script = `
    const lws = require(process.env.LWS_DIST);
    ${before}
    (async () => {
      for (const url of process.argv.slice(1)) {
        await lws.connect({ url, on_ready: (courier) => courier.close(1000) }).then(
          () => console.log('closed'),
          (error) => console.log('failed ' + error.phase),
        );
      }
    })();
  `;
  const child = spawnNode(script, urls, env);
  onCleanup(() => child.kill());
  return child;
}

/** A TLS server with a self-signed certificate: every wss:// client refuses it. */
async function selfSignedServer(): Promise<string> {
  const server = https.createServer(makePki().selfSigned('localhost'));
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

const WARNED_404 = /W: .*got bad HTTP response '404'/;

test('by default a 404 and a refused certificate reject, and nothing reaches stderr', async () => {
  const notFound = await notFoundServer();
  const child = client([notFound.url, await selfSignedServer()]);
  const { code } = await child.exited;
  expect({ code, lines: child.lines, stderr: child.stderr() }).toEqual({ code: 0, lines: ['failed handshake', 'failed tls'], stderr: '' });
});

test("set_log_level() puts lws's lines on stderr", async () => {
  const notFound = await notFoundServer();
  const child = client([notFound.url], {}, 'lws.set_log_level(lws.LLL_ERR | lws.LLL_WARN);');
  const { code } = await child.exited;
  expect({ code, lines: child.lines }).toEqual({ code: 0, lines: ['failed handshake'] });
  expect(child.stderr()).toMatch(WARNED_404);
});

test("NODE_DEBUG=libwebsockets writes a connection's lines through util.debuglog", async () => {
  const notFound = await notFoundServer();
  const child = client([notFound.url], { NODE_DEBUG: 'net,libwebsockets' });
  const { code } = await child.exited;
  expect({ code, lines: child.lines }).toEqual({ code: 0, lines: ['failed handshake'] });
  const lines = child.stderr().split('\n');
  const warned = lines.find((line) => WARNED_404.test(line));
  expect(warned).toMatch(new RegExp(`^LIBWEBSOCKETS ${child.process.pid}: `));
});

test("a Logger still hears its connection's lines", async () => {
  const notFound = await notFoundServer();
  const heard: string[] = [];
  const logger = new Logger({ callback: (_level, line) => heard.push(line) });
  const error = await rejectionOf(connect({ url: notFound.url, logger, on_ready: () => undefined }));
  expect(error).toBeInstanceOf(ConnectionFailed);
  await turnsUntil(() => heard.some((line) => WARNED_404.test(line)), 100, `the Logger hearing of the 404 (got ${JSON.stringify(heard)})`);
});
