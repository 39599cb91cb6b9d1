/**
 * The engines a server can run its codecs on, by the name `Config("Engine=...")` accepts.
 */

import type { Engine } from '../protocol/codec.js';
import { jsEngine } from './js.js';
import { wasmEngine } from './wasm.js';

const engines: ReadonlyMap<string, Engine> = new Map<string, Engine>([
  [jsEngine.name, jsEngine],
  [wasmEngine.name, wasmEngine],
]);

/** The engine called `name` (case-insensitive), or undefined when there is none. */
export function engineByName(name: string): Engine | undefined {
  return engines.get(name.trim().toLowerCase());
}

/** The names {@link engineByName} knows, for messages and help. */
export function engineNames(): string[] {
  return [...engines.keys()];
}

export { jsEngine, wasmEngine };
