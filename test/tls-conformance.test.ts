/**
 * The protocol suite's key cases again, over wss://: the echo server with UseSSL and a raw
 * TLS client (or the ws client), for every engine. Framing and sizes, pings, reserved bits and
 * opcodes, unmasked frames, fragmentation, UTF-8 (fail-fast across frames and chops), the
 * closing handshake, large messages, and permessage-deflate. TLS must change nothing: same
 * bytes, same close codes, the server still closes TCP (after TLS close_notify) first.
 */
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { RawClient, acceptFor, buildFrame, closePayload, type HandshakeOptions } from './helpers/raw-client.js';
import {
  Op,
  autobahnHeaders,
  closeNormally,
  expectCloseHandshake,
  expectEcho,
  expectFailure,
  expectPong,
  maskedFrame,
  repeatTo,
  sleep,
  startEchoServer,
  writeChopped,
  wsRoundTrip,
} from './helpers/conformance.js';
import { openWs } from './helpers/ws-client.js';
import { makePki, type Pki } from './helpers/tls-pki.js';
import { TLS12_AND_13, rsaCertificate } from './helpers/tls-server.js';

let pki: Pki;
beforeAll(() => {
  pki = makePki();
}, 60_000);
afterAll(() => pki?.remove());

/** A raw client over TLS with a completed handshake (Autobahn's request headers). */
async function openRawTls(ts: TestServer, options: HandshakeOptions = {}): Promise<RawClient> {
  const client = await RawClient.connectTls(ts.port);
  const res = await client.handshake({ ...options, headers: { ...autobahnHeaders(ts.port), ...options.headers } });
  if (res.status !== 101) throw new Error(`handshake answered ${res.status}`);
  return client;
}

/** Autobahn 6.4.x: "κόσμε", then a code point above U+10FFFF, then "edited". */
const FAIL_FAST = Buffer.from('cebae1bdb9cf83cebcceb5f4908080656469746564', 'hex');

describe.each(ENGINES)('RFC 6455 over wss:// (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine, (s) => {
      s.useSSL = true;
      s.sslCert = rsaCertificate(pki);
      s.config(`SSLEnabledProtocols=${TLS12_AND_13}`);
    });
  });
  afterAll(async () => {
    await ts.close();
  });

  it('the opening handshake, then a clean close (the server closes TCP first)', async () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const client = await openRawTls(ts, { headers: { 'Sec-WebSocket-Key': key } });
    expect(client.response!.headers['sec-websocket-accept']).toBe(acceptFor(key));
    await closeNormally(ts, client);
  });

  it.each([0, 125, 126, 127, 128, 65535, 65536])('text and binary messages of %i bytes are echoed', async (size) => {
    const client = await openRawTls(ts);
    await client.send(Op.Text, Buffer.alloc(size, 0x2a));
    await expectEcho(client, Op.Text, Buffer.alloc(size, 0x2a));
    await client.send(Op.Binary, Buffer.alloc(size, 0xfe));
    await expectEcho(client, Op.Binary, Buffer.alloc(size, 0xfe));
    await closeNormally(ts, client);
  });

  it('a 1 MiB message written in 997-byte chops, and one in 1-byte chops of its header, are echoed', async () => {
    const client = await openRawTls(ts);
    const payload = repeatTo('*\u00e9\u4e2d', 1 << 20);
    const frame = buildFrame(Op.Binary, payload);
    await writeChopped(client, frame.subarray(0, 14), 1, 1);
    await writeChopped(client, frame.subarray(14), 997);
    await expectEcho(client, Op.Binary, payload, 15_000);
    await closeNormally(ts, client);
  });

  it('pings are answered with the same payload; a 126-byte ping fails with 1002', async () => {
    const client = await openRawTls(ts);
    await client.send(Op.Ping, Buffer.alloc(125, 0x01));
    await expectPong(client, Buffer.alloc(125, 0x01));
    await client.send(Op.Ping, Buffer.alloc(126, 0x01));
    await expectFailure(ts, client, 1002);
  });

  it.each([
    ['RSV2 set', buildFrame(Op.Text, 'Hello', { rsv2: true })],
    ['RSV1 without permessage-deflate', buildFrame(Op.Text, 'Hello', { rsv1: true })],
    ['reserved opcode 3', buildFrame(0x3, 'x')],
    ['reserved control opcode 0xB', buildFrame(0xb, 'x')],
    ['an unmasked frame', buildFrame(Op.Text, 'Hello', { unmasked: true })],
    ['a fragmented ping', buildFrame(Op.Ping, 'x', { fin: false })],
    ['a continuation with nothing to continue', buildFrame(Op.Continuation, 'x')],
  ])('%s fails with 1002', async (_what, frame) => {
    const client = await openRawTls(ts);
    client.write(frame);
    expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
  });

  it('a fragmented text message with a ping between the fragments: the pong first, then the message', async () => {
    const client = await openRawTls(ts);
    client.write(buildFrame(Op.Text, 'fragment1', { fin: false }));
    client.write(buildFrame(Op.Ping, 'ping payload'));
    await expectPong(client, 'ping payload');
    client.write(buildFrame(Op.Continuation, 'fragment2'));
    await expectEcho(client, Op.Text, 'fragment1fragment2');
    await closeNormally(ts, client);
  });

  it('invalid UTF-8 in 1-byte fragments fails with 1007', async () => {
    const client = await openRawTls(ts);
    const bad = Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex');
    client.write(Buffer.concat([...bad].map((b, i) => buildFrame(i === 0 ? Op.Text : Op.Continuation, Buffer.from([b]), { fin: i === bad.length - 1 }))));
    await expectFailure(ts, client, 1007);
  });

  it('fail fast: the frame that makes the text invalid is enough for 1007, the rest is never sent', async () => {
    const client = await openRawTls(ts);
    client.write(buildFrame(Op.Text, FAIL_FAST.subarray(0, 11), { fin: false }));
    await sleep(100);
    expect(client.unreadFrames()).toEqual([]);
    client.write(buildFrame(Op.Continuation, FAIL_FAST.subarray(11, 15), { fin: false }));
    expect((await expectFailure(ts, client, 1007, 1000)).before).toEqual([]);
  });

  it('fail fast inside one frame sent in chops', async () => {
    const client = await openRawTls(ts);
    const frame = buildFrame(Op.Text, FAIL_FAST);
    const header = frame.length - FAIL_FAST.length;
    client.write(frame.subarray(0, header + 12));
    await sleep(100);
    client.write(frame.subarray(header + 12, header + 13));
    await expectFailure(ts, client, 1007, 1000);
  });

  it.each([
    ['a 1-byte close payload', Buffer.from([0x03]), 1002],
    ['close code 999', closePayload(999), 1002],
    ['close code 1005', closePayload(1005), 1002],
    ['a close reason that is not UTF-8', Buffer.concat([closePayload(1000), Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80])]), 1007],
  ])('%s: the close is answered with the right code', async (_what, payload, code) => {
    const client = await openRawTls(ts);
    await expectCloseHandshake(ts, client, payload, code);
  });

  it('valid close codes are echoed; nothing is answered after the close', async () => {
    for (const code of [1000, 1001, 3000, 4999]) {
      const client = await openRawTls(ts);
      const outcome = await expectCloseHandshake(ts, client, closePayload(code, 'bye'), code);
      expect(outcome.disconnected.statusCode).toBe(code);
    }
    const client = await openRawTls(ts);
    client.write(Buffer.concat([buildFrame(Op.Close, closePayload(1000)), buildFrame(Op.Text, 'after the close'), buildFrame(Op.Ping, 'x')]));
    const close = await client.expectClose();
    expect(close.code).toBe(1000);
    expect(close.before).toEqual([]);
  });

  describe('permessage-deflate over TLS', () => {
    it.each([16, 1024, 65536, 131072])('the ws client: %i-byte text and binary messages, whole and in 256-byte fragments', async (size) => {
      const client = await openWs(`wss://127.0.0.1:${ts.port}/`, undefined, { ca: pki.read('ca.crt'), perMessageDeflate: true });
      try {
        expect(client.ws.extensions).toMatch(/^permessage-deflate/);
        const text = Buffer.from('{"alpha":1,"beta":[true,false],"gamma":"δέλτα"} '.repeat(Math.ceil(size / 50))).subarray(0, size);
        await wsRoundTrip(client, text.subarray(0, text.lastIndexOf(0x20) + 1), false);
        const binary = repeatTo(Buffer.from([0, 1, 2, 3, 250, 251]), size);
        await wsRoundTrip(client, binary, true);
        await wsRoundTrip(client, binary, true, { fragmentSize: 256 });
      } finally {
        await client.close();
      }
    });

    const offer = { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover; client_no_context_takeover' };

    it('raw compressed frames: echoed compressed, the same bytes after inflating', async () => {
      const client = await openRawTls(ts, { headers: offer });
      expect(client.response!.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
      const data = Buffer.from('Hello, compressed TLS world! '.repeat(100));
      const compressed = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      expect(compressed.subarray(-4).equals(Buffer.from([0x00, 0x00, 0xff, 0xff]))).toBe(true);
      client.write(maskedFrame(Op.Text, compressed.subarray(0, compressed.length - 4), true, true));
      const frame = await client.nextFrame();
      expect(frame!.rsv1).toBe(true);
      const inflated = zlib.inflateRawSync(Buffer.concat([frame!.payload, Buffer.from([0x00, 0x00, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      expect(inflated.equals(data)).toBe(true);
      await closeNormally(ts, client);
    });

    it('corrupt compressed data fails with 1007; RSV1 on a control frame with 1002', async () => {
      const corrupt = await openRawTls(ts, { headers: offer });
      corrupt.write(maskedFrame(Op.Text, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), true, true));
      await expectFailure(ts, corrupt, 1007);
      const control = await openRawTls(ts, { headers: offer });
      control.write(buildFrame(Op.Ping, 'x', { rsv1: true }));
      await expectFailure(ts, control, 1002);
    });
  });
});
