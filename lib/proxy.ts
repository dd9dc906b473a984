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
// lws keeps proxy credentials in fixed buffers, counted in bytes. A longer
// value makes lws_set_proxy / lws_set_socks fail, which lws itself would
// ignore and connect without the proxy (the addon refuses such a vhost too).
//   HTTP: "user:password" is Base64-encoded into 128 bytes, NUL included
//   (vhost->proxy_basic_auth_token; lws_b64_encode_string wants room for a
//   whole 4-byte group plus the NUL), so 31 groups: 93 bytes.
//   SOCKS5: user and password each in 96 bytes, NUL included (user[96],
//   password[96] in lws_set_socks); the password's length is counted with
//   the ':' before it, so 95 bytes of user and 94 of password.
const MAX_HTTP_CREDENTIALS = 93;
const MAX_SOCKS_USER = 95;
const MAX_SOCKS_PASSWORD = 94;

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
  if (kind === 'http' && Buffer.byteLength(credentials) > MAX_HTTP_CREDENTIALS)
    throw invalidType(`HTTP proxy credentials (user:password) of at most ${MAX_HTTP_CREDENTIALS} bytes in UTF-8`, 'proxy', display);
  if (kind === 'socks5' && Buffer.byteLength(user) > MAX_SOCKS_USER)
    throw invalidType(`a SOCKS5 proxy user name of at most ${MAX_SOCKS_USER} bytes in UTF-8`, 'proxy', display);
  if (kind === 'socks5' && Buffer.byteLength(password) > MAX_SOCKS_PASSWORD)
    throw invalidType(`a SOCKS5 proxy password of at most ${MAX_SOCKS_PASSWORD} bytes in UTF-8`, 'proxy', display);
  const hostname = bareHostname(url);
  if (!hostname) throw invalidType(`${EXPECTED}, with a host`, 'proxy', display);
  return { kind, hostname, port: url.port ? Number(url.port) : DEFAULT_PORTS[kind], credentials, display };
}

/** What lws_set_proxy / lws_set_socks parse: "[user:pass@]address:port". */
export function lwsProxyString(proxy: Proxy, address: string): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${proxy.credentials ? `${proxy.credentials}@` : ''}${host}:${proxy.port}`;
}
