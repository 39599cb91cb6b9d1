/**
 * The `wasm` engine against the `js` engine: random frame streams (valid and broken), cut at
 * random chunk boundaries, fed to both codecs. They must agree event for event, byte for byte
 * and violation for violation (close code and reason).
 */
import { deflateRawSync, constants as zc } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Text } from './helpers/test-data.js';
import { jsEngine } from '../src/engine/js.js';
import { wasmEngine } from '../src/engine/wasm.js';
import { MAX_WINDOW } from '../src/engine/wasm-module.js';
import type { CodecOptions, DecodeResult, DeflateParams, InboundEvent } from '../src/protocol/codec.js';

// ---------------------------------------------------------------------------------------------
// Building client frames

interface FrameSpec {
  opcode: number;
  fin: boolean;
  rsv: number; // bits 0x40 | 0x20 | 0x10
  masked: boolean;
  mask: number;
  payload: Uint8Array;
  /** 'min' = the shortest length field; 16 or 64 force a longer one; a bigint declares a false length. */
  length: 'min' | 16 | 64 | bigint;
}

function encodeFrame(f: FrameSpec): Buffer {
  const n = f.payload.length;
  const b0 = (f.fin ? 0x80 : 0) | f.rsv | (f.opcode & 0x0f);
  const m = f.masked ? 0x80 : 0;
  let head: Buffer;
  if (typeof f.length === 'bigint') {
    head = Buffer.alloc(10);
    head[1] = m | 127;
    head.writeBigUInt64BE(f.length, 2);
  } else if (f.length === 64 || (f.length === 'min' && n >= 65536)) {
    head = Buffer.alloc(10);
    head[1] = m | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  } else if (f.length === 16 || (f.length === 'min' && n >= 126)) {
    head = Buffer.alloc(4);
    head[1] = m | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head = Buffer.alloc(2);
    head[1] = m | n;
  }
  head[0] = b0;
  if (!f.masked) return Buffer.concat([head, f.payload]);
  const key = Buffer.alloc(4);
  key.writeUInt32BE(f.mask >>> 0);
  const body = Buffer.from(f.payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3]!;
  return Buffer.concat([head, key, body]);
}

const BAD_BYTES = [0x80, 0xbf, 0xc0, 0xc1, 0xc3, 0xe0, 0xed, 0xa0, 0xf0, 0xf4, 0x90, 0xf5, 0xff];

const payloadLength = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 20 }), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 4 },
  { arbitrary: fc.integer({ min: 126, max: 5000 }), weight: 2 },
  { arbitrary: fc.integer({ min: 60_000, max: 140_000 }), weight: 1 },
);

/** Text (possibly damaged) or binary bytes. */
const payloadArb = (text: boolean) =>
  fc
    .record({
      seed: fc.integer(),
      length: payloadLength,
      weights: fc.constantFrom([1, 0, 0, 0], [4, 2, 2, 1], [0, 1, 1, 1], [30, 0, 1, 0]),
      damage: fc.oneof(
        { arbitrary: fc.constant(null), weight: 5 },
        { arbitrary: fc.record({ at: fc.nat(), byte: fc.constantFrom(...BAD_BYTES) }), weight: 1 },
      ),
      cut: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }),
    })
    .map(({ seed, length, weights, damage, cut }) => {
      let bytes: Buffer;
      if (text) bytes = utf8Text(seed, length, weights);
      else {
        bytes = Buffer.alloc(length);
        let s = seed >>> 0 || 7;
        for (let i = 0; i < length; i++) bytes[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
      }
      bytes = bytes.subarray(0, Math.max(0, bytes.length - cut));
      if (damage !== null && bytes.length > 0) bytes[damage.at % bytes.length] = damage.byte;
      return bytes;
    });

/** Splits `bytes` into `count` pieces at deterministic points. */
function split(bytes: Uint8Array, count: number, seed: number): Uint8Array[] {
  if (count <= 1 || bytes.length === 0) return [bytes];
  const points = new Set<number>();
  let s = seed >>> 0 || 3;
  for (let i = 0; i < count - 1; i++) points.add((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % (bytes.length + 1));
  const sorted = [...points].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...sorted, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

function compress(data: Uint8Array): Buffer {
  const out = deflateRawSync(data, { finishFlush: zc.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4); // RFC 7692 7.2.1: without 00 00 FF FF
}

const maskArb = fc.integer({ min: 0, max: 0xffffffff });

const controlArb = fc
  .record({
    opcode: fc.constantFrom(0x9, 0xa),
    payload: fc.oneof({ arbitrary: fc.uint8Array({ maxLength: 125 }), weight: 60 }, { arbitrary: fc.uint8Array({ minLength: 126, maxLength: 130 }), weight: 1 }),
    mask: maskArb,
    length: fc.oneof({ arbitrary: fc.constant<'min'>('min'), weight: 20 }, { arbitrary: fc.constant<16>(16), weight: 1 }),
  })
  .map(({ opcode, payload, mask, length }): FrameSpec[] => [{ opcode, fin: true, rsv: 0, masked: true, mask, payload, length }]);

/** A data message: maybe compressed (mostly only when `deflate`), in fragments, with pings between them. */
const messageArb = (deflate: boolean) => fc
  .record({
    text: fc.boolean(),
    compressed: fc.oneof({ arbitrary: fc.constant(false), weight: 60 }, { arbitrary: fc.constant(true), weight: deflate ? 40 : 1 }),
    fragments: fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, { arbitrary: fc.integer({ min: 2, max: 5 }), weight: 2 }),
    seed: fc.integer(),
    masks: fc.array(maskArb, { minLength: 5, maxLength: 5 }),
    controls: fc.array(controlArb, { maxLength: 2 }),
    longLength: fc.oneof({ arbitrary: fc.constant<'min'>('min'), weight: 10 }, { arbitrary: fc.constantFrom<16 | 64>(16, 64), weight: 1 }),
  })
  .chain((m) => payloadArb(m.text).map((payload) => ({ ...m, payload })))
  .map(({ text, compressed, fragments, seed, masks, controls, longLength, payload }): FrameSpec[] => {
    const body = compressed ? compress(payload) : payload;
    const pieces = split(body, fragments, seed);
    const frames: FrameSpec[] = [];
    pieces.forEach((piece, i) => {
      frames.push({
        opcode: i === 0 ? (text ? 1 : 2) : 0,
        fin: i === pieces.length - 1,
        rsv: i === 0 && compressed ? 0x40 : 0,
        masked: true,
        mask: masks[i % masks.length]!,
        payload: piece,
        length: piece.length < 126 && longLength !== 'min' ? longLength : 'min',
      });
      if (i < controls.length && i < pieces.length - 1) frames.push(...controls[i]!);
    });
    return frames;
  });

const closeArb = fc
  .record({
    kind: fc.constantFrom('empty', 'valid', 'bad-code', 'bad-reason', 'one-byte'),
    code: fc.constantFrom(1000, 1001, 1003, 1004, 1005, 1006, 1011, 1012, 1015, 2999, 3000, 4999, 5000),
    reason: payloadArb(true).map((b) => b.subarray(0, 60)),
    mask: maskArb,
  })
  .map(({ kind, code, reason, mask }): FrameSpec[] => {
    let payload: Uint8Array;
    if (kind === 'empty') payload = Buffer.alloc(0);
    else if (kind === 'one-byte') payload = Buffer.from([0x03]);
    else {
      const c = Buffer.alloc(2);
      c.writeUInt16BE(kind === 'valid' ? 1000 : code);
      const r = kind === 'bad-reason' ? Buffer.concat([reason, Buffer.from([0xc3])]) : reason;
      payload = Buffer.concat([c, r]);
    }
    return [{ opcode: 0x8, fin: true, rsv: 0, masked: true, mask, payload, length: 'min' }];
  });

/** A frame with any header bits: reserved opcodes and bits, no mask, odd lengths. */
const chaosArb = fc
  .record({
    opcode: fc.integer({ min: 0, max: 15 }),
    fin: fc.boolean(),
    rsv: fc.constantFrom(0, 0, 0x40, 0x20, 0x10),
    masked: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 }),
    mask: maskArb,
    payload: fc.uint8Array({ maxLength: 40 }),
    length: fc.oneof(
      { arbitrary: fc.constant<'min'>('min'), weight: 8 },
      { arbitrary: fc.constantFrom<16 | 64>(16, 64), weight: 2 },
      { arbitrary: fc.constantFrom(1n << 63n, (1n << 53n) + 1n, 0x1fffffn << 32n, 1n << 40n), weight: 1 },
    ),
  })
  .map((f): FrameSpec[] => [f]);

const streamArb = (deflate: boolean) => fc
  .record({
    parts: fc.array(
      fc.oneof({ arbitrary: messageArb(deflate), weight: 20 }, { arbitrary: controlArb, weight: 3 }, { arbitrary: chaosArb, weight: 1 }),
      { minLength: 1, maxLength: 6 },
    ),
    close: fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, { arbitrary: closeArb, weight: 1 }),
    trailing: fc.oneof({ arbitrary: fc.constant(new Uint8Array(0)), weight: 4 }, { arbitrary: fc.uint8Array({ maxLength: 20 }), weight: 1 }),
    flip: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), weight: 1 }),
  })
  .map(({ parts, close, trailing, flip }) => {
    const frames = parts.flat();
    if (close) frames.push(...close);
    const bytes = Buffer.concat([...frames.map(encodeFrame), trailing]);
    if (flip !== null && bytes.length > 0) bytes[flip.at % bytes.length] ^= 1 << flip.bit;
    return bytes;
  });

const optionsArb = fc.record({
  maxMessageSize: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 200_000 }), weight: 1 }),
  deflate: fc.oneof(
    { arbitrary: fc.constant(null), weight: 1 },
    {
      arbitrary: fc.record({
        serverNoContextTakeover: fc.boolean(),
        clientNoContextTakeover: fc.boolean(),
        serverMaxWindowBits: fc.constant(15),
        clientMaxWindowBits: fc.oneof({ arbitrary: fc.constant(15), weight: 5 }, { arbitrary: fc.constant(9), weight: 1 }),
      }) as fc.Arbitrary<DeflateParams>,
      weight: 2,
    },
  ),
});

/** Options, and a stream that fits them (compressed messages mostly when deflate is on). */
const caseArb = optionsArb.chain((options) => streamArb(options.deflate !== null).map((bytes) => [options, bytes] as const));

/** Chunk sizes: tiny (headers split everywhere), medium, or the whole stream at once. */
const chunkingArb = fc.oneof(
  { arbitrary: fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 30 }), weight: 2 },
  { arbitrary: fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), weight: 2 },
  { arbitrary: fc.constant([Number.MAX_SAFE_INTEGER]), weight: 1 },
);

// ---------------------------------------------------------------------------------------------
// Running both engines

function describeEvent(e: InboundEvent): unknown {
  if (e.kind === 'close') return e;
  const payload = e.payload.length <= 48 ? e.payload.toString('hex') : `${e.payload.length}:${e.payload.toString('base64')}`;
  return e.kind === 'data' ? { ...e, payload } : { kind: e.kind, payload };
}

interface Run {
  calls: { events: unknown[]; error: DecodeResult['error'] }[];
}

function runEngine(engine: typeof jsEngine, options: CodecOptions, bytes: Buffer, sizes: readonly number[]): Run {
  const codec = engine.createCodec(options);
  const calls: Run['calls'] = [];
  // Tiny chunks over a long stream would mean thousands of calls: scale them to about 1500.
  const mean = sizes.reduce((a, b) => a + Math.min(b, bytes.length), 0) / sizes.length;
  const scale = Math.max(1, Math.ceil(bytes.length / mean / 1500));
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = sizes[i++ % sizes.length]! * scale;
    const chunk = Buffer.from(bytes.subarray(at, at + size)); // each engine gets its own copy: they unmask in place
    at += size;
    const r = codec.decode(chunk);
    expect(r).not.toBeInstanceOf(Promise);
    calls.push({ events: r.events.map(describeEvent), error: r.error });
  }
  calls.push({ ...codec.decode(Buffer.from([0x81, 0x80, 0, 0, 0, 0])), events: [] }); // after the end: nothing, or a new frame
  codec.dispose();
  return { calls };
}

function expectSameDecoding(options: CodecOptions, bytes: Buffer, sizes: readonly number[]): void {
  const js = runEngine(jsEngine, options, bytes, sizes);
  const wasm = runEngine(wasmEngine, options, bytes, sizes);
  expect(wasm.calls.length).toBe(js.calls.length);
  for (let i = 0; i < js.calls.length; i++) expect(wasm.calls[i], `decode call ${i}`).toEqual(js.calls[i]);
}

describe('wasm and js engines decode alike', () => {
  it('a frame announcing far more than it sends: both wait for the data, neither allocates for the announcement', () => {
    // Found by the property below: the wasm decoder allocated the announced frame at once
    // (a RangeError for 2^48 bytes, 90 MiB of memory for a 90 MiB announcement).
    const payload = Buffer.alloc(600 * 1024, 0x61);
    for (const [announced, maxMessageSize] of [[2 ** 48 + 2 ** 16, 0], [90 * 1024 * 1024, 100 * 1024 * 1024]] as const) {
      const header = Buffer.alloc(14);
      header[0] = 0x82;
      header[1] = 0xff; // masked, 64-bit length
      header.writeUInt32BE(Math.floor(announced / 2 ** 32), 2);
      header.writeUInt32BE(announced % 2 ** 32, 6);
      header.set([1, 2, 3, 4], 10);
      const before = process.memoryUsage().arrayBuffers;
      expectSameDecoding({ maxMessageSize, deflate: null }, Buffer.concat([header, payload]), [64 * 1024]);
      expect(process.memoryUsage().arrayBuffers - before, 'memory follows what arrived (600 KiB), not the announcement').toBeLessThan(32 * 1024 * 1024);
    }
  });

  it('random frame streams at random chunk boundaries', () => {
    fc.assert(
      fc.property(caseArb, chunkingArb, ([options, bytes], sizes) => {
        expectSameDecoding(options, bytes, sizes);
      }),
      { numRuns: 400 },
    );
  });

  it('many small frames cut into tiny chunks', () => {
    const small = fc
      .record({ text: fc.boolean(), payload: fc.uint8Array({ maxLength: 12 }), mask: maskArb, fin: fc.boolean() })
      .map(({ text, payload, mask, fin }): FrameSpec => ({ opcode: text ? 1 : 2, fin: true, rsv: 0, masked: true, mask, payload: text ? Buffer.from(payload).map((b) => b & 0x7f) : payload, length: 'min' }));
    fc.assert(
      fc.property(fc.array(small, { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 }), (frames, sizes) => {
        expectSameDecoding({ maxMessageSize: 0, deflate: null }, Buffer.concat(frames.map(encodeFrame)), sizes);
      }),
      { numRuns: 200 },
    );
  });

  it('connections decoded in turn (they share the kernel state block) keep their own state', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(caseArb, fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 })), { minLength: 2, maxLength: 5 }), (connections) => {
        const make = (engine: typeof jsEngine) =>
          connections.map(([[options, bytes], sizes]) => ({ codec: engine.createCodec(options), bytes, sizes, at: 0, i: 0, log: [] as unknown[] }));
        const js = make(jsEngine);
        const wasm = make(wasmEngine);
        for (let busy = true; busy; ) {
          busy = false;
          for (const side of [js, wasm]) {
            for (const c of side) {
              if (c.at >= c.bytes.length) continue;
              busy = true;
              const size = c.sizes[c.i++ % c.sizes.length]!;
              const r = c.codec.decode(Buffer.from(c.bytes.subarray(c.at, c.at + size)));
              c.at += size;
              c.log.push({ events: r.events.map(describeEvent), error: r.error });
            }
          }
        }
        wasm.forEach((c, n) => expect(c.log, `connection ${n}`).toEqual(js[n]!.log));
      }),
      { numRuns: 100 },
    );
  });

  it('an empty chunk decodes to nothing', () => {
    for (const engine of [jsEngine, wasmEngine]) {
      const codec = engine.createCodec({ maxMessageSize: 0, deflate: null });
      expect(codec.decode(Buffer.alloc(0))).toEqual({ events: [], error: null });
      expect(codec.decode(Buffer.from([0x81]))).toEqual({ events: [], error: null });
      expect(codec.decode(Buffer.alloc(0))).toEqual({ events: [], error: null });
      expect(codec.decode(Buffer.from([0x80, 0, 0, 0, 0])).events).toEqual([{ kind: 'data', opcode: 1, payload: Buffer.alloc(0), first: true, fin: true }]);
    }
  });

  it('chunks larger than the WASM window: many frames, table refills, headers across window edges', () => {
    const frames: Buffer[] = [];
    let total = 0;
    for (let i = 0; total < MAX_WINDOW * 2.5; i++) {
      const len = (i * 7919) % 300;
      const payload = i % 3 === 0 ? utf8Text(i, len, [4, 2, 2, 1]) : Buffer.alloc(len, i);
      const f = encodeFrame({ opcode: i % 3 === 0 ? 1 : 2, fin: true, rsv: 0, masked: true, mask: i * 2654435761, payload, length: 'min' });
      frames.push(f);
      total += f.length;
    }
    const bytes = Buffer.concat(frames);
    for (const sizes of [[bytes.length], [MAX_WINDOW + 1], [MAX_WINDOW - 3, 100_000], [65536]]) {
      expectSameDecoding({ maxMessageSize: 0, deflate: null }, bytes, sizes);
    }
  });

  it('a 1 MiB multi-byte text frame in one chunk is one view of the chunk, and agrees in 64 KiB chunks', () => {
    const text = utf8Text(5, 1 << 20, [4, 2, 2, 1]);
    const bytes = encodeFrame({ opcode: 1, fin: true, rsv: 0, masked: true, mask: 0xdeadbeef, payload: text, length: 'min' });
    const codec = wasmEngine.createCodec({ maxMessageSize: 0, deflate: null });
    const chunk = Buffer.from(bytes);
    const { events, error } = codec.decode(chunk);
    expect(error).toBeNull();
    expect(events).toHaveLength(1);
    const payload = (events[0] as { payload: Buffer }).payload;
    expect(payload.equals(text)).toBe(true);
    expect(payload.buffer).toBe(chunk.buffer); // no copy: a view of the chunk
    for (const sizes of [[bytes.length], [65536], [1000, 65535, 3]]) expectSameDecoding({ maxMessageSize: 0, deflate: null }, bytes, sizes);

    const broken = Buffer.from(text);
    broken[700_001] = 0xff;
    const bad = encodeFrame({ opcode: 1, fin: true, rsv: 0, masked: true, mask: 7, payload: broken, length: 'min' });
    for (const sizes of [[bad.length], [65536]]) expectSameDecoding({ maxMessageSize: 0, deflate: null }, bad, sizes);
  });

  it('compressed text with context takeover across messages, and a bomb against the limit', () => {
    const messages = [utf8Text(1, 3000, [4, 2, 2, 1]), utf8Text(2, 100_000, [30, 0, 1, 0]), utf8Text(3, 10, [1, 0, 0, 0])];
    const frames = messages.map((m, i) => encodeFrame({ opcode: 1, fin: true, rsv: 0x40, masked: true, mask: i, payload: compress(m), length: 'min' }));
    const deflate: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
    const bytes = Buffer.concat(frames);
    for (const sizes of [[bytes.length], [1000], [7]]) {
      expectSameDecoding({ maxMessageSize: 0, deflate }, bytes, sizes);
      expectSameDecoding({ maxMessageSize: 50_000, deflate }, bytes, sizes);
      expectSameDecoding({ maxMessageSize: 0, deflate: { ...deflate, clientNoContextTakeover: true } }, bytes, sizes);
    }
  });
});
