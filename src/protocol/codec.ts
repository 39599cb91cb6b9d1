/**
 * The codec contract: what every engine (js, wasm, pool, auto) implements.
 *
 * A codec is sans-I/O: it is fed the bytes a client sent and returns what they mean, and it
 * turns outgoing messages into wire bytes. It owns no socket, timer or event. One codec
 * instance belongs to one connection and holds that connection's decoding state (a partial
 * frame, the open fragmented message, the UTF-8 validator, the permessage-deflate contexts).
 *
 * Every operation may answer synchronously or with a Promise, so an engine may run on the
 * main thread or in a worker. The connection calls `decode` again only after the previous
 * result settled (bytes that arrive meanwhile are joined into the next call), and it keeps
 * outgoing order itself, so an engine never sees two overlapping calls of the same kind.
 */

/** Negotiated permessage-deflate parameters (RFC 7692 section 7.1). */
export interface DeflateParams {
  /** The server resets its compression context after every message. */
  readonly serverNoContextTakeover: boolean;
  /** The client resets its compression context after every message. */
  readonly clientNoContextTakeover: boolean;
  /** LZ77 window (bits, 8–15) the server compresses with (the pako deflater runs 8 as 9, see `deflaterWindowBits`). */
  readonly serverMaxWindowBits: number;
  /** LZ77 window (bits, 8–15) the client compresses with; the server inflates with at least this. */
  readonly clientMaxWindowBits: number;
}

/** Settings a codec is created with. */
export interface CodecOptions {
  /**
   * Largest message (in bytes, after inflation) a client may send; more closes with 1009.
   * 0 means no limit.
   */
  readonly maxMessageSize: number;
  /** The negotiated permessage-deflate parameters, or null when the extension is off. */
  readonly deflate: DeflateParams | null;
  /** zlib compression level (0–9) for outgoing messages when deflate is on. */
  readonly compressionLevel?: number;
  /** zlib memory level (1–9) for outgoing messages: hash table and buffer sizes; 8 when omitted. */
  readonly memLevel?: number;
  /** Whole outgoing messages shorter than this (bytes) are sent uncompressed; 0 (or omitted) compresses all. */
  readonly compressionThreshold?: number;
}

/** Message types as they appear in the first frame of a data message. */
export type MessageOpcode = 0x1 | 0x2;

/** One piece of a data message, in wire order. */
export interface DataEvent {
  readonly kind: 'data';
  /** Text (0x1) or binary (0x2): the type of the message this piece belongs to. */
  readonly opcode: MessageOpcode;
  /** The (unmasked, inflated) payload of one frame. May be empty. */
  readonly payload: Buffer;
  /** This is the first piece of its message. */
  readonly first: boolean;
  /** This is the last piece of its message (FIN). */
  readonly fin: boolean;
}

/** A ping (0x9) or pong (0xA) control frame. */
export interface PingPongEvent {
  readonly kind: 'ping' | 'pong';
  readonly payload: Buffer;
}

/** A valid close frame. */
export interface CloseEvent {
  readonly kind: 'close';
  /** The status code, or 1005 when the frame carried none. */
  readonly code: number;
  /** The (validated UTF-8) reason; empty when none. */
  readonly reason: string;
}

export type InboundEvent = DataEvent | PingPongEvent | CloseEvent;

/** Why the connection must be failed (RFC 6455 7.1.7): the close code to send and a reason. */
export interface ProtocolViolation {
  /** 1002 protocol error, 1007 invalid payload, 1009 too big, 1011 internal error. */
  readonly code: number;
  /** A short, human-readable reason, sent as the close reason (at most 123 bytes). */
  readonly reason: string;
}

/** The result of one decode call. */
export interface DecodeResult {
  /** What the bytes carried, in wire order. Events before a violation are valid. */
  readonly events: InboundEvent[];
  /** Set when the bytes broke the protocol; the codec accepts no more input after it. */
  readonly error: ProtocolViolation | null;
}

/** One outgoing data frame request. */
export interface EncodeRequest {
  /** Text (0x1) or binary (0x2). Used on the first piece; continuation pieces keep the message's type. */
  readonly opcode: MessageOpcode;
  /** The payload bytes (text already UTF-8 encoded). */
  readonly data: Buffer;
  /** This piece begins a new message. */
  readonly first: boolean;
  /** This piece ends the message. */
  readonly fin: boolean;
  /** Compress this message (only honoured on its first piece, and only if deflate was negotiated). */
  readonly compress: boolean;
  /** Largest payload per frame; longer pieces are split into several frames. 0 = no limit. */
  readonly maxFrameSize: number;
}

/** A value or a promise of it: engines may answer either way. */
export type MaybePromise<T> = T | Promise<T>;

/** The per-connection codec every engine provides. */
export interface Codec {
  /**
   * Decodes bytes received from the client. The codec takes ownership of `chunk` (it may
   * unmask in place and hand out views of it). Not called again before a returned promise settles.
   */
  decode(chunk: Buffer): MaybePromise<DecodeResult>;
  /** Turns one message or message piece into wire bytes (frame headers and payloads, unmasked). */
  encode(request: EncodeRequest): MaybePromise<Buffer[]>;
  /** Releases what the codec holds (compression contexts, worker slots). Idempotent. */
  dispose(): void;
  /**
   * Optional (engines that run work elsewhere): true while the engine takes no more input
   * without queueing it, e.g. a saturated worker pool. The connection then stops reading
   * its socket until its decode in flight settles, instead of buffering what arrives.
   */
  readonly saturated?: boolean;
  /**
   * Optional: the engine calls `handler` (at most once) when the codec's state is lost
   * outside any call, e.g. its worker died while the connection was idle; the connection
   * then fails with 1011. Failures during a call reject that call instead.
   */
  setFaultHandler?(handler: (err: Error) => void): void;
}

/** Builds codecs for connections. One factory per server. */
export interface Engine {
  /** The engine's name as accepted by `Config("Engine=...")`. */
  readonly name: string;
  /** A codec for one new connection. */
  createCodec(options: CodecOptions): Codec;
  /** Frees engine-wide resources (e.g. a worker pool). */
  close(): Promise<void>;
}
