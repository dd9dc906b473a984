/**
 * A real HTTP proxy for a test: Debian's tinyproxy (1.11) on 127.0.0.1, with
 * or without Basic authentication, so the client's CONNECT meets the proxy
 * users have rather than one we wrote. tools/setup.sh installs `tinyproxy`.
 *
 * tinyproxy only takes its port from a config file, so the OS picks a free
 * one first (freePort) and we retry if another process took it meanwhile.
 * It runs in the foreground (-d), as whoever runs the tests, logging at Info
 * to its stdout: that log says when it is listening and which requests it
 * saw. With no ConnectPort line it allows CONNECT to any port (a
 * `ConnectPort 0` line would forbid CONNECT altogether).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { freePort } from './tools';

export interface HttpProxyOptions {
  /**
   * With `password`, the proxy wants these Basic credentials: it answers 407
   * to a request without Proxy-Authorization and, a tinyproxy quirk, 401 to
   * one with wrong credentials. Its config only accepts letters, digits,
   * '-', '.' and '_' in either.
   */
  user?: string;
  password?: string;
}

export interface HttpProxy {
  port: number;
  /** `http://127.0.0.1:<port>`, without credentials. */
  url: string;
  /**
   * The request line of every request in the proxy's log so far, e.g.
   * `CONNECT localhost:8443 HTTP/1.1`. Logged before authentication, so
   * refused requests are here too; logged before the proxy answers, but may
   * be read here a moment after the client got the answer: waitForRequest.
   */
  requests(): string[];
  /** Resolves with the first request line (past or future) `match` accepts; rejects if the proxy exits first. */
  waitForRequest(match: (line: string) => boolean): Promise<string>;
  close(): Promise<void>;
}

// tinyproxy's config grammar for BasicAuth values.
const AUTH_WORD = /^[-A-Za-z0-9._]+$/;
// A log line such as `CONNECT   Nov 25 18:26:16.742 [1000]: Request (file descriptor 4): CONNECT host:443 HTTP/1.1`.
const REQUEST_LINE = /: Request \(file descriptor \d+\): (.*)$/;
// Logged at Info once the listening socket exists and the accept loop starts.
const READY_LINE = 'Starting main loop. Accepting connections.';
// What tinyproxy prints before exiting when it cannot bind its port.
const PORT_TAKEN = 'Could not create listening sockets';
const ATTEMPTS = 5;

/** tinyproxy on 127.0.0.1 at a port the OS picked; resolves once it accepts connections. */
export async function startHttpProxy(options: HttpProxyOptions = {}): Promise<HttpProxy> {
  const { user, password } = options;
  if ((user === undefined) !== (password === undefined)) throw new Error('startHttpProxy: give both user and password, or neither');
  if (user !== undefined && password !== undefined && !(AUTH_WORD.test(user) && AUTH_WORD.test(password)))
    throw new Error(`startHttpProxy: tinyproxy only accepts credentials matching ${AUTH_WORD}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lws-tinyproxy-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const started = await launch(dir, configText(port, options));
      if (started.ok) return proxyHandle(port, started.child, started.log, dir);
      if (!started.output.includes(PORT_TAKEN) || attempt === ATTEMPTS)
        throw new Error(`tinyproxy did not start: ${started.output}`);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// No User/Group (it stays whoever started it), no PidFile and no LogFile
// (the log goes to stdout, which we read). Allow limits clients to loopback.
function configText(port: number, { user, password }: HttpProxyOptions): string {
  const lines = [`Port ${port}`, 'Listen 127.0.0.1', 'Allow 127.0.0.1', 'LogLevel Info'];
  if (user !== undefined && password !== undefined) lines.push(`BasicAuth ${user} ${password}`);
  return `${lines.join('\n')}\n`;
}

/** Every line a child wrote to stdout, and waiters for lines still to come (socks5.ts uses it too). */
export interface LineLog {
  lines: string[];
  /** Resolves with `pick`'s result for the first line (past or future) it picks; rejects if the child exits first. */
  waitFor<T>(pick: (line: string) => T | undefined): Promise<T>;
}

export function lineLog(child: ChildProcess, name: string): LineLog {
  const lines: string[] = [];
  const waiters: Array<(line: string | undefined) => void> = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of [...waiters]) waiter(line);
  });
  let ended = false;
  // 'close' rather than 'exit': by then stdout has been read to its end.
  child.once('close', () => {
    ended = true;
    for (const waiter of [...waiters]) waiter(undefined);
  });
  const exitedError = () => new Error(`${name} exited; its output: ${lines.join(' | ')}`);
  return {
    lines,
    waitFor<T>(pick: (line: string) => T | undefined): Promise<T> {
      for (const line of lines) {
        const picked = pick(line);
        if (picked !== undefined) return Promise.resolve(picked);
      }
      if (ended) return Promise.reject(exitedError());
      return new Promise<T>((resolve, reject) => {
        // Called with each new line, and with undefined when the child is gone.
        const waiter = (line: string | undefined) => {
          const picked = line === undefined ? undefined : pick(line);
          if (line !== undefined && picked === undefined) return;
          waiters.splice(waiters.indexOf(waiter), 1);
          if (picked === undefined) reject(exitedError());
          else resolve(picked);
        };
        waiters.push(waiter);
      });
    },
  };
}

type Launch = { ok: true; child: ChildProcess; log: LineLog } | { ok: false; output: string };

/** Starts tinyproxy and waits for its "accepting connections" line, or for it to exit. */
async function launch(dir: string, config: string): Promise<Launch> {
  const configFile = path.join(dir, 'tinyproxy.conf');
  writeFileSync(configFile, config);
  const child = spawn('tinyproxy', ['-d', '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let errorText = '';
  child.stderr!.on('data', (chunk: Buffer) => (errorText += chunk.toString()));
  const log = lineLog(child, 'tinyproxy');
  const ready = log.waitFor((line) => (line.endsWith(READY_LINE) ? true : undefined)).catch(() => false);
  const spawnFailed = once(child, 'error').then(([error]: Error[]) => {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw missing ? new Error('tinyproxy is not installed (tools/setup.sh installs it)') : error;
  });
  if (await Promise.race([ready, spawnFailed])) return { ok: true, child, log };
  return { ok: false, output: [errorText.trim(), ...log.lines].filter((text) => text !== '').join(' | ') };
}

const requestLine = (line: string) => REQUEST_LINE.exec(line)?.[1];

function proxyHandle(port: number, child: ChildProcess, log: LineLog, dir: string): HttpProxy {
  const closed = once(child, 'close');
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests: () => log.lines.map(requestLine).filter((line): line is string => line !== undefined),
    waitForRequest: (match) => log.waitFor((line) => {
      const request = requestLine(line);
      return request !== undefined && match(request) ? request : undefined;
    }),
    close: async () => {
      // SIGTERM: tinyproxy exits at once, open tunnels or not.
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
