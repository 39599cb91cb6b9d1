// What both echo-server wrappers report to the benchmark: event-loop delay (p50/p99/max from
// perf_hooks.monitorEventLoopDelay, beyond its 10 ms timer), event-loop utilisation and memory, since the last reset.
//
// Commands, one per line on stdin: `reset` (start a new window), `report` (print one line
// `STATS {json}` to stdout), `gc` (collect garbage first when the process runs with --expose-gc,
// then report). SIGUSR2 also prints a report, and one is printed at exit.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

export function reportStats({ enabled = true } = {}) {
  // The histogram records each whole timer interval (resolution + delay), so the resolution is
  // subtracted: the figures are how late the loop was, in ms.
  const RESOLUTION_MS = 10;
  const eld = enabled ? monitorEventLoopDelay({ resolution: RESOLUTION_MS }) : null;
  eld?.enable();
  let eluStart = performance.eventLoopUtilization();
  const ms = (ns) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);
  const stats = () => {
    const mem = process.memoryUsage();
    return {
      eld: eld && eld.count > 0 ? { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), samples: eld.count } : null,
      elu: Math.round(performance.eventLoopUtilization(eluStart).utilization * 1000) / 1000,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
    };
  };
  const print = () => process.stdout.write(`STATS ${JSON.stringify(stats())}\n`);
  const reset = () => {
    eld?.reset();
    eluStart = performance.eventLoopUtilization();
  };
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const cmd = line.trim();
      if (cmd === 'reset') reset();
      else if (cmd === 'report') print();
      else if (cmd === 'gc') {
        globalThis.gc?.();
        print();
      }
    });
    rl.on('close', () => {}); // the parent went away: stay up until signalled
  }
  process.on('SIGUSR2', print);
  return { print, reset };
}
