/**
 * The `auto` engine: which jobs go to the pool (heavyChunk and the thresholds), decoding and
 * compression moving between the main thread and a worker between messages (with the
 * context-takeover history carried along) without changing a byte of what comes out, no
 * threads at all while every job is light, and the Auto*Threshold settings.
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AutoEngine, DEFAULT_AUTO_THRESHOLDS, heavyChunk, type AutoThresholds } from '../src/engine/auto.js';
import { NEVER, measuredAutoThresholds } from '../src/engine/auto-thresholds.js';
import { wasmEngine } from '../src/engine/index.js';
import type { Codec, DeflateParams, EncodeRequest } from '../src/protocol/codec.js';
import { clientFrame } from './helpers/codec-frames.js';
import { clientStream, feed } from './helpers/client-streams.js';
import { startEchoServer } from './helpers/conformance.js';
import { prng } from './helpers/deflate.js';
import { openWs } from './helpers/ws-client.js';

const TAKEOVER: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const NO_TAKEOVER: DeflateParams = { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const LOW: AutoThresholds = { deflate: 2000, inflate: 500, decode: 50_000 };

const engines: AutoEngine[] = [];
function auto(thresholds: Partial<AutoThresholds> = LOW): AutoEngine {
  const engine = new AutoEngine({ threads: 2, thresholds });
  engines.push(engine);
  return engine;
}
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const decodingInWorker = (codec: Codec): boolean => (codec as unknown as { decoder: unknown }).decoder === null;

describe('heavyChunk', () => {
  const t: AutoThresholds = { deflate: 0, inflate: 1000, decode: 100_000 };
  it('counts the compressed payload the frames announce, continuations included, control frames not', () => {
    const light = Buffer.concat([clientFrame(0x1, 'a'.repeat(600), { rsv1: true }), clientFrame(0x9, 'p'.repeat(125))]);
    expect(heavyChunk(light, t)).toBe(false);
    const fragmented = Buffer.concat([clientFrame(0x1, 'a'.repeat(600), { rsv1: true, fin: false }), clientFrame(0x0, 'b'.repeat(600))]);
    expect(heavyChunk(fragmented, t)).toBe(true);
    const uncompressed = Buffer.concat([clientFrame(0x1, 'a'.repeat(600)), clientFrame(0x1, 'b'.repeat(600))]);
    expect(heavyChunk(uncompressed, t)).toBe(false);
  });

  it('goes by the announced length (16- and 64-bit), not by what arrived yet', () => {
    const header16 = clientFrame(0x1, 'x'.repeat(5000), { rsv1: true }).subarray(0, 10);
    expect(heavyChunk(header16, t)).toBe(true);
    const header64 = clientFrame(0x2, Buffer.alloc(200_000)).subarray(0, 14);
    expect(heavyChunk(header64, t)).toBe(true);
    expect(heavyChunk(header64.subarray(0, 9), t), 'a header cut short says nothing yet').toBe(false);
    expect(heavyChunk(Buffer.alloc(100_000), t), 'a chunk that large is heavy whatever it holds').toBe(true);
  });

  it('has measured defaults that depend on the CPUs, and the config table repeats them', async () => {
    const { SETTINGS } = await import('../src/config.js');
    const byName = new Map(SETTINGS.map((s) => [s.name, s.default]));
    expect(byName.get('AutoDeflateThreshold')).toBe(DEFAULT_AUTO_THRESHOLDS.deflate);
    expect(byName.get('AutoInflateThreshold')).toBe(DEFAULT_AUTO_THRESHOLDS.inflate);
    expect(byName.get('AutoDecodeThreshold')).toBe(DEFAULT_AUTO_THRESHOLDS.decode);
    const one = measuredAutoThresholds(1);
    const two = measuredAutoThresholds(2);
    expect(one.deflate).toBeGreaterThan(two.deflate); // one core: the pool adds no capacity
    expect(one.inflate).toBeGreaterThan(two.inflate);
    expect(one.decode).toBe(NEVER); // uncompressed data never pays
    expect(two.decode).toBe(NEVER);
  });
});

describe('auto engine codecs', () => {
  it('starts no worker while every job is light', async () => {
    const engine = auto(measuredAutoThresholds(1));
    const codec = engine.createCodec({ maxMessageSize: 0, deflate: TAKEOVER });
    const { bytes } = clientStream(3, NO_TAKEOVER); // messages of at most ~70 KB, compressed far below 16 KiB
    await feed(codec, bytes, 3);
    const frames = codec.encode({ opcode: 1, data: Buffer.from('small'), first: true, fin: true, compress: true, maxFrameSize: 0 });
    expect(Array.isArray(frames)).toBe(true);
    expect(engine.pool).toBeNull();
    codec.dispose();
  });

  it.each([
    ['no deflate', null],
    ['deflate with context takeover', TAKEOVER],
    ['deflate without context takeover', NO_TAKEOVER],
  ] as const)('decodes exactly as the wasm engine while decoding moves between threads (%s)', async (_name, deflate) => {
    const engine = auto();
    for (let seed = 11; seed <= 14; seed++) {
      const { bytes, boundaries } = clientStream(seed, deflate);
      const expected = await feed(wasmEngine.createCodec({ maxMessageSize: 0, deflate }), Buffer.from(bytes), seed, boundaries);
      const codec = engine.createCodec({ maxMessageSize: 0, deflate });
      const places = new Set<boolean>();
      const got = await feed(codec, Buffer.from(bytes), seed, boundaries, () => places.add(decodingInWorker(codec)));
      expect(got).toEqual(expected);
      expect(places, 'decoding ran in both places').toEqual(new Set([true, false]));
      codec.dispose();
    }
  });

  it.each([
    ['with context takeover', TAKEOVER],
    ['without context takeover', NO_TAKEOVER],
  ] as const)('compresses small messages inline and large ones in the pool, in order (%s)', async (_name, deflate) => {
    const engine = auto();
    const codec = engine.createCodec({ maxMessageSize: 0, deflate });
    const rand = prng(5);
    const texts = Array.from({ length: 40 }, (_, i) => `record ${i}: ` + 'abcdefghij'.repeat(Math.floor(rand() * (i % 3 === 0 ? 800 : 50))));
    const request = (text: string): EncodeRequest => ({ opcode: 1, data: Buffer.from(text), first: true, fin: true, compress: true, maxFrameSize: 0 });
    const results = texts.map((t) => codec.encode(request(t)));
    expect(results.some((r) => Array.isArray(r)), 'some inline').toBe(true);
    expect(results.some((r) => r instanceof Promise), 'some in the pool').toBe(true);
    const wire = Buffer.concat((await Promise.all(results)).flat());
    // One client inflater for the whole stream (with takeover it carries history across messages).
    let history = Buffer.alloc(0);
    let at = 0;
    for (const text of texts) {
      const b1 = wire[at + 1]! & 0x7f;
      const [length, header] = b1 === 126 ? [wire.readUInt16BE(at + 2), 4] : b1 === 127 ? [Number(wire.readBigUInt64BE(at + 2)), 10] : [b1, 2];
      expect(wire[at]).toBe(0xc1);
      const body = wire.subarray(at + header, at + header + length);
      at += header + length;
      const options: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
      if (!deflate.serverNoContextTakeover && history.length > 0) options.dictionary = history;
      const plain = zlib.inflateRawSync(Buffer.concat([body, Buffer.from([0, 0, 0xff, 0xff])]), options);
      history = Buffer.concat([history, plain]).subarray(-32768);
      expect(plain.toString()).toBe(text);
    }
    expect(at).toBe(wire.length);
    codec.dispose();
  });
});

describe('auto engine in a server', () => {
  it('echoes a mix of small and large messages, compressed with context takeover, byte for byte', async () => {
    const ts = await startEchoServer('auto', (s) => {
      s.config('AutoDeflateThreshold=4000');
      s.config('AutoInflateThreshold=1000');
      s.config('AutoDecodeThreshold=200000');
    });
    cleanups.push(() => ts.close());
    for (const deflate of [{ threshold: 0 }, false] as const) {
      const c = await openWs(ts.url, undefined, { perMessageDeflate: deflate });
      cleanups.push(() => c.ws.terminate());
      const rand = prng(9);
      const sent: Buffer[] = [];
      for (let i = 0; i < 60; i++) {
        const size = [10, 300, 5000, 70_000, 300_000][Math.floor(rand() * 5)]!;
        const data = i % 2 === 0 ? Buffer.from(JSON.stringify({ i, text: 'wsworks auto '.repeat(size / 13) })) : randomBytes(size);
        sent.push(data);
        c.ws.send(data, { binary: i % 2 === 1 });
      }
      const got = await c.waitForMessages(sent.length, 20_000);
      got.forEach((m, i) => expect(m.data.equals(sent[i]!), `message ${i}`).toBe(true));
    }
    expect((ts.server as unknown as { engineInUse: AutoEngine }).engineInUse.pool, 'heavy jobs started the pool').not.toBeNull();
  }, 30_000);
});
