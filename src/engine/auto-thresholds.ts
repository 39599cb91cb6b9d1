/**
 * Where the `auto` engine moves work to the worker pool: the measured defaults.
 *
 * From `bench/pool/crossover.mjs` (bench/results/pool.md): the same codec jobs inline and in the
 * pool, with the process on one CPU and on two.
 *
 * - Uncompressed data never pays: decoding through the pool costs 2.5–7× the CPU of decoding
 *   inline, and even the main thread's own share of it (sending the chunk, taking the events
 *   back) exceeds decoding inline. Decoding works chunk by chunk, so it never holds the event
 *   loop long either. Never by default.
 * - With two or more CPUs the pool adds compression capacity: compressing 4 KiB of JSON in the
 *   pool gets 1.5× the jobs per second of compressing inline (1.2× at 1 KiB), inflating 4 KiB
 *   of JSON (about 1 KiB compressed) 1.2×, the main thread keeping 4–12 µs per job.
 * - With one CPU the pool's threads share the main thread's core, so it never adds throughput:
 *   compressing costs 2 % more at 256 KiB, 10 % at 64 KiB, 11 % at 16 KiB (inflate and
 *   compress together 6 %, 9 %, 23 %). Compression moves only where blocking the loop would
 *   matter (128 KiB of JSON take ~3.5 ms to compress), inflating only for very large input.
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
    ? Object.freeze({ deflate: 4 * 1024, inflate: 1024, decode: NEVER })
    : Object.freeze({ deflate: 128 * 1024, inflate: 1024 * 1024, decode: NEVER });
}
