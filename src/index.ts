/**
 * wsworks: a WebSocket server for Node.js with the API of the IPWorks WSServer component.
 * @packageDocumentation
 */
export { WSServer, type SendOptions, type WSServerOptions } from './server.js';
export { WSConnection, DataFormat } from './connection.js';
export { WSServerError, ErrorCode, ERROR_MESSAGES } from './errors.js';
export { Certificate, CertStoreType } from './tls/certificate.js';
export { SETTINGS, type SettingSpec } from './config.js';
export { CloseCode, closeCodeIsValid } from './protocol/constants.js';
export { attachEcho, configureEchoServer } from './echo.js';
export type {
  ConnectedEvent,
  ConnectionRequestEvent,
  DataInEvent,
  DisconnectedEvent,
  ErrorEvent,
  LogEvent,
  PingEvent,
  ReadyToSendEvent,
  SSLClientAuthenticationEvent,
  SSLConnectionRequestEvent,
  SSLStatusEvent,
  WebSocketOpenRequestEvent,
  WSServerEvents,
} from './events.js';
export type { Codec, Engine, CodecOptions, DecodeResult, InboundEvent, EncodeRequest, DeflateParams } from './protocol/codec.js';
