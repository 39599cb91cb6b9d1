/**
 * What the main thread and the pool's workers say to each other (engines `pool` and `auto`).
 *
 * One Piscina task carries a batch of jobs for the connections pinned to one worker, in the
 * order they were submitted; the reply carries one result per job, in the same order. Bytes
 * travel as transferred `ArrayBuffer`s, never through structured clone: inbound chunks go to
 * the worker and (when payloads are views of them) come back; events are described by an
 * `Int32Array` of four words each; outgoing frames come back packed in one buffer per job.
 *
 * This file is loaded on both sides, so it holds only types and the (un)packing helpers.
 */

import type { DeflateParams, InboundEvent, MessageOpcode, ProtocolViolation } from '../protocol/codec.js';

/** Job kinds. */
export const JOB_DECODE = 0;
export const JOB_ENCODE = 1;
export const JOB_CLOSE = 2;
/** Hands the decoder's state back (auto: the connection's decoding moves to the main thread). */
export const JOB_EXPORT = 3;
/** @internal Tests only: the worker throws while running this job, or exits. */
export const JOB_FAULT = 4;

/** How a connection's state is built in a worker (sent with its first job there). */
export interface OpenSpec {
  readonly maxMessageSize: number;
  readonly deflate: DeflateParams | null;
  readonly compressionLevel?: number;
  readonly memLevel?: number;
}

/**
 * Decodes `buf[off, off + len)` with the connection's decoder. With `fresh`, the decoder is
 * (re)built first, continuing from inflate history `window` when given (auto moving a
 * connection's decoding to the worker between messages).
 */
export interface DecodeJob {
  readonly kind: typeof JOB_DECODE;
  readonly id: number;
  readonly buf: ArrayBuffer;
  readonly off: number;
  readonly len: number;
  readonly open?: OpenSpec;
  readonly fresh?: boolean;
  readonly window?: ArrayBuffer | null;
}

/**
 * Encodes pieces of compressed messages. `reqs` holds four words per piece (see
 * {@link packEncodeFlags}, then offset and length in `buf`, then the largest frame payload).
 * With `fresh`, the encoder is (re)built first, continuing from deflate history `window`.
 */
export interface EncodeJob {
  readonly kind: typeof JOB_ENCODE;
  readonly id: number;
  readonly buf: ArrayBuffer;
  readonly reqs: Int32Array;
  readonly open?: OpenSpec;
  readonly fresh?: boolean;
  readonly window?: ArrayBuffer | null;
}

export interface CloseJob {
  readonly kind: typeof JOB_CLOSE;
  readonly id: number;
}

export interface ExportJob {
  readonly kind: typeof JOB_EXPORT;
  readonly id: number;
}

export interface FaultJob {
  readonly kind: typeof JOB_FAULT;
  readonly id: number;
  /** Exit the worker (process.exit in the thread) rather than throw. */
  readonly exit: boolean;
}

export type Job = DecodeJob | EncodeJob | CloseJob | ExportJob | FaultJob;

/** One Piscina task: jobs for connections pinned to one worker, run in order. */
export interface ShardTask {
  readonly jobs: Job[];
}

/** Events of one decode job. */
export interface DecodeOutcome {
  /** Four words per event: flags (see {@link packEventFlags}), buffer index (-1: empty), offset, length. */
  readonly meta: Int32Array;
  /** The buffers payloads are in (transferred). */
  readonly bufs: ArrayBuffer[];
  /** Close reasons, in the order of the close events (at most one in practice). */
  readonly reasons: string[] | null;
  readonly error: ProtocolViolation | null;
  /** The decoder is between messages after this job (see `WasmFrameDecoder.atMessageBoundary`). */
  readonly boundary: boolean;
}

/** Frames of one encode job: piece i is `out[ends[i - 1] ?? 0, ends[i])`. */
export interface EncodeOutcome {
  readonly out: ArrayBuffer;
  readonly ends: number[];
}

/** The decoder's inflate history (export job), null when it holds none. */
export interface ExportOutcome {
  readonly window: ArrayBuffer | null;
}

/** The job threw in the worker; the connection's state there was dropped. */
export interface FailedOutcome {
  readonly fail: string;
}

export type JobOutcome = DecodeOutcome | EncodeOutcome | ExportOutcome | FailedOutcome | null;

/** The reply to a {@link ShardTask}. */
export interface ShardReply {
  readonly results: JobOutcome[];
  /** The worker's `threadId`: a connection's jobs must all be answered by the thread that holds its state. */
  readonly thread: number;
}

export function isFailed(outcome: JobOutcome): outcome is FailedOutcome {
  return outcome !== null && (outcome as FailedOutcome).fail !== undefined;
}

// ---- event descriptors -----------------------------------------------------------------------

const KIND_DATA = 0;
const KIND_PING = 1;
const KIND_PONG = 2;
const KIND_CLOSE = 3;

/** Word 0 of an event: kind (2 bits), opcode (2), first, fin, then the close code from bit 8. */
export function packEventFlags(event: InboundEvent): number {
  switch (event.kind) {
    case 'data':
      return KIND_DATA | (event.opcode << 2) | (event.first ? 16 : 0) | (event.fin ? 32 : 0);
    case 'ping':
      return KIND_PING;
    case 'pong':
      return KIND_PONG;
    default:
      return KIND_CLOSE | (event.code << 8);
  }
}

const EMPTY = Buffer.alloc(0);

/** Turns a decode outcome back into events whose payloads are views of the transferred buffers. */
export function unpackEvents(outcome: DecodeOutcome): InboundEvent[] {
  const { meta, bufs, reasons } = outcome;
  const views: Buffer[] = new Array<Buffer>(bufs.length);
  for (let i = 0; i < bufs.length; i++) views[i] = Buffer.from(bufs[i]!);
  const events: InboundEvent[] = [];
  let reason = 0;
  for (let k = 0; k < meta.length; k += 4) {
    const w0 = meta[k]!;
    const index = meta[k + 1]!;
    const payload = index < 0 ? EMPTY : views[index]!.subarray(meta[k + 2]!, meta[k + 2]! + meta[k + 3]!);
    switch (w0 & 3) {
      case KIND_DATA:
        events.push({ kind: 'data', opcode: ((w0 >>> 2) & 3) as MessageOpcode, payload, first: (w0 & 16) !== 0, fin: (w0 & 32) !== 0 });
        break;
      case KIND_PING:
        events.push({ kind: 'ping', payload });
        break;
      case KIND_PONG:
        events.push({ kind: 'pong', payload });
        break;
      default:
        events.push({ kind: 'close', code: w0 >>> 8, reason: reasons?.[reason++] ?? '' });
    }
  }
  return events;
}

/** Payloads at least this long that own their whole `ArrayBuffer` travel in it instead of being copied. */
export const OWN_BUFFER_FROM = 4096;

/**
 * Packs events for the trip back: payloads that are views of `chunk` point into it (then it
 * is transferred back, if `chunkReusable`), large payloads that own their buffer travel in it,
 * and the rest are copied into one buffer.
 */
export function packEvents(
  events: readonly InboundEvent[],
  chunk: ArrayBuffer,
  chunkReusable: boolean,
): { meta: Int32Array; bufs: ArrayBuffer[]; reasons: string[] | null } {
  const meta = new Int32Array(events.length * 4);
  const bufs: ArrayBuffer[] = [];
  let reasons: string[] | null = null;
  let chunkIndex = -1;
  let extraBytes = 0;
  // First pass: where each payload goes (-2: into the extra buffer, filled in the second pass).
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const k = i * 4;
    meta[k] = packEventFlags(event);
    if (event.kind === 'close') {
      (reasons ??= []).push(event.reason);
      meta[k + 1] = -1;
      continue;
    }
    const payload = event.payload;
    const length = payload.length;
    meta[k + 3] = length;
    if (length === 0) {
      meta[k + 1] = -1;
    } else if (payload.buffer === chunk && chunkReusable) {
      if (chunkIndex < 0) chunkIndex = bufs.push(chunk) - 1;
      meta[k + 1] = chunkIndex;
      meta[k + 2] = payload.byteOffset;
    } else if (length >= OWN_BUFFER_FROM && payload.byteOffset === 0 && payload.buffer.byteLength === length && payload.buffer !== chunk) {
      meta[k + 1] = bufs.push(payload.buffer as ArrayBuffer) - 1;
      meta[k + 2] = 0;
    } else {
      meta[k + 1] = -2;
      meta[k + 2] = extraBytes;
      extraBytes += length;
    }
  }
  if (extraBytes > 0) {
    const extra = Buffer.allocUnsafeSlow(extraBytes);
    const extraIndex = bufs.push(extra.buffer as ArrayBuffer) - 1;
    for (let i = 0; i < events.length; i++) {
      const k = i * 4;
      if (meta[k + 1] !== -2) continue;
      meta[k + 1] = extraIndex;
      (events[i] as { payload: Buffer }).payload.copy(extra, meta[k + 2]!);
    }
  }
  return { meta, bufs, reasons };
}

// ---- encode requests -------------------------------------------------------------------------

/** Word 0 of an encode request: opcode (2 bits), first, fin. */
export function packEncodeFlags(opcode: MessageOpcode, first: boolean, fin: boolean): number {
  return opcode | (first ? 4 : 0) | (fin ? 8 : 0);
}

export function encodeFlagsOpcode(flags: number): MessageOpcode {
  return (flags & 3) as MessageOpcode;
}

export function encodeFlagsFirst(flags: number): boolean {
  return (flags & 4) !== 0;
}

export function encodeFlagsFin(flags: number): boolean {
  return (flags & 8) !== 0;
}

/**
 * A buffer of our own holding `data`'s bytes, fit to be transferred: `data` itself when it
 * owns its whole `ArrayBuffer` and `owned` says the caller may give it away, else a copy
 * (Node's pooled small buffers are views of a shared, untransferable slab).
 */
export function transferable(data: Uint8Array, owned: boolean): { buf: ArrayBuffer; off: number } {
  if (owned && data.byteOffset === 0 && data.buffer.byteLength === data.byteLength && data.byteLength > 0) {
    return { buf: data.buffer as ArrayBuffer, off: 0 };
  }
  const copy = Buffer.allocUnsafeSlow(data.byteLength);
  copy.set(data);
  return { buf: copy.buffer as ArrayBuffer, off: 0 };
}
