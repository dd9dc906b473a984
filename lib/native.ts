/**
 * The one typed declaration of what the native addon exports, and its
 * loader. Nothing else imports the addon: every value that crosses into C++
 * is shaped here, after lib/options.ts has validated it.
 */
import path from 'node:path';
import nodeGypBuild = require('node-gyp-build');
import { readVocabulary, type VocabularyCode } from './vocabulary';

/**
 * The names of binding/vocabulary.h's groups, as lib/ uses them; their
 * numbers come from the addon, checked when this module loads.
 *
 * Event kinds, with their payloads (NativeEventPayload): Open [subprotocol,
 * extensions] as the server accepted them; Text the message, UTF-8 decoded;
 * Binary the message; Closed NativeClosed and Failed NativeFailed, each a
 * connection's final event; Connected (undefined) when the socket connected
 * and the upgrade request went out, only when asked for; Drained
 * (undefined) when bufferedAmount fell to the threshold given to
 * watchDrain().
 */
const EVENT_KINDS = ['Open', 'Text', 'Binary', 'Closed', 'Failed', 'Connected', 'Drained'] as const;

/** Where a connection was when it failed; 'setup': the context or vhost could not be made. */
const FAILURE_PHASES = ['setup', 'connect', 'tls', 'handshake', 'open', 'timeout'] as const;

/**
 * Who sent the close frame that ended the connection: 'local' (answered by
 * the server), 'remote', 'failed' (ours, failing the connection because the
 * server broke a rule: not waited for, so not clean) or 'none'.
 */
const CLOSE_INITIATORS = ['local', 'remote', 'failed', 'none'] as const;

export type NativeFailurePhase = (typeof FAILURE_PHASES)[number];
export type CloseInitiator = (typeof CLOSE_INITIATORS)[number];

/** A number the addon gives an event kind. */
export type NativeEventKind = VocabularyCode<'EventKind'>;

/** Closed: the close code and reason, and who sent the close frame. */
export type NativeClosed = readonly [code: number, reason: string, initiator: VocabularyCode<'CloseInitiator'>];

/**
 * Failed: what failed and where. verifyResult: the X509_V_ERR_* result that
 * refused the server's certificate (cause then holds OpenSSL's words for
 * it), else 0. answer: what the server answered instead of a usable 101.
 */
export type NativeFailed = readonly [
  cause: string,
  phase: VocabularyCode<'FailurePhase'>,
  verifyResult: number,
  answer: NativeHttpAnswer | undefined,
];

/** A refused upgrade's status line and headers: lower-case name, value, … (bounded by the addon). */
export type NativeHttpAnswer = readonly [status: number, statusText: string, headers: readonly string[]];

export type NativeEventPayload =
  | readonly [subprotocol: string, extensions: string]
  | string
  | Buffer
  | NativeClosed
  | NativeFailed
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
  /** Queues a ping (payload at most 125 bytes) ahead of queued messages; false once the connection is closing. */
  ping(payload: Uint8Array): boolean;
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
  /** binding/vocabulary.h's names and numbers; read through readVocabulary(), which checks them. */
  vocabulary: Record<'EventKind' | 'FailurePhase' | 'CloseInitiator', unknown>;
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

/** The addon's event kinds by name (binding/vocabulary.h); checked when this module loads. */
export const NativeEventKind = readVocabulary(native.vocabulary.EventKind, 'EventKind', EVENT_KINDS).codes;

const failurePhases = readVocabulary(native.vocabulary.FailurePhase, 'FailurePhase', FAILURE_PHASES);
const closeInitiators = readVocabulary(native.vocabulary.CloseInitiator, 'CloseInitiator', CLOSE_INITIATORS);

/** The name of a Failed event's phase. */
export function failurePhaseOf(failed: NativeFailed): NativeFailurePhase {
  return failurePhases.nameOf(failed[1]);
}

/** The name of a Closed event's initiator. */
export function closeInitiatorOf(closed: NativeClosed): CloseInitiator {
  return closeInitiators.nameOf(closed[2]);
}
