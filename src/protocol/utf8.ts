/**
 * Incremental UTF-8 validation (RFC 3629) in plain TypeScript: the baseline every faster
 * validator (simdutf through `buffer.isUtf8`, the WASM one) is checked and measured against.
 *
 * WebSocket text must be rejected as soon as an invalid byte arrives (RFC 6455 8.1, Autobahn
 * 6.4 "fail fast"), even when the message comes in many frames or one frame comes in many TCP
 * chunks. So the validator is fed pieces in order and carries an incomplete sequence across
 * pieces; only at the end of the message is a truncated sequence an error.
 */

/** Below this many bytes a typed-array view costs more than the word-wise ASCII scan saves. */
const WORD_SCAN_MIN_BYTES = 128;

/**
 * Validates a stream of UTF-8 bytes fed in pieces.
 *
 * Well-formed means RFC 3629 / Unicode table 3-7: no overlong forms (C0, C1, E0 80–9F,
 * F0 80–8F), no surrogates (ED A0–BF), nothing above U+10FFFF (F4 90+, F5–FF).
 * Noncharacters such as U+FFFE and U+FFFF are well-formed and accepted.
 *
 * @example
 * ```ts
 * const v = new Utf8Validator();
 * v.push(piece1) === -1 && v.push(piece2) === -1 && v.complete; // true when the whole text is valid
 * ```
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the sequence left open by the previous piece. */
  private need = 0;
  /** Allowed range of the next continuation byte (narrower than 80–BF right after E0, ED, F0, F4). */
  private lower = 0x80;
  private upper = 0xbf;

  /**
   * Checks `bytes[start, end)` as the next piece of the stream.
   *
   * @returns -1 when everything so far is valid (a sequence may still be open, see
   *   {@link complete}), otherwise the index in `bytes` of the first invalid byte. After a
   *   failure the validator's state is undefined until {@link reset}.
   */
  push(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
    let i = start;
    if (this.need !== 0) {
      // Finish the sequence the previous piece ended in.
      let need = this.need;
      let lower = this.lower;
      let upper = this.upper;
      while (need !== 0) {
        if (i >= end) {
          this.need = need;
          this.lower = lower;
          this.upper = upper;
          return -1;
        }
        const b = bytes[i];
        if (b < lower || b > upper) return i;
        lower = 0x80;
        upper = 0xbf;
        need--;
        i++;
      }
      this.need = 0;
      this.lower = 0x80;
      this.upper = 0xbf;
    }

    // A 32-bit view over the aligned middle of the piece, made only for long pieces.
    let words: Uint32Array | null = null;
    let wordsBase = 0; // index in `bytes` of words[0]
    if (end - i >= WORD_SCAN_MIN_BYTES) {
      const firstAligned = i + ((4 - ((bytes.byteOffset + i) & 3)) & 3);
      const count = (end - firstAligned) >>> 2;
      words = new Uint32Array(bytes.buffer, bytes.byteOffset + firstAligned, count);
      wordsBase = firstAligned;
    }

    while (i < end) {
      const b = bytes[i];
      if (b < 0x80) {
        i++;
        if (words !== null && end - i >= 16) {
          i = skipAsciiWords(bytes, i, end, words, wordsBase);
        } else {
          while (i < end && bytes[i] < 0x80) i++;
        }
        continue;
      }
      if (b < 0xc2) return i; // a stray continuation byte, or C0/C1 (always overlong)
      if (b < 0xe0) {
        if (i + 1 >= end) return this.suspend(bytes, i + 1, end, 1, 0x80, 0xbf);
        if ((bytes[i + 1] & 0xc0) !== 0x80) return i + 1;
        i += 2;
        continue;
      }
      if (b < 0xf0) {
        // E0 A0–BF: not overlong; ED 80–9F: not a surrogate.
        const lower = b === 0xe0 ? 0xa0 : 0x80;
        const upper = b === 0xed ? 0x9f : 0xbf;
        if (i + 2 >= end) return this.suspend(bytes, i + 1, end, 2, lower, upper);
        const c1 = bytes[i + 1];
        if (c1 < lower || c1 > upper) return i + 1;
        if ((bytes[i + 2] & 0xc0) !== 0x80) return i + 2;
        i += 3;
        continue;
      }
      if (b < 0xf5) {
        // F0 90–BF: not overlong; F4 80–8F: not above U+10FFFF.
        const lower = b === 0xf0 ? 0x90 : 0x80;
        const upper = b === 0xf4 ? 0x8f : 0xbf;
        if (i + 3 >= end) return this.suspend(bytes, i + 1, end, 3, lower, upper);
        const c1 = bytes[i + 1];
        if (c1 < lower || c1 > upper) return i + 1;
        if ((bytes[i + 2] & 0xc0) !== 0x80) return i + 2;
        if ((bytes[i + 3] & 0xc0) !== 0x80) return i + 3;
        i += 4;
        continue;
      }
      return i; // F5–FF never appear in UTF-8
    }
    return -1;
  }

  /** True when no multi-byte sequence is left open: the text pushed so far may end here. */
  get complete(): boolean {
    return this.need === 0;
  }

  /** Forgets any open sequence, ready for a new text. */
  reset(): void {
    this.need = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }

  /**
   * The piece ends inside a sequence: check the continuation bytes that did arrive (so that
   * e.g. F4 90 fails at once) and remember what the next piece must start with.
   */
  private suspend(bytes: Uint8Array, i: number, end: number, need: number, lower: number, upper: number): number {
    while (i < end) {
      const b = bytes[i];
      if (b < lower || b > upper) return i;
      lower = 0x80;
      upper = 0xbf;
      need--;
      i++;
    }
    this.need = need;
    this.lower = lower;
    this.upper = upper;
    return -1;
  }
}

/**
 * Skips ASCII from `i`: bytes until the word grid, then two aligned words per step, then
 * bytes. Returns the index of the first non-ASCII byte or `end`.
 */
function skipAsciiWords(bytes: Uint8Array, i: number, end: number, words: Uint32Array, wordsBase: number): number {
  while (i < end && ((i - wordsBase) & 3) !== 0) {
    if (bytes[i] >= 0x80) return i;
    i++;
  }
  let w = (i - wordsBase) >>> 2;
  const lastPair = words.length - 1;
  while (w < lastPair && ((words[w] | words[w + 1]) & 0x80808080) === 0) w += 2;
  i = wordsBase + (w << 2);
  while (i < end && bytes[i] < 0x80) i++;
  return i;
}

/** Shared by {@link utf8IsValid}: validation of a whole buffer needs no state between calls. */
const oneShot = new Utf8Validator();

/**
 * Whether `bytes[start, end)` is complete, well-formed UTF-8 (e.g. a close frame's reason).
 */
export function utf8IsValid(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
  oneShot.reset();
  const valid = oneShot.push(bytes, start, end) === -1 && oneShot.complete;
  oneShot.reset();
  return valid;
}
