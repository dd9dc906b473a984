'use strict';
// Command-line flags of run.js, with the defaults that keep a full run
// within about five minutes on a 2-core machine.
const { parseArgs } = require('node:util');
const { scenarios } = require('./scenarios');

const CLIENTS = ['ours', 'ws', 'undici'];

const USAGE = `Usage: node bench/run.js [flags]   (or: npm run bench -- [flags])

  --reps N          repetitions of every measurement, interleaved (default 5)
  --duration S      measured seconds per timed run (default 2)
  --warmup S        unmeasured seconds before each window (default 0.5)
  --quick           smoke test: 1 rep, 0.5 s windows, 200 connections
  --scale N         idle connections in the scale scenario (default 1000)
  --scale-warmup N  connections opened and closed before the scale
                    scenario measures (default 0: from cold, as specified)
  --rate N          offered messages/s in the cost scenario (default 10000)
  --only a,b        scenarios to run: ${scenarios.map((s) => s.name).join(', ')}
  --clients a,b     clients to run: ${CLIENTS.join(', ')} (default all)
  --json FILE       also write every measurement to FILE
  --ours DIR        benchmark the checkout in DIR (its dist/) as ours
  --no-pin          do not pin server and clients to separate cores
  --no-coalesce     the server writes each echo with its own system call
                    (see echo-server/coalescing.go)
  --help`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      scale: { type: 'string' },
      'scale-warmup': { type: 'string' },
      rate: { type: 'string' },
      only: { type: 'string' },
      clients: { type: 'string' },
      json: { type: 'string' },
      ours: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      'no-coalesce': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const number = (name, fallback, min) => {
    if (values[name] === undefined) return fallback;
    const value = Number(values[name]);
    if (!(value >= min)) usageError(`--${name} must be a number ≥ ${min}, not ${values[name]}`);
    return value;
  };
  const list = (name, known) => {
    if (values[name] === undefined) return known;
    const chosen = values[name].split(',').filter(Boolean);
    const unknown = chosen.filter((item) => !known.includes(item));
    if (unknown.length) usageError(`--${name}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
    return known.filter((item) => chosen.includes(item)); // keep the report's order
  };
  return {
    reps: Math.floor(number('reps', quick ? 1 : 5, 1)),
    warmupMs: number('warmup', quick ? 0.2 : 0.5, 0) * 1e3,
    durationMs: number('duration', quick ? 0.5 : 2, 0.1) * 1e3,
    scale: Math.floor(number('scale', quick ? 200 : 1000, 1)),
    scaleWarmup: Math.floor(number('scale-warmup', 0, 0)),
    rate: number('rate', 10_000, 1),
    scenarios: list('only', scenarios.map((s) => s.name)),
    clients: list('clients', CLIENTS),
    json: values.json,
    ours: values.ours && require('node:path').resolve(values.ours),
    pin: !values['no-pin'],
    coalesce: !values['no-coalesce'],
  };
}

function usageError(message) {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

module.exports = { parseOptions, CLIENTS };
