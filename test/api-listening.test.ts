/**
 * Listening: LocalPort/LocalHost, Listening, StartListening/StopListening/Shutdown, the errors
 * for changing what cannot change while listening, UseIPv6, ConnectionBacklog, BindExclusively.
 */
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { WSServer, WSServerError } from '../src/index.js';
import { cleanUpAfterEachTest, type TestServer } from './helpers/server.js';
import { codeOf, connectPeer, openWs, syncCodeOf, waitUntil } from './helpers/ws-client.js';

const { cleanups, started } = cleanUpAfterEachTest();

/** Resolves true if a plain TCP connect to host:port succeeds, false if it is refused. */
function tcpConnects(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Echo: every message comes back as text prefixed with "echo:". */
function echo(server: WSServer): void {
  server.on('dataIn', (e) => void server.sendText(e.connectionId, `echo:${e.text.toString()}`));
}

describe('LocalPort, LocalHost and Listening', () => {
  it('LocalPort 0 picks a free port, readable once listening', async () => {
    const server = new WSServer();
    cleanups.push(() => server.shutdown());
    server.localHost = '127.0.0.1';
    server.localPort = 0;
    expect(server.listening).toBe(false);
    await server.startListening();
    expect(server.listening).toBe(true);
    expect(server.localPort).toBeGreaterThan(0);
    expect(await tcpConnects(server.localPort, '127.0.0.1')).toBe(true);
    const client = await openWs(`ws://127.0.0.1:${server.localPort}/`);
    await client.close();
  });

  it('listens on the LocalPort it was given', async () => {
    // Find a free port, release it, and ask wsworks for exactly that one.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const server = new WSServer({ localHost: '127.0.0.1', localPort: port });
    cleanups.push(() => server.shutdown());
    await server.startListening();
    expect(server.localPort).toBe(port);
    expect(await tcpConnects(port, '127.0.0.1')).toBe(true);
  });

  it('StartListening while listening fails with 104', async () => {
    const ts = await started();
    const err = await codeOf(() => ts.server.startListening());
    expect(err).toBe(104);
    expect(ts.server.listening).toBe(true);
  });

  it('LocalPort (106), LocalHost (107) and MaxConnections (108) cannot change while listening', async () => {
    const ts = await started();
    const port = ts.server.localPort;
    expect(syncCodeOf(() => (ts.server.localPort = port + 1))).toBe(106);
    expect(syncCodeOf(() => (ts.server.localHost = '0.0.0.0'))).toBe(107);
    expect(syncCodeOf(() => ts.server.config('MaxConnections=10'))).toBe(108);
    expect(ts.server.localPort).toBe(port);
    expect(ts.server.localHost).toBe('127.0.0.1');
    expect(ts.server.config('MaxConnections')).toBe('1000');
    // After StopListening they can change again.
    ts.server.stopListening();
    ts.server.config('MaxConnections=10');
    ts.server.localHost = '127.0.0.1';
    ts.server.localPort = 0;
    expect(ts.server.config('MaxConnections')).toBe('10');
  });

  it('a port in use fails with 10048 (EADDRINUSE)', async () => {
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => other.close(() => r())));
    const port = (other.address() as net.AddressInfo).port;
    const server = new WSServer({ localHost: '127.0.0.1', localPort: port });
    cleanups.push(() => server.shutdown());
    let error: unknown = null;
    await server.startListening().catch((e: unknown) => (error = e));
    expect(error).toBeInstanceOf(WSServerError);
    expect((error as WSServerError).code).toBe(10048);
    expect((error as WSServerError).message).toContain('[10048] Address already in use.');
    expect(server.listening).toBe(false);
  });

  it('an address that is not local fails with 10049 (EADDRNOTAVAIL)', async () => {
    const server = new WSServer({ localHost: '192.0.2.123', localPort: 0 }); // TEST-NET-1, never ours
    cleanups.push(() => server.shutdown());
    expect(await codeOf(() => server.startListening())).toBe(10049);
  });

  it('setting Listening to true on a port in use reports 10048 through the Error event', async () => {
    const other = net.createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => other.close(() => r())));
    const server = new WSServer({ localHost: '127.0.0.1', localPort: (other.address() as net.AddressInfo).port });
    cleanups.push(() => server.shutdown());
    const errors: number[] = [];
    server.on('error', (e) => errors.push(e.errorCode));
    server.listening = true;
    await waitUntil(() => errors.length > 0, 3000, 'the Error event');
    expect(errors).toEqual([10048]);
    expect(server.listening).toBe(false);
  });
});

describe('StopListening and Shutdown', () => {
  it('StopListening keeps existing connections working while new connects fail', async () => {
    const ts = await started({ setup: echo });
    const a = await openWs(ts.url);
    const b = await openWs(ts.url);
    ts.server.stopListening();
    expect(ts.server.listening).toBe(false);
    expect(ts.server.connections.size).toBe(2);
    a.ws.send('still here');
    b.ws.send('me too');
    expect((await a.message(0)).data.toString()).toBe('echo:still here');
    expect((await b.message(0)).data.toString()).toBe('echo:me too');
    expect(await tcpConnects(ts.port, '127.0.0.1')).toBe(false);
    await expect(openWs(ts.url)).rejects.toThrow();
    // Listening again accepts new clients beside the old ones.
    await ts.server.startListening();
    const c = await openWs(`ws://127.0.0.1:${ts.server.localPort}`);
    c.ws.send('new');
    expect((await c.message(0)).data.toString()).toBe('echo:new');
    a.ws.send('old');
    expect((await a.message(1)).data.toString()).toBe('echo:old');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('StopListening when not listening does nothing', () => {
    const server = new WSServer();
    expect(() => server.stopListening()).not.toThrow();
    expect(server.listening).toBe(false);
  });

  it('Shutdown closes every client with DisconnectStatusCode (1000 by default) and stops listening', async () => {
    const ts = await started();
    const a = await openWs(ts.url);
    const b = await openWs(ts.url);
    await ts.server.shutdown();
    expect(ts.server.listening).toBe(false);
    expect(ts.server.connections.size).toBe(0);
    const [ca, cb] = await Promise.all([a.closed, b.closed]);
    expect(ca.code).toBe(1000);
    expect(cb.code).toBe(1000);
    const disconnected = ts.events.filter((e) => e.name === 'disconnected');
    expect(disconnected).toHaveLength(2);
    for (const d of disconnected) expect((d.event as { statusCode: number }).statusCode).toBe(1000);
    expect(await tcpConnects(ts.port, '127.0.0.1')).toBe(false);
  });

  it('Shutdown sends the configured DisconnectStatusCode and DisconnectStatusDescription', async () => {
    const ts = await started({ config: { DisconnectStatusCode: 1001, DisconnectStatusDescription: 'maintenance' } });
    const a = await openWs(ts.url);
    await ts.server.shutdown();
    expect(await a.closed).toEqual({ code: 1001, reason: 'maintenance' });
  });

  it('Shutdown also drops TCP connections that have not finished the handshake', async () => {
    const ts = await started();
    const raw = net.connect({ port: ts.port, host: '127.0.0.1' });
    await new Promise((r) => raw.once('connect', r));
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    raw.on('error', () => undefined);
    await waitUntil(() => ts.events.some((e) => e.name === 'connectionRequest'), 2000, 'connectionRequest');
    const t0 = Date.now();
    await ts.server.shutdown();
    await closed;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('UseIPv6', () => {
  const hasIPv6Loopback = Object.values(os.networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));

  async function listenAll(useIPv6: number): Promise<WSServer> {
    const server = new WSServer({ localHost: '', localPort: 0, config: { UseIPv6: useIPv6 } });
    cleanups.push(() => server.shutdown());
    server.on('dataIn', (e) => void server.sendText(e.connectionId, e.text));
    await server.startListening();
    return server;
  }

  async function roundTrip(url: string): Promise<string> {
    const client = await openWs(url);
    client.ws.send('ping?');
    const m = await client.message(0);
    await client.close();
    return m.data.toString();
  }

  it('0 (default): IPv4 only', async () => {
    const server = await listenAll(0);
    expect(await roundTrip(`ws://127.0.0.1:${server.localPort}/`)).toBe('ping?');
    if (hasIPv6Loopback) expect(await tcpConnects(server.localPort, '::1')).toBe(false);
  });

  it.skipIf(!hasIPv6Loopback)('1: IPv6 only (skipped when the machine has no ::1)', async () => {
    const server = await listenAll(1);
    expect(await roundTrip(`ws://[::1]:${server.localPort}/`)).toBe('ping?');
    expect(await tcpConnects(server.localPort, '127.0.0.1')).toBe(false);
    const conn = [...server.connections.values()];
    expect(conn).toHaveLength(0);
  });

  it.skipIf(!hasIPv6Loopback)('2: IPv6 and IPv4 (skipped when the machine has no ::1)', async () => {
    const server = await listenAll(2);
    const seen: string[] = [];
    server.on('connected', (e) => seen.push(server.connections.get(e.connectionId)!.remoteHost));
    expect(await roundTrip(`ws://[::1]:${server.localPort}/`)).toBe('ping?');
    expect(await roundTrip(`ws://127.0.0.1:${server.localPort}/`)).toBe('ping?');
    // An IPv4 client on a dual-stack socket is reported as plain IPv4, not ::ffff:127.0.0.1.
    expect(seen).toEqual(['::1', '127.0.0.1']);
  });

  it('2 still serves IPv4 clients', async () => {
    const server = await listenAll(2);
    expect(await roundTrip(`ws://127.0.0.1:${server.localPort}/`)).toBe('ping?');
  });
});

describe('ConnectionBacklog and BindExclusively', () => {
  it('ConnectionBacklog and BindExclusively are what the listening socket is opened with', async () => {
    const listen = vi.spyOn(http.Server.prototype, 'listen');
    const server = new WSServer({ localHost: '127.0.0.1', localPort: 0 });
    cleanups.push(() => server.shutdown());
    server.connectionBacklog = 7;
    server.config('BindExclusively=False');
    await server.startListening();
    expect(listen).toHaveBeenCalledTimes(1);
    expect(listen.mock.calls[0]![0]).toMatchObject({ backlog: 7, exclusive: false });
    await server.shutdown();
    server.config('BindExclusively=True');
    server.connectionBacklog = 128;
    await server.startListening();
    expect(listen.mock.calls[1]![0]).toMatchObject({ backlog: 128, exclusive: true });
  });

  it('BindExclusively: a second server on the same port fails with 10048 either way', async () => {
    for (const exclusive of ['True', 'False']) {
      const first = new WSServer({ localHost: '127.0.0.1', localPort: 0, config: { BindExclusively: exclusive } });
      cleanups.push(() => first.shutdown());
      await first.startListening();
      const second = new WSServer({ localHost: '127.0.0.1', localPort: first.localPort, config: { BindExclusively: exclusive } });
      cleanups.push(() => second.shutdown());
      expect(await codeOf(() => second.startListening())).toBe(10048);
      // The first keeps serving.
      const peer = await openWs(`ws://127.0.0.1:${first.localPort}/`);
      await peer.close();
    }
  });
});

describe('connections across listening changes', () => {
  it('connections map follows clients in and out', async () => {
    const ts = await started();
    const a = await connectPeer(ts);
    const b = await connectPeer(ts);
    expect([...ts.server.connections.keys()].sort()).toEqual([a.id, b.id].sort());
    await a.client.close();
    await waitUntil(() => ts.server.connections.size === 1, 2000, 'one connection left');
    expect(ts.server.connections.has(b.id)).toBe(true);
    await b.client.close();
    await waitUntil(() => ts.server.connections.size === 0, 2000, 'no connection left');
  });
});
