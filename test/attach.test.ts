/**
 * server.attach(httpServer): wsworks serves the WebSocket upgrades of an http.Server the
 * application owns, on the same port as its HTTP routes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WSServer } from '../src/index.js';
import { expectRefused, openWs, waitUntil } from './helpers/ws-client.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

/** An HTTP app on 127.0.0.1 with a WSServer attached; `configure` runs before attaching. */
async function app(configure?: (ws: WSServer) => void): Promise<{ http: http.Server; ws: WSServer; port: number }> {
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('hello from the app');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const ws = new WSServer();
  ws.on('dataIn', (e) => void ws.sendText(e.connectionId, `echo:${e.text.toString()}`));
  configure?.(ws);
  ws.attach(httpServer);
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  cleanups.push(
    () => new Promise<void>((r) => {
      httpServer.closeAllConnections();
      httpServer.close(() => r());
    }),
  );
  cleanups.push(() => ws.shutdown());
  return { http: httpServer, ws, port: (httpServer.address() as AddressInfo).port };
}

describe('attach(httpServer)', () => {
  it('HTTP requests are still served by the app; WebSocket upgrades by wsworks, on the same port', async () => {
    const { ws, port } = await app();
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello from the app');
    expect((await fetch(`http://127.0.0.1:${port}/missing`)).status).toBe(404);
    const c = await openWs(`ws://127.0.0.1:${port}/chat`);
    c.ws.send('over the shared port');
    expect((await c.message(0)).data.toString()).toBe('echo:over the shared port');
    expect(ws.connections.size).toBe(1);
    const conn = [...ws.connections.values()][0]!;
    expect(conn.requestURI).toBe('/chat');
    expect(conn.remotePort).toBe(c.localPort);
    // The WSServer itself is not listening: the app's server is.
    expect(ws.listening).toBe(false);
    // HTTP keeps working while the WebSocket is open.
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from the app');
    await c.close();
    await waitUntil(() => ws.connections.size === 0, 2000, 'the connection to go');
  });

  it('fires the connection events, and the application can reject by request URI', async () => {
    const events: string[] = [];
    const { port } = await app((ws) => {
      ws.on('connectionRequest', () => events.push('connectionRequest'));
      ws.on('webSocketOpenRequest', (e) => {
        events.push('webSocketOpenRequest');
        if (e.requestURI !== '/ws') e.statusCode = 404;
      });
      ws.on('connected', () => events.push('connected'));
      ws.on('disconnected', () => events.push('disconnected'));
    });
    expect((await expectRefused(`ws://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    const c = await openWs(`ws://127.0.0.1:${port}/ws`);
    await c.close();
    await waitUntil(() => events.includes('disconnected'), 2000, 'disconnected');
    expect(events).toEqual([
      'connectionRequest',
      'webSocketOpenRequest',
      'connectionRequest',
      'webSocketOpenRequest',
      'connected',
      'disconnected',
    ]);
  });

  it('ConnectionRequest accept = false and the client filters refuse the upgrade with 403', async () => {
    const { port } = await app((ws) => ws.config('AllowedClients=10.*'));
    expect((await expectRefused(`ws://127.0.0.1:${port}/`)).status).toBe(403);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from the app');
  });

  it('MaxConnections applies to attached servers too', async () => {
    const { port } = await app((ws) => ws.config('MaxConnections=1'));
    const a = await openWs(`ws://127.0.0.1:${port}/`);
    expect((await expectRefused(`ws://127.0.0.1:${port}/`)).status).toBe(503);
    a.ws.send('still');
    expect((await a.message(0)).data.toString()).toBe('echo:still');
    await a.close();
  });

  it('a WSServer can listen on its own port and serve an attached server at the same time', async () => {
    const { ws, port } = await app((s) => {
      s.localHost = '127.0.0.1';
      s.localPort = 0;
    });
    await ws.startListening();
    const a = await openWs(`ws://127.0.0.1:${port}/`);
    const b = await openWs(`ws://127.0.0.1:${ws.localPort}/`);
    expect(ws.connections.size).toBe(2);
    a.ws.send('a');
    b.ws.send('b');
    expect((await a.message(0)).data.toString()).toBe('echo:a');
    expect((await b.message(0)).data.toString()).toBe('echo:b');
    const ids = [...ws.connections.keys()];
    expect(new Set(ids).size).toBe(2); // ids stay unique across both sources
    await Promise.all([a.close(), b.close()]);
  });

  it('shutdown closes the attached connections and detaches; the app keeps serving HTTP', async () => {
    const { ws, port, http: httpServer } = await app();
    const c = await openWs(`ws://127.0.0.1:${port}/`);
    await ws.shutdown();
    expect((await c.closed).code).toBe(1000);
    expect(ws.connections.size).toBe(0);
    expect(httpServer.listenerCount('upgrade')).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from the app');
    await expect(openWs(`ws://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('TcpNoDelay and KeepAliveTime apply to attached connections too', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const keepAlive = vi.spyOn(net.Socket.prototype, 'setKeepAlive');
    const { port } = await app((ws) => {
      ws.config('TcpNoDelay=True');
      ws.config('KeepAliveTime=45000');
    });
    const c = await openWs(`ws://127.0.0.1:${port}/`);
    const serverSide = (spy: typeof noDelay | typeof keepAlive): unknown[][] =>
      spy.mock.contexts.flatMap((socket, i) => ((socket as net.Socket).localPort === port ? [spy.mock.calls[i]!] : []));
    expect(serverSide(noDelay).some((args) => args[0] === true || args[0] === undefined)).toBe(true);
    expect(serverSide(keepAlive)).toContainEqual([true, 45000]);
    await c.close();
  });

  it('attaching the same server twice handles each upgrade once', async () => {
    const { ws, http: httpServer, port } = await app();
    ws.attach(httpServer);
    expect(httpServer.listenerCount('upgrade')).toBe(1);
    const c = await openWs(`ws://127.0.0.1:${port}/`);
    c.ws.send('once');
    expect((await c.message(0)).data.toString()).toBe('echo:once');
    expect(ws.connections.size).toBe(1);
    await c.close();
  });
});
