/**
 * A small PKI made at test time with the openssl CLI (OpenSSL 3.0), so TLS
 * tests can meet what users meet: a server certificate from a CA the client
 * trusts, one that has expired, one from an unrelated CA, one for another
 * name, a self-signed one, and client certificates from a CA of their own.
 * Nothing secret or expiring is committed. Keys are EC P-256, which openssl
 * makes in milliseconds; every call works in its own temporary directory and
 * removes it, so the PEM Buffers returned are all that is left.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { KeyAndCertificate } from './certificates';

export type { KeyAndCertificate } from './certificates';

export interface LeafOptions {
  /**
   * The subjectAltName entries, each a DNS name or an IP address (v4 or v6,
   * told apart by node:net's isIP). Default `[name]`; `[]` leaves the
   * certificate with its common name only, as old certificates have.
   */
  altNames?: string[];
  /** The CA that signs it. Default the PKI's `ca`. */
  issuer?: KeyAndCertificate;
}

export interface Pki {
  /** The CA a client is told to trust (`ca: pki.ca.cert`). */
  ca: KeyAndCertificate;
  /** A second CA with its own name and key, for "unable to get issuer". */
  otherCa: KeyAndCertificate;
  /** The CA that issues client certificates; a server asking for them trusts it. */
  clientCa: KeyAndCertificate;
  /** A server certificate (serverAuth) for `name`, valid from now for 30 days. */
  leaf(name: string, options?: LeafOptions): KeyAndCertificate;
  /** Like `leaf`, but valid from two days ago until one day ago. */
  expiredLeaf(name: string, options?: LeafOptions): KeyAndCertificate;
  /** A client certificate (clientAuth) with common name `name`, signed by `clientCa`. */
  clientCert(name: string): KeyAndCertificate;
  /** A self-signed server certificate for `name`, as makeCertificate makes but EC. */
  selfSigned(name: string, options?: Pick<LeafOptions, 'altNames'>): KeyAndCertificate;
}

const DAYS = '30';
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Makes the three CAs now; leaves are issued when asked for. Synchronous, for a beforeAll. */
export function makePki(): Pki {
  // Distinct names as well as keys: a verifier looks issuers up by name.
  const ca = certify('lws test CA', CA_EXTENSIONS);
  const otherCa = certify('lws other CA', CA_EXTENSIONS);
  const clientCa = certify('lws client CA', CA_EXTENSIONS);
  return {
    ca,
    otherCa,
    clientCa,
    leaf: (name, options = {}) => certify(name, serverExtensions(options.altNames ?? [name]), options.issuer ?? ca),
    expiredLeaf: (name, options = {}) => certifyExpired(name, serverExtensions(options.altNames ?? [name]), options.issuer ?? ca),
    clientCert: (name) => certify(name, CLIENT_EXTENSIONS, clientCa),
    selfSigned: (name, options = {}) => certify(name, serverExtensions(options.altNames ?? [name])),
  };
}

// ---------------------------------------------------------------------------
// Extensions, as lines of an openssl config section

const CA_EXTENSIONS = [
  'basicConstraints = critical,CA:TRUE',
  'keyUsage = critical,keyCertSign,cRLSign',
  'subjectKeyIdentifier = hash',
];

// authorityKeyIdentifier lets a verifier pick the right issuer by key, as
// real chains do; `keyid` (not `always`) so a self-signed one may omit it.
function serverExtensions(altNames: string[]): string[] {
  const lines = [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
  if (altNames.length > 0)
    lines.push(`subjectAltName = ${altNames.map((entry) => (net.isIP(entry) ? `IP:${entry}` : `DNS:${entry}`)).join(',')}`);
  return lines;
}

const CLIENT_EXTENSIONS = [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature',
  'extendedKeyUsage = clientAuth',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
];

// ---------------------------------------------------------------------------
// openssl runs

/** Runs `work` in a fresh temporary directory and removes it afterwards. */
function inTempDir<T>(work: (file: (name: string) => string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lws-pki-'));
  try {
    return work((name) => path.join(dir, name));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The subject goes in the config rather than -subj, so a name needs no
// escaping of '/' or '='. The config replaces the system one entirely, so
// none of its default extensions (CA:TRUE among them) creep in.
function requestConfig(commonName: string, extensions: string[]): string {
  return ['[req]', 'prompt = no', 'distinguished_name = dn', '[dn]', `CN = ${commonName}`, '[ext]', ...extensions, ''].join('\n');
}

function openssl(args: string[]): void {
  // stdin ignored so openssl can never wait on a prompt; stderr kept for the error.
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function read(file: (name: string) => string): KeyAndCertificate {
  return { key: readFileSync(file('key.pem')), cert: readFileSync(file('cert.pem')) };
}

/** `openssl req -x509` in one run: a new key and a certificate, self-signed or signed by `issuer`. */
function certify(commonName: string, extensions: string[], issuer?: KeyAndCertificate): KeyAndCertificate {
  return inTempDir((file) => {
    writeFileSync(file('req.cnf'), requestConfig(commonName, extensions));
    const signing: string[] = [];
    if (issuer) {
      writeFileSync(file('issuer.key'), issuer.key);
      writeFileSync(file('issuer.pem'), issuer.cert);
      // OpenSSL 3.0's req signs with another certificate's key via -CA/-CAkey.
      signing.push('-CA', file('issuer.pem'), '-CAkey', file('issuer.key'));
    }
    openssl([
      'req', '-x509', '-config', file('req.cnf'), '-extensions', 'ext', ...NEW_KEY,
      '-keyout', file('key.pem'), '-out', file('cert.pem'), '-days', DAYS, ...signing,
    ]);
    return read(file);
  });
}

/** openssl's time format for `ca -startdate/-enddate`: YYYYMMDDHHMMSSZ. */
function asn1Time(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}

/**
 * A certificate whose validity lies wholly in the past. OpenSSL 3.0's req and
 * x509 only count days from now, so this takes the `openssl ca` route, which
 * accepts explicit dates but wants a CA config, an index and a serial file.
 */
function certifyExpired(commonName: string, extensions: string[], issuer: KeyAndCertificate): KeyAndCertificate {
  const day = 24 * 60 * 60 * 1000;
  const now = Date.now();
  return inTempDir((file) => {
    writeFileSync(file('issuer.key'), issuer.key);
    writeFileSync(file('issuer.pem'), issuer.cert);
    writeFileSync(file('index.txt'), '');
    const caSection = [
      '[ca]', 'default_ca = ca_default',
      '[ca_default]',
      `database = ${file('index.txt')}`,
      `new_certs_dir = ${file('')}`,
      // Needed even with -rand_serial, which writes the serial it chose here.
      `serial = ${file('serial')}`,
      'default_md = sha256',
      'policy = policy_any',
      'unique_subject = no',
      '[policy_any]', 'commonName = supplied',
    ];
    writeFileSync(file('ca.cnf'), `${requestConfig(commonName, extensions)}${caSection.join('\n')}\n`);
    openssl(['req', '-new', '-config', file('ca.cnf'), ...NEW_KEY, '-keyout', file('key.pem'), '-out', file('req.pem')]);
    openssl([
      'ca', '-batch', '-config', file('ca.cnf'), '-extensions', 'ext', '-rand_serial', '-notext',
      '-cert', file('issuer.pem'), '-keyfile', file('issuer.key'), '-in', file('req.pem'), '-out', file('cert.pem'),
      '-startdate', asn1Time(new Date(now - 2 * day)), '-enddate', asn1Time(new Date(now - day)),
    ]);
    return read(file);
  });
}
