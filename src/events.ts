/**
 * The event objects of WSServer, one interface per event of the reference. Fields the
 * application may change (accept, statusCode, subProtocols, responseHeaders, cert*) are read
 * back after the listeners ran.
 */

/** `connected`: a WebSocket was opened. */
export interface ConnectedEvent {
  readonly connectionId: string;
}

/** `connectionRequest`: a TCP connection arrived; set `accept = false` to refuse it. */
export interface ConnectionRequestEvent {
  readonly address: string;
  readonly port: number;
  /** True unless AllowedClients/BlockedClients refused the address; the listener's value decides. */
  accept: boolean;
}

/** `dataIn`: data arrived (a frame, a whole message with BufferMessage, or a line in line mode). */
export interface DataInEvent {
  readonly connectionId: string;
  /** 1 text (UTF-8), 2 binary, 0 a continuation frame (or any data in line mode). */
  readonly dataFormat: number;
  /** The bytes received. A view of the receive buffer: copy it if you keep it long. */
  readonly text: Buffer;
  /** End of message: this was the last piece of its message. */
  readonly eom: boolean;
  /** Line mode: a line ending ended this piece (false when MaxLineLength did). */
  readonly eol: boolean;
}

/** `disconnected`: the connection is gone. */
export interface DisconnectedEvent {
  readonly connectionId: string;
  /** The close code (1000 normal, 1002 protocol error, 1006 dropped without a close frame, ...). */
  readonly statusCode: number;
  readonly description: string;
}

/** `error`: something failed outside a method call (e.g. a socket error, a background send). */
export interface ErrorEvent {
  /** '' when the error concerns no single connection. */
  readonly connectionId: string;
  readonly errorCode: number;
  readonly description: string;
}

/** `log`: one log line, at or below the LogLevel setting. */
export interface LogEvent {
  readonly connectionId: string;
  /** 1 info, 2 verbose, 3 debug. */
  readonly logLevel: number;
  readonly message: string;
  /** "Info", "Error", "Verbose" or "Debug". */
  readonly logType: string;
}

/** `ping`: a ping (response = false) or pong (response = true) arrived. Pings are answered automatically. */
export interface PingEvent {
  readonly connectionId: string;
  readonly payload: Buffer;
  readonly response: boolean;
}

/** `readyToSend`: after the connection opened, and when its queue drained after a 10035. */
export interface ReadyToSendEvent {
  readonly connectionId: string;
}

/** `sslClientAuthentication`: a TLS client presented a certificate. */
export interface SSLClientAuthenticationEvent {
  readonly connectionId: string;
  readonly certEncoded: Buffer;
  readonly certSubject: string;
  readonly certIssuer: string;
  /** "OK" or why verification failed. */
  readonly status: string;
  /** The recommendation; the listener's final value decides. */
  accept: boolean;
}

/**
 * `sslConnectionRequest`: a TLS ClientHello arrived, before the handshake goes on. The cert*
 * fields start as SSLCert's; set them to serve this connection another certificate (e.g. an
 * ECDSA one when `supportedSignatureAlgs` has ecdsa_*, or one chosen by `serverName`).
 */
export interface SSLConnectionRequestEvent {
  readonly connectionId: string;
  /** The cipher suites the client offers, IANA names, comma-separated, in its order. */
  readonly supportedCipherSuites: string;
  /** The signature algorithms the client offers (signature_algorithms), IANA names, comma-separated. */
  readonly supportedSignatureAlgs: string;
  certStoreType: number;
  certStore: string | Buffer;
  certPassword: string;
  certSubject: string;
  /** Beyond the reference: the server name the client asked for (SNI), '' when none. */
  readonly serverName: string;
}

/** `sslStatus`: progress of a TLS handshake. */
export interface SSLStatusEvent {
  readonly connectionId: string;
  readonly message: string;
}

/** `webSocketOpenRequest`: a client asks to open a WebSocket; set `statusCode` to reject. */
export interface WebSocketOpenRequestEvent {
  readonly connectionId: string;
  readonly requestURI: string;
  readonly hostHeader: string;
  readonly originHeader: string;
  /** The subprotocols the client offered (comma-separated); set it to the one you select. */
  subProtocols: string;
  /** The Sec-WebSocket-Extensions the client offered. */
  readonly extensions: string;
  readonly requestHeaders: string;
  /** 101 accepts (default); any other HTTP status rejects with that status. */
  statusCode: number;
  /** Extra response headers, "Name: value" lines (e.g. WWW-Authenticate with a 401). */
  responseHeaders: string;
}

/** Every WSServer event by name, for typed `on`/`once`/`off`/`emit`. */
export interface WSServerEvents {
  connected: ConnectedEvent;
  connectionRequest: ConnectionRequestEvent;
  dataIn: DataInEvent;
  disconnected: DisconnectedEvent;
  error: ErrorEvent;
  log: LogEvent;
  ping: PingEvent;
  readyToSend: ReadyToSendEvent;
  sslClientAuthentication: SSLClientAuthenticationEvent;
  sslConnectionRequest: SSLConnectionRequestEvent;
  sslStatus: SSLStatusEvent;
  webSocketOpenRequest: WebSocketOpenRequestEvent;
}
