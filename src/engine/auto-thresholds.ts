/**
 * Where the `auto` engine moves work to the worker pool: the measured defaults.
 *
 * From `bench/pool/crossover.mjs` (bench/results/pool-crossover.md): the same codec jobs inline
 * and in the pool, with the process on one CPU and on two. Compression and inflation are the
 * WASM kernels in both places.
 *
 * - Uncompressed data never pays: decoding through the pool costs 2.5–7× the CPU of decoding
 *   inline, and even the main thread's own share of it (sending the chunk, taking the events
 *   back) exceeds decoding inline. Decoding works chunk by chunk, so it never holds the event
 *   loop long either. Never by default.
 * - With two or more CPUs the pool adds compression capacity: compressing JSON in the pool gets
 *   1.13× the jobs per second of compressing inline at 4 KiB (0.74× at 1 KiB), 1.41× at 16 KiB,
 *   1.85× at 256 KiB; inflating breaks even between 4 KiB (0.90×) and 16 KiB (1.09×) of output,
 *   i.e. between about 1 and 3.5 KB of compressed JSON. The main thread keeps 4–11 µs per job.
 * - With one CPU the pool's threads share the main thread's core, so it never adds throughput
 *   (compressing costs 9–52 % more, inflating 35–60 %). Only jobs that would hold the event
 *   loop for long move: compressing 1 MiB of JSON takes ~12 ms inline (256 KiB: ~2.9 ms).
 */

/** Where `auto` moves work to the pool (bytes). */
export interface AutoThresholds {
  /** An outgoing compressed message at least this long (uncompressed) is compressed in the pool. */
  readonly deflate: number;
  /** A chunk whose frames announce at least this many compressed payload bytes is decoded (inflated) in the pool. */
  readonly inflate: number;
  /** A chunk whose frames announce at least this many payload bytes in all is decoded in the pool. */
  readonly decode: number;
}

/** "Never": no message is this large. */
export const NEVER = Number.MAX_SAFE_INTEGER;

/** The measured thresholds for a process that may run on `cpus` CPUs (`os.availableParallelism()`). */
export function measuredAutoThresholds(cpus: number): AutoThresholds {
  return cpus >= 2
    ? Object.freeze({ deflate: 4 * 1024, inflate: 2 * 1024, decode: NEVER })
    : Object.freeze({ deflate: 1024 * 1024, inflate: 1024 * 1024, decode: NEVER });
}
