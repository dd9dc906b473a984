'use strict';
// What the harness reads from Linux: CPU time of a process, its clock tick,
// whether taskset can pin processes, and the open-file limit.
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

/** User + system CPU time of `pid` (all its threads), in clock ticks; NaN if unreadable. */
function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 (utime) and 15 (stime) of proc(5); fields[0] is field 3.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
function clockTicks() {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(result.stdout) || 100;
}

/** The command prefix that pins a process to `core` (where canPin() says it can be). */
function pinPrefix(core) {
  return ['taskset', '-c', String(core)];
}

/** taskset is there, and there are cores enough to separate server and client. */
let pinnable;
function canPin() {
  pinnable ??= require('node:os').availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
  return pinnable;
}

/** This process's hard limit of open files (a child may raise its soft limit up to it). */
function hardFdLimit() {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  return hard === 'unlimited' ? Infinity : Number(hard);
}

/**
 * A command prefix that gives the process at least `need` open files.
 * Node and Go raise their soft limit to the hard one by themselves, so this
 * is only needed when the hard limit is too low; raising it needs root (or
 * CAP_SYS_RESOURCE), and without it the shell's error says so.
 */
function fdPrefix(need) {
  if (hardFdLimit() >= need) return [];
  return ['sh', '-c', `ulimit -n ${need} && exec "$@"`, 'sh'];
}

module.exports = { cpuTicks, clockTicks, pinPrefix, canPin, hardFdLimit, fdPrefix };
