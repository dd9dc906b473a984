/**
 * The one typed declaration of what the native addon exports, and its
 * loader. Nothing else imports the addon: every value that crosses into C++
 * is shaped here, after lib/options.ts has validated it.
 */
import path from 'node:path';
import nodeGypBuild = require('node-gyp-build');

/** Kinds of event the addon reports, in the order lws raised them. */
export enum NativeEventKind {
  /** payload: [subprotocol, extensions] as the server accepted them */
  Open = 0,
  /** payload: the message, UTF-8 decoded */
  Text = 1,
  /** payload: the message */
  Binary = 2,
  /** payload: [code, reason, initiator]; the final event */
  Closed = 3,
  /**
   * payload: [cause, phase, status, location]; the final event. status: the
   * HTTP status of a refused upgrade, or 0; location: a 3xx's Location, or ''.
   */
  Failed = 4,
  /** payload: undefined; the socket connected and the upgrade request went out (only when asked for) */
  Connected = 5,
  /** payload: undefined; bufferedAmount fell to the threshold given to watchDrain() */
  Drained = 6,
}

/** Who sent the close frame that ended the connection. */
export type CloseInitiator = 'local' | 'remote' | 'none';

export type NativeEventPayload =
  | readonly [subprotocol: string, extensions: string]
  | string
  | Buffer
  | readonly [code: number, reason: string, initiator: CloseInitiator]
  | readonly [cause: string, phase: string, status: number, location: string]
  | undefined;

/**
 * kind, payload, kind, payload, …: what one lws turn produced, passed as the
 * arguments of one call (several calls for thousands of events).
 */
export type NativeEventBatch = Array<NativeEventKind | NativeEventPayload>;

/**
 * One client vhost: connections with the same key share it, and the rest is
 * read only when the key is new.
 */
export interface NativeVhostOptions {
  key: string;
  /** The Sec-WebSocket-Extensions offer, or '' for none. */
  deflateOffer: string;
  /** DER certificates for the trust store. */
  caCertificates: Uint8Array[];
  /** True: caCertificates are the whole store; false: added to the system's. */
  replaceSystemCa: boolean;
  /** Load the system's store (OpenSSL's default paths): only worth it for wss:// without tls_ca. */
  systemCa: boolean;
  /** DER client certificate and PKCS#8 DER key, or undefined. */
  clientCertificate: Uint8Array | undefined;
  clientKey: Uint8Array | undefined;
  /** "[user:pass@]address:port" with a numeric address, or '' for none. */
  httpProxy: string;
  socksProxy: string;
}

/** A connection's settings; the address, vhost and logger are arguments of their own. */
export interface NativeConnectionOptions {
  port: number;
  /** Host header value; also the TLS server name and certificate name. */
  host: string;
  path: string;
  /** Comma-separated subprotocols, or ''. */
  protocols: string;
  /** Flat ["Name:", value, …] pairs, already validated. */
  headers: string[];
  /** LCCSCF_* bits, LCCSCF_USE_SSL included for wss (the addon adds LCCSCF_HTTP_NO_FOLLOW_REDIRECT). */
  sslFlags: number;
  pingInterval: number;
  pingTimeout: number;
  maxMessageSize: number;
}

/** An lws 4.3 log context whose lines reach `callback` after lws returns. */
export type NativeLogger = { readonly __brand: 'NativeLogger' };

export interface NativeConnection {
  /** Queues a text message; false once the connection is closing. */
  sendText(text: string): boolean;
  sendBinary(bytes: Uint8Array): boolean;
  /** Starts the closing handshake after the queue drains; 1005 sends no status. */
  close(code: number, reason: string): boolean;
  /** Stops or resumes reading from the socket. */
  setPaused(paused: boolean): void;
  /** Drops the connection without a closing handshake; it ends with a Failed event. */
  abort(): void;
  /** Bytes queued and not yet handed to the socket. */
  readonly bufferedAmount: number;
  /** True if bufferedAmount <= threshold now; otherwise one Drained event follows when it is. */
  watchDrain(threshold: number): boolean;
}

export interface NativeConstants {
  readonly HAS_PMD: boolean;
  readonly LWS_VERSION: string;
  readonly LCCSCF_USE_SSL: number;
  readonly LCCSCF_ALLOW_SELFSIGNED: number;
  readonly LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK: number;
  readonly LCCSCF_ALLOW_EXPIRED: number;
  readonly LCCSCF_ALLOW_INSECURE: number;
  readonly LLL_ERR: number;
  readonly LLL_WARN: number;
  readonly LLL_NOTICE: number;
  readonly LLL_INFO: number;
  readonly LLL_DEBUG: number;
  readonly LLL_PARSER: number;
  readonly LLL_HEADER: number;
  readonly LLL_EXT: number;
  readonly LLL_CLIENT: number;
  readonly LLL_LATENCY: number;
  readonly LLL_USER: number;
  readonly LLL_THREAD: number;
  readonly CLOSE_STATUS_NORMAL: number;
  readonly CLOSE_STATUS_GOINGAWAY: number;
  readonly CLOSE_STATUS_PROTOCOL_ERR: number;
  readonly CLOSE_STATUS_UNACCEPTABLE_OPCODE: number;
  readonly CLOSE_STATUS_RESERVED: number;
  readonly CLOSE_STATUS_NO_STATUS: number;
  readonly CLOSE_STATUS_ABNORMAL_CLOSE: number;
  readonly CLOSE_STATUS_INVALID_PAYLOAD: number;
  readonly CLOSE_STATUS_POLICY_VIOLATION: number;
  readonly CLOSE_STATUS_MESSAGE_TOO_LARGE: number;
  readonly CLOSE_STATUS_EXTENSION_REQUIRED: number;
  readonly CLOSE_STATUS_UNEXPECTED_CONDITION: number;
}

interface NativeAddon {
  /**
   * address: the numeric address Node resolved (lws never resolves names),
   * '+' and a Unix socket path, or, through a proxy, the host name the proxy
   * resolves. logger: this connection's lws log lines go to its context.
   * reportConnected: whether to report a Connected event (each one costs a
   * call into JavaScript).
   */
  Connection: new (
    options: NativeConnectionOptions,
    address: string,
    vhost: NativeVhostOptions,
    logger: NativeLogger | undefined,
    reportConnected: boolean,
    onEvents: (...batch: NativeEventBatch) => void,
  ) => NativeConnection;
  Logger: new (levelMask: number, callback: (level: number, message: string) => void) => NativeLogger;
  constants: NativeConstants;
  setLogLevel(mask: number): void;
  /** @internal For tests: the client vhosts lws holds for this environment (those being freed included). */
  vhostCount(): number;
}

function load(): NativeAddon {
  const root = path.join(__dirname, '..');
  try {
    return nodeGypBuild(root) as NativeAddon;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `libwebsockets: could not load the native addon (${reason}). ` +
        'No prebuilt binary matches this platform, or it failed to load. ' +
        'Build from source with `npm install cmake-js node-addon-api` and then ' +
        '`LIBWEBSOCKETS_BUILD_FROM_SOURCE=1 npm rebuild libwebsockets` (needs cmake, make or ninja and a C/C++17 compiler), ' +
        'or run `npm run build` in a checkout.',
      { cause: error },
    );
  }
}

export const native: NativeAddon = load();
