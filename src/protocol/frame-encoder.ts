/**
 * Server-to-client frame encoding (RFC 6455 5.2). Server frames are never masked, so a frame is
 * a 2-, 4- or 10-byte header followed by the payload as is.
 */

import { MAX_CONTROL_PAYLOAD } from './constants.js';

/** Bytes of the largest header a server writes (2 + 64-bit length). */
export const MAX_SERVER_HEADER_SIZE = 10;

/** Size of the header {@link writeFrameHeader} writes for a payload of `payloadLength` bytes. */
export function frameHeaderSize(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 0x10000 ? 4 : 10;
}

/**
 * Writes an unmasked frame header into `target` at `offset`.
 *
 * @returns the offset just past the header
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  payloadLength: number,
): number {
  target[offset] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f);
  if (payloadLength < 126) {
    target[offset + 1] = payloadLength;
    return offset + 2;
  }
  if (payloadLength < 0x10000) {
    target[offset + 1] = 126;
    target[offset + 2] = payloadLength >>> 8;
    target[offset + 3] = payloadLength & 0xff;
    return offset + 4;
  }
  target[offset + 1] = 127;
  // Payloads are JS buffers, far below 2^53: the high word fits a plain division.
  const high = Math.floor(payloadLength / 0x100000000);
  const low = payloadLength >>> 0;
  target[offset + 2] = high >>> 24;
  target[offset + 3] = (high >>> 16) & 0xff;
  target[offset + 4] = (high >>> 8) & 0xff;
  target[offset + 5] = high & 0xff;
  target[offset + 6] = low >>> 24;
  target[offset + 7] = (low >>> 16) & 0xff;
  target[offset + 8] = (low >>> 8) & 0xff;
  target[offset + 9] = low & 0xff;
  return offset + 10;
}

/**
 * The header of one unmasked (server) frame, with a 7-, 16- or 64-bit length as needed.
 *
 * @param opcode - the frame opcode (0x0–0xF)
 * @param fin - this frame ends its message
 * @param rsv1 - the permessage-deflate "compressed" bit (first frame of a compressed message)
 * @param payloadLength - payload bytes that follow the header
 */
export function encodeFrameHeader(opcode: number, fin: boolean, rsv1: boolean, payloadLength: number): Buffer {
  checkPayloadLength(payloadLength);
  const header = Buffer.allocUnsafe(frameHeaderSize(payloadLength));
  writeFrameHeader(header, 0, opcode, fin, rsv1, payloadLength);
  return header;
}

/**
 * A complete control frame (close, ping or pong; always FIN) in one buffer.
 *
 * @throws RangeError when the payload exceeds 125 bytes (RFC 6455 5.5)
 */
export function encodeControlFrame(opcode: number, payload: Uint8Array): Buffer {
  if (payload.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(`A control frame carries at most ${MAX_CONTROL_PAYLOAD} bytes, not ${payload.length}.`);
  }
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame[0] = 0x80 | (opcode & 0x0f);
  frame[1] = payload.length;
  frame.set(payload, 2);
  return frame;
}

/** Room for the reason in a close payload: 125 bytes minus the 2-byte status code. */
const MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2;

/**
 * The payload of a close frame: the status code (big-endian) and the reason in UTF-8, cut to
 * fit 125 bytes without splitting a character.
 *
 * The code is written as given; whether it may be sent is the caller's business
 * (`closeCodeIsValid`). To send a close frame without a status, send an empty payload instead.
 *
 * @throws RangeError when `code` is not an integer 0–65535
 */
export function encodeClosePayload(code: number, reason: string): Buffer {
  if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
    throw new RangeError(`A close status code is an integer 0-65535, not ${code}.`);
  }
  const encoded = Buffer.from(reason, 'utf8');
  let length = encoded.length;
  if (length > MAX_CLOSE_REASON_BYTES) {
    length = MAX_CLOSE_REASON_BYTES;
    // Back up to the start of the character the limit falls in (continuation bytes are 10xxxxxx).
    while (length > 0 && (encoded[length] & 0xc0) === 0x80) length--;
  }
  const payload = Buffer.allocUnsafe(2 + length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  encoded.copy(payload, 2, 0, length);
  return payload;
}

function checkPayloadLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`A frame payload length is a non-negative safe integer, not ${length}.`);
  }
}
