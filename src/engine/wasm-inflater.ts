/**
 * permessage-deflate inflation for the WASM engines (wasm, pool, auto): the kernel of
 * assembly/inflate.ts on the compression instance (wasm-compression.ts), with the semantics of
 * the js engine's pako-based `MessageInflater`, call for call.
 *
 * Each {@link WasmMessageInflater.write} inflates its piece at once, as pako does: the piece
 * goes into linear memory after the few bytes the previous piece left undecoded (an item split
 * between frames, at most a block header), behind the history, and what it inflates to is copied
 * out to one buffer. Decoding stops only between items, so what a connection keeps between
 * pieces is small: those bytes, a 64-byte state (with the block's code lengths inside a
 * dynamic block), and the history, which is what pako's window holds: the last
 * 2^windowBits bytes produced. Without context takeover nothing is kept between messages.
 *
 * Linear memory of one call, from the compression instance's `base` (nothing survives the
 * call: other connections' calls run in between):
 * ```
 * work (state, tables) │ src: undecoded bytes, piece │ out: history (≤ 32 KiB), output room
 * ```
 */

import {
  DEFLATE_TRAILER,
  INFLATE_CORRUPT,
  INFLATE_TOO_BIG,
  type MessageInflating,
} from '../protocol/message-inflater.js';
import { SCRATCH_SIZE } from '../protocol/zlib-contexts.js';
import { type CompressionRuntime, compressionRuntime } from './wasm-compression.js';

// The state block at `work` (u32 words), as assembly/inflate.ts lays it out: the words this
// file reads or sets (the others are carried between pieces as they are).
const S_MODE = 0;
const S_CONSUMED = 2;
const S_FIXED = 5;
const S_NLEN = 6;
const S_NDIST = 7;
const S_SINCE_CALL = 8;
const S_WHAVE = 9;
const S_STATUS = 10;
const S_CALL_SPAN = 11;
const STATE_WORDS = 16;
/** Where the dynamic block's code lengths are (bytes from `work`), and how many there can be. */
const LENS_OFFSET = 64;
const LENS_BYTES = 320;

const MODE_BETWEEN = 0;
const MODE_STORED_LEN = 2;
const MODE_CODES = 4;
const STATUS_ROOM_FULL = 1;

/** The farthest a DEFLATE distance reaches back. */
const MAX_DISTANCE = 32768;
/** Output room of a kernel call: a first guess from the compressed size, within these bounds. */
const MIN_ROOM = 64 * 1024;
const MAX_ROOM = 4 * 1024 * 1024;
/** A guess at how much a compressed byte inflates to (JSON at level 6: ~5). */
const EXPANSION_GUESS = 8;

const EMPTY = new Uint8Array(0);

function align16(n: number): number {
  return (n + 15) & ~15;
}

/** A kernel call's output room for a piece of `length` compressed bytes. */
function roomFor(length: number): number {
  const guess = 2 ** Math.ceil(Math.log2(Math.max(1, length * EXPANSION_GUESS)));
  return Math.min(MAX_ROOM, Math.max(MIN_ROOM, guess));
}

/** The kernels' scratch size and a view of the state block, per compression instance. */
let workSize = 0;
let stateView: Int32Array | null = null;

function stateBlock(rt: CompressionRuntime): Int32Array {
  const buffer = rt.u8.buffer;
  if (stateView === null || stateView.buffer !== buffer) stateView = new Int32Array(buffer, rt.base, STATE_WORDS);
  return stateView;
}

/**
 * Inflates the messages a client compressed, one message at a time, frame by frame, on the
 * WASM kernel; the same results as `MessageInflater` (see {@link MessageInflating}).
 */
export class WasmMessageInflater implements MessageInflating {
  private readonly rt: CompressionRuntime;
  private readonly windowBits: number;
  /** 2^windowBits: the history pako keeps, and so the most this inflater keeps. */
  private readonly windowSize: number;
  private readonly noContextTakeover: boolean;

  /** A message is open (between begin and its end). */
  private active = false;
  private completesInThisCall = false;
  /** The kernel's state between pieces (all zero: a fresh message, between blocks). */
  private readonly state = new Int32Array(STATE_WORDS);
  /** The code lengths of the dynamic block a piece ended in. */
  private lens: Uint8Array | null = null;
  /** The bytes the last piece left undecoded (an item that had not all arrived). */
  private tail: Uint8Array | null = null;
  private tailLength = 0;
  /**
   * The last min(2^windowBits, all) bytes produced: a view of `historyStore`, or, while a
   * message completes within the caller's call, a view of the last output buffer (copied only
   * if the history must outlive that call).
   */
  private history: Uint8Array = EMPTY;
  private historyStore: Uint8Array | null = null;

  /**
   * @param windowBits - the client's window (`client_max_window_bits`, 8–15)
   * @param noContextTakeover - the client resets its context after each message
   * @param rt - the compression instance (the thread's, by default)
   */
  constructor(windowBits: number, noContextTakeover: boolean, rt: CompressionRuntime = compressionRuntime()) {
    this.rt = rt;
    this.windowBits = Math.min(15, Math.max(8, windowBits | 0));
    this.windowSize = 1 << this.windowBits;
    this.noContextTakeover = noContextTakeover;
    if (workSize === 0) workSize = align16(rt.kernels.inflateWorkSize());
  }

  /**
   * Starts a compressed message.
   *
   * @param completesInThisCall - the whole message will be written and finished before control
   *   returns to the event loop: the history may then stay a view of the output handed out
   */
  begin(completesInThisCall: boolean): void {
    if (this.active) this.abort(); // the previous message never ended: as pako, forget its stream
    this.active = true;
    this.completesInThisCall = completesInThisCall;
  }

  /**
   * Inflates `input[start, end)`, appending what it produces to `out` (one buffer per 64 KiB or
   * more of output).
   *
   * @param limit - how many more bytes the message may inflate to (Infinity for no limit)
   * @returns the number of bytes appended, or `INFLATE_TOO_BIG` / `INFLATE_CORRUPT`; after a
   *   negative result the message is abandoned
   */
  write(input: Uint8Array, start: number, end: number, limit: number, out: Buffer[]): number {
    if (!this.active) throw new Error('WasmMessageInflater.write() outside a message.');
    if (end <= start) return 0;
    return this.inflate(input, start, end, limit, out);
  }

  /**
   * Ends the message: inflates the 00 00 FF FF the sender removed (RFC 7692 7.2.2), unless the
   * message stopped between blocks (an empty message, a final block, an empty last frame).
   *
   * @returns as {@link write}
   */
  finish(limit: number, out: Buffer[]): number {
    if (!this.active) throw new Error('WasmMessageInflater.finish() outside a message.');
    const mode = this.state[S_MODE];
    // The usual end: the empty stored block whose LEN/NLEN (00 00 FF FF) were removed. They are
    // valid, so the block ends at once, with nothing after it.
    if (mode === MODE_BETWEEN || (mode === MODE_STORED_LEN && this.tailLength === 0)) {
      if (mode === MODE_STORED_LEN) this.state.fill(0);
      this.complete();
      return 0;
    }
    const produced = this.inflate(DEFLATE_TRAILER, 0, DEFLATE_TRAILER.length, limit, out);
    if (produced < 0) return produced;
    // Still inside a block: the message was cut short.
    if (this.state[S_MODE] !== MODE_BETWEEN) return this.fail(INFLATE_CORRUPT);
    this.complete();
    return produced;
  }

  /**
   * With context takeover, between messages: the history the next message may refer back to
   * (the last bytes inflated, at most the window; a copy of its own), or null when there is none.
   */
  window(): Uint8Array | null {
    if (this.noContextTakeover || this.active || this.history.length === 0) return null;
    return new Uint8Array(this.history);
  }

  /**
   * Between messages: continues a context-takeover stream whose history is `history` (see
   * {@link window}); an empty history starts the stream afresh.
   */
  presetWindow(history: Uint8Array): void {
    if (this.noContextTakeover) return;
    if (this.active) throw new Error('WasmMessageInflater.presetWindow() inside a message.');
    this.restart();
    const length = Math.min(history.length, this.windowSize);
    if (length === 0) {
      this.history = EMPTY;
      return;
    }
    const store = this.historyStoreFor(length);
    store.set(history.subarray(history.length - length));
    this.history = store.subarray(0, length);
  }

  /** Abandons the message in progress (the connection is failing); the history goes too. */
  abort(): void {
    this.active = false;
    this.restart();
    this.history = EMPTY;
    this.historyStore = null;
  }

  /** Drops all state; the inflater must not be used afterwards. */
  dispose(): void {
    this.abort();
    this.tail = null;
    this.lens = null;
  }

  private fail(status: number): number {
    this.abort();
    return status;
  }

  /** Forgets where the stream stands (not its history): the next message starts a new stream. */
  private restart(): void {
    this.state.fill(0);
    this.tailLength = 0;
  }

  /**
   * The message ended between blocks. Without context takeover nothing is kept. With it, the
   * history is kept (in a buffer of its own), and so are the last byte's unread bits, if any
   * (fewer than a block header's 3): pako's stream goes on across messages, and reads the next
   * message's first block header after them.
   */
  private complete(): void {
    this.active = false;
    if (this.noContextTakeover) {
      this.restart();
      this.history = EMPTY;
      this.historyStore = null;
    } else {
      this.ownHistory();
    }
  }

  /** Makes the history a copy of its own (it may be a view of output handed out). */
  private ownHistory(): void {
    const history = this.history;
    const store = this.historyStore;
    if (history.length === 0 || (store !== null && history.buffer === store.buffer)) return;
    const own = this.historyStoreFor(history.length);
    own.set(history);
    this.history = own.subarray(0, history.length);
  }

  /**
   * Runs the kernel over the undecoded bytes and `piece[start, end)`, in as many calls as the
   * output needs (each with up to 32 KiB of history before its room).
   */
  private inflate(piece: Uint8Array, start: number, end: number, limit: number, out: Buffer[]): number {
    const rt = this.rt;
    const kernels = rt.kernels;
    const tailLength = this.tailLength;
    const srcLength = tailLength + (end - start);
    const work = rt.base;
    const src = work + workSize;
    const outRegion = align16(src + srcLength + 16);
    let room = roomFor(end - start);
    rt.reserve(outRegion - work + MAX_DISTANCE + room);
    let u8 = rt.u8;
    if (tailLength > 0) u8.set(this.tail!.subarray(0, tailLength), src);
    u8.set(piece.subarray(start, end), src + tailLength);
    let historyLength = this.history.length;
    if (historyLength > 0) u8.set(this.history, outRegion);

    let state = stateBlock(rt);
    state.set(this.state);
    if (this.state[S_MODE] === MODE_CODES && this.state[S_FIXED] === 0) u8.set(this.lens!, work + LENS_OFFSET);
    // Each piece is a new zlib call for pako: its window is the history, its output starts anew.
    state[S_SINCE_CALL] = 0;
    state[S_WHAVE] = historyLength;
    state[S_CALL_SPAN] = SCRATCH_SIZE;

    let inAt = src;
    let inLeft = srcLength;
    let produced = 0;
    let last: Buffer | null = null;
    let lastLength = 0;
    for (;;) {
      const limitLeft = limit - produced;
      const allowed = Math.min(room, limitLeft);
      const n = kernels.inflatePiece(inAt, inLeft, outRegion, historyLength, allowed, work, this.windowBits);
      if (n < 0) return this.fail(INFLATE_CORRUPT);
      lastLength = n;
      if (n > 0) {
        const at = outRegion + historyLength;
        last = Buffer.allocUnsafe(n);
        last.set(u8.subarray(at, at + n));
        out.push(last);
        produced += n;
      }
      if (state[S_STATUS] !== STATUS_ROOM_FULL) break;
      // The next item does not fit: beyond the limit, or beyond this call's room.
      if (allowed === limitLeft) return this.fail(INFLATE_TOO_BIG);
      const keep = Math.min(MAX_DISTANCE, historyLength + n);
      const outEnd = outRegion + historyLength + n;
      u8.copyWithin(outRegion, outEnd - keep, outEnd);
      historyLength = keep;
      const consumed = state[S_CONSUMED];
      inAt += consumed;
      inLeft -= consumed;
      room = Math.min(MAX_ROOM, room * 2);
      rt.reserve(outRegion - work + MAX_DISTANCE + room);
      u8 = rt.u8;
      state = stateBlock(rt);
    }

    this.state.set(state);
    if (state[S_MODE] === MODE_CODES && state[S_FIXED] === 0) {
      const lens = (this.lens ??= new Uint8Array(LENS_BYTES));
      lens.set(u8.subarray(work + LENS_OFFSET, work + LENS_OFFSET + state[S_NLEN] + state[S_NDIST]));
    }
    this.keepUndecoded(u8, inAt + state[S_CONSUMED], inAt + inLeft);
    if (produced > 0) this.keepHistory(u8, outRegion + historyLength + lastLength, historyLength + lastLength, last!);
    return produced;
  }

  /** Keeps linear memory [from, to): the bytes of an item that has not all arrived. */
  private keepUndecoded(u8: Uint8Array, from: number, to: number): void {
    const length = to - from;
    this.tailLength = length;
    if (length === 0) return;
    let tail = this.tail;
    if (tail === null || tail.length < length) tail = this.tail = new Uint8Array(Math.max(64, length));
    tail.set(u8.subarray(from, to));
  }

  /**
   * Keeps the last min(2^windowBits, `available`) bytes before `end` in linear memory, the
   * last of which are `last` (the output buffer just handed out).
   */
  private keepHistory(u8: Uint8Array, end: number, available: number, last: Buffer): void {
    const length = Math.min(this.windowSize, available);
    if (this.completesInThisCall && last.length >= length) {
      // The caller keeps `last` untouched until the message ends (within its call): no copy.
      this.history = last.subarray(last.length - length);
      return;
    }
    const store = this.historyStoreFor(length);
    store.set(u8.subarray(end - length, end));
    this.history = store.subarray(0, length);
  }

  /**
   * The history's own buffer, holding at least `length` bytes. It grows as needed rather than
   * to the whole window at once: a connection that received one small message keeps only that
   * much. Every caller overwrites it from the start, so growing copies nothing.
   */
  private historyStoreFor(length: number): Uint8Array {
    const store = this.historyStore;
    if (store !== null && store.length >= length) return store;
    return (this.historyStore = new Uint8Array(Math.min(this.windowSize, Math.max(length, 2 * (store?.length ?? 0)))));
  }
}
