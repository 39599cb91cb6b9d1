// Incremental UTF-8 validation (RFC 3629), the twin of src/protocol/utf8.ts.
//
// The state carried between pieces is one u32 in linear memory: continuation bytes still
// expected (bits 0-1) and the allowed range of the next one (lower in bits 8-15, upper in
// 16-23). 0 means "between characters". Long runs are checked 16 bytes at a time: ASCII with
// one bitmask, multi-byte text with the lookup algorithm of Keiser and Lemire ("Validating
// UTF-8 in less than one instruction per byte", 2021). When a vector check fails, the scalar
// validator restarts at the last character boundary to find the exact first invalid byte.

/** `utf8Piece`: the piece is valid so far, but its middle was left to the caller. */
export const UTF8_DEFERRED: i32 = -2;

// Error classes of the lookup algorithm (one bit each; 64 stands for two of them).
const TOO_SHORT: u8 = 1;
const TOO_LONG: u8 = 2;
const OVERLONG_3: u8 = 4;
const TOO_LARGE: u8 = 8;
const SURROGATE: u8 = 16;
const OVERLONG_2: u8 = 32;
const TOO_LARGE_1000: u8 = 64;
const OVERLONG_4: u8 = 64;
const TWO_CONTS: u8 = 128;
const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;

// @ts-ignore: decorator
@inline
function packState(need: u32, lower: u32, upper: u32): u32 {
  return need | (lower << 8) | (upper << 16);
}

/**
 * The piece ends inside a sequence: checks the continuation bytes that did arrive and stores
 * what the next piece must start with. Returns the index of a bad byte, or -1.
 */
function suspend(ptr: usize, i: usize, len: usize, need: u32, lower: u32, upper: u32, statePtr: usize): i32 {
  while (i < len) {
    const b = <u32>load<u8>(ptr + i);
    if (b < lower || b > upper) return <i32>i;
    lower = 0x80;
    upper = 0xbf;
    need--;
    i++;
  }
  store<u32>(statePtr, packState(need, lower, upper));
  return -1;
}

/** Byte-at-a-time validation from a character boundary `i` to `len` (stores the end state). */
function scalarFrom(ptr: usize, i: usize, len: usize, statePtr: usize): i32 {
  while (i < len) {
    const b = <u32>load<u8>(ptr + i);
    if (b < 0x80) {
      i++;
      while (i + 8 <= len && (load<u64>(ptr + i) & 0x8080808080808080) == 0) i += 8;
      while (i < len && load<u8>(ptr + i) < 0x80) i++;
      continue;
    }
    if (b < 0xc2) return <i32>i; // a stray continuation byte, or C0/C1 (always overlong)
    if (b < 0xe0) {
      if (i + 1 >= len) return suspend(ptr, i + 1, len, 1, 0x80, 0xbf, statePtr);
      if ((load<u8>(ptr + i + 1) & 0xc0) != 0x80) return <i32>(i + 1);
      i += 2;
      continue;
    }
    if (b < 0xf0) {
      // E0 A0-BF: not overlong; ED 80-9F: not a surrogate.
      const lower: u32 = b == 0xe0 ? 0xa0 : 0x80;
      const upper: u32 = b == 0xed ? 0x9f : 0xbf;
      if (i + 2 >= len) return suspend(ptr, i + 1, len, 2, lower, upper, statePtr);
      const c1 = <u32>load<u8>(ptr + i + 1);
      if (c1 < lower || c1 > upper) return <i32>(i + 1);
      if ((load<u8>(ptr + i + 2) & 0xc0) != 0x80) return <i32>(i + 2);
      i += 3;
      continue;
    }
    if (b < 0xf5) {
      // F0 90-BF: not overlong; F4 80-8F: not above U+10FFFF.
      const lower: u32 = b == 0xf0 ? 0x90 : 0x80;
      const upper: u32 = b == 0xf4 ? 0x8f : 0xbf;
      if (i + 3 >= len) return suspend(ptr, i + 1, len, 3, lower, upper, statePtr);
      const c1 = <u32>load<u8>(ptr + i + 1);
      if (c1 < lower || c1 > upper) return <i32>(i + 1);
      if ((load<u8>(ptr + i + 2) & 0xc0) != 0x80) return <i32>(i + 2);
      if ((load<u8>(ptr + i + 3) & 0xc0) != 0x80) return <i32>(i + 3);
      i += 4;
      continue;
    }
    return <i32>i; // F5-FF never appear in UTF-8
  }
  store<u32>(statePtr, 0);
  return -1;
}

/**
 * The start of the character that `pos` is in or just after, given that `[start, pos)` is
 * valid and `start` is a character boundary: the lead byte of a sequence straddling `pos`.
 */
// @ts-ignore: decorator
@inline
function boundaryAtOrBefore(ptr: usize, start: usize, pos: usize): usize {
  for (let k: usize = 1; k <= 3; k++) {
    if (pos < start + k) break;
    const b = load<u8>(ptr + pos - k);
    if (b >= 0xc0) return pos - k;
    if (b < 0x80) break;
  }
  return pos;
}

// Lookup tables of the vector check, indexed by a nibble.
// @ts-ignore: decorator
@inline
function byte1HighTable(): v128 {
  return i8x16(
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
    TOO_SHORT | OVERLONG_2,
    TOO_SHORT,
    TOO_SHORT | OVERLONG_3 | SURROGATE,
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
  );
}

// @ts-ignore: decorator
@inline
function byte1LowTable(): v128 {
  return i8x16(
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
    CARRY | OVERLONG_2,
    CARRY,
    CARRY,
    CARRY | TOO_LARGE,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000,
  );
}

// @ts-ignore: decorator
@inline
function byte2HighTable(): v128 {
  return i8x16(
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
  );
}

/** Nonzero lanes where the 16 bytes `input` (after `prev`) break a UTF-8 rule. */
// @ts-ignore: decorator
@inline
function blockErrors(prev: v128, input: v128): v128 {
  const nibble = i8x16.splat(0x0f);
  const prev1 = i8x16.shuffle(prev, input, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
  const prev2 = i8x16.shuffle(prev, input, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
  const prev3 = i8x16.shuffle(prev, input, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28);
  const special = v128.and(
    v128.and(
      i8x16.swizzle(byte1HighTable(), i8x16.shr_u(prev1, 4)),
      i8x16.swizzle(byte1LowTable(), v128.and(prev1, nibble)),
    ),
    i8x16.swizzle(byte2HighTable(), i8x16.shr_u(input, 4)),
  );
  // A third byte after E0-EF, a third or fourth after F0-FF: must be continuation bytes
  // (prev2 - 0x60 and prev3 - 0x70 have bit 7 set exactly then).
  const must23 = v128.and(
    v128.or(i8x16.sub_sat_u(prev2, i8x16.splat(0x60)), i8x16.sub_sat_u(prev3, i8x16.splat(0x70))),
    i8x16.splat(<i8>0x80),
  );
  return v128.xor(must23, special);
}

/** Nonzero where a block's last bytes start a sequence that the block does not finish. */
// @ts-ignore: decorator
@inline
function blockIncomplete(input: v128): v128 {
  return i8x16.sub_sat_u(input, i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, <i8>0xef, <i8>0xdf, <i8>0xbf));
}

/** Validation from a character boundary `start`: vectors over whole 16-byte blocks, then bytes. */
function validateFrom(ptr: usize, start: usize, len: usize, statePtr: usize): i32 {
  if (len - start < 16) return scalarFrom(ptr, start, len, statePtr);
  const zero = i8x16.splat(0);
  let i = start;
  let prev = zero;
  let prevIncomplete = zero;
  const blocksEnd = start + ((len - start) & ~(<usize>15));
  // Two blocks a step: one check of the error lanes per 32 bytes.
  while (i + 32 <= blocksEnd) {
    const p = ptr + i;
    const in0 = v128.load(p);
    const in1 = v128.load(p, 16);
    if (i8x16.bitmask(v128.or(in0, in1)) == 0) {
      // ASCII: only a sequence left open by the previous block can be wrong here.
      if (v128.any_true(prevIncomplete)) break;
      i += 32;
      while (i + 64 <= blocksEnd) {
        const q = ptr + i;
        const any = v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48)));
        if (i8x16.bitmask(any) != 0) break;
        i += 64;
      }
      prev = zero;
      continue;
    }
    if (v128.any_true(v128.or(blockErrors(prev, in0), blockErrors(in0, in1)))) break;
    prevIncomplete = blockIncomplete(in1);
    prev = in1;
    i += 32;
  }
  if (i + 16 <= blocksEnd && i + 32 > blocksEnd) {
    // The last single block (unless the loop above stopped at an error).
    const input = v128.load(ptr + i);
    if (!v128.any_true(blockErrors(prev, input))) i += 16;
  }
  // Everything before block `i` is valid: go on byte by byte from the character boundary
  // there, to find the exact error in block `i` or to validate the bytes after the last block.
  return scalarFrom(ptr, boundaryAtOrBefore(ptr, start, i), len, statePtr);
}

/**
 * Validates `len` bytes at `ptr` as the next piece of a UTF-8 stream whose state is the u32
 * at `statePtr` (0 at the start of a text). Returns -1 when all is valid so far (the state
 * then says whether a sequence is still open), or the index in the piece of the first
 * invalid byte (the state is then undefined until reset to 0).
 */
export function utf8Validate(ptr: usize, len: usize, statePtr: usize): i32 {
  const state = load<u32>(statePtr);
  let i: usize = 0;
  let need = state & 3;
  if (need != 0) {
    // Finish the sequence the previous piece ended in.
    let lower = (state >>> 8) & 0xff;
    let upper = (state >>> 16) & 0xff;
    while (need != 0) {
      if (i >= len) {
        store<u32>(statePtr, packState(need, lower, upper));
        return -1;
      }
      const b = <u32>load<u8>(ptr + i);
      if (b < lower || b > upper) return <i32>i;
      lower = 0x80;
      upper = 0xbf;
      need--;
      i++;
    }
  }
  return validateFrom(ptr, i, len, statePtr);
}

/** The index of the first byte at or after `i` that is not ASCII, or `len`. */
function asciiPrefix(ptr: usize, i: usize, len: usize): usize {
  while (i + 64 <= len) {
    const q = ptr + i;
    const any = v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48)));
    if (i8x16.bitmask(any) != 0) break;
    i += 64;
  }
  while (i + 16 <= len) {
    const bits = i8x16.bitmask(v128.load(ptr + i));
    if (bits != 0) return i + <usize>ctz(bits);
    i += 16;
  }
  while (i < len && load<u8>(ptr + i) < 0x80) i++;
  return i;
}

/**
 * Like {@link utf8Validate}, but when a piece holds `deferFrom` bytes or more (at least 16)
 * after its leading ASCII, the kernel only checks its edges: the end of a sequence open before
 * it, the leading ASCII, and a sequence left open at its end. The complete characters between,
 * `[head, len - tail)`, are left to the caller (who has a faster validator for long multi-byte
 * runs): head and tail are stored as u32 at `statePtr + 4` and `statePtr + 8`, and the result
 * is {@link UTF8_DEFERRED}. Otherwise as {@link utf8Validate}.
 */
export function utf8Piece(ptr: usize, len: usize, statePtr: usize, deferFrom: usize): i32 {
  if (len < deferFrom || len < 16) return utf8Validate(ptr, len, statePtr);
  let head: usize = load<u32>(statePtr) & 3;
  if (head != 0) {
    const r = utf8Validate(ptr, head, statePtr);
    if (r >= 0) return r;
  }
  head = asciiPrefix(ptr, head, len);
  if (len - head < deferFrom || len - head < 16) {
    store<u32>(statePtr, 0);
    return validateFrom(ptr, head, len, statePtr);
  }
  // The start of a sequence the piece ends inside, if any.
  let t = len;
  for (let k: usize = 1; k <= 3; k++) {
    const b = load<u8>(ptr + len - k);
    if (b < 0x80) break;
    if (b >= 0xc0) {
      const size: usize = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      if (size > k) t = len - k;
      break;
    }
  }
  store<u32>(statePtr, 0);
  if (t < len) {
    const r = utf8Validate(ptr + t, len - t, statePtr);
    if (r >= 0) return <i32>t + r;
  }
  store<u32>(statePtr + 4, <u32>head);
  store<u32>(statePtr + 8, <u32>(len - t));
  return UTF8_DEFERRED;
}
