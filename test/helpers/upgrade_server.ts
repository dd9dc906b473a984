/**
 * A `ws` server on its own http server on 127.0.0.1:0 that records what the
 * client put on the wire: every TCP connection, every upgrade request (the
 * IncomingMessage, so headers and url can be inspected), and per WebSocket
 * the messages and the close frame it received.
 */
import http, { type IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket, type ServerOptions } from 'ws';
import { arrivals } from './arrivals';
import { listenOnLoopback } from './tools';

export interface Accepted {
  socket: WebSocket;
  req: IncomingMessage;
  /** Messages received, in order (text as string, binary as Buffer). */
  messages: Array<string | Buffer>;
  /** TCP bytes read on this connection when each message arrived. */
  bytesReadAtMessage: number[];
  /** Settles when the server side of the WebSocket closed: the code and raw reason bytes it saw. */
  closed: Promise<{ code: number; reason: Buffer }>;
}

export interface UpgradeServer {
  wss: WebSocketServer;
  port: number;
  /** ws://127.0.0.1:PORT (no trailing slash) */
  url: string;
  /** TCP connections accepted so far, upgraded or not. */
  readonly tcpConnections: number;
  /** Upgrade requests seen so far (including ones ws refused). */
  readonly upgrades: IncomingMessage[];
  /** WebSocket connections accepted so far. */
  readonly accepted: readonly Accepted[];
  /** The next accepted WebSocket connection (or an already accepted one not yet taken). */
  nextAccepted(): Promise<Accepted>;
  close(): Promise<void>;
}

export interface UpgradeServerOptions extends Omit<ServerOptions, 'port' | 'host' | 'server' | 'noServer'> {
  /** Echo every message back with its type. */
  echo?: boolean;
}

export async function startUpgradeServer(options: UpgradeServerOptions = {}): Promise<UpgradeServer> {
  const { echo = false, ...wsOptions } = options;
  const httpServer = http.createServer((_req, res) => {
    res.writeHead(426).end();
  });
  let tcpConnections = 0;
  const upgrades: IncomingMessage[] = [];
  const accepted = arrivals<Accepted>();

  httpServer.on('connection', () => tcpConnections++);
  httpServer.prependListener('upgrade', (req: IncomingMessage) => upgrades.push(req));
  const wss = new WebSocketServer({ ...wsOptions, server: httpServer });
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const messages: Array<string | Buffer> = [];
    const bytesReadAtMessage: number[] = [];
    const closed = new Promise<{ code: number; reason: Buffer }>((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason }));
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      bytesReadAtMessage.push(req.socket.bytesRead);
      messages.push(isBinary ? data : data.toString('utf8'));
      if (echo) socket.send(data, { binary: isBinary });
    });
    socket.on('error', () => {});
    const record: Accepted = { socket, req, messages, bytesReadAtMessage, closed };
    accepted.add(record);
  });

  const port = await listenOnLoopback(httpServer);

  return {
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    get tcpConnections() {
      return tcpConnections;
    },
    get upgrades() {
      return upgrades;
    },
    get accepted() {
      return accepted.all;
    },
    nextAccepted: accepted.next,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }),
  };
}
