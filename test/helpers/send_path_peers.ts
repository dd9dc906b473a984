/**
 * For test/send_path.test.ts: what the kernel holds of one loopback TCP
 * connection (Linux's /proc/net/tcp), a chunk source that yields one chunk
 * per event-loop turn the way a file's read stream does, and the README's
 * streaming recipe instrumented so a test sees when it waits in drained().
 */
import { readFileSync } from 'node:fs';
import type { Courier } from '../../lib';
import { turn } from './turns';

// ---------------------------------------------------------------------------
// Kernel queues

/** The bytes queued in one TCP socket, as /proc/net/tcp reports them. */
export interface TcpQueues {
  /** Sent by the application and not yet acknowledged by the peer (write_seq - snd_una). */
  tx: number;
  /** Received and not yet read by the application (rcv_nxt - copied_seq). */
  rx: number;
}

/** "0100007F:1F90" (little-endian IPv4 in hex, port in hex) as a port, if the address is 127.0.0.1. */
function loopbackPort(field: string): number | undefined {
  const [address, port] = field.split(':');
  return address === '0100007F' && port ? parseInt(port, 16) : undefined;
}

/**
 * The queues of the established IPv4 socket 127.0.0.1:localPort →
 * 127.0.0.1:remotePort; throws if there is none. Linux only.
 */
export function tcpQueues(localPort: number, remotePort: number): TcpQueues {
  const lines = readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1);
  for (const line of lines) {
    const [, local = '', remote = '', state, queues = ''] = line.trim().split(/\s+/);
    if (state !== '01' || loopbackPort(local) !== localPort || loopbackPort(remote) !== remotePort) continue;
    const [tx = '', rx = ''] = queues.split(':');
    return { tx: parseInt(tx, 16), rx: parseInt(rx, 16) };
  }
  throw new Error(`no established socket 127.0.0.1:${localPort} -> 127.0.0.1:${remotePort} in /proc/net/tcp`);
}

/**
 * Bytes written by the client at `clientPort` to the server at
 * `serverPort` that the kernel still holds: in the client's send queue plus
 * in the server's receive queue. A segment the server has and the client
 * has not yet seen acknowledged counts twice, so this may overstate, never
 * understate.
 */
export function inKernel(clientPort: number, serverPort: number): number {
  return tcpQueues(clientPort, serverPort).tx + tcpQueues(serverPort, clientPort).rx;
}

// ---------------------------------------------------------------------------
// A source of chunks

/**
 * `count` chunks, `make(index)` each, one per event-loop turn: a file's
 * read stream (`createReadStream`, whose reads complete one per turn) as
 * the README's streaming recipe iterates it.
 */
export async function* chunksPerTurn(count: number, make: (index: number) => Buffer): AsyncGenerator<Buffer> {
  for (let index = 0; index < count; index++) {
    await turn();
    yield make(index);
  }
}

// ---------------------------------------------------------------------------
// The README's recipe, instrumented

export interface RecipeRun {
  /** Payload bytes handed to send_binary() so far. */
  readonly queued: number;
  /** True while the recipe awaits drained(512 KiB) inside the loop. */
  readonly waiting: boolean;
  /** True once every chunk has been handed to send_binary(). */
  readonly allQueued: boolean;
  /** Settles once the recipe is over: it closed with 1000 'sent', or with what it threw (ERR_LWS_NOT_SENT, ERR_LWS_CLOSED). */
  finished: Promise<'closed' | { threw: string }>;
}

export interface RecipeHooks {
  /** Called synchronously as the recipe starts awaiting drained(512 KiB). */
  onWait?(run: RecipeRun): void;
  /** Called synchronously once every chunk has been handed to send_binary(). */
  onAllQueued?(run: RecipeRun): void;
}

/**
 * Runs the README's file-streaming example (send-file.mjs) on
 * `courier`, word for word (1 MiB high mark, drained(512 KiB), then
 * drained() and close(1000, 'sent')), over `chunks`.
 */
export function runRecipe(courier: Courier, chunks: AsyncIterable<Buffer>, hooks: RecipeHooks = {}): RecipeRun {
  return new Recipe(courier, chunks, hooks);
}

class Recipe implements RecipeRun {
  queued = 0;
  waiting = false;
  allQueued = false;
  readonly finished: Promise<'closed' | { threw: string }>;

  constructor(courier: Courier, chunks: AsyncIterable<Buffer>, hooks: RecipeHooks) {
    this.finished = this.#run(courier, chunks, hooks);
  }

  async #run(courier: Courier, chunks: AsyncIterable<Buffer>, hooks: RecipeHooks): Promise<'closed' | { threw: string }> {
    try {
      for await (const chunk of chunks) {
        courier.send_binary(chunk);
        this.queued += chunk.length;
        if (courier.buffered_amount > 1024 * 1024) {
          this.waiting = true;
          hooks.onWait?.(this);
          try {
            await courier.drained(512 * 1024);
          } finally {
            this.waiting = false;
          }
        }
      }
      this.allQueued = true;
      hooks.onAllQueued?.(this);
      await courier.drained();
      courier.close(1000, 'sent');
      return 'closed';
    } catch (error) {
      const { code, message } = error as { code?: string; message?: string };
      return { threw: `${code ?? 'error'}: ${message ?? String(error)}` };
    }
  }
}
