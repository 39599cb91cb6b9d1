// One load-generator process, forked by run.mjs. It opens its share of the connections, keeps
// `window` messages in flight on each (pipelining: every reply triggers the next send), counts
// replies by parsing only frame headers, and timestamps every message for latency (the k-th send
// on a connection matched with its k-th reply). It never unmasks, validates or inflates anything.
//
// Protocol with the parent (IPC):
//   parent -> {type:'config', ...}       child -> {type:'ready', connected, failed, errors}
//   parent -> {type:'start'}             (traffic starts: warmup)
//   parent -> {type:'exchange'}          (one message per connection; child -> {type:'exchanged'})
//   parent -> {type:'mark'}              (measured window starts: counters and CPU snapshot)
//   parent -> {type:'end'}               child -> {type:'result', ...} then exits
// The child also exits on its own after `deadlineMs`, or when the parent goes away.

import { performance } from 'node:perf_hooks';
import { buildMessage, connectAndUpgrade } from './wire.mjs';
import { Histogram } from './histogram.mjs';

let config;
const conns = [];
let phase = 'connecting'; // connecting | idle | exchange | running | measuring | stopped
let serverCloses = 0;
let expectOpcode = 0; // the type every reply must have
let expectBytes = -1; // the size every uncompressed reply must have (-1: compressed, unchecked)
let exchanged = 0; // replies received in the one-message-per-connection exchange

// Counters over the measured window (summed over connections).
let mMessages = 0;
let mWireBytes = 0;
let mReads = 0; // socket reads (read callbacks) in the window
let mWrites = 0; // socket writes in the window
let markTime = 0;
let markCpu = null;
const latency = new Histogram();

const errorCounts = new Map();
function noteError(text) {
  const n = errorCounts.get(text);
  if (n !== undefined) errorCounts.set(text, n + 1);
  else if (errorCounts.size < 20) errorCounts.set(text, 1);
}
const errorList = () => [...errorCounts].map(([text, n]) => (n > 1 ? `${text} (×${n})` : text));

// Connections with frames to send, written once per event-loop turn (see Conn.sendSoon).
const dirty = [];
let flushScheduled = false;
function flush() {
  flushScheduled = false;
  const now = performance.now();
  for (const c of dirty) {
    c.queued = false;
    if (phase === 'running' || phase === 'measuring') c.send(c.pending, now);
    c.pending = 0;
  }
  dirty.length = 0;
}

/** Per-connection state for the header-only reply parser. */
class Conn {
  constructor(socket, sendBuf, frameLen, window) {
    this.socket = socket;
    this.sendBuf = sendBuf; // `window` copies of the frame, back to back
    this.frameLen = frameLen;
    this.window = window;
    this.sendTimes = new Float64Array(window); // ring: send time of message k at k % window
    this.sent = 0;
    this.received = 0;
    this.skip = 0; // payload bytes of the current frame still to come
    this.finData = false; // the current frame ends a data message
    this.hdr = Buffer.alloc(14); // a frame header split across chunks
    this.hdrHave = 0;
    this.msgBytes = 0; // payload bytes of the reply message so far
    this.pending = 0; // frames to send at the next flush
    this.queued = false;
    this.dead = false;
  }

  /**
   * Queues `n` frames for the flush at the end of this I/O phase: replies read from one socket in
   * several small reads (a server writing each message on its own) still cost one write.
   */
  sendSoon(n) {
    this.pending += n;
    if (this.queued) return;
    this.queued = true;
    dirty.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }

  /** Sends `n` frames in one write, stamping each with `now`. */
  send(n, now) {
    if (n <= 0 || this.dead) return;
    const w = this.window;
    for (let j = 0; j < n; j++) this.sendTimes[(this.sent + j) % w] = now;
    this.sent += n;
    if (phase === 'measuring') mWrites++;
    this.socket.write(n === w ? this.sendBuf : this.sendBuf.subarray(0, n * this.frameLen));
  }

  /** Counts the whole messages in `chunk`; returns how many completed. */
  onData(chunk, now) {
    const n = chunk.length;
    let i = 0;
    let done = 0;
    const measuring = phase === 'measuring';
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        if (this.skip === 0 && this.finData) done += this.complete(now, measuring);
        continue;
      }
      // A frame header: from the carry-over buffer, or straight from the chunk.
      let b0, b1, len, hl;
      if (this.hdrHave === 0 && n - i >= 2) {
        b0 = chunk[i];
        b1 = chunk[i + 1];
        len = b1 & 0x7f;
        hl = 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
        if (n - i < hl) {
          this.carry(chunk, i, n);
          break;
        }
        if (len === 126) len = chunk.readUInt16BE(i + 2);
        else if (len === 127) len = chunk.readUInt32BE(i + 2) * 4294967296 + chunk.readUInt32BE(i + 6);
        i += hl;
      } else {
        const before = this.hdrHave;
        this.carry(chunk, i, n);
        const h = this.hdr;
        if (this.hdrHave < 2) break;
        b0 = h[0];
        b1 = h[1];
        len = b1 & 0x7f;
        hl = 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
        if (this.hdrHave < hl) break;
        if (len === 126) len = h.readUInt16BE(2);
        else if (len === 127) len = h.readUInt32BE(2) * 4294967296 + h.readUInt32BE(6);
        i += hl - before; // the header bytes this chunk supplied
        this.hdrHave = 0;
      }
      if (b1 & 0x80) noteError('server sent a masked frame');
      const opcode = b0 & 0x0f;
      if (opcode >= 8) {
        if (opcode === 8) {
          serverCloses++;
          noteError('server sent a close frame');
        }
        this.finData = false;
      } else {
        // Cheap sanity checks on every reply: its type, and (uncompressed) its total size.
        if (opcode !== 0 && opcode !== expectOpcode) noteError(`reply with opcode ${opcode}, sent ${expectOpcode}`);
        this.finData = (b0 & 0x80) !== 0;
        this.msgBytes = (opcode === 0 ? this.msgBytes : 0) + len;
        if (this.finData && expectBytes >= 0 && this.msgBytes !== expectBytes) noteError(`reply of ${this.msgBytes} bytes, sent ${expectBytes}`);
      }
      if (measuring) mWireBytes += hl + len;
      this.skip = len;
      if (len === 0 && this.finData) done += this.complete(now, measuring);
    }
    return done;
  }

  /**
   * Copies up to 14 bytes from chunk[i..n) into the carry-over buffer. Copying more than the
   * header needs is harmless: the caller then advances by only the header bytes this chunk gave.
   */
  carry(chunk, i, n) {
    const room = 14 - this.hdrHave;
    const take = Math.min(room, n - i);
    chunk.copy(this.hdr, this.hdrHave, i, i + take);
    this.hdrHave += take;
  }

  complete(now, measuring) {
    if (this.received >= this.sent) {
      noteError('more replies than messages sent');
      return 0;
    }
    if (measuring) {
      latency.record((now - this.sendTimes[this.received % this.window]) * 1000); // µs
      mMessages++;
    }
    this.received++;
    return 1;
  }
}

async function connectAll() {
  const message = buildMessage(config.message);
  expectOpcode = message.opcode;
  expectBytes = message.deflate ? -1 : message.payloadBytes;
  const sendBuf = Buffer.concat(Array.from({ length: config.window }, () => message.wire));
  const frameLen = message.wire.length;
  // One read buffer for every socket of this process: replies are parsed synchronously in the
  // read callback and nothing keeps a reference to it (a split header is copied out).
  const readBuffer = Buffer.allocUnsafe(1024 * 1024);
  const total = config.connections;
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const localAddress = config.localAddresses ? config.localAddresses[index % config.localAddresses.length] : undefined;
      try {
        const { socket, extensions, setReader } = await connectAndUpgrade({ host: config.host, port: config.port, localAddress, deflate: config.message.deflate, readBuffer });
        if (/permessage-deflate/i.test(extensions) !== Boolean(config.message.deflate)) noteError(`unexpected extensions "${extensions}"`);
        const c = new Conn(socket, sendBuf, frameLen, config.window);
        setReader((chunk) => {
          const now = performance.now();
          if (phase === 'measuring') mReads++;
          const got = c.onData(chunk, now);
          if (got === 0) return;
          if (phase === 'running' || phase === 'measuring') c.sendSoon(got);
          else if (phase === 'exchange' && (exchanged += got) === conns.length) process.send({ type: 'exchanged', errors: errorList() });
        });
        socket.on('error', (err) => {
          if (phase !== 'stopped') noteError(`socket error: ${err.code ?? err.message}`);
        });
        socket.on('close', () => {
          c.dead = true;
          if (phase !== 'stopped') noteError('server closed a connection');
        });
        conns.push(c);
      } catch (err) {
        failed++;
        noteError(`connect: ${err.code ?? err.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.connectConcurrency ?? 64, total) }, worker));
  return { connected: conns.length, failed };
}

function snapshot() {
  return { time: performance.now(), cpu: process.cpuUsage() };
}

function finish() {
  const end = snapshot();
  const elapsed = (end.time - markTime) / 1000;
  const cpuUs = end.cpu.user - markCpu.user + (end.cpu.system - markCpu.system);
  phase = 'stopped';
  const result = {
    type: 'result',
    elapsed,
    messages: mMessages,
    wireBytes: mWireBytes,
    reads: mReads,
    writes: mWrites,
    cpuPercent: (cpuUs / 1e6 / elapsed) * 100,
    latency: latency.toJSON(),
    errors: errorList(),
    serverCloses,
    connections: conns.length,
    deadConnections: conns.filter((c) => c.dead).length,
  };
  for (const c of conns) c.socket.destroy();
  process.send(result, () => process.exit(0));
}

process.on('message', async (msg) => {
  switch (msg.type) {
    case 'config': {
      config = msg;
      setTimeout(() => {
        noteError('generator deadline reached');
        process.exit(3);
      }, config.deadlineMs).unref();
      const { connected, failed } = await connectAll();
      phase = 'idle';
      process.send({ type: 'ready', connected, failed, errors: errorList() });
      break;
    }
    case 'start': {
      phase = 'running';
      const now = performance.now();
      for (const c of conns) c.send(config.window, now);
      break;
    }
    case 'exchange': {
      phase = 'exchange';
      const now = performance.now();
      for (const c of conns) c.send(1, now);
      break;
    }
    case 'mark': {
      ({ time: markTime, cpu: markCpu } = snapshot());
      mMessages = 0;
      mWireBytes = 0;
      mReads = 0;
      mWrites = 0;
      latency.reset();
      phase = 'measuring';
      break;
    }
    case 'end':
      finish();
      break;
    case 'close':
      phase = 'stopped';
      for (const c of conns) c.socket.destroy();
      process.send({ type: 'closed', errors: errorList() }, () => process.exit(0));
      break;
  }
});
process.on('disconnect', () => process.exit(0));
