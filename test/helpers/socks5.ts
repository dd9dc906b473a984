/**
 * Our SOCKS5 server (test/helpers/socks5_server.py, stdlib Python) on
 * 127.0.0.1 at a port the OS picked, for tests of a client going through a
 * SOCKS proxy. It prints what it did, so a test can tell which host name or
 * address the client asked it to reach (a client resolving names itself
 * shows up as an address).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { lineLog } from './proxy';

export interface Socks5Options {
  /** With `password`, only username/password authentication (RFC 1929) is accepted; without, only none. */
  user?: string;
  password?: string;
}

export interface Socks5Server {
  port: number;
  /**
   * Every line read so far that the server printed after its port:
   * `connect HOST PORT`, `refused HOST PORT REPLY-CODE`, `auth-failed USER`,
   * `no-method`. A line is printed before the reply it explains, but may be
   * read here a moment after the client got that reply: waitForLine.
   */
  lines(): string[];
  /** `HOST PORT` of every CONNECT the server performed so far, HOST as the client sent it. */
  connects(): string[];
  /** Resolves with the first line (past or future) `match` accepts; rejects if the server exits first. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  close(): Promise<void>;
}

const CONNECT_LINE = /^connect (.*)$/;

/** Starts socks5_server.py; resolves once it listens. */
export async function startSocks5Server(options: Socks5Options = {}): Promise<Socks5Server> {
  const { user, password } = options;
  if ((user === undefined) !== (password === undefined)) throw new Error('startSocks5Server: give both user and password, or neither');
  const args = user !== undefined && password !== undefined ? ['--user', user, '--password', password] : [];
  const child = spawn('/usr/bin/python3', [path.join(__dirname, 'socks5_server.py'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const closed = once(child, 'close');
  const log = lineLog(child, 'socks5_server.py');
  const port = await log.waitFor((line) => (/^\d+$/.test(line) ? Number(line) : undefined));
  // The port is the first line; what follows is what the server did.
  const lines = () => log.lines.slice(1);
  return {
    port,
    lines,
    connects: () => lines().flatMap((line) => CONNECT_LINE.exec(line)?.[1] ?? []),
    // Only the first line is a bare number, so this skips the port.
    waitForLine: (match) => log.waitFor((line) => (line !== String(port) && match(line) ? line : undefined)),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await closed;
    },
  };
}
