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

export interface ConnectionFailedDetails {
  /** The URL's host, or for ws+unix: the socket path. */
  host: string;
  /** The URL's port; 0 for a Unix socket. */
  port: number;
  phase: FailurePhase;
  /** What lws (or the resolver) said. */
  cause: string;
  /** The HTTP status of a refused upgrade, when the server answered one. */
  status?: number;
  /** A redirect's Location header, as the server sent it. */
  location?: string;
}

/** The connection failed where Perl would see 1006: no close handshake. */
export class ConnectionFailed extends Base {
  override readonly code = 'ERR_LWS_CONNECTION_FAILED';
  readonly host: string;
  readonly port: number;
  readonly phase: FailurePhase;
  /** The HTTP status of a refused upgrade (a 3xx redirect, a 403 …); undefined if none came. */
  readonly status?: number;
  /** A redirect's Location header, as the server sent it; undefined for anything else. */
  readonly location?: string;

  constructor(details: ConnectionFailedDetails) {
    super(
      `WebSocket connection to ${details.port ? `${details.host}:${details.port}` : details.host} failed (${details.phase}): ${details.cause}`,
      { ...details },
      { cause: details.cause },
    );
    this.host = details.host;
    this.port = details.port;
    this.phase = details.phase;
    if (details.status !== undefined) this.status = details.status;
    if (details.location !== undefined) this.location = details.location;
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
  /** The method called: 'send_text' or 'send_binary' (as `get('method')`). */
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
