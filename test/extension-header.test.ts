import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ExtensionHeaderError,
  formatExtension,
  formatExtensionHeader,
  parseExtensionHeader,
  type ExtensionOffer,
} from '../src/protocol/extension-header.js';

describe('parseExtensionHeader', () => {
  it('parses a bare extension', () => {
    expect(parseExtensionHeader('permessage-deflate')).toEqual([{ name: 'permessage-deflate', params: [] }]);
  });

  it('parses parameters with and without values, in order', () => {
    expect(
      parseExtensionHeader('permessage-deflate; client_max_window_bits; server_max_window_bits=10'),
    ).toEqual([
      {
        name: 'permessage-deflate',
        params: [
          { name: 'client_max_window_bits', value: null },
          { name: 'server_max_window_bits', value: '10' },
        ],
      },
    ]);
  });

  it('parses several offers, keeping repeated extensions and repeated parameters', () => {
    const offers = parseExtensionHeader('foo;a=1;a=2, permessage-deflate, foo');
    expect(offers.map((o) => o.name)).toEqual(['foo', 'permessage-deflate', 'foo']);
    expect(offers[0]!.params).toEqual([
      { name: 'a', value: '1' },
      { name: 'a', value: '2' },
    ]);
  });

  it('allows optional whitespace around every separator', () => {
    expect(parseExtensionHeader(' \tfoo ; a = 1 ;\tb ,  bar\t')).toEqual([
      {
        name: 'foo',
        params: [
          { name: 'a', value: '1' },
          { name: 'b', value: null },
        ],
      },
      { name: 'bar', params: [] },
    ]);
  });

  it('unquotes quoted-string values, including quoted-pairs', () => {
    expect(parseExtensionHeader('foo; a="10"; b="x\\y"; c="\\1\\5"')[0]!.params).toEqual([
      { name: 'a', value: '10' },
      { name: 'b', value: 'xy' },
      { name: 'c', value: '15' },
    ]);
  });

  it('ignores empty list elements, as from headers Node joined with ", "', () => {
    expect(parseExtensionHeader(', foo, ,bar,').map((o) => o.name)).toEqual(['foo', 'bar']);
    expect(parseExtensionHeader('')).toEqual([]);
    expect(parseExtensionHeader('   ')).toEqual([]);
  });

  it('keeps names as sent (case-sensitive)', () => {
    expect(parseExtensionHeader('PerMessage-Deflate; Client_Max_Window_Bits')).toEqual([
      { name: 'PerMessage-Deflate', params: [{ name: 'Client_Max_Window_Bits', value: null }] },
    ]);
  });

  it.each([
    ['a leading semicolon', '; foo', 0],
    ['an empty parameter', 'foo;', 4],
    ['an empty parameter before a comma', 'foo; , bar', 5],
    ['two semicolons', 'foo;;a', 4],
    ['a missing value', 'foo; a=', 7],
    ['a missing value before ;', 'foo; a=; b', 7],
    ['a value with a separator', 'foo; a=1/2', 8],
    ['whitespace inside a name', 'foo bar', 4],
    ['whitespace inside a parameter', 'foo; a b', 7],
    ['whitespace inside a value', 'foo; a=1 2', 9],
    ['an unterminated quoted string', 'foo; a="10', 7],
    ['a quoted value that is not a token', 'foo; a="1 0"', 7],
    ['an empty quoted value', 'foo; a=""', 7],
    ['an escape at the end', 'foo; a="1\\', 7],
    ['a quote inside a token value', 'foo; a=1"', 8],
    ['a control character', 'foo\u0001', 3],
    ['a non-Latin-1 character', 'f\u00e9o', 1],
    ['a value where a name belongs', 'foo; =1', 5],
    ['two equals signs', 'foo; a==1', 7],
  ])('rejects %s', (_label, header, position) => {
    let error: unknown;
    try {
      parseExtensionHeader(header);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ExtensionHeaderError);
    expect((error as ExtensionHeaderError).position).toBe(position);
    expect((error as Error).message).toMatch(/^Invalid Sec-WebSocket-Extensions header: /);
  });
});

describe('formatExtension', () => {
  it('writes parameters with "; " and values unquoted', () => {
    expect(
      formatExtension({
        name: 'permessage-deflate',
        params: [
          { name: 'server_no_context_takeover', value: null },
          { name: 'client_max_window_bits', value: '10' },
        ],
      }),
    ).toBe('permessage-deflate; server_no_context_takeover; client_max_window_bits=10');
  });

  it('refuses names and values that are not tokens', () => {
    expect(() => formatExtension({ name: 'a b', params: [] })).toThrow(TypeError);
    expect(() => formatExtension({ name: 'a', params: [{ name: 'x\r\n', value: null }] })).toThrow(TypeError);
    expect(() => formatExtension({ name: 'a', params: [{ name: 'x', value: '1,2' }] })).toThrow(TypeError);
  });

  it('joins elements with ", "', () => {
    expect(formatExtensionHeader([{ name: 'a', params: [] }, { name: 'b', params: [{ name: 'c', value: '1' }] }])).toBe(
      'a, b; c=1',
    );
  });

  it('round-trips through parseExtensionHeader', () => {
    const tchars = "abcXYZ019!#$%&'*+-.^_`|~".split('');
    const token = fc.string({ unit: fc.constantFrom(...tchars), minLength: 1, maxLength: 8 });
    const offer: fc.Arbitrary<ExtensionOffer> = fc.record({
      name: token,
      params: fc.array(fc.record({ name: token, value: fc.option(token, { nil: null }) }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(offer, { minLength: 1, maxLength: 4 }), (offers) => {
        expect(parseExtensionHeader(formatExtensionHeader(offers))).toEqual(offers);
      }),
    );
  });
});
