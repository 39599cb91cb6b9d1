/**
 * The contract between `assembly/frames.ts` and the TypeScript side: offsets in the state
 * block, the descriptor table's format, stop reasons and error ids. Mirrors the constants
 * of the AssemblyScript source (the equivalence tests fail when the two drift apart).
 */

// State block (byte offsets; the block is 8-aligned).
export const S_PHASE = 0;
export const S_B0 = 4;
export const S_MASK = 8;
export const S_MSG_OPCODE = 12;
export const S_MSG_COMPRESSED = 16;
export const S_UTF8 = 20;
export const S_DEFLATE = 32;
export const S_DEFER_FROM = 36;
export const S_STOP = 40;
export const S_POS = 44;
export const S_REMAINING = 48;
export const S_MESSAGE_SIZE = 56;
export const S_MAX_MESSAGE = 64;
export const STATE_SIZE = 96;

export const PHASE_HEADER = 0;
export const PHASE_PAYLOAD = 1;
export const PHASE_FINISHED = 2;

export const STOP_END = 0;
export const STOP_PARTIAL_HEADER = 1;
export const STOP_TABLE_FULL = 2;
export const STOP_FINISHED = 3;

// Descriptor table entries: four 32-bit words. PIECE: flags, payload address, length, and (with
// F_UTF8_DEFERRED) where in the piece the middle the caller validates starts; its end is
// `length - tail`, the tail size in bits TAIL_SHIFT.. of the flags. ERROR: TYPE_ERROR, an
// argument (an opcode), 0, the error id.
export const ENTRY_SIZE = 16;
export const TYPE_MASK = 3;
export const TYPE_PIECE = 1;
export const TYPE_ERROR = 2;
export const F_FIN = 1 << 8;
export const F_COMPRESSED = 1 << 9;
export const F_FRAME_START = 1 << 10;
export const F_FRAME_END = 1 << 11;
export const F_COMPLETES_IN_CALL = 1 << 12;
export const F_UTF8_DEFERRED = 1 << 13;
export const OPCODE_SHIFT = 4;
export const TAIL_SHIFT = 16;
export const MESSAGE_OPCODE_SHIFT = 20;

export const ERR_RSV23 = 1;
export const ERR_UNMASKED = 2;
export const ERR_RESERVED_OPCODE = 3;
export const ERR_CONTROL_FRAGMENTED = 4;
export const ERR_CONTROL_TOO_LONG = 5;
export const ERR_RSV1_CONTROL = 6;
export const ERR_CONTINUATION_WITHOUT_MESSAGE = 7;
export const ERR_RSV1_CONTINUATION = 8;
export const ERR_MESSAGE_NOT_ENDED = 9;
export const ERR_RSV1_WITHOUT_EXTENSION = 10;
export const ERR_LENGTH_TOP_BIT = 11;
export const ERR_FRAME_TOO_BIG = 12;
export const ERR_MESSAGE_TOO_BIG = 13;
export const ERR_INVALID_UTF8 = 14;
export const ERR_UTF8_TRUNCATED = 15;

/** `utf8Piece`: valid so far, the middle of the piece left to the caller. */
export const UTF8_DEFERRED = -2;

/** `checkClosePayload` results below zero. */
export const CLOSE_ONE_BYTE = -1;
export const CLOSE_INVALID_CODE = -2;
export const CLOSE_INVALID_REASON = -3;
