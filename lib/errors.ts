/**
 * The errors connect()'s promise rejects with, as in Perl's
 * Net::Libwebsockets::X: `X.Base` and its subclasses, each with a stable
 * Node-style `code` and Perl's `get(name)` for its attributes; and the two
 * the Courier throws or rejects with (ConnectionClosed, NotSent).
 */

/** Base class of every error this package throws or rejects with, other than option errors. */
export class Base extends Error {
  /** Stable identifier for programs, in Node's style. */
  readonly code: string = 'ERR_LWS';
  readonly #attributes: ReadonlyMap<string, unknown>;

  constructor(message: string, attributes: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.#attributes = new Map(Object.entries(attributes));
  }

  /** An attribute by name, as Perl's `$err->get('name')`; undefined if unknown. */
  get(name: string): unknown {
    return this.#attributes.get(name);
  }
}

/** The connection closed with a code other than 1000 or 1005. */
export class WebSocketClose extends Base {
  override readonly code = 'ERR_LWS_WEBSOCKET_CLOSE';
  /** The close status code (as `get('code')`). */
  readonly status: number;
  /** The close reason, UTF-8 decoded (as `get('reason')`). */
  readonly reason: string;

  constructor(status: number, reason: string) {
    super(`WebSocket closed with status ${status}${reason ? ` (${reason})` : ''}`, {
      code: status,
      reason,
    });
    this.status = status;
    this.reason = reason;
  }
}

/** Where a failed connection was when it failed. */
export type FailurePhase = 'dns' | 'connect' | 'tls' | 'handshake' | 'timeout' | 'open';

/** What the server answered to the upgrade request instead of a usable 101. */
export interface HandshakeResponse {
  /** The HTTP status: 404, 302, or 101 for a 101 the client refused. */
  readonly status: number;
  /** The reason phrase, as the server sent it ('Not Found'); '' if it sent none. */
  readonly statusText: string;
  /**
   * The response headers by lower-case name (a 3xx's `location` among them).
   * A header sent more than once has its values joined with ', '. At most 64
   * headers and 8 KiB are kept: the server chooses them.
   */
  readonly headers: Readonly<Record<string, string>>;
}

export interface ConnectionFailedDetails {
  /** The URL's host, or for ws+unix: the socket path. */
  host: string;
  /** The URL's port; 0 for a Unix socket. */
  port: number;
  phase: FailurePhase;
  /** What lws (or the resolver) said. */
  cause: string;
  /** What the server answered, when the upgrade got an HTTP response. */
  response?: HandshakeResponse;
}

/** The connection failed where Perl would see 1006: no close handshake. */
export class ConnectionFailed extends Base {
  override readonly code = 'ERR_LWS_CONNECTION_FAILED';
  readonly host: string;
  readonly port: number;
  readonly phase: FailurePhase;
  /** What lws (or the resolver) said, in words (as `get('cause')`). Error's `cause` option, so not enumerable. */
  declare readonly cause: string;
  /** What the server answered instead of a usable 101; undefined if no HTTP response came. */
  readonly response?: HandshakeResponse;
  /** The HTTP status of a refused upgrade (a 3xx redirect, a 403 …): `response.status`. */
  readonly status?: number;
  /** A redirect's Location header, as the server sent it: a 3xx's `response.headers.location`. */
  readonly location?: string;

  constructor(details: ConnectionFailedDetails) {
    const { response } = details;
    const status = response?.status;
    const location = status !== undefined && status >= 300 && status < 400 ? response?.headers.location : undefined;
    const attributes: Record<string, unknown> = { ...details };
    if (status !== undefined) attributes.status = status;
    if (location !== undefined) attributes.location = location;
    super(
      `WebSocket connection to ${details.port ? `${details.host}:${details.port}` : details.host} failed (${details.phase}): ${details.cause}`,
      attributes,
      { cause: details.cause },
    );
    this.host = details.host;
    this.port = details.port;
    this.phase = details.phase;
    if (response !== undefined) this.response = response;
    if (status !== undefined) this.status = status;
    if (location !== undefined) this.location = location;
  }
}

/** Something unforeseen, such as the lws context failing to start. */
export class General extends Base {
  override readonly code = 'ERR_LWS_GENERAL';

  constructor(message: string) {
    super(message, { message });
  }
}

/** send_text() or send_binary() was called once close() had been called or the connection had ended. */
export class ConnectionClosed extends Base {
  override readonly code = 'ERR_LWS_CLOSED';
  /** The method called: 'send_text', 'send_binary' or 'ping' (as `get('method')`). */
  readonly method: string;

  constructor(method: string, ended: boolean) {
    super(`${method}() called after the connection ${ended ? 'closed' : 'started closing'}`, { method });
    this.method = method;
  }
}

/** drained() waited, and the connection ended with bytes still queued. */
export class NotSent extends Base {
  override readonly code = 'ERR_LWS_NOT_SENT';
  /** The bytes left queued, never sent (as `get('bytes')`). */
  readonly bytes: number;

  constructor(bytes: number) {
    super(`the connection ended with ${bytes} queued bytes not sent`, { bytes });
    this.bytes = bytes;
  }
}
