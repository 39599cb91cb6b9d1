/**
 * Outgoing data messages to wire frames: compression (RFC 7692), splitting into frames of a
 * bounded size, and frame headers (RFC 6455 5.2). Small frames become one buffer with their
 * header, to save write calls; large payloads are passed on by reference, never copied.
 */

import type { DeflateParams, EncodeRequest, MessageOpcode } from './codec.js';
import { Opcode } from './constants.js';
import { MAX_SERVER_HEADER_SIZE, encodeFrameHeader, frameHeaderSize, writeFrameHeader } from './frame-encoder.js';
import { MessageDeflater, type DeflaterFactory, type MessageDeflating } from './permessage-deflate.js';

/** Payloads below this size are copied behind their header into one buffer. */
export const MERGE_PAYLOAD_BELOW = 1024;

/** Settings of a {@link MessageEncoder}. */
export interface MessageEncoderOptions {
  /** The negotiated permessage-deflate parameters, or null when the extension is off. */
  readonly deflate: DeflateParams | null;
  /** zlib compression level (0–9); zlib's default (6) when omitted. */
  readonly compressionLevel?: number;
  /** zlib memory level (1–9); 8 when omitted. */
  readonly memLevel?: number;
  /** A whole message (one piece) shorter than this is sent uncompressed; 0 compresses all. */
  readonly compressionThreshold?: number;
  /** What compresses: pako's {@link MessageDeflater} when omitted (the js engine). */
  readonly createDeflater?: DeflaterFactory;
}

/**
 * Whether the message a first piece begins is compressed: deflate was negotiated, the sender
 * did not opt out, and a whole message is at least `threshold` bytes (a message sent in
 * pieces is compressed whatever its first piece's size: its total is not known yet).
 */
export function compressesMessage(request: EncodeRequest, deflate: DeflateParams | null, threshold = 0): boolean {
  return deflate !== null && request.compress && (!request.fin || request.data.length >= threshold);
}

const NO_MESSAGE = 0;

const createPakoDeflater: DeflaterFactory = (windowBits, noContextTakeover, level, memLevel) =>
  new MessageDeflater(windowBits, noContextTakeover, level, memLevel);

/**
 * Encodes the data messages a server sends, one message at a time (pieces of a message in
 * order, as {@link EncodeRequest}s).
 */
export class MessageEncoder {
  private readonly deflater: MessageDeflating | null;
  private readonly deflate: DeflateParams | null;
  private readonly threshold: number;
  private messageOpcode: MessageOpcode | typeof NO_MESSAGE = NO_MESSAGE;
  private messageCompressed = false;

  constructor(options: MessageEncoderOptions) {
    const deflate = options.deflate;
    this.deflate = deflate;
    this.threshold = options.compressionThreshold ?? 0;
    this.deflater =
      deflate === null
        ? null
        : (options.createDeflater ?? createPakoDeflater)(
            deflate.serverMaxWindowBits,
            deflate.serverNoContextTakeover,
            options.compressionLevel,
            options.memLevel,
          );
  }

  /** No message is open: the next piece must begin one. */
  get atMessageBoundary(): boolean {
    return this.messageOpcode === NO_MESSAGE;
  }

  /** See `MessageDeflater.window`: the compression history to continue the stream elsewhere. */
  deflateWindow(): Uint8Array | null {
    return this.deflater?.window() ?? null;
  }

  /** See `MessageDeflater.presetWindow`. */
  presetDeflateWindow(history: Uint8Array): void {
    this.deflater?.presetWindow(history);
  }

  /**
   * The frames for one message or message piece, header and payload bytes in wire order.
   *
   * @throws Error when pieces come out of order (a continuation without a message, or a new
   *   message before the previous one's `fin`)
   */
  encode(request: EncodeRequest): Buffer[] {
    let opcode: number;
    if (request.first) {
      if (this.messageOpcode !== NO_MESSAGE) throw new Error('encode(): a new message before the previous one ended.');
      this.messageOpcode = request.opcode;
      this.messageCompressed = compressesMessage(request, this.deflate, this.threshold);
      opcode = request.opcode;
    } else {
      if (this.messageOpcode === NO_MESSAGE) throw new Error('encode(): a continuation piece without a message.');
      opcode = Opcode.Continuation;
    }
    const rsv1 = request.first && this.messageCompressed;
    const frames: Buffer[] = [];
    if (this.messageCompressed) {
      // The deflater leaves room for the header before its output: a one-frame message is one buffer.
      const compressed = this.deflater!.compress(request.data, request.first, request.fin, MAX_SERVER_HEADER_SIZE);
      pushFrames(frames, compressed, MAX_SERVER_HEADER_SIZE, opcode, rsv1, request.fin, request.maxFrameSize, true);
    } else {
      pushFrames(frames, request.data, 0, opcode, rsv1, request.fin, request.maxFrameSize, false);
    }
    if (request.fin) this.messageOpcode = NO_MESSAGE;
    return frames;
  }

  /** Releases the compression context. */
  dispose(): void {
    this.deflater?.dispose();
    this.messageOpcode = NO_MESSAGE;
  }
}

/**
 * Appends the frames carrying `payload[start..]`: one frame, or several of at most
 * `maxFrameSize` bytes (the first with `opcode` and `rsv1`, the rest continuations, FIN on the
 * last only when `fin`).
 *
 * @param ownsHeadroom - `payload[0, start)` is free and ours: the first header may go there
 */
function pushFrames(
  frames: Buffer[],
  payload: Buffer,
  start: number,
  opcode: number,
  rsv1: boolean,
  fin: boolean,
  maxFrameSize: number,
  ownsHeadroom: boolean,
): void {
  const end = payload.length;
  const frameSize = maxFrameSize > 0 ? maxFrameSize : Infinity;
  let offset = start;
  do {
    const frameEnd = Math.min(end, offset + frameSize);
    const last = frameEnd === end;
    const length = frameEnd - offset;
    const headerSize = frameHeaderSize(length);
    const frameFin = last && fin;
    if (ownsHeadroom && offset === start && headerSize <= start) {
      const headerStart = start - headerSize;
      writeFrameHeader(payload, headerStart, opcode, frameFin, rsv1, length);
      frames.push(payload.subarray(headerStart, frameEnd));
    } else if (length < MERGE_PAYLOAD_BELOW) {
      const frame = Buffer.allocUnsafe(headerSize + length);
      writeFrameHeader(frame, 0, opcode, frameFin, rsv1, length);
      payload.copy(frame, headerSize, offset, frameEnd);
      frames.push(frame);
    } else {
      frames.push(encodeFrameHeader(opcode, frameFin, rsv1, length));
      frames.push(offset === 0 && frameEnd === payload.length ? payload : payload.subarray(offset, frameEnd));
    }
    offset = frameEnd;
    opcode = Opcode.Continuation;
    rsv1 = false;
  } while (offset < end);
}
