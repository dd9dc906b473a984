/**
 * lwscat: a wscat/websocat-like command line client on this package.
 * stdin → messages (a text message per line, or with --binary a binary
 * message per chunk read), messages → stdout, end of stdin → close 1000,
 * and an exit status that says how the connection ended. In interactive
 * mode lines starting with '/' are commands (lib/cli/commands.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type CloseResult } from '../connect';
import type { Courier, PauseHandle } from '../courier';
import { ConnectionClosed, ConnectionFailed, General, WebSocketClose } from '../errors';
import { LLL_ERR, LLL_WARN, LWS_VERSION, set_log_level } from '../constants';
import { parseCliArgs, UsageError, USAGE, type CliOptions, type Command } from './args';
import { COMMANDS_HELP, parseLine } from './commands';

const EXIT = {
  /** Closed with 1000 or 1005. */
  OK: 0,
  /** Closed with another code, or lwscat itself failed. */
  CLOSED: 1,
  USAGE: 2,
  /** ConnectionFailed (no closing handshake) or General (could not start). */
  FAILED: 3,
  /** 128 + SIGINT, as a shell reports a process killed by Ctrl-C. */
  INTERRUPTED: 130,
} as const;

// Input backpressure: past HIGH bytes queued stdin is paused until
// courier.drained() says the queue is down to LOW. Without this,
// `lwscat url < big-file` would copy the whole file into the native send
// queue.
const SEND_QUEUE_HIGH = 1024 * 1024;
const SEND_QUEUE_LOW = 256 * 1024;

/** Runs lwscat with `argv` (without node and the script), then exits the process. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let code: number;
  try {
    code = await run(argv);
  } catch (error) {
    // Not a connection outcome: a bug in lwscat or in the package.
    process.stderr.write(`lwscat: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    code = EXIT.CLOSED;
  }
  // Exit explicitly rather than waiting for the loop to empty: stdin, once
  // read from, keeps the process alive (a terminal or an open pipe) after the
  // server closed. What was written to stdout and stderr goes out first.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

async function run(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(error.message);
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return EXIT.OK;
    case 'version':
      process.stdout.write(`lwscat ${packageVersion()} (libwebsockets ${LWS_VERSION})\n`);
      return EXIT.OK;
    case 'run':
      return new Session(command.options).run();
  }
}

function usageError(message: string): number {
  process.stderr.write(`lwscat: ${message}\nTry 'lwscat --help' for more information.\n`);
  return EXIT.USAGE;
}

/** One connection: stdin to the server, the server to stdout. */
class Session {
  readonly #options: CliOptions;
  /** Lines starting with '/' are commands, and "connected" is said on stderr. */
  readonly #interactive: boolean;
  #courier: Courier | undefined;
  /** close() was called, by end of input or Ctrl-C: nothing more is sent. */
  #closing = false;
  /** The connection is over: the promise settled. */
  #over = false;
  /** Nothing more is read from stdin. */
  #inputStopped = false;
  /** Text read after the last newline, sent at the next newline or at the end. */
  #partialLine = '';
  #waitingForSendQueue = false;
  /** Held while stdout cannot take more: the server is read no further. */
  #stdoutPause: PauseHandle | undefined;
  #stdoutPauseScheduled = false;
  /** stdout failed (EPIPE: the reader went away); later output is dropped. */
  #stdoutBroken = false;
  #interrupts = 0;

  constructor(options: CliOptions) {
    this.#options = options;
    // A terminal on stdin means a person typing; --binary reads no lines.
    this.#interactive = options.interactive ?? (process.stdin.isTTY === true && !options.binary);
  }

  async run(): Promise<number> {
    // lwscat reports failures itself (ConnectionFailed carries lws's cause);
    // lws's own warnings and errors are for -v.
    if (this.#options.verbose) set_log_level(LLL_ERR | LLL_WARN);
    process.stdout.on('error', (error) => this.#stdoutFailed(error));

    let settled: Promise<CloseResult>;
    try {
      settled = connect({ ...this.#options.connect, url: this.#options.url, on_ready: (courier) => this.#ready(courier) });
    } catch (error) {
      // connect() checks every option before touching the network, and says
      // what is wrong with a TypeError or RangeError: a usage error here.
      if (error instanceof TypeError || error instanceof RangeError) return usageError(this.#namingFlag(error.message));
      throw error;
    }
    const onSigint = () => this.#interrupt();
    process.on('SIGINT', onSigint);
    this.#verbose(`connecting to ${this.#options.url}`);

    try {
      const [code, reason] = await settled;
      this.#verbose(`closed with ${describeClose(code, reason)}`);
      return EXIT.OK;
    } catch (error) {
      if (error instanceof WebSocketClose) {
        this.#note(`closed with ${describeClose(error.status, error.reason)}`);
        return EXIT.CLOSED;
      }
      if (error instanceof ConnectionFailed || error instanceof General) {
        this.#note(error.message);
        return EXIT.FAILED;
      }
      throw error;
    } finally {
      this.#over = true;
      this.#stopInput();
      this.#releaseStdout();
      process.off('SIGINT', onSigint);
    }
  }

  /**
   * connect()'s message names the option ("… for tls_ca …"); the user set it
   * with a flag, so the flag (and the file or number given) leads.
   */
  #namingFlag(message: string): string {
    for (const [option, flag] of Object.entries(this.#options.setBy)) {
      if (new RegExp(`\\bfor ${option}\\b`).test(message)) return `${flag}: ${message}`;
    }
    return message;
  }

  #ready(courier: Courier): void {
    this.#courier = courier;
    if (this.#interactive || this.#options.verbose) {
      let line = `connected to ${this.#options.url}`;
      if (this.#options.verbose) line += ` (subprotocol: ${courier.protocol || 'none'}; extensions: ${courier.extensions || 'none'})`;
      if (this.#interactive) line += '; /help lists the commands';
      this.#note(line);
    }
    courier.on_text((_courier, message) => this.#output(`${message}\n`));
    courier.on_binary((_courier, message) => this.#output(message));
    // stdin is first read now: what was typed or piped before the handshake
    // waits in the pipe, and a failed connection never touches stdin.
    const { stdin } = process;
    if (!this.#options.binary) stdin.setEncoding('utf8');
    stdin.on('data', (chunk: string | Buffer) => this.#input(chunk));
    stdin.once('end', () => this.#endOfInput());
    stdin.once('error', (error) => {
      this.#note(`cannot read stdin: ${error.message}`);
      this.#endOfInput();
    });
  }

  // --- stdin → server ------------------------------------------------------

  #input(chunk: string | Buffer): void {
    const courier = this.#courier;
    if (this.#inputStopped || !courier) return;
    if (typeof chunk === 'string') {
      // Only the new chunk is searched for newlines, so a long line read in
      // many chunks costs linear time.
      let start = 0;
      for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
        const line = this.#partialLine + chunk.slice(start, newline);
        this.#partialLine = '';
        start = newline + 1;
        // A CRLF line end (Windows, telnet habits) is a line end too.
        if (!this.#line(line.endsWith('\r') ? line.slice(0, -1) : line)) return;
      }
      this.#partialLine += chunk.slice(start);
    } else if (!this.#send(chunk)) {
      return;
    }
    if (courier.buffered_amount > SEND_QUEUE_HIGH) this.#waitForSendQueue(courier);
  }

  /** One line of text read: a message, or in interactive mode perhaps a command; false once input stops. */
  #line(line: string): boolean {
    if (!this.#interactive) return this.#send(line);
    const parsed = parseLine(line);
    switch (parsed.kind) {
      case 'message':
        return this.#send(parsed.text);
      case 'ping':
        this.#command(`/ping`, () => this.#courier?.ping(parsed.payload));
        return !this.#inputStopped;
      case 'close':
        this.#command(`/close ${parsed.code}`, () => this.#close(parsed.code, parsed.reason));
        return !this.#inputStopped;
      case 'help':
        process.stderr.write(`${COMMANDS_HELP}\n`);
        return true;
      case 'invalid':
        this.#commandError(parsed.problem);
        return true;
    }
  }

  /**
   * Runs a command's action. A value the Courier refuses (a close code out
   * of range, a ping over 125 bytes) is reported and the session goes on, as
   * a shell goes on after a mistyped command.
   */
  #command(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) return this.#commandError(`${what}: ${error.message}`);
      if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'ERR_LWS_CLOSED') return this.#stopInput();
      throw error;
    }
  }

  /** A command that cannot be run: said even with --quiet, as a usage error is. */
  #commandError(problem: string): void {
    process.stderr.write(`lwscat: ${escapeControls(problem)}\n`);
  }

  /** Sends one message; false once the connection no longer takes any. */
  #send(message: string | Buffer): boolean {
    const courier = this.#courier;
    if (!courier || this.#inputStopped) return false;
    try {
      if (typeof message === 'string') courier.send_text(message);
      else courier.send_binary(message);
      return true;
    } catch (error) {
      // The server may close while stdin is still being read: the Courier
      // ends before the promise settles, so a send can come in between.
      if (error instanceof ConnectionClosed) {
        this.#stopInput();
        return false;
      }
      throw error;
    }
  }

  /** Stops reading stdin until the server has taken most of what is queued. */
  #waitForSendQueue(courier: Courier): void {
    if (this.#waitingForSendQueue) return;
    this.#waitingForSendQueue = true;
    process.stdin.pause();
    courier.drained(SEND_QUEUE_LOW).then(
      () => {
        this.#waitingForSendQueue = false;
        if (!this.#inputStopped) process.stdin.resume();
      },
      // The connection ended first: its promise reports how.
      () => undefined,
    );
  }

  #endOfInput(): void {
    if (this.#inputStopped) return;
    // An unterminated last line is still a line.
    if (this.#partialLine) this.#line(this.#partialLine);
    this.#partialLine = '';
    this.#stopInput();
    if (!this.#options.closeOnEof) {
      this.#verbose('end of input; waiting for the server to close');
      return;
    }
    this.#verbose('end of input; closing with 1000');
    this.#close(1000);
  }

  #stopInput(): void {
    this.#inputStopped = true;
    // Only a stdin that was read from is touched: pausing it then lets it go.
    if (this.#courier) process.stdin.pause();
  }

  /**
   * Closes with `code` and `reason`; close() sends everything queued first,
   * and throws, before anything changes, for a code or reason it refuses.
   */
  #close(code: number, reason = ''): void {
    if (this.#closing || this.#over || !this.#courier) return;
    this.#courier.close(code, reason);
    this.#closing = true;
    this.#stopInput();
  }

  // --- server → stdout -----------------------------------------------------

  #output(data: string | Buffer): void {
    if (this.#stdoutBroken) return;
    if (!process.stdout.write(data)) this.#holdBackServer();
  }

  /**
   * stdout is full: stop reading from the server until it drains, so a fast
   * server is held back by TCP instead of filling this process's memory.
   */
  #holdBackServer(): void {
    if (this.#stdoutPause || this.#stdoutPauseScheduled) return;
    this.#stdoutPauseScheduled = true;
    // Deferred to the next tick: a message listener may be running inside
    // resume(), delivering held messages, and resume() turns reading back on
    // after them, undoing a pause() taken in the listener. Messages delivered
    // before the next tick are in memory already, so nothing is lost.
    process.nextTick(() => {
      this.#stdoutPauseScheduled = false;
      const courier = this.#courier;
      if (!courier || this.#over || this.#stdoutBroken || !process.stdout.writableNeedDrain) return;
      this.#stdoutPause = courier.pause();
      process.stdout.once('drain', this.#onStdoutDrain);
    });
  }

  readonly #onStdoutDrain = (): void => this.#releaseStdout();

  #releaseStdout(): void {
    process.stdout.off('drain', this.#onStdoutDrain);
    const pause = this.#stdoutPause;
    this.#stdoutPause = undefined;
    pause?.resume();
  }

  #stdoutFailed(error: Error): void {
    if (this.#stdoutBroken) return;
    this.#stdoutBroken = true;
    // EPIPE means the reader went away (`lwscat url | head -1`): the usual
    // ending for a cat, so it closes normally rather than as a failure.
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') this.#note(`cannot write stdout: ${error.message}`);
    this.#releaseStdout();
    this.#close(1000);
  }

  // --- signals and diagnostics -------------------------------------------

  /** First Ctrl-C: close with 1000. Second, or before the handshake: quit. */
  #interrupt(): void {
    this.#interrupts++;
    if (this.#interrupts === 1 && this.#courier && !this.#closing && !this.#over) {
      this.#note('interrupted; closing with 1000 (Ctrl-C again to quit at once)');
      this.#close(1000);
      return;
    }
    // No flushing: the reason to press Ctrl-C twice may be a stdout that
    // does not drain, or a server that does not answer the close.
    process.exit(EXIT.INTERRUPTED);
  }

  #note(message: string): void {
    if (!this.#options.quiet) process.stderr.write(`lwscat: ${escapeControls(message)}\n`);
  }

  #verbose(message: string): void {
    if (this.#options.verbose) process.stderr.write(`lwscat: ${escapeControls(message)}\n`);
  }
}

/**
 * Control characters (C0, DEL, C1) as \\xNN: a close reason or an error
 * message carries the server's text, which must not drive the terminal.
 */
function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function describeClose(code: number, reason: string): string {
  if (code === 1005) return '1005 (no status)';
  return reason ? `${code}: ${reason}` : String(code);
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) return resolve();
    // Writes complete in order, so the callback of an empty write comes
    // after every earlier one; it runs with an error if the stream fails.
    stream.write('', () => resolve());
  });
}

/** The version in package.json, two folders up from lib/cli/ and dist/cli/ alike. */
function packageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  if (typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string') {
    return manifest.version;
  }
  return 'unknown';
}
