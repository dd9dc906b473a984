/**
 * The event classes the WHATWG WebSocket fires that Node 20 lacks as
 * globals. `Event`, `EventTarget` and `MessageEvent` are Node's own; these
 * two extend Node's `Event`, so `instanceof Event` holds and Node's
 * EventTarget dispatches them like any other event. As WebIDL has it, the
 * type is required, the init members are converted to their IDL types, and
 * each reports its own class name (`[object CloseEvent]`).
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
    if (arguments.length === 0) throw missingType('CloseEvent');
    super(type, init);
    const given = init ?? {};
    this.#wasClean = Boolean(given.wasClean);
    this.#code = given.code === undefined ? 0 : toUnsigned(given.code, 16);
    this.#reason = given.reason === undefined ? '' : String(given.reason);
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

/** The dictionary of `new ErrorEvent(type, init)`, as in HTML. */
export interface ErrorEventInit extends EventInitDict {
  message?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
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
  readonly #filename: string;
  readonly #lineno: number;
  readonly #colno: number;
  readonly #error: unknown;

  constructor(type: string, init: ErrorEventInit = {}) {
    if (arguments.length === 0) throw missingType('ErrorEvent');
    super(type, init);
    const given = init ?? {};
    this.#message = given.message === undefined ? '' : String(given.message);
    this.#filename = given.filename === undefined ? '' : String(given.filename);
    this.#lineno = given.lineno === undefined ? 0 : toUnsigned(given.lineno, 32);
    this.#colno = given.colno === undefined ? 0 : toUnsigned(given.colno, 32);
    this.#error = given.error;
  }

  /** A description of the failure. */
  get message(): string {
    return this.#message;
  }

  /** HTML's script location; '' for a WebSocket's error, which no script line raised. */
  get filename(): string {
    return this.#filename;
  }

  /** HTML's script line; 0 for a WebSocket's error. */
  get lineno(): number {
    return this.#lineno;
  }

  /** HTML's script column; 0 for a WebSocket's error. */
  get colno(): number {
    return this.#colno;
  }

  /** The error behind the failure, such as a ConnectionFailed. */
  get error(): unknown {
    return this.#error;
  }
}

for (const EventClass of [CloseEvent, ErrorEvent]) Object.defineProperty(EventClass.prototype, Symbol.toStringTag, { value: EventClass.name, configurable: true });

/** WebIDL: the type argument is required, as browsers (and Node's Event) say. */
function missingType(className: string): TypeError {
  return new TypeError(`Failed to construct '${className}': 1 argument required, but only 0 present.`);
}

/** WebIDL's unsigned short (16) or unsigned long (32): NaN and ±Infinity are 0, else truncated modulo 2**bits. */
function toUnsigned(value: unknown, bits: 16 | 32): number {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  const modulus = 2 ** bits;
  const truncated = Math.trunc(number) % modulus;
  // `|| 0`: -0.5 truncates to -0, which is 0.
  return (truncated < 0 ? truncated + modulus : truncated) || 0;
}
