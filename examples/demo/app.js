// The wsworks demo: one Node http.Server that serves a web page at `/` and, on the same
// port, WebSocket endpoints handled by a WSServer attached to it:
//
//   /echo  sends every message back with its type (text as text, binary as binary)
//   /chat  sends every text message to every chat client, prefixed with a nickname
//          (`/chat?nick=alice`; without one the client is called guest-<n>)
//
// `node examples/demo/server.js` runs it; tests call startDemo({ port: 0 }).

import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { WSServer, WSServerError } from 'wsworks';

const PAGE_URL = new URL('./index.html', import.meta.url);
const ENDPOINTS = new Set(['/echo', '/chat']);
const WOULD_BLOCK = 10035; // the connection's outgoing queue is full
const NOT_CONNECTED = 10057; // the connection is closing
/** Bytes the echo endpoint keeps for one client that is not reading its replies. */
const MAX_ECHO_BACKLOG = 16 * 1024 * 1024;

/**
 * Starts the demo.
 * @param {{ port?: number, host?: string, log?: (line: string) => void }} [options]
 */
export async function startDemo({ port = 8080, host, log = () => {} } = {}) {
  const page = await readFile(PAGE_URL);

  const httpServer = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (path === '/' || path === '/index.html') {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': page.length,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : page);
    } else if (ENDPOINTS.has(path)) {
      res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' });
      res.end(`${path} is a WebSocket endpoint\n`);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    }
  });

  const wsServer = new WSServer();
  // Deliver whole messages in dataIn (the default delivers them fragment by fragment).
  wsServer.config('BufferMessage=True');

  /** connectionId -> { endpoint: '/echo' | '/chat', nick, backlog: echo replies waiting to be sent, tooSlow } */
  const clients = new Map();
  let guests = 0;

  // Refuse upgrades to anything but the two endpoints: the client gets an HTTP 404.
  wsServer.on('webSocketOpenRequest', (e) => {
    if (!ENDPOINTS.has(new URL(e.requestURI, 'http://localhost').pathname)) e.statusCode = 404;
  });

  wsServer.on('connected', (e) => {
    const url = new URL(wsServer.connections.get(e.connectionId).requestURI, 'http://localhost');
    const nick = cleanNick(url.searchParams.get('nick')) || `guest-${++guests}`;
    const client = { endpoint: url.pathname, nick, backlog: null, tooSlow: false };
    clients.set(e.connectionId, client);
    log(`${e.connectionId} connected to ${client.endpoint}`);
    if (client.endpoint === '/chat') broadcast(`* ${client.nick} joined`);
  });

  wsServer.on('dataIn', (e) => {
    const client = clients.get(e.connectionId);
    if (!client) return;
    if (client.endpoint === '/echo') {
      echo(e.connectionId, client, e.dataFormat, e.text);
    } else if (e.dataFormat === 1) {
      broadcast(`${client.nick}: ${e.text.toString('utf8')}`);
    } // chat is text only: binary messages are ignored
  });

  wsServer.on('readyToSend', (e) => {
    const client = clients.get(e.connectionId);
    if (client) flushEcho(e.connectionId, client);
  });

  wsServer.on('disconnected', (e) => {
    const client = clients.get(e.connectionId);
    clients.delete(e.connectionId);
    log(`${e.connectionId} disconnected: ${e.statusCode} ${e.description ?? ''}`.trimEnd());
    if (client?.endpoint === '/chat') broadcast(`* ${client.nick} left`);
  });

  // Errors outside a method call (a socket error, a failed background send) arrive here.
  wsServer.on('error', (e) => {
    log(`error on ${e.connectionId}: [${e.errorCode}] ${e.description}`);
  });

  /** Sends one message; false when the outgoing queue is full (10035), true otherwise. */
  function trySend(id, dataFormat, data) {
    try {
      const sent = dataFormat === 2 ? wsServer.sendBytes(id, data) : wsServer.sendText(id, data);
      // The promise rejects if the client goes away meanwhile; 'disconnected' reports that.
      Promise.resolve(sent).catch(() => {});
      return true;
    } catch (err) {
      if (err instanceof WSServerError && err.code === WOULD_BLOCK) return false;
      // Not retryable: drop the message. A closing connection is no news ('disconnected' follows).
      if (!(err instanceof WSServerError && err.code === NOT_CONNECTED)) {
        log(`send to ${id} failed: ${err instanceof Error ? err.message : err}`);
      }
      return true;
    }
  }

  // Echo keeps message order: once a send would block, later replies wait behind it
  // until 'readyToSend'. A client that never reads is disconnected, not buffered forever.
  function echo(id, client, dataFormat, data) {
    if (client.tooSlow) return;
    const payload = dataFormat === 2 ? data : data.toString('utf8');
    if (!client.backlog && trySend(id, dataFormat, payload)) return;
    client.backlog ??= { messages: [], bytes: 0 };
    // dataIn's buffer is a view the server may reuse: what waits must be a copy.
    client.backlog.messages.push({ dataFormat, data: dataFormat === 2 ? Buffer.from(data) : payload });
    client.backlog.bytes += data.length;
    if (client.backlog.bytes > MAX_ECHO_BACKLOG) {
      client.tooSlow = true;
      client.backlog = null;
      wsServer.disconnect(id);
    }
  }

  function flushEcho(id, client) {
    const backlog = client.backlog;
    while (backlog && backlog.messages.length > 0) {
      const next = backlog.messages[0];
      if (!trySend(id, next.dataFormat, next.data)) return; // wait for the next readyToSend
      backlog.messages.shift();
      backlog.bytes -= Buffer.byteLength(next.data);
    }
    client.backlog = null;
  }

  // A chat client whose queue is full misses this line; the others still get it.
  function broadcast(line) {
    for (const [id, client] of clients) {
      if (client.endpoint === '/chat') {
        if (!trySend(id, 1, line)) log(`${id} is not keeping up; dropped a chat line`);
      }
    }
  }

  wsServer.attach(httpServer);
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });

  let closing;
  return {
    port: /** @type {import('node:net').AddressInfo} */ (httpServer.address()).port,
    wsServer,
    httpServer,
    /** Closes every WebSocket (1000), stops the HTTP server, and resolves when both are done. */
    close() {
      closing ??= (async () => {
        await wsServer.shutdown();
        httpServer.closeAllConnections(); // idle keep-alive connections of the page
        if (httpServer.listening) await new Promise((resolve) => httpServer.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** A nickname without control characters, at most 32 characters; '' when none. */
function cleanNick(value) {
  return (value ?? '').replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, 32);
}
