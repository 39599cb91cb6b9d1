// Server frame headers (RFC 6455 5.2): never masked, so 2, 4 or 10 bytes. The twin of
// writeFrameHeader in src/protocol/frame-encoder.ts.

/**
 * Writes the header of an unmasked frame at `ptr`: `b0` is its first byte (FIN, RSV1,
 * opcode), `length` its payload length (an integer below 2^53). Returns the header size.
 */
export function writeFrameHeader(ptr: usize, b0: u32, length: f64): u32 {
  store<u8>(ptr, <u8>b0);
  if (length < 126) {
    store<u8>(ptr, <u8>length, 1);
    return 2;
  }
  if (length < 0x10000) {
    store<u8>(ptr, 126, 1);
    store<u16>(ptr, bswap<u16>(<u16>length), 2);
    return 4;
  }
  store<u8>(ptr, 127, 1);
  store<u64>(ptr, bswap<u64>(<u64>length), 2);
  return 10;
}

/**
 * Writes `count` frame headers back to back at `out`, one per 16-byte request at `requests`
 * (u32 first byte, u32 pad, f64 payload length), and stores each header's size as a u8 after
 * the requests (at `requests + count * 16`). Returns the bytes written.
 */
export function writeFrameHeaders(requests: usize, count: u32, out: usize): u32 {
  let at = out;
  const sizes = requests + (<usize>count << 4);
  for (let i: u32 = 0; i < count; i++) {
    const r = requests + (<usize>i << 4);
    const size = writeFrameHeader(at, load<u32>(r), load<f64>(r, 8));
    store<u8>(sizes + i, <u8>size);
    at += size;
  }
  return <u32>(at - out);
}
