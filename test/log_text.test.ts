/**
 * lws's log lines quote what a server sent (here its Upgrade header:
 * "got bad Upgrade header '…'"). Neither on stderr nor through a Logger may
 * a server's control bytes arrive as they came: a terminal would obey them
 * (recolour, retitle, clear). They arrive as \xNN, printable UTF-8 intact.
 */
import { connect, ConnectionFailed, Logger, LLL_WARN } from '../lib';
import { rejectionOf } from './helpers/client';
import { nodeChild, rawServer, runCleanups } from './helpers/per_test';
import { acceptFor, type UpgradeRequest } from './helpers/raw_server';
import { turnsUntil } from './helpers/turns';

afterEach(runCleanups);

// An Upgrade header lws refuses and quotes in a LLL_WARN line: SGR red, BEL,
// an OSC title sequence, DEL, CSI as a C1 control (U+009B, C2 9B in UTF-8),
// a byte that is not UTF-8 (0xff) and a printable non-ASCII letter (é).
const HOSTILE_UPGRADE = Buffer.concat([
  Buffer.from('\x1b[31mred\x07\x1b]0;title\x07\x7f', 'latin1'),
  Buffer.from('\u009b2j', 'utf8'),
  Buffer.from([0xff]),
  Buffer.from('caf\u00e9', 'utf8'),
]);
const ESCAPED_UPGRADE = String.raw`\x1b[31mred\x07\x1b]0;title\x07\x7f\xc2\x9b2j\xffcafé`;

function hostileResponse(request: UpgradeRequest): Buffer {
  return Buffer.concat([
    Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: '),
    HOSTILE_UPGRADE,
    Buffer.from(`\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(request.key)}\r\n\r\n`),
  ]);
}

/** Control characters a terminal may act on: C0 but newline, DEL, C1. */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]/u;

test("a server's control bytes in a line lws logs reach stderr escaped as \\xNN", async () => {
  const server = await rawServer({ respond: hostileResponse });
  // lws is quiet unless asked (logging.test.ts).
  const script = `
    const { connect, set_log_level, LLL_WARN } = require(process.env.LWS_DIST);
    set_log_level(LLL_WARN);
    connect({ url: process.argv[1], on_ready() {} }).then(
      () => console.log('opened'),
      (error) => console.log('failed ' + error.phase),
    );
  `;
  const child = nodeChild(script, [server.url]);
  const { code } = await child.exited;

  expect(code).toBe(0);
  expect(child.lines).toEqual(['failed handshake']);
  const stderr = child.stderr();
  expect(stderr).toContain(`got bad Upgrade header '${ESCAPED_UPGRADE}'`);
  expect(stderr).not.toMatch(CONTROL);
  expect(stderr).not.toContain('\ufffd');
});

test("a server's control bytes in a line lws logs reach a Logger callback escaped as \\xNN", async () => {
  const server = await rawServer({ respond: hostileResponse });
  const lines: string[] = [];
  const logger = new Logger({ level: LLL_WARN, callback: (_level, message) => lines.push(message) });

  const error = await rejectionOf(connect({ url: server.url, on_ready: () => {}, logger }));

  expect(error).toBeInstanceOf(ConnectionFailed);
  const quoted = (line: string) => line.includes('got bad Upgrade header');
  await turnsUntil(() => lines.some(quoted), 100, `the Logger hearing of the Upgrade header (got ${JSON.stringify(lines)})`);
  expect(lines.find(quoted)).toContain(`got bad Upgrade header '${ESCAPED_UPGRADE}'`);
  for (const line of lines) expect(line).not.toMatch(CONTROL);
});
