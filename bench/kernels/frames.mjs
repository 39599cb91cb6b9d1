// Frame decoding. Headers: a chunk of S bytes made of 16-byte frames (masked, 10-byte binary
// payloads), decoded whole: the js engine's decoder (headers, unmask, events), the WASM
// `decodeFrames` kernel alone (descriptor table, data already in linear memory), and the wasm
// engine (copy in, kernel, copy back, events). Then one frame of S bytes, binary and mixed
// text, through both engines.

import { jsEngine } from '../../dist/engine/js.js';
import { wasmEngine } from '../../dist/engine/wasm.js';
import { SIZES, fmtNs, fmtRate, measure, repsFor, table, textOf } from './common.mjs';
import { benchKernels } from './memory.mjs';

const OPTIONS = { maxMessageSize: 0, deflate: null };

/** A client frame with the mask key 0: unmasking costs the same but leaves the bytes as they are, so a chunk can be decoded again and again. */
function frame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n]) : n < 65536 ? Buffer.from([0x80 | opcode, 0xfe, n >> 8, n & 255]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 0xff;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

function expectEvents(result, count) {
  if (result.error !== null || result.events.length !== count) throw new Error(`decode: ${result.error?.reason ?? result.events.length}`);
}

export async function benchHeaders() {
  const m = benchKernels();
  const { k, u8, i32, f64, data: at, state, table: tablePtr, tableEntries } = m;
  const rows = [];
  for (const [label, size] of SIZES) {
    const frames = size / 16;
    const chunk = Buffer.concat(Array.from({ length: frames }, (_, i) => frame(2, Buffer.alloc(10, i))));
    u8.set(chunk, at);
    u8.fill(0, state, state + 96);
    i32[(state + 36) >> 2] = 1024; // S_DEFER_FROM
    f64[(state + 64) >> 3] = 0; // no size limit
    const js = jsEngine.createCodec(OPTIONS);
    const wasm = wasmEngine.createCodec(OPTIONS);
    const reps = repsFor(size);
    const ns = await measure(
      {
        js: () => {
          for (let r = 0; r < reps; r++) expectEvents(js.decode(chunk), frames);
        },
        kernel: () => {
          for (let r = 0; r < reps; r++) {
            if (k.decodeFrames(state, tablePtr, tableEntries, at, at + size, 0) !== frames) throw new Error('decodeFrames');
          }
        },
        engine: () => {
          for (let r = 0; r < reps; r++) expectEvents(wasm.decode(chunk), frames);
        },
      },
      reps,
    );
    const perFrame = (x) => `${fmtNs(x / frames)} (${(frames / x * 1000).toFixed(frames / x * 1000 >= 10 ? 0 : 1)} M/s)`;
    rows.push([`${label} (${frames} frames)`, perFrame(ns.js), perFrame(ns.kernel), perFrame(ns.engine)]);
  }
  return {
    title: 'Header decoding: chunks of 16-byte frames (time per frame and frames/s)',
    note: 'js: the js engine\'s decode (headers, unmask, one event per frame). WASM kernel: `decodeFrames` alone, data in linear memory, descriptors only. wasm engine: copy in, `decodeFrames`, copy back, one event per frame.',
    markdown: table(['chunk', 'js engine', 'WASM kernel', 'wasm engine'], rows),
  };
}

export async function benchDecode() {
  const rows = [];
  for (const kind of ['binary', 'mixed text']) {
    for (const [label, size] of SIZES) {
      const payload = kind === 'binary' ? Buffer.alloc(size, 0xa5) : textOf('mixed', size);
      const chunk = frame(kind === 'binary' ? 2 : 1, payload);
      const js = jsEngine.createCodec(OPTIONS);
      const wasm = wasmEngine.createCodec(OPTIONS);
      const reps = repsFor(size);
      const ns = await measure(
        {
          js: () => {
            for (let r = 0; r < reps; r++) expectEvents(js.decode(chunk), 1);
          },
          wasm: () => {
            for (let r = 0; r < reps; r++) expectEvents(wasm.decode(chunk), 1);
          },
        },
        reps,
      );
      rows.push([`${kind} ${label}`, `${fmtRate(size, ns.js)} (${fmtNs(ns.js)})`, `${fmtRate(size, ns.wasm)} (${fmtNs(ns.wasm)})`, `${(ns.js / ns.wasm).toFixed(2)}×`]);
    }
  }
  return {
    title: 'Decoding one frame per chunk, whole engine (GB/s and time per chunk)',
    note: 'One masked frame of the given payload in one chunk, decoded to one event. wasm includes both copies.',
    markdown: table(['payload', 'js engine', 'wasm engine', 'wasm / js'], rows),
  };
}

/** What each copy of the data path costs, next to what the kernels cost. */
export async function benchCopies() {
  const m = benchKernels();
  const { u8, heap, data: at } = m;
  const rows = [];
  let sink = null;
  for (const [label, size] of SIZES) {
    const buf = Buffer.alloc(size, 1);
    const reps = repsFor(size);
    const ns = await measure(
      {
        copyIn: () => {
          for (let r = 0; r < reps; r++) u8.set(buf, at);
        },
        copyBackSet: () => {
          for (let r = 0; r < reps; r++) buf.set(u8.subarray(at, at + size));
        },
        copyBackBuffer: () => {
          for (let r = 0; r < reps; r++) heap.copy(buf, 0, at, at + size);
        },
        newBuffer: () => {
          for (let r = 0; r < reps; r++) {
            const out = Buffer.allocUnsafe(size);
            out.set(u8.subarray(at, at + size));
            sink = out;
          }
        },
        view: () => {
          for (let r = 0; r < reps; r++) sink = buf.subarray(1, size);
        },
      },
      reps,
    );
    const cell = (x) => `${fmtNs(x)} (${fmtRate(size, x)} GB/s)`;
    rows.push([label, cell(ns.copyIn), cell(ns.copyBackSet), cell(ns.copyBackBuffer), cell(ns.newBuffer), fmtNs(ns.view)]);
  }
  void sink;
  return {
    title: 'What a copy costs',
    note: 'copy in: `memoryView.set(chunk, at)`. copy back: `chunk.set(memoryView.subarray(...))`, view included (the engine keeps cached views of its window for chunks below 2 KiB, so it pays only the copy there), or `Buffer#copy`. new Buffer: `allocUnsafe` + set, per payload. view: one `subarray` (what each payload costs in both engines).',
    markdown: table(['size', 'copy in', 'copy back (set)', 'copy back (Buffer#copy)', 'new Buffer + copy', 'view'], rows),
  };
}
