/**
 * Byte-level helpers for the codec unit tests: client frames built by hand (so the decoder is
 * never checked against itself), server frames parsed by hand, and permessage-deflate done
 * with node:zlib (an independent implementation of the same format).
 */
import zlib from 'node:zlib';
import type { DecodeResult, InboundEvent } from '../../src/protocol/codec.js';

export interface ClientFrameOptions {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Leave the frame unmasked (a violation for a client). */
  unmasked?: boolean;
  /** The masking key; a fixed non-trivial one by default. */
  maskKey?: readonly number[];
  /** Replace the length field (e.g. a 64-bit length with the top bit set, or a lie). */
  lengthField?: readonly number[];
}

const DEFAULT_KEY = [0x37, 0xfa, 0x21, 0x3d];

/** One client frame (masked unless told otherwise). */
export function clientFrame(opcode: number, payload: Uint8Array | string = '', options: ClientFrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const fin = options.fin ?? true;
  const b0 =
    (fin ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | (options.rsv2 ? 0x20 : 0) | (options.rsv3 ? 0x10 : 0) | (opcode & 0x0f);
  const masked = !options.unmasked;
  let length: number[];
  if (options.lengthField) length = [...options.lengthField];
  else if (data.length < 126) length = [data.length];
  else if (data.length < 0x10000) length = [126, data.length >> 8, data.length & 0xff];
  else {
    length = [127, 0, 0, 0, 0, 0, 0, 0, 0];
    let n = data.length;
    for (let i = 8; i >= 1; i--) {
      length[i] = n % 256;
      n = Math.floor(n / 256);
    }
  }
  if (masked) length[0] |= 0x80;
  const key = options.maskKey ?? DEFAULT_KEY;
  const body = Buffer.from(data);
  if (masked) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from([b0, ...length]), Buffer.from(masked ? key : []), body]);
}

/** A close frame payload: status code + UTF-8 reason. */
export function closeBody(code: number, reason: string | Uint8Array = ''): Buffer {
  const text = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : Buffer.from(reason);
  return Buffer.concat([Buffer.from([code >> 8, code & 0xff]), text]);
}

/** A server frame as read back from encoder output. */
export interface ParsedFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Parses a run of unmasked server frames; throws on a truncated stream. */
export function parseServerFrames(bytes: Uint8Array): ParsedFrame[] {
  const buf = Buffer.from(bytes);
  const frames: ParsedFrame[] = [];
  let p = 0;
  while (p < buf.length) {
    const b0 = buf[p];
    const b1 = buf[p + 1];
    let length = b1 & 0x7f;
    p += 2;
    if (length === 126) {
      length = buf.readUInt16BE(p);
      p += 2;
    } else if (length === 127) {
      length = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) p += 4;
    if (p + length > buf.length) throw new Error('truncated frame');
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, masked, payload: buf.subarray(p, p + length) });
    p += length;
  }
  return frames;
}

/** A compressed message body as a client would send it: raw deflate, sync flush, tail removed. */
export function clientCompress(data: Uint8Array | string, options: zlib.ZlibOptions = {}): Buffer {
  const out = zlib.deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, {
    ...options,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  if (!out.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))) throw new Error('sync flush did not end with 00 00 ff ff');
  return out.subarray(0, -4);
}

/** Decodes a compressed message body the way a client would (node:zlib, trailer appended). */
export function clientInflate(body: Uint8Array, windowBits = 15): Buffer {
  return zlib.inflateRawSync(Buffer.concat([body, Buffer.from([0, 0, 0xff, 0xff])]), {
    windowBits,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
}

/** The events of a result, with payloads as strings for readable assertions. */
export function summarize(events: readonly InboundEvent[]): unknown[] {
  return events.map((e) => {
    if (e.kind === 'data') return { kind: e.kind, opcode: e.opcode, first: e.first, fin: e.fin, text: e.payload.toString('latin1') };
    if (e.kind === 'close') return { kind: e.kind, code: e.code, reason: e.reason };
    return { kind: e.kind, text: e.payload.toString('latin1') };
  });
}

/** Feeds `bytes` to `decode` in pieces cut at `cuts` and joins the results. */
export function decodeInPieces(decode: (chunk: Buffer) => DecodeResult, bytes: Uint8Array, cuts: readonly number[]): DecodeResult {
  const events: InboundEvent[] = [];
  let error: DecodeResult['error'] = null;
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    // A fresh copy: the codec owns (and unmasks) what it is given.
    const result = decode(Buffer.from(bytes.subarray(start, end)));
    events.push(...result.events);
    if (result.error && !error) error = result.error;
    start = end;
  }
  return { events, error };
}
