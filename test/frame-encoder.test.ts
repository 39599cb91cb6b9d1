/**
 * Server frame headers (7/16/64-bit lengths, never masked), control frames and close payloads.
 */
import { describe, expect, it } from 'vitest';
import { encodeClosePayload, encodeControlFrame, encodeFrameHeader, frameHeaderSize } from '../src/protocol/frame-encoder.js';
import { utf8IsValid } from '../src/protocol/utf8.js';

describe('encodeFrameHeader', () => {
  it('uses a 7-bit length up to 125', () => {
    expect(encodeFrameHeader(0x1, true, false, 0)).toEqual(Buffer.from([0x81, 0x00]));
    expect(encodeFrameHeader(0x2, false, false, 125)).toEqual(Buffer.from([0x02, 125]));
    expect(encodeFrameHeader(0x1, true, true, 5)).toEqual(Buffer.from([0xc1, 5]));
    expect(encodeFrameHeader(0x0, true, false, 1)).toEqual(Buffer.from([0x80, 1]));
  });

  it('uses a 16-bit length from 126 to 65535', () => {
    expect(encodeFrameHeader(0x2, true, false, 126)).toEqual(Buffer.from([0x82, 126, 0x00, 126]));
    expect(encodeFrameHeader(0x2, true, false, 65535)).toEqual(Buffer.from([0x82, 126, 0xff, 0xff]));
  });

  it('uses a 64-bit length from 65536 on, big-endian, top bit clear', () => {
    expect(encodeFrameHeader(0x2, true, false, 65536)).toEqual(Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]));
    const big = 2 ** 40 + 0x01020304;
    expect(encodeFrameHeader(0x1, false, true, big)).toEqual(Buffer.from([0x41, 127, 0, 0, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04]));
  });

  it('never sets the mask bit, and sizes agree with frameHeaderSize', () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 2 ** 32, 2 ** 32 + 1]) {
      const header = encodeFrameHeader(0x2, true, false, n);
      expect(header[1] & 0x80).toBe(0);
      expect(header.length).toBe(frameHeaderSize(n));
    }
  });

  it('refuses lengths that are not non-negative safe integers', () => {
    expect(() => encodeFrameHeader(0x2, true, false, -1)).toThrow(RangeError);
    expect(() => encodeFrameHeader(0x2, true, false, 1.5)).toThrow(RangeError);
    expect(() => encodeFrameHeader(0x2, true, false, 2 ** 53)).toThrow(RangeError);
  });
});

describe('encodeControlFrame', () => {
  it('is FIN + opcode, a 7-bit length and the payload, in one buffer', () => {
    expect(encodeControlFrame(0x9, Buffer.from('ping'))).toEqual(Buffer.from([0x89, 4, ...Buffer.from('ping')]));
    expect(encodeControlFrame(0xa, Buffer.alloc(0))).toEqual(Buffer.from([0x8a, 0]));
    const max = encodeControlFrame(0x8, Buffer.alloc(125, 0x41));
    expect(max.length).toBe(127);
    expect(max[1]).toBe(125);
  });

  it('refuses payloads over 125 bytes', () => {
    expect(() => encodeControlFrame(0x9, Buffer.alloc(126))).toThrow(RangeError);
  });
});

describe('encodeClosePayload', () => {
  it('is the big-endian code followed by the UTF-8 reason', () => {
    expect(encodeClosePayload(1000, '')).toEqual(Buffer.from([0x03, 0xe8]));
    expect(encodeClosePayload(4999, 'bye é')).toEqual(Buffer.concat([Buffer.from([0x13, 0x87]), Buffer.from('bye é')]));
  });

  it('cuts a long reason to 123 bytes', () => {
    const payload = encodeClosePayload(1001, 'x'.repeat(500));
    expect(payload.length).toBe(125);
    expect(payload.subarray(2).toString()).toBe('x'.repeat(123));
  });

  it('never splits a character when cutting, whatever its width and position', () => {
    for (const char of ['é', '€', '😀']) {
      for (let pad = 0; pad < 4; pad++) {
        const reason = 'a'.repeat(pad) + char.repeat(100);
        const payload = encodeClosePayload(1000, reason);
        expect(payload.length).toBeLessThanOrEqual(125);
        expect(payload.length).toBeGreaterThan(125 - Buffer.byteLength(char));
        expect(utf8IsValid(payload, 2)).toBe(true);
        expect(reason.startsWith(payload.subarray(2).toString())).toBe(true);
      }
    }
  });

  it('refuses codes that do not fit 16 bits', () => {
    expect(() => encodeClosePayload(70000, '')).toThrow(RangeError);
    expect(() => encodeClosePayload(-1, '')).toThrow(RangeError);
  });
});
