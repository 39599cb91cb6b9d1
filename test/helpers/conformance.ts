/**
 * Shared checks for the protocol conformance suite (test/protocol-*.test.ts): our own
 * Autobahn|Testsuite, written from the public case descriptions.
 *
 * How Autobahn grades a case, and what these helpers therefore assert:
 * - The testsuite is the client. When it expects the server to fail the connection, it waits for
 *   the server's close frame, answers it (it never fails by dropping TCP), and then expects the
 *   server to drop TCP within a second. A close code outside the case's list is "WRONG CODE",
 *   a client that has to drop TCP itself is "FAILED BY CLIENT".
 * - When the client starts the closing handshake, the server must answer with a close frame
 *   (the client's code, or 1000) and then drop TCP.
 * - Nothing may follow the server's close frame.
 */
import { expect } from 'vitest';
import { attachEcho, type WSServer } from '../../src/index.js';
import type { DisconnectedEvent } from '../../src/events.js';
import { RawClient, closePayload, type HandshakeOptions, type ServerFrame } from './raw-client.js';
import { startServer, type TestServer } from './server.js';
import type { TestClient } from './ws-client.js';

export const Op = Object.freeze({ Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const);

/** How long the server has to drop TCP after the closing handshake (Autobahn's serverConnectionDropTimeout is 1 s). */
export const DROP_TIMEOUT_MS = 1000;

/**
 * Starts a server set up as `wsworks echo` sets one up (BufferMessage, TcpNoDelay, attachEcho).
 * `configure` runs before attachEcho, for the few cases that need another setting.
 */
export function startEchoServer(engine: string, configure?: (server: WSServer) => void): Promise<TestServer> {
  return startServer({
    engine,
    setup: (s) => {
      s.config('BufferMessage=True');
      s.config('TcpNoDelay=True');
      configure?.(s);
      attachEcho(s);
    },
  });
}

/**
 * The request headers Autobahn's client sends (besides Sec-WebSocket-Key/-Version, which the raw
 * client adds): note `Upgrade: WebSocket` and the port in Host.
 */
export function autobahnHeaders(port: number): Record<string, string> {
  return {
    'User-Agent': 'AutobahnTestSuite/0.8.2-0.10.9',
    Host: `127.0.0.1:${port}`,
    Upgrade: 'WebSocket',
    Connection: 'Upgrade',
    Pragma: 'no-cache',
    'Cache-Control': 'no-cache',
  };
}

/** Opens a raw client with a completed handshake, sent with Autobahn's request headers. */
export function openRaw(ts: TestServer, options: HandshakeOptions = {}): Promise<RawClient> {
  return RawClient.open(ts.port, { ...options, headers: { ...autobahnHeaders(ts.port), ...options.headers } });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Checks a frame the server sent: unmasked, RSV2/RSV3 clear, RSV1 only when `compressed`. */
export function expectServerFrame(frame: ServerFrame, compressed = false): void {
  expect(frame.masked, 'server frames must not be masked').toBe(false);
  expect(frame.rsv2 || frame.rsv3, 'RSV2/RSV3 must be clear').toBe(false);
  if (!compressed) expect(frame.rsv1, 'RSV1 must be clear without permessage-deflate').toBe(false);
}

/** Compares two buffers without dumping megabytes on failure. */
export function expectSameBytes(actual: Buffer, expected: Buffer, what = 'payload'): void {
  if (actual.equals(expected)) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  expect.fail(`${what} differs: got ${actual.length} bytes, expected ${expected.length}; first difference at byte ${i}`);
}

/**
 * Reads the next whole data message and checks it: its opcode, its payload byte for byte, and
 * its frames (first carries the opcode, the rest are continuations; unmasked, RSV clear).
 */
export async function expectEcho(client: RawClient, opcode: number, payload: Buffer | string, timeoutMs = 5000): Promise<ServerFrame[]> {
  const expected = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const msg = await client.nextMessage(timeoutMs);
  expect(msg, 'expected an echoed message, the connection closed').not.toBeNull();
  expect(msg!.opcode).toBe(opcode);
  msg!.frames.forEach((f, i) => {
    expectServerFrame(f);
    if (i > 0) expect(f.opcode, 'fragments after the first are continuations').toBe(Op.Continuation);
  });
  expectSameBytes(msg!.payload, expected);
  return msg!.frames;
}

/** Reads the next frame, which must be a pong with `payload`. */
export async function expectPong(client: RawClient, payload: Buffer | string, timeoutMs = 5000): Promise<void> {
  const f = await client.nextFrame(timeoutMs);
  expect(f, 'expected a pong, the connection closed').not.toBeNull();
  expectServerFrame(f!);
  expect(f!.opcode).toBe(Op.Pong);
  expect(f!.fin).toBe(true);
  expectSameBytes(f!.payload, typeof payload === 'string' ? Buffer.from(payload) : payload, 'pong payload');
}

/** The TCP connection ends because the server closed it (within DROP_TIMEOUT_MS), cleanly (FIN, not RST). */
export async function expectServerDropsTcp(client: RawClient, timeoutMs = DROP_TIMEOUT_MS): Promise<void> {
  const closed = await client.waitClosed(timeoutMs);
  expect(closed, `the server did not close the TCP connection within ${timeoutMs} ms`).toBe(true);
  expect(client.error?.code, 'the server reset the connection instead of closing it').not.toBe('ECONNRESET');
}

export interface CloseOutcome {
  /** The close code the server sent (1005 when its close frame had none). */
  code: number;
  reason: string;
  /** Frames the server sent before its close frame. */
  before: ServerFrame[];
  /** The server's `disconnected` event for this connection. */
  disconnected: DisconnectedEvent;
}

/**
 * The server fails the connection: its close frame carries one of `codes`, nothing follows,
 * and after the client answers the close (as Autobahn does) the server drops TCP.
 */
export async function expectFailure(ts: TestServer, client: RawClient, codes: number | readonly number[], timeoutMs = 5000): Promise<CloseOutcome> {
  const accepted = typeof codes === 'number' ? [codes] : codes;
  const port = client.localPort;
  const close = await client.expectClose(timeoutMs);
  expect(accepted, `close code ${close.code} (${close.reason})`).toContain(close.code);
  if (!client.socket.destroyed && !client.ended) {
    client.write(Buffer.from(buildCloseReply(close.code)));
  }
  await expectServerDropsTcp(client);
  expect(client.unreadFrames(), 'nothing may follow the close frame').toEqual([]);
  const disconnected = await ts.disconnectedFor(port);
  expect(disconnected.statusCode).toBe(close.code);
  return { ...close, disconnected };
}

/**
 * The client starts the closing handshake with `payload` (undefined: an empty close frame; null:
 * the test already sent its close); the server must answer with one of `codes` and then drop
 * TCP. Frames the server sent before its close are returned (many cases expect none).
 */
export async function expectCloseHandshake(
  ts: TestServer,
  client: RawClient,
  payload: Buffer | undefined | null,
  codes: number | readonly number[],
  timeoutMs = 5000,
): Promise<CloseOutcome> {
  const accepted = typeof codes === 'number' ? [codes] : codes;
  const port = client.localPort;
  if (payload !== null) await client.send(Op.Close, payload ?? Buffer.alloc(0));
  const close = await client.expectClose(timeoutMs);
  expect(accepted, `close code ${close.code} (${close.reason})`).toContain(close.code);
  await expectServerDropsTcp(client);
  expect(client.unreadFrames(), 'nothing may follow the close frame').toEqual([]);
  const disconnected = await ts.disconnectedFor(port);
  return { ...close, disconnected };
}

/** The usual end of a passing case: the client closes with 1000, the server answers 1000 and drops TCP. */
export async function closeNormally(ts: TestServer, client: RawClient): Promise<CloseOutcome> {
  const outcome = await expectCloseHandshake(ts, client, closePayload(1000), 1000);
  expect(outcome.before.filter((f) => f.opcode !== Op.Pong), 'no unexpected data before the close').toEqual([]);
  expect(outcome.disconnected.statusCode).toBe(1000);
  return outcome;
}

/** A masked close frame answering `code` (the raw bytes, so it can be written even if the socket is half-closed). */
function buildCloseReply(code: number): Buffer {
  const payload = code === 1005 ? Buffer.alloc(0) : closePayload(code);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x88;
  frame[1] = 0x80 | payload.length;
  // all-zero masking key: the payload goes out as is
  payload.copy(frame, 6);
  return frame;
}

/** Fills a buffer with a repeated pattern (Autobahn's `payload_len` frames). */
export function repeatTo(pattern: string | Buffer, length: number): Buffer {
  const p = typeof pattern === 'string' ? Buffer.from(pattern, 'latin1') : pattern;
  const out = Buffer.allocUnsafe(length);
  if (length === 0) return out;
  p.copy(out, 0, 0, Math.min(p.length, length));
  let filled = Math.min(p.length, length);
  while (filled < length) {
    const n = Math.min(filled, length - filled);
    out.copy(out, filled, 0, n);
    filled += n;
  }
  return out;
}

/**
 * A whole message as masked frames of at most `fragmentSize` payload bytes, in one buffer (so a
 * 4 MiB message in 64-byte fragments costs one write). A zero fragment size means one frame.
 */
export function buildMessage(opcode: number, payload: Buffer, fragmentSize = 0, options: { rsv1?: boolean } = {}): Buffer {
  const size = fragmentSize > 0 ? fragmentSize : Math.max(1, payload.length);
  const count = Math.max(1, Math.ceil(payload.length / size));
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const piece = payload.subarray(i * size, Math.min(payload.length, (i + 1) * size));
    parts.push(maskedFrame(i === 0 ? opcode : Op.Continuation, piece, i === count - 1, i === 0 && options.rsv1 === true));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

let keySeed = 0x9e3779b9;
/** A masked client frame; the key varies from frame to frame (cheap LCG, not crypto). */
export function maskedFrame(opcode: number, payload: Buffer, fin = true, rsv1 = false): Buffer {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headLen + 4 + len);
  frame[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (len < 126) {
    frame[1] = 0x80 | len;
  } else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  keySeed = (Math.imul(keySeed, 1664525) + 1013904223) >>> 0;
  const key = keySeed | 0x01010101; // never a zero byte, so masking really changes the payload
  frame.writeUInt32BE(key >>> 0, headLen);
  const k = [(key >>> 24) & 0xff, (key >>> 16) & 0xff, (key >>> 8) & 0xff, key & 0xff];
  const start = headLen + 4;
  const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    frame[start + i] = payload[i]! ^ k0;
    frame[start + i + 1] = payload[i + 1]! ^ k1;
    frame[start + i + 2] = payload[i + 2]! ^ k2;
    frame[start + i + 3] = payload[i + 3]! ^ k3;
  }
  for (; i < len; i++) frame[start + i] = payload[i]! ^ k[i & 3]!;
  return frame;
}

/** Writes `bytes` in chops of `chopSize` (all at once, or with `delayMs` between chops). */
export async function writeChopped(client: RawClient, bytes: Buffer, chopSize: number, delayMs = 0): Promise<void> {
  for (let i = 0; i < bytes.length; i += chopSize) {
    client.write(bytes.subarray(i, i + chopSize));
    if (delayMs > 0) await sleep(delayMs);
  }
}

// ---- ws client ----------------------------------------------------------------------------

/**
 * Sends `data` with a `ws` client (in `fragmentSize` fragments if given) and checks the echo:
 * the next message the client receives, its type and every byte.
 */
export async function wsRoundTrip(
  client: TestClient,
  data: Buffer,
  isBinary: boolean,
  options: { fragmentSize?: number; compress?: boolean } = {},
): Promise<void> {
  const { fragmentSize = 0, compress = true } = options;
  const index = client.messages.length;
  if (fragmentSize > 0 && data.length > fragmentSize) {
    for (let i = 0; i < data.length; i += fragmentSize) {
      const fin = i + fragmentSize >= data.length;
      client.ws.send(data.subarray(i, i + fragmentSize), { binary: isBinary, fin, compress });
    }
  } else {
    client.ws.send(data, { binary: isBinary, compress });
  }
  const m = await client.message(index, 10000);
  expect(m.isBinary).toBe(isBinary);
  expectSameBytes(m.data, data);
}

export type Send = 'together' | 'sync' | 'octets';

/** Sends frames the way Autobahn does: back to back, one per TCP write with a pause ("sync"), or octet by octet. */
export async function sendFrames(client: RawClient, frames: Buffer[], how: Send): Promise<void> {
  if (how === 'together') {
    client.write(Buffer.concat(frames));
    return;
  }
  for (const f of frames) {
    if (how === 'sync') {
      client.write(f);
      await sleep(20);
    } else {
      await writeChopped(client, f, 1, 1);
    }
  }
}
