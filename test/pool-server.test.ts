/**
 * The `pool` engine in a server: configuration, the process exiting with no handle left
 * (UseDaemonThreads), reading paused while the pool is saturated, workers that die (their
 * connections close with 1011 and an Error event, the others go on, the worker is replaced),
 * workers killed at random under load, and `wsworks echo --engine pool|auto`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { WSConnection } from '../src/connection.js';
import { PoolEngine } from '../src/engine/pool.js';
import type { RemoteConnection, Shard } from '../src/engine/pool-shard.js';
import type { WSServer } from '../src/server.js';
import { startEchoServer } from './helpers/conformance.js';
import type { TestServer } from './helpers/server.js';
import { openWs, sleep, waitUntil, type TestClient } from './helpers/ws-client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = new URL('../dist/index.js', import.meta.url).href;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function echoServer(configure: (s: WSServer) => void, engine = 'pool'): Promise<TestServer> {
  const ts = await startEchoServer(engine, configure);
  cleanups.push(() => ts.close());
  return ts;
}

async function client(ts: TestServer, deflate = true): Promise<TestClient> {
  const c = await openWs(ts.url, undefined, { perMessageDeflate: deflate ? { threshold: 0 } : false });
  cleanups.push(() => c.ws.terminate());
  return c;
}

function engineOf(server: WSServer): PoolEngine {
  return (server as unknown as { engineInUse: PoolEngine }).engineInUse;
}

function shardOf(conn: WSConnection): Shard {
  return (conn as unknown as { codec: { remote: RemoteConnection } }).codec.remote.shard;
}

function connectionOf(ts: TestServer, c: TestClient): WSConnection {
  const port = c.localPort;
  return [...ts.server.connections.values()].find((conn) => conn.remotePort === port)!;
}

async function echo(c: TestClient, data: string | Buffer): Promise<Buffer> {
  const index = c.messages.length;
  c.ws.send(data);
  return (await c.message(index, 10_000)).data;
}

/** Runs an ES module script with node and resolves with its exit (or 'running' after `aliveMs`). */
function runScript(source: string, aliveMs: number): Promise<{ code: number | null; out: string } | 'running'> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', source], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('running');
    }, aliveMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function lifecycleScript(daemon: boolean, shutdown: boolean): string {
  return `
    import { WSServer, attachEcho } from ${JSON.stringify(DIST)};
    import WebSocket from 'ws';
    const server = new WSServer({ engine: 'pool', localHost: '127.0.0.1', localPort: 0, config: { UseDaemonThreads: ${daemon}, WorkerThreads: 2 } });
    server.config('BufferMessage=True');
    attachEcho(server);
    await server.startListening();
    const ws = new WebSocket('ws://127.0.0.1:' + server.localPort);
    await new Promise((r) => ws.once('open', r));
    ws.send('x'.repeat(100000));
    const echoed = await new Promise((r) => ws.once('message', (d) => r(d.length)));
    ws.close();
    await new Promise((r) => ws.once('close', r));
    ${shutdown ? 'await server.shutdown();' : 'server.stopListening();'}
    console.log('echoed ' + echoed);
  `;
}

describe('pool engine in a server', () => {
  it('is chosen with Config("Engine=pool") and starts WorkerThreads workers; BuildInfo names it', async () => {
    const ts = await echoServer((s) => s.config('WorkerThreads=3'));
    expect(ts.server.config('Engine')).toBe('pool');
    expect(ts.server.config('BuildInfo')).toMatch(/engine pool/);
    expect(engineOf(ts.server).pool.shards.length).toBe(3);
    const c = await client(ts);
    expect((await echo(c, 'hello pool')).toString()).toBe('hello pool');
  });

  it.each([
    ['UseDaemonThreads=True, Shutdown()', 'exits', true, true],
    ['UseDaemonThreads=False, Shutdown()', 'exits', false, true],
    ['UseDaemonThreads=True, no Shutdown()', 'exits', true, false],
    ['UseDaemonThreads=False, no Shutdown()', 'stays', false, false],
  ] as const)('%s: the process %s', async (_name, expected, daemon, shutdown) => {
    // A process that exits does so within a second or two; one that stays is given 4 s.
    const result = await runScript(lifecycleScript(daemon, shutdown), expected === 'stays' ? 4000 : 15_000);
    if (expected === 'exits') {
      expect(result).not.toBe('running');
      expect(result).toMatchObject({ code: 0 });
      expect((result as { out: string }).out).toContain('echoed 100000');
    } else {
      expect(result, 'non-daemon workers keep the process alive').toBe('running');
    }
  }, 20_000);

  it('changing the Engine between listens closes the previous pool', async () => {
    const ts = await echoServer((s) => s.config('WorkerThreads=1'));
    const pool = engineOf(ts.server).pool;
    const thread = pool.shards[0]!.threads[0]!;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    ts.server.stopListening();
    ts.server.config('Engine=js');
    await exited;
    expect(() => pool.connect({ maxMessageSize: 0, deflate: null })).toThrow(/closed/);
  });

  it('stops reading while the pool is saturated and delivers everything', async () => {
    const ts = await startEchoServer('pool', (s) => {
      s.config('InBufferSize=16777216'); // only saturation pauses reading early
      (s as unknown as { engine: PoolEngine }).engine = new PoolEngine({ threads: 1, saturatedBytes: 256 * 1024 });
    });
    cleanups.push(() => ts.close());
    const shard = engineOf(ts.server).pool.shards[0]!;
    const clients = await Promise.all(Array.from({ length: 8 }, () => client(ts, false)));
    const conns = clients.map((c) => connectionOf(ts, c));
    let pauses = 0;
    for (const conn of conns) {
      const pause = conn.socket.pause.bind(conn.socket);
      conn.socket.pause = () => {
        pauses++;
        return pause();
      };
    }
    let maxHeld = 0;
    const sampler = setInterval(() => {
      const inboxes = conns.reduce((sum, conn) => sum + ((conn as unknown as { inboxBytes: number }).inboxBytes ?? 0), 0);
      maxHeld = Math.max(maxHeld, shard.load.queuedBytes + shard.load.inFlightBytes + inboxes);
    }, 1);
    const messages = Array.from({ length: 12 }, (_, i) => randomBytes(256 * 1024 + i));
    for (const c of clients) for (const m of messages) c.ws.send(m);
    await Promise.all(clients.map((c) => c.waitForMessages(messages.length, 30_000)));
    clearInterval(sampler);
    for (const c of clients) c.messages.forEach((m, i) => expect(m.data.equals(messages[i]!)).toBe(true));
    expect(pauses, 'connections paused while the shard was saturated').toBeGreaterThan(0);
    // 8 × 12 × 256 KiB = 24 MiB were sent at once; what the server held waiting for the worker stays bounded.
    expect(maxHeld).toBeLessThan(4 * 1024 * 1024);
  }, 60_000);

  it('a worker that dies closes its connections with 1011 and fires Error; the others go on; the worker is replaced', async () => {
    const ts = await echoServer((s) => s.config('WorkerThreads=2'));
    const clients = await Promise.all(Array.from({ length: 6 }, () => client(ts)));
    for (const c of clients) expect((await echo(c, 'warm up')).toString()).toBe('warm up');
    const shard = engineOf(ts.server).pool.shards[0]!;
    const doomed = clients.filter((c) => shardOf(connectionOf(ts, c)) === shard);
    const doomedIds = new Set(doomed.map((c) => connectionOf(ts, c).connectionId));
    expect(doomed.length).toBe(3);
    await shard.threads[0]!.terminate();
    const closes = await Promise.all(doomed.map((c) => c.closed));
    for (const close of closes) expect(close.code).toBe(1011);
    await waitUntil(() => ts.events.filter((e) => e.name === 'error').length >= doomed.length, 5000, 'Error events');
    const errorIds = ts.events.filter((e) => e.name === 'error').map((e) => (e.event as { connectionId: string }).connectionId);
    expect(new Set(errorIds)).toEqual(doomedIds);
    for (const c of clients.filter((x) => !doomed.includes(x))) expect((await echo(c, 'still here')).toString()).toBe('still here');
    const fresh = await Promise.all([client(ts), client(ts)]);
    for (const c of fresh) expect((await echo(c, 'new worker')).toString()).toBe('new worker');
  }, 30_000);

  it('survives workers killed at random under load: every connection either echoes correctly or closes with 1011', async () => {
    const ts = await echoServer((s) => s.config('WorkerThreads=3'));
    const shards = engineOf(ts.server).pool.shards;
    const clients = await Promise.all(Array.from({ length: 12 }, () => client(ts)));
    let running = true;
    let mismatches = 0;
    let echoes = 0;
    const loops = clients.map(async (c, n) => {
      for (let i = 0; running && c.closeCode === null; i++) {
        const data = JSON.stringify({ client: n, i, fill: 'wsworks '.repeat(50 + ((i * 97 + n * 31) % 4000)) });
        const index = c.messages.length;
        c.ws.send(data);
        try {
          await c.until(() => c.messages.length > index || c.closeCode !== null, 10_000, () => 'an echo');
        } catch {
          mismatches++;
          return;
        }
        if (c.closeCode !== null) return;
        if (c.messages[index]!.data.toString() !== data) mismatches++;
        else echoes++;
      }
    });
    let kills = 0;
    const killer = (async () => {
      const deadline = Date.now() + 3000;
      let seed = 1;
      while (Date.now() < deadline) {
        seed = (seed * 48271) % 0x7fffffff;
        await sleep(150 + (seed % 250));
        const shard = shards[seed % shards.length]!;
        const thread = shard.threads[0];
        if (thread !== undefined) {
          await thread.terminate();
          kills++;
        }
      }
    })();
    await killer;
    running = false;
    await Promise.all(loops);
    expect(kills).toBeGreaterThan(3);
    expect(mismatches, 'no echo was wrong or lost on a connection that stayed open').toBe(0);
    expect(echoes).toBeGreaterThan(0);
    const errorIds = new Set(ts.events.filter((e) => e.name === 'error').map((e) => (e.event as { connectionId: string }).connectionId));
    for (const c of clients) {
      if (c.closeCode !== null) expect(c.closeCode).toBe(1011);
    }
    expect(errorIds.size).toBe(clients.filter((c) => c.closeCode === 1011).length);
    // The server is whole: new connections are served on the replacement workers.
    for (const c of await Promise.all(Array.from({ length: 3 }, () => client(ts)))) {
      expect((await echo(c, 'after the storm')).toString()).toBe('after the storm');
    }
  }, 60_000);
});

describe.each(['pool', 'auto'])('wsworks echo --engine %s', (engine) => {
  it('echoes text and binary, compressed and not, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'echo', '--port', '0', '--host', '127.0.0.1', '--engine', engine], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        const m = /listening (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for (const deflate of [true, false]) {
      const c = await openWs(`ws://127.0.0.1:${port}`, undefined, { perMessageDeflate: deflate ? { threshold: 0 } : false });
      const big = randomBytes(300 * 1024);
      c.ws.send('text é');
      c.ws.send(big);
      c.ws.send('x'.repeat(200 * 1024));
      const [a, b, d] = await c.waitForMessages(3, 10_000);
      expect(a).toMatchObject({ isBinary: false });
      expect(a!.data.toString()).toBe('text é');
      expect(b!.isBinary).toBe(true);
      expect(b!.data.equals(big)).toBe(true);
      expect(d!.data.toString()).toBe('x'.repeat(200 * 1024));
      if (!deflate) {
        child.kill('SIGTERM');
        expect((await c.closed).code).toBe(1001);
      } else {
        await c.close();
      }
    }
    expect(await exited).toBe(0);
  }, 30_000);
});
