/**
 * Sending: the two modes of the reference (Timeout 0: 10035, BytesSent, ReadyToSend;
 * Timeout > 0: the promise settles when written, 10060 on timeout), SendFile and
 * SetUploadStream streaming in fragments without holding the data, Interrupt, Disconnect with
 * DisconnectStatusCode/Description, and WaitForCloseResponse.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WSServerError } from '../src/index.js';
import { cleanUpAfterEachTest, type TestServer } from './helpers/server.js';
import { RawClient } from './helpers/raw-client.js';
import { FrameStream, type FrameHeader } from './helpers/frame-stream.js';
import { codeOf, connectPeer, errorOf, sleep, syncCodeOf, waitUntil, type Peer } from './helpers/ws-client.js';

const { cleanups, started } = cleanUpAfterEachTest();

async function peerOf(ts: TestServer): Promise<Peer> {
  const peer = await connectPeer(ts, '/', undefined, { perMessageDeflate: false });
  cleanups.push(() => peer.client.close());
  return peer;
}

async function rawOf(ts: TestServer): Promise<{ client: RawClient; id: string }> {
  const client = await RawClient.open(ts.port);
  cleanups.push(() => client.destroy());
  const port = client.socket.localPort!;
  await waitUntil(() => [...ts.server.connections.values()].some((c) => c.remotePort === port), 2000, 'the connection');
  return { client, id: [...ts.server.connections.values()].find((c) => c.remotePort === port)!.connectionId };
}

/** A numbered 64 KiB message: its number in the first 4 bytes, then a fill byte derived from it. */
function numbered(n: number, size = 64 * 1024): Buffer {
  const b = Buffer.alloc(size, (n * 31 + 7) & 0xff);
  b.writeUInt32BE(n, 0);
  return b;
}

function checkNumbered(data: Buffer, n: number, size = 64 * 1024): void {
  expect(data.length).toBe(size);
  expect(data.readUInt32BE(0)).toBe(n);
  expect(data.equals(numbered(n, size))).toBe(true);
}

const readyToSendCount = (ts: TestServer, id: string): number =>
  ts.events.filter((e) => e.name === 'readyToSend' && (e.event as { connectionId: string }).connectionId === id).length;

describe('Timeout 0: asynchronous sends', () => {
  it('a client that stops reading makes send fail with 10035; ReadyToSend fires when it reads again; nothing is lost', async () => {
    const ts = await started({ config: { OutBufferSize: 256 * 1024 } });
    const { client, conn, id } = await peerOf(ts);
    expect(conn.timeout).toBe(0);
    client.socket.pause();
    let failure: unknown = null;
    let accepted = 0;
    for (let i = 0; i < 4000 && !failure; i++) {
      try {
        const result = ts.server.send(id, numbered(accepted));
        expect(result).toBeInstanceOf(Promise);
        expect(conn.bytesSent).toBe(64 * 1024);
        accepted++;
      } catch (err) {
        failure = err;
      }
      await new Promise((r) => setImmediate(r)); // let the socket write, as a server with other work would
    }
    expect(failure).toBeInstanceOf(WSServerError);
    expect((failure as WSServerError).code).toBe(10035);
    // The kernel's buffers filled first: far more than OutBufferSize (four messages) was accepted.
    expect(accepted).toBeGreaterThan(8);
    expect(conn.bytesSent).toBe(0);
    expect(conn.readyToSend).toBe(false);
    // Still full while the client does not read: no ReadyToSend, and DataToSend fails the same way.
    const before = readyToSendCount(ts, id);
    await sleep(200);
    expect(readyToSendCount(ts, id)).toBe(before);
    expect(syncCodeOf(() => ts.server.sendText(id, 'x'.repeat(300 * 1024)))).toBe(10035);
    expect(syncCodeOf(() => (conn.dataToSendB = Buffer.alloc(300 * 1024)))).toBe(10035);
    client.socket.resume();
    await ts.waitFor('readyToSend', () => readyToSendCount(ts, id) > before, 10000);
    expect(conn.readyToSend).toBe(true);
    const got = await client.waitForMessages(accepted, 20000);
    got.forEach((m, n) => checkNumbered(m.data, n));
    // Sending works again, and what failed was never sent.
    await ts.server.sendText(id, 'after');
    const last = await client.message(accepted);
    expect(last.data.toString()).toBe('after');
    expect(client.messages).toHaveLength(accepted + 1);
  });
});

describe('Timeout > 0: synchronous sends', () => {
  it('the promise resolves once the data is written; BytesSent stays 0', async () => {
    const ts = await started();
    const { client, conn, id } = await peerOf(ts);
    conn.timeout = 5;
    const big = randomBytes(4 * 1024 * 1024);
    await ts.server.send(id, big);
    expect(conn.bytesSent).toBe(0);
    await ts.server.sendText(id, 'second');
    const [first, second] = await client.waitForMessages(2, 10000);
    expect(first!.data.equals(big)).toBe(true);
    expect(second!.data.toString()).toBe('second');
  });

  it('a send bigger than OutBufferSize still goes out whole (it waits, never fails with 10035)', async () => {
    const ts = await started({ config: { OutBufferSize: 4096 } });
    const { client, conn, id } = await peerOf(ts);
    conn.timeout = 5;
    const sends = [0, 1, 2, 3].map((n) => ts.server.send(id, numbered(n)));
    await Promise.all(sends);
    (await client.waitForMessages(4)).forEach((m, n) => checkNumbered(m.data, n));
  });

  it('rejects with 10060 when the client does not read within Timeout; earlier sends arrive intact and in order', async () => {
    const ts = await started({ config: { OutBufferSize: 256 * 1024 } });
    const { client, conn, id } = await peerOf(ts);
    conn.timeout = 1;
    client.socket.pause();
    let resolved = 0;
    let failure: unknown = null;
    let lastProgress = Date.now();
    while (!failure && resolved < 4000) {
      try {
        await ts.server.send(id, numbered(resolved));
        resolved++;
        lastProgress = Date.now();
      } catch (err) {
        failure = err;
      }
    }
    expect(failure).toBeInstanceOf(WSServerError);
    expect((failure as WSServerError).code).toBe(10060);
    expect(Date.now() - lastProgress).toBeGreaterThanOrEqual(900);
    expect(conn.connected).toBe(true);
    client.socket.resume();
    const got = await client.waitForMessages(resolved, 20000);
    got.forEach((m, n) => checkNumbered(m.data, n));
    await sleep(100);
    // The send that timed out may still arrive after the others, but whole.
    expect(client.messages.length - resolved).toBeLessThanOrEqual(1);
    if (client.messages.length > resolved) checkNumbered(client.messages[resolved]!.data, resolved);
    conn.timeout = 5;
    await ts.server.sendText(id, 'after');
    await client.until(() => client.messages.some((m) => m.data.toString() === 'after'), 5000, () => 'the last message');
  });
});

describe('SendFile', () => {
  let dir: string;
  let file: string;
  let fileHash: string;
  const FILE_SIZE = 20 * 1024 * 1024;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsworks-send-'));
    file = join(dir, 'big.bin');
    const data = randomBytes(FILE_SIZE);
    fileHash = createHash('sha256').update(data).digest('hex');
    writeFileSync(file, data);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a 20 MiB file arrives as one message in MaxFrameSize fragments without the server holding it', async () => {
    setFlagsFromString('--expose-gc');
    // Free ArrayBuffers within gc() itself, so the count read right after it is exact.
    setFlagsFromString('--no-concurrent-array-buffer-sweeping');
    const gc = runInNewContext('gc') as () => void;
    const ts = await started();
    const frames: FrameHeader[] = [];
    const hash = createHash('sha256');
    let received = 0;
    const stream = await FrameStream.open(ts.port, {
      onFrame: (h) => frames.push(h),
      onPayload: (b) => {
        hash.update(b);
        received += b.length;
      },
    });
    cleanups.push(() => stream.destroy());
    await waitUntil(() => ts.server.connections.size === 1, 2000, 'the connection');
    const id = [...ts.server.connections.keys()][0]!;
    ts.server.connections.get(id)!.timeout = 30;
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
    }, 10);
    try {
      await ts.server.sendFile(id, file);
      await waitUntil(() => received === FILE_SIZE, 20000, 'the whole file');
    } finally {
      clearInterval(sampler);
    }
    expect(hash.digest('hex')).toBe(fileHash);
    const dataFrames = frames.filter((f) => f.opcode < 8);
    expect(dataFrames.length).toBe(Math.ceil(FILE_SIZE / 131072));
    expect(dataFrames[0]!.opcode).toBe(2);
    expect(dataFrames.slice(1).every((f) => f.opcode === 0)).toBe(true);
    expect(dataFrames.slice(0, -1).every((f) => !f.fin && f.length === 131072)).toBe(true);
    expect(dataFrames.at(-1)!.fin).toBe(true);
    // Streaming keeps a few fragments in flight, never the file.
    expect(peak).toBeLessThan(FILE_SIZE / 4);
  });

  it('with Timeout > 0, a client that stops reading makes SendFile reject with 10060; the message is ended', async () => {
    const ts = await started();
    const { client, id } = await rawOf(ts);
    ts.server.connections.get(id)!.timeout = 1;
    client.socket.pause();
    const t0 = Date.now();
    const err = await errorOf(() => ts.server.sendFile(id, file));
    expect(err.code).toBe(10060);
    expect(Date.now() - t0).toBeLessThan(5000);
    client.socket.resume();
    const m = (await client.nextMessage(10000))!;
    expect(m.opcode).toBe(2);
    expect(m.frames.at(-1)!.fin).toBe(true);
    expect(m.payload.length).toBeGreaterThan(0);
    expect(m.payload.length).toBeLessThan(FILE_SIZE);
    await ts.server.sendText(id, 'usable');
    const next = (await client.nextMessage())!;
    expect([next.opcode, next.payload.toString()]).toEqual([1, 'usable']);
  });

  it('honours MaxFrameSize, and a ws client gets the file as one binary message', async () => {
    const ts = await started({ config: { MaxFrameSize: 65536 } });
    const small = join(dir, 'small.bin');
    const data = randomBytes(300_000);
    writeFileSync(small, data);
    const { client, id } = await rawOf(ts);
    await ts.server.sendFile(id, small);
    const m = (await client.nextMessage())!;
    expect(m.frames.map((f) => f.payload.length)).toEqual([65536, 65536, 65536, 65536, 300_000 - 4 * 65536]);
    expect(m.payload.equals(data)).toBe(true);
    const peer = await peerOf(ts);
    await ts.server.sendFile(peer.id, small);
    const got = await peer.client.message(0);
    expect(got.isBinary).toBe(true);
    expect(got.data.equals(data)).toBe(true);
  });

  it('an empty file is an empty binary message; a missing file rejects and the connection stays usable', async () => {
    const ts = await started();
    const empty = join(dir, 'empty.bin');
    writeFileSync(empty, Buffer.alloc(0));
    const peer = await peerOf(ts);
    await ts.server.sendFile(peer.id, empty);
    expect(await peer.client.message(0)).toEqual({ data: Buffer.alloc(0), isBinary: true });
    const err = await errorOf(() => ts.server.sendFile(peer.id, join(dir, 'missing.bin')));
    expect(err.message).toContain('missing.bin');
    await ts.server.sendText(peer.id, 'still fine');
    expect((await peer.client.message(1)).data.toString()).toBe('still fine');
  });
});

describe('SetUploadStream', () => {
  function chunks(count: number, size: number): Buffer[] {
    return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i & 0xff));
  }

  it('sends a Readable as one binary message', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    const parts = chunks(50, 10_000);
    await ts.server.setUploadStream(peer.id, Readable.from(parts));
    const m = await peer.client.message(0);
    expect(m.isBinary).toBe(true);
    expect(m.data.equals(Buffer.concat(parts))).toBe(true);
  });

  it('CloseStreamAfterTransfer True (default) destroys the stream afterwards; False leaves it open', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    const make = (): Readable => {
      const r = new Readable({ read() {}, autoDestroy: false });
      r.push('abc');
      r.push(null);
      return r;
    };
    const a = make();
    await ts.server.setUploadStream(peer.id, a);
    expect(a.destroyed).toBe(true);
    ts.server.config('CloseStreamAfterTransfer=False');
    const b = make();
    await ts.server.setUploadStream(peer.id, b);
    expect(b.destroyed).toBe(false);
    b.destroy();
    expect((await peer.client.waitForMessages(2)).map((m) => m.data.toString())).toEqual(['abc', 'abc']);
  });

  it('while a stream is being sent, an asynchronous send fails with 10035 and ReadyToSend follows the stream', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    const slow = new Readable({ read() {} });
    const sending = ts.server.setUploadStream(peer.id, slow);
    slow.push(Buffer.from('part1-'));
    await sleep(30);
    const before = readyToSendCount(ts, peer.id);
    expect(syncCodeOf(() => ts.server.sendText(peer.id, 'in between'))).toBe(10035);
    slow.push(Buffer.from('part2'));
    slow.push(null);
    await sending;
    await ts.waitFor('readyToSend', () => readyToSendCount(ts, peer.id) > before, 2000);
    await ts.server.sendText(peer.id, 'after');
    const got = await peer.client.waitForMessages(2);
    expect(got.map((m) => m.data.toString())).toEqual(['part1-part2', 'after']);
  });

  it('with Timeout > 0 a send waits for the stream to finish instead of failing', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    peer.conn.timeout = 5;
    const slow = new Readable({ read() {} });
    const streaming = ts.server.setUploadStream(peer.id, slow);
    slow.push(Buffer.from('stream'));
    await sleep(20);
    const text = ts.server.sendText(peer.id, 'queued');
    await sleep(50);
    slow.push(null);
    await Promise.all([streaming, text]);
    expect((await peer.client.waitForMessages(2)).map((m) => m.data.toString())).toEqual(['stream', 'queued']);
  });

  it('a stream that fails rejects the send; the message is ended and the connection stays usable', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    const failing = new Readable({ read() {} });
    const sending = ts.server.setUploadStream(peer.id, failing);
    failing.push(Buffer.from('partial-'));
    await sleep(20);
    failing.push(Buffer.from('message'));
    await sleep(20); // the first chunk went out as a fragment without FIN, the second waits
    failing.destroy(new Error('source broke'));
    await expect(sending).rejects.toThrow();
    await ts.server.sendText(peer.id, 'next');
    const got = await peer.client.waitForMessages(2);
    expect(got.map((m) => [m.data.toString(), m.isBinary])).toEqual([
      ['partial-message', true],
      ['next', false],
    ]);
    expect(peer.client.closeCode).toBeNull();
  });
});

describe('Interrupt', () => {
  it('stops a slow stream: the message ends early, the promise rejects with 10004, the connection stays usable', async () => {
    const ts = await started();
    const { client, id } = await rawOf(ts);
    let pushed = 0;
    const slow = new Readable({ read() {} });
    const timer = setInterval(() => {
      slow.push(Buffer.alloc(1024, 0x41 + (pushed++ % 26)));
    }, 40);
    cleanups.push(() => clearInterval(timer));
    const sending = ts.server.setUploadStream(id, slow);
    const failure = errorOf(() => sending);
    await waitUntil(() => pushed >= 4, 2000, 'a few chunks');
    const t0 = Date.now();
    ts.server.interrupt(id);
    const err = await failure;
    expect(err.code).toBe(10004);
    expect(Date.now() - t0).toBeLessThan(500);
    const m = (await client.nextMessage())!;
    expect(m.opcode).toBe(2);
    expect(m.frames.at(-1)!.fin).toBe(true);
    expect(m.payload.length % 1024).toBe(0);
    expect(m.payload.length).toBeGreaterThan(0);
    expect(m.payload.length).toBeLessThanOrEqual(pushed * 1024);
    expect(slow.destroyed).toBe(true);
    await ts.server.sendText(id, 'after interrupt');
    const next = (await client.nextMessage())!;
    expect(next.opcode).toBe(1);
    expect(next.payload.toString()).toBe('after interrupt');
  });

  it('stops a stream whose client stopped reading (the send waits for room) at once', async () => {
    const ts = await started();
    const { client, id } = await rawOf(ts);
    client.socket.pause();
    let produced = 0;
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 0x5a));
        produced++;
      },
    });
    const failure = errorOf(() => ts.server.setUploadStream(id, endless));
    // Wait until the stream is held back by the client, not by the source.
    let last = -1;
    while (produced !== last) {
      last = produced;
      await sleep(100);
    }
    const t0 = Date.now();
    ts.server.interrupt(id);
    expect((await failure).code).toBe(10004);
    expect(Date.now() - t0).toBeLessThan(500);
    client.socket.resume();
    const m = (await client.nextMessage(10000))!;
    expect(m.frames.at(-1)!.fin).toBe(true);
    await ts.server.sendText(id, 'usable');
    expect((await client.nextMessage())!.payload.toString()).toBe('usable');
  });

  it('stops a stream that stalls (produces nothing more) at once', async () => {
    const ts = await started();
    const { client, id } = await rawOf(ts);
    const stalled = new Readable({ read() {} });
    stalled.push(Buffer.from('only this'));
    const sending = ts.server.setUploadStream(id, stalled);
    const failure = errorOf(() => sending);
    await sleep(100);
    const t0 = Date.now();
    ts.server.interrupt(id);
    expect((await failure).code).toBe(10004);
    expect(Date.now() - t0).toBeLessThan(500);
    const m = (await client.nextMessage())!;
    expect(m.payload.toString()).toBe('only this');
    expect(m.frames.at(-1)!.fin).toBe(true);
    await ts.server.sendText(id, 'usable');
    expect((await client.nextMessage())!.payload.toString()).toBe('usable');
  });
});

describe('Disconnect and the closing handshake', () => {
  it('Disconnect closes with DisconnectStatusCode and DisconnectStatusDescription', async () => {
    const ts = await started({ config: { DisconnectStatusCode: 4000, DisconnectStatusDescription: 'bye now' } });
    const peer = await peerOf(ts);
    ts.server.disconnect(peer.id);
    expect(await peer.client.closed).toEqual({ code: 4000, reason: 'bye now' });
    const d = await ts.waitFor('disconnected');
    expect(d).toEqual({ connectionId: peer.id, statusCode: 4000, description: 'bye now' });
    expect(ts.server.connections.has(peer.id)).toBe(false);
  });

  it('by default Disconnect closes with 1000 and a standard description', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    ts.server.disconnect(peer.id);
    const closed = await peer.client.closed;
    expect(closed.code).toBe(1000);
    expect(closed.reason.length).toBeGreaterThan(0);
    // Disconnecting again (while closing or closed) is harmless.
    expect(() => peer.conn.disconnect()).not.toThrow();
  });

  it('a send after Disconnect fails with 10057 (closing) or 126 (gone)', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    ts.server.disconnect(peer.id);
    expect([10057, 126]).toContain(await codeOf(() => ts.server.sendText(peer.id, 'late')));
    await peer.client.closed;
    await waitUntil(() => !ts.server.connections.has(peer.id), 2000, 'the connection to go');
    expect(await codeOf(() => ts.server.sendText(peer.id, 'late'))).toBe(126);
  });

  it('the client closing first: the server answers with the same code and reports it', async () => {
    const ts = await started();
    const peer = await peerOf(ts);
    peer.client.ws.close(4321, 'client leaving');
    expect((await peer.client.closed).code).toBe(4321);
    expect(await ts.waitFor('disconnected')).toEqual({ connectionId: peer.id, statusCode: 4321, description: 'client leaving' });
  });

  /** A raw client whose socket stays half-open after the server's FIN, as a client that never answers. */
  async function silentClient(port: number): Promise<{ socket: net.Socket; frames: Buffer[] }> {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const frames: Buffer[] = [];
    let head = true;
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      if (head) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        pending = pending.subarray(end + 4);
        head = false;
      }
      while (pending.length >= 2 && pending.length >= 2 + (pending[1]! & 0x7f)) {
        const len = pending[1]! & 0x7f;
        frames.push(Buffer.from(pending.subarray(0, 2 + len)));
        pending = pending.subarray(2 + len);
      }
    });
    await new Promise((r) => setTimeout(r, 50));
    return { socket, frames };
  }

  it('WaitForCloseResponse False: the server drops TCP right after its close frame', async () => {
    const ts = await started({ config: { WaitForCloseResponse: false } });
    const { socket, frames } = await silentClient(ts.port);
    cleanups.push(() => void socket.destroy());
    const ended = new Promise<void>((r) => socket.once('end', () => r()));
    const id = [...ts.server.connections.keys()][0]!;
    const t0 = Date.now();
    ts.server.disconnect(id);
    await ended;
    const d = await ts.waitFor('disconnected', undefined, 3000);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(d.statusCode).toBe(1000);
    expect(frames.map((f) => f[0])).toEqual([0x88]);
    expect(frames[0]!.readUInt16BE(2)).toBe(1000);
  });

  it('WaitForCloseResponse True (default): the server waits for the answer, at most CloseTimeout', async () => {
    const ts = await started({ config: { CloseTimeout: 1 } });
    const { socket, frames } = await silentClient(ts.port);
    cleanups.push(() => void socket.destroy());
    let ended = false;
    socket.once('end', () => (ended = true));
    const id = [...ts.server.connections.keys()][0]!;
    const t0 = Date.now();
    ts.server.disconnect(id);
    await sleep(500);
    expect(frames.map((f) => f[0])).toEqual([0x88]);
    expect(ended).toBe(false); // still waiting for the client's close frame
    expect(ts.server.connections.has(id)).toBe(true);
    await ts.waitFor('disconnected', undefined, 3000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(1800);
  });

  it('WaitForCloseResponse True: the answer ends the connection at once', async () => {
    const ts = await started();
    const { client, id } = await rawOf(ts);
    ts.server.disconnect(id);
    const close = await client.expectClose();
    expect(close.code).toBe(1000);
    const t0 = Date.now();
    await client.sendClose(1000);
    expect(await client.waitClosed(2000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(500);
    expect((await ts.waitFor('disconnected')).statusCode).toBe(1000);
  });
});
