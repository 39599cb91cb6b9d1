/**
 * The pure-TypeScript UTF-8 validator against Node's simdutf (`buffer.isUtf8`), the UTF-8
 * test sequences Autobahn section 6 sends, and the fail-fast rule: the first invalid byte is
 * reported as soon as it is pushed, wherever the input is cut.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Validator, utf8IsValid } from '../src/protocol/utf8.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Whether `prefix` can still be completed into valid UTF-8 (the oracle for "not yet invalid"). */
function isValidPrefix(prefix: Uint8Array): boolean {
  if (isUtf8(prefix)) return true;
  // A first continuation byte in each range RFC 3629 allows (80–8F/9F/BF, 90–BF, A0–BF), then 80s.
  for (const first of [0x80, 0x90, 0xa0]) {
    for (let extra = 0; extra < 3; extra++) {
      if (isUtf8(Buffer.concat([prefix, Buffer.from([first]), Buffer.alloc(extra, 0x80)]))) return true;
    }
  }
  return false;
}

/** Index of the first byte after which the input can no longer be valid UTF-8, or -1. */
function firstInvalidIndex(bytes: Uint8Array): number {
  if (isValidPrefix(bytes)) return -1;
  let lo = 0; // bytes[0, lo) is a valid prefix
  let hi = bytes.length; // bytes[0, hi) is not
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (isValidPrefix(bytes.subarray(0, mid))) lo = mid;
    else hi = mid;
  }
  return hi - 1;
}

/** Pushes `bytes` cut at `cuts`; returns the absolute index of the first invalid byte or -1, and completeness. */
function pushInPieces(bytes: Uint8Array, cuts: readonly number[]): { invalidAt: number; complete: boolean } {
  const v = new Utf8Validator();
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    const piece = Buffer.from(bytes.subarray(start, end)); // its own memory, so alignment varies
    const r = v.push(piece, 0, piece.length);
    if (r !== -1) return { invalidAt: start + r, complete: false };
    start = end;
  }
  return { invalidAt: -1, complete: v.complete };
}

/** Byte arrays that look like UTF-8 text with a few corruptions, and pure noise. */
const utf8ishBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    )
    .map(([text, edits]) => {
      const bytes = Buffer.from(text, 'utf8');
      for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
      return new Uint8Array(bytes);
    }),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
);

describe('Utf8Validator agrees with buffer.isUtf8', () => {
  it('on random valid and invalid byte arrays, including the index of the first bad byte', () => {
    fc.assert(
      fc.property(utf8ishBytes, (bytes) => {
        const v = new Utf8Validator();
        const r = v.push(bytes);
        expect(r).toBe(firstInvalidIndex(bytes));
        expect(r === -1 && v.complete).toBe(isUtf8(bytes));
        expect(utf8IsValid(bytes)).toBe(isUtf8(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('whatever the cuts: same first bad byte, same verdict at the end', () => {
    fc.assert(
      fc.property(utf8ishBytes, fc.array(fc.nat(), { maxLength: 6 }), (bytes, rawCuts) => {
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const { invalidAt, complete } = pushInPieces(bytes, cuts);
        expect(invalidAt).toBe(firstInvalidIndex(bytes));
        if (invalidAt === -1) expect(complete).toBe(isUtf8(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('when cut at every single position, and byte by byte', () => {
    const samples: Buffer[] = [
      'κόσμε', 'hello€world', '𤭢 and 😀', 'a\u0000b', '\uFFFF\uFFFE',
    ].map((s) => Buffer.from(s, 'utf8'));
    samples.push(hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64'), hex('f4 90 80 80'), hex('e0 9f bf'));
    for (const bytes of samples) {
      const expected = firstInvalidIndex(bytes);
      for (let cut = 0; cut <= bytes.length; cut++) expect(pushInPieces(bytes, [cut]).invalidAt).toBe(expected);
      const everyByte = Array.from({ length: bytes.length }, (_, i) => i);
      expect(pushInPieces(bytes, everyByte).invalidAt).toBe(expected);
    }
  });
});

describe('Autobahn section 6 sequences', () => {
  // [expected valid, bytes] — after Markus Kuhn's UTF-8 decoder stress test, as used by 6.x.
  const cases: Array<[boolean, string, string]> = [
    [true, 'U+0024', '68656c6c6f 24 776f726c64'],
    [true, 'U+00A2', 'c2a2'],
    [true, 'U+20AC', 'e282ac'],
    [true, 'U+24B62', 'f0a4ada2'],
    [true, 'κόσμε', 'cebae1bdb9cf83cebcceb5'],
    [true, 'first 1-byte', '00'],
    [true, 'first 2-byte', 'c280'],
    [true, 'first 3-byte', 'e0a080'],
    [true, 'first 4-byte', 'f0908080'],
    [false, 'first 5-byte', 'f888808080'],
    [false, 'first 6-byte', 'fc8480808080'],
    [true, 'last 1-byte', '7f'],
    [true, 'last 2-byte', 'dfbf'],
    [true, 'last 3-byte', 'efbfbf'],
    [true, 'U+10FFFF', 'f48fbfbf'],
    [false, 'last 4-byte form (U+1FFFFF)', 'f7bfbfbf'],
    [false, 'last 5-byte form', 'fbbfbfbfbf'],
    [false, 'last 6-byte form', 'fdbfbfbfbfbf'],
    [true, 'U+D7FF', 'ed9fbf'],
    [true, 'U+E000', 'ee8080'],
    [true, 'U+FFFD', 'efbfbd'],
    [false, 'U+110000', 'f4908080'],
    [false, 'lone continuation 80', '80'],
    [false, 'lone continuation bf', 'bf'],
    [false, 'continuations 80 bf 80', '80bf80'],
    [false, 'lonely start C0 + space', 'c020'],
    [false, 'lonely start E0 + space', 'e020'],
    [false, 'lonely start F0 + space', 'f020'],
    [false, 'missing last byte of C0', 'c0'],
    [false, 'missing last byte of E0 80', 'e080'],
    [false, 'missing last byte of DF', 'df'],
    [false, 'missing last byte of EF BF', 'efbf'],
    [false, 'missing last byte of F7 BF BF', 'f7bfbf'],
    [false, 'impossible FE', 'fe'],
    [false, 'impossible FF', 'ff'],
    [false, 'impossible FE FE FF FF', 'fefeffff'],
    [false, 'overlong slash C0 AF', 'c0af'],
    [false, 'overlong slash E0 80 AF', 'e080af'],
    [false, 'overlong slash F0 80 80 AF', 'f08080af'],
    [false, 'max overlong C1 BF', 'c1bf'],
    [false, 'max overlong E0 9F BF', 'e09fbf'],
    [false, 'max overlong F0 8F BF BF', 'f08fbfbf'],
    [false, 'overlong NUL C0 80', 'c080'],
    [false, 'overlong NUL E0 80 80', 'e08080'],
    [false, 'overlong NUL F0 80 80 80', 'f0808080'],
    [false, 'surrogate U+D800', 'eda080'],
    [false, 'surrogate U+DB7F', 'edadbf'],
    [false, 'surrogate U+DC00', 'edb080'],
    [false, 'surrogate U+DFFF', 'edbfbf'],
    [false, 'surrogate pair D800 DC00', 'eda080edb080'],
    [false, 'surrogate pair DBFF DFFF', 'edafbfedbfbf'],
    [true, 'noncharacter U+FFFE', 'efbfbe'],
    [true, 'noncharacter U+FFFF', 'efbfbf'],
    [true, 'noncharacter U+FDD0', 'efb790'],
    [true, 'noncharacter U+FDEF', 'efb7af'],
    [true, 'noncharacter U+1FFFE', 'f09fbfbe'],
    [true, 'noncharacter U+10FFFE', 'f48fbfbe'],
  ];

  it.each(cases)('%s: %s', (valid, _name, bytes) => {
    const data = hex(bytes);
    expect(utf8IsValid(data)).toBe(valid);
    expect(isUtf8(data)).toBe(valid); // the oracle agrees
  });

  it('every prefix of a valid multi-byte string is valid so far, and complete only on a boundary', () => {
    const text = hex('cebae1bdb9cf83cebcceb5');
    const boundaries = new Set([0, 2, 5, 7, 9, 11]);
    for (let n = 0; n <= text.length; n++) {
      const v = new Utf8Validator();
      expect(v.push(text, 0, n)).toBe(-1);
      expect(v.complete).toBe(boundaries.has(n));
    }
  });
});

describe('fail fast (Autobahn 6.4)', () => {
  const part1 = hex('cebae1bdb9cf83cebcceb5');

  it('rejects F4 90 as soon as the 90 arrives, in the piece it arrives in', () => {
    const v = new Utf8Validator();
    expect(v.push(part1)).toBe(-1);
    expect(v.push(hex('f4'))).toBe(-1); // F4 may still start U+100000–U+10FFFF
    expect(v.push(hex('90 80 80 65'))).toBe(0);
  });

  it('rejects ED A0 (a surrogate) at the A0, and E0 80 / F0 80 (overlongs) at the 80', () => {
    for (const [lead, bad] of [[0xed, 0xa0], [0xe0, 0x80], [0xf0, 0x80], [0xf4, 0x90], [0xf0, 0x8f]]) {
      const v = new Utf8Validator();
      expect(v.push(Buffer.from([0x61, lead]))).toBe(-1);
      expect(v.push(Buffer.from([bad, 0x80, 0x80]))).toBe(0);
      expect(new Utf8Validator().push(Buffer.from([0x61, lead, bad, 0x80, 0x80]))).toBe(2);
    }
  });

  it('rejects a bad continuation in the middle of a 4-byte sequence that spans three pieces', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('f0'))).toBe(-1);
    expect(v.push(hex('a4'))).toBe(-1);
    expect(v.push(hex('ad 41'))).toBe(1);
  });

  it('does not fail on a truncated sequence until the end is declared', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('e2 82'))).toBe(-1);
    expect(v.complete).toBe(false);
    expect(v.push(hex('ac'))).toBe(-1);
    expect(v.complete).toBe(true);
  });

  it('reset() forgets an open sequence', () => {
    const v = new Utf8Validator();
    v.push(hex('f0 9f'));
    v.reset();
    expect(v.complete).toBe(true);
    expect(v.push(hex('80'))).toBe(0);
  });
});

describe('the word-wise ASCII scan', () => {
  it('finds a bad byte at any position of a long ASCII run, at any alignment', () => {
    const backing = Buffer.alloc(400, 0x61);
    for (let offset = 0; offset < 4; offset++) {
      for (const length of [127, 128, 129, 200, 333]) {
        const view = backing.subarray(offset, offset + length);
        for (let bad = 0; bad < length; bad++) {
          view[bad] = 0xff;
          expect(new Utf8Validator().push(view)).toBe(bad);
          view[bad] = 0x80 + (bad % 64); // a stray continuation byte
          expect(new Utf8Validator().push(view)).toBe(bad);
          view[bad] = 0x61;
        }
        expect(new Utf8Validator().push(view)).toBe(-1);
      }
    }
  });

  it('honours start and end', () => {
    const bytes = Buffer.concat([hex('ff'), Buffer.alloc(300, 0x41), hex('c3 a9'), hex('ff')]);
    expect(new Utf8Validator().push(bytes, 1, bytes.length - 1)).toBe(-1);
    expect(new Utf8Validator().push(bytes, 1, bytes.length - 2)).toBe(-1);
    expect(utf8IsValid(bytes, 1, bytes.length - 2)).toBe(false); // ends inside é
    expect(new Utf8Validator().push(bytes, 1)).toBe(bytes.length - 1);
  });

  it('validates long mixed text the same as isUtf8', () => {
    const text = Buffer.from('ASCII prefix that is long enough for words. κόσμε 😀 €'.repeat(50), 'utf8');
    expect(utf8IsValid(text)).toBe(true);
    for (let i = 0; i < text.length; i += 7) {
      const broken = Buffer.from(text);
      broken[i] = 0xc0;
      expect(new Utf8Validator().push(broken)).toBe(firstInvalidIndex(broken));
    }
  });
});
