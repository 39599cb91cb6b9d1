/**
 * The `wsworks` command as external checks use it: `wsworks echo --port 0 --host 127.0.0.1`
 * prints `listening <port>`, echoes every message whole with its type, negotiates
 * permessage-deflate unless `--no-deflate`, refuses bad arguments with exit 2 and a usage text,
 * and on SIGTERM/SIGINT closes every client with 1001 and exits 0. Runs the built dist/.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openWs, type TestClient } from './helpers/ws-client.js';
import { runCli, startEcho, type CliProcess, type EchoProcess } from './helpers/cli-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli.js');

/** The newest modification time of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

beforeAll(() => {
  const stale = !existsSync(CLI) || statSync(CLI).mtimeMs < newestSource(join(ROOT, 'src'));
  if (stale) execFileSync('npm', ['run', 'build:ts'], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
}, 130_000);

const children: ChildProcess[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const run = (args: string[]): CliProcess => runCli(CLI, args, ROOT, children);
/** Starts `wsworks echo` with `extra` arguments and waits for its `listening <port>` line. */
const echoServer = (extra: string[] = []): Promise<EchoProcess> => startEcho(CLI, extra, ROOT, children);

async function client(port: number, options?: import('ws').ClientOptions): Promise<TestClient> {
  const c = await openWs(`ws://127.0.0.1:${port}/`, undefined, options);
  clients.push(c);
  return c;
}

describe('wsworks echo', () => {
  it('prints "listening <port>" for --port 0 and echoes text as text and binary as binary', async () => {
    const srv = await echoServer();
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.stdout()).toBe(`listening ${srv.port}\n`);
    const c = await client(srv.port);
    c.ws.send('hello wsworks é');
    c.ws.send(Buffer.from([0, 1, 2, 253, 254, 255]));
    c.ws.send('');
    c.ws.send(Buffer.alloc(0));
    const got = await c.waitForMessages(4);
    expect(got).toEqual([
      { data: Buffer.from('hello wsworks é'), isBinary: false },
      { data: Buffer.from([0, 1, 2, 253, 254, 255]), isBinary: true },
      { data: Buffer.alloc(0), isBinary: false },
      { data: Buffer.alloc(0), isBinary: true },
    ]);
  });

  it('echoes whole messages: a fragmented message comes back as one, large ones intact, in order', async () => {
    const srv = await echoServer();
    const c = await client(srv.port);
    c.ws.send('frag', { fin: false });
    c.ws.send('ment', { fin: false });
    c.ws.send('ed', { fin: true });
    const big = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
    c.ws.send(big);
    for (let i = 0; i < 100; i++) c.ws.send(`n${i}`);
    const got = await c.waitForMessages(102, 15_000);
    expect(got[0]).toEqual({ data: Buffer.from('fragmented'), isBinary: false });
    expect(got[1]!.isBinary).toBe(true);
    expect(got[1]!.data.equals(big)).toBe(true);
    expect(got.slice(2).map((m) => m.data.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`));
  });

  it('negotiates permessage-deflate by default, and not with --no-deflate', async () => {
    const withDeflate = await echoServer();
    const a = await client(withDeflate.port);
    expect(a.ws.extensions).toMatch(/^permessage-deflate/);
    a.ws.send('z'.repeat(100_000));
    expect((await a.message(0)).data.toString()).toBe('z'.repeat(100_000));
    const without = await echoServer(['--no-deflate']);
    const b = await client(without.port);
    expect(b.ws.extensions).toBe('');
    b.ws.send('plain');
    expect((await b.message(0)).data.toString()).toBe('plain');
  });

  it('--engine js is accepted', async () => {
    const srv = await echoServer(['--engine', 'js']);
    const c = await client(srv.port);
    c.ws.send('engine js');
    expect((await c.message(0)).data.toString()).toBe('engine js');
  });

  it.each([
    ['SIGTERM' as const],
    ['SIGINT' as const],
  ])('%s closes every client with 1001 and exits 0', async (signal) => {
    const srv = await echoServer();
    const a = await client(srv.port);
    const b = await client(srv.port);
    srv.child.kill(signal);
    const [ca, cb] = await Promise.all([a.closed, b.closed]);
    expect(ca.code).toBe(1001);
    expect(cb.code).toBe(1001);
    expect(await srv.exited).toEqual({ code: 0, signal: null });
  });

  it('a signal with no clients connected also exits 0', async () => {
    const srv = await echoServer();
    srv.child.kill('SIGTERM');
    expect(await srv.exited).toEqual({ code: 0, signal: null });
  });

  it('a port in use exits 1 with the reason', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const r = run(['echo', '--port', String(port), '--host', '127.0.0.1']);
      expect((await r.exited).code).toBe(1);
      expect(r.stderr()).toContain('10048');
      expect(r.stdout()).not.toContain('listening');
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});

describe('wsworks arguments', () => {
  it.each([
    [['echo'], '--port is required'],
    [['echo', '--port', 'abc'], '--port'],
    [['echo', '--port', '70000'], '--port'],
    [['echo', '--port', '0', '--bogus'], 'bogus'],
    [['echo', '--port', '0', '--engine', 'nope'], 'nope'],
    [['frobnicate'], 'frobnicate'],
  ])('%j exits 2 with the usage', async (args, mention) => {
    const r = run(args);
    const { code } = await r.exited;
    expect(code).toBe(2);
    expect(r.stderr()).toContain(mention);
    expect(r.stderr()).toContain('Usage: wsworks echo --port');
    expect(r.stdout()).toBe('');
  });

  it('--help prints the usage and exits 0', async () => {
    for (const args of [['--help'], ['echo', '--help']]) {
      const r = run(args);
      expect((await r.exited).code).toBe(0);
      expect(r.stdout()).toContain('Usage: wsworks echo --port');
    }
  });
});
