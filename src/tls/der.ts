/**
 * A small ASN.1 reader (DER, plus the BER forms PKCS#12 files made by Windows use: indefinite
 * lengths and constructed strings) and a DER writer for the few structures wsworks builds
 * (OCSP requests, DH parameters). Only what certificates, PKCS#12, CRLs and OCSP need.
 */

/** Universal tags used here. */
export const Tag = Object.freeze({
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  Sequence: 0x30,
  Set: 0x31,
  PrintableString: 0x13,
  T61String: 0x14,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  UniversalString: 0x1c,
  BmpString: 0x1e,
} as const);

/** One ASN.1 element. `value` is its content (for BER constructed strings: the joined pieces). */
export interface Asn1 {
  /** The identifier octet (class, constructed bit and tag number; tag numbers < 31 only). */
  readonly tag: number;
  /** The content octets. */
  readonly value: Buffer;
  /** The whole element, header included (what signatures and hashes cover). */
  readonly raw: Buffer;
  /** The child elements of a constructed element (empty for primitive ones). */
  readonly children: readonly Asn1[];
}

/** Thrown on malformed input; callers turn it into the reference's error codes. */
export class Asn1Error extends Error {
  override name = 'Asn1Error';
}

const MAX_DEPTH = 64;

/** Parses one element at `offset`; returns it and the offset after it. */
function parseAt(buf: Buffer, offset: number, depth: number): { node: Asn1; end: number } {
  if (depth > MAX_DEPTH) throw new Asn1Error('ASN.1 nesting too deep');
  if (offset + 2 > buf.length) throw new Asn1Error('truncated ASN.1 element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Asn1Error('multi-byte ASN.1 tags are not supported');
  const constructed = (tag & 0x20) !== 0;
  let pos = offset + 1;
  const first = buf[pos++]!;
  let length = -1;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    if (!constructed) throw new Asn1Error('indefinite length on a primitive element');
  } else {
    const n = first & 0x7f;
    if (n > 6 || pos + n > buf.length) throw new Asn1Error('bad ASN.1 length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
  }
  const children: Asn1[] = [];
  let end: number;
  if (length >= 0) {
    end = pos + length;
    if (end > buf.length) throw new Asn1Error('truncated ASN.1 element');
    if (constructed) {
      let p = pos;
      while (p < end) {
        const child = parseAt(buf, p, depth + 1);
        if (child.end > end) throw new Asn1Error('ASN.1 child overruns its parent');
        children.push(child.node);
        p = child.end;
      }
    }
  } else {
    // BER indefinite length: children until the end-of-contents octets 00 00.
    let p = pos;
    for (;;) {
      if (p + 2 > buf.length) throw new Asn1Error('unterminated indefinite-length element');
      if (buf[p] === 0 && buf[p + 1] === 0) {
        end = p + 2;
        break;
      }
      const child = parseAt(buf, p, depth + 1);
      children.push(child.node);
      p = child.end;
    }
  }
  const contentEnd = length >= 0 ? end : end - 2;
  let value = buf.subarray(pos, contentEnd);
  // A BER constructed string (OCTET STRING 0x24, BIT STRING 0x23, ...): its value is the pieces joined.
  if (constructed && (tag & 0xc0) === 0 && tag !== Tag.Sequence && tag !== Tag.Set) {
    value = Buffer.concat(children.map((c) => c.value));
  }
  return { node: { tag, value, raw: buf.subarray(offset, end), children }, end };
}

/** Parses a whole buffer holding exactly one element (trailing bytes are an error unless `allowTrailing`). */
export function parseAsn1(buf: Buffer, allowTrailing = false): Asn1 {
  const { node, end } = parseAt(buf, 0, 0);
  if (!allowTrailing && end !== buf.length) throw new Asn1Error('trailing bytes after the ASN.1 element');
  return node;
}

/** The child at `index`, checking its tag when `tag` is given. */
export function child(node: Asn1, index: number, tag?: number): Asn1 {
  const c = node.children[index];
  if (!c) throw new Asn1Error(`missing ASN.1 element #${index}`);
  if (tag !== undefined && c.tag !== tag) throw new Asn1Error(`unexpected ASN.1 tag 0x${c.tag.toString(16)} (wanted 0x${tag.toString(16)})`);
  return c;
}

/** The context-specific child `[n]` (explicit or implicit), or undefined. */
export function contextChild(node: Asn1, n: number): Asn1 | undefined {
  return node.children.find((c) => (c.tag & 0xc0) === 0x80 && (c.tag & 0x1f) === n);
}

/** Decodes an OBJECT IDENTIFIER to dotted form. */
export function oidOf(node: Asn1): string {
  if (node.tag !== Tag.Oid) throw new Asn1Error('expected an OBJECT IDENTIFIER');
  const v = node.value;
  if (v.length === 0) throw new Asn1Error('empty OBJECT IDENTIFIER');
  const parts: number[] = [];
  let acc = 0;
  for (const byte of v) {
    acc = acc * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (parts.length === 0) {
        const firstArc = acc < 40 ? 0 : acc < 80 ? 1 : 2;
        parts.push(firstArc, acc - firstArc * 40);
      } else {
        parts.push(acc);
      }
      acc = 0;
    }
  }
  return parts.join('.');
}

/** An INTEGER as a number (small integers only: versions, iteration counts, key lengths). */
export function intOf(node: Asn1): number {
  if (node.tag !== Tag.Integer) throw new Asn1Error('expected an INTEGER');
  if (node.value.length > 6) throw new Asn1Error('INTEGER too large');
  let n = 0;
  for (const b of node.value) n = n * 256 + b;
  return n;
}

/** A time (UTCTime or GeneralizedTime) as a Date. */
export function timeOf(node: Asn1): Date {
  const s = node.value.toString('latin1');
  let m: RegExpExecArray | null;
  if (node.tag === Tag.UtcTime && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (node.tag === Tag.GeneralizedTime && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(s))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new Asn1Error(`unsupported time "${s}"`);
}

/** A directory string (UTF8String, PrintableString, IA5String, BMPString, ...) as text. */
export function stringOf(node: Asn1): string {
  switch (node.tag) {
    case Tag.BmpString:
      return Buffer.from(node.value.subarray(0, node.value.length & ~1)).swap16().toString('utf16le');
    case Tag.UniversalString: {
      let out = '';
      for (let i = 0; i + 4 <= node.value.length; i += 4) out += String.fromCodePoint(node.value.readUInt32BE(i));
      return out;
    }
    case Tag.PrintableString:
    case Tag.Ia5String:
    case Tag.T61String:
      return node.value.toString('latin1');
    default:
      return node.value.toString('utf8');
  }
}

// ---- DER writer ---------------------------------------------------------------------------

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element: tag, length, content. */
export function der(tag: number, ...content: Buffer[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

/** A DER OBJECT IDENTIFIER from dotted form. */
export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const stack = [arc & 0x7f];
    let v = Math.floor(arc / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(...stack);
  }
  return der(Tag.Oid, Buffer.from(bytes));
}

/** A DER INTEGER from its unsigned big-endian magnitude. */
export function derUnsigned(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  return der(Tag.Integer, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}
