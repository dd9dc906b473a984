/**
 * The event classes the WHATWG WebSocket fires that Node 20 lacks as
 * globals. `Event`, `EventTarget` and `MessageEvent` are Node's own; these
 * two extend Node's `Event`, so `instanceof Event` holds and Node's
 * EventTarget dispatches them like any other event.
 */

/** Event's own init dictionary (Node's types keep theirs module-private). */
export interface EventInitDict {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

/** The dictionary of `new CloseEvent(type, init)`, as in the WHATWG spec. */
export interface CloseEventInit extends EventInitDict {
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/**
 * Fired as `close` when a WebSocket's connection is over. Node 20 has no
 * global CloseEvent (Node 23 added one), so this package defines it.
 */
export class CloseEvent extends Event {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#wasClean = Boolean(init.wasClean);
    this.#code = init.code ?? 0;
    this.#reason = init.reason ?? '';
  }

  /** Whether the closing handshake completed. */
  get wasClean(): boolean {
    return this.#wasClean;
  }

  /** The close code: the one from the closing handshake, or 1006 when there was none. */
  get code(): number {
    return this.#code;
  }

  /** The close reason, UTF-8 decoded; '' when there was none. */
  get reason(): string {
    return this.#reason;
  }
}

/** The dictionary of `new ErrorEvent(type, init)`: the WebSocket-relevant part of HTML's ErrorEventInit. */
export interface ErrorEventInit extends EventInitDict {
  message?: string;
  error?: unknown;
}

/**
 * Fired as `error` when a WebSocket's connection failed. The spec only
 * requires an `Event`; this subclass also carries what went wrong (`error`
 * is the ConnectionFailed, General, … behind it), as `ws` and undici do,
 * because "error" alone cannot be diagnosed.
 */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #error: unknown;

  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#message = init.message ?? '';
    this.#error = init.error;
  }

  /** A description of the failure. */
  get message(): string {
    return this.#message;
  }

  /** The error behind the failure, such as a ConnectionFailed. */
  get error(): unknown {
    return this.#error;
  }
}
