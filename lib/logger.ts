/**
 * Logger: lws's contextual logging (lws 4.3 log contexts), as Perl's
 * Net::Libwebsockets::Logger. Lines that lws logs for a connection made
 * with `logger` go to `callback(level, message)` instead of stderr.
 */
import { native, type NativeLogger } from './native';
import { describe, invalidType, logLevelMask } from './validation';

export interface LoggerOptions {
  /** LLL_* levels to receive, OR'd together (default LLL_ERR | LLL_WARN). */
  level?: number;
  /** Receives each line: its LLL_* level and the text, without a newline. */
  callback: (level: number, message: string) => void;
}

export class Logger {
  /** @internal The native log context handed to connections. */
  readonly native: NativeLogger;
  readonly level: number;

  constructor(options: LoggerOptions) {
    if (typeof options !== 'object' || options === null) throw invalidType('an options object', 'new Logger()', options);
    const unknown = Object.keys(options).filter((key) => key !== 'level' && key !== 'callback');
    if (unknown.length) throw new TypeError(`Unknown: ${unknown.join(', ')}`);
    const { callback } = options;
    if (typeof callback !== 'function') throw invalidType('a function', 'Logger callback', callback);
    this.level =
      options.level === undefined ? native.constants.LLL_ERR | native.constants.LLL_WARN : logLevelMask(options.level, 'Logger level');
    this.native = new native.Logger(this.level, (level, message) => {
      // A throwing callback must not disturb the connection being logged.
      try {
        callback(level, message);
      } catch (error) {
        process.emitWarning(`Logger callback threw: ${error instanceof Error ? (error.stack ?? error.message) : describe(error)}`, {
          code: 'LWS_LISTENER_ERROR',
        });
      }
    });
  }
}
