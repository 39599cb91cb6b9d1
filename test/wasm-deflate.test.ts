/**
 * The WASM deflater (assembly/deflate.ts through WasmMessageDeflater) against Node's zlib as
 * the receiving inflater: every level, every window, context takeover, messages in pieces,
 * incompressible and empty input, slices of very large messages, and how far back matches reach.
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WasmMessageDeflater, DEFLATE_SLICE } from '../src/engine/wasm-deflater.js';
import { jsonText } from './helpers/test-data.js';

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * A permessage-deflate receiver on zlib. With windows below 15 bits, 64-byte output chunks make
 * zlib refuse any distance beyond its window (it would otherwise resolve one that still lies in
 * its output buffer); 15 bits is as far as DEFLATE reaches anyway.
 */
class Receiver {
  private window: Buffer = Buffer.alloc(0);
  constructor(
    private readonly bits: number,
    private readonly takeover: boolean,
  ) {}

  /** Inflates one message given as its frames' compressed payloads (pieces). */
  inflate(pieces: Buffer[]): Buffer {
    const options: zlib.ZlibOptions = { windowBits: this.bits, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (this.bits < 15) options.chunkSize = 64;
    if (this.window.length > 0) options.dictionary = this.window;
    const out = zlib.inflateRawSync(Buffer.concat([...pieces, TRAILER]), options);
    if (this.takeover) {
      const joined = Buffer.concat([this.window, out]);
      this.window = Buffer.from(joined.subarray(Math.max(0, joined.length - (1 << this.bits))));
    }
    return out;
  }
}

function compressWhole(d: WasmMessageDeflater, data: Buffer): Buffer {
  return d.compress(data, true, true);
}

/** Symbols from a small alphabet: compressible, with matches at every distance. */
function patterned(length: number, alphabet: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = 97 + ((s >>> 16) % alphabet);
  }
  return out;
}

const json16k = Buffer.from(jsonText(16 * 1024)).subarray(0, 16 * 1024);
/** JSON to slice messages from. */
const jsonPool = Buffer.from(jsonText(200_000, 3));

describe('WASM deflater', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])('level %i: 16 KiB of JSON round-trips, and compresses about as well as zlib', (level) => {
    const d = new WasmMessageDeflater(15, true, level);
    const out = compressWhole(d, json16k);
    expect(new Receiver(15, false).inflate([out]).equals(json16k)).toBe(true);
    const zlibSize = zlib.deflateRawSync(json16k, { level }).length;
    // Same matching parameters as zlib per level (4-byte minimum matches instead of 3).
    expect(out.length).toBeLessThanOrEqual(Math.ceil(zlibSize * 1.05) + 8);
    if (level === 0) expect(out.length).toBeGreaterThan(json16k.length);
    else expect(out.length).toBeLessThan(json16k.length / 3);
  });

  it('every window size from 8 to 15 bits: no match reaches further back than the window', () => {
    // Repeats at distances just beyond each window: only a too-long reach would find them.
    for (let bits = 8; bits <= 15; bits++) {
      const size = 1 << bits;
      const block = patterned(size + 3, 26, bits);
      const data = Buffer.concat([block, block, patterned(5000, 4, 7), block]);
      for (const level of [1, 4, 6, 9]) {
        for (const takeover of [false, true]) {
          const d = new WasmMessageDeflater(bits, !takeover, level);
          const receiver = new Receiver(bits, takeover);
          for (let n = 0; n < 3; n++) {
            expect(receiver.inflate([compressWhole(d, data)]).equals(data), `bits ${bits} level ${level} message ${n}`).toBe(true);
          }
        }
      }
    }
  });

  it('context takeover: repeated messages refer back to earlier ones and still round-trip', () => {
    const d = new WasmMessageDeflater(15, false);
    const receiver = new Receiver(15, true);
    const sizes: number[] = [];
    for (let n = 0; n < 5; n++) {
      const out = compressWhole(d, json16k);
      sizes.push(out.length);
      expect(receiver.inflate([out]).equals(json16k)).toBe(true);
    }
    expect(sizes[1]!, 'the second copy is mostly one back-reference').toBeLessThan(sizes[0]! / 10);
  });

  it('without context takeover every message stands alone', () => {
    const d = new WasmMessageDeflater(15, true);
    const first = compressWhole(d, json16k);
    const second = compressWhole(d, json16k);
    expect(second.equals(first)).toBe(true);
    expect(d.window()).toBeNull();
    expect(new Receiver(15, false).inflate([second]).equals(json16k)).toBe(true);
  });

  it('a message in pieces: each piece ends with a sync flush, the last without its trailer, and later pieces refer to earlier ones', () => {
    for (const takeover of [false, true]) {
      const d = new WasmMessageDeflater(15, !takeover);
      const receiver = new Receiver(15, takeover);
      for (let n = 0; n < 2; n++) {
        const pieces = [json16k.subarray(0, 5000), json16k.subarray(5000, 5000), json16k.subarray(5000, 12000), json16k.subarray(12000)];
        const out = pieces.map((p, i) => d.compress(p, i === 0, i === pieces.length - 1));
        for (const piece of out.slice(0, -1)) expect(piece.subarray(-4).equals(TRAILER)).toBe(true);
        expect(receiver.inflate(out).equals(json16k)).toBe(true);
      }
    }
  });

  it('an empty message is the single byte 00; incompressible data goes out stored', () => {
    const d = new WasmMessageDeflater(15, true);
    expect([...compressWhole(d, Buffer.alloc(0))]).toEqual([0]);
    const noise = randomBytes(200_000);
    const out = compressWhole(d, noise);
    // Stored blocks: 5 bytes per block of at most 16 Ki symbols.
    expect(out.length).toBeLessThan(noise.length * 1.001 + 16);
    expect(new Receiver(15, false).inflate([out]).equals(noise)).toBe(true);
  });

  it('headroom is left free before the compressed bytes', () => {
    const d = new WasmMessageDeflater(15, true);
    const plain = compressWhole(d, json16k);
    const withRoom = d.compress(json16k, true, true, 10);
    expect(withRoom.length).toBe(plain.length + 10);
    expect(withRoom.subarray(10).equals(plain)).toBe(true);
  });

  it('a message larger than a slice is compressed slice by slice, with takeover across slices and messages', () => {
    const big = Buffer.concat([...Array.from({ length: 7 }, () => jsonPool), randomBytes(70_000)]);
    expect(big.length).toBeGreaterThan(DEFLATE_SLICE);
    const d = new WasmMessageDeflater(15, false, 1);
    const receiver = new Receiver(15, true);
    for (let n = 0; n < 2; n++) expect(receiver.inflate([compressWhole(d, big)]).equals(big)).toBe(true);
  });

  it('the window moves: a deflater given another one\'s window continues its stream', () => {
    const a = new WasmMessageDeflater(12, false);
    const receiver = new Receiver(12, true);
    expect(receiver.inflate([compressWhole(a, json16k)]).equals(json16k)).toBe(true);
    const window = a.window()!;
    expect(window.length).toBe(1 << 12);
    const b = new WasmMessageDeflater(12, false);
    b.presetWindow(window);
    const next = jsonPool.subarray(50_000, 59_000);
    expect(receiver.inflate([compressWhole(b, next)]).equals(next)).toBe(true);
    expect(() => {
      b.compress(next, true, false);
      b.presetWindow(window);
    }).toThrow(/inside a message/);
  });

  it('bad settings are refused', () => {
    expect(() => new WasmMessageDeflater(7, false)).toThrow(RangeError);
    expect(() => new WasmMessageDeflater(15, false, 10)).toThrow(RangeError);
    expect(() => new WasmMessageDeflater(15, false, 6, 0)).toThrow(RangeError);
    expect(() => new WasmMessageDeflater(15, false).compress(json16k, false, true)).toThrow(/first piece/);
  });

  it('property: any messages, levels, windows and piece boundaries round-trip through zlib', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 15 }),
        fc.integer({ min: 0, max: 9 }),
        fc.boolean(),
        fc.array(
          fc.record({
            kind: fc.constantFrom('pattern', 'random', 'json', 'run'),
            length: fc.integer({ min: 0, max: 40_000 }),
            seed: fc.integer({ min: 1, max: 1 << 30 }),
            cuts: fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 3 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (bits, level, takeover, messages) => {
          const d = new WasmMessageDeflater(bits, !takeover, level);
          const receiver = new Receiver(bits, takeover);
          for (const m of messages) {
            const data =
              m.kind === 'pattern'
                ? patterned(m.length, 1 + (m.seed % 20), m.seed)
                : m.kind === 'random'
                  ? randomBytes(m.length)
                  : m.kind === 'json'
                    ? jsonPool.subarray(m.seed % 100_000, (m.seed % 100_000) + m.length)
                    : Buffer.alloc(m.length, m.seed & 0xff);
            const cuts = [...new Set(m.cuts.map((c) => c % (data.length + 1)))].sort((x, y) => x - y);
            const bounds = [0, ...cuts, data.length];
            const out: Buffer[] = [];
            for (let i = 0; i + 1 < bounds.length; i++) {
              out.push(d.compress(data.subarray(bounds[i]!, bounds[i + 1]!), i === 0, i + 2 === bounds.length));
            }
            expect(receiver.inflate(out).equals(data)).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
