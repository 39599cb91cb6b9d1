/**
 * The `js` engine as the connection uses it: a synchronous codec per connection, outgoing
 * messages split into frames, small frames merged with their header, large payloads passed
 * by reference, and a round trip server → client → server with and without compression.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, engineNames, isEngineName, jsEngine } from '../src/engine/index.js';
import type { CodecOptions, DeflateParams, EncodeRequest } from '../src/protocol/codec.js';
import { clientFrame, clientInflate, parseServerFrames } from './helpers/codec-frames.js';

const DEFLATE: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

function codec(options: Partial<CodecOptions> = {}) {
  return jsEngine.createCodec({ maxMessageSize: 0, deflate: null, ...options });
}

function request(data: Buffer | string, overrides: Partial<EncodeRequest> = {}): EncodeRequest {
  return { opcode: 0x1, data: typeof data === 'string' ? Buffer.from(data) : data, first: true, fin: true, compress: false, maxFrameSize: 0, ...overrides };
}

describe('engine lookup', () => {
  it('finds the js engine by name, in any case', () => {
    expect(createEngine('js')).toBe(jsEngine);
    expect(createEngine('JS')).toBe(jsEngine);
    expect(isEngineName('nope')).toBe(false);
    expect(() => createEngine('nope')).toThrow(/Unknown engine/);
    expect(engineNames()).toContain('js');
    expect(jsEngine.name).toBe('js');
  });

  it('answers synchronously', async () => {
    const c = codec();
    const decoded = c.decode(clientFrame(0x1, 'hi'));
    expect(decoded).not.toBeInstanceOf(Promise);
    expect(Array.isArray(c.encode(request('hi')))).toBe(true);
    await expect(jsEngine.close()).resolves.toBeUndefined();
  });
});

describe('encode', () => {
  it('merges a small frame and its header into one buffer', () => {
    const frames = codec().encode(request('Hello'));
    expect(frames).toHaveLength(1);
    expect(frames[0]).toEqual(Buffer.from([0x81, 5, ...Buffer.from('Hello')]));
  });

  it('passes a large payload by reference after its own header', () => {
    const data = Buffer.alloc(5000, 0x61);
    const frames = codec().encode(request(data, { opcode: 0x2 }));
    expect(frames).toHaveLength(2);
    expect(frames[0]).toEqual(Buffer.from([0x82, 126, 0x13, 0x88]));
    expect(frames[1]).toBe(data);
  });

  it('splits a piece longer than maxFrameSize: opcode on the first frame, FIN on the last', () => {
    const data = Buffer.from('abcdefghij');
    const frames = parseServerFrames(Buffer.concat(codec().encode(request(data, { maxFrameSize: 4 }))));
    expect(frames.map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [0x1, false, 'abcd'],
      [0x0, false, 'efgh'],
      [0x0, true, 'ij'],
    ]);
    expect(frames.every((f) => !f.masked && !f.rsv1)).toBe(true);
  });

  it('splits large payloads into views of the caller\'s buffer, not copies', () => {
    const data = Buffer.alloc(10_000, 0x62);
    const frames = codec().encode(request(data, { opcode: 0x2, maxFrameSize: 4096 }));
    expect(frames).toHaveLength(6); // 4096 + 4096 by reference, the 1808-byte rest also by reference
    expect(frames[1].buffer).toBe(data.buffer);
    expect(parseServerFrames(Buffer.concat(frames)).map((f) => f.payload.length)).toEqual([4096, 4096, 1808]);
  });

  it('encodes a message sent in pieces: continuation opcodes, FIN only at the end', () => {
    const c = codec();
    const bytes = Buffer.concat([
      ...c.encode(request('one', { fin: false })),
      ...c.encode(request('two', { first: false, fin: false, maxFrameSize: 2 })),
      ...c.encode(request('', { first: false, fin: true })),
    ]);
    expect(parseServerFrames(bytes).map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [0x1, false, 'one'],
      [0x0, false, 'tw'],
      [0x0, false, 'o'],
      [0x0, true, ''],
    ]);
  });

  it('encodes an empty message as one empty frame', () => {
    expect(codec().encode(request('', { opcode: 0x2 }))).toEqual([Buffer.from([0x82, 0x00])]);
  });

  it('refuses pieces out of order', () => {
    const c = codec();
    expect(() => c.encode(request('x', { first: false }))).toThrow(/continuation/);
    c.encode(request('x', { fin: false }));
    expect(() => c.encode(request('y'))).toThrow(/new message/);
  });

  it('compresses when asked and negotiated: RSV1 on the first frame only, header in the same buffer', () => {
    const text = Buffer.from('compress me '.repeat(100));
    const frames = codec({ deflate: DEFLATE }).encode(request(text, { compress: true }));
    expect(frames).toHaveLength(1);
    const [frame] = parseServerFrames(frames[0]);
    expect(frame).toMatchObject({ opcode: 0x1, fin: true, rsv1: true, masked: false });
    expect(frame.payload.length).toBeLessThan(text.length / 10);
    expect(clientInflate(frame.payload).equals(text)).toBe(true);

    const split = parseServerFrames(Buffer.concat(codec({ deflate: DEFLATE }).encode(request(text, { compress: true, maxFrameSize: 10 }))));
    expect(split.length).toBeGreaterThan(1);
    expect(split.map((f) => f.rsv1)).toEqual(split.map((_, i) => i === 0));
    expect(split.map((f) => f.opcode)).toEqual(split.map((_, i) => (i === 0 ? 0x1 : 0x0)));
    expect(clientInflate(Buffer.concat(split.map((f) => f.payload))).equals(text)).toBe(true);
  });

  it('does not compress when not asked, or when deflate was not negotiated', () => {
    expect(parseServerFrames(codec({ deflate: DEFLATE }).encode(request('plain'))[0])[0].rsv1).toBe(false);
    expect(parseServerFrames(codec().encode(request('plain', { compress: true }))[0])[0].rsv1).toBe(false);
  });
});

describe('round trip: what the server encodes, a client sends back', () => {
  /** Re-sends server frames as a client would: masked, same flags. */
  function echo(frames: Buffer[]): Buffer {
    return Buffer.concat(parseServerFrames(Buffer.concat(frames)).map((f) => clientFrame(f.opcode, f.payload, { fin: f.fin, rsv1: f.rsv1, maskKey: [1, 2, 3, 4] })));
  }

  for (const deflate of [null, DEFLATE, { ...DEFLATE, serverNoContextTakeover: true, clientNoContextTakeover: true }]) {
    it(`keeps every message intact (deflate: ${deflate ? JSON.stringify(deflate) : 'off'})`, () => {
      const server = codec({ deflate });
      const peer = codec({ deflate }); // the same parameters apply in the other direction
      const messages = ['', 'short', 'κόσμε '.repeat(3000), 'x'.repeat(70_000)];
      for (const text of messages) {
        for (const maxFrameSize of [0, 1000]) {
          const wire = echo(server.encode(request(text, { compress: true, maxFrameSize })));
          const r = peer.decode(wire);
          expect(r.error).toBeNull();
          const payloads = r.events.map((e) => (e.kind === 'data' ? e.payload : Buffer.alloc(0)));
          expect(Buffer.concat(payloads).toString() === text).toBe(true);
          expect(r.events.at(-1)).toMatchObject({ kind: 'data', fin: true });
        }
      }
    });
  }

  it('dispose() is idempotent and ends the codec', () => {
    const c = codec({ deflate: DEFLATE });
    c.encode(request('x', { compress: true }));
    c.dispose();
    c.dispose();
    expect(c.decode(clientFrame(0x1, 'late'))).toEqual({ events: [], error: null });
    expect(() => c.encode(request('late'))).toThrow(/disposed/);
  });
});
