/**
 * Autobahn|Testsuite section 10 against the echo server: auto-fragmentation. The client cuts a
 * 64 KiB text message into 1300-byte frames; the echo must be the whole message. Also the
 * server's own fragmentation of what it sends (MaxFrameSize).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { Op, buildMessage, closeNormally, expectEcho, expectServerFrame, openRaw, startEchoServer, wsRoundTrip } from './helpers/conformance.js';
import { openWs } from './helpers/ws-client.js';

describe.each(ENGINES)('Autobahn 10: auto-fragmentation (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine);
  });
  afterAll(async () => {
    await ts.close();
  });

  it('10.1.1 a 65536-byte text message auto-fragmented into 1300-byte frames is echoed whole', async () => {
    const client = await openRaw(ts);
    const payload = Buffer.alloc(65536, 0x2a);
    client.write(buildMessage(Op.Text, payload, 1300));
    await expectEcho(client, Op.Text, payload);
    await closeNormally(ts, client);
  });

  it('10.1.1 the same with the ws client sending 1300-byte fragments', async () => {
    const client = await openWs(ts.url, undefined, { perMessageDeflate: false });
    await wsRoundTrip(client, Buffer.alloc(65536, 0x2a), false, { fragmentSize: 1300 });
    await client.close(1000);
    expect(client.closeCode).toBe(1000);
  });

  it('the server fragments what it sends at MaxFrameSize (131072 by default)', async () => {
    const client = await openRaw(ts);
    const payload = Buffer.alloc(300000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    await client.send(Op.Binary, payload);
    const frames = await expectEcho(client, Op.Binary, payload);
    expect(frames.map((f) => f.payload.length)).toEqual([131072, 131072, 300000 - 2 * 131072]);
    expect(frames.map((f) => f.fin)).toEqual([false, false, true]);
    await closeNormally(ts, client);
  });
});

describe.each(ENGINES)('server-side auto-fragmentation with MaxFrameSize=1300 (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine, (s) => s.config('MaxFrameSize=1300'));
  });
  afterAll(async () => {
    await ts.close();
  });

  it('a 65536-byte text message goes out as 50 frames of 1300 bytes and one of 536', async () => {
    const client = await openRaw(ts);
    const payload = Buffer.alloc(65536, 0x2a);
    await client.send(Op.Text, payload);
    const frames = await expectEcho(client, Op.Text, payload);
    expect(frames.length).toBe(51);
    frames.forEach((f, i) => {
      expectServerFrame(f);
      expect(f.payload.length).toBe(i < 50 ? 1300 : 536);
      expect(f.fin).toBe(i === 50);
    });
    await closeNormally(ts, client);
  });

  it('a message of exactly MaxFrameSize is one frame, one byte more is two', async () => {
    const client = await openRaw(ts);
    await client.send(Op.Binary, Buffer.alloc(1300, 1));
    expect((await expectEcho(client, Op.Binary, Buffer.alloc(1300, 1))).length).toBe(1);
    await client.send(Op.Binary, Buffer.alloc(1301, 2));
    expect((await expectEcho(client, Op.Binary, Buffer.alloc(1301, 2))).map((f) => f.payload.length)).toEqual([1300, 1]);
    await closeNormally(ts, client);
  });

  it('the ws client reassembles the fragments', async () => {
    const client = await openWs(ts.url, undefined, { perMessageDeflate: false });
    const text = Buffer.from('\u00e4\u20ac'.repeat(5000)); // fragments split code points
    await wsRoundTrip(client, text, false);
    await client.close(1000);
    expect(client.closeCode).toBe(1000);
  });
});
