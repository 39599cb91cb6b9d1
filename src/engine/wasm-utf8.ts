/**
 * Incremental UTF-8 validation for bytes that are not in linear memory (inflated text):
 * the WASM validator for short pieces and for the edges of long ones, Node's `buffer.isUtf8`
 * (simdutf) for the complete characters in the middle of long ones.
 *
 * {@link UTF8_DEFER_FROM} is where `isUtf8` starts to win; `npm run bench:kernels` shows the
 * crossover (bench/results/kernels.md).
 */

import { isUtf8 } from 'node:buffer';
import { AUX_SIZE, type WasmRuntime, wasmRuntime } from './wasm-module.js';

/**
 * Text pieces with at least this many bytes after their leading ASCII have the rest validated
 * by `buffer.isUtf8` rather than the WASM validator, which is faster below it (the native
 * call costs ~50 ns) and on ASCII at any size up to ~64 KiB. At least 16.
 */
export const UTF8_DEFER_FROM = 512;

/** The state word of the WASM validator: continuation bytes still expected in bits 0-1. */
function sequenceOpen(state: number): boolean {
  return (state & 3) !== 0;
}

/**
 * Where a sequence that `bytes[start, end)` ends inside begins (its lead byte), or `end`
 * when the piece ends between characters. The twin of the scan in `utf8Piece`.
 */
export function trailingSequenceStart(bytes: Uint8Array, start: number, end: number): number {
  for (let k = 1; k <= 3 && end - k >= start; k++) {
    const b = bytes[end - k];
    if (b < 0x80) break;
    if (b >= 0xc0) {
      const size = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return size > k ? end - k : end;
    }
  }
  return end;
}

/**
 * Validates a stream of UTF-8 fed in pieces, like `Utf8Validator` of the js engine, with the
 * WASM and native validators.
 */
export class WasmUtf8Stream {
  private state = 0;
  private readonly rt: WasmRuntime;

  constructor(rt: WasmRuntime = wasmRuntime()) {
    this.rt = rt;
  }

  /** True when no multi-byte sequence is left open. */
  get complete(): boolean {
    return !sequenceOpen(this.state);
  }

  /** Forgets any open sequence, ready for a new text. */
  reset(): void {
    this.state = 0;
  }

  /**
   * Checks `bytes[start, end)` as the next piece. Returns false at the first invalid byte
   * (the stream must then be reset before reuse).
   */
  push(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    return end - start >= UTF8_DEFER_FROM ? this.pushLong(bytes, start, end) : this.pushShort(bytes, start, end);
  }

  /** Copies the piece (shorter than {@link UTF8_DEFER_FROM}) into linear memory and validates it there. */
  private pushShort(bytes: Uint8Array, start: number, end: number): boolean {
    const rt = this.rt;
    copyIn(rt, bytes, start, end, rt.aux);
    const slot = rt.utf8State >> 2;
    rt.i32[slot] = this.state;
    if (rt.kernels.utf8Validate(rt.aux, end - start, rt.utf8State) !== -1) return false;
    this.state = rt.i32[slot];
    return true;
  }

  /** The edges in WASM, the complete characters between them with `isUtf8`. */
  private pushLong(bytes: Uint8Array, start: number, end: number): boolean {
    const head = this.state & 3;
    if (head !== 0 && !this.pushShort(bytes, start, start + head)) return false;
    const tail = trailingSequenceStart(bytes, start + head, end);
    if (!isUtf8(bytes.subarray(start + head, tail))) return false;
    this.state = 0;
    return tail === end || this.pushShort(bytes, tail, end);
  }
}

/** Below this many bytes a loop copies part of a buffer faster than making a view of it for `set`. */
const COPY_LOOP_BELOW = 48;

/** Copies `bytes[start, end)` to linear memory at `to`. */
export function copyIn(rt: WasmRuntime, bytes: Uint8Array, start: number, end: number, to: number): void {
  const u8 = rt.u8;
  if (start === 0 && end === bytes.length) {
    u8.set(bytes, to);
  } else if (end - start < COPY_LOOP_BELOW) {
    for (let i = start; i < end; i++) u8[to++] = bytes[i];
  } else {
    u8.set(bytes.subarray(start, end), to);
  }
}

/**
 * Whether `bytes` is complete, valid UTF-8, by the WASM validator alone (copied into linear
 * memory in slices of {@link AUX_SIZE}): the "WASM with copies" line of the kernel bench.
 */
export function utf8IsValidWasm(bytes: Uint8Array, rt: WasmRuntime = wasmRuntime()): boolean {
  const slot = rt.utf8State >> 2;
  rt.i32[slot] = 0;
  for (let at = 0; at < bytes.length; at += AUX_SIZE) {
    const end = Math.min(bytes.length, at + AUX_SIZE);
    copyIn(rt, bytes, at, end, rt.aux);
    if (rt.kernels.utf8Validate(rt.aux, end - at, rt.utf8State) !== -1) return false;
  }
  return !sequenceOpen(rt.i32[slot]);
}
