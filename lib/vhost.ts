/**
 * The vhost a connection runs on. lws keeps the extension offer, TLS trust
 * and identity, and proxy per vhost, so each distinct combination gets one,
 * shared by every connection that uses it; the key says which.
 */
import type { NativeVhostOptions } from './native';
import type { Proxy } from './proxy';
import { lwsProxyString } from './proxy';
import type { TlsMaterial } from './tls_options';

export function vhostOptions(deflateOffer: string, tls: TlsMaterial, proxy?: { proxy: Proxy; address: string }): NativeVhostOptions {
  const through = proxy ? lwsProxyString(proxy.proxy, proxy.address) : '';
  const httpProxy = proxy?.proxy.kind === 'http' ? through : '';
  const socksProxy = proxy?.proxy.kind === 'socks5' ? through : '';
  return {
    key: JSON.stringify([deflateOffer, tls.digest, httpProxy, socksProxy]),
    deflateOffer,
    caCertificates: tls.caCertificates,
    replaceSystemCa: tls.replaceSystemCa,
    clientCertificate: tls.clientCertificate,
    clientKey: tls.clientKey,
    httpProxy,
    socksProxy,
  };
}
