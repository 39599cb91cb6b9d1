// Shared by the kernel benchmarks: inputs, the tinybench runner and markdown tables.
// Plain ESM over the compiled package (dist/ and build/), so `npm run bench:kernels` needs no
// TypeScript loader: it builds first.

import { createRequire } from 'node:module';
import { Bench } from 'tinybench';

export const SIZES = [
  ['64 B', 64],
  ['1 KiB', 1024],
  ['16 KiB', 16 * 1024],
  ['1 MiB', 1024 * 1024],
];

/** Milliseconds each task is measured (and warmed up); BENCH_TIME overrides. */
const TIME = Number(process.env.BENCH_TIME ?? 150);

/** bufferutil (native add-on, optional dev dependency), or null when it is not installed. */
export const bufferutil = (() => {
  try {
    return createRequire(import.meta.url)('bufferutil');
  } catch {
    return null;
  }
})();

/** Deterministic text of `length` bytes or a little less: ASCII only, or mixed 1-4 byte characters. */
export function textOf(kind, length, seed = 1) {
  let s = seed;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
  const parts = [];
  let bytes = 0;
  while (bytes < length) {
    let cp;
    const r = next();
    if (kind === 'ascii' || r < 0.4) cp = 0x20 + Math.floor(next() * 0x5f);
    else if (r < 0.65) cp = 0xc0 + Math.floor(next() * 0x500); // Latin, Greek, Cyrillic
    else if (r < 0.9) cp = 0x4e00 + Math.floor(next() * 0x5000); // CJK
    else cp = 0x1f300 + Math.floor(next() * 0x300); // emoji
    const ch = String.fromCodePoint(cp);
    const n = Buffer.byteLength(ch);
    if (bytes + n > length) {
      parts.push('a'.repeat(length - bytes));
      break;
    }
    parts.push(ch);
    bytes += n;
  }
  const out = Buffer.from(parts.join(''));
  if (out.length !== length) throw new Error(`textOf: ${out.length} != ${length}`);
  return out;
}

/** Repetitions per measured call, so that one call handles about 64 KiB (timer resolution). */
export function repsFor(bytes) {
  return Math.max(1, Math.ceil(65536 / bytes));
}

/**
 * Measures `variants` (name -> function doing `reps` operations) and returns, per variant,
 * nanoseconds per operation (median of the samples).
 */
export async function measure(variants, reps) {
  const bench = new Bench({ time: TIME, warmupTime: Math.max(20, TIME / 3), retainSamples: false });
  for (const [name, fn] of Object.entries(variants)) if (fn) bench.add(name, fn);
  await bench.run();
  const out = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state} ${r.error ?? ''}`);
    out[task.name] = (r.latency.p50 * 1e6) / reps;
  }
  return out;
}

export function gbps(bytes, ns) {
  return bytes / ns; // bytes per nanosecond = GB/s
}

export function fmtRate(bytes, ns) {
  const g = gbps(bytes, ns);
  return g >= 10 ? g.toFixed(0) : g >= 1 ? g.toFixed(1) : g.toFixed(2);
}

export function fmtNs(ns) {
  return ns >= 100_000 ? `${(ns / 1000).toFixed(0)} µs` : ns >= 1000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(ns >= 100 ? 0 : 1)} ns`;
}

/** A markdown table: `header` is the first row, `rows` the others. */
export function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}
