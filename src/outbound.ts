/**
 * The outgoing side of one connection: frames queued during a pass are coalesced into one
 * socket write, queued bytes are counted against OutBufferSize, and writers that wait for
 * room or for their bytes to reach the socket are woken in order.
 */
import type { Socket } from 'node:net';

/** Below this many bytes, several queued frames are copied into one buffer for one write. */
const COALESCE_LIMIT = 64 * 1024;

type Waiter = () => void;

export class Outbound {
  private queue: Buffer[] = [];
  private queueBytes = 0;
  /** Callbacks to run once the bytes queued so far were handed to the kernel. */
  private writtenCallbacks: Array<(err?: Error | null) => void> | null = null;
  /** Writers waiting until the queue has room again. */
  private roomWaiters: Waiter[] | null = null;
  private flushScheduled = false;
  /** While > 0, flushes wait for the end of the current pass (see hold/release). */
  private holds = 0;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    /** Told when the queue drained completely. */
    private readonly owner: { onDrained(): void },
  ) {}

  /** Bytes accepted but not yet taken by the kernel: our queue plus Node's socket buffer. */
  get pendingBytes(): number {
    return this.queueBytes + this.socket.writableLength;
  }

  /** Queues frames for the next flush. */
  push(buffers: readonly Buffer[], onWritten?: (err?: Error | null) => void): void {
    if (this.ended) {
      onWritten?.(new Error('socket closed'));
      return;
    }
    for (const b of buffers) {
      this.queue.push(b);
      this.queueBytes += b.length;
    }
    if (onWritten) (this.writtenCallbacks ??= []).push(onWritten);
    this.scheduleFlush();
  }

  /** Defers flushing until `release`, so everything one decode pass produces goes out in one write. */
  hold(): void {
    this.holds++;
  }

  release(): void {
    if (--this.holds === 0 && this.queue.length > 0) this.flush();
  }

  /** Resolves once the queue is at most `limit` bytes (immediately if it already is). */
  waitForRoom(limit: number): Promise<void> | null {
    if (this.pendingBytes <= limit) return null;
    return new Promise<void>((resolve) => (this.roomWaiters ??= []).push(resolve));
  }

  /** Writes what is queued now. */
  flush(): void {
    this.flushScheduled = false;
    const count = this.queue.length;
    if (count === 0 || this.ended) return;
    const queue = this.queue;
    const bytes = this.queueBytes;
    const callbacks = this.writtenCallbacks;
    this.queue = [];
    this.queueBytes = 0;
    this.writtenCallbacks = null;
    // The completion callback both settles waiting senders and notices when the queue ran dry
    // ('drain' alone would miss a write that was accepted below the socket's high-water mark).
    const done = (err?: Error | null): void => {
      if (callbacks) for (const cb of callbacks) cb(err);
      this.drained();
    };
    if (count === 1) {
      this.socket.write(queue[0]!, done);
    } else if (bytes <= COALESCE_LIMIT) {
      this.socket.write(Buffer.concat(queue, bytes), done);
    } else {
      this.socket.cork();
      for (let i = 0; i < count - 1; i++) this.socket.write(queue[i]!);
      this.socket.write(queue[count - 1]!, done);
      this.socket.uncork();
    }
  }

  /** After the last write: no more frames are accepted; waiters are released. */
  end(): void {
    this.ended = true;
    const callbacks = this.writtenCallbacks;
    this.writtenCallbacks = null;
    this.queue = [];
    this.queueBytes = 0;
    if (callbacks) for (const cb of callbacks) cb(new Error('socket closed'));
    this.wakeRoomWaiters();
  }

  private scheduleFlush(): void {
    if (this.holds > 0 || this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      if (this.flushScheduled) this.flush();
    });
  }

  private drained(): void {
    this.wakeRoomWaiters();
    if (!this.ended && this.queueBytes === 0 && this.socket.writableLength === 0) this.owner.onDrained();
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    if (waiters === null) return;
    this.roomWaiters = null;
    for (const w of waiters) w();
  }
}
