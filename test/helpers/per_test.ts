/**
 * What a test starts (servers, child processes, workers) lasts that test
 * only: each is registered as it starts and stopped, in reverse order, by
 * runCleanups(), which a test file hands to afterEach() (afterAll() for what
 * a whole suite shares). Jest loads this module once per test file, so
 * files do not share the list.
 */
import { Worker } from 'node:worker_threads';
import { startRawServer, type RawServer, type RawServerOptions } from './raw_server';
import { startRelay, type Relay } from './relay';
import { startNotFoundServer, startPythonServer, startWsServer, type NotFoundServer, type PythonServer, type WsServer } from './servers';
import { spawnNode, type NodeChild } from './tools';

const cleanups: Array<() => unknown> = [];

/** Runs `cleanup` after the current test. */
export function onCleanup(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** For afterEach(): undoes what the test started, last first. */
export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** Registers `started`'s close() and returns it. */
function closedAfterTest<T extends { close(): unknown }>(started: T): T {
  onCleanup(() => started.close());
  return started;
}

export async function wsServer(...args: Parameters<typeof startWsServer>): Promise<WsServer> {
  return closedAfterTest(await startWsServer(...args));
}

/** A server answering every upgrade 404. */
export async function notFoundServer(): Promise<NotFoundServer> {
  return closedAfterTest(await startNotFoundServer());
}

export async function pythonServer(mode: string): Promise<PythonServer> {
  return closedAfterTest(await startPythonServer(mode));
}

export async function rawServer(options?: RawServerOptions): Promise<RawServer> {
  return closedAfterTest(await startRawServer(options));
}

export async function relay(targetPort: number): Promise<Relay> {
  return closedAfterTest(await startRelay(targetPort));
}

/** `node -e script ...args`, with `nodeOptions` as NODE_OPTIONS. */
export function nodeChild(script: string, args: string[], nodeOptions: string[] = []): NodeChild {
  const child = spawnNode(script, args, nodeOptions.length ? { NODE_OPTIONS: nodeOptions.join(' ') } : {});
  onCleanup(() => child.kill());
  return child;
}

/** A worker thread running `script` (eval'd) with `workerData`. */
export function worker(script: string, workerData: unknown): Worker {
  const thread = new Worker(script, { eval: true, workerData });
  onCleanup(() => thread.terminate());
  return thread;
}
