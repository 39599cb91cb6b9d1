/**
 * The echo behaviour of `wsworks echo`, usable on any WSServer: every whole message goes back
 * with its type. When a client does not read, its input pauses (AcceptData) until ReadyToSend,
 * so nothing is buffered without bound and nothing accepted is dropped.
 */
import type { WSServer } from './server.js';
import { WSServerError, ErrorCode } from './errors.js';

/** Echo with backpressure: a client that does not read pauses its own input, never loses data. */
export function attachEcho(server: WSServer): void {
  const backlog = new Map<string, Array<{ binary: boolean; data: Buffer }>>();
  const sendOrQueue = (id: string, binary: boolean, data: Buffer): boolean => {
    try {
      if (binary) void server.send(id, data);
      else void server.sendText(id, data);
      return true;
    } catch (err) {
      if (!(err instanceof WSServerError)) throw err;
      if (err.code === ErrorCode.WouldBlock) return false;
      // The client is closing or gone: there is no one left to echo to.
      if (err.code === ErrorCode.NotConnected || err.code === ErrorCode.InvalidConnectionId) return true;
      throw err;
    }
  };
  server.on('dataIn', (e) => {
    const waiting = backlog.get(e.connectionId);
    const binary = e.dataFormat === 2;
    // The payload is a view into the receive buffer: keep a copy only when it must wait.
    if (waiting) {
      waiting.push({ binary, data: Buffer.from(e.text) });
      return;
    }
    if (!sendOrQueue(e.connectionId, binary, e.text)) {
      backlog.set(e.connectionId, [{ binary, data: Buffer.from(e.text) }]);
      const conn = server.connections.get(e.connectionId);
      if (conn) conn.acceptData = false;
    }
  });
  server.on('readyToSend', (e) => {
    const waiting = backlog.get(e.connectionId);
    if (!waiting) return;
    while (waiting.length > 0) {
      const next = waiting[0]!;
      if (!sendOrQueue(e.connectionId, next.binary, next.data)) return;
      waiting.shift();
    }
    backlog.delete(e.connectionId);
    const conn = server.connections.get(e.connectionId);
    if (conn) conn.acceptData = true;
  });
  server.on('disconnected', (e) => backlog.delete(e.connectionId));
}


/**
 * Sets a server up the way `wsworks echo` runs: whole messages, no Nagle delay, room for many
 * connections and for large messages in flight, and the echo itself.
 */
export function configureEchoServer(server: WSServer): void {
  server.connectionBacklog = 1024; // the reference's default of 5 would drop bursts of connects
  server.config('BufferMessage=True');
  server.config('TcpNoDelay=True');
  server.config('MaxConnections=100000');
  // Two 1 MiB messages in flight must not stall each other behind a 1 MiB queue limit.
  server.config('OutBufferSize=16777216');
  attachEcho(server);
}
