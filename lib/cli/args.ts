/**
 * lwscat's command line, parsed with node:util's parseArgs into what the run
 * loop (lib/cli/lwscat.ts) needs. Only the command line's own syntax is
 * checked here; the values themselves (URL, header names, subprotocol
 * tokens, ping ranges) are left to connect(), whose synchronous TypeError or
 * RangeError lwscat reports as a usage error, so there is one set of rules.
 */
import { parseArgs } from 'node:util';
import type { ConnectOptions } from '../options';
import {
  LCCSCF_ALLOW_EXPIRED,
  LCCSCF_ALLOW_INSECURE,
  LCCSCF_ALLOW_SELFSIGNED,
  LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK,
} from '../constants';

export const USAGE = `Usage: lwscat [options] <url>

Connects to a WebSocket server (ws:// or wss://). Each line read from stdin
is sent as a text message; each message received is written to stdout, text
followed by a newline and binary as raw bytes. At the end of stdin the
connection is closed with 1000, once everything read has been sent.

Options:
  -H, --header "Name: value"  add a header to the handshake request (repeatable)
  -s, --subprotocol <name>    offer a subprotocol (repeatable; in order of preference)
  -b, --binary                send stdin as binary messages, one per chunk read,
                              without splitting lines
      --no-compression        do not offer permessage-deflate
      --no-close              at the end of stdin keep the connection open
                              until the server closes it
      --insecure              accept any server certificate: the three below,
                              plus one from an untrusted issuer
      --allow-self-signed     accept a self-signed certificate
      --skip-hostname-check   accept a certificate for another host name
      --allow-expired         accept an expired certificate
      --ping-interval <s>     seconds of silence before a ping is sent (default 30)
      --ping-timeout <s>      seconds without traffic before the connection
                              is dropped (default 299)
  -q, --quiet                 print nothing on stderr but usage errors
  -v, --verbose               also print the negotiated subprotocol and extensions,
                              the close code, and lws's own warnings on stderr
  -h, --help                  print this help and exit
      --version               print the version and exit

Exit status:
    0  the connection closed with 1000 or 1005 (no status)
    1  the connection closed with another code (printed with its reason)
    2  usage error: bad flags, no URL, or a value connect() refuses
    3  the connection failed or dropped without a closing handshake
  130  interrupted: a second Ctrl-C, or one before the handshake completes
       (the first Ctrl-C on an open connection closes it with 1000)
`;

/** A command line that cannot be run: printed with a hint, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The connect() options the command line sets: all but url and on_ready. */
export type CliConnectOptions = Omit<ConnectOptions, 'url' | 'on_ready'>;

export interface CliOptions {
  url: string;
  /** Send stdin as binary chunks rather than text lines. */
  binary: boolean;
  /** Close with 1000 at the end of stdin (the default; --no-close turns it off). */
  closeOnEof: boolean;
  quiet: boolean;
  verbose: boolean;
  connect: CliConnectOptions;
}

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliOptions };

// --no-compression and --no-close are declared as options of their own, not
// through parseArgs' allowNegative, which Node 20 has only from 20.16.
const OPTIONS = {
  header: { type: 'string', short: 'H', multiple: true },
  subprotocol: { type: 'string', short: 's', multiple: true },
  binary: { type: 'boolean', short: 'b' },
  'no-compression': { type: 'boolean' },
  'no-close': { type: 'boolean' },
  insecure: { type: 'boolean' },
  'allow-self-signed': { type: 'boolean' },
  'skip-hostname-check': { type: 'boolean' },
  'allow-expired': { type: 'boolean' },
  'ping-interval': { type: 'string' },
  'ping-timeout': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** Parses lwscat's arguments (without node and the script); throws UsageError. */
export function parseCliArgs(argv: readonly string[]): Command {
  const { values, positionals } = parseSyntax(argv);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  if (positionals.length === 0) throw new UsageError('missing the URL to connect to');
  if (positionals.length > 1) throw new UsageError(`expected one URL but received ${positionals.length} arguments: ${positionals.join(' ')}`);
  if (values.quiet && values.verbose) throw new UsageError('--quiet and --verbose cannot be used together');

  const connect: CliConnectOptions = {};
  if (values.header) connect.headers = values.header.flatMap(splitHeader);
  if (values.subprotocol) connect.subprotocols = values.subprotocol;
  if (values['no-compression']) connect.compression = [];
  const tls = tlsFlags(values);
  if (tls) connect.tls = tls;
  if (values['ping-interval'] !== undefined) connect.ping_interval = seconds('--ping-interval', values['ping-interval']);
  if (values['ping-timeout'] !== undefined) connect.ping_timeout = seconds('--ping-timeout', values['ping-timeout']);

  return {
    kind: 'run',
    options: {
      url: positionals[0] as string,
      binary: values.binary ?? false,
      closeOnEof: !values['no-close'],
      quiet: values.quiet ?? false,
      verbose: values.verbose ?? false,
      connect,
    },
  };
}

function parseSyntax(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs reports bad command lines as TypeErrors with ERR_PARSE_ARGS_* codes.
    if (error instanceof TypeError && String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message);
    }
    throw error;
  }
}

/** "Name: value" → [name, value], as curl's -H; the value may be empty. */
function splitHeader(header: string): [string, string] {
  const colon = header.indexOf(':');
  if (colon < 0) throw new UsageError(`expected "Name: value" for --header but received ${JSON.stringify(header)}`);
  // Whitespace around the value is not part of it (RFC 7230 3.2's OWS);
  // the name is passed as given, so connect() refuses one with spaces.
  return [header.slice(0, colon), header.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')];
}

/**
 * Whole seconds for --ping-interval and --ping-timeout. Only the syntax is
 * checked: connect() checks the range (1–65535) and says so.
 */
function seconds(flag: string, text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`expected a whole number of seconds for ${flag} but received ${JSON.stringify(text)}`);
  return Number(text);
}

function tlsFlags(values: {
  insecure?: boolean;
  'allow-self-signed'?: boolean;
  'skip-hostname-check'?: boolean;
  'allow-expired'?: boolean;
}): number {
  let flags = 0;
  if (values.insecure)
    flags |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
  if (values['allow-self-signed']) flags |= LCCSCF_ALLOW_SELFSIGNED;
  if (values['skip-hostname-check']) flags |= LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
  if (values['allow-expired']) flags |= LCCSCF_ALLOW_EXPIRED;
  return flags;
}
