/**
 * A raw TCP WebSocket client for tests: it sends exactly the bytes a test asks for (malformed
 * frames, odd chunkings, bad handshakes) and parses what the server sends back.
 */
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes, createHash } from 'node:crypto';

export interface ServerFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

export interface FrameOptions {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Send the frame unmasked (a protocol violation for a client). */
  unmasked?: boolean;
  maskKey?: Buffer;
  /** Override the length field (e.g. a 64-bit length with the top bit set). */
  lengthBytes?: Buffer;
}

/** Builds one client frame (masked unless told otherwise). */
export function buildFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: FrameOptions = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const fin = options.fin ?? true;
  const b0 = (fin ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | (options.rsv2 ? 0x20 : 0) | (options.rsv3 ? 0x10 : 0) | (opcode & 0x0f);
  const masked = !options.unmasked;
  let lengthPart: Buffer;
  if (options.lengthBytes) {
    lengthPart = options.lengthBytes;
  } else if (data.length < 126) {
    lengthPart = Buffer.from([data.length]);
  } else if (data.length < 65536) {
    lengthPart = Buffer.alloc(3);
    lengthPart[0] = 126;
    lengthPart.writeUInt16BE(data.length, 1);
  } else {
    lengthPart = Buffer.alloc(9);
    lengthPart[0] = 127;
    lengthPart.writeBigUInt64BE(BigInt(data.length), 1);
  }
  if (masked) lengthPart = Buffer.from(lengthPart), (lengthPart[0] = lengthPart[0]! | 0x80);
  const head = Buffer.concat([Buffer.from([b0]), lengthPart]);
  if (!masked) return Buffer.concat([head, data]);
  const key = options.maskKey ?? randomBytes(4);
  const body = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) body[i] = data[i]! ^ key[i & 3]!;
  return Buffer.concat([head, key, body]);
}

/** A close frame payload: 2-byte code + reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

export interface HandshakeOptions {
  path?: string;
  /** Extra or replacing header lines, e.g. { 'Sec-WebSocket-Extensions': 'permessage-deflate' }. */
  headers?: Record<string, string | null>;
  /** Send this exact request instead of building one. */
  rawRequest?: string | Buffer;
}

export interface HandshakeResponse {
  status: number;
  headers: Record<string, string>;
  raw: string;
}

/** Computes the expected Sec-WebSocket-Accept for a key. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** A connected raw client. */
export class RawClient {
  readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  /** Chunks not yet joined into `buffer`: joined only once `need` bytes are there (no O(n²) on big frames). */
  private chunks: Buffer[] = [];
  private chunksLength = 0;
  /** Bytes still missing before the next frame can be parsed (0: parse on every chunk). */
  private need = 0;
  private frames: ServerFrame[] = [];
  private waiters: Array<() => void> = [];
  private handshakeDone = false;
  /** Resolves when the server closes the TCP connection. */
  readonly closed: Promise<void>;
  /** Set once the server sent a TCP FIN (end). */
  ended = false;
  response: HandshakeResponse | null = null;
  /** The socket error seen, if any (e.g. ECONNRESET when the server reset instead of closing). */
  error: NodeJS.ErrnoException | null = null;

  /** The client's local port (the server's remotePort), kept after the socket closed. */
  readonly localPort: number;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.localPort = socket.localPort ?? 0;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.chunksLength += chunk.length;
      if (this.chunksLength < this.need) return;
      this.collect();
      this.parse();
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => this.wake());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error ??= err;
    });
  }

  /** Opens a TCP connection without sending anything. */
  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  /** Opens a TLS connection (wss://) without sending anything; `options` as for tls.connect. */
  static async connectTls(port: number, options: tls.ConnectionOptions = {}): Promise<RawClient> {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawClient(socket);
  }

  /** Connects and completes a WebSocket handshake; throws unless the answer is 101. */
  static async open(port: number, options: HandshakeOptions = {}): Promise<RawClient> {
    const client = await RawClient.connect(port);
    const res = await client.handshake(options);
    if (res.status !== 101) throw new Error(`handshake answered ${res.status}: ${res.raw}`);
    return client;
  }

  /** Sends a handshake request and reads the HTTP response head. */
  async handshake(options: HandshakeOptions = {}): Promise<HandshakeResponse> {
    if (options.rawRequest !== undefined) {
      this.socket.write(options.rawRequest);
    } else {
      const key = randomBytes(16).toString('base64');
      const headers: Record<string, string | null> = {
        Host: '127.0.0.1',
        Upgrade: 'websocket',
        Connection: 'Upgrade',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Version': '13',
        ...options.headers,
      };
      const lines = [`GET ${options.path ?? '/'} HTTP/1.1`];
      for (const [name, value] of Object.entries(headers)) if (value !== null) lines.push(`${name}: ${value}`);
      this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    }
    return this.readResponse();
  }

  /** Reads an HTTP response head (and, for non-101, waits for the server to close). */
  async readResponse(): Promise<HandshakeResponse> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const raw = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 4);
        const [statusLine, ...headerLines] = raw.split('\r\n');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
        const headers: Record<string, string> = {};
        for (const line of headerLines) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        this.response = { status, headers, raw };
        if (status === 101) {
          this.handshakeDone = true;
          this.parse();
        }
        return this.response;
      }
      if (this.socket.destroyed || this.ended) throw new Error(`connection closed before a response; got: ${this.buffer.toString('latin1')}`);
      await this.waitForData();
    }
  }

  /** Everything the server sent after the response head (for non-101 bodies). */
  async readRest(): Promise<string> {
    await this.closed;
    this.collect();
    return this.buffer.toString('utf8');
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Sends a frame, optionally split into chunks of `chunkSize` with `delayMs` between them. */
  async send(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: FrameOptions & { chunkSize?: number; delayMs?: number } = {}): Promise<void> {
    const frame = buildFrame(opcode, payload, options);
    if (!options.chunkSize) {
      this.socket.write(frame);
      return;
    }
    for (let i = 0; i < frame.length; i += options.chunkSize) {
      this.socket.write(frame.subarray(i, i + options.chunkSize));
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    }
  }

  sendText(text: string, options: FrameOptions = {}): Promise<void> {
    return this.send(0x1, Buffer.from(text), options);
  }

  sendClose(code?: number, reason = ''): Promise<void> {
    return this.send(0x8, code === undefined ? Buffer.alloc(0) : closePayload(code, reason));
  }

  /** The next frame from the server, or null if the connection closed first. */
  async nextFrame(timeoutMs = 5000): Promise<ServerFrame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.socket.destroyed || this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await this.waitForData(left);
    }
  }

  /** Reads frames until a whole data message arrived; returns its opcode and payload. */
  async nextMessage(timeoutMs = 5000): Promise<{ opcode: number; payload: Buffer; frames: ServerFrame[] } | null> {
    const frames: ServerFrame[] = [];
    for (;;) {
      const f = await this.nextFrame(timeoutMs);
      if (!f) return null;
      if (f.opcode >= 0x8) continue;
      frames.push(f);
      if (f.fin) return { opcode: frames[0]!.opcode, payload: Buffer.concat(frames.map((x) => x.payload)), frames };
    }
  }

  /**
   * Waits for the server's close frame (skipping other frames) and the TCP close. Returns the
   * close code (1005 if the frame had none), the reason, and the frames seen before it.
   */
  async expectClose(timeoutMs = 5000): Promise<{ code: number; reason: string; before: ServerFrame[] }> {
    const before: ServerFrame[] = [];
    for (;;) {
      const f = await this.nextFrame(timeoutMs);
      if (!f) throw new Error(`connection closed without a close frame (frames before: ${before.map((x) => x.opcode).join(',')})`);
      if (f.opcode !== 0x8) {
        before.push(f);
        continue;
      }
      const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
      const reason = f.payload.subarray(2).toString('utf8');
      return { code, reason, before };
    }
  }

  /** Frames received and not yet read (e.g. anything the server sent after its close frame). */
  unreadFrames(): ServerFrame[] {
    this.collect();
    this.need = 0;
    this.parse();
    return [...this.frames];
  }

  /** Resolves true if the TCP connection closed within `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private collect(): void {
    if (this.chunks.length === 0) return;
    this.buffer = this.buffer.length === 0 && this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat([this.buffer, ...this.chunks]);
    this.chunks = [];
    this.chunksLength = 0;
  }

  private parse(): void {
    this.need = 0;
    if (!this.handshakeDone) return;
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (masked) off += 4;
      if (b.length < off + len) {
        this.need = off + len - b.length;
        return;
      }
      let payload = Buffer.from(b.subarray(off, off + len));
      if (masked) {
        const key = b.subarray(off - 4, off);
        payload = Buffer.from(payload.map((x, i) => x ^ key[i & 3]!));
      }
      this.frames.push({
        fin: (b[0]! & 0x80) !== 0,
        rsv1: (b[0]! & 0x40) !== 0,
        rsv2: (b[0]! & 0x20) !== 0,
        rsv3: (b[0]! & 0x10) !== 0,
        opcode: b[0]! & 0x0f,
        masked,
        payload,
      });
      this.buffer = b.subarray(off + len);
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitForData(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
