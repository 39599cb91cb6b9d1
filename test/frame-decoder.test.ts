/**
 * The streaming frame decoder: every RFC 6455 rule a client frame can break, the events it
 * yields, and the same results whatever the byte stream's chunking.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeflateParams } from '../src/protocol/codec.js';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { closeBody, clientFrame, decodeInPieces, summarize } from './helpers/codec-frames.js';

const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

const DEFLATE: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

function decoder(maxMessageSize = 0, deflate: DeflateParams | null = null): FrameDecoder {
  return new FrameDecoder({ maxMessageSize, deflate });
}

function decodeAll(bytes: Buffer, maxMessageSize = 0, deflate: DeflateParams | null = null) {
  return decoder(maxMessageSize, deflate).decode(Buffer.from(bytes));
}

const data = (opcode: number, text: string, first = true, fin = true) => ({ kind: 'data', opcode, first, fin, text });

describe('FrameDecoder: frames and events', () => {
  it('decodes a text frame', () => {
    const r = decodeAll(clientFrame(TEXT, 'Hello'));
    expect(r.error).toBeNull();
    expect(summarize(r.events)).toEqual([data(TEXT, 'Hello')]);
  });

  it('decodes every frame of a chunk, as views of the chunk (no copy)', () => {
    const chunk = Buffer.concat(Array.from({ length: 50 }, (_, i) => clientFrame(i % 2 ? BINARY : TEXT, `m${i}`)));
    const r = decoder().decode(chunk);
    expect(r.error).toBeNull();
    expect(r.events).toHaveLength(50);
    r.events.forEach((e, i) => {
      expect(e.kind).toBe('data');
      if (e.kind !== 'data') return;
      expect(e.payload.toString()).toBe(`m${i}`);
      expect(e.payload.buffer).toBe(chunk.buffer);
    });
  });

  it('reads 16-bit and 64-bit lengths', () => {
    const medium = Buffer.alloc(300, 0x61);
    const large = Buffer.alloc(70_000, 0x62);
    const r = decodeAll(Buffer.concat([clientFrame(TEXT, medium), clientFrame(BINARY, large)]));
    expect(r.error).toBeNull();
    expect(r.events.map((e) => (e.kind === 'data' ? e.payload : null))).toEqual([medium, large]);
  });

  it('gives continuation frames the message type, first/fin flags, and control frames in between', () => {
    const r = decodeAll(
      Buffer.concat([
        clientFrame(TEXT, 'one ', { fin: false }),
        clientFrame(PING, 'p'),
        clientFrame(CONT, 'two ', { fin: false }),
        clientFrame(PONG, 'q'),
        clientFrame(CONT, 'three'),
        clientFrame(BINARY, 'b', { fin: false }),
        clientFrame(CONT, 'c'),
      ]),
    );
    expect(r.error).toBeNull();
    expect(summarize(r.events)).toEqual([
      data(TEXT, 'one ', true, false),
      { kind: 'ping', text: 'p' },
      data(TEXT, 'two ', false, false),
      { kind: 'pong', text: 'q' },
      data(TEXT, 'three', false, true),
      data(BINARY, 'b', true, false),
      data(BINARY, 'c', false, true),
    ]);
  });

  it('yields events for empty frames, since FIN matters', () => {
    const r = decodeAll(
      Buffer.concat([clientFrame(TEXT, ''), clientFrame(BINARY, '', { fin: false }), clientFrame(CONT, '', { fin: false }), clientFrame(CONT, ''), clientFrame(PING)]),
    );
    expect(r.error).toBeNull();
    expect(summarize(r.events)).toEqual([
      data(TEXT, ''),
      data(BINARY, '', true, false),
      data(BINARY, '', false, false),
      data(BINARY, '', false, true),
      { kind: 'ping', text: '' },
    ]);
  });

  it('accepts 125-byte control payloads', () => {
    const r = decodeAll(clientFrame(PING, Buffer.alloc(125, 0x70)));
    expect(r.error).toBeNull();
    expect(r.events[0]).toMatchObject({ kind: 'ping', payload: Buffer.alloc(125, 0x70) });
  });

  it('reports a close frame without payload as 1005 and an empty reason', () => {
    expect(decodeAll(clientFrame(CLOSE)).events).toEqual([{ kind: 'close', code: 1005, reason: '' }]);
  });

  it('reports the code and reason of a close frame, then ignores everything after it', () => {
    const d = decoder();
    const r = d.decode(Buffer.concat([clientFrame(TEXT, 'a'), clientFrame(CLOSE, closeBody(1000, 'bye κ')), clientFrame(TEXT, 'late'), Buffer.from([0xff, 0xff])]));
    expect(r.error).toBeNull();
    expect(summarize(r.events)).toEqual([data(TEXT, 'a'), { kind: 'close', code: 1000, reason: 'bye κ' }]);
    expect(d.finished).toBe(true);
    expect(d.decode(clientFrame(TEXT, 'later'))).toEqual({ events: [], error: null });
  });

  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999])('accepts close code %i', (code) => {
    expect(decodeAll(clientFrame(CLOSE, closeBody(code))).events).toEqual([{ kind: 'close', code, reason: '' }]);
  });
});

describe('FrameDecoder: violations', () => {
  const cases: Array<[string, Buffer, number]> = [
    ['an unmasked frame', clientFrame(TEXT, 'x', { unmasked: true }), 1002],
    ['RSV1 without permessage-deflate', clientFrame(TEXT, 'x', { rsv1: true }), 1002],
    ['RSV2', clientFrame(TEXT, 'x', { rsv2: true }), 1002],
    ['RSV3', clientFrame(BINARY, 'x', { rsv3: true }), 1002],
    ['RSV3 on a ping', clientFrame(PING, 'x', { rsv3: true }), 1002],
    ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((op): [string, Buffer, number] => [`reserved opcode ${op}`, clientFrame(op, 'x'), 1002]),
    ['a fragmented ping', clientFrame(PING, 'x', { fin: false }), 1002],
    ['a ping with 126 bytes', clientFrame(PING, Buffer.alloc(126)), 1002],
    ['a close with 126 bytes', clientFrame(CLOSE, closeBody(1000, 'x'.repeat(124))), 1002],
    ['a continuation without a message', clientFrame(CONT, 'x'), 1002],
    ['a text frame inside a fragmented message', Buffer.concat([clientFrame(TEXT, 'a', { fin: false }), clientFrame(TEXT, 'b')]), 1002],
    ['a binary frame inside a fragmented message', Buffer.concat([clientFrame(BINARY, 'a', { fin: false }), clientFrame(BINARY, 'b')]), 1002],
    ['a 64-bit length with the top bit set', clientFrame(BINARY, '', { lengthField: [127, 0x80, 0, 0, 0, 0, 0, 0, 1] }), 1002],
    ['invalid UTF-8 in a text frame', clientFrame(TEXT, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex')), 1007],
    ['a text message ending inside a UTF-8 sequence', clientFrame(TEXT, Buffer.from('61e282', 'hex')), 1007],
    ['a fragmented text message ending inside a sequence', Buffer.concat([clientFrame(TEXT, Buffer.from('e2', 'hex'), { fin: false }), clientFrame(CONT, Buffer.from('82', 'hex'))]), 1007],
    ['a close frame with a 1-byte payload', clientFrame(CLOSE, Buffer.from([0x03])), 1002],
    ...[0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 2000, 2999, 5000, 65535].map(
      (code): [string, Buffer, number] => [`close code ${code}`, clientFrame(CLOSE, closeBody(code)), 1002],
    ),
    ['a close reason that is not UTF-8', clientFrame(CLOSE, closeBody(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex'))), 1007],
  ];

  it.each(cases)('%s', (_name, bytes, code) => {
    const d = decoder();
    const r = d.decode(Buffer.from(bytes));
    expect(r.error?.code).toBe(code);
    expect(Buffer.byteLength(r.error!.reason)).toBeLessThanOrEqual(123);
    expect(d.finished).toBe(true);
    // The codec accepts no more input.
    expect(d.decode(clientFrame(TEXT, 'after'))).toEqual({ events: [], error: null });
  });

  it('rejects RSV1 on a continuation or a control frame even with deflate', () => {
    const cont = Buffer.concat([clientFrame(BINARY, 'a', { fin: false }), clientFrame(CONT, 'b', { rsv1: true })]);
    expect(decodeAll(cont, 0, DEFLATE).error?.code).toBe(1002);
    expect(decodeAll(clientFrame(PING, 'p', { rsv1: true }), 0, DEFLATE).error?.code).toBe(1002);
  });

  it('returns the events decoded before the violation', () => {
    const r = decodeAll(Buffer.concat([clientFrame(TEXT, 'ok'), clientFrame(PING, 'p'), clientFrame(7, 'bad'), clientFrame(TEXT, 'never')]));
    expect(r.error?.code).toBe(1002);
    expect(summarize(r.events)).toEqual([data(TEXT, 'ok'), { kind: 'ping', text: 'p' }]);
  });

  it('fails on the first two header bytes, before the rest of the header arrives', () => {
    const d = decoder();
    expect(d.decode(Buffer.from([0x83, 0xfe]))).toEqual({ events: [], error: expect.objectContaining({ code: 1002 }) });
    const unmasked = decoder();
    expect(unmasked.decode(Buffer.from([0x81])).error).toBeNull();
    expect(unmasked.decode(Buffer.from([0x05])).error?.code).toBe(1002);
  });
});

describe('FrameDecoder: message size limit', () => {
  it('refuses a frame over the limit as soon as its header is seen', () => {
    const d = decoder(1000);
    const header = clientFrame(BINARY, Buffer.alloc(1001)).subarray(0, 8); // 2 + 2 + mask key
    expect(d.decode(Buffer.from(header)).error).toEqual({ code: 1009, reason: expect.any(String) });
  });

  it('refuses a declared 2^62-byte frame without allocating it', () => {
    const header = Buffer.from([0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect(decoder(0).decode(header).error?.code).toBe(1009); // beyond what can be counted
    expect(decoder(1 << 20).decode(Buffer.from(header)).error?.code).toBe(1009);
  });

  it('accepts exactly the limit, and counts all fragments of a message', () => {
    expect(decodeAll(clientFrame(BINARY, Buffer.alloc(1000)), 1000).error).toBeNull();
    const fragments = Buffer.concat([
      clientFrame(TEXT, 'a'.repeat(600), { fin: false }),
      clientFrame(PING, 'control frames do not count'),
      clientFrame(CONT, 'b'.repeat(400), { fin: false }),
      clientFrame(CONT, 'c'),
    ]);
    const r = decodeAll(fragments, 1000);
    expect(r.error?.code).toBe(1009);
    expect(r.events).toHaveLength(3);
    // The next message starts from zero again.
    const two = decodeAll(Buffer.concat([clientFrame(TEXT, 'a'.repeat(1000)), clientFrame(TEXT, 'b'.repeat(1000))]), 1000);
    expect(two.error).toBeNull();
  });
});

describe('FrameDecoder: fail fast on invalid UTF-8 (Autobahn 6.4)', () => {
  const part1 = Buffer.from('cebae1bdb9cf83cebcceb5', 'hex');
  const part2 = Buffer.from('f4908080', 'hex');
  const part3 = Buffer.from('656469746564', 'hex');

  it('fails on the fragment that makes the text invalid, not at the end', () => {
    const d = decoder();
    expect(d.decode(clientFrame(TEXT, part1, { fin: false }))).toMatchObject({ error: null, events: [{ kind: 'data' }] });
    expect(d.decode(clientFrame(CONT, part2, { fin: false })).error?.code).toBe(1007);
  });

  it('fails on the chunk that makes a single frame invalid, before the rest of the frame arrives', () => {
    const frame = clientFrame(TEXT, Buffer.concat([part1, part2, part3]));
    const headerSize = 6;
    const d = decoder();
    expect(d.decode(Buffer.from(frame.subarray(0, headerSize + part1.length)))).toEqual({ events: [], error: null });
    expect(d.decode(Buffer.from(frame.subarray(headerSize + part1.length, headerSize + part1.length + 2))).error?.code).toBe(1007);
  });

  it('fails in the first half of a big frame while the second half is still missing', () => {
    const payload = Buffer.alloc(100_000, 0x61);
    payload[10] = 0xff;
    const frame = clientFrame(TEXT, payload);
    expect(decoder().decode(Buffer.from(frame.subarray(0, 1000))).error?.code).toBe(1007);
  });

  it('accepts a sequence split between fragments', () => {
    const r = decodeAll(Buffer.concat([clientFrame(TEXT, Buffer.from('e282', 'hex'), { fin: false }), clientFrame(CONT, Buffer.from('ac', 'hex'))]));
    expect(r.error).toBeNull();
    expect(Buffer.concat(r.events.map((e) => (e.kind === 'data' ? e.payload : Buffer.alloc(0)))).toString()).toBe('€');
  });
});

describe('FrameDecoder: any chunking gives the same result', () => {
  const stream = Buffer.concat([
    clientFrame(TEXT, 'κόσμε'),
    clientFrame(BINARY, Buffer.alloc(130, 0x42)),
    clientFrame(TEXT, '😀 split', { fin: false }),
    clientFrame(PING, 'ping!'),
    clientFrame(CONT, ' across', { fin: false }),
    clientFrame(CONT, ''),
    clientFrame(PONG),
    clientFrame(BINARY, Buffer.alloc(0)),
    clientFrame(CLOSE, closeBody(1001, 'going')),
  ]);
  const expected = summarize(decodeAll(stream).events);

  it('sanity: the whole stream decodes', () => {
    expect(expected).toHaveLength(9);
  });

  it('cut at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = decoder();
      const r = decodeInPieces((c) => d.decode(c), stream, [cut]);
      expect({ cut, error: r.error, events: summarize(r.events) }).toEqual({ cut, error: null, events: expected });
    }
  });

  it('fed one byte at a time (headers split byte by byte)', () => {
    const d = decoder();
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    const r = decodeInPieces((c) => d.decode(c), stream, cuts);
    expect(r.error).toBeNull();
    expect(summarize(r.events)).toEqual(expected);
  });

  it('cut at random places, with a 64-bit-length frame in the stream', () => {
    const big = Buffer.concat([clientFrame(BINARY, Buffer.alloc(70_000, 0x43), { fin: false }), clientFrame(PING, 'x'), clientFrame(CONT, 'end'), stream]);
    const whole = summarize(decodeAll(big).events);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: big.length }), { maxLength: 12 }), (rawCuts) => {
        const cuts = [...new Set(rawCuts)].sort((a, b) => a - b);
        const d = decoder();
        const r = decodeInPieces((c) => d.decode(c), big, cuts);
        expect(r.error).toBeNull();
        expect(summarize(r.events)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('a violation is reported the same wherever the stream is cut', () => {
    const bad = Buffer.concat([clientFrame(TEXT, 'fine'), clientFrame(TEXT, Buffer.from('61ed', 'hex'), { fin: false }), clientFrame(CONT, Buffer.from('a080', 'hex'))]);
    for (let cut = 0; cut <= bad.length; cut++) {
      const d = decoder();
      const r = decodeInPieces((c) => d.decode(c), bad, [cut]);
      expect(r.error?.code).toBe(1007);
    }
  });
});
