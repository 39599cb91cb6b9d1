/**
 * WSServer: the reference's component. Properties become accessors, methods keep their names
 * in camelCase (what takes time returns a Promise), events are typed EventEmitter events.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import {
  defaultSettings,
  formatSettingValue,
  parseConfigRequest,
  parseSettingValue,
  type Settings,
} from './config.js';
import { ErrorCode, WSServerError, osErrorCode, toWSServerError } from './errors.js';
import { WSConnection, toBuffer } from './connection.js';
import type { ConnectionHost } from './connection-host.js';
import type {
  DataInEvent,
  ErrorEvent,
  LogEvent,
  PingEvent,
  ReadyToSendEvent,
  WSServerEvents,
  WebSocketOpenRequestEvent,
  ConnectionRequestEvent,
} from './events.js';
import { clientAllowed, normaliseAddress } from './client-filter.js';
import { Opcode, closeCodeIsValid } from './protocol/constants.js';
import type { Engine } from './protocol/codec.js';
import { createEngine, engineNames, isEngineName } from './engine/index.js';
import { Certificate } from './tls/certificate.js';
import { TlsAcceptor } from './tls/acceptor.js';
import { negotiatedSetting } from './tls/negotiated.js';
import { UpgradeHandler } from './upgrade.js';

const require = createRequire(import.meta.url);
const VERSION: string = (require('../package.json') as { version: string }).version;

/** Options of the WSServer constructor; every one can also be set later. */
export interface WSServerOptions {
  /** Codec engine (Config "Engine"): 'auto' (the default), 'wasm', 'pool' or 'js'. */
  engine?: string;
  localHost?: string;
  localPort?: number;
  /** Initial config settings, e.g. `{ BufferMessage: true, MaxFrameSize: 65536 }`. */
  config?: Readonly<Record<string, string | number | boolean>>;
}

/** Per-message options of send/sendBytes/sendText (beyond the reference). */
export interface SendOptions {
  /**
   * False sends the message uncompressed although permessage-deflate is in use (e.g. data
   * already compressed). Default true: compressed when deflate is on and the message reaches
   * CompressionThreshold.
   */
  readonly compress?: boolean;
}

type Listener<K extends keyof WSServerEvents> = (event: WSServerEvents[K]) => void;

export interface WSServer {
  on<K extends keyof WSServerEvents>(event: K, listener: Listener<K>): this;
  once<K extends keyof WSServerEvents>(event: K, listener: Listener<K>): this;
  off<K extends keyof WSServerEvents>(event: K, listener: Listener<K>): this;
  addListener<K extends keyof WSServerEvents>(event: K, listener: Listener<K>): this;
  removeListener<K extends keyof WSServerEvents>(event: K, listener: Listener<K>): this;
  prependListener<K extends keyof WSServerEvents>(event: K, listener: Listener<K>): this;
  emit<K extends keyof WSServerEvents>(event: K, payload: WSServerEvents[K]): boolean;
}

/**
 * A WebSocket server with the API of the IPWorks WSServer component.
 *
 * ```ts
 * const server = new WSServer();
 * server.localPort = 9001;
 * server.on('dataIn', (e) => server.sendText(e.connectionId, e.text.toString()));
 * await server.startListening();
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class WSServer extends EventEmitter implements ConnectionHost {
  /** @internal The server-wide config settings. */
  readonly settings: Settings = defaultSettings();

  private _connectionBacklog = 5;
  private _defaultTimeout = 0;
  private _localHost = '';
  private _localPort = 0;
  private _sslAuthenticateClients = false;
  private _sslCert: Certificate | null = null;
  private _useSSL = false;
  /** The listening server: the http.Server itself for ws://, the TLS acceptor's TCP server for wss://. */
  private listener: NetServer | null = null;
  private tlsAcceptor: TlsAcceptor | null = null;
  private readonly attachedServers = new Map<http.Server, (req: IncomingMessage, socket: Socket, head: Buffer) => void>();
  private readonly _connections = new Map<string, WSConnection>();
  private readonly upgrade: UpgradeHandler;
  private engine: Engine | null = null;
  private idleSweep: NodeJS.Timeout | null = null;

  constructor(options: WSServerOptions = {}) {
    super();
    this.upgrade = new UpgradeHandler(this, (conn) => this.connectionOpened(conn));
    if (options.engine !== undefined) this.config(`Engine=${options.engine}`);
    if (options.localHost !== undefined) this.localHost = options.localHost;
    if (options.localPort !== undefined) this.localPort = options.localPort;
    for (const [name, value] of Object.entries(options.config ?? {})) {
      this.config(`${name}=${formatSettingValue(value)}`);
    }
  }

  // ---- Properties ------------------------------------------------------------------------

  /** Pending-connection queue length of the listening socket (applied when listening starts). */
  get connectionBacklog(): number {
    return this._connectionBacklog;
  }
  set connectionBacklog(value: number) {
    assertInt('ConnectionBacklog', value, 1, 65535);
    this._connectionBacklog = value;
  }

  /** The open WebSocket connections, by connection id. */
  get connections(): ReadonlyMap<string, WSConnection> {
    return this._connections;
  }

  /** Timeout (seconds) new connections start with: 0 sends asynchronously, > 0 synchronously. */
  get defaultTimeout(): number {
    return this._defaultTimeout;
  }
  set defaultTimeout(value: number) {
    assertInt('DefaultTimeout', value, 0, 86400);
    this._defaultTimeout = value;
  }

  /** Whether the server accepts connections. Setting it starts or stops listening. */
  get listening(): boolean {
    return this.listener?.listening ?? false;
  }
  set listening(value: boolean) {
    if (value === this.listening) return;
    if (value) this.startListening().catch((err) => this.emitError({ connectionId: '', errorCode: toWSServerError(err).code, description: (err as Error).message }));
    else this.stopListening();
  }

  /** The interface to listen on ('' = all interfaces). */
  get localHost(): string {
    return this._localHost;
  }
  set localHost(value: string) {
    if (this.listening) throw new WSServerError(ErrorCode.LocalHostLocked, 'Call stopListening() first.');
    this._localHost = value;
  }

  /** The TCP port to listen on; 0 picks a free port, readable here once listening. */
  get localPort(): number {
    const address = this.listener?.address();
    if (address && typeof address === 'object') return address.port;
    return this._localPort;
  }
  set localPort(value: number) {
    if (this.listening) throw new WSServerError(ErrorCode.LocalPortLocked, 'Call stopListening() first.');
    assertInt('LocalPort', value, 0, 65535);
    this._localPort = value;
  }

  /** Ask TLS clients for a certificate (see the sslClientAuthentication event). */
  get sslAuthenticateClients(): boolean {
    return this._sslAuthenticateClients;
  }
  set sslAuthenticateClients(value: boolean) {
    this._sslAuthenticateClients = value;
  }

  /** The certificate for TLS (wss://). */
  get sslCert(): Certificate | null {
    return this._sslCert;
  }
  set sslCert(value: Certificate | null) {
    this._sslCert = value;
  }

  /** Negotiate TLS with every connection (wss://). */
  get useSSL(): boolean {
    return this._useSSL;
  }
  set useSSL(value: boolean) {
    if (this.listening) throw new WSServerError(ErrorCode.InvalidArgument, 'UseSSL cannot change while listening: call stopListening() first.');
    this._useSSL = value;
  }

  // ---- Methods ---------------------------------------------------------------------------

  /** Line mode for one connection: DataIn fires per line instead of per message. */
  changeLineMode(connectionId: string, lineMode: boolean): void {
    this.connection(connectionId).setLineMode(lineMode);
  }

  /**
   * Sets (`"Name=Value"`) or reads (`"Name"`) a config setting; per-connection settings take
   * `"Name[connectionId]"`. Returns the value read, or '' after a set.
   */
  config(configurationString: string): string {
    const { spec, connectionId, value } = parseConfigRequest(configurationString);
    if (connectionId !== null) {
      if (spec.name.startsWith('SSLNegotiated')) {
        // Also readable during the handshakes (sslClientAuthentication, webSocketOpenRequest).
        const socket = this._connections.get(connectionId)?.socket ?? this.tlsAcceptor?.socketOf(connectionId) ?? this.connection(connectionId).socket;
        return negotiatedSetting(spec.name, socket) ?? formatSettingValue(spec.default);
      }
      const conn = this.connection(connectionId);
      if (spec.name === 'MaxLineLength') {
        if (value === null) return String(conn.maxLineLength);
        conn.maxLineLength = parseSettingValue(spec, value) as number;
        return '';
      }
      if (spec.name === 'MessageLength') {
        if (value === null) return String(conn.messageLength);
        conn.messageLength = parseSettingValue(spec, value) as number;
        return '';
      }
      // SSLNegotiated*: plain TCP connections negotiated nothing.
      return formatSettingValue(spec.default);
    }
    if (value === null) {
      if (spec.name === 'BuildInfo') return `wsworks ${VERSION}; Node.js ${process.version}; engine ${this.settings.Engine}`;
      if (spec.name === 'LicenseInfo') return 'wsworks is open source under the MIT license; no license key is needed.';
      return formatSettingValue(this.settings[spec.name]!);
    }
    const parsed = parseSettingValue(spec, value);
    if (spec.lockedWhileListening !== undefined && this.listening) {
      throw new WSServerError(spec.lockedWhileListening, `${spec.name} cannot change while listening: call stopListening() first.`);
    }
    if (spec.name === 'Engine') {
      const name = String(parsed).trim().toLowerCase();
      if (!isEngineName(name)) {
        throw new WSServerError(ErrorCode.InvalidArgument, `Unknown engine "${parsed}": use one of ${engineNames().join(', ')}.`);
      }
      if (this.listening || this._connections.size > 0) {
        throw new WSServerError(ErrorCode.InvalidArgument, 'Engine cannot change while the server has listeners or connections.');
      }
      if (this.engine !== null && this.engine.name !== name) {
        // The previous engine (and its worker pool, if any) is no longer used.
        const previous = this.engine;
        this.engine = null;
        previous.close().catch(() => undefined);
      }
      this.settings.Engine = name;
      return '';
    }
    this.settings[spec.name] = parsed;
    return '';
  }

  /**
   * Closes one connection with DisconnectStatusCode / DisconnectStatusDescription, or with the
   * given close code (1000–1003, 1007–1011, 3000–4999) and reason.
   */
  disconnect(connectionId: string, statusCode?: number, description?: string): void {
    const conn = this.connection(connectionId);
    if (statusCode !== undefined && !closeCodeIsValid(statusCode)) {
      throw new WSServerError(ErrorCode.InvalidArgument, `${statusCode} cannot be sent as a close code: use 1000–1003, 1007–1011 or 3000–4999.`);
    }
    conn.disconnect(statusCode, description);
  }

  /** Lets pending I/O and events run; resolves on the next turn of the event loop. */
  doEvents(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Stops a SendFile/SetUploadStream in progress on the connection. */
  interrupt(connectionId: string): void {
    this.connection(connectionId).interrupt();
  }

  /** Pings the client; resolves when its pong arrives (rejects with 10060 after the connection's Timeout, if set). */
  ping(connectionId: string): Promise<void> {
    return this.connection(connectionId).ping();
  }

  /**
   * Sends binary data. With the connection's Timeout 0 it returns at once (throwing 10035 when
   * the outgoing queue is full); with Timeout > 0 the promise settles once the data is written.
   * `options.compress: false` sends this message uncompressed even with permessage-deflate
   * (beyond the reference, as in ws).
   */
  send(connectionId: string, data: Uint8Array | ArrayBuffer, options?: SendOptions): Promise<void> {
    return this.connection(connectionId).sendMessage(Opcode.Binary, toBuffer(data), options?.compress !== false);
  }

  /** Sends binary data (same as send). */
  sendBytes(connectionId: string, data: Uint8Array | ArrayBuffer, options?: SendOptions): Promise<void> {
    return this.connection(connectionId).sendMessage(Opcode.Binary, toBuffer(data), options?.compress !== false);
  }

  /** Sends a file as one binary message in MaxFrameSize fragments, never reading it whole. */
  sendFile(connectionId: string, fileName: string): Promise<void> {
    return this.connection(connectionId).sendFile(fileName);
  }

  /** Sends text: a string is UTF-8 encoded; bytes are sent as they are and must already be UTF-8. */
  sendText(connectionId: string, text: string | Uint8Array, options?: SendOptions): Promise<void> {
    const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : toBuffer(text);
    return this.connection(connectionId).sendMessage(Opcode.Text, data, options?.compress !== false);
  }

  /** Streams a readable as one binary message; the stream is destroyed afterwards if CloseStreamAfterTransfer. */
  setUploadStream(connectionId: string, stream: Readable): Promise<void> {
    return this.connection(connectionId).sendStream(stream);
  }

  /** Stops listening and closes every connection; resolves when all are gone. */
  async shutdown(): Promise<void> {
    this.stopListening();
    for (const [server, handler] of this.attachedServers) server.off('upgrade', handler);
    this.attachedServers.clear();
    const closing = [...this._connections.values()].map(
      (conn) => new Promise<void>((resolve) => {
        conn.socket.once('close', () => resolve());
        conn.disconnect();
        if (conn.socket.destroyed) resolve();
      }),
    );
    this.upgrade.destroyPending();
    await Promise.all(closing);
    if (this.idleSweep) clearInterval(this.idleSweep);
    this.idleSweep = null;
    const engine = this.engine;
    this.engine = null;
    await engine?.close();
  }

  /** Starts accepting connections on LocalHost:LocalPort. */
  async startListening(): Promise<void> {
    if (this.listening) throw new WSServerError(ErrorCode.AlreadyListening, 'Call stopListening() first.');
    const settings = this.settings;
    const server = http.createServer({
      maxHeaderSize: settings.MaxHandshakeSize,
      noDelay: settings.TcpNoDelay,
      requestTimeout: 0,
      headersTimeout: 0,
    });
    // wss://: the TLS acceptor listens, reads each ClientHello, runs the TLS handshake and hands
    // the TLS socket to the same http.Server and upgrade path (throws 271/272/273/282 first).
    const tlsAcceptor = this._useSSL ? TlsAcceptor.create(this, this.upgrade, server) : null;
    this.upgrade.listenOn(server, !tlsAcceptor);
    const listener: NetServer = tlsAcceptor ? tlsAcceptor.listener : server;
    const ipv6 = settings.UseIPv6;
    const host = this._localHost || (ipv6 === 0 ? '0.0.0.0' : '::');
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        listener.off('listening', onListening);
        tlsAcceptor?.stop();
        reject(new WSServerError(osErrorCode(err) ?? ErrorCode.InvalidArgument, `Cannot listen on ${host}:${this._localPort} (${err.message}).`, { cause: err }));
      };
      const onListening = (): void => {
        listener.off('error', onError);
        resolve();
      };
      listener.once('error', onError);
      listener.once('listening', onListening);
      listener.listen({
        port: this._localPort,
        host,
        backlog: this._connectionBacklog,
        exclusive: settings.BindExclusively,
        ipv6Only: ipv6 === 1,
      });
    });
    listener.on('error', (err) => this.emitError({ connectionId: '', errorCode: osErrorCode(err) ?? ErrorCode.SendFailed, description: err.message }));
    this.listener = listener;
    this.tlsAcceptor = tlsAcceptor;
    this.ensureEngine();
    this.startIdleSweep();
    this.log(1, 'Info', `Listening on ${host}:${this.localPort}${tlsAcceptor ? ' (wss://)' : ''}`, '');
  }

  /** Stops accepting new connections; open connections stay. */
  stopListening(): void {
    const server = this.listener;
    if (!server) return;
    this.listener = null;
    this.tlsAcceptor?.stop();
    this.tlsAcceptor = null;
    this._localPort = this._localPort; // keep the configured port, not the bound one
    server.close();
    this.log(1, 'Info', 'Stopped listening', '');
  }

  /**
   * Serves WebSocket upgrades of an existing `http.Server` (or `https.Server`) so wsworks can
   * share a port with an HTTP application. ConnectionRequest fires at the upgrade.
   */
  attach(server: http.Server): void {
    if (this.attachedServers.has(server)) return;
    const handler = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
      this.upgrade.handleAttached(req, socket, head);
    };
    this.attachedServers.set(server, handler);
    server.on('upgrade', handler);
    this.ensureEngine();
    this.startIdleSweep();
  }

  // ---- ConnectionHost --------------------------------------------------------------------

  /** @internal */
  log(level: number, logType: 'Info' | 'Error' | 'Verbose' | 'Debug', message: string, connectionId: string): void {
    if (level > this.settings.LogLevel || this.listenerCount('log') === 0) return;
    // LogType names the level (Info 1, Verbose 2, Debug 3); errors stay "Error" at any level.
    const type = logType === 'Error' ? 'Error' : level >= 3 ? 'Debug' : level === 2 ? 'Verbose' : 'Info';
    const event: LogEvent = { connectionId, logLevel: level, message, logType: type };
    this.emit('log', event);
  }

  /** @internal */
  emitDataIn(e: DataInEvent): void {
    this.emit('dataIn', e);
  }

  /** @internal */
  emitPing(e: PingEvent): void {
    this.emit('ping', e);
  }

  /** @internal */
  emitReadyToSend(e: ReadyToSendEvent): void {
    this.emit('readyToSend', e);
  }

  /** @internal The Error event fires only when someone listens (an unheard 'error' must not throw). */
  emitError(e: ErrorEvent): void {
    this.log(1, 'Error', `[${e.errorCode}] ${e.description}`, e.connectionId);
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  /** @internal */
  connectionClosed(connection: WSConnection, statusCode: number, description: string): void {
    if (this._connections.get(connection.connectionId) !== connection) return;
    this._connections.delete(connection.connectionId);
    this.log(1, 'Info', `Disconnected (${statusCode}${description ? ` ${description}` : ''})`, connection.connectionId);
    this.emit('disconnected', { connectionId: connection.connectionId, statusCode, description });
  }

  /** @internal Used by the upgrade handler. */
  get engineInUse(): Engine {
    return this.ensureEngine();
  }

  /** @internal The number of open connections plus handshakes in progress. */
  get connectionCount(): number {
    return this._connections.size;
  }

  /** @internal */
  emitConnectionRequest(address: string, port: number): boolean {
    const accept = clientAllowed(this.settings.AllowedClients, this.settings.BlockedClients, address);
    const event: ConnectionRequestEvent = { address: normaliseAddress(address), port, accept };
    this.emit('connectionRequest', event);
    return event.accept;
  }

  /** @internal */
  emitOpenRequest(event: WebSocketOpenRequestEvent): void {
    this.emit('webSocketOpenRequest', event);
  }

  // ---- Internals -------------------------------------------------------------------------

  private connectionOpened(conn: WSConnection): void {
    this._connections.set(conn.connectionId, conn);
    this.log(1, 'Info', `Connected from ${conn.remoteHost}:${conn.remotePort} to ${conn.requestURI}`, conn.connectionId);
    this.emit('connected', { connectionId: conn.connectionId });
    if (conn.connected) this.emit('readyToSend', { connectionId: conn.connectionId });
  }

  private connection(connectionId: string): WSConnection {
    const conn = this._connections.get(connectionId);
    if (!conn) throw new WSServerError(ErrorCode.InvalidConnectionId, `No open connection has the id "${connectionId}".`);
    return conn;
  }

  /** The engine instance for this server (its worker pool, for pool/auto), created on first need; shutdown() closes it. */
  private ensureEngine(): Engine {
    if (!this.engine) {
      const settings = this.settings;
      if (!isEngineName(settings.Engine)) throw new WSServerError(ErrorCode.InvalidArgument, `Unknown engine "${settings.Engine}".`);
      this.engine = createEngine(settings.Engine, {
        workerThreads: settings.WorkerThreads,
        daemonThreads: settings.UseDaemonThreads,
        autoThresholds: {
          deflate: settings.AutoDeflateThreshold,
          inflate: settings.AutoInflateThreshold,
          decode: settings.AutoDecodeThreshold,
        },
      });
    }
    return this.engine;
  }

  private startIdleSweep(): void {
    if (this.idleSweep) return;
    this.idleSweep = setInterval(() => {
      const pingMs = this.settings.PingInterval * 1000;
      const idleMs = this.settings.IdleTimeout * 1000;
      if (pingMs === 0 && idleMs === 0) return;
      const now = Date.now();
      for (const conn of this._connections.values()) conn.checkIdle(now, pingMs, idleMs);
    }, 1000);
    this.idleSweep.unref();
  }
}

function assertInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new WSServerError(ErrorCode.InvalidArgument, `${name} must be an integer from ${min} to ${max} (got ${value}).`);
  }
}
