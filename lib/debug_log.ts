/**
 * NODE_DEBUG=libwebsockets, Node's util.debuglog convention: lws's log lines
 * for connections made without a `logger` are written through
 * util.debuglog('libwebsockets'), as `LIBWEBSOCKETS <pid>: <line>`.
 * Otherwise lws says nothing on stderr unless set_log_level() asks.
 */
import { debuglog } from 'node:util';
import { LLL_ERR, LLL_NOTICE, LLL_USER, LLL_WARN } from './constants';
import { Logger } from './logger';

const debug = debuglog('libwebsockets');

// One per environment (each worker loads this module anew), made on first use.
let logger: Logger | undefined;

/** The Logger for a connection without one of its own: undefined unless NODE_DEBUG names libwebsockets. */
export function debugLogger(): Logger | undefined {
  if (!debug.enabled) return undefined;
  // Every level the pinned lws is built with (a Release build keeps these).
  logger ??= new Logger({ level: LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER, callback: (_level, line) => debug('%s', line) });
  return logger;
}
