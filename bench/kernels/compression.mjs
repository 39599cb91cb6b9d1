// permessage-deflate per message, no context takeover, level 6: the js engine's pako path, the
// WASM kernels as the wasm/pool/auto engines drive them (copies in and out included), and
// Node's zlib (synchronous; ws runs the same native code asynchronously in libuv's threads).

import zlib from 'node:zlib';
import { WasmMessageDeflater } from '../../dist/engine/wasm-deflater.js';
import { WasmMessageInflater } from '../../dist/engine/wasm-inflater.js';
import { MessageDeflater } from '../../dist/protocol/message-deflater.js';
import { MessageInflater } from '../../dist/protocol/message-inflater.js';
import { jsonText } from '../load/wire.mjs';
import { fmtNs, measure, table } from './common.mjs';

const SIZES = [
  ['1 KiB', 1024],
  ['16 KiB', 16 * 1024],
  ['256 KiB', 256 * 1024],
];

function inflateWith(inflater, compressed) {
  const out = [];
  inflater.begin(true);
  if (inflater.write(compressed, 0, compressed.length, Infinity, out) < 0 || inflater.finish(Infinity, out) < 0) throw new Error('inflate failed');
  return out;
}

export async function benchCompression() {
  const pakoDeflater = new MessageDeflater(15, true, 6);
  const wasmDeflater = new WasmMessageDeflater(15, true, 6);
  const pakoInflater = new MessageInflater(15, true);
  const wasmInflater = new WasmMessageInflater(15, true);
  const deflateRows = [];
  const inflateRows = [];
  for (const [label, size] of SIZES) {
    const json = jsonText(size);
    const sizes = {
      pako: pakoDeflater.compress(json, true, true).length,
      wasm: wasmDeflater.compress(json, true, true).length,
      zlib: zlib.deflateRawSync(json, { level: 6 }).length,
    };
    const d = await measure(
      {
        pako: () => pakoDeflater.compress(json, true, true),
        wasm: () => wasmDeflater.compress(json, true, true),
        zlib: () => zlib.deflateRawSync(json, { level: 6, finishFlush: zlib.constants.Z_SYNC_FLUSH }),
      },
      1,
    );
    deflateRows.push([
      label,
      fmtNs(d.pako),
      fmtNs(d.wasm),
      fmtNs(d.zlib),
      `${(d.pako / d.wasm).toFixed(1)}×`,
      `${(d.zlib / d.wasm).toFixed(2)}×`,
      `${sizes.pako} / ${sizes.wasm} / ${sizes.zlib}`,
    ]);

    // What a client sends: zlib's level-6 output, the sync-flush trailer removed.
    const full = zlib.deflateRawSync(json, { level: 6, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const compressed = full.subarray(0, full.length - 4);
    const i = await measure(
      {
        pako: () => inflateWith(pakoInflater, compressed),
        wasm: () => inflateWith(wasmInflater, compressed),
        zlib: () => zlib.inflateRawSync(full, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
      },
      1,
    );
    inflateRows.push([label, String(compressed.length), fmtNs(i.pako), fmtNs(i.wasm), fmtNs(i.zlib), `${(i.pako / i.wasm).toFixed(1)}×`, `${(i.zlib / i.wasm).toFixed(2)}×`]);
  }
  return {
    title: 'permessage-deflate per message (JSON text, level 6, no context takeover)',
    note:
      'Time per whole message. pako = the js engine (MessageDeflater/MessageInflater); WASM = the wasm, pool and auto engines ' +
      '(WasmMessageDeflater/WasmMessageInflater: copy into linear memory, kernel, copy out); zlib = Node\'s native zlib, synchronous. ' +
      '"vs pako" and "vs zlib" are speed-ups of WASM (above 1 = WASM faster). Sizes are the compressed bytes (pako / WASM / zlib).',
    markdown: [
      table(['compress', 'pako', 'WASM', 'zlib (native)', 'WASM vs pako', 'WASM vs zlib', 'bytes'], deflateRows),
      '',
      table(['inflate', 'compressed bytes', 'pako', 'WASM', 'zlib (native)', 'WASM vs pako', 'WASM vs zlib'], inflateRows),
    ].join('\n'),
  };
}
