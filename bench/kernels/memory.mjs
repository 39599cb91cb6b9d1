// A kernel instance of its own for the benchmarks, with regions large enough for 1 MiB inputs
// (the engine's own runtime keeps its window at 256 KiB).

import { instantiateKernels } from '../../dist/engine/wasm-module.js';

const PAGE = 65536;
const TABLE_ENTRIES = 80_000; // a 1 MiB chunk of 16-byte frames has 65 536

export function benchKernels() {
  const k = instantiateKernels();
  const base = Math.ceil(k.heapBase() / 64) * 64;
  const state = base;
  const utf8State = base + 128;
  const table = base + 256;
  const data = Math.ceil((table + TABLE_ENTRIES * 16) / 64) * 64;
  const end = data + (1 << 20) + 4096;
  const pages = Math.ceil(end / PAGE) - k.memory.buffer.byteLength / PAGE;
  if (pages > 0) k.memory.grow(pages);
  const ab = k.memory.buffer;
  return {
    k,
    u8: new Uint8Array(ab),
    i32: new Int32Array(ab),
    f64: new Float64Array(ab),
    heap: Buffer.from(ab),
    state,
    utf8State,
    table,
    tableEntries: TABLE_ENTRIES,
    data,
  };
}
