/**
 * From TCP accept to an open WebSocket: ConnectionRequest and the client filters,
 * MaxConnections, the handshake timeout, HTTP requests that are not upgrades, and the
 * opening handshake itself (WebSocketOpenRequest, subprotocol, permessage-deflate).
 */
import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WSConnection } from './connection.js';
import type { WSServer } from './server.js';
import type { WebSocketOpenRequestEvent } from './events.js';
import {
  buildAcceptResponse,
  buildRejectResponse,
  selectSubprotocol,
  validateUpgradeRequest,
} from './handshake.js';
import { negotiatePermessageDeflate } from './protocol/deflate-negotiation.js';
import { normaliseAddress } from './client-filter.js';

/**
 * A wss:// connection: its TCP socket, its TLS socket once the TLS handshake is done, and the
 * connection id the SSL events already used (the WebSocket connection keeps it).
 */
export interface TlsLink {
  readonly raw: Socket;
  tls: Socket | null;
  readonly connectionId: string;
}

/** The upgrade path of one WSServer. */
export class UpgradeHandler {
  /** Accepted TCP connections still in the opening handshake, with their timers. */
  private readonly pending = new Map<Socket, NodeJS.Timeout | null>();
  /** wss:// connections by raw and by TLS socket (pending entries are keyed by the raw socket). */
  private readonly tlsLinks = new WeakMap<Socket, TlsLink>();
  private nextId = 1;

  constructor(
    private readonly server: WSServer,
    private readonly opened: (conn: WSConnection) => void,
  ) {
    const handler = this;
    this.forgetOnClose = function (this: Socket): void {
      handler.forget(this);
    };
  }

  /**
   * Wires an http.Server owned by the WSServer. `admits`: its 'connection' event admits new
   * TCP connections (false for wss://, where the TLS acceptor admits them and emits
   * 'connection' with the TLS socket once the TLS handshake is done).
   */
  listenOn(httpServer: http.Server, admits = true): void {
    if (admits) httpServer.on('connection', (socket: Socket) => this.admit(socket));
    httpServer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.forget(socket);
      this.handshake(req, socket, head);
    });
    httpServer.on('request', (req: IncomingMessage, res: http.ServerResponse) => this.onPlainRequest(req, res));
    httpServer.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
  }

  /** An upgrade on an http.Server the application owns (WSServer.attach). */
  handleAttached(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const address = socket.remoteAddress ?? '';
    if (this.refuseOverLimit(socket)) return;
    if (!this.server.emitConnectionRequest(address, socket.remotePort ?? 0)) {
      this.reject(socket, 403, 'Connection refused by the server.');
      return;
    }
    this.applySocketOptions(socket);
    this.handshake(req, socket, head);
  }

  /** TcpNoDelay and KeepAliveTime, for sockets accepted here or by an attached http.Server. */
  private applySocketOptions(socket: Socket): void {
    const settings = this.server.settings;
    if (settings.TcpNoDelay) socket.setNoDelay(true);
    if (settings.KeepAliveTime > 0) socket.setKeepAlive(true, settings.KeepAliveTime);
  }

  /** Drops every connection still in the opening handshake (Shutdown). */
  destroyPending(): void {
    for (const [socket, timer] of this.pending) {
      if (timer) clearTimeout(timer);
      socket.destroy();
    }
    this.pending.clear();
  }

  /** A new connection id (a wss:// connection gets its id at TCP accept, for the SSL events). */
  newConnectionId(): string {
    return String(this.nextId++);
  }

  /**
   * Admits a new TCP connection: MaxConnections, ConnectionRequest, socket options, and the
   * HandshakeTimeout timer. With `link` it is the TCP socket of a wss:// connection, which is
   * never answered in plaintext: refused, it is just closed. Returns false when refused.
   */
  admit(socket: Socket, link?: TlsLink): boolean {
    const settings = this.server.settings;
    if (link) this.tlsLinks.set(socket, link);
    if (this.refuseOverLimit(socket)) return false;
    const address = socket.remoteAddress ?? '';
    if (!this.server.emitConnectionRequest(address, socket.remotePort ?? 0)) {
      this.server.log(2, 'Info', `Refused connection from ${normaliseAddress(address)}`, '');
      socket.destroy();
      return false;
    }
    this.applySocketOptions(socket);
    let timer: NodeJS.Timeout | null = null;
    if (settings.HandshakeTimeout > 0) {
      timer = setTimeout(() => {
        this.pending.delete(socket);
        this.server.log(2, 'Info', `No WebSocket handshake from ${normaliseAddress(address)} within ${settings.HandshakeTimeout} s`, link?.connectionId ?? '');
        this.reject(link?.tls ?? socket, 408, 'The opening handshake did not complete in time.');
      }, settings.HandshakeTimeout * 1000);
      timer.unref();
    }
    this.pending.set(socket, timer);
    socket.on('close', this.forgetOnClose);
    return true;
  }

  /** The TLS handshake of a wss:// connection is done: from now on its TLS socket stands for it. */
  secured(link: TlsLink, tls: Socket): void {
    link.tls = tls;
    this.tlsLinks.set(tls, link);
  }

  /** MaxConnections: one more is told 503 and closed, never crashes anything. */
  private refuseOverLimit(socket: Socket): boolean {
    const max = this.server.settings.MaxConnections;
    if (this.server.connectionCount + this.pending.size < max) return false;
    this.server.log(1, 'Info', `MaxConnections (${max}) reached: refusing ${normaliseAddress(socket.remoteAddress ?? '')}`, '');
    this.reject(socket, 503, `The server is at its limit of ${max} connections.`);
    return true;
  }

  /** One 'close' listener for every pending socket (it is the socket as `this`); removed at the upgrade. */
  private readonly forgetOnClose: (this: Socket) => void;

  private forget(socket: Socket): void {
    socket = this.tlsLinks.get(socket)?.raw ?? socket;
    socket.off('close', this.forgetOnClose);
    const timer = this.pending.get(socket);
    if (timer) clearTimeout(timer);
    this.pending.delete(socket);
  }

  /** A plain HTTP request on the WebSocket port: not an upgrade, so 426 (or 400 if it tried). */
  private onPlainRequest(req: IncomingMessage, res: http.ServerResponse): void {
    this.forget(req.socket);
    if (req.headers.upgrade !== undefined) {
      // An upgrade attempt Node's parser did not treat as one (no "Connection: Upgrade"): say why.
      const verdict = validateUpgradeRequest(req);
      const reason = !verdict.ok ? verdict.reason : 'The Connection header must contain "Upgrade".';
      res.writeHead(400, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(`${reason}\n`);
      return;
    }
    res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13' });
    res.end('This is a WebSocket endpoint: connect with a WebSocket client.\n');
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    this.forget(socket);
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    this.server.log(2, 'Info', `Malformed HTTP request from ${normaliseAddress(socket.remoteAddress ?? '')}: ${err.message}`, '');
    this.reject(socket, tooLarge ? 431 : 400, tooLarge ? 'The request headers are too large.' : 'Malformed HTTP request.');
  }

  private reject(socket: Socket, status: number, reason: string, headers?: string): void {
    // The TCP socket of a wss:// connection never carries plaintext HTTP: close it instead.
    if (!socket.writable || this.tlsLinks.get(socket)?.raw === socket) {
      socket.destroy();
      return;
    }
    socket.end(buildRejectResponse(status, reason, headers));
    // A client that never reads must not hold the socket.
    const t = setTimeout(() => socket.destroy(), 2000);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  }

  private handshake(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const server = this.server;
    const settings = server.settings;
    const verdict = validateUpgradeRequest(req);
    if (!verdict.ok) {
      server.log(2, 'Info', `Rejected handshake from ${normaliseAddress(socket.remoteAddress ?? '')}: ${verdict.status} ${verdict.reason}`, '');
      this.reject(socket, verdict.status, verdict.reason, verdict.headers);
      return;
    }
    const connectionId = this.tlsLinks.get(socket)?.connectionId ?? String(this.nextId++);
    if (settings.LogLevel >= 2) {
      // Verbose: the opening request, with credentials masked unless MaskSensitive is False.
      const headers = settings.MaskSensitive
        ? verdict.requestHeaders.replace(/^((?:Proxy-)?Authorization|Cookie):[^\r\n]*/gim, '$1: ****')
        : verdict.requestHeaders;
      server.log(2, 'Verbose', `${req.method ?? 'GET'} ${verdict.requestUri} HTTP/${req.httpVersion}\r\n${headers}`, connectionId);
    }
    const event: WebSocketOpenRequestEvent = {
      connectionId,
      requestURI: verdict.requestUri,
      hostHeader: verdict.host,
      originHeader: verdict.origin,
      subProtocols: verdict.subprotocols.join(', '),
      extensions: verdict.extensionsHeader,
      requestHeaders: verdict.requestHeaders,
      statusCode: 101,
      responseHeaders: '',
    };
    const offered = event.subProtocols;
    try {
      server.emitOpenRequest(event);
    } catch (err) {
      server.emitError({ connectionId, errorCode: 10022, description: `webSocketOpenRequest listener threw: ${(err as Error)?.message ?? err}` });
      this.reject(socket, 500, 'The server failed to handle the request.');
      return;
    }
    if (event.statusCode !== 101) {
      const status = Number.isInteger(event.statusCode) && event.statusCode >= 300 && event.statusCode <= 599 ? event.statusCode : 403;
      server.log(1, 'Info', `Handshake rejected by the application with ${status}`, connectionId);
      this.reject(socket, status, 'The server refused the WebSocket connection.', event.responseHeaders);
      return;
    }
    if (socket.destroyed) return;
    const deflate = settings.EnablePermessageDeflate
      ? negotiatePermessageDeflate(verdict.extensionOffers, {
          serverNoContextTakeover: settings.ServerNoContextTakeover,
          clientNoContextTakeover: settings.ClientNoContextTakeover,
          serverMaxWindowBits: settings.ServerMaxWindowBits,
          // 15 means no preference: a client offering client_max_window_bits gets no answer for it.
          clientMaxWindowBits: settings.ClientMaxWindowBits < 15 ? settings.ClientMaxWindowBits : undefined,
        })
      : null;
    // A listener that left SubProtocols as offered chose nothing: select the first offer, as ws
    // does (a ws client fails a handshake that answers its offer with no subprotocol).
    const chosen = event.subProtocols === offered ? (verdict.subprotocols[0] ?? '') : event.subProtocols;
    const subprotocol = selectSubprotocol(verdict.subprotocols, chosen);
    let response: Buffer;
    try {
      response = buildAcceptResponse({
        accept: verdict.accept,
        subprotocol: subprotocol ?? undefined,
        extensions: deflate?.responseHeader,
        extraHeaders: event.responseHeaders,
      });
    } catch (err) {
      server.emitError({ connectionId, errorCode: 10022, description: `Invalid responseHeaders: ${(err as Error).message}` });
      this.reject(socket, 500, 'The server failed to handle the request.');
      return;
    }
    const codec = server.engineInUse.createCodec({
      maxMessageSize: settings.MaxMessageSize,
      deflate: deflate?.params ?? null,
      compressionLevel: settings.CompressionLevel,
      memLevel: settings.CompressionMemLevel,
      compressionThreshold: settings.CompressionThreshold,
    });
    socket.setTimeout(0);
    socket.write(response);
    const conn = new WSConnection(server, socket, codec, {
      connectionId,
      host: verdict.host,
      origin: verdict.origin,
      requestURI: verdict.requestUri,
      requestHeaders: verdict.requestHeaders,
      subProtocols: offered,
      selectedSubProtocol: subprotocol ?? '',
      extensions: deflate?.responseHeader ?? '',
      remoteHost: normaliseAddress(socket.remoteAddress ?? ''),
      remotePort: socket.remotePort ?? 0,
      localAddress: normaliseAddress(socket.localAddress ?? ''),
    });
    this.opened(conn);
    socket.resume();
    if (head.length > 0) conn.receive(head);
  }
}
