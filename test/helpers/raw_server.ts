/**
 * A raw TCP "WebSocket server" on 127.0.0.1:0 (node:net) for protocol tests:
 * it reads the client's upgrade request, writes whatever response the test
 * asks for (by default a correct 101), and from then on writes exactly the
 * bytes the test gives it. Everything the client sends back is parsed as
 * RFC 6455 frames and recorded: opcode, payload, and for a close frame its
 * code and reason. How the client's TCP side ended (FIN or RST) is recorded
 * too, so a test can tell a close frame from a dropped socket.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { arrivals } from './arrivals';
import { destroyAndClose, listenOnLoopback } from './tools';

// ---------------------------------------------------------------------------
// Frames

export const OP = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The reserved bits as they sit in the first byte's 0x70: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
export const RSV1 = 0b100;
export const RSV2 = 0b010;
export const RSV3 = 0b001;

export interface FrameSpec {
  opcode: number;
  /** Default true. */
  fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4). Default 0. */
  rsv?: number;
  /** Mask the payload (servers must not). Default false. */
  mask?: boolean;
  /** Default empty. Strings are UTF-8 encoded. */
  payload?: Buffer | string;
}

const MASKING_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** The exact bytes of one frame, with the shortest length encoding. */
export function frame({ opcode, fin = true, rsv = 0, mask = false, payload = Buffer.alloc(0) }: FrameSpec): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const first = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf);
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  if (body.length < 126) {
    header = Buffer.from([first, maskBit | body.length]);
  } else if (body.length < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(body.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(body.length), 2);
  }
  if (!mask) return Buffer.concat([header, body]);
  const masked = Buffer.from(body);
  for (let index = 0; index < masked.length; index++) masked[index]! ^= MASKING_KEY[index & 3]!;
  return Buffer.concat([header, MASKING_KEY, masked]);
}

/** A close frame's payload: the code (big-endian), then the reason. */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const status = Buffer.alloc(2);
  status.writeUInt16BE(code);
  return Buffer.concat([status, typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason]);
}

/** One frame the client sent, unmasked. */
export interface ClientFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Parses whole frames off the front of `buffer`; returns them and the unparsed rest. */
function parseFrames(buffer: Buffer): { frames: ClientFrame[]; rest: Buffer } {
  const frames: ClientFrame[] = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const first = buffer[offset]!;
    const second = buffer[offset + 1]!;
    let length = second & 0x7f;
    let position = offset + 2;
    if (length === 126) {
      if (buffer.length < position + 2) break;
      length = buffer.readUInt16BE(position);
      position += 2;
    } else if (length === 127) {
      if (buffer.length < position + 8) break;
      length = Number(buffer.readBigUInt64BE(position));
      position += 8;
    }
    const masked = (second & 0x80) !== 0;
    const key = masked ? buffer.subarray(position, position + 4) : undefined;
    if (masked) position += 4;
    if (buffer.length < position + length) break;
    const payload = Buffer.from(buffer.subarray(position, position + length));
    if (key) for (let index = 0; index < payload.length; index++) payload[index]! ^= key[index & 3]!;
    frames.push({ fin: (first & 0x80) !== 0, rsv: (first >> 4) & 7, opcode: first & 0xf, masked, payload });
    offset = position + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

// ---------------------------------------------------------------------------
// The handshake

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export interface UpgradeRequest {
  method: string;
  path: string;
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Sec-WebSocket-Key ('' if absent). */
  key: string;
}

export interface UpgradeOptions {
  /** Sec-WebSocket-Accept to send; default the correct one. */
  accept?: string;
  /** Sec-WebSocket-Protocol to send, if any. */
  protocol?: string;
  /** Sec-WebSocket-Extensions to send, if any. */
  extensions?: string;
}

/** A 101 response to `request`; correct unless the options say otherwise. */
export function switchingProtocols(request: UpgradeRequest, options: UpgradeOptions = {}): string {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${options.accept ?? acceptFor(request.key)}`,
  ];
  if (options.protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
  if (options.extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A plain HTTP response with an empty body (a refused upgrade). */
export function httpResponse(status: number, text: string): string {
  return `HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\n\r\n`;
}

function parseRequest(head: string): UpgradeRequest {
  const [requestLine = '', ...lines] = head.split('\r\n');
  const [method = '', path = ''] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { method, path, headers, key: headers['sec-websocket-key'] ?? '' };
}

// ---------------------------------------------------------------------------
// The peer: one accepted connection

/** How the client's side of the TCP connection ended. */
export type TcpEnd = 'fin' | 'reset';

/** The client's close frame, or how its TCP side ended without one. */
export type ClientClose =
  | { frame: true; code: number | undefined; reason: Buffer; payload: Buffer }
  | { frame: false; tcp: TcpEnd };

export interface RawPeer {
  socket: net.Socket;
  request: UpgradeRequest;
  /** Every frame the client sent after the handshake, in order. */
  readonly frames: ClientFrame[];
  /**
   * Writes the chunks, concatenated, in one write. Each chunk is normally
   * one frame: a chunk whose first byte has opcode 8 counts as the server's
   * close frame, so the client's close is then taken as its answer and not
   * echoed.
   */
  send(...chunks: Buffer[]): void;
  /** The next frame the client sends (not yet taken); rejects if the connection ends first. */
  nextFrame(): Promise<ClientFrame>;
  /** The client's first close frame, or how the connection ended without one. */
  clientClose: Promise<ClientClose>;
  /** Settles once the socket is fully closed, with how the client's side ended. */
  tcpEnded: Promise<TcpEnd>;
}

export interface RawServerOptions {
  /** The handshake response to write; default `switchingProtocols(request)`. */
  respond?: (request: UpgradeRequest) => string | Buffer;
  /**
   * On the client's close frame: answer it with the same code (unless the
   * server sent a close frame first, so this is the answer) and end the TCP
   * connection, as a well-behaved server does (RFC 6455 5.5.1, 7.1.1).
   * Default true.
   */
  echoClose?: boolean;
}

export interface RawServer {
  port: number;
  /** ws://127.0.0.1:PORT (no trailing slash) */
  url: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** The next peer whose handshake response has been written (or one not yet taken). */
  nextPeer(): Promise<RawPeer>;
  close(): Promise<void>;
}

function startPeer(socket: net.Socket, request: UpgradeRequest, rest: Buffer, echoClose: boolean): RawPeer {
  const frames: ClientFrame[] = [];
  let taken = 0;
  const waiters: Array<{ resolve: (frame: ClientFrame) => void; reject: (error: Error) => void }> = [];
  let pending = rest;
  let sawReset = false;
  let sawClose = false;
  let sentClose = false;
  let ended = false;

  let resolveClose!: (close: ClientClose) => void;
  const clientClose = new Promise<ClientClose>((resolve) => (resolveClose = resolve));
  let resolveTcp!: (end: TcpEnd) => void;
  const tcpEnded = new Promise<TcpEnd>((resolve) => (resolveTcp = resolve));

  const onFrames = () => {
    const parsed = parseFrames(pending);
    pending = parsed.rest;
    for (const received of parsed.frames) {
      frames.push(received);
      const waiter = waiters.shift();
      if (waiter) {
        taken++;
        waiter.resolve(received);
      }
      if (received.opcode === OP.CLOSE && !sawClose) {
        sawClose = true;
        const { payload } = received;
        resolveClose({
          frame: true,
          code: payload.length >= 2 ? payload.readUInt16BE(0) : undefined,
          reason: payload.subarray(2),
          payload,
        });
        if (echoClose && !ended) {
          if (!sentClose) socket.write(frame({ opcode: OP.CLOSE, payload: payload.length >= 2 ? payload.subarray(0, 2) : payload }));
          socket.end();
        }
      }
    }
  };

  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    onFrames();
  });
  socket.on('end', () => {
    ended = true;
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ECONNRESET') sawReset = true;
  });
  socket.on('close', () => {
    const how: TcpEnd = sawReset ? 'reset' : 'fin';
    resolveTcp(how);
    if (!sawClose) resolveClose({ frame: false, tcp: how });
    const error = new Error(`the client's connection ended (${how}) before another frame`);
    for (const waiter of waiters.splice(0)) waiter.reject(error);
  });
  if (rest.length) onFrames();

  return {
    socket,
    request,
    frames,
    send(...chunks) {
      if (chunks.some((chunk) => ((chunk[0] ?? 0) & 0x0f) === OP.CLOSE)) sentClose = true;
      socket.write(Buffer.concat(chunks));
    },
    nextFrame() {
      if (taken < frames.length) return Promise.resolve(frames[taken++] as ClientFrame);
      if (socket.destroyed) return Promise.reject(new Error('the connection already ended'));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    clientClose,
    tcpEnded,
  };
}

export async function startRawServer(options: RawServerOptions = {}): Promise<RawServer> {
  const { respond = (request: UpgradeRequest) => switchingProtocols(request), echoClose = true } = options;
  const sockets = new Set<net.Socket>();
  const peers = arrivals<RawPeer>();
  let connections = 0;

  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const request = parseRequest(head.subarray(0, end).toString('latin1'));
      const peer = startPeer(socket, request, head.subarray(end + 4), echoClose);
      socket.write(respond(request));
      peers.add(peer);
    };
    socket.on('data', onData);
  });
  const port = await listenOnLoopback(server);

  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    nextPeer: peers.next,
    close: () => destroyAndClose(server, sockets),
  };
}
