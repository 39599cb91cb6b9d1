/**
 * The `pool` engine: the `wasm` engine's codec run in Piscina worker threads, so that
 * decoding, inflating and compressing stay off the main thread, which keeps the sockets,
 * timers and events.
 *
 * - Each connection is pinned to one worker (a {@link Shard}) that holds its decoder and its
 *   compression windows; the connection sends it jobs and gets events and frames back.
 * - Inbound: the connection's chunk travels to the worker as a transferred `ArrayBuffer` (a
 *   copy only for Node's pooled small buffers) and comes back transferred when the events'
 *   payloads are views of it; inflated payloads come back in buffers of their own. The
 *   connection keeps one decode in flight and joins what arrives meanwhile.
 * - Outbound: compressed messages are compressed and framed (split at MaxFrameSize) in the
 *   worker, in order. Messages sent uncompressed are framed on the main thread: a frame header
 *   is a few bytes next to a payload that stays where it is, and moving the payload to a
 *   worker would cost a copy (the application still owns it) for nothing.
 * - When a shard has too much queued, its connections stop reading (`saturated`).
 * - A worker that dies takes its connections' state with it: those connections fail with 1011
 *   (and an Error event), the others go on, and Piscina starts a new thread for new ones.
 */

import { availableParallelism } from 'node:os';
import type { Codec, CodecOptions, DecodeResult, EncodeRequest, Engine } from '../protocol/codec.js';
import { MessageEncoder, compressesMessage } from '../protocol/message-encoder.js';
import { RemoteConnection, Shard } from './pool-shard.js';
import {
  JOB_DECODE,
  JOB_ENCODE,
  packEncodeFlags,
  transferable,
  unpackEvents,
  type DecodeOutcome,
  type EncodeOutcome,
  type OpenSpec,
} from './worker-protocol.js';

/** Settings of a worker pool. */
export interface PoolOptions {
  /** Worker threads; `os.availableParallelism()` when omitted (at least 1). */
  readonly threads?: number;
  /** Workers do not keep the process alive (UseDaemonThreads); true when omitted. */
  readonly daemon?: boolean;
  /** @internal Queued bytes per shard above which its connections stop reading (tests). */
  readonly saturatedBytes?: number;
}

/** The threads a pool starts by default: one per CPU this process may run on. */
export function defaultWorkerThreads(): number {
  return Math.max(1, availableParallelism());
}

let nextConnectionId = 1;

/** The shards of one engine instance and the assignment of connections to them. */
export class WorkerPool {
  readonly shards: readonly Shard[];
  private closed = false;

  constructor(options: PoolOptions = {}) {
    const threads = Math.max(1, Math.floor(options.threads ?? defaultWorkerThreads()));
    const daemon = options.daemon ?? true;
    this.shards = Array.from({ length: threads }, () => new Shard({ daemon, saturatedBytes: options.saturatedBytes }));
  }

  /** A worker-side state for a new connection, on the shard with the fewest connections. */
  connect(options: CodecOptions): RemoteConnection {
    if (this.closed) throw new Error('The worker pool is closed.');
    let best = this.shards[0]!;
    for (const shard of this.shards) if (shard.pinned < best.pinned) best = shard;
    const spec: OpenSpec = {
      maxMessageSize: options.maxMessageSize,
      deflate: options.deflate,
      compressionLevel: options.compressionLevel,
      memLevel: options.memLevel,
    };
    return new RemoteConnection(best, nextConnectionId++, spec);
  }

  /** Some shard is saturated. */
  get saturated(): boolean {
    return this.shards.some((s) => s.saturated);
  }

  /** Terminates every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.shards.map((s) => s.close()));
  }
}

/** Decodes `chunk` in the connection's worker (`fresh`: rebuild the decoder there first, from `window`). */
export function decodeRemotely(
  remote: RemoteConnection,
  chunk: Buffer,
  fresh?: { window: Uint8Array | null },
): Promise<DecodeOutcome> {
  const { buf, off } = transferable(chunk, true);
  const window = fresh?.window ? transferable(fresh.window, false).buf : null;
  const transfers = window === null ? [buf] : [buf, window];
  const job = fresh === undefined
    ? { kind: JOB_DECODE, id: remote.id, buf, off, len: chunk.length }
    : { kind: JOB_DECODE, id: remote.id, buf, off, len: chunk.length, fresh: true, window };
  return remote.run<DecodeOutcome>(job as never, transfers, chunk.length);
}

/** The events of a decode outcome. */
export function decodeResult(outcome: DecodeOutcome): DecodeResult {
  return { events: unpackEvents(outcome), error: outcome.error };
}

/**
 * Compresses and frames one piece of a compressed message in the connection's worker
 * (`fresh`: rebuild the encoder there first, continuing from deflate history `window`).
 */
export function encodeRemotely(
  remote: RemoteConnection,
  request: EncodeRequest,
  fresh?: { window: Uint8Array | null },
): Promise<Buffer[]> {
  const data = request.data;
  const copy = Buffer.allocUnsafeSlow(data.length); // the application still owns `data`
  data.copy(copy);
  const buf = copy.buffer as ArrayBuffer;
  const reqs = new Int32Array([packEncodeFlags(request.opcode, request.first, request.fin), 0, data.length, request.maxFrameSize | 0]);
  const window = fresh?.window ? transferable(fresh.window, false).buf : null;
  const transfers = window === null ? [buf, reqs.buffer as ArrayBuffer] : [buf, reqs.buffer as ArrayBuffer, window];
  const job = fresh === undefined
    ? { kind: JOB_ENCODE, id: remote.id, buf, reqs }
    : { kind: JOB_ENCODE, id: remote.id, buf, reqs, fresh: true, window };
  return remote.run<EncodeOutcome>(job as never, transfers, data.length).then((outcome) => [Buffer.from(outcome.out)]);
}

/** One connection's codec on the `pool` engine. */
class PoolCodec implements Codec {
  /** Frames messages sent uncompressed (built on the first one). */
  private inline: MessageEncoder | null = null;
  /** The message being sent is compressed, so its pieces go to the worker. */
  private messageRemote = false;

  constructor(
    private readonly remote: RemoteConnection,
    private readonly options: CodecOptions,
  ) {}

  get saturated(): boolean {
    return this.remote.shard.saturated;
  }

  setFaultHandler(handler: (err: Error) => void): void {
    this.remote.setFaultHandler(handler);
  }

  decode(chunk: Buffer): DecodeResult | Promise<DecodeResult> {
    if (chunk.length === 0) return { events: [], error: null };
    return decodeRemotely(this.remote, chunk).then(decodeResult);
  }

  encode(request: EncodeRequest): Buffer[] | Promise<Buffer[]> {
    if (request.first) this.messageRemote = compressesMessage(request, this.options.deflate, this.options.compressionThreshold ?? 0);
    if (!this.messageRemote) return (this.inline ??= new MessageEncoder({ deflate: null })).encode(request);
    return encodeRemotely(this.remote, request);
  }

  dispose(): void {
    this.remote.close();
    this.inline?.dispose();
  }
}

/** The `pool` engine: one {@link WorkerPool} per server, ended by `close()` (server shutdown). */
export class PoolEngine implements Engine {
  readonly name = 'pool';
  readonly pool: WorkerPool;

  constructor(options: PoolOptions = {}) {
    this.pool = new WorkerPool(options);
  }

  createCodec(options: CodecOptions): Codec {
    return new PoolCodec(this.pool.connect(options), options);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
