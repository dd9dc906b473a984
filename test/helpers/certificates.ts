/**
 * Certificates made at test time with openssl: nothing secret or expiring
 * is committed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KeyAndCertificate {
  key: Buffer;
  cert: Buffer;
}

/** A self-signed certificate for `name` (CN and DNS subjectAltName). */
export function makeCertificate(name: string): KeyAndCertificate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lws-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    ], { stdio: 'ignore' });
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
