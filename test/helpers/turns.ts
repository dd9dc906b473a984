/**
 * Waiting on the event loop by counting its turns instead of sleeping: one
 * turn is one `setImmediate`, i.e. one pass of libuv's loop, in which every
 * ready socket (lws's included, and the `ws` server's) gets serviced once.
 * A bound in turns fails a test quickly and does not depend on machine speed
 * the way a timeout in milliseconds does.
 */

/** One pass of the event loop. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** `count` passes of the event loop. */
export async function turns(count: number): Promise<void> {
  for (let index = 0; index < count; index++) await turn();
}

/**
 * Resolves with the number of turns it took for `condition` to hold (0 if
 * it already does); rejects with `what` once `maxTurns` passed without it.
 */
export async function turnsUntil(condition: () => boolean, maxTurns: number, what: string): Promise<number> {
  for (let count = 0; count <= maxTurns; count++) {
    if (condition()) return count;
    await turn();
  }
  throw new Error(`${what}: not within ${maxTurns} event-loop turns`);
}
