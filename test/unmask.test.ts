/**
 * In-place unmasking against a byte-by-byte reference: every alignment of the underlying
 * memory, every mask offset (a payload unmasked in pieces), lengths around the word threshold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readMaskKey, unmask } from '../src/protocol/unmask.js';

function referenceUnmask(bytes: Uint8Array, key: readonly number[], keyOffset: number): Buffer {
  return Buffer.from(bytes.map((b, i) => b ^ key[(i + keyOffset) & 3]));
}

describe('unmask', () => {
  const key = [0x9a, 0x01, 0xfe, 0x5c];
  const keyWord = readMaskKey(Uint8Array.from(key), 0);

  it('reads the key with byte 0 most significant', () => {
    expect(keyWord).toBe(0x9a01fe5c);
  });

  it('matches the reference for every alignment, mask offset and length 0–300', () => {
    const backing = Buffer.alloc(320);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 131 + 7) & 0xff;
    for (let align = 0; align < 4; align++) {
      for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
        for (let length = 0; length <= 300; length += length < 140 ? 1 : 37) {
          const view = Buffer.from(backing).subarray(align, align + length);
          const expected = referenceUnmask(view, key, keyOffset);
          unmask(view, 0, length, keyWord, keyOffset);
          expect(view).toEqual(expected);
        }
      }
    }
  });

  it('touches only [start, end)', () => {
    const bytes = Buffer.alloc(400, 0x11);
    unmask(bytes, 3, 397, Uint8Array.from(key));
    expect(bytes.subarray(0, 3)).toEqual(Buffer.alloc(3, 0x11));
    expect(bytes.subarray(397)).toEqual(Buffer.alloc(3, 0x11));
    expect(bytes.subarray(3, 397)).toEqual(referenceUnmask(Buffer.alloc(394, 0x11), key, 0));
  });

  it('unmasking a payload in pieces equals unmasking it whole (random cuts)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 700 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (payload, k, rawCuts) => {
          const whole = referenceUnmask(payload, k, 0);
          const cuts = [...new Set(rawCuts.map((c) => c % (payload.length + 1)))].sort((a, b) => a - b);
          const bytes = Buffer.from(payload);
          let start = 0;
          for (const end of [...cuts, bytes.length]) {
            unmask(bytes, start, end, Uint8Array.from(k), start);
            start = end;
          }
          expect(bytes).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is its own inverse', () => {
    const original = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(20));
    const bytes = Buffer.from(original);
    unmask(bytes, 0, bytes.length, keyWord, 1);
    expect(bytes).not.toEqual(original);
    unmask(bytes, 0, bytes.length, keyWord, 1);
    expect(bytes).toEqual(original);
  });
});
