/**
 * The `wasm` engine: the codec with its hot path in the AssemblyScript module
 * (`build/wsworks.wasm`), run inline on the main thread.
 *
 * Decoding goes through {@link WasmFrameDecoder} (one copy of each chunk into linear memory,
 * one copy back, payloads handed out as views of the chunk). Encoding is the js engine's
 * {@link MessageEncoder}: a server frame header is 2 to 10 bytes written next to a payload
 * that stays where it is, so moving it through linear memory would only add copies (the
 * kernel bench shows the header kernel losing to the JS writer). permessage-deflate runs on
 * the module too (`wasm-deflater.ts`, `wasm-inflater.ts`), in a second instance of it.
 *
 * It answers synchronously and gives the same events, bytes and violations as `js`.
 */

import type { CodecOptions } from '../protocol/codec.js';
import { FrameCodec, type SyncCodec, type SyncEngine } from './frame-codec.js';
import { WasmFrameDecoder } from './wasm-decoder.js';
import { createWasmDeflater } from './wasm-deflater.js';
import { wasmRuntime } from './wasm-module.js';

/**
 * The `wasm` engine. The module is compiled on the first `createCodec` (synchronously, a few
 * KiB), which throws when `build/wsworks.wasm` is missing.
 */
export const wasmEngine: SyncEngine = Object.freeze({
  name: 'wasm',
  createCodec(options: CodecOptions): SyncCodec {
    return new FrameCodec(new WasmFrameDecoder(options, wasmRuntime()), options, createWasmDeflater);
  },
  async close(): Promise<void> {},
});
