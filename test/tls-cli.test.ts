/**
 * `wsworks echo` over TLS: --tls-cert/--tls-key, --tls-pfx/--tls-pass, --tls-client-ca; it
 * prints `listening <port>` as before, echoes over wss://, refuses bad combinations with exit 2
 * and an unreadable certificate with exit 1, and closes clients with 1001 on SIGTERM.
 *
 * Runs the command compiled into a private directory, so it never races the other CLI test
 * rebuilding dist/.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openWs, waitUntil, type TestClient } from './helpers/ws-client.js';
import { runCli, startEcho, type CliProcess, type EchoProcess } from './helpers/cli-process.js';
import { PFX_PASSWORD, makePki, type Pki } from './helpers/tls-pki.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let buildDir: string;
let cli: string;
let pki: Pki;

beforeAll(() => {
  pki = makePki();
  buildDir = mkdtempSync(join(tmpdir(), 'wsworks-cli-'));
  copyFileSync(join(ROOT, 'package.json'), join(buildDir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
  symlinkSync(join(ROOT, 'build'), join(buildDir, 'build'), 'dir'); // the WASM module
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(buildDir, 'dist'), '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'], {
    cwd: ROOT,
    stdio: 'pipe',
    timeout: 120_000,
  });
  cli = join(buildDir, 'dist', 'cli.js');
}, 150_000);

afterAll(() => {
  pki?.remove();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

const children: ChildProcess[] = [];
const clients: TestClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const run = (args: string[]): CliProcess => runCli(cli, args, pki.dir, children);
const echoServer = (extra: string[]): Promise<EchoProcess> => startEcho(cli, extra, pki.dir, children);

async function wssClient(port: number, options: import('ws').ClientOptions = {}): Promise<TestClient> {
  const c = await openWs(`wss://127.0.0.1:${port}/`, undefined, { ca: pki.read('ca.crt'), ...options });
  clients.push(c);
  return c;
}

describe('wsworks echo over TLS', () => {
  it('--tls-cert and --tls-key: prints "listening <port>" and echoes over wss:// (TLS 1.3)', async () => {
    const srv = await echoServer(['--tls-cert', 'chain.pem', '--tls-key', 'server-rsa.key']);
    expect(srv.stdout()).toBe(`listening ${srv.port}\n`);
    const c = await wssClient(srv.port);
    expect((c.socket as import('node:tls').TLSSocket).getProtocol()).toBe('TLSv1.3');
    expect(c.ws.extensions).toMatch(/^permessage-deflate/);
    c.ws.send('hello wss');
    c.ws.send(Buffer.from([1, 2, 3]));
    expect(await c.waitForMessages(2)).toEqual([
      { data: Buffer.from('hello wss'), isBinary: false },
      { data: Buffer.from([1, 2, 3]), isBinary: true },
    ]);
  });

  it('--tls-pfx with --tls-pass, and --no-deflate still applies', async () => {
    const srv = await echoServer(['--tls-pfx', 'server-rsa.pfx', '--tls-pass', PFX_PASSWORD, '--no-deflate']);
    const c = await wssClient(srv.port);
    expect(c.ws.extensions).toBe('');
    c.ws.send('pfx');
    expect((await c.message(0)).data.toString()).toBe('pfx');
  });

  it('--tls-client-ca: a client with a certificate from the CA gets in, one without is refused', async () => {
    const srv = await echoServer(['--tls-cert', 'server-ec.crt', '--tls-key', 'server-ec.key', '--tls-client-ca', 'ca.crt']);
    const c = await wssClient(srv.port, { cert: pki.read('client.crt'), key: pki.read('client.key') });
    c.ws.send('with a certificate');
    expect((await c.message(0)).data.toString()).toBe('with a certificate');
    await expect(openWs(`wss://127.0.0.1:${srv.port}/`, undefined, { ca: pki.read('ca.crt') })).rejects.toThrow();
    await expect(openWs(`wss://127.0.0.1:${srv.port}/`, undefined, { ca: pki.read('ca.crt'), cert: pki.read('client-self.crt'), key: pki.read('client-self.key') })).rejects.toThrow();
    // The refused client may see its socket close before the server has written its line.
    await waitUntil(() => /\[280\] .*DEPTH_ZERO_SELF_SIGNED_CERT/.test(srv.stderr()), 5000, 'the 280 line on stderr');
    expect(srv.stderr()).toMatch(/\[281\] TLS connection from 127\.0\.0\.1:\d+: client certificate refused/);
  });

  it('SIGTERM closes wss:// clients with 1001 and exits 0', async () => {
    const srv = await echoServer(['--tls-pfx', 'server-rsa.pfx', '--tls-pass', PFX_PASSWORD]);
    const c = await wssClient(srv.port);
    srv.child.kill('SIGTERM');
    expect((await c.closed).code).toBe(1001);
    expect(await srv.exited).toEqual({ code: 0, signal: null });
  });

  it.each([
    [['--tls-cert', 'chain.pem'], '--tls-cert and --tls-key go together'],
    [['--tls-key', 'server-rsa.key'], '--tls-cert and --tls-key go together'],
    [['--tls-pfx', 'server-rsa.pfx', '--tls-cert', 'chain.pem', '--tls-key', 'server-rsa.key'], 'either --tls-pfx or --tls-cert'],
    [['--tls-client-ca', 'ca.crt'], 'need --tls-cert/--tls-key or --tls-pfx'],
    [['--tls-pass', 'x'], 'need --tls-cert/--tls-key or --tls-pfx'],
  ])('%j exits 2 with the usage', async (args, mention) => {
    const r = run(['echo', '--port', '0', ...args]);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toContain(mention);
    expect(r.stderr()).toContain('Usage: wsworks echo --port');
    expect(r.stderr()).toContain('--tls-pfx <file>');
  });

  it('a wrong PFX password or a missing file exits 1 with the reason', async () => {
    const wrong = run(['echo', '--port', '0', '--tls-pfx', 'server-rsa.pfx', '--tls-pass', 'nope']);
    expect((await wrong.exited).code).toBe(1);
    expect(wrong.stderr()).toMatch(/password/i);
    const missing = run(['echo', '--port', '0', '--tls-cert', 'missing.pem', '--tls-key', 'server-rsa.key']);
    expect((await missing.exited).code).toBe(1);
    expect(missing.stderr()).toMatch(/missing\.pem/);
    expect(missing.stdout()).toBe('');
  });
});

describe('wsworks echo from a package without build/wsworks.wasm', () => {
  it('the WASM engines (auto, the default, included) exit 1 at start saying what is missing; js still runs', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'wsworks-nowasm-'));
    try {
      copyFileSync(join(buildDir, 'package.json'), join(bare, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(bare, 'node_modules'), 'dir');
      cpSync(join(buildDir, 'dist'), join(bare, 'dist'), { recursive: true });
      const bareCli = join(bare, 'dist', 'cli.js');
      for (const engine of [[], ['--engine', 'wasm'], ['--engine', 'pool']]) {
        const r = runCli(bareCli, ['echo', '--port', '0', '--host', '127.0.0.1', ...engine], bare, children);
        const { code } = await r.exited;
        expect(code, `${engine.join(' ') || 'default engine'}: ${r.stderr()}`).toBe(1);
        expect(r.stdout()).toBe('');
        expect(r.stderr()).toMatch(/cannot load .*build\/wsworks\.wasm.*npm run build:wasm/);
      }
      await startEcho(bareCli, ['--engine', 'js'], bare, children);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
