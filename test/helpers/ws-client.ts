/**
 * The `ws` npm client as a test user of wsworks: open a client and find its server-side
 * connection, collect its messages in order, and wait for its close. Also small assertion
 * helpers for WSServerError codes and for waiting on a condition.
 */
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { type ClientOptions } from 'ws';
import { WSServerError } from '../../src/errors.js';
import type { WSConnection } from '../../src/connection.js';
import type { TestServer } from './server.js';

export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
}

/** A `ws` client that records every message, ping, pong and its close. */
export class TestClient {
  readonly messages: ReceivedMessage[] = [];
  readonly pings: Buffer[] = [];
  readonly pongs: Buffer[] = [];
  closeCode: number | null = null;
  closeReason = '';
  /** Resolves with { code, reason } once the client's 'close' fired. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push({ data: Buffer.from(data), isBinary });
      this.wake();
    });
    ws.on('ping', (data: Buffer) => {
      this.pings.push(Buffer.from(data));
      this.wake();
    });
    ws.on('pong', (data: Buffer) => {
      this.pongs.push(Buffer.from(data));
      this.wake();
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve({ code, reason: this.closeReason });
      });
    });
  }

  /** The client's TCP socket (ws keeps it in `_socket`). */
  get socket(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  /** The local TCP port of the client: the server sees it as the connection's remotePort. */
  get localPort(): number {
    return (this.socket.address() as AddressInfo).port;
  }

  /** Resolves once `count` messages arrived in total; returns them. */
  async waitForMessages(count: number, timeoutMs = 5000): Promise<ReceivedMessage[]> {
    await this.until(() => this.messages.length >= count, timeoutMs, () => `${count} messages (got ${this.messages.length})`);
    return this.messages.slice(0, count);
  }

  /** The message at `index` (0-based, counting every message received so far). */
  async message(index: number, timeoutMs = 5000): Promise<ReceivedMessage> {
    await this.waitForMessages(index + 1, timeoutMs);
    return this.messages[index]!;
  }

  async until(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Closes from the client side and waits for the close to complete. */
  async close(code?: number, reason?: string): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 3000))]);
    this.ws.terminate();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Opens a `ws` client to `url` and waits for 'open' (rejects on an error or a non-101 answer). */
export function openWs(url: string, protocols?: string | string[], options?: ClientOptions): Promise<TestClient> {
  const ws = new WebSocket(url, protocols, options);
  const client = new TestClient(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('error', (err) => reject(err));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
}

/** A connected client and the server's WSConnection for it. */
export interface Peer {
  client: TestClient;
  conn: WSConnection;
  id: string;
}

/** Opens a `ws` client to the test server (path `path`) and finds its connection on the server. */
export async function connectPeer(ts: TestServer, path = '/', protocols?: string | string[], options?: ClientOptions): Promise<Peer> {
  const client = await openWs(`${ts.url}${path}`, protocols, options);
  const port = client.localPort;
  // The server registers the connection before it writes the 101, so it is there by now.
  const conn = [...ts.server.connections.values()].find((c) => c.remotePort === port);
  if (!conn) throw new Error(`no server connection has remotePort ${port}`);
  return { client, conn, id: conn.connectionId };
}

/** What a `ws` client gets for a handshake the server refuses: the HTTP status and headers. */
export function expectRefused(url: string, protocols?: string | string[]): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const ws = new WebSocket(url, protocols);
  ws.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the handshake was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('close', () => reject(new Error('closed without an HTTP response')));
  });
}

/** Runs `fn` (sync or async) and returns the WSServerError it threw or rejected with; fails otherwise. */
export async function errorOf(fn: () => unknown): Promise<WSServerError> {
  let result: unknown;
  try {
    result = fn();
    if (result && typeof (result as Promise<unknown>).then === 'function') await result;
  } catch (err) {
    if (err instanceof WSServerError) return err;
    throw new Error(`expected a WSServerError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a WSServerError, but nothing was thrown');
}

/** The code of the WSServerError `fn` throws or rejects with. */
export async function codeOf(fn: () => unknown): Promise<number> {
  return (await errorOf(fn)).code;
}

/** The code of a synchronous WSServerError from `fn` (fails if `fn` does not throw synchronously). */
export function syncCodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof WSServerError) return err.code;
    throw new Error(`expected a WSServerError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a synchronous WSServerError, but nothing was thrown');
}

/** Polls `condition` every 5 ms until it holds or `timeoutMs` passes. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
