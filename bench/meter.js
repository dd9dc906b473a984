'use strict';
// Measures one window of a run: wall time, this client process's CPU time
// (all its threads, so zlib's thread pool counts too) and the echo server's
// CPU share, which shows whether the server was the bottleneck.
const { cpuTicks } = require('./proc');

function createMeter({ serverPid, clockTicks }) {
  let begin = null;
  return {
    start() {
      // The clock last, so that reading the CPU counters is not in the window.
      begin = { cpu: process.cpuUsage(), server: cpuTicks(serverPid) };
      begin.time = process.hrtime.bigint();
    },
    /** → { seconds, clientCpuSeconds, serverCpuShare } for the window since start(). */
    stop() {
      const seconds = Number(process.hrtime.bigint() - begin.time) / 1e9;
      const cpu = process.cpuUsage(begin.cpu);
      const serverSeconds = (cpuTicks(serverPid) - begin.server) / clockTicks;
      return {
        seconds,
        clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
        // 1.0 is one core: the server is pinned to one, so ~1.0 means saturated.
        serverCpuShare: serverSeconds / seconds,
      };
    },
  };
}

module.exports = { createMeter };
