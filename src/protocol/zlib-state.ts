/**
 * What permessage-deflate reads and writes inside pako's zlib state objects, in one place.
 *
 * Cheap in-place resets, for permessage-deflate without context takeover, where a context is
 * reset after every message: pako's `zlibDeflateReset` clears the 64 KiB hash table in a
 * JavaScript loop (~27 µs on the machines here, ten times the cost of compressing a small
 * message), and `zlibInflateReset` allocates new Huffman tables (~2.7 µs). The fast paths do
 * the same work with a native `fill` and a few field writes (~1 µs and ~0.1 µs).
 *
 * pako's state fields mirror zlib's C structs, and its inflate modes keep zlib's numbers. If a
 * pako release renames them, the feature checks fall back to the official functions, and the
 * tests compare both paths byte for byte.
 */

import {
  ZStream,
  Z_OK,
  zlibDeflateInit2,
  zlibDeflateReset,
  zlibDeflateResetKeep,
  zlibInflateInit2,
  zlibInflateReset,
} from 'pako';

/** zlib's MIN_MATCH - 1: what `lm_init` sets `match_length` and `prev_length` to. */
const NO_MATCH_LENGTH = 2;
/** zlib's inflate modes: HEAD (a fresh stream), TYPE and TYPEDO (before a block header). */
const INFLATE_HEAD = 16180;
const INFLATE_TYPE = 16191;
const INFLATE_TYPEDO = 16192;

interface DeflateStateFields {
  w_size: number;
  window_size: number;
  head: Uint16Array;
  strstart: number;
  block_start: number;
  lookahead: number;
  insert: number;
  match_length: number;
  prev_length: number;
  match_available: number;
  ins_h: number;
}

interface InflateStateFields {
  mode: number;
  last: number;
  wsize: number;
  whave: number;
  wnext: number;
  hold: number;
  bits: number;
  total: number;
}

const DEFLATE_FIELDS = [
  'w_size',
  'window_size',
  'strstart',
  'block_start',
  'lookahead',
  'insert',
  'match_length',
  'prev_length',
  'match_available',
  'ins_h',
];
const INFLATE_FIELDS = ['mode', 'last', 'wsize', 'whave', 'wnext', 'hold', 'bits', 'total'];

function hasNumberFields(state: unknown, names: string[]): boolean {
  if (typeof state !== 'object' || state === null) return false;
  const record = state as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'number');
}

function probeDeflateState(): boolean {
  const strm = new ZStream();
  if (zlibDeflateInit2(strm, 6, 8, -9, 8, 0) !== Z_OK) return false;
  return hasNumberFields(strm.state, DEFLATE_FIELDS) && (strm.state as { head: unknown }).head instanceof Uint16Array;
}

function probeInflateState(): boolean {
  const strm = new ZStream();
  if (zlibInflateInit2(strm, -9) !== Z_OK) return false;
  return hasNumberFields(strm.state, INFLATE_FIELDS) && (strm.state as InflateStateFields).mode === INFLATE_HEAD;
}

/** Whether the fast paths are in use (false only if pako's internals changed). */
export const fastDeflateReset = probeDeflateState();
export const fastInflateReset = probeInflateState();

/**
 * Resets a deflate context to a fresh stream (what `zlibDeflateReset` does), keeping its
 * level, window and memory. Nothing compressed before can be referred to afterwards.
 */
export function resetDeflater(strm: ZStream): void {
  if (!fastDeflateReset) {
    zlibDeflateReset(strm);
    return;
  }
  // deflateReset = deflateResetKeep + lm_init; this is lm_init with a native fill. The level's
  // match parameters lm_init also sets have not changed since init.
  if (zlibDeflateResetKeep(strm) !== Z_OK) return;
  const s = strm.state as DeflateStateFields;
  s.window_size = 2 * s.w_size;
  s.head.fill(0);
  s.strstart = 0;
  s.block_start = 0;
  s.lookahead = 0;
  s.insert = 0;
  s.match_length = NO_MATCH_LENGTH;
  s.prev_length = NO_MATCH_LENGTH;
  s.match_available = 0;
  s.ins_h = 0;
}

/**
 * Resets a raw inflate context that stands between two DEFLATE blocks (a message inflated
 * to its end) to a fresh stream: the window is forgotten, the Huffman tables are kept for
 * reuse. Anywhere else (a message abandoned halfway) use `zlibInflateReset`.
 */
export function resetInflaterBetweenBlocks(strm: ZStream): void {
  if (!fastInflateReset) {
    zlibInflateReset(strm);
    return;
  }
  const state = strm.state as InflateStateFields;
  state.wsize = 0;
  state.whave = 0;
  state.wnext = 0;
  state.hold = 0;
  state.bits = 0;
  state.last = 0;
  state.total = 0;
  state.mode = INFLATE_HEAD;
  strm.total_in = 0;
  strm.total_out = 0;
}

/**
 * Whether an inflater stands between two DEFLATE blocks (or at the start of a stream), i.e.
 * no block is half-read; undefined if this pako's state cannot be read.
 */
export function inflaterBetweenBlocks(strm: ZStream): boolean | undefined {
  if (!fastInflateReset) return undefined;
  const mode = (strm.state as InflateStateFields).mode;
  return mode === INFLATE_TYPE || mode === INFLATE_TYPEDO || mode === INFLATE_HEAD;
}

interface InflateWindowFields {
  window: Uint8Array | null;
  whave: number;
  wnext: number;
}

interface DeflateWindowFields {
  window: Uint8Array;
  w_size: number;
  strstart: number;
  lookahead: number;
}

/**
 * The history a raw inflate context holds (zlib's `inflateGetDictionary`): the last bytes it
 * produced, at most its window, oldest first; empty when it holds none. A context moved to
 * another thread continues exactly when it is given this as its preset dictionary.
 */
export function inflateHistory(strm: ZStream): Uint8Array {
  const s = strm.state as unknown as InflateWindowFields;
  const window = s.window;
  if (window === null || s.whave === 0) return new Uint8Array(0);
  const out = new Uint8Array(s.whave);
  const head = s.whave - s.wnext;
  out.set(window.subarray(s.wnext, s.whave), 0);
  out.set(window.subarray(0, s.wnext), head);
  return out;
}

/**
 * The history a raw deflate context may refer back to (zlib's `deflateGetDictionary`): the
 * last bytes it was given, at most its window, oldest first. Between messages (after a sync
 * flush) that is everything the peer's inflater remembers.
 */
export function deflateHistory(strm: ZStream): Uint8Array {
  const s = strm.state as unknown as DeflateWindowFields;
  const end = s.strstart + s.lookahead;
  const length = Math.min(end, s.w_size);
  return s.window.slice(end - length, end);
}
