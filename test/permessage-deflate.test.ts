/**
 * permessage-deflate (RFC 7692) in both directions, cross-checked with node:zlib: what we
 * compress inflates with zlib, what zlib compresses inflates with us; context takeover on and
 * off, fragmented and empty messages, decompression bombs, corrupt data, small windows.
 */
import zlib from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import * as pako from 'pako';
import { describe, expect, it } from 'vitest';
import type { DeflateParams } from '../src/protocol/codec.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import {
  MessageDeflater,
  MessageInflater,
  deflateWindowBitsSupported,
  deflaterWindowBits,
} from '../src/protocol/permessage-deflate.js';
import { fastDeflateReset, fastInflateReset } from '../src/protocol/zlib-state.js';
import { clientCompress, clientFrame, clientInflate, decodeInPieces, summarize } from './helpers/codec-frames.js';

const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;

function params(overrides: Partial<DeflateParams> = {}): DeflateParams {
  return { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...overrides };
}

function inflating(overrides: Partial<DeflateParams> = {}, maxMessageSize = 0): FrameDecoder {
  return new FrameDecoder({ maxMessageSize, deflate: params(overrides) });
}

/** Length and hash of some bytes: compared in an instant, unlike a deep equality on big buffers. */
function digest(bytes: Uint8Array): string {
  return `${bytes.length}:${createHash('sha1').update(bytes).digest('hex')}`;
}

/** Digests of the payloads of the data events, joined per message. */
function messages(events: ReturnType<FrameDecoder['decode']>['events']): string[] {
  return messageBuffers(events).map(digest);
}

/** The payloads of the data events, joined per message. */
function messageBuffers(events: ReturnType<FrameDecoder['decode']>['events']): Buffer[] {
  const out: Buffer[] = [];
  let current: Buffer[] = [];
  for (const e of events) {
    if (e.kind !== 'data') continue;
    current.push(e.payload);
    if (e.fin) {
      out.push(Buffer.concat(current));
      current = [];
    }
  }
  return out;
}

const json = Buffer.from(JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }))));

describe('inflating what clients send (node:zlib as the client)', () => {
  it('inflates a compressed text and binary message', () => {
    const d = inflating();
    const r = d.decode(Buffer.concat([clientFrame(TEXT, clientCompress('Hello κόσμε'), { rsv1: true }), clientFrame(BINARY, clientCompress(json), { rsv1: true })]));
    expect(r.error).toBeNull();
    expect(messages(r.events)).toEqual([Buffer.from('Hello κόσμε'), json].map(digest));
  });

  it('leaves messages without RSV1 alone', () => {
    const r = inflating().decode(Buffer.concat([clientFrame(TEXT, 'plain'), clientFrame(TEXT, clientCompress('packed'), { rsv1: true })]));
    expect(messageBuffers(r.events).map(String)).toEqual(['plain', 'packed']);
  });

  it('inflates a compressed message fragmented across frames, whatever the chunking', () => {
    const body = clientCompress(json);
    const thirds = [body.subarray(0, 100), body.subarray(100, 101), body.subarray(101)];
    const stream = Buffer.concat([
      clientFrame(TEXT, thirds[0], { rsv1: true, fin: false }),
      clientFrame(0x9, 'ping'),
      clientFrame(CONT, thirds[1], { fin: false }),
      clientFrame(CONT, thirds[2]),
    ]);
    const whole = inflating().decode(Buffer.from(stream));
    expect(whole.error).toBeNull();
    expect(messages(whole.events)).toEqual([json].map(digest));
    expect(whole.events.filter((e) => e.kind === 'data').map((e) => e.kind === 'data' && [e.first, e.fin])).toEqual([[true, false], [false, false], [false, true]]);
    for (let cut = 0; cut <= stream.length; cut += 7) {
      const d = inflating();
      const r = decodeInPieces((c) => d.decode(c), stream, [cut, Math.min(stream.length, cut + 50)]);
      expect(r.error).toBeNull();
      expect(messages(r.events)).toEqual([json].map(digest));
    }
  });

  it('inflates pieces each flushed on their own (a sender that compresses as it goes)', () => {
    const piece1 = zlib.deflateRawSync(Buffer.from('first half, '), { finishFlush: zlib.constants.Z_SYNC_FLUSH }); // keeps 00 00 ff ff
    const piece2 = clientCompress('second half');
    const r = inflating().decode(Buffer.concat([clientFrame(TEXT, piece1, { rsv1: true, fin: false }), clientFrame(CONT, piece2)]));
    expect(r.error).toBeNull();
    expect(messageBuffers(r.events).map(String)).toEqual(['first half, second half']);
  });

  it('keeps the context across messages (context takeover)', () => {
    const first = Buffer.from('The same words again and again. '.repeat(20));
    const second = Buffer.from('The same words again and again. '.repeat(10) + 'And new ones.');
    // A preset dictionary of the previous plaintext is exactly a taken-over context.
    const secondBody = clientCompress(second, { dictionary: first });
    expect(secondBody.length).toBeLessThan(clientCompress(second).length);
    const stream = Buffer.concat([clientFrame(TEXT, clientCompress(first), { rsv1: true }), clientFrame(TEXT, secondBody, { rsv1: true })]);
    const r = inflating().decode(Buffer.from(stream));
    expect(r.error).toBeNull();
    expect(messages(r.events)).toEqual([first, second].map(digest));
    // A client that promised client_no_context_takeover must not refer back: we forget and fail.
    const strict = inflating({ clientNoContextTakeover: true }).decode(Buffer.from(stream));
    expect(strict.error?.code).toBe(1007);
    expect(messages(strict.events)).toEqual([first].map(digest));
  });

  it('inflates many independent messages without context takeover, one chunk or split', () => {
    const texts = Array.from({ length: 30 }, (_, i) => `message ${i} `.repeat(i + 1));
    const stream = Buffer.concat(texts.map((t) => clientFrame(TEXT, clientCompress(t), { rsv1: true })));
    const expected = texts.map((t) => Buffer.from(t));
    expect(messages(inflating({ clientNoContextTakeover: true }).decode(Buffer.from(stream)).events)).toEqual(expected.map(digest));
    const d = inflating({ clientNoContextTakeover: true });
    const r = decodeInPieces((c) => d.decode(c), stream, [17, 300, 301, 900]);
    expect(r.error).toBeNull();
    expect(messages(r.events)).toEqual(expected.map(digest));
  });

  it('never lets one connection reach another one\'s plaintext through a shared context', () => {
    const secret = Buffer.from('secret of connection A: 7f3a9c21d04e');
    const a = inflating({ clientNoContextTakeover: true });
    const b = inflating({ clientNoContextTakeover: true });
    expect(messages(a.decode(clientFrame(TEXT, clientCompress(secret), { rsv1: true })).events)).toEqual([secret].map(digest));
    // B sends back-references into A's message, as if it were its own window.
    const probe = b.decode(clientFrame(TEXT, clientCompress(secret, { dictionary: secret }), { rsv1: true }));
    expect(probe.error?.code).toBe(1007);
    expect(probe.events).toEqual([]);
  });

  it('inflates the empty message in all its shapes, and the context stays usable', () => {
    const emptyBodies = [Buffer.from([0x00]), clientCompress(''), Buffer.alloc(0)];
    for (const noTakeover of [false, true]) {
      const d = inflating({ clientNoContextTakeover: noTakeover });
      for (const body of emptyBodies) {
        const r = d.decode(Buffer.concat([clientFrame(TEXT, body, { rsv1: true }), clientFrame(TEXT, clientCompress('after'), { rsv1: true })]));
        expect(r.error).toBeNull();
        expect(messageBuffers(r.events).map(String)).toEqual(['', 'after']);
      }
      // An empty last fragment after a fully flushed one.
      const flushed = zlib.deflateRawSync(Buffer.from('all here'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      const r = d.decode(Buffer.concat([clientFrame(TEXT, flushed, { rsv1: true, fin: false }), clientFrame(CONT, ''), clientFrame(TEXT, clientCompress('next'), { rsv1: true })]));
      expect(r.error).toBeNull();
      expect(messageBuffers(r.events).map(String)).toEqual(['all here', 'next']);
    }
  });

  it('inflates a message that ends with a final (BFINAL) block, and the next one', () => {
    const finished = zlib.deflateRawSync(Buffer.from('ends with BFINAL')); // Z_FINISH: no 00 00 ff ff to strip
    const r = inflating().decode(Buffer.concat([clientFrame(TEXT, finished, { rsv1: true }), clientFrame(TEXT, clientCompress('then a normal one'), { rsv1: true })]));
    expect(r.error).toBeNull();
    expect(messageBuffers(r.events).map(String)).toEqual(['ends with BFINAL', 'then a normal one']);
  });

  it('inflates a client that uses an 8-bit window (zlib runs it as 9) and small windows', () => {
    for (const bits of [8, 9, 10, 12]) {
      const body = clientCompress(json, { windowBits: bits });
      const r = inflating({ clientMaxWindowBits: bits }).decode(clientFrame(BINARY, body, { rsv1: true }));
      expect(r.error).toBeNull();
      expect(messages(r.events)).toEqual([json].map(digest));
    }
  });

  it('closes with 1009 on a decompression bomb, while inflating, in bounded time', () => {
    const bomb = clientCompress(Buffer.alloc(50 * 1024 * 1024)); // 50 MiB of zeros in ~50 KiB
    expect(bomb.length).toBeLessThan(100 * 1024);
    const started = performance.now();
    const r = inflating({}, 1024 * 1024).decode(clientFrame(BINARY, bomb, { rsv1: true }));
    expect(r.error?.code).toBe(1009);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('applies the limit to the inflated size: exactly the limit passes, one byte more fails', () => {
    const body = clientCompress(Buffer.alloc(10_000, 0x61));
    expect(body.length).toBeLessThan(1000);
    expect(inflating({}, 10_000).decode(clientFrame(TEXT, body, { rsv1: true })).error).toBeNull();
    expect(inflating({}, 9_999).decode(clientFrame(TEXT, body, { rsv1: true })).error?.code).toBe(1009);
    // Across fragments too.
    const frag = Buffer.concat([clientFrame(TEXT, body.subarray(0, 5), { rsv1: true, fin: false }), clientFrame(CONT, body.subarray(5))]);
    expect(inflating({}, 10_000).decode(Buffer.from(frag)).error).toBeNull();
    expect(inflating({}, 9_999).decode(Buffer.from(frag)).error?.code).toBe(1009);
  });

  it('closes with 1007 on corrupt compressed data', () => {
    const corrupt = [
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // reserved block type
      Buffer.from([0x01, 0x05, 0x00, 0x00, 0x00]), // stored block whose NLEN is not ~LEN
      clientCompress(json).subarray(0, 200), // cut in the middle of a block
    ];
    for (const body of corrupt) {
      expect(inflating().decode(clientFrame(BINARY, body, { rsv1: true })).error?.code).toBe(1007);
    }
  });

  it('validates the inflated text, failing fast inside a big compressed frame', () => {
    expect(inflating().decode(clientFrame(TEXT, clientCompress(Buffer.from('ok \xff bad', 'latin1')), { rsv1: true })).error?.code).toBe(1007);
    expect(inflating().decode(clientFrame(TEXT, clientCompress(Buffer.from('e282', 'hex')), { rsv1: true })).error?.code).toBe(1007);
    const bad = Buffer.concat([Buffer.from([0xc0, 0xaf]), randomBytes(200_000).map((b) => 0x20 + (b % 90))]);
    const frame = clientFrame(TEXT, clientCompress(bad, { level: 0 }), { rsv1: true });
    expect(inflating().decode(Buffer.from(frame.subarray(0, 2000))).error?.code).toBe(1007);
  });
});

describe('compressing what the server sends (node:zlib as the client)', () => {
  const samples = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('Hello κόσμε'), json, randomBytes(100_000), Buffer.from('text '.repeat(60_000))];

  it('round-trips every sample, with and without context takeover', () => {
    for (const noTakeover of [false, true]) {
      const deflater = new MessageDeflater(15, noTakeover);
      const previous: Buffer[] = [];
      for (const sample of samples) {
        const body = deflater.compress(sample, true, true);
        const dictionary = noTakeover || previous.length === 0 ? undefined : Buffer.concat(previous).subarray(-32768);
        const inflated = zlib.inflateRawSync(Buffer.concat([body, Buffer.from([0, 0, 0xff, 0xff])]), {
          finishFlush: zlib.constants.Z_SYNC_FLUSH,
          ...(dictionary ? { dictionary } : {}),
        });
        expect(digest(inflated)).toBe(digest(sample));
        if (noTakeover) expect(digest(clientInflate(body))).toBe(digest(sample)); // stands alone
        previous.push(sample);
      }
    }
  });

  it('compresses a repeated message far better with context takeover', () => {
    const withContext = new MessageDeflater(15, false);
    const without = new MessageDeflater(15, true);
    withContext.compress(json, true, true);
    without.compress(json, true, true);
    expect(withContext.compress(json, true, true).length).toBeLessThan(without.compress(json, true, true).length / 5);
  });

  it('compresses a message sent in pieces as one stream', () => {
    for (const noTakeover of [false, true]) {
      const deflater = new MessageDeflater(15, noTakeover);
      const pieces = [json.subarray(0, 5000), Buffer.alloc(0), json.subarray(5000, 5001), json.subarray(5001)];
      const bodies = pieces.map((p, i) => deflater.compress(p, i === 0, i === pieces.length - 1));
      expect(digest(clientInflate(Buffer.concat(bodies)))).toBe(digest(json));
      // The next message follows on from (or, without takeover, ignores) this one.
      const next = deflater.compress(Buffer.from('next'), true, true);
      const dictionary = noTakeover ? undefined : json;
      expect(zlib.inflateRawSync(Buffer.concat([next, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH, ...(dictionary ? { dictionary } : {}) }).toString()).toBe('next');
    }
  });

  it('sends the empty message as the single byte 00 (RFC 7692 7.2.3.6), every time', () => {
    const deflater = new MessageDeflater(15, false);
    expect(deflater.compress(Buffer.alloc(0), true, true)).toEqual(Buffer.from([0x00]));
    deflater.compress(Buffer.from('between'), true, true);
    expect(deflater.compress(Buffer.alloc(0), true, true)).toEqual(Buffer.from([0x00]));
    expect(deflater.compress(Buffer.alloc(0), true, true)).toEqual(Buffer.from([0x00]));
  });

  it('leaves the headroom asked for in front of the compressed bytes', () => {
    const deflater = new MessageDeflater(15, false);
    const out = deflater.compress(json, true, true, 10);
    expect(digest(clientInflate(out.subarray(10)))).toBe(digest(json));
  });

  it('our output inflates in our own decoder too', () => {
    const deflater = new MessageDeflater(15, false);
    const d = inflating();
    for (const sample of samples) {
      const r = d.decode(clientFrame(BINARY, deflater.compress(sample, true, true), { rsv1: true }));
      expect(r.error).toBeNull();
      expect(messages(r.events)).toEqual([sample].map(digest));
    }
  });
});

describe('small windows and server_max_window_bits=8', () => {
  /** Inflates with a 256-byte window one output byte at a time, so every match is checked against the window. */
  function strictInflate(body: Uint8Array, windowBits: number): Buffer {
    const strm = new pako.ZStream();
    expect(pako.zlibInflateInit2(strm, -windowBits)).toBe(pako.Z_OK);
    const input = Buffer.concat([body, Buffer.from([0, 0, 0xff, 0xff])]);
    strm.input = input;
    strm.next_in = 0;
    strm.avail_in = input.length;
    const out: number[] = [];
    const one = new Uint8Array(1);
    for (;;) {
      strm.output = one;
      strm.next_out = 0;
      strm.avail_out = 1;
      const status = pako.zlibInflate(strm, pako.Z_SYNC_FLUSH);
      if (status < 0 && status !== pako.Z_BUF_ERROR) throw new Error(strm.msg || `inflate status ${status}`);
      if (strm.next_out === 0) break;
      out.push(one[0]);
    }
    return Buffer.from(out);
  }

  const repetitive = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.concat([randomBytes(300), Buffer.from(`chunk ${i} `.repeat(30))])));

  it('the strict inflater catches a distance beyond 256 bytes (the check has teeth)', () => {
    const block = randomBytes(300);
    const far = clientCompress(Buffer.concat([block, block]), { windowBits: 15 });
    expect(() => strictInflate(far, 8)).toThrow(/too far/);
    expect(strictInflate(far, 15)).toEqual(Buffer.concat([block, block]));
  });

  it('honours an 8-bit window: a 256-byte inflater can follow everything we send', () => {
    expect(deflateWindowBitsSupported(8)).toBe(true);
    expect(deflaterWindowBits(8)).toBe(9);
    const deflater = new MessageDeflater(8, false);
    let history = Buffer.alloc(0);
    const strm = new pako.ZStream();
    pako.zlibInflateInit2(strm, -8);
    for (let i = 0; i < 3; i++) {
      const body = deflater.compress(repetitive, true, true);
      expect(body.length).toBeLessThan(repetitive.length); // it does compress
      history = Buffer.concat([history, body, Buffer.from([0, 0, 0xff, 0xff])]);
    }
    expect(digest(strictInflate(history.subarray(0, -4), 8))).toBe(digest(Buffer.concat([repetitive, repetitive, repetitive])));
  });

  it('compresses with 9–15 bits so that a zlib inflater with that window follows', () => {
    for (const bits of [9, 10, 12, 15]) {
      const body = new MessageDeflater(bits, true).compress(repetitive, true, true);
      expect(digest(clientInflate(body, bits))).toBe(digest(repetitive));
    }
  });

  it('knows which window sizes it can honour', () => {
    for (const bits of [8, 9, 12, 15]) expect(deflateWindowBitsSupported(bits)).toBe(true);
    for (const bits of [7, 16, 9.5, Number.NaN]) expect(deflateWindowBitsSupported(bits)).toBe(false);
    expect(() => new MessageDeflater(16, false)).toThrow(RangeError);
  });
});

describe('cheap context resets', () => {
  it('are in use with the installed pako', () => {
    expect(fastDeflateReset).toBe(true);
    expect(fastInflateReset).toBe(true);
  });

  it('compress byte for byte like a fresh pako deflater, message after message', () => {
    const texts = [json, Buffer.from('short'), randomBytes(3000), json.subarray(100, 9000), Buffer.alloc(0)];
    for (const bits of [9, 15]) {
      for (const level of [1, 6, 9]) {
        const shared = new MessageDeflater(bits, true, level); // whole messages: borrows the shared context
        const own = new MessageDeflater(bits, true, level);
        for (const text of texts) {
          const fresh = new pako.Deflate({ raw: true, windowBits: bits, level });
          fresh.push(text, pako.Z_SYNC_FLUSH);
          const expected = Buffer.concat(fresh.chunks).subarray(0, -4);
          expect(digest(shared.compress(text, true, true))).toBe(digest(expected));
          // A one-piece message with fin=false then an empty fin piece runs on the own context.
          const split = Buffer.concat([own.compress(text, true, false), own.compress(Buffer.alloc(0), false, true)]);
          expect(digest(clientInflate(split))).toBe(digest(text));
        }
      }
    }
  });

  it('never lends a shared context that a borrower still holds', () => {
    const one = Buffer.from('the first message, inflated in two calls '.repeat(20));
    const two = Buffer.from('the second message, inflated meanwhile');
    const bodyOne = clientCompress(one);
    const a = new MessageInflater(15, true);
    const b = new MessageInflater(15, true);
    const outA: Buffer[] = [];
    const outB: Buffer[] = [];
    a.begin(true); // claims to finish within the call, then does not
    expect(a.write(bodyOne, 0, 40, Infinity, outA)).toBeGreaterThanOrEqual(0);
    b.begin(true);
    expect(b.write(clientCompress(two), 0, clientCompress(two).length, Infinity, outB)).toBeGreaterThan(0);
    expect(b.finish(Infinity, outB)).toBeGreaterThanOrEqual(0);
    expect(a.write(bodyOne, 40, bodyOne.length, Infinity, outA)).toBeGreaterThan(0);
    expect(a.finish(Infinity, outA)).toBeGreaterThanOrEqual(0);
    expect(Buffer.concat(outA).equals(one)).toBe(true);
    expect(Buffer.concat(outB).equals(two)).toBe(true);
  });

  it('decode results do not depend on which context inflated the previous messages', () => {
    const texts = Array.from({ length: 10 }, (_, i) => `m${i} `.repeat(50 * i));
    const frames = texts.map((t) => clientFrame(TEXT, clientCompress(t), { rsv1: true }));
    const d = inflating({ clientNoContextTakeover: true });
    // Alternate whole frames (shared context) and split frames (own context).
    const got: string[] = [];
    frames.forEach((f, i) => {
      const r = i % 2 ? decodeInPieces((c) => d.decode(c), f, [3, 9]) : d.decode(Buffer.from(f));
      expect(r.error).toBeNull();
      got.push(...summarize(r.events).map((e) => (e as { text: string }).text));
    });
    expect(got).toEqual(texts);
  });
});
