#!/usr/bin/env node
'use strict';
// The benchmark harness (npm run bench): starts the Go echo server on one
// core, then runs every (scenario, client) measurement in a fresh worker
// process on the other core, interleaved: each repetition runs every
// scenario once per client, so that a slow patch of the machine (other
// processes, thermal limits) hits all clients alike rather than one.
// Prints progress on stderr and the markdown report on stdout.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { parseOptions } = require('./options');
const { ensureBuilt, startServer } = require('./server');
const { byName } = require('./scenarios');
const { clockTicks, pinPrefix, canPin, fdPrefix } = require('./proc');
const { markdownReport, format, metricLabel } = require('./report');

const SERVER_CORE = 1;
const CLIENT_CORE = 0;
const WORKER = path.join(__dirname, 'worker.js');

async function main() {
  const options = parseOptions(process.argv.slice(2));
  checkPrerequisites(options);
  ensureBuilt();
  const pinned = options.pin && canPin();
  // Each side needs a descriptor per connection in the scale scenario.
  const fds = fdPrefix(options.scale + 256);
  const server = await startServer([...fds, ...(pinned ? pinPrefix(SERVER_CORE) : [])], { coalesce: options.coalesce });
  const base = {
    baseUrl: `ws://127.0.0.1:${server.port}`,
    serverPid: server.pid,
    clockTicks: clockTicks(),
    options: {
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      scale: options.scale,
      scaleWarmup: options.scaleWarmup,
      rate: options.rate,
    },
  };
  const workerPrefix = [...fds, ...(pinned ? pinPrefix(CLIENT_CORE) : [])];

  const plan = makePlan(options);
  const runs = [];
  const started = Date.now();
  for (const [index, job] of plan.entries()) {
    const tag = `[${index + 1}/${plan.length}] rep ${job.rep + 1} ${job.scenario} ${job.client}`;
    if (!server.alive()) throw new Error('the echo server has exited; stopping');
    const outcome = await measure(workerPrefix, { ...base, ...job }, options.ours);
    runs.push({ ...job, ...outcome });
    if (outcome.skipped) continue;
    console.error(`${tag}: ${outcome.result ? summaryLine(job.scenario, outcome.result, options) : `FAILED: ${outcome.error}`}`);
  }
  server.stop();

  const environment = describeEnvironment(options, pinned, runs);
  console.log(`${environment.join('\n')}\n\n${markdownReport(runs, options)}`);
  console.error(`total ${((Date.now() - started) / 1e3).toFixed(0)} s`);
  if (options.json) {
    fs.writeFileSync(options.json, JSON.stringify({ environment, options, runs }, null, 2));
    console.error(`wrote ${options.json}`);
  }
}

/** Stops early, with what to do, when something the run needs is missing. */
function checkPrerequisites(options) {
  const missing = [];
  const oursRoot = options.ours ?? path.join(__dirname, '..');
  if (options.clients.includes('ours') && !fs.existsSync(path.join(oursRoot, 'dist', 'index.js')))
    missing.push(`${path.join(oursRoot, 'dist')} (run 'npm run build' there)`);
  const needs = { ws: ['ws', 'bufferutil'], undici: ['undici'] };
  for (const client of options.clients)
    for (const module of needs[client] ?? [])
      try {
        require.resolve(module);
      } catch {
        missing.push(`the npm package ${module} (run 'npm install')`);
      }
  if (missing.length) {
    console.error(`bench: missing ${missing.join(', ')}`);
    process.exit(1);
  }
}

/**
 * Every repetition runs every scenario with every client. The clients'
 * order rotates from one repetition to the next, so none is always first
 * (or always right after the same other one).
 */
function makePlan({ reps, scenarios, clients }) {
  const plan = [];
  for (let rep = 0; rep < reps; rep++)
    for (const scenario of scenarios)
      for (let index = 0; index < clients.length; index++)
        plan.push({ rep, scenario, client: clients[(index + rep) % clients.length] });
  return plan;
}

/**
 * Runs one measurement in its own worker and resolves { result },
 * { skipped: why } or { error, stderr }. A worker that outlives its time
 * limit is killed, so a client that hangs is reported and the run goes on.
 */
function measure(prefix, job, oursRoot) {
  const { options } = job;
  const limitMs =
    job.scenario === 'scale' ? 60_000 + (options.scale + options.scaleWarmup) * 10 : options.warmupMs + options.durationMs + 30_000;
  const argv = [...prefix, process.execPath, '--expose-gc', WORKER, JSON.stringify(job)];
  return new Promise((resolve) => {
    const env = oursRoot ? { ...process.env, BENCH_OURS_ROOT: oursRoot } : process.env;
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = (prefix) => stdout.split('\n').find((text) => text.startsWith(prefix))?.slice(prefix.length);
      const skipped = line('@@skipped ');
      if (skipped !== undefined) return resolve({ skipped: JSON.parse(skipped) });
      const result = line('@@result ');
      if (result !== undefined && !timedOut) {
        const parsed = JSON.parse(result);
        // Anything the client printed is worth a footnote (warnings, lws logs).
        if (stderr.trim()) parsed.notes.push(`stderr: ${firstLine(stderr)}`);
        return resolve({ result: parsed });
      }
      const reportedLine = line('@@error ');
      const reported = reportedLine === undefined ? undefined : JSON.parse(reportedLine);
      const error = timedOut
        ? `no result within ${limitMs / 1e3} s; killed`
        : reported !== undefined
          ? firstLine(reported)
          : `worker exited with ${signal ?? code}${stderr.trim() ? `: ${firstLine(stderr)}` : ''}`;
      resolve({ error, stderr, stack: reported });
    });
  });
}

const firstLine = (text) => text.trim().split('\n')[0];

/** One progress line: the run's metrics and the server's CPU share. */
function summaryLine(scenario, result, options) {
  const metrics = byName[scenario].metrics.map((metric) => `${format(result.metrics[metric.key])} ${metricLabel(metric, options)}`);
  return `${metrics.join(', ')} (server CPU ${(result.serverCpuShare * 100).toFixed(0)}%, client CPU ${(result.clientCpuShare * 100).toFixed(0)}%)`;
}

/** The lines above the table: what ran, where, and how. */
function describeEnvironment(options, pinned, runs) {
  const clients = [...new Set(runs.filter((run) => run.result).map((run) => `- ${run.client}: ${run.result.client}`))];
  return [
    `# WebSocket client benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores. ` +
      `Echo server: Go, gorilla/websocket, ${options.coalesce ? 'echoes read together sent in one write' : 'one write per echo (--no-coalesce)'}; ` +
      (pinned ? `pinned to core ${SERVER_CORE}, clients to core ${CLIENT_CORE}.` : 'not pinned to cores.'),
    `${options.reps} repetition(s), interleaved; ${options.warmupMs / 1e3} s warm-up + ${options.durationMs / 1e3} s measured per timed run; ` +
      `scale: ${options.scale.toLocaleString('en-US')} connections${options.scaleWarmup ? ` after ${options.scaleWarmup} opened and closed` : ''}; cost: ${options.rate.toLocaleString('en-US')} messages/s offered.`,
    ...clients,
  ];
}

// Exit through process.exit so that the 'exit' handler stops the server.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
