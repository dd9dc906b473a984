/**
 * Redirects (follow_redirects): where a 3xx's Location leads, and whether
 * it may be followed. lws never follows one itself (the addon tells it not
 * to); each hop is a new connection that lib/connect.ts makes, resolved
 * through its own resolver and `lookup` like the first.
 */
import { parseUrl, type Target } from './url';

/** The statuses that redirect (RFC 9110 15.4); lws would follow the same. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export type Hop = { target: Target } | { refused: string };

/**
 * The target `location` names, relative to `current`: http: and https: are
 * taken as ws: and wss:. Refused: leaving TLS (wss: to ws:), a Unix socket
 * (ws+unix:, which would let any server reach local sockets), other
 * schemes, a Location that is not a URL, and any redirect from a ws+unix:
 * URL (no host to resolve a relative Location against).
 */
export function redirectTarget(current: Target, location: string): Hop {
  if (current.socketPath) return { refused: 'redirects from a ws+unix: URL are not followed' };
  let url: URL;
  try {
    url = new URL(location, baseUrl(current));
  } catch {
    return { refused: 'the Location is not a URL' };
  }
  if (url.protocol === 'ws+unix:') return { refused: 'a Unix socket (ws+unix:) is never a redirect target' };
  // Both are special schemes, so the setter takes them.
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return { refused: `${url.protocol} is not a WebSocket scheme` };
  if (current.secure && url.protocol === 'ws:') return { refused: 'wss: to ws: would drop TLS' };
  // A Location may carry a fragment (RFC 9110 10.2.2); a WebSocket URL may not.
  url.hash = '';
  try {
    return { target: parseUrl(url.href) };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

/**
 * Scheme, host and port are the same: only then do the `headers` option's
 * headers (Authorization, Cookie …) go on to the next hop.
 */
export function sameOrigin(a: Target, b: Target): boolean {
  return a.secure === b.secure && a.hostname === b.hostname && a.port === b.port && !a.socketPath && !b.socketPath;
}

/** The URL `target` was made from (for ws: and wss:), as a base for a relative Location. */
function baseUrl(target: Target): string {
  return `${target.secure ? 'wss' : 'ws'}://${target.hostHeader}${target.path}`;
}
