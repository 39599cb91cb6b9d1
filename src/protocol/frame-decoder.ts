/**
 * The streaming decoder for what a client sends (RFC 6455 section 5, RFC 7692 section 6).
 *
 * Sans-I/O: it is fed the connection's bytes in order, in chunks of any size, and answers with
 * the events they carry. It owns each chunk it is given: payloads are unmasked in place and
 * handed out as views of the chunk, so the common case (a chunk of whole small frames) costs
 * no copy. A frame or header split across chunks is carried over to the next call.
 *
 * The first violation ends decoding: the events before it are returned with the violation,
 * and every later call returns nothing. So does every call after a close frame.
 */

import type { DataEvent, DecodeResult, DeflateParams, InboundEvent, MessageOpcode, ProtocolViolation } from './codec.js';
import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode, closeCodeIsValid } from './constants.js';
import { INFLATE_TOO_BIG, MessageInflater } from './permessage-deflate.js';
import { readMaskKey, unmask } from './unmask.js';
import { Utf8Validator, utf8IsValid } from './utf8.js';

/** Settings of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest message (bytes, after inflation); 0 means no limit. */
  readonly maxMessageSize: number;
  /** The negotiated permessage-deflate parameters, or null when the extension is off. */
  readonly deflate: DeflateParams | null;
}

const READING_HEADER = 0;
const READING_PAYLOAD = 1;
const FINISHED = 2;

/** Largest client frame header: 2 + 64-bit length + masking key. */
const MAX_HEADER_SIZE = 14;
const NO_MESSAGE = 0;
const EMPTY_PAYLOAD = Buffer.alloc(0);
/** Declared lengths at or above 2^53 cannot even be counted: too big whatever the limit. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;

function violation(code: number, reason: string): ProtocolViolation {
  return { code, reason };
}

/** Header bytes a client frame needs, given its second byte (mask bit and 7-bit length). */
function clientHeaderSize(secondByte: number): number {
  const length7 = secondByte & 0x7f;
  return (length7 < 126 ? 2 : length7 === 126 ? 4 : 10) + ((secondByte & 0x80) !== 0 ? 4 : 0);
}

/**
 * Turns the bytes a client sends into {@link InboundEvent}s; one instance per connection.
 */
export class FrameDecoder {
  private readonly maxMessageSize: number;
  private readonly deflateNegotiated: boolean;
  private readonly inflater: MessageInflater | null;
  /** Built with the first text message: a binary-only or idle connection needs none. */
  private utf8State: Utf8Validator | null = null;

  private state = READING_HEADER;
  /** A header split across chunks, gathered here until complete. */
  private headerBytes: Uint8Array | null = null;
  private headerLength = 0;

  // The frame being read.
  private fin = false;
  private opcode = 0;
  private maskKey = 0;
  private payloadLength = 0;
  private payloadRead = 0;
  /** The frame's payload so far: views of chunks, or inflated bytes. */
  private readonly pieces: Buffer[] = [];
  private piecesLength = 0;

  // The data message being read (its frames may have control frames between them).
  private messageOpcode: MessageOpcode | typeof NO_MESSAGE = NO_MESSAGE;
  private messageCompressed = false;
  /** Bytes the message has (declared so far, or inflated so far when compressed). */
  private messageSize = 0;

  constructor(options: FrameDecoderOptions) {
    this.maxMessageSize = options.maxMessageSize > 0 ? options.maxMessageSize : Infinity;
    const deflate = options.deflate;
    this.deflateNegotiated = deflate !== null;
    this.inflater = deflate === null ? null : new MessageInflater(deflate.clientMaxWindowBits, deflate.clientNoContextTakeover);
  }

  private get utf8(): Utf8Validator {
    return (this.utf8State ??= new Utf8Validator());
  }

  /** True once a close frame or a violation ended decoding. */
  get finished(): boolean {
    return this.state === FINISHED;
  }

  /**
   * Decodes the next bytes from the client. Takes ownership of `chunk` (unmasks it in place;
   * events may be views of it).
   */
  decode(chunk: Buffer): DecodeResult {
    const events: InboundEvent[] = [];
    if (this.state === FINISHED) return { events, error: null };
    const length = chunk.length;
    let pos = 0;

    for (;;) {
      if (this.state === READING_HEADER) {
        if (pos >= length) break;
        let header: Uint8Array = chunk;
        let at = pos;
        const available = length - pos;
        if (this.headerLength === 0 && available >= 2 && available >= clientHeaderSize(chunk[pos + 1])) {
          pos += clientHeaderSize(chunk[pos + 1]); // the common case: the whole header is here
        } else {
          pos = this.gatherHeader(chunk, pos);
          if (this.headerLength >= 2) {
            const early = this.checkFrameStart(this.headerBytes![0], this.headerBytes![1]);
            if (early !== null) return this.fail(events, early);
          }
          if (this.headerLength < 2 || this.headerLength < clientHeaderSize(this.headerBytes![1])) break;
          header = this.headerBytes!;
          at = 0;
          this.headerLength = 0;
        }
        const invalid = this.beginFrame(header, at, length - pos);
        if (invalid !== null) return this.fail(events, invalid);
      }

      // READING_PAYLOAD
      const take = Math.min(length - pos, this.payloadLength - this.payloadRead);
      if (take > 0) {
        unmask(chunk, pos, pos + take, this.maskKey, this.payloadRead);
        const invalid = this.consumePayload(chunk, pos, pos + take);
        if (invalid !== null) return this.fail(events, invalid);
        pos += take;
        this.payloadRead += take;
      }
      if (this.payloadRead < this.payloadLength) break; // the rest comes in a later chunk
      const invalid = this.endFrame(events);
      if (invalid !== null) return this.fail(events, invalid);
      if (this.state === FINISHED) break; // a close frame: what follows is ignored
      this.state = READING_HEADER;
    }
    return { events, error: null };
  }

  /** Releases the inflate context. */
  dispose(): void {
    this.state = FINISHED;
    this.pieces.length = 0;
    this.inflater?.dispose();
  }

  /** Copies header bytes from `chunk` into `headerBytes`, as many as the header needs. */
  private gatherHeader(chunk: Buffer, pos: number): number {
    const bytes = (this.headerBytes ??= new Uint8Array(MAX_HEADER_SIZE));
    const length = chunk.length;
    while (pos < length) {
      const needed = this.headerLength < 2 ? 2 : clientHeaderSize(bytes[1]);
      if (this.headerLength >= needed) break;
      bytes[this.headerLength++] = chunk[pos++];
    }
    return pos;
  }

  /** The rules the first two header bytes decide; null when they are fine. */
  private checkFrameStart(b0: number, b1: number): ProtocolViolation | null {
    const opcode = b0 & 0x0f;
    if ((b0 & 0x30) !== 0) return violation(CloseCode.ProtocolError, 'RSV2 and RSV3 must be clear');
    if ((b1 & 0x80) === 0) return violation(CloseCode.ProtocolError, 'Client frames must be masked');
    if (opcode >= Opcode.Close) {
      if (opcode > Opcode.Pong) return violation(CloseCode.ProtocolError, `Reserved opcode ${opcode}`);
      if ((b0 & 0x80) === 0) return violation(CloseCode.ProtocolError, 'Control frames must not be fragmented');
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) return violation(CloseCode.ProtocolError, 'Control frame payload over 125 bytes');
      if ((b0 & 0x40) !== 0) return violation(CloseCode.ProtocolError, 'RSV1 set on a control frame');
      return null;
    }
    if (opcode === Opcode.Continuation) {
      if (this.messageOpcode === NO_MESSAGE) {
        return violation(CloseCode.ProtocolError, 'Continuation frame without a message to continue');
      }
      if ((b0 & 0x40) !== 0) return violation(CloseCode.ProtocolError, 'RSV1 set on a continuation frame');
      return null;
    }
    if (opcode > Opcode.Binary) return violation(CloseCode.ProtocolError, `Reserved opcode ${opcode}`);
    if (this.messageOpcode !== NO_MESSAGE) return violation(CloseCode.ProtocolError, 'New message before the previous one ended');
    if ((b0 & 0x40) !== 0 && !this.deflateNegotiated) {
      return violation(CloseCode.ProtocolError, 'RSV1 set without a negotiated extension');
    }
    return null;
  }

  /**
   * Reads a complete header at `header[at]` and prepares for its payload.
   *
   * @param available - payload bytes already in the current chunk
   */
  private beginFrame(header: Uint8Array, at: number, available: number): ProtocolViolation | null {
    const b0 = header[at];
    const b1 = header[at + 1];
    const invalid = this.checkFrameStart(b0, b1);
    if (invalid !== null) return invalid;

    let p = at + 2;
    let payloadLength = b1 & 0x7f;
    if (payloadLength === 126) {
      payloadLength = (header[p] << 8) | header[p + 1];
      p += 2;
    } else if (payloadLength === 127) {
      const high = ((header[p] << 24) | (header[p + 1] << 16) | (header[p + 2] << 8) | header[p + 3]) >>> 0;
      const low = ((header[p + 4] << 24) | (header[p + 5] << 16) | (header[p + 6] << 8) | header[p + 7]) >>> 0;
      if (high >= 0x80000000) return violation(CloseCode.ProtocolError, '64-bit payload length with the top bit set');
      if (high > MAX_SAFE_HIGH_WORD) return violation(CloseCode.MessageTooBig, 'Frame too big');
      payloadLength = high * 0x100000000 + low;
      p += 8;
    }
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    this.fin = fin;
    this.opcode = opcode;
    this.maskKey = readMaskKey(header, p);
    this.payloadLength = payloadLength;
    this.payloadRead = 0;
    this.state = READING_PAYLOAD;

    if (opcode < Opcode.Close) {
      if (opcode !== Opcode.Continuation) {
        this.messageOpcode = opcode as MessageOpcode;
        this.messageCompressed = (b0 & 0x40) !== 0;
        this.messageSize = 0;
        if (opcode === Opcode.Text) this.utf8.reset();
        // A one-frame message already here inflates within this call: it may borrow a shared context.
        if (this.messageCompressed) this.inflater!.begin(fin && available >= payloadLength);
      }
      if (!this.messageCompressed) {
        // Refused on sight, before a byte of it is buffered. (Compressed: bounded while inflating.)
        if (payloadLength > this.maxMessageSize - this.messageSize) return violation(CloseCode.MessageTooBig, 'Message too big');
        this.messageSize += payloadLength;
      }
    }
    return null;
  }

  /** Takes the unmasked payload bytes `chunk[start, end)` of the current frame. */
  private consumePayload(chunk: Buffer, start: number, end: number): ProtocolViolation | null {
    if (this.opcode >= Opcode.Close || !this.messageCompressed) {
      // Text is checked piece by piece as it arrives, so a bad byte fails at once.
      if (this.opcode < Opcode.Close && this.messageOpcode === Opcode.Text && this.utf8.push(chunk, start, end) !== -1) {
        return violation(CloseCode.InvalidPayload, 'Invalid UTF-8 in a text message');
      }
      this.pieces.push(chunk.subarray(start, end));
      this.piecesLength += end - start;
      return null;
    }
    const first = this.pieces.length;
    const produced = this.inflater!.write(chunk, start, end, this.maxMessageSize - this.messageSize, this.pieces);
    return this.acceptInflated(first, produced);
  }

  /** Accounts for inflated pieces `pieces[first..]` (or the inflater's failure). */
  private acceptInflated(first: number, produced: number): ProtocolViolation | null {
    if (produced < 0) {
      return produced === INFLATE_TOO_BIG
        ? violation(CloseCode.MessageTooBig, 'Message too big')
        : violation(CloseCode.InvalidPayload, 'Invalid compressed data');
    }
    this.messageSize += produced;
    this.piecesLength += produced;
    if (this.messageOpcode === Opcode.Text) {
      for (let i = first; i < this.pieces.length; i++) {
        if (this.utf8.push(this.pieces[i]) !== -1) return violation(CloseCode.InvalidPayload, 'Invalid UTF-8 in a text message');
      }
    }
    return null;
  }

  /** The current frame's payload is complete: emit its event. */
  private endFrame(events: InboundEvent[]): ProtocolViolation | null {
    const opcode = this.opcode;
    if (opcode >= Opcode.Close) {
      const payload = this.takePayload();
      if (opcode !== Opcode.Close) {
        events.push({ kind: opcode === Opcode.Ping ? 'ping' : 'pong', payload });
        return null;
      }
      return this.endClose(payload, events);
    }

    const fin = this.fin;
    if (fin) {
      if (this.messageCompressed) {
        const first = this.pieces.length;
        const invalid = this.acceptInflated(first, this.inflater!.finish(this.maxMessageSize - this.messageSize, this.pieces));
        if (invalid !== null) return invalid;
      }
      if (this.messageOpcode === Opcode.Text && !this.utf8.complete) {
        return violation(CloseCode.InvalidPayload, 'Text message ends inside a UTF-8 sequence');
      }
    }
    const event: DataEvent = {
      kind: 'data',
      opcode: this.messageOpcode as MessageOpcode,
      payload: this.takePayload(),
      first: opcode !== Opcode.Continuation,
      fin,
    };
    events.push(event);
    if (fin) {
      this.messageOpcode = NO_MESSAGE;
      this.messageCompressed = false;
    }
    return null;
  }

  /** A close frame: 1005 when empty, else a valid code and a UTF-8 reason (RFC 6455 5.5.1, 7.4). */
  private endClose(payload: Buffer, events: InboundEvent[]): ProtocolViolation | null {
    if (payload.length === 1) return violation(CloseCode.ProtocolError, 'Close frame with a 1-byte payload');
    let code: number = CloseCode.NoStatus;
    let reason = '';
    if (payload.length >= 2) {
      code = (payload[0] << 8) | payload[1];
      if (!closeCodeIsValid(code)) return violation(CloseCode.ProtocolError, `Invalid close code ${code}`);
      if (!utf8IsValid(payload, 2)) return violation(CloseCode.InvalidPayload, 'Close reason is not valid UTF-8');
      reason = payload.toString('utf8', 2);
    }
    events.push({ kind: 'close', code, reason });
    this.state = FINISHED;
    this.inflater?.abort();
    return null;
  }

  /** The frame's payload as one buffer (a view of the chunk when it came in one piece). */
  private takePayload(): Buffer {
    const pieces = this.pieces;
    const payload =
      pieces.length === 1 ? pieces[0] : pieces.length === 0 ? EMPTY_PAYLOAD : Buffer.concat(pieces, this.piecesLength);
    pieces.length = 0;
    this.piecesLength = 0;
    return payload;
  }

  private fail(events: InboundEvent[], error: ProtocolViolation): DecodeResult {
    this.state = FINISHED;
    this.pieces.length = 0;
    this.piecesLength = 0;
    this.inflater?.abort();
    return { events, error };
  }
}
