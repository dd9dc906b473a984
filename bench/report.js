'use strict';
// Turns the measurements into the markdown report: one row per scenario and
// metric, each client's median over the repetitions with its min–max, the
// ratios of the medians, and the echo server's CPU share.
const { byName } = require('./scenarios');
const { CLIENTS } = require('./options');
const { summarize } = require('./stats');

const ARROW = { higher: '↑', lower: '↓' };

/** `runs`: [{ rep, scenario, client, result?, error?, skipped? }] as run.js collects them. */
function markdownReport(runs, options) {
  const footnotes = new Footnotes();
  const lines = [
    '| scenario | metric | ours | ws | undici | ours/ws | ours/undici | server CPU % (ours / ws / undici) |',
    '|---|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const name of options.scenarios) {
    const scenario = byName[name];
    const of = (client) => runs.filter((run) => run.scenario === name && run.client === client);
    const serverCpu = CLIENTS
      .map((client) => summarize(of(client).filter((run) => run.result).map((run) => run.result.serverCpuShare * 100)))
      .map((summary) => (summary ? summary.median.toFixed(0) : '–'))
      .join(' / ');
    scenario.metrics.forEach((metric, index) => {
      const label = metricLabel(metric, options);
      const summaries = {};
      const cells = CLIENTS.map((client) => {
        const cell = describeCell(of(client), metric.key, footnotes);
        summaries[client] = cell.summary;
        return cell.text;
      });
      const ratio = (other) =>
        summaries.ours && summaries[other] ? `${(summaries.ours.median / summaries[other].median).toFixed(2)}×` : '–';
      const first = index === 0;
      lines.push(
        `| ${first ? `**${name}**<br>${scenario.summary}` : ''} | ${label} | ${cells.join(' | ')} | ${ratio('ws')} | ${ratio('undici')} | ${first ? serverCpu : ''} |`,
      );
    });
  }
  return [
    ...lines,
    '',
    'Cells: median over the repetitions (min–max). ↑ higher is better, ↓ lower is better; the ratios divide',
    "our median by the other's, so for ↑ a ratio above 1 means ours is ahead, for ↓ below 1 does.",
    'Server CPU %: share of one core the echo server used during the measured window (100 = saturated).',
    ...footnotes.lines(),
  ].join('\n');
}

/** A metric's label with its direction: "ms to open 1,000 ↓". */
function metricLabel(metric, options) {
  return `${metric.label.replace('{scale}', options.scale.toLocaleString('en-US'))} ${ARROW[metric.better]}`;
}

/** The cell of one client for one metric: n/a, failed, or median (min–max). */
function describeCell(runs, key, footnotes) {
  if (runs.length === 0) return { text: '–', summary: null };
  if (runs.every((run) => run.skipped)) return { text: `n/a${footnotes.mark(runs[0].skipped)}`, summary: null };
  const failed = runs.filter((run) => run.error);
  // Errors, and notes of runs that succeeded (stderr output, slow closes).
  const remarks = [
    ...failed.map((run) => `${run.client} ${run.scenario} failed: ${run.error}`),
    ...runs.flatMap((run) => (run.result ? run.result.notes.map((note) => `${run.client} ${run.scenario}: ${note}`) : [])),
  ];
  const marks = [...new Set(remarks.map((text) => footnotes.mark(text)))].join('');
  const summary = summarize(runs.filter((run) => run.result).map((run) => run.result.metrics[key]));
  if (!summary) return { text: `failed${marks}`, summary: null };
  const spread = summary.n > 1 ? ` (${format(summary.min)}–${format(summary.max)})` : '';
  const failures = failed.length ? ` ${failed.length}/${runs.length} failed` : '';
  return { text: `${format(summary.median)}${spread}${failures}${marks}`, summary };
}

/** Three significant figures, thousands separated, and no false precision. */
function format(value) {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** Numbered notes under the table; the same text gets the same number. */
class Footnotes {
  #texts = [];
  mark(text) {
    let index = this.#texts.indexOf(text);
    if (index < 0) index = this.#texts.push(text) - 1;
    return `[${index + 1}]`;
  }
  lines() {
    return this.#texts.length ? ['', ...this.#texts.map((text, index) => `[${index + 1}] ${text}`)] : [];
  }
}

module.exports = { markdownReport, format, metricLabel };
