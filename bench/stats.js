'use strict';
// Order statistics for the report: medians and spread over repetitions, and
// latency percentiles within one run.

/** The q-quantile (0 ≤ q ≤ 1) of ascending values, by nearest rank: always a value that occurred. */
function quantileSorted(sorted, q) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Median, min and max of a few numbers (one value per repetition). */
function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return null;
  const middle = n >> 1;
  // The usual median (mean of the two middle values for an even count).
  const median = n % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[n - 1], n };
}

module.exports = { quantileSorted, summarize };
