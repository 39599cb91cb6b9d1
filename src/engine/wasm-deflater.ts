/**
 * permessage-deflate compression on the WASM module (`assembly/deflate.ts`): what the `wasm`,
 * `pool` and `auto` engines send compressed. Same contract as pako's `MessageDeflater`.
 *
 * The kernel compresses a piece with the receiver's window in front of it as its dictionary
 * and keeps nothing between calls, so all a connection holds is that window: the last
 * 2^windowBits bytes it compressed (32 KiB at most), and only with context takeover or inside
 * a message sent in pieces. zlib and pako keep ~256 KiB of context for the same.
 */

import { DEFAULT_COMPRESSION_LEVEL, deflaterWindowBits, type MessageDeflating } from '../protocol/message-deflater.js';
import { compressionRuntime, type CompressionRuntime } from './wasm-compression.js';

/** A piece is compressed in slices of at most this many bytes, so linear memory stays bounded. */
export const DEFLATE_SLICE = 1024 * 1024;
/**
 * How much of the history a slice of `n` bytes is compressed against: all of it for large
 * slices, less for small ones, because every history byte costs a hash insertion (~1 ns) and
 * a small message finds most of what it can match in the recent past.
 */
function historyToUse(available: number, n: number): number {
  return Math.min(available, Math.max(4096, 4 * n));
}

/** The sync flush's empty stored block LEN/NLEN, which the last piece of a message drops. */
const TRAILER_LENGTH = 4;

/** Compresses the messages a server sends on the WASM module, one message at a time, piece by piece. */
export class WasmMessageDeflater implements MessageDeflating {
  private readonly rt: CompressionRuntime;
  private readonly windowBits: number;
  private readonly windowSize: number;
  private readonly noContextTakeover: boolean;
  private readonly level: number;
  /** The receiver's window: the last bytes compressed (`history[0, historyLength)`), or null. */
  private history: Uint8Array | null = null;
  private historyLength = 0;
  private inMessage = false;

  /**
   * @param windowBits - the negotiated `server_max_window_bits` (8–15): matches never reach
   *   further back than 2^windowBits bytes
   * @param noContextTakeover - forget the window after every message (`server_no_context_takeover`)
   * @param level - zlib compression level 0–9 (-1 means 6): zlib's matching parameters per level
   * @param memLevel - accepted for the pako deflater's sake (1–9); the kernel sizes its hash
   *   table by the piece it compresses
   */
  constructor(windowBits: number, noContextTakeover: boolean, level: number = DEFAULT_COMPRESSION_LEVEL, memLevel = 8) {
    if (level === -1) level = DEFAULT_COMPRESSION_LEVEL;
    if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`Compression level must be 0-9, not ${level}.`);
    if (!Number.isInteger(memLevel) || memLevel < 1 || memLevel > 9) throw new RangeError(`Memory level must be 1-9, not ${memLevel}.`);
    deflaterWindowBits(windowBits); // validates 8–15
    this.windowBits = windowBits;
    this.windowSize = 2 ** windowBits;
    this.noContextTakeover = noContextTakeover;
    this.level = level;
    this.rt = compressionRuntime();
  }

  /** See {@link MessageDeflating.compress}. */
  compress(data: Uint8Array, first: boolean, fin: boolean, headroom = 0): Buffer {
    if (first) {
      if (this.noContextTakeover) this.historyLength = 0;
      this.inMessage = true;
    } else if (!this.inMessage) {
      throw new Error('WasmMessageDeflater.compress(): a message must start with a first piece.');
    }
    let out: Buffer;
    if (data.length <= DEFLATE_SLICE) {
      out = this.compressSlice(data, headroom, fin);
    } else {
      const parts: Buffer[] = [];
      let total = 0;
      for (let at = 0; at < data.length; at += DEFLATE_SLICE) {
        const end = Math.min(data.length, at + DEFLATE_SLICE);
        const part = this.compressSlice(data.subarray(at, end), at === 0 ? headroom : 0, fin && end === data.length);
        parts.push(part);
        total += part.length;
      }
      out = Buffer.concat(parts, total);
    }
    if (fin) {
      this.inMessage = false;
      if (this.noContextTakeover) this.historyLength = 0;
    }
    return out;
  }

  /** See {@link MessageDeflating.window}. */
  window(): Uint8Array | null {
    if (this.noContextTakeover || this.inMessage || this.history === null || this.historyLength === 0) return null;
    return this.history.slice(0, this.historyLength);
  }

  /** See {@link MessageDeflating.presetWindow}. */
  presetWindow(history: Uint8Array): void {
    if (this.noContextTakeover) return;
    if (this.inMessage) throw new Error('WasmMessageDeflater.presetWindow() inside a message.');
    this.historyLength = 0;
    if (history.length > 0) this.remember(history);
  }

  /** See {@link MessageDeflating.dispose}. */
  dispose(): void {
    this.history = null;
    this.historyLength = 0;
    this.inMessage = false;
  }

  /** Compresses one slice against the history, remembers it, and copies the output out. */
  private compressSlice(data: Uint8Array, headroom: number, last: boolean): Buffer {
    const rt = this.rt;
    const k = rt.kernels;
    const work = rt.base;
    const used = historyToUse(this.historyLength, data.length);
    const src = work + k.deflateWorkSize();
    const length = used + data.length;
    const out = (src + length + 15) & ~15;
    const capacity = data.length + (data.length >> 3) + 64;
    rt.reserve(out - rt.base + capacity);
    const u8 = rt.u8;
    if (used > 0) u8.set(this.history!.subarray(this.historyLength - used, this.historyLength), src);
    u8.set(data, src + used);
    let written = k.deflateRaw(src, used, data.length, out, work, this.windowBits, this.level);
    if (last) written -= TRAILER_LENGTH;
    const result = Buffer.allocUnsafe(headroom + Math.max(written, 1));
    if (written > 0) result.set(u8.subarray(out, out + written), headroom);
    else result[headroom] = 0; // an empty message after a flush: one empty stored block header
    if (!(last && this.noContextTakeover)) this.remember(data);
    return result;
  }

  /** Appends `data` to the history, keeping the last window's worth. */
  private remember(data: Uint8Array): void {
    const size = this.windowSize;
    const add = Math.min(data.length, size);
    const keep = Math.min(this.historyLength, size - add);
    const length = keep + add;
    const old = this.history;
    let history = old;
    if (history === null || history.length < length) {
      // Grown as needed, not to the whole window at once: a connection that sent one small
      // message keeps only that much.
      history = new Uint8Array(Math.min(size, Math.max(length, 2 * (old?.length ?? 0))));
      if (keep > 0) history.set(old!.subarray(this.historyLength - keep, this.historyLength));
      this.history = history;
    } else if (keep > 0 && keep < this.historyLength) {
      history.copyWithin(0, this.historyLength - keep, this.historyLength);
    }
    history.set(add === data.length ? data : data.subarray(data.length - size), keep);
    this.historyLength = length;
  }

}

/** Builds {@link WasmMessageDeflater}s (a `DeflaterFactory`). */
export function createWasmDeflater(windowBits: number, noContextTakeover: boolean, level?: number, memLevel?: number): WasmMessageDeflater {
  return new WasmMessageDeflater(windowBits, noContextTakeover, level, memLevel);
}
