/**
 * LogSSLPackets: a duplex between the TCP socket and OpenSSL that reports every TLS record
 * going in or out (type, version, length; the handshake messages of cleartext records), and
 * reads the server's choice of group from the ServerHello / ServerKeyExchange. Only used when
 * LogSSLPackets is True: with it every TLS byte passes through JavaScript, without it OpenSSL
 * reads the socket directly.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { suiteByCode } from './cipher-suites.js';
import { versionName } from './tls-names.js';

const RECORD_TYPES: Record<number, string> = { 20: 'ChangeCipherSpec', 21: 'Alert', 22: 'Handshake', 23: 'ApplicationData', 24: 'Heartbeat' };
const HANDSHAKE_TYPES: Record<number, string> = {
  0: 'HelloRequest',
  1: 'ClientHello',
  2: 'ServerHello',
  4: 'NewSessionTicket',
  5: 'EndOfEarlyData',
  8: 'EncryptedExtensions',
  11: 'Certificate',
  12: 'ServerKeyExchange',
  13: 'CertificateRequest',
  14: 'ServerHelloDone',
  15: 'CertificateVerify',
  16: 'ClientKeyExchange',
  20: 'Finished',
  22: 'CertificateStatus',
  24: 'KeyUpdate',
};

/** Follows one direction of a TLS stream record by record. */
class RecordReader {
  private pending: Buffer = Buffer.alloc(0);
  private encrypted = false;
  private handshake: Buffer = Buffer.alloc(0);

  constructor(
    private readonly report: (message: string) => void,
    private readonly onHandshakeMessage: (type: number, body: Buffer) => void,
  ) {}

  feed(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const type = this.pending[0]!;
      const version = this.pending.readUInt16BE(1);
      const length = this.pending.readUInt16BE(3);
      if (this.pending.length < 5 + length) return;
      const body = this.pending.subarray(5, 5 + length);
      this.pending = this.pending.subarray(5 + length);
      this.record(type, version, body);
    }
  }

  private record(type: number, version: number, body: Buffer): void {
    const name = RECORD_TYPES[type] ?? `type ${type}`;
    let detail = '';
    if (type === 22 && !this.encrypted) {
      this.handshake = Buffer.concat([this.handshake, body]);
      const messages: string[] = [];
      while (this.handshake.length >= 4) {
        const len = this.handshake.readUIntBE(1, 3);
        if (this.handshake.length < 4 + len) break;
        const msgType = this.handshake[0]!;
        messages.push(HANDSHAKE_TYPES[msgType] ?? `message ${msgType}`);
        this.onHandshakeMessage(msgType, this.handshake.subarray(4, 4 + len));
        this.handshake = this.handshake.subarray(4 + len);
      }
      if (messages.length > 0) detail = ` [${messages.join(', ')}]`;
    } else if (type === 21 && !this.encrypted && body.length >= 2) {
      detail = ` [${body[0] === 2 ? 'fatal' : 'warning'} ${body[1]}]`;
    } else if (type === 22 || type === 21) {
      detail = ' [encrypted]';
    }
    if (type === 20) this.encrypted = true;
    this.report(`${name}${detail}, ${versionName(version)} record, ${body.length} bytes`);
  }
}

/** What the ServerHello (and, for TLS 1.2 ECDHE, the ServerKeyExchange) chose. */
export interface ServerChoices {
  group: number | null;
}

function readServerHello(body: Buffer, choices: ServerChoices, state: { ecdhe: boolean }): void {
  try {
    let p = 2 + 32;
    p += 1 + body[p]!; // session id
    const suite = suiteByCode(body.readUInt16BE(p));
    state.ecdhe = suite?.kx === 'ECDH' || suite?.kx === 'ECDHEPSK';
    p += 3; // cipher suite, compression
    if (p + 2 > body.length) return;
    const end = p + 2 + body.readUInt16BE(p);
    p += 2;
    while (p + 4 <= end) {
      const type = body.readUInt16BE(p);
      const len = body.readUInt16BE(p + 2);
      if (type === 0x0033 && len >= 2) choices.group = body.readUInt16BE(p + 4); // key_share: the group
      p += 4 + len;
    }
  } catch {
    /* a short ServerHello: nothing to learn */
  }
}

/**
 * The duplex OpenSSL reads and writes instead of the socket. `initial`: bytes already read
 * from the socket (the ClientHello), delivered first.
 */
export class RecordTap extends Duplex {
  readonly choices: ServerChoices = { group: null };

  constructor(
    private readonly raw: Socket,
    initial: Buffer,
    report: (direction: 'Received' | 'Sent', message: string) => void,
  ) {
    super({ allowHalfOpen: false });
    const state = { ecdhe: false };
    const inbound = new RecordReader((m) => report('Received', m), () => undefined);
    const outbound = new RecordReader(
      (m) => report('Sent', m),
      (type, body) => {
        if (type === 2) readServerHello(body, this.choices, state);
        else if (type === 12 && state.ecdhe && body[0] === 3 && body.length >= 3) this.choices.group = body.readUInt16BE(1);
      },
    );
    this.inbound = inbound;
    this.outbound = outbound;
    if (initial.length > 0) {
      inbound.feed(initial);
      this.push(initial);
    }
    raw.on('data', (chunk: Buffer) => {
      inbound.feed(chunk);
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => this.destroy());
  }

  private readonly inbound: RecordReader;
  private readonly outbound: RecordReader;

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.outbound.feed(chunk);
    this.raw.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.raw.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.raw.destroy();
    callback(error);
  }
}
