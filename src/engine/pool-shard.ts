/**
 * One shard of the worker pool: a single-thread Piscina pool and the connections pinned to
 * its thread.
 *
 * A connection's codec state (decoder, inflate and deflate contexts) lives in one worker for
 * the connection's whole life, so its jobs must all reach that thread, in order. Piscina
 * balances tasks over its threads with no notion of affinity, so each shard is a pool of
 * exactly one thread, and a connection is pinned to a shard when it opens.
 * (`bench/pool/takeover.mjs` measured the alternative, stateless workers given the 32 KiB
 * window with every job: see `bench/results/pool.md`.)
 *
 * Jobs are batched: everything submitted during one turn of the event loop goes to the worker
 * as one Piscina task (a round trip costs tens of µs whatever it carries), and at most
 * {@link MAX_TASKS_IN_FLIGHT} tasks are in flight: one running, one waiting in the worker,
 * the rest queued here, where they count toward {@link Shard.saturated}.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import {
  JOB_CLOSE,
  isFailed,
  type Job,
  type JobOutcome,
  type OpenSpec,
  type ShardReply,
  type ShardTask,
} from './worker-protocol.js';

/** Tasks a shard has in flight at once: one running, one queued in the worker so it never idles. */
export const MAX_TASKS_IN_FLIGHT = 2;
/** A task carries at most this many jobs... */
const MAX_BATCH_JOBS = 256;
/** ...and about this many bytes of input (at least one job). */
const MAX_BATCH_BYTES = 64 * 1024;
/** Input bytes waiting for the worker (queued here or in its tasks) above which its connections stop reading. */
export const SATURATED_BYTES = 8 << 20;
/** Queued jobs above which the shard is saturated, whatever their size. */
export const SATURATED_JOBS = 4096;

/**
 * The compiled worker entry. Run from `dist/`, it is the `worker-entry.cjs` beside this file; run from
 * the TypeScript sources (the tests), it is the compiled copy in `dist/` (`npm run build:ts`).
 */
export function workerModuleUrl(): URL {
  const here = import.meta.url;
  // The CommonJS entry that loads worker.js (see worker-entry.cts for why not worker.js itself).
  const url = here.endsWith('.ts') ? new URL('../../dist/engine/worker-entry.cjs', here) : new URL('./worker-entry.cjs', here);
  if (!existsSync(fileURLToPath(url))) {
    throw new Error(`The worker pool needs the compiled worker ${fileURLToPath(url)}: run \`npm run build\`.`);
  }
  return url;
}

/** A job waiting to be sent, and where its outcome goes. */
interface Pending {
  readonly member: RemoteConnection | null;
  readonly job: Job;
  readonly transfers: readonly ArrayBuffer[];
  readonly bytes: number;
  readonly settle: ((outcome: JobOutcome) => void) | null;
  readonly fail: ((err: Error) => void) | null;
}

export interface ShardOptions {
  /** Workers keep the process alive (UseDaemonThreads=False) or not. */
  readonly daemon: boolean;
  /** @internal Waiting input bytes above which the shard is saturated ({@link SATURATED_BYTES}). */
  readonly saturatedBytes?: number;
}

/** One single-thread pool and the connections pinned to it. */
export class Shard {
  private readonly piscina: Piscina;
  private readonly daemon: boolean;
  private queue: Pending[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  /** Input bytes of the tasks in flight. */
  private inFlightBytes = 0;
  private tasksInFlight = 0;
  /** Tasks and jobs sent so far (diagnostics: jobs per task is the batching achieved). */
  private tasksSent = 0;
  private jobsSent = 0;
  private flushScheduled = false;
  private closing = false;
  /** Bumped each time the worker is replaced: state dispatched in an older generation is gone. */
  private generation = 0;
  /** Connections with state (or an open job) here. */
  readonly members = new Set<RemoteConnection>();
  /** Connections pinned here (open or not yet), for balancing. */
  pinned = 0;
  private readonly saturatedBytes: number;

  constructor(options: ShardOptions) {
    this.daemon = options.daemon;
    this.saturatedBytes = options.saturatedBytes ?? SATURATED_BYTES;
    this.piscina = new Piscina({
      filename: workerModuleUrl().href,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: MAX_TASKS_IN_FLIGHT,
      idleTimeout: Infinity,
    });
    // A thread that died is replaced by Piscina (minThreads); what it held is lost.
    this.piscina.on('workerDestroy', () => this.workerLost());
    // Errors outside any task (the thread crashed while idle) come here; tasks see theirs.
    this.piscina.on('error', () => this.workerLost());
    this.piscina.on('workerCreate', () => this.refWorkers());
    this.refWorkers();
  }

  /**
   * The worker has more input waiting (queued here or in the tasks it was sent) than the
   * limit: connections feeding this shard should stop reading.
   */
  get saturated(): boolean {
    return this.queuedBytes + this.inFlightBytes > this.saturatedBytes || this.queue.length - this.queueHead > SATURATED_JOBS;
  }

  /** Jobs queued here (not yet sent) and tasks in flight, for tests and diagnostics. */
  get load(): { queuedJobs: number; queuedBytes: number; inFlightBytes: number; tasksInFlight: number; tasksSent: number; jobsSent: number } {
    return {
      queuedJobs: this.queue.length - this.queueHead,
      queuedBytes: this.queuedBytes,
      inFlightBytes: this.inFlightBytes,
      tasksInFlight: this.tasksInFlight,
      tasksSent: this.tasksSent,
      jobsSent: this.jobsSent,
    };
  }

  /** @internal The shard's worker threads (one, or none while it is being replaced). */
  get threads(): readonly import('node:worker_threads').Worker[] {
    return this.piscina.threads;
  }

  /** Queues a job; `settle` gets its outcome, `fail` the error if the task failed as a whole. */
  submit(
    member: RemoteConnection | null,
    job: Job,
    transfers: readonly ArrayBuffer[],
    bytes: number,
    settle: ((outcome: JobOutcome) => void) | null,
    fail: ((err: Error) => void) | null,
  ): void {
    if (this.closing) {
      fail?.(new Error('The worker pool is closed.'));
      return;
    }
    this.queue.push({ member, job, transfers, bytes, settle, fail });
    this.queuedBytes += bytes;
    this.scheduleFlush();
  }

  /** Ends the worker; queued and running jobs fail. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const queued = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
    const err = new Error('The worker pool is closed.');
    for (const p of queued) p.fail?.(err);
    await this.piscina.destroy();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.tasksInFlight >= MAX_TASKS_IN_FLIGHT) return;
    this.flushScheduled = true;
    // After this turn's I/O callbacks and the microtasks they queued: one task for all of them.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.tasksInFlight < MAX_TASKS_IN_FLIGHT && this.queueHead < this.queue.length && !this.closing) {
      const batch: Pending[] = [];
      const jobs: Job[] = [];
      const transferList: ArrayBuffer[] = [];
      let bytes = 0;
      while (this.queueHead < this.queue.length && jobs.length < MAX_BATCH_JOBS && (bytes < MAX_BATCH_BYTES || jobs.length === 0)) {
        const p = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined as unknown as Pending;
        batch.push(p);
        jobs.push(p.job);
        for (const t of p.transfers) transferList.push(t);
        bytes += p.bytes;
        const member = p.member;
        if (member !== null && (p.job as { open?: OpenSpec }).open !== undefined) member.dispatchedIn(this.generation);
      }
      this.queuedBytes -= bytes;
      if (this.queueHead === this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      } else if (this.queueHead > 1024) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      this.tasksInFlight++;
      this.tasksSent++;
      this.jobsSent += jobs.length;
      this.inFlightBytes += bytes;
      const task: ShardTask = { jobs };
      const failed = (err: unknown): void => this.settleFailed(batch, bytes, err instanceof Error ? err : new Error(String(err)));
      let reply: Promise<ShardReply>;
      try {
        reply = this.piscina.run(task, { transferList }) as Promise<ShardReply>;
      } catch (err) {
        failed(err);
        continue;
      }
      reply.then((r) => this.settle(batch, bytes, r), failed);
    }
  }

  private settle(batch: readonly Pending[], bytes: number, reply: ShardReply): void {
    this.tasksInFlight--;
    this.inFlightBytes -= bytes;
    const results = reply.results;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const outcome = results[i] ?? null;
      if (isFailed(outcome) && p.settle === null) p.member?.lost(new Error(`Pool worker: ${outcome.fail}`));
      p.settle?.(outcome);
    }
    if (this.queueHead < this.queue.length) this.scheduleFlush();
  }

  private settleFailed(batch: readonly Pending[], bytes: number, err: Error): void {
    this.tasksInFlight--;
    this.inFlightBytes -= bytes;
    for (const p of batch) {
      if (p.fail !== null) p.fail(err);
      else p.member?.lost(err);
    }
    if (this.queueHead < this.queue.length) this.scheduleFlush();
  }

  private workerLost(): void {
    if (this.closing) return;
    this.generation++;
    const err = new Error('A pool worker died; the connections whose state it held are closed.');
    for (const member of [...this.members]) {
      if (member.dispatchedBefore(this.generation)) member.lost(err);
    }
  }

  private refWorkers(): void {
    if (this.daemon) return; // Piscina leaves its threads unref'd: they never hold the process
    for (const worker of this.piscina.threads) worker.ref();
  }
}

/**
 * The worker-side half of one connection's codec: its id in the worker, its shard, whether
 * its state was sent there, and its jobs in flight. Used by the `pool` and `auto` codecs.
 */
export class RemoteConnection {
  private openQueued = false;
  private dispatched = false;
  private generation = -1;
  private inFlight = 0;
  private failure: Error | null = null;
  /** The connection learnt of the failure (a rejected job, or its fault handler). */
  private told = false;
  private closed = false;
  private handler: ((err: Error) => void) | null = null;

  constructor(
    readonly shard: Shard,
    readonly id: number,
    private readonly spec: OpenSpec,
  ) {
    shard.pinned++;
  }

  /** Why this connection's worker state is gone, or null while it is fine. */
  get fault(): Error | null {
    return this.failure;
  }

  /** Jobs submitted and not settled yet. */
  get jobsInFlight(): number {
    return this.inFlight;
  }

  /** State was (or is being) built in the worker. */
  get open(): boolean {
    return this.openQueued && this.failure === null && !this.closed;
  }

  /** See `Codec.setFaultHandler`. */
  setFaultHandler(handler: (err: Error) => void): void {
    this.handler = handler;
  }

  /**
   * Runs `job` (its `open` field is filled in here when the worker has no state yet). Resolves
   * with its outcome; rejects when the job failed in the worker or the worker died.
   */
  run<T extends JobOutcome>(job: Job, transfers: readonly ArrayBuffer[], bytes: number): Promise<T> {
    if (this.failure !== null) {
      this.told = true;
      return Promise.reject(this.failure);
    }
    if (this.closed) return Promise.reject(new Error('The codec was disposed.'));
    if (!this.openQueued) {
      this.openQueued = true;
      this.shard.members.add(this);
      (job as { open?: OpenSpec }).open = this.spec;
    }
    this.inFlight++;
    return new Promise<T>((resolve, reject) => {
      this.shard.submit(
        this,
        job,
        transfers,
        bytes,
        (outcome) => {
          this.inFlight--;
          if (isFailed(outcome)) {
            this.markLost(new Error(`Pool worker: ${outcome.fail}`));
            this.told = true;
            reject(this.failure);
          } else {
            resolve(outcome as T);
            this.tellIfIdle();
          }
        },
        (err) => {
          this.inFlight--;
          this.markLost(err);
          this.told = true;
          reject(err);
        },
      );
    });
  }

  /** Sends a job whose outcome nobody waits for (it still runs in order with the others). */
  post(job: Job, transfers: readonly ArrayBuffer[] = [], bytes = 0): void {
    if (this.failure !== null || this.closed) return;
    if (!this.openQueued) {
      this.openQueued = true;
      this.shard.members.add(this);
      (job as { open?: OpenSpec }).open = this.spec;
    }
    this.shard.submit(this, job, transfers, bytes, null, null);
  }

  /** Frees the worker state (after the jobs already queued). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.shard.pinned--;
    this.shard.members.delete(this);
    this.handler = null;
    if (this.openQueued && this.failure === null) this.shard.submit(null, { kind: JOB_CLOSE, id: this.id }, [], 0, null, null);
  }

  /** @internal The shard sent this connection's open job while its worker had `generation`. */
  dispatchedIn(generation: number): void {
    this.dispatched = true;
    this.generation = generation;
  }

  /** @internal The state was sent to a worker older than `generation`. */
  dispatchedBefore(generation: number): boolean {
    return this.dispatched && this.generation < generation;
  }

  /**
   * @internal The worker state is gone (its worker died, or a job without a waiting caller
   * failed). A connection waiting for a job learns it from that job; an idle one through
   * its fault handler.
   */
  lost(err: Error): void {
    if (this.failure !== null || this.closed) return;
    this.markLost(err);
    this.tellIfIdle();
  }

  private tellIfIdle(): void {
    if (this.failure === null || this.told || this.inFlight !== 0 || this.closed) return;
    this.told = true;
    const handler = this.handler;
    if (handler !== null) queueMicrotask(() => handler(this.failure!));
  }

  private markLost(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.shard.members.delete(this);
  }
}
