// The wsworks WASM hot path. Kernels work on regions of linear memory that the TypeScript
// side manages (pointers and lengths in, results out): no garbage-collected allocation.

/**
 * Unmasks `len` bytes at `ptr` in place with the 4-byte `mask` (as read little-endian from
 * the frame header), starting `maskOffset` bytes into the mask (a payload split across chunks).
 */
export function unmask(ptr: usize, len: usize, mask: u32, maskOffset: u32): void {
  // Rotate so byte 0 of the region lines up with mask byte `maskOffset`.
  const shift = (maskOffset & 3) << 3;
  const m = shift == 0 ? mask : (mask >>> shift) | (mask << (32 - shift));
  const m128 = i32x4.splat(<i32>m);
  let i: usize = 0;
  const end16 = len & ~(<usize>15);
  while (i < end16) {
    v128.store(ptr + i, v128.xor(v128.load(ptr + i), m128));
    i += 16;
  }
  let rest = m;
  while (i < len) {
    store<u8>(ptr + i, load<u8>(ptr + i) ^ <u8>(rest & 0xff));
    rest = (rest >>> 8) | (rest << 24);
    i++;
  }
}
