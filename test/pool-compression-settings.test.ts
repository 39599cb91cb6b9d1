/**
 * The compression settings (beyond the reference, what users of ws expect) on every engine:
 * CompressionLevel, CompressionMemLevel, CompressionThreshold, the per-send `{ compress: false }`,
 * Server/ClientMaxWindowBits and Server/ClientNoContextTakeover, checked on the wire with a raw
 * client that inflates with exactly the negotiated window and context rules.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { WSServer } from '../src/server.js';
import { Op, startEchoServer } from './helpers/conformance.js';
import { DeflateClient } from './helpers/deflate.js';
import { ENGINES, type TestServer } from './helpers/server.js';
import { waitUntil } from './helpers/ws-client.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(engine: string, configure: (s: WSServer) => void): Promise<TestServer> {
  const ts = await startEchoServer(engine, configure);
  cleanups.push(() => ts.close());
  return ts;
}

async function deflateClient(ts: TestServer, offer = 'permessage-deflate', accepted = offer): Promise<DeflateClient> {
  const c = await DeflateClient.open(ts.port, offer, accepted);
  cleanups.push(() => {
    c.dispose();
    c.raw.destroy();
  });
  return c;
}

const json = (n: number): Buffer => Buffer.from(JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: i, name: `record ${i}`, ok: i % 2 === 0 }))));

describe.each(ENGINES)('compression settings (engine %s)', (engine) => {
  it('CompressionThreshold: shorter messages go out uncompressed, the others compressed', async () => {
    const ts = await server(engine, (s) => s.config('CompressionThreshold=1000'));
    const c = await deflateClient(ts);
    const small = await c.roundTrip(Op.Text, Buffer.from('x'.repeat(999)));
    expect(small.compressed).toBe(false);
    const large = await c.roundTrip(Op.Text, Buffer.from('x'.repeat(1000)));
    expect(large.compressed).toBe(true);
  });

  it('send/sendText with { compress: false } sends that message uncompressed', async () => {
    const ts = await server(engine, () => undefined);
    const c = await deflateClient(ts);
    await c.roundTrip(Op.Text, Buffer.from('hello'));
    const id = [...ts.server.connections.keys()][0]!;
    const text = 'not compressed '.repeat(100);
    await ts.server.sendText(id, text, { compress: false });
    const plain = await c.next();
    expect(plain.compressed).toBe(false);
    expect(plain.payload.toString()).toBe(text);
    const data = randomBytes(5000);
    await ts.server.send(id, data, { compress: false });
    await ts.server.sendBytes(id, data);
    const [a, b] = [await c.next(), await c.next()];
    expect([a.compressed, b.compressed]).toEqual([false, true]);
    expect(a.payload.equals(data) && b.payload.equals(data)).toBe(true);
  });

  it('CompressionLevel: 0 stores, 9 compresses; CompressionMemLevel 1 still round-trips', async () => {
    const data = json(400);
    const sizes: number[] = [];
    for (const level of [0, 9]) {
      const ts = await server(engine, (s) => s.config(`CompressionLevel=${level}`));
      const c = await deflateClient(ts);
      const m = await c.roundTrip(Op.Text, data);
      sizes.push(m.frames.reduce((sum, f) => sum + f.payload.length, 0));
    }
    expect(sizes[0]).toBeGreaterThanOrEqual(data.length);
    expect(sizes[1]).toBeLessThan(data.length / 3);
    const ts = await server(engine, (s) => s.config('CompressionMemLevel=1'));
    const c = await deflateClient(ts);
    for (let i = 0; i < 3; i++) await c.roundTrip(Op.Text, json(300 + i));
  });

  it('ServerMaxWindowBits and ClientMaxWindowBits are announced and honoured', async () => {
    const ts = await server(engine, (s) => {
      s.config('ServerMaxWindowBits=10');
      s.config('ClientMaxWindowBits=11');
    });
    const c = await deflateClient(ts, 'permessage-deflate; client_max_window_bits');
    expect(c.negotiated.serverMaxWindowBits).toBe(10);
    expect(c.negotiated.clientMaxWindowBits).toBe(11);
    // The client inflates with a 10-bit window: a reference further back would fail here.
    for (let i = 0; i < 4; i++) await c.roundTrip(Op.Text, json(200 + i * 50));
  });

  it('ServerNoContextTakeover and ClientNoContextTakeover are answered even when not offered', async () => {
    const ts = await server(engine, (s) => {
      s.config('ServerNoContextTakeover=True');
      s.config('ClientNoContextTakeover=True');
    });
    const c = await deflateClient(ts);
    expect(c.negotiated.serverNoContextTakeover).toBe(true);
    expect(c.negotiated.clientNoContextTakeover).toBe(true);
    // The client inflates each message on its own: a reference into an earlier one would fail.
    for (let i = 0; i < 4; i++) await c.roundTrip(Op.Text, json(100));
    await waitUntil(() => ts.server.connections.size === 1, 1000, 'the connection');
  });
});
