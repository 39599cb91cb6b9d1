/**
 * Autobahn|Testsuite section 9 against the echo server: large messages and frames (up to
 * 16 MiB), large messages in many fragments or TCP chops, and many small messages one after
 * another. Plus the message size limit (MaxMessageSize, close 1009).
 *
 * Autobahn only checks type and length in section 9; these tests compare every byte of the large
 * messages (9.1–9.6) and type and length of the many small ones (9.7/9.8, 1000 each as in
 * Autobahn). The whole file takes a few seconds per engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { buildFrame } from './helpers/raw-client.js';
import {
  Op,
  buildMessage,
  closeNormally,
  expectEcho,
  expectFailure,
  maskedFrame,
  openRaw,
  repeatTo,
  startEchoServer,
  writeChopped,
} from './helpers/conformance.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const TEXT_PATTERN = 'BAsd7&jh23';
const BINARY_PATTERN = Buffer.from([0x00, 0xfe, 0x23, 0xfa, 0xf0]);

const mib = (n: number): string => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);

describe.each(ENGINES)('Autobahn 9: limits and performance (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine);
  });
  afterAll(async () => {
    await ts.close();
  });

  describe('9.1/9.2 one large frame', () => {
    const sizes = [64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB, 16 * MiB];
    for (const [section, opcode] of [
      ['9.1', Op.Text],
      ['9.2', Op.Binary],
    ] as const) {
      sizes.forEach((size, i) => {
        it(`${section}.${i + 1} ${opcode === Op.Text ? 'text' : 'binary'} message of ${mib(size)} in one frame`, async () => {
          const client = await openRaw(ts);
          const payload = repeatTo(opcode === Op.Text ? TEXT_PATTERN : BINARY_PATTERN, size);
          client.write(maskedFrame(opcode, payload));
          await expectEcho(client, opcode, payload, 20000);
          await closeNormally(ts, client);
        });
      });
    }
  });

  describe('9.3/9.4 a 4 MiB message in fragments', () => {
    const fragmentSizes = [64, 256, 1 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB];
    for (const [section, opcode, fill] of [
      ['9.3', Op.Text, 0x2a],
      ['9.4', Op.Binary, 0xfe],
    ] as const) {
      fragmentSizes.forEach((fragmentSize, i) => {
        it(`${section}.${i + 1} ${opcode === Op.Text ? 'text' : 'binary'}, fragments of ${fragmentSize >= KiB ? mib(fragmentSize) : `${fragmentSize} bytes`}`, async () => {
          const client = await openRaw(ts);
          const payload = Buffer.alloc(4 * MiB, fill);
          // vary the bytes a little so a misplaced fragment would show
          for (let p = 0; p < payload.length; p += 4093) payload[p] = 0x30 + (p % 10);
          client.write(buildMessage(opcode, payload, fragmentSize));
          await expectEcho(client, opcode, payload, 20000);
          await closeNormally(ts, client);
        });
      });
    }
  });

  describe('9.5/9.6 a 1 MiB frame in TCP chops', () => {
    const chopSizes = [64, 128, 256, 512, 1024, 2048];
    for (const [section, opcode] of [
      ['9.5', Op.Text],
      ['9.6', Op.Binary],
    ] as const) {
      chopSizes.forEach((chop, i) => {
        it(`${section}.${i + 1} ${opcode === Op.Text ? 'text' : 'binary'}, chops of ${chop} bytes`, async () => {
          const client = await openRaw(ts);
          const payload = repeatTo(opcode === Op.Text ? TEXT_PATTERN : BINARY_PATTERN, 1 * MiB);
          await writeChopped(client, maskedFrame(opcode, payload), chop);
          await expectEcho(client, opcode, payload, 20000);
          await closeNormally(ts, client);
        });
      });
    }
  });

  describe('9.7/9.8 many messages, one round trip at a time', () => {
    const cases: Array<[number, number]> = [
      [0, 1000],
      [16, 1000],
      [64, 1000],
      [256, 1000],
      [1024, 1000],
      [4096, 1000],
    ];
    for (const [section, opcode] of [
      ['9.7', Op.Text],
      ['9.8', Op.Binary],
    ] as const) {
      cases.forEach(([size, count], i) => {
        it(`${section}.${i + 1} ${count} ${opcode === Op.Text ? 'text' : 'binary'} messages of ${size} bytes`, async () => {
          const client = await openRaw(ts);
          const payload = opcode === Op.Text ? Buffer.alloc(size, 0x2a) : Buffer.alloc(size, 0xfe);
          for (let n = 0; n < count; n++) {
            client.write(maskedFrame(opcode, payload));
            const msg = await client.nextMessage();
            expect(msg?.opcode).toBe(opcode);
            expect(msg?.payload.length).toBe(size);
          }
          await closeNormally(ts, client);
        });
      });
    }
  });

  describe('beyond the Autobahn cases', () => {
    it('10 000 small messages sent at once all come back, in order', async () => {
      const client = await openRaw(ts);
      const frames: Buffer[] = [];
      for (let n = 0; n < 10000; n++) frames.push(maskedFrame(n % 2 ? Op.Binary : Op.Text, Buffer.from(`message ${n}`)));
      client.write(Buffer.concat(frames));
      for (let n = 0; n < 10000; n++) {
        const msg = await client.nextMessage();
        expect(msg?.opcode).toBe(n % 2 ? Op.Binary : Op.Text);
        if (msg?.payload.toString() !== `message ${n}`) expect(msg?.payload.toString()).toBe(`message ${n}`);
      }
      await closeNormally(ts, client);
    });

    it('a frame announcing more than MaxMessageSize (100 MiB by default) is refused with 1009 before its payload arrives', async () => {
      const client = await openRaw(ts);
      const header = Buffer.alloc(14);
      header[0] = 0x82;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(200 * MiB), 2);
      client.write(header);
      expect((await expectFailure(ts, client, 1009)).before).toEqual([]);
    });
  });
});

describe.each(ENGINES)('MaxMessageSize (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine, (s) => s.config('MaxMessageSize=65536'));
  });
  afterAll(async () => {
    await ts.close();
  });

  it('a message of exactly MaxMessageSize is echoed', async () => {
    const client = await openRaw(ts);
    const payload = Buffer.alloc(65536, 0x61);
    await client.send(Op.Binary, payload);
    await expectEcho(client, Op.Binary, payload);
    await closeNormally(ts, client);
  });

  it('one byte more in one frame: 1009', async () => {
    const client = await openRaw(ts);
    await client.send(Op.Binary, Buffer.alloc(65537, 0x61));
    expect((await expectFailure(ts, client, 1009)).before).toEqual([]);
  });

  it('fragments adding up to more than MaxMessageSize: 1009 on the fragment that crosses it', async () => {
    const client = await openRaw(ts);
    client.write(buildFrame(Op.Text, Buffer.alloc(40000, 0x61), { fin: false }));
    client.write(buildFrame(Op.Continuation, Buffer.alloc(40000, 0x61), { fin: false }));
    expect((await expectFailure(ts, client, 1009)).before).toEqual([]);
  });

  it('control frames between fragments do not count towards the limit', async () => {
    const client = await openRaw(ts);
    client.write(buildFrame(Op.Text, Buffer.alloc(65000, 0x61), { fin: false }));
    client.write(buildFrame(Op.Ping, Buffer.alloc(125, 0x62)));
    client.write(buildFrame(Op.Continuation, Buffer.alloc(536, 0x61)));
    const pong = await client.nextFrame();
    expect(pong?.opcode).toBe(Op.Pong);
    await expectEcho(client, Op.Text, Buffer.alloc(65536, 0x61));
    await closeNormally(ts, client);
  });
});
