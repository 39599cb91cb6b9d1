/**
 * Each WASM kernel against its pure-TypeScript twin of the js engine: same bytes, same first
 * invalid byte, same verdicts.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Text } from './helpers/test-data.js';
import { TABLE_CAPACITY, WASM_URL, wasmRuntime } from '../src/engine/wasm-module.js';
import {
  CLOSE_INVALID_CODE,
  CLOSE_INVALID_REASON,
  CLOSE_ONE_BYTE,
  ENTRY_SIZE,
  ERR_UNMASKED,
  F_FIN,
  F_FRAME_END,
  F_FRAME_START,
  OPCODE_SHIFT,
  S_POS,
  S_STOP,
  STATE_SIZE,
  STOP_END,
  STOP_PARTIAL_HEADER,
  STOP_TABLE_FULL,
  TYPE_ERROR,
  TYPE_PIECE,
  UTF8_DEFERRED,
} from '../src/engine/wasm-layout.js';
import { WasmUtf8Stream, trailingSequenceStart, utf8IsValidWasm } from '../src/engine/wasm-utf8.js';
import { closeCodeIsValid } from '../src/protocol/constants.js';
import { writeFrameHeader as writeFrameHeaderJs } from '../src/protocol/frame-encoder.js';
import { unmask as unmaskJs } from '../src/protocol/unmask.js';
import { Utf8Validator, utf8IsValid } from '../src/protocol/utf8.js';

const rt = wasmRuntime();
const k = rt.kernels;
/** Where test data goes in linear memory: the aux region (64 KiB). */
const AT = rt.aux;

function put(bytes: Uint8Array, offset = 0): number {
  rt.u8.set(bytes, AT + offset);
  return AT + offset;
}

/** Bytes that are mostly UTF-8 with, sometimes, a few bad ones. */
const utf8ish = fc
  .record({
    seed: fc.integer(),
    length: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 40 }), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 600 }), weight: 2 }),
    weights: fc.constantFrom([1, 0, 0, 0], [4, 2, 2, 1], [0, 1, 1, 1], [0, 0, 0, 1], [20, 0, 1, 0]),
    damage: fc.array(fc.record({ at: fc.nat(), byte: fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xc3, 0xe0, 0xed, 0xa0, 0xf0, 0xf4, 0x90, 0xf5, 0xff, 0x41) }), {
      maxLength: 2,
    }),
    truncate: fc.nat({ max: 3 }),
  })
  .map(({ seed, length, weights, damage, truncate }) => {
    const text = utf8Text(seed, length, weights);
    const out = Buffer.from(text.subarray(0, Math.max(0, text.length - truncate)));
    for (const d of damage) if (out.length > 0) out[d.at % out.length] = d.byte;
    return out;
  });

describe('the module', () => {
  it('loads from build/ next to src/ and dist/', () => {
    expect(WASM_URL.pathname.endsWith('/build/wsworks.wasm')).toBe(true);
    expect(rt.state % 8).toBe(0);
    expect(rt.table).toBeGreaterThanOrEqual(rt.state + STATE_SIZE);
  });

  it('grows its window for large chunks, up to a bound', () => {
    const before = rt.windowCapacity;
    const grown = rt.ensureWindow(300 * 1024);
    expect(grown).toBeGreaterThanOrEqual(before);
    expect(grown).toBeLessThanOrEqual(256 * 1024);
    expect(rt.ensureWindow(64 * 1024 * 1024)).toBe(grown);
    expect(rt.u8.length).toBeGreaterThanOrEqual(rt.window + grown);
  });
});

describe('unmask', () => {
  it('matches the js unmask for any alignment, length and mask offset', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat({ max: 15 }),
        fc.nat({ max: 7 }),
        (data, mask, align, maskOffset) => {
          const expected = Buffer.from(data);
          unmaskJs(expected, 0, expected.length, mask, maskOffset);
          const ptr = put(data, align);
          const maskLe = Buffer.from(mask).readUInt32LE(0);
          k.unmask(ptr, data.length, maskLe, maskOffset);
          expect(Buffer.from(rt.u8.subarray(ptr, ptr + data.length))).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('unmasks a payload split at any point as if it were whole', () => {
    const data = utf8Text(7, 5000);
    const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    const whole = Buffer.from(data);
    unmaskJs(whole, 0, whole.length, mask);
    for (const cut of [1, 2, 3, 15, 16, 17, 63, 64, 65, 4097]) {
      const ptr = put(data, 3);
      k.unmask(ptr, cut, mask.readUInt32LE(0), 0);
      k.unmask(ptr + cut, data.length - cut, mask.readUInt32LE(0), cut);
      expect(Buffer.from(rt.u8.subarray(ptr, ptr + data.length)).equals(whole)).toBe(true);
    }
  });
});

/** Runs the WASM validator over pieces, as the JS one: per piece, the first bad index or -1. */
function wasmPieces(pieces: readonly Uint8Array[]): { results: number[]; complete: boolean } {
  const slot = rt.utf8State >> 2;
  rt.i32[slot] = 0;
  const results: number[] = [];
  for (const piece of pieces) {
    const ptr = put(piece, 5);
    const r = k.utf8Validate(ptr, piece.length, rt.utf8State);
    results.push(r);
    if (r !== -1) break;
  }
  return { results, complete: (rt.i32[slot]! & 3) === 0 };
}

function jsPieces(pieces: readonly Uint8Array[]): { results: number[]; complete: boolean } {
  const v = new Utf8Validator();
  const results: number[] = [];
  for (const piece of pieces) {
    const r = v.push(piece);
    results.push(r);
    if (r !== -1) break;
  }
  return { results, complete: v.complete };
}

describe('utf8Validate', () => {
  it('finds the same first invalid byte as the js validator, and agrees on a sequence left open', () => {
    fc.assert(
      fc.property(utf8ish, fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          pieces.push(bytes.subarray(from, p));
          from = p;
        }
        const js = jsPieces(pieces);
        const wasm = wasmPieces(pieces);
        expect(wasm.results).toEqual(js.results);
        if (js.results.every((r) => r === -1)) expect(wasm.complete).toBe(js.complete);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees on every 2-byte sequence at every position of a vector block', () => {
    const buf = Buffer.alloc(80, 0x61);
    for (const at of [0, 13, 14, 15, 16, 30, 47, 63, 78]) {
      for (let b1 = 0x80; b1 <= 0xff; b1++) {
        for (let b2 = 0; b2 <= 0xff; b2++) {
          buf.fill(0x61);
          buf[at] = b1;
          buf[at + 1] = b2;
          const js = new Utf8Validator().push(buf);
          const ptr = put(buf);
          rt.i32[rt.utf8State >> 2] = 0;
          const wasm = k.utf8Validate(ptr, buf.length, rt.utf8State);
          if (wasm !== js) expect([at, b1, b2, wasm]).toEqual([at, b1, b2, js]);
        }
      }
    }
  });

  it('agrees on 3- and 4-byte sequences around block edges', () => {
    const buf = Buffer.alloc(64, 0x61);
    const tails = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xe0, 0xf0, 0xff];
    for (const at of [0, 13, 14, 15, 29, 60]) {
      for (let b1 = 0xe0; b1 <= 0xff; b1++) {
        for (let b2 = 0x70; b2 <= 0xc0; b2++) {
          for (const b3 of tails) {
            for (const b4 of b1 >= 0xf0 ? tails : [0x61]) {
              buf.fill(0x61);
              buf[at] = b1;
              buf[at + 1] = b2;
              if (at + 2 < buf.length) buf[at + 2] = b3;
              if (at + 3 < buf.length) buf[at + 3] = b4;
              const v = new Utf8Validator();
              const js = v.push(buf);
              rt.i32[rt.utf8State >> 2] = 0;
              const wasm = k.utf8Validate(put(buf), buf.length, rt.utf8State);
              if (wasm !== js) expect([at, b1, b2, b3, b4, wasm]).toEqual([at, b1, b2, b3, b4, js]);
              if (js === -1) expect((rt.i32[rt.utf8State >> 2]! & 3) === 0).toBe(v.complete);
            }
          }
        }
      }
    }
  });

  it('validates long multi-byte and ASCII texts', () => {
    for (const weights of [[1, 0, 0, 0], [4, 2, 2, 1], [0, 0, 1, 0]]) {
      const text = utf8Text(42, 50_000, weights).subarray(0, 40_000); // may cut a character
      const js = jsPieces([text]);
      expect(wasmPieces([text])).toEqual(js);
      expect(utf8IsValidWasm(text)).toBe(js.results[0] === -1 && js.complete);
    }
  });
});

describe('utf8Piece and WasmUtf8Stream (WASM edges, isUtf8 middle)', () => {
  it('reaches the verdicts of the js validator', () => {
    fc.assert(
      fc.property(fc.array(utf8ish, { minLength: 1, maxLength: 5 }), fc.constantFrom(16, 17, 40, 100), (pieces, deferFrom) => {
        // The kernel with deferral, the middle checked by isUtf8.
        const slot = rt.utf8State >> 2;
        rt.i32[slot] = 0;
        let wasmValid = true;
        for (const piece of pieces) {
          const ptr = put(piece);
          const r = k.utf8Piece(ptr, piece.length, rt.utf8State, deferFrom);
          if (r >= 0) wasmValid = false;
          else if (r === UTF8_DEFERRED) {
            const head = rt.i32[slot + 1]!;
            const tail = rt.i32[slot + 2]!;
            if (!isUtf8(piece.subarray(head, piece.length - tail))) wasmValid = false;
          }
          if (!wasmValid) break;
        }
        const v = new Utf8Validator();
        let jsValid = true;
        for (const piece of pieces) if (v.push(piece) !== -1) (jsValid = false);
        expect(wasmValid).toBe(jsValid);
        if (jsValid) expect((rt.i32[slot]! & 3) === 0).toBe(v.complete);

        const stream = new WasmUtf8Stream(rt);
        let streamValid = true;
        for (const piece of pieces) if (!stream.push(piece)) { streamValid = false; break; }
        expect(streamValid).toBe(jsValid);
        if (jsValid) expect(stream.complete).toBe(v.complete);
      }),
      { numRuns: 1500 },
    );
  });

  it('finds where a trailing sequence starts', () => {
    const s = Buffer.from('ab\u00e9\u4e2d\u{1f600}');
    expect(trailingSequenceStart(s, 0, s.length)).toBe(s.length);
    expect(trailingSequenceStart(s, 0, s.length - 1)).toBe(s.length - 4);
    expect(trailingSequenceStart(s, 0, s.length - 5)).toBe(s.length - 7);
    expect(trailingSequenceStart(s, 0, 3)).toBe(2);
  });
});

describe('checkClosePayload', () => {
  it('accepts and refuses what the js decoder does', () => {
    const check = (payload: Uint8Array): number => k.checkClosePayload(put(payload), payload.length, rt.closeScratch);
    expect(check(Buffer.alloc(0))).toBe(1005);
    expect(check(Buffer.from([3]))).toBe(CLOSE_ONE_BYTE);
    for (let code = 0; code < 6000; code++) {
      const p = Buffer.from([code >> 8, code & 0xff, 0x6f, 0x6b]);
      expect(check(p)).toBe(closeCodeIsValid(code) ? code : CLOSE_INVALID_CODE);
    }
    fc.assert(
      fc.property(utf8ish, (reason) => {
        const p = Buffer.concat([Buffer.from([0x03, 0xe8]), reason.subarray(0, 123)]);
        expect(check(p)).toBe(utf8IsValid(p, 2) ? 1000 : CLOSE_INVALID_REASON);
      }),
      { numRuns: 500 },
    );
  });
});

describe('writeFrameHeader', () => {
  it('writes the bytes the js encoder writes', () => {
    for (const length of [0, 1, 125, 126, 127, 65535, 65536, 1_000_000, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1]) {
      for (const [opcode, fin, rsv1] of [[1, true, false], [2, false, true], [0, true, false], [9, true, false]] as const) {
        const js = Buffer.alloc(10);
        const size = writeFrameHeaderJs(js, 0, opcode, fin, rsv1, length);
        const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
        const wasmSize = k.writeFrameHeader(AT, b0, length);
        expect(wasmSize).toBe(size);
        expect(Buffer.from(rt.u8.subarray(AT, AT + wasmSize))).toEqual(js.subarray(0, size));
      }
    }
  });

  it('writes a batch of headers back to back', () => {
    const lengths = [5, 300, 70000, 0];
    const req = AT + 1024;
    for (let i = 0; i < lengths.length; i++) {
      rt.i32[(req + i * 16) >> 2] = 0x82;
      rt.f64[(req + i * 16 + 8) >> 3] = lengths[i]!;
    }
    const written = k.writeFrameHeaders(req, lengths.length, AT);
    const expected = Buffer.concat(
      lengths.map((n) => {
        const b = Buffer.alloc(10);
        return b.subarray(0, writeFrameHeaderJs(b, 0, 2, true, false, n));
      }),
    );
    expect(written).toBe(expected.length);
    expect(Buffer.from(rt.u8.subarray(AT, AT + written))).toEqual(expected);
    expect([...rt.u8.subarray(req + 64, req + 68)]).toEqual([2, 4, 10, 2]);
  });
});

describe('decodeFrames', () => {
  const mask = Buffer.from([1, 2, 3, 4]);
  function frame(b0: number, payload: Buffer): Buffer {
    const body = Buffer.from(payload);
    unmaskJs(body, 0, body.length, mask);
    return Buffer.concat([Buffer.from([b0, 0x80 | payload.length]), mask, body]);
  }
  function reset(): void {
    rt.u8.fill(0, rt.state, rt.state + STATE_SIZE);
  }
  function entry(i: number): number[] {
    const w = (rt.table + i * ENTRY_SIZE) >> 2;
    return [rt.i32[w]!, rt.i32[w + 1]!, rt.i32[w + 2]!, rt.i32[w + 3]!];
  }
  const stop = (): number => rt.i32[(rt.state + S_STOP) >> 2]!;
  const pos = (): number => rt.i32[(rt.state + S_POS) >> 2]!;

  it('describes every frame of a region, unmasked in place', () => {
    reset();
    const bytes = Buffer.concat([frame(0x82, Buffer.from('abc')), frame(0x89, Buffer.from('ping')), frame(0x81, Buffer.from('h\u00e9'))]);
    const ptr = put(bytes);
    const n = k.decodeFrames(rt.state, rt.table, TABLE_CAPACITY, ptr, ptr + bytes.length, 0);
    expect(n).toBe(3);
    expect(stop()).toBe(STOP_END);
    const kinds = [0, 1, 2].map((i) => {
      const [w0, p, len] = entry(i);
      expect(w0! & 3).toBe(TYPE_PIECE);
      expect(w0! & (F_FRAME_START | F_FRAME_END | F_FIN)).toBe(F_FRAME_START | F_FRAME_END | F_FIN);
      return [(w0! >>> OPCODE_SHIFT) & 15, Buffer.from(rt.u8.subarray(p!, p! + len!)).toString()];
    });
    expect(kinds).toEqual([
      [2, 'abc'],
      [9, 'ping'],
      [1, 'h\u00e9'],
    ]);
  });

  it('stops at a partial header, at a full table, and at a violation', () => {
    reset();
    const bytes = Buffer.concat([frame(0x82, Buffer.from('x')), frame(0x82, Buffer.from('y')), frame(0x82, Buffer.from('z'))]);
    const ptr = put(bytes);
    expect(k.decodeFrames(rt.state, rt.table, 2, ptr, ptr + bytes.length, 0)).toBe(1);
    expect(stop()).toBe(STOP_TABLE_FULL);
    expect(pos()).toBe(ptr + 7);
    expect(k.decodeFrames(rt.state, rt.table, TABLE_CAPACITY, pos(), ptr + bytes.length - 5, 0)).toBe(1);
    expect(stop()).toBe(STOP_PARTIAL_HEADER);
    expect(pos()).toBe(ptr + 14);

    reset();
    const unmasked = Buffer.from([0x82, 0x01, 0x00]);
    const p2 = put(unmasked);
    expect(k.decodeFrames(rt.state, rt.table, TABLE_CAPACITY, p2, p2 + 3, 0)).toBe(1);
    expect(entry(0)[0]! & 3).toBe(TYPE_ERROR);
    expect(entry(0)[3]).toBe(ERR_UNMASKED);
  });
});
