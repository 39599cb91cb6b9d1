/**
 * The `auto` engine: the `wasm` engine inline on the main thread for small jobs, the worker
 * pool for heavy ones (compressing and inflating where the pool pays), decided job by job with
 * thresholds measured on this kind of machine (`auto-thresholds.ts`, `bench/pool/crossover.mjs`,
 * `bench/results/pool.md`) and overridable by config (Auto*Threshold).
 *
 * A connection's decoding state is in one place at a time. Between messages that state is
 * only the inflate history (with client context takeover; nothing without it), so there the
 * decoder may move: a chunk whose frames announce enough compressed bytes (or enough bytes at
 * all) goes to the pool, carrying the history as a preset dictionary; a light chunk after a
 * heavy one brings the decoder back (with context takeover, after a few light chunks in a row,
 * because coming back costs a round trip to fetch the history). Mid-message, chunks go where
 * the decoder is.
 *
 * Outgoing, without server context takeover each compressed message is independent: a large
 * one is compressed in the pool, a small one inline. With context takeover the deflate stream
 * moves to the pool with the first large message (its history preset there) and stays there:
 * moving it back would cost a round trip and re-hashing the window (see the bench).
 *
 * The pool is started on the first heavy job, so a server that never sees one runs no threads.
 */

import { availableParallelism } from 'node:os';
import type { Codec, CodecOptions, DecodeResult, EncodeRequest, Engine } from '../protocol/codec.js';
import { MessageEncoder, compressesMessage } from '../protocol/message-encoder.js';
import { RemoteConnection } from './pool-shard.js';
import { WorkerPool, decodeRemotely, decodeResult, encodeRemotely, type PoolOptions } from './pool.js';
import { WasmFrameDecoder } from './wasm-decoder.js';
import { createWasmDeflater } from './wasm-deflater.js';
import { wasmRuntime } from './wasm-module.js';
import { JOB_EXPORT, type DecodeOutcome, type ExportOutcome } from './worker-protocol.js';
import { measuredAutoThresholds, type AutoThresholds } from './auto-thresholds.js';

export type { AutoThresholds } from './auto-thresholds.js';

/**
 * The measured defaults for this process (see `auto-thresholds.ts`): they depend on how many
 * CPUs it may use, since a pool sharing the main thread's only core adds no capacity.
 */
export const DEFAULT_AUTO_THRESHOLDS: AutoThresholds = measuredAutoThresholds(availableParallelism());

/** With client context takeover, light chunks in a row before decoding comes back inline. */
const LIGHT_CHUNKS_BEFORE_RETURN = 8;

/** Settings of an {@link AutoEngine}. */
export interface AutoOptions extends PoolOptions {
  readonly thresholds?: Partial<AutoThresholds>;
}

/** The `auto` engine. */
export class AutoEngine implements Engine {
  readonly name = 'auto';
  readonly thresholds: AutoThresholds;
  private readonly poolOptions: PoolOptions;
  private workers: WorkerPool | null = null;
  private closed = false;

  constructor(options: AutoOptions = {}) {
    this.poolOptions = { threads: options.threads, daemon: options.daemon };
    const t = options.thresholds ?? {};
    this.thresholds = Object.freeze({
      deflate: t.deflate ?? DEFAULT_AUTO_THRESHOLDS.deflate,
      inflate: t.inflate ?? DEFAULT_AUTO_THRESHOLDS.inflate,
      decode: t.decode ?? DEFAULT_AUTO_THRESHOLDS.decode,
    });
  }

  /** The pool, started on first use; null before. */
  get pool(): WorkerPool | null {
    return this.workers;
  }

  createCodec(options: CodecOptions): Codec {
    return new AutoCodec(this, options, new WasmFrameDecoder(options, wasmRuntime()));
  }

  /** @internal A worker-side state for a codec that has a heavy job. */
  connect(options: CodecOptions): RemoteConnection {
    if (this.closed) throw new Error('The engine is closed.');
    return (this.workers ??= new WorkerPool(this.poolOptions)).connect(options);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.workers?.close();
  }
}

/**
 * Whether the frames that begin in `chunk` (read from its start, which must be a frame
 * boundary) make it a job for the pool: enough compressed payload announced, or enough in all.
 */
export function heavyChunk(chunk: Uint8Array, thresholds: AutoThresholds): boolean {
  const n = chunk.length;
  if (n >= thresholds.decode) return true;
  let pos = 0;
  let compressedMessage = false;
  let compressed = 0;
  let total = 0;
  while (pos + 2 <= n) {
    const b0 = chunk[pos]!;
    const b1 = chunk[pos + 1]!;
    let length = b1 & 0x7f;
    let header = 2;
    if (length === 126) {
      if (pos + 4 > n) break;
      length = (chunk[pos + 2]! << 8) | chunk[pos + 3]!;
      header = 4;
    } else if (length === 127) {
      if (pos + 10 > n) break;
      const high = ((chunk[pos + 2]! << 24) | (chunk[pos + 3]! << 16) | (chunk[pos + 4]! << 8) | chunk[pos + 5]!) >>> 0;
      const low = ((chunk[pos + 6]! << 24) | (chunk[pos + 7]! << 16) | (chunk[pos + 8]! << 8) | chunk[pos + 9]!) >>> 0;
      length = high * 0x100000000 + low;
      header = 10;
    }
    if ((b1 & 0x80) !== 0) header += 4;
    const opcode = b0 & 0x0f;
    if (opcode === 1 || opcode === 2) compressedMessage = (b0 & 0x40) !== 0;
    if (opcode < 8) {
      if (compressedMessage) compressed += length;
      total += length;
      if (compressed >= thresholds.inflate || total >= thresholds.decode) return true;
    }
    pos += header + length;
  }
  return false;
}

type Route = 0 | 1;
const INLINE: Route = 0;
const REMOTE: Route = 1;

/** One connection's codec on the `auto` engine. */
class AutoCodec implements Codec {
  private readonly thresholds: AutoThresholds;
  /** The worker-side state, while the codec has any. */
  private remote: RemoteConnection | null = null;
  private faultHandler: ((err: Error) => void) | null = null;

  // Decoding
  /** The inline decoder; null while decoding is in the worker. */
  private decoder: WasmFrameDecoder | null;
  /** (Decoding in the worker) the last result there ended between messages. */
  private remoteAtBoundary = false;
  private lightChunks = 0;

  // Encoding
  private encoder: MessageEncoder | null = null;
  /** The context-takeover deflate stream moved to the worker (for good). */
  private deflateRemote = false;
  /** Where the pieces of the message being sent go. */
  private messageRoute: Route = INLINE;
  private disposed = false;

  constructor(
    private readonly engine: AutoEngine,
    private readonly options: CodecOptions,
    decoder: WasmFrameDecoder,
  ) {
    this.thresholds = engine.thresholds;
    this.decoder = decoder;
  }

  get saturated(): boolean {
    return this.decoder === null && this.remote !== null && this.remote.shard.saturated;
  }

  setFaultHandler(handler: (err: Error) => void): void {
    this.faultHandler = handler;
    this.remote?.setFaultHandler(handler);
  }

  decode(chunk: Buffer): DecodeResult | Promise<DecodeResult> {
    const decoder = this.decoder;
    if (this.disposed) return { events: [], error: null };
    if (decoder !== null) {
      if (!decoder.atMessageBoundary || decoder.finishedDecoding || !heavyChunk(chunk, this.thresholds)) return decoder.decode(chunk);
      // A heavy chunk between messages: decoding moves to the worker, with the inflate history.
      const window = decoder.inflateWindow();
      decoder.dispose();
      this.decoder = null;
      this.lightChunks = 0;
      return this.decodeThere(chunk, { window });
    }
    if (this.remoteAtBoundary && !heavyChunk(chunk, this.thresholds)) {
      if (this.options.deflate === null || this.options.deflate.clientNoContextTakeover) return this.decodeHere(chunk, null);
      if (++this.lightChunks >= LIGHT_CHUNKS_BEFORE_RETURN) {
        const remote = this.remote!;
        return remote.run<ExportOutcome>({ kind: JOB_EXPORT, id: remote.id }, [], 0).then((outcome) =>
          this.decodeHere(chunk, outcome.window === null ? null : new Uint8Array(outcome.window)),
        );
      }
    } else {
      this.lightChunks = 0;
    }
    return this.decodeThere(chunk, undefined);
  }

  encode(request: EncodeRequest): Buffer[] | Promise<Buffer[]> {
    if (this.disposed) throw new Error('encode(): the codec was disposed.');
    if (request.first) this.messageRoute = this.routeMessage(request);
    if (this.messageRoute === INLINE) return (this.encoder ??= new MessageEncoder({ ...this.options, createDeflater: createWasmDeflater })).encode(request);
    const deflate = this.options.deflate!;
    let fresh: { window: Uint8Array | null } | undefined;
    if (!deflate.serverNoContextTakeover && !this.deflateRemote) {
      // The takeover stream moves to the worker, continuing from the history compressed so far.
      this.deflateRemote = true;
      fresh = { window: this.encoder?.deflateWindow() ?? null };
      this.encoder?.dispose();
      this.encoder = null;
    }
    const remote = this.ensureRemote();
    return encodeRemotely(remote, request, fresh).finally(() => this.releaseRemoteIfIdle());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.decoder?.dispose();
    this.encoder?.dispose();
    this.remote?.close();
    this.remote = null;
  }

  private routeMessage(request: EncodeRequest): Route {
    const deflate = this.options.deflate;
    if (!compressesMessage(request, deflate, this.options.compressionThreshold ?? 0)) {
      // Sent uncompressed: framed inline, whatever else is where.
      return INLINE;
    }
    if (this.deflateRemote) return REMOTE;
    return request.data.length >= this.thresholds.deflate ? REMOTE : INLINE;
  }

  private decodeThere(chunk: Buffer, fresh: { window: Uint8Array | null } | undefined): Promise<DecodeResult> {
    const remote = this.ensureRemote();
    return decodeRemotely(remote, chunk, fresh).then((outcome: DecodeOutcome) => {
      this.remoteAtBoundary = outcome.boundary;
      return decodeResult(outcome);
    });
  }

  /** Decoding comes back to the main thread (between messages), continuing from `window`. */
  private decodeHere(chunk: Buffer, window: Uint8Array | null): DecodeResult {
    if (this.disposed) return { events: [], error: null };
    const decoder = new WasmFrameDecoder(this.options, wasmRuntime());
    if (window !== null) decoder.presetInflateWindow(window);
    this.decoder = decoder;
    this.lightChunks = 0;
    this.releaseRemoteIfIdle();
    return decoder.decode(chunk);
  }

  private ensureRemote(): RemoteConnection {
    let remote = this.remote;
    if (remote === null) {
      remote = this.remote = this.engine.connect(this.options);
      if (this.faultHandler !== null) remote.setFaultHandler(this.faultHandler);
    }
    return remote;
  }

  /** Frees the worker-side state once nothing lives there and no job is in flight. */
  private releaseRemoteIfIdle(): void {
    const remote = this.remote;
    if (remote === null || this.decoder === null || this.deflateRemote || remote.jobsInFlight !== 0) return;
    remote.close();
    this.remote = null;
  }
}
