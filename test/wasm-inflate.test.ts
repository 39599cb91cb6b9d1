/**
 * The WASM inflater (assembly/inflate.ts through WasmMessageInflater) against Node's zlib as
 * the compressing client, and against the js engine's pako-based MessageInflater, which it must
 * match call for call: the same bytes from every write, the same error in the same call, on
 * valid streams and on hand-made and random broken ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import * as pako from 'pako';
import { describe, expect, it } from 'vitest';
import { compressionRuntime } from '../src/engine/wasm-compression.js';
import { WasmMessageInflater } from '../src/engine/wasm-inflater.js';
import { INFLATE_CORRUPT, INFLATE_TOO_BIG, MessageInflater, type MessageInflating } from '../src/protocol/message-inflater.js';
import { clientCompress } from './helpers/codec-frames.js';
import { htmlText, jsonText, prose } from './helpers/test-data.js';

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const json = Buffer.from(jsonText(40_000));
const html = Buffer.from(htmlText(30_000));
const text = prose(30_000);
const random = randomBytes(20_000);
const samples: Array<[string, Buffer]> = [
  ['json', json],
  ['html', html],
  ['prose', text],
  ['random', random],
  ['zeros', Buffer.alloc(50_000)],
  ['short', Buffer.from('Hello, hello, hello!')],
  ['one byte', Buffer.from('x')],
];

function digest(bytes: Uint8Array): string {
  return `${bytes.length}:${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}`;
}

/** A result as a short comparable value: the digest of the bytes, or the error code. */
function outcome(result: Buffer | number): string | number {
  return typeof result === 'number' ? result : digest(result);
}

/** Feeds one message to an inflater; one entry per call: the output's digest, or the error code. */
function inflateLog(inflater: MessageInflating, pieces: readonly Uint8Array[], limit = Infinity, completesInThisCall = false): Array<string | number> {
  const log: Array<string | number> = [];
  inflater.begin(completesInThisCall);
  let produced = 0;
  for (const piece of pieces) {
    const out: Buffer[] = [];
    const chunk = Buffer.from(piece); // the caller reuses its memory afterwards
    const n = inflater.write(chunk, 0, chunk.length, limit - produced, out);
    chunk.fill(0xa5);
    if (n < 0) return [...log, n];
    expect(Buffer.concat(out).length).toBe(n);
    log.push(digest(Buffer.concat(out)));
    produced += n;
  }
  const out: Buffer[] = [];
  const n = inflater.finish(limit - produced, out);
  log.push(n < 0 ? n : `end ${digest(Buffer.concat(out))}`);
  return log;
}

/** Inflates one message with the WASM inflater; the whole output, or the error code. */
function wasmInflate(
  pieces: readonly Uint8Array[],
  options: { windowBits?: number; limit?: number; inflater?: WasmMessageInflater; history?: Uint8Array } = {},
): Buffer | number {
  let inflater = options.inflater;
  if (inflater === undefined) {
    inflater = new WasmMessageInflater(options.windowBits ?? 15, options.history === undefined);
    if (options.history) inflater.presetWindow(options.history);
  }
  const limit = options.limit ?? Infinity;
  const out: Buffer[] = [];
  inflater.begin(false);
  let produced = 0;
  for (const piece of pieces) {
    const n = inflater.write(piece, 0, piece.length, limit - produced, out);
    if (n < 0) return n;
    produced += n;
  }
  const n = inflater.finish(limit - produced, out);
  return n < 0 ? n : Buffer.concat(out);
}

/** Both inflaters (same settings) on the same messages in turn: the same log, message after message. */
function expectSameAsPako(messages: ReadonlyArray<readonly Uint8Array[]>, windowBits = 15, takeover = true, limit = Infinity): Array<Array<string | number>> {
  const js = new MessageInflater(windowBits, !takeover);
  const wasm = new WasmMessageInflater(windowBits, !takeover);
  const logs: Array<Array<string | number>> = [];
  for (const [i, pieces] of messages.entries()) {
    const expected = inflateLog(js, pieces, limit);
    expect(inflateLog(wasm, pieces, limit), `message ${i}`).toEqual(expected);
    logs.push(expected);
    if (typeof expected.at(-1) === 'number') break;
    const jw = js.window();
    const ww = wasm.window();
    expect(ww === null ? null : digest(ww)).toBe(jw === null ? null : digest(jw));
  }
  return logs;
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Uint8Array, at: readonly number[]): Uint8Array[] {
  const points = [...new Set(at.map((p) => Math.min(Math.max(0, p), bytes.length)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return pieces;
}

/** A raw DEFLATE stream of several sync-flushed pieces (one per element), as one message. */
function flushedPieces(parts: readonly Uint8Array[], options: pako.DeflateOptions = {}): Buffer {
  const chunks: Uint8Array[] = [];
  const deflate = new pako.Deflate({ ...options, raw: true });
  deflate.onData = (chunk: Uint8Array) => chunks.push(chunk.slice());
  for (const part of parts) deflate.push(part, pako.Z_SYNC_FLUSH);
  const all = Buffer.concat(chunks);
  expect(all.subarray(-4)).toEqual(TRAILER);
  return all.subarray(0, -4);
}

/** Compresses messages with one node:zlib stream that keeps its context (sync flush, tail removed). */
async function compressWithTakeover(messages: readonly Uint8Array[], options: zlib.ZlibOptions): Promise<Buffer[]> {
  const deflate = zlib.createDeflateRaw(options);
  let chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const bodies: Buffer[] = [];
  for (const message of messages) {
    deflate.write(message);
    await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    while (!Buffer.concat(chunks).subarray(-4).equals(TRAILER)) await new Promise((resolve) => setImmediate(resolve));
    const body = Buffer.concat(chunks);
    chunks = [];
    bodies.push(body.subarray(0, -4));
  }
  deflate.close();
  return bodies;
}

// ---------------------------------------------------------------------------------------------
// Hand-made DEFLATE streams

/** Writes DEFLATE bits: fields least significant bit first, Huffman codes most significant first. */
class BitWriter {
  private readonly bytes: number[] = [];
  private bit = 0;

  bits(value: number, count: number): this {
    for (let i = 0; i < count; i++) this.push((value >>> i) & 1);
    return this;
  }

  code(code: number, length: number): this {
    for (let i = length - 1; i >= 0; i--) this.push((code >>> i) & 1);
    return this;
  }

  align(): this {
    this.bit = 0;
    return this;
  }

  finish(): Buffer {
    return Buffer.from(this.bytes);
  }

  private push(b: number): void {
    if (this.bit === 0) this.bytes.push(0);
    this.bytes[this.bytes.length - 1] |= b << this.bit;
    this.bit = (this.bit + 1) & 7;
  }
}

/** Canonical Huffman codes for the code lengths (RFC 1951 3.2.2); -1 where the length is 0. */
function canonical(lengths: readonly number[]): number[] {
  const count = new Array<number>(16).fill(0);
  for (const l of lengths) if (l > 0) count[l]!++;
  const next = new Array<number>(16).fill(0);
  let code = 0;
  for (let bits = 1; bits < 16; bits++) {
    code = (code + count[bits - 1]!) << 1;
    next[bits] = code;
  }
  return lengths.map((l) => (l > 0 ? next[l]!++ : -1));
}

const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
/** A complete code length code over all 19 symbols (13 of 4 bits, 6 of 5). */
const CL_LENGTHS = Array.from({ length: 19 }, (_, s) => (s < 13 ? 4 : 5));

function fixedLiteralCode(sym: number): [number, number] {
  if (sym < 144) return [0x30 + sym, 8];
  if (sym < 256) return [0x190 + sym - 144, 9];
  if (sym < 280) return [sym - 256, 7];
  return [0xc0 + sym - 280, 8];
}

/** A fixed-code block: `items` are literals (numbers) or [length symbol, extra bits, extra count, distance code, extra bits, extra count]. */
function fixedBlock(w: BitWriter, final: boolean, items: ReadonlyArray<number | readonly number[]>): BitWriter {
  w.bits(final ? 1 : 0, 1).bits(1, 2);
  for (const item of items) {
    if (typeof item === 'number') {
      w.code(...fixedLiteralCode(item));
      continue;
    }
    const [lsym, lextra, lcount, dcode, dextra, dcount] = item as [number, number, number, number, number, number];
    w.code(...fixedLiteralCode(lsym)).bits(lextra, lcount).code(dcode, 5).bits(dextra, dcount);
  }
  return w.code(...fixedLiteralCode(256));
}

interface DynamicHeader {
  final?: boolean;
  /** HLIT + 257, HDIST + 1 as sent (default: the lengths' counts). */
  nlen?: number;
  ndist?: number;
  clLengths?: readonly number[];
  /** The code length symbols sent, [symbol, extra bits] (default: each length as is). */
  sequence?: ReadonlyArray<readonly [number, number?]>;
}

/** Writes a dynamic block header; returns the literal/length and distance codes. */
function dynamicHeader(w: BitWriter, litLengths: readonly number[], distLengths: readonly number[], h: DynamicHeader = {}): { lit: number[]; dist: number[] } {
  const nlen = h.nlen ?? litLengths.length;
  const ndist = h.ndist ?? distLengths.length;
  const clLengths = h.clLengths ?? CL_LENGTHS;
  w.bits(h.final === false ? 0 : 1, 1).bits(2, 2).bits(nlen - 257, 5).bits(ndist - 1, 5).bits(15, 4);
  for (const s of CL_ORDER) w.bits(clLengths[s]!, 3);
  const clCodes = canonical(clLengths);
  const sequence = h.sequence ?? [...litLengths, ...distLengths].map((l) => [l] as const);
  for (const [sym, extra] of sequence) {
    w.code(clCodes[sym]!, clLengths[sym]!);
    if (sym === 16) w.bits(extra ?? 0, 2);
    if (sym === 17) w.bits(extra ?? 0, 3);
    if (sym === 18) w.bits(extra ?? 0, 7);
  }
  return { lit: canonical(litLengths), dist: canonical(distLengths) };
}

/** Literal/length lengths: symbols `used` get `bits` each (others 0); 286 entries. */
function litLengthsOf(used: Record<number, number>, n = 286): number[] {
  return Array.from({ length: n }, (_, s) => used[s] ?? 0);
}

/** A complete literal/length code: 'a', 'b', end of block and length 3 (symbol 257), 2 bits each. */
const SMALL_LIT = litLengthsOf({ 97: 2, 98: 2, 256: 2, 257: 2 }, 258);

// ---------------------------------------------------------------------------------------------

describe('WASM inflater: round trips against node:zlib', () => {
  it('inflates every sample at every level, window and strategy, whole and in pieces', () => {
    const strategies = [zlib.constants.Z_DEFAULT_STRATEGY, zlib.constants.Z_FILTERED, zlib.constants.Z_HUFFMAN_ONLY, zlib.constants.Z_RLE, zlib.constants.Z_FIXED];
    for (const [name, data] of samples) {
      for (let level = 0; level <= 9; level++) {
        for (let windowBits = 9; windowBits <= 15; windowBits++) {
          const strategy = strategies[(level + windowBits) % strategies.length]!;
          const body = clientCompress(data, { level, windowBits, strategy });
          const label = `${name} level ${level} window ${windowBits} strategy ${strategy}`;
          expect(outcome(wasmInflate([body], { windowBits })), label).toBe(digest(data));
          const third = Math.floor(body.length / 3);
          expect(outcome(wasmInflate(cut(body, [third, 2 * third + 1]), { windowBits })), label).toBe(digest(data));
        }
      }
      for (const strategy of strategies) {
        expect(outcome(wasmInflate([clientCompress(data, { strategy })])), `${name} strategy ${strategy}`).toBe(digest(data));
      }
    }
  });

  it('inflates in one-byte pieces, and at every cut of a message', () => {
    const data = json.subarray(0, 3000);
    const body = clientCompress(data);
    const bytes = Array.from(body, (_, i) => body.subarray(i, i + 1));
    expect(outcome(wasmInflate(bytes))).toBe(digest(data));
    for (let c = 0; c <= body.length; c++) expect(outcome(wasmInflate(cut(body, [c]))), `cut at ${c}`).toBe(digest(data));
  });

  it('inflates the empty message in all its shapes', () => {
    const shapes = [
      Buffer.alloc(0), // nothing at all
      clientCompress(Buffer.alloc(0)), // 00: the start of an empty stored block
      Buffer.from([0x02, 0x00]), // an empty fixed block, then the empty stored block's header
      Buffer.from([0x03, 0x00]), // an empty final fixed block: the stream ends, the rest is a new one
      zlib.deflateRawSync(Buffer.alloc(0)), // the same, as zlib finishes a stream
    ];
    for (const body of shapes) {
      expect(outcome(wasmInflate([body])), body.toString('hex')).toBe(digest(Buffer.alloc(0)));
      expectSameAsPako([[body], [body]]);
    }
  });

  it('inflates a message made of several flushes, full flushes and a final block in the middle', () => {
    const parts = [json.subarray(0, 5000), text.subarray(0, 7000), Buffer.alloc(0), json.subarray(5000, 9000)];
    const flushed = flushedPieces(parts, { level: 6 });
    const whole = Buffer.concat(parts);
    expect(outcome(wasmInflate([flushed]))).toBe(digest(whole));
    expect(outcome(wasmInflate(cut(flushed, [100, 101, 2000, 5000])))).toBe(digest(whole));
    // A final block ends the DEFLATE stream; what follows starts a new one on the same window.
    const finished = zlib.deflateRawSync(json.subarray(0, 4000));
    const then = clientCompress(json.subarray(4000, 8000));
    expect(outcome(wasmInflate([Buffer.concat([finished, then])]))).toBe(digest(json.subarray(0, 8000)));
    expect(outcome(wasmInflate([finished, then]))).toBe(digest(json.subarray(0, 8000)));
    expectSameAsPako([[Buffer.concat([finished, then])], [finished, then], cut(Buffer.concat([finished, finished]), [finished.length - 1])]);
  });

  it('keeps the context across messages (takeover), as a zlib stream that keeps its own', async () => {
    const messages = [json.subarray(0, 9000), json.subarray(4000, 16000), text.subarray(0, 3000), json.subarray(100, 9100), Buffer.alloc(0), json.subarray(0, 50)];
    for (const windowBits of [9, 11, 15]) {
      const bodies = await compressWithTakeover(messages, { windowBits, level: 9 });
      const inflater = new WasmMessageInflater(windowBits, false);
      bodies.forEach((body, i) => {
        expect(outcome(wasmInflate(cut(body, [7, body.length >> 1]), { inflater })), `window ${windowBits} message ${i}`).toBe(digest(messages[i]));
      });
      expectSameAsPako(bodies.map((b) => [b]), windowBits, true);
      if (windowBits === 15) {
        // The fourth message repeats the first: it is mostly references into the history...
        expect(bodies[3]!.length).toBeLessThan(messages[3]!.length / 20);
        // ...and without the history it is corrupt.
        expect(wasmInflate([bodies[3]!], { windowBits })).toBe(INFLATE_CORRUPT);
      }
    }
  });

  it('hands its history on: window() then presetWindow() continues the stream exactly', async () => {
    const messages = [json.subarray(0, 20000), json.subarray(10000, 30000), json.subarray(5000, 25000)];
    const bodies = await compressWithTakeover(messages, { level: 6 });
    const a = new WasmMessageInflater(15, false);
    expect(outcome(wasmInflate([bodies[0]!], { inflater: a }))).toBe(digest(messages[0]));
    expect(outcome(wasmInflate([bodies[1]!], { inflater: a }))).toBe(digest(messages[1]));
    const history = a.window();
    expect(history).not.toBeNull();
    expect(digest(history!)).toBe(digest(Buffer.concat(messages.slice(0, 2)).subarray(-32768)));
    const b = new WasmMessageInflater(15, false);
    b.presetWindow(history!);
    expect(outcome(wasmInflate([bodies[2]!], { inflater: b }))).toBe(digest(messages[2]));
    // The window is a copy of its own: changing it changes nothing.
    history!.fill(0);
    expect(outcome(wasmInflate([bodies[2]!], { inflater: a }))).toBe(digest(messages[2]));
    // Without context takeover there is no window to hand on.
    const c = new WasmMessageInflater(15, true);
    expect(outcome(wasmInflate([bodies[0]!], { inflater: c }))).toBe(digest(messages[0]));
    expect(c.window()).toBeNull();
  });
});

describe('WASM inflater: limits', () => {
  it('passes a message exactly at the limit and refuses one byte more, in one call or many', () => {
    for (const data of [Buffer.alloc(10_000, 0x61), json.subarray(0, 30_000), Buffer.alloc(300_000, 7)]) {
      const body = clientCompress(data);
      for (const pieces of [[body], cut(body, [5, body.length >> 1])]) {
        expect(outcome(wasmInflate(pieces, { limit: data.length }))).toBe(digest(data));
        expect(wasmInflate(pieces, { limit: data.length - 1 })).toBe(INFLATE_TOO_BIG);
        expectSameAsPako([pieces], 15, false, data.length);
        expectSameAsPako([pieces], 15, false, data.length - 1);
      }
    }
  });

  it('stops a 1 GiB bomb at the limit, fast', () => {
    // 64 streams of 16 MiB of zeros, each ended by a final block: 1 GiB in about 1 MiB.
    const stream = zlib.deflateRawSync(Buffer.alloc(16 << 20), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => stream));
    expect(bomb.length).toBeLessThan(2 << 20);
    const started = performance.now();
    expect(wasmInflate([bomb], { limit: 8 << 20 })).toBe(INFLATE_TOO_BIG);
    expect(wasmInflate(cut(bomb, [1000, 500_000]), { limit: 32 << 20 })).toBe(INFLATE_TOO_BIG);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('inflates past its first output guess in several rounds (a large, highly compressed message)', () => {
    const data = Buffer.concat([Buffer.alloc(3 << 20, 0x20), json, Buffer.alloc(6 << 20, 0x41), json]);
    const body = clientCompress(data);
    expect(outcome(wasmInflate([body]))).toBe(digest(data));
    expectSameAsPako([[body], cut(body, [body.length >> 1])]);
  });
});

describe('WASM inflater: the inflateRaw kernel (whole messages)', () => {
  const rt = compressionRuntime();

  function kernelInflate(body: Uint8Array, history: Uint8Array, limit: number, windowBits = 15): Buffer | number {
    const work = rt.base;
    const src = work + ((rt.kernels.inflateWorkSize() + 15) & ~15);
    const out = (src + body.length + TRAILER.length + 31) & ~15;
    rt.reserve(out - rt.base + history.length + limit + 64);
    const u8 = rt.u8;
    u8.set(body, src);
    u8.set(TRAILER, src + body.length);
    u8.set(history, out);
    const n = rt.kernels.inflateRaw(src, body.length, out, history.length, limit, work, windowBits);
    return n < 0 ? n : Buffer.from(rt.u8.subarray(out + history.length, out + history.length + n));
  }

  it('inflates, refuses what exceeds the limit (-1) and corrupt data (-2), and reads the history', () => {
    expect(rt.kernels.inflateWorkSize()).toBeGreaterThan(0);
    for (const [name, data] of samples) {
      const body = clientCompress(data);
      expect(outcome(kernelInflate(body, new Uint8Array(0), data.length)), name).toBe(digest(data));
      if (data.length > 0) expect(kernelInflate(body, new Uint8Array(0), data.length - 1), name).toBe(-1);
    }
    expect(kernelInflate(Buffer.from([0x07]), new Uint8Array(0), 100)).toBe(-2);
    expect(kernelInflate(clientCompress(json).subarray(0, 300), new Uint8Array(0), 1 << 20)).toBe(-2);
    // A preset dictionary is the history.
    const history = json.subarray(0, 32768);
    const message = json.subarray(1000, 21000);
    const body = zlib.deflateRawSync(message, { dictionary: history, finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    expect(outcome(kernelInflate(body, history, 1 << 20))).toBe(digest(message));
    expect(kernelInflate(body, new Uint8Array(0), 1 << 20)).toBe(-2);
  });
});

describe('WASM inflater: refuses exactly what pako refuses', () => {
  /**
   * Expects both inflaters to agree on `body` (whole, in two pieces, byte by byte); returns the
   * digest of what it inflates to, or the error.
   */
  function agree(body: Buffer, settings: { windowBits?: number; history?: Uint8Array } = {}): string | number {
    const windowBits = settings.windowBits ?? 15;
    for (const pieces of [[body], cut(body, [body.length >> 1]), Array.from(body, (_, i) => body.subarray(i, i + 1))]) {
      const js = new MessageInflater(windowBits, false);
      const wasm = new WasmMessageInflater(windowBits, false);
      if (settings.history) {
        js.presetWindow(settings.history);
        wasm.presetWindow(settings.history);
      }
      expect(inflateLog(wasm, pieces), body.toString('hex')).toEqual(inflateLog(js, pieces));
    }
    const whole = wasmInflate([body], settings);
    return typeof whole === 'number' ? whole : digest(whole);
  }

  it('block headers: reserved type 3, stored blocks whose NLEN is wrong', () => {
    expect(agree(Buffer.from([0x07]))).toBe(INFLATE_CORRUPT);
    expect(agree(Buffer.from([0x06, 0xff]))).toBe(INFLATE_CORRUPT);
    expect(agree(Buffer.from([0x01, 0x05, 0x00, 0x00, 0x00]))).toBe(INFLATE_CORRUPT);
    expect(agree(Buffer.from([0x00, 0x03, 0x00, 0xfc, 0xff, 0x61, 0x62, 0x63]))).toBe(digest(Buffer.from("abc")));
    expect(agree(Buffer.from([0x00, 0x03, 0x00, 0xfc, 0xfe, 0x61, 0x62, 0x63]))).toBe(INFLATE_CORRUPT);
    // A stored block cut short: the trailer completes it wrongly.
    expect(agree(Buffer.from([0x00, 0x03, 0x00, 0xfc, 0xff, 0x61]))).toBe(INFLATE_CORRUPT);
  });

  it('code length codes: too many codes, over-subscribed, incomplete, none at all', () => {
    const dist = [1, 1];
    const valid = new BitWriter();
    const { lit } = dynamicHeader(valid, SMALL_LIT, dist);
    valid.code(lit[97]!, 2).code(lit[256]!, 2);
    expect(agree(valid.finish())).toBe(digest(Buffer.from('a')));
    for (const [nlen, ndist] of [[287, 2], [288, 2], [258, 31], [258, 32]] as const) {
      const header = new BitWriter().bits(1, 1).bits(2, 2).bits(nlen - 257, 5).bits(ndist - 1, 5).bits(15, 4);
      expect(agree(header.finish()), `${nlen} ${ndist}`).toBe(INFLATE_CORRUPT);
    }
    const over = CL_LENGTHS.map(() => 1);
    expect(agree(headerAlone(SMALL_LIT, dist, { clLengths: over }))).toBe(INFLATE_CORRUPT);
    const incomplete = CL_LENGTHS.map((l, s) => (s === 0 ? 5 : l));
    expect(agree(headerAlone(SMALL_LIT, dist, { clLengths: incomplete }))).toBe(INFLATE_CORRUPT);
    // No code length code at all: pako reads every code length as 0, one bit each, then misses
    // the end of block code.
    const none = new BitWriter().bits(1, 1).bits(2, 2).bits(1, 5).bits(1, 5).bits(15, 4).bits(0, 19 * 3);
    expect(agree(none.bits(0, 300).finish())).toBe(INFLATE_CORRUPT);
  });

  it('code lengths: runs, a repeat with nothing before it, a repeat past the end, no end-of-block code', () => {
    const dist = [1, 1];
    // Runs of zeros (17, 18) and a repeat (16) that end exactly at the last length are fine.
    const dist4 = [2, 2, 2, 2];
    const runs: Array<readonly [number, number?]> = [[18, 97 - 11], [2], [2], [18, 127], [17, 7], [17, 6], [2], [2], [2], [16, 0]];
    const w = new BitWriter();
    const codes = dynamicHeader(w, SMALL_LIT, dist4, { sequence: runs });
    w.code(codes.lit[98]!, 2).code(codes.lit[256]!, 2);
    expect(agree(w.finish())).toBe(digest(Buffer.from('b')));
    const repeatFirst: Array<readonly [number, number?]> = [[16, 0], ...SMALL_LIT.slice(3).map((l) => [l] as const), [1], [1]];
    expect(agree(headerAlone(SMALL_LIT, dist, { sequence: repeatFirst }))).toBe(INFLATE_CORRUPT);
    expect(agree(headerAlone(SMALL_LIT, dist, { sequence: [[18, 127], [18, 127], [18, 127]] }))).toBe(INFLATE_CORRUPT);
    const noEnd = litLengthsOf({ 97: 1, 98: 1 }, 258);
    expect(agree(headerAlone(noEnd, dist))).toBe(INFLATE_CORRUPT);
  });

  it('literal/length and distance codes: over-subscribed, incomplete, a single one-bit code, none', () => {
    const oversubscribed = litLengthsOf({ 97: 1, 98: 1, 256: 1 }, 258);
    expect(agree(headerAlone(oversubscribed, [1, 1]))).toBe(INFLATE_CORRUPT);
    const incomplete = litLengthsOf({ 97: 2, 98: 2, 256: 2 }, 258);
    expect(agree(headerAlone(incomplete, [1, 1]))).toBe(INFLATE_CORRUPT);
    // Only the end of block, one bit long: allowed; its missing sibling is an invalid code.
    const onlyEnd = litLengthsOf({ 256: 1 }, 257);
    const w1 = new BitWriter();
    dynamicHeader(w1, onlyEnd, [0]);
    expect(agree(w1.code(0, 1).finish())).toBe(digest(Buffer.alloc(0)));
    const w2 = new BitWriter();
    dynamicHeader(w2, onlyEnd, [0]);
    expect(agree(w2.code(1, 1).finish())).toBe(INFLATE_CORRUPT);
    // One distance code of one bit: the code 0 works, the code 1 is invalid.
    const w3 = new BitWriter();
    const c3 = dynamicHeader(w3, SMALL_LIT, [1]);
    w3.code(c3.lit[97]!, 2).code(c3.lit[257]!, 2).code(0, 1).code(c3.lit[256]!, 2);
    expect(agree(w3.finish())).toBe(digest(Buffer.from('aaaa')));
    const w4 = new BitWriter();
    const c4 = dynamicHeader(w4, SMALL_LIT, [1]);
    w4.code(c4.lit[97]!, 2).code(c4.lit[257]!, 2).code(1, 1).code(c4.lit[256]!, 2);
    expect(agree(w4.finish())).toBe(INFLATE_CORRUPT);
    // Two distance codes, one of them two bits long: incomplete, refused.
    expect(agree(headerAlone(SMALL_LIT, [1, 2]))).toBe(INFLATE_CORRUPT);
    // No distance code at all: literals are fine, a match is not.
    const w5 = new BitWriter();
    const c5 = dynamicHeader(w5, SMALL_LIT, [0]);
    w5.code(c5.lit[97]!, 2).code(c5.lit[98]!, 2).code(c5.lit[256]!, 2);
    expect(agree(w5.finish())).toBe(digest(Buffer.from('ab')));
    const w6 = new BitWriter();
    const c6 = dynamicHeader(w6, SMALL_LIT, [0]);
    w6.code(c6.lit[97]!, 2).code(c6.lit[257]!, 2).code(0, 1);
    expect(agree(w6.finish())).toBe(INFLATE_CORRUPT);
  });

  it('the fixed code: length symbols 286 and 287, distance codes 30 and 31, distances too far back', () => {
    const ok = fixedBlock(new BitWriter(), false, [97, 98, [257, 0, 0, 1, 0, 0]]).finish();
    expect(agree(ok)).toBe(digest(Buffer.from('ababa')));
    for (const sym of [286, 287]) expect(agree(fixedBlock(new BitWriter(), false, [97, [sym, 0, 0, 0, 0, 0]]).finish())).toBe(INFLATE_CORRUPT);
    for (const code of [30, 31]) expect(agree(fixedBlock(new BitWriter(), false, [97, [257, 0, 0, code, 0, 0]]).finish())).toBe(INFLATE_CORRUPT);
    // Distance 2 after one byte: too far back, unless the history has a byte.
    const far = fixedBlock(new BitWriter(), false, [97, [257, 0, 0, 1, 0, 0]]).finish();
    expect(agree(far)).toBe(INFLATE_CORRUPT);
    expect(agree(far, { history: Buffer.from('z') })).toBe(digest(Buffer.from('azaz')));
    // The largest distance, 32768, reaching exactly to the start of the history.
    const back = fixedBlock(new BitWriter(), false, [[285, 0, 0, 29, 8191, 13]]).finish();
    expect(agree(back, { history: json.subarray(0, 32768) })).toBe(digest(json.subarray(0, 258)));
    expect(agree(back, { history: json.subarray(0, 32767) })).toBe(INFLATE_CORRUPT);
  });

  it('bits after the last block: a header read from them, or ignored when fewer than three', () => {
    // Four 9-bit literals: the block ends 2 bits before a byte boundary; three: 3 bits before.
    const twoLeft = (bits: number): Buffer => fixedBlock(new BitWriter(), false, [200, 200, 200, 200]).bits(bits, 2).finish();
    const threeLeft = (bits: number): Buffer => fixedBlock(new BitWriter(), false, [200, 200, 200]).bits(bits, 3).finish();
    expect(agree(twoLeft(3))).toBe(digest(Buffer.alloc(4, 200)));
    expect(agree(threeLeft(0))).toBe(digest(Buffer.alloc(3, 200))); // a stored block header: the trailer ends it
    expect(agree(threeLeft(7))).toBe(INFLATE_CORRUPT); // block type 3
    // With takeover, the stream goes on: leftover bits begin the next message's first header
    // (here BFINAL, then a type whose high bit is the next message's first bit: 3).
    const next = Buffer.from([0x0b, 0x00]);
    expect(expectSameAsPako([[twoLeft(3)], [next]])[1]).toEqual([INFLATE_CORRUPT]);
    expect(expectSameAsPako([[twoLeft(3)], [next]], 15, false)[1]).not.toEqual([INFLATE_CORRUPT]);
    expectSameAsPako([[twoLeft(1)], [next], [twoLeft(2)], [clientCompress('x')], [threeLeft(0)], [Buffer.from([0x03, 0x00])]]);
  });

  it('a small window: distances beyond it are refused or not exactly as pako splits its calls', () => {
    // 15-bit matches inflated with a 9-bit window: pako accepts a distance that stays within its
    // window plus what its current zlib call produced (a call per piece, and per 64 KiB).
    const data = Buffer.concat([json.subarray(0, 100_000), json.subarray(0, 100_000)]);
    const body = clientCompress(data, { windowBits: 15 });
    for (const at of [[], [body.length >> 1], [1000, 1001, 30_000]]) {
      expectSameAsPako([cut(body, at)], 9);
      expectSameAsPako([cut(body, at)], 12);
    }
    // One piece: every distance lies within the call's output. Small pieces: some do not.
    const short = json.subarray(0, 3000);
    const body3k = clientCompress(short, { windowBits: 15 });
    expect(expectSameAsPako([[body3k]], 9)[0]![0]).toBe(digest(short));
    expect(expectSameAsPako([cut(body3k, [100, 200, 300, 400])], 9)[0]!.at(-1)).toBe(INFLATE_CORRUPT);
  });

  it('random broken input: bit flips, cuts, garbage, in random pieces, with and without takeover (fast-check)', () => {
    const pool = Buffer.concat([json.subarray(0, 60_000), text.subarray(0, 20_000), random.subarray(0, 5000)]);
    const message = fc.record({
      from: fc.nat({ max: pool.length - 1 }),
      length: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 50_000, max: 90_000 })),
      level: fc.integer({ min: 0, max: 9 }),
      windowBits: fc.integer({ min: 9, max: 15 }),
      strategy: fc.integer({ min: 0, max: 4 }),
      damage: fc.oneof(
        { arbitrary: fc.constant<{ kind: 'none' }>({ kind: 'none' }), weight: 3 },
        { arbitrary: fc.record({ kind: fc.constant<'flip'>('flip'), flips: fc.array(fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), { minLength: 1, maxLength: 3 }) }), weight: 4 },
        { arbitrary: fc.record({ kind: fc.constant<'cut'>('cut'), keep: fc.double({ min: 0, max: 1, noNaN: true }) }), weight: 1 },
        { arbitrary: fc.record({ kind: fc.constant<'garbage'>('garbage'), bytes: fc.uint8Array({ maxLength: 40 }) }), weight: 2 },
      ),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
    });
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 8, max: 15 }),
        fc.boolean(),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 100_000 })),
        (messages, windowBits, takeover, limit) => {
          const bodies = messages.map((m) => {
            const data = pool.subarray(m.from, m.from + m.length);
            let body: Buffer = Buffer.from(clientCompress(data, { level: m.level, windowBits: m.windowBits, strategy: m.strategy }));
            const d = m.damage;
            if (d.kind === 'flip') for (const f of d.flips) if (body.length > 0) body[f.at % body.length]! ^= 1 << f.bit;
            if (d.kind === 'cut') body = body.subarray(0, Math.floor(body.length * d.keep));
            if (d.kind === 'garbage') body = Buffer.from(d.bytes);
            return cut(body, m.cuts.map((c) => c % (body.length + 1)));
          });
          expectSameAsPako(bodies, windowBits, takeover, limit);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** A message that is a dynamic block header alone. */
function headerAlone(litLengths: readonly number[], distLengths: readonly number[], h: DynamicHeader = {}): Buffer {
  const w = new BitWriter();
  dynamicHeader(w, litLengths, distLengths, h);
  return w.finish();
}
