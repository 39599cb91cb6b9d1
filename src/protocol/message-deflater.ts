/**
 * Compressing what the server sends (RFC 7692 7.2.1): each piece of a message with a sync
 * flush, so it can go out at once, the trailing 00 00 FF FF removed at the end of the message,
 * the context kept or reset between messages as negotiated.
 */

import { ZStream, Z_BUF_ERROR, Z_OK, Z_SYNC_FLUSH, zlibDeflate, zlibDeflateSetDictionary } from 'pako';
import {
  DEFAULT_MEM_LEVEL,
  EMPTY_INPUT,
  SCRATCH_SIZE,
  borrowShared,
  copyScratch,
  newDeflateStream,
  scratch,
  type SharedContext,
} from './zlib-contexts.js';
import { deflateHistory, resetDeflater } from './zlib-state.js';

/** zlib's default compression level (what `Z_DEFAULT_COMPRESSION` means). */
export const DEFAULT_COMPRESSION_LEVEL = 6;

/** Deflate contexts lent to whole messages without context takeover, by window and level. */
const sharedDeflaters = new Map<string, SharedContext>();

/**
 * Whether a negotiated `server_max_window_bits` value can be honoured when compressing.
 *
 * zlib 1.2.9+ and pako refuse a raw 8-bit window, and Node's zlib silently raises it to 9.
 * A 256-byte window can still be honoured: a 9-bit zlib/pako deflater never emits a distance
 * beyond `w_size - MIN_LOOKAHEAD` = 512 - 262 = 250 bytes, which any 256-byte inflater can
 * follow. So 8–15 are supported, and {@link deflaterWindowBits} maps 8 to 9.
 */
export function deflateWindowBitsSupported(bits: number): boolean {
  return Number.isInteger(bits) && bits >= 8 && bits <= 15;
}

/** The window (bits) to build a deflater with for a negotiated `server_max_window_bits`. */
export function deflaterWindowBits(bits: number): number {
  if (!deflateWindowBitsSupported(bits)) throw new RangeError(`server_max_window_bits must be 8-15, not ${bits}.`);
  return Math.max(9, bits);
}

/**
 * What compresses the messages a server sends (RFC 7692 7.2.1), one message at a time, piece
 * by piece: {@link MessageDeflater} on pako, `WasmMessageDeflater` on the WASM module.
 */
export interface MessageDeflating {
  /**
   * Compresses one piece of a message with a sync flush, so the piece can be sent at once.
   * On the last piece the trailing 00 00 FF FF is removed (RFC 7692 7.2.1); an empty message
   * becomes the single byte 00 (an empty stored block's header, 7.2.3.6).
   *
   * @param headroom - free bytes to leave before the compressed data (for a frame header)
   * @returns a buffer whose bytes from `headroom` on are the compressed piece
   */
  compress(data: Uint8Array, first: boolean, fin: boolean, headroom?: number): Buffer;
  /**
   * With context takeover, between messages: the history the client's inflater remembers (the
   * last bytes compressed, at most the window), or null when there is none.
   */
  window(): Uint8Array | null;
  /** Between messages: continues a context-takeover stream whose history is `history`. */
  presetWindow(history: Uint8Array): void;
  /** Drops the state; the deflater must not be used afterwards. */
  dispose(): void;
}

/** Builds a {@link MessageDeflating} (arguments as {@link MessageDeflater}'s constructor). */
export type DeflaterFactory = (windowBits: number, noContextTakeover: boolean, level?: number, memLevel?: number) => MessageDeflating;

/**
 * Compresses the messages the server sends, one message at a time, piece by piece, on pako.
 */
export class MessageDeflater implements MessageDeflating {
  private readonly windowBits: number;
  private readonly noContextTakeover: boolean;
  private readonly level: number;
  private readonly memLevel: number;
  private own: ZStream | null = null;
  private strm: ZStream | null = null;
  private shared: SharedContext | null = null;

  /**
   * @param windowBits - the negotiated `server_max_window_bits` (8–15; 8 runs as 9, see
   *   {@link deflateWindowBitsSupported})
   * @param noContextTakeover - reset after every message (`server_no_context_takeover`)
   * @param level - zlib compression level 0–9 (-1, zlib's "default", means 6)
   * @param memLevel - zlib memory level 1–9 (8 by default): hash table and pending buffer size
   */
  constructor(
    windowBits: number,
    noContextTakeover: boolean,
    level: number = DEFAULT_COMPRESSION_LEVEL,
    memLevel: number = DEFAULT_MEM_LEVEL,
  ) {
    if (level === -1) level = DEFAULT_COMPRESSION_LEVEL;
    if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`Compression level must be 0-9, not ${level}.`);
    if (!Number.isInteger(memLevel) || memLevel < 1 || memLevel > 9) throw new RangeError(`Memory level must be 1-9, not ${memLevel}.`);
    this.windowBits = deflaterWindowBits(windowBits);
    this.noContextTakeover = noContextTakeover;
    this.level = level;
    this.memLevel = memLevel;
  }

  /**
   * Compresses one piece of a message with a sync flush, so the piece can be sent at once.
   * On the last piece the trailing 00 00 FF FF is removed (RFC 7692 7.2.1); an empty message
   * becomes the single byte 00 (an empty stored block's header, 7.2.3.6).
   *
   * @param headroom - free bytes to leave before the compressed data (for a frame header)
   * @returns a buffer whose bytes from `headroom` on are the compressed piece
   */
  compress(data: Uint8Array, first: boolean, fin: boolean, headroom = 0): Buffer {
    if (first) this.begin(fin);
    const strm = this.strm;
    if (strm === null) throw new Error('MessageDeflater.compress(): a message must start with a first piece.');
    strm.input = data;
    strm.next_in = 0;
    strm.avail_in = data.length;
    let full: Buffer[] | null = null; // copies of scratch-fulls, for output above 64 KiB
    let fullLength = 0;
    let length: number;
    for (;;) {
      strm.output = scratch;
      strm.next_out = 0;
      strm.avail_out = SCRATCH_SIZE;
      const status = zlibDeflate(strm, Z_SYNC_FLUSH);
      // Z_BUF_ERROR only means there was nothing to do (an empty piece after a flush).
      if (status !== Z_OK && status !== Z_BUF_ERROR) {
        this.release();
        throw new Error(`Compression failed (zlib status ${status}).`);
      }
      length = strm.next_out;
      if (strm.avail_out !== 0) break;
      (full ??= []).push(copyScratch(length));
      fullLength += length;
    }
    strm.input = EMPTY_INPUT;

    let out: Buffer;
    if (full === null) {
      out = copyScratch(length, headroom);
    } else {
      full.unshift(Buffer.alloc(headroom));
      full.push(copyScratch(length));
      out = Buffer.concat(full, headroom + fullLength + length);
    }
    if (fin) {
      out = stripTrailer(out, headroom);
      this.release();
    }
    return out;
  }

  /** Drops the contexts; the deflater must not be used afterwards. */
  dispose(): void {
    this.release();
    this.own = null;
  }

  /**
   * With context takeover, between messages: the history the client's inflater remembers (the
   * last bytes compressed, at most the window), or null when there is none. With it as
   * {@link presetWindow}, a deflater elsewhere (another thread) continues the stream.
   */
  window(): Uint8Array | null {
    if (this.noContextTakeover || this.strm !== null || this.own === null) return null;
    const history = deflateHistory(this.own);
    return history.length === 0 ? null : history;
  }

  /**
   * Between messages: continues a context-takeover stream whose history is `history` (see
   * {@link window}); an empty history starts the stream afresh.
   */
  presetWindow(history: Uint8Array): void {
    if (this.noContextTakeover) return;
    if (this.strm !== null) throw new Error('MessageDeflater.presetWindow() inside a message.');
    if (this.own === null) {
      if (history.length === 0) return;
      this.own = newDeflateStream(this.windowBits, this.level, this.memLevel);
    } else {
      resetDeflater(this.own);
    }
    if (history.length > 0 && zlibDeflateSetDictionary(this.own, history) !== Z_OK) throw new Error('Cannot preset the deflate window.');
  }

  private begin(fin: boolean): void {
    if (this.strm !== null) this.release(); // an unfinished message is abandoned
    if (this.noContextTakeover && fin) {
      // One call compresses the whole message: borrow the process-wide context.
      const { windowBits, level, memLevel } = this;
      const create = (): ZStream => newDeflateStream(windowBits, level, memLevel);
      const shared = borrowShared(sharedDeflaters, `${windowBits}:${level}:${memLevel}`, create, resetDeflater);
      if (shared !== null) {
        this.shared = shared;
        this.strm = shared.strm;
        return;
      }
    }
    this.own ??= newDeflateStream(this.windowBits, this.level, this.memLevel);
    this.strm = this.own;
  }

  private release(): void {
    if (this.shared !== null) {
      resetDeflater(this.shared.strm);
      this.shared.clean = true;
      this.shared.lent = false;
      this.shared = null;
    } else if (this.strm !== null && this.noContextTakeover) {
      resetDeflater(this.strm);
    }
    this.strm = null;
  }
}

/** Removes the 00 00 FF FF a sync flush ends with; an empty result becomes one 00 byte. */
function stripTrailer(out: Buffer, headroom: number): Buffer {
  let end = out.length;
  if (
    end - headroom >= 4 &&
    out[end - 4] === 0x00 &&
    out[end - 3] === 0x00 &&
    out[end - 2] === 0xff &&
    out[end - 1] === 0xff
  ) {
    end -= 4;
  }
  if (end === headroom) {
    // Nothing was flushed (an empty message right after another flush). The receiver appends
    // 00 00 FF FF; a leading 00 (BFINAL=0, stored) makes that an empty stored block.
    const empty = Buffer.alloc(headroom + 1);
    return empty;
  }
  return end === out.length ? out : out.subarray(0, end);
}
