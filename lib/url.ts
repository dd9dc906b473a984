/**
 * The `url` option: ws://, wss://, and the ws+unix: form that the `ws`
 * package uses for Unix domain sockets.
 */
import { invalidType } from './validation';

export interface Target {
  secure: boolean;
  /** The host name without IPv6 brackets: what DNS resolves; 'localhost' for a Unix socket. */
  hostname: string;
  port: number;
  /** Host header value: the name (IPv6 in brackets), with the port when it is not the default. */
  hostHeader: string;
  /** Request path and query. */
  path: string;
  /** The Unix domain socket to connect to, for ws+unix: URLs. */
  socketPath?: string;
}

const EXPECTED = 'a ws://, wss:// or ws+unix: URL';
// A DNS name is at most 255 octets on the wire (RFC 1035 2.3.4), 253
// characters as text; neither a resolver nor TLS's server name takes more.
const MAX_HOST_NAME = 253;

// A service connects to the same few URLs again and again, and parsing one
// costs more than the rest of connect()'s checks together. Targets are
// frozen, so one can be shared. Bounded: a caller that passes ever new URLs
// only refills it.
const TARGET_CACHE_SIZE = 64;
const targetCache = new Map<string, Target>();

export function parseUrl(value: unknown): Target {
  if (typeof value !== 'string') throw invalidType(`${EXPECTED} string`, 'url', value);
  let target = targetCache.get(value);
  if (target) return target;
  target = Object.freeze(readTarget(value));
  if (targetCache.size >= TARGET_CACHE_SIZE) targetCache.clear();
  targetCache.set(value, target);
  return target;
}

function readTarget(value: string): Target {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidType(EXPECTED, 'url', value);
  }
  // url.hash is '' for a bare '#', which RFC 6455 forbids as well.
  if (url.hash || value.includes('#')) throw invalidType('a URL without a #fragment (RFC 6455 3)', 'url', value);
  if (url.username || url.password) throw invalidType('a URL without credentials', 'url', value);
  if (url.protocol === 'ws+unix:') return unixTarget(url, value);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw invalidType(EXPECTED, 'url', value);

  const secure = url.protocol === 'wss:';
  // URL leaves out a port equal to the scheme's default.
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  const hostname = bareHostname(url);
  if (!hostname) throw invalidType('a URL with a host', 'url', value);
  // An absolute name's final dot is not part of the limit. (URL gives IDNs in their ASCII form.)
  if (hostname.replace(/\.$/, '').length > MAX_HOST_NAME)
    throw invalidType(`a URL whose host name is at most ${MAX_HOST_NAME} characters (RFC 1035 2.3.4)`, 'url', value);
  return {
    secure,
    hostname,
    port,
    hostHeader: url.port ? `${url.hostname}:${url.port}` : url.hostname,
    path: `${url.pathname || '/'}${url.search}`,
  };
}

/** The URL's host name as a resolver takes it: an IPv6 address without its brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * ws+unix:/path/to/socket[:/request/path]: as in `ws`, the socket path ends
 * at the first ':'; the request path defaults to '/'.
 */
function unixTarget(url: URL, value: string): Target {
  if (url.host) throw invalidType('ws+unix:/absolute/socket/path[:/request/path] (no host)', 'url', value);
  const colon = url.pathname.indexOf(':');
  // The socket path is a file name: percent-decoded; the request path stays as sent.
  const socketPath = decodeURIComponent(colon === -1 ? url.pathname : url.pathname.slice(0, colon));
  const requestPath = colon === -1 ? '/' : url.pathname.slice(colon + 1) || '/';
  if (!socketPath.startsWith('/')) throw invalidType('ws+unix: with an absolute socket path', 'url', value);
  // sockaddr_un holds 108 bytes, its terminating NUL included.
  if (Buffer.byteLength(socketPath) > 107) throw invalidType('a Unix socket path of at most 107 bytes', 'url', value);
  return {
    secure: false,
    hostname: 'localhost',
    port: 0,
    hostHeader: 'localhost',
    path: `${requestPath.startsWith('/') ? '' : '/'}${requestPath}${url.search}`,
    socketPath,
  };
}
