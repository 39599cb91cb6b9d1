/**
 * Autobahn|Testsuite sections 12 and 13 against the echo server: permessage-deflate (RFC 7692).
 *
 * 12.x: five kinds of data (JSON text, a bitmap, prose sent as binary, HTML text, PDF-like
 * binary), 18 message sizes from 16 bytes to 128 KiB, unfragmented and auto-fragmented (the
 * compressed bytes cut into frames of 256 to 32768 bytes), with Autobahn's default offer.
 * 13.x: the JSON data with each of the seven offers Autobahn makes (context takeover on/off,
 * server windows of 9 and 15 bits, and a list of three offers).
 *
 * The client is built on Node's zlib (test/helpers/deflate.ts) and inflates what the server sends
 * with exactly the negotiated window and context rules. Autobahn sends 1000 messages per case;
 * these tests send a handful per case (COUNT), which exercises the same paths (first message,
 * context carried over, ring-buffer slicing) in a fraction of the time.
 *
 * Then what Autobahn does not cover: empty compressed messages, RSV1 rules, BFINAL blocks,
 * corrupt data (1007), decompression bombs (1009), and the ws client as a second opinion.
 */
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type TestServer } from './helpers/server.js';
import { buildFrame } from './helpers/raw-client.js';
import { Op, closeNormally, expectFailure, expectSameBytes, maskedFrame, openRaw, startEchoServer, wsRoundTrip } from './helpers/conformance.js';
import { openWs } from './helpers/ws-client.js';
import { DeflateClient, TRAILER, checkDeflateResponse, prng } from './helpers/deflate.js';
import { bitmap, htmlText, jsonText, pdfLike, prose } from './helpers/test-data.js';

/** Messages per 12.x/13.x case (Autobahn: 1000). */
const COUNT = 6;

/** Autobahn's message sizes and auto-fragment sizes (0: one frame), 12.x.1 to 12.x.18. */
const MSG_SIZES: Array<[number, number]> = [
  [16, 0], [64, 0], [256, 0], [1024, 0], [4096, 0], [8192, 0], [16384, 0], [32768, 0], [65536, 0], [131072, 0],
  [8192, 256], [16384, 256], [32768, 256], [65536, 256], [131072, 256],
  [131072, 1024], [131072, 4096], [131072, 32768],
];

interface Dataset {
  name: string;
  binary: boolean;
  /** Text datasets are sliced by characters (all in the BMP), binary ones by bytes. */
  data: string | Buffer;
}

const DATA_SIZE = 400 * 1024;
const DATASETS: Dataset[] = [
  { name: 'JSON (text)', binary: false, data: jsonText(DATA_SIZE) },
  { name: 'bitmap 512x512 (binary)', binary: true, data: bitmap() },
  { name: 'prose (UTF-8 sent as binary)', binary: true, data: prose(DATA_SIZE) },
  { name: 'HTML (text)', binary: false, data: htmlText(DATA_SIZE) },
  { name: 'PDF-like, mostly incompressible (binary)', binary: true, data: pdfLike(DATA_SIZE) },
];

/** Autobahn's ring slicing: consecutive `length`-unit slices of the data, wrapping around. */
function* slices(ds: Dataset, length: number): Generator<Buffer> {
  const total = ds.data.length;
  let at = 0;
  for (;;) {
    const end = at + length;
    let piece: string | Buffer;
    if (end <= total) piece = ds.data.slice(at, end);
    else piece = typeof ds.data === 'string' ? ds.data.slice(at) + ds.data.slice(0, end - total) : Buffer.concat([ds.data.subarray(at), ds.data.subarray(0, end - total)]);
    at = end % total;
    yield typeof piece === 'string' ? Buffer.from(piece) : piece;
  }
}

// ---- the offers --------------------------------------------------------------------------

/** Autobahn's client offer: it accepts no-context-takeover and a window limit for itself. */
const BASE_OFFER = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';
const SECTION_13_OFFERS: Array<{ offer: string; accepts: string }> = [
  { offer: BASE_OFFER, accepts: BASE_OFFER },
  { offer: `${BASE_OFFER}; server_no_context_takeover`, accepts: `${BASE_OFFER}; server_no_context_takeover` },
  { offer: `${BASE_OFFER}; server_max_window_bits=9`, accepts: `${BASE_OFFER}; server_max_window_bits=9` },
  { offer: `${BASE_OFFER}; server_max_window_bits=15`, accepts: `${BASE_OFFER}; server_max_window_bits=15` },
  { offer: `${BASE_OFFER}; server_no_context_takeover; server_max_window_bits=9`, accepts: `${BASE_OFFER}; server_no_context_takeover; server_max_window_bits=9` },
  { offer: `${BASE_OFFER}; server_no_context_takeover; server_max_window_bits=15`, accepts: `${BASE_OFFER}; server_no_context_takeover; server_max_window_bits=15` },
  {
    // Autobahn joins offers with a bare comma.
    offer: `${BASE_OFFER}; server_no_context_takeover; server_max_window_bits=9,${BASE_OFFER}; server_no_context_takeover,${BASE_OFFER}`,
    accepts: `${BASE_OFFER}; server_no_context_takeover; server_max_window_bits=9`,
  },
];

/** One 12.x/13.x case: COUNT messages, each echoed byte for byte, then a clean close. */
async function runCase(ts: TestServer, offer: string, accepts: string, ds: Dataset, size: number, fragmentSize: number): Promise<void> {
  const client = await DeflateClient.open(ts.port, offer, accepts);
  try {
    const source = slices(ds, size);
    const opcode = ds.binary ? Op.Binary : Op.Text;
    for (let n = 0; n < COUNT; n++) await client.roundTrip(opcode, source.next().value!, fragmentSize);
    await closeNormally(ts, client.raw);
  } finally {
    client.dispose();
  }
}

describe.each(ENGINES)('Autobahn 12/13: permessage-deflate (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine);
  });
  afterAll(async () => {
    await ts.close();
  });

  describe('12 compressed messages with the default offer', () => {
    DATASETS.forEach((ds, j) => {
      MSG_SIZES.forEach(([size, frag], i) => {
        it(`12.${j + 1}.${i + 1} ${ds.name}: ${COUNT} messages of ${size}${frag ? `, auto-fragmented at ${frag}` : ''}`, async () => {
          await runCase(ts, BASE_OFFER, BASE_OFFER, ds, size, frag);
        });
      });
    });
  });

  describe('13 every offer Autobahn makes', () => {
    SECTION_13_OFFERS.forEach(({ offer, accepts }, j) => {
      it(`13.${j + 1} handshake: "${offer}" is accepted with a valid answer`, async () => {
        const raw = await openRaw(ts, { headers: { 'Sec-WebSocket-Extensions': offer } });
        expect(raw.response!.raw.match(/^sec-websocket-extensions:/gim), 'one Sec-WebSocket-Extensions header').toHaveLength(1);
        const negotiated = checkDeflateResponse(accepts, raw.response!.headers['sec-websocket-extensions']);
        if (offer.includes('server_max_window_bits=9')) expect(negotiated.serverMaxWindowBits).toBeLessThanOrEqual(9);
        if (accepts.includes('server_no_context_takeover')) expect(negotiated.serverNoContextTakeover).toBe(true);
        await closeNormally(ts, raw);
      });
      MSG_SIZES.forEach(([size, frag], i) => {
        it(`13.${j + 1}.${i + 1} ${COUNT} JSON messages of ${size}${frag ? `, auto-fragmented at ${frag}` : ''}`, async () => {
          await runCase(ts, offer, accepts, DATASETS[0]!, size, frag);
        });
      });
    });
  });

  describe('negotiation beyond Autobahn', () => {
    for (const offer of [
      'permessage-deflate',
      'permessage-deflate; client_max_window_bits',
      'permessage-deflate; client_max_window_bits=9',
      'permessage-deflate; server_max_window_bits=8',
      'permessage-deflate; server_max_window_bits=10; client_max_window_bits=12',
    ]) {
      it(`"${offer}": accepted, and messages round-trip with the agreed windows and context rules`, async () => {
        const client = await DeflateClient.open(ts.port, offer);
        try {
          const source = slices(DATASETS[0]!, 20000);
          for (let n = 0; n < 4; n++) await client.roundTrip(Op.Text, source.next().value!);
          await closeNormally(ts, client.raw);
        } finally {
          client.dispose();
        }
      });
    }

    it('an unacceptable offer followed by a good one: the good one is taken', async () => {
      const offer = 'permessage-deflate; server_max_window_bits=16, permessage-deflate; server_no_context_takeover';
      const client = await DeflateClient.open(ts.port, offer, 'permessage-deflate; server_no_context_takeover');
      expect(client.negotiated.serverNoContextTakeover).toBe(true);
      await client.roundTrip(Op.Text, Buffer.from('hello'));
      await closeNormally(ts, client.raw);
      client.dispose();
    });

    it('only unacceptable offers: the connection opens without the extension', async () => {
      const raw = await openRaw(ts, { headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; bogus_param, x-unknown-extension' } });
      expect(raw.response!.headers['sec-websocket-extensions']).toBeUndefined();
      await raw.send(Op.Text, 'plain', { rsv1: true });
      expect((await expectFailure(ts, raw, 1002)).before, 'RSV1 without the extension is a protocol error').toEqual([]);
    });
  });

  describe('context takeover', () => {
    const message = Buffer.from(jsonText(8000).slice(0, 8000));

    it('with context takeover on both sides, repeated messages shrink both ways and still round-trip', async () => {
      const client = await DeflateClient.open(ts.port, 'permessage-deflate');
      expect(client.negotiated.clientNoContextTakeover).toBe(false);
      expect(client.negotiated.serverNoContextTakeover).toBe(false);
      const sent: Buffer[] = [];
      const received: number[] = [];
      for (let n = 0; n < 3; n++) {
        sent.push(await client.send(Op.Text, message));
        const m = await client.next();
        expectSameBytes(m.payload, message);
        expect(m.compressed).toBe(true);
        received.push(m.frames.reduce((a, f) => a + f.payload.length, 0));
      }
      // Our client refers back to the previous message: the server must inflate with the kept window.
      expect(sent[1]!.length).toBeLessThan(sent[0]!.length / 4);
      // And the server uses the window it kept too.
      expect(received[1]!).toBeLessThan(received[0]! / 4);
      await closeNormally(ts, client.raw);
      client.dispose();
    });

    it('with no context takeover on both sides, every message stands alone', async () => {
      const client = await DeflateClient.open(ts.port, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
      expect(client.negotiated.serverNoContextTakeover).toBe(true);
      expect(client.negotiated.clientNoContextTakeover).toBe(true);
      const payloads: Buffer[] = [];
      for (let n = 0; n < 3; n++) {
        await client.send(Op.Text, message);
        const m = await client.next();
        expectSameBytes(m.payload, message);
        const compressed = Buffer.concat(m.frames.map((f) => f.payload));
        payloads.push(compressed);
        // stands alone: a fresh inflater decodes it
        expectSameBytes(zlib.inflateRawSync(Buffer.concat([compressed, TRAILER]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }), message);
      }
      expectSameBytes(payloads[1]!, payloads[0]!, 'the second compressed echo (no context kept)');
      await closeNormally(ts, client.raw);
      client.dispose();
    });
  });

  describe('compressed message structure', () => {
    const OFFER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

    it('a compressed message cut into 1-byte frames, with a ping in the middle, is echoed', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      const message = Buffer.from(jsonText(3000).slice(0, 3000));
      const compressed = await client.compress(message);
      const frames: Buffer[] = [];
      for (let i = 0; i < compressed.length; i++) {
        frames.push(buildFrame(i === 0 ? Op.Text : Op.Continuation, compressed.subarray(i, i + 1), { fin: i === compressed.length - 1, rsv1: i === 0 }));
        if (i === 5) frames.push(buildFrame(Op.Ping, 'in between'));
      }
      client.raw.write(Buffer.concat(frames));
      const pong = await client.raw.nextFrame();
      expect(pong?.opcode).toBe(Op.Pong);
      expectSameBytes((await client.next()).payload, message);
      await closeNormally(ts, client.raw);
      client.dispose();
    });

    it('a compressed message whose last frame is empty is echoed', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      const compressed = await client.compress(Buffer.from('Hello, compressed world!'));
      client.raw.write(Buffer.concat([
        buildFrame(Op.Text, compressed, { fin: false, rsv1: true }),
        buildFrame(Op.Continuation, Buffer.alloc(0)),
      ]));
      expect((await client.next()).payload.toString()).toBe('Hello, compressed world!');
      await closeNormally(ts, client.raw);
      client.dispose();
    });

    for (const [what, payload] of [
      ['a single 0x00 byte (an empty stored block)', Buffer.from([0x00])],
      ['no bytes at all', Buffer.alloc(0)],
      ['what zlib makes of an empty message', zlib.deflateRawSync(Buffer.alloc(0), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4)],
    ] as const) {
      for (const opcode of [Op.Text, Op.Binary]) {
        it(`an empty ${opcode === Op.Text ? 'text' : 'binary'} message compressed as ${what} is echoed empty`, async () => {
          const client = await DeflateClient.open(ts.port, OFFER);
          client.raw.write(buildFrame(opcode, payload, { rsv1: true }));
          const m = await client.next();
          expect(m.opcode).toBe(opcode);
          expect(m.payload.length).toBe(0);
          // and the connection still works
          await client.roundTrip(opcode, Buffer.from('after the empty one'));
          await closeNormally(ts, client.raw);
          client.dispose();
        });
      }
    }

    it('a message ending with a final (BFINAL) block, then another message: both echoed', async () => {
      const client = await DeflateClient.open(ts.port, 'permessage-deflate');
      const first = Buffer.from('first message, ended with Z_FINISH');
      client.raw.write(buildFrame(Op.Text, zlib.deflateRawSync(first), { rsv1: true }));
      expectSameBytes((await client.next()).payload, first);
      const second = Buffer.from('second message, a normal sync-flushed one');
      client.raw.write(buildFrame(Op.Text, zlib.deflateRawSync(second, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4), { rsv1: true }));
      expectSameBytes((await client.next()).payload, second);
      await closeNormally(ts, client.raw);
      client.dispose();
    });

    it('uncompressed messages on a deflate connection are echoed too', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      client.raw.write(maskedFrame(Op.Binary, Buffer.from([1, 2, 3, 4, 5])));
      expectSameBytes((await client.next()).payload, Buffer.from([1, 2, 3, 4, 5]));
      await client.roundTrip(Op.Text, Buffer.from('and a compressed one'));
      await closeNormally(ts, client.raw);
      client.dispose();
    });

    it('the server fragments a large compressed echo: RSV1 on the first frame only, none over MaxFrameSize', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      const random = Buffer.alloc(400 * 1024);
      const rand = prng(9);
      for (let i = 0; i < random.length; i++) random[i] = Math.floor(rand() * 256);
      const m = await client.roundTrip(Op.Binary, random);
      expect(m.frames.length).toBeGreaterThan(1);
      for (const f of m.frames) expect(f.payload.length).toBeLessThanOrEqual(131072);
      await closeNormally(ts, client.raw);
      client.dispose();
    });
  });

  describe('violations', () => {
    const OFFER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

    it('RSV1 on a continuation frame: 1002', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      const compressed = await client.compress(Buffer.from('Hello, world!'));
      client.raw.write(Buffer.concat([
        buildFrame(Op.Text, compressed.subarray(0, 4), { fin: false, rsv1: true }),
        buildFrame(Op.Continuation, compressed.subarray(4), { rsv1: true }),
      ]));
      expect((await expectFailure(ts, client.raw, 1002)).before).toEqual([]);
      client.dispose();
    });

    it('RSV1 on a ping: 1002', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      await client.raw.send(Op.Ping, Buffer.from([0x00]), { rsv1: true });
      expect((await expectFailure(ts, client.raw, 1002)).before).toEqual([]);
      client.dispose();
    });

    it('RSV2 on a compressed message: 1002', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      await client.raw.send(Op.Text, await client.compress(Buffer.from('x')), { rsv1: true, rsv2: true });
      expect((await expectFailure(ts, client.raw, 1002)).before).toEqual([]);
      client.dispose();
    });

    it('data that is not DEFLATE: 1007', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      await client.raw.send(Op.Binary, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x13, 0x37]), { rsv1: true });
      expect((await expectFailure(ts, client.raw, 1007)).before).toEqual([]);
      client.dispose();
    });

    it('a compressed text message that inflates to invalid UTF-8: 1007', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      await client.send(Op.Text, Buffer.from('ceba e1bdb9 cf83 cebc ceb5 eda080 656469746564'.replace(/ /g, ''), 'hex'));
      expect((await expectFailure(ts, client.raw, 1007)).before).toEqual([]);
      client.dispose();
    });

    it('a decompression bomb (110 MiB of zeros in ~100 KiB) against the default 100 MiB limit: 1009', async () => {
      const client = await DeflateClient.open(ts.port, OFFER);
      const bomb = zlib.deflateRawSync(Buffer.alloc(110 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 9 }).subarray(0, -4);
      expect(bomb.length).toBeLessThan(200 * 1024);
      client.raw.write(maskedFrame(Op.Binary, bomb, true, true));
      expect((await expectFailure(ts, client.raw, 1009, 15000)).before).toEqual([]);
      client.dispose();
    }, 30000);
  });

  describe('the ws client as a second opinion', () => {
    const cases: Array<[string, object]> = [
      ['default offer', {}],
      ['server_no_context_takeover', { serverNoContextTakeover: true }],
      ['client_no_context_takeover', { clientNoContextTakeover: true }],
      ['server_max_window_bits=9', { serverMaxWindowBits: 9 }],
      ['client_max_window_bits=9', { clientMaxWindowBits: 9 }],
      ['everything restricted', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 }],
    ];
    for (const [name, options] of cases) {
      it(`${name}: text and binary round trips, fragmented and not`, async () => {
        const client = await openWs(ts.url, undefined, { perMessageDeflate: { threshold: 0, ...options } });
        expect(client.ws.extensions).toContain('permessage-deflate');
        const text = slices(DATASETS[0]!, 30000);
        const bin = slices(DATASETS[1]!, 30000);
        for (let n = 0; n < 3; n++) {
          await wsRoundTrip(client, text.next().value!, false);
          await wsRoundTrip(client, bin.next().value!, true);
          await wsRoundTrip(client, text.next().value!, false, { fragmentSize: 4096 });
        }
        await wsRoundTrip(client, Buffer.alloc(0), false);
        await wsRoundTrip(client, Buffer.alloc(0), true);
        await client.close(1000);
        expect(client.closeCode).toBe(1000);
      });
    }
  });
});

describe.each(ENGINES)('permessage-deflate with a 1 MiB MaxMessageSize (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine, (s) => s.config('MaxMessageSize=1048576'));
  });
  afterAll(async () => {
    await ts.close();
  });

  it('a message inflating to exactly the limit is echoed', async () => {
    const client = await DeflateClient.open(ts.port, 'permessage-deflate; client_no_context_takeover');
    await client.roundTrip(Op.Binary, Buffer.alloc(1048576, 7));
    await closeNormally(ts, client.raw);
    client.dispose();
  });

  it('a fragmented bomb: 1009 as soon as the inflated size passes the limit', async () => {
    const client = await DeflateClient.open(ts.port, 'permessage-deflate; client_no_context_takeover');
    const bomb = await client.compress(Buffer.alloc(8 * 1048576));
    const frames: Buffer[] = [];
    for (let i = 0; i < bomb.length; i += 512) {
      frames.push(buildFrame(i === 0 ? Op.Binary : Op.Continuation, bomb.subarray(i, i + 512), { fin: i + 512 >= bomb.length, rsv1: i === 0 }));
    }
    client.raw.write(Buffer.concat(frames));
    expect((await expectFailure(ts, client.raw, 1009)).before).toEqual([]);
    client.dispose();
  });

  it('the ws client sending a message over the limit gets 1009', async () => {
    const client = await openWs(ts.url, undefined, { perMessageDeflate: { threshold: 0 } });
    client.ws.send(Buffer.alloc(2 * 1048576, 1));
    expect((await client.closed).code).toBe(1009);
  });
});

// The handshake alone, from a client that never sends anything else.
describe.each(ENGINES)('permessage-deflate disabled (engine %s)', (engine) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startEchoServer(engine, (s) => s.config('EnablePermessageDeflate=False'));
  });
  afterAll(async () => {
    await ts.close();
  });

  it('the offer is ignored and compressed frames are protocol errors', async () => {
    const raw = await openRaw(ts, { headers: { 'Sec-WebSocket-Extensions': BASE_OFFER } });
    expect(raw.response!.headers['sec-websocket-extensions']).toBeUndefined();
    await raw.send(Op.Text, Buffer.from([0x00]), { rsv1: true });
    expect((await expectFailure(ts, raw, 1002)).before).toEqual([]);
  });
});
