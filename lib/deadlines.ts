/**
 * Deadlines that almost always end cancelled (connect_timeout: the
 * handshake completes long before it), kept under one Node timer per
 * distinct duration instead of one setTimeout each.
 *
 * Why: a Timeout is a dozen fields, an async id and a list insert, and
 * clearTimeout another walk through timers' code; while that code is still
 * cold, setting and clearing one cost about 3% of the time to open 1,000
 * connections (perf, bench scale scenario). Deadlines of one duration fall
 * due in the order they were set, so appending keeps each list sorted, and
 * cancelling unlinks in O(1).
 */

/** A deadline that has been set; cancel() is safe to call more than once. */
export interface Deadline {
  cancel(): void;
}

/** Calls `onExpiry` once, `durationMs` from now, unless cancelled first. */
export function setDeadline(durationMs: number, onExpiry: () => void): Deadline {
  let list = lists.get(durationMs);
  if (!list) {
    list = new DeadlineList(durationMs);
    lists.set(durationMs, list);
  }
  return list.add(onExpiry);
}

// One per distinct duration: connect_timeout takes whole seconds up to an
// hour, and a program uses a few.
const lists = new Map<number, DeadlineList>();

class Entry implements Deadline {
  previous: Entry | undefined = undefined;
  next: Entry | undefined = undefined;
  linked = true;

  constructor(
    readonly list: DeadlineList,
    readonly dueAt: number,
    readonly onExpiry: () => void,
  ) {}

  cancel(): void {
    this.list.unlink(this);
  }
}

class DeadlineList {
  #head: Entry | undefined = undefined;
  #tail: Entry | undefined = undefined;
  /** Armed for the head's due time while the list has entries. */
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(readonly durationMs: number) {}

  add(onExpiry: () => void): Entry {
    const entry = new Entry(this, performance.now() + this.durationMs, onExpiry);
    if (this.#tail) {
      this.#tail.next = entry;
      entry.previous = this.#tail;
    } else {
      this.#head = entry;
      this.#arm(this.durationMs);
    }
    this.#tail = entry;
    return entry;
  }

  unlink(entry: Entry): void {
    if (!entry.linked) return;
    entry.linked = false;
    if (entry.previous) entry.previous.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.previous = entry.previous;
    else this.#tail = entry.previous;
    entry.previous = entry.next = undefined;
    // An empty list holds no timer, which would keep the process alive.
    if (!this.#head) this.#disarm();
  }

  /**
   * Expires what is due, then waits for the next head. The timer runs on
   * the loop's cached clock and may fire a little before a deadline's
   * due time by performance.now(): that deadline simply waits for the rest.
   */
  #expire(): void {
    this.#timer = undefined;
    try {
      let head = this.#head;
      while (head && head.dueAt <= performance.now()) {
        this.unlink(head);
        head.onExpiry();
        head = this.#head;
      }
    } finally {
      // onExpiry may have set a deadline, which armed for a full duration,
      // or thrown: either way the list waits for its head again.
      this.#disarm();
      if (this.#head) this.#arm(this.#head.dueAt - performance.now());
    }
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(delayMs)));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
