#!/usr/bin/env node
'use strict';
// Reads the XML valgrind wrote for tools/valgrind.sh and judges it:
//
// - every memory error (invalid read/write/free, use of uninitialised
//   values, bad syscall parameters, overlapping copies…) that the
//   suppressions did not hide fails the run, wherever it is;
// - a definitely lost block fails the run when its allocation stack holds
//   a frame of lws.node (this addon and the lws linked into it): ours;
// - other definitely lost blocks are Node's own (napi_module_register's
//   64 bytes, …): listed, not failed.
//
// Usage: node tools/valgrind-judge.js valgrind.xml   (exit 1 on FAIL)
const fs = require('node:fs');

const OURS = /(^|\/)lws\.node$/;

function decode(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function tag(xml, name) {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? decode(match[1].trim()) : undefined;
}

function frames(stackXml) {
  return [...stackXml.matchAll(/<frame>([\s\S]*?)<\/frame>/g)].map(([, frame]) => ({
    obj: tag(frame, 'obj') ?? '',
    fn: tag(frame, 'fn') ?? '???',
    file: tag(frame, 'file'),
    line: tag(frame, 'line'),
  }));
}

function parse(xml) {
  const counts = new Map(
    [...(tag(xml, 'errorcounts') ?? '').matchAll(/<pair>\s*<count>(\d+)<\/count>\s*<unique>(\w+)<\/unique>\s*<\/pair>/g)].map(([, count, unique]) => [
      unique,
      Number(count),
    ]),
  );
  const suppressed = [...(tag(xml, 'suppcounts') ?? '').matchAll(/<pair>\s*<count>(\d+)<\/count>\s*<name>([^<]*)<\/name>\s*<\/pair>/g)].map(
    ([, count, name]) => ({ name: decode(name), count: Number(count) }),
  );
  const errors = [...xml.matchAll(/<error>([\s\S]*?)<\/error>/g)].map(([, error]) => {
    const stacks = [...error.matchAll(/<stack>([\s\S]*?)<\/stack>/g)].map(([, stack]) => frames(stack));
    const unique = tag(error, 'unique');
    return {
      unique,
      count: counts.get(unique) ?? 1,
      kind: tag(error, 'kind') ?? '?',
      what: tag(error, 'what') ?? tag(tag(error, 'xwhat') ?? '', 'text') ?? '',
      auxwhat: [...error.matchAll(/<auxwhat>([\s\S]*?)<\/auxwhat>/g)].map(([, text]) => decode(text.trim())),
      bytes: Number(tag(tag(error, 'xwhat') ?? '', 'leakedbytes') ?? 0),
      stacks,
    };
  });
  return { errors, suppressed };
}

function formatFrame({ obj, fn, file, line }) {
  const where = file ? `${file}:${line}` : obj.split('/').pop();
  return `${fn} (${where})`;
}

/** The first frames, and then those of ours further down if the first are not ours. */
function formatStack(stack, limit = 10) {
  const shown = stack.slice(0, limit);
  const ours = stack.slice(limit).filter((frame) => OURS.test(frame.obj)).slice(0, 4);
  const lines = shown.map((frame) => `      ${formatFrame(frame)}`);
  if (ours.length) lines.push('      …', ...ours.map((frame) => `      ${formatFrame(frame)}`));
  return lines.join('\n');
}

function main() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node tools/valgrind-judge.js valgrind.xml');
    process.exit(2);
  }
  const xml = fs.readFileSync(file, 'utf8');
  if (!xml.includes('</valgrindoutput>')) {
    console.error(`valgrind-judge: ${file} is incomplete: valgrind itself died (see the text log)`);
    process.exit(1);
  }
  const { errors, suppressed } = parse(xml);
  const memoryErrors = errors.filter((error) => !error.kind.startsWith('Leak_'));
  const leaks = errors.filter((error) => error.kind === 'Leak_DefinitelyLost');
  const isOurs = (error) => error.stacks.some((stack) => stack.some((frame) => OURS.test(frame.obj)));
  const ourLeaks = leaks.filter(isOurs);
  const otherLeaks = leaks.filter((error) => !isOurs(error));

  for (const error of memoryErrors) {
    console.log(`\nERROR ${error.kind} ×${error.count}${isOurs(error) ? ' (lws.node in the stack)' : ''}: ${error.what}`);
    error.stacks.forEach((stack, index) => {
      if (index > 0) console.log(`    ${error.auxwhat[index - 1] ?? ''}`);
      console.log(formatStack(stack));
    });
  }
  for (const error of ourLeaks) {
    console.log(`\nLEAK (ours) ${error.what}`);
    console.log(formatStack(error.stacks[0] ?? [], 16));
  }
  if (otherLeaks.length) {
    console.log(`\nDefinitely lost, not ours (no lws.node frame), not failed:`);
    for (const error of otherLeaks) {
      const first = (error.stacks[0] ?? []).slice(1, 3).map(formatFrame).join(' ← ');
      console.log(`  ${error.bytes} bytes: ${first}`);
    }
  }
  const suppressedTotal = suppressed.reduce((sum, entry) => sum + entry.count, 0);
  const occurrences = memoryErrors.reduce((sum, error) => sum + error.count, 0);
  console.log(
    `\nvalgrind: ${memoryErrors.length} memory error context(s) (${occurrences} occurrence(s)), ` +
      `${ourLeaks.length} definite leak(s) with lws.node frames (${ourLeaks.reduce((sum, error) => sum + error.bytes, 0)} bytes), ` +
      `${otherLeaks.length} definite leak(s) of Node's own (${otherLeaks.reduce((sum, error) => sum + error.bytes, 0)} bytes); ` +
      `suppressed: ${suppressed.map((entry) => `${entry.name} ×${entry.count}`).join(', ') || 'none'} (${suppressedTotal})`,
  );
  const pass = memoryErrors.length === 0 && ourLeaks.length === 0;
  console.log(pass ? 'valgrind: PASS' : 'valgrind: FAIL');
  process.exit(pass ? 0 : 1);
}

main();
