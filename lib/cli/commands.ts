/**
 * lwscat's interactive commands. In interactive mode a line that starts with
 * '/' is a command, as wscat's `--slash` mode has them (/ping, /close) and as
 * IRC clients do; every other line is a message, and '//' at the start of a
 * line sends the rest of it, so a message may still start with '/'.
 *
 * Only the shape of a command is checked here. What its values may be (a
 * close code, a ping's size) is the Courier's to say, as connect() says it
 * for the command line's flags: one set of rules.
 */

export type Line =
  | { kind: 'message'; text: string }
  | { kind: 'ping'; payload: string }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'help' }
  /** Not a command lwscat knows, or one with a malformed argument: nothing is sent. */
  | { kind: 'invalid'; problem: string };

/** The commands as `lwscat --help` and /help list them. */
export const COMMANDS_HELP = `  /ping [text]            send a ping carrying text (UTF-8, at most 125 bytes)
  /close [code [reason]]  close with code (default 1000) and reason
  /help                   list these commands
  //text                  send the message "/text" (a line starting with "//"
                          is sent without its first "/")`;

/** The close code of a bare /close: the same as at the end of input. */
const DEFAULT_CLOSE_CODE = 1000;

/** What one line read in interactive mode asks for. */
export function parseLine(line: string): Line {
  if (!line.startsWith('/')) return { kind: 'message', text: line };
  if (line.startsWith('//')) return { kind: 'message', text: line.slice(1) };
  // The name runs to the first whitespace; the argument is the rest, as typed
  // but for the whitespace that separates it.
  const space = line.search(/\s/);
  const name = space < 0 ? line.slice(1) : line.slice(1, space);
  const argument = space < 0 ? '' : line.slice(space).replace(/^\s+/, '');
  switch (name) {
    case 'ping':
      return { kind: 'ping', payload: argument };
    case 'close':
      return parseClose(argument);
    case 'help':
      return argument ? { kind: 'invalid', problem: `/help takes no argument but received ${JSON.stringify(argument)}` } : { kind: 'help' };
    default:
      return {
        kind: 'invalid',
        problem: `unknown command ${JSON.stringify(`/${name}`)} (/help lists the commands; a line starting with "//" sends a message starting with "/")`,
      };
  }
}

/** "[code [reason]]": the reason is everything after the code, spaces included. */
function parseClose(argument: string): Line {
  if (!argument) return { kind: 'close', code: DEFAULT_CLOSE_CODE, reason: '' };
  const space = argument.search(/\s/);
  const code = space < 0 ? argument : argument.slice(0, space);
  const reason = space < 0 ? '' : argument.slice(space).replace(/^\s+/, '');
  if (!/^[0-9]+$/.test(code)) return { kind: 'invalid', problem: `expected a close code (a whole number) for /close but received ${JSON.stringify(code)}` };
  return { kind: 'close', code: Number(code), reason };
}
