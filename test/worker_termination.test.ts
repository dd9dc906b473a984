/**
 * Worker threads ended at random moments with connections opening,
 * echoing and closing: worker.terminate() from the main thread, and
 * process.exit() inside on_ready or an on_text listener. A terminating
 * environment makes Node-API calls fail; a C++ exception from one that
 * escaped through lws's or libuv's C frames ended in std::terminate, which
 * aborted the whole process, main thread and all (the issue: "C++
 * exceptions escaping from libuv or lws callbacks abort Node").
 *
 * The scenario is tools/worker-churn.js (an echo server and 100 workers,
 * 10 at a time, in the main thread of a child process), so that an abort
 * shows as the child's signal rather than a dead test runner. The child
 * checks each worker's exit code and that its own connection, open all
 * along, still echoes at the end.
 */
import path from 'node:path';
import { nodeChild, runCleanups } from './helpers/per_test';

afterEach(runCleanups);

const CHURN = path.resolve(__dirname, '..', 'tools', 'worker-churn.js');

const RUN_CHURN = `
  const { churn } = require(process.argv[1]);
  churn({ workers: Number(process.argv[2]), batch: Number(process.argv[3]) }).then(
    ({ ok, summary }) => {
      console.log(JSON.stringify({ ok, ...summary }));
      process.exitCode = ok ? 0 : 1;
    },
    (error) => {
      console.log('error ' + (error && error.stack));
      process.exitCode = 1;
    },
  );
`;

test('100 workers terminated or exiting at random moments: the process survives, every worker exits with its code', async () => {
  const child = nodeChild(RUN_CHURN, [CHURN, '100', '10']);
  const { code, signal } = await child.exited;

  const summary = child.lines.find((line) => line.startsWith('{'));
  // stderr is not required to be empty: lws logs the connections it fails
  // (see tools/worker-churn.js), which are simply opened again.
  expect({ code, signal, lines: child.lines.filter((line) => !line.startsWith('{')) }).toEqual({ code: 0, signal: null, lines: [] });
  expect(child.stderr()).not.toMatch(/terminate called|Napi::Error|Aborted|Segmentation|FATAL|Assertion|core dumped/i);
  expect(JSON.parse(summary ?? '{}')).toMatchObject({ ok: true, workers: 100, bad: 0, echoed: 'main thread still here', closed: [1000, 'main done'] });
}, 300_000);
