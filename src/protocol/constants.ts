/** RFC 6455 frame opcodes. */
export const Opcode = Object.freeze({
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const);

/** Close status codes of RFC 6455 section 7.4.1 that wsworks sends or reports. */
export const CloseCode = Object.freeze({
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reported (never sent) when a close frame carried no status code. */
  NoStatus: 1005,
  /** Reported (never sent) when the connection dropped without a close frame. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
} as const);

/** The largest payload a control frame may carry (RFC 6455 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** The GUID appended to Sec-WebSocket-Key to form Sec-WebSocket-Accept (RFC 6455 1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Whether a close code may appear on the wire (RFC 6455 7.4): 1000–1003, 1007–1011 and the
 * registered/private ranges 3000–4999. 1004–1006, 1015 and everything else are invalid.
 */
export function closeCodeIsValid(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1011) ||
    (code >= 3000 && code <= 4999)
  );
}

/** The default description wsworks sends with each standard close code. */
export const CLOSE_DESCRIPTIONS: Readonly<Record<number, string>> = Object.freeze({
  1000: 'Normal closure',
  1001: 'Going away',
  1002: 'Protocol error',
  1003: 'Unsupported data',
  1007: 'Invalid payload data',
  1008: 'Policy violation',
  1009: 'Message too big',
  1010: 'Mandatory extension',
  1011: 'Internal error',
});
