/**
 * The `js` engine: the pure-TypeScript codec, run inline on the main thread.
 *
 * It answers synchronously, and it is the baseline every other engine is measured and
 * checked against.
 */

import type { CodecOptions } from '../protocol/codec.js';
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { FrameCodec, type SyncCodec, type SyncEngine } from './frame-codec.js';

export type { SyncCodec, SyncEngine } from './frame-codec.js';

/** The `js` engine. It holds nothing engine-wide, so `close()` has nothing to do. */
export const jsEngine: SyncEngine = Object.freeze({
  name: 'js',
  createCodec(options: CodecOptions): SyncCodec {
    return new FrameCodec(new FrameDecoder(options), options);
  },
  async close(): Promise<void> {},
});
