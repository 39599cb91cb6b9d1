/**
 * Connections: the `connections` map and every WSConnection field in use, ConnectionRequest
 * and the client filters, MaxConnections, WebSocketOpenRequest (reject, response headers,
 * subprotocol choice, routing by request URI).
 */
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { WSServer } from '../src/index.js';
import { cleanUpAfterEachTest, type TestServer } from './helpers/server.js';
import { RawClient } from './helpers/raw-client.js';
import { codeOf, connectPeer, expectRefused, openWs, sleep, syncCodeOf, waitUntil } from './helpers/ws-client.js';

const { cleanups, started } = cleanUpAfterEachTest();

function echo(server: WSServer): void {
  server.on('dataIn', (e) => void server.sendText(e.connectionId, `echo:${e.text.toString()}`));
}

/** Resolves with how a plain TCP client ended: 'refused' (connect failed) or the bytes it got before the close. */
function tcpOutcome(port: number): Promise<{ connected: boolean; received: string }> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let connected = false;
    let received = '';
    s.on('connect', () => (connected = true));
    s.on('data', (d) => (received += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ connected, received }));
  });
}

describe('WSConnection fields', () => {
  it('describe the client and its handshake', async () => {
    const ts = await started();
    const peer = await connectPeer(ts, '/room/7?user=ann', ['chat.v2', 'chat.v1'], {
      origin: 'https://app.example',
      headers: { 'X-Custom': 'value 1', Authorization: 'Bearer abc' },
    });
    cleanups.push(() => peer.client.close());
    const c = peer.conn;
    expect(c.remoteHost).toBe('127.0.0.1');
    expect(c.remotePort).toBe(peer.client.localPort);
    expect(c.localAddress).toBe('127.0.0.1');
    expect(c.host).toBe(`127.0.0.1:${ts.port}`);
    expect(c.origin).toBe('https://app.example');
    expect(c.requestURI).toBe('/room/7?user=ann');
    expect(c.subProtocols).toBe('chat.v2, chat.v1');
    const headers = c.requestHeaders.split('\r\n');
    expect(headers).toContain('X-Custom: value 1');
    expect(headers).toContain('Authorization: Bearer abc');
    expect(headers).toContain('Upgrade: websocket');
    expect(headers.some((h) => /^Sec-WebSocket-Protocol: chat\.v2, ?chat\.v1$/.test(h))).toBe(true);
    // The map is keyed by connection id.
    expect(ts.server.connections.get(peer.id)).toBe(c);
  });

  it('Connected = false disconnects; Connected then reads false', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    expect(peer.conn.connected).toBe(true);
    peer.conn.connected = false;
    expect(peer.conn.connected).toBe(false);
    expect((await peer.client.closed).code).toBe(1000);
    const d = await ts.waitFor('disconnected', (e) => e.connectionId === peer.id);
    expect(d.statusCode).toBe(1000);
    expect(ts.server.connections.has(peer.id)).toBe(false);
  });

  it('Connected = true on an open connection changes nothing', async () => {
    const ts = await started({ setup: echo });
    const peer = await connectPeer(ts);
    peer.conn.connected = true;
    peer.client.ws.send('x');
    expect((await peer.client.message(0)).data.toString()).toBe('echo:x');
    await peer.client.close();
  });

  it('AcceptData = false pauses DataIn; true resumes with nothing lost and order kept', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    const got: string[] = [];
    ts.server.on('dataIn', (e) => {
      if (e.connectionId === peer.id) got.push(e.text.toString());
    });
    peer.client.ws.send('before');
    await waitUntil(() => got.length === 1, 2000, 'first message');
    peer.conn.acceptData = false;
    expect(peer.conn.acceptData).toBe(false);
    // Far more than InBufferSize while paused: the server must stop reading, not drop.
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 40; i++) peer.client.ws.send(`${i}:${big}`);
    await sleep(300);
    expect(got).toEqual(['before']);
    peer.conn.acceptData = true;
    await waitUntil(() => got.length === 41, 5000, 'all 40 messages after resuming');
    expect(got.slice(1).map((m) => m.split(':')[0])).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(got.slice(1).every((m) => m.length === big.length + m.indexOf(':') + 1)).toBe(true);
  });

  it('AcceptData = false in the middle of a batch holds the rest of the batch', async () => {
    const ts = await started();
    const raw = await RawClient.open(ts.port);
    cleanups.push(() => raw.destroy());
    const got: string[] = [];
    ts.server.on('dataIn', (e) => {
      got.push(e.text.toString());
      if (got.length === 2) ts.server.connections.get(e.connectionId)!.acceptData = false;
    });
    // Five messages in one TCP write: one decode pass.
    const { buildFrame } = await import('./helpers/raw-client.js');
    raw.write(Buffer.concat(['a', 'b', 'c', 'd', 'e'].map((t) => buildFrame(0x1, t))));
    await waitUntil(() => got.length >= 2, 2000, 'two messages');
    await sleep(100);
    expect(got).toEqual(['a', 'b']);
    const conn = [...ts.server.connections.values()][0]!;
    conn.acceptData = true;
    await waitUntil(() => got.length === 5, 2000, 'the rest');
    expect(got).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('DataToSend / DataToSendB honour DataFormat 0, 1, 2, 9 and 10', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    const c = peer.conn;
    const { client } = peer;
    c.dataFormat = 0;
    c.dataToSend = 'auto text';
    c.dataToSendB = Buffer.from([0, 1, 2]);
    c.dataFormat = 1;
    c.dataToSendB = Buffer.from('bytes as text');
    c.dataToSend = 'héllo';
    c.dataFormat = 2;
    c.dataToSend = 'string as binary';
    const got = await client.waitForMessages(5);
    expect(got.map((m) => [m.isBinary, m.data.toString()])).toEqual([
      [false, 'auto text'],
      [true, '\x00\x01\x02'],
      [false, 'bytes as text'],
      [false, 'héllo'],
      [true, 'string as binary'],
    ]);
    expect(c.bytesSent).toBe('string as binary'.length);
    c.dataFormat = 9;
    c.dataToSend = 'are you there';
    await client.until(() => client.pings.length === 1, 2000, () => 'a ping');
    expect(client.pings[0]!.toString()).toBe('are you there');
    // ws answers the ping: the server reports the pong as a ping response.
    const pong = await ts.waitFor('ping', (e) => e.connectionId === peer.id && e.response);
    expect(pong.payload.toString()).toBe('are you there');
    c.dataFormat = 10;
    c.dataToSendB = Buffer.from('unsolicited');
    await client.until(() => client.pongs.length === 1, 2000, () => 'a pong');
    expect(client.pongs[0]!.toString()).toBe('unsolicited');
    // A control frame carries at most 125 bytes.
    c.dataFormat = 9;
    expect(syncCodeOf(() => (c.dataToSend = 'x'.repeat(126)))).toBe(10022);
    // Nothing can be sent on a closed connection.
    c.dataFormat = 0;
    c.connected = false;
    await client.closed;
    expect(syncCodeOf(() => (c.dataToSend = 'late'))).toBe(10057);
  });

  it('Timeout starts at DefaultTimeout, can be changed per connection, and refuses bad values', async () => {
    const ts = await started();
    const a = await connectPeer(ts);
    ts.server.defaultTimeout = 9;
    const b = await connectPeer(ts);
    cleanups.push(() => a.client.close(), () => b.client.close());
    expect(a.conn.timeout).toBe(0);
    expect(b.conn.timeout).toBe(9);
    a.conn.timeout = 3;
    expect(a.conn.timeout).toBe(3);
    expect(b.conn.timeout).toBe(9);
    expect(syncCodeOf(() => (a.conn.timeout = -1))).toBe(10022);
    expect(syncCodeOf(() => (a.conn.timeout = 0.5))).toBe(10022);
    expect(a.conn.timeout).toBe(3);
  });

  it('ReadyToSend is true on an open connection and BytesSent counts the last async send', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    await ts.waitFor('readyToSend', (e) => e.connectionId === peer.id); // fired right after connecting
    expect(peer.conn.readyToSend).toBe(true);
    await ts.server.send(peer.id, Buffer.alloc(1234));
    expect(peer.conn.bytesSent).toBe(1234);
    await ts.server.sendText(peer.id, 'é');
    expect(peer.conn.bytesSent).toBe(2);
  });
});

describe('ConnectionRequest and the client filters', () => {
  it('reports the client address and port; accept = false refuses the connection', async () => {
    let n = 0;
    const ts = await started({
      setup: (s) => s.on('connectionRequest', (e) => {
        if (n++ % 2 === 1) e.accept = false; // refuse every second request
      }),
    });
    for (let i = 0; i < 4; i++) {
      const client = await openWs(ts.url).catch(() => null);
      const req = ts.events.filter((e) => e.name === 'connectionRequest').at(-1)!.event as { address: string; port: number; accept: boolean };
      expect(req.address).toBe('127.0.0.1');
      expect(client !== null).toBe(i % 2 === 0);
      expect(req.accept).toBe(i % 2 === 0);
      if (client) {
        expect(req.port).toBe(client.localPort);
        await client.close();
      }
    }
    expect(ts.events.filter((e) => e.name === 'connected')).toHaveLength(2);
  });

  it.each([
    ['*', '', true],
    ['127.0.0.*', '', true],
    ['127.*', '', true],
    ['10.*', '', false],
    ['10.*, 127.0.0.1', '', true],
    ['localhost', '', true],
    ['*', '127.0.0.*', false],
    ['*', '10.*', true],
    ['127.*', '127.0.0.1', false],
  ])('AllowedClients=%j BlockedClients=%j → allowed %s', async (allowed, blocked, ok) => {
    const ts = await started({ config: { AllowedClients: allowed, BlockedClients: blocked } });
    const result = await openWs(ts.url).then(
      async (c) => {
        await c.close();
        return true;
      },
      () => false,
    );
    expect(result).toBe(ok);
    const req = await ts.waitFor('connectionRequest');
    expect(req.accept).toBe(ok);
    if (!ok) expect(ts.events.some((e) => e.name === 'webSocketOpenRequest')).toBe(false);
  });

  it('a ConnectionRequest listener can let a filtered client in', async () => {
    const ts = await started({
      config: { BlockedClients: '127.0.0.*' },
      setup: (s) => s.on('connectionRequest', (e) => (e.accept = true)),
    });
    const c = await openWs(ts.url);
    await c.close();
  });

  it('a refused TCP connection is closed without an HTTP answer', async () => {
    const ts = await started({ config: { AllowedClients: '10.*' } });
    const outcome = await tcpOutcome(ts.port);
    expect(outcome).toEqual({ connected: true, received: '' });
  });
});

describe('MaxConnections', () => {
  it('over the limit a new client gets HTTP 503; the others keep working and a freed slot is reused', async () => {
    const ts = await started({ config: { MaxConnections: 2 }, setup: echo });
    const a = await openWs(ts.url);
    const b = await openWs(ts.url);
    const refused = await expectRefused(ts.url);
    expect(refused.status).toBe(503);
    a.ws.send('a');
    b.ws.send('b');
    expect((await a.message(0)).data.toString()).toBe('echo:a');
    expect((await b.message(0)).data.toString()).toBe('echo:b');
    expect(ts.server.connections.size).toBe(2);
    // Many more at once are all refused, and nothing breaks.
    const burst = await Promise.all(Array.from({ length: 10 }, () => expectRefused(ts.url)));
    expect(burst.every((r) => r.status === 503)).toBe(true);
    await a.close();
    await waitUntil(() => ts.server.connections.size === 1, 2000, 'a slot to free');
    const c = await openWs(ts.url);
    c.ws.send('c');
    expect((await c.message(0)).data.toString()).toBe('echo:c');
    b.ws.send('b2');
    expect((await b.message(1)).data.toString()).toBe('echo:b2');
    await Promise.all([b.close(), c.close()]);
  });

  it('TCP connections still in the handshake count against the limit', async () => {
    const ts = await started({ config: { MaxConnections: 1 } });
    const idle = await RawClient.connect(ts.port); // connected, never sends a request
    cleanups.push(() => idle.destroy());
    await waitUntil(() => ts.events.some((e) => e.name === 'connectionRequest'), 2000, 'connectionRequest');
    expect((await expectRefused(ts.url)).status).toBe(503);
    idle.destroy();
    await sleep(50);
    const c = await openWs(ts.url);
    await c.close();
  });
});

describe('WebSocketOpenRequest', () => {
  it('carries the request; StatusCode 401 with ResponseHeaders rejects with that answer', async () => {
    const ts = await started({
      setup: (s) => s.on('webSocketOpenRequest', (e) => {
        if (!/^Authorization: Basic /im.test(e.requestHeaders)) {
          e.statusCode = 401;
          e.responseHeaders = 'WWW-Authenticate: Basic realm="Secure Realm"';
        }
      }),
    });
    const refused = await expectRefused(`${ts.url}/private?x=1`, ['a', 'b']);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('Basic realm="Secure Realm"');
    const req = await ts.waitFor('webSocketOpenRequest');
    expect(req.requestURI).toBe('/private?x=1');
    expect(req.hostHeader).toBe(`127.0.0.1:${ts.port}`);
    expect(req.originHeader).toBe('');
    expect(req.subProtocols).toBe('a, b');
    expect(req.extensions).toContain('permessage-deflate');
    expect(req.requestHeaders).toMatch(/^Sec-WebSocket-Version: 13$/m);
    expect(ts.server.connections.size).toBe(0);
    expect(ts.events.some((e) => e.name === 'connected')).toBe(false);
    // With credentials the same server accepts.
    const ok = await openWs(`${ts.url}/private`, ['a'], { headers: { Authorization: 'Basic dTpw' } });
    expect(ok.ws.protocol).toBe('a');
    await ok.close();
  });

  it('the connection id of the request is the id the connection gets', async () => {
    const ts = await started();
    const peer = await connectPeer(ts);
    const req = await ts.waitFor('webSocketOpenRequest');
    const connected = await ts.waitFor('connected');
    expect(req.connectionId).toBe(peer.id);
    expect(connected.connectionId).toBe(peer.id);
    await peer.client.close();
  });

  it.each([403, 404, 429, 500])('StatusCode %i rejects with that status', async (status) => {
    const ts = await started({ setup: (s) => s.on('webSocketOpenRequest', (e) => (e.statusCode = status)) });
    expect((await expectRefused(ts.url)).status).toBe(status);
  });

  it('SubProtocols set to one of the offered selects it', async () => {
    const ts = await started({ setup: (s) => s.on('webSocketOpenRequest', (e) => (e.subProtocols = 'b')) });
    const peer = await connectPeer(ts, '/', ['a', 'b']);
    expect(peer.client.ws.protocol).toBe('b');
    expect(peer.conn.subProtocols).toBe('a, b'); // the field keeps what the client offered
    await peer.client.close();
  });

  it('left unchanged, the first offered subprotocol is selected (as ws does)', async () => {
    const ts = await started();
    const peer = await connectPeer(ts, '/', ['first', 'second']);
    expect(peer.client.ws.protocol).toBe('first');
    await peer.client.close();
  });

  it('SubProtocols set to one not offered (or emptied) selects none', async () => {
    const ts = await started({ setup: (s) => s.on('webSocketOpenRequest', (e) => (e.subProtocols = e.requestURI === '/none' ? '' : 'c')) });
    for (const path of ['/none', '/other']) {
      const raw = await RawClient.connect(ts.port);
      const res = await raw.handshake({ path, headers: { 'Sec-WebSocket-Protocol': 'a, b' } });
      expect(res.status).toBe(101);
      expect(res.headers['sec-websocket-protocol']).toBeUndefined();
      raw.destroy();
    }
  });

  it('ResponseHeaders are added to a successful handshake too', async () => {
    const ts = await started({ setup: (s) => s.on('webSocketOpenRequest', (e) => (e.responseHeaders = 'Set-Cookie: session=42\r\nX-Server: wsworks')) });
    const raw = await RawClient.connect(ts.port);
    cleanups.push(() => raw.destroy());
    const res = await raw.handshake();
    expect(res.status).toBe(101);
    expect(res.headers['set-cookie']).toBe('session=42');
    expect(res.headers['x-server']).toBe('wsworks');
  });

  it('routes by RequestURI', async () => {
    const ts = await started({
      setup: (s) => {
        s.on('webSocketOpenRequest', (e) => {
          if (!['/echo', '/upper'].includes(e.requestURI.split('?')[0]!)) e.statusCode = 404;
        });
        s.on('dataIn', (e) => {
          const conn = s.connections.get(e.connectionId)!;
          const text = e.text.toString();
          void s.sendText(e.connectionId, conn.requestURI.startsWith('/upper') ? text.toUpperCase() : text);
        });
      },
    });
    expect((await expectRefused(`${ts.url}/nowhere`)).status).toBe(404);
    const echoC = await openWs(`${ts.url}/echo`);
    const upper = await openWs(`${ts.url}/upper?lang=en`);
    echoC.ws.send('Hello');
    upper.ws.send('Hello');
    expect((await echoC.message(0)).data.toString()).toBe('Hello');
    expect((await upper.message(0)).data.toString()).toBe('HELLO');
    await Promise.all([echoC.close(), upper.close()]);
  });

  it('a listener that throws rejects the handshake with 500 and reports an Error event', async () => {
    const ts = await started({
      setup: (s) => s.on('webSocketOpenRequest', () => {
        throw new Error('listener bug');
      }),
    });
    expect((await expectRefused(ts.url)).status).toBe(500);
    const err = await ts.waitFor('error');
    expect(err.description).toContain('listener bug');
    // The server keeps serving.
    expect(ts.server.listening).toBe(true);
  });
});

describe('Log and LogLevel', () => {
  async function logsAt(level: number, mask = true): Promise<Array<{ connectionId: string; logLevel: number; message: string; logType: string }>> {
    const ts = await started({ config: { LogLevel: level, MaskSensitive: mask } });
    const peer = await connectPeer(ts, '/logged', undefined, { headers: { Authorization: 'Basic c2VjcmV0', Cookie: 'sid=12345' } });
    await peer.client.close();
    await ts.waitFor('disconnected');
    return ts.events.filter((e) => e.name === 'log').map((e) => e.event as never);
  }

  it('LogLevel 0 logs nothing', async () => {
    expect(await logsAt(0)).toEqual([]);
  });

  it('LogLevel 1 (default) logs connection status at Info level', async () => {
    const logs = await logsAt(1);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((l) => l.logLevel === 1 && (l.logType === 'Info' || l.logType === 'Error'))).toBe(true);
    expect(logs.some((l) => l.connectionId !== '' && /connect/i.test(l.message))).toBe(true);
    expect(logs.some((l) => /disconnect/i.test(l.message))).toBe(true);
  });

  it('LogLevel 2 adds the HTTP request as Verbose, masking credentials unless MaskSensitive is False', async () => {
    const logs = await logsAt(2);
    const verbose = logs.filter((l) => l.logLevel === 2);
    expect(verbose.every((l) => l.logType === 'Verbose' || l.logType === 'Error')).toBe(true);
    const request = verbose.find((l) => l.message.startsWith('GET /logged HTTP/1.1'));
    expect(request, 'the request is logged').toBeDefined();
    expect(request!.connectionId).not.toBe('');
    expect(request!.message).toMatch(/^Authorization: \*+$/m);
    expect(request!.message).toMatch(/^Cookie: \*+$/m);
    expect(request!.message).not.toContain('c2VjcmV0');
    expect(request!.message).toMatch(/^Upgrade: websocket$/m);
    const unmasked = (await logsAt(2, false)).find((l) => l.message.startsWith('GET /logged'));
    expect(unmasked!.message).toMatch(/^Authorization: Basic c2VjcmV0$/m);
    expect(unmasked!.message).toMatch(/^Cookie: sid=12345$/m);
  });
});

describe('socket options', () => {
  it('TcpNoDelay and KeepAliveTime are applied to each accepted socket', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const keepAlive = vi.spyOn(net.Socket.prototype, 'setKeepAlive');
    const ts = await started({ config: { TcpNoDelay: true, KeepAliveTime: 30000 } });
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    const serverSide = (calls: Array<{ socket: net.Socket; args: unknown[] }>): unknown[][] =>
      calls.filter((c) => c.socket.localPort === ts.port).map((c) => c.args);
    const calls = (spy: typeof noDelay | typeof keepAlive): Array<{ socket: net.Socket; args: unknown[] }> =>
      spy.mock.contexts.map((socket, i) => ({ socket: socket as net.Socket, args: spy.mock.calls[i]! }));
    expect(serverSide(calls(noDelay)).some((args) => args[0] === true || args[0] === undefined)).toBe(true);
    expect(serverSide(calls(keepAlive))).toContainEqual([true, 30000]);
  });

  it('by default neither Nagle is disabled nor keep-alive enabled on accepted sockets', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    const keepAlive = vi.spyOn(net.Socket.prototype, 'setKeepAlive');
    const ts = await started();
    const peer = await connectPeer(ts);
    cleanups.push(() => peer.client.close());
    const serverSide = (spy: typeof noDelay | typeof keepAlive): unknown[][] =>
      spy.mock.contexts.flatMap((socket, i) => ((socket as net.Socket).localPort === ts.port ? [spy.mock.calls[i]!] : []));
    expect(serverSide(noDelay).some((args) => args[0] === true || args[0] === undefined)).toBe(false);
    expect(serverSide(keepAlive).some((args) => args[0] === true)).toBe(false);
  });
});

describe('invalid connection ids', () => {
  it('every method that takes a connection id refuses an unknown one with 126', async () => {
    const ts = await started();
    const s = ts.server;
    expect(syncCodeOf(() => s.disconnect('42'))).toBe(126);
    expect(syncCodeOf(() => s.changeLineMode('42', true))).toBe(126);
    expect(syncCodeOf(() => s.interrupt('42'))).toBe(126);
    expect(await codeOf(() => s.ping('42'))).toBe(126);
    expect(await codeOf(() => s.send('42', Buffer.from('x')))).toBe(126);
    expect(await codeOf(() => s.sendBytes('42', Buffer.from('x')))).toBe(126);
    expect(await codeOf(() => s.sendText('42', 'x'))).toBe(126);
    expect(await codeOf(() => s.sendFile('42', '/etc/hostname'))).toBe(126);
    // An id that was valid stops being valid once its connection closed.
    const peer = await connectPeer(ts);
    await peer.client.close();
    await waitUntil(() => !s.connections.has(peer.id), 2000, 'the connection to go');
    expect(await codeOf(() => s.sendText(peer.id, 'x'))).toBe(126);
  });
});
