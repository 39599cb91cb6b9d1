// The wsworks WASM hot path. Kernels work on regions of linear memory that the TypeScript
// side manages (pointers and lengths in, results out): no garbage-collected allocation, the
// stub runtime, and one concern per file.
//
//   unmask.ts        in-place SIMD XOR with a masking key
//   utf8.ts          incremental UTF-8 validation (SIMD ASCII and multi-byte paths)
//   frames.ts        all client frames of a chunk in one call: headers, unmask, UTF-8, limits
//   close.ts         close frame payload checks
//   frame-header.ts  server frame headers
//   deflate.ts       permessage-deflate compression of one message (raw DEFLATE, sync flush)
//   inflate.ts       permessage-deflate decompression of one message, whole or piece by piece

export { unmask } from './unmask';
export { utf8Validate, utf8Piece } from './utf8';
export { decodeFrames } from './frames';
export { checkClosePayload } from './close';
export { writeFrameHeader, writeFrameHeaders } from './frame-header';
export { deflateRaw, deflateWorkSize } from './deflate';
export { inflateRaw, inflatePiece, inflateWorkSize } from './inflate';

/** The first byte of linear memory that no static data uses: the TypeScript side's regions start here. */
export function heapBase(): usize {
  return __heap_base;
}
