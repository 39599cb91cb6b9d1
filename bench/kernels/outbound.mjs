// Outbound frame headers: the js engine's writer vs the WASM kernel (header written in linear
// memory, then copied out to where the frame is built).

import { writeFrameHeader } from '../../dist/protocol/frame-encoder.js';
import { fmtNs, measure, table } from './common.mjs';
import { benchKernels } from './memory.mjs';

export async function benchOutbound() {
  const m = benchKernels();
  const { k, u8, data: at } = m;
  const target = Buffer.alloc(64);
  const reps = 4096;
  const rows = [];
  for (const [label, length] of [['7-bit', 100], ['16-bit', 16384], ['64-bit', 1 << 20]]) {
    const ns = await measure(
      {
        js: () => {
          for (let r = 0; r < reps; r++) writeFrameHeader(target, 0, 2, true, false, length);
        },
        kernel: () => {
          for (let r = 0; r < reps; r++) k.writeFrameHeader(at, 0x82, length);
        },
        kernelCopy: () => {
          for (let r = 0; r < reps; r++) {
            const n = k.writeFrameHeader(at, 0x82, length);
            for (let i = 0; i < n; i++) target[i] = u8[at + i];
          }
        },
      },
      reps,
    );
    rows.push([label, fmtNs(ns.js), fmtNs(ns.kernel), fmtNs(ns.kernelCopy)]);
  }
  return {
    title: 'Outbound frame header (time per header)',
    note: 'The wasm engine keeps the JS writer: the header lands next to a payload that is never in linear memory.',
    markdown: table(['length field', 'js', 'WASM kernel', 'WASM + copy out'], rows),
  };
}
