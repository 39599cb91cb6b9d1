// The client side of the wire, shared by the load generator and the correctness check:
// the opening handshake over a raw socket, pre-built masked frames, and the scenario payloads.
// Nothing here depends on the server under test.

import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';

/** The fixed mask every generated frame uses (the frames are built once and reused). */
export const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** What the generator offers in deflate scenarios: every message compressed on its own, both ways. */
export const DEFLATE_OFFER = 'permessage-deflate; client_no_context_takeover; server_no_context_takeover';
/** What it offers with `deflate: 'takeover'`: a browser's offer, context kept both ways. */
export const TAKEOVER_OFFER = 'permessage-deflate; client_max_window_bits';

/** The offer for a message's `deflate` setting (false, true or 'takeover'), or null for none. */
export function deflateOffer(deflate) {
  return deflate === 'takeover' ? TAKEOVER_OFFER : deflate ? DEFLATE_OFFER : null;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A small deterministic PRNG (mulberry32), so every run sends the same bytes. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` bytes of printable ASCII text. */
export function asciiText(size, seed = 1) {
  const rnd = prng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = 0x20 + Math.floor(rnd() * 95);
  return out;
}

/** `size` random bytes (incompressible). */
export function binary(size, seed = 2) {
  const rnd = prng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

/**
 * Exactly `size` bytes of valid UTF-8 made of 2-, 3- and 4-byte characters in random order
 * (about a third of the characters each, no ASCII except up to 3 bytes of padding at the end).
 */
export function multiByteText(size, seed = 3) {
  const rnd = prng(seed);
  // Code point ranges that encode to 2, 3 and 4 bytes (surrogates excluded).
  const ranges = [
    [2, 0x00a0, 0x07ff],
    [3, 0x0800, 0xd7ff],
    [4, 0x10000, 0x10ffff],
  ];
  const out = Buffer.alloc(size);
  let at = 0;
  while (size - at >= 4) {
    const [, lo, hi] = ranges[Math.floor(rnd() * 3)];
    const cp = lo + Math.floor(rnd() * (hi - lo + 1));
    at += out.write(String.fromCodePoint(cp), at, 'utf8');
  }
  while (at < size) out[at++] = 0x61; // 'a'
  return out;
}

/**
 * Exactly `size` bytes of JSON text that looks like an API response (an array of records with
 * ids, names, flags, numbers and timestamps) — compressible the way real JSON is (~5-8x).
 */
export function jsonText(size, seed = 4) {
  const rnd = prng(seed);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa'];
  const pick = () => words[Math.floor(rnd() * words.length)];
  const items = [];
  const doc = { page: 1, total: 0, items, pad: '' };
  const base = Date.UTC(2024, 0, 1);
  for (let id = 1; ; id++) {
    const item = {
      id,
      name: `${pick()} ${pick()}`,
      email: `${pick()}.${pick()}${id}@example.com`,
      active: rnd() < 0.5,
      score: Math.round(rnd() * 1e6) / 100,
      tags: [pick(), pick(), pick()],
      createdAt: new Date(base + Math.floor(rnd() * 3e10)).toISOString(),
      address: { street: `${Math.floor(rnd() * 999)} ${pick()} street`, city: pick(), zip: String(10000 + Math.floor(rnd() * 89999)) },
    };
    items.push(item);
    doc.total = items.length;
    if (Buffer.byteLength(JSON.stringify(doc)) > size) {
      items.pop();
      doc.total = items.length;
      break;
    }
  }
  const short = size - Buffer.byteLength(JSON.stringify(doc));
  doc.pad = '-'.repeat(short);
  const out = Buffer.from(JSON.stringify(doc));
  if (out.length !== size) throw new Error(`jsonText: ${out.length} bytes, wanted ${size}`);
  return out;
}

/** Compresses one whole message as permessage-deflate does without context takeover. */
export function deflateMessage(payload) {
  const raw = zlib.deflateRawSync(payload, { level: 6, windowBits: 15, memLevel: 8, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  // A sync flush ends with 00 00 FF FF; RFC 7692 7.2.1 removes it.
  if (raw.length >= 4 && raw.readUInt32BE(raw.length - 4) === 0x0000ffff) return raw.subarray(0, raw.length - 4);
  return raw;
}

/**
 * Inflates one permessage-deflate message (the 00 00 FF FF tail put back); `window`, with
 * context takeover, is what the previous messages left (the preset dictionary).
 */
export function inflateMessage(compressed, window) {
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  if (window?.length) options.dictionary = window;
  return zlib.inflateRawSync(Buffer.concat([compressed, Buffer.from([0, 0, 0xff, 0xff])]), options);
}

/** One masked client frame (FIN set) carrying `payload`; `rsv1` marks a compressed message. */
export function maskedFrame(opcode, payload, rsv1 = false) {
  const len = payload.length;
  const headerLen = 2 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + 4;
  const frame = Buffer.allocUnsafe(headerLen + len);
  frame[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  let at = 2;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
    at = 4;
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    frame.writeUInt32BE(len >>> 0, 6);
    at = 10;
  }
  MASK.copy(frame, at);
  at += 4;
  for (let i = 0; i < len; i++) frame[at + i] = payload[i] ^ MASK[i & 3];
  return frame;
}

/** A masked close frame with status 1000. */
export function closeFrame() {
  return maskedFrame(0x8, Buffer.from([0x03, 0xe8]));
}

/**
 * Everything a scenario sends: the message, its type, and the frame that carries it (compressed
 * once when `deflate`). `wire` is the frame; `payloadBytes` the application bytes it stands for.
 */
export function buildMessage({ kind, size, deflate }) {
  let payload;
  let opcode;
  switch (kind) {
    case 'ascii': payload = asciiText(size); opcode = 1; break;
    case 'binary': payload = binary(size); opcode = 2; break;
    case 'utf8': payload = multiByteText(size); opcode = 1; break;
    case 'json': payload = jsonText(size); opcode = 1; break;
    default: throw new Error(`unknown message kind ${kind}`);
  }
  const body = deflate ? deflateMessage(payload) : payload;
  return { payload, opcode, deflate, wire: maskedFrame(opcode, body, deflate), payloadBytes: payload.length };
}

/**
 * Opens a TCP connection and performs the opening handshake. Resolves with the socket, the
 * negotiated extensions header and a copy of any bytes that followed the response.
 *
 * With `readBuffer`, the socket reads into that one buffer (net's `onread`), allocating nothing
 * per read: after the handshake, call `setReader(fn)`; `fn(view)` gets a view that is only valid
 * during the call. Without it, the socket is an ordinary one ('data' events).
 */
export function connectAndUpgrade({ host, port, localAddress, deflate, timeoutMs = 10000, readBuffer }) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    let reader = null; // after the handshake (readBuffer mode)
    let onHandshakeBytes;
    const socket = readBuffer
      ? net.connect({
          host,
          port,
          localAddress,
          noDelay: true,
          onread: {
            buffer: readBuffer,
            callback: (n, buf) => {
              const view = buf.subarray(0, n);
              if (reader) reader(view);
              else onHandshakeBytes(Buffer.from(view));
            },
          },
        })
      : net.connect({ host, port, localAddress, noDelay: true });
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('handshake timed out')), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          (deflate ? `Sec-WebSocket-Extensions: ${deflateOffer(deflate)}\r\n` : '') +
          '\r\n',
      );
    });
    onHandshakeBytes = (chunk) => {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16384) fail(new Error('handshake response too long'));
        return;
      }
      if (!readBuffer) socket.off('data', onHandshakeBytes);
      socket.off('error', fail);
      clearTimeout(timer);
      const text = head.subarray(0, end).toString('latin1');
      const lines = text.split('\r\n');
      if (!/^HTTP\/1\.1 101 /.test(lines[0])) return fail(new Error(`handshake refused: ${lines[0]}`));
      const headers = new Map();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (headers.get('sec-websocket-accept') !== accept) return fail(new Error('bad Sec-WebSocket-Accept'));
      // Until a reader is set, later bytes are kept (copied) and handed to it first.
      const early = [Buffer.from(head.subarray(end + 4))];
      reader = (view) => early.push(Buffer.from(view));
      const setReader = (fn) => {
        reader = fn;
        for (const b of early) if (b.length) fn(b);
      };
      resolve({ socket, extensions: headers.get('sec-websocket-extensions') ?? '', rest: early[0], setReader });
    };
    if (!readBuffer) socket.on('data', onHandshakeBytes);
  });
}

/**
 * A full frame reader for the correctness check (not for the load path): reassembles messages,
 * inflates compressed ones and hands each to `onMessage(opcode, payload, compressed)`.
 */
export class MessageReader {
  /** `takeover`: compressed messages may refer back to earlier ones (context takeover). */
  constructor(onMessage, onControl, takeover = false) {
    this.takeover = takeover;
    this.window = Buffer.alloc(0);
    this.buf = Buffer.alloc(0);
    this.parts = [];
    this.opcode = 0;
    this.compressed = false;
    this.onMessage = onMessage;
    this.onControl = onControl;
  }

  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = b.readUInt32BE(2) * 2 ** 32 + b.readUInt32BE(6);
        at = 10;
      }
      if (b[1] & 0x80) throw new Error('server frame is masked');
      if (b.length < at + len) return;
      const fin = (b[0] & 0x80) !== 0;
      const rsv1 = (b[0] & 0x40) !== 0;
      const opcode = b[0] & 0x0f;
      const payload = b.subarray(at, at + len);
      this.buf = b.subarray(at + len);
      if (opcode >= 8) {
        this.onControl?.(opcode, Buffer.from(payload));
        continue;
      }
      if (opcode !== 0) {
        this.opcode = opcode;
        this.compressed = rsv1;
        this.parts = [];
      }
      this.parts.push(Buffer.from(payload));
      if (fin) {
        const whole = Buffer.concat(this.parts);
        this.parts = [];
        const payload = this.compressed ? inflateMessage(whole, this.takeover ? this.window : undefined) : whole;
        if (this.compressed && this.takeover) this.window = Buffer.concat([this.window, payload]).subarray(-32768);
        this.onMessage(this.opcode, payload, this.compressed);
      }
    }
  }
}

/**
 * Correctness first: sends `count` copies of the scenario's message back to back on a fresh
 * connection and checks every reply byte for byte (inflated when compressed) and by type, and
 * that permessage-deflate was negotiated exactly when asked for.
 * Resolves with a summary; rejects with what went wrong.
 */
export async function verifyEcho({ host, port, message, count = 3, timeoutMs = 20000 }) {
  const { socket, extensions, rest } = await connectAndUpgrade({ host, port, deflate: message.deflate });
  const negotiated = /permessage-deflate/i.test(extensions);
  if (negotiated !== Boolean(message.deflate)) {
    socket.destroy();
    throw new Error(message.deflate ? `permessage-deflate not negotiated (extensions: "${extensions}")` : `permessage-deflate negotiated although not offered`);
  }
  return await new Promise((resolve, reject) => {
    let received = 0;
    let compressedReplies = 0;
    let wireBytes = 0;
    const timer = setTimeout(() => done(new Error(`timed out after ${received}/${count} replies`)), timeoutMs);
    const done = (err, value) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const reader = new MessageReader(
      (opcode, payload, compressed) => {
        if (opcode !== message.opcode) return done(new Error(`reply ${received + 1} has opcode ${opcode}, sent ${message.opcode}`));
        if (!payload.equals(message.payload)) {
          let at = 0;
          while (at < payload.length && payload[at] === message.payload[at]) at++;
          return done(new Error(`reply ${received + 1} differs: ${payload.length} bytes back for ${message.payload.length}, first difference at byte ${at}`));
        }
        if (compressed) compressedReplies++;
        received++;
        if (received === count) done(null, { extensions, compressedReplies, wireBytesPerReply: Math.round(wireBytes / count) });
      },
      (opcode, payload) => {
        if (opcode === 8) done(new Error(`server closed the connection: ${payload.length >= 2 ? payload.readUInt16BE(0) : 'no code'} ${payload.subarray(2).toString()}`));
      },
      message.deflate === 'takeover',
    );
    const feed = (chunk) => {
      wireBytes += chunk.length;
      try {
        reader.push(chunk);
      } catch (err) {
        done(err);
      }
    };
    socket.on('data', feed);
    socket.on('error', (err) => done(err));
    socket.on('close', () => done(new Error(`connection closed after ${received}/${count} replies`)));
    if (rest.length) feed(rest);
    const frames = [];
    for (let i = 0; i < count; i++) frames.push(message.wire);
    socket.write(Buffer.concat(frames));
  });
}
