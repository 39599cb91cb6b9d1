/**
 * A synchronous codec built from a decoder and the shared outgoing {@link MessageEncoder}:
 * what the inline engines (`js`, `wasm`) have in common. The encoder is built on the first
 * send, so a connection that only listens carries none.
 */
import type { Codec, CodecOptions, DecodeResult, EncodeRequest, Engine } from '../protocol/codec.js';
import { MessageEncoder } from '../protocol/message-encoder.js';
import type { DeflaterFactory } from '../protocol/permessage-deflate.js';

/** A {@link Codec} that always answers synchronously. */
export interface SyncCodec extends Codec {
  decode(chunk: Buffer): DecodeResult;
  encode(request: EncodeRequest): Buffer[];
}

/** An {@link Engine} whose codecs answer synchronously. */
export interface SyncEngine extends Engine {
  createCodec(options: CodecOptions): SyncCodec;
}

/** What a decoder offers the codec. */
export interface FrameDecoding {
  decode(chunk: Buffer): DecodeResult;
  dispose(): void;
}

/**
 * One connection's codec: `decoder` for what comes in, a lazily built MessageEncoder for what
 * goes out, compressing with `createDeflater` (pako's deflater when omitted).
 */
export class FrameCodec implements SyncCodec {
  private encoder: MessageEncoder | null = null;
  private disposed = false;

  constructor(
    private readonly decoder: FrameDecoding,
    private readonly options: CodecOptions,
    private readonly createDeflater?: DeflaterFactory,
  ) {}

  /** See {@link Codec.decode}. After a violation or a close frame, further bytes are ignored. */
  decode(chunk: Buffer): DecodeResult {
    return this.decoder.decode(chunk);
  }

  /** See {@link Codec.encode}. */
  encode(request: EncodeRequest): Buffer[] {
    if (this.disposed) throw new Error('encode(): the codec was disposed.');
    return (this.encoder ??= new MessageEncoder({ ...this.options, createDeflater: this.createDeflater })).encode(request);
  }

  /** See {@link Codec.dispose}. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.decoder.dispose();
    this.encoder?.dispose();
  }
}
