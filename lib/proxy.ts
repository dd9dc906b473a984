/**
 * The `proxy` option (beyond Perl): an HTTP CONNECT proxy or a SOCKS5 proxy
 * that lws connects through. The proxy's own name is resolved in Node, like
 * every name; the WebSocket host is resolved by the proxy.
 */
import { bareHostname } from './url';
import { invalidSecret, invalidType } from './validation';

export interface Proxy {
  kind: 'http' | 'socks5';
  hostname: string;
  port: number;
  /** "user:password", percent-decoded, or '' for none. */
  credentials: string;
  /** The option as given, without its password: for error messages. */
  display: string;
}

const EXPECTED = 'an http://[user:password@]host[:port] or socks5://[user:password@]host[:port] proxy URL';
const DEFAULT_PORTS = { http: 80, socks5: 1080 } as const;
// lws keeps proxy credentials in fixed buffers (lws_set_proxy, lws_set_socks).
const MAX_CREDENTIALS = 95;

export function parseProxy(value: unknown): Proxy | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidType(EXPECTED, 'proxy', value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidSecret(EXPECTED, 'proxy', value);
  }
  const kind = url.protocol === 'http:' ? 'http' : url.protocol === 'socks5:' ? 'socks5' : undefined;
  const display = `${url.protocol}//${url.username ? `${url.username}:***@` : ''}${url.host}`;
  if (!kind) throw invalidType(EXPECTED, 'proxy', display);
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) throw invalidType(`${EXPECTED}, with no path`, 'proxy', display);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  // lws splits the credentials at the first ':' and ends them at the last '@'.
  if (user.includes(':')) throw invalidType('a proxy user name without ":"', 'proxy', display);
  const credentials = user || password ? `${user}:${password}` : '';
  if (credentials.length > MAX_CREDENTIALS) throw invalidType(`proxy credentials of at most ${MAX_CREDENTIALS} characters`, 'proxy', display);
  const hostname = bareHostname(url);
  if (!hostname) throw invalidType(`${EXPECTED}, with a host`, 'proxy', display);
  return { kind, hostname, port: url.port ? Number(url.port) : DEFAULT_PORTS[kind], credentials, display };
}

/** What lws_set_proxy / lws_set_socks parse: "[user:pass@]address:port". */
export function lwsProxyString(proxy: Proxy, address: string): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${proxy.credentials ? `${proxy.credentials}@` : ''}${host}:${proxy.port}`;
}
