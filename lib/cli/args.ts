/**
 * lwscat's command line, parsed with node:util's parseArgs into what the run
 * loop (lib/cli/lwscat.ts) needs. Only the command line's own syntax is
 * checked here, and the files it names are read; the values themselves (URL,
 * header names, subprotocol tokens, ping ranges, certificates) are left to
 * connect(), whose synchronous TypeError or RangeError lwscat reports as a
 * usage error naming the flag, so there is one set of rules.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ConnectOptions } from '../options';
import {
  LCCSCF_ALLOW_EXPIRED,
  LCCSCF_ALLOW_INSECURE,
  LCCSCF_ALLOW_SELFSIGNED,
  LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK,
} from '../constants';
import { COMMANDS_HELP } from './commands';

export const USAGE = `Usage: lwscat [options] <url>

Connects to a WebSocket server: <url> is ws://, wss:// or ws+unix:, and a
bare host:port[/path] means ws://host:port[/path]. Each line read from stdin
is sent as a text message; each message received is written to stdout, text
followed by a newline and binary as raw bytes. At the end of stdin the
connection is closed with 1000, once everything read has been sent.

Interactive mode (stdin is a terminal and not --binary, or -i) says
"connected" on stderr once the handshake is done, and reads lines starting
with "/" as commands; other lines are messages as ever:
${COMMANDS_HELP}

Options:
  -H, --header "Name: value"  add a header to the handshake request (repeatable)
  -s, --subprotocol <name>    offer a subprotocol (repeatable; in order of preference)
  -b, --binary                send stdin as binary messages, one per chunk read,
                              without splitting lines
      --no-compression        do not offer permessage-deflate
      --no-close              at the end of stdin keep the connection open
                              until the server closes it
  -i, --interactive           interactive mode even when stdin is not a terminal
      --ca <file>             trust the CA certificates in this PEM file instead
                              of the system's and Node's
      --cert <file>           present the client certificate in this PEM file
      --key <file>            the client certificate's unencrypted private key (PEM)
      --follow-redirects <n>  follow up to n redirects (0-20; default 0: a
                              redirect fails the connection)
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
    2  usage error: bad flags, no URL, a file that cannot be read, or a
       value connect() refuses
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
  /** -i: true; otherwise undefined, and interactive mode is on when stdin is a terminal. */
  interactive: true | undefined;
  /** Close with 1000 at the end of stdin (the default; --no-close turns it off). */
  closeOnEof: boolean;
  quiet: boolean;
  verbose: boolean;
  connect: CliConnectOptions;
  /**
   * The flag that set each connect() option, with the text given where the
   * option's value is not that text (a file's contents, a number):
   * connect()'s errors name the option, lwscat's name the flag.
   */
  setBy: Partial<Record<keyof CliConnectOptions, string>>;
}

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliOptions };

// --no-compression and --no-close are declared as options of their own, not
// through parseArgs' allowNegative, which Node 20 has only from 20.16.
const OPTIONS = {
  header: { type: 'string', short: 'H', multiple: true },
  subprotocol: { type: 'string', short: 's', multiple: true },
  binary: { type: 'boolean', short: 'b' },
  interactive: { type: 'boolean', short: 'i' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'follow-redirects': { type: 'string' },
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
  if (values.interactive && values.binary) throw new UsageError('--interactive and --binary cannot be used together: commands are lines of text');
  if ((values.cert === undefined) !== (values.key === undefined))
    throw new UsageError(`--cert and --key go together (a client certificate needs its key) but received only ${values.cert === undefined ? '--key' : '--cert'}`);

  const connect: CliConnectOptions = {};
  const setBy: CliOptions['setBy'] = {};
  if (values.header) {
    connect.headers = values.header.flatMap(splitHeader);
    setBy.headers = '--header';
  }
  if (values.subprotocol) {
    connect.subprotocols = values.subprotocol;
    setBy.subprotocols = '--subprotocol';
  }
  if (values['no-compression']) connect.compression = [];
  const tls = tlsFlags(values);
  if (tls) connect.tls = tls;
  for (const [flag, option] of [['ca', 'tls_ca'], ['cert', 'tls_cert'], ['key', 'tls_key']] as const) {
    const file = values[flag];
    if (file === undefined) continue;
    connect[option] = readFlagFile(`--${flag}`, file);
    setBy[option] = `--${flag} ${file}`;
  }
  for (const [flag, option] of [['ping-interval', 'ping_interval'], ['ping-timeout', 'ping_timeout'], ['follow-redirects', 'follow_redirects']] as const) {
    const text = values[flag];
    if (text === undefined) continue;
    connect[option] = wholeNumber(`--${flag}`, text);
    setBy[option] = `--${flag} ${text}`;
  }

  return {
    kind: 'run',
    options: {
      url: urlFromArgument(positionals[0] as string),
      binary: values.binary ?? false,
      interactive: values.interactive || undefined,
      closeOnEof: !values['no-close'],
      quiet: values.quiet ?? false,
      verbose: values.verbose ?? false,
      connect,
      setBy,
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
 * The number of --ping-interval, --ping-timeout (seconds) and
 * --follow-redirects. Only the syntax is checked: connect() checks the
 * range (1–65535 seconds, 0–20 redirects) and says so.
 */
function wholeNumber(flag: string, text: string): number {
  const unit = flag === '--follow-redirects' ? '' : ' of seconds';
  if (!/^[0-9]+$/.test(text)) throw new UsageError(`expected a whole number${unit} for ${flag} but received ${JSON.stringify(text)}`);
  return Number(text);
}

/** The contents of the file a flag names; what is in it is connect()'s to check. */
function readFlagFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read the ${flag} file ${JSON.stringify(file)}: ${(error as Error).message}`);
  }
}

// A host (a name or an IPv4 address, or an IPv6 address in brackets), a
// colon, and what should be a port, then perhaps a path and query.
const BARE_HOST_PORT = /^(\[[^\]]*\]|[^\s/?#:@[\]]+):([^/?#]*)(.*)$/s;

/**
 * The URL to connect to. A bare host:port (what curl and wscat accept
 * without a scheme) is taken as ws://host:port; anything with a scheme is
 * passed on as it is, for connect() to check.
 */
function urlFromArgument(argument: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(argument) || /^ws\+unix:/i.test(argument)) return argument;
  const bare = BARE_HOST_PORT.exec(argument);
  if (!bare) return argument;
  const port = bare[2] as string;
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    throw new UsageError(`expected host:port with a port from 1 to 65535 for the URL but received ${JSON.stringify(argument)}`);
  return `ws://${argument}`;
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
