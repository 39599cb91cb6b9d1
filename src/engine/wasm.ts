/**
 * The `wasm` engine: the codec with its hot path in the AssemblyScript module
 * (`build/wsworks.wasm`), run inline on the main thread.
 *
 * Decoding goes through {@link WasmFrameDecoder} (one copy of each chunk into linear memory,
 * one copy back, payloads handed out as views of the chunk). Encoding is the js engine's
 * {@link MessageEncoder}: a server frame header is 2 to 10 bytes written next to a payload
 * that stays where it is, so moving it through linear memory would only add copies (the
 * kernel bench shows the header kernel losing to the JS writer). permessage-deflate is the
 * js engine's pako path in both directions.
 *
 * It answers synchronously and gives the same events, bytes and violations as `js`.
 */

import type { CodecOptions, DecodeResult, EncodeRequest } from '../protocol/codec.js';
import { MessageEncoder } from '../protocol/message-encoder.js';
import type { SyncCodec, SyncEngine } from './js.js';
import { WasmFrameDecoder } from './wasm-decoder.js';
import { wasmRuntime } from './wasm-module.js';

/** One connection's codec: a {@link WasmFrameDecoder} in, a {@link MessageEncoder} out. */
export class WasmCodec implements SyncCodec {
  private readonly decoder: WasmFrameDecoder;
  private readonly encoder: MessageEncoder;
  private disposed = false;

  constructor(options: CodecOptions) {
    this.decoder = new WasmFrameDecoder(options, wasmRuntime());
    this.encoder = new MessageEncoder(options);
  }

  /** See {@link Codec.decode}. After a violation or a close frame, further bytes are ignored. */
  decode(chunk: Buffer): DecodeResult {
    return this.decoder.decode(chunk);
  }

  /** See {@link Codec.encode}. */
  encode(request: EncodeRequest): Buffer[] {
    if (this.disposed) throw new Error('encode(): the codec was disposed.');
    return this.encoder.encode(request);
  }

  /** See {@link Codec.dispose}. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.decoder.dispose();
    this.encoder.dispose();
  }
}

/**
 * The `wasm` engine. The module is compiled on the first `createCodec` (synchronously, a few
 * KiB), which throws when `build/wsworks.wasm` is missing.
 */
export const wasmEngine: SyncEngine = Object.freeze({
  name: 'wasm',
  createCodec(options: CodecOptions): SyncCodec {
    return new WasmCodec(options);
  },
  async close(): Promise<void> {},
});
