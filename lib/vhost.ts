/**
 * The vhost a connection runs on. lws keeps the extension offer, TLS trust
 * and identity, and proxy per vhost, so each distinct combination gets one,
 * shared by every connection that uses it; the key says which.
 */
import type { NativeVhostOptions } from './native';
import type { Proxy } from './proxy';
import { lwsProxyString } from './proxy';
import { defaultCaCertificates, type TlsMaterial } from './tls_options';

/**
 * `secure`: the connection uses TLS. A plain ws:// connection needs no trust
 * store or client certificate, so all of them share one vhost without it.
 */
export function vhostOptions(
  { deflateOffer, tls }: { deflateOffer: string; tls: TlsMaterial },
  secure: boolean,
  proxy?: { proxy: Proxy; address: string },
): NativeVhostOptions {
  const through = proxy ? lwsProxyString(proxy.proxy, proxy.address) : '';
  const httpProxy = proxy?.proxy.kind === 'http' ? through : '';
  const socksProxy = proxy?.proxy.kind === 'socks5' ? through : '';
  // None of the parts can hold a newline.
  const key = `${deflateOffer}\n${secure ? tls.digest : 'plain'}\n${httpProxy}\n${socksProxy}`;
  let options = known.get(key);
  if (!options) {
    options = describeVhost(key, { deflateOffer, tls }, secure, httpProxy, socksProxy);
    if (known.size >= KNOWN_SIZE) known.clear();
    known.set(key, options);
  }
  return options;
}

// Connections on one vhost share one description instead of building their
// own. Bounded like the addon's idle vhosts (binding/context.h): a service
// with per-session credentials only refills it.
const KNOWN_SIZE = 64;
const known = new Map<string, NativeVhostOptions>();

function describeVhost(
  key: string,
  { deflateOffer, tls }: { deflateOffer: string; tls: TlsMaterial },
  secure: boolean,
  httpProxy: string,
  socksProxy: string,
): NativeVhostOptions {
  if (!secure)
    return { key, deflateOffer, httpProxy, socksProxy, caCertificates: [], replaceSystemCa: false, systemCa: false, clientCertificate: undefined, clientKey: undefined };
  return {
    key,
    deflateOffer,
    httpProxy,
    socksProxy,
    // Without tls_ca: the system's store, plus Node's roots and
    // NODE_EXTRA_CA_CERTS added to it.
    caCertificates: tls.caCertificates ?? defaultCaCertificates(),
    replaceSystemCa: tls.caCertificates !== undefined,
    systemCa: tls.caCertificates === undefined,
    clientCertificate: tls.clientCertificate,
    clientKey: tls.clientKey,
  };
}
