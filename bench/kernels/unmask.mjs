// Unmasking in place: the js engine's word-wise XOR, the WASM SIMD kernel on data already in
// linear memory, the kernel with the copies the engine makes (in, and back into the chunk), the
// kernel with a new Buffer per payload (the naive path), and bufferutil's native add-on.

import { randomBytes } from 'node:crypto';
import { unmask as unmaskJs } from '../../dist/protocol/unmask.js';
import { SIZES, bufferutil, fmtRate, measure, repsFor, table } from './common.mjs';
import { benchKernels } from './memory.mjs';

export async function benchUnmask() {
  const m = benchKernels();
  const { k, u8, data: at } = m;
  const maskBuf = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const maskBE = maskBuf.readUInt32BE(0);
  const maskLE = maskBuf.readUInt32LE(0);
  let sink = null;
  const rows = [];
  for (const [label, size] of SIZES) {
    const buf = randomBytes(size);
    u8.set(buf, at);
    const reps = repsFor(size);
    const back = u8.subarray(at, at + size); // the engine keeps views like this one (see WasmRuntime.windowView)
    const ns = await measure(
      {
        js: () => {
          for (let r = 0; r < reps; r++) unmaskJs(buf, 0, size, maskBE);
        },
        kernel: () => {
          for (let r = 0; r < reps; r++) k.unmask(at, size, maskLE, 0);
        },
        copyBack: () => {
          for (let r = 0; r < reps; r++) {
            u8.set(buf, at);
            k.unmask(at, size, maskLE, 0);
            buf.set(back);
          }
        },
        copyNew: () => {
          for (let r = 0; r < reps; r++) {
            u8.set(buf, at);
            k.unmask(at, size, maskLE, 0);
            const out = Buffer.allocUnsafe(size);
            out.set(u8.subarray(at, at + size));
            sink = out;
          }
        },
        bufferutil:
          bufferutil &&
          (() => {
            for (let r = 0; r < reps; r++) bufferutil.unmask(buf, maskBuf);
          }),
      },
      reps,
    );
    rows.push([
      label,
      fmtRate(size, ns.js),
      fmtRate(size, ns.kernel),
      fmtRate(size, ns.copyBack),
      fmtRate(size, ns.copyNew),
      ns.bufferutil ? fmtRate(size, ns.bufferutil) : 'n/a',
    ]);
  }
  void sink;
  return {
    title: 'Unmask (GB/s, higher is better)',
    note:
      'js: the js engine\'s `unmask`. WASM kernel: SIMD XOR on data already in linear memory. WASM + copy in/back: the wasm engine\'s data path (chunk copied in, unmasked, copied back over the chunk). WASM + copy in/new Buffer: a new Buffer per payload. bufferutil: the native add-on `ws` uses.',
    markdown: table(['size', 'js', 'WASM kernel', 'WASM + copy in/back', 'WASM + copy in/new Buffer', 'bufferutil (native)'], rows),
  };
}
