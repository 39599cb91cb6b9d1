// permessage-deflate decompression (RFC 7692 7.2.2): raw DEFLATE (RFC 1951), one message at a
// time, fed in pieces as its frames arrive.
//
// Acceptance is pako's inflate as the js engine drives it (src/protocol/message-inflater.ts):
// the bytes are decoded greedily, and an error is found as soon as the bits that show it are
// there (a piece that ends one bit before a bad code is not yet corrupt). Decoding stops only at
// an item boundary: a block header, a stored block's LEN/NLEN, a literal or a whole
// length/distance pair. Where input runs out inside an item, the state (in `work`) points at the
// item's first bit, and the caller feeds those bytes again with the next piece. Nothing else
// survives between calls: the caller keeps the unconsumed bytes, this state, and the history.
//
// Distances: pako accepts a distance that reaches back at most (its window) + (what the current
// zlib call has produced), where its window holds the last 2^windowBits bytes produced before
// that call, and MessageInflater starts a zlib call with every piece, after every 64 KiB of
// output and after a final (BFINAL) block. With a 15-bit window that is simply "within what was
// produced" (no code reaches back more than 32768 bytes). With a smaller window a peer that
// ignores client_max_window_bits is accepted or refused depending on how its bytes were split;
// the kernel reproduces that exactly (S_SINCE_CALL, S_WHAVE, S_CALL_SPAN), so that the engines
// agree byte for byte on every input.
//
// Decoding is table driven (one lookup per code: a 10-bit primary table for literal/length
// codes, 8-bit for distances, subtables for longer codes), with a 64-bit bit buffer refilled a
// word at a time in the fast loop, which runs while 17 input bytes and 320 bytes of output room
// remain; near either end, items are decoded one at a time with exact bit accounting.

// ---------------------------------------------------------------------------------------------
// The state block at `work` (u32 words), read and written by inflatePiece; its layout is
// mirrored in src/engine/wasm-inflater.ts.

/** Where decoding stands: one of the MODE_ values. */
const S_MODE: usize = 0;
/** In: bits of src[0] already consumed. Out: the same for src[S_CONSUMED]. */
const S_BIT: usize = 4;
/** Out: whole bytes of src consumed; the caller feeds src[S_CONSUMED..] again with the next piece. */
const S_CONSUMED: usize = 8;
/** The current block has BFINAL set. */
const S_LAST: usize = 12;
/** MODE_STORED: bytes of the stored block still to copy. */
const S_REMAINING: usize = 16;
/** MODE_CODES: 1 for the fixed codes, 0 for the dynamic ones in W_LENS. */
const S_FIXED: usize = 20;
/** MODE_CODES, dynamic: literal/length and distance code counts (HLIT + 257, HDIST + 1). */
const S_NLEN: usize = 24;
const S_NDIST: usize = 28;
/** Bytes produced since pako's current zlib call began (0 at the start of every piece). */
const S_SINCE_CALL: usize = 32;
/** pako's window fill at the start of its current call: min(2^windowBits, all produced before). */
const S_WHAVE: usize = 36;
/** Out: STATUS_INPUT_END or STATUS_ROOM_FULL. */
const S_STATUS: usize = 40;
/** Output bytes per zlib call of MessageInflater (its scratch size). */
const S_CALL_SPAN: usize = 44;
/** u8[320]: the code lengths of the dynamic block being decoded (literal/length, then distance). */
const W_LENS: usize = 64;
/** u32[128]: the code length code's table. */
const W_CLTABLE: usize = W_LENS + 320;
const LIT_BITS: u32 = 10;
const LIT_CAPACITY: u32 = 2048; // 1024 + subtables, with room to spare
const DIST_BITS: u32 = 8;
const DIST_CAPACITY: u32 = 1024; // 256 + subtables, with room to spare
const W_LITTABLE: usize = W_CLTABLE + 4 * 128;
const W_DISTTABLE: usize = W_LITTABLE + 4 * LIT_CAPACITY;
const W_END: usize = W_DISTTABLE + 4 * DIST_CAPACITY;

/** Before a block header (fewer than its 3 bits have arrived): a message may end here. */
const MODE_BETWEEN: u32 = 0;
/** Inside a block header (dynamic codes): decoding resumes at the block's first bit. */
const MODE_HEADER: u32 = 1;
/** A stored block whose LEN/NLEN have not all arrived (byte aligned). */
const MODE_STORED_LEN: u32 = 2;
/** Copying a stored block. */
const MODE_STORED: u32 = 3;
/** Inside a Huffman-coded block, at an item boundary. */
const MODE_CODES: u32 = 4;

/** The input ran out (all of it that could be decoded was). */
const STATUS_INPUT_END: u32 = 0;
/** The next item does not fit in the output room; the state points at it. */
const STATUS_ROOM_FULL: u32 = 1;

/** What MessageInflater's zlib calls produce at most (SCRATCH_SIZE of zlib-contexts.ts). */
const DEFAULT_CALL_SPAN: u32 = 65536;
/** The trailer a sync flush ends with, which the sender removed (RFC 7692 7.2.1). */
const TRAILER_LENGTH: u32 = 4;

/** Bytes of scratch (state and tables) the inflate kernels need at `work`. */
export function inflateWorkSize(): u32 {
  return <u32>W_END;
}

// ---------------------------------------------------------------------------------------------
// Table entries (u32). Bits 0-4: bits to consume (code bits at this level + extra bits); bits
// 8-11: code bits at this level (extra bits follow them), or a subtable's index bits; bits
// 16-31: the literal, the length or distance base, the code length code's symbol, or a
// subtable's first entry.

const E_EXCEPTIONAL: u32 = 0x1000; // end of block, subtable pointer or invalid code
const E_SUBTABLE: u32 = 0x2000;
const E_EOB: u32 = 0x4000;
const E_LITERAL: u32 = 0x8000;
/** An invalid code: error once its `bits` have arrived. */
const E_INVALID: u32 = E_EXCEPTIONAL;

const KIND_CODES: u32 = 0;
const KIND_LITLEN: u32 = 1;
const KIND_DIST: u32 = 2;

// Static tables (RFC 1951 3.2.5), and the fixed codes' decoding tables, built on first use.
const LEN_BASE: usize = memory.data<u16>([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]);
const LEN_EXTRA: usize = memory.data<u8>([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
const DIST_BASE: usize = memory.data<u16>([
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
]);
const DIST_EXTRA: usize = memory.data<u8>([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
/** The order code length code lengths are sent in (RFC 1951 3.2.7). */
const CL_ORDER: usize = memory.data<u8>([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);
const FIXED_LIT: usize = memory.data(4 << LIT_BITS);
const FIXED_DIST: usize = memory.data(4 << DIST_BITS);
const FIXED_LENS: usize = memory.data(288 + 32);
// Scratch of buildTable.
const BL_COUNT: usize = memory.data(16 * 4);
const BL_OFFSET: usize = memory.data(16 * 4);
const SORTED: usize = memory.data(320 * 2);

let fixedReady = false;

function buildFixedTables(): void {
  for (let s: u32 = 0; s < 288; s++) store<u8>(FIXED_LENS + s, s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8);
  for (let s: u32 = 0; s < 32; s++) store<u8>(FIXED_LENS + 288 + s, 5);
  buildTable(FIXED_LENS, 288, FIXED_LIT, LIT_BITS, 1 << LIT_BITS, KIND_LITLEN);
  buildTable(FIXED_LENS + 288, 32, FIXED_DIST, DIST_BITS, 1 << DIST_BITS, KIND_DIST);
  fixedReady = true;
}

// @ts-ignore: decorator
@inline
function makeEntry(kind: u32, sym: u32, bits: u32): u32 {
  if (kind == KIND_CODES) return (sym << 16) | bits;
  if (kind == KIND_LITLEN) {
    if (sym < 256) return E_LITERAL | (sym << 16) | bits;
    if (sym == 256) return E_EXCEPTIONAL | E_EOB | bits;
    if (sym < 286) {
      const i = sym - 257;
      return (<u32>load<u16>(LEN_BASE + (i << 1)) << 16) | (bits << 8) | (bits + <u32>load<u8>(LEN_EXTRA + i));
    }
    return E_INVALID | bits; // 286 and 287: only the fixed code has them
  }
  if (sym < 30) return (<u32>load<u16>(DIST_BASE + (sym << 1)) << 16) | (bits << 8) | (bits + <u32>load<u8>(DIST_EXTRA + sym));
  return E_INVALID | bits; // 30 and 31: only the fixed code has them
}

/** Copies the table's first `size` entries after them (small sizes: no call out of WASM). */
// @ts-ignore: decorator
@inline
function doubleTable(table: usize, size: u32): void {
  const bytes = <usize>size << 2;
  if (size < 4) {
    for (let i: usize = 0; i < bytes; i += 4) store<u32>(table + bytes + i, load<u32>(table + i));
  } else {
    for (let i: usize = 0; i < bytes; i += 16) v128.store(table + bytes + i, v128.load(table + i));
  }
}

/** The canonical code after `code` (bit-reversed), both `len` bits long. */
// @ts-ignore: decorator
@inline
function nextCode(code: u32, len: u32): u32 {
  let incr: u32 = 1 << (len - 1);
  while ((code & incr) != 0) incr >>= 1;
  return incr != 0 ? (code & (incr - 1)) + incr : 0;
}

// @ts-ignore: decorator
@inline
function fillTable(table: usize, count: u32, entry: u32): void {
  for (let i: u32 = 0; i < count; i++) store<u32>(table + (<usize>i << 2), entry);
}

/**
 * Builds the decoding table of the canonical code with the `n` code lengths at `lens`, with a
 * primary table of `rootBits` and subtables for longer codes. Returns false for a code set
 * pako refuses: over-subscribed, or incomplete (allowed only for a literal/length or distance
 * code whose only code is one bit long; the missing code is then invalid). A distance code
 * without any code is allowed too (every distance is then invalid), and so is a code length
 * code without any (pako then reads every code length as 0, one bit each).
 */
function buildTable(lens: usize, n: u32, table: usize, rootBits: u32, capacity: u32, kind: u32): bool {
  for (let len: u32 = 0; len < 16; len++) store<u32>(BL_COUNT + (len << 2), 0);
  for (let s: u32 = 0; s < n; s++) {
    const p = BL_COUNT + (<usize>load<u8>(lens + s) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
  let max: u32 = 15;
  while (max >= 1 && load<u32>(BL_COUNT + (max << 2)) == 0) max--;
  const rootSize: u32 = 1 << rootBits;
  if (max == 0) {
    fillTable(table, rootSize, kind == KIND_CODES ? 1 : E_INVALID | 1);
    return true;
  }
  let left: i32 = 1;
  for (let len: u32 = 1; len <= 15; len++) {
    left = (left << 1) - <i32>load<u32>(BL_COUNT + (len << 2));
    if (left < 0) return false;
  }
  if (left > 0) {
    if (kind == KIND_CODES || max != 1) return false;
    fillTable(table, rootSize, E_INVALID | 1);
  }
  // Symbols sorted by code length, then value: the order canonical codes are assigned in.
  let at: u32 = 0;
  for (let len: u32 = 1; len <= 15; len++) {
    store<u32>(BL_OFFSET + (len << 2), at);
    at += load<u32>(BL_COUNT + (len << 2));
  }
  const codes = at;
  for (let s: u32 = 0; s < n; s++) {
    const len = <u32>load<u8>(lens + s);
    if (len == 0) continue;
    const p = BL_OFFSET + (len << 2);
    const o = load<u32>(p);
    store<u16>(SORTED + (o << 1), <u16>s);
    store<u32>(p, o + 1);
  }
  // `code` is the next canonical code, bit-reversed (DEFLATE sends codes most significant bit
  // first into a stream read from the least significant bit). Codes up to rootBits long are
  // placed in a table of 2^len entries that doubles (by copying itself) as len grows: a code
  // then fills every entry whose low bits it is. An incomplete code (one 1-bit code) instead
  // fills its entries among the invalid ones directly.
  const rootMask = rootSize - 1;
  let code: u32 = 0;
  let size: u32 = left > 0 ? rootSize : 1;
  let i: u32 = 0;
  for (; i < codes; i++) {
    const sym = <u32>load<u16>(SORTED + (i << 1));
    const len = <u32>load<u8>(lens + sym);
    if (len > rootBits) break;
    while (size < (<u32>1 << len)) {
      doubleTable(table, size);
      size <<= 1;
    }
    const entry = makeEntry(kind, sym, len);
    for (let j = code; j < size; j += 1 << len) store<u32>(table + (<usize>j << 2), entry);
    code = nextCode(code, len);
  }
  while (size < rootSize) {
    doubleTable(table, size);
    size <<= 1;
  }
  // Longer codes: a subtable per rootBits-bit prefix, as large as the codes sharing that prefix
  // need (they come next in canonical order, and fill it exactly: the code is complete here).
  let next: u32 = rootSize;
  let prefix: u32 = 0xffffffff;
  let subStart: u32 = 0;
  let subBits: u32 = 0;
  for (; i < codes; i++) {
    const sym = <u32>load<u16>(SORTED + (i << 1));
    const len = <u32>load<u8>(lens + sym);
    if ((code & rootMask) != prefix) {
      prefix = code & rootMask;
      let bits = len - rootBits;
      let room: i32 = 1 << bits;
      while (bits + rootBits < max) {
        room -= <i32>load<u32>(BL_COUNT + ((bits + rootBits) << 2));
        if (room <= 0) break;
        bits++;
        room <<= 1;
      }
      if (next + (<u32>1 << bits) > capacity) return false; // cannot happen for a complete code
      subStart = next;
      subBits = bits;
      next += 1 << bits;
      store<u32>(table + (<usize>prefix << 2), E_EXCEPTIONAL | E_SUBTABLE | (subStart << 16) | (subBits << 8) | rootBits);
    }
    const entry = makeEntry(kind, sym, len - rootBits);
    const subSize: u32 = 1 << subBits;
    for (let j = code >> rootBits; j < subSize; j += 1 << (len - rootBits)) store<u32>(table + (<usize>(subStart + j) << 2), entry);
    const c = BL_COUNT + (len << 2);
    store<u32>(c, load<u32>(c) - 1); // codes of this length still to place (subtable sizing)
    code = nextCode(code, len);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The bit reader and output position of the running call. The bit buffer holds `g_cnt` valid
// bits; in the slow paths every bit above them is zero, so that a table lookup with too few
// bits finds an entry whose length exceeds g_cnt (the code is not all here yet).

let g_src: usize = 0;
let g_in: usize = 0;
let g_end: usize = 0;
let g_buf: u64 = 0;
let g_cnt: u32 = 0;
let g_out: usize = 0;
let g_outEnd: usize = 0;
let g_outBase: usize = 0;
/** Where pako's current zlib call began producing (may lie before this call's history). */
let g_callStart: i64 = 0;
let g_whave: u32 = 0;
let g_span: u32 = DEFAULT_CALL_SPAN;
let g_wsize: u32 = 32768;
/** The item the fast or slow body loop stopped at (a bit position from g_src). */
let g_mark: u32 = 0;

// @ts-ignore: decorator
@inline
function fillBytes(): void {
  while (g_cnt <= 55 && g_in < g_end) {
    g_buf |= (<u64>load<u8>(g_in)) << g_cnt;
    g_in++;
    g_cnt += 8;
  }
}

/** Whether `n` bits (at most 56) are here, after pulling in what input there is. */
// @ts-ignore: decorator
@inline
function have(n: u32): bool {
  fillBytes();
  return g_cnt >= n;
}

// @ts-ignore: decorator
@inline
function take(n: u32): u32 {
  const v = <u32>g_buf & ((<u32>1 << n) - 1);
  g_buf >>= <u64>n;
  g_cnt -= n;
  return v;
}

/** Drops the rest of the current byte. */
// @ts-ignore: decorator
@inline
function alignToByte(): void {
  const n = g_cnt & 7;
  g_buf >>= <u64>n;
  g_cnt -= n;
}

/** The bit position of the next unread bit, from g_src. */
// @ts-ignore: decorator
@inline
function bitPosition(): u32 {
  return <u32>((g_in - g_src) << 3) - g_cnt;
}

/** Moves pako's call forward over the call boundaries (every g_span bytes) that g_out passed. */
// @ts-ignore: decorator
@inline
function passCallBoundaries(): void {
  const span = <i64>g_span;
  if (<i64>g_out - g_callStart >= span) {
    g_callStart += ((<i64>g_out - g_callStart) / span) * span;
    g_whave = g_wsize; // a full call of output refills the window
  }
}

/** The lowest address a match may copy from now (pako's window rule, and this call's history). */
// @ts-ignore: decorator
@inline
function copyFloor(): usize {
  const rule = g_callStart - <i64>g_whave;
  return rule > <i64>g_outBase ? <usize>rule : g_outBase;
}

// ---------------------------------------------------------------------------------------------
// Block headers

const HEADER_OK: i32 = 0;
const HEADER_NEED_INPUT: i32 = 1;
const HEADER_CORRUPT: i32 = -1;

/**
 * Reads a dynamic block's code lengths into W_LENS and builds its tables, checking what pako
 * checks, each as soon as its bits are here.
 */
function readDynamicHeader(work: usize): i32 {
  if (!have(14)) return HEADER_NEED_INPUT;
  const nlen = take(5) + 257;
  const ndist = take(5) + 1;
  const ncode = take(4) + 4;
  if (nlen > 286 || ndist > 30) return HEADER_CORRUPT;
  const lens = work + W_LENS;
  for (let i: u32 = 0; i < 19; i++) store<u8>(lens + i, 0);
  for (let i: u32 = 0; i < ncode; i++) {
    if (!have(3)) return HEADER_NEED_INPUT;
    store<u8>(lens + <usize>load<u8>(CL_ORDER + i), <u8>take(3));
  }
  const clTable = work + W_CLTABLE;
  if (!buildTable(lens, 19, clTable, 7, 128, KIND_CODES)) return HEADER_CORRUPT;
  const total = nlen + ndist;
  let n: u32 = 0;
  while (n < total) {
    fillBytes();
    const e = load<u32>(clTable + ((<usize>g_buf & 127) << 2));
    const bits = e & 31;
    if (bits > g_cnt) return HEADER_NEED_INPUT;
    const sym = e >> 16;
    if (sym < 16) {
      take(bits);
      store<u8>(lens + n, <u8>sym);
      n++;
      continue;
    }
    const extra: u32 = sym == 16 ? 2 : sym == 17 ? 3 : 7;
    if (bits + extra > g_cnt) return HEADER_NEED_INPUT;
    take(bits);
    let len: u32 = 0;
    let repeat: u32;
    if (sym == 16) {
      if (n == 0) return HEADER_CORRUPT; // nothing to repeat
      len = <u32>load<u8>(lens + n - 1);
      repeat = 3 + take(2);
    } else if (sym == 17) {
      repeat = 3 + take(3);
    } else {
      repeat = 11 + take(7);
    }
    if (n + repeat > total) return HEADER_CORRUPT;
    for (let k: u32 = 0; k < repeat; k++) store<u8>(lens + n + k, <u8>len);
    n += repeat;
  }
  if (load<u8>(lens + 256) == 0) return HEADER_CORRUPT; // no end-of-block code
  store<u32>(work + S_NLEN, nlen);
  store<u32>(work + S_NDIST, ndist);
  return buildDynamicTables(work) ? HEADER_OK : HEADER_CORRUPT;
}

function buildDynamicTables(work: usize): bool {
  const nlen = load<u32>(work + S_NLEN);
  const ndist = load<u32>(work + S_NDIST);
  const lens = work + W_LENS;
  return (
    buildTable(lens, nlen, work + W_LITTABLE, LIT_BITS, LIT_CAPACITY, KIND_LITLEN) &&
    buildTable(lens + nlen, ndist, work + W_DISTTABLE, DIST_BITS, DIST_CAPACITY, KIND_DIST)
  );
}

// ---------------------------------------------------------------------------------------------
// Huffman-coded block bodies

const BODY_EOB: i32 = 0;
const BODY_INPUT_END: i32 = 1;
const BODY_ROOM_FULL: i32 = 2;
const BODY_CORRUPT: i32 = -1;
const BODY_DECODING: i32 = 3;

/**
 * Input the fast loop keeps in reserve: an iteration refills twice (8-byte loads, advancing at
 * most 7 bytes each), so starting 17 bytes before the end it reads nothing past it.
 */
const FAST_IN_MARGIN: usize = 16;
/** Output room the fast loop keeps: 2 literals and a 258-byte match, plus 32 bytes of overcopy. */
const FAST_OUT_MARGIN: usize = 320;

/**
 * Copies a `len`-byte match from `dist` bytes back, writing up to 31 bytes past its end (the
 * fast loop's margin): 32 bytes at a time when the source lies 16 or more bytes back, else in
 * words that repeat the pattern.
 */
// @ts-ignore: decorator
@inline
function copyMatchFast(out: usize, dist: usize, len: usize): void {
  let src = out - dist;
  let dst = out;
  const end = out + len;
  if (dist >= 16) {
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
    dst += 32;
    src += 32;
    while (dst < end) {
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
      dst += 32;
      src += 32;
    }
  } else if (dist >= 8) {
    do {
      store<u64>(dst, load<u64>(src));
      dst += 8;
      src += 8;
    } while (dst < end);
  } else if (dist == 1) {
    const v = i8x16.splat(load<i8>(src));
    do {
      v128.store(dst, v);
      dst += 16;
    } while (dst < end);
  } else {
    // 2..7: make 8 bytes of the pattern, then repeat them every whole number of periods.
    for (let i: usize = 0; i < 8; i++) store<u8>(dst + i, load<u8>(dst + i - dist));
    const pattern = load<u64>(dst);
    const step: usize = dist * (8 / dist);
    for (let k: usize = step; k < len; k += step) store<u64>(dst + k, pattern);
  }
}

/** Copies a match exactly (no byte past its end is written). */
// @ts-ignore: decorator
@inline
function copyMatchExact(out: usize, dist: usize, len: usize): void {
  if (dist >= len) {
    memory.copy(out, out - dist, len);
  } else {
    for (let i: usize = 0; i < len; i++) store<u8>(out + i, load<u8>(out + i - dist));
  }
}

/**
 * Decodes a Huffman-coded block body from the bit reader, to its end of block, or until the
 * input or the output room runs out (g_mark is then the item to resume at).
 */
function decodeBody(lit: usize, dist: usize): i32 {
  let inp = g_in;
  const end = g_end;
  let buf = g_buf;
  let cnt = g_cnt;
  let out = g_out;
  const outEnd = g_outEnd;
  const fastInEnd: usize = end - g_src > FAST_IN_MARGIN ? end - FAST_IN_MARGIN : g_src;
  const litMask: u32 = (1 << LIT_BITS) - 1;
  const distMask: u32 = (1 << DIST_BITS) - 1;
  let result: i32 = BODY_DECODING;
  // pako's current call: the lowest address a match may copy from, where the next call begins,
  // and the end of the fast loop's output (before both that and the room's end).
  let floor: usize = 0;
  let boundary: i64 = 0;
  let outFastEnd: usize = 0;
  let callChanged = true;

  for (;;) {
    if (callChanged) {
      g_out = out;
      passCallBoundaries();
      floor = copyFloor();
      boundary = g_callStart + <i64>g_span;
      const outLimit: i64 = boundary < <i64>outEnd ? boundary : <i64>outEnd;
      outFastEnd = outLimit - <i64>g_outBase > <i64>FAST_OUT_MARGIN ? <usize>(outLimit - <i64>FAST_OUT_MARGIN) : g_outBase;
      callChanged = false;
    }

    while (inp < fastInEnd && out < outFastEnd) {
      buf |= load<u64>(inp) << <u64>cnt;
      inp += (63 - cnt) >> 3;
      cnt |= 56;
      let e = load<u32>(lit + ((<usize>(<u32>buf & litMask)) << 2));
      if ((e & E_LITERAL) != 0) {
        buf >>= <u64>(e & 31);
        cnt -= e & 31;
        store<u8>(out, <u8>(e >> 16));
        out++;
        e = load<u32>(lit + ((<usize>(<u32>buf & litMask)) << 2));
        if ((e & E_LITERAL) != 0) {
          buf >>= <u64>(e & 31);
          cnt -= e & 31;
          store<u8>(out, <u8>(e >> 16));
          out++;
          e = load<u32>(lit + ((<usize>(<u32>buf & litMask)) << 2));
          if ((e & E_LITERAL) != 0) {
            buf >>= <u64>(e & 31);
            cnt -= e & 31;
            store<u8>(out, <u8>(e >> 16));
            out++;
            continue;
          }
        }
        // At least 11 bits remain, so `e` is right; refill for the length and distance.
        buf |= load<u64>(inp) << <u64>cnt;
        inp += (63 - cnt) >> 3;
        cnt |= 56;
      }
      if ((e & E_EXCEPTIONAL) != 0) {
        if ((e & E_SUBTABLE) != 0) {
          buf >>= <u64>(e & 31);
          cnt -= e & 31;
          e = load<u32>(lit + ((<usize>((e >> 16) + (<u32>buf & ((<u32>1 << ((e >> 8) & 15)) - 1)))) << 2));
          if ((e & E_LITERAL) != 0) {
            buf >>= <u64>(e & 31);
            cnt -= e & 31;
            store<u8>(out, <u8>(e >> 16));
            out++;
            continue;
          }
        }
        if ((e & E_EOB) != 0) {
          buf >>= <u64>(e & 31);
          cnt -= e & 31;
          result = BODY_EOB;
          break;
        }
        if ((e & E_EXCEPTIONAL) != 0) {
          result = BODY_CORRUPT; // an invalid literal/length code
          break;
        }
      }
      // A length, then its distance (at most 20 + 28 bits: all here after the refill).
      let total = e & 31;
      let saved = <u32>buf;
      buf >>= <u64>total;
      cnt -= total;
      const len = <usize>((e >> 16) + ((saved & ((<u32>1 << total) - 1)) >> ((e >> 8) & 15)));
      let d = load<u32>(dist + ((<usize>(<u32>buf & distMask)) << 2));
      if ((d & E_SUBTABLE) != 0) {
        buf >>= <u64>(d & 31);
        cnt -= d & 31;
        d = load<u32>(dist + ((<usize>((d >> 16) + (<u32>buf & ((<u32>1 << ((d >> 8) & 15)) - 1)))) << 2));
      }
      if ((d & E_EXCEPTIONAL) != 0) {
        result = BODY_CORRUPT; // an invalid distance code
        break;
      }
      total = d & 31;
      saved = <u32>buf;
      buf >>= <u64>total;
      cnt -= total;
      const back = <usize>((d >> 16) + ((saved & ((<u32>1 << total) - 1)) >> ((d >> 8) & 15)));
      if (back > out - floor) {
        result = BODY_CORRUPT; // too far back
        break;
      }
      copyMatchFast(out, back, len);
      out += len;
    }
    if (result != BODY_DECODING) break;

    // One item with exact bit accounting: near the end of the input or of the output room, or
    // near a call boundary.
    // Refills read a word while 8 input bytes remain, else byte by byte, so the bits above
    // `cnt` are input bits or zero, and all of them are zero once the input has run out.
    if (<i64>out >= boundary) {
      callChanged = true; // pass it first
      continue;
    }
    g_mark = <u32>((inp - g_src) << 3) - cnt;
    if (end - inp >= 8) {
      buf |= load<u64>(inp) << <u64>cnt;
      inp += (63 - cnt) >> 3;
      cnt |= 56;
    } else {
      while (cnt <= 55 && inp < end) {
        buf |= (<u64>load<u8>(inp)) << <u64>cnt;
        inp++;
        cnt += 8;
      }
    }
    let e = load<u32>(lit + ((<usize>(<u32>buf & litMask)) << 2));
    let need = e & 31;
    let rootUsed: u32 = 0;
    if ((e & E_SUBTABLE) != 0) {
      rootUsed = e & 31;
      e = load<u32>(lit + ((<usize>((e >> 16) + (<u32>(buf >> <u64>rootUsed) & ((<u32>1 << ((e >> 8) & 15)) - 1)))) << 2));
      need = rootUsed + (e & 31);
    }
    if (need > cnt) {
      result = BODY_INPUT_END;
      break;
    }
    if ((e & E_LITERAL) != 0) {
      if (out >= outEnd) {
        result = BODY_ROOM_FULL;
        break;
      }
      buf >>= <u64>need;
      cnt -= need;
      store<u8>(out, <u8>(e >> 16));
      out++;
      continue;
    }
    if ((e & E_EOB) != 0) {
      buf >>= <u64>need;
      cnt -= need;
      result = BODY_EOB;
      break;
    }
    if ((e & E_EXCEPTIONAL) != 0) {
      result = BODY_CORRUPT; // an invalid literal/length code
      break;
    }
    buf >>= <u64>rootUsed;
    let total = e & 31;
    let saved = <u32>buf;
    buf >>= <u64>total;
    cnt -= need;
    const len = <usize>((e >> 16) + ((saved & ((<u32>1 << total) - 1)) >> ((e >> 8) & 15)));
    if (end - inp >= 8) {
      buf |= load<u64>(inp) << <u64>cnt;
      inp += (63 - cnt) >> 3;
      cnt |= 56;
    } else {
      while (cnt <= 55 && inp < end) {
        buf |= (<u64>load<u8>(inp)) << <u64>cnt;
        inp++;
        cnt += 8;
      }
    }
    let d = load<u32>(dist + ((<usize>(<u32>buf & distMask)) << 2));
    need = d & 31;
    rootUsed = 0;
    if ((d & E_SUBTABLE) != 0) {
      rootUsed = d & 31;
      d = load<u32>(dist + ((<usize>((d >> 16) + (<u32>(buf >> <u64>rootUsed) & ((<u32>1 << ((d >> 8) & 15)) - 1)))) << 2));
      need = rootUsed + (d & 31);
    }
    if (need > cnt) {
      result = BODY_INPUT_END;
      break;
    }
    if ((d & E_EXCEPTIONAL) != 0) {
      result = BODY_CORRUPT; // an invalid distance code
      break;
    }
    buf >>= <u64>rootUsed;
    total = d & 31;
    saved = <u32>buf;
    buf >>= <u64>total;
    cnt -= need;
    const back = <usize>((d >> 16) + ((saved & ((<u32>1 << total) - 1)) >> ((d >> 8) & 15)));
    if (back > out - floor) {
      result = BODY_CORRUPT; // too far back
      break;
    }
    if (<i64>(out + len) > boundary && back > <usize>g_wsize) {
      // pako copies up to the call boundary, then checks the rest against its refilled window:
      // corrupt, unless the output room (the limit) ends first.
      result = boundary <= <i64>outEnd ? BODY_CORRUPT : BODY_ROOM_FULL;
      break;
    }
    if (out + len > outEnd) {
      result = BODY_ROOM_FULL;
      break;
    }
    copyMatchExact(out, back, len);
    out += len;
  }

  if (result == BODY_EOB) {
    if (cnt < 64) buf &= ((<u64>1) << <u64>cnt) - 1;
    g_in = inp;
    g_buf = buf;
    g_cnt = cnt;
  }
  g_out = out;
  return result;
}

// ---------------------------------------------------------------------------------------------
// The block loop

/**
 * Decodes src[0, length) (S_BIT bits of src[0] already consumed) from the state at `work`,
 * writing from `outPos` up to `outEnd`; `outBase` is where the history begins. Returns the
 * bytes produced, or -2 for corrupt data.
 */
function run(src: usize, length: u32, outBase: usize, outPos: usize, outEnd: usize, work: usize, wsize: u32): i32 {
  g_src = src;
  g_end = src + length;
  const bit = load<u32>(work + S_BIT) & 7;
  if (bit != 0 && length > 0) {
    g_buf = (<u64>load<u8>(src)) >> <u64>bit;
    g_cnt = 8 - bit;
    g_in = src + 1;
  } else {
    g_buf = 0;
    g_cnt = 0;
    g_in = src;
  }
  g_out = outPos;
  g_outEnd = outEnd;
  g_outBase = outBase;
  g_callStart = <i64>outPos - <i64>load<u32>(work + S_SINCE_CALL);
  g_whave = load<u32>(work + S_WHAVE);
  const span = load<u32>(work + S_CALL_SPAN);
  g_span = span != 0 ? span : DEFAULT_CALL_SPAN;
  g_wsize = wsize;

  let mode = load<u32>(work + S_MODE);
  let last = load<u32>(work + S_LAST);
  let remaining = load<u32>(work + S_REMAINING);
  let status = STATUS_INPUT_END;
  let resume: u32 = 0;
  let tablesBuilt = false;

  for (;;) {
    if (mode == MODE_BETWEEN || mode == MODE_HEADER) {
      resume = bitPosition();
      if (!have(3)) {
        mode = MODE_BETWEEN;
        break;
      }
      last = take(1);
      const type = take(2);
      if (type == 0) {
        alignToByte();
        mode = MODE_STORED_LEN;
      } else if (type == 1) {
        if (!fixedReady) buildFixedTables();
        store<u32>(work + S_FIXED, 1);
        mode = MODE_CODES;
      } else if (type == 2) {
        const r = readDynamicHeader(work);
        if (r == HEADER_CORRUPT) return -2;
        if (r == HEADER_NEED_INPUT) {
          mode = MODE_HEADER;
          break;
        }
        store<u32>(work + S_FIXED, 0);
        tablesBuilt = true;
        mode = MODE_CODES;
      } else {
        return -2; // reserved block type
      }
    } else if (mode == MODE_STORED_LEN) {
      resume = bitPosition();
      if (!have(32)) break;
      const len = take(16);
      if (len != (take(16) ^ 0xffff)) return -2; // NLEN is not the complement of LEN
      remaining = len;
      mode = MODE_STORED;
    } else if (mode == MODE_STORED) {
      // Byte aligned: give the whole bytes in the bit buffer back to the input.
      const p = g_in - (g_cnt >> 3);
      g_in = p;
      g_buf = 0;
      g_cnt = 0;
      const inLeft = <u32>(g_end - p);
      const outLeft = <u32>(outEnd - g_out);
      let n = remaining < inLeft ? remaining : inLeft;
      if (n > outLeft) n = outLeft;
      memory.copy(g_out, p, n);
      g_out += n;
      g_in += n;
      remaining -= n;
      if (remaining != 0) {
        resume = bitPosition();
        if (g_in != g_end) status = STATUS_ROOM_FULL;
        break;
      }
      mode = endBlock(last);
      last = 0;
    } else {
      // MODE_CODES
      const fixed = load<u32>(work + S_FIXED) != 0;
      if (fixed) {
        if (!fixedReady) buildFixedTables();
      } else if (!tablesBuilt) {
        if (!buildDynamicTables(work)) return -2; // cannot happen: they were built before
        tablesBuilt = true;
      }
      const r = decodeBody(fixed ? FIXED_LIT : work + W_LITTABLE, fixed ? FIXED_DIST : work + W_DISTTABLE);
      if (r == BODY_CORRUPT) return -2;
      if (r != BODY_EOB) {
        resume = g_mark;
        if (r == BODY_ROOM_FULL) status = STATUS_ROOM_FULL;
        break;
      }
      tablesBuilt = false;
      mode = endBlock(last);
      last = 0;
    }
  }

  passCallBoundaries();
  store<u32>(work + S_MODE, mode);
  store<u32>(work + S_CONSUMED, resume >> 3);
  store<u32>(work + S_BIT, resume & 7);
  store<u32>(work + S_LAST, last);
  store<u32>(work + S_REMAINING, remaining);
  store<u32>(work + S_SINCE_CALL, <u32>(<i64>g_out - g_callStart));
  store<u32>(work + S_WHAVE, g_whave);
  store<u32>(work + S_STATUS, status);
  return <i32>(g_out - outPos);
}

/**
 * After a block's end: a final block ends the DEFLATE stream, and pako starts a new one (on
 * the same window) at the next byte, in a new zlib call. Returns the mode that follows.
 */
function endBlock(last: u32): u32 {
  if (last != 0) {
    alignToByte();
    passCallBoundaries();
    const produced = <i64>g_out - g_callStart;
    const whave = <i64>g_whave + produced;
    g_whave = whave < <i64>g_wsize ? <u32>whave : g_wsize;
    g_callStart = <i64>g_out;
  }
  return MODE_BETWEEN;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/**
 * Inflates the next piece of a message, continuing from the state at `work` (see the S_
 * words; the caller sets S_SINCE_CALL to 0 and S_WHAVE to min(2^windowBits, bytes produced so
 * far, history included) at the start of every piece, as pako starts a zlib call).
 *
 * `src[0, length)` are the piece's bytes, after those the previous call left unconsumed.
 * `out[0, historyLength)` holds the last bytes produced before (up to 32 KiB), and output is
 * written from `out + historyLength`, at most `room` bytes. Returns the bytes produced, or -2
 * for corrupt data; S_STATUS then says whether the input ran out or the room did.
 */
export function inflatePiece(src: usize, length: u32, out: usize, historyLength: u32, room: u32, work: usize, windowBits: u32): i32 {
  const outPos = out + historyLength;
  return run(src, length, out, outPos, outPos + room, work, windowSize(windowBits));
}

/**
 * Inflates one whole message: `src[0, length)` are its compressed bytes, followed by the 4
 * bytes 00 00 FF FF (the trailer the sender removed), which are used only if the message does
 * not end between blocks (as MessageInflater.finish does). `out[0, historyLength)` is the
 * history (the last 2^windowBits bytes of the previous messages with context takeover, else
 * nothing); the output is written from `out + historyLength`, at most `limit` bytes. `work`
 * needs inflateWorkSize() bytes. Returns the bytes produced, -1 when they would exceed `limit`,
 * -2 for corrupt data.
 */
export function inflateRaw(src: usize, length: u32, out: usize, historyLength: u32, limit: u32, work: usize, windowBits: u32): i32 {
  const wsize = windowSize(windowBits);
  for (let i: usize = 0; i < <usize>W_LENS; i += 4) store<u32>(work + i, 0);
  store<u32>(work + S_WHAVE, historyLength < wsize ? historyLength : wsize);
  const outPos = out + historyLength;
  const outEnd = outPos + limit;
  const produced = run(src, length, out, outPos, outEnd, work, wsize);
  if (produced < 0) return -2;
  if (load<u32>(work + S_STATUS) == STATUS_ROOM_FULL) return -1;
  if (load<u32>(work + S_MODE) == MODE_BETWEEN) return produced;
  // The trailer, as a piece of its own (a new zlib call), after what was left unconsumed.
  const consumed = load<u32>(work + S_CONSUMED);
  const before = <u32>produced + historyLength;
  store<u32>(work + S_SINCE_CALL, 0);
  store<u32>(work + S_WHAVE, before < wsize ? before : wsize);
  const more = run(src + consumed, length - consumed + TRAILER_LENGTH, out, outPos + produced, outEnd, work, wsize);
  if (more < 0) return -2;
  if (load<u32>(work + S_STATUS) == STATUS_ROOM_FULL) return -1;
  if (load<u32>(work + S_MODE) != MODE_BETWEEN) return -2; // the message stops inside a block
  return produced + more;
}

// @ts-ignore: decorator
@inline
function windowSize(windowBits: u32): u32 {
  return <u32>1 << (windowBits < 8 ? 8 : windowBits > 15 ? 15 : windowBits);
}
