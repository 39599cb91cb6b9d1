/**
 * Receiving and framing: DataIn per fragment (BufferMessage False) or per message (True),
 * line mode with MaxLineLength, MaxFrameSize fragmentation of outgoing messages,
 * MessageLength[connId], MaxMessageSize (1009), Ping() and the Ping event both ways,
 * PingInterval and IdleTimeout.
 */
import { describe, expect, it } from 'vitest';
import type { DataInEvent } from '../src/events.js';
import { cleanUpAfterEachTest, startServer, type TestServer } from './helpers/server.js';
import { RawClient } from './helpers/raw-client.js';
import { codeOf, connectPeer, openWs, sleep, waitUntil } from './helpers/ws-client.js';

const { cleanups, started } = cleanUpAfterEachTest();

async function raw(ts: TestServer): Promise<{ client: RawClient; id: string }> {
  const client = await RawClient.open(ts.port);
  cleanups.push(() => client.destroy());
  const port = client.socket.localPort!;
  await waitUntil(() => [...ts.server.connections.values()].some((c) => c.remotePort === port), 2000, 'the connection');
  const id = [...ts.server.connections.values()].find((c) => c.remotePort === port)!.connectionId;
  return { client, id };
}

function dataIns(ts: TestServer): Array<{ format: number; text: string; eom: boolean; eol: boolean }> {
  return ts.events
    .filter((e) => e.name === 'dataIn')
    .map((e) => e.event as DataInEvent)
    .map((e) => ({ format: e.dataFormat, text: e.text.toString('latin1'), eom: e.eom, eol: e.eol }));
}

describe('DataIn', () => {
  it('BufferMessage False (default): one DataIn per fragment, format 1/2 then 0, EOM on the last', async () => {
    const ts = await started();
    const { client } = await raw(ts);
    await client.send(0x1, 'Hel', { fin: false });
    await client.send(0x0, 'lo ', { fin: false });
    await client.send(0x0, 'World');
    await client.send(0x2, Buffer.from([1, 2]), { fin: false });
    await client.send(0x9, 'interleaved ping'); // control frames may come between fragments
    await client.send(0x0, Buffer.from([3]));
    await client.send(0x2, Buffer.from([4]));
    await waitUntil(() => dataIns(ts).length === 6, 2000, 'six DataIn events');
    expect(dataIns(ts)).toEqual([
      { format: 1, text: 'Hel', eom: false, eol: false },
      { format: 0, text: 'lo ', eom: false, eol: false },
      { format: 0, text: 'World', eom: true, eol: false },
      { format: 2, text: '\x01\x02', eom: false, eol: false },
      { format: 0, text: '\x03', eom: true, eol: false },
      { format: 2, text: '\x04', eom: true, eol: false },
    ]);
    const pong = await client.nextFrame();
    expect(pong?.opcode).toBe(0xa);
    expect(pong?.payload.toString()).toBe('interleaved ping');
  });

  it('BufferMessage True: one DataIn per whole message with its format', async () => {
    const ts = await started({ config: { BufferMessage: true } });
    const { client } = await raw(ts);
    await client.send(0x1, 'Hel', { fin: false });
    await client.send(0x0, 'lo ', { fin: false });
    await client.send(0x0, 'World');
    await client.send(0x2, Buffer.from([1, 2]), { fin: false });
    await client.send(0x0, Buffer.from([3]));
    await client.send(0x1, 'single');
    await client.send(0x1, '', { fin: false });
    await client.send(0x0, '');
    await waitUntil(() => dataIns(ts).length === 4, 2000, 'four DataIn events');
    await sleep(50);
    expect(dataIns(ts)).toEqual([
      { format: 1, text: 'Hello World', eom: true, eol: false },
      { format: 2, text: '\x01\x02\x03', eom: true, eol: false },
      { format: 1, text: 'single', eom: true, eol: false },
      { format: 1, text: '', eom: true, eol: false },
    ]);
  });

  it('a text message split inside a UTF-8 character still arrives whole with BufferMessage', async () => {
    const ts = await started({ config: { BufferMessage: true } });
    const { client } = await raw(ts);
    const bytes = Buffer.from('añb€c', 'utf8');
    await client.send(0x1, bytes.subarray(0, 2), { fin: false }); // 'a' + first byte of 'ñ'
    await client.send(0x0, bytes.subarray(2, 6), { fin: false });
    await client.send(0x0, bytes.subarray(6));
    const e = await ts.waitFor('dataIn');
    expect(e.dataFormat).toBe(1);
    expect(e.text.toString('utf8')).toBe('añb€c');
  });

  it('a large message from ws (compressed) arrives intact', async () => {
    const ts = await started({ config: { BufferMessage: true } });
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    expect(peer.client.ws.extensions).toContain('permessage-deflate');
    const payload = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 10)) & 0xff;
    peer.client.ws.send(payload);
    const e = await ts.waitFor('dataIn', undefined, 10000);
    expect(e.dataFormat).toBe(2);
    expect(Buffer.compare(e.text, payload)).toBe(0);
  });
});

describe('line mode (ChangeLineMode, MaxLineLength[connId])', () => {
  it('fires DataIn per line: EOL true at CRLF or LF, false when MaxLineLength is reached', async () => {
    const ts = await started();
    const { client, id } = await raw(ts);
    ts.server.changeLineMode(id, true);
    expect(ts.server.connections.get(id)!.lineMode).toBe(true);
    ts.server.config(`MaxLineLength[${id}]=10`);
    await client.sendText('abc\r\ndef\nghijklmnopqrstu\nx\ry\n');
    await waitUntil(() => dataIns(ts).length === 5, 2000, 'five lines');
    expect(dataIns(ts)).toEqual([
      { format: 0, text: 'abc', eom: false, eol: true },
      { format: 0, text: 'def', eom: false, eol: true },
      { format: 0, text: 'ghijklmnop', eom: false, eol: false },
      { format: 0, text: 'qrstu', eom: false, eol: true },
      { format: 0, text: 'x\ry', eom: true, eol: true }, // a lone CR is data; this line ends the message
    ]);
  });

  it('joins a line across fragments and messages, and applies MaxLineLength to the whole line', async () => {
    const ts = await started();
    const { client, id } = await raw(ts);
    ts.server.changeLineMode(id, true);
    ts.server.config(`MaxLineLength[${id}]=8`);
    await client.send(0x1, 'par', { fin: false });
    await client.send(0x0, 'tial');
    await sleep(50);
    expect(dataIns(ts)).toEqual([]); // no line ending yet, and still below MaxLineLength
    await client.send(0x2, Buffer.from(' line\nnext'));
    await waitUntil(() => dataIns(ts).length === 2, 2000, 'two lines');
    expect(dataIns(ts).map(({ text, eol }) => ({ text, eol }))).toEqual([
      { text: 'partial ', eol: false },
      { text: 'line', eol: true },
    ]);
  });

  it('switching line mode off hands out a pending partial line, then DataIn is per message again', async () => {
    const ts = await started();
    const { client, id } = await raw(ts);
    ts.server.changeLineMode(id, true);
    await client.sendText('one\ntwo');
    await waitUntil(() => dataIns(ts).length === 1, 2000, 'one line');
    ts.server.changeLineMode(id, false);
    expect(ts.server.connections.get(id)!.lineMode).toBe(false);
    await client.sendText('whole\nmessage');
    await waitUntil(() => dataIns(ts).length === 3, 2000, 'three events');
    expect(dataIns(ts)).toEqual([
      { format: 0, text: 'one', eom: false, eol: true },
      { format: 0, text: 'two', eom: false, eol: false },
      { format: 1, text: 'whole\nmessage', eom: true, eol: false },
    ]);
  });

  it('MaxLineLength is per connection', async () => {
    const ts = await started();
    const a = await raw(ts);
    const b = await raw(ts);
    for (const p of [a, b]) ts.server.changeLineMode(p.id, true);
    ts.server.config(`MaxLineLength[${a.id}]=4`);
    await a.client.sendText('123456\n');
    await waitUntil(() => dataIns(ts).length === 2, 2000, 'a');
    await b.client.sendText('123456\n');
    await waitUntil(() => dataIns(ts).length === 3, 2000, 'b');
    expect(dataIns(ts).map((e) => e.text)).toEqual(['1234', '56', '123456']);
  });
});

describe('MaxFrameSize: outgoing fragmentation', () => {
  it('splits a message into MaxFrameSize fragments: first with the type, continuations, FIN on the last', async () => {
    const ts = await started({ config: { MaxFrameSize: 1000 } });
    const { client, id } = await raw(ts);
    const data = Buffer.alloc(2500, 0x61);
    data.write('start', 0);
    data.write('end', 2497);
    await ts.server.send(id, data);
    await ts.server.sendText(id, 't'.repeat(1000));
    await ts.server.sendText(id, 'short');
    const m1 = (await client.nextMessage())!;
    expect(m1.frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([
      [2, false, 1000],
      [0, false, 1000],
      [0, true, 500],
    ]);
    expect(m1.payload.equals(data)).toBe(true);
    const m2 = (await client.nextMessage())!;
    expect(m2.frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([[1, true, 1000]]);
    const m3 = (await client.nextMessage())!;
    expect(m3.frames.map((f) => [f.opcode, f.fin])).toEqual([[1, true]]);
    expect(m3.payload.toString()).toBe('short');
  });

  it('defaults to 131072 bytes', async () => {
    const ts = await started();
    const { client, id } = await raw(ts);
    await ts.server.send(id, Buffer.alloc(300_000, 1));
    const m = (await client.nextMessage())!;
    expect(m.frames.map((f) => f.payload.length)).toEqual([131072, 131072, 300_000 - 2 * 131072]);
  });

  it('a ws client receives the fragmented message whole, compressed or not', async () => {
    const ts = await started({ config: { MaxFrameSize: 100 } });
    for (const perMessageDeflate of [true, false]) {
      const peer = await connectPeer(ts, '/', undefined, { perMessageDeflate });
      const text = 'fragmented text é '.repeat(100);
      await ts.server.sendText(peer.id, text);
      const m = await peer.client.message(0);
      expect(m.isBinary).toBe(false);
      expect(m.data.toString()).toBe(text);
      await peer.client.close();
    }
  });
});

describe('MessageLength[connId]', () => {
  it('three sends of 10 bytes under MessageLength=30 arrive as one message', async () => {
    const ts = await started();
    const { client, id } = await raw(ts);
    ts.server.config(`MessageLength[${id}]=30`);
    expect(ts.server.config(`MessageLength[${id}]`)).toBe('30');
    await ts.server.send(id, Buffer.from('0123456789'));
    await ts.server.send(id, Buffer.from('abcdefghij'));
    await ts.server.send(id, Buffer.from('ABCDEFGHIJ'));
    await ts.server.send(id, Buffer.from('next')); // MessageLength covered one message only
    const m = (await client.nextMessage())!;
    expect(m.opcode).toBe(2);
    expect(m.payload.toString()).toBe('0123456789abcdefghijABCDEFGHIJ');
    expect(m.frames.map((f) => [f.opcode, f.fin])).toEqual([
      [2, false],
      [0, false],
      [0, true],
    ]);
    const next = (await client.nextMessage())!;
    expect(next.frames.map((f) => [f.opcode, f.fin])).toEqual([[2, true]]);
    expect(next.payload.toString()).toBe('next');
  });

  it('a ws client sees one message; more bytes than announced are refused with 10022', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    ts.server.config(`MessageLength[${peer.id}]=12`);
    await ts.server.sendText(peer.id, 'hello ');
    expect(await codeOf(() => ts.server.sendText(peer.id, 'world!!'))).toBe(10022); // 7 > 6 left
    await ts.server.sendText(peer.id, 'world!');
    const m = await peer.client.message(0);
    expect(m).toEqual({ data: Buffer.from('hello world!'), isBinary: false });
  });

  it('is per connection', async () => {
    const ts = await started();
    const a = await raw(ts);
    const b = await raw(ts);
    ts.server.config(`MessageLength[${a.id}]=4`);
    await ts.server.send(b.id, Buffer.from('bb'));
    await ts.server.send(a.id, Buffer.from('aa'));
    await ts.server.send(a.id, Buffer.from('AA'));
    expect((await b.client.nextMessage())!.frames.map((f) => f.fin)).toEqual([true]);
    const m = (await a.client.nextMessage())!;
    expect(m.frames.map((f) => f.fin)).toEqual([false, true]);
    expect(m.payload.toString()).toBe('aaAA');
  });
});

describe('MaxMessageSize', () => {
  it('a message over the limit closes with 1009; one at the limit is fine', async () => {
    const ts = await started({ config: { MaxMessageSize: 1000 } });
    const peer = await connectPeer(ts, '/', undefined, { perMessageDeflate: false });
    peer.client.ws.send(Buffer.alloc(1000));
    const e = await ts.waitFor('dataIn');
    expect(e.text.length).toBe(1000);
    peer.client.ws.send(Buffer.alloc(1001));
    expect((await peer.client.closed).code).toBe(1009);
    expect((await ts.waitFor('disconnected')).statusCode).toBe(1009);
  });

  it('counts the whole fragmented message', async () => {
    const ts = await started({ config: { MaxMessageSize: 1000 } });
    const { client } = await raw(ts);
    await client.send(0x2, Buffer.alloc(600), { fin: false });
    await client.send(0x0, Buffer.alloc(600));
    expect((await client.expectClose()).code).toBe(1009);
  });

  it('counts inflated bytes: a small compressed message that inflates past the limit closes with 1009', async () => {
    const ts = await started({ config: { MaxMessageSize: 10_000 } });
    const peer = await connectPeer(ts);
    expect(peer.client.ws.extensions).toContain('permessage-deflate');
    peer.client.ws.send('a'.repeat(50_000));
    expect((await peer.client.closed).code).toBe(1009);
  });
});

describe('Ping', () => {
  it('Ping() resolves when the pong arrives; the pong fires the Ping event with Response true', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    await ts.server.ping(peer.id);
    expect(peer.client.pings).toHaveLength(1);
    const e = await ts.waitFor('ping', (x) => x.response);
    expect(e.connectionId).toBe(peer.id);
    expect(e.payload.equals(peer.client.pings[0]!)).toBe(true);
    // Several at once each resolve.
    await Promise.all([ts.server.ping(peer.id), ts.server.ping(peer.id), ts.server.ping(peer.id)]);
    expect(peer.client.pings).toHaveLength(4);
  });

  it('a client ping fires the Ping event with Response false and is answered with a pong', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    peer.client.ws.ping(Buffer.from('hello?'));
    const e = await ts.waitFor('ping');
    expect(e).toMatchObject({ connectionId: peer.id, response: false });
    expect(e.payload.toString()).toBe('hello?');
    await peer.client.until(() => peer.client.pongs.length === 1, 2000, () => 'the pong');
    expect(peer.client.pongs[0]!.toString()).toBe('hello?');
  });

  it('Ping() rejects with 10060 when no pong comes within the connection Timeout', async () => {
    const ts = await started();
    const { client, id } = await raw(ts); // the raw client never answers pings
    ts.server.connections.get(id)!.timeout = 1;
    const t0 = Date.now();
    expect(await codeOf(() => ts.server.ping(id))).toBe(10060);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect((await client.nextFrame())?.opcode).toBe(0x9);
    // The connection stays usable.
    await ts.server.sendText(id, 'still open');
    expect((await client.nextMessage())?.payload.toString()).toBe('still open');
  });

  it('a pending Ping() rejects when the connection closes', async () => {
    const ts = await started();
    const { client, id } = await raw(ts);
    const pending = ts.server.ping(id);
    const failure = codeOf(() => pending);
    await client.nextFrame();
    client.destroy();
    expect(await failure).toBe(10057);
  });
});

// Concurrent tests close their own servers: the file's shared cleanups run after whichever test
// ends first and would shut down a server another test still uses.
describe.concurrent('PingInterval and IdleTimeout', () => {
  it('PingInterval pings an idle client', async () => {
    const ts = await startServer({ config: { PingInterval: 1 } });
    try {
      const client = await RawClient.open(ts.port);
      const f = await client.nextFrame(3500);
      expect(f?.opcode).toBe(0x9);
      client.destroy();
    } finally {
      await ts.close();
    }
  });

  it('IdleTimeout closes a silent client with 1001', async () => {
    const ts = await startServer({ config: { IdleTimeout: 1 } });
    try {
      const client = await RawClient.open(ts.port);
      const t0 = Date.now();
      const close = await client.expectClose(4000);
      expect(close.code).toBe(1001);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      await client.sendClose(1001);
      expect((await ts.waitFor('disconnected', undefined, 2000)).statusCode).toBe(1001);
      client.destroy();
    } finally {
      await ts.close();
    }
  });

  it('a client that answers the pings is not idle', async () => {
    const ts = await startServer({ config: { PingInterval: 1, IdleTimeout: 2 } });
    try {
      const client = await openWs(ts.url); // ws answers pings automatically
      await sleep(3500);
      expect(client.pings.length).toBeGreaterThanOrEqual(1);
      expect(client.closeCode).toBeNull();
      expect(ts.server.connections.size).toBe(1);
      await client.close();
    } finally {
      await ts.close();
    }
  });

  it('traffic keeps a connection alive without pings', async () => {
    const ts = await startServer({ config: { IdleTimeout: 2 } });
    try {
      const client = await RawClient.open(ts.port);
      for (let i = 0; i < 7; i++) {
        await client.sendText(`tick ${i}`);
        await sleep(500);
      }
      expect(ts.server.connections.size).toBe(1);
      client.destroy();
    } finally {
      await ts.close();
    }
  });
});

