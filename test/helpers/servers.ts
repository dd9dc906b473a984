/**
 * Real peers on 127.0.0.1 with ports chosen by the OS: the `ws` package's
 * server and Python's `websockets` (Debian's python3-websockets).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { WebSocketServer, type WebSocket, type ServerOptions } from 'ws';
import { listenOnLoopback } from './tools';

export interface WsServer {
  server: WebSocketServer;
  port: number;
  url: string;
  /** The next connection the server accepts. */
  nextConnection(): Promise<WebSocket>;
  close(): Promise<void>;
}

/** A `ws` server on 127.0.0.1:0; `onConnection` handles each client. */
export async function startWsServer(
  onConnection?: (socket: WebSocket) => void,
  options: Omit<ServerOptions, 'port' | 'host'> = {},
): Promise<WsServer> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(server, 'listening');
  if (onConnection) server.on('connection', onConnection);
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}`,
    nextConnection: async () => ((await once(server, 'connection')) as [WebSocket])[0],
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Echoes every message back with its type. */
export function echo(socket: WebSocket): void {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
}

export interface PythonServer {
  port: number;
  url: string;
  /** Lines the server printed after its port (what it observed). */
  lines: AsyncIterableIterator<string>;
  close(): Promise<void>;
}

/** Python's `websockets` server running test/helpers/python_server.py in `mode`. */
export async function startPythonServer(mode: string): Promise<PythonServer> {
  const child: ChildProcess = spawn('/usr/bin/python3', [path.join(__dirname, 'python_server.py'), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('python websockets server did not start');
  const port = Number(first.value);
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    lines,
    close: async () => {
      if (child.exitCode === null) {
        child.kill();
        await once(child, 'exit');
      }
    },
  };
}

export interface NotFoundServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A plain http server on 127.0.0.1:0 that answers every upgrade request 404 (lws logs a warning for it). */
export async function startNotFoundServer(): Promise<NotFoundServer> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (_req, socket) => {
    socket.on('error', () => {});
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found');
  });
  const port = await listenOnLoopback(server);
  return {
    url: `ws://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
