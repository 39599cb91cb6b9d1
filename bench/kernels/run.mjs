// `npm run bench:kernels`: every kernel table, printed and written to bench/results/kernels.md.
// BENCH_TIME=ms sets the time per task (default 150), BENCH_ONLY=unmask,utf8,...,compression a subset.

import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { bufferutil } from './common.mjs';
import { benchCompression } from './compression.mjs';
import { benchCopies, benchDecode, benchHeaders } from './frames.mjs';
import { benchOutbound } from './outbound.mjs';
import { benchUnmask } from './unmask.mjs';
import { benchUtf8, benchUtf8Crossover } from './utf8.mjs';

const suites = { unmask: benchUnmask, utf8: benchUtf8, crossover: benchUtf8Crossover, headers: benchHeaders, decode: benchDecode, copies: benchCopies, outbound: benchOutbound, compression: benchCompression };
const only = process.env.BENCH_ONLY?.split(',');

const cpu = os.cpus();
const machine = `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}`;
const date = new Date().toISOString().slice(0, 10);
const header = [
  '# Kernel benchmarks',
  '',
  `Machine: ${machine}. Date: ${date}. Load average at start: ${os.loadavg()[0].toFixed(1)}. bufferutil: ${bufferutil ? 'installed' : 'not installed'}.`,
  '',
  'Reproduce: `npm run bench:kernels` (builds, then runs `bench/kernels/run.mjs`; tinybench, median of the samples).',
  '',
];
console.log(header.join('\n'));
const sections = [];
for (const [name, run] of Object.entries(suites)) {
  if (only && !only.includes(name)) continue;
  const { title, note, markdown } = await run();
  const text = `## ${title}\n\n${note}\n\n${markdown}\n`;
  console.log(text);
  sections.push(text);
}
const out = new URL('../results/kernels.md', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
if (!only) writeFileSync(out, [...header, ...sections].join('\n'));
