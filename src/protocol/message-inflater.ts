/**
 * Inflating what a client compressed (RFC 7692 7.2.2): each frame's payload as it arrives,
 * with the message's context, then the 00 00 FF FF the sender removed. The inflated size is
 * bounded while inflating, so a decompression bomb is stopped by the byte that crosses the limit.
 */

import {
  ZStream,
  Z_BUF_ERROR,
  Z_NEED_DICT,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  zlibInflate,
  zlibInflateReset,
  zlibInflateResetKeep,
  zlibInflateSetDictionary,
} from 'pako';
import {
  EMPTY_INPUT,
  SCRATCH_SIZE,
  borrowShared,
  copyScratch,
  newInflateStream,
  scratch,
  type SharedContext,
} from './zlib-contexts.js';
import { inflateHistory, inflaterBetweenBlocks, resetInflaterBetweenBlocks } from './zlib-state.js';

/** The empty stored block's LEN/NLEN that a sync flush ends with (RFC 7692 7.2.1). */
export const DEFLATE_TRAILER: Buffer = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** `MessageInflater.write`/`finish`: the message inflates to more than the limit (close 1009). */
export const INFLATE_TOO_BIG = -1;
/** `MessageInflater.write`/`finish`: the bytes are not valid DEFLATE data (close 1007). */
export const INFLATE_CORRUPT = -2;

/**
 * What inflates the messages a client compressed, one message at a time, frame by frame: the
 * js engine's {@link MessageInflater} (pako) and the WASM engines' `WasmMessageInflater`
 * (src/engine/wasm-inflater.ts). Both accept and refuse the same bytes, produce the same
 * output per {@link write}, and find an error in the same call.
 *
 * Call {@link begin} on the first frame of a compressed message, {@link write} with each piece
 * of its (unmasked) payload as it arrives, and {@link finish} after the last frame.
 */
export interface MessageInflating {
  /**
   * Starts a compressed message.
   *
   * @param completesInThisCall - the whole message will be written and finished before control
   *   returns to the event loop (nothing else touches the pieces written meanwhile)
   */
  begin(completesInThisCall: boolean): void;
  /**
   * Inflates `input[start, end)`, appending what it produces to `out`.
   *
   * @param limit - how many more bytes the message may inflate to (Infinity for no limit)
   * @returns the number of bytes appended, or {@link INFLATE_TOO_BIG} / {@link INFLATE_CORRUPT};
   *   after a negative result the message is abandoned
   */
  write(input: Uint8Array, start: number, end: number, limit: number, out: Buffer[]): number;
  /** Ends the message: inflates the 00 00 FF FF the sender removed (RFC 7692 7.2.2), if needed. */
  finish(limit: number, out: Buffer[]): number;
  /** With context takeover, between messages: the history the next message may refer to, or null. */
  window(): Uint8Array | null;
  /** Between messages: continues a context-takeover stream whose history is `history`. */
  presetWindow(history: Uint8Array): void;
  /** Abandons the message in progress (the connection is failing). */
  abort(): void;
  /** Drops all state; the inflater must not be used afterwards. */
  dispose(): void;
}

/** Inflate contexts lent to messages without context takeover, by window bits. */
const sharedInflaters = new Map<number, SharedContext>();

/**
 * Inflates the messages a client compressed, one message at a time, frame by frame.
 *
 * Call {@link begin} on the first frame of a compressed message, {@link write} with each piece
 * of its (unmasked) payload as it arrives, and {@link finish} after the last frame.
 */
export class MessageInflater implements MessageInflating {
  private readonly windowBits: number;
  private readonly noContextTakeover: boolean;
  /** This connection's own context, built on first need and kept. */
  private own: ZStream | null = null;
  /** The own context was left inside a message, or holds a window it must not keep. */
  private ownDirty = false;
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
      const bits = this.windowBits;
      const shared = borrowShared(sharedInflaters, bits, () => newInflateStream(bits), zlibInflateReset);
      if (shared !== null) {
        this.shared = shared;
        this.strm = shared.strm;
        return;
      }
    }
    if (this.own === null) {
      this.own = newInflateStream(this.windowBits);
    } else if (this.ownDirty) {
      zlibInflateReset(this.own);
    }
    this.ownDirty = true;
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
      // Room for at most one byte past the limit: a bomb is stopped by the byte that crosses it.
      strm.avail_out = Math.min(SCRATCH_SIZE, limit - produced + 1);
      const status = zlibInflate(strm, Z_SYNC_FLUSH);
      if ((status < 0 && status !== Z_BUF_ERROR) || status === Z_NEED_DICT) return this.fail(INFLATE_CORRUPT);
      const length = strm.next_out;
      if (length > 0) {
        produced += length;
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
    strm.input = EMPTY_INPUT;
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
    if (inflaterBetweenBlocks(strm) === true) {
      this.release(true);
      return 0;
    }
    const produced = this.write(DEFLATE_TRAILER, 0, DEFLATE_TRAILER.length, limit, out);
    if (produced < 0) return produced;
    // Still inside a block: the message was cut short, and the stream is unusable.
    if (inflaterBetweenBlocks(strm) === false) return this.fail(INFLATE_CORRUPT);
    this.release(true);
    return produced;
  }

  /**
   * With context takeover, between messages: the history the next message may refer back to
   * (the last bytes inflated, at most the window), or null when there is none. With it as
   * {@link presetWindow}, an inflater elsewhere (another thread) continues the stream exactly.
   */
  window(): Uint8Array | null {
    if (this.noContextTakeover || this.strm !== null || this.own === null || this.ownDirty) return null;
    const history = inflateHistory(this.own);
    return history.length === 0 ? null : history;
  }

  /**
   * Between messages: continues a context-takeover stream whose history is `history` (see
   * {@link window}); an empty history starts the stream afresh.
   */
  presetWindow(history: Uint8Array): void {
    if (this.noContextTakeover) return;
    if (this.strm !== null) throw new Error('MessageInflater.presetWindow() inside a message.');
    if (this.own === null) {
      if (history.length === 0) return;
      this.own = newInflateStream(this.windowBits);
    } else {
      zlibInflateReset(this.own);
    }
    if (history.length > 0 && zlibInflateSetDictionary(this.own, history) !== 0) throw new Error('Cannot preset the inflate window.');
    this.ownDirty = false;
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

  /**
   * Ends the current message. A completed one stands between blocks, where forgetting the
   * window is cheap: done now, so the next message (or borrower) starts clean. An abandoned
   * one leaves its context dirty, for a full reset before any reuse.
   */
  private release(completed: boolean): void {
    const strm = this.strm;
    if (strm === null) return;
    strm.input = EMPTY_INPUT;
    const shared = this.shared;
    if (completed && (this.noContextTakeover || shared !== null)) {
      resetInflaterBetweenBlocks(strm);
      if (shared !== null) shared.clean = true;
      else this.ownDirty = false;
    } else if (completed) {
      this.ownDirty = false; // context takeover: the window is meant to stay
    }
    if (shared !== null) {
      if (!completed) shared.clean = false;
      shared.lent = false;
    }
    this.shared = null;
    this.strm = null;
  }
}
