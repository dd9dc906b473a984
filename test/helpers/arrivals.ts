/**
 * What arrives during a test (a test server's connections, a client's
 * messages), handed to the test in order.
 */
export interface Arrivals<T> {
  /** Everything that came, taken or not. */
  readonly all: readonly T[];
  /** One more came: to the oldest next() waiting, or kept for the next one. */
  add(item: T): void;
  /** The oldest not yet taken: at once if it has come, else when it comes. */
  next(): Promise<T>;
}

export function arrivals<T>(): Arrivals<T> {
  const all: T[] = [];
  const waiters: Array<(item: T) => void> = [];
  let taken = 0;
  return {
    all,
    add(item) {
      all.push(item);
      const waiter = waiters.shift();
      if (waiter) {
        taken++;
        waiter(item);
      }
    },
    next() {
      if (taken < all.length) return Promise.resolve(all[taken++] as T);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
