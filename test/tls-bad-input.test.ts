/**
 * What a wss:// port does with clients that are not (good) TLS clients: a plaintext HTTP or
 * ws:// request, an SSLv2 hello, garbage, a ClientHello that is malformed, truncated or never
 * finished, a client that stalls in the middle of the handshake, one that leaves. Each ends
 * that one connection with an Error (or, for a mere probe, a Log line) saying why, and a good
 * client connected all along keeps working.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorEvent } from '../src/events.js';
import { inspectClientHello } from '../src/tls/client-hello.js';
import { makePki, type Pki } from './helpers/tls-pki.js';
import { openWss, startTlsServer, type TlsTestServer } from './helpers/tls-server.js';
import { expectRefused, sleep, type TestClient } from './helpers/ws-client.js';

let pki: Pki;
let ts: TlsTestServer;
let good: TestClient;
let clientHello: Buffer;

/** A real ClientHello, as Node's TLS client sends it. */
async function captureClientHello(): Promise<Buffer> {
  const capture = net.createServer();
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
  const port = (capture.address() as net.AddressInfo).port;
  try {
    return await new Promise<Buffer>((resolve) => {
      capture.once('connection', (socket) => {
        let bytes = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          bytes = Buffer.concat([bytes, chunk]);
          if (inspectClientHello(bytes).kind === 'hello') {
            socket.destroy();
            resolve(bytes);
          }
        });
      });
      tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }).on('error', () => undefined);
    });
  } finally {
    capture.close();
  }
}

beforeAll(async () => {
  pki = makePki();
  clientHello = await captureClientHello();
  ts = await startTlsServer(pki, {
    setup: (s) => {
      s.config('DefaultConnectionTimeout=1');
      s.config('LogLevel=2');
    },
  });
  good = await openWss(ts, pki);
}, 60_000);

afterAll(async () => {
  good?.ws.terminate();
  await ts?.close();
  pki?.remove();
});

/** Opens a TCP connection to the TLS port; resolves with it and a promise of what it receives until it closes. */
async function rawConnect(): Promise<{ socket: net.Socket; received: Promise<Buffer> }> {
  const socket = net.connect({ port: ts.port, host: '127.0.0.1' });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.on('error', () => undefined);
  const received = new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
  return { socket, received };
}

/** The next Error event after `from` (an index into the recorded events). */
async function nextError(from: number, timeoutMs = 5000): Promise<ErrorEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = ts.events.slice(from).find((x) => x.name === 'error');
    if (e) return e.event as ErrorEvent;
    if (Date.now() > deadline) throw new Error('no error event');
    await sleep(10);
  }
}

/** The good client, connected from the start, still echoes. */
async function goodClientStillWorks(): Promise<void> {
  const n = good.messages.length;
  good.ws.send(`still here ${n}`);
  expect((await good.message(n)).data.toString()).toBe(`still here ${n}`);
}

describe('bad input on the TLS port', () => {
  it('a ws:// client gets a plaintext 400 that says to use wss://, and an Error event', async () => {
    const from = ts.events.length;
    const refused = await expectRefused(`ws://127.0.0.1:${ts.port}/`);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(/wss:\/\//);
    const error = await nextError(from);
    expect(error.errorCode).toBe(276);
    expect(error.description).toMatch(/plaintext HTTP request/);
    await goodClientStillWorks();
  });

  it('an SSLv2 hello and garbage are closed with an Error naming them', async () => {
    for (const [bytes, pattern] of [
      [Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x10]), /SSLv2/],
      [Buffer.from('\x00\x01\x02\x03\x04\x05garbage'), /not a TLS handshake record/],
    ] as const) {
      const from = ts.events.length;
      const { socket, received } = await rawConnect();
      socket.write(bytes);
      await received;
      expect((await nextError(from)).description).toMatch(pattern);
    }
    await goodClientStillWorks();
  });

  it('a malformed ClientHello gets a decode_error alert and an Error', async () => {
    const from = ts.events.length;
    const bad = Buffer.from(clientHello);
    const sidLen = bad[5 + 4 + 2 + 32]!;
    bad.writeUInt16BE(0xfff0, 5 + 4 + 2 + 32 + 1 + sidLen); // cipher suites overrun the hello
    const { socket, received } = await rawConnect();
    socket.write(bad);
    expect((await received).equals(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x32]))).toBe(true);
    expect((await nextError(from)).description).toMatch(/truncated or its lengths do not add up/);
    await goodClientStillWorks();
  });

  it('a truncated ClientHello that stalls times out (DefaultConnectionTimeout) with an Error', async () => {
    const from = ts.events.length;
    const { socket, received } = await rawConnect();
    socket.write(clientHello.subarray(0, 100));
    await received;
    const error = await nextError(from);
    expect(error.errorCode).toBe(10060);
    expect(error.description).toMatch(/an incomplete ClientHello \(100 bytes\) after 1 s of inactivity \(DefaultConnectionTimeout\)/);
    await goodClientStillWorks();
  });

  it('a truncated ClientHello whose client leaves is reported; a mere probe only logged', async () => {
    let from = ts.events.length;
    const { socket, received } = await rawConnect();
    socket.write(clientHello.subarray(0, 60));
    await sleep(50);
    socket.end();
    await received;
    expect((await nextError(from)).description).toMatch(/closed the connection after 60 bytes of an incomplete ClientHello/);
    from = ts.events.length;
    const probe = await rawConnect();
    probe.socket.end();
    await probe.received;
    await sleep(100);
    expect(ts.events.slice(from).filter((e) => e.name === 'error')).toEqual([]);
    expect(ts.events.slice(from).some((e) => e.name === 'log' && /closed the connection before sending a ClientHello/.test((e.event as { message: string }).message))).toBe(true);
    await goodClientStillWorks();
  });

  it('a client that sends nothing times out with an Error', async () => {
    const from = ts.events.length;
    const { received } = await rawConnect();
    await received;
    expect((await nextError(from)).description).toMatch(/no ClientHello after 1 s/);
  });

  it('a client that stalls after its ClientHello (never answers the ServerHello) times out', async () => {
    const from = ts.events.length;
    const { socket, received } = await rawConnect();
    socket.write(clientHello);
    const serverFlight = await received;
    expect(serverFlight[0]).toBe(0x16); // the server answered with its handshake records, then gave up
    const error = await nextError(from);
    expect(error.errorCode).toBe(10060);
    expect(error.description).toMatch(/did not finish in time/);
    await goodClientStillWorks();
  });

  it('a client that leaves in the middle of the handshake is reported', async () => {
    const from = ts.events.length;
    const { socket, received } = await rawConnect();
    socket.write(clientHello);
    socket.once('data', () => socket.destroy());
    await received;
    expect((await nextError(from)).description).toMatch(/closed the connection during the TLS handshake/);
    await goodClientStillWorks();
  });

  it('a burst of bad clients does not disturb good ones', async () => {
    const bad = await Promise.all(Array.from({ length: 20 }, () => rawConnect()));
    bad.forEach(({ socket }, i) => socket.write(i % 2 === 0 ? 'GET / HTTP/1.1\r\n\r\n' : clientHello.subarray(0, 50)));
    const fresh = await openWss(ts, pki);
    fresh.ws.send('fresh');
    expect((await fresh.message(0)).data.toString()).toBe('fresh');
    await goodClientStillWorks();
    fresh.ws.terminate();
    bad.forEach(({ socket }) => socket.destroy());
  });
});

describe('HandshakeTimeout bounds the TLS handshake when DefaultConnectionTimeout is 0', () => {
  it('a stalled ClientHello is dropped after HandshakeTimeout', async () => {
    const other = await startTlsServer(pki, { setup: (s) => s.config('HandshakeTimeout=1') });
    try {
      const socket = net.connect({ port: other.port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(clientHello.subarray(0, 80));
      const started = Date.now();
      await new Promise<void>((r) => socket.once('close', () => r()));
      expect(Date.now() - started).toBeGreaterThan(700);
      const error = await other.waitFor('error');
      expect(error.description).toMatch(/HandshakeTimeout \(1 s\) expired during the TLS handshake/);
    } finally {
      await other.close();
    }
  });
});
