/**
 * Small checks shared by the option parser and the Courier. Every error
 * names what was checked and the value received, in the form
 * "Expected X for Y but received Z".
 */
import { inspect } from 'node:util';

/** A short, safe rendering of any value for an error message. */
export function describe(value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxStringLength: 80, maxArrayLength: 10 });
}

export function invalidType(expected: string, name: string, value: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

/** As invalidType, but for secrets (private keys, passwords): the value is not shown. */
export function invalidSecret(expected: string, name: string, value: unknown): TypeError {
  const kind = Buffer.isBuffer(value) ? `a Buffer of ${value.length} bytes` : typeof value === 'string' ? `a string of ${value.length} characters` : describe(value);
  return new TypeError(`Expected ${expected} for ${name} but received ${kind} (not shown: it may be secret)`);
}

export function invalidRange(expected: string, name: string, value: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${name} but received ${describe(value)}`);
}

/** An integer in [min, max]; TypeError for a non-number, RangeError otherwise. */
export function integerInRange(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidType('an integer', name, value);
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalidRange(`an integer from ${min} to ${max}`, name, value);
  return value;
}

// RFC 7230 3.2.6 token characters (also RFC 6455's subprotocol syntax).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

// lws defines 12 log levels (LLL_COUNT), LLL_ERR … LLL_THREAD.
const ALL_LOG_LEVELS = (1 << 12) - 1;

/** A mask of LLL_* values, for set_log_level() and Logger alike. */
export function logLevelMask(value: unknown, name: string): number {
  return integerInRange(value, name, 0, ALL_LOG_LEVELS);
}
