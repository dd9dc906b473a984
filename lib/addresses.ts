/**
 * The addresses a connection tries, in Node's order: every address the
 * resolver gives (dns.lookup with all: true), interleaved by family as
 * net.connect's autoSelectFamily does, so one unreachable family costs
 * one attempt, not all of them.
 */
import dns, { type LookupAddress } from 'node:dns';
import net from 'node:net';
import type { LookupFunction } from './options';

/**
 * Resolves `hostname` (numeric addresses skip the resolver); a failure is an
 * Error whose message names `what` and the resolver's error code.
 */
export function resolveAddresses(hostname: string, lookup: LookupFunction = dns.lookup, what = hostname): Promise<LookupAddress[]> {
  const numeric = numericAddress(hostname);
  if (numeric) return Promise.resolve(numeric);
  return new Promise((resolve, reject) => {
    lookup(hostname, { all: true }, (error, addresses) => {
      if (error) reject(new Error(`${what} did not resolve: ${error.code ?? error.message}`, { cause: error }));
      else if (!Array.isArray(addresses) || addresses.length === 0) reject(new Error(`${what} did not resolve: no addresses`));
      else resolve(interleaveFamilies(addresses));
    });
  });
}

/** A numeric address as the only one to try; undefined for a name. */
export function numericAddress(hostname: string): LookupAddress[] | undefined {
  const family = net.isIP(hostname);
  return family === 0 ? undefined : [{ address: hostname, family }];
}

/** [a1, a2, b1, b2] → [a1, b1, a2, b2], keeping the resolver's order within a family. */
export function interleaveFamilies(addresses: readonly LookupAddress[]): LookupAddress[] {
  const first = addresses[0]?.family;
  const same = addresses.filter((entry) => entry.family === first);
  const other = addresses.filter((entry) => entry.family !== first);
  const ordered: LookupAddress[] = [];
  for (let index = 0; index < Math.max(same.length, other.length); index++) {
    const a = same[index];
    const b = other[index];
    if (a) ordered.push(a);
    if (b) ordered.push(b);
  }
  return ordered;
}
