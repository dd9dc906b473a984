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

main().then(
  () => process.exit(0),
  (error) => {
    process.stdout.write(`@@error ${JSON.stringify(String(error?.stack ?? error))}\n`);
    process.exit(1);
  },
);
