/**
 * The `js` engine: the pure-TypeScript codec, run inline on the main thread.
 *
 * It answers synchronously, and it is the baseline every other engine is measured and
 * checked against.
 */

import type { Codec, CodecOptions, DecodeResult, EncodeRequest, Engine } from '../protocol/codec.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { MessageEncoder } from '../protocol/message-encoder.js';

/** A {@link Codec} that always answers synchronously. */
export interface SyncCodec extends Codec {
  decode(chunk: Buffer): DecodeResult;
  encode(request: EncodeRequest): Buffer[];
}

/** One connection's codec: a {@link FrameDecoder} for what comes in, a {@link MessageEncoder} for what goes out. */
export class JsCodec implements SyncCodec {
  private readonly decoder: FrameDecoder;
  private readonly encoder: MessageEncoder;
  private disposed = false;

  constructor(options: CodecOptions) {
    this.decoder = new FrameDecoder(options);
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

/** An {@link Engine} whose codecs answer synchronously. */
export interface SyncEngine extends Engine {
  createCodec(options: CodecOptions): SyncCodec;
}

/** The `js` engine. It holds nothing engine-wide, so `close()` has nothing to do. */
export const jsEngine: SyncEngine = Object.freeze({
  name: 'js',
  createCodec(options: CodecOptions): SyncCodec {
    return new JsCodec(options);
  },
  async close(): Promise<void> {},
});
