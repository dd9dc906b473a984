/**
 * The `headers` option: extra handshake headers, given as Perl's flat
 * array ['Name', 'value', …], a plain object { Name: 'value' } (an array
 * value repeats the header), or anything iterable as [name, value] pairs,
 * such as a WHATWG `Headers` or a `Map`. Every form becomes the same
 * checked flat list, or a TypeError naming the entry and its value.
 */
import { invalidType, isToken } from './validation';

/** What `headers` accepts. */
export type HeadersOption =
  | readonly string[]
  | Readonly<Record<string, string | readonly string[]>>
  | Iterable<readonly [name: string, value: string]>;

// Headers lws writes itself; a second copy would make the handshake invalid.
const RESERVED_HEADERS = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

const EXPECTED = "a flat array ['Name', 'value', …], a plain object { Name: 'value' }, or a Headers or Map of names to values";

/** The headers as checked flat pairs [name, value, name, value, …]; [] when undefined. */
export function headerPairs(value: unknown): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return flatPairs(value);
  if (typeof value !== 'object' || value === null) throw invalidType(EXPECTED, 'headers', value);
  if (Symbol.iterator in value) return iteratedPairs(value as Iterable<unknown>);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw invalidType(EXPECTED, 'headers', value);
  return objectPairs(value as Record<string, unknown>);
}

/** Whether `pairs` (from headerPairs()) has a header called `name`, ignoring case. */
export function hasHeader(pairs: readonly string[], name: string): boolean {
  const wanted = name.toLowerCase();
  for (let index = 0; index < pairs.length; index += 2) if ((pairs[index] as string).toLowerCase() === wanted) return true;
  return false;
}

function flatPairs(value: readonly unknown[]): string[] {
  if (value.length % 2 !== 0) throw invalidType('an even number of entries (name, value pairs)', 'headers', value);
  const pairs: string[] = [];
  for (let index = 0; index < value.length; index += 2)
    addPair(pairs, value[index], `headers[${index}]`, value[index + 1], `headers[${index + 1}]`);
  return pairs;
}

function objectPairs(value: Record<string, unknown>): string[] {
  const pairs: string[] = [];
  for (const [name, headerValue] of Object.entries(value)) {
    const label = `headers[${JSON.stringify(name)}]`;
    if (!Array.isArray(headerValue)) {
      addPair(pairs, name, 'a key of headers', headerValue, label);
      continue;
    }
    // An array repeats the header, one line per value, as Node's http does.
    for (const [index, item] of headerValue.entries()) addPair(pairs, name, 'a key of headers', item, `${label}[${index}]`);
  }
  return pairs;
}

function iteratedPairs(value: Iterable<unknown>): string[] {
  const pairs: string[] = [];
  let index = 0;
  for (const entry of value) {
    const label = `headers entry ${index}`;
    if (!Array.isArray(entry) || entry.length !== 2) throw invalidType('a [name, value] pair', label, entry);
    addPair(pairs, entry[0], `the name of ${label}`, entry[1], `the value of ${label}`);
    index++;
  }
  return pairs;
}

function addPair(pairs: string[], name: unknown, nameLabel: string, value: unknown, valueLabel: string): void {
  if (typeof name !== 'string' || !isToken(name)) throw invalidType('a header name (an RFC 7230 token)', nameLabel, name);
  if (RESERVED_HEADERS.has(name.toLowerCase())) throw invalidType('a header that lws does not set itself', nameLabel, name);
  if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw invalidType('a header value string without CR, LF or NUL', valueLabel, value);
  pairs.push(name, value);
}
