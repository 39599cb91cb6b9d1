/**
 * The zlib contexts permessage-deflate runs on, and the memory they write to.
 *
 * pako's `Inflate`/`Deflate` classes allocate output chunks and cannot be reset, so the
 * inflater and deflater drive pako's low-level zlib functions on `ZStream`s they keep: a
 * context is built once and reset in place (cheaply, see `zlib-state.ts`) when a message must
 * not see the previous one. Output goes to one scratch buffer per process, from which exactly
 * the bytes produced are copied out. Codecs are synchronous, so nothing else uses the scratch
 * meanwhile.
 *
 * Without context takeover, a message that is compressed or inflated within one call does not
 * need a context of its own: it borrows a process-wide one, reset after every use so that no
 * connection ever sees another's bytes. A deflate context with a 15-bit window weighs ~256 KiB,
 * so this is what keeps 10 000 such connections from costing gigabytes.
 */

import { ZStream, Z_DEFAULT_STRATEGY, Z_OK, zlibDeflateInit2, zlibInflateInit2 } from 'pako';

const Z_DEFLATED = 8;
/** zlib's default memory level: a 64 KiB hash table (pako's fast hash always uses 2^15 slots). */
export const DEFAULT_MEM_LEVEL = 8;

/** Size of the output scratch: the most produced per zlib call. */
export const SCRATCH_SIZE = 64 * 1024;
/** Where every zlib call writes its output, before it is copied out. */
export const scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);
/** What a context's input is set to between calls, so it does not keep a chunk alive. */
export const EMPTY_INPUT = new Uint8Array(0);

/** Copies the first `length` scratch bytes to a buffer of their own, after `headroom` free bytes. */
export function copyScratch(length: number, headroom = 0): Buffer {
  const out = Buffer.allocUnsafe(headroom + length);
  scratch.copy(out, headroom, 0, length);
  return out;
}

/** A raw inflate context. */
export function newInflateStream(windowBits: number): ZStream {
  const strm = new ZStream();
  const status = zlibInflateInit2(strm, -windowBits);
  if (status !== Z_OK) throw new Error(`Cannot create an inflater with a ${windowBits}-bit window (zlib status ${status}).`);
  return strm;
}

/** A raw deflate context (`memLevel` 1–9 sizes its hash table and pending buffer, as in zlib). */
export function newDeflateStream(windowBits: number, level: number, memLevel: number = DEFAULT_MEM_LEVEL): ZStream {
  const strm = new ZStream();
  const status = zlibDeflateInit2(strm, level, Z_DEFLATED, -windowBits, memLevel, Z_DEFAULT_STRATEGY);
  if (status !== Z_OK) throw new Error(`Cannot create a deflater (window ${windowBits}, level ${level}, zlib status ${status}).`);
  return strm;
}

/** A context shared by every connection without context takeover. */
export interface SharedContext {
  readonly strm: ZStream;
  /** Freshly reset: no message's bytes are in it. */
  clean: boolean;
  /** Lent out for a message right now (a borrower that failed to give it back keeps it). */
  lent: boolean;
}

/**
 * Lends the shared context for `key` (built on first use, fully reset if a borrower left it
 * dirty), or returns null when it is lent out already. The borrower gives it back by setting
 * `lent` false, and `clean` true only after resetting it.
 */
export function borrowShared<K>(
  pool: Map<K, SharedContext>,
  key: K,
  create: () => ZStream,
  fullReset: (strm: ZStream) => unknown,
): SharedContext | null {
  let shared = pool.get(key);
  if (shared === undefined) {
    shared = { strm: create(), clean: true, lent: false };
    pool.set(key, shared);
  }
  if (shared.lent) return null;
  if (!shared.clean) fullReset(shared.strm);
  shared.clean = false;
  shared.lent = true;
  return shared;
}
