import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as pako from 'pako';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEFLATE_PARAMS,
  evaluateDeflateOffer,
  negotiatePermessageDeflate,
  validateDeflateSettings,
  type DeflateSettings,
} from '../src/protocol/deflate-negotiation.js';
import { parseExtensionHeader } from '../src/protocol/extension-header.js';

function negotiate(header: string, settings?: DeflateSettings) {
  return negotiatePermessageDeflate(parseExtensionHeader(header), settings);
}

function verdict(header: string, settings?: DeflateSettings) {
  const offers = parseExtensionHeader(header);
  expect(offers).toHaveLength(1);
  return evaluateDeflateOffer(offers[0]!, settings);
}

// What autobahn-python's PerMessageDeflateOffer(...).getExtensionString() sends (the
// fuzzingclient's offers): acceptNoContextTakeover and acceptMaxWindowBits default to true,
// so every offer carries client_no_context_takeover and a valueless client_max_window_bits.
const AB = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';

describe('Autobahn section 13 offers (fuzzingclient against this server, default settings)', () => {
  const cases: Array<[string, string, string, object]> = [
    ['13.1', AB, 'permessage-deflate; client_no_context_takeover', { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }],
    ['13.2', `${AB}; server_no_context_takeover`, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }],
    ['13.3', `${AB}; server_max_window_bits=9`, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=9', { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 15 }],
    ['13.3 (testsuite <= 0.8.1)', `${AB}; server_max_window_bits=8`, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=8', { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 15 }],
    ['13.4', `${AB}; server_max_window_bits=15`, 'permessage-deflate; client_no_context_takeover; server_max_window_bits=15', { serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }],
    ['13.5', `${AB}; server_no_context_takeover; server_max_window_bits=9`, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 15 }],
    ['13.5 (testsuite <= 0.8.1)', `${AB}; server_no_context_takeover; server_max_window_bits=8`, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 15 }],
    ['13.6', `${AB}; server_no_context_takeover; server_max_window_bits=15`, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 }],
    ['13.7', `${AB}; server_no_context_takeover; server_max_window_bits=9, ${AB}; server_no_context_takeover, ${AB}`, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 15 }],
  ];
  it.each(cases)('%s', (_case, header, response, params) => {
    const agreement = negotiate(header);
    expect(agreement).not.toBeNull();
    expect(agreement!.responseHeader).toBe(response);
    expect(agreement!.params).toEqual(params);
  });

  it('13.7-shaped list whose first offer cannot be honoured: the next one is accepted', () => {
    const agreement = negotiate(
      `${AB}; server_no_context_takeover; server_max_window_bits=7, ${AB}; server_no_context_takeover, ${AB}`,
    );
    expect(agreement!.responseHeader).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
  });
});

describe('browser and library offers', () => {
  it('Chrome/Firefox: permessage-deflate; client_max_window_bits', () => {
    const agreement = negotiate('permessage-deflate; client_max_window_bits');
    expect(agreement).toEqual({ params: DEFAULT_DEFLATE_PARAMS, responseHeader: 'permessage-deflate' });
  });

  it('ws client default offer', () => {
    expect(negotiate('permessage-deflate; client_max_window_bits')!.responseHeader).toBe('permessage-deflate');
  });

  it('a bare offer', () => {
    expect(negotiate('permessage-deflate')).toEqual({ params: DEFAULT_DEFLATE_PARAMS, responseHeader: 'permessage-deflate' });
  });
});

describe('declined offers', () => {
  it.each([
    ['an unknown parameter', 'permessage-deflate; foo', /unknown parameter foo/],
    ['a parameter of another extension', 'permessage-deflate; mux', /unknown parameter/],
    ['a case-changed parameter name', 'permessage-deflate; Server_No_Context_Takeover', /unknown parameter/],
    ['a duplicated flag', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', /duplicate parameter server_no_context_takeover/],
    ['a duplicated window size', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10', /duplicate parameter client_max_window_bits/],
    ['a value on server_no_context_takeover', 'permessage-deflate; server_no_context_takeover=1', /takes no value/],
    ['a value on client_no_context_takeover', 'permessage-deflate; client_no_context_takeover=x', /takes no value/],
    ['a quoted value on a flag', 'permessage-deflate; client_no_context_takeover="x"', /takes no value/],
    ['server_max_window_bits without a value', 'permessage-deflate; server_max_window_bits', /needs a value/],
    ['server_max_window_bits=7', 'permessage-deflate; server_max_window_bits=7', /needs a value/],
    ['server_max_window_bits=16', 'permessage-deflate; server_max_window_bits=16', /needs a value/],
    ['server_max_window_bits=0', 'permessage-deflate; server_max_window_bits=0', /needs a value/],
    ['a leading zero', 'permessage-deflate; server_max_window_bits=09', /needs a value/],
    ['a plus sign', 'permessage-deflate; server_max_window_bits=+9', /needs a value/],
    ['a fraction', 'permessage-deflate; server_max_window_bits=9.0', /needs a value/],
    ['a hex value', 'permessage-deflate; server_max_window_bits=0xA', /needs a value/],
    ['a negative value', 'permessage-deflate; client_max_window_bits=-9', /must be from 8 to 15/],
    ['client_max_window_bits=16', 'permessage-deflate; client_max_window_bits=16', /must be from 8 to 15/],
    ['client_max_window_bits=010', 'permessage-deflate; client_max_window_bits=010', /must be from 8 to 15/],
    ['a quoted out-of-range value', 'permessage-deflate; client_max_window_bits="16"', /must be from 8 to 15/],
  ])('%s', (_label, header, reason) => {
    const v = verdict(header);
    expect(v.accepted).toBe(false);
    expect(v.accepted ? '' : v.reason).toMatch(reason);
    expect(negotiate(header)).toBeNull();
  });

  it('takes the next offer after a declined one', () => {
    expect(negotiate('permessage-deflate; foo, permessage-deflate; server_max_window_bits=12')!.responseHeader).toBe(
      'permessage-deflate; server_max_window_bits=12',
    );
  });

  it('accepts quoted window sizes (RFC 7692 7.1: they unquote to the same token)', () => {
    expect(negotiate('permessage-deflate; server_max_window_bits="10"; client_max_window_bits="11"')!.responseHeader).toBe(
      'permessage-deflate; server_max_window_bits=10; client_max_window_bits=11',
    );
  });

  it('ignores other extensions and their malformed parameters', () => {
    expect(negotiate('x-webkit-deflate-frame; foo=bar; foo, permessage-deflate')!.responseHeader).toBe('permessage-deflate');
    expect(negotiate('x-webkit-deflate-frame, foo; bar')).toBeNull();
    expect(evaluateDeflateOffer({ name: 'foo', params: [] })).toEqual({ accepted: false, reason: 'not permessage-deflate' });
  });

  it('extension names are case-sensitive', () => {
    expect(negotiate('Permessage-Deflate')).toBeNull();
  });

  it('returns null when there is no offer or the extension is disabled', () => {
    expect(negotiate('')).toBeNull();
    expect(negotiate('permessage-deflate', { enabled: false })).toBeNull();
  });
});

describe('server settings', () => {
  it('serverNoContextTakeover is announced even when not offered', () => {
    const a = negotiate('permessage-deflate', { serverNoContextTakeover: true })!;
    expect(a.responseHeader).toBe('permessage-deflate; server_no_context_takeover');
    expect(a.params.serverNoContextTakeover).toBe(true);
  });

  it('clientNoContextTakeover asks the client even when not offered', () => {
    const a = negotiate('permessage-deflate', { clientNoContextTakeover: true })!;
    expect(a.responseHeader).toBe('permessage-deflate; client_no_context_takeover');
    expect(a.params.clientNoContextTakeover).toBe(true);
  });

  it('serverMaxWindowBits is announced when below 15, and lowers a larger client limit', () => {
    expect(negotiate('permessage-deflate', { serverMaxWindowBits: 10 })!.responseHeader).toBe(
      'permessage-deflate; server_max_window_bits=10',
    );
    expect(negotiate('permessage-deflate', { serverMaxWindowBits: 15 })!.responseHeader).toBe('permessage-deflate');
    const lowered = negotiate('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 })!;
    expect(lowered.responseHeader).toBe('permessage-deflate; server_max_window_bits=10');
    expect(lowered.params.serverMaxWindowBits).toBe(10);
  });

  it('a client limit below the server preference wins', () => {
    const a = negotiate('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 12 })!;
    expect(a.responseHeader).toBe('permessage-deflate; server_max_window_bits=9');
    expect(a.params.serverMaxWindowBits).toBe(9);
  });

  it('clientMaxWindowBits answers a valueless client_max_window_bits', () => {
    const a = negotiate('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 })!;
    expect(a.responseHeader).toBe('permessage-deflate; client_max_window_bits=10');
    expect(a.params.clientMaxWindowBits).toBe(10);
  });

  it('a client value is echoed, or lowered to the server preference', () => {
    expect(negotiate('permessage-deflate; client_max_window_bits=12')!.responseHeader).toBe(
      'permessage-deflate; client_max_window_bits=12',
    );
    expect(negotiate('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 })!.responseHeader).toBe(
      'permessage-deflate; client_max_window_bits=10',
    );
    const smaller = negotiate('permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 10 })!;
    expect(smaller.responseHeader).toBe('permessage-deflate; client_max_window_bits=9');
    expect(smaller.params.clientMaxWindowBits).toBe(9);
    const eight = negotiate('permessage-deflate; client_max_window_bits=8')!;
    expect(eight.responseHeader).toBe('permessage-deflate; client_max_window_bits=8');
    expect(eight.params.clientMaxWindowBits).toBe(8);
  });

  it('client_max_window_bits is never answered when the client did not offer it', () => {
    const a = negotiate('permessage-deflate', { clientMaxWindowBits: 10 })!;
    expect(a.responseHeader).toBe('permessage-deflate');
    expect(a.params.clientMaxWindowBits).toBe(15);
  });

  it('all preferences together', () => {
    const a = negotiate('permessage-deflate; client_max_window_bits', {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 11,
      clientMaxWindowBits: 12,
    })!;
    expect(a.responseHeader).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=12',
    );
    expect(a.params).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 11,
      clientMaxWindowBits: 12,
    });
  });

  it.each([8, 16, 9.5, Number.NaN])('rejects window size %s in the settings', (bits) => {
    expect(() => validateDeflateSettings({ serverMaxWindowBits: bits })).toThrow(RangeError);
    expect(() => validateDeflateSettings({ clientMaxWindowBits: bits })).toThrow(RangeError);
    expect(() => negotiate('permessage-deflate', { serverMaxWindowBits: bits })).toThrow(RangeError);
  });
});

/**
 * The largest back-reference distance in a raw deflate stream (a minimal inflate that only
 * walks the codes; it also returns the inflated length as a check that it parsed everything).
 */
function scanDeflate(data: Uint8Array): { maxDistance: number; length: number } {
  let pos = 0;
  let bitBuf = 0;
  let bitCount = 0;
  let length = 0;
  let maxDistance = 0;
  const bits = (n: number): number => {
    while (bitCount < n) {
      if (pos >= data.length) throw new Error('unexpected end of deflate data');
      bitBuf |= data[pos++]! << bitCount;
      bitCount += 8;
    }
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCount -= n;
    return v;
  };
  interface Huffman { count: number[]; symbol: number[] }
  const build = (lengths: number[]): Huffman => {
    const count = new Array<number>(16).fill(0);
    for (const l of lengths) count[l]!++;
    count[0] = 0;
    const offs = new Array<number>(16).fill(0);
    for (let l = 1; l < 15; l++) offs[l + 1] = offs[l]! + count[l]!;
    const symbol = new Array<number>(lengths.length).fill(0);
    lengths.forEach((l, s) => {
      if (l !== 0) symbol[offs[l]!++] = s;
    });
    return { count, symbol };
  };
  const decode = (h: Huffman): number => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= 15; len++) {
      code |= bits(1);
      const count = h.count[len]!;
      if (code - count < first) return h.symbol[index + (code - first)]!;
      index += count;
      first += count;
      first <<= 1;
      code <<= 1;
    }
    throw new Error('bad Huffman code');
  };
  const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
  const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
  const DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
  const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
  const codes = (lit: Huffman, dist: Huffman): void => {
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) {
        length++;
      } else if (sym === 256) {
        return;
      } else {
        const i = sym - 257;
        const len = LBASE[i]! + bits(LEXT[i]!);
        const d = decode(dist);
        const distance = DBASE[d]! + bits(DEXT[d]!);
        if (distance > length) throw new Error('distance before start of stream');
        maxDistance = Math.max(maxDistance, distance);
        length += len;
      }
    }
  };
  const fixedLit = build(Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)));
  const fixedDist = build(new Array<number>(30).fill(5));
  const ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
  let last = 0;
  while (!last && (pos < data.length || bitCount >= 3)) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      bitBuf = 0;
      bitCount = 0;
      const len = data[pos]! | (data[pos + 1]! << 8);
      pos += 4 + len;
      length += len;
    } else if (type === 1) {
      codes(fixedLit, fixedDist);
    } else if (type === 2) {
      const nlen = bits(5) + 257;
      const ndist = bits(5) + 1;
      const ncode = bits(4) + 4;
      const cl = new Array<number>(19).fill(0);
      for (let i = 0; i < ncode; i++) cl[ORDER[i]!] = bits(3);
      const clh = build(cl);
      const lengths: number[] = [];
      while (lengths.length < nlen + ndist) {
        const sym = decode(clh);
        if (sym < 16) lengths.push(sym);
        else if (sym === 16) lengths.push(...new Array<number>(3 + bits(2)).fill(lengths[lengths.length - 1]!));
        else if (sym === 17) lengths.push(...new Array<number>(3 + bits(3)).fill(0));
        else lengths.push(...new Array<number>(11 + bits(7)).fill(0));
      }
      codes(build(lengths.slice(0, nlen)), build(lengths.slice(nlen)));
    } else {
      throw new Error('invalid block type');
    }
  }
  return { maxDistance, length };
}

describe('server_max_window_bits=8 is honoured by a 9-bit deflater', () => {
  // Inputs rich in repeats at every distance up to a few hundred bytes.
  const words = 'the quick brown fox jumps over lazy dog websocket frame deflate window'.split(' ');
  let state = 12345;
  const rnd = (n: number): number => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state % n;
  };
  const text = Buffer.from(Array.from({ length: 4000 }, () => words[rnd(words.length)]).join(' '));
  const block = randomBytes(240);
  const periodic = Buffer.concat(Array.from({ length: 200 }, (_, i) => (i % 2 ? block : randomBytes(10 + rnd(30)))));
  const json = Buffer.from(JSON.stringify(Array.from({ length: 600 }, (_, i) => ({ id: i, name: words[rnd(words.length)], ok: rnd(2) === 1 }))));
  const inputs = { text, periodic, json };

  it('the premise: Node silently turns a raw 8-bit window into 9, pako refuses it', () => {
    expect(() => deflateRawSync(text, { windowBits: 8 })).not.toThrow();
    expect(deflateRawSync(text, { windowBits: 8 })).toEqual(deflateRawSync(text, { windowBits: 9 }));
    expect(() => pako.deflateRaw(text, { windowBits: 8 })).toThrow();
  });

  for (const [name, input] of Object.entries(inputs)) {
    it(`${name}: no distance above 250 at any level (zlib and pako), while a 15-bit window reaches further`, () => {
      for (let level = 1; level <= 9; level++) {
        for (const out of [deflateRawSync(input, { windowBits: 9, level }), pako.deflateRaw(input, { windowBits: 9, level })]) {
          const scan = scanDeflate(out);
          expect(scan.length).toBe(input.length);
          expect(scan.maxDistance).toBeLessThanOrEqual(250);
          expect(scan.maxDistance).toBeGreaterThan(200);
          expect(Buffer.from(inflateRawSync(out, { windowBits: 8 }))).toEqual(input);
        }
      }
      const wide = scanDeflate(deflateRawSync(input, { windowBits: 15 }));
      expect(wide.maxDistance).toBeGreaterThan(256);
    });
  }

  it('also across messages with context takeover (one stream, sync-flushed per message)', () => {
    const deflater = new pako.Deflate({ raw: true, windowBits: 9, level: 9 });
    const chunks: Uint8Array[] = [];
    deflater.onData = (chunk: Uint8Array) => chunks.push(chunk);
    for (let i = 0; i < 50; i++) deflater.push(json.subarray(i * 400, i * 400 + 400), 2 /* Z_SYNC_FLUSH */);
    const scan = scanDeflate(Buffer.concat(chunks));
    expect(scan.length).toBe(20000);
    expect(scan.maxDistance).toBeLessThanOrEqual(250);
  });
});
