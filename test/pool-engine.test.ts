/**
 * The `pool` engine at the codec level: the same events and frames as the inline `wasm`
 * engine, buffers moved rather than copied, order kept per connection, saturation, and what
 * happens when a worker throws or dies. (The whole protocol suite also runs on it: ENGINES.)
 */
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { Codec, CodecOptions, DecodeResult, DeflateParams, EncodeRequest } from '../src/protocol/codec.js';
import { createEngine, wasmEngine } from '../src/engine/index.js';
import { PoolEngine } from '../src/engine/pool.js';
import { JOB_FAULT } from '../src/engine/worker-protocol.js';
import type { RemoteConnection } from '../src/engine/pool-shard.js';
import { clientFrame } from './helpers/codec-frames.js';
import { clientStream, feed, summary } from './helpers/client-streams.js';
import { prng } from './helpers/deflate.js';
import { waitUntil } from './helpers/ws-client.js';

const TAKEOVER: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
const NO_TAKEOVER: DeflateParams = { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

const engines: PoolEngine[] = [];
function pool(threads = 2, saturatedBytes?: number): PoolEngine {
  const engine = new PoolEngine({ threads, saturatedBytes });
  engines.push(engine);
  return engine;
}
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

function remoteOf(codec: Codec): RemoteConnection {
  return (codec as unknown as { remote: RemoteConnection }).remote;
}

describe('pool engine codecs', () => {
  const options = (deflate: DeflateParams | null): CodecOptions => ({ maxMessageSize: 0, deflate });

  it.each([
    ['no deflate', null],
    ['deflate with context takeover', TAKEOVER],
    ['deflate without context takeover', NO_TAKEOVER],
  ] as const)('decode the same events and violations as the inline wasm engine (%s)', async (_name, deflate) => {
    const engine = pool();
    for (let seed = 1; seed <= 4; seed++) {
      const { bytes } = clientStream(seed, deflate);
      const inline = await feed(wasmEngine.createCodec(options(deflate)), Buffer.from(bytes), seed + 100);
      const codec = engine.createCodec(options(deflate));
      const remote = await feed(codec, Buffer.from(bytes), seed + 100);
      codec.dispose();
      expect(remote).toEqual(inline);
    }
    // A violation in the middle: the same error, and nothing after it.
    const broken = Buffer.concat([clientFrame(0x1, 'ok'), clientFrame(0x1, Buffer.from([0xff])), clientFrame(0x1, 'after')]);
    const codec = engine.createCodec(options(deflate));
    expect(summary(await codec.decode(Buffer.from(broken)))).toEqual(summary(wasmEngine.createCodec(options(deflate)).decode(Buffer.from(broken))));
    codec.dispose();
  });

  it('moves a chunk that owns its memory to the worker and back (no copy); copies pooled small buffers', async () => {
    const codec = pool(1).createCodec(options(null));
    const owned = Buffer.allocUnsafeSlow(2 + 4 + 5);
    clientFrame(0x1, 'hello').copy(owned);
    const result = (await codec.decode(owned)) as DecodeResult;
    expect(owned.buffer.byteLength, 'the chunk was transferred, not copied').toBe(0);
    expect(result.events[0]).toMatchObject({ kind: 'data', opcode: 1, first: true, fin: true });
    expect((result.events[0] as { payload: Buffer }).payload.toString()).toBe('hello');

    const pooled = Buffer.from(clientFrame(0x2, 'pooled'));
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length); // a slice of Node's pool
    const before = Buffer.from(pooled);
    const second = (await codec.decode(pooled)) as DecodeResult;
    expect(pooled.equals(before), 'a pooled buffer is copied, never detached').toBe(true);
    expect((second.events[0] as { payload: Buffer }).payload.toString()).toBe('pooled');
    codec.dispose();
  });

  it('frames uncompressed messages inline and compresses the others in the worker, in order', async () => {
    const engine = pool(1);
    const codec = engine.createCodec({ maxMessageSize: 0, deflate: TAKEOVER, compressionThreshold: 10 });
    const request = (data: string | Buffer, extra: Partial<EncodeRequest> = {}): EncodeRequest => ({
      opcode: 1, data: Buffer.from(data), first: true, fin: true, compress: true, maxFrameSize: 0, ...extra,
    });
    const small = codec.encode(request('tiny'));
    expect(Array.isArray(small), 'below CompressionThreshold: framed inline, synchronously').toBe(true);
    const optOut = codec.encode(request('x'.repeat(100), { compress: false }));
    expect(Array.isArray(optOut)).toBe(true);

    // Many compressed messages in flight at once: the worker's context sees them in order.
    const texts = Array.from({ length: 50 }, (_, i) => `message ${i} `.repeat(20 + i));
    const pending = texts.map((t) => codec.encode(request(t)));
    expect(pending.every((p) => p instanceof Promise)).toBe(true);
    const frames = Buffer.concat((await Promise.all(pending)).flat());
    let history = Buffer.alloc(0);
    let at = 0;
    for (const text of texts) {
      expect(frames[at]! & 0x40, 'RSV1 on a compressed message').toBe(0x40);
      let length = frames[at + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        length = frames.readUInt16BE(at + 2);
        header = 4;
      }
      const body = frames.subarray(at + header, at + header + length);
      at += header + length;
      // Context takeover: each message may refer back into the previous ones (the last 32 KiB).
      const plain = zlib.inflateRawSync(Buffer.concat([body, Buffer.from([0, 0, 0xff, 0xff])]), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        ...(history.length > 0 ? { dictionary: history } : {}),
      });
      history = Buffer.concat([history, plain]).subarray(-32768);
      expect(plain.toString()).toBe(text);
    }

    // MaxFrameSize splits a compressed message in the worker: RSV1 on the first frame only.
    const rand = prng(7);
    const big = Buffer.from(Array.from({ length: 20000 }, () => Math.floor(rand() * 256)));
    const split = Buffer.concat(await codec.encode(request(big, { opcode: 2, maxFrameSize: 1000 })));
    expect(split[0]).toBe(0x42); // binary, RSV1, no FIN
    expect(split[1]).toBe(126);
    expect(split.readUInt16BE(2)).toBe(1000);
    expect(split[4 + 1000]).toBe(0x00); // continuation, no RSV1
    codec.dispose();
  });

  it('is saturated while a shard has more queued than its limit, then drains', async () => {
    const engine = pool(1, 64 * 1024);
    const codecs = Array.from({ length: 8 }, () => engine.createCodec(options(null)));
    const frame = clientFrame(0x2, Buffer.alloc(100 * 1024, 1));
    const results = codecs.map((c) => c.decode(Buffer.from(frame)));
    expect(codecs[0]!.saturated, '800 KiB queued against a 64 KiB limit').toBe(true);
    await Promise.all(results);
    expect(codecs[0]!.saturated).toBe(false);
    for (const c of codecs) c.dispose();
  });

  it('a job that throws in the worker fails its connection only (fault handler when idle, rejection when waiting)', async () => {
    const engine = pool(1);
    const victim = engine.createCodec(options(null));
    const bystander = engine.createCodec(options(null));
    await victim.decode(Buffer.from(clientFrame(0x1, 'a')));
    await bystander.decode(Buffer.from(clientFrame(0x1, 'b')));
    const faults: Error[] = [];
    victim.setFaultHandler!((err) => faults.push(err));
    const remote = remoteOf(victim);
    remote.post({ kind: JOB_FAULT, id: remote.id, exit: false });
    await waitUntil(() => faults.length === 1, 5000, 'the fault handler');
    expect(faults[0]!.message).toMatch(/Fault injected/);
    await expect(victim.decode(Buffer.from(clientFrame(0x1, 'c')))).rejects.toThrow(/Fault injected/);
    const ok = (await bystander.decode(Buffer.from(clientFrame(0x1, 'still here')))) as DecodeResult;
    expect((ok.events[0] as { payload: Buffer }).payload.toString()).toBe('still here');
    victim.dispose();
    bystander.dispose();
  });

  it('a worker that dies fails the connections pinned to it; the shard gets a new thread', async () => {
    const engine = pool(2);
    const codecs = Array.from({ length: 6 }, () => engine.createCodec(options(null)));
    for (const c of codecs) await c.decode(Buffer.from(clientFrame(0x1, 'x')));
    const faults = new Map<Codec, Error>();
    for (const c of codecs) c.setFaultHandler!((err) => faults.set(c, err));
    const doomed = engine.pool.shards[0]!;
    const pinned = codecs.filter((c) => remoteOf(c).shard === doomed);
    expect(pinned.length).toBe(3);
    const thread = doomed.threads[0]!;
    await thread.terminate();
    await waitUntil(() => faults.size === pinned.length, 5000, 'faults of the pinned connections');
    for (const c of pinned) expect(faults.get(c)!.message).toMatch(/worker died/);
    for (const c of codecs.filter((x) => !pinned.includes(x))) {
      const r = (await c.decode(Buffer.from(clientFrame(0x1, 'alive')))) as DecodeResult;
      expect((r.events[0] as { payload: Buffer }).payload.toString()).toBe('alive');
    }
    // The shard serves new connections on a new thread.
    const fresh = engine.createCodec(options(null));
    expect(remoteOf(fresh).shard).toBe(doomed);
    const r = (await fresh.decode(Buffer.from(clientFrame(0x1, 'new')))) as DecodeResult;
    expect((r.events[0] as { payload: Buffer }).payload.toString()).toBe('new');
    await waitUntil(() => doomed.threads.length === 1 && doomed.threads[0] !== thread, 5000, 'a new thread');
    for (const c of [...codecs, fresh]) c.dispose();
  });

  it('is created per server by name, with the thread count asked for, and closed', async () => {
    const engine = createEngine('pool', { workerThreads: 3 }) as PoolEngine;
    expect(engine).toBeInstanceOf(PoolEngine);
    expect(engine.pool.shards.length).toBe(3);
    const other = createEngine('pool', { workerThreads: 1 });
    expect(other, 'one instance per server').not.toBe(engine);
    await Promise.all([engine.close(), other.close()]);
    expect(() => engine.createCodec(options(null))).toThrow(/closed/);
  });
});
