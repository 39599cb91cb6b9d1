/**
 * permessage-deflate (RFC 7692) data path on pako's zlib port: raw DEFLATE in, raw DEFLATE out.
 *
 * pako's `Inflate`/`Deflate` classes allocate output chunks and cannot be reset, so this
 * module drives pako's low-level zlib functions on `ZStream`s it keeps: a context is built once
 * and reset in place (`zlibInflateReset`, `zlibDeflateReset`) when a message must not see the
 * previous one. Output goes to one scratch buffer per process, from which exactly the bytes
 * produced are copied out. Codecs are synchronous, so nothing else uses the scratch meanwhile.
 *
 * Without context takeover, a message that is compressed or inflated within one call does not
 * need a context of its own: it borrows a process-wide context (reset after every use, so no
 * connection ever sees another's bytes). A deflate context with a 15-bit window weighs ~256 KiB,
 * so this is what keeps 10 000 such connections from costing gigabytes.
 */

import {
  ZStream,
  Z_BUF_ERROR,
  Z_DEFAULT_STRATEGY,
  Z_NEED_DICT,
  Z_OK,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  zlibDeflate,
  zlibDeflateInit2,
  zlibDeflateReset,
  zlibInflate,
  zlibInflateInit2,
  zlibInflateReset,
  zlibInflateResetKeep,
} from 'pako';

/** The empty stored block's LEN/NLEN that a sync flush ends with (RFC 7692 7.2.1). */
export const DEFLATE_TRAILER: Buffer = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** `MessageInflater.write`/`finish`: the message inflates to more than the limit (close 1009). */
export const INFLATE_TOO_BIG = -1;
/** `MessageInflater.write`/`finish`: the bytes are not valid DEFLATE data (close 1007). */
export const INFLATE_CORRUPT = -2;

/** zlib's default compression level (what `Z_DEFAULT_COMPRESSION` means). */
export const DEFAULT_COMPRESSION_LEVEL = 6;

const Z_DEFLATED = 8;
const MEM_LEVEL = 8;
const SCRATCH_SIZE = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
const EMPTY = new Uint8Array(0);

/** zlib's inflate modes (pako keeps zlib's numbers) that mean "between two blocks". */
const INFLATE_HEAD = 16180;
const INFLATE_TYPE = 16191;
const INFLATE_TYPEDO = 16192;

/** The inflater stands between DEFLATE blocks (or at the start of a stream). */
function atBlockBoundary(strm: ZStream): boolean {
  const mode = (strm.state as { mode: number }).mode;
  return mode === INFLATE_TYPE || mode === INFLATE_TYPEDO || mode === INFLATE_HEAD;
}

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

/** A context shared by every connection without context takeover; `clean` when freshly reset. */
interface SharedContext {
  readonly strm: ZStream;
  clean: boolean;
}

const sharedInflaters = new Map<number, SharedContext>();
const sharedDeflaters = new Map<string, SharedContext>();

function newInflateStream(windowBits: number): ZStream {
  const strm = new ZStream();
  const status = zlibInflateInit2(strm, -windowBits);
  if (status !== Z_OK) throw new Error(`Cannot create an inflater with a ${windowBits}-bit window (zlib status ${status}).`);
  return strm;
}

function newDeflateStream(windowBits: number, level: number): ZStream {
  const strm = new ZStream();
  const status = zlibDeflateInit2(strm, level, Z_DEFLATED, -windowBits, MEM_LEVEL, Z_DEFAULT_STRATEGY);
  if (status !== Z_OK) throw new Error(`Cannot create a deflater (window ${windowBits}, level ${level}, zlib status ${status}).`);
  return strm;
}

/** Copies the first `length` scratch bytes to a buffer of their own, after `headroom` free bytes. */
function copyScratch(length: number, headroom = 0): Buffer {
  const out = Buffer.allocUnsafe(headroom + length);
  scratch.copy(out, headroom, 0, length);
  return out;
}

/**
 * Inflates the messages a client compressed, one message at a time, frame by frame.
 *
 * Call {@link begin} on the first frame of a compressed message, {@link write} with each piece
 * of its (unmasked) payload as it arrives, and {@link finish} after the last frame.
 */
export class MessageInflater {
  private readonly windowBits: number;
  private readonly noContextTakeover: boolean;
  /** This connection's own context, built on first need and kept. */
  private own: ZStream | null = null;
  /** The own context holds a previous message's window. */
  private ownUsed = false;
  /** The context inflating the current message (own or shared), null between messages. */
  private strm: ZStream | null = null;
  private shared: SharedContext | null = null;

  /**
   * @param windowBits - the client's window (`client_max_window_bits`, 8–15)
   * @param noContextTakeover - the client resets its context after each message
   */
  constructor(windowBits: number, noContextTakeover: boolean) {
    this.windowBits = Math.min(15, Math.max(8, windowBits | 0));
    this.noContextTakeover = noContextTakeover;
  }

  /**
   * Starts a compressed message.
   *
   * @param completesInThisCall - the whole message will be written and finished before control
   *   returns to the event loop, so a shared context may serve it (no context takeover only)
   */
  begin(completesInThisCall: boolean): void {
    if (this.noContextTakeover && completesInThisCall) {
      let shared = sharedInflaters.get(this.windowBits);
      if (shared === undefined) {
        shared = { strm: newInflateStream(this.windowBits), clean: true };
        sharedInflaters.set(this.windowBits, shared);
      }
      if (!shared.clean) zlibInflateReset(shared.strm);
      shared.clean = false;
      this.shared = shared;
      this.strm = shared.strm;
      return;
    }
    if (this.own === null) {
      this.own = newInflateStream(this.windowBits);
    } else if (this.noContextTakeover && this.ownUsed) {
      zlibInflateReset(this.own);
    }
    this.ownUsed = true;
    this.strm = this.own;
  }

  /**
   * Inflates `input[start, end)`, appending what it produces to `out`.
   *
   * @param limit - how many more bytes the message may inflate to (Infinity for no limit)
   * @returns the number of bytes appended, or {@link INFLATE_TOO_BIG} / {@link INFLATE_CORRUPT};
   *   after a negative result the message is abandoned
   */
  write(input: Uint8Array, start: number, end: number, limit: number, out: Buffer[]): number {
    const strm = this.strm;
    if (strm === null) throw new Error('MessageInflater.write() outside a message.');
    if (end <= start) return 0;
    strm.input = input;
    strm.next_in = start;
    strm.avail_in = end - start;
    let produced = 0;
    for (;;) {
      strm.output = scratch;
      strm.next_out = 0;
      strm.avail_out = SCRATCH_SIZE;
      const status = zlibInflate(strm, Z_SYNC_FLUSH);
      if ((status < 0 && status !== Z_BUF_ERROR) || status === Z_NEED_DICT) return this.fail(INFLATE_CORRUPT);
      const length = strm.next_out;
      if (length > 0) {
        produced += length;
        // Checked per scratch-full: memory stays within the limit plus 64 KiB, bombs included.
        if (produced > limit) return this.fail(INFLATE_TOO_BIG);
        out.push(copyScratch(length));
      }
      if (status === Z_STREAM_END) {
        // A final (BFINAL) block ended the DEFLATE stream; what follows starts a new one that may
        // still refer to this window (RFC 7692 7.2.3.4).
        zlibInflateResetKeep(strm);
        if (strm.avail_in === 0) break;
        continue;
      }
      if (strm.avail_out !== 0) break; // all input consumed, all output delivered
    }
    strm.input = EMPTY;
    return produced;
  }

  /**
   * Ends the message: inflates the 00 00 FF FF the sender removed (RFC 7692 7.2.2).
   *
   * @returns as {@link write}
   */
  finish(limit: number, out: Buffer[]): number {
    const strm = this.strm;
    if (strm === null) throw new Error('MessageInflater.finish() outside a message.');
    // A compliant message stops inside the empty stored block whose LEN/NLEN were removed. One
    // that stops between blocks (an empty message, a final BFINAL block, an empty last frame
    // after a flushed one) has nothing pending, and the trailer would open a bogus block.
    if (atBlockBoundary(strm)) {
      this.release(true);
      return 0;
    }
    const produced = this.write(DEFLATE_TRAILER, 0, DEFLATE_TRAILER.length, limit, out);
    if (produced < 0) return produced;
    // Still inside a block: the message was cut short, and the stream is unusable.
    if (!atBlockBoundary(strm)) return this.fail(INFLATE_CORRUPT);
    this.release(true);
    return produced;
  }

  /** Abandons the message in progress (the connection is failing). */
  abort(): void {
    this.release(false);
  }

  /** Drops the contexts; the inflater must not be used afterwards. */
  dispose(): void {
    this.release(false);
    this.own = null;
  }

  private fail(status: number): number {
    this.release(false);
    return status;
  }

  private release(completed: boolean): void {
    if (this.strm !== null) this.strm.input = EMPTY;
    if (this.shared !== null) {
      // Reset now so the next borrower never sees this message's window.
      if (completed) {
        zlibInflateReset(this.shared.strm);
        this.shared.clean = true;
      }
      this.shared = null;
    }
    this.strm = null;
  }
}

/**
 * Compresses the messages the server sends, one message at a time, piece by piece.
 */
export class MessageDeflater {
  private readonly windowBits: number;
  private readonly noContextTakeover: boolean;
  private readonly level: number;
  private own: ZStream | null = null;
  private strm: ZStream | null = null;
  private shared: SharedContext | null = null;

  /**
   * @param windowBits - the negotiated `server_max_window_bits` (8–15; 8 runs as 9, see
   *   {@link deflateWindowBitsSupported})
   * @param noContextTakeover - reset after every message (`server_no_context_takeover`)
   * @param level - zlib compression level 0–9
   */
  constructor(windowBits: number, noContextTakeover: boolean, level: number = DEFAULT_COMPRESSION_LEVEL) {
    if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`Compression level must be 0-9, not ${level}.`);
    this.windowBits = deflaterWindowBits(windowBits);
    this.noContextTakeover = noContextTakeover;
    this.level = level;
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
    strm.input = EMPTY;

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

  private begin(fin: boolean): void {
    if (this.strm !== null) this.release(); // an unfinished message is abandoned
    if (this.noContextTakeover && fin) {
      // One call compresses the whole message: borrow the process-wide context.
      const key = `${this.windowBits}:${this.level}`;
      let shared = sharedDeflaters.get(key);
      if (shared === undefined) {
        shared = { strm: newDeflateStream(this.windowBits, this.level), clean: true };
        sharedDeflaters.set(key, shared);
      }
      if (!shared.clean) zlibDeflateReset(shared.strm);
      shared.clean = false;
      this.shared = shared;
      this.strm = shared.strm;
      return;
    }
    this.own ??= newDeflateStream(this.windowBits, this.level);
    this.strm = this.own;
  }

  private release(): void {
    if (this.shared !== null) {
      zlibDeflateReset(this.shared.strm);
      this.shared.clean = true;
      this.shared = null;
    } else if (this.strm !== null && this.noContextTakeover) {
      zlibDeflateReset(this.strm);
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
