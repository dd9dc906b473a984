/**
 * A WHATWG-compatible WebSocket client class
 * (https://websockets.spec.whatwg.org/#the-websocket-interface) built on
 * connect() and the Courier: no second protocol implementation. The
 * constructor starts connect(); on_ready turns the connection OPEN; the
 * Courier's listeners become `message` events; connect()'s promise becomes
 * the `close` event (and `error` before it when the connection failed).
 */
import { Blob } from 'node:buffer';
import { types } from 'node:util';
import { isBadPort } from './bad_ports';
import { isFailedByClient } from './client_failures';
import { isWhatwgCloseCode, MAX_REASON_BYTES, reasonFits } from './close_rules';
import { connect, type CloseResult } from './connect';
import { MAX_DEFLATED_MESSAGE_BYTES, tooLargeToDeflate, type Courier } from './courier';
import { ConnectionClosed, ConnectionFailed, WebSocketClose, type FailurePhase } from './errors';
import { hasHeader, headerPairs } from './headers';
import { parseConnectOptions, type ConnectOptions } from './options';
import { invalidType, isToken } from './validation';
import { CloseEvent, ErrorEvent } from './websocket_events';

export { CloseEvent, ErrorEvent, type CloseEventInit, type ErrorEventInit, type EventInitDict } from './websocket_events';

/**
 * connect()'s options that have no WHATWG counterpart, passed through to it
 * unchanged and validated by it (synchronously, so the constructor throws):
 * `headers`, `tls`, `compression`, `ping_interval`, `ping_timeout`,
 * `max_message_size`, `lookup`, `logger` and `event`. `url`, `subprotocols`
 * and `on_ready` are refused here: the constructor's arguments set them.
 */
export type WebSocketOptions = Omit<ConnectOptions, 'url' | 'on_ready' | 'subprotocols'>;

/** How binary messages are delivered: the spec's 'blob' and 'arraybuffer', and ws's 'nodebuffer'. */
export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

/** What a `message` event's `data` holds: a string for text, else per binaryType. */
export type WebSocketData = string | Blob | ArrayBuffer | Buffer;

/** A `message` event: Node's MessageEvent, with `data` typed for a WebSocket. */
export interface WebSocketMessageEvent extends MessageEvent {
  readonly data: WebSocketData;
}

/** The events a WebSocket fires, for typed addEventListener(). */
export interface WebSocketEventMap {
  open: Event;
  message: WebSocketMessageEvent;
  error: ErrorEvent;
  close: CloseEvent;
}

/** An `on…` attribute's value: called with the WebSocket as `this`. */
export type WebSocketEventHandler<E extends Event> = ((this: WebSocket, event: E) => unknown) | null;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

const BINARY_TYPES: readonly string[] = ['blob', 'arraybuffer', 'nodebuffer'] satisfies readonly BinaryType[];

// Options the constructor's own arguments set; accepting them too would
// leave two sources for one setting.
const ARGUMENT_OPTIONS = ['url', 'subprotocols', 'on_ready'];

/**
 * What send() accepted and has not yet handed to the Courier. Anything sent
 * after a Blob waits here until the Blob is read, so messages leave in the
 * order send() was called; `close` waits the same way, so a close() right
 * after send(blob) still sends the Blob first.
 */
type Outgoing =
  | { kind: 'text'; text: string; size: number }
  | { kind: 'bytes'; bytes: Uint8Array; size: number }
  | { kind: 'blob'; bytes: Uint8Array | undefined; size: number }
  | { kind: 'close'; code: number; reason: string; size: 0 };

/** What the `close` event of a failed connection says (the spec's "fail the WebSocket connection"). */
const FAILED = { wasClean: false, code: 1006, reason: '' } as const;

interface HandlerSlot {
  handler: (this: WebSocket, event: Event) => unknown;
  /** What addEventListener() holds; it stays while the attribute is non-null, so the handler keeps its place in the listener order. */
  listener: (event: Event) => void;
}

/**
 * The WHATWG WebSocket interface on libwebsockets. `new WebSocket(url,
 * protocols?, options?)`: `url` is ws:, wss:, http: or https: (the latter
 * two mapped to ws: and wss:); `options` are connect()'s other options
 * (see WebSocketOptions), a Node extra: a third argument that is not an
 * object, and any argument after it, is ignored, as WebIDL ignores extra
 * arguments. A bad URL or protocol list throws a SyntaxError DOMException;
 * a bad option throws connect()'s TypeError or RangeError. A port the
 * Fetch standard blocks fails the connection (`error`, then `close` 1006)
 * without connecting, as in browsers.
 *
 * `binaryType` defaults to the spec's 'blob' (node:buffer's Blob); 'arraybuffer'
 * and ws's 'nodebuffer' (a Buffer, no copy) are the alternatives.
 *
 * Listener errors are reported as Node's EventTarget reports them (an
 * 'uncaughtException' on the next tick) and do not affect the connection.
 */
export class WebSocket extends EventTarget {
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;

  readonly #url: URL;
  #readyState: ReadyState = CONNECTING;
  #binaryType: BinaryType = 'blob';
  #protocol = '';
  #extensions = '';
  #courier: Courier | undefined;
  readonly #outgoing: Outgoing[] = [];
  /** Bytes waiting in #outgoing: part of bufferedAmount, as the spec counts them from send() on. */
  #outgoingBytes = 0;
  /** Bytes send() discarded because the closing handshake had started: the spec still adds them to bufferedAmount. */
  #discardedBytes = 0;
  /** Set when this side failed the connection (close() while CONNECTING, an unreadable Blob). */
  #failure: unknown;
  readonly #handlers = new Map<string, HandlerSlot>();
  /** Drops the opening when close() is called while CONNECTING. */
  readonly #opening = new AbortController();

  constructor(url: string | URL, protocols: string | readonly string[] = [], options?: WebSocketOptions) {
    super();
    // WebIDL: a missing required argument is a TypeError, not an invalid URL.
    if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
    this.#url = parseUrl(url);
    const subprotocols = parseProtocols(protocols);
    // A browser program's stray third argument (WPT passes a string) is not
    // this package's options: only an object is.
    const given = typeof options === 'object' && options !== null ? options : {};
    const settings = connectOptions(given, this.#url, subprotocols, (courier) => this.#onReady(courier, subprotocols), this.#opening.signal);
    if (isBadPort(this.#url.port)) {
      // Checked all the same: a bad option is a bug whatever the port.
      parseConnectOptions(settings);
      this.#failure = this.#connectionFailed('connect', `port ${this.#url.port} is a bad port (Fetch standard, port blocking): not connected`);
      // Fetch reports it as a network error: the events come in a task of their own.
      setImmediate(() => this.#finish(FAILED, this.#failure));
      return;
    }
    // connect() validates the options and throws synchronously; nothing has
    // touched the network if it does.
    connect(settings).then(
      ([code, reason]: CloseResult) => this.#onEnded(code, reason),
      (error: unknown) => {
        // lws failed the connection for a protocol violation (its close code
        // went to the server): the spec's failed connection, not a clean close.
        if (isFailedByClient(error)) this.#onFailed(error);
        else if (error instanceof WebSocketClose) this.#onEnded(error.status, error.reason);
        else this.#onFailed(error);
      },
    );
  }

  /** The URL, serialized (ws: or wss:, after mapping http: and https:). */
  get url(): string {
    return this.#url.href;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): ReadyState {
    return this.#readyState;
  }

  /**
   * Bytes given to send() and not yet written to the socket, including
   * those waiting behind a Blob. Once closing has started it does not go
   * back to zero: each send() adds to it, as the spec requires.
   */
  get bufferedAmount(): number {
    return (this.#courier?.buffered_amount ?? 0) + this.#outgoingBytes + this.#discardedBytes;
  }

  /** The extensions the server accepted (Sec-WebSocket-Extensions), or ''. */
  get extensions(): string {
    return this.#extensions;
  }

  /** The subprotocol the server selected, or ''. */
  get protocol(): string {
    return this.#protocol;
  }

  /**
   * 'blob' (the default, as the spec says), 'arraybuffer' or 'nodebuffer'.
   * Any other value is ignored, as WebIDL does for an enumeration.
   */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    const type = String(value);
    if (BINARY_TYPES.includes(type)) this.#binaryType = type as BinaryType;
  }

  // Event handler attributes: each is one listener among those added with
  // addEventListener(), in the position where it was first set.
  get onopen(): WebSocketEventHandler<Event> {
    return this.#getHandler('open');
  }
  set onopen(handler: WebSocketEventHandler<Event>) {
    this.#setHandler('open', handler);
  }

  get onmessage(): WebSocketEventHandler<WebSocketMessageEvent> {
    return this.#getHandler('message');
  }
  set onmessage(handler: WebSocketEventHandler<WebSocketMessageEvent>) {
    this.#setHandler('message', handler);
  }

  get onerror(): WebSocketEventHandler<ErrorEvent> {
    return this.#getHandler('error');
  }
  set onerror(handler: WebSocketEventHandler<ErrorEvent>) {
    this.#setHandler('error', handler);
  }

  get onclose(): WebSocketEventHandler<CloseEvent> {
    return this.#getHandler('close');
  }
  set onclose(handler: WebSocketEventHandler<CloseEvent>) {
    this.#setHandler('close', handler);
  }

  /**
   * Sends a text message (a string; any other value is converted to one) or
   * a binary message (Buffer, TypedArray, DataView, ArrayBuffer or Blob).
   * Throws an InvalidStateError DOMException while CONNECTING. Once closing
   * has started the data is discarded and only counted in bufferedAmount.
   */
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    if (this.#readyState === CONNECTING) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
    const message = toOutgoing(data);
    if (this.#readyState !== OPEN) {
      this.#discardedBytes += message.size;
      return;
    }
    // Checked now, as the Courier would later (a Blob's bytes are sent once
    // read, where a throw would reach no one).
    if (message.size > MAX_DEFLATED_MESSAGE_BYTES && this.#extensions.includes('permessage-deflate'))
      throw tooLargeToDeflate('send', message.size);
    if (message.kind === 'blob') {
      this.#enqueue(message);
      // The read starts now (a Blob's bytes cannot change); sending waits
      // for every message queued before it.
      (data as Blob).arrayBuffer().then(
        (buffer) => {
          message.bytes = new Uint8Array(buffer);
          this.#pump();
        },
        (error: unknown) => this.#blobUnreadable(message, error),
      );
    } else if (this.#outgoing.length) {
      // Waits behind a Blob: copy now, since the caller may reuse the buffer.
      this.#enqueue(message.kind === 'bytes' ? { ...message, bytes: message.bytes.slice() } : message);
    } else {
      this.#transmit(message);
    }
  }

  /**
   * Starts the closing handshake: with no arguments the close frame has no
   * status (1005); a reason alone implies 1000. `code` must be 1000 or
   * 3000–4999 (InvalidAccessError) and `reason` at most 123 UTF-8 bytes
   * (SyntaxError). While CONNECTING the connection is failed instead:
   * `error`, then `close` with 1006. When CLOSING or CLOSED it does nothing.
   */
  close(code?: number, reason?: string): void {
    let status: number | undefined;
    if (code !== undefined) {
      status = clampUnsignedShort(code);
      if (!isWhatwgCloseCode(status))
        throw new DOMException(
          `Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${status} is neither.`,
          'InvalidAccessError',
        );
    }
    let reasonText = '';
    if (reason !== undefined) {
      reasonText = String(reason);
      if (!reasonFits(reasonText))
        throw new DOMException(`Failed to execute 'close' on 'WebSocket': The close reason must not be greater than ${MAX_REASON_BYTES} UTF-8 bytes.`, 'SyntaxError');
    }
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#readyState = CLOSING;
      const failure = new Error('WebSocket was closed before the connection was established');
      this.#failure = failure;
      // The attempt is dropped at once; the events fire in a task of their
      // own, as the spec has it.
      this.#opening.abort(failure);
      setImmediate(() => this.#finish(FAILED, failure));
      return;
    }
    this.#readyState = CLOSING;
    const message: Outgoing = { kind: 'close', code: status ?? (reasonText ? 1000 : 1005), reason: reasonText, size: 0 };
    if (this.#outgoing.length) this.#enqueue(message);
    else this.#transmit(message);
  }

  #onReady(courier: Courier, requested: readonly string[]): void {
    if (this.#readyState !== CONNECTING) {
      // close() was called while connecting and the events have been (or
      // are about to be) fired: end this connection, quietly.
      courier.on_text(() => {});
      courier.on_binary(() => {});
      courier.close(1001);
      return;
    }
    if (requested.length && !courier.protocol) {
      // Spec (establish a WebSocket connection): protocols were requested and
      // the response has no Sec-WebSocket-Protocol, so the connection fails.
      // Thrown from on_ready, it makes connect() close the connection and
      // reject with it: `error` with this error, then `close` 1006.
      courier.on_text(() => {});
      courier.on_binary(() => {});
      throw this.#connectionFailed('handshake', `the server selected none of the subprotocols requested (${requested.join(', ')})`);
    }
    this.#courier = courier;
    this.#protocol = courier.protocol;
    this.#extensions = courier.extensions;
    courier.on_text((_courier, text) => this.#receive(text));
    courier.on_binary((_courier, bytes) => this.#receive(bytes));
    this.#readyState = OPEN;
    // Dispatched inside on_ready, so `open` precedes any message: the
    // Courier delivers messages only after on_ready returns.
    this.dispatchEvent(new Event('open'));
  }

  #receive(data: string | Buffer): void {
    // Spec: a message that arrives once close() was called is dropped.
    if (this.#readyState !== OPEN) return;
    const event: WebSocketMessageEvent = new MessageEvent('message', {
      data: typeof data === 'string' ? data : this.#binaryData(data),
      origin: this.#url.origin,
    });
    this.dispatchEvent(event);
  }

  #binaryData(bytes: Buffer): WebSocketData {
    switch (this.#binaryType) {
      case 'nodebuffer':
        return bytes;
      case 'arraybuffer': {
        // A copy made in this realm: the Buffer's own ArrayBuffer may be
        // larger than the message (pooled) or from another realm.
        const copy = new ArrayBuffer(bytes.byteLength);
        new Uint8Array(copy).set(bytes);
        return copy;
      }
      case 'blob':
        return new Blob([bytes]);
    }
  }

  /** The closing handshake completed (connect() resolved, or rejected with WebSocketClose). */
  #onEnded(code: number, reason: string): void {
    if (this.#failure !== undefined) this.#finish(FAILED, this.#failure);
    else this.#finish({ wasClean: true, code, reason });
  }

  /** No clean closing handshake: ConnectionFailed, General, a close that failed the connection. */
  #onFailed(error: unknown): void {
    this.#finish(FAILED, this.#failure ?? error);
  }

  /** A ConnectionFailed for this WebSocket's URL, as connect() would make it. */
  #connectionFailed(phase: FailurePhase, cause: string): ConnectionFailed {
    const { hostname, port, protocol } = this.#url;
    // URL keeps an IPv6 literal's brackets; connect()'s errors do not.
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    return new ConnectionFailed({ host, port: port ? Number(port) : protocol === 'wss:' ? 443 : 80, phase, cause });
  }

  /** Spec "the WebSocket connection is closed": CLOSED, `error` if it failed, then `close`. */
  #finish(init: { wasClean: boolean; code: number; reason: string }, failure?: unknown): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    // What still waits behind a Blob will never be sent; it stays counted.
    this.#discardedBytes += this.#outgoingBytes;
    this.#outgoingBytes = 0;
    this.#outgoing.length = 0;
    if (failure !== undefined) this.dispatchEvent(new ErrorEvent('error', { message: failureMessage(failure), error: failure }));
    this.dispatchEvent(new CloseEvent('close', init));
  }

  #enqueue(message: Outgoing): void {
    this.#outgoing.push(message);
    this.#outgoingBytes += message.size;
  }

  /** Hands queued messages to the Courier, in order, up to the first Blob not yet read. */
  #pump(): void {
    for (let head = this.#outgoing[0]; head; head = this.#outgoing[0]) {
      if (head.kind === 'blob' && !head.bytes) return;
      this.#outgoing.shift();
      this.#outgoingBytes -= head.size;
      this.#transmit(head);
    }
  }

  #transmit(message: Outgoing): void {
    const courier = this.#courier as Courier;
    try {
      switch (message.kind) {
        case 'text':
          courier.send_text(message.text);
          break;
        case 'bytes':
        case 'blob':
          courier.send_binary(message.bytes as Uint8Array);
          break;
        case 'close':
          courier.close(message.code, message.reason);
          break;
      }
    } catch (error) {
      // The server closed (or the connection dropped) before this message
      // was handed over: the spec discards it, counted in bufferedAmount.
      if (!(error instanceof ConnectionClosed)) throw error;
      this.#discardedBytes += message.size;
    }
  }

  /** As browsers do, a Blob that cannot be read fails the connection. */
  #blobUnreadable(message: Outgoing, error: unknown): void {
    if (!this.#outgoing.includes(message)) return; // the connection is already over
    this.#failure ??= new Error('a Blob passed to send() could not be read', { cause: error });
    this.#discardedBytes += this.#outgoingBytes;
    this.#outgoingBytes = 0;
    this.#outgoing.length = 0;
    this.#readyState = CLOSING;
    (this.#courier as Courier).close(1011);
  }

  #getHandler<E extends Event>(type: string): WebSocketEventHandler<E> {
    return (this.#handlers.get(type)?.handler as WebSocketEventHandler<E> | undefined) ?? null;
  }

  /** HTML event handler attributes: a function replaces the handler in place; anything else removes it. */
  #setHandler<E extends Event>(type: string, handler: WebSocketEventHandler<E>): void {
    const slot = this.#handlers.get(type);
    if (typeof handler !== 'function') {
      if (slot) {
        this.removeEventListener(type, slot.listener);
        this.#handlers.delete(type);
      }
      return;
    }
    if (slot) {
      slot.handler = handler as HandlerSlot['handler'];
      return;
    }
    const created: HandlerSlot = {
      handler: handler as HandlerSlot['handler'],
      listener: (event) => {
        created.handler.call(this, event);
      },
    };
    this.#handlers.set(type, created);
    this.addEventListener(type, created.listener);
  }
}

/** Typed overloads for the WebSocket's own events, as lib.dom declares them. */
export interface WebSocket {
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: Parameters<EventTarget['addEventListener']>[2],
  ): void;
  addEventListener(...args: Parameters<EventTarget['addEventListener']>): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: Parameters<EventTarget['removeEventListener']>[2],
  ): void;
  removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void;
}

// The constants are read-only and live on both the constructor and the
// prototype, as WebIDL puts them.
for (const target of [WebSocket, WebSocket.prototype]) {
  Object.defineProperties(target, {
    CONNECTING: { value: CONNECTING, enumerable: true },
    OPEN: { value: OPEN, enumerable: true },
    CLOSING: { value: CLOSING, enumerable: true },
    CLOSED: { value: CLOSED, enumerable: true },
  });
}
Object.defineProperty(WebSocket.prototype, Symbol.toStringTag, { value: 'WebSocket', configurable: true });

/** The constructor's URL steps: parse, map http(s): to ws(s):, refuse other schemes and any fragment. */
function parseUrl(url: unknown): URL {
  const text = String(url);
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new DOMException(`Failed to construct 'WebSocket': The URL '${text}' is invalid.`, 'SyntaxError');
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    throw new DOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${parsed.protocol}' is not allowed.`, 'SyntaxError');
  // A bare '#' leaves url.hash empty but is still a fragment; the
  // serialization keeps it, and '#' appears nowhere else in it.
  if (parsed.href.includes('#'))
    throw new DOMException(`Failed to construct 'WebSocket': The URL contains a fragment identifier ('${parsed.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`, 'SyntaxError');
  return parsed;
}

/** WebIDL (DOMString or sequence<DOMString>), then the spec's checks: tokens, distinct ignoring case. */
function parseProtocols(protocols: unknown): string[] {
  const list =
    typeof protocols === 'object' && protocols !== null && Symbol.iterator in protocols
      ? Array.from(protocols as Iterable<unknown>, String)
      : [String(protocols)];
  const seen = new Set<string>();
  for (const protocol of list) {
    if (!isToken(protocol))
      throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${protocol}' is invalid.`, 'SyntaxError');
    // Case-insensitively, as connect()'s subprotocols option.
    if (seen.has(protocol.toLowerCase()))
      throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${protocol}' is duplicated.`, 'SyntaxError');
    seen.add(protocol.toLowerCase());
  }
  return list;
}

/** The options for connect(): the caller's, with url, subprotocols, on_ready and any URL credentials filled in. */
function connectOptions(options: unknown, url: URL, subprotocols: string[], onReady: (courier: Courier) => void, opening: AbortSignal): ConnectOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidType('an options object', 'WebSocket options', options);
  const given = options as Record<string, unknown>;
  const refused = Object.keys(given).filter((key) => ARGUMENT_OPTIONS.includes(key));
  if (refused.length) throw new TypeError(`Not accepted in WebSocket options: ${refused.join(', ')} (set by the url and protocols arguments)`);
  // The caller's own signal, if any, cancels the opening too.
  const signal = given.signal instanceof AbortSignal ? AbortSignal.any([given.signal, opening]) : (given.signal ?? opening);
  const result: Record<string, unknown> = { ...given, url: url.href, subprotocols, on_ready: onReady, signal };
  if (url.username || url.password) {
    // connect() refuses credentials in the URL; like `ws` (and like a
    // browser answering a Basic challenge) they become an Authorization
    // header, unless the caller set one.
    const target = new URL(url.href);
    target.username = '';
    target.password = '';
    result.url = target.href;
    // headerPairs() throws connect()'s own TypeError for bad headers, in any of their forms.
    const headers = headerPairs(given.headers);
    if (!hasHeader(headers, 'authorization')) {
      const credentials = `${percentDecode(url.username)}:${percentDecode(url.password)}`;
      result.headers = [...headers, 'Authorization', `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`];
    }
  }
  // connect() checks every value and key; an unknown key is its TypeError.
  return result as unknown as ConnectOptions;
}

/** The `error` event's message: what failed, in words. */
function failureMessage(failure: unknown): string {
  if (isFailedByClient(failure)) {
    const { status, reason } = failure as WebSocketClose;
    return `the server broke the WebSocket protocol: the connection was failed with close code ${status}${reason ? ` (${reason})` : ''}`;
  }
  return failure instanceof Error ? failure.message : String(failure);
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** What send() got, as an Outgoing; bytes are viewed, not copied (the Courier copies). */
function toOutgoing(data: unknown): Outgoing {
  if (data instanceof Blob) return { kind: 'blob', bytes: undefined, size: data.size };
  if (ArrayBuffer.isView(data)) return { kind: 'bytes', bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size: data.byteLength };
  // util.types: an ArrayBuffer from another realm is still one.
  if (types.isArrayBuffer(data)) return { kind: 'bytes', bytes: new Uint8Array(data), size: data.byteLength };
  // WebIDL USVString: anything else is sent as its string conversion.
  const text = String(data);
  return { kind: 'text', text, size: Buffer.byteLength(text, 'utf8') };
}

/** WebIDL [Clamp] unsigned short: NaN is 0, clamp to 0–65535, round half to even. */
function clampUnsignedShort(value: unknown): number {
  const number = Number(value);
  if (Number.isNaN(number)) return 0;
  const clamped = Math.min(Math.max(number, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
