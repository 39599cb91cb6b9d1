// Decoding of client frames (RFC 6455 5.2): every frame in a region of linear memory in one
// call, each payload unmasked in place and (uncompressed text) UTF-8 checked in the same pass.
// The twin of src/protocol/frame-decoder.ts: the same checks in the same order, so the same
// first violation. What the kernel leaves to TypeScript: inflating compressed payloads, close
// frame payloads (see close.ts), building events.
//
// The layout constants below are mirrored in src/engine/wasm-layout.ts.

import { rotateMask, xorMask } from './unmask';
import { UTF8_DEFERRED, utf8Piece } from './utf8';

// The per-connection state block (byte offsets). The TypeScript side writes it before a call
// and reads it back after: connections share one block, so idle ones cost no linear memory.
export const S_PHASE: usize = 0; // i32: PHASE_*
export const S_B0: usize = 4; // u32: first header byte of the frame being read
export const S_MASK: usize = 8; // u32: its mask, rotated so the low byte applies to the next payload byte
export const S_MSG_OPCODE: usize = 12; // u32: opcode of the open data message, 0 when none
export const S_MSG_COMPRESSED: usize = 16; // u32: the open message has RSV1 (permessage-deflate)
export const S_UTF8: usize = 20; // u32 UTF-8 state, then u32 head and u32 tail of a deferred piece
export const S_DEFLATE: usize = 32; // u32: permessage-deflate was negotiated
export const S_DEFER_FROM: usize = 36; // u32: text pieces this long leave their middle to the caller
export const S_STOP: usize = 40; // i32: why the last call stopped (STOP_*)
export const S_POS: usize = 44; // u32: where it stopped
export const S_REMAINING: usize = 48; // f64: payload bytes of the current frame still to come
export const S_MESSAGE_SIZE: usize = 56; // f64: declared bytes of the open uncompressed message
export const S_MAX_MESSAGE: usize = 64; // f64: largest message, 0 = no limit
export const STATE_SIZE: usize = 96;

export const PHASE_HEADER: i32 = 0;
export const PHASE_PAYLOAD: i32 = 1;
export const PHASE_FINISHED: i32 = 2;

/** All input was consumed (the last frame may go on in the next chunk). */
export const STOP_END: i32 = 0;
/** A frame header starts at `S_POS` and is not complete: carry those bytes to the next call. */
export const STOP_PARTIAL_HEADER: i32 = 1;
/** The descriptor table is full: call again from `S_POS`. */
export const STOP_TABLE_FULL: i32 = 2;
/** A close frame or a violation ended decoding. */
export const STOP_FINISHED: i32 = 3;

// Descriptor table: ENTRY_SIZE bytes per entry, four u32 words.
//   PIECE: flags, payload pointer, payload length (this call's part of it), and for a text
//          piece with F_UTF8_DEFERRED the offset in it where the unchecked middle starts
//   ERROR: TYPE_ERROR, argument (an opcode), 0, error id (ERR_*)
export const ENTRY_SIZE: usize = 16;
export const TYPE_PIECE: u32 = 1;
export const TYPE_ERROR: u32 = 2;
// PIECE flags (frame opcode in bits 4-7, message opcode in bits 20-21, and in bits 16-17 the
// size of the unchecked-by-the-caller tail of a deferred text piece).
export const F_FIN: u32 = 1 << 8;
export const F_COMPRESSED: u32 = 1 << 9; // the message the frame belongs to is compressed
export const F_FRAME_START: u32 = 1 << 10; // the header was read in this call
export const F_FRAME_END: u32 = 1 << 11; // the payload is complete
export const F_COMPLETES_IN_CALL: u32 = 1 << 12; // (frame start) the whole payload is in this decode call
export const F_UTF8_DEFERRED: u32 = 1 << 13; // [word 3, length - tail) of this text piece is for the caller to validate

export const ERR_RSV23: u32 = 1;
export const ERR_UNMASKED: u32 = 2;
export const ERR_RESERVED_OPCODE: u32 = 3;
export const ERR_CONTROL_FRAGMENTED: u32 = 4;
export const ERR_CONTROL_TOO_LONG: u32 = 5;
export const ERR_RSV1_CONTROL: u32 = 6;
export const ERR_CONTINUATION_WITHOUT_MESSAGE: u32 = 7;
export const ERR_RSV1_CONTINUATION: u32 = 8;
export const ERR_MESSAGE_NOT_ENDED: u32 = 9;
export const ERR_RSV1_WITHOUT_EXTENSION: u32 = 10;
export const ERR_LENGTH_TOP_BIT: u32 = 11;
export const ERR_FRAME_TOO_BIG: u32 = 12;
export const ERR_MESSAGE_TOO_BIG: u32 = 13;
export const ERR_INVALID_UTF8: u32 = 14;
export const ERR_UTF8_TRUNCATED: u32 = 15;

const OP_CONTINUATION: u32 = 0x0;
const OP_TEXT: u32 = 0x1;
const OP_BINARY: u32 = 0x2;
const OP_CLOSE: u32 = 0x8;
const OP_PONG: u32 = 0xa;
const MAX_CONTROL_PAYLOAD: u32 = 125;
/** Declared lengths at or above 2^53 cannot even be counted: too big whatever the limit. */
const MAX_SAFE_HIGH_WORD: u32 = 0x1fffff;

/** The rules the first two header bytes decide: an ERR_* id, or 0 when they are fine. */
// @ts-ignore: decorator
@inline
function checkFrameStart(b0: u32, b1: u32, msgOpcode: u32, deflate: u32): u32 {
  const opcode = b0 & 0x0f;
  if ((b0 & 0x30) != 0) return ERR_RSV23;
  if ((b1 & 0x80) == 0) return ERR_UNMASKED;
  if (opcode >= OP_CLOSE) {
    if (opcode > OP_PONG) return ERR_RESERVED_OPCODE;
    if ((b0 & 0x80) == 0) return ERR_CONTROL_FRAGMENTED;
    if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) return ERR_CONTROL_TOO_LONG;
    if ((b0 & 0x40) != 0) return ERR_RSV1_CONTROL;
    return 0;
  }
  if (opcode == OP_CONTINUATION) {
    if (msgOpcode == 0) return ERR_CONTINUATION_WITHOUT_MESSAGE;
    if ((b0 & 0x40) != 0) return ERR_RSV1_CONTINUATION;
    return 0;
  }
  if (opcode > OP_BINARY) return ERR_RESERVED_OPCODE;
  if (msgOpcode != 0) return ERR_MESSAGE_NOT_ENDED;
  if ((b0 & 0x40) != 0 && deflate == 0) return ERR_RSV1_WITHOUT_EXTENSION;
  return 0;
}

// @ts-ignore: decorator
@inline
function writeEntry(table: usize, n: u32, w0: u32, w1: u32, w2: u32, w3: u32): void {
  const e = table + <usize>n * ENTRY_SIZE;
  store<u32>(e, w0);
  store<u32>(e, w1, 4);
  store<u32>(e, w2, 8);
  store<u32>(e, w3, 12);
}

/**
 * Decodes the client frames in `[start, end)` of linear memory, continuing the connection
 * state at `state`, and describes them in `table` (at most `capacity` entries, at least 2).
 * Payloads are unmasked in place. `after` is how many more bytes of the same decode call
 * follow `end` (they only decide F_COMPLETES_IN_CALL). Returns the number of entries; the
 * state block says where and why the call stopped.
 */
export function decodeFrames(state: usize, table: usize, capacity: u32, start: usize, end: usize, after: f64): u32 {
  let phase = load<i32>(state, S_PHASE);
  let n: u32 = 0;
  let p = start;
  if (phase == PHASE_FINISHED) {
    store<i32>(state, STOP_FINISHED, S_STOP);
    store<u32>(state, <u32>p, S_POS);
    return 0;
  }
  let b0 = load<u32>(state, S_B0);
  let mask = load<u32>(state, S_MASK);
  let msgOpcode = load<u32>(state, S_MSG_OPCODE);
  let compressed = load<u32>(state, S_MSG_COMPRESSED);
  let remaining = <u64>load<f64>(state, S_REMAINING);
  let messageSize = load<f64>(state, S_MESSAGE_SIZE);
  const maxMessage = load<f64>(state, S_MAX_MESSAGE);
  const deflate = load<u32>(state, S_DEFLATE);
  const deferFrom = <usize>load<u32>(state, S_DEFER_FROM);
  const utf8State = state + S_UTF8;
  let stop = STOP_END;

  while (true) {
    if (n + 2 > capacity) {
      stop = STOP_TABLE_FULL;
      break;
    }
    let flags: u32 = 0;
    if (phase == PHASE_HEADER) {
      const available = end - p;
      if (available < 2) {
        if (available != 0) stop = STOP_PARTIAL_HEADER;
        break;
      }
      const h0 = <u32>load<u8>(p);
      const b1 = <u32>load<u8>(p, 1);
      const invalid = checkFrameStart(h0, b1, msgOpcode, deflate);
      if (invalid != 0) {
        writeEntry(table, n++, TYPE_ERROR, h0 & 0x0f, 0, invalid);
        phase = PHASE_FINISHED;
        stop = STOP_FINISHED;
        break;
      }
      const length7 = b1 & 0x7f;
      const headerSize: usize = (length7 < 126 ? 2 : length7 == 126 ? 4 : 10) + 4;
      if (available < headerSize) {
        stop = STOP_PARTIAL_HEADER;
        break;
      }
      let q = p + 2;
      let length: u64 = length7;
      if (length7 == 126) {
        length = bswap<u16>(load<u16>(q));
        q += 2;
      } else if (length7 == 127) {
        const high = bswap<u32>(load<u32>(q));
        const low = bswap<u32>(load<u32>(q, 4));
        if (high >= 0x80000000 || high > MAX_SAFE_HIGH_WORD) {
          writeEntry(table, n++, TYPE_ERROR, 0, 0, high >= 0x80000000 ? ERR_LENGTH_TOP_BIT : ERR_FRAME_TOO_BIG);
          phase = PHASE_FINISHED;
          stop = STOP_FINISHED;
          break;
        }
        length = (<u64>high << 32) | <u64>low;
        q += 8;
      }
      b0 = h0;
      mask = load<u32>(q);
      q += 4;
      const opcode = h0 & 0x0f;
      if (opcode < OP_CLOSE) {
        if (opcode != OP_CONTINUATION) {
          msgOpcode = opcode;
          compressed = (h0 >>> 6) & 1;
          messageSize = 0;
          store<u32>(utf8State, 0);
        }
        if (compressed == 0) {
          // Refused on sight, before a byte of it is buffered. (Compressed: bounded while inflating.)
          if (maxMessage != 0 && <f64>length > maxMessage - messageSize) {
            writeEntry(table, n++, TYPE_ERROR, 0, 0, ERR_MESSAGE_TOO_BIG);
            phase = PHASE_FINISHED;
            stop = STOP_FINISHED;
            break;
          }
          messageSize += <f64>length;
        }
      }
      p = q;
      remaining = length;
      phase = PHASE_PAYLOAD;
      flags = F_FRAME_START;
      if (<f64>length <= <f64>(end - p) + after) flags |= F_COMPLETES_IN_CALL;
    }

    // PHASE_PAYLOAD
    const opcode = b0 & 0x0f;
    const available = <u64>(end - p);
    const take = <usize>(remaining < available ? remaining : available);
    let deferredHead: u32 = 0;
    if (take != 0) {
      xorMask(p, take, mask);
      mask = rotateMask(mask, take);
      if (opcode < OP_CLOSE && msgOpcode == OP_TEXT && compressed == 0) {
        // Text is checked piece by piece as it arrives, so a bad byte fails at once.
        const r = utf8Piece(p, take, utf8State, deferFrom);
        if (r >= 0) {
          writeEntry(table, n++, TYPE_ERROR, 0, 0, ERR_INVALID_UTF8);
          phase = PHASE_FINISHED;
          stop = STOP_FINISHED;
          break;
        }
        if (r == UTF8_DEFERRED) {
          flags |= F_UTF8_DEFERRED | (load<u32>(utf8State, 8) << 16);
          deferredHead = load<u32>(utf8State, 4);
        }
      }
    }
    remaining -= <u64>take;
    const fin = b0 & 0x80;
    const w0 = TYPE_PIECE | (opcode << 4) | (fin << 1) | (compressed << 9) | (msgOpcode << 20) | flags;
    if (remaining == 0) {
      if (fin != 0 && opcode < OP_CLOSE && msgOpcode == OP_TEXT && compressed == 0 && (load<u32>(utf8State) & 3) != 0) {
        // The piece stands (its deferred middle is checked first), the frame does not end.
        writeEntry(table, n++, w0, <u32>p, <u32>take, deferredHead);
        writeEntry(table, n++, TYPE_ERROR, 0, 0, ERR_UTF8_TRUNCATED);
        p += take; // unmasked bytes the caller reads (copied back up to S_POS)
        phase = PHASE_FINISHED;
        stop = STOP_FINISHED;
        break;
      }
      writeEntry(table, n++, w0 | F_FRAME_END, <u32>p, <u32>take, deferredHead);
      p += take;
      phase = PHASE_HEADER;
      if (opcode < OP_CLOSE) {
        if (fin != 0) {
          msgOpcode = 0;
          compressed = 0;
        }
      } else if (opcode == OP_CLOSE) {
        phase = PHASE_FINISHED; // a close frame: what follows is ignored
        stop = STOP_FINISHED;
        break;
      }
      continue;
    }
    if (take != 0 || flags != 0) writeEntry(table, n++, w0, <u32>p, <u32>take, deferredHead);
    p += take;
    break; // the rest of the payload comes later
  }

  store<i32>(state, phase, S_PHASE);
  store<u32>(state, b0, S_B0);
  store<u32>(state, mask, S_MASK);
  store<u32>(state, msgOpcode, S_MSG_OPCODE);
  store<u32>(state, compressed, S_MSG_COMPRESSED);
  store<f64>(state, <f64>remaining, S_REMAINING);
  store<f64>(state, messageSize, S_MESSAGE_SIZE);
  store<i32>(state, stop, S_STOP);
  store<u32>(state, <u32>p, S_POS);
  return n;
}
