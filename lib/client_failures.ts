/**
 * Which WebSocketClose errors are closes this side made to fail the
 * connection: lws found the server breaking the protocol (a masked frame,
 * invalid UTF-8, a message over max_message_size) and sent its close code
 * without waiting for the answer. connect() reports them as any other close
 * (API.md); the WebSocket class reports them as the spec's failed
 * connection: `error`, then `close` with 1006 and wasClean false. Kept out
 * of lib/errors.ts, whose every export is the public `X` namespace.
 */
import { WebSocketClose } from './errors';

const failedByClient = new WeakSet<WebSocketClose>();

/** @internal Marks `error` as a close this side made to fail the connection. */
export function markFailedByClient(error: WebSocketClose): WebSocketClose {
  failedByClient.add(error);
  return error;
}

/** @internal Whether `error` is a close this side made to fail the connection. */
export function isFailedByClient(error: unknown): boolean {
  return error instanceof WebSocketClose && failedByClient.has(error);
}
