/**
 * The pool's worker: a Piscina task handler that runs batches of codec jobs for the
 * connections pinned to this thread (engines `pool` and `auto`).
 *
 * Each connection keeps its codec state here between jobs: the `wasm` engine's decoder (the
 * WASM module, compiled once per thread, which also inflates) and the shared
 * `MessageEncoder` with the WASM deflater (compression, fragmentation, frame headers); with
 * context takeover that state is the two compression windows. Jobs run synchronously, in the
 * order they came: per connection, decoding and compression happen in wire order.
 *
 * A job that throws fails alone: its connection's state here is dropped and the result says
 * why; the other jobs of the batch still run.
 */

import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { MessageEncoder } from '../protocol/message-encoder.js';
import { WasmFrameDecoder } from './wasm-decoder.js';
import { createWasmDeflater } from './wasm-deflater.js';
import {
  JOB_CLOSE,
  JOB_DECODE,
  JOB_ENCODE,
  JOB_EXPORT,
  JOB_FAULT,
  encodeFlagsFin,
  encodeFlagsFirst,
  encodeFlagsOpcode,
  packEvents,
  type DecodeJob,
  type DecodeOutcome,
  type EncodeJob,
  type EncodeOutcome,
  type ExportOutcome,
  type Job,
  type JobOutcome,
  type OpenSpec,
  type ShardReply,
  type ShardTask,
} from './worker-protocol.js';

/** One connection's state in this thread. */
interface ConnectionState {
  readonly spec: OpenSpec;
  decoder: WasmFrameDecoder | null;
  encoder: MessageEncoder | null;
}

const connections = new Map<number, ConnectionState>();

/** Runs one batch; the reply transfers every buffer it points to. */
export default function runShardTask(task: ShardTask): unknown {
  const jobs = task.jobs;
  const results: JobOutcome[] = new Array<JobOutcome>(jobs.length);
  const transfers: ArrayBuffer[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    try {
      results[i] = runJob(job, transfers);
    } catch (err) {
      drop(job.id);
      results[i] = { fail: (err as Error)?.message ?? String(err) };
    }
  }
  const reply: ShardReply = { results, thread: threadId };
  return Piscina.move({ [Piscina.transferableSymbol]: transfers, [Piscina.valueSymbol]: reply } as never);
}

function runJob(job: Job, transfers: ArrayBuffer[]): JobOutcome {
  switch (job.kind) {
    case JOB_DECODE:
      return decode(job, transfers);
    case JOB_ENCODE:
      return encode(job, transfers);
    case JOB_CLOSE:
      drop(job.id);
      return null;
    case JOB_EXPORT:
      return exportDecoder(job.id, transfers);
    case JOB_FAULT:
      if (job.exit) process.exit(1);
      throw new Error('Fault injected by a test');
    default:
      throw new Error(`Unknown job kind ${(job as { kind: unknown }).kind}`);
  }
}

function stateOf(id: number, open: OpenSpec | undefined): ConnectionState {
  if (open !== undefined) {
    drop(id);
    const state: ConnectionState = { spec: open, decoder: null, encoder: null };
    connections.set(id, state);
    return state;
  }
  const state = connections.get(id);
  // Its state lived in a thread that died (this one replaced it): never start from scratch.
  if (state === undefined) throw new Error(`This worker holds no state for connection ${id}.`);
  return state;
}

function decode(job: DecodeJob, transfers: ArrayBuffer[]): DecodeOutcome {
  const state = stateOf(job.id, job.open);
  let decoder = state.decoder;
  if (decoder === null || job.fresh === true) {
    decoder?.dispose();
    decoder = state.decoder = new WasmFrameDecoder(state.spec);
    if (job.window) decoder.presetInflateWindow(new Uint8Array(job.window));
  }
  const result = decoder.decode(Buffer.from(job.buf, job.off, job.len));
  // The chunk may go back only if no half-read frame still points into it.
  const packed = packEvents(result.events, job.buf, decoder.betweenFrames);
  for (const buf of packed.bufs) transfers.push(buf);
  return { meta: packed.meta, bufs: packed.bufs, reasons: packed.reasons, error: result.error, boundary: decoder.atMessageBoundary };
}

function encode(job: EncodeJob, transfers: ArrayBuffer[]): EncodeOutcome {
  const state = stateOf(job.id, job.open);
  let encoder = state.encoder;
  if (encoder === null || job.fresh === true) {
    encoder?.dispose();
    const { deflate, compressionLevel, memLevel } = state.spec;
    encoder = state.encoder = new MessageEncoder({ deflate, compressionLevel, memLevel, createDeflater: createWasmDeflater });
    if (job.window) encoder.presetDeflateWindow(new Uint8Array(job.window));
  }
  const data = Buffer.from(job.buf);
  const reqs = job.reqs;
  const frames: Buffer[] = [];
  const ends: number[] = [];
  let total = 0;
  for (let k = 0; k < reqs.length; k += 4) {
    const flags = reqs[k]!;
    const start = reqs[k + 1]!;
    const pieceFrames = encoder.encode({
      opcode: encodeFlagsOpcode(flags),
      data: data.subarray(start, start + reqs[k + 2]!),
      first: encodeFlagsFirst(flags),
      fin: encodeFlagsFin(flags),
      compress: true,
      maxFrameSize: reqs[k + 3]!,
    });
    for (const frame of pieceFrames) {
      frames.push(frame);
      total += frame.length;
    }
    ends.push(total);
  }
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const frame of frames) at += frame.copy(out, at);
  transfers.push(out.buffer as ArrayBuffer);
  return { out: out.buffer as ArrayBuffer, ends };
}

function exportDecoder(id: number, transfers: ArrayBuffer[]): ExportOutcome {
  const state = connections.get(id);
  const decoder = state?.decoder ?? null;
  if (state === undefined || decoder === null) return { window: null };
  const history = decoder.inflateWindow();
  decoder.dispose();
  state.decoder = null;
  if (history === null) return { window: null };
  const window = history.buffer.byteLength === history.byteLength ? (history.buffer as ArrayBuffer) : history.slice().buffer;
  transfers.push(window);
  return { window };
}

function drop(id: number): void {
  const state = connections.get(id);
  if (state === undefined) return;
  connections.delete(id);
  state.decoder?.dispose();
  state.encoder?.dispose();
}
