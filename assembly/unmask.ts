// In-place XOR with a WebSocket masking key (RFC 6455 5.3), 16 bytes per v128 step.

/**
 * Rotates a mask (as loaded little-endian from the frame header: key byte 0 in the low byte)
 * by `n` bytes, so that key byte `n & 3` applies to the first byte.
 */
// @ts-ignore: decorator
@inline
export function rotateMask(mask: u32, n: usize): u32 {
  const shift = (<u32>n & 3) << 3;
  return shift == 0 ? mask : (mask >>> shift) | (mask << (32 - shift));
}

/**
 * XORs `len` bytes at `ptr` in place with the mask `m`, whose low byte applies to `ptr[0]`.
 * Any alignment, any length.
 */
// @ts-ignore: decorator
@inline
export function xorMask(ptr: usize, len: usize, m: u32): void {
  let i: usize = 0;
  if (len >= 16) {
    const m128 = i32x4.splat(<i32>m);
    const end64 = len & ~(<usize>63);
    while (i < end64) {
      const p = ptr + i;
      v128.store(p, v128.xor(v128.load(p), m128));
      v128.store(p, v128.xor(v128.load(p, 16), m128), 16);
      v128.store(p, v128.xor(v128.load(p, 32), m128), 32);
      v128.store(p, v128.xor(v128.load(p, 48), m128), 48);
      i += 64;
    }
    const end16 = len & ~(<usize>15);
    while (i < end16) {
      v128.store(ptr + i, v128.xor(v128.load(ptr + i), m128));
      i += 16;
    }
  }
  const end4 = len & ~(<usize>3);
  while (i < end4) {
    store<u32>(ptr + i, load<u32>(ptr + i) ^ m);
    i += 4;
  }
  let rest = m;
  while (i < len) {
    store<u8>(ptr + i, load<u8>(ptr + i) ^ <u8>rest);
    rest >>>= 8;
    i++;
  }
}

/**
 * Unmasks `len` bytes at `ptr` in place with the 4-byte `mask` (as read little-endian from
 * the frame header), starting `maskOffset` bytes into the mask (a payload split across chunks).
 */
export function unmask(ptr: usize, len: usize, mask: u32, maskOffset: u32): void {
  xorMask(ptr, len, rotateMask(mask, maskOffset));
}
