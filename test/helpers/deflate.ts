/**
 * A permessage-deflate (RFC 7692) client for the conformance suite, built on a raw client and
 * Node's zlib (not on the server's pako code, so the two check each other).
 *
 * It behaves like Autobahn's client: it sends a hand-written `Sec-WebSocket-Extensions` offer,
 * takes the parameters from the server's answer, compresses each message as a whole and cuts
 * the compressed bytes into frames of a given size (RSV1 on the first only), and inflates what
 * the server sends with exactly the negotiated window and context rules — so a server that
 * compresses with a larger window than it agreed to, or keeps context it promised to drop,
 * produces data this client cannot inflate.
 */
import zlib from 'node:zlib';
import { expect } from 'vitest';
import { RawClient, type ServerFrame } from './raw-client.js';
import { Op, autobahnHeaders, buildMessage, expectSameBytes } from './conformance.js';

export const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export interface ParsedExtension {
  name: string;
  params: Array<{ name: string; value: string | null }>;
}

/** Parses a Sec-WebSocket-Extensions value (tokens and simple values; enough for responses). */
export function parseExtensions(header: string | undefined): ParsedExtension[] {
  if (!header) return [];
  return header.split(',').map((ext) => {
    const [name, ...params] = ext.split(';').map((p) => p.trim());
    return {
      name: name!.toLowerCase(),
      params: params.map((p) => {
        const i = p.indexOf('=');
        if (i < 0) return { name: p.toLowerCase(), value: null };
        return { name: p.slice(0, i).trim().toLowerCase(), value: p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1') };
      }),
    };
  });
}

/** The parameters both sides work with after the handshake. */
export interface Negotiated {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** The window the server compresses with (what this client inflates with). */
  serverMaxWindowBits: number;
  /** The window this client compresses with. */
  clientMaxWindowBits: number;
  /** The raw response parameters. */
  response: ParsedExtension;
}

/**
 * Checks a server's permessage-deflate answer against the offer it accepted (RFC 7692 7.1) and
 * returns what was agreed. `offer` is the single offer the server should have accepted.
 */
export function checkDeflateResponse(offer: string, responseHeader: string | undefined): Negotiated {
  const offered = parseExtensions(offer)[0]!;
  const answered = parseExtensions(responseHeader);
  expect(answered.length, `exactly one extension accepted (got "${responseHeader}")`).toBe(1);
  const ext = answered[0]!;
  expect(ext.name).toBe('permessage-deflate');
  const seen = new Set<string>();
  const get = (list: ParsedExtension, name: string) => list.params.find((p) => p.name === name);
  for (const p of ext.params) {
    expect(seen.has(p.name), `duplicate parameter ${p.name}`).toBe(false);
    seen.add(p.name);
    switch (p.name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        expect(p.value, `${p.name} takes no value`).toBeNull();
        break;
      case 'server_max_window_bits':
      case 'client_max_window_bits':
        expect(p.value, `${p.name} needs a value`).toMatch(/^(?:[89]|1[0-5])$/);
        break;
      default:
        expect.fail(`unknown parameter ${p.name} in the response`);
    }
  }
  if (get(offered, 'server_no_context_takeover')) {
    expect(get(ext, 'server_no_context_takeover'), 'server_no_context_takeover was requested: it must be in the answer').toBeDefined();
  }
  const offeredServerBits = get(offered, 'server_max_window_bits');
  const answeredServerBits = get(ext, 'server_max_window_bits');
  if (offeredServerBits) {
    expect(answeredServerBits, 'server_max_window_bits was requested: it must be in the answer').toBeDefined();
    expect(Number(answeredServerBits!.value)).toBeLessThanOrEqual(Number(offeredServerBits.value));
  }
  const offeredClientBits = get(offered, 'client_max_window_bits');
  const answeredClientBits = get(ext, 'client_max_window_bits');
  if (!offeredClientBits) expect(answeredClientBits, 'client_max_window_bits only when the client offered it').toBeUndefined();
  if (offeredClientBits?.value && answeredClientBits) {
    expect(Number(answeredClientBits.value)).toBeLessThanOrEqual(Number(offeredClientBits.value));
  }
  return {
    serverNoContextTakeover: get(ext, 'server_no_context_takeover') !== undefined,
    clientNoContextTakeover: get(ext, 'client_no_context_takeover') !== undefined,
    serverMaxWindowBits: answeredServerBits ? Number(answeredServerBits.value) : 15,
    clientMaxWindowBits: answeredClientBits
      ? Number(answeredClientBits.value)
      : offeredClientBits?.value
        ? Number(offeredClientBits.value)
        : 15,
    response: ext,
  };
}

/** A zlib stream driven message by message with sync flushes (as ws does). */
class ZStream {
  private chunks: Buffer[] = [];
  private error: Error | null = null;

  constructor(private readonly z: zlib.DeflateRaw | zlib.InflateRaw) {
    z.on('data', (c: Buffer) => this.chunks.push(c));
    z.on('error', (err: Error) => {
      this.error = err;
    });
  }

  /** Feeds `data`, flushes, and returns everything produced. Throws on a zlib error. */
  async run(...data: Buffer[]): Promise<Buffer> {
    if (this.error) throw this.error;
    for (const d of data) if (d.length > 0) this.z.write(d);
    await new Promise<void>((resolve) => {
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
      this.z.once('error', () => resolve());
    });
    if (this.error) throw this.error;
    const out = Buffer.concat(this.chunks);
    this.chunks = [];
    return out;
  }

  reset(): void {
    this.z.reset();
  }

  close(): void {
    this.z.close();
  }
}

export interface ReceivedMessage {
  opcode: number;
  payload: Buffer;
  compressed: boolean;
  frames: ServerFrame[];
}

/** A raw client that negotiated permessage-deflate. */
export class DeflateClient {
  private readonly deflater: ZStream;
  /** With context takeover: the last window of what the server sent, the next message's dictionary. */
  private window: Buffer = Buffer.alloc(0);

  private constructor(
    readonly raw: RawClient,
    readonly negotiated: Negotiated,
  ) {
    this.deflater = new ZStream(zlib.createDeflateRaw({ windowBits: Math.max(9, negotiated.clientMaxWindowBits), memLevel: 8 }));
  }

  /**
   * Inflates one message from the server. Context takeover is reproduced exactly with a preset
   * dictionary (the last window of plaintext); without it every message inflates on its own, so
   * a server that refers back anyway produces an error here.
   */
  inflate(payload: Buffer): Buffer {
    const bits = this.negotiated.serverMaxWindowBits;
    const options: zlib.ZlibOptions = { windowBits: bits, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    // zlib resolves a back-reference beyond the window when the target is still in its output
    // buffer; 64-byte output chunks make it refuse anything further than the window (+64).
    if (bits < 15) options.chunkSize = 64;
    if (this.window.length > 0) options.dictionary = this.window;
    const out = zlib.inflateRawSync(Buffer.concat([payload, TRAILER]), options);
    if (!this.negotiated.serverNoContextTakeover) {
      const keep = 1 << bits;
      const joined = this.window.length === 0 ? out : Buffer.concat([this.window, out]);
      this.window = Buffer.from(joined.subarray(Math.max(0, joined.length - keep)));
    }
    return out;
  }

  /** Opens a connection with `offer` and checks the answer (see {@link checkDeflateResponse}). */
  static async open(port: number, offer: string, acceptedOffer = offer): Promise<DeflateClient> {
    const raw = await RawClient.open(port, { headers: { ...autobahnHeaders(port), 'Sec-WebSocket-Extensions': offer } });
    const negotiated = checkDeflateResponse(acceptedOffer, raw.response!.headers['sec-websocket-extensions']);
    return new DeflateClient(raw, negotiated);
  }

  /** Compresses one whole message as this client's context rules say (trailer removed). */
  async compress(data: Buffer): Promise<Buffer> {
    if (this.negotiated.clientNoContextTakeover) this.deflater.reset();
    const out = await this.deflater.run(data);
    expect(out.subarray(-4).equals(TRAILER), 'a sync flush ends with 00 00 ff ff').toBe(true);
    return out.subarray(0, out.length - 4);
  }

  /** Sends a compressed message, its compressed bytes cut into frames of `fragmentSize` (0: one frame). */
  async send(opcode: number, data: Buffer, fragmentSize = 0): Promise<Buffer> {
    const compressed = await this.compress(data);
    this.raw.write(buildMessage(opcode, compressed, fragmentSize, { rsv1: true }));
    return compressed;
  }

  /** Reads the next data message (control frames are skipped) and inflates it if RSV1 was set. */
  async next(timeoutMs = 10000): Promise<ReceivedMessage> {
    const frames: ServerFrame[] = [];
    for (;;) {
      const f = await this.raw.nextFrame(timeoutMs);
      if (!f) throw new Error(`the connection closed while waiting for a message (frames so far: ${frames.length})`);
      if (f.opcode >= 0x8) {
        if (f.opcode === Op.Close) throw new Error(`the server closed with ${f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005}: ${f.payload.subarray(2).toString()}`);
        continue;
      }
      expect(f.masked).toBe(false);
      expect(f.rsv2 || f.rsv3).toBe(false);
      if (frames.length > 0) {
        expect(f.opcode, 'continuation').toBe(Op.Continuation);
        expect(f.rsv1, 'RSV1 only on the first frame of a message').toBe(false);
      }
      frames.push(f);
      if (f.fin) break;
    }
    const compressed = frames[0]!.rsv1;
    let payload: Buffer = Buffer.concat(frames.map((f) => f.payload));
    if (compressed) payload = this.inflate(payload);
    return { opcode: frames[0]!.opcode, payload, compressed, frames };
  }

  /** Sends `data` compressed and checks the echo (type and bytes). */
  async roundTrip(opcode: number, data: Buffer, fragmentSize = 0): Promise<ReceivedMessage> {
    await this.send(opcode, data, fragmentSize);
    const m = await this.next();
    expect(m.opcode).toBe(opcode);
    expectSameBytes(m.payload, data);
    return m;
  }

  dispose(): void {
    this.deflater.close();
  }
}

/** A deterministic pseudo-random generator (xorshift32), so test data is the same on every run. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}
