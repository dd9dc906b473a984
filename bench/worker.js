'use strict';
// One measurement: runs one scenario with one client in this process, then
// prints one line `@@result {json}` (or `@@skipped "why"` when the client
// cannot run the scenario, or `@@error "message"`) on stdout and exits.
// Only workers load the client libraries, never run.js. run.js starts a fresh worker per measurement, so no client's JIT
// state, heap or leftover sockets can affect another measurement.
//
// Usage (by run.js): node --expose-gc worker.js '<job json>'
const { byName } = require('./scenarios');
const { createMeter } = require('./meter');

async function main() {
  const job = JSON.parse(process.argv[2]);
  warmOptimizingCompiler();
  const client = require(`./clients/${job.client}`);
  const scenario = byName[job.scenario];
  if (scenario.deflate && !client.supports.deflate) {
    process.stdout.write(`@@skipped ${JSON.stringify(client.supports.why)}\n`);
    return;
  }
  const options = { ...job.options, url: (path) => `${job.baseUrl}${path}` };
  const outcome = await scenario.run(client, options, createMeter(job));
  const result = {
    metrics: outcome.metrics,
    serverCpuShare: outcome.window.serverCpuShare,
    clientCpuShare: outcome.window.clientCpuSeconds / outcome.window.seconds,
    notes: outcome.notes ?? [],
    // After the run: the adapters' optional helpers are loaded by now.
    client: client.describe(),
  };
  process.stdout.write(`@@result ${JSON.stringify(result)}\n`);
}

/**
 * Runs a little code of no client's hot enough for V8's optimising compiler,
 * before any client is loaded. The compiler's own machine code (about 4 MB
 * of node's binary) is read in the first time it runs, once per process: a
 * client whose loading did not happen to run it had those pages charged to
 * the connections of the scale scenario (3.8 KiB of a connection's RSS at
 * 1,000), a client whose loading did had them in its "before" reading.
 */
function warmOptimizingCompiler() {
  const sum = (record) => record.count + record.name.length + (record.flag ? 1 : 0);
  const split = (text) => text.split(',').map((part) => part.trim()).filter(Boolean).join('|');
  let total = 0;
  for (let index = 0; index < 200_000; index++) {
    total += sum({ count: index, name: `n${index & 7}`, flag: index & 1 });
    if ((index & 63) === 0) total += split(`a, b,${index}, c`).length;
  }
  return total;
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stdout.write(`@@error ${JSON.stringify(String(error?.stack ?? error))}\n`);
    process.exit(1);
  },
);
