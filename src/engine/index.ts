/**
 * The engines a server can run its codecs on, by the name `Config("Engine=...")` accepts.
 *
 * An engine is created per server (`createEngine`) and closed by the server's `shutdown()`:
 * `js` and `wasm` hold nothing and are shared, `pool` and `auto` own worker threads.
 */

import type { Engine } from '../protocol/codec.js';
import { AutoEngine, type AutoThresholds } from './auto.js';
import { jsEngine } from './js.js';
import { PoolEngine } from './pool.js';
import { wasmEngine } from './wasm.js';
import { wasmRuntime } from './wasm-module.js';

/** What an engine is created with (the server passes its config settings). */
export interface EngineOptions {
  /** Worker threads of `pool` and `auto` (WorkerThreads); `os.availableParallelism()` when omitted. */
  readonly workerThreads?: number;
  /** Worker threads do not keep the process alive (UseDaemonThreads); true when omitted. */
  readonly daemonThreads?: boolean;
  /** Where `auto` moves work to the pool (the Auto*Threshold settings); measured defaults when omitted. */
  readonly autoThresholds?: Partial<AutoThresholds>;
}

// The WASM engines load the module when they are created (the server creates its engine when
// it starts listening), so a missing or unloadable build/wsworks.wasm is an error there, not
// an exception at a client's first handshake.
const factories: ReadonlyMap<string, (options: EngineOptions) => Engine> = new Map<string, (options: EngineOptions) => Engine>([
  ['js', () => jsEngine],
  ['wasm', () => (wasmRuntime(), wasmEngine)],
  ['pool', (o) => (wasmRuntime(), new PoolEngine({ threads: o.workerThreads, daemon: o.daemonThreads }))],
  ['auto', (o) => (wasmRuntime(), new AutoEngine({ threads: o.workerThreads, daemon: o.daemonThreads, thresholds: o.autoThresholds }))],
]);

/** Whether `name` (case-insensitive) is an engine {@link createEngine} knows. */
export function isEngineName(name: string): boolean {
  return factories.has(name.trim().toLowerCase());
}

/**
 * A new instance of the engine called `name` (case-insensitive), to be closed with `close()`.
 *
 * @throws Error when there is no such engine
 */
export function createEngine(name: string, options: EngineOptions = {}): Engine {
  const factory = factories.get(name.trim().toLowerCase());
  if (factory === undefined) throw new Error(`Unknown engine "${name}": use one of ${engineNames().join(', ')}.`);
  return factory(options);
}

/** The names {@link createEngine} knows, for messages and help. */
export function engineNames(): string[] {
  return [...factories.keys()];
}

export { jsEngine, wasmEngine };
