/**
 * connect() clients for tests: one whose incoming messages can be awaited
 * one at a time, one whose Courier can be awaited, one-shot echo and
 * greeting exchanges, and a helper that awaits a rejection.
 */
import { connect, type CloseResult, type ConnectOptions, type Courier } from '../../lib';

export type Message = string | Buffer;

export interface Client {
  /** The Courier, once on_ready ran; rejects if the connection ended before that. */
  ready: Promise<Courier>;
  /** connect()'s promise. */
  done: Promise<CloseResult>;
  /** The next message received (text as string, binary as Buffer). */
  next(): Promise<Message>;
}

export function startClient(url: string, options: Omit<ConnectOptions, 'url' | 'on_ready'> = {}): Client {
  const inbox: Message[] = [];
  const waiters: Array<{ resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  let ended: Error | undefined;
  let onReady!: (courier: Courier) => void;
  let notReady!: (error: Error) => void;
  const ready = new Promise<Courier>((resolve, reject) => {
    onReady = resolve;
    notReady = reject;
  });

  const receive = (_courier: Courier, message: Message) => {
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(message);
    else inbox.push(message);
  };
  const done = connect({
    ...options,
    url,
    on_ready(courier) {
      courier.on_text(receive);
      courier.on_binary(receive);
      onReady(courier);
    },
  });

  // Whoever awaits a message or the Courier hears that the connection is
  // over instead of hanging; the rejection itself stays on `done`.
  const end = (outcome: string) => {
    ended = new Error(`the connection ended (${outcome}) with no further message`);
    notReady(ended);
    for (const waiter of waiters.splice(0)) waiter.reject(ended);
  };
  done.then(
    (result) => end(JSON.stringify(result)),
    (error: unknown) => end(String(error)),
  );
  ready.catch(() => undefined);

  return {
    ready,
    done,
    next() {
      const message = inbox.shift();
      if (message !== undefined) return Promise.resolve(message);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
  };
}

/** The error connect()'s promise rejected with; throws if it resolved. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, but it resolved with ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}


/**
 * connect() whose on_ready runs `setup` and hands the Courier out; `ready`
 * rejects if the connection ends before on_ready ran.
 */
export function openClient(
  url: string,
  options: Omit<ConnectOptions, 'url' | 'on_ready'> = {},
  setup: (courier: Courier) => void = () => {},
): { ready: Promise<Courier>; done: Promise<CloseResult> } {
  let onReady!: (courier: Courier) => void;
  const ready = new Promise<Courier>((resolve) => (onReady = resolve));
  const done = connect({
    ...options,
    url,
    on_ready(courier) {
      setup(courier);
      onReady(courier);
    },
  });
  done.catch(() => undefined);
  return { ready: Promise.race([ready, done.then(() => Promise.reject(new Error('closed before on_ready')))]), done };
}

/** Sends one message, awaits its echo, closes with 1000 'echoed'. */
export async function echoOnce(url: string, message: string | Uint8Array): Promise<{ reply: Message; result: CloseResult }> {
  const client = startClient(url);
  const courier = await client.ready;
  if (typeof message === 'string') courier.send_text(message);
  else courier.send_binary(message);
  const reply = await client.next();
  courier.close(1000, 'echoed');
  return { reply, result: await client.done };
}

/** Connects, takes the server's first message, closes with 1000. */
export async function greeting(url: string, options: Omit<ConnectOptions, 'url' | 'on_ready'> = {}): Promise<string> {
  let first = '';
  const result = await connect({
    ...options,
    url,
    on_ready: (courier) =>
      courier.on_text((c, text) => {
        first = text;
        void c.close(1000);
      }),
  });
  expect(result).toEqual([1000, '']);
  return first;
}
