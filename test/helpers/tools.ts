/**
 * Small tools for the tests: test servers' listening and closing, free
 * ports, reproducible payloads, promises for a `ws` server socket's events,
 * and Node children that load the compiled package (dist/) the way a user's
 * program would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import type { RawData, WebSocket } from 'ws';

/** The compiled package, as a child process or worker requires it. */
export const DIST = path.resolve(__dirname, '..', '..', 'dist');

/** Starts `server` listening on 127.0.0.1, on a port the OS picks; resolves with that port. */
export async function listenOnLoopback(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Destroys the server's sockets still open and stops it listening. */
export function destroyAndClose(server: net.Server, sockets: Iterable<net.Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
}

/** A port nothing listens on: the OS picks it, then we let it go. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listenOnLoopback(server);
  server.close();
  await once(server, 'close');
  return port;
}

/** mulberry32: a tiny seeded PRNG, so a failing payload can be reproduced. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` pseudo-random bytes from `seed`. */
export function seededBytes(length: number, seed: number): Buffer {
  const next = prng(seed);
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index++) bytes[index] = Math.floor(next() * 256);
  return bytes;
}

// 1-, 2-, 3- and 4-byte UTF-8 characters, so multi-byte characters straddle
// every fragment and buffer boundary somewhere in a large message.
const ALPHABET = ['a', 'Z', '7', ' ', 'é', 'ß', 'Ж', '€', '中', '😀', '🎉'];

/** A pseudo-random string from `seed` whose UTF-8 encoding is at least `minBytes` long. */
export function seededText(minBytes: number, seed: number): string {
  const next = prng(seed);
  const parts: string[] = [];
  let bytes = 0;
  while (bytes < minBytes) {
    const char = ALPHABET[Math.floor(next() * ALPHABET.length)] as string;
    parts.push(char);
    bytes += Buffer.byteLength(char);
  }
  return parts.join('');
}

/** The code and reason a `ws` server socket saw when its connection closed. */
export async function closeSeen(socket: WebSocket): Promise<[number, string]> {
  const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
  return [code, reason.toString('utf8')];
}

/** The next message on a `ws` server socket; rejects if the socket closes first. */
export function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: RawData, isBinary: boolean) => {
      socket.off('close', onClose);
      resolve({ data: data as Buffer, isBinary });
    };
    const onClose = (code: number) => {
      socket.off('message', onMessage);
      reject(new Error(`socket closed (${code}) before a message arrived`));
    };
    socket.once('message', onMessage);
    socket.once('close', onClose);
  });
}

/** A Node child process running a script, with its stdout read line by line. */
export interface NodeChild {
  process: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** Resolves with the first line (past or future) that `match` accepts; rejects if the child exits first. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves with the exit code and signal once the child exits (already exited included). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the child wrote to stderr, for failure messages. */
  stderr(): string;
  kill(): void;
}

/** `node -e script args…`; the script finds the package at process.env.LWS_DIST. */
export function spawnNode(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): NodeChild {
  const child = spawn(process.execPath, ['-e', script, ...args], {
    env: { ...process.env, ...env, LWS_DIST: DIST },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  let errorText = '';
  let closed = false;
  child.stderr!.on('data', (chunk: Buffer) => (errorText += chunk.toString()));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close' rather than 'exit': stdout is fully read by then.
    child.once('close', (code, signal) => {
      closed = true;
      for (const waiter of waiters.splice(0))
        waiter.reject(new Error(`child exited (${code ?? signal}) first; stdout: ${lines.join(' | ')}; stderr: ${errorText}`));
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    lines,
    exited,
    stderr: () => errorText,
    waitForLine(match) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      if (closed)
        return Promise.reject(new Error(`child already exited; stdout: ${lines.join(' | ')}; stderr: ${errorText}`));
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
