// UTF-8 validation: the js engine's validator, the WASM SIMD validator on data in linear memory
// and with the copy in, Node's buffer.isUtf8 (simdutf), and the wasm engine's stream for bytes
// outside linear memory (WASM edges, isUtf8 middle). Then the crossover between the WASM
// validator and isUtf8, which sets UTF8_DEFER_FROM.

import { isUtf8 } from 'node:buffer';
import { Utf8Validator } from '../../dist/protocol/utf8.js';
import { UTF8_DEFER_FROM, WasmUtf8Stream } from '../../dist/engine/wasm-utf8.js';
import { SIZES, fmtNs, fmtRate, measure, repsFor, table, textOf } from './common.mjs';
import { benchKernels } from './memory.mjs';

export async function benchUtf8() {
  const m = benchKernels();
  const { k, u8, i32, data: at, utf8State } = m;
  const slot = utf8State >> 2;
  const v = new Utf8Validator();
  const stream = new WasmUtf8Stream();
  const rows = [];
  for (const kind of ['ascii', 'mixed']) {
    for (const [label, size] of SIZES) {
      const text = textOf(kind, size);
      u8.set(text, at);
      const reps = repsFor(size);
      const check = (ok) => {
        if (!ok) throw new Error(`${kind} ${label}: a validator refused valid text`);
      };
      const ns = await measure(
        {
          js: () => {
            for (let r = 0; r < reps; r++) {
              v.reset();
              check(v.push(text) === -1);
            }
          },
          kernel: () => {
            for (let r = 0; r < reps; r++) {
              i32[slot] = 0;
              check(k.utf8Validate(at, size, utf8State) === -1);
            }
          },
          copyIn: () => {
            for (let r = 0; r < reps; r++) {
              u8.set(text, at);
              i32[slot] = 0;
              check(k.utf8Validate(at, size, utf8State) === -1);
            }
          },
          isUtf8: () => {
            for (let r = 0; r < reps; r++) check(isUtf8(text));
          },
          engine: () => {
            for (let r = 0; r < reps; r++) {
              stream.reset();
              check(stream.push(text));
            }
          },
        },
        reps,
      );
      rows.push([
        `${kind} ${label}`,
        fmtRate(size, ns.js),
        fmtRate(size, ns.kernel),
        fmtRate(size, ns.copyIn),
        fmtRate(size, ns.isUtf8),
        fmtRate(size, ns.engine),
      ]);
    }
  }
  return {
    title: 'UTF-8 validation (GB/s, higher is better)',
    note:
      'mixed: ~40% ASCII, Latin/Greek/Cyrillic, CJK and emoji. js: the js engine\'s `Utf8Validator`. WASM kernel: `utf8Validate` on data in linear memory. WASM + copy in: the same after copying the text in. isUtf8: Node\'s `buffer.isUtf8` (simdutf). wasm engine stream: `WasmUtf8Stream` (inflated text): WASM below ' +
      `${UTF8_DEFER_FROM} B, isUtf8 for the middle above.`,
    markdown: table(['text', 'js', 'WASM kernel', 'WASM + copy in', 'isUtf8 (native)', 'wasm engine stream'], rows),
  };
}

/** The WASM validator on a piece in linear memory vs isUtf8 on a view of it, at growing sizes. */
export async function benchUtf8Crossover() {
  const m = benchKernels();
  const { k, u8, i32, data: at, utf8State } = m;
  const slot = utf8State >> 2;
  const sizes = [16, 64, 256, 512, 1024, 2048, 4096, 16384, 65536];
  const rows = [];
  const crossover = {};
  for (const kind of ['ascii', 'mixed']) {
    const text = textOf(kind, sizes[sizes.length - 1]);
    u8.set(text, at);
    for (const size of sizes) {
      const reps = repsFor(size);
      const ns = await measure(
        {
          kernel: () => {
            for (let r = 0; r < reps; r++) {
              i32[slot] = 0;
              k.utf8Validate(at, size, utf8State);
            }
          },
          isUtf8: () => {
            for (let r = 0; r < reps; r++) isUtf8(text.subarray(0, size));
          },
        },
        reps,
      );
      if (ns.isUtf8 < ns.kernel && crossover[kind] === undefined) crossover[kind] = size;
      rows.push([`${kind} ${size} B`, fmtNs(ns.kernel), fmtNs(ns.isUtf8), ns.kernel <= ns.isUtf8 ? 'WASM' : 'isUtf8']);
    }
  }
  return {
    title: 'UTF-8: WASM validator vs isUtf8, per piece (time per call, lower is better)',
    note: `The engine checks a text piece in the frame kernel below UTF8_DEFER_FROM = ${UTF8_DEFER_FROM} B and hands the middle of longer ones to isUtf8 (on a view of the chunk, as timed here). First size where isUtf8 wins: ascii ${crossover.ascii ?? '> 64 KiB'} B, mixed ${crossover.mixed ?? '> 64 KiB'} B.`,
    markdown: table(['piece', 'WASM kernel', 'isUtf8 (view + call)', 'faster'], rows),
  };
}
