/**
 * A raw WebSocket client that parses server frames as a stream and keeps none of them: it
 * reports each frame's header and feeds payload bytes to a callback. For large transfers
 * whose memory use is measured in the same process (RawClient keeps every frame it reads).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { buildFrame } from './raw-client.js';

export interface FrameHeader {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  length: number;
}

export interface FrameStreamHandlers {
  /** A frame header was read; its payload follows through `onPayload`. */
  onFrame(header: FrameHeader): void;
  /** Payload bytes of the current frame (a view valid only during the call). */
  onPayload(bytes: Buffer): void;
}

export class FrameStream {
  private pending = Buffer.alloc(0);
  private remaining = 0;
  private head = true;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket, private readonly handlers: FrameStreamHandlers) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  /** Connects to 127.0.0.1:`port`, completes the handshake (no extensions) and starts parsing. */
  static async open(port: number, handlers: FrameStreamHandlers, path = '/'): Promise<FrameStream> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const stream = new FrameStream(socket, handlers);
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        stream.pending = Buffer.concat([stream.pending, chunk]);
        const end = stream.pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const status = /^HTTP\/1\.1 (\d{3})/.exec(stream.pending.subarray(0, end).toString('latin1'))?.[1];
        if (status !== '101') {
          reject(new Error(`handshake answered ${status}`));
          return;
        }
        const rest = stream.pending.subarray(end + 4);
        stream.pending = Buffer.alloc(0);
        socket.on('data', (c: Buffer) => stream.feed(c));
        if (rest.length > 0) stream.feed(Buffer.from(rest));
        resolve();
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during the handshake')));
    });
    return stream;
  }

  /** Sends a masked client frame. */
  send(opcode: number, payload: Buffer | string = Buffer.alloc(0)): void {
    this.socket.write(buildFrame(opcode, payload));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private feed(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.head) {
        if (data.length < 2) break;
        let length = data[1]! & 0x7f;
        let off = 2;
        if (length === 126) {
          if (data.length < 4) break;
          length = data.readUInt16BE(2);
          off = 4;
        } else if (length === 127) {
          if (data.length < 10) break;
          length = Number(data.readBigUInt64BE(2));
          off = 10;
        }
        this.handlers.onFrame({ fin: (data[0]! & 0x80) !== 0, rsv1: (data[0]! & 0x40) !== 0, opcode: data[0]! & 0x0f, length });
        data = data.subarray(off);
        this.remaining = length;
        this.head = length === 0;
        continue;
      }
      const take = Math.min(this.remaining, data.length);
      this.handlers.onPayload(data.subarray(0, take));
      this.remaining -= take;
      data = data.subarray(take);
      if (this.remaining === 0) this.head = true;
    }
    if (data.length > 0) this.pending = Buffer.from(data);
  }
}
