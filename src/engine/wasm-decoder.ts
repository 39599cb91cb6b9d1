/**
 * The `wasm` engine's decoder: the twin of `FrameDecoder` (src/protocol/frame-decoder.ts),
 * with the per-byte work done by `decodeFrames` in WebAssembly.
 *
 * The data path of one chunk:
 * 1. the chunk is copied into the window in linear memory (after the few bytes of a header
 *    that began in the previous chunk): copy 1;
 * 2. one `decodeFrames` call reads every frame header in it, unmasks every payload in place,
 *    checks uncompressed text as UTF-8 (long multi-byte pieces: their edges; the middle is
 *    left to `buffer.isUtf8`) and enforces the size limit, writing one descriptor per frame piece;
 * 3. the unmasked bytes are copied back over the chunk, which the codec owns: copy 2;
 * 4. the descriptors become events whose payloads are views of the chunk, as in the js
 *    engine: no allocation per payload beyond the view.
 * Compressed payloads are inflated from the chunk by the WASM inflater (wasm-inflater.ts), on
 * an instance of the module of its own; it accepts and refuses exactly what the js engine's pako-based inflater does.
 *
 * Connections share the kernel's state block: a decode call writes this connection's state
 * into it and reads it back at the end. Chunks larger than the window are decoded in windows.
 */

import { isUtf8 } from 'node:buffer';
import type { DecodeResult, DeflateParams, InboundEvent, MessageOpcode, ProtocolViolation } from '../protocol/codec.js';
import { CloseCode, Opcode } from '../protocol/constants.js';
import type { MessageInflating } from '../protocol/message-inflater.js';
import { INFLATE_TOO_BIG } from '../protocol/permessage-deflate.js';
import {
  CLOSE_INVALID_CODE,
  CLOSE_ONE_BYTE,
  ENTRY_SIZE,
  ERR_CONTINUATION_WITHOUT_MESSAGE,
  ERR_CONTROL_FRAGMENTED,
  ERR_CONTROL_TOO_LONG,
  ERR_FRAME_TOO_BIG,
  ERR_INVALID_UTF8,
  ERR_LENGTH_TOP_BIT,
  ERR_MESSAGE_NOT_ENDED,
  ERR_MESSAGE_TOO_BIG,
  ERR_RESERVED_OPCODE,
  ERR_RSV1_CONTINUATION,
  ERR_RSV1_CONTROL,
  ERR_RSV1_WITHOUT_EXTENSION,
  ERR_RSV23,
  ERR_UNMASKED,
  ERR_UTF8_TRUNCATED,
  F_COMPLETES_IN_CALL,
  F_COMPRESSED,
  F_FIN,
  F_FRAME_END,
  F_FRAME_START,
  F_UTF8_DEFERRED,
  MESSAGE_OPCODE_SHIFT,
  OPCODE_SHIFT,
  PHASE_HEADER,
  S_B0,
  S_DEFER_FROM,
  S_DEFLATE,
  S_MASK,
  S_MAX_MESSAGE,
  S_MESSAGE_SIZE,
  S_MSG_COMPRESSED,
  S_MSG_OPCODE,
  S_PHASE,
  S_POS,
  S_REMAINING,
  S_STOP,
  S_UTF8,
  STOP_PARTIAL_HEADER,
  STOP_TABLE_FULL,
  TAIL_SHIFT,
  TYPE_ERROR,
  TYPE_MASK,
} from './wasm-layout.js';
import { TABLE_CAPACITY, type WasmRuntime, wasmRuntime } from './wasm-module.js';
import { WasmMessageInflater } from './wasm-inflater.js';
import { UTF8_DEFER_FROM, WasmUtf8Stream, copyIn } from './wasm-utf8.js';

/** Settings of a {@link WasmFrameDecoder} (those of `FrameDecoder`). */
export interface WasmFrameDecoderOptions {
  readonly maxMessageSize: number;
  readonly deflate: DeflateParams | null;
}

const EMPTY_PAYLOAD = Buffer.alloc(0);
/** From this payload size on, a frame spanning chunks is gathered in a buffer of its own. */
const LARGE_FRAME = 256 * 1024;
/** What a large frame's buffer may start at whatever has arrived (see takeLargePiece). */
const FRAME_BUFFER_FLOOR = 1024 * 1024;
/** Largest partial header carried to the next chunk (a 14-byte header minus one). */
const MAX_CARRY = 13;

function violation(code: number, reason: string): ProtocolViolation {
  return { code, reason };
}

const INVALID_UTF8 = violation(CloseCode.InvalidPayload, 'Invalid UTF-8 in a text message');
const UTF8_TRUNCATED = violation(CloseCode.InvalidPayload, 'Text message ends inside a UTF-8 sequence');

/** The violation a kernel error id stands for (the js engine's codes and reasons). */
function kernelViolation(id: number, arg: number): ProtocolViolation {
  switch (id) {
    case ERR_RSV23:
      return violation(CloseCode.ProtocolError, 'RSV2 and RSV3 must be clear');
    case ERR_UNMASKED:
      return violation(CloseCode.ProtocolError, 'Client frames must be masked');
    case ERR_RESERVED_OPCODE:
      return violation(CloseCode.ProtocolError, `Reserved opcode ${arg}`);
    case ERR_CONTROL_FRAGMENTED:
      return violation(CloseCode.ProtocolError, 'Control frames must not be fragmented');
    case ERR_CONTROL_TOO_LONG:
      return violation(CloseCode.ProtocolError, 'Control frame payload over 125 bytes');
    case ERR_RSV1_CONTROL:
      return violation(CloseCode.ProtocolError, 'RSV1 set on a control frame');
    case ERR_CONTINUATION_WITHOUT_MESSAGE:
      return violation(CloseCode.ProtocolError, 'Continuation frame without a message to continue');
    case ERR_RSV1_CONTINUATION:
      return violation(CloseCode.ProtocolError, 'RSV1 set on a continuation frame');
    case ERR_MESSAGE_NOT_ENDED:
      return violation(CloseCode.ProtocolError, 'New message before the previous one ended');
    case ERR_RSV1_WITHOUT_EXTENSION:
      return violation(CloseCode.ProtocolError, 'RSV1 set without a negotiated extension');
    case ERR_LENGTH_TOP_BIT:
      return violation(CloseCode.ProtocolError, '64-bit payload length with the top bit set');
    case ERR_FRAME_TOO_BIG:
      return violation(CloseCode.MessageTooBig, 'Frame too big');
    case ERR_MESSAGE_TOO_BIG:
      return violation(CloseCode.MessageTooBig, 'Message too big');
    case ERR_INVALID_UTF8:
      return INVALID_UTF8;
    case ERR_UTF8_TRUNCATED:
      return UTF8_TRUNCATED;
    default:
      return violation(CloseCode.InternalError, `Decoder error ${id}`);
  }
}

// Word indexes into the state block, relative to its start.
const W_PHASE = S_PHASE >> 2;
const W_B0 = S_B0 >> 2;
const W_MASK = S_MASK >> 2;
const W_MSG_OPCODE = S_MSG_OPCODE >> 2;
const W_MSG_COMPRESSED = S_MSG_COMPRESSED >> 2;
const W_UTF8 = S_UTF8 >> 2;
const W_DEFLATE = S_DEFLATE >> 2;
const W_DEFER_FROM = S_DEFER_FROM >> 2;
const W_STOP = S_STOP >> 2;
const W_POS = S_POS >> 2;
const D_REMAINING = S_REMAINING >> 3;
const D_MESSAGE_SIZE = S_MESSAGE_SIZE >> 3;
const D_MAX_MESSAGE = S_MAX_MESSAGE >> 3;
const ENTRY_WORDS = ENTRY_SIZE >> 2;

/**
 * Turns the bytes a client sends into {@link InboundEvent}s with the WASM kernels; one
 * instance per connection. Same events, same payload bytes and same violations as `FrameDecoder`.
 */
export class WasmFrameDecoder {
  private readonly rt: WasmRuntime;
  private readonly maxMessageSize: number;
  private readonly deflateNegotiated: boolean;
  private readonly inflater: MessageInflating | null;
  private inflatedUtf8: WasmUtf8Stream | null = null;
  private finished = false;

  // The kernel's state between calls (see assembly/frames.ts).
  private phase = PHASE_HEADER;
  private b0 = 0;
  private mask = 0;
  private msgOpcode = 0;
  private msgCompressed = 0;
  private utf8 = 0;
  private remaining = 0;
  private messageSize = 0;
  /** A header split across chunks: its first bytes, until the next chunk completes it. */
  private carry: Uint8Array | null = null;
  private carryLength = 0;

  /** The frame's payload so far: views of chunks, or inflated bytes. */
  private readonly pieces: Buffer[] = [];
  private piecesLength = 0;
  /** The last piece is `lastChunk[lastStart, lastEnd)`: a piece right after it extends it. */
  private lastChunk: Buffer | null = null;
  private lastStart = 0;
  private lastEnd = 0;
  /** Bytes the open compressed message inflated to so far. */
  private inflatedSize = 0;
  /**
   * A large uncompressed frame spanning chunks is gathered here: windows that hold nothing but
   * its payload are copied from linear memory straight into it (no copy back into the chunk,
   * no concatenation at the end).
   */
  private frameBuffer: Buffer | null = null;
  private frameFilled = 0;
  /** The frame's announced payload length: what {@link frameBuffer} may grow to. */
  private frameTotal = 0;

  constructor(options: WasmFrameDecoderOptions, rt: WasmRuntime = wasmRuntime()) {
    this.rt = rt;
    this.maxMessageSize = options.maxMessageSize > 0 ? options.maxMessageSize : Infinity;
    const deflate = options.deflate;
    this.deflateNegotiated = deflate !== null;
    this.inflater = deflate === null ? null : new WasmMessageInflater(deflate.clientMaxWindowBits, deflate.clientNoContextTakeover);
  }

  /** True once a close frame or a violation ended decoding. */
  get finishedDecoding(): boolean {
    return this.finished;
  }

  /**
   * Decodes the next bytes from the client. Takes ownership of `chunk` (unmasks it in place;
   * events may be views of it).
   */
  decode(chunk: Buffer): DecodeResult {
    const events: InboundEvent[] = [];
    if (this.finished) return { events, error: null };
    const total = chunk.length;
    if (total === 0) return { events, error: null };
    const rt = this.rt;
    const capacity = rt.ensureWindow(total);
    const kernels = rt.kernels;
    const window = rt.window;
    this.storeState();

    let error: ProtocolViolation | null = null;
    let chunkPos = 0;
    windows: for (;;) {
      const windowLength = Math.min(total - chunkPos, capacity);
      copyIn(rt, chunk, chunkPos, chunkPos + windowLength, window);
      let start = window;
      if (this.carryLength !== 0) {
        start -= this.carryLength;
        rt.u8.set(this.carry!.subarray(0, this.carryLength), start);
        this.carryLength = 0;
      }
      const end = window + windowLength;
      const after = total - chunkPos - windowLength;
      const delta = chunkPos - window; // chunk index = linear memory address + delta
      for (;;) {
        const entries = kernels.decodeFrames(rt.state, rt.table, TABLE_CAPACITY, start, end, after);
        const i32 = rt.i32;
        const stateWord = rt.state >> 2;
        const stop = i32[stateWord + W_STOP];
        const pos = i32[stateWord + W_POS];
        const from = start > window ? start : window;
        if (entries === 1 && this.takeLargePiece(from, pos, after)) {
          error = this.largePieceResult;
        } else {
          if (pos > from) copyOut(rt, from, pos, chunk, from + delta);
          error = this.process(events, chunk, entries, delta);
        }
        if (this.largePieceEvent !== null) {
          events.push(this.largePieceEvent);
          this.largePieceEvent = null;
        }
        if (error !== null || this.finished) break windows;
        if (stop === STOP_TABLE_FULL) {
          start = pos;
          continue;
        }
        if (stop === STOP_PARTIAL_HEADER) {
          if (after > 0) {
            chunkPos = pos + delta; // the window ended inside a header: the next one starts with it
            continue windows;
          }
          const carry = (this.carry ??= new Uint8Array(MAX_CARRY));
          this.carryLength = end - pos;
          carry.set(rt.u8.subarray(pos, end));
        }
        break;
      }
      chunkPos += windowLength;
      if (chunkPos >= total) break;
    }
    this.loadState();
    return error === null ? { events, error: null } : this.fail(events, error);
  }

  private largePieceResult: ProtocolViolation | null = null;
  private largePieceEvent: InboundEvent | null = null;

  /**
   * The window `[from, pos)` is one piece of an uncompressed data frame that is large and ends
   * in a later chunk (`after`: bytes of this chunk beyond the window): copy it from linear memory
   * into the frame's own buffer. Returns false (and does nothing) when the window is anything else.
   */
  private takeLargePiece(from: number, pos: number, after: number): boolean {
    const i32 = this.rt.i32;
    const k = this.rt.table >> 2;
    const w0 = i32[k];
    if ((w0 & TYPE_MASK) === TYPE_ERROR || (w0 & (F_COMPRESSED | F_FRAME_START)) !== 0) return false;
    const opcode = (w0 >>> OPCODE_SHIFT) & 0x0f;
    const length = i32[k + 2];
    if (opcode >= Opcode.Close || i32[k + 1] !== from || from + length !== pos) return false;
    let buffer = this.frameBuffer;
    if (buffer === null) {
      const remaining = this.rt.f64[(this.rt.state >> 3) + D_REMAINING];
      // A frame that ends within this chunk stays a view of it: no buffer, no extra copy.
      if (remaining <= after) return false;
      const total = this.piecesLength + length + remaining;
      if (total < LARGE_FRAME) return false;
      // The announced length is the client's word: the buffer holds at most 4× what has
      // arrived (or 1 MiB, so that frames up to 1 MiB take one buffer and no regrowth) and
      // grows with it, so a header announcing 100 MiB costs ~1 MiB, not 100.
      buffer = Buffer.allocUnsafe(Math.min(total, Math.max(FRAME_BUFFER_FLOOR, 4 * (this.piecesLength + length))));
      let at = 0;
      for (const piece of this.pieces) at += piece.copy(buffer, at);
      this.clearPieces();
      this.frameBuffer = buffer;
      this.frameFilled = at;
      this.frameTotal = total;
    }
    buffer = this.reserveFrame(length);
    const at = this.frameFilled;
    copyOut(this.rt, from, pos, buffer, at);
    this.frameFilled = at + length;
    this.largePieceResult = null;
    if ((w0 & F_UTF8_DEFERRED) !== 0 && !isUtf8(buffer.subarray(at + i32[k + 3], at + length - ((w0 >>> TAIL_SHIFT) & 3)))) {
      this.largePieceResult = INVALID_UTF8;
      return true;
    }
    if ((w0 & F_FRAME_END) !== 0) {
      const messageOpcode = ((w0 >>> MESSAGE_OPCODE_SHIFT) & 3) as MessageOpcode;
      this.largePieceEvent = { kind: 'data', opcode: messageOpcode, payload: this.takePayload(), first: opcode !== Opcode.Continuation, fin: (w0 & F_FIN) !== 0 };
    }
    return true;
  }

  /** Releases the inflate context. */
  dispose(): void {
    this.finished = true;
    this.clearPieces();
    this.inflater?.dispose();
  }

  /**
   * Between messages: no header or frame half-read, no data message open. The decoder's whole
   * state is then its inflate history ({@link inflateWindow}), so another decoder (on another
   * thread) can take over the stream.
   */
  get atMessageBoundary(): boolean {
    return this.phase === PHASE_HEADER && this.carryLength === 0 && this.msgOpcode === 0;
  }

  /**
   * No frame is half-read (or decoding ended): nothing the decoder keeps refers to the chunks
   * it was given, so the caller may reuse or hand them on.
   */
  get betweenFrames(): boolean {
    return this.phase === PHASE_HEADER || this.finished;
  }

  /** With client context takeover, between messages: the inflate history (see `MessageInflating.window`). */
  inflateWindow(): Uint8Array | null {
    return this.inflater?.window() ?? null;
  }

  /** Continues a stream whose inflate history is `history` (see `MessageInflating.presetWindow`). */
  presetInflateWindow(history: Uint8Array): void {
    this.inflater?.presetWindow(history);
  }

  /** Writes this connection's kernel state into the shared state block. */
  private storeState(): void {
    const rt = this.rt;
    const i32 = rt.i32;
    const w = rt.state >> 2;
    const d = rt.state >> 3;
    i32[w + W_PHASE] = this.phase;
    i32[w + W_B0] = this.b0;
    i32[w + W_MASK] = this.mask;
    i32[w + W_MSG_OPCODE] = this.msgOpcode;
    i32[w + W_MSG_COMPRESSED] = this.msgCompressed;
    i32[w + W_UTF8] = this.utf8;
    i32[w + W_DEFLATE] = this.deflateNegotiated ? 1 : 0;
    i32[w + W_DEFER_FROM] = UTF8_DEFER_FROM;
    const f64 = rt.f64;
    f64[d + D_REMAINING] = this.remaining;
    f64[d + D_MESSAGE_SIZE] = this.messageSize;
    f64[d + D_MAX_MESSAGE] = this.maxMessageSize === Infinity ? 0 : this.maxMessageSize;
  }

  /** Reads the kernel state back after a decode call. */
  private loadState(): void {
    const rt = this.rt;
    const i32 = rt.i32;
    const w = rt.state >> 2;
    const d = rt.state >> 3;
    this.phase = i32[w + W_PHASE];
    this.b0 = i32[w + W_B0];
    this.mask = i32[w + W_MASK];
    this.msgOpcode = i32[w + W_MSG_OPCODE];
    this.msgCompressed = i32[w + W_MSG_COMPRESSED];
    this.utf8 = i32[w + W_UTF8];
    const f64 = rt.f64;
    this.remaining = f64[d + D_REMAINING];
    this.messageSize = f64[d + D_MESSAGE_SIZE];
  }

  /** Acts on the `count` descriptors of the last kernel call. */
  private process(events: InboundEvent[], chunk: Buffer, count: number, delta: number): ProtocolViolation | null {
    const i32 = this.rt.i32;
    let k = this.rt.table >> 2;
    for (let e = 0; e < count; e++, k += ENTRY_WORDS) {
      const w0 = i32[k];
      if ((w0 & TYPE_MASK) === TYPE_ERROR) return kernelViolation(i32[k + 3], i32[k + 1]);
      const opcode = (w0 >>> OPCODE_SHIFT) & 0x0f;
      const length = i32[k + 2];
      const start = i32[k + 1] + delta;
      if (opcode < Opcode.Close && (w0 & F_COMPRESSED) !== 0) {
        if ((w0 & F_FRAME_START) !== 0 && opcode !== Opcode.Continuation) this.beginCompressedMessage(w0);
        if (length > 0) {
          const first = this.pieces.length;
          const limit = this.maxMessageSize - this.inflatedSize;
          const invalid = this.acceptInflated(w0, first, this.inflater!.write(chunk, start, start + length, limit, this.pieces));
          if (invalid !== null) return invalid;
        }
      } else if (length > 0) {
        if (
          (w0 & F_UTF8_DEFERRED) !== 0 &&
          !isUtf8(chunk.subarray(start + i32[k + 3], start + length - ((w0 >>> TAIL_SHIFT) & 3)))
        ) {
          return INVALID_UTF8;
        }
        this.addPiece(chunk, start, start + length);
      }
      if ((w0 & F_FRAME_END) !== 0) {
        const invalid = opcode >= Opcode.Close ? this.endControlFrame(opcode, events) : this.endDataFrame(w0, opcode, events);
        if (invalid !== null) return invalid;
      }
    }
    return null;
  }

  private beginCompressedMessage(w0: number): void {
    this.inflatedSize = 0;
    if (((w0 >>> MESSAGE_OPCODE_SHIFT) & 3) === Opcode.Text) (this.inflatedUtf8 ??= new WasmUtf8Stream(this.rt)).reset();
    // A one-frame message already here inflates within this call: it may borrow a shared context.
    this.inflater!.begin((w0 & F_FIN) !== 0 && (w0 & F_COMPLETES_IN_CALL) !== 0);
  }

  /** Accounts for inflated pieces `pieces[first..]` (or the inflater's failure). */
  private acceptInflated(w0: number, first: number, produced: number): ProtocolViolation | null {
    if (produced < 0) {
      return produced === INFLATE_TOO_BIG
        ? violation(CloseCode.MessageTooBig, 'Message too big')
        : violation(CloseCode.InvalidPayload, 'Invalid compressed data');
    }
    this.inflatedSize += produced;
    this.piecesLength += produced;
    if (((w0 >>> MESSAGE_OPCODE_SHIFT) & 3) === Opcode.Text) {
      const utf8 = this.inflatedUtf8!;
      for (let i = first; i < this.pieces.length; i++) {
        if (!utf8.push(this.pieces[i])) return INVALID_UTF8;
      }
    }
    return null;
  }

  private endDataFrame(w0: number, opcode: number, events: InboundEvent[]): ProtocolViolation | null {
    const fin = (w0 & F_FIN) !== 0;
    const messageOpcode = ((w0 >>> MESSAGE_OPCODE_SHIFT) & 3) as MessageOpcode;
    if (fin && (w0 & F_COMPRESSED) !== 0) {
      const first = this.pieces.length;
      const invalid = this.acceptInflated(w0, first, this.inflater!.finish(this.maxMessageSize - this.inflatedSize, this.pieces));
      if (invalid !== null) return invalid;
      if (messageOpcode === Opcode.Text && !this.inflatedUtf8!.complete) return UTF8_TRUNCATED;
    }
    events.push({ kind: 'data', opcode: messageOpcode, payload: this.takePayload(), first: opcode !== Opcode.Continuation, fin });
    return null;
  }

  private endControlFrame(opcode: number, events: InboundEvent[]): ProtocolViolation | null {
    const payload = this.takePayload();
    if (opcode !== Opcode.Close) {
      events.push({ kind: opcode === Opcode.Ping ? 'ping' : 'pong', payload });
      return null;
    }
    // A close frame: 1005 when empty, else a valid code and a UTF-8 reason (RFC 6455 5.5.1, 7.4).
    const rt = this.rt;
    copyIn(rt, payload, 0, payload.length, rt.aux);
    const code = rt.kernels.checkClosePayload(rt.aux, payload.length, rt.closeScratch);
    if (code < 0) {
      if (code === CLOSE_ONE_BYTE) return violation(CloseCode.ProtocolError, 'Close frame with a 1-byte payload');
      if (code === CLOSE_INVALID_CODE) return violation(CloseCode.ProtocolError, `Invalid close code ${(payload[0] << 8) | payload[1]}`);
      return violation(CloseCode.InvalidPayload, 'Close reason is not valid UTF-8');
    }
    events.push({ kind: 'close', code, reason: payload.length >= 2 ? payload.toString('utf8', 2) : '' });
    this.finished = true;
    this.inflater?.abort();
    return null;
  }

  /** Appends `chunk[start, end)` to the frame's payload (extending the last piece when it is adjacent). */
  private addPiece(chunk: Buffer, start: number, end: number): void {
    if (this.frameBuffer !== null) {
      this.frameFilled += chunk.copy(this.reserveFrame(end - start), this.frameFilled, start, end);
      return;
    }
    const pieces = this.pieces;
    if (this.lastChunk === chunk && this.lastEnd === start) {
      pieces[pieces.length - 1] = chunk.subarray(this.lastStart, end);
    } else {
      pieces.push(chunk.subarray(start, end));
      this.lastChunk = chunk;
      this.lastStart = start;
    }
    this.lastEnd = end;
    this.piecesLength += end - start;
  }

  /** Makes the frame buffer hold `more` bytes after those filled (growing 4× at a time, up to the frame). */
  private reserveFrame(more: number): Buffer {
    const buffer = this.frameBuffer!;
    const needed = this.frameFilled + more;
    if (needed <= buffer.length) return buffer;
    const grown = Buffer.allocUnsafe(Math.min(this.frameTotal, Math.max(needed, 4 * buffer.length)));
    buffer.copy(grown, 0, 0, this.frameFilled);
    this.frameBuffer = grown;
    return grown;
  }

  /** The frame's payload as one buffer (a view of the chunk when it came in one piece). */
  private takePayload(): Buffer {
    const frame = this.frameBuffer;
    if (frame !== null) {
      const filled = this.frameFilled;
      this.frameBuffer = null;
      this.frameFilled = 0;
      return filled === frame.length ? frame : frame.subarray(0, filled);
    }
    const pieces = this.pieces;
    const payload =
      pieces.length === 1 ? pieces[0] : pieces.length === 0 ? EMPTY_PAYLOAD : Buffer.concat(pieces, this.piecesLength);
    this.clearPieces();
    return payload;
  }

  private clearPieces(): void {
    const pieces = this.pieces;
    if (pieces.length === 1) pieces.pop(); // cheaper than setting the length
    else if (pieces.length !== 0) pieces.length = 0;
    this.piecesLength = 0;
    this.lastChunk = null;
    this.frameBuffer = null;
    this.frameFilled = 0;
  }

  private fail(events: InboundEvent[], error: ProtocolViolation): DecodeResult {
    this.finished = true;
    this.clearPieces();
    this.inflater?.abort();
    return { events, error };
  }
}

/** Copies linear memory `[from, to)` into `target` at `at`. */
function copyOut(rt: WasmRuntime, from: number, to: number, target: Uint8Array, at: number): void {
  if (from === rt.window) target.set(rt.windowView(to - from), at);
  else target.set(rt.u8.subarray(from, to), at);
}
