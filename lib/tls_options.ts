/**
 * TLS options: Perl's `tls` relaxation mask, and (beyond Perl) the trust
 * store and client certificate. Certificates and keys are parsed here with
 * node:crypto, so a bad one is a TypeError naming the option before anything
 * touches the network, and lws receives plain DER.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { native } from './native';
import { invalidRange, invalidSecret, invalidType } from './validation';

/** PEM text or a Buffer of PEM (or DER, for a single certificate or key). */
export type PemInput = string | Buffer;

export interface TlsMaterial {
  /** DER certificates of tls_ca (the whole store), or undefined for the default trust. */
  caCertificates: Uint8Array[] | undefined;
  clientCertificate?: Uint8Array;
  clientKey?: Uint8Array;
  /** Identifies this material among vhosts. */
  digest: string;
}

const TLS_RELAXATIONS = ['LCCSCF_ALLOW_SELFSIGNED', 'LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK', 'LCCSCF_ALLOW_EXPIRED', 'LCCSCF_ALLOW_INSECURE'] as const;

/** The `tls` option: an OR of LCCSCF_* relaxations, 0 when absent. */
export function parseTlsRelaxations(value: unknown): number {
  if (value === undefined) return 0;
  const allowed = TLS_RELAXATIONS.reduce((mask, name) => mask | native.constants[name], 0);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw invalidType(`a mask of ${TLS_RELAXATIONS.join(', ')}`, 'tls', value);
  // `value > allowed` first: bitwise operators see only the low 32 bits.
  if (value > allowed || (value & ~allowed) !== 0) throw invalidRange(`a mask of ${TLS_RELAXATIONS.join(', ')}`, 'tls', value);
  return value;
}

/** No tls_ca, tls_cert or tls_key: the default trust and no identity. */
const DEFAULT_MATERIAL: TlsMaterial = Object.freeze({ caCertificates: undefined, digest: 'default' });

// A service that connects often passes the same PEM each time; parsing and
// hashing it again would cost more than the rest of connect(). Bounded: a
// caller that passes ever new material only refills it.
const MATERIAL_CACHE_SIZE = 16;
const materialCache = new Map<string, TlsMaterial>();

/** tls_ca, tls_cert and tls_key, checked and turned into DER for lws. */
export function parseTlsMaterial(ca: unknown, cert: unknown, key: unknown): TlsMaterial {
  if (ca === undefined && cert === undefined && key === undefined) return DEFAULT_MATERIAL;
  const cacheKey = materialCacheKey(ca, cert, key);
  const cached = cacheKey === undefined ? undefined : materialCache.get(cacheKey);
  if (cached) return cached;
  const material = readTlsMaterial(ca, cert, key);
  if (cacheKey !== undefined) {
    if (materialCache.size >= MATERIAL_CACHE_SIZE) materialCache.clear();
    materialCache.set(cacheKey, material);
  }
  return material;
}

/** The three inputs as one string, or undefined if one is neither a string nor a Buffer (an error follows). */
function materialCacheKey(...inputs: unknown[]): string | undefined {
  let key = '';
  for (const input of inputs) {
    if (input === undefined) key += 'u:\0';
    else if (typeof input === 'string') key += `s${input.length}:${input}\0`;
    else if (Buffer.isBuffer(input)) key += `b${input.length}:${input.toString('latin1')}\0`;
    else return undefined;
  }
  return key;
}

function readTlsMaterial(ca: unknown, cert: unknown, key: unknown): TlsMaterial {
  if ((cert === undefined) !== (key === undefined))
    throw new TypeError(`Expected tls_cert and tls_key together (a client certificate needs its key) but received only ${cert === undefined ? 'tls_key' : 'tls_cert'}`);
  const caCertificates = ca === undefined ? undefined : parseCertificates(ca, 'tls_ca').map((certificate) => certificate.raw);
  const material: TlsMaterial = { caCertificates, digest: '' };
  const digest = createHash('sha256');
  digest.update(caCertificates ? 'ca:' : 'ca:default');
  for (const der of caCertificates ?? []) digest.update(der);
  if (cert !== undefined) {
    const certificate = parseCertificates(cert, 'tls_cert', 1)[0] as X509Certificate;
    material.clientKey = parsePrivateKey(key, certificate);
    material.clientCertificate = certificate.raw;
    digest.update('cert:').update(certificate.raw);
  }
  material.digest = digest.digest('base64');
  return material;
}

// Node reads NODE_EXTRA_CA_CERTS when the process starts; so does this,
// when the package loads: setting it later changes neither.
const EXTRA_CA_FILE = process.env.NODE_EXTRA_CA_CERTS;

/**
 * Without tls_ca, a server is trusted if the system's store (OpenSSL's
 * default paths, as lws loads them), Node's own bundled roots
 * (tls.rootCertificates, what https trusts) or NODE_EXTRA_CA_CERTS vouch
 * for it: whatever OPENSSLDIR this node binary was built with, wss://
 * verifies at least the certificates https does. Read once per environment.
 */
let defaultCa: Uint8Array[] | undefined;
export function defaultCaCertificates(): Uint8Array[] {
  // Node's own, well-formed PEM: the base64 body is the DER (a parse per
  // certificate would cost ~30 ms on the first wss:// connection).
  defaultCa ??= [
    ...rootCertificates.map((pem) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')),
    ...extraCaCertificates(EXTRA_CA_FILE),
  ];
  return defaultCa;
}

/**
 * NODE_EXTRA_CA_CERTS: a PEM file of certificates that node:tls adds to its
 * default trust (and only to that: an explicit `ca`, like tls_ca here,
 * replaces both). A file that cannot be read, or a certificate that does
 * not parse, is left out, as Node leaves it out; Node has already warned
 * about it at startup.
 */
function extraCaCertificates(file: string | undefined): Uint8Array[] {
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  const certificates: Uint8Array[] = [];
  for (const block of text.match(PEM_CERTIFICATE) ?? []) {
    try {
      certificates.push(new X509Certificate(block).raw);
    } catch {
      // Left out, as above.
    }
  }
  return certificates;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function parseCertificates(value: unknown, name: string, max = Infinity): X509Certificate[] {
  const expected = `PEM certificate${max === 1 ? '' : 's'} (a string or Buffer)`;
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) throw invalidType(expected, name, value);
  const text = typeof value === 'string' ? value : value.toString('latin1');
  // A Buffer without PEM armour may be one DER certificate.
  const pem = text.match(PEM_CERTIFICATE);
  const blocks: Array<string | Buffer> = pem ?? (Buffer.isBuffer(value) ? [value] : []);
  // What is not a certificate may be a private key given in the wrong
  // option (PEM, or DER in a Buffer): then no byte of it is shown.
  const mayBeSecret = /PRIVATE KEY/.test(text) || (pem === null && Buffer.isBuffer(value));
  const refuse = (why: string) => (mayBeSecret ? invalidSecret : invalidType)(why, name, value);
  if (!blocks.length || blocks.length > max) throw refuse(expected);
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw refuse(`${expected}; certificate ${index} does not parse (${(error as Error).message})`);
    }
  });
}

function parsePrivateKey(value: unknown, certificate: X509Certificate): Uint8Array {
  const expected = 'an unencrypted RSA or EC private key in PEM (a string or Buffer)';
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) throw invalidSecret(expected, 'tls_key', value);
  let key: KeyObject;
  try {
    key = createPrivateKey(value);
  } catch (error) {
    throw invalidSecret(`${expected} (${(error as Error).message})`, 'tls_key', value);
  }
  // lws hands the key to OpenSSL as RSA or EC only.
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec')
    throw invalidSecret(`${expected}; this is ${key.asymmetricKeyType ?? 'unknown'}`, 'tls_key', value);
  if (!certificate.checkPrivateKey(key))
    throw invalidSecret('the private key of tls_cert', 'tls_key', value);
  return key.export({ format: 'der', type: 'pkcs8' });
}
