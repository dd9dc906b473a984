/**
 * connect(): validate → resolve the host in Node → open the native
 * connection → run on_ready → settle the promise by API.md's rules.
 */
import type { LookupAddress } from 'node:dns';
import { statSync } from 'node:fs';
import { numericAddress, resolveAddresses } from './addresses';
import { markFailedByClient } from './client_failures';
import { startCourier, type CourierDriver, type Negotiated } from './courier';
import { debugLogger } from './debug_log';
import { setDeadline, type Deadline } from './deadlines';
import { ConnectionFailed, General, WebSocketClose, type FailurePhase, type HandshakeResponse } from './errors';
import {
  closeInitiatorOf,
  native,
  NativeEventKind,
  type CloseInitiator,
  type NativeClosed,
  type NativeConnection,
  type NativeEventBatch,
  type NativeFailed,
  type NativeVhostOptions,
} from './native';
import { readFailure } from './native_failure';
import { parseConnectOptions, sslFlags, type ConnectOptions, type ConnectSettings, type LookupFunction } from './options';
import type { Proxy } from './proxy';
import { REDIRECT_STATUSES, redirectTarget, sameOrigin } from './redirects';
import { describe } from './validation';
import { vhostOptions } from './vhost';

export type CloseResult = [code: number, reason: string];

/** The addresses to try, in order, and the vhost to connect through. */
interface Route {
  addresses: LookupAddress[];
  vhost: NativeVhostOptions;
}

/**
 * Starts one WebSocket client connection. Option errors throw here, before
 * anything touches the network; the promise reports only what happened on
 * the connection: it resolves [code, reason] for a close with 1000 or 1005,
 * and rejects WebSocketClose, ConnectionFailed, General, or what on_ready threw.
 */
export function connect(options: ConnectOptions): Promise<CloseResult> {
  const run = new ConnectionRun(parseConnectOptions(options));
  run.start();
  return run.promise;
}

// As net.connect's autoSelectFamilyAttemptTimeout: how long one address
// may take to connect while other addresses are left to try.
const ATTEMPT_TIMEOUT_MS = 250;

class ConnectionRun {
  /** connect()'s promise; the Courier's close() returns it too. */
  readonly promise: Promise<CloseResult>;
  #resolvePromise!: (result: CloseResult) => void;
  #rejectPromise!: (reason: unknown) => void;
  #connection: NativeConnection | undefined;
  #courier: CourierDriver | undefined;
  #settled = false;
  /** Addresses not tried yet, and why each tried one failed. */
  #remaining: LookupAddress[] = [];
  readonly #attemptErrors: string[] = [];
  #attemptTimer: NodeJS.Timeout | undefined;
  /** connect_timeout: until the handshake completes. */
  #connectDeadline: Deadline | undefined;
  #vhost: NativeVhostOptions | undefined;
  /** With a signal, until on_ready: the signal fired, the attempt is dropped. */
  #onAbort: (() => void) | undefined;

  /** Where the connection goes (the last redirect's target), for the failures it can report to the end. */
  #target: ConnectSettings['target'];
  /** Redirects followed so far. */
  #hops = 0;
  /** Everything else the caller asked for: only the opening needs it. */
  #opening: ConnectSettings | undefined;

  constructor(settings: ConnectSettings) {
    this.#target = settings.target;
    this.#opening = settings;
    this.promise = new Promise<CloseResult>((resolve, reject) => {
      this.#resolvePromise = resolve;
      this.#rejectPromise = reject;
    });
  }

  start(): void {
    const { connectTimeoutMs, signal } = this.#settings;
    if (signal) {
      if (signal.aborted) {
        this.#settle(() => this.#rejectPromise(signal.reason));
        return;
      }
      this.#onAbort = () => {
        this.#dropAttempt();
        this.#settle(() => this.#rejectPromise(signal.reason));
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#connectDeadline = setDeadline(connectTimeoutMs, () => {
      this.#dropAttempt();
      this.#fail('timeout', `no WebSocket connection within ${connectTimeoutMs / 1000} s (connect_timeout)`);
    });
    this.#open();
  }

  /** Resolves the current target, then attempts its addresses. */
  #open(): void {
    const route = this.#route();
    if (!(route instanceof Promise)) return this.#begin(route);
    route.then(
      (resolved) => this.#begin(resolved),
      (error: unknown) => this.#fail('dns', error instanceof Error ? error.message : describe(error)),
    );
  }

  #begin({ addresses, vhost }: Route): void {
    if (this.#settled) return;
    this.#remaining = addresses;
    this.#vhost = vhost;
    this.#attemptNext();
  }

  /** Abandons the native connection being attempted; its later events are ignored. */
  #dropAttempt(): void {
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.abort();
  }

  /**
   * Where lws is to connect, and through which vhost: at once for a socket
   * path or a numeric address, which need no resolver, so the attempt
   * starts within connect() without a promise's round trip.
   */
  #route(): Route | Promise<Route> {
    const { target, proxy, lookup, vhost } = this.#settings;
    if (target.socketPath) return { addresses: [{ address: `+${target.socketPath}`, family: 0 }], vhost: vhostOptions(vhost, false) };
    if (proxy) return this.#routeThroughProxy(proxy, lookup);
    const numeric = numericAddress(target.hostname);
    if (numeric) return { addresses: numeric, vhost: vhostOptions(vhost, target.secure) };
    return resolveAddresses(target.hostname, lookup).then((addresses) => ({ addresses, vhost: vhostOptions(vhost, target.secure) }));
  }

  async #routeThroughProxy(proxy: Proxy, lookup: LookupFunction | undefined): Promise<Route> {
    const { target, vhost } = this.#settings;
    // lws parses a SOCKS5 proxy's address at its first ':', so IPv6 cannot be used there.
    const found = await resolveAddresses(proxy.hostname, lookup, `proxy ${proxy.hostname}`);
    const usable = proxy.kind === 'socks5' ? found.filter((entry) => entry.family === 4) : found;
    if (!usable.length) throw new Error(`proxy ${proxy.hostname} has no IPv4 address, which lws needs for SOCKS5`);
    const address = (usable[0] as LookupAddress).address;
    // The proxy resolves the WebSocket host; lws only passes its name on.
    return { addresses: [{ address: target.hostname, family: 0 }], vhost: vhostOptions(vhost, target.secure, { proxy, address }) };
  }

  /** Opens a native connection to the next address. */
  #attemptNext(): void {
    const settings = this.#settings;
    const target = this.#remaining.shift() as LookupAddress;
    let connection: NativeConnection;
    try {
      connection = new native.Connection(
        settings.connection,
        target.address,
        this.#vhost as NativeVhostOptions,
        (settings.logger ?? debugLogger())?.native,
        // Only an attempt with addresses left to try has a timer to stop then.
        this.#remaining.length > 0,
        (...batch) => {
          // Events of an abandoned attempt only end it; they are not ours.
          if (connection === this.#connection) this.#onEvents(batch, target.address);
        },
      );
    } catch (error) {
      this.#settle(() => this.#rejectPromise(new General(`could not start the connection: ${String(error)}`)));
      return;
    }
    this.#connection = connection;
    if (this.#remaining.length) {
      this.#attemptTimer = setTimeout(() => {
        this.#attemptErrors.push(`${target.address}: no connection within ${ATTEMPT_TIMEOUT_MS} ms`);
        this.#dropAttempt();
        this.#attemptNext();
      }, ATTEMPT_TIMEOUT_MS);
    }
  }

  #onEvents(batch: NativeEventBatch, address: string): void {
    for (let index = 0; index < batch.length; index += 2) {
      const kind = batch[index] as NativeEventKind;
      const payload = batch[index + 1];
      switch (kind) {
        case NativeEventKind.Connected:
          clearTimeout(this.#attemptTimer);
          break;
        case NativeEventKind.Open: {
          const [protocol, extensions] = payload as readonly [string, string];
          this.#ready({ protocol, extensions });
          break;
        }
        case NativeEventKind.Text:
          this.#courier?.deliver({ binary: false, data: payload as string });
          break;
        case NativeEventKind.Binary:
          this.#courier?.deliver({ binary: true, data: payload as Buffer });
          break;
        case NativeEventKind.Drained:
          this.#courier?.drainEvent();
          break;
        case NativeEventKind.Closed: {
          const closed = payload as NativeClosed;
          this.#closed(closed[0], closed[1], closeInitiatorOf(closed));
          break;
        }
        case NativeEventKind.Failed: {
          const { phase, cause, response } = readFailure(payload as NativeFailed);
          // "setup": the context or vhost could not be created, nothing to retry.
          if (phase === 'setup') this.#settle(() => this.#rejectPromise(new General(`could not start the connection: ${cause}`)));
          else if (response?.headers.location && REDIRECT_STATUSES.has(response.status)) this.#redirected(response, response.headers.location);
          else this.#attemptFailed(address, phase, cause, response);
          break;
        }
      }
    }
  }

  #ready(negotiated: Negotiated): void {
    const connection = this.#connection as NativeConnection;
    const { onReady } = this.#settings;
    this.#opened();
    const driver = startCourier(connection, this.promise, negotiated);
    this.#courier = driver;
    try {
      onReady(driver.courier);
    } catch (error) {
      // Perl: an exception from on_ready rejects the promise with it. The
      // connection cannot go on without its runner, so it is closed.
      this.#settle(() => this.#rejectPromise(error));
      connection.close(1011, '');
    }
  }

  #closed(code: number, reason: string, initiator: CloseInitiator): void {
    this.#courier?.end();
    if (initiator === 'none') {
      this.#fail(this.#courier ? 'open' : 'handshake', 'the connection ended without a closing handshake');
      return;
    }
    if (code === 1000 || code === 1005) this.#settle(() => this.#resolvePromise([code, reason]));
    else if (initiator === 'failed') this.#settle(() => this.#rejectPromise(markFailedByClient(new WebSocketClose(code, reason))));
    else this.#settle(() => this.#rejectPromise(new WebSocketClose(code, reason)));
  }

  /**
   * The server answered with a redirect. Followed (within follow_redirects),
   * it is a new connection from the start: resolved by our resolver and
   * `lookup`, never by lws. The `headers` option's headers go along only
   * while the origin stays the same; once dropped they stay dropped.
   */
  #redirected(answer: HandshakeResponse, location: string): void {
    clearTimeout(this.#attemptTimer);
    this.#connection = undefined;
    const settings = this.#settings;
    const redirect = `HTTP ${answer.status} redirect to ${location}`;
    if (settings.followRedirects === 0) return this.#fail('handshake', `${redirect}: not followed (follow_redirects is 0)`, answer);
    if (this.#hops >= settings.followRedirects)
      return this.#fail('handshake', `${redirect}: too many redirects (follow_redirects: ${settings.followRedirects})`, answer);
    const hop = redirectTarget(settings.target, location);
    if ('refused' in hop) return this.#fail('handshake', `${redirect}: refused: ${hop.refused}`, answer);
    const { target } = hop;
    this.#hops++;
    this.#opening = {
      ...settings,
      target,
      connection: {
        ...settings.connection,
        port: target.port,
        host: target.hostHeader,
        path: target.path,
        headers: sameOrigin(settings.target, target) ? settings.connection.headers : [],
        sslFlags: sslFlags(target, settings.tlsRelaxations),
      },
    };
    this.#target = target;
    this.#remaining = [];
    this.#attemptErrors.length = 0;
    this.#open();
  }

  /** An address that could not be connected to gives way to the next one. */
  #attemptFailed(address: string, phase: FailurePhase, cause: string, answer?: HandshakeResponse): void {
    clearTimeout(this.#attemptTimer);
    if (phase === 'connect' && this.#remaining.length) {
      this.#attemptErrors.push(`${address}: ${cause}`);
      this.#attemptNext();
      return;
    }
    if (this.#attemptErrors.length) {
      this.#attemptErrors.push(`${address}: ${cause}`);
      cause = `every address failed: ${this.#attemptErrors.join('; ')}`;
    }
    this.#fail(phase, cause, answer);
  }

  #fail(phase: FailurePhase, cause: string, response?: HandshakeResponse): void {
    this.#courier?.end();
    const { hostname, port, socketPath } = this.#target;
    if (socketPath && phase === 'connect') cause = `${cause} (${unixSocketState(socketPath)})`;
    const details = { host: socketPath ?? hostname, port, phase, cause };
    this.#settle(() => this.#rejectPromise(new ConnectionFailed(response ? { ...details, response } : details)));
  }

  #settle(settle: () => void): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#opened();
    clearTimeout(this.#attemptTimer);
    settle();
  }

  /**
   * The opening is over (handshake done, or the run settled): its timer and
   * abort listener go, and so does what only the opening needed, which an
   * idle connection would otherwise keep for its whole life.
   */
  #opened(): void {
    this.#connectDeadline?.cancel();
    this.#connectDeadline = undefined;
    if (this.#onAbort) this.#opening?.signal?.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
    this.#vhost = undefined;
    this.#opening = undefined;
  }

  /**
   * The settings, while the opening lasts. Only the opening's own steps ask,
   * and each runs before #opened(); an abandoned attempt's late events are
   * filtered out before they reach one.
   */
  get #settings(): ConnectSettings {
    if (!this.#opening) throw new Error('connect(): the opening is over');
    return this.#opening;
  }
}

/**
 * lws reports a Unix socket connect that failed at once without its errno;
 * the file system can still tell the likely reason.
 */
function unixSocketState(socketPath: string): string {
  try {
    return statSync(socketPath).isSocket() ? 'the socket refused the connection' : 'not a socket';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such socket' : String(error);
  }
}
