/**
 * What a WSConnection needs from the server that owns it: settings, logging and event
 * delivery. Keeping it an interface keeps connection.ts free of the server's internals.
 */
import type { Settings } from './config.js';
import type { DataInEvent, ErrorEvent, PingEvent, ReadyToSendEvent } from './events.js';
import type { WSConnection } from './connection.js';

/** Facts from the opening handshake a connection is created with. */
export interface HandshakeInfo {
  readonly connectionId: string;
  readonly host: string;
  readonly origin: string;
  readonly requestURI: string;
  readonly requestHeaders: string;
  readonly subProtocols: string;
  readonly selectedSubProtocol: string;
  readonly extensions: string;
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly localAddress: string;
}

/** @internal The server side of a connection. */
export interface ConnectionHost {
  readonly settings: Settings;
  readonly defaultTimeout: number;
  log(level: number, type: 'Info' | 'Error' | 'Verbose' | 'Debug', message: string, connectionId: string): void;
  emitDataIn(e: DataInEvent): void;
  emitPing(e: PingEvent): void;
  emitReadyToSend(e: ReadyToSendEvent): void;
  emitError(e: ErrorEvent): void;
  connectionClosed(connection: WSConnection, statusCode: number, description: string): void;
}
