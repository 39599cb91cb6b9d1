/**
 * wss:// from TCP accept to the HTTP upgrade. For each connection: ConnectionRequest and the
 * limits (the upgrade handler's admission), the ClientHello read off the socket before OpenSSL
 * sees it, SSLConnectionRequest (the application may pick another certificate, e.g. by SNI or
 * by the signature algorithms offered), the handshake by Node's TLS, SSLClientAuthentication
 * (verification against SSLCACerts, CRL/OCSP when asked, the application's final say), then
 * the TLS socket goes to the same http.Server and upgrade path plain connections use.
 *
 * Every failure ends that one connection with an Error event (code 276, 280 or 281) and a Log
 * line; SSLStatus reports each step.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { Settings } from '../config.js';
import { ErrorCode, WSServerError } from '../errors.js';
import type { ErrorEvent, SSLClientAuthenticationEvent, SSLConnectionRequestEvent, WSServerEvents } from '../events.js';
import { normaliseAddress } from '../client-filter.js';
import type { TlsLink, UpgradeHandler } from '../upgrade.js';
import { Certificate } from './certificate.js';
import { credentialsOf, type Credentials } from './credentials.js';
import { DECODE_ERROR_ALERT, HANDSHAKE_FAILURE_ALERT, VERIFY_TEXT, errorText, plaintextRefusal } from './failures.js';
import { SessionCache } from './session-cache.js';
import { suiteName, isGrease } from './cipher-suites.js';
import { inspectClientHello, type ClientHello } from './client-hello.js';
import { describeNegotiated, rememberNegotiated } from './negotiated.js';
import { serverTlsOptions, type ServerTlsOptions } from './options.js';
import { RecordTap } from './record-tap.js';
import { checkRevocation } from './revocation.js';
import { signatureSchemeName, versionName } from './tls-names.js';
import { describeCertificate } from './x509-info.js';

type TlsEvents = Pick<WSServerEvents, 'sslStatus' | 'sslConnectionRequest' | 'sslClientAuthentication'>;

/** What the acceptor needs from its WSServer. */
export interface TlsHost {
  readonly settings: Settings;
  readonly sslAuthenticateClients: boolean;
  readonly sslCert: Certificate | null;
  log(level: number, type: 'Info' | 'Error' | 'Verbose' | 'Debug', message: string, connectionId: string): void;
  emitError(e: ErrorEvent): void;
  emit<K extends keyof TlsEvents>(event: K, payload: TlsEvents[K]): boolean;
}

/** One TLS connection until it is handed to the HTTP upgrade (or fails). */
interface Pending {
  readonly id: string;
  readonly raw: Socket;
  readonly link: TlsLink;
  readonly remote: string;
  readonly acceptedAt: number;
  /** Bytes read while waiting for the ClientHello. */
  received: number;
  hello: ClientHello | null;
  credentials: Credentials | null;
  tap: RecordTap | null;
  tls: TLSSocket | null;
  /** True once it failed or was handed over: nothing more is reported. */
  finished: boolean;
}

/** The address key of a TCP connection (Node gives a TLS socket the same peer and local address). */
function addressKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}|${socket.localAddress}|${socket.localPort}`;
}

/** The TLS side of one listening WSServer. */
export class TlsAcceptor {
  /** The listening TCP server (the WSServer listens on it instead of on the http.Server). */
  readonly listener: net.Server;
  private readonly options: ServerTlsOptions;
  private readonly defaultCredentials: Credentials;
  /** Shared OpenSSL servers, one per certificate and client-certificate mode. */
  private readonly hubs = new Map<string, tls.Server>();
  private readonly credentialCache = new Map<string, Credentials>();
  /** Connections in the OpenSSL handshake, by address key (native sockets). */
  private readonly inHandshake = new Map<string, Pending>();
  private readonly byId = new Map<string, Pending>();
  private readonly ticketKeys = randomBytes(48);
  private readonly sessions = new SessionCache(10000, 10 * 3600 * 1000);
  private keyLog: WriteStream | null = null;
  private keyLogFailed = false;

  private constructor(
    private readonly host: TlsHost,
    private readonly upgrade: UpgradeHandler,
    private readonly httpServer: http.Server,
    options: ServerTlsOptions,
    credentials: Credentials,
  ) {
    this.options = options;
    this.defaultCredentials = credentials;
    this.listener = net.createServer({ noDelay: Boolean(host.settings.TcpNoDelay) }, (raw) => this.accept(raw));
    const keyLogFile = String(host.settings.SSLKeyLogFile);
    if (keyLogFile) {
      this.keyLog = createWriteStream(keyLogFile, { flags: 'a', mode: 0o600 });
      this.keyLog.on('error', (err) => {
        if (this.keyLogFailed) return;
        this.keyLogFailed = true;
        host.emitError({ connectionId: '', errorCode: ErrorCode.InvalidArgument, description: `SSLKeyLogFile "${keyLogFile}" cannot be written (${err.message}); no more key log lines are written.` });
      });
    }
  }

  /**
   * Checks the certificate and the SSL settings and builds the acceptor. Throws 282 without a
   * certificate, 273 when the certificate has no private key or the settings cannot work, and
   * the store errors (271/272) of a certificate that cannot be loaded.
   */
  static create(host: TlsHost, upgrade: UpgradeHandler, httpServer: http.Server): TlsAcceptor {
    const cert = host.sslCert;
    if (!cert) {
      throw new WSServerError(ErrorCode.ServerCertificateNotFound, 'UseSSL is True but no SSLCert is set: assign server.sslCert = new Certificate(...) with a private key before startListening().');
    }
    const options = serverTlsOptions(host.settings);
    const credentials = credentialsOf(cert, 'SSLCert');
    // Check that OpenSSL takes the key and chain (key and certificate match, key usable).
    try {
      tls.createSecureContext({ ...options.context, key: credentials.key, cert: credentials.chain });
    } catch (err) {
      throw new WSServerError(ErrorCode.CannotAcquireCredentials, `OpenSSL refuses SSLCert (${(err as Error).message}).`, { cause: err });
    }
    const acceptor = new TlsAcceptor(host, upgrade, httpServer, options, credentials);
    for (const note of options.notes) host.log(1, 'Info', note, '');
    return acceptor;
  }

  /** The TLS socket of a connection still in its TLS or WebSocket handshake (for SSLNegotiated*[id]). */
  socketOf(connectionId: string): TLSSocket | undefined {
    return this.byId.get(connectionId)?.tls ?? undefined;
  }

  /** Closes the key log once the listener is closed (connections already open stay). */
  stop(): void {
    this.keyLog?.end();
    this.keyLog = null;
  }

  // ---- One connection --------------------------------------------------------------------

  private accept(raw: Socket): void {
    const id = this.upgrade.newConnectionId();
    const link: TlsLink = { raw, tls: null, connectionId: id };
    if (!this.upgrade.admit(raw, link)) return;
    const p: Pending = {
      id,
      raw,
      link,
      remote: `${normaliseAddress(raw.remoteAddress ?? '')}:${raw.remotePort ?? 0}`,
      acceptedAt: Date.now(),
      received: 0,
      hello: null,
      credentials: null,
      tap: null,
      tls: null,
      finished: false,
    };
    this.byId.set(id, p);
    raw.once('close', () => {
      this.byId.delete(id);
      if (!p.finished && !p.tls) this.closedEarly(p);
    });
    this.readClientHello(p);
  }

  /** Reads the first records until the ClientHello is complete (or the bytes cannot be TLS). */
  private readClientHello(p: Pending): void {
    const { raw } = p;
    const chunks: Buffer[] = [];
    const timeoutSeconds = Number(this.host.settings.DefaultConnectionTimeout);
    const cleanup = (): void => {
      raw.off('readable', onReadable);
      raw.off('error', onError);
      raw.off('timeout', onTimeout);
      raw.setTimeout(0);
    };
    const onError = (err: Error): void => {
      cleanup();
      this.fail(p, ErrorCode.HandshakeFailed, `connection error before the ClientHello (${err.message})`, { quiet: true });
    };
    const onTimeout = (): void => {
      cleanup();
      const what = p.received === 0 ? 'no ClientHello' : `an incomplete ClientHello (${p.received} bytes)`;
      this.fail(p, ErrorCode.TimedOut, `${what} after ${timeoutSeconds} s of inactivity (DefaultConnectionTimeout)`);
    };
    const onReadable = (): void => {
      for (let chunk: Buffer | null; (chunk = raw.read() as Buffer | null) !== null; ) {
        chunks.push(chunk);
        p.received += chunk.length;
      }
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (bytes.length === 0) return;
      const verdict = inspectClientHello(bytes);
      if (verdict.kind === 'incomplete') {
        if (chunks.length > 1) chunks.splice(0, chunks.length, bytes);
        return;
      }
      cleanup();
      if (verdict.kind === 'hello') {
        p.hello = verdict.hello;
        this.helloReceived(p, bytes);
      } else if (verdict.kind === 'not-tls' && verdict.what === 'http') {
        this.fail(p, ErrorCode.HandshakeFailed, verdict.reason, { reply: plaintextRefusal() });
      } else {
        // A fatal decode_error alert, as OpenSSL would send, so a TLS client learns why.
        this.fail(p, ErrorCode.HandshakeFailed, verdict.reason, { reply: verdict.kind === 'malformed' ? DECODE_ERROR_ALERT : undefined });
      }
    };
    raw.on('readable', onReadable);
    raw.on('error', onError);
    if (timeoutSeconds > 0) {
      raw.setTimeout(timeoutSeconds * 1000);
      raw.on('timeout', onTimeout);
    }
  }

  private helloReceived(p: Pending, bytes: Buffer): void {
    const hello = p.hello!;
    const offered = hello.versions.filter((v) => !isGrease(v)).map(versionName).join(', ');
    const suites = hello.cipherSuites.filter((c) => !isGrease(c));
    this.status(
      p,
      `ClientHello from ${p.remote}: ${offered}; ${suites.length} cipher suites` +
        `${hello.serverName ? `; server name ${hello.serverName}` : ''}${hello.alpn.length ? `; ALPN ${hello.alpn.join(', ')}` : ''}`,
    );
    const cert = this.host.sslCert!;
    const event: SSLConnectionRequestEvent = {
      connectionId: p.id,
      supportedCipherSuites: suites.map(suiteName).join(','),
      supportedSignatureAlgs: hello.signatureAlgorithms.filter((c) => !isGrease(c)).map(signatureSchemeName).join(','),
      certStoreType: cert.storeType,
      certStore: cert.storeB.length > 0 ? cert.storeB : cert.store,
      certPassword: cert.storePassword,
      certSubject: cert.subject,
      serverName: hello.serverName,
    };
    const before = { ...event };
    try {
      this.host.emit('sslConnectionRequest', event);
    } catch (err) {
      this.fail(p, ErrorCode.InvalidArgument, `sslConnectionRequest listener threw: ${(err as Error)?.message ?? err}`);
      return;
    }
    if (p.raw.destroyed) return;
    let credentials = this.defaultCredentials;
    const changed =
      event.certStoreType !== before.certStoreType || event.certStore !== before.certStore || event.certPassword !== before.certPassword || event.certSubject !== before.certSubject;
    if (changed) {
      try {
        credentials = this.alternativeCredentials(event);
      } catch (err) {
        const e = err instanceof WSServerError ? err : new WSServerError(ErrorCode.CannotOpenStore, (err as Error).message);
        this.fail(p, e.code, `the certificate chosen in sslConnectionRequest cannot be used: ${e.message}`, { reply: HANDSHAKE_FAILURE_ALERT });
        return;
      }
    }
    p.credentials = credentials;
    this.status(p, `Certificate: ${credentials.summary}`);
    this.startHandshake(p, bytes);
  }

  /** Hands the socket (and the bytes already read) to OpenSSL. */
  private startHandshake(p: Pending, bytes: Buffer): void {
    const requestCert = this.host.sslAuthenticateClients;
    if (this.host.settings.LogSSLPackets) {
      // A dedicated OpenSSL server for this one connection: its TLS socket runs over the tap.
      const hub = this.createHub(p.credentials!, requestCert);
      hub.on('secureConnection', (socket: TLSSocket) => this.secured(p, socket));
      hub.on('tlsClientError', (err: Error) => this.handshakeFailed(p, err));
      p.tap = new RecordTap(p.raw, bytes, (direction, message) => this.status(p, `${direction} ${message}`, 3));
      hub.emit('connection', p.tap);
      return;
    }
    const hub = this.sharedHub(p.credentials!, requestCert);
    this.inHandshake.set(addressKey(p.raw), p);
    p.raw.unshift(bytes);
    hub.emit('connection', p.raw);
  }

  private sharedHub(credentials: Credentials, requestCert: boolean): tls.Server {
    const key = `${credentials.chain}\u0000${requestCert}`;
    let hub = this.hubs.get(key);
    if (!hub) {
      hub = this.createHub(credentials, requestCert);
      hub.on('secureConnection', (socket: TLSSocket) => {
        const p = this.inHandshake.get(addressKey(socket));
        if (!p) {
          socket.destroy();
          return;
        }
        this.inHandshake.delete(addressKey(socket));
        this.secured(p, socket);
      });
      hub.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        const key = socket.remotePort === undefined ? undefined : addressKey(socket);
        const p = key === undefined ? undefined : this.inHandshake.get(key);
        if (!p) return; // reported when its raw socket closes
        this.inHandshake.delete(key!);
        this.handshakeFailed(p, err);
      });
      this.hubs.set(key, hub);
    }
    return hub;
  }

  private createHub(credentials: Credentials, requestCert: boolean): tls.Server {
    const settings = this.host.settings;
    const timeout = Number(settings.DefaultConnectionTimeout);
    const hub = tls.createServer({
      ...this.options.context,
      key: credentials.key,
      cert: credentials.chain,
      requestCert,
      rejectUnauthorized: false,
      // DefaultConnectionTimeout bounds the handshake; 0 leaves it to HandshakeTimeout.
      handshakeTimeout: timeout > 0 ? timeout * 1000 : 0x7fffffff,
    });
    if (this.options.sessionReuse) {
      hub.setTicketKeys(this.ticketKeys);
      hub.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
        this.sessions.set(id, data);
        done();
      });
      hub.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => done(null, this.sessions.get(id)));
    }
    if (this.keyLog) {
      hub.on('keylog', (line: Buffer) => {
        if (this.keyLog && !this.keyLog.writableEnded) this.keyLog.write(line);
      });
    }
    return hub;
  }

  private alternativeCredentials(event: SSLConnectionRequestEvent): Credentials {
    const storeId = Buffer.isBuffer(event.certStore) ? `blob:${createHash('sha256').update(event.certStore).digest('hex')}` : `file:${event.certStore}`;
    const key = `${event.certStoreType}\u0000${storeId}\u0000${event.certPassword}\u0000${event.certSubject}`;
    let credentials = this.credentialCache.get(key);
    if (!credentials) {
      const cert = new Certificate(event.certStoreType, event.certStore, event.certPassword, event.certSubject);
      credentials = credentialsOf(cert, 'the certificate chosen in sslConnectionRequest');
      tls.createSecureContext({ ...this.options.context, key: credentials.key, cert: credentials.chain });
      this.credentialCache.set(key, credentials);
    }
    return credentials;
  }

  /** The TLS handshake is done: report it, authenticate the client, then hand over to HTTP. */
  private secured(p: Pending, socket: TLSSocket): void {
    if (p.finished) {
      socket.destroy();
      return;
    }
    p.tls = socket;
    p.link.tls = socket;
    if (p.tap) {
      // Over the tap Node cannot ask the socket for addresses: give the TLS socket the TCP ones.
      for (const name of ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort'] as const) {
        Object.defineProperty(socket, name, { value: p.raw[name], configurable: true });
      }
    }
    if (!this.options.renegotiation) socket.disableRenegotiation();
    const negotiated = describeNegotiated(
      socket,
      p.hello!,
      { groupPreference: this.options.groupPreference, dhBits: this.options.dhBits, serverKeyBits: p.credentials!.keyBits },
      p.tap?.choices.group ?? null,
    );
    rememberNegotiated(socket, negotiated);
    const kx = negotiated.SSLNegotiatedKeyExchange;
    this.status(
      p,
      `Handshake complete: ${negotiated.SSLNegotiatedVersion}, ${negotiated.SSLNegotiatedCipherSuite} ` +
        `(${negotiated.SSLNegotiatedCipher} ${negotiated.SSLNegotiatedCipherStrength} bits), ` +
        `key exchange ${kx}${negotiated.group ? ` ${negotiated.group}` : ''} (${negotiated.SSLNegotiatedKeyExchangeStrength} bits)` +
        `${socket.isSessionReused() ? ', session resumed' : ''}`,
    );
    if (!this.host.sslAuthenticateClients) {
      this.handOver(p, socket);
      return;
    }
    this.authenticateClient(p, socket).catch((err: unknown) => {
      this.fail(p, ErrorCode.CertificateVerifyFailed, `client authentication failed: ${(err as Error)?.message ?? err}`);
    });
  }

  private async authenticateClient(p: Pending, socket: TLSSocket): Promise<void> {
    const peer = socket.getPeerX509Certificate();
    let status: string;
    let accept: boolean;
    let subject = '';
    let issuer = '';
    if (!peer) {
      status = 'The client presented no certificate.';
      accept = false;
    } else {
      const d = describeCertificate(Buffer.from(peer.raw));
      subject = d.subject;
      issuer = d.issuer;
      if (socket.authorized) {
        status = 'OK';
        accept = true;
      } else {
        const code = String(socket.authorizationError ?? 'CERT_UNTRUSTED');
        status = `${code}: ${VERIFY_TEXT[code] ?? 'certificate verification failed'}`;
        accept = false;
      }
      const settings = this.host.settings;
      const crl = Number(settings.SSLCheckCRL);
      const ocsp = Number(settings.SSLCheckOCSP);
      if (accept && (crl > 0 || ocsp > 0)) {
        const result = await checkRevocation(peer, socket, { crl, ocsp, caCerts: String(settings.SSLCACerts) }, (m) => this.status(p, m));
        if (!result.ok) {
          status = result.status;
          accept = false;
        }
      }
    }
    if (p.finished || socket.destroyed) return;
    this.status(p, peer ? `Client certificate ${subject}, issued by ${issuer}: ${status}` : status);
    const event: SSLClientAuthenticationEvent = {
      connectionId: p.id,
      certEncoded: peer ? Buffer.from(peer.raw) : Buffer.alloc(0),
      certSubject: subject,
      certIssuer: issuer,
      status,
      accept,
    };
    try {
      this.host.emit('sslClientAuthentication', event);
    } catch (err) {
      this.fail(p, ErrorCode.InvalidArgument, `sslClientAuthentication listener threw: ${(err as Error)?.message ?? err}`);
      return;
    }
    if (p.finished || socket.destroyed) return;
    if (!event.accept) {
      const code = peer ? ErrorCode.CertificateVerifyFailed : ErrorCode.ClientCertificateNotFound;
      this.fail(p, code, `client certificate refused: ${status}`);
      return;
    }
    this.handOver(p, socket);
  }

  /** From here on the connection is an HTTP connection on the upgrade path. */
  private handOver(p: Pending, socket: TLSSocket): void {
    p.finished = true;
    // Kept until the socket closes (for SSLNegotiated*[id] before the WebSocket opens): keep it small.
    p.hello = null;
    p.credentials = null;
    this.upgrade.secured(p.link, socket);
    this.httpServer.emit('connection', socket);
  }

  private handshakeFailed(p: Pending, err: Error): void {
    const code = (err as NodeJS.ErrnoException).code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? ErrorCode.TimedOut : ErrorCode.HandshakeFailed;
    this.fail(p, code, `TLS handshake failed: ${errorText(err as NodeJS.ErrnoException & { reason?: string })}`);
  }

  /** The TCP connection closed before the handshake finished and nothing else reported it. */
  private closedEarly(p: Pending): void {
    this.inHandshake.delete(addressKey(p.raw));
    if (p.received === 0) {
      // A port probe or a client that gave up at once: not worth an Error event.
      p.finished = true;
      this.host.log(2, 'Info', `TLS: ${p.remote} closed the connection before sending a ClientHello`, p.id);
      return;
    }
    const limit = Number(this.host.settings.HandshakeTimeout);
    const why =
      limit > 0 && Date.now() - p.acceptedAt >= limit * 1000 - 50
        ? `HandshakeTimeout (${limit} s) expired during the TLS handshake`
        : p.hello
          ? 'the client closed the connection during the TLS handshake'
          : `the client closed the connection after ${p.received} bytes of an incomplete ClientHello`;
    this.fail(p, ErrorCode.HandshakeFailed, why);
  }

  private fail(p: Pending, code: number, reason: string, options: { reply?: Buffer; quiet?: boolean } = {}): void {
    if (p.finished) return;
    p.finished = true;
    this.inHandshake.delete(addressKey(p.raw));
    this.status(p, `TLS connection from ${p.remote} failed: ${reason}`);
    if (options.quiet) this.host.log(2, 'Info', `TLS connection from ${p.remote} failed: ${reason}`, p.id);
    else this.host.emitError({ connectionId: p.id, errorCode: code, description: `TLS connection from ${p.remote}: ${reason}` });
    const socket: Socket = p.tls ?? p.raw;
    if (options.reply && !p.tls && p.raw.writable) {
      p.raw.end(options.reply);
      const t = setTimeout(() => p.raw.destroy(), 1000);
      t.unref();
      p.raw.once('close', () => clearTimeout(t));
      return;
    }
    socket.destroy();
    if (socket !== p.raw) p.raw.destroy();
  }

  private status(p: Pending, message: string, level = 2): void {
    this.host.emit('sslStatus', { connectionId: p.id, message });
    this.host.log(level, level >= 3 ? 'Debug' : 'Verbose', `TLS: ${message}`, p.id);
  }
}
