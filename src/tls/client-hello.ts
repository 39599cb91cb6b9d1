/**
 * Reads a TLS ClientHello from the first bytes of a connection, before the socket is handed to
 * OpenSSL: what the client offers (cipher suites, signature algorithms, groups, versions, SNI,
 * ALPN) for SSLConnectionRequest, and a clear verdict for what is not TLS at all (a plaintext
 * HTTP request, an SSLv2 hello, garbage). Sans-I/O: feed it the bytes received so far.
 */

/** What a ClientHello offers. Code points as on the wire. */
export interface ClientHello {
  /** The record layer version of the first record. */
  readonly recordVersion: number;
  /** ClientHello.legacy_version (0x0303 for TLS 1.2 and 1.3 clients). */
  readonly legacyVersion: number;
  /** supported_versions (TLS 1.3 clients), else [legacyVersion]. */
  readonly versions: number[];
  readonly cipherSuites: number[];
  readonly compressionMethods: number[];
  readonly serverName: string;
  readonly signatureAlgorithms: number[];
  readonly signatureAlgorithmsCert: number[];
  readonly supportedGroups: number[];
  /** Groups the client sent key shares for (TLS 1.3). */
  readonly keyShareGroups: number[];
  readonly alpn: string[];
  /** Extension type code points in the order sent. */
  readonly extensions: number[];
  readonly sessionIdLength: number;
}

export type HelloVerdict =
  | { readonly kind: 'incomplete'; readonly needed: number; readonly have: number }
  | { readonly kind: 'hello'; readonly hello: ClientHello }
  | { readonly kind: 'not-tls'; readonly what: 'http' | 'sslv2' | 'unknown'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

/** The largest ClientHello accepted (OpenSSL's own limit for the hello parser is similar). */
export const MAX_CLIENT_HELLO = 64 * 1024;
const MAX_RECORD = 16384 + 2048;

const HTTP_METHOD = /^(?:GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PRI) /;

class Truncated extends Error {}

/** A cursor over the ClientHello body; reading past the end throws Truncated (a malformed hello). */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
    private readonly end = buf.length,
  ) {}
  get left(): number {
    return this.end - this.pos;
  }
  u8(): number {
    if (this.pos + 1 > this.end) throw new Truncated();
    return this.buf[this.pos++]!;
  }
  u16(): number {
    if (this.pos + 2 > this.end) throw new Truncated();
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.end) throw new Truncated();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** A sub-reader over the next `n` bytes. */
  sub(n: number): Reader {
    if (this.pos + n > this.end) throw new Truncated();
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  u16List(lengthBytes: 1 | 2): number[] {
    const n = lengthBytes === 1 ? this.u8() : this.u16();
    if (n % 2 !== 0) throw new Truncated();
    const r = this.sub(n);
    const out: number[] = [];
    while (r.left > 0) out.push(r.u16());
    return out;
  }
}

function parseExtensions(r: Reader, into: Mutable<ClientHello>): void {
  if (r.left === 0) return; // no extensions (an SSLv3/TLS 1.0-era hello)
  const all = r.sub(r.u16());
  while (all.left > 0) {
    const type = all.u16();
    const body = all.sub(all.u16());
    into.extensions.push(type);
    switch (type) {
      case 0x0000: {
        // server_name: list of (type, name); host_name is type 0.
        if (body.left === 0) break;
        const list = body.sub(body.u16());
        while (list.left > 0) {
          const nameType = list.u8();
          const name = list.bytes(list.u16());
          if (nameType === 0 && !into.serverName) into.serverName = name.toString('latin1');
        }
        break;
      }
      case 0x000a:
        into.supportedGroups = body.u16List(2);
        break;
      case 0x000d:
        into.signatureAlgorithms = body.u16List(2);
        break;
      case 0x0032:
        into.signatureAlgorithmsCert = body.u16List(2);
        break;
      case 0x0010: {
        const list = body.sub(body.u16());
        while (list.left > 0) into.alpn.push(list.bytes(list.u8()).toString('latin1'));
        break;
      }
      case 0x002b:
        into.versions = body.u16List(1);
        break;
      case 0x0033: {
        const list = body.sub(body.u16());
        while (list.left > 0) {
          into.keyShareGroups.push(list.u16());
          list.bytes(list.u16());
        }
        break;
      }
      default:
        break;
    }
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function parseBody(body: Buffer, recordVersion: number): ClientHello {
  const r = new Reader(body);
  const hello: Mutable<ClientHello> = {
    recordVersion,
    legacyVersion: r.u16(),
    versions: [],
    cipherSuites: [],
    compressionMethods: [],
    serverName: '',
    signatureAlgorithms: [],
    signatureAlgorithmsCert: [],
    supportedGroups: [],
    keyShareGroups: [],
    alpn: [],
    extensions: [],
    sessionIdLength: 0,
  };
  r.bytes(32); // random
  const sessionId = r.bytes(r.u8());
  if (sessionId.length > 32) throw new Truncated();
  hello.sessionIdLength = sessionId.length;
  hello.cipherSuites = r.u16List(2);
  if (hello.cipherSuites.length === 0) throw new Truncated();
  const compression = r.bytes(r.u8());
  hello.compressionMethods = [...compression];
  parseExtensions(r, hello);
  if (r.left !== 0) throw new Truncated();
  if (hello.versions.length === 0) hello.versions = [hello.legacyVersion];
  return hello;
}

/** Describes the first bytes of something that is not a TLS record. */
function notTls(buf: Buffer): HelloVerdict {
  const head = buf.subarray(0, 16).toString('latin1');
  if (HTTP_METHOD.test(head) || /^[A-Z]{3,7}$/.test(head)) {
    return { kind: 'not-tls', what: 'http', reason: 'a plaintext HTTP request arrived on the TLS port (the client must use wss://)' };
  }
  if (buf.length >= 3 && (buf[0]! & 0x80) !== 0 && buf[2] === 0x01) {
    return { kind: 'not-tls', what: 'sslv2', reason: 'an SSLv2 ClientHello arrived (SSL 2.0 is not supported)' };
  }
  return {
    kind: 'not-tls',
    what: 'unknown',
    reason: `the first bytes are not a TLS handshake record (0x${buf.subarray(0, 8).toString('hex')})`,
  };
}

/**
 * Looks at the bytes a connection sent so far. `incomplete` asks for more; `hello` carries
 * what the client offers; `not-tls` and `malformed` say why the connection cannot be TLS.
 */
export function inspectClientHello(buf: Buffer): HelloVerdict {
  if (buf.length === 0) return { kind: 'incomplete', needed: 5, have: 0 };
  if (buf[0] !== 0x16) {
    // A plaintext request may arrive a few bytes at a time: wait for enough to tell.
    if (buf.length < 4 && /^[A-Z]+$/.test(buf.toString('latin1'))) return { kind: 'incomplete', needed: 4, have: buf.length };
    return notTls(buf);
  }
  const fragments: Buffer[] = [];
  let fragmentBytes = 0;
  let offset = 0;
  let recordVersion = 0;
  let helloLength = -1;
  for (;;) {
    if (buf.length < offset + 5) return { kind: 'incomplete', needed: offset + 5, have: buf.length };
    const type = buf[offset]!;
    const version = buf.readUInt16BE(offset + 1);
    const length = buf.readUInt16BE(offset + 3);
    if (type !== 0x16) return { kind: 'malformed', reason: `a record of type ${type} arrived before the ClientHello was complete` };
    if (buf[offset + 1] !== 0x03 || version > 0x0304) return { kind: 'malformed', reason: `bad record version 0x${version.toString(16).padStart(4, '0')}` };
    if (length === 0 || length > MAX_RECORD) return { kind: 'malformed', reason: `bad record length ${length}` };
    if (offset === 0) recordVersion = version;
    if (buf.length < offset + 5 + length) return { kind: 'incomplete', needed: offset + 5 + length, have: buf.length };
    fragments.push(buf.subarray(offset + 5, offset + 5 + length));
    fragmentBytes += length;
    offset += 5 + length;
    if (helloLength < 0 && fragmentBytes >= 4) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== 0x01) return { kind: 'malformed', reason: `the first handshake message is type ${head[0]}, not a ClientHello` };
      helloLength = head.readUIntBE(1, 3);
      if (helloLength > MAX_CLIENT_HELLO) return { kind: 'malformed', reason: `the ClientHello claims ${helloLength} bytes (more than ${MAX_CLIENT_HELLO})` };
      if (helloLength < 38) return { kind: 'malformed', reason: `the ClientHello is too short (${helloLength} bytes)` };
    }
    if (helloLength >= 0 && fragmentBytes >= 4 + helloLength) break;
  }
  const handshake = Buffer.concat(fragments);
  try {
    return { kind: 'hello', hello: parseBody(handshake.subarray(4, 4 + helloLength), recordVersion) };
  } catch (err) {
    if (err instanceof Truncated) return { kind: 'malformed', reason: 'the ClientHello is truncated or its lengths do not add up' };
    throw err;
  }
}
