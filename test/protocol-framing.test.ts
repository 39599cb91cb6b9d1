/**
 * Autobahn|Testsuite sections 1–4 against the echo server: framing (1), pings and pongs (2),
 * reserved bits (3) and reserved opcodes (4).
 *
 * Strictness as Autobahn grades it: every echo byte for byte with its opcode; every violation
 * answered with a 1002 close frame, nothing after it, and the TCP connection dropped by the
 * server once the client answered the close. Where Autobahn also accepts NON-STRICT (the echo of
 * the valid message before a violation missing), these tests ask for the strict OK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { acceptFor, buildFrame, closePayload, type RawClient } from './helpers/raw-client.js';
import {
  Op,
  closeNormally,
  expectCloseHandshake,
  expectEcho,
  expectFailure,
  expectPong,
  openRaw,
  sendFrames,
  startEchoServer,
  writeChopped,
} from './helpers/conformance.js';

/** Autobahn's 3-bit `rsv` value: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
function rsv(n: number): { rsv1: boolean; rsv2: boolean; rsv3: boolean } {
  return { rsv1: (n & 4) !== 0, rsv2: (n & 2) !== 0, rsv3: (n & 1) !== 0 };
}

const SIZES = [0, 125, 126, 127, 128, 65535, 65536];

describe.each(ENGINES)('Autobahn 1–4: framing, pings, reserved bits and opcodes (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine);
  });
  afterAll(async () => {
    await ts.close();
  });

  it("the opening handshake as Autobahn's client sends and checks it", async () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const client = await openRaw(ts, { headers: { 'Sec-WebSocket-Key': key } });
    const res = client.response!;
    expect(res.headers['sec-websocket-accept']).toBe(acceptFor(key));
    expect(res.raw.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 101 /);
    expect(res.headers['upgrade']?.toLowerCase()).toBe('websocket');
    expect(res.headers['connection']?.split(',').map((t) => t.trim().toLowerCase())).toContain('upgrade');
    expect(res.raw.match(/^sec-websocket-accept:/gim)).toHaveLength(1);
    expect(res.headers['sec-websocket-extensions'], 'no extension was offered').toBeUndefined();
    await closeNormally(ts, client);
  });

  describe('1 framing', () => {
    for (const [section, opcode, fill] of [
      ['1.1', Op.Text, 0x2a],
      ['1.2', Op.Binary, 0xfe],
    ] as const) {
      SIZES.forEach((size, i) => {
        it(`${section}.${i + 1} ${opcode === Op.Text ? 'text' : 'binary'} message, payload ${size}`, async () => {
          const client = await openRaw(ts);
          const payload = Buffer.alloc(size, fill);
          await client.send(opcode, payload);
          await expectEcho(client, opcode, payload);
          await closeNormally(ts, client);
        });
      });
      it(`${section}.8 ${opcode === Op.Text ? 'text' : 'binary'} message, payload 65536 sent in chops of 997`, async () => {
        const client = await openRaw(ts);
        const payload = Buffer.alloc(65536, fill);
        await writeChopped(client, buildFrame(opcode, payload), 997, 1);
        await expectEcho(client, opcode, payload);
        await closeNormally(ts, client);
      });
    }
  });

  describe('2 pings and pongs', () => {
    const pings: Array<[string, Buffer]> = [
      ['2.1 ping without payload', Buffer.alloc(0)],
      ['2.2 ping with a small text payload', Buffer.from('Hello, world!')],
      ['2.3 ping with a small binary payload', Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])],
      ['2.4 ping with a 125-byte payload', Buffer.alloc(125, 0xfe)],
    ];
    for (const [name, payload] of pings) {
      it(`${name} is answered by a pong with the same payload`, async () => {
        const client = await openRaw(ts);
        await client.send(Op.Ping, payload);
        await expectPong(client, payload);
        await closeNormally(ts, client);
      });
    }

    it('2.5 ping with a 126-byte payload fails the connection with 1002', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Ping, Buffer.alloc(126, 0xfe));
      const { before } = await expectFailure(ts, client, 1002);
      expect(before).toEqual([]);
    });

    it('2.6 ping with a 125-byte payload sent octet by octet', async () => {
      const client = await openRaw(ts);
      const payload = Buffer.alloc(125, 0xfe);
      await writeChopped(client, buildFrame(Op.Ping, payload), 1, 0.5);
      await expectPong(client, payload);
      await closeNormally(ts, client);
    });

    it('2.7 unsolicited pong without payload: nothing comes back', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Pong);
      const { before } = await expectCloseHandshake(ts, client, closePayload(1000), 1000);
      expect(before).toEqual([]);
    });

    it('2.8 unsolicited pong with payload: nothing comes back', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Pong, 'unsolicited pong payload');
      const { before } = await expectCloseHandshake(ts, client, closePayload(1000), 1000);
      expect(before).toEqual([]);
    });

    it('2.9 unsolicited pong, then ping: only the ping is answered', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Pong, 'unsolicited pong payload');
      await client.send(Op.Ping, 'ping payload');
      await expectPong(client, 'ping payload');
      await closeNormally(ts, client);
    });

    for (const [name, octets] of [
      ['2.10 ten pings', false],
      ['2.11 ten pings sent octet by octet', true],
    ] as const) {
      it(`${name} are answered by ten pongs, in order`, async () => {
        const client = await openRaw(ts);
        const frames = Array.from({ length: 10 }, (_, i) => buildFrame(Op.Ping, `payload-${i}`));
        await sendFrames(client, frames, octets ? 'octets' : 'together');
        for (let i = 0; i < 10; i++) await expectPong(client, `payload-${i}`);
        await closeNormally(ts, client);
      });
    }
  });

  describe('3 reserved bits', () => {
    it('3.1 text message with RSV = 1 fails with 1002', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Text, 'Hello, world!', rsv(1));
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });

    for (const [id, bits, how] of [
      ['3.2', 2, 'together'],
      ['3.3', 3, 'sync'],
      ['3.4', 4, 'octets'],
    ] as const) {
      it(`${id} text message, then one with RSV = ${bits}, then ping (${how}): echo, then 1002, no pong`, async () => {
        const client = await openRaw(ts);
        const frames = [
          buildFrame(Op.Text, 'Hello, world!'),
          buildFrame(Op.Text, 'Hello, world!', rsv(bits)),
          buildFrame(Op.Ping),
        ];
        await sendFrames(client, frames, how);
        await expectEcho(client, Op.Text, 'Hello, world!');
        const { before } = await expectFailure(ts, client, 1002);
        expect(before, 'no pong after the violation').toEqual([]);
      });
    }

    it('3.5 binary message with RSV = 5 fails with 1002', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Binary, Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), rsv(5));
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });

    it('3.6 binary message with RSV = 6 fails with 1002', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Binary, 'Hello, world!', rsv(6));
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });

    it('3.7 close frame with RSV = 7 fails with 1002 (not taken as a closing handshake)', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Close, Buffer.alloc(0), rsv(7));
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });

    it('RSV1 on a ping fails with 1002 even though it is a control frame', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Ping, 'x', rsv(4));
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });
  });

  describe('4 reserved opcodes', () => {
    for (const [id, opcode, payload] of [
      ['4.1.1', 3, ''],
      ['4.1.2', 4, 'reserved opcode payload'],
      ['4.2.1', 11, ''],
      ['4.2.2', 12, 'reserved opcode payload'],
    ] as const) {
      it(`${id} frame with reserved opcode ${opcode}${payload ? ' and a payload' : ''} fails with 1002`, async () => {
        const client = await openRaw(ts);
        await client.send(opcode, payload);
        expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
      });
    }

    for (const [id, opcode, withPayload, how] of [
      ['4.1.3', 5, false, 'together'],
      ['4.1.4', 6, true, 'together'],
      ['4.1.5', 7, true, 'octets'],
      ['4.2.3', 13, false, 'together'],
      ['4.2.4', 14, true, 'together'],
      ['4.2.5', 15, true, 'octets'],
    ] as const) {
      it(`${id} text message, then reserved opcode ${opcode}, then ping (${how}): echo, then 1002, no pong`, async () => {
        const client = await openRaw(ts);
        const frames = [
          buildFrame(Op.Text, 'Hello, world!'),
          buildFrame(opcode, withPayload ? 'Hello, world!' : ''),
          buildFrame(Op.Ping),
        ];
        await sendFrames(client, frames, how);
        await expectEcho(client, Op.Text, 'Hello, world!');
        const { before } = await expectFailure(ts, client, 1002);
        expect(before, 'no pong after the violation').toEqual([]);
      });
    }
  });

  describe('framing violations beyond the Autobahn cases', () => {
    it('an unmasked client frame fails with 1002', async () => {
      const client = await openRaw(ts);
      await client.send(Op.Text, 'Hello', { unmasked: true });
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });

    it('a 64-bit length with the most significant bit set fails with 1002', async () => {
      const client = await openRaw(ts);
      const length = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 5]);
      await client.send(Op.Binary, Buffer.alloc(0), { lengthBytes: Buffer.concat([Buffer.from([127]), length]) });
      expect((await expectFailure(ts, client, 1002)).before).toEqual([]);
    });

    it('a frame header split over many TCP segments is still understood', async () => {
      const client = await openRaw(ts);
      const payload = Buffer.alloc(70000, 0x41);
      const frame = buildFrame(Op.Binary, payload);
      await writeChopped(client, frame.subarray(0, 14), 1, 1);
      client.write(frame.subarray(14));
      await expectEcho(client, Op.Binary, payload);
      await closeNormally(ts, client);
    });
  });
});
