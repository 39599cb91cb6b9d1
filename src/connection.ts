/**
 * WSConnection: one client's WebSocket on the main thread. It feeds socket bytes to the
 * connection's codec, turns what comes back into events, runs the closing handshake, and
 * owns the send path (modes, MessageLength, streaming, backpressure).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Codec, DecodeResult, InboundEvent, MessageOpcode } from './protocol/codec.js';
import { CloseCode, CLOSE_DESCRIPTIONS, MAX_CONTROL_PAYLOAD, Opcode } from './protocol/constants.js';
import { encodeClosePayload, encodeControlFrame } from './protocol/frame-encoder.js';
import { ErrorCode, WSServerError, osErrorCode, toWSServerError } from './errors.js';
import { LineSplitter } from './line-splitter.js';
import { Outbound } from './outbound.js';
import type { ConnectionHost, HandshakeInfo } from './connection-host.js';

/** DataFormat values of the reference, for sending (DataToSend) and receiving (DataIn). */
export const DataFormat = Object.freeze({
  Automatic: 0,
  Continuation: 0,
  Text: 1,
  Binary: 2,
  Ping: 9,
  Pong: 10,
} as const);

const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY: Buffer = Buffer.alloc(0);

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}

type State = 'open' | 'closing' | 'closed';

/** Decoded events waiting for AcceptData to turn true again. */
interface HeldEvents {
  readonly events: InboundEvent[];
  readonly index: number;
  readonly error: DecodeResult['error'];
}

/**
 * Socket listeners shared by every connection: the socket points at its connection, so an
 * idle connection carries no closures of its own.
 */
const OWNER = Symbol('wsworks.connection');
type OwnedSocket = Socket & { [OWNER]: WSConnection };
function socketData(this: Socket, chunk: Buffer): void {
  (this as OwnedSocket)[OWNER].onData(chunk);
}
function socketError(this: Socket, err: Error): void {
  (this as OwnedSocket)[OWNER].onSocketError(err);
}
function socketClose(this: Socket): void {
  (this as OwnedSocket)[OWNER].onSocketClose();
}
function socketEnd(this: Socket): void {
  (this as OwnedSocket)[OWNER].onSocketEnd();
}

/** A ping awaiting its pong. */
interface PendingPing {
  readonly payload: Buffer;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** A currently connected client (the reference's WSConnection type). */
export class WSConnection {
  /** The identifier the server gave this connection (key of `server.connections`). */
  readonly connectionId: string;
  /** The facts of the opening handshake (one object, so an idle connection stays small). */
  private readonly info: HandshakeInfo;

  /** The Host header of the opening handshake. */
  get host(): string {
    return this.info.host;
  }
  /** The Origin header of the opening handshake. */
  get origin(): string {
    return this.info.origin;
  }
  /** The request URI of the opening handshake (path and query). */
  get requestURI(): string {
    return this.info.requestURI;
  }
  /** The HTTP headers of the opening handshake, one "Name: value" per line (CRLF-separated). */
  get requestHeaders(): string {
    return this.info.requestHeaders;
  }
  /** The subprotocols the client offered, comma-separated. */
  get subProtocols(): string {
    return this.info.subProtocols;
  }
  /** The subprotocol the server selected, or '' when none. */
  get selectedSubProtocol(): string {
    return this.info.selectedSubProtocol;
  }
  /** The permessage-deflate response header, or '' when the extension is off. */
  get extensions(): string {
    return this.info.extensions;
  }
  /** The IP address of the client. */
  get remoteHost(): string {
    return this.info.remoteHost;
  }
  /** The TCP port of the client. */
  get remotePort(): number {
    return this.info.remotePort;
  }
  /** The local IP address this connection came in on. */
  get localAddress(): string {
    return this.info.localAddress;
  }
  /**
   * The format DataToSend/DataToSendB are sent as: 0 automatic (DataToSend text, DataToSendB
   * binary), 1 text, 2 binary, 9 ping, 10 pong.
   */
  dataFormat = 0;

  private _timeout: number;
  private _acceptData = true;
  private _bytesSent = 0;
  private _lineMode = false;
  private _readyToSend = true;
  /** A send failed with 10035: fire ReadyToSend when the queue drains. */
  private wouldBlock = false;
  private state: State = 'open';
  private closeSent = false;
  private closeReceived = false;
  /** The code/description reported by Disconnected. */
  private closeCode: number = CloseCode.Abnormal;
  private closeReason = '';
  private closeTimer: NodeJS.Timeout | null = null;
  /** socket.end() was (or is about to be) called. */
  private ending = false;

  // Inbound
  private decoding = false;
  private inbox: Buffer[] | null = null;
  private inboxBytes = 0;
  /** Events decoded but not yet delivered because AcceptData went false. */
  private held: HeldEvents | null = null;
  private messageParts: Buffer[] | null = null;
  private messagePartsBytes = 0;
  private lineSplitter: LineSplitter | null = null;
  /** When traffic last arrived (ms), for PingInterval/IdleTimeout. */
  lastActivity = Date.now();
  private idlePingSent = false;

  // Outbound
  private readonly outbound: Outbound;
  /** Encodings still in flight (async engines), in order; frames after them wait. */
  private outTail: Promise<void> | null = null;
  /** Bytes of messages given to encodings still in flight: they count against OutBufferSize. */
  private encodingBytes = 0;
  /** Bytes left of a message started under MessageLength. */
  private messageRemaining = 0;
  private messageOpcode: MessageOpcode = Opcode.Binary;
  /** A streamed message (SendFile / SetUploadStream) is being sent. */
  private streaming: { interrupted: boolean; stream: Readable; done: Promise<void>; wake: () => void } | null = null;
  private pings: PendingPing[] | null = null;
  private pingCounter = 0;
  /** Per-connection values of MaxLineLength / MessageLength. */
  maxLineLength: number;
  messageLength = 0;

  /** @internal Created by WSServer once the opening handshake succeeded. */
  constructor(
    private readonly server: ConnectionHost,
    readonly socket: Socket,
    private readonly codec: Codec,
    info: HandshakeInfo,
  ) {
    this.connectionId = info.connectionId;
    this.info = info;
    this._timeout = server.defaultTimeout;
    this.maxLineLength = server.settings.MaxLineLength;
    this.outbound = new Outbound(socket, this);
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('data', socketData);
    socket.on('error', socketError);
    socket.on('close', socketClose);
    socket.on('end', socketEnd);
    // An engine whose worker lost this connection's state while no call was pending (pool/auto).
    codec.setFaultHandler?.((err) => {
      if (this.state !== 'closed') this.internalError(err);
    });
  }

  // ---- Fields of the reference ----------------------------------------------------------

  /** False pauses reading and DataIn for this connection; True resumes. */
  get acceptData(): boolean {
    return this._acceptData;
  }
  set acceptData(value: boolean) {
    if (value === this._acceptData) return;
    this._acceptData = value;
    if (!value) {
      this.socket.pause();
      return;
    }
    if (this.state === 'closed') return;
    this.socket.resume();
    // Deliver what was decoded before the pause, then what arrived meanwhile.
    if (this.held) this.dispatch(this.held.events, this.held.index, this.held.error);
    else this.decodeNext();
  }

  /** Bytes accepted by the last send (0 when it failed with 10035). */
  get bytesSent(): number {
    return this._bytesSent;
  }

  /** Whether the WebSocket is open. Setting False disconnects it (as Disconnect does). */
  get connected(): boolean {
    return this.state === 'open';
  }
  set connected(value: boolean) {
    if (!value) this.disconnect();
  }

  /** In line mode DataIn fires per line (see ChangeLineMode). */
  get lineMode(): boolean {
    return this._lineMode;
  }

  /** Whether a send would be accepted now; False after a send failed with 10035 until ReadyToSend. */
  get readyToSend(): boolean {
    return this._readyToSend && this.state === 'open';
  }

  /** Send timeout in seconds: 0 sends asynchronously (10035 when full), > 0 waits up to this long. */
  get timeout(): number {
    return this._timeout;
  }
  set timeout(seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 0) {
      throw new WSServerError(ErrorCode.InvalidArgument, `Timeout must be a whole number of seconds >= 0 (got ${seconds}).`);
    }
    this._timeout = seconds;
  }

  /** Sends a string: as text, or as DataFormat says (binary/ping/pong). */
  set dataToSend(text: string) {
    this.sendByFormat(Buffer.from(text, 'utf8'), true);
  }

  /** Sends bytes: as binary, or as DataFormat says (text/ping/pong). */
  set dataToSendB(data: Uint8Array) {
    this.sendByFormat(toBuffer(data), false);
  }

  /** Streams the given readable stream to the client as one binary message (SetUploadStream). */
  set uploadStream(stream: Readable) {
    this.sendStream(stream).catch((err) => this.reportError(toWSServerError(err)));
  }

  // ---- Methods used by WSServer ---------------------------------------------------------

  /** Turns line mode on or off (ChangeLineMode). */
  setLineMode(on: boolean): void {
    if (on === this._lineMode) return;
    if (!on && this.lineSplitter) this.lineSplitter.flush((line, eol) => this.emitDataIn(DataFormat.Continuation, line, false, eol));
    this._lineMode = on;
    this.lineSplitter = on ? new LineSplitter() : null;
  }

  /**
   * Sends one message (or, with MessageLength set, the next piece of one). With Timeout 0 it
   * throws WSServerError 10035 synchronously when the outgoing queue is full; otherwise the
   * promise settles when the bytes were handed to the socket (or the Timeout expired).
   */
  sendMessage(opcode: MessageOpcode, data: Buffer, compress = true): Promise<void> {
    this.assertOpen();
    if (this._timeout === 0) {
      const pending = this.outbound.pendingBytes + this.encodingBytes;
      if (this.streaming || pending > 0 && pending + data.length > this.server.settings.OutBufferSize) {
        this._bytesSent = 0;
        this._readyToSend = false;
        this.wouldBlock = true;
        throw new WSServerError(ErrorCode.WouldBlock, 'The outgoing queue of this connection is full: wait for the readyToSend event, then send again.');
      }
      this.queueData(opcode, data, undefined, compress);
      this._bytesSent = data.length;
      return RESOLVED;
    }
    return this.sendWhenRoom(opcode, data, compress);
  }

  /** Sends a ping with `payload` and resolves when the matching pong arrives (Timeout, if set, bounds the wait). */
  ping(): Promise<void> {
    this.assertOpen();
    const payload = Buffer.from(`wsworks-${++this.pingCounter}`);
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const entry: PendingPing = {
        payload,
        resolve: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          if (timer) clearTimeout(timer);
          reject(err);
        },
      };
      if (this._timeout > 0) {
        timer = setTimeout(() => {
          this.pings = this.pings?.filter((p) => p !== entry) ?? null;
          reject(new WSServerError(ErrorCode.TimedOut, `No pong within ${this._timeout} s (the connection's Timeout).`));
        }, this._timeout * 1000);
      }
      (this.pings ??= []).push(entry);
      this.queueControl(Opcode.Ping, payload);
    });
  }

  /** Streams a file as one binary message in MaxFrameSize fragments (SendFile). */
  async sendFile(path: string): Promise<void> {
    const { createReadStream } = await import('node:fs');
    const { stat } = await import('node:fs/promises');
    try {
      await stat(path);
    } catch (err) {
      throw new WSServerError(osErrorCode(err) ?? ErrorCode.InvalidArgument, `Cannot read "${path}": ${(err as Error).message}`, { cause: err });
    }
    await this.sendStream(createReadStream(path, { highWaterMark: this.server.settings.MaxFrameSize }), true);
  }

  /**
   * Streams `stream` as one binary message, one fragment per chunk, never holding more than
   * OutBufferSize in memory. Interrupt() ends the message early and rejects with 10004.
   */
  async sendStream(stream: Readable, forceClose = false): Promise<void> {
    this.assertOpen();
    if (this.messageRemaining > 0) {
      throw new WSServerError(ErrorCode.InvalidArgument, `A message announced with MessageLength still expects ${this.messageRemaining} bytes; finish it before streaming another.`);
    }
    while (this.streaming) await this.streaming.done;
    let finish!: () => void;
    const job = { interrupted: false, stream, done: new Promise<void>((r) => (finish = r)), wake: (): void => undefined };
    this.streaming = job;
    const iterator = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    let pending: Buffer | null = null;
    let first = true;
    /** A fragment without FIN went out: the message must be ended whatever happens. */
    let messageOpen = false;
    let exhausted = false;
    try {
      for (;;) {
        if (job.interrupted || this.state !== 'open') break;
        // Interrupt() (or the connection closing) wins over a stream that is slow to produce. A
        // fresh promise per chunk: racing one long-lived promise would retain every chunk.
        const step = await new Promise<IteratorResult<Buffer | string> | null>((resolve, reject) => {
          job.wake = () => resolve(null);
          iterator.next().then(resolve, reject);
        });
        job.wake = () => undefined;
        if (step === null) break;
        if (step.done) {
          exhausted = true;
          break;
        }
        if (job.interrupted || this.state !== 'open') break;
        const chunk = step.value;
        const piece = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (pending) {
          this.encodeAndQueue(Opcode.Binary, pending, first, false);
          first = false;
          messageOpen = true;
          await this.waitForStreamRoom(job);
        }
        pending = piece;
      }
      if (this.state !== 'open') throw new WSServerError(ErrorCode.NotConnected, 'The connection closed while the stream was being sent.');
      messageOpen = false;
      this.encodeAndQueue(Opcode.Binary, pending ?? Buffer.alloc(0), first, true);
      if (job.interrupted) throw new WSServerError(ErrorCode.Interrupted, 'The transfer was interrupted (Interrupt); the message was ended early.');
    } catch (err) {
      // The stream failed after its message began: end the message so the connection stays usable.
      if (messageOpen && this.state === 'open') this.encodeAndQueue(Opcode.Binary, pending ?? Buffer.alloc(0), false, true);
      throw err;
    } finally {
      if (!exhausted) iterator.return?.()?.catch(() => undefined);
      if (forceClose || this.server.settings.CloseStreamAfterTransfer) stream.destroy();
      this.streaming = null;
      finish();
      if (this.wouldBlock) this.onDrained();
    }
  }

  /** Stops a SendFile/SetUploadStream in progress (the message is ended with what was sent). */
  interrupt(): void {
    if (!this.streaming) return;
    this.streaming.interrupted = true;
    this.streaming.wake();
  }

  /**
   * Starts the closing handshake with `code`/`reason` (Disconnect). With WaitForCloseResponse
   * the TCP connection is dropped when the client answers (or CloseTimeout passes).
   */
  disconnect(code?: number, reason?: string): void {
    if (this.state !== 'open') return;
    const settings = this.server.settings;
    const c = code ?? settings.DisconnectStatusCode;
    const r = reason ?? (settings.DisconnectStatusDescription || CLOSE_DESCRIPTIONS[c] || '');
    this.startClose(c, r, settings.WaitForCloseResponse);
  }

  /** Drops the TCP connection at once, without a closing handshake. */
  destroy(): void {
    this.socket.destroy();
  }

  /** @internal Called by the server's idle sweep every second. */
  checkIdle(now: number, pingIntervalMs: number, idleTimeoutMs: number): void {
    if (this.state !== 'open') return;
    const idle = now - this.lastActivity;
    // With PingInterval below IdleTimeout, a client is closed only after it was pinged and did not
    // answer: a late sweep (it runs once a second) must not skip the ping and close at once.
    const awaitingPing = pingIntervalMs > 0 && pingIntervalMs < idleTimeoutMs && !this.idlePingSent;
    if (idleTimeoutMs > 0 && idle >= idleTimeoutMs && !awaitingPing) {
      this.server.log(2, 'Info', `Idle for ${Math.round(idle / 1000)} s: closing`, this.connectionId);
      this.startClose(CloseCode.GoingAway, 'Idle timeout', this.server.settings.WaitForCloseResponse);
      return;
    }
    if (pingIntervalMs > 0 && idle >= pingIntervalMs && !this.idlePingSent) {
      this.idlePingSent = true;
      this.queueControl(Opcode.Ping, Buffer.alloc(0));
    }
  }

  // ---- Inbound ---------------------------------------------------------------------------

  /** @internal Bytes that arrived with the upgrade request (Node's `head`). */
  receive(chunk: Buffer): void {
    this.onData(chunk);
  }

  /** @internal Socket 'data' (through a listener shared by all connections). */
  onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    this.idlePingSent = false;
    if (this.decoding || this.held || !this._acceptData || this.closeReceived) {
      if (this.closeReceived || this.state === 'closed') return;
      (this.inbox ??= []).push(chunk);
      this.inboxBytes += chunk.length;
      // Bounded inbox: stop reading until the codec catches up.
      if (this.inboxBytes > this.server.settings.InBufferSize || this.codec.saturated === true) this.socket.pause();
      return;
    }
    this.decode(chunk);
  }

  private decode(chunk: Buffer): void {
    let result: DecodeResult | Promise<DecodeResult>;
    try {
      result = this.codec.decode(chunk);
    } catch (err) {
      this.internalError(err);
      return;
    }
    if (isPromise(result)) {
      this.decoding = true;
      result.then(
        (r) => {
          this.decoding = false;
          this.dispatch(r.events, 0, r.error);
        },
        (err) => {
          this.decoding = false;
          this.internalError(err);
        },
      );
      return;
    }
    this.dispatch(result.events, 0, result.error);
  }

  /** Decodes what arrived while a decode was in flight or reading was paused. */
  private decodeNext(): void {
    const inbox = this.inbox;
    if (inbox === null || this.decoding || this.held || !this._acceptData) return;
    const chunk = inbox.length === 1 ? inbox[0]! : Buffer.concat(inbox, this.inboxBytes);
    this.inbox = null;
    this.inboxBytes = 0;
    if (this._acceptData && this.state !== 'closed') this.socket.resume();
    this.decode(chunk);
  }

  /** Turns decoded events into DataIn/Ping/close handling; pauses if AcceptData goes false. */
  private dispatch(events: InboundEvent[], from: number, error: DecodeResult['error']): void {
    this.held = null;
    this.outbound.hold();
    try {
      for (let i = from; i < events.length; i++) {
        if (this.state === 'closed' || this.closeReceived) return;
        if (!this._acceptData) {
          this.held = { events, index: i, error };
          return;
        }
        const ev = events[i]!;
        if (ev.kind === 'data') this.onDataEvent(ev.opcode, ev.payload, ev.first, ev.fin);
        else if (ev.kind === 'close') this.onClose(ev.code, ev.reason);
        else if (ev.kind === 'ping') this.onPing(ev.payload);
        else this.onPong(ev.payload);
      }
      if (error && this.state !== 'closed' && !this.closeReceived) {
        this.fail(error.code, error.reason);
        return;
      }
    } finally {
      this.outbound.release();
    }
    this.decodeNext();
  }

  private onDataEvent(opcode: MessageOpcode, payload: Buffer, first: boolean, fin: boolean): void {
    if (this.state !== 'open') return; // after our close frame, data is discarded (RFC 6455 1.4)
    if (this.lineSplitter) {
      // Each line is handed out one step late so the last one can carry EOM: a line has EOM
      // only when it ends exactly where the message ends (nothing of the message is left over).
      const splitter = this.lineSplitter;
      const last: { line: Buffer | null; eol: boolean } = { line: null, eol: false };
      splitter.push(payload, this.maxLineLength, (line, eol) => {
        if (last.line) this.emitDataIn(DataFormat.Continuation, last.line, false, last.eol);
        last.line = line;
        last.eol = eol;
      });
      if (last.line) this.emitDataIn(DataFormat.Continuation, last.line, fin && splitter.buffered === 0, last.eol);
      return;
    }
    if (!this.server.settings.BufferMessage) {
      this.emitDataIn(first ? opcode : DataFormat.Continuation, payload, fin, false);
      return;
    }
    if (first && fin) {
      this.emitDataIn(opcode, payload, true, false);
      return;
    }
    if (first) this.messageOpcode = opcode;
    if (payload.length > 0) {
      (this.messageParts ??= []).push(payload);
      this.messagePartsBytes += payload.length;
    }
    if (!fin) return;
    const parts = this.messageParts;
    const whole = parts === null ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.messagePartsBytes);
    this.messageParts = null;
    this.messagePartsBytes = 0;
    this.emitDataIn(this.messageOpcode, whole, true, false);
  }

  private emitDataIn(dataFormat: number, text: Buffer, eom: boolean, eol: boolean): void {
    this.server.emitDataIn({ connectionId: this.connectionId, dataFormat, text, eom, eol });
  }

  private onPing(payload: Buffer): void {
    this.server.emitPing({ connectionId: this.connectionId, payload, response: false });
    if (this.state === 'open') this.queueControl(Opcode.Pong, payload);
  }

  private onPong(payload: Buffer): void {
    this.server.emitPing({ connectionId: this.connectionId, payload, response: true });
    const i = this.pings?.findIndex((p) => p.payload.equals(payload)) ?? -1;
    if (i >= 0) this.pings!.splice(i, 1)[0]!.resolve();
  }

  private onClose(code: number, reason: string): void {
    this.closeReceived = true;
    if (!this.closeSent) {
      // The client started the closing handshake: answer with its code, then drop TCP
      // (RFC 6455 7.1.1: the server closes the TCP connection first).
      this.closeCode = code;
      this.closeReason = reason;
      this.state = 'closing';
      this.sendCloseFrame(code === CloseCode.NoStatus ? null : code, code === CloseCode.NoStatus ? '' : reason);
    } else if (this.closeCode === CloseCode.Abnormal) {
      this.closeCode = code;
      this.closeReason = reason;
    }
    this.endSocket();
  }

  /** Fails the connection (RFC 6455 7.1.7): close frame with `code`, then drop TCP without waiting. */
  private fail(code: number, reason: string): void {
    this.server.log(2, 'Info', `Protocol violation, closing with ${code}: ${reason}`, this.connectionId);
    if (this.state === 'open') {
      this.closeCode = code;
      this.closeReason = reason;
      this.state = 'closing';
      this.sendCloseFrame(code, reason);
    }
    this.inbox = null;
    this.inboxBytes = 0;
    this.closeReceived = true; // the codec accepts no more input: treat the stream as over
    this.endSocket();
  }

  private internalError(err: unknown): void {
    this.reportError(new WSServerError(ErrorCode.SendFailed, `Codec failure: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    this.fail(CloseCode.InternalError, 'Internal error');
  }

  // ---- Closing ---------------------------------------------------------------------------

  private startClose(code: number, reason: string, waitForResponse: boolean): void {
    this.state = 'closing';
    this.closeCode = code;
    this.closeReason = reason;
    this.rejectPending(new WSServerError(ErrorCode.NotConnected, 'The connection is closing.'));
    this.sendCloseFrame(code, reason);
    if (!waitForResponse) {
      this.endSocket();
      // Forcibly: once the close frame is written, drop TCP without waiting for the client's FIN.
      this.socket.once('finish', () => this.socket.destroy());
      return;
    }
    const seconds = this.server.settings.CloseTimeout;
    if (seconds > 0) {
      // No answer within CloseTimeout: drop TCP now (endSocket alone would wait as long again).
      this.closeTimer = setTimeout(() => {
        this.closeTimer = null;
        this.endSocket();
        this.socket.destroy();
      }, seconds * 1000);
      this.closeTimer.unref?.();
    }
  }

  private sendCloseFrame(code: number | null, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    const payload = code === null ? Buffer.alloc(0) : encodeClosePayload(code, reason);
    this.queueControl(Opcode.Close, payload);
  }

  /** Half-closes TCP once everything queued (the close frame included) was written. */
  private endSocket(): void {
    if (this.closeTimer) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    if (this.ending) return;
    this.ending = true;
    const end = (): void => {
      this.outbound.flush();
      this.outbound.end(); // whatever comes later has no socket to go to
      this.socket.end();
      // A client that never closes its side cannot keep the socket forever.
      const t = setTimeout(() => this.socket.destroy(), Math.max(1, this.server.settings.CloseTimeout) * 1000);
      t.unref?.();
      this.socket.once('close', () => clearTimeout(t));
    };
    if (this.outTail) this.outTail.then(end, end);
    else end();
  }

  /** @internal */
  onSocketEnd(): void {
    // The client half-closed. Without a close frame first, it went away (1006): nothing more
    // may be sent, what was queued still goes out, then our side closes too.
    if (this.state === 'open') {
      this.state = 'closing';
      this.rejectPending(new WSServerError(ErrorCode.NotConnected, 'The client closed the connection.'));
    }
    if (this.state !== 'closed') this.endSocket();
  }

  /** @internal */
  onSocketError(err: Error): void {
    const code = osErrorCode(err) ?? ErrorCode.SendFailed;
    this.server.log(2, 'Error', `Socket error: ${err.message}`, this.connectionId);
    // Resets from a client that is going away are ordinary; report anything else.
    if (code !== ErrorCode.ConnectionReset && code !== ErrorCode.SendAfterShutdown) {
      this.reportError(new WSServerError(code, `(${err.message})`, { cause: err }));
    }
  }

  /** @internal */
  onSocketClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.outbound.end();
    this.rejectPending(new WSServerError(ErrorCode.NotConnected, 'The connection closed.'));
    if (this.streaming) {
      this.streaming.interrupted = true;
      this.streaming.wake();
    }
    this.inbox = null;
    this.inboxBytes = 0;
    this.held = null;
    this.messageParts = null;
    this.codec.dispose();
    this.server.connectionClosed(this, this.closeCode, this.closeReason);
  }

  private rejectPending(err: Error): void {
    const pings = this.pings;
    if (pings === null) return;
    this.pings = null;
    for (const p of pings) p.reject(err);
  }

  // ---- Outbound --------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new WSServerError(ErrorCode.NotConnected, `Connection ${this.connectionId} is ${this.state}; nothing more can be sent on it.`);
    }
  }

  private sendByFormat(data: Buffer, fromString: boolean): void {
    const format = this.dataFormat;
    if (format === DataFormat.Ping || format === DataFormat.Pong) {
      this.assertOpen();
      if (data.length > MAX_CONTROL_PAYLOAD) {
        throw new WSServerError(ErrorCode.InvalidArgument, `A ${format === 9 ? 'ping' : 'pong'} carries at most 125 bytes (got ${data.length}).`);
      }
      this.queueControl(format === DataFormat.Ping ? Opcode.Ping : Opcode.Pong, data);
      this._bytesSent = data.length;
      return;
    }
    const opcode: MessageOpcode =
      format === DataFormat.Text ? Opcode.Text : format === DataFormat.Binary ? Opcode.Binary : fromString ? Opcode.Text : Opcode.Binary;
    const sent = this.sendMessage(opcode, data);
    if (sent !== RESOLVED) sent.catch((err) => this.reportError(toWSServerError(err)));
  }

  /** Timeout > 0: wait (inactivity-bounded) for room in the queue, then send and wait for the write. */
  private async sendWhenRoom(opcode: MessageOpcode, data: Buffer, compress: boolean): Promise<void> {
    const limit = this.server.settings.OutBufferSize;
    const deadline = (): number => Date.now() + this._timeout * 1000;
    let until = deadline();
    while (this.streaming) await this.withTimeout(this.streaming.done, until);
    // Messages still being encoded (async engines) count too: past the limit, wait for them.
    while (this.encodingBytes > 0 && this.encodingBytes + data.length > limit && this.outTail !== null) {
      this.assertOpen();
      await this.withTimeout(this.outTail, until);
    }
    for (;;) {
      this.assertOpen();
      const before = this.outbound.pendingBytes;
      if (before === 0 || before + data.length <= limit) break;
      const wait = this.outbound.waitForRoom(Math.max(0, limit - data.length));
      if (!wait) break;
      await this.withTimeout(wait, until);
      if (this.outbound.pendingBytes < before) until = deadline(); // progress extends an inactivity timeout
    }
    this._bytesSent = 0;
    await this.withTimeout(new Promise<void>((resolve, reject) => {
      this.queueData(opcode, data, (err) => (err ? reject(new WSServerError(ErrorCode.SendFailed, `(${err.message})`, { cause: err })) : resolve()), compress);
    }), deadline());
  }

  private withTimeout(promise: Promise<void>, until: number): Promise<void> {
    const ms = until - Date.now();
    if (ms <= 0) return Promise.reject(this.timeoutError());
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(this.timeoutError()), ms);
      promise.then(
        () => {
          clearTimeout(t);
          resolve();
        },
        (err) => {
          clearTimeout(t);
          reject(err);
        },
      );
    });
  }

  private timeoutError(): WSServerError {
    return new WSServerError(ErrorCode.TimedOut, `The send did not complete within the connection's Timeout (${this._timeout} s).`);
  }

  /**
   * Streaming: waits until the outgoing queue has room. Interrupt() (or the connection closing)
   * ends the wait; with Timeout > 0, no progress for Timeout seconds rejects with 10060.
   */
  private async waitForStreamRoom(job: { interrupted: boolean; wake: () => void }): Promise<void> {
    const limit = this.server.settings.OutBufferSize;
    // Pieces still being encoded (async engines) hold memory too: past the limit, wait for them.
    while (this.encodingBytes > limit && this.outTail !== null && this.state === 'open' && !job.interrupted) await this.outTail;
    for (;;) {
      if (this.state !== 'open' || job.interrupted) return;
      const room = this.outbound.waitForRoom(limit);
      if (!room) return;
      const woken = new Promise<void>((resolve) => {
        job.wake = resolve;
        void room.then(resolve);
      });
      try {
        if (this._timeout === 0) await woken;
        else await this.withTimeout(woken, Date.now() + this._timeout * 1000); // each drain is progress
      } finally {
        job.wake = () => undefined;
      }
    }
  }

  /** Queues a data message (or MessageLength piece) for encoding and writing. */
  private queueData(opcode: MessageOpcode, data: Buffer, onWritten?: (err?: Error | null) => void, compress = true): void {
    let first = true;
    let fin = true;
    if (this.messageRemaining > 0) {
      // A message started under MessageLength continues.
      if (data.length > this.messageRemaining) {
        throw new WSServerError(ErrorCode.InvalidArgument, `Only ${this.messageRemaining} bytes of the message announced with MessageLength remain; got ${data.length}.`);
      }
      first = false;
      opcode = this.messageOpcode;
      this.messageRemaining -= data.length;
      fin = this.messageRemaining === 0;
    } else if (this.messageLength > 0) {
      if (data.length > this.messageLength) {
        throw new WSServerError(ErrorCode.InvalidArgument, `MessageLength is ${this.messageLength} but ${data.length} bytes were sent.`);
      }
      this.messageOpcode = opcode;
      this.messageRemaining = this.messageLength - data.length;
      fin = this.messageRemaining === 0;
      this.messageLength = 0; // MessageLength describes the next message only
    }
    this.encodeAndQueue(opcode, data, first, fin, onWritten, compress);
  }

  private encodeAndQueue(
    opcode: MessageOpcode,
    data: Buffer,
    first: boolean,
    fin: boolean,
    onWritten?: (err?: Error | null) => void,
    compress = true,
  ): void {
    let encoded: Buffer[] | Promise<Buffer[]>;
    try {
      encoded = this.codec.encode({ opcode, data, first, fin, compress, maxFrameSize: this.server.settings.MaxFrameSize });
    } catch (err) {
      this.internalError(err);
      onWritten?.(err as Error);
      return;
    }
    if (!isPromise(encoded)) {
      if (this.outTail === null) this.outbound.push(encoded, onWritten);
      else this.chainOut(encoded, onWritten);
      return;
    }
    // Counted until it settles; the handler also keeps a failure from being "unhandled" while
    // it waits behind earlier encodings (chainOut reports it in order).
    const bytes = data.length;
    this.encodingBytes += bytes;
    const settled = (): void => {
      this.encodingBytes -= bytes;
    };
    encoded.then(settled, settled);
    this.chainOut(encoded, onWritten);
  }

  private queueControl(opcode: number, payload: Buffer): void {
    const frame = encodeControlFrame(opcode, payload);
    if (this.outTail === null) this.outbound.push([frame]);
    else this.chainOut([frame]);
  }

  /** Keeps frames in order behind encodings that are still in flight. */
  private chainOut(encoded: Buffer[] | Promise<Buffer[]>, onWritten?: (err?: Error | null) => void): void {
    const tail: Promise<void> = (this.outTail ?? RESOLVED)
      .then(() => encoded)
      .then(
        (buffers) => this.outbound.push(buffers, onWritten),
        (err) => {
          onWritten?.(err as Error);
          this.internalError(err);
        },
      )
      .finally(() => {
        if (this.outTail === tail) this.outTail = null;
      });
    this.outTail = tail;
  }

  /** @internal Called by Outbound when everything queued was written. */
  onDrained(): void {
    if (!this.wouldBlock || this.streaming || this.state !== 'open') return;
    this.wouldBlock = false;
    this._readyToSend = true;
    this.server.emitReadyToSend({ connectionId: this.connectionId });
  }

  private reportError(err: WSServerError): void {
    this.server.emitError({ connectionId: this.connectionId, errorCode: err.code, description: err.message });
  }
}

function toBuffer(data: Uint8Array | ArrayBuffer | string): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export { toBuffer };
