/**
 * The Courier: what on_ready receives to run one connection, as Perl's
 * Net::Libwebsockets::WebSocket::Courier. No public constructor: connect()
 * makes one with startCourier(), and drives it through the CourierDriver
 * that returns, which is not part of the Courier's own surface.
 */
import { isSendableCloseCode, MAX_REASON_BYTES, SENDABLE_CLOSE_CODES, truncateReason } from './close_rules';
import { ConnectionClosed, NotSent } from './errors';
import type { NativeConnection } from './native';
import { describe, invalidRange, invalidType } from './validation';

export type TextListener = (courier: Courier, message: string) => void;
export type BinaryListener = (courier: Courier, message: Buffer) => void;

/** Releases one pause(); idempotent. Also disposable: `using p = courier.pause()`. */
export interface PauseHandle {
  resume(): void;
  [Symbol.dispose](): void;
}

// lws's permessage-deflate takes a message's length as an int
// (lws_write(): pmdrx.eb_in.len = (int)len): from 2 GiB on it would turn
// negative, and the message would go nowhere without an error.
export const MAX_DEFLATED_MESSAGE_BYTES = 2 ** 31 - 1;

/** The RangeError for a message of `bytes` sent by `method` when permessage-deflate is negotiated. */
export function tooLargeToDeflate(method: string, bytes: number): RangeError {
  return new RangeError(
    `${method}() message is ${bytes} bytes; with permessage-deflate negotiated a message must be under 2 GiB ` +
      `(at most ${MAX_DEFLATED_MESSAGE_BYTES} bytes: lws deflates with int lengths)`,
  );
}

/** The most payload a control frame (ping, pong, close) carries: RFC 6455 5.5. */
const MAX_CONTROL_PAYLOAD_BYTES = 125;

/** @internal What the server's handshake response settled. */
export interface Negotiated {
  protocol: string;
  extensions: string;
}

/** @internal A message as connect() hands it to the Courier. */
export type Message = { binary: false; data: string } | { binary: true; data: Buffer };

/** @internal What connect() holds to run a Courier: the calls that are not the Courier's public API. */
export interface CourierDriver {
  readonly courier: Courier;
  /** A message arrived. */
  deliver(message: Message): void;
  /** buffered_amount fell to the threshold being watched (the addon's Drained event). */
  drainEvent(): void;
  /** The connection is over: messages held by pause() are delivered now, since nothing is left to hold back. */
  end(): void;
}

// Only startCourier() has it, so `new Courier()` from outside fails at run
// time as `private` makes it fail at compile time.
const constructing = Symbol('Courier');
// Set by the class's static block, where the private members are in reach.
let drive: (connection: NativeConnection, settled: Promise<[number, string]>, negotiated: Negotiated) => CourierDriver;

const disposeSymbol: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

export class Courier {
  readonly #native: NativeConnection;
  readonly #settled: Promise<[number, string]>;
  readonly #negotiated: Negotiated;
  /** permessage-deflate was negotiated: messages are limited to MAX_DEFLATED_MESSAGE_BYTES. */
  readonly #deflate: boolean;
  // Replaced, never changed, when a listener is added: a message's
  // listeners are the ones added before it, without a copy per message.
  #textListeners: readonly TextListener[] = [];
  #binaryListeners: readonly BinaryListener[] = [];
  readonly #held: Message[] = [];
  #pauses = 0;
  /** Kinds already warned of as unheard: once per connection, not a line per message of a stream. */
  #unheardWarned = new Set<'text' | 'binary'>();
  #closing = false;
  #ended = false;
  /** drained() promises waiting, each for its threshold. */
  #drainWaiters: Array<{ threshold: number; resolve: () => void; reject: (error: Error) => void }> = [];

  private constructor(token: symbol, connection: NativeConnection, settled: Promise<[number, string]>, negotiated: Negotiated) {
    if (token !== constructing) throw new TypeError('Courier has no public constructor: connect() passes one to on_ready');
    this.#native = connection;
    this.#settled = settled;
    this.#negotiated = negotiated;
    this.#deflate = negotiated.extensions.includes('permessage-deflate');
  }

  static {
    drive = (connection, settled, negotiated) => {
      const courier = new Courier(constructing, connection, settled, negotiated);
      return {
        courier,
        deliver: (message) => courier.#deliver(message),
        drainEvent: () => courier.#drained(),
        end: () => courier.#end(),
      };
    };
  }

  /** The subprotocol the server accepted, or '' (beyond Perl). */
  get protocol(): string {
    return this.#negotiated.protocol;
  }

  /** The Sec-WebSocket-Extensions the server accepted, or '' (beyond Perl). */
  get extensions(): string {
    return this.#negotiated.extensions;
  }

  /** Adds a listener for text messages; listeners run in the order added. */
  on_text(listener: TextListener): void {
    if (typeof listener !== 'function') throw invalidType('a function', 'on_text() listener', listener);
    this.#textListeners = [...this.#textListeners, listener];
  }

  /** Adds a listener for binary messages; listeners run in the order added. */
  on_binary(listener: BinaryListener): void {
    if (typeof listener !== 'function') throw invalidType('a function', 'on_binary() listener', listener);
    this.#binaryListeners = [...this.#binaryListeners, listener];
  }

  /** Queues a text message; messages go out in the order queued. Throws ConnectionClosed once closing started. */
  send_text(text: string): void {
    if (typeof text !== 'string') throw invalidType('a string', 'send_text() message', text);
    this.#assertOpen('send_text');
    // A string's UTF-8 is at most 3 bytes per UTF-16 unit: only a long one
    // is measured (none is, while V8's strings end at 2**29 - 24 units).
    if (this.#deflate && text.length > MAX_DEFLATED_MESSAGE_BYTES / 3) this.#assertDeflatable('send_text', Buffer.byteLength(text));
    this.#native.sendText(text);
  }

  /** Queues a binary message from a Buffer, TypedArray, DataView or ArrayBuffer. */
  send_binary(bytes: ArrayBufferView | ArrayBuffer): void {
    let view: Uint8Array;
    if (ArrayBuffer.isView(bytes)) view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    else if (bytes instanceof ArrayBuffer) view = new Uint8Array(bytes);
    else throw invalidType('a Buffer, TypedArray, DataView or ArrayBuffer', 'send_binary() message', bytes);
    this.#assertOpen('send_binary');
    if (this.#deflate) this.#assertDeflatable('send_binary', view.byteLength);
    this.#native.sendBinary(view);
  }

  /**
   * Sends a ping (beyond Perl, as ws's ping()): a string (as UTF-8) or bytes,
   * at most 125 bytes, the most a control frame carries (RFC 6455 5.5). It
   * goes out ahead of queued messages; the server's pong counts as traffic
   * for ping_timeout.
   */
  ping(payload: string | ArrayBufferView | ArrayBuffer = ''): void {
    let bytes: Uint8Array;
    if (typeof payload === 'string') bytes = Buffer.from(payload, 'utf8');
    else if (ArrayBuffer.isView(payload)) bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    else if (payload instanceof ArrayBuffer) bytes = new Uint8Array(payload);
    else throw invalidType('a string, Buffer, TypedArray, DataView or ArrayBuffer', 'ping() payload', payload);
    if (bytes.byteLength > MAX_CONTROL_PAYLOAD_BYTES)
      throw new RangeError(`Expected at most ${MAX_CONTROL_PAYLOAD_BYTES} bytes for ping() payload but received ${bytes.byteLength} bytes`);
    this.#assertOpen('ping');
    this.#native.ping(bytes);
  }

  /** Bytes queued by send_* and not yet written to the socket (beyond Perl). */
  get buffered_amount(): number {
    return this.#native.bufferedAmount;
  }

  /**
   * Resolves once buffered_amount is at most `threshold` bytes (beyond
   * Perl): await it between sends to stream without unbounded memory.
   * Rejects with NotSent (code ERR_LWS_NOT_SENT) if the connection ends with more queued.
   */
  drained(threshold = 0): Promise<void> {
    if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 0)
      throw invalidType('a byte count (an integer >= 0)', 'drained() threshold', threshold);
    if (this.#native.bufferedAmount <= threshold) return Promise.resolve();
    if (this.#ended) return Promise.reject(new NotSent(this.#native.bufferedAmount));
    return new Promise((resolve, reject) => {
      this.#drainWaiters.push({ threshold, resolve, reject });
      this.#watchDrain();
    });
  }

  /**
   * Starts the closing handshake once every queued message is written.
   * Without a code the close frame carries no status (1005). Returns the
   * promise connect() returned.
   */
  close(code = 1005, reason = ''): Promise<[number, string]> {
    if (typeof code !== 'number' || !Number.isInteger(code)) throw invalidType('an integer close code', 'close() code', code);
    if (!isSendableCloseCode(code)) throw invalidRange(SENDABLE_CLOSE_CODES, 'close() code', code);
    if (typeof reason !== 'string') throw invalidType('a string', 'close() reason', reason);
    if (code === 1005 && reason) throw invalidType('no reason when the close has no status (1005)', 'close() reason', reason);
    if (!this.#closing && !this.#ended) {
      this.#closing = true;
      this.#native.close(code, fitReason(reason));
    }
    return this.#settled;
  }

  /**
   * Stops delivering messages and stops reading from the socket, so a fast
   * sender is held back by TCP, until every handle returned is released.
   */
  pause(): PauseHandle {
    if (this.#pauses++ === 0 && !this.#ended) this.#native.setPaused(true);
    let released = false;
    const resume = () => {
      if (released) return;
      released = true;
      if (--this.#pauses === 0) {
        this.#drainHeld();
        // A listener run by #drainHeld() may have paused again.
        if (this.#pauses === 0 && !this.#ended) this.#native.setPaused(false);
      }
    };
    return { resume, [disposeSymbol]: resume };
  }

  /** buffered_amount fell to the threshold being watched. */
  #drained(): void {
    const buffered = this.#native.bufferedAmount;
    const waiting = this.#drainWaiters;
    this.#drainWaiters = waiting.filter((waiter) => waiter.threshold < buffered);
    for (const waiter of waiting) if (waiter.threshold >= buffered) waiter.resolve();
    this.#watchDrain();
  }

  /** Asks the addon for an event at the highest threshold anyone waits for. */
  #watchDrain(): void {
    if (!this.#drainWaiters.length) return;
    const threshold = Math.max(...this.#drainWaiters.map((waiter) => waiter.threshold));
    if (this.#native.watchDrain(threshold)) this.#drained();
  }

  #deliver(message: Message): void {
    if (this.#pauses > 0 || this.#held.length) this.#held.push(message);
    else this.#dispatch(message);
  }

  #end(): void {
    this.#ended = true;
    this.#pauses = 0;
    const buffered = this.#native.bufferedAmount;
    for (const waiter of this.#drainWaiters.splice(0)) {
      if (buffered <= waiter.threshold) waiter.resolve();
      else waiter.reject(new NotSent(buffered));
    }
    this.#drainHeld();
  }

  #drainHeld(): void {
    while (this.#held.length && this.#pauses === 0) {
      const message = this.#held.shift() as Message;
      this.#dispatch(message);
    }
  }

  #dispatch(message: Message): void {
    if (message.binary) this.#run('binary', this.#binaryListeners, message.data);
    else this.#run('text', this.#textListeners, message.data);
  }

  /** A throwing listener is reported and the connection goes on, as Perl traps it. */
  #run<Data>(kind: 'text' | 'binary', listeners: ReadonlyArray<(courier: Courier, message: Data) => void>, data: Data): void {
    if (!listeners.length) {
      if (!this.#unheardWarned.has(kind)) warnUnheard(kind);
      this.#unheardWarned.add(kind);
      return;
    }
    for (const listener of listeners) {
      try {
        listener(this, data);
      } catch (error) {
        warnListenerThrew(kind, error);
      }
    }
  }

  #assertDeflatable(method: string, bytes: number): void {
    if (bytes > MAX_DEFLATED_MESSAGE_BYTES) throw tooLargeToDeflate(method, bytes);
  }

  #assertOpen(method: string): void {
    if (this.#closing || this.#ended) throw new ConnectionClosed(method, this.#ended);
  }
}

/** @internal connect()'s way to make the Courier of a connection whose handshake completed. */
export function startCourier(connection: NativeConnection, settled: Promise<[number, string]>, negotiated: Negotiated): CourierDriver {
  return drive(connection, settled, negotiated);
}

/** The reason as it can go out: truncateReason(), with a warning when it cut. */
function fitReason(reason: string): string {
  const fitted = truncateReason(reason);
  if (fitted !== reason)
    process.emitWarning(
      `close() reason is ${Buffer.byteLength(reason, 'utf8')} bytes; truncated to ${Buffer.byteLength(fitted, 'utf8')} (a close frame holds ${MAX_REASON_BYTES})`,
      { code: 'LWS_CLOSE_REASON_TRUNCATED' },
    );
  return fitted;
}

function warnUnheard(kind: 'text' | 'binary'): void {
  process.emitWarning(`Received a ${kind} message but no on_${kind} listener is set; it was dropped, as any more will be (warned once per connection)`, {
    code: 'LWS_UNHEARD_MESSAGE',
  });
}

function warnListenerThrew(kind: 'text' | 'binary', error: unknown): void {
  process.emitWarning(`on_${kind} listener threw: ${error instanceof Error ? (error.stack ?? error.message) : describe(error)}`, {
    code: 'LWS_LISTENER_ERROR',
  });
}
