/**
 * Client byte streams for the engine tests: frames of every kind (text, binary, fragmented,
 * compressed with or without context takeover, pings, a close), fed to a codec in chunks of
 * random sizes, and decode results summarised as plain values to compare engines by.
 */
import zlib from 'node:zlib';
import type { Codec, DecodeResult, DeflateParams, InboundEvent } from '../../src/protocol/codec.js';
import { clientFrame, closeBody } from './codec-frames.js';
import { prng } from './deflate.js';

/** What a decode result says, with payloads as bytes (views die with their buffers). */
export function summary(result: DecodeResult): unknown {
  return {
    events: result.events.map((e: InboundEvent) =>
      e.kind === 'close' ? e : { ...e, payload: Buffer.from(e.payload).toString('hex') },
    ),
    error: result.error,
  };
}

/** A client's compressed message body (raw deflate, sync flush, tail removed), with a running context. */
export function clientDeflater(takeover: boolean): (data: Buffer) => Buffer {
  let history = Buffer.alloc(0);
  return (data) => {
    const options: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (takeover && history.length > 0) options.dictionary = history;
    const out = zlib.deflateRawSync(data, options);
    if (takeover) history = Buffer.concat([history, data]).subarray(-32768);
    return out.subarray(0, out.length - 4);
  };
}

/** A stream of client frames: text, binary, fragmented, compressed, pings, and a close at the end. */
export function clientStream(seed: number, deflate: DeflateParams | null): { bytes: Buffer; messages: number; boundaries: number[] } {
  const rand = prng(seed);
  const compress = clientDeflater(deflate !== null && !deflate.clientNoContextTakeover);
  const parts: Buffer[] = [];
  const boundaries: number[] = [];
  let messages = 0;
  for (let i = 0; i < 40; i++) {
    const repeats = [0, 1, 9, 10, 70, 5000][Math.floor(rand() * 6)]!;
    const safe = Buffer.from(`wsworks é ✓ ${i} `.repeat(repeats));
    const kind = rand();
    if (kind < 0.15) parts.push(clientFrame(0x9, 'ping'));
    if (deflate !== null && rand() < 0.5) {
      const body = compress(safe);
      if (rand() < 0.5 && body.length > 4) {
        const cut = Math.floor(body.length / 2);
        parts.push(clientFrame(0x1, body.subarray(0, cut), { rsv1: true, fin: false }));
        parts.push(clientFrame(0x0, body.subarray(cut)));
      } else {
        parts.push(clientFrame(0x1, body, { rsv1: true }));
      }
    } else if (kind < 0.5) {
      const cut = Math.floor(safe.length / 2);
      parts.push(clientFrame(0x2, safe.subarray(0, cut), { fin: false }));
      parts.push(clientFrame(0x0, safe.subarray(cut)));
    } else {
      parts.push(clientFrame(0x1, safe));
    }
    messages++;
    boundaries.push(parts.reduce((sum, p) => sum + p.length, 0));
  }
  parts.push(clientFrame(0x8, closeBody(1000, 'bye')));
  return { bytes: Buffer.concat(parts), messages, boundaries };
}

/**
 * Feeds `bytes` to `codec` in chunks of random sizes (each a buffer of its own, as a socket
 * gives); with `boundaries` (offsets between messages), half the chunks end at the next one, as
 * when a client writes one message at a time. `after` runs after each chunk.
 */
export async function feed(codec: Codec, bytes: Buffer, seed: number, boundaries: readonly number[] = [], after?: () => void): Promise<unknown[]> {
  const rand = prng(seed);
  const out: unknown[] = [];
  for (let at = 0; at < bytes.length; ) {
    const next = boundaries.find((b) => b > at);
    const size = next !== undefined && rand() < 0.5 ? next - at : Math.min(bytes.length - at, 1 + Math.floor(rand() * 20000));
    const chunk = Buffer.allocUnsafeSlow(size);
    bytes.copy(chunk, 0, at, at + size);
    at += size;
    out.push(summary(await codec.decode(chunk)));
    after?.();
  }
  return out;
}

