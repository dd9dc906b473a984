/**
 * lib/deadlines.ts: connect_timeout's deadlines, many under one Node timer.
 * Durations are short real times; every test waits on the deadlines' own
 * callbacks, never on a sleep.
 */
import { performance } from 'node:perf_hooks';
import { setDeadline } from '../lib/deadlines';
import { nodeChild, runCleanups } from './helpers/per_test';

afterEach(runCleanups);

/** Resolves with the time it fires, for a deadline of `durationMs`. */
function expiry(durationMs: number): { fired: Promise<number>; cancel(): void } {
  let fire!: (at: number) => void;
  const fired = new Promise<number>((resolve) => (fire = resolve));
  const deadline = setDeadline(durationMs, () => fire(performance.now()));
  return { fired, cancel: () => deadline.cancel() };
}

test('a deadline fires once, no earlier than its duration', async () => {
  const setAt = performance.now();
  let calls = 0;
  const fired = new Promise<number>((resolve) =>
    setDeadline(40, () => {
      calls++;
      resolve(performance.now());
    }),
  );

  expect((await fired) - setAt).toBeGreaterThanOrEqual(40);
  // A later one of the same duration fires after it, and the first is not called again.
  await expiry(40).fired;
  expect(calls).toBe(1);
});

test('cancelling the first of a list: the next still fires at its own time, and the cancelled one never does', async () => {
  let cancelledFired = false;
  const first = setDeadline(60, () => (cancelledFired = true));
  // The list's timer is armed for the first; the second, due 20 ms after
  // it, is set and the first cancelled before that timer fires.
  const second = await new Promise<{ setAt: number; fired: Promise<number> }>((resolve) =>
    setDeadline(20, () => {
      const setAt = performance.now();
      resolve({ setAt, fired: expiry(60).fired });
      first.cancel();
      first.cancel();
    }),
  );

  expect((await second.fired) - second.setAt).toBeGreaterThanOrEqual(60);
  expect(cancelledFired).toBe(false);
});

test('durations are kept apart: a shorter deadline set later fires first', async () => {
  const order: string[] = [];
  const long = expiry(80);
  const short = expiry(20);
  void long.fired.then(() => order.push('long'));
  void short.fired.then(() => order.push('short'));

  await Promise.all([long.fired, short.fired]);
  expect(order).toEqual(['short', 'long']);
});

test('a deadline set while another expires fires after its own full duration', async () => {
  const chained = new Promise<number>((resolve) => {
    setDeadline(30, () => {
      const setAt = performance.now();
      setDeadline(30, () => resolve(performance.now() - setAt));
    });
  });

  expect(await chained).toBeGreaterThanOrEqual(30);
});

test('a deadline whose callback throws does not stop the ones after it (child process)', async () => {
  const child = nodeChild(
    `const { setDeadline } = require(process.env.LWS_DIST + '/deadlines');
     process.on('uncaughtException', (error) => console.log('uncaught ' + error.message));
     setDeadline(30, () => { throw new Error('first'); });
     // Due later than the first, so still waiting when the first throws.
     setTimeout(() => setDeadline(30, () => console.log('second fired')), 10);`,
    [],
  );

  const { code, signal } = await child.exited;
  expect({ code, signal, stderr: child.stderr(), lines: child.lines }).toEqual({ code: 0, signal: null, stderr: '', lines: ['uncaught first', 'second fired'] });
});

test('cancelled deadlines leave no timer behind: the process exits at once, not an hour later', async () => {
  const child = nodeChild(
    `const { setDeadline } = require(process.env.LWS_DIST + '/deadlines');
     const deadlines = [setDeadline(3600000, () => console.log('fired')), setDeadline(3600000, () => console.log('fired'))];
     for (const deadline of deadlines) deadline.cancel();
     console.log('cancelled');`,
    [],
  );

  const { code, signal } = await child.exited;
  expect({ code, signal, stderr: child.stderr(), lines: child.lines }).toEqual({ code: 0, signal: null, stderr: '', lines: ['cancelled'] });
});
