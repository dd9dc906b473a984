/**
 * connect()'s options, checked and normalised before anything touches the
 * network: each problem is a TypeError or RangeError that names the option
 * and the value. The result is what lib/connect.ts and the addon consume.
 */
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { native, type NativeConnectionOptions } from './native';
import type { Courier } from './courier';
import { headerPairs, type HeadersOption } from './headers';
import { Logger } from './logger';
import { parseProxy, type Proxy } from './proxy';
import { parseTlsMaterial, parseTlsRelaxations, type PemInput, type TlsMaterial } from './tls_options';
import { parseUrl, type Target } from './url';
import { integerInRange, invalidType, isToken } from './validation';

/** The options of connect(), named exactly as in Perl's Net::Libwebsockets. */
export interface ConnectOptions {
  /** `ws://`, `wss://` or `ws+unix:/socket/path[:/request/path]` URL; path and query are kept. */
  url: string;
  /** Runs the connection once the handshake completed. */
  on_ready: (courier: Courier) => void;
  /** Perl selects an event loop here; Node has one, so only 'libuv' is accepted. */
  event?: 'libuv';
  /** OR of LCCSCF_ALLOW_SELFSIGNED, LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK, LCCSCF_ALLOW_EXPIRED, LCCSCF_ALLOW_INSECURE. */
  tls?: number;
  /** Subprotocols to offer, in order of preference. */
  subprotocols?: readonly string[];
  /** 'deflate', or a list of setups: ['deflate', { …attributes }, 'deflate', …]; [] for none. */
  compression?: CompressionOption;
  /** Extra handshake headers: flat pairs ['X-Foo', 'foo', 'X-Bar', 'bar'], { 'X-Foo': 'foo' }, or a Headers or Map. */
  headers?: HeadersOption;
  /** Seconds of silence after which a ping is sent (default 30). */
  ping_interval?: number;
  /** Seconds without valid traffic after which the connection is dropped (default 299). */
  ping_timeout?: number;
  /** Largest message accepted, in bytes (default 100 MiB); a larger one closes with 1009. */
  max_message_size?: number;
  /** Receives lws's log lines for this connection (lws 4.3 log contexts). */
  logger?: Logger;
  /** Resolver with dns.lookup()'s signature (default dns.lookup); called with { all: true }. */
  lookup?: LookupFunction;
  /** Trusted CA certificates, PEM; they replace the default trust (system store and Node's roots). */
  tls_ca?: PemInput;
  /** Client certificate, PEM; needs tls_key. */
  tls_cert?: PemInput;
  /** The client certificate's unencrypted RSA or EC private key, PEM. */
  tls_key?: PemInput;
  /** 'http://[user:pass@]host[:port]' (HTTP CONNECT) or 'socks5://[user:pass@]host[:port]'. */
  proxy?: string;
  /** Seconds from connect() until the handshake completes, DNS and TLS included (default 20). */
  connect_timeout?: number;
  /** Cancels the opening: until on_ready runs, aborting drops the attempt and rejects with signal.reason. */
  signal?: AbortSignal;
  /** How many 3xx redirects to follow, 0–20 (default 0: a redirect rejects ConnectionFailed). */
  follow_redirects?: number;
}

/** dns.lookup()'s signature, as net.connect()'s `lookup` option takes it. */
export type LookupFunction = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export type ContextMode = 'takeover' | 'no_takeover';

/** permessage-deflate attributes, as in Perl. */
export interface DeflateAttributes {
  local_context_mode?: ContextMode;
  peer_context_mode?: ContextMode;
  local_max_window_bits?: number;
  peer_max_window_bits?: number;
}

export type CompressionOption = 'deflate' | ReadonlyArray<'deflate' | DeflateAttributes>;

/** What connect() needs after validation. */
export interface ConnectSettings {
  onReady: (courier: Courier) => void;
  target: Target;
  lookup: LookupFunction | undefined;
  logger: Logger | undefined;
  proxy: Proxy | undefined;
  connectTimeoutMs: number;
  signal: AbortSignal | undefined;
  /** Redirects to follow; each is a new connection made by lib/connect.ts. */
  followRedirects: number;
  /** The `tls` option's LCCSCF_* relaxations, for a redirect's sslFlags. */
  tlsRelaxations: number;
  /** What the connection's vhost is made of; completed once the proxy is resolved. */
  vhost: { deflateOffer: string; tls: TlsMaterial };
  /** The addon's options, but for those resolved later. */
  connection: NativeConnectionOptions;
}

export const DEFAULTS = {
  ping_interval: 30,
  ping_timeout: 299,
  max_message_size: 100 * 1024 * 1024,
  // lws's own default for a connection that has not completed (AWAITING_TIMEOUT).
  connect_timeout: 20,
  follow_redirects: 0,
} as const;

// ws's default maxRedirects (10) is a count to stop loops, not a policy; 20
// is Firefox's and Chrome's limit for a page.
const MAX_REDIRECTS = 20;

const KNOWN = new Set([
  'url',
  'on_ready',
  'event',
  'tls',
  'subprotocols',
  'compression',
  'headers',
  'ping_interval',
  'ping_timeout',
  'max_message_size',
  'lookup',
  'logger',
  'tls_ca',
  'tls_cert',
  'tls_key',
  'proxy',
  'connect_timeout',
  'signal',
  'follow_redirects',
]);
const REQUIRED = ['url', 'on_ready'];

/** Validates connect()'s options; throws before anything touches the network. */
export function parseConnectOptions(options: unknown): ConnectSettings {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalidType('an options object', 'connect()', options);
  const given = options as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !KNOWN.has(key));
  if (unknown.length) throw new TypeError(`Unknown: ${unknown.join(', ')}`);
  const missing = REQUIRED.filter((key) => given[key] === undefined);
  if (missing.length) throw new TypeError(`Need: ${missing.join(', ')}`);

  const url = parseUrl(given.url);
  if (typeof given.on_ready !== 'function') throw invalidType('a function', 'on_ready', given.on_ready);
  if (given.event !== undefined && given.event !== 'libuv')
    throw invalidType("'libuv' (Node has one event loop)", 'event', given.event);

  const proxy = parseProxy(given.proxy);
  if (proxy && url.socketPath) throw invalidType('no proxy for a ws+unix: URL', 'proxy', proxy.display);
  // Checked for ws:// too: a bad value is a bug wherever it is passed.
  const tlsRelaxations = parseTlsRelaxations(given.tls);
  return {
    onReady: given.on_ready as (courier: Courier) => void,
    target: url,
    lookup: parseLookup(given.lookup),
    logger: parseLogger(given.logger),
    proxy,
    connectTimeoutMs:
      1000 * (given.connect_timeout === undefined ? DEFAULTS.connect_timeout : integerInRange(given.connect_timeout, 'connect_timeout', 1, 3600)),
    signal: parseSignal(given.signal),
    followRedirects:
      given.follow_redirects === undefined ? DEFAULTS.follow_redirects : integerInRange(given.follow_redirects, 'follow_redirects', 0, MAX_REDIRECTS),
    tlsRelaxations,
    vhost: { deflateOffer: parseCompression(given.compression), tls: parseTlsMaterial(given.tls_ca, given.tls_cert, given.tls_key) },
    connection: {
      port: url.port,
      host: url.hostHeader,
      path: url.path,
      protocols: parseSubprotocols(given.subprotocols),
      headers: parseHeaders(given.headers),
      sslFlags: sslFlags(url, tlsRelaxations),
      pingInterval: given.ping_interval === undefined ? DEFAULTS.ping_interval : integerInRange(given.ping_interval, 'ping_interval', 1, 65535),
      pingTimeout: given.ping_timeout === undefined ? DEFAULTS.ping_timeout : integerInRange(given.ping_timeout, 'ping_timeout', 1, 65535),
      maxMessageSize:
        given.max_message_size === undefined ? DEFAULTS.max_message_size : integerInRange(given.max_message_size, 'max_message_size', 1, 2 ** 32),
    },
  };
}

/** The addon's sslFlags for a connection to `target`. */
export function sslFlags(target: Target, tlsRelaxations: number): number {
  return target.secure ? native.constants.LCCSCF_USE_SSL | tlsRelaxations : 0;
}

function parseSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidType('an AbortSignal', 'signal', value);
  return value;
}

function parseLogger(value: unknown): Logger | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Logger)) throw invalidType('a Logger', 'logger', value);
  return value;
}

function parseLookup(value: unknown): LookupFunction | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidType("a function with dns.lookup()'s signature", 'lookup', value);
  return value as LookupFunction;
}

function parseSubprotocols(value: unknown): string {
  if (value === undefined) return '';
  if (!Array.isArray(value)) throw invalidType('an array of subprotocol names', 'subprotocols', value);
  // Names that differ only in case count as duplicates: one of them is a
  // mistake, and a server that matches names ignoring case cannot tell
  // which one was meant.
  const seen = new Map<string, number>();
  for (const [index, name] of value.entries()) {
    if (typeof name !== 'string' || !isToken(name))
      throw invalidType('a subprotocol name (an RFC 6455 token)', `subprotocols[${index}]`, name);
    const first = seen.get(name.toLowerCase());
    if (first !== undefined)
      throw invalidType(`a subprotocol name distinct (ignoring case) from subprotocols[${first}]`, `subprotocols[${index}]`, name);
    seen.set(name.toLowerCase(), index);
  }
  return value.join(', ');
}

/** The headers as lws writes them: 'Name:' then the value. */
function parseHeaders(value: unknown): string[] {
  const pairs = headerPairs(value);
  for (let index = 0; index < pairs.length; index += 2) pairs[index] = `${pairs[index] as string}:`;
  return pairs;
}

/** The permessage-deflate offer (RFC 7692) for the compression option. */
function parseCompression(value: unknown): string {
  if (value === undefined) return native.constants.HAS_PMD ? 'permessage-deflate; client_max_window_bits' : '';
  const setups = value === 'deflate' ? ['deflate'] : value;
  if (!Array.isArray(setups)) throw invalidType("'deflate' or an array of compression setups", 'compression', value);
  const offers: string[] = [];
  for (let index = 0; index < setups.length; index++) {
    const name: unknown = setups[index];
    if (name !== 'deflate') throw invalidType("'deflate' (the only compression lws offers)", `compression[${index}]`, name);
    const next: unknown = setups[index + 1];
    if (typeof next === 'object' && next !== null) {
      offers.push(deflateOffer(next as Record<string, unknown>, `compression[${index + 1}]`));
      index++;
    } else {
      offers.push('permessage-deflate; client_max_window_bits');
    }
  }
  if (offers.length && !native.constants.HAS_PMD)
    throw invalidType('no compression: this lws build has no permessage-deflate (HAS_PMD is false)', 'compression', value);
  return offers.join(', ');
}

const DEFLATE_ATTRIBUTES = new Set(['local_context_mode', 'peer_context_mode', 'local_max_window_bits', 'peer_max_window_bits']);

function deflateOffer(attributes: Record<string, unknown>, name: string): string {
  const unknown = Object.keys(attributes).filter((key) => !DEFLATE_ATTRIBUTES.has(key));
  if (unknown.length) throw new TypeError(`Unknown ${name} attribute(s): ${unknown.join(', ')}`);
  // "local" is this client, "peer" the server (RFC 7692 7.1).
  const parameters = ['permessage-deflate'];
  const contextMode = (key: 'local_context_mode' | 'peer_context_mode', parameter: string) => {
    const mode = attributes[key];
    if (mode === undefined || mode === 'takeover') return;
    if (mode !== 'no_takeover') throw invalidType("'takeover' or 'no_takeover'", `${name}.${key}`, mode);
    parameters.push(parameter);
  };
  contextMode('local_context_mode', 'client_no_context_takeover');
  contextMode('peer_context_mode', 'server_no_context_takeover');
  const localBits = attributes.local_max_window_bits;
  parameters.push(
    localBits === undefined
      ? 'client_max_window_bits'
      : `client_max_window_bits=${integerInRange(localBits, `${name}.local_max_window_bits`, 8, 15)}`,
  );
  if (attributes.peer_max_window_bits !== undefined)
    parameters.push(`server_max_window_bits=${integerInRange(attributes.peer_max_window_bits, `${name}.peer_max_window_bits`, 8, 15)}`);
  return parameters.join('; ');
}

